// Verify: the hash chain and the indexes catch tampering and name the first bad seq.
#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

namespace {

// Six events over two streams (tasks task-1 … task-6), the last two under key "k-56".
void SixEvents(const std::string& dir) {
  auto log = OpenLog(dir);
  MustAppend(*log, Request("acme", {"task-1", "task-2"}));
  MustAppend(*log, Request("beta", {"task-3"}));
  MustAppend(*log, Request("acme", {"task-4"}));
  MustAppend(*log, Request("beta", {"task-5", "task-6"}, "k-56"));
}

VerifyReport VerifyOf(const std::string& dir) {
  auto log = OpenLog(dir, Options{});
  auto report = log->Verify();
  if (!report.ok()) FAIL("verify failed to run: " << report.error().message);
  return *report;
}

// Changes one byte of `needle` inside the stored value of `seq`.
void ChangeByte(const std::string& dir, uint64_t seq, const std::string& needle) {
  auto value = raw::RawGet(dir, "events", raw::SeqKey(seq));
  REQUIRE(value.ok());
  REQUIRE(value->has_value());
  std::string bytes = **value;
  size_t at = bytes.find(needle);
  REQUIRE(at != std::string::npos);
  bytes[at + needle.size() - 1] ^= 0x01;
  REQUIRE(raw::RawPut(dir, "events", raw::SeqKey(seq), bytes).ok());
}

}  // namespace

TEST_CASE("Verify accepts an untouched ledger and recomputes its head hash", "[ledger][verify]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  auto log = OpenLog(tmp.ledger(), Options{});
  uint64_t last_done = 0, last_total = 0;
  auto report = log->Verify([&](uint64_t done, uint64_t total) {
    last_done = done;
    last_total = total;
  });
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->events_checked == 6);
  CHECK(report->first_bad_seq == 0);
  CHECK(report->problem.empty());
  CHECK(report->head_hash == log->head_hash());
  CHECK(last_done == 6);
  CHECK(last_total == 6);
}

TEST_CASE("Verify of an empty ledger is ok", "[ledger][verify]") {
  TempDir tmp;
  OpenLog(tmp.ledger()).reset();
  auto report = VerifyOf(tmp.ledger());
  CHECK(report.ok);
  CHECK(report.events_checked == 0);
}

TEST_CASE("a changed byte in a stored event breaks the chain and Verify names its seq",
          "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  ChangeByte(tmp.ledger(), 3, "task-3");
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 3);
  CHECK_THAT(report.problem, Catch::Contains("event 3"));
}

TEST_CASE("a changed byte in the head event is caught against the head hash in meta",
          "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  ChangeByte(tmp.ledger(), 6, "task-6");
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 6);
}

TEST_CASE("a changed byte in the first event is named as seq 1", "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  ChangeByte(tmp.ledger(), 1, "task-1");
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 1);
}

TEST_CASE("a changed prevHash byte is blamed on the event that carries it",
          "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  auto value = raw::RawGet(tmp.ledger(), "events", raw::SeqKey(4));
  REQUIRE(value.ok());
  std::string prev_hash;
  REQUIRE(DecodeEvent(4, **value, [&](schemas::Event::Reader e) {
            prev_hash.assign(reinterpret_cast<const char*>(e.getPrevHash().begin()), 32);
          }).ok());
  ChangeByte(tmp.ledger(), 4, prev_hash);
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 4);
}

TEST_CASE("a deleted event is detected and named", "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  REQUIRE(raw::RawDelete(tmp.ledger(), "events", raw::SeqKey(3)).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 3);
  CHECK_THAT(report.problem, Catch::Contains("missing"));
}

TEST_CASE("a deleted head event is detected against the head in meta", "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  REQUIRE(raw::RawDelete(tmp.ledger(), "events", raw::SeqKey(6)).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 6);
  CHECK_THAT(report.problem, Catch::Contains("missing"));
}

TEST_CASE("two swapped events are detected at the first of them", "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  auto a = raw::RawGet(tmp.ledger(), "events", raw::SeqKey(2));
  auto b = raw::RawGet(tmp.ledger(), "events", raw::SeqKey(3));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(raw::RawPut(tmp.ledger(), "events", raw::SeqKey(2), **b).ok());
  REQUIRE(raw::RawPut(tmp.ledger(), "events", raw::SeqKey(3), **a).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 2);
  CHECK_THAT(report.problem, Catch::Contains("carries seq 3"));
}

TEST_CASE("an undecodable event is reported by Verify, not a crash", "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  REQUIRE(raw::RawPut(tmp.ledger(), "events", raw::SeqKey(5), std::string(40, '\x7f')).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 5);
}

TEST_CASE("a rewritten head hash in meta is detected", "[ledger][verify][tamper]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  REQUIRE(raw::RawPut(tmp.ledger(), "meta", "head_hash", std::string(32, 'x')).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 6);
}

TEST_CASE("a missing streams index entry is detected and names the event",
          "[ledger][verify][index]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  // acme version 3 (event 4) has a record of its own (acme 1..2 share one since format 2).
  REQUIRE(raw::RawDelete(tmp.ledger(), "streams", raw::StreamKey("acme", 3)).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 4);
  CHECK_THAT(report.problem, Catch::Contains("streams index"));
}

TEST_CASE("an extra streams index entry is detected", "[ledger][verify][index]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  REQUIRE(raw::RawPut(tmp.ledger(), "streams", raw::StreamKey("acme", 4), raw::SeqKey(5)).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK_THAT(report.problem, Catch::Contains("streams index"));
}

TEST_CASE("a keys index entry pointing at events without that key is detected",
          "[ledger][verify][index]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  std::string value = raw::SeqKey(1) + std::string("\0\0\0\1", 4) + std::string(32, '\0');
  REQUIRE(raw::RawPut(tmp.ledger(), "keys", "forged", value).ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 1);
  CHECK_THAT(report.problem, Catch::Contains("keys index"));
}

TEST_CASE("a deleted keys index entry is detected at the events that carry the key",
          "[ledger][verify][index]") {
  TempDir tmp;
  SixEvents(tmp.ledger());
  REQUIRE(raw::RawDelete(tmp.ledger(), "keys", "k-56").ok());
  auto report = VerifyOf(tmp.ledger());
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 5);
  CHECK_THAT(report.problem, Catch::Contains("keys index"));
}
