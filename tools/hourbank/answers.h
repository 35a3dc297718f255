// The JSON answers of write operations, shared by the CLI (`--json`) and the server (the HTTP
// body, the RPC `json` result): one shape per operation whatever the transport.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/operations.h"

namespace hourbank::cli {

// `log --json` / POST …/work: client, id, replayed, paid_by, month, billed_minor, balance.
nlohmann::json LogJson(const std::string& client, const service::LogAnswer& a, int64_t now_us);
// {"client", "summary"}: every other write on one client.
nlohmann::json SummaryJson(const std::string& client, const service::WriteOutcome& w);
// `close --all --json`: [{"client", "month", "summary"}…].
nlohmann::json ClosedJson(const service::Closed& c);

}  // namespace hourbank::cli
