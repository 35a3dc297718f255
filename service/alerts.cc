#include "service/alerts.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "service/execute.h"

namespace hourbank::service {

using projections::AlertRecord;
using projections::ClientState;

Result<std::vector<AlertRecord>> RaiseDue(Session& s, const ClientState& state,
                                          const std::string& actor) {
  const int64_t now_us = s.now_us();
  std::vector<AlertRecord> raised;
  for (AlertRecord& a : projections::DueAlerts(state, now_us)) {
    projections::Decision d = projections::DecideAlert(a, now_us);
    ledger::AppendRequest req;
    req.client_id = state.id();
    req.idempotency_key = a.key;
    req.request_digest = RequestDigest(state.id(), a.key);  // the same alert from any writer
    for (ledger::EventDraft& e : d.events) {
      e.root().setActor(actor);
      req.events.push_back(std::move(e));
    }
    auto appended = s.log().Append(std::move(req));
    if (!appended.ok()) return appended.error();
    if (appended.value().replayed) continue;
    a.seq = appended.value().first_seq;
    raised.push_back(std::move(a));
  }
  return raised;
}

Result<std::vector<AlertRecord>> RaiseAlerts(Session& s, const std::string& client_id,
                                             const std::string& actor) {
  auto state = s.LoadClient(client_id, {.retain_entries = false});
  if (!state.ok()) return state.error();
  return RaiseDue(s, state.value(), actor);
}

void RaiseAlertsAfterWrite(Session& s, ClientState before, const std::string& actor) noexcept {
  try {
    ClientState& state = before;
    const Status caught_up =
        s.log().ReadStream(state.id(), state.version() + 1, 0, [&](const ledger::EventView& v) {
          state.Apply(v.seq, v.event);
          return true;
        });
    if (caught_up.ok()) (void)RaiseDue(s, state, actor);
  } catch (...) {  // the user's write stands whatever happens here
  }
}

namespace {

Result<std::vector<std::string>> Clients(Session& s, const std::string& client) {
  if (!client.empty()) return std::vector<std::string>{client};
  return s.ClientIds();
}

}  // namespace

Result<std::vector<ClientAlerts>> ListAlertsOp(Session& s, const Caller& caller,
                                               const AlertsRequest& r) {
  // A client token reads its own client's alerts only: never the list of every client's.
  HB_TRY(RequireFor(caller, Operation::kReadBalance, r.client));
  auto ids = Clients(s, r.client);
  if (!ids.ok()) return ids.error();
  const std::string since_name = r.names == Names::kFlags ? "--since" : "since";
  std::vector<ClientAlerts> out;
  for (const std::string& id : ids.value()) {
    auto st = s.LoadClient(id, {.retain_entries = false});
    if (!st.ok()) return st.error();
    if (!st.value().registered()) {
      if (!r.client.empty()) return UnknownClient(id);
      continue;
    }
    int64_t since_us = 0;
    if (!r.since.empty()) {
      auto t = ParseTimeField(r.since, st.value().zone(), since_name);
      if (!t.ok()) return t.error();
      since_us = t.value();
    }
    ClientAlerts c{id, st.value().currency(), st.value().zone(), {}};
    for (const AlertRecord& a : st.value().alerts())
      if (a.raised_us >= since_us) c.alerts.push_back(a);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<ClientAlerts>> CheckAlertsOp(Session& s, const Caller& caller,
                                                const std::string& client) {
  HB_TRY(Require(caller, Operation::kClose));
  auto ids = Clients(s, client);
  if (!ids.ok()) return ids.error();
  std::vector<ClientAlerts> out;
  for (const std::string& id : ids.value()) {
    auto st = s.LoadClient(id, {.retain_entries = false});
    if (!st.ok()) return st.error();
    if (!st.value().registered()) {
      if (!client.empty()) return UnknownClient(id);
      continue;
    }
    auto raised = RaiseDue(s, st.value(), caller.name);
    if (!raised.ok()) return raised.error();
    out.push_back({id, st.value().currency(), st.value().zone(), std::move(raised).value()});
  }
  return out;
}

namespace {

constexpr size_t kNumberDigitsMax = 7;  // beyond every bound; longer: not read as a number
constexpr size_t kListPiecesMax = 32;   // more pieces than kinds or thresholds: not read further

// "a,b,c" as pieces (at most kListPiecesMax + 1: the caller refuses that many).
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (out.size() <= kListPiecesMax) {
    const size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool WholeNumber(std::string_view text) {
  return !text.empty() && text.size() <= kNumberDigitsMax &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "50,90" as a TOML array ("none": []), every piece a whole number.
Result<std::string> PercentList(const std::string& text, const std::string& name) {
  if (text == "none") return std::string("[]");
  std::vector<std::string> pieces;
  for (const std::string& p : SplitList(text)) {
    if (!WholeNumber(p) || pieces.size() >= projections::kAlertPercentsMax)
      return Error::Invalid(fmt::format(
          "{}: '{}' is not a list of at most {} whole percents; write e.g. 50,90 (or none)", name,
          text, projections::kAlertPercentsMax));
    pieces.push_back(p);
  }
  if (pieces.empty())
    return Error::Invalid(fmt::format("{}: empty; write e.g. 50,90 (or none)", name));
  return "[" + fmt::format("{}", fmt::join(pieces, ", ")) + "]";
}

// The given thresholds as the TOML of a [plan.alerts] table, checked by the plan's rules.
Status CheckedThresholds(const AlertSettingsRequest& r, projections::AlertSettingsChange* c) {
  const bool flags = r.names == Names::kFlags;
  std::string toml;
  if (r.allowance_percent) {
    auto list =
        PercentList(*r.allowance_percent, flags ? "--allowance-percent" : "allowance_percent");
    if (!list.ok()) return list.error();
    toml += "allowance_percent = " + list.value() + "\n";
  }
  const std::pair<const std::optional<std::string>*, const char*> days[] = {
      {&r.block_expiry_days, "block_expiry_days"},
      {&r.reserve_expiry_days, "reserve_expiry_days"},
      {&r.invoice_overdue_days, "invoice_overdue_days"}};
  for (const auto& [text, key] : days) {
    if (!*text) continue;
    std::string name = key;
    if (flags) std::replace(name.begin(), name.end(), '_', '-');
    if (!WholeNumber(**text))
      return Error::Invalid(fmt::format("{}{}: '{}' is not a whole number of days; write e.g. 14",
                                        flags ? "--" : "", name, **text));
    toml += fmt::format("{} = {}\n", key, **text);
  }
  auto rules = projections::ParseAlertRulesText(toml, flags ? "alerts set" : "alert settings");
  if (!rules.ok()) return rules.error();
  if (r.allowance_percent) c->allowance_percent = rules.value().allowance_percent;
  if (r.block_expiry_days) c->block_expiry_days = rules.value().block_expiry_days;
  if (r.reserve_expiry_days) c->reserve_expiry_days = rules.value().reserve_expiry_days;
  if (r.invoice_overdue_days) c->invoice_overdue_days = rules.value().invoice_overdue_days;
  return Status::Ok();
}

// "KIND[,KIND]" ("none": no kind off), sorted and unique.
Result<std::vector<schemas::AlertKind>> OffKinds(const std::string& text, const std::string& name) {
  std::vector<schemas::AlertKind> kinds;
  if (text == "none") return kinds;
  for (const std::string& p : SplitList(text)) {
    auto k = projections::ParseAlertKind(p);
    if (!k)
      return Error::Invalid(fmt::format(
          "{}: '{}' is not an alert kind; use allowance_used, overage_started, block_expiring, "
          "block_run_out, reserve_expiring, slots_exhausted, sla_breached, client_blocked, "
          "invoice_overdue (or none)",
          name, p.substr(0, 64)));
    if (std::find(kinds.begin(), kinds.end(), *k) == kinds.end()) kinds.push_back(*k);
  }
  if (kinds.empty())
    return Error::Invalid(fmt::format("{}: empty; write KIND[,KIND] or none", name));
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

}  // namespace

Result<WriteOutcome> SetAlertSettingsOp(Session& s, const Caller& caller,
                                        const AlertSettingsRequest& r) {
  HB_TRY(Require(caller, Operation::kContract));
  const bool flags = r.names == Names::kFlags;
  if (!r.reset && !r.allowance_percent && !r.block_expiry_days && !r.reserve_expiry_days &&
      !r.invoice_overdue_days && !r.off)
    return Error::Invalid(flags ? "give a threshold to set (e.g. --allowance-percent 50,90), "
                                  "--off KIND or --reset"
                                : "give a threshold to set (e.g. \"allowance_percent\": [50, "
                                  "90]), \"off\" or \"reset\": true");
  projections::AlertSettingsChange change;
  change.reset = r.reset;
  HB_TRY(CheckedThresholds(r, &change));
  if (r.off) {
    auto off = OffKinds(*r.off, flags ? "--off" : "off");
    if (!off.ok()) return off.error();
    change.off = std::move(off).value();
  }
  std::string canon = "alerts-set";
  for (const auto& [name, v] : {std::pair{"allowance_percent", &r.allowance_percent},
                                {"block", &r.block_expiry_days},
                                {"reserve", &r.reserve_expiry_days},
                                {"invoice", &r.invoice_overdue_days},
                                {"off", &r.off}})
    canon += fmt::format("{}{}={}", '\0', name, v->value_or("\x01"));
  canon += r.reset ? "\0reset=1" : "\0reset=0";
  return Execute(s, r.client, WriteContext{caller.name, r.key, canon},
                 [&](const ClientState& st) -> Result<projections::Decision> {
                   return projections::DecideAlertSettings(st, change, s.now_us());
                 });
}

Result<AlertSettingsView> AlertSettingsOp(Session& s, const Caller& caller,
                                          const std::string& client) {
  HB_TRY(RequireFor(caller, Operation::kReadBalance, client));
  auto st = s.LoadClient(client, {.retain_entries = false});
  if (!st.ok()) return st.error();
  if (!st.value().registered()) return UnknownClient(client);
  AlertSettingsView v;
  v.client = client;
  v.month = st.value().zone().MonthOf(s.now_us());
  if (const projections::ContractTerms* t = st.value().TermsFor(v.month))
    v.plan = fmt::format("{} v{}", t->plan_id, t->plan_version);
  v.rules = projections::PlanAlertRulesFor(st.value(), v.month);
  v.overrides = st.value().alert_overrides();
  return v;
}

}  // namespace hourbank::service
