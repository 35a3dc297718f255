// Internal to ledger/: the Log on a NATS JetStream cluster (`--log nats://h1:4222,h2:4222
// --ledger-name NAME`). The Log facade (ledger/log.cc) forwards to it when the location given
// to Log::Open starts with "nats://". Only ledger/nats_*.cc include nats.h.
//
// The design (subjects, streams, positions, chains, keys) is in docs/replicated-log.md; in short:
//   - P partition streams HB_<ledger>_<p> (p = 0 … P-1), subjects hb.<ledger>.<p>.c.<client>;
//     a client's partition is FNV-1a-64(client id) mod P. P is fixed when the ledger is made
//     and recorded in HB_<ledger>_META.
//   - One message per Append: every event of the request, all or nothing (frame: nats_frame.h).
//   - Concurrency per client: Nats-Expected-Last-Subject-Sequence on every publish.
//   - Event.seq = the client's version (1, 2, 3 … per client); Event.prevHash = the client's
//     previous event's chain hash. The position a reader sees (EventView::seq, AppendResult::
//     first_seq) is (partition, stream seq, index in the message) packed into 64 bits, so the
//     global order (stream, stream seq) is the order of the numbers.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;

namespace hourbank::ledger {

// Positions: partition (8 bits) ‖ stream seq (40 bits) ‖ event index in the message (16 bits).
constexpr int kPosIndexBits = 16;
constexpr int kPosStreamSeqBits = 40;
constexpr uint32_t kNatsPartitionsMax = 256;
constexpr uint64_t kNatsStreamSeqMax = (uint64_t{1} << kPosStreamSeqBits) - 1;
constexpr uint32_t kNatsEventsPerMessageMax = (uint32_t{1} << kPosIndexBits);
inline uint64_t NatsPosition(uint32_t partition, uint64_t stream_seq, uint32_t index) {
  return (uint64_t{partition} << (kPosIndexBits + kPosStreamSeqBits)) |
         (stream_seq << kPosIndexBits) | index;
}
struct NatsPos {
  uint32_t partition = 0;
  uint64_t stream_seq = 0;
  uint32_t index = 0;
};
inline NatsPos SplitNatsPosition(uint64_t pos) {
  return {static_cast<uint32_t>(pos >> (kPosIndexBits + kPosStreamSeqBits)),
          (pos >> kPosIndexBits) & kNatsStreamSeqMax,
          static_cast<uint32_t>(pos & (kNatsEventsPerMessageMax - 1))};
}

// Where the cluster is and which ledger on it: parsed from "nats://h1:4222,h2,h3" and the name.
struct NatsLocation {
  std::vector<std::string> servers;  // "nats://host:port" each
  std::string ledger;                // [a-z0-9_-]{1,32}
};
// Parses `url` (nats://host[:port][,host[:port]]…, port 4222 when left out) and checks the name.
Result<NatsLocation> ParseNatsLocation(std::string_view url, std::string_view ledger_name);
// FNV-1a-64 of the client id mod `partitions`.
uint32_t NatsPartitionOf(std::string_view client_id, uint32_t partitions);

// The "version" of a server's INFO line ("INFO {json}"), nullopt when there is none.
std::optional<std::string> NatsInfoVersion(std::string_view info_line);
// Whether nats-server `version` ("2.9.10") syncs its file store on a timer only: before 2.10,
// which brought `sync_interval: always`. False for a version it cannot read.
bool NatsSyncsOnTimer(std::string_view version);
// Reads the INFO line a NATS server sends first on a new connection to `url` (nats://host:port)
// over a TCP connection of its own, and returns its version. Bounded: timeout_ms per wait,
// 64 KiB. Fails kIo (unreachable, no INFO) or kInvalid (bad URL).
Result<std::string> NatsServerVersion(std::string_view url, int64_t timeout_ms);

class NatsLog {
 public:
  static Result<std::unique_ptr<NatsLog>> Open(const std::string& url, const Options& options);
  ~NatsLog();
  NatsLog(const NatsLog&) = delete;
  NatsLog& operator=(const NatsLog&) = delete;

