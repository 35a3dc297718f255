// Review (issue 18, part 1): with review required, logged work is pending — it draws its
// bucket provisionally and is billed only once a manager approves it; a rejection releases the
// draw; a month with pending work does not close unless the work is carried to the next open
// month. Every figure is worked out by hand next to the check. The price lists say nothing
// about review (it is a plan option, off by default: docs/plan-format.md, "Review").
#include "projections/month_eval.h"
#include <fmt/format.h>

#include "sim.h"

using namespace hourbank;
using namespace hourbank::projections;
using hourbank::testing::LineAmount;
using hourbank::testing::Sim;

namespace {

// 20 000.00 a month for 10 h, 2 000.00 an hour beyond, unused hours burn; every entry reviewed.
constexpr const char* kPlan = R"(
[[plan]]
id = "rev"
currency = "RUB"
fee_minor = 2000000
included_minutes = 600
overage_rate_minor = 200000
review_required = true

[[plan.kinds]]
id = "support"
unit = "hour"
)";

Sim Reviewed() {
  Sim s;
  s.DefineToml(kPlan);
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "rev", .from_month = 202601, .term_months = 12});
  return s;
}

ReviewCmd Approve(uint32_t month, std::vector<uint64_t> entries) {
  ReviewCmd r;
  r.month = month;
  r.entries = std::move(entries);
  r.decision = ReviewCmd::Decision::kApprove;
  return r;
}

ReviewCmd Reject(uint32_t month, std::vector<uint64_t> entries, std::string reason) {
  ReviewCmd r = Approve(month, std::move(entries));
  r.decision = ReviewCmd::Decision::kReject;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

TEST_CASE("a pending 3h entry draws the allowance provisionally and shows as 3h pending",
          "[review]") {
  Sim s = Reviewed();
  const uint64_t e = s.LogHours("c", "support", 180, "2026-01-15T12:00");
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.allowance_used_minutes == 180);  // drawn provisionally: staff see 7 h left
  CHECK(ev.pending_minutes == 180);
  CHECK(ev.pending_entries == 1);
  CHECK(s.client("c").FindEntry(e)->review == Review::kPending);
}

TEST_CASE("approving a pending entry keeps its draw and clears pending", "[review]") {
  Sim s = Reviewed();
  const uint64_t e = s.LogHours("c", "support", 180, "2026-01-15T12:00");
  s.Must("c", DecideReview(s.client("c"), Approve(202601, {e}), s.now_us));
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.allowance_used_minutes == 180);
  CHECK(ev.pending_minutes == 0);
  CHECK(s.client("c").FindEntry(e)->review == Review::kApproved);
}

TEST_CASE("rejecting a pending entry releases its draw and keeps the reason", "[review]") {
  Sim s = Reviewed();
  s.LogHours("c", "support", 600, "2026-01-10T12:00");  // 10 h: the whole allowance
  const uint64_t e = s.LogHours("c", "support", 120, "2026-01-15T12:00");  // 2 h beyond: 4 000.00
  CHECK(LineAmount(s.client("c").Evaluate(202601).invoice, "overage") == 400000);
  s.Must("c", DecideReview(s.client("c"), Reject(202601, {e}, "not in scope"), s.now_us));
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.overage_minutes == 0);  // the 2 h are gone from the month
  CHECK(LineAmount(ev.invoice, "overage") == 0);
  CHECK(ev.pending_minutes == 600);  // the first entry is still pending
  CHECK(s.client("c").FindEntry(e)->review == Review::kRejected);
  CHECK(s.client("c").FindEntry(e)->review_reason == "not in scope");
}

