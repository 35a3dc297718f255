#include "projections/alerts.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "projections/sla.h"

namespace hourbank::projections {

using schemas::AlertKind;

namespace {

constexpr std::array<std::pair<AlertKind, const char*>, 9> kKindNames = {{
    {AlertKind::ALLOWANCE_USED, "allowance_used"},
    {AlertKind::OVERAGE_STARTED, "overage_started"},
    {AlertKind::BLOCK_EXPIRING, "block_expiring"},
    {AlertKind::BLOCK_RUN_OUT, "block_run_out"},
    {AlertKind::RESERVE_EXPIRING, "reserve_expiring"},
    {AlertKind::SLOTS_EXHAUSTED, "slots_exhausted"},
    {AlertKind::SLA_BREACHED, "sla_breached"},
    {AlertKind::CLIENT_BLOCKED, "client_blocked"},
    {AlertKind::INVOICE_OVERDUE, "invoice_overdue"},
}};

// Collects due alerts, skipping keys already raised (in the state or earlier in this pass).
class Due {
 public:
  Due(const ClientState& s, int64_t now_us) : s_(s), now_us_(now_us) {
    for (const AlertRecord& a : s.alerts()) raised_.insert(a.key);
  }
  const ClientState& state() const { return s_; }
  int64_t now_us() const { return now_us_; }
  void Add(AlertRecord a) {
    if (s_.alert_overrides().Off(a.kind)) return;  // the client turned the kind off
    a.key = AlertKey(s_.id(), a.kind, a.threshold, a.month, a.subject);
    if (raised_.insert(a.key).second) out_.push_back(std::move(a));
  }
  std::vector<AlertRecord> Take() { return std::move(out_); }

