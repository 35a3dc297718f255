// Client "k" on KIT option 1 (kit-hours-15: 15 h = 900 minutes a month included) and its work,
// through the service operations: shared by the service test files.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "service/operations.h"

namespace hourbank::service::testing {

inline const Caller kKitAdmin{"boss", schemas::Role::ADMIN};

// Defines the KIT plans and starts client "k" on kit-hours-15 from `from` (YYYY-MM).
inline void KitClient(Session& s, const std::string& from = "2026-03") {
  std::ifstream in(std::string(HOURBANK_SOURCE_DIR) + "/examples/plans/kit.toml");
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE(DefinePlansOp(s, kKitAdmin, {{{"kit.toml", text.str()}}}).ok());
  REQUIRE(AddClientOp(s, kKitAdmin, {"k", "K", "RUB", "Europe/Moscow"}).ok());
  ContractStartRequest c;
  c.client = "k";
  c.plan = "kit-hours-15";
  c.from = from;
  REQUIRE(ContractStartOp(s, kKitAdmin, c).ok());
}

// `minutes` of support on task T by anna, at `at` (client's zone), for client "k".
inline Result<LogAnswer> LogKit(Session& s, int64_t minutes, const std::string& at) {
  LogRequest r;
  r.client = "k";
  r.work.kind = "support";
  r.work.minutes = minutes;
  r.work.task = "T";
  r.work.staff = "anna";
  r.at = at;
  return LogWorkOp(s, kKitAdmin, r);
}

}  // namespace hourbank::service::testing
