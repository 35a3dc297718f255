// The Log on a NATS JetStream server: each case starts its own nats-server (JetStream, file
// store in a temp dir) on a free loopback port and stops it at the end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <capnp/serialize.h>
#include <fmt/format.h>
#include <nats/nats.h>

#include "ledger/nats_frame.h"
#include "ledger/nats_log.h"
#include "tests/ledger/test_util.h"

namespace hourbank::ledger::testing {
namespace {

// A free loopback TCP port: bind port 0, read the port back, close. (nats-server's own `-p 0`
// picks a port it does not tell clients, hence this.)
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One nats-server with JetStream, killed (SIGTERM, then waited for) on destruction.
class NatsServer {
 public:
  NatsServer() {
    port_ = FreePort();
    const std::string port = std::to_string(port_);
    const std::string store = dir_.path() + "/js";
    const std::string log_file = dir_.path() + "/server.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::execl(NATS_SERVER_PATH, "nats-server", "-a", "127.0.0.1", "-p", port.c_str(), "-js", "-sd",
              store.c_str(), "-l", log_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready when JetStream answers: a ledger can be opened (bounded wait, polled).
    for (int i = 0; i < 200; ++i) {
      natsConnection* nc = nullptr;
      if (natsConnection_ConnectTo(&nc, url().c_str()) == NATS_OK) {
        jsCtx* js = nullptr;
        jsAccountInfo* ai = nullptr;
        bool ready = natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
                     js_GetAccountInfo(&ai, js, nullptr, nullptr) == NATS_OK;
        if (ai != nullptr) jsAccountInfo_Destroy(ai);
        if (js != nullptr) jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        if (ready) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("nats-server did not start on port " << port_);
  }
  ~NatsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

Options NatsOptions(const std::string& name, uint32_t partitions = 0) {
  Options o;
  o.create_if_missing = true;
  o.ledger_name = name;
  o.nats_partitions = partitions;
  o.nats_timeout_ms = 2000;
  o.nats_append_budget_ms = 2000;
  return o;
}

// `o` with the streams' JetStream de-dupe window (when making them) set to `us`.
Options WithDedupeWindow(Options o, int64_t us) {
  o.nats_duplicate_window_us = us;
  return o;
}

std::vector<std::string> TasksOf(Log& log, const std::string& client) {
  Seen seen;
  Status s = log.ReadStream(client, 1, 0, seen.visitor());
  if (!s.ok()) FAIL("read failed: " << s.error().message);
  return seen.tasks;
}

// Publishes `payload` on `subject` as a writer that does not go through the Log (a rogue or
// buggy writer with cluster credentials), with `msg_id` as Nats-Msg-Id unless empty.
void PublishRaw(const std::string& url, const std::string& subject, const std::string& payload,
                const std::string& msg_id = "") {
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK);
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  jsPubAck* ack = nullptr;
  REQUIRE(js_Publish(&ack, js, subject.c_str(), payload.data(), static_cast<int>(payload.size()),
                     &po, nullptr) == NATS_OK);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

}  // namespace

TEST_CASE("nats: an append is read back from the client's stream in order with its position",
          "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  CHECK(log->replicated());
  auto a = MustAppend(*log, Request("acme", {"a1", "a2"}));
  auto b = MustAppend(*log, Request("beta", {"b1"}));
  auto c = MustAppend(*log, Request("acme", {"a3"}));
  CHECK(a.count == 2);
  CHECK(a.stream_version == 2);
  CHECK(c.stream_version == 3);
  CHECK(b.stream_version == 1);
  // One partition: positions follow the stream's message order; a message's events are
  // consecutive positions.
  CHECK(a.first_seq == NatsPosition(0, 1, 0));
  CHECK(b.first_seq == NatsPosition(0, 2, 0));
  CHECK(c.first_seq == NatsPosition(0, 3, 0));
  CHECK(TasksOf(*log, "acme") == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(TasksOf(*log, "beta") == std::vector<std::string>{"b1"});
  CHECK(log->stream_version("acme") == 3);
  CHECK(log->stream_version("nobody") == 0);
  CHECK(log->stream_ids() == std::vector<std::string>{"acme", "beta"});
  CHECK(log->head_seq() == NatsPosition(0, 3, 0));

  // The stored envelope: the client's version as seq, the client's chain as prevHash.
  Seen seen;
  Hash prev{};
  std::vector<uint64_t> seqs;
  REQUIRE(log->ReadStream("acme", 1, 0,
                          [&](const EventView& v) {
                            auto ph = v.event.getPrevHash();
                            CHECK(std::equal(ph.begin(), ph.end(), prev.begin()));
                            prev = ChainHash(prev, v.bytes);
                            seqs.push_back(v.event.getSeq());
                            return true;
                          })
              .ok());
  CHECK(seqs == std::vector<uint64_t>{1, 2, 3});

  auto got = log->Get(a.first_seq + 1);
  REQUIRE(got.ok());
  REQUIRE(DecodeEvent(2, *got, [](schemas::Event::Reader e) {
            CHECK(e.getBody().getWorkLogged().getTask() == "a2");
          }).ok());
  CHECK(log->Get(a.first_seq + 2).error().code == Code::kNotFound);
}

TEST_CASE("nats: a stream read can stop at a version and at a position", "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  MustAppend(*log, Request("acme", {"a1", "a2"}));
  auto second = MustAppend(*log, Request("acme", {"a3"}));
  MustAppend(*log, Request("acme", {"a4"}));
  Seen v23;
  REQUIRE(log->ReadStream("acme", 2, 3, v23.visitor()).ok());
  CHECK(v23.tasks == std::vector<std::string>{"a2", "a3"});
  Seen upto;
  ReadOptions ro;
  ro.as_of_seq = second.first_seq;
  REQUIRE(log->ReadStream("acme", 1, 0, upto.visitor(), ro).ok());
  CHECK(upto.tasks == std::vector<std::string>{"a1", "a2", "a3"});
}

TEST_CASE("nats: an append decided against an old version is a conflict naming the current one",
          "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  MustAppend(*log, Request("acme", {"a1"}, "", 0));
  // A second process (its own connection and cache) writes in between.
  auto other = OpenLog(server.url(), NatsOptions("books"));
  MustAppend(*other, Request("acme", {"other"}, "", 1));
  auto r = log->Append(Request("acme", {"late"}, "", 1));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kConflict);
  CHECK(r.error().current_version == 2);
  CHECK(TasksOf(*log, "acme") == std::vector<std::string>{"a1", "other"});
  // Deciding again against version 2 succeeds.
  CHECK(MustAppend(*log, Request("acme", {"now"}, "", 2)).stream_version == 3);
}

TEST_CASE(
    "nats: a retry with the same key after the dedupe window returns the first answer and writes "
    "nothing",
    "[nats]") {
  NatsServer server;
  const Options o = WithDedupeWindow(NatsOptions("books"), 200'000);  // ids forgotten after 0.2 s
  auto first = [&] {
    auto log = OpenLog(server.url(), o);
    MustAppend(*log, Request("acme", {"before"}));
    return MustAppend(*log, Request("acme", {"close-1", "close-2"}, "close-2025-09"));
  }();
  CHECK_FALSE(first.replayed);
  // Well past the window (the result does not depend on how far: the key lives in the stream).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // A new process: nothing cached, the key is found in the client's own messages.
  auto log = OpenLog(server.url(), o);
  auto again = MustAppend(*log, Request("acme", {"close-1", "close-2"}, "close-2025-09"));
  CHECK(again.replayed);
  CHECK(again.first_seq == first.first_seq);
  CHECK(again.count == 2);
  CHECK(TasksOf(*log, "acme") == std::vector<std::string>{"before", "close-1", "close-2"});
  auto rec = log->LookupClientKey("acme", "close-2025-09");
  REQUIRE(rec.ok());
  REQUIRE(rec.value().has_value());
  CHECK(rec.value()->first_seq == first.first_seq);
  CHECK(rec.value()->count == 2);
  // Keys are per client: another client may use the same key for its own request.
  CHECK_FALSE(MustAppend(*log, Request("beta", {"x"}, "close-2025-09")).replayed);
  CHECK(log->LookupKey("close-2025-09").error().code == Code::kInvalid);
}

TEST_CASE(
    "nats: an append answered as a duplicate of a message id it did not write is not taken as "
    "stored and lands after the window",
    "[nats]") {
  NatsServer server;
  const Options o = WithDedupeWindow(NatsOptions("books"), 300'000);  // ids forgotten after 0.3 s
  auto log = OpenLog(server.url(), o);
  MustAppend(*log, Request("acme", {"a1"}));  // stream seq 1, Nats-Msg-Id hb:acme:1
  // Another writer's message (stream seq 2, on beta's subject) carries the id of acme's next
  // position, so the server answers acme's publish with "duplicate, seq 2".
  auto nats = NatsLog::Open(server.url(), o);
  REQUIRE(nats.ok());
  PublishRaw(server.url(), nats.value()->Subject("beta"), "junk", "hb:acme:2");
  // The writer waits (20, 40, 80, 160 ms …, budget 2 s) and re-reads until the id is forgotten;
  // its message is then stream seq 3.
  auto r = MustAppend(*log, Request("acme", {"a2"}));
  CHECK(r.first_seq == NatsPosition(0, 3, 0));
  CHECK(r.stream_version == 2);
  CHECK(TasksOf(*log, "acme") == std::vector<std::string>{"a1", "a2"});
  auto fresh = OpenLog(server.url(), o);
  CHECK(TasksOf(*fresh, "acme") == std::vector<std::string>{"a1", "a2"});
}

TEST_CASE("nats: a key used again for another request is a conflict and writes nothing", "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  MustAppend(*log, Request("acme", {"a"}, "k1"));
  auto r = log->Append(Request("acme", {"b"}, "k1"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kConflict);
  CHECK(TasksOf(*log, "acme") == std::vector<std::string>{"a"});
}

TEST_CASE(
    "nats: writers racing on one client all land once, in one gapless order and a raced key is "
    "written once",
    "[nats]") {
  NatsServer server;
  constexpr int kWriters = 4, kEach = 10;
  std::vector<std::unique_ptr<Log>> logs;
  for (int w = 0; w < kWriters; ++w) logs.push_back(OpenLog(server.url(), NatsOptions("books")));
  std::atomic<int> replayed{0}, failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        auto r = logs[w]->Append(Request("acme", {fmt::format("w{}-{}", w, i)}));
        if (!r.ok()) ++failures;
      }
      // Every writer sends the same keyed request: one writes it, the others get its answer.
      auto r = logs[w]->Append(Request("acme", {"keyed"}, "same-key"));
      if (!r.ok())
        ++failures;
      else if (r->replayed)
        ++replayed;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(replayed == kWriters - 1);
  auto tasks = TasksOf(*logs[0], "acme");
  CHECK(tasks.size() == kWriters * kEach + 1);
  CHECK(std::count(tasks.begin(), tasks.end(), "keyed") == 1);
  // Each writer's own appends keep their order.
  for (int w = 0; w < kWriters; ++w) {
    int next = 0;
    for (const auto& t : tasks) {
      if (t.rfind(fmt::format("w{}-", w), 0) == 0) CHECK(t == fmt::format("w{}-{}", w, next++));
    }
    CHECK(next == kEach);
  }
  auto report = logs[0]->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->events_checked == kWriters * kEach + 1);
}

TEST_CASE(
    "nats: clients spread over partitions and a scan visits positions in (stream then stream seq) "
    "order",
    "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("parts", 4));
  std::set<uint32_t> used;
  std::vector<uint64_t> firsts;
  for (int c = 0; c < 12; ++c) {
    std::string client = fmt::format("client{}", c);
    used.insert(NatsPartitionOf(client, 4));
    firsts.push_back(MustAppend(*log, Request(client, {client + "-1", client + "-2"})).first_seq);
    CHECK(SplitNatsPosition(firsts.back()).partition == NatsPartitionOf(client, 4));
  }
  CHECK(used.size() > 1);
  Seen all;
  REQUIRE(log->Scan(1, 0, all.visitor()).ok());
  CHECK(all.seqs.size() == 24);
  CHECK(std::is_sorted(all.seqs.begin(), all.seqs.end()));
  CHECK(std::adjacent_find(all.seqs.begin(), all.seqs.end()) == all.seqs.end());
  // A scan from a position resumes exactly there.
  Seen tail;
  REQUIRE(log->Scan(all.seqs[10], 0, tail.visitor()).ok());
  CHECK(tail.seqs == std::vector<uint64_t>(all.seqs.begin() + 10, all.seqs.end()));
  Seen window;
  REQUIRE(log->Scan(all.seqs[3], all.seqs[7], window.visitor()).ok());
  CHECK(window.seqs == std::vector<uint64_t>(all.seqs.begin() + 3, all.seqs.begin() + 8));
  CHECK(log->head_seq() == all.seqs.back());
  // The partition count is fixed when the ledger is made.
  auto again = Log::Open(server.url(), NatsOptions("parts", 2));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Code::kInvalid);
  CHECK(OpenLog(server.url(), NatsOptions("parts"))->stream_ids().size() == 12);
}

TEST_CASE(
    "nats: verify recomputes the chains and the head and a message breaking a client's chain is "
    "found",
    "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  MustAppend(*log, Request("acme", {"a1"}));
  MustAppend(*log, Request("beta", {"b1", "b2"}));
  auto good = log->Verify();
  REQUIRE(good.ok());
  CHECK(good->ok);
  CHECK(good->events_checked == 3);
  CHECK(good->head_hash == log->head_hash());
  Hash expect{};
  REQUIRE(log->Scan(1, 0,
                    [&](const EventView& v) {
                      expect = ChainHash(expect, v.bytes);
                      return true;
                    })
              .ok());
  CHECK(good->head_hash == expect);

  // A writer bypassing the Log appends a well-formed event for acme #2 whose prevHash is not
  // acme #1's chain hash.
  EventDraft d = Work("forged");
  auto root = d.root();
  root.setClientId("acme");
  root.setSeq(2);
  root.setRecordedAtUs(kEffectiveUs);
  root.initPrevHash(32);
  auto flat = capnp::messageToFlatArray(d.message());
  std::string bytes(flat.asChars().begin(), flat.asChars().size());
  auto nats = NatsLog::Open(server.url(), NatsOptions("books"));
  REQUIRE(nats.ok());
  PublishRaw(server.url(), nats.value()->Subject("acme"), nats_frame::Encode(Hash{}, {bytes}));

  auto bad = log->Verify();
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->ok);
  CHECK(bad->first_bad_seq == NatsPosition(0, 3, 0));
  CHECK_THAT(bad->problem, Catch::Contains("chain"));
  // Appends to the broken client are refused rather than built on the forgery.
  auto r = log->Append(Request("acme", {"after"}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kCorruption);
}

TEST_CASE("nats: making a ledger that must not exist yet succeeds once, then is refused",
          "[nats]") {
  NatsServer server;
  Options o = NatsOptions("fresh");
  o.error_if_exists = true;
  auto first = Log::Open(server.url(), o);
  REQUIRE(first.ok());
  auto second = Log::Open(server.url(), o);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == Code::kInvalid);
  CHECK_THAT(second.error().message, Catch::Contains("already exists"));
}

TEST_CASE("nats: a ledger name that was never made is not found unless creating", "[nats]") {
  NatsServer server;
  Options o = NatsOptions("missing");
  o.create_if_missing = false;
  auto r = Log::Open(server.url(), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kNotFound);
  CHECK_THAT(r.error().message, Catch::Contains("hourbank init"));
  Options bad = NatsOptions("Bad Name");
  CHECK(Log::Open(server.url(), bad).error().code == Code::kInvalid);
}

TEST_CASE(
    "nats: the embedded-only operations are refused and checkpoints are not kept on a cluster",
    "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  CHECK(log->PutCheckpoint("x", "y").ok());
  auto cp = log->GetCheckpoint("x");
  REQUIRE(cp.ok());
  CHECK_FALSE(cp.value().has_value());
  CHECK(log->AppendRaw("xxxxxxxx").error().code == Code::kInvalid);
  CHECK(log->ScanStored([](uint64_t, std::string_view) { return true; }).error().code ==
        Code::kInvalid);
}

// ---- no server needed -------------------------------------------------------------------

TEST_CASE("nats location: hosts get port 4222 when left out and bad hosts and names are refused",
          "[nats]") {
  auto l = ParseNatsLocation("nats://h1:4223,h2", "books");
  REQUIRE(l.ok());
  CHECK(l->servers == std::vector<std::string>{"nats://h1:4223", "nats://h2:4222"});
  CHECK(ParseNatsLocation("nats://h1,,h2", "books").error().code == Code::kInvalid);
  CHECK(ParseNatsLocation("nats://h 1", "books").error().code == Code::kInvalid);
  CHECK(ParseNatsLocation("http://h1", "books").error().code == Code::kInvalid);
  CHECK(ParseNatsLocation("nats://h1", "").error().code == Code::kInvalid);
  CHECK(ParseNatsLocation("nats://h1", "a.b").error().code == Code::kInvalid);
  CHECK(ParseNatsLocation("nats://h1", std::string(33, 'a')).error().code == Code::kInvalid);
}

TEST_CASE("nats frame: a frame round-trips and every truncation and a trailing byte are refused",
          "[nats]") {
  Hash d{};
  d[0] = 7;
  std::string f = nats_frame::Encode(d, {std::string(8, 'a'), std::string(16, 'b')});
  auto back = nats_frame::Decode(f, 100);
  REQUIRE(back.ok());
  CHECK(back->request_digest == d);
  CHECK(back->events == std::vector<std::string_view>{std::string(8, 'a'), std::string(16, 'b')});
  for (size_t n = 0; n < f.size(); ++n) {
    CHECK(nats_frame::Decode(std::string_view(f).substr(0, n), 100).error().code ==
          Code::kCorruption);
  }
  CHECK(nats_frame::Decode(f + "x", 100).error().code == Code::kCorruption);
  CHECK(nats_frame::Decode(f, 1).error().code == Code::kCorruption);  // more events than allowed
}

TEST_CASE("nats positions: partition, stream seq and index pack into one ordered number",
          "[nats]") {
  CHECK(NatsPosition(0, 1, 0) < NatsPosition(0, 1, 1));
  CHECK(NatsPosition(0, 1, 65535) < NatsPosition(0, 2, 0));
  CHECK(NatsPosition(0, kNatsStreamSeqMax, 0) < NatsPosition(1, 1, 0));
  auto p = SplitNatsPosition(NatsPosition(3, 123456789, 42));
  CHECK(p.partition == 3);
  CHECK(p.stream_seq == 123456789);
  CHECK(p.index == 42);
}

}  // namespace hourbank::ledger::testing

namespace hourbank::ledger::testing {
namespace {

// The recorded time of each event of `client`, in order.
std::vector<int64_t> RecordedTimes(Log& log, const std::string& client) {
  std::vector<int64_t> out;
  Status s = log.ReadStream(client, 1, 0, [&](const EventView& v) {
    out.push_back(v.event.getRecordedAtUs());
    return true;
  });
  if (!s.ok()) FAIL("read failed: " << s.error().message);
  return out;
}

// AppendRequest::recorded_at_us (import-log between backends): kept when not before what the
// log has recorded, refused with kInvalid and nothing written when before.
void CheckKeptRecordedTime(Log& log) {
  const int64_t t1 = 1'700'000'000'000'000, t2 = t1 + 5;
  AppendRequest first = Request("acme", {"a1", "a2"});
  first.recorded_at_us = t1;
  MustAppend(log, std::move(first));
  AppendRequest second = Request("acme", {"a3"});
  second.recorded_at_us = t2;
  MustAppend(log, std::move(second));
  CHECK(RecordedTimes(log, "acme") == std::vector<int64_t>{t1, t1, t2});
  AppendRequest back = Request("acme", {"a4"});
  back.recorded_at_us = t1;
  auto r = log.Append(std::move(back));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kInvalid);
  CHECK(log.stream_version("acme") == 3);
  // Without it, the time is now again (later than t2).
  MustAppend(log, Request("acme", {"a5"}));
  CHECK(RecordedTimes(log, "acme").back() > t2);
}

}  // namespace

TEST_CASE("nats: an import's recorded time is kept and a time before the client's last is refused",
          "[nats]") {
  NatsServer server;
  auto log = OpenLog(server.url(), NatsOptions("books"));
  CheckKeptRecordedTime(*log);
}

TEST_CASE("directory: an import's recorded time is kept and a time before the head's is refused",
          "[nats]") {
  TempDir dir;
  auto log = OpenLog(dir.path());
  CheckKeptRecordedTime(*log);
}

TEST_CASE("nats info: the version is read from an INFO line and anything else is refused",
          "[nats]") {
  CHECK(NatsInfoVersion(R"(INFO {"server_id":"X","version":"2.9.10","jetstream":true})") ==
        std::optional<std::string>("2.9.10"));
  CHECK_FALSE(NatsInfoVersion(R"(INFO {"server_id":"X"})"));
  CHECK_FALSE(NatsInfoVersion(R"(INFO {"version":7})"));
  CHECK_FALSE(NatsInfoVersion(R"(INFO {"version":"2.9.10")"));
  CHECK_FALSE(NatsInfoVersion(R"(-ERR 'Authorization Violation')"));
  CHECK_FALSE(NatsInfoVersion(""));
}

TEST_CASE("nats info: servers before 2.10 sync on a timer and 2.10 or later do not", "[nats]") {
  CHECK(NatsSyncsOnTimer("2.9.10"));
  CHECK(NatsSyncsOnTimer("2.2.0"));
  CHECK(NatsSyncsOnTimer("1.4.1"));
  CHECK_FALSE(NatsSyncsOnTimer("2.10.0"));
  CHECK_FALSE(NatsSyncsOnTimer("2.11.3-beta"));
  CHECK_FALSE(NatsSyncsOnTimer("3.0.0"));
  CHECK_FALSE(NatsSyncsOnTimer("garbage"));
  CHECK_FALSE(NatsSyncsOnTimer(""));
}

TEST_CASE("nats info: the installed server's version is read and its timed sync is warned about",
          "[nats]") {
  NatsServer server;
  auto version = NatsServerVersion(server.url(), 2000);
  REQUIRE(version.ok());
  CHECK(!version->empty());
  auto log = OpenLog(server.url(), NatsOptions("books"));
  const std::string warning = log->DurabilityWarning();
  // tools/setup.sh installs Debian's nats-server 2.9: it syncs on a timer, so the warning names
  // its version and gives the configuration line for newer servers. (A newer server: no warning.)
  if (NatsSyncsOnTimer(*version)) {
    CHECK(warning.find("nats-server " + *version) != std::string::npos);
    CHECK(warning.find("sync_interval: always") != std::string::npos);
  } else {
    CHECK(warning.empty());
  }
  TempDir dir;
  CHECK(OpenLog(dir.path())->DurabilityWarning().empty());
}

TEST_CASE("nats info: an unreachable server or a bad URL is an error, not a hang", "[nats]") {
  CHECK(NatsServerVersion("nats://127.0.0.1:" + std::to_string(FreePort()), 500).error().code ==
        Code::kIo);
  CHECK(NatsServerVersion("nats://nocolon", 500).error().code == Code::kInvalid);
}

TEST_CASE("nats: a batched reader delivers a partition's messages in stream order from a seq",
          "[nats]") {
  NatsServer server;
  auto nats = NatsLog::Open(server.url(), NatsOptions("books"));
  REQUIRE(nats.ok());
  for (int i = 0; i < 40; ++i)
    REQUIRE((*nats)->Append(Request(i % 2 ? "acme" : "beta", {fmt::format("t{}", i)})).ok());
  auto reader = (*nats)->OpenBatchReader(0, 3);
  REQUIRE(reader.ok());
  std::vector<NatsLog::Message> got;
  while (got.size() < 38) {
    auto batch = (*reader)->Next(16);
    REQUIRE(batch.ok());
    REQUIRE(!batch->empty());
    CHECK(batch->size() <= 16);
    for (auto& m : *batch) got.push_back(std::move(m));
  }
  REQUIRE(got.size() == 38);
  for (size_t i = 0; i < got.size(); ++i) {
    auto direct = (*nats)->GetMessage(0, 3 + i, nullptr);
    REQUIRE(direct.ok());
    REQUIRE(direct->has_value());
    CHECK(got[i].stream_seq == 3 + i);
    CHECK(got[i].subject == (*direct)->subject);
    CHECK(got[i].data == (*direct)->data);
  }
  // Nothing more: an empty batch after the timeout, not an error.
  auto none = (*reader)->Next(16);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE(
    "nats: a serve node's store catching up from 60 messages behind per partition holds the whole "
    "log",
    "[nats]") {
  NatsServer server;
  TempDir store;
  std::vector<std::string> want;
  std::vector<uint64_t> last_position(2, 0);  // per partition, its last append's position
  {
    auto log = OpenLog(server.url(), NatsOptions("books", 2));
    for (int i = 0; i < 120; ++i) {
      const uint64_t pos =
          MustAppend(*log, Request(fmt::format("c{}", i % 5), {fmt::format("t{}", i)})).first_seq;
      uint64_t& last = last_position[SplitNatsPosition(pos).partition];
      last = std::max(last, pos);
    }
    REQUIRE(log->Scan(1, 0,
                      [&](const EventView& v) {
                        want.emplace_back(v.bytes);
                        return true;
                      })
                .ok());
  }
  Options o = NatsOptions("books");
  o.create_if_missing = false;
  o.nats_follow_store = store.ledger();
  auto node = OpenLog(server.url(), o);
  for (uint64_t pos : last_position) {
    REQUIRE(pos != 0);  // both partitions have appends
    REQUIRE(node->WaitForPosition(pos, 10000).ok());
  }
  for (const auto& f : node->follow_status()) {
    CHECK(f.error.empty());
    CHECK(f.applied_seq == f.last_seq);
  }
  std::vector<std::string> got;
  REQUIRE(node->Scan(1, 0,
                     [&](const EventView& v) {
                       got.emplace_back(v.bytes);
                       return true;
                     })
              .ok());
  CHECK(got == want);
}

}  // namespace hourbank::ledger::testing
