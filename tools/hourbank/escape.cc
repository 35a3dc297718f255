#include "tools/hourbank/escape.h"

#include <cstdint>

#include <fmt/format.h>

#include "reports/text.h"

namespace hourbank::cli {

// The terminal escaping is reports/text.h's (tables escape their cells with it).
std::string TerminalSafe(std::string_view s) { return reports::TerminalSafe(s); }

std::string TerminalLines(std::string_view text) { return reports::TerminalLines(text); }

std::string HledgerText(std::string_view s) {
  const std::string safe = TerminalSafe(s);
  std::string out;
  out.reserve(safe.size());
  for (char c : safe) {
    if (c == ';')
      out += "\\x3b";
    else
      out += c;
  }
  return out;
}

std::string CsvCell(std::string_view s) {
  bool plain_integer = !s.empty();
  for (size_t i = 0; i < s.size(); ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-' && s.size() > 1)))
      plain_integer = false;
  const bool formula =
      !s.empty() && !plain_integer &&
      (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
  if (!formula && s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  if (formula) out += '\'';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace hourbank::cli
