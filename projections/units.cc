// Units: months, zones, business calendars, input parsers, formatting, rounding.
//
// Grammars accepted by the parsers (no surrounding spaces anywhere):
//   month    := YYYY "-" MM                                  (1970..9999, 01..12)
//   duration := number "h" [ number "m" ] | number "m"       (h before m, each at most once)
//   number   := digit{1,9} [ "." digit{1,6} ]
//   money    := digit{1,14} [ "." digit{1,minor_digits} ]
//   time     := date [ ("T" | "t" | " ") hh ":" mm [ ":" ss [ "." digit{1,6} ] ] [ offset ] ]
//   date     := YYYY "-" MM "-" DD
//   offset   := "Z" | "z" | ("+" | "-") hh [ [":"] mm ]
//
// No floating point: a decimal is split into an integer part and a fraction of up to six
// digits, both integers, and scaled exactly; a value that does not come out whole in the
// target unit is refused rather than rounded.
#include "projections/units.h"

#include "projections/limits.h"
#include "projections/production_calendar.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <limits>
#include <stdexcept>

namespace hourbank::projections {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

// Bounds and units: projections/limits.h.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` decimal digits at text[pos]; false when any is not a digit.
bool FixedDigits(std::string_view text, size_t pos, size_t count, int32_t* out) {
  if (pos + count > text.size()) return false;
  int32_t value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += "'";
  return out;
}

// Zero-padded decimal of a non-negative value.
std::string Padded(int64_t value, int width) {
  assert(value >= 0);
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) {
    digits.insert(0, static_cast<size_t>(width - static_cast<int>(digits.size())), '0');
  }
  return digits;
}

// ---- civil dates (YYYYMMDD) ----

date::year_month_day Ymd(int32_t yyyymmdd) {
  return date::year_month_day{date::year{yyyymmdd / 10000},
                              date::month{static_cast<unsigned>(yyyymmdd / 100 % 100)},
                              date::day{static_cast<unsigned>(yyyymmdd % 100)}};
}

bool ValidDate(int32_t yyyymmdd) {
  if (yyyymmdd < 19700101 || yyyymmdd > 99991231) return false;
  return Ymd(yyyymmdd).ok();
}

date::sys_days DaysOf(int32_t yyyymmdd) {
  assert(Ymd(yyyymmdd).ok());
  return date::sys_days{Ymd(yyyymmdd)};
}

int32_t YyyymmddOf(date::sys_days days) {
  const date::year_month_day ymd{days};
  return static_cast<int32_t>(ymd.year()) * 10000 +
         static_cast<int32_t>(static_cast<unsigned>(ymd.month())) * 100 +
         static_cast<int32_t>(static_cast<unsigned>(ymd.day()));
}

int32_t AddDays(int32_t yyyymmdd, int32_t n) {
  return YyyymmddOf(DaysOf(yyyymmdd) + date::days{n});
}

// 0 = Monday … 6 = Sunday.
int32_t WeekdayOf(int32_t yyyymmdd) {
  return static_cast<int32_t>(date::weekday{DaysOf(yyyymmdd)}.iso_encoding()) - 1;
}

// ---- business calendar ----

bool ListedHoliday(const Calendar& calendar, int32_t yyyymmdd) {
  // Holidays are documented as sorted, but a linear scan does not depend on it and a
  // calendar holds a few dozen at most.
  return std::find(calendar.holidays.begin(), calendar.holidays.end(), yyyymmdd) !=
         calendar.holidays.end();
}

// The calendar's production calendar, or nullptr (none, or a name this build does not know:
// plans are validated when parsed, so the latter only comes from a hand-made Calendar).
const ProductionCalendar* ProductionOf(const Calendar& calendar) {
  if (calendar.production_calendar.empty()) return nullptr;
  return FindProductionCalendar(calendar.production_calendar);
}

