// Tests for projections/units.h: months, zones, business calendars, parsers, formatting and
// rounding. Zones are the real IANA ones from the system tz database: Europe/Moscow (UTC+3,
// no DST since 2014), America/New_York (DST), Asia/Kathmandu (+05:45) and UTC. Expected
// instants are written as UTC wall times worked out by hand.
#include "projections/units.h"

#include <date/date.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace hourbank::projections {
namespace {

// UTC wall time -> µs since the epoch.
int64_t UtcUs(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  const auto days = date::sys_days{date::year{y} / date::month{mo} / date::day{d}};
  return (int64_t{days.time_since_epoch().count()} * 86400 + h * 3600 + mi * 60 + s) *
         int64_t{1'000'000};
}

constexpr int64_t kMinuteUs = 60'000'000;

Zone ZoneNamed(const char* name) {
  Result<Zone> zone = Zone::Find(name);
  REQUIRE(zone.ok());
  return zone.value();
}

// Mon–Fri 10:00–18:00.
Calendar WeekdaysTenToSix() {
  Calendar c;
  c.timezone = "Europe/Moscow";
  c.days_mask = 0x1F;
  c.open_minute = 10 * 60;
  c.close_minute = 18 * 60;
  return c;
}

// Mon–Sat 09:00–19:00.
Calendar MonSatNineToSeven() {
  Calendar c;
  c.timezone = "Europe/Moscow";
  c.days_mask = 0x3F;
  c.open_minute = 9 * 60;
  c.close_minute = 19 * 60;
  return c;
}

Calendar AlwaysOpen() {
  Calendar c;
  c.always_open = true;
  return c;
}

// ---------------------------------------------------------------- months

TEST_CASE("months are valid only for years 1970 to 9999 and months 1 to 12", "[units][month]") {
  CHECK(ValidMonth(197001));
  CHECK(ValidMonth(202510));
  CHECK(ValidMonth(999912));
  CHECK_FALSE(ValidMonth(196912));
  CHECK_FALSE(ValidMonth(202500));
  CHECK_FALSE(ValidMonth(202513));
  CHECK_FALSE(ValidMonth(1000001));
  CHECK_FALSE(ValidMonth(0));
}

TEST_CASE("adding months carries across year boundaries in both directions", "[units][month]") {
  CHECK(AddMonths(202512, 1) == 202601);
  CHECK(AddMonths(202601, -1) == 202512);
  CHECK(AddMonths(202510, 27) == 202801);
  CHECK(AddMonths(202510, -22) == 202312);
  CHECK(AddMonths(202510, 0) == 202510);
  CHECK(AddMonths(202501, -12) == 202401);
  CHECK(NextMonth(202512) == 202601);
  CHECK(PrevMonth(202601) == 202512);
  CHECK(NextMonth(202502) == 202503);
}

TEST_CASE("months between counts calendar months and is negative backwards", "[units][month]") {
  CHECK(MonthsBetween(202510, 202601) == 3);
  CHECK(MonthsBetween(202601, 202510) == -3);
  CHECK(MonthsBetween(202001, 202512) == 71);
  CHECK(MonthsBetween(202510, 202510) == 0);
  CHECK(AddMonths(202307, MonthsBetween(202307, 202902)) == 202902);
}

TEST_CASE("a month formats as YYYY-MM with leading zeros", "[units][month]") {
  CHECK(FormatMonth(202510) == "2025-10");
  CHECK(FormatMonth(197001) == "1970-01");
  CHECK(FormatMonth(999912) == "9999-12");
}

TEST_CASE("a month parses from strict YYYY-MM and round-trips", "[units][month]") {
  Result<uint32_t> m = ParseMonth("2025-10");
  REQUIRE(m.ok());
  CHECK(m.value() == 202510);
  CHECK(ParseMonth("1970-01").value() == 197001);
  CHECK(ParseMonth(FormatMonth(209912)).value() == 209912);
}

TEST_CASE("malformed months are refused with the expected form named", "[units][month]") {
  for (const char* bad : {"2025-1", "25-10", "2025/10", "2025-10-01", "", " 2025-10", "2025-1a",
                          "202510", "2025-10 "}) {
    INFO(bad);
    Result<uint32_t> m = ParseMonth(bad);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == Code::kInvalid);
    CHECK(m.error().message.find("YYYY-MM") != std::string::npos);
  }
}

TEST_CASE("a month that does not exist is refused as such", "[units][month]") {
  for (const char* bad : {"2025-13", "2025-00"}) {
    Result<uint32_t> m = ParseMonth(bad);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == Code::kInvalid);
    CHECK(m.error().message.find("does not exist") != std::string::npos);
  }
  Result<uint32_t> early = ParseMonth("1969-12");
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().message.find("1970") != std::string::npos);
}

// ---------------------------------------------------------------- zones

