// forecast, whatif: the burn-down forecast of a client (reports/forecast.h) and its history
// replayed under another plan (reports/whatif.h).
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>

#include "reports/forecast.h"
#include "reports/whatif.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"

namespace hourbank::cli {

using namespace projections;

reports::WhatIf WhatIfFor(App& app, const std::string& client, const std::string& plan_text,
                          uint32_t from_month, uint32_t to_month) {
  reports::WhatIfRequest r;
  std::string id = plan_text;
  uint32_t version = 0;
  if (const size_t at = id.find('@'); at != std::string::npos) {
    const std::string v = id.substr(at + 1);
    id.resize(at);
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(v) == 0)
      Fail(Code::kInvalid, fmt::format("--plan: version '{}' is not a number; use PLAN@2", v));
    version = uint32_t(std::stoul(v));
  }
  r.from_month = from_month;
  r.to_month = to_month;
  const Catalog catalog = app.LoadCatalog();
  const Catalog::Version* pv = catalog.Find(id, version);
  if (!pv)
    Fail(Code::kNotFound,
         version ? fmt::format("plan '{}' has no version {}; see `hourbank plan show {}`", id,
                               version, id)
                 : fmt::format("unknown plan '{}'; see `hourbank plan list`", id));
  r.plan_id = id;
  r.plan_version = pv->version;
  r.plan_toml = pv->spec_toml;
  r.now_us = app.now_us();
  std::vector<kj::Array<capnp::word>> copies;
  std::vector<uint64_t> seqs;
  Must(app.log().ReadStream(client, 1, 0, [&](const ledger::EventView& v) {
    capnp::MallocMessageBuilder mb;
    mb.setRoot(v.event);
    copies.push_back(capnp::messageToFlatArray(mb));
    seqs.push_back(v.seq);
    return true;
  }));
  if (copies.empty())
    Fail(Code::kNotFound, fmt::format("unknown client '{}'; see `hourbank client list`", client));
  std::vector<std::unique_ptr<capnp::FlatArrayMessageReader>> readers;
  std::vector<std::pair<uint64_t, schemas::Event::Reader>> events;
  capnp::ReaderOptions ro;
  ro.traversalLimitInWords = uint64_t(1) << 40;
  for (size_t i = 0; i < copies.size(); ++i) {
    readers.push_back(std::make_unique<capnp::FlatArrayMessageReader>(copies[i], ro));
    events.emplace_back(seqs[i], readers.back()->getRoot<schemas::Event>());
  }
  auto w = reports::MakeWhatIf(events, r);
  if (!w.ok() && w.error().code == Code::kNotFound)
    Fail(Code::kNotFound, fmt::format("unknown client '{}'; see `hourbank client list`", client));
  return Must(std::move(w));
}

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
    int64_t at = 0;
    ClientState s = LoadClientAt(app, fa->client, fa->as_of, "", &at, /*retain_entries=*/true);
    reports::ForecastOptions o;
    o.now_us = at;
    o.window_days = fa->window_days;
    o.horizon_months = fa->months;
    const reports::Forecast f = reports::MakeForecast(s, o);
    app.json ? app.PrintJson(reports::ForecastJson(f))
             : (void)std::fputs(reports::ForecastText(f, reports::LangFor(s.currency())).c_str(),
                                stdout);
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
    const reports::WhatIf w = WhatIfFor(app, wa->client, wa->plan, from, to);
    app.json
        ? app.PrintJson(reports::WhatIfJson(w))
        : (void)std::fputs(reports::WhatIfText(w, reports::LangFor(w.currency)).c_str(), stdout);
  });
}

}  // namespace hourbank::cli
