// SLA projection (projections/sla.cc): service-time reaction and resolution, priority changes,
// reopened incidents, holidays, breaches while pending, compliance. Every figure is worked out
// by hand in the comments. Calendar of the test months (Europe/Moscow, UTC+3, no DST):
//   January 2026: Thu 1, Fri 2, Sat 3, Sun 4, Mon 5, Mon 12, Fri 16, Mon 19, Fri 23, Sat 31.
//   The bpmonline plans use the ru production calendar: 1–11 January 2026 are rest days.
//   February 2026: Sun 1, Mon 2, Fri 20, Mon 23 (holiday in the inline plan), Tue 24, Wed 25.
#include "projections/sla.h"

#include "sim.h"

namespace hourbank::testing {
namespace {

constexpr const char* kClient = "c";

StartContract Contract(const std::string& plan_id, uint32_t from_month, uint32_t term_months) {
  StartContract c;
  c.plan_id = plan_id;
  c.from_month = from_month;
  c.term_months = term_months;
  return c;
}

// A client on `plan_id` from January 2026 (bpmonline plans need a one-year term).
Sim BpmClient(const std::string& plan_id) {
  Sim s;
  s.DefineExample("bpmonline.toml");
  s.AddClient(kClient, "RUB");
  s.Start(kClient, Contract(plan_id, 202601, 12));
  return s;
}

void Incident(Sim& s, IncidentAction action, const std::string& id, const std::string& at,
              uint8_t priority = 0) {
  s.Must(kClient, DecideIncident(s.client(kClient), action, id, priority, "title",
                                 s.At(kClient, at), s.now_us));
}
void Open(Sim& s, const std::string& id, uint8_t priority, const std::string& at) {
  Incident(s, IncidentAction::kOpen, id, at, priority);
}
void Respond(Sim& s, const std::string& id, const std::string& at) {
  Incident(s, IncidentAction::kRespond, id, at);
}
void Resolve(Sim& s, const std::string& id, const std::string& at) {
  Incident(s, IncidentAction::kResolve, id, at);
}
void Reopen(Sim& s, const std::string& id, const std::string& at) {
  Incident(s, IncidentAction::kReopen, id, at);
}
void Reprioritize(Sim& s, const std::string& id, uint8_t priority, const std::string& at) {
  Incident(s, IncidentAction::kReprioritize, id, at, priority);
}

SlaReport Report(Sim& s, uint32_t month) { return ComputeSla(s.client(kClient), month, s.now_us); }

const SlaIncident& Find(const SlaReport& r, const std::string& id) {
  for (const SlaIncident& i : r.incidents)
    if (i.id == id) return i;
  FAIL("incident " << id << " is not in the report");
  return r.incidents.front();
}

TEST_CASE(
    "an incident opened ten minutes before Friday's close under Mon-Sat hours is due Saturday "
    "12:50",
    "[projections][sla]") {
  // bpm-business: Mon-Sat 09:00-19:00 Moscow, P1 reaction 240 min.
  Sim s = BpmClient("bpm-business");
  // (Friday 16 January: Friday 9 January 2026 is a rest day in the ru calendar.)
  Open(s, "I1", 1, "2026-01-16T18:50");  // Friday
  Respond(s, "I1", "2026-01-17T12:00");  // Saturday
  // Fri 18:50-19:00 = 10 min; Sat 09:00-12:00 = 180 min -> reaction 190 min (17h10m wall).
  // Deadline: 240 - 10 = 230 min into Saturday -> 09:00 + 3h50m = 12:50.
  const SlaReport r = Report(s, 202601);
  REQUIRE(r.has_sla);
  REQUIRE(r.total == 1);
  const SlaIncident& i = r.incidents[0];
  CHECK(i.reaction_minutes == 190);
  CHECK(i.reaction_target_minutes == 240);
  CHECK(i.reaction_deadline_us == s.At(kClient, "2026-01-17T12:50"));
  CHECK_FALSE(i.reaction_breached);
  CHECK(i.resolution_target_minutes == 0);  // Business has no resolution targets
  CHECK(i.resolution_minutes == -1);        // never resolved
  CHECK_FALSE(i.breached);
}

TEST_CASE("a Saturday-evening incident counts no service time on Sunday", "[projections][sla]") {
  // bpm-business, P2 reaction 1440 min = 2.4 service days of 600 min.
  Sim s = BpmClient("bpm-business");
  Open(s, "I1", 2, "2026-01-10T17:00");  // Saturday
  Respond(s, "I1", "2026-01-12T09:30");  // Monday
  // Sat 17:00-19:00 = 120; Sunday closed = 0; Mon 09:00-09:30 = 30 -> 150 min (40h30m wall).
  // Deadline: Sat 120 + Mon 600 + Tue 600 = 1320, + 120 on Wednesday -> Wed 14 11:00.
  const SlaIncident i = Report(s, 202601).incidents.at(0);
  CHECK(i.reaction_minutes == 150);
  CHECK(i.reaction_target_minutes == 1440);
  CHECK(i.reaction_deadline_us == s.At(kClient, "2026-01-14T11:00"));
  CHECK_FALSE(i.breached);
}

TEST_CASE("a reaction one service minute late across a weekend is a breach", "[projections][sla]") {
  // bpm-basic: Mon-Fri 10:00-18:00, P1 reaction 1440 min = 3 service days of 480 min.
  Sim s = BpmClient("bpm-basic");
  Open(s, "I1", 1, "2026-01-16T16:00");  // Friday
  Respond(s, "I1", "2026-01-21T16:01");  // Wednesday
  // Fri 120 + Mon 480 + Tue 480 + Wed 10:00-16:01 361 = 1441 > 1440.
  // Deadline: 120 + 480 + 480 = 1080, + 360 on Wednesday -> Wed 21 16:00.
  const SlaReport r = Report(s, 202601);
  const SlaIncident& i = r.incidents.at(0);
  CHECK(i.reaction_minutes == 1441);
  CHECK(i.reaction_deadline_us == s.At(kClient, "2026-01-21T16:00"));
  CHECK(i.reaction_breached);
  CHECK(i.breached);
  CHECK(r.breached == 1);
  CHECK(r.compliance_basis_points == 0);
}

TEST_CASE("a 24x7 plan counts every minute, nights and Sundays included", "[projections][sla]") {
  // bpm-premium: 24x7, P1 reaction 60 min, resolution 720 min.
  Sim s = BpmClient("bpm-premium");
  Open(s, "I1", 1, "2026-01-10T23:30");  // Saturday night
  Respond(s, "I1", "2026-01-11T00:20");  // Sunday
  Resolve(s, "I1", "2026-01-11T13:00");
  // Reaction 23:30 -> 00:20 = 50 min <= 60. Resolution 23:30 -> 13:00 = 13h30m = 810 > 720;
  // deadline 23:30 + 12h = Sun 11:30.
  const SlaIncident i = Report(s, 202601).incidents.at(0);
  CHECK(i.reaction_minutes == 50);
  CHECK_FALSE(i.reaction_breached);
  CHECK(i.resolution_minutes == 810);
  CHECK(i.resolution_target_minutes == 720);
  CHECK(i.resolution_deadline_us == s.At(kClient, "2026-01-11T11:30"));
  CHECK(i.resolution_breached);
  CHECK(i.breached);
}

TEST_CASE("a working-day resolution target ends at midnight of the Nth day on a 24x7 plan",
          "[projections][sla]") {
  // bpm-premium P2: resolution 3 working days. 24x7, but working days are Monday–Friday minus
  // the ru calendar's holidays; 13–15 January 2026 are ordinary working days.
  Sim s = BpmClient("bpm-premium");
  Open(s, "ON", 2, "2026-01-12T14:00");  // Monday
  Open(s, "LATE", 2, "2026-01-12T14:00");
  Respond(s, "ON", "2026-01-12T15:00");
  Respond(s, "LATE", "2026-01-12T15:00");
  Resolve(s, "ON", "2026-01-15T23:00");    // Thursday
  Resolve(s, "LATE", "2026-01-16T00:01");  // Friday, one minute after the deadline
  // AddWorkingDays(Mon 14:00, 3) = end of Thursday = Fri 16 00:00.
  // Target: Mon 14:00 -> Fri 00:00 = 10h + 3 x 24h = 82h = 4920 min.
  // ON: Mon 14:00 -> Thu 23:00 = 81h = 4860. LATE: 82h01m = 4921 > 4920.
  const SlaReport r = Report(s, 202601);
  const SlaIncident& on = Find(r, "ON");
  const SlaIncident& late = Find(r, "LATE");
  CHECK(on.resolution_target_minutes == 4920);
  CHECK(on.resolution_deadline_us == s.At(kClient, "2026-01-16T00:00"));
  CHECK(on.resolution_minutes == 4860);
  CHECK_FALSE(on.breached);
  CHECK(late.resolution_minutes == 4921);
  CHECK(late.resolution_breached);
  CHECK(late.reaction_minutes == 60);  // reaction 60 <= 240: only the resolution breached
  CHECK_FALSE(late.reaction_breached);
}

TEST_CASE("a priority raised before the first response runs the stricter target from the change",
          "[projections][sla]") {
  // bpm-business: P3 reaction 1440, P1 reaction 240; Monday 09:00-19:00 open.
  Sim s = BpmClient("bpm-business");
  Open(s, "ON", 3, "2026-01-12T09:00");
  Open(s, "LATE", 3, "2026-01-12T09:00");
  Reprioritize(s, "ON", 1, "2026-01-12T12:00");
  Reprioritize(s, "LATE", 1, "2026-01-12T12:00");
  Respond(s, "ON", "2026-01-12T15:00");
  Respond(s, "LATE", "2026-01-12T16:30");
  // P3 held 09:00-12:00: clock 0 -> 180, limit 1440, met.
  // P1 from 12:00: limit = 180 + 240 = 420 (deadline 16:00).
  // ON: 360 <= 420 (the P1 target counted from the opening would have made it 360 > 240).
  // LATE: 450 > 420.
  const SlaReport r = Report(s, 202601);
  const SlaIncident& on = Find(r, "ON");
  const SlaIncident& late = Find(r, "LATE");
  CHECK(on.priority == 1);
  CHECK(on.reaction_minutes == 360);
  CHECK(on.reaction_target_minutes == 420);
  CHECK(on.reaction_deadline_us == s.At(kClient, "2026-01-12T16:00"));
  CHECK_FALSE(on.breached);
  CHECK(late.reaction_minutes == 450);
  CHECK(late.reaction_breached);
}

TEST_CASE("lowering a P1 to P3 within 12 hours meets the P1 resolution target",
          "[projections][sla]") {
  // bpm-premium. The price list: P1 is resolved when "work is restored so that the incident's
  // priority is lowered to 3 or 4". P3's target (10 working days) runs from the change.
  Sim s = BpmClient("bpm-premium");
  Open(s, "I1", 1, "2026-01-13T00:00");  // Tuesday
  Respond(s, "I1", "2026-01-13T00:30");
  Reprioritize(s, "I1", 3, "2026-01-13T11:00");
  Resolve(s, "I1", "2026-01-14T12:00");
  // P1 00:00-11:00: 660 <= 720, met. P3 from 11:00: AddWorkingDays(Tue 13 11:00, 10) counts
  // Mon–Fri only ("10 рабочих дней"): Wed 14, Thu 15, Fri 16, Mon 19 … Fri 23, Mon 26, Tue 27
  // -> end of Tue 27 = Wed 28 00:00; 13h + 14 x 24h = 349h = 20940 min (24x7 service time);
  // limit 660 + 20940 = 21600. Resolution: Tue 00:00 -> Wed 12:00 = 36h = 2160 <= 21600.
  // (Before working days skipped weekends on 24x7 the deadline was Sat 24 00:00, 15840.)
  const SlaIncident i = Report(s, 202601).incidents.at(0);
  CHECK(i.priority == 3);
  CHECK(i.resolution_minutes == 2160);
  CHECK(i.resolution_target_minutes == 21600);
  CHECK(i.resolution_deadline_us == s.At(kClient, "2026-01-28T00:00"));
  CHECK_FALSE(i.breached);
}

// Needs the opening priority, which the Incident fold loses once the priority changes (see
// docs/sla.md "Known gaps"); passes once state.h's Incident records `opened_priority`.
TEST_CASE("a P1 lowered only after its 12 hours stays breached", "[projections][sla]") {
  Sim s = BpmClient("bpm-premium");
  Open(s, "I1", 1, "2026-01-13T00:00");
  Respond(s, "I1", "2026-01-13T00:30");
  Reprioritize(s, "I1", 3, "2026-01-13T13:00");
  Resolve(s, "I1", "2026-01-14T12:00");
  // P1 00:00-13:00: 780 > 720 -> breached; the P3 target met afterwards does not undo it.
  // Reported target: the breached limit 720, deadline Tue 12:00.
  const SlaIncident i = Report(s, 202601).incidents.at(0);
  CHECK(i.opened_priority == 1);
  CHECK(i.resolution_breached);
  CHECK(i.resolution_target_minutes == 720);
  CHECK(i.resolution_deadline_us == s.At(kClient, "2026-01-13T12:00"));
}

TEST_CASE("a reopened incident sums its open intervals and not the time it stood resolved",
          "[projections][sla]") {
  // bpm-premium P1: resolution 720 min, 24x7.
  Sim s = BpmClient("bpm-premium");
  for (const char* id : {"ON", "LATE"}) {
    Open(s, id, 1, "2026-01-13T08:00");
    Respond(s, id, "2026-01-13T08:30");
    Resolve(s, id, "2026-01-13T14:00");  // 360 min
    Reopen(s, id, "2026-01-14T09:00");
  }
  Resolve(s, "ON", "2026-01-14T15:00");    // + 360 = 720
  Resolve(s, "LATE", "2026-01-14T15:01");  // + 361 = 721
  // Wall clock 31h; open 12h. Deadline: 360 used by Tue 14:00, 360 left from Wed 09:00 -> 15:00.
  const SlaReport r = Report(s, 202601);
  const SlaIncident& on = Find(r, "ON");
  const SlaIncident& late = Find(r, "LATE");
  CHECK(on.reopened_count == 1);
  CHECK(on.resolved_us == s.At(kClient, "2026-01-14T15:00"));
  CHECK(on.resolution_minutes == 720);
  CHECK_FALSE(on.resolution_breached);
  CHECK(on.resolution_deadline_us == s.At(kClient, "2026-01-14T15:00"));
  CHECK(late.resolution_minutes == 721);
  CHECK(late.resolution_breached);
  CHECK(r.compliance_basis_points == 5000);  // 1 of 2 met
}

TEST_CASE("a reopened incident still open counts as unresolved", "[projections][sla]") {
  Sim s = BpmClient("bpm-premium");
  Open(s, "I1", 1, "2026-01-13T08:00");
  Respond(s, "I1", "2026-01-13T08:30");
  Resolve(s, "I1", "2026-01-13T14:00");  // 360 min
  Reopen(s, "I1", "2026-01-14T09:00");
  // now = Wed 14:59: open 360 + 359 = 719 <= 720; at 15:01: 721 > 720.
  s.now_us = s.At(kClient, "2026-01-14T14:59");
  const SlaIncident before = Report(s, 202601).incidents.at(0);
  CHECK(before.resolved_us == 0);
  CHECK(before.resolution_minutes == -1);
  CHECK(before.open_minutes == 719);
  CHECK_FALSE(before.breached);
  s.now_us = s.At(kClient, "2026-01-14T15:01");
  const SlaIncident after = Report(s, 202601).incidents.at(0);
  CHECK(after.open_minutes == 721);
  CHECK(after.resolution_breached);
}

constexpr const char* kHolidayPlan = R"(
[[plan]]
id = "sla-holiday"
name = "SLA with a holiday"
currency = "RUB"
fee_minor = 100000

[plan.sla.service_hours]
timezone = "Europe/Moscow"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-18:00"
holidays = [2026-02-23]

[[plan.sla.targets]]
priority = 1
reaction_minutes = 240
resolution_working_days = 2
)";

TEST_CASE("a holiday in the service calendar counts no service time and no working day",
          "[projections][sla]") {
  Sim s;
  s.DefineToml(kHolidayPlan);
  s.AddClient(kClient, "RUB");
  s.Start(kClient, Contract("sla-holiday", 202602, 0));
  Open(s, "I1", 1, "2026-02-20T16:00");  // Friday
  Respond(s, "I1", "2026-02-24T10:30");  // Tuesday, after the Monday holiday
  Resolve(s, "I1", "2026-02-25T17:00");  // Wednesday
  // Reaction: Fri 16:00-18:00 = 120; Mon 23 holiday = 0; Tue 09:00-10:30 = 90 -> 210 <= 240.
  // Reaction deadline: 120 left on Tuesday -> 11:00.
  // Resolution: 2 working days after Friday, skipping the holiday: Tue 24, Wed 25 -> Wed 18:00.
  // Target = Fri 120 + Tue 540 + Wed 540 = 1200; resolved Wed 17:00 = 120 + 540 + 480 = 1140.
  const SlaReport r = Report(s, 202602);
  REQUIRE(r.has_sla);
  const SlaIncident& i = r.incidents.at(0);
  CHECK(i.reaction_minutes == 210);
  CHECK(i.reaction_deadline_us == s.At(kClient, "2026-02-24T11:00"));
  CHECK(i.resolution_target_minutes == 1200);
  CHECK(i.resolution_deadline_us == s.At(kClient, "2026-02-25T18:00"));
  CHECK(i.resolution_minutes == 1140);
  CHECK_FALSE(i.breached);
}

TEST_CASE("compliance is the share of incidents met in basis points, rounded half up",
          "[projections][sla]") {
  // bpm-business P1 reaction 240 min; Monday 12 January opens at 09:00.
  Sim s = BpmClient("bpm-business");
  Open(s, "A", 1, "2026-01-12T09:00");
  Respond(s, "A", "2026-01-12T10:00");  // 60, met
  Open(s, "B", 1, "2026-01-12T09:00");
  Respond(s, "B", "2026-01-12T14:00");  // 300 > 240, breached
  Open(s, "C", 1, "2026-01-12T09:00");
  Respond(s, "C", "2026-01-12T13:00");  // 240, met (on the deadline)
  Open(s, "D", 1, "2026-02-02T09:00");  // February: not in January's report
  const SlaReport jan = Report(s, 202601);
  CHECK(jan.total == 3);
  CHECK(jan.breached == 1);
  CHECK(jan.compliance_basis_points == 6667);  // 2 x 10000 / 3 = 6666.67 -> 6667
  CHECK(Find(jan, "C").reaction_minutes == 240);
  CHECK_FALSE(Find(jan, "C").breached);

  // February: D unanswered; E and F breached -> 1 x 10000 / 3 = 3333.33 -> 3333.
  Respond(s, "D", "2026-02-02T10:00");
  Open(s, "E", 1, "2026-02-02T09:00");
  Respond(s, "E", "2026-02-02T13:01");  // 241
  Open(s, "F", 1, "2026-02-02T09:00");  // never answered: breached by now (2030)
  const SlaReport feb = Report(s, 202602);
  CHECK(feb.total == 3);
  CHECK(feb.breached == 2);
  CHECK(feb.compliance_basis_points == 3333);

  // A month without incidents is fully compliant.
  const SlaReport mar = Report(s, 202603);
  CHECK(mar.total == 0);
  CHECK(mar.compliance_basis_points == 10000);
}

TEST_CASE("an incident belongs to the month it was opened in, in the client's zone",
          "[projections][sla]") {
  // 2026-01-31 23:30 Moscow is 20:30 UTC on the 31st; resolved in February.
  Sim s = BpmClient("bpm-premium");
  Open(s, "I1", 1, "2026-01-31T23:30");
  Respond(s, "I1", "2026-02-01T00:10");
  Resolve(s, "I1", "2026-02-01T02:00");
  CHECK(Report(s, 202601).total == 1);
  CHECK(Report(s, 202602).total == 0);
  CHECK(Report(s, 202601).incidents.at(0).resolution_minutes == 150);  // 23:30 -> 02:00
}

TEST_CASE("a plan without an SLA reports has_sla false and never breaches", "[projections][sla]") {
  Sim s;
  s.DefineToml(R"(
[[plan]]
id = "no-sla"
name = "No SLA"
currency = "RUB"
fee_minor = 100000
)");
  s.AddClient(kClient, "RUB");
  s.Start(kClient, Contract("no-sla", 202601, 0));
  Open(s, "I1", 1, "2026-01-12T09:00");
  Respond(s, "I1", "2026-01-14T09:00");
  // Listed with wall-clock minutes: 48h = 2880; no targets.
  const SlaReport r = Report(s, 202601);
  CHECK_FALSE(r.has_sla);
  REQUIRE(r.total == 1);
  CHECK(r.incidents[0].reaction_minutes == 2880);
  CHECK(r.incidents[0].reaction_target_minutes == 0);
  CHECK_FALSE(r.incidents[0].breached);
  CHECK(r.breached == 0);
  CHECK(r.compliance_basis_points == 10000);
}

TEST_CASE("an unanswered incident breaches once a service minute passes its deadline",
          "[projections][sla]") {
  // bpm-basic P1: 1440 = 3 x 480. Opened Mon 12 10:00 -> deadline Wed 14 18:00 (close).
  Sim s = BpmClient("bpm-basic");
  Open(s, "I1", 1, "2026-01-12T10:00");
  auto at = [&](const char* now) {
    s.now_us = s.At(kClient, now);
    return Report(s, 202601).incidents.at(0);
  };
  const SlaIncident before = at("2026-01-14T17:59");
  CHECK(before.reaction_minutes == -1);
  CHECK(before.reaction_elapsed_minutes == 1439);
  CHECK(before.reaction_deadline_us == s.At(kClient, "2026-01-14T18:00"));
  CHECK_FALSE(before.breached);
  // Wed 20:00: past the deadline instant, but no service time has run since 18:00: 1440.
  CHECK_FALSE(at("2026-01-14T20:00").breached);
  // Thu 10:01: 1441 service minutes > 1440.
  const SlaIncident after = at("2026-01-15T10:01");
  CHECK(after.reaction_elapsed_minutes == 1441);
  CHECK(after.reaction_breached);
  CHECK(after.breached);
}

TEST_CASE("events recorded for a time after now have not happened yet", "[projections][sla]") {
  // bpm-premium P1 reaction 60. A response dated 10:30 is invisible at now = 10:20.
  Sim s = BpmClient("bpm-premium");
  Open(s, "I1", 1, "2026-01-13T10:00");
  Respond(s, "I1", "2026-01-13T10:30");
  s.now_us = s.At(kClient, "2026-01-13T10:20");
  const SlaIncident i = Report(s, 202601).incidents.at(0);
  CHECK(i.responded_us == 0);
  CHECK(i.reaction_minutes == -1);
  CHECK(i.reaction_elapsed_minutes == 20);
  CHECK_FALSE(i.breached);
}

TEST_CASE("the report lists incidents by open time", "[projections][sla]") {
  Sim s = BpmClient("bpm-premium");
  Open(s, "zeta", 2, "2026-01-05T08:00");
  Open(s, "alpha", 2, "2026-01-20T08:00");
  Open(s, "mid", 4, "2026-01-10T08:00");
  const SlaReport r = Report(s, 202601);
  REQUIRE(r.incidents.size() == 3);
  CHECK(r.incidents[0].id == "zeta");
  CHECK(r.incidents[1].id == "mid");
  CHECK(r.incidents[2].id == "alpha");
  CHECK(r.incidents[1].priority == 4);
}

// Issue 13, defect 9: working days are Monday–Friday minus public holidays, also on 24x7.
TEST_CASE(
    "a Premium P2 opened the Friday before a holiday Monday reaches 3 working days on Thursday "
    "night",
    "[projections][sla][calendar]") {
  // bpm-premium: 24x7 ("24x7" service hours), P2 resolution "3 рабочих дня" (3 working days).
  // Fri 8 May 2026 10:00. Sat 9 May is Victory Day on a Saturday, so Mon 11 May is a rest day
  // (Labour Code art. 112); the working days after Friday are Tue 12, Wed 13, Thu 14 May.
  // Deadline: the end of Thursday, Fri 15 May 00:00. Target: Fri 10:00 -> Fri 00:00 a week on
  // = 14h + 6 x 24h = 158h = 9480 min of 24x7 service time.
  // ON resolved Thu 14 May 12:00: 6 x 24h + 2h = 146h = 8760 <= 9480, met.
  // LATE resolved Fri 15 May 00:01: 9481 > 9480, breached.
  // Counting every day of the 24x7 calendar (the defect) gave Sat, Sun, Mon -> Tue 12 May 00:00,
  // 86h = 5160, and ON would have been breached.
  Sim s = BpmClient("bpm-premium");
  for (const char* id : {"ON", "LATE"}) {
    Open(s, id, 2, "2026-05-08T10:00");
    Respond(s, id, "2026-05-08T11:00");
  }
  Resolve(s, "ON", "2026-05-14T12:00");
  Resolve(s, "LATE", "2026-05-15T00:01");
  const SlaReport r = Report(s, 202605);
  const SlaIncident& on = Find(r, "ON");
  const SlaIncident& late = Find(r, "LATE");
  CHECK(on.resolution_target_minutes == 9480);
  CHECK(on.resolution_deadline_us == s.At(kClient, "2026-05-15T00:00"));
  CHECK(on.resolution_minutes == 8760);
  CHECK_FALSE(on.breached);
  CHECK(late.resolution_minutes == 9481);
  CHECK(late.resolution_breached);
}

TEST_CASE("bpmonline Basic service time skips public holidays", "[projections][sla][calendar]") {
  // bpm-basic: Mon–Fri 10:00–18:00 Moscow with the ru calendar; P1 reaction 24 h = 1440 service
  // minutes = 3 working days of 8 h. Opened Thu 30 Apr 2026 10:00. Fri 1 May is a holiday and
  // Mon 4 May an ordinary working day: Thu 480 + Mon 480 + Tue 480 = 1440 -> deadline Tue 5 May
  // 18:00. Responded Tue 5 May 17:00: 1380 <= 1440, met (without the calendar Friday 1 May would
  // have counted, deadline Mon 18:00, and the response breached).
  Sim s = BpmClient("bpm-basic");
  Open(s, "I1", 1, "2026-04-30T10:00");
  Respond(s, "I1", "2026-05-05T17:00");
  const SlaIncident i = Report(s, 202604).incidents.at(0);
  CHECK(i.reaction_minutes == 1380);
  CHECK(i.reaction_deadline_us == s.At(kClient, "2026-05-05T18:00"));
  CHECK_FALSE(i.reaction_breached);
}

}  // namespace
}  // namespace hourbank::testing
