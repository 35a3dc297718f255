// Internal to ledger/: keeps a serve node's FollowStore caught up with the partition streams of a
// ledger on a NATS cluster (docs/replicated-log.md "Serve nodes"). One thread per partition reads
// its stream in order from the store's applied seq + 1, at most kBatchMessages per WriteBatch,
// and polls the stream's last seq when caught up. Catching up (kBatchedLagMin messages or more
// behind) it reads through a batched reader (NatsLog::BatchReader, one request per batch);
// otherwise, and whenever the batched reader fails or skips a seq, with direct gets (one request
// each, so a leader change is just a failed request that is tried again). A gap or a chain mismatch
// stops that partition (reported by Snapshot() and on stderr), never the process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ledger/follow_store.h"
#include "ledger/log.h"
#include "ledger/nats_log.h"

namespace hourbank::ledger {

class Follower {
 public:
  static constexpr size_t kBatchMessages = 256;
  static constexpr int64_t kPollMs = 20;        // caught up: how often the last seq is asked
  static constexpr int64_t kRetryMaxMs = 1000;  // a failed request: back off up to this
  // A message below the stream's last seq that is not served is retried this long (a leader
  // elected a moment ago may not have applied it yet) before it counts as a gap.
  static constexpr int64_t kMissingFatalMs = 10000;
  static constexpr uint64_t kBatchedLagMin = 32;    // behind by this many: batched reads
  static constexpr int64_t kBatchedRetryMs = 5000;  // after a batched reader failed

  // Borrows `nats` and `store` (both outlive the Follower). Start() starts the threads.
  Follower(const NatsLog& nats, FollowStore& store);
  ~Follower();  // stops and joins the threads
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Reads the applied seq of every partition (the resume point) and starts one thread each.
  Status Start();
  // Whether partition `p` has applied stream seq `stream_seq`, waiting up to `timeout_ms`.
  bool WaitApplied(uint32_t p, uint64_t stream_seq, int64_t timeout_ms) const;
  // Each partition's applied and last seq and error, for /metrics.
  std::vector<FollowStatus> Snapshot() const;

 private:
  struct Part {
    mutable std::mutex mu;
    mutable std::condition_variable cv;
    uint64_t applied = 0;
    uint64_t last = 0;         // the stream's last seq when last asked
    std::string error;         // the last failure (cleared by a success), or why it stopped
    bool stopped = false;      // a gap or mismatch: this partition no longer applies
    uint64_t missing_seq = 0;  // the message found missing last (see Missing)
    std::chrono::steady_clock::time_point missing_since;
    // Catching up (ReadBatched; this partition's thread only): the reader, the seq it delivers
    // next, and when a failed one may be opened again.
    std::unique_ptr<NatsLog::BatchReader> reader;
    uint64_t reader_next = 0;
    std::chrono::steady_clock::time_point batched_retry_at;
  };
  void Run(uint32_t p);
  // One round: asks the last seq, applies up to kBatchMessages. Returns whether it applied any.
  Result<bool> Step(uint32_t p);
  Error Missing(uint32_t p, uint64_t stream_seq, uint64_t last);
  // The messages applied + 1 … (at most `count`) from the batched reader when catching up; empty
  // when not catching up or on a failure (the caller then reads them one by one).
  std::vector<NatsLog::Message> ReadBatched(uint32_t p, uint64_t applied, uint64_t count);
  void BatchedFailed(uint32_t p, const Error& e);
  void Fail(uint32_t p, const Error& e, bool fatal);
  void Sleep(uint32_t p, int64_t ms);

  const NatsLog& nats_;
  FollowStore& store_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace hourbank::ledger
