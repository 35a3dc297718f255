// Moving a ledger between backends: re-stamped import-log and the content digests (log_move.h).
#include "tools/hourbank/log_move.h"

#include <algorithm>
#include <unordered_map>

#include <capnp/message.h>
#include <fmt/format.h>

namespace hourbank::cli {

namespace {

using Map = std::function<std::optional<uint64_t>(uint64_t)>;

// Rewrites one reference field through `map`: 0 stays 0. Returns false (and sets *bad) when
// `map` does not know the seq.
template <typename Get, typename Set>
bool Rewrite(Get get, Set set, const Map& map, std::optional<uint64_t>* bad) {
  const uint64_t seq = get();
  if (seq == 0) return true;
  const std::optional<uint64_t> to = map(seq);
  if (!to) {
    *bad = seq;
    return false;
  }
  set(*to);
  return true;
}

std::optional<uint64_t> RewriteReviewed(schemas::WorkReviewed::Builder r, const Map& map) {
  auto seqs = r.getEntrySeqs();
  std::optional<uint64_t> bad;
  for (uint32_t i = 0; i < seqs.size(); ++i)
    if (!Rewrite([&] { return seqs[i]; }, [&](uint64_t s) { seqs.set(i, s); }, map, &bad))
      return bad;
  return std::nullopt;
}

// A group of events to append as one request: one client, one recorded time, one key.
struct Group {
  std::string client;
  std::string key;
  int64_t recorded_at_us = 0;
  std::vector<size_t> lines;  // indexes into the import's lines
};

// Events of keyless groups per append, well under the log's batch and message bounds (a group
// with a key is one request of the source and stays whole, or the key would answer a replay).
constexpr size_t kGroupEventsMax = 1000;

// The file's events as groups of consecutive lines (same client, recorded time and key), the
// way the source appended them; checkpoints are left out (counted in *checkpoints).
std::vector<Group> GroupLines(const std::vector<ImportedLine>& lines, uint64_t* checkpoints) {
  std::vector<Group> groups;
  for (size_t i = 0; i < lines.size(); ++i) {
    Group g;
    bool checkpoint = false;
    Must(ledger::DecodeForeignEvent(lines[i].bytes, [&](schemas::Event::Reader e) {
      checkpoint = e.getBody().isCheckpoint();
      g.client.assign(e.getClientId().cStr(), e.getClientId().size());
      g.key.assign(e.getIdempotencyKey().cStr(), e.getIdempotencyKey().size());
      g.recorded_at_us = e.getRecordedAtUs();
    }));
    if (checkpoint) {
      ++*checkpoints;
      continue;
    }
    if (!groups.empty()) {
      Group& last = groups.back();
      if (last.client == g.client && last.key == g.key && last.recorded_at_us == g.recorded_at_us &&
          (!g.key.empty() || last.lines.size() < kGroupEventsMax) && last.lines.back() + 1 == i) {
        last.lines.push_back(i);
        continue;
      }
    }
    g.lines.push_back(i);
    groups.push_back(std::move(g));
  }
  // Recorded order across clients (a ledger directory needs it; a client's own order is kept
  // because a client's recorded times never go back and the sort is stable).
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    return a.recorded_at_us < b.recorded_at_us;
  });
  return groups;
}

// The request for one group: each event's content, references rewritten through `moved`.
ledger::AppendRequest RequestOf(const Group& g, const std::vector<ImportedLine>& lines,
                                const std::unordered_map<uint64_t, uint64_t>& moved,
                                uint32_t version, const std::string& path) {
  ledger::AppendRequest req;
  req.client_id = g.client;
  req.idempotency_key = g.key;
  req.expected_version = version;
  req.recorded_at_us = g.recorded_at_us;
  const ImportedLine& first = lines[g.lines.front()];
  if (!g.key.empty() && first.key_digest) req.request_digest = first.key_digest;
  auto map = [&](uint64_t seq) -> std::optional<uint64_t> {
    auto it = moved.find(seq);
    if (it == moved.end()) return std::nullopt;
    return it->second;
  };
  for (size_t i : g.lines) {
    ledger::EventDraft draft;
    Must(ledger::DecodeForeignEvent(lines[i].bytes,
                                    [&](schemas::Event::Reader e) { draft.message().setRoot(e); }));
    if (auto bad = RewriteSeqRefs(draft.root(), map))
      Fail(Code::kInvalid,
           fmt::format("{}:{} (seq {}): the event refers to seq {}, which is not an earlier event "
                       "of the file; import-log needs a whole-ledger export",
                       path, lines[i].line, lines[i].seq, *bad));
    req.events.push_back(std::move(draft));
  }
  return req;
}

}  // namespace

