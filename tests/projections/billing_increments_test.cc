// Billing increments (issue 18, part 2): hour entries rounded up to an increment, a minimum per
// task, non-billable kinds and entries, and a manager's write-downs. Every figure is worked out
// by hand in the comment next to it. The rules are plan options, off by default
// (docs/plan-format.md, "Billing rules"); the price lists are silent on them, so the plans here
// are made up for the test.
#include "projections/month_eval.h"
#include "sim.h"

using namespace hourbank;
using namespace hourbank::projections;
using hourbank::testing::LineAmount;
using hourbank::testing::Sim;

namespace {

// 20 000.00 a month for 10 h, 2 000.00 an hour beyond; urgent work counts 1.5×.
// `rules` holds the billing-rule keys under test.
std::string Plan(const std::string& rules) {
  return R"(
[[plan]]
id = "inc"
currency = "RUB"
fee_minor = 2000000
included_minutes = 600
overage_rate_minor = 200000
urgent_percent = 150
)" + rules +
         R"(
[[plan.kinds]]
id = "support"
unit = "hour"

[[plan.kinds]]
id = "internal"
unit = "hour"
billable = false

[[plan.kinds]]
id = "site"
unit = "item"
price_minor = 900
)";
}

Sim OnRules(const std::string& rules) {
  Sim s;
  s.DefineToml(Plan(rules));
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "inc", .from_month = 202601, .term_months = 12});
  return s;
}

LogWork Work(Sim& s, int64_t minutes, const std::string& task,
             const std::string& at = "2026-01-15T12:00") {
  LogWork w;
  w.kind = "support";
  w.minutes = minutes;
  w.task = task;
  w.staff = "anna";
  w.at_us = s.At("c", at);
  return w;
}

uint64_t Log(Sim& s, LogWork w) {
  s.Must("c", DecideLog(s.client("c"), w, w.at_us + Sim::kHourUs));
  return s.seq;
}

int64_t BilledOf(Sim& s, uint64_t seq, uint32_t month = 202601) {
  for (const Entry& e : s.client("c").EntriesFor(month))
    if (e.seq == seq) return e.billed_minutes;
  FAIL("entry not in the month");
  return -1;
}

}  // namespace

TEST_CASE("with 15-minute increments, 50 minutes is billed as 60 and 10 minutes as 15",
          "[increments]") {
  Sim s = OnRules("increment_minutes = 15\n");
  const uint64_t a = Log(s, Work(s, 50, "A"));
  const uint64_t b = Log(s, Work(s, 10, "B"));
  // ceil(50 / 15) = 4 → 60; ceil(10 / 15) = 1 → 15; 60 + 15 = 75 drawn from the allowance.
  CHECK(BilledOf(s, a) == 60);
  CHECK(BilledOf(s, b) == 15);
  CHECK(s.client("c").Evaluate(202601).allowance_used_minutes == 75);
}

TEST_CASE("an entry already on the increment is not rounded further", "[increments]") {
  Sim s = OnRules("increment_minutes = 15\n");
  const uint64_t a = Log(s, Work(s, 45, "A"));
  CHECK(BilledOf(s, a) == 45);  // 45 = 3 × 15 exactly
}

TEST_CASE(
    "rounding up turns 9h50m + 20m into 10h + 30m, so 30 minutes of overage are billed 1 000.00",
    "[increments]") {
  Sim s = OnRules("increment_minutes = 30\n");
  Log(s, Work(s, 590, "A"));  // 9h50m → 10h (ceil(590 / 30) = 20 × 30 = 600)
  Log(s, Work(s, 20, "B"));   // 20m → 30m, all of it beyond the 10 h allowance
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.allowance_used_minutes == 600);
  CHECK(ev.overage_minutes == 30);
  CHECK(LineAmount(ev.invoice, "overage") == 100000);  // 30 min × 2 000.00 / 60 = 1 000.00
  // Without the rule the same work is 9h50m + 20m = 10h10m: 10 min of overage, 333.33.
  Sim raw = OnRules("");
  Log(raw, Work(raw, 590, "A"));
  Log(raw, Work(raw, 20, "B"));
  CHECK(LineAmount(raw.client("c").Evaluate(202601).invoice, "overage") == 33333);
}

