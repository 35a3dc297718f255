// audit, keygen, checkpoint, verify, export, import-log: the auditor's commands (issue 5).
//
// audit      ledger::Log::Verify() (hash chain from seq 1, head in meta, streams and keys
//            indexes, every event decodes) + a replay of every client through ClientState,
//            whose problems() compare every recorded close with what the rules give, and each
//            projection checkpoint the log holds compared with the fold at its version.
//            `audit --store DIR`: the same of a serve node's store (Log::OpenFollowStore).
// keygen     an Ed25519 key pair for checkpoints (libsodium crypto_sign_keypair).
// checkpoint appends a Checkpoint event to "$audit": head seq + head hash, signed (on a NATS
//            cluster one per partition: each partition's events are a chain of their own,
//            Log::chain_scope).
// verify     every checkpoint's signature with the auditor's public key, and that the chain
//            recomputed from seq 1 still passes through each checkpoint's head hash.
// export     jsonl (lossless: decoded fields + base64 of the stored bytes), csv (work and
//            closing entries), hledger (hours and money as commodities).
// import-log re-appends a jsonl export byte for byte into an empty ledger (Log::AppendRaw).
//
// File formats written here:
//   key file     := hex(secret_key[64]) "\n"      mode 0600 (libsodium's Ed25519 secret key,
//                                                  which holds the public key in its last 32)
//   key.pub file := hex(public_key[32]) "\n"
//   signed text  := "hourbank-checkpoint-v1" ‖ head_seq fixed64_be ‖ head_hash[32]
//   jsonl line   := EventJson(seq, event, UTC) + {"recorded_at_us", "effective_at_us",
//                   "raw": base64(stored bytes), "key_digest": hex (events with a key)}
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <capnp/message.h>
#include <fmt/format.h>
#include <sodium.h>

#include "projections/checkpoint.h"
#include "projections/client_fold.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/log_move.h"
#include "tools/hourbank/progress.h"
#include "reports/figures.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::ClientState;
using projections::MonthEval;

namespace {

constexpr std::string_view kCheckpointDomain = "hourbank-checkpoint-v1";
// A jsonl line holds one event (<= event_bytes_max, 256 KiB by default) as base64 plus its
// decoded fields; anything longer is not an export of ours.
constexpr size_t kImportLineBytesMax = 4u << 20;

std::string HexBytes(const uint8_t* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.resize(n * 2);
  return out;
}
std::string HexBytes(std::string_view s) {
  return HexBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Parses exactly `n` bytes of hex (whitespace around it allowed); nullopt otherwise.
std::optional<std::string> ParseHex(std::string_view text, size_t n) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  if (text.size() != n * 2) return std::nullopt;
  std::string out(n, '\0');
  size_t len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), n, text.data(), text.size(),
                     nullptr, &len, nullptr) != 0 ||
      len != n)
    return std::nullopt;
  return out;
}

