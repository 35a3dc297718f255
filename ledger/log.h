// The append-only event log: on RocksDB in a directory (the default), or on a NATS JetStream
// cluster when the location given to Open() is "nats://host[:port][,host[:port]]…" (with
// Options::ledger_name; see docs/replicated-log.md for the differences below, marked [nats]).
// No business rules live here.
//
// One Log owns one ledger directory for the life of the process (RocksDB's LOCK file); a
// second opener, in this process or another, gets Code::kBusy naming the directory.
//
// Thread safety: every method of Log is safe to call from many threads at once. Append()
// merges concurrent callers into one WriteBatch and one WAL sync (group commit, LevelDB's
// writer queue). Reads use RocksDB snapshots and never block appends.
//
// The on-disk format is written as a grammar at the top of ledger/format.h.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/message.h>

#include "ledger/status.h"
#include "schemas/events.capnp.h"

namespace hourbank::ledger {

class NatsLog;
class FollowStore;
class Follower;

using Hash = std::array<uint8_t, 32>;

// hash(n) = BLAKE2b-256(hash(n-1) ‖ bytes of event n); hash(0) = 32 zero bytes.
Hash ChainHash(const Hash& prev, std::string_view event_bytes);
// BLAKE2b-256 of arbitrary bytes.
Hash Digest(std::string_view bytes);
std::string HexOf(const Hash& hash);

enum class Durability : uint8_t {
  kSync,    // fsync the WAL before acknowledging an append (the default; survives power loss)
  kNoSync,  // acknowledge after the write reaches the OS: for bulk loads only, UNSAFE on crash
};

struct Options {
  Durability durability = Durability::kSync;  // Default: kSync
  bool create_if_missing = false;             // Default: false (only `hourbank init` creates)
  bool error_if_exists = false;               // Default: false
  uint32_t batch_events_max = 10000;          // events in one AppendRequest. Default: 10000
  uint32_t event_bytes_max = 256 * 1024;      // one serialized event. Default: 256 KiB
  uint32_t idempotency_key_bytes_max = 128;   // Default: 128
  uint32_t group_bytes_max = 8u << 20;       // group commit stops merging past this. Default: 8 MiB
  uint64_t block_cache_bytes = 64ull << 20;  // Default: 64 MiB
  // Open for reading only (every read command, `hourbank audit`, `export`, …): nothing in the
  // directory is created, changed or deleted (RocksDB's OpenForReadOnly replays the WAL in
  // memory; no LOCK, no info LOG, no flush), so it works on a read-only copy. Appends and
  // checkpoint writes are refused with kInvalid. Refused with kBusy while another process has
  // the ledger open for writing. Default: false.
  bool read_only = false;
  // RECOVERY ONLY (`hourbank recover`): read-only, and the WAL is replayed with RocksDB's
  // kSkipAnyCorruptedRecords, so every readable record is applied and damaged ones skipped.
  // The events may then have gaps; use ScanStored(). Default: false.
  bool salvage = false;
  // TESTS AND MIGRATION ONLY: the on-disk format version a NEW ledger is made with, 1 or 2
  // (docs/on-disk-format.md; 1 is what builds before format 2 read and write). An existing
  // ledger keeps the version it has, whatever this says. 0: the current one (2). Default: 0.
  uint32_t format_version = 0;