bool IsOpenDay(const Calendar& calendar, int32_t yyyymmdd) {
  if (calendar.always_open) return true;
  if (ListedHoliday(calendar, yyyymmdd)) return false;
  if (const ProductionCalendar* pc = ProductionOf(calendar)) {
    switch (pc->StatusOf(yyyymmdd)) {
      case DayStatus::kHoliday:
      case DayStatus::kDayOff:
        return false;  // a public holiday or a transferred rest day
      case DayStatus::kWorkingDay:
        return true;  // a Saturday/Sunday made a working day
      case DayStatus::kRegular:
        break;
    }
  }
  return (calendar.days_mask & (1u << WeekdayOf(yyyymmdd))) != 0;
}

struct Window {
  int64_t begin_us;
  int64_t end_us;  // exclusive
};

// The open interval of an open day (not always_open), in UTC. A bound in a DST gap maps to the
// transition; an ambiguous opening takes the earlier instant and an ambiguous closing the
// later, so a fold inside opening hours counts in full.
Window OpenWindow(const Calendar& calendar, const Zone& zone, int32_t yyyymmdd) {
  assert(calendar.open_minute >= 0 && calendar.open_minute < calendar.close_minute &&
         calendar.close_minute <= kMinutesPerLocalDayMax);
  Window w;
  w.begin_us = zone.ResolveLocalUs(yyyymmdd, int64_t{calendar.open_minute} * 60, false);
  if (calendar.close_minute >= kMinutesPerLocalDayMax) {
    w.end_us = zone.ResolveLocalUs(AddDays(yyyymmdd, 1), 0, false);
  } else {
    w.end_us = zone.ResolveLocalUs(yyyymmdd, int64_t{calendar.close_minute} * 60, true);
  }
  if (w.end_us < w.begin_us) w.end_us = w.begin_us;
  return w;
}

// ---- decimal numbers ----

struct Decimal {
  int64_t whole = 0;
  int64_t fraction = 0;  // the digits after the point as an integer
  int32_t fraction_digits = 0;
};

// Parses digit{1,whole_digits_max} ["." digit{1,fraction_digits_max}] at text[*pos], advancing
// *pos. False when no digit starts there, a limit is exceeded, or the point has no digits.
bool ParseDecimal(std::string_view text, size_t* pos, int whole_digits_max, int fraction_digits_max,
                  Decimal* out) {
  size_t i = *pos;
  int count = 0;
  Decimal d;
  while (i < text.size() && IsDigit(text[i])) {
    if (++count > whole_digits_max) return false;
    d.whole = d.whole * 10 + (text[i] - '0');
    ++i;
  }
  if (count == 0) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) {
      if (++d.fraction_digits > fraction_digits_max) return false;
      d.fraction = d.fraction * 10 + (text[i] - '0');
      ++i;
    }
    if (d.fraction_digits == 0) return false;
  }
  *pos = i;
  *out = d;
  return true;
}

int64_t Pow10(int32_t n) {
  int64_t p = 1;
  for (int32_t i = 0; i < n; ++i) p *= 10;
  return p;
}

// Scales a decimal to an integer count of 1/`per_unit` units; false when not whole.
// E.g. 1.5 hours with per_unit 60 -> 90 minutes. Inputs are digit-bounded so nothing overflows.
bool ScaleExact(const Decimal& d, int64_t per_unit, int64_t* out) {
  const int64_t denom = Pow10(d.fraction_digits);
  const int64_t frac_scaled = d.fraction * per_unit;
  if (frac_scaled % denom != 0) return false;
  *out = d.whole * per_unit + frac_scaled / denom;
  return true;
}

// ---- money formatting ----

// Decimal digits of |minor| with the point placed and, when `group`, thousands separated by
// a space.
std::string Magnitude(uint64_t magnitude, int minor_digits, bool group) {
  uint64_t scale = 1;
  for (int i = 0; i < minor_digits; ++i) scale *= 10;
  const std::string whole = std::to_string(magnitude / scale);
  std::string out;
  if (group) {
    for (size_t i = 0; i < whole.size(); ++i) {
      if (i > 0 && (whole.size() - i) % 3 == 0) out += ' ';
      out += whole[i];
    }
  } else {
    out = whole;
  }
  if (minor_digits > 0) {
    out += '.';
    out += Padded(static_cast<int64_t>(magnitude % scale), minor_digits);
  }
  return out;
}

