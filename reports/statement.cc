// The monthly client statement (statement.h). Two steps: Build() reads the ClientState once
// into a Content of already formatted strings (plus the chart's integer figures); RenderHtml
// and RenderText lay that Content out. Neither renderer computes a figure of its own, so the
// two versions cannot disagree.
//
// Chart geometry (all integers, SVG user units):
//   viewBox 0 0 720 300; legend on y 6..18; plot area x 60..704, y 36..250 (value 0 at 250);
//   n month groups of width gw = 644 / n; four bars per group, side by side:
//   included | used within the plan + overage stacked on top | carried over | expired;
//   y(value) = 250 - value * 214 / axis_max, axis_max a whole number of tick steps of
//   1, 2 or 5 × 10^k hours, at most 5 steps.
#include "reports/statement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cassert>
#include <string_view>
#include <vector>

#include "projections/sla.h"
#include "projections/units.h"
#include "reports/figures.h"
#include "reports/labels.h"
#include "reports/text.h"

namespace hourbank::reports {

using namespace projections;

namespace {

// ---------------------------------------------------------------------------------------
// Text hygiene

// Appends U+FFFD (the replacement character).
void AppendReplacement(std::string& out) { out += "\xEF\xBF\xBD"; }

// `in` as valid UTF-8 that XML 1.0 accepts: invalid byte sequences, overlong forms,
// surrogates, U+FFFE/U+FFFF and control characters other than tab/LF/CR become U+FFFD. With
// `single_line` tab, LF and CR become spaces (table cells, text columns).
std::string CleanUtf8(std::string_view in, bool single_line) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const uint8_t b = static_cast<uint8_t>(in[i]);
    if (b < 0x80) {
      if (b == '\t' || b == '\n' || b == '\r')
        out += single_line ? ' ' : char(b);
      else if (b < 0x20 || b == 0x7F)
        AppendReplacement(out);
      else
        out += char(b);
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    }
    bool ok = len != 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const uint8_t c = static_cast<uint8_t>(in[i + k]);
      if ((c & 0xC0) != 0x80)
        ok = false;
      else
        cp = (cp << 6) | (c & 0x3F);
    }
    if (ok) {
      const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
          cp == 0xFFFF || (cp >= 0x80 && cp <= 0x9F))
        ok = false;
    }
    if (!ok) {
      AppendReplacement(out);
      ++i;  // resynchronise on the next byte
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

// Text for HTML/XML content and attribute values.
std::string Esc(std::string_view in) {
  const std::string clean = CleanUtf8(in, false);
  std::string out;
  out.reserve(clean.size() + 16);
  for (char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void TrimRight(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

// ---------------------------------------------------------------------------------------
// Content: everything the statement shows, formatted once.

struct Field {
  std::string key;  // stable id ("carried"): HTML ids, tests
  std::string label;
  std::string value;
  bool sub = false;  // a breakdown of the row above
};

struct PoolRow {
  std::string pool;
  uint32_t quota = 0, used = 0, left = 0;
};

struct ChartMonth {
  uint32_t month = 0;
  int64_t included_minutes = 0, used_minutes = 0, overage_minutes = 0, carried_minutes = 0,
          expired_minutes = 0;
};

struct WorkRow {
  std::string when, who, task, kind, amount, paid_by, billed, flags, note;
  bool voided = false;
};

struct InvoiceRow {
  std::string code, item, description, quantity, price, amount;
};

struct PaymentRow {
  std::string date, ref, amount;
};

struct SlaRow {
  std::string id, priority, opened, reaction, resolution, status;
  bool breached = false;
};

struct Content {
  Lang lang = Lang::kEn;
  const Labels* l = &LabelsFor(Lang::kEn);
  std::string currency;
  std::string title, client_name, client_id, month_name;
  std::vector<Field> header;
  std::vector<std::string> notes;
  bool hours = false;  // the plan counts hours: show the hour rows
  std::vector<Field> glance;
  std::vector<PoolRow> pools;
  std::vector<ChartMonth> chart;
  std::string chart_title;  // "Hours, October 2025 – February 2026"
  std::vector<WorkRow> work;
  std::string work_note;  // when there are no rows
  std::string work_total_amount, work_total_billed;
  std::vector<WorkRow> awaiting;  // logged, not yet accepted (plans that bill on acceptance)
  bool acceptance = false;        // the plan bills on acceptance: show the awaiting section
  std::vector<InvoiceRow> invoice;
  std::string invoice_total, invoice_status;
  std::vector<Field> money;  // invoiced (closed months), paid, outstanding
  bool blocked = false;
  std::string payments_title;  // "Payments received in April 2026"
  std::vector<PaymentRow> payments;
  std::string payments_total;
  bool has_sla = false;
  std::string sla_summary;
  std::vector<SlaRow> sla;
  std::optional<ForecastLines> forecast;  // the month is the forecast's month
  std::string forecast_title;
  std::string footer;
};

// What every Build step reads: the state, the options and the month's evaluation.
struct Ctx {
  const ClientState& state;
  const StatementOptions& options;
  const MonthEval& ev;
  const ContractTerms* terms;  // nullptr outside the contract
  const PlanSpec* plan;        // nullptr outside the contract
  Lang lang;
  const Labels& l;
  std::string money(int64_t minor) const { return FormatMoney(minor, state.currency()); }
  std::string dur(int64_t minutes) const { return Duration(minutes, lang); }
};

void BuildHeader(const Ctx& x, Content& c) {
  const Labels& l = x.l;
  const uint32_t month = x.options.month;
  c.client_name = CleanUtf8(x.state.name(), true);
  c.client_id = CleanUtf8(x.state.id(), true);
  c.month_name = MonthName(month, x.lang);
  c.title = fmt::format(fmt::runtime(l.title), c.month_name);
  c.header.push_back({"client", l.client, c.client_name + " (" + c.client_id + ")", false});
  if (x.terms) {
    std::string plan_text = x.plan ? CleanUtf8(x.plan->name, true) : std::string();
    plan_text += fmt::format(" ({}, {} {})", CleanUtf8(x.terms->plan_id, true), l.version,
                             x.terms->plan_version);
    c.header.push_back({"plan", l.plan, plan_text, false});
    const uint32_t first = x.state.first_month();
    const uint32_t last = x.state.last_month();
    c.header.push_back({"term", l.term,
                        last == 0 ? fmt::format(fmt::runtime(l.term_open), FormatMonth(first))
                                  : fmt::format(fmt::runtime(l.term_months), FormatMonth(first),
                                                MonthsBetween(first, last) + 1),
                        false});
  }
  c.header.push_back({"month", l.month,
                      c.month_name + " — " + (x.ev.closed ? l.month_closed : l.month_open), false});
  if (const uint32_t units = x.state.UnitsFor(month); x.terms && units > 0)
    c.header.push_back({"units", l.units, std::to_string(units), false});
  c.header.push_back({"zone", l.zone, CleanUtf8(x.state.zone().name(), true), false});
  c.header.push_back(
      {"prepared", l.prepared, LocalDateTime(x.state.zone(), x.options.now_us), false});
  if (!x.terms) c.notes.push_back(l.no_contract);
  if (x.ev.trial) c.notes.push_back(l.trial);
}

void BuildGlance(const Ctx& x, Content& c) {
  const Labels& l = x.l;
  const MonthEval& ev = x.ev;
  const int64_t blocks_left_minutes = PrepaidLeftMinutes(ev);
  bool hour_kinds = false;
  if (x.plan)
    for (const Kind& k : x.plan->kinds) hour_kinds = hour_kinds || k.unit == Unit::kHour;
  c.hours = hour_kinds || ev.used_minutes > 0 || ev.included_minutes > 0 ||
            ev.reserve_start_minutes > 0 || blocks_left_minutes > 0 || ev.block_used_minutes > 0;
  if (c.hours) {
    c.glance.push_back({"included", l.included, x.dur(ev.included_minutes), false});
    c.glance.push_back({"used", l.used, x.dur(ev.used_minutes), false});
    c.glance.push_back(
        {"used-allowance", l.used_allowance, x.dur(ev.allowance_used_minutes), true});
    c.glance.push_back({"used-reserve", l.used_reserve, x.dur(ev.reserve_used_minutes), true});
    if (ev.block_used_minutes > 0 || blocks_left_minutes > 0)
      c.glance.push_back({"used-blocks", l.used_blocks, x.dur(ev.block_used_minutes), true});
    c.glance.push_back({"overage", l.overage, x.dur(ev.overage_minutes), true});
    if (x.plan && x.plan->unlimited)
      c.glance.push_back({"unlimited", l.unlimited, x.dur(ev.unlimited_minutes), true});
    c.glance.push_back(
        {"allowance-left", l.allowance_left, x.dur(AllowanceLeftMinutes(ev)), false});
    c.glance.push_back({"reserve-start", l.reserve_start, x.dur(ev.reserve_start_minutes), false});
    c.glance.push_back({"reserve-left", l.reserve_left, x.dur(ReserveLeftMinutes(ev)), true});
    c.glance.push_back({"carried", l.carried, x.dur(ev.carried_minutes), false});
    c.glance.push_back({"expired", l.expired, x.dur(ev.expired_minutes()), false});
    c.glance.push_back({"reserve-end", l.reserve_end, x.dur(ev.reserve_end_minutes), false});
    c.glance.push_back({"blocks-left", l.blocks_left, x.dur(blocks_left_minutes), false});
  }
  for (const auto& [pool, usage] : ev.pools)
    c.pools.push_back({CleanUtf8(pool, true), usage.quota, usage.used, usage.left()});
}

// The chart: the window's months that fall in the contract (the statement month always).
void BuildChart(const Ctx& x, Content& c) {
  const uint32_t month = x.options.month;
  const uint32_t back = std::clamp<uint32_t>(x.options.months_back, 1, kStatementMonthsBackMax);
  const uint32_t first_contract = x.state.first_month();
  for (int32_t i = int32_t(back) - 1; i >= 0; --i) {
    const uint32_t m = AddMonths(month, -i);
    if (m != month && (first_contract == 0 || m < first_contract || x.state.TermsFor(m) == nullptr))
      continue;
    const MonthEval e = m == month ? x.ev : x.state.Evaluate(m);
    c.chart.push_back({m, e.included_minutes, e.used_minutes, e.overage_minutes, e.carried_minutes,
                       e.expired_minutes()});
  }
  const std::string span = c.chart.size() > 1
                               ? MonthName(c.chart.front().month, x.lang) + " – " + c.month_name
                               : c.month_name;
  c.chart_title = fmt::format(fmt::runtime(x.l.chart), span);
}

// One row of the work tables (counted work and work awaiting acceptance).
WorkRow WorkRowOf(const Ctx& x, const Entry& e) {
  const Labels& l = x.l;
  WorkRow r;
  r.when = LocalDateTime(x.state.zone(), e.at_us);
  r.who = CleanUtf8(e.staff, true);
  r.task = CleanUtf8(e.task, true);
  r.kind = CleanUtf8(e.kind, true);
  if (e.unit == Unit::kHour) {
    r.amount = x.dur(e.minutes);
    if (e.multiplier_percent != 100) r.amount += fmt::format(" ×{}%", e.multiplier_percent);
  } else {
    r.amount = fmt::format(fmt::runtime(e.count == 1 ? l.item_one : l.items), e.count);
  }
  r.paid_by = PaidBy(e, x.lang);
  const int64_t billed = BilledMinor(e);
  r.billed = billed != 0 ? x.money(billed) : "—";
  std::vector<std::string> flags;
  if (e.urgent) flags.push_back(l.urgent);
  if (e.off_hours) flags.push_back(l.off_hours);
  if (e.emergency) flags.push_back(l.emergency);
  if (e.late) flags.push_back(l.late);
  for (const std::string& f : flags) r.flags += (r.flags.empty() ? "" : ", ") + f;
  r.note = CleanUtf8(e.note, true);
  r.voided = e.voided;
  return r;
}

void BuildWork(const Ctx& x, Content& c) {
  const Labels& l = x.l;
  int64_t total_minutes = 0, total_count = 0, total_billed = 0;
  for (const Entry& e : x.state.EntriesFor(x.options.month)) {
    c.work.push_back(WorkRowOf(x, e));
    if (!e.voided && e.unit == Unit::kHour) total_minutes += e.minutes;
    if (!e.voided && e.unit != Unit::kHour) total_count += e.count;
    total_billed += BilledMinor(e);
  }
  if (c.work.empty()) {
    const bool usage =
        x.ev.used_minutes > 0 || std::any_of(x.ev.pools.begin(), x.ev.pools.end(),
                                             [](const auto& p) { return p.second.used > 0; });
    c.work_note = x.ev.closed && usage ? l.work_not_kept : l.no_work;
  }
  if (total_minutes > 0) c.work_total_amount = x.dur(total_minutes);
  if (total_count > 0)
    c.work_total_amount +=
        (c.work_total_amount.empty() ? "" : " + ") +
        fmt::format(fmt::runtime(total_count == 1 ? l.item_one : l.items), total_count);
  c.work_total_billed = x.money(total_billed);

  // Work logged by the end of the month that waits for the client's acceptance: it counts in
  // the month it is accepted.
  c.acceptance = x.plan && x.plan->acceptance_required;
  const int64_t month_end_us = x.state.zone().MonthStartUs(NextMonth(x.options.month));
  for (const Entry* e : x.state.PendingEntries())
    if (e->at_us < month_end_us) c.awaiting.push_back(WorkRowOf(x, *e));
  c.acceptance = c.acceptance || !c.awaiting.empty();
}

void BuildInvoice(const Ctx& x, Content& c) {
  const Labels& l = x.l;
  for (const InvoiceLine& line : x.ev.invoice.lines) {
    InvoiceRow r;
    r.code = CleanUtf8(line.code, true);
    const char* label = LineLabel(line.code, x.lang);
    r.item = label ? label : r.code;
    r.description = CleanUtf8(LineDescription(line, x.lang), true);
    if (line.code == "overage") {
      r.quantity = x.dur(line.quantity);
      r.price = x.money(line.unit_price_minor) + l.per_hour;
    } else {
      r.quantity = std::to_string(line.quantity);
      r.price = x.money(line.unit_price_minor);
    }
    r.amount = x.money(line.amount_minor);
    c.invoice.push_back(std::move(r));
  }
  c.invoice_total = x.money(x.ev.invoice.total_minor);
  c.invoice_status = x.ev.invoice.closed || x.ev.closed ? l.invoice_closed : l.invoice_open;
}

// Payments and what is outstanding: the all-time totals (as `balance` shows them) and the
// payments received in the statement's month.
void BuildMoney(const Ctx& x, Content& c) {
  const Labels& l = x.l;
  const MoneyFigures m = Money(x.state);
  c.money.push_back({"invoiced", l.invoiced_closed, x.money(m.invoiced_closed_minor), false});
  c.money.push_back({"paid", l.paid_total, x.money(m.paid_minor), false});
  if (m.outstanding_minor >= 0)
    c.money.push_back({"outstanding", l.outstanding, x.money(m.outstanding_minor), false});
  else
    c.money.push_back({"outstanding", l.credit, x.money(-m.outstanding_minor), false});
  c.blocked = x.state.BlockedAt(x.options.now_us);
  c.payments_title = fmt::format(fmt::runtime(l.paid_this_month), c.month_name);
  std::vector<Payment> in_month;
  for (const Payment& p : x.options.payments)
    if (x.state.zone().MonthOf(p.at_us) == x.options.month) in_month.push_back(p);
  std::sort(in_month.begin(), in_month.end(), [](const Payment& a, const Payment& b) {
    return std::tie(a.at_us, a.seq) < std::tie(b.at_us, b.seq);
  });
  int64_t total = 0;
  for (const Payment& p : in_month) {
    c.payments.push_back(
        {LocalDateTime(x.state.zone(), p.at_us), CleanUtf8(p.ref, true), x.money(p.amount_minor)});
    total += p.amount_minor;
  }
  c.payments_total = x.money(total);
}

void BuildSla(const Ctx& x, Content& c) {
  const Labels& l = x.l;
  const SlaReport sla = ComputeSla(x.state, x.options.month, x.options.now_us);
  c.has_sla = sla.has_sla;
  if (!sla.has_sla) return;
  c.sla_summary = fmt::format(fmt::runtime(l.sla_summary), sla.total, sla.breached,
                              Percent(sla.compliance_basis_points));
  auto measured = [&](int64_t minutes, int64_t target) {
    std::string out = minutes < 0 ? "—" : x.dur(minutes);
    if (target > 0) out += fmt::format(" ({} {})", l.sla_target, x.dur(target));
    return out;
  };
  for (const SlaIncident& i : sla.incidents) {
    SlaRow r;
    r.id = CleanUtf8(i.id, true);
    r.priority = fmt::format("P{}", i.priority);
    r.opened = LocalDateTime(x.state.zone(), i.opened_us);
    r.reaction = measured(i.reaction_minutes, i.reaction_target_minutes);
    r.resolution = measured(i.resolution_minutes, i.resolution_target_minutes);
    r.breached = i.breached;
    r.status = i.breached ? l.sla_breached : i.resolved_us == 0 ? l.sla_pending : l.sla_ok;
    c.sla.push_back(std::move(r));
  }
}

// The forecast's run-out days, for the month the forecast was made in (the current one).
void BuildForecast(const Ctx& x, Content& c) {
  const std::optional<Forecast>& f = x.options.forecast;
  if (!f || f->month != x.options.month || !f->in_contract) return;
  c.forecast = ForecastLinesOf(*f, x.lang);
  c.forecast_title = fmt::format(
      fmt::runtime(x.lang == Lang::kRu ? "Прогноз на {}" : "Forecast as of {}"), DayText(f->today));
}

Content Build(const ClientState& state, const StatementOptions& options) {
  assert(ValidMonth(options.month));
  Content c;
  c.currency = state.currency();
  c.lang = LangFor(state.currency());
  c.l = &LabelsFor(c.lang);
  const MonthEval ev = state.Evaluate(options.month);
  const ContractTerms* terms = state.TermsFor(options.month);
  const Ctx x{state, options, ev, terms, terms ? terms->plan.get() : nullptr, c.lang, *c.l};
  BuildHeader(x, c);
  BuildGlance(x, c);
  BuildChart(x, c);
  BuildWork(x, c);
  BuildInvoice(x, c);
  BuildMoney(x, c);
  BuildSla(x, c);
  BuildForecast(x, c);
  c.footer = fmt::format(fmt::runtime(c.l->footer), CleanUtf8(state.currency(), true));
  return c;
}

// ---------------------------------------------------------------------------------------
// HTML

// Print-first styles: A4 pages, tables that repeat their header and do not split rows.
// No '<' or '&' here: the style element must stay well-formed XML.
constexpr const char* kCss = R"(
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 182mm; color: #1d2733; background: #ffffff;
  font: 10pt/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; color: #143d6b; }
h2 { font-size: 12pt; margin: 7mm 0 2mm 0; padding-bottom: 1mm; color: #143d6b;
  border-bottom: 0.4mm solid #143d6b; page-break-after: avoid; break-after: avoid; }
section { page-break-inside: auto; }
.keep { page-break-inside: avoid; break-inside: avoid; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th, td { padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
.grid th { background: #e8eef5; font-weight: bold; border-bottom: 0.3mm solid #9fb3c8; }
.grid td { border-bottom: 0.2mm solid #dde4ec; }
.grid tr.voided td { color: #8a96a3; text-decoration: line-through; }
.grid tfoot td, .grid tfoot th { border-top: 0.4mm solid #143d6b; font-weight: bold; background: #f4f7fa; }
.grid td { overflow-wrap: anywhere; }
table.work { table-layout: fixed; font-size: 9pt; }
table.work th, table.work td { padding: 1.2mm 1.4mm; overflow-wrap: anywhere; }
table.work .num { white-space: normal; }
col.w-when { width: 12%; } col.w-who { width: 15%; } col.w-task { width: 16%; } col.w-kind { width: 14%; }
col.w-amount { width: 11%; } col.w-paid { width: 18%; } col.w-billed { width: 14%; }
h3 { font-size: 10pt; margin: 0 0 1mm 0; color: #143d6b; }
.cols .paid { flex: 3; }
.num { text-align: right; white-space: nowrap; }
.nowrap { white-space: nowrap; }
.meta th { width: 34%; color: #55606c; font-weight: normal; padding-left: 0; }
.meta td { font-weight: bold; }
.cols { display: flex; gap: 6mm; align-items: flex-start; }
.cols .kv { flex: 3; }
.cols .slots { flex: 2; }
.kv th { font-weight: normal; }
.kv tr.sub th { padding-left: 7mm; color: #55606c; }
.kv tr.sub td { color: #55606c; }
.kv td { text-align: right; white-space: nowrap; font-weight: bold; }
.note { background: #fff7e0; border-left: 1mm solid #e0a800; padding: 2mm 3mm; margin: 2mm 0; }
.status { color: #55606c; font-style: italic; }
.breached { color: #b3261e; font-weight: bold; }
.total-line { font-size: 12pt; }
svg.chart { display: block; width: 100%; height: auto; }
footer { margin-top: 8mm; color: #8a96a3; font-size: 8pt; }
@media print { body { max-width: none; } h2 { break-after: avoid; } }
)";

constexpr int kChartWidth = 720, kChartHeight = 300;
constexpr int kPlotLeft = 60, kPlotRight = 704, kPlotTop = 36, kPlotBottom = 250;
constexpr int kBarsPerGroup = 4, kBarWidthMax = 40;
static_assert(kPlotRight - kPlotLeft >= int(kStatementMonthsBackMax) * (kBarsPerGroup + 2),
              "every bar of the widest chart is at least one unit wide");

constexpr const char* kColorIncluded = "#c5d3e3";
constexpr const char* kColorUsed = "#2f6db5";
constexpr const char* kColorOverage = "#d0453b";
constexpr const char* kColorCarried = "#3f9b4f";
constexpr const char* kColorExpired = "#9aa3ad";

// Bars are clipped at this many minutes (about 1.9 million years of work), which keeps every
// product below in int64 range: value * plot height < 2^63.
constexpr int64_t kChartMinutesMax = 1'000'000'000'000;
static_assert(kChartMinutesMax * 10 * (kPlotBottom - kPlotTop) < INT64_MAX / 2);

// The smallest axis maximum (minutes) of at most 5 steps of 1/2/5 × 10^k hours covering
// max_minutes (clipped to kChartMinutesMax); *step_minutes receives the step. At least an hour.
int64_t AxisMax(int64_t max_minutes, int64_t* step_minutes) {
  constexpr int64_t kStepsMax = 5;
  max_minutes = std::clamp<int64_t>(max_minutes, 0, kChartMinutesMax);
  int64_t step_hours = 1;
  // The step grows at least ×2 a round; 40 rounds pass 10^12 minutes, so the bound holds.
  for (int round = 0; round < 40 && max_minutes > step_hours * 60 * kStepsMax; ++round) {
    int64_t decade = 1;
    while (step_hours / decade >= 10) decade *= 10;
    const int64_t lead = step_hours / decade;  // 1, 2 or 5
    step_hours = (lead == 1 ? 2 : lead == 2 ? 5 : 10) * decade;
  }
  *step_minutes = step_hours * 60;
  const int64_t steps = std::max<int64_t>(1, (max_minutes + *step_minutes - 1) / *step_minutes);
  return steps * *step_minutes;
}

void AppendRect(std::string& out, int x, int y, int w, int h, const char* fill,
                const std::string& cls, const std::string& title) {
  out += fmt::format(
      R"(<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>)",
      cls, x, y, w, h, fill, Esc(title));
  out += '\n';
}

void AppendChartLegend(std::string& out, const Labels& l) {
  const std::pair<const char*, const char*> legend[] = {{kColorIncluded, l.short_included},
                                                        {kColorUsed, l.short_used},
                                                        {kColorOverage, l.short_overage},
                                                        {kColorCarried, l.short_carried},
                                                        {kColorExpired, l.short_expired}};
  out += "<g class=\"legend\" font-size=\"10\">\n";
  int lx = kPlotLeft;
  for (const auto& [color, label] : legend) {
    out += fmt::format(
        R"(<rect x="{}" y="6" width="12" height="12" fill="{}"/><text x="{}" y="16">{}</text>)", lx,
        color, lx + 16, Esc(label));
    out += '\n';
    lx += 130;
  }
  out += "</g>\n";
}

// The vertical scale of the chart: minutes to a y coordinate (integers only).
struct ChartScale {
  int64_t axis_max = 0;
  int64_t step = 60;
  int y_of(int64_t minutes) const {
    const int64_t v = std::clamp<int64_t>(minutes, 0, axis_max);
    return kPlotBottom - int(v * (kPlotBottom - kPlotTop) / axis_max);
  }
};

void AppendChartAxes(std::string& out, const Content& c, const ChartScale& scale) {
  out += "<g class=\"axis\" font-size=\"10\" fill=\"#55606c\">\n";
  for (int64_t v = 0; v <= scale.axis_max; v += scale.step) {
    const int y = scale.y_of(v);
    out += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>)",
                       kPlotLeft, y, kPlotRight, y, v == 0 ? "#55606c" : "#e1e7ee");
    out += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", kPlotLeft - 6, y + 4,
                       Esc(Duration(v, c.lang)));
    out += '\n';
  }
  out += fmt::format(
      R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#55606c" stroke-width="1"/>)", kPlotLeft,
      kPlotTop, kPlotBottom);
  out += fmt::format(
      "\n<text x=\"14\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 "
      "{0})\">{1}</text>\n",
      (kPlotTop + kPlotBottom) / 2, Esc(c.l->hours_axis));
  out += "</g>\n";
}

// Month i of n: its four bars (included, used with overage on top, carried, expired) and labels.
void AppendChartMonth(std::string& out, const Content& c, const ChartScale& scale, int i, int n) {
  const Labels& l = *c.l;
  const int gw = (kPlotRight - kPlotLeft) / n;
  const int pad = std::max(1, gw / 10);
  const int bw = std::min(kBarWidthMax, (gw - 2 * pad) / kBarsPerGroup);
  const int offset = (gw - bw * kBarsPerGroup) / 2;
  const int font = n > 12 ? 9 : 11;
  const ChartMonth& m = c.chart[size_t(i)];
  const int x0 = kPlotLeft + i * gw;
  const int bx = x0 + offset;
  const std::string name = MonthName(m.month, c.lang);
  out += fmt::format("<g class=\"month\" data-month=\"{}\">\n", FormatMonth(m.month));
  auto bar = [&](int slot, int64_t from, int64_t to, const char* fill, const char* cls,
                 const char* label, int64_t value) {
    const int top = scale.y_of(to), bottom = scale.y_of(from);
    AppendRect(out, bx + slot * bw, top, bw, bottom - top, fill, cls,
               fmt::format("{}: {} — {}", name, label, Duration(value, c.lang)));
  };
  const int64_t within = std::max<int64_t>(m.used_minutes - m.overage_minutes, 0);
  bar(0, 0, m.included_minutes, kColorIncluded, "included", l.short_included, m.included_minutes);
  bar(1, 0, within, kColorUsed, "used", l.short_used, m.used_minutes);
  bar(1, within, within + m.overage_minutes, kColorOverage, "overage", l.short_overage,
      m.overage_minutes);
  bar(2, 0, m.carried_minutes, kColorCarried, "carried", l.short_carried, m.carried_minutes);
  bar(3, 0, m.expired_minutes, kColorExpired, "expired", l.short_expired, m.expired_minutes);
  const int cx = x0 + gw / 2;
  out += fmt::format(
      R"(<text x="{}" y="{}" font-size="{}" text-anchor="middle" fill="#1d2733">{}</text>)", cx,
      kPlotBottom + 16, font, Esc(MonthShort(m.month, c.lang)));
  out += fmt::format(
      R"(<text x="{}" y="{}" font-size="{}" text-anchor="middle" fill="#55606c">{}</text>)", cx,
      kPlotBottom + 30, font - 1, m.month / 100);
  out += "\n</g>\n";
}

std::string ChartSvg(const Content& c) {
  std::string out;
  out += fmt::format(
      R"(<svg class="chart" viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-labelledby="chart-title">)",
      kChartWidth, kChartHeight);
  out += fmt::format("\n<title id=\"chart-title\">{}</title>\n", Esc(c.chart_title));
  AppendChartLegend(out, *c.l);
  int64_t max_minutes = 0;
  for (const ChartMonth& m : c.chart)
    max_minutes = std::max(
        {max_minutes, m.included_minutes, m.used_minutes, m.carried_minutes, m.expired_minutes});
  ChartScale scale;
  scale.axis_max = AxisMax(max_minutes, &scale.step);
  AppendChartAxes(out, c, scale);
  const int n = int(c.chart.size());
  for (int i = 0; i < n; ++i) AppendChartMonth(out, c, scale, i, n);
  out += "</svg>\n";
  return out;
}

std::string Td(const std::string& text, const char* cls = nullptr) {
  if (cls) return fmt::format("<td class=\"{}\">{}</td>", cls, Esc(text));
  return "<td>" + Esc(text) + "</td>";
}
std::string Th(const std::string& text, const char* cls = nullptr) {
  if (cls) return fmt::format("<th class=\"{}\">{}</th>", cls, Esc(text));
  return "<th>" + Esc(text) + "</th>";
}

std::string HtmlHead(const Content& c) {
  std::string out;
  out += "<!DOCTYPE html>\n";
  out += fmt::format("<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\"/>\n", c.l->html_lang);
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  out += fmt::format("<title>{} — {}</title>\n", Esc(c.title), Esc(c.client_name));
  out += "<style>";
  out += kCss;
  out += "</style>\n</head>\n<body>\n";
  out += "<header class=\"keep\">\n";
  out += fmt::format("<h1>{}</h1>\n<table class=\"meta\">\n", Esc(c.title));
  for (const Field& f : c.header)
    out += fmt::format("<tr><th>{}</th><td id=\"meta-{}\">{}</td></tr>\n", Esc(f.label), f.key,
                       Esc(f.value));
  out += "</table>\n";
  for (const std::string& n : c.notes) out += "<p class=\"note\">" + Esc(n) + "</p>\n";
  out += "</header>\n";
  return out;
}

std::string HtmlGlance(const Content& c) {
  const Labels& l = *c.l;
  std::string out =
      "<section class=\"glance keep\">\n<h2>" + Esc(l.glance) + "</h2>\n<div class=\"cols\">\n";
  if (c.hours) {
    out += "<table class=\"kv\">\n";
    for (const Field& f : c.glance)
      out += fmt::format("<tr{}><th>{}</th><td id=\"glance-{}\">{}</td></tr>\n",
                         f.sub ? " class=\"sub\"" : "", Esc(f.label), f.key, Esc(f.value));
    out += "</table>\n";
  } else {
    out += "<p class=\"kv status\">" + Esc(l.no_hours) + "</p>\n";
  }
  if (!c.pools.empty()) {
    out += "<table class=\"grid slots\">\n<thead><tr>" + Th(l.slots) + Th(l.quota, "num") +
           Th(l.used, "num") + Th(l.left, "num") + "</tr></thead>\n<tbody>\n";
    for (const PoolRow& p : c.pools)
      out += fmt::format("<tr data-pool=\"{}\">{}{}{}{}</tr>\n", Esc(p.pool), Td(p.pool),
                         Td(std::to_string(p.quota), "num"), Td(std::to_string(p.used), "num"),
                         Td(std::to_string(p.left), "num"));
    out += "</tbody>\n</table>\n";
  }
  return out + "</div>\n</section>\n";
}

// A work table (counted work, work awaiting acceptance). Fixed layout with set column widths
// so that it stays within the page whatever the text in it: long words wrap (CSS
// overflow-wrap), they never widen a column.
std::string HtmlWorkTable(const Content& c, const std::vector<WorkRow>& rows, const char* id,
                          bool total) {
  const Labels& l = *c.l;
  std::string out = fmt::format("<table class=\"grid work\" id=\"{}\">\n", id);
  out +=
      "<colgroup><col class=\"w-when\"/><col class=\"w-who\"/><col class=\"w-task\"/><col "
      "class=\"w-kind\"/>"
      "<col class=\"w-amount\"/><col class=\"w-paid\"/><col class=\"w-billed\"/></colgroup>\n";
  out += "<thead><tr>" + Th(l.when) + Th(l.who) + Th(l.task) + Th(l.kind) + Th(l.amount, "num") +
         Th(l.paid_by) + Th(l.billed, "num") + "</tr></thead>\n<tbody>\n";
  for (const WorkRow& r : rows) {
    std::string task = Esc(r.task);
    if (!r.flags.empty()) task += "<br/><small>" + Esc(r.flags) + "</small>";
    if (!r.note.empty()) task += "<br/><small>" + Esc(l.notes) + ": " + Esc(r.note) + "</small>";
    out += fmt::format("<tr{}>{}{}<td>{}</td>{}{}{}{}</tr>\n", r.voided ? " class=\"voided\"" : "",
                       Td(r.when), Td(r.who), task, Td(r.kind), Td(r.amount, "num"), Td(r.paid_by),
                       Td(r.billed, "num"));
  }
  out += "</tbody>\n";
  if (total)
    out += "<tfoot><tr>" + Th(l.work_total) + "<td colspan=\"3\"></td>" +
           Td(c.work_total_amount, "num") + "<td></td>" + Td(c.work_total_billed, "num") +
           "</tr></tfoot>\n";
  return out + "</table>\n";
}

std::string HtmlWork(const Content& c) {
  const Labels& l = *c.l;
  std::string out = "<section class=\"work\">\n<h2>" + Esc(l.work) + "</h2>\n";
  if (c.work.empty())
    out += "<p class=\"status\">" + Esc(c.work_note) + "</p>\n";
  else
    out += HtmlWorkTable(c, c.work, "work", true);
  out += "</section>\n";
  if (c.acceptance) {
    out += "<section class=\"awaiting\" id=\"awaiting\">\n<h2>" + Esc(l.awaiting_title) + "</h2>\n";
    if (c.awaiting.empty())
      out += "<p class=\"status\">" + Esc(l.awaiting_none) + "</p>\n";
    else
      out += HtmlWorkTable(c, c.awaiting, "awaiting-work", false);
    out += "</section>\n";
  }
  return out;
}

std::string HtmlInvoice(const Content& c) {
  const Labels& l = *c.l;
  std::string out = "<section class=\"invoice keep\">\n<h2>" + Esc(l.invoice) + " — " +
                    Esc(c.month_name) + "</h2>\n";
  out += "<p class=\"status\" id=\"invoice-status\">" + Esc(c.invoice_status) + "</p>\n";
  out += "<table class=\"grid\" id=\"invoice\">\n<thead><tr>" + Th(l.item) + Th(l.description) +
         Th(l.quantity, "num") + Th(l.price, "num") + Th(l.sum, "num") + "</tr></thead>\n<tbody>\n";
  if (c.invoice.empty())
    out += "<tr><td colspan=\"5\" class=\"status\">" + Esc(l.no_lines) + "</td></tr>\n";
  for (const InvoiceRow& r : c.invoice)
    out += fmt::format("<tr data-code=\"{}\">{}{}{}{}{}</tr>\n", Esc(r.code), Td(r.item),
                       Td(r.description), Td(r.quantity, "num"), Td(r.price, "num"),
                       Td(r.amount, "num"));
  out += "</tbody>\n<tfoot><tr class=\"total-line\"><th colspan=\"4\">" + Esc(l.total) +
         "</th><td class=\"num\" id=\"invoice-total\">" + Esc(c.invoice_total) +
         "</td></tr></tfoot>\n</table>\n";
  return out + "</section>\n";
}

std::string HtmlMoney(const Content& c) {
  const Labels& l = *c.l;
  std::string out =
      "<section class=\"payments keep\" id=\"payments\">\n<h2>" + Esc(l.payments) + "</h2>\n";
  out += "<div class=\"cols\">\n<table class=\"kv\">\n";
  for (const Field& f : c.money)
    out += fmt::format("<tr><th>{}</th><td id=\"money-{}\">{}</td></tr>\n", Esc(f.label), f.key,
                       Esc(f.value));
  out += "</table>\n<div class=\"paid\">\n<h3>" + Esc(c.payments_title) + "</h3>\n";
  if (c.payments.empty()) {
    out += "<p class=\"status\">" + Esc(l.no_payments) + "</p>\n";
  } else {
    out += "<table class=\"grid\" id=\"payment-list\">\n<thead><tr>" + Th(l.payment_date) +
           Th(l.payment_ref) + Th(l.sum, "num") + "</tr></thead>\n<tbody>\n";
    for (const PaymentRow& p : c.payments)
      out += "<tr>" + Td(p.date) + Td(p.ref) + Td(p.amount, "num") + "</tr>\n";
    out += "</tbody>\n<tfoot><tr>" + Th(l.work_total) + "<td></td>" + Td(c.payments_total, "num") +
           "</tr></tfoot>\n</table>\n";
  }
  out += "</div>\n</div>\n";
  if (c.blocked) out += "<p class=\"note\" id=\"blocked\">" + Esc(l.blocked) + "</p>\n";
  return out + "</section>\n";
}

std::string HtmlSla(const Content& c) {
  const Labels& l = *c.l;
  if (!c.has_sla) return "";
  std::string out = "<section class=\"sla keep\">\n<h2>" + Esc(l.sla) + "</h2>\n";
  out += "<p id=\"sla-summary\">" + Esc(c.sla_summary) + "</p>\n";
  if (c.sla.empty()) {
    out += "<p class=\"status\">" + Esc(l.sla_none) + "</p>\n";
  } else {
    out += "<table class=\"grid\" id=\"sla\">\n<thead><tr>" + Th(l.sla_incident) +
           Th(l.sla_priority) + Th(l.sla_opened) + Th(l.sla_reaction) + Th(l.sla_resolution) +
           Th(l.sla_status) + "</tr></thead>\n<tbody>\n";
    for (const SlaRow& r : c.sla)
      out += "<tr>" + Td(r.id) + Td(r.priority) + Td(r.opened, "nowrap") + Td(r.reaction) +
             Td(r.resolution) + Td(r.status, r.breached ? "breached" : nullptr) + "</tr>\n";
    out += "</tbody>\n</table>\n";
  }
  return out + "</section>\n";
}

std::string HtmlForecast(const Content& c) {
  if (!c.forecast) return "";
  const ForecastLines& f = *c.forecast;
  std::string out = "<section class=\"forecast keep\" id=\"forecast\">\n<h2>" +
                    Esc(c.forecast_title) + "</h2>\n<p id=\"forecast-rate\">" + Esc(f.rate) +
                    "</p>\n";
  out += "<table class=\"grid\" id=\"forecast-buckets\">\n<thead><tr>" + Th(f.bucket) +
         Th(f.left, "num") + Th(f.runs_out) + "</tr></thead>\n<tbody>\n";
  for (const ForecastLines::Row& r : f.rows)
    out += fmt::format("<tr id=\"forecast-{}\">{}{}{}</tr>\n", Esc(r.key), Td(r.bucket),
                       Td(r.left, "num"), Td(r.runs_out));
  out += "</tbody>\n</table>\n";
  if (!f.overage.empty()) out += "<p id=\"forecast-overage\">" + Esc(f.overage) + "</p>\n";
  return out + "</section>\n";
}

std::string RenderHtml(const Content& c) {
  std::string out = HtmlHead(c) + HtmlGlance(c);
  out += "<section class=\"history keep\">\n<h2>" + Esc(c.chart_title) + "</h2>\n" + ChartSvg(c) +
         "</section>\n";
  out += HtmlWork(c) + HtmlInvoice(c) + HtmlMoney(c) + HtmlSla(c) + HtmlForecast(c);
  out += "<footer>" + Esc(c.footer) + "</footer>\n</body>\n</html>\n";
  return out;
}

// ---------------------------------------------------------------------------------------
// Plain text

constexpr size_t kTextWidthMax = 100;

struct TextColumn {
  size_t width;
  bool right;
};

// One row of cells laid out in columns two spaces apart, trailing spaces trimmed.
std::string Row(const std::vector<TextColumn>& cols, const std::vector<std::string>& cells) {
  assert(cols.size() == cells.size());
  std::string line;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) line += "  ";
    line += PadToWidth(CutToWidth(cells[i], cols[i].width), cols[i].width,
                       cols[i].right ? Align::kRight : Align::kLeft);
  }
  TrimRight(line);
  return line + "\n";
}

std::string Rule(const std::vector<TextColumn>& cols) {
  size_t w = 0;
  for (const TextColumn& c : cols) w += c.width;
  w += 2 * (cols.size() - 1);
  std::string line;
  for (size_t i = 0; i < w; ++i) line += "\xE2\x94\x80";  // ─
  return line + "\n";
}

std::string Heading(const std::string& text) {
  const std::string cut = CutToWidth(text, kTextWidthMax);
  std::string line = cut + "\n";
  for (size_t i = 0; i < DisplayWidth(cut); ++i) line += "=";
  return line + "\n";
}

// A "label: value" line cut to the page width.
std::string Line(const std::string& text) { return CutToWidth(text, kTextWidthMax) + "\n"; }

std::string TextGlance(const Content& c) {
  const Labels& l = *c.l;
  std::string out = "\n" + Heading(l.glance);
  if (c.hours) {
    const std::vector<TextColumn> kv = {{44, false}, {20, true}};
    for (const Field& f : c.glance) out += Row(kv, {(f.sub ? "    " : "") + f.label, f.value});
  } else {
    out += Line(l.no_hours);
  }
  if (!c.pools.empty()) {
    out += "\n";
    const std::vector<TextColumn> cols = {{36, false}, {10, true}, {12, true}, {10, true}};
    out += Row(cols, {l.slots, l.quota, l.used, l.left});
    out += Rule(cols);
    for (const PoolRow& p : c.pools)
      out += Row(cols,
                 {p.pool, std::to_string(p.quota), std::to_string(p.used), std::to_string(p.left)});
  }
  return out;
}

std::string TextChart(const Content& c) {
  const Labels& l = *c.l;
  std::string out = "\n" + Heading(c.chart_title);
  const std::vector<TextColumn> cols = {{16, false}, {14, true}, {14, true},
                                        {14, true},  {14, true}, {14, true}};
  out += Row(cols, {l.chart_short, l.short_included, l.short_used, l.short_overage, l.short_carried,
                    l.short_expired});
  out += Rule(cols);
  for (const ChartMonth& m : c.chart)
    out += Row(cols, {MonthName(m.month, c.lang), Duration(m.included_minutes, c.lang),
                      Duration(m.used_minutes, c.lang), Duration(m.overage_minutes, c.lang),
                      Duration(m.carried_minutes, c.lang), Duration(m.expired_minutes, c.lang)});
  return out;
}

// Work rows: one line of columns, then what paid (and flags, note) indented below.
std::string TextWorkRows(const Content& c, const std::vector<WorkRow>& rows,
                         const std::vector<TextColumn>& cols) {
  const Labels& l = *c.l;
  std::string out;
  for (const WorkRow& r : rows) {
    out += Row(cols, {r.when, r.who, r.task, r.kind, r.amount, r.billed});
    std::string detail = std::string("    ") + l.paid_by + ": " + r.paid_by;
    if (!r.flags.empty()) detail += "; " + r.flags;
    if (r.voided) detail += std::string("; ") + l.voided;
    out += Line(detail);
    if (!r.note.empty()) out += Line(std::string("    ") + l.notes + ": " + r.note);
  }
  return out;
}

std::string TextWork(const Content& c) {
  const Labels& l = *c.l;
  const std::vector<TextColumn> cols = {{16, false}, {12, false}, {17, false},
                                        {19, false}, {12, true},  {14, true}};
  std::string out = "\n" + Heading(l.work);
  if (c.work.empty()) {
    out += Line(c.work_note);
  } else {
    out += Row(cols, {l.when, l.who, l.task, l.kind, l.amount, l.billed});
    out += Rule(cols);
    out += TextWorkRows(c, c.work, cols);
    out += Rule(cols);
    out += Row(cols, {l.work_total, "", "", "", c.work_total_amount, c.work_total_billed});
  }
  if (c.acceptance) {
    out += "\n" + Heading(l.awaiting_title);
    if (c.awaiting.empty()) {
      out += Line(l.awaiting_none);
    } else {
      out += Row(cols, {l.when, l.who, l.task, l.kind, l.amount, l.billed});
      out += Rule(cols);
      out += TextWorkRows(c, c.awaiting, cols);
    }
  }
  return out;
}

std::string TextInvoice(const Content& c) {
  const Labels& l = *c.l;
  std::string out = "\n" + Heading(std::string(l.invoice) + " — " + c.month_name);
  out += Line(c.invoice_status);
  const std::vector<TextColumn> cols = {
      {20, false}, {30, false}, {10, true}, {16, true}, {16, true}};
  out += Row(cols, {l.item, l.description, l.quantity, l.price, l.sum});
  out += Rule(cols);
  if (c.invoice.empty()) out += Line(l.no_lines);
  for (const InvoiceRow& r : c.invoice)
    out += Row(cols, {r.item, r.description, r.quantity, r.price, r.amount});
  out += Rule(cols);
  out += Row(cols, {l.total, "", "", "", c.invoice_total});
  return out;
}

std::string TextMoney(const Content& c) {
  const Labels& l = *c.l;
  std::string out = "\n" + Heading(l.payments);
  const std::vector<TextColumn> kv = {{44, false}, {20, true}};
  for (const Field& f : c.money) out += Row(kv, {f.label, f.value});
  if (c.blocked) out += Line(std::string("! ") + l.blocked);
  out += "\n" + Line(c.payments_title + ":");
  if (c.payments.empty()) return out + Line(l.no_payments);
  const std::vector<TextColumn> cols = {{16, false}, {44, false}, {20, true}};
  out += Row(cols, {l.payment_date, l.payment_ref, l.sum});
  out += Rule(cols);
  for (const PaymentRow& p : c.payments) out += Row(cols, {p.date, p.ref, p.amount});
  out += Rule(cols);
  return out + Row(cols, {l.work_total, "", c.payments_total});
}

std::string TextSla(const Content& c) {
  const Labels& l = *c.l;
  if (!c.has_sla) return "";
  std::string out = "\n" + Heading(l.sla);
  out += Line(c.sla_summary);
  if (c.sla.empty()) return out + Line(l.sla_none);
  const std::vector<TextColumn> cols = {{14, false}, {4, false},  {16, false},
                                        {22, false}, {22, false}, {10, false}};
  out +=
      Row(cols, {l.sla_incident, "", l.sla_opened, l.sla_reaction, l.sla_resolution, l.sla_status});
  out += Rule(cols);
  for (const SlaRow& r : c.sla)
    out += Row(cols, {r.id, r.priority, r.opened, r.reaction, r.resolution, r.status});
  return out;
}

std::string TextForecast(const Content& c) {
  if (!c.forecast) return "";
  const ForecastLines& f = *c.forecast;
  std::string out = "\n" + Heading(c.forecast_title) + Line(f.rate);
  const std::vector<TextColumn> cols = {{30, false}, {20, true}, {20, false}};
  out += Row(cols, {f.bucket, f.left, f.runs_out});
  out += Rule(cols);
  for (const ForecastLines::Row& r : f.rows) out += Row(cols, {r.bucket, r.left, r.runs_out});
  if (!f.overage.empty()) out += Line(f.overage);
  return out;
}

std::string RenderText(const Content& c) {
  std::string out = Heading(c.title);
  const std::vector<TextColumn> meta = {{24, false}, {kTextWidthMax - 26, false}};
  for (const Field& f : c.header) out += Row(meta, {f.label + ":", f.value});
  for (const std::string& n : c.notes) out += Line("! " + n);
  out += TextGlance(c) + TextChart(c) + TextWork(c) + TextInvoice(c) + TextMoney(c) + TextSla(c) +
         TextForecast(c);
  return out + "\n" + Line(c.footer);
}

}  // namespace

std::string RenderStatementHtml(const ClientState& state, const StatementOptions& options) {
  return RenderHtml(Build(state, options));
}

std::string RenderStatementText(const ClientState& state, const StatementOptions& options) {
  return RenderText(Build(state, options));
}

std::string HtmlEscape(std::string_view text) { return Esc(text); }

}  // namespace hourbank::reports
