// SLA breach credits at month close (projections/sla.cc SlaCredits, month_eval.cc,
// docs/sla.md "Breach credits"). The bpmonline price list names no credit rule; these plans
// are inline test plans. Every figure is worked out by hand in the comments.
// Calendar (Europe/Moscow, UTC+3): Monday 2 February 2026; service Mon-Fri 09:00-18:00.
#include "projections/sla.h"

#include "sim.h"

namespace hourbank::testing {
namespace {

constexpr const char* kClient = "c";

// fee 100 000.00 RUB; P1 breach: 20 % of the fee; P2 breach: 5 000.00; at most 30 % a month.
// "sla-plain" is the same plan without credits; "sla-timely" grants a 10 % timely discount.
constexpr const char* kPlans = R"(
[[plan]]
id = "sla-credit"
name = "SLA with credits"
currency = "RUB"
fee_minor = 10000000
timely_discount_percent = 10

[plan.sla]
credit_cap_percent_of_fee = 30

[plan.sla.service_hours]
timezone = "Europe/Moscow"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-18:00"

[[plan.sla.targets]]
priority = 1
reaction_minutes = 60
credit_percent_of_fee = 20

[[plan.sla.targets]]
priority = 2
reaction_minutes = 60
credit_fixed_minor = 500000

[[plan]]
id = "sla-plain"
name = "SLA without credits"
currency = "RUB"
fee_minor = 10000000

[plan.sla.service_hours]
timezone = "Europe/Moscow"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-18:00"

[[plan.sla.targets]]
priority = 1
reaction_minutes = 60
)";

Sim Client(const std::string& plan, bool timely = false) {
  Sim s;
  s.DefineToml(kPlans);
  s.AddClient(kClient, "RUB");
  StartContract c;
  c.plan_id = plan;
  c.from_month = 202602;
  c.timely = timely;
  s.Start(kClient, c);
  return s;
}

// An incident of `priority` opened Monday 2 February 09:00 and answered at `respond_at`
// (reaction target 60 service minutes: 10:01 or later breaches).
void Incident(Sim& s, const std::string& id, uint8_t priority, const std::string& respond_at) {
  s.Must(kClient, DecideIncident(s.client(kClient), IncidentAction::kOpen, id, priority, "t",
                                 s.At(kClient, "2026-02-02T09:00"), s.now_us));
  s.Must(kClient, DecideIncident(s.client(kClient), IncidentAction::kRespond, id, 0, "",
                                 s.At(kClient, respond_at), s.now_us));
}

std::vector<InvoiceLine> CreditLines(const Invoice& inv) {
  std::vector<InvoiceLine> out;
  for (const InvoiceLine& l : inv.lines)
    if (l.code == "sla_credit") out.push_back(l);
  return out;
}

TEST_CASE("one breach with a fixed credit takes 5000.00 off the closed invoice",
          "[projections][sla][credit]") {
  Sim s = Client("sla-credit");
  Incident(s, "I1", 2, "2026-02-02T11:00");  // 120 > 60: breached
  Incident(s, "I2", 2, "2026-02-02T09:30");  // 30: met, no credit
  s.Close(kClient, 202602);
  const Invoice inv = s.client(kClient).InvoiceFor(202602);
  const std::vector<InvoiceLine> credits = CreditLines(inv);
  REQUIRE(credits.size() == 1);
  CHECK(credits[0].amount_minor == -500000);
  CHECK(credits[0].description == "SLA breach credit, incident I1 (P2)");
  // 100 000.00 - 5 000.00 = 95 000.00
  CHECK(inv.total_minor == 9500000);
  CHECK(s.client(kClient).problems().empty());
}

TEST_CASE("two percentage credits are held to the monthly cap and a third is dropped",
          "[projections][sla][credit]") {
  Sim s = Client("sla-credit");
  Incident(s, "A", 1, "2026-02-02T12:00");
  Incident(s, "B", 1, "2026-02-02T12:00");
  Incident(s, "C", 1, "2026-02-02T12:00");
  // Each P1 breach: 20 % of 100 000.00 = 20 000.00; cap 30 % = 30 000.00.
  // A: 20 000.00; B: 30 000 - 20 000 = 10 000.00 (capped); C: nothing left, no line.
  s.Close(kClient, 202602);
  const Invoice inv = s.client(kClient).InvoiceFor(202602);
  const std::vector<InvoiceLine> credits = CreditLines(inv);
  REQUIRE(credits.size() == 2);
  CHECK(credits[0].amount_minor == -2000000);
  CHECK(credits[1].amount_minor == -1000000);
  CHECK(credits[1].description == "SLA breach credit, incident B (P1), capped at 30% of the fee");
  CHECK(inv.total_minor == 7000000);  // 100 000 - 30 000
  CHECK(s.client(kClient).problems().empty());
}

TEST_CASE("no credit when the plan sets no credit rule", "[projections][sla][credit]") {
  Sim s = Client("sla-plain");
  Incident(s, "A", 1, "2026-02-02T12:00");  // breached
  s.Close(kClient, 202602);
  const Invoice inv = s.client(kClient).InvoiceFor(202602);
  CHECK(CreditLines(inv).empty());
  CHECK(inv.total_minor == 10000000);
  CHECK(ComputeSla(s.client(kClient), 202602, s.now_us).breached == 1);
}

TEST_CASE("a percentage credit is taken of the fee after its discount",
          "[projections][sla][credit]") {
  // hourbank bills whole months (no partial-month fee), so the reduced fee is a discounted
  // one: timely -10 % -> 100 000.00 - 10 000.00 = 90 000.00. P1: 20 % of 90 000 = 18 000.00.
  Sim s = Client("sla-credit", /*timely=*/true);
  Incident(s, "A", 1, "2026-02-02T12:00");
  s.Close(kClient, 202602);
  const Invoice inv = s.client(kClient).InvoiceFor(202602);
  const std::vector<InvoiceLine> credits = CreditLines(inv);
  REQUIRE(credits.size() == 1);
  CHECK(credits[0].amount_minor == -1800000);
  CHECK(inv.total_minor == 9000000 - 1800000);
}

TEST_CASE("a close whose figures lack the credit is reported by the replay",
          "[projections][sla][credit]") {
  // Decide the close on a twin without the incident (no credit in its lines digest), then
  // apply it to the client that has the breach: the replay recomputes the month with the
  // credit and reports the mismatch, as `hourbank audit` does.
  Sim s = Client("sla-credit");
  Sim twin = Client("sla-credit");
  Incident(s, "A", 1, "2026-02-02T12:00");
  const int64_t at = s.client(kClient).zone().MonthEndUs(202602) + Sim::kHourUs;
  s.Must(kClient, DecideClose(twin.client(kClient), 202602, at));
  CHECK_FALSE(s.client(kClient).problems().empty());
  // The same close decided on the client itself replays clean.
  Sim t = Client("sla-credit");
  Incident(t, "A", 1, "2026-02-02T12:00");
  t.Must(kClient, DecideClose(t.client(kClient), 202602, at));
  CHECK(t.client(kClient).problems().empty());
}

TEST_CASE("credits follow the breaches measured at the month's last instant",
          "[projections][sla][credit]") {
  // An incident opened on Friday 27 February 17:00 and never answered: its 60 service minutes
  // are used up at Friday 18:00 exactly (on target is met); the 61st minute, the breach, is
  // Monday 2 March 09:01 — after February ends — so February's close has no credit.
  Sim s = Client("sla-credit");
  s.Must(kClient, DecideIncident(s.client(kClient), IncidentAction::kOpen, "L", 1, "t",
                                 s.At(kClient, "2026-02-27T17:00"), s.now_us));
  s.Close(kClient, 202602);
  CHECK(CreditLines(s.client(kClient).InvoiceFor(202602)).empty());
}

}  // namespace
}  // namespace hourbank::testing
