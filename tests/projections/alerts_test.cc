// Alerts (projections/alerts.cc): which thresholds are due, worked out by hand from the plans,
// and that an alert once raised (an AlertRaised event folded into the state) is never due
// again: not after more work, not after a replay, not after a checkpoint round trip.
#include "projections/alerts.h"

#include <fmt/format.h>

#include "projections/checkpoint.h"

#include "sim.h"

namespace hourbank::testing {
namespace {

using schemas::AlertKind;

// The due alerts at `now` (client's local time) recorded as AlertRaised events, as the service
// does after a write; returns what was raised.
std::vector<AlertRecord> Raise(Sim& s, const std::string& id, const std::string& now) {
  const int64_t now_us = s.At(id, now);
  std::vector<AlertRecord> due = DueAlerts(s.client(id), now_us);
  for (const AlertRecord& a : due) s.Must(id, DecideAlert(a, now_us));
  return due;
}

std::vector<std::string> Keys(const std::vector<AlertRecord>& alerts) {
  std::vector<std::string> keys;
  for (const AlertRecord& a : alerts) keys.push_back(a.key);
  return keys;
}

std::vector<AlertRecord> OfKind(const std::vector<AlertRecord>& alerts, AlertKind kind) {
  std::vector<AlertRecord> out;
  for (const AlertRecord& a : alerts)
    if (a.kind == kind) out.push_back(a);
  return out;
}

// 1C Start: "Включено часов по тарифу: 10 часов" (600 minutes), "Стоимость часа сверх тарифа:
// 2.000 руб./час", "Первые два месяца - без абонентской платы" (trial: no allowance), and only
// accepted tasks count. Contract from January 2026: March is the first month with 10 h
// included, and its reserve is 0 (the trial months had no allowance to carry).
Sim OneCStart() {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "1c-start", .from_month = 202601});
  return s;
}
void WorkAccepted(Sim& s, const std::string& task, int64_t minutes, const std::string& day) {
  s.LogHours("c", "consultation", minutes, day + "T10:00", task);
  s.Accept("c", task, day + "T18:00");
}

TEST_CASE("8 of 1C Start's 10 included hours raise the 80 percent alert and nothing else",
          "[alerts]") {
  Sim s = OneCStart();
  WorkAccepted(s, "A", 480, "2026-03-10");
  const std::vector<AlertRecord> raised = Raise(s, "c", "2026-03-11T12:00");
  // 480 × 100 = 48 000 ≥ 80 × 600 = 48 000; < 100 × 600.
  REQUIRE(Keys(raised) == std::vector<std::string>{"alert:c:allowance_used:80:202603"});
  CHECK(raised[0].used_minutes == 480);
  CHECK(raised[0].limit_minutes == 600);
  CHECK(raised[0].left_minutes == 120);
}

TEST_CASE("7h59 of 10 included hours raise nothing", "[alerts]") {
  Sim s = OneCStart();
  WorkAccepted(s, "A", 479, "2026-03-10");
  // 47 900 < 48 000.
  CHECK(Raise(s, "c", "2026-03-11T12:00").empty());
}

TEST_CASE("10 hours raise the 100 percent alert and 10h30 overage started, each exactly once",
          "[alerts]") {
  Sim s = OneCStart();
  WorkAccepted(s, "A", 480, "2026-03-10");
  CHECK(Raise(s, "c", "2026-03-10T19:00").size() == 1);  // 80 %
  WorkAccepted(s, "B", 120, "2026-03-11");               // 600 of 600
  CHECK(Keys(Raise(s, "c", "2026-03-11T19:00")) ==
        std::vector<std::string>{"alert:c:allowance_used:100:202603"});
  CHECK(Raise(s, "c", "2026-03-11T20:00").empty());  // nothing new without a new crossing
  WorkAccepted(s, "C", 30, "2026-03-12");            // 630: 30 minutes beyond, reserve 0
  const std::vector<AlertRecord> over = Raise(s, "c", "2026-03-12T19:00");
  REQUIRE(Keys(over) == std::vector<std::string>{"alert:c:overage_started:0:202603"});
  CHECK(over[0].used_minutes == 30);
  CHECK(over[0].amount_minor == 100000);   // 30/60 × 2 000.00 RUB = 1 000.00 RUB
  WorkAccepted(s, "D", 60, "2026-03-13");  // more overage: no second alert
  CHECK(Raise(s, "c", "2026-03-13T19:00").empty());
  CHECK(s.client("c").alerts().size() == 3);
}