uint64_t AbsU(int64_t v) {
  return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

}  // namespace

int32_t AddDaysToDate(int32_t yyyymmdd, int32_t days) { return AddDays(yyyymmdd, days); }

// ======================= months =======================

bool ValidMonth(uint32_t month) {
  const uint32_t year = month / 100;
  const uint32_t m = month % 100;
  return year >= 1970 && year <= 9999 && m >= 1 && m <= 12;
}

uint32_t AddMonths(uint32_t month, int32_t n) {
  assert(ValidMonth(month));
  const int64_t index = int64_t{month / 100} * 12 + (month % 100) - 1 + n;
  assert(index >= 0);
  return static_cast<uint32_t>((index / 12) * 100 + index % 12 + 1);
}

uint32_t NextMonth(uint32_t month) { return AddMonths(month, 1); }
uint32_t PrevMonth(uint32_t month) { return AddMonths(month, -1); }

int32_t MonthsBetween(uint32_t from, uint32_t to) {
  const int64_t a = int64_t{from / 100} * 12 + from % 100;
  const int64_t b = int64_t{to / 100} * 12 + to % 100;
  return static_cast<int32_t>(b - a);
}

std::string FormatMonth(uint32_t month) {
  return Padded(month / 100, 4) + "-" + Padded(month % 100, 2);
}

Result<uint32_t> ParseMonth(std::string_view text) {
  int32_t year = 0;
  int32_t m = 0;
  if (text.size() != 7 || text[4] != '-' || !FixedDigits(text, 0, 4, &year) ||
      !FixedDigits(text, 5, 2, &m)) {
    return Error::Invalid("month " + Quote(text) + " is not in the form YYYY-MM (e.g. 2025-10)");
  }
  if (m < 1 || m > 12) {
    return Error::Invalid("month " + Quote(text) +
                          " does not exist; use YYYY-MM with a month from 01 to 12");
  }
  if (year < 1970) {
    return Error::Invalid("month " + Quote(text) +
                          " is out of range; use a year from 1970 to 9999");
  }
  return static_cast<uint32_t>(year * 100 + m);
}

// ======================= zones =======================

Result<Zone> Zone::Find(std::string_view name) {
  const std::string unknown =
      "unknown time zone " + Quote(name) + "; use an IANA name such as Europe/Moscow";
  if (name.empty()) return Error::Invalid(unknown);
  try {
    const date::time_zone* tz = date::locate_zone(name);
    if (tz == nullptr) return Error::Invalid(unknown);
    return Zone(tz, std::string(name));
  } catch (const std::runtime_error&) {
    return Error::Invalid(unknown);
  }
}

Zone Zone::Utc() {
  // The tz database itself is process-wide; cache the lookup. A system without a UTC zone is
  // a deployment bug, and locate_zone's exception is left to say so.
  static const date::time_zone* const utc = date::locate_zone("UTC");
  return Zone(utc, "UTC");
}

LocalTime Zone::Local(int64_t utc_us) const {
  const date::sys_time<microseconds> t{microseconds{utc_us}};
  const auto t_s = date::floor<seconds>(t);
  const date::sys_info info = tz_->get_info(t_s);
  const int64_t local_s = t_s.time_since_epoch().count() + info.offset.count();
  const date::sys_days day = date::floor<date::days>(date::sys_seconds{seconds{local_s}});
  const int64_t second_of_day = local_s - date::sys_seconds{day}.time_since_epoch().count();
  LocalTime out;
  out.yyyymmdd = YyyymmddOf(day);
  out.weekday = static_cast<int32_t>(date::weekday{day}.iso_encoding()) - 1;
  out.minute_of_day = static_cast<int32_t>(second_of_day / 60);
  out.second = static_cast<int32_t>(second_of_day % 60);
  out.utc_offset_s = info.offset.count();
  return out;
}

uint32_t Zone::MonthOf(int64_t utc_us) const {
  return static_cast<uint32_t>(Local(utc_us).yyyymmdd / 100);
}

