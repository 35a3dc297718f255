#include "ledger/recover.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <capnp/serialize.h>
#include <fmt/format.h>

#include <rocksdb/write_batch.h>

#include "ledger/codec.h"
#include "ledger/format.h"
#include "ledger/wal.h"

namespace hourbank::ledger {

namespace {

namespace fs = std::filesystem;

std::string Ranges(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::string out;
  for (const auto& [a, b] : ranges) {
    if (!out.empty()) out += ", ";
    out += a == b ? std::to_string(a) : fmt::format("{}-{}", a, b);
  }
  return out.empty() ? "none" : out;
}

Status MakePrivateDir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (!ec) fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Error::Io(fmt::format("cannot create {}: {}", p.string(), ec.message()));
  return Status::Ok();
}

// The events a write batch puts into the "events" column family (id 1: the first one a ledger
// creates after "default"); each must also decode as the event of its key's seq.
class EventPuts : public rocksdb::WriteBatch::Handler {
 public:
  explicit EventPuts(std::map<uint64_t, std::string>* found) : found_(found) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    if (cf == 4 && std::string_view(key.data(), key.size()) == format::kMetaHeadSeq &&
        value.size() == 8) {
      head_ = std::max(head_, format::ReadBE(std::string_view(value.data(), value.size()), 8));
    }
    if (cf != 1) return rocksdb::Status::OK();
    auto seq = format::ParseSeq(std::string_view(key.data(), key.size()));
    if (!seq) return rocksdb::Status::OK();
    std::string_view bytes(value.data(), value.size());
    if (codec::Decode(*seq, bytes, scratch_, [](schemas::Event::Reader) {}).ok())
      found_->emplace(*seq, bytes);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  uint64_t head() const { return head_; }