TEST_CASE("a replay of the stream and a checkpoint round trip raise nothing new", "[alerts]") {
  Sim s = OneCStart();
  WorkAccepted(s, "A", 630, "2026-03-10");
  CHECK(Raise(s, "c", "2026-03-11T12:00").size() == 3);  // 80, 100, overage
  ClientState replayed;
  replayed.set_id("c");
  for (const auto& [seq, words] : s.log["c"]) {
    capnp::FlatArrayMessageReader r(words);
    replayed.Apply(seq, r.getRoot<schemas::Event>());
  }
  const int64_t now = s.At("c", "2026-03-12T12:00");
  CHECK(replayed.alerts().size() == 3);
  CHECK(DueAlerts(replayed, now).empty());
  auto restored = RestoreCheckpoint(SaveCheckpoint(replayed));
  REQUIRE(restored.ok());
  CHECK(restored.value().alerts().size() == 3);
  CHECK(restored.value().alerts()[2].key == "alert:c:overage_started:0:202603");
  CHECK(restored.value().alerts()[2].amount_minor == 100000);
  CHECK(DueAlerts(restored.value(), now).empty());
}

TEST_CASE("a closed month raises nothing new, the next month its own alerts", "[alerts]") {
  Sim s = OneCStart();
  s.Close("c", 202601);
  s.Close("c", 202602);
  WorkAccepted(s, "A", 480, "2026-03-10");
  s.Close("c", 202603);
  // March is closed: its 80 % (never raised) is not due any more.
  CHECK(Raise(s, "c", "2026-04-01T12:00").empty());
  // April: 10 h included plus March's 2 h carried; 8 h draw the allowance to 80 %.
  WorkAccepted(s, "B", 480, "2026-04-02");
  CHECK(Keys(Raise(s, "c", "2026-04-03T12:00")) ==
        std::vector<std::string>{"alert:c:allowance_used:80:202604"});
}

// A round plan for the other kinds: 10 h a month, unused hours carried into a reserve of at
// most 10 h, a 3-month term, unpaid invoices block 5 days after their month.
constexpr const char* kPlan = R"(
[[plan]]
id = "r"
currency = "RUB"
fee_minor = 2000000
included_minutes = 600
rollover = "carry"
reserve_cap_minutes = 600
overage_rate_minor = 200000
grace_days = 5
debt_blocking = "overdue"
%ALERTS%
[[plan.kinds]]
id = "support"
unit = "hour"
)";

Sim OnPlan(const std::string& alerts_table = "") {
  std::string toml = kPlan;
  toml.replace(toml.find("%ALERTS%"), 8, alerts_table);
  Sim s;
  s.DefineToml(toml);
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "r", .from_month = 202601, .term_months = 3});
  return s;
}

TEST_CASE("a plan's [plan.alerts] thresholds replace the defaults", "[alerts]") {
  Sim s = OnPlan("[plan.alerts]\nallowance_percent = [50]\n");
  s.LogHours("c", "support", 540, "2026-01-10T10:00");  // 90 %: over 50, under no other
  CHECK(Keys(Raise(s, "c", "2026-01-11T12:00")) ==
        std::vector<std::string>{"alert:c:allowance_used:50:202601"});
}

TEST_CASE("a plan without [plan.alerts] raises at 80 and 100 percent", "[alerts]") {
  Sim s = OnPlan();
  s.LogHours("c", "support", 600, "2026-01-10T10:00");
  CHECK(Keys(Raise(s, "c", "2026-01-11T12:00")) ==
        std::vector<std::string>{"alert:c:allowance_used:80:202601",
                                 "alert:c:allowance_used:100:202601"});
}

