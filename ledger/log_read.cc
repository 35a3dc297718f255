// The read path of the Log: scans, stream reads, key lookups, the recovery scan, and the
// projections column family (checkpoints).
#include <algorithm>

#include <rocksdb/write_batch.h>

#include "ledger/codec.h"
#include "ledger/log_impl.h"
#include "ledger/scan_ahead.h"

namespace hourbank::ledger {

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
  // A long scan (a rebuild, an export) reads each block once, in key order: keep its blocks
  // out of the block cache, so a full replay neither evicts the blocks that point reads need
  // nor makes the process grow with the log. Its reads are on the read-ahead thread
  // (scan_ahead.h), with RocksDB's own readahead (growing to 256 KiB per file): a fixed 4 MiB
  // buffer per table file, allocated in that thread's malloc arena, was given back and
  // page-faulted again on every scan (3.8x the page faults of the serial scan, measured).
  // Short scans (a tail) keep the defaults.
  const bool long_scan = last - first >= kLongScanEvents;
  if (long_scan) ro.fill_cache = false;
  const std::string upper = format::SeqKey(last == UINT64_MAX ? last : last + 1);
  rocksdb::Slice upper_slice(upper);
  if (last != UINT64_MAX) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  std::vector<capnp::word> scratch;  // reused for misaligned values
  // Decodes and visits one event; sets *stop when the read ends here without an error.
  auto decode_visit = [&](uint64_t seq, std::string_view bytes, bool* stop) -> Status {
    return codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
      // recordedAtUs never decreases along the log (Verify checks it), so the first event
      // recorded after known_at_us ends the read.
      if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) {
        *stop = true;
        return;
      }
      if (!visit(EventView{seq, bytes, e})) *stop = true;
    });
  };
  // A long scan reads on a second thread while this one decodes and visits (scan_ahead.h).
  if (long_scan) return ScanAhead(it.get(), first, last, *head, decode_visit);

  const NoPerfCounts no_perf_counts;
  uint64_t expected = first;
  bool stop = false;
  // Bounded: one step per seq in [first, last].
  for (it->Seek(format::SeqKey(first)); it->Valid() && !stop; it->Next()) {
    HB_TRY(CheckScanKey(ToView(it->key()), expected));
    HB_TRY(decode_visit(expected, ToView(it->value()), &stop));
    ++expected;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot scan the events");
  if (!stop && expected <= last) return ScanEndedEarly(expected, *head);
  return Status::Ok();
}

