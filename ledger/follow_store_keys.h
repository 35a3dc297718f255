// Internal to ledger/: the key and value encodings of a serve node's store (the grammar is at the
// top of follow_store.h), shared by follow_store.cc (reads and writes) and
// follow_store_verify.cc (the audit of a store).
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ledger/format.h"
#include "ledger/log_impl.h"
#include "ledger/nats_log.h"

namespace hourbank::ledger::follow_keys {

using format::AppendFixed32BE;
using format::AppendFixed64BE;
using format::kHashBytes;
using format::ReadBE;

inline constexpr size_t kClientRecordBytes = 8 + 8 + 4 + 4 + 8 + kHashBytes + kHashBytes;

inline std::string AppliedKey(uint32_t p) {
  std::string k = "A";
  AppendFixed32BE(&k, p);
  return k;
}
inline std::string EventKey(uint64_t pos) { return "E" + format::SeqKey(pos); }
inline std::string VersionPrefix(std::string_view client) {
  return "V" + format::StreamPrefix(client);
}
inline std::string VersionKey(std::string_view client, uint32_t version) {
  return "V" + format::StreamKey(client, version);
}
inline std::string ClientKey(std::string_view client) { return "C" + std::string(client); }
inline std::string KeyKey(std::string_view client, std::string_view key) {
  return "K" + format::StreamPrefix(client) + std::string(key);
}
inline std::string CheckpointKey(std::string_view name) { return "P" + std::string(name); }

inline std::string EncodeClient(const NatsLog::ClientCache& c) {
  std::string v;
  AppendFixed64BE(&v, c.last_subject_seq);
  AppendFixed64BE(&v, c.last_position);
  AppendFixed32BE(&v, c.last_count);
  AppendFixed32BE(&v, c.version);
  AppendFixed64BE(&v, static_cast<uint64_t>(c.last_recorded_us));
  v += HashView(c.head);
  v += HashView(c.last_payload_digest);
  return v;
}

inline bool DecodeClient(std::string_view v, NatsLog::ClientCache& c) {
  if (v.size() != kClientRecordBytes) return false;
  c.last_subject_seq = ReadBE(v, 8);
  c.last_position = ReadBE(v.substr(8), 8);
  c.last_count = static_cast<uint32_t>(ReadBE(v.substr(16), 4));
  c.version = static_cast<uint32_t>(ReadBE(v.substr(20), 4));
  c.last_recorded_us = static_cast<int64_t>(ReadBE(v.substr(24), 8));
  std::memcpy(c.head.data(), v.data() + 32, kHashBytes);
  std::memcpy(c.last_payload_digest.data(), v.data() + 32 + kHashBytes, kHashBytes);
  return true;
}

inline std::string EncodeKeyRecord(const IdempotencyRecord& r) {
  return format::KeyValue(r.first_seq, r.count, r.request_digest);
}

inline std::string MetaText(std::string_view ledger, uint32_t partitions) {
  return fmt::format("hourbank-follow v1 ledger={} partitions={}", ledger, partitions);
}

}  // namespace hourbank::ledger::follow_keys
