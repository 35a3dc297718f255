// Read views: the JSON shapes of CLI.md (shared by `--json`, the tables and the server) and
// the tables for people, rendered from the same JSON so the two can never disagree.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "projections/state.h"
#include "schemas/events.capnp.h"

namespace hourbank::cli {

// `balance`: the client's state in the month of at_us (client zone).
nlohmann::json BalanceJson(const projections::ClientState& state, int64_t at_us);
std::string BalanceText(const nlohmann::json& balance);

// `invoice CLIENT MONTH`.
nlohmann::json InvoiceJson(const projections::ClientState& state, uint32_t month);
std::string InvoiceText(const nlohmann::json& invoice);

// `burned CLIENT [--from] [--to]`; from/to 0 = the contract's first month / the current month.
nlohmann::json BurnedJson(const projections::ClientState& state, uint32_t from, uint32_t to);
std::string BurnedText(const nlohmann::json& burned);

// `report CLIENT MONTH`: every counted entry, who, when, what paid for it.
nlohmann::json ReportJson(const projections::ClientState& state, uint32_t month);
std::string ReportText(const nlohmann::json& report);

// `history`: one event as a flat JSON object: seq, type, recorded_at, effective_at, client,
// actor, key, and the body's own fields at top level (snake_case; money/minutes integers;
// Data as hex).
nlohmann::json EventJson(uint64_t seq, schemas::Event::Reader event, const projections::Zone& zone);
// The event type name in snake_case ("work_logged").
std::string EventType(schemas::Event::Reader event);

// Month for display, "2025-10".
std::string MonthText(uint32_t month);
// A small aligned table: rows of cells, first row the header; numeric-looking cells right-aligned.
std::string Table(const std::vector<std::vector<std::string>>& rows);

}  // namespace hourbank::cli

namespace hourbank::cli {
// `sla CLIENT MONTH`: reaction and resolution times in service minutes, targets, breaches.
nlohmann::json SlaJson(const projections::ClientState& state, uint32_t month, int64_t now_us);
std::string SlaText(const nlohmann::json& sla);
}  // namespace hourbank::cli
