// `hourbank serve --rpc-listen`: the Cap'n Proto RPC front (schemas/rpc.capnp, rpc.h).
//
// Everything runs on the server's KJ event loop; every ledger read or write runs on the HTTP
// server's worker pool (RpcBackend::RunOnWorker) and resolves back on the loop. A Session keeps
// the token and re-checks it on every call, so a revocation takes effect on the next call.
//
// subscribe: a per-subscription loop on the event loop polls the log head every 50 ms; when
// the head moved it reads at most kSubscribeBatch events after the last one sent (on a
// worker), sends them to the receiver in seq order (capnp delivers calls on one capability in
// the order they were made), waits until the receiver returned from all of them, and goes on.
// So each event with seq > fromSeq is sent exactly once, in order; a slow receiver only slows
// its own stream. Dropping the Subscription cancels the loop.

// GCC 12 reports a false -Wmaybe-uninitialized inside KJ's promise machinery (see serve.cc).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "tools/hourbank/server/rpc.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include <capnp/rpc-twoparty.h>
#include <fmt/format.h>
#include <kj/debug.h>
#include <nlohmann/json.hpp>

#include "schemas/rpc.capnp.h"
#include "tools/hourbank/app.h"
#include "tools/hourbank/server/conn.h"
#include "tools/hourbank/server/requests.h"
#include "tools/hourbank/server/serve.h"

namespace hourbank::cli {

namespace {

namespace rpc = schemas::rpc;

constexpr uint64_t kSubscribeBatch = 1000;     // events read and sent per round
constexpr uint32_t kEventsPageMax = 10000;     // as GET …/events
constexpr uint32_t kAtLeastWaitMsMax = 30000;  // as ?wait_ms= (serve.cc)
const kj::Duration kPollInterval = 50 * kj::MILLISECONDS;
const kj::Duration kCallTimeout = 30 * kj::SECONDS;  // as an HTTP request

[[noreturn]] void ThrowRpc(const std::string& message) {
  const std::string text = Escaped(message, 2000);  // never raw bytes from the request
  kj::throwFatalException(
      kj::Exception(kj::Exception::Type::FAILED, "hourbank", 0, kj::heapString(text.c_str())));
}

// One RPC connection's state, shared by its stream guard and its capabilities (which the
// connection owns, so they never outlive it).
struct ConnState {
  ConnectionTable::Slot* slot = nullptr;
  bool authenticated = false;
  // Ends the connection (every session and subscription on it): on a revoked token, on a
  // message over the limits.
  void End() {
    if (slot && slot->kill && slot->kill->isWaiting()) slot->kill->fulfill();
  }
};

// The Cap'n Proto stream framing, watched as the RPC system reads it: each message's size is
// known from its segment table before its body is read (and before capnp allocates it), so a
// message over the limit (64 KiB before authentication, 4 MiB after) or over the server's
// budget of bytes being received is refused by ending the connection.
//   message := segment_count-1 : u32, size : u32 × segment_count, [pad : u32], words
class RpcStream final : public ForwardingStream {
 public:
  RpcStream(kj::Own<kj::AsyncIoStream> inner, ConnState& state, size_t& buffered_total)
      : ForwardingStream(kj::mv(inner)), state_(state), buffered_total_(buffered_total) {}
  ~RpcStream() noexcept(false) { buffered_total_ -= reserved_; }

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    return inner().tryRead(buffer, min_bytes, max_bytes).then([this, buffer](size_t n) {
      Feed(static_cast<const kj::byte*>(buffer), n);
      return n;
    });
  }

