// Alerts (docs/alerts.md): which thresholds a client has crossed and not yet been alerted to.
//
// Pure: reads a ClientState (its months, blocks, incidents, debt and the alerts already
// raised) and a clock reading; no I/O, no floating point. The service appends one AlertRaised
// per due alert (service/alerts.h) with the alert's key as the event's idempotency key, so an
// alert is recorded once per threshold, client, month (and block, pool or incident) however
// often, wherever and by how many processes it is evaluated:
//   key := "alert:" client ":" kind ":" threshold ":" month [":" subject]
// where kind is AlertKindName, month YYYYMM, and a subject that would make the key longer than
// kAlertKeyBytesMax is replaced by "h" + the first 16 hex digits of its BLAKE2b-256.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/decide.h"
#include "projections/state.h"

namespace hourbank::projections {

inline constexpr size_t kAlertKeyBytesMax = 128;  // the ledger's idempotency key bound
// Open months before the month of `now` that are still checked (late work for last month).
inline constexpr uint32_t kAlertMonthsBack = 2;
// The SLA's early warning: a clock at this percent of its target (docs/alerts.md).
inline constexpr uint32_t kSlaWarnPercent = 75;

// "allowance_used", "overage_started", "block_expiring", "block_run_out", "reserve_expiring",
// "slots_exhausted", "sla_breached", "client_blocked", "invoice_overdue"; "unknown" beyond the
// enum.
const char* AlertKindName(schemas::AlertKind kind);
std::optional<schemas::AlertKind> ParseAlertKind(std::string_view name);

std::string AlertKey(std::string_view client_id, schemas::AlertKind kind, uint32_t threshold,
                     uint32_t month, std::string_view subject);

// The rules of the plan in force in `month` ([plan.alerts], else the defaults), with
// invoice_overdue_days always set (absent from the table: the plan's grace_days).
AlertRules PlanAlertRulesFor(const ClientState& state, uint32_t month);
// The rules that apply to the client in `month`: the plan's, each threshold the client set
// (state.alert_overrides(), `hourbank alerts set`) replacing the plan's.
AlertRules AlertRulesFor(const ClientState& state, uint32_t month);

// Every alert due at now_us (of a kind the client has not turned off) whose key the state has not
// recorded, keys filled in, in a fixed order (by month, then kind). Only the open months from
// kAlertMonthsBack before now's month (client's zone) to now's month are looked at; closed months
// raise nothing new.
std::vector<AlertRecord> DueAlerts(const ClientState& state, int64_t now_us);

// The AlertRaised event of a due alert, effective at now_us, with its key as idempotency key.
Decision DecideAlert(const AlertRecord& alert, int64_t now_us);

// One line for people: "allowance 80 % used in 2026-03: 8h of 10h".
std::string AlertSentence(const AlertRecord& alert, const Zone& zone, std::string_view currency);

}  // namespace hourbank::projections
