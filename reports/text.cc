#include "reports/text.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "projections/units.h"
#include "reports/figures.h"
#include "reports/labels.h"

namespace hourbank::reports {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (1–4) and sets cp, or 0 when the
// bytes there are not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF are
// invalid).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  size_t n = 0;
  uint32_t min = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
    min = 0x10000;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool Invisible(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

struct Range {
  uint32_t first, last;
};

// Combining marks and zero-width characters: no column of their own.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
};
// East Asian wide and fullwidth characters (and the common emoji blocks): two columns.
constexpr Range kDoubleWidth[] = {
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
    {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

template <size_t N>
bool In(const Range (&ranges)[N], uint32_t cp) {
  return std::any_of(std::begin(ranges), std::end(ranges),
                     [cp](Range r) { return cp >= r.first && cp <= r.last; });
}

size_t CodePointWidth(uint32_t cp) {
  if (In(kZeroWidth, cp)) return 0;
  return In(kDoubleWidth, cp) ? 2 : 1;
}

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …

void TrimRight(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

bool IsPlaceholder(std::string_view cell) {
  return cell.empty() || cell == "-" || cell == "\xE2\x80\x94";
}

}  // namespace

std::string TerminalSafe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(s, i, cp);
    if (n == 0 || cp < 0x20 || cp == 0x7F) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(s[i]));
      ++i;
    } else if (Invisible(cp)) {
      out += fmt::format("\\u{{{:04x}}}", cp);
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string TerminalLines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t start = 0;
  while (true) {
    const size_t nl = text.find('\n', start);
    out += TerminalSafe(
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(s, i, cp);
    width += n == 0 ? 1 : CodePointWidth(cp);
    i += n == 0 ? 1 : n;
  }
  return width;
}

std::string CutToWidth(std::string_view s, size_t width_max) {
  if (DisplayWidth(s) <= width_max) return std::string(s);
  if (width_max == 0) return "";
  // Keep whole code points while they fit in width_max - 1 columns, then the ellipsis.
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, cp);
    const size_t w = n == 0 ? 1 : CodePointWidth(cp);
    if (n == 0) n = 1;
    if (width + w > width_max - 1) break;
    out.append(s.substr(i, n));
    width += w;
    i += n;
  }
  return out.append(kEllipsis);
}

std::string PadToWidth(std::string_view s, size_t width, Align align) {
  const size_t w = DisplayWidth(s);
  const std::string fill(w < width ? width - w : 0, ' ');
  return align == Align::kRight ? fill + std::string(s) : std::string(s) + fill;
}

std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows,
                        const TableOptions& options) {
  const size_t n = columns.size();
  // Every cell escaped and cut first: the widths are those of what is printed.
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  std::vector<std::string> header;
  for (const Column& c : columns) header.push_back(TerminalSafe(c.header));
  cells.push_back(std::move(header));
  for (const auto& row : rows) {
    std::vector<std::string> line(n);
    for (size_t i = 0; i < n && i < row.size(); ++i) {
      line[i] = TerminalSafe(row[i]);
      if (!options.wide && columns[i].width_max > 0)
        line[i] = CutToWidth(line[i], columns[i].width_max);
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(n, 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < n; ++i) width[i] = std::max(width[i], DisplayWidth(line[i]));
  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) text += "  ";
      text += PadToWidth(line[i], width[i], columns[i].align);
    }
    TrimRight(text);
    out += text + '\n';
  }
  return out;
}

