// The write answers' JSON shapes (reports/json.h), the same for the CLI's --json, the HTTP body
// and the RPC result (docs/api.md "Routes": {"client", "summary"} and close --all's array).
#include <catch2/catch.hpp>

#include "projections/units.h"
#include "reports/json.h"

using namespace hourbank;

TEST_CASE("a write's answer is exactly the client and the summary sentence") {
  const nlohmann::json j = reports::SummaryJson("acme", "payment of 100.50 RUB recorded");
  CHECK(j == nlohmann::json{{"client", "acme"}, {"summary", "payment of 100.50 RUB recorded"}});
}

TEST_CASE("a closed month's answer names the month as YYYY-MM") {
  const uint32_t march = projections::ParseMonth("2026-03").value();
  const nlohmann::json j = reports::ClosedJson("acme", march, "closed");
  CHECK(j == nlohmann::json{{"client", "acme"}, {"month", "2026-03"}, {"summary", "closed"}});
}