Zone::MonthSpan Zone::MonthSpanOf(int64_t utc_us) const {
  const date::sys_seconds t_s =
      date::floor<seconds>(date::sys_time<microseconds>{microseconds{utc_us}});
  const date::sys_info info = tz_->get_info(t_s);
  const int64_t offset = info.offset.count();
  const date::sys_days day =
      date::floor<date::days>(date::sys_seconds{seconds{t_s.time_since_epoch().count() + offset}});
  const date::year_month ym{date::year_month_day{day}.year(), date::year_month_day{day}.month()};
  // The month's local bounds at this offset, as UTC seconds, kept inside the offset's validity.
  const auto utc_of = [offset](date::sys_days local) {
    return date::sys_seconds{local}.time_since_epoch().count() - offset;
  };
  const int64_t from_s =
      std::max<int64_t>(utc_of(date::sys_days{ym / 1}), info.begin.time_since_epoch().count());
  const int64_t to_s = std::min<int64_t>(utc_of(date::sys_days{(ym + date::months{1}) / 1}),
                                         info.end.time_since_epoch().count());
  MonthSpan span;
  span.month = static_cast<uint32_t>(YyyymmddOf(day) / 100);
  span.from_us = from_s * kUsPerSecond;
  span.to_us = to_s * kUsPerSecond;
  return span;
}

int64_t Zone::ResolveLocalUs(int32_t yyyymmdd, int64_t second_of_day, bool prefer_later) const {
  const date::local_seconds ls = date::local_days{Ymd(yyyymmdd)} + seconds{second_of_day};
  const date::local_info info = tz_->get_info(ls);
  int64_t utc_s = 0;
  switch (info.result) {
    case date::local_info::unique:
      utc_s = ls.time_since_epoch().count() - info.first.offset.count();
      break;
    case date::local_info::nonexistent:
      utc_s = info.second.begin.time_since_epoch().count();
      break;
    case date::local_info::ambiguous:
      utc_s = ls.time_since_epoch().count() -
              (prefer_later ? info.second.offset : info.first.offset).count();
      break;
  }
  return utc_s * kUsPerSecond;
}

int64_t Zone::AddLocalDays(int64_t utc_us, int32_t days) const {
  const LocalTime local = Local(utc_us);
  int64_t micros = utc_us % kUsPerSecond;
  if (micros < 0) micros += kUsPerSecond;
  const int64_t second_of_day = int64_t{local.minute_of_day} * kSecondsPerMinute + local.second;
  return ResolveLocalUs(AddDaysToDate(local.yyyymmdd, days), second_of_day, false) + micros;
}

int64_t Zone::MonthStartUs(uint32_t month) const {
  assert(ValidMonth(month));
  return DayStartUs(static_cast<int32_t>(month) * 100 + 1);
}

int64_t Zone::MonthEndUs(uint32_t month) const { return MonthStartUs(NextMonth(month)); }

int64_t Zone::DayEndUs(int32_t yyyymmdd) const { return DayStartUs(AddDays(yyyymmdd, 1)); }

int64_t Zone::DayStartUs(int32_t yyyymmdd) const {
  assert(Ymd(yyyymmdd).ok());
  return ResolveLocalUs(yyyymmdd, 0, false);
}

Result<int64_t> Zone::FromLocal(int32_t yyyymmdd, int32_t minute_of_day, int32_t second,
                                int32_t micros) const {
  if (!ValidDate(yyyymmdd)) {
    return Error::Invalid("date " + std::to_string(yyyymmdd) + " does not exist");
  }
  if (minute_of_day < 0 || minute_of_day >= kMinutesPerLocalDayMax || second < 0 || second > 59 ||
      micros < 0 || micros >= kUsPerSecond) {
    return Error::Invalid("time of day out of range: " + std::to_string(minute_of_day) + " min " +
                          std::to_string(second) + " s");
  }
  const date::local_seconds ls =
      date::local_days{Ymd(yyyymmdd)} + seconds{int64_t{minute_of_day} * 60 + second};
  const date::local_info info = tz_->get_info(ls);
  if (info.result == date::local_info::nonexistent) {
    return Error::Invalid("local time " + Padded(yyyymmdd / 10000, 4) + "-" +
                          Padded(yyyymmdd / 100 % 100, 2) + "-" + Padded(yyyymmdd % 100, 2) + " " +
                          Padded(minute_of_day / 60, 2) + ":" + Padded(minute_of_day % 60, 2) +
                          " does not exist in " + name_ +
                          " (clocks skip it for daylight saving time)");
  }
  // unique or ambiguous: `first` is the earlier instant.
  const int64_t utc_s = ls.time_since_epoch().count() - info.first.offset.count();
  return utc_s * kUsPerSecond + micros;
}