TEST_CASE("an unknown zone name is refused with a hint", "[units][zone]") {
  Result<Zone> z = Zone::Find("Mars/Olympus");
  REQUIRE_FALSE(z.ok());
  CHECK(z.error().code == Code::kInvalid);
  CHECK(z.error().message ==
        "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Moscow");
  CHECK_FALSE(Zone::Find("").ok());
  CHECK_FALSE(Zone::Find("europe/moscow").ok());
}

TEST_CASE("a found zone keeps its name and UTC is always available", "[units][zone]") {
  CHECK(ZoneNamed("Europe/Moscow").name() == "Europe/Moscow");
  CHECK(Zone::Utc().name() == "UTC");
  CHECK(Zone::Utc().Local(UtcUs(2025, 10, 3, 14)).utc_offset_s == 0);
}

TEST_CASE("local time in Moscow is three hours ahead with the weekday and minute",
          "[units][zone]") {
  const LocalTime lt = ZoneNamed("Europe/Moscow").Local(UtcUs(2025, 10, 3, 11, 0, 7) + 999'999);
  CHECK(lt.yyyymmdd == 20251003);
  CHECK(lt.weekday == 4);  // Friday
  CHECK(lt.minute_of_day == 14 * 60);
  CHECK(lt.second == 7);
  CHECK(lt.utc_offset_s == 3 * 3600);
}

TEST_CASE("local time before the epoch rounds down to the earlier second", "[units][zone]") {
  const LocalTime lt = Zone::Utc().Local(-1);
  CHECK(lt.yyyymmdd == 19691231);
  CHECK(lt.weekday == 2);  // Wednesday
  CHECK(lt.minute_of_day == 1439);
  CHECK(lt.second == 59);
}

TEST_CASE("a Moscow month starts at 21:00 UTC on the previous day", "[units][zone]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(msk.MonthStartUs(202510) == UtcUs(2025, 9, 30, 21));
  CHECK(msk.MonthEndUs(202510) == UtcUs(2025, 10, 31, 21));
  CHECK(msk.MonthEndUs(202512) == UtcUs(2025, 12, 31, 21));
  CHECK(msk.MonthEndUs(202512) == msk.MonthStartUs(202601));
}

TEST_CASE("the local month of an instant changes exactly at local midnight", "[units][zone]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(msk.MonthOf(UtcUs(2025, 9, 30, 21)) == 202510);
  CHECK(msk.MonthOf(UtcUs(2025, 9, 30, 21) - 1) == 202509);
  CHECK(Zone::Utc().MonthOf(UtcUs(2025, 9, 30, 21)) == 202509);
}

TEST_CASE("a month span holds only instants of its month and ends at a month or offset change",
          "[units][zone]") {
  // Chile moves its clocks at local midnight (a gap and a fold across the date line of the
  // day), Lord Howe by 30 minutes, Moscow changed its offset for good in 2011 and 2014.
  for (const char* name : {"UTC", "Europe/Moscow", "America/New_York", "America/Santiago",
                           "Australia/Lord_Howe", "Asia/Kathmandu"}) {
    INFO(name);
    const Zone z = ZoneNamed(name);
    for (int64_t t = UtcUs(2010, 1, 1) + 123'457; t < UtcUs(2027, 1, 1); t += 26'597'300'001) {
      const Zone::MonthSpan span = z.MonthSpanOf(t);
      INFO(t);
      REQUIRE(span.Contains(t));
      CHECK(span.month == z.MonthOf(t));
      CHECK(z.MonthOf(span.from_us) == span.month);
      CHECK(z.MonthOf(span.to_us - 1) == span.month);
      const bool month_ends = z.MonthOf(span.to_us) != span.month;
      const bool offset_changes =
          z.Local(span.to_us).utc_offset_s != z.Local(span.to_us - 1).utc_offset_s;
      CHECK((month_ends || offset_changes));
    }
  }
  const Zone::MonthSpan utc = Zone::Utc().MonthSpanOf(UtcUs(2026, 2, 14, 12));
  CHECK(utc.month == 202602);
  CHECK(utc.from_us == UtcUs(2026, 2, 1));
  CHECK(utc.to_us == UtcUs(2026, 3, 1));
  CHECK_FALSE(Zone::MonthSpan{}.Contains(0));
}

TEST_CASE("Kathmandu months and local times use the +05:45 offset", "[units][zone]") {
  const Zone ktm = ZoneNamed("Asia/Kathmandu");
  CHECK(ktm.MonthStartUs(202510) == UtcUs(2025, 9, 30, 18, 15));
  CHECK(ktm.Local(UtcUs(2025, 10, 3, 8, 15)).minute_of_day == 14 * 60);
  CHECK(ktm.FormatIso(UtcUs(2025, 10, 3, 8, 15)) == "2025-10-03T14:00:00+05:45");
}

TEST_CASE("day start is local midnight", "[units][zone]") {
  CHECK(ZoneNamed("Europe/Moscow").DayStartUs(20251003) == UtcUs(2025, 10, 2, 21));
  CHECK(ZoneNamed("America/New_York").DayStartUs(20260308) == UtcUs(2026, 3, 8, 5));
  CHECK(ZoneNamed("America/New_York").DayStartUs(20260309) == UtcUs(2026, 3, 9, 4));
}

TEST_CASE("a local time in the spring DST gap is refused", "[units][zone]") {
  const Zone ny = ZoneNamed("America/New_York");
  Result<int64_t> gap = ny.FromLocal(20260308, 2 * 60 + 30);
  REQUIRE_FALSE(gap.ok());
  CHECK(gap.error().code == Code::kInvalid);
  CHECK(gap.error().message.find("does not exist") != std::string::npos);
  // Either side of the gap is fine: 01:59 EST and 03:00 EDT.
  CHECK(ny.FromLocal(20260308, 1 * 60 + 59).value() == UtcUs(2026, 3, 8, 6, 59));
  CHECK(ny.FromLocal(20260308, 3 * 60).value() == UtcUs(2026, 3, 8, 7));
}

TEST_CASE("an ambiguous autumn local time resolves to the earlier instant", "[units][zone]") {
  const Zone ny = ZoneNamed("America/New_York");
  Result<int64_t> fold = ny.FromLocal(20261101, 1 * 60 + 30);
  REQUIRE(fold.ok());
  CHECK(fold.value() == UtcUs(2026, 11, 1, 5, 30));  // 01:30 EDT, not 01:30 EST (06:30Z)
}

TEST_CASE("from-local carries seconds and microseconds and refuses impossible values",
          "[units][zone]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(msk.FromLocal(20251003, 14 * 60, 5, 250'000).value() ==
        UtcUs(2025, 10, 3, 11, 0, 5) + 250'000);
  CHECK_FALSE(msk.FromLocal(20250229, 0).ok());
  CHECK_FALSE(msk.FromLocal(20251003, 1440).ok());
  CHECK_FALSE(msk.FromLocal(20251003, -1).ok());
  CHECK_FALSE(msk.FromLocal(20251003, 0, 60).ok());
  CHECK_FALSE(msk.FromLocal(20251003, 0, 0, 1'000'000).ok());
}

TEST_CASE("ISO formatting writes the local offset and fractions only when present",
          "[units][zone]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(msk.FormatIso(UtcUs(2025, 10, 3, 11)) == "2025-10-03T14:00:00+03:00");
  CHECK(msk.FormatIso(UtcUs(2025, 10, 3, 11) + 500'000) == "2025-10-03T14:00:00.500000+03:00");
  CHECK(Zone::Utc().FormatIso(UtcUs(2025, 10, 3, 11)) == "2025-10-03T11:00:00+00:00");
  CHECK(ZoneNamed("America/New_York").FormatIso(UtcUs(2025, 10, 3, 18, 0, 5)) ==
        "2025-10-03T14:00:05-04:00");
  CHECK(Zone::Utc().FormatIso(-1) == "1969-12-31T23:59:59.999999+00:00");
}

// ---------------------------------------------------------------- calendar

TEST_CASE("a weekday opens at 10:00 and closes at 18:00 local", "[units][calendar]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  const Calendar c = WeekdaysTenToSix();
  // Friday 2025-10-03; Moscow local = UTC + 3.
  CHECK_FALSE(IsOpen(c, msk, UtcUs(2025, 10, 3, 6, 59)));  // 09:59
  CHECK(IsOpen(c, msk, UtcUs(2025, 10, 3, 7, 0)));         // 10:00
  CHECK(IsOpen(c, msk, UtcUs(2025, 10, 3, 14, 59)));       // 17:59
  CHECK_FALSE(IsOpen(c, msk, UtcUs(2025, 10, 3, 15, 0)));  // 18:00
}

TEST_CASE("Saturday is closed under a Monday-to-Friday calendar", "[units][calendar]") {
  CHECK_FALSE(IsOpen(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 4, 9)));
  CHECK(IsOpen(MonSatNineToSeven(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 4, 9)));
}

TEST_CASE("a holiday is closed all day", "[units][calendar]") {
  Calendar c = WeekdaysTenToSix();
  c.holidays = {20251003};
  CHECK_FALSE(IsOpen(c, ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 3, 9)));  // Fri 12:00
  CHECK(IsOpen(c, ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 2, 9)));        // Thu 12:00
}

