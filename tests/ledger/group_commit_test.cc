// Group commit: concurrent appenders share WriteBatches and fsyncs without losing anything.
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

TEST_CASE("8 threads x 1000 appends lose nothing, keep per-client order and share fsyncs",
          "[ledger][group]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  constexpr int kThreads = 8, kAppends = 1000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string client = "client-" + std::to_string(t);
      for (int i = 0; i < kAppends; ++i) {
        // The expected version makes any reordering or loss within a client a conflict.
        auto r = log->Append(Request(client, {std::to_string(i)}, "", static_cast<uint32_t>(i)));
        if (!r.ok() || r->stream_version != static_cast<uint32_t>(i + 1)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(log->head_seq() == kThreads * kAppends);
  auto st = log->stats();
  CHECK(st.append_requests == kThreads * kAppends);
  CHECK(st.events_appended == kThreads * kAppends);
  CHECK(st.fsyncs == st.write_groups);
  CHECK(st.fsyncs < kThreads * kAppends);
  CHECK(st.group_requests_max > 1);
  for (int t = 0; t < kThreads; ++t) {
    std::string client = "client-" + std::to_string(t);
    CHECK(log->stream_version(client) == kAppends);
    Seen seen;
    REQUIRE(log->ReadStream(client, 1, 0, seen.visitor()).ok());
    REQUIRE(seen.tasks.size() == kAppends);
    bool in_order = true;
    for (int i = 0; i < kAppends; ++i) in_order = in_order && seen.tasks[i] == std::to_string(i);
    CHECK(in_order);
  }
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->events_checked == kThreads * kAppends);
}

TEST_CASE("of concurrent appends expecting the same version exactly one wins",
          "[ledger][group][concurrency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  constexpr int kThreads = 8;
  std::atomic<int> won{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = log->Append(Request("shared", {"by-" + std::to_string(t)}, "", 0u));
      if (r.ok()) {
        ++won;
      } else if (r.error().code == Code::kConflict && r.error().current_version == 1) {
        ++conflicts;
      } else {
        ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(won == 1);
  CHECK(conflicts == kThreads - 1);
  CHECK(other == 0);
  CHECK(log->head_seq() == 1);
}

TEST_CASE("concurrent retries of one idempotent request write it once",
          "[ledger][group][idempotency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  constexpr int kThreads = 8, kRounds = 20;
  std::atomic<int> fresh{0}, replayed{0}, failed{0};
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> threads;
    std::string key = "key-" + std::to_string(round);
    std::atomic<uint64_t> first_seq{0};
    std::atomic<int> mismatched{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        auto r = log->Append(Request("acme", {"same"}, key));
        if (!r.ok()) {
          ++failed;
          return;
        }
        (r->replayed ? replayed : fresh)++;
        uint64_t expected = 0;
        if (!first_seq.compare_exchange_strong(expected, r->first_seq) &&
            expected != r->first_seq) {
          ++mismatched;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(mismatched == 0);
  }
  CHECK(failed == 0);
  CHECK(fresh == kRounds);
  CHECK(replayed == kRounds * (kThreads - 1));
  CHECK(log->head_seq() == kRounds);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("a writer that fails its check is left out while the rest of its group is written",
          "[ledger][group][concurrency]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  constexpr int kThreads = 8, kAppends = 200;
  std::atomic<int> ok{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        // Odd threads always expect a version their stream never has.
        std::optional<uint32_t> expected;
        if (t % 2 == 1) expected = 1000000;
        auto r = log->Append(Request("c" + std::to_string(t), {"x"}, "", expected));
        if (r.ok()) {
          ++ok;
        } else if (r.error().code == Code::kConflict) {
          ++conflicts;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == kThreads / 2 * kAppends);
  CHECK(conflicts == kThreads / 2 * kAppends);
  CHECK(other == 0);
  CHECK(log->head_seq() == kThreads / 2 * kAppends);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("when a group's write fails every writer in it gets kIo and nothing advances",
          "[ledger][group][failure]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  constexpr int kThreads = 8;
  log->InjectWriteFailuresForTesting(3);
  std::atomic<int> ok{0}, io{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto r = log->Append(Request("c" + std::to_string(t), {"x"}));
        if (r.ok()) {
          ++ok;
        } else if (r.error().code == Code::kIo) {
          ++io;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(io >= 3);
  CHECK(other == 0);
  CHECK(ok + io == kThreads * 20);
  // Only acknowledged appends are in the log, and the chain and indexes agree.
  CHECK(log->head_seq() == static_cast<uint64_t>(ok.load()));
  CHECK(log->stats().events_appended == static_cast<uint64_t>(ok.load()));
  uint32_t versions = 0;
  for (int t = 0; t < kThreads; ++t) versions += log->stream_version("c" + std::to_string(t));
  CHECK(versions == static_cast<uint32_t>(ok.load()));
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

// One acknowledged append of the test below: its answer and when it was called and answered,
// as tickets of one counter shared by all threads (a total order of calls and answers).
struct Ack {
  uint64_t called = 0, answered = 0, seq = 0;
  std::string client, task;
};

TEST_CASE(
    "acknowledged concurrent appends are in the reopened log, in the order they were "
    "answered",
    "[ledger][group][concurrency]") {
  TempDir tmp;
  constexpr int kThreads = 8, kAppends = 300;
  std::vector<std::vector<Ack>> acks(kThreads);
  {
    auto log = OpenLog(tmp.ledger());
    std::atomic<uint64_t> ticket{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kAppends; ++i) {
          Ack a{.client = "client-" + std::to_string(t), .task = std::to_string(i)};
          a.called = ticket++;
          auto r = log->Append(Request(a.client, {a.task}));
          a.answered = ticket++;
          if (!r.ok() || r->count != 1) {
            ++failures;
            continue;
          }
          a.seq = r->first_seq;
          acks[size_t(t)].push_back(std::move(a));
        }
      });
    }
    for (auto& th : threads) th.join();
    REQUIRE(failures == 0);
  }
  auto log = OpenLog(tmp.ledger(), Options{});
  std::map<uint64_t, std::pair<std::string, std::string>> stored;  // seq -> client, task
  REQUIRE(log->Scan(1, 0,
                    [&](const EventView& v) {
                      stored[v.seq] = {v.event.getClientId().cStr(),
                                       v.event.getBody().getWorkLogged().getTask().cStr()};
                      return true;
                    })
              .ok());
  CHECK(stored.size() == size_t(kThreads) * kAppends);
  std::vector<const Ack*> all;
  int missing = 0;
  for (const auto& per_thread : acks) {
    for (const Ack& a : per_thread) {
      auto it = stored.find(a.seq);
      if (it == stored.end() || it->second != std::make_pair(a.client, a.task)) ++missing;
      all.push_back(&a);
    }
  }
  CHECK(missing == 0);
  // An append called after another was answered comes after it in the log.
  std::sort(all.begin(), all.end(), [](auto* x, auto* y) { return x->answered < y->answered; });
  std::vector<const Ack*> by_call = all;
  std::sort(by_call.begin(), by_call.end(), [](auto* x, auto* y) { return x->called < y->called; });
  uint64_t max_seq_answered = 0;
  size_t answered = 0;
  int out_of_order = 0;
  for (const Ack* b : by_call) {
    while (answered < all.size() && all[answered]->answered < b->called) {
      max_seq_answered = std::max(max_seq_answered, all[answered]->seq);
      ++answered;
    }
    if (b->seq <= max_seq_answered) ++out_of_order;
  }
  CHECK(out_of_order == 0);
  auto report = log->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
}
