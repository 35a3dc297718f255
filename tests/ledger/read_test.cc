// Reads: Scan, ReadStream, Get, as-of reads, stream ids, checkpoints, corrupted values.
#include <algorithm>
#include <thread>

#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

namespace {

// Five events: acme t1, beta t2, acme t3, acme t4, beta t5 (seqs 1..5).
std::unique_ptr<Log> FiveEvents(const std::string& dir) {
  auto log = OpenLog(dir);
  MustAppend(*log, Request("acme", {"t1"}));
  MustAppend(*log, Request("beta", {"t2"}));
  MustAppend(*log, Request("acme", {"t3", "t4"}));
  MustAppend(*log, Request("beta", {"t5"}));
  return log;
}

}  // namespace

TEST_CASE("Scan visits a seq range in order, to_seq 0 meaning the head", "[ledger][read]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  Seen all, mid;
  REQUIRE(log->Scan(0, 0, all.visitor()).ok());
  CHECK(all.seqs == std::vector<uint64_t>{1, 2, 3, 4, 5});
  CHECK(all.tasks == std::vector<std::string>{"t1", "t2", "t3", "t4", "t5"});
  REQUIRE(log->Scan(2, 4, mid.visitor()).ok());
  CHECK(mid.seqs == std::vector<uint64_t>{2, 3, 4});
  Seen beyond;
  REQUIRE(log->Scan(6, 0, beyond.visitor()).ok());
  CHECK(beyond.seqs.empty());
}

TEST_CASE("Scan stops when the visitor returns false", "[ledger][read]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  std::vector<uint64_t> seqs;
  REQUIRE(log->Scan(1, 0,
                    [&](const EventView& v) {
                      seqs.push_back(v.seq);
                      return v.seq < 2;
                    })
              .ok());
  CHECK(seqs == std::vector<uint64_t>{1, 2});
}

TEST_CASE("Scan with as_of_seq reads the log as if it ended there", "[ledger][read][asof]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  Seen seen;
  ReadOptions read;
  read.as_of_seq = 3;
  REQUIRE(log->Scan(1, 0, seen.visitor(), read).ok());
  CHECK(seen.seqs == std::vector<uint64_t>{1, 2, 3});
}

TEST_CASE("Scan with known_at_us skips events recorded after that time", "[ledger][read][asof]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  for (int i = 1; i <= 4; ++i) {
    MustAppend(*log, Request("acme", {"t" + std::to_string(i)}));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const std::vector<int64_t> recorded = RecordedTimes(*log);
  REQUIRE(recorded.size() == 4);
  REQUIRE(recorded[1] < recorded[2]);
  Seen seen;
  ReadOptions read;
  read.known_at_us = recorded[1];
  REQUIRE(log->Scan(1, 0, seen.visitor(), read).ok());
  CHECK(seen.seqs == std::vector<uint64_t>{1, 2});
}

TEST_CASE("a scan started before an append does not see it", "[ledger][read]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  std::vector<uint64_t> seqs;
  REQUIRE(log->Scan(1, 0,
                    [&](const EventView& v) {
                      if (v.seq == 1) MustAppend(*log, Request("acme", {"late"}));
                      seqs.push_back(v.seq);
                      return true;
                    })
              .ok());
  CHECK(seqs == std::vector<uint64_t>{1, 2, 3, 4, 5});
  CHECK(log->head_seq() == 6);
}

TEST_CASE("ReadStream visits one client's events by version range", "[ledger][read][stream]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  Seen all, range, tail;
  REQUIRE(log->ReadStream("acme", 1, 0, all.visitor()).ok());
  CHECK(all.seqs == std::vector<uint64_t>{1, 3, 4});
  CHECK(all.tasks == std::vector<std::string>{"t1", "t3", "t4"});
  REQUIRE(log->ReadStream("acme", 2, 2, range.visitor()).ok());
  CHECK(range.seqs == std::vector<uint64_t>{3});
  REQUIRE(log->ReadStream("beta", 0, 0, tail.visitor()).ok());
  CHECK(tail.seqs == std::vector<uint64_t>{2, 5});
}

