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
#include "projections/statement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cassert>
#include <string_view>
#include <vector>

#include "projections/sla.h"
#include "projections/units.h"

namespace hourbank::projections {
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
      if (b == '\t' || b == '\n' || b == '\r') out += single_line ? ' ' : char(b);
      else if (b < 0x20 || b == 0x7F) AppendReplacement(out);
      else out += char(b);
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; }
    bool ok = len != 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const uint8_t c = static_cast<uint8_t>(in[i + k]);
      if ((c & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3F);
    }
    if (ok) {
      const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF ||
          (cp >= 0x80 && cp <= 0x9F))
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
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Display width of clean UTF-8: one column per code point (the statement's scripts, Latin and
// Cyrillic, and the currency signs are all one column wide).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<uint8_t>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// `s` cut to at most `width` columns, ending in "…" when cut. Precondition: clean UTF-8.
std::string Cut(std::string_view s, size_t width) {
  if (Width(s) <= width) return std::string(s);
  if (width == 0) return "";
  std::string out;
  size_t cols = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool lead = (static_cast<uint8_t>(s[i]) & 0xC0) != 0x80;
    if (lead && ++cols == width) break;
    out += s[i];
  }
  return out + "\xE2\x80\xA6";  // …
}

std::string Pad(std::string_view s, size_t width, bool right_align) {
  const std::string cut = Cut(s, width);
  const std::string fill(width - Width(cut), ' ');
  return right_align ? fill + cut : cut + fill;
}

