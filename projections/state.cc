#include "projections/state.h"
#include "projections/replay_bounds.h"

#include <algorithm>
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
// Bounded: at most kCalendarZonesMax names; past it, lookups are not cached. nullptr for an
// unknown name (the plan parser already rejects those; a replayed plan is checked again here).
constexpr size_t kCalendarZonesMax = 64;
const Zone* CalendarZone(const std::string& name) {
  thread_local std::vector<std::pair<std::string, std::optional<Zone>>> cache;
  for (const auto& [cached_name, zone] : cache)
    if (cached_name == name) return zone ? &*zone : nullptr;
  auto found = Zone::Find(name);
  std::optional<Zone> zone;
  if (found.ok()) zone = found.value();
  if (cache.size() >= kCalendarZonesMax) {
    thread_local std::optional<Zone> uncached;
    uncached = zone;
    return uncached ? &*uncached : nullptr;
  }
  cache.emplace_back(name, zone);
  return cache.back().second ? &*cache.back().second : nullptr;
}

using schemas::Event;

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// Unit price of one licence/fee after the prepayment and timely discounts: the discounts
// compound on the unrounded price and the result is rounded once (to round_to_minor, half
// away from zero). 1320 × 0.8 × 0.8 = 844.8 -> 845.
int64_t DiscountedPrice(int64_t price_minor, uint32_t prepaid_percent, uint32_t timely_percent,
                        int64_t round_to_minor) {
  const int64_t factor = int64_t(100 - prepaid_percent) * int64_t(100 - timely_percent);
  int64_t scaled = 0;
  if (MulOverflows(price_minor, factor, &scaled)) return price_minor;  // plan limits keep this unreachable
  const int64_t round_to = std::max<int64_t>(round_to_minor, 1);
  return RoundDiv(scaled, 10000 * round_to) * round_to;
}

uint32_t PrepaidPercent(const PlanSpec& plan, uint32_t prepaid_months) {
  uint32_t percent = 0;
  for (const PrepaidDiscount& d : plan.prepaid_discounts)
    if (prepaid_months >= d.min_months) percent = std::max(percent, d.percent);
  return percent;
}

int64_t TierPrice(const PlanSpec& plan, uint32_t units) {
  for (const Tier& t : plan.tiers)
    if (units >= t.min_units && (t.max_units == 0 || units <= t.max_units)) return t.unit_price_minor;
  return plan.tiers.empty() ? 0 : plan.tiers.back().unit_price_minor;
}

void AddLine(std::vector<InvoiceLine>& lines, std::string code, std::string description,
             int64_t quantity, int64_t unit_price_minor, int64_t amount_minor) {
  // Group identical (code, description, unit price) lines: 22 sites at 9.00 is one line.
  for (InvoiceLine& l : lines) {
    if (l.code == code && l.description == description && l.unit_price_minor == unit_price_minor &&
        code != "fee" && code != "discount") {
      l.quantity += quantity;
      l.amount_minor += amount_minor;
      return;
    }
  }
  lines.push_back({std::move(code), std::move(description), quantity, unit_price_minor, amount_minor});
}

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
    case Charge::Source::kAllowance: return "allowance";
    case Charge::Source::kReserve: return "reserve";
    case Charge::Source::kBlock: return "block";
    case Charge::Source::kOverage: return "overage";
    case Charge::Source::kUnlimited: return "unlimited";
    case Charge::Source::kSlot: return "slot";
    case Charge::Source::kAddonSlot: return "addon";
    case Charge::Source::kOneOff: return "one-off";
    case Charge::Source::kIncluded: return "included";
  }
  return "?";
}

int64_t Entry::billed_minor() const {
  int64_t sum = 0;
  for (const Charge& c : charges) sum += c.amount_minor + c.surcharge_minor;
  return sum;
}

std::string Entry::paid_by() const {
  if (voided) return "voided";
  if (month == 0) return "awaiting acceptance";
  std::string out;
  for (const Charge& c : charges) {
    if (!out.empty()) out += ", ";
    out += SourceName(c.source);
    if (c.source == Charge::Source::kBlock) out += fmt::format(" #{}", c.block_seq);
    if (!c.pool.empty()) out += " " + c.pool;
    if (unit == Unit::kHour) out += " " + FormatMinutes(c.minutes);
    else if (count > 1) out += fmt::format(" ×{}", c.count);
    if (c.surcharge_minor > 0) out += " +surcharge";
  }
  return out.empty() ? "nothing" : out;
}

