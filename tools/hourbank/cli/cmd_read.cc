// balance, invoice, burned, report, history, rebuild.
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "projections/client_fold.h"
#include "projections/limits.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/progress.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

namespace {

struct TimeArgs {
  std::string as_of, known_at;
};

void AddTimeOptions(CLI::App* cmd, TimeArgs& t) {
  cmd->add_option("--as-of", t.as_of,
                  "business time: the state at that moment, from everything known now")
      ->check(TimeGiven("--as-of"));
  cmd->add_option("--known-at", t.known_at, "recorded time: only what had been recorded by then")
      ->check(TimeGiven("--known-at"));
}

ClientState LoadWithTime(App& app, const std::string& client, const TimeArgs& t, int64_t* as_of_out,
                         bool retain_entries = false) {
  return LoadClientAt(app, client, t.as_of, t.known_at, as_of_out, retain_entries);
}

// balance
void RegisterBalance(CLI::App& cli, App& app) {
  struct BalArgs {
    std::string client;
    TimeArgs t;
    bool wide = false;
  };
  auto ba = std::make_shared<BalArgs>();
  auto* bal = cli.add_subcommand("balance",
                                 "What is left: allowance, reserve, blocks, overage, slots, debt\n"
                                 "  e.g. hourbank balance acme --as-of 2026-03-31T23:00 --json");
  bal->add_option("CLIENT", ba->client)->required();
  AddTimeOptions(bal, ba->t);
  bal->add_flag("--wide", ba->wide, "show long pool names whole (the table cuts them with …)");
  bal->callback([&app, ba] {
    int64_t at = 0;
    ClientState s = LoadWithTime(app, ba->client, ba->t, &at);
    json j = BalanceJson(s, at);
    app.json ? app.PrintJson(j)
             : (void)std::fputs(BalanceText(j, {.wide = ba->wide}).c_str(), stdout);
  });
}

// invoice
void RegisterInvoice(CLI::App& cli, App& app) {
  struct InvArgs {
    std::string client, month;
    TimeArgs t;
    bool wide = false;
  };
  auto ia = std::make_shared<InvArgs>();
  auto* inv = cli.add_subcommand(
      "invoice", "A month's invoice lines and total\n  e.g. hourbank invoice acme 2026-03 --json");
  inv->add_option("CLIENT", ia->client)->required();
  inv->add_option("MONTH", ia->month, "YYYY-MM")->required();
  AddTimeOptions(inv, ia->t);
  inv->add_flag("--wide", ia->wide, "show long descriptions whole (the table cuts them with …)");
  inv->callback([&app, ia] {
    const uint32_t month = ParseMonthFlag(ia->month, "MONTH");
    ClientState s = LoadWithTime(app, ia->client, ia->t, nullptr);
    json j = InvoiceJson(s, month);
    app.json ? app.PrintJson(j)
             : (void)std::fputs(InvoiceText(j, {.wide = ia->wide}).c_str(), stdout);
  });
}

// burned
void RegisterBurned(CLI::App& cli, App& app) {
  struct BurnArgs {
    std::string client, from, to;
    TimeArgs t;
  };
  auto bu = std::make_shared<BurnArgs>();
  auto* burned = cli.add_subcommand("burned",
                                    "Hours per month: included, used, carried over, expired\n"
                                    "  e.g. hourbank burned acme --from 2026-01 --to 2026-06");
  burned->add_option("CLIENT", bu->client)->required();
  burned->add_option("--from", bu->from, "first month (default: the contract's first)");
  burned->add_option("--to", bu->to, "last month (default: the current open month)");
  AddTimeOptions(burned, bu->t);
  burned->callback([&app, bu] {
    ClientState s = LoadWithTime(app, bu->client, bu->t, nullptr);
    const uint32_t from = bu->from.empty() ? 0 : ParseMonthFlag(bu->from, "--from");
    const uint32_t to = bu->to.empty() ? 0 : ParseMonthFlag(bu->to, "--to");
    if (from && to && to < from) Fail(Code::kInvalid, "--to is before --from");
    if (from && to && MonthsBetween(from, to) > int32_t(projections::kMonthsMax))
      Fail(Code::kLimit, "at most 100 years at once");
    json j = BurnedJson(s, from, to);
    app.json ? app.PrintJson(j) : (void)std::fputs(BurnedText(j).c_str(), stdout);
  });
}

// report
void RegisterReport(CLI::App& cli, App& app) {
  struct RepArgs {
    std::string client, month;
    TimeArgs t;
    bool wide = false;
  };
  auto ra = std::make_shared<RepArgs>();
  auto* rep = cli.add_subcommand("report",
                                 "The month's work: who, when, task, time, what paid for it\n"
                                 "  e.g. hourbank report acme 2026-03");
  rep->add_option("CLIENT", ra->client)->required();
  rep->add_option("MONTH", ra->month, "YYYY-MM")->required();
  AddTimeOptions(rep, ra->t);
  rep->add_flag("--wide", ra->wide, "show long cells whole (the table cuts them with …)");
  rep->callback([&app, ra] {
    const uint32_t month = ParseMonthFlag(ra->month, "MONTH");
    ClientState s = LoadWithTime(app, ra->client, ra->t, nullptr, /*retain_entries=*/true);
    json j = ReportJson(s, month);
    app.json ? app.PrintJson(j)
             : (void)std::fputs(ReportText(j, {.wide = ra->wide}).c_str(), stdout);
  });
}

// history
void RegisterHistory(CLI::App& cli, App& app) {
  struct HistArgs {
    std::string client, known_at;
    uint64_t from_seq = 0;
  };
  auto ha = std::make_shared<HistArgs>();
  auto* hist =
      cli.add_subcommand("history",
                         "Every event of a client, oldest first (--json: one object per line)\n"
                         "  e.g. hourbank history acme --json --from-seq 100");
  hist->add_option("CLIENT", ha->client)->required();
  hist->add_option("--from-seq", ha->from_seq, "start at this seq");
  hist->add_option("--known-at", ha->known_at, "only events recorded by then")
      ->check(TimeGiven("--known-at"));
  hist->callback([&app, ha] {
    ClientState probe = app.LoadClient(ha->client, {.retain_entries = false});
    if (!probe.registered())
      Fail(Code::kNotFound,
           fmt::format("unknown client '{}'; see `hourbank client list`", ha->client));
    ledger::ReadOptions read;
    if (!ha->known_at.empty())
      read.known_at_us = ParseTimeFlag(ha->known_at, probe.zone(), "--known-at");
    std::vector<std::vector<std::string>> rows = {
        {"seq", "type", "effective", "recorded", "actor"}};
    Must(app.log().ReadStream(
        ha->client, 1, 0,
        [&](const ledger::EventView& v) {
          if (v.seq < ha->from_seq) return true;
          json j = EventJson(v.seq, v.event, probe.zone());
          if (app.json)
            std::printf("%s\n", j.dump().c_str());
          else
            rows.push_back({std::to_string(v.seq), j["type"],
                            j["effective_at"].get<std::string>().substr(0, 16),
                            j["recorded_at"].get<std::string>().substr(0, 16), j["actor"]});
          return true;
        },
        read));
    if (!app.json) std::fputs(Table(rows).c_str(), stdout);
  });
}

// rebuild
void RegisterRebuild(CLI::App& cli, App& app) {
  auto* rebuild = cli.add_subcommand(
      "rebuild",
      "Drop the projection checkpoints and replay the whole log\n  e.g. hourbank rebuild");
  rebuild->callback([&app] {
    ledger::Log& log = app.log();
    Must(log.DropCheckpoints());
    const auto t0 = std::chrono::steady_clock::now();
    ClientFold fold({.retain_entries = false});
    uint64_t events = 0;
    Progress progress("rebuild", log.head_seq(), app.json);
    Must(log.Scan(1, 0, [&](const ledger::EventView& v) {
      ++events;
      if ((events & 0xFFF) == 0) progress.Set(v.seq);
      fold.Apply(v.seq, v.event);
      return true;
    }));
    progress.Done();
    ClientFold::States states = fold.Take();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t problems = 0;
    for (auto& [id, s] : states) {
      app.SaveClientCheckpoint(s);
      problems += s.problems().size();
    }
    json j = {{"events", events},
              {"clients", states.size()},
              {"seconds", seconds},
              {"problems", problems},
              {"events_per_second", seconds > 0 ? uint64_t(double(events) / seconds) : 0}};
    if (app.json)
      app.PrintJson(j);
    else
      app.Say(fmt::format(
          "replayed {} events for {} clients in {:.3f} s ({} events/s); {} problem(s){}", events,
          states.size(), seconds, j["events_per_second"].get<uint64_t>(), problems,
          problems ? " — run `hourbank audit`" : ""));
  });
}

}  // namespace

void RegisterReadCommands(CLI::App& cli, App& app) {
  RegisterBalance(cli, app);
  RegisterInvoice(cli, app);
  RegisterBurned(cli, app);
  RegisterReport(cli, app);
  RegisterHistory(cli, app);
  RegisterRebuild(cli, app);
}

}  // namespace hourbank::cli
