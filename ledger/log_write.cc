// The write path of the Log: the writer queue (LevelDB's): admit (Prepare), stamp, write,
// publish, one WriteBatch and one WAL sync per group; and AppendRaw for imports.
#include <algorithm>
#include <array>

#include <capnp/any.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <rocksdb/write_batch.h>

#include "ledger/codec.h"
#include "ledger/log_impl.h"

namespace hourbank::ledger {

namespace {

// Per body discriminant, the slot of its member in Event's pointer section (Event.body is a
// group, so its members live in Event's own sections), or -1 for a member that is not a
// pointer (present whenever it is selected). Built once from the schema.
const std::vector<int32_t>& BodyPointerSlots() {
  static const std::vector<int32_t> slots = [] {
    std::vector<int32_t> t;
    auto body = capnp::Schema::from<schemas::Event>().getFieldByName("body").getType().asStruct();
    for (auto field : body.getUnionFields()) {
      auto proto = field.getProto();
      const uint16_t which = proto.getDiscriminantValue();
      if (t.size() <= which) t.resize(size_t(which) + 1, -1);
      if (proto.isSlot() && field.getType().isStruct())
        t[which] = int32_t(proto.getSlot().getOffset());
    }
    return t;
  }();
  return slots;
}

// Whether the draft's body union holds a member that was actually set. The union's default
// discriminant is its first member, so which() alone cannot tell "unset" from
// "clientRegistered"; the member's pointer can. (As DynamicStruct::has, without the dynamic
// API's per-call schema lookups, which were 15 % of a bulk append's instructions.)
bool HasBody(schemas::Event::Reader root) {
  const auto which = static_cast<uint16_t>(root.getBody().which());
  const std::vector<int32_t>& slots = BodyPointerSlots();
  if (which >= slots.size()) return false;  // a discriminant this build does not know
  if (slots[which] < 0) return true;
  auto pointers = capnp::AnyStruct::Reader(root).getPointerSection();
  return uint32_t(slots[which]) < pointers.size() && !pointers[uint32_t(slots[which])].isNull();
}

// The request's stream, size and idempotency key are within the limits.
Status CheckEnvelope(const AppendRequest& request, const Options& options) {
  if (!ValidClientId(request.client_id)) {
    return Error::Invalid(fmt::format(
        "client id '{}' is not valid: use 1 to 64 of a-z 0-9 . _ - starting with a letter or "
        "digit (system streams add a leading '$')",
        request.client_id));
  }
  if (request.events.empty()) {
    return Error::Invalid("an append needs at least one event; the batch is empty");
  }
  if (request.events.size() > options.batch_events_max) {
    return Error::Limit(fmt::format("the append has {} events; the limit (batch_events_max) is {}",
                                    request.events.size(), options.batch_events_max));
  }
  const std::string& key = request.idempotency_key;
  if (key.size() > options.idempotency_key_bytes_max) {
    return Error::Limit(
        fmt::format("the idempotency key is {} bytes; the limit (idempotency_key_bytes_max) is {}",
                    key.size(), options.idempotency_key_bytes_max));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      return Error::Invalid(
          fmt::format("the idempotency key has a control character (0x{:02x}) at byte {}", c, i));
    }
  }
  return Status::Ok();
}

// Every draft has a body, an effective time and no key other than the request's. Checks all
// before touching any, so a refused request leaves them as given.
Status CheckDrafts(AppendRequest& request) {
  const std::string& key = request.idempotency_key;
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
  return Status::Ok();
}

// What makes a retry "the same request". The default covers the stream as well as the
// drafts, so a key reused for the same body on another stream is a conflict, not a replay of
// someone else's events (the leader also checks the stream on replay).
Hash RequestDigest(AppendRequest& request) {
  if (request.request_digest) return *request.request_digest;
  // Default: BLAKE2b-256(client_id 0x00 (fixed64_be length, flat draft bytes)*), the drafts as
  // the caller built them, before any stamping.
  codec::Hasher h;
  h.Update(request.client_id);
  h.Update(std::string_view("\0", 1));
  for (auto& draft : request.events) {
    auto flat = capnp::messageToFlatArray(draft.message());
    auto bytes = flat.asChars();
    h.Update(format::Fixed64(bytes.size()));
    h.Update(std::string_view(bytes.begin(), bytes.size()));
  }
  return h.Final();
}

// Stamps the envelope fields whose size is known now and adds each event's size to *bytes_total.
Status StampDrafts(AppendRequest& request, const Options& options, uint64_t* bytes_total) {
  const std::string& key = request.idempotency_key;
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
    if (bytes > options.event_bytes_max) {
      return Error::Limit(fmt::format(
          "event #{} of the append is {} bytes; the limit (event_bytes_max) is {} bytes", i + 1,
          bytes, options.event_bytes_max));
    }
    *bytes_total += bytes;
  }
  return Status::Ok();
}

}  // namespace

