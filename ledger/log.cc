// The append-only event log on RocksDB.
//
// ON-DISK FORMAT (format version 1; also in docs/on-disk-format.md)
//
// A ledger directory is one RocksDB database with these column families ("default" unused):
//
//   fixed32_be := 4 bytes, unsigned, big-endian
//   fixed64_be := 8 bytes, unsigned, big-endian (so byte order is numeric order)
//   hash       := byte[32]                    BLAKE2b-256, unkeyed (crypto_generichash)
//
//   column family "events": the log itself
//     events_key    := seq: fixed64_be        seq >= 1, contiguous: 1, 2, 3 … head_seq
//     events_value  := capnp flat message (Event)
//                      unpacked, as written by capnp::messageToFlatArray:
//                      segment_table segment[segment_count]; length % 8 == 0
//                      Event.seq == seq of the key; Event.prevHash == hash(seq - 1)
//
//   column family "streams": index of each client's stream
//     streams_key   := client_id: byte[1..65] 0x00 version: fixed32_be
//                      client_id matches ValidClientId (never contains 0x00 or 0x01);
//                      versions of one client are contiguous from 1
//     streams_value := seq: fixed64_be        the event that is `version` of the stream
//
//   column family "keys": idempotency keys
//     keys_key      := idempotency_key: byte[1..idempotency_key_bytes_max] (no control bytes)
//     keys_value    := first_seq: fixed64_be count: fixed32_be request_digest: hash
//                      events first_seq … first_seq + count - 1 carry the key
//
//   column family "meta": one record per key
//     "format_version"      -> fixed32_be     = 1
//     "head_seq"            -> fixed64_be     the last seq written; 0 when empty
//     "head_hash"           -> hash           hash(head_seq)
//     "head_recorded_at_us" -> fixed64_be     Event.recordedAtUs of head_seq (two's complement)
//
//   column family "projections": checkpoints, opaque to the ledger
//     checkpoint_key   := name: byte[1..]
//     checkpoint_value := byte[*]             owned by the projection that wrote it
//
//   hash chain
//     hash(0) := 32 zero bytes
//     hash(n) := BLAKE2b-256(hash(n - 1) ‖ events_value(n))
//
// Every append writes its events, their streams entries, its keys entry and the three
// head records of meta in ONE WriteBatch, so the indexes and the head never disagree with the
// events after a crash.
#include "ledger/log.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <capnp/dynamic.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include "ledger/codec.h"
#include "ledger/format.h"
#include "ledger/wal.h"