TEST_CASE("a block is due to expire 14 days before its expiry and not 15", "[alerts]") {
  Sim s = OnPlan();
  BuyHours b;
  b.minutes = 300;
  b.price_minor = 100000;
  b.expires_day = 20260220;  // usable through 20 Feb: expires at 21 Feb 00:00 Moscow
  b.at_us = s.At("c", "2026-02-01T10:00");
  s.Must("c", DecideBuyHours(s.client("c"), b, s.now_us));
  const uint64_t block = s.seq;
  // 21 Feb 00:00 − 14 calendar days = 7 Feb 00:00.
  CHECK(OfKind(Raise(s, "c", "2026-02-06T23:59"), AlertKind::BLOCK_EXPIRING).empty());
  const std::vector<AlertRecord> due = Raise(s, "c", "2026-02-07T00:00");
  REQUIRE(due.size() == 1);
  CHECK(due[0].key == fmt::format("alert:c:block_expiring:14:202602:{}", block));
  CHECK(due[0].left_minutes == 300);
  CHECK(due[0].deadline_us == s.At("c", "2026-02-21T00:00"));
}

TEST_CASE("work that draws a block to nothing raises block run out once", "[alerts]") {
  Sim s = OnPlan();
  BuyHours b;
  b.minutes = 120;
  b.price_minor = 100000;
  b.at_us = s.At("c", "2026-01-02T10:00");
  s.Must("c", DecideBuyHours(s.client("c"), b, s.now_us));
  const uint64_t block = s.seq;
  // January: 600 allowance, reserve 0, then the block: 600 + 119 leaves 1 minute in it.
  s.LogHours("c", "support", 719, "2026-01-10T10:00");
  CHECK(OfKind(Raise(s, "c", "2026-01-10T12:00"), AlertKind::BLOCK_RUN_OUT).empty());
  s.LogHours("c", "support", 1, "2026-01-11T10:00");  // 720 = 600 + 120
  const std::vector<AlertRecord> due = Raise(s, "c", "2026-01-11T12:00");
  CHECK(Keys(due) ==
        std::vector<std::string>{fmt::format("alert:c:block_run_out:0:202601:{}", block)});
}

TEST_CASE("the reserve left is due to expire 30 days before the contract's end", "[alerts]") {
  Sim s = OnPlan();
  s.Close("c", 202601);  // nothing used: 600 carried into the reserve (cap 600)
  s.Close("c", 202602);  // February's 600 carried too, the reserve stays at its 600 cap
  // The 3-month term ends with March: 1 Apr 00:00 − 30 days = 2 Mar 00:00.
  CHECK(OfKind(Raise(s, "c", "2026-03-01T23:59"), AlertKind::RESERVE_EXPIRING).empty());
  const std::vector<AlertRecord> due = Raise(s, "c", "2026-03-02T00:00");
  REQUIRE(Keys(due) == std::vector<std::string>{"alert:c:reserve_expiring:30:202603"});
  CHECK(due[0].left_minutes == 600);
  CHECK(due[0].deadline_us == s.At("c", "2026-04-01T00:00"));
}

TEST_CASE("an invoice unpaid past the grace days blocks the client and raises it once a month",
          "[alerts]") {
  Sim s = OnPlan();
  s.auto_pay = false;
  s.Close("c", 202601);  // 20 000.00 RUB fee, unpaid
  // debt_blocking "overdue", grace 5 days: blocked from 6 Feb on.
  CHECK(OfKind(Raise(s, "c", "2026-02-03T12:00"), AlertKind::CLIENT_BLOCKED).empty());
  const std::vector<AlertRecord> due = Raise(s, "c", "2026-02-10T12:00");
  // The January invoice is also overdue (5 grace days: from 6 Feb), raised before the block.
  REQUIRE(Keys(due) == std::vector<std::string>{"alert:c:invoice_overdue:5:202601",
                                                "alert:c:client_blocked:0:202602"});
  CHECK(due[1].amount_minor == 2000000);
  CHECK(Raise(s, "c", "2026-02-20T12:00").empty());
  // (March also raises the reserve's expiry: the term ends with March.)
  CHECK(Keys(OfKind(Raise(s, "c", "2026-03-02T12:00"), AlertKind::CLIENT_BLOCKED)) ==
        std::vector<std::string>{"alert:c:client_blocked:0:202603"});
}