// Validates the request and stamps every envelope field whose size is known now (clientId,
// idempotencyKey, a zeroed 32-byte prevHash), so that the leader later only overwrites
// fixed-size fields and the size measured here is the size written. Runs on the caller's
// thread, outside any lock: the expensive part of an append (digest, size) is parallel.
Status Log::Impl::Prepare(AppendRequest& request, Writer* w) const {
  HB_TRY(CheckEnvelope(request, options_));
  HB_TRY(CheckDrafts(request));
  if (!request.idempotency_key.empty()) w->request_digest = RequestDigest(request);
  return StampDrafts(request, options_, &w->bytes);
}

Result<AppendResult> Log::Impl::Append(AppendRequest request) {
  HB_TRY(RefuseReadOnly());
  Writer w;
  w.request = &request;
  if (Status s = Prepare(request, &w); !s.ok()) return s.error();

  bool lead, wake_leader = false;
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    assert(writers_.size() < kWritersQueuedMax && "more appending threads than the queue bound");
    writers_.push_back(&w);
    lead = writers_.size() == 1;  // else a leader is at work and tells this writer its turn
    wake_leader = leader_waiting_ && writers_.size() >= writers_expected_;
  }
  if (wake_leader) gather_cv_.notify_one();
  if (lead || w.Wait() == Writer::Turn::kLead) Lead(&w);
  if (w.error) return *w.error;
  return w.result;
}

// The front writer's turn: take followers from the front, up to the group bounds (the leader
// is always taken, so one request larger than group_bytes_max is written alone), commit them,
// leave the queue, then answer the followers and hand the lead to the next front writer.
// New writers may queue behind the group while it is written; the group itself stays at the
// front, so no other leader runs until it is popped.
void Log::Impl::Lead(Writer* leader) {
  std::vector<Writer*> group;
  {
    std::unique_lock<std::mutex> l(queue_mu_);
    assert(writers_.front() == leader);
    Gather(l);
    uint64_t group_bytes = 0;
    for (Writer* x : writers_) {
      if (!group.empty() && (group.size() >= kGroupRequestsMax ||
                             group_bytes + x->bytes > options_.group_bytes_max)) {
        break;
      }
      group.push_back(x);
      group_bytes += x->bytes;
    }
  }
  CommitGroup(group);
  Writer* next = nullptr;
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    for (Writer* x : group) {
      assert(writers_.front() == x);
      (void)x;
      writers_.pop_front();
    }
    // Closed-loop callers (a thread that appends again once answered) come back within
    // microseconds: expect those answered now and those still queued for the next group.
    writers_expected_ = std::min(group.size() + writers_.size(), kGroupRequestsMax);
    if (writers_.empty()) {
      idle_cv_.notify_all();
    } else {
      next = writers_.front();
    }
  }
  for (Writer* x : group) {
    if (x != leader) x->Tell(Writer::Turn::kDone);
  }
  if (next != nullptr) next->Tell(Writer::Turn::kLead);
}