std::string Zone::FormatIso(int64_t utc_us) const {
  const LocalTime lt = Local(utc_us);
  int64_t micros = utc_us % kUsPerSecond;
  if (micros < 0) micros += kUsPerSecond;
  std::string out = Padded(lt.yyyymmdd / 10000, 4) + "-" + Padded(lt.yyyymmdd / 100 % 100, 2) +
                    "-" + Padded(lt.yyyymmdd % 100, 2) + "T" + Padded(lt.minute_of_day / 60, 2) +
                    ":" + Padded(lt.minute_of_day % 60, 2) + ":" + Padded(lt.second, 2);
  if (micros != 0) out += "." + Padded(micros, 6);
  const int64_t offset_min = lt.utc_offset_s / 60;  // second-level offsets are pre-1972 LMT only
  out += offset_min < 0 ? "-" : "+";
  const int64_t abs_min = offset_min < 0 ? -offset_min : offset_min;
  out += Padded(abs_min / 60, 2) + ":" + Padded(abs_min % 60, 2);
  return out;
}

// ======================= business calendar =======================

bool IsOpen(const Calendar& calendar, const Zone& zone, int64_t utc_us) {
  if (calendar.always_open) return true;
  const LocalTime lt = zone.Local(utc_us);
  if (!IsOpenDay(calendar, lt.yyyymmdd)) return false;
  return lt.minute_of_day >= calendar.open_minute && lt.minute_of_day < calendar.close_minute;
}

int64_t ServiceMinutesBetween(const Calendar& calendar, const Zone& zone, int64_t from_us,
                              int64_t to_us) {
  if (from_us >= to_us || from_us < -kInstantUsMax || from_us > kInstantUsMax) return 0;
  to_us = std::min(to_us, zone.AddLocalDays(from_us, kDaysMaxCalendarSpan));
  if (calendar.always_open) return (to_us - from_us) / kUsPerMinute;

  int64_t open_us = 0;
  int32_t day = zone.Local(from_us).yyyymmdd;
  const int32_t last_day = zone.Local(to_us).yyyymmdd;
  // Bound: the clamped span covers at most kDaysMaxCalendarSpan + 2 local days.
  for (int32_t i = 0; i <= kDaysMaxCalendarSpan + 2 && day <= last_day; ++i) {
    if (IsOpenDay(calendar, day)) {
      const Window w = OpenWindow(calendar, zone, day);
      const int64_t a = std::max(w.begin_us, from_us);
      const int64_t b = std::min(w.end_us, to_us);
      if (b > a) open_us += b - a;
    }
    day = AddDays(day, 1);
  }
  return open_us / kUsPerMinute;
}

int64_t AddServiceMinutes(const Calendar& calendar, const Zone& zone, int64_t from_us,
                          int64_t minutes) {
  if (minutes <= 0) return from_us;
  // Beyond the search bound nothing can be found anyway; the clamp keeps µs in range.
  const int64_t minutes_max = int64_t{kDaysMaxCalendarSpan + 1} * kMinutesPerLocalDayMax;
  minutes = std::min(minutes, minutes_max);
  int64_t remaining_us = minutes * kUsPerMinute;
  if (calendar.always_open) {
    int64_t deadline_us = 0;
    if (__builtin_add_overflow(from_us, remaining_us, &deadline_us)) {
      return std::numeric_limits<int64_t>::max();
    }
    return deadline_us;
  }

  int32_t day = zone.Local(from_us).yyyymmdd;
  for (int32_t i = 0; i <= kDaysMaxCalendarSpan; ++i) {
    if (IsOpenDay(calendar, day)) {
      const Window w = OpenWindow(calendar, zone, day);
      const int64_t a = std::max(w.begin_us, from_us);
      if (w.end_us > a) {
        if (w.end_us - a >= remaining_us) return a + remaining_us;
        remaining_us -= w.end_us - a;
      }
    }
    day = AddDays(day, 1);
  }
  return zone.DayStartUs(day);
}

