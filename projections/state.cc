#include "projections/state.h"
#include "projections/limits.h"
#include "projections/replay_bounds.h"

#include "projections/month_eval.h"
#include "projections/month_pack.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>
#include <sodium.h>

#include <fmt/format.h>

namespace hourbank::projections {

namespace {

// The zone of a plan's business calendar, for deciding off-hours on every work entry. Zone::Find
// builds an error text and searches the tz database on each call; a replay asks for the same
// one or two names hundreds of thousands of times, so the answers are kept per thread (a
// ClientState is used by one thread at a time, and many states may replay in parallel).
// Bounded: at most kCountMaxCalendarZones names; past it, lookups are not cached. nullptr for an
// unknown name (the plan parser already rejects those; a replayed plan is checked again here).
const Zone* CalendarZone(const std::string& name) {
  thread_local std::vector<std::pair<std::string, std::optional<Zone>>> cache;
  for (const auto& [cached_name, zone] : cache)
    if (cached_name == name) return zone ? &*zone : nullptr;
  auto found = Zone::Find(name);
  std::optional<Zone> zone;
  if (found.ok()) zone = found.value();
  if (cache.size() >= kCountMaxCalendarZones) {
    thread_local std::optional<Zone> uncached;
    uncached = zone;
    return uncached ? &*uncached : nullptr;
  }
  cache.emplace_back(name, zone);
  return cache.back().second ? &*cache.back().second : nullptr;
}

using schemas::Event;

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

}  // namespace

std::array<uint8_t, 32> LinesDigest(const std::vector<InvoiceLine>& lines) {
  std::string text;
  for (const InvoiceLine& l : lines)
    text += fmt::format("{}\t{}\t{}\t{}\t{}\n", l.code, l.description, l.quantity,
                        l.unit_price_minor, l.amount_minor);
  std::array<uint8_t, 32> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return out;
}

const char* SourceName(Charge::Source source) {
  switch (source) {
    case Charge::Source::kAllowance:
      return "allowance";
    case Charge::Source::kReserve:
      return "reserve";
    case Charge::Source::kBlock:
      return "block";
    case Charge::Source::kOverage:
      return "overage";
    case Charge::Source::kUnlimited:
      return "unlimited";
    case Charge::Source::kSlot:
      return "slot";
    case Charge::Source::kAddonSlot:
      return "addon";
    case Charge::Source::kOneOff:
      return "one-off";
    case Charge::Source::kIncluded:
      return "included";
  }
  return "?";
}

int64_t Entry::billed_minor() const {
  int64_t sum = 0;
  for (const Charge& c : charges) sum += c.amount_minor + c.surcharge_minor;
  return sum;
}

// ---------------------------------------------------------------------------------------
// Contract lookups

const ContractTerms* ClientState::TermsFor(uint32_t month) const {
  // Segments are sorted and never overlap: only the latest one starting by `month` can cover it.
  for (auto it = terms_.rbegin(); it != terms_.rend(); ++it)
    if (it->from_month <= month)
      return (it->last_month == 0 || month <= it->last_month) ? &*it : nullptr;
  return nullptr;
}

uint32_t ClientState::first_month() const { return terms_.empty() ? 0 : terms_.front().from_month; }
uint32_t ClientState::last_month() const { return terms_.empty() ? 0 : terms_.back().last_month; }

uint32_t ClientState::UnitsFor(uint32_t month) const {
  uint32_t units = 0;
  for (const auto& [from, n] : units_) {
    if (from > month) break;
    units = n;
  }
  return units;
}

uint32_t ClientState::FirstOpenMonth() const {
  if (last_closed_ != 0) return NextMonth(last_closed_);
  return first_month();
}

bool ClientState::IsClosed(uint32_t month) const {
  return last_closed_ != 0 && month <= last_closed_;
}

const Entry* ClientState::FindEntry(uint64_t seq) const {
  // Most lookups are of the entry just logged; the rest search the seq-ordered vector.
  if (!entries_.empty() && entries_.back().seq == seq) return &entries_.back();
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const Entry& e, uint64_t s) { return e.seq < s; });
  return it == entries_.end() || it->seq != seq ? nullptr : &*it;
}

Entry* ClientState::MutableEntry(uint64_t seq) { return const_cast<Entry*>(FindEntry(seq)); }

Entry& ClientState::NewEntry(uint64_t seq) {
  if (entries_.empty() || entries_.back().seq < seq) {
    Entry& e = entries_.emplace_back();
    e.seq = seq;
    return e;
  }
  // Out of seq order (not from a ledger scan): replaces an entry of the same seq, as before.
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const Entry& x, uint64_t s) { return x.seq < s; });
  if (it == entries_.end() || it->seq != seq) it = entries_.insert(it, Entry{});
  *it = Entry{};
  it->seq = seq;
  return *it;
}

uint32_t ClientState::MonthAt(int64_t at_us) {
  if (!month_span_.Contains(at_us)) month_span_ = zone_.MonthSpanOf(at_us);
  return month_span_.month;
}

std::vector<const Entry*> ClientState::PendingForTask(const std::string& task) const {
  std::vector<const Entry*> out;
  for (const Entry& e : entries_)
    if (e.month == 0 && !e.voided && e.task == task) out.push_back(&e);
  return out;
}

std::vector<const Entry*> ClientState::PendingEntries() const {
  std::vector<const Entry*> out;
  for (const Entry& e : entries_)
    if (e.month == 0 && !e.voided) out.push_back(&e);
  return out;
}

std::vector<uint64_t> ClientState::EntriesAfter(uint32_t month) const {
  std::vector<uint64_t> out;
  for (const Entry& e : entries_) {
    if (e.voided) continue;
    const uint32_t m = e.month != 0 ? e.month : zone_.MonthOf(e.at_us);
    if (m > month) out.push_back(e.seq);
  }
  return out;
}

int64_t ClientState::invoiced_closed_minor() const {
  int64_t sum = 0;
  for (size_t i = 0; i < closed_.size(); ++i)
    if (closed_.has_close(i)) sum += closed_.CloseTotalAt(i);
  return sum;
}

std::vector<std::pair<uint32_t, RecordedClose>> ClientState::recorded_closes() const {
  std::vector<std::pair<uint32_t, RecordedClose>> out;
  for (size_t i = 0; i < closed_.size(); ++i)
    if (closed_.has_close(i)) out.emplace_back(closed_.month(i), closed_.CloseAt(i));
  return out;
}

