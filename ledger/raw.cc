// Test and tamper helpers: see raw.h. Opens a closed ledger directory with plain RocksDB.
#include "ledger/raw.h"

#include <functional>
#include <memory>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>

#include "ledger/format.h"

namespace hourbank::ledger::raw {

namespace {

Error FromRocks(const rocksdb::Status& s, const std::string& dir) {
  std::string text = s.ToString();
  if (s.IsIOError() && text.find("lock") != std::string::npos) {
    return Error::Busy(fmt::format("{} is open in a Log; close it before raw access", dir));
  }
  if (s.IsCorruption()) return Error::Corruption(fmt::format("{}: {}", dir, text));
  return Error::Io(fmt::format("{}: {}", dir, text));
}

// Opens `dir`, finds column family `cf` and runs `fn` on it; closes the database after.
Status WithCf(const std::string& dir, std::string_view cf,
              const std::function<Status(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
  rocksdb::DBOptions options;
  options.create_if_missing = false;
  options.paranoid_checks = true;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!s.ok()) return Error::NotFound(fmt::format("no ledger at {}: {}", dir, s.ToString()));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  size_t wanted = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    descriptors.emplace_back(names[i], rocksdb::ColumnFamilyOptions());
    if (names[i] == cf) wanted = i;
  }
  if (wanted == names.size()) {
    return Error::NotFound(fmt::format("{} has no column family '{}'", dir, cf));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  s = rocksdb::DB::Open(options, dir, descriptors, &handles, &db);
  if (!s.ok()) return FromRocks(s, dir);
  Status result = fn(db, handles[wanted]);
  Status closing;
  for (auto* h : handles) {
    s = db->DestroyColumnFamilyHandle(h);
    if (!s.ok() && closing.ok()) closing = FromRocks(s, dir);
  }
  s = db->Close();
  if (!s.ok() && closing.ok()) closing = FromRocks(s, dir);
  delete db;
  if (!result.ok()) return result;
  return closing;
}

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

std::string SeqKey(uint64_t seq) { return format::SeqKey(seq); }

std::string StreamKey(std::string_view client_id, uint32_t version) {
  return format::StreamKey(client_id, version);
}

Result<std::optional<std::string>> RawGet(const std::string& dir, std::string_view cf,
                                          std::string_view key) {
  std::optional<std::string> out;
  Status st = WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) -> Status {
    std::string v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), h, ToSlice(key), &v);
    if (s.IsNotFound()) return Status::Ok();
    if (!s.ok()) return FromRocks(s, dir);
    out = std::move(v);
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

Status RawPut(const std::string& dir, std::string_view cf, std::string_view key,
              std::string_view value) {
  return WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) -> Status {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db->Put(wo, h, ToSlice(key), ToSlice(value));
    if (!s.ok()) return FromRocks(s, dir);
    return Status::Ok();
  });
}

Status RawDelete(const std::string& dir, std::string_view cf, std::string_view key) {
  return WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) -> Status {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db->Delete(wo, h, ToSlice(key));
    if (!s.ok()) return FromRocks(s, dir);
    return Status::Ok();
  });
}

Result<std::vector<std::string>> RawKeys(const std::string& dir, std::string_view cf) {
  std::vector<std::string> keys;
  Status st = WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) -> Status {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    if (!it->status().ok()) return FromRocks(it->status(), dir);
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return keys;
}

Result<std::vector<std::string>> RawTableCompressions(const std::string& dir, std::string_view cf) {
  std::vector<std::string> out;
  Status st = WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) -> Status {
    rocksdb::TablePropertiesCollection tables;
    rocksdb::Status s = db->GetPropertiesOfAllTables(h, &tables);
    if (!s.ok()) return FromRocks(s, dir);
    for (const auto& [file, props] : tables) out.push_back(props->compression_name);
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

Status RawRewriteTablesWithDefaults(const std::string& dir, std::string_view cf) {
  return WithCf(dir, cf, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) -> Status {
    rocksdb::Status s = db->Flush(rocksdb::FlushOptions(), h);
    if (!s.ok()) return FromRocks(s, dir);
    rocksdb::CompactRangeOptions all;
    all.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    s = db->CompactRange(all, h, nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, dir);
    return Status::Ok();
  });
}

}  // namespace hourbank::ledger::raw
