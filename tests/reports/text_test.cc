// Text tables for people (reports/text.h): display width of UTF-8, alignment by column, headers
// over their columns, cut cells ending with "…", and `--wide` showing them whole.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "reports/text.h"

using namespace hourbank::reports;

namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The display column where `needle` starts in `line`.
size_t ColumnOf(const std::string& line, const std::string& needle) {
  const size_t at = line.find(needle);
  REQUIRE(at != std::string::npos);
  return DisplayWidth(line.substr(0, at));
}

// The display column where the last `needle` starts in `line`.
size_t ColumnOfLast(const std::string& line, const std::string& needle) {
  const size_t at = line.rfind(needle);
  REQUIRE(at != std::string::npos);
  return DisplayWidth(line.substr(0, at));
}

}  // namespace

TEST_CASE("display width counts one column per Latin or Cyrillic letter, not per byte",
          "[reports][text]") {
  CHECK(DisplayWidth("plan") == 4);
  CHECK(DisplayWidth("Абонентская плата") == 17);  // 33 bytes
  CHECK(DisplayWidth("20 000.00 ₽") == 11);
  CHECK(DisplayWidth("×3") == 2);
}

TEST_CASE(
    "display width counts East Asian wide characters as two columns and combining marks as none",
    "[reports][text]") {
  CHECK(DisplayWidth("漢字") == 4);
  CHECK(DisplayWidth("e\xCC\x81") == 1);  // e + U+0301 COMBINING ACUTE ACCENT
}

TEST_CASE("a cut cell ends with … and fits the width, never splitting a UTF-8 sequence",
          "[reports][text]") {
  CHECK(CutToWidth("hours beyond the plan", 10) == "hours bey…");
  CHECK(DisplayWidth(CutToWidth("hours beyond the plan", 10)) == 10);
  CHECK(CutToWidth("Часы сверх тарифа", 6) == "Часы …");
  CHECK(CutToWidth("漢字漢字", 4) == "漢…");  // a wide character that would not fit is left out
  CHECK(CutToWidth("short", 10) == "short");
  CHECK(CutToWidth("anything", 0) == "");
}

TEST_CASE(
    "text columns are left-aligned and number columns right-aligned, headers over their columns",
    "[reports][text]") {
  const std::string t =
      RenderTable({{"description"}, {"amount", Align::kRight}},
                  {{"1C support Start", "20 000.00 ₽"}, {"overage", "13.00 ₽"}});
  const auto lines = Lines(t);
  REQUIRE(lines.size() == 3);
  // The text column starts in column 0 on every line, digits or not.
  CHECK(ColumnOf(lines[1], "1C support Start") == 0);
  CHECK(ColumnOf(lines[2], "overage") == 0);
  // The number column ends in the same display column as its header.
  const size_t end = ColumnOf(lines[0], "amount") + DisplayWidth("amount");
  CHECK(ColumnOf(lines[1], "20 000.00 ₽") + DisplayWidth("20 000.00 ₽") == end);
  CHECK(ColumnOf(lines[2], "13.00 ₽") + DisplayWidth("13.00 ₽") == end);
}

TEST_CASE("Cyrillic cells are padded by display width, so the next column lines up",
          "[reports][text]") {
  const auto lines =
      Lines(RenderTable({{"позиция"}, {"x"}}, {{"Абонентская плата", "1"}, {"Скидка", "2"}}));
  REQUIRE(lines.size() == 3);
  CHECK(ColumnOf(lines[0], "x") == ColumnOf(lines[1], "1"));
  CHECK(ColumnOf(lines[1], "1") == ColumnOf(lines[2], "2"));
}

TEST_CASE("a cell longer than its column's limit is cut with … unless the table is wide",
          "[reports][text]") {
  const std::vector<Column> cols = {{"description", Align::kLeft, 12}, {"qty", Align::kRight}};
  const std::vector<std::vector<std::string>> rows = {
      {"simple_integration urgent (in quota)", "1"}};
  const std::string cut = RenderTable(cols, rows);
  CHECK(cut.find("simple_inte…") != std::string::npos);
  CHECK(cut.find("(in quota)") == std::string::npos);
  const std::string wide = RenderTable(cols, rows, {.wide = true});
  CHECK(wide.find("simple_integration urgent (in quota)") != std::string::npos);
  CHECK(wide.find("…") == std::string::npos);
}

TEST_CASE("control characters in cells are escaped before the widths are measured",
          "[reports][text]") {
  const auto lines =
      Lines(RenderTable({{"task"}, {"n", Align::kRight}}, {{"a\x1b[2Jb", "7"}, {"plain", "22"}}));
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].find('\x1b') == std::string::npos);
  CHECK(lines[1].find("a\\x1b[2Jb") != std::string::npos);
  CHECK(ColumnOf(lines[1], "7") + 1 == ColumnOf(lines[2], "22") + 2);  // right edges agree
}