int64_t ClientState::BlockingDebtMinor(int64_t now_us) const {
  if (terms_.empty()) return 0;
  // The rule of the terms in force now (after the contract: of its last terms).
  const uint32_t now_month = zone_.MonthOf(now_us);
  const ContractTerms* t = &terms_.front();
  for (const ContractTerms& s : terms_)
    if (s.from_month <= now_month) t = &s;
  const DebtBlocking rule = t->plan->debt_blocking;
  if (rule == DebtBlocking::kNone) return 0;
  // Invoices are due `grace_days` calendar days after their month ends, in the client's zone.
  int64_t due_minor = 0;
  for (size_t i = 0; i < closed_.size(); ++i) {
    if (!closed_.has_close(i)) continue;
    const uint32_t month = closed_.month(i);
    const ContractTerms* mt = TermsFor(month);
    const int32_t grace_days = mt ? int32_t(mt->plan->grace_days) : 0;
    const int64_t due_us =
        zone_.DayStartUs(AddDaysToDate(int32_t(NextMonth(month)) * 100 + 1, grace_days));
    if (due_us <= now_us) due_minor += closed_.CloseTotalAt(i);
  }
  const int64_t overdue = due_minor > paid_minor_ ? due_minor - paid_minor_ : 0;
  if (rule != DebtBlocking::kPrepaid) return overdue;
  // Work done without prepayment in an emergency is a debt at once (AlterCPA: "услуги не
  // оказываются в случае наличия задолженностей за ранее оказанные без предоплаты услуги"):
  // blocked while what has been charged so far (closed invoices and the open months' invoices
  // up to now) exceeds what was paid, by as much as the unpaid emergency work.
  int64_t emergency = 0;
  for (const auto& [month, md] : months_) {
    if (IsClosed(month) || month > now_month) continue;
    bool any = false;
    for (uint64_t s : md.entry_seqs)
      if (const Entry* e = FindEntry(s); e && e->emergency && e->at_us <= now_us) any = true;
    if (!any) continue;
    for (const Entry& e : EntriesFor(month))
      if (e.emergency && !e.voided && e.at_us <= now_us) emergency += e.billed_minor();
  }
  if (emergency == 0) return overdue;
  int64_t charged = invoiced_closed_minor();
  for (uint32_t m = FirstOpenMonth(), guard = 0; m != 0 && m <= now_month && guard < kMonthsMax;
       m = NextMonth(m), ++guard)
    charged += Evaluate(m).invoice.total_minor;
  const int64_t unpaid = std::min(std::max<int64_t>(0, charged - paid_minor_), emergency);
  return std::max(overdue, unpaid);
}

int64_t ClientState::UnpaidMinor(uint32_t month) const {
  const size_t at = closed_.Find(month);
  if (at == closed_.size() || !closed_.has_close(at)) return 0;
  int64_t through = 0;  // closed invoices up to and including month
  for (size_t i = 0; i <= at; ++i)
    if (closed_.has_close(i)) through += closed_.CloseTotalAt(i);
  const int64_t uncovered = std::max<int64_t>(0, through - paid_minor_);
  return std::clamp<int64_t>(uncovered, 0, std::max<int64_t>(0, closed_.CloseTotalAt(at)));
}

bool ClientState::BlockedAt(int64_t now_us) const { return BlockingDebtMinor(now_us) > 0; }

std::vector<Block> ClientState::BlocksAfterClose() const {
  std::vector<Block> blocks;
  for (const Block& b : blocks_) {
    Block x = b;
    if (auto it = block_left_after_close_.find(b.seq); it != block_left_after_close_.end())
      x.left_minutes = it->second;
    blocks.push_back(x);
  }
  return blocks;
}

std::vector<std::pair<uint64_t, int64_t>> ClientState::BlocksLeftAfterClose() const {
  std::vector<std::pair<uint64_t, int64_t>> out;
  for (const Block& b : BlocksAfterClose())
    if (b.left_minutes > 0 && b.month <= last_closed_) out.emplace_back(b.seq, b.left_minutes);
  return out;
}

// ---------------------------------------------------------------------------------------
// Apply

void ClientState::CountEntry(Entry& e, uint32_t month) {
  e.month = month;
  months_[month].entry_seqs.push_back(e.seq);
}

// Months and terms stored in events are validated on replay like any other input: a value no
// decide function writes (a month that does not exist, a term of 4 billion months) is recorded
// as a replay problem and the event is skipped, never folded into arithmetic.
namespace {
bool BadMonth(uint32_t month) { return month != 0 && !ValidMonth(month); }
std::string Period(uint32_t from, uint32_t last) {
  return fmt::format("{} … {}", FormatMonth(from), last ? FormatMonth(last) : "open-ended");
}
}  // namespace

struct ClientState::Handler {
  void (ClientState::*apply)(uint64_t seq, Event::Reader ev) = nullptr;  // nullptr: not folded
  uint32_t (*month)(Event::Body::Reader body) = nullptr;  // the month replay validates
  bool needs_month = false;                               // … which must then be set
};

namespace {
using Body = Event::Body;
// The number of body kinds this build knows (the last one's discriminant + 1).
constexpr size_t kBodyKinds = size_t(Body::ALERT_SETTINGS_SET) + 1;
}  // namespace

