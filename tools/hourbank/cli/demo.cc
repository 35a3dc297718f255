// hourbank demo: a realistic ledger from all five price lists — clients on every tariff,
// four months of work by four staff members, hour blocks and add-ons sold, payments, month
// closes — then the balances, burned hours and latest invoices.
//
// Deterministic: the clock is driven by the script (January–April 2026, printed as of
// 2026-05-02) and the work comes from a fixed-seed generator, so two runs print the same
// figures (only recorded_at, the real clock, differs).
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "projections/alerts.h"
#include "reports/forecast.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

namespace {

// The example plan files, embedded at build time (tools/CMakeLists.txt).
struct EmbeddedPlan {
  const char* name;
  const char* toml;
};
const EmbeddedPlan kPlans[] = {
#include "demo_plans.inc"
};

// A small fixed-seed generator (xorshift): the demo must print the same figures every run.
struct Rng {
  uint64_t x = 0x9E3779B97F4A7C15ull;
  uint64_t Next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
  int64_t Between(int64_t lo, int64_t hi) { return lo + int64_t(Next() % uint64_t(hi - lo + 1)); }
};

class Demo {
 public:
  explicit Demo(App& app) : app_(app) {}

  void Run() {
    Setup();
    Work();
    Report();
  }

 private:
  // Sets the clock (UTC) for the next decisions.
  void At(const std::string& iso) { app_.now_override_us = Must(ParseTime(iso, Zone::Utc())); }

  void Do(const std::string& client,
          const std::function<Result<Decision>(const ClientState&)>& decide) {
    app_.DecideAndAppend(client, decide);
  }

  void Setup() {
    At("2025-12-20T09:00:00Z");
    std::vector<PlanSpec> plans;
    for (const EmbeddedPlan& p : kPlans) {
      auto parsed = Must(ParsePlans(p.toml, p.name));
      for (auto& x : parsed) plans.push_back(std::move(x));
    }
    Catalog catalog = app_.LoadCatalog();
    Decision d = Must(DecidePlanDefine(catalog, plans, app_.now_us()));
    app_.Append(kCatalogStream, d, catalog.version());
    catalog = app_.LoadCatalog();

    struct C {
      const char* id;
      const char* name;
      const char* cur;
      StartContract contract;
    };
    const std::vector<C> clients = {
        {"stroymarket",
         "СтройМаркет",
         "RUB",
         {.plan_id = "1c-start", .from_month = 202601, .term_months = 12}},
        {"leadgen", "LeadGen Pro", "USD", {.plan_id = "altercpa-basic", .from_month = 202601}},
        {"cpa-hub", "CPA Hub", "USD", {.plan_id = "altercpa-constructor", .from_month = 202601}},
        {"dental-plus",
         "Дентал Плюс",
         "RUB",
         {.plan_id = "agbis",
          .from_month = 202601,
          .term_months = 6,
          .prepaid_months = 6,
          .timely = true,
          .units = 10,
          .extras = {{"extra_contact", 2}}}},
        {"autoservice",
         "Автосервис 24",
         "RUB",
         {.plan_id = "agbis", .from_month = 202601, .term_months = 6, .units = 151}},
        {"logistic",
         "Логистик",
         "RUB",
         {.plan_id = "kit-hours-15", .from_month = 202601, .term_months = 6}},
        {"retail-one", "Ритейл Один", "RUB", {.plan_id = "kit-prepaid", .from_month = 202601}},
        {"bank-crm",
         "Банк CRM",
         "RUB",
         {.plan_id = "bpm-business", .from_month = 202601, .term_months = 12}},
        {"helpdesk",
         "Helpdesk Pro",
         "RUB",
         {.plan_id = "kit-hours-10-reviewed", .from_month = 202601, .term_months = 12}},
        {"bank-sla",
         "Банк SLA",
         "RUB",
         {.plan_id = "bpm-business-credits", .from_month = 202601, .term_months = 12}},
    };
    for (const C& c : clients) {
      RegisterClient r{c.id, c.name, c.cur, "Europe/Moscow"};
      Do(c.id, [&](const ClientState& s) { return DecideRegister(s, r, app_.now_us()); });
      Do(c.id, [&](const ClientState& s) {
        return DecideContractStart(s, catalog, c.contract, app_.now_us());
      });
      ids_.push_back(c.id);
    }
  }