TEST_CASE("an always-open calendar is open at any hour of any day", "[units][calendar]") {
  CHECK(IsOpen(AlwaysOpen(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 5, 0, 30)));  // Sun 03:30
}

TEST_CASE("the open hour is judged in the calendar's zone, not UTC", "[units][calendar]") {
  // 07:30 UTC is 10:30 in Moscow (open) and 03:30 in New York (closed).
  CHECK(IsOpen(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 3, 7, 30)));
  CHECK_FALSE(IsOpen(WeekdaysTenToSix(), ZoneNamed("America/New_York"), UtcUs(2025, 10, 3, 7, 30)));
}

TEST_CASE("Friday 17:30 to Monday 10:30 is 60 service minutes under Mon-Fri 10-18",
          "[units][calendar]") {
  CHECK(ServiceMinutesBetween(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"),
                              UtcUs(2025, 10, 3, 14, 30), UtcUs(2025, 10, 6, 7, 30)) == 60);
}

TEST_CASE("a span over Sunday counts only Saturday and Monday under Mon-Sat 9-19",
          "[units][calendar]") {
  // Saturday 18:00 -> Monday 10:00 Moscow: 60 on Saturday, 0 on Sunday, 60 on Monday.
  CHECK(ServiceMinutesBetween(MonSatNineToSeven(), ZoneNamed("Europe/Moscow"),
                              UtcUs(2025, 10, 4, 15), UtcUs(2025, 10, 6, 7)) == 120);
}