TEST_CASE("ReadStream of a long stream crosses read chunks in order", "[ledger][read][stream]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  std::vector<std::string> tasks;
  for (int i = 0; i < 600; ++i) tasks.push_back("t" + std::to_string(i));
  MustAppend(*log, Request("acme", tasks));
  Seen seen;
  REQUIRE(log->ReadStream("acme", 1, 0, seen.visitor()).ok());
  CHECK(seen.tasks == tasks);
}

TEST_CASE("ReadStream honours as_of_seq and known_at_us", "[ledger][read][stream][asof]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  Seen as_of;
  ReadOptions read;
  read.as_of_seq = 3;
  REQUIRE(log->ReadStream("acme", 1, 0, as_of.visitor(), read).ok());
  CHECK(as_of.seqs == std::vector<uint64_t>{1, 3});

  const std::vector<int64_t> recorded = RecordedTimes(*log);
  Seen known;
  ReadOptions at;
  at.known_at_us = recorded[0];
  REQUIRE(log->ReadStream("acme", 1, 0, known.visitor(), at).ok());
  REQUIRE_FALSE(known.seqs.empty());
  for (uint64_t seq : known.seqs) CHECK(recorded[seq - 1] <= recorded[0]);
}

TEST_CASE("ReadStream of an unknown stream visits nothing", "[ledger][read][stream]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  Seen seen;
  REQUIRE(log->ReadStream("gamma", 1, 0, seen.visitor()).ok());
  CHECK(seen.seqs.empty());
  auto bad = log->ReadStream("Not Valid", 1, 0, seen.visitor());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Code::kInvalid);
}

TEST_CASE("Get returns the stored bytes and kNotFound beyond the head", "[ledger][read]") {
  TempDir tmp;
  auto log = FiveEvents(tmp.ledger());
  auto e3 = log->Get(3);
  REQUIRE(e3.ok());
  std::string task;
  REQUIRE(DecodeEvent(3, *e3, [&](schemas::Event::Reader e) {
            task = e.getBody().getWorkLogged().getTask();
          }).ok());
  CHECK(task == "t3");
  for (uint64_t seq : {uint64_t{0}, uint64_t{6}}) {
    auto missing = log->Get(seq);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == Code::kNotFound);
  }
}

TEST_CASE("stream_ids lists every stream once, sorted, system streams included",
          "[ledger][read][stream]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("beta", {"a"}));
  MustAppend(*log, Request("acme", {"a", "b"}));
  MustAppend(*log, Request("$catalog", {"a"}));
  MustAppend(*log, Request("acme", {"c"}));
  MustAppend(*log, Request("acme.eu", {"c"}));
  CHECK(log->stream_ids() == std::vector<std::string>{"$catalog", "acme", "acme.eu", "beta"});
  auto listed = log->ListStreams();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 4);
}

TEST_CASE("checkpoints are put, read back, survive a reopen and are dropped",
          "[ledger][checkpoints]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger());
    REQUIRE(log->PutCheckpoint("balances", std::string("state\0bytes", 11)).ok());
    REQUIRE(log->PutCheckpoint("invoices", "v1").ok());
    REQUIRE(log->PutCheckpoint("invoices", "v2").ok());
  }
  auto log = OpenLog(tmp.ledger());
  auto b = log->GetCheckpoint("balances");
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK(**b == std::string("state\0bytes", 11));
  CHECK(**log->GetCheckpoint("invoices") == "v2");
  REQUIRE(log->DropCheckpoints().ok());
  CHECK_FALSE(log->GetCheckpoint("balances")->has_value());
  CHECK_FALSE(log->GetCheckpoint("invoices")->has_value());
}

TEST_CASE("an unknown checkpoint reads as empty and an unnamed one is refused",
          "[ledger][checkpoints]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  auto c = log->GetCheckpoint("nothing");
  REQUIRE(c.ok());
  CHECK_FALSE(c->has_value());
  auto bad = log->PutCheckpoint("", "x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Code::kInvalid);
}

TEST_CASE("a corrupted stored value makes Scan fail with kCorruption naming its seq",
          "[ledger][read][corruption]") {
  TempDir tmp;
  FiveEvents(tmp.ledger()).reset();
  REQUIRE(raw::RawPut(tmp.ledger(), "events", raw::SeqKey(3), std::string(48, '\xff')).ok());
  auto log = OpenLog(tmp.ledger());
  std::vector<uint64_t> seqs;
  Status s = log->Scan(1, 0, [&](const EventView& v) {
    seqs.push_back(v.seq);
    return true;
  });
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 3);
  CHECK(seqs == std::vector<uint64_t>{1, 2});
}

