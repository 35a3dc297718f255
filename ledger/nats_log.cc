// The Log on a NATS JetStream cluster: open/create, append, reads, verify (see nats_log.h and
// docs/replicated-log.md). Only this file and nats_frame.cc know NATS.
#include "ledger/nats_log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <thread>

#include <capnp/dynamic.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <kj/exception.h>
#include <nats/nats.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "ledger/codec.h"
#include "ledger/nats_frame.h"

namespace hourbank::ledger {

namespace {

constexpr std::string_view kMetaText = "hourbank-nats-log v1 partitions=";
constexpr uint32_t kConflictRetriesMax = 64;  // lost races with other writers of the same client
// nats-server 2.10+: "duplicate message id is in process" (2.9 answers an ack with duplicate).
constexpr int kJSDuplicateInProcessErr = 10158;

std::string_view TextOf(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

int64_t NowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}
int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Error NatsError(natsStatus s, std::string_view what) {
  const char* last = nats_GetLastError(nullptr);
  return Error::Io(fmt::format("nats: {}: {}{}{}", what, natsStatus_GetText(s),
                               last && *last ? ": " : "", last ? last : ""));
}

bool HasBody(schemas::Event::Reader root) {
  auto body = capnp::toDynamic(root).get("body").as<capnp::DynamicStruct>();
  KJ_IF_MAYBE (field, body.which()) {
    return body.has(*field);
  }
  return false;
}

bool ValidLedgerName(std::string_view n) {
  if (n.empty() || n.size() > 32) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// The seq field of a stored event, read before the full check (codec::Decode wants it).
Result<uint64_t> PeekSeq(std::string_view bytes, std::vector<capnp::word>& scratch) {
  if (bytes.size() % sizeof(capnp::word) != 0 || bytes.empty()) {
    return Error::Corruption(
        fmt::format("an event is {} bytes, not a whole number of words", bytes.size()));
  }
  // A fresh vector, not resize(): capnp::word is neither copyable nor movable (see codec.cc).
  if (scratch.size() != bytes.size() / sizeof(capnp::word))
    scratch = std::vector<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(scratch.data(), bytes.data(), bytes.size());
  uint64_t seq = 0;
  auto failure = kj::runCatchingExceptions([&] {
    capnp::ReaderOptions o;
    o.traversalLimitInWords = codec::kTraversalWordsMax;
    o.nestingLimit = codec::kNestingLimit;
    capnp::FlatArrayMessageReader r(kj::arrayPtr(scratch.data(), scratch.size()), o);
    seq = r.getRoot<schemas::Event>().getSeq();
  });
  if (failure != nullptr)
    return Error::Corruption("an event does not decode as a Cap'n Proto message");
  return seq;
}

}  // namespace

// ---------------------------------------------------------------------------------------

struct NatsLog::Conn {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ~Conn() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);
  }
};

Result<NatsLocation> ParseNatsLocation(std::string_view url, std::string_view ledger_name) {
  constexpr std::string_view kScheme = "nats://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Error::Invalid(
        fmt::format("'{}' is not a nats:// location (nats://host[:port][,host[:port]]…)", url));
  }
  if (!ValidLedgerName(ledger_name)) {
    return Error::Invalid(fmt::format(
        "ledger name '{}' is not valid: use 1 to 32 of a-z 0-9 _ - (--ledger-name)", ledger_name));
  }
  NatsLocation loc;
  loc.ledger = std::string(ledger_name);
  std::string_view rest = url.substr(kScheme.size());
  while (true) {
    size_t comma = rest.find(',');
    std::string_view host = rest.substr(0, comma);
    if (host.substr(0, kScheme.size()) == kScheme) host.remove_prefix(kScheme.size());
    if (host.empty() || host.size() > 255 || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
                 c == '[' || c == ']';
        })) {
      return Error::Invalid(fmt::format("'{}' in the nats location is not host[:port]", host));
    }
    std::string h(host);
    if (host.find(':') == std::string_view::npos) h += ":4222";
    loc.servers.push_back("nats://" + h);
    if (loc.servers.size() > 64)
      return Error::Invalid("the nats location names more than 64 servers");
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return loc;
}

