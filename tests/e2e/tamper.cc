// tamper: a TEST-ONLY helper that damages a CLOSED ledger directory the way someone with write
// access to the disk could, for the audit end-to-end tests (tests/e2e/audit_test.sh).
//
//   tamper DIR flip SEQ OFFSET          xor 0x01 into byte OFFSET of event SEQ's stored value
//   tamper DIR delete SEQ               remove event SEQ from the events column family
//   tamper DIR swap SEQ1 SEQ2           exchange the stored values of two events
//   tamper DIR set-minutes SEQ N [rechain]
//                                       rewrite event SEQ (HoursExpired, HoursCarriedOver or
//                                       WorkLogged) with minutes = N; with `rechain`, also
//                                       rewrite every later event's prevHash and the head hash
//                                       in meta, so the hash chain verifies again and only the
//                                       business rules (or a signed checkpoint) can tell.
//   tamper DIR set-total SEQ N [rechain]
//                                       rewrite PeriodClosed SEQ with totalMinor = N (the lines
//                                       digest stays), `rechain` as above.
//   tamper DIR bad-stream-key 0         put a malformed key (too short to name a stream) into
//                                       the streams column family: listing streams then fails
//                                       with a read error (close --all must say so).
//
// Exit status: 0 done, 1 failure (message on stderr), 2 usage.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "ledger/format.h"
#include "ledger/log.h"
#include "ledger/raw.h"

namespace raw = hourbank::ledger::raw;
namespace format = hourbank::ledger::format;
using hourbank::ledger::Hash;

namespace {

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "tamper: %s\n", m.c_str());
  std::exit(1);
}

std::string Get(const std::string& dir, uint64_t seq) {
  auto v = raw::RawGet(dir, format::kEventsCf, raw::SeqKey(seq));
  if (!v.ok()) Die(v.error().message);
  if (!*v) Die("no event " + std::to_string(seq));
  return **v;
}

void Put(const std::string& dir, std::string_view cf, std::string_view key,
         std::string_view value) {
  auto s = raw::RawPut(dir, cf, key, value);
  if (!s.ok()) Die(s.error().message);
}

// Copies the stored event into a builder, lets `edit` change it, and returns the new bytes.
template <typename F>
std::string Rewrite(const std::string& bytes, F edit) {
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), words.size() * sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.data(), words.size()));
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<hourbank::schemas::Event>());
  edit(builder.getRoot<hourbank::schemas::Event>());
  auto flat = capnp::messageToFlatArray(builder);
  return std::string(flat.asChars().begin(), flat.asChars().size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: tamper DIR flip SEQ OFFSET | delete SEQ | swap SEQ1 SEQ2 | set-minutes "
                 "SEQ N [rechain] | "
                 "set-total SEQ N [rechain]\n");
    return 2;
  }
  const std::string dir = argv[1], op = argv[2];
  const uint64_t seq = std::strtoull(argv[3], nullptr, 10);
  if (op == "bad-stream-key" && argc == 4) {
    Put(dir, format::kStreamsCf, std::string("\x01", 1), "x");
  } else if (op == "flip" && argc == 5) {
    std::string v = Get(dir, seq);
    const size_t off = std::strtoull(argv[4], nullptr, 10);
    if (off >= v.size()) Die("offset beyond the event's " + std::to_string(v.size()) + " bytes");
    v[off] = static_cast<char>(v[off] ^ 0x01);
    Put(dir, format::kEventsCf, raw::SeqKey(seq), v);
  } else if (op == "delete" && argc == 4) {
    auto s = raw::RawDelete(dir, format::kEventsCf, raw::SeqKey(seq));
    if (!s.ok()) Die(s.error().message);
  } else if (op == "swap" && argc == 5) {
    const uint64_t other = std::strtoull(argv[4], nullptr, 10);
    std::string a = Get(dir, seq), b = Get(dir, other);
    Put(dir, format::kEventsCf, raw::SeqKey(seq), b);
    Put(dir, format::kEventsCf, raw::SeqKey(other), a);
  } else if ((op == "set-minutes" || op == "set-total") && (argc == 5 || argc == 6)) {
    const int64_t value = std::strtoll(argv[4], nullptr, 10);
    const bool rechain = argc == 6 && std::string(argv[5]) == "rechain";
    std::string v = Rewrite(Get(dir, seq), [&](hourbank::schemas::Event::Builder e) {
      auto b = e.getBody();
      if (op == "set-total") {
        if (b.isPeriodClosed())
          b.getPeriodClosed().setTotalMinor(value);
        else
          Die("event " + std::to_string(seq) + " is not a PeriodClosed");
      } else if (b.isHoursExpired())
        b.getHoursExpired().setMinutes(value);
      else if (b.isHoursCarriedOver())
        b.getHoursCarriedOver().setMinutes(value);
      else if (b.isWorkLogged())
        b.getWorkLogged().setMinutes(value);
      else
        Die("event " + std::to_string(seq) + " has no minutes to set");
    });
    Put(dir, format::kEventsCf, raw::SeqKey(seq), v);
    if (rechain) {
      // hash(seq - 1) from the stored prevHash of seq, then forward.
      Hash h{};
      {
        std::string first = Get(dir, seq);
        std::vector<capnp::word> words(first.size() / sizeof(capnp::word));
        std::memcpy(words.data(), first.data(), first.size());
        capnp::FlatArrayMessageReader r(kj::arrayPtr(words.data(), words.size()));
        auto ph = r.getRoot<hourbank::schemas::Event>().getPrevHash();
        std::memcpy(h.data(), ph.begin(), h.size());
      }
      h = hourbank::ledger::ChainHash(h, v);
      auto head = raw::RawGet(dir, format::kMetaCf, format::kMetaHeadSeq);
      if (!head.ok() || !*head) Die("no head in meta");
      const uint64_t head_seq = format::ReadBE(**head, 8);
      for (uint64_t s = seq + 1; s <= head_seq; ++s) {
        std::string next = Rewrite(Get(dir, s), [&](hourbank::schemas::Event::Builder e) {
          e.setPrevHash(capnp::Data::Reader(h.data(), h.size()));
        });
        Put(dir, format::kEventsCf, raw::SeqKey(s), next);
        h = hourbank::ledger::ChainHash(h, next);
      }
      Put(dir, format::kMetaCf, format::kMetaHeadHash,
          std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
    }
  } else {
    std::fprintf(stderr, "tamper: unknown operation or wrong arguments: %s\n", op.c_str());
    return 2;
  }
  return 0;
}