 private:
  const ClientState& s_;
  int64_t now_us_;
  std::set<std::string> raised_;
  std::vector<AlertRecord> out_;
};

AlertRecord Make(AlertKind kind, uint32_t threshold, uint32_t month, std::string subject = {}) {
  AlertRecord a;
  a.kind = kind;
  a.threshold = threshold;
  a.month = month;
  a.subject = std::move(subject);
  return a;
}

int64_t OverageMinor(const MonthEval& ev) {
  int64_t sum = 0;
  for (const InvoiceLine& l : ev.invoice.lines)
    if (l.code == "overage") sum += l.amount_minor;
  return sum;
}

// Allowance thresholds and the first overage minute of a month.
void HourAlerts(Due& due, const MonthEval& ev, const AlertRules& rules) {
  if (ev.included_minutes > 0) {
    for (uint32_t percent : rules.allowance_percent) {
      if (ev.allowance_used_minutes * 100 < int64_t(percent) * ev.included_minutes) break;
      AlertRecord a = Make(AlertKind::ALLOWANCE_USED, percent, ev.month);
      a.used_minutes = ev.allowance_used_minutes;
      a.limit_minutes = ev.included_minutes;
      a.left_minutes = std::max<int64_t>(0, ev.included_minutes - ev.allowance_used_minutes);
      due.Add(std::move(a));
    }
  }
  if (ev.overage_minutes > 0) {
    AlertRecord a = Make(AlertKind::OVERAGE_STARTED, 0, ev.month);
    a.used_minutes = ev.overage_minutes;
    a.amount_minor = OverageMinor(ev);
    due.Add(std::move(a));
  }
}

void SlotAlerts(Due& due, const MonthEval& ev) {
  for (const auto& [pool, usage] : ev.pools) {
    if (usage.quota == 0 || usage.used < usage.quota) continue;
    AlertRecord a = Make(AlertKind::SLOTS_EXHAUSTED, usage.quota, ev.month, pool);
    a.used_minutes = usage.used;  // slots, for this kind (docs/alerts.md)
    a.limit_minutes = usage.quota;
    due.Add(std::move(a));
  }
}

const Block* FindBlock(const ClientState& s, uint64_t seq) {
  for (const Block& b : s.blocks())
    if (b.seq == seq) return &b;
  return nullptr;
}

// Minutes a block drawn in the month has left at its end (before this month's expiry).
int64_t LeftAtEnd(const MonthEval& ev, uint64_t seq) {
  for (const Block& b : ev.blocks_end)
    if (b.seq == seq) return b.left_minutes;
  for (const auto& [s, minutes] : ev.expired_blocks)
    if (s == seq) return minutes;
  return 0;
}

// Blocks the month's work drew to nothing.
void BlockRunOutAlerts(Due& due, const MonthEval& ev) {
  if (due.state().blocks().empty()) return;  // no block to run out: skip the month's charges
  std::set<uint64_t> drawn;
  for (const Entry& e : due.state().EntriesFor(ev.month))
    for (const Charge& c : e.charges)
      if (c.source == Charge::Source::kBlock && c.minutes > 0) drawn.insert(c.block_seq);
  for (uint64_t seq : drawn) {
    const Block* b = FindBlock(due.state(), seq);
    if (b == nullptr || LeftAtEnd(ev, seq) > 0) continue;
    AlertRecord a = Make(AlertKind::BLOCK_RUN_OUT, 0, ev.month, std::to_string(seq));
    a.used_minutes = b->minutes;
    a.limit_minutes = b->minutes;
    a.deadline_us = b->expires_at_us;
    due.Add(std::move(a));
  }
}

// Blocks with minutes left whose expiry is within the plan's days of now.
void BlockExpiryAlerts(Due& due, const MonthEval& ev, uint32_t days) {
  if (days == 0) return;
  const Zone& zone = due.state().zone();
  for (const Block& b : due.state().blocks()) {
    if (b.month > ev.month || b.expires_at_us <= 0 || due.now_us() >= b.expires_at_us) continue;
    const int64_t left = LeftAtEnd(ev, b.seq);
    if (left <= 0 || due.now_us() < zone.AddLocalDays(b.expires_at_us, -int32_t(days))) continue;
    const uint32_t month = b.expires_month ? b.expires_month : zone.MonthOf(b.expires_at_us - 1);
    AlertRecord a = Make(AlertKind::BLOCK_EXPIRING, days, month, std::to_string(b.seq));
    a.used_minutes = b.minutes - left;
    a.limit_minutes = b.minutes;
    a.left_minutes = left;
    a.deadline_us = b.expires_at_us;
    due.Add(std::move(a));
  }
}

// The reserve left when the contract's end (that no continuing contract follows) is near.
void ReserveExpiryAlert(Due& due, const MonthEval& ev, uint32_t days) {
  const ClientState& s = due.state();
  const ContractTerms* t = s.TermsFor(ev.month);
  if (days == 0 || t == nullptr || t->last_month == 0) return;
  if (const ContractTerms* next = s.TermsFor(NextMonth(t->last_month)); next && next->continues)
    return;
  const int64_t end_us = s.zone().MonthEndUs(t->last_month);
  const int64_t left = ev.reserve_start_minutes - ev.reserve_used_minutes;
  if (left <= 0 || due.now_us() >= end_us ||
      due.now_us() < s.zone().AddLocalDays(end_us, -int32_t(days)))
    return;
  AlertRecord a = Make(AlertKind::RESERVE_EXPIRING, days, t->last_month);
  a.used_minutes = ev.reserve_used_minutes;
  a.limit_minutes = ev.reserve_start_minutes;
  a.left_minutes = left;
  a.deadline_us = end_us;
  due.Add(std::move(a));
}

// Incidents opened in the month: breached (100), or a running clock at 75 % of its target.
void SlaAlerts(Due& due, uint32_t month) {
  const SlaReport r = ComputeSla(due.state(), month, due.now_us());
  if (!r.has_sla) return;
  for (const SlaIncident& i : r.incidents) {
    const bool reaction = i.reaction_breached || (i.responded_us == 0 && !i.resolution_breached);
    AlertRecord a = Make(AlertKind::SLA_BREACHED, 100, month, i.id);
    a.used_minutes = reaction ? i.reaction_elapsed_minutes : i.open_minutes;
    a.limit_minutes = reaction ? i.reaction_target_minutes : i.resolution_target_minutes;
    a.deadline_us = reaction ? i.reaction_deadline_us : i.resolution_deadline_us;
    if (i.breached) {
      due.Add(std::move(a));
      continue;
    }
    const auto warn = [](int64_t used, int64_t target) {
      return target > 0 && used * 100 >= int64_t(kSlaWarnPercent) * target;
    };
    const bool react_warn =
        i.responded_us == 0 && warn(i.reaction_elapsed_minutes, i.reaction_target_minutes);
    const bool resolve_warn =
        i.resolved_us == 0 && warn(i.open_minutes, i.resolution_target_minutes);
    if (!react_warn && !resolve_warn) continue;
    a.threshold = kSlaWarnPercent;
    a.used_minutes = react_warn ? i.reaction_elapsed_minutes : i.open_minutes;
    a.limit_minutes = react_warn ? i.reaction_target_minutes : i.resolution_target_minutes;
    a.deadline_us = react_warn ? i.reaction_deadline_us : i.resolution_deadline_us;
    due.Add(std::move(a));
  }
}

void MonthAlerts(Due& due, uint32_t month, bool is_now_month) {
  const ClientState& s = due.state();
  if (s.IsClosed(month) || s.TermsFor(month) == nullptr) return;
  const MonthEval ev = s.Evaluate(month);
  const AlertRules rules = AlertRulesFor(s, month);
  HourAlerts(due, ev, rules);
  BlockRunOutAlerts(due, ev);
  SlotAlerts(due, ev);
  SlaAlerts(due, month);
  if (!is_now_month) return;
  BlockExpiryAlerts(due, ev, rules.block_expiry_days);
  ReserveExpiryAlert(due, ev, rules.reserve_expiry_days);
}

// Closed months whose invoice is still unpaid N days after the month's end (client's zone), N
// the month's invoice_overdue_days (else its plan's grace_days). Whatever debt_blocking says.
void InvoiceOverdueAlerts(Due& due) {
  const ClientState& s = due.state();
  const ClosedMonths& closed = s.closed_months();
  for (size_t i = 0; i < closed.size(); ++i) {
    if (!closed.has_close(i)) continue;
    const uint32_t month = closed.month(i);
    const int64_t unpaid = s.UnpaidMinor(month);
    if (unpaid <= 0) continue;
    const std::optional<uint32_t> term = AlertRulesFor(s, month).invoice_overdue_days;
    if (!term) continue;  // no payment term (PlanAlertRulesFor)
    const uint32_t days = *term;
    const int64_t due_us =
        s.zone().DayStartUs(AddDaysToDate(int32_t(NextMonth(month)) * 100 + 1, int32_t(days)));
    if (due.now_us() < due_us) continue;
    AlertRecord a = Make(AlertKind::INVOICE_OVERDUE, days, month);
    a.deadline_us = due_us;
    a.amount_minor = unpaid;
    due.Add(std::move(a));
  }
}

}  // namespace

const char* AlertKindName(AlertKind kind) {
  for (const auto& [k, name] : kKindNames)
    if (k == kind) return name;
  return "unknown";
}

std::optional<AlertKind> ParseAlertKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames)
    if (name == n) return k;
  return std::nullopt;
}

