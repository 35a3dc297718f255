// Plan files: TOML -> PlanSpec (every rule checked, first error returned), and PlanSpec ->
// canonical TOML. The format, key by key, is in docs/plan-format.md.
//
// Parsing runs in three passes over one document, so each error is reported with the file,
// the plan, the key and (where the TOML has one) the line:
//   1. syntax (toml++), then a walk that refuses any float anywhere in the document;
//   2. per plan: keys and types of every table, ranges, formats (ids, currency, hours, dates);
//   3. per plan: rules that relate keys (fee vs tiers, rollover vs cap, kinds vs pools vs
//      quotas vs add-ons, duplicates), then across plans (duplicate plan ids).
//
// Canonical text grammar (what CanonicalToml writes; ParsePlans reads it back unchanged):
//   canonical := "[[plan]]\n" scalar-line* list-line* calendar? sla?
//   scalar-line := one line per plan scalar, in the order of docs/plan-format.md, defaults
//                  included: id name currency note fee_minor round_to_minor included_minutes
//                  rollover reserve_cap_minutes unlimited overage_rate_minor urgent_percent
//                  off_hours_percent timely_discount_percent trial_months minimum_term_months
//                  grace_days [debt_blocking early_end allowed_terms_months
//                  timely_min_prepaid_months: only when not at their default] acceptance_required
//                  [increment_minutes minimum_task_minutes: only when not 0; review_required only
//                  when true; a kind's billable only when false]
//   list-line   := tiers kinds quotas addons prepaid_discounts extras block_offers, each an
//                  array of inline tables, one entry per line ("[]" when empty); quotas is one
//                  inline table sorted by pool name. Inside an entry keys keep the documented
//                  order; optional values that are absent (a kind's price, the last tier's
//                  max_units) are left out, because TOML has no null.
//   calendar    := "\n[plan.calendar]\n" timezone days hours holidays [production_calendar]
//                  (the table only when set; production_calendar only when not empty)
//   sla         := "\n[plan.sla]\n" targets "\n[plan.sla.service_hours]\n" <calendar keys>
//   alerts      := "\n[plan.alerts]\n" allowance_percent block_expiry_days reserve_expiry_days
//                  [invoice_overdue_days] (the table only when the plan file has one; it follows
//                  sla; invoice_overdue_days only when set)
// Strings are basic strings with TOML escapes; holidays are TOML local dates.
#include "projections/plan.h"

#include "projections/limits.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "projections/production_calendar.h"

namespace hourbank::projections {

const Kind* PlanSpec::FindKind(std::string_view kind_id) const {
  for (const Kind& kind : kinds) {
    if (kind.id == kind_id) return &kind;
  }
  return nullptr;
}

const Addon* PlanSpec::FindAddon(std::string_view addon_id) const {
  for (const Addon& addon : addons) {
    if (addon.id == addon_id) return &addon;
  }
  return nullptr;
}

const ExtraPrice* PlanSpec::FindExtra(std::string_view extra_id) const {
  for (const ExtraPrice& extra : extras) {
    if (extra.id == extra_id) return &extra;
  }
  return nullptr;
}

namespace {

// Bounds: projections/limits.h.

constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};
constexpr uint8_t kAllDaysMask = 0x7F;

constexpr std::string_view kFloatFix =
    "plan files take integers only: write money in integer minor units (500.00 -> 50000), "
    "durations in minutes (1.5 h -> 90) and multipliers and discounts in percent (3x -> 300)";

// Where an error is: the file and the plan ("plan 'agbis'", or "plan #2" before its id is
// known or when it is invalid).
struct Where {
  std::string_view source;
  std::string plan;
};

Error KeyError(const Where& where, std::string_view key, const toml::node* at,
               std::string_view problem, std::string_view fix) {
  std::string line;
  if (at != nullptr && at->source().begin.line > 0) {
    line = fmt::format(" (line {})", at->source().begin.line);
  }
  return Error::Invalid(
      fmt::format("{}: {}: key '{}': {}; {}{}", where.source, where.plan, key, problem, fix, line));
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kBytesMaxId) return false;
  const char first = id.front();
  if (!((first >= 'a' && first <= 'z') || (first >= '0' && first <= '9'))) return false;
  return std::all_of(id.begin(), id.end(), IsIdChar);
}

constexpr std::string_view kIdFix =
    "use 1 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with a "
    "letter or digit (e.g. \"site_link\")";

// Edit distance, for "did you mean" on unknown keys. Keys are short (< 64 bytes is enforced
// before calling), so the quadratic table is small.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Reads one TOML table of a plan: checks its key set, and each value's type and range.
// Values that are absent leave the output untouched, so the caller's defaults stand.
class TableReader {
 public:
  // `prefix` is the path of this table inside the plan ("" for the plan itself, "kinds[2]",
  // "sla.service_hours"). `table` must outlive the reader.
  TableReader(const Where& where, const toml::table& table, std::string prefix)
      : where_(where), table_(table), prefix_(std::move(prefix)) {}

  std::string Path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : fmt::format("{}.{}", prefix_, key);
  }
  const toml::node* Get(std::string_view key) const { return table_.get(key); }
  bool Has(std::string_view key) const { return Get(key) != nullptr; }
  const toml::table& table() const { return table_; }

  // An error about `key`, pointing at its value's line, or at the table's when it is absent.
  Error Fail(std::string_view key, std::string_view problem, std::string_view fix) const {
    const toml::node* at = Get(key);
    return KeyError(where_, Path(key), at != nullptr ? at : &table_, problem, fix);
  }

  Status OnlyKeys(std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, value] : table_) {
      const std::string_view name = key.str();
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      std::string_view nearest;
      size_t nearest_distance = 3;  // suggest only close misspellings
      if (name.size() <= kBytesMaxId) {
        for (std::string_view candidate : allowed) {
          const size_t d = EditDistance(name, candidate);
          if (d < nearest_distance) {
            nearest_distance = d;
            nearest = candidate;
          }
        }
        // A key without its unit suffix ("fee" for "fee_minor") is far in edits but obvious.
        for (std::string_view candidate : allowed) {
          if (!nearest.empty()) break;
          if (name.size() >= 3 && candidate.substr(0, name.size()) == name) nearest = candidate;
        }
      }
      std::string fix = nearest.empty() ? fmt::format("remove it; the keys allowed here are: {}",
                                                      fmt::join(allowed, ", "))
                                        : fmt::format(
                                              "did you mean '{}'? (keys are snake_case, with units "
                                              "in their names)",
                                              nearest);
      return KeyError(where_, Path(name), &value, "unknown key", fix);
    }
    return Status::Ok();
  }

  Status Missing(std::string_view key, std::string_view fix) const {
    if (Has(key)) return Status::Ok();
    return Fail(key, "missing", fix);
  }

  // An integer in [min, max]. `what` names the unit for messages ("minor units", "minutes").
  Status Integer(std::string_view key, int64_t min, int64_t max, std::string_view what,
                 int64_t* out) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return Status::Ok();
    return IntegerNode(Path(key), *node, min, max, what, out);
  }

  Status IntegerNode(const std::string& path, const toml::node& node, int64_t min, int64_t max,
                     std::string_view what, int64_t* out) const {
    if (node.is_floating_point()) {
      return KeyError(where_, path, &node, "is a float", kFloatFix);
    }
    if (!node.is_integer()) {
      return KeyError(where_, path, &node,
                      fmt::format("is {}, expected an integer", TypeName(node)),
                      fmt::format("write a whole number of {} without quotes", what));
    }
    const int64_t value = node.as_integer()->get();
    if (value < 0 && min >= 0) {
      return KeyError(where_, path, &node, fmt::format("is negative ({})", value),
                      fmt::format("write a number of {} that is 0 or more", what));
    }
    if (value < min || value > max) {
      return KeyError(where_, path, &node, fmt::format("is {}, out of range", value),
                      fmt::format("write {} from {} to {}", what, min, max));
    }
    *out = value;
    return Status::Ok();
  }

  template <typename T>
  Status Unsigned(std::string_view key, int64_t min, int64_t max, std::string_view what,
                  T* out) const {
    int64_t value = static_cast<int64_t>(*out);
    HB_TRY(Integer(key, min, max, what, &value));
    *out = static_cast<T>(value);
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return Status::Ok();
    if (!node->is_boolean()) {
      return Fail(key, fmt::format("is {}, expected a boolean", TypeName(*node)),
                  "write true or false without quotes");
    }
    *out = node->as_boolean()->get();
    return Status::Ok();
  }

  Status String(std::string_view key, size_t bytes_max, std::string* out) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return Status::Ok();
    return StringNode(Path(key), *node, bytes_max, out);
  }

  Status StringNode(const std::string& path, const toml::node& node, size_t bytes_max,
                    std::string* out) const {
    if (!node.is_string()) {
      return KeyError(where_, path, &node, fmt::format("is {}, expected a string", TypeName(node)),
                      "write it in double quotes");
    }
    const std::string& value = node.as_string()->get();
    if (value.size() > bytes_max) {
      return KeyError(where_, path, &node, fmt::format("is {} bytes long", value.size()),
                      fmt::format("shorten it to at most {} bytes", bytes_max));
    }
    *out = value;
    return Status::Ok();
  }

  // A string that must be an id (plan, kind, add-on, extra ids and pool names).
  Status Id(std::string_view key, std::string* out) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return Status::Ok();
    return IdNode(Path(key), *node, out);
  }

  Status IdNode(const std::string& path, const toml::node& node, std::string* out) const {
    std::string value;
    HB_TRY(StringNode(path, node, std::numeric_limits<size_t>::max(), &value));
    if (!ValidId(value)) {
      return KeyError(where_, path, &node, fmt::format("\"{}\" is not a valid id", value), kIdFix);
    }
    *out = std::move(value);
    return Status::Ok();
  }

  // nullptr when absent. An array of tables, at most kCountMaxPerPlanList entries.
  Result<const toml::array*> TableArray(std::string_view key, std::string_view example) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return static_cast<const toml::array*>(nullptr);
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return Fail(key, fmt::format("is {}, expected an array of tables", TypeName(*node)),
                  fmt::format("write each entry as its own [[{}]] table", example));
    }
    if (array->size() > kCountMaxPerPlanList) {
      return Fail(key, fmt::format("has {} entries", array->size()),
                  fmt::format("keep it to at most {} entries", kCountMaxPerPlanList));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& entry = *array->get(i);
      if (!entry.is_table()) {
        return KeyError(where_, fmt::format("{}[{}]", Path(key), i + 1), &entry,
                        fmt::format("is {}, expected a table", TypeName(entry)),
                        fmt::format("write each entry as its own [[{}]] table", example));
      }
    }
    return array;
  }

  // nullptr when absent.
  Result<const toml::table*> SubTable(std::string_view key, std::string_view example) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table()) {
      return Fail(key, fmt::format("is {}, expected a table", TypeName(*node)),
                  fmt::format("write it as a [{}] table", example));
    }
    return node->as_table();
  }

  // nullptr when absent. An array whose every element is a string.
  Result<const toml::array*> StringArray(std::string_view key, size_t entries_max,
                                         std::string_view example) const {
    const toml::node* node = Get(key);
    if (node == nullptr) return static_cast<const toml::array*>(nullptr);
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return Fail(key, fmt::format("is {}, expected an array of strings", TypeName(*node)),
                  fmt::format("write it as {}", example));
    }
    if (array->size() > entries_max) {
      return Fail(key, fmt::format("has {} entries", array->size()),
                  fmt::format("keep it to at most {} entries", entries_max));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& entry = *array->get(i);
      if (!entry.is_string()) {
        return KeyError(where_, fmt::format("{}[{}]", Path(key), i + 1), &entry,
                        fmt::format("is {}, expected a string", TypeName(entry)),
                        fmt::format("write it as {}", example));
      }
    }
    return array;
  }

  const Where& where() const { return where_; }

 private:
  const Where& where_;
  const toml::table& table_;
  std::string prefix_;
};

