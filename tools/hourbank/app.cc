#include "tools/hourbank/app.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/flag_checks.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "projections/checkpoint.h"

namespace hourbank::cli {

using projections::Catalog;
using projections::ClientState;
using projections::Decision;

int64_t App::now_us() const {
  if (now_override_us) return *now_override_us;
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ledger::Log& App::log(bool create) {
  if (borrowed_) return *borrowed_;
  if (!log_) {
    ledger::Options options;
    options.create_if_missing = create;
    options.error_if_exists = create;
    options.durability = nosync ? ledger::Durability::kNoSync : ledger::Durability::kSync;
    options.read_only = read_only && !create;
    log_ = Must(ledger::Log::Open(ledger_dir, options));
  }
  return *log_;
}

ClientState App::LoadClient(const std::string& client_id, const LoadOptions& options) {
  if (!ledger::ValidClientId(client_id) || client_id[0] == '$')
    Fail(Code::kInvalid, fmt::format("client id '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-'", client_id));
  ledger::ReadOptions read;
  read.known_at_us = options.known_at_us;
  const bool plain = options.as_of_us == 0 && options.known_at_us == 0;
  // A lean, present-time read starts from the client's checkpoint (if it is one of this
  // stream) and catches up with the events after it.
  if (plain && !options.retain_entries) {
    std::optional<ClientState> start;
    if (cache_) start = cache_->Get(client_id);
    if (!start) start = RestoreFromCheckpoint(client_id);
    if (start) {
      ClientState state = std::move(*start);
      const uint32_t before = state.version();
      Must(log().ReadStream(client_id, before + 1, 0, [&](const ledger::EventView& v) {
        state.Apply(v.seq, v.event);
        return true;
      }));
      if (cache_ && (state.version() != before || !cache_->Get(client_id))) cache_->Put(state);
      return state;
    }
  }
  ClientState state({.retain_entries = options.retain_entries});
  state.set_id(client_id);
  Must(log().ReadStream(client_id, 1, 0, [&](const ledger::EventView& v) {
    // Business time filters facts, not the client's identity: registration always applies.
    if (options.as_of_us != 0 && v.event.getEffectiveAtUs() > options.as_of_us &&
        !v.event.getBody().isClientRegistered())
      return true;
    state.Apply(v.seq, v.event);
    return true;
  }, read));
  if (cache_ && plain && !options.retain_entries && state.registered()) cache_->Put(state);
  return state;
}

std::optional<ClientState> App::RestoreFromCheckpoint(const std::string& client_id) {
  auto bytes = log().GetCheckpoint(projections::CheckpointName(client_id));
  if (!bytes.ok() || !bytes.value()) return std::nullopt;
  auto restored = projections::RestoreCheckpoint(*bytes.value());
  if (!restored.ok()) return std::nullopt;  // another format: replay from the start
  ClientState& s = restored.value();
  const uint32_t version = s.version();
  if (s.id() != client_id || s.options().retain_entries || version == 0 || version > log().stream_version(client_id))
    return std::nullopt;
  // The checkpoint must end exactly at the stream's version-th event.
  bool matches = false;
  Must(log().ReadStream(client_id, version, version, [&](const ledger::EventView& v) {
    matches = v.seq == s.last_seq();
    return false;
  }));
  if (!matches) return std::nullopt;
  return std::move(restored).value();
}

void App::SaveClientCheckpoint(const ClientState& state) {
  Must(log().PutCheckpoint(projections::CheckpointName(state.id()), projections::SaveCheckpoint(state)));
}

Catalog App::LoadCatalog(int64_t known_at_us) {
  Catalog catalog;
  ledger::ReadOptions read;
  read.known_at_us = known_at_us;
  Must(log().ReadStream(projections::kCatalogStream, 1, 0, [&](const ledger::EventView& v) {
    catalog.Apply(v.seq, v.event);
    return true;
  }, read));
  return catalog;
}

std::vector<std::string> App::ClientIds() {
  std::vector<std::string> out;
  for (std::string& id : log().stream_ids())
    if (!id.empty() && id[0] != '$') out.push_back(std::move(id));
  return out;
}

AppendOutcome App::Append(const std::string& stream, Decision& decision, uint32_t expected_version,
                          const std::string& key, const std::string& request_text) {
  AppendOutcome out;
  if (decision.events.empty()) return out;
  ledger::AppendRequest req;
  req.client_id = stream;
  req.expected_version = expected_version;
  req.idempotency_key = key;
  if (!key.empty()) req.request_digest = ledger::Digest(stream + '\0' + request_text);
  // $USER may be empty or odd where --actor was not given (the flag itself is checked).
  if (const std::string problem = ActorProblem(actor); !problem.empty()) Fail(Code::kInvalid, problem);
  for (ledger::EventDraft& d : decision.events) {
    d.root().setActor(actor);
    if (!key.empty()) d.root().setIdempotencyKey(key);
    req.events.push_back(std::move(d));
  }
  decision.events.clear();
  out.result = Must(log().Append(std::move(req)));
  out.replayed = out.result.replayed;
  return out;
}

std::string ScopedKey(std::string_view client_id, std::string_view actor, std::string_view key) {
  std::string scope(client_id);
  scope += '\0';
  scope += actor;
  return "@" + ledger::HexOf(ledger::Digest(scope)).substr(0, 16) + ":" + std::string(key);
}

std::string_view UserKey(std::string_view stored) {
  if (stored.size() < kScopedKeyPrefixBytes || stored[0] != '@' || stored[kScopedKeyPrefixBytes - 1] != ':')
    return stored;
  for (size_t i = 1; i + 1 < kScopedKeyPrefixBytes; ++i) {
    const char c = stored[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return stored;
  }
  return stored.substr(kScopedKeyPrefixBytes);
}

AppendOutcome App::DecideAndAppend(const std::string& client_id,
                                   const std::function<Result<Decision>(const ClientState&)>& decide,
                                   const std::string& user_key, const std::string& request_text, std::string* summary) {
  // The key as stored: scoped per client and actor (ScopedKey, app.h).
  if (user_key.size() > kUserKeyBytesMax)
    Fail(Code::kInvalid, fmt::format("the idempotency key is {} bytes; at most {} bytes, use a shorter key",
                                     user_key.size(), kUserKeyBytesMax));
  const std::string key = user_key.empty() ? std::string() : ScopedKey(client_id, actor, user_key);
  // An idempotent retry answers from the first attempt before deciding again: the state may
  // have moved on (the entry exists now), and the same key must give the same answer.
  if (!key.empty()) {
    auto rec = Must(log().LookupKey(key));
    if (!rec) {
      // A ledger written before keys were scoped stores the key as given: it is the same
      // request's key only when its events are this client's and this actor's.
      auto legacy = Must(log().LookupKey(user_key));
      if (legacy) {
        bool mine = false;
        Must(log().Scan(legacy->first_seq, legacy->first_seq, [&](const ledger::EventView& v) {
          auto sv = [](capnp::Text::Reader t) { return std::string_view(t.cStr(), t.size()); };
          mine = sv(v.event.getClientId()) == client_id && sv(v.event.getActor()) == actor &&
                 sv(v.event.getIdempotencyKey()) == user_key;
          return false;
        }));
        if (mine) rec = legacy;
      }
    }
    if (rec) {
      if (rec->request_digest != ledger::Digest(client_id + '\0' + request_text))
        Fail(Code::kConflict, fmt::format("idempotency key '{}' was used for another request; use a new key", user_key));
      AppendOutcome out;
      if (summary) {
        // The same answer as the first attempt: decide again against the client as it was
        // just before that attempt's events (nothing is appended).
        ClientState before({.retain_entries = true});
        before.set_id(client_id);
        Must(log().ReadStream(client_id, 1, 0, [&](const ledger::EventView& v) {
          if (v.seq >= rec->first_seq) return false;
          before.Apply(v.seq, v.event);
          return true;
        }));
        try {
          auto d = decide(before);
          if (d.ok()) *summary = d.value().summary;
        } catch (const CommandError&) {
        }
      }
      out.result.first_seq = rec->first_seq;
      out.result.count = rec->count;
      out.replayed = true;
      out.result.replayed = true;
      return out;
    }
  }
  for (int attempt = 0;; ++attempt) {
    ClientState state = LoadClient(client_id);
    Decision d = Must(decide(state));
    if (summary) *summary = d.summary;
    if (d.events.empty()) return {};
    try {
      AppendOutcome out = Append(client_id, d, state.version(), key, request_text);
      // Keep the client's checkpoint within kCheckpointEveryEvents of its stream head.
      const uint32_t before = state.version(), after = out.result.stream_version;
      if (after / kCheckpointEveryEvents != before / kCheckpointEveryEvents)
        SaveClientCheckpoint(LoadClient(client_id, {.retain_entries = false}));
      return out;
    } catch (const CommandError& e) {
      // Another writer appended to this client between our read and our write: decide again.
      if (e.error.code != Code::kConflict || e.error.current_version == 0 || attempt >= 2) throw;
    }
  }
}

void App::PrintJson(const nlohmann::json& j) const { std::cout << j.dump() << '\n'; }

void App::Say(const std::string& line) const { std::cout << TerminalLines(line) << '\n'; }

ClientState LoadClientAt(App& app, const std::string& client, const std::string& as_of, const std::string& known_at,
                         int64_t* at_out, bool retain_entries) {
  if (as_of.empty() && known_at.empty()) {
    ClientState s = app.LoadClient(client, {.retain_entries = retain_entries});
    if (!s.registered()) Fail(Code::kNotFound, fmt::format("unknown client '{}'; see `hourbank client list`", client));
    if (at_out) *at_out = app.now_us();
    return s;
  }
  // Times without an offset are read in the client's zone: find it from a plain replay first.
  ClientState probe = app.LoadClient(client, {.retain_entries = false});
  if (!probe.registered()) Fail(Code::kNotFound, fmt::format("unknown client '{}'; see `hourbank client list`", client));
  LoadOptions o;
  o.retain_entries = retain_entries;
  if (!as_of.empty()) o.as_of_us = ParseTimeFlag(as_of, probe.zone(), "--as-of");
  if (!known_at.empty()) o.known_at_us = ParseTimeFlag(known_at, probe.zone(), "--known-at");
  if (at_out) *at_out = o.as_of_us ? o.as_of_us : o.known_at_us;
  ClientState s = app.LoadClient(client, o);
  if (!s.registered()) Fail(Code::kNotFound, fmt::format("client '{}' was not registered yet at that time", client));
  return s;
}

int64_t ParseMoneyFor(const ClientState& s, const std::string& text, const char* what) {
  // An unregistered client has no currency: say what is wrong, not "unknown currency 'XXX'".
  if (!s.registered())
    Fail(Code::kNotFound, fmt::format("unknown client '{}'; add it first with `hourbank client add`", s.id()));
  auto digits = projections::CurrencyMinorDigits(s.currency());
  if (!digits.ok()) Fail(digits.error());
  auto m = projections::ParseMoneyMinor(text, digits.value());
  if (!m.ok()) Fail(Code::kInvalid, fmt::format("{}: {}", what, m.error().message));
  return m.value();
}

int64_t ParseTimeFlag(const std::string& text, const projections::Zone& zone, const char* flag) {
  auto t = projections::ParseTime(text, zone);
  if (!t.ok()) Fail(Code::kInvalid, fmt::format("{}: {}", flag, t.error().message));
  return t.value();
}

uint32_t ParseMonthFlag(const std::string& text, const char* flag) {
  auto m = projections::ParseMonth(text);
  if (!m.ok()) Fail(Code::kInvalid, fmt::format("{}: {}", flag, m.error().message));
  return m.value();
}

}  // namespace hourbank::cli
