#include "service/session.h"

#include <chrono>

#include <fmt/format.h>

#include "projections/checkpoint.h"

namespace hourbank::service {

using projections::Catalog;
using projections::ClientState;

Status CheckClientId(const std::string& client_id) {
  if (!ledger::ValidClientId(client_id) || client_id[0] == '$')
    return Error::Invalid(
        fmt::format("client id '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-'", client_id));
  return Status::Ok();
}

Error UnknownClient(const std::string& client_id) {
  return Error::NotFound(fmt::format("unknown client '{}'; see `hourbank client list`", client_id));
}

Session::Session(ledger::Log& log, StateCache* cache, std::optional<int64_t> now_override_us)
    : log_(&log), cache_(cache), now_override_us_(now_override_us) {}

Result<std::unique_ptr<Session>> Session::Open(const std::string& dir,
                                               const ledger::Options& options,
                                               std::optional<int64_t> now_override_us) {
  auto log = ledger::Log::Open(dir, options);
  if (!log.ok()) return log.error();
  auto session = std::make_unique<Session>(*log.value(), nullptr, now_override_us);
  session->owned_ = std::move(log).value();
  return session;
}

int64_t Session::now_us() const {
  if (now_override_us_) return *now_override_us_;
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Snapshot> Session::CatchUp(const std::string& client_id) {
  Snapshot cached = cache_ ? cache_->Get(client_id) : nullptr;
  std::optional<ClientState> state;  // set once there is something to apply (copy-on-write)
  if (!cached) state = RestoreFromCheckpoint(client_id);
  if (!cached && !state) return Snapshot{};
  const uint32_t before = cached ? cached->version() : state->version();
  if (cached && log_->stream_version(client_id) == before) return cached;
  HB_TRY(log_->ReadStream(client_id, before + 1, 0, [&](const ledger::EventView& v) {
    if (!state) state.emplace(*cached);
    state->Apply(v.seq, v.event);
    return true;
  }));
  if (!state) return cached;
  auto snapshot = std::make_shared<const ClientState>(std::move(*state));
  if (cache_) cache_->Put(snapshot);
  return Snapshot(std::move(snapshot));
}

Result<ClientState> Session::LoadClient(const std::string& client_id, const LoadOptions& options) {
  HB_TRY(CheckClientId(client_id));
  const bool plain = options.as_of_us == 0 && options.known_at_us == 0;
  // A lean, present-time read starts from the cache or the client's checkpoint (if it is one
  // of this stream) and catches up with the events after it.
  if (plain && !options.retain_entries) {
    auto start = CatchUp(client_id);
    if (!start.ok()) return start.error();
    if (start.value()) return ClientState(*start.value());
  }
  ledger::ReadOptions read;
  read.known_at_us = options.known_at_us;
  ClientState state({.retain_entries = options.retain_entries});
  state.set_id(client_id);
  HB_TRY(log_->ReadStream(
      client_id, 1, 0,
      [&](const ledger::EventView& v) {
        // Business time filters facts, not the client's identity: registration always applies.
        if (options.as_of_us != 0 && v.event.getEffectiveAtUs() > options.as_of_us &&
            !v.event.getBody().isClientRegistered())
          return true;
        state.Apply(v.seq, v.event);
        return true;
      },
      read));
  if (cache_ && plain && !options.retain_entries && state.registered())
    cache_->Put(std::make_shared<const ClientState>(state));
  return state;
}

SharedEval Session::Evaluation(const Snapshot& state, uint32_t month) {
  if (cache_) return cache_->Evaluation(state, month);
  return std::make_shared<const projections::MonthEval>(state->Evaluate(month));
}

std::optional<Session::CachedRead> Session::CachedAt(const std::string& client_id,
                                                     uint64_t head) const {
  if (!cache_) return std::nullopt;
  std::optional<StateCache::Current> c = cache_->CurrentAt(client_id, head);
  if (!c || !c->eval || !c->state->registered()) return std::nullopt;
  const int64_t at = now_us();
  if (c->state->zone().MonthOf(at) != c->month) return std::nullopt;
  return CachedRead{std::move(c->state), at, std::move(c->eval)};
}

Result<SnapshotAt> Session::LoadSnapshotAt(const std::string& client_id, const TimeQuery& time) {
  const bool present = time.as_of.empty() && time.known_at.empty();
  // Read before the client is caught up: the snapshot then holds every event up to this head
  // (StateCache::MarkCurrent).
  const std::optional<uint64_t> head_now = cache_ ? log_->HeadSeqInMemory() : std::nullopt;
  const bool mark = head_now.has_value();
  const uint64_t head = head_now.value_or(0);
  if (present) {
    HB_TRY(CheckClientId(client_id));
    auto cached = CatchUp(client_id);
    if (!cached.ok()) return cached.error();
    if (cached.value() && cached.value()->registered()) {
      if (mark) cache_->MarkCurrent(cached.value(), head);
      return SnapshotAt{cached.value(), now_us()};
    }
  }
  auto r = LoadClientAt(client_id, time, /*retain_entries=*/false);
  if (!r.ok()) return r.error();
  // A present-time read just replayed the client and cached it: share that snapshot, so the
  // next read (which finds it caught up) gets the same one.
  if (cache_ && present) {
    Snapshot cached = cache_->Get(client_id);
    if (cached && cached->version() == r.value().state.version()) {
      if (mark) cache_->MarkCurrent(cached, head);
      return SnapshotAt{std::move(cached), r.value().at_us};
    }
  }
  return SnapshotAt{std::make_shared<const ClientState>(std::move(r.value().state)),
                    r.value().at_us};
}

Result<ClientAt> Session::LoadClientAt(const std::string& client_id, const TimeQuery& time,
                                       bool retain_entries) {
  if (time.as_of.empty() && time.known_at.empty()) {
    auto s = LoadClient(client_id, {.retain_entries = retain_entries});
    if (!s.ok()) return s.error();
    if (!s.value().registered()) return UnknownClient(client_id);
    return ClientAt{std::move(s).value(), now_us()};
  }
  // Times without an offset are read in the client's zone: find it from a plain replay first.
  auto probe = LoadClient(client_id, {.retain_entries = false});
  if (!probe.ok()) return probe.error();
  if (!probe.value().registered()) return UnknownClient(client_id);
  LoadOptions o;
  o.retain_entries = retain_entries;
  const projections::Zone& zone = probe.value().zone();
  for (auto [text, name, out] : {std::tuple{&time.as_of, time.as_of_name, &o.as_of_us},
                                 std::tuple{&time.known_at, time.known_at_name, &o.known_at_us}}) {
    if (text->empty()) continue;
    auto t = projections::ParseTime(*text, zone);
    if (!t.ok()) return Error::Invalid(fmt::format("{}: {}", name, t.error().message));
    *out = t.value();
  }
  auto s = LoadClient(client_id, o);
  if (!s.ok()) return s.error();
  if (!s.value().registered())
    return Error::NotFound(
        fmt::format("client '{}' was not registered yet at that time", client_id));
  return ClientAt{std::move(s).value(), o.as_of_us ? o.as_of_us : o.known_at_us};
}

std::optional<ClientState> Session::RestoreFromCheckpoint(const std::string& client_id) {
  auto bytes = log_->GetCheckpoint(projections::CheckpointName(client_id));
  if (!bytes.ok() || !bytes.value()) return std::nullopt;
  auto restored = projections::RestoreCheckpoint(*bytes.value());
  if (!restored.ok()) return std::nullopt;  // another format: replay from the start
  ClientState& s = restored.value();
  const uint32_t version = s.version();
  if (s.id() != client_id || s.options().retain_entries || version == 0 ||
      version > log_->stream_version(client_id))
    return std::nullopt;
  // The checkpoint must end exactly at the stream's version-th event.
  bool matches = false;
  Status read = log_->ReadStream(client_id, version, version, [&](const ledger::EventView& v) {
    matches = v.seq == s.last_seq();
    return false;
  });
  if (!read.ok() || !matches) return std::nullopt;
  return std::move(restored).value();
}

Status Session::SaveClientCheckpoint(const ClientState& state) {
  return log_->PutCheckpoint(projections::CheckpointName(state.id()),
                             projections::SaveCheckpoint(state));
}

Result<Catalog> Session::LoadCatalog(int64_t known_at_us) {
  Catalog catalog;
  ledger::ReadOptions read;
  read.known_at_us = known_at_us;
  HB_TRY(log_->ReadStream(
      projections::kCatalogStream, 1, 0,
      [&](const ledger::EventView& v) {
        catalog.Apply(v.seq, v.event);
        return true;
      },
      read));
  return catalog;
}

Result<std::vector<std::string>> Session::ClientIds() {
  auto streams = log_->ListStreams();
  if (!streams.ok()) return streams.error();
  std::vector<std::string> out;
  for (std::string& id : streams.value())
    if (!id.empty() && id[0] != '$') out.push_back(std::move(id));
  return out;
}

}  // namespace hourbank::service
