// Internal to ledger/: the on-disk format, as a grammar, and the encoding of its keys and
// fixed values (also in docs/on-disk-format.md). No RocksDB types appear here, so tests may
// include it through ledger/raw.h.
//
// ON-DISK FORMAT (format version 1)
//
// A ledger directory is one RocksDB database with these column families ("default" unused):
//
//   fixed32_be := 4 bytes, unsigned, big-endian
//   fixed64_be := 8 bytes, unsigned, big-endian (so byte order is numeric order)
//   hash       := byte[32]                    BLAKE2b-256, unkeyed (crypto_generichash)
//
//   column family "events": the log itself
//     events_key    := seq: fixed64_be        seq >= 1, contiguous: 1, 2, 3 … head_seq
//     events_value  := capnp flat message (Event)
//                      unpacked, as written by capnp::messageToFlatArray:
//                      segment_table segment[segment_count]; length % 8 == 0
//                      Event.seq == seq of the key; Event.prevHash == hash(seq - 1)
//
//   column family "streams": index of each client's stream
//     streams_key   := client_id: byte[1..65] 0x00 version: fixed32_be
//                      client_id matches ValidClientId (never contains 0x00 or 0x01);
//                      versions of one client are contiguous from 1
//     streams_value := seq: fixed64_be        the event that is `version` of the stream
//
//   column family "keys": idempotency keys
//     keys_key      := idempotency_key: byte[1..idempotency_key_bytes_max] (no control bytes)
//     keys_value    := first_seq: fixed64_be count: fixed32_be request_digest: hash
//                      events first_seq … first_seq + count - 1 carry the key
//
//   column family "meta": one record per key
//     "format_version"      -> fixed32_be     = 1
//     "head_seq"            -> fixed64_be     the last seq written; 0 when empty
//     "head_hash"           -> hash           hash(head_seq)
//     "head_recorded_at_us" -> fixed64_be     Event.recordedAtUs of head_seq (two's complement)
//
//   column family "projections": checkpoints, opaque to the ledger
//     checkpoint_key   := name: byte[1..]
//     checkpoint_value := byte[*]             owned by the projection that wrote it
//
//   hash chain
//     hash(0) := 32 zero bytes
//     hash(n) := BLAKE2b-256(hash(n - 1) ‖ events_value(n))
//
// Every append writes its events, their streams entries, its keys entry and the three
// head records of meta in ONE WriteBatch, so the indexes and the head never disagree with the
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/log.h"

namespace hourbank::ledger::format {

// The on-disk format this build reads and writes (meta "format_version").
inline constexpr uint32_t kFormatVersion = 1;

// Column family names, in the order Log opens them (after RocksDB's "default").
inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kStreamsCf = "streams";
inline constexpr const char* kKeysCf = "keys";
inline constexpr const char* kMetaCf = "meta";
inline constexpr const char* kProjectionsCf = "projections";

// Keys of the meta column family.
inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaHeadSeq = "head_seq";
inline constexpr std::string_view kMetaHeadHash = "head_hash";
inline constexpr std::string_view kMetaHeadRecordedAtUs = "head_recorded_at_us";

inline constexpr size_t kSeqBytes = 8;
inline constexpr size_t kVersionBytes = 4;
inline constexpr size_t kHashBytes = 32;
// keys_value := first_seq fixed64_be, count fixed32_be, request_digest byte[32]
inline constexpr size_t kKeyValueBytes = kSeqBytes + 4 + kHashBytes;
static_assert(kKeyValueBytes == 44);

inline void AppendFixed64BE(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 8);
}

inline void AppendFixed32BE(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 3; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 4);
}

// Reads a big-endian integer of `n` bytes (n <= 8) from the start of `in`; the caller
// checks the length first.
inline uint64_t ReadBE(std::string_view in, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

// events_key := seq fixed64_be. Big-endian so that byte order is seq order.
inline std::string SeqKey(uint64_t seq) {
  std::string k;
  AppendFixed64BE(&k, seq);
  return k;
}

inline std::optional<uint64_t> ParseSeq(std::string_view bytes) {
  if (bytes.size() != kSeqBytes) return std::nullopt;
  return ReadBE(bytes, kSeqBytes);
}

// streams_key := client_id 0x00 version fixed32_be. Client ids never contain 0x00 or 0x01,
// so all keys of one client lie in [client 0x00, client 0x01).
inline std::string StreamPrefix(std::string_view client_id) {
  std::string k(client_id);
  k.push_back('\0');
  return k;
}

inline std::string StreamKey(std::string_view client_id, uint32_t version) {
  std::string k = StreamPrefix(client_id);
  AppendFixed32BE(&k, version);
  return k;
}

// StreamKey into `*out` (its buffer reused: no allocation once it is large enough).
inline void StreamKeyInto(std::string* out, std::string_view client_id, uint32_t version) {
  out->assign(client_id);
  out->push_back('\0');
  AppendFixed32BE(out, version);
}

// The first key after every key of `client_id`.
inline std::string StreamEnd(std::string_view client_id) {
  std::string k(client_id);
  k.push_back('\x01');
  return k;
}

struct StreamKeyParts {
  std::string_view client_id;
  uint32_t version = 0;
};

inline std::optional<StreamKeyParts> ParseStreamKey(std::string_view key) {
  if (key.size() < 1 + 1 + kVersionBytes) return std::nullopt;
  size_t nul = key.size() - kVersionBytes - 1;
  if (key[nul] != '\0') return std::nullopt;
  if (key.substr(0, nul).find('\0') != std::string_view::npos) return std::nullopt;
  return StreamKeyParts{key.substr(0, nul),
                        static_cast<uint32_t>(ReadBE(key.substr(nul + 1), kVersionBytes))};
}

// fixed64_be as a string (streams_value, meta head_seq and head_recorded_at_us).
inline std::string Fixed64(uint64_t v) {
  std::string s;
  AppendFixed64BE(&s, v);
  return s;
}

inline std::string KeyValue(uint64_t first_seq, uint32_t count, const Hash& digest) {
  std::string s;
  AppendFixed64BE(&s, first_seq);
  AppendFixed32BE(&s, count);
  s.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  assert(s.size() == kKeyValueBytes);
  return s;
}

inline std::optional<IdempotencyRecord> ParseKeyValue(std::string_view v) {
  if (v.size() != kKeyValueBytes) return std::nullopt;
  IdempotencyRecord r;
  r.first_seq = ReadBE(v, 8);
  r.count = static_cast<uint32_t>(ReadBE(v.substr(8), 4));
  std::memcpy(r.request_digest.data(), v.data() + 12, kHashBytes);
  return r;
}

}  // namespace hourbank::ledger::format
