// The append-only event log on RocksDB: opening a ledger, reopening it after a failed write,
// health, and the Log facade. The on-disk format is in ledger/format.h; the write, read and
// verify paths are in log_write.cc, log_read.cc and log_verify.cc.
#include "ledger/log.h"

#include <algorithm>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include "ledger/follow_store.h"
#include "ledger/follower.h"
#include "ledger/info_log.h"
#include "ledger/log_impl.h"
#include "ledger/nats_log.h"
#include "ledger/wal.h"

namespace hourbank::ledger {

namespace {

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
  return fmt::format("No space left on device: {} bytes free, the reopen needs {}", space.available,
                     wal_bytes + kReopenSlackBytes);
}

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
// Log::Impl: open, close

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

// The column families of a ledger, in the order of handles_.
static const std::vector<std::string>& LedgerColumnFamilies() {
  static const std::vector<std::string> ours = {"default",          format::kEventsCf,
                                                format::kStreamsCf, format::kKeysCf,
                                                format::kMetaCf,    format::kProjectionsCf};
  return ours;
}

// New tables of the events column family are LZ4-compressed: a full replay decompresses every
// block of it, and LZ4 decompresses in fewer instructions than snappy (RocksDB's default) at
// about the same size (docs/performance.md, "Rebuild"). Tables record their own compression, so
// a ledger written with snappy stays readable and is rewritten as LZ4 only by compaction.
// A RocksDB built without LZ4 keeps its default.
static rocksdb::CompressionType EventsCompression() {
  static const rocksdb::CompressionType chosen = [] {
    for (rocksdb::CompressionType c : rocksdb::GetSupportedCompressions())
      if (c == rocksdb::kLZ4Compression) return c;
    return rocksdb::ColumnFamilyOptions().compression;
  }();
  return chosen;
}

Status Log::Impl::OpenDb(bool reopening) {
  const bool read_only = options_.read_only || options_.salvage;
  const bool create = options_.create_if_missing && !read_only;
  bool exists = false;
  HB_TRY(PrepareDirectory(reopening, read_only, create, &exists));
  rocksdb::DBOptions db_options = DbOptions(read_only, create);
  if (exists) HB_TRY(CheckColumnFamilies(db_options, read_only, create));
  HB_TRY(OpenRocks(db_options, read_only));
  HB_TRY(InitOrCheckFormat(create));
  return LoadHead();
}

std::string Log::Impl::NoLedgerText() const {
  return fmt::format("no ledger at {}; run `hourbank init` first", dir_);
}

// The directory exists (created 0700 when allowed) and no other process holds it for a
// read-only open. *exists: the directory already held a database.
Status Log::Impl::PrepareDirectory(bool reopening, bool read_only, bool create, bool* exists) {
  namespace fs = std::filesystem;
  std::error_code ec;
  *exists = fs::exists(fs::path(dir_) / "CURRENT", ec);
  if (ec) return Error::Io(fmt::format("cannot inspect {}: {}", dir_, ec.message()));
  if (*exists && options_.error_if_exists && !reopening) {
    return Error::Invalid(fmt::format("a ledger already exists at {}", dir_));
  }
  if (!*exists) {
    if (!create) return Error::NotFound(NoLedgerText());
    fs::create_directories(dir_, ec);
    if (ec) return Error::Io(fmt::format("cannot create {}: {}", dir_, ec.message()));
    // 0700 whatever the umask: a ledger holds contracts, payments and token hashes.
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec)
      return Error::Io(fmt::format("cannot make {} private (mode 0700): {}", dir_, ec.message()));
  }
  if (read_only && LockedByAnotherProcess(dir_)) {
    return Error::Busy(fmt::format(
        "the ledger at {} is in use by another process (e.g. `hourbank serve`); stop it, or "
        "send the command to that server with --server",
        dir_));
  }
  return Status::Ok();
}

