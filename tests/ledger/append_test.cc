// Append: stamping, optimistic concurrency, idempotency, limits, failed writes.
#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

// A work entry with every field set (read back field by field below).
EventDraft EveryWorkField() {
  EventDraft d;
  auto r = d.root();
  r.setEffectiveAtUs(kEffectiveUs + 5);
  r.setActor("alice");
  auto w = r.getBody().initWorkLogged();
  w.setKind("site");
  w.setTask("T-17");
  w.setStaff("bob");
  w.setMinutes(0);
  w.setCount(3);
  w.setUrgent(true);
  w.setOffHours(schemas::OffHours::YES);
  w.setNote("fixed the mail server");
  w.setLate(true);
  w.setEmergency(true);
  w.setBookedMonth(202511);
  return d;
}

// A month close with every field set.
EventDraft EveryCloseField() {
  EventDraft d;
  auto r = d.root();
  r.setEffectiveAtUs(kEffectiveUs + 6);
  r.setActor("carol");
  auto p = r.getBody().initPeriodClosed();
  p.setMonth(202510);
  p.setTotalMinor(-12345);
  auto digest = p.initLinesDigest(32);
  for (size_t i = 0; i < 32; ++i) digest[i] = static_cast<uint8_t>(i);
  p.setLineCount(9);
  return d;
}

TEST_CASE("every field of an appended event reads back as written or stamped", "[ledger][append]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  AppendRequest req;
  req.client_id = "acme";
  req.idempotency_key = "req-1";
  req.events.push_back(EveryWorkField());
  req.events.push_back(EveryCloseField());
  int64_t before_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto res = MustAppend(*log, std::move(req));
  CHECK(res.first_seq == 1);
  CHECK(res.count == 2);
  CHECK(res.stream_version == 2);
  CHECK_FALSE(res.replayed);

  int visited = 0;
  Hash prev{};
  Status s = log->Scan(1, 0, [&](const EventView& v) {
    auto e = v.event;
    CHECK(e.getSeq() == v.seq);
    CHECK(e.getClientId() == "acme");
    CHECK(e.getIdempotencyKey() == "req-1");
    CHECK(e.getRecordedAtUs() >= before_us);
    REQUIRE(e.getPrevHash().size() == 32);
    CHECK(std::equal(prev.begin(), prev.end(), e.getPrevHash().begin()));
    prev = ChainHash(prev, v.bytes);
    if (v.seq == 1) {
      CHECK(e.getEffectiveAtUs() == kEffectiveUs + 5);
      CHECK(e.getActor() == "alice");
      REQUIRE(e.getBody().isWorkLogged());
      auto w = e.getBody().getWorkLogged();
      CHECK(w.getKind() == "site");
      CHECK(w.getTask() == "T-17");
      CHECK(w.getStaff() == "bob");
      CHECK(w.getMinutes() == 0);
      CHECK(w.getCount() == 3);
      CHECK(w.getUrgent());
      CHECK(w.getOffHours() == schemas::OffHours::YES);
      CHECK(w.getNote() == "fixed the mail server");
      CHECK(w.getLate());
      CHECK(w.getEmergency());
      CHECK(w.getBookedMonth() == 202511);
    } else {
      CHECK(e.getEffectiveAtUs() == kEffectiveUs + 6);
      CHECK(e.getActor() == "carol");
      REQUIRE(e.getBody().isPeriodClosed());
      auto p = e.getBody().getPeriodClosed();
      CHECK(p.getMonth() == 202510);
      CHECK(p.getTotalMinor() == -12345);
      REQUIRE(p.getLinesDigest().size() == 32);
      CHECK(p.getLinesDigest()[31] == 31);
      CHECK(p.getLineCount() == 9);
    }
    ++visited;
    return true;
  });
  REQUIRE(s.ok());
  CHECK(visited == 2);
  CHECK(log->head_hash() == prev);
}

TEST_CASE("the first event has a zero prevHash and each next one the hash of its predecessor",
          "[ledger][append][chain]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a"}));
  MustAppend(*log, Request("beta", {"b"}));
  std::string e1 = *log->Get(1), e2 = *log->Get(2);
  Hash h1 = ChainHash(Hash{}, e1);
  Hash h2 = ChainHash(h1, e2);
  Hash seen1{}, seen2{};
  REQUIRE(DecodeEvent(1, e1, [&](schemas::Event::Reader e) {
            std::copy(e.getPrevHash().begin(), e.getPrevHash().end(), seen1.begin());
          }).ok());
  REQUIRE(DecodeEvent(2, e2, [&](schemas::Event::Reader e) {
            std::copy(e.getPrevHash().begin(), e.getPrevHash().end(), seen2.begin());
          }).ok());
  CHECK(seen1 == Hash{});
  CHECK(seen2 == h1);
  CHECK(log->head_hash() == h2);
}