bool LooksNumeric(std::string_view cell) {
  if (cell.empty()) return false;
  bool digit = false;
  bool first = true;
  for (size_t i = 0; i < cell.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(cell, i, cp);
    if (len == 0) return false;
    i += len;
    const bool is_digit = cp >= '0' && cp <= '9';
    digit = digit || is_digit;
    // Signs, currency signs, "×" (counts, multipliers) and "#" (entry ids) may start a number.
    const bool lead = is_digit || cp == '-' || cp == '+' || cp == '$' || cp == 0x20AC /* € */ ||
                      cp == 0xA3 /* £ */ || cp == 0xD7 /* × */ || cp == '#' || cp == 0x2212 /* − */;
    if (first && !lead) return false;
    // A sign, "×" or "#" inside ("2026-01", "INC-4-1", "a×b") makes a date or an id, not a number.
    if (!first && !is_digit && (cp == '-' || cp == '+' || cp == 0x2212 || cp == 0xD7 || cp == '#'))
      return false;
    first = false;
    const bool inside = lead || cp == ' ' || cp == 0xA0 || cp == 0x202F || cp == '.' || cp == ',' ||
                        cp == ':' || cp == '%' || cp == '/' || cp == 'h' || cp == 'm' ||
                        cp == 0x20BD /* ₽ */ ||
                        (cp >= 'A' && cp <= 'Z');  // a currency code after the amount
    if (!inside) return false;
  }
  return digit;
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return "";
  std::vector<Column> columns;
  for (size_t i = 0; i < rows[0].size(); ++i) {
    bool any = false, numeric = true;
    for (size_t r = 1; r < rows.size(); ++r) {
      if (i >= rows[r].size() || IsPlaceholder(rows[r][i])) continue;
      any = true;
      numeric = numeric && LooksNumeric(rows[r][i]);
    }
    columns.push_back({rows[0][i], any && numeric ? Align::kRight : Align::kLeft, 0});
  }
  return RenderTable(columns, {rows.begin() + 1, rows.end()});
}

}  // namespace hourbank::reports

// ---------------------------------------------------------------------------------------
// The read commands' text

namespace hourbank::reports {

using nlohmann::json;
using projections::FormatMinutes;
using projections::FormatMoney;

std::string BalanceText(const json& b, const TableOptions& options) {
  const std::string cur = b["currency"];
  std::string out =
      fmt::format("{} — {} ({} v{}){}\n", b["client"].get<std::string>(),
                  b["month"].get<std::string>(), b["plan"].get<std::string>(),
                  b["plan_version"].get<uint32_t>(), b["trial"].get<bool>() ? ", trial month" : "");
  std::vector<std::vector<std::string>> rows;
  const auto& a = b["allowance"];
  if (b["unlimited"].get<bool>()) {
    rows.push_back({"hours (unlimited)", FormatMinutes(b["used_minutes"])});
  } else {
    rows.push_back({"allowance included", FormatMinutes(a["included_minutes"])});
    rows.push_back({"allowance used", FormatMinutes(a["used_minutes"])});
    rows.push_back({"allowance left", FormatMinutes(a["left_minutes"])});
    rows.push_back({"reserve", FormatMinutes(b["reserve_minutes"])});
    rows.push_back({"prepaid blocks", FormatMinutes(b["prepaid_minutes"])});
    rows.push_back({"overage", FormatMinutes(b["overage_minutes"])});
  }
  if (b.value("pending_review_entries", int64_t(0)) >
      0)  // drawn above provisionally, not yet approved
    rows.push_back(
        {fmt::format("pending review ({} entries)", b["pending_review_entries"].get<int64_t>()),
         FormatMinutes(b["pending_review_minutes"])});
  out += RenderTable({{"bucket"}, {"minutes", Align::kRight}}, rows, options);
  if (!b["slots"].empty()) {
    std::vector<std::vector<std::string>> srows;
    for (auto& [pool, u] : b["slots"].items())
      srows.push_back({pool, std::to_string(u["quota"].get<uint32_t>()),
                       std::to_string(u["used"].get<uint32_t>()),
                       std::to_string(u["left"].get<uint32_t>())});
    out += "\n" + RenderTable({{"pool", Align::kLeft, kCellWidthMax},
                               {"quota", Align::kRight},
                               {"used", Align::kRight},
                               {"left", Align::kRight}},
                              srows, options);
  }
  out += fmt::format(
      "\nthis month so far {}; outstanding {}{}\n", FormatMoney(b["invoice_so_far_minor"], cur),
      FormatMoney(b["outstanding_minor"], cur),
      b["blocked"].get<bool>()
          ? " — BLOCKED (unpaid debt under the plan's debt_blocking rule; see `plan show`)"
          : "");
  return TerminalLines(out);
}

std::string InvoiceText(const json& inv, const TableOptions& options) {
  const std::string cur = inv["currency"];
  std::string out = fmt::format(
      "invoice {} {}{}\n", inv["client"].get<std::string>(), inv["month"].get<std::string>(),
      inv["closed"].get<bool>() ? " (closed)" : " (open: may still change)");
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : inv["lines"]) {
    std::string qty = std::to_string(l["quantity"].get<int64_t>());
    if (l["code"] == "overage") qty = FormatMinutes(l["quantity"]);
    rows.push_back({l["code"], l["description"], qty, FormatMoney(l["unit_price_minor"], cur),
                    FormatMoney(l["amount_minor"], cur)});
  }
  rows.push_back({"total", "", "", "", FormatMoney(inv["total_minor"], cur)});
  return TerminalLines(out) + RenderTable({{"code"},
                                           {"description", Align::kLeft, kCellWidthMax},
                                           {"qty", Align::kRight},
                                           {"unit price", Align::kRight},
                                           {"amount", Align::kRight}},
                                          rows, options);
}