// kPlan with 10 grace days and no blocking, a 3-month contract from April 2026 (Moscow), the
// April invoice (20 000.00 RUB fee) closed and left unpaid.
Sim AprilUnpaid(const std::string& alerts_table = "",
                const std::string& grace = "grace_days = 10") {
  std::string toml = kPlan;
  toml.replace(toml.find("grace_days = 5"), 14, grace);
  toml.replace(toml.find("\"overdue\""), 9, "\"none\"");
  toml.replace(toml.find("%ALERTS%"), 8, alerts_table);
  Sim s;
  s.DefineToml(toml);
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "r", .from_month = 202604, .term_months = 3});
  s.auto_pay = false;
  s.Close("c", 202604);
  return s;
}

TEST_CASE("an April invoice unpaid 10 grace days after the month is overdue from 11 May 00:00",
          "[alerts]") {
  Sim s = AprilUnpaid();
  // 1 May 00:00 Moscow + 10 calendar days = 11 May 00:00; debt_blocking "none" still alerts.
  CHECK(Raise(s, "c", "2026-05-10T23:59").empty());
  const std::vector<AlertRecord> due = Raise(s, "c", "2026-05-11T00:00");
  REQUIRE(Keys(due) == std::vector<std::string>{"alert:c:invoice_overdue:10:202604"});
  CHECK(due[0].amount_minor == 2000000);
  CHECK(due[0].deadline_us == s.At("c", "2026-05-11T00:00"));
  CHECK(due[0].month == 202604);
  CHECK_FALSE(s.client("c").BlockedAt(s.At("c", "2026-05-11T00:00")));
  CHECK(Raise(s, "c", "2026-05-20T12:00").empty());  // once per invoice
}

TEST_CASE("a paid invoice is never overdue and a part payment leaves the rest overdue",
          "[alerts]") {
  Sim paid = AprilUnpaid();
  const int64_t at = paid.At("c", "2026-05-05T12:00");
  paid.Must("c", DecidePay(paid.client("c"), 2000000, "p1", at, at));
  CHECK(OfKind(Raise(paid, "c", "2026-06-01T12:00"), AlertKind::INVOICE_OVERDUE).empty());
  Sim part = AprilUnpaid();
  part.Must("c", DecidePay(part.client("c"), 500000, "p1", at, at));
  const std::vector<AlertRecord> due = Raise(part, "c", "2026-05-11T00:00");
  REQUIRE(Keys(due) == std::vector<std::string>{"alert:c:invoice_overdue:10:202604"});
  CHECK(due[0].amount_minor == 1500000);  // 20 000.00 − 5 000.00 RUB
}

TEST_CASE("[plan.alerts] invoice_overdue_days replaces the grace days for the alert", "[alerts]") {
  Sim s = AprilUnpaid("[plan.alerts]\ninvoice_overdue_days = 3\n");
  // 1 May 00:00 + 3 days = 4 May 00:00.
  CHECK(Raise(s, "c", "2026-05-03T23:59").empty());
  CHECK(Keys(Raise(s, "c", "2026-05-04T00:00")) ==
        std::vector<std::string>{"alert:c:invoice_overdue:3:202604"});
}

TEST_CASE("a plan with no grace days and no debt rule states no payment term: no overdue alert",
          "[alerts]") {
  Sim s = AprilUnpaid("", "grace_days = 0");  // debt_blocking "none" (AprilUnpaid)
  CHECK(OfKind(Raise(s, "c", "2026-05-01T00:00"), AlertKind::INVOICE_OVERDUE).empty());
  CHECK(OfKind(Raise(s, "c", "2026-06-30T12:00"), AlertKind::INVOICE_OVERDUE).empty());
  // A term set on purpose, even 0 days, is one: due from 1 May 00:00 (the month's end).
  Sim t = AprilUnpaid("[plan.alerts]\ninvoice_overdue_days = 0\n", "grace_days = 0");
  CHECK(Raise(t, "c", "2026-04-30T23:59").empty());
  CHECK(Keys(OfKind(Raise(t, "c", "2026-05-01T00:00"), AlertKind::INVOICE_OVERDUE)) ==
        std::vector<std::string>{"alert:c:invoice_overdue:0:202604"});
}