std::optional<uint64_t> RewriteSeqRefs(schemas::Event::Builder event, const Map& map) {
  auto b = event.getBody();
  std::optional<uint64_t> bad;
  using W = schemas::Event::Body::Which;
  switch (b.which()) {
    case W::WORK_VOIDED: {
      auto v = b.getWorkVoided();
      Rewrite([&] { return v.getEntrySeq(); }, [&](uint64_t s) { v.setEntrySeq(s); }, map, &bad);
      return bad;
    }
    case W::HOURS_EXPIRED: {
      auto h = b.getHoursExpired();
      Rewrite([&] { return h.getBlockSeq(); }, [&](uint64_t s) { h.setBlockSeq(s); }, map, &bad);
      return bad;
    }
    case W::ADJUSTMENT: {
      auto a = b.getAdjustment();
      Rewrite([&] { return a.getReversesSeq(); }, [&](uint64_t s) { a.setReversesSeq(s); }, map,
              &bad);
      return bad;
    }
    case W::WORK_WRITTEN_DOWN: {
      auto w = b.getWorkWrittenDown();
      Rewrite([&] { return w.getEntrySeq(); }, [&](uint64_t s) { w.setEntrySeq(s); }, map, &bad);
      return bad;
    }
    case W::WORK_REVIEWED:
      return RewriteReviewed(b.getWorkReviewed(), map);
    case W::WEBHOOK_ATTEMPTED: {  // the delivered event's seq (docs/webhooks.md)
      auto w = b.getWebhookAttempted();
      Rewrite([&] { return w.getSourceSeq(); }, [&](uint64_t s) { w.setSourceSeq(s); }, map, &bad);
      return bad;
    }
    case W::WEBHOOK_REDELIVER_REQUESTED: {
      auto w = b.getWebhookRedeliverRequested();
      Rewrite([&] { return w.getSourceSeq(); }, [&](uint64_t s) { w.setSourceSeq(s); }, map, &bad);
      return bad;
    }
    case W::CLIENT_REGISTERED:
    case W::PLAN_DEFINED:
    case W::CONTRACT_STARTED:
    case W::CONTRACT_CHANGED:
    case W::CONTRACT_ENDED:
    case W::UNITS_CHANGED:
    case W::WORK_LOGGED:
    case W::WORK_ACCEPTED:
    case W::HOURS_PURCHASED:
    case W::ADDON_PURCHASED:
    case W::PAYMENT_RECEIVED:
    case W::HOURS_CARRIED_OVER:
    case W::SLOTS_EXPIRED:
    case W::PERIOD_CLOSED:
    case W::INCIDENT_OPENED:
    case W::INCIDENT_RESPONDED:
    case W::INCIDENT_RESOLVED:
    case W::INCIDENT_REPRIORITIZED:
    case W::INCIDENT_REOPENED:
    case W::TOKEN_ISSUED:
    case W::TOKEN_REVOKED:
    case W::INCIDENT_WAITING:
    case W::INCIDENT_RESUMED:
    // An alert's subject for a block names the block's seq in the ledger it was raised in, as
    // does its idempotency key; both are kept as recorded (docs/replicated-log.md).
    case W::ALERT_RAISED:
    case W::WEBHOOK_ADDED:
    case W::WEBHOOK_REMOVED:
    case W::ALERT_SETTINGS_SET:
    case W::CHECKPOINT:  // headSeq names a point of the chain, not an event
      return std::nullopt;
  }
  return std::nullopt;  // a body kind this build does not know: nothing to rewrite
}