namespace hourbank::ledger {

namespace {

// Requests one leader merges into a WriteBatch, besides Options::group_bytes_max.
constexpr size_t kGroupRequestsMax = 4096;
// Waiting appenders. Each caller thread holds at most one slot, so this bounds the number of
// threads appending at once; past it is a bug in the caller (a thread leak), not load.
constexpr size_t kWritersQueuedMax = 1 << 16;
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

std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view HashView(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// Maps a RocksDB failure to an Error at the module edge. `what` says what we were doing.
Error FromRocks(const rocksdb::Status& s, std::string_view what) {
  assert(!s.ok());
  std::string message = fmt::format("{}: {}", what, s.ToString());
  if (s.IsCorruption()) return Error::Corruption(std::move(message));
  return Error::Io(std::move(message));
}

// Every file RocksDB creates in a ledger directory is made 0600, whatever the process umask
// (the directory itself is 0700). The chmod follows the create; the 0700 directory keeps
// other users out in between.
class PrivateFiles : public rocksdb::FileSystemWrapper {
 public:
  explicit PrivateFiles(const std::shared_ptr<rocksdb::FileSystem>& target)
      : rocksdb::FileSystemWrapper(target) {}
  const char* Name() const override { return "HourbankPrivateFiles"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override {
    return Private(f, target()->NewWritableFile(f, o, r, d));
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* d) override {
    return Private(f, target()->ReopenWritableFile(f, o, r, d));
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* d) override {
    return Private(f, target()->ReuseWritableFile(f, old, o, r, d));
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* d) override {
    return Private(f, target()->NewRandomRWFile(f, o, r, d));
  }
  rocksdb::IOStatus NewLogger(const std::string& f, const rocksdb::IOOptions& o,
                              std::shared_ptr<rocksdb::Logger>* r,
                              rocksdb::IODebugContext* d) override {
    return Private(f, target()->NewLogger(f, o, r, d));
  }
  rocksdb::IOStatus LockFile(const std::string& f, const rocksdb::IOOptions& o,
                             rocksdb::FileLock** l, rocksdb::IODebugContext* d) override {
    return Private(f, target()->LockFile(f, o, l, d));
  }

 private:
  static rocksdb::IOStatus Private(const std::string& f, rocksdb::IOStatus s) {
    if (s.ok()) ::chmod(f.c_str(), S_IRUSR | S_IWUSR);  // best effort: the dir is 0700
    return s;
  }
};

// The Env every read-write Log uses: the default one with PrivateFiles.
rocksdb::Env* PrivateEnv() {
  static std::unique_ptr<rocksdb::Env> env =
      rocksdb::NewCompositeEnv(std::make_shared<PrivateFiles>(rocksdb::FileSystem::Default()));
  return env.get();
}

// A read-only open writes no info LOG.
class NullLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// Whether another process holds RocksDB's lock on `dir` (a POSIX record lock on LOCK),
// tested without taking it and without writing.
bool LockedByAnotherProcess(const std::string& dir) {
  const int fd = ::open((dir + "/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  const bool locked = ::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return locked;
}

// Empty when the volume of `dir` has room to reopen the ledger (the reopen flushes the live
// WAL into a table file, no larger than the WAL); else why not.
std::string RoomToReopen(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  if (ec) return fmt::format("cannot read the free space of {}: {}", dir, ec.message());
  uint64_t wal_bytes = 0;
  // Bounded: one step per file of the ledger directory.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".log" && e.is_regular_file(ec)) wal_bytes += e.file_size(ec);
  }
  if (space.available >= wal_bytes + kReopenSlackBytes) return {};
  return fmt::format("No space left on device: {} bytes free, the reopen needs {}",
                     space.available, wal_bytes + kReopenSlackBytes);
}

int64_t NowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Fixed64(uint64_t v) {
  std::string s;
  format::AppendFixed64BE(&s, v);
  return s;
}

std::string KeyValue(uint64_t first_seq, uint32_t count, const Hash& digest) {
  std::string s;
  format::AppendFixed64BE(&s, first_seq);
  format::AppendFixed32BE(&s, count);
  s.append(HashView(digest));
  assert(s.size() == format::kKeyValueBytes);
  return s;
}

std::optional<IdempotencyRecord> ParseKeyValue(std::string_view v) {
  if (v.size() != format::kKeyValueBytes) return std::nullopt;
  IdempotencyRecord r;
  r.first_seq = format::ReadBE(v, 8);
  r.count = static_cast<uint32_t>(format::ReadBE(v.substr(8), 4));
  std::memcpy(r.request_digest.data(), v.data() + 12, format::kHashBytes);
  return r;
}

// Whether the draft's body union holds a member that was actually set. The union's default
// discriminant is its first member, so which() alone cannot tell "unset" from
// "clientRegistered"; the member's pointer can.
bool HasBody(schemas::Event::Reader root) {
  auto body = capnp::toDynamic(root).get("body").as<capnp::DynamicStruct>();
  KJ_IF_MAYBE(field, body.which()) { return body.has(*field); }
  return false;  // a discriminant this build does not know
}

std::string_view TextView(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

}  // namespace

// ---------------------------------------------------------------------------------------
// EventDraft

EventDraft::EventDraft() : message_(std::make_unique<capnp::MallocMessageBuilder>()) {}
EventDraft::EventDraft(EventDraft&&) noexcept = default;
EventDraft& EventDraft::operator=(EventDraft&&) noexcept = default;
EventDraft::~EventDraft() = default;

schemas::Event::Builder EventDraft::root() {
  assert(message_ && "EventDraft used after move");
  return message_->getRoot<schemas::Event>();
}

capnp::MallocMessageBuilder& EventDraft::message() {
  assert(message_ && "EventDraft used after move");
  return *message_;
}

// ---------------------------------------------------------------------------------------
// Log::Impl

class Log::Impl {
 public:
  // One Append() call waiting in the group-commit queue. Lives on the caller's stack; the
  // leader of its group writes `error`/`result` and then sets `done` under queue_mu_.
  struct Writer {
    AppendRequest* request = nullptr;
    Hash request_digest{};  // meaningful when request->idempotency_key is not empty
    uint64_t bytes = 0;     // serialized size of all its events, measured before queuing
    std::optional<Error> error;
    AppendResult result;
    bool done = false;
    std::condition_variable cv;
  };

  Impl(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}
  ~Impl();

  Status OpenDb(bool reopening = false);
  void CloseDb();
  // Runs `f` with db_ and the handles held steady (db_mu_ shared); kIo while the database is
  // closed after a failed reopen.
  template <class F>
  auto WithDb(F&& f) const -> decltype(f()) {
    std::shared_lock<std::shared_timed_mutex> l(db_mu_);
    if (db_ == nullptr) {
      return Error::Io(fmt::format("the ledger at {} is closed: reopening it after a failed write "
                                   "failed; it is retried on the next write",
                                   dir_));
    }
    return f();
  }
  Result<AppendResult> Append(AppendRequest request);
  Result<AppendResult> AppendRaw(std::string_view bytes, const std::optional<Hash>& request_digest);  // end of file
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

 private:
  Status Prepare(AppendRequest& request, Writer* w) const;
  void CommitGroup(const std::vector<Writer*>& group);
  Result<uint32_t> LeaderStreamVersion(const std::string& client_id);
  Result<uint32_t> ReadStreamVersion(std::string_view client_id,
                                     const rocksdb::Snapshot* snapshot) const;
  Result<std::optional<uint64_t>> ReadStreamSeq(std::string_view client_id, uint32_t version,
                                                const rocksdb::Snapshot* snapshot) const;
  Result<uint32_t> VersionOfSeq(const std::string& client_id, uint64_t seq,
                                uint32_t current_version) const;
  Result<uint64_t> SnapshotHead(const rocksdb::Snapshot* snapshot) const;
  Status LoadHead();
  rocksdb::WriteOptions WriteOpts() const {
    rocksdb::WriteOptions wo;
    wo.sync = options_.durability == Durability::kSync;
    return wo;
  }
  rocksdb::ReadOptions ReadOpts(const rocksdb::Snapshot* snapshot) const {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.verify_checksums = true;
    return ro;
  }

  rocksdb::DB* db_ = nullptr;  // owned; deleted in ~Impl after the handles
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; [0] is "default"
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* projections_ = nullptr;

  // Group commit queue (LevelDB's writer queue): the front writer is the leader.
  std::mutex queue_mu_;
  std::deque<Writer*> writers_;          // guarded by queue_mu_; <= kWritersQueuedMax
  std::condition_variable idle_cv_;      // signalled when writers_ becomes empty

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
  std::mutex resume_mu_;  // one resume at a time
  int64_t last_resume_us_ = 0;       // guarded by resume_mu_: the last failed attempt
  std::string last_resume_error_;    // guarded by resume_mu_
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
    return Error::Invalid(fmt::format("the ledger at {} is open read-only; this command cannot write", dir_));
  }
};

Log::Impl::~Impl() {
  {
    // Append() callers borrow *this; destroying the Log under them is a caller bug, but a
    // writer that is just being woken may still be leaving the queue.
    std::unique_lock<std::mutex> l(queue_mu_);
    idle_cv_.wait(l, [&] { return writers_.empty(); });
  }
  CloseDb();
}

void Log::Impl::CloseDb() {
  if (db_ == nullptr) return;
  for (auto* h : handles_) {
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
    assert(s.ok());  // fails only for the default handle, which RocksDB also accepts
    (void)s;
  }
  handles_.clear();
  events_ = streams_ = keys_ = meta_ = projections_ = nullptr;
  // A failing Close() cannot be reported (the destructor, a reopen after a failed write);
  // everything acknowledged was already written through the WAL (and synced in kSync), so
  // nothing is lost by ignoring it.
  rocksdb::Status close_status = db_->Close();
  (void)close_status;  // ignored on purpose, see above
  delete db_;
  db_ = nullptr;
}

Status Log::Impl::OpenDb(bool reopening) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool read_only = options_.read_only || options_.salvage;
  const bool exists = fs::exists(fs::path(dir_) / "CURRENT", ec);
  if (ec) return Error::Io(fmt::format("cannot inspect {}: {}", dir_, ec.message()));
  const std::string no_ledger = fmt::format("no ledger at {}; run `hourbank init` first", dir_);
  if (exists && options_.error_if_exists && !reopening) {
    return Error::Invalid(fmt::format("a ledger already exists at {}", dir_));
  }
  const bool create = options_.create_if_missing && !read_only;
  if (!exists) {
    if (!create) return Error::NotFound(no_ledger);
    fs::create_directories(dir_, ec);
    if (ec) return Error::Io(fmt::format("cannot create {}: {}", dir_, ec.message()));
    // 0700 whatever the umask: a ledger holds contracts, payments and token hashes.
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) return Error::Io(fmt::format("cannot make {} private (mode 0700): {}", dir_, ec.message()));
  }
  if (read_only && LockedByAnotherProcess(dir_)) {
    return Error::Busy(fmt::format(
        "the ledger at {} is in use by another process (e.g. `hourbank serve`); stop it, or "
        "send the command to that server with --server",
        dir_));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = create;
  db_options.create_missing_column_families = create;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;  // the dev machines have 2 cores
  db_options.keep_log_file_num = 4;    // RocksDB's own info LOG files
  // Past this much WAL, RocksDB flushes the column families that keep the oldest WAL alive
  // (meta, streams and keys change with every append but fill their memtables slowly, so by
  // default they would keep every WAL file up to 4 x the write buffers, over 1 GiB). Every
  // open replays the WAL into memory, so this bounds the cost of an open, which a read-only
  // command (`hourbank audit`, `balance`) pays each time.
  db_options.max_total_wal_size = kWalBytesMax;
  // A damaged WAL record anywhere refuses the open (RocksDB's default, point-in-time
  // recovery, would cut the log there and the first flush would delete the rest).
  db_options.wal_recovery_mode = options_.salvage ? rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords
                                                  : rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  if (read_only) {
    db_options.info_log = std::make_shared<NullLogger>();
  } else {
    db_options.env = PrivateEnv();
  }

  const std::vector<std::string> ours = {"default", format::kEventsCf, format::kStreamsCf,
                                         format::kKeysCf, format::kMetaCf,
                                         format::kProjectionsCf};
  if (exists) {
    std::vector<std::string> present;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir_, &present);
    if (!s.ok()) return FromRocks(s, fmt::format("cannot read the ledger at {}", dir_));
    for (const auto& name : present) {
      if (std::find(ours.begin(), ours.end(), name) == ours.end()) {
        return Error::Corruption(fmt::format(
            "{} has a column family '{}' that no ledger has; is it a ledger directory?", dir_,
            name));
      }
    }
    bool has_meta = std::find(present.begin(), present.end(), format::kMetaCf) != present.end();
    if (!has_meta && (!create || read_only)) return Error::NotFound(no_ledger);
  }

  // An append-only log: sequential keys, point reads by seq from the streams index, scans.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = 32u << 20;
  cf_options.level_compaction_dynamic_level_bytes = true;
  cf_options.paranoid_file_checks = false;  // block checksums are verified on every read

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : ours) descriptors.emplace_back(name, cf_options);
  auto open = [&] {
    return read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir_, descriptors, &handles_, &db_)
                     : rocksdb::DB::Open(db_options, dir_, descriptors, &handles_, &db_);
  };
  rocksdb::Status s = open();
  if (s.IsCorruption() && !options_.salvage) {
    // Which WAL, where, and whether it is only a write that never finished.
    auto files = wal::WalFiles(dir_);
    if (files.ok()) {
      for (size_t i = 0; i < files->size(); ++i) {
        auto damage = wal::CheckWalFile((*files)[i]);
        if (!damage.ok() || !*damage) continue;
        const wal::Damage& d = **damage;
        if (d.torn_tail && i + 1 == files->size()) {
          // The newest WAL ends part way through a record: its write never finished, so it
          // was never acknowledged. Tolerate exactly that (RocksDB drops the torn record).
          db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
          handles_.clear();
          db_ = nullptr;
          s = open();
          break;
        }
        return Error::Corruption(fmt::format(
            "the ledger at {} cannot be opened: its write-ahead log {} is damaged at byte {} "
            "({}), so acknowledged events there cannot be read; nothing was changed. Run "
            "`hourbank recover --from {} --to NEWDIR` to copy every readable event into a new "
            "ledger with a report of what was lost",
            dir_, (*files)[i], d.offset, d.problem, dir_));
      }
    }
    if (s.IsCorruption()) {
      return Error::Corruption(fmt::format(
          "the ledger at {} cannot be opened: {}; nothing was changed. Run `hourbank recover "
          "--from {} --to NEWDIR` to copy every readable event into a new ledger",
          dir_, s.ToString(), dir_));
    }
  }
  if (!s.ok()) {
    std::string text = s.ToString();
    if (s.IsIOError() && (text.find("lock") != std::string::npos ||
                          text.find("LOCK") != std::string::npos)) {
      return Error::Busy(fmt::format(
          "the ledger at {} is in use by another process (e.g. `hourbank serve`); stop it, or "
          "send the command to that server with --server",
          dir_));
    }
    return FromRocks(s, fmt::format("cannot open the ledger at {}", dir_));
  }
  assert(handles_.size() == ours.size());
  events_ = handles_[1];
  streams_ = handles_[2];
  keys_ = handles_[3];
  meta_ = handles_[4];
  projections_ = handles_[5];

  std::string version;
  s = db_->Get(ReadOpts(nullptr), meta_, ToSlice(format::kMetaFormatVersion), &version);
  if (s.IsNotFound()) {
    if (!create) return Error::NotFound(no_ledger);
    // A new ledger (or one whose creation stopped before this batch): write the empty head.
    // Never over existing events: that would reset the head of a damaged ledger.
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOpts(nullptr), events_));
      it->SeekToFirst();
      if (!it->status().ok()) return FromRocks(it->status(), "cannot read the events");
      if (it->Valid()) {
        return Error::Corruption(fmt::format(
            "the ledger at {} has events but no format version in meta; run `hourbank audit`",
            dir_));
      }
    }
    rocksdb::WriteBatch batch;
    std::string v;
    format::AppendFixed32BE(&v, format::kFormatVersion);
    Hash zeros{};
    bool ok = batch.Put(meta_, ToSlice(format::kMetaFormatVersion), v).ok() &&
              batch.Put(meta_, ToSlice(format::kMetaHeadSeq), Fixed64(0)).ok() &&
              batch.Put(meta_, ToSlice(format::kMetaHeadHash), ToSlice(HashView(zeros))).ok() &&
              batch.Put(meta_, ToSlice(format::kMetaHeadRecordedAtUs), Fixed64(0)).ok();
    assert(ok);
    (void)ok;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db_->Write(wo, &batch);
    if (!s.ok()) return FromRocks(s, fmt::format("cannot initialise the ledger at {}", dir_));
  } else if (!s.ok()) {
    return FromRocks(s, fmt::format("cannot read the format version of {}", dir_));
  } else if (version.size() != 4 || format::ReadBE(version, 4) != format::kFormatVersion) {
    return Error::Corruption(fmt::format(
        "the ledger at {} has format version {}; this build reads version {}", dir_,
        version.size() == 4 ? format::ReadBE(version, 4) : 0, format::kFormatVersion));
  }
  return LoadHead();
}

