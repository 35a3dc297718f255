// CSV parsing and per-format row mapping for `hourbank import`. The grammar is in csv.h.
#include "tools/hourbank/import/csv.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hourbank::cli {

namespace {

using projections::Zone;

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid (overlong
// forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0)
    n = 2, cp = b0 & 0x1F;
  else if ((b0 & 0xF0) == 0xE0)
    n = 3, cp = b0 & 0x0F;
  else if ((b0 & 0xF8) == 0xF0)
    n = 4, cp = b0 & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::array<uint32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t DigitsValue(std::string_view s) {  // precondition: AllDigits, at most 18 digits
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// "H:MM" or "H:MM:SS" -> seconds. Hours: 1-5 digits.
std::optional<int64_t> ClockSeconds(std::string_view s) {
  std::array<std::string_view, 3> parts;
  size_t count = 0;
  while (true) {
    const size_t colon = s.find(':');
    if (count == parts.size()) return std::nullopt;
    parts[count++] = s.substr(0, colon);
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  if (count < 2) return std::nullopt;
  if (!AllDigits(parts[0]) || parts[0].size() > 5) return std::nullopt;
  int64_t seconds = DigitsValue(parts[0]) * 3600;
  for (size_t k = 1; k < count; ++k) {
    if (parts[k].size() != 2 || !AllDigits(parts[k])) return std::nullopt;
    const int64_t v = DigitsValue(parts[k]);
    if (v >= 60) return std::nullopt;
    seconds += k == 1 ? v * 60 : v;
  }
  return seconds;
}

// Decimal hours "1.5", "0.25", "2" -> minutes, rounded to the nearest minute (half up).
// Integer part 1-5 digits, fraction 0-6 digits.
std::optional<int64_t> DecimalHoursMinutes(std::string_view s) {
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac =
      dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (!AllDigits(whole) || whole.size() > 5) return std::nullopt;
  if (dot != std::string_view::npos && (!AllDigits(frac) || frac.size() > 6)) return std::nullopt;
  int64_t scale = 1;
  for (size_t k = 0; k < frac.size(); ++k) scale *= 10;
  const int64_t scaled_hours = DigitsValue(whole) * scale + (frac.empty() ? 0 : DigitsValue(frac));
  return projections::RoundDiv(scaled_hours * 60, scale);
}

// A date cell "YYYY-MM-DD" plus an optional time cell "HH:MM[:SS]" -> UTC µs in `zone`. No
// time: local noon, so a date-only entry lands inside a usual working day.
Result<int64_t> RowTime(std::string_view date, std::string_view time, const Zone& zone) {
  date = Trim(date);
  time = Trim(time);
  if (date.empty()) return Error::Invalid("the date is empty");
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' || !AllDigits(date.substr(0, 4)) ||
      !AllDigits(date.substr(5, 2)) || !AllDigits(date.substr(8, 2)))
    return Error::Invalid(fmt::format("date '{}' is not YYYY-MM-DD", date));
  if (!time.empty()) {
    const bool shape =
        (time.size() == 5 || time.size() == 8) && time[2] == ':' && ClockSeconds(time).has_value();
    if (!shape) return Error::Invalid(fmt::format("time '{}' is not HH:MM or HH:MM:SS", time));
  }
  const std::string iso =
      fmt::format("{}T{}", date, time.empty() ? std::string_view("12:00") : time);
  auto t = projections::ParseTime(iso, zone);
  if (!t.ok()) return Error::Invalid(t.error().message);
  return t.value();
}

// The generic format's date cell: full ISO 8601 (projections::ParseTime), a bare date is noon.
Result<int64_t> GenericTime(std::string_view text, const Zone& zone) {
  text = Trim(text);
  if (text.empty()) return Error::Invalid("the date is empty");
  if (text.size() == 10) return RowTime(text, {}, zone);
  auto t = projections::ParseTime(text, zone);
  if (!t.ok()) return Error::Invalid(t.error().message);
  return t.value();
}

struct Column {
  const char* name;  // as the exporter writes it; matched case-insensitively
  bool required;
};

struct FormatSpec {
  std::vector<Column> columns;
};

// Column indexes of a header for one format; -1 when an optional column is absent.
enum Field : size_t { kDate, kTime, kDuration, kKind, kTask, kStaff, kStaff2, kNote, kFieldCount };

const FormatSpec& SpecFor(TimesheetFormat format) {
  // Indexed by Field. nullptr name: the format has no such column.
  static const std::array<FormatSpec, 4> specs = {{
      // generic
      {{{"date", true},
        {nullptr, false},
        {"duration", true},
        {"kind", false},
        {"task", false},
        {"staff", false},
        {nullptr, false},
        {"note", false}}},
      // toggl (Toggl Track "detailed" export)
      {{{"Start date", true},
        {"Start time", true},
        {"Duration", true},
        {nullptr, false},
        {"Task", false},
        {"User", false},
        {nullptr, false},
        {"Description", false}}},
      // harvest (detailed time report)
      {{{"Date", true},
        {nullptr, false},
        {"Hours", true},
        {nullptr, false},
        {"Task", false},
        {"First Name", false},
        {"Last Name", false},
        {"Notes", false}}},
      // kimai (Kimai 2 timesheet export)
      {{{"Date", true},
        {"From", false},
        {"Duration", true},
        {nullptr, false},
        {"Activity", false},
        {"User", false},
        {nullptr, false},
        {"Description", false}}},
  }};
  return specs[static_cast<size_t>(format)];
}

}  // namespace

Result<TimesheetFormat> ParseTimesheetFormat(std::string_view name) {
  if (name == "generic") return TimesheetFormat::kGeneric;
  if (name == "toggl") return TimesheetFormat::kToggl;
  if (name == "harvest") return TimesheetFormat::kHarvest;
  if (name == "kimai") return TimesheetFormat::kKimai;
  return Error::Invalid(
      fmt::format("unknown format '{}'; use generic, toggl, harvest or kimai", name));
}

const char* TimesheetFormatName(TimesheetFormat format) {
  switch (format) {
    case TimesheetFormat::kGeneric:
      return "generic";
    case TimesheetFormat::kToggl:
      return "toggl";
    case TimesheetFormat::kHarvest:
      return "harvest";
    case TimesheetFormat::kKimai:
      return "kimai";
  }
  return "?";
}

namespace {

// No NUL byte, and valid UTF-8 throughout; checked before the record loop, so that loop only
// deals with structure.
Status CheckCsvText(std::string_view text) {
  uint64_t line = 1;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\0')
      return Error::Invalid(fmt::format("not a CSV text file: a NUL byte on line {}", line));
    if (text[i] == '\n') ++line;
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0)
      return Error::Invalid(fmt::format("not UTF-8 text: line {}; export the file as UTF-8", line));
    i += n;
  }
  return Status::Ok();
}

// The records of a checked text, one field at a time; every loop advances through the text.
class CsvScanner {
 public:
  CsvScanner(std::string_view text, char sep, const CsvLimits& limits)
      : text_(text), n_(text.size()), sep_(sep), limits_(limits) {}