std::string BurnedText(const json& b, const TableOptions& options) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : b["months"])
    rows.push_back({m["month"], FormatMinutes(m["included_minutes"]),
                    FormatMinutes(m["used_minutes"]), FormatMinutes(m["from_reserve_minutes"]),
                    FormatMinutes(m["from_blocks_minutes"]), FormatMinutes(m["overage_minutes"]),
                    FormatMinutes(m["carried_minutes"]), FormatMinutes(m["expired_minutes"]),
                    FormatMinutes(m["reserve_end_minutes"]),
                    m["closed"].get<bool>() ? "closed" : "open"});
  std::vector<Column> cols = {{"month"}};
  for (const char* h :
       {"included", "used", "reserve", "blocks", "overage", "carried", "expired", "reserve end"})
    cols.push_back({h, Align::kRight});
  cols.push_back({""});
  return TerminalLines(fmt::format("burned hours — {}\n", b["client"].get<std::string>())) +
         RenderTable(cols, rows, options) +
         fmt::format("total expired: {}\n", FormatMinutes(b["total_expired_minutes"]));
}

std::string ReportText(const json& r, const TableOptions& options) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : r["entries"]) {
    const std::string at = e["at"].get<std::string>().substr(0, 16);
    std::string amount = e["count"].get<int64_t>() > 0
                             ? fmt::format("×{}", e["count"].get<int64_t>())
                             : FormatMinutes(e["minutes"]);
    // Raw time, and the billed time when the plan's billing rules or a write-down changed it.
    const int64_t billed = e.value("billed_minutes", int64_t(-1));
    if (e["count"].get<int64_t>() == 0 && billed >= 0 && billed != e["minutes"].get<int64_t>())
      amount += " → " + FormatMinutes(billed) + " billed";
    rows.push_back({"#" + std::to_string(e["id"].get<uint64_t>()), at, e["staff"], e["task"],
                    e["kind"], amount, e["paid_by"]});
  }
  return TerminalLines(fmt::format("work report {} {} ({} entries)\n",
                                   r["client"].get<std::string>(), r["month"].get<std::string>(),
                                   r["entries"].size())) +
         RenderTable({{"id", Align::kRight},
                      {"when"},
                      {"staff", Align::kLeft, 16},
                      {"task", Align::kLeft, 24},
                      {"kind", Align::kLeft, 24},
                      {"time", Align::kRight},
                      {"paid by", Align::kLeft, kCellWidthMax}},
                     rows, options);
}

std::string SlaText(const json& j, const TableOptions& options) {
  std::string out =
      fmt::format("SLA {} {}{}\n", j["client"].get<std::string>(), j["month"].get<std::string>(),
                  j["has_sla"].get<bool>() ? " (" + j["plan"].get<std::string>() + ")"
                                           : " (the plan has no SLA)");
  std::vector<std::vector<std::string>> rows;
  auto m = [](const json& v) {
    return v.is_null() ? std::string("-") : FormatMinutes(v.get<int64_t>());
  };
  auto t = [](const json& v) {
    return v.get<int64_t>() == 0 ? std::string("-") : FormatMinutes(v.get<int64_t>());
  };
  std::string waits;  // one line per wait on the customer, under the table
  for (const auto& i : j["incidents"]) {
    const int64_t paused = i.value("paused_minutes", int64_t{0});
    std::string status = i["breached"].get<bool>() ? "BREACHED" : "ok";
    if (!i["breached"].get<bool>() && i.value("escalation_due", false)) status = "ESCALATE";
    if (i.value("waiting", false)) status += ", waiting";
    rows.push_back({i["id"], std::to_string(i["priority"].get<int>()), m(i["reaction_minutes"]),
                    t(i["reaction_target_minutes"]), m(i["resolution_minutes"]),
                    t(i["resolution_target_minutes"]),
                    paused > 0 ? FormatMinutes(paused) : std::string("-"), status});
    for (const auto& w : i.value("waits", json::array()))
      waits += fmt::format("  {} waited {} → {}, paused {}{}\n", i["id"].get<std::string>(),
                           w["from"].get<std::string>().substr(0, 16),
                           w["to"].is_null() ? std::string("(still waiting)")
                                             : w["to"].get<std::string>().substr(0, 16),
                           FormatMinutes(w["paused_minutes"].get<int64_t>()),
                           w["reason"].get<std::string>().empty()
                               ? std::string()
                               : ": " + w["reason"].get<std::string>());
  }
  const uint32_t bp = j["compliance_basis_points"];
  return TerminalLines(out) +
         RenderTable({{"incident", Align::kLeft, kCellWidthMax},
                      {"P", Align::kRight},
                      {"reaction", Align::kRight},
                      {"target", Align::kRight},
                      {"resolution", Align::kRight},
                      {"target", Align::kRight},
                      {"paused", Align::kRight},
                      {""}},
                     rows, options) +
         TerminalLines(waits) +
         fmt::format("{} incident(s), {} breached, compliance {}\n", j["total"].get<uint32_t>(),
                     j["breached"].get<uint32_t>(), Percent(bp));
}