TEST_CASE("closing a month with pending work is refused with the list and names --carry-pending",
          "[review][close]") {
  Sim s = Reviewed();
  const uint64_t a = s.LogHours("c", "support", 60, "2026-01-15T12:00");
  const uint64_t b = s.LogHours("c", "support", 30, "2026-01-16T12:00");
  const uint64_t before = s.seq;
  const Status r = s.Commit("c", DecideClose(s.client("c"), 202601, s.now_us));
  REQUIRE_FALSE(r.ok());
  const std::string& m = r.error().message;
  CHECK(m.find(fmt::format("#{}", a)) != std::string::npos);
  CHECK(m.find(fmt::format("#{}", b)) != std::string::npos);
  CHECK(m.find("--carry-pending") != std::string::npos);
  CHECK(s.seq == before);
  CHECK_FALSE(s.client("c").IsClosed(202601));
}

TEST_CASE(
    "closing with --carry-pending leaves January without its pending work and February draws it",
    "[review][close]") {
  Sim s = Reviewed();
  const uint64_t done = s.LogHours("c", "support", 480, "2026-01-12T12:00");  // 8 h, approved
  const uint64_t open = s.LogHours("c", "support", 240, "2026-01-20T12:00");  // 4 h, still pending
  s.Must("c", DecideReview(s.client("c"), Approve(202601, {done}), s.now_us));
  s.Must("c", DecideClose(s.client("c"), 202601, s.now_us, /*carry_pending=*/true));
  ClientState& c = s.client("c");
  REQUIRE(c.IsClosed(202601));
  const MonthEval jan = c.Evaluate(202601);
  CHECK(jan.allowance_used_minutes == 480);     // only the approved 8 h
  CHECK(jan.expired_allowance_minutes == 120);  // 10 h − 8 h burn
  CHECK(jan.invoice.total_minor == 2000000);    // the fee, no overage
  CHECK(c.FindEntry(open)->month == 202602);
  CHECK(c.FindEntry(open)->review == Review::kPending);
  const MonthEval feb = c.Evaluate(202602);
  CHECK(feb.allowance_used_minutes == 240);
  CHECK(feb.pending_minutes == 240);
  CHECK(c.problems().empty());
}

TEST_CASE("work approved after its month ended, before the close, counts in its own month",
          "[review]") {
  Sim s = Reviewed();
  const uint64_t e = s.LogHours("c", "support", 660, "2026-01-30T12:00");  // 11 h
  // Approved on 2 February, while January is still open: it stays in January, 1 h overage there.
  s.Must("c", DecideReview(s.client("c"), Approve(202601, {e}), s.At("c", "2026-02-02T10:00")));
  s.Close("c", 202601);
  const MonthEval jan = s.client("c").Evaluate(202601);
  CHECK(jan.overage_minutes == 60);
  CHECK(LineAmount(jan.invoice, "overage") == 200000);  // 1 h × 2 000.00
  CHECK(s.client("c").Evaluate(202602).used_minutes == 0);
}

TEST_CASE("approving an entry twice is one clear error and writes nothing", "[review][errors]") {
  Sim s = Reviewed();
  const uint64_t e = s.LogHours("c", "support", 60, "2026-01-15T12:00");
  s.Must("c", DecideReview(s.client("c"), Approve(202601, {e}), s.now_us));
  const uint64_t before = s.seq;
  const Status r = s.Commit("c", DecideReview(s.client("c"), Approve(202601, {e}), s.now_us));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(fmt::format("entry #{} is already approved", e)) !=
        std::string::npos);
  CHECK(s.seq == before);
}

TEST_CASE("rejecting an approved entry in a closed month is refused, pointing to void",
          "[review][errors]") {
  Sim s = Reviewed();
  const uint64_t e = s.LogHours("c", "support", 60, "2026-01-15T12:00");
  s.Must("c", DecideReview(s.client("c"), Approve(202601, {e}), s.now_us));
  s.Close("c", 202601);
  const uint64_t before = s.seq;
  const Status r =
      s.Commit("c", DecideReview(s.client("c"), Reject(202601, {e}, "after all no"), s.now_us));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("closed") != std::string::npos);
  CHECK(r.error().message.find("void") != std::string::npos);
  CHECK(s.seq == before);
}