TEST_CASE("20 of AlterCPA Basic's 20 simple integrations exhaust the pool, 19 do not", "[alerts]") {
  Sim s;
  s.DefineExample("altercpa.toml");  // "[plan.quotas] simple_integration = 20"
  s.AddClient("c", "USD", "UTC");
  s.Start("c", {.plan_id = "altercpa-basic", .from_month = 202601});
  s.LogItems("c", "simple_integration", 19, "2026-01-10T10:00");
  CHECK(OfKind(Raise(s, "c", "2026-01-10T12:00"), AlertKind::SLOTS_EXHAUSTED).empty());
  s.LogItems("c", "simple_integration", 1, "2026-01-11T10:00");
  CHECK(Keys(OfKind(Raise(s, "c", "2026-01-11T12:00"), AlertKind::SLOTS_EXHAUSTED)) ==
        std::vector<std::string>{"alert:c:slots_exhausted:20:202601:simple_integration"});
}

TEST_CASE("an unanswered incident warns at 75 percent of its reaction target, then breaches",
          "[alerts]") {
  Sim s;
  s.DefineExample("bpmonline.toml");
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "bpm-basic", .from_month = 202601, .term_months = 12});
  s.Must("c", DecideIncident(s.client("c"), IncidentAction::kOpen, "I1", 1, "down",
                             s.At("c", "2026-01-16T16:00"), s.now_us));  // a Friday
  // bpm-basic: Mon-Fri 10:00-18:00, P1 reaction 1440 service minutes; 75 % = 1080.
  // Fri 16:00-18:00 120 + Mon 480 = 600 by Mon 18:00; + Tue 10:00-17:00 420 = 1020 < 1080.
  CHECK(OfKind(Raise(s, "c", "2026-01-20T17:00"), AlertKind::SLA_BREACHED).empty());
  // Tue 18:00: 1080 ≥ 1080.
  const std::vector<AlertRecord> warn = Raise(s, "c", "2026-01-20T18:00");
  REQUIRE(Keys(warn) == std::vector<std::string>{"alert:c:sla_breached:75:202601:I1"});
  CHECK(warn[0].used_minutes == 1080);
  CHECK(warn[0].limit_minutes == 1440);
  // Wed 16:01: 1441 > 1440.
  CHECK(Keys(Raise(s, "c", "2026-01-21T16:01")) ==
        std::vector<std::string>{"alert:c:sla_breached:100:202601:I1"});
}

TEST_CASE("a key with a long subject is cut to its digest within the ledger's 128 bytes",
          "[alerts]") {
  const std::string id(64, 'a'), incident(100, 'x');
  const std::string key = AlertKey(id, AlertKind::SLA_BREACHED, 100, 202601, incident);
  CHECK(key.size() <= kAlertKeyBytesMax);
  CHECK(key.rfind("alert:" + id + ":sla_breached:100:202601:h", 0) == 0);
  CHECK(AlertKey("c", AlertKind::SLA_BREACHED, 100, 202601, "I1") ==
        "alert:c:sla_breached:100:202601:I1");
}