rocksdb::DBOptions Log::Impl::DbOptions(bool read_only, bool create) const {
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
  db_options.wal_recovery_mode = options_.salvage
                                     ? rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords
                                     : rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  if (read_only) {
    db_options.info_log = std::make_shared<NullLogger>();
  } else {
    db_options.env = PrivateEnv();
    // Not RocksDB's own: on a full disk that one aborts the process (see info_log.h).
    db_options.info_log = std::make_shared<InfoLog>(dir_ + "/LOG");
  }

  return db_options;
}

// Every column family present is one of ours, and a ledger has its meta family.
Status Log::Impl::CheckColumnFamilies(const rocksdb::DBOptions& db_options, bool read_only,
                                      bool create) const {
  const std::vector<std::string>& ours = LedgerColumnFamilies();
  std::vector<std::string> present;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir_, &present);
  if (!s.ok()) return FromRocks(s, fmt::format("cannot read the ledger at {}", dir_));
  for (const auto& name : present) {
    if (std::find(ours.begin(), ours.end(), name) == ours.end()) {
      return Error::Corruption(fmt::format(
          "{} has a column family '{}' that no ledger has; is it a ledger directory?", dir_, name));
    }
  }
  bool has_meta = std::find(present.begin(), present.end(), format::kMetaCf) != present.end();
  if (!has_meta && (!create || read_only)) return Error::NotFound(NoLedgerText());
  return Status::Ok();
}

