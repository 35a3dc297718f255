// `hourbank recover`: salvage every readable event of a damaged ledger into a new one.
//
// The damaged ledger is never written: it is opened read-only with RocksDB's
// kSkipAnyCorruptedRecords (every readable WAL record replayed in memory, damaged ones
// skipped), after its WAL files were copied into NEWDIR/recovery/wal/ as evidence. Then, in seq
// order:
//   - events 1, 2, … up to the first missing or unreadable one are copied byte for byte
//     (AppendRaw: same seqs, same hashes, the chain re-verified event by event);
//   - every later readable event is appended anew (same client, body, effective time, actor,
//     idempotency key; a new seq, recorded time and chain link), because its chain link
//     points at an event that is lost; the report maps each old seq to its new one;
//   - seqs that were in the damaged ledger (up to its recorded head) but could not be read
//     are reported as lost, as ranges and a count.
// The new ledger is verified, and the report is written to NEWDIR/recovery/report.txt.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ledger/log.h"

namespace hourbank::ledger {

struct RecoveryReport {
  std::string from, to;
  std::vector<std::string> wal_findings;  // one line per WAL file: intact, or where it is damaged
  uint64_t damaged_head = 0;              // the head recorded in the damaged ledger's readable meta
  uint64_t highest_seq_read = 0;
  uint64_t copied = 0;  // events 1..copied kept with their seqs and hashes
  std::vector<std::pair<uint64_t, uint64_t>> reappended;  // (old seq, new seq)
  std::vector<std::pair<uint64_t, uint64_t>> lost;        // seq ranges [first, last]
  uint64_t lost_count = 0;
  std::vector<std::string> keys_dropped;  // keys split by the loss (see report)
  uint64_t new_head = 0;
  Hash new_head_hash{};
  std::string text;  // the report, as written to NEWDIR/recovery/report.txt
};

// Fails: kInvalid (NEWDIR exists and is not empty; FROM is NEWDIR), kNotFound (no ledger at
// FROM), kCorruption (FROM unreadable even in salvage mode), kIo.
Result<RecoveryReport> Recover(const std::string& from, const std::string& to, int64_t now_us);

}  // namespace hourbank::ledger