  // [nats] Only for a nats:// location.
  std::string ledger_name;       // which ledger on the cluster: [a-z0-9_-]{1,32}
  uint32_t nats_partitions = 0;  // streams; 0: as recorded (1 when creating)
  uint32_t nats_replicas = 0;    // per stream; 0: min(3, what the cluster accepts)
  // JetStream's dedupe window when making streams; 0: server default (2 min). Short: the window
  // only has to cover a publish in flight (Nats-Msg-Id closes nats-server #4320), and an id
  // staged by a leader that lost its message blocks that client position until it ends (#6415).
  int64_t nats_duplicate_window_us = 5'000'000;
  int64_t nats_timeout_ms = 5000;         // one request to the cluster
  int64_t nats_append_budget_ms = 20000;  // how long an append retries through a leader change
  // [nats] A serve node's local store directory (made if missing): the node follows the
  // partition streams into it and serves reads and checkpoints from it; appends still go to
  // the cluster (docs/replicated-log.md, Serve nodes). Empty: every read asks the cluster.
  std::string nats_follow_store;
};

// What a Log can do now. Not ok while writes fail (e.g. the disk is full: RocksDB stops
// writing after a failed write). The next Append() or health() call tries to resume (at most
// once a second: the Log closes and reopens its database inside, same options, head and
// indexes reloaded), so writes come back when space does, without reopening the Log. While
// a reopen fails for another reason than space, reads fail with kIo too.
struct Health {
  bool ok = true;
  std::string reason;  // empty when ok; names no file (safe for an unauthenticated /healthz)
  std::string detail;  // RocksDB's full message (may name files), for logs
};

// One event to append. The caller fills root(): the body, effectiveAtUs, actor (and optional
// idempotencyKey). Append() sets clientId, seq, recordedAtUs and prevHash in place.
class EventDraft {
 public:
  EventDraft();
  EventDraft(EventDraft&&) noexcept;
  EventDraft& operator=(EventDraft&&) noexcept;
  ~EventDraft();
  schemas::Event::Builder root();
  capnp::MallocMessageBuilder& message();