void TrimRight(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

// ---------------------------------------------------------------------------------------
// Language

enum class Lang { kEn, kRu };

struct Labels {
  const char* html_lang;
  const char* title;            // "Statement for {month}"
  const char* client;
  const char* plan;
  const char* version;
  const char* month;
  const char* units;
  const char* term;
  const char* term_open;
  const char* term_months;      // "{} months"
  const char* zone;
  const char* prepared;
  const char* no_contract;
  const char* trial;
  const char* month_closed;
  const char* month_open;
  const char* glance;
  const char* included;
  const char* used;
  const char* used_allowance;
  const char* used_reserve;
  const char* used_blocks;
  const char* overage;
  const char* unlimited;
  const char* reserve_start;
  const char* carried;
  const char* expired;
  const char* reserve_end;
  const char* blocks_left;
  const char* slots;
  const char* pool;
  const char* quota;
  const char* left;
  const char* no_hours;
  const char* chart;            // "Hours, {first} – {last}"
  const char* chart_short;      // column title "Month"
  const char* short_included;   // chart legend and history columns
  const char* short_used;
  const char* short_overage;
  const char* short_carried;
  const char* short_expired;
  const char* hours_axis;
  const char* work;
  const char* when;
  const char* who;
  const char* task;
  const char* kind;
  const char* amount;
  const char* paid_by;
  const char* billed;
  const char* notes;
  const char* no_work;
  const char* work_not_kept;
  const char* work_total;
  const char* item_one;         // "{} item"
  const char* items;            // "{} items"
  const char* urgent;
  const char* off_hours;
  const char* emergency;
  const char* late;
  const char* voided;
  const char* awaiting;
  const char* surcharge;
  const char* invoice;
  const char* item;
  const char* description;
  const char* quantity;
  const char* price;
  const char* sum;
  const char* total;
  const char* invoice_closed;
  const char* invoice_open;
  const char* no_lines;
  const char* per_hour;
  const char* sla;
  const char* sla_incident;
  const char* sla_priority;
  const char* sla_opened;
  const char* sla_reaction;
  const char* sla_resolution;
  const char* sla_status;
  const char* sla_ok;
  const char* sla_breached;
  const char* sla_pending;
  const char* sla_none;
  const char* sla_summary;      // "{total} incidents, {breached} breached, compliance {pct}"
  const char* sla_target;       // "target"
  const char* footer;
  const char* month_names[12];
  const char* month_short[12];
};

constexpr Labels kEnglish = {
    "en", "Statement for {}", "Client", "Plan", "version", "Month", "Units under contract",
    "Contract", "from {}, open-ended", "from {}, {} months", "Time zone", "Prepared",
    "No contract covers this month.", "Trial month: no fee, no allowance; hours are billed at the rate.",
    "closed", "open (figures are projected until the month is closed)",
    "The hour bank at a glance", "Included this month", "Used", "from the allowance",
    "from the reserve", "from prepaid blocks", "Overage (billed)", "Unlimited hours",
    "Reserve at the start", "Carried over to the reserve", "Expired", "Reserve at the end",
    "Prepaid hours left", "Slots", "Pool", "Quota", "Left", "The plan counts no hours.",
    "Hours, {}", "Month", "Included", "Used", "Overage", "Carried over", "Expired", "hours", "Work report", "When", "Who", "Task", "Kind",
    "Time/count", "Paid by", "Billed", "Note", "No work counted in this month.",
    "Work details of closed months are not kept by this reader.", "Total",
    "{} item", "{} items", "urgent", "off-hours", "emergency", "late", "voided", "awaiting acceptance",
    "surcharge", "Invoice", "Item", "Description", "Qty", "Price", "Amount", "Total due",
    "closed", "projected: the month is still open", "No invoice lines.", "/h",
    "Service level (SLA)", "Incident", "Priority", "Opened", "Reaction", "Resolution", "Status",
    "met", "breached", "open", "No incidents opened in this month.",
    "{} incidents, {} breached, compliance {}", "target",
    "Prepared by hourbank. Figures in {}; hours are shown as hours and minutes.",
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"},
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
};

constexpr Labels kRussian = {
    "ru", "Отчёт за {}", "Клиент", "Тариф", "версия", "Месяц", "Единиц по договору",
    "Договор", "с {}, бессрочный", "с {}, {} мес.", "Часовой пояс", "Сформирован",
    "Этот месяц не покрыт договором.",
    "Пробный месяц: без абонентской платы и без пакета часов; часы оплачиваются по ставке.",
    "закрыт", "открыт (цифры предварительные до закрытия месяца)",
    "Банк часов — кратко", "Включено в тариф", "Использовано", "из тарифа", "из резерва",
    "из предоплаченных пакетов", "Сверх тарифа (к оплате)", "Безлимитные часы",
    "Резерв на начало", "Перенесено в резерв", "Сгорело", "Резерв на конец",
    "Остаток предоплаченных часов", "Слоты", "Пул", "Квота", "Осталось",
    "Тариф не учитывает часы.", "Часы: {}", "Месяц", "Включено", "Использовано", "Сверх тарифа", "Перенесено",
    "Сгорело", "часы",
    "Отчёт о работах", "Когда", "Исполнитель", "Задача", "Вид работ", "Время/кол-во",
    "Чем оплачено", "К оплате", "Комментарий", "В этом месяце работ не учтено.",
    "Подробности работ закрытых месяцев здесь не хранятся.", "Итого", "{} шт.", "{} шт.", "срочно",
    "вне рабочего времени", "авария", "поздняя запись", "аннулировано", "ожидает приёмки",
    "надбавка", "Счёт", "Позиция", "Описание", "Кол-во", "Цена", "Сумма", "Итого к оплате",
    "закрыт", "предварительный: месяц ещё открыт", "Строк нет.", "/ч",
    "Уровень сервиса (SLA)", "Обращение", "Приоритет", "Открыто", "Реакция", "Решение",
    "Статус", "в срок", "нарушено", "открыто", "В этом месяце обращений не было.",
    "обращений: {}, с нарушением: {}, соблюдение SLA {}", "норматив",
    "Сформировано hourbank. Суммы в {}; время в часах и минутах.",
    {"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
     "октябрь", "ноябрь", "декабрь"},
    {"янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"},
};

const Labels& LabelsFor(Lang lang) { return lang == Lang::kRu ? kRussian : kEnglish; }

std::string MonthName(uint32_t month, const Labels& l) {
  return fmt::format("{} {}", l.month_names[month % 100 - 1], month / 100);
}

// Durations: English as FormatMinutes ("12h30m"); Russian "12 ч 30 мин".
std::string Dur(int64_t minutes, Lang lang) {
  if (lang == Lang::kEn) return FormatMinutes(minutes);
  const bool negative = minutes < 0;
  const uint64_t magnitude = negative ? uint64_t{0} - uint64_t(minutes) : uint64_t(minutes);
  std::string out = negative ? "-" : "";
  const uint64_t hours = magnitude / 60, rest = magnitude % 60;
  if (hours > 0 || rest == 0) out += fmt::format("{} ч", hours);
  if (rest > 0) out += fmt::format("{}{} мин", hours > 0 ? " " : "", rest);
  return out;
}

// "2026-02-10 12:00" in the client's zone.
std::string LocalDateTime(const Zone& zone, int64_t utc_us) {
  const LocalTime t = zone.Local(utc_us);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", t.yyyymmdd / 10000, t.yyyymmdd / 100 % 100,
                     t.yyyymmdd % 100, t.minute_of_day / 60, t.minute_of_day % 60);
}

// Basis points as a percentage with two decimals: 9750 -> "97.50%".
std::string Percent(uint32_t basis_points) {
  return fmt::format("{}.{:02}%", basis_points / 100, basis_points % 100);
}

const char* LineLabel(const std::string& code, Lang lang) {
  struct Row { const char* code; const char* en; const char* ru; };
  static constexpr Row kRows[] = {
      {"fee", "Subscription fee", "Абонентская плата"},
      {"discount", "Discount", "Скидка"},
      {"overage", "Hours beyond the plan", "Часы сверх тарифа"},
      {"task", "One-off work", "Разовые работы"},
      {"surcharge", "Surcharge", "Надбавка"},
      {"addon", "Add-on", "Дополнительный пакет"},
      {"hours_block", "Prepaid hours", "Предоплаченные часы"},
      {"extra", "Extra", "Дополнительно"},
      {"penalty", "Penalty", "Штраф"},
      {"credit", "Credit", "Возврат"},
  };
  for (const Row& r : kRows)
    if (code == r.code) return lang == Lang::kRu ? r.ru : r.en;
  return nullptr;
}