TEST_CASE("a corrupted stored value makes ReadStream fail with kCorruption naming its seq",
          "[ledger][read][corruption]") {
  TempDir tmp;
  FiveEvents(tmp.ledger()).reset();
  // Seven bytes: not even a whole word.
  REQUIRE(raw::RawPut(tmp.ledger(), "events", raw::SeqKey(4), "garbage").ok());
  auto log = OpenLog(tmp.ledger());
  Seen seen;
  Status s = log->ReadStream("acme", 1, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 4);
  CHECK(seen.seqs == std::vector<uint64_t>{1, 3});
}

TEST_CASE("a deleted event makes Scan fail with kCorruption naming the missing seq",
          "[ledger][read][corruption]") {
  TempDir tmp;
  FiveEvents(tmp.ledger()).reset();
  REQUIRE(raw::RawDelete(tmp.ledger(), "events", raw::SeqKey(2)).ok());
  auto log = OpenLog(tmp.ledger());
  Seen seen;
  Status s = log->Scan(1, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 2);
  Seen stream;
  Status r = log->ReadStream("beta", 1, 0, stream.visitor());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kCorruption);
  CHECK(r.error().seq == 2);
}

TEST_CASE("a streams entry pointing at another client's event is kCorruption",
          "[ledger][read][corruption]") {
  TempDir tmp;
  FiveEvents(tmp.ledger()).reset();
  std::string seq2 = raw::SeqKey(2);  // beta's first event
  REQUIRE(raw::RawPut(tmp.ledger(), "streams", raw::StreamKey("acme", 2), seq2).ok());
  auto log = OpenLog(tmp.ledger());
  Seen seen;
  Status s = log->ReadStream("acme", 1, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 2);
  CHECK_THAT(s.error().message, Catch::Contains("belongs to 'beta'"));
}

TEST_CASE("new tables of the events column family are written with LZ4", "[ledger][read][format]") {
  TempDir tmp;
  FiveEvents(tmp.ledger()).reset();
  OpenLog(tmp.ledger(), Options{}).reset();  // the reopen flushes the recovered WAL to a table
  auto compressions = raw::RawTableCompressions(tmp.ledger(), "events");
  REQUIRE(compressions.ok());
  REQUIRE_FALSE(compressions->empty());
  for (const std::string& c : *compressions) CHECK(c == "LZ4");
}

TEST_CASE("a ledger whose events tables are snappy (older builds) reads, verifies and grows",
          "[ledger][read][format]") {
  TempDir tmp;
  FiveEvents(tmp.ledger()).reset();
  REQUIRE(raw::RawRewriteTablesWithDefaults(tmp.ledger(), "events").ok());
  auto before = raw::RawTableCompressions(tmp.ledger(), "events");
  REQUIRE(before.ok());
  REQUIRE(*before == std::vector<std::string>{"Snappy"});

  {
    auto log = OpenLog(tmp.ledger(), Options{});
    Seen seen;
    REQUIRE(log->Scan(0, 0, seen.visitor()).ok());
    CHECK(seen.tasks == std::vector<std::string>{"t1", "t2", "t3", "t4", "t5"});
    auto report = log->Verify();
    REQUIRE(report.ok());
    CHECK(report->ok);
    CHECK(report->events_checked == 5);
    MustAppend(*log, Request("acme", {"t6"}));
  }
  OpenLog(tmp.ledger(), Options{}).reset();  // flushes t6 into a new table
  auto after = raw::RawTableCompressions(tmp.ledger(), "events");
  REQUIRE(after.ok());
  std::vector<std::string> sorted = *after;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::string>{"LZ4", "Snappy"});

  auto log = OpenLog(tmp.ledger(), Options{});
  Seen seen;
  REQUIRE(log->Scan(0, 0, seen.visitor()).ok());
  CHECK(seen.tasks == std::vector<std::string>{"t1", "t2", "t3", "t4", "t5", "t6"});
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}
