// Units: calendar months, time zones, business calendars, CLI input parsers, money and
// duration formatting, and the ledger's one rounding rule.
//
// Everything here is a pure function of its arguments (plus the read-only IANA tz database
// for Zone); all of it is thread-safe. No floating point: decimals are parsed with integer
// arithmetic. Time instants are int64_t microseconds since the Unix epoch, UTC (`_us`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "ledger/status.h"
#include "projections/plan.h"

namespace date {
class time_zone;
}  // namespace date

namespace hourbank::projections {

// ---------------------------------------------------------------------------------------
// Months: uint32_t YYYYMM (202510 = October 2025).

// True when the year is 1970..9999 and the month 1..12.
bool ValidMonth(uint32_t month);
// `month` moved by n months (n may be negative): AddMonths(202512, 1) == 202601.
// Precondition: ValidMonth(month); the result is not range-checked (assert on underflow).
uint32_t AddMonths(uint32_t month, int32_t n);
uint32_t NextMonth(uint32_t month);
uint32_t PrevMonth(uint32_t month);
// to - from in months: MonthsBetween(202510, 202601) == 3; negative when to < from.
int32_t MonthsBetween(uint32_t from, uint32_t to);
// "2025-10".
std::string FormatMonth(uint32_t month);
// Strict "YYYY-MM". kInvalid naming the input and the expected form; a month that does not
// exist ("2025-13", "1969-12") is refused as such.
Result<uint32_t> ParseMonth(std::string_view text);

// ---------------------------------------------------------------------------------------
// Time zones.

// A wall-clock reading of an instant in a zone.
struct LocalTime {
  int32_t yyyymmdd = 0;       // local calendar date
  int32_t weekday = 0;        // 0 = Monday … 6 = Sunday
  int32_t minute_of_day = 0;  // 0 … 1439
  int32_t second = 0;         // 0 … 59
  int64_t utc_offset_s = 0;   // local - UTC, seconds (Moscow: 10800)
};

// An IANA time zone. Cheap to copy: holds a pointer into the process-wide tz database, which
// lives until exit. Thread-safe (read-only).
class Zone {
 public:
  // kInvalid: "unknown time zone 'X'; use an IANA name such as Europe/Moscow".
  static Result<Zone> Find(std::string_view name);
  static Zone Utc();

  // The IANA name as given to Find ("UTC" for Utc()).
  const std::string& name() const { return name_; }

  LocalTime Local(int64_t utc_us) const;
  // The local calendar month (YYYYMM) of the instant.
  uint32_t MonthOf(int64_t utc_us) const;
  // The instant's local month with a stretch of instants around it, [from_us, to_us), over
  // which one UTC offset holds and every instant is in that month: a fold asks MonthOf for
  // instants close together, and answers the next ones from the span without a tz lookup.
  struct MonthSpan {
    uint32_t month = 0;
    int64_t from_us = 0, to_us = 0;  // empty by default: contains no instant
    bool Contains(int64_t utc_us) const { return utc_us >= from_us && utc_us < to_us; }
  };
  // Precondition: |utc_us| <= kInstantUsMax (limits.h).
  MonthSpan MonthSpanOf(int64_t utc_us) const;
  // First instant of the month in this zone (UTC µs). Precondition: ValidMonth(month).
  int64_t MonthStartUs(uint32_t month) const;
  // == MonthStartUs(NextMonth(month)): the month is [MonthStartUs, MonthEndUs).
  int64_t MonthEndUs(uint32_t month) const;
  // Local midnight of the date (or the first instant of the day when midnight is in a DST
  // gap). Precondition: a real date.
  int64_t DayStartUs(int32_t yyyymmdd) const;
  // The first instant after the local day: the start of the next calendar day (23, 24 or 25
  // hours after DayStartUs across a DST change). Precondition: a real date.
  int64_t DayEndUs(int32_t yyyymmdd) const;
  // Local wall time -> UTC µs. kInvalid for a date or time that does not exist, including a
  // local time skipped by a DST gap; an ambiguous local time (DST fold) takes the earlier
  // instant.
  Result<int64_t> FromLocal(int32_t yyyymmdd, int32_t minute_of_day, int32_t second = 0,
                            int32_t micros = 0) const;
  // "2025-10-03T14:00:00+03:00"; fractional seconds (6 digits) only when non-zero; the UTC
  // zone writes "+00:00".
  std::string FormatIso(int64_t utc_us) const;
  // Local date + seconds after midnight (0 … 86399) -> UTC µs, never failing, for calendar
  // arithmetic: a time in a DST gap maps to the transition instant; an ambiguous one to the
  // earlier instant, or the later when prefer_later. Precondition: a real date.
  int64_t ResolveLocalUs(int32_t yyyymmdd, int64_t second_of_day, bool prefer_later) const;
  // The same local wall time `days` calendar days later (earlier when negative): 23, 24 or 25
  // hours per day across DST changes. A wall time that falls in a DST gap maps to the
  // transition instant; an ambiguous one to the earlier instant. Precondition: |utc_us| <=
  // kInstantUsMax (limits.h) and the result's date a real one.
  int64_t AddLocalDays(int64_t utc_us, int32_t days) const;

