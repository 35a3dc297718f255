// Billing rules at their edges, each figure worked out by hand: the fractional overage amounts
// (rounded half away from zero, never truncated), the larger of two surcharge multipliers, the
// prepaid-discount threshold, the draw order of prepaid blocks. These are the rules the mutation
// runner (tools/mutate.sh) changes by one line; each case here fails under such a change.
#include "sim.h"

using namespace hourbank;
using namespace hourbank::projections;
using hourbank::testing::LineAmount;
using hourbank::testing::Sim;

namespace {

// A plan with round figures: 20 000.00 a month for 10 h, 2 000.00 an hour beyond, unused hours
// burn; urgent work counts 1.5×, off-hours work 2×.
constexpr const char* kPlan = R"(
[[plan]]
id = "r"
currency = "RUB"
fee_minor = 2000000
included_minutes = 600
rollover = "burn"
overage_rate_minor = 200000
urgent_percent = 150
off_hours_percent = 200

[[plan.kinds]]
id = "support"
unit = "hour"
)";

Sim OnPlan(const char* toml, const char* plan_id) {
  Sim s;
  s.DefineToml(toml);
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = plan_id, .from_month = 202601, .term_months = 12});
  return s;
}

void Log(Sim& s, int64_t minutes, const std::string& at, bool urgent = false,
         std::optional<bool> off_hours = false) {
  LogWork w;
  w.kind = "support";
  w.minutes = minutes;
  w.at_us = s.At("c", at);
  w.task = "T";
  w.staff = "anna";
  w.urgent = urgent;
  w.off_hours = off_hours;
  s.Must("c", DecideLog(s.client("c"), w, w.at_us + Sim::kHourUs));
}

}  // namespace

TEST_CASE("an overage of 1h01m at 2 000/h is 2 033.33, the fraction of a kopeck rounded down",
          "[rules][overage]") {
  Sim s = OnPlan(kPlan, "r");
  Log(s, 661, "2026-01-15T12:00");  // 11h01m: 10 h included, 1h01m beyond
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.overage_minutes == 61);
  // 61 min × 2 000.00 / 60 = 2 033.333… -> 2 033.33 (203 333 kopecks)
  CHECK(LineAmount(ev.invoice, "overage") == 203333);
  // fee 20 000.00 + 2 033.33 = 22 033.33
  CHECK(ev.invoice.total_minor == 2203333);
}

TEST_CASE("an overage of 1h02m at 2 000/h is 2 066.67, rounded up, not truncated to 2 066.66",
          "[rules][overage]") {
  Sim s = OnPlan(kPlan, "r");
  Log(s, 662, "2026-01-15T12:00");  // 11h02m: 1h02m beyond the 10 h
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.overage_minutes == 62);
  // 62 min × 2 000.00 / 60 = 2 066.666… -> 2 066.67 (206 667 kopecks; truncation gives 206 666)
  CHECK(LineAmount(ev.invoice, "overage") == 206667);
  CHECK(ev.invoice.total_minor == 2206667);  // 20 000.00 + 2 066.67
  s.Close("c", 202601);
  CHECK(s.client("c").InvoiceFor(202601).total_minor == 2206667);  // the close records the same
  CHECK(s.client("c").problems().empty());
}

TEST_CASE("overage minutes of one month are summed before the amount is rounded once",
          "[rules][overage]") {
  Sim s = OnPlan(kPlan, "r");
  Log(s, 600, "2026-01-05T12:00");  // the 10 h included
  Log(s, 31, "2026-01-06T12:00");   // 31 min beyond
  Log(s, 31, "2026-01-07T12:00");   // 31 min beyond
  const MonthEval ev = s.client("c").Evaluate(202601);
  // One line for 62 min: 2 066.67. Rounding each entry (1 033.33 + 1 033.33) would give 2 066.66.
  CHECK(ev.overage_minutes == 62);
  CHECK(LineAmount(ev.invoice, "overage") == 206667);
}

TEST_CASE("an overage amount of exactly half a minor unit rounds away from zero",
          "[rules][overage][rounding]") {
  // 1 000.50 an hour: 3 min = 3 × 100 050 / 60 = 5 002.5 kopecks -> 5 003 (50.03), not 5 002.
  Sim s = OnPlan(R"(
[[plan]]
id = "half"
currency = "RUB"
overage_rate_minor = 100050

[[plan.kinds]]
id = "support"
unit = "hour"
)",
                 "half");
  Log(s, 3, "2026-01-15T12:00");
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.overage_minutes == 3);
  CHECK(LineAmount(ev.invoice, "overage") == 5003);
  CHECK(ev.invoice.total_minor == 5003);  // no fee
}