TEST_CASE(
    "a task's first entry in the month is raised to the 60-minute minimum, its later entries are "
    "not",
    "[increments][minimum]") {
  Sim s = OnRules("minimum_task_minutes = 60\n");
  const uint64_t first = Log(s, Work(s, 10, "T-1"));
  const uint64_t second = Log(s, Work(s, 10, "T-1"));
  const uint64_t other = Log(s, Work(s, 20, "T-2"));
  const uint64_t untasked = Log(s, Work(s, 5, ""));
  CHECK(BilledOf(s, first) == 60);     // max(10, 60)
  CHECK(BilledOf(s, second) == 10);    // the task's minimum was met by its first entry
  CHECK(BilledOf(s, other) == 60);     // another task: max(20, 60)
  CHECK(BilledOf(s, untasked) == 60);  // an entry without a task is a task of its own
  CHECK(s.client("c").Evaluate(202601).allowance_used_minutes == 190);  // 60 + 10 + 60 + 60
}

TEST_CASE("the minimum starts again in the next month", "[increments][minimum]") {
  Sim s = OnRules("minimum_task_minutes = 60\n");
  Log(s, Work(s, 10, "T-1", "2026-01-15T12:00"));
  const uint64_t feb = Log(s, Work(s, 10, "T-1", "2026-02-02T12:00"));
  CHECK(BilledOf(s, feb, 202602) == 60);
}

TEST_CASE(
    "increment then minimum: 7 minutes rounds to 15, then rises to a 30-minute minimum; 40 minutes "
    "rounds to 45",
    "[increments][minimum]") {
  Sim s = OnRules("increment_minutes = 15\nminimum_task_minutes = 30\n");
  const uint64_t a = Log(s, Work(s, 7, "A"));
  const uint64_t b = Log(s, Work(s, 40, "B"));
  CHECK(BilledOf(s, a) == 30);  // ceil(7 / 15) × 15 = 15 < 30 → 30
  CHECK(BilledOf(s, b) == 45);  // ceil(40 / 15) × 15 = 45 ≥ 30
}

TEST_CASE(
    "the urgent multiplier applies to the billed minutes: 50 minutes in 15-minute steps at 1.5x "
    "draws 90",
    "[increments]") {
  Sim s = OnRules("increment_minutes = 15\n");
  LogWork w = Work(s, 50, "A");
  w.urgent = true;
  Log(s, w);
  CHECK(s.client("c").Evaluate(202601).used_minutes == 90);  // 60 billed × 150 % = 90
}

TEST_CASE(
    "a non-billable kind draws no bucket and costs nothing, and the report keeps its raw minutes",
    "[increments][non-billable]") {
  Sim s = OnRules("");
  LogWork w = Work(s, 720, "meeting");  // 12 h: beyond the 10 h allowance, were it billable
  w.kind = "internal";
  const uint64_t seq = Log(s, w);
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.used_minutes == 0);
  CHECK(ev.overage_minutes == 0);
  CHECK(ev.invoice.total_minor == 2000000);  // the fee only
  const std::vector<Entry> entries = s.client("c").EntriesFor(202601);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].seq == seq);
  CHECK(entries[0].minutes == 720);
  CHECK(entries[0].billed_minutes == 0);
}