const char* SourceLabel(Charge::Source source, Lang lang) {
  if (lang == Lang::kEn) return SourceName(source);
  switch (source) {
    case Charge::Source::kAllowance: return "тариф";
    case Charge::Source::kReserve: return "резерв";
    case Charge::Source::kBlock: return "пакет";
    case Charge::Source::kOverage: return "сверх тарифа";
    case Charge::Source::kUnlimited: return "безлимит";
    case Charge::Source::kSlot: return "слот";
    case Charge::Source::kAddonSlot: return "доп. слот";
    case Charge::Source::kOneOff: return "разово";
    case Charge::Source::kIncluded: return "включено";
  }
  return "?";
}

// What paid for an entry, in the statement's language: "тариф 1 ч, резерв 30 мин".
std::string PaidBy(const Entry& e, Lang lang) {
  const Labels& l = LabelsFor(lang);
  if (e.voided) return l.voided;
  if (e.month == 0) return l.awaiting;
  std::string out;
  for (const Charge& c : e.charges) {
    if (!out.empty()) out += ", ";
    out += SourceLabel(c.source, lang);
    if (c.source == Charge::Source::kBlock) out += fmt::format(" #{}", c.block_seq);
    if (!c.pool.empty()) out += " " + c.pool;
    if (e.unit == Unit::kHour) out += " " + Dur(c.minutes, lang);
    else if (e.count > 1) out += fmt::format(" ×{}", c.count);
    if (c.surcharge_minor > 0) out += std::string(" +") + l.surcharge;
  }
  return out.empty() ? "—" : out;
}

// ---------------------------------------------------------------------------------------
// Content: everything the statement shows, formatted once.