uint32_t NatsPartitionOf(std::string_view client_id, uint32_t partitions) {
  uint64_t h = 1469598103934665603ull;
  for (char c : client_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return partitions == 0 ? 0 : static_cast<uint32_t>(h % partitions);
}

NatsLog::NatsLog(std::string location_text, NatsLocation where, Options options)
    : location_text_(std::move(location_text)),
      where_(std::move(where)),
      options_(std::move(options)) {}

NatsLog::~NatsLog() = default;

std::string NatsLog::StreamName(uint32_t partition) const {
  return fmt::format("HB_{}_{}", where_.ledger, partition);
}

std::string NatsLog::Subject(std::string_view client_id) const {
  return fmt::format("hb.{}.{}.c.{}", where_.ledger, NatsPartitionOf(client_id, partitions_),
                     client_id);
}

Result<std::unique_ptr<NatsLog>> NatsLog::Open(const std::string& url, const Options& options) {
  auto loc = ParseNatsLocation(url, options.ledger_name);
  if (!loc.ok()) return loc.error();
  if (options.nats_partitions > kNatsPartitionsMax) {
    return Error::Invalid(fmt::format("{} partitions asked; at most {}", options.nats_partitions,
                                      kNatsPartitionsMax));
  }
  std::unique_ptr<NatsLog> log(new NatsLog(url, std::move(loc).value(), options));
  HB_TRY(log->Connect());
  HB_TRY(log->OpenOrCreate());
  return log;
}

Status NatsLog::Connect() {
  natsOptions* o = nullptr;
  if (natsStatus s = natsOptions_Create(&o); s != NATS_OK) return NatsError(s, "options");
  std::vector<const char*> urls;
  for (const auto& s : where_.servers) urls.push_back(s.c_str());
  natsStatus s = natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, options_.nats_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 100);
  if (s != NATS_OK) {
    natsOptions_Destroy(o);
    return NatsError(s, "options");
  }
  conn_ = std::make_unique<Conn>();
  s = natsConnection_Connect(&conn_->nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    return Error::Io(
        fmt::format("cannot reach the NATS cluster at {}: {} (is nats-server running with -js?)",
                    location_text_, natsStatus_GetText(s)));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options_.nats_timeout_ms;
  if (s = natsConnection_JetStream(&conn_->js, conn_->nc, &jo); s != NATS_OK)
    return NatsError(s, "jetstream");
  return Status::Ok();
}

Status NatsLog::CreateStreams(uint32_t partitions) {
  std::vector<int64_t> replicas;
  if (options_.nats_replicas > 0) {
    replicas = {options_.nats_replicas};
  } else {
    replicas = {3, 2, 1};  // min(3, cluster size): the first the cluster accepts
  }
  for (uint32_t p = 0; p < partitions; ++p) {
    std::string name = StreamName(p);
    std::string subject = fmt::format("hb.{}.{}.c.>", where_.ledger, p);
    const char* subjects[] = {subject.c_str()};
    Error last = Error::Io("no replica count was tried");
    bool made = false;
    for (int64_t r : replicas) {
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = name.c_str();
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Storage = js_FileStorage;
      cfg.Replicas = r;
      cfg.DenyDelete = true;
      cfg.DenyPurge = true;
      if (options_.nats_duplicate_window_us > 0)
        cfg.Duplicates = options_.nats_duplicate_window_us * 1000;
      jsStreamInfo* si = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_AddStream(&si, conn_->js, &cfg, nullptr, &jerr);
      if (si != nullptr) jsStreamInfo_Destroy(si);
      if (s == NATS_OK || jerr == JSStreamNameExistErr) {
        made = true;
        break;
      }
      last = NatsError(s, fmt::format("creating stream {} with {} replicas", name, r));
    }
    if (!made) return last;
  }
  return Status::Ok();
}

namespace {

// The partition count of a meta record "<kMetaText><count>".
Result<uint32_t> ParseMetaPartitions(const std::string& text) {
  uint32_t p = 0;
  for (char c : text.substr(kMetaText.size())) {
    if (c < '0' || c > '9' || p > kNatsPartitionsMax)
      return Error::Corruption("the meta record's partition count is unreadable");
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p == 0 || p > kNatsPartitionsMax)
    return Error::Corruption("the meta record's partition count is out of range");
  return p;
}

// The ledger's meta stream, with `replicas` replicas or else the most of 3, 2, 1 the cluster
// accepts; an existing stream of that name counts as made.
Status CreateMetaStream(jsCtx* js, const std::string& meta_stream, const std::string& meta_subject,
                        int64_t replicas_option) {
  std::string subject = meta_subject;
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {subject.c_str()};
  cfg.Name = meta_stream.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.DenyDelete = true;
  cfg.DenyPurge = true;
  jsStreamInfo* si = nullptr;
  std::vector<int64_t> replicas =
      replicas_option > 0 ? std::vector<int64_t>{replicas_option} : std::vector<int64_t>{3, 2, 1};
  natsStatus cs = NATS_OK;
  for (int64_t r : replicas) {
    cfg.Replicas = r;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    cs = js_AddStream(&si, js, &cfg, nullptr, &jerr);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    si = nullptr;
    if (cs == NATS_OK || jerr == JSStreamNameExistErr) return Status::Ok();
  }
  return NatsError(cs, "creating the meta stream");
}

// Records the partition count as the meta stream's first message. Two creators racing: the
// expected "no message yet" lets exactly one record the count; *created says whether it was
// this one.
Status PublishMeta(jsCtx* js, const std::string& meta_subject, uint32_t p, bool* created) {
  std::string text = fmt::format("{}{}", kMetaText, p);
  natsMsg* mm = nullptr;
  if (natsStatus cs = natsMsg_Create(&mm, meta_subject.c_str(), nullptr, text.data(),
                                     static_cast<int>(text.size()));
      cs != NATS_OK) {
    return NatsError(cs, "meta message");
  }
  natsMsgHeader_Set(mm, "Nats-Expected-Last-Subject-Sequence", "0");
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus ps = js_PublishMsg(&ack, js, mm, nullptr, &jerr);
  natsMsg_Destroy(mm);
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (ps != NATS_OK && jerr != JSStreamWrongLastSequenceErr)
    return NatsError(ps, "recording the ledger's meta");
  *created = ps == NATS_OK;
  return Status::Ok();
}

}  // namespace

Status NatsLog::OpenOrCreate() {
  const std::string meta_stream = fmt::format("HB_{}_META", where_.ledger);
  const std::string meta_subject = fmt::format("hb.{}.meta", where_.ledger);
  bool created = false;  // this call recorded the meta (so error_if_exists does not apply)
  for (int attempt = 0; attempt < 2; ++attempt) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s =
        js_GetLastMsg(&m, conn_->js, meta_stream.c_str(), meta_subject.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
      std::string text(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
      natsMsg_Destroy(m);
      if (options_.error_if_exists && !created) {
        return Error::Invalid(
            fmt::format("ledger '{}' already exists on {}", where_.ledger, location_text_));
      }
      if (text.substr(0, kMetaText.size()) != kMetaText) {
        return Error::Corruption(fmt::format("ledger '{}' on {} has an unreadable meta record",
                                             where_.ledger, location_text_));
      }
      auto p = ParseMetaPartitions(text);
      if (!p.ok()) return p.error();
      if (options_.nats_partitions != 0 && options_.nats_partitions != *p) {
        return Error::Invalid(
            fmt::format("ledger '{}' has {} partitions; {} were asked (the count is fixed when the "
                        "ledger is made; leave the option out)",
                        where_.ledger, *p, options_.nats_partitions));
      }
      partitions_ = *p;
      return Status::Ok();
    }
    if (jerr != JSStreamNotFoundErr && jerr != JSNoMessageFoundErr && s != NATS_NOT_FOUND) {
      return NatsError(s, "reading the ledger's meta record");
    }
    if (!options_.create_if_missing) {
      return Error::NotFound(
          fmt::format("no ledger '{}' on the NATS cluster at {}; run `hourbank init --log {} "
                      "--ledger-name {}` first",
                      where_.ledger, location_text_, location_text_, where_.ledger));
    }
    if (options_.read_only) return Error::Invalid("a read-only open cannot create a ledger");
    const uint32_t p = options_.nats_partitions == 0 ? 1 : options_.nats_partitions;
    HB_TRY(CreateStreams(p));
    HB_TRY(CreateMetaStream(conn_->js, meta_stream, meta_subject, options_.nats_replicas));
    HB_TRY(PublishMeta(conn_->js, meta_subject, p, &created));
    // Read it back (ours or the winner's).
  }
  return Error::Io("the ledger's meta record could not be read back after creating it");
}

Result<std::optional<NatsLog::Message>> NatsLog::GetMessage(
    uint32_t p, uint64_t stream_seq, const std::string* next_by_subject) const {
  nlohmann::json req = {{"seq", stream_seq}};
  if (next_by_subject != nullptr) req["next_by_subj"] = *next_by_subject;
  const std::string body = req.dump();
  const std::string api = "$JS.API.STREAM.MSG.GET." + StreamName(p);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, conn_->nc, api.c_str(), body.data(),
                                        static_cast<int>(body.size()), options_.nats_timeout_ms);
  if (s != NATS_OK)
    return NatsError(s, fmt::format("reading {} seq {}", StreamName(p), stream_seq));
  std::string_view data(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  auto j = nlohmann::json::parse(data, nullptr, false);
  natsMsg_Destroy(reply);
  if (j.is_discarded() || !j.is_object())
    return Error::Io("nats: an unreadable reply to a message read");
  if (auto e = j.find("error"); e != j.end()) {
    if (e->is_object() && e->value("code", 0) == 404) return std::optional<Message>();
    return Error::Io(
        fmt::format("nats: reading {} seq {}: {}", StreamName(p), stream_seq,
                    e->is_object() ? e->value("description", std::string("error")) : "error"));
  }
  auto m = j.find("message");
  if (m == j.end() || !m->is_object())
    return Error::Io("nats: a message read answered without a message");
  Message out;
  out.stream_seq = m->value("seq", uint64_t{0});
  out.subject = m->value("subject", std::string());
  std::string b64 = m->value("data", std::string());
  out.data.resize(b64.size());
  size_t len = 0;
  if (!b64.empty() && sodium_base642bin(reinterpret_cast<unsigned char*>(out.data.data()),
                                        out.data.size(), b64.data(), b64.size(), nullptr, &len,
                                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Error::Io("nats: a message's data is not base64");
  }
  out.data.resize(len);
  if (out.stream_seq == 0 || out.stream_seq > kNatsStreamSeqMax)
    return Error::Io("nats: a message read has no valid seq");
  return std::optional<Message>(std::move(out));
}

Result<std::unique_ptr<NatsLog::BatchReader>> NatsLog::OpenBatchReader(uint32_t p,
                                                                       uint64_t from_seq) const {
  const std::string stream = StreamName(p);
  const std::string subject = fmt::format("hb.{}.{}.c.>", where_.ledger, p);
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = options_.nats_timeout_ms;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = from_seq;
  so.Config.AckPolicy = js_AckNone;  // nothing is redelivered: a lost batch is read again
  so.Config.MemoryStorage = true;
  so.Config.Replicas = 1;
  so.Config.InactiveThreshold = int64_t{30} * 1000 * 1000 * 1000;  // ns
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&sub, conn_->js, subject.c_str(), nullptr, &o, &so, &jerr);
  if (s != NATS_OK)
    return NatsError(s, fmt::format("a batched reader of {} from seq {}", stream, from_seq));
  return std::unique_ptr<BatchReader>(new BatchReader(*this, p, sub));
}

NatsLog::BatchReader::~BatchReader() {
  natsSubscription_Unsubscribe(sub_);  // deletes the ephemeral consumer
  natsSubscription_Destroy(sub_);
}

Result<std::vector<NatsLog::Message>> NatsLog::BatchReader::Next(size_t max) {
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, sub_, static_cast<int>(max),
                                        log_.options_.nats_timeout_ms, &jerr);
  if (s == NATS_TIMEOUT) return std::vector<Message>{};
  if (s != NATS_OK) return NatsError(s, "a batched read of " + log_.StreamName(p_));
  std::vector<Message> out;
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* m = list.Msgs[i];
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) break;  // the caller reads the rest directly
    Message msg;
    msg.stream_seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    const char* subject = natsMsg_GetSubject(m);
    msg.subject = subject != nullptr ? subject : "";
    msg.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    out.push_back(std::move(msg));
  }
  natsMsgList_Destroy(&list);
  return out;
}