void ContentDigests::Add(const ledger::EventView& v) {
  if (v.event.getBody().isCheckpoint()) return;
  const std::string_view id(v.event.getClientId().cStr(), v.event.getClientId().size());
  auto it = clients_.find(id);
  if (it == clients_.end()) it = clients_.emplace(std::string(id), Client{}).first;
  Client& c = it->second;
  ++c.version;
  versions_.emplace_back(v.seq, c.version);
  capnp::MallocMessageBuilder m;
  m.setRoot(v.event);
  auto e = m.getRoot<schemas::Event>();
  e.setSeq(0);
  e.setPrevHash(capnp::Data::Reader());
  // The envelope's texts as values (a ledger directory may store an empty key as no pointer,
  // a cluster as an empty text: the same content).
  const std::string key(e.asReader().getIdempotencyKey().cStr());
  e.setClientId(std::string(id));
  e.setIdempotencyKey(key);
  RewriteSeqRefs(e, [this](uint64_t seq) -> std::optional<uint64_t> {
    auto at =
        std::lower_bound(versions_.begin(), versions_.end(), std::make_pair(seq, uint32_t{0}));
    // A reference that names no earlier event is written as the largest number, on both sides.
    return at != versions_.end() && at->first == seq ? at->second : UINT64_MAX;
  });
  const kj::Array<capnp::word> words = capnp::canonicalize(e.asReader());
  c.hash =
      ledger::ChainHash(c.hash, std::string_view(words.asChars().begin(), words.asChars().size()));
}

std::map<std::string, std::pair<uint32_t, std::string>> ContentDigests::Result() const {
  std::map<std::string, std::pair<uint32_t, std::string>> out;
  for (const auto& [id, c] : clients_) out[id] = {c.version, ledger::HexOf(c.hash)};
  return out;
}

bool CheckWholeExport(const std::string& path, const std::vector<ImportedLine>& lines) {
  std::map<std::string, uint64_t, std::less<>> versions;  // cluster: client -> last version
  bool directory = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    uint64_t own = 0, want = 0;
    std::string client;
    Must(ledger::DecodeForeignEvent(lines[i].bytes, [&](schemas::Event::Reader e) {
      own = e.getSeq();
      client.assign(e.getClientId().cStr(), e.getClientId().size());
    }));
    if (i == 0) directory = own == lines[0].seq;
    if (directory) {
      want = i + 1;
      if (own != lines[i].seq) want = lines[i].seq;  // not stored under its own seq: refused
    } else {
      want = ++versions[client];
    }
    if (own != want)
      Fail(Code::kInvalid,
           fmt::format("{}:{} (seq {}): the event's own seq is {}, not {}; import-log needs a "
                       "whole-ledger export (no CLIENT, no --from-seq, no line left out)",
                       path, lines[i].line, lines[i].seq, own, want));
  }
  return directory;
}

void ImportRestamped(App& app, const std::string& path, const std::vector<ImportedLine>& lines) {
  ledger::Log& log = app.log();
  uint64_t checkpoints = 0, imported = 0;
  const std::vector<Group> groups = GroupLines(lines, &checkpoints);
  std::unordered_map<uint64_t, uint64_t> moved;  // source seq -> target seq
  std::map<std::string, uint32_t, std::less<>> versions;
  for (const Group& g : groups) {
    uint32_t& version = versions[g.client];
    auto r = log.Append(RequestOf(g, lines, moved, version, path));
    const ImportedLine& first = lines[g.lines.front()];
    if (!r.ok()) {
      Error e = r.error();
      e.message = fmt::format("{}:{} (seq {}): {}", path, first.line, first.seq, e.message);
      Fail(e);
    }
    if (r->replayed)
      Fail(Code::kInvalid,
           fmt::format("{}:{} (seq {}): idempotency key '{}' was used by an earlier append of the "
                       "file; not an export of one ledger",
                       path, first.line, first.seq, g.key));
    for (size_t i = 0; i < g.lines.size(); ++i) moved[lines[g.lines[i]].seq] = r->first_seq + i;
    version = r->stream_version;
    imported += g.lines.size();
  }
  const ledger::VerifyReport report = Must(log.Verify());
  if (!report.ok)
    Fail(Code::kCorruption, fmt::format("imported {} events but the ledger does not verify: {}",
                                        imported, report.problem));
  if (app.json) {
    app.PrintJson({{"imported", imported},
                   {"appends", groups.size()},
                   {"restamped", true},
                   {"checkpoints_left_out", checkpoints},
                   {"head_seq", log.head_seq()},
                   {"head_hash", ledger::HexOf(report.head_hash)}});
    return;
  }
  app.Say(fmt::format(
      "imported {} events in {} appends, re-stamped (new seqs and chains; `hourbank audit --json` "
      "client_digests match the source's){}; head seq {}, hash {}",
      imported, groups.size(),
      checkpoints ? fmt::format("; {} checkpoint(s) of the source's chain left out: sign a new one",
                                checkpoints)
                  : "",
      log.head_seq(), ledger::HexOf(report.head_hash)));
}

}  // namespace hourbank::cli
