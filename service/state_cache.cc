#include "service/state_cache.h"

#include <utility>

namespace hourbank::service {

Snapshot StateCache::Get(const std::string& client_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(client_id);
  return it == states_.end() ? nullptr : it->second;
}

void StateCache::Put(Snapshot state) {
  if (!state) return;
  Snapshot dropped;  // the replaced snapshot is released outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(state->id());
  if (it == states_.end()) {
    if (states_.size() >= kClientsMax) states_.clear();
    states_.emplace(state->id(), std::move(state));
  } else if (it->second->version() < state->version()) {
    dropped = std::exchange(it->second, std::move(state));
  }
}

}  // namespace hourbank::service