Result<uint64_t> NatsLog::LastStreamSeq(uint32_t p) const {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  std::string name = StreamName(p);
  natsStatus s = js_GetStreamInfo(&si, conn_->js, name.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return NatsError(s, "stream info of " + name);
  uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  return last;
}

std::shared_ptr<NatsLog::ClientCache> NatsLog::CacheOf(std::string_view client_id) const {
  std::lock_guard<std::mutex> l(caches_mu_);
  auto it = caches_.find(client_id);
  if (it == caches_.end())
    it = caches_.emplace(std::string(client_id), std::make_shared<ClientCache>()).first;
  return it->second;
}

Status ApplyNatsMessage(std::string_view client_id, uint32_t partition, uint64_t stream_seq,
                        std::string_view payload, uint32_t events_max, NatsLog::ClientCache& cache,
                        std::vector<capnp::word>& scratch) {
  auto frame = nats_frame::Decode(payload, events_max);
  const uint64_t first = NatsPosition(partition, stream_seq, 0);
  if (!frame.ok())
    return Error::Corruption(
        fmt::format("message at position {}: {}", first, frame.error().message), first);
  std::string key;
  uint32_t version = cache.version;
  Hash head = cache.head;
  int64_t recorded = cache.last_recorded_us;
  for (size_t i = 0; i < frame->events.size(); ++i) {
    const uint64_t pos = NatsPosition(partition, stream_seq, static_cast<uint32_t>(i));
    const std::string_view bytes = frame->events[i];
    std::optional<Error> bad;
    Status s = codec::Decode(version + 1, bytes, scratch, [&](schemas::Event::Reader e) {
      if (TextOf(e.getClientId()) != client_id) {
        bad = Error::Corruption(
            fmt::format("event at position {} names client '{}' in client '{}''s subject", pos,
                        TextOf(e.getClientId()), client_id),
            pos);
      } else if (std::string_view(reinterpret_cast<const char*>(e.getPrevHash().begin()),
                                  e.getPrevHash().size()) !=
                 std::string_view(reinterpret_cast<const char*>(head.data()), head.size())) {
        bad = Error::Corruption(
            fmt::format("event at position {} (client '{}' #{}) does not link to the client's "
                        "previous event: the chain is broken",
                        pos, client_id, version + 1),
            pos);
      } else if (e.getRecordedAtUs() < recorded) {
        bad = Error::Corruption(
            fmt::format("event at position {} was recorded before the client's previous event",
                        pos),
            pos);
      } else if (i == 0) {
        key = std::string(TextOf(e.getIdempotencyKey()));
      } else if (TextOf(e.getIdempotencyKey()) != key) {
        bad = Error::Corruption(
            fmt::format("event at position {} carries another idempotency key than its message",
                        pos),
            pos);
      }
      recorded = e.getRecordedAtUs();
    });
    if (!s.ok()) {
      Error e = s.error();
      e.seq = pos;
      e.message = fmt::format("client '{}' event #{} at position {}: {}", client_id, version + 1,
                              pos, e.message);
      return e;
    }
    if (bad) return *bad;
    head = ChainHash(head, bytes);
    ++version;
  }
  if (!key.empty()) {
    if (cache.keys.count(key) != 0) {
      return Error::Corruption(
          fmt::format("idempotency key '{}' of client '{}' is used by two messages (the second at "
                      "position {})",
                      key, client_id, first),
          first);
    }
    cache.keys[key] = IdempotencyRecord{first, static_cast<uint32_t>(frame->events.size()),
                                        frame->request_digest};
  }
  cache.version = version;
  cache.head = head;
  cache.last_recorded_us = recorded;
  cache.last_subject_seq = stream_seq;
  cache.last_position = first;
  cache.last_count = static_cast<uint32_t>(frame->events.size());
  cache.last_payload_digest = Digest(payload);
  return Status::Ok();
}

Status NatsLog::Refresh(const std::string& client_id, ClientCache& cache) const {
  const uint32_t p = NatsPartitionOf(client_id, partitions_);
  const std::string subject = Subject(client_id);
  std::vector<capnp::word> scratch;
  while (true) {
    auto m = GetMessage(p, cache.last_subject_seq + 1, &subject);
    if (!m.ok()) return m.error();
    if (!m.value()) return Status::Ok();
    const Message& msg = *m.value();
    if (msg.stream_seq <= cache.last_subject_seq)
      return Error::Io("nats: a subject read went backwards");
    HB_TRY(ApplyNatsMessage(client_id, p, msg.stream_seq, msg.data, options_.batch_events_max,
                            cache, scratch));
  }
}

namespace {

// The request's stream, size, key and drafts are acceptable (nothing is changed).
Status CheckNatsRequest(AppendRequest& request, const Options& options) {
  if (options.read_only)
    return Error::Invalid("the ledger was opened read-only; appends are refused");
  if (!ValidClientId(request.client_id)) {
    return Error::Invalid(
        fmt::format("client id '{}' is not valid: use 1 to 64 of a-z 0-9 . _ - starting with a "
                    "letter or digit (system streams "
                    "add a leading '$')",
                    request.client_id));
  }
  if (request.events.empty())
    return Error::Invalid("an append needs at least one event; the batch is empty");
  const size_t events_max = std::min<size_t>(options.batch_events_max, kNatsEventsPerMessageMax);
  if (request.events.size() > events_max) {
    return Error::Limit(fmt::format("the append has {} events; the limit is {}",
                                    request.events.size(), events_max));
  }
  const std::string& key = request.idempotency_key;
  if (key.size() > options.idempotency_key_bytes_max) {
    return Error::Limit(
        fmt::format("the idempotency key is {} bytes; the limit (idempotency_key_bytes_max) is {}",
                    key.size(), options.idempotency_key_bytes_max));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      return Error::Invalid(
          fmt::format("the idempotency key has a control character (0x{:02x}) at byte {}", c, i));
    }
  }
  for (size_t i = 0; i < request.events.size(); ++i) {
    auto root = request.events[i].root().asReader();
    if (!HasBody(root)) {
      return Error::Invalid(
          fmt::format("event #{} of the append has no body: set one member of Event.body", i + 1));
    }
    if (root.getEffectiveAtUs() <= 0) {
      return Error::Invalid(
          fmt::format("event #{} of the append has effectiveAtUs = {}; it must be > 0", i + 1,
                      root.getEffectiveAtUs()));
    }
    std::string_view dk = TextOf(root.getIdempotencyKey());
    if (!dk.empty() && dk != key) {
      return Error::Invalid(
          fmt::format("event #{} carries idempotency key '{}' but the append request has '{}'",
                      i + 1, dk, key));
    }
  }
  return Status::Ok();
}

// What makes a retry "the same request": BLAKE2b-256(client_id 0x00 (fixed64_be length, flat
// draft bytes)*), unless the caller gave one.
Hash NatsRequestDigest(AppendRequest& request) {
  if (request.request_digest) return *request.request_digest;
  codec::Hasher h;
  h.Update(request.client_id);
  h.Update(std::string_view("\0", 1));
  for (auto& d : request.events) {
    auto flat = capnp::messageToFlatArray(d.message());
    auto bytes = flat.asChars();
    std::string len(8, '\0');
    for (int b = 0; b < 8; ++b) len[7 - b] = static_cast<char>((bytes.size() >> (8 * b)) & 0xff);
    h.Update(len);
    h.Update(std::string_view(bytes.begin(), bytes.size()));
  }
  return h.Final();
}

// The events' envelopes stamped: the client's next versions after `version` as seq, the chain
// from `head` as prevHash, the request's key and client, `recorded`; their flat bytes.
Result<std::vector<std::string>> StampEvents(AppendRequest& request, uint32_t version, Hash head,
                                             int64_t recorded, uint32_t event_bytes_max) {
  std::vector<std::string> events;
  for (size_t i = 0; i < request.events.size(); ++i) {
    auto root = request.events[i].root();
    root.setClientId(request.client_id);
    root.setIdempotencyKey(request.idempotency_key);
    root.setSeq(version + i + 1);
    root.setRecordedAtUs(recorded);
    root.setPrevHash(capnp::Data::Reader(head.data(), head.size()));
    auto flat = capnp::messageToFlatArray(request.events[i].message());
    std::string bytes(flat.asChars().begin(), flat.asChars().size());
    if (bytes.size() > event_bytes_max) {
      return Error::Limit(fmt::format(
          "event #{} of the append is {} bytes; the limit (event_bytes_max) is {} bytes", i + 1,
          bytes.size(), event_bytes_max));
    }
    head = ChainHash(head, bytes);
    events.push_back(std::move(bytes));
  }
  return events;
}

// The answer to one guarded publish.
struct Published {
  natsStatus status = NATS_OK;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  uint64_t seq = 0;
  bool duplicate = false;  // the message id was stored or staged before: this one was not stored
};

// Publishes `m` only if the subject's last message is `expected_subject_seq`, with `msg_id` as
// Nats-Msg-Id: nats-server 2.9 checks the expected sequence against what the leader has applied
// (issue #4320) but stages the id at proposal, so a second publish of one id is refused even
// while the first is in flight.
Published Publish(jsCtx* js, natsMsg* m, const std::string& stream, uint64_t expected_subject_seq,
                  const std::string& msg_id, int64_t timeout_ms) {
  const std::string expected = std::to_string(expected_subject_seq);
  natsMsgHeader_Set(m, "Nats-Expected-Last-Subject-Sequence", expected.c_str());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectStream = stream.c_str();
  po.MsgId = msg_id.c_str();
  po.MaxWait = timeout_ms;
  Published r;
  jsPubAck* ack = nullptr;
  r.status = js_PublishMsg(&ack, js, m, &po, &r.jerr);
  if (ack != nullptr) {
    r.seq = ack->Sequence;
    r.duplicate = ack->Duplicate;
    jsPubAck_Destroy(ack);
  }
  return r;
}

// The cluster refused a publish because another writer of the client got there first.
Error LostRace(const AppendRequest& request, uint32_t version, bool* retry) {
  *retry = !request.expected_version.has_value() || !request.idempotency_key.empty();
  Error e = Error::Conflict(fmt::format("client '{}' changed while appending", request.client_id));
  e.current_version = version;
  if (request.expected_version && request.idempotency_key.empty()) {
    e.message = fmt::format(
        "client '{}' is no longer at version {}: someone else wrote first; read again and retry",
        request.client_id, *request.expected_version);
  }
  return e;
}

}  // namespace

