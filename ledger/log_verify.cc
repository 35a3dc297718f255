// Verify: the hash chain link by link, the streams index and the keys index, as a fast pass
// of sequential scans (Verify) and, when it finds a disagreement, a precise pass that names
// the first bad event (VerifyPrecise).
#include <limits>
#include <map>
#include <thread>

#include <sodium.h>

#include "ledger/codec.h"
#include "ledger/log_impl.h"
#include "ledger/scan_ahead.h"

namespace hourbank::ledger {

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
  if (meta_hash_bytes.size() != format::kHashBytes)
    return fail(0, "meta head_hash is missing or not 32 bytes");
  Hash meta_hash;
  std::memcpy(meta_hash.data(), meta_hash_bytes.data(), meta_hash.size());

  const uint64_t total = *head;
  std::vector<capnp::word> scratch;
  Hash chain{};                         // hash(n) recomputed from seq 1
  Hash link{};                          // L(n-1), what prevHash(n) must be
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
  // Looks up each event's streams record (the one holding its version).
  std::unique_ptr<rocksdb::Iterator> record_at(db_->NewIterator(ro, streams_));
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
      auto indexed = ReadStreamSeq(record_at.get(), client, version);
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
        auto rec = s.ok() ? format::ParseKeyValue(v) : std::nullopt;
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

  // Streams index: each event's version was found above in a record that maps it to the
  // event's seq; what remains is that the records tile each stream's versions 1 … n, one after
  // the other with no gap or overlap, and hold nothing else (unknown streams, versions past a
  // stream's event count, seqs past the head); and that a format 1 ledger has runs of 1 only.
  {
    std::unique_ptr<rocksdb::Iterator> si(db_->NewIterator(ro, streams_));
    std::string current;
    uint64_t next_version = 1;
    auto short_stream = [&]() -> std::optional<VerifyReport> {
      if (current.empty() || next_version - 1 == stream_counts[current]) return std::nullopt;
      return fail(0, fmt::format("streams index: {} has records for versions 1..{} but {} events",
                                 current, next_version - 1, stream_counts[current]));
    };
    // Bounded: one step per record.
    for (si->SeekToFirst(); si->Valid(); si->Next()) {
      auto entry = format::ParseStreamEntry(ToView(si->key()), ToView(si->value()));
      if (!entry) {
        return fail(0, fmt::format("streams index: a malformed record (a key of {} bytes, a "
                                   "value of {} bytes; 8, or 12 with a count >= 2, expected)",
                                   si->key().size(), si->value().size()));
      }
      if (entry->client_id != current) {
        if (auto r = short_stream()) return *r;
        current = std::string(entry->client_id);
        next_version = 1;
      }
      const format::StreamRun& run = entry->run;
      auto count = stream_counts.find(current);
      if (count == stream_counts.end() || entry->last_version() > count->second ||
          entry->first_version > next_version) {
        return fail(run.first_seq,
                    fmt::format("streams index: unexpected record {} versions {}..{} -> seqs "
                                "{}..{}",
                                current, entry->first_version, entry->last_version(),
                                run.first_seq, run.last_seq()));
      }
      if (entry->first_version < next_version) {
        return fail(run.first_seq,
                    fmt::format("streams index: {} versions {}..{} overlap the record before "
                                "(which ends at version {})",
                                current, entry->first_version, entry->last_version(),
                                next_version - 1));
      }
      if (run.last_seq() > total) {
        return fail(run.first_seq,
                    fmt::format("streams index: {} versions {}..{} -> seqs {}..{} run past the "
                                "head {}",
                                current, entry->first_version, entry->last_version(),
                                run.first_seq, run.last_seq(), total));
      }
      if (run.count > 1 && format_version_ < format::kFormatVersionRuns) {
        return fail(run.first_seq,
                    fmt::format("streams index: {} versions {}..{} are one record, which a "
                                "format {} ledger does not hold (one record per event)",
                                current, entry->first_version, entry->last_version(),
                                format_version_));
      }
      next_version = uint64_t(entry->last_version()) + 1;
    }
    if (!si->status().ok()) return FromRocks(si->status(), "cannot read the streams index");
    if (auto r = short_stream()) return *r;
  }