Status Log::Impl::LoadHead() {
  auto ro = ReadOpts(nullptr);
  std::string seq, hash, recorded;
  for (auto [key, out] : {std::pair{format::kMetaHeadSeq, &seq},
                          std::pair{format::kMetaHeadHash, &hash},
                          std::pair{format::kMetaHeadRecordedAtUs, &recorded}}) {
    rocksdb::Status s = db_->Get(ro, meta_, ToSlice(key), out);
    if (s.IsNotFound()) {
      return Error::Corruption(fmt::format("the ledger at {} has no meta '{}'", dir_, key));
    }
    if (!s.ok()) return FromRocks(s, fmt::format("cannot read meta '{}' of {}", key, dir_));
  }
  if (seq.size() != 8 || hash.size() != format::kHashBytes || recorded.size() != 8) {
    return Error::Corruption(fmt::format("the head records in meta of {} are malformed", dir_));
  }
  std::lock_guard<std::mutex> l(state_mu_);
  head_seq_ = format::ReadBE(seq, 8);
  std::memcpy(head_hash_.data(), hash.data(), hash.size());
  head_recorded_at_us_ = static_cast<int64_t>(format::ReadBE(recorded, 8));
  return Status::Ok();
}

// --- append ------------------------------------------------------------------------------

// Validates the request and stamps every envelope field whose size is known now (clientId,
// idempotencyKey, a zeroed 32-byte prevHash), so that the leader later only overwrites
// fixed-size fields and the size measured here is the size written. Runs on the caller's
// thread, outside any lock: the expensive part of an append (digest, size) is parallel.
Status Log::Impl::Prepare(AppendRequest& request, Writer* w) const {
  if (!ValidClientId(request.client_id)) {
    return Error::Invalid(fmt::format(
        "client id '{}' is not valid: use 1 to 64 of a-z 0-9 . _ - starting with a letter or "
        "digit (system streams add a leading '$')",
        request.client_id));
  }
  if (request.events.empty()) {
    return Error::Invalid("an append needs at least one event; the batch is empty");
  }
  if (request.events.size() > options_.batch_events_max) {
    return Error::Limit(fmt::format("the append has {} events; the limit (batch_events_max) is {}",
                                    request.events.size(), options_.batch_events_max));
  }
  const std::string& key = request.idempotency_key;
  if (key.size() > options_.idempotency_key_bytes_max) {
    return Error::Limit(fmt::format(
        "the idempotency key is {} bytes; the limit (idempotency_key_bytes_max) is {}",
        key.size(), options_.idempotency_key_bytes_max));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      return Error::Invalid(fmt::format(
          "the idempotency key has a control character (0x{:02x}) at byte {}", c, i));
    }
  }

  // Validate every draft before touching any, so a refused request leaves them as given.
  for (size_t i = 0; i < request.events.size(); ++i) {
    auto root = request.events[i].root();
    if (!HasBody(root.asReader())) {
      return Error::Invalid(
          fmt::format("event #{} of the append has no body: set one member of Event.body", i + 1));
    }
    if (root.getEffectiveAtUs() <= 0) {
      return Error::Invalid(fmt::format(
          "event #{} of the append has effectiveAtUs = {}; it must be > 0 (µs since the epoch, "
          "UTC)",
          i + 1, root.getEffectiveAtUs()));
    }
    std::string_view draft_key = TextView(root.asReader().getIdempotencyKey());
    if (!draft_key.empty() && draft_key != key) {
      return Error::Invalid(fmt::format(
          "event #{} carries idempotency key '{}' but the append request has '{}'; set the key "
          "on the request",
          i + 1, draft_key, key));
    }
  }

  if (!key.empty()) {
    // What makes a retry "the same request". The default covers the stream as well as the
    // drafts, so a key reused for the same body on another stream is a conflict, not a
    // replay of someone else's events (the leader also checks the stream on replay).
    if (request.request_digest) {
      w->request_digest = *request.request_digest;
    } else {
      // Default: BLAKE2b-256(client_id 0x00 (fixed64_be length, flat draft bytes)*), the
      // drafts as the caller built them, before any stamping.
      codec::Hasher h;
      h.Update(request.client_id);
      h.Update(std::string_view("\0", 1));
      for (auto& draft : request.events) {
        auto flat = capnp::messageToFlatArray(draft.message());
        auto bytes = flat.asChars();
        h.Update(Fixed64(bytes.size()));
        h.Update(std::string_view(bytes.begin(), bytes.size()));
      }
      w->request_digest = h.Final();
    }
  }

  for (size_t i = 0; i < request.events.size(); ++i) {
    auto& draft = request.events[i];
    auto root = draft.root();
    if (TextView(root.asReader().getClientId()) != request.client_id) {
      root.setClientId(request.client_id);
    }
    if (TextView(root.asReader().getIdempotencyKey()) != key) root.setIdempotencyKey(key);
    if (root.asReader().getPrevHash().size() == format::kHashBytes) {
      auto ph = root.getPrevHash();
      std::memset(ph.begin(), 0, ph.size());
    } else {
      root.initPrevHash(format::kHashBytes);
    }
    root.setSeq(0);
    root.setRecordedAtUs(0);
    uint64_t bytes = capnp::computeSerializedSizeInWords(draft.message()) * sizeof(capnp::word);
    if (bytes > options_.event_bytes_max) {
      return Error::Limit(fmt::format(
          "event #{} of the append is {} bytes; the limit (event_bytes_max) is {} bytes", i + 1,
          bytes, options_.event_bytes_max));
    }
    w->bytes += bytes;
  }
  return Status::Ok();
}

Result<AppendResult> Log::Impl::Append(AppendRequest request) {
  HB_TRY(RefuseReadOnly());
  Writer w;
  w.request = &request;
  if (Status s = Prepare(request, &w); !s.ok()) return s.error();

  std::unique_lock<std::mutex> lock(queue_mu_);
  assert(writers_.size() < kWritersQueuedMax && "more appending threads than the queue bound");
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) {
    if (w.error) return *w.error;
    return w.result;
  }

  // This writer leads: take followers from the front, up to the group bounds. The leader is
  // always taken, so one request larger than group_bytes_max is written alone.
  std::vector<Writer*> group;
  uint64_t group_bytes = 0;
  for (Writer* x : writers_) {
    if (!group.empty() && (group.size() >= kGroupRequestsMax ||
                           group_bytes + x->bytes > options_.group_bytes_max)) {
      break;
    }
    group.push_back(x);
    group_bytes += x->bytes;
  }
  // New writers may queue behind the group while it is written; the group itself stays at
  // the front, so no other leader runs until it is popped below.
  lock.unlock();
  CommitGroup(group);
  lock.lock();
  for (Writer* x : group) {
    assert(writers_.front() == x);
    writers_.pop_front();
    if (x != &w) {
      x->done = true;
      x->cv.notify_one();
    }
  }
  if (!writers_.empty()) {
    writers_.front()->cv.notify_one();  // the next leader
  } else {
    idle_cv_.notify_all();
  }
  if (w.error) return *w.error;
  return w.result;
}

// The stream's committed version, as the leader sees it. Only leaders fill versions_, and
// leaders run one at a time after the previous group's write, so a value read from RocksDB
// here is never older than the cache would be.
Result<uint32_t> Log::Impl::LeaderStreamVersion(const std::string& client_id) {
  {
    std::lock_guard<std::mutex> l(state_mu_);
    auto it = versions_.find(client_id);
    if (it != versions_.end()) return it->second;
  }
  auto v = ReadStreamVersion(client_id, nullptr);
  if (!v.ok()) return v.error();
  std::lock_guard<std::mutex> l(state_mu_);
  versions_[client_id] = *v;
  return *v;
}

