// The JSON shapes of the command-line contract (CLI.md), shared by `--json`, the tables for
// people (reports/text.h renders these objects) and the HTTP server. Keys are stable; new keys
// may be added. Money is integer minor units, durations integer minutes, times ISO 8601 with
// the client's offset. Every figure comes from reports/figures.h.
//
// Pure functions; thread-safe as long as no one applies events to the ClientState meanwhile.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "projections/state.h"
#include "schemas/events.capnp.h"

namespace hourbank::reports {

// `balance`: the client's state in the month of at_us (client zone): client, month, currency,
// plan, plan_version, unlimited, trial, allowance {included_minutes, used_minutes,
// left_minutes}, reserve_minutes, prepaid_minutes, overage_minutes, used_minutes, slots {POOL:
// {quota, used, left}}, invoice_so_far_minor, outstanding_minor, blocked.
nlohmann::json BalanceJson(const projections::ClientState& state, int64_t at_us);
// The same from `ev`, the state's evaluation of the month of at_us (e.g. shared by a server's
// state cache).
nlohmann::json BalanceJson(const projections::ClientState& state, int64_t at_us,
                           const projections::MonthEval& ev);

// `invoice CLIENT MONTH`: client, month, currency, lines [{code, description, quantity,
// unit_price_minor, amount_minor}], total_minor, closed. Descriptions as recorded (English).
nlohmann::json InvoiceJson(const projections::ClientState& state, uint32_t month);

// `burned CLIENT [--from] [--to]`; from/to 0 = the contract's first month / the current month.
nlohmann::json BurnedJson(const projections::ClientState& state, uint32_t from, uint32_t to);

// `report CLIENT MONTH`: every counted entry, who, when, what paid for it (English).
nlohmann::json ReportJson(const projections::ClientState& state, uint32_t month);

// `sla CLIENT MONTH`: reaction and resolution times in service minutes, targets, breaches.
nlohmann::json SlaJson(const projections::ClientState& state, uint32_t month, int64_t now_us);

// `review CLIENT MONTH`: the month's work under review (pending, approved, rejected) and work
// awaiting the client's acceptance: {"client", "month", "entries": [{"id", "at", "staff", "task",
// "kind", "unit", "minutes", "count", "review", "state", "reason"}]}.
nlohmann::json ReviewJson(const projections::ClientState& state, const std::string& client,
                          uint32_t month);

// The answer to `log` (CLI and server): client, id, replayed; for a known entry also month,
// paid_by, billed_minor (counted entries); balance (BalanceJson of the entry's month, or of
// now_us's month while it awaits acceptance); line (the sentence LogAnswerText prints).
nlohmann::json LogAnswerJson(const projections::ClientState& state, uint64_t seq, bool replayed,
                             int64_t now_us);

// {"client", "summary"}: the answer of every write on one client other than `log` (CLI --json,
// the HTTP body, the RPC result).
nlohmann::json SummaryJson(const std::string& client, const std::string& summary);
// One closed month of `close --all --json` / POST /v1/close: {"client", "month", "summary"}.
nlohmann::json ClosedJson(const std::string& client, uint32_t month, const std::string& summary);

// `history`: one event as a flat JSON object: seq, type, recorded_at, effective_at, client,
// actor, key (the stored idempotency key, when there is one), and the body's own fields at top
// level (snake_case; money/minutes integers; Data as hex).
nlohmann::json EventJson(uint64_t seq, schemas::Event::Reader event, const projections::Zone& zone);
// The event type name in snake_case ("work_logged").
std::string EventType(schemas::Event::Reader event);

// Month for display, "2025-10"; "-" for 0.
std::string MonthText(uint32_t month);

}  // namespace hourbank::reports
