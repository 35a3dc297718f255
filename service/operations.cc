#include "service/operations.h"

#include <algorithm>

#include <fmt/format.h>

#include "projections/limits.h"

namespace hourbank::service {

using projections::Catalog;
using projections::ClientState;
using projections::Decision;

namespace {

// How a field is called in an error sentence.
std::string Nm(Names names, const char* flag, const char* field) {
  return names == Names::kFlags ? flag : field;
}

// The canonical request text: the operation, then name=value pairs, NUL-separated.
class Canon {
 public:
  explicit Canon(const char* op) : text_(op) {}
  Canon& Add(const char* name, const std::string& value) {
    text_ += '\0';
    text_ += name;
    text_ += '=';
    text_ += value;
    return *this;
  }
  Canon& Add(const char* name, int64_t value) { return Add(name, std::to_string(value)); }
  Canon& Add(const char* name, bool value) { return Add(name, std::string(value ? "1" : "0")); }
  std::string str() const { return text_; }

 private:
  std::string text_;
};

WriteContext Context(const Caller& caller, const std::string& key, const Canon& canon) {
  return WriteContext{caller.name, key, canon.str()};
}

// `text` read in the client's zone, or now when empty.
Result<int64_t> AtOrNow(const Session& s, const ClientState& st, const std::string& text,
                        const std::string& name) {
  if (text.empty()) return s.now_us();
  return ParseTimeField(text, st.zone(), name);
}

}  // namespace

Result<uint32_t> ParseMonthField(const std::string& text, const std::string& name) {
  auto m = projections::ParseMonth(text);
  if (!m.ok()) return Error::Invalid(fmt::format("{}: {}", name, m.error().message));
  return m.value();
}

Result<int64_t> ParseTimeField(const std::string& text, const projections::Zone& zone,
                               const std::string& name) {
  auto t = projections::ParseTime(text, zone);
  if (!t.ok()) return Error::Invalid(fmt::format("{}: {}", name, t.error().message));
  return t.value();
}

Result<int64_t> ParseMoneyField(const ClientState& s, const std::string& text,
                                const std::string& name) {
  // An unregistered client has no currency: say what is wrong, not "unknown currency 'XXX'".
  if (!s.registered())
    return Error::NotFound(
        fmt::format("unknown client '{}'; add it first with `hourbank client add`", s.id()));
  auto digits = projections::CurrencyMinorDigits(s.currency());
  if (!digits.ok()) return digits.error();
  auto m = projections::ParseMoneyMinor(text, digits.value());
  if (!m.ok()) return Error::Invalid(fmt::format("{}: {}", name, m.error().message));
  return m.value();
}

Status CheckMonthRange(uint32_t from, uint32_t to, Names names) {
  if (from && to && to < from)
    return Error::Invalid(names == Names::kFlags ? "--to is before --from" : "to is before from");
  if (from && to && projections::MonthsBetween(from, to) > int32_t(projections::kMonthsMax))
    return Error::Limit("at most 100 years at once");
  return Status::Ok();
}

// ---- work

Result<LogAnswer> LogWorkOp(Session& s, const Caller& caller, const LogRequest& r) {
  HB_TRY(Require(caller, Operation::kLogWork));
  // docs/api.md "Who did the work": a staff token logs its own work only.
  if (caller.role == schemas::Role::STAFF && r.work.staff != caller.name)
    return Error{Code::kForbidden, fmt::format("the token '{}' (staff) may log only its own work, "
                                               "not \"staff\": \"{}\"; leave \"staff\" "
                                               "out, or log it with an admin token",
                                               caller.name, r.work.staff)};
  const projections::LogWork& w = r.work;
  Canon canon("log");
  canon.Add("kind", w.kind)
      .Add("task", w.task)
      .Add("staff", w.staff)
      .Add("note", w.note)
      .Add("minutes", w.minutes)
      .Add("count", w.count)
      .Add("at", r.at)
      .Add("urgent", w.urgent)
      .Add("off_hours", std::string(w.off_hours ? (*w.off_hours ? "1" : "0") : ""))
      .Add("late", w.late)
      .Add("emergency", w.emergency);
  if (w.non_billable)
    canon.Add("non_billable", true);  // only when set: older requests keep their digest
  const std::string at_name = Nm(r.names, "--at", "at");
  auto out = Execute(
      s, r.client, Context(caller, r.key, canon),
      [&](const ClientState& st) -> Result<Decision> {
        projections::LogWork cmd = w;
        auto at = AtOrNow(s, st, r.at, at_name);
        if (!at.ok()) return at.error();
        cmd.at_us = at.value();
        // Neither a duration nor a count: one item of an item kind (CLI.md: --count is optional).
        if (cmd.minutes == 0 && cmd.count == 0 && st.registered()) {
          const auto* terms = st.TermsFor(st.zone().MonthOf(cmd.at_us));
          const projections::Kind* kind =
              terms && terms->plan ? terms->plan->FindKind(cmd.kind) : nullptr;
          if (kind && kind->unit != projections::Unit::kHour) cmd.count = 1;
          if (kind && kind->unit == projections::Unit::kHour)
            return Error::Invalid(fmt::format(
                "'{}' is measured in hours: give {}", cmd.kind,
                r.names == Names::kFlags ? "a DURATION, e.g. 1h30m"
                                         : "\"duration\" (e.g. \"1h30m\") or \"minutes\""));
        }
        return projections::DecideLog(st, cmd, s.now_us());
      },
      StateNeeded::kOpenMonths);  // DecideLog reads the contract, open months and the debt
  if (!out.ok()) return out.error();
  // A new entry is in an open month, which a lean state keeps; a replayed one may be in a month
  // closed since, so a replay loads the entries of closed months as well.
  auto state = s.LoadClient(r.client, {.retain_entries = out.value().replayed});
  if (!state.ok()) return state.error();
  return LogAnswer{std::move(out).value(), std::move(state).value()};
}

Result<WriteOutcome> AcceptOp(Session& s, const Caller& caller, const AcceptRequest& r) {
  HB_TRY(Require(caller, Operation::kAccept));
  Canon canon("accept");
  canon.Add("task", r.task).Add("at", r.at).Add("late", r.late);
  return Execute(s, r.client, Context(caller, {}, canon),
                 [&](const ClientState& st) -> Result<Decision> {
                   auto at = AtOrNow(s, st, r.at, Nm(r.names, "--at", "at"));
                   if (!at.ok()) return at.error();
                   return projections::DecideAccept(st, r.task, at.value(), r.late, s.now_us());
                 });
}

Result<WriteOutcome> VoidOp(Session& s, const Caller& caller, const VoidRequest& r) {
  HB_TRY(Require(caller, Operation::kVoid));
  Canon canon("void");
  canon.Add("entry", int64_t(r.entry)).Add("reason", r.reason);
  return Execute(s, r.client, Context(caller, r.key, canon), [&](const ClientState& st) {
    return projections::DecideVoid(st, r.entry, r.reason, s.now_us());
  });
}

Result<WriteOutcome> WriteDownOp(Session& s, const Caller& caller, const WriteDownRequest& r) {
  HB_TRY(Require(caller, Operation::kWriteDown));
  Canon canon("write-down");
  canon.Add("entry", int64_t(r.entry)).Add("minutes", r.minutes).Add("reason", r.reason);
  return Execute(s, r.client, Context(caller, r.key, canon), [&](const ClientState& st) {
    return projections::DecideWriteDown(st, r.entry, r.minutes, r.reason, s.now_us());
  });
}

Result<WriteOutcome> ReviewOp(Session& s, const Caller& caller, const ReviewRequest& r) {
  HB_TRY(Require(caller, Operation::kReview));
  auto month = ParseMonthField(r.month, Nm(r.names, "MONTH", "month"));
  if (!month.ok()) return month.error();
  projections::ReviewCmd cmd;
  cmd.decision = r.approve ? projections::ReviewCmd::Decision::kApprove
                           : projections::ReviewCmd::Decision::kReject;
  cmd.month = month.value();
  cmd.entries = r.entries;
  cmd.task = r.task;
  cmd.all = r.all;
  cmd.reason = r.reason;
  Canon canon(r.approve ? "approve" : "reject");
  std::string ids;
  for (uint64_t e : r.entries) ids += std::to_string(e) + ",";
  canon.Add("month", r.month)
      .Add("entries", ids)
      .Add("task", r.task)
      .Add("all", r.all)
      .Add("reason", r.reason);
  return Execute(s, r.client, Context(caller, {}, canon), [&](const ClientState& st) {
    return projections::DecideReview(st, cmd, s.now_us());
  });
}

// ---- money

namespace {

Result<Decision> DecideBuy(Session& s, const ClientState& st, const BuyRequest& r) {
  auto at = AtOrNow(s, st, r.at, Nm(r.names, "--at", "at"));
  if (!at.ok()) return at.error();
  if (r.hours.empty()) {
    if (r.month.empty())
      return Error::Invalid(
          r.names == Names::kFlags
              ? "--addon needs --month YYYY-MM: the month the slots are for"
              : "\"addon\" needs \"month\": the month the slots are for (YYYY-MM)");
    auto month = ParseMonthField(r.month, Nm(r.names, "--month", "month"));
    if (!month.ok()) return month.error();
    return projections::DecideBuyAddon(st, r.addon, month.value(), at.value(), s.now_us());
  }
  projections::BuyHours b;
  auto m = projections::ParseDurationMinutes(r.hours);
  if (!m.ok()) return m.error();
  b.minutes = m.value();
  if (!r.price.empty()) {
    auto price = ParseMoneyField(st, r.price, Nm(r.names, "--price", "price"));
    if (!price.ok()) return price.error();
    b.price_minor = price.value();
  }
  if (!r.expires.empty()) {
    // The block can be used through the whole of its last day.
    auto day = ParseTimeField(r.expires, st.zone(), Nm(r.names, "--expires", "expires"));
    if (!day.ok()) return day.error();
    b.expires_day = st.zone().Local(day.value()).yyyymmdd;
  }
  b.at_us = at.value();
  return projections::DecideBuyHours(st, b, s.now_us());
}

}  // namespace

Result<WriteOutcome> BuyOp(Session& s, const Caller& caller, const BuyRequest& r) {
  HB_TRY(Require(caller, Operation::kBuy));
  if (r.hours.empty() == r.addon.empty())
    return Error::Invalid(
        r.names == Names::kFlags
            ? "give --hours DURATION (an hour block) or --addon ID --month YYYY-MM"
            : "give \"hours\" (an hour block, e.g. \"50h\") or \"addon\" and \"month\"");
  Canon canon("buy");
  canon.Add("hours", r.hours)
      .Add("price", r.price)
      .Add("expires", r.expires)
      .Add("addon", r.addon)
      .Add("month", r.month)
      .Add("at", r.at);
  return Execute(s, r.client, Context(caller, r.key, canon),
                 [&](const ClientState& st) { return DecideBuy(s, st, r); });
}

Result<WriteOutcome> PayOp(Session& s, const Caller& caller, const PayRequest& r) {
  HB_TRY(Require(caller, Operation::kPay));
  Canon canon("pay");
  canon.Add("amount", r.amount).Add("ref", r.ref).Add("at", r.at);
  return Execute(s, r.client, Context(caller, r.key, canon),
                 [&](const ClientState& st) -> Result<Decision> {
                   auto at = AtOrNow(s, st, r.at, Nm(r.names, "--at", "at"));
                   if (!at.ok()) return at.error();
                   auto amount = ParseMoneyField(st, r.amount, Nm(r.names, "AMOUNT", "amount"));
                   if (!amount.ok()) return amount.error();
                   return projections::DecidePay(st, amount.value(), r.ref, at.value(), s.now_us());
                 });
}

Result<WriteOutcome> AdjustOp(Session& s, const Caller& caller, const AdjustRequest& r) {
  HB_TRY(Require(caller, Operation::kAdjust));
  const int given = !r.penalty.empty() + !r.credit.empty() + !r.charge.empty();
  if (given != 1)
    return Error::Invalid(
        r.names == Names::kFlags
            ? "give exactly one of --penalty, --credit, --charge with an amount"
            : "give exactly one of \"penalty\", \"credit\", \"charge\" with an amount");
  Canon canon("adjust");
  canon.Add("penalty", r.penalty)
      .Add("credit", r.credit)
      .Add("charge", r.charge)
      .Add("reason", r.reason)
      .Add("month", r.month);
  return Execute(s, r.client, Context(caller, r.key, canon),
                 [&](const ClientState& st) -> Result<Decision> {
                   projections::AdjustCmd c;
                   c.reason = r.reason;
                   if (!r.month.empty()) {
                     auto m = ParseMonthField(r.month, Nm(r.names, "--month", "month"));
                     if (!m.ok()) return m.error();
                     c.month = m.value();
                   }
                   const std::string* text = &r.penalty;
                   std::string name = "penalty";
                   c.kind = schemas::AdjustmentKind::PENALTY;
                   if (!r.credit.empty())
                     text = &r.credit, c.kind = schemas::AdjustmentKind::CREDIT, name = "credit";
                   if (!r.charge.empty())
                     text = &r.charge, c.kind = schemas::AdjustmentKind::CHARGE, name = "charge";
                   const std::string field = r.names == Names::kFlags ? "--" + name : name;
                   auto amount = ParseMoneyField(st, *text, field);
                   if (!amount.ok()) return amount.error();
                   c.amount_minor = amount.value();
                   return projections::DecideAdjust(st, c, s.now_us());
                 });
}

// ---- months

Result<WriteOutcome> CloseOp(Session& s, const Caller& caller, const CloseRequest& r) {
  HB_TRY(Require(caller, Operation::kClose));
  auto month = ParseMonthField(r.month, Nm(r.names, "MONTH", "month"));
  if (!month.ok()) return month.error();
  Canon canon("close");
  canon.Add("month", r.month);
  if (r.carry_pending) canon.Add("carry_pending", true);
  return Execute(s, r.client, Context(caller, {}, canon), [&](const ClientState& st) {
    return projections::DecideClose(st, month.value(), s.now_us(), r.carry_pending);
  });
}

namespace {

// Closes each open month of one client in order up to `through` (none without a contract).
Status CloseClientThrough(Session& s, const Caller& caller, const std::string& id, uint32_t through,
                          std::vector<Closed>& out,
                          const std::function<void(const Closed&)>& on_closed) {
  for (uint32_t guard = 0; guard < projections::kMonthsMax; ++guard) {
    auto st = s.LoadClient(id, {.retain_entries = false});
    if (!st.ok()) return st.error();
    if (!st.value().has_contract()) return Status::Ok();
    const uint32_t m = st.value().FirstOpenMonth();
    if (m > through || (st.value().last_month() && m > st.value().last_month()))
      return Status::Ok();
    Canon canon("close");
    canon.Add("month", projections::FormatMonth(m));
    auto w = Execute(s, id, Context(caller, {}, canon), [&](const ClientState& c) {
      return projections::DecideClose(c, m, s.now_us());
    });
    if (!w.ok()) return w.error();
    out.push_back(Closed{id, m, w.value().summary});
    if (on_closed) on_closed(out.back());
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Closed>> CloseAllOp(Session& s, const Caller& caller, const CloseAllRequest& r,
                                       const std::function<void(const Closed&)>& on_closed,
                                       const std::function<void(size_t)>& on_start) {
  HB_TRY(Require(caller, Operation::kClose));
  auto through = ParseMonthField(r.through, Nm(r.names, "--through", "through"));
  if (!through.ok()) return through.error();
  // A read failure here is an error, never "nothing to close".
  auto ids = s.ClientIds();
  if (!ids.ok())
    return Error{ids.error().code,
                 fmt::format("cannot list the clients to close: {}", ids.error().message)};
  if (on_start) on_start(ids.value().size());
  std::vector<Closed> out;
  for (const std::string& id : ids.value())
    HB_TRY(CloseClientThrough(s, caller, id, through.value(), out, on_closed));
  return out;
}

// ---- incidents

std::optional<projections::IncidentAction> ParseIncidentAction(const std::string& text) {
  using projections::IncidentAction;
  if (text == "open") return IncidentAction::kOpen;
  if (text == "respond") return IncidentAction::kRespond;
  if (text == "resolve") return IncidentAction::kResolve;
  if (text == "reprioritize") return IncidentAction::kReprioritize;
  if (text == "reopen") return IncidentAction::kReopen;
  if (text == "wait") return IncidentAction::kWait;
  if (text == "resume") return IncidentAction::kResume;
  return std::nullopt;
}

Result<WriteOutcome> IncidentOp(Session& s, const Caller& caller, const IncidentRequest& r) {
  HB_TRY(Require(caller, Operation::kIncident));
  using projections::IncidentAction;
  const std::string pri = Nm(r.names, "--priority", "\"priority\"");
  if ((r.action == IncidentAction::kOpen || r.action == IncidentAction::kReprioritize) &&
      r.priority == 0)
    return Error::Invalid(fmt::format("{} is required: 1 (highest) to 4", pri));
  Canon canon("incident");
  canon.Add("action", int64_t(r.action))
      .Add("id", r.id)
      .Add("priority", r.priority)
      .Add("title", r.title)
      .Add("at", r.at)
      .Add("reason", r.reason);
  // The decision reads its free text as the title (open) or the reason (wait).
  const std::string& text = r.action == IncidentAction::kWait ? r.reason : r.title;
  return Execute(s, r.client, Context(caller, {}, canon),
                 [&](const ClientState& st) -> Result<Decision> {
                   auto at = AtOrNow(s, st, r.at, Nm(r.names, "--at", "at"));
                   if (!at.ok()) return at.error();
                   const auto priority = uint8_t(std::clamp<int64_t>(r.priority, 0, 255));
                   return projections::DecideIncident(st, r.action, r.id, priority, text,
                                                      at.value(), s.now_us());
                 });
}

// ---- clients, contracts, plans

Result<WriteOutcome> AddClientOp(Session& s, const Caller& caller,
                                 const projections::RegisterClient& r) {
  HB_TRY(Require(caller, Operation::kAddClient));
  if (!ledger::ValidClientId(r.client_id) || r.client_id[0] == '$')
    return Error::Invalid(
        fmt::format("client id '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-' starting "
                    "with a letter or digit",
                    r.client_id));
  Canon canon("client add");
  canon.Add("name", r.name).Add("currency", r.currency).Add("timezone", r.timezone);
  return Execute(s, r.client_id, Context(caller, {}, canon), [&](const ClientState& st) {
    return projections::DecideRegister(st, r, s.now_us());
  });
}

Result<WriteOutcome> ContractStartOp(Session& s, const Caller& caller,
                                     const ContractStartRequest& r) {
  HB_TRY(Require(caller, Operation::kContract));
  projections::StartContract cmd;
  cmd.plan_id = r.plan;
  cmd.plan_version = r.plan_version;
  auto from = ParseMonthField(r.from, Nm(r.names, "--from", "from"));
  if (!from.ok()) return from.error();
  cmd.from_month = from.value();
  cmd.term_months = r.months;
  cmd.prepaid_months = r.prepaid;
  cmd.timely = r.timely;
  cmd.units = r.units;
  cmd.extras = r.extras;
  if (r.review == "required")
    cmd.review = projections::ContractTerms::ReviewRule::kRequired;
  else if (r.review == "off")
    cmd.review = projections::ContractTerms::ReviewRule::kOff;
  else if (!r.review.empty())
    return Error::Invalid(
        fmt::format("{} must be required or off (leave it out to follow the plan)",
                    Nm(r.names, "--review", "\"review\"")));
  auto catalog = s.LoadCatalog();
  if (!catalog.ok()) return catalog.error();
  Canon canon("contract start");
  canon.Add("plan", r.plan).Add("from", r.from).Add("review", r.review);
  return Execute(s, r.client, Context(caller, {}, canon), [&](const ClientState& st) {
    return projections::DecideContractStart(st, catalog.value(), cmd, s.now_us());
  });
}

Result<WriteOutcome> ContractUnitsOp(Session& s, const Caller& caller,
                                     const ContractUnitsRequest& r) {
  HB_TRY(Require(caller, Operation::kContract));
  auto from = ParseMonthField(r.from, Nm(r.names, "--from", "from"));
  if (!from.ok()) return from.error();
  Canon canon("contract units");
  return Execute(s, r.client, Context(caller, {}, canon), [&](const ClientState& st) {
    return projections::DecideUnits(st, r.units, from.value(), s.now_us());
  });
}

Result<WriteOutcome> ContractEndOp(Session& s, const Caller& caller, const ContractEndRequest& r) {
  HB_TRY(Require(caller, Operation::kContract));
  auto last = ParseMonthField(r.after, Nm(r.names, "--after", "after"));
  if (!last.ok()) return last.error();
  Canon canon("contract end");
  return Execute(s, r.client, Context(caller, {}, canon), [&](const ClientState& st) {
    return projections::DecideContractEnd(st, last.value(), r.early, s.now_us());
  });
}

Result<WriteOutcome> DefinePlansOp(Session& s, const Caller& caller, const DefinePlansRequest& r) {
  HB_TRY(Require(caller, Operation::kDefinePlans));
  std::vector<projections::PlanSpec> all;
  for (const auto& [name, text] : r.files) {
    if (text.size() > kPlanFileBytesMax)
      return Error::Limit(fmt::format("plan file '{}' is larger than 4 MiB", name));
    auto plans = projections::ParsePlans(text, name);
    if (!plans.ok()) return plans.error();
    for (auto& p : plans.value()) all.push_back(std::move(p));
  }
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = i + 1; j < all.size(); ++j)
      if (all[i].id == all[j].id)
        return Error::Invalid(
            fmt::format("plan '{}' is defined twice in the files given", all[i].id));
  auto catalog = s.LoadCatalog();
  if (!catalog.ok()) return catalog.error();
  auto d = projections::DecidePlanDefine(catalog.value(), all, s.now_us());
  if (!d.ok()) return d.error();
  WriteOutcome out;
  out.summary = d.value().summary;
  auto appended = AppendDecision(s, projections::kCatalogStream, d.value(),
                                 catalog.value().version(), caller.name);
  if (!appended.ok()) return appended.error();
  out.result = appended.value();
  return out;
}

// ---- reads

Result<ClientAt> ReadClientOp(Session& s, const Caller& caller, Operation op,
                              const std::string& client, const TimeQuery& time,
                              bool retain_entries) {
  HB_TRY(RequireFor(caller, op, client));
  return s.LoadClientAt(client, time, retain_entries);
}

Result<SnapshotAt> ReadSnapshotOp(Session& s, const Caller& caller, Operation op,
                                  const std::string& client, const TimeQuery& time) {
  HB_TRY(RequireFor(caller, op, client));
  return s.LoadSnapshotAt(client, time);
}

Result<std::vector<ClientState>> ListClientsOp(Session& s, const Caller& caller) {
  HB_TRY(Require(caller, Operation::kListClients));
  auto ids = s.ClientIds();
  if (!ids.ok()) return ids.error();
  std::vector<ClientState> out;
  for (const std::string& id : ids.value()) {
    auto st = s.LoadClient(id, {.retain_entries = false});
    if (!st.ok()) return st.error();
    out.push_back(std::move(st).value());
  }
  return out;
}

Result<Catalog> ListPlansOp(Session& s, const Caller& caller) {
  HB_TRY(Require(caller, Operation::kListPlans));
  return s.LoadCatalog();
}

Result<EventsPage> ReadEventsOp(
    Session& s, const Caller& caller, const EventsRequest& r,
    const std::function<void(const ledger::EventView&, const projections::Zone&)>& visit) {
  HB_TRY(RequireFor(caller, Operation::kReadEvents, r.client));
  auto probe = s.LoadClient(r.client, {.retain_entries = false});
  if (!probe.ok()) return probe.error();
  if (!probe.value().registered()) return UnknownClient(r.client);
  const uint64_t limit = r.limit == 0 || r.limit > kEventsPageMax ? kEventsPageMax : r.limit;
  ledger::ReadOptions read;
  if (!r.known_at.empty()) {
    auto t = ParseTimeField(r.known_at, probe.value().zone(), "known_at");
    if (!t.ok()) return t.error();
    read.known_at_us = t.value();
  }
  EventsPage page;
  page.zone = probe.value().zone();
  page.next_after_seq = r.after_seq;
  uint64_t sent = 0;
  HB_TRY(s.log().ReadStream(
      r.client, 1, 0,
      [&](const ledger::EventView& v) {
        if (v.seq <= r.after_seq) return true;
        if (sent >= limit) {
          page.more = true;
          return false;
        }
        visit(v, page.zone);
        ++sent;
        page.next_after_seq = v.seq;
        return true;
      },
      read));
  return page;
}

}  // namespace hourbank::service