 private:
  std::map<uint64_t, std::string>* found_;
  std::vector<capnp::word> scratch_;
  uint64_t head_ = 0;
};

// A run of salvaged events for one re-append: same stream, same idempotency key.
struct Pending {
  std::string client, key;
  std::vector<uint64_t> old_seqs;
  std::vector<EventDraft> drafts;
};

// Refuses paths recover must not use: a missing source, or a target that exists and is not an
// empty directory (or is the source itself).
Status CheckPaths(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (from.empty() || to.empty()) return Error::Invalid("recover needs --from DIR and --to NEWDIR");
  if (!fs::exists(fs::path(from) / "CURRENT", ec)) {
    return Error::NotFound(fmt::format("no ledger at {} (no CURRENT file)", from));
  }
  if (fs::exists(to, ec)) {
    if (fs::equivalent(from, to, ec))
      return Error::Invalid("--to must be a new directory, not --from");
    if (!fs::is_directory(to, ec) || !fs::is_empty(to, ec)) {
      return Error::Invalid(fmt::format(
          "{} exists and is not empty; recover writes a NEW ledger: give a new directory", to));
    }
  }
  return Status::Ok();
}

// The events in a WAL file's readable records (RocksDB's reader would skip the rest of a block
// after a bad record; our own framing reader verifies checksums and goes on). Returns the
// highest head_seq those records set.
uint64_t ReadWalEvents(const fs::path& copy, std::map<uint64_t, std::string>* from_wal) {
  std::ifstream in(copy, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EventPuts handler(from_wal);
  for (std::string& record : wal::ReadableRecords(bytes)) {
    if (record.size() < 12) continue;
    rocksdb::WriteBatch batch(std::move(record));
    (void)batch.Iterate(&handler);  // a malformed batch: the puts before the fault count
  }
  return handler.head();
}

// Step 1: keep the WAL as found (copies in evidence/wal), before anything reads it through
// RocksDB; note each file's damage and collect the events of its readable records.
Status KeepWal(const std::string& from, const fs::path& evidence, RecoveryReport* rep,
               std::map<uint64_t, std::string>* from_wal, uint64_t* wal_head) {
  std::error_code ec;
  auto wals = wal::WalFiles(from);
  if (!wals.ok()) return wals.error();
  for (const std::string& w : *wals) {
    const fs::path copy = evidence / "wal" / fs::path(w).filename();
    fs::copy_file(w, copy, ec);
    if (ec) return Error::Io(fmt::format("cannot keep a copy of {}: {}", w, ec.message()));
    ::chmod(copy.c_str(), S_IRUSR | S_IWUSR);
    auto damage = wal::CheckWalFile(copy.string());
    if (!damage.ok()) return damage.error();
    *wal_head = std::max(*wal_head, ReadWalEvents(copy, from_wal));
    const std::string name = fs::path(w).filename().string();
    if (!*damage) {
      rep->wal_findings.push_back(fmt::format("{}: intact", name));
    } else {
      rep->wal_findings.push_back(
          fmt::format("{}: {} at byte {}{}", name, (*damage)->problem, (*damage)->offset,
                      (*damage)->torn_tail ? " (an unfinished write)" : ""));
    }
  }
  return Status::Ok();
}

// Step 2: every readable event of the damaged ledger, in seq order, into the new one: copied
// byte for byte up to the first loss, appended anew after it (runs of one stream and key
// batched into one append).
class Salvager {
 public:
  Salvager(Log& damaged, Log& out, RecoveryReport* rep)
      : damaged_(damaged), out_(out), rep_(*rep) {}

  // The events RocksDB has (tables and the WAL records it could replay), merged in seq order
  // with those only our WAL reader found.
  Status Run(const std::map<uint64_t, std::string>& from_wal) {
    auto extra = from_wal.begin();
    bool stopped = false;
    Status scanned = damaged_.ScanStored([&](uint64_t seq, std::string_view bytes) {
      for (; extra != from_wal.end() && extra->first < seq; ++extra) {
        if (!Visit(extra->first, extra->second)) return !(stopped = true);
      }
      if (extra != from_wal.end() && extra->first == seq) ++extra;
      if (!Visit(seq, bytes)) return !(stopped = true);
      return true;
    });
    if (!scanned.ok()) return scanned.error();
    for (; !stopped && extra != from_wal.end(); ++extra) {
      if (!Visit(extra->first, extra->second)) break;
    }
    if (failure_) return *failure_;
    HB_TRY(Flush());
    if (rep_.damaged_head >= expected_) Lose(expected_, rep_.damaged_head);
    return Status::Ok();
  }

 private:
  void Lose(uint64_t a, uint64_t b) {
    if (a > b) return;
    if (!rep_.lost.empty() && rep_.lost.back().second + 1 == a)
      rep_.lost.back().second = b;
    else
      rep_.lost.emplace_back(a, b);
    rep_.lost_count += b - a + 1;
  }

  // The original request digest of `key`, so a retry of the original request still gets its
  // original answer.
  std::optional<Hash> DigestOf(const std::string& key) const {
    if (key.empty()) return std::nullopt;
    auto rec = damaged_.LookupKey(key);
    if (rec.ok() && *rec) return (*rec)->request_digest;
    return std::nullopt;
  }

  // Appends the pending run anew.
  Status Flush() {
    if (!pending_) return Status::Ok();
    AppendRequest req;
    req.client_id = pending_->client;
    if (!pending_->key.empty()) {
      // The key's first events were copied before the loss: these cannot join its record
      // (a retry would now be answered as a replay), so they are appended without it.
      auto taken = out_.LookupKey(pending_->key);
      if (!taken.ok()) return taken.error();
      if (*taken) {
        rep_.keys_dropped.push_back(pending_->key);
        for (EventDraft& d : pending_->drafts) d.root().setIdempotencyKey("");
        pending_->key.clear();
      }
    }
    req.idempotency_key = pending_->key;
    if (auto digest = DigestOf(pending_->key)) req.request_digest = *digest;
    req.events = std::move(pending_->drafts);
    auto r = out_.Append(std::move(req));
    if (!r.ok()) return r.error();
    for (size_t i = 0; i < pending_->old_seqs.size(); ++i) {
      rep_.reappended.emplace_back(pending_->old_seqs[i], r->first_seq + i);
    }
    pending_.reset();
    return Status::Ok();
  }

  // One event; false stops the scan (failure_ says why).
  bool Visit(uint64_t seq, std::string_view bytes) {
    rep_.highest_seq_read = std::max(rep_.highest_seq_read, seq);
    if (seq < expected_) return true;  // cannot happen in key order; ignore
    if (seq > expected_) {
      Lose(expected_, seq - 1);
      chain_intact_ = false;
    }
    expected_ = seq + 1;
    std::string client, key;
    EventDraft draft;
    bool has_body = false;
    Status st = codec::Decode(seq, bytes, scratch_, [&](schemas::Event::Reader e) {
      client = std::string(e.getClientId().cStr(), e.getClientId().size());
      key = std::string(e.getIdempotencyKey().cStr(), e.getIdempotencyKey().size());
      if (!chain_intact_) draft.message().setRoot(e);
      has_body = true;
    });
    if (chain_intact_ && st.ok() && out_.AppendRaw(bytes, DigestOf(key)).ok()) {
      ++rep_.copied;
      return true;
    }
    if (chain_intact_) {
      // From here on: append anew (decode again, now copying the event).
      chain_intact_ = false;
      has_body = false;
      st = codec::Decode(seq, bytes, scratch_, [&](schemas::Event::Reader e) {
        draft.message().setRoot(e);
        has_body = true;
      });
    }
    if (!st.ok() || !has_body || !ValidClientId(client)) {
      Lose(seq, seq);
      return true;
    }
    return Queue(seq, std::move(client), std::move(key), std::move(draft));
  }

  // Adds an event to the pending run, flushing the run first if the event does not join it.
  bool Queue(uint64_t seq, std::string client, std::string key, EventDraft draft) {
    if (pending_ && (pending_->client != client || pending_->key != key || key.empty())) {
      if (Status f = Flush(); !f.ok()) {
        failure_ = f.error();
        return false;
      }
    }
    if (!pending_) pending_ = Pending{std::move(client), std::move(key), {}, {}};
    pending_->old_seqs.push_back(seq);
    pending_->drafts.push_back(std::move(draft));
    return true;
  }

  Log& damaged_;
  Log& out_;
  RecoveryReport& rep_;
  uint64_t expected_ = 1;
  bool chain_intact_ = true;
  std::optional<Pending> pending_;
  std::optional<Error> failure_;
  std::vector<capnp::word> scratch_;
};

// Step 3: the new ledger verifies, and (its appends not synced one by one) is made durable by
// closing it and opening it again, which replays the WAL into synced table files.
Status VerifyAndClose(std::unique_ptr<Log> out, const std::string& to, RecoveryReport* rep) {
  auto verified = out->Verify();
  if (!verified.ok()) return verified.error();
  if (!verified->ok) {
    return Error::Corruption(
        fmt::format("the recovered ledger at {} does not verify: {}", to, verified->problem));
  }
  rep->new_head = out->head_seq();
  rep->new_head_hash = out->head_hash();
  out.reset();
  auto reopened = Log::Open(to, Options{});
  if (!reopened.ok()) return reopened.error();
  if ((*reopened)->head_seq() != rep->new_head) {
    return Error::Io(fmt::format("the recovered ledger at {} lost events on reopening", to));
  }
  return Status::Ok();
}

std::string ReportText(const RecoveryReport& rep, const fs::path& evidence, int64_t now_us) {
  std::string t;
  t += fmt::format("hourbank recover report\n");
  t += fmt::format("recovered at (µs since the epoch, UTC): {}\n", now_us);
  t += fmt::format("from: {} (not changed)\nto:   {}\n", rep.from, rep.to);
  t += fmt::format("WAL files (copies kept in {}):\n", (evidence / "wal").string());
  for (const auto& f : rep.wal_findings) t += "  " + f + "\n";
  if (rep.wal_findings.empty()) t += "  none\n";
  t += fmt::format("head recorded in the damaged ledger: {}; highest seq read: {}\n",
                   rep.damaged_head, rep.highest_seq_read);
  t += fmt::format("copied byte for byte (same seqs and hashes): {}\n",
                   rep.copied ? fmt::format("seqs 1-{} ({} events)", rep.copied, rep.copied)
                              : std::string("none"));
  t += fmt::format("LOST: {} events: seqs {}\n", rep.lost_count, Ranges(rep.lost));
  if (std::any_of(rep.wal_findings.begin(), rep.wal_findings.end(),
                  [](const std::string& f) { return !f.ends_with(": intact"); })) {
    t += "  (events written after the last readable WAL record, if any, left no trace that can be "
         "counted)\n";
  }
  t += fmt::format("appended anew after the loss (new seq, recorded now): {} events\n",
                   rep.reappended.size());
  for (const auto& [o, n] : rep.reappended) t += fmt::format("  old seq {} -> new seq {}\n", o, n);
  for (const auto& k : rep.keys_dropped) {
    t += fmt::format(
        "  idempotency key '{}' stays with its events before the loss; the later ones were "
        "appended without it\n",
        k);
  }
  t += fmt::format("new ledger: head {} hash {}; hash chain and indexes verified\n", rep.new_head,
                   HexOf(rep.new_head_hash));
  if (rep.lost_count > 0 || !rep.reappended.empty()) {
    t += "next: run `hourbank --ledger " + rep.to +
         " audit`: balances and closes that depended on lost events will show as problems\n";
  }
  return t;
}

Status WriteReport(const fs::path& report, const std::string& text) {
  std::ofstream f(report, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return Error::Io(fmt::format("cannot write {}", report.string()));
  ::chmod(report.c_str(), S_IRUSR | S_IWUSR);
  return Status::Ok();
}

}  // namespace

Result<RecoveryReport> Recover(const std::string& from, const std::string& to, int64_t now_us) {
  RecoveryReport rep;
  rep.from = from;
  rep.to = to;
  HB_TRY(CheckPaths(from, to));
  const fs::path evidence = fs::path(to) / "recovery";
  HB_TRY(MakePrivateDir(fs::path(to)));
  HB_TRY(MakePrivateDir(evidence / "wal"));

  std::map<uint64_t, std::string> from_wal;  // seq -> bytes; bounded by the WAL size
  uint64_t wal_head = 0;                     // the highest head_seq any readable WAL record set
  HB_TRY(KeepWal(from, evidence, &rep, &from_wal, &wal_head));

  // The damaged ledger, read-only, every readable WAL record applied.
  Options salvage;
  salvage.salvage = true;
  salvage.event_bytes_max = UINT32_MAX;
  auto damaged = Log::Open(from, salvage);
  if (!damaged.ok()) return damaged.error();
  rep.damaged_head = std::max((*damaged)->head_seq(), wal_head);

  Options fresh;
  fresh.create_if_missing = true;
  fresh.durability = Durability::kNoSync;  // synced once at the end by closing; see below
  auto made = Log::Open(to, fresh);
  if (!made.ok()) return made.error();
  HB_TRY(Salvager(**damaged, **made, &rep).Run(from_wal));
  HB_TRY(VerifyAndClose(std::move(*made), to, &rep));

  rep.text = ReportText(rep, evidence, now_us);
  HB_TRY(WriteReport(evidence / "report.txt", rep.text));
  return rep;
}

}  // namespace hourbank::ledger