  Result<std::vector<CsvRecord>> Records() {
    std::vector<CsvRecord> records;
    while (i_ < n_) {
      if (AtEol(i_)) {  // blank line
        i_ = SkipEol(i_);
        continue;
      }
      CsvRecord record;
      record.line = line_;
      HB_TRY(Record(&record));
      if (i_ < n_) i_ = SkipEol(i_);
      records.push_back(std::move(record));
      if (records.size() > uint64_t(limits_.rows_max) + 1)
        return Error::Limit(fmt::format("more than {} rows; split the file", limits_.rows_max));
    }
    return records;
  }

 private:
  bool AtEol(size_t k) const { return k < n_ && (text_[k] == '\n' || text_[k] == '\r'); }
  size_t SkipEol(size_t k) {  // precondition: AtEol(k); returns the index after it
    if (text_[k] == '\r' && k + 1 < n_ && text_[k + 1] == '\n') ++k;
    ++line_;
    return k + 1;
  }

  // The fields of one record, up to (not past) its end of line.
  Status Record(CsvRecord* record) {
    while (true) {  // one field per iteration; bounded by the text length
      std::string field;
      HB_TRY(i_ < n_ && text_[i_] == '"' ? Quoted(&field) : Unquoted(&field));
      if (field.size() > limits_.field_bytes_max)
        return Error::Limit(fmt::format("line {}: a field is longer than {} KiB", record->line,
                                        limits_.field_bytes_max >> 10));
      record->fields.push_back(std::move(field));
      if (record->fields.size() > limits_.fields_per_row_max)
        return Error::Limit(
            fmt::format("line {}: more than {} fields", record->line, limits_.fields_per_row_max));
      if (i_ < n_ && text_[i_] == sep_) {
        ++i_;
        continue;  // a separator at the very end of the text still ends with one empty field
      }
      return Status::Ok();
    }
  }