  void LogHours(const std::string& client, const std::string& kind, int64_t minutes,
                const std::string& local, const std::string& task, const std::string& staff,
                bool accept = false) {
    ClientState probe = app_.LoadClient(client, {.retain_entries = false});
    const int64_t at = Must(ParseTime(local, probe.zone()));
    app_.now_override_us = at + 3600LL * 1000000;
    LogWork w{.kind = kind, .task = task, .staff = staff, .minutes = minutes, .at_us = at};
    Do(client, [&](const ClientState& s) { return DecideLog(s, w, app_.now_us()); });
    if (accept)
      Do(client, [&](const ClientState& s) {
        return DecideAccept(s, task, s.zone().AddLocalDays(at, 1), false,
                            s.zone().AddLocalDays(app_.now_us(), 1));
      });
  }

  void LogItems(const std::string& client, const std::string& kind, int64_t count,
                const std::string& local, const std::string& staff, bool urgent = false) {
    ClientState probe = app_.LoadClient(client, {.retain_entries = false});
    const int64_t at = Must(ParseTime(local, probe.zone()));
    app_.now_override_us = at + 3600LL * 1000000;
    LogWork w{.kind = kind,
              .task = fmt::format("{}-{}", kind, ++task_seq_),
              .staff = staff,
              .count = count,
              .at_us = at,
              .urgent = urgent};
    Do(client, [&](const ClientState& s) { return DecideLog(s, w, app_.now_us()); });
  }

  void CloseAndPay(uint32_t month, const std::set<std::string>& unpaid = {}) {
    const int64_t close_at =
        Zone::Utc().AddLocalDays(Zone::Utc().MonthEndUs(month), 1);  // the 2nd, ~03:00 Moscow
    for (const std::string& id : ids_) {
      app_.now_override_us = close_at;
      ClientState s = app_.LoadClient(id, {.retain_entries = false});
      if (!s.TermsFor(month) || s.IsClosed(month)) continue;
      // Work still pending review moves to the next month (only the reviewed client has any).
      Do(id, [&](const ClientState& st) {
        return DecideClose(st, month, app_.now_us(), /*carry_pending=*/true);
      });
      const int64_t total =
          app_.LoadClient(id, {.retain_entries = false}).InvoiceFor(month).total_minor;
      if (total > 0 && !unpaid.count(id))
        Do(id, [&](const ClientState& st) {
          return DecidePay(st, total, fmt::format("invoice {}", FormatMonth(month)),
                           close_at + 3600LL * 1000000, close_at + 3600LL * 1000000);
        });
    }
  }

  // The reviewed client (examples/plans/reviewed.toml): entries billed in quarter hours, approved
  // by a manager on the 25th (in February one is rejected as logged twice); internal work is
  // recorded, never billed; the entry of the 26th is still pending at the close and carried.
  // bank-sla (examples/plans/sla-credits.toml, bpm-business with the optional breach credits):
  // in April a P1 waits on the customer over a weekend (no breach), a P1 and a P3 are answered
  // late: credits 10 % of 89 000.00 = 8 900.00 and 2 000.00 on April's invoice.
  void SlaCredited(uint32_t month) {
    if (month != 202604) return;
    const ClientState probe = app_.LoadClient("bank-sla", {.retain_entries = false});
    auto inc = [&](IncidentAction act, const std::string& id, uint8_t p, const std::string& local,
                   const std::string& text = "") {
      const int64_t t = Must(ParseTime(local, probe.zone()));
      app_.now_override_us = t + 60LL * 1000000;
      Do("bank-sla", [&](const ClientState& s) {
        return DecideIncident(s, act, id, p, text, t, app_.now_us());
      });
    };
    inc(IncidentAction::kOpen, "SLA-1", 1, "2026-04-10T17:00", "Portal down");  // Friday
    inc(IncidentAction::kRespond, "SLA-1", 0, "2026-04-10T18:00");
    inc(IncidentAction::kWait, "SLA-1", 0, "2026-04-10T18:30", "waiting for VPN access");
    inc(IncidentAction::kResume, "SLA-1", 0, "2026-04-13T10:00");
    inc(IncidentAction::kResolve, "SLA-1", 0, "2026-04-13T12:00");
    inc(IncidentAction::kOpen, "SLA-2", 1, "2026-04-15T09:00", "Payments fail");
    inc(IncidentAction::kRespond, "SLA-2", 0, "2026-04-15T15:00");  // 6 h > 4 h
    inc(IncidentAction::kResolve, "SLA-2", 0, "2026-04-15T18:00");
    inc(IncidentAction::kOpen, "SLA-3", 3, "2026-04-20T10:00", "Report layout");  // Monday
    inc(IncidentAction::kRespond, "SLA-3", 0, "2026-04-22T15:00");  // 9 + 10 + 6 = 25 h > 24 h
    inc(IncidentAction::kResolve, "SLA-3", 0, "2026-04-23T12:00");
  }

