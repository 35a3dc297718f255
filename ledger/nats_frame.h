// Internal to ledger/: the payload of one NATS message of the replicated log.
//
//   message  := "HBN1" request_digest[32] count:u32_be event{count}
//   event    := length:u32_be bytes[length]        (a stored Event, Cap'n Proto flat array)
//
// request_digest is 32 zero bytes when the append had no idempotency key. Every event of one
// message belongs to the message's client; they are one decision (all or nothing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"

namespace hourbank::ledger::nats_frame {

inline constexpr std::string_view kMagic = "HBN1";

struct Frame {
  Hash request_digest{};
  std::vector<std::string_view> events;  // views into the payload
};

std::string Encode(const Hash& request_digest, const std::vector<std::string>& events);
// Bounded: never reads past `payload`, never throws. kCorruption on any malformed frame
// (bad magic, truncated, count 0 or above `events_max`, an empty event, trailing bytes).
Result<Frame> Decode(std::string_view payload, uint32_t events_max);

}  // namespace hourbank::ledger::nats_frame