Status Log::Impl::ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                             const Visitor& visit, const ReadOptions& read) const {
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
      if (!statuses[i].ok())
        return FromRocks(statuses[i], fmt::format("cannot read event {}", seq));
      std::string_view bytes = ToView(values[i]);
      std::optional<Error> wrong_client;
      Status st = codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
        if (TextView(e.getClientId()) != client_id) {
          wrong_client =
              Error::Corruption(fmt::format("stream {} points at event {}, which belongs to '{}'",
                                            client_id, seq, TextView(e.getClientId())),
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

  // The records are runs (format.h): start at the one that holds first_version, which may
  // begin before it (SeekForPrev within the client's keys), else at the client's first record
  // after it (then a gap, reported below).
  const std::string start = format::StreamKey(client_id, first_version);
  const std::string prefix = format::StreamPrefix(client_id);
  it->SeekForPrev(start);
  if (!it->Valid() || !ToView(it->key()).starts_with(prefix)) {
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the streams index");
    it->Seek(start);
  }
  const uint64_t last_version = to_version == 0 ? UINT32_MAX : to_version;
  uint64_t expected_version = first_version;  // 64 bits: may pass UINT32_MAX at the end
  uint64_t previous_seq = 0;
  bool first_record = true, done = false;
  // Bounded: each record read either is the one SeekForPrev found, or adds at least one
  // version (or ends the read); each version adds one seq <= last_seq, increasing.
  for (; it->Valid() && !stop && !done; it->Next()) {
    auto entry = format::ParseStreamEntry(ToView(it->key()), ToView(it->value()));
    if (!entry || entry->client_id != client_id) {
      return Error::Corruption(
          fmt::format("the streams index of {} has a malformed entry near "
                      "version {}",
                      client_id, expected_version));
    }
    const bool was_first = first_record;
    first_record = false;
    if (entry->run.last_seq() > *head) {
      return Error::Corruption(
          fmt::format("the streams index of {} maps versions {}..{} to seqs {}..{}, past the "
                      "head {}",
                      client_id, entry->first_version, entry->last_version(),
                      entry->run.first_seq, entry->run.last_seq(), *head),
          entry->run.first_seq);
    }
    if (entry->last_version() < expected_version) {
      if (was_first) continue;  // the record before the range: the next must begin at it
      return Error::Corruption(
          fmt::format("the streams index of {} holds versions {}..{} twice (records overlap)",
                      client_id, entry->first_version, entry->last_version()),
          entry->run.first_seq);
    }
    if (entry->first_version > expected_version) {
      return Error::Corruption(
          fmt::format("the streams index of {} misses version {}", client_id, expected_version),
          entry->run.first_seq);
    }
    if (!was_first && entry->first_version < expected_version) {
      return Error::Corruption(
          fmt::format("the streams index of {} holds versions {}..{} twice (records overlap)",
                      client_id, entry->first_version, expected_version - 1),
          entry->run.first_seq);
    }
    const uint64_t record_end = std::min<uint64_t>(entry->last_version(), last_version);
    for (; expected_version <= record_end; ++expected_version) {
      const uint64_t seq = entry->run.first_seq + (expected_version - entry->first_version);
      if (seq <= previous_seq) {
        return Error::Corruption(fmt::format("the streams index of {} goes back from seq {} to {}",
                                             client_id, previous_seq, seq),
                                 seq);
      }
      if (seq > last_seq) {  // later versions are later seqs
        done = true;
        break;
      }
      previous_seq = seq;
      seqs.push_back(seq);
      if (seqs.size() == kStreamReadChunkEvents) {
        HB_TRY(flush());
        if (stop) break;
      }
    }
    if (expected_version > last_version) done = true;
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

Result<std::optional<Log::Impl::StreamRecord>> Log::Impl::StreamRecordAt(
    rocksdb::Iterator* it, std::string_view client_id, uint32_t version) const {
  using Found = std::optional<StreamRecord>;
  it->SeekForPrev(format::StreamKey(client_id, version));
  if (!it->status().ok()) {
    return FromRocks(it->status(), fmt::format("cannot read the streams index of {}", client_id));
  }
  // Client ids never contain 0x00, so a key with the client's prefix is the client's.
  if (!it->Valid() || !ToView(it->key()).starts_with(format::StreamPrefix(client_id))) {
    return Found();
  }
  auto entry = format::ParseStreamEntry(ToView(it->key()), ToView(it->value()));
  if (!entry || entry->client_id != client_id) {
    return Error::Corruption(fmt::format(
        "the streams index of {} has a malformed record at or before version {} (a value of {} "
        "bytes; 8, or 12 with a count >= 2, expected)",
        client_id, version, it->value().size()));
  }
  return Found(StreamRecord{entry->first_version, entry->run});
}

Result<std::optional<uint64_t>> Log::Impl::ReadStreamSeq(rocksdb::Iterator* it,
                                                         std::string_view client_id,
                                                         uint32_t version) const {
  auto record = StreamRecordAt(it, client_id, version);
  if (!record.ok()) return record.error();
  if (!*record || !(*record)->holds(version)) return std::optional<uint64_t>();
  return std::optional<uint64_t>((*record)->run.first_seq + (version - (*record)->first_version));
}

Result<uint32_t> Log::Impl::ReadStreamVersion(std::string_view client_id,
                                              const rocksdb::Snapshot* snapshot) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOpts(snapshot), streams_));
  auto record = StreamRecordAt(it.get(), client_id, UINT32_MAX);
  if (!record.ok()) return record.error();
  if (!*record) return 0u;  // no record of this client
  return (*record)->last_version();
}

// The version of `client_id`'s stream whose event is `seq`, or 0 when the stream has no such
// event. Binary search over the records (versions map to increasing seqs); each probe reads
// the record holding the middle version and drops all of it from the range, so at most 33
// probes, all through one iterator.
Result<uint32_t> Log::Impl::VersionOfSeq(const std::string& client_id, uint64_t seq,
                                         uint32_t current_version) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOpts(nullptr), streams_));
  uint64_t lo = 1, hi = current_version;
  while (lo <= hi) {
    const auto mid = static_cast<uint32_t>(lo + (hi - lo) / 2);
    auto at = StreamRecordAt(it.get(), client_id, mid);
    if (!at.ok()) return at.error();
    if (!*at || !(*at)->holds(mid)) {
      return Error::Corruption(
          fmt::format("the streams index of {} misses version {}", client_id, mid));
    }
    const StreamRecord& r = **at;
    if (seq >= r.run.first_seq && seq <= r.run.last_seq()) {
      return static_cast<uint32_t>(r.first_version + (seq - r.run.first_seq));
    }
    if (seq < r.run.first_seq) {
      hi = uint64_t(r.first_version) - 1;
    } else {
      lo = uint64_t(r.last_version()) + 1;
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
  auto rec = format::ParseKeyValue(v);
  if (!rec) {
    return Error::Corruption(fmt::format("the record of idempotency key '{}' is {} bytes, not {}",
                                         key, v.size(), format::kKeyValueBytes));
  }
  return std::optional<IdempotencyRecord>(*rec);
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

}  // namespace hourbank::ledger
