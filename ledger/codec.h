// Internal to ledger/: decoding stored events and hashing, shared by log.cc and raw.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include <capnp/common.h>
#include <kj/function.h>
#include <sodium.h>

#include "ledger/log.h"

namespace hourbank::ledger::codec {

// The Cap'n Proto traversal limit for one stored event, in words. Larger than any event
// Options::event_bytes_max can admit (it is a uint32_t of bytes), so a valid event always
// decodes and a malicious pointer graph is cut off.
inline constexpr uint64_t kTraversalWordsMax = (uint64_t{1} << 32) / sizeof(capnp::word);
inline constexpr int kNestingLimit = 64;

// Decodes `bytes` (the value stored under `seq`) and calls `fn` with the root. Checks, before
// `fn` runs: size a multiple of 8, a well-formed message with nothing after it, every pointer
// in bounds (a full traversal), envelope texts NUL-terminated, prevHash 32 bytes, seq field ==
// `seq`, a body kind this build knows. A kj::Exception thrown by `fn` while reading the event
// is also reported as kCorruption naming `seq`.
// `scratch` is reused when `bytes` is not 8-byte aligned, so a scan allocates only when an
// event is larger than every earlier one. `fn` is a kj::FunctionParam (a reference to the
// caller's callable), so a call allocates nothing: std::function put each scan's capturing
// lambda on the heap once per event.
Status Decode(uint64_t seq, std::string_view bytes, std::vector<capnp::word>& scratch,
              kj::FunctionParam<void(schemas::Event::Reader)> fn);

// Incremental BLAKE2b-256 (unkeyed).
class Hasher {
 public:
  Hasher();
  void Update(std::string_view bytes);
  void Update(const Hash& hash) {
    Update(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
  }
  Hash Final();

 private:
  crypto_generichash_state state_;
};

}  // namespace hourbank::ledger::codec
