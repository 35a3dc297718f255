// Production calendars (projections/production_calendar.h, data in projections/calendars/ru.inc)
// and how business calendars use them (projections/units.h): the Russian data checked year by
// year against the official counts of working days, spot dates of every year, the Labour Code
// rule used for 2027 and outside the data, working-day arithmetic across holiday weeks and
// moved working Saturdays, open hours on public holidays, and the plan key.
//
// Official working days of the five-day week (Минтруд's production calendars, which follow the
// decrees): 2024 — 248, 2025 — 247, 2026 — 247. 2027 has no decree in the data: the Labour
// Code rule alone gives 249 (docs/calendars.md).
#include <catch2/catch.hpp>

#include <date/date.h>

#include <string>

#include "projections/plan.h"
#include "projections/production_calendar.h"
#include "projections/units.h"

namespace hourbank::projections {
namespace {

using Catch::Matchers::Contains;

const ProductionCalendar& Ru() {
  const ProductionCalendar* ru = FindProductionCalendar("ru");
  REQUIRE(ru != nullptr);
  return *ru;
}

int WorkingDaysIn(const ProductionCalendar& pc, int year) {
  int n = 0;
  for (date::sys_days d = date::sys_days{date::year{year} / 1 / 1};
       d < date::sys_days{date::year{year + 1} / 1 / 1}; d += date::days{1}) {
    const date::year_month_day ymd{d};
    const int32_t yyyymmdd = year * 10000 + static_cast<int32_t>(unsigned(ymd.month())) * 100 +
                             static_cast<int32_t>(unsigned(ymd.day()));
    n += pc.IsWorkingDay(yyyymmdd) ? 1 : 0;
  }
  return n;
}

// Moscow wall time -> UTC µs (Moscow is UTC+3 all year since 2014).
int64_t MskUs(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  const auto days = date::sys_days{date::year{y} / date::month{mo} / date::day{d}};
  return (int64_t{days.time_since_epoch().count()} * 86400 + (h - 3) * 3600 + mi * 60) *
         int64_t{1'000'000};
}

Zone Moscow() {
  Result<Zone> zone = Zone::Find("Europe/Moscow");
  REQUIRE(zone.ok());
  return zone.value();
}

// AlterCPA's working hours: "по будням с 10:00 до 18:00 по UTC+3", with the ru calendar.
Calendar AlterCpaHours() {
  Calendar c;
  c.timezone = "Europe/Moscow";
  c.days_mask = 0x1F;
  c.open_minute = 10 * 60;
  c.close_minute = 18 * 60;
  c.production_calendar = "ru";
  return c;
}

Calendar AlwaysOpenRu() {
  Calendar c;
  c.timezone = "Europe/Moscow";
  c.always_open = true;
  c.production_calendar = "ru";
  return c;
}

// ---------------------------------------------------------------- the data

TEST_CASE("the ru calendar has the official number of working days in 2024, 2025 and 2026",
          "[calendar][ru]") {
  CHECK(WorkingDaysIn(Ru(), 2024) == 248);
  CHECK(WorkingDaysIn(Ru(), 2025) == 247);
  CHECK(WorkingDaysIn(Ru(), 2026) == 247);
  // No decree for 2027 in the data: the law's calendar alone (two January weekend holidays
  // not moved) gives 261 weekdays − 12 rest weekdays = 249.
  CHECK(WorkingDaysIn(Ru(), 2027) == 249);
}

TEST_CASE("the ru calendar says where each year's data comes from", "[calendar][ru]") {
  CHECK(Ru().first_year() == 2024);
  CHECK(Ru().last_year() == 2027);
  CHECK(Ru().SourceOf(2024) == YearSource::kDecree);
  CHECK(Ru().SourceOf(2026) == YearSource::kDecree);
  CHECK(Ru().SourceOf(2027) == YearSource::kRule);
  CHECK(Ru().SourceOf(2023) == YearSource::kFallback);
  CHECK(Ru().SourceOf(2028) == YearSource::kFallback);
  CHECK(FindProductionCalendar("de") == nullptr);
  CHECK(FindProductionCalendar("") == nullptr);
  CHECK(FindProductionCalendar("RU") == nullptr);
}

TEST_CASE("2024 spot dates: the New Year week, the April and December transfers",
          "[calendar][ru]") {
  const ProductionCalendar& ru = Ru();
  CHECK_FALSE(ru.IsWorkingDay(20240108));  // Mon, New Year holiday
  CHECK(ru.IsWorkingDay(20240109));        // Tue
  CHECK_FALSE(ru.IsWorkingDay(20240223));  // Fri, 23 February
  CHECK(ru.IsWorkingDay(20240427));        // Sat, worked for Mon 29 Apr
  CHECK_FALSE(ru.IsWorkingDay(20240429));
  CHECK_FALSE(ru.IsWorkingDay(20240430));
  CHECK_FALSE(ru.IsWorkingDay(20240510));  // Fri, from Sat 6 Jan
  CHECK(ru.IsWorkingDay(20241102));        // Sat
  CHECK_FALSE(ru.IsWorkingDay(20241104));  // Mon, National Unity Day
  CHECK(ru.IsWorkingDay(20241228));        // Sat
  CHECK_FALSE(ru.IsWorkingDay(20241230));
  CHECK_FALSE(ru.IsWorkingDay(20241231));
  CHECK_FALSE(ru.IsWorkingDay(20241229));  // an ordinary Sunday
  CHECK(ru.StatusOf(20240612) == DayStatus::kHoliday);
  CHECK(ru.StatusOf(20240510) == DayStatus::kDayOff);
  CHECK(ru.StatusOf(20240427) == DayStatus::kWorkingDay);
  CHECK(ru.StatusOf(20240611) == DayStatus::kRegular);
}

TEST_CASE("2025 spot dates: the May and June bridges and the 1 November Saturday",
          "[calendar][ru]") {
  const ProductionCalendar& ru = Ru();
  CHECK_FALSE(ru.IsWorkingDay(20250102));
  CHECK(ru.IsWorkingDay(20250109));  // Thu, first working day
  CHECK(ru.IsWorkingDay(20250224));  // Mon: 23 Feb's rest day went to 8 May, not here
  CHECK(ru.IsWorkingDay(20250310));  // Mon: 8 Mar's rest day went to 13 Jun
  CHECK_FALSE(ru.IsWorkingDay(20250502));
  CHECK_FALSE(ru.IsWorkingDay(20250508));
  CHECK_FALSE(ru.IsWorkingDay(20250509));
  CHECK(ru.IsWorkingDay(20250507));
  CHECK_FALSE(ru.IsWorkingDay(20250613));
  CHECK(ru.IsWorkingDay(20251101));  // Sat, worked for Mon 3 Nov
  CHECK_FALSE(ru.IsWorkingDay(20251103));
  CHECK_FALSE(ru.IsWorkingDay(20251104));
  CHECK_FALSE(ru.IsWorkingDay(20251231));
  CHECK(ru.IsWorkingDay(20251230));
}

TEST_CASE("2026 spot dates: 1 to 11 January, 9 March and 11 May, 31 December", "[calendar][ru]") {
  const ProductionCalendar& ru = Ru();
  for (int32_t d = 20260101; d <= 20260111; ++d) CHECK_FALSE(ru.IsWorkingDay(d));
  CHECK(ru.IsWorkingDay(20260112));
  CHECK_FALSE(ru.IsWorkingDay(20260223));  // Mon
  CHECK_FALSE(ru.IsWorkingDay(20260309));  // Mon, for Sun 8 Mar
  CHECK_FALSE(ru.IsWorkingDay(20260501));
  CHECK(ru.IsWorkingDay(20260504));
  CHECK_FALSE(ru.IsWorkingDay(20260511));  // Mon, for Sat 9 May
  CHECK_FALSE(ru.IsWorkingDay(20260612));
  CHECK_FALSE(ru.IsWorkingDay(20261104));
  CHECK(ru.IsWorkingDay(20261230));
  CHECK_FALSE(ru.IsWorkingDay(20261231));  // Thu, from Sun 4 Jan
}

TEST_CASE("2027 is the Labour Code rule: weekend holidays move to Monday, January ones do not",
          "[calendar][ru]") {
  const ProductionCalendar& ru = Ru();
  // The listed rows are exactly what the rule computes.
  const std::vector<CalendarDay> listed = ru.Year(2027);
  const std::vector<CalendarDay> rule = RuLabourCodeYear(2027);
  REQUIRE(listed.size() == rule.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    CHECK(listed[i].yyyymmdd == rule[i].yyyymmdd);
    CHECK(listed[i].status == rule[i].status);
  }
  CHECK_FALSE(ru.IsWorkingDay(20270503));  // Mon, for Sat 1 May
  CHECK_FALSE(ru.IsWorkingDay(20270510));  // Mon, for Sun 9 May
  CHECK_FALSE(ru.IsWorkingDay(20270614));  // Mon, for Sat 12 Jun
  CHECK(ru.IsWorkingDay(20270111));        // Mon: Sat 2 / Sun 3 Jan are not moved by the rule
  CHECK_FALSE(ru.IsWorkingDay(20270223));
}

TEST_CASE("outside its years the ru calendar falls back to the Labour Code rule",
          "[calendar][ru]") {
  const ProductionCalendar& ru = Ru();
  // 2028: Sat 4 Nov -> Mon 6 Nov; Thu 2 Nov an ordinary working day.
  CHECK(ru.StatusOf(20281104) == DayStatus::kHoliday);
  CHECK(ru.StatusOf(20281106) == DayStatus::kDayOff);
  CHECK(ru.IsWorkingDay(20281102));
  CHECK_FALSE(ru.IsWorkingDay(20280612));  // Mon, Russia Day
  // 2023 had a decree (Sun 1 Jan -> Fri 24 Feb) that the rule does not know: the fallback says
  // 24 Feb 2023 is a working day. This is the documented limit of the fallback.
  CHECK(ru.SourceOf(2023) == YearSource::kFallback);
  CHECK(ru.IsWorkingDay(20230224));
  CHECK_FALSE(ru.IsWorkingDay(20230223));
  // The fallback works inside the calendar walks too: 1–8 January 2028 are holidays, so the
  // first half of January 2028 has one working week, Mon 10 – Fri 14: 5 × 8 h = 2400 min.
  CHECK(ServiceMinutesBetween(AlterCpaHours(), Moscow(), MskUs(2028, 1, 1), MskUs(2028, 1, 15)) ==
        5 * 480);
  CHECK(RuLabourCodeYear(0).empty());
  CHECK(RuLabourCodeYear(10000).empty());
}

// ---------------------------------------------------------------- working days

TEST_CASE("working days skip a holiday week and count a moved working Saturday",
          "[calendar][units]") {
  const Zone msk = Moscow();
  const Calendar c = AlterCpaHours();
  // Fri 27 Dec 2024 14:00. Working days after it: Sat 28 Dec (moved), then Mon 30, Tue 31 Dec
  // and 1–8 Jan are rest days: Thu 9 Jan 2025 is the second.
  const int64_t friday = MskUs(2024, 12, 27, 14);
  CHECK(AddWorkingDays(c, msk, friday, 1) == MskUs(2024, 12, 28, 18));
  CHECK(AddWorkingDays(c, msk, friday, 2) == MskUs(2025, 1, 9, 18));
  CHECK(AddWorkingDays(c, msk, friday, 3) == MskUs(2025, 1, 10, 18));
  // Wed 30 Apr 2025: 1 May holiday, 2 May rest, weekend -> Mon 5, Tue 6, Wed 7 May; the 4th
  // skips Thu 8 (rest), Fri 9 (holiday) and the weekend: Mon 12 May.
  const int64_t wednesday = MskUs(2025, 4, 30, 14);
  CHECK(AddWorkingDays(c, msk, wednesday, 3) == MskUs(2025, 5, 7, 18));
  CHECK(AddWorkingDays(c, msk, wednesday, 4) == MskUs(2025, 5, 12, 18));
  // Without the production calendar the same days are plain Mon–Fri: Thu 1 May, Fri 2, Mon 5.
  Calendar plain = c;
  plain.production_calendar.clear();
  CHECK(AddWorkingDays(plain, msk, wednesday, 3) == MskUs(2025, 5, 5, 18));
}

TEST_CASE("working days on a 24x7 calendar are Monday to Friday minus public holidays",
          "[calendar][units]") {
  const Zone msk = Moscow();
  // Fri 8 May 2026 10:00: Sat, Sun rest, Mon 11 May rest (for Sat 9 May): Tue 12, Wed 13,
  // Thu 14 -> the end of Thursday, Fri 15 May 00:00.
  CHECK(AddWorkingDays(AlwaysOpenRu(), msk, MskUs(2026, 5, 8, 10), 3) == MskUs(2026, 5, 15));
  // A 24x7 calendar without a production calendar still skips the weekend: Mon 11, Tue 12,
  // Wed 13 -> Thu 14 May 00:00 (before the fix every day of a 24x7 calendar counted: Mon 12
  // 00:00 would have been the answer for Sat, Sun, Mon).
  Calendar plain = AlwaysOpenRu();
  plain.production_calendar.clear();
  CHECK(AddWorkingDays(plain, msk, MskUs(2026, 5, 8, 10), 3) == MskUs(2026, 5, 14));
  CHECK_FALSE(IsWorkingDay(plain, 20260509));
  CHECK(IsWorkingDay(plain, 20260511));
  CHECK_FALSE(IsWorkingDay(AlwaysOpenRu(), 20260511));
  // Service time on 24x7 still counts every minute, holidays included.
  CHECK(ServiceMinutesBetween(AlwaysOpenRu(), msk, MskUs(2026, 5, 9), MskUs(2026, 5, 10)) == 1440);
}

TEST_CASE("a public holiday weekday is off hours and a moved working Saturday is in hours",
          "[calendar][units]") {
  const Zone msk = Moscow();
  const Calendar c = AlterCpaHours();
  CHECK_FALSE(IsOpen(c, msk, MskUs(2025, 11, 4, 12)));  // Tue, National Unity Day
  CHECK_FALSE(IsOpen(c, msk, MskUs(2025, 11, 3, 12)));  // Mon, rest day for Sat 1 Nov
  CHECK(IsOpen(c, msk, MskUs(2025, 11, 1, 12)));        // Sat, a working day
  CHECK_FALSE(IsOpen(c, msk, MskUs(2025, 11, 1, 19)));  // ... but only in the hours
  CHECK(IsOpen(c, msk, MskUs(2025, 11, 5, 12)));        // Wed, ordinary
  // Service minutes over the week of 1–7 Nov 2025: Sat 1 (8 h), Wed 5, Thu 6, Fri 7 (8 h each).
  CHECK(ServiceMinutesBetween(c, msk, MskUs(2025, 11, 1), MskUs(2025, 11, 8)) == 4 * 480);
  // A Mon–Sat calendar closes a Saturday public holiday too (Sat 9 May 2026).
  Calendar six = c;
  six.days_mask = 0x3F;
  CHECK_FALSE(IsOpen(six, msk, MskUs(2026, 5, 9, 12)));
  CHECK(IsOpen(six, msk, MskUs(2026, 5, 16, 12)));
}

// ---------------------------------------------------------------- the plan key

constexpr const char* kPlanWithRu = R"(
[[plan]]
id = "p"
currency = "RUB"

[plan.calendar]
timezone = "Europe/Moscow"
production_calendar = "ru"

[plan.sla.service_hours]
timezone = "Europe/Moscow"
hours = "24x7"
production_calendar = "ru"

[[plan.sla.targets]]
priority = 2
resolution_working_days = 3
)";

TEST_CASE("production_calendar names a calendar in plan files and survives the canonical text",
          "[calendar][plan]") {
  Result<std::vector<PlanSpec>> plans = ParsePlans(kPlanWithRu, "p.toml");
  INFO((plans.ok() ? std::string() : plans.error().message));
  REQUIRE(plans.ok());
  const PlanSpec& p = plans->at(0);
  CHECK(p.calendar->production_calendar == "ru");
  CHECK(p.sla->service_hours.production_calendar == "ru");
  const std::string canonical = CanonicalToml(p);
  CHECK_THAT(canonical, Contains("production_calendar = \"ru\""));
  Result<PlanSpec> back = ParseCanonicalPlan(canonical);
  REQUIRE(back.ok());
  CHECK(*back == p);
  CHECK(CanonicalToml(*back) == canonical);
}

TEST_CASE("a calendar without production_calendar keeps its old canonical text",
          "[calendar][plan]") {
  Result<std::vector<PlanSpec>> plans = ParsePlans(
      "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\n[plan.calendar]\ntimezone = \"UTC\"\n", "p.toml");
  REQUIRE(plans.ok());
  CHECK_THAT(CanonicalToml(plans->at(0)), !Contains("production_calendar"));
}

TEST_CASE("an unknown or mistyped production calendar is refused naming the key",
          "[calendar][plan]") {
  Result<std::vector<PlanSpec>> unknown = ParsePlans(
      "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\n[plan.calendar]\ntimezone = \"UTC\"\n"
      "production_calendar = \"de\"\n",
      "p.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message, Contains("calendar.production_calendar"));
  CHECK_THAT(unknown.error().message, Contains("unknown production calendar \"de\""));
  CHECK_THAT(unknown.error().message, Contains("ru"));
  Result<std::vector<PlanSpec>> typed = ParsePlans(
      "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\n[plan.calendar]\ntimezone = \"UTC\"\n"
      "production_calendar = 7\n",
      "p.toml");
  REQUIRE_FALSE(typed.ok());
  CHECK_THAT(typed.error().message, Contains("expected a string"));
}

}  // namespace
}  // namespace hourbank::projections
