// SLA waits (incident wait / resume) and escalation (projections/sla.cc, docs/sla.md
// "Waiting" and "Escalation"). Every figure is worked out by hand in the comments.
// Calendar (Europe/Moscow, UTC+3, no DST): February 2026 has Mon 2, Tue 3, Wed 4, Thu 5,
// Fri 6, Sat 7, Sun 8, Mon 9. The plan below serves Mon-Fri 09:00-18:00 (540 minutes a day).
#include "projections/sla.h"

#include "sim.h"

namespace hourbank::testing {
namespace {

constexpr const char* kClient = "c";

constexpr const char* kWaitPlan = R"(
[[plan]]
id = "sla-wait"
name = "SLA with waits"
currency = "RUB"
fee_minor = 100000

[plan.sla.service_hours]
timezone = "Europe/Moscow"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-18:00"

[[plan.sla.targets]]
priority = 1
reaction_minutes = 60
resolution_minutes = 600

[[plan.sla.targets]]
priority = 3
reaction_minutes = 250
)";

Sim WaitClient() {
  Sim s;
  s.DefineToml(kWaitPlan);
  s.AddClient(kClient, "RUB");
  StartContract c;
  c.plan_id = "sla-wait";
  c.from_month = 202602;
  s.Start(kClient, c);
  return s;
}

Result<Decision> Try(Sim& s, IncidentAction action, const std::string& id, const std::string& at,
                     uint8_t priority = 0, const std::string& text = "") {
  return DecideIncident(s.client(kClient), action, id, priority, text, s.At(kClient, at), s.now_us);
}
void Do(Sim& s, IncidentAction action, const std::string& id, const std::string& at,
        uint8_t priority = 0, const std::string& text = "") {
  s.Must(kClient, Try(s, action, id, at, priority, text));
}

SlaIncident Only(Sim& s, const std::string& now_local = "") {
  const int64_t now = now_local.empty() ? s.now_us : s.At(kClient, now_local);
  const SlaReport r = ComputeSla(s.client(kClient), 202602, now);
  REQUIRE(r.incidents.size() == 1);
  return r.incidents.front();
}

TEST_CASE("a wait across an evening and a weekend pauses only service time",
          "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-05T10:00", 1);  // Thursday
  Do(s, IncidentAction::kRespond, "I1", "2026-02-05T10:30");
  Do(s, IncidentAction::kWait, "I1", "2026-02-05T17:00", 0, "logs requested");
  Do(s, IncidentAction::kResume, "I1", "2026-02-09T11:00");  // Monday
  Do(s, IncidentAction::kResolve, "I1", "2026-02-09T13:00");
  // Open Thu 10:00-17:00 = 420 before the wait.
  // Paused: Thu 17:00-18:00 = 60, Fri 09:00-18:00 = 540, Sat/Sun 0, Mon 09:00-11:00 = 120
  //   -> 720 service minutes.
  // Resolution: 420 + Mon 11:00-13:00 120 = 540 <= 600, met. (Without the wait it would read
  //   420 + 60 + 540 + Mon 09:00-13:00 240 = 1260 > 600: breached.)
  // Deadline: 600 - 420 = 180 left at the resume, Mon 11:00 + 3 h = Mon 14:00.
  // Escalation: ceil(600 x 3/4) = 450 = 420 + 30 -> Mon 11:30.
  const SlaIncident i = Only(s);
  REQUIRE(i.waits.size() == 1);
  CHECK(i.waits[0].from_us == s.At(kClient, "2026-02-05T17:00"));
  CHECK(i.waits[0].to_us == s.At(kClient, "2026-02-09T11:00"));
  CHECK(i.waits[0].reason == "logs requested");
  CHECK(i.waits[0].paused_minutes == 720);
  CHECK(i.paused_minutes == 720);
  CHECK_FALSE(i.waiting);
  CHECK(i.resolution_minutes == 540);
  CHECK(i.resolution_target_minutes == 600);
  CHECK(i.resolution_deadline_us == s.At(kClient, "2026-02-09T14:00"));
  CHECK(i.resolution_escalation_minutes == 450);
  CHECK(i.resolution_escalation_us == s.At(kClient, "2026-02-09T11:30"));
  CHECK_FALSE(i.breached);
  CHECK_FALSE(i.escalation_due);  // resolved: no clock is running
}

