// Lean client states kept caught up in memory by a long-running process (the server): a read
// copies the cached state and applies only the events appended since. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "projections/state.h"

namespace hourbank::service {

class StateCache {
 public:
  // The cached state of the client, or nullopt.
  std::optional<projections::ClientState> Get(const std::string& client_id) const;
  // Keeps `state` unless a state with a higher version is cached already.
  void Put(const projections::ClientState& state);

  static constexpr size_t kClientsMax = 100000;  // more: drop all, refill on demand

 private:
  mutable std::mutex mutex_;
  std::map<std::string, projections::ClientState> states_;
};

}  // namespace hourbank::service