bool IsWorkingDay(const Calendar& calendar, int32_t yyyymmdd) {
  if (!ValidDate(yyyymmdd) || ListedHoliday(calendar, yyyymmdd)) return false;
  if (const ProductionCalendar* pc = ProductionOf(calendar)) return pc->IsWorkingDay(yyyymmdd);
  return WeekdayOf(yyyymmdd) < 5;  // Monday … Friday
}

int64_t AddWorkingDays(const Calendar& calendar, const Zone& zone, int64_t from_us, uint32_t days) {
  int32_t day = zone.Local(from_us).yyyymmdd;
  if (days > 0) day = AddDays(day, 1);
  uint32_t seen = 0;
  for (int32_t i = 0; i <= kDaysMaxCalendarSpan; ++i) {
    if (IsWorkingDay(calendar, day)) {
      ++seen;
      if (seen >= std::max<uint32_t>(days, 1)) {
        if (calendar.always_open) return zone.DayStartUs(AddDays(day, 1));
        return OpenWindow(calendar, zone, day).end_us;
      }
    }
    day = AddDays(day, 1);
  }
  return zone.DayStartUs(day);
}

// ======================= parsers =======================

Result<int64_t> ParseDurationMinutes(std::string_view text) {
  const std::string forms = "use minutes or hours such as 90m, 1h30m or 1.5h";
  if (text.empty()) return Error::Invalid("duration is empty; " + forms);
  if (text[0] == '-' || text[0] == '+') {
    return Error::Invalid("duration " + Quote(text) +
                          " must be a positive amount without a sign; " + forms);
  }
  const Error malformed =
      Error::Invalid("duration " + Quote(text) + " is not understood; " + forms);
  size_t pos = 0;
  Decimal first;
  if (!ParseDecimal(text, &pos, 9, 6, &first)) return malformed;
  if (pos == text.size()) {
    return Error::Invalid("duration " + Quote(text) + " has no unit; add a unit: 90m or 1.5h");
  }
  const Error partial = Error::Invalid("duration " + Quote(text) +
                                       " is not a whole number of minutes; use e.g. 1h1m");
  int64_t minutes = 0;
  if (text[pos] == 'h') {
    ++pos;
    if (!ScaleExact(first, 60, &minutes)) return partial;
    if (pos < text.size()) {
      Decimal second;
      if (!ParseDecimal(text, &pos, 9, 6, &second) || pos + 1 != text.size() || text[pos] != 'm') {
        return malformed;
      }
      int64_t extra = 0;
      if (!ScaleExact(second, 1, &extra)) return partial;
      minutes += extra;
    }
  } else if (text[pos] == 'm' && pos + 1 == text.size()) {
    if (!ScaleExact(first, 1, &minutes)) return partial;
  } else {
    return malformed;
  }
  if (minutes <= 0) return Error::Invalid("duration " + Quote(text) + " must be more than zero");
  if (minutes > kMinutesMaxPerEntry) {
    return Error::Invalid("duration " + Quote(text) + " is too long; at most " +
                          std::to_string(kMinutesMaxPerEntry / kMinutesPerHour) + "h");
  }
  return minutes;
}

