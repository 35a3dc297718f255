// The client portal (`hourbank serve`, GET /portal with a client token; docs/portal.md): one
// server-rendered HTML page about one client — hours left by bucket (with an inline SVG bar
// chart), prepaid blocks and their expiry, slots left, this month's work and what paid for it,
// the forecast, money, and links to past statements.
//
// Every figure comes from the functions the balance API uses (BalanceJson of reports/json.h,
// rendered here from that very JSON), so the page cannot disagree with
// GET /v1/clients/{id}/balance; each figure carries its JSON key in a data-figure attribute and
// its number in data-value (tests compare them with the API). Russian for RUB clients, English
// otherwise (reports/labels.h). No scripts, no external assets; every user string is escaped
// (HtmlEscape). No floating point: bar widths are integer arithmetic.
//
// Pure functions of their arguments; thread-safe as long as no one applies events to `state`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "projections/state.h"
#include "reports/forecast.h"
#include "reports/labels.h"

namespace hourbank::reports {

struct PortalOptions {
  int64_t now_us = 0;                // "now": the month shown and the balance's time
  std::optional<Forecast> forecast;  // made at now_us; no section without it
  // Links to the statements of these months (newest first): `link_prefix` + "YYYY-MM".
  std::vector<uint32_t> statement_months;
  std::string link_prefix = "/portal/statement/";
};

// The months whose statements the portal links: the contract's months up to the month of
// now_us, newest first, at most `max` (24).
std::vector<uint32_t> PortalStatementMonths(const projections::ClientState& state, int64_t now_us,
                                            uint32_t max = 24);

// The portal page: a self-contained HTML5 document that is also well-formed XML.
std::string RenderPortalHtml(const projections::ClientState& state, const PortalOptions& options);

// A small page for a refusal (401, 403, 404) with one escaped sentence, in `lang`.
std::string RenderPortalError(unsigned status, const std::string& message, Lang lang);

}  // namespace hourbank::reports