 private:
  void Refuse(const char* why) {
    state_.End();
    kj::throwFatalException(KJ_EXCEPTION(DISCONNECTED, why));
  }
  void Feed(const kj::byte* p, size_t n) {
    while (n > 0) {
      if (body_left_ > 0) {
        const size_t k = std::min<uint64_t>(body_left_, n);
        body_left_ -= k, p += k, n -= k;
        if (body_left_ == 0) buffered_total_ -= reserved_, reserved_ = 0;
        continue;
      }
      header_.push_back(*p++), --n;
      if (header_.size() < 4) continue;
      const uint64_t segments = uint64_t(Word(0)) + 1;
      if (segments > 512) Refuse("too many segments");
      const size_t header_bytes = (4 + 4 * segments + 7) & ~size_t(7);
      if (header_.size() < header_bytes) continue;
      uint64_t words = 0;
      for (uint64_t i = 0; i < segments; ++i) words += Word(4 + 4 * i);
      const uint64_t bytes = words * 8;
      header_.clear();
      const size_t limit =
          state_.authenticated ? kRpcMessageMaxAfterAuth : kRpcMessageMaxBeforeAuth;
      if (bytes > limit) Refuse("message too large");
      if (buffered_total_ + bytes > kRpcBufferedMax) Refuse("the server's receive budget is spent");
      reserved_ = bytes, buffered_total_ += bytes, body_left_ = bytes;
    }
  }
  uint32_t Word(size_t at) const {
    return uint32_t(header_[at]) | uint32_t(header_[at + 1]) << 8 |
           uint32_t(header_[at + 2]) << 16 | uint32_t(header_[at + 3]) << 24;
  }

  ConnState& state_;
  size_t& buffered_total_;
  std::vector<kj::byte> header_;
  uint64_t body_left_ = 0;
  size_t reserved_ = 0;
};

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// "unauthorized: …", "forbidden: …", or the error's code and sentence. Server-side failures
// (the ledger could not be read or written) are logged in full on stderr; the caller gets the
// code and a sentence without internals, as over HTTP.
std::string ErrorText(const Error& e) {
  if (e.code == Code::kUnauthenticated) return "unauthorized: " + e.message;
  if (e.code == Code::kForbidden) return "forbidden: " + e.message;
  if (e.code == Code::kCorruption || e.code == Code::kIo) {
    std::fprintf(stderr, "hourbank serve: rpc: %s: %s\n", CodeName(e.code),
                 Escaped(e.message, 4000).c_str());
    return std::string(CodeName(e.code)) + ": " +
           (e.code == Code::kCorruption
                ? "the ledger could not be read (details in the server's log); run `hourbank audit`"
                : "the ledger could not be read or written (details in the server's log); retry "
                  "later");
  }
  return std::string(CodeName(e.code)) + ": " + e.message;
}

// Worker: authenticates `token` and checks the history role; an error sentence or "".
std::string CheckHistoryCaller(RpcBackend& backend, const std::string& token) {
  auto caller = backend.AuthenticateToken(token);
  if (!caller.ok()) return ErrorText(caller.error());
  Status allowed = service::Require(caller.value(), service::Operation::kReadEvents);
  return allowed.ok() ? std::string() : ErrorText(allowed.error());
}

// The outcome of a worker task that authenticates and then reads raw events.
struct EventsOutcome {
  std::string error;                                     // empty when it worked
  std::vector<std::pair<uint64_t, std::string>> events;  // seq, stored bytes
  bool more = false;
};

class SubscriptionImpl final : public rpc::Subscription::Server {
 public:
  SubscriptionImpl(RpcBackend& backend, kj::Timer& timer, rpc::EventReceiver::Client receiver,
                   uint64_t from_seq, std::string token, ConnState& conn)
      : backend_(backend),
        timer_(timer),
        receiver_(kj::mv(receiver)),
        sent_seq_(from_seq),
        token_(std::move(token)),
        conn_(conn),
        loop_(Round().eagerlyEvaluate([](kj::Exception&&) {
          // The receiver failed or went away: the stream ends (the client resubscribes).
        })) {}