std::string Base64(std::string_view bytes) {
  const size_t cap = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(cap, '\0');
  sodium_bin2base64(out.data(), cap, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::string ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    Fail(Code::kNotFound, fmt::format("cannot read {} {}: {}", what, path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates `path` exclusively with `mode` and writes `text`; refuses an existing file.
void WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST)
      Fail(Code::kRefused,
           fmt::format("{} exists; refusing to overwrite a key (choose another --out)", path));
    Fail(Code::kIo, fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      Fail(Code::kIo, fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    done += size_t(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0 || ::close(fd) != 0)
    Fail(Code::kIo, fmt::format("cannot finish {}: {}", path, std::strerror(errno)));
}

std::string CheckpointMessage(uint64_t head_seq, const ledger::Hash& head_hash) {
  std::string m(kCheckpointDomain);
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>((head_seq >> (8 * i)) & 0xff));
  m.append(reinterpret_cast<const char*>(head_hash.data()), head_hash.size());
  return m;
}

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

ledger::Hash ToHash(capnp::Data::Reader d) {
  ledger::Hash h{};
  if (d.size() == h.size()) std::memcpy(h.data(), d.begin(), h.size());
  return h;
}

json SeqOrNull(uint64_t seq) { return seq ? json(seq) : json(nullptr); }

// The last position of a hash chain and the chain's hash after it.
struct ChainHead {
  uint64_t seq = 0;
  ledger::Hash hash{};
};

// Recomputes every chain of the log (Log::chain_scope: one for a directory, one per partition on
// a cluster; each starts from 32 zero bytes) over the stored bytes of seq 1 … `last` (0 = the
// head). Each position that `at` names gets its chain's hash after it; `heads` (optional) gets
// each chain's last position and hash. Fails as Scan does.
Status WalkChains(const ledger::Log& log, uint64_t last, std::map<uint64_t, ledger::Hash>* at,
                  std::map<uint32_t, ChainHead>* heads = nullptr) {
  std::map<uint32_t, ChainHead> chains;
  Status s = log.Scan(1, last, [&](const ledger::EventView& v) {
    ChainHead& c = chains[log.chain_scope(v.seq)];
    c.hash = ledger::ChainHash(c.hash, v.bytes);
    c.seq = v.seq;
    if (at) {
      if (auto it = at->find(v.seq); it != at->end()) it->second = c.hash;
    }
    return true;
  });
  if (heads) *heads = std::move(chains);
  return s;
}

// Whether a checkpoint at `seq` claims a head at or after itself in its own chain (on a cluster
// positions of different partitions are not comparable).
bool CoversItself(const ledger::Log& log, uint64_t seq, uint64_t head_seq) {
  return log.chain_scope(seq) == log.chain_scope(head_seq) && head_seq >= seq;
}

void RequireClient(App& app, const std::string& client) {
  if (client.empty()) return;
  ClientState probe = app.LoadClient(client, {.retain_entries = false});
  if (!probe.registered())
    Fail(Code::kNotFound, fmt::format("unknown client '{}'; see `hourbank client list`", client));
}

// ---- audit -------------------------------------------------------------------------------

struct Problem {
  uint64_t seq = 0;
  std::string client;  // empty: the log as a whole
  std::string what;
};

json ProblemsJson(const std::vector<Problem>& problems) {
  json arr = json::array();
  for (const Problem& p : problems)
    arr.push_back({{"seq", SeqOrNull(p.seq)},
                   {"client", p.client.empty() ? json(nullptr) : json(p.client)},
                   {"what", p.what}});
  return arr;
}

uint64_t FirstBadSeq(const std::vector<Problem>& problems) {
  uint64_t first = 0;
  for (const Problem& p : problems)
    if (p.seq != 0 && (first == 0 || p.seq < first)) first = p.seq;
  return first;
}

void PrintProblems(const std::vector<Problem>& problems) {
  std::vector<std::vector<std::string>> rows = {{"seq", "client", "problem"}};
  for (const Problem& p : problems)
    rows.push_back(
        {p.seq ? std::to_string(p.seq) : "-", p.client.empty() ? "-" : p.client, p.what});
  std::fputs(Table(rows).c_str(), stdout);
}

// The replay half of an audit: every client (or one) through the same fold the reads use
// (ClientState compares each recorded close with the rules), and the checkpoints of "$audit"
// against their own embedded key (the auditor's key is `hourbank verify`'s business).
// Visit() takes the events in seq order, from Verify's own scan or from a Scan of its own.
class AuditReplay {
 public:
  AuditReplay(const ledger::Log& log, std::string only_client)
      : log_(log), only_client_(std::move(only_client)) {
    LoadProjectionCheckpoints();
  }

  void Visit(const ledger::EventView& v) {
    std::string_view id(v.event.getClientId().cStr(), v.event.getClientId().size());
    if (only_client_.empty() || id == only_client_) digests_.Add(v);
    if (!id.empty() && id[0] == '$') {
      if (v.event.getBody().isCheckpoint() && only_client_.empty()) VisitCheckpoint(v, id);
      return;
    }
    if (!only_client_.empty() && id != only_client_) return;
    const ClientState* state = fold_.Apply(v.seq, v.event);
    if (state != nullptr && !checkpoints_.empty())
      CheckProjectionCheckpoint(state->id(), *state, v.seq);
  }

  // After the replay: a checkpoint beyond its client's events was never compared.
  void FinishProjectionCheckpoints() {
    for (const auto& [id, cp] : checkpoints_)
      if (!cp.checked)
        problems_.push_back({0, id,
                             fmt::format("the projection checkpoint is at version {}, beyond the "
                                         "client's events",
                                         cp.version)});
  }
  size_t checkpoints_checked() const { return checkpoints_checked_; }

  // Checkpoint head seq -> the head hash the checkpoint recorded (one per checkpoint).
  const std::map<uint64_t, ledger::Hash>& wanted() const { return wanted_; }
  uint64_t wanted_by(uint64_t head_seq) const { return wanted_by_.at(head_seq); }
  std::vector<Problem>& problems() { return problems_; }
  const projections::ClientFold::States& states() const { return fold_.states(); }
  const ContentDigests& digests() const { return digests_; }

 private:
  void VisitCheckpoint(const ledger::EventView& v, std::string_view id) {
    auto c = v.event.getBody().getCheckpoint();
    const ledger::Hash h = ToHash(c.getHeadHash());
    const std::string msg = CheckpointMessage(c.getHeadSeq(), h);
    if (c.getPublicKey().size() != crypto_sign_PUBLICKEYBYTES ||
        c.getSignature().size() != crypto_sign_BYTES ||
        crypto_sign_verify_detached(c.getSignature().begin(),
                                    reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                    c.getPublicKey().begin()) != 0)
      problems_.push_back(
          {v.seq, std::string(id), "checkpoint signature does not verify with its own public key"});
    if (CoversItself(log_, v.seq, c.getHeadSeq()))
      problems_.push_back(
          {v.seq, std::string(id),
           fmt::format("checkpoint covers seq {}, not before itself", c.getHeadSeq())});
    else {
      wanted_[c.getHeadSeq()] = h;
      wanted_by_[c.getHeadSeq()] = v.seq;
    }
  }

  // The lean checkpoints reads would start from (Session::RestoreFromCheckpoint): one of another
  // format version or another client is not one, reads ignore it and so does the audit.
  void LoadProjectionCheckpoints() {
    for (const std::string& id : Must(log_.ListStreams())) {
      if (id.empty() || id[0] == '$' || (!only_client_.empty() && id != only_client_)) continue;
      auto bytes = Must(log_.GetCheckpoint(projections::CheckpointName(id)));
      if (!bytes) continue;
      auto restored = projections::RestoreCheckpoint(*bytes);
      if (!restored.ok() || restored.value().id() != id ||
          restored.value().options().retain_entries || restored.value().version() == 0)
        continue;
      checkpoints_[id] = {restored.value().version(), std::move(*bytes), false};
    }
  }

  // A checkpoint must be the fold of the client's events up to its version, byte for byte.
  void CheckProjectionCheckpoint(const std::string& id, const ClientState& state, uint64_t seq) {
    auto it = checkpoints_.find(id);
    if (it == checkpoints_.end() || it->second.checked || it->second.version != state.version())
      return;
    it->second.checked = true;
    ++checkpoints_checked_;
    if (projections::SaveCheckpoint(state) != it->second.bytes)
      problems_.push_back({seq, id,
                           fmt::format("the projection checkpoint at version {} differs from a "
                                       "fresh fold of the client's events up to it (reads start "
                                       "from it)",
                                       it->second.version)});
  }

  struct ProjectionCheckpoint {
    uint32_t version = 0;
    std::string bytes;
    bool checked = false;
  };

  const ledger::Log& log_;
  std::string only_client_;
  std::map<std::string, ProjectionCheckpoint, std::less<>> checkpoints_;
  size_t checkpoints_checked_ = 0;
  projections::ClientFold fold_{{.retain_entries = false}};  // the same fold as `rebuild`
  std::map<uint64_t, ledger::Hash> wanted_;                  // head seq -> recorded head hash
  std::map<uint64_t, uint64_t> wanted_by_;                   // head seq -> checkpoint seq
  std::vector<Problem> problems_;                            // the checkpoints' own, in seq order
  ContentDigests digests_;  // what a move between backends keeps (log_move.h)
};

void ChainMissesCheckpoint(AuditReplay& replay, uint64_t head_seq, const ledger::Hash& recorded) {
  replay.problems().push_back({replay.wanted_by(head_seq), "$audit",
                               fmt::format("the chain no longer passes through checkpoint head {} "
                                           "(seq {}): events up to it were rewritten",
                                           ledger::HexOf(recorded).substr(0, 16), head_seq)});
}

// Checkpoint heads recomputed from seq 1 over the stored bytes: a second pass over the log up to
// the last checkpoint's head (bounded memory: one hash per checkpoint).
void CheckCheckpointHeadsByWalk(const ledger::Log& log, AuditReplay& replay) {
  if (replay.wanted().empty()) return;
  std::map<uint64_t, ledger::Hash> at;
  for (const auto& [hs, rec] : replay.wanted()) at[hs];
  Must(WalkChains(log, replay.wanted().rbegin()->first, &at));
  for (const auto& [hs, rec] : replay.wanted())
    if (hs != 0 && at[hs] != rec) ChainMissesCheckpoint(replay, hs, rec);
}

// Checkpoint heads of a log that verified. A directory: every link holds, so hash(k) is the
// prevHash of event k + 1 (a checkpoint's head is before the checkpoint, so k + 1 <= head) —
// one point read per checkpoint instead of a second pass over the chain. A cluster's positions
// are not consecutive and its chains are per partition: the second pass.
void CheckCheckpointHeadsOfVerifiedLog(const ledger::Log& log, AuditReplay& replay) {
  if (log.replicated()) return CheckCheckpointHeadsByWalk(log, replay);
  for (const auto& [hs, rec] : replay.wanted()) {
    if (hs == 0) continue;
    const std::string bytes = Must(log.Get(hs + 1));
    ledger::Hash h{};
    Must(ledger::DecodeEvent(hs + 1, bytes,
                             [&](schemas::Event::Reader e) { h = ToHash(e.getPrevHash()); }));
    if (h != rec) ChainMissesCheckpoint(replay, hs, rec);
  }
}

// The replay of a log that did not verify: a Scan of its own (it stops at an event that does
// not decode), and the checkpoint heads recomputed from seq 1 over the stored bytes.
void ReplayUnverifiedLog(const ledger::Log& log, const ledger::VerifyReport& report, uint64_t head,
                         bool quiet, AuditReplay& replay) {
  Progress progress("replay", head, quiet);
  Status s = log.Scan(1, 0, [&](const ledger::EventView& v) {
    if ((v.seq & 0xFFF) == 0) progress.Set(v.seq);
    replay.Visit(v);
    return true;
  });
  if (!s.ok()) {
    // A value that does not decode: Verify() has reported it (or reports it here).
    const uint64_t seq = s.error().seq;
    if (report.first_bad_seq != seq)
      replay.problems().push_back({seq, "", "replay stopped: " + s.error().message});
  }
  if (s.ok()) CheckCheckpointHeadsByWalk(log, replay);
}

// `audit --store`: which store, ledger and partitions (and how far each was applied).
json StoreJson(const std::string& dir, const ledger::StoreInfo& info) {
  json applied = json::object();
  for (uint32_t p = 0; p < info.partitions; ++p)
    applied[fmt::format("HB_{}_{}", info.ledger, p)] = info.applied_seqs[p];
  return {{"dir", dir},
          {"ledger", info.ledger},
          {"partitions", info.partitions},
          {"applied_seqs", applied}};
}

std::string StoreLine(const std::string& dir, const ledger::StoreInfo& info) {
  std::string applied;
  for (uint32_t p = 0; p < info.partitions; ++p)
    applied +=
        fmt::format("{}HB_{}_{} up to seq {}", p ? ", " : "", info.ledger, p, info.applied_seqs[p]);
  return fmt::format("store {}: ledger '{}', {} partition(s) audited ({})", dir, info.ledger,
                     info.partitions, applied);
}

// What an audit looked at, for its report: the store of `audit --store` (null otherwise).
struct AuditScope {
  const std::string* store_dir = nullptr;
  const ledger::StoreInfo* store = nullptr;
};

void PrintAuditResult(App& app, const ledger::VerifyReport& report, uint64_t head,
                      size_t clients_replayed, const std::vector<Problem>& problems,
                      const AuditReplay& replay, const AuditScope& scope) {
  const bool ok = problems.empty();
  const uint64_t first_bad = ok ? 0 : FirstBadSeq(problems);
  if (app.json) {
    json j = {{"ok", ok},
              {"events_checked", report.events_checked},
              {"head_seq", head},
              {"head_hash", report.ok ? json(ledger::HexOf(report.head_hash)) : json(nullptr)},
              {"clients_replayed", clients_replayed},
              {"projection_checkpoints_checked", replay.checkpoints_checked()},
              {"first_bad_seq", ok ? json(nullptr) : SeqOrNull(first_bad)},
              {"problems", ProblemsJson(problems)}};
    if (scope.store) j["store"] = StoreJson(*scope.store_dir, *scope.store);
    json& cd = j["client_digests"] = json::object();
    for (const auto& [id, d] : replay.digests().Result())
      cd[id] = {{"events", d.first}, {"digest", d.second}};
    app.PrintJson(j);
  } else if (ok) {
    if (scope.store) app.Say(StoreLine(*scope.store_dir, *scope.store));
    app.Say(fmt::format(
        "audit ok: {} events checked, chain head {} at seq {}, {} client(s) replayed, every close "
        "follows from the rules, {} projection checkpoint(s) equal a fresh fold",
        report.events_checked, ledger::HexOf(report.head_hash), head, clients_replayed,
        replay.checkpoints_checked()));
  } else {
    if (scope.store) app.Say(StoreLine(*scope.store_dir, *scope.store));
    PrintProblems(problems);
    app.Say(fmt::format("audit FAILED: {} problem(s); first bad seq {}", problems.size(),
                        first_bad ? std::to_string(first_bad) : "-"));
  }
  std::fflush(stdout);
  if (!ok)
    Fail(Code::kRefused,
         fmt::format("audit found {} problem(s); the first bad seq is {}", problems.size(),
                     first_bad ? std::to_string(first_bad) : "unknown (see the problems)"));
}

// One pass over the log when it is intact: Verify's events scan (chain, head, indexes,
// decoding) also feeds the replay. When Verify finds a problem, what the replay saw is
// dropped and the log is replayed on its own, as far as it decodes, so the findings are
// those of a verify followed by a full replay.
void RunAudit(App& app, const std::string& only_client, const AuditScope& scope = {}) {
  ledger::Log& log = app.log();
  RequireClient(app, only_client);
  std::vector<Problem> problems;
  const uint64_t head = log.head_seq();

  auto replay = std::make_unique<AuditReplay>(log, only_client);
  ledger::VerifyReport report;
  {
    Progress progress("audit", head, app.json);
    report = Must(log.VerifyAndVisit(
        [&](const ledger::EventView& v) {
          replay->Visit(v);
          return true;
        },
        [&](uint64_t done, uint64_t) { progress.Set(done); }));
  }
  if (report.ok) {
    CheckCheckpointHeadsOfVerifiedLog(log, *replay);
  } else {
    problems.push_back({report.first_bad_seq, "", report.problem});
    replay = std::make_unique<AuditReplay>(log, only_client);
    ReplayUnverifiedLog(log, report, head, app.json, *replay);
  }
  replay->FinishProjectionCheckpoints();
  for (Problem& p : replay->problems()) problems.push_back(std::move(p));
  size_t clients_replayed = 0;
  for (const auto& [id, st] : replay->states()) {
    ++clients_replayed;
    for (const auto& p : st.problems()) problems.push_back({p.seq, id, p.what});
  }
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return (a.seq ? a.seq : UINT64_MAX) < (b.seq ? b.seq : UINT64_MAX);
  });
  PrintAuditResult(app, report, head, clients_replayed, problems, *replay, scope);
}

// `audit --store DIR`: a serve node's store, opened read-only (also while the node runs: the
// store as it was at the open), audited as a ledger; its ledger and partitions come from it.
void RunStoreAudit(App& app, const std::string& only_client, const std::string& dir) {
  std::unique_ptr<ledger::Log> log = Must(ledger::Log::OpenFollowStore(dir));
  const ledger::StoreInfo info = Must(log->store_info());
  app.adopt_log(log.get());
  struct Release {
    App& app;
    ~Release() { app.adopt_log(nullptr); }
  } release{app};
  RunAudit(app, only_client, AuditScope{&dir, &info});
}

// ---- checkpoints -------------------------------------------------------------------------

void RunKeygen(App& app, const std::string& out) {
  if (out.empty()) Fail(Code::kInvalid, "keygen needs --out FILE");
  const std::string pub = out + ".pub";
  for (const std::string& p : {out, pub})
    if (::access(p.c_str(), F_OK) == 0)
      Fail(Code::kRefused,
           fmt::format("{} exists; refusing to overwrite a key (choose another --out)", p));
  if (sodium_init() < 0) Fail(Code::kIo, "libsodium failed to initialise");
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::string sk_hex = HexBytes(sk, sizeof sk) + "\n";
  sodium_memzero(sk, sizeof sk);
  WriteNewFile(out, sk_hex, 0600);
  sodium_memzero(sk_hex.data(), sk_hex.size());
  WriteNewFile(pub, HexBytes(pk, sizeof pk) + "\n", 0644);
  if (app.json)
    app.PrintJson({{"secret_key_file", out},
                   {"public_key_file", pub},
                   {"public_key", HexBytes(pk, sizeof pk)}});
  else
    app.Say(fmt::format(
        "wrote {} (secret, mode 0600) and {} (public key {}); give the .pub file to your auditors",
        out, pub, HexBytes(pk, sizeof pk)));
}

// What a checkpoint signs: the head of a directory's one chain; on a cluster each partition's
// last position and chain (a walk over the log, so each pair is consistent even while others
// append). A concurrent append after this only means a checkpoint covers an earlier head, which
// is still true. Refused when the log has no event: there would be nothing to prove.
std::vector<ChainHead> HeadsToSign(ledger::Log& log) {
  std::vector<ChainHead> heads;
  if (!log.replicated()) {
    if (log.head_seq() > 0) heads.push_back({log.head_seq(), log.head_hash()});
  } else {
    std::map<uint32_t, ChainHead> chains;
    Must(WalkChains(log, 0, nullptr, &chains));
    for (const auto& [scope, c] : chains) heads.push_back(c);
  }
  if (heads.empty())
    Fail(Code::kRefused,
         "the ledger has no events yet: a checkpoint signs the events before it; append some "
         "first");
  return heads;
}

// checkpoint's answer: the first checkpoint's fields (a directory writes one) and the list.
void PrintCheckpoints(App& app, uint64_t first_seq, const std::vector<ChainHead>& heads,
                      const std::string& pk_hex) {
  json list = json::array();
  for (size_t i = 0; i < heads.size(); ++i) {
    list.push_back({{"seq", first_seq + i},
                    {"head_seq", heads[i].seq},
                    {"head_hash", ledger::HexOf(heads[i].hash)}});
    if (!app.json)
      app.Say(fmt::format("checkpoint #{} signed: head seq {}, hash {} (key {})", first_seq + i,
                          heads[i].seq, ledger::HexOf(heads[i].hash), pk_hex));
  }
  if (app.json)
    app.PrintJson({{"seq", first_seq},
                   {"head_seq", heads[0].seq},
                   {"head_hash", ledger::HexOf(heads[0].hash)},
                   {"public_key", pk_hex},
                   {"checkpoints", list}});
}

void RunCheckpoint(App& app, const std::string& key_file) {
  if (sodium_init() < 0) Fail(Code::kIo, "libsodium failed to initialise");
  std::string text = ReadWholeFile(key_file, "the key file");
  auto sk = ParseHex(text, crypto_sign_SECRETKEYBYTES);
  sodium_memzero(text.data(), text.size());
  if (!sk)
    Fail(
        Code::kInvalid,
        fmt::format("{} is not a secret key made by `hourbank keygen` (128 hex digits)", key_file));
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(pk, reinterpret_cast<const unsigned char*>(sk->data()));

  ledger::Log& log = app.log();
  const uint32_t version = Must(log.StreamVersion(projections::kAuditStream));
  const std::vector<ChainHead> heads = HeadsToSign(log);
  projections::Decision d;
  for (const ChainHead& head : heads) {
    const std::string msg = CheckpointMessage(head.seq, head.hash);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()),
                         msg.size(), reinterpret_cast<const unsigned char*>(sk->data()));
    ledger::EventDraft draft;
    auto root = draft.root();
    root.setEffectiveAtUs(app.now_us());
    auto c = root.getBody().initCheckpoint();
    c.setHeadSeq(head.seq);
    c.setHeadHash(capnp::Data::Reader(head.hash.data(), head.hash.size()));
    c.setPublicKey(capnp::Data::Reader(pk, sizeof pk));
    c.setSignature(capnp::Data::Reader(sig, sizeof sig));
    d.events.push_back(std::move(draft));
  }
  sodium_memzero(sk->data(), sk->size());
  AppendOutcome out = app.Append(projections::kAuditStream, d, version);
  PrintCheckpoints(app, out.result.first_seq, heads, HexBytes(pk, sizeof pk));
}

