// A serve node's local mirror of a cluster ledger (follow_store.h, docs/replicated-log.md).
#include "ledger/follow_store.h"

#include <filesystem>
#include <map>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "ledger/codec.h"
#include "ledger/follow_store_keys.h"
#include "ledger/log_impl.h"
#include "ledger/nats_frame.h"

namespace hourbank::ledger {

using namespace format;       // the key encodings of a ledger directory (format.h)
using namespace follow_keys;  // the store's own (follow_store_keys.h)

FollowStore::FollowStore(std::unique_ptr<rocksdb::DB> db, std::string ledger, uint32_t partitions,
                         bool read_only)
    : db_(std::move(db)),
      ledger_(std::move(ledger)),
      partitions_(partitions),
      read_only_(read_only) {}

FollowStore::~FollowStore() = default;

Result<std::unique_ptr<FollowStore>> FollowStore::Open(const std::string& dir,
                                                       std::string_view ledger,
                                                       uint32_t partitions) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Error::Io(fmt::format("cannot make the store directory {}: {}", dir, ec.message()));
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    if (s.ToString().find("lock") != std::string::npos)
      return Error::Busy(fmt::format("the store {} is open in another process", dir));
    return FromRocks(s, "opening the store " + dir);
  }
  std::unique_ptr<FollowStore> store(
      new FollowStore(std::unique_ptr<rocksdb::DB>(raw), std::string(ledger), partitions, false));
  const std::string want = MetaText(ledger, partitions);
  auto meta = store->GetValue("M");
  if (!meta.ok()) return meta.error();
  if (!meta.value()) {
    if (rocksdb::Status w = raw->Put(rocksdb::WriteOptions(), "M", want); !w.ok())
      return FromRocks(w, "writing the store's meta");
  } else if (*meta.value() != want) {
    return Error::Invalid(fmt::format(
        "the store {} holds another ledger ('{}'; this is '{}'): give each ledger its own --store",
        dir, *meta.value(), want));
  }
  return store;
}

namespace {

// "hourbank-follow v1 ledger=<name> partitions=<P>" -> (name, P); nullopt when it is not that.
std::optional<std::pair<std::string, uint32_t>> ParseMeta(std::string_view meta) {
  constexpr std::string_view kHead = "hourbank-follow v1 ledger=";
  constexpr std::string_view kParts = " partitions=";
  if (meta.substr(0, kHead.size()) != kHead) return std::nullopt;
  const size_t at = meta.find(kParts, kHead.size());
  if (at == std::string_view::npos) return std::nullopt;
  std::string name(meta.substr(kHead.size(), at - kHead.size()));
  const std::string_view digits = meta.substr(at + kParts.size());
  uint32_t partitions = 0;
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    partitions = partitions * 10 + static_cast<uint32_t>(c - '0');
  }
  if (partitions == 0 || partitions > kNatsPartitionsMax || MetaText(name, partitions) != meta)
    return std::nullopt;
  return std::make_pair(std::move(name), partitions);
}

}  // namespace

Result<std::unique_ptr<FollowStore>> FollowStore::OpenReadOnly(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Error::NotFound(fmt::format("there is no serve node store at {}", dir));
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec))
    return Error::NotFound(fmt::format(
        "{} is not a serve node's store (no RocksDB database in it; see `serve --store`)", dir));
  rocksdb::Options o;
  o.create_if_missing = false;
  o.paranoid_checks = true;
  o.info_log = std::make_shared<NullLogger>();  // nothing is written into the directory
  // Every table file is opened now: a running node's compactions may delete files after this
  // open, and an open file stays readable (the view is the store as it was at the open).
  o.max_open_files = -1;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, dir, &raw);
  if (!s.ok()) return FromRocks(s, "opening the store " + dir + " read-only");
  std::unique_ptr<FollowStore> store(
      new FollowStore(std::unique_ptr<rocksdb::DB>(raw), std::string(), 0, true));
  auto meta = store->GetValue("M");
  if (!meta.ok()) return meta.error();
  auto parsed = meta.value() ? ParseMeta(*meta.value()) : std::nullopt;
  if (!parsed)
    return Error::Invalid(
        fmt::format("{} is not a serve node's store (its meta record is {}; see `serve --store`)",
                    dir, meta.value() ? "not one of a store" : "missing"));
  store->ledger_ = parsed->first;
  store->partitions_ = parsed->second;
  return store;
}

Error FollowStore::ReadOnlyRefusal() {
  return Error::Invalid("the store was opened read-only (for an audit); writes are refused");
}

Result<std::optional<std::string>> FollowStore::GetValue(std::string_view key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading the store");
  return std::optional<std::string>(std::move(v));
}

