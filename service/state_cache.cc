#include "service/state_cache.h"

namespace hourbank::service {

std::optional<projections::ClientState> StateCache::Get(const std::string& client_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(client_id);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

void StateCache::Put(const projections::ClientState& state) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(state.id());
  if (it == states_.end()) {
    if (states_.size() >= kClientsMax) states_.clear();
    states_.emplace(state.id(), state);
  } else if (it->second.version() < state.version()) {
    it->second = state;
  }
}

}  // namespace hourbank::service
