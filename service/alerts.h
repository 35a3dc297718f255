// Alerts as events (docs/alerts.md): after every write that changes a client, the alerts due
// (projections/alerts.h DueAlerts) are appended as AlertRaised events, each with its alert key
// as idempotency key, so a retry, a replay, a restart or a second node raises nothing new (the
// ledger's keys are permanent). Raising is best-effort: it never fails the user's write.
#pragma once

#include <string>
#include <vector>

#include "projections/alerts.h"
#include "service/auth.h"
#include "service/operations.h"
#include "service/session.h"

namespace hourbank::service {

// Appends an AlertRaised for each alert due in `state` at the session's now, with `actor` (who
// wrote what made it due, or ran --check) as the events' actor; returns those appended (an
// alert whose key another writer appended first is not among them).
Result<std::vector<projections::AlertRecord>> RaiseDue(Session& s,
                                                       const projections::ClientState& state,
                                                       const std::string& actor);
// Loads the client and raises what is due.
Result<std::vector<projections::AlertRecord>> RaiseAlerts(Session& s, const std::string& client_id,
                                                          const std::string& actor);
// Execute's hook after an append: RaiseAlerts with every failure dropped.
void RaiseAlertsAfterWrite(Session& s, const std::string& client_id,
                           const std::string& actor) noexcept;

// The alerts of one client, or of every client when `client` is empty, raised at or after
// `since` (a date or time in each client's zone; empty: all). Role: as balances (kReadBalance).
struct ClientAlerts {
  std::string client, currency;
  projections::Zone zone = projections::Zone::Utc();
  std::vector<projections::AlertRecord> alerts;
};
struct AlertsRequest {
  std::string client, since;
  Names names = Names::kFields;
};
Result<std::vector<ClientAlerts>> ListAlertsOp(Session& s, const Caller& caller,
                                               const AlertsRequest& r);
// `alerts --check`: raises what is due now for the client (or every client) — for time-based
// alerts (an expiry coming near, an SLA clock running) on days without writes. Role: as closing
// months (kClose). Returns the alerts raised.
Result<std::vector<ClientAlerts>> CheckAlertsOp(Session& s, const Caller& caller,
                                                const std::string& client);

}  // namespace hourbank::service
