// The burn-down forecast of a client (`hourbank forecast`): how fast hours are being used,
// the day the allowance, the reserve and each prepaid block run out, the overage expected by
// the end of the month, and what expires when.
//
// The burn rate is the hour work logged in the `window_days` local calendar days before today
// (the client's zone; today is not in the window), counted as billing counts it: minutes ×
// surcharge multiplier. Work awaiting acceptance is in the rate (it is work done) but is not
// drawn from the buckets until it is accepted. The projection starts tomorrow: day k after
// today has used floor(window_minutes × k / window_days) minutes in all, an integer, so the
// whole forecast is exact arithmetic. Each day's minutes are drawn in billing's order
// (projections/month_eval.cc): the month's allowance, the reserve, the prepaid blocks usable
// that day (soonest-expiring first, then oldest), then overage (or unlimited hours). At each
// month end the plan's rollover carries unused allowance into the reserve (up to its cap) or
// lets it expire, the reserve expires at a term's end, and blocks expire with their month.
// The projection stops at the contract's end or after `horizon_months` month ends.
//
// Pure functions of their arguments; closed months' entries are needed for a window reaching
// back into them (ClientOptions::retain_entries).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "projections/state.h"
#include "reports/labels.h"

namespace hourbank::reports {

struct ForecastOptions {
  int64_t now_us = 0;
  int32_t window_days = 28;     // 1 … 366
  int32_t horizon_months = 12;  // month ends projected after the current month, 0 … 24
};

// One prepaid block: minutes left now and the day it runs out (0: not within the projection).
struct BlockForecast {
  uint64_t seq = 0;
  int64_t left_minutes = 0;
  int32_t last_day = 0;        // last local day it can be drawn (0: no date limit)
  uint32_t expires_month = 0;  // month whose close expires it (0: never)
  int32_t runs_out_on = 0;     // YYYYMMDD
};

// Minutes projected to expire unused, and when (the local day whose end expires them).
struct ForecastExpiry {
  int32_t on = 0;          // YYYYMMDD
  std::string bucket;      // "allowance", "reserve", "block"
  uint64_t block_seq = 0;  // bucket "block"
  int64_t minutes = 0;
};

struct Forecast {
  std::string client, currency;
  uint32_t month = 0;  // the current month (client zone)
  int32_t today = 0;   // YYYYMMDD
  bool in_contract = false;
  bool unlimited = false;
  int32_t window_from = 0, window_to = 0;  // YYYYMMDD, inclusive
  int32_t window_days = 0;
  int64_t window_minutes = 0;   // hour work logged in the window (× multipliers)
  int64_t pending_minutes = 0;  // logged, awaiting acceptance (not drawn)
  int64_t allowance_left_minutes = 0, reserve_left_minutes = 0;
  int32_t allowance_runs_out_on = 0;     // YYYYMMDD within this month; 0: it lasts the month
  int32_t reserve_runs_out_on = 0;       // 0: not within the projection
  std::vector<BlockForecast> blocks;     // soonest-expiring first, then oldest (draw order)
  int64_t overage_minutes = 0;           // this month so far
  int64_t expected_overage_minutes = 0;  // this month by its end (so far + projected)
  int64_t expected_overage_minor = 0;    // so far as invoiced + projected at the plan's rate
  int32_t overage_starts_on = 0;         // first projected day with overage (0: none projected)
  std::vector<ForecastExpiry> expiries;  // in date order
  int32_t projected_to = 0;              // last projected day (YYYYMMDD)
};

// The forecast at options.now_us. A client outside every contract gets in_contract = false and
// no projection.
Forecast MakeForecast(const projections::ClientState& state, const ForecastOptions& options);

// `forecast --json`: the Forecast's fields, days as "YYYY-MM-DD" (null when 0), money in
// minor units, durations in minutes.
nlohmann::json ForecastJson(const Forecast& forecast);

// For people, in `lang`: the rate, a table of buckets with their run-out days, overage, expiries.
std::string ForecastText(const Forecast& forecast, Lang lang);

// The pieces of ForecastText that the statement and the portal show: the rate sentence, one row
// per bucket (allowance, reserve, each block in draw order) with what is left and the day it
// runs out ("-" when empty, "lasts" when it outlives the projection), the overage sentence
// (empty for an unlimited plan). No rows outside a contract.
struct ForecastLines {
  struct Row {
    std::string key;  // "allowance", "reserve", "block-SEQ": stable ids for HTML and tests
    std::string bucket, left, runs_out;
  };
  std::string bucket, left, runs_out;  // column titles
  std::string rate, overage;
  std::vector<Row> rows;
};
ForecastLines ForecastLinesOf(const Forecast& forecast, Lang lang);

// "2026-03-14"; "-" for 0.
std::string DayText(int32_t yyyymmdd);

}  // namespace hourbank::reports
