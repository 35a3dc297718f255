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

}  // namespace
}  // namespace hourbank::service