  // Keys index: every record covers events that carry its key.
  {
    std::unique_ptr<rocksdb::Iterator> ki(db_->NewIterator(ro, keys_));
    // Bounded: one step per key, and per key at most `count` <= head events.
    for (ki->SeekToFirst(); ki->Valid(); ki->Next()) {
      std::string key(ToView(ki->key()));
      auto rec = format::ParseKeyValue(ToView(ki->value()));
      if (!rec) return fail(0, fmt::format("keys index: the record of '{}' is malformed", key));
      if (rec->count == 0 || rec->first_seq == 0 || rec->first_seq > last ||
          rec->count > last - rec->first_seq + 1) {
        return fail(rec->first_seq,
                    fmt::format("keys index: '{}' points at seqs {}..{} outside "
                                "the log 1..{}",
                                key, rec->first_seq, rec->first_seq + rec->count - 1, last));
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

namespace {

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

// A keyed multiset hash: the sum (two 64-bit lanes, mod 2^64 each) of SipHash-128 of each
// element under a random key. Equal sums for two multisets of byte strings mean, except with
// probability ~2^-64 per comparison, equal multisets; the key is drawn per Verify() call, so
// stored data cannot be crafted to collide.
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
      link_ =
          ChainHash(b.prev_hashes[i], std::string_view(b.bytes).substr(begin, b.ends[i] - begin));
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

// What the events imply the indexes hold, as multiset hashes: each event's streams element
// (the streams_key of its version ‖ seq: fixed64_be) and, when it carries a key, its
// (key 0x00 seq) pair.
struct ImpliedIndexes {
  explicit ImpliedIndexes(const unsigned char* key) : streams(key), keys(key) {}
  MultisetHash streams;
  MultisetHash keys;
};

// The events scan of the fast pass: seqs contiguous from 1 to `total`, every event decodes,
// recordedAtUs never decreases, client ids valid, every chain link holds (LinkChecker). Adds
// what each event implies to `implied` and hands it to `visit`. Returns the head hash
// recomputed, nullopt when anything disagrees (the precise pass then names it), or an I/O error.
Result<std::optional<Hash>> ScanEvents(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events,
                                       const rocksdb::ReadOptions& ro, uint64_t total,
                                       const std::function<void(uint64_t, uint64_t)>& progress,
                                       const Visitor* visit, ImpliedIndexes& implied) {
  std::vector<capnp::word> scratch;
  LinkChecker links;
  int64_t previous_recorded_at_us = std::numeric_limits<int64_t>::min();
  StreamCounts stream_counts;  // bounded by the number of streams
  uint64_t expected = 1;
  std::string element;
  bool visiting = visit != nullptr && *visit;
  const std::optional<Hash> disagree;
  // RocksDB's own readahead on the read-ahead thread, as in Log::Impl::Scan (log_read.cc).
  rocksdb::ReadOptions events_ro = ro;
  events_ro.readahead_size = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(events_ro, events));
  // Read on a second thread, checked and hashed on this one (scan_ahead.h). Bounded: one
  // step per stored event up to `total`.
  Status scanned = ScanAhead(
      it.get(), 1, total, total, [&](uint64_t seq, std::string_view bytes, bool*) -> Status {
        bool event_ok = false;
        Status st = codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
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
          format::AppendFixed64BE(&element, seq);
          implied.streams.Add(element);
          if (!carried.empty()) {
            element.assign(carried);
            element.push_back('\0');
            format::AppendFixed64BE(&element, seq);
            implied.keys.Add(element);
          }
          if (visiting && !(*visit)(EventView{seq, bytes, e})) visiting = false;
        });
        if (!st.ok() || !event_ok) return Error::Corruption("disagrees", seq);
        expected = seq + 1;
        if (progress && seq % kVerifyProgressEvents == 0) progress(seq, total);
        return Status::Ok();
      });
  // Anything the events disagree on (a gap, a bad key, an undecodable event, a tail past the
  // head): the precise pass names it. Other failures (I/O) are reported as they are.
  if (!scanned.ok() && scanned.error().code != Code::kCorruption) return scanned.error();
  if (!scanned.ok()) return disagree;
  // Events stored after `total` (the head in meta): the precise pass names them too.
  {
    std::unique_ptr<rocksdb::Iterator> after(db->NewIterator(ro, events));
    after->Seek(format::SeqKey(total + 1));
    if (after->Valid()) return disagree;
    if (!after->status().ok()) return FromRocks(after->status(), "cannot read the events");
  }
  Hash chain{};
  if (!links.Finish(&chain) || expected - 1 != total) return disagree;
  return std::optional<Hash>(chain);
}

// Whether the streams index holds exactly the entries the events imply: each record expanded
// into one (streams_key ‖ seq) element per version of its run, so the comparison is the same
// for format 1 (runs of 1) and format 2. `runs`: whether records of several versions may exist.
Result<bool> StreamsIndexMatches(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* streams,
                                 const rocksdb::ReadOptions& ro, uint64_t total, bool runs,
                                 const unsigned char* key, const MultisetHash& implied) {
  MultisetHash held(key);
  std::string element;
  std::unique_ptr<rocksdb::Iterator> si(db->NewIterator(ro, streams));
  // Bounded: one step per record, and at most `total` elements in all (held.count() <= total).
  for (si->SeekToFirst(); si->Valid(); si->Next()) {
    auto entry = format::ParseStreamEntry(ToView(si->key()), ToView(si->value()));
    if (!entry || entry->run.count > total - held.count() || (!runs && entry->run.count != 1)) {
      return false;
    }
    for (uint32_t i = 0; i < entry->run.count; ++i) {
      format::StreamKeyInto(&element, entry->client_id, entry->first_version + i);
      format::AppendFixed64BE(&element, entry->run.first_seq + i);
      held.Add(element);
    }
  }
  if (!si->status().ok()) return FromRocks(si->status(), "cannot read the streams index");
  return held == implied;
}

// Whether the keys index covers exactly the (key, seq) pairs the events imply.
Result<bool> KeysIndexMatches(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys,
                              const rocksdb::ReadOptions& ro, uint64_t total,
                              const unsigned char* key, const MultisetHash& implied) {
  MultisetHash held(key);
  std::string element;
  std::unique_ptr<rocksdb::Iterator> ki(db->NewIterator(ro, keys));
  // Bounded: one step per key, and at most implied.count() - held.count() steps inside.
  for (ki->SeekToFirst(); ki->Valid(); ki->Next()) {
    auto rec = format::ParseKeyValue(ToView(ki->value()));
    if (!rec || rec->count == 0 || rec->first_seq == 0 || rec->first_seq > total ||
        rec->count > total - rec->first_seq + 1 || rec->count > implied.count() - held.count()) {
      return false;
    }
    for (uint64_t seq = rec->first_seq; seq < rec->first_seq + rec->count; ++seq) {
      element.assign(ToView(ki->key()));
      element.push_back('\0');
      format::AppendFixed64BE(&element, seq);
      held.Add(element);
    }
  }
  if (!ki->status().ok()) return FromRocks(ki->status(), "cannot read the keys index");
  return held == implied;
}

}  // namespace

// The fast, bounded-memory pass: one sequential scan of each column family, no point reads.
// The events scan checks the chain, seqs, recorded times and client ids, and adds each
// event's streams element (streams_key of its version ‖ seq) and, when it carries a key, its
// (key 0x00 seq) pair to two multiset hashes; the streams and keys scans add what the indexes
// hold, each record expanded into the elements of its versions. Equal hashes mean the indexes are exactly what the events imply (what
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
  const NoPerfCounts no_perf_counts;

