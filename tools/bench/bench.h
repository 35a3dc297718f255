// hourbank-bench: shared pieces of the generator (generate.cc), the benchmark (run.cc) and
// the peers (peers.cc). Nothing here is used by the product; see docs/performance.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "projections/state.h"

namespace hourbank::bench {

// A fixed-seed generator (xorshift64*): the same seed gives the same ledger.
struct Rng {
  uint64_t x;
  explicit Rng(uint64_t seed) : x(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
    if (x == 0) x = 1;
  }
  uint64_t Next() {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545F4914F6CDD1Dull;
  }
  int64_t Between(int64_t lo, int64_t hi) { return lo + int64_t(Next() % uint64_t(hi - lo + 1)); }
};

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct GenerateOptions {
  std::string ledger_dir;    // must not exist or be empty
  std::string plans_dir;     // *.toml price lists
  uint64_t events = 100000;  // target; the generator stops at the first month boundary past it
  uint32_t clients = 50;
  uint32_t months = 12;
  uint64_t seed = 1;
  bool progress = true;  // a bar on stderr when it is a terminal
};

struct GenerateReport {
  uint64_t events = 0;        // appended (head_seq)
  uint64_t work_entries = 0;  // WorkLogged events
  uint64_t rejected = 0;      // decisions the rules refused (skipped, not appended)
  double seconds = 0;
};

// The id of the generator's i-th client ("client-00042").
std::string GeneratedClientId(uint32_t i);

// Builds a deterministic synthetic ledger through Log::Append (nosync, batches of up to 1000
// events of one client). Fails as Log::Open/Append do, or kInvalid for unreadable plans.
Result<GenerateReport> Generate(const GenerateOptions& options);

// The fold `hourbank rebuild` runs: every client's ClientState from one Scan.
struct RebuildResult {
  uint64_t events = 0;
  uint64_t event_bytes = 0;  // sum of stored event sizes
  double seconds = 0;
  std::map<std::string, projections::ClientState, std::less<>> states;
};
Result<RebuildResult> Rebuild(const ledger::Log& log);

// A draft carrying the stored event `bytes` (a Cap'n Proto flat message), for re-appending.
ledger::EventDraft DraftFromBytes(const std::string& bytes);

// Peak resident memory of this process so far (VmHWM), in KiB; 0 when unknown.
uint64_t PeakRssKib();

// Runs `argv` (no shell), returns its stdout and exit code; stderr goes to `stderr_path` when
// given (else /dev/null).
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  double seconds = 0;
};
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_path = "",
                         const std::string& stderr_path = "");
bool Executable(const std::string& path);
std::string FindProgram(const std::vector<std::string>& candidates);  // "" when none is found

// ---- peers (peers.cc). Every peer reports ok=false with `skipped` saying why when it cannot run.
struct PeerFigure {
  bool ok = false;
  std::string skipped;
  double value = 0;  // ops/s or seconds, as documented per function
  double value2 = 0;
};
// db_bench fillseq (sync, batch 1000) ops/s in value, readseq ops/s in value2.
PeerFigure DbBench(const std::string& work_dir, uint64_t num, uint32_t value_size);

// The work entries of a ledger, flattened for the peers.
struct FlatEvent {
  std::string stream;
  uint32_t version = 0;
  int64_t at_us = 0;
  std::string json;   // body as JSON (ASCII, no tabs or backslashes)
  bool work = false;  // a WorkLogged hour/item entry
  std::string kind;
  int64_t minutes = 0, count = 0;
};
// PostgreSQL: insert (value = events/s) and rebuild by reading in seq order (value2 = seconds).
PeerFigure Postgres(const std::string& work_dir, const std::vector<FlatEvent>& events);
// hledger / ledger-cli `bal` on a journal of the work entries: value = seconds.
PeerFigure JournalBal(const std::string& program, const std::string& journal_path);
void WriteJournal(const std::string& path, const std::vector<FlatEvent>& events);

// `appends`: single durable appends from each count of writers on a new ledger directory under
// work_dir and, with nats_url, on new NATS ledgers with each count of partitions (nats_appends.cc).
struct NatsAppendsOptions {
  std::string nats_url;  // empty: the directory rows only
  std::string work_dir;
  double seconds = 2;
  std::vector<uint32_t> writers{1, 8};
  std::vector<uint32_t> partitions{1, 2, 4};
};
int NatsAppends(const NatsAppendsOptions& options);

// `follow`: `events` single-event appends from 8 writers into a new NATS ledger (2 streams) and
// into a ledger directory; then times a fresh serve-node store catching up all of them from the
// cluster vs a full read (Scan, every event decoded) of the directory (nats_appends.cc).
struct FollowBenchOptions {
  std::string nats_url;
  std::string work_dir;
  uint64_t events = 10000;
};
int FollowBench(const FollowBenchOptions& options);

}  // namespace hourbank::bench
