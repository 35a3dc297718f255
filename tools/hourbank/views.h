// Read views for the hourbank executable: a thin layer over reports/ (the JSON shapes, the
// tables for people, the figures). Only what is specific to this executable lives here: the
// idempotency keys in `history` are shown as the user gave them (app.h UserKey).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "projections/state.h"
#include "reports/json.h"
#include "reports/text.h"
#include "schemas/events.capnp.h"

namespace hourbank::cli {

using reports::BalanceJson;
using reports::BurnedJson;
using reports::EventType;
using reports::InvoiceJson;
using reports::LogAnswerJson;
using reports::LogAnswerText;
using reports::MonthText;
using reports::ReportJson;
using reports::SlaJson;
using reports::Table;
using reports::TableOptions;

// The read commands' text for people (reports/text.h). Plain functions with one argument, so
// they can be passed around (client.cc); the overloads with options take `--wide`.
std::string BalanceText(const nlohmann::json& balance);
std::string InvoiceText(const nlohmann::json& invoice);
std::string BurnedText(const nlohmann::json& burned);
std::string ReportText(const nlohmann::json& report);
std::string SlaText(const nlohmann::json& sla);
std::string BalanceText(const nlohmann::json& balance, const TableOptions& options);
std::string InvoiceText(const nlohmann::json& invoice, const TableOptions& options);
std::string SlaText(const nlohmann::json& sla, const TableOptions& options);
std::string ReportText(const nlohmann::json& report, const TableOptions& options);

// `plan list` and `plan show` for people, from the JSON of GET /v1/plans and /v1/plans/{id}
// (endpoints.h PlanListJson, PlanJson): the same text locally and with --server.
std::string PlanListText(const nlohmann::json& plans);
std::string PlanText(const nlohmann::json& plan);

// `history`: reports::EventJson with the idempotency key as the user gave it ("key") and, when
// hourbank scoped it, as stored ("key_stored").
nlohmann::json EventJson(uint64_t seq, schemas::Event::Reader event, const projections::Zone& zone);

}  // namespace hourbank::cli