  auto head = SnapshotHead(snap.snapshot());
  if (!head.ok()) return precise();
  std::string meta_hash_bytes;
  rocksdb::Status s = db_->Get(ro, meta_, ToSlice(format::kMetaHeadHash), &meta_hash_bytes);
  if (!s.ok() || meta_hash_bytes.size() != format::kHashBytes) return precise();
  const uint64_t total = *head;

  unsigned char key[crypto_shorthash_siphashx24_KEYBYTES];
  randombytes_buf(key, sizeof key);
  ImpliedIndexes implied(key);
  auto chain = ScanEvents(db_, events_, ro, total, progress, visit, implied);
  if (!chain.ok()) return chain.error();
  const std::optional<Hash>& head_hash = *chain;
  if (!head_hash ||
      std::memcmp(head_hash->data(), meta_hash_bytes.data(), format::kHashBytes) != 0) {
    return precise();
  }
  auto streams_ok = StreamsIndexMatches(db_, streams_, ro, total,
                                        format_version_ >= format::kFormatVersionRuns, key,
                                        implied.streams);
  if (!streams_ok.ok()) return streams_ok.error();
  if (!*streams_ok) return precise();
  auto keys_ok = KeysIndexMatches(db_, keys_, ro, total, key, implied.keys);
  if (!keys_ok.ok()) return keys_ok.error();
  if (!*keys_ok) return precise();
  VerifyReport r;
  r.events_checked = total;
  r.head_hash = *head_hash;
  if (progress) progress(total, total);
  return r;
}

}  // namespace hourbank::ledger