const ClientState::Handler* ClientState::HandlerFor(Body::Which which) {
  using R = Body::Reader;
  using S = ClientState;
  static const std::array<Handler, kBodyKinds + 1> table = [] {
    std::array<Handler, kBodyKinds + 1> t;
    t.fill({&S::ApplyUnknown});  // the last one answers every kind beyond kBodyKinds
    const auto set = [&t](Body::Which w, Handler h) { t[size_t(w)] = h; };
    set(Body::CLIENT_REGISTERED, {&S::ApplyRegistered});
    set(Body::CONTRACT_STARTED, {&S::ApplyTerms});
    set(Body::CONTRACT_CHANGED, {&S::ApplyTerms});
    set(Body::CONTRACT_ENDED,
        {&S::ApplyEnded, [](R b) { return b.getContractEnded().getLastMonth(); }});
    set(Body::UNITS_CHANGED,
        {&S::ApplyUnits, [](R b) { return b.getUnitsChanged().getFromMonth(); }});
    set(Body::WORK_LOGGED,
        {&S::ApplyWorkLogged, [](R b) { return b.getWorkLogged().getBookedMonth(); }});
    set(Body::WORK_ACCEPTED,
        {&S::ApplyWorkAccepted, [](R b) { return b.getWorkAccepted().getBookedMonth(); }});
    set(Body::WORK_VOIDED,
        {&S::ApplyWorkVoided, [](R b) { return b.getWorkVoided().getCreditMonth(); }});
    set(Body::WORK_WRITTEN_DOWN, {&S::ApplyWrittenDown});
    set(Body::WORK_REVIEWED,
        {&S::ApplyWorkReviewed, [](R b) { return b.getWorkReviewed().getToMonth(); }});
    set(Body::HOURS_PURCHASED,
        {&S::ApplyHoursPurchased, [](R b) { return b.getHoursPurchased().getMonth(); }});
    set(Body::ADDON_PURCHASED,
        {&S::ApplyAddon, [](R b) { return b.getAddonPurchased().getMonth(); }, true});
    set(Body::PAYMENT_RECEIVED, {&S::ApplyPayment});
    set(Body::HOURS_CARRIED_OVER,
        {&S::ApplyClosingEntry, [](R b) { return b.getHoursCarriedOver().getMonth(); }, true});
    set(Body::HOURS_EXPIRED,
        {&S::ApplyClosingEntry, [](R b) { return b.getHoursExpired().getMonth(); }, true});
    set(Body::SLOTS_EXPIRED,
        {&S::ApplyClosingEntry, [](R b) { return b.getSlotsExpired().getMonth(); }, true});
    set(Body::PERIOD_CLOSED,
        {&S::ApplyPeriodClosed, [](R b) { return b.getPeriodClosed().getMonth(); }, true});
    set(Body::ADJUSTMENT, {&S::ApplyAdjustment, [](R b) { return b.getAdjustment().getMonth(); }});
    for (Body::Which w : {Body::INCIDENT_OPENED, Body::INCIDENT_RESPONDED, Body::INCIDENT_RESOLVED,
                          Body::INCIDENT_REPRIORITIZED, Body::INCIDENT_REOPENED,
                          Body::INCIDENT_WAITING, Body::INCIDENT_RESUMED})
      set(w, {&S::ApplyIncident});
    set(Body::ALERT_RAISED, {&S::ApplyAlertRaised});
    set(Body::ALERT_SETTINGS_SET, {&S::ApplyAlertSettings});
    // System streams' events: not part of a client's state.
    for (Body::Which w :
         {Body::PLAN_DEFINED, Body::TOKEN_ISSUED, Body::TOKEN_REVOKED, Body::CHECKPOINT})
      set(w, {});
    return t;
  }();
  return &table[std::min(size_t(which), kBodyKinds)];
}

void ClientState::Apply(uint64_t seq, Event::Reader ev) {
  version_++;
  last_seq_ = seq;
  const int64_t at_us = ev.getEffectiveAtUs();
  const auto body = ev.getBody();
  const Handler& h = *HandlerFor(body.which());
  // Replay validates what no decide function writes (see BadMonth above).
  const uint32_t month = h.month ? h.month(body) : 0;
  if (BadMonth(month) || (h.needs_month && month == 0) || at_us < 0 || at_us >= kInstantUsMax) {
    Problem(seq,
            fmt::format("event with month {} at {} µs is out of range; skipped", month, at_us));
    return;
  }
  if (std::string money = CheckStoredMoney(ev); !money.empty()) {  // projections/replay_bounds.h
    Problem(seq, std::move(money));
    return;
  }
  if (h.apply) (this->*h.apply)(seq, ev);
}

void ClientState::ApplyUnknown(uint64_t seq, Event::Reader) {
  Problem(seq, "event kind unknown to this version of hourbank");
}

void ClientState::ApplyUnits(uint64_t, Event::Reader ev) {
  auto b = ev.getBody().getUnitsChanged();
  units_[b.getFromMonth()] = b.getUnits();
}

void ClientState::ApplyPayment(uint64_t, Event::Reader ev) {
  paid_minor_ += ev.getBody().getPaymentReceived().getAmountMinor();
}

bool AlertOverrides::Off(schemas::AlertKind kind) const {
  return std::find(off.begin(), off.end(), kind) != off.end();
}

// The whole setting replaces the one before; lists are bounded as the writer bounds them.
void ClientState::ApplyAlertSettings(uint64_t, Event::Reader ev) {
  auto b = ev.getBody().getAlertSettingsSet();
  AlertOverrides o;
  if (b.getAllowancePercentSet()) {
    o.allowance_percent.emplace();
    for (uint32_t p : b.getAllowancePercent())
      if (o.allowance_percent->size() < kAlertPercentsMax) o.allowance_percent->push_back(p);
    std::sort(o.allowance_percent->begin(), o.allowance_percent->end());
  }
  // Days beyond the writer's bound (a forged event) are read as the bound.
  const auto days = [](uint32_t d) { return std::min(d, kAlertDaysMax); };
  if (b.getBlockExpiryDaysSet()) o.block_expiry_days = days(b.getBlockExpiryDays());
  if (b.getReserveExpiryDaysSet()) o.reserve_expiry_days = days(b.getReserveExpiryDays());
  if (b.getInvoiceOverdueDaysSet()) o.invoice_overdue_days = days(b.getInvoiceOverdueDays());
  for (schemas::AlertKind k : b.getOff())
    if (o.off.size() < AlertOverrides::kOffMax && !o.Off(k)) o.off.push_back(k);
  std::sort(o.off.begin(), o.off.end());
  alert_overrides_ = std::move(o);
}

void ClientState::ApplyAlertRaised(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getAlertRaised();
  AlertRecord a;
  a.seq = seq;
  a.raised_us = ev.getEffectiveAtUs();  // the "now" the alert was evaluated at
  a.key = Str(ev.getIdempotencyKey());
  a.kind = b.getKind();
  a.threshold = b.getThreshold();
  a.month = b.getMonth();
  a.subject = Str(b.getSubject());
  a.used_minutes = b.getUsedMinutes();
  a.limit_minutes = b.getLimitMinutes();
  a.left_minutes = b.getLeftMinutes();
  a.deadline_us = b.getDeadlineUs();
  a.amount_minor = b.getAmountMinor();
  alerts_.push_back(std::move(a));
}

void ClientState::ApplyRegistered(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getClientRegistered();
  registered_ = true;
  id_ = Str(ev.getClientId());
  name_ = Str(b.getName());
  currency_ = Str(b.getCurrency());
  auto zone = Zone::Find(Str(b.getTimezone()));
  if (zone.ok()) {
    zone_ = zone.value();
    month_span_ = {};  // spans of the zone before
  } else
    Problem(seq, "unknown time zone " + Str(b.getTimezone()));
}

