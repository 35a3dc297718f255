// hourbank-bench run and its helper child (rebuild-once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/bench/bench.h"

namespace hourbank::bench {

struct RunOptions {
  uint64_t events = 100000;
  uint32_t clients = 50;
  uint32_t months = 12;
  bool quick = false;
  bool json = false;
  bool peers = true;  // --no-peers: ours only (the smoke test)
  bool keep = false;  // keep the work dir
  std::string work_dir;
  std::string plans_dir;
  std::string hourbank_exe;
};
// Prints the table (or JSON) on stdout; returns the exit code.
int RunBench(const RunOptions& options);
// Rebuilds `ledger_dir` (`repeat` times: profiling) and prints
// {"events","clients","seconds","peak_rss_kib"}.
int RebuildOnce(const std::string& ledger_dir, uint32_t repeat = 1);

struct AuditScaleOptions {
  std::vector<uint64_t> sizes{100000, 1000000};
  uint32_t clients = 200;
  uint32_t repeat = 1;
  std::string work_dir;
  std::string plans_dir;
  std::string hourbank_exe;
};
// `hourbank-bench audit` (audit_scale.cc): rebuild, verify and `hourbank audit` times per size.
int AuditScale(const AuditScaleOptions& options);

}  // namespace hourbank::bench
