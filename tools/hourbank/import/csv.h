// Time-tracker CSV exports -> rows of hour work, for `hourbank import`.
//
// Pure functions of their arguments (plus the read-only tz database behind Zone): no I/O, no
// globals, thread-safe, so they can be unit-tested and fuzzed. The column mapping of each
// format is documented in docs/import.md.
//
// The CSV dialect is RFC 4180 with the usual relaxations of real exports:
//   file    := [BOM] record *(eol record) [eol]
//   record  := field *(sep field)          ; sep is ',' (or ';' when the header line has
//                                          ; semicolons and no commas: European Excel)
//   field   := quoted | bare
//   quoted  := '"' *(any byte but '"' | '""') '"'   ; may hold sep, CR and LF
//   bare    := *(any byte but sep, '"', CR, LF)
//   eol     := CRLF | LF | CR
//   BOM     := EF BB BF (UTF-8 byte order mark, dropped)
// Blank lines are skipped. The first record is the header. The text must be UTF-8 without
// NUL bytes. A structural error (unterminated quote, a quote inside a bare field, text after
// a closing quote) makes the whole file "not CSV"; a row whose fields cannot be mapped
// (bad date, zero duration, wrong field count) is a per-row error and the rest still import.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"
#include "projections/units.h"

namespace hourbank::cli {

enum class TimesheetFormat : uint8_t { kGeneric, kToggl, kHarvest, kKimai };

// "generic", "toggl", "harvest", "kimai" (exactly, lower case). kInvalid naming the input and
// the accepted names otherwise.
Result<TimesheetFormat> ParseTimesheetFormat(std::string_view name);
const char* TimesheetFormatName(TimesheetFormat format);

struct CsvLimits {
  uint64_t file_bytes_max = 64ull << 20;  // Default: 64 MiB
  uint32_t rows_max = 1'000'000;          // data records after the header. Default: 1 000 000
  uint32_t field_bytes_max = 64u << 10;   // one field, after unquoting. Default: 64 KiB
  uint32_t fields_per_row_max = 1024;     // Default: 1024
};

// One parsed CSV record. `line` is the 1-based physical line on which the record starts
// (a quoted field with newlines makes the next record start further down).
struct CsvRecord {
  uint64_t line = 0;
  std::vector<std::string> fields;
};

// Splits `text` into records per the grammar above (blank lines skipped, the header is
// records[0]). Fails with kInvalid ("not CSV: line N: …", "not UTF-8 text: line N") or
// kLimit (a bound in `limits` exceeded, naming it). Counts data rows against rows_max.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, const CsvLimits& limits = {});

// One data row of a time-tracker export, mapped to hour work.
struct ImportRow {
  uint64_t line = 0;    // where the row starts in the file (1-based)
  int64_t at_us = 0;    // when the work was done (UTC µs); a date without a time is local noon
  int64_t minutes = 0;  // > 0 and <= 24 h (kImportRowMinutesMax)
  std::string kind;     // from the generic format's kind column; empty: the caller's --kind
  std::string task, staff, note;
  std::string error;  // non-empty: the row is refused for this reason (other fields unset)
};

// A single row longer than this is refused: one row of a time tracker is one time entry.
inline constexpr int64_t kImportRowMinutesMax = 24 * 60;

// Parses a whole export: the CSV, the header (required columns per format, matched without
// regard to case or surrounding spaces), then every data row in file order. Local times are
// read in `zone`. File-level failures (not CSV, empty, missing columns — named in the
// message, limits) are an Error; row-level failures are ImportRow::error and do not stop the
// parse.
Result<std::vector<ImportRow>> ParseTimesheet(std::string_view text, TimesheetFormat format,
                                              const projections::Zone& zone,
                                              const CsvLimits& limits = {});

// Duration cell of a row, for `format`: "H:MM" or "H:MM:SS" (all formats; seconds round to
// the nearest minute, half up); decimal hours "1.5" (toggl, harvest, kimai); "90m", "1h30m",
// "1.5h" (generic). Errors are one phrase about `text` (no line number). Exposed for tests.
Result<int64_t> ParseImportDurationMinutes(std::string_view text, TimesheetFormat format);

}  // namespace hourbank::cli
