#include "service/execute.h"

#include <fmt/format.h>

#include "service/alerts.h"

namespace hourbank::service {

using projections::ClientState;
using projections::Decision;

std::string ScopedKey(std::string_view client_id, std::string_view actor, std::string_view key) {
  std::string scope(client_id);
  scope += '\0';
  scope += actor;
  return "@" + ledger::HexOf(ledger::Digest(scope)).substr(0, 16) + ":" + std::string(key);
}

std::string_view UserKey(std::string_view stored) {
  if (stored.size() < kScopedKeyPrefixBytes || stored[0] != '@' ||
      stored[kScopedKeyPrefixBytes - 1] != ':')
    return stored;
  for (size_t i = 1; i + 1 < kScopedKeyPrefixBytes; ++i) {
    const char c = stored[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return stored;
  }
  return stored.substr(kScopedKeyPrefixBytes);
}

ledger::Hash RequestDigest(std::string_view client_id, std::string_view request) {
  std::string text(client_id);
  text += '\0';
  text += request;
  return ledger::Digest(text);
}

Result<ledger::AppendResult> AppendDecision(Session& session, const std::string& stream,
                                            Decision& decision, uint32_t expected_version,
                                            const std::string& actor, const std::string& stored_key,
                                            const std::string& request) {
  if (decision.events.empty()) return ledger::AppendResult{};
  ledger::AppendRequest req;
  req.client_id = stream;
  req.expected_version = expected_version;
  req.idempotency_key = stored_key;
  if (!stored_key.empty()) req.request_digest = RequestDigest(stream, request);
  for (ledger::EventDraft& d : decision.events) {
    d.root().setActor(actor);
    if (!stored_key.empty()) d.root().setIdempotencyKey(stored_key);
    req.events.push_back(std::move(d));
  }
  decision.events.clear();
  return session.log().Append(std::move(req));
}

namespace {

// The record of an earlier request with this key, if any. A ledger written before keys were
// scoped stores the key as given: it is this request's key only when its events are this
// client's and this actor's.
Result<std::optional<ledger::IdempotencyRecord>> FindKey(Session& session,
                                                         const std::string& client_id,
                                                         const WriteContext& c,
                                                         const std::string& stored) {
  // On a NATS cluster keys are kept per client (docs/replicated-log.md), and there is no
  // legacy, unscoped form.
  if (session.log().replicated()) return session.log().LookupClientKey(client_id, stored);
  auto rec = session.log().LookupKey(stored);
  if (!rec.ok() || rec.value()) return rec;
  auto legacy = session.log().LookupKey(c.key);
  if (!legacy.ok() || !legacy.value()) return legacy;
  bool mine = false;
  HB_TRY(session.log().Scan(
      legacy.value()->first_seq, legacy.value()->first_seq, [&](const ledger::EventView& v) {
        auto sv = [](capnp::Text::Reader t) { return std::string_view(t.cStr(), t.size()); };
        mine = sv(v.event.getClientId()) == client_id && sv(v.event.getActor()) == c.actor &&
               sv(v.event.getIdempotencyKey()) == c.key;
        return false;
      }));
  if (mine) return legacy;
  return std::optional<ledger::IdempotencyRecord>();
}

// The answer to a retry: the first attempt's events, and its sentence decided again against
// the client as it was just before them (nothing is appended).
Result<WriteOutcome> Replay(Session& session, const std::string& client_id,
                            const ledger::IdempotencyRecord& rec, const DecideFn& decide) {
  WriteOutcome out;
  out.result.first_seq = rec.first_seq;
  out.result.count = rec.count;
  out.result.replayed = true;
  out.replayed = true;
  ClientState before({.retain_entries = true});
  before.set_id(client_id);
  HB_TRY(session.log().ReadStream(client_id, 1, 0, [&](const ledger::EventView& v) {
    if (v.seq >= rec.first_seq) return false;
    before.Apply(v.seq, v.event);
    return true;
  }));
  auto d = decide(before);
  if (d.ok()) out.summary = d.value().summary;
  return out;
}

}  // namespace

Result<WriteOutcome> Execute(Session& session, const std::string& client_id, const WriteContext& c,
                             const DecideFn& decide, StateNeeded needed) {
  if (c.key.size() > kUserKeyBytesMax)
    return Error::Invalid(
        fmt::format("the idempotency key is {} bytes; at most {} bytes, use a shorter key",
                    c.key.size(), kUserKeyBytesMax));
  const std::string stored = c.key.empty() ? std::string() : ScopedKey(client_id, c.actor, c.key);
  // An idempotent retry answers from the first attempt before deciding again: the state may
  // have moved on (the entry exists now), and the same key must give the same answer.
  if (!stored.empty()) {
    auto rec = FindKey(session, client_id, c, stored);
    if (!rec.ok()) return rec.error();
    if (rec.value()) {
      if (rec.value()->request_digest != RequestDigest(client_id, c.request))
        return Error::Conflict(
            fmt::format("idempotency key '{}' was used for another request; use a new key", c.key));
      return Replay(session, client_id, *rec.value(), decide);
    }
  }
  Error last = Error::Conflict("the client kept changing under concurrent writers; retry");
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    auto state =
        session.LoadClient(client_id, {.retain_entries = needed == StateNeeded::kAllEntries});
    if (!state.ok()) return state.error();
    auto d = decide(state.value());
    if (!d.ok()) return d.error();
    WriteOutcome out;
    out.summary = d.value().summary;
    if (d.value().events.empty()) return out;
    const uint32_t before = state.value().version();
    auto appended =
        AppendDecision(session, client_id, d.value(), before, c.actor, stored, c.request);
    if (!appended.ok()) {
      // Another writer appended to this client between our read and our write: decide again.
      const Error& e = appended.error();
      if (e.code != Code::kConflict || e.current_version == 0) return e;
      last = e;
      continue;
    }
    out.result = appended.value();
    out.replayed = out.result.replayed;
    // Keep the client's checkpoint within kCheckpointEveryEvents of its stream head.
    const uint32_t after = out.result.stream_version;
    if (after / Session::kCheckpointEveryEvents != before / Session::kCheckpointEveryEvents) {
      auto lean = session.LoadClient(client_id, {.retain_entries = false});
      if (!lean.ok()) return lean.error();
      HB_TRY(session.SaveClientCheckpoint(lean.value()));
    }
    // Alerts the write made due (docs/alerts.md); best-effort, the write stands regardless.
    // The state decided on plus the events just appended is the client after the write.
    if (!out.replayed && out.result.count > 0)
      RaiseAlertsAfterWrite(session, std::move(state).value(), c.actor);
    return out;
  }
  return last;
}

}  // namespace hourbank::service
