// The monthly client statement: what the hour bank did in one month, the last months as a
// chart, the work report, work awaiting acceptance, the invoice, payments and what is
// outstanding, and (for plans with an SLA) the service figures.
//
// Both renderers read the same content, built once from a ClientState, so the HTML and the
// plain text always show the same figures. Layout and sections: docs/statement.md.
//
// Language (reports/labels.h): RUB clients get Russian labels, month names ("февраль 2026") and
// invoice line descriptions, every other currency English ("February 2026"). Money is FormatMoney
// of the client's currency, hours are whole minutes. No floating point: chart coordinates are
// integer arithmetic.
//
// Pure functions of their arguments: no I/O, no clock (the caller passes now_us). Thread-safe
// as long as no one applies events to `state` meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <optional>
#include <vector>

#include "projections/state.h"
#include "reports/figures.h"
#include "reports/forecast.h"

namespace hourbank::reports {

struct StatementOptions {
  uint32_t month = 0;  // YYYYMM of the statement. Precondition: ValidMonth(month).
  // Months shown in the chart, ending with `month` (inclusive) and never before the contract's
  // first month. Clamped to [1, kStatementMonthsBackMax]. Default: 6.
  uint32_t months_back = 6;
  int64_t now_us = 0;  // "prepared at" time and SLA cut-off for open incidents
  // The client's payments (PaymentOf each PaymentReceived event of its stream), any order: the
  // statement lists those received in `month`. The totals (paid, outstanding) come from the
  // state itself.
  std::vector<Payment> payments;
  // The client's forecast (reports/forecast.h) made at now_us: when it is for the statement's
  // month, the statement shows the run-out day of each of the month's buckets and the expected
  // overage (section "Forecast"). Other months, or no forecast: no section.
  std::optional<Forecast> forecast;
};

// Longest chart window: two years keeps the month labels readable on an A4 page.
inline constexpr uint32_t kStatementMonthsBackMax = 24;

// A single self-contained HTML5 document that is also well-formed XML (every tag closed,
// attributes quoted, all user text escaped; invalid UTF-8 and control characters in user text
// are replaced). Inline CSS and one inline SVG chart; no scripts, no external fonts, images or
// links, no namespace URLs. Laid out for A4 print (@page, page-break rules).
// A month outside the client's contract still renders (empty figures, a note saying so).
// Work entries of closed months appear only when the state retains entries
// (ClientOptions::retain_entries); otherwise the report says they are not available.
std::string RenderStatementHtml(const projections::ClientState& state,
                                const StatementOptions& options);

// The same content as plain UTF-8 text for e-mail: aligned columns, no line longer than 100
// characters (code points); long user text is cut with "…". Lines end with "\n".
std::string RenderStatementText(const projections::ClientState& state,
                                const StatementOptions& options);

// Text for HTML/XML content and attribute values, as the statement escapes it: & < > " ' as
// entities, invalid UTF-8 and control characters replaced (U+FFFD). The portal uses it too.
std::string HtmlEscape(std::string_view text);

}  // namespace hourbank::reports
