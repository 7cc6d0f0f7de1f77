#include "client/text_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace q8::client {
namespace {

void AppendTrimmedLine(absl::string_view line, std::string& out) {
  absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
}

}  // namespace

size_t DisplayWidth(absl::string_view s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string OrDash(absl::string_view s) { return s.empty() ? "-" : std::string(s); }

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  lines_.push_back(Line{std::move(cells), false});
}

void TextTable::AddNote(std::string text) {
  std::vector<std::string> cells;
  cells.push_back(std::move(text));
  lines_.push_back(Line{std::move(cells), true});
}

std::string TextTable::Render(absl::string_view indent) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto widen = [&widths](const std::vector<std::string>& cells) {
    if (cells.size() > widths.size()) widths.resize(cells.size(), 0);
    for (size_t i = 0; i < cells.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(cells[i]));
    }
  };
  widen(header_);
  for (const Line& l : lines_) {
    if (!l.is_note) widen(l.cells);
  }

  std::string out;
  auto render_row = [&](const std::vector<std::string>& cells) {
    std::string line(indent);
    for (size_t i = 0; i < widths.size(); ++i) {
      const absl::string_view cell = i < cells.size() ? absl::string_view(cells[i]) : "";
      absl::StrAppend(&line, i > 0 ? "  " : "", cell);
      line.append(widths[i] - DisplayWidth(cell), ' ');
    }
    AppendTrimmedLine(line, out);
  };
  if (!header_.empty()) render_row(header_);
  for (const Line& l : lines_) {
    if (l.is_note) {
      std::string line = absl::StrCat(indent, kNoteIndent, l.cells[0]);
      AppendTrimmedLine(line, out);
    } else {
      render_row(l.cells);
    }
  }
  return out;
}

}  // namespace q8::client