void ClientState::ApplyTerms(uint64_t seq, Event::Reader ev) {
  // A start and a change carry the same terms. A start appends a segment (a first contract, a
  // renewal, a later contract); a change replaces the terms from its month on and continues
  // the contract.
  auto body = ev.getBody();
  const bool started = body.isContractStarted();
  ContractTerms t;
  std::string spec;
  auto read_terms = [&](auto b) {
    t.plan_id = Str(b.getPlanId());
    t.plan_version = b.getPlanVersion();
    spec = Str(b.getPlanSpecToml());
    t.from_month = b.getFromMonth();
    t.term_months = b.getTermMonths();
    t.prepaid_months = b.getPrepaidMonths();
    t.timely = b.getTimely();
    for (auto x : b.getExtras()) t.extras[Str(x.getName())] = x.getQuantity();
  };
  if (started) {
    read_terms(body.getContractStarted());
    const auto rule = body.getContractStarted().getReview();
    if (rule == schemas::ReviewRule::REQUIRED) t.review = ContractTerms::ReviewRule::kRequired;
    if (rule == schemas::ReviewRule::OFF) t.review = ContractTerms::ReviewRule::kOff;
  } else {
    read_terms(body.getContractChanged());
    if (!terms_.empty()) t.review = terms_.back().review;  // a change keeps the client's rule
  }
  if (!ValidMonth(t.from_month) || t.term_months > kMonthsMax) {
    Problem(seq, fmt::format("contract with month {} and term {} months is out of range",
                             t.from_month, t.term_months));
    return;
  }
  t.last_month = t.term_months ? AddMonths(t.from_month, int32_t(t.term_months) - 1) : 0;
  t.continues = !started;
  if (started) units_[t.from_month] = body.getContractStarted().getUnits();
  auto plan = ParseCanonicalPlan(spec);
  if (!plan.ok()) {
    Problem(seq, "contract plan text does not parse: " + plan.error().message);
    return;
  }
  t.plan = std::make_shared<const PlanSpec>(std::move(plan).value());
  if (started) {
    for (const ContractTerms& s : terms_) {
      const bool overlap = (s.last_month == 0 || s.last_month >= t.from_month) &&
                           (t.last_month == 0 || t.last_month >= s.from_month);
      if (overlap) {
        Problem(seq, fmt::format("contract {} overlaps the contract {}; it replaces it from {}",
                                 Period(t.from_month, t.last_month),
                                 Period(s.from_month, s.last_month), FormatMonth(t.from_month)));
        break;
      }
    }
  }
  while (!terms_.empty() && terms_.back().from_month >= t.from_month) terms_.pop_back();
  if (!terms_.empty() &&
      (terms_.back().last_month == 0 || terms_.back().last_month >= t.from_month))
    terms_.back().last_month = AddMonths(t.from_month, -1);
  terms_.push_back(std::move(t));
}

void ClientState::ApplyEnded(uint64_t seq, Event::Reader ev) {
  const uint32_t last = ev.getBody().getContractEnded().getLastMonth();
  if (terms_.empty() || last < terms_.front().from_month) {
    Problem(seq,
            fmt::format("contract end after {} with no contract before it", FormatMonth(last)));
    return;
  }
  if (last < last_closed_)
    Problem(seq, fmt::format("contract end after {} although months are closed through {}",
                             FormatMonth(last), FormatMonth(last_closed_)));
  while (terms_.size() > 1 && terms_.back().from_month > last) terms_.pop_back();
  terms_.back().last_month = last;
}

namespace {
// Whether work at `at_us` is off-hours: as logged, or by the plan's business calendar.
bool OffHours(schemas::OffHours logged, const PlanSpec& plan, int64_t at_us) {
  if (logged == schemas::OffHours::YES) return true;
  if (logged == schemas::OffHours::NO || !plan.calendar) return false;
  const Zone* cz = CalendarZone(plan.calendar->timezone);
  return cz && !IsOpen(*plan.calendar, *cz, at_us);
}
}  // namespace

// Every field is read once, the entry is made in place once it is known to fit.
void ClientState::ApplyWorkLogged(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getWorkLogged();
  const int64_t at_us = ev.getEffectiveAtUs();
  const int64_t minutes = b.getMinutes();
  const int64_t count = b.getCount();
  // Validate on replay too (found by tests/fuzz/fuzz_event): minutes beyond what
  // ParseDurationMinutes admits (10000 h) overflowed minutes × multiplier in Evaluate.
  if (minutes < 0 || minutes > kMinutesMaxPerEntry || count < 0) {
    Problem(seq,
            fmt::format("work entry has {} minutes and count {}; out of range", minutes, count));
    return;
  }
  const uint32_t booked_month = b.getBookedMonth();
  const uint32_t booked = booked_month ? booked_month : MonthAt(at_us);
  const ContractTerms* t = TermsFor(booked);
  if (t == nullptr) {
    Problem(seq, fmt::format("work in {} is outside the contract", FormatMonth(booked)));
    return;
  }
  Entry& e = NewEntry(seq);
  e.at_us = at_us;
  e.minutes = minutes;
  e.count = count;
  e.unit = count > 0 ? Unit::kItem : Unit::kHour;
  e.urgent = b.getUrgent();
  e.late = b.getLate();
  e.emergency = b.getEmergency();
  e.non_billable = b.getNonBillable();
  e.off_hours = OffHours(b.getOffHours(), *t->plan, at_us);
  uint32_t m = 100;
  if (e.urgent) m = std::max(m, t->plan->urgent_percent);
  if (e.off_hours) m = std::max(m, t->plan->off_hours_percent);
  e.multiplier_percent = m;
  const auto assign = [](std::string& to, capnp::Text::Reader text) {
    to.assign(text.cStr(), text.size());
  };
  assign(e.kind, b.getKind());
  assign(e.task, b.getTask());
  assign(e.staff, b.getStaff());
  assign(e.note, b.getNote());
  if (t->plan->acceptance_required) return;  // counts when accepted (month 0)
  if (t->ReviewRequired()) e.review = Review::kPending;
  if (IsClosed(booked))
    Problem(seq, fmt::format("work booked into closed month {}", FormatMonth(booked)));
  CountEntry(e, booked);
}

void ClientState::ApplyWorkAccepted(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getWorkAccepted();
  const std::string task = Str(b.getTask());
  const uint32_t booked = b.getBookedMonth() ? b.getBookedMonth() : MonthAt(ev.getEffectiveAtUs());
  if (IsClosed(booked))
    Problem(seq, fmt::format("acceptance booked into closed month {}", FormatMonth(booked)));
  bool any = false;
  for (Entry& e : entries_) {
    if (e.month == 0 && !e.voided && e.task == task) {
      CountEntry(e, booked);
      any = true;
    }
  }
  if (!any) Problem(seq, "acceptance of task '" + task + "' with no pending work");
}