 private:
  kj::Promise<void> Round() {
    const uint64_t head = backend_.log().head_seq();
    if (head <= sent_seq_) return timer_.afterDelay(kPollInterval).then([this] { return Round(); });
    auto batch = std::make_shared<EventsOutcome>();
    const uint64_t from = sent_seq_ + 1, to = std::min(head, sent_seq_ + kSubscribeBatch);
    ledger::Log& log = backend_.log();
    RpcBackend& backend = backend_;
    auto revoked = std::make_shared<bool>(false);
    // Every round re-checks the token first: a revocation (itself an append, so the head moved)
    // ends the stream and the connection before another event is sent.
    return backend_
        .RunOnWorker([&log, &backend, batch, from, to, token = token_, revoked] {
          try {
            auto caller = backend.AuthenticateToken(token);
            if (!caller.ok()) {
              *revoked = caller.error().code == Code::kUnauthenticated;
              batch->error = ErrorText(caller.error());
              return;
            }
            Status s = log.Scan(from, to, [&](const ledger::EventView& v) {
              batch->events.emplace_back(v.seq, std::string(v.bytes));
              return true;
            });
            if (!s.ok())
              batch->error = std::string(CodeName(s.error().code)) + ": " + s.error().message;
          } catch (const std::exception& e) {
            batch->error = std::string("internal: ") + e.what();
          } catch (const kj::Exception& e) {
            batch->error = std::string("internal: ") + e.getDescription().cStr();
          }
        })
        .then([this, batch, revoked]() -> kj::Promise<void> {
          if (*revoked) conn_.End();
          if (!batch->error.empty()) ThrowRpc(batch->error);
          auto sent = kj::heapArrayBuilder<kj::Promise<void>>(batch->events.size());
          for (const auto& [seq, bytes] : batch->events) {
            if (seq <= sent_seq_) continue;  // never twice (Scan is in seq order; defensive)
            auto request = receiver_.onEventRequest();
            request.setSeq(seq);
            request.setEvent(
                capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
            sent.add(request.send().ignoreResult());
            sent_seq_ = seq;
          }
          return kj::joinPromises(sent.finish());
        })
        .then([this] { return Round(); });
  }

  RpcBackend& backend_;
  kj::Timer& timer_;
  rpc::EventReceiver::Client receiver_;
  uint64_t sent_seq_;
  const std::string token_;
  ConnState& conn_;
  kj::Promise<void> loop_;  // last: cancelled first on destruction
};

class SessionImpl final : public rpc::Session::Server {
 public:
  SessionImpl(RpcBackend& backend, kj::Timer& timer, std::string token, ConnState& conn)
      : backend_(backend), timer_(timer), token_(std::move(token)), conn_(conn) {}