std::string AlertKey(std::string_view client_id, AlertKind kind, uint32_t threshold, uint32_t month,
                     std::string_view subject) {
  std::string key =
      fmt::format("alert:{}:{}:{}:{}", client_id, AlertKindName(kind), threshold, month);
  if (subject.empty()) return key;
  if (key.size() + 1 + subject.size() <= kAlertKeyBytesMax) return key + ":" + std::string(subject);
  return key + ":h" + ledger::HexOf(ledger::Digest(subject)).substr(0, 16);
}

AlertRules PlanAlertRulesFor(const ClientState& state, uint32_t month) {
  const ContractTerms* t = state.TermsFor(month);
  AlertRules rules = t && t->plan && t->plan->alerts ? *t->plan->alerts : AlertRules{};
  // The plan's payment term, when it has one: grace_days of a plan with a debt rule or with grace
  // days. A plan with neither states no term, and an invoice is not "overdue" the moment its
  // month closes: no invoice_overdue alert unless [plan.alerts] or the client sets the days.
  if (!rules.invoice_overdue_days && t && t->plan &&
      (t->plan->grace_days > 0 || t->plan->debt_blocking != DebtBlocking::kNone))
    rules.invoice_overdue_days = t->plan->grace_days;
  return rules;
}

AlertRules AlertRulesFor(const ClientState& state, uint32_t month) {
  AlertRules rules = PlanAlertRulesFor(state, month);
  const AlertOverrides& o = state.alert_overrides();
  if (o.allowance_percent) rules.allowance_percent = *o.allowance_percent;
  if (o.block_expiry_days) rules.block_expiry_days = *o.block_expiry_days;
  if (o.reserve_expiry_days) rules.reserve_expiry_days = *o.reserve_expiry_days;
  if (o.invoice_overdue_days) rules.invoice_overdue_days = *o.invoice_overdue_days;
  return rules;
}