void ClientState::ApplyWorkVoided(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getWorkVoided();
  const uint64_t target = b.getEntrySeq();
  if (b.getCreditMonth() != 0) {
    // The entry's month was closed: the invoice's difference comes back as a credit in an
    // open month; the closed month itself stays as closed.
    if (IsClosed(b.getCreditMonth()))
      Problem(seq,
              fmt::format("credit booked into closed month {}", FormatMonth(b.getCreditMonth())));
    if (b.getCreditMinor() > 0)
      months_[b.getCreditMonth()].adjustments.push_back(
          {seq, "credit", fmt::format("credit for voided entry #{}", target), -b.getCreditMinor()});
    if (Entry* e = MutableEntry(target)) e->voided = true;
    return;
  }
  Entry* e = MutableEntry(target);
  if (e == nullptr) {
    Problem(seq, fmt::format("void of unknown entry #{}", target));
    return;
  }
  e->voided = true;
  if (e->month != 0) {
    if (IsClosed(e->month))
      Problem(seq, fmt::format("void of entry #{} in closed month {} without a credit", target,
                               FormatMonth(e->month)));
    auto& seqs = months_[e->month].entry_seqs;
    seqs.erase(std::remove(seqs.begin(), seqs.end(), target), seqs.end());
  }
}

// A manager's write-down lowers an hour entry's billed minutes while its month is open (or it
// awaits acceptance); a closed month is corrected by a void and its credit instead.
void ClientState::ApplyWrittenDown(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getWorkWrittenDown();
  const uint64_t target = b.getEntrySeq();
  const int64_t minutes = b.getMinutes();
  Entry* found = MutableEntry(target);
  if (found == nullptr) {
    Problem(seq, fmt::format("write-down of unknown entry #{}", target));
    return;
  }
  Entry& e = *found;
  if (minutes <= 0 || minutes > kMinutesMaxPerEntry + 24 * kMinutesPerHour ||
      e.unit != Unit::kHour) {
    Problem(seq, fmt::format("write-down of {} minutes on entry #{} is out of range; skipped",
                             minutes, target));
    return;
  }
  if (e.month != 0 && IsClosed(e.month)) {
    Problem(seq, fmt::format("write-down of entry #{} in closed month {}; skipped", target,
                             FormatMonth(e.month)));
    return;
  }
  e.written_down_minutes = std::min(e.written_down_minutes + minutes, 2 * kMinutesMaxPerEntry);
}

void ClientState::Uncount(const Entry& e) {
  if (e.month == 0) return;
  auto& seqs = months_[e.month].entry_seqs;
  seqs.erase(std::remove(seqs.begin(), seqs.end(), e.seq), seqs.end());
}

// A review decision over a list of entries: approve (pending → approved), reject (out of its
// open month), carry (pending entries move to an open month). Entries that do not fit are
// problems; the others are applied.
void ClientState::ApplyWorkReviewed(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getWorkReviewed();
  const schemas::ReviewDecision decision = b.getDecision();
  for (uint64_t target : b.getEntrySeqs()) {
    Entry* found = MutableEntry(target);
    if (found == nullptr || found->voided || found->review == Review::kNone ||
        found->review == Review::kRejected) {
      Problem(seq, fmt::format("review of entry #{}, which is not under review", target));
      continue;
    }
    Entry& e = *found;
    if (decision == schemas::ReviewDecision::APPROVE) {
      if (e.review != Review::kPending)
        Problem(seq, fmt::format("entry #{} approved twice", target));
      e.review = Review::kApproved;
    } else if (decision == schemas::ReviewDecision::REJECT) {
      if (IsClosed(e.month)) {
        Problem(seq, fmt::format("rejection of entry #{} in closed month {}; skipped", target,
                                 FormatMonth(e.month)));
        continue;
      }
      Uncount(e);
      e.review = Review::kRejected;
      e.review_reason = Str(b.getReason());
    } else if (decision == schemas::ReviewDecision::CARRY) {
      const uint32_t to = b.getToMonth();
      if (e.review != Review::kPending || to == 0 || IsClosed(to) || IsClosed(e.month) ||
          !TermsFor(to)) {
        Problem(seq, fmt::format("carry of entry #{} to {} does not fit; skipped", target,
                                 FormatMonth(to)));
        continue;
      }
      Uncount(e);
      CountEntry(e, to);
    } else {
      Problem(seq, "review decision unknown to this version of hourbank");
      return;
    }
  }
}

std::vector<ReviewItem> ClientState::ReviewItems(uint32_t month) const {
  std::vector<ReviewItem> out;
  for (const Entry& e : entries_)
    if (!e.voided && e.review != Review::kNone && e.month == month)
      out.push_back({e.seq, ReviewItem::Kind::kManager, e.review});
  for (const Entry& e : entries_)
    if (!e.voided && e.month == 0 && e.review == Review::kNone && zone_.MonthOf(e.at_us) == month)
      out.push_back({e.seq, ReviewItem::Kind::kClientAcceptance, Review::kPending});
  return out;
}

std::vector<uint64_t> ClientState::PendingReview(uint32_t month) const {
  std::vector<uint64_t> out;
  auto it = months_.find(month);
  if (it == months_.end()) return out;
  for (uint64_t s : it->second.entry_seqs)
    if (const Entry* e = FindEntry(s); e && !e->voided && e->review == Review::kPending)
      out.push_back(s);
  return out;
}

void ClientState::ApplyHoursPurchased(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getHoursPurchased();
  Block blk;
  blk.seq = seq;
  blk.minutes = b.getMinutes();
  blk.left_minutes = blk.minutes;
  blk.expires_at_us = b.getExpiresAtUs();
  // expires_at_us is the first instant after the last usable day: the month holding that day
  // expires what is left at its close.
  blk.expires_month = blk.expires_at_us ? zone_.MonthOf(blk.expires_at_us - 1) : 0;
  blk.month = b.getMonth() ? b.getMonth() : MonthAt(ev.getEffectiveAtUs());
  if (IsClosed(blk.month)) {
    Problem(seq, fmt::format("hours bought into closed month {}; skipped", FormatMonth(blk.month)));
    return;
  }
  block_index_[seq] = uint32_t(blocks_.size());
  blocks_.push_back(blk);
  if (b.getPriceMinor() > 0)
    months_[blk.month].adjustments.push_back(
        {seq, "hours_block", "prepaid hours " + FormatMinutes(blk.minutes), b.getPriceMinor()});
}

void ClientState::ApplyAddon(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getAddonPurchased();
  const uint32_t month = b.getMonth();
  const std::string addon_id = Str(b.getAddonId());
  const ContractTerms* t = TermsFor(month);
  const Addon* addon = t ? t->plan->FindAddon(addon_id) : nullptr;
  if (addon == nullptr) {
    Problem(seq, "unknown add-on " + addon_id);
    return;
  }
  if (IsClosed(month)) {
    Problem(seq, fmt::format("add-on bought for closed month {}; skipped", FormatMonth(month)));
    return;
  }
  MonthData& md = months_[month];
  md.addon_slots[addon->kinds.empty() ? addon->pool : addon->id] += addon->slots;
  md.adjustments.push_back({seq, "addon", addon->id, b.getPriceMinor()});
}