// A "$audit" checkpoint as verify judges it.
struct Cp {
  uint64_t seq = 0, head_seq = 0;
  ledger::Hash head_hash{};
  bool signature_ok = false, key_matches = false, chain_ok = false;
  bool covers_itself = false;  // its head is at or after itself in its own chain
};

// Pass 1: the checkpoints (read from the "$audit" stream index; a checkpoint whose index entry
// was removed is also missing from Verify's view, which reports that), signatures checked
// against `pk`.
std::vector<Cp> ReadCheckpoints(ledger::Log& log, const std::string& pk, Status* s) {
  std::vector<Cp> cps;
  *s = log.Scan(1, 0, [&](const ledger::EventView& v) {
    if (!v.event.getBody().isCheckpoint()) return true;
    auto c = v.event.getBody().getCheckpoint();
    Cp cp;
    cp.seq = v.seq;
    cp.head_seq = c.getHeadSeq();
    cp.head_hash = ToHash(c.getHeadHash());
    cp.covers_itself = CoversItself(log, cp.seq, cp.head_seq);
    cp.key_matches = c.getPublicKey().size() == pk.size() &&
                     std::memcmp(c.getPublicKey().begin(), pk.data(), pk.size()) == 0;
    const std::string msg = CheckpointMessage(cp.head_seq, cp.head_hash);
    cp.signature_ok =
        c.getHeadHash().size() == 32 && c.getSignature().size() == crypto_sign_BYTES &&
        crypto_sign_verify_detached(c.getSignature().begin(),
                                    reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                    reinterpret_cast<const unsigned char*>(pk.data())) == 0;
    cps.push_back(cp);
    return true;
  });
  return cps;
}