TEST_CASE("an event larger than one message segment is stored as its flat array and chains",
          "[ledger][append][chain]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  // The builder's first segment is 1024 words: a 20 000-byte note puts the text in a second
  // segment, so the stored bytes carry a two-segment table.
  AppendRequest req = Request("acme", {"small"});
  req.events.push_back(Work("big"));
  req.events.back().root().getBody().getWorkLogged().setNote(std::string(20000, 'n'));
  REQUIRE(req.events.back().message().getSegmentsForOutput().size() > 1);
  MustAppend(*log, std::move(req));
  Hash chained{};
  for (uint64_t seq : {1, 2}) {
    std::string stored = *log->Get(seq);
    // The bytes decode as one flat message with nothing after it (DecodeEvent checks) and the
    // note reads back whole from the second segment.
    size_t note_bytes = 0;
    REQUIRE(DecodeEvent(seq, stored, [&](schemas::Event::Reader e) {
              note_bytes = e.getBody().getWorkLogged().getNote().size();
            }).ok());
    CHECK(note_bytes == (seq == 1 ? 0u : 20000u));
    uint32_t segments = 0;
    std::memcpy(&segments, stored.data(), sizeof(segments));
    CHECK(segments + 1 == (seq == 1 ? 1u : 2u));
    chained = ChainHash(chained, stored);
  }
  CHECK(log->head_hash() == chained);
  auto report = log->Verify({});
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->events_checked == 2);
}

TEST_CASE("the ledger overrides a clientId set by the caller with the request's stream",
          "[ledger][append]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto req = Request("acme", {"a"});
  req.events[0].root().setClientId("someone-else");
  MustAppend(*log, std::move(req));
  std::string client;
  REQUIRE(DecodeEvent(1, *log->Get(1), [&](schemas::Event::Reader e) {
            client = e.getClientId();
          }).ok());
  CHECK(client == "acme");
}

TEST_CASE("a batch gets contiguous seqs and stream versions across streams", "[ledger][append]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto a = MustAppend(*log, Request("acme", {"a1", "a2", "a3"}));
  auto b = MustAppend(*log, Request("beta", {"b1"}));
  auto c = MustAppend(*log, Request("acme", {"a4", "a5"}));
  CHECK(a.first_seq == 1);
  CHECK(a.stream_version == 3);
  CHECK(b.first_seq == 4);
  CHECK(b.stream_version == 1);
  CHECK(c.first_seq == 5);
  CHECK(c.count == 2);
  CHECK(c.stream_version == 5);
  CHECK(log->head_seq() == 6);
  CHECK(log->stream_version("acme") == 5);
  CHECK(log->stream_version("beta") == 1);
  CHECK(log->stream_version("gamma") == 0);
}

TEST_CASE("recordedAtUs never goes below the previous event's, even if the clock does",
          "[ledger][append]") {
  TempDir tmp;
  OpenLog(tmp.ledger()).reset();
  // Pretend the last event was recorded an hour in the future (a clock that stepped back).
  int64_t future_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() +
                      3600ll * 1000 * 1000;
  std::string v;
  for (int i = 7; i >= 0; --i)
    v.push_back(static_cast<char>((uint64_t(future_us) >> (8 * i)) & 0xff));
  REQUIRE(raw::RawPut(tmp.ledger(), "meta", "head_recorded_at_us", v).ok());
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a", "b"}));
  std::vector<int64_t> recorded;
  REQUIRE(log->Scan(1, 0,
                    [&](const EventView& e) {
                      recorded.push_back(e.event.getRecordedAtUs());
                      return true;
                    })
              .ok());
  REQUIRE(recorded.size() == 2);
  CHECK(recorded[0] == future_us);
  CHECK(recorded[1] == future_us);
}

TEST_CASE("an expected version that matches the stream is accepted",
          "[ledger][append][concurrency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  CHECK(MustAppend(*log, Request("acme", {"a"}, "", 0u)).stream_version == 1);
  CHECK(MustAppend(*log, Request("acme", {"b", "c"}, "", 1u)).stream_version == 3);
}

