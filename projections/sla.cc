// SLA projection (projections/sla.h). The rules, with examples, are in docs/sla.md.
//
// Two clocks run per incident, both in whole service minutes of the SLA calendar:
//   reaction clock    R(t) = service minutes from opening to t (never paused);
//   resolution clock  S(t) = service minutes the incident spent open up to t, summing the
//                     intervals opened -> resolved, reopened -> resolved again, …, minus
//                     the waits on the customer (incident wait -> resume).
// Each priority the incident held is held to its own target for as long as it held it: the
// limit is (the clock's reading when the incident took that priority) + (its target), and the
// incident breaches when the clock passes a limit while that priority is in effect. The
// measuring instant is the response / the final resolution, or now while still pending.
#include "projections/sla.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <utility>

#include "projections/units.h"

namespace hourbank::projections {
namespace {

// Priorities are 1 … 4; a plan lists at most one target per priority.
const SlaTarget* TargetFor(const Sla& sla, uint8_t priority) {
  for (const SlaTarget& t : sla.targets)
    if (t.priority == priority) return &t;
  return nullptr;
}

// The priority the incident was opened with. The Incident fold (state.h) keeps only the
// latest priority and the list of changes, so once the priority has changed the opening one
// is lost; this picks up an `opened_priority` member as soon as the fold records one, and
// until then reports "unknown" for changed incidents (see docs/sla.md, "Known gaps").
template <typename I>
std::optional<uint8_t> OpenedPriority(const I& inc) {
  if constexpr (requires { inc.opened_priority; }) {
    return static_cast<uint8_t>(inc.opened_priority);
  } else {
    if (inc.priority_changes.empty()) return inc.priority;
    return std::nullopt;
  }
}

// A priority the incident held from `since_us` on.
struct Held {
  int64_t since_us = 0;
  uint8_t priority = 1;
};

// One interval during which the incident was open: [from_us, to_us); to_us == 0 = still open.
struct OpenInterval {
  int64_t from_us = 0;
  int64_t to_us = 0;
};

class Clocks {
 public:
  Clocks(const Calendar& calendar, const Zone& zone, int64_t opened_us,
         std::vector<OpenInterval> intervals)
      : calendar_(calendar), zone_(zone), opened_us_(opened_us), intervals_(std::move(intervals)) {
    assert(!intervals_.empty());
  }

  int64_t Reaction(int64_t t_us) const { return Service(opened_us_, t_us); }

  int64_t Resolution(int64_t t_us) const {
    int64_t sum = 0;
    for (const OpenInterval& i : intervals_) {  // bounded: one interval per reopen
      if (i.from_us >= t_us) break;
      const int64_t end_us = i.to_us == 0 ? t_us : std::min(i.to_us, t_us);
      sum += Service(i.from_us, end_us);
    }
    return sum;
  }

  // First instant at which the reaction clock reaches `limit` minutes.
  int64_t ReactionDeadline(int64_t limit_minutes) const {
    return AddServiceMinutes(calendar_, zone_, opened_us_, limit_minutes);
  }

  // First instant at which the resolution clock reaches `limit` minutes, following the
  // recorded open intervals; if the incident was resolved before that, the last interval is
  // taken as continuing (the instant the budget would have run out).
  int64_t ResolutionDeadline(int64_t limit_minutes) const {
    int64_t used = 0;
    for (size_t k = 0; k < intervals_.size(); ++k) {
      const OpenInterval& i = intervals_[k];
      const int64_t at_us = AddServiceMinutes(calendar_, zone_, i.from_us, limit_minutes - used);
      const bool last = k + 1 == intervals_.size();
      if (last || i.to_us == 0 || at_us <= i.to_us) return at_us;
      used += Service(i.from_us, i.to_us);
    }
    assert(false && "intervals_ is never empty");
    return opened_us_;
  }

  // A target converted to service minutes for a priority taken at `since_us`: minutes as
  // given, or working days up to AddWorkingDays(since, N) in service minutes. 0 = no target.
  int64_t ResolutionTarget(const SlaTarget& t, int64_t since_us) const {
    if (t.resolution_minutes > 0) return t.resolution_minutes;
    if (t.resolution_working_days > 0)
      return Service(since_us,
                     AddWorkingDays(calendar_, zone_, since_us, t.resolution_working_days));
    return 0;
  }

 private:
  int64_t Service(int64_t from_us, int64_t to_us) const {
    return ServiceMinutesBetween(calendar_, zone_, from_us, to_us);
  }

