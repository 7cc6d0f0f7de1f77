#include "client/text_table.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace q8::client {
namespace {

using Row = std::vector<std::string>;

std::string Render(Row header, const std::vector<Row>& rows, absl::string_view indent = "") {
  TextTable t(std::move(header));
  for (const Row& r : rows) t.AddRow(r);
  return t.Render(indent);
}

TEST(DisplayWidthTest, CountsCharactersNotBytes) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("a → b"), 5u);  // "→" is 3 bytes.
  EXPECT_EQ(DisplayWidth("×64"), 3u);    // "×" is 2 bytes.
}

TEST(OrDashTest, MarksEmptyCells) {
  EXPECT_EQ(OrDash(""), "-");
  EXPECT_EQ(OrDash("x"), "x");
}

TEST(TextTableTest, ColumnsAreAsWideAsTheirWidestCell) {
  EXPECT_EQ(Render({"NAME", "DTYPE"}, {{"a_rather_long_tensor_name", "int8"}, {"x", "float32"}}),
            "NAME                       DTYPE\n"
            "a_rather_long_tensor_name  int8\n"
            "x                          float32\n");
}

TEST(TextTableTest, MultiByteCharactersDoNotShiftColumns) {
  EXPECT_EQ(Render({"A", "B"}, {{"x → y", "1"}, {"×64", "2"}}),
            "A      B\n"
            "x → y  1\n"
            "×64    2\n");
}

TEST(TextTableTest, IndentsAndDropsTrailingSpaces) {
  EXPECT_EQ(Render({"NAME", "ROLE"}, {{"in", "IN"}, {"hidden", ""}}, "  "),
            "  NAME    ROLE\n"
            "  in      IN\n"
            "  hidden\n");
}

TEST(TextTableTest, ShortAndLongRows) {
  EXPECT_EQ(Render({"A"}, {{"1", "extra"}, {}}),
            "A\n"
            "1  extra\n"
            "\n");
}

TEST(TextTableTest, NotesSitUnderTheirRowAndDoNotWidenColumns) {
  TextTable t({"K", "V"});
  t.AddRow({"a", "1"});
  t.AddNote("a long explanation that is much wider than any column");
  t.AddRow({"b", "2"});
  EXPECT_EQ(t.Render("  "),
            "  K  V\n"
            "  a  1\n"
            "      a long explanation that is much wider than any column\n"
            "  b  2\n");
}

TEST(TextTableTest, NoHeader) { EXPECT_EQ(Render({}, {{"a", "b"}}), "a  b\n"); }

}  // namespace
}  // namespace q8::client