TEST_CASE("service time under 24x7 is the whole span", "[units][calendar]") {
  CHECK(ServiceMinutesBetween(AlwaysOpen(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 1),
                              UtcUs(2025, 10, 3, 12)) == 60 * 60);
}

TEST_CASE("a span beyond the walk bound is clamped 3660 calendar days after its start, in the zone",
          "[units][calendar][dst]") {
  // Berlin, 2024-03-20 00:00 CET (+01:00) = 2024-03-19T23:00Z. 3660 calendar days later is
  // 2034-03-28 00:00, after the change to CEST (+02:00) on 2034-03-26: 2034-03-27T22:00Z. That
  // is 3660 × 1440 − 60 = 5 270 340 minutes (one day of 23 hours in the span), not the
  // 5 270 400 of 3660 × 86 400 s, which would end at 01:00 local.
  const Zone berlin = ZoneNamed("Europe/Berlin");
  CHECK(ServiceMinutesBetween(AlwaysOpen(), berlin, UtcUs(2024, 3, 19, 23), UtcUs(2040, 1, 1)) ==
        5'270'340);
  // The same span in Moscow (no DST since 2014) has 3660 days of 24 hours.
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(ServiceMinutesBetween(AlwaysOpen(), msk, UtcUs(2024, 3, 19, 21), UtcUs(2040, 1, 1)) ==
        3660 * 1440);
}