 private:
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
};

struct AppendRequest {
  // The stream: a client id ([a-z0-9][a-z0-9._-]{0,63}) or a system stream ("$" + same).
  std::string client_id;
  // The stream version (its event count) the caller decided against; mismatch -> kConflict
  // with Error::current_version set. nullopt: append whatever the version.
  std::optional<uint32_t> expected_version;
  // Optional. Seen before with the same request_digest: the original result is returned with
  // replayed = true and nothing is written. Seen with another digest: kConflict.
  std::string idempotency_key;
  // What "the same body" means for the key. nullopt: BLAKE2b-256 of the drafts' bytes before
  // the ledger stamps them (callers whose drafts carry "now" should pass their own).
  std::optional<Hash> request_digest;
  std::vector<EventDraft> events;  // 1 … Options::batch_events_max
  // IMPORT ONLY (`hourbank import-log` between backends). Non-zero: every event is recorded at
  // this time (µs) instead of now, so a re-appended event keeps its recorded time. Refused with
  // kInvalid when before the log head's time (directory) or the client's last event's [nats].
  int64_t recorded_at_us = 0;
};

struct AppendResult {
  uint64_t first_seq = 0;  // seq of the first event; the rest follow without gaps
  uint32_t count = 0;
  uint32_t stream_version = 0;  // the stream's version after the append
  bool replayed = false;        // idempotent retry: nothing was written
};

// A stored event handed to a visitor. `bytes` and `event` are valid only during the call.
struct EventView {
  uint64_t seq = 0;
  std::string_view bytes;
  schemas::Event::Reader event;
};
// Return false to stop the scan early.
using Visitor = std::function<bool(const EventView&)>;

struct ReadOptions {
  uint64_t as_of_seq =
      0;  // read as if the log ended at this seq; 0 = the head when the read starts
  int64_t known_at_us = 0;  // only events with recordedAtUs <= this; 0 = no limit
};

struct IdempotencyRecord {
  uint64_t first_seq = 0;
  uint32_t count = 0;
  Hash request_digest{};
};

// [nats, serve node] One partition stream as the node's follower sees it (Log::follow_status()).
struct FollowStatus {
  std::string stream;        // HB_<ledger>_<p>
  uint64_t applied_seq = 0;  // the last stream seq in the node's store
  uint64_t last_seq = 0;     // the stream's last seq when last asked
  bool stopped = false;      // a gap or a chain mismatch stopped this partition
  std::string error;         // the last failure ("" when none)
};

// [a serve node's store opened with Log::OpenFollowStore] What the store holds a copy of.
struct StoreInfo {
  std::string ledger;                  // the cluster ledger's name, from the store's meta
  uint32_t partitions = 0;             // its partition streams
  std::vector<uint64_t> applied_seqs;  // per partition, the last stream seq in the store
};

struct VerifyReport {
  bool ok = true;
  uint64_t events_checked = 0;
  uint64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;         // empty when ok
  Hash head_hash{};            // recomputed head
};

struct Stats {
  uint64_t append_requests = 0;  // requests acknowledged (replays included)
  uint64_t events_appended = 0;
  uint64_t write_groups = 0;  // WriteBatches written
  uint64_t fsyncs = 0;        // synced WriteBatches
  uint64_t group_requests_max = 0;
};

// [nats] On a cluster (docs/replicated-log.md): the seq a visitor sees and AppendResult::
// first_seq are positions (partition, stream seq, index in the message) packed into 64 bits,
// ordered but not contiguous; Event.seq is the client's version and Event.prevHash chains the
// client's own events. head_seq() is the last position; head_hash() walks the whole log, and
// both return 0 / zeros when the cluster cannot be read. Keys are per client (LookupClientKey).
// AppendRaw and ScanStored are refused with kInvalid. No projection checkpoints are kept on a
// cluster (they are a cache of folds): PutCheckpoint and DropCheckpoints succeed and keep
// nothing, GetCheckpoint finds nothing, so readers fold the client's stream from its start.
class Log {
 public:
  // Opens (or with create_if_missing, creates) the ledger in `dir`. A new directory is made
  // mode 0700 and every file RocksDB creates in it is made 0600, whatever the umask.
  // The WAL is replayed with absolute consistency: a damaged record anywhere in it refuses the
  // open with kCorruption naming the WAL file and byte offset (and `hourbank recover`), and
  // nothing on disk is changed, so the damaged WAL is kept. The one exception is a torn final
  // record of the newest WAL (the file ends part way through a record whose bytes are a prefix
  // of a valid one: a write that never finished, so never acknowledged), which is dropped.
  // Fails: kNotFound (no ledger; run `hourbank init`), kBusy (another process owns it),
  // kCorruption (format version or meta unreadable, damaged WAL), kIo.
  static Result<std::unique_ptr<Log>> Open(const std::string& dir, const Options& options);
  // Opens a serve node's store (`hourbank serve --store DIR`) for reading only, as a Log of the
  // cluster ledger as far as the node had applied it (`hourbank audit --store DIR`): positions,
  // chains and keys as on the cluster [nats], read from the store alone (no cluster is asked),
  // also while the node runs (a static view of the store at the open: FollowStore::
  // OpenReadOnly). Verify() checks the store (FollowStore::Verify). Appends and checkpoint
  // writes are refused (kInvalid). Fails: kNotFound (no store at `dir`), kInvalid (not a store),
  // kCorruption, kIo.
  static Result<std::unique_ptr<Log>> OpenFollowStore(const std::string& dir);
  ~Log();  // closes cleanly: waits for in-flight appends, releases the lock
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends all events of `request` atomically (one WriteBatch with the stream index,
  // idempotency key and chain head) and returns once durable (per Options::durability).
  // Fails: kInvalid (bad client id, empty batch, draft missing a body), kLimit (sizes),
  // kConflict (expected version, key reuse), kIo. Nothing is written on failure.
  Result<AppendResult> Append(AppendRequest request);

  // IMPORT ONLY (`hourbank import-log`). Appends one event that was already stamped by a
  // ledger: `stored_bytes` is the events_value of another ledger's event, written here byte
  // for byte, so a whole export re-imported in seq order reproduces the chain head exactly.
  // Checks: the bytes decode as an Event with a known body, seq == head_seq() + 1, prevHash ==
  // head_hash(), recordedAtUs not before the head's, a valid client id, size <= event_bytes_max.
  // Writes the event, its streams entry, its idempotency key (extending the key's record when
  // the previous event carried the same key; a new record gets `request_digest`, or zeros when
  // nullopt) and the head, in one WriteBatch. Waits for in-flight appends; blocks new ones while
  // it writes. Fails: kInvalid (any check above), kConflict (the key already covers other
  // events), kLimit, kIo. Nothing is written on failure.
  Result<AppendResult> AppendRaw(std::string_view stored_bytes,
                                 const std::optional<Hash>& request_digest = std::nullopt);

  // Visits events with from_seq <= seq <= to_seq (to_seq 0 = head) in seq order.
  // A value that fails to decode is kCorruption with Error::seq set; never a crash.
  Status Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
              const ReadOptions& read = {}) const;

