// One log and the client state read from it: the service's handle on the ledger.
//
// A Session owns its log (Open) or borrows one (the server's, the CLI's, the demo's). Loading a
// client folds its stream: lean present-time loads start from the state cache or the client's
// checkpoint and catch up; as-of (business time) and known-at (recorded time) loads replay.
// Every function returns its failure as a value. Thread-safe when the cache is (Log is).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "projections/decide.h"
#include "projections/state.h"
#include "service/state_cache.h"

namespace hourbank::service {

struct LoadOptions {
  int64_t as_of_us = 0;     // business time: only events effective at or before (0 = all)
  int64_t known_at_us = 0;  // recorded time: only events recorded at or before (0 = all)
  bool retain_entries = true;
};

// A read "as of" / "known at" given as text (ISO 8601, read in the client's zone without an
// offset); `names` are how the caller calls the two fields in error sentences.
struct TimeQuery {
  std::string as_of, known_at;
  const char* as_of_name = "as_of";
  const char* known_at_name = "known_at";
};

// A client loaded for a read, and the instant the read is about (as-of, else known-at, else now).
struct ClientAt {
  projections::ClientState state;
  int64_t at_us = 0;
};

// A client shared with the state cache, for a read that does not change it.
struct SnapshotAt {
  Snapshot state;  // never null
  int64_t at_us = 0;
};

class Session {
 public:
  // Borrows `log`; `cache` (optional) keeps lean states caught up between calls.
  explicit Session(ledger::Log& log, StateCache* cache = nullptr,
                   std::optional<int64_t> now_override_us = {});
  // Opens the ledger in `dir` and owns it.
  static Result<std::unique_ptr<Session>> Open(const std::string& dir,
                                               const ledger::Options& options,
                                               std::optional<int64_t> now_override_us = {});

  ledger::Log& log() const { return *log_; }
  int64_t now_us() const;
  std::optional<int64_t> now_override_us() const { return now_override_us_; }

  // Folds a client's stream (kInvalid for a malformed id; an unknown client is an empty state).
  Result<projections::ClientState> LoadClient(const std::string& client_id,
                                              const LoadOptions& options = {});
  // A registered client for a read (kNotFound otherwise), with as-of/known-at texts.
  Result<ClientAt> LoadClientAt(const std::string& client_id, const TimeQuery& time,
                                bool retain_entries = false);
  // As LoadClientAt, without copying the client's state: a present-time read shares the cached
  // snapshot (caught up first when events were appended since); other reads get their own.
  Result<SnapshotAt> LoadSnapshotAt(const std::string& client_id, const TimeQuery& time);
  // `state`'s evaluation of `month`, shared while `state` is the cached snapshot of its client
  // (StateCache::Evaluation); evaluated afresh otherwise.
  SharedEval Evaluation(const Snapshot& state, uint32_t month);
  // A present-time read of a registered client answered from the state cache alone: its
  // snapshot when it was current at the log's head `head` (StateCache::CurrentAt), the instant
  // now, and the cached evaluation of the month of now. nullopt when any of it is not cached
  // (then LoadSnapshotAt). No I/O, no evaluation.
  struct CachedRead {
    Snapshot state;
    int64_t at_us = 0;
    SharedEval eval;
  };
  std::optional<CachedRead> CachedAt(const std::string& client_id, uint64_t head) const;
  // The client's checkpoint when it is a lean checkpoint ending exactly at an event of this
  // stream; nullopt otherwise (missing, another format, stale or foreign).
  std::optional<projections::ClientState> RestoreFromCheckpoint(const std::string& client_id);
  Status SaveClientCheckpoint(const projections::ClientState& state);
  // After an append crosses a multiple of this stream version, the checkpoint is refreshed.
  static constexpr uint32_t kCheckpointEveryEvents = 256;

  Result<projections::Catalog> LoadCatalog(int64_t known_at_us = 0);
  // Client ids (streams without the '$' system prefix), sorted; a read failure is an error,
  // never an empty list.
  Result<std::vector<std::string>> ClientIds();

 private:
  // A lean present-time state from the cache or the checkpoint, caught up with the stream;
  // nullptr when neither has the client.
  Result<Snapshot> CatchUp(const std::string& client_id);

  std::unique_ptr<ledger::Log> owned_;
  ledger::Log* log_ = nullptr;
  StateCache* cache_ = nullptr;
  std::optional<int64_t> now_override_us_;
};

// Client ids: 1-64 of a-z, 0-9, '.', '_', '-', not a '$' system stream. kInvalid otherwise.
Status CheckClientId(const std::string& client_id);
// The sentence for an unknown client.
Error UnknownClient(const std::string& client_id);

}  // namespace hourbank::service