TEST_CASE("adding calendar days keeps the local wall time across a DST change",
          "[units][zone][dst]") {
  const Zone berlin = ZoneNamed("Europe/Berlin");
  // Sat 2024-03-30 12:00 CET (11:00Z) + 1 day = Sun 2024-03-31 12:00 CEST (10:00Z): 23 hours.
  CHECK(berlin.AddLocalDays(UtcUs(2024, 3, 30, 11), 1) == UtcUs(2024, 3, 31, 10));
  // Sat 2024-10-26 12:00 CEST (10:00Z) + 1 day = Sun 2024-10-27 12:00 CET (11:00Z): 25 hours.
  CHECK(berlin.AddLocalDays(UtcUs(2024, 10, 26, 10), 1) == UtcUs(2024, 10, 27, 11));
  // Backwards, and sub-second parts kept: 2024-03-31 12:00:00.5 CEST − 1 day = 03-30 12:00:00.5
  // CET.
  CHECK(berlin.AddLocalDays(UtcUs(2024, 3, 31, 10) + 500'000, -1) ==
        UtcUs(2024, 3, 30, 11) + 500'000);
  // 02:30 on 2024-03-30 + 1 day falls in the gap (02:00-03:00 does not exist on 03-31): the
  // transition instant, 03:00 CEST = 01:00Z.
  CHECK(berlin.AddLocalDays(UtcUs(2024, 3, 30, 1, 30), 1) == UtcUs(2024, 3, 31, 1));
  // UTC: a day is 24 hours.
  CHECK(Zone::Utc().AddLocalDays(UtcUs(2024, 3, 30, 11), 1) == UtcUs(2024, 3, 31, 11));
}

TEST_CASE("a holiday inside the span removes that day's hours", "[units][calendar]") {
  Calendar c = WeekdaysTenToSix();
  const Zone msk = ZoneNamed("Europe/Moscow");
  // Monday 10:00 -> Friday 18:00 = 5 days of 8 hours.
  const int64_t from = UtcUs(2025, 10, 6, 7);
  const int64_t to = UtcUs(2025, 10, 10, 15);
  CHECK(ServiceMinutesBetween(c, msk, from, to) == 5 * 480);
  c.holidays = {20250101, 20251008, 20251231};
  CHECK(ServiceMinutesBetween(c, msk, from, to) == 4 * 480);
}

TEST_CASE("service minutes are floored to whole minutes and empty when reversed",
          "[units][calendar]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  const Calendar c = WeekdaysTenToSix();
  const int64_t ten = UtcUs(2025, 10, 6, 7);  // Monday 10:00
  CHECK(ServiceMinutesBetween(c, msk, ten, ten + 59'999'999) == 0);
  CHECK(ServiceMinutesBetween(c, msk, ten, ten + 90 * 1'000'000) == 1);
  CHECK(ServiceMinutesBetween(c, msk, ten + kMinuteUs, ten) == 0);
  CHECK(ServiceMinutesBetween(c, msk, ten, ten) == 0);
}

TEST_CASE("a whole day open calendar counts 23 hours on the DST spring-forward day",
          "[units][calendar]") {
  Calendar c;
  c.days_mask = 0x7F;
  c.open_minute = 0;
  c.close_minute = 1440;
  const Zone ny = ZoneNamed("America/New_York");
  CHECK(ServiceMinutesBetween(c, ny, ny.DayStartUs(20260308), ny.DayStartUs(20260309)) == 23 * 60);
  CHECK(ServiceMinutesBetween(AlwaysOpen(), ny, ny.DayStartUs(20260308), ny.DayStartUs(20260309)) ==
        23 * 60);
}

TEST_CASE("spans longer than 3660 days are clamped", "[units][calendar]") {
  const int64_t from = UtcUs(2025, 1, 1);
  const int64_t to = UtcUs(2045, 1, 1);
  CHECK(ServiceMinutesBetween(AlwaysOpen(), Zone::Utc(), from, to) == int64_t{3660} * 1440);
  // Mon–Fri 10–18 over ten years: finishes (bounded loop) with about 2600 days of 8 hours.
  const int64_t weekdays = ServiceMinutesBetween(WeekdaysTenToSix(), Zone::Utc(), from, to);
  CHECK(weekdays > int64_t{2600} * 480);
  CHECK(weekdays < int64_t{2620} * 480);
}

TEST_CASE("adding service minutes skips the weekend", "[units][calendar]") {
  // Friday 17:30 + 60 service minutes = Monday 10:30 Moscow.
  CHECK(AddServiceMinutes(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"),
                          UtcUs(2025, 10, 3, 14, 30), 60) == UtcUs(2025, 10, 6, 7, 30));
  // Exactly the rest of Friday ends at Friday's close.
  CHECK(AddServiceMinutes(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"),
                          UtcUs(2025, 10, 3, 14, 30), 30) == UtcUs(2025, 10, 3, 15));
  // From a closed Saturday the clock starts at Monday's opening.
  CHECK(AddServiceMinutes(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 4, 9),
                          15) == UtcUs(2025, 10, 6, 7, 15));
  CHECK(AddServiceMinutes(WeekdaysTenToSix(), ZoneNamed("Europe/Moscow"), UtcUs(2025, 10, 4, 9),
                          0) == UtcUs(2025, 10, 4, 9));
}

TEST_CASE("adding service minutes is the inverse of counting them", "[units][calendar]") {
  Calendar holidays = WeekdaysTenToSix();
  holidays.holidays = {20251006, 20251104};
  const Zone ny = ZoneNamed("America/New_York");
  for (const Calendar& c : {WeekdaysTenToSix(), MonSatNineToSeven(), AlwaysOpen(), holidays}) {
    for (int64_t from : {UtcUs(2025, 10, 3, 14, 30), UtcUs(2025, 10, 4, 9, 17, 3),
                         UtcUs(2026, 3, 6, 20), UtcUs(2026, 10, 30, 13)}) {
      for (int64_t minutes : {1, 29, 60, 480, 481, 2000, 10000}) {
        const int64_t deadline = AddServiceMinutes(c, ny, from, minutes);
        INFO(ny.FormatIso(from) << " + " << minutes);
        CHECK(ServiceMinutesBetween(c, ny, from, deadline) == minutes);
        CHECK(ServiceMinutesBetween(c, ny, from, deadline - 1) == minutes - 1);
      }
    }
  }
}

TEST_CASE("a working-day deadline ends at the close of the Nth open day after",
          "[units][calendar]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  Calendar c = WeekdaysTenToSix();
  const int64_t friday = UtcUs(2025, 10, 3, 11);                       // Fri 14:00
  CHECK(AddWorkingDays(c, msk, friday, 1) == UtcUs(2025, 10, 6, 15));  // Mon 18:00
  CHECK(AddWorkingDays(c, msk, friday, 3) == UtcUs(2025, 10, 8, 15));  // Wed 18:00
  CHECK(AddWorkingDays(c, msk, friday, 0) == UtcUs(2025, 10, 3, 15));  // Fri 18:00
  c.holidays = {20251006};
  CHECK(AddWorkingDays(c, msk, friday, 1) == UtcUs(2025, 10, 7, 15));  // Tue 18:00
}

TEST_CASE("working days from a weekend start with Monday", "[units][calendar]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(AddWorkingDays(WeekdaysTenToSix(), msk, UtcUs(2025, 10, 4, 9), 1) ==
        UtcUs(2025, 10, 6, 15));
  CHECK(AddWorkingDays(WeekdaysTenToSix(), msk, UtcUs(2025, 10, 4, 9), 0) ==
        UtcUs(2025, 10, 6, 15));
  // 24x7: working days are still Monday–Friday (Sunday is not one): the first after Saturday is
  // Monday 6 October, ending at local midnight, Tue 7 00:00 Moscow = Mon 21:00 UTC.
  CHECK(AddWorkingDays(AlwaysOpen(), msk, UtcUs(2025, 10, 4, 9), 1) == UtcUs(2025, 10, 6, 21));
}