void Log::Impl::CommitGroup(const std::vector<Writer*>& group) {
  // After a failed write, reopen first (before db_mu_ is taken shared below).
  const std::string still_failing = TryResume();
  std::shared_lock<std::shared_timed_mutex> db_lock(db_mu_);
  if (db_ == nullptr) {
    Error e = Error::Io(fmt::format("cannot write to the ledger at {}: {}", dir_, still_failing));
    for (Writer* w : group) w->error = e;
    return;
  }
  uint64_t head;
  Hash hash;
  int64_t recorded_at_us;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    head = head_seq_;
    hash = head_hash_;
    recorded_at_us = head_recorded_at_us_;
  }
  // Effects of accepted writers earlier in this group, not yet committed.
  std::unordered_map<std::string, uint32_t> pending_versions;  // <= group.size() entries
  std::unordered_map<std::string, Writer*> pending_keys;       // <= group.size() entries
  std::vector<Writer*> acknowledged;  // accepted or replayed: answered only if the write works
  rocksdb::WriteBatch batch;
  uint64_t events_count = 0;
  const int64_t now_us = NowUs();

  auto put = [&](rocksdb::ColumnFamilyHandle* cf, std::string_view k, std::string_view v) {
    rocksdb::Status s = batch.Put(cf, ToSlice(k), ToSlice(v));
    // WriteBatch::Put fails only past its 4 GiB size bound, which the group bounds exclude.
    assert(s.ok());
    (void)s;
  };

  for (Writer* w : group) {
    AppendRequest& req = *w->request;
    const std::string& key = req.idempotency_key;

    auto committed = LeaderStreamVersion(req.client_id);
    if (!committed.ok()) {
      w->error = committed.error();
      continue;
    }
    uint32_t version = *committed;
    if (auto it = pending_versions.find(req.client_id); it != pending_versions.end()) {
      version = it->second;
    }

    if (!key.empty()) {
      std::optional<IdempotencyRecord> seen;
      if (auto it = pending_keys.find(key); it != pending_keys.end()) {
        // The same key twice in one group: the second is a retry of the first.
        const Writer* first = it->second;
        if (first->request_digest == w->request_digest &&
            first->request->client_id == req.client_id) {
          w->result = first->result;
          w->result.replayed = true;
          acknowledged.push_back(w);
        } else {
          w->error = Error::Conflict(fmt::format(
              "idempotency key '{}' was already used for a different request (seqs {}..{}); "
              "use a new key for a new request",
              key, first->result.first_seq, first->result.first_seq + first->result.count - 1));
        }
        continue;
      }
      auto rec = LookupKey(key);
      if (!rec.ok()) {
        w->error = rec.error();
        continue;
      }
      seen = *rec;
      if (seen) {
        const uint64_t last_seq = seen->first_seq + seen->count - 1;
        std::optional<Error> conflict;
        if (seen->request_digest != w->request_digest) {
          conflict = Error::Conflict(fmt::format(
              "idempotency key '{}' was already used for a different request (seqs {}..{}); "
              "use a new key for a new request",
              key, seen->first_seq, last_seq));
        } else {
          // Same digest: the original result, whose stream version is found from the index.
          // Search only committed versions: a key found in RocksDB names committed events.
          auto v = VersionOfSeq(req.client_id, last_seq, *committed);
          if (!v.ok()) {
            w->error = v.error();
            continue;
          }
          if (*v == 0) {
            conflict = Error::Conflict(fmt::format(
                "idempotency key '{}' was already used by another stream (seqs {}..{}); use a "
                "new key",
                key, seen->first_seq, last_seq));
          } else {
            w->result = AppendResult{seen->first_seq, seen->count, *v, true};
            acknowledged.push_back(w);
          }
        }
        if (conflict) w->error = std::move(*conflict);
        continue;
      }
    }

    if (req.expected_version && *req.expected_version != version) {
      w->error = Error::Conflict(fmt::format(
          "stream {} is at version {}, not the expected version {}; re-read the stream and "
          "decide again",
          req.client_id, version, *req.expected_version));
      w->error->current_version = version;
      continue;
    }

    // Accepted: stamp, serialize, chain, index.
    const uint64_t first_seq = head + 1;
    for (auto& draft : req.events) {
      ++head;
      ++version;
      recorded_at_us = std::max(now_us, recorded_at_us);
      auto root = draft.root();
      root.setSeq(head);
      root.setRecordedAtUs(recorded_at_us);
      auto ph = root.getPrevHash();
      assert(ph.size() == hash.size());  // sized by Prepare
      std::memcpy(ph.begin(), hash.data(), hash.size());
      kj::Array<capnp::word> flat = capnp::messageToFlatArray(draft.message());
      std::string_view bytes(flat.asChars().begin(), flat.asChars().size());
      assert(bytes.size() <= options_.event_bytes_max);  // fixed-size fields only changed
      hash = ChainHash(hash, bytes);
      put(events_, format::SeqKey(head), bytes);
      put(streams_, format::StreamKey(req.client_id, version), Fixed64(head));
      ++events_count;
    }
    const auto count = static_cast<uint32_t>(req.events.size());
    if (!key.empty()) {
      put(keys_, key, KeyValue(first_seq, count, w->request_digest));
      pending_keys[key] = w;
    }
    pending_versions[req.client_id] = version;
    w->result = AppendResult{first_seq, count, version, false};
    acknowledged.push_back(w);
  }

  rocksdb::Status s;
  bool wrote = false;
  if (events_count > 0) {
    put(meta_, format::kMetaHeadSeq, Fixed64(head));
    put(meta_, format::kMetaHeadHash, HashView(hash));
    put(meta_, format::kMetaHeadRecordedAtUs, Fixed64(static_cast<uint64_t>(recorded_at_us)));
    bool inject = false;
    {
      std::lock_guard<std::mutex> l(state_mu_);
      if (injected_write_failures_ > 0) {
        --injected_write_failures_;
        inject = true;
      }
    }
    const std::string still = inject ? std::string() : still_failing;
    if (!still.empty()) {
      s = rocksdb::Status::IOError(still);  // still failing: write_failure_ stays as it was
    } else {
      s = inject ? rocksdb::Status::IOError("injected for testing", "No space left on device")
                 : db_->Write(WriteOpts(), &batch);
      std::lock_guard<std::mutex> l(state_mu_);
      write_failure_ = s.ok() ? std::string() : s.ToString();
    }
    wrote = s.ok();
    if (!s.ok()) {
      // Nothing of the group is acknowledged, not even replays: a caller retries the group's
      // requests as a whole and gets the same answers then. The head stays where it was.
      Error e = FromRocks(s, fmt::format("cannot write to the ledger at {}", dir_));
      if (e.code != Code::kIo) e = Error::Io(e.message);
      for (Writer* w : acknowledged) w->error = e;
      acknowledged.clear();
    }
  }

  std::lock_guard<std::mutex> l(state_mu_);
  if (wrote) {
    head_seq_ = head;
    head_hash_ = hash;
    head_recorded_at_us_ = recorded_at_us;
    for (auto& [client, version] : pending_versions) versions_[client] = version;
    ++stats_.write_groups;
    if (options_.durability == Durability::kSync) ++stats_.fsyncs;
    stats_.events_appended += events_count;
  }
  stats_.append_requests += acknowledged.size();
  stats_.group_requests_max = std::max<uint64_t>(stats_.group_requests_max, group.size());
}

// --- reads -------------------------------------------------------------------------------

Result<uint64_t> Log::Impl::SnapshotHead(const rocksdb::Snapshot* snapshot) const {
  std::string v;
  rocksdb::Status s = db_->Get(ReadOpts(snapshot), meta_, ToSlice(format::kMetaHeadSeq), &v);
  if (!s.ok()) return FromRocks(s, "cannot read the head seq");
  auto seq = format::ParseSeq(v);
  if (!seq) return Error::Corruption("meta head_seq is not 8 bytes");
  return *seq;
}

Status Log::Impl::Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
                       const ReadOptions& read) const {
  rocksdb::ManagedSnapshot snap(db_);
  auto head = SnapshotHead(snap.snapshot());
  if (!head.ok()) return head.error();
  uint64_t last = *head;
  if (to_seq != 0) last = std::min(last, to_seq);
  if (read.as_of_seq != 0) last = std::min(last, read.as_of_seq);
  const uint64_t first = std::max<uint64_t>(from_seq, 1);
  if (first > last) return Status::Ok();

  auto ro = ReadOpts(snap.snapshot());
  // A long scan (a rebuild, an export) reads each block once, in key order: read ahead in
  // large sequential reads, and keep its blocks out of the block cache, so a full replay
  // neither evicts the blocks that point reads need nor makes the process grow with the log.
  // Short scans (a tail) keep the defaults.
  if (last - first >= kLongScanEvents) {
    ro.readahead_size = kScanReadaheadBytes;
    ro.fill_cache = false;
  }
  const std::string upper = format::SeqKey(last == UINT64_MAX ? last : last + 1);
  rocksdb::Slice upper_slice(upper);
  if (last != UINT64_MAX) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  std::vector<capnp::word> scratch;  // reused for misaligned values
  uint64_t expected = first;
  bool stop = false;
  // Bounded: one step per seq in [first, last].
  for (it->Seek(format::SeqKey(first)); it->Valid() && !stop; it->Next()) {
    auto seq = format::ParseSeq(ToView(it->key()));
    if (!seq) return Error::Corruption("a key in the events column family is not 8 bytes", expected);
    if (*seq != expected) {
      return Error::Corruption(
          fmt::format("event {} is missing: the log jumps from {} to {}", expected, expected - 1,
                      *seq),
          expected);
    }
    std::string_view bytes = ToView(it->value());
    Status st = codec::Decode(*seq, bytes, scratch, [&](schemas::Event::Reader e) {
      // recordedAtUs never decreases along the log (Verify checks it), so the first event
      // recorded after known_at_us ends the read.
      if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) {
        stop = true;
        return;
      }
      if (!visit(EventView{*seq, bytes, e})) stop = true;
    });
    if (!st.ok()) return st;
    ++expected;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot scan the events");
  if (!stop && expected <= last) {
    return Error::Corruption(
        fmt::format("event {} is missing: the head is {} but the log ends at {}", expected,
                    *head, expected - 1),
        expected);
  }
  return Status::Ok();
}

Status Log::Impl::ReadStream(std::string_view client_id, uint32_t from_version,
                             uint32_t to_version, const Visitor& visit,
                             const ReadOptions& read) const {
  if (!ValidClientId(client_id)) {
    return Error::Invalid(fmt::format("client id '{}' is not valid", client_id));
  }
  rocksdb::ManagedSnapshot snap(db_);
  auto head = SnapshotHead(snap.snapshot());
  if (!head.ok()) return head.error();
  const uint64_t last_seq = read.as_of_seq != 0 ? std::min(*head, read.as_of_seq) : *head;
  const uint32_t first_version = std::max<uint32_t>(from_version, 1);
  if (to_version != 0 && to_version < first_version) return Status::Ok();

  auto ro = ReadOpts(snap.snapshot());
  const std::string upper = (to_version == 0 || to_version == UINT32_MAX)
                                ? format::StreamEnd(client_id)
                                : format::StreamKey(client_id, to_version + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_));

  std::vector<uint64_t> seqs;
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> key_slices;
  std::vector<rocksdb::PinnableSlice> values(kStreamReadChunkEvents);
  std::vector<rocksdb::Status> statuses(kStreamReadChunkEvents);
  std::vector<capnp::word> scratch;
  bool stop = false;

  // Reads and visits the events of `seqs` (at most kStreamReadChunkEvents).
  auto flush = [&]() -> Status {
    if (seqs.empty()) return Status::Ok();
    keys.clear();
    key_slices.clear();
    for (uint64_t s : seqs) keys.push_back(format::SeqKey(s));
    for (const auto& k : keys) key_slices.emplace_back(k);
    for (auto& v : values) v.Reset();
    db_->MultiGet(ro, events_, seqs.size(), key_slices.data(), values.data(), statuses.data(),
                  /*sorted_input=*/true);
    for (size_t i = 0; i < seqs.size() && !stop; ++i) {
      const uint64_t seq = seqs[i];
      if (statuses[i].IsNotFound()) {
        return Error::Corruption(
            fmt::format("stream {} points at event {}, which is missing", client_id, seq), seq);
      }
      if (!statuses[i].ok()) return FromRocks(statuses[i], fmt::format("cannot read event {}", seq));
      std::string_view bytes = ToView(values[i]);
      std::optional<Error> wrong_client;
      Status st = codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
        if (TextView(e.getClientId()) != client_id) {
          wrong_client = Error::Corruption(
              fmt::format("stream {} points at event {}, which belongs to '{}'", client_id, seq,
                          TextView(e.getClientId())),
              seq);
          return;
        }
        if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) {
          stop = true;
          return;
        }
        if (!visit(EventView{seq, bytes, e})) stop = true;
      });
      if (!st.ok()) return st;
      if (wrong_client) return *wrong_client;
    }
    seqs.clear();
    return Status::Ok();
  };

  uint32_t expected_version = first_version;
  uint64_t previous_seq = 0;
  // Bounded: one step per version of the stream.
  for (it->Seek(format::StreamKey(client_id, first_version)); it->Valid() && !stop; it->Next()) {
    auto parts = format::ParseStreamKey(ToView(it->key()));
    auto seq = format::ParseSeq(ToView(it->value()));
    if (!parts || parts->client_id != client_id || !seq) {
      return Error::Corruption(fmt::format("the streams index of {} has a malformed entry near "
                                           "version {}",
                                           client_id, expected_version));
    }
    if (parts->version != expected_version) {
      return Error::Corruption(fmt::format("the streams index of {} misses version {}",
                                           client_id, expected_version),
                               *seq);
    }
    if (*seq <= previous_seq) {
      return Error::Corruption(fmt::format("the streams index of {} goes back from seq {} to {}",
                                           client_id, previous_seq, *seq),
                               *seq);
    }
    if (*seq > last_seq) break;  // later versions are later seqs
    previous_seq = *seq;
    ++expected_version;
    seqs.push_back(*seq);
    if (seqs.size() == kStreamReadChunkEvents) HB_TRY(flush());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the streams index");
  return flush();
}