// ---------------------------------------------------------------------------------------
// Pass 1: a float anywhere is an error, whatever key holds it.

Status RefuseFloats(const Where& where, const toml::node& node, const std::string& path) {
  if (node.is_floating_point()) return KeyError(where, path, &node, "is a float", kFloatFix);
  if (const toml::table* table = node.as_table()) {
    for (auto&& [key, value] : *table) {
      HB_TRY(RefuseFloats(
          where, value,
          path.empty() ? std::string(key.str()) : fmt::format("{}.{}", path, key.str())));
    }
  } else if (const toml::array* array = node.as_array()) {
    for (size_t i = 0; i < array->size(); ++i) {
      HB_TRY(RefuseFloats(where, *array->get(i), fmt::format("{}[{}]", path, i + 1)));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Calendars and dates.

bool LeapYear(int32_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

bool RealDate(int32_t year, int32_t month, int32_t day) {
  constexpr std::array<int32_t, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const int32_t days = kDays[static_cast<size_t>(month - 1)] + (month == 2 && LeapYear(year));
  return day <= days;
}

// Digits only: "0930" -> 930. -1 when any character is not a digit or the text is empty.
int32_t Digits(std::string_view text) {
  if (text.empty()) return -1;
  int32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// "YYYY-MM-DD" -> YYYYMMDD, or -1.
int32_t ParseDateText(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return -1;
  const int32_t year = Digits(text.substr(0, 4));
  const int32_t month = Digits(text.substr(5, 2));
  const int32_t day = Digits(text.substr(8, 2));
  if (year < 0 || month < 0 || day < 0 || !RealDate(year, month, day)) return -1;
  return year * 10000 + month * 100 + day;
}

// "HH:MM" -> minute of day, or -1. "24:00" only when allow_midnight_end (a closing time).
int32_t ParseClock(std::string_view text, bool allow_midnight_end) {
  if (text.size() != 5 || text[2] != ':') return -1;
  const int32_t hour = Digits(text.substr(0, 2));
  const int32_t minute = Digits(text.substr(3, 2));
  if (hour < 0 || minute < 0 || minute > 59) return -1;
  if (hour == 24 && minute == 0 && allow_midnight_end) return kMinutesPerLocalDayMax;
  if (hour > 23) return -1;
  return hour * 60 + minute;
}

std::string FormatClock(int32_t minute_of_day) {
  return fmt::format("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60);
}

std::string FormatDate(int32_t yyyymmdd) {
  return fmt::format("{:04}-{:02}-{:02}", yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
}

std::string Quote(std::string_view text);  // TOML basic string, defined with the writers below

// `production_calendar = "ru"`: a known name, or absent. Allowed on 24x7 calendars too, where
// it only decides working days (docs/calendars.md).
Status ParseProductionCalendarKey(const TableReader& in, Calendar* calendar) {
  HB_TRY(in.String("production_calendar", kBytesMaxId, &calendar->production_calendar));
  if (in.Get("production_calendar") != nullptr &&
      FindProductionCalendar(calendar->production_calendar) == nullptr) {
    return in.Fail("production_calendar",
                   fmt::format("names an unknown production calendar {}",
                               Quote(calendar->production_calendar)),
                   fmt::format("use one of: {} (docs/calendars.md), or leave the key out",
                               KnownProductionCalendars()));
  }
  return Status::Ok();
}

// `days`: the open weekdays as a bit mask (bit 0 = Monday). Sets *given when the key is there.
Status ParseCalendarDays(const TableReader& in, Calendar* calendar, bool* given) {
  constexpr std::string_view kDaysExample = "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]";
  Result<const toml::array*> days = in.StringArray("days", kDayNames.size(), kDaysExample);
  if (!days.ok()) return days.error();
  if (*days == nullptr) return Status::Ok();
  *given = true;
  calendar->days_mask = 0;
  for (size_t i = 0; i < (*days)->size(); ++i) {
    const toml::node& node = *(*days)->get(i);
    const std::string& name = node.as_string()->get();
    const auto found = std::find(kDayNames.begin(), kDayNames.end(), name);
    const std::string path = fmt::format("{}[{}]", in.Path("days"), i + 1);
    if (found == kDayNames.end()) {
      return KeyError(in.where(), path, &node, fmt::format("unknown day \"{}\"", name),
                      "use mon, tue, wed, thu, fri, sat or sun (lower case)");
    }
    const uint8_t bit = static_cast<uint8_t>(1u << (found - kDayNames.begin()));
    if ((calendar->days_mask & bit) != 0) {
      return KeyError(in.where(), path, &node, fmt::format("\"{}\" is listed twice", name),
                      "list each day once");
    }
    calendar->days_mask |= bit;
  }
  if (calendar->days_mask == 0) {
    return in.Fail("days", "is empty", fmt::format("list the open days, e.g. {}", kDaysExample));
  }
  return Status::Ok();
}

// `hours`: "HH:MM-HH:MM" or "24x7" (which needs all seven days).
Status ParseCalendarHours(const TableReader& in, bool days_given, Calendar* calendar) {
  std::string hours = "09:00-18:00";
  HB_TRY(in.String("hours", 64, &hours));
  if (hours == "24x7") {
    if (days_given && calendar->days_mask != kAllDaysMask) {
      return in.Fail("days", "lists fewer than seven days with hours = \"24x7\"",
                     "remove days (24x7 is every day) or give opening hours such as "
                     "\"10:00-18:00\"");
    }
    calendar->always_open = true;
    calendar->days_mask = kAllDaysMask;
    calendar->open_minute = 0;
    calendar->close_minute = kMinutesPerLocalDayMax;
    return Status::Ok();
  }
  const size_t dash = hours.find('-');
  const int32_t open =
      dash == std::string::npos ? -1 : ParseClock(std::string_view(hours).substr(0, dash), false);
  const int32_t close =
      dash == std::string::npos ? -1 : ParseClock(std::string_view(hours).substr(dash + 1), true);
  if (open < 0 || close < 0) {
    return in.Fail("hours", fmt::format("\"{}\" is not opening hours", hours),
                   "write \"HH:MM-HH:MM\" in 24-hour time (e.g. \"10:00-18:00\", close may "
                   "be \"24:00\") or \"24x7\"");
  }
  if (open >= close) {
    return in.Fail("hours", fmt::format("\"{}\" opens at or after it closes", hours),
                   "make the opening time earlier than the closing time; hours past "
                   "midnight are not supported, use \"24x7\" for round-the-clock service");
  }
  calendar->open_minute = open;
  calendar->close_minute = close;
  return Status::Ok();
}

// `holidays`: dates as "YYYY-MM-DD" strings or TOML dates, each once, none on a 24x7 calendar.
Status ParseCalendarHolidays(const TableReader& in, Calendar* calendar) {
  const toml::node* holidays = in.Get("holidays");
  if (holidays == nullptr) return Status::Ok();
  constexpr std::string_view kHolidayFix =
      "write dates as \"YYYY-MM-DD\" strings or TOML dates, e.g. holidays = [2026-01-01]";
  const toml::array* array = holidays->as_array();
  if (array == nullptr) {
    return in.Fail("holidays",
                   fmt::format("is {}, expected an array of dates", TypeName(*holidays)),
                   kHolidayFix);
  }
  if (array->size() > kCountMaxHolidays) {
    return in.Fail("holidays", fmt::format("has {} entries", array->size()),
                   fmt::format("keep it to at most {} dates", kCountMaxHolidays));
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& node = *array->get(i);
    const std::string path = fmt::format("{}[{}]", in.Path("holidays"), i + 1);
    int32_t date = -1;
    if (const auto* text = node.as_string()) {
      date = ParseDateText(text->get());
    } else if (const auto* value = node.as_date()) {
      const toml::date& d = value->get();
      if (RealDate(d.year, d.month, d.day)) date = d.year * 10000 + d.month * 100 + d.day;
    } else {
      return KeyError(in.where(), path, &node,
                      fmt::format("is {}, expected a date", TypeName(node)), kHolidayFix);
    }
    if (date < 0) {
      return KeyError(in.where(), path, &node, "is not a real date from 1970 to 9999", kHolidayFix);
    }
    calendar->holidays.push_back(date);
  }
  std::sort(calendar->holidays.begin(), calendar->holidays.end());
  const auto twice = std::adjacent_find(calendar->holidays.begin(), calendar->holidays.end());
  if (twice != calendar->holidays.end()) {
    return in.Fail("holidays", fmt::format("{} is listed twice", FormatDate(*twice)),
                   "list each date once");
  }
  if (calendar->always_open && !calendar->holidays.empty()) {
    return in.Fail("holidays", "are set on a 24x7 calendar",
                   "remove them (24x7 service has no closed days) or give opening hours");
  }
  return Status::Ok();
}

Result<Calendar> ParseCalendar(const TableReader& in) {
  HB_TRY(in.OnlyKeys({"timezone", "days", "hours", "holidays", "production_calendar"}));
  Calendar calendar;
  HB_TRY(in.Missing("timezone",
                    "name the IANA time zone the hours are in, e.g. timezone = \"Europe/Moscow\""));
  HB_TRY(in.String("timezone", kBytesMaxTimezone, &calendar.timezone));
  if (calendar.timezone.empty() ||
      calendar.timezone.find_first_of(" \t\r\n") != std::string::npos) {
    return in.Fail("timezone", "is empty or contains spaces",
                   "name an IANA time zone, e.g. \"Europe/Moscow\" or \"UTC\"");
  }
  bool days_given = false;
  HB_TRY(ParseCalendarDays(in, &calendar, &days_given));
  HB_TRY(ParseCalendarHours(in, days_given, &calendar));
  HB_TRY(ParseCalendarHolidays(in, &calendar));
  HB_TRY(ParseProductionCalendarKey(in, &calendar));
  return calendar;
}

// ---------------------------------------------------------------------------------------
// Pass 2 and 3: one plan.

Status ParseTiers(const TableReader& in, PlanSpec* plan) {
  Result<const toml::array*> tiers = in.TableArray("tiers", "plan.tiers");
  if (!tiers.ok()) return tiers.error();
  if (*tiers == nullptr) return Status::Ok();
  for (size_t i = 0; i < (*tiers)->size(); ++i) {
    const TableReader t(in.where(), *(*tiers)->get(i)->as_table(), fmt::format("tiers[{}]", i + 1));
    HB_TRY(t.OnlyKeys({"min_units", "max_units", "unit_price_minor"}));
    HB_TRY(t.Missing("min_units", "give the first unit count of this tier, e.g. min_units = 1"));
    HB_TRY(t.Missing("unit_price_minor",
                     "give the price per unit per month in minor units, e.g. 444000"));
    Tier tier;
    HB_TRY(t.Unsigned("min_units", 1, kUnitsMaxInPlan, "units", &tier.min_units));
    HB_TRY(t.Unsigned("max_units", 1, kUnitsMaxInPlan, "units", &tier.max_units));
    HB_TRY(t.Integer("unit_price_minor", 0, kMoneyMinorMaxInPlan, "minor units",
                     &tier.unit_price_minor));
    if (t.Has("max_units") && tier.max_units < tier.min_units) {
      return t.Fail("max_units",
                    fmt::format("is {}, below min_units {}", tier.max_units, tier.min_units),
                    "make max_units at least min_units");
    }
    if (i == 0 && tier.min_units != 1) {
      return t.Fail("min_units",
                    fmt::format("is {}; the first tier must start at 1", tier.min_units),
                    "start the first tier at min_units = 1 so every unit count has a price");
    }
    if (i > 0) {
      const Tier& prev = plan->tiers.back();
      if (prev.max_units == 0) {
        return KeyError(in.where(), fmt::format("tiers[{}].max_units", i), (*tiers)->get(i - 1),
                        "is missing on a tier that is not the last (an unbounded tier must "
                        "be last)",
                        "give that tier a max_units, or move it to the end");
      }
      if (tier.min_units <= prev.max_units) {
        return t.Fail("min_units",
                      fmt::format("is {}, which overlaps the previous tier {}-{}", tier.min_units,
                                  prev.min_units, prev.max_units),
                      fmt::format("list tiers in ascending order, each starting at the previous "
                                  "max_units + 1 (here {})",
                                  prev.max_units + 1));
      }
      if (tier.min_units != prev.max_units + 1) {
        return t.Fail("min_units",
                      fmt::format("is {}, leaving a gap after the previous tier {}-{}",
                                  tier.min_units, prev.min_units, prev.max_units),
                      fmt::format("start this tier at the previous max_units + 1 (here {})",
                                  prev.max_units + 1));
      }
    }
    plan->tiers.push_back(tier);
  }
  return Status::Ok();
}

Status ParseKinds(const TableReader& in, PlanSpec* plan) {
  Result<const toml::array*> kinds = in.TableArray("kinds", "plan.kinds");
  if (!kinds.ok()) return kinds.error();
  // A plan with no kinds is valid: a flat fee needs no work to be logged against it.
  if (*kinds == nullptr) return Status::Ok();
  std::set<std::string> seen;
  for (size_t i = 0; i < (*kinds)->size(); ++i) {
    const TableReader k(in.where(), *(*kinds)->get(i)->as_table(), fmt::format("kinds[{}]", i + 1));
    HB_TRY(k.OnlyKeys(
        {"id", "unit", "included", "price_minor", "off_hours_price_minor", "pool", "billable"}));
    HB_TRY(k.Missing("id", "name the kind, e.g. id = \"support\""));
    Kind kind;
    HB_TRY(k.Id("id", &kind.id));
    if (!seen.insert(kind.id).second) {
      return k.Fail("id", fmt::format("kind \"{}\" is defined twice", kind.id),
                    "give each kind its own id, or merge the two");
    }
    std::string unit = "hour";
    HB_TRY(k.String("unit", 16, &unit));
    if (unit == "hour") {
      kind.unit = Unit::kHour;
    } else if (unit == "item") {
      kind.unit = Unit::kItem;
    } else {
      return k.Fail("unit", fmt::format("unknown unit \"{}\"", unit),
                    "use \"hour\" (work measured in minutes) or \"item\" (counted tasks)");
    }
    HB_TRY(k.Bool("included", &kind.included));
    if (k.Has("price_minor")) {
      int64_t price = 0;
      HB_TRY(k.Integer("price_minor", 0, kMoneyMinorMaxInPlan, "minor units", &price));
      kind.price_minor = price;
    }
    if (k.Has("off_hours_price_minor")) {
      int64_t price = 0;
      HB_TRY(k.Integer("off_hours_price_minor", 0, kMoneyMinorMaxInPlan, "minor units", &price));
      kind.off_hours_price_minor = price;
    }
    HB_TRY(k.Id("pool", &kind.pool));
    HB_TRY(k.Bool("billable", &kind.billable));
    if (!kind.billable && kind.unit != Unit::kHour) {
      return k.Fail("billable", fmt::format("is false on item kind \"{}\"", kind.id),
                    "remove it: an item kind that costs nothing is included = true");
    }

    if (kind.unit == Unit::kHour) {
      if (!kind.pool.empty()) {
        return k.Fail("pool", fmt::format("is set on hour kind \"{}\"", kind.id),
                      "remove pool (hour work is drawn from the hour buckets) or make the kind "
                      "unit = \"item\"");
      }
      if (kind.included) {
        return k.Fail("included", fmt::format("is set on hour kind \"{}\"", kind.id),
                      "remove it: included applies to item kinds; hours are covered by "
                      "included_minutes or unlimited");
      }
      if (kind.off_hours_price_minor.has_value()) {
        return k.Fail("off_hours_price_minor", fmt::format("is set on hour kind \"{}\"", kind.id),
                      "remove it: hour work outside working hours uses off_hours_percent");
      }
    } else if (kind.included) {
      if (!kind.pool.empty() || kind.price_minor.has_value() ||
          kind.off_hours_price_minor.has_value()) {
        const std::string_view key = !kind.pool.empty()             ? "pool"
                                     : kind.price_minor.has_value() ? "price_minor"
                                                                    : "off_hours_price_minor";
        return k.Fail(key, fmt::format("is set on included kind \"{}\"", kind.id),
                      "an included kind is free and draws no slots: remove the key, or set "
                      "included = false");
      }
    } else if (kind.pool.empty() && !kind.price_minor.has_value()) {
      return k.Fail("price_minor",
                    fmt::format("is missing on item kind \"{}\", which has no pool and is not "
                                "included, so it could never be billed",
                                kind.id),
                    "give a one-off price_minor, a pool it draws slots from, or included = true");
    }
    if (kind.off_hours_price_minor.has_value() && !kind.price_minor.has_value()) {
      return k.Fail("off_hours_price_minor",
                    fmt::format("is set on kind \"{}\" without price_minor", kind.id),
                    "give the working-hours price_minor too");
    }
    plan->kinds.push_back(std::move(kind));
  }
  return Status::Ok();
}

Status ParseQuotas(const TableReader& in, PlanSpec* plan) {
  Result<const toml::table*> quotas = in.SubTable("quotas", "plan.quotas");
  if (!quotas.ok()) return quotas.error();
  if (*quotas == nullptr) return Status::Ok();
  if ((*quotas)->size() > kCountMaxPerPlanList) {
    return in.Fail("quotas", fmt::format("has {} pools", (*quotas)->size()),
                   fmt::format("keep it to at most {} pools", kCountMaxPerPlanList));
  }
  const TableReader q(in.where(), **quotas, "quotas");
  for (auto&& [key, value] : **quotas) {
    const std::string pool(key.str());
    if (!ValidId(pool)) {
      return KeyError(in.where(), q.Path(pool), &value,
                      fmt::format("\"{}\" is not a valid pool name", pool), kIdFix);
    }
    const bool used = std::any_of(plan->kinds.begin(), plan->kinds.end(),
                                  [&](const Kind& kind) { return kind.pool == pool; });
    if (!used) {
      return KeyError(in.where(), q.Path(pool), &value,
                      fmt::format("pool \"{}\" is not used by any kind", pool),
                      "set pool = \"" + pool +
                          "\" on the item kinds that draw from it, or "
                          "remove the quota (a shared add-on's pool is named by its id and takes "
                          "no quota)");
    }
    int64_t slots = 0;
    HB_TRY(q.IntegerNode(q.Path(pool), value, 0, kCountMaxSlotsInPlan, "slots", &slots));
    plan->quotas[pool] = static_cast<uint32_t>(slots);
  }
  return Status::Ok();
}

Status ParseAddons(const TableReader& in, PlanSpec* plan) {
  Result<const toml::array*> addons = in.TableArray("addons", "plan.addons");
  if (!addons.ok()) return addons.error();
  if (*addons == nullptr) return Status::Ok();
  std::set<std::string> kind_pools;
  for (const Kind& kind : plan->kinds) {
    if (!kind.pool.empty()) kind_pools.insert(kind.pool);
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < (*addons)->size(); ++i) {
    const TableReader a(in.where(), *(*addons)->get(i)->as_table(),
                        fmt::format("addons[{}]", i + 1));
    HB_TRY(a.OnlyKeys({"id", "price_minor", "slots", "pool", "kinds"}));
    HB_TRY(a.Missing("id", "name the add-on, e.g. id = \"sites-40\""));
    HB_TRY(a.Missing("price_minor", "give its monthly price in minor units, e.g. 20000"));
    HB_TRY(a.Missing("slots", "give the slots it adds per month, e.g. slots = 40"));
    Addon addon;
    HB_TRY(a.Id("id", &addon.id));
    if (!seen.insert(addon.id).second) {
      return a.Fail("id", fmt::format("add-on \"{}\" is defined twice", addon.id),
                    "give each add-on its own id");
    }
    HB_TRY(a.Integer("price_minor", 0, kMoneyMinorMaxInPlan, "minor units", &addon.price_minor));
    HB_TRY(a.Unsigned("slots", 1, kCountMaxSlotsInPlan, "slots", &addon.slots));
    HB_TRY(a.Id("pool", &addon.pool));
    Result<const toml::array*> kinds =
        a.StringArray("kinds", kCountMaxPerPlanList, "kinds = [\"api_offer\", \"external_offer\"]");
    if (!kinds.ok()) return kinds.error();
    const bool has_kinds = *kinds != nullptr && !(*kinds)->empty();
    if (a.Has("pool") == has_kinds) {
      return a.Fail(a.Has("pool") ? "pool" : "kinds",
                    a.Has("pool") ? "is set together with kinds" : "neither pool nor kinds is set",
                    "give exactly one: pool = \"NAME\" adds slots to that pool, kinds = [...] "
                    "makes a pool of its own shared by those kinds");
    }
    if (!addon.pool.empty()) {
      if (kind_pools.count(addon.pool) == 0) {
        return a.Fail("pool",
                      fmt::format("names pool \"{}\", which no kind draws from", addon.pool),
                      "name a pool that a kind sets in its pool key");
      }
    } else {
      if (kind_pools.count(addon.id) != 0) {
        return a.Fail("id",
                      fmt::format("\"{}\" is also the name of a kind's pool; a shared "
                                  "add-on's pool is named by its id",
                                  addon.id),
                      "rename the add-on or the pool");
      }
      for (size_t j = 0; j < (*kinds)->size(); ++j) {
        const toml::node& node = *(*kinds)->get(j);
        const std::string path = fmt::format("{}[{}]", a.Path("kinds"), j + 1);
        std::string kind_id;
        HB_TRY(a.IdNode(path, node, &kind_id));
        const Kind* kind = plan->FindKind(kind_id);
        if (kind == nullptr) {
          return KeyError(in.where(), path, &node, fmt::format("unknown kind \"{}\"", kind_id),
                          "name a kind defined in this plan's [[plan.kinds]]");
        }
        if (kind->unit != Unit::kItem || kind->included) {
          return KeyError(in.where(), path, &node,
                          fmt::format("kind \"{}\" does not draw slots (it is {})", kind_id,
                                      kind->unit != Unit::kItem ? "an hour kind" : "included"),
                          "list only item kinds that are not included");
        }
        if (std::find(addon.kinds.begin(), addon.kinds.end(), kind_id) != addon.kinds.end()) {
          return KeyError(in.where(), path, &node,
                          fmt::format("kind \"{}\" is listed twice", kind_id),
                          "list each kind once");
        }
        addon.kinds.push_back(std::move(kind_id));
      }
    }
    plan->addons.push_back(std::move(addon));
  }
  return Status::Ok();
}

Status ParsePrepaidDiscounts(const TableReader& in, PlanSpec* plan) {
  Result<const toml::array*> discounts =
      in.TableArray("prepaid_discounts", "plan.prepaid_discounts");
  if (!discounts.ok()) return discounts.error();
  if (*discounts == nullptr) return Status::Ok();
  for (size_t i = 0; i < (*discounts)->size(); ++i) {
    const TableReader d(in.where(), *(*discounts)->get(i)->as_table(),
                        fmt::format("prepaid_discounts[{}]", i + 1));
    HB_TRY(d.OnlyKeys({"min_months", "percent"}));
    HB_TRY(d.Missing("min_months", "give the months that must be paid at once, e.g. 6"));
    HB_TRY(d.Missing("percent", "give the discount in percent, e.g. percent = 7"));
    PrepaidDiscount discount;
    HB_TRY(d.Unsigned("min_months", 1, kMonthsMax, "months", &discount.min_months));
    HB_TRY(d.Unsigned("percent", 0, kPercentMaxDiscount, "percent", &discount.percent));
    for (const PrepaidDiscount& other : plan->prepaid_discounts) {
      if (other.min_months == discount.min_months) {
        return d.Fail("min_months", fmt::format("{} months has two discounts", discount.min_months),
                      "keep one discount per min_months");
      }
    }
    plan->prepaid_discounts.push_back(discount);
  }
  std::sort(plan->prepaid_discounts.begin(), plan->prepaid_discounts.end(),
            [](const PrepaidDiscount& a, const PrepaidDiscount& b) {
              return a.min_months < b.min_months;
            });
  return Status::Ok();
}

Status ParseExtras(const TableReader& in, PlanSpec* plan) {
  Result<const toml::array*> extras = in.TableArray("extras", "plan.extras");
  if (!extras.ok()) return extras.error();
  if (*extras == nullptr) return Status::Ok();
  for (size_t i = 0; i < (*extras)->size(); ++i) {
    const TableReader e(in.where(), *(*extras)->get(i)->as_table(),
                        fmt::format("extras[{}]", i + 1));
    HB_TRY(e.OnlyKeys({"id", "price_minor"}));
    HB_TRY(e.Missing("id", "name the extra, e.g. id = \"extra_contact\""));
    HB_TRY(e.Missing("price_minor", "give its price per unit per month in minor units"));
    ExtraPrice extra;
    HB_TRY(e.Id("id", &extra.id));
    if (plan->FindExtra(extra.id) != nullptr) {
      return e.Fail("id", fmt::format("extra \"{}\" is defined twice", extra.id),
                    "give each extra its own id");
    }
    HB_TRY(e.Integer("price_minor", 0, kMoneyMinorMaxInPlan, "minor units", &extra.price_minor));
    plan->extras.push_back(std::move(extra));
  }
  return Status::Ok();
}

Status ParseBlockOffers(const TableReader& in, PlanSpec* plan) {
  Result<const toml::array*> blocks = in.TableArray("block_offers", "plan.block_offers");
  if (!blocks.ok()) return blocks.error();
  if (*blocks == nullptr) return Status::Ok();
  for (size_t i = 0; i < (*blocks)->size(); ++i) {
    const TableReader b(in.where(), *(*blocks)->get(i)->as_table(),
                        fmt::format("block_offers[{}]", i + 1));
    HB_TRY(b.OnlyKeys({"minutes", "price_minor"}));
    HB_TRY(b.Missing("minutes", "give the block's size in minutes, e.g. 600 for 10 hours"));
    HB_TRY(b.Missing("price_minor", "give the block's price in minor units"));
    BlockOffer block;
    HB_TRY(b.Integer("minutes", 1, kMinutesMaxInPlan, "minutes", &block.minutes));
    HB_TRY(b.Integer("price_minor", 0, kMoneyMinorMaxInPlan, "minor units", &block.price_minor));
    for (const BlockOffer& other : plan->block_offers) {
      if (other.minutes == block.minutes) {
        return b.Fail("minutes",
                      fmt::format("a block of {} minutes is offered twice", block.minutes),
                      "offer each block size once");
      }
    }
    plan->block_offers.push_back(block);
  }
  return Status::Ok();
}

Result<Sla> ParseSla(const TableReader& in) {
  HB_TRY(in.OnlyKeys({"service_hours", "targets", "credit_cap_percent_of_fee"}));
  Sla sla;
  HB_TRY(
      in.Unsigned("credit_cap_percent_of_fee", 0, 100, "percent", &sla.credit_cap_percent_of_fee));
  HB_TRY(in.Missing("service_hours", "add [plan.sla.service_hours] with timezone, days and hours"));
  Result<const toml::table*> hours = in.SubTable("service_hours", "plan.sla.service_hours");
  if (!hours.ok()) return hours.error();
  Result<Calendar> calendar =
      ParseCalendar(TableReader(in.where(), **hours, in.Path("service_hours")));
  if (!calendar.ok()) return calendar.error();
  sla.service_hours = std::move(*calendar);

  Result<const toml::array*> targets = in.TableArray("targets", "plan.sla.targets");
  if (!targets.ok()) return targets.error();
  if (*targets == nullptr || (*targets)->empty()) {
    return in.Fail("targets", "no targets are set",
                   "add a [[plan.sla.targets]] per priority, or remove [plan.sla]");
  }
  for (size_t i = 0; i < (*targets)->size(); ++i) {
    const TableReader t(in.where(), *(*targets)->get(i)->as_table(),
                        fmt::format("{}[{}]", in.Path("targets"), i + 1));
    HB_TRY(t.OnlyKeys({"priority", "reaction_minutes", "resolution_minutes",
                       "resolution_working_days", "credit_percent_of_fee", "credit_fixed_minor"}));
    HB_TRY(t.Missing("priority", "give the incident priority, 1 (highest) to 4"));
    SlaTarget target;
    int64_t priority = 0;
    const toml::node& priority_node = *t.Get("priority");
    if (priority_node.is_integer() && (priority_node.as_integer()->get() < 1 ||
                                       priority_node.as_integer()->get() > kPriorityMax)) {
      return t.Fail("priority",
                    fmt::format("is {}, outside 1..4", priority_node.as_integer()->get()),
                    "use 1 (highest) to 4 (lowest)");
    }
    HB_TRY(t.Integer("priority", 1, kPriorityMax, "priority", &priority));
    target.priority = static_cast<uint8_t>(priority);
    HB_TRY(
        t.Integer("reaction_minutes", 0, kMinutesMaxInPlan, "minutes", &target.reaction_minutes));
    HB_TRY(t.Integer("resolution_minutes", 0, kMinutesMaxInPlan, "minutes",
                     &target.resolution_minutes));
    HB_TRY(t.Unsigned("resolution_working_days", 0, kDaysMaxInPlan, "days",
                      &target.resolution_working_days));
    HB_TRY(t.Unsigned("credit_percent_of_fee", 0, 100, "percent", &target.credit_percent_of_fee));
    HB_TRY(t.Integer("credit_fixed_minor", 0, kMoneyMinorMaxInPlan, "minor units",
                     &target.credit_fixed_minor));
    if (target.credit_percent_of_fee > 0 && target.credit_fixed_minor > 0) {
      return t.Fail("credit_fixed_minor", "is set together with credit_percent_of_fee",
                    "give the breach credit one way: a percentage of the fee or a fixed amount");
    }
    if (target.resolution_minutes > 0 && target.resolution_working_days > 0) {
      return t.Fail("resolution_working_days", "is set together with resolution_minutes",
                    "give the resolution target one way: service minutes or working days");
    }
    for (const SlaTarget& other : sla.targets) {
      if (other.priority == target.priority) {
        return t.Fail("priority", fmt::format("priority {} has two targets", priority),
                      "keep one target per priority");
      }
    }
    sla.targets.push_back(target);
  }
  std::sort(sla.targets.begin(), sla.targets.end(),
            [](const SlaTarget& a, const SlaTarget& b) { return a.priority < b.priority; });
  return sla;
}

// Hours: allowance, rollover and its reserve cap, unlimited, overage rate.
Status ParseHours(const TableReader& in, PlanSpec* out) {
  PlanSpec& plan = *out;
  HB_TRY(in.Integer("included_minutes", 0, kMinutesMaxInPlan, "minutes", &plan.included_minutes));
  std::string rollover = "burn";
  HB_TRY(in.String("rollover", 32, &rollover));
  if (rollover == "burn") {
    plan.rollover = Rollover::kBurn;
  } else if (rollover == "carry") {
    plan.rollover = Rollover::kCarry;
  } else if (rollover == "carry_unlimited") {
    plan.rollover = Rollover::kCarryUnlimited;
  } else {
    return in.Fail("rollover", fmt::format("unknown rollover \"{}\"", rollover),
                   "use \"burn\", \"carry\" (with reserve_cap_minutes) or \"carry_unlimited\"");
  }
  HB_TRY(in.Integer("reserve_cap_minutes", 0, kMinutesMaxInPlan, "minutes",
                    &plan.reserve_cap_minutes));
  if (plan.rollover == Rollover::kCarry && plan.reserve_cap_minutes == 0) {
    return in.Fail("reserve_cap_minutes", "is missing or 0 with rollover = \"carry\"",
                   "give the most minutes the reserve may hold, e.g. reserve_cap_minutes = 600, "
                   "or use rollover = \"carry_unlimited\"");
  }
  if (plan.rollover != Rollover::kCarry && plan.reserve_cap_minutes != 0) {
    return in.Fail(
        "reserve_cap_minutes",
        fmt::format("is set with rollover = \"{}\", which has no capped reserve", rollover),
        "remove reserve_cap_minutes, or use rollover = \"carry\"");
  }
  HB_TRY(in.Bool("unlimited", &plan.unlimited));
  HB_TRY(in.Integer("overage_rate_minor", 0, kMoneyMinorMaxInPlan, "minor units per hour",
                    &plan.overage_rate_minor));
  return Status::Ok();
}

// Surcharge multipliers and the timely discount.
Status ParseMultipliers(const TableReader& in, PlanSpec* out) {
  PlanSpec& plan = *out;
  constexpr std::string_view kMultiplier = "percent (100 = no surcharge, 300 = 3x)";
  for (std::string_view key :
       {std::string_view("urgent_percent"), std::string_view("off_hours_percent")}) {
    uint32_t* out = key == "urgent_percent" ? &plan.urgent_percent : &plan.off_hours_percent;
    const toml::node* node = in.Get(key);
    if (node != nullptr && node->is_integer() && node->as_integer()->get() >= 0 &&
        node->as_integer()->get() < 100) {
      return in.Fail(key, fmt::format("is {}, below 100", node->as_integer()->get()),
                     "a multiplier is in percent of the price and never lowers it: 100 is 1x, "
                     "300 is 3x");
    }
    HB_TRY(in.Unsigned(key, 100, kPercentMaxMultiplier, kMultiplier, out));
  }
  {
    const toml::node* node = in.Get("timely_discount_percent");
    if (node != nullptr && node->is_integer() && node->as_integer()->get() > 100) {
      return in.Fail("timely_discount_percent",
                     fmt::format("is {}, above 100", node->as_integer()->get()),
                     "a discount is at most 100 percent");
    }
  }
  HB_TRY(in.Unsigned("timely_discount_percent", 0, kPercentMaxDiscount, "percent",
                     &plan.timely_discount_percent));
  return Status::Ok();
}

// Contract rules: debt blocking, early end, allowed terms, the timely discount's prepayment.
Status ParseContractRules(const TableReader& in, PlanSpec* out) {
  PlanSpec& plan = *out;
  {
    std::string rule = DebtBlockingName(plan.debt_blocking);
    HB_TRY(in.String("debt_blocking", 32, &rule));
    if (rule == "none")
      plan.debt_blocking = DebtBlocking::kNone;
    else if (rule == "overdue")
      plan.debt_blocking = DebtBlocking::kOverdue;
    else if (rule == "prepaid")
      plan.debt_blocking = DebtBlocking::kPrepaid;
    else
      return in.Fail("debt_blocking", fmt::format("unknown rule \"{}\"", rule),
                     "use \"none\" (never block), \"overdue\" (an invoice unpaid grace_days after "
                     "its month) or \"prepaid\" (also unpaid emergency work, at once)");
  }
  {
    std::string rule = EarlyEndName(plan.early_end);
    HB_TRY(in.String("early_end", 32, &rule));
    if (rule == "free")
      plan.early_end = EarlyEnd::kFree;
    else if (rule == "pay_minimum_term")
      plan.early_end = EarlyEnd::kPayMinimumTerm;
    else if (rule == "when_settled")
      plan.early_end = EarlyEnd::kWhenSettled;
    else
      return in.Fail("early_end", fmt::format("unknown rule \"{}\"", rule),
                     "use \"free\", \"pay_minimum_term\" or \"when_settled\"");
  }
  if (const toml::node* node = in.Get("allowed_terms_months"); node != nullptr) {
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty() || array->size() > 24)
      return in.Fail("allowed_terms_months", "is not a list of 1 to 24 month counts",
                     "write the terms a contract may have, e.g. allowed_terms_months = [3, 6, 12]");
    for (size_t i = 0; i < array->size(); ++i) {
      int64_t months = 0;
      HB_TRY(in.IntegerNode(fmt::format("{}[{}]", in.Path("allowed_terms_months"), i + 1),
                            *array->get(i), 1, kMonthsMax, "months", &months));
      plan.allowed_terms_months.push_back(uint32_t(months));
    }
    std::sort(plan.allowed_terms_months.begin(), plan.allowed_terms_months.end());
    if (std::adjacent_find(plan.allowed_terms_months.begin(), plan.allowed_terms_months.end()) !=
        plan.allowed_terms_months.end())
      return in.Fail("allowed_terms_months", "lists a term twice", "list each term once");
    if (plan.allowed_terms_months.front() < plan.minimum_term_months)
      return in.Fail("allowed_terms_months",
                     fmt::format("allows {} months, below minimum_term_months = {}",
                                 plan.allowed_terms_months.front(), plan.minimum_term_months),
                     "drop the shorter terms or lower minimum_term_months");
  }
  HB_TRY(in.Unsigned("timely_min_prepaid_months", 0, kMonthsMax, "months",
                     &plan.timely_min_prepaid_months));
  return Status::Ok();
}

// Billing rules for hour work: acceptance, the increment entries round up to, the minimum
// per task (docs/plan-format.md, "Billing rules").
Status ParseBillingRules(const TableReader& in, PlanSpec* out) {
  PlanSpec& plan = *out;
  HB_TRY(in.Bool("acceptance_required", &plan.acceptance_required));
  HB_TRY(
      in.Integer("increment_minutes", 0, 24 * kMinutesPerHour, "minutes", &plan.increment_minutes));
  HB_TRY(in.Integer("minimum_task_minutes", 0, 24 * kMinutesPerHour, "minutes",
                    &plan.minimum_task_minutes));
  HB_TRY(in.Bool("review_required", &plan.review_required));
  if (plan.review_required && plan.acceptance_required)
    return in.Fail("review_required", "is set together with acceptance_required",
                   "client acceptance is already this plan's review (work counts when accepted): "
                   "keep one of them");
  return Status::Ok();
}

// The optional [plan.calendar] and [plan.sla] tables.
Status ParseCalendarAndSla(const Where& where, const TableReader& in, PlanSpec* out) {
  PlanSpec& plan = *out;
  Result<const toml::table*> calendar = in.SubTable("calendar", "plan.calendar");
  if (!calendar.ok()) return calendar.error();
  if (*calendar != nullptr) {
    Result<Calendar> parsed = ParseCalendar(TableReader(where, **calendar, "calendar"));
    if (!parsed.ok()) return parsed.error();
    plan.calendar = std::move(*parsed);
  }
  Result<const toml::table*> sla = in.SubTable("sla", "plan.sla");
  if (!sla.ok()) return sla.error();
  if (*sla != nullptr) {
    Result<Sla> parsed = ParseSla(TableReader(where, **sla, "sla"));
    if (!parsed.ok()) return parsed.error();
    plan.sla = std::move(*parsed);
  }
  return Status::Ok();
}

// The optional [plan.alerts] table (docs/alerts.md).
Result<AlertRules> ParseAlertRules(const TableReader& in) {
  HB_TRY(in.OnlyKeys(
      {"allowance_percent", "block_expiry_days", "reserve_expiry_days", "invoice_overdue_days"}));
  AlertRules rules;
  if (const toml::node* node = in.Get("allowance_percent"); node != nullptr) {
    const toml::array* array = node->as_array();
    if (array == nullptr || array->size() > kAlertPercentsMax)
      return in.Fail("allowance_percent", "is not a list of at most 10 percentages",
                     "write the thresholds in percent, e.g. allowance_percent = [80, 100]");
    rules.allowance_percent.clear();
    for (size_t i = 0; i < array->size(); ++i) {
      int64_t percent = 0;
      HB_TRY(in.IntegerNode(fmt::format("{}[{}]", in.Path("allowance_percent"), i + 1),
                            *array->get(i), 1, 1000, "percent", &percent));
      rules.allowance_percent.push_back(uint32_t(percent));
    }
    std::sort(rules.allowance_percent.begin(), rules.allowance_percent.end());
    if (std::adjacent_find(rules.allowance_percent.begin(), rules.allowance_percent.end()) !=
        rules.allowance_percent.end())
      return in.Fail("allowance_percent", "lists a threshold twice", "list each threshold once");
  }
  HB_TRY(in.Unsigned("block_expiry_days", 0, kAlertDaysMax, "days", &rules.block_expiry_days));
  HB_TRY(in.Unsigned("reserve_expiry_days", 0, kAlertDaysMax, "days", &rules.reserve_expiry_days));
  if (in.Get("invoice_overdue_days") != nullptr) {
    uint32_t days = 0;
    HB_TRY(in.Unsigned("invoice_overdue_days", 0, kAlertDaysMax, "days", &days));
    rules.invoice_overdue_days = days;
  }
  return rules;
}

Status ParseAlertsTable(const Where& where, const TableReader& in, PlanSpec* plan) {
  Result<const toml::table*> alerts = in.SubTable("alerts", "plan.alerts");
  if (!alerts.ok()) return alerts.error();
  if (*alerts == nullptr) return Status::Ok();
  Result<AlertRules> parsed = ParseAlertRules(TableReader(where, **alerts, "alerts"));
  if (!parsed.ok()) return parsed.error();
  plan->alerts = std::move(*parsed);
  return Status::Ok();
}

}  // namespace

Result<AlertRules> ParseAlertRulesText(std::string_view toml_text, std::string_view source) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return Error::Invalid(fmt::format("{}: {}", source, e.description()));
  }
  const Where where{source, "thresholds"};
  Result<AlertRules> rules = ParseAlertRules(TableReader(where, table, ""));
  if (rules.ok()) return rules;
  // The text is the caller's own (one key a line), not the user's: no "(line N)" for them.
  std::string message = rules.error().message;
  if (const size_t at = message.rfind(" (line "); at != std::string::npos) message.erase(at);
  return Error::Invalid(message);
}

namespace {

Result<PlanSpec> ParseOnePlan(const Where& where, const toml::table& table) {
  const TableReader in(where, table, "");
  HB_TRY(in.OnlyKeys({"id",
                      "name",
                      "currency",
                      "note",
                      "fee_minor",
                      "round_to_minor",
                      "included_minutes",
                      "rollover",
                      "reserve_cap_minutes",
                      "unlimited",
                      "overage_rate_minor",
                      "urgent_percent",
                      "off_hours_percent",
                      "timely_discount_percent",
                      "trial_months",
                      "minimum_term_months",
                      "grace_days",
                      "debt_blocking",
                      "early_end",
                      "allowed_terms_months",
                      "timely_min_prepaid_months",
                      "acceptance_required",
                      "increment_minutes",
                      "minimum_task_minutes",
                      "review_required",
                      "tiers",
                      "kinds",
                      "quotas",
                      "addons",
                      "prepaid_discounts",
                      "extras",
                      "block_offers",
                      "calendar",
                      "sla",
                      "alerts"}));
  PlanSpec plan;
  HB_TRY(in.Missing("id", "give the plan an id, e.g. id = \"agbis\""));
  HB_TRY(in.Id("id", &plan.id));
  plan.name = plan.id;
  HB_TRY(in.String("name", kBytesMaxPlanText, &plan.name));
  HB_TRY(in.Missing("currency", "give the ISO 4217 currency code, e.g. currency = \"RUB\""));
  HB_TRY(in.String("currency", 3, &plan.currency));
  if (plan.currency.size() != 3 || !std::all_of(plan.currency.begin(), plan.currency.end(),
                                                [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return in.Fail("currency", fmt::format("\"{}\" is not a currency code", plan.currency),
                   "write the ISO 4217 code in three upper-case letters, e.g. \"RUB\", \"USD\"");
  }
  HB_TRY(in.String("note", kBytesMaxPlanText, &plan.note));

  HB_TRY(in.Integer("fee_minor", 0, kMoneyMinorMaxInPlan, "minor units", &plan.fee_minor));
  HB_TRY(ParseTiers(in, &plan));
  if (plan.fee_minor != 0 && !plan.tiers.empty()) {
    return in.Fail("fee_minor", "is set together with tiers",
                   "price the plan either by a flat fee_minor or by per-unit [[plan.tiers]]: "
                   "remove one of them");
  }
  HB_TRY(
      in.Integer("round_to_minor", 1, kMoneyMinorMaxInPlan, "minor units", &plan.round_to_minor));

  HB_TRY(ParseHours(in, &plan));

  HB_TRY(ParseKinds(in, &plan));
  HB_TRY(ParseQuotas(in, &plan));
  HB_TRY(ParseAddons(in, &plan));

  HB_TRY(ParseMultipliers(in, &plan));
  HB_TRY(ParsePrepaidDiscounts(in, &plan));
  HB_TRY(in.Unsigned("trial_months", 0, kMonthsMax, "months", &plan.trial_months));
  HB_TRY(in.Unsigned("minimum_term_months", 0, kMonthsMax, "months", &plan.minimum_term_months));
  HB_TRY(in.Unsigned("grace_days", 0, kDaysMaxInPlan, "days", &plan.grace_days));
  HB_TRY(ParseContractRules(in, &plan));
  HB_TRY(ParseBillingRules(in, &plan));
  HB_TRY(ParseExtras(in, &plan));
  HB_TRY(ParseBlockOffers(in, &plan));

  HB_TRY(ParseCalendarAndSla(where, in, &plan));
  HB_TRY(ParseAlertsTable(where, in, &plan));
  return plan;
}

// The label for errors in plan #index (1-based): its id when it has a valid one.
std::string PlanLabel(const toml::node& node, size_t index) {
  if (const toml::table* table = node.as_table()) {
    if (const toml::node* id = table->get("id");
        id != nullptr && id->is_string() && ValidId(id->as_string()->get())) {
      return fmt::format("plan '{}'", id->as_string()->get());
    }
  }
  return fmt::format("plan #{}", index);
}

// ---------------------------------------------------------------------------------------
// Canonical text.

// A TOML basic string: quotes, backslashes and control characters escaped; other UTF-8
// bytes written as they are.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// A key for an inline table: bare when TOML allows (A-Za-z0-9_-), quoted otherwise ('.').
std::string Key(std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(key) : Quote(key);
}

std::string_view RolloverName(Rollover rollover) {
  switch (rollover) {
    case Rollover::kBurn:
      return "burn";
    case Rollover::kCarry:
      return "carry";
    case Rollover::kCarryUnlimited:
      return "carry_unlimited";
  }
  return "burn";
}

const char* Bool(bool value) { return value ? "true" : "false"; }

// `entries` as a multi-line array of inline tables: "[]" when empty.
void WriteList(std::string* out, std::string_view key, const std::vector<std::string>& entries) {
  if (entries.empty()) {
    *out += fmt::format("{} = []\n", key);
    return;
  }
  *out += fmt::format("{} = [\n", key);
  for (const std::string& entry : entries) *out += fmt::format("  {{ {} }},\n", entry);
  *out += "]\n";
}

void WriteCalendar(std::string* out, const Calendar& calendar) {
  std::vector<std::string> days;
  for (size_t day = 0; day < kDayNames.size(); ++day) {
    if ((calendar.days_mask >> day) & 1u) days.push_back(Quote(kDayNames[day]));
  }
  std::vector<std::string> holidays;
  for (int32_t date : calendar.holidays) holidays.push_back(FormatDate(date));
  *out += fmt::format("timezone = {}\n", Quote(calendar.timezone));
  *out += fmt::format("days = [{}]\n", fmt::join(days, ", "));
  *out += fmt::format("hours = {}\n", calendar.always_open
                                          ? Quote("24x7")
                                          : Quote(FormatClock(calendar.open_minute) + "-" +
                                                  FormatClock(calendar.close_minute)));
  *out += fmt::format("holidays = [{}]\n", fmt::join(holidays, ", "));
  // Written only when set, so plans without one keep the canonical text they had before the
  // key existed (and so their version).
  if (!calendar.production_calendar.empty()) {
    *out += fmt::format("production_calendar = {}\n", Quote(calendar.production_calendar));
  }
}

}  // namespace

Result<std::vector<PlanSpec>> ParsePlans(std::string_view toml_text, std::string_view source) {
  // toml++ reports problems by exception; this is the module edge where they become values.
  toml::table document;
  try {
    document = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return Error::Invalid(fmt::format(
        "{}: line {}, column {}: TOML syntax error: {}; fix the TOML at that place (format: "
        "docs/plan-format.md)",
        source, e.source().begin.line, e.source().begin.column, e.description()));
  }

  const Where file_where{source, "file"};
  {
    const toml::node* plans = document.get("plan");
    for (auto&& [key, value] : document) {
      if (key.str() != "plan") {
        return KeyError(file_where, key.str(), &value, "unknown top-level key",
                        "put every key inside a [[plan]] table");
      }
    }
    if (plans == nullptr || !plans->is_array() || plans->as_array()->empty()) {
      return Error::Invalid(fmt::format(
          "{}: no [[plan]] table; a plan file holds one or more [[plan]] tables (note the "
          "double brackets)",
          source));
    }
    if (!plans->as_array()->is_array_of_tables()) {
      return KeyError(file_where, "plan", plans, "is not an array of tables",
                      "write each plan as a [[plan]] table");
    }
    if (plans->as_array()->size() > kCountMaxPlansPerFile) {
      return KeyError(
          file_where, "plan", plans, fmt::format("has {} plans", plans->as_array()->size()),
          fmt::format("split the file: at most {} plans per file", kCountMaxPlansPerFile));
    }
  }

  const toml::array& plans = *document.get("plan")->as_array();
  for (size_t i = 0; i < plans.size(); ++i) {
    const Where where{source, PlanLabel(*plans.get(i), i + 1)};
    HB_TRY(RefuseFloats(where, *plans.get(i), ""));
  }

  std::vector<PlanSpec> specs;
  for (size_t i = 0; i < plans.size(); ++i) {
    const Where where{source, PlanLabel(*plans.get(i), i + 1)};
    Result<PlanSpec> plan = ParseOnePlan(where, *plans.get(i)->as_table());
    if (!plan.ok()) return plan.error();
    for (const PlanSpec& other : specs) {
      if (other.id == plan->id) {
        return KeyError(where, "id", plans.get(i)->as_table()->get("id"),
                        fmt::format("plan \"{}\" is defined twice in this file", plan->id),
                        "give each plan its own id (a new version of a plan is defined by "
                        "defining the file again, not by repeating the id)");
      }
    }
    specs.push_back(std::move(*plan));
  }
  return specs;
}

Result<PlanSpec> ParseCanonicalPlan(std::string_view toml_text) {
  Result<std::vector<PlanSpec>> plans = ParsePlans(toml_text, "canonical plan");
  if (!plans.ok()) return plans.error();
  if (plans->size() != 1) {
    return Error::Invalid(
        fmt::format("canonical plan: holds {} [[plan]] tables; canonical text is exactly one plan",
                    plans->size()));
  }
  return std::move(plans->front());
}

const char* DebtBlockingName(DebtBlocking rule) {
  switch (rule) {
    case DebtBlocking::kNone:
      return "none";
    case DebtBlocking::kOverdue:
      return "overdue";
    case DebtBlocking::kPrepaid:
      return "prepaid";
  }
  return "none";
}

const char* EarlyEndName(EarlyEnd rule) {
  switch (rule) {
    case EarlyEnd::kFree:
      return "free";
    case EarlyEnd::kPayMinimumTerm:
      return "pay_minimum_term";
    case EarlyEnd::kWhenSettled:
      return "when_settled";
  }
  return "free";
}

namespace {

// The plan scalars, one line each, in the documented order.
std::string ScalarLines(const PlanSpec& plan) {
  std::string out = "[[plan]]\n";
  out += fmt::format("id = {}\n", Quote(plan.id));
  out += fmt::format("name = {}\n", Quote(plan.name));
  out += fmt::format("currency = {}\n", Quote(plan.currency));
  out += fmt::format("note = {}\n", Quote(plan.note));
  out += fmt::format("fee_minor = {}\n", plan.fee_minor);
  out += fmt::format("round_to_minor = {}\n", plan.round_to_minor);
  out += fmt::format("included_minutes = {}\n", plan.included_minutes);
  out += fmt::format("rollover = {}\n", Quote(RolloverName(plan.rollover)));
  out += fmt::format("reserve_cap_minutes = {}\n", plan.reserve_cap_minutes);
  out += fmt::format("unlimited = {}\n", Bool(plan.unlimited));
  out += fmt::format("overage_rate_minor = {}\n", plan.overage_rate_minor);
  out += fmt::format("urgent_percent = {}\n", plan.urgent_percent);
  out += fmt::format("off_hours_percent = {}\n", plan.off_hours_percent);
  out += fmt::format("timely_discount_percent = {}\n", plan.timely_discount_percent);
  out += fmt::format("trial_months = {}\n", plan.trial_months);
  out += fmt::format("minimum_term_months = {}\n", plan.minimum_term_months);
  out += fmt::format("grace_days = {}\n", plan.grace_days);
  // Keys added after version 1 of the format are written only when not at their default, so
  // the canonical text (and version) of a plan that does not use them is unchanged.
  if (plan.debt_blocking != DebtBlocking::kNone)
    out += fmt::format("debt_blocking = {}\n", Quote(DebtBlockingName(plan.debt_blocking)));
  if (plan.early_end != EarlyEnd::kFree)
    out += fmt::format("early_end = {}\n", Quote(EarlyEndName(plan.early_end)));
  if (!plan.allowed_terms_months.empty())
    out += fmt::format("allowed_terms_months = [{}]\n", fmt::join(plan.allowed_terms_months, ", "));
  if (plan.timely_min_prepaid_months != 0)
    out += fmt::format("timely_min_prepaid_months = {}\n", plan.timely_min_prepaid_months);
  out += fmt::format("acceptance_required = {}\n", Bool(plan.acceptance_required));
  if (plan.increment_minutes != 0)
    out += fmt::format("increment_minutes = {}\n", plan.increment_minutes);
  if (plan.minimum_task_minutes != 0)
    out += fmt::format("minimum_task_minutes = {}\n", plan.minimum_task_minutes);
  if (plan.review_required) out += "review_required = true\n";
  return out;
}

// tiers, kinds, quotas, addons, prepaid_discounts, extras, block_offers: arrays of inline tables.
void WriteLists(std::string* out_text, const PlanSpec& plan) {
  std::string& out = *out_text;
  std::vector<std::string> entries;
  for (const Tier& tier : plan.tiers) {
    entries.push_back(tier.max_units == 0
                          ? fmt::format("min_units = {}, unit_price_minor = {}", tier.min_units,
                                        tier.unit_price_minor)
                          : fmt::format("min_units = {}, max_units = {}, unit_price_minor = {}",
                                        tier.min_units, tier.max_units, tier.unit_price_minor));
  }
  WriteList(&out, "tiers", entries);

  entries.clear();
  for (const Kind& kind : plan.kinds) {
    std::string entry =
        fmt::format("id = {}, unit = {}, included = {}", Quote(kind.id),
                    Quote(kind.unit == Unit::kItem ? "item" : "hour"), Bool(kind.included));
    if (kind.price_minor) entry += fmt::format(", price_minor = {}", *kind.price_minor);
    if (kind.off_hours_price_minor) {
      entry += fmt::format(", off_hours_price_minor = {}", *kind.off_hours_price_minor);
    }
    if (!kind.pool.empty()) entry += fmt::format(", pool = {}", Quote(kind.pool));
    if (!kind.billable) entry += ", billable = false";  // only when set: old plans keep their text
    entries.push_back(std::move(entry));
  }
  WriteList(&out, "kinds", entries);

  std::vector<std::string> quotas;
  for (const auto& [pool, slots] : plan.quotas) {
    quotas.push_back(fmt::format("{} = {}", Key(pool), slots));
  }
  out += quotas.empty() ? "quotas = {}\n"
                        : fmt::format("quotas = {{ {} }}\n", fmt::join(quotas, ", "));

  entries.clear();
  for (const Addon& addon : plan.addons) {
    std::string entry = fmt::format("id = {}, price_minor = {}, slots = {}", Quote(addon.id),
                                    addon.price_minor, addon.slots);
    if (!addon.pool.empty()) {
      entry += fmt::format(", pool = {}", Quote(addon.pool));
    } else {
      std::vector<std::string> kinds;
      for (const std::string& kind : addon.kinds) kinds.push_back(Quote(kind));
      entry += fmt::format(", kinds = [{}]", fmt::join(kinds, ", "));
    }
    entries.push_back(std::move(entry));
  }
  WriteList(&out, "addons", entries);

  entries.clear();
  for (const PrepaidDiscount& discount : plan.prepaid_discounts) {
    entries.push_back(
        fmt::format("min_months = {}, percent = {}", discount.min_months, discount.percent));
  }
  WriteList(&out, "prepaid_discounts", entries);

  entries.clear();
  for (const ExtraPrice& extra : plan.extras) {
    entries.push_back(fmt::format("id = {}, price_minor = {}", Quote(extra.id), extra.price_minor));
  }
  WriteList(&out, "extras", entries);

  entries.clear();
  for (const BlockOffer& block : plan.block_offers) {
    entries.push_back(
        fmt::format("minutes = {}, price_minor = {}", block.minutes, block.price_minor));
  }
  WriteList(&out, "block_offers", entries);
}

}  // namespace

std::string CanonicalToml(const PlanSpec& plan) {
  std::string out = ScalarLines(plan);
  WriteLists(&out, plan);
  std::vector<std::string> entries;
  if (plan.calendar) {
    out += "\n[plan.calendar]\n";
    WriteCalendar(&out, *plan.calendar);
  }
  if (plan.sla) {
    out += "\n[plan.sla]\n";
    entries.clear();
    for (const SlaTarget& target : plan.sla->targets) {
      entries.push_back(
          fmt::format("priority = {}, reaction_minutes = {}, resolution_minutes = {}, "
                      "resolution_working_days = {}",
                      target.priority, target.reaction_minutes, target.resolution_minutes,
                      target.resolution_working_days));
      // Written only when set, so plans without credits keep their canonical text.
      if (target.credit_percent_of_fee > 0)
        entries.back() += fmt::format(", credit_percent_of_fee = {}", target.credit_percent_of_fee);
      if (target.credit_fixed_minor > 0)
        entries.back() += fmt::format(", credit_fixed_minor = {}", target.credit_fixed_minor);
    }
    if (plan.sla->credit_cap_percent_of_fee > 0)
      out += fmt::format("credit_cap_percent_of_fee = {}\n", plan.sla->credit_cap_percent_of_fee);
    WriteList(&out, "targets", entries);
    out += "\n[plan.sla.service_hours]\n";
    WriteCalendar(&out, plan.sla->service_hours);
  }
  if (plan.alerts) {
    out += "\n[plan.alerts]\n";
    out +=
        fmt::format("allowance_percent = [{}]\n", fmt::join(plan.alerts->allowance_percent, ", "));
    out += fmt::format("block_expiry_days = {}\n", plan.alerts->block_expiry_days);
    out += fmt::format("reserve_expiry_days = {}\n", plan.alerts->reserve_expiry_days);
    if (plan.alerts->invoice_overdue_days)
      out += fmt::format("invoice_overdue_days = {}\n", *plan.alerts->invoice_overdue_days);
  }
  return out;
}

}  // namespace hourbank::projections
