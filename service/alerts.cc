#include "service/alerts.h"

#include <fmt/format.h>

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

void RaiseAlertsAfterWrite(Session& s, const std::string& client_id,
                           const std::string& actor) noexcept {
  try {
    (void)RaiseAlerts(s, client_id, actor);
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

}  // namespace hourbank::service
