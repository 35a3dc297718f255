// RocksDB's info LOG of a read-write ledger, written by hourbank instead of by RocksDB.
//
// Why: with a non-default Env (ours makes every file 0600) RocksDB 7.8 writes its info LOG
// through an EnvLogger whose file writer asserts, on every write after a failed one, that no
// earlier write failed. Debian builds RocksDB with assertions on, so on a full disk the second
// log line after the first ENOSPC aborted the whole process (a `serve` crashed instead of
// reporting itself unhealthy). This logger never aborts and never throws: a line it cannot write
// is dropped and counted, and the next line that can be written first says how many were lost.
//
// The file is `<dir>/LOG` (0600), appended to (never truncated at open, so a second process that
// fails on the ledger's lock does not rotate the owner's log). Past kInfoLogBytesMax it is renamed
// `LOG.old.<µs since epoch>` (the name RocksDB's own rotation uses, so RocksDB's cleanup keeps
// `keep_log_file_num` of them) and the oldest beyond kInfoLogFilesKept are removed.
#pragma once

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace hourbank::ledger {

inline constexpr uint64_t kInfoLogBytesMax = 8ull << 20;
inline constexpr size_t kInfoLogFilesKept = 4;  // rotated files kept beside LOG

class InfoLog final : public rocksdb::Logger {
 public:
  // Logs to `path`; rotated files go beside it. `bytes_max` is for tests.
  explicit InfoLog(std::string path, uint64_t bytes_max = kInfoLogBytesMax);
  ~InfoLog() override;
  InfoLog(const InfoLog&) = delete;
  InfoLog& operator=(const InfoLog&) = delete;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  size_t GetLogFileSize() const override;

  // Lines that could not be written since the last line that could (tests, diagnostics).
  uint64_t dropped() const;

 private:
  rocksdb::Status CloseImpl() override;
  bool EnsureOpenLocked();
  void RotateLocked();
  bool WriteLocked(const std::string& line);

  const std::string path_;
  const uint64_t bytes_max_;
  mutable std::mutex mu_;
  int fd_ = -1;             // guarded by mu_
  uint64_t size_ = 0;       // guarded by mu_: bytes in the current file
  uint64_t dropped_ = 0;    // guarded by mu_
  std::string last_error_;  // guarded by mu_: why the last dropped line was dropped
};

}  // namespace hourbank::ledger