Result<std::string> Log::Impl::Get(uint64_t seq) const {
  std::string value;
  rocksdb::Status s = seq == 0 ? rocksdb::Status::NotFound()
                               : db_->Get(ReadOpts(nullptr), events_, format::SeqKey(seq), &value);
  if (s.IsNotFound()) {
    return Error::NotFound(fmt::format("no event with seq {} (the head is {})", seq, head_seq()));
  }
  if (!s.ok()) return FromRocks(s, fmt::format("cannot read event {}", seq));
  return value;
}

Result<std::optional<uint64_t>> Log::Impl::ReadStreamSeq(std::string_view client_id,
                                                         uint32_t version,
                                                         const rocksdb::Snapshot* snapshot) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(ReadOpts(snapshot), streams_, format::StreamKey(client_id, version), &v);
  if (s.IsNotFound()) return std::optional<uint64_t>();
  if (!s.ok()) return FromRocks(s, fmt::format("cannot read the streams index of {}", client_id));
  auto seq = format::ParseSeq(v);
  if (!seq) {
    return Error::Corruption(
        fmt::format("streams index entry {} v{} is not an 8-byte seq", client_id, version));
  }
  return std::optional<uint64_t>(*seq);
}

Result<uint32_t> Log::Impl::ReadStreamVersion(std::string_view client_id,
                                              const rocksdb::Snapshot* snapshot) const {
  auto ro = ReadOpts(snapshot);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_));
  it->SeekForPrev(format::StreamKey(client_id, UINT32_MAX));
  if (!it->status().ok()) {
    return FromRocks(it->status(), fmt::format("cannot read the stream version of {}", client_id));
  }
  if (!it->Valid()) return 0u;
  auto parts = format::ParseStreamKey(ToView(it->key()));
  if (!parts || parts->client_id != client_id) return 0u;  // no key of this client
  return parts->version;
}

// The version of `client_id`'s stream whose event is `seq`, or 0 when the stream has no such
// event. Binary search over the index (versions map to increasing seqs): <= 33 point reads.
Result<uint32_t> Log::Impl::VersionOfSeq(const std::string& client_id, uint64_t seq,
                                         uint32_t current_version) const {
  uint32_t lo = 1, hi = current_version;
  while (lo <= hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    auto at = ReadStreamSeq(client_id, mid, nullptr);
    if (!at.ok()) return at.error();
    if (!*at) {
      return Error::Corruption(fmt::format("the streams index of {} misses version {}",
                                           client_id, mid));
    }
    if (**at == seq) return mid;
    if (**at < seq) {
      lo = mid + 1;
    } else {
      if (mid == 1) break;
      hi = mid - 1;
    }
  }
  return 0u;
}

Result<uint32_t> Log::Impl::StreamVersion(std::string_view client_id) const {
  {
    std::lock_guard<std::mutex> l(state_mu_);
    auto it = versions_.find(std::string(client_id));
    if (it != versions_.end()) return it->second;
  }
  // Not cached: RocksDB is at least as new as the cache (leaders update it after writing).
  if (!ValidClientId(client_id)) return 0u;
  return ReadStreamVersion(client_id, nullptr);
}

Result<std::vector<std::string>> Log::Impl::ListStreams() const {
  std::vector<std::string> ids;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOpts(nullptr), streams_));
  // Bounded: one seek per stream, each past every key of the previous one.
  it->SeekToFirst();
  while (it->Valid()) {
    auto parts = format::ParseStreamKey(ToView(it->key()));
    if (!parts) return Error::Corruption("the streams index has a malformed key");
    ids.emplace_back(parts->client_id);
    it->Seek(format::StreamEnd(parts->client_id));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot list the streams");
  return ids;
}

Result<std::optional<IdempotencyRecord>> Log::Impl::LookupKey(std::string_view key) const {
  std::string v;
  rocksdb::Status s = db_->Get(ReadOpts(nullptr), keys_, ToSlice(key), &v);
  if (s.IsNotFound()) return std::optional<IdempotencyRecord>();
  if (!s.ok()) return FromRocks(s, "cannot read the idempotency keys");
  auto rec = ParseKeyValue(v);
  if (!rec) {
    return Error::Corruption(fmt::format("the record of idempotency key '{}' is {} bytes, not {}",
                                         key, v.size(), format::kKeyValueBytes));
  }
  return std::optional<IdempotencyRecord>(*rec);
}

// --- verify ------------------------------------------------------------------------------

