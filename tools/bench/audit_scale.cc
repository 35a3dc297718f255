// hourbank-bench audit: how `hourbank audit` scales with the size of the ledger (issue 14.15).
//
// For each size: a ledger generated as `generate` does (reused when the directory already
// holds one of that size), then, best of --repeat runs each:
//   open     - Log::Open read-only, in process (what every command pays first: the WAL is
//              replayed into memory; bounded by the ledger's WAL size limit, not by the log);
//   rebuild  - the fold `hourbank rebuild` runs (one Scan, every client's state), in process;
//   verify   - Log::Verify() alone (chain, head, streams and keys indexes), in process;
//   audit    - the real `hourbank --ledger DIR audit --json`, as a child process (open, then
//              one pass that verifies and replays every client, checkpoint checks), wall time.
// Prints one row per size: rates, audit rate / rebuild rate, and the time growth against the
// size growth from the previous row (1.0 = linear). Timing is reported, never asserted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "tools/bench/bench.h"
#include "tools/bench/run.h"

namespace hourbank::bench {

int AuditScale(const AuditScaleOptions& o) {
  namespace fs = std::filesystem;
  std::printf("%s\n",
              fmt::format("{:>10} {:>8} {:>10} {:>12} {:>10} {:>12} {:>10} {:>12} {:>13} {:>10}",
                          "events", "open s", "rebuild s", "rebuild ev/s", "verify s",
                          "verify ev/s", "audit s", "audit ev/s", "audit/rebuild", "growth")
                  .c_str());
  double prev_events = 0, prev_audit = 0;
  for (uint64_t size : o.sizes) {
    const std::string dir = fmt::format("{}/ledger-{}", o.work_dir, size);
    if (!fs::exists(dir + "/CURRENT")) {
      GenerateOptions g;
      g.ledger_dir = dir;
      g.plans_dir = o.plans_dir;
      g.events = size;
      g.clients = o.clients;
      g.months = static_cast<uint32_t>(
          std::clamp<uint64_t>(size / (uint64_t{o.clients} * 140) + 2, 12, 600));
      auto rep = Generate(g);
      if (!rep.ok()) {
        std::fprintf(stderr, "hourbank-bench audit: generate %s: %s\n", dir.c_str(),
                     rep.error().message.c_str());
        return 1;
      }
      std::fprintf(stderr, "generated %lu events in %.1f s\n",
                   static_cast<unsigned long>(rep->events), rep->seconds);
    }
    double open_s = 1e18, rebuild_s = 1e18, verify_s = 1e18, audit_s = 1e18;
    uint64_t events = 0;
    for (uint32_t rep = 0; rep < o.repeat; ++rep) {
      {
        ledger::Options ro;
        ro.read_only = true;
        const auto t_open = std::chrono::steady_clock::now();
        auto log = ledger::Log::Open(dir, ro);
        open_s = std::min(open_s, SecondsSince(t_open));
        if (!log.ok()) {
          std::fprintf(stderr, "hourbank-bench audit: %s\n", log.error().message.c_str());
          return 1;
        }
        auto rb = Rebuild(**log);
        if (!rb.ok()) {
          std::fprintf(stderr, "hourbank-bench audit: rebuild: %s\n", rb.error().message.c_str());
          return 1;
        }
        rebuild_s = std::min(rebuild_s, rb->seconds);
        events = rb->events;
        const auto t0 = std::chrono::steady_clock::now();
        auto v = (*log)->Verify();
        const double s = SecondsSince(t0);
        if (!v.ok() || !v->ok) {
          std::fprintf(stderr, "hourbank-bench audit: verify failed\n");
          return 1;
        }
        verify_s = std::min(verify_s, s);
      }
      ProcessResult p = RunProcess({o.hourbank_exe, "--ledger", dir, "audit", "--json"});
      if (p.exit_code != 0) {
        std::fprintf(stderr, "hourbank-bench audit: `hourbank audit` exited %d: %s\n", p.exit_code,
                     p.out.c_str());
        return 1;
      }
      audit_s = std::min(audit_s, p.seconds);
    }
    const double n = double(events);
    const std::string growth =
        prev_events > 0 ? fmt::format("{:.2f}", (audit_s / prev_audit) / (n / prev_events)) : "-";
    std::printf("%s\n",
                fmt::format("{:>10} {:>8.3f} {:>10.3f} {:>12.0f} {:>10.3f} {:>12.0f} {:>10.3f} "
                            "{:>12.0f} {:>13.2f} {:>10}",
                            events, open_s, rebuild_s, n / rebuild_s, verify_s, n / verify_s,
                            audit_s, n / audit_s, (n / audit_s) / (n / rebuild_s), growth)
                    .c_str());
    std::fflush(stdout);
    prev_events = n;
    prev_audit = audit_s;
  }
  return 0;
}

}  // namespace hourbank::bench
