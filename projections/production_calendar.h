// Production calendars: the public holidays, transferred days off and moved working days of a
// country's five-day working week, year by year, as data. A plan calendar names one
// (`production_calendar = "ru"` in [plan.calendar] or [plan.sla.service_hours]); units.cc
// uses it for open days (off-hours surcharges, service time) and for working days (SLA
// targets in working days). The data, its sources and how to extend it: docs/calendars.md.
//
// Pure and thread-safe: the tables are constant; nothing here allocates on the lookup path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hourbank::projections {

// What a production calendar says about one date.
enum class DayStatus : uint8_t {
  kRegular,     // nothing listed: Monday–Friday is a working day, Saturday–Sunday a rest day
  kHoliday,     // a public (non-working) holiday, whatever the weekday
  kDayOff,      // a weekday made a rest day (a weekend day or holiday transferred to it)
  kWorkingDay,  // a Saturday or Sunday made a working day (the rest day moved away from it)
};

// One listed date.
struct CalendarDay {
  int32_t yyyymmdd = 0;
  DayStatus status = DayStatus::kRegular;
};

// Where a year's dates come from.
enum class YearSource : uint8_t {
  kDecree,    // listed from the law and the government's decree on transfers for that year
  kRule,      // listed from the law's fixed holidays and its standard transfer rule only
              // (no decree known for that year when the data was written)
  kFallback,  // outside the listed years: computed at run time by the same rule
};

class ProductionCalendar {
 public:
  constexpr ProductionCalendar(std::string_view name, const CalendarDay* days, size_t count,
                               int32_t first_year, int32_t last_year, int32_t last_decree_year)
      : name_(name),
        days_(days),
        count_(count),
        first_year_(first_year),
        last_year_(last_year),
        last_decree_year_(last_decree_year) {}

  std::string_view name() const { return name_; }
  int32_t first_year() const { return first_year_; }  // first year with listed data
  int32_t last_year() const { return last_year_; }    // last year with listed data
  // Years first_year … last_decree_year follow the decrees; the rest of the listed years the
  // rule (YearSource::kRule).
  int32_t last_decree_year() const { return last_decree_year_; }
  YearSource SourceOf(int32_t year) const;

  // The status of a real date (1970–9999). Inside the listed years: the data. Outside: the
  // Labour Code rule computed for that year (YearSource::kFallback; docs/calendars.md).
  DayStatus StatusOf(int32_t yyyymmdd) const;
  // A working day of the five-day week: Monday–Friday that is not a holiday or day off, or a
  // Saturday/Sunday made a working day.
  bool IsWorkingDay(int32_t yyyymmdd) const;

  // Every listed (or, outside the data, computed) non-regular date of a year, in date order.
  std::vector<CalendarDay> Year(int32_t year) const;

 private:
  std::string_view name_;
  const CalendarDay* days_;  // sorted by date
  size_t count_;
  int32_t first_year_, last_year_, last_decree_year_;
};

// The calendar with this name, or nullptr. Known names: "ru" (Russian Federation).
const ProductionCalendar* FindProductionCalendar(std::string_view name);
// "ru" — for error messages ("known: ru").
std::string_view KnownProductionCalendars();

// The Russian Labour Code's own calendar for a year, without any government decree
// (Трудовой кодекс РФ, ст. 112): the fixed public holidays, and a holiday that falls on a
// Saturday or Sunday moves the rest day to the next working day — except the New Year
// holidays and Christmas (1–8 January), whose weekend coincidences the law leaves to a
// decree, so this rule does not move them. Sorted by date. Empty outside years 1…9999.
std::vector<CalendarDay> RuLabourCodeYear(int32_t year);

}  // namespace hourbank::projections
