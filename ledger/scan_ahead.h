// Internal to ledger/: a long Scan on two threads. A reader thread walks the events column
// family (RocksDB's iterator: block reads, checksums, LZ4) and copies each value into a chunk,
// 8-byte aligned; the caller's thread decodes and visits the chunks in seq order. On two cores
// the read and the fold overlap instead of taking turns (docs/performance.md, "Rebuild: read
// ahead on a second thread"). Chunks in flight are bounded (kAheadChunksMax x kAheadChunkBytes),
// so memory does not grow with the log.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <kj/function.h>
#include <rocksdb/iterator.h>

#include "ledger/status.h"

namespace hourbank::ledger {

// A chunk holds at most this many events, and this many bytes unless one event is larger.
constexpr size_t kAheadChunkEvents = 256;
constexpr size_t kAheadChunkBytes = 64u << 10;  // under malloc's mmap threshold: no page faults per chunk
// Chunks filled but not yet visited, at most.
constexpr size_t kAheadChunksMax = 8;

// Visits the events [first, last] that `it` yields from Seek(SeqKey(first)), in order (events
// after `last` are not read), on the calling thread: `visit(seq, bytes)` returns an
// error to end the scan with it, or sets *stop to end it early without one. `bytes` stays valid
// only during the call and is 8-byte aligned. The reader thread uses `it` alone and is joined
// before this returns. Fails as the serial scan does: a key that is not 8 bytes, a seq that
// skips one (after visiting every event before it), an iterator error, or a log that ends
// before `last` without `*stop` (kCorruption naming `head`).
Status ScanAhead(rocksdb::Iterator* it, uint64_t first, uint64_t last, uint64_t head,
                 kj::FunctionParam<Status(uint64_t seq, std::string_view bytes, bool* stop)> visit);

// The checks both scans make, in one place: the key of the event expected at `expected`.
Status CheckScanKey(std::string_view key, uint64_t expected);
// The error for a log that ends at `expected - 1` while its head is `head`.
Error ScanEndedEarly(uint64_t expected, uint64_t head);

}  // namespace hourbank::ledger
