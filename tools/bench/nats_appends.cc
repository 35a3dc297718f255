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

}  // namespace hourbank::bench
