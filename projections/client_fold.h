// ClientFold: every client's ClientState from one replay of the whole log, in seq order (what
// `hourbank rebuild`, the replay half of `hourbank audit` and hourbank-bench's rebuild run).
//
// The states are kept in an ordered map (callers list, save and serve them by client id), but
// an event's client is not found by searching that map: a hash index from the id to its state
// answers, and before it the state of the event just folded (a request's events are contiguous
// in the log, so most events belong to the client of the one before). Same states, same order,
// fewer string comparisons per event (docs/performance.md, "Rebuild").
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "projections/state.h"
#include "schemas/events.capnp.h"

namespace hourbank::projections {

class ClientFold {
 public:
  using States = std::map<std::string, ClientState, std::less<>>;

  explicit ClientFold(ClientOptions options = {}) : options_(options) {}
  ClientFold(const ClientFold&) = delete;
  ClientFold& operator=(const ClientFold&) = delete;

  // Folds `event` (stored under `seq`) into its client's state, made on the client's first
  // event. An event with no client id or of a system stream ('$catalog', ...) belongs to no
  // client: skipped, nullptr. Otherwise the state it was folded into.
  ClientState* Apply(uint64_t seq, schemas::Event::Reader event);

  const States& states() const { return states_; }
  // Moves the states out; the fold is empty afterwards.
  States Take();

 private:
  ClientState& StateOf(std::string_view id);

  ClientOptions options_;
  States states_;
  // Keys view the keys of states_ (map nodes never move).
  std::unordered_map<std::string_view, ClientState*> index_;
  std::string_view last_id_;
  ClientState* last_ = nullptr;
};

}  // namespace hourbank::projections