Result<int> CurrencyMinorDigits(std::string_view currency) {
  struct Entry {
    const char* code;
    int digits;
  };
  // ISO 4217 minor units of the currencies our clients use and their neighbours.
  static constexpr Entry kTable[] = {
      {"AED", 2}, {"AMD", 2}, {"ARS", 2}, {"AUD", 2}, {"AZN", 2}, {"BGN", 2}, {"BHD", 3},
      {"BRL", 2}, {"BYN", 2}, {"CAD", 2}, {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"CZK", 2},
      {"DKK", 2}, {"EGP", 2}, {"EUR", 2}, {"GBP", 2}, {"GEL", 2}, {"HKD", 2}, {"HUF", 2},
      {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0},
      {"KGS", 2}, {"KRW", 0}, {"KWD", 3}, {"KZT", 2}, {"LYD", 3}, {"MDL", 2}, {"MNT", 2},
      {"MXN", 2}, {"MYR", 2}, {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PHP", 2}, {"PLN", 2},
      {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"SAR", 2}, {"SEK", 2},
      {"SGD", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TRY", 2}, {"TWD", 2},
      {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UZS", 2}, {"VND", 0}, {"XAF", 0}, {"XOF", 0},
      {"ZAR", 2},
  };
  for (const Entry& e : kTable) {
    if (currency == e.code) return e.digits;
  }
  return Error::Invalid("unknown currency " + Quote(currency) +
                        "; use an ISO 4217 code in capitals such as RUB, USD or EUR");
}

Result<int64_t> ParseMoneyMinor(std::string_view text, int minor_digits) {
  assert(minor_digits >= 0 && minor_digits <= 3);
  const Error malformed = Error::Invalid(
      "amount " + Quote(text) +
      " is not a number; use digits with an optional decimal point such as 2000 or 2000.50 "
      "(no spaces, signs or exponents)");
  size_t point = text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.' && point == text.size()) {
      point = i;
    } else if (!IsDigit(text[i])) {
      return malformed;
    }
  }
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point < text.size() ? text.substr(point + 1) : std::string_view{};
  if (whole.empty() || (point < text.size() && fraction.empty())) return malformed;
  if (fraction.size() > static_cast<size_t>(minor_digits)) {
    return Error::Invalid("amount " + Quote(text) +
                          " has more decimal places than the currency's " +
                          std::to_string(minor_digits));
  }
  const Error too_large = Error::Invalid("amount " + Quote(text) + " is too large; at most " +
                                         std::to_string(kMoneyMajorMaxInput));
  const size_t first_significant = std::min(whole.find_first_not_of('0'), whole.size());
  if (whole.size() - first_significant > 14) return too_large;
  int64_t major = 0;
  for (char c : whole) major = major * 10 + (c - '0');
  int64_t frac = 0;
  for (char c : fraction) frac = frac * 10 + (c - '0');
  frac *= Pow10(minor_digits - static_cast<int32_t>(fraction.size()));
  if (major > kMoneyMajorMaxInput || (major == kMoneyMajorMaxInput && frac > 0)) return too_large;
  const int64_t minor = major * Pow10(minor_digits) + frac;
  if (minor <= 0) return Error::Invalid("amount " + Quote(text) + " must be more than zero");
  return minor;
}

Result<int64_t> ParseTime(std::string_view text, const Zone& zone) {
  const Error malformed =
      Error::Invalid("time " + Quote(text) +
                     " is not understood; use ISO 8601 such as 2025-10-03, 2025-10-03T14:00, "
                     "2025-10-03T14:00:05 or with an offset 2025-10-03T14:00+03:00 / Z");
  int32_t y = 0, mo = 0, d = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !FixedDigits(text, 0, 4, &y) ||
      !FixedDigits(text, 5, 2, &mo) || !FixedDigits(text, 8, 2, &d)) {
    return malformed;
  }
  const int32_t yyyymmdd = y * 10000 + mo * 100 + d;
  if (!ValidDate(yyyymmdd)) {
    return Error::Invalid("date " + Quote(text.substr(0, 10)) +
                          " does not exist; use YYYY-MM-DD with a real day from 1970 on");
  }
  if (text.size() == 10) return zone.DayStartUs(yyyymmdd);

  const char sep = text[10];
  int32_t hh = 0, mm = 0, ss = 0;
  if ((sep != 'T' && sep != 't' && sep != ' ') || text.size() < 16 || text[13] != ':' ||
      !FixedDigits(text, 11, 2, &hh) || !FixedDigits(text, 14, 2, &mm)) {
    return malformed;
  }
  size_t pos = 16;
  int32_t micros = 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!FixedDigits(text, pos + 1, 2, &ss)) return malformed;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int32_t digits = 0;
      while (pos < text.size() && IsDigit(text[pos])) {
        if (++digits > 6) return malformed;
        micros = micros * 10 + (text[pos] - '0');
        ++pos;
      }
      if (digits == 0) return malformed;
      micros *= static_cast<int32_t>(Pow10(6 - digits));
    }
  }
  if (hh > 23 || mm > 59 || ss > 59) {
    return Error::Invalid("time " + Quote(text) +
                          " does not exist; hours run 00-23, minutes and seconds 00-59");
  }
  const int32_t minute_of_day = hh * 60 + mm;

  if (pos == text.size()) {
    Result<int64_t> utc = zone.FromLocal(yyyymmdd, minute_of_day, ss, micros);
    if (!utc.ok()) {
      return Error::Invalid("time " + Quote(text) + " does not exist in " + zone.name() +
                            " (clocks skip it for daylight saving time); give another time or "
                            "an offset");
    }
    return utc.value();
  }

  int64_t offset_s = 0;
  const char z = text[pos];
  if (z == 'Z' || z == 'z') {
    if (pos + 1 != text.size()) return malformed;
  } else if (z == '+' || z == '-') {
    const std::string_view off = text.substr(pos + 1);
    int32_t oh = 0, om = 0;
    bool shaped = false;
    if (off.size() == 2) {
      shaped = FixedDigits(off, 0, 2, &oh);
    } else if (off.size() == 4) {
      shaped = FixedDigits(off, 0, 2, &oh) && FixedDigits(off, 2, 2, &om);
    } else if (off.size() == 5 && off[2] == ':') {
      shaped = FixedDigits(off, 0, 2, &oh) && FixedDigits(off, 3, 2, &om);
    }
    if (!shaped) return malformed;
    if (oh > 23 || om > 59) {
      return Error::Invalid("time " + Quote(text) +
                            " has an offset out of range; use -23:59 to +23:59");
    }
    offset_s = (int64_t{oh} * 3600 + int64_t{om} * 60) * (z == '-' ? -1 : 1);
  } else {
    return malformed;
  }
  const int64_t local_s = date::sys_seconds{DaysOf(yyyymmdd)}.time_since_epoch().count() +
                          int64_t{minute_of_day} * 60 + ss;
  return (local_s - offset_s) * kUsPerSecond + micros;
}

