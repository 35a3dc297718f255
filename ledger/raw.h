// TEST AND TAMPER HELPERS. Not for production code.
//
// Tests (and the audit tests) use these to reach the stored bytes of a ledger directly,
// because nothing outside ledger/ may include a RocksDB header. Each call opens the CLOSED
// ledger directory `dir` with RocksDB (all column families, no creation), does one operation
// and closes it again, so the directory must not be open in a Log at the time (kBusy).
// Column family names: "events", "streams", "keys", "meta", "projections". Key encodings
// are in ledger/format.h; SeqKey/StreamKey below are the ones tests need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace hourbank::ledger::raw {

// events_key of `seq`: 8 bytes big-endian.
std::string SeqKey(uint64_t seq);
// streams_key of `client_id` at `version`: client_id 0x00 version (4 bytes big-endian).
std::string StreamKey(std::string_view client_id, uint32_t version);

// The stored value of `key` in column family `cf`; nullopt when absent.
// Fails: kNotFound (no ledger or no such column family), kBusy, kIo.
Result<std::optional<std::string>> RawGet(const std::string& dir, std::string_view cf,
                                          std::string_view key);
// Overwrites (or creates) `key` in `cf` with `value`, synced, bypassing every check.
Status RawPut(const std::string& dir, std::string_view cf, std::string_view key,
              std::string_view value);
// Deletes `key` from `cf`, synced, bypassing every check.
Status RawDelete(const std::string& dir, std::string_view cf, std::string_view key);
// Every key of `cf` in order (for small test ledgers: it holds them all in memory).
Result<std::vector<std::string>> RawKeys(const std::string& dir, std::string_view cf);
// The compression each table file of `cf` records in its properties ("LZ4", "Snappy",
// "NoCompression", ...), one per table, in no particular order.
Result<std::vector<std::string>> RawTableCompressions(const std::string& dir, std::string_view cf);
// Flushes `cf` and rewrites all its tables with RocksDB's default column family options (snappy
// compression), as builds before LZ4 wrote the events column family.
Status RawRewriteTablesWithDefaults(const std::string& dir, std::string_view cf);

}  // namespace hourbank::ledger::raw
