// libFuzzer target: the TOML plan loader (projections/plan.h ParsePlans) on arbitrary text.
// A file either parses into plans or gives one Error; a parsed plan's canonical text parses
// back to the same plan (ParseCanonicalPlan(CanonicalToml(p)) == p).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "projections/plan.h"

using namespace hourbank::projections;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // the CLI reads files up to 4 MiB; keep runs fast
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plans = ParsePlans(text, "fuzz.toml");
  if (!plans.ok()) {
    if (plans.error().message.empty()) std::abort();
    return 0;
  }
  for (const PlanSpec& p : plans.value()) {
    const std::string canonical = CanonicalToml(p);
    auto back = ParseCanonicalPlan(canonical);
    if (!back.ok() || !(back.value() == p)) std::abort();
  }
  return 0;
}
