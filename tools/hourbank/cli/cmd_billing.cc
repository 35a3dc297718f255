// Billing review commands (issue 18): write-down.
#include <fmt/format.h>

#include "tools/hourbank/answers.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/cli/remote.h"

namespace hourbank::cli {

using namespace projections;

namespace {

// write-down: a manager takes billed time off an hour entry, with a reason.
void RegisterWriteDown(CLI::App& cli, App& app) {
  struct Args { std::string client, duration, reason, key; uint64_t entry = 0; };
  auto a = std::make_shared<Args>();
  auto* wd = cli.add_subcommand("write-down", "Take billed time off an hour entry in an open month (manager)\n"
                                              "  e.g. hourbank write-down acme 42 30m --reason \"learning curve\"");
  wd->add_option("CLIENT", a->client)->required();
  wd->add_option("ENTRY", a->entry, "entry id (as printed by log and report)")->required();
  wd->add_option("DURATION", a->duration, "billed time taken off: 30m, 1h15m")->required();
  wd->add_option("--reason", a->reason, "why")->required()->check(NotBlank("--reason", "learning curve"));
  wd->add_option("--key", a->key, "idempotency key");
  wd->callback([&app, a] {
    if (!app.server_url.empty())
      Fail(Code::kInvalid, "write-down is not served over --server yet; run it on the ledger's machine");
    auto minutes = ParseDurationMinutes(a->duration);
    if (!minutes.ok()) Fail(minutes.error());
    auto w = Must(service::WriteDownOp(app.session(), app.caller(),
                                       {a->client, a->entry, minutes.value(), a->reason, a->key}));
    app.json ? app.PrintJson(SummaryJson(a->client, w))
             : app.Say(w.summary.empty() ? "already written down (same key)" : w.summary);
  });
}

}  // namespace

void RegisterBillingCommands(CLI::App& cli, App& app) { RegisterWriteDown(cli, app); }

}  // namespace hourbank::cli
