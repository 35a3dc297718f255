#include "service/state_cache.h"

#include <utility>

namespace hourbank::service {

Snapshot StateCache::Get(const std::string& client_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(client_id);
  return it == states_.end() ? nullptr : it->second.state;
}

void StateCache::Put(Snapshot state) {
  if (!state) return;
  Cached dropped;  // the replaced snapshot is released outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(state->id());
  if (it == states_.end()) {
    if (states_.size() >= kClientsMax) states_.clear();
    const std::string id = state->id();
    states_.emplace(id, Cached{std::move(state)});
  } else if (it->second.state->version() < state->version()) {
    dropped = std::exchange(it->second, Cached{std::move(state)});
  }
}

SharedEval StateCache::Evaluation(const Snapshot& state, uint32_t month) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = states_.find(state->id());
    if (it != states_.end() && it->second.state == state && it->second.eval &&
        it->second.month == month)
      return it->second.eval;
  }
  // Evaluated outside the lock: other clients' reads do not wait for it. Two reads of the same
  // client may both evaluate; either result is the same, the later one is kept.
  auto eval = std::make_shared<const projections::MonthEval>(state->Evaluate(month));
  SharedEval dropped;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(state->id());
  if (it != states_.end() && it->second.state == state) {
    dropped = std::exchange(it->second.eval, eval);
    it->second.month = month;
  }
  return eval;
}

void StateCache::MarkCurrent(const Snapshot& state, uint64_t head) {
  if (!state) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(state->id());
  if (it == states_.end() || it->second.state != state) return;  // replaced meanwhile
  if (!it->second.current_at || *it->second.current_at < head) it->second.current_at = head;
}

std::optional<StateCache::Current> StateCache::CurrentAt(std::string_view client_id,
                                                         uint64_t head) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(client_id);
  if (it == states_.end() || it->second.current_at != head) return std::nullopt;
  return Current{it->second.state, it->second.month, it->second.eval};
}

}  // namespace hourbank::service