TEST_CASE("an expected version that does not match is a conflict naming the current version",
          "[ledger][append][concurrency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a", "b"}));
  Hash head = log->head_hash();
  auto r = log->Append(Request("acme", {"c"}, "", 1u));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kConflict);
  CHECK(r.error().current_version == 2);
  CHECK_THAT(r.error().message, Catch::Contains("acme is at version 2"));
  CHECK_THAT(r.error().message, Catch::Contains("expected version 1"));
  CHECK(log->head_seq() == 2);
  CHECK(log->head_hash() == head);
  CHECK(log->stream_version("acme") == 2);
}

TEST_CASE("expecting version 0 on an existing stream is a conflict",
          "[ledger][append][concurrency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a"}));
  auto r = log->Append(Request("acme", {"b"}, "", 0u));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kConflict);
  CHECK(r.error().current_version == 1);
}

TEST_CASE("an idempotent retry returns the original result with replayed and writes nothing",
          "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"x"}));
  auto first = MustAppend(*log, Request("acme", {"a", "b"}, "key-1"));
  MustAppend(*log, Request("acme", {"y"}));
  Hash head = log->head_hash();
  auto again = MustAppend(*log, Request("acme", {"a", "b"}, "key-1"));
  CHECK(again.replayed);
  CHECK(again.first_seq == first.first_seq);
  CHECK(again.count == 2);
  CHECK(again.stream_version == first.stream_version);
  CHECK(again.stream_version == 3);
  CHECK(log->head_seq() == 4);
  CHECK(log->head_hash() == head);
  auto st = log->stats();
  CHECK(st.append_requests == 4);
  CHECK(st.events_appended == 4);
}

TEST_CASE("a retry with an expected version that is now stale is still replayed",
          "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto first = MustAppend(*log, Request("acme", {"a"}, "key-1", 0u));
  auto again = MustAppend(*log, Request("acme", {"a"}, "key-1", 0u));
  CHECK(again.replayed);
  CHECK(again.first_seq == first.first_seq);
  CHECK(log->head_seq() == 1);
}

TEST_CASE("reusing an idempotency key with another body is a conflict",
          "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a"}, "key-1"));
  auto r = log->Append(Request("acme", {"different"}, "key-1"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kConflict);
  CHECK_THAT(r.error().message, Catch::Contains("key-1"));
  CHECK(log->head_seq() == 1);
}

TEST_CASE("reusing an idempotency key on another stream is a conflict",
          "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a"}, "key-1"));
  auto r = log->Append(Request("beta", {"a"}, "key-1"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kConflict);
  // Even when the caller's own digest is identical, the stream must match.
  AppendRequest first = Request("acme", {"b"}, "key-2");
  first.request_digest = Digest("d");
  MustAppend(*log, std::move(first));
  AppendRequest same_digest = Request("beta", {"b"}, "key-2");
  same_digest.request_digest = Digest("d");
  auto r2 = log->Append(std::move(same_digest));
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().code == Code::kConflict);
  CHECK_THAT(r2.error().message, Catch::Contains("another stream"));
  CHECK(log->head_seq() == 2);
  CHECK(log->stream_version("beta") == 0);
}

TEST_CASE("a caller's request digest decides what counts as the same request",
          "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  AppendRequest a = Request("acme", {"logged at 10:00"}, "key-1");
  a.request_digest = Digest("the command");
  auto first = MustAppend(*log, std::move(a));
  AppendRequest b = Request("acme", {"logged at 10:01"}, "key-1");
  b.request_digest = Digest("the command");
  auto again = MustAppend(*log, std::move(b));
  CHECK(again.replayed);
  CHECK(again.first_seq == first.first_seq);
  auto rec = log->LookupKey("key-1");
  REQUIRE(rec.ok());
  REQUIRE(rec->has_value());
  CHECK((*rec)->first_seq == 1);
  CHECK((*rec)->count == 1);
  CHECK((*rec)->request_digest == Digest("the command"));
}

TEST_CASE("LookupKey of an unknown key is empty", "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto rec = log->LookupKey("never-used");
  REQUIRE(rec.ok());
  CHECK_FALSE(rec->has_value());
}

TEST_CASE("a draft carrying a different idempotency key than its request is refused",
          "[ledger][append][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto req = Request("acme", {"a"}, "key-1");
  req.events[0].root().setIdempotencyKey("key-2");
  auto r = log->Append(std::move(req));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kInvalid);
  CHECK(log->head_seq() == 0);
}