struct Field {
  std::string key;    // stable id ("carried"): HTML ids, tests
  std::string label;
  std::string value;
  bool sub = false;   // a breakdown of the row above
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

struct SlaRow {
  std::string id, priority, opened, reaction, resolution, status;
  bool breached = false;
};

struct Content {
  Lang lang = Lang::kEn;
  const Labels* l = &kEnglish;
  std::string currency;
  std::string title, client_name, client_id, month_name;
  std::vector<Field> header;
  std::vector<std::string> notes;
  bool hours = false;                // the plan counts hours: show the hour rows
  std::vector<Field> glance;
  std::vector<PoolRow> pools;
  std::vector<ChartMonth> chart;
  std::string chart_title;           // "Hours, October 2025 – February 2026"
  std::vector<WorkRow> work;
  std::string work_note;             // when there are no rows
  std::string work_total_amount, work_total_billed;
  std::vector<InvoiceRow> invoice;
  std::string invoice_total, invoice_status;
  bool has_sla = false;
  std::string sla_summary;
  std::vector<SlaRow> sla;
  std::string footer;
};

Content Build(const ClientState& state, const StatementOptions& options) {
  assert(ValidMonth(options.month));
  Content c;
  c.currency = state.currency();
  c.lang = state.currency() == "RUB" ? Lang::kRu : Lang::kEn;
  c.l = &LabelsFor(c.lang);
  const Labels& l = *c.l;
  const Lang lang = c.lang;
  const uint32_t month = options.month;
  auto money = [&](int64_t minor) { return FormatMoney(minor, state.currency()); };
  auto dur = [&](int64_t minutes) { return Dur(minutes, lang); };

  const MonthEval ev = state.Evaluate(month);
  const ContractTerms* terms = state.TermsFor(month);
  const PlanSpec* plan = terms ? terms->plan.get() : nullptr;

  // Header.
  c.client_name = CleanUtf8(state.name(), true);
  c.client_id = CleanUtf8(state.id(), true);
  c.month_name = MonthName(month, l);
  c.title = fmt::format(fmt::runtime(l.title), c.month_name);
  c.header.push_back({"client", l.client, c.client_name + " (" + c.client_id + ")", false});
  if (terms) {
    std::string plan_text = plan ? CleanUtf8(plan->name, true) : std::string();
    plan_text += fmt::format(" ({}, {} {})", CleanUtf8(terms->plan_id, true), l.version, terms->plan_version);
    c.header.push_back({"plan", l.plan, plan_text, false});
    const uint32_t first = state.first_month();
    const uint32_t last = state.last_month();
    c.header.push_back({"term", l.term,
                        last == 0 ? fmt::format(fmt::runtime(l.term_open), FormatMonth(first))
                                  : fmt::format(fmt::runtime(l.term_months), FormatMonth(first),
                                                MonthsBetween(first, last) + 1),
                        false});
  }
  c.header.push_back({"month", l.month, c.month_name + " — " + (ev.closed ? l.month_closed : l.month_open), false});
  if (const uint32_t units = state.UnitsFor(month); terms && units > 0)
    c.header.push_back({"units", l.units, std::to_string(units), false});
  c.header.push_back({"zone", l.zone, CleanUtf8(state.zone().name(), true), false});
  c.header.push_back({"prepared", l.prepared, LocalDateTime(state.zone(), options.now_us), false});
  if (!terms) c.notes.push_back(l.no_contract);
  if (ev.trial) c.notes.push_back(l.trial);

  // At a glance.
  int64_t blocks_left_minutes = 0;
  for (const Block& b : ev.blocks_end) blocks_left_minutes += b.left_minutes;
  bool hour_kinds = false;
  if (plan)
    for (const Kind& k : plan->kinds) hour_kinds = hour_kinds || k.unit == Unit::kHour;
  c.hours = hour_kinds || ev.used_minutes > 0 || ev.included_minutes > 0 || ev.reserve_start_minutes > 0 ||
            blocks_left_minutes > 0 || ev.block_used_minutes > 0;
  if (c.hours) {
    c.glance.push_back({"included", l.included, dur(ev.included_minutes), false});
    c.glance.push_back({"used", l.used, dur(ev.used_minutes), false});
    c.glance.push_back({"used-allowance", l.used_allowance, dur(ev.allowance_used_minutes), true});
    c.glance.push_back({"used-reserve", l.used_reserve, dur(ev.reserve_used_minutes), true});
    if (ev.block_used_minutes > 0 || blocks_left_minutes > 0)
      c.glance.push_back({"used-blocks", l.used_blocks, dur(ev.block_used_minutes), true});
    c.glance.push_back({"overage", l.overage, dur(ev.overage_minutes), true});
    if (plan && plan->unlimited)
      c.glance.push_back({"unlimited", l.unlimited, dur(ev.unlimited_minutes), true});
    c.glance.push_back({"reserve-start", l.reserve_start, dur(ev.reserve_start_minutes), false});
    c.glance.push_back({"carried", l.carried, dur(ev.carried_minutes), false});
    c.glance.push_back({"expired", l.expired, dur(ev.expired_minutes()), false});
    c.glance.push_back({"reserve-end", l.reserve_end, dur(ev.reserve_end_minutes), false});
    c.glance.push_back({"blocks-left", l.blocks_left, dur(blocks_left_minutes), false});
  }
  for (const auto& [pool, usage] : ev.pools) c.pools.push_back({CleanUtf8(pool, true), usage.quota, usage.used, usage.left()});

  // Chart: the window's months that fall in the contract (the statement month always).
  const uint32_t back = std::clamp<uint32_t>(options.months_back, 1, kStatementMonthsBackMax);
  const uint32_t first_contract = state.first_month();
  for (int32_t i = int32_t(back) - 1; i >= 0; --i) {
    const uint32_t m = AddMonths(month, -i);
    if (m != month && (first_contract == 0 || m < first_contract || state.TermsFor(m) == nullptr)) continue;
    const MonthEval e = m == month ? ev : state.Evaluate(m);
    c.chart.push_back({m, e.included_minutes, e.used_minutes, e.overage_minutes, e.carried_minutes,
                       e.expired_minutes()});
  }

  const std::string span = c.chart.size() > 1 ? MonthName(c.chart.front().month, l) + " – " + c.month_name
                                              : c.month_name;
  c.chart_title = fmt::format(fmt::runtime(l.chart), span);

  // Work report.
  int64_t total_minutes = 0, total_count = 0, total_billed = 0;
  for (const Entry& e : state.EntriesFor(month)) {
    WorkRow r;
    r.when = LocalDateTime(state.zone(), e.at_us);
    r.who = CleanUtf8(e.staff, true);
    r.task = CleanUtf8(e.task, true);
    r.kind = CleanUtf8(e.kind, true);
    if (e.unit == Unit::kHour) {
      r.amount = dur(e.minutes);
      if (e.multiplier_percent != 100) r.amount += fmt::format(" ×{}%", e.multiplier_percent);
      if (!e.voided) total_minutes += e.minutes;
    } else {
      r.amount = fmt::format(fmt::runtime(e.count == 1 ? l.item_one : l.items), e.count);
      if (!e.voided) total_count += e.count;
    }
    r.paid_by = PaidBy(e, lang);
    const int64_t billed = e.voided ? 0 : e.billed_minor();
    total_billed += billed;
    r.billed = billed != 0 ? money(billed) : "—";
    std::vector<std::string> flags;
    if (e.urgent) flags.push_back(l.urgent);
    if (e.off_hours) flags.push_back(l.off_hours);
    if (e.emergency) flags.push_back(l.emergency);
    if (e.late) flags.push_back(l.late);
    for (const std::string& f : flags) r.flags += (r.flags.empty() ? "" : ", ") + f;
    r.note = CleanUtf8(e.note, true);
    r.voided = e.voided;
    c.work.push_back(std::move(r));
  }
  if (c.work.empty()) {
    const bool usage = ev.used_minutes > 0 || std::any_of(ev.pools.begin(), ev.pools.end(),
                                                          [](const auto& p) { return p.second.used > 0; });
    c.work_note = ev.closed && usage ? l.work_not_kept : l.no_work;
  }
  if (total_minutes > 0) c.work_total_amount = dur(total_minutes);
  if (total_count > 0)
    c.work_total_amount += (c.work_total_amount.empty() ? "" : " + ") +
                           fmt::format(fmt::runtime(total_count == 1 ? l.item_one : l.items), total_count);
  c.work_total_billed = money(total_billed);

  // Invoice.
  for (const InvoiceLine& line : ev.invoice.lines) {
    InvoiceRow r;
    r.code = CleanUtf8(line.code, true);
    const char* label = LineLabel(line.code, lang);
    r.item = label ? label : r.code;
    r.description = CleanUtf8(line.description, true);
    if (line.code == "overage") {
      r.quantity = dur(line.quantity);
      r.price = money(line.unit_price_minor) + l.per_hour;
    } else {
      r.quantity = std::to_string(line.quantity);
      r.price = money(line.unit_price_minor);
    }
    r.amount = money(line.amount_minor);
    c.invoice.push_back(std::move(r));
  }
  c.invoice_total = money(ev.invoice.total_minor);
  c.invoice_status = ev.invoice.closed || ev.closed ? l.invoice_closed : l.invoice_open;

  // SLA.
  const SlaReport sla = ComputeSla(state, month, options.now_us);
  c.has_sla = sla.has_sla;
  if (sla.has_sla) {
    c.sla_summary = fmt::format(fmt::runtime(l.sla_summary), sla.total, sla.breached,
                                Percent(sla.compliance_basis_points));
    auto measured = [&](int64_t minutes, int64_t target) {
      std::string out = minutes < 0 ? "—" : dur(minutes);
      if (target > 0) out += fmt::format(" ({} {})", l.sla_target, dur(target));
      return out;
    };
    for (const SlaIncident& i : sla.incidents) {
      SlaRow r;
      r.id = CleanUtf8(i.id, true);
      r.priority = fmt::format("P{}", i.priority);
      r.opened = LocalDateTime(state.zone(), i.opened_us);
      r.reaction = measured(i.reaction_minutes, i.reaction_target_minutes);
      r.resolution = measured(i.resolution_minutes, i.resolution_target_minutes);
      r.breached = i.breached;
      r.status = i.breached ? l.sla_breached : i.resolved_us == 0 ? l.sla_pending : l.sla_ok;
      c.sla.push_back(std::move(r));
    }
  }
  c.footer = fmt::format(fmt::runtime(l.footer), CleanUtf8(state.currency(), true));
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

void AppendRect(std::string& out, int x, int y, int w, int h, const char* fill, const std::string& cls,
                const std::string& title) {
  out += fmt::format(R"(<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>)",
                     cls, x, y, w, h, fill, Esc(title));
  out += '\n';
}

std::string ChartSvg(const Content& c) {
  const Labels& l = *c.l;
  const Lang lang = c.lang;
  std::string out;
  const std::string title = c.chart_title;
  out += fmt::format(R"(<svg class="chart" viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-labelledby="chart-title">)",
                     kChartWidth, kChartHeight);
  out += fmt::format("\n<title id=\"chart-title\">{}</title>\n", Esc(title));

  // Legend.
  const std::pair<const char*, const char*> legend[] = {
      {kColorIncluded, l.short_included}, {kColorUsed, l.short_used}, {kColorOverage, l.short_overage},
      {kColorCarried, l.short_carried},   {kColorExpired, l.short_expired}};
  out += "<g class=\"legend\" font-size=\"10\">\n";
  int lx = kPlotLeft;
  for (const auto& [color, label] : legend) {
    out += fmt::format(R"(<rect x="{}" y="6" width="12" height="12" fill="{}"/><text x="{}" y="16">{}</text>)",
                       lx, color, lx + 16, Esc(label));
    out += '\n';
    lx += 130;
  }
  out += "</g>\n";

  // Axes and grid.
  int64_t max_minutes = 0;
  for (const ChartMonth& m : c.chart)
    max_minutes = std::max({max_minutes, m.included_minutes, m.used_minutes, m.carried_minutes, m.expired_minutes});
  int64_t step = 60;
  const int64_t axis_max = AxisMax(max_minutes, &step);
  const int plot_h = kPlotBottom - kPlotTop;
  auto y_of = [&](int64_t minutes) {
    const int64_t v = std::clamp<int64_t>(minutes, 0, axis_max);
    return kPlotBottom - int(v * plot_h / axis_max);
  };
  out += "<g class=\"axis\" font-size=\"10\" fill=\"#55606c\">\n";
  for (int64_t v = 0; v <= axis_max; v += step) {
    const int y = y_of(v);
    out += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>)", kPlotLeft, y,
                       kPlotRight, y, v == 0 ? "#55606c" : "#e1e7ee");
    out += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", kPlotLeft - 6, y + 4,
                       Esc(Dur(v, lang)));
    out += '\n';
  }
  out += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#55606c" stroke-width="1"/>)", kPlotLeft,
                     kPlotTop, kPlotBottom);
  out += fmt::format("\n<text x=\"14\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0})\">{1}</text>\n",
                     (kPlotTop + kPlotBottom) / 2, Esc(l.hours_axis));
  out += "</g>\n";

  // One group per month.
  const int n = int(c.chart.size());
  if (n > 0) {
    const int gw = (kPlotRight - kPlotLeft) / n;
    const int pad = std::max(1, gw / 10);
    const int bw = std::min(kBarWidthMax, (gw - 2 * pad) / kBarsPerGroup);
    const int offset = (gw - bw * kBarsPerGroup) / 2;
    const int font = n > 12 ? 9 : 11;
    for (int i = 0; i < n; ++i) {
      const ChartMonth& m = c.chart[size_t(i)];
      const int x0 = kPlotLeft + i * gw;
      const int bx = x0 + offset;
      const std::string name = MonthName(m.month, l);
      out += fmt::format("<g class=\"month\" data-month=\"{}\">\n", FormatMonth(m.month));
      auto bar = [&](int slot, int64_t from, int64_t to, const char* fill, const char* cls, const char* label,
                     int64_t value) {
        const int top = y_of(to), bottom = y_of(from);
        AppendRect(out, bx + slot * bw, top, bw, bottom - top, fill, cls,
                   fmt::format("{}: {} — {}", name, label, Dur(value, lang)));
      };
      const int64_t within = std::max<int64_t>(m.used_minutes - m.overage_minutes, 0);
      bar(0, 0, m.included_minutes, kColorIncluded, "included", l.short_included, m.included_minutes);
      bar(1, 0, within, kColorUsed, "used", l.short_used, m.used_minutes);
      bar(1, within, within + m.overage_minutes, kColorOverage, "overage", l.short_overage, m.overage_minutes);
      bar(2, 0, m.carried_minutes, kColorCarried, "carried", l.short_carried, m.carried_minutes);
      bar(3, 0, m.expired_minutes, kColorExpired, "expired", l.short_expired, m.expired_minutes);
      const int cx = x0 + gw / 2;
      out += fmt::format(R"(<text x="{}" y="{}" font-size="{}" text-anchor="middle" fill="#1d2733">{}</text>)", cx,
                         kPlotBottom + 16, font, Esc(l.month_short[m.month % 100 - 1]));
      out += fmt::format(R"(<text x="{}" y="{}" font-size="{}" text-anchor="middle" fill="#55606c">{}</text>)", cx,
                         kPlotBottom + 30, font - 1, m.month / 100);
      out += "\n</g>\n";
    }
  }
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