// Each link n-1 -> n is checked locally: L(n-1) := BLAKE2b(prevHash(n-1) ‖ bytes(n-1)) must
// equal prevHash(n) (and hash(0), zeros, must equal prevHash(1); L(head) must equal the head
// hash in meta). All links holding is exactly "the chain recomputed from seq 1 ends at the
// head hash". Checking links one by one also tells WHICH event changed:
//   - bytes of event k changed (not its prevHash): only link k -> k+1 breaks;
//   - the prevHash field of event k changed: links k-1 -> k and k -> k+1 both break.
// So at the first broken link j-1 -> j, the next link decides: broken too -> event j, intact
// -> event j-1.
Result<VerifyReport> Log::Impl::VerifyPrecise(
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  rocksdb::ManagedSnapshot snap(db_);
  auto ro = ReadOpts(snap.snapshot());
  VerifyReport r;
  auto fail = [&r](uint64_t seq, std::string problem) {
    r.ok = false;
    r.first_bad_seq = seq;
    r.problem = std::move(problem);
    return r;
  };

  auto head = SnapshotHead(snap.snapshot());
  if (!head.ok()) {
    if (head.error().code == Code::kCorruption) return fail(0, head.error().message);
    return head.error();
  }
  std::string meta_hash_bytes;
  rocksdb::Status s = db_->Get(ro, meta_, ToSlice(format::kMetaHeadHash), &meta_hash_bytes);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "cannot read the head hash");
  if (meta_hash_bytes.size() != format::kHashBytes) return fail(0, "meta head_hash is missing or not 32 bytes");
  Hash meta_hash;
  std::memcpy(meta_hash.data(), meta_hash_bytes.data(), meta_hash.size());

  const uint64_t total = *head;
  std::vector<capnp::word> scratch;
  Hash chain{};                // hash(n) recomputed from seq 1
  Hash link{};                 // L(n-1), what prevHash(n) must be
  std::optional<uint64_t> broken_into;  // j: link j-1 -> j is broken, awaiting the next link
  int64_t previous_recorded_at_us = std::numeric_limits<int64_t>::min();
  std::map<std::string, uint32_t> stream_counts;  // bounded by the number of streams
  uint64_t expected = 1;
  auto blame = [&](uint64_t j, bool next_link_ok) {
    uint64_t bad = (next_link_ok && j > 1) ? j - 1 : j;
    return fail(bad, fmt::format("hash chain broken at event {}: its bytes (or the next event's "
                                 "prevHash) were changed after it was written",
                                 bad));
  };

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  // Bounded: one step per stored event.
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto seq = format::ParseSeq(ToView(it->key()));
    if (!seq) return fail(expected, "a key in the events column family is not an 8-byte seq");
    if (*seq != expected) {
      if (broken_into) return blame(*broken_into, true);
      return fail(expected, fmt::format("event {} is missing: the log jumps from {} to {}",
                                        expected, expected - 1, *seq));
    }
    std::string_view bytes = ToView(it->value());
    Hash prev_hash{};
    std::string client, key;
    int64_t recorded_at_us = 0;
    Status st = codec::Decode(*seq, bytes, scratch, [&](schemas::Event::Reader e) {
      std::memcpy(prev_hash.data(), e.getPrevHash().begin(), prev_hash.size());
      client = TextView(e.getClientId());
      key = TextView(e.getIdempotencyKey());
      recorded_at_us = e.getRecordedAtUs();
    });
    if (!st.ok()) {
      if (broken_into) return blame(*broken_into, true);
      return fail(*seq, st.error().message);
    }
    const bool link_ok = prev_hash == link;
    if (broken_into) return blame(*broken_into, link_ok);
    if (!link_ok) broken_into = *seq;
    link = ChainHash(prev_hash, bytes);
    chain = ChainHash(chain, bytes);

    if (!broken_into) {
      if (recorded_at_us < previous_recorded_at_us) {
        return fail(*seq, fmt::format("event {} has recordedAtUs {} before the previous event's {}",
                                      *seq, recorded_at_us, previous_recorded_at_us));
      }
      previous_recorded_at_us = recorded_at_us;
      if (!ValidClientId(client)) {
        return fail(*seq, fmt::format("event {} has an invalid client id '{}'", *seq, client));
      }
      uint32_t version = ++stream_counts[client];
      auto indexed = ReadStreamSeq(client, version, snap.snapshot());
      if (!indexed.ok()) {
        if (indexed.error().code == Code::kCorruption) return fail(*seq, indexed.error().message);
        return indexed.error();
      }
      if (!*indexed || **indexed != *seq) {
        return fail(*seq, fmt::format("streams index: {} version {} should point at event {} but "
                                      "{}",
                                      client, version, *seq,
                                      *indexed ? fmt::format("points at {}", **indexed)
                                               : std::string("is missing")));
      }
      if (!key.empty()) {
        std::string v;
        s = db_->Get(ro, keys_, ToSlice(key), &v);
        if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "cannot read the idempotency keys");
        auto rec = s.ok() ? ParseKeyValue(v) : std::nullopt;
        if (!rec || *seq < rec->first_seq || *seq - rec->first_seq >= rec->count) {
          return fail(*seq, fmt::format("keys index: idempotency key '{}' of event {} does not "
                                        "cover it",
                                        key, *seq));
        }
      }
    }
    ++r.events_checked;
    ++expected;
    if (progress && r.events_checked % kVerifyProgressEvents == 0) {
      progress(r.events_checked, total);
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the events");
  const uint64_t last = expected - 1;
  if (broken_into) return blame(*broken_into, last == total && link == meta_hash);
  if (last < total) {
    return fail(last + 1, fmt::format("event {} is missing: the head in meta is {} but the log "
                                      "ends at {}",
                                      last + 1, total, last));
  }
  if (last > total) {
    return fail(total + 1, fmt::format("events after the head: the head in meta is {} but the "
                                       "log goes on to {}",
                                       total, last));
  }
  if (link != meta_hash) {
    return fail(last, fmt::format("hash chain broken at event {}: its hash does not match the "
                                  "head hash in meta",
                                  last));
  }
  r.head_hash = chain;

  // Streams index: every entry of event k was confirmed above; what remains is that there are
  // no other entries (unknown streams, versions past the stream's event count, gaps).
  {
    std::unique_ptr<rocksdb::Iterator> si(db_->NewIterator(ro, streams_));
    std::string current;
    uint32_t next_version = 1;
    // Bounded: one step per index entry.
    for (si->SeekToFirst(); si->Valid(); si->Next()) {
      auto parts = format::ParseStreamKey(ToView(si->key()));
      auto seq = format::ParseSeq(ToView(si->value()));
      if (!parts || !seq) return fail(0, "streams index: a malformed entry");
      if (parts->client_id != current) {
        if (!current.empty() && next_version - 1 != stream_counts[current]) {
          return fail(0, fmt::format("streams index: {} has {} entries for {} events", current,
                                     next_version - 1, stream_counts[current]));
        }
        current = std::string(parts->client_id);
        next_version = 1;
      }
      auto count = stream_counts.find(current);
      if (count == stream_counts.end() || parts->version != next_version ||
          parts->version > count->second) {
        return fail(*seq, fmt::format("streams index: unexpected entry {} version {} -> {}",
                                      current, parts->version, *seq));
      }
      ++next_version;
    }
    if (!si->status().ok()) return FromRocks(si->status(), "cannot read the streams index");
    if (!current.empty() && next_version - 1 != stream_counts[current]) {
      return fail(0, fmt::format("streams index: {} has {} entries for {} events", current,
                                 next_version - 1, stream_counts[current]));
    }
  }

  // Keys index: every record covers events that carry its key.
  {
    std::unique_ptr<rocksdb::Iterator> ki(db_->NewIterator(ro, keys_));
    // Bounded: one step per key, and per key at most `count` <= head events.
    for (ki->SeekToFirst(); ki->Valid(); ki->Next()) {
      std::string key(ToView(ki->key()));
      auto rec = ParseKeyValue(ToView(ki->value()));
      if (!rec) return fail(0, fmt::format("keys index: the record of '{}' is malformed", key));
      if (rec->count == 0 || rec->first_seq == 0 || rec->first_seq > last ||
          rec->count > last - rec->first_seq + 1) {
        return fail(rec->first_seq, fmt::format("keys index: '{}' points at seqs {}..{} outside "
                                                "the log 1..{}",
                                                key, rec->first_seq,
                                                rec->first_seq + rec->count - 1, last));
      }
      for (uint64_t seq = rec->first_seq; seq < rec->first_seq + rec->count; ++seq) {
        std::string v;
        s = db_->Get(ro, events_, format::SeqKey(seq), &v);
        if (!s.ok()) return FromRocks(s, fmt::format("cannot read event {}", seq));
        std::string carried;
        Status st = codec::Decode(seq, v, scratch, [&](schemas::Event::Reader e) {
          carried = TextView(e.getIdempotencyKey());
        });
        if (!st.ok()) return fail(seq, st.error().message);
        if (carried != key) {
          return fail(seq, fmt::format("keys index: '{}' points at event {}, which carries key "
                                       "'{}'",
                                       key, seq, carried));
        }
      }
    }
    if (!ki->status().ok()) return FromRocks(ki->status(), "cannot read the keys index");
  }
  if (progress) progress(r.events_checked, total);
  return r;
}

// --- health, recovery scan --------------------------------------------------------------

std::string Log::Impl::TryResume() {
  {
    std::lock_guard<std::mutex> l(state_mu_);
    if (write_failure_.empty()) return {};
  }
  std::lock_guard<std::mutex> r(resume_mu_);
  {
    std::lock_guard<std::mutex> l(state_mu_);
    if (write_failure_.empty()) return {};  // another thread resumed meanwhile
  }
  // RocksDB 7.8 cannot resume writing by itself after a failed WAL write: DB::Resume() (and
  // its own no-space recovery) either waits forever for a flush or leaves the WAL writer
  // failed (facebook/rocksdb#11643, #12998). Reopening the database works: the WAL is replayed
  // (a torn final record of the failed write, never acknowledged, is dropped, as after a
  // crash), flushed, and a new WAL is started. At most once per kResumeIntervalUs, and only
  // when the volume has room for that flush, so a full disk neither spins nor closes the
  // ledger for reads.
  const int64_t now_us = NowUs();
  std::string why;
  if (last_resume_us_ != 0 && now_us >= last_resume_us_ &&
      now_us - last_resume_us_ < kResumeIntervalUs) {
    why = last_resume_error_;
  } else if (std::string room = RoomToReopen(dir_); !room.empty()) {
    why = room;
  } else if (Status s = Reopen(); !s.ok()) {
    why = s.error().message;
  }
  if (why.empty()) {
    last_resume_us_ = 0;
    last_resume_error_.clear();
    std::lock_guard<std::mutex> l(state_mu_);
    write_failure_.clear();
    return {};
  }
  last_resume_us_ = now_us;
  last_resume_error_ = why;
  std::lock_guard<std::mutex> l(state_mu_);
  return fmt::format("{} (resuming failed: {})", write_failure_, why);
}

// REQUIRES: resume_mu_ held, and no Append() leader between reading the head and writing
// (leaders hold db_mu_ shared for their whole group).
Status Log::Impl::Reopen() {
  std::unique_lock<std::shared_timed_mutex> l(db_mu_, std::defer_lock);
  // Long scans hold db_mu_ shared; do not wait for them, try again later.
  if (!l.try_lock_for(std::chrono::milliseconds(kReopenWaitMs))) {
    return Error::Busy("reads are in progress; reopening is retried on the next write");
  }
  CloseDb();
  {
    std::lock_guard<std::mutex> s(state_mu_);
    versions_.clear();  // reloaded from the index by the next leaders
  }
  Status s = OpenDb(/*reopening=*/true);  // reloads the head from meta
  if (!s.ok()) CloseDb();
  return s;
}

Health Log::Impl::GetHealth() {
  if (options_.read_only || options_.salvage) return {};
  std::string still = TryResume();
  if (still.empty()) return {};
  const bool full = still.find("No space left") != std::string::npos ||
                    still.find("no space") != std::string::npos;
  return Health{false,
                full ? "the ledger cannot write: no space left on the device; free space and "
                       "writes resume by themselves"
                     : "the ledger cannot write: an I/O error; see the server's log",
                fmt::format("the ledger at {} cannot write: {}", dir_, still)};
}

Status Log::Impl::ScanStored(const std::function<bool(uint64_t, std::string_view)>& visit) const {
  auto ro = ReadOpts(nullptr);
  ro.fill_cache = false;
  ro.readahead_size = kScanReadaheadBytes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  // Bounded: one step per stored event.
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto seq = format::ParseSeq(ToView(it->key()));
    if (!seq) continue;
    if (!visit(*seq, ToView(it->value()))) return Status::Ok();
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the events");
  return Status::Ok();
}

namespace {

// A keyed multiset hash: the sum (two 64-bit lanes, mod 2^64 each) of SipHash-128 of each
// element under a random key. Equal sums for two multisets of byte strings mean, except with
// probability ~2^-64 per comparison, equal multisets; the key is drawn per Verify() call, so
// stored data cannot be crafted to collide.
// Events per stream, looked up by the string_view of a decoded event (no allocation).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StreamCounts = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

// Events handed to the link checker's thread at a time, and their bytes.
constexpr size_t kLinkBatchEvents = 4096;
constexpr size_t kLinkBatchBytes = 4u << 20;
// Batches waiting for the link checker (so at most ~5 x kLinkBatchBytes held).
constexpr size_t kLinkBatchesInFlight = 4;

class MultisetHash {
 public:
  explicit MultisetHash(const unsigned char* key) : key_(key) {}
  void Add(std::string_view element) {
    unsigned char out[crypto_shorthash_siphashx24_BYTES];
    crypto_shorthash_siphashx24(out, reinterpret_cast<const unsigned char*>(element.data()),
                                element.size(), key_);
    uint64_t a, b;
    std::memcpy(&a, out, 8);
    std::memcpy(&b, out + 8, 8);
    a_ += a;
    b_ += b;
    ++count_;
  }
  bool operator==(const MultisetHash& o) const {
    return a_ == o.a_ && b_ == o.b_ && count_ == o.count_;
  }
  uint64_t count() const { return count_; }