TEST_CASE("urgent work off hours counts the larger multiplier, not both", "[rules][multiplier]") {
  // plan-format.md: "When both apply, the larger wins." 1 h urgent (150%) and off hours (200%)
  // counts 2 h of the allowance; adding the surcharges (2.5 h) or multiplying them (3 h) is wrong.
  Sim s = OnPlan(kPlan, "r");
  Log(s, 60, "2026-01-10T23:00", /*urgent=*/true, /*off_hours=*/true);
  Log(s, 60, "2026-01-11T12:00", /*urgent=*/true);                       // 1.5 h
  Log(s, 60, "2026-01-12T03:00", /*urgent=*/false, /*off_hours=*/true);  // 2 h
  const MonthEval ev = s.client("c").Evaluate(202601);
  CHECK(ev.used_minutes == 120 + 90 + 120);
  CHECK(ev.allowance_used_minutes == 330);
  CHECK(ev.overage_minutes == 0);
}

TEST_CASE("a 7-month prepayment of KIT gets 5% off the fee and a 6-month one does not",
          "[rules][discount]") {
  // kit.toml: "При предоплате более 6 месяцев ... 5%" (min_months = 7): 25 500.00 × 0.95 =
  // 24 225.00, a discount line of −1 275.00; 6 months prepaid is not "more than 6".
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("p7", "RUB");
  s.AddClient("p6", "RUB");
  s.Start(
      "p7",
      {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 12, .prepaid_months = 7});
  s.Start(
      "p6",
      {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 12, .prepaid_months = 6});
  CHECK(LineAmount(s.client("p7").InvoiceFor(202601), "discount") == -127500);
  CHECK(s.client("p7").InvoiceFor(202601).total_minor == 2422500);
  CHECK(LineAmount(s.client("p6").InvoiceFor(202601), "discount") == 0);
  CHECK(s.client("p6").InvoiceFor(202601).total_minor == 2550000);
  // The prepaid months only: the 8th month of the 7-month prepayment pays the full fee.
  CHECK(s.client("p7").InvoiceFor(202608).total_minor == 2550000);
}

TEST_CASE("work draws the prepaid block that expires first, whatever the order they were bought in",
          "[rules][blocks]") {
  // kit-prepaid, no allowance. Block A (10 h, no expiry) bought on 2 Jan, block B (10 h,
  // expires 1 Mar) bought on 3 Jan. 4 h in January come from B, so at the February close B has
  // 6 h left and expires them at its expiry month's end; A keeps all 10 h.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "kit-prepaid", .from_month = 202601});
  s.Must("c", DecideBuyHours(
                  s.client("c"),
                  {.minutes = 600, .price_minor = 2550000, .at_us = s.At("c", "2026-01-02T10:00")},
                  s.now_us));
  const uint64_t a = s.seq;
  s.Must("c", DecideBuyHours(s.client("c"),
                             {.minutes = 600,
                              .price_minor = 2550000,
                              .expires_at_us = s.At("c", "2026-03-01T00:00"),
                              .at_us = s.At("c", "2026-01-03T10:00")},
                             s.now_us));
  const uint64_t b = s.seq;
  Log(s, 240, "2026-01-15T12:00");
  const MonthEval jan = s.client("c").Evaluate(202601);
  CHECK(jan.block_used_minutes == 240);
  int64_t a_left = -1, b_left = -1;
  for (const Block& blk : jan.blocks_end) {
    if (blk.seq == a) a_left = blk.left_minutes;
    if (blk.seq == b) b_left = blk.left_minutes;
  }
  CHECK(a_left == 600);
  CHECK(b_left == 360);
  s.Close("c", 202601);
  s.Close("c", 202602);
  // B expires in February (its last instant is 1 Mar 00:00): 6 h expire, A untouched.
  const MonthEval feb = s.client("c").Evaluate(202602);
  CHECK(feb.expired_block_minutes == 360);
  CHECK(feb.blocks_end_minutes() == 600);
}
