// Internal to ledger/ (and its tests): an independent reader of RocksDB's write-ahead-log
// framing, so that a WAL RocksDB refuses can be named with the exact file and byte offset, and
// a torn final write (never acknowledged) can be told from damage to acknowledged records.
//
// The framing (RocksDB's log format, non-recyclable records, as RocksDB 7.8 writes them):
//   the file is a sequence of 32 KiB blocks; a block ends with < 7 zero bytes of trailer when
//   the next record header does not fit;
//   record := crc: fixed32_le, length: fixed16_le, type: byte, payload: byte[length]
//     crc is the masked CRC-32C of type ‖ payload; a record never crosses a block boundary;
//   type 1 full, 2 first, 3 middle, 4 last (a logical record split over blocks),
//        9 / 10 metadata records; a full or completed logical record is a WriteBatch (>= 12 bytes).
// Nothing here includes RocksDB.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace hourbank::ledger::wal {

inline constexpr size_t kBlockBytes = 32768;
inline constexpr size_t kHeaderBytes = 7;

// CRC-32C (Castagnoli) of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32c(uint32_t crc, std::string_view bytes);

struct Damage {
  uint64_t offset = 0;  // byte offset of the first bad record (or of the torn record)
  std::string problem;  // e.g. "checksum mismatch"
  // The file ends inside a record whose bytes are a prefix of a valid record: a write that
  // stopped part way (a crash or a full disk), which was never acknowledged. Only meaningful
  // for the newest WAL file.
  bool torn_tail = false;
};

// Checks the framing of one WAL's bytes. nullopt: every record is intact.
std::optional<Damage> CheckWal(std::string_view bytes);
// As CheckWal, reading the file. Fails: kIo.
Result<std::optional<Damage>> CheckWalFile(const std::string& path);

// RECOVERY: the payload of every logical record whose checksums verify, in file order,
// including those after damage (RocksDB itself drops the rest of a 32 KiB block after a bad
// record). After a bad record the reader trusts its length field when the record it points
// at verifies, else looks for the next verifying record header byte by byte.
std::vector<std::string> ReadableRecords(std::string_view bytes);

// The WAL files (NNNNNN.log) of a ledger directory, oldest first. Fails: kIo.
Result<std::vector<std::string>> WalFiles(const std::string& dir);

}  // namespace hourbank::ledger::wal
