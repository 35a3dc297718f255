#include "reports/labels.h"

#include <optional>
#include <utility>

#include <fmt/format.h>

#include "projections/units.h"

namespace hourbank::reports {
namespace {

using projections::Charge;
using projections::InvoiceLine;

constexpr Labels kEnglishLabels = {
    "en",
    "Statement for {}",
    "Client",
    "Plan",
    "version",
    "Month",
    "Units under contract",
    "Contract",
    "from {}, open-ended",
    "from {}, {} months",
    "Time zone",
    "Prepared",
    "No contract covers this month.",
    "Trial month: no fee, no allowance; hours are billed at the rate.",
    "closed",
    "open (figures are projected until the month is closed)",
    "The hour bank at a glance",
    "Included this month",
    "Used",
    "from the allowance",
    "from the reserve",
    "from prepaid blocks",
    "Overage (billed)",
    "Unlimited hours",
    "Reserve at the start",
    "Carried over to the reserve",
    "Expired",
    "Reserve at the end",
    "Prepaid hours left",
    "Slots",
    "Pool",
    "Quota",
    "Left",
    "The plan counts no hours.",
    "Hours, {}",
    "Month",
    "Included",
    "Used",
    "Overage",
    "Carried over",
    "Expired",
    "hours",
    "Work report",
    "When",
    "Who",
    "Task",
    "Kind",
    "Time/count",
    "Paid by",
    "Billed",
    "Note",
    "No work counted in this month.",
    "Work details of closed months are not kept by this reader.",
    "Total",
    "{} item",
    "{} items",
    "urgent",
    "off-hours",
    "emergency",
    "late",
    "voided",
    "awaiting acceptance",
    "surcharge",
    "Invoice",
    "Item",
    "Description",
    "Qty",
    "Price",
    "Amount",
    "Total due",
    "closed",
    "projected: the month is still open",
    "No invoice lines.",
    "/h",
    "Service level (SLA)",
    "Incident",
    "Priority",
    "Opened",
    "Reaction",
    "Resolution",
    "Status",
    "met",
    "breached",
    "open",
    "No incidents opened in this month.",
    "{} incidents, {} breached, compliance {}",
    "target",
    "Prepared by hourbank. Figures in {}; hours are shown as hours and minutes.",
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"},
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
    "Allowance left",
    "Reserve left",
    "Payments and what is outstanding",
    "Invoiced (closed months, all time)",
    "Paid (all time)",
    "Outstanding",
    "Paid in advance",
    "Payments received in {}",
    "Date",
    "Reference",
    "No payments received in this month.",
    "Work is on hold until the overdue invoices are paid.",
    "Work awaiting acceptance",
    "No work is awaiting acceptance.",
    "Logged",
    "hours beyond the plan, {}",
    "{}, {} licences",
    "prepaid {} months −{}%",
    "timely −{}%",
    "(in quota)",
    "prepaid hours {}",
    "credit for voided entry #{}",
};

constexpr Labels kRussianLabels = {
    "ru",
    "Отчёт за {}",
    "Клиент",
    "Тариф",
    "версия",
    "Месяц",
    "Единиц по договору",
    "Договор",
    "с {}, бессрочный",
    "с {}, {} мес.",
    "Часовой пояс",
    "Сформирован",
    "Этот месяц не покрыт договором.",
    "Пробный месяц: без абонентской платы и без пакета часов; часы оплачиваются по ставке.",
    "закрыт",
    "открыт (цифры предварительные до закрытия месяца)",
    "Банк часов — кратко",
    "Включено в тариф",
    "Использовано",
    "из тарифа",
    "из резерва",
    "из предоплаченных пакетов",
    "Сверх тарифа (к оплате)",
    "Безлимитные часы",
    "Резерв на начало",
    "Перенесено в резерв",
    "Сгорело",
    "Резерв на конец",
    "Остаток предоплаченных часов",
    "Слоты",
    "Пул",
    "Квота",
    "Осталось",
    "Тариф не учитывает часы.",
    "Часы: {}",
    "Месяц",
    "Включено",
    "Использовано",
    "Сверх тарифа",
    "Перенесено",
    "Сгорело",
    "часы",
    "Отчёт о работах",
    "Когда",
    "Исполнитель",
    "Задача",
    "Вид работ",
    "Время/кол-во",
    "Чем оплачено",
    "К оплате",
    "Комментарий",
    "В этом месяце работ не учтено.",
    "Подробности работ закрытых месяцев здесь не хранятся.",
    "Итого",
    "{} шт.",
    "{} шт.",
    "срочно",
    "вне рабочего времени",
    "авария",
    "поздняя запись",
    "аннулировано",
    "ожидает приёмки",
    "надбавка",
    "Счёт",
    "Позиция",
    "Описание",
    "Кол-во",
    "Цена",
    "Сумма",
    "Итого к оплате",
    "закрыт",
    "предварительный: месяц ещё открыт",
    "Строк нет.",
    "/ч",
    "Уровень сервиса (SLA)",
    "Обращение",
    "Приоритет",
    "Открыто",
    "Реакция",
    "Решение",
    "Статус",
    "в срок",
    "нарушено",
    "открыто",
    "В этом месяце обращений не было.",
    "обращений: {}, с нарушением: {}, соблюдение SLA {}",
    "норматив",
    "Сформировано hourbank. Суммы в {}; время в часах и минутах.",
    {"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
     "ноябрь", "декабрь"},
    {"янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"},
    "Осталось из тарифа",
    "Осталось в резерве",
    "Платежи и задолженность",
    "Выставлено (закрытые месяцы, всего)",
    "Оплачено (всего)",
    "Задолженность",
    "Аванс",
    "Платежи за {}",
    "Дата",
    "Основание",
    "В этом месяце платежей не было.",
    "Работы приостановлены до оплаты просроченных счетов.",
    "Работы, ожидающие приёмки",
    "Работ, ожидающих приёмки, нет.",
    "Записано",
    "часы сверх тарифа, {}",
    "{}, лицензий: {}",
    "предоплата за {} мес. −{}%",
    "своевременное заключение −{}%",
    "(в пределах квоты)",
    "предоплаченные часы, {}",
    "возврат за аннулированную запись #{}",
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The leading decimal number of `s` (at most 18 digits) and what follows it; nullopt when `s`
// does not start with a digit.
std::optional<std::pair<uint64_t, std::string_view>> Number(std::string_view s) {
  uint64_t n = 0;
  size_t i = 0;
  for (; i < s.size() && i < 18 && s[i] >= '0' && s[i] <= '9'; ++i)
    n = n * 10 + uint64_t(s[i] - '0');
  if (i == 0) return std::nullopt;
  return std::make_pair(n, s.substr(i));
}

constexpr std::string_view kMinus = "\xE2\x88\x92";  // − (U+2212), as the discount line writes it

// "prepaid N months −P%" and/or "timely −Q%" (projections/month_eval.cc) in Russian; nullopt
// for any other text.
std::optional<std::string> DiscountRu(std::string_view d) {
  const Labels& l = LabelsFor(Lang::kRu);
  std::string out;
  if (StartsWith(d, "prepaid ")) {
    auto months = Number(d.substr(8));
    if (!months || !StartsWith(months->second, std::string(" months ") + std::string(kMinus)))
      return std::nullopt;
    auto percent = Number(months->second.substr(8 + kMinus.size()));
    if (!percent || !StartsWith(percent->second, "%")) return std::nullopt;
    out = fmt::format(fmt::runtime(l.desc_prepaid), months->first, percent->first);
    d = percent->second.substr(1);
    if (d.empty()) return out;
    if (!StartsWith(d, ", ")) return std::nullopt;
    d = d.substr(2);
    out += ", ";
  }
  const std::string timely = std::string("timely ") + std::string(kMinus);
  if (!StartsWith(d, timely)) return std::nullopt;
  auto percent = Number(d.substr(timely.size()));
  if (!percent || percent->second != "%") return std::nullopt;
  return out + fmt::format(fmt::runtime(l.desc_timely), percent->first);
}

// "{kind}[ urgent| off-hours][ (in quota)]" (surcharge and task lines) in Russian.
std::string WorkLineRu(std::string_view d) {
  const Labels& l = LabelsFor(Lang::kRu);
  std::string suffix;
  if (EndsWith(d, " (in quota)")) {
    d.remove_suffix(11);
    suffix = std::string(" ") + l.desc_in_quota;
  }
  if (EndsWith(d, " urgent")) {
    d.remove_suffix(7);
    suffix = std::string(", ") + l.urgent + suffix;
  } else if (EndsWith(d, " off-hours")) {
    d.remove_suffix(10);
    suffix = std::string(", ") + l.off_hours + suffix;
  }
  return std::string(d) + suffix;
}

}  // namespace

Lang LangFor(std::string_view currency) { return currency == "RUB" ? Lang::kRu : Lang::kEn; }

const Labels& LabelsFor(Lang lang) { return lang == Lang::kRu ? kRussianLabels : kEnglishLabels; }

std::string MonthName(uint32_t month, Lang lang) {
  return fmt::format("{} {}", LabelsFor(lang).month_names[month % 100 - 1], month / 100);
}

const char* MonthShort(uint32_t month, Lang lang) {
  return LabelsFor(lang).month_short[month % 100 - 1];
}

std::string Duration(int64_t minutes, Lang lang) {
  if (lang == Lang::kEn) return projections::FormatMinutes(minutes);
  const bool negative = minutes < 0;
  const uint64_t magnitude = negative ? uint64_t{0} - uint64_t(minutes) : uint64_t(minutes);
  std::string out = negative ? "-" : "";
  const uint64_t hours = magnitude / 60, rest = magnitude % 60;
  if (hours > 0 || rest == 0) out += fmt::format("{} ч", hours);
  if (rest > 0) out += fmt::format("{}{} мин", hours > 0 ? " " : "", rest);
  return out;
}

std::string LocalDateTime(const projections::Zone& zone, int64_t utc_us) {
  const projections::LocalTime t = zone.Local(utc_us);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", t.yyyymmdd / 10000, t.yyyymmdd / 100 % 100,
                     t.yyyymmdd % 100, t.minute_of_day / 60, t.minute_of_day % 60);
}

std::string Percent(uint32_t basis_points) {
  return fmt::format("{}.{:02}%", basis_points / 100, basis_points % 100);
}

const char* LineLabel(std::string_view code, Lang lang) {
  struct Row {
    const char* code;
    const char* en;
    const char* ru;
  };
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
      {"charge", "Charge", "Начисление"},
      {"sla_credit", "SLA breach credit", "Компенсация за нарушение SLA"},
  };
  for (const Row& r : kRows)
    if (code == r.code) return lang == Lang::kRu ? r.ru : r.en;
  return nullptr;
}

