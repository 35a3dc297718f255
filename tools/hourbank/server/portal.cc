#include "tools/hourbank/server/portal.h"

#include <fmt/format.h>

#include "reports/forecast.h"
#include "reports/portal.h"
#include "service/operations.h"
#include "tools/hourbank/server/endpoints.h"

namespace hourbank::cli {

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    size_t start = pos;
    while (start < end && (header[start] == ' ' || header[start] == '\t')) ++start;
    const size_t eq = header.find('=', start);
    if (eq != std::string::npos && eq < end && header.compare(start, eq - start, name) == 0 &&
        eq - start == name.size())
      return header.substr(eq + 1, end - eq - 1);
    pos = end + 1;
  }
  return "";
}

std::string PortalSetCookie(const std::string& secret, bool tls) {
  return fmt::format("{}={}; Path=/portal; HttpOnly; SameSite=Strict{}", kPortalCookie, secret,
                     tls ? "; Secure" : "");
}

Result<std::string> PortalPage(service::Session& s, const service::Caller& c) {
  HB_TRY(service::RequireFor(c, service::Operation::kPortal, c.client));
  auto r = service::ReadClientOp(s, c, service::Operation::kPortal, c.client, {},
                                 /*retain_entries=*/true);
  if (!r.ok()) return r.error();
  const projections::ClientState& state = r.value().state;
  reports::PortalOptions o;
  o.now_us = r.value().at_us;
  o.forecast = reports::MakeForecast(state, {.now_us = o.now_us});
  o.statement_months = reports::PortalStatementMonths(state, o.now_us);
  return reports::RenderPortalHtml(state, o);
}

Result<std::string> PortalStatement(service::Session& s, const service::Caller& c,
                                    const std::string& month) {
  HB_TRY(service::RequireFor(c, service::Operation::kPortal, c.client));
  auto m = service::ParseMonthField(month, "month");
  if (!m.ok()) return m.error();
  return StatementDocument(s, c, c.client, m.value(), 6, /*text=*/false);
}

}  // namespace hourbank::cli