  // Visits a stream's events with from_version <= version <= to_version (0 = last).
  Status ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                    const Visitor& visit, const ReadOptions& read = {}) const;

  // The stored bytes of one event. kNotFound when seq is beyond the head.
  Result<std::string> Get(uint64_t seq) const;

  uint64_t head_seq() const;
  // head_seq() without any I/O (a local ledger keeps it in memory; it moves only after an
  // append's write is readable): for caches that stay valid while the head does not move.
  // nullopt on a replicated ledger, whose head_seq() asks the cluster or the store.
  std::optional<uint64_t> HeadSeqInMemory() const;
  Hash head_hash() const;
  uint32_t stream_version(std::string_view client_id) const;  // 0 for an unknown stream
  std::vector<std::string> stream_ids() const;                // every stream, sorted
  // As stream_version() / stream_ids(), but a RocksDB read failure is returned (kIo,
  // kCorruption) instead of being reported as 0 / an empty list.
  Result<uint32_t> StreamVersion(std::string_view client_id) const;
  Result<std::vector<std::string>> ListStreams() const;
  Result<std::optional<IdempotencyRecord>> LookupKey(std::string_view key) const;
  // The record of `key` among `client_id`'s appends. Embedded: LookupKey() when the key's
  // first event is that client's. [nats] keys are per client (kept in the client's own
  // messages), so this is the lookup there; LookupKey() is refused with kInvalid.
  Result<std::optional<IdempotencyRecord>> LookupClientKey(std::string_view client_id,
                                                           std::string_view key) const;

  // Walks the hash chain from seq 1 (decoding every event, checking seq and prevHash) and
  // compares the result with the head in meta. Also checks that the `streams` and `keys`
  // indexes agree with the events. The first problem is reported, never a crash.
  // Cost: three sequential scans (events, streams, keys) and no point lookups: the indexes
  // are compared with the events as keyed multiset hashes (SipHash-128 with a random key per
  // call, summed), so memory is bounded by the number of streams. Only when something
  // disagrees does a second, slower pass find the first bad event to report.
  Result<VerifyReport> Verify(
      const std::function<void(uint64_t done, uint64_t total)>& progress = {}) const;
  // Verify(), and in the same events scan hands every event to `visit` in seq order, so a
  // caller that folds the whole log as well (`hourbank audit`) reads it once. When the report
  // is ok, `visit` saw each event 1 … head exactly once, in order. When the report is not ok
  // or the call fails, `visit` may have seen only a prefix of the events: discard what it
  // built (read the log again with Scan if needed). Returning false from `visit` stops the
  // visits, not the verification.
  Result<VerifyReport> VerifyAndVisit(
      const Visitor& visit,
      const std::function<void(uint64_t done, uint64_t total)>& progress = {}) const;

  // Projection checkpoints: opaque bytes under a name, in the `projections` column family.
  Status PutCheckpoint(std::string_view name, std::string_view bytes);
  Result<std::optional<std::string>> GetCheckpoint(std::string_view name) const;
  Status DropCheckpoints();

  // RECOVERY ONLY. Visits every value stored in the events column family in key order,
  // without checking the head, gaps or the bytes (`hourbank recover` decides what to keep).
  // Keys that are not 8 bytes are skipped. Fails: kCorruption / kIo on a read error.
  Status ScanStored(const std::function<bool(uint64_t seq, std::string_view bytes)>& visit) const;