// Pass 2: the chain recomputed over the stored bytes up to the last checkpoint's head; one
// entry per checkpoint's head seq.
std::map<uint64_t, ledger::Hash> ChainAtCheckpoints(ledger::Log& log, const std::vector<Cp>& cps,
                                                    std::vector<Problem>* problems) {
  std::map<uint64_t, ledger::Hash> chain_at;
  for (const Cp& cp : cps) chain_at[cp.head_seq];
  uint64_t last = 0;
  for (const Cp& cp : cps) last = std::max(last, cp.head_seq);
  if (last > 0) {
    Status s2 = WalkChains(log, last, &chain_at);
    if (!s2.ok()) problems->push_back({s2.error().seq, "", s2.error().message});
  }
  return chain_at;
}

// Judges each checkpoint (key, signature, chain) into `problems`; the checkpoints as JSON.
json JudgeCheckpoints(std::vector<Cp>& cps, std::map<uint64_t, ledger::Hash>& chain_at,
                      uint64_t head_seq, const std::string& pub_file,
                      std::vector<Problem>* problems, size_t* good) {
  json arr = json::array();
  for (Cp& cp : cps) {
    cp.chain_ok = cp.head_seq > 0 && !cp.covers_itself && cp.head_seq <= head_seq &&
                  chain_at[cp.head_seq] == cp.head_hash;
    if (!cp.key_matches)
      problems->push_back(
          {cp.seq, "$audit", "checkpoint signed with another key than " + pub_file});
    else if (!cp.signature_ok)
      problems->push_back(
          {cp.seq, "$audit", "checkpoint signature does not verify: the checkpoint was altered"});
    if (!cp.chain_ok)
      problems->push_back({cp.head_seq ? cp.head_seq : cp.seq, "$audit",
                           fmt::format("the chain recomputed from seq 1 does not pass through "
                                       "checkpoint #{}'s head hash at seq {}: "
                                       "events up to seq {} were rewritten",
                                       cp.seq, cp.head_seq, cp.head_seq)});
    if (cp.key_matches && cp.signature_ok && cp.chain_ok) ++*good;
    arr.push_back({{"seq", cp.seq},
                   {"head_seq", cp.head_seq},
                   {"head_hash", ledger::HexOf(cp.head_hash)},
                   {"key_matches", cp.key_matches},
                   {"signature_ok", cp.signature_ok},
                   {"chain_ok", cp.chain_ok}});
  }
  return arr;
}