std::vector<AlertRecord> DueAlerts(const ClientState& state, int64_t now_us) {
  Due due(state, now_us);
  if (!state.registered() || !state.has_contract()) return due.Take();
  const uint32_t now_month = state.zone().MonthOf(now_us);
  const uint32_t from =
      std::max(state.FirstOpenMonth(), AddMonths(now_month, -int32_t(kAlertMonthsBack)));
  InvoiceOverdueAlerts(due);  // closed months, before the open ones
  for (uint32_t m = from; m != 0 && m <= now_month; m = NextMonth(m))
    MonthAlerts(due, m, m == now_month);
  if (state.BlockedAt(now_us)) {
    AlertRecord a = Make(AlertKind::CLIENT_BLOCKED, 0, now_month);
    a.amount_minor = state.BlockingDebtMinor(now_us);
    due.Add(std::move(a));
  }
  return due.Take();
}

Decision DecideAlert(const AlertRecord& a, int64_t now_us) {
  Decision d;
  ledger::EventDraft draft;
  auto root = draft.root();
  root.setEffectiveAtUs(now_us);
  root.setIdempotencyKey(a.key);
  auto b = root.getBody().initAlertRaised();
  b.setKind(a.kind);
  b.setThreshold(a.threshold);
  b.setMonth(a.month);
  b.setSubject(a.subject);
  b.setUsedMinutes(a.used_minutes);
  b.setLimitMinutes(a.limit_minutes);
  b.setLeftMinutes(a.left_minutes);
  b.setDeadlineUs(a.deadline_us);
  b.setAmountMinor(a.amount_minor);
  d.events.push_back(std::move(draft));
  d.summary = "alert " + a.key;
  return d;
}

std::string AlertSentence(const AlertRecord& a, const Zone& zone, std::string_view currency) {
  const std::string month = FormatMonth(a.month);
  const std::string deadline = a.deadline_us ? zone.FormatIso(a.deadline_us) : std::string("-");
  switch (a.kind) {
    case AlertKind::ALLOWANCE_USED:
      return fmt::format("allowance {} % used in {}: {} of {}", a.threshold, month,
                         FormatMinutes(a.used_minutes), FormatMinutes(a.limit_minutes));
    case AlertKind::OVERAGE_STARTED:
      return fmt::format("overage started in {}: {} beyond the buckets", month,
                         FormatMinutes(a.used_minutes));
    case AlertKind::BLOCK_EXPIRING:
      return fmt::format("block {} expires {} (within {} days) with {} left", a.subject, deadline,
                         a.threshold, FormatMinutes(a.left_minutes));
    case AlertKind::BLOCK_RUN_OUT:
      return fmt::format("block {} ran out in {}: all {} used", a.subject, month,
                         FormatMinutes(a.limit_minutes));
    case AlertKind::RESERVE_EXPIRING:
      return fmt::format("reserve of {} expires with the contract at {} (within {} days)",
                         FormatMinutes(a.left_minutes), deadline, a.threshold);
    case AlertKind::SLOTS_EXHAUSTED:
      return fmt::format("slots of pool {} used up in {}: {} of {}", a.subject, month,
                         a.used_minutes, a.limit_minutes);
    case AlertKind::SLA_BREACHED:
      return a.threshold >= 100
                 ? fmt::format("incident {} breached its SLA target ({} of {} service minutes)",
                               a.subject, a.used_minutes, a.limit_minutes)
                 : fmt::format("incident {} at {} % of its SLA target ({} of {} service minutes)",
                               a.subject, a.threshold, a.used_minutes, a.limit_minutes);
    case AlertKind::CLIENT_BLOCKED:
      return fmt::format("client blocked for debt in {}: {} unpaid", month,
                         FormatMoney(a.amount_minor, currency));
    case AlertKind::INVOICE_OVERDUE:
      return fmt::format("invoice for {} overdue since {} ({} days after the month): {} unpaid",
                         month, deadline, a.threshold, FormatMoney(a.amount_minor, currency));
  }
  return fmt::format("alert of unknown kind {}", int(a.kind));
}

}  // namespace hourbank::projections
