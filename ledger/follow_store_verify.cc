// The audit of a serve node's store (FollowStore::Verify, `hourbank audit --store DIR`): every
// event checked as the cluster's verify checks its messages, and the store's own records ("A",
// "C", "V", "K", follow_store.h) compared with what the events give.
#include <map>

#include "ledger/codec.h"
#include "ledger/follow_store.h"
#include "ledger/follow_store_keys.h"
#include "ledger/log_impl.h"
#include "ledger/nats_frame.h"

namespace hourbank::ledger {

using namespace follow_keys;

// One walk over a store. The first problem found is kept and stops the walk.
class FollowStoreVerifier {
 public:
  FollowStoreVerifier(const FollowStore& store, const Visitor* visit,
                      const std::function<void(uint64_t, uint64_t)>& progress)
      : store_(store), visit_(visit), progress_(progress) {}

  Result<VerifyReport> Run() {
    HB_TRY(LoadApplied());
    if (!bad_) HB_TRY(WalkEvents());
    if (!bad_) CheckPartitionsComplete();
    if (!bad_) HB_TRY(CheckClientRecords());
    if (!bad_) HB_TRY(CheckVersionIndex());
    if (!bad_) HB_TRY(CheckKeyRecords());
    if (progress_) progress_(total_, total_);
    VerifyReport report;
    report.events_checked = events_checked_;
    report.head_hash = global_;
    if (bad_) {
      report.ok = false;
      report.first_bad_seq = bad_seq_;
      report.problem = problem_;
    }
    return report;
  }

 private:
  // The events of one message, as the walk collects them.
  struct Pending {
    uint32_t p = 0;
    uint64_t seq = 0;
    std::vector<std::string> events;
  };

  // Keeps the first problem; returns false (stop).
  bool Bad(uint64_t seq, std::string problem) {
    if (bad_) return false;
    bad_ = true;
    bad_seq_ = seq;
    problem_ = std::move(problem);
    return false;
  }
  std::string Stream(uint32_t p) const { return fmt::format("HB_{}_{}", store_.ledger(), p); }

  Status LoadApplied() {
    for (uint32_t p = 0; p < store_.partitions(); ++p) {
      auto a = store_.AppliedSeq(p);
      if (!a.ok()) return a.error();
      applied_.push_back(a.value());
      total_ += a.value();
    }
    next_.assign(applied_.size(), 1);
    return store_.Iterate("A", "A", [&](std::string_view k, std::string_view) {
      if (k.size() != 5 || format::ReadBE(k.substr(1), 4) >= store_.partitions()) {
        Bad(0, fmt::format("the store has an applied seq for a partition its ledger '{}' does not "
                           "have ({} partitions)",
                           store_.ledger(), store_.partitions()));
        return false;
      }
      return true;
    });
  }

  Status WalkEvents() {
    Pending msg;
    HB_TRY(store_.Iterate("E", "E", [&](std::string_view k, std::string_view v) {
      if (k.size() != 9) {
        Bad(0, fmt::format("the store has a malformed event key ({} bytes)", k.size()));
        return false;
      }
      const uint64_t pos = format::ReadBE(k.substr(1), 8);
      const NatsPos at = SplitNatsPosition(pos);
      if (!msg.events.empty() && (at.partition != msg.p || at.stream_seq != msg.seq)) {
        if (!Message(msg)) return false;
        msg.events.clear();
      }
      if (msg.events.empty()) {
        msg.p = at.partition;
        msg.seq = at.stream_seq;
      }
      if (at.index != msg.events.size()) {
        Bad(pos,
            fmt::format("position {}: event {} of message {} of {} without event {} before it", pos,
                        at.index, at.stream_seq, Stream(at.partition), msg.events.size()));
        return false;
      }
      msg.events.emplace_back(v);
      return true;
    }));
    if (!bad_ && !msg.events.empty()) Message(msg);
    return Status::Ok();
  }

  // The message's place in its partition: stream seqs 1 … applied without a gap.
  bool InOrder(const Pending& msg, uint64_t first) {
    if (msg.p >= store_.partitions()) {
      Bad(first, fmt::format("position {} is in partition {}; the store's ledger '{}' has {}",
                             first, msg.p, store_.ledger(), store_.partitions()));
    } else if (msg.seq != next_[msg.p]) {
      Bad(first, fmt::format("{}: the store holds message {} after message {} (a gap)",
                             Stream(msg.p), msg.seq, next_[msg.p] - 1));
    } else if (msg.seq > applied_[msg.p]) {
      Bad(first, fmt::format("{}: the store holds message {} beyond its applied seq {}",
                             Stream(msg.p), msg.seq, applied_[msg.p]));
    } else {
      ++next_[msg.p];
      return true;
    }
    return false;
  }