  // Whether writes work now; when not, tries to resume them first (see Health).
  Health health() const;

  // [nats] One line for people when the cluster's server acknowledges appends before they are
  // synced to disk (nats-server older than 2.10 syncs on a timer; docs/replicated-log.md,
  // Durability), with the configuration for newer servers. Empty for a ledger directory, a
  // server that syncs as configured, or when the version cannot be read. Costs a short TCP
  // connection to the server; call it once (`hourbank init`, `hourbank serve`).
  std::string DurabilityWarning() const;

  Stats stats() const;
  const std::string& dir() const;  // [nats] the nats:// location
  // Whether this Log is on a NATS cluster (docs/replicated-log.md) rather than a directory, or
  // a serve node's copy of one (OpenFollowStore).
  bool replicated() const { return nats_ != nullptr || store_ != nullptr; }
  // [OpenFollowStore] The store's ledger, partitions and applied seqs; kInvalid for any other Log.
  Result<StoreInfo> store_info() const;
  // The hash chain a position belongs to, for signed checkpoints (`hourbank checkpoint`):
  // 0 for a ledger directory (one chain over every event in seq order); [nats] the partition,
  // since a cluster's global chain is partition by partition and a later append to an earlier
  // partition lands before the last position — each partition's events, in stream order, are a
  // chain of their own that only grows at its end.
  uint32_t chain_scope(uint64_t seq) const;
  // [serve node] Whether reads come from a local store that follows the cluster.
  bool following() const { return follower_ != nullptr; }
  // [serve node] Waits, up to `timeout_ms`, until the store has applied `position` (a position
  // an append on any node returned). Ok at once on a ledger directory or a cluster read
  // directly (they show every acknowledged append). kBusy when the node lags (saying how far it
  // is), kInvalid for a position of no partition of this ledger.
  Status WaitForPosition(uint64_t position, int64_t timeout_ms) const;
  // [serve node] Each partition stream's follower (empty unless following()).
  std::vector<FollowStatus> follow_status() const;

  // TEST ONLY. The next `count` group-commit writes fail as RocksDB would on a full disk
  // (every writer of the group gets kIo, nothing is written, the head does not move).
  void InjectWriteFailuresForTesting(uint32_t count);

  class Impl;

 private:
  explicit Log(std::unique_ptr<Impl> impl);
  explicit Log(std::unique_ptr<NatsLog> nats);
  explicit Log(std::unique_ptr<FollowStore> store, std::string dir);
  // Only a store opened by OpenFollowStore: no cluster, no directory ledger.
  bool store_only() const { return store_ != nullptr && nats_ == nullptr; }
  // After an append on a serve node: waits (bounded) until its store shows what the cluster
  // now holds of the client, so the service's next read sees it.
  Status StartFollowing(const std::string& store_dir);
  void CatchUpAfterAppend(const Result<AppendResult>& r, std::string_view client_id) const;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<NatsLog> nats_;  // set instead of impl_ for a nats:// location
  // [serve node] Set with nats_ when Options::nats_follow_store is; destroyed first.
  std::unique_ptr<FollowStore> store_;
  std::unique_ptr<Follower> follower_;
  std::string store_dir_;  // [OpenFollowStore] the store's directory (dir())
};

// Decodes one stored event value (aligning it if needed) and calls `fn` with the reader.
// Returns kCorruption naming `seq` if the bytes are not a valid Event.
Status DecodeEvent(uint64_t seq, std::string_view bytes,
                   const std::function<void(schemas::Event::Reader)>& fn);

// DecodeEvent for an event of another ledger (an export's `raw`, whose own seq may be a client
// version or another numbering): every check of DecodeEvent except that seq matches.
Status DecodeForeignEvent(std::string_view bytes,
                          const std::function<void(schemas::Event::Reader)>& fn);

// Whether `id` is a valid client id: [a-z0-9][a-z0-9._-]{0,63}. System streams add a '$'.
bool ValidClientId(std::string_view id);

}  // namespace hourbank::ledger