TEST_CASE("[plan.alerts] is kept in the canonical text and bad values are refused", "[alerts]") {
  const std::string base = "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\n";
  auto plans = ParsePlans(base +
                              "[plan.alerts]\nallowance_percent = [100, 90]\n"
                              "block_expiry_days = 7\n",
                          "a.toml");
  REQUIRE(plans.ok());
  REQUIRE(plans.value()[0].alerts.has_value());
  CHECK(plans.value()[0].alerts->allowance_percent == std::vector<uint32_t>{90, 100});
  CHECK(plans.value()[0].alerts->block_expiry_days == 7);
  CHECK(plans.value()[0].alerts->reserve_expiry_days == 30);
  auto again = ParseCanonicalPlan(CanonicalToml(plans.value()[0]));
  REQUIRE(again.ok());
  CHECK(again.value() == plans.value()[0]);
  // Without the table the canonical text has none (ledgers written before alerts replay the
  // same plan text).
  auto plain = ParsePlans(base, "b.toml");
  REQUIRE(plain.ok());
  CHECK(CanonicalToml(plain.value()[0]).find("alerts") == std::string::npos);
  CHECK_FALSE(ParsePlans(base + "[plan.alerts]\nallowance_percent = [0]\n", "c.toml").ok());
  CHECK_FALSE(ParsePlans(base + "[plan.alerts]\nallowance_percent = [80, 80]\n", "d.toml").ok());
  CHECK_FALSE(ParsePlans(base + "[plan.alerts]\nblock_expiry_days = 400\n", "e.toml").ok());
  CHECK_FALSE(ParsePlans(base + "[plan.alerts]\nwhen = 1\n", "f.toml").ok());
  CHECK_FALSE(ParsePlans(base + "[plan.alerts]\ninvoice_overdue_days = 367\n", "g.toml").ok());
  auto overdue = ParsePlans(base + "[plan.alerts]\ninvoice_overdue_days = 0\n", "h.toml");
  REQUIRE(overdue.ok());
  CHECK(overdue.value()[0].alerts->invoice_overdue_days == 0u);
  CHECK(CanonicalToml(overdue.value()[0]).find("invoice_overdue_days = 0\n") != std::string::npos);
  CHECK(CanonicalToml(plans.value()[0]).find("invoice_overdue_days") == std::string::npos);
}

// The client's own thresholds (`hourbank alerts set`), recorded as an AlertSettingsSet.
void SetAlerts(Sim& s, const AlertSettingsChange& change) {
  s.Must("c", DecideAlertSettings(s.client("c"), change, s.now_us));
}
AlertSettingsChange Percents(std::vector<uint32_t> percents) {
  AlertSettingsChange c;
  c.allowance_percent = std::move(percents);
  return c;
}

TEST_CASE("a client's own allowance threshold beats the plan's", "[alerts][settings]") {
  Sim s = OnPlan();  // the plan alerts at the defaults, 80 and 100 %
  SetAlerts(s, Percents({50}));
  s.LogHours("c", "support", 300, "2026-01-10T10:00");
  // 300 × 100 = 30 000 ≥ 50 × 600 = 30 000; the plan's 80 % (48 000) is not the client's.
  CHECK(Keys(Raise(s, "c", "2026-01-11T12:00")) ==
        std::vector<std::string>{"alert:c:allowance_used:50:202601"});
  s.LogHours("c", "support", 300, "2026-01-12T10:00");  // 600 of 600: no 80 or 100 for c
  CHECK(OfKind(Raise(s, "c", "2026-01-13T12:00"), AlertKind::ALLOWANCE_USED).empty());
}

TEST_CASE("a threshold set alone keeps the client's others and reset returns to the plan's",
          "[alerts][settings]") {
  Sim s = OnPlan();
  SetAlerts(s, Percents({50}));
  AlertSettingsChange days;
  days.block_expiry_days = 3;
  SetAlerts(s, days);
  CHECK(s.client("c").alert_overrides().allowance_percent == std::vector<uint32_t>{50});
  CHECK(s.client("c").alert_overrides().block_expiry_days == 3u);
  CHECK(AlertRulesFor(s.client("c"), 202601).reserve_expiry_days == 30);  // the plan's
  AlertSettingsChange reset;
  reset.reset = true;
  SetAlerts(s, reset);
  CHECK(s.client("c").alert_overrides() == AlertOverrides{});
  s.LogHours("c", "support", 480, "2026-01-10T10:00");
  // 480 × 100 = 48 000 ≥ 80 × 600: the plan's 80 % again, no 50 %.
  CHECK(Keys(Raise(s, "c", "2026-01-11T12:00")) ==
        std::vector<std::string>{"alert:c:allowance_used:80:202601"});
}

