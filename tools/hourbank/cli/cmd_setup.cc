// init, plan define/list/show, client add/list, contract start/units/end.
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "projections/limits.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/server/endpoints.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

namespace {

std::string ReadPlanFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    Fail(Code::kNotFound,
         fmt::format("plan file '{}' does not exist; pass the path of a .toml plan file", path));
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > (4u << 20))
    Fail(Code::kLimit, fmt::format("plan file '{}' is larger than 4 MiB", path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) Fail(Code::kIo, fmt::format("cannot read plan file '{}'", path));
  return ss.str();
}

}  // namespace

namespace {

// init
void RegisterInit(CLI::App& cli, App& app) {
  auto* init =
      cli.add_subcommand("init", "Create an empty ledger\n  e.g. hourbank --ledger ./books init");
  init->callback([&app] {
    const std::string warning = app.log(/*create=*/true).DurabilityWarning();
    app.Say(fmt::format("ledger created in {}", app.ledger_dir));
    if (!warning.empty()) std::fprintf(stderr, "hourbank: warning: %s\n", warning.c_str());
  });
}

// plan
void RegisterPlan(CLI::App& cli, App& app) {
  auto* plan = cli.add_subcommand("plan", "Define and inspect plans (tariffs)");
  plan->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  auto* define = plan->add_subcommand(
      "define",
      "Define every plan in TOML files (a changed plan becomes a new version)\n"
      "  e.g. hourbank plan define examples/plans/1c-start.toml");
  define->add_option("FILE", *files, "plan files (.toml)")->required();
  define->callback([&app, files] {
    service::DefinePlansRequest req;
    for (const std::string& f : *files) req.files.emplace_back(f, ReadPlanFile(f));
    auto w = Run(app, req, &service::DefinePlansOp);
    if (app.json)
      app.PrintJson({{"summary", w.summary}});
    else
      app.Say(w.summary);
  });
  auto* list = plan->add_subcommand(
      "list", "List the plans and their versions\n  e.g. hourbank plan list --json");
  list->callback([&app] {
    const json arr = app.server_url.empty() ? PlanListJson(app.LoadCatalog())
                                            : ServerCall(app, "GET", "/v1/plans");
    app.json ? app.PrintJson(arr) : (void)std::fputs(PlanListText(arr).c_str(), stdout);
  });
  auto show_id = std::make_shared<std::string>();
  auto show_version = std::make_shared<uint32_t>(0);
  auto* show = plan->add_subcommand(
      "show", "Show one plan as canonical TOML\n  e.g. hourbank plan show 1c-start --version 1");
  show->add_option("ID", *show_id, "plan id")->required();
  show->add_option("--version", *show_version, "version (default: latest)");
  show->callback([&app, show_id, show_version] {
    if (!app.server_url.empty()) {
      const json j =
          ServerCall(app, "GET",
                     "/v1/plans/" + PathSegment(*show_id) +
                         (*show_version ? fmt::format("?version={}", *show_version) : ""));
      app.json ? app.PrintJson(j) : (void)std::fputs(PlanText(j).c_str(), stdout);
      return;
    }
    Catalog catalog = app.LoadCatalog();
    const Catalog::Version* v = catalog.Find(*show_id, *show_version);
    if (!v)
      Fail(Code::kNotFound,
           fmt::format("unknown plan '{}'{}; see `hourbank plan list`", *show_id,
                       *show_version ? fmt::format(" version {}", *show_version) : ""));
    const json j = PlanJson(*show_id, *v);
    app.json ? app.PrintJson(j) : (void)std::fputs(PlanText(j).c_str(), stdout);
  });
}

// client
void RegisterClientCommand(CLI::App& cli, App& app) {
  auto* client = cli.add_subcommand("client", "Register and list clients");
  client->require_subcommand(1);
  auto reg = std::make_shared<RegisterClient>();
  auto* add = client->add_subcommand("add",
                                     "Register a client\n  e.g. hourbank client add acme --name "
                                     "\"Acme Ltd\" --currency RUB --timezone Europe/Moscow");
  add->add_option("ID", reg->client_id, "client id: a-z, 0-9, '.', '_', '-'")->required();
  add->add_option("--name", reg->name, "display name")->required();
  add->add_option("--currency", reg->currency, "ISO 4217 code, e.g. RUB, USD")->required();
  add->add_option("--timezone", reg->timezone, "IANA zone, e.g. Europe/Moscow")->required();
  add->callback([&app, reg] {
    auto w = Run(app, *reg, &service::AddClientOp);
    app.json ? app.PrintJson(reports::SummaryJson(reg->client_id, w.summary)) : app.Say(w.summary);
  });
  auto* clist = client->add_subcommand("list", "List clients\n  e.g. hourbank client list");
  clist->callback([&app] {
    json arr = json::array();
    std::vector<std::vector<std::string>> rows = {{"client", "name", "currency", "zone", "plan"}};
    for (const std::string& id : app.ClientIds()) {
      ClientState s = app.LoadClient(id, {.retain_entries = false});
      const auto* t = s.TermsFor(s.FirstOpenMonth());
      arr.push_back({{"client", id},
                     {"name", s.name()},
                     {"currency", s.currency()},
                     {"timezone", s.zone().name()},
                     {"plan", t ? t->plan_id : ""}});
      rows.push_back({id, s.name(), s.currency(), s.zone().name(), t ? t->plan_id : ""});
    }
    app.json ? app.PrintJson(arr) : (void)std::fputs(Table(rows).c_str(), stdout);
  });
}

// contract
// `--extra NAME=QTY` (QTY 1-1000, default 1), summed per name.
std::map<std::string, uint32_t> ParseExtras(const std::vector<std::string>& extras) {
  std::map<std::string, uint32_t> out;
  for (const std::string& x : extras) {
    const auto eq = x.find('=');
    uint32_t qty = 1;
    std::string name = x;
    if (eq != std::string::npos) {
      name = x.substr(0, eq);
      try {
        size_t used = 0;
        const unsigned long v = std::stoul(x.substr(eq + 1), &used);
        if (used != x.size() - eq - 1 || v == 0 || v > 1000) throw std::invalid_argument("range");
        qty = uint32_t(v);
      } catch (const std::exception&) {
        Fail(Code::kInvalid, fmt::format("--extra '{}': the quantity must be a whole number 1 to "
                                         "1000, e.g. extra_contact=2",
                                         x));
      }
    }
    out[name] += qty;
  }
  return out;
}

void RegisterContractStart(CLI::App* contract, App& app) {
  struct StartArgs {
    std::string client, plan, from;
    uint32_t months = 0, prepaid = 0, units = 0, version = 0;
    bool timely = false;
    std::vector<std::string> extras;
    std::string review;
  };
  auto sa = std::make_shared<StartArgs>();
  auto* start = contract->add_subcommand(
      "start",
      "Sign a contract\n  e.g. hourbank contract start acme --plan agbis --from 2026-01 --months 6 "
      "--prepaid 6 --timely --units 10 --extra extra_contact=2");
  start->add_option("CLIENT", sa->client)->required();
  start->add_option("--plan", sa->plan, "plan id")->required();
  start->add_option("--plan-version", sa->version, "pin an older version (default: latest)");
  start->add_option("--from", sa->from, "first month, YYYY-MM")->required();
  start
      ->add_option("--months", sa->months,
                   "term in months, 1-1200 (default: the plan's minimum term)")
      ->check(MonthsInRange("--months", projections::kMonthsMax,
                            "leave --months out for the plan's minimum term"));
  start->add_option("--prepaid", sa->prepaid, "months paid in advance (prepayment discount)");
  start->add_flag("--timely", sa->timely, "timely conclusion or renewal (discount)");
  start->add_option("--units", sa->units, "licences, for plans priced per licence");
  start->add_option("--extra", sa->extras, "recurring extra NAME=QTY, e.g. personal_manager=1");
  start->add_option("--review", sa->review,
                    "required|off: work waits for a manager's approval, whatever the plan says "
                    "(default: the plan's review_required)");
  start->callback([&app, sa] {
    service::ContractStartRequest req;
    req.client = sa->client, req.plan = sa->plan, req.from = sa->from,
    req.names = service::Names::kFlags;
    req.plan_version = sa->version, req.months = sa->months, req.prepaid = sa->prepaid,
    req.units = sa->units;
    req.timely = sa->timely;
    req.review = sa->review;
    for (const auto& [name, qty] : ParseExtras(sa->extras)) req.extras[name] += qty;
    auto w = Run(app, req, &service::ContractStartOp);
    app.json ? app.PrintJson(reports::SummaryJson(sa->client, w.summary)) : app.Say(w.summary);
  });
}

void RegisterContract(CLI::App& cli, App& app) {
  auto* contract = cli.add_subcommand("contract", "Sign, change and end contracts");
  contract->require_subcommand(1);
  RegisterContractStart(contract, app);
  struct UnitsArgs {
    std::string client, from;
    uint32_t units = 0;
  };
  auto ua = std::make_shared<UnitsArgs>();
  auto* units = contract->add_subcommand(
      "units",
      "Licences change from a month\n  e.g. hourbank contract units acme 16 --from 2026-03");
  units->add_option("CLIENT", ua->client)->required();
  units->add_option("N", ua->units, "licences")->required();
  units->add_option("--from", ua->from, "month, YYYY-MM")->required();
  units->callback([&app, ua] {
    auto w = Run(
        app, service::ContractUnitsRequest{ua->client, ua->from, ua->units, service::Names::kFlags},
        &service::ContractUnitsOp);
    app.json ? app.PrintJson(reports::SummaryJson(ua->client, w.summary)) : app.Say(w.summary);
  });
  struct EndArgs {
    std::string client, after;
    bool early = false;
  };
  auto ea = std::make_shared<EndArgs>();
  auto* end = contract->add_subcommand(
      "end",
      "Set the last month of the contract\n  e.g. hourbank contract end acme --after 2026-12");
  end->add_option("CLIENT", ea->client)->required();
  end->add_option("--after", ea->after, "last month, YYYY-MM")->required();
  end->add_flag("--early", ea->early,
                "end before the plan's minimum term (the plan's early_end rule applies)");
  end->callback([&app, ea] {
    auto w = Run(
        app, service::ContractEndRequest{ea->client, ea->after, ea->early, service::Names::kFlags},
        &service::ContractEndOp);
    app.json ? app.PrintJson(reports::SummaryJson(ea->client, w.summary)) : app.Say(w.summary);
  });
}

}  // namespace

void RegisterSetupCommands(CLI::App& cli, App& app) {
  RegisterInit(cli, app);
  RegisterPlan(cli, app);
  RegisterClientCommand(cli, app);
  RegisterContract(cli, app);
}

}  // namespace hourbank::cli
