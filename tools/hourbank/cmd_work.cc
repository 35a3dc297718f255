// log, accept, void, buy, pay, adjust, close, incident.
#include <unistd.h>

#include <fmt/format.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/flag_checks.h"
#include "tools/hourbank/progress.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

std::string g_request_text;

void RegisterWorkCommands(CLI::App& cli, App& app) {
  // ---- log
  struct LogArgs {
    std::string client, duration, kind, task, staff, at, note, key;
    int64_t count = 0;
    bool urgent = false, off_hours = false, in_hours = false, late = false, emergency = false;
  };
  auto la = std::make_shared<LogArgs>();
  auto* log = cli.add_subcommand("log", "Log work: hours (DURATION) or items (--count)\n"
                                        "  e.g. hourbank log acme 1h30m --kind support --task T-17 --staff anna --urgent\n"
                                        "       hourbank log shop --kind site_link --count 3 --task S-4");
  log->add_option("CLIENT", la->client)->required();
  log->add_option("DURATION", la->duration, "hour work: 90m, 1h30m, 1.5h");
  log->add_option("--kind", la->kind, "work kind from the client's plan")->required();
  auto* count_opt = log->add_option("--count", la->count, "item work: how many items (default 1)");
  log->add_option("--task", la->task, "task id");
  log->add_option("--staff", la->staff, "who did the work (default: $USER)");
  log->add_option("--at", la->at, "when the work was done, ISO 8601 (default: now; client's zone without an offset)")->check(TimeGiven("--at"));
  log->add_flag("--urgent", la->urgent, "urgent surcharge");
  auto* oh = log->add_flag("--off-hours", la->off_hours, "outside working hours (default: the plan's calendar decides)");
  auto* ih = log->add_flag("--in-hours", la->in_hours, "within working hours");
  oh->excludes(ih);
  log->add_option("--note", la->note, "free text");
  log->add_option("--key", la->key, "idempotency key: a retry with the same key writes nothing");
  log->add_flag("--late", la->late, "book work dated in a closed month into the first open month");
  log->add_flag("--emergency", la->emergency, "accept work while the client is blocked for debt");
  log->callback([&app, la, count_opt] {
    LogWork w;
    w.kind = la->kind;
    w.task = la->task;
    w.note = la->note;
    w.staff = la->staff;
    if (w.staff.empty()) {
      const char* user = std::getenv("USER");
      w.staff = user ? user : app.actor;
    }
    w.count = la->count;
    w.urgent = la->urgent;
    if (la->off_hours) w.off_hours = true;
    if (la->in_hours) w.off_hours = false;
    w.late = la->late;
    w.emergency = la->emergency;
    if (!la->duration.empty()) {
      if (la->count != 0) Fail(Code::kInvalid, "give either a DURATION (hour work) or --count (item work), not both");
      auto m = ParseDurationMinutes(la->duration);
      if (!m.ok()) Fail(m.error());
      w.minutes = m.value();
    }
    std::string summary;
    auto out = app.DecideAndAppend(la->client, [&](const ClientState& s) -> Result<Decision> {
      LogWork cmd = w;
      cmd.at_us = la->at.empty() ? app.now_us() : ParseTimeFlag(la->at, s.zone(), "--at");
      if (cmd.minutes == 0 && count_opt->count() == 0) {
        // Item work without --count is one item (CLI.md); hour work needs its DURATION.
        const ContractTerms* t = s.TermsFor(s.zone().MonthOf(cmd.at_us));
        const Kind* kind = t ? t->plan->FindKind(cmd.kind) : nullptr;
        if (kind && kind->unit == Unit::kItem) cmd.count = 1;
        else if (kind) return Error::Invalid("give a DURATION for hour work (e.g. 1h30m) or --count N for item work");
      }
      return DecideLog(s, cmd, app.now_us());
    }, la->key, g_request_text, &summary);
    ClientState s = app.LoadClient(la->client);
    if (app.json) app.PrintJson(LogAnswerJson(s, out.result.first_seq, out.replayed, app.now_us()));
    else app.Say(LogAnswerText(s, out.result.first_seq, out.replayed));
  });

  // ---- accept
  struct AcceptArgs { std::string client, task, at; bool late = false; };
  auto aa = std::make_shared<AcceptArgs>();
  auto* accept = cli.add_subcommand("accept", "The client accepted a task: its work counts now (plans billed on acceptance)\n"
                                              "  e.g. hourbank accept acme --task T-17 --at 2026-02-02");
  accept->add_option("CLIENT", aa->client)->required();
  accept->add_option("--task", aa->task, "task id")->required();
  accept->add_option("--at", aa->at, "when it was accepted (default: now)")->check(TimeGiven("--at"));
  accept->add_flag("--late", aa->late, "book an acceptance dated in a closed month into the first open month");
  accept->callback([&app, aa] {
    std::string summary;
    app.DecideAndAppend(aa->client, [&](const ClientState& s) {
      const int64_t at = aa->at.empty() ? app.now_us() : ParseTimeFlag(aa->at, s.zone(), "--at");
      return DecideAccept(s, aa->task, at, aa->late, app.now_us());
    }, {}, {}, &summary);
    app.json ? app.PrintJson({{"client", aa->client}, {"summary", summary}}) : app.Say(summary);
  });

  // ---- void
  struct VoidArgs { std::string client, reason, key; uint64_t entry = 0; };
  auto va = std::make_shared<VoidArgs>();
  auto* vd = cli.add_subcommand("void", "Cancel a work entry (a credit when its month is closed)\n"
                                        "  e.g. hourbank void acme 42 --reason \"logged twice\"");
  vd->add_option("CLIENT", va->client)->required();
  vd->add_option("ENTRY", va->entry, "entry id (as printed by log and report)")->required();
  vd->add_option("--reason", va->reason, "why")->required()->check(NotBlank("--reason", "logged twice"));
  vd->add_option("--key", va->key, "idempotency key");
  vd->callback([&app, va] {
    std::string summary;
    app.DecideAndAppend(va->client, [&](const ClientState& s) { return DecideVoid(s, va->entry, va->reason, app.now_us()); },
                        va->key, g_request_text, &summary);
    app.json ? app.PrintJson({{"client", va->client}, {"summary", summary}}) : app.Say(summary.empty() ? "already voided (same key)" : summary);
  });

  // ---- buy
  struct BuyArgs { std::string client, hours, price, expires, addon, month, at, key; };
  auto ba = std::make_shared<BuyArgs>();
  auto* buy = cli.add_subcommand("buy", "Sell a prepaid hour block or an add-on slot pack\n"
                                        "  e.g. hourbank buy acme --hours 50h --price 100000 --expires 2026-12-31\n"
                                        "       hourbank buy shop --addon altercpa-sites-40 --month 2026-03");
  buy->add_option("CLIENT", ba->client)->required();
  auto* hours = buy->add_option("--hours", ba->hours, "block size, e.g. 50h");
  buy->add_option("--price", ba->price, "block price in the client's currency (default: the plan's offer for that size)");
  buy->add_option("--expires", ba->expires, "last day the block can be used, YYYY-MM-DD (default: never)");
  auto* addon = buy->add_option("--addon", ba->addon, "add-on id from the client's plan");
  buy->add_option("--month", ba->month, "month the add-on is for, YYYY-MM");
  buy->add_option("--at", ba->at, "purchase time (default: now)")->check(TimeGiven("--at"));
  buy->add_option("--key", ba->key, "idempotency key");
  hours->excludes(addon);
  buy->callback([&app, ba] {
    if (ba->hours.empty() == ba->addon.empty()) Fail(Code::kInvalid, "give --hours DURATION (an hour block) or --addon ID --month YYYY-MM");
    std::string summary;
    app.DecideAndAppend(ba->client, [&](const ClientState& s) -> Result<Decision> {
      const int64_t at = ba->at.empty() ? app.now_us() : ParseTimeFlag(ba->at, s.zone(), "--at");
      if (!ba->hours.empty()) {
        BuyHours b;
        auto m = ParseDurationMinutes(ba->hours);
        if (!m.ok()) return m.error();
        b.minutes = m.value();
        if (!ba->price.empty()) b.price_minor = ParseMoneyFor(s, ba->price, "--price");
        if (!ba->expires.empty()) {
          // The block can be used through the whole of its last day.
          const int64_t day = ParseTimeFlag(ba->expires, s.zone(), "--expires");
          b.expires_day = s.zone().Local(day).yyyymmdd;
        }
        b.at_us = at;
        return DecideBuyHours(s, b, app.now_us());
      }
      if (ba->month.empty()) return Error::Invalid("--addon needs --month YYYY-MM: the month the slots are for");
      return DecideBuyAddon(s, ba->addon, ParseMonthFlag(ba->month, "--month"), at, app.now_us());
    }, ba->key, g_request_text, &summary);
    app.json ? app.PrintJson({{"client", ba->client}, {"summary", summary}}) : app.Say(summary.empty() ? "already recorded (same key)" : summary);
  });

  // ---- pay
  struct PayArgs { std::string client, amount, ref, at, key; };
  auto pa = std::make_shared<PayArgs>();
  auto* pay = cli.add_subcommand("pay", "Record a payment received\n  e.g. hourbank pay acme 20000.00 --ref \"invoice 2026-01\"");
  pay->add_option("CLIENT", pa->client)->required();
  pay->add_option("AMOUNT", pa->amount, "in the client's currency, e.g. 2000 or 2000.50")->required();
  pay->add_option("--ref", pa->ref, "reference");
  pay->add_option("--at", pa->at, "when it was received (default: now)")->check(TimeGiven("--at"));
  pay->add_option("--key", pa->key, "idempotency key");
  pay->callback([&app, pa] {
    std::string summary;
    app.DecideAndAppend(pa->client, [&](const ClientState& s) {
      const int64_t at = pa->at.empty() ? app.now_us() : ParseTimeFlag(pa->at, s.zone(), "--at");
      return DecidePay(s, ParseMoneyFor(s, pa->amount, "AMOUNT"), pa->ref, at, app.now_us());
    }, pa->key, g_request_text, &summary);
    app.json ? app.PrintJson({{"client", pa->client}, {"summary", summary}}) : app.Say(summary.empty() ? "already recorded (same key)" : summary);
  });

  // ---- adjust (penalties and credits)
  struct AdjArgs { std::string client, penalty, credit, charge, reason, month, key; };
  auto ja = std::make_shared<AdjArgs>();
  auto* adj = cli.add_subcommand("adjust", "Add a penalty, a credit or a one-off charge to an open month's invoice\n"
                                           "  e.g. hourbank adjust shop --penalty 500 --reason \"evasion: 10x the debt\"");
  adj->add_option("CLIENT", ja->client)->required();
  adj->add_option("--penalty", ja->penalty, "amount");
  adj->add_option("--credit", ja->credit, "amount");
  adj->add_option("--charge", ja->charge, "amount");
  adj->add_option("--reason", ja->reason, "why")->required()->check(NotBlank("--reason", "SLA breach in March"));
  adj->add_option("--month", ja->month, "month (default: the first open month)");
  adj->add_option("--key", ja->key, "idempotency key");
  adj->callback([&app, ja] {
    const int given = !ja->penalty.empty() + !ja->credit.empty() + !ja->charge.empty();
    if (given != 1) Fail(Code::kInvalid, "give exactly one of --penalty, --credit, --charge with an amount");
    std::string summary;
    app.DecideAndAppend(ja->client, [&](const ClientState& s) {
      AdjustCmd c;
      c.reason = ja->reason;
      if (!ja->month.empty()) c.month = ParseMonthFlag(ja->month, "--month");
      if (!ja->penalty.empty()) { c.kind = schemas::AdjustmentKind::PENALTY; c.amount_minor = ParseMoneyFor(s, ja->penalty, "--penalty"); }
      if (!ja->credit.empty()) { c.kind = schemas::AdjustmentKind::CREDIT; c.amount_minor = ParseMoneyFor(s, ja->credit, "--credit"); }
      if (!ja->charge.empty()) { c.kind = schemas::AdjustmentKind::CHARGE; c.amount_minor = ParseMoneyFor(s, ja->charge, "--charge"); }
      return DecideAdjust(s, c, app.now_us());
    }, ja->key, g_request_text, &summary);
    app.json ? app.PrintJson({{"client", ja->client}, {"summary", summary}}) : app.Say(summary.empty() ? "already recorded (same key)" : summary);
  });

  // ---- close
  struct CloseArgs { std::string client, month, through; bool all = false; };
  auto ca = std::make_shared<CloseArgs>();
  auto* close = cli.add_subcommand("close", "Close months: carry-over, expiry, the invoice frozen\n"
                                            "  e.g. hourbank close acme 2026-01\n       hourbank close --all --through 2026-03");
  close->add_option("CLIENT", ca->client);
  close->add_option("MONTH", ca->month, "YYYY-MM");
  close->add_flag("--all", ca->all, "every client");
  close->add_option("--through", ca->through, "with --all: close every open month up to this one");
  close->callback([&app, ca] {
    std::vector<std::pair<std::string, uint32_t>> todo;  // client, through month
    if (ca->all) {
      if (!ca->client.empty() && ca->month.empty() && ca->through.empty()) ca->through = ca->client, ca->client.clear();
      if (!ca->client.empty()) Fail(Code::kInvalid, "give either CLIENT MONTH or --all --through YYYY-MM");
      if (ca->through.empty()) Fail(Code::kInvalid, "--all needs --through YYYY-MM");
      const uint32_t through = ParseMonthFlag(ca->through, "--through");
      for (const std::string& id : app.ClientIds()) todo.emplace_back(id, through);
    } else {
      if (ca->client.empty() || ca->month.empty()) Fail(Code::kInvalid, "give CLIENT MONTH (e.g. acme 2026-01), or --all --through YYYY-MM");
      todo.emplace_back(ca->client, ParseMonthFlag(ca->month, "MONTH"));
    }
    Progress progress("closing", todo.size(), app.json);
    json results = json::array();
    for (const auto& [id, through] : todo) {
      if (ca->all) {
        // Close each open month in order up to `through`, skipping clients with nothing to close.
        for (int guard = 0; guard < 1200; ++guard) {
          ClientState s = app.LoadClient(id, {.retain_entries = false});
          if (!s.has_contract()) break;
          const uint32_t m = s.FirstOpenMonth();
          if (m > through || (s.last_month() && m > s.last_month())) break;
          std::string summary;
          app.DecideAndAppend(id, [&](const ClientState& st) { return DecideClose(st, m, app.now_us()); }, {}, {}, &summary);
          results.push_back({{"client", id}, {"month", MonthText(m)}, {"summary", summary}});
          if (!app.json) progress.Note(summary);
        }
      } else {
        std::string summary;
        app.DecideAndAppend(id, [&](const ClientState& st) { return DecideClose(st, through, app.now_us()); }, {}, {}, &summary);
        results.push_back({{"client", id}, {"month", MonthText(through)}, {"summary", summary}});
        if (!app.json) app.Say(summary);
      }
      progress.Step();
    }
    progress.Done();
    if (app.json) app.PrintJson(ca->all ? json(results) : results[0]);
    else if (ca->all && results.empty()) app.Say("nothing to close");
  });

  // ---- incident
  auto* inc = cli.add_subcommand("incident", "SLA incidents: open, respond, resolve, reprioritize, reopen");
  inc->require_subcommand(1);
  struct IncArgs { std::string client, id, at, title; int priority = 0; };
  for (const auto& [name, action, help] : std::vector<std::tuple<std::string, IncidentAction, std::string>>{
           {"open", IncidentAction::kOpen, "Open an incident\n  e.g. hourbank incident open acme INC-1 --priority 1 --at 2026-03-06T17:50"},
           {"respond", IncidentAction::kRespond, "First response to an incident\n  e.g. hourbank incident respond acme INC-1"},
           {"resolve", IncidentAction::kResolve, "Resolve an incident\n  e.g. hourbank incident resolve acme INC-1"},
           {"reprioritize", IncidentAction::kReprioritize, "Change an incident's priority\n  e.g. hourbank incident reprioritize acme INC-1 --priority 2"},
           {"reopen", IncidentAction::kReopen, "Reopen a resolved incident\n  e.g. hourbank incident reopen acme INC-1"}}) {
    auto ia = std::make_shared<IncArgs>();
    auto* sub = inc->add_subcommand(name, help);
    sub->add_option("CLIENT", ia->client)->required();
    sub->add_option("ID", ia->id, "incident id")->required();
    sub->add_option("--priority", ia->priority, "1 (highest) to 4");
    sub->add_option("--title", ia->title, "short description");
    sub->add_option("--at", ia->at, "when (default: now)")->check(TimeGiven("--at"));
    const IncidentAction act = action;
    sub->callback([&app, ia, act] {
      if ((act == IncidentAction::kOpen || act == IncidentAction::kReprioritize) && ia->priority == 0)
        Fail(Code::kInvalid, "--priority is required: 1 (highest) to 4");
      std::string summary;
      app.DecideAndAppend(ia->client, [&](const ClientState& s) {
        const int64_t at = ia->at.empty() ? app.now_us() : ParseTimeFlag(ia->at, s.zone(), "--at");
        return DecideIncident(s, act, ia->id, uint8_t(std::clamp(ia->priority, 0, 255)), ia->title, at, app.now_us());
      }, {}, {}, &summary);
      app.json ? app.PrintJson({{"client", ia->client}, {"summary", summary}}) : app.Say(summary);
    });
  }
}

}  // namespace hourbank::cli
