// libFuzzer target: the time-tracker CSV import parser (tools/hourbank/import/csv.h) on arbitrary
// bytes. Input grammar: selector: byte, text: byte* — selector % 4 picks the format (generic,
// toggl, harvest, kimai); local times are read in Europe/Moscow. Small limits make the limit
// paths reachable. ParseTimesheet must return rows or an Error, never crash, hang or trip a
// sanitizer; every accepted row must hold what csv.h promises (minutes in (0, 24 h], a line
// inside the file); ParseImportDurationMinutes on the same text must stay in range too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "projections/units.h"
#include "tools/hourbank/import/csv.h"

using namespace hourbank;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const projections::Zone moscow = projections::Zone::Find("Europe/Moscow").value();
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto format = static_cast<cli::TimesheetFormat>(selector % 4);

  cli::CsvLimits limits;
  if (selector & 0x80) {  // tight bounds: the kLimit paths
    limits.rows_max = 8;
    limits.field_bytes_max = 64;
    limits.fields_per_row_max = 8;
    limits.file_bytes_max = 4096;
  }
  uint64_t lines = 1;
  for (char c : text) lines += (c == '\n' || c == '\r');

  auto rows = cli::ParseTimesheet(text, format, moscow, limits);
  if (rows.ok()) {
    if (rows.value().size() > limits.rows_max) std::abort();
    for (const auto& row : rows.value()) {
      if (row.line == 0 || row.line > lines) std::abort();
      if (!row.error.empty()) continue;
      if (row.minutes <= 0 || row.minutes > cli::kImportRowMinutesMax) std::abort();
    }
  } else if (rows.error().message.empty()) {
    std::abort();
  }

  auto records = cli::ParseCsv(text, limits);
  if (records.ok()) {
    for (const auto& record : records.value()) {
      if (record.fields.size() > limits.fields_per_row_max) std::abort();
      for (const auto& field : record.fields) {
        if (field.size() > limits.field_bytes_max) std::abort();
      }
    }
  }

  if (text.size() <= 64) {
    auto minutes = cli::ParseImportDurationMinutes(text, format);
    if (minutes.ok() && (minutes.value() <= 0 || minutes.value() > cli::kImportRowMinutesMax))
      std::abort();
  }
  return 0;
}
