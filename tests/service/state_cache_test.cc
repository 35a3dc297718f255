// The server's state cache shares one month evaluation per unchanged client (StateCache::
// Evaluation): a balance read then costs no month evaluation, and an event makes the next read
// evaluate again.
#include <catch2/catch.hpp>

#include "service/operations.h"
#include "service/session.h"
#include "service/state_cache.h"
#include "tests/service/kit_client.h"
#include "tests/service/temp_ledger.h"

namespace hourbank::service {
namespace {

constexpr int64_t kNowUs = 1773136800000000;  // 2026-03-10T10:00Z
constexpr uint32_t kMarch = 202603;

using testing::KitClient;  // client "k" on kit-hours-15 (900 minutes a month) from March 2026

void Log(Session& s, int64_t minutes) {
  REQUIRE(testing::LogKit(s, minutes, "2026-03-09T10:00").ok());
}

TEST_CASE("reads of an unchanged client share one month evaluation") {
  TempLedger t;
  StateCache cache;
  Session s(t.session().log(), &cache, kNowUs);
  KitClient(s);
  Log(s, 90);
  auto snap = s.LoadSnapshotAt("k", {});
  REQUIRE(snap.ok());
  const SharedEval a = s.Evaluation(snap.value().state, kMarch);
  const SharedEval b = s.Evaluation(s.LoadSnapshotAt("k", {}).value().state, kMarch);
  CHECK(a.get() == b.get());  // the second read evaluated nothing
  CHECK(a->used_minutes == 90);
  CHECK(a->allowance_used_minutes == 90);  // of the 900 included
  CHECK(a->invoice.total_minor == snap.value().state->Evaluate(kMarch).invoice.total_minor);
}

TEST_CASE("an event makes the next read evaluate the client again") {
  TempLedger t;
  StateCache cache;
  Session s(t.session().log(), &cache, kNowUs);
  KitClient(s);
  Log(s, 90);
  const SharedEval before = s.Evaluation(s.LoadSnapshotAt("k", {}).value().state, kMarch);
  Log(s, 30);
  const SharedEval after = s.Evaluation(s.LoadSnapshotAt("k", {}).value().state, kMarch);
  CHECK(after.get() != before.get());
  CHECK(before->used_minutes == 90);  // what an earlier read holds does not change
  CHECK(after->used_minutes == 120);  // 90 + 30
}

TEST_CASE("another month, or a state the cache does not hold, is evaluated for the read") {
  TempLedger t;
  StateCache cache;
  Session s(t.session().log(), &cache, kNowUs);
  KitClient(s);
  Log(s, 90);
  const Snapshot snap = s.LoadSnapshotAt("k", {}).value().state;
  const SharedEval march = s.Evaluation(snap, kMarch);
  const SharedEval april = s.Evaluation(snap, 202604);
  CHECK(april->month == 202604);
  CHECK(april->used_minutes == 0);
  CHECK(s.Evaluation(snap, kMarch).get() != march.get());  // only the last month asked is kept
  // An as-of read gets its own state: evaluated each time, never mixed with the cached one.
  const Snapshot then =
      s.LoadSnapshotAt("k", {"2026-03-08", "", "--as-of", "--known-at"}).value().state;
  const SharedEval x = s.Evaluation(then, kMarch), y = s.Evaluation(then, kMarch);
  CHECK(x.get() != y.get());
  CHECK(x->used_minutes == 0);  // the work was logged on the 9th
}

// A session with a state cache over client "k", 90 minutes logged on March 9th.
struct CachedKit {
  TempLedger t;
  StateCache cache;
  Session s{t.session().log(), &cache, kNowUs};
  CachedKit() {
    KitClient(s);
    Log(s, 90);
  }
  uint64_t Head() { return t.session().log().HeadSeqInMemory().value(); }
};

// Session::CachedAt is what the server's loop thread answers balance reads from (serve.cc
// AnswerOnLoop): only a snapshot a read caught up at the log's current head, with its month.
TEST_CASE("a cached read is offered only while the log's head is the one it was caught up at") {
  CachedKit k;
  Session& s = k.s;
  const uint64_t head = k.Head();
  CHECK_FALSE(s.CachedAt("k", head));  // nothing read yet
  const Snapshot snap = s.LoadSnapshotAt("k", {}).value().state;
  CHECK_FALSE(s.CachedAt("k", head));  // caught up, but the month is not evaluated yet
  const SharedEval eval = s.Evaluation(snap, kMarch);
  auto read = s.CachedAt("k", head);
  REQUIRE(read);
  CHECK(read->state.get() == snap.get());
  CHECK(read->eval.get() == eval.get());
  CHECK(read->at_us == kNowUs);
  CHECK_FALSE(s.CachedAt("k", head + 1));  // another head: not known to be current
  CHECK_FALSE(s.CachedAt("nobody", head));

  Log(s, 30);  // the head moves: the cached snapshot is no longer offered
  const uint64_t later = k.Head();
  CHECK(later > head);
  CHECK_FALSE(s.CachedAt("k", later));
  const Snapshot caught = s.LoadSnapshotAt("k", {}).value().state;  // a worker's read
  CHECK(s.Evaluation(caught, kMarch)->used_minutes == 120);
  read = s.CachedAt("k", later);
  REQUIRE(read);
  CHECK(read->state.get() == caught.get());
  CHECK(read->eval->used_minutes == 120);  // the read after the write sees it
}

TEST_CASE("a cached read is not offered in another month than the one evaluated") {
  CachedKit k;
  Session& s = k.s;
  const uint64_t head = k.Head();
  const Snapshot snap = s.LoadSnapshotAt("k", {}).value().state;
  (void)s.Evaluation(snap, 202604);  // April evaluated; now is in March
  CHECK_FALSE(s.CachedAt("k", head));
  (void)s.Evaluation(snap, kMarch);
  CHECK(s.CachedAt("k", head));
}

TEST_CASE("a snapshot replaced in the cache is not marked current") {
  CachedKit k;
  Session& s = k.s;
  const Snapshot old_snap = s.LoadSnapshotAt("k", {}).value().state;
  Log(s, 30);
  const uint64_t head = k.Head();
  const Snapshot fresh = s.LoadSnapshotAt("k", {}).value().state;
  (void)s.Evaluation(fresh, kMarch);
  k.cache.MarkCurrent(old_snap, head + 5);  // a slow reader's older snapshot: ignored
  CHECK_FALSE(k.cache.CurrentAt("k", head + 5));
  auto current = k.cache.CurrentAt("k", head);
  REQUIRE(current);
  CHECK(current->state.get() == fresh.get());
}

}  // namespace
}  // namespace hourbank::service
