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

}  // namespace

Result<RecoveryReport> Recover(const std::string& from, const std::string& to, int64_t now_us) {
  RecoveryReport rep;
  rep.from = from;
  rep.to = to;
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
  const fs::path evidence = fs::path(to) / "recovery";
  HB_TRY(MakePrivateDir(fs::path(to)));
  HB_TRY(MakePrivateDir(evidence / "wal"));

  // 1. Keep the WAL as found, before anything reads it through RocksDB.
  std::map<uint64_t, std::string> from_wal;  // seq -> bytes; bounded by the WAL size
  uint64_t wal_head = 0;                     // the highest head_seq any readable WAL record set
  auto wals = wal::WalFiles(from);
  if (!wals.ok()) return wals.error();
  for (const std::string& w : *wals) {
    const fs::path copy = evidence / "wal" / fs::path(w).filename();
    fs::copy_file(w, copy, ec);
    if (ec) return Error::Io(fmt::format("cannot keep a copy of {}: {}", w, ec.message()));
    ::chmod(copy.c_str(), S_IRUSR | S_IWUSR);
    auto damage = wal::CheckWalFile(copy.string());
    if (!damage.ok()) return damage.error();
    {
      // Events in records RocksDB's reader would skip (it drops the rest of a block after a
      // bad record): read with our own framing reader, checksums verified.
      std::ifstream in(copy, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      EventPuts handler(&from_wal);
      struct Head {
        EventPuts* h;
        uint64_t* out;
        ~Head() { *out = std::max(*out, h->head()); }
      } keep{&handler, &wal_head};
      for (std::string& record : wal::ReadableRecords(bytes)) {
        if (record.size() < 12) continue;
        rocksdb::WriteBatch batch(std::move(record));
        (void)batch.Iterate(&handler);  // a malformed batch: the puts before the fault count
      }
    }
    const std::string name = fs::path(w).filename().string();
    if (!*damage) {
      rep.wal_findings.push_back(fmt::format("{}: intact", name));
    } else {
      rep.wal_findings.push_back(fmt::format("{}: {} at byte {}{}", name, (*damage)->problem,
                                             (*damage)->offset,
                                             (*damage)->torn_tail ? " (an unfinished write)" : ""));
    }
  }

  // 2. The damaged ledger, read-only, every readable WAL record applied.
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
  Log& out = **made;

  uint64_t expected = 1;
  bool chain_intact = true;
  std::optional<Pending> pending;
  std::optional<Error> failure;
  auto lose = [&](uint64_t a, uint64_t b) {
    if (a > b) return;
    if (!rep.lost.empty() && rep.lost.back().second + 1 == a)
      rep.lost.back().second = b;
    else
      rep.lost.emplace_back(a, b);
    rep.lost_count += b - a + 1;
  };
  auto flush = [&]() -> Status {
    if (!pending) return Status::Ok();
    AppendRequest req;
    req.client_id = pending->client;
    if (!pending->key.empty()) {
      // The key's first events were copied before the loss: these cannot join its record
      // (a retry would now be answered as a replay), so they are appended without it.
      auto taken = out.LookupKey(pending->key);
      if (!taken.ok()) return taken.error();
      if (*taken) {
        rep.keys_dropped.push_back(pending->key);
        for (EventDraft& d : pending->drafts) d.root().setIdempotencyKey("");
        pending->key.clear();
      }
    }
    req.idempotency_key = pending->key;
    if (!pending->key.empty()) {
      auto rec = (*damaged)->LookupKey(pending->key);
      if (rec.ok() && *rec) req.request_digest = (*rec)->request_digest;
    }
    req.events = std::move(pending->drafts);
    auto r = out.Append(std::move(req));
    if (!r.ok()) return r.error();
    for (size_t i = 0; i < pending->old_seqs.size(); ++i) {
      rep.reappended.emplace_back(pending->old_seqs[i], r->first_seq + i);
    }
    pending.reset();
    return Status::Ok();
  };

  std::vector<capnp::word> scratch;
  auto visit = [&](uint64_t seq, std::string_view bytes) -> bool {
    rep.highest_seq_read = std::max(rep.highest_seq_read, seq);
    if (seq < expected) return true;  // cannot happen in key order; ignore
    if (seq > expected) {
      lose(expected, seq - 1);
      chain_intact = false;
    }
    expected = seq + 1;
    std::string client, key;
    EventDraft draft;
    bool has_body = false;
    Status st = codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
      client = std::string(e.getClientId().cStr(), e.getClientId().size());
      key = std::string(e.getIdempotencyKey().cStr(), e.getIdempotencyKey().size());
      if (!chain_intact) draft.message().setRoot(e);
      has_body = true;
    });
    if (chain_intact && st.ok()) {
      // Keep the original request digest of the key, so a retry of the original request
      // still gets its original answer.
      std::optional<Hash> digest;
      if (!key.empty()) {
        auto rec = (*damaged)->LookupKey(key);
        if (rec.ok() && *rec) digest = (*rec)->request_digest;
      }
      if (out.AppendRaw(bytes, digest).ok()) {
        ++rep.copied;
        return true;
      }
    }
    if (chain_intact) {
      // From here on: append anew (decode again, now copying the event).
      chain_intact = false;
      has_body = false;
      st = codec::Decode(seq, bytes, scratch, [&](schemas::Event::Reader e) {
        draft.message().setRoot(e);
        has_body = true;
      });
    }
    if (!st.ok() || !has_body || !ValidClientId(client)) {
      lose(seq, seq);
      return true;
    }
    if (pending && (pending->client != client || pending->key != key || key.empty())) {
      if (Status f = flush(); !f.ok()) {
        failure = f.error();
        return false;
      }
    }
    if (!pending) pending = Pending{client, key, {}, {}};
    pending->old_seqs.push_back(seq);
    pending->drafts.push_back(std::move(draft));
    return true;
  };
  // The events RocksDB has (tables and the WAL records it could replay), merged in seq order
  // with those only our WAL reader found.
  auto extra = from_wal.begin();
  bool stopped = false;
  Status scanned = (*damaged)->ScanStored([&](uint64_t seq, std::string_view bytes) {
    for (; extra != from_wal.end() && extra->first < seq; ++extra) {
      if (!visit(extra->first, extra->second)) return !(stopped = true);
    }
    if (extra != from_wal.end() && extra->first == seq) ++extra;
    if (!visit(seq, bytes)) return !(stopped = true);
    return true;
  });
  if (!scanned.ok()) return scanned.error();
  for (; !stopped && extra != from_wal.end(); ++extra) {
    if (!visit(extra->first, extra->second)) break;
  }
  if (failure) return *failure;
  HB_TRY(flush());
  if (rep.damaged_head >= expected) lose(expected, rep.damaged_head);

  auto verified = out.Verify();
  if (!verified.ok()) return verified.error();
  if (!verified->ok) {
    return Error::Corruption(
        fmt::format("the recovered ledger at {} does not verify: {}", to, verified->problem));
  }
  rep.new_head = out.head_seq();
  rep.new_head_hash = out.head_hash();
  // Durable: appends above were not synced one by one; closing and opening again replays the
  // WAL into synced table files.
  made->reset();
  {
    auto reopened = Log::Open(to, Options{});
    if (!reopened.ok()) return reopened.error();
    if ((*reopened)->head_seq() != rep.new_head) {
      return Error::Io(fmt::format("the recovered ledger at {} lost events on reopening", to));
    }
  }

  std::string t;
  t += fmt::format("hourbank recover report\n");
  t += fmt::format("recovered at (µs since the epoch, UTC): {}\n", now_us);
  t += fmt::format("from: {} (not changed)\nto:   {}\n", from, to);
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
    t += "next: run `hourbank --ledger " + to +
         " audit`: balances and closes that depended on lost events will show as problems\n";
  }
  rep.text = t;
  {
    const fs::path report = evidence / "report.txt";
    std::ofstream f(report, std::ios::binary | std::ios::trunc);
    f << t;
    f.close();
    if (!f) return Error::Io(fmt::format("cannot write {}", report.string()));
    ::chmod(report.c_str(), S_IRUSR | S_IWUSR);
  }
  return rep;
}

}  // namespace hourbank::ledger
