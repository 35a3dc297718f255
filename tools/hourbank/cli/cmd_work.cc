// log, accept, void, buy, pay, adjust, close, incident.
#include <unistd.h>

#include <fmt/format.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/progress.h"
#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

namespace {

// log
void RegisterLog(CLI::App& cli, App& app) {
  struct LogArgs {
    std::string client, duration, kind, task, staff, at, note, key;
    int64_t count = 0;
    bool urgent = false, off_hours = false, in_hours = false, late = false, emergency = false;
    bool non_billable = false;
  };
  auto la = std::make_shared<LogArgs>();
  auto* log = cli.add_subcommand(
      "log",
      "Log work: hours (DURATION) or items (--count)\n"
      "  e.g. hourbank log acme 1h30m --kind support --task T-17 --staff anna --urgent\n"
      "       hourbank log shop --kind site_link --count 3 --task S-4");
  log->add_option("CLIENT", la->client)->required();
  log->add_option("DURATION", la->duration, "hour work: 90m, 1h30m, 1.5h");
  log->add_option("--kind", la->kind, "work kind from the client's plan")->required();
  auto* count_opt = log->add_option("--count", la->count, "item work: how many items (default 1)");
  log->add_option("--task", la->task, "task id");
  log->add_option("--staff", la->staff, "who did the work (default: $USER)");
  log->add_option(
         "--at", la->at,
         "when the work was done, ISO 8601 (default: now; client's zone without an offset)")
      ->check(TimeGiven("--at"));
  log->add_flag("--urgent", la->urgent, "urgent surcharge");
  auto* oh = log->add_flag("--off-hours", la->off_hours,
                           "outside working hours (default: the plan's calendar decides)");
  auto* ih = log->add_flag("--in-hours", la->in_hours, "within working hours");
  oh->excludes(ih);
  log->add_option("--note", la->note, "free text");
  log->add_option("--key", la->key, "idempotency key: a retry with the same key writes nothing");
  log->add_flag("--late", la->late, "book work dated in a closed month into the first open month");
  log->add_flag("--emergency", la->emergency, "accept work while the client is blocked for debt");
  log->add_flag("--non-billable", la->non_billable,
                "hour work recorded and reported, never billed");
  log->callback([&app, la, count_opt] {
    LogWork w;
    w.kind = la->kind;
    w.task = la->task;
    w.note = la->note;
    w.staff = la->staff;
    if (w.staff.empty() &&
        app.server_url.empty()) {  // remotely the server defaults it (the token's name)
      const char* user = std::getenv("USER");
      w.staff = user ? user : app.actor;
    }
    w.count = la->count;
    w.urgent = la->urgent;
    if (la->off_hours) w.off_hours = true;
    if (la->in_hours) w.off_hours = false;
    w.late = la->late;
    w.emergency = la->emergency;
    w.non_billable = la->non_billable;
    if (!la->duration.empty()) {
      if (la->count != 0)
        Fail(Code::kInvalid, "give either a DURATION (hour work) or --count (item work), not both");
      auto m = ParseDurationMinutes(la->duration);
      if (!m.ok()) Fail(m.error());
      w.minutes = m.value();
    }
    if (count_opt->count() > 0 && la->count <= 0)
      Fail(
          Code::kInvalid,
          fmt::format("--count must be at least 1 (got {}); leave it out for one item", la->count));
    // Neither: one item of an item kind (the service checks the kind; CLI.md).
    service::LogRequest req{la->client, w, la->at, la->key, service::Names::kFlags};
    if (!app.server_url.empty()) {
      const HttpRequest http = ToHttp(req);
      const json j = ServerCall(app, "POST", http.path, http.body);
      if (app.json)
        app.PrintJson(j);
      else if (j.contains("line") && j["line"].is_string())
        app.Say(j["line"].get<std::string>());  // reports::LogAnswerText, as the server wrote it
      else
        app.Say(fmt::format("entry #{}: {} → {}{}", j.value("id", uint64_t(0)), la->client,
                            j.value("paid_by", std::string("?")),
                            j.value("replayed", false) ? " (already recorded: same key)" : ""));
      return;
    }
    auto answer = Must(service::LogWorkOp(app.session(), app.caller(), req));
    if (app.json)
      app.PrintJson(LogAnswerJson(answer.state, answer.write.result.first_seq,
                                  answer.write.replayed, app.now_us()));
    else
      app.Say(LogAnswerText(answer.state, answer.write.result.first_seq, answer.write.replayed));
  });
}

// accept
void RegisterAccept(CLI::App& cli, App& app) {
  struct AcceptArgs {
    std::string client, task, at;
    bool late = false;
  };
  auto aa = std::make_shared<AcceptArgs>();
  auto* accept = cli.add_subcommand(
      "accept",
      "The client accepted a task: its work counts now (plans billed on acceptance)\n"
      "  e.g. hourbank accept acme --task T-17 --at 2026-02-02");
  accept->add_option("CLIENT", aa->client)->required();
  accept->add_option("--task", aa->task, "task id")->required();
  accept->add_option("--at", aa->at, "when it was accepted (default: now)")
      ->check(TimeGiven("--at"));
  accept->add_flag("--late", aa->late,
                   "book an acceptance dated in a closed month into the first open month");
  accept->callback([&app, aa] {
    auto w = Run(app, {aa->client, aa->task, aa->at, aa->late, service::Names::kFlags},
                 &service::AcceptOp);
    app.json ? app.PrintJson(reports::SummaryJson(aa->client, w.summary)) : app.Say(w.summary);
  });
}

// void
void RegisterVoid(CLI::App& cli, App& app) {
  struct VoidArgs {
    std::string client, reason, key;
    uint64_t entry = 0;
  };
  auto va = std::make_shared<VoidArgs>();
  auto* vd = cli.add_subcommand("void",
                                "Cancel a work entry (a credit when its month is closed)\n"
                                "  e.g. hourbank void acme 42 --reason \"logged twice\"");
  vd->add_option("CLIENT", va->client)->required();
  vd->add_option("ENTRY", va->entry, "entry id (as printed by log and report)")->required();
  vd->add_option("--reason", va->reason, "why")
      ->required()
      ->check(NotBlank("--reason", "logged twice"));
  vd->add_option("--key", va->key, "idempotency key");
  vd->callback([&app, va] {
    auto w = Run(app, {va->client, va->entry, va->reason, va->key}, &service::VoidOp);
    app.json ? app.PrintJson(reports::SummaryJson(va->client, w.summary))
             : app.Say(w.summary.empty() ? "already voided (same key)" : w.summary);
  });
}

// buy
void RegisterBuy(CLI::App& cli, App& app) {
  struct BuyArgs {
    std::string client, hours, price, expires, addon, month, at, key;
  };
  auto ba = std::make_shared<BuyArgs>();
  auto* buy = cli.add_subcommand(
      "buy",
      "Sell a prepaid hour block or an add-on slot pack\n"
      "  e.g. hourbank buy acme --hours 50h --price 100000 --expires 2026-12-31\n"
      "       hourbank buy shop --addon altercpa-sites-40 --month 2026-03");
  buy->add_option("CLIENT", ba->client)->required();
  auto* hours = buy->add_option("--hours", ba->hours, "block size, e.g. 50h");
  buy->add_option("--price", ba->price,
                  "block price in the client's currency (default: the plan's offer for that size)");
  buy->add_option("--expires", ba->expires,
                  "last day the block can be used, YYYY-MM-DD (default: never)");
  auto* addon = buy->add_option("--addon", ba->addon, "add-on id from the client's plan");
  buy->add_option("--month", ba->month, "month the add-on is for, YYYY-MM");
  buy->add_option("--at", ba->at, "purchase time (default: now)")->check(TimeGiven("--at"));
  buy->add_option("--key", ba->key, "idempotency key");
  hours->excludes(addon);
  buy->callback([&app, ba] {
    service::BuyRequest req{ba->client, ba->hours, ba->price, ba->expires,           ba->addon,
                            ba->month,  ba->at,    ba->key,   service::Names::kFlags};
    auto w = Run(app, req, &service::BuyOp);
    app.json ? app.PrintJson(reports::SummaryJson(ba->client, w.summary))
             : app.Say(w.summary.empty() ? "already recorded (same key)" : w.summary);
  });
}

// pay
void RegisterPay(CLI::App& cli, App& app) {
  struct PayArgs {
    std::string client, amount, ref, at, key;
  };
  auto pa = std::make_shared<PayArgs>();
  auto* pay = cli.add_subcommand(
      "pay",
      "Record a payment received\n  e.g. hourbank pay acme 20000.00 --ref \"invoice 2026-01\"");
  pay->add_option("CLIENT", pa->client)->required();
  pay->add_option("AMOUNT", pa->amount, "in the client's currency, e.g. 2000 or 2000.50")
      ->required();
  pay->add_option("--ref", pa->ref, "reference");
  pay->add_option("--at", pa->at, "when it was received (default: now)")->check(TimeGiven("--at"));
  pay->add_option("--key", pa->key, "idempotency key");
  pay->callback([&app, pa] {
    service::PayRequest req{pa->client, pa->amount, pa->ref,
                            pa->at,     pa->key,    service::Names::kFlags};
    auto w = Run(app, req, &service::PayOp);
    app.json ? app.PrintJson(reports::SummaryJson(pa->client, w.summary))
             : app.Say(w.summary.empty() ? "already recorded (same key)" : w.summary);
  });
}

// adjust (penalties and credits)
void RegisterAdjust(CLI::App& cli, App& app) {
  struct AdjArgs {
    std::string client, penalty, credit, charge, reason, month, key;
  };
  auto ja = std::make_shared<AdjArgs>();
  auto* adj = cli.add_subcommand(
      "adjust",
      "Add a penalty, a credit or a one-off charge to an open month's invoice\n"
      "  e.g. hourbank adjust shop --penalty 500 --reason \"evasion: 10x the debt\"");
  adj->add_option("CLIENT", ja->client)->required();
  adj->add_option("--penalty", ja->penalty, "amount");
  adj->add_option("--credit", ja->credit, "amount");
  adj->add_option("--charge", ja->charge, "amount");
  adj->add_option("--reason", ja->reason, "why")
      ->required()
      ->check(NotBlank("--reason", "SLA breach in March"));
  adj->add_option("--month", ja->month, "month (default: the first open month)");
  adj->add_option("--key", ja->key, "idempotency key");
  adj->callback([&app, ja] {
    service::AdjustRequest req{ja->client, ja->penalty, ja->credit, ja->charge,
                               ja->reason, ja->month,   ja->key,    service::Names::kFlags};
    auto w = Run(app, req, &service::AdjustOp);
    app.json ? app.PrintJson(reports::SummaryJson(ja->client, w.summary))
             : app.Say(w.summary.empty() ? "already recorded (same key)" : w.summary);
  });
}

// close
void RegisterClose(CLI::App& cli, App& app) {
  struct CloseArgs {
    std::string client, month, through;
    bool all = false, carry_pending = false;
  };
  auto ca = std::make_shared<CloseArgs>();
  auto* close = cli.add_subcommand(
      "close",
      "Close months: carry-over, expiry, the invoice frozen\n"
      "  e.g. hourbank close acme 2026-01\n       hourbank close --all --through 2026-03");
  close->add_option("CLIENT", ca->client);
  close->add_option("MONTH", ca->month, "YYYY-MM");
  close->add_flag("--all", ca->all, "every client");
  close->add_option("--through", ca->through, "with --all: close every open month up to this one");
  close->add_flag("--carry-pending", ca->carry_pending,
                  "move work pending review to the next month and close without it");
  close->callback([&app, ca] {
    if (!ca->all) {
      if (ca->client.empty() || ca->month.empty())
        Fail(Code::kInvalid, "give CLIENT MONTH (e.g. acme 2026-01), or --all --through YYYY-MM");
      auto w = Run(app, {ca->client, ca->month, service::Names::kFlags, ca->carry_pending},
                   &service::CloseOp);
      if (app.json)
        app.PrintJson({{"client", ca->client},
                       {"month", MonthText(ParseMonthFlag(ca->month, "MONTH"))},
                       {"summary", w.summary}});
      else
        app.Say(w.summary);
      return;
    }
    if (!ca->client.empty() && ca->month.empty() && ca->through.empty())
      ca->through = ca->client, ca->client.clear();
    if (!ca->client.empty())
      Fail(Code::kInvalid, "give either CLIENT MONTH or --all --through YYYY-MM");
    if (ca->through.empty()) Fail(Code::kInvalid, "--all needs --through YYYY-MM");
    if (!app.server_url.empty()) {
      const HttpRequest http =
          ToHttp(service::CloseAllRequest{ca->through, service::Names::kFlags});
      const json closed = ServerCall(app, "POST", http.path, http.body);
      if (app.json)
        app.PrintJson(closed);
      else if (!closed.is_array() || closed.empty())
        app.Say("nothing to close");
      else
        for (const json& c : closed) app.Say(c.value("summary", std::string()));
      return;
    }
    std::unique_ptr<Progress> progress;
    std::string last_client;
    auto on_start = [&](size_t clients) {
      progress = std::make_unique<Progress>("closing", clients, app.json);
    };
    auto on_closed = [&](const service::Closed& c) {
      if (!last_client.empty() && c.client != last_client) progress->Step();
      last_client = c.client;
      if (!app.json) progress->Note(c.summary);
    };
    auto closed = Must(service::CloseAllOp(
        app.session(), app.caller(), {ca->through, service::Names::kFlags}, on_closed, on_start));
    if (progress) progress->Done();
    json results = json::array();
    for (const service::Closed& c : closed)
      results.push_back(reports::ClosedJson(c.client, c.month, c.summary));
    if (app.json)
      app.PrintJson(results);
    else if (closed.empty())
      app.Say("nothing to close");
  });
}

// incident
void RegisterIncident(CLI::App& cli, App& app) {
  auto* inc = cli.add_subcommand(
      "incident", "SLA incidents: open, respond, resolve, reprioritize, reopen, wait, resume");
  inc->require_subcommand(1);
  struct IncArgs {
    std::string client, id, at, title, reason;
    int priority = 0;
  };
  for (const auto& [name, action, help] :
       std::vector<std::tuple<std::string, IncidentAction, std::string>>{
           {"open", IncidentAction::kOpen,
            "Open an incident\n  e.g. hourbank incident open acme INC-1 --priority 1 --at "
            "2026-03-06T17:50"},
           {"respond", IncidentAction::kRespond,
            "First response to an incident\n  e.g. hourbank incident respond acme INC-1"},
           {"resolve", IncidentAction::kResolve,
            "Resolve an incident\n  e.g. hourbank incident resolve acme INC-1"},
           {"reprioritize", IncidentAction::kReprioritize,
            "Change an incident's priority\n  e.g. hourbank incident reprioritize acme INC-1 "
            "--priority 2"},
           {"reopen", IncidentAction::kReopen,
            "Reopen a resolved incident\n  e.g. hourbank incident reopen acme INC-1"},
           {"wait", IncidentAction::kWait,
            "Stop the resolution clock while waiting on the customer\n  e.g. hourbank incident "
            "wait acme INC-1 --reason \"logs requested\""},
           {"resume", IncidentAction::kResume,
            "Restart the resolution clock after a wait\n  e.g. hourbank incident resume acme "
            "INC-1"}}) {
    auto ia = std::make_shared<IncArgs>();
    auto* sub = inc->add_subcommand(name, help);
    sub->add_option("CLIENT", ia->client)->required();
    sub->add_option("ID", ia->id, "incident id")->required();
    if (action == IncidentAction::kWait) {
      sub->add_option("--reason", ia->reason, "why the incident waits on the customer");
    } else if (action != IncidentAction::kResume) {
      sub->add_option("--priority", ia->priority, "1 (highest) to 4");
      sub->add_option("--title", ia->title, "short description");
    }
    sub->add_option("--at", ia->at, "when (default: now)")->check(TimeGiven("--at"));
    const IncidentAction act = action;
    sub->callback([&app, ia, act] {
      service::IncidentRequest req{
          ia->client, act, ia->id, ia->title, ia->at, ia->priority, service::Names::kFlags,
          ia->reason};
      auto w = Run(app, req, &service::IncidentOp);
      app.json ? app.PrintJson(reports::SummaryJson(ia->client, w.summary)) : app.Say(w.summary);
    });
  }
}

}  // namespace

void RegisterWorkCommands(CLI::App& cli, App& app) {
  RegisterLog(cli, app);
  RegisterAccept(cli, app);
  RegisterVoid(cli, app);
  RegisterBuy(cli, app);
  RegisterPay(cli, app);
  RegisterAdjust(cli, app);
  RegisterClose(cli, app);
  RegisterIncident(cli, app);
}

}  // namespace hourbank::cli
