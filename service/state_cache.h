// Lean client states kept caught up in memory by a long-running process (the server). Each
// cached state is an immutable snapshot shared with the reads that use it: a read whose client
// has no new events takes the snapshot as it is (no copy); a read that finds new events copies
// it once, applies them and caches the result (copy-on-write). Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "projections/state.h"

namespace hourbank::service {

using Snapshot = std::shared_ptr<const projections::ClientState>;

class StateCache {
 public:
  // The cached snapshot of the client, or nullptr.
  Snapshot Get(const std::string& client_id) const;
  // Keeps `state` unless a state with a higher version is cached already.
  void Put(Snapshot state);

  static constexpr size_t kClientsMax = 100000;  // more: drop all, refill on demand

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Snapshot, std::less<>> states_;
};

}  // namespace hourbank::service
