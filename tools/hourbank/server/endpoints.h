// The server's operations as JSON in, JSON out: one function per operation, called by the HTTP
// route table (serve.cc) and by the RPC methods (rpc.cc) alike, each a thin adapter onto one
// service call (service/operations.h). None throws: a malformed body, a refused rule or a role
// outside the table is an Error (the transport maps its code to 400/401/403/404/409/422/5xx or
// to an RPC exception's "code: sentence").
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "projections/decide.h"
#include "service/auth.h"
#include "service/session.h"

namespace hourbank::cli {

// The client statement (reports/statement.h) for `month` with `months` months in the chart
// (1-24, checked by the transport): HTML, or text when `text`. The role of a report; the
// client's payments read from its stream. One definition for the CLI, the route and RPC.
Result<std::string> StatementDocument(service::Session& s, const service::Caller& c,
                                      const std::string& client, uint32_t month, uint32_t months,
                                      bool text);

// `plan list` / GET /v1/plans and `plan show` / GET /v1/plans/{id}: the JSON of both.
nlohmann::json PlanListJson(const projections::Catalog& catalog);
nlohmann::json PlanJson(const std::string& id, const projections::Catalog::Version& v);

// What the endpoints run against: the server's session (cache included) and its per-client
// write lock (decide + append to one client are serialised; docs/api.md "Threads").
class Endpoints {
 public:
  explicit Endpoints(service::Session& session) : session_(session) {}
  service::Session& session() { return session_; }

  using Query = std::map<std::string, std::string>;
  using Caller = service::Caller;

  // Reads. `query` holds as_of, known_at (and from, to; after_seq, limit).
  Result<nlohmann::json> Clients(const Caller& c);
  Result<nlohmann::json> Balance(const Caller& c, const std::string& client, const Query& q);
  // Balance without a query, answered only from the state cache (Session::CachedAt) when the
  // caller may read it; the same JSON as Balance then. nullopt otherwise, and for a client
  // whose plan blocks on prepaid debt (its `blocked` may evaluate months): ask Balance.
  std::optional<nlohmann::json> BalanceIfCached(const Caller& c, const std::string& client,
                                                uint64_t head);
  Result<nlohmann::json> Invoice(const Caller& c, const std::string& client,
                                 const std::string& month, const Query& q);
  Result<nlohmann::json> Burned(const Caller& c, const std::string& client, const Query& q);
  Result<nlohmann::json> Report(const Caller& c, const std::string& client,
                                const std::string& month, const Query& q);
  // GET /v1/clients/{id}/review/{month}: the month's work under review (reports::ReviewJson).
  Result<nlohmann::json> ReviewList(const Caller& c, const std::string& client,
                                    const std::string& month, const Query& q);
  Result<nlohmann::json> Sla(const Caller& c, const std::string& client, const std::string& month,
                             const Query& q);
  Result<nlohmann::json> Events(const Caller& c, const std::string& client, const Query& q);
  Result<nlohmann::json> Plans(const Caller& c);
  Result<nlohmann::json> Plan(const Caller& c, const std::string& id, const Query& q);
  // {"content_type", "document"}: query months (1-24, default 6), format html (default) | text.
  Result<nlohmann::json> Statement(const Caller& c, const std::string& client,
                                   const std::string& month, const Query& q);

  // Writes: the body is the request's JSON text (docs/api.md "Bodies").
  Result<nlohmann::json> Work(const Caller& c, const std::string& client, const std::string& body);
  Result<nlohmann::json> Accept(const Caller& c, const std::string& client,
                                const std::string& body);
  Result<nlohmann::json> Void(const Caller& c, const std::string& client, const std::string& body);
  Result<nlohmann::json> Pay(const Caller& c, const std::string& client, const std::string& body);
  Result<nlohmann::json> Buy(const Caller& c, const std::string& client, const std::string& body);
  Result<nlohmann::json> Adjust(const Caller& c, const std::string& client,
                                const std::string& body);
  Result<nlohmann::json> Close(const Caller& c, const std::string& client, const std::string& body);
  Result<nlohmann::json> CloseAll(const Caller& c, const std::string& body);
  Result<nlohmann::json> Incident(const Caller& c, const std::string& client,
                                  const std::string& body);
  Result<nlohmann::json> AddClient(const Caller& c, const std::string& body);
  // action: "start", "units", "end".
  Result<nlohmann::json> Contract(const Caller& c, const std::string& client,
                                  const std::string& action, const std::string& body);
  Result<nlohmann::json> DefinePlans(const Caller& c, const std::string& body);
  // Issue 18: a manager's write-down and review decisions (approve / reject).
  Result<nlohmann::json> WriteDown(const Caller& c, const std::string& client,
                                   const std::string& body);
  Result<nlohmann::json> Review(const Caller& c, const std::string& client,
                                const std::string& body);
  // POST /v1/clients/{id}/alerts/settings (docs/alerts.md, "Per client").
  Result<nlohmann::json> AlertSettings(const Caller& c, const std::string& client,
                                       const std::string& body);

  // Forecast and what-if (forecasts.h) as {"content_type", "document"}: the JSON of
  // `forecast --json` / `whatif --json`, or with format=text the CLI's text. Query: as_of,
  // window (1-366), months (0-24) / plan (PLAN[@V], required), from, to (YYYY-MM).
  Result<nlohmann::json> Forecast(const Caller& c, const std::string& client, const Query& q);
  Result<nlohmann::json> WhatIf(const Caller& c, const std::string& client, const Query& q);

 private:
  std::mutex& StripeFor(const std::string& client) {
    return stripes_[std::hash<std::string>{}(client) % stripes_.size()];
  }
  service::Session& session_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace hourbank::cli