  const Calendar& calendar_;
  const Zone& zone_;
  int64_t opened_us_;
  std::vector<OpenInterval> intervals_;
};

// The open intervals from the events recorded up to now_us. The fold keeps reopen and resolve
// times in seq order; DecideIncident only accepts a resolve after the last event and a reopen
// after the resolution, so merged by time they alternate. Sorting keeps this right for
// replayed streams that were written differently; unmatched events are skipped.
std::vector<OpenInterval> IntervalsOf(const Incident& inc, int64_t now_us) {
  std::vector<std::pair<int64_t, bool>> marks;  // (at, is_reopen)
  for (int64_t at : inc.resolved_history_us)
    if (at <= now_us) marks.emplace_back(at, false);
  for (int64_t at : inc.reopened_us)
    if (at <= now_us) marks.emplace_back(at, true);
  std::stable_sort(marks.begin(), marks.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<OpenInterval> out{{inc.opened_us, 0}};
  for (const auto& [at, reopen] : marks) {  // bounded by the number of events
    const bool open = out.back().to_us == 0;
    if (reopen && !open)
      out.push_back({at, 0});
    else if (!reopen && open)
      out.back().to_us = std::max(at, out.back().from_us);
  }
  return out;
}

// The stretches during which the resolution clock runs: the open intervals minus the waits
// recorded up to now_us (a wait running at now_us, or ending after it, is taken as running).
// The fold keeps waits in time order (DecideIncident only accepts a wait after the last event).
// Each open interval yields at least one stretch starting where it starts (possibly empty),
// so the first stretch starts at the opening. Bounded by intervals × waits.
std::vector<OpenInterval> RunningIntervals(const std::vector<OpenInterval>& open,
                                           const std::vector<IncidentWait>& waits, int64_t now_us) {
  std::vector<OpenInterval> out;
  for (const OpenInterval& i : open) {
    int64_t cur = i.from_us;
    bool stopped = false;  // a wait without an end (before now) ran to the interval's end
    for (const IncidentWait& w : waits) {
      if (w.from_us > now_us || stopped) continue;
      const int64_t w_to = (w.to_us == 0 || w.to_us > now_us) ? 0 : w.to_us;
      if (w_to != 0 && w_to <= cur) continue;              // ended before this stretch
      if (i.to_us != 0 && w.from_us >= i.to_us) continue;  // begins after this interval
      const int64_t w_from = std::max(w.from_us, cur);
      out.push_back({cur, w_from});
      if (w_to == 0 || (i.to_us != 0 && w_to >= i.to_us)) {
        stopped = true;
      } else {
        cur = w_to;
      }
    }
    if (!stopped) out.push_back({cur, i.to_us});  // not stopped: cur < i.to_us, or still open
  }
  return out;
}

// The verdict on one clock. Each priority is held to its own target for as long as the
// incident held it, counted from when it took that priority: priority k, taken at s_k and held
// until s_k+1 (or the measuring instant), has the limit clock(s_k) + target_k and breaches
// when clock(min(s_k+1, measured)) > limit. `limit` is the first breached limit, else the
// limit of the priority in effect at the measuring instant (0 when it has no target).
struct Verdict {
  int64_t limit_minutes = 0;
  int64_t escalation_minutes = 0;  // clock(s_k) + ceil(3/4 × target_k) for the reported limit
  bool breached = false;
};

// 75 % of a target, rounded up to a whole minute: escalation is due once that much has run.
int64_t ThreeQuarters(int64_t target_minutes) { return (3 * target_minutes + 3) / 4; }

// `target_of(held)` gives that priority's target in minutes (0 = none); `clock(t)` the
// clock's reading at t. `held` is in time order.
template <typename TargetFn, typename ClockFn>
Verdict Judge(const std::vector<Held>& held, int64_t measured_us, TargetFn target_of,
              ClockFn clock) {
  Verdict v;
  for (size_t k = 0; k < held.size(); ++k) {  // bounded: one per priority change
    const Held& h = held[k];
    if (h.since_us > measured_us) break;
    const bool superseded = k + 1 < held.size() && held[k + 1].since_us <= measured_us;
    const int64_t until_us = superseded ? held[k + 1].since_us : measured_us;
    const int64_t target = target_of(h);
    const int64_t base = target > 0 ? clock(h.since_us) : 0;
    const int64_t limit = target > 0 ? base + target : 0;
    if (v.breached) continue;  // keep the first breach
    v.limit_minutes = limit;
    v.escalation_minutes = target > 0 ? base + ThreeQuarters(target) : 0;
    if (limit > 0 && clock(until_us) > limit) v.breached = true;
  }
  return v;
}

// The stretches the resolution clock runs (RunningIntervals); while the incident is open and
// waiting at now_us, a stretch from now_us on is added so that deadlines read "if it resumed
// now" (the clock's readings up to now_us are unchanged by it).
std::vector<OpenInterval> Running(const Incident& inc, const std::vector<OpenInterval>& open,
                                  bool still_open, int64_t now_us) {
  std::vector<OpenInterval> running = RunningIntervals(open, inc.waits, now_us);
  const bool waiting_now = still_open && !running.empty() && running.back().to_us != 0;
  if (waiting_now) running.push_back({now_us, 0});
  return running;
}

// The waits recorded up to now_us, each with the service minutes it paused (up to
// `measured_us`: the final resolution, or now).
void MeasureWaits(const Incident& inc, const Calendar& calendar, const Zone& zone,
                  int64_t measured_us, SlaIncident& out) {
  for (const IncidentWait& w : inc.waits) {  // bounded: one per recorded wait
    if (w.from_us > measured_us) continue;
    SlaWait sw;
    sw.from_us = w.from_us;
    sw.to_us = (w.to_us != 0 && w.to_us <= measured_us) ? w.to_us : 0;
    sw.reason = w.reason;
    const int64_t end_us = sw.to_us != 0 ? sw.to_us : measured_us;
    sw.paused_minutes = ServiceMinutesBetween(calendar, zone, w.from_us, end_us);
    out.paused_minutes += sw.paused_minutes;
    if (sw.to_us == 0 && out.resolved_us == 0) out.waiting = true;
    out.waits.push_back(std::move(sw));
  }
}

void JudgeTargets(const Sla& sla, const std::vector<Held>& held, const Clocks& clocks,
                  int64_t reaction_at_us, int64_t resolution_at_us, SlaIncident& out);

SlaIncident Measure(const Incident& inc, const Sla* sla, const Calendar& calendar, const Zone& zone,
                    uint32_t month, const Zone& client_zone, int64_t now_us) {
  SlaIncident out;
  out.id = inc.id;
  out.opened_us = inc.opened_us;
  out.responded_us = (inc.responded_us != 0 && inc.responded_us <= now_us) ? inc.responded_us : 0;

  std::vector<OpenInterval> intervals = IntervalsOf(inc, now_us);
  out.resolved_us = intervals.back().to_us;
  out.reopened_count = static_cast<uint32_t>(intervals.size() - 1);

  // Priorities held, in time order; changes recorded after now_us have not happened yet.
  const std::optional<uint8_t> opened = OpenedPriority(inc);
  out.opened_priority = opened.value_or(0);
  std::vector<Held> held;
  if (opened) held.push_back({inc.opened_us, *opened});
  std::vector<std::pair<int64_t, uint8_t>> changes = inc.priority_changes;
  std::stable_sort(changes.begin(), changes.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [at, priority] : changes)
    if (at <= now_us) held.push_back({std::max(at, inc.opened_us), priority});

  // Reported priority: at the resolution, else at the end of the month (or now if earlier).
  const int64_t shown_us =
      out.resolved_us != 0 ? out.resolved_us : std::min(now_us, client_zone.MonthEndUs(month) - 1);
  out.priority = held.empty() ? inc.priority : held.front().priority;
  for (const Held& h : held)
    if (h.since_us <= shown_us) out.priority = h.priority;

  const Clocks clocks(calendar, zone, inc.opened_us,
                      Running(inc, intervals, out.resolved_us == 0, now_us));
  MeasureWaits(inc, calendar, zone, out.resolved_us != 0 ? out.resolved_us : now_us, out);

  // Reaction.
  const int64_t reaction_at_us = out.responded_us != 0 ? out.responded_us : now_us;
  const int64_t reaction_elapsed = clocks.Reaction(reaction_at_us);
  out.reaction_elapsed_minutes = reaction_elapsed;
  if (out.responded_us != 0) out.reaction_minutes = reaction_elapsed;

  // Resolution.
  const int64_t resolution_at_us = out.resolved_us != 0 ? out.resolved_us : now_us;
  out.open_minutes = clocks.Resolution(resolution_at_us);
  if (out.resolved_us != 0) out.resolution_minutes = out.open_minutes;

  if (sla == nullptr) return out;  // no targets: listed and measured, never breached
  JudgeTargets(*sla, held, clocks, reaction_at_us, resolution_at_us, out);
  out.escalation_due = EscalationDue(out, now_us);
  return out;
}

// The targets, breaches, deadlines and escalation instants of both clocks.
void JudgeTargets(const Sla& sla_ref, const std::vector<Held>& held, const Clocks& clocks,
                  int64_t reaction_at_us, int64_t resolution_at_us, SlaIncident& out) {
  const Sla* sla = &sla_ref;
  const Verdict reaction = Judge(
      held, reaction_at_us,
      [&](const Held& h) {
        const SlaTarget* t = TargetFor(*sla, h.priority);
        return t ? t->reaction_minutes : int64_t{0};
      },
      [&](int64_t t) { return clocks.Reaction(t); });
  out.reaction_target_minutes = reaction.limit_minutes;
  out.reaction_breached = reaction.breached;
  if (reaction.limit_minutes > 0) {
    out.reaction_deadline_us = clocks.ReactionDeadline(reaction.limit_minutes);
    out.reaction_escalation_minutes = reaction.escalation_minutes;
    out.reaction_escalation_us = clocks.ReactionDeadline(reaction.escalation_minutes);
  }

  const Verdict resolution = Judge(
      held, resolution_at_us,
      [&](const Held& h) {
        const SlaTarget* t = TargetFor(*sla, h.priority);
        return t ? clocks.ResolutionTarget(*t, h.since_us) : int64_t{0};
      },
      [&](int64_t t) { return clocks.Resolution(t); });
  out.resolution_target_minutes = resolution.limit_minutes;
  out.resolution_breached = resolution.breached;
  if (resolution.limit_minutes > 0) {
    out.resolution_deadline_us = clocks.ResolutionDeadline(resolution.limit_minutes);
    out.resolution_escalation_minutes = resolution.escalation_minutes;
    out.resolution_escalation_us = clocks.ResolutionDeadline(resolution.escalation_minutes);
  }
  out.breached = out.reaction_breached || out.resolution_breached;
}

}  // namespace

std::vector<SlaCredit> SlaCredits(const SlaReport& report, const Sla& sla, int64_t fee_minor) {
  std::vector<SlaCredit> out;
  const int64_t fee = std::max<int64_t>(fee_minor, 0);
  const bool capped = sla.credit_cap_percent_of_fee > 0;
  const int64_t cap = RoundDiv(fee * sla.credit_cap_percent_of_fee, 100);
  int64_t sum = 0;
  for (const SlaIncident& i : report.incidents) {  // bounded by the month's incidents
    if (!i.breached) continue;
    const SlaTarget* t = TargetFor(sla, i.priority);
    if (t == nullptr) continue;
    int64_t amount = t->credit_percent_of_fee > 0 ? RoundDiv(fee * t->credit_percent_of_fee, 100)
                                                  : t->credit_fixed_minor;
    bool cut = false;
    if (capped && sum + amount > cap) {
      amount = cap - sum;
      cut = true;
    }
    if (amount <= 0) continue;
    sum += amount;
    out.push_back({i.id, i.priority, amount, cut});
  }
  return out;
}

bool EscalationDue(const SlaIncident& incident, int64_t now_us) {
  const SlaIncident& i = incident;
  const bool reaction_due = i.responded_us == 0 && i.reaction_escalation_minutes > 0 &&
                            now_us >= i.reaction_escalation_us;
  const bool resolution_reached = i.waiting ? i.open_minutes >= i.resolution_escalation_minutes
                                            : now_us >= i.resolution_escalation_us;
  const bool resolution_due =
      i.resolved_us == 0 && i.resolution_escalation_minutes > 0 && resolution_reached;
  return reaction_due || resolution_due;
}

SlaReport ComputeSla(const ClientState& state, uint32_t month, int64_t now_us) {
  assert(ValidMonth(month));
  SlaReport report;
  report.month = month;

  const ContractTerms* terms = state.TermsFor(month);
  const PlanSpec* plan = terms ? terms->plan.get() : nullptr;
  const Sla* sla = (plan != nullptr && plan->sla.has_value()) ? &*plan->sla : nullptr;
  report.has_sla = sla != nullptr;
  if (plan != nullptr) report.plan_id = plan->id;

  // Without an SLA there is no service calendar: minutes are wall-clock minutes.
  Calendar calendar;
  calendar.always_open = true;
  calendar.timezone = state.zone().name();
  if (sla != nullptr) calendar = sla->service_hours;
  Zone zone = state.zone();
  if (Result<Zone> found = Zone::Find(calendar.timezone); found.ok()) zone = found.value();
  report.timezone = zone.name();

  for (const auto& [id, inc] : state.incidents()) {  // bounded by the client's incidents
    if (inc.opened_us > now_us) continue;            // not opened yet as of now
    if (state.zone().MonthOf(inc.opened_us) != month) continue;
    report.incidents.push_back(Measure(inc, sla, calendar, zone, month, state.zone(), now_us));
  }
  std::stable_sort(report.incidents.begin(), report.incidents.end(),
                   [](const SlaIncident& a, const SlaIncident& b) {
                     return a.opened_us != b.opened_us ? a.opened_us < b.opened_us : a.id < b.id;
                   });

  report.total = static_cast<uint32_t>(report.incidents.size());
  for (const SlaIncident& i : report.incidents) report.breached += i.breached ? 1 : 0;
  if (report.total > 0) {
    const int64_t met = int64_t{report.total} - int64_t{report.breached};
    report.compliance_basis_points = static_cast<uint32_t>(RoundDiv(met * 10000, report.total));
  }
  assert(report.breached <= report.total && report.compliance_basis_points <= 10000);
  return report;
}

}  // namespace hourbank::projections