// ---------------------------------------------------------------- durations

TEST_CASE("durations in minutes, hours and decimal hours parse to minutes", "[units][parse]") {
  CHECK(ParseDurationMinutes("90m").value() == 90);
  CHECK(ParseDurationMinutes("1h30m").value() == 90);
  CHECK(ParseDurationMinutes("1.5h").value() == 90);
  CHECK(ParseDurationMinutes("2h").value() == 120);
  CHECK(ParseDurationMinutes("0.25h").value() == 15);
  CHECK(ParseDurationMinutes("1m").value() == 1);
  CHECK(ParseDurationMinutes("10000h").value() == 600000);
}

TEST_CASE("a bare number is refused with a hint to add a unit", "[units][parse]") {
  Result<int64_t> d = ParseDurationMinutes("45");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Code::kInvalid);
  CHECK(d.error().message.find("add a unit: 90m or 1.5h") != std::string::npos);
  CHECK(d.error().message.find("'45'") != std::string::npos);
}

TEST_CASE("a duration with a fraction of a minute is refused", "[units][parse]") {
  for (const char* bad : {"1.01h", "1.5m", "0.001h"}) {
    Result<int64_t> d = ParseDurationMinutes(bad);
    INFO(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message.find("whole number of minutes") != std::string::npos);
  }
}

TEST_CASE("zero, negative, empty, unit-only, malformed and too long durations are refused",
          "[units][parse]") {
  for (const char* bad : {"0m", "0h", "-1h", "+1h", "1h-5m", "", "h", "m", "10001h", "1h 30m",
                          "30m1h", "1h30", "1.h", ".5h", "1d", "1H", "1e2m", "1h30m5s"}) {
    Result<int64_t> d = ParseDurationMinutes(bad);
    INFO("'" << bad << "'");
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == Code::kInvalid);
    CHECK_FALSE(d.error().message.empty());
  }
}

// ---------------------------------------------------------------- currencies and money

TEST_CASE("currency minor digits follow ISO 4217", "[units][money]") {
  CHECK(CurrencyMinorDigits("RUB").value() == 2);
  CHECK(CurrencyMinorDigits("USD").value() == 2);
  CHECK(CurrencyMinorDigits("EUR").value() == 2);
  CHECK(CurrencyMinorDigits("GBP").value() == 2);
  CHECK(CurrencyMinorDigits("KZT").value() == 2);
  CHECK(CurrencyMinorDigits("BYN").value() == 2);
  CHECK(CurrencyMinorDigits("UAH").value() == 2);
  CHECK(CurrencyMinorDigits("CNY").value() == 2);
  CHECK(CurrencyMinorDigits("CHF").value() == 2);
  CHECK(CurrencyMinorDigits("JPY").value() == 0);
  CHECK(CurrencyMinorDigits("KWD").value() == 3);
  CHECK(CurrencyMinorDigits("BHD").value() == 3);
}