// Prints verify's answer; fails with kRefused when there are problems.
void AnswerVerify(App& app, std::vector<Problem>& problems, uint64_t events_checked,
                  const json& arr, size_t good) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return (a.seq ? a.seq : UINT64_MAX) < (b.seq ? b.seq : UINT64_MAX);
  });
  const bool ok = problems.empty();
  const uint64_t first_bad = ok ? 0 : FirstBadSeq(problems);
  if (app.json) {
    app.PrintJson({{"ok", ok},
                   {"events_checked", events_checked},
                   {"checkpoints", arr},
                   {"verified_checkpoints", good},
                   {"first_bad_seq", ok ? json(nullptr) : SeqOrNull(first_bad)},
                   {"problems", ProblemsJson(problems)}});
  } else if (ok) {
    app.Say(
        fmt::format("verify ok: {} events, {} checkpoint(s) signed with this key, the chain passes "
                    "through each",
                    events_checked, good));
  } else {
    PrintProblems(problems);
    app.Say(fmt::format("verify FAILED: {} problem(s)", problems.size()));
  }
  std::fflush(stdout);
  if (!ok)
    Fail(Code::kRefused,
         fmt::format("verify found {} problem(s); the first bad seq is {}", problems.size(),
                     first_bad ? std::to_string(first_bad) : "unknown"));
}

void RunVerify(App& app, const std::string& pub_file) {
  if (sodium_init() < 0) Fail(Code::kIo, "libsodium failed to initialise");
  auto pk = ParseHex(ReadWholeFile(pub_file, "the public key file"), crypto_sign_PUBLICKEYBYTES);
  if (!pk)
    Fail(Code::kInvalid,
         fmt::format("{} is not a public key made by `hourbank keygen` (64 hex digits)", pub_file));
  ledger::Log& log = app.log();
  std::vector<Problem> problems;
  ledger::VerifyReport report;
  {
    Progress progress("verify", log.head_seq(), app.json);
    report = Must(log.Verify([&](uint64_t done, uint64_t) { progress.Set(done); }));
  }
  if (!report.ok) problems.push_back({report.first_bad_seq, "", report.problem});
  Status s = Status::Ok();
  std::vector<Cp> cps = ReadCheckpoints(log, *pk, &s);
  if (!s.ok()) problems.push_back({s.error().seq, "", s.error().message});
  std::map<uint64_t, ledger::Hash> chain_at;
  if (s.ok()) {
    chain_at = ChainAtCheckpoints(log, cps, &problems);
  } else {
    for (const Cp& cp : cps) chain_at[cp.head_seq];
  }
  size_t good = 0;
  json arr = JudgeCheckpoints(cps, chain_at, log.head_seq(), pub_file, &problems, &good);
  if (good == 0 && problems.empty())
    problems.push_back(
        {0, "$audit", "no checkpoint signed with this key; run `hourbank checkpoint --key FILE`"});
  AnswerVerify(app, problems, report.events_checked, arr, good);
}

// ---- export ------------------------------------------------------------------------------

// "YYYY-MM-DD" of the first / last day of a month.
std::string FirstDay(uint32_t month) {
  return fmt::format("{:04}-{:02}-01", month / 100, month % 100);
}
std::string LastDay(uint32_t month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const uint32_t y = month / 100, m = month % 100;
  int d = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) d = 29;
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}
std::string DateOf(const projections::Zone& zone, int64_t us) {
  const int32_t d = zone.Local(us).yyyymmdd;
  return fmt::format("{:04}-{:02}-{:02}", d / 10000, d / 100 % 100, d % 100);
}

class Output {
 public:
  explicit Output(const std::string& path) {
    if (!path.empty()) {
      if (::access(path.c_str(), F_OK) == 0)
        Fail(Code::kRefused, fmt::format("{} exists; refusing to overwrite it", path));
      file_.open(path, std::ios::binary);
      if (!file_) Fail(Code::kIo, fmt::format("cannot create {}: {}", path, std::strerror(errno)));
      path_ = path;
    }
  }
  std::ostream& out() { return path_.empty() ? std::cout : file_; }
  void Close() {
    out().flush();
    if (!out()) Fail(Code::kIo, fmt::format("cannot write {}", path_.empty() ? "stdout" : path_));
  }

 private:
  std::ofstream file_;
  std::string path_;
};

void ExportJsonl(App& app, const std::vector<std::string>& clients, bool all, uint64_t from_seq,
                 std::ostream& out) {
  ledger::Log& log = app.log();
  const projections::Zone utc = projections::Zone::Utc();
  auto emit = [&](const ledger::EventView& v) {
    if (v.seq < from_seq) return true;
    json j = EventJson(v.seq, v.event, utc);
    j["recorded_at_us"] = v.event.getRecordedAtUs();
    j["effective_at_us"] = v.event.getEffectiveAtUs();
    j["prev_hash"] =
        HexBytes(std::string_view(reinterpret_cast<const char*>(v.event.getPrevHash().begin()),
                                  v.event.getPrevHash().size()));
    if (v.event.getIdempotencyKey().size() > 0) {
      auto rec =
          Must(log.LookupClientKey(Str(v.event.getClientId()), Str(v.event.getIdempotencyKey())));
      if (rec) j["key_digest"] = ledger::HexOf(rec->request_digest);
    }
    j["raw"] = Base64(v.bytes);
    out << j.dump() << '\n';
    return true;
  };
  Progress progress("export", log.head_seq(), app.json || out.rdbuf() == std::cout.rdbuf());
  if (all) {
    Must(log.Scan(std::max<uint64_t>(from_seq, 1), 0, [&](const ledger::EventView& v) {
      if ((v.seq & 0xFFF) == 0) progress.Set(v.seq);
      return emit(v);
    }));
  } else {
    for (const std::string& c : clients) Must(log.ReadStream(c, 1, 0, emit));
  }
}

