// hourbank-bench run and its helper child (rebuild-once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
  std::string profile_dir;    // --profile DIR: `perf record` the slowest phase into DIR
  bool ten_million = false;   // --ten-million: add a 10 M-event rebuild to the growth rows
  std::string source_ledger;  // append --ledger DIR: re-append its events (nothing generated)
  bool writers = true;        // append --no-writers: only the bulk append row (for callgrind)
};
// Prints the table (or JSON) on stdout; returns the exit code.
int RunBench(const RunOptions& options);
// `hourbank-bench append`: only the append rows of `run` (bulk append, db_bench fillseq,
// PostgreSQL insert, 1 and 8 durable writers); the same options.
int RunAppendBench(const RunOptions& options);
// Rebuilds `ledger_dir` (`repeat` times: profiling) and prints
// {"events","clients","seconds","peak_rss_kib"}.
int RebuildOnce(const std::string& ledger_dir, uint32_t repeat = 1);

// One row of the table.
struct Row {
  std::string what, ours, peer, ratio, target, verdict;
};
std::string Num(double v);  // 1.23 M, 456 k, 789
std::string Ratio(double r);
inline std::string Verdict(bool met) { return met ? "met" : "NOT met"; }

// Measured reads of a balance-over-HTTP row (`run`; `http --queries`' default): the p99 of
// 20 000 reads is the 200th slowest, not the 20th of 2000 (one scheduler hiccup).
inline constexpr size_t kHttpQueries = 20000;

// Balance reads over HTTP against a `hourbank serve` child on `ledger_dir` (http_load.cc): one
// warm-up read per client, then `queries` reads spread over `ids` from `connections` keep-alive
// connections, measured twice: all connections driven by one epoll thread, then one blocking
// thread per connection.
struct HttpLoadOptions {
  std::string hourbank_exe, ledger_dir, log_path;
  // The server's clock (HOURBANK_NOW): a day in the ledger's first open month, so the reads ask
  // for the month being worked in, as on a live ledger (HttpClockFor); empty: the real clock.
  std::string now;
  std::vector<std::string> ids;
  size_t queries = kHttpQueries;
  uint32_t connections = 8;
  // Bounds each measured run of the event-driven client and each blocking send or read of the
  // threads; what has not finished by then counts as bad answers.
  int timeout_seconds = 120;
};
struct HttpFigure {
  bool ok = false;
  std::string skipped;
  std::vector<double> latencies_us;
  int64_t server_cpu_us = -1;  // CPU the server used during the measured reads (10 ms ticks)
  uint32_t client_threads = 0;
  double seconds = 0;  // wall time of the measured reads (reads / seconds: the rate they ran at)
};
struct HttpFigures {
  HttpFigure event_loop;  // every connection from one epoll thread
  HttpFigure threads;     // one blocking thread per connection
};
HttpFigures HttpBalance(const HttpLoadOptions& options);
// The 11th, noon UTC, of the latest first-open month among `states` ("2024-12-11T12:00:00Z").
std::string HttpClockFor(
    const std::map<std::string, projections::ClientState, std::less<>>& states);
// The table row of an HTTP figure (p50/p99 µs; with `target`, the verdict on p99 <= 1 ms,
// else "-"); fills `j`.
Row HttpRow(const std::string& what, const HttpFigure& f, const std::string& peer, bool target,
            nlohmann::json* j);
// Runs HttpBalance(h) and adds its two rows: the event-driven client's (with the verdict; JSON
// `key`_event_loop) and the client threads' (for comparison; JSON `key`).
void HttpRows(const HttpLoadOptions& h, const std::string& peer, std::vector<Row>* rows,
              nlohmann::json* j, const std::string& key);
double Percentile(std::vector<double> v, double p);

// The rows of how rebuild and append scale (growth.cc): rebuild time and peak RSS at N, 4N,
// 16N events (same clients, 4x and 16x the months; `ledger_n` is the run's ledger of N), the
// slope; append rate on a new log vs the 16N log (`raw`: stored events to re-append); the
// whole-process rebuild of a 2000-client ledger of 20N events and balance over HTTP on it;
// with profile_dir, `perf record` of the largest rebuild (the slowest phase).
void GrowthRows(const RunOptions& o, const std::string& ledger_n,
                const std::vector<std::string>& raw, std::vector<Row>* rows, nlohmann::json* j);

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
