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
#include "tools/hourbank/rpc.h"

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
#include "tools/hourbank/serve.h"

namespace hourbank::cli {

namespace {

namespace rpc = schemas::rpc;

constexpr uint64_t kSubscribeBatch = 1000;       // events read and sent per round
constexpr uint32_t kEventsPageMax = 10000;        // as GET …/events
const kj::Duration kPollInterval = 50 * kj::MILLISECONDS;
const kj::Duration kCallTimeout = 30 * kj::SECONDS;  // as an HTTP request

[[noreturn]] void ThrowRpc(const std::string& message) {
  kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::heapString(message.c_str())));
}

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// Percent-encodes one path segment (the server's router decodes it).
std::string Segment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || c == '@' || c == '$') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "unauthorized: …", "forbidden: …", or the HTTP error's code and sentence.
std::string ErrorText(const RpcBackend::Answer& a) {
  std::string message = a.body, code = "error";
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (j.contains("error") && j["error"].is_string()) message = j["error"].get<std::string>();
    if (j.contains("code") && j["code"].is_string()) code = j["code"].get<std::string>();
  }
  if (a.status == 401) code = "unauthorized";
  if (a.status == 403) code = "forbidden";
  if (a.status == 504) code = "timeout";
  return code + ": " + message;
}

std::string ErrorText(const Error& e) {
  return std::string(e.code == Code::kInvalid ? "unauthorized" : CodeName(e.code)) + ": " + e.message;
}

bool MayReadHistory(schemas::Role role) { return role == schemas::Role::AUDITOR || role == schemas::Role::ADMIN; }

// The outcome of a worker task that authenticates and then reads raw events.
struct EventsOutcome {
  std::string error;                                       // empty when it worked
  std::vector<std::pair<uint64_t, std::string>> events;    // seq, stored bytes
  bool more = false;
};

// Worker: authenticates `token` and checks the history role; an error sentence or "".
std::string CheckHistoryCaller(RpcBackend& backend, const std::string& token, const char* what) {
  auto caller = backend.AuthenticateToken(token);
  if (!caller.ok()) return ErrorText(caller.error());
  if (!MayReadHistory(caller.value().role))
    return fmt::format("forbidden: the token '{}' ({}) may not {} (auditor or admin only)", caller.value().name,
                       RoleName(caller.value().role), what);
  return {};
}

class SubscriptionImpl final : public rpc::Subscription::Server {
 public:
  SubscriptionImpl(RpcBackend& backend, kj::Timer& timer, rpc::EventReceiver::Client receiver, uint64_t from_seq)
      : backend_(backend), timer_(timer), receiver_(kj::mv(receiver)), sent_seq_(from_seq),
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
    return backend_.RunOnWorker([&log, batch, from, to] {
      try {
        Status s = log.Scan(from, to, [&](const ledger::EventView& v) {
          batch->events.emplace_back(v.seq, std::string(v.bytes));
          return true;
        });
        if (!s.ok()) batch->error = std::string(CodeName(s.error().code)) + ": " + s.error().message;
      } catch (const std::exception& e) {
        batch->error = std::string("internal: ") + e.what();
      } catch (const kj::Exception& e) {
        batch->error = std::string("internal: ") + e.getDescription().cStr();
      }
    }).then([this, batch]() -> kj::Promise<void> {
      if (!batch->error.empty()) ThrowRpc(batch->error);
      auto sent = kj::heapArrayBuilder<kj::Promise<void>>(batch->events.size());
      for (const auto& [seq, bytes] : batch->events) {
        if (seq <= sent_seq_) continue;  // never twice (Scan is in seq order; defensive)
        auto request = receiver_.onEventRequest();
        request.setSeq(seq);
        request.setEvent(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
        sent.add(request.send().ignoreResult());
        sent_seq_ = seq;
      }
      return kj::joinPromises(sent.finish());
    }).then([this] { return Round(); });
  }

  RpcBackend& backend_;
  kj::Timer& timer_;
  rpc::EventReceiver::Client receiver_;
  uint64_t sent_seq_;
  kj::Promise<void> loop_;  // last: cancelled first on destruction
};

