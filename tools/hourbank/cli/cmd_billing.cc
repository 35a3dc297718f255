// Billing review commands (issue 18): write-down, review, approve, reject.
#include <fmt/format.h>

#include "reports/json.h"
#include "reports/text.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/views.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/cli/remote.h"

namespace hourbank::cli {

using namespace projections;

namespace {

// write-down: a manager takes billed time off an hour entry, with a reason.
void RegisterWriteDown(CLI::App& cli, App& app) {
  struct Args {
    std::string client, duration, reason, key;
    uint64_t entry = 0;
  };
  auto a = std::make_shared<Args>();
  auto* wd =
      cli.add_subcommand("write-down",
                         "Take billed time off an hour entry in an open month (manager)\n"
                         "  e.g. hourbank write-down acme 42 30m --reason \"learning curve\"");
  wd->add_option("CLIENT", a->client)->required();
  wd->add_option("ENTRY", a->entry, "entry id (as printed by log and report)")->required();
  wd->add_option("DURATION", a->duration, "billed time taken off: 30m, 1h15m")->required();
  wd->add_option("--reason", a->reason, "why")
      ->required()
      ->check(NotBlank("--reason", "learning curve"));
  wd->add_option("--key", a->key, "idempotency key");
  wd->callback([&app, a] {
    auto minutes = ParseDurationMinutes(a->duration);
    if (!minutes.ok()) Fail(minutes.error());
    const service::WriteDownRequest req{a->client, a->entry, minutes.value(), a->reason, a->key};
    auto w = Run(app, req, &service::WriteDownOp);
    app.json ? app.PrintJson(reports::SummaryJson(a->client, w.summary))
             : app.Say(w.summary.empty() ? "already written down (same key)" : w.summary);
  });
}

// review CLIENT MONTH: the month's work under review, and work awaiting the client's acceptance.
void RegisterReviewList(CLI::App& cli, App& app) {
  struct Args {
    std::string client, month;
  };
  auto a = std::make_shared<Args>();
  auto* rv = cli.add_subcommand("review",
                                "List a month's work under review (pending, approved, rejected)\n"
                                "  e.g. hourbank review acme 2026-01");
  rv->add_option("CLIENT", a->client)->required();
  rv->add_option("MONTH", a->month, "YYYY-MM")->required();
  rv->preparse_callback([&app](std::size_t) { app.read_only = true; });
  rv->callback([&app, a] {
    const uint32_t month = ParseMonthFlag(a->month, "MONTH");
    nlohmann::json j;
    if (!app.server_url.empty()) {
      j = ServerCall(
          app, "GET",
          fmt::format("/v1/clients/{}/review/{}", PathSegment(a->client), MonthText(month)));
    } else {
      Must(service::Require(app.caller(), service::Operation::kReadReport));
      auto st = Must(app.session().LoadClient(a->client));
      if (!st.registered())
        Fail(Code::kNotFound,
             fmt::format("unknown client '{}'; see `hourbank client list`", a->client));
      j = reports::ReviewJson(st, a->client, month);
    }
    app.json ? app.PrintJson(j) : app.Say(TerminalLines(reports::ReviewText(j)));
  });
}

// approve / reject CLIENT MONTH [ENTRY...] | --task T | --all
void RegisterDecision(CLI::App& cli, App& app, bool approve) {
  struct Args {
    std::string client, month, task, reason;
    std::vector<uint64_t> entries;
    bool all = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = cli.add_subcommand(
      approve ? "approve" : "reject",
      approve
          ? "Approve work pending review: it is billed (manager)\n"
            "  e.g. hourbank approve acme 2026-01 --all\n       hourbank approve acme 2026-01 41 42"
          : "Reject work under review: it leaves the month, never billed (manager)\n"
            "  e.g. hourbank reject acme 2026-01 --task T-9 --reason \"not ordered\"");
  cmd->add_option("CLIENT", a->client)->required();
  cmd->add_option("MONTH", a->month, "YYYY-MM")->required();
  cmd->add_option("ENTRY", a->entries, "entry ids (as printed by review)");
  cmd->add_option("--task", a->task, "every pending entry of this task in the month");
  cmd->add_flag("--all", a->all, "every pending entry of the month");
  auto* reason = cmd->add_option("--reason", a->reason, approve ? "why (optional)" : "why")
                     ->check(NotBlank("--reason", "not ordered"));
  if (!approve) reason->required();
  cmd->callback([&app, a, approve] {
    service::ReviewRequest req{a->client, a->month, approve,   a->entries,
                               a->task,   a->all,   a->reason, service::Names::kFlags};
    auto w = Run(app, req, &service::ReviewOp);
    app.json ? app.PrintJson(reports::SummaryJson(a->client, w.summary)) : app.Say(w.summary);
  });
}

}  // namespace

void RegisterBillingCommands(CLI::App& cli, App& app) {
  RegisterWriteDown(cli, app);
  RegisterReviewList(cli, app);
  RegisterDecision(cli, app, true);
  RegisterDecision(cli, app, false);
}

}  // namespace hourbank::cli