TEST_CASE(
    "an entry logged non-billable draws nothing, while the same kind logged billable draws its "
    "minutes",
    "[increments][non-billable]") {
  Sim s = OnRules("minimum_task_minutes = 60\n");
  LogWork free = Work(s, 30, "A");
  free.non_billable = true;
  const uint64_t a = Log(s, free);
  const uint64_t b = Log(s, Work(s, 30, "A"));
  CHECK(BilledOf(s, a) == 0);
  // The non-billable entry does not use up the task's minimum: the first billed entry gets it.
  CHECK(BilledOf(s, b) == 60);
  CHECK(s.client("c").Evaluate(202601).allowance_used_minutes == 60);
}

TEST_CASE("a --non-billable flag on item work is refused", "[increments][non-billable]") {
  Sim s = OnRules("");
  LogWork w = Work(s, 0, "S");
  w.kind = "site";
  w.count = 1;
  w.non_billable = true;
  const auto r = DecideLog(s.client("c"), w, w.at_us + Sim::kHourUs);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("--non-billable applies to hour work") != std::string::npos);
}

TEST_CASE("a manager's write-down of 30 minutes on an overage entry takes 1 000.00 off the invoice",
          "[increments][write-down]") {
  Sim s = OnRules("");
  const uint64_t seq = Log(s, Work(s, 660, "A"));  // 11 h: 10 h allowance + 1 h overage = 2 000.00
  CHECK(LineAmount(s.client("c").Evaluate(202601).invoice, "overage") == 200000);
  s.Must("c", DecideWriteDown(s.client("c"), seq, 30, "learning curve", s.now_us));
  // billed 660 − 30 = 630: 600 from the allowance, 30 min overage × 2 000.00 / 60 = 1 000.00
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.overage_minutes == 30);
  CHECK(LineAmount(ev.invoice, "overage") == 100000);
  CHECK(BilledOf(s, seq) == 630);
  CHECK(s.client("c").FindEntry(seq)->minutes == 660);  // the raw time is kept
}

TEST_CASE("write-downs add up, and an entry can be written down to nothing but not below",
          "[increments][write-down]") {
  Sim s = OnRules("increment_minutes = 15\n");
  const uint64_t seq = Log(s, Work(s, 50, "A"));  // billed 60
  s.Must("c", DecideWriteDown(s.client("c"), seq, 45, "first", s.now_us));
  CHECK(BilledOf(s, seq) == 15);
  const uint64_t before = s.seq;
  const Status too_much = s.Commit("c", DecideWriteDown(s.client("c"), seq, 16, "again", s.now_us));
  REQUIRE_FALSE(too_much.ok());
  CHECK(too_much.error().message.find("is billed 15m") != std::string::npos);
  CHECK(s.seq == before);  // nothing written
  s.Must("c", DecideWriteDown(s.client("c"), seq, 15, "the rest", s.now_us));
  CHECK(BilledOf(s, seq) == 0);
  CHECK(s.client("c").Evaluate(202601).used_minutes == 0);
}

TEST_CASE("a write-down on an entry in a closed month is refused, pointing to void",
          "[increments][write-down]") {
  Sim s = OnRules("");
  const uint64_t seq = Log(s, Work(s, 60, "A"));
  s.Close("c", 202601);
  const uint64_t before = s.seq;
  const Status r = s.Commit("c", DecideWriteDown(s.client("c"), seq, 30, "late", s.now_us));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("closed month 2026-01; void it instead") != std::string::npos);
  CHECK(s.seq == before);
}

TEST_CASE("a write-down needs a reason, an hour entry and an entry that exists",
          "[increments][write-down]") {
  Sim s = OnRules("");
  const uint64_t hours = Log(s, Work(s, 60, "A"));
  const uint64_t items = s.LogItems("c", "site", 2, "2026-01-15T12:00");
  CHECK_FALSE(DecideWriteDown(s.client("c"), hours, 30, "", s.now_us).ok());
  CHECK_FALSE(DecideWriteDown(s.client("c"), hours, 0, "zero", s.now_us).ok());
  CHECK_FALSE(DecideWriteDown(s.client("c"), items, 1, "items", s.now_us).ok());
  CHECK_FALSE(DecideWriteDown(s.client("c"), 9999, 1, "unknown", s.now_us).ok());
}