void ExportCsv(App& app, const std::vector<std::string>& clients, uint64_t from_seq,
               std::ostream& out) {
  out << "seq,client,type,recorded_at,effective_at,month,kind,task,staff,minutes,count,urgent,off_"
         "hours,late,"
         "bucket,block_seq,entry_seq,pool,amount_minor,currency,paid_by,note\r\n";
  ledger::Log& log = app.log();
  for (const std::string& id : clients) {
    ClientState s = app.LoadClient(id);  // entries retained: paid_by for every month
    std::map<uint64_t, std::pair<uint32_t, std::string>> paid;  // entry seq -> (month, paid by)
    for (uint32_t m = s.first_month(); m != 0 && m <= s.FirstOpenMonth();
         m = projections::NextMonth(m))
      for (const auto& e : s.EntriesFor(m))
        paid[e.seq] = {m, reports::PaidBy(e, reports::Lang::kEn)};
    const projections::Zone& zone = s.zone();
    Must(log.ReadStream(id, 1, 0, [&](const ledger::EventView& v) {
      if (v.seq < from_seq) return true;
      auto b = v.event.getBody();
      std::vector<std::string> f(22);
      f[0] = std::to_string(v.seq);
      f[1] = id;
      f[2] = EventType(v.event);
      f[3] = zone.FormatIso(v.event.getRecordedAtUs());
      f[4] = zone.FormatIso(v.event.getEffectiveAtUs());
      f[19] = s.currency();
      auto month = [](uint32_t m) { return m ? projections::FormatMonth(m) : std::string(); };
      auto bucket = [](schemas::Bucket bk) {
        switch (bk) {
          case schemas::Bucket::ALLOWANCE:
            return "allowance";
          case schemas::Bucket::RESERVE:
            return "reserve";
          case schemas::Bucket::BLOCK:
            return "block";
        }
        return "unknown";
      };
      if (b.isWorkLogged()) {
        auto w = b.getWorkLogged();
        auto it = paid.find(v.seq);
        f[5] = it != paid.end() ? month(it->second.first) : month(w.getBookedMonth());
        f[6] = Str(w.getKind());
        f[7] = Str(w.getTask());
        f[8] = Str(w.getStaff());
        f[9] = std::to_string(w.getMinutes());
        f[10] = std::to_string(w.getCount());
        f[11] = w.getUrgent() ? "true" : "false";
        f[12] = w.getOffHours() == schemas::OffHours::YES  ? "yes"
                : w.getOffHours() == schemas::OffHours::NO ? "no"
                                                           : "auto";
        f[13] = w.getLate() ? "true" : "false";
        f[20] = it != paid.end() ? it->second.second : "";
        f[21] = Str(w.getNote());
      } else if (b.isWorkVoided()) {
        auto w = b.getWorkVoided();
        f[5] = month(w.getCreditMonth());
        f[9] = std::to_string(w.getCreditMinutes());
        f[16] = std::to_string(w.getEntrySeq());
        f[18] = std::to_string(w.getCreditMinor());
        f[21] = Str(w.getReason());
      } else if (b.isHoursCarriedOver()) {
        auto h = b.getHoursCarriedOver();
        f[5] = month(h.getMonth());
        f[9] = std::to_string(h.getMinutes());
        f[14] = "reserve";
        f[21] = fmt::format("reserve after: {} minutes", h.getReserveAfterMinutes());
      } else if (b.isHoursExpired()) {
        auto h = b.getHoursExpired();
        f[5] = month(h.getMonth());
        f[9] = std::to_string(h.getMinutes());
        f[14] = bucket(h.getBucket());
        if (h.getBucket() == schemas::Bucket::BLOCK) f[15] = std::to_string(h.getBlockSeq());
      } else if (b.isSlotsExpired()) {
        auto h = b.getSlotsExpired();
        f[5] = month(h.getMonth());
        f[10] = std::to_string(h.getCount());
        f[17] = Str(h.getPool());
      } else if (b.isPeriodClosed()) {
        auto p = b.getPeriodClosed();
        f[5] = month(p.getMonth());
        f[18] = std::to_string(p.getTotalMinor());
        f[21] = fmt::format(
            "invoice frozen: {} lines, digest {}", p.getLineCount(),
            HexBytes(std::string_view(reinterpret_cast<const char*>(p.getLinesDigest().begin()),
                                      p.getLinesDigest().size())));
      } else {
        return true;  // not a work or closing entry
      }
      std::string line;
      for (size_t i = 0; i < f.size(); ++i) {
        if (i) line += ',';
        line += CsvCell(f[i]);  // RFC 4180 + OWASP formula prefix (escape.h)
      }
      out << line << "\r\n";
      return true;
    }));
  }
}

// hledger journal. Commodities: "MIN" (minutes of work, integers, so nothing is rounded) and
// the client's currency code (amounts in major units with the currency's minor digits).
// Accounts per client ID:
//   clients:ID:allowance  the month's included minutes, drawn by work, emptied at close
//   clients:ID:reserve    carried-over minutes, drawn by work, expired at contract end
//   clients:ID:blocks     prepaid hour blocks bought, drawn by work, expired past their date
//   clients:ID:expired    minutes that expired at closes (allowance, reserve and blocks)
//   clients:ID:invoiced   frozen invoice totals of closed months (money)
//   clients:ID:paid       payments (money, negative), so clients:ID money = outstanding
//   work:ID               hour work counted (after surcharge multipliers)
//   work:ID:overage       minutes beyond every bucket (billed at the overage rate)
//   work:ID:unlimited     minutes of unlimited plans beyond the allowance
//   contract:ID:included, contract:ID:purchased, revenue:ID, cash:ID   the other sides
// Closed months post their recorded closing figures; open months (up to the current one)
// post the work counted so far, so balances equal `hourbank balance` now when every month
// before the current one is closed.
// The hledger amounts of one client: minutes, and money in its currency.
struct HledgerAmounts {
  int digits = 2;
  std::string cur;
  std::string Money(int64_t minor) const {
    return projections::FormatAmount(minor, digits) + " " + cur;
  }
  static std::string Mins(int64_t m) { return std::to_string(m) + " MIN"; }
};

// Blocks and payments, from the client's stream.
void PostStream(App& app, const ClientState& s, const std::string& id, const HledgerAmounts& am,
                std::ostream& out) {
  const std::string a = "clients:" + id;
  Must(app.log().ReadStream(id, 1, 0, [&](const ledger::EventView& v) {
    auto b = v.event.getBody();
    const std::string date = DateOf(s.zone(), v.event.getEffectiveAtUs());
    if (b.isHoursPurchased()) {
      auto h = b.getHoursPurchased();
      out << fmt::format("{} hour block #{}\n    {}:blocks  {}\n    contract:{}:purchased  {}\n\n",
                         date, v.seq, a, am.Mins(h.getMinutes()), id, am.Mins(-h.getMinutes()));
    } else if (b.isPaymentReceived()) {
      auto p = b.getPaymentReceived();
      out << fmt::format("{} payment #{}{}\n    cash:{}  {}\n    {}:paid  {}\n\n", date, v.seq,
                         p.getRef().size() ? " ref " + HledgerText(Str(p.getRef())) : "", id,
                         am.Money(p.getAmountMinor()), a, am.Money(-p.getAmountMinor()));
    }
    return true;
  }));
}

