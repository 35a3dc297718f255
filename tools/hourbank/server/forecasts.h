// Forecast and what-if (reports/forecast.h, reports/whatif.h) behind the role table: one
// definition for the local CLI, the HTTP routes GET /v1/clients/{id}/forecast and
// GET /v1/clients/{id}/whatif, and the RPC methods `forecast` and `whatif` (docs/api.md).
#pragma once

#include <cstdint>
#include <string>

#include "reports/forecast.h"
#include "reports/whatif.h"
#include "service/auth.h"
#include "service/session.h"

namespace hourbank::cli {

struct ForecastQuery {
  std::string as_of;            // "" = now
  int32_t window_days = 28;     // 1-366, checked by the caller
  int32_t horizon_months = 12;  // 0-24, checked by the caller
  const char* as_of_name = "as_of";
};

// The forecast of `client` (kReadForecast; a client token only its own).
Result<reports::Forecast> ForecastOf(service::Session& s, const service::Caller& c,
                                     const std::string& client, const ForecastQuery& q);

struct WhatIfQuery {
  std::string plan;  // PLAN or PLAN@VERSION
  uint32_t from_month = 0, to_month = 0;
  const char* plan_name = "plan";  // "--plan" for the CLI's messages
};

// The client's history replayed under q.plan (kWhatIf). Writes nothing.
Result<reports::WhatIf> WhatIfOf(service::Session& s, const service::Caller& c,
                                 const std::string& client, const WhatIfQuery& q);

}  // namespace hourbank::cli
