// What-if (`hourbank whatif`): a client's recorded history replayed under another plan, each
// month's invoice beside what was billed. Nothing is written; this is a fold over the events
// the caller read from the client's stream.
//
// The replay takes the client's events in seq order and changes only what the plan decides:
//   - every ContractStarted / ContractChanged pins the what-if plan (id, version, canonical
//     text) instead of the recorded one; every other term (months, prepayment, timely, units,
//     extras) stays as recorded;
//   - closing entries and closes (HoursCarriedOver, HoursExpired, SlotsExpired, PeriodClosed)
//     are left out, so every month is evaluated by the rules under the what-if plan;
//   - a void after its month was closed voids the entry in its own month (the real ledger
//     credited it in a later open month; the what-if has no closed months to credit);
//   - work the real history counted without acceptance is accepted when logged (so a plan that
//     requires acceptance does not leave it pending forever); work the real history waited to
//     accept counts when logged if the what-if plan does not require acceptance.
// Everything else (work, purchases, add-ons, payments, adjustments, incidents) is replayed as
// recorded. The real invoices come from the same events folded as the ledger folds them.
//
// Pure; thread-safe as long as the readers stay valid.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/status.h"
#include "projections/state.h"
#include "reports/labels.h"

namespace hourbank::reports {

struct WhatIfMonth {
  uint32_t month = 0;
  bool closed = false;       // the real month is closed (its invoice is final)
  int64_t billed_minor = 0;  // the real invoice (projected while open)
  int64_t whatif_minor = 0;
  std::vector<projections::InvoiceLine> whatif_lines;
};

struct WhatIf {
  std::string client, currency, name;
  std::string plan_id;
  uint32_t plan_version = 0;
  std::vector<WhatIfMonth> months;
  int64_t billed_total_minor = 0, whatif_total_minor = 0;
  int64_t difference_minor = 0;                      // whatif - billed
  std::vector<projections::ReplayProblem> problems;  // what the what-if fold could not place
};

struct WhatIfRequest {
  std::string plan_id;
  uint32_t plan_version = 0;
  std::string plan_toml;    // canonical text (what ContractStarted stores)
  uint32_t from_month = 0;  // 0: the client's first contract month
  uint32_t to_month = 0;    // 0: the month of now_us (or the contract's last month, if earlier)
  int64_t now_us = 0;
};

// The replay. kInvalid: a plan text that does not parse, a plan in another currency than the
// client's, an empty or reversed month range or one longer than 120 months, a client without a
// contract.
Result<WhatIf> MakeWhatIf(const std::vector<std::pair<uint64_t, schemas::Event::Reader>>& events,
                          const WhatIfRequest& request);

// `whatif --json`: client, currency, plan, plan_version, months [{month, closed, billed_minor,
// whatif_minor, difference_minor, lines}], billed_total_minor, whatif_total_minor,
// difference_minor, problems [{seq, what}].
nlohmann::json WhatIfJson(const WhatIf& whatif);

// For people, in `lang`: one row per month, billed | what-if | difference, and the totals.
std::string WhatIfText(const WhatIf& whatif, Lang lang);

}  // namespace hourbank::reports