  // Checks one message's events as the cluster's verify does (the frame is rebuilt from the
  // events and the request digest of the key's record), then chains and visits them.
  bool Message(const Pending& msg) {
    const uint64_t first = NatsPosition(msg.p, msg.seq, 0);
    if (!InOrder(msg, first)) return false;
    std::string client, key;
    Status d = DecodeForeignEvent(msg.events[0], [&](schemas::Event::Reader e) {
      client = TextView(e.getClientId());
      key = TextView(e.getIdempotencyKey());
    });
    if (!d.ok()) return Bad(first, fmt::format("position {}: {}", first, d.error().message));
    if (!ValidClientId(client) || NatsPartitionOf(client, store_.partitions()) != msg.p) {
      Bad(first, fmt::format("message at position {} is for client '{}', which does not belong in "
                             "partition {}",
                             first, client, msg.p));
      return false;
    }
    std::optional<IdempotencyRecord> record;
    if (!key.empty()) {
      auto v = store_.GetValue(KeyKey(client, key));
      if (v.ok() && v.value()) record = format::ParseKeyValue(*v.value());
      if (!record) {
        Bad(first, fmt::format("client '{}': the store has no readable record of idempotency key "
                               "'{}' (its message at position {})",
                               client, key, first));
        return false;
      }
    }
    const std::string payload =
        nats_frame::Encode(record ? record->request_digest : Hash{}, msg.events);
    NatsLog::ClientCache& cache = clients_.try_emplace(client).first->second;
    if (Status a = ApplyNatsMessage(client, msg.p, msg.seq, payload, kNatsEventsPerMessageMax,
                                    cache, scratch_);
        !a.ok())
      return Bad(a.error().seq != 0 ? a.error().seq : first, a.error().message);
    if (record && (record->first_seq != first || record->count != msg.events.size())) {
      Bad(first,
          fmt::format("client '{}': the store's record of key '{}' names position {} ({} "
                      "events), its message is at position {} ({} events)",
                      client, key, record->first_seq, record->count, first, msg.events.size()));
      return false;
    }
    return Visit(msg, cache.version - static_cast<uint32_t>(msg.events.size()));
  }

  bool Visit(const Pending& msg, uint32_t version_before) {
    for (size_t i = 0; i < msg.events.size(); ++i) {
      global_ = ChainHash(global_, msg.events[i]);
      ++events_checked_;
      if (!visiting_) continue;
      const uint64_t pos = NatsPosition(msg.p, msg.seq, static_cast<uint32_t>(i));
      Status d = codec::Decode(version_before + i + 1, msg.events[i], scratch_,
                               [&](schemas::Event::Reader e) {
                                 visiting_ = (*visit_)(EventView{pos, msg.events[i], e});
                               });
      if (!d.ok()) return Bad(pos, d.error().message);
    }
    if (progress_ && ++messages_ % 1024 == 0) progress_(messages_, total_);
    return true;
  }

  void CheckPartitionsComplete() {
    for (uint32_t p = 0; p < store_.partitions() && !bad_; ++p)
      if (next_[p] - 1 != applied_[p])
        Bad(NatsPosition(p, next_[p], 0),
            fmt::format("{}: the store's applied seq is {} but it holds messages up to {} only",
                        Stream(p), applied_[p], next_[p] - 1));
  }

  // Each client's chain record ("C") equals the state its events give; no record is missing.
  Status CheckClientRecords() {
    size_t seen = 0;
    HB_TRY(store_.Iterate("C", "C", [&](std::string_view k, std::string_view v) {
      const std::string client(k.substr(1));
      auto it = clients_.find(client);
      if (it == clients_.end()) {
        Bad(0, fmt::format("the store has a chain record of client '{}', which has no events",
                           client));
        return false;
      }
      ++seen;
      if (v != EncodeClient(it->second)) {
        NatsLog::ClientCache stored;
        const bool readable = DecodeClient(v, stored);
        Bad(it->second.last_position,
            fmt::format("client '{}': the store's chain record ({}) does not match its events "
                        "(version {}, last message at position {})",
                        client,
                        readable ? fmt::format("version {}, last message at position {}",
                                               stored.version, stored.last_position)
                                 : "unreadable",
                        it->second.version, it->second.last_position));
        return false;
      }
      return true;
    }));
    if (!bad_ && seen != clients_.size()) {
      for (const auto& [client, cache] : clients_) {
        auto v = store_.GetValue(ClientKey(client));
        if (!v.ok()) return v.error();
        if (!v.value()) {
          Bad(cache.last_position,
              fmt::format("client '{}' has events but no chain record in the store", client));
          break;
        }
      }
    }
    return Status::Ok();
  }