// A month's allowance and the work counted in it (with overage and unlimited minutes).
void PostMonthWork(const MonthEval& ev, uint32_t m, const std::string& id, std::ostream& out) {
  const auto mins = HledgerAmounts::Mins;
  const std::string a = "clients:" + id;
  const std::string mt = projections::FormatMonth(m);
  if (ev.included_minutes != 0)
    out << fmt::format("{} allowance {}\n    {}:allowance  {}\n    contract:{}:included  {}\n\n",
                       FirstDay(m), mt, a, mins(ev.included_minutes), id,
                       mins(-ev.included_minutes));
  if (ev.used_minutes == 0) return;
  out << fmt::format("{} work {}{}\n    work:{}  {}\n", ev.closed ? LastDay(m) : FirstDay(m), mt,
                     ev.closed ? "" : " (open month, so far)", id,
                     mins(ev.used_minutes - ev.overage_minutes - ev.unlimited_minutes));
  if (ev.allowance_used_minutes)
    out << fmt::format("    {}:allowance  {}\n", a, mins(-ev.allowance_used_minutes));
  if (ev.reserve_used_minutes)
    out << fmt::format("    {}:reserve  {}\n", a, mins(-ev.reserve_used_minutes));
  if (ev.block_used_minutes)
    out << fmt::format("    {}:blocks  {}\n", a, mins(-ev.block_used_minutes));
  out << "\n";
  if (ev.overage_minutes)
    out << fmt::format("{} overage {}\n    work:{}:overage  {}\n    contract:{}:billed  {}\n\n",
                       ev.closed ? LastDay(m) : FirstDay(m), mt, id, mins(ev.overage_minutes), id,
                       mins(-ev.overage_minutes));
  if (ev.unlimited_minutes)
    out << fmt::format(
        "{} unlimited {}\n    work:{}:unlimited  {}\n    contract:{}:unlimited  {}\n\n",
        ev.closed ? LastDay(m) : FirstDay(m), mt, id, mins(ev.unlimited_minutes), id,
        mins(-ev.unlimited_minutes));
}

// A closed month's carry-over, expiry and frozen invoice.
void PostClose(const MonthEval& ev, uint32_t m, const std::string& id, const HledgerAmounts& am,
               std::ostream& out) {
  const auto mins = HledgerAmounts::Mins;
  const std::string a = "clients:" + id;
  const std::string mt = projections::FormatMonth(m);
  std::string close;
  if (ev.carried_minutes)
    close += fmt::format("    {}:reserve  {}\n    {}:allowance  {}\n", a, mins(ev.carried_minutes),
                         a, mins(-ev.carried_minutes));
  if (ev.expired_allowance_minutes)
    close +=
        fmt::format("    {}:expired  {}\n    {}:allowance  {}\n", a,
                    mins(ev.expired_allowance_minutes), a, mins(-ev.expired_allowance_minutes));
  if (ev.expired_reserve_minutes)
    close += fmt::format("    {}:expired  {}\n    {}:reserve  {}\n", a,
                         mins(ev.expired_reserve_minutes), a, mins(-ev.expired_reserve_minutes));
  if (ev.expired_block_minutes)
    close += fmt::format("    {}:expired  {}\n    {}:blocks  {}\n", a,
                         mins(ev.expired_block_minutes), a, mins(-ev.expired_block_minutes));
  if (!close.empty())
    out << fmt::format("{} close {}: carry-over and expiry\n{}\n", LastDay(m), mt, close);
  if (ev.invoice.total_minor != 0)
    out << fmt::format("{} invoice {} (frozen)\n    {}:invoiced  {}\n    revenue:{}  {}\n\n",
                       LastDay(m), mt, a, am.Money(ev.invoice.total_minor), id,
                       am.Money(-ev.invoice.total_minor));
}

// The journal of the accounts described above the amounts struct, for each client.
void ExportHledger(App& app, const std::vector<std::string>& clients, std::ostream& out) {
  out << "; hourbank export --format hledger\n"
         "; commodities: MIN = minutes of work; money in the client's currency (ISO 4217 code).\n"
         "; see docs/auditors.md for the accounts.\n\n";
  for (const std::string& id : clients) {
    ClientState s = app.LoadClient(id);
    if (!s.has_contract()) continue;
    auto digits_r = projections::CurrencyMinorDigits(s.currency());
    const HledgerAmounts am{digits_r.ok() ? digits_r.value() : 2, s.currency()};
    PostStream(app, s, id, am, out);

    const uint32_t now_month = s.zone().MonthOf(app.now_us());
    uint32_t last = std::max(s.FirstOpenMonth(), now_month);
    if (s.last_month() != 0 && last > s.last_month())
      last = std::max(s.last_month(), s.last_closed_month());
    for (uint32_t m = s.first_month(); m != 0 && m <= last; m = projections::NextMonth(m)) {
      const MonthEval ev = s.Evaluate(m);
      PostMonthWork(ev, m, id, out);
      if (ev.closed) PostClose(ev, m, id, am, out);
    }
  }
}

// ---- import-log --------------------------------------------------------------------------

// One line of the export, parsed; refuses (one error line) anything that is not ours.
ImportedLine ParseImportLine(const std::string& path, uint64_t n, const std::string& line) {
  if (line.size() > kImportLineBytesMax)
    Fail(Code::kLimit,
         fmt::format("{}:{}: line longer than {} bytes", path, n, kImportLineBytesMax));
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("raw") || !j["raw"].is_string() ||
      !j.contains("seq") || !j["seq"].is_number_unsigned())
    Fail(Code::kInvalid,
         fmt::format("{}:{}: not a line of `hourbank export --format jsonl` (needs seq and raw); "
                     "a truncated file?",
                     path, n));
  ImportedLine out;
  out.line = n;
  out.seq = j["seq"].get<uint64_t>();
  auto bytes = FromBase64(j["raw"].get<std::string>());
  if (!bytes) Fail(Code::kInvalid, fmt::format("{}:{}: raw is not base64", path, n));
  out.bytes = std::move(*bytes);
  Status decodes = ledger::DecodeForeignEvent(out.bytes, [](schemas::Event::Reader) {});
  if (!decodes.ok())
    Fail(Code::kInvalid,
         fmt::format("{}:{}: raw is not an event: {}", path, n, decodes.error().message));
  if (j.contains("key_digest") && j["key_digest"].is_string()) {
    auto d = ParseHex(j["key_digest"].get<std::string>(), 32);
    if (!d) Fail(Code::kInvalid, fmt::format("{}:{}: key_digest is not 64 hex digits", path, n));
    ledger::Hash h;
    std::memcpy(h.data(), d->data(), h.size());
    out.key_digest = h;
  }
  return out;
}

