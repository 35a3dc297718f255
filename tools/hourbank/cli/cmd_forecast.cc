// forecast, whatif: the burn-down forecast of a client (reports/forecast.h) and its history
// replayed under another plan (reports/whatif.h).
#include <fmt/format.h>

#include "reports/forecast.h"
#include "reports/whatif.h"
#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/server/forecasts.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;

reports::WhatIf WhatIfFor(App& app, const std::string& client, const std::string& plan,
                          uint32_t from_month, uint32_t to_month) {
  return Must(
      WhatIfOf(app.session(), app.caller(), client, {plan, from_month, to_month, "--plan"}));
}

namespace {

// --server: the route's JSON printed as the local command prints it, or its text as sent.
void PrintRemote(App& app, const std::string& target) {
  if (app.json) return app.PrintJson(ServerCall(app, "GET", target));
  const std::string text = ServerDocument(app, target + "&format=text");
  std::fwrite(text.data(), 1, text.size(), stdout);
}

}  // namespace

void RegisterForecastCommands(CLI::App& cli, App& app) {
  struct ForecastArgs {
    std::string client, as_of;
    int32_t window_days = 28, months = 12;
  };
  auto fa = std::make_shared<ForecastArgs>();
  auto* fc = cli.add_subcommand(
      "forecast",
      "When the allowance, reserve and each block run out at the recent burn rate;\n"
      "  expected overage by month end; what expires when\n"
      "  e.g. hourbank forecast stroymarket --window 28 --json");
  fc->add_option("CLIENT", fa->client)->required();
  fc->add_option("--window", fa->window_days,
                 "days of logged work before today that set the rate (1-366, default 28)");
  fc->add_option("--months", fa->months,
                 "month ends to project after this month (0-24, default 12)");
  fc->add_option("--as-of", fa->as_of, "forecast as on that day (ISO 8601, client's zone)")
      ->check(TimeGiven("--as-of"));
  fc->callback([&app, fa] {
    if (fa->window_days < 1 || fa->window_days > 366)
      Fail(Code::kInvalid, "--window must be 1 to 366 days");
    if (fa->months < 0 || fa->months > 24) Fail(Code::kInvalid, "--months must be 0 to 24");
    if (!app.server_url.empty()) {  // GET /v1/clients/{id}/forecast: the same JSON or text
      std::string target = fmt::format("/v1/clients/{}/forecast?window={}&months={}",
                                       PathSegment(fa->client), fa->window_days, fa->months);
      if (!fa->as_of.empty()) target += "&as_of=" + PathSegment(fa->as_of);
      return PrintRemote(app, target);
    }
    const reports::Forecast f =
        Must(ForecastOf(app.session(), app.caller(), fa->client,
                        {fa->as_of, fa->window_days, fa->months, "--as-of"}));
    app.json
        ? app.PrintJson(reports::ForecastJson(f))
        : (void)std::fputs(reports::ForecastText(f, reports::LangFor(f.currency)).c_str(), stdout);
  });

  struct WhatIfArgs {
    std::string client, plan, from, to;
  };
  auto wa = std::make_shared<WhatIfArgs>();
  auto* wi = cli.add_subcommand(
      "whatif",
      "The client's recorded work and purchases replayed under another plan: each month's\n"
      "  invoice beside what was billed, totals and the difference; writes nothing\n"
      "  e.g. hourbank whatif acme --plan kit-hours-25 --from 2026-01 --to 2026-06");
  wi->add_option("CLIENT", wa->client)->required();
  wi->add_option("--plan", wa->plan, "PLAN or PLAN@VERSION (default: the latest version)")
      ->required();
  wi->add_option("--from", wa->from, "first month, YYYY-MM (default: the contract's first)");
  wi->add_option("--to", wa->to, "last month, YYYY-MM (default: this month)");
  wi->callback([&app, wa] {
    const uint32_t from = wa->from.empty() ? 0 : ParseMonthFlag(wa->from, "--from");
    const uint32_t to = wa->to.empty() ? 0 : ParseMonthFlag(wa->to, "--to");
    if (!app.server_url.empty()) {  // GET /v1/clients/{id}/whatif: the same JSON or text
      std::string target = fmt::format("/v1/clients/{}/whatif?plan={}", PathSegment(wa->client),
                                       PathSegment(wa->plan));
      if (from) target += "&from=" + MonthText(from);
      if (to) target += "&to=" + MonthText(to);
      return PrintRemote(app, target);
    }
    const reports::WhatIf w = WhatIfFor(app, wa->client, wa->plan, from, to);
    app.json
        ? app.PrintJson(reports::WhatIfJson(w))
        : (void)std::fputs(reports::WhatIfText(w, reports::LangFor(w.currency)).c_str(), stdout);
  });
}

}  // namespace hourbank::cli