Status FollowStore::Iterate(
    std::string_view prefix, std::string_view from,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    const std::string_view k = ToView(it->key());
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!visit(k, ToView(it->value()))) break;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the store");
  return Status::Ok();
}

Result<uint64_t> FollowStore::AppliedSeq(uint32_t p) const {
  auto v = GetValue(AppliedKey(p));
  if (!v.ok()) return v.error();
  if (!v.value()) return uint64_t{0};
  auto seq = ParseSeq(*v.value());
  if (!seq) return Error::Corruption(fmt::format("the store's applied seq of partition {}", p));
  return *seq;
}

Status FollowStore::LoadClient(std::string_view client_id, NatsLog::ClientCache& cache) const {
  auto v = GetValue(ClientKey(client_id));
  if (!v.ok()) return v.error();
  if (v.value() && !DecodeClient(*v.value(), cache))
    return Error::Corruption(fmt::format("the store's record of client '{}'", client_id));
  return Status::Ok();
}

namespace {

// The client of a message's subject "hb.<ledger>.<p>.c.<client>", checked to belong to `p`.
Result<std::string> ClientOfSubject(std::string_view subject, std::string_view prefix, uint32_t p,
                                    uint32_t partitions, uint64_t position) {
  if (subject.substr(0, prefix.size()) == prefix) {
    std::string client(subject.substr(prefix.size()));
    if (ValidClientId(client) && NatsPartitionOf(client, partitions) == p) return client;
  }
  return Error::Corruption(
      fmt::format("message at position {} has subject '{}', not a client of partition {}", position,
                  subject, p),
      position);
}

}  // namespace

Status FollowStore::Apply(uint32_t p, const std::vector<NatsLog::Message>& messages,
                          uint32_t events_max) {
  if (read_only_) return ReadOnlyRefusal();
  auto applied = AppliedSeq(p);
  if (!applied.ok()) return applied.error();
  const std::string prefix = fmt::format("hb.{}.{}.c.", ledger_, p);
  std::map<std::string, NatsLog::ClientCache> clients;
  std::map<std::string, IdempotencyRecord> keys;  // KeyKey -> record, new in this batch
  std::vector<capnp::word> scratch;
  rocksdb::WriteBatch batch;
  uint64_t expect = applied.value() + 1;
  for (const NatsLog::Message& m : messages) {
    const uint64_t first = NatsPosition(p, m.stream_seq, 0);
    if (m.stream_seq != expect) {
      return Error::Corruption(fmt::format("partition {}: stream seq {} follows {} (a gap)", p,
                                           m.stream_seq, expect - 1),
                               first);
    }
    ++expect;
    auto client = ClientOfSubject(m.subject, prefix, p, partitions_, first);
    if (!client.ok()) return client.error();
    auto [it, fresh] = clients.try_emplace(client.value());
    if (fresh) HB_TRY(LoadClient(client.value(), it->second));
    NatsLog::ClientCache& cache = it->second;
    const uint32_t before = cache.version;
    HB_TRY(ApplyNatsMessage(client.value(), p, m.stream_seq, m.data, events_max, cache, scratch));
    for (const auto& [key, rec] : cache.keys) {
      if (rec.first_seq != first) continue;
      auto stored = GetValue(KeyKey(client.value(), key));
      if (!stored.ok()) return stored.error();
      if (stored.value())
        return Error::Corruption(
            fmt::format("idempotency key '{}' of client '{}' is used by two messages (the second "
                        "at position {})",
                        key, client.value(), first),
            first);
      keys[KeyKey(client.value(), key)] = rec;
    }
    auto frame = nats_frame::Decode(m.data, events_max);  // checked by ApplyNatsMessage
    if (!frame.ok()) return frame.error();
    for (size_t i = 0; i < frame->events.size(); ++i) {
      const uint64_t pos = NatsPosition(p, m.stream_seq, static_cast<uint32_t>(i));
      batch.Put(EventKey(pos), ToSlice(frame->events[i]));
      batch.Put(VersionKey(client.value(), before + static_cast<uint32_t>(i) + 1), SeqKey(pos));
    }
  }
  if (messages.empty()) return Status::Ok();
  for (const auto& [id, cache] : clients) batch.Put(ClientKey(id), EncodeClient(cache));
  for (const auto& [k, rec] : keys) batch.Put(k, EncodeKeyRecord(rec));
  batch.Put(AppliedKey(p), SeqKey(messages.back().stream_seq));
  if (rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &batch); !s.ok())
    return FromRocks(s, "writing the store");
  return Status::Ok();
}

