#include "ledger/backup.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/backup_engine.h>

#include "ledger/format.h"
#include "ledger/log.h"

namespace hourbank::ledger {

namespace {

namespace fs = std::filesystem;

// A backup is retried this many times when the ledger's files change under the copy (a flush
// or compaction of a running writer deleted a file the open or the copy was about to read),
// after a pause
// that doubles from kBackupRetryFirstMs: a compaction that has just started (e.g. the one a
// server runs after it opens the ledger) is over before the last attempt (~6 s in all).
constexpr int kBackupAttemptsMax = 8;
constexpr int kBackupRetryFirstMs = 50;
// The application metadata of a backup: "head_seq N".
constexpr std::string_view kHeadSeqMeta = "head_seq ";

// The ledger opened read-only (no lock: a writer may keep appending), every column family.
struct ReadOnlyDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~ReadOnlyDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

Result<std::unique_ptr<ReadOnlyDb>> OpenReadOnly(const std::string& dir) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  if (!s.ok() || std::find(names.begin(), names.end(), format::kMetaCf) == names.end())
    return Error::NotFound(fmt::format("no ledger at {}; pass the ledger with --ledger DIR", dir));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  auto out = std::make_unique<ReadOnlyDb>();
  rocksdb::DB* db = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, descriptors, &out->handles, &db);
  if (!s.ok()) return Error::Io(fmt::format("cannot read the ledger at {}: {}", dir, s.ToString()));
  out->db.reset(db);
  return out;
}

uint64_t HeadSeq(const ReadOnlyDb& ro) {
  for (auto* h : ro.handles) {
    if (h->GetName() != format::kMetaCf) continue;
    std::string v;
    if (ro.db
            ->Get(rocksdb::ReadOptions(), h,
                  rocksdb::Slice(format::kMetaHeadSeq.data(), format::kMetaHeadSeq.size()), &v)
            .ok() &&
        v.size() == format::kSeqBytes)
      return format::ReadBE(v, format::kSeqBytes);
  }
  return 0;
}

BackupInfo FromRocks(const rocksdb::BackupInfo& b) {
  BackupInfo out;
  out.id = b.backup_id;
  out.created_unix_s = b.timestamp;
  out.size_bytes = b.size;
  out.files = b.number_files;
  if (b.app_metadata.rfind(kHeadSeqMeta, 0) == 0)
    out.head_seq = std::strtoull(b.app_metadata.c_str() + kHeadSeqMeta.size(), nullptr, 10);
  return out;
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions o(backup_dir);
  o.share_table_files = true;          // incremental: a table file is copied once
  o.share_files_with_checksum = true;  // DIR/shared_checksum, named by size and checksum
  o.sync = true;                       // the backup is durable when BackupLedger returns
  return o;
}

Result<std::vector<rocksdb::BackupInfo>> Infos(rocksdb::BackupEngineReadOnly& engine,
                                               const std::string& backup_dir) {
  std::vector<rocksdb::BackupInfo> infos;
  engine.GetBackupInfo(&infos, /*include_file_details=*/false);
  if (infos.empty())
    return Error::NotFound(
        fmt::format("no backup in {}; make one with `hourbank backup {}`", backup_dir, backup_dir));
  return infos;
}

Status RefuseNonEmpty(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec))
    return Error::Invalid(
        fmt::format("{} exists and is not empty; restore into a new directory", dir));
  return Status::Ok();
}

// The restored directory as Log::Open makes a new one: the directory 0700, its files 0600.
void MakePrivate(const std::string& dir) {
  ::chmod(dir.c_str(), 0700);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) ::chmod(e.path().c_str(), 0600);
}

}  // namespace

