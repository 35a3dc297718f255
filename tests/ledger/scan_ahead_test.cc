// Long scans (at least kLongScanEvents events) read on a second thread (ledger/scan_ahead.h):
// the same events, order, stops and errors as the serial scan of read_test.cc.
#include <thread>

#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

namespace {

constexpr uint64_t kEvents = 10000;  // > kLongScanEvents (4096), ~40 read-ahead chunks

Options Fast() {
  Options o = CreateOptions();
  o.durability = Durability::kNoSync;
  o.event_bytes_max = 1u << 20;
  return o;
}

// kEvents work entries "t1".."t10000" on two clients, in batches of 1000, a few ms apart so
// that each batch has its own recorded time.
void Fill(const std::string& dir) {
  auto log = OpenLog(dir, Fast());
  for (uint64_t b = 0; b < kEvents / 1000; ++b) {
    std::vector<std::string> tasks;
    for (uint64_t i = 1; i <= 1000; ++i) tasks.push_back("t" + std::to_string(b * 1000 + i));
    MustAppend(*log, Request(b % 2 == 0 ? "acme" : "beta", tasks));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> r;
  for (uint64_t s = from; s <= to; ++s) r.push_back(s);
  return r;
}

}  // namespace

TEST_CASE("a long scan visits every event once, in seq order, across read-ahead chunks",
          "[ledger][read][ahead]") {
  TempDir tmp;
  Fill(tmp.ledger());
  auto log = OpenLog(tmp.ledger(), Fast());
  Seen all;
  REQUIRE(log->Scan(0, 0, all.visitor()).ok());
  CHECK(all.seqs == Range(1, kEvents));
  REQUIRE(all.tasks.size() == kEvents);
  CHECK(all.tasks.front() == "t1");
  CHECK(all.tasks[4999] == "t5000");
  CHECK(all.tasks.back() == "t10000");
  Seen mid;
  REQUIRE(log->Scan(1500, 9000, mid.visitor()).ok());
  CHECK(mid.seqs == Range(1500, 9000));
  CHECK(mid.tasks.front() == "t1500");
}

TEST_CASE("a long scan stops where the visitor returns false, and scans again afterwards",
          "[ledger][read][ahead]") {
  TempDir tmp;
  Fill(tmp.ledger());
  auto log = OpenLog(tmp.ledger(), Fast());
  for (uint64_t stop_at : std::vector<uint64_t>{1, 256, 257, 5000, kEvents}) {
    uint64_t visited = 0, last = 0;
    REQUIRE(log->Scan(1, 0,
                      [&](const EventView& v) {
                        ++visited;
                        last = v.seq;
                        return v.seq < stop_at;
                      })
                .ok());
    CHECK(visited == stop_at);
    CHECK(last == stop_at);
  }
}

TEST_CASE("a long scan with known_at_us ends at the first event recorded after it",
          "[ledger][read][ahead][asof]") {
  TempDir tmp;
  Fill(tmp.ledger());
  auto log = OpenLog(tmp.ledger(), Fast());
  const std::vector<int64_t> recorded = RecordedTimes(*log);
  REQUIRE(recorded.size() == kEvents);
  REQUIRE(recorded[1999] < recorded[2000]);  // batches 2 and 3
  Seen seen;
  ReadOptions read;
  read.known_at_us = recorded[1999];
  REQUIRE(log->Scan(1, 0, seen.visitor(), read).ok());
  CHECK(seen.seqs == Range(1, 2000));
}

TEST_CASE("a deleted event in a long scan fails naming it, after every event before it",
          "[ledger][read][ahead][corruption]") {
  TempDir tmp;
  Fill(tmp.ledger());
  REQUIRE(raw::RawDelete(tmp.ledger(), "events", raw::SeqKey(6000)).ok());
  auto log = OpenLog(tmp.ledger(), Fast());
  Seen seen;
  Status s = log->Scan(1, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 6000);
  CHECK_THAT(s.error().message, Catch::Contains("event 6000 is missing: the log jumps from 5999 to 6001"));
  CHECK(seen.seqs == Range(1, 5999));
}

TEST_CASE("a long scan of a log whose last events are gone names the first missing seq",
          "[ledger][read][ahead][corruption]") {
  TempDir tmp;
  Fill(tmp.ledger());
  REQUIRE(raw::RawDelete(tmp.ledger(), "events", raw::SeqKey(kEvents)).ok());
  REQUIRE(raw::RawDelete(tmp.ledger(), "events", raw::SeqKey(kEvents - 1)).ok());
  auto log = OpenLog(tmp.ledger(), Fast());
  Seen seen;
  Status s = log->Scan(1, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == kEvents - 1);
  CHECK_THAT(s.error().message,
             Catch::Contains("the head is 10000 but the log ends at 9998"));
  CHECK(seen.seqs == Range(1, kEvents - 2));
}

TEST_CASE("a corrupted value in a long scan fails with kCorruption naming its seq",
          "[ledger][read][ahead][corruption]") {
  TempDir tmp;
  Fill(tmp.ledger());
  REQUIRE(raw::RawPut(tmp.ledger(), "events", raw::SeqKey(7001), std::string(48, '\xff')).ok());
  auto log = OpenLog(tmp.ledger(), Fast());
  Seen seen;
  Status s = log->Scan(1, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 7001);
  CHECK(seen.seqs == Range(1, 7000));
}

TEST_CASE("events larger than a read-ahead chunk are read whole among small ones",
          "[ledger][read][ahead]") {
  TempDir tmp;
  const std::string big(300 * 1024, 'x');   // > kAheadChunkBytes (64 KiB): a chunk of its own
  const std::string large(40 * 1024, 'y');   // fits a chunk, but not two of them
  {
    auto log = OpenLog(tmp.ledger(), Fast());
    for (uint64_t i = 1; i <= 5000; ++i) {
      // 10: big; 11, 12: large (the second does not fit after the first); 4000: big.
      const std::string task = (i == 10 || i == 4000) ? big
                               : (i == 11 || i == 12) ? large
                                                      : "t" + std::to_string(i);
      MustAppend(*log, Request("acme", {task}));
    }
  }
  auto log = OpenLog(tmp.ledger(), Fast());
  Seen seen;
  REQUIRE(log->Scan(1, 0, seen.visitor()).ok());
  REQUIRE(seen.seqs == Range(1, 5000));
  CHECK(seen.tasks[9] == big);
  CHECK(seen.tasks[10] == large);
  CHECK(seen.tasks[11] == large);
  CHECK(seen.tasks[3999] == big);
  CHECK(seen.tasks[12] == "t13");
  CHECK(seen.tasks[4999] == "t5000");
}

TEST_CASE("a visitor that appends to the log during a long scan does not deadlock it",
          "[ledger][read][ahead]") {
  TempDir tmp;
  Fill(tmp.ledger());
  auto log = OpenLog(tmp.ledger(), Fast());
  uint64_t visited = 0;
  REQUIRE(log->Scan(1, 0,
                    [&](const EventView& v) {
                      if (v.seq % 2500 == 0) MustAppend(*log, Request("acme", {"late"}));
                      ++visited;
                      return true;
                    })
              .ok());
  CHECK(visited == kEvents);  // the scan's snapshot: the appends come after it
  CHECK(log->head_seq() == kEvents + 4);
}