TEST_CASE("a rejection needs a reason, and one bad entry in a bulk request writes nothing",
          "[review][errors]") {
  Sim s = Reviewed();
  const uint64_t a = s.LogHours("c", "support", 60, "2026-01-15T12:00");
  CHECK_FALSE(DecideReview(s.client("c"), Reject(202601, {a}, ""), s.now_us).ok());
  const uint64_t before = s.seq;
  CHECK_FALSE(
      s.Commit("c", DecideReview(s.client("c"), Approve(202601, {a, 9999}), s.now_us)).ok());
  CHECK(s.seq == before);
  CHECK(s.client("c").FindEntry(a)->review == Review::kPending);
}

TEST_CASE("approving by task takes every pending entry of that task in the month, and only those",
          "[review][bulk]") {
  Sim s = Reviewed();
  const uint64_t a = s.LogHours("c", "support", 60, "2026-01-15T12:00", "T-1");
  const uint64_t b = s.LogHours("c", "support", 30, "2026-01-16T12:00", "T-1");
  const uint64_t other = s.LogHours("c", "support", 45, "2026-01-16T12:00", "T-2");
  ReviewCmd r = Approve(202601, {});
  r.task = "T-1";
  s.Must("c", DecideReview(s.client("c"), r, s.now_us));
  CHECK(s.client("c").FindEntry(a)->review == Review::kApproved);
  CHECK(s.client("c").FindEntry(b)->review == Review::kApproved);
  CHECK(s.client("c").FindEntry(other)->review == Review::kPending);
  CHECK(s.client("c").Evaluate(202601).pending_minutes == 45);
}

TEST_CASE("approving the whole month takes every pending entry of it", "[review][bulk]") {
  Sim s = Reviewed();
  s.LogHours("c", "support", 60, "2026-01-15T12:00", "T-1");
  s.LogHours("c", "support", 30, "2026-01-16T12:00", "T-2");
  const uint64_t feb = s.LogHours("c", "support", 30, "2026-02-03T12:00", "T-2");
  ReviewCmd r = Approve(202601, {});
  r.all = true;
  s.Must("c", DecideReview(s.client("c"), r, s.now_us));
  CHECK(s.client("c").Evaluate(202601).pending_minutes == 0);
  CHECK(s.client("c").FindEntry(feb)->review == Review::kPending);  // another month
}

TEST_CASE("a plan without review_required logs work as before: nothing pending", "[review]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 12});
  const uint64_t e = s.LogHours("c", "support", 60, "2026-01-15T12:00");
  CHECK(s.client("c").FindEntry(e)->review == Review::kNone);
  CHECK(s.client("c").Evaluate(202601).pending_minutes == 0);
  CHECK_FALSE(DecideReview(s.client("c"), Approve(202601, {e}), s.now_us).ok());
}

TEST_CASE(
    "1C client acceptance is listed for review as its own kind, and its figures do not change",
    "[review][acceptance]") {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "1c-start", .from_month = 202512, .term_months = 12});
  const uint64_t e = s.LogHours("c", "development", 60, "2026-01-30T12:00", "T-9");
  const std::vector<ReviewItem> items = s.client("c").ReviewItems(202601);
  REQUIRE(items.size() == 1);
  CHECK(items[0].seq == e);
  CHECK(items[0].kind == ReviewItem::Kind::kClientAcceptance);
  CHECK(s.client("c").Evaluate(202601).used_minutes ==
        0);  // acceptance draws nothing until accepted
  CHECK(s.client("c").Evaluate(202601).pending_minutes == 0);
}

TEST_CASE("review_required together with acceptance_required is refused", "[review][plan]") {
  auto r = ParsePlans(std::string(kPlan) + "", "t.toml");
  REQUIRE(r.ok());
  CHECK(r.value()[0].review_required);
  auto both = ParsePlans(R"(
[[plan]]
id = "x"
currency = "RUB"
acceptance_required = true
review_required = true
)",
                         "t.toml");
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().message.find("review_required") != std::string::npos);
}

