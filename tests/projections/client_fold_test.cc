// ClientFold (projections/client_fold.h): the fold `hourbank rebuild` and the bench's rebuild
// run over the whole log, found per event by a hash index instead of an ordered-map search.
#include <string>
#include <vector>

#include <capnp/message.h>
#include <catch2/catch.hpp>

#include "ledger/log.h"
#include "projections/checkpoint.h"
#include "projections/client_fold.h"
#include "tests/ledger/test_util.h"
#include "tools/bench/bench.h"

using namespace hourbank;
using namespace hourbank::projections;

namespace {

// A ClientRegistered event of `client` named `name`, stored under `seq`.
struct Registered {
  capnp::MallocMessageBuilder message;
  Registered(uint64_t seq, const std::string& client, const std::string& name) {
    auto e = message.initRoot<schemas::Event>();
    e.setSeq(seq);
    e.setClientId(client);
    auto b = e.getBody().initClientRegistered();
    b.setName(name);
    b.setCurrency("USD");
    b.setTimezone("UTC");
  }
  schemas::Event::Reader event() { return message.getRoot<schemas::Event>().asReader(); }
};

}  // namespace

TEST_CASE("ClientFold skips events without a client id and events of system streams", "[fold]") {
  ClientFold fold;
  Registered none(1, "", "nobody"), catalog(2, "$catalog", "the catalog");
  CHECK(fold.Apply(1, none.event()) == nullptr);
  CHECK(fold.Apply(2, catalog.event()) == nullptr);
  CHECK(fold.states().empty());
}

TEST_CASE("ClientFold folds interleaved events of many clients into one state per client",
          "[fold]") {
  // 300 clients (the index rehashes several times), each event of a client other than the one
  // before, then each client's events back to back.
  ClientFold fold;
  uint64_t seq = 0;
  for (int round = 0; round < 3; ++round)
    for (int c = 0; c < 300; ++c) {
      Registered e(++seq, "c" + std::to_string(c), "name " + std::to_string(round));
      REQUIRE(fold.Apply(seq, e.event()) != nullptr);
    }
  for (int c = 0; c < 300; ++c)
    for (int again = 0; again < 2; ++again) {
      Registered e(++seq, "c" + std::to_string(c), "last");
      ClientState* state = fold.Apply(seq, e.event());
      REQUIRE(state != nullptr);
      CHECK(state->id() == "c" + std::to_string(c));
    }
  ClientFold::States states = fold.Take();
  CHECK(fold.states().empty());
  REQUIRE(states.size() == 300);
  for (const auto& [id, state] : states) {
    CHECK(state.id() == id);
    CHECK(state.version() == 5);
    CHECK(state.name() == "last");
  }
}

TEST_CASE(
    "the bench's rebuild through ClientFold gives every client of a generated ledger the "
    "state a fold of its own stream gives",
    "[fold]") {
  ledger::testing::TempDir tmp;
  bench::GenerateOptions g;
  g.ledger_dir = tmp.ledger();
  g.plans_dir = std::string(HOURBANK_SOURCE_DIR) + "/examples/plans";
  g.events = 6000;
  g.clients = 40;
  g.months = 3;
  g.progress = false;
  REQUIRE(bench::Generate(g).ok());

  auto log = ledger::Log::Open(g.ledger_dir, {});
  REQUIRE(log.ok());
  auto rebuilt = bench::Rebuild(**log);
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->events == (*log)->head_seq());

  auto streams = (*log)->ListStreams();
  REQUIRE(streams.ok());
  std::vector<std::string> clients;
  for (const std::string& id : *streams)
    if (!id.empty() && id[0] != '$') clients.push_back(id);
  REQUIRE(clients.size() == 40);
  REQUIRE(rebuilt->states.size() == clients.size());
  for (const std::string& id : clients) {
    ClientState own({.retain_entries = false});
    own.set_id(id);
    REQUIRE((*log)
                ->ReadStream(id, 1, 0,
                             [&](const ledger::EventView& v) {
                               own.Apply(v.seq, v.event);
                               return true;
                             })
                .ok());
    auto it = rebuilt->states.find(id);
    REQUIRE(it != rebuilt->states.end());
    CHECK(it->second.version() == own.version());
    CHECK(SaveCheckpoint(it->second) == SaveCheckpoint(own));
  }
}