class SessionImpl final : public rpc::Session::Server {
 public:
  SessionImpl(RpcBackend& backend, kj::Timer& timer, std::string token)
      : backend_(backend), timer_(timer), token_(std::move(token)) {}

  kj::Promise<void> balance(BalanceContext context) override {
    auto p = context.getParams();
    std::map<std::string, std::string> query;
    if (p.getAsOf().size() > 0) query["as_of"] = Str(p.getAsOf());
    return Route(false, ClientPath(p.getClient(), "balance"), query, {}).then([context](std::string json) mutable {
      context.getResults().setJson(json);
    });
  }

  kj::Promise<void> invoice(InvoiceContext context) override {
    auto p = context.getParams();
    return Route(false, ClientPath(p.getClient(), "invoices") + "/" + Month(p.getMonth()), {}, {})
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> report(ReportContext context) override {
    auto p = context.getParams();
    return Route(false, ClientPath(p.getClient(), "report") + "/" + Month(p.getMonth()), {}, {})
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> logWork(LogWorkContext context) override {
    auto p = context.getParams();
    return Route(true, ClientPath(p.getClient(), "work"), {}, Str(p.getRequestJson()))
        .then([context](std::string json) mutable { context.getResults().setJson(json); });
  }

  kj::Promise<void> events(EventsContext context) override {
    auto p = context.getParams();
    const std::string client = Str(p.getClient());
    if (client.empty()) ThrowRpc("invalid: give a client id");
    const uint64_t after = p.getAfterSeq();
    uint32_t limit = p.getLimit();
    if (limit == 0 || limit > kEventsPageMax) limit = kEventsPageMax;
    auto out = std::make_shared<EventsOutcome>();
    RpcBackend& backend = backend_;
    const std::string token = token_;
    return Timed(backend_.RunOnWorker([&backend, out, token, client, after, limit] {
      try {
        out->error = CheckHistoryCaller(backend, token, "read events");
        if (!out->error.empty()) return;
        auto version = backend.log().StreamVersion(client);
        if (!version.ok()) {
          out->error = std::string(CodeName(version.error().code)) + ": " + version.error().message;
          return;
        }
        if (version.value() == 0 || client[0] == '$') {
          out->error = fmt::format("not_found: unknown client '{}'; see `hourbank client list`", client);
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
        if (!s.ok()) out->error = std::string(CodeName(s.error().code)) + ": " + s.error().message;
      } catch (const std::exception& e) {
        out->error = std::string("internal: ") + e.what();
      } catch (const kj::Exception& e) {
        out->error = std::string("internal: ") + e.getDescription().cStr();
      }
    })).then([context, out, after]() mutable {
      if (!out->error.empty()) ThrowRpc(out->error);
      auto results = context.getResults();
      auto list = results.initEvents(static_cast<capnp::uint>(out->events.size()));
      for (size_t i = 0; i < out->events.size(); ++i) {
        const std::string& b = out->events[i].second;
        list.set(static_cast<capnp::uint>(i), capnp::Data::Reader(reinterpret_cast<const kj::byte*>(b.data()), b.size()));
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
        *error = CheckHistoryCaller(backend, token, "subscribe to events");
      } catch (const std::exception& e) {
        *error = std::string("internal: ") + e.what();
      }
    })).then([this, context, error, receiver = kj::mv(receiver), from]() mutable {
      if (!error->empty()) ThrowRpc(*error);
      context.getResults().setHandle(kj::heap<SubscriptionImpl>(backend_, timer_, kj::mv(receiver), from));
    });
  }

 private:
  static std::string ClientPath(capnp::Text::Reader client, const char* what) {
    if (client.size() == 0) ThrowRpc("invalid: give a client id");
    return "/v1/clients/" + Segment(Str(client)) + "/" + what;
  }
  static std::string Month(capnp::Text::Reader month) {
    if (month.size() == 0) ThrowRpc("invalid: give a month (YYYY-MM)");
    return Segment(Str(month));
  }

  kj::Promise<void> Timed(kj::Promise<void> work) {
    return work.exclusiveJoin(timer_.afterDelay(kCallTimeout).then([]() -> kj::Promise<void> {
      ThrowRpc("timeout: the call took longer than 30 s; an append may still complete — retry with the same key");
    }));
  }

  // The HTTP route's JSON (without the trailing newline), or an RPC exception.
  kj::Promise<std::string> Route(bool post, std::string path, std::map<std::string, std::string> query, std::string body) {
    auto answer = std::make_shared<RpcBackend::Answer>();
    RpcBackend& backend = backend_;
    auto work = backend_.RunOnWorker([&backend, answer, post, path = std::move(path), query = std::move(query),
                                      token = token_, body = std::move(body)] {
      *answer = backend.HandleRoute(post, path, query, token, body);
    });
    return Timed(kj::mv(work)).then([answer]() -> std::string {
      if (answer->status != 200) ThrowRpc(ErrorText(*answer));
      std::string json = std::move(answer->body);
      while (!json.empty() && json.back() == '\n') json.pop_back();
      return json;
    });
  }

  RpcBackend& backend_;
  kj::Timer& timer_;
  const std::string token_;
};

class LedgerImpl final : public rpc::Ledger::Server {
 public:
  LedgerImpl(RpcBackend& backend, kj::Timer& timer) : backend_(backend), timer_(timer) {}

  kj::Promise<void> authenticate(AuthenticateContext context) override {
    const std::string token = Str(context.getParams().getToken());
    auto caller = std::make_shared<std::optional<Result<RpcBackend::Caller>>>();
    RpcBackend& backend = backend_;
    return backend_.RunOnWorker([&backend, caller, token] {
      try {
        caller->emplace(backend.AuthenticateToken(token));
      } catch (const std::exception& e) {
        caller->emplace(Error{Code::kIo, std::string("cannot read the tokens: ") + e.what()});
      }
    }).then([this, context, caller, token]() mutable {
      if (!caller->has_value()) ThrowRpc("internal: authentication did not run");
      const Result<RpcBackend::Caller>& c = **caller;
      if (!c.ok()) ThrowRpc(ErrorText(c.error()));
      auto results = context.getResults();
      results.setName(c.value().name);
      results.setRole(RoleName(c.value().role));
      results.setSession(kj::heap<SessionImpl>(backend_, timer_, token));
    });
  }

 private:
  RpcBackend& backend_;
  kj::Timer& timer_;
};

class TwoPartyRpcService final : public RpcService {
 public:
  TwoPartyRpcService(kj::Own<kj::ConnectionReceiver> listener, RpcBackend& backend, kj::Timer& timer)
      : listener_(kj::mv(listener)),
        server_(kj::heap<LedgerImpl>(backend, timer)),
        listening_(server_.listen(*listener_).eagerlyEvaluate([](kj::Exception&& e) {
          std::fprintf(stderr, "hourbank serve: the RPC listener stopped: %s\n", e.getDescription().cStr());
        })) {}

 private:
  kj::Own<kj::ConnectionReceiver> listener_;
  capnp::TwoPartyServer server_;
  kj::Promise<void> listening_;  // last: cancelled first
};

}  // namespace

kj::Own<RpcService> StartRpc(kj::AsyncIoContext& io, RpcBackend& backend, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    Fail(Code::kInvalid, fmt::format("--rpc-listen '{}' is not HOST:PORT", listen));
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  for (char c : listen.substr(colon + 1))
    if (c < '0' || c > '9' || (port = port * 10 + unsigned(c - '0')) > 65535)
      Fail(Code::kInvalid, fmt::format("--rpc-listen '{}': the port must be 0-65535", listen));
  kj::Own<kj::ConnectionReceiver> listener;
  try {
    auto addr = io.provider->getNetwork().parseAddress(kj::StringPtr(host.c_str()), port).wait(io.waitScope);
    listener = addr->listen();
  } catch (const kj::Exception& e) {
    Fail(Code::kIo, fmt::format("cannot listen for RPC on {}: {}", listen, e.getDescription().cStr()));
  }
  const unsigned real_port = listener->getPort();
  auto service = kj::heap<TwoPartyRpcService>(kj::mv(listener), backend, io.provider->getTimer());
  std::printf("rpc listening on %s:%u\n", host.c_str(), real_port);
  std::fflush(stdout);
  return service;
}

}  // namespace hourbank::cli
