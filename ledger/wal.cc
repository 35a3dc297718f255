#include "ledger/wal.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace hourbank::ledger::wal {

namespace {

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

uint32_t Le32(std::string_view b) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[0])) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[3])) << 24;
}

// Raw (unfinalised) CRC state helpers: Crc32c() returns the finalised value; extending one
// byte at a time needs the raw register.
uint32_t Step(uint32_t reg, uint8_t byte) { return kTable[(reg ^ byte) & 0xff] ^ (reg >> 8); }

enum Type : uint8_t {
  kZero = 0,
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
  kSetCompression = 9,
  kTimestampSize = 10
};
constexpr size_t kWriteBatchHeaderBytes = 12;

}  // namespace

uint32_t Crc32c(uint32_t crc, std::string_view bytes) {
  uint32_t reg = ~crc;
  for (char c : bytes) reg = Step(reg, static_cast<uint8_t>(c));
  return ~reg;
}

namespace {

Damage Bad(uint64_t at, std::string what) { return Damage{at, std::move(what), false}; }

// A record split over blocks, while its fragments are being read.
struct Fragment {
  bool open = false;
  uint64_t start = 0, bytes = 0;
};

// The file ends inside the record at `pos`. A torn write leaves a prefix of a valid record; a
// complete record whose length field was damaged has a checksum that matches a shorter length:
// look for one.
Damage CheckTornRecord(std::string_view bytes, uint64_t pos, uint8_t type, uint32_t stored,
                       const Fragment& fragment) {
  const uint64_t size = bytes.size();
  uint32_t reg = Step(~0u, type);
  for (uint64_t i = pos + kHeaderBytes; i < size; ++i) {
    if (~reg == stored) return Bad(pos, "a complete record with a damaged length field");
    reg = Step(reg, static_cast<uint8_t>(bytes[i]));
  }
  if (~reg == stored) return Bad(pos, "a complete record with a damaged length field");
  return Damage{fragment.open ? fragment.start : pos,
                "the file ends inside a record (a write that never finished)", true};
}

// A checksummed record of `type` at `pos` in the sequence of full and split records.
std::optional<Damage> CheckRecordType(uint8_t type, uint64_t pos, uint64_t length,
                                      Fragment* fragment) {
  switch (type) {
    case kFull:
      if (fragment->open) return Bad(fragment->start, "a split record without its end");
      if (length < kWriteBatchHeaderBytes) return Bad(pos, "a record too small for a write batch");
      break;
    case kFirst:
      if (fragment->open) return Bad(fragment->start, "a split record without its end");
      *fragment = Fragment{true, pos, length};
      break;
    case kMiddle:
      if (!fragment->open) return Bad(pos, "the middle of a split record without its start");
      fragment->bytes += length;
      break;
    case kLast:
      if (!fragment->open) return Bad(pos, "the end of a split record without its start");
      fragment->bytes += length;
      if (fragment->bytes < kWriteBatchHeaderBytes)
        return Bad(fragment->start, "a record too small for a write batch");
      fragment->open = false;
      break;
    case kSetCompression:
    case kTimestampSize:
      break;
    default:
      return Bad(pos, fmt::format("unknown record type {}", type));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Damage> CheckWal(std::string_view bytes) {
  const uint64_t size = bytes.size();
  uint64_t pos = 0;
  Fragment fragment;
  // Bounded: every step advances pos by at least one byte.
  while (pos < size) {
    const uint64_t block_left = kBlockBytes - pos % kBlockBytes;
    if (block_left < kHeaderBytes) {  // trailer: RocksDB does not read it
      pos += block_left;
      continue;
    }
    if (size - pos < kHeaderBytes) {
      return Damage{fragment.open ? fragment.start : pos, "the file ends inside a record header",
                    true};
    }
    const std::string_view header = bytes.substr(pos, kHeaderBytes);
    const uint32_t stored = Unmask(Le32(header));
    const uint64_t length = static_cast<uint8_t>(header[4]) |
                            static_cast<uint64_t>(static_cast<uint8_t>(header[5])) << 8;
    const auto type = static_cast<uint8_t>(header[6]);
    if (type == kZero && length == 0 && Le32(header) == 0) {
      // RocksDB skips the rest of a block that starts with zeros (preallocated space).
      pos += block_left;
      continue;
    }
    const uint64_t end = pos + kHeaderBytes + length;
    if (kHeaderBytes + length > block_left) {
      return Bad(pos, fmt::format("bad record length {} (the block has {} bytes left)", length,
                                  block_left - kHeaderBytes));
    }
    if (end > size) return CheckTornRecord(bytes, pos, type, stored, fragment);
    const std::string_view payload = bytes.substr(pos + kHeaderBytes, length);
    uint32_t crc = Step(~0u, type);
    for (char c : payload) crc = Step(crc, static_cast<uint8_t>(c));
    if (~crc != stored) return Bad(pos, "checksum mismatch");
    if (auto damage = CheckRecordType(type, pos, length, &fragment)) return damage;
    pos = end;
  }
  if (fragment.open)
    return Damage{fragment.start,
                  "the file ends inside a split record (a write that never finished)", true};
  return std::nullopt;
}

namespace {

// Whether a record with a verifying checksum starts at `pos` (whole record inside its block
// and the file); its length and type through the pointers.
bool RecordAt(std::string_view bytes, uint64_t pos, uint64_t* length, uint8_t* type) {
  const uint64_t block_left = kBlockBytes - pos % kBlockBytes;
  if (block_left < kHeaderBytes || bytes.size() - pos < kHeaderBytes) return false;
  const std::string_view header = bytes.substr(pos, kHeaderBytes);
  *length = static_cast<uint8_t>(header[4]) | static_cast<uint64_t>(static_cast<uint8_t>(header[5]))
                                                  << 8;
  *type = static_cast<uint8_t>(header[6]);
  if (*type < kFull || (*type > kLast && *type != kSetCompression && *type != kTimestampSize))
    return false;
  if (kHeaderBytes + *length > block_left || pos + kHeaderBytes + *length > bytes.size())
    return false;
  uint32_t reg = Step(~0u, *type);
  for (char c : bytes.substr(pos + kHeaderBytes, *length)) reg = Step(reg, static_cast<uint8_t>(c));
  return ~reg == Unmask(Le32(header));
}

}  // namespace

std::vector<std::string> ReadableRecords(std::string_view bytes) {
  std::vector<std::string> out;
  std::string assembling;
  bool in_fragment = false;
  uint64_t pos = 0;
  // Bounded: every step advances pos by at least one byte.
  while (pos < bytes.size()) {
    const uint64_t block_left = kBlockBytes - pos % kBlockBytes;
    if (block_left < kHeaderBytes) {
      pos += block_left;
      continue;
    }
    uint64_t length = 0;
    uint8_t type = 0;
    if (!RecordAt(bytes, pos, &length, &type)) {
      // Damage here: whatever was being assembled is lost. Trust the length field if the
      // record after it verifies; else search byte by byte.
      in_fragment = false;
      assembling.clear();
      if (bytes.size() - pos >= kHeaderBytes) {
        const uint64_t claimed = static_cast<uint8_t>(bytes[pos + 4]) |
                                 static_cast<uint64_t>(static_cast<uint8_t>(bytes[pos + 5])) << 8;
        uint64_t next = pos + kHeaderBytes + claimed, l2 = 0;
        uint8_t t2 = 0;
        if (kHeaderBytes + claimed <= block_left && next < bytes.size()) {
          if (kBlockBytes - next % kBlockBytes < kHeaderBytes)
            next += kBlockBytes - next % kBlockBytes;
          if (next < bytes.size() && RecordAt(bytes, next, &l2, &t2)) {
            pos = next;
            continue;
          }
        }
      }
      ++pos;
      continue;
    }
    const std::string_view payload = bytes.substr(pos + kHeaderBytes, length);
    switch (type) {
      case kFull:
        in_fragment = false;
        assembling.clear();
        out.emplace_back(payload);
        break;
      case kFirst:
        in_fragment = true;
        assembling.assign(payload);
        break;
      case kMiddle:
        if (in_fragment) assembling.append(payload);
        break;
      case kLast:
        if (in_fragment) {
          assembling.append(payload);
          out.push_back(std::move(assembling));
        }
        in_fragment = false;
        assembling.clear();
        break;
      default:
        break;
    }
    pos += kHeaderBytes + length;
  }
  return out;
}

Result<std::optional<Damage>> CheckWalFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Io(fmt::format("cannot read {}", path));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error::Io(fmt::format("cannot read {}", path));
  return CheckWal(bytes);
}

Result<std::vector<std::string>> WalFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<uint64_t, std::string>> found;
  std::error_code ec;
  // Bounded: one step per directory entry.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= 4 || !name.ends_with(".log")) continue;
    const std::string digits = name.substr(0, name.size() - 4);
    if (digits.size() > 19 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    found.emplace_back(std::stoull(digits), it->path().string());
  }
  if (ec) return Error::Io(fmt::format("cannot list {}: {}", dir, ec.message()));
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [n, p] : found) out.push_back(std::move(p));
  return out;
}

}  // namespace hourbank::ledger::wal
