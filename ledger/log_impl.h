// Internal to ledger/: Log::Impl, shared by the files that implement the Log:
//   log.cc         open, reopen after a failed write, health, the Log facade
//   log_write.cc   the writer queue: admit, stamp, write, publish (group commit); AppendRaw
//   log_read.cc    scans, stream reads, key lookups, the projections column family
//   log_verify.cc  Verify: chain links, streams index, keys index
// The on-disk format is in ledger/format.h.
#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/snapshot.h>

#include "ledger/format.h"
#include "ledger/log.h"

namespace hourbank::ledger {

// Requests one leader merges into a WriteBatch, besides Options::group_bytes_max.
constexpr size_t kGroupRequestsMax = 4096;
// Waiting appenders. Each caller thread holds at most one slot, so this bounds the number of
// threads appending at once; past it is a bug in the caller (a thread leak), not load.
constexpr size_t kWritersQueuedMax = 1 << 16;
// The longest a leader waits for the writers of the last group to queue again (Gather).
constexpr int64_t kGatherWaitUsMax = 1000;
// Events fetched per MultiGet when reading a stream.
constexpr size_t kStreamReadChunkEvents = 256;
// A Scan over at least this many events reads ahead and bypasses the block cache.
constexpr uint64_t kLongScanEvents = 4096;
// Readahead of a long Scan: a few MiB of sequential reads per I/O.
constexpr size_t kScanReadaheadBytes = 4u << 20;
// See DBOptions::max_total_wal_size in OpenDb. Replaying 8 MiB takes well under 0.1 s.
constexpr uint64_t kWalBytesMax = 8ull << 20;
// After a failed write, reopening is tried at most this often.
constexpr int64_t kResumeIntervalUs = 1000 * 1000;
// How long a reopen waits for reads in progress before trying again later.
constexpr int kReopenWaitMs = 200;
// Free space a reopen needs besides the WAL it flushes.
constexpr uint64_t kReopenSlackBytes = 1u << 20;
// How often Verify reports progress.
constexpr uint64_t kVerifyProgressEvents = 4096;

inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view HashView(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// RocksDB counts perf statistics per thread by default (PerfLevel::kEnableCount): several
// thread-local increments per key read, for a context hourbank never reads. A whole-log read
// (Scan, Verify) turns them off on its thread while it runs; the level before is restored.
class NoPerfCounts {
 public:
  NoPerfCounts() : before_(rocksdb::GetPerfLevel()) { rocksdb::SetPerfLevel(rocksdb::kDisable); }
  ~NoPerfCounts() { rocksdb::SetPerfLevel(before_); }
  NoPerfCounts(const NoPerfCounts&) = delete;
  NoPerfCounts& operator=(const NoPerfCounts&) = delete;

 private:
  rocksdb::PerfLevel before_;
};

// Maps a RocksDB failure to an Error at the module edge. `what` says what we were doing.
// A read-only open writes no info LOG.
class NullLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

inline Error FromRocks(const rocksdb::Status& s, std::string_view what) {
  assert(!s.ok());
  std::string message = fmt::format("{}: {}", what, s.ToString());
  if (s.IsCorruption()) return Error::Corruption(std::move(message));
  return Error::Io(std::move(message));
}

inline int64_t NowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

inline std::string_view TextView(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

class Log::Impl {
 public:
  // One Append() call waiting in the group-commit queue. Lives on the caller's stack; the
  // leader of its group writes `error`/`result`, leaves the queue, and then tells it kDone
  // (or tells the next front writer kLead) through its own mutex, not queue_mu_, so a woken
  // writer returns without queueing behind the other writers for queue_mu_.
  struct Writer {
    enum class Turn : uint8_t { kQueued, kLead, kDone };
    AppendRequest* request = nullptr;
    Hash request_digest{};  // meaningful when request->idempotency_key is not empty
    uint64_t bytes = 0;     // serialized size of all its events, measured before queuing
    std::optional<Error> error;
    AppendResult result;

    // Called once per writer by a leader; the writer may return (and be destroyed) as soon
    // as `mu` is released.
    void Tell(Turn t) {
      std::lock_guard<std::mutex> l(mu);
      turn = t;
      cv.notify_one();
    }
    Turn Wait() {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return turn != Turn::kQueued; });
      return turn;
    }

   private:
    std::mutex mu;
    std::condition_variable cv;
    Turn turn = Turn::kQueued;  // guarded by mu
  };

  Impl(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}
  ~Impl();

  Status OpenDb(bool reopening = false);
  // The steps of OpenDb, in order.
  Status PrepareDirectory(bool reopening, bool read_only, bool create, bool* exists);
  rocksdb::DBOptions DbOptions(bool read_only, bool create) const;
  Status CheckColumnFamilies(const rocksdb::DBOptions& db_options, bool read_only,
                             bool create) const;
  Status OpenRocks(rocksdb::DBOptions db_options, bool read_only);
  Status InitOrCheckFormat(bool create);
  std::string NoLedgerText() const;
  void CloseDb();
  // Runs `f` with db_ and the handles held steady (db_mu_ shared); kIo while the database is
  // closed after a failed reopen.
  template <class F>
  auto WithDb(F&& f) const -> decltype(f()) {
    std::shared_lock<std::shared_timed_mutex> l(db_mu_);
    if (db_ == nullptr) {
      return Error::Io(
          fmt::format("the ledger at {} is closed: reopening it after a failed write "
                      "failed; it is retried on the next write",
                      dir_));
    }
    return f();
  }
  Result<AppendResult> Append(AppendRequest request);
  Result<AppendResult> AppendRaw(std::string_view bytes,
                                 const std::optional<Hash>& request_digest);  // end of file
  Status Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
              const ReadOptions& read) const;
  Status ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                    const Visitor& visit, const ReadOptions& read) const;
  Result<std::string> Get(uint64_t seq) const;
  Result<uint32_t> StreamVersion(std::string_view client_id) const;
  Result<std::vector<std::string>> ListStreams() const;
  Result<std::optional<IdempotencyRecord>> LookupKey(std::string_view key) const;
  Result<VerifyReport> Verify(const std::function<void(uint64_t, uint64_t)>& progress,
                              const Visitor* visit = nullptr) const;
  Status PutCheckpoint(std::string_view name, std::string_view bytes);
  Result<std::optional<std::string>> GetCheckpoint(std::string_view name) const;
  Status DropCheckpoints();

  uint64_t head_seq() const {
    std::lock_guard<std::mutex> l(state_mu_);
    return head_seq_;
  }
  Hash head_hash() const {
    std::lock_guard<std::mutex> l(state_mu_);
    return head_hash_;
  }
  Stats stats() const {
    std::lock_guard<std::mutex> l(state_mu_);
    return stats_;
  }
  void InjectWriteFailures(uint32_t count) {
    std::lock_guard<std::mutex> l(state_mu_);
    injected_write_failures_ = count;
  }

  const std::string dir_;
  const Options options_;
  // The ledger's on-disk format (meta "format_version"), set by OpenDb: 1 or 2. A format 1
  // ledger gets one streams record per event; format 2 one per append request.
  uint32_t format_version() const { return format_version_; }

 private:
  Status Prepare(AppendRequest& request, Writer* w) const;
  struct GroupWrite;  // log_write.cc
  void Lead(Writer* leader);
  void Gather(std::unique_lock<std::mutex>& l);
  void CommitGroup(const std::vector<Writer*>& group);
  void Admit(GroupWrite& g, Writer* w);
  bool AnswerSeenKey(GroupWrite& g, Writer* w, uint32_t committed_version);
  void Stamp(GroupWrite& g, Writer* w, uint32_t version);
  bool WriteGroup(GroupWrite& g, const std::string& still_failing);
  void Publish(const GroupWrite& g, size_t group_size, bool wrote);
  Result<uint32_t> LeaderStreamVersion(const std::string& client_id);
  Result<uint32_t> ReadStreamVersion(std::string_view client_id,
                                     const rocksdb::Snapshot* snapshot) const;
  // A streams record read back: its first version and its run of seqs.
  struct StreamRecord {
    uint32_t first_version = 0;
    format::StreamRun run;
    uint32_t last_version() const { return first_version + run.count - 1; }
    bool holds(uint32_t version) const {
      return version >= first_version && version <= last_version();
    }
  };
  // The record of `client_id` with the greatest first version <= `version` (the only one that
  // can hold it), read through `it`, a streams iterator the caller may reuse; nullopt when the
  // client has none. kCorruption when that record is malformed.
  Result<std::optional<StreamRecord>> StreamRecordAt(rocksdb::Iterator* it,
                                                     std::string_view client_id,
                                                     uint32_t version) const;
  // The seq of `client_id`'s `version` (nullopt when no record holds it), through `it` as above.
  Result<std::optional<uint64_t>> ReadStreamSeq(rocksdb::Iterator* it, std::string_view client_id,
                                                uint32_t version) const;
  Result<uint32_t> VersionOfSeq(const std::string& client_id, uint64_t seq,
                                uint32_t current_version) const;
  Result<uint64_t> SnapshotHead(const rocksdb::Snapshot* snapshot) const;
  Status LoadHead();
  rocksdb::WriteOptions WriteOpts() const {
    rocksdb::WriteOptions wo;
    wo.sync = options_.durability == Durability::kSync;
    return wo;
  }
  rocksdb::Status TimedWrite(rocksdb::WriteBatch* batch) {
    const auto t0 = std::chrono::steady_clock::now();
    rocksdb::Status s = db_->Write(WriteOpts(), batch);
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    last_write_us_.store(us, std::memory_order_relaxed);
    return s;
  }
  rocksdb::ReadOptions ReadOpts(const rocksdb::Snapshot* snapshot) const {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.verify_checksums = true;
    return ro;
  }

  // Written only by OpenDb (the first open, or Reopen with db_mu_ held exclusively).
  uint32_t format_version_ = 0;
  rocksdb::DB* db_ = nullptr;                          // owned; deleted in ~Impl after the handles
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; [0] is "default"
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* projections_ = nullptr;

  // Group commit queue (LevelDB's writer queue): the front writer is the leader.
  std::mutex queue_mu_;
  std::deque<Writer*> writers_;      // guarded by queue_mu_; <= kWritersQueuedMax
  std::condition_variable idle_cv_;  // signalled when writers_ becomes empty
  // Gather(): the writers a leader waits for, whether one waits (guarded by queue_mu_), and
  // the last group write's duration in µs (written by leaders only).
  size_t writers_expected_ = 1;
  bool leader_waiting_ = false;
  std::condition_variable gather_cv_;
  std::atomic<int64_t> last_write_us_{0};

  // The committed head and stream versions. Only the current leader changes them, after its
  // WriteBatch is durable; readers take state_mu_ briefly.
  mutable std::mutex state_mu_;
  uint64_t head_seq_ = 0;
  Hash head_hash_{};
  int64_t head_recorded_at_us_ = 0;
  // client id -> stream version; filled lazily by leaders, bounded by the number of streams.
  std::unordered_map<std::string, uint32_t> versions_;
  Stats stats_;
  uint32_t injected_write_failures_ = 0;
  // Set when a write failed (guarded by state_mu_); the next write or health() first asks
  // RocksDB to resume (a failed WAL write stops every later write until then).
  mutable std::string write_failure_;
  std::mutex resume_mu_;           // one resume at a time
  int64_t last_resume_us_ = 0;     // guarded by resume_mu_: the last failed attempt
  std::string last_resume_error_;  // guarded by resume_mu_
  // db_, handles_ and the five handles are replaced only by Reopen(), which holds db_mu_
  // exclusively; every other use of them holds it shared (WithDb, CommitGroup, AppendRaw).
  // glibc's rwlock prefers readers, so a visitor that calls back into the Log during a scan
  // (shared inside shared) cannot deadlock behind a waiting Reopen().
  mutable std::shared_timed_mutex db_mu_;

 public:
  // Tries to resume writing after a failure. Returns the reason writes still fail, or empty.
  std::string TryResume();
  Health GetHealth();
  Status Reopen();
  Status ScanStored(const std::function<bool(uint64_t, std::string_view)>& visit) const;
  Result<VerifyReport> VerifyPrecise(const std::function<void(uint64_t, uint64_t)>& progress) const;
  Status RefuseReadOnly() const {
    if (!options_.read_only && !options_.salvage) return Status::Ok();
    return Error::Invalid(
        fmt::format("the ledger at {} is open read-only; this command cannot write", dir_));
  }
};

}  // namespace hourbank::ledger
