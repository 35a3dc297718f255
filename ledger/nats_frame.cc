// The payload framing of the replicated log's messages (see nats_frame.h).
#include "ledger/nats_frame.h"

#include <fmt/format.h>

namespace hourbank::ledger::nats_frame {

namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

}  // namespace

std::string Encode(const Hash& request_digest, const std::vector<std::string>& events) {
  size_t total = kMagic.size() + request_digest.size() + 4;
  for (const auto& e : events) total += 4 + e.size();
  std::string out;
  out.reserve(total);
  out.append(kMagic);
  out.append(reinterpret_cast<const char*>(request_digest.data()), request_digest.size());
  PutU32(&out, static_cast<uint32_t>(events.size()));
  for (const auto& e : events) {
    PutU32(&out, static_cast<uint32_t>(e.size()));
    out.append(e);
  }
  return out;
}

Result<Frame> Decode(std::string_view payload, uint32_t events_max) {
  constexpr size_t kHeader = 4 + 32 + 4;
  if (payload.size() < kHeader || payload.substr(0, 4) != kMagic) {
    return Error::Corruption("the message is not an hourbank log message (bad magic or too short)");
  }
  Frame f;
  std::copy(payload.begin() + 4, payload.begin() + 36,
            reinterpret_cast<char*>(f.request_digest.data()));
  uint32_t count = GetU32(payload, 36);
  if (count == 0 || count > events_max) {
    return Error::Corruption(
        fmt::format("the message says it holds {} events (1 … {} allowed)", count, events_max));
  }
  size_t at = kHeader;
  f.events.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (payload.size() - at < 4)
      return Error::Corruption(fmt::format("the message ends inside event #{}'s length", i + 1));
    uint32_t len = GetU32(payload, at);
    at += 4;
    if (len == 0 || payload.size() - at < len) {
      return Error::Corruption(
          fmt::format("event #{} of the message has length {} but {} bytes are left", i + 1, len,
                      payload.size() - at));
    }
    f.events.push_back(payload.substr(at, len));
    at += len;
  }
  if (at != payload.size()) {
    return Error::Corruption(
        fmt::format("the message has {} bytes after its last event", payload.size() - at));
  }
  return f;
}

}  // namespace hourbank::ledger::nats_frame