// ======================= formatting =======================

std::string FormatMoney(int64_t minor, std::string_view currency) {
  const Result<int> digits = CurrencyMinorDigits(currency);
  const std::string sign = minor < 0 ? "-" : "";
  const std::string amount = Magnitude(AbsU(minor), digits.ok() ? digits.value() : 2, true);
  if (currency == "RUB") return sign + amount + " \u20BD";  // ₽
  if (currency == "USD") return sign + "$" + amount;
  if (currency == "EUR") return sign + "\u20AC" + amount;  // €
  return sign + amount + " " + std::string(currency);
}

std::string FormatMinutes(int64_t minutes) {
  const uint64_t magnitude = AbsU(minutes);
  std::string out = minutes < 0 ? "-" : "";
  const uint64_t hours = magnitude / 60;
  const uint64_t rest = magnitude % 60;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (rest > 0 || hours == 0) out += std::to_string(rest) + "m";
  return out;
}

std::string FormatAmount(int64_t minor, int minor_digits) {
  assert(minor_digits >= 0 && minor_digits <= 6);
  return (minor < 0 ? "-" : "") + Magnitude(AbsU(minor), minor_digits, false);
}

// ======================= rounding =======================

int64_t RoundDiv(int64_t numerator, int64_t denominator) {
  assert(denominator > 0);
  int64_t quotient = numerator / denominator;         // truncates toward zero
  const int64_t remainder = numerator % denominator;  // same sign as numerator
  const int64_t abs_remainder = remainder < 0 ? -remainder : remainder;
  // |r| >= d - |r| is 2|r| >= d without the overflow of doubling.
  if (abs_remainder != 0 && abs_remainder >= denominator - abs_remainder) {
    quotient += numerator < 0 ? -1 : 1;
  }
  return quotient;
}

bool MulOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

bool AddOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

}  // namespace hourbank::projections