// Before a synced group is formed: while fewer writers are queued than took part in the last
// group (with those then queued behind it), waits for them a short while, at most a quarter
// of the last group's write. Without this, writers answered by one group come back while the
// next (formed from whoever was queued) is already syncing, and wait for two syncs; groups
// alternate instead of merging. REQUIRES: queue_mu_ held through `l`; this is the leader.
void Log::Impl::Gather(std::unique_lock<std::mutex>& l) {
  if (options_.durability != Durability::kSync || writers_.size() >= writers_expected_) return;
  const auto wait = std::chrono::microseconds(
      std::min<int64_t>(last_write_us_.load(std::memory_order_relaxed) / 4, kGatherWaitUsMax));
  leader_waiting_ = true;
  gather_cv_.wait_for(l, wait, [&] { return writers_.size() >= writers_expected_; });
  leader_waiting_ = false;
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

// One group's write in the making: the head it extends, what its accepted writers changed so
// far (not yet committed), and the WriteBatch. Lives on the leader's stack.
struct Log::Impl::GroupWrite {
  uint64_t head = 0;
  Hash hash{};
  int64_t recorded_at_us = 0;
  int64_t now_us = 0;
  std::unordered_map<std::string, uint32_t> pending_versions;  // <= group size entries
  std::unordered_map<std::string, Writer*> pending_keys;       // <= group size entries
  std::vector<Writer*> acknowledged;  // accepted or replayed: answered only if the write works
  rocksdb::WriteBatch batch;
  uint64_t events_count = 0;

  std::string key;    // scratch for a streams key, reused across the group's events
  std::string value;  // scratch for a streams value, likewise

  void Put(rocksdb::ColumnFamilyHandle* cf, std::string_view k, std::string_view v) {
    rocksdb::Status s = batch.Put(cf, ToSlice(k), ToSlice(v));
    // WriteBatch::Put fails only past its 4 GiB size bound, which the group bounds exclude.
    assert(s.ok());
    (void)s;
  }

  // Puts the stamped event `m` as seq `head` and chains `hash` over it. The stored bytes are
  // capnp::messageToFlatArray's (segment table, then the segments), hashed and copied into the
  // batch straight from the builder's segments instead of through one flat copy.
  void PutEvent(rocksdb::ColumnFamilyHandle* cf, capnp::MessageBuilder& m, uint64_t bytes_max) {
    auto segments = m.getSegmentsForOutput();
    constexpr size_t kPartsMax = 8;
    if (segments.size() + 1 > kPartsMax) {  // rare: a multi-segment message, one flat copy
      kj::Array<capnp::word> flat = capnp::messageToFlatArray(m);
      std::string_view bytes(flat.asChars().begin(), flat.asChars().size());
      hash = ChainHash(hash, bytes);
      Put(cf, format::SeqKey(head), bytes);
      return;
    }
    // The segment table: count - 1, each segment's size in words (uint32 little-endian),
    // padded to a whole word.
    std::array<uint8_t, kPartsMax * 4> table{};
    const size_t table_bytes = ((segments.size() + 2) / 2) * sizeof(capnp::word);
    auto put32 = [&](size_t at, size_t v) {
      for (size_t i = 0; i < 4; ++i) table[at + i] = static_cast<uint8_t>(v >> (8 * i));
    };
    put32(0, segments.size() - 1);
    std::array<rocksdb::Slice, kPartsMax> parts;
    parts[0] = rocksdb::Slice(reinterpret_cast<const char*>(table.data()), table_bytes);
    codec::Hasher h;
    h.Update(hash);
    uint64_t total = table_bytes;
    for (size_t i = 0; i < segments.size(); ++i) {
      put32(4 * (i + 1), segments[i].size());
      auto bytes = segments[i].asChars();
      parts[i + 1] = rocksdb::Slice(bytes.begin(), bytes.size());
      total += bytes.size();
    }
    assert(total <= bytes_max);  // fixed-size fields only changed since Prepare measured it
    (void)bytes_max;
    (void)total;
    h.Update(ToView(parts[0]));
    for (size_t i = 1; i <= segments.size(); ++i) h.Update(ToView(parts[i]));
    hash = h.Final();
    const std::string k = format::SeqKey(head);
    const rocksdb::Slice key_slice = ToSlice(k);
    rocksdb::Status s = batch.Put(cf, rocksdb::SliceParts(&key_slice, 1),
                                  rocksdb::SliceParts(parts.data(), int(segments.size() + 1)));
    assert(s.ok());  // as in Put
    (void)s;
  }
};

// The leader's whole turn: admit each writer against the head and the group so far, write
// the batch once, publish the new head. Answers go to each Writer; the caller wakes them.
void Log::Impl::CommitGroup(const std::vector<Writer*>& group) {
  // After a failed write, reopen first (before db_mu_ is taken shared below).
  const std::string still_failing = TryResume();
  std::shared_lock<std::shared_timed_mutex> db_lock(db_mu_);
  if (db_ == nullptr) {
    Error e = Error::Io(fmt::format("cannot write to the ledger at {}: {}", dir_, still_failing));
    for (Writer* w : group) w->error = e;
    return;
  }
  // RocksDB's per-thread perf counters (a thread-local increment per key comparison in the
  // memtable inserts) are read by nobody: off while this thread writes, as db_bench runs.
  const NoPerfCounts no_perf_counts;
  GroupWrite g;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    g.head = head_seq_;
    g.hash = head_hash_;
    g.recorded_at_us = head_recorded_at_us_;
  }
  g.now_us = NowUs();
  for (Writer* w : group) Admit(g, w);
  const bool wrote = WriteGroup(g, still_failing);
  Publish(g, group.size(), wrote);
}