std::string RenderHtml(const Content& c) {
  const Labels& l = *c.l;
  std::string out;
  out += "<!DOCTYPE html>\n";
  out += fmt::format("<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\"/>\n", l.html_lang);
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  out += fmt::format("<title>{} — {}</title>\n", Esc(c.title), Esc(c.client_name));
  out += "<style>";
  out += kCss;
  out += "</style>\n</head>\n<body>\n";

  // Header.
  out += "<header class=\"keep\">\n";
  out += fmt::format("<h1>{}</h1>\n<table class=\"meta\">\n", Esc(c.title));
  for (const Field& f : c.header)
    out += fmt::format("<tr><th>{}</th><td id=\"meta-{}\">{}</td></tr>\n", Esc(f.label), f.key, Esc(f.value));
  out += "</table>\n";
  for (const std::string& n : c.notes) out += "<p class=\"note\">" + Esc(n) + "</p>\n";
  out += "</header>\n";

  // At a glance.
  out += "<section class=\"glance keep\">\n<h2>" + Esc(l.glance) + "</h2>\n<div class=\"cols\">\n";
  if (c.hours) {
    out += "<table class=\"kv\">\n";
    for (const Field& f : c.glance)
      out += fmt::format("<tr{}><th>{}</th><td id=\"glance-{}\">{}</td></tr>\n", f.sub ? " class=\"sub\"" : "",
                         Esc(f.label), f.key, Esc(f.value));
    out += "</table>\n";
  } else {
    out += "<p class=\"kv status\">" + Esc(l.no_hours) + "</p>\n";
  }
  if (!c.pools.empty()) {
    out += "<table class=\"grid slots\">\n<thead><tr>" + Th(l.slots) + Th(l.quota, "num") + Th(l.used, "num") +
           Th(l.left, "num") + "</tr></thead>\n<tbody>\n";
    for (const PoolRow& p : c.pools)
      out += fmt::format("<tr data-pool=\"{}\">{}{}{}{}</tr>\n", Esc(p.pool), Td(p.pool),
                         Td(std::to_string(p.quota), "num"), Td(std::to_string(p.used), "num"),
                         Td(std::to_string(p.left), "num"));
    out += "</tbody>\n</table>\n";
  }
  out += "</div>\n</section>\n";

  // Chart.
  out += "<section class=\"history keep\">\n<h2>" + Esc(c.chart_title) + "</h2>\n";
  out += ChartSvg(c);
  out += "</section>\n";

  // Work report.
  out += "<section class=\"work\">\n<h2>" + Esc(l.work) + "</h2>\n";
  if (c.work.empty()) {
    out += "<p class=\"status\">" + Esc(c.work_note) + "</p>\n";
  } else {
    out += "<table class=\"grid\" id=\"work\">\n<thead><tr>" + Th(l.when) + Th(l.who) + Th(l.task) + Th(l.kind) +
           Th(l.amount, "num") + Th(l.paid_by) + Th(l.billed, "num") + "</tr></thead>\n<tbody>\n";
    for (const WorkRow& r : c.work) {
      std::string task = Esc(r.task);
      if (!r.flags.empty()) task += "<br/><small>" + Esc(r.flags) + "</small>";
      if (!r.note.empty()) task += "<br/><small>" + Esc(l.notes) + ": " + Esc(r.note) + "</small>";
      out += fmt::format("<tr{}>{}{}<td>{}</td>{}{}{}{}</tr>\n", r.voided ? " class=\"voided\"" : "",
                         Td(r.when, "nowrap"), Td(r.who), task, Td(r.kind), Td(r.amount, "num"), Td(r.paid_by),
                         Td(r.billed, "num"));
    }
    out += "</tbody>\n<tfoot><tr>" + Th(l.work_total) + "<td colspan=\"3\"></td>" +
           Td(c.work_total_amount, "num") + "<td></td>" + Td(c.work_total_billed, "num") +
           "</tr></tfoot>\n</table>\n";
  }
  out += "</section>\n";

  // Invoice.
  out += "<section class=\"invoice keep\">\n<h2>" + Esc(l.invoice) + " — " + Esc(c.month_name) + "</h2>\n";
  out += "<p class=\"status\" id=\"invoice-status\">" + Esc(c.invoice_status) + "</p>\n";
  out += "<table class=\"grid\" id=\"invoice\">\n<thead><tr>" + Th(l.item) + Th(l.description) +
         Th(l.quantity, "num") + Th(l.price, "num") + Th(l.sum, "num") + "</tr></thead>\n<tbody>\n";
  if (c.invoice.empty()) out += "<tr><td colspan=\"5\" class=\"status\">" + Esc(l.no_lines) + "</td></tr>\n";
  for (const InvoiceRow& r : c.invoice)
    out += fmt::format("<tr data-code=\"{}\">{}{}{}{}{}</tr>\n", Esc(r.code), Td(r.item), Td(r.description),
                       Td(r.quantity, "num"), Td(r.price, "num"), Td(r.amount, "num"));
  out += "</tbody>\n<tfoot><tr class=\"total-line\"><th colspan=\"4\">" + Esc(l.total) +
         "</th><td class=\"num\" id=\"invoice-total\">" + Esc(c.invoice_total) + "</td></tr></tfoot>\n</table>\n";
  out += "</section>\n";

  // SLA.
  if (c.has_sla) {
    out += "<section class=\"sla keep\">\n<h2>" + Esc(l.sla) + "</h2>\n";
    out += "<p id=\"sla-summary\">" + Esc(c.sla_summary) + "</p>\n";
    if (c.sla.empty()) {
      out += "<p class=\"status\">" + Esc(l.sla_none) + "</p>\n";
    } else {
      out += "<table class=\"grid\" id=\"sla\">\n<thead><tr>" + Th(l.sla_incident) + Th(l.sla_priority) +
             Th(l.sla_opened) + Th(l.sla_reaction) + Th(l.sla_resolution) + Th(l.sla_status) +
             "</tr></thead>\n<tbody>\n";
      for (const SlaRow& r : c.sla)
        out += "<tr>" + Td(r.id) + Td(r.priority) + Td(r.opened, "nowrap") + Td(r.reaction) + Td(r.resolution) +
               Td(r.status, r.breached ? "breached" : nullptr) + "</tr>\n";
      out += "</tbody>\n</table>\n";
    }
    out += "</section>\n";
  }

  out += "<footer>" + Esc(c.footer) + "</footer>\n</body>\n</html>\n";
  return out;
}