Result<AppendResult> NatsLog::Append(AppendRequest request) {
  HB_TRY(CheckNatsRequest(request, options_));
  Hash digest{};
  if (!request.idempotency_key.empty()) digest = NatsRequestDigest(request);

  auto cache = CacheOf(request.client_id);
  std::lock_guard<std::mutex> l(cache->mu);
  const int64_t deadline = SteadyMs() + options_.nats_append_budget_ms;
  std::vector<Hash> sent;  // payload digests published without a clear answer
  uint32_t conflicts = 0;
  int backoff_ms = 20;
  while (true) {
    std::string payload;
    bool retry = false;
    Status refreshed = Refresh(request.client_id, *cache);
    Result<AppendResult> r = Error::Io("not tried");
    if (refreshed.ok() && cache->version > 0 &&
        std::find(sent.begin(), sent.end(), cache->last_payload_digest) != sent.end()) {
      // An earlier attempt of this call landed after all.
      AppendResult done{cache->last_position, cache->last_count, cache->version, false};
      std::lock_guard<std::mutex> sl(stats_mu_);
      ++stats_.append_requests;
      stats_.events_appended += done.count;
      return done;
    }
    if (!refreshed.ok()) {
      if (refreshed.error().code != Code::kIo) return refreshed.error();
      r = refreshed.error();
      retry = true;
    } else {
      r = AppendOnce(request, digest, *cache, &payload, &retry);
      if (!payload.empty()) sent.push_back(Digest(payload));
    }
    if (r.ok() || !retry) return r;
    if (r.error().code == Code::kConflict) {
      if (++conflicts > kConflictRetriesMax) return r;
      continue;  // lost a race with another writer of this client: read what it wrote, decide again
    }
    if (SteadyMs() + backoff_ms > deadline) {
      Error e = r.error();
      e.message += fmt::format(
          " (the cluster gave no answer for {} ms; the append may have been written: retry with "
          "the same idempotency key or expected version)",
          options_.nats_append_budget_ms);
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 500);
  }
}