  // Each version index entry ("V") names the event of that client and version; every version
  // 1 … the client's has one.
  Status CheckVersionIndex() {
    std::map<std::string, size_t, std::less<>> counted;
    HB_TRY(store_.Iterate("V", "V", [&](std::string_view k, std::string_view v) {
      auto parts = format::ParseStreamKey(k.substr(1));
      auto pos = format::ParseSeq(v);
      auto it = parts ? clients_.find(parts->client_id) : clients_.end();
      if (!parts || !pos || it == clients_.end()) {
        Bad(0, "the store's version index has an entry of no client with events");
        return false;
      }
      const std::string client(parts->client_id);
      auto bytes = store_.GetValue(EventKey(*pos));
      bool names_it = false;
      if (bytes.ok() && bytes.value()) {
        Status d = DecodeForeignEvent(*bytes.value(), [&](schemas::Event::Reader e) {
          names_it = TextView(e.getClientId()) == client && e.getSeq() == parts->version;
        });
        names_it = names_it && d.ok();
      }
      if (!names_it || parts->version > it->second.version) {
        Bad(*pos, fmt::format("client '{}': the store's version index names position {} for "
                              "version {}, which is not that event",
                              client, *pos, parts->version));
        return false;
      }
      ++counted[client];
      return true;
    }));
    CheckCounts(counted, "version index entries",
                [](const NatsLog::ClientCache& c) { return size_t{c.version}; });
    return Status::Ok();
  }

  // After a scan of one kind of record: each client has as many as its events give.
  void CheckCounts(const std::map<std::string, size_t, std::less<>>& counted, std::string_view what,
                   const std::function<size_t(const NatsLog::ClientCache&)>& want) {
    for (const auto& [client, cache] : clients_) {
      if (bad_) return;
      auto it = counted.find(client);
      const size_t n = it == counted.end() ? 0 : it->second;
      if (n != want(cache))
        Bad(cache.last_position, fmt::format("client '{}': the store has {} {} where its events "
                                             "give {}",
                                             client, n, what, want(cache)));
    }
  }

  // Each key record ("K") is one the client's messages carry, with their position and count.
  Status CheckKeyRecords() {
    std::map<std::string, size_t, std::less<>> counted;
    HB_TRY(store_.Iterate("K", "K", [&](std::string_view k, std::string_view v) {
      const std::string_view rest = k.substr(1);
      const size_t nul = rest.find('\0');
      const std::string client(rest.substr(0, nul));
      const std::string key(nul == std::string_view::npos ? "" : rest.substr(nul + 1));
      auto it = clients_.find(client);
      const IdempotencyRecord* want = nullptr;
      if (it != clients_.end()) {
        auto w = it->second.keys.find(key);
        if (w != it->second.keys.end()) want = &w->second;
      }
      if (want == nullptr || v != EncodeKeyRecord(*want)) {
        Bad(want ? want->first_seq : 0,
            fmt::format("client '{}': the store's record of idempotency key '{}' is not one its "
                        "events carry",
                        client, key));
        return false;
      }
      ++counted[client];
      return true;
    }));
    CheckCounts(counted, "idempotency key records",
                [](const NatsLog::ClientCache& c) { return c.keys.size(); });
    return Status::Ok();
  }

  const FollowStore& store_;
  const Visitor* visit_;
  bool visiting_ = visit_ != nullptr;
  const std::function<void(uint64_t, uint64_t)>& progress_;
  std::vector<uint64_t> applied_;  // per partition, the "A" record
  std::vector<uint64_t> next_;     // per partition, the stream seq the walk expects next
  std::map<std::string, NatsLog::ClientCache, std::less<>> clients_;
  std::vector<capnp::word> scratch_;
  Hash global_{};
  uint64_t events_checked_ = 0;
  uint64_t total_ = 0;  // messages, for progress
  uint64_t messages_ = 0;
  bool bad_ = false;
  uint64_t bad_seq_ = 0;
  std::string problem_;
};

Result<VerifyReport> FollowStore::Verify(
    const std::function<void(uint64_t done, uint64_t total)>& progress,
    const Visitor* visit) const {
  return FollowStoreVerifier(*this, visit, progress).Run();
}

Result<Hash> FollowStore::HeadHash() const {
  Hash head{};
  HB_TRY(Iterate("E", "E", [&](std::string_view, std::string_view bytes) {
    head = ChainHash(head, bytes);
    return true;
  }));
  return head;
}

}  // namespace hourbank::ledger