  kj::Promise<void> balance(BalanceContext context) override {
    auto p = context.getParams();
    std::map<std::string, std::string> query;
    if (p.getAsOf().size() > 0) query["as_of"] = Str(p.getAsOf());
    if (!ValidUtf8(Str(p.getAsOf()))) ThrowRpc("invalid: asOf is not valid UTF-8");
    const std::string client = Client(p.getClient());
    return Json([client, query](Endpoints& e, const service::Caller& c) {
             return e.Balance(c, client, query);
           })
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> invoice(InvoiceContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient()), month = Month(p.getMonth());
    return Json([client, month](Endpoints& e, const service::Caller& c) {
             return e.Invoice(c, client, month, {});
           })
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> report(ReportContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient()), month = Month(p.getMonth());
    return Json([client, month](Endpoints& e, const service::Caller& c) {
             return e.Report(c, client, month, {});
           })
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> burned(BurnedContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient());
    std::map<std::string, std::string> query;
    if (p.getFrom().size() > 0) query["from"] = Month(p.getFrom());
    if (p.getTo().size() > 0) query["to"] = Month(p.getTo());
    return Json([client, query](Endpoints& e, const service::Caller& c) {
             return e.Burned(c, client, query);
           })
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> sla(SlaContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient()), month = Month(p.getMonth());
    return Json([client, month](Endpoints& e, const service::Caller& c) {
             return e.Sla(c, client, month, {});
           })
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> reviewList(ReviewListContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient()), month = Month(p.getMonth());
    return Json([client, month](Endpoints& e, const service::Caller& c) {
             return e.ReviewList(c, client, month, {});
           })
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> atLeast(AtLeastContext context) override {
    auto p = context.getParams();
    const uint64_t position = p.getPosition();
    const uint32_t wait_ms = p.getWaitMs();
    if (wait_ms > kAtLeastWaitMsMax)
      ThrowRpc(fmt::format("invalid: waitMs must be 0 to {}", kAtLeastWaitMsMax));
    RpcBackend& backend = backend_;
    return Json([&backend, position, wait_ms](Endpoints&,
                                              const service::Caller&) -> Result<nlohmann::json> {
             HB_TRY(backend.log().WaitForPosition(position, wait_ms));
             return nlohmann::json::object();
           })
        .then([](std::string) {});
  }

  kj::Promise<void> logWork(LogWorkContext context) override {
    auto p = context.getParams();
    return Write(&Endpoints::Work, p.getClient(), p.getRequestJson())
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }
  kj::Promise<void> accept(AcceptContext context) override {
    auto p = context.getParams();
    return Write(&Endpoints::Accept, p.getClient(), p.getRequestJson())
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }
  kj::Promise<void> voidEntry(VoidEntryContext context) override {
    auto p = context.getParams();
    return Write(&Endpoints::Void, p.getClient(), p.getRequestJson())
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }
  kj::Promise<void> pay(PayContext context) override {
    auto p = context.getParams();
    return Write(&Endpoints::Pay, p.getClient(), p.getRequestJson())
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  // The writes with a client and a body: the route's operation, the route's answer.
  kj::Promise<void> buy(BuyContext context) override {
    return ClientWrite(context, &Endpoints::Buy);
  }
  kj::Promise<void> adjust(AdjustContext context) override {
    return ClientWrite(context, &Endpoints::Adjust);
  }
  kj::Promise<void> close(CloseContext context) override {
    return ClientWrite(context, &Endpoints::Close);
  }
  kj::Promise<void> incident(IncidentContext context) override {
    return ClientWrite(context, &Endpoints::Incident);
  }
  kj::Promise<void> writeDown(WriteDownContext context) override {
    return ClientWrite(context, &Endpoints::WriteDown);
  }
  kj::Promise<void> review(ReviewContext context) override {
    return ClientWrite(context, &Endpoints::Review);
  }

  kj::Promise<void> closeAll(CloseAllContext context) override {
    const std::string body = Str(context.getParams().getRequestJson());
    return Answer(context,
                  [body](Endpoints& e, const service::Caller& c) { return e.CloseAll(c, body); });
  }
  kj::Promise<void> addClient(AddClientContext context) override {
    const std::string body = Str(context.getParams().getRequestJson());
    return Answer(context,
                  [body](Endpoints& e, const service::Caller& c) { return e.AddClient(c, body); });
  }
  kj::Promise<void> definePlans(DefinePlansContext context) override {
    const std::string body = Str(context.getParams().getRequestJson());
    return Answer(
        context, [body](Endpoints& e, const service::Caller& c) { return e.DefinePlans(c, body); });
  }
  kj::Promise<void> contract(ContractContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient()), action = Str(p.getAction()),
                      body = Str(p.getRequestJson());
    if (!ValidUtf8(action)) ThrowRpc("invalid: action is not valid UTF-8");
    return Answer(context, [client, action, body](Endpoints& e, const service::Caller& c) {
      return e.Contract(c, client, action, body);
    });
  }
  kj::Promise<void> clients(ClientsContext context) override {
    return Answer(context, [](Endpoints& e, const service::Caller& c) { return e.Clients(c); });
  }
  kj::Promise<void> plans(PlansContext context) override {
    return Answer(context, [](Endpoints& e, const service::Caller& c) { return e.Plans(c); });
  }
  kj::Promise<void> plan(PlanContext context) override {
    auto p = context.getParams();
    const std::string id = Str(p.getId());
    if (id.empty() || !ValidUtf8(id)) ThrowRpc("invalid: give a plan id (UTF-8)");
    std::map<std::string, std::string> query;
    if (p.getVersion() > 0) query["version"] = std::to_string(p.getVersion());
    return Answer(context, [id, query](Endpoints& e, const service::Caller& c) {
      return e.Plan(c, id, query);
    });
  }
  kj::Promise<void> statement(StatementContext context) override {
    auto p = context.getParams();
    const std::string client = Client(p.getClient()), month = Month(p.getMonth()),
                      format = Str(p.getFormat());
    if (!ValidUtf8(format)) ThrowRpc("invalid: format is not valid UTF-8");
    std::map<std::string, std::string> query;
    if (p.getMonths() > 0) query["months"] = std::to_string(p.getMonths());
    if (!format.empty()) query["format"] = format;
    return Answer(context, [client, month, query](Endpoints& e, const service::Caller& c) {
      return e.Statement(c, client, month, query);
    });
  }

  kj::Promise<void> forecast(ForecastContext context) override {
    auto p = context.getParams();
    std::map<std::string, std::string> query =
        Texts({{"as_of", p.getAsOf()}, {"format", p.getFormat()}});
    query["window"] = std::to_string(p.getWindowDays());
    query["months"] = std::to_string(p.getMonths());
    return Answer(context,
                  [client = Client(p.getClient()), query](Endpoints& e, const service::Caller& c) {
                    return e.Forecast(c, client, query);
                  });
  }

  kj::Promise<void> whatif(WhatifContext context) override {
    auto p = context.getParams();
    const std::map<std::string, std::string> query = Texts({{"plan", p.getPlan()},
                                                            {"from", p.getFrom()},
                                                            {"to", p.getTo()},
                                                            {"format", p.getFormat()}});
    return Answer(context,
                  [client = Client(p.getClient()), query](Endpoints& e, const service::Caller& c) {
                    return e.WhatIf(c, client, query);
                  });
  }

  kj::Promise<void> events(EventsContext context) override {
    auto p = context.getParams();
    const std::string client = Str(p.getClient());
    if (client.empty()) ThrowRpc("invalid: give a client id");
    if (!ValidUtf8(client)) ThrowRpc("invalid: the client id is not valid UTF-8");
    const uint64_t after = p.getAfterSeq();
    uint32_t limit = p.getLimit();
    if (limit == 0 || limit > kEventsPageMax) limit = kEventsPageMax;
    auto out = std::make_shared<EventsOutcome>();
    RpcBackend& backend = backend_;
    const std::string token = token_;
    return Timed(backend_.RunOnWorker([&backend, out, token, client, after, limit] {
             try {
               out->error = CheckHistoryCaller(backend, token);
               if (!out->error.empty()) return;
               auto version = backend.log().StreamVersion(client);
               if (!version.ok()) {
                 out->error =
                     std::string(CodeName(version.error().code)) + ": " + version.error().message;
                 return;
               }
               if (version.value() == 0 || client[0] == '$') {
                 out->error = fmt::format(
                     "not_found: unknown client '{}'; see `hourbank client list`", client);
                 return;
               }
               Status s = backend.log().ReadStream(client, 1, 0, [&](const ledger::EventView& v) {
                 if (v.seq <= after) return true;
                 if (out->events.size() >= limit) {
                   out->more = true;
                   return false;
                 }
                 out->events.emplace_back(v.seq, std::string(v.bytes));
                 return true;
               });
               if (!s.ok())
                 out->error = std::string(CodeName(s.error().code)) + ": " + s.error().message;
             } catch (const std::exception& e) {
               out->error = std::string("internal: ") + e.what();
             } catch (const kj::Exception& e) {
               out->error = std::string("internal: ") + e.getDescription().cStr();
             }
           }))
        .then([this, context, out, after]() mutable {
          if (out->error.rfind("unauthorized", 0) == 0) conn_.End();
          if (!out->error.empty()) ThrowRpc(out->error);
          auto results = context.getResults();
          auto list = results.initEvents(static_cast<capnp::uint>(out->events.size()));
          for (size_t i = 0; i < out->events.size(); ++i) {
            const std::string& b = out->events[i].second;
            list.set(static_cast<capnp::uint>(i),
                     capnp::Data::Reader(reinterpret_cast<const kj::byte*>(b.data()), b.size()));
          }
          results.setNextAfterSeq(out->events.empty() ? after : out->events.back().first);
          results.setMore(out->more);
        });
  }

  kj::Promise<void> subscribe(SubscribeContext context) override {
    auto p = context.getParams();
    const uint64_t from = p.getFromSeq();
    auto receiver = p.getReceiver();
    auto error = std::make_shared<std::string>();
    RpcBackend& backend = backend_;
    const std::string token = token_;
    return Timed(backend_.RunOnWorker([&backend, error, token] {
             try {
               *error = CheckHistoryCaller(backend, token);
             } catch (const std::exception& e) {
               *error = std::string("internal: ") + e.what();
             }
           }))
        .then([this, context, error, receiver = kj::mv(receiver), from]() mutable {
          if (error->rfind("unauthorized", 0) == 0) conn_.End();
          if (!error->empty()) ThrowRpc(*error);
          context.getResults().setHandle(
              kj::heap<SubscriptionImpl>(backend_, timer_, kj::mv(receiver), from, token_, conn_));
        });
  }

 private:
  // Texts from the call are checked as the HTTP router checks path segments: not empty, UTF-8.
  static std::string Client(capnp::Text::Reader client) {
    if (client.size() == 0) ThrowRpc("invalid: give a client id");
    if (!ValidUtf8(Str(client))) ThrowRpc("invalid: the client id is not valid UTF-8");
    return Str(client);
  }
  // The non-empty texts as query parameters (each checked for UTF-8).
  static std::map<std::string, std::string> Texts(
      std::initializer_list<std::pair<const char*, capnp::Text::Reader>> texts) {
    std::map<std::string, std::string> out;
    for (const auto& [name, t] : texts) {
      if (t.size() == 0) continue;
      if (!ValidUtf8(Str(t))) ThrowRpc(fmt::format("invalid: {} is not valid UTF-8", name));
      out[name] = Str(t);
    }
    return out;
  }
  static std::string Month(capnp::Text::Reader month) {
    if (month.size() == 0) ThrowRpc("invalid: give a month (YYYY-MM)");
    if (!ValidUtf8(Str(month))) ThrowRpc("invalid: the month is not valid UTF-8");
    return Str(month);
  }

  kj::Promise<void> Timed(kj::Promise<void> work) {
    return work.exclusiveJoin(timer_.afterDelay(kCallTimeout).then([]() -> kj::Promise<void> {
      ThrowRpc(
          "timeout: the call took longer than 30 s; an append may still complete — retry with the "
          "same key");
    }));
  }

  using Op = std::function<Result<nlohmann::json>(Endpoints&, const service::Caller&)>;

  // Runs `op` on a worker as the session's caller (the token re-checked first): its JSON (the
  // HTTP route's body without the trailing newline), or an RPC exception.
  kj::Promise<std::string> Json(Op op) {
    auto answer = std::make_shared<std::optional<Result<std::string>>>();
    RpcBackend& backend = backend_;
    auto work = backend_.RunOnWorker([&backend, answer, op = std::move(op), token = token_] {
      try {
        auto caller = backend.AuthenticateToken(token);
        if (!caller.ok()) {
          answer->emplace(caller.error());
          return;
        }
        auto j = op(backend.endpoints(), caller.value());
        if (!j.ok())
          answer->emplace(j.error());
        else
          answer->emplace(j.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      } catch (const std::exception& e) {
        answer->emplace(Error::Corruption(std::string("internal: ") + e.what()));
      }
    });
    return Timed(kj::mv(work)).then([this, answer]() -> std::string {
      if (!answer->has_value()) ThrowRpc("internal: the call did not run");
      const Result<std::string>& r = **answer;
      if (!r.ok() && r.error().code == Code::kUnauthenticated)
        conn_.End();  // revoked: the connection ends
      if (!r.ok()) ThrowRpc(ErrorText(r.error()));
      return r.value();
    });
  }
  // `op`'s JSON into the call's results (every method whose answer is `json :Text`).
  template <typename Context>
  kj::Promise<void> Answer(Context context, Op op) {
    return Json(std::move(op)).then([context](std::string json) mutable {
      context.getResults().setJson(json);
    });
  }
  template <typename Context>
  kj::Promise<void> ClientWrite(Context context,
                                Result<nlohmann::json> (Endpoints::*method)(const service::Caller&,
                                                                            const std::string&,
                                                                            const std::string&)) {
    auto p = context.getParams();
    return Write(method, p.getClient(), p.getRequestJson())
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }
  kj::Promise<std::string> Write(Result<nlohmann::json> (Endpoints::*method)(const service::Caller&,
                                                                             const std::string&,
                                                                             const std::string&),
                                 capnp::Text::Reader client, capnp::Text::Reader body) {
    const std::string id = Client(client), text = Str(body);
    return Json([method, id, text](Endpoints& e, const service::Caller& c) {
      return (e.*method)(c, id, text);
    });
  }

  RpcBackend& backend_;
  kj::Timer& timer_;
  const std::string token_;
  ConnState& conn_;
};

class LedgerImpl final : public rpc::Ledger::Server {
 public:
  LedgerImpl(RpcBackend& backend, kj::Timer& timer, ConnState& conn)
      : backend_(backend), timer_(timer), conn_(conn) {}

  kj::Promise<void> authenticate(AuthenticateContext context) override {
    const std::string token = Str(context.getParams().getToken());
    if (token.size() > 200) ThrowRpc("unauthorized: unknown token");
    auto caller = std::make_shared<std::optional<Result<service::Caller>>>();
    RpcBackend& backend = backend_;
    return backend_
        .RunOnWorker([&backend, caller, token] {
          try {
            caller->emplace(backend.AuthenticateToken(token));
          } catch (const std::exception& e) {
            caller->emplace(Error{Code::kIo, std::string("cannot read the tokens: ") + e.what()});
          }
        })
        .then([this, context, caller, token]() mutable {
          if (!caller->has_value()) ThrowRpc("internal: authentication did not run");
          const Result<service::Caller>& c = **caller;
          if (!c.ok()) ThrowRpc(ErrorText(c.error()));
          auto results = context.getResults();
          results.setName(c.value().name);
          results.setRole(service::RoleName(c.value().role));
          results.setSession(kj::heap<SessionImpl>(backend_, timer_, token, conn_));
          conn_.authenticated = true;  // larger messages now, and never shed as idle
          if (conn_.slot) conn_.slot->sheddable = false;
        });
  }

 private:
  RpcBackend& backend_;
  kj::Timer& timer_;
  ConnState& conn_;
};

// One accepted connection: its guard stream, the two-party network and the RPC system whose
// bootstrap (a LedgerImpl of this connection) marks it authenticated.
struct RpcConnection {
  RpcConnection(kj::Own<kj::AsyncIoStream> raw, RpcBackend& backend, kj::Timer& timer,
                size_t& buffered_total, ConnectionTable::Slot* slot)
      : stream(kj::heap<RpcStream>(kj::mv(raw), state, buffered_total)),
        network(*stream, capnp::rpc::twoparty::Side::SERVER, Options()),
        system(capnp::makeRpcServer(network, kj::heap<LedgerImpl>(backend, timer, state))) {
    state.slot = slot;
  }
  static capnp::ReaderOptions Options() {
    capnp::ReaderOptions o;
    o.traversalLimitInWords = kRpcMessageMaxAfterAuth / 8;
    return o;
  }
  ConnState state;
  kj::Own<RpcStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> system;  // last: destroyed first
};

class RpcListener final : public RpcService, private kj::TaskSet::ErrorHandler {
 public:
  RpcListener(kj::Own<kj::ConnectionReceiver> listener, RpcBackend& backend, kj::Timer& timer,
              const RpcOptions& options)
      : listener_(kj::mv(listener)),
        backend_(backend),
        timer_(timer),
        options_(options),
        table_(options.max_connections, options.max_per_peer),
        tasks_(*this),
        accepting_(AcceptForever(
                       *listener_, timer_,
                       [this](kj::Own<kj::AsyncIoStream> s) { Accept(kj::mv(s)); },
                       [this](const kj::Exception& e) { AcceptFailed(e); })
                       .eagerlyEvaluate(nullptr)) {}

 private:
  void taskFailed(kj::Exception&&) override {
  }  // a connection ended badly: it is gone, nothing to do

  void Accept(kj::Own<kj::AsyncIoStream> raw) {
    kj::Promise<void> killed = nullptr;
    auto slot = table_.Admit(PeerOf(*raw), &killed);
    if (slot.get() == nullptr)
      return;  // every slot is an authenticated connection: this one is closed at once
    ConnectionTable::Slot* s = slot.get();
    // Closed unless authenticated within the timeout (the deadline checks when it fires).
    auto state_holder = std::make_shared<ConnState*>(nullptr);
    auto deadline =
        timer_.afterDelay(options_.auth_timeout).then([state_holder]() -> kj::Promise<void> {
          if (*state_holder && (*state_holder)->authenticated) return kj::NEVER_DONE;
          return kj::READY_NOW;
        });
    auto run = [this, s, state_holder](kj::Own<kj::AsyncIoStream> stream) -> kj::Promise<void> {
      auto conn = kj::heap<RpcConnection>(kj::mv(stream), backend_, timer_, buffered_total_, s);
      *state_holder = &conn->state;
      auto done = conn->network.onDisconnect();
      return done.attach(kj::mv(conn));
    };
    kj::Promise<void> running = nullptr;
    if (options_.tls) {
      running = options_.tls->wrapServer(kj::mv(raw)).then(kj::mv(run));
    } else {
      running = run(kj::mv(raw));
    }
    tasks_.add(
        running.exclusiveJoin(kj::mv(killed)).exclusiveJoin(kj::mv(deadline)).attach(kj::mv(slot)));
  }

  void AcceptFailed(const kj::Exception& e) {
    table_.ShedOldest();  // frees a descriptor for the next accept
    if (!told_) {
      told_ = true;
      std::fprintf(stderr,
                   "hourbank serve: RPC accept failed (%s); shedding unauthenticated connections "
                   "and going on\n",
                   e.getDescription().cStr());
    }
  }

  kj::Own<kj::ConnectionReceiver> listener_;
  RpcBackend& backend_;
  kj::Timer& timer_;
  RpcOptions options_;
  size_t buffered_total_ = 0;
  bool told_ = false;
  ConnectionTable table_;
  kj::TaskSet tasks_;
  kj::Promise<void> accepting_;  // last: cancelled first
};

}  // namespace

kj::Own<RpcService> StartRpc(kj::AsyncIoContext& io, RpcBackend& backend, const std::string& listen,
                             const RpcOptions& options) {
  const HostPort where = Must(ParseHostPort(listen, "--rpc-listen"));
  const std::string& host = where.host;
  const unsigned port = where.port;
  kj::Own<kj::ConnectionReceiver> listener;
  try {
    auto addr = io.provider->getNetwork()
                    .parseAddress(kj::StringPtr(host.c_str()), port)
                    .wait(io.waitScope);
    listener = addr->listen();
  } catch (const kj::Exception& e) {
    Fail(Code::kIo,
         fmt::format("cannot listen for RPC on {}: {}", listen, e.getDescription().cStr()));
  }
  const unsigned real_port = listener->getPort();
  auto service = kj::heap<RpcListener>(kj::mv(listener), backend, io.provider->getTimer(), options);
  std::printf("rpc listening on %s:%u%s\n", host.c_str(), real_port, options.tls ? " (TLS)" : "");
  std::fflush(stdout);
  return service;
}

}  // namespace hourbank::cli
