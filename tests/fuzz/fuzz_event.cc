// libFuzzer target: Cap'n Proto event decoding and validation (ledger::DecodeEvent) and the
// client fold (ClientState::Apply, Catalog::Apply) on arbitrary bytes.
// Input grammar: chunk*, chunk := length: uint32 little-endian, bytes: byte[length]. Chunk i
// is decoded as the stored value of seq i+1 (as a replay would); every event that decodes is
// folded into a Catalog and one ClientState per stream, then the states are evaluated. Bad
// bytes must be kCorruption; folded nonsense must become ReplayProblems, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "ledger/log.h"
#include "projections/decide.h"
#include "projections/state.h"

using namespace hourbank;
using namespace hourbank::projections;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Catalog catalog;
  std::map<std::string, ClientState> clients;
  uint64_t seq = 0;
  size_t pos = 0;
  while (pos + 4 <= size && seq < 64) {
    uint32_t len = 0;
    std::memcpy(&len, data + pos, 4);
    pos += 4;
    len = static_cast<uint32_t>(std::min<size_t>(len, size - pos));
    const std::string_view bytes(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
    ++seq;
    Status s = ledger::DecodeEvent(seq, bytes, [&](schemas::Event::Reader e) {
      const std::string id(e.getClientId().cStr(), e.getClientId().size());
      if (id == kCatalogStream) {
        catalog.Apply(seq, e);
        return;
      }
      auto it = clients.find(id);
      if (it == clients.end()) {
        it = clients.emplace(id, ClientState(ClientOptions{.retain_entries = true})).first;
        it->second.set_id(id);
      }
      it->second.Apply(seq, e);
    });
    (void)s;  // an error is an expected outcome for arbitrary bytes
  }
  for (auto& [id, st] : clients) {
    if (!st.has_contract()) continue;
    uint32_t month = st.first_month();
    // Evaluate a bounded number of months around the contract.
    for (int i = 0; i < 4 && ValidMonth(month); ++i, month = NextMonth(month)) {
      const MonthEval e = st.Evaluate(month);
      (void)e;
    }
    (void)st.outstanding_minor();
  }
  return 0;
}
