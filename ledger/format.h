// Internal to ledger/: the on-disk format, as a grammar, and the encoding of its keys and
// fixed values (also in docs/on-disk-format.md). No RocksDB types appear here, so tests may
// include it through ledger/raw.h.
//
// ON-DISK FORMAT (format version 2; version 1 differs only in the streams_value, see there)
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
//   column family "streams": index of each client's stream, one record per run of versions
//     streams_key   := client_id: byte[1..65] 0x00 first_version: fixed32_be
//                      client_id matches ValidClientId (never contains 0x00 or 0x01)
//     streams_value := first_seq: fixed64_be                    a run of 1 event
//                    | first_seq: fixed64_be count: fixed32_be  a run of count >= 2 events
//                      versions first_version … first_version + count - 1 of the stream are
//                      events first_seq … first_seq + count - 1; one client's runs tile its
//                      versions 1 … n with no gap or overlap
//                      format 2 writes one run per append request (an import-log event is a
//                      run of 1); format 1 has only runs of 1 (one record per event), and this
//                      build keeps writing a format 1 ledger that way, so older builds read it
//
//   column family "keys": idempotency keys
//     keys_key      := idempotency_key: byte[1..idempotency_key_bytes_max] (no control bytes)
//     keys_value    := first_seq: fixed64_be count: fixed32_be request_digest: hash
//                      events first_seq … first_seq + count - 1 carry the key
//
//   column family "meta": one record per key
//     "format_version"      -> fixed32_be     = 2 (1: a ledger made before runs; read too)
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
// Every append writes its events, their streams record(s), its keys entry and the three
// head records of meta in ONE WriteBatch, so the indexes and the head never disagree with the
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/log.h"

namespace hourbank::ledger::format {

// The on-disk format of a new ledger (meta "format_version"). This build reads and writes
// kFormatVersionMin … kFormatVersion, each in its own form: a format 1 ledger stays format 1.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kFormatVersionMin = 1;
// The first format whose streams records may hold runs of several versions.
inline constexpr uint32_t kFormatVersionRuns = 2;

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
// streams_value of a run of count >= 2: first_seq fixed64_be, count fixed32_be
inline constexpr size_t kStreamRunBytes = kSeqBytes + 4;

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

// A streams record: versions first_version … first_version + count - 1 of one client's stream
// are events first_seq … first_seq + count - 1.
struct StreamRun {
  uint64_t first_seq = 0;
  uint32_t count = 0;
  uint64_t last_seq() const { return first_seq + count - 1; }
};

// streams_value: 8 bytes (a run of 1) or 12 (a run of count >= 2). nullopt for any other
// length, a seq 0, a 12-byte value with count 0 or 1, or a run whose last seq overflows.
inline std::optional<StreamRun> ParseStreamValue(std::string_view v) {
  StreamRun r;
  if (v.size() == kSeqBytes) {
    r.count = 1;
  } else if (v.size() == kStreamRunBytes) {
    r.count = static_cast<uint32_t>(ReadBE(v.substr(kSeqBytes), 4));
    if (r.count < 2) return std::nullopt;
  } else {
    return std::nullopt;
  }
  r.first_seq = ReadBE(v, kSeqBytes);
  if (r.first_seq == 0 || r.count - 1 > UINT64_MAX - r.first_seq) return std::nullopt;
  return r;
}

// The streams_value of a run (`count` >= 1) into `*out`, its buffer reused: the 8-byte form
// for a run of 1 (what format 1 holds), the 12-byte form otherwise.
inline void StreamValueInto(std::string* out, uint64_t first_seq, uint32_t count) {
  assert(count >= 1);
  out->clear();
  AppendFixed64BE(out, first_seq);
  if (count > 1) AppendFixed32BE(out, count);
}

inline std::string StreamValue(uint64_t first_seq, uint32_t count) {
  std::string v;
  StreamValueInto(&v, first_seq, count);
  return v;
}

// One streams record, key and value parsed: the client, the versions and the seqs of its run.
struct StreamEntry {
  std::string_view client_id;
  uint32_t first_version = 0;
  StreamRun run;
  uint32_t last_version() const { return first_version + run.count - 1; }
};

// nullopt when the key or the value is malformed, the first version is 0, or the run's last
// version does not fit in 32 bits.
inline std::optional<StreamEntry> ParseStreamEntry(std::string_view key, std::string_view value) {
  auto parts = ParseStreamKey(key);
  auto run = ParseStreamValue(value);
  if (!parts || !run || parts->version == 0 || run->count - 1 > UINT32_MAX - parts->version) {
    return std::nullopt;
  }
  return StreamEntry{parts->client_id, parts->version, *run};
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
