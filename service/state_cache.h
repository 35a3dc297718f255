// Lean client states kept caught up in memory by a long-running process (the server). Each
// cached state is an immutable snapshot shared with the reads that use it: a read whose client
// has no new events takes the snapshot as it is (no copy); a read that finds new events copies
// it once, applies them and caches the result (copy-on-write). Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "projections/state.h"

namespace hourbank::service {

using Snapshot = std::shared_ptr<const projections::ClientState>;
using SharedEval = std::shared_ptr<const projections::MonthEval>;

class StateCache {
 public:
  // The cached snapshot of the client, or nullptr.
  Snapshot Get(const std::string& client_id) const;
  // Keeps `state` unless a state with a higher version is cached already.
  void Put(Snapshot state);
  // The evaluation of `month` for `state`. For the snapshot this cache holds it is computed once
  // per month asked last and shared by every read until the client changes (a balance read then
  // costs no month evaluation); for any other state it is computed each time.
  SharedEval Evaluation(const Snapshot& state, uint32_t month);

  // Records that `state`, when it is the cached snapshot of its client, holds every event of
  // its client up to the log's head `head` (a reader read the head, then caught the client up).
  void MarkCurrent(const Snapshot& state, uint64_t head);
  // The cached snapshot of `client_id` with its cached evaluation (of `month`; eval may be
  // null), when the snapshot was marked current at `head`: nothing was appended since, so it is
  // what a caught-up read would get. nullopt otherwise. No I/O, no evaluation (the server's
  // loop thread answers balance reads from it, serve.cc).
  struct Current {
    Snapshot state;
    uint32_t month = 0;
    SharedEval eval;
  };
  std::optional<Current> CurrentAt(std::string_view client_id, uint64_t head) const;

  static constexpr size_t kClientsMax = 100000;  // more: drop all, refill on demand

 private:
  struct Cached {
    Snapshot state;
    uint32_t month = 0;                  // of `eval`
    SharedEval eval;                     // null until a read asks
    std::optional<uint64_t> current_at;  // the head at which `state` was last known current
  };
  mutable std::mutex mutex_;
  std::map<std::string, Cached, std::less<>> states_;
};

}  // namespace hourbank::service