 private:
  const unsigned char* key_;
  uint64_t a_ = 0, b_ = 0, count_ = 0;
};

// Checks the hash chain link by link on a second thread while the events scan decodes and
// folds on the caller's. Link n holds when prevHash(n) = L(n-1), where L(n) := BLAKE2b(
// prevHash(n) ‖ bytes(n)) and L(0) := 32 zero bytes; all links holding means L(n) = hash(n)
// for every n (induction from prevHash(1) = hash(0)), i.e. exactly the chain recomputed from
// seq 1. L(n) needs only event n's own stored bytes, so the BLAKE2b work (as costly as the
// rest of an audit's pass) runs beside the scan. The events are handed over in batches
// copied out of the iterator (RocksDB's slices die with the next step); at most
// kLinkBatchesInFlight batches wait, so memory is bounded whatever the size of the log.
class LinkChecker {
 public:
  LinkChecker() {
    if (std::thread::hardware_concurrency() > 1) worker_ = std::thread([this] { Work(); });
  }
  ~LinkChecker() { Stop(); }
  LinkChecker(const LinkChecker&) = delete;
  LinkChecker& operator=(const LinkChecker&) = delete;

  // Event `seq` (the next one in seq order) with its stored prevHash (32 bytes) and bytes.
  void Add(const unsigned char* prev_hash, std::string_view bytes) {
    Batch& b = filling_;
    b.prev_hashes.emplace_back();
    std::memcpy(b.prev_hashes.back().data(), prev_hash, format::kHashBytes);
    b.ends.push_back(b.bytes.size() + bytes.size());
    b.bytes.append(bytes);
    if (b.ends.size() >= kLinkBatchEvents || b.bytes.size() >= kLinkBatchBytes) Hand();
  }

  // Waits for every link. Returns whether all held, and in *last the last link L(head).
  bool Finish(Hash* last) {
    Hand();
    Stop();
    *last = link_;
    return ok_;
  }

 private:
  struct Batch {
    std::vector<Hash> prev_hashes;
    std::vector<size_t> ends;  // bytes of event i: [ends[i-1], ends[i])
    std::string bytes;
  };

  void Hand() {
    if (filling_.ends.empty()) return;
    if (!worker_.joinable()) {
      Check(filling_);
    } else {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return queue_.size() < kLinkBatchesInFlight; });
      queue_.push_back(std::move(filling_));
      cv_.notify_all();
    }
    filling_ = Batch{};
  }

  void Stop() {
    if (!worker_.joinable()) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    worker_.join();
  }

  void Work() {
    std::unique_lock<std::mutex> l(mu_);
    // Bounded: one step per batch handed over, then stops.
    for (;;) {
      cv_.wait(l, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      Batch b = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
      l.unlock();
      Check(b);
      l.lock();
    }
  }

  // Runs on one thread at a time (the worker, or the caller when there is none).
  void Check(const Batch& b) {
    size_t begin = 0;
    for (size_t i = 0; i < b.ends.size(); ++i) {
      if (b.prev_hashes[i] != link_) ok_ = false;
      link_ = ChainHash(b.prev_hashes[i], std::string_view(b.bytes).substr(begin, b.ends[i] - begin));
      begin = b.ends[i];
    }
  }

  Batch filling_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;  // guarded by mu_; <= kLinkBatchesInFlight
  bool stopping_ = false;    // guarded by mu_
  // Written by Check() only; read by Finish() after the worker has been joined.
  Hash link_{};
  bool ok_ = true;
  std::thread worker_;  // last: started once the members above exist
};

}  // namespace

// The fast, bounded-memory pass: one sequential scan of each column family, no point reads.
// The events scan checks the chain, seqs, recorded times and client ids, and adds each
// event's expected streams entry (streams_key ‖ streams_value) and, when it carries a key,
// its (key 0x00 seq) pair to two multiset hashes; the streams and keys scans add what the
// indexes hold. Equal hashes mean the indexes are exactly what the events imply (what
// VerifyPrecise checks entry by entry). Any disagreement: VerifyPrecise finds and reports the
// first bad event, as it always did.
Result<VerifyReport> Log::Impl::Verify(const std::function<void(uint64_t, uint64_t)>& progress,
                                       const Visitor* visit) const {
  auto precise = [&] { return VerifyPrecise(progress); };
  rocksdb::ManagedSnapshot snap(db_);
  auto ro = ReadOpts(snap.snapshot());
  // Sequential reads of whole column families: read ahead, and leave the block cache (and
  // the filter blocks point reads need) alone.
  ro.fill_cache = false;
  ro.readahead_size = kScanReadaheadBytes;

  auto head = SnapshotHead(snap.snapshot());
  if (!head.ok()) return precise();
  std::string meta_hash_bytes;
  rocksdb::Status s = db_->Get(ro, meta_, ToSlice(format::kMetaHeadHash), &meta_hash_bytes);
  if (!s.ok() || meta_hash_bytes.size() != format::kHashBytes) return precise();
  const uint64_t total = *head;

  unsigned char key[crypto_shorthash_siphashx24_KEYBYTES];
  randombytes_buf(key, sizeof key);
  MultisetHash from_events_streams(key), from_events_keys(key), streams_index(key), keys_index(key);

  std::vector<capnp::word> scratch;
  LinkChecker links;
  int64_t previous_recorded_at_us = std::numeric_limits<int64_t>::min();
  StreamCounts stream_counts;  // bounded by the number of streams
  uint64_t expected = 1;
  std::string element;
  bool visiting = visit != nullptr && *visit;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    // Bounded: one step per stored event.
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto seq = format::ParseSeq(ToView(it->key()));
      if (!seq || *seq != expected || *seq > total) return precise();
      std::string_view bytes = ToView(it->value());
      bool event_ok = false;
      Status st = codec::Decode(*seq, bytes, scratch, [&](schemas::Event::Reader e) {
        const std::string_view client = TextView(e.getClientId());
        const std::string_view carried = TextView(e.getIdempotencyKey());
        const int64_t recorded_at_us = e.getRecordedAtUs();
        if (recorded_at_us < previous_recorded_at_us || !ValidClientId(client)) return;
        event_ok = true;
        previous_recorded_at_us = recorded_at_us;
        links.Add(e.getPrevHash().begin(), bytes);  // 32 bytes: checked by Decode
        auto count = stream_counts.find(client);
        if (count == stream_counts.end()) count = stream_counts.emplace(client, 0).first;
        const uint32_t version = ++count->second;
        element = format::StreamKey(client, version);
        format::AppendFixed64BE(&element, *seq);
        from_events_streams.Add(element);
        if (!carried.empty()) {
          element.assign(carried);
          element.push_back('\0');
          format::AppendFixed64BE(&element, *seq);
          from_events_keys.Add(element);
        }
        if (visiting && !(*visit)(EventView{*seq, bytes, e})) visiting = false;
      });
      if (!st.ok() || !event_ok) return precise();
      ++expected;
      if (progress && *seq % kVerifyProgressEvents == 0) progress(*seq, total);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the events");
  }
  Hash chain{};
  if (!links.Finish(&chain) || expected - 1 != total ||
      std::memcmp(chain.data(), meta_hash_bytes.data(), chain.size()) != 0) {
    return precise();
  }
  {
    std::unique_ptr<rocksdb::Iterator> si(db_->NewIterator(ro, streams_));
    // Bounded: one step per index entry.
    for (si->SeekToFirst(); si->Valid(); si->Next()) {
      if (!format::ParseStreamKey(ToView(si->key())) || si->value().size() != format::kSeqBytes ||
          streams_index.count() >= total) {
        return precise();
      }
      element.assign(ToView(si->key()));
      element.append(ToView(si->value()));
      streams_index.Add(element);
    }
    if (!si->status().ok()) return FromRocks(si->status(), "cannot read the streams index");
  }
  if (!(streams_index == from_events_streams)) return precise();
  {
    std::unique_ptr<rocksdb::Iterator> ki(db_->NewIterator(ro, keys_));
    // Bounded: one step per key, and at most total - keys_index.count() steps inside.
    for (ki->SeekToFirst(); ki->Valid(); ki->Next()) {
      auto rec = ParseKeyValue(ToView(ki->value()));
      if (!rec || rec->count == 0 || rec->first_seq == 0 || rec->first_seq > total ||
          rec->count > total - rec->first_seq + 1 ||
          rec->count > from_events_keys.count() - keys_index.count()) {
        return precise();
      }
      for (uint64_t seq = rec->first_seq; seq < rec->first_seq + rec->count; ++seq) {
        element.assign(ToView(ki->key()));
        element.push_back('\0');
        format::AppendFixed64BE(&element, seq);
        keys_index.Add(element);
      }
    }
    if (!ki->status().ok()) return FromRocks(ki->status(), "cannot read the keys index");
  }
  if (!(keys_index == from_events_keys)) return precise();
  VerifyReport r;
  r.events_checked = total;
  r.head_hash = chain;
  if (progress) progress(total, total);
  return r;
}

// --- checkpoints -------------------------------------------------------------------------

Status Log::Impl::PutCheckpoint(std::string_view name, std::string_view bytes) {
  HB_TRY(RefuseReadOnly());
  if (name.empty()) return Error::Invalid("a checkpoint needs a name");
  rocksdb::Status s = db_->Put(WriteOpts(), projections_, ToSlice(name), ToSlice(bytes));
  if (!s.ok()) return FromRocks(s, fmt::format("cannot write checkpoint '{}'", name));
  return Status::Ok();
}