Result<AppendResult> NatsLog::AppendOnce(AppendRequest& request, const Hash& digest,
                                         ClientCache& cache, std::string* payload, bool* retry) {
  *retry = false;
  const std::string& key = request.idempotency_key;
  if (!key.empty()) {
    if (auto it = cache.keys.find(key); it != cache.keys.end()) {
      if (it->second.request_digest != digest) {
        return Error::Conflict(
            fmt::format("idempotency key '{}' was used before for another request", key));
      }
      std::lock_guard<std::mutex> sl(stats_mu_);
      ++stats_.append_requests;
      return AppendResult{it->second.first_seq, it->second.count, cache.version, true};
    }
  }
  if (request.expected_version && *request.expected_version != cache.version) {
    Error e = Error::Conflict(
        fmt::format("client '{}' is at version {}, not {}: someone else wrote first; read again "
                    "and retry",
                    request.client_id, cache.version, *request.expected_version));
    e.current_version = cache.version;
    return e;
  }
  if (inject_failures_.load() > 0) {
    inject_failures_.fetch_sub(1);
    return Error::Io("injected write failure (test)");
  }
  // Stamp the envelope: the client's version as seq, the client's chain, a per-client clock.
  if (request.recorded_at_us != 0 && request.recorded_at_us < cache.last_recorded_us) {
    return Error::Invalid(fmt::format(
        "recorded time {} is before the time {} of client '{}''s last event; import events "
        "in recorded order",
        request.recorded_at_us, cache.last_recorded_us, request.client_id));
  }
  const int64_t recorded = request.recorded_at_us != 0 ? request.recorded_at_us
                                                       : std::max(NowUs(), cache.last_recorded_us);
  auto stamped =
      StampEvents(request, cache.version, cache.head, recorded, options_.event_bytes_max);
  if (!stamped.ok()) return stamped.error();
  const std::vector<std::string>& events = stamped.value();
  std::string data = nats_frame::Encode(key.empty() ? Hash{} : digest, events);
  const int64_t max_payload = natsConnection_GetMaxPayload(conn_->nc);
  if (max_payload > 0 && static_cast<int64_t>(data.size()) > max_payload) {
    return Error::Limit(
        fmt::format("the append is {} bytes in one message; the cluster's max_payload is {} bytes",
                    data.size(), max_payload));
  }
  const uint32_t p = NatsPartitionOf(request.client_id, partitions_);
  const std::string subject = Subject(request.client_id);
  const std::string stream = StreamName(p);
  natsMsg* m = nullptr;
  if (natsStatus s =
          natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
      s != NATS_OK) {
    return NatsError(s, "message");
  }
  Published pub = Publish(conn_->js, m, stream, cache.last_subject_seq,
                          fmt::format("hb:{}:{}", request.client_id, cache.version + 1),
                          options_.nats_timeout_ms);
  natsMsg_Destroy(m);
  *payload = data;
  if (pub.duplicate) {
    // This position was published before: by an earlier attempt of this call (then the re-read
    // finds our payload) or by another writer (then the re-read decides as after any lost race).
    // It may still be in flight, so wait before reading, as for an unknown outcome.
    *payload = {};
    *retry = true;
    return Error::Io(
        fmt::format("nats: client '{}''s version {} is being written by another "
                    "publish",
                    request.client_id, cache.version + 1));
  }
  if (pub.status != NATS_OK) {
    if (pub.jerr == JSStreamWrongLastSequenceErr || pub.jerr == kJSDuplicateInProcessErr) {
      *payload = {};  // refused: it was not written
      return LostRace(request, cache.version, retry);
    }
    *retry = pub.jerr == 0;  // timeouts, no responders, reconnects: the outcome is unknown
    if (!*retry) *payload = {};
    return NatsError(pub.status, fmt::format("appending to {}", stream));
  }
  const uint64_t seq = pub.seq;
  if (seq == 0 || seq > kNatsStreamSeqMax)
    return Error::Io("nats: the publish was acknowledged without a valid seq");
  std::vector<capnp::word> scratch;
  HB_TRY(
      ApplyNatsMessage(request.client_id, p, seq, data, options_.batch_events_max, cache, scratch));
  {
    std::lock_guard<std::mutex> sl(stats_mu_);
    ++stats_.append_requests;
    stats_.events_appended += events.size();
    ++stats_.write_groups;
  }
  return AppendResult{NatsPosition(p, seq, 0), static_cast<uint32_t>(events.size()), cache.version,
                      false};
}

