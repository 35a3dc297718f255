#include "projections/decide.h"

#include <algorithm>

#include <fmt/format.h>

namespace hourbank::projections {

namespace {

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

constexpr int64_t kMinutesMax = 10000LL * 60;      // one entry or block: at most 10 000 hours
constexpr int64_t kCountMax = 100000;              // one item entry
constexpr int64_t kMoneyMax = 10000000000000LL * 100;  // 10^13 major units

ledger::EventDraft Draft(int64_t effective_at_us) {
  ledger::EventDraft d;
  d.root().setEffectiveAtUs(effective_at_us);
  return d;
}

Status NeedClient(const ClientState& state) {
  if (!state.registered())
    return Error::NotFound(fmt::format("unknown client '{}'; add it first with `hourbank client add`", state.id()));
  return Status::Ok();
}

Status NeedContract(const ClientState& state) {
  HB_TRY(NeedClient(state));
  if (!state.has_contract())
    return Error::Refused(fmt::format("client '{}' has no contract; start one with `hourbank contract start`", state.id()));
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

Result<Decision> DecidePlanDefine(const Catalog& catalog, const std::vector<PlanSpec>& plans, int64_t now_us) {
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
  if (changed.empty()) d.summary = fmt::format("{} plan(s) unchanged", plans.size());
  else {
    d.summary = "defined ";
    for (size_t i = 0; i < changed.size(); ++i) d.summary += (i ? ", " : "") + changed[i];
  }
  return d;
}

// ---------------------------------------------------------------------------------------
// Clients and contracts

Result<Decision> DecideRegister(const ClientState& state, const RegisterClient& cmd, int64_t now_us) {
  if (state.registered())
    return Error::Refused(fmt::format("client '{}' already exists; choose another id", cmd.client_id));
  if (!ledger::ValidClientId(cmd.client_id) || cmd.client_id[0] == '$')
    return Error::Invalid(fmt::format(
        "client id '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-' starting with a letter or digit", cmd.client_id));
  if (cmd.name.empty() || cmd.name.size() > 200)
    return Error::Invalid("client name must be 1 to 200 characters; pass --name \"Acme Ltd\"");
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

Result<Decision> DecideContractStart(const ClientState& state, const Catalog& catalog,
                                     const StartContract& cmd, int64_t now_us) {
  HB_TRY(NeedClient(state));
  const Catalog::Version* v = catalog.Find(cmd.plan_id, cmd.plan_version);
  if (v == nullptr || !v->spec) {
    if (cmd.plan_version && catalog.Find(cmd.plan_id))
      return Error::NotFound(fmt::format("plan '{}' has no version {}; see `hourbank plan show {}`",
                                         cmd.plan_id, cmd.plan_version, cmd.plan_id));
    return Error::NotFound(fmt::format("unknown plan '{}'; see `hourbank plan list`", cmd.plan_id));
  }
  const PlanSpec& plan = *v->spec;
  if (plan.currency != state.currency())
    return Error::Refused(fmt::format("plan '{}' is priced in {} but client '{}' pays in {}; choose a {} plan",
                                      plan.id, plan.currency, state.id(), state.currency(), state.currency()));
  if (!ValidMonth(cmd.from_month)) return Error::Invalid("--from must be a month YYYY-MM");
  if (state.has_contract()) {
    const uint32_t last = state.last_month();
    if (last == 0 || cmd.from_month <= last)
      return Error::Refused(fmt::format(
          "client '{}' already has a contract{}; end it first with `hourbank contract end {} --after YYYY-MM`",
          state.id(), last ? " through " + FormatMonth(last) : "", state.id()));
  }
  if (cmd.from_month <= state.last_closed_month())
    return Error::Refused(fmt::format("{} is already closed; start the contract in {} or later",
                                      FormatMonth(cmd.from_month), FormatMonth(NextMonth(state.last_closed_month()))));
  uint32_t term = cmd.term_months;
  if (term == 0) term = plan.minimum_term_months;
  if (term != 0 && term < plan.minimum_term_months)
    return Error::Refused(fmt::format("plan '{}' has a minimum term of {} months; pass --months {} or more",
                                      plan.id, plan.minimum_term_months, plan.minimum_term_months));
  if (term > 1200) return Error::Invalid("--months must be at most 1200");
  if (cmd.prepaid_months > 1200) return Error::Invalid("--prepaid must be at most 1200");
  if (term != 0 && cmd.prepaid_months > term)
    return Error::Invalid(fmt::format("--prepaid {} is longer than the contract's {} months", cmd.prepaid_months, term));
  if (!plan.tiers.empty() && cmd.units == 0)
    return Error::Invalid(fmt::format("plan '{}' is priced per licence; pass --units N", plan.id));
  if (plan.tiers.empty() && cmd.units != 0)
    return Error::Invalid(fmt::format("plan '{}' is not priced per licence; drop --units", plan.id));
  if (cmd.units > 1000000) return Error::Invalid("--units must be at most 1 000 000");
  for (const auto& [name, qty] : cmd.extras) {
    if (!plan.FindExtra(name)) {
      std::string known;
      for (const ExtraPrice& x : plan.extras) known += (known.empty() ? "" : ", ") + x.id;
      return Error::Invalid(fmt::format("plan '{}' has no extra '{}'{}", plan.id, name,
                                        known.empty() ? "" : "; known extras: " + known));
    }
    if (qty == 0 || qty > 1000) return Error::Invalid(fmt::format("extra '{}' quantity must be 1 to 1000", name));
  }
  Decision d;
  ledger::EventDraft draft = Draft(state.zone().MonthStartUs(cmd.from_month));
  auto b = draft.root().initBody().initContractStarted();
  b.setPlanId(plan.id);
  b.setPlanVersion(v->version);
  b.setPlanSpecToml(v->spec_toml);
  b.setFromMonth(cmd.from_month);
  b.setTermMonths(term);
  b.setPrepaidMonths(cmd.prepaid_months);
  b.setTimely(cmd.timely);
  b.setUnits(cmd.units);
  auto extras = b.initExtras(uint32_t(cmd.extras.size()));
  uint32_t i = 0;
  for (const auto& [name, qty] : cmd.extras) {
    extras[i].setName(name);
    extras[i].setQuantity(qty);
    ++i;
  }
  (void)now_us;
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("contract for {} on {} v{} from {}{}", state.id(), plan.id, v->version,
                          FormatMonth(cmd.from_month), term ? fmt::format(" for {} months", term) : "");
  return d;
}

Result<Decision> DecideUnits(const ClientState& state, uint32_t units, uint32_t from_month, int64_t now_us) {
  HB_TRY(NeedContract(state));
  const ContractTerms* t = state.TermsFor(from_month);
  if (!t) return Error::Refused(fmt::format("{} is outside the contract of '{}'", FormatMonth(from_month), state.id()));
  if (t->plan->tiers.empty())
    return Error::Refused(fmt::format("plan '{}' is not priced per licence", t->plan_id));
  if (units == 0 || units > 1000000) return Error::Invalid("licences must be 1 to 1 000 000");
  if (state.IsClosed(from_month))
    return Error::Refused(fmt::format("{} is closed; change licences from {} or later", FormatMonth(from_month),
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
  HB_TRY(NeedContract(state));
  if (!ValidMonth(last_month) || last_month < state.first_month())
    return Error::Invalid(fmt::format("--after must be a month at or after the contract's start ({})",
                                      FormatMonth(state.first_month())));
  if (last_month < state.last_closed_month())
    return Error::Refused(fmt::format("{} is after the end month {}; months are closed through {}",
                                      FormatMonth(state.last_closed_month()), FormatMonth(last_month),
                                      FormatMonth(state.last_closed_month())));
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(state.zone().MonthEndUs(last_month) - 1);
  draft.root().initBody().initContractEnded().setLastMonth(last_month);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("contract of {} ends after {}", state.id(), FormatMonth(last_month));
  return d;
}

// ---------------------------------------------------------------------------------------
// Work

Result<Decision> DecideLog(const ClientState& state, const LogWork& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  const uint32_t work_month = state.zone().MonthOf(cmd.at_us);
  const ContractTerms* t = state.TermsFor(work_month);
  if (!t)
    return Error::Refused(fmt::format("work dated {} is outside the contract of '{}' ({} … {})",
                                      state.zone().FormatIso(cmd.at_us), state.id(),
                                      FormatMonth(state.first_month()),
                                      state.last_month() ? FormatMonth(state.last_month()) : "open"));
  const Kind* kind = t->plan->FindKind(cmd.kind);
  if (!kind) {
    std::string known;
    for (const Kind& k : t->plan->kinds) known += (known.empty() ? "" : ", ") + k.id;
    return Error::Invalid(fmt::format("plan '{}' has no work kind '{}'; known kinds: {}", t->plan_id, cmd.kind, known));
  }
  if (kind->unit == Unit::kHour) {
    if (cmd.count != 0) return Error::Invalid(fmt::format("'{}' is measured in hours; give a duration, not --count", cmd.kind));
    if (cmd.minutes <= 0 || cmd.minutes > kMinutesMax)
      return Error::Invalid("duration must be more than 0 and at most 10000h; e.g. 90m or 1.5h");
  } else {
    if (cmd.minutes != 0) return Error::Invalid(fmt::format("'{}' is counted in items; use --count N, not a duration", cmd.kind));
    if (cmd.count <= 0 || cmd.count > kCountMax) return Error::Invalid("--count must be 1 to 100000");
  }
  if (cmd.at_us > now_us + 86400LL * 1000000)
    return Error::Invalid(fmt::format("work dated {} is in the future; check --at", state.zone().FormatIso(cmd.at_us)));
  if (cmd.task.size() > 200 || cmd.staff.size() > 100 || cmd.note.size() > 2000)
    return Error::Limit("task is limited to 200 characters, staff to 100, note to 2000");
  auto booked = BookMonth(state, cmd.at_us, cmd.late, "the work");
  if (!booked.ok()) return booked.error();
  if (!state.TermsFor(booked.value()))
    return Error::Refused(fmt::format("the first open month {} is outside the contract", FormatMonth(booked.value())));
  if (state.BlockedAt(now_us) && !cmd.emergency)
    return Error::Refused(fmt::format(
        "client '{}' is blocked: {} outstanding past the grace days; record a payment with `hourbank pay`, "
        "or log emergency work with --emergency",
        state.id(), FormatMoney(state.outstanding_minor(), state.currency())));
  if (kind->unit == Unit::kItem && !kind->included && !kind->price_minor) {
    // A pooled kind with no one-off price can only be done within its slots.
    MonthEval ev = state.Evaluate(booked.value());
    int64_t left = 0;
    if (auto it = ev.pools.find(kind->pool); it != ev.pools.end()) left += it->second.left();
    for (const Addon& a : t->plan->addons)
      if (std::find(a.kinds.begin(), a.kinds.end(), kind->id) != a.kinds.end())
        if (auto it = ev.pools.find(a.id); it != ev.pools.end()) left += it->second.left();
    if (left < cmd.count)
      return Error::Refused(fmt::format("pool '{}' has {} slot(s) left in {} and '{}' has no one-off price; buy an add-on",
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
  b.setOffHours(!cmd.off_hours ? schemas::OffHours::AUTO : *cmd.off_hours ? schemas::OffHours::YES : schemas::OffHours::NO);
  b.setNote(cmd.note);
  b.setLate(booked.value() != work_month);
  b.setEmergency(cmd.emergency);
  b.setBookedMonth(booked.value() != work_month ? booked.value() : 0);
  d.events.push_back(std::move(draft));
  return d;
}

Result<Decision> DecideAccept(const ClientState& state, const std::string& task, int64_t at_us, bool late,
                              int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (task.empty()) return Error::Invalid("--task is required: the task the client accepted");
  if (state.PendingForTask(task).empty())
    return Error::Refused(fmt::format("task '{}' of '{}' has no work waiting for acceptance", task, state.id()));
  if (at_us > now_us + 86400LL * 1000000) return Error::Invalid("acceptance time is in the future; check --at");
  auto booked = BookMonth(state, at_us, late, "the acceptance");
  if (!booked.ok()) return booked.error();
  if (!state.TermsFor(booked.value()))
    return Error::Refused(fmt::format("acceptance in {} is outside the contract", FormatMonth(booked.value())));
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto b = draft.root().initBody().initWorkAccepted();
  b.setTask(task);
  b.setBookedMonth(booked.value() != state.zone().MonthOf(at_us) ? booked.value() : 0);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("task {} accepted: {} entries count in {}", task, state.PendingForTask(task).size(),
                          FormatMonth(booked.value()));
  return d;
}

Result<Decision> DecideVoid(const ClientState& state, uint64_t entry_seq, const std::string& reason, int64_t now_us) {
  HB_TRY(NeedClient(state));
  const Entry* e = state.FindEntry(entry_seq);
  if (!e) return Error::NotFound(fmt::format("client '{}' has no work entry #{}; see `hourbank report`", state.id(), entry_seq));
  if (e->voided) return Error::Refused(fmt::format("entry #{} is already voided", entry_seq));
  if (reason.empty()) return Error::Invalid("--reason is required: say why the entry is cancelled");
  Decision d;
  ledger::EventDraft draft = Draft(now_us);
  auto b = draft.root().initBody().initWorkVoided();
  b.setEntrySeq(entry_seq);
  b.setReason(reason);
  if (e->month != 0 && state.IsClosed(e->month)) {
    // The entry's month is settled: what it was billed comes back as a credit in the first
    // open month. Hours it drew in that closed month stay settled.
    auto entries = state.EntriesFor(e->month);
    int64_t billed = 0;
    for (const Entry& x : entries)
      if (x.seq == entry_seq) billed = x.billed_minor();
    b.setCreditMonth(state.FirstOpenMonth());
    b.setCreditMinor(billed);
    d.summary = fmt::format("entry #{} voided; {} credited in {}", entry_seq,
                            FormatMoney(billed, state.currency()), FormatMonth(state.FirstOpenMonth()));
  } else {
    d.summary = fmt::format("entry #{} voided", entry_seq);
  }
  d.events.push_back(std::move(draft));
  return d;
}

// ---------------------------------------------------------------------------------------
// Money

Result<Decision> DecideBuyHours(const ClientState& state, const BuyHours& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (cmd.minutes <= 0 || cmd.minutes > kMinutesMax) return Error::Invalid("--hours must be more than 0 and at most 10000h");
  auto booked = BookMonth(state, cmd.at_us, true, "the purchase");
  if (!booked.ok()) return booked.error();
  const ContractTerms* t = state.TermsFor(booked.value());
  if (!t) return Error::Refused(fmt::format("{} is outside the contract", FormatMonth(booked.value())));
  int64_t price = 0;
  if (cmd.price_minor) price = *cmd.price_minor;
  else {
    bool found = false;
    for (const BlockOffer& o : t->plan->block_offers)
      if (o.minutes == cmd.minutes) { price = o.price_minor; found = true; }
    if (!found) return Error::Invalid(fmt::format("plan '{}' sells no {} block; pass --price", t->plan_id, FormatMinutes(cmd.minutes)));
  }
  if (price < 0 || price > kMoneyMax) return Error::Invalid("--price is out of range");
  if (cmd.expires_at_us != 0 && cmd.expires_at_us <= cmd.at_us)
    return Error::Invalid("--expires must be after the purchase");
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(cmd.at_us);
  auto b = draft.root().initBody().initHoursPurchased();
  b.setMinutes(cmd.minutes);
  b.setPriceMinor(price);
  b.setExpiresAtUs(cmd.expires_at_us);
  b.setMonth(booked.value());
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("{} block bought for {}{}", FormatMinutes(cmd.minutes), FormatMoney(price, state.currency()),
                          cmd.expires_at_us ? ", expires " + state.zone().FormatIso(cmd.expires_at_us) : ", never expires");
  return d;
}

Result<Decision> DecideBuyAddon(const ClientState& state, const std::string& addon_id, uint32_t month, int64_t at_us,
                                int64_t now_us) {
  HB_TRY(NeedContract(state));
  const ContractTerms* t = state.TermsFor(month);
  if (!t) return Error::Refused(fmt::format("{} is outside the contract of '{}'", FormatMonth(month), state.id()));
  const Addon* a = t->plan->FindAddon(addon_id);
  if (!a) {
    std::string known;
    for (const Addon& x : t->plan->addons) known += (known.empty() ? "" : ", ") + x.id;
    return Error::Invalid(fmt::format("plan '{}' has no add-on '{}'{}", t->plan_id, addon_id,
                                      known.empty() ? "" : "; known add-ons: " + known));
  }
  if (state.IsClosed(month)) return Error::Refused(fmt::format("{} is closed; add-ons are for open months", FormatMonth(month)));
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

Result<Decision> DecidePay(const ClientState& state, int64_t amount_minor, const std::string& ref, int64_t at_us,
                           int64_t now_us) {
  HB_TRY(NeedClient(state));
  if (amount_minor <= 0 || amount_minor > kMoneyMax) return Error::Invalid("the amount must be positive");
  if (ref.size() > 200) return Error::Limit("--ref is limited to 200 characters");
  (void)now_us;
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto b = draft.root().initBody().initPaymentReceived();
  b.setAmountMinor(amount_minor);
  b.setRef(ref);
  d.events.push_back(std::move(draft));
  d.summary = fmt::format("payment of {} recorded; outstanding {}", FormatMoney(amount_minor, state.currency()),
                          FormatMoney(state.outstanding_minor() - amount_minor, state.currency()));
  return d;
}

Result<Decision> DecideAdjust(const ClientState& state, const AdjustCmd& cmd, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (cmd.amount_minor <= 0 || cmd.amount_minor > kMoneyMax) return Error::Invalid("the amount must be positive");
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
  d.summary = fmt::format("adjustment of {} in {}", FormatMoney(cmd.amount_minor, state.currency()), FormatMonth(month));
  return d;
}

Result<Decision> DecideClose(const ClientState& state, uint32_t month, int64_t now_us) {
  HB_TRY(NeedContract(state));
  if (!ValidMonth(month)) return Error::Invalid("the month must be YYYY-MM");
  Decision d;
  if (state.IsClosed(month)) {
    d.summary = fmt::format("{} {} is already closed", state.id(), FormatMonth(month));
    return d;
  }
  const uint32_t first_open = state.FirstOpenMonth();
  if (month != first_open)
    return Error::Refused(fmt::format("months close in order: close {} first", FormatMonth(first_open)));
  const int64_t end_us = state.zone().MonthEndUs(month);
  if (now_us < end_us)
    return Error::Refused(fmt::format("{} has not ended in {} (it ends {}); close it after that",
                                      FormatMonth(month), state.zone().name(), state.zone().FormatIso(end_us)));
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
    if (minutes <= 0) return;
    ledger::EventDraft draft = Draft(end_us);
    auto b = draft.root().initBody().initHoursExpired();
    b.setMonth(month);
    b.setBucket(bucket);
    b.setBlockSeq(block_seq);
    b.setMinutes(minutes);
    d.events.push_back(std::move(draft));
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
  d.summary = fmt::format("{} {} closed: invoice {}, carried {}, expired {}", state.id(), FormatMonth(month),
                          FormatMoney(ev.invoice.total_minor, state.currency()), FormatMinutes(ev.carried_minutes),
                          FormatMinutes(ev.expired_minutes()));
  return d;
}

Result<Decision> DecideIncident(const ClientState& state, IncidentAction action, const std::string& id,
                                uint8_t priority, const std::string& title, int64_t at_us, int64_t now_us) {
  HB_TRY(NeedClient(state));
  if (id.empty() || id.size() > 100) return Error::Invalid("the incident id must be 1 to 100 characters");
  if (at_us > now_us + 86400LL * 1000000) return Error::Invalid("the time is in the future; check --at");
  const auto& incidents = state.incidents();
  auto it = incidents.find(id);
  Decision d;
  ledger::EventDraft draft = Draft(at_us);
  auto body = draft.root().initBody();
  if (action == IncidentAction::kOpen) {
    if (it != incidents.end())
      return Error::Refused(fmt::format("incident '{}' already exists{}; use another id", id,
                                        it->second.resolved_us ? " (resolved: reopen it with `incident reopen`)" : ""));
    if (priority < 1 || priority > 4) return Error::Invalid("--priority must be 1 (highest) to 4");
    auto b = body.initIncidentOpened();
    b.setIncidentId(id);
    b.setPriority(priority);
    b.setTitle(title);
    d.summary = fmt::format("incident {} opened, priority {}", id, priority);
  } else {
    if (it == incidents.end())
      return Error::NotFound(fmt::format("client '{}' has no incident '{}'; open it first", state.id(), id));
    const Incident& inc = it->second;
    const int64_t last_us = std::max({inc.opened_us, inc.responded_us, inc.resolved_us,
                                      inc.reopened_us.empty() ? 0 : inc.reopened_us.back()});
    if (at_us < inc.opened_us)
      return Error::Invalid(fmt::format("the time is before incident '{}' was opened ({})", id, state.zone().FormatIso(inc.opened_us)));
    switch (action) {
      case IncidentAction::kRespond:
        if (inc.responded_us) return Error::Refused(fmt::format("incident '{}' already has a first response", id));
        if (inc.resolved_us) return Error::Refused(fmt::format("incident '{}' is resolved; a first response must come before", id));
        body.initIncidentResponded().setIncidentId(id);
        d.summary = fmt::format("incident {}: first response", id);
        break;
      case IncidentAction::kResolve:
        if (inc.resolved_us) return Error::Refused(fmt::format("incident '{}' is already resolved; reopen it first", id));
        if (at_us < last_us) return Error::Invalid("the time is before the incident's last event");
        body.initIncidentResolved().setIncidentId(id);
        d.summary = fmt::format("incident {} resolved", id);
        break;
      case IncidentAction::kReprioritize: {
        if (priority < 1 || priority > 4) return Error::Invalid("--priority must be 1 (highest) to 4");
        if (inc.resolved_us) return Error::Refused(fmt::format("incident '{}' is resolved; reopen it first", id));
        if (at_us < last_us) return Error::Invalid("the time is before the incident's last event");
        auto b = body.initIncidentReprioritized();
        b.setIncidentId(id);
        b.setPriority(priority);
        d.summary = fmt::format("incident {}: priority {}", id, priority);
        break;
      }
      case IncidentAction::kReopen:
        if (!inc.resolved_us) return Error::Refused(fmt::format("incident '{}' is not resolved", id));
        if (at_us < inc.resolved_us) return Error::Invalid("the time is before the incident was resolved");
        body.initIncidentReopened().setIncidentId(id);
        d.summary = fmt::format("incident {} reopened", id);
        break;
      case IncidentAction::kOpen: break;
    }
  }
  d.events.push_back(std::move(draft));
  return d;
}

}  // namespace hourbank::projections