// Opens db_ and the handles; a damaged WAL refuses the open naming the file and byte (only a
// torn tail of the newest WAL, a write never acknowledged, is tolerated).
Status Log::Impl::OpenRocks(rocksdb::DBOptions db_options, bool read_only) {
  const std::vector<std::string>& ours = LedgerColumnFamilies();
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
  for (const auto& name : ours) {
    descriptors.emplace_back(name, cf_options);
    if (name == format::kEventsCf) descriptors.back().options.compression = EventsCompression();
  }
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
    if (s.IsIOError() &&
        (text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos)) {
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

  return Status::Ok();
}

// A new ledger gets its format version and an empty head; an existing one must be of ours.
Status Log::Impl::InitOrCheckFormat(bool create) {
  std::string version;
  rocksdb::Status s =
      db_->Get(ReadOpts(nullptr), meta_, ToSlice(format::kMetaFormatVersion), &version);
  if (s.IsNotFound()) {
    if (!create) return Error::NotFound(NoLedgerText());
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
    const uint32_t made =
        options_.format_version != 0 ? options_.format_version : format::kFormatVersion;
    format::AppendFixed32BE(&v, made);
    Hash zeros{};
    bool ok = batch.Put(meta_, ToSlice(format::kMetaFormatVersion), v).ok() &&
              batch.Put(meta_, ToSlice(format::kMetaHeadSeq), format::Fixed64(0)).ok() &&
              batch.Put(meta_, ToSlice(format::kMetaHeadHash), ToSlice(HashView(zeros))).ok() &&
              batch.Put(meta_, ToSlice(format::kMetaHeadRecordedAtUs), format::Fixed64(0)).ok();
    assert(ok);
    (void)ok;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db_->Write(wo, &batch);
    if (!s.ok()) return FromRocks(s, fmt::format("cannot initialise the ledger at {}", dir_));
    format_version_ = made;
    return Status::Ok();
  }
  if (!s.ok()) return FromRocks(s, fmt::format("cannot read the format version of {}", dir_));
  const uint64_t found = version.size() == 4 ? format::ReadBE(version, 4) : 0;
  if (found < format::kFormatVersionMin || found > format::kFormatVersion) {
    return Error::Corruption(fmt::format(
        "the ledger at {} has format version {}; this build reads versions {} to {}: open it "
        "with the hourbank build that wrote it (or a newer one)",
        dir_, found, format::kFormatVersionMin, format::kFormatVersion));
  }
  format_version_ = static_cast<uint32_t>(found);
  return Status::Ok();
}

Status Log::Impl::LoadHead() {
  auto ro = ReadOpts(nullptr);
  std::string seq, hash, recorded;
  for (auto [key, out] :
       {std::pair{format::kMetaHeadSeq, &seq}, std::pair{format::kMetaHeadHash, &hash},
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

// --- health: resuming after a failed write -------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Log

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::Log(std::unique_ptr<NatsLog> nats) : nats_(std::move(nats)) {}
Log::Log(std::unique_ptr<FollowStore> store, std::string dir)
    : store_(std::move(store)), store_dir_(std::move(dir)) {}
Log::~Log() = default;

namespace {
Error StoreReadOnly() {
  return Error::Invalid(
      "a serve node's store opened for reading refuses writes; appends go to the cluster");
}

Error NotOnNats(std::string_view what) {
  return Error::Invalid(fmt::format(
      "{} is not available on a ledger on a NATS cluster (only on a ledger directory)", what));
}
}  // namespace

Result<std::unique_ptr<Log>> Log::Open(const std::string& dir, const Options& options) {
  if (sodium_init() < 0) return Error::Io("libsodium failed to initialise");
  if (dir.empty()) return Error::Invalid("the ledger directory is empty");
  if (options.batch_events_max == 0 || options.event_bytes_max == 0) {
    return Error::Invalid("batch_events_max and event_bytes_max must be > 0");
  }
  if (options.format_version != 0 && (options.format_version < format::kFormatVersionMin ||
                                       options.format_version > format::kFormatVersion)) {
    return Error::Invalid(fmt::format("format_version {} cannot be made: this build makes {} to {}",
                                      options.format_version, format::kFormatVersionMin,
                                      format::kFormatVersion));
  }
  if (dir.rfind("nats://", 0) == 0) {
    if (options.salvage) return NotOnNats("recovery (salvage)");
    auto nats = NatsLog::Open(dir, options);
    if (!nats.ok()) return nats.error();
    std::unique_ptr<Log> log(new Log(std::move(nats).value()));
    if (!options.nats_follow_store.empty()) HB_TRY(log->StartFollowing(options.nats_follow_store));
    return log;
  }
  if (!options.nats_follow_store.empty())
    return Error::Invalid("a follow store is only for a ledger on a NATS cluster (nats://…)");
  auto impl = std::make_unique<Impl>(dir, options);
  if (Status s = impl->OpenDb(); !s.ok()) return s.error();
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

Result<std::unique_ptr<Log>> Log::OpenFollowStore(const std::string& dir) {
  if (sodium_init() < 0) return Error::Io("libsodium failed to initialise");
  if (dir.empty()) return Error::Invalid("the store directory is empty");
  auto store = FollowStore::OpenReadOnly(dir);
  if (!store.ok()) return store.error();
  return std::unique_ptr<Log>(new Log(std::move(store).value(), dir));
}

Result<StoreInfo> Log::store_info() const {
  if (!store_only()) return Error::Invalid("not a serve node's store opened for reading");
  StoreInfo info{store_->ledger(), store_->partitions(), {}};
  for (uint32_t p = 0; p < info.partitions; ++p) {
    auto a = store_->AppliedSeq(p);
    if (!a.ok()) return a.error();
    info.applied_seqs.push_back(a.value());
  }
  return info;
}

Status Log::StartFollowing(const std::string& store_dir) {
  auto store = FollowStore::Open(store_dir, nats_->where().ledger, nats_->partitions());
  if (!store.ok()) return store.error();
  store_ = std::move(store).value();
  follower_ = std::make_unique<Follower>(*nats_, *store_);
  return follower_->Start();
}

Result<AppendResult> Log::Append(AppendRequest request) {
  if (store_only()) return StoreReadOnly();
  if (nats_) {
    const std::string client = request.client_id;
    auto r = nats_->Append(std::move(request));
    if (follower_) CatchUpAfterAppend(r, client);
    return r;
  }
  return impl_->Append(std::move(request));
}

void Log::CatchUpAfterAppend(const Result<AppendResult>& r, std::string_view client_id) const {
  const int64_t wait_ms = nats_->options().nats_timeout_ms;
  const uint32_t p = NatsPartitionOf(client_id, nats_->partitions());
  if (r.ok()) {
    follower_->WaitApplied(p, SplitNatsPosition(r.value().first_seq).stream_seq, wait_ms);
  } else if (r.error().code == Code::kConflict) {
    // The service decides again from the store: let it see what the other writer wrote.
    if (auto last = nats_->LastStreamSeq(p); last.ok()) follower_->WaitApplied(p, *last, wait_ms);
  }
}

Status Log::WaitForPosition(uint64_t position, int64_t timeout_ms) const {
  if (!follower_ || position == 0) return Status::Ok();
  const NatsPos at = SplitNatsPosition(position);
  if (at.partition >= nats_->partitions() || at.stream_seq == 0)
    return Error::Invalid(fmt::format("position {} is not a position of this ledger", position));
  if (follower_->WaitApplied(at.partition, at.stream_seq, timeout_ms)) return Status::Ok();
  const FollowStatus st = follower_->Snapshot()[at.partition];
  return Error::Busy(fmt::format(
      "this node lags: it has applied {} up to seq {} of {}{}, not yet position {} (seq {}), "
      "after waiting {} ms; retry, or read through another node",
      st.stream, st.applied_seq, st.last_seq, st.stopped ? " and stopped following it" : "",
      position, at.stream_seq, timeout_ms));
}

std::vector<FollowStatus> Log::follow_status() const {
  return follower_ ? follower_->Snapshot() : std::vector<FollowStatus>{};
}

Status Log::Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
                 const ReadOptions& read) const {
  if (store_) return store_->Scan(from_seq, to_seq, visit, read);
  if (nats_) return nats_->Scan(from_seq, to_seq, visit, read);
  return impl_->WithDb([&] { return impl_->Scan(from_seq, to_seq, visit, read); });
}

Status Log::ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                       const Visitor& visit, const ReadOptions& read) const {
  if (store_) return store_->ReadStream(client_id, from_version, to_version, visit, read);
  if (nats_) return nats_->ReadStream(client_id, from_version, to_version, visit, read);
  return impl_->WithDb(
      [&] { return impl_->ReadStream(client_id, from_version, to_version, visit, read); });
}

Result<std::string> Log::Get(uint64_t seq) const {
  if (store_) return store_->Get(seq);
  if (nats_) return nats_->Get(seq);
  return impl_->WithDb([&] { return impl_->Get(seq); });
}
uint32_t Log::chain_scope(uint64_t seq) const {
  return replicated() ? SplitNatsPosition(seq).partition : 0;
}

uint64_t Log::head_seq() const {
  if (replicated()) {
    auto h = store_ ? store_->HeadSeq() : nats_->HeadSeq();
    return h.ok() ? *h : 0;  // documented: 0 when the cluster cannot be read
  }
  return impl_->head_seq();
}
std::optional<uint64_t> Log::HeadSeqInMemory() const {
  if (replicated()) return std::nullopt;
  return impl_->head_seq();
}
Hash Log::head_hash() const {
  if (replicated()) {
    auto h = store_only() ? store_->HeadHash() : nats_->HeadHash();
    return h.ok() ? *h : Hash{};
  }
  return impl_->head_hash();
}

uint32_t Log::stream_version(std::string_view client_id) const {
  auto v = StreamVersion(client_id);
  return v.ok() ? *v : 0;  // documented: StreamVersion() reports the error
}

std::vector<std::string> Log::stream_ids() const {
  auto ids = ListStreams();
  return ids.ok() ? std::move(ids).value() : std::vector<std::string>{};  // see ListStreams()
}

Result<uint32_t> Log::StreamVersion(std::string_view client_id) const {
  if (store_) return store_->StreamVersion(client_id);
  if (nats_) return nats_->StreamVersion(client_id);
  return impl_->WithDb([&] { return impl_->StreamVersion(client_id); });
}

Result<std::vector<std::string>> Log::ListStreams() const {
  if (store_) return store_->ListStreams();
  if (nats_) return nats_->ListStreams();
  return impl_->WithDb([&] { return impl_->ListStreams(); });
}

Result<std::optional<IdempotencyRecord>> Log::LookupKey(std::string_view key) const {
  if (replicated()) {
    return Error::Invalid("idempotency keys are per client on a NATS cluster: use LookupClientKey");
  }
  return impl_->WithDb([&] { return impl_->LookupKey(key); });
}

Result<std::optional<IdempotencyRecord>> Log::LookupClientKey(std::string_view client_id,
                                                              std::string_view key) const {
  if (store_) return store_->LookupClientKey(client_id, key);
  if (nats_) return nats_->LookupClientKey(client_id, key);
  auto rec = LookupKey(key);
  if (!rec.ok() || !rec.value()) return rec;
  bool mine = false;
  HB_TRY(Scan(rec.value()->first_seq, rec.value()->first_seq, [&](const EventView& v) {
    mine =
        std::string_view(v.event.getClientId().cStr(), v.event.getClientId().size()) == client_id;
    return false;
  }));
  if (!mine) return std::optional<IdempotencyRecord>();
  return rec;
}

Result<VerifyReport> Log::Verify(
    const std::function<void(uint64_t done, uint64_t total)>& progress) const {
  if (store_only()) return store_->Verify(progress, nullptr);
  if (nats_) return nats_->Verify(progress, nullptr);
  return impl_->WithDb([&] { return impl_->Verify(progress); });
}

Result<VerifyReport> Log::VerifyAndVisit(
    const Visitor& visit,
    const std::function<void(uint64_t done, uint64_t total)>& progress) const {
  if (store_only()) return store_->Verify(progress, &visit);
  if (nats_) return nats_->Verify(progress, &visit);
  return impl_->WithDb([&] { return impl_->Verify(progress, &visit); });
}

Status Log::PutCheckpoint(std::string_view name, std::string_view bytes) {
  if (store_) return store_->PutCheckpoint(name, bytes);
  if (nats_) return Status::Ok();  // [nats] no checkpoints are kept on the cluster (log.h)
  return impl_->WithDb([&] { return impl_->PutCheckpoint(name, bytes); });
}

Result<std::optional<std::string>> Log::GetCheckpoint(std::string_view name) const {
  if (store_) return store_->GetCheckpoint(name);
  if (nats_) return std::optional<std::string>();
  return impl_->WithDb([&] { return impl_->GetCheckpoint(name); });
}

Status Log::DropCheckpoints() {
  if (store_) return store_->DropCheckpoints();
  if (nats_) return Status::Ok();
  return impl_->WithDb([&] { return impl_->DropCheckpoints(); });
}
Stats Log::stats() const {
  if (store_only()) return Stats{};
  return nats_ ? nats_->stats() : impl_->stats();
}
Health Log::health() const {
  if (store_only()) return Health{};
  return nats_ ? nats_->GetHealth() : impl_->GetHealth();
}
std::string Log::DurabilityWarning() const { return nats_ ? nats_->TimedSyncWarning() : ""; }
Status Log::ScanStored(const std::function<bool(uint64_t, std::string_view)>& visit) const {
  if (replicated()) return NotOnNats("recovery (ScanStored)");
  return impl_->WithDb([&] { return impl_->ScanStored(visit); });
}
const std::string& Log::dir() const {
  if (store_only()) return store_dir_;
  return nats_ ? nats_->location() : impl_->dir_;
}
void Log::InjectWriteFailuresForTesting(uint32_t count) {
  if (store_only()) return;
  if (nats_) return nats_->InjectWriteFailures(count);
  impl_->InjectWriteFailures(count);
}

Result<AppendResult> Log::AppendRaw(std::string_view stored_bytes,
                                    const std::optional<Hash>& request_digest) {
  if (replicated()) return NotOnNats("import-log (AppendRaw)");
  return impl_->AppendRaw(stored_bytes, request_digest);
}

}  // namespace hourbank::ledger