TEST_CASE("the reaction clock does not stop while the incident waits", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);  // Monday, P1 reaction 60
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T09:10");
  Do(s, IncidentAction::kResume, "I1", "2026-02-02T11:00");
  Do(s, IncidentAction::kRespond, "I1", "2026-02-02T11:00");
  // Reaction 09:00-11:00 = 120 > 60: breached, the wait notwithstanding.
  // Resolution clock at now (2030) is 10 + (Mon 11:00 onwards) … far past 600: breached too;
  // the wait paused 09:10-11:00 = 110.
  const SlaIncident i = Only(s);
  CHECK(i.reaction_minutes == 120);
  CHECK(i.reaction_breached);
  CHECK(i.paused_minutes == 110);
}

TEST_CASE("a wait still running freezes the resolution clock and moves the deadline",
          "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);  // Monday
  Do(s, IncidentAction::kRespond, "I1", "2026-02-02T09:30");
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T12:00");
  // Measured Wed 4 Feb 12:00. Open Mon 09:00-12:00 = 180, then waiting:
  //   paused Mon 12:00-18:00 360 + Tue 540 + Wed 09:00-12:00 180 = 1080.
  // Deadline "if it resumed now": 600 - 180 = 420 from Wed 12:00 -> Wed 18:00 (360), Thu 09:00
  //   + 60 -> Thu 10:00. Escalation at 450: 270 from Wed 12:00 -> Wed 16:30.
  const SlaIncident i = Only(s, "2026-02-04T12:00");
  CHECK(i.waiting);
  CHECK(i.open_minutes == 180);
  CHECK(i.paused_minutes == 1080);
  REQUIRE(i.waits.size() == 1);
  CHECK(i.waits[0].to_us == 0);
  CHECK(i.resolution_deadline_us == s.At(kClient, "2026-02-05T10:00"));
  CHECK(i.resolution_escalation_us == s.At(kClient, "2026-02-04T16:30"));
  CHECK_FALSE(i.resolution_breached);
  // The clock stands still while waiting: 75 % is not reached later either.
  CHECK_FALSE(EscalationDue(i, s.At(kClient, "2026-02-04T17:00")));
  // A week later, still waiting, nothing is breached.
  const SlaIncident later = Only(s, "2026-02-11T12:00");
  CHECK(later.open_minutes == 180);
  CHECK_FALSE(later.breached);
}

TEST_CASE("a wait entirely outside service hours pauses nothing", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-06T17:00", 1);  // Friday
  Do(s, IncidentAction::kRespond, "I1", "2026-02-06T17:30");
  Do(s, IncidentAction::kWait, "I1", "2026-02-06T18:30");    // after hours
  Do(s, IncidentAction::kResume, "I1", "2026-02-09T08:45");  // Monday, before 09:00
  Do(s, IncidentAction::kResolve, "I1", "2026-02-09T10:00");
  // Fri 17:00-18:00 = 60 + Mon 09:00-10:00 = 60 -> 120, as without the wait; paused 0.
  const SlaIncident i = Only(s);
  CHECK(i.paused_minutes == 0);
  CHECK(i.resolution_minutes == 120);
}

TEST_CASE("resolving while waiting ends the wait and a reopen runs the clock again",
          "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kRespond, "I1", "2026-02-02T09:30");
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T10:00");
  Do(s, IncidentAction::kResolve, "I1", "2026-02-02T15:00");
  CHECK_FALSE(s.client(kClient).incidents().at("I1").waiting());
  Do(s, IncidentAction::kReopen, "I1", "2026-02-03T09:00");
  Do(s, IncidentAction::kResolve, "I1", "2026-02-03T11:00");
  // Open 09:00-10:00 = 60, waiting 10:00-15:00 (paused 300, the wait ends at the resolution),
  // reopened Tue 09:00-11:00 = 120 -> resolution 180.
  const SlaIncident i = Only(s);
  REQUIRE(i.waits.size() == 1);
  CHECK(i.waits[0].to_us == s.At(kClient, "2026-02-02T15:00"));
  CHECK(i.paused_minutes == 300);
  CHECK(i.resolution_minutes == 180);
}