Result<std::optional<std::string>> Log::Impl::GetCheckpoint(std::string_view name) const {
  std::string v;
  rocksdb::Status s = db_->Get(ReadOpts(nullptr), projections_, ToSlice(name), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, fmt::format("cannot read checkpoint '{}'", name));
  return std::optional<std::string>(std::move(v));
}

Status Log::Impl::DropCheckpoints() {
  HB_TRY(RefuseReadOnly());
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOpts(nullptr), projections_));
  // Bounded: one step per checkpoint (one per projection).
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Status s = batch.Delete(projections_, it->key());
    if (!s.ok()) return FromRocks(s, "cannot drop the checkpoints");
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot list the checkpoints");
  rocksdb::Status s = db_->Write(WriteOpts(), &batch);
  if (!s.ok()) return FromRocks(s, "cannot drop the checkpoints");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Log

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::~Log() = default;

Result<std::unique_ptr<Log>> Log::Open(const std::string& dir, const Options& options) {
  if (sodium_init() < 0) return Error::Io("libsodium failed to initialise");
  if (dir.empty()) return Error::Invalid("the ledger directory is empty");
  if (options.batch_events_max == 0 || options.event_bytes_max == 0) {
    return Error::Invalid("batch_events_max and event_bytes_max must be > 0");
  }
  auto impl = std::make_unique<Impl>(dir, options);
  if (Status s = impl->OpenDb(); !s.ok()) return s.error();
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

Result<AppendResult> Log::Append(AppendRequest request) { return impl_->Append(std::move(request)); }

Status Log::Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
                 const ReadOptions& read) const {
  return impl_->WithDb([&] { return impl_->Scan(from_seq, to_seq, visit, read); });
}

Status Log::ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                       const Visitor& visit, const ReadOptions& read) const {
  return impl_->WithDb([&] { return impl_->ReadStream(client_id, from_version, to_version, visit, read); });
}

Result<std::string> Log::Get(uint64_t seq) const {
  return impl_->WithDb([&] { return impl_->Get(seq); });
}
uint64_t Log::head_seq() const { return impl_->head_seq(); }
Hash Log::head_hash() const { return impl_->head_hash(); }

uint32_t Log::stream_version(std::string_view client_id) const {
  auto v = StreamVersion(client_id);
  return v.ok() ? *v : 0;  // documented: StreamVersion() reports the error
}

std::vector<std::string> Log::stream_ids() const {
  auto ids = ListStreams();
  return ids.ok() ? std::move(ids).value() : std::vector<std::string>{};  // see ListStreams()
}

Result<uint32_t> Log::StreamVersion(std::string_view client_id) const {
  return impl_->WithDb([&] { return impl_->StreamVersion(client_id); });
}

Result<std::vector<std::string>> Log::ListStreams() const {
  return impl_->WithDb([&] { return impl_->ListStreams(); });
}

Result<std::optional<IdempotencyRecord>> Log::LookupKey(std::string_view key) const {
  return impl_->WithDb([&] { return impl_->LookupKey(key); });
}

Result<VerifyReport> Log::Verify(
    const std::function<void(uint64_t done, uint64_t total)>& progress) const {
  return impl_->WithDb([&] { return impl_->Verify(progress); });
}

Result<VerifyReport> Log::VerifyAndVisit(
    const Visitor& visit, const std::function<void(uint64_t done, uint64_t total)>& progress) const {
  return impl_->WithDb([&] { return impl_->Verify(progress, &visit); });
}

Status Log::PutCheckpoint(std::string_view name, std::string_view bytes) {
  return impl_->WithDb([&] { return impl_->PutCheckpoint(name, bytes); });
}

Result<std::optional<std::string>> Log::GetCheckpoint(std::string_view name) const {
  return impl_->WithDb([&] { return impl_->GetCheckpoint(name); });
}

Status Log::DropCheckpoints() {
  return impl_->WithDb([&] { return impl_->DropCheckpoints(); });
}
Stats Log::stats() const { return impl_->stats(); }
Health Log::health() const { return impl_->GetHealth(); }
Status Log::ScanStored(const std::function<bool(uint64_t, std::string_view)>& visit) const {
  return impl_->WithDb([&] { return impl_->ScanStored(visit); });
}
const std::string& Log::dir() const { return impl_->dir_; }
void Log::InjectWriteFailuresForTesting(uint32_t count) { impl_->InjectWriteFailures(count); }

// =======================================================================================
// AppendRaw: byte-identical import of already-stamped events (`hourbank import-log`).
// Added for issue 5 by the audit work; kept apart from the append path above on purpose.
// The group-commit queue is drained and held for the write, so the head read here is the head
// written over, and no Append() interleaves with it.

Result<AppendResult> Log::Impl::AppendRaw(std::string_view bytes,
                                          const std::optional<Hash>& request_digest) {
  HB_TRY(RefuseReadOnly());
  if (bytes.size() > options_.event_bytes_max) {
    return Error::Limit(fmt::format("the event is {} bytes; the limit (event_bytes_max) is {}",
                                    bytes.size(), options_.event_bytes_max));
  }
  std::unique_lock<std::mutex> queue(queue_mu_);
  idle_cv_.wait(queue, [&] { return writers_.empty(); });
  if (std::string still = TryResume(); !still.empty()) {
    return Error::Io(fmt::format("cannot write to the ledger at {}: {}", dir_, still));
  }
  std::shared_lock<std::shared_timed_mutex> db_lock(db_mu_);
  if (db_ == nullptr) return Error::Io(fmt::format("the ledger at {} is closed", dir_));

  uint64_t head;
  Hash hash;
  int64_t head_recorded_at_us;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    head = head_seq_;
    hash = head_hash_;
    head_recorded_at_us = head_recorded_at_us_;
  }
  const uint64_t seq = head + 1;
  Hash prev_hash{};
  bool prev_hash_sized = false, has_body = false;
  std::string client, key;
  int64_t recorded_at_us = 0;
  std::vector<capnp::word> scratch;
  Status st = codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
    prev_hash_sized = e.getPrevHash().size() == prev_hash.size();
    if (prev_hash_sized) std::memcpy(prev_hash.data(), e.getPrevHash().begin(), prev_hash.size());
    client = TextView(e.getClientId());
    key = TextView(e.getIdempotencyKey());
    recorded_at_us = e.getRecordedAtUs();
    has_body = HasBody(e);
  });
  if (!st.ok()) {
    return Error::Invalid(fmt::format("the event cannot be appended as seq {} (the next seq of "
                                      "this ledger): {}",
                                      seq, st.error().message));
  }
  if (!has_body) return Error::Invalid(fmt::format("event {} has no body", seq));
  if (!prev_hash_sized || prev_hash != hash) {
    return Error::Invalid(fmt::format("event {}'s prevHash is not this ledger's head hash; events "
                                      "must be imported in seq order from seq 1, unchanged",
                                      seq));
  }
  if (recorded_at_us < head_recorded_at_us) {
    return Error::Invalid(fmt::format("event {} has recordedAtUs {} before the head's {}", seq,
                                      recorded_at_us, head_recorded_at_us));
  }
  if (!ValidClientId(client)) {
    return Error::Invalid(fmt::format("event {} has an invalid client id '{}'", seq, client));
  }
  auto committed = LeaderStreamVersion(client);
  if (!committed.ok()) return committed.error();
  const uint32_t version = *committed + 1;

  rocksdb::WriteBatch batch;
  bool ok = batch.Put(events_, format::SeqKey(seq), ToSlice(bytes)).ok() &&
            batch.Put(streams_, format::StreamKey(client, version), Fixed64(seq)).ok();
  if (!key.empty()) {
    auto rec = LookupKey(key);
    if (!rec.ok()) return rec.error();
    std::string value;
    if (*rec) {
      // One request's events carry its key contiguously: extend the record by this event.
      if ((*rec)->first_seq + (*rec)->count != seq) {
        return Error::Conflict(fmt::format("event {} carries idempotency key '{}', which already "
                                           "covers seqs {}..{}",
                                           seq, key, (*rec)->first_seq,
                                           (*rec)->first_seq + (*rec)->count - 1));
      }
      value = KeyValue((*rec)->first_seq, (*rec)->count + 1, (*rec)->request_digest);
    } else {
      value = KeyValue(seq, 1, request_digest.value_or(Hash{}));
    }
    ok = ok && batch.Put(keys_, ToSlice(key), value).ok();
  }
  const Hash next = ChainHash(hash, bytes);
  ok = ok && batch.Put(meta_, ToSlice(format::kMetaHeadSeq), Fixed64(seq)).ok() &&
       batch.Put(meta_, ToSlice(format::kMetaHeadHash), ToSlice(HashView(next))).ok() &&
       batch.Put(meta_, ToSlice(format::kMetaHeadRecordedAtUs),
                 Fixed64(static_cast<uint64_t>(recorded_at_us)))
           .ok();
  assert(ok);  // WriteBatch::Put fails only past 4 GiB
  (void)ok;
  rocksdb::Status s = db_->Write(WriteOpts(), &batch);
  std::lock_guard<std::mutex> l(state_mu_);
  write_failure_ = s.ok() ? std::string() : s.ToString();
  if (!s.ok()) return FromRocks(s, fmt::format("cannot write to the ledger at {}", dir_));
  head_seq_ = seq;
  head_hash_ = next;
  head_recorded_at_us_ = recorded_at_us;
  versions_[client] = version;
  ++stats_.write_groups;
  if (options_.durability == Durability::kSync) ++stats_.fsyncs;
  ++stats_.events_appended;
  ++stats_.append_requests;
  return AppendResult{seq, 1, version, false};
}

Result<AppendResult> Log::AppendRaw(std::string_view stored_bytes,
                                    const std::optional<Hash>& request_digest) {
  return impl_->AppendRaw(stored_bytes, request_digest);
}

}  // namespace hourbank::ledger
