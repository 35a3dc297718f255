// Production calendars (projections/production_calendar.h). The Russian data is in
// projections/calendars/ru.inc; docs/calendars.md describes it.
#include "projections/production_calendar.h"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <iterator>

namespace hourbank::projections {
namespace {

constexpr DayStatus H = DayStatus::kHoliday;
constexpr DayStatus O = DayStatus::kDayOff;
constexpr DayStatus W = DayStatus::kWorkingDay;

constexpr CalendarDay kRu[] = {
#include "projections/calendars/ru.inc"
};

constexpr bool SortedUnique(const CalendarDay* days, size_t count) {
  for (size_t i = 1; i < count; ++i)
    if (days[i - 1].yyyymmdd >= days[i].yyyymmdd) return false;
  return true;
}
static_assert(SortedUnique(kRu, std::size(kRu)), "ru.inc rows must be sorted by date, each once");
static_assert(kRu[0].yyyymmdd / 10000 == RU_FIRST_YEAR &&
                  kRu[std::size(kRu) - 1].yyyymmdd / 10000 == RU_LAST_YEAR,
              "ru.inc rows must span RU_FIRST_YEAR … RU_LAST_YEAR");

date::sys_days DaysOf(int32_t yyyymmdd) {
  return date::sys_days{date::year{yyyymmdd / 10000} /
                        date::month{static_cast<unsigned>(yyyymmdd / 100 % 100)} /
                        date::day{static_cast<unsigned>(yyyymmdd % 100)}};
}

int32_t YyyymmddOf(date::sys_days days) {
  const date::year_month_day ymd{days};
  return static_cast<int32_t>(ymd.year()) * 10000 +
         static_cast<int32_t>(static_cast<unsigned>(ymd.month())) * 100 +
         static_cast<int32_t>(static_cast<unsigned>(ymd.day()));
}

bool Weekend(int32_t yyyymmdd) {
  return date::weekday{DaysOf(yyyymmdd)}.iso_encoding() >= 6;  // 6 = Saturday, 7 = Sunday
}

// The rows of one year in a sorted table: [first, last).
std::pair<const CalendarDay*, const CalendarDay*> YearRows(const CalendarDay* days, size_t count,
                                                           int32_t year) {
  const auto by_date = [](const CalendarDay& d, int32_t v) { return d.yyyymmdd < v; };
  const CalendarDay* first = std::lower_bound(days, days + count, year * 10000 + 101, by_date);
  const CalendarDay* last = std::lower_bound(days, days + count, (year + 1) * 10000 + 101, by_date);
  return {first, last};
}

constexpr ProductionCalendar kRuCalendar("ru", kRu, std::size(kRu), RU_FIRST_YEAR, RU_LAST_YEAR,
                                         RU_LAST_DECREE_YEAR);

}  // namespace

YearSource ProductionCalendar::SourceOf(int32_t year) const {
  if (year < first_year_ || year > last_year_) return YearSource::kFallback;
  return year <= last_decree_year_ ? YearSource::kDecree : YearSource::kRule;
}

DayStatus ProductionCalendar::StatusOf(int32_t yyyymmdd) const {
  const int32_t year = yyyymmdd / 10000;
  if (year >= first_year_ && year <= last_year_) {
    const CalendarDay* end = days_ + count_;
    const CalendarDay* it = std::lower_bound(
        days_, end, yyyymmdd, [](const CalendarDay& d, int32_t v) { return d.yyyymmdd < v; });
    return (it != end && it->yyyymmdd == yyyymmdd) ? it->status : DayStatus::kRegular;
  }
  // Outside the data: the law's own calendar for that year (documented fallback), computed
  // once per thread and year (calendar walks ask for consecutive days of the same year).
  thread_local int32_t cached_year = 0;
  thread_local std::vector<CalendarDay> cached;
  if (cached_year != year) {
    cached = RuLabourCodeYear(year);
    cached_year = year;
  }
  for (const CalendarDay& d : cached)
    if (d.yyyymmdd == yyyymmdd) return d.status;
  return DayStatus::kRegular;
}

bool ProductionCalendar::IsWorkingDay(int32_t yyyymmdd) const {
  switch (StatusOf(yyyymmdd)) {
    case DayStatus::kHoliday:
    case DayStatus::kDayOff:
      return false;
    case DayStatus::kWorkingDay:
      return true;
    case DayStatus::kRegular:
      break;
  }
  return !Weekend(yyyymmdd);
}

std::vector<CalendarDay> ProductionCalendar::Year(int32_t year) const {
  if (SourceOf(year) == YearSource::kFallback) return RuLabourCodeYear(year);
  const auto [first, last] = YearRows(days_, count_, year);
  return std::vector<CalendarDay>(first, last);
}

const ProductionCalendar* FindProductionCalendar(std::string_view name) {
  if (name == "ru") return &kRuCalendar;
  return nullptr;
}

std::string_view KnownProductionCalendars() { return "ru"; }

std::vector<CalendarDay> RuLabourCodeYear(int32_t year) {
  std::vector<CalendarDay> out;
  if (year < 1 || year > 9999) return out;  // outside the dates the ledger handles: nothing listed
  const int32_t base = year * 10000;
  for (int32_t day = 1; day <= 8; ++day) out.push_back({base + 100 + day, DayStatus::kHoliday});
  constexpr std::array<int32_t, 5> kFixed = {223, 308, 501, 509, 612};
  for (int32_t md : kFixed) out.push_back({base + md, DayStatus::kHoliday});
  out.push_back({base + 1104, DayStatus::kHoliday});
  // ч. 2: a holiday (other than 1–8 January) on a Saturday or Sunday gives the next working
  // day as a rest day. Processed in date order, so a rest day already given is skipped too.
  const auto taken = [&out](int32_t d) {
    return std::any_of(out.begin(), out.end(),
                       [d](const CalendarDay& x) { return x.yyyymmdd == d; });
  };
  const size_t holidays = out.size();
  for (size_t i = 8; i < holidays; ++i) {
    const int32_t h = out[i].yyyymmdd;
    if (!Weekend(h)) continue;
    date::sys_days next = DaysOf(h) + date::days{1};
    for (int guard = 0; guard < 14; ++guard, next += date::days{1}) {  // at most a few days
      const int32_t n = YyyymmddOf(next);
      if (!Weekend(n) && !taken(n)) {
        out.push_back({n, DayStatus::kDayOff});
        break;
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CalendarDay& a, const CalendarDay& b) { return a.yyyymmdd < b.yyyymmdd; });
  return out;
}

}  // namespace hourbank::projections
