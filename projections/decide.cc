#include "projections/decide.h"

#include "projections/limits.h"
#include "projections/month_eval.h"

#include <algorithm>

#include <fmt/format.h>

namespace hourbank::projections {

namespace {

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// How far ahead of the clock a time may be: an allowance for clock skew between machines, a
// duration (not a calendar day, which is added with Zone arithmetic wherever one is meant).
constexpr int64_t kClockSkewUs = kMinutesMaxClockSkew * kUsPerMinute;

ledger::EventDraft Draft(int64_t effective_at_us) {
  ledger::EventDraft d;
  d.root().setEffectiveAtUs(effective_at_us);
  return d;
}

// One HoursExpired event: `minutes` of `bucket` (a block: `block_seq`) expired in `month`.
void AddHoursExpired(Decision& d, int64_t at_us, uint32_t month, schemas::Bucket bucket,
                     uint64_t block_seq, int64_t minutes) {
  ledger::EventDraft x = Draft(at_us);
  auto b = x.root().initBody().initHoursExpired();
  b.setMonth(month);
  b.setBucket(bucket);
  b.setBlockSeq(block_seq);
  b.setMinutes(minutes);
  d.events.push_back(std::move(x));
}

Status NeedClient(const ClientState& state) {
  if (!state.registered())
    return Error::NotFound(
        fmt::format("unknown client '{}'; add it first with `hourbank client add`", state.id()));
  return Status::Ok();
}

Status NeedContract(const ClientState& state) {
  HB_TRY(NeedClient(state));
  if (!state.has_contract())
    return Error::Refused(fmt::format(
        "client '{}' has no contract; start one with `hourbank contract start`", state.id()));
  return Status::Ok();
}

// The month an event dated at_us lands in: its own month if open, else (with late) the first
// open month; refused otherwise.
Result<uint32_t> BookMonth(const ClientState& state, int64_t at_us, bool late, const char* what) {
  const uint32_t month = state.zone().MonthOf(at_us);
  if (!state.IsClosed(month)) return month;
  if (!late)
    return Error::Refused(fmt::format(
        "{} is dated {} but {} is closed; book it into {} with --late", what,
        state.zone().FormatIso(at_us), FormatMonth(month), FormatMonth(state.FirstOpenMonth())));
  return state.FirstOpenMonth();
}

// A duration for hour kinds, a count for item kinds; --non-billable only on hour work.
Status CheckAmount(const Kind& kind, const LogWork& cmd) {
  if (kind.unit == Unit::kHour) {
    if (cmd.count != 0)
      return Error::Invalid(
          fmt::format("'{}' is measured in hours; give a duration, not --count", cmd.kind));
    if (cmd.minutes <= 0 || cmd.minutes > kMinutesMaxPerEntry)
      return Error::Invalid(
          fmt::format("duration must be more than 0 and at most {}h; e.g. 90m or 1.5h",
                      kMinutesMaxPerEntry / kMinutesPerHour));
    return Status::Ok();
  }
  if (cmd.minutes != 0)
    return Error::Invalid(
        fmt::format("'{}' is counted in items; use --count N, not a duration", cmd.kind));
  if (cmd.count <= 0 || cmd.count > kCountMaxPerEntry)
    return Error::Invalid(fmt::format("--count must be 1 to {}", kCountMaxPerEntry));
  if (cmd.non_billable)
    return Error::Invalid(
        fmt::format("--non-billable applies to hour work; '{}' is counted in items "
                    "(an item kind that costs nothing is `included = true` in the plan)",
                    cmd.kind));
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Catalog

void Catalog::Apply(uint64_t seq, schemas::Event::Reader event) {
  version_++;
  if (!event.getBody().isPlanDefined()) return;
  auto b = event.getBody().getPlanDefined();
  Version v;
  v.version = b.getVersion();
  v.spec_toml = Str(b.getSpecToml());
  v.defined_at_us = event.getEffectiveAtUs();
  v.seq = seq;
  auto parsed = ParseCanonicalPlan(v.spec_toml);
  if (parsed.ok()) v.spec = std::make_shared<const PlanSpec>(std::move(parsed).value());
  plans_[Str(b.getPlanId())].push_back(std::move(v));
}

const Catalog::Version* Catalog::Find(const std::string& plan_id, uint32_t version) const {
  auto it = plans_.find(plan_id);
  if (it == plans_.end() || it->second.empty()) return nullptr;
  if (version == 0) return &it->second.back();
  for (const Version& v : it->second)
    if (v.version == version) return &v;
  return nullptr;
}

Result<Decision> DecidePlanDefine(const Catalog& catalog, const std::vector<PlanSpec>& plans,
                                  int64_t now_us) {
  Decision d;
  std::vector<std::string> changed;
  for (const PlanSpec& p : plans) {
    const std::string text = CanonicalToml(p);
    const Catalog::Version* latest = catalog.Find(p.id);
    if (latest && latest->spec_toml == text) continue;
    const uint32_t version = latest ? latest->version + 1 : 1;
    ledger::EventDraft draft = Draft(now_us);
    auto b = draft.root().initBody().initPlanDefined();
    b.setPlanId(p.id);
    b.setVersion(version);
    b.setSpecToml(text);
    const ledger::Hash h = ledger::Digest(text);
    b.setSpecDigest(kj::arrayPtr(h.data(), h.size()));
    d.events.push_back(std::move(draft));
    changed.push_back(fmt::format("{} v{}", p.id, version));
  }
  if (changed.empty())
    d.summary = fmt::format("{} plan(s) unchanged", plans.size());
  else {
    d.summary = "defined ";
    for (size_t i = 0; i < changed.size(); ++i) d.summary += (i ? ", " : "") + changed[i];
  }
  return d;
}

// ---------------------------------------------------------------------------------------
// Clients and contracts

Result<Decision> DecideRegister(const ClientState& state, const RegisterClient& cmd,
                                int64_t now_us) {
  if (state.registered())
    return Error::Refused(
        fmt::format("client '{}' already exists; choose another id", cmd.client_id));
  if (!ledger::ValidClientId(cmd.client_id) || cmd.client_id[0] == '$')
    return Error::Invalid(
        fmt::format("client id '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-' starting "
                    "with a letter or digit",
                    cmd.client_id));
  if (cmd.name.empty() || cmd.name.size() > kBytesMaxClientName)
    return Error::Invalid(fmt::format(
        "client name must be 1 to {} characters; pass --name \"Acme Ltd\"", kBytesMaxClientName));
  auto digits = CurrencyMinorDigits(cmd.currency);
  if (!digits.ok()) return digits.error();
  auto zone = Zone::Find(cmd.timezone);
  if (!zone.ok()) return zone.error();
  Decision d;
  ledger::EventDraft draft = Draft(now_us);
  auto b = draft.root().initBody().initClientRegistered();
  b.setName(cmd.name);
  b.setCurrency(cmd.currency);
  b.setTimezone(cmd.timezone);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("client {} added ({}, {})", cmd.client_id, cmd.currency, cmd.timezone);
  return d;
}

namespace {

// The plan version a contract pins: the latest, or the one asked for.
Result<const Catalog::Version*> PlanVersion(const Catalog& catalog, const StartContract& cmd) {
  const Catalog::Version* v = catalog.Find(cmd.plan_id, cmd.plan_version);
  if (v != nullptr && v->spec) return v;
  if (cmd.plan_version && catalog.Find(cmd.plan_id))
    return Error::NotFound(fmt::format("plan '{}' has no version {}; see `hourbank plan show {}`",
                                       cmd.plan_id, cmd.plan_version, cmd.plan_id));
  return Error::NotFound(fmt::format("unknown plan '{}'; see `hourbank plan list`", cmd.plan_id));
}

// The term in months (0 = open-ended): as asked, else the plan's minimum; at least the
// minimum, and one the plan allows.
Result<uint32_t> TermMonths(const PlanSpec& plan, const StartContract& cmd) {
  const uint32_t term = cmd.term_months ? cmd.term_months : plan.minimum_term_months;
  if (term != 0 && term < plan.minimum_term_months)
    return Error::Refused(
        fmt::format("plan '{}' has a minimum term of {} months; pass --months {} or more", plan.id,
                    plan.minimum_term_months, plan.minimum_term_months));
  const std::vector<uint32_t>& allowed = plan.allowed_terms_months;
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), term) != allowed.end())
    return term;
  std::string list;
  for (size_t i = 0; i < allowed.size(); ++i)
    list += fmt::format("{}{}", i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ", allowed[i]);
  return Error::Refused(
      fmt::format("plan '{}' is made and renewed for {} months only, not {}; pass --months {}",
                  plan.id, list, term ? fmt::format("{}", term) : "open-ended", allowed.front()));
}

// A renewal or a later contract appends a term; it may not overlap one that exists.
Status NoOverlap(const ClientState& state, uint32_t from_month, uint32_t term) {
  if (term > kMonthsMax) return Status::Ok();  // refused below as out of range
  const uint32_t new_last = term ? AddMonths(from_month, int32_t(term) - 1) : 0;
  auto period = [](uint32_t from, uint32_t last) {
    return fmt::format("{} … {}", FormatMonth(from), last ? FormatMonth(last) : "open-ended");
  };
  for (const ContractTerms& t : state.terms()) {
    const bool overlap = (t.last_month == 0 || t.last_month >= from_month) &&
                         (new_last == 0 || new_last >= t.from_month);
    if (!overlap) continue;
    const std::string fix =
        t.last_month != 0 && t.from_month < from_month
            ? fmt::format(
                  "start the new one in {} or later, or end the current one first with "
                  "`hourbank contract end {} --after {}`",
                  FormatMonth(NextMonth(t.last_month)), state.id(),
                  FormatMonth(AddMonths(from_month, -1)))
        : t.from_month < from_month
            ? fmt::format("end the current one first with `hourbank contract end {} --after {}`",
                          state.id(), FormatMonth(AddMonths(from_month, -1)))
            : fmt::format("start the new one after {}",
                          t.last_month ? FormatMonth(t.last_month) : "the current one ends");
    return Error::Refused(fmt::format("the new contract {} overlaps the contract {} of '{}'; {}",
                                      period(from_month, new_last),
                                      period(t.from_month, t.last_month), state.id(), fix));
  }
  return Status::Ok();
}

// The bounds of the term, the prepaid months, the licences and the extras.
Status StartOptionsInRange(const PlanSpec& plan, const StartContract& cmd, uint32_t term) {
  if (term > kMonthsMax)
    return Error::Invalid(fmt::format("--months must be at most {}", kMonthsMax));
  if (cmd.prepaid_months > kMonthsMax)
    return Error::Invalid(fmt::format("--prepaid must be at most {}", kMonthsMax));
  if (term != 0 && cmd.prepaid_months > term)
    return Error::Invalid(fmt::format("--prepaid {} is longer than the contract's {} months",
                                      cmd.prepaid_months, term));
  if (!plan.tiers.empty() && cmd.units == 0)
    return Error::Invalid(fmt::format("plan '{}' is priced per licence; pass --units N", plan.id));
  if (plan.tiers.empty() && cmd.units != 0)
    return Error::Invalid(
        fmt::format("plan '{}' is not priced per licence; drop --units", plan.id));
  if (cmd.units > kUnitsMaxPerContract) return Error::Invalid("--units must be at most 1 000 000");
  for (const auto& [name, qty] : cmd.extras) {
    if (!plan.FindExtra(name)) {
      std::string known;
      for (const ExtraPrice& x : plan.extras) known += (known.empty() ? "" : ", ") + x.id;
      return Error::Invalid(fmt::format("plan '{}' has no extra '{}'{}", plan.id, name,
                                        known.empty() ? "" : "; known extras: " + known));
    }
    if (qty == 0 || qty > kCountMaxPerExtra)
      return Error::Invalid(
          fmt::format("extra '{}' quantity must be 1 to {}", name, kCountMaxPerExtra));
  }
  return Status::Ok();
}

ledger::EventDraft ContractStartedDraft(const ClientState& state, const Catalog::Version& v,
                                        const StartContract& cmd, uint32_t term) {
  ledger::EventDraft draft = Draft(state.zone().MonthStartUs(cmd.from_month));
  auto b = draft.root().initBody().initContractStarted();
  b.setPlanId(v.spec->id);
  b.setPlanVersion(v.version);
  b.setPlanSpecToml(v.spec_toml);
  b.setFromMonth(cmd.from_month);
  b.setTermMonths(term);
  b.setPrepaidMonths(cmd.prepaid_months);
  b.setTimely(cmd.timely);
  b.setUnits(cmd.units);
  if (cmd.review == ContractTerms::ReviewRule::kRequired)
    b.setReview(schemas::ReviewRule::REQUIRED);
  if (cmd.review == ContractTerms::ReviewRule::kOff) b.setReview(schemas::ReviewRule::OFF);
  auto extras = b.initExtras(uint32_t(cmd.extras.size()));
  uint32_t i = 0;
  for (const auto& [name, qty] : cmd.extras) {
    extras[i].setName(name);
    extras[i].setQuantity(qty);
    ++i;
  }
  return draft;
}

}  // namespace

Result<Decision> DecideContractStart(const ClientState& state, const Catalog& catalog,
                                     const StartContract& cmd, int64_t now_us) {
  HB_TRY(NeedClient(state));
  const Result<const Catalog::Version*> version = PlanVersion(catalog, cmd);
  if (!version.ok()) return version.error();
  const Catalog::Version& v = *version.value();
  const PlanSpec& plan = *v.spec;
  if (plan.currency != state.currency())
    return Error::Refused(
        fmt::format("plan '{}' is priced in {} but client '{}' pays in {}; choose a {} plan",
                    plan.id, plan.currency, state.id(), state.currency(), state.currency()));
  if (!ValidMonth(cmd.from_month)) return Error::Invalid("--from must be a month YYYY-MM");
  if (cmd.from_month <= state.last_closed_month())
    return Error::Refused(fmt::format("{} is already closed; start the contract in {} or later",
                                      FormatMonth(cmd.from_month),
                                      FormatMonth(NextMonth(state.last_closed_month()))));
  const Result<uint32_t> term_months = TermMonths(plan, cmd);
  if (!term_months.ok()) return term_months.error();
  const uint32_t term = term_months.value();
  HB_TRY(NoOverlap(state, cmd.from_month, term));
  HB_TRY(StartOptionsInRange(plan, cmd, term));
  if (cmd.review == ContractTerms::ReviewRule::kRequired && plan.acceptance_required)
    return Error::Invalid(fmt::format(
        "plan '{}' bills work on the client's acceptance; --review required cannot be combined "
        "with it (leave --review out)",
        plan.id));
  (void)now_us;
  Decision d;
  d.events.push_back(ContractStartedDraft(state, v, cmd, term));
  d.summary =
      fmt::format("contract for {} on {} v{} from {}{}", state.id(), plan.id, v.version,
                  FormatMonth(cmd.from_month), term ? fmt::format(" for {} months", term) : "");
  return d;
}

Result<Decision> DecideUnits(const ClientState& state, uint32_t units, uint32_t from_month,
                             int64_t now_us) {
  HB_TRY(NeedContract(state));
  const ContractTerms* t = state.TermsFor(from_month);
  if (!t)
    return Error::Refused(
        fmt::format("{} is outside the contract of '{}'", FormatMonth(from_month), state.id()));
  if (t->plan->tiers.empty())
    return Error::Refused(fmt::format("plan '{}' is not priced per licence", t->plan_id));
  if (units == 0 || units > kUnitsMaxPerContract)
    return Error::Invalid("licences must be 1 to 1 000 000");
  if (state.IsClosed(from_month))
    return Error::Refused(fmt::format("{} is closed; change licences from {} or later",
                                      FormatMonth(from_month),
                                      FormatMonth(state.FirstOpenMonth())));
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(state.zone().MonthStartUs(from_month));
  auto b = draft.root().initBody().initUnitsChanged();
  b.setUnits(units);
  b.setFromMonth(from_month);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("{}: {} licences from {}", state.id(), units, FormatMonth(from_month));
  return d;
}

Result<Decision> DecideContractEnd(const ClientState& state, uint32_t last_month, int64_t now_us) {
  return DecideContractEnd(state, last_month, false, now_us);
}

namespace {

// The refusals about the month itself: before the start, before the last closed month, in no term.
Result<const ContractTerms*> TermEnding(const ClientState& state, uint32_t last_month) {
  if (!ValidMonth(last_month) || last_month < state.first_month())
    return Error::Invalid(
        fmt::format("--after must be a month at or after the contract's start ({})",
                    FormatMonth(state.first_month())));
  if (last_month < state.last_closed_month())
    return Error::Refused(fmt::format("{} is after the end month {}; months are closed through {}",
                                      FormatMonth(state.last_closed_month()),
                                      FormatMonth(last_month),
                                      FormatMonth(state.last_closed_month())));
  const ContractTerms* t = state.TermsFor(last_month);
  if (t == nullptr)
    return Error::Refused(
        fmt::format("{} is outside the contract of '{}'; end it at a month it covers",
                    FormatMonth(last_month), state.id()));
  return t;
}

// Work already logged after the end would be left outside every contract.
Status NoWorkAfter(const ClientState& state, uint32_t last_month) {
  const std::vector<uint64_t> after = state.EntriesAfter(last_month);
  if (after.empty()) return Status::Ok();
  std::string ids;
  for (size_t i = 0; i < after.size() && i < 10; ++i)
    ids += fmt::format("{}#{}", i ? ", " : "", after[i]);
  if (after.size() > 10) ids += fmt::format(" and {} more", after.size() - 10);
  return Error::Refused(
      fmt::format("ending the contract of '{}' after {} would leave {} work entr{} outside every "
                  "contract ({}); "
                  "void them with `hourbank void {} ID --reason ...`, or end later",
                  state.id(), FormatMonth(last_month), after.size(),
                  after.size() == 1 ? "y" : "ies", ids, state.id()));
}

// The fee (after discounts) of one month, as the early-end charge prices the months left; a
// trial month has no fee, so it is priced at the plan's fee (per licence on tiered plans).
int64_t EarlyEndMonthFee(const ClientState& state, const PlanSpec& plan, uint32_t last_month) {
  int64_t fee = 0;
  for (const InvoiceLine& l : state.InvoiceFor(last_month).lines)
    if (l.code == "fee" || l.code == "discount") fee += l.amount_minor;
  if (fee > 0) return fee;
  const uint32_t units = state.UnitsFor(last_month);
  fee = plan.fee_minor;
  for (const Tier& tier : plan.tiers)
    if (units >= tier.min_units && (tier.max_units == 0 || units <= tier.max_units))
      fee = tier.unit_price_minor * int64_t(units);
  return fee;
}

// The months of the minimum term an end after `last_month` charges now: those after it up to
// the term's minimum, less the ones an earlier early end already charged (they follow the
// term's current last month when that is before the minimum; their charge moves, see below).
int64_t EarlyEndMonthsToCharge(const ContractTerms& t, uint32_t last_month) {
  uint32_t charged_through = AddMonths(t.from_month, int32_t(t.plan->minimum_term_months) - 1);
  if (t.last_month != 0 && t.last_month < charged_through) charged_through = t.last_month;
  return std::max<int64_t>(0, MonthsBetween(last_month, charged_through));
}

// The early-end rules before the minimum term: refused without --early; then the plan's
// early_end rule. Returns the money owed now for the months left (0 when none).
Result<int64_t> EarlyEndChargeMinor(const ClientState& state, const ContractTerms& t,
                                    uint32_t last_month, bool early) {
  const PlanSpec& plan = *t.plan;
  const int32_t months = MonthsBetween(t.from_month, last_month) + 1;
  const bool before_minimum =
      plan.minimum_term_months != 0 && months < int32_t(plan.minimum_term_months);
  if (!before_minimum) return int64_t{0};
  if (!early)
    return Error::Refused(fmt::format(
        "plan '{}' has a minimum term of {} months and the contract from {} would last {}; "
        "end after {} or later, or pass --early (early end on this plan: {})",
        t.plan_id, plan.minimum_term_months, FormatMonth(t.from_month), months,
        FormatMonth(AddMonths(t.from_month, int32_t(plan.minimum_term_months) - 1)),
        EarlyEndName(plan.early_end)));
  switch (plan.early_end) {
    case EarlyEnd::kFree:
      return int64_t{0};
    case EarlyEnd::kWhenSettled:
      // "Заказчик вправе прервать действие договора ... лишь при полном исполнении обязательств".
      if (state.outstanding_minor() > 0)
        return Error::Refused(
            fmt::format("plan '{}' allows an early end only when every invoice is paid; {} is "
                        "outstanding: record "
                        "the payment with `hourbank pay` first",
                        t.plan_id, FormatMoney(state.outstanding_minor(), state.currency())));
      return int64_t{0};
    case EarlyEnd::kPayMinimumTerm:
      return EarlyEndMonthFee(state, plan, last_month) * EarlyEndMonthsToCharge(t, last_month);
  }
  return int64_t{0};
}

ledger::EventDraft AdjustmentDraft(int64_t at_us, int64_t amount_minor, uint32_t month,
                                   const std::string& reason) {
  ledger::EventDraft x = Draft(at_us);
  auto b = x.root().initBody().initAdjustment();
  b.setKind(schemas::AdjustmentKind::CHARGE);
  b.setAmountMinor(amount_minor);
  b.setReason(reason);
  b.setMonth(month);
  return x;
}

// Ending at a month already closed: what its close would have expired as the contract's last
// month (the reserve and the blocks left) expires now. Returns the minutes expired.
int64_t ExpireAtClosedEnd(const ClientState& state, uint32_t last_month, int64_t now_us,
                          Decision& d) {
  auto expire = [&](schemas::Bucket bucket, uint64_t block_seq, int64_t minutes) {
    AddHoursExpired(d, now_us, last_month, bucket, block_seq, minutes);
  };
  int64_t expired = 0;
  if (state.reserve_after_close() > 0) {
    expire(schemas::Bucket::RESERVE, 0, state.reserve_after_close());
    expired += state.reserve_after_close();
  }
  for (const auto& [seq, minutes] : state.BlocksLeftAfterClose()) {
    expire(schemas::Bucket::BLOCK, seq, minutes);
    expired += minutes;
  }
  return expired;
}

// Early-end charges booked after the new last month are reversed (a recorded reversal in their
// own month) and their amount joins the one charge in the month the end books into. Returns
// the amount moved.
int64_t ReverseChargesAfter(const ClientState& state, uint32_t last_month, int64_t now_us,
                            Decision& d) {
  int64_t moved = 0;
  for (const ClientState::BookedCharge& c : state.EarlyEndChargesAfter(last_month)) {
    ledger::EventDraft x =
        AdjustmentDraft(now_us, c.amount_minor, c.month,
                        fmt::format("early-end charge #{} moved: the contract now ends after {}",
                                    c.seq, FormatMonth(last_month)));
    x.root().getBody().getAdjustment().setReversesSeq(c.seq);
    d.events.push_back(std::move(x));
    moved += c.amount_minor;
  }
  return moved;
}

}  // namespace

Result<Decision> DecideContractEnd(const ClientState& state, uint32_t last_month, bool early,
                                   int64_t now_us) {
  HB_TRY(NeedContract(state));
  const Result<const ContractTerms*> ending = TermEnding(state, last_month);
  if (!ending.ok()) return ending.error();
  const ContractTerms* t = ending.value();
  Decision d;
  if (t->last_month == last_month && state.last_month() == last_month) {
    d.summary = fmt::format("the contract of {} already ends after {}", state.id(),
                            FormatMonth(last_month));
    return d;  // already so: a no-op, like closing a closed month
  }
  HB_TRY(NoWorkAfter(state, last_month));
  const Result<int64_t> owed = EarlyEndChargeMinor(state, *t, last_month, early);
  if (!owed.ok()) return owed.error();
  const int64_t charge_now = owed.value();
  const uint32_t charge_month = state.IsClosed(last_month) ? state.FirstOpenMonth() : last_month;

  ledger::EventDraft ended = Draft(state.zone().MonthEndUs(last_month) - 1);
  ended.root().initBody().initContractEnded().setLastMonth(last_month);
  d.events.push_back(std::move(ended));
  std::string extra;
  if (state.IsClosed(last_month)) {
    const int64_t expired = ExpireAtClosedEnd(state, last_month, now_us, d);
    if (expired > 0)
      extra += fmt::format("; {} of reserve and prepaid hours expired", FormatMinutes(expired));
  }
  const int64_t moved = ReverseChargesAfter(state, last_month, now_us, d);
  if (charge_now + moved > 0) {
    const int64_t minimum = t->plan->minimum_term_months;
    const int64_t left =
        std::max<int64_t>(0, minimum - (MonthsBetween(t->from_month, last_month) + 1));
    std::string reason =
        fmt::format("early end: {} month(s) left of the {}-month minimum term", left, minimum);
    if (moved > 0)
      reason +=
          fmt::format(" (with {} moved from a later month)", FormatMoney(moved, state.currency()));
    ledger::EventDraft x = AdjustmentDraft(now_us, charge_now + moved, charge_month, reason);
    x.root().getBody().getAdjustment().setEarlyEnd(true);
    d.events.push_back(std::move(x));
    extra +=
        fmt::format("; early end charged {} in {}",
                    FormatMoney(charge_now + moved, state.currency()), FormatMonth(charge_month));
  }
  d.summary =
      fmt::format("contract of {} ends after {}{}", state.id(), FormatMonth(last_month), extra);
  return d;
}

// ---------------------------------------------------------------------------------------
// Work

Result<Decision> DecideLog(const ClientState& state, const LogWork& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  const uint32_t work_month = state.zone().MonthOf(cmd.at_us);
  const ContractTerms* t = state.TermsFor(work_month);
  if (!t)
    return Error::Refused(
        fmt::format("work dated {} is outside the contract of '{}' ({} … {})",
                    state.zone().FormatIso(cmd.at_us), state.id(), FormatMonth(state.first_month()),
                    state.last_month() ? FormatMonth(state.last_month()) : "open"));
  const Kind* kind = t->plan->FindKind(cmd.kind);
  if (!kind) {
    std::string known;
    for (const Kind& k : t->plan->kinds) known += (known.empty() ? "" : ", ") + k.id;
    return Error::Invalid(fmt::format("plan '{}' has no work kind '{}'; known kinds: {}",
                                      t->plan_id, cmd.kind, known));
  }
  HB_TRY(CheckAmount(*kind, cmd));
  if (cmd.at_us > now_us + kClockSkewUs)
    return Error::Invalid(fmt::format("work dated {} is in the future; check --at",
                                      state.zone().FormatIso(cmd.at_us)));
  if (cmd.task.size() > kBytesMaxTask || cmd.staff.size() > kBytesMaxStaff ||
      cmd.note.size() > kBytesMaxNote)
    return Error::Limit(fmt::format("task is limited to {} characters, staff to {}, note to {}",
                                    kBytesMaxTask, kBytesMaxStaff, kBytesMaxNote));
  auto booked = BookMonth(state, cmd.at_us, cmd.late, "the work");
  if (!booked.ok()) return booked.error();
  if (!state.TermsFor(booked.value()))
    return Error::Refused(fmt::format("the first open month {} is outside the contract",
                                      FormatMonth(booked.value())));
  if (!cmd.emergency) {
    const int64_t debt = state.BlockingDebtMinor(now_us);
    if (debt > 0)
      return Error::Refused(
          fmt::format("client '{}' is blocked: {} unpaid ({} plan rule debt_blocking = \"{}\"); "
                      "record a payment with "
                      "`hourbank pay`, or log emergency work with --emergency",
                      state.id(), FormatMoney(debt, state.currency()), t->plan_id,
                      DebtBlockingName(t->plan->debt_blocking)));
  }
  if (kind->unit == Unit::kItem && !kind->included && !kind->price_minor) {
    // A pooled kind with no one-off price can only be done within its slots.
    MonthEval ev = state.Evaluate(booked.value());
    int64_t left = 0;
    if (auto it = ev.pools.find(kind->pool); it != ev.pools.end()) left += it->second.left();
    for (const Addon& a : t->plan->addons)
      if (std::find(a.kinds.begin(), a.kinds.end(), kind->id) != a.kinds.end())
        if (auto it = ev.pools.find(a.id); it != ev.pools.end()) left += it->second.left();
    if (left < cmd.count)
      return Error::Refused(fmt::format(
          "pool '{}' has {} slot(s) left in {} and '{}' has no one-off price; buy an add-on",
          kind->pool, left, FormatMonth(booked.value()), kind->id));
  }
  Decision d;
  ledger::EventDraft draft = Draft(cmd.at_us);
  auto b = draft.root().initBody().initWorkLogged();
  b.setKind(cmd.kind);
  b.setTask(cmd.task);
  b.setStaff(cmd.staff);
  b.setMinutes(cmd.minutes);
  b.setCount(uint32_t(cmd.count));
  b.setUrgent(cmd.urgent);
  b.setOffHours(!cmd.off_hours   ? schemas::OffHours::AUTO
                : *cmd.off_hours ? schemas::OffHours::YES
                                 : schemas::OffHours::NO);
  b.setNote(cmd.note);
  b.setLate(booked.value() != work_month);
  b.setEmergency(cmd.emergency);
  b.setBookedMonth(booked.value() != work_month ? booked.value() : 0);
  b.setNonBillable(cmd.non_billable);
  d.events.push_back(std::move(draft));
  return d;
}

Result<Decision> DecideAccept(const ClientState& state, const std::string& task, int64_t at_us,
                              bool late, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (task.empty()) return Error::Invalid("--task is required: the task the client accepted");
  if (state.PendingForTask(task).empty())
    return Error::Refused(
        fmt::format("task '{}' of '{}' has no work waiting for acceptance", task, state.id()));
  if (at_us > now_us + kClockSkewUs)
    return Error::Invalid("acceptance time is in the future; check --at");
  auto booked = BookMonth(state, at_us, late, "the acceptance");
  if (!booked.ok()) return booked.error();
  if (!state.TermsFor(booked.value()))
    return Error::Refused(
        fmt::format("acceptance in {} is outside the contract", FormatMonth(booked.value())));
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto b = draft.root().initBody().initWorkAccepted();
  b.setTask(task);
  b.setBookedMonth(booked.value() != state.zone().MonthOf(at_us) ? booked.value() : 0);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("task {} accepted: {} entries count in {}", task,
                          state.PendingForTask(task).size(), FormatMonth(booked.value()));
  return d;
}

Result<Decision> DecideVoid(const ClientState& state, uint64_t entry_seq, const std::string& reason,
                            int64_t now_us) {
  HB_TRY(NeedClient(state));
  const Entry* e = state.FindEntry(entry_seq);
  if (!e)
    return Error::NotFound(fmt::format("client '{}' has no work entry #{}; see `hourbank report`",
                                       state.id(), entry_seq));
  if (e->voided) return Error::Refused(fmt::format("entry #{} is already voided", entry_seq));
  if (reason.empty()) return Error::Invalid("--reason is required: say why the entry is cancelled");
  Decision d;
  ledger::EventDraft draft = Draft(now_us);
  auto b = draft.root().initBody().initWorkVoided();
  b.setEntrySeq(entry_seq);
  b.setReason(reason);
  if (e->month != 0 && state.IsClosed(e->month)) {
    // The entry's month is settled. The credit is the invoice as it stands (the closed invoice
    // less earlier voids in that month) minus the same month re-evaluated without the entry,
    // from the buckets it started with: voiding allowance work moves later overage into the
    // allowance and that overage is credited. Both sides are whole invoices, each line
    // rounded once, like the invoice itself. Hours drawn in the closed month stay settled.
    const auto before = state.ReEvaluateClosedWithout(e->month, 0);
    const auto without = state.ReEvaluateClosedWithout(e->month, entry_seq);
    if (!before || !without)
      return Error::Refused(
          fmt::format("entry #{} is in closed month {} and the month cannot be re-evaluated here",
                      entry_seq, FormatMonth(e->month)));
    const int64_t credit =
        std::max<int64_t>(0, before->invoice.total_minor - without->invoice.total_minor);
    b.setCreditMonth(state.FirstOpenMonth());
    b.setCreditMinor(credit);
    d.summary =
        fmt::format("entry #{} voided; {} credited in {}", entry_seq,
                    FormatMoney(credit, state.currency()), FormatMonth(state.FirstOpenMonth()));
  } else {
    d.summary = fmt::format("entry #{} voided", entry_seq);
  }
  d.events.push_back(std::move(draft));
  return d;
}

// ---------------------------------------------------------------------------------------
// Money

Result<Decision> DecideWriteDown(const ClientState& state, uint64_t entry_seq, int64_t minutes,
                                 const std::string& reason, int64_t now_us) {
  HB_TRY(NeedClient(state));
  const Entry* e = state.FindEntry(entry_seq);
  if (!e)
    return Error::NotFound(fmt::format("client '{}' has no work entry #{}; see `hourbank report`",
                                       state.id(), entry_seq));
  if (e->voided)
    return Error::Refused(
        fmt::format("entry #{} is voided; there is nothing to write down", entry_seq));
  if (e->unit != Unit::kHour)
    return Error::Invalid(
        fmt::format("entry #{} is item work; write-downs apply to hour work (void the entry, "
                    "or record a credit with `hourbank adjust`)",
                    entry_seq));
  if (e->month != 0 && state.IsClosed(e->month))
    return Error::Refused(
        fmt::format("entry #{} counts in closed month {}; void it instead (the credit comes in {})",
                    entry_seq, FormatMonth(e->month), FormatMonth(state.FirstOpenMonth())));
  if (reason.empty())
    return Error::Invalid("--reason is required: say why the time is written down");
  if (reason.size() > kBytesMaxNote)
    return Error::Limit(fmt::format("--reason is limited to {} characters", kBytesMaxNote));
  // Billed now: as the month counts the entry; an entry awaiting acceptance, as if alone.
  int64_t billed = 0;
  const ContractTerms* t = state.TermsFor(e->month ? e->month : state.zone().MonthOf(e->at_us));
  if (e->month != 0) {
    for (const Entry& x : state.EntriesFor(e->month))
      if (x.seq == entry_seq) billed = x.billed_minutes;
  } else if (t && t->plan) {
    billed = BillableMinutes(*t->plan, {e}).front();
  }
  if (minutes <= 0 || minutes > billed)
    return Error::Invalid(
        fmt::format("entry #{} is billed {}; write down more than 0 and at most that", entry_seq,
                    FormatMinutes(std::max<int64_t>(billed, 0))));
  Decision d;
  ledger::EventDraft draft = Draft(now_us);
  auto b = draft.root().initBody().initWorkWrittenDown();
  b.setEntrySeq(entry_seq);
  b.setMinutes(minutes);
  b.setReason(reason);
  d.events.push_back(std::move(draft));
  d.summary =
      fmt::format("entry #{} written down by {} (billed {} → {})", entry_seq,
                  FormatMinutes(minutes), FormatMinutes(billed), FormatMinutes(billed - minutes));
  return d;
}

Result<Decision> DecideBuyHours(const ClientState& state, const BuyHours& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (cmd.minutes <= 0 || cmd.minutes > kMinutesMaxPerEntry)
    return Error::Invalid(fmt::format("--hours must be more than 0 and at most {}h",
                                      kMinutesMaxPerEntry / kMinutesPerHour));
  auto booked = BookMonth(state, cmd.at_us, true, "the purchase");
  if (!booked.ok()) return booked.error();
  const ContractTerms* t = state.TermsFor(booked.value());
  if (!t)
    return Error::Refused(fmt::format("{} is outside the contract", FormatMonth(booked.value())));
  int64_t price = 0;
  if (cmd.price_minor)
    price = *cmd.price_minor;
  else {
    bool found = false;
    for (const BlockOffer& o : t->plan->block_offers)
      if (o.minutes == cmd.minutes) {
        price = o.price_minor;
        found = true;
      }
    if (!found)
      return Error::Invalid(fmt::format("plan '{}' sells no {} block; pass --price", t->plan_id,
                                        FormatMinutes(cmd.minutes)));
  }
  if (price < 0 || price > kMoneyMinorAbsMax) return Error::Invalid("--price is out of range");
  int64_t expires_at_us = cmd.expires_at_us;
  if (cmd.expires_day != 0) {
    // "The last day the block can be used": it ends at the next local midnight (23 or 25 hours
    // later across a DST change, never a fixed 24 h).
    if (!ValidMonth(uint32_t(cmd.expires_day / 100)) || cmd.expires_day % 100 < 1 ||
        cmd.expires_day % 100 > 31 ||
        AddDaysToDate(AddDaysToDate(cmd.expires_day, 1), -1) != cmd.expires_day)
      return Error::Invalid("--expires must be a date YYYY-MM-DD");
    expires_at_us = state.zone().DayEndUs(cmd.expires_day);
  }
  if (expires_at_us != 0 && expires_at_us <= cmd.at_us)
    return Error::Invalid("--expires must be after the purchase");
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(cmd.at_us);
  auto b = draft.root().initBody().initHoursPurchased();
  b.setMinutes(cmd.minutes);
  b.setPriceMinor(price);
  b.setExpiresAtUs(expires_at_us);
  b.setMonth(booked.value());
  d.events.push_back(std::move(draft));
  d.summary = fmt::format(
      "{} block bought for {}{}", FormatMinutes(cmd.minutes), FormatMoney(price, state.currency()),
      expires_at_us ? ", usable through " + state.zone().FormatIso(expires_at_us - 1)
                    : ", never expires");
  return d;
}

Result<Decision> DecideBuyAddon(const ClientState& state, const std::string& addon_id,
                                uint32_t month, int64_t at_us, int64_t now_us) {
  HB_TRY(NeedContract(state));
  const ContractTerms* t = state.TermsFor(month);
  if (!t)
    return Error::Refused(
        fmt::format("{} is outside the contract of '{}'", FormatMonth(month), state.id()));
  const Addon* a = t->plan->FindAddon(addon_id);
  if (!a) {
    std::string known;
    for (const Addon& x : t->plan->addons) known += (known.empty() ? "" : ", ") + x.id;
    return Error::Invalid(fmt::format("plan '{}' has no add-on '{}'{}", t->plan_id, addon_id,
                                      known.empty() ? "" : "; known add-ons: " + known));
  }
  if (state.IsClosed(month))
    return Error::Refused(
        fmt::format("{} is closed; add-ons are for open months", FormatMonth(month)));
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto b = draft.root().initBody().initAddonPurchased();
  b.setAddonId(addon_id);
  b.setMonth(month);
  b.setPriceMinor(a->price_minor);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("add-on {} for {}: +{} slots, {}", addon_id, FormatMonth(month), a->slots,
                          FormatMoney(a->price_minor, state.currency()));
  return d;
}

Result<Decision> DecidePay(const ClientState& state, int64_t amount_minor, const std::string& ref,
                           int64_t at_us, int64_t now_us) {
  HB_TRY(NeedClient(state));
  if (amount_minor <= 0 || amount_minor > kMoneyMinorAbsMax)
    return Error::Invalid("the amount must be positive");
  if (ref.size() > kBytesMaxPaymentRef)
    return Error::Limit(fmt::format("--ref is limited to {} characters", kBytesMaxPaymentRef));
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto b = draft.root().initBody().initPaymentReceived();
  b.setAmountMinor(amount_minor);
  b.setRef(ref);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("payment of {} recorded; outstanding {}",
                          FormatMoney(amount_minor, state.currency()),
                          FormatMoney(state.outstanding_minor() - amount_minor, state.currency()));
  return d;
}

namespace {

AlertOverrides Changed(const AlertOverrides& now, const AlertSettingsChange& c) {
  AlertOverrides o = c.reset ? AlertOverrides{} : now;
  if (c.allowance_percent) o.allowance_percent = c.allowance_percent;
  if (c.block_expiry_days) o.block_expiry_days = c.block_expiry_days;
  if (c.reserve_expiry_days) o.reserve_expiry_days = c.reserve_expiry_days;
  if (c.invoice_overdue_days) o.invoice_overdue_days = c.invoice_overdue_days;
  if (c.off) o.off = *c.off;
  return o;
}

}  // namespace

Result<Decision> DecideAlertSettings(const ClientState& state, const AlertSettingsChange& change,
                                     int64_t now_us) {
  HB_TRY(NeedClient(state));
  const AlertOverrides o = Changed(state.alert_overrides(), change);
  if (o.off.size() > AlertOverrides::kOffMax ||
      (o.allowance_percent && o.allowance_percent->size() > kAlertPercentsMax))
    return Error::Invalid("too many thresholds or kinds; give each at most once");
  Decision d;
  ledger::EventDraft draft = Draft(now_us);
  auto b = draft.root().initBody().initAlertSettingsSet();
  if (o.allowance_percent) {
    b.setAllowancePercentSet(true);
    auto list = b.initAllowancePercent(unsigned(o.allowance_percent->size()));
    for (unsigned i = 0; i < list.size(); ++i) list.set(i, (*o.allowance_percent)[i]);
  }
  b.setBlockExpiryDaysSet(o.block_expiry_days.has_value());
  b.setBlockExpiryDays(o.block_expiry_days.value_or(0));
  b.setReserveExpiryDaysSet(o.reserve_expiry_days.has_value());
  b.setReserveExpiryDays(o.reserve_expiry_days.value_or(0));
  b.setInvoiceOverdueDaysSet(o.invoice_overdue_days.has_value());
  b.setInvoiceOverdueDays(o.invoice_overdue_days.value_or(0));
  auto off = b.initOff(unsigned(o.off.size()));
  for (unsigned i = 0; i < off.size(); ++i) off.set(i, o.off[i]);
  d.events.push_back(std::move(draft));
  d.summary = change.reset ? "alert thresholds of " + state.id() + " reset to the plan's"
                           : "alert thresholds of " + state.id() + " set";
  return d;
}

Result<Decision> DecideAdjust(const ClientState& state, const AdjustCmd& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (cmd.amount_minor <= 0 || cmd.amount_minor > kMoneyMinorAbsMax)
    return Error::Invalid("the amount must be positive");
  if (cmd.reason.empty()) return Error::Invalid("--reason is required");
  const uint32_t month = cmd.month ? cmd.month : state.FirstOpenMonth();
  if (state.IsClosed(month)) return Error::Refused(fmt::format("{} is closed", FormatMonth(month)));
  Decision d;
  ledger::EventDraft draft = Draft(now_us);
  auto b = draft.root().initBody().initAdjustment();
  b.setKind(cmd.kind);
  b.setAmountMinor(cmd.amount_minor);
  b.setReason(cmd.reason);
  b.setMonth(month);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("adjustment of {} in {}", FormatMoney(cmd.amount_minor, state.currency()),
                          FormatMonth(month));
  return d;
}

namespace {

Result<Decision> CloseMonth(const ClientState& state, uint32_t month, int64_t now_us);

// "#12 (1h), #15 (30m)": entries for an error sentence (at most 20, then "… and N more").
std::string EntryList(const ClientState& state, const std::vector<uint64_t>& seqs) {
  std::string out;
  for (size_t i = 0; i < seqs.size() && i < 20; ++i) {
    const Entry* e = state.FindEntry(seqs[i]);
    out += fmt::format("{}#{}", i ? ", " : "", seqs[i]);
    if (e && e->unit == Unit::kHour) out += fmt::format(" ({})", FormatMinutes(e->minutes));
  }
  if (seqs.size() > 20) out += fmt::format(" … and {} more", seqs.size() - 20);
  return out;
}

// The entries a review command names, each checked; refused as a whole.
Result<std::vector<uint64_t>> ReviewTargets(const ClientState& state, const ReviewCmd& cmd) {
  const int ways = int(!cmd.entries.empty()) + int(!cmd.task.empty()) + int(cmd.all);
  if (ways != 1)
    return Error::Invalid(
        "name the work to review: entry ids, or --task T, or --all (one of them)");
  if (cmd.entries.size() > kReviewEntriesMax)
    return Error::Limit(
        fmt::format("at most {} entries at once; use --task or --all", kReviewEntriesMax));
  if (cmd.entries.empty()) {
    std::vector<uint64_t> out;
    for (uint64_t s : state.PendingReview(cmd.month))
      if (cmd.all || state.FindEntry(s)->task == cmd.task) out.push_back(s);
    if (out.empty())
      return Error::Refused(fmt::format(
          "nothing is pending review in {} for '{}'{}; see `hourbank review {} {}`",
          FormatMonth(cmd.month), state.id(), cmd.all ? "" : fmt::format(" on task '{}'", cmd.task),
          state.id(), FormatMonth(cmd.month)));
    return out;
  }
  const bool approve = cmd.decision == ReviewCmd::Decision::kApprove;
  std::vector<uint64_t> seen;
  for (uint64_t s : cmd.entries) {
    const Entry* e = state.FindEntry(s);
    if (!e || e->voided)
      return Error::NotFound(
          fmt::format("client '{}' has no {}work entry #{}; see `hourbank review`", state.id(),
                      e ? "live " : "", s));
    if (e->review == Review::kNone)
      return Error::Refused(fmt::format(
          "entry #{} is not under review (its plan does not require review{})", s,
          e->month == 0 ? "; it awaits the client's acceptance: `hourbank accept`" : ""));
    if (e->month != cmd.month)
      return Error::Invalid(fmt::format("entry #{} counts in {}, not {}", s, FormatMonth(e->month),
                                        FormatMonth(cmd.month)));
    if (e->review == Review::kRejected)
      return Error::Refused(fmt::format("entry #{} is already rejected", s));
    if (approve && e->review == Review::kApproved)
      return Error::Refused(fmt::format("entry #{} is already approved", s));
    if (!approve && state.IsClosed(e->month))
      return Error::Refused(fmt::format(
          "entry #{} is approved and {} is closed; void it instead (`hourbank void {} {} "
          "--reason …`: the credit comes in {})",
          s, FormatMonth(e->month), state.id(), s, FormatMonth(state.FirstOpenMonth())));
    if (std::find(seen.begin(), seen.end(), s) != seen.end())
      return Error::Invalid(fmt::format("entry #{} is named twice", s));
    seen.push_back(s);
  }
  return seen;
}

ledger::EventDraft ReviewDraft(int64_t at_us, const std::vector<uint64_t>& seqs,
                               schemas::ReviewDecision decision, const std::string& reason,
                               uint32_t to_month) {
  ledger::EventDraft draft = Draft(at_us);
  auto b = draft.root().initBody().initWorkReviewed();
  auto list = b.initEntrySeqs(uint32_t(seqs.size()));
  for (size_t i = 0; i < seqs.size(); ++i) list.set(uint32_t(i), seqs[i]);
  b.setDecision(decision);
  b.setReason(reason);
  b.setToMonth(to_month);
  return draft;
}

}  // namespace

Result<Decision> DecideReview(const ClientState& state, const ReviewCmd& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (!ValidMonth(cmd.month)) return Error::Invalid("the month must be YYYY-MM");
  const bool approve = cmd.decision == ReviewCmd::Decision::kApprove;
  if (!approve && cmd.reason.empty())
    return Error::Invalid("--reason is required: say why the work is rejected");
  if (cmd.reason.size() > kBytesMaxNote)
    return Error::Limit(fmt::format("--reason is limited to {} characters", kBytesMaxNote));
  auto targets = ReviewTargets(state, cmd);
  if (!targets.ok()) return targets.error();
  Decision d;
  d.events.push_back(ReviewDraft(
      now_us, targets.value(),
      approve ? schemas::ReviewDecision::APPROVE : schemas::ReviewDecision::REJECT, cmd.reason, 0));
  d.summary = fmt::format("{} {} {} entr{} of {}: {}", state.id(), FormatMonth(cmd.month),
                          approve ? "approved" : "rejected", targets.value().size(),
                          targets.value().size() == 1 ? "y" : "ies", state.id(),
                          EntryList(state, targets.value()));
  return d;
}

Result<Decision> DecideClose(const ClientState& state, uint32_t month, int64_t now_us,
                             bool carry_pending) {
  const std::vector<uint64_t> pending =
      state.registered() ? state.PendingReview(month) : std::vector<uint64_t>{};
  if (pending.empty() || state.IsClosed(month)) return DecideClose(state, month, now_us);
  const uint32_t next = NextMonth(month);
  if (!carry_pending)
    return Error::Refused(fmt::format(
        "{} has {} entr{} pending review: {}; approve or reject {} (`hourbank review {} {}`), "
        "or close with --carry-pending to move {} to {}",
        FormatMonth(month), pending.size(), pending.size() == 1 ? "y" : "ies",
        EntryList(state, pending), pending.size() == 1 ? "it" : "them", state.id(),
        FormatMonth(month), pending.size() == 1 ? "it" : "them", FormatMonth(next)));
  if (!state.TermsFor(next))
    return Error::Refused(
        fmt::format("{} is the contract's last month: pending work cannot move past it; approve or "
                    "reject {} (`hourbank review {} {}`)",
                    FormatMonth(month), EntryList(state, pending), state.id(), FormatMonth(month)));
  // Decide the close on the state as it will be after the carry, so its figures leave the work out.
  Decision d;
  d.events.push_back(ReviewDraft(state.zone().MonthEndUs(month), pending,
                                 schemas::ReviewDecision::CARRY, "carried at close", next));
  ClientState after = state;
  after.Apply(state.last_seq() + 1, d.events.front().root().asReader());
  auto close = CloseMonth(after, month, now_us);
  if (!close.ok()) return close.error();
  for (ledger::EventDraft& e : close.value().events) d.events.push_back(std::move(e));
  d.summary = close.value().summary + fmt::format("; {} moved to {} pending review",
                                                  EntryList(state, pending), FormatMonth(next));
  return d;
}

Result<Decision> DecideClose(const ClientState& state, uint32_t month, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (!state.PendingReview(month).empty() && !state.IsClosed(month))
    return DecideClose(state, month, now_us, false);
  return CloseMonth(state, month, now_us);
}

namespace {

Result<Decision> CloseMonth(const ClientState& state, uint32_t month, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (!ValidMonth(month)) return Error::Invalid("the month must be YYYY-MM");
  Decision d;
  if (state.IsClosed(month)) {
    d.summary = fmt::format("{} {} is already closed", state.id(), FormatMonth(month));
    return d;
  }
  const uint32_t first_open = state.FirstOpenMonth();
  if (month != first_open)
    return Error::Refused(
        fmt::format("months close in order: close {} first", FormatMonth(first_open)));
  const int64_t end_us = state.zone().MonthEndUs(month);
  if (now_us < end_us)
    return Error::Refused(fmt::format("{} has not ended in {} (it ends {}); close it after that",
                                      FormatMonth(month), state.zone().name(),
                                      state.zone().FormatIso(end_us)));
  const MonthEval ev = state.Evaluate(month);
  if (ev.carried_minutes > 0) {
    ledger::EventDraft draft = Draft(end_us);
    auto b = draft.root().initBody().initHoursCarriedOver();
    b.setMonth(month);
    b.setMinutes(ev.carried_minutes);
    b.setReserveAfterMinutes(ev.reserve_end_minutes);
    d.events.push_back(std::move(draft));
  }
  auto expire = [&](schemas::Bucket bucket, uint64_t block_seq, int64_t minutes) {
    if (minutes > 0) AddHoursExpired(d, end_us, month, bucket, block_seq, minutes);
  };
  expire(schemas::Bucket::ALLOWANCE, 0, ev.expired_allowance_minutes);
  expire(schemas::Bucket::RESERVE, 0, ev.expired_reserve_minutes);
  for (const auto& [seq, minutes] : ev.expired_blocks) expire(schemas::Bucket::BLOCK, seq, minutes);
  for (const auto& [pool, usage] : ev.pools) {
    if (usage.left() == 0) continue;
    ledger::EventDraft draft = Draft(end_us);
    auto b = draft.root().initBody().initSlotsExpired();
    b.setMonth(month);
    b.setPool(pool);
    b.setCount(usage.left());
    d.events.push_back(std::move(draft));
  }
  ledger::EventDraft draft = Draft(end_us);
  auto b = draft.root().initBody().initPeriodClosed();
  b.setMonth(month);
  b.setTotalMinor(ev.invoice.total_minor);
  const auto digest = LinesDigest(ev.invoice.lines);
  b.setLinesDigest(kj::arrayPtr(digest.data(), digest.size()));
  b.setLineCount(uint32_t(ev.invoice.lines.size()));
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("{} {} closed: invoice {}, carried {}, expired {}", state.id(),
                          FormatMonth(month), FormatMoney(ev.invoice.total_minor, state.currency()),
                          FormatMinutes(ev.carried_minutes), FormatMinutes(ev.expired_minutes()));
  return d;
}

// incident wait / resume: the resolution clock stops while the incident waits on the customer.
Status DecideWaitOrResume(const ClientState& state, const Incident& inc, IncidentAction action,
                          const std::string& reason, int64_t at_us, int64_t last_us,
                          schemas::Event::Body::Builder body, Decision& d) {
  const std::string& id = inc.id;
  if (action == IncidentAction::kWait) {
    if (inc.resolved_us)
      return Error::Refused(fmt::format(
          "incident '{}' is resolved; only an open incident can wait (reopen it first)", id));
    if (inc.waiting())
      return Error::Refused(
          fmt::format("incident '{}' is already waiting since {}; resume it first", id,
                      state.zone().FormatIso(inc.waits.back().from_us)));
    if (reason.size() > kBytesMaxNote)
      return Error::Invalid(fmt::format("--reason must be at most {} bytes", kBytesMaxNote));
    if (at_us < last_us) return Error::Invalid("the time is before the incident's last event");
    auto b = body.initIncidentWaiting();
    b.setIncidentId(id);
    b.setReason(reason);
    d.summary = fmt::format("incident {} waiting on the customer: resolution clock stopped", id);
    return Status::Ok();
  }
  if (!inc.waiting())
    return Error::Refused(
        fmt::format("incident '{}' is not waiting; `incident wait` stops its clock first", id));
  if (at_us < inc.waits.back().from_us)
    return Error::Invalid(fmt::format("the time is before the wait began ({}); check --at",
                                      state.zone().FormatIso(inc.waits.back().from_us)));
  body.initIncidentResumed().setIncidentId(id);
  d.summary = fmt::format("incident {} resumed: resolution clock running", id);
  return Status::Ok();
}

}  // namespace

Result<Decision> DecideIncident(const ClientState& state, IncidentAction action,
                                const std::string& id, uint8_t priority, const std::string& title,
                                int64_t at_us, int64_t now_us) {
  HB_TRY(NeedClient(state));
  if (id.empty() || id.size() > kBytesMaxIncidentId)
    return Error::Invalid(
        fmt::format("the incident id must be 1 to {} characters", kBytesMaxIncidentId));
  if (at_us > now_us + kClockSkewUs) return Error::Invalid("the time is in the future; check --at");
  const auto& incidents = state.incidents();
  auto it = incidents.find(id);
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto body = draft.root().initBody();
  if (action == IncidentAction::kOpen) {
    if (it != incidents.end())
      return Error::Refused(fmt::format(
          "incident '{}' already exists{}; use another id", id,
          it->second.resolved_us ? " (resolved: reopen it with `incident reopen`)" : ""));
    if (priority < 1 || priority > kPriorityMax)
      return Error::Invalid(fmt::format("--priority must be 1 (highest) to {}", kPriorityMax));
    auto b = body.initIncidentOpened();
    b.setIncidentId(id);
    b.setPriority(priority);
    b.setTitle(title);
    d.summary = fmt::format("incident {} opened, priority {}", id, priority);
  } else {
    if (it == incidents.end())
      return Error::NotFound(
          fmt::format("client '{}' has no incident '{}'; open it first", state.id(), id));
    const Incident& inc = it->second;
    const int64_t last_us = std::max({inc.opened_us, inc.responded_us, inc.resolved_us,
                                      inc.reopened_us.empty() ? 0 : inc.reopened_us.back(),
                                      inc.waits.empty() ? 0 : inc.waits.back().from_us,
                                      inc.waits.empty() ? 0 : inc.waits.back().to_us});
    if (at_us < inc.opened_us)
      return Error::Invalid(fmt::format("the time is before incident '{}' was opened ({})", id,
                                        state.zone().FormatIso(inc.opened_us)));
    switch (action) {
      case IncidentAction::kRespond:
        if (inc.responded_us)
          return Error::Refused(fmt::format("incident '{}' already has a first response", id));
        if (inc.resolved_us)
          return Error::Refused(
              fmt::format("incident '{}' is resolved; a first response must come before", id));
        body.initIncidentResponded().setIncidentId(id);
        d.summary = fmt::format("incident {}: first response", id);
        break;
      case IncidentAction::kResolve:
        if (inc.resolved_us)
          return Error::Refused(
              fmt::format("incident '{}' is already resolved; reopen it first", id));
        if (at_us < last_us) return Error::Invalid("the time is before the incident's last event");
        body.initIncidentResolved().setIncidentId(id);
        d.summary = fmt::format("incident {} resolved", id);
        break;
      case IncidentAction::kReprioritize: {
        if (priority < 1 || priority > kPriorityMax)
          return Error::Invalid(fmt::format("--priority must be 1 (highest) to {}", kPriorityMax));
        if (inc.resolved_us)
          return Error::Refused(fmt::format("incident '{}' is resolved; reopen it first", id));
        if (at_us < last_us) return Error::Invalid("the time is before the incident's last event");
        auto b = body.initIncidentReprioritized();
        b.setIncidentId(id);
        b.setPriority(priority);
        d.summary = fmt::format("incident {}: priority {}", id, priority);
        break;
      }
      case IncidentAction::kReopen:
        if (!inc.resolved_us)
          return Error::Refused(fmt::format("incident '{}' is not resolved", id));
        if (at_us < inc.resolved_us)
          return Error::Invalid("the time is before the incident was resolved");
        body.initIncidentReopened().setIncidentId(id);
        d.summary = fmt::format("incident {} reopened", id);
        break;
      case IncidentAction::kWait:
      case IncidentAction::kResume:
        HB_TRY(DecideWaitOrResume(state, inc, action, title, at_us, last_us, body, d));
        break;
      case IncidentAction::kOpen:
        break;
    }
  }
  d.events.push_back(std::move(draft));
  return d;
}

}  // namespace hourbank::projections