TEST_CASE("the inferred table right-aligns a column only when every value in it is a number",
          "[reports][text]") {
  // The demo's balance table: plan ids like "1c-start" start with a digit but are text.
  const auto lines = Lines(Table({{"client", "plan", "outstanding"},
                                  {"stroymarket", "1c-start", "0.00 ₽"},
                                  {"leadgen", "altercpa-basic", "$670.00"}}));
  REQUIRE(lines.size() == 3);
  CHECK(ColumnOf(lines[0], "plan") == ColumnOf(lines[1], "1c-start"));
  CHECK(ColumnOf(lines[1], "1c-start") == ColumnOf(lines[2], "altercpa-basic"));
  const size_t end = ColumnOf(lines[0], "outstanding") + DisplayWidth("outstanding");
  CHECK(ColumnOf(lines[1], "0.00 ₽") + DisplayWidth("0.00 ₽") == end);
  CHECK(ColumnOf(lines[2], "$670.00") + DisplayWidth("$670.00") == end);
}

TEST_CASE("numbers, money and durations look numeric; ids and words do not", "[reports][text]") {
  for (const char* yes : {"12", "-3", "1 320.00 ₽", "-338.00 ₽", "$9.00", "€1 234.50", "6h30m",
                          "0m", "×3", "97.50%", "#42", "12.00 XYZ"})
    CHECK(LooksNumeric(yes));
  for (const char* no : {"1c-start", "1C support Start", "INC-4-1", "unlimited", "", "-", "h",
                         "site_link", "2026-01", "2026-04-03 11:30"})
    CHECK_FALSE(LooksNumeric(no));
}

TEST_CASE("the invoice table keeps the description column left-aligned under its header",
          "[reports][text]") {
  const nlohmann::json inv = {{"client", "stroymarket"},
                              {"month", "2026-04"},
                              {"currency", "RUB"},
                              {"closed", true},
                              {"total_minor", 3300000},
                              {"lines",
                               {{{"code", "fee"},
                                 {"description", "1C support Start"},
                                 {"quantity", 1},
                                 {"unit_price_minor", 2000000},
                                 {"amount_minor", 2000000}},
                                {{"code", "overage"},
                                 {"description", "hours beyond the plan, 6h30m"},
                                 {"quantity", 390},
                                 {"unit_price_minor", 200000},
                                 {"amount_minor", 1300000}}}}};
  const auto lines = Lines(InvoiceText(inv));
  REQUIRE(lines.size() == 5);
  const size_t desc = ColumnOf(lines[1], "description");
  CHECK(ColumnOf(lines[2], "1C support Start") == desc);
  CHECK(ColumnOf(lines[3], "hours beyond the plan") == desc);
  const size_t end = ColumnOf(lines[1], "amount") + DisplayWidth("amount");
  CHECK(ColumnOfLast(lines[2], "20 000.00 ₽") + DisplayWidth("20 000.00 ₽") == end);
  CHECK(ColumnOfLast(lines[4], "33 000.00 ₽") + DisplayWidth("33 000.00 ₽") == end);
}

TEST_CASE("random bytes never break the width rules: cut cells fit, padding never shrinks",
          "[reports][text]") {
  // 3 000 random strings of up to 40 bytes drawn from ASCII, UTF-8 lead and continuation
  // bytes and control characters (fixed seed: the run is the same every time).
  std::mt19937 rng(20261201);
  const unsigned char alphabet[] = {'a',  ' ',  '-',  '1',  0x00, 0x1b, 0x7f, 0x80, 0xbf, 0xc2,
                                    0xd0, 0xe2, 0xe3, 0xf0, 0xf4, 0xf8, 0xff, 0xcc, 0x81, 0x9d};
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    const size_t n = rng() % 41;
    for (size_t i = 0; i < n; ++i) s += char(alphabet[rng() % sizeof(alphabet)]);
    const std::string safe = TerminalSafe(s);
    const size_t w = rng() % 12;
    const std::string cut = CutToWidth(safe, w);
    REQUIRE(DisplayWidth(cut) <= w);
    REQUIRE(DisplayWidth(PadToWidth(cut, w, Align::kRight)) == w);
    REQUIRE(TerminalSafe(safe) == safe);  // escaping twice changes nothing
    const auto lines =
        Lines(RenderTable({{"a", Align::kLeft, w}, {"b", Align::kRight}}, {{s, "1"}, {"x", s}}));
    REQUIRE(lines.size() == 3);
  }
}