TEST_CASE("two waits are both subtracted", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kRespond, "I1", "2026-02-02T09:30");
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T10:00");
  Do(s, IncidentAction::kResume, "I1", "2026-02-02T11:00");
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T12:00");
  Do(s, IncidentAction::kResume, "I1", "2026-02-03T12:00");
  Do(s, IncidentAction::kResolve, "I1", "2026-02-03T13:00");
  // Running: 09-10 60 + 11-12 60 + Tue 12-13 60 = 180. Paused: 60 + (Mon 12-18 360 + Tue
  // 09-12 180 = 540) = 600.
  const SlaIncident i = Only(s);
  CHECK(i.waits.size() == 2);
  CHECK(i.paused_minutes == 600);
  CHECK(i.resolution_minutes == 180);
}

TEST_CASE("escalation is due once three quarters of the reaction target have run",
          "[projections][sla][escalation]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 3);  // P3: reaction 250, no resolution
  // ceil(250 x 3/4) = ceil(187.5) = 188 minutes -> Mon 12:08.
  const SlaIncident i = Only(s, "2026-02-02T10:00");
  CHECK(i.reaction_escalation_minutes == 188);
  CHECK(i.reaction_escalation_us == s.At(kClient, "2026-02-02T12:08"));
  CHECK(i.resolution_escalation_us == 0);  // P3 has no resolution target
  CHECK_FALSE(i.escalation_due);
  CHECK_FALSE(EscalationDue(i, s.At(kClient, "2026-02-02T12:07")));
  CHECK(EscalationDue(i, s.At(kClient, "2026-02-02T12:08")));
  CHECK(Only(s, "2026-02-02T12:08").escalation_due);
  Do(s, IncidentAction::kRespond, "I1", "2026-02-02T12:30");
  CHECK_FALSE(Only(s, "2026-02-02T12:31").escalation_due);  // answered: the clock stopped
}

TEST_CASE("resolution escalation follows the open intervals", "[projections][sla][escalation]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kRespond, "I1", "2026-02-02T09:30");
  // 450 of 600: Mon 09:00-18:00 = 540 would pass it, so Mon 09:00 + 7 h 30 = 16:30.
  const SlaIncident i = Only(s, "2026-02-02T16:29");
  CHECK(i.resolution_escalation_us == s.At(kClient, "2026-02-02T16:30"));
  CHECK_FALSE(i.escalation_due);
  CHECK(Only(s, "2026-02-02T16:30").escalation_due);
}

TEST_CASE("a wait on a resolved incident is refused", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kResolve, "I1", "2026-02-02T10:00");
  const Result<Decision> d = Try(s, IncidentAction::kWait, "I1", "2026-02-02T11:00");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("is resolved") != std::string::npos);
}

TEST_CASE("a wait while waiting is refused", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T10:00");
  const Result<Decision> d = Try(s, IncidentAction::kWait, "I1", "2026-02-02T11:00");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("already waiting") != std::string::npos);
}

TEST_CASE("a resume when not waiting is refused", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  const Result<Decision> d = Try(s, IncidentAction::kResume, "I1", "2026-02-02T11:00");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("is not waiting") != std::string::npos);
}

TEST_CASE("a resume dated before the wait is refused", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T10:00");
  const Result<Decision> d = Try(s, IncidentAction::kResume, "I1", "2026-02-02T09:59");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("before the wait began") != std::string::npos);
}

TEST_CASE("a wait dated before the incident's last event is refused", "[projections][sla][wait]") {
  Sim s = WaitClient();
  Do(s, IncidentAction::kOpen, "I1", "2026-02-02T09:00", 1);
  Do(s, IncidentAction::kWait, "I1", "2026-02-02T10:00");
  Do(s, IncidentAction::kResume, "I1", "2026-02-02T11:00");
  const Result<Decision> d = Try(s, IncidentAction::kWait, "I1", "2026-02-02T10:30");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("before the incident's last event") != std::string::npos);
}

}  // namespace
}  // namespace hourbank::testing