// Byte for byte (a directory's export into a directory): same seqs, same chain head.
void ImportRaw(App& app, const std::string& path, const std::vector<ImportedLine>& lines) {
  ledger::Log& log = app.log();
  uint64_t imported = 0;
  for (const ImportedLine& l : lines) {
    auto r = log.AppendRaw(l.bytes, l.key_digest);
    if (!r.ok()) {
      Error e = r.error();
      e.message = fmt::format(
          "{}:{} (seq {}): {}{}", path, l.line, l.seq, e.message,
          imported == 0 ? "; import-log needs a whole-ledger export (no CLIENT, no --from-seq)"
                        : "");
      Fail(e);
    }
    ++imported;
  }
  const ledger::VerifyReport report = Must(log.Verify());
  if (!report.ok)
    Fail(Code::kCorruption, fmt::format("imported {} events but the ledger does not verify: {}",
                                        imported, report.problem));
  if (app.json)
    app.PrintJson({{"imported", imported},
                   {"head_seq", log.head_seq()},
                   {"head_hash", ledger::HexOf(log.head_hash())}});
  else
    app.Say(fmt::format("imported {} events; head seq {}, hash {}", imported, log.head_seq(),
                        ledger::HexOf(log.head_hash())));
}

// The whole file is read and checked before anything is written (a bad or cut line writes
// nothing), and must be a whole export. A directory's export into a directory is copied byte
// for byte; every other move (to or from a cluster) is re-stamped (log_move.h).
void RunImportLog(App& app, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(Code::kNotFound, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  ledger::Log& log = app.log();
  if (log.head_seq() != 0 || !Must(log.ListStreams()).empty())
    Fail(Code::kRefused,
         fmt::format(
             "the ledger at {} is not empty (head seq {}); import-log only fills an empty ledger "
             "(run `hourbank init` in a new directory, or use a new --ledger-name)",
             app.ledger_dir, log.head_seq()));
  std::vector<ImportedLine> lines;
  std::string line;
  uint64_t n = 0;
  // Bounded: one step per line of the file; each line is at most kImportLineBytesMax.
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    lines.push_back(ParseImportLine(path, n, line));
  }
  if (lines.empty()) Fail(Code::kInvalid, fmt::format("{} holds no events", path));
  const bool from_directory = CheckWholeExport(path, lines);
  if (!log.replicated() && from_directory)
    ImportRaw(app, path, lines);
  else
    ImportRestamped(app, path, lines);
}

void RegisterExport(CLI::App& cli, App& app) {
  // ---- export
  struct ExportArgs {
    std::string client, format, out;
    uint64_t from_seq = 0;
  };
  auto ea = std::make_shared<ExportArgs>();
  auto* ex = cli.add_subcommand("export",
                                "The log in a portable form: jsonl (lossless), csv, hledger\n"
                                "  e.g. hourbank export --format jsonl --out ledger.jsonl");
  ex->add_option("CLIENT", ea->client,
                 "only this client (default: every stream; csv and hledger: every client)");
  ex->add_option("--format", ea->format, "jsonl | csv | hledger")
      ->required()
      ->check(CLI::IsMember({"jsonl", "csv", "hledger"}));
  ex->add_option("--from-seq", ea->from_seq, "start at this seq (jsonl, csv)");
  ex->add_option("--out", ea->out, "write to FILE (refuses to overwrite) instead of stdout");
  ex->callback([&app, ea] {
    RequireClient(app, ea->client);
    std::vector<std::string> clients =
        ea->client.empty() ? app.ClientIds() : std::vector<std::string>{ea->client};
    Output out(ea->out);
    if (ea->format == "jsonl")
      ExportJsonl(app, clients, ea->client.empty(), ea->from_seq, out.out());
    else if (ea->format == "csv")
      ExportCsv(app, clients, ea->from_seq, out.out());
    else {
      if (ea->from_seq)
        Fail(Code::kInvalid,
             "--from-seq does not apply to hledger (a journal needs every month); omit it");
      ExportHledger(app, clients, out.out());
    }
    out.Close();
  });
}

}  // namespace

void RegisterAuditCommands(CLI::App& cli, App& app) {
  // ---- audit
  struct AuditArgs {
    std::string client, store;
  };
  auto audit_args = std::make_shared<AuditArgs>();
  auto* audit = cli.add_subcommand(
      "audit",
      "Verify the hash chain and indexes, replay every client and check every close\n"
      "  e.g. hourbank audit --json; hourbank audit acme; hourbank audit --store /var/lib/node1");
  audit->add_option("CLIENT", audit_args->client,
                    "replay only this client (the chain is always checked whole)");
  audit->add_option("--store", audit_args->store,
                    "audit a serve node's store (`serve --store DIR`) instead of --log: read-only, "
                    "also while the node runs (docs/replicated-log.md)");
  audit->callback([&app, audit_args] {
    if (audit_args->store.empty()) return RunAudit(app, audit_args->client);
    RunStoreAudit(app, audit_args->client, audit_args->store);
  });

  // ---- keygen
  auto keygen_out = std::make_shared<std::string>();
  auto* keygen =
      cli.add_subcommand("keygen",
                         "Make an Ed25519 key pair for signed checkpoints (FILE and FILE.pub)\n"
                         "  e.g. hourbank keygen --out ops.key");
  keygen
      ->add_option("--out", *keygen_out,
                   "secret key file (mode 0600); the public key goes to FILE.pub")
      ->required();
  keygen->callback([&app, keygen_out] { RunKeygen(app, *keygen_out); });

  // ---- checkpoint
  auto cp_key = std::make_shared<std::string>();
  auto* cp =
      cli.add_subcommand("checkpoint",
                         "Append a signed checkpoint of the chain head to the $audit stream\n"
                         "  e.g. hourbank checkpoint --key ops.key");
  cp->add_option("--key", *cp_key, "secret key file from `hourbank keygen`")->required();
  cp->callback([&app, cp_key] { RunCheckpoint(app, *cp_key); });

  // ---- verify
  auto vf_pub = std::make_shared<std::string>();
  auto* vf = cli.add_subcommand(
      "verify",
      "Check every checkpoint's signature and that the chain still passes through it\n"
      "  e.g. hourbank verify --pubkey ops.key.pub --json");
  vf->add_option("--pubkey", *vf_pub, "public key file (FILE.pub from `hourbank keygen`)")
      ->required();
  vf->callback([&app, vf_pub] { RunVerify(app, *vf_pub); });

  RegisterExport(cli, app);

  // ---- import-log
  auto il_file = std::make_shared<std::string>();
  auto* il = cli.add_subcommand(
      "import-log",
      "Re-append a jsonl export byte for byte into an EMPTY ledger (same chain head)\n"
      "  e.g. hourbank --ledger new init && hourbank --ledger new import-log ledger.jsonl");
  il->add_option("FILE", *il_file, "a file from `hourbank export --format jsonl` (whole ledger)")
      ->required();
  il->callback([&app, il_file] { RunImportLog(app, *il_file); });
}

}  // namespace hourbank::cli