Status NatsLog::Scan(uint64_t from_seq, uint64_t to_seq, const Visitor& visit,
                     const ReadOptions& read) const {
  uint64_t to = to_seq == 0 ? UINT64_MAX : to_seq;
  if (read.as_of_seq != 0) to = std::min(to, read.as_of_seq);
  const NatsPos a = SplitNatsPosition(std::max<uint64_t>(from_seq, 1));
  std::vector<capnp::word> scratch, peek;
  for (uint32_t p = a.partition; p < partitions_; ++p) {
    auto last = LastStreamSeq(p);
    if (!last.ok()) return last.error();
    for (uint64_t s = (p == a.partition ? std::max<uint64_t>(a.stream_seq, 1) : 1);
         s <= last.value(); ++s) {
      if (NatsPosition(p, s, 0) > to) return Status::Ok();
      auto m = GetMessage(p, s, nullptr);
      if (!m.ok()) return m.error();
      const uint64_t first = NatsPosition(p, s, 0);
      if (!m.value())
        return Error::Corruption(fmt::format("message {} of {} is missing", s, StreamName(p)),
                                 first);
      auto frame = nats_frame::Decode(m.value()->data, options_.batch_events_max);
      if (!frame.ok())
        return Error::Corruption(fmt::format("position {}: {}", first, frame.error().message),
                                 first);
      for (size_t i = 0; i < frame->events.size(); ++i) {
        const uint64_t pos = NatsPosition(p, s, static_cast<uint32_t>(i));
        if (pos < from_seq) continue;
        if (pos > to) return Status::Ok();
        auto seq = PeekSeq(frame->events[i], peek);
        if (!seq.ok())
          return Error::Corruption(fmt::format("position {}: {}", pos, seq.error().message), pos);
        bool go = true;
        Status d =
            codec::Decode(seq.value(), frame->events[i], scratch, [&](schemas::Event::Reader e) {
              if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) return;
              go = visit(EventView{pos, frame->events[i], e});
            });
        if (!d.ok()) {
          Error e = d.error();
          e.seq = pos;
          return e;
        }
        if (!go) return Status::Ok();
      }
    }
  }
  return Status::Ok();
}

