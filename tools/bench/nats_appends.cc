// hourbank-bench appends: durable single-event appends from 1 and 8 writers (one client each)
// on a ledger directory and on a NATS JetStream ledger with 1, 2 and 4 partition streams, in one
// run, side by side (docs/performance.md, "Appends: directory vs NATS").
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "ledger/log.h"
#include "tools/bench/bench.h"

namespace hourbank::bench {

namespace {

struct Row {
  uint64_t appends = 0;
  double seconds = 0, p50_us = 0, p99_us = 0;
  bool failed = false;
};

double At(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

ledger::AppendRequest OneWork(const std::string& client, uint64_t i) {
  ledger::AppendRequest req;
  req.client_id = client;
  ledger::EventDraft d;
  d.root().setEffectiveAtUs(int64_t(1700000000) * 1000000 + int64_t(i));
  d.root().setActor("bench");
  auto w = d.root().initBody().initWorkLogged();
  w.setKind("support");
  w.setTask(fmt::format("A-{}", i));
  w.setMinutes(30);
  req.events.push_back(std::move(d));
  return req;
}

// `writers` threads append one event at a time to their own client for `seconds`.
Row Measure(ledger::Log& log, uint32_t writers, double seconds) {
  std::vector<std::vector<double>> lat(writers);
  std::atomic<bool> failed{false};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < writers; ++t)
    pool.emplace_back([&, t] {
      const std::string client = fmt::format("writer-{:02}", t);
      for (uint64_t i = 0; i < 1000000 && SecondsSince(t0) < seconds && !failed; ++i) {
        const auto a = std::chrono::steady_clock::now();
        if (!log.Append(OneWork(client, i)).ok()) failed = true;
        lat[t].push_back(SecondsSince(a) * 1e6);
      }
    });
  for (auto& th : pool) th.join();
  Row r;
  r.seconds = SecondsSince(t0);
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  r.appends = all.size();
  r.p50_us = At(all, 0.5);
  r.p99_us = At(all, 0.99);
  r.failed = failed;
  return r;
}

void Print(const std::string& backend, uint32_t writers, const Row& r) {
  std::printf("| %-34s | %7u | %9.0f | %8.0f | %8.0f |%s\n", backend.c_str(), writers,
              double(r.appends) / r.seconds, r.p50_us, r.p99_us, r.failed ? " FAILED" : "");
  std::fflush(stdout);
}

}  // namespace

int NatsAppends(const NatsAppendsOptions& o) {
  std::printf("| %-34s | %7s | %9s | %8s | %8s |\n", "log", "writers", "appends/s", "p50 us",
              "p99 us");
  std::printf("|%s|---------|-----------|----------|----------|\n", std::string(36, '-').c_str());
  int run = 0;
  for (uint32_t writers : o.writers) {
    const std::string dir = fmt::format("{}/dir-{}", o.work_dir, ++run);
    auto log = ledger::Log::Open(dir, {.create_if_missing = true});
    if (!log.ok()) {
      std::fprintf(stderr, "hourbank-bench appends: %s\n", log.error().message.c_str());
      return 1;
    }
    Print("directory (fsync per group)", writers, Measure(**log, writers, o.seconds));
  }
  if (o.nats_url.empty()) return 0;
  for (uint32_t partitions : o.partitions)
    for (uint32_t writers : o.writers) {
      ledger::Options opt;
      opt.create_if_missing = true;
      opt.error_if_exists = true;
      opt.ledger_name = fmt::format("bench{}-{}-{}", ::getpid(), partitions, writers);
      opt.nats_partitions = partitions;
      auto log = ledger::Log::Open(o.nats_url, opt);
      if (!log.ok()) {
        std::fprintf(stderr, "hourbank-bench appends: %s\n", log.error().message.c_str());
        return 1;
      }
      Print(fmt::format("nats, {} partition(s)", partitions), writers,
            Measure(**log, writers, o.seconds));
    }
  return 0;
}

namespace {

// `writers` threads append `per_writer` single events each to their own client.
bool Load(ledger::Log& log, uint32_t writers, uint64_t per_writer) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < writers; ++t)
    pool.emplace_back([&, t] {
      const std::string client = fmt::format("writer-{:02}", t);
      for (uint64_t i = 0; i < per_writer && !failed; ++i)
        if (!log.Append(OneWork(client, i)).ok()) failed = true;
    });
  for (auto& th : pool) th.join();
  return !failed;
}

// Seconds until a fresh store at `store` has applied `messages` messages of ledger `ledger`.
Result<double> CatchUp(const std::string& url, const std::string& ledger, const std::string& store,
                       uint64_t messages) {
  ledger::Options opt;
  opt.ledger_name = ledger;
  opt.nats_follow_store = store;
  const auto t0 = std::chrono::steady_clock::now();
  auto node = ledger::Log::Open(url, opt);
  if (!node.ok()) return node.error();
  for (int i = 0; i < 600000; ++i) {  // bounded: 10 min
    uint64_t applied = 0;
    for (const auto& f : (*node)->follow_status()) applied += f.applied_seq;
    if (applied >= messages) return SecondsSince(t0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Error::Io("the store did not catch up in 10 minutes");
}

}  // namespace

int FollowBench(const FollowBenchOptions& o) {
  const uint32_t writers = 8;
  const uint64_t per_writer = o.events / writers;
  auto dir = ledger::Log::Open(o.work_dir + "/dir", {.create_if_missing = true});
  ledger::Options opt;
  opt.create_if_missing = true;
  opt.error_if_exists = true;
  opt.ledger_name = fmt::format("follow{}", ::getpid());
  opt.nats_partitions = 2;
  auto nats = ledger::Log::Open(o.nats_url, opt);
  for (auto* r : {&dir, &nats})
    if (!r->ok()) {
      std::fprintf(stderr, "hourbank-bench follow: %s\n", r->error().message.c_str());
      return 1;
    }
  if (!Load(**dir, writers, per_writer) || !Load(**nats, writers, per_writer)) {
    std::fprintf(stderr, "hourbank-bench follow: loading failed\n");
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t read = 0;
  Status scan = (*dir)->Scan(1, 0, [&](const ledger::EventView&) { return ++read > 0; });
  const double dir_s = SecondsSince(t0);
  auto follow_s =
      CatchUp(o.nats_url, opt.ledger_name, o.work_dir + "/store", uint64_t{writers} * per_writer);
  if (!scan.ok() || !follow_s.ok()) {
    std::fprintf(stderr, "hourbank-bench follow: %s\n",
                 (!scan.ok() ? scan.error() : follow_s.error()).message.c_str());
    return 1;
  }
  std::printf("events: %llu (8 clients, 1 event per append; NATS: 2 streams)\n",
              static_cast<unsigned long long>(read));
  std::printf("fresh store catching up from the cluster: %.2f s (%.0f events/s)\n", *follow_s,
              double(read) / *follow_s);
  std::printf("full read of the ledger directory:        %.2f s (%.0f events/s)\n", dir_s,
              double(read) / dir_s);
  std::printf("ratio: %.1fx\n", *follow_s / dir_s);
  return 0;
}

}  // namespace hourbank::bench
