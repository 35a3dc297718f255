// Text for people: terminal-safe cells, display width, and aligned tables.
//
// Display width counts terminal columns of valid UTF-8: one per code point for Latin,
// Cyrillic, Greek and the currency signs; two for East Asian wide and fullwidth characters;
// none for combining marks and zero-width characters. Tables measure cells after escaping
// (TerminalSafe), so a column's width is that of what is printed.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "projections/state.h"

namespace hourbank::reports {

// For a terminal line (tables, logs, errors): every control character (C0 incl. ESC, DEL) and
// invalid UTF-8 byte becomes "\xNN"; C1 controls and the bidirectional overrides/isolates
// (U+202A–U+202E, U+2066–U+2069) and line/paragraph separators (U+2028, U+2029) become
// "\u{NNNN}". Everything else (printable ASCII, other valid UTF-8) is kept as is.
std::string TerminalSafe(std::string_view s);

// TerminalSafe for each line of a multi-line text: the '\n' between lines are kept.
std::string TerminalLines(std::string_view text);

// Terminal columns `s` takes (see above). Invalid UTF-8 bytes count one column each.
size_t DisplayWidth(std::string_view s);

// `s` cut to at most `width_max` columns; when cut, the last column is "…" (U+2026). Never
// splits a UTF-8 sequence. width_max 0 gives "".
std::string CutToWidth(std::string_view s, size_t width_max);

// `s` padded with spaces to `width` columns (left-aligned: spaces after; right: before).
// A cell wider than `width` is returned as is.
enum class Align { kLeft, kRight };
std::string PadToWidth(std::string_view s, size_t width, Align align);

// One column of a table: its header, how its cells (and the header) align, and the widest a
// cell may be before it is cut with "…" (0 = never cut).
struct Column {
  std::string header;
  Align align = Align::kLeft;
  size_t width_max = 0;
};

struct TableOptions {
  bool wide = false;  // `--wide`: no cell is cut, whatever the column's width_max
};

// Rows under a header line, columns two spaces apart, trailing spaces trimmed, "\n" after
// every line. Every cell is made TerminalSafe first. A row with fewer cells than columns is
// padded with empty cells; extra cells are ignored. Text columns are left-aligned and number
// columns right-aligned, headers aligned as their column.
std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows,
                        const TableOptions& options = {});

// A table whose first row is the header and whose alignment is inferred: a column is
// right-aligned when every body cell in it that is not empty or a placeholder ("-", "—") looks
// like a number, an amount of money or a duration ("12", "-3", "1 320.00 ₽", "$9.00", "6h30m",
// "×3", "97.50%"; not dates or ids such as "2026-01" or "1c-start"). Nothing is cut.
std::string Table(const std::vector<std::vector<std::string>>& rows);

// Whether a cell looks like a number, money or a duration (the rule of Table above).
bool LooksNumeric(std::string_view cell);

// ---- the read commands' text for people, rendered from their JSON (reports/json.h) so the
// two cannot disagree. Each ends with "\n"; every line is TerminalSafe. Long text cells (invoice
// descriptions, tasks, what paid) are cut with "…" unless options.wide.

std::string BalanceText(const nlohmann::json& balance, const TableOptions& options = {});
std::string InvoiceText(const nlohmann::json& invoice, const TableOptions& options = {});
std::string BurnedText(const nlohmann::json& burned, const TableOptions& options = {});
std::string ReportText(const nlohmann::json& report, const TableOptions& options = {});
std::string SlaText(const nlohmann::json& sla, const TableOptions& options = {});
// ReviewJson for people: one line per entry, then "N pending review".
std::string ReviewText(const nlohmann::json& review);

// The answer to `log` for people, one line: "entry #42: acme 2h support T-1 → allowance 2h |
// left in 2026-03: allowance 6h, reserve 3h, prepaid 0m" (hour work), "… | site slots left: 18"
// (slot work), "… | $50.00" (one-off work). Figures from reports/figures.h.
std::string LogAnswerText(const projections::ClientState& state, uint64_t seq, bool replayed);

// Widest a cut text cell is by default (`--wide` shows it whole).
inline constexpr size_t kCellWidthMax = 40;

}  // namespace hourbank::reports