  Result<AppendResult> Append(AppendRequest request);
  Status Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
              const ReadOptions& read) const;
  Status ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                    const Visitor& visit, const ReadOptions& read) const;
  Result<std::string> Get(uint64_t seq) const;
  Result<uint64_t> HeadSeq() const;
  Result<Hash> HeadHash() const;
  Result<uint32_t> StreamVersion(std::string_view client_id) const;
  Result<std::vector<std::string>> ListStreams() const;
  Result<std::optional<IdempotencyRecord>> LookupClientKey(std::string_view client_id,
                                                           std::string_view key) const;
  Result<VerifyReport> Verify(const std::function<void(uint64_t, uint64_t)>& progress,
                              const Visitor* visit) const;
  Health GetHealth() const;
  // A warning for people when the connected server syncs to disk on a timer (< 2.10), else "".
  std::string TimedSyncWarning() const;
  Stats stats() const;
  const std::string& location() const { return location_text_; }
  uint32_t partitions() const { return partitions_; }
  void InjectWriteFailures(uint32_t count) { inject_failures_.store(count); }

  // Per-partition stream names and subjects (for tests and `hourbank serve` metrics).
  std::string StreamName(uint32_t partition) const;
  std::string Subject(std::string_view client_id) const;

  struct Conn;
  // What a reader knows of one client's messages, extended by ApplyNatsMessage().
  struct ClientCache {
    std::mutex mu;
    uint64_t last_subject_seq = 0;  // stream seq of the client's last message read
    uint64_t last_position = 0;     // position of its first event
    uint32_t last_count = 0;
    Hash last_payload_digest{};
    uint32_t version = 0;  // events read
    Hash head{};           // chain hash of the last event
    int64_t last_recorded_us = 0;
    std::map<std::string, IdempotencyRecord, std::less<>> keys;
  };
  struct Message {
    uint64_t stream_seq = 0;
    std::string subject;
    std::string data;
  };

  // The message at `stream_seq` of partition `p` (nullopt when there is none), or with
  // `next_by_subject`, the first message of that subject at or after `stream_seq`. One direct
  // request to the stream's leader (a serve node's follower reads its streams with it).
  Result<std::optional<Message>> GetMessage(uint32_t p, uint64_t stream_seq,
                                            const std::string* next_by_subject) const;
  Result<uint64_t> LastStreamSeq(uint32_t p) const;

  // Reads partition `p` in stream order in batches, for a serve node catching up (follower.h):
  // an ephemeral JetStream pull consumer delivering from a start seq, without acks, kept in
  // memory on one server; it is deleted when the reader is destroyed (or by the server 30 s
  // after the last fetch, should the reader not get to say so).
  class BatchReader {
   public:
    ~BatchReader();
    BatchReader(const BatchReader&) = delete;
    BatchReader& operator=(const BatchReader&) = delete;
    // Up to `max` next messages in delivery order (fewer when the server has no more ready;
    // none when nothing came within nats_timeout_ms). The caller checks their stream seqs.
    Result<std::vector<Message>> Next(size_t max);

   private:
    friend class NatsLog;
    BatchReader(const NatsLog& log, uint32_t p, __natsSubscription* sub)
        : log_(log), p_(p), sub_(sub) {}
    const NatsLog& log_;
    uint32_t p_;
    __natsSubscription* sub_;
  };
  // A BatchReader of partition `p` whose first message is `from_seq`. Fails kIo (a cluster
  // that refuses the consumer, or does not answer).
  Result<std::unique_ptr<BatchReader>> OpenBatchReader(uint32_t p, uint64_t from_seq) const;
  const NatsLocation& where() const { return where_; }
  const Options& options() const { return options_; }

 private:
  NatsLog(std::string location_text, NatsLocation where, Options options);
  Status Connect();
  Status OpenOrCreate();
  Status CreateStreams(uint32_t partitions);
  std::shared_ptr<ClientCache> CacheOf(std::string_view client_id) const;
  // Reads the client's messages after what the cache has seen (caller holds cache.mu).
  Status Refresh(const std::string& client_id, ClientCache& cache) const;
  Result<AppendResult> AppendOnce(AppendRequest& request, const Hash& digest, ClientCache& cache,
                                  std::string* payload, bool* retry);

  std::string location_text_;
  NatsLocation where_;
  Options options_;
  uint32_t partitions_ = 0;
  std::unique_ptr<Conn> conn_;
  mutable std::mutex caches_mu_;
  mutable std::map<std::string, std::shared_ptr<ClientCache>, std::less<>> caches_;
  std::atomic<uint32_t> inject_failures_{0};
  mutable std::mutex stats_mu_;
  Stats stats_;
};

// Checks one message of `client_id` (partition, stream seq, payload) against what came before it
// in `cache` (chain, versions, recorded times, one key per message, no key used twice among
// cache.keys) and advances `cache`. kCorruption naming the position on any mismatch.
Status ApplyNatsMessage(std::string_view client_id, uint32_t partition, uint64_t stream_seq,
                        std::string_view payload, uint32_t events_max, NatsLog::ClientCache& cache,
                        std::vector<capnp::word>& scratch);

}  // namespace hourbank::ledger