  Status Quoted(std::string* field) {
    const uint64_t quote_line = line_;
    ++i_;
    while (true) {
      if (i_ >= n_)
        return Error::Invalid(
            fmt::format("not CSV: line {}: a quoted field is never closed", quote_line));
      const char c = text_[i_];
      if (c == '"') {
        if (i_ + 1 < n_ && text_[i_ + 1] == '"') {
          *field += '"';
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      if (c == '\n' || (c == '\r' && !(i_ + 1 < n_ && text_[i_ + 1] == '\n'))) ++line_;
      *field += c;
      ++i_;
      if (field->size() > limits_.field_bytes_max) break;
    }
    if (i_ < n_ && text_[i_] != sep_ && !AtEol(i_) && field->size() <= limits_.field_bytes_max)
      return Error::Invalid(
          fmt::format("not CSV: line {}: text after a closing quote (write a quote inside a "
                      "quoted field as \"\")",
                      line_));
    return Status::Ok();
  }

  Status Unquoted(std::string* field) {
    const size_t start = i_;
    while (i_ < n_ && text_[i_] != sep_ && !AtEol(i_)) {
      if (text_[i_] == '"')
        return Error::Invalid(
            fmt::format("not CSV: line {}: a quote inside an unquoted field (quote the whole "
                        "field and double the quote)",
                        line_));
      ++i_;
    }
    field->assign(text_.substr(start, i_ - start));
    return Status::Ok();
  }

  const std::string_view text_;
  const size_t n_;
  const char sep_;
  const CsvLimits& limits_;
  size_t i_ = 0;
  uint64_t line_ = 1;
};

}  // namespace

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, const CsvLimits& limits) {
  if (text.size() > limits.file_bytes_max)
    return Error::Limit(
        fmt::format("the file is {} bytes; at most {} MiB can be imported at once, split it",
                    text.size(), limits.file_bytes_max >> 20));
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  HB_TRY(CheckCsvText(text));

  // Separator: ',' unless the first line has ';' and no ','.
  const std::string_view first_line = text.substr(0, text.find_first_of("\r\n"));
  const char sep = first_line.find(',') == std::string_view::npos &&
                           first_line.find(';') != std::string_view::npos
                       ? ';'
                       : ',';
  return CsvScanner(text, sep, limits).Records();
}

Result<int64_t> ParseImportDurationMinutes(std::string_view text, TimesheetFormat format) {
  const std::string_view t = Trim(text);
  if (t.empty()) return Error::Invalid("the duration is empty");
  std::optional<int64_t> minutes;
  if (t.find(':') != std::string_view::npos) {
    if (auto s = ClockSeconds(t)) minutes = projections::RoundDiv(*s, 60);
  } else if (format == TimesheetFormat::kGeneric) {
    auto m = projections::ParseDurationMinutes(t);
    // ParseDurationMinutes refuses zero itself; say it the same way as the other forms.
    if (!m.ok() && !(t.find_first_not_of("0.hm") == std::string_view::npos &&
                     t.find_first_of("hm") != std::string_view::npos))
      return Error::Invalid(fmt::format("duration '{}': {}; H:MM works too", t, m.error().message));
    minutes = m.ok() ? m.value() : 0;
  } else {
    minutes = DecimalHoursMinutes(t);
  }
  if (!minutes)
    return Error::Invalid(fmt::format("duration '{}' is not {}", t,
                                      format == TimesheetFormat::kGeneric
                                          ? "90m, 1h30m, 1.5h or H:MM"
                                          : "H:MM, H:MM:SS or decimal hours like 1.5"));
  if (*minutes <= 0)
    return Error::Invalid(
        fmt::format("duration '{}' must be more than zero{}", t,
                    *minutes == 0 && t.find_first_not_of("0:.hm") != std::string_view::npos
                        ? " (it rounds to 0 minutes)"
                        : ""));
  if (*minutes > kImportRowMinutesMax)
    return Error::Invalid(
        fmt::format("duration '{}' is more than 24 hours; one row is one time entry", t));
  return *minutes;
}

Result<std::vector<ImportRow>> ParseTimesheet(std::string_view text, TimesheetFormat format,
                                              const Zone& zone, const CsvLimits& limits) {
  auto parsed = ParseCsv(text, limits);
  if (!parsed.ok()) return parsed.error();
  const std::vector<CsvRecord>& records = parsed.value();
  if (records.empty())
    return Error::Invalid("the file is empty: expected a header row and time entries");

  // Header -> column index per Field.
  const FormatSpec& spec = SpecFor(format);
  const CsvRecord& header = records[0];
  std::array<int64_t, kFieldCount> index;
  index.fill(-1);
  std::vector<std::string> missing;
  for (size_t f = 0; f < kFieldCount; ++f) {
    const Column& col = spec.columns[f];
    if (!col.name) continue;
    const std::string want = Lower(col.name);
    for (size_t k = 0; k < header.fields.size(); ++k)
      if (Lower(Trim(header.fields[k])) == want) {
        index[f] = int64_t(k);
        break;
      }
    if (index[f] < 0 && col.required) missing.push_back(fmt::format("'{}'", col.name));
  }
  if (!missing.empty()) {
    std::string found;
    for (size_t k = 0; k < header.fields.size() && k < 16; ++k)
      found += (k ? ", " : "") + std::string(Trim(header.fields[k]).substr(0, 40));
    if (header.fields.size() > 16) found += ", …";
    return Error::Invalid(fmt::format(
        "the {} header (line {}) lacks column{} {}; found: {}", TimesheetFormatName(format),
        header.line, missing.size() > 1 ? "s" : "", fmt::join(missing, ", "), found));
  }

  std::vector<ImportRow> rows;
  rows.reserve(records.size() - 1);
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    ImportRow row;
    row.line = rec.line;
    // Extra trailing empty fields are what spreadsheets add; anything else is a broken row.
    size_t used = rec.fields.size();
    while (used > header.fields.size() && Trim(rec.fields[used - 1]).empty()) --used;
    if (used != header.fields.size()) {
      row.error = fmt::format("{} field{}, the header has {}", used, used == 1 ? "" : "s",
                              header.fields.size());
      rows.push_back(std::move(row));
      continue;
    }
    auto cell = [&](Field f) -> std::string_view {
      return index[f] < 0 ? std::string_view{} : Trim(rec.fields[size_t(index[f])]);
    };
    auto at = format == TimesheetFormat::kGeneric ? GenericTime(cell(kDate), zone)
                                                  : RowTime(cell(kDate), cell(kTime), zone);
    if (!at.ok()) {
      row.error = at.error().message;
      rows.push_back(std::move(row));
      continue;
    }
    auto minutes = ParseImportDurationMinutes(cell(kDuration), format);
    if (!minutes.ok()) {
      row.error = minutes.error().message;
      rows.push_back(std::move(row));
      continue;
    }
    row.at_us = at.value();
    row.minutes = minutes.value();
    row.kind = std::string(cell(kKind));
    row.task = std::string(cell(kTask));
    row.staff = std::string(cell(kStaff));
    if (!cell(kStaff2).empty())
      row.staff += (row.staff.empty() ? "" : " ") + std::string(cell(kStaff2));
    row.note = std::string(cell(kNote));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace hourbank::cli