void ClientState::ApplyClosingEntry(uint64_t seq, Event::Reader ev) {
  auto body = ev.getBody();
  switch (body.which()) {
    case Event::Body::HOURS_CARRIED_OVER: {
      auto b = body.getHoursCarriedOver();
      pending_close_month_ = b.getMonth();
      pending_close_.carried_minutes += b.getMinutes();
      pending_close_.reserve_after_minutes = b.getReserveAfterMinutes();
      break;
    }
    case Event::Body::HOURS_EXPIRED: {
      auto b = body.getHoursExpired();
      if (IsClosed(b.getMonth()) && pending_close_month_ == 0) {
        // A contract ended at a month already closed: what was left expires at once.
        ApplyExpiryAfterClose(seq, b.getMonth(), b.getBucket(), b.getBlockSeq(), b.getMinutes());
        break;
      }
      pending_close_month_ = b.getMonth();
      pending_close_.expired.emplace_back(b.getBucket(), b.getBlockSeq(), b.getMinutes());
      break;
    }
    case Event::Body::SLOTS_EXPIRED: {
      auto b = body.getSlotsExpired();
      pending_close_month_ = b.getMonth();
      pending_close_.slots_expired[Str(b.getPool())] += b.getCount();
      break;
    }
    default:
      break;
  }
}

void ClientState::ApplyExpiryAfterClose(uint64_t seq, uint32_t month, schemas::Bucket bucket,
                                        uint64_t block_seq, int64_t minutes) {
  const ContractTerms* t = TermsFor(month);
  if (month != last_closed_ || t == nullptr || t->last_month != month) {
    Problem(seq, fmt::format("hours expired in closed month {}, which is not the last closed month "
                             "ending the contract",
                             FormatMonth(month)));
    return;
  }
  if (bucket == schemas::Bucket::RESERVE) {
    if (minutes != reserve_after_close_)
      Problem(seq, fmt::format("{}: reserve of {} expired, {} was left", FormatMonth(month),
                               FormatMinutes(minutes), FormatMinutes(reserve_after_close_)));
    reserve_after_close_ = std::max<int64_t>(0, reserve_after_close_ - minutes);
    if (std::optional<MonthEval> ev = closed_.Eval(month)) {  // the month's own figures show it
      ev->expired_reserve_minutes += ev->reserve_end_minutes - reserve_after_close_;
      ev->reserve_end_minutes = reserve_after_close_;
      closed_.PutEval(month, *ev);
    }
  } else if (bucket == schemas::Bucket::BLOCK) {
    // Minutes left: as the last close left them, or as bought when bought after it.
    auto bit = block_index_.find(block_seq);
    if (bit == block_index_.end()) {
      Problem(seq,
              fmt::format("{}: hours of unknown block #{} expired", FormatMonth(month), block_seq));
      return;
    }
    auto it = block_left_after_close_.find(block_seq);
    const int64_t left =
        it != block_left_after_close_.end() ? it->second : blocks_[bit->second].minutes;
    if (left != minutes)
      Problem(seq, fmt::format("{}: {} of block #{} expired, {} was left", FormatMonth(month),
                               FormatMinutes(minutes), block_seq, FormatMinutes(left)));
    block_left_after_close_[block_seq] = std::max<int64_t>(0, left - minutes);
    if (std::optional<MonthEval> ev = closed_.Eval(month)) {  // the month's own figures show it
      for (Block& e : ev->blocks_end) {
        if (e.seq != block_seq) continue;
        const int64_t gone = std::min(e.left_minutes, minutes);
        e.left_minutes -= gone;
        if (e.month <= month) ev->expired_block_minutes += gone;
        ev->expired_blocks.emplace_back(block_seq, gone);
      }
      closed_.PutEval(month, *ev);
    }
  } else {
    Problem(seq,
            fmt::format("{}: allowance cannot expire after the month closed", FormatMonth(month)));
  }
}

void ClientState::ApplyPeriodClosed(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getPeriodClosed();
  const uint32_t month = b.getMonth();
  if (pending_close_month_ != 0 && pending_close_month_ != month)
    Problem(seq, fmt::format("closing entries of {} followed by the close of {}",
                             FormatMonth(pending_close_month_), FormatMonth(month)));
  pending_close_.total_minor = b.getTotalMinor();
  auto digest = b.getLinesDigest();
  if (digest.size() == 32)
    std::copy(digest.begin(), digest.end(), pending_close_.lines_digest.begin());
  pending_close_.line_count = b.getLineCount();
  pending_close_.closed_seq = seq;
  ApplyClose(seq, month);
}

void ClientState::ApplyAdjustment(uint64_t seq, Event::Reader ev) {
  auto b = ev.getBody().getAdjustment();
  std::string code = "penalty";
  int64_t amount = b.getAmountMinor();
  if (b.getKind() == schemas::AdjustmentKind::CREDIT) {
    code = "credit";
    amount = -amount;
  }
  if (b.getKind() == schemas::AdjustmentKind::CHARGE) code = "charge";
  if (IsClosed(b.getMonth())) {
    Problem(seq, fmt::format("adjustment for closed month {}; skipped", FormatMonth(b.getMonth())));
    return;
  }
  std::vector<Adjust>& adjustments = months_[b.getMonth()].adjustments;
  if (b.getReversesSeq() != 0) {
    // A reversal: the adjustment it names leaves its month's invoice, as if never booked.
    auto it = std::find_if(adjustments.begin(), adjustments.end(), [&](const Adjust& a) {
      return a.seq == b.getReversesSeq() && a.code == code && a.amount_minor == amount;
    });
    if (it == adjustments.end()) {
      Problem(seq, fmt::format("adjustment reverses #{}, which is no {} of {} in {}; skipped",
                               b.getReversesSeq(), code, FormatMoney(b.getAmountMinor(), currency_),
                               FormatMonth(b.getMonth())));
      return;
    }
    adjustments.erase(it);
    return;
  }
  adjustments.push_back({seq, code, Str(b.getReason()), amount, b.getEarlyEnd()});
}

std::vector<ClientState::BookedCharge> ClientState::EarlyEndChargesAfter(uint32_t month) const {
  std::vector<BookedCharge> out;
  for (auto it = months_.upper_bound(month); it != months_.end(); ++it) {
    if (IsClosed(it->first)) continue;
    for (const Adjust& a : it->second.adjustments)
      if (a.early_end && a.code == "charge") out.push_back({a.seq, it->first, a.amount_minor});
  }
  return out;
}