Status NatsLog::ReadStream(std::string_view client_id, uint32_t from_version, uint32_t to_version,
                           const Visitor& visit, const ReadOptions& read) const {
  if (!ValidClientId(client_id))
    return Error::Invalid(fmt::format("client id '{}' is not valid", client_id));
  const uint32_t p = NatsPartitionOf(client_id, partitions_);
  const std::string subject = Subject(client_id);
  std::vector<capnp::word> scratch;
  uint64_t next = 1;
  uint32_t version = 0;
  while (true) {
    auto m = GetMessage(p, next, &subject);
    if (!m.ok()) return m.error();
    if (!m.value()) return Status::Ok();
    const Message& msg = *m.value();
    const uint64_t first = NatsPosition(p, msg.stream_seq, 0);
    if (msg.stream_seq < next) return Error::Io("nats: a subject read went backwards");
    auto frame = nats_frame::Decode(msg.data, options_.batch_events_max);
    if (!frame.ok())
      return Error::Corruption(fmt::format("position {}: {}", first, frame.error().message), first);
    for (size_t i = 0; i < frame->events.size(); ++i) {
      ++version;
      const uint64_t pos = NatsPosition(p, msg.stream_seq, static_cast<uint32_t>(i));
      if (version < from_version) continue;
      if ((to_version != 0 && version > to_version) ||
          (read.as_of_seq != 0 && pos > read.as_of_seq)) {
        return Status::Ok();
      }
      bool go = true;
      Status d = codec::Decode(version, frame->events[i], scratch, [&](schemas::Event::Reader e) {
        if (read.known_at_us != 0 && e.getRecordedAtUs() > read.known_at_us) return;
        go = visit(EventView{pos, frame->events[i], e});
      });
      if (!d.ok()) {
        Error e = d.error();
        e.seq = pos;
        return e;
      }
      if (!go) return Status::Ok();
    }
    next = msg.stream_seq + 1;
  }
}

Result<std::string> NatsLog::Get(uint64_t seq) const {
  const NatsPos a = SplitNatsPosition(seq);
  if (a.partition >= partitions_ || a.stream_seq == 0)
    return Error::NotFound(fmt::format("no event at position {}", seq));
  auto m = GetMessage(a.partition, a.stream_seq, nullptr);
  if (!m.ok()) return m.error();
  if (!m.value()) return Error::NotFound(fmt::format("no event at position {}", seq));
  auto frame = nats_frame::Decode(m.value()->data, options_.batch_events_max);
  if (!frame.ok()) return Error::Corruption(frame.error().message, seq);
  if (a.index >= frame->events.size())
    return Error::NotFound(fmt::format("no event at position {}", seq));
  return std::string(frame->events[a.index]);
}

Result<uint64_t> NatsLog::HeadSeq() const {
  for (uint32_t p = partitions_; p-- > 0;) {
    auto last = LastStreamSeq(p);
    if (!last.ok()) return last.error();
    if (last.value() == 0) continue;
    auto m = GetMessage(p, last.value(), nullptr);
    if (!m.ok()) return m.error();
    if (!m.value())
      return Error::Corruption(fmt::format("the last message of {} is missing", StreamName(p)));
    auto frame = nats_frame::Decode(m.value()->data, options_.batch_events_max);
    if (!frame.ok()) return frame.error();
    return NatsPosition(p, last.value(), static_cast<uint32_t>(frame->events.size() - 1));
  }
  return uint64_t{0};
}

Result<Hash> NatsLog::HeadHash() const {
  Hash h{};
  HB_TRY(Scan(1, 0,
              [&](const EventView& v) {
                h = ChainHash(h, v.bytes);
                return true;
              },
              {}));
  return h;
}

Result<uint32_t> NatsLog::StreamVersion(std::string_view client_id) const {
  if (!ValidClientId(client_id)) return uint32_t{0};
  auto cache = CacheOf(client_id);
  std::lock_guard<std::mutex> l(cache->mu);
  HB_TRY(Refresh(std::string(client_id), *cache));
  return cache->version;
}

Result<std::optional<IdempotencyRecord>> NatsLog::LookupClientKey(std::string_view client_id,
                                                                  std::string_view key) const {
  if (!ValidClientId(client_id)) return std::optional<IdempotencyRecord>();
  auto cache = CacheOf(client_id);
  std::lock_guard<std::mutex> l(cache->mu);
  HB_TRY(Refresh(std::string(client_id), *cache));
  if (auto it = cache->keys.find(key); it != cache->keys.end())
    return std::optional<IdempotencyRecord>(it->second);
  return std::optional<IdempotencyRecord>();
}