  void Reviewed(uint32_t month) {
    const std::string m = FormatMonth(month);
    const std::string task = fmt::format("HD-{}", month % 100);
    LogHours("helpdesk", "support", 50, m + "-04T10:00", task + "1", "olga");  // bills 1h
    LogHours("helpdesk", "support", 95, m + "-12T11:00", task + "2", "ivan");  // bills 1h45m
    LogHours("helpdesk", "internal", 60, m + "-13T11:00", "meeting", "olga");  // bills nothing
    app_.now_override_us = Must(ParseTime(m + "-25T12:00:00+03:00", Zone::Utc()));
    if (month == 202602)
      Do("helpdesk", [&](const ClientState& s) {
        return DecideReview(s,
                            {.decision = ReviewCmd::Decision::kReject,
                             .month = month,
                             .task = task + "2",
                             .reason = "logged twice"},
                            app_.now_us());
      });
    Do("helpdesk", [&](const ClientState& s) {
      return DecideReview(s,
                          {.decision = ReviewCmd::Decision::kApprove, .month = month, .all = true},
                          app_.now_us());
    });
    LogHours("helpdesk", "support", 20, m + "-26T16:00", task + "3",
             "anna");  // pending at the close
  }

  void Work() {
    const char* staff[] = {"anna", "boris", "olga", "ivan"};
    Rng rng;
    auto who = [&] { return std::string(staff[rng.Next() % 4]); };
    auto day = [&](uint32_t month, int d, int hour) {
      return fmt::format("{}-{:02}T{:02}:{:02}", FormatMonth(month), d, hour,
                         int(rng.Next() % 4) * 15);
    };
    // Prepaid hours for the KIT option 3 client and a sites pack for the Constructor client.
    At("2026-01-05T08:00:00Z");
    Do("retail-one", [&](const ClientState& s) {
      return DecideBuyHours(s, {.minutes = 50 * 60, .at_us = app_.now_us()}, app_.now_us());
    });
    for (uint32_t month : {202601u, 202602u, 202603u, 202604u}) {
      // 1C Start: a few tasks a month, accepted the next day; the last month runs past the bank.
      // March stays under the 10 h so the rest carries into the reserve April then draws.
      const int tasks = month == 202604 ? 6 : month == 202603 ? 2 : 3;
      const int64_t max_half_hours = month == 202603 ? 6 : 12;
      for (int t = 0; t < tasks; ++t)
        LogHours("stroymarket", t % 2 ? "development" : "consultation",
                 rng.Between(2, max_half_hours) * 30, day(month, 3 + t * 3, 11),
                 fmt::format("SM-{}{}", month % 100, t), who(), true);
      // AlterCPA Basic: sites, offers, integrations, one urgent, one complex (not in Basic).
      LogItems("leadgen", "site_link", rng.Between(8, 24), day(month, 5, 12), who());
      LogItems("leadgen", "api_offer", rng.Between(5, 15), day(month, 6, 14), who());
      LogItems("leadgen", "simple_integration", 1, day(month, 7, 11), who(), /*urgent=*/true);
      LogItems("leadgen", "complex_integration", 1, day(month, 8, 15), who());
      // AlterCPA Constructor: the shared offers+integrations pack when busy.
      if (month >= 202603) {
        app_.now_override_us =
            Must(ParseTime(fmt::format("{}-01T10:00:00+03:00", FormatMonth(month)), Zone::Utc()));
        Do("cpa-hub", [&](const ClientState& s) {
          return DecideBuyAddon(s, "altercpa-offers-simple-40", month, app_.now_us(),
                                app_.now_us());
        });
      }
      LogItems("cpa-hub", "simple_integration", rng.Between(30, 50), day(month, 9, 12), who());
      LogItems("cpa-hub", "external_offer", rng.Between(30, 50), day(month, 10, 12), who());
      LogItems("cpa-hub", "site_archive", 2, day(month, 13, 12), who());
      // AGBIS: support hours are unlimited; dental-plus grows to 16 licences in March.
      LogHours("dental-plus", "support", rng.Between(1, 6) * 30, day(month, 11, 10), "AG-1", who());
      LogHours("autoservice", "support", rng.Between(1, 6) * 30, day(month, 12, 10), "AG-2", who());
      // KIT: the 15 h package burns what is left; the prepaid block runs down.
      LogHours("logistic", "support", rng.Between(10, 30) * 30, day(month, 14, 10),
               fmt::format("LG-{}", month % 100), who());
      LogHours("retail-one", "development", rng.Between(28, 40) * 30, day(month, 15, 10),
               fmt::format("RT-{}", month % 100), who());
      // bpmonline Business: unlimited requests.
      LogHours("bank-crm", "support", rng.Between(20, 60) * 30, day(month, 16, 10),
               fmt::format("BC-{}", month % 100), who());
      // bpmonline Business SLA: two incidents a month, one answered late on purpose in April.
      {
        ClientState probe = app_.LoadClient("bank-crm", {.retain_entries = false});
        auto at = [&](const std::string& local) { return Must(ParseTime(local, probe.zone())); };
        const std::string m = FormatMonth(month);
        const std::string a = fmt::format("INC-{}-1", month % 100),
                          b = fmt::format("INC-{}-2", month % 100);
        auto inc = [&](IncidentAction act, const std::string& id, uint8_t p,
                       const std::string& local) {
          const int64_t t = at(local);
          app_.now_override_us = t + 60LL * 1000000;
          Do("bank-crm", [&](const ClientState& s) {
            return DecideIncident(s, act, id, p, "CRM outage", t, app_.now_us());
          });
        };
        inc(IncidentAction::kOpen, a, 1,
            m + "-17T18:30");  // Tuesday-ish evening, P1 (4 h reaction)
        inc(IncidentAction::kRespond, a, 0, m + "-18T10:00");
        inc(IncidentAction::kResolve, a, 0, m + "-18T15:00");
        inc(IncidentAction::kOpen, b, 3, m + "-20T11:00");  // P3 (24 h reaction)
        inc(IncidentAction::kRespond, b, 0, month == 202604 ? m + "-24T12:00" : m + "-20T12:00");
        inc(IncidentAction::kResolve, b, 0, m + "-27T12:00");
      }
      Reviewed(month);
      SlaCredited(month);
      if (month == 202602) {
        At("2026-02-20T09:00:00Z");
        Do("dental-plus",
           [&](const ClientState& s) { return DecideUnits(s, 16, 202603, app_.now_us()); });
      }
      // Close the month on the 2nd of the next; leadgen leaves April unpaid (outstanding).
      CloseAndPay(month,
                  month == 202604 ? std::set<std::string>{"leadgen"} : std::set<std::string>{});
    }
    At("2026-05-02T12:00:00Z");
  }

