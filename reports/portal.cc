// The client portal page (portal.h). Build order: the balance JSON (the API's own figures),
// then one function per section, each returning its HTML; RenderPortalHtml joins them.
//
// Chart geometry (SVG user units, integers): viewBox 0 0 640 (24 + 34 n); one bar per bucket,
// label at x 0, bar from x 180, width = minutes * 400 / max (max >= 1), value text after it.
#include "reports/portal.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "projections/units.h"
#include "reports/figures.h"
#include "reports/json.h"
#include "reports/statement.h"

namespace hourbank::reports {

using nlohmann::json;
using projections::ClientState;
using projections::Entry;

namespace {

struct PortalLabels {
  const char *lang, *title, *client, *plan, *month, *prepared, *hours, *bucket, *left, *allowance,
      *included, *reserve, *blocks, *used, *overage, *blocks_title, *block, *last_day, *runs_out,
      *no_blocks, *slots, *pool, *quota, *work, *when, *task, *kind, *amount, *paid_by, *billed,
      *no_work, *forecast, *no_forecast, *money, *invoice_so_far, *outstanding, *blocked,
      *statements, *no_statements, *refused, *never;
};

const PortalLabels kEn = {"en",
                          "Client portal",
                          "Client",
                          "Plan",
                          "Month",
                          "Prepared",
                          "Hours left",
                          "Bucket",
                          "Left",
                          "Allowance",
                          "Included this month",
                          "Reserve",
                          "Prepaid blocks",
                          "Used this month",
                          "Overage this month",
                          "Blocks and their expiry",
                          "Block #{}",
                          "Usable until",
                          "Runs out (forecast)",
                          "No prepaid blocks.",
                          "Slots",
                          "Slot",
                          "Quota",
                          "This month's work",
                          "When",
                          "Task",
                          "Kind",
                          "Amount",
                          "Paid by",
                          "Billed",
                          "No work this month yet.",
                          "Forecast",
                          "No forecast: no contract this month.",
                          "Money",
                          "Invoice so far this month",
                          "Outstanding (closed months)",
                          "Service is blocked for debt.",
                          "Statements",
                          "No statements yet.",
                          "Not available",
                          "no limit"};

const PortalLabels kRu = {"ru",
                          "Личный кабинет",
                          "Клиент",
                          "Тариф",
                          "Месяц",
                          "Подготовлено",
                          "Остаток часов",
                          "Остаток",
                          "Осталось",
                          "Часы тарифа",
                          "Включено в этом месяце",
                          "Резерв",
                          "Пакеты часов",
                          "Использовано в этом месяце",
                          "Сверх тарифа в этом месяце",
                          "Пакеты часов и их сроки",
                          "Пакет №{}",
                          "Действует до",
                          "Закончится (прогноз)",
                          "Пакетов часов нет.",
                          "Слоты",
                          "Слот",
                          "Квота",
                          "Работы в этом месяце",
                          "Когда",
                          "Задача",
                          "Вид",
                          "Объём",
                          "Чем оплачено",
                          "Счёт",
                          "В этом месяце работ пока нет.",
                          "Прогноз",
                          "Прогноза нет: в этом месяце нет договора.",
                          "Деньги",
                          "Счёт за этот месяц на сегодня",
                          "Задолженность (закрытые месяцы)",
                          "Обслуживание приостановлено из-за задолженности.",
                          "Выписки",
                          "Выписок пока нет.",
                          "Недоступно",
                          "без срока"};

constexpr const char* kCss = R"(
body { margin: 0 auto; max-width: 960px; padding: 16px; color: #1d2733; background: #ffffff;
  font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
h1 { font-size: 24px; margin: 0 0 8px 0; color: #143d6b; }
h2 { font-size: 18px; margin: 24px 0 8px 0; color: #143d6b; border-bottom: 2px solid #143d6b; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 4px 8px; text-align: left; vertical-align: top; }
.grid th { background: #e8eef5; border-bottom: 1px solid #9fb3c8; }
.grid td { border-bottom: 1px solid #dde4ec; overflow-wrap: anywhere; }
.num { text-align: right; white-space: nowrap; }
.meta th { width: 30%; color: #55606c; font-weight: normal; }
.status { color: #55606c; }
.note { color: #a12c2c; font-weight: bold; }
.voided td { color: #8a96a3; text-decoration: line-through; }
ul.links { columns: 4; padding-left: 20px; }
)";

const PortalLabels& L(Lang lang) { return lang == Lang::kRu ? kRu : kEn; }

struct Page {
  const ClientState& s;
  const PortalOptions& o;
  Lang lang;
  const PortalLabels& l;
  json balance;
  uint32_t month;
  std::string dur(int64_t minutes) const { return Duration(minutes, lang); }
  std::string money(int64_t minor) const { return projections::FormatMoney(minor, s.currency()); }
};

std::string E(std::string_view text) { return HtmlEscape(text); }

// A cell with a figure of the balance API: its key and number as attributes, the text for people.
std::string FigureTd(const std::string& key, int64_t value, const std::string& text) {
  return fmt::format("<td class=\"num\" data-figure=\"{}\" data-value=\"{}\">{}</td>", E(key),
                     value, E(text));
}

std::string Head(const Page& p) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
      "<title>{} — {}</title>\n<style>{}</style>\n</head>\n<body>\n",
      p.l.lang, E(p.l.title), E(p.s.name()), kCss);
  out += fmt::format("<header>\n<h1>{} — {}</h1>\n<table class=\"meta\">\n", E(p.l.title),
                     E(p.s.name()));
  const auto* terms = p.s.TermsFor(p.month);
  const std::string plan = terms ? fmt::format("{} ({}, {} {})", terms->plan->name, terms->plan_id,
                                               LabelsFor(p.lang).version, terms->plan_version)
                                 : "—";
  const std::vector<std::pair<const char*, std::string>> rows = {
      {p.l.client, p.s.name() + " (" + p.s.id() + ")"},
      {p.l.plan, plan},
      {p.l.month, MonthName(p.month, p.lang)},
      {p.l.prepared, LocalDateTime(p.s.zone(), p.o.now_us)}};
  for (const auto& [label, value] : rows)
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", E(label), E(value));
  out += "</table>\n";
  if (p.balance.value("blocked", false))
    out += "<p class=\"note\" id=\"blocked\">" + E(p.l.blocked) + "</p>\n";
  return out + "</header>\n";
}

// Horizontal bars, one per bucket, scaled to the largest (integer widths).
std::string BarsSvg(const Page& p, const std::vector<std::pair<const char*, int64_t>>& bars) {
  int64_t max = 1;
  for (const auto& b : bars) max = std::max(max, b.second);
  const int height = 24 + 34 * int(bars.size());
  std::string out = fmt::format(
      "<svg id=\"hours-chart\" viewBox=\"0 0 640 {}\" "
      "width=\"640\" height=\"{}\" role=\"img\" aria-label=\"{}\">\n",
      height, height, E(p.l.hours));
  int y = 12;
  for (const auto& [label, minutes] : bars) {
    const int64_t clipped = std::clamp<int64_t>(minutes, 0, max);
    const int64_t w = clipped * 400 / max;
    out += fmt::format(
        "<text x=\"0\" y=\"{}\" font-size=\"14\">{}</text>"
        "<rect x=\"180\" y=\"{}\" width=\"{}\" height=\"22\" fill=\"#2f6fae\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"14\">{}</text>\n",
        y + 16, E(label), y, w, 186 + w, y + 16, E(p.dur(minutes)));
    y += 34;
  }
  return out + "</svg>\n";
}

std::string Hours(const Page& p) {
  const json& b = p.balance;
  const json& a = b["allowance"];
  const std::vector<std::tuple<const char*, const char*, int64_t>> rows = {
      {"allowance.left_minutes", p.l.allowance, a.value("left_minutes", int64_t(0))},
      {"allowance.included_minutes", p.l.included, a.value("included_minutes", int64_t(0))},
      {"reserve_minutes", p.l.reserve, b.value("reserve_minutes", int64_t(0))},
      {"prepaid_minutes", p.l.blocks, b.value("prepaid_minutes", int64_t(0))},
      {"used_minutes", p.l.used, b.value("used_minutes", int64_t(0))},
      {"overage_minutes", p.l.overage, b.value("overage_minutes", int64_t(0))}};
  std::string out = "<section id=\"hours\">\n<h2>" + E(p.l.hours) + "</h2>\n";
  out += BarsSvg(p, {{p.l.allowance, std::get<2>(rows[0])},
                     {p.l.reserve, std::get<2>(rows[2])},
                     {p.l.blocks, std::get<2>(rows[3])}});
  out += "<table class=\"grid\">\n";
  for (const auto& [key, label, minutes] : rows)
    out += "<tr><th>" + E(label) + "</th>" + FigureTd(key, minutes, p.dur(minutes)) + "</tr>\n";
  return out + "</table>\n</section>\n";
}

std::string Blocks(const Page& p) {
  std::string out = "<section id=\"blocks\">\n<h2>" + E(p.l.blocks_title) + "</h2>\n";
  if (!p.o.forecast || p.o.forecast->blocks.empty())
    return out + "<p class=\"status\">" + E(p.l.no_blocks) + "</p>\n</section>\n";
  out += "<table class=\"grid\">\n<thead><tr><th>" + E(p.l.bucket) + "</th><th class=\"num\">" +
         E(p.l.left) + "</th><th>" + E(p.l.last_day) + "</th><th>" + E(p.l.runs_out) +
         "</th></tr></thead>\n<tbody>\n";
  for (const BlockForecast& k : p.o.forecast->blocks)
    out += fmt::format(
        "<tr id=\"block-{}\"><td>{}</td><td class=\"num\" data-value=\"{}\">{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        k.seq, E(fmt::format(fmt::runtime(p.l.block), k.seq)), k.left_minutes,
        E(p.dur(k.left_minutes)), E(k.last_day ? DayText(k.last_day) : p.l.never),
        E(k.runs_out_on ? DayText(k.runs_out_on) : "—"));
  return out + "</tbody>\n</table>\n</section>\n";
}

std::string Slots(const Page& p) {
  const json& slots = p.balance["slots"];
  if (!slots.is_object() || slots.empty()) return "";
  std::string out = "<section id=\"slots\">\n<h2>" + E(p.l.slots) + "</h2>\n";
  out += "<table class=\"grid\">\n<thead><tr><th>" + E(p.l.pool) + "</th><th class=\"num\">" +
         E(p.l.quota) + "</th><th class=\"num\">" + E(p.l.used) + "</th><th class=\"num\">" +
         E(p.l.left) + "</th></tr></thead>\n<tbody>\n";
  for (const auto& [pool, u] : slots.items()) {
    const int64_t quota = u.value("quota", int64_t(0)), used = u.value("used", int64_t(0)),
                  left = u.value("left", int64_t(0));
    out += "<tr><td>" + E(pool) + "</td>" +
           FigureTd("slots." + pool + ".quota", quota, std::to_string(quota)) +
           FigureTd("slots." + pool + ".used", used, std::to_string(used)) +
           FigureTd("slots." + pool + ".left", left, std::to_string(left)) + "</tr>\n";
  }
  return out + "</tbody>\n</table>\n</section>\n";
}

std::string WorkRow(const Page& p, const Entry& e) {
  const std::string amount =
      e.unit == projections::Unit::kHour ? p.dur(e.minutes) : fmt::format("× {}", e.count);
  const int64_t billed = BilledMinor(e);
  return fmt::format(
      "<tr{}><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td>"
      "<td class=\"num\">{}</td></tr>\n",
      e.voided ? " class=\"voided\"" : "", E(LocalDateTime(p.s.zone(), e.at_us)), E(e.task),
      E(e.kind), E(amount), E(PaidBy(e, p.lang)), E(billed ? p.money(billed) : "—"));
}

std::string Work(const Page& p) {
  std::string out = "<section id=\"work\">\n<h2>" + E(p.l.work) + "</h2>\n";
  const std::vector<Entry> entries = p.s.EntriesFor(p.month);
  if (entries.empty()) return out + "<p class=\"status\">" + E(p.l.no_work) + "</p>\n</section>\n";
  out += "<table class=\"grid\">\n<thead><tr><th>" + E(p.l.when) + "</th><th>" + E(p.l.task) +
         "</th><th>" + E(p.l.kind) + "</th><th class=\"num\">" + E(p.l.amount) + "</th><th>" +
         E(p.l.paid_by) + "</th><th class=\"num\">" + E(p.l.billed) +
         "</th></tr></thead>\n<tbody>\n";
  for (const Entry& e : entries) out += WorkRow(p, e);
  return out + "</tbody>\n</table>\n</section>\n";
}

std::string ForecastSection(const Page& p) {
  std::string out = "<section id=\"forecast\">\n<h2>" + E(p.l.forecast) + "</h2>\n";
  if (!p.o.forecast || !p.o.forecast->in_contract)
    return out + "<p class=\"status\">" + E(p.l.no_forecast) + "</p>\n</section>\n";
  const ForecastLines f = ForecastLinesOf(*p.o.forecast, p.lang);
  out += "<p id=\"forecast-rate\">" + E(f.rate) + "</p>\n<table class=\"grid\">\n<thead><tr><th>" +
         E(f.bucket) + "</th><th class=\"num\">" + E(f.left) + "</th><th>" + E(f.runs_out) +
         "</th></tr></thead>\n<tbody>\n";
  for (const ForecastLines::Row& r : f.rows)
    out +=
        fmt::format("<tr id=\"forecast-{}\"><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                    E(r.key), E(r.bucket), E(r.left), E(r.runs_out));
  out += "</tbody>\n</table>\n";
  if (!f.overage.empty()) out += "<p id=\"forecast-overage\">" + E(f.overage) + "</p>\n";
  return out + "</section>\n";
}

std::string Money(const Page& p) {
  const int64_t so_far = p.balance.value("invoice_so_far_minor", int64_t(0));
  const int64_t owed = p.balance.value("outstanding_minor", int64_t(0));
  return "<section id=\"money\">\n<h2>" + E(p.l.money) + "</h2>\n<table class=\"grid\">\n<tr><th>" +
         E(p.l.invoice_so_far) + "</th>" +
         FigureTd("invoice_so_far_minor", so_far, p.money(so_far)) + "</tr>\n<tr><th>" +
         E(p.l.outstanding) + "</th>" + FigureTd("outstanding_minor", owed, p.money(owed)) +
         "</tr>\n</table>\n</section>\n";
}

std::string Statements(const Page& p) {
  std::string out = "<section id=\"statements\">\n<h2>" + E(p.l.statements) + "</h2>\n";
  if (p.o.statement_months.empty())
    return out + "<p class=\"status\">" + E(p.l.no_statements) + "</p>\n</section>\n";
  out += "<ul class=\"links\">\n";
  for (uint32_t m : p.o.statement_months)
    out += fmt::format("<li><a href=\"{}\">{}</a></li>\n",
                       E(p.o.link_prefix + projections::FormatMonth(m)), E(MonthName(m, p.lang)));
  return out + "</ul>\n</section>\n";
}

}  // namespace

std::vector<uint32_t> PortalStatementMonths(const ClientState& state, int64_t now_us,
                                            uint32_t max) {
  std::vector<uint32_t> out;
  const uint32_t first = state.first_month();
  if (first == 0) return out;
  uint32_t m = state.zone().MonthOf(now_us);
  if (state.last_month() != 0 && m > state.last_month()) m = state.last_month();
  for (; m >= first && out.size() < max; m = projections::AddMonths(m, -1)) out.push_back(m);
  return out;
}

std::string RenderPortalHtml(const ClientState& state, const PortalOptions& options) {
  const Lang lang = LangFor(state.currency());
  const Page p{state,
               options,
               lang,
               L(lang),
               BalanceJson(state, options.now_us),
               state.zone().MonthOf(options.now_us)};
  return Head(p) + Hours(p) + Blocks(p) + Slots(p) + Work(p) + ForecastSection(p) + Money(p) +
         Statements(p) + "</body>\n</html>\n";
}

std::string RenderPortalError(unsigned status, const std::string& message, Lang lang) {
  const PortalLabels& l = L(lang);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<title>{} {}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{} — {}</h1>\n"
      "<p class=\"note\" id=\"refusal\" data-status=\"{}\">{}</p>\n</body>\n</html>\n",
      l.lang, status, E(l.refused), kCss, E(l.title), E(l.refused), status, E(message));
}

}  // namespace hourbank::reports