Result<std::vector<std::string>> NatsLog::ListStreams() const {
  std::vector<std::string> ids;
  for (uint32_t p = 0; p < partitions_; ++p) {
    const std::string filter = fmt::format("hb.{}.{}.c.>", where_.ledger, p);
    const std::string prefix = filter.substr(0, filter.size() - 1);
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = options_.nats_timeout_ms;
    o.Stream.Info.SubjectsFilter = filter.c_str();
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const std::string name = StreamName(p);
    natsStatus s = js_GetStreamInfo(&si, conn_->js, name.c_str(), &o, &jerr);
    if (s != NATS_OK) return NatsError(s, "listing the clients of " + name);
    if (si->State.Subjects != nullptr) {
      for (int i = 0; i < si->State.Subjects->Count; ++i) {
        std::string_view subj = si->State.Subjects->List[i].Subject;
        if (subj.substr(0, prefix.size()) == prefix) ids.emplace_back(subj.substr(prefix.size()));
      }
    }
    jsStreamInfo_Destroy(si);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<VerifyReport> NatsLog::Verify(const std::function<void(uint64_t, uint64_t)>& progress,
                                     const Visitor* visit) const {
  VerifyReport report;
  std::map<std::string, ClientCache, std::less<>> clients;
  std::vector<capnp::word> scratch;
  Hash global{};
  uint64_t total = 0;
  std::vector<uint64_t> lasts;
  for (uint32_t p = 0; p < partitions_; ++p) {
    auto last = LastStreamSeq(p);
    if (!last.ok()) return last.error();
    lasts.push_back(last.value());
    total += last.value();
  }
  uint64_t done = 0;
  const std::string subject_prefix = fmt::format("hb.{}.", where_.ledger);
  bool visiting = visit != nullptr;
  for (uint32_t p = 0; p < partitions_; ++p) {
    const std::string prefix = fmt::format("hb.{}.{}.c.", where_.ledger, p);
    for (uint64_t s = 1; s <= lasts[p]; ++s) {
      const uint64_t first = NatsPosition(p, s, 0);
      auto bad = [&](std::string problem) {
        report.ok = false;
        report.first_bad_seq = first;
        report.problem = std::move(problem);
        return report;
      };
      auto m = GetMessage(p, s, nullptr);
      if (!m.ok()) return m.error();
      if (!m.value()) return bad(fmt::format("message {} of {} is missing", s, StreamName(p)));
      const Message& msg = *m.value();
      if (msg.subject.substr(0, prefix.size()) != prefix) {
        return bad(fmt::format("message {} of {} has subject '{}' outside the partition", s,
                               StreamName(p), msg.subject));
      }
      const std::string client = msg.subject.substr(prefix.size());
      if (!ValidClientId(client) || NatsPartitionOf(client, partitions_) != p) {
        return bad(fmt::format(
            "message {} of {} is for client '{}', which does not belong in this partition", s,
            StreamName(p), client));
      }
      auto it = clients.find(client);
      if (it == clients.end()) it = clients.try_emplace(client).first;
      ClientCache& cache = it->second;
      if (Status st =
              ApplyNatsMessage(client, p, s, msg.data, options_.batch_events_max, cache, scratch);
          !st.ok()) {
        report.ok = false;
        report.first_bad_seq = st.error().seq != 0 ? st.error().seq : first;
        report.problem = st.error().message;
        return report;
      }
      auto frame =
          nats_frame::Decode(msg.data, options_.batch_events_max);  // checked by ApplyMessage
      if (!frame.ok()) return bad(frame.error().message);
      for (size_t i = 0; i < frame->events.size(); ++i) {
        global = ChainHash(global, frame->events[i]);
        ++report.events_checked;
        if (visiting) {
          const uint64_t pos = NatsPosition(p, s, static_cast<uint32_t>(i));
          uint32_t version = cache.version - static_cast<uint32_t>(frame->events.size()) +
                             static_cast<uint32_t>(i) + 1;
          Status d =
              codec::Decode(version, frame->events[i], scratch, [&](schemas::Event::Reader e) {
                visiting = (*visit)(EventView{pos, frame->events[i], e});
              });
          if (!d.ok()) return bad(d.error().message);
        }
      }
      if (progress && ++done % 1024 == 0) progress(done, total);
    }
  }
  if (progress) progress(total, total);
  report.head_hash = global;
  return report;
}

Health NatsLog::GetHealth() const {
  Health h;
  if (natsConnection_Status(conn_->nc) != NATS_CONN_STATUS_CONNECTED) {
    h.ok = false;
    h.reason = "the NATS cluster is not reachable; reconnecting";
    h.detail = fmt::format("connection to {} is not connected", location_text_);
  }
  return h;
}

Stats NatsLog::stats() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  return stats_;
}

Status DecodeForeignEvent(std::string_view bytes,
                          const std::function<void(schemas::Event::Reader)>& fn) {
  std::vector<capnp::word> peek, scratch;
  auto seq = PeekSeq(bytes, peek);
  if (!seq.ok()) return seq.error();
  return codec::Decode(*seq, bytes, scratch, [&fn](schemas::Event::Reader e) { fn(e); });
}

// The warning of docs/replicated-log.md, Durability, when the connected server is older than
// 2.10; empty otherwise or when its version cannot be read.
std::string NatsLog::TimedSyncWarning() const {
  char url[256] = {0};
  if (natsConnection_GetConnectedUrl(conn_->nc, url, sizeof url) != NATS_OK || url[0] == '\0')
    return "";
  auto version = NatsServerVersion(url, options_.nats_timeout_ms);
  if (!version.ok() || !NatsSyncsOnTimer(*version)) return "";
  return fmt::format(
      "nats-server {} (at {}) syncs JetStream writes to disk on a timer, not per append: a power "
      "loss of a majority of a stream's replicas at once can lose the last acknowledged appends. "
      "With nats-server 2.10 or newer, put `jetstream {{ sync_interval: always }}` in each "
      "server's configuration (docs/replicated-log.md, Durability)",
      *version, url);
}

}  // namespace hourbank::ledger