const char* SourceLabel(Charge::Source source, Lang lang) {
  const bool ru = lang == Lang::kRu;
  switch (source) {
    case Charge::Source::kAllowance:
      return ru ? "тариф" : "allowance";
    case Charge::Source::kReserve:
      return ru ? "резерв" : "reserve";
    case Charge::Source::kBlock:
      return ru ? "пакет" : "block";
    case Charge::Source::kOverage:
      return ru ? "сверх тарифа" : "overage";
    case Charge::Source::kUnlimited:
      return ru ? "безлимит" : "unlimited";
    case Charge::Source::kSlot:
      return ru ? "слот" : "slot";
    case Charge::Source::kAddonSlot:
      return ru ? "доп. слот" : "addon";
    case Charge::Source::kOneOff:
      return ru ? "разово" : "one-off";
    case Charge::Source::kIncluded:
      return ru ? "включено" : "included";
  }
  return "?";
}

// "SLA breach credit, incident I1 (P1), capped at 30% of the fee" in Russian; the incident id
// is kept as written. Bounded: a fixed number of replacements.
static std::string SlaCreditRu(std::string_view d) {
  std::string out(d);
  auto replace = [&](std::string_view from, std::string_view to) {
    const size_t at = out.rfind(from);
    if (at != std::string::npos) out.replace(at, from.size(), to);
  };
  replace("% of the fee", "% абонентской платы");
  replace(", capped at ", ", не более ");
  replace(" (P", " (приоритет ");
  if (StartsWith(out, "SLA breach credit, incident "))
    out = "Компенсация за нарушение SLA, инцидент " + out.substr(28);
  return out;
}

