// Alerts as events (docs/alerts.md): after every write that changes a client, the alerts due
// (projections/alerts.h DueAlerts) are appended as AlertRaised events, each with its alert key
// as idempotency key, so a retry, a replay, a restart or a second node raises nothing new (the
// ledger's keys are permanent). Raising is best-effort: it never fails the user's write.
#pragma once

#include <optional>
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
// Execute's hook after an append: `before` is the state the write was decided on; the events
// appended since are applied to it (no reload) and what is due is raised, every failure dropped.
void RaiseAlertsAfterWrite(Session& s, projections::ClientState before,
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

// `hourbank alerts set` / POST /v1/clients/{id}/alerts/settings (docs/alerts.md, "Per
// client"): the client's own thresholds over its plan's. Texts as given: allowance_percent
// "50,90" ("none": no threshold), the days as whole numbers, off "KIND[,KIND]" ("none": every
// kind on); absent (nullopt) keeps the client's current value, `reset` first returns every
// threshold to the plan's. Checked by the plan's [plan.alerts] rules. Role: as contracts
// (kContract: manager, admin).
struct AlertSettingsRequest {
  std::string client, key;
  std::optional<std::string> allowance_percent, block_expiry_days, reserve_expiry_days,
      invoice_overdue_days, off;
  bool reset = false;
  Names names = Names::kFields;
};
Result<WriteOutcome> SetAlertSettingsOp(Session& s, const Caller& caller,
                                        const AlertSettingsRequest& r);

// The thresholds in force for the client now and where each comes from ("plan", "client").
struct AlertSettingsView {
  std::string client, plan;  // plan: "ID vN" of the month; "" outside a contract
  uint32_t month = 0;        // now's month in the client's zone
  projections::AlertRules rules;
  projections::AlertOverrides overrides;
};
Result<AlertSettingsView> AlertSettingsOp(Session& s, const Caller& caller,
                                          const std::string& client);

}  // namespace hourbank::service
