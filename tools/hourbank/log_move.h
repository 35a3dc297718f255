// Moving a ledger between backends (a ledger directory and a NATS cluster, either way):
// `hourbank export --format jsonl` and `hourbank import-log`, re-stamped (docs/replicated-log.md,
// "Moving a ledger between backends").
//
// A re-stamped import keeps each event's recorded content (client, body, effective and recorded
// times, actor, idempotency key and its request digest) and lets the target derive the rest
// (Event.seq, Event.prevHash, positions, chains). References from one event to another by seq
// (WorkVoided.entrySeq, …) are rewritten to the target's seqs. ContentDigests is what `audit`
// prints so that the source and the target can be compared: per client, a digest of the kept
// content with every reference written as the referenced event's version in its client.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"
#include "schemas/events.capnp.h"
#include "tools/hourbank/app.h"

namespace hourbank::cli {

// Rewrites every seq reference in `event`'s body with map(seq); a reference of 0 ("none") is
// kept. Returns the first seq `map` answers nullopt for (nothing rewritten after it), or
// nullopt when every reference was rewritten. Checkpoint.headSeq is not a reference to an event
// (it names a point of a chain) and is left alone.
std::optional<uint64_t> RewriteSeqRefs(schemas::Event::Builder event,
                                       const std::function<std::optional<uint64_t>(uint64_t)>& map);

// Per client: BLAKE2b-256 chain over the canonical Cap'n Proto bytes of each event with seq 0,
// no prevHash and references as client versions. Events visited in log order (Scan, Verify).
// Checkpoint events are left out (they sign a point of one log's chain, not moved content).
class ContentDigests {
 public:
  void Add(const ledger::EventView& v);
  // client id -> (events, hex digest)
  std::map<std::string, std::pair<uint32_t, std::string>> Result() const;

 private:
  struct Client {
    uint32_t version = 0;
    ledger::Hash hash{};
  };
  std::map<std::string, Client, std::less<>> clients_;
  std::vector<std::pair<uint64_t, uint32_t>> versions_;  // log seq -> client version, by seq
};

// One line of a jsonl export, parsed and decoded.
struct ImportedLine {
  uint64_t line = 0;  // 1-based line number in the file
  uint64_t seq = 0;   // the source's seq (a position when the source is a cluster)
  std::string bytes;  // the stored event
  std::optional<ledger::Hash> key_digest;
};

// Whether `lines` come from a ledger directory (each event's own seq is its line's seq) rather
// than a cluster, after checking that they are a whole export: a directory's seqs 1, 2, 3 …;
// a cluster's client versions 1, 2, 3 … per client. Anything else (CLIENT, --from-seq, a lost
// line) is refused naming the line.
bool CheckWholeExport(const std::string& path, const std::vector<ImportedLine>& lines);

// Appends `lines` (a whole-ledger export, already checked to decode) to the empty ledger of
// `app` as re-stamped appends, in recorded order; then verifies and prints the result.
void ImportRestamped(App& app, const std::string& path, const std::vector<ImportedLine>& lines);

}  // namespace hourbank::cli