// ---------------------------------------------------------------------------------------
// Plain text

constexpr size_t kTextWidthMax = 100;

struct Column {
  size_t width;
  bool right;
};

// One row of cells laid out in columns two spaces apart, trailing spaces trimmed.
std::string Row(const std::vector<Column>& cols, const std::vector<std::string>& cells) {
  assert(cols.size() == cells.size());
  std::string line;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) line += "  ";
    line += Pad(cells[i], cols[i].width, cols[i].right);
  }
  TrimRight(line);
  return line + "\n";
}

std::string Rule(const std::vector<Column>& cols) {
  size_t w = 0;
  for (const Column& c : cols) w += c.width;
  w += 2 * (cols.size() - 1);
  std::string line;
  for (size_t i = 0; i < w; ++i) line += "\xE2\x94\x80";  // ─
  return line + "\n";
}

std::string Heading(const std::string& text) {
  std::string line = Cut(text, kTextWidthMax) + "\n";
  for (size_t i = 0; i < Width(Cut(text, kTextWidthMax)); ++i) line += "=";
  return line + "\n";
}

// A "label: value" line cut to the page width.
std::string Line(const std::string& text) { return Cut(text, kTextWidthMax) + "\n"; }

std::string RenderText(const Content& c) {
  const Labels& l = *c.l;
  std::string out;
  out += Heading(c.title);
  const std::vector<Column> meta = {{24, false}, {kTextWidthMax - 26, false}};
  for (const Field& f : c.header) out += Row(meta, {f.label + ":", f.value});
  for (const std::string& n : c.notes) out += Line("! " + n);

  out += "\n" + Heading(l.glance);
  if (c.hours) {
    const std::vector<Column> kv = {{44, false}, {20, true}};
    for (const Field& f : c.glance) out += Row(kv, {(f.sub ? "    " : "") + f.label, f.value});
  } else {
    out += Line(l.no_hours);
  }
  if (!c.pools.empty()) {
    out += "\n";
    const std::vector<Column> cols = {{36, false}, {10, true}, {12, true}, {10, true}};
    out += Row(cols, {l.slots, l.quota, l.used, l.left});
    out += Rule(cols);
    for (const PoolRow& p : c.pools)
      out += Row(cols, {p.pool, std::to_string(p.quota), std::to_string(p.used), std::to_string(p.left)});
  }

  out += "\n" + Heading(c.chart_title);
  {
    const std::vector<Column> cols = {{16, false}, {14, true}, {14, true}, {14, true}, {14, true}, {14, true}};
    out += Row(cols, {l.chart_short, l.short_included, l.short_used, l.short_overage, l.short_carried,
                      l.short_expired});
    out += Rule(cols);
    for (const ChartMonth& m : c.chart)
      out += Row(cols, {MonthName(m.month, l), Dur(m.included_minutes, c.lang), Dur(m.used_minutes, c.lang),
                        Dur(m.overage_minutes, c.lang), Dur(m.carried_minutes, c.lang),
                        Dur(m.expired_minutes, c.lang)});
  }

  out += "\n" + Heading(l.work);
  if (c.work.empty()) {
    out += Line(c.work_note);
  } else {
    const std::vector<Column> cols = {{16, false}, {12, false}, {17, false}, {19, false}, {12, true}, {14, true}};
    out += Row(cols, {l.when, l.who, l.task, l.kind, l.amount, l.billed});
    out += Rule(cols);
    for (const WorkRow& r : c.work) {
      out += Row(cols, {r.when, r.who, r.task, r.kind, r.amount, r.billed});
      std::string detail = std::string("    ") + l.paid_by + ": " + r.paid_by;
      if (!r.flags.empty()) detail += "; " + r.flags;
      if (r.voided) detail += std::string("; ") + l.voided;
      out += Line(detail);
      if (!r.note.empty()) out += Line(std::string("    ") + l.notes + ": " + r.note);
    }
    out += Rule(cols);
    out += Row(cols, {l.work_total, "", "", "", c.work_total_amount, c.work_total_billed});
  }

  out += "\n" + Heading(std::string(l.invoice) + " — " + c.month_name);
  out += Line(c.invoice_status);
  {
    const std::vector<Column> cols = {{20, false}, {30, false}, {8, true}, {16, true}, {16, true}};
    out += Row(cols, {l.item, l.description, l.quantity, l.price, l.sum});
    out += Rule(cols);
    if (c.invoice.empty()) out += Line(l.no_lines);
    for (const InvoiceRow& r : c.invoice) out += Row(cols, {r.item, r.description, r.quantity, r.price, r.amount});
    out += Rule(cols);
    out += Row(cols, {l.total, "", "", "", c.invoice_total});
  }

  if (c.has_sla) {
    out += "\n" + Heading(l.sla);
    out += Line(c.sla_summary);
    if (c.sla.empty()) {
      out += Line(l.sla_none);
    } else {
      const std::vector<Column> cols = {{14, false}, {4, false}, {16, false}, {22, false}, {22, false}, {10, false}};
      out += Row(cols, {l.sla_incident, "", l.sla_opened, l.sla_reaction, l.sla_resolution, l.sla_status});
      out += Rule(cols);
      for (const SlaRow& r : c.sla) out += Row(cols, {r.id, r.priority, r.opened, r.reaction, r.resolution, r.status});
    }
  }
  out += "\n" + Line(c.footer);
  return out;
}

}  // namespace

std::string RenderStatementHtml(const ClientState& state, const StatementOptions& options) {
  return RenderHtml(Build(state, options));
}

std::string RenderStatementText(const ClientState& state, const StatementOptions& options) {
  return RenderText(Build(state, options));
}

}  // namespace hourbank::projections
