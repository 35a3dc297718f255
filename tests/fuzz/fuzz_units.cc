// libFuzzer target: the CLI input parsers of projections/units.h on arbitrary bytes.
// Input grammar: selector: byte, text: byte* — the selector picks the parser (and, for money,
// the minor digits; for time, the zone). Every parser must return a value or an Error, never
// crash, hang or trip a sanitizer; a value must be inside the documented range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "projections/units.h"

using namespace hourbank::projections;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 6) {
    case 0: {
      auto r = ParseDurationMinutes(text);
      if (r.ok() && (r.value() <= 0 || r.value() > 10000 * 60)) std::abort();
      break;
    }
    case 1: {
      const int digits = (selector / 6) % 4;
      auto r = ParseMoneyMinor(text, digits);
      if (r.ok() && r.value() <= 0) std::abort();
      break;
    }
    case 2: {
      static const Zone moscow = Zone::Find("Europe/Moscow").value();
      auto r = ParseTime(text, (selector / 6) % 2 ? moscow : Zone::Utc());
      if (r.ok()) (void)Zone::Utc().FormatIso(r.value());
      break;
    }
    case 3: {
      auto r = ParseMonth(text);
      if (r.ok() && !ValidMonth(r.value())) std::abort();
      if (r.ok() && FormatMonth(r.value()) != text) std::abort();  // strict YYYY-MM round-trips
      break;
    }
    case 4: {
      auto r = CurrencyMinorDigits(text);
      if (r.ok() && (r.value() < 0 || r.value() > 3)) std::abort();
      break;
    }
    case 5: {
      auto z = Zone::Find(text);
      if (z.ok()) (void)z.value().MonthStartUs(202510);
      break;
    }
  }
  return 0;
}