TEST_CASE("an unknown currency is refused naming it", "[units][money]") {
  for (const char* bad : {"XYZ", "rub", "", "RUBL"}) {
    Result<int> c = CurrencyMinorDigits(bad);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == Code::kInvalid);
    CHECK(c.error().message.find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("money amounts parse to minor units with up to the currency's decimals",
          "[units][money]") {
  CHECK(ParseMoneyMinor("2000", 2).value() == 200000);
  CHECK(ParseMoneyMinor("2000.00", 2).value() == 200000);
  CHECK(ParseMoneyMinor("15.5", 2).value() == 1550);
  CHECK(ParseMoneyMinor("0.01", 2).value() == 1);
  CHECK(ParseMoneyMinor("1500", 0).value() == 1500);
  CHECK(ParseMoneyMinor("1.234", 3).value() == 1234);
  CHECK(ParseMoneyMinor("10000000000000", 2).value() == 1'000'000'000'000'000);
  CHECK(ParseMoneyMinor("007.50", 2).value() == 750);
}

TEST_CASE("more decimals than the currency has are refused naming its digits", "[units][money]") {
  Result<int64_t> yen = ParseMoneyMinor("15.5", 0);
  REQUIRE_FALSE(yen.ok());
  CHECK(yen.error().message.find("decimal places") != std::string::npos);
  CHECK(yen.error().message.find('0') != std::string::npos);
  Result<int64_t> rub = ParseMoneyMinor("15.555", 2);
  REQUIRE_FALSE(rub.ok());
  CHECK(rub.error().message.find("2") != std::string::npos);
}

TEST_CASE("spaced, signed, zero, exponent and non-numeric amounts are refused", "[units][money]") {
  for (const char* bad : {"1 000.50", "-5", "+5", "0", "0.00", "abc", "1e5", "", ".5", "5.", "1,5",
                          "1.2.3", " 5", "5 "}) {
    Result<int64_t> m = ParseMoneyMinor(bad, 2);
    INFO("'" << bad << "'");
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == Code::kInvalid);
  }
}

TEST_CASE("amounts above 10^13 major units are refused", "[units][money]") {
  for (const char* bad : {"10000000000000.01", "10000000000001", "999999999999999999999"}) {
    Result<int64_t> m = ParseMoneyMinor(bad, 2);
    INFO(bad);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find("too large") != std::string::npos);
  }
}

// ---------------------------------------------------------------- times

TEST_CASE("a bare date means local midnight in the given zone", "[units][parse]") {
  CHECK(ParseTime("2025-10-03", ZoneNamed("Europe/Moscow")).value() == UtcUs(2025, 10, 2, 21));
  CHECK(ParseTime("2025-10-03", Zone::Utc()).value() == UtcUs(2025, 10, 3));
}

TEST_CASE("local date-times parse with T or a space, minutes or seconds", "[units][parse]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  CHECK(ParseTime("2025-10-03T14:00", msk).value() == UtcUs(2025, 10, 3, 11));
  CHECK(ParseTime("2025-10-03 14:00", msk).value() == UtcUs(2025, 10, 3, 11));
  CHECK(ParseTime("2025-10-03T14:00:05", msk).value() == UtcUs(2025, 10, 3, 11, 0, 5));
  CHECK(ParseTime("2025-10-03T14:00:05.25", msk).value() == UtcUs(2025, 10, 3, 11, 0, 5) + 250'000);
  CHECK(ParseTime("2024-02-29T00:00", Zone::Utc()).value() == UtcUs(2024, 2, 29));
}

TEST_CASE("an explicit offset overrides the zone", "[units][parse]") {
  const Zone ny = ZoneNamed("America/New_York");
  CHECK(ParseTime("2025-10-03T14:00Z", ny).value() == UtcUs(2025, 10, 3, 14));
  CHECK(ParseTime("2025-10-03T14:00+03:00", ny).value() == UtcUs(2025, 10, 3, 11));
  CHECK(ParseTime("2025-10-03T14:00-0500", ny).value() == UtcUs(2025, 10, 3, 19));
  CHECK(ParseTime("2025-10-03T14:00:05+05:45", ny).value() == UtcUs(2025, 10, 3, 8, 15, 5));
  // A local time inside New York's gap is fine once an offset pins it.
  CHECK(ParseTime("2026-03-08T02:30-05:00", ny).value() == UtcUs(2026, 3, 8, 7, 30));
}

TEST_CASE("times parse back from their own ISO formatting", "[units][parse]") {
  const Zone ktm = ZoneNamed("Asia/Kathmandu");
  const int64_t t = UtcUs(2025, 10, 3, 8, 15, 9) + 123'456;
  CHECK(ParseTime(ktm.FormatIso(t), Zone::Utc()).value() == t);
}

TEST_CASE("dates and times that do not exist are refused", "[units][parse]") {
  const Zone msk = ZoneNamed("Europe/Moscow");
  for (const char* bad :
       {"2025-02-29", "2025-13-01", "2025-10-32", "2025-00-10", "2025-10-03T24:00",
        "2025-10-03T14:60", "2025-10-03T14:00:60", "1969-12-31"}) {
    Result<int64_t> t = ParseTime(bad, msk);
    INFO(bad);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == Code::kInvalid);
    CHECK(t.error().message.find("does not exist") != std::string::npos);
  }
}

TEST_CASE("a local time in the DST gap is refused by the time parser", "[units][parse]") {
  Result<int64_t> t = ParseTime("2026-03-08T02:30", ZoneNamed("America/New_York"));
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message.find("America/New_York") != std::string::npos);
  CHECK(ParseTime("2026-11-01T01:30", ZoneNamed("America/New_York")).value() ==
        UtcUs(2026, 11, 1, 5, 30));
}