TEST_CASE("review decisions survive replay from the stored events", "[review][replay]") {
  Sim s = Reviewed();
  const uint64_t a = s.LogHours("c", "support", 60, "2026-01-15T12:00");
  const uint64_t b = s.LogHours("c", "support", 90, "2026-01-16T12:00");
  s.LogHours("c", "support", 30, "2026-01-17T12:00");
  s.Must("c", DecideReview(s.client("c"), Approve(202601, {a}), s.now_us));
  s.Must("c", DecideReview(s.client("c"), Reject(202601, {b}, "dup"), s.now_us));
  s.Must("c", DecideClose(s.client("c"), 202601, s.now_us, true));
  ClientState fresh({.retain_entries = true});
  fresh.set_id("c");
  for (const auto& [n, bytes] : s.log["c"]) {
    capnp::FlatArrayMessageReader reader(bytes);
    fresh.Apply(n, reader.getRoot<schemas::Event>());
  }
  CHECK(fresh.problems().empty());
  CHECK(fresh.Evaluate(202601).allowance_used_minutes == 60);
  CHECK(fresh.Evaluate(202602).pending_minutes == 30);
}

// ---- The client's review rule (`contract start --review required|off`), docs/plan-format.md.

namespace {
// The same plan without review.
constexpr const char* kPlainPlan = R"(
[[plan]]
id = "plain"
currency = "RUB"
fee_minor = 2000000
included_minutes = 600
overage_rate_minor = 200000

[[plan.kinds]]
id = "support"
unit = "hour"
)";

Sim WithRule(const char* toml, const std::string& plan, ContractTerms::ReviewRule rule) {
  Sim s;
  s.DefineToml(toml);
  s.AddClient("c", "RUB");
  StartContract c{.plan_id = plan, .from_month = 202601, .term_months = 12};
  c.review = rule;
  s.Start("c", c);
  return s;
}
}  // namespace

TEST_CASE("a client with review required has pending work on a plan without review",
          "[review][client-rule]") {
  Sim s = WithRule(kPlainPlan, "plain", ContractTerms::ReviewRule::kRequired);
  const uint64_t e = s.LogHours("c", "support", 120, "2026-01-15T12:00");
  CHECK(s.client("c").FindEntry(e)->review == Review::kPending);
  CHECK(s.client("c").Evaluate(202601).pending_minutes == 120);
  CHECK_FALSE(DecideClose(s.client("c"), 202601, s.now_us).ok());  // pending work: refused
}

TEST_CASE("a client with review off bills at once on a plan that requires review",
          "[review][client-rule]") {
  Sim s = WithRule(kPlan, "rev", ContractTerms::ReviewRule::kOff);
  const uint64_t e = s.LogHours("c", "support", 120, "2026-01-15T12:00");
  CHECK(s.client("c").FindEntry(e)->review == Review::kNone);
  CHECK(s.client("c").Evaluate(202601).pending_minutes == 0);
}

TEST_CASE("without a client rule the plan's review_required decides", "[review][client-rule]") {
  Sim s = WithRule(kPlainPlan, "plain", ContractTerms::ReviewRule::kPlan);
  CHECK(s.client("c").FindEntry(s.LogHours("c", "support", 60, "2026-01-15T12:00"))->review ==
        Review::kNone);
  Sim r = WithRule(kPlan, "rev", ContractTerms::ReviewRule::kPlan);
  CHECK(r.client("c").FindEntry(r.LogHours("c", "support", 60, "2026-01-15T12:00"))->review ==
        Review::kPending);
}

TEST_CASE("review required is refused on a plan billed on the client's acceptance",
          "[review][client-rule]") {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c", "RUB");
  StartContract c{.plan_id = "1c-start", .from_month = 202601, .term_months = 12};
  c.review = ContractTerms::ReviewRule::kRequired;
  const Result<Decision> d = DecideContractStart(s.client("c"), s.catalog, c, s.now_us);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("acceptance") != std::string::npos);
}
