// Plain-text tables for q8c's human-readable listings: left-aligned columns,
// each as wide as its widest cell, two spaces apart.
//
// Cells are never truncated: the listings exist to find tensor and node
// names, and a shortened name can neither be found nor pasted back into a
// command. Widths count UTF-8 characters, not bytes, so cells with "→" or
// "×" stay aligned (every character is taken as one terminal column, which
// holds for the text q8c prints).
#ifndef Q8SERVE_CLIENT_TEXT_TABLE_H_
#define Q8SERVE_CLIENT_TEXT_TABLE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace q8::client {

// Characters in `s` if it is UTF-8 (continuation bytes are not counted).
size_t DisplayWidth(absl::string_view s);

// `s`, or "-" if empty: a visible placeholder keeps a reader's eye from
// sliding into the next column.
std::string OrDash(absl::string_view s);

class TextTable {
 public:
  // `header` names the columns; an empty header prints no header line.
  explicit TextTable(std::vector<std::string> header);

  // Adds a row. A row may be shorter than others (the missing cells are
  // empty) or longer (the table gains columns).
  void AddRow(std::vector<std::string> cells);

  // Adds a free line under the last row (or above the first, if none yet),
  // indented `kNoteIndent` deeper than the rows and outside the columns, so
  // long prose does not widen the table.
  void AddNote(std::string text);

  // Every line begins with `indent` and ends with '\n'; trailing spaces are
  // dropped so empty last cells leave no invisible padding.
  std::string Render(absl::string_view indent = "") const;

  static constexpr absl::string_view kNoteIndent = "    ";

 private:
  struct Line {
    std::vector<std::string> cells;
    bool is_note = false;  // cells[0] is the whole line.
  };

  std::vector<std::string> header_;
  std::vector<Line> lines_;
};

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_TEXT_TABLE_H_