TEST_CASE("reopening keeps the head, the hash, stream versions and idempotency keys",
          "[ledger][append][reopen]") {
  TempDir tmp;
  Hash head;
  {
    auto log = OpenLog(tmp.ledger());
    MustAppend(*log, Request("acme", {"a", "b"}, "key-1"));
    MustAppend(*log, Request("beta", {"c"}));
    head = log->head_hash();
  }
  auto log = OpenLog(tmp.ledger(), Options{});
  CHECK(log->head_seq() == 3);
  CHECK(log->head_hash() == head);
  CHECK(log->stream_version("acme") == 2);
  CHECK(log->stream_version("beta") == 1);
  auto again = MustAppend(*log, Request("acme", {"a", "b"}, "key-1"));
  CHECK(again.replayed);
  CHECK(again.first_seq == 1);
  CHECK(again.stream_version == 2);
  auto next = MustAppend(*log, Request("acme", {"d"}, "", 2u));
  CHECK(next.first_seq == 4);
  CHECK(next.stream_version == 3);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("a batch beyond batch_events_max is refused naming the limit and the size",
          "[ledger][append][limits]") {
  TempDir tmp;
  Options o = CreateOptions();
  o.batch_events_max = 3;
  auto log = OpenLog(tmp.ledger(), o);
  CHECK(log->Append(Request("acme", {"1", "2", "3"})).ok());
  auto r = log->Append(Request("acme", {"1", "2", "3", "4"}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kLimit);
  CHECK_THAT(r.error().message, Catch::Contains("batch_events_max"));
  CHECK_THAT(r.error().message, Catch::Contains("4 events"));
  CHECK(log->head_seq() == 3);
}

TEST_CASE("an event beyond event_bytes_max is refused naming the limit and the size",
          "[ledger][append][limits]") {
  TempDir tmp;
  Options o = CreateOptions();
  o.event_bytes_max = 1024;
  auto log = OpenLog(tmp.ledger(), o);
  auto req = Request("acme", {"ok", std::string(2000, 'x')});
  auto r = log->Append(std::move(req));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kLimit);
  CHECK_THAT(r.error().message, Catch::Contains("event_bytes_max"));
  CHECK_THAT(r.error().message, Catch::Contains("event #2"));
  CHECK_THAT(r.error().message, Catch::Contains("1024"));
  CHECK(log->head_seq() == 0);
}

TEST_CASE("an idempotency key beyond idempotency_key_bytes_max is refused",
          "[ledger][append][limits]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  CHECK(log->Append(Request("acme", {"a"}, std::string(128, 'k'))).ok());
  auto r = log->Append(Request("acme", {"a"}, std::string(129, 'k')));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kLimit);
  CHECK_THAT(r.error().message, Catch::Contains("idempotency_key_bytes_max"));
  CHECK_THAT(r.error().message, Catch::Contains("129"));
  CHECK(log->head_seq() == 1);
}

TEST_CASE("an idempotency key with a control character is refused", "[ledger][append][limits]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  for (std::string key : {std::string("a\nb"), std::string("a\0b", 3), std::string("a\x7f")}) {
    auto r = log->Append(Request("acme", {"a"}, key));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::kInvalid);
    CHECK_THAT(r.error().message, Catch::Contains("control character"));
  }
  CHECK(log->head_seq() == 0);
}

TEST_CASE("client ids outside the charset or longer than 64 are refused",
          "[ledger][append][limits]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  for (std::string id : {std::string("Acme"), std::string("ac me"), std::string(""),
                         std::string(65, 'a'), std::string("$"), std::string("-x")}) {
    auto r = log->Append(Request(id, {"a"}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::kInvalid);
    CHECK_THAT(r.error().message, Catch::Contains("client id"));
  }
  CHECK(log->Append(Request(std::string(64, 'a'), {"a"})).ok());
  CHECK(log->Append(Request("$catalog", {"a"})).ok());
  CHECK(log->head_seq() == 2);
}

TEST_CASE("an empty batch is refused", "[ledger][append][limits]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto r = log->Append(Request("acme", {}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kInvalid);
  CHECK_THAT(r.error().message, Catch::Contains("empty"));
}

