// hourbank-bench: the rebuild every rebuild row measures (the fold `hourbank rebuild` runs),
// and the process's peak memory.
#include <fstream>
#include <string>

#include "projections/client_fold.h"
#include "tools/bench/bench.h"

namespace hourbank::bench {

Result<RebuildResult> Rebuild(const ledger::Log& log) {
  RebuildResult r;
  const auto t0 = std::chrono::steady_clock::now();
  // As `hourbank rebuild` (tools/hourbank/cli/cmd_read.cc): one scan, one ClientState per client.
  projections::ClientFold fold({.retain_entries = false});
  Status st = log.Scan(1, 0, [&](const ledger::EventView& v) {
    ++r.events;
    r.event_bytes += v.bytes.size();
    fold.Apply(v.seq, v.event);
    return true;
  });
  if (!st.ok()) return st.error();
  r.seconds = SecondsSince(t0);
  r.states = fold.Take();
  return r;
}

uint64_t PeakRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

}  // namespace hourbank::bench