Result<BackupInfo> BackupLedger(const std::string& ledger_dir, const std::string& backup_dir) {
  std::error_code ec;
  fs::create_directories(backup_dir, ec);
  ::chmod(backup_dir.c_str(), 0700);
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus io =
      rocksdb::BackupEngine::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw);
  if (!io.ok())
    return Error::Io(
        fmt::format("cannot open the backup directory {}: {}", backup_dir, io.ToString()));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  std::string last_error;
  for (int attempt = 0; attempt < kBackupAttemptsMax; ++attempt) {
    if (attempt > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(kBackupRetryFirstMs << (attempt - 1)));
    auto ro = OpenReadOnly(ledger_dir);
    if (!ro.ok()) {
      // Not a ledger: say so at once. Else a table file listed in the MANIFEST the open read
      // was deleted by a compaction before the open reached it: the same race, retried.
      if (ro.error().code != Code::kIo) return ro.error();
      last_error = ro.error().message;
      continue;
    }
    const uint64_t head = HeadSeq(*ro.value());
    rocksdb::CreateBackupOptions create;
    create.flush_before_backup = false;  // read-only: the WAL is copied instead
    rocksdb::BackupID id = 0;
    io = engine->CreateNewBackupWithMetadata(create, ro.value()->db.get(),
                                             fmt::format("{}{}", kHeadSeqMeta, head), &id);
    if (!io.ok()) {
      last_error = io.ToString();
      engine->GarbageCollect();  // the files of the failed attempt
      continue;
    }
    io = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
    if (!io.ok())
      return Error::Corruption(fmt::format("backup {} in {} was written but does not verify: {}",
                                           id, backup_dir, io.ToString()));
    std::vector<rocksdb::BackupInfo> infos;
    engine->GetBackupInfo(&infos);
    for (const auto& b : infos)
      if (b.backup_id == id) return FromRocks(b);
    return Error::Io(
        fmt::format("backup {} in {} is not listed after it was written", id, backup_dir));
  }
  return Error::Busy(
      fmt::format("the ledger's files changed under the backup {} times ({}); try again",
                  kBackupAttemptsMax, last_error));
}

Result<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir) {
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec))
    return Error::NotFound(fmt::format("no backup directory {}; make one with `hourbank backup {}`",
                                       backup_dir, backup_dir));
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus io =
      rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw);
  if (!io.ok())
    return Error::Io(
        fmt::format("cannot read the backup directory {}: {}", backup_dir, io.ToString()));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  auto infos = Infos(*engine, backup_dir);
  if (!infos.ok()) return infos.error();
  std::vector<BackupInfo> out;
  for (const auto& b : infos.value()) out.push_back(FromRocks(b));
  return out;
}

Result<RestoreResult> RestoreLedger(const std::string& backup_dir,
                                    const std::string& new_ledger_dir, uint32_t backup_id) {
  HB_TRY(RefuseNonEmpty(new_ledger_dir));
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec))
    return Error::NotFound(fmt::format("no backup directory {}", backup_dir));
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus io =
      rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw);
  if (!io.ok())
    return Error::Io(
        fmt::format("cannot read the backup directory {}: {}", backup_dir, io.ToString()));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  auto infos = Infos(*engine, backup_dir);
  if (!infos.ok()) return infos.error();
  const rocksdb::BackupInfo* chosen = backup_id == 0 ? &infos.value().back() : nullptr;
  for (const auto& b : infos.value())
    if (b.backup_id == backup_id) chosen = &b;
  if (!chosen)
    return Error::NotFound(fmt::format("no backup {} in {}; see `hourbank backup {} --list`",
                                       backup_id, backup_dir, backup_dir));
  RestoreResult out;
  out.backup = FromRocks(*chosen);
  // Every file read back against its checksum before anything is written.
  io = engine->VerifyBackup(chosen->backup_id, /*verify_with_checksum=*/true);
  if (!io.ok())
    return Error::Corruption(
        fmt::format("backup {} in {} is damaged ({}); nothing was restored. Restore an older one "
                    "with --backup-id (see `hourbank backup {} --list`)",
                    chosen->backup_id, backup_dir, io.ToString(), backup_dir));
  const bool existed = fs::exists(new_ledger_dir, ec);
  fs::create_directories(new_ledger_dir, ec);
  if (ec) return Error::Io(fmt::format("cannot create {}: {}", new_ledger_dir, ec.message()));
  auto undo = [&] {
    if (existed) {
      for (const auto& e : fs::directory_iterator(new_ledger_dir, ec)) fs::remove_all(e.path(), ec);
    } else {
      fs::remove_all(new_ledger_dir, ec);
    }
  };
  io = engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), chosen->backup_id, new_ledger_dir,
                                   new_ledger_dir);
  if (!io.ok()) {
    undo();
    return Error::Io(fmt::format("restoring backup {} into {} failed ({}); nothing was kept",
                                 chosen->backup_id, new_ledger_dir, io.ToString()));
  }
  MakePrivate(new_ledger_dir);
  Status checked = [&]() -> Status {
    auto log = Log::Open(new_ledger_dir, Options{});
    if (!log.ok()) return log.error();
    auto report = log.value()->Verify();
    if (!report.ok()) return report.error();
    if (!report.value().ok)
      return Error::Corruption(fmt::format("the restored ledger does not verify at seq {}: {}",
                                           report.value().first_bad_seq, report.value().problem));
    out.head_seq = log.value()->head_seq();
    return Status::Ok();
  }();
  if (!checked.ok()) {
    undo();
    return Error{checked.error().code, checked.error().message + "; nothing was kept"};
  }
  return out;
}

}  // namespace hourbank::ledger