TEST_CASE("malformed times are refused naming the accepted forms", "[units][parse]") {
  for (const char* bad :
       {"", "03.10.2025", "2025-10-03T14", "2025-10-03T14:00+3", "2025-10-03T14:00+03:0",
        "2025-10-03X14:00", "2025-10-3", "2025-10-03T14:00:05.", "2025-10-03T14:00:05.1234567",
        "2025-10-03T14:00Zjunk", "2025-10-03T", "2025-10-03Z", "now"}) {
    Result<int64_t> t = ParseTime(bad, Zone::Utc());
    INFO("'" << bad << "'");
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == Code::kInvalid);
    CHECK(t.error().message.find("ISO 8601") != std::string::npos);
  }
}

// ---------------------------------------------------------------- formatting

TEST_CASE("money formats with the currency's sign and space-grouped thousands", "[units][format]") {
  CHECK(FormatMoney(2000000, "RUB") == "20 000.00 \u20BD");
  CHECK(FormatMoney(89800, "USD") == "$898.00");
  CHECK(FormatMoney(123450, "EUR") == "\u20AC1 234.50");
  CHECK(FormatMoney(123450, "GBP") == "1 234.50 GBP");
  CHECK(FormatMoney(1234567, "JPY") == "1 234 567 JPY");
  CHECK(FormatMoney(1234, "KWD") == "1.234 KWD");
  CHECK(FormatMoney(5, "RUB") == "0.05 \u20BD");
  CHECK(FormatMoney(100000000, "RUB") == "1 000 000.00 \u20BD");
  CHECK(FormatMoney(0, "USD") == "$0.00");
}

TEST_CASE("negative money puts the minus before the symbol", "[units][format]") {
  CHECK(FormatMoney(-500, "USD") == "-$5.00");
  CHECK(FormatMoney(-2000000, "RUB") == "-20 000.00 \u20BD");
  CHECK(FormatMoney(-100, "EUR") == "-\u20AC1.00");
}

TEST_CASE("minutes format as hours and minutes", "[units][format]") {
  CHECK(FormatMinutes(750) == "12h30m");
  CHECK(FormatMinutes(45) == "45m");
  CHECK(FormatMinutes(180) == "3h");
  CHECK(FormatMinutes(0) == "0m");
  CHECK(FormatMinutes(-75) == "-1h15m");
  CHECK(FormatMinutes(-60) == "-1h");
  CHECK(ParseDurationMinutes(FormatMinutes(90)).value() == 90);
}

TEST_CASE("plain amounts have no grouping and keep minor digits", "[units][format]") {
  CHECK(FormatAmount(2000000, 2) == "20000.00");
  CHECK(FormatAmount(-500, 2) == "-5.00");
  CHECK(FormatAmount(5, 2) == "0.05");
  CHECK(FormatAmount(7, 0) == "7");
  CHECK(FormatAmount(1234, 3) == "1.234");
  CHECK(FormatAmount(std::numeric_limits<int64_t>::min(), 2) == "-92233720368547758.08");
}

// ---------------------------------------------------------------- rounding

TEST_CASE("round-div rounds half away from zero for positive numerators", "[units][round]") {
  CHECK(RoundDiv(330336, 100) == 3303);
  CHECK(RoundDiv(84480, 100) == 845);
  CHECK(RoundDiv(5, 2) == 3);
  CHECK(RoundDiv(7, 2) == 4);
  CHECK(RoundDiv(149, 100) == 1);
  CHECK(RoundDiv(150, 100) == 2);
  CHECK(RoundDiv(4, 2) == 2);
  CHECK(RoundDiv(0, 7) == 0);
  CHECK(RoundDiv(std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()) == 1);
}

TEST_CASE("round-div rounds half away from zero for negative numerators", "[units][round]") {
  CHECK(RoundDiv(-5, 2) == -3);
  CHECK(RoundDiv(-7, 2) == -4);
  CHECK(RoundDiv(-84480, 100) == -845);
  CHECK(RoundDiv(-149, 100) == -1);
  CHECK(RoundDiv(-150, 100) == -2);
  CHECK(RoundDiv(-4, 2) == -2);
  CHECK(RoundDiv(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()) == -1);
  CHECK(RoundDiv(std::numeric_limits<int64_t>::min(), 2) ==
        std::numeric_limits<int64_t>::min() / 2);
}

TEST_CASE("multiplication and addition report overflow instead of wrapping", "[units][round]") {
  int64_t out = 0;
  CHECK_FALSE(MulOverflows(3, 4, &out));
  CHECK(out == 12);
  CHECK_FALSE(MulOverflows(-3, 4, &out));
  CHECK(out == -12);
  CHECK(MulOverflows(std::numeric_limits<int64_t>::max(), 2, &out));
  CHECK(MulOverflows(std::numeric_limits<int64_t>::min(), -1, &out));
  CHECK_FALSE(AddOverflows(1, 2, &out));
  CHECK(out == 3);
  CHECK(AddOverflows(std::numeric_limits<int64_t>::max(), 1, &out));
}

}  // namespace
}  // namespace hourbank::projections