// ---------------------------------------------------------------------------------------
// Contract lookups

const ContractTerms* ClientState::TermsFor(uint32_t month) const {
  if (terms_.empty() || month < terms_.front().from_month) return nullptr;
  if (last_month_ != 0 && month > last_month_) return nullptr;
  const ContractTerms* found = nullptr;
  for (const ContractTerms& t : terms_)
    if (t.from_month <= month) found = &t;
  return found;
}

uint32_t ClientState::first_month() const { return terms_.empty() ? 0 : terms_.front().from_month; }

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

bool ClientState::IsClosed(uint32_t month) const { return last_closed_ != 0 && month <= last_closed_; }

const Entry* ClientState::FindEntry(uint64_t seq) const {
  auto it = entries_.find(seq);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const Entry*> ClientState::PendingForTask(const std::string& task) const {
  std::vector<const Entry*> out;
  for (const auto& [seq, e] : entries_)
    if (e.month == 0 && !e.voided && e.task == task) out.push_back(&e);
  return out;
}

int64_t ClientState::invoiced_closed_minor() const {
  int64_t sum = 0;
  for (const auto& [month, rc] : closes_) sum += rc.total_minor;
  return sum;
}

bool ClientState::BlockedAt(int64_t now_us) const {
  // Invoices are due `grace_days` after their month ends. Blocked when the invoices already due
  // exceed what was paid.
  int64_t due_minor = 0;
  for (const auto& [month, rc] : closes_) {
    const ContractTerms* t = TermsFor(month);
    const int64_t grace_days = t ? t->plan->grace_days : 0;
    const int64_t due_us = zone_.MonthEndUs(month) + grace_days * 86400LL * 1000000LL;
    if (due_us <= now_us) due_minor += rc.total_minor;
  }
  return due_minor > paid_minor_;
}

// ---------------------------------------------------------------------------------------
// Apply

void ClientState::CountEntry(uint64_t seq, uint32_t month) {
  Entry& e = entries_[seq];
  e.month = month;
  months_[month].entry_seqs.push_back(seq);
}

// Months and terms stored in events are validated on replay like any other input: a value no
// decide function writes (a month that does not exist, a term of 4 billion months) is recorded
// as a replay problem and the event is skipped, never folded into arithmetic.
namespace {
constexpr uint32_t kTermMonthsMax = 1200;
bool BadMonth(uint32_t month) { return month != 0 && !ValidMonth(month); }
}  // namespace

void ClientState::Apply(uint64_t seq, Event::Reader ev) {
  version_++;
  last_seq_ = seq;
  const int64_t at_us = ev.getEffectiveAtUs();
  auto body = ev.getBody();
  // Replay validates what no decide function writes (see BadMonth above).
  {
    constexpr int64_t kYear9000Us = 221845392000LL * 1000000;  // 9000-01-01T00:00:00Z
    uint32_t month = 0;
    bool needs_month = false;
    switch (body.which()) {
      case Event::Body::UNITS_CHANGED: month = body.getUnitsChanged().getFromMonth(); break;
      case Event::Body::CONTRACT_ENDED: month = body.getContractEnded().getLastMonth(); break;
      case Event::Body::WORK_LOGGED: month = body.getWorkLogged().getBookedMonth(); break;
      case Event::Body::WORK_ACCEPTED: month = body.getWorkAccepted().getBookedMonth(); break;
      case Event::Body::WORK_VOIDED: month = body.getWorkVoided().getCreditMonth(); break;
      case Event::Body::HOURS_PURCHASED: month = body.getHoursPurchased().getMonth(); break;
      case Event::Body::ADDON_PURCHASED: month = body.getAddonPurchased().getMonth(); needs_month = true; break;
      case Event::Body::ADJUSTMENT: month = body.getAdjustment().getMonth(); break;
      case Event::Body::HOURS_CARRIED_OVER: month = body.getHoursCarriedOver().getMonth(); needs_month = true; break;
      case Event::Body::HOURS_EXPIRED: month = body.getHoursExpired().getMonth(); needs_month = true; break;
      case Event::Body::SLOTS_EXPIRED: month = body.getSlotsExpired().getMonth(); needs_month = true; break;
      case Event::Body::PERIOD_CLOSED: month = body.getPeriodClosed().getMonth(); needs_month = true; break;
      default: break;
    }
    if (BadMonth(month) || (needs_month && month == 0) || at_us < 0 || at_us >= kYear9000Us) {
      Problem(seq, fmt::format("event with month {} at {} µs is out of range; skipped", month, at_us));
      return;
    }
  }
  if (std::string money = CheckStoredMoney(ev); !money.empty()) {  // projections/replay_bounds.h
    Problem(seq, std::move(money));
    return;
  }
  switch (body.which()) {
    case Event::Body::CLIENT_REGISTERED: {
      auto b = body.getClientRegistered();
      registered_ = true;
      id_ = Str(ev.getClientId());
      name_ = Str(b.getName());
      currency_ = Str(b.getCurrency());
      auto zone = Zone::Find(Str(b.getTimezone()));
      if (zone.ok()) zone_ = zone.value();
      else Problem(seq, "unknown time zone " + Str(b.getTimezone()));
      break;
    }
    case Event::Body::CONTRACT_STARTED:
    case Event::Body::CONTRACT_CHANGED: {
      // A start and a change carry the same terms; a start replaces the contract, a change
      // replaces the terms from its month on.
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
      if (body.isContractStarted()) read_terms(body.getContractStarted());
      else read_terms(body.getContractChanged());
      if (!ValidMonth(t.from_month) || t.term_months > kTermMonthsMax) {
        Problem(seq, fmt::format("contract with month {} and term {} months is out of range", t.from_month, t.term_months));
        break;
      }
      if (body.isContractStarted()) {
        units_[t.from_month] = body.getContractStarted().getUnits();
        terms_.clear();
      } else {
        while (!terms_.empty() && terms_.back().from_month >= t.from_month) terms_.pop_back();
      }
      last_month_ = t.term_months ? AddMonths(t.from_month, int32_t(t.term_months) - 1) : 0;
      auto plan = ParseCanonicalPlan(spec);
      if (!plan.ok()) {
        Problem(seq, "contract plan text does not parse: " + plan.error().message);
        break;
      }
      t.plan = std::make_shared<const PlanSpec>(std::move(plan).value());
      terms_.push_back(std::move(t));
      break;
    }
    case Event::Body::CONTRACT_ENDED:
      last_month_ = body.getContractEnded().getLastMonth();
      break;
    case Event::Body::UNITS_CHANGED: {
      auto b = body.getUnitsChanged();
      units_[b.getFromMonth()] = b.getUnits();
      break;
    }
    case Event::Body::WORK_LOGGED: {
      auto b = body.getWorkLogged();
      Entry e;
      e.seq = seq;
      e.at_us = at_us;
      e.kind = Str(b.getKind());
      e.task = Str(b.getTask());
      e.staff = Str(b.getStaff());
      e.note = Str(b.getNote());
      e.minutes = b.getMinutes();
      e.count = b.getCount();
      e.unit = b.getCount() > 0 ? Unit::kItem : Unit::kHour;
      // Validate on replay too (found by tests/fuzz/fuzz_event): minutes beyond what
      // ParseDurationMinutes admits (10000 h) overflowed minutes × multiplier in Evaluate.
      if (e.minutes < 0 || e.minutes > 10000 * 60 || e.count < 0) {
        Problem(seq, fmt::format("work entry has {} minutes and count {}; out of range", e.minutes, e.count));
        break;
      }
      e.urgent = b.getUrgent();
      e.late = b.getLate();
      e.emergency = b.getEmergency();
      const uint32_t booked = b.getBookedMonth() ? b.getBookedMonth() : zone_.MonthOf(at_us);
      const ContractTerms* t = TermsFor(booked);
      if (t == nullptr) {
        Problem(seq, fmt::format("work in {} is outside the contract", FormatMonth(booked)));
        break;
      }
      switch (b.getOffHours()) {
        case schemas::OffHours::YES: e.off_hours = true; break;
        case schemas::OffHours::NO: e.off_hours = false; break;
        default: {
          e.off_hours = false;
          if (t->plan->calendar) {
            const Zone* cz = CalendarZone(t->plan->calendar->timezone);
            if (cz) e.off_hours = !IsOpen(*t->plan->calendar, *cz, at_us);
          }
        }
      }
      uint32_t m = 100;
      if (e.urgent) m = std::max(m, t->plan->urgent_percent);
      if (e.off_hours) m = std::max(m, t->plan->off_hours_percent);
      e.multiplier_percent = m;
      Entry& stored = entries_.insert_or_assign(seq, std::move(e)).first->second;
      if (t->plan->acceptance_required) {
        stored.month = 0;  // counts when accepted
      } else {
        if (IsClosed(booked)) Problem(seq, fmt::format("work booked into closed month {}", FormatMonth(booked)));
        CountEntry(seq, booked);
      }
      break;
    }
    case Event::Body::WORK_ACCEPTED: {
      auto b = body.getWorkAccepted();
      const std::string task = Str(b.getTask());
      const uint32_t booked = b.getBookedMonth() ? b.getBookedMonth() : zone_.MonthOf(at_us);
      bool any = false;
      for (auto& [s, e] : entries_) {
        if (e.month == 0 && !e.voided && e.task == task) {
          CountEntry(s, booked);
          any = true;
        }
      }
      if (!any) Problem(seq, "acceptance of task '" + task + "' with no pending work");
      break;
    }
    case Event::Body::WORK_VOIDED: {
      auto b = body.getWorkVoided();
      const uint64_t target = b.getEntrySeq();
      if (b.getCreditMonth() != 0) {
        // The entry's month was closed: its cost comes back as a credit in an open month.
        if (b.getCreditMinor() > 0)
          months_[b.getCreditMonth()].adjustments.push_back(
              {seq, "credit", fmt::format("credit for voided entry #{}", target), -b.getCreditMinor()});
        auto it = entries_.find(target);
        if (it != entries_.end()) it->second.voided = true;
        break;
      }
      auto it = entries_.find(target);
      if (it == entries_.end()) {
        Problem(seq, fmt::format("void of unknown entry #{}", target));
        break;
      }
      it->second.voided = true;
      if (it->second.month != 0) {
        auto& seqs = months_[it->second.month].entry_seqs;
        seqs.erase(std::remove(seqs.begin(), seqs.end(), target), seqs.end());
      }
      break;
    }
    case Event::Body::HOURS_PURCHASED: {
      auto b = body.getHoursPurchased();
      Block blk;
      blk.seq = seq;
      blk.minutes = b.getMinutes();
      blk.left_minutes = blk.minutes;
      blk.expires_at_us = b.getExpiresAtUs();
      blk.expires_month = blk.expires_at_us ? zone_.MonthOf(blk.expires_at_us - 1) : 0;
      blk.month = b.getMonth() ? b.getMonth() : zone_.MonthOf(at_us);
      block_index_[seq] = uint32_t(blocks_.size());
      blocks_.push_back(blk);
      if (b.getPriceMinor() > 0)
        months_[blk.month].adjustments.push_back(
            {seq, "hours_block", "prepaid hours " + FormatMinutes(blk.minutes), b.getPriceMinor()});
      break;
    }
    case Event::Body::ADDON_PURCHASED: {
      auto b = body.getAddonPurchased();
      const uint32_t month = b.getMonth();
      const std::string addon_id = Str(b.getAddonId());
      const ContractTerms* t = TermsFor(month);
      const Addon* addon = t ? t->plan->FindAddon(addon_id) : nullptr;
      if (addon == nullptr) {
        Problem(seq, "unknown add-on " + addon_id);
        break;
      }
      MonthData& md = months_[month];
      md.addon_slots[addon->kinds.empty() ? addon->pool : addon->id] += addon->slots;
      md.adjustments.push_back({seq, "addon", addon->id, b.getPriceMinor()});
      break;
    }
    case Event::Body::PAYMENT_RECEIVED:
      paid_minor_ += body.getPaymentReceived().getAmountMinor();
      break;
    case Event::Body::HOURS_CARRIED_OVER: {
      auto b = body.getHoursCarriedOver();
      pending_close_month_ = b.getMonth();
      pending_close_.carried_minutes += b.getMinutes();
      pending_close_.reserve_after_minutes = b.getReserveAfterMinutes();
      break;
    }
    case Event::Body::HOURS_EXPIRED: {
      auto b = body.getHoursExpired();
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
    case Event::Body::PERIOD_CLOSED: {
      auto b = body.getPeriodClosed();
      const uint32_t month = b.getMonth();
      if (pending_close_month_ != 0 && pending_close_month_ != month)
        Problem(seq, fmt::format("closing entries of {} followed by the close of {}",
                                 FormatMonth(pending_close_month_), FormatMonth(month)));
      pending_close_.total_minor = b.getTotalMinor();
      auto digest = b.getLinesDigest();
      if (digest.size() == 32) std::copy(digest.begin(), digest.end(), pending_close_.lines_digest.begin());
      pending_close_.line_count = b.getLineCount();
      pending_close_.closed_seq = seq;
      ApplyClose(seq, month);
      break;
    }
    case Event::Body::ADJUSTMENT: {
      auto b = body.getAdjustment();
      std::string code = "penalty";
      int64_t amount = b.getAmountMinor();
      if (b.getKind() == schemas::AdjustmentKind::CREDIT) { code = "credit"; amount = -amount; }
      if (b.getKind() == schemas::AdjustmentKind::CHARGE) code = "charge";
      months_[b.getMonth()].adjustments.push_back({seq, code, Str(b.getReason()), amount});
      break;
    }
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
    case Event::Body::PLAN_DEFINED:
    case Event::Body::TOKEN_ISSUED:
    case Event::Body::TOKEN_REVOKED:
    case Event::Body::CHECKPOINT:
      break;  // system streams; not part of a client's state
    default:
      Problem(seq, "event kind unknown to this version of hourbank");
  }
}

// ---------------------------------------------------------------------------------------
// Month evaluation

MonthEval ClientState::EvaluateOpen(uint32_t month, int64_t reserve_start,
                                    const std::vector<Block>& blocks_in) const {
  MonthEval ev;
  ev.month = month;
  ev.reserve_start_minutes = reserve_start;
  const ContractTerms* t = TermsFor(month);
  ev.in_contract = t != nullptr;
  const PlanSpec* plan = t ? t->plan.get() : nullptr;
  const uint32_t first = first_month();
  ev.trial = plan && plan->trial_months > 0 && MonthsBetween(first, month) < int32_t(plan->trial_months);
  ev.included_minutes = (plan && !ev.trial) ? plan->included_minutes : 0;

  // Blocks usable this month: bought in or before it, not expired before it.
  std::vector<Block> blocks;
  for (const Block& b : blocks_in)
    if (b.left_minutes > 0 && b.month <= month && (b.expires_month == 0 || b.expires_month >= month)) {
      blocks.push_back(b);
      ev.blocks_start_minutes += b.left_minutes;
    }
  std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    const int64_t ea = a.expires_at_us ? a.expires_at_us : INT64_MAX;
    const int64_t eb = b.expires_at_us ? b.expires_at_us : INT64_MAX;
    return ea != eb ? ea < eb : a.seq < b.seq;
  });

  // Slot pools: plan quotas, single-pool add-ons, shared add-ons (their own pool).
  const MonthData* md = nullptr;
  if (auto it = months_.find(month); it != months_.end()) md = &it->second;
  if (plan) {
    for (const auto& [pool, q] : plan->quotas) ev.pools[pool].quota += q;
    for (const Kind& k : plan->kinds)
      if (!k.pool.empty()) ev.pools[k.pool];  // present with quota 0
    if (md)
      for (const auto& [pool, slots] : md->addon_slots) ev.pools[pool].quota += slots;
  }

  int64_t allowance_left = ev.included_minutes;
  int64_t reserve_left = reserve_start;
  std::vector<InvoiceLine> task_lines;
  std::map<int64_t, int64_t> overage_by_rate;  // rate per hour -> minutes

  if (md && plan) {
    for (uint64_t seq : md->entry_seqs) {
      auto eit = entries_.find(seq);
      if (eit == entries_.end()) continue;
      // Evaluation fills a copy's charges; entries_ is logically const.
      Entry& e = const_cast<Entry&>(eit->second);
      e.charges.clear();
      const Kind* kind = plan->FindKind(e.kind);
      if (e.unit == Unit::kHour) {
        int64_t need = RoundDiv(e.minutes * int64_t(e.multiplier_percent), 100);
        ev.used_minutes += need;
        auto take = [&](int64_t& pool, Charge::Source src) {
          const int64_t n = std::min(need, pool);
          if (n <= 0) return;
          pool -= n;
          need -= n;
          e.charges.push_back({src, n, 0, 0, 0, 0, {}});
        };
        int64_t a0 = allowance_left;
        take(allowance_left, Charge::Source::kAllowance);
        ev.allowance_used_minutes += a0 - allowance_left;
        int64_t r0 = reserve_left;
        take(reserve_left, Charge::Source::kReserve);
        ev.reserve_used_minutes += r0 - reserve_left;
        for (Block& b : blocks) {
          if (need <= 0) break;
          if (b.expires_month != 0 && b.expires_month < month) continue;
          const int64_t n = std::min(need, b.left_minutes);
          if (n <= 0) continue;
          b.left_minutes -= n;
          need -= n;
          ev.block_used_minutes += n;
          e.charges.push_back({Charge::Source::kBlock, n, 0, 0, 0, b.seq, {}});
        }
        if (need > 0) {
          if (plan->unlimited) {
            ev.unlimited_minutes += need;
            e.charges.push_back({Charge::Source::kUnlimited, need, 0, 0, 0, 0, {}});
          } else {
            const int64_t rate = (kind && kind->price_minor) ? *kind->price_minor : plan->overage_rate_minor;
            ev.overage_minutes += need;
            overage_by_rate[rate] += need;
            e.charges.push_back({Charge::Source::kOverage, need, 0, RoundDiv(need * rate, 60), 0, 0, {}});
          }
        }
        continue;
      }
      // Item work.
      int64_t left = e.count;
      if (kind && kind->included) {
        e.charges.push_back({Charge::Source::kIncluded, 0, left, 0, 0, 0, {}});
        continue;
      }
      const int64_t price = (kind && kind->price_minor) ? *kind->price_minor : 0;
      // What one item costs with surcharges: the largest applicable multiplier wins; a kind's
      // own off-hours price replaces the off-hours multiplier (it is not doubled).
      int64_t effective = RoundDiv(price * int64_t(e.multiplier_percent), 100);
      if (e.off_hours && kind && kind->off_hours_price_minor) {
        const int64_t urgent = e.urgent ? RoundDiv(price * int64_t(plan->urgent_percent), 100) : 0;
        effective = std::max(*kind->off_hours_price_minor, urgent);
      }
      const int64_t surcharge = std::max<int64_t>(effective - price, 0);
      std::string kind_name = e.kind;
      if (kind && !kind->pool.empty()) {
        auto draw = [&](const std::string& pool, Charge::Source src) {
          auto pit = ev.pools.find(pool);
          if (pit == ev.pools.end() || left <= 0) return;
          const int64_t n = std::min<int64_t>(left, pit->second.left());
          if (n <= 0) return;
          pit->second.used += uint32_t(n);
          left -= n;
          e.charges.push_back({src, 0, n, 0, n * surcharge, 0, pool});
          if (surcharge > 0)
            AddLine(task_lines, "surcharge", kind_name + (e.urgent ? " urgent" : " off-hours") + " (in quota)",
                    n, surcharge, n * surcharge);
        };
        draw(kind->pool, Charge::Source::kSlot);
        for (const Addon& a : plan->addons)
          if (!a.kinds.empty() && std::find(a.kinds.begin(), a.kinds.end(), e.kind) != a.kinds.end())
            draw(a.id, Charge::Source::kAddonSlot);
      }
      if (left > 0) {
        e.charges.push_back({Charge::Source::kOneOff, 0, left, left * effective, 0, 0, {}});
        std::string desc = kind_name;
        if (e.urgent && effective != price) desc += " urgent";
        else if (e.off_hours && effective != price) desc += " off-hours";
        AddLine(task_lines, "task", desc, left, effective, left * effective);
      }
    }
  }
  ev.pools.erase(std::string());  // never a pool named ""

  // Closing figures by the rules.
  const int64_t unused = allowance_left;
  const int64_t reserve_after_use = reserve_left;
  if (plan) {
    switch (plan->rollover) {
      case Rollover::kBurn: ev.carried_minutes = 0; break;
      case Rollover::kCarry:
        ev.carried_minutes = std::clamp<int64_t>(plan->reserve_cap_minutes - reserve_after_use, 0, unused);
        break;
      case Rollover::kCarryUnlimited: ev.carried_minutes = unused; break;
    }
  }
  ev.expired_allowance_minutes = unused - ev.carried_minutes;
  int64_t reserve_end = reserve_after_use + ev.carried_minutes;
  // The reserve lasts for the contract's term: it expires with the last month.
  if (last_month_ != 0 && month == last_month_) {
    ev.expired_reserve_minutes = reserve_end;
    reserve_end = 0;
  }
  ev.reserve_end_minutes = reserve_end;
  for (const Block& b : blocks_in) {
    if (b.month > month) {  // bought for a later month: untouched
      ev.blocks_end.push_back(b);
      continue;
    }
    Block after = b;
    for (const Block& used : blocks)
      if (used.seq == b.seq) after.left_minutes = used.left_minutes;
    if (after.expires_month != 0 && after.expires_month <= month && after.left_minutes > 0) {
      ev.expired_block_minutes += after.left_minutes;
      ev.expired_blocks.emplace_back(after.seq, after.left_minutes);
      after.left_minutes = 0;
    }
    if (after.left_minutes > 0) ev.blocks_end.push_back(after);
  }

  // Invoice.
  std::vector<InvoiceLine>& lines = ev.invoice.lines;
  ev.invoice.month = month;
  if (plan && !ev.trial) {
    const bool prepaid_month = t->prepaid_months > 0 && MonthsBetween(t->from_month, month) < int32_t(t->prepaid_months);
    const uint32_t prepaid_percent = prepaid_month ? PrepaidPercent(*plan, t->prepaid_months) : 0;
    const uint32_t timely_percent = t->timely ? plan->timely_discount_percent : 0;
    int64_t unit_price = plan->fee_minor;
    int64_t units = 1;
    std::string desc = plan->name.empty() ? plan->id : plan->name;
    if (!plan->tiers.empty()) {
      units = UnitsFor(month);
      unit_price = TierPrice(*plan, uint32_t(units));
      desc += fmt::format(", {} licences", units);
    }
    if (unit_price > 0 && units > 0) {
      lines.push_back({"fee", desc, units, unit_price, units * unit_price});
      if (prepaid_percent || timely_percent) {
        const int64_t discounted = DiscountedPrice(unit_price, prepaid_percent, timely_percent, plan->round_to_minor);
        std::string why;
        if (prepaid_percent) why += fmt::format("prepaid {} months −{}%", t->prepaid_months, prepaid_percent);
        if (timely_percent) why += fmt::format("{}timely −{}%", why.empty() ? "" : ", ", timely_percent);
        lines.push_back({"discount", why, units, discounted - unit_price, units * (discounted - unit_price)});
      }
    }
  }
  if (plan)
    for (const auto& [extra_id, qty] : t->extras) {
      const ExtraPrice* x = plan->FindExtra(extra_id);
      if (x && qty > 0) lines.push_back({"extra", extra_id, qty, x->price_minor, qty * x->price_minor});
    }
  for (const auto& [rate, minutes] : overage_by_rate)
    lines.push_back({"overage", fmt::format("hours beyond the plan, {}", FormatMinutes(minutes)),
                     minutes, rate, RoundDiv(minutes * rate, 60)});
  for (InvoiceLine& l : task_lines) lines.push_back(std::move(l));
  if (md)
    for (const Adjust& a : md->adjustments) {
      if (a.code == "addon") AddLine(lines, "addon", a.description, 1, a.amount_minor, a.amount_minor);
      else lines.push_back({a.code, a.description, 1, a.amount_minor, a.amount_minor});
    }
  for (const InvoiceLine& l : lines) ev.invoice.total_minor += l.amount_minor;
  return ev;
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
    Problem(seq, fmt::format("month {} closed out of order (expected {})", FormatMonth(month), FormatMonth(expected)));

  // Blocks at the start of this month: as left by the previous close, or as bought.
  std::vector<Block> blocks;
  for (const Block& b : blocks_) {
    Block x = b;
    if (auto it = block_left_after_close_.find(b.seq); it != block_left_after_close_.end()) x.left_minutes = it->second;
    blocks.push_back(x);
  }
  MonthEval ev = EvaluateOpen(month, reserve_after_close_, blocks);

  // The recorded closing entries are the facts; compare them with what the rules give.
  int64_t exp_allow = 0, exp_res = 0, exp_block = 0;
  std::map<uint64_t, int64_t> exp_blocks;
  for (const auto& [bucket, bseq, minutes] : rc.expired) {
    if (bucket == schemas::Bucket::ALLOWANCE) exp_allow += minutes;
    else if (bucket == schemas::Bucket::RESERVE) exp_res += minutes;
    else { exp_block += minutes; exp_blocks[bseq] += minutes; }
  }
  if (rc.carried_minutes != ev.carried_minutes)
    Problem(seq, fmt::format("{}: carried {} recorded, the rules give {}", FormatMonth(month),
                             FormatMinutes(rc.carried_minutes), FormatMinutes(ev.carried_minutes)));
  if (exp_allow != ev.expired_allowance_minutes || exp_res != ev.expired_reserve_minutes ||
      exp_block != ev.expired_block_minutes)
    Problem(seq, fmt::format("{}: expired {} recorded, the rules give {}", FormatMonth(month),
                             FormatMinutes(exp_allow + exp_res + exp_block), FormatMinutes(ev.expired_minutes())));
  std::map<std::string, uint32_t> slots_rule;
  for (const auto& [pool, u] : ev.pools)
    if (u.left() > 0) slots_rule[pool] = u.left();
  if (slots_rule != rc.slots_expired)
    Problem(seq, fmt::format("{}: expired slots recorded differ from the rules", FormatMonth(month)));
  if (rc.total_minor != ev.invoice.total_minor)
    Problem(seq, fmt::format("{}: invoice total {} recorded, the rules give {}", FormatMonth(month),
                             rc.total_minor, ev.invoice.total_minor));
  else if (rc.lines_digest != LinesDigest(ev.invoice.lines))
    Problem(seq, fmt::format("{}: invoice lines digest differs from the lines the rules give", FormatMonth(month)));

  // Advance the frozen state by the recorded facts.
  ev.carried_minutes = rc.carried_minutes;
  ev.expired_allowance_minutes = exp_allow;
  ev.expired_reserve_minutes = exp_res;
  ev.expired_block_minutes = exp_block;
  reserve_after_close_ = ev.reserve_start_minutes - ev.reserve_used_minutes + rc.carried_minutes - exp_res;
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
      if (auto it = exp_blocks.find(b.seq); it != exp_blocks.end()) left -= it->second;
      if (left < 0) left = 0;
    }
    block_left_after_close_[b.seq] = left;
  }
  ev.closed = true;
  ev.invoice.closed = true;
  closes_[month] = rc;
  last_closed_ = month;

  if (!options_.retain_entries) {
    // Keep the figures, drop the entries: memory grows with months, not events.
    if (auto it = months_.find(month); it != months_.end()) {
      for (uint64_t s : it->second.entry_seqs) entries_.erase(s);
      months_.erase(it);
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.voided) it = entries_.erase(it);
      else ++it;
    }
  }
  closed_[month] = std::move(ev);
}

MonthEval ClientState::Evaluate(uint32_t month) const {
  if (auto it = closed_.find(month); it != closed_.end()) return it->second;
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
  std::vector<Block> blocks;
  for (const Block& b : blocks_) {
    Block x = b;
    if (auto it = block_left_after_close_.find(b.seq); it != block_left_after_close_.end()) x.left_minutes = it->second;
    blocks.push_back(x);
  }
  uint32_t m = FirstOpenMonth();
  for (int guard = 0; m < month && guard < 1200; ++guard, m = NextMonth(m)) {
    MonthEval prev = EvaluateOpen(m, reserve, blocks);
    reserve = prev.reserve_end_minutes;
    blocks = prev.blocks_end;
  }
  return EvaluateOpen(month, reserve, blocks);
}

std::vector<Entry> ClientState::EntriesFor(uint32_t month) const {
  (void)Evaluate(month);  // fills the entries' charges
  std::vector<Entry> out;
  auto it = months_.find(month);
  if (it == months_.end()) return out;
  for (uint64_t s : it->second.entry_seqs)
    if (auto e = entries_.find(s); e != entries_.end()) out.push_back(e->second);
  return out;
}

}  // namespace hourbank::projections
