// A serve node's follow store (ledger/follow_store.h) without a NATS server: messages are built
// here as the cluster stores them (frame of stamped events on the client's subject).
#include <capnp/serialize.h>

#include "ledger/follow_store.h"
#include "ledger/nats_frame.h"
#include "test_util.h"

namespace hourbank::ledger::testing {
namespace {

constexpr uint32_t kEventsMax = 1000;

// One client's chain as a cluster writer stamps it.
struct Chain {
  std::string client;
  uint32_t version = 0;
  Hash head{};
};

std::string Stamp(Chain& c, const std::string& task, const std::string& key) {
  EventDraft d = Work(task);
  auto r = d.root();
  r.setClientId(c.client);
  r.setIdempotencyKey(key);
  r.setSeq(++c.version);
  r.setRecordedAtUs(kEffectiveUs + c.version);
  r.setPrevHash(capnp::Data::Reader(c.head.data(), c.head.size()));
  auto flat = capnp::messageToFlatArray(d.message());
  std::string bytes(flat.asChars().begin(), flat.asChars().size());
  c.head = ChainHash(c.head, bytes);
  return bytes;
}

// The message at `stream_seq` of partition 0 of ledger "books" (one partition).
NatsLog::Message Msg(uint64_t stream_seq, Chain& c, const std::vector<std::string>& tasks,
                     const std::string& key = "") {
  std::vector<std::string> events;
  for (const auto& t : tasks) events.push_back(Stamp(c, t, key));
  const Hash digest = key.empty() ? Hash{} : Digest(key);
  return {stream_seq, "hb.books.0.c." + c.client, nats_frame::Encode(digest, events)};
}

std::unique_ptr<FollowStore> OpenStore(const std::string& dir) {
  auto s = FollowStore::Open(dir, "books", 1);
  if (!s.ok()) FAIL("open failed: " << s.error().message);
  return std::move(s).value();
}

// (version, position) of every event of `client`, read from the store.
std::vector<std::pair<uint64_t, uint64_t>> Events(const FollowStore& s, const std::string& client) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  REQUIRE(s.ReadStream(client, 1, 0,
                       [&](const EventView& v) {
                         out.emplace_back(v.event.getSeq(), v.seq);
                         return true;
                       },
                       {})
              .ok());
  return out;
}

TEST_CASE("A follow store applies messages with the applied seq and resumes there after a reopen") {
  TempDir dir;
  Chain acme{"acme"};
  {
    auto s = OpenStore(dir.ledger());
    REQUIRE(s->AppliedSeq(0).value() == 0);
    // Stream seq 1: two events under key k1; seq 2: one event.
    REQUIRE(s->Apply(0, {Msg(1, acme, {"a", "b"}, "k1"), Msg(2, acme, {"c"})}, kEventsMax).ok());
  }
  auto s = OpenStore(dir.ledger());
  CHECK(s->AppliedSeq(0).value() == 2);
  CHECK(s->StreamVersion("acme").value() == 3);
  const std::vector<std::pair<uint64_t, uint64_t>> want = {
      {1, NatsPosition(0, 1, 0)}, {2, NatsPosition(0, 1, 1)}, {3, NatsPosition(0, 2, 0)}};
  CHECK(Events(*s, "acme") == want);
  CHECK(s->HeadSeq().value() == NatsPosition(0, 2, 0));
  auto key = s->LookupClientKey("acme", "k1").value();
  REQUIRE(key);
  CHECK(key->first_seq == NatsPosition(0, 1, 0));
  CHECK(key->count == 2);
  CHECK(s->ListStreams().value() == std::vector<std::string>{"acme"});
  // The client's chain state was kept: the next message continues it after the reopen.
  REQUIRE(s->Apply(0, {Msg(3, acme, {"d"})}, kEventsMax).ok());
  CHECK(s->StreamVersion("acme").value() == 4);
  CHECK(s->AppliedSeq(0).value() == 3);
}

TEST_CASE(
    "A follow store refuses a message that breaks the client's chain and writes none of its "
    "batch") {
  TempDir dir;
  auto s = OpenStore(dir.ledger());
  Chain acme{"acme"};
  NatsLog::Message good = Msg(1, acme, {"a"});
  Chain forged{"acme"};  // starts over: version 1 again and a zero prevHash
  NatsLog::Message bad = Msg(2, forged, {"x"});
  Status st = s->Apply(0, {good, bad}, kEventsMax);
  REQUIRE(!st.ok());
  CHECK(st.error().code == Code::kCorruption);
  CHECK(st.error().seq == NatsPosition(0, 2, 0));
  CHECK(s->AppliedSeq(0).value() == 0);
  CHECK(s->StreamVersion("acme").value() == 0);
  CHECK(s->HeadSeq().value() == 0);
}

TEST_CASE("A follow store refuses a gap in the stream seqs") {
  TempDir dir;
  auto s = OpenStore(dir.ledger());
  Chain acme{"acme"};
  REQUIRE(s->Apply(0, {Msg(1, acme, {"a"})}, kEventsMax).ok());
  Status st = s->Apply(0, {Msg(3, acme, {"b"})}, kEventsMax);  // seq 2 is missing
  REQUIRE(!st.ok());
  CHECK(st.error().code == Code::kCorruption);
  CHECK(s->AppliedSeq(0).value() == 1);
  CHECK(s->StreamVersion("acme").value() == 1);
}

TEST_CASE("A follow store refuses a key that two messages of a client carry, across batches") {
  TempDir dir;
  auto s = OpenStore(dir.ledger());
  Chain acme{"acme"};
  REQUIRE(s->Apply(0, {Msg(1, acme, {"a"}, "k1")}, kEventsMax).ok());
  Status st = s->Apply(0, {Msg(2, acme, {"b"}, "k1")}, kEventsMax);
  REQUIRE(!st.ok());
  CHECK(st.error().code == Code::kCorruption);
  CHECK(s->StreamVersion("acme").value() == 1);
}

TEST_CASE("A follow store refuses a subject of another ledger") {
  TempDir dir;
  auto s = OpenStore(dir.ledger());
  Chain acme{"acme"};
  NatsLog::Message m = Msg(1, acme, {"a"});
  m.subject = "hb.other.0.c.acme";
  Status st = s->Apply(0, {m}, kEventsMax);
  REQUIRE(!st.ok());
  CHECK(st.error().code == Code::kCorruption);
}

TEST_CASE("A follow store made for one ledger refuses to open for another") {
  TempDir dir;
  OpenStore(dir.ledger());
  auto other = FollowStore::Open(dir.ledger(), "books", 2);  // another partition count
  REQUIRE(!other.ok());
  CHECK(other.error().code == Code::kInvalid);
}

TEST_CASE("A follow store keeps projection checkpoints across a reopen") {
  TempDir dir;
  {
    auto s = OpenStore(dir.ledger());
    REQUIRE(s->PutCheckpoint("client:acme", "bytes").ok());
  }
  auto s = OpenStore(dir.ledger());
  CHECK(s->GetCheckpoint("client:acme").value() == std::optional<std::string>("bytes"));
  REQUIRE(s->DropCheckpoints().ok());
  CHECK(!s->GetCheckpoint("client:acme").value());
}

}  // namespace
}  // namespace hourbank::ledger::testing