  void Report() {
    const int64_t now = app_.now_us();
    std::fputs(
        "\n== Balances as of 2026-05-02 (month 2026-05 just opened; carried reserve and blocks "
        "shown) ==\n",
        stdout);
    std::vector<std::vector<std::string>> rows;
    for (const std::string& id : ids_) {
      ClientState s = app_.LoadClient(id);
      json b = BalanceJson(s, now);
      std::string slots;
      for (auto& [pool, u] : b["slots"].items()) {
        if (!slots.empty()) slots += ", ";
        slots += fmt::format("{} {}", pool, u["left"].get<uint32_t>());
      }
      const bool active = s.TermsFor(s.zone().MonthOf(now)) != nullptr;
      rows.push_back(
          {id, b["plan"].get<std::string>().empty() ? "(ended)" : b["plan"].get<std::string>(),
           !active                      ? "-"
           : b["unlimited"].get<bool>() ? "unlimited"
           : b["allowance"]["included_minutes"].get<int64_t>() == 0
               ? "-"
               : FormatMinutes(b["allowance"]["left_minutes"]),
           FormatMinutes(b["reserve_minutes"]), FormatMinutes(b["prepaid_minutes"]),
           slots.empty() ? "-" : slots, FormatMoney(b["outstanding_minor"], s.currency()),
           b["blocked"].get<bool>() ? "BLOCKED" : ""});
    }
    using reports::Align;
    std::fputs(reports::RenderTable({{"client"},
                                     {"plan"},
                                     {"allowance left", Align::kRight},
                                     {"reserve", Align::kRight},
                                     {"prepaid", Align::kRight},
                                     {"slots left", Align::kLeft, 40},
                                     {"outstanding", Align::kRight},
                                     {""}},
                                    rows)
                   .c_str(),
               stdout);

    std::fputs("\n== Burned hours, 2026-01 … 2026-04 ==\n", stdout);
    std::vector<std::vector<std::string>> brows = {{"client", "month", "included", "used",
                                                    "reserve", "blocks", "overage", "carried",
                                                    "expired"}};
    for (const char* id : {"stroymarket", "logistic", "retail-one", "bank-crm"}) {
      ClientState s = app_.LoadClient(id);
      json j = BurnedJson(s, 202601, 202604);
      for (const auto& m : j["months"])
        brows.push_back({id, m["month"], FormatMinutes(m["included_minutes"]),
                         FormatMinutes(m["used_minutes"]), FormatMinutes(m["from_reserve_minutes"]),
                         FormatMinutes(m["from_blocks_minutes"]),
                         FormatMinutes(m["overage_minutes"]), FormatMinutes(m["carried_minutes"]),
                         FormatMinutes(m["expired_minutes"])});
    }
    std::fputs(Table(brows).c_str(), stdout);

    std::fputs("\n== SLA, bank-crm (bpm-business), 2026-04 ==\n", stdout);
    std::fputs(SlaText(SlaJson(app_.LoadClient("bank-crm"), 202604, now)).c_str(), stdout);
    std::fputs("\n== SLA, bank-sla (bpm-business-credits, breach credits), 2026-04 ==\n", stdout);
    std::fputs(SlaText(SlaJson(app_.LoadClient("bank-sla"), 202604, now)).c_str(), stdout);

    std::fputs("\n== Forecast, stroymarket (1c-start), rate of the 28 days before 2026-05-02 ==\n",
               stdout);
    {
      ClientState s = app_.LoadClient("stroymarket", {.retain_entries = true});
      std::fputs(
          reports::ForecastText(reports::MakeForecast(s, {.now_us = now}), reports::Lang::kRu)
              .c_str(),
          stdout);
    }
    std::fputs("\n== Alerts raised for stroymarket (1c-start), as the writes crossed them ==\n",
               stdout);
    {
      const ClientState s = app_.LoadClient("stroymarket");
      for (const AlertRecord& a : s.alerts())
        std::fputs(fmt::format("{}  {}\n", s.zone().FormatIso(a.raised_us).substr(0, 10),
                               AlertSentence(a, s.zone(), s.currency()))
                       .c_str(),
                   stdout);
    }
    std::fputs(
        "\n== What if logistic (kit-hours-15) had been on kit-hours-10, 2026-01 … 2026-04 ==\n",
        stdout);
    std::fputs(reports::WhatIfText(WhatIfFor(app_, "logistic", "kit-hours-10", 202601, 202604),
                                   reports::Lang::kRu)
                   .c_str(),
               stdout);

    std::fputs("\n== Latest invoices (2026-04, closed) ==\n", stdout);
    for (const std::string& id : ids_) {
      ClientState s = app_.LoadClient(id);
      std::fputs(("\n" + InvoiceText(InvoiceJson(s, 202604))).c_str(), stdout);
    }
    std::fputs(
        fmt::format(
            "\nledger: {} events in {}; try `hourbank --ledger {} report stroymarket 2026-04`\n",
            app_.log().head_seq(), app_.ledger_dir, app_.ledger_dir)
            .c_str(),
        stdout);
  }

  App& app_;
  std::vector<std::string> ids_;
  int task_seq_ = 0;
};

}  // namespace

void RegisterDemoCommand(CLI::App& cli, App& app) {
  auto* demo = cli.add_subcommand("demo",
                                  "Build a demo ledger from the five price lists and print "
                                  "balances, burned hours and invoices\n"
                                  "  e.g. hourbank --ledger /tmp/demo demo");
  demo->callback([&app] {
    std::error_code ec;
    if (std::filesystem::exists(app.ledger_dir, ec) &&
        !std::filesystem::is_empty(app.ledger_dir, ec))
      Fail(
          Code::kRefused,
          fmt::format(
              "'{}' is not empty; the demo builds a new ledger: remove it or pass another --ledger",
              app.ledger_dir));
    app.nosync = true;  // a throwaway ledger: no fsync per append
    app.log(/*create=*/true);
    app.actor = "demo";
    Demo(app).Run();
  });
}

}  // namespace hourbank::cli