TEST_CASE("closing a month with rounded, minimum and written-down entries passes the month's laws",
          "[increments][close]") {
  Sim s = OnRules("increment_minutes = 15\nminimum_task_minutes = 30\n");
  const uint64_t a = Log(s, Work(s, 580, "A"));                            // → 585
  Log(s, Work(s, 5, "B"));                                                 // → 15 → 30
  s.Must("c", DecideWriteDown(s.client("c"), a, 15, "rework", s.now_us));  // 585 − 15 = 570
  s.Close("c", 202601);
  // 570 + 30 = 600 = the allowance exactly: no overage, nothing left to burn.
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.allowance_used_minutes == 600);
  CHECK(ev.overage_minutes == 0);
  CHECK(ev.invoice.total_minor == 2000000);
  CHECK(s.client("c").problems().empty());
}

TEST_CASE(
    "the billing rules survive replay: a fresh fold of the same events gives the same figures",
    "[increments][replay]") {
  Sim s = OnRules("increment_minutes = 15\n");
  const uint64_t seq = Log(s, Work(s, 50, "A"));
  LogWork nb = Work(s, 40, "B");
  nb.non_billable = true;
  Log(s, nb);
  s.Must("c", DecideWriteDown(s.client("c"), seq, 15, "r", s.now_us));
  ClientState fresh({.retain_entries = true});
  fresh.set_id("c");
  for (const auto& [n, bytes] : s.log["c"]) {
    capnp::FlatArrayMessageReader reader(bytes);
    fresh.Apply(n, reader.getRoot<schemas::Event>());
  }
  CHECK(fresh.Evaluate(202601).used_minutes == 45);  // 60 − 15; the non-billable 40 draws nothing
  CHECK(fresh.problems().empty());
}

TEST_CASE("BillableMinutes with the rules off is the logged minutes", "[increments]") {
  PlanSpec plan;
  plan.kinds.push_back({.id = "support"});
  Entry a, b;
  a.kind = b.kind = "support";
  a.minutes = 7;
  b.minutes = 601;
  CHECK(BillableMinutes(plan, {&a, &b}) == std::vector<int64_t>{7, 601});
}

TEST_CASE("a plan without the billing rules keeps its canonical text; one with them round-trips",
          "[increments][plan]") {
  auto off = ParsePlans(Plan(""), "t.toml");
  REQUIRE(off.ok());
  const std::string text = CanonicalToml(off.value()[0]);
  CHECK(text.find("increment_minutes") == std::string::npos);
  CHECK(text.find("minimum_task_minutes") == std::string::npos);
  auto on = ParsePlans(Plan("increment_minutes = 15\nminimum_task_minutes = 30\n"), "t.toml");
  REQUIRE(on.ok());
  const PlanSpec& p = on.value()[0];
  CHECK(p.increment_minutes == 15);
  CHECK(p.minimum_task_minutes == 30);
  CHECK_FALSE(p.FindKind("internal")->billable);
  auto back = ParseCanonicalPlan(CanonicalToml(p));
  REQUIRE(back.ok());
  CHECK(back.value() == p);
}

TEST_CASE("an increment above a day, a negative minimum and a non-billable item kind are refused",
          "[increments][plan]") {
  auto big = ParsePlans(Plan("increment_minutes = 1441\n"), "t.toml");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.find("increment_minutes") != std::string::npos);
  CHECK_FALSE(ParsePlans(Plan("minimum_task_minutes = -1\n"), "t.toml").ok());
  auto item = ParsePlans(R"(
[[plan]]
id = "x"
currency = "RUB"
[[plan.kinds]]
id = "site"
unit = "item"
price_minor = 900
billable = false
)",
                         "t.toml");
  REQUIRE_FALSE(item.ok());
  CHECK(item.error().message.find("kinds[1].billable") != std::string::npos);
}