// Decides one writer: a replay or conflict of its idempotency key, a version conflict, or
// accepted (stamped into the batch).
void Log::Impl::Admit(GroupWrite& g, Writer* w) {
  AppendRequest& req = *w->request;
  auto committed = LeaderStreamVersion(req.client_id);
  if (!committed.ok()) {
    w->error = committed.error();
    return;
  }
  uint32_t version = *committed;
  if (auto it = g.pending_versions.find(req.client_id); it != g.pending_versions.end()) {
    version = it->second;
  }
  if (!req.idempotency_key.empty() && AnswerSeenKey(g, w, *committed)) return;
  if (req.recorded_at_us != 0 && req.recorded_at_us < g.recorded_at_us) {
    w->error = Error::Invalid(
        fmt::format("recorded time {} is before the log head's {}; import events in recorded order",
                    req.recorded_at_us, g.recorded_at_us));
    return;
  }
  if (req.expected_version && *req.expected_version != version) {
    w->error = Error::Conflict(fmt::format(
        "stream {} is at version {}, not the expected version {}; re-read the stream and "
        "decide again",
        req.client_id, version, *req.expected_version));
    w->error->current_version = version;
    return;
  }
  Stamp(g, w, version);
}

// When the writer's key was seen before (earlier in this group, or committed), answers it:
// the original result (a replay) or a conflict. Returns whether it answered.
bool Log::Impl::AnswerSeenKey(GroupWrite& g, Writer* w, uint32_t committed_version) {
  AppendRequest& req = *w->request;
  const std::string& key = req.idempotency_key;
  if (auto it = g.pending_keys.find(key); it != g.pending_keys.end()) {
    // The same key twice in one group: the second is a retry of the first.
    const Writer* first = it->second;
    if (first->request_digest == w->request_digest && first->request->client_id == req.client_id) {
      w->result = first->result;
      w->result.replayed = true;
      g.acknowledged.push_back(w);
    } else {
      w->error = Error::Conflict(fmt::format(
          "idempotency key '{}' was already used for a different request (seqs {}..{}); "
          "use a new key for a new request",
          key, first->result.first_seq, first->result.first_seq + first->result.count - 1));
    }
    return true;
  }
  auto rec = LookupKey(key);
  if (!rec.ok()) {
    w->error = rec.error();
    return true;
  }
  const std::optional<IdempotencyRecord>& seen = *rec;
  if (!seen) return false;
  const uint64_t last_seq = seen->first_seq + seen->count - 1;
  if (seen->request_digest != w->request_digest) {
    w->error = Error::Conflict(
        fmt::format("idempotency key '{}' was already used for a different request (seqs {}..{}); "
                    "use a new key for a new request",
                    key, seen->first_seq, last_seq));
    return true;
  }
  // Same digest: the original result, whose stream version is found from the index.
  // Search only committed versions: a key found in RocksDB names committed events.
  auto v = VersionOfSeq(req.client_id, last_seq, committed_version);
  if (!v.ok()) {
    w->error = v.error();
  } else if (*v == 0) {
    w->error = Error::Conflict(
        fmt::format("idempotency key '{}' was already used by another stream (seqs {}..{}); use a "
                    "new key",
                    key, seen->first_seq, last_seq));
  } else {
    w->result = AppendResult{seen->first_seq, seen->count, *v, true};
    g.acknowledged.push_back(w);
  }
  return true;
}