void ClientState::ApplyIncident(uint64_t, Event::Reader ev) {
  auto body = ev.getBody();
  const int64_t at_us = ev.getEffectiveAtUs();
  switch (body.which()) {
    case Event::Body::INCIDENT_OPENED: {
      auto b = body.getIncidentOpened();
      Incident inc;
      inc.id = Str(b.getIncidentId());
      inc.priority = b.getPriority();
      inc.opened_priority = b.getPriority();
      inc.title = Str(b.getTitle());
      inc.opened_us = at_us;
      incidents_[inc.id] = inc;
      break;
    }
    case Event::Body::INCIDENT_RESPONDED: {
      auto it = incidents_.find(Str(body.getIncidentResponded().getIncidentId()));
      if (it != incidents_.end() && it->second.responded_us == 0) it->second.responded_us = at_us;
      break;
    }
    case Event::Body::INCIDENT_RESOLVED: {
      auto it = incidents_.find(Str(body.getIncidentResolved().getIncidentId()));
      if (it != incidents_.end()) {
        it->second.resolved_us = at_us;
        it->second.resolved_history_us.push_back(at_us);
        if (it->second.waiting()) it->second.waits.back().to_us = at_us;  // resolving ends a wait
      }
      break;
    }
    case Event::Body::INCIDENT_REPRIORITIZED: {
      auto b = body.getIncidentReprioritized();
      auto it = incidents_.find(Str(b.getIncidentId()));
      if (it != incidents_.end()) {
        it->second.priority_changes.emplace_back(at_us, b.getPriority());
        it->second.priority = b.getPriority();
      }
      break;
    }
    case Event::Body::INCIDENT_REOPENED: {
      auto it = incidents_.find(Str(body.getIncidentReopened().getIncidentId()));
      if (it != incidents_.end()) {
        it->second.reopened_us.push_back(at_us);
        it->second.resolved_us = 0;
      }
      break;
    }
    case Event::Body::INCIDENT_WAITING: {
      auto b = body.getIncidentWaiting();
      auto it = incidents_.find(Str(b.getIncidentId()));
      if (it != incidents_.end() && !it->second.waiting())
        it->second.waits.push_back({at_us, 0, Str(b.getReason())});
      break;
    }
    case Event::Body::INCIDENT_RESUMED: {
      auto it = incidents_.find(Str(body.getIncidentResumed().getIncidentId()));
      if (it != incidents_.end() && it->second.waiting())
        it->second.waits.back().to_us = std::max(at_us, it->second.waits.back().from_us);
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Month evaluation: the inputs of projections/month_eval.h for one month.

namespace {

// A close's recorded HoursExpired entries summed by bucket (blocks also per block).
struct RecordedExpiry {
  int64_t allowance = 0, reserve = 0, block = 0;
  std::map<uint64_t, int64_t> blocks;
};
RecordedExpiry SumRecordedExpiry(const ClientState::RecordedClose& rc) {
  RecordedExpiry x;
  for (const auto& [bucket, bseq, minutes] : rc.expired) {
    if (bucket == schemas::Bucket::ALLOWANCE)
      x.allowance += minutes;
    else if (bucket == schemas::Bucket::RESERVE)
      x.reserve += minutes;
    else {
      x.block += minutes;
      x.blocks[bseq] += minutes;
    }
  }
  return x;
}

// Where the recorded close differs from what the rules give: one sentence per difference
// (carried, expired, expired slots, invoice total or, with the same total, its lines digest).
std::vector<std::string> CloseDifferences(uint32_t month, const ClientState::RecordedClose& rc,
                                          const RecordedExpiry& x, const MonthEval& ev) {
  std::vector<std::string> out;
  if (rc.carried_minutes != ev.carried_minutes)
    out.push_back(fmt::format("{}: carried {} recorded, the rules give {}", FormatMonth(month),
                              FormatMinutes(rc.carried_minutes),
                              FormatMinutes(ev.carried_minutes)));
  if (x.allowance != ev.expired_allowance_minutes || x.reserve != ev.expired_reserve_minutes ||
      x.block != ev.expired_block_minutes)
    out.push_back(fmt::format("{}: expired {} recorded, the rules give {}", FormatMonth(month),
                              FormatMinutes(x.allowance + x.reserve + x.block),
                              FormatMinutes(ev.expired_minutes())));
  std::map<std::string, uint32_t> slots_rule;
  for (const auto& [pool, u] : ev.pools)
    if (u.left() > 0) slots_rule[pool] = u.left();
  if (slots_rule != rc.slots_expired)
    out.push_back(
        fmt::format("{}: expired slots recorded differ from the rules", FormatMonth(month)));
  if (rc.total_minor != ev.invoice.total_minor)
    out.push_back(fmt::format("{}: invoice total {} recorded, the rules give {}",
                              FormatMonth(month), rc.total_minor, ev.invoice.total_minor));
  else if (rc.lines_digest != LinesDigest(ev.invoice.lines))
    out.push_back(fmt::format("{}: invoice lines digest differs from the lines the rules give",
                              FormatMonth(month)));
  return out;
}

}  // namespace

MonthEval ClientState::EvaluateOpen(uint32_t month, int64_t reserve_start,
                                    const std::vector<Block>& blocks,
                                    std::vector<std::pair<uint64_t, std::vector<Charge>>>* charges,
                                    std::string* law_violation, uint64_t without) const {
  MonthInput in;
  in.month = month;
  in.terms = TermsFor(month);
  in.relationship_first = first_month();
  in.units = UnitsFor(month);
  if (in.terms && in.terms->last_month == month) {
    const ContractTerms* next = TermsFor(NextMonth(month));
    in.reserve_expires = !(next && next->continues);
    in.blocks_expire = next == nullptr;
  }
  in.reserve_start = reserve_start;
  in.blocks = &blocks;
  if (auto it = months_.find(month); it != months_.end()) {
    in.data = &it->second;
    for (uint64_t s : it->second.entry_seqs) {
      const Entry* e = FindEntry(s);
      if (e == nullptr || e->voided || s == without) continue;
      in.entries.push_back(e);
    }
  }
  // Breach credits: the month's SLA measured at its last instant (docs/sla.md).
  std::optional<SlaReport> sla;
  const PlanSpec* plan = in.terms ? in.terms->plan.get() : nullptr;
  if (plan && plan->sla && plan->sla->HasCredits()) {
    sla = ComputeSla(*this, month, zone().MonthEndUs(month) - 1);
    in.sla = &*sla;
  }
  MonthResult r = EvaluateMonth(in);
  if (law_violation) *law_violation = CheckMonthLaws(in, r);
  if (charges) *charges = std::move(r.charges);
  return std::move(r.eval);
}

void ClientState::ApplyClose(uint64_t seq, uint32_t month) {
  RecordedClose rc = std::move(pending_close_);
  pending_close_ = RecordedClose{};
  pending_close_month_ = 0;
  if (IsClosed(month)) {
    Problem(seq, fmt::format("month {} closed twice", FormatMonth(month)));
    return;
  }
  const uint32_t expected = FirstOpenMonth();
  if (expected != 0 && month != expected)
    Problem(seq, fmt::format("month {} closed out of order (expected {})", FormatMonth(month),
                             FormatMonth(expected)));

  // Blocks at the start of this month: as left by the previous close, or as bought.
  std::vector<Block> blocks = BlocksAfterClose();
  std::vector<std::pair<uint64_t, std::vector<Charge>>> charges;
  std::string law;
  MonthEval ev = EvaluateOpen(month, reserve_after_close_, blocks, &charges, &law);
  // The evaluation checks itself in every build: a broken law is a problem audit reports.
  if (!law.empty()) Problem(seq, "billing law broken: " + law);
  if (options_.retain_entries) closed_start_[month] = {reserve_after_close_, blocks};

  // The recorded closing entries are the facts; compare them with what the rules give.
  const RecordedExpiry x = SumRecordedExpiry(rc);
  for (std::string& what : CloseDifferences(month, rc, x, ev)) Problem(seq, std::move(what));

  // Advance the frozen state by the recorded facts.
  ev.carried_minutes = rc.carried_minutes;
  ev.expired_allowance_minutes = x.allowance;
  ev.expired_reserve_minutes = x.reserve;
  ev.expired_block_minutes = x.block;
  reserve_after_close_ =
      ev.reserve_start_minutes - ev.reserve_used_minutes + rc.carried_minutes - x.reserve;
  if (reserve_after_close_ < 0) reserve_after_close_ = 0;
  ev.reserve_end_minutes = reserve_after_close_;
  block_left_after_close_.clear();
  for (const Block& b : blocks_) {
    int64_t left = b.minutes;
    if (b.month <= month) {
      left = 0;
      for (const Block& e : ev.blocks_end)
        if (e.seq == b.seq) left = e.left_minutes;
      // ev.blocks_end already dropped rule-expired blocks; add back rule expiry then apply recorded
      for (const auto& [s, m] : ev.expired_blocks)
        if (s == b.seq) left += m;
      if (auto it = x.blocks.find(b.seq); it != x.blocks.end()) left -= it->second;
      if (left < 0) left = 0;
    }
    block_left_after_close_[b.seq] = left;
  }
  ev.closed = true;
  ev.invoice.closed = true;
  closed_.PutClose(month, rc);
  last_closed_ = month;

  if (!options_.retain_entries) {
    // Keep the figures, drop the entries: memory grows with months, not events.
    // An entry counting in the month is in its list, whose month it carries (CountEntry).
    months_.erase(month);
    std::erase_if(entries_, [month](const Entry& e) {
      return e.month == month || e.voided || e.review == Review::kRejected;
    });
    // The next month starts small again: do not keep the room the closed month needed.
    if (entries_.capacity() > 2 * entries_.size() + 16) entries_.shrink_to_fit();
  } else {
    // What paid for each entry is settled with the month.
    for (auto& [s, c] : charges)
      if (Entry* e = MutableEntry(s)) e->charges = std::move(c);
  }
  closed_.PutEval(month, ev);
}

MonthEval ClientState::Evaluate(uint32_t month) const {
  if (std::optional<MonthEval> ev = closed_.Eval(month)) return std::move(*ev);
  if (IsClosed(month) || month < first_month() || first_month() == 0) {
    MonthEval ev;  // before the contract, or closed with nothing recorded
    ev.month = month;
    ev.closed = IsClosed(month);
    ev.invoice.month = month;
    ev.invoice.closed = ev.closed;
    return ev;
  }
  // Open: evaluate the open months before it in order, carrying reserve and blocks forward.
  int64_t reserve = reserve_after_close_;
  std::vector<Block> blocks = BlocksAfterClose();
  uint32_t m = FirstOpenMonth();
  for (uint32_t guard = 0; m < month && guard < kMonthsMax; ++guard, m = NextMonth(m)) {
    MonthEval prev = EvaluateOpen(m, reserve, blocks);
    reserve = prev.reserve_end_minutes;
    blocks = std::move(prev.blocks_end);
  }
  return EvaluateOpen(month, reserve, blocks);
}

std::optional<MonthEval> ClientState::ReEvaluateClosedWithout(uint32_t month,
                                                              uint64_t entry_seq) const {
  if (!IsClosed(month)) return std::nullopt;
  auto it = closed_start_.find(month);
  if (it == closed_start_.end()) return std::nullopt;
  return EvaluateOpen(month, it->second.first, it->second.second, nullptr, nullptr, entry_seq);
}

std::vector<Entry> ClientState::EntriesFor(uint32_t month) const {
  std::vector<Entry> out;
  auto it = months_.find(month);
  if (it == months_.end()) return out;
  for (uint64_t s : it->second.entry_seqs)
    if (const Entry* e = FindEntry(s)) out.push_back(*e);
  if (const ContractTerms* t = TermsFor(month);
      t && t->plan) {  // billed minutes, as the month counts them
    std::vector<const Entry*> counted;
    std::vector<size_t> index;
    for (size_t i = 0; i < out.size(); ++i)
      if (!out[i].voided) {
        counted.push_back(&out[i]);
        index.push_back(i);
      }
    const std::vector<int64_t> billed = BillableMinutes(*t->plan, counted);
    for (size_t i = 0; i < index.size(); ++i) out[index[i]].billed_minutes = billed[i];
  }
  if (IsClosed(month) || month < first_month()) return out;  // closed: charges settled at the close
  // Open: evaluate the months before it, then this one with its charges.
  int64_t reserve = reserve_after_close_;
  std::vector<Block> blocks = BlocksAfterClose();
  uint32_t m = FirstOpenMonth();
  for (uint32_t guard = 0; m < month && guard < kMonthsMax; ++guard, m = NextMonth(m)) {
    MonthEval prev = EvaluateOpen(m, reserve, blocks);
    reserve = prev.reserve_end_minutes;
    blocks = std::move(prev.blocks_end);
  }
  std::vector<std::pair<uint64_t, std::vector<Charge>>> charges;
  (void)EvaluateOpen(month, reserve, blocks, &charges);
  for (Entry& e : out) {
    e.charges.clear();
    for (auto& [s, c] : charges)
      if (s == e.seq) e.charges = c;
  }
  return out;
}

}  // namespace hourbank::projections
