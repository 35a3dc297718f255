// Hashing, client-id validation and event decoding: the pure parts of the ledger.
#include "ledger/codec.h"

#include <algorithm>

#include <cstring>
#include <string>

#include <capnp/serialize.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include "ledger/format.h"

namespace hourbank::ledger {

namespace codec {

Hasher::Hasher() {
  int rc = crypto_generichash_init(&state_, nullptr, 0, crypto_generichash_BYTES);
  assert(rc == 0);
  (void)rc;
}

void Hasher::Update(std::string_view bytes) {
  int rc = crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                                     bytes.size());
  assert(rc == 0);
  (void)rc;
}

Hash Hasher::Final() {
  Hash out{};
  static_assert(sizeof(out) == crypto_generichash_BYTES);
  int rc = crypto_generichash_final(&state_, out.data(), out.size());
  assert(rc == 0);
  (void)rc;
  return out;
}

namespace {

// The highest body discriminant this build knows. A stored event with a higher one was
// written by a newer build; schema rule 6 says report it, never skip it.
constexpr uint16_t kBodyKindMax = static_cast<uint16_t>(schemas::Event::Body::ALERT_SETTINGS_SET);

// Checks everything a reader of the envelope relies on; throws kj::Exception (caught by the
// caller) for malformed pointers, returns an Error for well-formed but wrong contents.
std::optional<Error> CheckEnvelope(uint64_t seq, schemas::Event::Reader root) {
  // A full traversal bounds-checks every pointer of the message before anyone reads it.
  (void)root.totalSize();
  // Text accessors check NUL termination; do it now rather than in the visitor.
  (void)root.getClientId();
  (void)root.getActor();
  (void)root.getIdempotencyKey();
  if (root.getSeq() != seq) {
    return Error::Corruption(
        fmt::format("event stored under seq {} carries seq {} (rewritten or moved)", seq,
                    root.getSeq()),
        seq);
  }
  if (root.getPrevHash().size() != format::kHashBytes) {
    return Error::Corruption(
        fmt::format("event {} has a prevHash of {} bytes, not 32", seq, root.getPrevHash().size()),
        seq);
  }
  auto kind = static_cast<uint16_t>(root.getBody().which());
  if (kind > kBodyKindMax) {
    return Error::Corruption(
        fmt::format("event {} has body kind {} which this build does not know (newer "
                    "writer?); upgrade hourbank to read it",
                    seq, kind),
        seq);
  }
  return std::nullopt;
}

}  // namespace

Status Decode(uint64_t seq, std::string_view bytes, std::vector<capnp::word>& scratch,
              kj::FunctionParam<void(schemas::Event::Reader)> fn) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Error::Corruption(
        fmt::format("event {} is {} bytes, not a whole number of 8-byte words", seq, bytes.size()),
        seq);
  }
  const size_t words_count = bytes.size() / sizeof(capnp::word);
  const capnp::word* words = nullptr;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = reinterpret_cast<const capnp::word*>(bytes.data());  // zero-copy
  } else {
    // A fresh vector, not resize(): capnp::word is not copyable or movable, which resize()
    // needs to keep old contents (libstdc++ with clang refuses it); the contents are dead here.
    if (scratch.size() < words_count) scratch = std::vector<capnp::word>(words_count);
    std::memcpy(scratch.data(), bytes.data(), bytes.size());
    words = scratch.data();
  }
  capnp::ReaderOptions options;
  // The limit scales with the input: a list of N zero-sized structs costs N words to walk but
  // only a few bytes to encode, so a flat kTraversalWordsMax let a small value make a fold
  // loop 2^29 times (found by tests/fuzz/fuzz_event). A builder-made event is walked at most
  // once per read of a field; 64 reads per word is far beyond what any fold does.
  options.traversalLimitInWords =
      std::min<uint64_t>(kTraversalWordsMax, uint64_t{words_count} * 64 + 1024);
  options.nestingLimit = kNestingLimit;
  std::optional<Error> error;
  try {
    kj::ArrayPtr<const capnp::word> array(words, words_count);
    capnp::FlatArrayMessageReader reader(array, options);
    if (reader.getEnd() != array.end()) {
      return Error::Corruption(fmt::format("event {} has {} bytes after its message", seq,
                                           (array.end() - reader.getEnd()) * sizeof(capnp::word)),
                               seq);
    }
    auto root = reader.getRoot<schemas::Event>();
    error = CheckEnvelope(seq, root);
    if (!error) fn(root);
  } catch (const kj::Exception& e) {
    return Error::Corruption(
        fmt::format("event {} does not decode: {}", seq, e.getDescription().cStr()), seq);
  }
  if (error) return *error;
  return Status::Ok();
}

}  // namespace codec

Hash ChainHash(const Hash& prev, std::string_view event_bytes) {
  codec::Hasher h;
  h.Update(prev);
  h.Update(event_bytes);
  return h.Final();
}

Hash Digest(std::string_view bytes) {
  codec::Hasher h;
  h.Update(bytes);
  return h.Final();
}

std::string HexOf(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Status DecodeEvent(uint64_t seq, std::string_view bytes,
                   const std::function<void(schemas::Event::Reader)>& fn) {
  std::vector<capnp::word> scratch;  // allocated only for misaligned input
  return codec::Decode(seq, bytes, scratch, [&fn](schemas::Event::Reader e) { fn(e); });
}

bool ValidClientId(std::string_view id) {
  constexpr size_t kClientIdBytesMax = 64;
  if (!id.empty() && id.front() == '$') id.remove_prefix(1);
  if (id.empty() || id.size() > kClientIdBytesMax) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(id.front())) return false;
  for (char c : id) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace hourbank::ledger