std::string LogAnswerText(const projections::ClientState& s, uint64_t seq, bool replayed) {
  using projections::Unit;
  const std::optional<projections::Entry> e = EntryWithCharges(s, seq);
  if (!e)
    return TerminalSafe(fmt::format("entry #{}{}", seq, replayed ? " (already recorded)" : ""));
  const std::string what =
      e->unit == Unit::kHour ? FormatMinutes(e->minutes) : fmt::format("×{}", e->count);
  const uint32_t pct = e->multiplier_percent;
  std::string line = fmt::format(
      "entry #{}: {} {} {}{}{} → {}", seq, s.id(), what, e->kind,
      e->task.empty() ? "" : " " + e->task,
      pct != 100 ? fmt::format(" (×{}.{:02})", pct / 100, pct % 100) : "", PaidBy(*e, Lang::kEn));
  const uint32_t month = e->month;
  if (month != 0) {
    const projections::MonthEval ev = s.Evaluate(month);
    const auto* t = s.TermsFor(month);
    const projections::Kind* kind = t ? t->plan->FindKind(e->kind) : nullptr;
    if (t && t->plan->unlimited) {
      line += " | unlimited";
    } else if (e->unit == Unit::kHour) {
      line +=
          fmt::format(" | left in {}: allowance {}, reserve {}, prepaid {}",
                      projections::FormatMonth(month), FormatMinutes(AllowanceLeftMinutes(ev)),
                      FormatMinutes(ReserveLeftMinutes(ev)), FormatMinutes(PrepaidLeftMinutes(ev)));
    } else if (!kind || kind->pool.empty()) {
      line += fmt::format(" | {}", FormatMoney(BilledMinor(*e), s.currency()));
    } else {
      auto it = ev.pools.find(kind->pool);
      line += fmt::format(" | {} slots left: {}", kind->pool,
                          it == ev.pools.end() ? 0u : it->second.left());
      if (BilledMinor(*e) > 0)
        line += fmt::format(", billed {}", FormatMoney(BilledMinor(*e), s.currency()));
    }
  }
  if (replayed) line += " (already recorded: same key)";
  return TerminalSafe(line);
}

std::string ReviewText(const json& r) {
  std::string out = fmt::format("review {} {}\n", r.value("client", ""), r.value("month", ""));
  int64_t pending = 0;
  for (const json& e : r.value("entries", json::array())) {
    const std::string state = e.value("state", "");
    const std::string reason = e.value("reason", "");
    if (state == "pending" && e.value("review", "") == "manager") pending++;
    const std::string amount = e.value("unit", "hour") == "hour"
                                   ? FormatMinutes(e.value("minutes", int64_t{0}))
                                   : fmt::format("×{}", e.value("count", int64_t{0}));
    const std::string task = e.value("task", "");
    out += fmt::format("  #{} {} {} {} {} {} — {}{}\n", e.value("id", uint64_t{0}),
                       e.value("at", "").substr(0, 16), e.value("staff", ""),
                       task.empty() ? "-" : task, e.value("kind", ""), amount, state,
                       reason.empty() ? "" : " (" + reason + ")");
  }
  return out + fmt::format("{} pending review", pending);
}

}  // namespace hourbank::reports
