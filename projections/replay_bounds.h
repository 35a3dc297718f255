// Bounds that replay applies to money stored in events.
//
// Replay treats a stored event like any other input: the decide functions never write an
// amount beyond kAmountMinorMax, so a larger one (a flipped byte, a hand-made ledger, a fuzz
// input) is recorded as a ReplayProblem naming the event's seq and the event is skipped, never
// folded into arithmetic. With every stored amount within ±10^15 minor units, a sum or a
// difference of up to 9 000 such amounts cannot overflow int64 (9.2 × 10^18).
#pragma once

#include <cstdint>
#include <string>

#include "projections/limits.h"
#include "schemas/events.capnp.h"

namespace hourbank::projections {

// The largest money amount, in minor units, one event may carry: limits.h kMoneyMinorAbsMax
// (10^13 major units of a two-digit currency, the cap of `pay`, `adjust` and `--price`).
inline constexpr int64_t kAmountMinorMax = kMoneyMinorAbsMax;

// "" when every money field of the event (payment, adjustment, prices, credit, period total)
// is within ±kAmountMinorMax; otherwise one line naming the field and its value.
std::string CheckStoredMoney(schemas::Event::Reader ev);

}  // namespace hourbank::projections
