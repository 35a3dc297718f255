// Backups of an embedded ledger: RocksDB's BackupEngine, online and incremental.
//
// BackupLedger opens the ledger directory read-only (RocksDB's OpenForReadOnly takes no lock, so
// a server or another thread of this process may keep appending) and copies its files into
// DIR: table files once into DIR/shared_checksum (named by their checksum, so a second backup
// copies only the files that are new), the WAL and manifest of this backup into DIR/private/N.
// The backup holds every event acknowledged before BackupLedger was called (acknowledged events
// are in the WAL or a table file when the call starts); events appended during the copy may or
// may not be in it. After writing, the backup is verified by reading every file back against
// its checksum (VerifyBackup with checksums); a backup that does not verify is an error.
//
// RestoreLedger verifies the chosen backup the same way before writing anything, refuses a
// damaged one (kCorruption, nothing written) and an existing non-empty target, restores into a
// new directory (mode 0700, files 0600), then opens the restored ledger and verifies its hash
// chain and indexes (Log::Verify).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/status.h"

namespace hourbank::ledger {

struct BackupInfo {
  uint32_t id = 0;
  int64_t created_unix_s = 0;
  uint64_t size_bytes = 0;  // all files of this backup, shared ones included
  uint32_t files = 0;
  uint64_t head_seq = 0;  // the ledger's head when the copy started
};

// Fails: kNotFound (no ledger at ledger_dir), kBusy (files kept changing under three attempts),
// kCorruption (the written backup does not verify), kIo.
Result<BackupInfo> BackupLedger(const std::string& ledger_dir, const std::string& backup_dir);

// Oldest first. kNotFound when backup_dir holds no backup.
Result<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir);

struct RestoreResult {
  BackupInfo backup;
  uint64_t head_seq = 0;  // the restored ledger's head (verified)
};
// backup_id 0 = the latest. Fails: kNotFound (no backups, unknown id), kInvalid (target exists
// and is not empty), kCorruption (the backup does not verify; nothing written), kIo.
Result<RestoreResult> RestoreLedger(const std::string& backup_dir,
                                    const std::string& new_ledger_dir, uint32_t backup_id = 0);

}  // namespace hourbank::ledger
