// SLA projection: reaction and resolution times of a client's incidents, in service minutes
// of the plan's SLA calendar, with the breaches and the month's compliance (docs/sla.md).
//
// Pure: reads a ClientState (its Incident fold and its contract terms) and a clock reading;
// no I/O, no floating point. Thread-safe as far as the ClientState is not being mutated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "projections/state.h"

namespace hourbank::projections {

// One incident as the SLA sees it. Times are UTC µs; minutes are whole service minutes (only
// time inside the SLA calendar's open hours counts, holidays excluded). Targets are limits on
// the clocks: each priority the incident held is held to its own target counted from when it
// took that priority; the reported target is the first breached limit, else the limit of the
// priority in effect at the response / resolution / now (docs/sla.md). A clock breaches when
// it reads more than the limit.
// A wait on the customer (`incident wait` … `resume`) as the SLA sees it: the resolution clock
// stood still; paused_minutes are the service minutes it did not count.
struct SlaWait {
  int64_t from_us = 0;
  int64_t to_us = 0;  // 0 = still waiting at now
  std::string reason;
  int64_t paused_minutes = 0;  // service minutes from from_us to to_us (or the measuring instant)
};

struct SlaIncident {
  std::string id;
  uint8_t priority = 1;  // priority at the end of the month / at resolution
  int64_t opened_us = 0;
  int64_t responded_us = 0;       // 0 = no response yet
  int64_t resolved_us = 0;        // 0 = open (never resolved, or reopened since)
  int64_t reaction_minutes = -1;  // service minutes opened -> first response; -1 when not responded
                                  // yet (then measured to now for breach)
  int64_t resolution_minutes =
      -1;  // service minutes while open (reopen intervals summed); -1 when unresolved
  int64_t reaction_target_minutes = 0;    // 0 = no target
  int64_t resolution_target_minutes = 0;  // 0 = none; working-day targets converted per incident
  bool reaction_breached = false, resolution_breached = false, breached = false;
  // Added fields.
  uint8_t opened_priority = 1;  // priority the incident was opened with; 0 = unknown (docs/sla.md)
  int64_t reaction_deadline_us = 0;  // first instant the reaction target is used up; 0 = no target
  int64_t resolution_deadline_us =
      0;  // first instant the resolution target is used up (following the
          // open intervals; the last one taken as continuing); 0 = no target
  int64_t reaction_elapsed_minutes =
      0;  // reaction clock at the response, or at now while unresponded
  int64_t open_minutes =
      0;  // resolution clock: service minutes open up to the resolution, or now while open
  uint32_t reopened_count = 0;  // reopens recorded up to now_us
  // Waiting on the customer (docs/sla.md, "Waiting"): the resolution clock stops.
  std::vector<SlaWait> waits;  // recorded up to now_us, in time order
  int64_t paused_minutes = 0;  // sum of the waits' paused_minutes
  bool waiting = false;        // a wait still running at now_us
  // Escalation (docs/sla.md, "Escalation"): the clock reading at which 75 % of the reported
  // target has elapsed (that priority's start + ceil(3/4 × its target)), and the first instant
  // the clock reaches it (for a waiting incident: as if it resumed at now). 0 = no target.
  int64_t reaction_escalation_minutes = 0, resolution_escalation_minutes = 0;
  int64_t reaction_escalation_us = 0, resolution_escalation_us = 0;
  bool escalation_due = false;  // EscalationDue(*this, now_us) at the report's now
};

struct SlaReport {
  uint32_t month = 0;    // YYYYMM
  bool has_sla = false;  // false when the plan carries no SLA (or no contract in the month)
  std::vector<SlaIncident> incidents;  // incidents OPENED in the month (client zone), by open time
  uint32_t total = 0, breached = 0;
  uint32_t compliance_basis_points =
      10000;  // (total - breached) * 10000 / total, rounded half up; 10000 when total == 0
  // Added fields.
  std::string plan_id;   // plan whose SLA was applied ("" when none)
  std::string timezone;  // zone of the SLA calendar used for service time
};

// The SLA report for `month` (YYYYMM): every incident opened in that month (month taken in
// the client's zone), measured against the SLA of the plan in force in that month
// (state.TermsFor(month)). Events after now_us are ignored (a response or resolution dated
// later than now_us counts as not yet happened). An incident without a target for its
// priority counts in `total` but can never breach. When there is no contract in the month or
// its plan has no [plan.sla], has_sla is false and the incidents are still listed, measured
// in wall-clock minutes, with no targets and nothing breached. Never fails: an SLA calendar
// zone that does not resolve falls back to the client's zone.
// Precondition: ValidMonth(month).
SlaReport ComputeSla(const ClientState& state, uint32_t month, int64_t now_us);

// One breach credit (docs/sla.md, "Breach credits"): a breached incident of a priority whose
// target carries a credit rule. amount_minor > 0; the invoice line is its negative.
struct SlaCredit {
  std::string incident_id;
  uint8_t priority = 1;
  int64_t amount_minor = 0;
  bool capped = false;  // reduced to what the monthly cap left
};

// The credits of the breached incidents of `report` (in its order: by opening) under `sla`'s
// rules: per incident, the rule of its reported priority — RoundDiv(fee × percent, 100) or
// the fixed amount; then, when the plan sets a cap, the running sum is held to
// RoundDiv(fee × cap, 100) (the credit that crosses it is reduced, later ones dropped).
// `fee_minor` is the month's fee after discounts (0 in a trial month). Zero credits are left
// out. Pure.
std::vector<SlaCredit> SlaCredits(const SlaReport& report, const Sla& sla, int64_t fee_minor);

// True when 75 % of a target has elapsed on a clock that is still running: no response yet
// and now_us ≥ reaction_escalation_us, or not resolved and the resolution clock has reached
// resolution_escalation_minutes (by now_us; a waiting incident's clock stands still, so only
// the reading already reached counts). `incident` comes from ComputeSla at an instant ≤ now_us
// with no events recorded in between. A clock already breached is also due. Pure.
bool EscalationDue(const SlaIncident& incident, int64_t now_us);

}  // namespace hourbank::projections