Status FollowStore::Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
                         const ReadOptions& read) const {
  uint64_t to = to_seq == 0 ? UINT64_MAX : to_seq;
  if (read.as_of_seq != 0) to = std::min(to, read.as_of_seq);
  Status failed = Status::Ok();
  HB_TRY(Iterate("E", EventKey(std::max<uint64_t>(from_seq, 1)),
                 [&](std::string_view k, std::string_view bytes) {
                   const uint64_t pos = ReadBE(k.substr(1), 8);
                   if (pos > to) return false;
                   bool go = true;
                   failed = DecodeForeignEvent(bytes, [&](schemas::Event::Reader e) {
                     if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) return;
                     go = visit(EventView{pos, bytes, e});
                   });
                   return go && failed.ok();
                 }));
  return failed;
}

Status FollowStore::ReadStream(std::string_view client_id, uint32_t from_version,
                               uint32_t to_version, const Visitor& visit,
                               const ReadOptions& read) const {
  if (!ValidClientId(client_id))
    return Error::Invalid(fmt::format("client id '{}' is not valid", client_id));
  std::vector<capnp::word> scratch;
  Status failed = Status::Ok();
  HB_TRY(Iterate(
      VersionPrefix(client_id), VersionKey(client_id, std::max<uint32_t>(from_version, 1)),
      [&](std::string_view k, std::string_view v) {
        const auto version = static_cast<uint32_t>(ReadBE(k.substr(k.size() - 4), 4));
        const uint64_t pos = ParseSeq(v).value_or(0);
        if ((to_version != 0 && version > to_version) ||
            (read.as_of_seq != 0 && pos > read.as_of_seq))
          return false;
        auto bytes = GetValue(EventKey(pos));
        if (!bytes.ok() || !bytes.value()) {
          failed = bytes.ok() ? Error::Corruption("the store misses an event", pos) : bytes.error();
          return false;
        }
        bool go = true;
        failed = codec::Decode(version, *bytes.value(), scratch, [&](schemas::Event::Reader e) {
          if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) return;
          go = visit(EventView{pos, *bytes.value(), e});
        });
        return go && failed.ok();
      }));
  return failed;
}

Result<std::string> FollowStore::Get(uint64_t seq) const {
  auto v = GetValue(EventKey(seq));
  if (!v.ok()) return v.error();
  if (!v.value()) return Error::NotFound(fmt::format("no event at position {}", seq));
  return std::move(*v.value());
}

Result<uint64_t> FollowStore::HeadSeq() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev("F");
  if (!it->status().ok()) return FromRocks(it->status(), "reading the store");
  if (!it->Valid() || it->key().size() != 9 || it->key()[0] != 'E') return uint64_t{0};
  return ReadBE(ToView(it->key()).substr(1), 8);
}

Result<uint32_t> FollowStore::StreamVersion(std::string_view client_id) const {
  if (!ValidClientId(client_id)) return uint32_t{0};
  NatsLog::ClientCache cache;
  HB_TRY(LoadClient(client_id, cache));
  return cache.version;
}

Result<std::vector<std::string>> FollowStore::ListStreams() const {
  std::vector<std::string> ids;
  HB_TRY(Iterate("C", "C", [&](std::string_view k, std::string_view) {
    ids.emplace_back(k.substr(1));
    return true;
  }));
  return ids;
}

Result<std::optional<IdempotencyRecord>> FollowStore::LookupClientKey(std::string_view client_id,
                                                                      std::string_view key) const {
  if (!ValidClientId(client_id)) return std::optional<IdempotencyRecord>();
  auto v = GetValue(KeyKey(client_id, key));
  if (!v.ok()) return v.error();
  if (!v.value()) return std::optional<IdempotencyRecord>();
  if (v.value()->size() != kKeyValueBytes)
    return Error::Corruption(fmt::format("the store's record of key '{}'", key));
  IdempotencyRecord r;
  r.first_seq = ReadBE(*v.value(), 8);
  r.count = static_cast<uint32_t>(ReadBE(v.value()->substr(8), 4));
  std::memcpy(r.request_digest.data(), v.value()->data() + 12, kHashBytes);
  return std::optional<IdempotencyRecord>(r);
}

Status FollowStore::PutCheckpoint(std::string_view name, std::string_view bytes) {
  if (read_only_) return ReadOnlyRefusal();
  rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), CheckpointKey(name), ToSlice(bytes));
  if (!s.ok()) return FromRocks(s, "writing a checkpoint to the store");
  return Status::Ok();
}

Result<std::optional<std::string>> FollowStore::GetCheckpoint(std::string_view name) const {
  return GetValue(CheckpointKey(name));
}

Status FollowStore::DropCheckpoints() {
  if (read_only_) return ReadOnlyRefusal();
  rocksdb::Status s =
      db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(), "P", "Q");
  if (!s.ok()) return FromRocks(s, "dropping the store's checkpoints");
  return Status::Ok();
}

}  // namespace hourbank::ledger