// Accepted: stamp each draft (seq, recordedAtUs, prevHash), serialize, chain, index. The
// streams index gets one record for the whole request (its versions and seqs are both
// contiguous), or on a format 1 ledger one per event, as builds before format 2 read it.
void Log::Impl::Stamp(GroupWrite& g, Writer* w, uint32_t version) {
  AppendRequest& req = *w->request;
  const uint64_t first_seq = g.head + 1;
  const uint32_t first_version = version + 1;
  const bool runs = format_version_ >= format::kFormatVersionRuns;
  for (auto& draft : req.events) {
    ++g.head;
    ++version;
    g.recorded_at_us =
        req.recorded_at_us != 0 ? req.recorded_at_us : std::max(g.now_us, g.recorded_at_us);
    auto root = draft.root();
    root.setSeq(g.head);
    root.setRecordedAtUs(g.recorded_at_us);
    auto ph = root.getPrevHash();
    assert(ph.size() == g.hash.size());  // sized by Prepare
    std::memcpy(ph.begin(), g.hash.data(), g.hash.size());
    g.PutEvent(events_, draft.message(), options_.event_bytes_max);
    if (!runs) {
      format::StreamKeyInto(&g.key, req.client_id, version);
      format::StreamValueInto(&g.value, g.head, 1);
      g.Put(streams_, g.key, g.value);
    }
    ++g.events_count;
  }
  const auto count = static_cast<uint32_t>(req.events.size());
  if (runs) {
    format::StreamKeyInto(&g.key, req.client_id, first_version);
    format::StreamValueInto(&g.value, first_seq, count);
    g.Put(streams_, g.key, g.value);
  }
  if (!req.idempotency_key.empty()) {
    g.Put(keys_, req.idempotency_key, format::KeyValue(first_seq, count, w->request_digest));
    g.pending_keys[req.idempotency_key] = w;
  }
  g.pending_versions[req.client_id] = version;
  w->result = AppendResult{first_seq, count, version, false};
  g.acknowledged.push_back(w);
}

