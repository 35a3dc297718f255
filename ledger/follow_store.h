// Internal to ledger/: a serve node's local mirror of a ledger on a NATS cluster (`hourbank serve
// --log nats://… --store DIR`, docs/replicated-log.md "Serve nodes"). A RocksDB directory that
// holds, per partition stream, the last applied stream seq, and every event the node consumed,
// so reads are served locally; plus projection checkpoints as a ledger directory keeps them.
//
// Keys (one column family; integers big-endian so key order is number order):
//   "M"                                  -> "hourbank-follow v1 ledger=<name> partitions=<P>"
//   "A" partition:u32                    -> applied stream seq:u64
//   "E" position:u64                     -> stored event bytes (as in the cluster's message)
//   "V" client 0x00 version:u32          -> position:u64
//   "C" client                           -> the client's chain state (ClientRecord)
//   "K" client 0x00 key                  -> first position:u64 count:u32 request_digest[32]
//   "P" name                             -> projection checkpoint bytes
//
// Apply() writes a batch of consumed messages, the clients' chain states and the partition's
// applied seq in one WriteBatch, so after a kill -9 the store is at a message boundary and the
// follower resumes from the applied seq + 1. Thread-safe (RocksDB is); one Apply() per
// partition at a time (the partition's follower thread).
//
// OpenReadOnly() + Verify() audit a store (`hourbank audit --store DIR`, follow_store_verify.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"
#include "ledger/nats_log.h"

namespace rocksdb {
class DB;
}

namespace hourbank::ledger {

class FollowStore {
 public:
  // Opens (creating if missing) the store at `dir` for ledger `ledger` with `partitions`
  // streams. kInvalid when the store was made for another ledger or partition count; kBusy
  // when another process has it open; kIo.
  static Result<std::unique_ptr<FollowStore>> Open(const std::string& dir, std::string_view ledger,
                                                   uint32_t partitions);
  // Opens an existing store for reading only (`hourbank audit --store DIR`), also while a serve
  // node has it open: RocksDB's OpenForReadOnly takes no lock and creates or changes nothing in
  // the directory. It is a static view: the store as it was at the open (its WAL replayed in
  // memory up to the last whole write, so at a batch boundary); later writes of a running node
  // are not seen. The ledger name and partition count are read from the store's meta. Writes
  // are refused (kInvalid). Fails: kNotFound (no directory, no database in it), kInvalid (a
  // database that is not a store), kCorruption / kIo.
  static Result<std::unique_ptr<FollowStore>> OpenReadOnly(const std::string& dir);
  ~FollowStore();
  FollowStore(const FollowStore&) = delete;
  FollowStore& operator=(const FollowStore&) = delete;

  // The last stream seq of partition `p` applied (0: none).
  Result<uint64_t> AppliedSeq(uint32_t p) const;
  // Checks `messages` (the next stream seqs of partition `p`, in order, starting at applied + 1)
  // with the cluster's chain rules (ApplyNatsMessage) against the clients' stored states, and
  // writes them with the new applied seq in one WriteBatch. On any mismatch (a gap, a subject
  // outside the partition, a broken chain, a reused key) nothing is written: kCorruption
  // naming the position.
  Status Apply(uint32_t p, const std::vector<NatsLog::Message>& messages, uint32_t events_max);

  // Reads, with the meaning of the Log's (positions as on the cluster).
  Status Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
              const ReadOptions& read) const;
  Status ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                    const Visitor& visit, const ReadOptions& read) const;
  Result<std::string> Get(uint64_t seq) const;
  Result<uint64_t> HeadSeq() const;
  Result<uint32_t> StreamVersion(std::string_view client_id) const;
  Result<std::vector<std::string>> ListStreams() const;
  Result<std::optional<IdempotencyRecord>> LookupClientKey(std::string_view client_id,
                                                           std::string_view key) const;

  Status PutCheckpoint(std::string_view name, std::string_view bytes);
  Result<std::optional<std::string>> GetCheckpoint(std::string_view name) const;
  Status DropCheckpoints();

  // Checks the whole store as NatsLog::Verify checks the cluster, plus the store's own records
  // (follow_store_verify.cc): each partition's messages are stream seqs 1 … its applied seq
  // without a gap, each message's events belong to one client of the partition and pass
  // ApplyNatsMessage (versions, chain, recorded times, one key per message, no key twice), and
  // the "C", "V" and "K" records equal what the events give. The global chain over all events in
  // position order is the report's head_hash. The first problem is reported, never a crash;
  // `visit` (optional) sees each event in position order as Log::VerifyAndVisit says.
  Result<VerifyReport> Verify(const std::function<void(uint64_t done, uint64_t total)>& progress,
                              const Visitor* visit) const;
  // The global chain over every event in position order (as the cluster's head hash).
  Result<Hash> HeadHash() const;
  const std::string& ledger() const { return ledger_; }
  uint32_t partitions() const { return partitions_; }

 private:
  friend class FollowStoreVerifier;
  FollowStore(std::unique_ptr<rocksdb::DB> db, std::string ledger, uint32_t partitions,
              bool read_only);
  static Error ReadOnlyRefusal();
  Status LoadClient(std::string_view client_id, NatsLog::ClientCache& cache) const;
  Result<std::optional<std::string>> GetValue(std::string_view key) const;
  // Visits values whose key starts with `prefix`, from `from` (a key >= prefix) in key order.
  Status Iterate(
      std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::string ledger_;
  uint32_t partitions_ = 0;
  bool read_only_ = false;
};

}  // namespace hourbank::ledger