 private:
  Zone(const date::time_zone* tz, std::string name) : tz_(tz), name_(std::move(name)) {}
  const date::time_zone* tz_;  // never null; owned by the tz database
  std::string name_;
};

// Calendar arithmetic on local dates: YYYYMMDD + days (days may be negative). Precondition: a
// real date.
int32_t AddDaysToDate(int32_t yyyymmdd, int32_t days);

// ---------------------------------------------------------------------------------------
// Business calendar (plan.h Calendar; its `timezone` is a name: resolve it with Zone::Find
// and pass the Zone in).

// always_open -> true. Otherwise: the local day is open — not in `holidays`; with a
// production calendar not a public holiday or transferred rest day of it, and a Saturday or
// Sunday it made a working day is open whatever days_mask says; else in days_mask — and
// open_minute <= local minute < close_minute.
bool IsOpen(const Calendar& calendar, const Zone& zone, int64_t utc_us);
// Service time between two instants: whole minutes during which the calendar is open
// (floor of open seconds / 60). from > to -> 0. Walks days, not minutes; spans beyond 3660
// days are clamped to 3660 calendar days after from_us in `zone` (Zone::AddLocalDays); a from_us
// beyond ±kInstantUsMax (limits.h) has no service time.
int64_t ServiceMinutesBetween(const Calendar& calendar, const Zone& zone, int64_t from_us,
                              int64_t to_us);
// The first instant at which `minutes` of service time have elapsed after from_us (SLA
// deadline). minutes <= 0 -> from_us. If no open time exists within 3660 days (e.g. an empty
// days_mask) the search stops there and returns that bound.
int64_t AddServiceMinutes(const Calendar& calendar, const Zone& zone, int64_t from_us,
                          int64_t minutes);
// A working day (for SLA targets in working days): Monday–Friday, minus the calendar's
// `holidays`; with a production calendar, minus its public holidays and transferred rest
// days, plus its Saturdays/Sundays made working days. The calendar's days and hours (also
// 24x7) do not matter: "3 working days" on a 24x7 service still skips weekends and holidays.
// Not a real date -> false.
bool IsWorkingDay(const Calendar& calendar, int32_t yyyymmdd);
// Working-day deadline: the end of the Nth working day (IsWorkingDay) after from_us's local
// day — the closing instant of that day's hours; midnight ending it for always_open.
// days == 0 -> the end of from_us's own day if it is a working day, else of the next one.
// Bounded to 3660 days of search.
int64_t AddWorkingDays(const Calendar& calendar, const Zone& zone, int64_t from_us, uint32_t days);

// ---------------------------------------------------------------------------------------
// CLI input parsers. Errors are kInvalid: one sentence naming the input and the accepted
// forms.

// "90m", "1h30m", "1.5h", "2h". A bare number is refused ("add a unit: 90m or 1.5h").
// Result in (0, 10000 h]. Fractions of a minute are refused ("1.01h").
Result<int64_t> ParseDurationMinutes(std::string_view text);
// ISO 4217 minor-unit digits for common currencies (RUB 2, USD 2, JPY 0, KWD 3, …). The code
// must be three upper-case letters; an unknown one is kInvalid naming it.
Result<int> CurrencyMinorDigits(std::string_view currency);
// "2000", "2000.00", "15.5" -> minor units. No spaces, signs or exponents; more decimals than
// minor_digits is refused naming the digits; > 0 and <= 10^13 major units.
// Precondition: 0 <= minor_digits <= 3 (what CurrencyMinorDigits returns).
Result<int64_t> ParseMoneyMinor(std::string_view text, int minor_digits);
// ISO 8601: "2025-10-03" (local midnight in zone), "2025-10-03T14:00", "2025-10-03T14:00:05",
// "2025-10-03 14:00", optional ".ffffff" fraction on seconds, with "Z" or "+03:00"/"-0500"
// (then the zone is ignored). Dates that do not exist and DST-gap local times are refused.
Result<int64_t> ParseTime(std::string_view text, const Zone& zone);

// ---------------------------------------------------------------------------------------
// Formatting.

// "20 000.00 ₽" (RUB), "$898.00" (USD), "€1 234.50" (EUR), otherwise
// "1 234.50 XXX". Thousands grouped with a regular space; negative "-$5.00". Unknown
// currencies are formatted with 2 decimals.
std::string FormatMoney(int64_t minor, std::string_view currency);
// "12h30m", "45m", "3h", "0m", "-1h15m".
std::string FormatMinutes(int64_t minutes);
// Plain "20000.00" / "-5.00" / "7" (minor_digits 0), no grouping.
std::string FormatAmount(int64_t minor, int minor_digits);

// ---------------------------------------------------------------------------------------
// Rounding: the ONE rounding rule of the ledger is half away from zero.

// numerator / denominator rounded half away from zero. Precondition: denominator > 0.
// RoundDiv(5, 2) == 3, RoundDiv(-5, 2) == -3, RoundDiv(84480, 100) == 845.
int64_t RoundDiv(int64_t numerator, int64_t denominator);
// *out = a * b; returns true (and leaves *out unspecified) when the product overflows int64_t.
bool MulOverflows(int64_t a, int64_t b, int64_t* out);
// *out = a + b; returns true on overflow.
bool AddOverflows(int64_t a, int64_t b, int64_t* out);

}  // namespace hourbank::projections