// Writes the batch (with the new head) once, when the group has events. On failure nothing
// of the group is acknowledged, not even replays: a caller retries the group's requests as a
// whole and gets the same answers then. Returns whether the batch was written.
// REQUIRES: db_mu_ held shared.
bool Log::Impl::WriteGroup(GroupWrite& g, const std::string& still_failing) {
  if (g.events_count == 0) return false;
  g.Put(meta_, format::kMetaHeadSeq, format::Fixed64(g.head));
  g.Put(meta_, format::kMetaHeadHash, HashView(g.hash));
  g.Put(meta_, format::kMetaHeadRecordedAtUs,
        format::Fixed64(static_cast<uint64_t>(g.recorded_at_us)));
  bool inject = false;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    if (injected_write_failures_ > 0) {
      --injected_write_failures_;
      inject = true;
    }
  }
  rocksdb::Status s;
  const std::string still = inject ? std::string() : still_failing;
  if (!still.empty()) {
    s = rocksdb::Status::IOError(still);  // still failing: write_failure_ stays as it was
  } else {
    s = inject ? rocksdb::Status::IOError("injected for testing", "No space left on device")
               : TimedWrite(&g.batch);
    std::lock_guard<std::mutex> l(state_mu_);
    write_failure_ = s.ok() ? std::string() : s.ToString();
  }
  if (s.ok()) return true;
  Error e = FromRocks(s, fmt::format("cannot write to the ledger at {}", dir_));
  if (e.code != Code::kIo) e = Error::Io(e.message);
  for (Writer* w : g.acknowledged) w->error = e;
  g.acknowledged.clear();
  return false;
}

// Makes a written group visible: the head, the stream versions, the counters.
void Log::Impl::Publish(const GroupWrite& g, size_t group_size, bool wrote) {
  std::lock_guard<std::mutex> l(state_mu_);
  if (wrote) {
    head_seq_ = g.head;
    head_hash_ = g.hash;
    head_recorded_at_us_ = g.recorded_at_us;
    for (auto& [client, version] : g.pending_versions) versions_[client] = version;
    ++stats_.write_groups;
    if (options_.durability == Durability::kSync) ++stats_.fsyncs;
    stats_.events_appended += g.events_count;
  }
  stats_.append_requests += g.acknowledged.size();
  stats_.group_requests_max = std::max<uint64_t>(stats_.group_requests_max, group_size);
}

// --- AppendRaw ----------------------------------------------------------------------------
// Byte-identical import of already-stamped events (`hourbank import-log`), apart from the
// group-commit path. The queue is drained and held for the write, so the head read here is the
// head written over, and no Append() interleaves with it. Each event gets a streams record of
// its own (a run of 1, the 8-byte form), which both format 1 and format 2 hold.

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
    return Error::Invalid(
        fmt::format("the event cannot be appended as seq {} (the next seq of "
                    "this ledger): {}",
                    seq, st.error().message));
  }
  if (!has_body) return Error::Invalid(fmt::format("event {} has no body", seq));
  if (!prev_hash_sized || prev_hash != hash) {
    return Error::Invalid(
        fmt::format("event {}'s prevHash is not this ledger's head hash; events "
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
            batch.Put(streams_, format::StreamKey(client, version), format::StreamValue(seq, 1))
                .ok();
  if (!key.empty()) {
    auto rec = LookupKey(key);
    if (!rec.ok()) return rec.error();
    std::string value;
    if (*rec) {
      // One request's events carry its key contiguously: extend the record by this event.
      if ((*rec)->first_seq + (*rec)->count != seq) {
        return Error::Conflict(
            fmt::format("event {} carries idempotency key '{}', which already "
                        "covers seqs {}..{}",
                        seq, key, (*rec)->first_seq, (*rec)->first_seq + (*rec)->count - 1));
      }
      value = format::KeyValue((*rec)->first_seq, (*rec)->count + 1, (*rec)->request_digest);
    } else {
      value = format::KeyValue(seq, 1, request_digest.value_or(Hash{}));
    }
    ok = ok && batch.Put(keys_, ToSlice(key), value).ok();
  }
  const Hash next = ChainHash(hash, bytes);
  ok = ok && batch.Put(meta_, ToSlice(format::kMetaHeadSeq), format::Fixed64(seq)).ok() &&
       batch.Put(meta_, ToSlice(format::kMetaHeadHash), ToSlice(HashView(next))).ok() &&
       batch
           .Put(meta_, ToSlice(format::kMetaHeadRecordedAtUs),
                format::Fixed64(static_cast<uint64_t>(recorded_at_us)))
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

}  // namespace hourbank::ledger