TEST_CASE("a draft without a body is refused and nothing of its batch is written",
          "[ledger][append][limits]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto req = Request("acme", {"a"});
  EventDraft bare;
  bare.root().setEffectiveAtUs(kEffectiveUs);
  req.events.push_back(std::move(bare));
  auto r = log->Append(std::move(req));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kInvalid);
  CHECK_THAT(r.error().message, Catch::Contains("event #2"));
  CHECK_THAT(r.error().message, Catch::Contains("no body"));
  CHECK(log->head_seq() == 0);
}

TEST_CASE("a draft with effectiveAtUs not after the epoch is refused", "[ledger][append][limits]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto req = Request("acme", {"a"});
  req.events[0].root().setEffectiveAtUs(0);
  auto r = log->Append(std::move(req));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kInvalid);
  CHECK_THAT(r.error().message, Catch::Contains("effectiveAtUs"));
  CHECK(log->head_seq() == 0);
}

TEST_CASE("a failed write is kIo with RocksDB's message and leaves the head where it was",
          "[ledger][append][failure]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"a"}));
  Hash head = log->head_hash();
  log->InjectWriteFailuresForTesting(1);
  auto r = log->Append(Request("acme", {"b", "c"}, "key-1"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kIo);
  CHECK_THAT(r.error().message, Catch::Contains("No space left on device"));
  CHECK(log->head_seq() == 1);
  CHECK(log->head_hash() == head);
  CHECK(log->stream_version("acme") == 1);
  CHECK_FALSE(log->LookupKey("key-1")->has_value());
  CHECK(log->stats().write_groups == 1);
  // The retry is a fresh append, not a replay, and continues the chain.
  auto retry = MustAppend(*log, Request("acme", {"b", "c"}, "key-1"));
  CHECK_FALSE(retry.replayed);
  CHECK(retry.first_seq == 2);
  CHECK(retry.stream_version == 3);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE(
    "after a failed write the log reopens its database inside while other threads keep reading",
    "[ledger][append][failure]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  for (int i = 0; i < 50; ++i) MustAppend(*log, Request("acme", {"t" + std::to_string(i)}));
  std::atomic<bool> stop{false};
  std::atomic<int> read_errors{0};
  std::atomic<uint64_t> reads{0};
  auto reader = [&] {
    while (!stop.load()) {
      uint64_t seen = 0;
      Status s = log->Scan(1, 0, [&](const EventView&) { return ++seen < 1000000; });
      if (!s.ok() || seen < 50 || !log->Get(1).ok() || log->stream_version("acme") < 50)
        ++read_errors;
      ++reads;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  };
  std::thread r1(reader), r2(reader);
  log->InjectWriteFailuresForTesting(1);
  auto failed = log->Append(Request("acme", {"x"}, "key-x"));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == Code::kIo);
  // The next append reopens the database (there is room on this disk), then writes; the
  // readers hold it shared, so the reopen waits for a gap (or is retried, at most once a second).
  std::optional<AppendResult> after;
  for (int attempt = 0; attempt < 50 && !after; ++attempt) {
    auto r = log->Append(Request("acme", {"x"}, "key-x"));
    if (r.ok())
      after = *r;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (int i = 0; i < 10; ++i) MustAppend(*log, Request("acme", {"y" + std::to_string(i)}));
  stop = true;
  r1.join();
  r2.join();
  REQUIRE(after.has_value());
  CHECK(after->first_seq == 51);
  CHECK(log->health().ok);
  CHECK(read_errors.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(log->head_seq() == 61);
  CHECK(log->stream_version("acme") == 61);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("nosync durability appends without fsyncs and the events survive a reopen",
          "[ledger][append][durability]") {
  TempDir tmp;
  Options o = CreateOptions();
  o.durability = Durability::kNoSync;
  {
    auto log = OpenLog(tmp.ledger(), o);
    for (int i = 0; i < 10; ++i) MustAppend(*log, Request("acme", {"t" + std::to_string(i)}));
    auto st = log->stats();
    CHECK(st.fsyncs == 0);
    CHECK(st.write_groups == 10);
    CHECK(st.events_appended == 10);
  }
  auto log = OpenLog(tmp.ledger(), Options{});
  CHECK(log->head_seq() == 10);
  CHECK(log->stream_version("acme") == 10);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("sync durability counts one fsync per written group", "[ledger][append][durability]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  for (int i = 0; i < 5; ++i) MustAppend(*log, Request("acme", {"t"}));
  auto st = log->stats();
  CHECK(st.fsyncs == 5);
  CHECK(st.write_groups == 5);
  CHECK(st.append_requests == 5);
  CHECK(st.group_requests_max == 1);
}