std::string LineDescription(const InvoiceLine& line, Lang lang) {
  const std::string_view d = line.description;
  if (lang == Lang::kEn) return line.description;
  const Labels& l = LabelsFor(lang);
  if (line.code == "overage" && StartsWith(d, "hours beyond the plan, "))
    return fmt::format(fmt::runtime(l.desc_overage), Duration(line.quantity, lang));
  if (line.code == "fee") {
    const std::string licences = fmt::format(", {} licences", line.quantity);
    if (EndsWith(d, licences))
      return fmt::format(fmt::runtime(l.desc_licences), d.substr(0, d.size() - licences.size()),
                         line.quantity);
    return line.description;
  }
  if (line.code == "discount") return DiscountRu(d).value_or(line.description);
  if (line.code == "sla_credit") return SlaCreditRu(d);
  if (line.code == "surcharge" || line.code == "task") return WorkLineRu(d);
  if (line.code == "hours_block" && StartsWith(d, "prepaid hours ")) {
    const auto minutes = projections::ParseDurationMinutes(d.substr(14));
    if (minutes.ok())
      return fmt::format(fmt::runtime(l.desc_block), Duration(minutes.value(), lang));
  }
  if (line.code == "credit" && StartsWith(d, "credit for voided entry #")) {
    auto seq = Number(d.substr(25));
    if (seq && seq->second.empty())
      return fmt::format(fmt::runtime(l.desc_void_credit), seq->first);
  }
  return line.description;
}

}  // namespace hourbank::reports