TEST_CASE("a kind the client turned off is not raised, the others are", "[alerts][settings]") {
  Sim s = OnPlan();
  AlertSettingsChange off;
  off.off = std::vector<AlertKind>{AlertKind::ALLOWANCE_USED};
  SetAlerts(s, off);
  // 630 of 600, reserve 0 in the first month: 30 minutes of overage, 80 and 100 % crossed.
  s.LogHours("c", "support", 630, "2026-01-10T10:00");
  CHECK(Keys(Raise(s, "c", "2026-01-11T12:00")) ==
        std::vector<std::string>{"alert:c:overage_started:0:202601"});
}

TEST_CASE("the client's invoice_overdue_days beats the plan's grace days", "[alerts][settings]") {
  Sim s = AprilUnpaid();  // grace 10 days
  AlertSettingsChange days;
  days.invoice_overdue_days = 20;
  SetAlerts(s, days);
  // 1 May 00:00 + 20 days = 21 May 00:00.
  CHECK(Raise(s, "c", "2026-05-20T23:59").empty());
  CHECK(Keys(Raise(s, "c", "2026-05-21T00:00")) ==
        std::vector<std::string>{"alert:c:invoice_overdue:20:202604"});
}

TEST_CASE("the client's own thresholds survive a replay and a checkpoint round trip",
          "[alerts][settings]") {
  Sim s = OnPlan();
  AlertSettingsChange c = Percents({50, 90});
  c.reserve_expiry_days = 0;
  c.off = std::vector<AlertKind>{AlertKind::SLA_BREACHED, AlertKind::OVERAGE_STARTED};
  SetAlerts(s, c);
  ClientState replayed;
  replayed.set_id("c");
  for (const auto& [seq, words] : s.log["c"]) {
    capnp::FlatArrayMessageReader r(words);
    replayed.Apply(seq, r.getRoot<schemas::Event>());
  }
  const AlertOverrides& o = s.client("c").alert_overrides();
  CHECK(replayed.alert_overrides() == o);
  CHECK(o.off == std::vector<AlertKind>{AlertKind::OVERAGE_STARTED, AlertKind::SLA_BREACHED});
  CHECK_FALSE(o.block_expiry_days.has_value());
  auto restored = RestoreCheckpoint(SaveCheckpoint(replayed));
  REQUIRE(restored.ok());
  CHECK(restored.value().alert_overrides() == o);
}

TEST_CASE("a forged AlertSettingsSet with days beyond 366 is read as 366", "[alerts][settings]") {
  Sim s = OnPlan();
  Decision d;
  ledger::EventDraft draft;
  draft.root().setEffectiveAtUs(s.now_us);
  auto b = draft.root().getBody().initAlertSettingsSet();
  b.setBlockExpiryDaysSet(true);
  b.setBlockExpiryDays(4000000000u);
  d.events.push_back(std::move(draft));
  s.Must("c", std::move(d));
  CHECK(s.client("c").alert_overrides().block_expiry_days == 366u);
}

TEST_CASE("a client's thresholds are checked by the plan's [plan.alerts] rules",
          "[alerts][settings]") {
  auto ok = ParseAlertRulesText("allowance_percent = [90, 50]\nblock_expiry_days = 0\n", "set");
  REQUIRE(ok.ok());
  CHECK(ok.value().allowance_percent == std::vector<uint32_t>{50, 90});
  CHECK(ok.value().block_expiry_days == 0);
  CHECK_FALSE(ParseAlertRulesText("allowance_percent = [0]\n", "set").ok());
  CHECK_FALSE(ParseAlertRulesText("allowance_percent = [50, 50]\n", "set").ok());
  CHECK_FALSE(ParseAlertRulesText("reserve_expiry_days = 367\n", "set").ok());
  CHECK_FALSE(ParseAlertRulesText("invoice_overdue_days = -1\n", "set").ok());
  CHECK_FALSE(ParseAlertRulesText("allowance_percent = [1,2,3,4,5,6,7,8,9,10,11]\n", "set").ok());
  const auto bad = ParseAlertRulesText("block_expiry_days = 400\n", "alerts set");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("block_expiry_days") != std::string::npos);
  CHECK(bad.error().message.find("0 to 366") != std::string::npos);
  CHECK(bad.error().message.find("line") == std::string::npos);  // no line of text made here
}

}  // namespace
}  // namespace hourbank::testing
