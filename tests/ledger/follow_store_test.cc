// A serve node's follow store (ledger/follow_store.h) without a NATS server: messages are built
// here as the cluster stores them (frame of stamped events on the client's subject).
#include <capnp/serialize.h>

#include "ledger/follow_store.h"
#include "ledger/format.h"
#include "ledger/nats_frame.h"
#include "ledger/raw.h"
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

// ---- the audit of a store (Log::OpenFollowStore, `hourbank audit --store DIR`) ----------------

std::unique_ptr<Log> OpenForAudit(const std::string& dir) {
  auto log = Log::OpenFollowStore(dir);
  if (!log.ok()) FAIL("open for audit failed: " << log.error().message);
  return std::move(log).value();
}

// acme: 3 messages (4 events, the first two under key k1); beta: 1 message. Returns the bytes of
// every event in position order.
std::vector<std::string> FillStore(const std::string& dir, Chain& acme) {
  auto s = OpenStore(dir);
  Chain beta{"beta"};
  std::vector<NatsLog::Message> msgs = {Msg(1, acme, {"a", "b"}, "k1"), Msg(2, beta, {"x"}),
                                        Msg(3, acme, {"c"}), Msg(4, acme, {"d"})};
  REQUIRE(s->Apply(0, msgs, kEventsMax).ok());
  std::vector<std::string> events;
  for (const auto& m : msgs) {
    auto frame = nats_frame::Decode(m.data, kEventsMax);
    REQUIRE(frame.ok());
    for (auto e : frame.value().events) events.emplace_back(e);
  }
  return events;
}

std::string StoreKey(char kind, std::string_view rest) {
  return std::string(1, kind) + std::string(rest);
}

TEST_CASE("An audit of an intact follow store passes and sees every event once in position order") {
  TempDir dir;
  Chain acme{"acme"};
  const std::vector<std::string> events = FillStore(dir.ledger(), acme);
  auto log = OpenForAudit(dir.ledger());
  CHECK(log->replicated());
  const StoreInfo info = log->store_info().value();
  CHECK(info.ledger == "books");
  CHECK(info.partitions == 1);
  CHECK(info.applied_seqs == std::vector<uint64_t>{4});
  std::vector<uint64_t> seen;
  auto report = log->VerifyAndVisit([&](const EventView& v) {
    seen.push_back(v.seq);
    return true;
  });
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->problem.empty());
  CHECK(report->events_checked == 5);
  Hash global{};
  for (const auto& e : events) global = ChainHash(global, e);
  CHECK(report->head_hash == global);
  CHECK(log->head_hash() == global);
  const std::vector<uint64_t> want = {NatsPosition(0, 1, 0), NatsPosition(0, 1, 1),
                                      NatsPosition(0, 2, 0), NatsPosition(0, 3, 0),
                                      NatsPosition(0, 4, 0)};
  CHECK(seen == want);
  CHECK(log->head_seq() == NatsPosition(0, 4, 0));
}

TEST_CASE("A follow store whose chain was damaged fails the audit naming the client") {
  TempDir dir;
  Chain acme{"acme"};
  FillStore(dir.ledger(), acme);
  // acme's 3rd event (message 3) rewritten on disk as another event with the same version and
  // a correct link to the 2nd: it decodes and links, but acme's 4th event no longer links to it.
  Chain fork{"acme", 2, {}};
  {
    Chain replay{"acme"};
    Msg(1, replay, {"a", "b"}, "k1");
    fork.head = replay.head;
  }
  const std::string forged = Stamp(fork, "forged", "");
  REQUIRE(raw::RawPut(dir.ledger(), "default", StoreKey('E', format::SeqKey(NatsPosition(0, 3, 0))),
                      forged)
              .ok());
  auto log = OpenForAudit(dir.ledger());
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(!report->ok);
  CHECK(report->first_bad_seq == NatsPosition(0, 4, 0));
  CHECK_THAT(report->problem, Catch::Contains("client 'acme'"));
  CHECK_THAT(report->problem, Catch::Contains("does not link"));
}

TEST_CASE("An audit of a follow store finds index records that disagree with the events") {
  TempDir dir;
  Chain acme{"acme"};
  FillStore(dir.ledger(), acme);
  SECTION("a missing version index entry") {
    REQUIRE(
        raw::RawDelete(dir.ledger(), "default", StoreKey('V', format::StreamKey("acme", 2))).ok());
    auto report = OpenForAudit(dir.ledger())->Verify().value();
    CHECK(!report.ok);
    CHECK_THAT(report.problem, Catch::Contains("client 'acme': the store has 3 version index "
                                               "entries where its events give 4"));
  }
  SECTION("a key record naming another position") {
    const std::string k = StoreKey('K', format::StreamPrefix("acme") + "k1");
    REQUIRE(raw::RawPut(dir.ledger(), "default", k,
                        format::KeyValue(NatsPosition(0, 3, 0), 2, Digest("k1")))
                .ok());
    auto report = OpenForAudit(dir.ledger())->Verify().value();
    CHECK(!report.ok);
    CHECK(report.first_bad_seq == NatsPosition(0, 1, 0));
    CHECK_THAT(report.problem, Catch::Contains("client 'acme': the store's record of key 'k1'"));
  }
  SECTION("an applied seq beyond the messages held") {
    REQUIRE(raw::RawPut(dir.ledger(), "default", std::string("A") + std::string(4, '\0'),
                        format::SeqKey(6))
                .ok());
    auto report = OpenForAudit(dir.ledger())->Verify().value();
    CHECK(!report.ok);
    CHECK_THAT(report.problem, Catch::Contains("applied seq is 6 but it holds messages up to 4"));
  }
}

TEST_CASE("A follow store opened for an audit is a static read-only view, even while it is open") {
  TempDir dir;
  auto writer = OpenStore(dir.ledger());  // as a running serve node holds it
  Chain acme{"acme"};
  REQUIRE(writer->Apply(0, {Msg(1, acme, {"a"})}, kEventsMax).ok());
  auto log = OpenForAudit(dir.ledger());
  REQUIRE(writer->Apply(0, {Msg(2, acme, {"b"})}, kEventsMax).ok());
  // The view is the store at the open: one message, and it verifies.
  CHECK(log->store_info().value().applied_seqs == std::vector<uint64_t>{1});
  auto report = log->Verify().value();
  CHECK(report.ok);
  CHECK(report.events_checked == 1);
  // Writes are refused.
  AppendRequest req;
  req.client_id = "acme";
  req.events.push_back(Work("x"));
  auto r = log->Append(std::move(req));
  REQUIRE(!r.ok());
  CHECK(r.error().code == Code::kInvalid);
  CHECK(log->PutCheckpoint("client/acme", "x").error().code == Code::kInvalid);
}

TEST_CASE("Opening for an audit refuses a missing directory and a ledger directory") {
  TempDir dir;
  auto missing = Log::OpenFollowStore(dir.path() + "/nothing");
  REQUIRE(!missing.ok());
  CHECK(missing.error().code == Code::kNotFound);
  OpenLog(dir.ledger());  // a ledger directory, not a store
  auto ledger = Log::OpenFollowStore(dir.ledger());
  REQUIRE(!ledger.ok());
  CHECK(ledger.error().code == Code::kInvalid);
  CHECK_THAT(ledger.error().message, Catch::Contains("is not a serve node's store"));
}

}  // namespace
}  // namespace hourbank::ledger::testing
