#include "projections/client_fold.h"

namespace hourbank::projections {

ClientState& ClientFold::StateOf(std::string_view id) {
  if (last_ != nullptr && id == last_id_) return *last_;
  auto hit = index_.find(id);
  if (hit == index_.end()) {
    auto made = states_.emplace(std::string(id), ClientState(options_)).first;
    made->second.set_id(made->first);
    hit = index_.emplace(std::string_view(made->first), &made->second).first;
  }
  last_id_ = hit->first;
  last_ = hit->second;
  return *last_;
}

ClientState* ClientFold::Apply(uint64_t seq, schemas::Event::Reader event) {
  const capnp::Text::Reader id = event.getClientId();
  if (id.size() == 0 || id[0] == '$') return nullptr;
  ClientState& state = StateOf(std::string_view(id.cStr(), id.size()));
  state.Apply(seq, event);
  return &state;
}

ClientFold::States ClientFold::Take() {
  index_.clear();
  last_id_ = {};
  last_ = nullptr;
  States out = std::move(states_);
  states_.clear();
  return out;
}

}  // namespace hourbank::projections
