// `hourbank serve`: one process owns the ledger; HTTP/JSON under /v1/ with bearer tokens, and
// Cap'n Proto RPC with --rpc-listen (rpc.cc; its calls run on the same worker pool).
//
// Threads: the KJ event loop (main thread) accepts connections, reads requests and writes
// responses. Every request that touches the ledger runs on a fixed pool of worker threads
// (Server::kWorkers) and comes back through a kj::CrossThreadPromiseFulfiller, so a synced
// append never blocks the loop and concurrent appends from many connections meet in the
// log's group commit. A balance read whose client snapshot, month evaluation and token are
// cached and current at the log's head is answered on the loop itself (Server::AnswerOnLoop).
// Writes to one client are serialised by a striped mutex (decide + append under the client's
// stripe), so concurrent writers to a client never exhaust the expected-version retries; writes
// to different clients proceed in parallel.
//
// Wire format (docs/api.md has the full list):
//   request  := METHOD SP "/v1/…" ["?" query] HTTP/1.1, "Authorization: Bearer " token,
//               body := JSON object (POST only, <= kBodyBytesMax)
//   response := status, "Content-Type: application/json", body := the CLI's `--json` shape
//               | {"error": sentence, "code": CodeName}

// GCC 12 reports a false -Wmaybe-uninitialized inside kj::_::ExceptionOr<Reply> (the std::string
// members of a kj::Maybe that is only read when set). It is a known GCC false positive with
// KJ's promise machinery; it is silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <array>
#include <atomic>
#include <chrono>
#include <cctype>
#include <csignal>
#include <cstring>
#include <strings.h>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/compat/http.h>
#include <kj/compat/tls.h>
#include <kj/debug.h>
#include <sodium.h>

#include "reports/portal.h"
#include "service/alerts.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/server/endpoints.h"
#include "tools/hourbank/server/portal.h"
#include "tools/hourbank/server/conn.h"
#include "tools/hourbank/cli/webhook_deliver.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/server/requests.h"
#include "tools/hourbank/server/rpc.h"
#include "tools/hourbank/server/serve.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::ClientState;
using projections::Decision;

void RegisterTokenCommands(CLI::App& cli, App& app);
void RegisterRemoteClient(CLI::App& cli, App& app);

namespace {

constexpr size_t kBodyBytesMax = 1 << 20;  // POST bodies
constexpr size_t kQueueJobsMax = 4096;     // requests waiting for a worker; more get 503
constexpr int kWorkers = 8;
constexpr int64_t kAtLeastWaitMs = 5000;       // ?at_least=: how long a read waits by default
constexpr uint64_t kAtLeastWaitMsMax = 30000;  // … and at most (?wait_ms=)

// A decimal number of 1 to 20 digits that is at most `max`; nullopt otherwise.
std::optional<uint64_t> ParseCount(const std::string& text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}
const kj::Duration kRequestTimeout = 30 * kj::SECONDS;

struct Request {
  kj::HttpMethod method = kj::HttpMethod::GET;
  std::string path;                          // without the query
  std::map<std::string, std::string> query;  // decoded
  std::string authorization;
  std::string cookie;    // the `Cookie` header (the portal's token, portal.h)
  std::string at_least;  // the `X-Hourbank-At-Least` header (a position; see AwaitAtLeast)
  std::string body;
};

struct Reply {
  unsigned status = 200;
  std::string body;
  std::string route = "unmatched";  // the route template, for metrics
  std::string content_type = "application/json";
  bool close = false;  // answer with `Connection: close` and close
  std::vector<std::pair<std::string, std::string>> headers;  // more headers (the portal's)
};

// Never throws: text that is not UTF-8 is replaced (U+FFFD) instead of failing the dump, and if
// even that fails the reply is a fixed 500.
Reply JsonReply(unsigned status, const json& j) noexcept {
  Reply r;
  try {
    r.status = status;
    r.body = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  } catch (...) {
    r.status = 500;
    r.body =
        "{\"error\":\"internal error (the answer could not be built)\",\"code\":\"corruption\"}\n";
  }
  return r;
}

unsigned HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalid:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kRefused:
      return 422;
    case Code::kConflict:
      return 409;
    case Code::kCorruption:
      return 500;
    case Code::kIo:
      return 503;
    case Code::kBusy:
      return 503;
    case Code::kLimit:
      return 413;
    case Code::kUnauthenticated:
      return 401;
    case Code::kForbidden:
      return 403;
  }
  return 500;
}

Reply ErrorReply(unsigned status, const std::string& message, Code code = Code::kInvalid) noexcept {
  try {
    return JsonReply(status, {{"error", message}, {"code", CodeName(code)}});
  } catch (...) {
    return JsonReply(status, nullptr);
  }
}

// Server-side failures (5xx: the ledger could not be read or written) are logged in full on
// stderr; the client gets the code and a sentence without internals (no paths, no addresses).
Reply ErrorReply(const Error& e) noexcept {
  const unsigned status = HttpStatusFor(e.code);
  if (status < 500 || e.code == Code::kBusy) return ErrorReply(status, e.message, e.code);
  std::fprintf(stderr, "hourbank serve: %s: %s\n", CodeName(e.code),
               Escaped(e.message, 4000).c_str());
  return ErrorReply(
      status,
      e.code == Code::kCorruption
          ? "the ledger could not be read (details in the server's log); run `hourbank audit`"
          : "the ledger could not be read or written (details in the server's log); retry later",
      e.code);
}

// ---- Metrics (guarded by a mutex: updated on the loop thread, read on workers).

struct RouteStats {
  uint64_t count = 0;
  double seconds_sum = 0;
  std::map<unsigned, uint64_t> by_status;
};

// ---- Worker pool.

struct Job {
  std::shared_ptr<Request> request;
  kj::Own<kj::CrossThreadPromiseFulfiller<Reply>> fulfiller;
  std::function<void()> task;  // an RPC call's work instead of `request` (rpc.h)
};

class Server final : public RpcBackend {
 public:
  // `now_override_us`: HOURBANK_NOW of the serving process, used as every request's clock.
  Server(ledger::Log& log, std::optional<int64_t> now_override_us)
      : log_(log), now_override_us_(now_override_us) {}

  void StartWorkers() {
    for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }
  void StopWorkers() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // The alert timer (docs/alerts.md, "The serve timer"): on its own thread (never a worker, so
  // requests wait for nothing), every `interval_s` seconds, raises what is due for every
  // client through `alerts --check`'s service code; the alerts' keys make a tick, a second node
  // or a restart raise nothing twice. 0: off.
  void StartAlertTimer(int64_t interval_s) {
    if (interval_s > 0) alert_timer_ = std::thread([this, interval_s] { AlertTimer(interval_s); });
  }
  void StopAlertTimer() {
    {
      std::lock_guard lock(timer_mu_);
      timer_stopping_ = true;
    }
    timer_cv_.notify_all();
    if (alert_timer_.joinable()) alert_timer_.join();
  }

  // Runs `request` on a worker; the promise resolves on the calling (loop) thread.
  kj::Promise<Reply> Submit(std::shared_ptr<Request> request) {
    auto paf = kj::newPromiseAndCrossThreadFulfiller<Reply>();
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= kQueueJobsMax || stopping_) {
        return ErrorReply(503, "the server is overloaded; retry later", Code::kBusy);
      }
      queue_.push_back(Job{std::move(request), kj::mv(paf.fulfiller)});
    }
    cv_.notify_one();
    return kj::mv(paf.promise);
  }

  // ---- RpcBackend (rpc.h): the RPC front's calls share this pool, its auth and its routes.
  kj::Promise<void> RunOnWorker(std::function<void()> task) override {
    auto paf = kj::newPromiseAndCrossThreadFulfiller<Reply>();
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= kQueueJobsMax || stopping_)
        return KJ_EXCEPTION(OVERLOADED, "busy: the server is overloaded; retry later");
      queue_.push_back(Job{nullptr, kj::mv(paf.fulfiller), std::move(task)});
    }
    cv_.notify_one();
    return paf.promise.ignoreResult();
  }
  Result<service::Caller> AuthenticateToken(const std::string& token) override {
    return auth_.Secret(token);
  }
  Endpoints& endpoints() override { return endpoints_; }
  ledger::Log& log() override { return log_; }
  bool tls = false;  // served over TLS: the portal's cookie is Secure

  void Record(const std::string& route, unsigned status, double seconds) {
    std::lock_guard lock(metrics_mu_);
    RouteStats& s = routes_[route];
    ++s.count;
    s.seconds_sum += seconds;
    ++s.by_status[status];
  }

  std::string MetricsText() {
    const ledger::Stats st = log_.stats();
    std::string out;
    out +=
        "# HELP hourbank_append_requests_total Append requests acknowledged by the log (replays "
        "included).\n"
        "# TYPE hourbank_append_requests_total counter\n";
    out += fmt::format("hourbank_append_requests_total {}\n", st.append_requests);
    out += "# TYPE hourbank_events_appended_total counter\n";
    out += fmt::format("hourbank_events_appended_total {}\n", st.events_appended);
    out +=
        "# HELP hourbank_write_groups_total Group-commit WriteBatches written.\n# TYPE "
        "hourbank_write_groups_total counter\n";
    out += fmt::format("hourbank_write_groups_total {}\n", st.write_groups);
    out += "# TYPE hourbank_fsyncs_total counter\n";
    out += fmt::format("hourbank_fsyncs_total {}\n", st.fsyncs);
    out +=
        "# HELP hourbank_group_requests_max Largest group commit so far (append requests in one "
        "WriteBatch).\n"
        "# TYPE hourbank_group_requests_max gauge\n";
    out += fmt::format("hourbank_group_requests_max {}\n", st.group_requests_max);
    out += "# TYPE hourbank_head_seq gauge\n";
    out += fmt::format("hourbank_head_seq {}\n", log_.head_seq());
    out +=
        "# HELP hourbank_projection_lag_events Events not yet reflected in served projections "
        "(always 0: "
        "projections are folded per request).\n# TYPE hourbank_projection_lag_events gauge\n"
        "hourbank_projection_lag_events 0\n";
    out += FollowMetricsText();
    out +=
        "# HELP hourbank_http_loop_answers_total Balance reads answered on the event loop from the "
        "state cache, without a worker.\n# TYPE hourbank_http_loop_answers_total counter\n";
    out += fmt::format("hourbank_http_loop_answers_total {}\n",
                       loop_answers_.load(std::memory_order_relaxed));
    std::lock_guard lock(metrics_mu_);
    out += "# TYPE hourbank_http_requests_total counter\n";
    for (const auto& [route, s] : routes_)
      for (const auto& [status, n] : s.by_status)
        out += fmt::format("hourbank_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", route,
                           status, n);
    out += "# TYPE hourbank_http_request_duration_seconds summary\n";
    for (const auto& [route, s] : routes_) {
      out += fmt::format("hourbank_http_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n",
                         route, s.seconds_sum);
      out += fmt::format("hourbank_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                         s.count);
    }
    return out;
  }

  // A serve node's followers (docs/replicated-log.md, Serve nodes); "" on other ledgers.
  std::string FollowMetricsText() const {
    const std::vector<ledger::FollowStatus> parts = log_.follow_status();
    if (parts.empty()) return {};
    std::string out =
        "# HELP hourbank_follow_applied_seq Last stream seq this node's store applied.\n"
        "# TYPE hourbank_follow_applied_seq gauge\n"
        "# HELP hourbank_follow_last_seq The stream's last seq when the follower last asked.\n"
        "# TYPE hourbank_follow_last_seq gauge\n"
        "# HELP hourbank_follow_lag_messages Stream messages (appends) not yet in this node's "
        "store.\n# TYPE hourbank_follow_lag_messages gauge\n"
        "# HELP hourbank_follow_error 1 while the follower's last request failed (retried), 2 when "
        "it stopped (a gap or a chain mismatch), else 0.\n# TYPE hourbank_follow_error gauge\n";
    for (const ledger::FollowStatus& f : parts) {
      out +=
          fmt::format("hourbank_follow_applied_seq{{stream=\"{}\"}} {}\n", f.stream, f.applied_seq);
      out += fmt::format("hourbank_follow_last_seq{{stream=\"{}\"}} {}\n", f.stream, f.last_seq);
      out += fmt::format("hourbank_follow_lag_messages{{stream=\"{}\"}} {}\n", f.stream,
                         f.last_seq - f.applied_seq);
      out += fmt::format("hourbank_follow_error{{stream=\"{}\"}} {}\n", f.stream,
                         f.stopped         ? 2
                         : f.error.empty() ? 0
                                           : 1);
    }
    return out;
  }

  // `?at_least=POS` (or the `X-Hourbank-At-Least` header): before answering, wait until this
  // node shows position POS (an append's `id`), at most `?wait_ms=` (default 5000, at most
  // 30000); a node that does not get there in time answers 503 (kBusy) saying it lags.
  Status AwaitAtLeast(const Request& r) const {
    auto q = r.query.find("at_least");
    const std::string& text = q != r.query.end() ? q->second : r.at_least;
    if (text.empty()) return Status::Ok();
    auto pos = ParseCount(text, UINT64_MAX);
    if (!pos)
      return Error::Invalid(
          "at_least must be a position: the \"id\" an append answered (a non-negative integer)");
    int64_t wait_ms = kAtLeastWaitMs;
    if (auto w = r.query.find("wait_ms"); w != r.query.end()) {
      auto ms = ParseCount(w->second, kAtLeastWaitMsMax);
      if (!ms) return Error::Invalid(fmt::format("wait_ms must be 0 to {}", kAtLeastWaitMsMax));
      wait_ms = static_cast<int64_t>(*ms);
    }
    return log_.WaitForPosition(*pos, wait_ms);
  }

  // Handles one request on a worker thread. Never throws: every failure is an answer, and an
  // unexpected one is a 500 whose details go to the server's log only.
  Reply Handle(const Request& r) noexcept {
    Reply reply;
    std::string route = "unmatched";
    try {
      try {
        reply = Route(r, route);
      } catch (const CommandError& e) {
        reply = ErrorReply(e.error);
      } catch (const json::exception& e) {
        reply = ErrorReply(
            400, "malformed request: a field has the wrong type or the body is not valid JSON");
      } catch (const kj::Exception& e) {
        Internal(e.getDescription().cStr());
        reply = ErrorReply(500, "internal error (details in the server's log)", Code::kCorruption);
      } catch (const std::exception& e) {
        Internal(e.what());
        reply = ErrorReply(500, "internal error (details in the server's log)", Code::kCorruption);
      }
    } catch (...) {
      reply = ErrorReply(500, "internal error", Code::kCorruption);
    }
    try {
      reply.route = route;
    } catch (...) {}
    return reply;
  }

  // A balance read answered on the loop thread, without a hand-off to a worker: only
  // `GET /v1/clients/{id}/balance` without a query or an at-least header, with a valid token
  // and a client snapshot and month evaluation that the cache holds current at the log's head
  // (Endpoints::BalanceIfCached). No I/O, no fold, no waiting for a lock held across I/O; the
  // answer is the one Handle would give. nullopt for everything else (then Submit).
  std::optional<Reply> AnswerOnLoop(const Request& r) noexcept {
    try {
      static constexpr std::string_view kPrefix = "/v1/clients/", kSuffix = "/balance";
      const std::string_view path = r.path;
      if (r.method != kj::HttpMethod::GET || !r.query.empty() || !r.at_least.empty() ||
          path.size() <= kPrefix.size() + kSuffix.size() || !path.starts_with(kPrefix) ||
          !path.ends_with(kSuffix))
        return std::nullopt;
      const std::string client(
          path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()));
      const std::optional<uint64_t> head = log_.HeadSeqInMemory();
      if (!head) return std::nullopt;
      std::optional<service::Caller> caller = auth_.BearerIfCurrent(r.authorization, *head);
      if (!caller) return std::nullopt;
      std::optional<json> answer = endpoints_.BalanceIfCached(*caller, client, *head);
      if (!answer) return std::nullopt;
      Reply reply = JsonReply(200, *answer);
      if (reply.status != 200) return std::nullopt;
      reply.route = "/v1/clients/{id}/balance";
      loop_answers_.fetch_add(1, std::memory_order_relaxed);
      return reply;
    } catch (...) {
      return std::nullopt;  // the worker answers it (and reports what went wrong)
    }
  }

  static void Internal(const char* what) noexcept {
    try {
      std::fprintf(stderr, "hourbank serve: internal error: %s\n", Escaped(what, 4000).c_str());
    } catch (...) {}
  }

 private:
  void WorkerLoop() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      // The worker boundary: nothing escapes a worker thread.
      try {
        if (job.task) {
          try {
            job.task();
          } catch (...) {
            Internal("an RPC task threw");
          }
          job.fulfiller->fulfill(Reply{});
          continue;
        }
        Reply reply = Handle(*job.request);
        job.fulfiller->fulfill(kj::mv(reply));
      } catch (...) {
        Internal("a worker could not hand back its answer");
      }
    }
  }

  // ---- The route table: method, path pattern ("{x}" matches one segment), the operation.
  struct Ctx {
    const service::Caller& caller;
    const std::vector<std::string>& p;  // the path's segments
    const Request& r;
  };
  using Handler = std::function<Result<json>(Server&, const Ctx&)>;
  struct RouteDef {
    kj::HttpMethod method;
    const char* pattern;
    Handler run;
    bool document = false;  // the answer is {"content_type", "document"}: sent as that document
  };

  static const std::vector<RouteDef>& Routes() {
    using M = kj::HttpMethod;
    using E = Endpoints;
    static const std::vector<RouteDef> routes = {
        {M::GET, "/v1/clients",
         [](Server& s, const Ctx& c) { return s.endpoints_.Clients(c.caller); }},
        {M::POST, "/v1/clients",
         [](Server& s, const Ctx& c) { return s.endpoints_.AddClient(c.caller, c.r.body); }},
        {M::GET, "/v1/clients/{id}/balance",
         [](Server& s, const Ctx& c) { return s.endpoints_.Balance(c.caller, c.p[2], c.r.query); }},
        {M::GET, "/v1/clients/{id}/invoices/{month}",
         [](Server& s, const Ctx& c) {
           return s.endpoints_.Invoice(c.caller, c.p[2], c.p[4], c.r.query);
         }},
        {M::GET, "/v1/clients/{id}/burned",
         [](Server& s, const Ctx& c) { return s.endpoints_.Burned(c.caller, c.p[2], c.r.query); }},
        {M::GET, "/v1/clients/{id}/report/{month}",
         [](Server& s, const Ctx& c) {
           return s.endpoints_.Report(c.caller, c.p[2], c.p[4], c.r.query);
         }},
        {M::GET, "/v1/clients/{id}/sla/{month}",
         [](Server& s, const Ctx& c) {
           return s.endpoints_.Sla(c.caller, c.p[2], c.p[4], c.r.query);
         }},
        {M::GET, "/v1/clients/{id}/review/{month}",
         [](Server& s, const Ctx& c) {
           return s.endpoints_.ReviewList(c.caller, c.p[2], c.p[4], c.r.query);
         }},
        {M::GET, "/v1/clients/{id}/statement/{month}",
         [](Server& s, const Ctx& c) {
           return s.endpoints_.Statement(c.caller, c.p[2], c.p[4], c.r.query);
         },
         true},
        {M::GET, "/v1/clients/{id}/events",
         [](Server& s, const Ctx& c) { return s.endpoints_.Events(c.caller, c.p[2], c.r.query); }},
        {M::POST, "/v1/clients/{id}/work", Write(&E::Work)},
        {M::POST, "/v1/clients/{id}/accept", Write(&E::Accept)},
        {M::POST, "/v1/clients/{id}/void", Write(&E::Void)},
        {M::POST, "/v1/clients/{id}/pay", Write(&E::Pay)},
        {M::POST, "/v1/clients/{id}/buy", Write(&E::Buy)},
        {M::POST, "/v1/clients/{id}/adjust", Write(&E::Adjust)},
        {M::POST, "/v1/clients/{id}/close", Write(&E::Close)},
        {M::POST, "/v1/clients/{id}/incidents", Write(&E::Incident)},
        {M::POST, "/v1/clients/{id}/write-down", Write(&E::WriteDown)},
        {M::POST, "/v1/clients/{id}/review", Write(&E::Review)},
        {M::POST, "/v1/clients/{id}/contract/{action}",
         [](Server& s, const Ctx& c) {
           return s.endpoints_.Contract(c.caller, c.p[2], c.p[4], c.r.body);
         }},
        {M::POST, "/v1/close",
         [](Server& s, const Ctx& c) { return s.endpoints_.CloseAll(c.caller, c.r.body); }},
        {M::GET, "/v1/plans", [](Server& s, const Ctx& c) { return s.endpoints_.Plans(c.caller); }},
        {M::POST, "/v1/plans",
         [](Server& s, const Ctx& c) { return s.endpoints_.DefinePlans(c.caller, c.r.body); }},
        {M::GET, "/v1/plans/{id}",
         [](Server& s, const Ctx& c) { return s.endpoints_.Plan(c.caller, c.p[2], c.r.query); }},
        {M::GET, "/v1/tokens", [](Server& s, const Ctx& c) { return s.TokenList(c.caller); }},
        {M::POST, "/v1/tokens",
         [](Server& s, const Ctx& c) { return s.TokenIssue(c.caller, c.r.body); }},
        {M::POST, "/v1/tokens/{name}/revoke",
         [](Server& s, const Ctx& c) { return s.TokenRevoke(c.caller, c.p[2]); }},
        {M::GET, "/v1/webhooks",
         [](Server& s, const Ctx& c) { return WebhookListAnswer(s.log_, c.caller); }},
        {M::POST, "/v1/webhooks",
         [](Server& s, const Ctx& c) { return s.WebhookAdd(c.caller, c.r.body); }},
        {M::POST, "/v1/webhooks/{id}/remove",
         [](Server& s, const Ctx& c) -> Result<json> {
           HB_TRY(service::RemoveWebhook(s.log_, c.caller, c.p[2], s.session_.now_us()));
           return json{{"id", c.p[2]}, {"removed", true}};
         }},
        {M::GET, "/v1/webhook-deliveries",
         [](Server& s, const Ctx& c) {
           auto it = c.r.query.find("webhook");
           return WebhookDeliveriesAnswer(s.log_, c.caller,
                                          it == c.r.query.end() ? std::string() : it->second);
         }},
        {M::POST, "/v1/webhook-deliveries/{id}/redeliver",
         [](Server& s, const Ctx& c) -> Result<json> {
           HB_TRY(service::RequestRedelivery(s.log_, c.caller, c.p[2], s.session_.now_us()));
           return json{{"id", c.p[2]}, {"redeliver", true}};
         }},
        {M::GET, "/v1/clients/{id}/forecast",
         [](Server& s, const Ctx& c) { return s.endpoints_.Forecast(c.caller, c.p[2], c.r.query); },
         true},
        {M::GET, "/v1/clients/{id}/whatif",
         [](Server& s, const Ctx& c) { return s.endpoints_.WhatIf(c.caller, c.p[2], c.r.query); },
         true},
        {M::GET, "/v1/alerts",
         [](Server& s, const Ctx& c) {
           return AlertsAnswer(s.endpoints_.session(), c.caller, "", SinceOf(c.r.query),
                               service::Names::kFields);
         }},
        {M::GET, "/v1/clients/{id}/alerts",
         [](Server& s, const Ctx& c) {
           return AlertsAnswer(s.endpoints_.session(), c.caller, c.p[2], SinceOf(c.r.query),
                               service::Names::kFields);
         }},
        {M::GET, "/v1/clients/{id}/alerts/settings",
         [](Server& s, const Ctx& c) {
           return AlertSettingsAnswer(s.endpoints_.session(), c.caller, c.p[2]);
         }},
        {M::POST, "/v1/clients/{id}/alerts/settings", Write(&E::AlertSettings)},
    };
    return routes;
  }
  // The `since` query parameter of the alert routes ("" when absent).
  static std::string SinceOf(const Endpoints::Query& q) {
    auto it = q.find("since");
    return it == q.end() ? std::string() : it->second;
  }
  // POST /v1/clients/{id}/WHAT with the body.
  static Handler Write(Result<json> (Endpoints::*op)(const service::Caller&, const std::string&,
                                                     const std::string&)) {
    return [op](Server& s, const Ctx& c) { return (s.endpoints_.*op)(c.caller, c.p[2], c.r.body); };
  }

  static bool Matches(const char* pattern, const std::vector<std::string>& p) {
    const std::vector<std::string> want = CLI::detail::split(std::string(pattern).substr(1), '/');
    if (want.size() != p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (want[i] != p[i] && !(want[i].size() > 2 && want[i].front() == '{')) return false;
    return true;
  }

  Reply Route(const Request& r, std::string& route) {
    const std::vector<std::string> p = SplitPath(r.path);
    RequireUtf8(p, r.query);  // before any identifier is used or echoed
    const bool get = r.method == kj::HttpMethod::GET;
    const bool head = r.method == kj::HttpMethod::HEAD;
    if (p.size() == 1 && p[0] == "healthz" && (get || head)) {
      route = "/healthz";
      if (const ledger::Health h = log_.health(); !h.ok)  // e.g. the disk is full (issue 14.9)
        return JsonReply(503, {{"ok", false}, {"reason", h.reason}, {"head_seq", log_.head_seq()}});
      return JsonReply(200, {{"ok", true}, {"head_seq", log_.head_seq()}});
    }
    if (!p.empty() && p[0] == "portal" && (get || head)) return Portal(r, p, route);
    // Every other route needs a token.
    auto caller = auth_.Bearer(r.authorization);
    if (!caller.ok()) {
      if (caller.error().code == Code::kUnauthenticated) route = "unauthorized";
      return ErrorReply(caller.error());
    }
    if (p.size() == 1 && p[0] == "metrics" && get) {
      route = "/metrics";
      if (Status allowed = service::Require(caller.value(), service::Operation::kMetrics);
          !allowed.ok())
        return ErrorReply(allowed.error());
      Reply rep;
      rep.body = MetricsText();
      rep.content_type = "text/plain; version=0.0.4";
      return rep;
    }
    for (const RouteDef& def : Routes()) {
      if (def.method != r.method || !Matches(def.pattern, p)) continue;
      route = def.pattern;
      if (Status seen = AwaitAtLeast(r); !seen.ok()) return ErrorReply(seen.error());
      Result<json> answer = def.run(*this, Ctx{caller.value(), p, r});
      if (!answer.ok()) return ErrorReply(answer.error());
      if (!def.document) return JsonReply(200, answer.value());
      Reply rep;
      rep.content_type = answer.value()["content_type"].get<std::string>();
      rep.body = answer.value()["document"].get<std::string>();
      return rep;
    }
    if (p.empty() || p[0] != "v1")
      return ErrorReply(404, fmt::format("no route {}; see docs/api.md", Escaped(r.path)),
                        Code::kNotFound);
    return ErrorReply(
        404,
        fmt::format("no route {} {}; see docs/api.md", kj::str(r.method).cStr(), Escaped(r.path)),
        Code::kNotFound);
  }

  // ---- The client portal (docs/portal.md): HTML pages, the token from the Authorization
  // header, or from `?token=` once (exchanged for an HttpOnly cookie and a redirect), or from
  // that cookie. Refusals are HTML pages too.
  static Reply PortalHtml(unsigned status, std::string body) {
    Reply rep;
    rep.status = status;
    rep.body = std::move(body);
    rep.content_type = "text/html; charset=utf-8";
    rep.headers = {{"Cache-Control", "no-store"},
                   {"Referrer-Policy", "no-referrer"},
                   {"Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
                    "frame-ancestors 'none'"}};
    return rep;
  }
  static Reply PortalRefusal(const Error& e) {
    const unsigned status = HttpStatusFor(e.code);
    const std::string message =
        status >= 500 ? "the ledger could not be read; retry later" : e.message;
    return PortalHtml(status, reports::RenderPortalError(status, message, reports::Lang::kEn));
  }

  Reply Portal(const Request& r, const std::vector<std::string>& p, std::string& route) {
    route = p.size() == 1 ? "/portal" : "/portal/statement/{month}";
    if (p.size() != 1 && !(p.size() == 3 && p[1] == "statement"))
      return PortalRefusal(Error::NotFound("no such page; see /portal"));
    auto q = r.query.find("token");
    if (q != r.query.end()) {  // a link with the token: keep it in a cookie, drop it from the URL
      auto caller = auth_.Secret(q->second);
      if (!caller.ok()) return PortalRefusal(caller.error());
      if (Status s = service::Require(caller.value(), service::Operation::kPortal); !s.ok())
        return PortalRefusal(s.error());
      Reply rep = PortalHtml(303, "");
      rep.headers.emplace_back("Location", r.path);
      rep.headers.emplace_back("Set-Cookie", PortalSetCookie(q->second, tls));
      return rep;
    }
    const std::string cookie = CookieValue(r.cookie, kPortalCookie);
    auto caller = !r.authorization.empty() || cookie.empty() ? auth_.Bearer(r.authorization)
                                                             : auth_.Secret(cookie);
    if (!caller.ok()) return PortalRefusal(caller.error());
    Result<std::string> page = p.size() == 1 ? PortalPage(session_, caller.value())
                                             : PortalStatement(session_, caller.value(), p[2]);
    if (!page.ok()) return PortalRefusal(page.error());
    return PortalHtml(200, std::move(page).value());
  }

  Result<json> TokenList(const service::Caller& caller) {
    HB_TRY(service::Require(caller, service::Operation::kTokens));
    auto tokens = auth_.Tokens();
    if (!tokens.ok()) return tokens.error();
    json arr = json::array();
    const projections::Zone utc = projections::Zone::Utc();
    for (const auto& [n, t] : tokens.value())
      arr.push_back({{"name", n},
                     {"role", service::RoleName(t.role)},
                     {"revoked", t.revoked},
                     {"issued_seq", t.issued_seq},
                     {"issued_at", utc.FormatIso(t.issued_at_us)},
                     {"client", t.client}});
    return arr;
  }

  Result<json> TokenIssue(const service::Caller& caller, const std::string& text) {
    HB_TRY(service::Require(caller, service::Operation::kTokens));
    std::string name, role_text, client;
    try {
      json body = ParseJsonObject(text);
      RequireKnownFields(body, {"name", "role", "client"});
      role_text = Str(body, "role", true);
      name = Str(body, "name", true);
      client = Str(body, "client");
    } catch (const CommandError& e) {
      return e.error;
    }
    auto role = service::ParseRole(role_text);
    if (!role) return Error::Invalid(fmt::format("\"role\" must be {}", service::kRoleNames));
    auto secret = service::IssueToken(log_, name, *role, caller.name, session_.now_us(), client);
    if (!secret.ok()) return secret.error();
    return json{{"name", name},
                {"role", service::RoleName(*role)},
                {"token", secret.value()},
                {"client", client}};
  }

  Result<json> TokenRevoke(const service::Caller& caller, const std::string& name) {
    HB_TRY(service::Require(caller, service::Operation::kTokens));
    HB_TRY(service::RevokeToken(log_, name, caller.name, session_.now_us()));
    return json{{"name", name}, {"revoked", true}};
  }

  // POST /v1/webhooks {"url", "events", "secret"[, "max_attempts"]} (docs/webhooks.md).
  Result<json> WebhookAdd(const service::Caller& caller, const std::string& text) {
    HB_TRY(service::Require(caller, service::Operation::kWebhooks));
    service::WebhookSpec spec;
    try {
      json body = ParseJsonObject(text);
      RequireKnownFields(body, {"url", "events", "secret", "max_attempts"});
      spec.url = Str(body, "url", true);
      spec.secret = Str(body, "secret", true);
      auto events = service::ParseWebhookEvents(Str(body, "events", true));
      if (!events.ok()) return events.error();
      spec.events = events.value();
      const int64_t attempts = Int(body, "max_attempts", service::kWebhookAttemptsDefault);
      if (attempts < 1 || attempts > service::kWebhookAttemptsMax)
        return Error::Invalid("\"max_attempts\" must be 1-100");
      spec.max_attempts = uint32_t(attempts);
    } catch (const CommandError& e) {
      return e.error;
    }
    return WebhookAddAnswer(log_, caller, spec, session_.now_us());
  }

  void AlertTimer(int64_t interval_s) {
    const service::Caller timer{"alert-timer", schemas::Role::ADMIN};
    std::unique_lock lock(timer_mu_);
    while (!timer_cv_.wait_for(lock, std::chrono::seconds(interval_s),
                               [this] { return timer_stopping_; })) {
      lock.unlock();
      try {
        auto raised = service::CheckAlertsOp(session_, timer, "");
        if (!raised.ok())
          std::fprintf(stderr, "hourbank serve: alert check failed: %s\n",
                       raised.error().message.c_str());
      } catch (const std::exception& e) {  // the timer keeps going; the next tick retries
        std::fprintf(stderr, "hourbank serve: alert check failed: %s\n", e.what());
      }
      lock.lock();
    }
  }

  ledger::Log& log_;
  const std::optional<int64_t> now_override_us_;
  service::StateCache states_;  // lean client states kept caught up between requests
  service::Session session_{log_, &states_, now_override_us_};
  service::Authenticator auth_{log_};
  Endpoints endpoints_{session_};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stopping_ = false;
  std::thread alert_timer_;
  std::mutex metrics_mu_;
  std::map<std::string, RouteStats> routes_;
  std::atomic<uint64_t> loop_answers_{0};  // AnswerOnLoop's answers
};

// ---- The kj-http side: reads the request, hands it to the pool, writes the reply.

constexpr size_t kRequestLineMax = 16 << 10;  // the first request line of a connection; longer: 414
constexpr size_t kUrlMax = 8 << 10;           // any request's URL; longer: 414

// One HTTP connection's stream (over TCP or TLS). It watches the first request line (KJ resets a
// connection whose headers pass 128 KiB; we answer 414 first) and reads as EOF once a response
// with `Connection: close` went out, so the connection closes at once.
class HttpConn final : public ForwardingStream {
 public:
  HttpConn(kj::Own<kj::AsyncIoStream> inner, kj::Timer& timer)
      : ForwardingStream(kj::mv(inner)), timer_(timer) {}

  ConnectionTable::Slot* slot = nullptr;
  bool close_requested = false;  // the current request said `Connection: close`
  bool eof_next = false;

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    if (eof_next) return size_t(0);
    return inner()
        .tryRead(buffer, min_bytes, max_bytes)
        .then([this, buffer](size_t n) -> kj::Promise<size_t> {
          if (scanning_ && n > 0) {
            const char* p = static_cast<const char*>(buffer);
            const void* nl = std::memchr(p, '\n', n);
            line_bytes_ += nl ? size_t(static_cast<const char*>(nl) - p) : n;
            if (line_bytes_ > kRequestLineMax) return Refuse414();
            if (nl) scanning_ = false;
          }
          return n;
        });
  }

 private:
  // Answers 414 itself (KJ has not parsed a request yet), half-closes, drains what the client
  // still sends (so the close does not reset the answer away) for at most 2 s or 1 MiB, and
  // ends the connection.
  kj::Promise<size_t> Refuse414() {
    scanning_ = false;
    static const kj::StringPtr kBody =
        "{\"error\":\"the request line is longer than 16 KiB (URL too long)\",\"code\":\"limit\"}\n"_kj;
    auto text = kj::str(
        "HTTP/1.1 414 URI Too Long\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: ",
        kBody.size(), "\r\n\r\n", kBody);
    auto drained = kj::heap<std::pair<size_t, std::array<kj::byte, 8192>>>();
    auto promise = inner().write(text.begin(), text.size()).attach(kj::mv(text)).then([this] {
      inner().shutdownWrite();
    });
    return promise.then([this, d = drained.get()] { return Drain(d); })
        .attach(kj::mv(drained))
        .exclusiveJoin(timer_.afterDelay(2 * kj::SECONDS))
        .then([]() -> size_t {
          kj::throwFatalException(KJ_EXCEPTION(DISCONNECTED, "request line too long"));
        });
  }
  kj::Promise<void> Drain(std::pair<size_t, std::array<kj::byte, 8192>>* d) {
    return inner()
        .tryRead(d->second.data(), 1, d->second.size())
        .then([this, d](size_t n) -> kj::Promise<void> {
          d->first += n;
          if (n == 0 || d->first > (1 << 20)) return kj::READY_NOW;
          return Drain(d);
        });
  }

  kj::Timer& timer_;
  bool scanning_ = true;
  size_t line_bytes_ = 0;
};

// Errors KJ meets before or around our service: JSON answers, never exception text (which
// carries source paths and stack addresses).
class HttpErrors final : public kj::HttpServerErrorHandler, public kj::HttpServerCallbacks {
 public:
  const kj::HttpHeaderTable* table = nullptr;
  bool close_now = false;  // read by shouldClose() during the send() that Send() makes

  kj::Promise<void> handleClientProtocolError(kj::HttpHeaders::ProtocolError e,
                                              kj::HttpService::Response& r) override {
    Reply reply = ErrorReply(e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 400,
                             std::string("malformed request: ") + e.description.cStr());
    return Write(r, e.statusCode, e.statusMessage, reply);
  }
  kj::Promise<void> handleApplicationError(kj::Exception e,
                                           kj::Maybe<kj::HttpService::Response&> r) override {
    if (e.getType() == kj::Exception::Type::DISCONNECTED) return kj::READY_NOW;
    KJ_IF_MAYBE (response, r) {
      if (e.getType() == kj::Exception::Type::OVERLOADED)
        return Write(*response, 503, "Service Unavailable",
                     ErrorReply(503, "the server is overloaded; retry later", Code::kBusy));
      // Our service never throws, so this is KJ refusing the request's framing (two
      // Content-Length headers, an unknown Transfer-Encoding, a bad chunk).
      return Write(
          *response, 400, "Bad Request",
          ErrorReply(
              400,
              "malformed request framing: send one Content-Length, or Transfer-Encoding: chunked"));
    }
    return kj::READY_NOW;
  }
  kj::Promise<void> handleNoResponse(kj::HttpService::Response& r) override {
    return Write(r, 500, "Internal Server Error",
                 ErrorReply(500, "internal error (no answer)", Code::kCorruption));
  }
  bool shouldClose() override { return close_now; }

 private:
  kj::Promise<void> Write(kj::HttpService::Response& r, unsigned status, kj::StringPtr status_text,
                          const Reply& reply) {
    kj::HttpHeaders headers(*table);
    headers.set(kj::HttpHeaderId::CONTENT_TYPE, "application/json");
    auto text = kj::heapString(reply.body.data(), reply.body.size());
    auto stream = r.send(status, status_text, headers, text.size());
    auto promise = stream->write(text.begin(), text.size());
    return promise.attach(kj::mv(stream), kj::mv(text));
  }
};

class HttpFront {
 public:
  HttpFront(Server& server, kj::Timer& timer, kj::HttpHeaderId authorization, HttpErrors& errors,
            kj::Duration read_timeout)
      : server_(server),
        timer_(timer),
        authorization_(authorization),
        errors_(errors),
        read_timeout_(read_timeout) {}

  kj::Promise<void> request(HttpConn& conn, kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders& headers, kj::AsyncInputStream& body,
                            kj::HttpService::Response& response) noexcept {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      conn.close_requested = false;
      KJ_IF_MAYBE (c, headers.get(kj::HttpHeaderId::CONNECTION)) {
        std::string v(c->cStr(), c->size());
        for (char& ch : v) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        conn.close_requested = v.find("close") != std::string::npos;
      }
      if (url.size() > kUrlMax) {
        Reply r = ErrorReply(414, "the URL is longer than 8 KiB", Code::kLimit);
        r.close = true;
        return Send(conn, response, kj::mv(r), t0);
      }
      auto req = std::make_shared<Request>();
      req->method = method;
      std::string u(url.cStr(), url.size());
      const size_t q = u.find('?');
      req->path = u.substr(0, q);
      if (q != std::string::npos) req->query = ParseQuery(std::string_view(u).substr(q + 1));
      KJ_IF_MAYBE (a, headers.get(authorization_)) {
        req->authorization = std::string(a->cStr(), a->size());
      }
      headers.forEach([&req](kj::StringPtr name, kj::StringPtr value) {
        if (name.size() == 6 && strncasecmp(name.cStr(), "cookie", 6) == 0)
          req->cookie = std::string(value.cStr(), value.size());
        if (name.size() == 19 && strncasecmp(name.cStr(), "x-hourbank-at-least", 19) == 0)
          req->at_least = std::string(value.cStr(), value.size());
      });
      KJ_IF_MAYBE (len, body.tryGetLength()) {
        if (*len > kBodyBytesMax) {
          Reply r = ErrorReply(413, "the body is larger than 1 MiB", Code::kLimit);
          r.close = true;
          return Send(conn, response, kj::mv(r), t0);
        }
        if (*len == 0)  // no body (a GET): nothing to read, no read timeout to arm
          return Guarded(conn, response, t0,
                         kj::evalNow([&] { return Dispatch(conn, response, req, t0); }));
      }
      // The body: at most 1 MiB (chunked or not) within the read timeout.
      auto reader = kj::heap<BodyReader>();
      auto& rd = *reader;
      auto read = ReadBody(body, rd)
                      .then([] { return false; },
                            [&rd](kj::Exception&&) {
                              rd.broken = true;
                              return false;
                            })
                      .exclusiveJoin(timer_.afterDelay(read_timeout_).then([] { return true; }));
      auto answered =
          read.then([this, req, &conn, &response, t0, &rd](bool timed_out) -> kj::Promise<void> {
                if (timed_out) {
                  Reply r = ErrorReply(408, "the body did not arrive in time", Code::kInvalid);
                  r.close = true;
                  return Send(conn, response, kj::mv(r), t0);
                }
                if (rd.broken) {
                  Reply r = ErrorReply(
                      400,
                      "the body could not be read (malformed chunked encoding, or it ended early)");
                  r.close = true;
                  return Send(conn, response, kj::mv(r), t0);
                }
                if (rd.text.size() > kBodyBytesMax) {
                  Reply r = ErrorReply(413, "the body is larger than 1 MiB", Code::kLimit);
                  r.close = true;
                  return Send(conn, response, kj::mv(r), t0);
                }
                req->body = std::move(rd.text);
                return Dispatch(conn, response, req, t0);
              })
              .attach(kj::mv(reader));
      return Guarded(conn, response, t0, kj::mv(answered));
    } catch (...) {
      Reply r = ErrorReply(400, "the request could not be read");
      r.close = true;
      try {
        return Send(conn, response, kj::mv(r), t0);
      } catch (...) {
        return kj::READY_NOW;
      }
    }
  }

 private:
  struct BodyReader {
    std::string text;
    bool broken = false;
    std::array<kj::byte, 16384> buffer;
  };
  // A read request answered on the loop thread (Server::AnswerOnLoop), or any other on a worker
  // within kRequestTimeout; then sent.
  kj::Promise<void> Dispatch(HttpConn& conn, kj::HttpService::Response& response,
                             const std::shared_ptr<Request>& req,
                             std::chrono::steady_clock::time_point t0) {
    if (std::optional<Reply> now = server_.AnswerOnLoop(*req))
      return Send(conn, response, kj::mv(*now), t0);
    if (conn.slot) conn.slot->sheddable = false;  // working: never shed
    auto work = server_.Submit(req).exclusiveJoin(timer_.afterDelay(kRequestTimeout).then([] {
      return ErrorReply(504,
                        "the request took longer than 30 s; an append may still complete — retry "
                        "with the same key",
                        Code::kIo);
    }));
    return work.then([this, &conn, &response, t0](Reply reply) {
      return Send(conn, response, kj::mv(reply), t0);
    });
  }

  // `answered`, or a 500 (and the connection closed) when it failed.
  kj::Promise<void> Guarded(HttpConn& conn, kj::HttpService::Response& response,
                            std::chrono::steady_clock::time_point t0, kj::Promise<void> answered) {
    return answered.catch_([this, &conn, &response, t0](kj::Exception&&) -> kj::Promise<void> {
      Reply r = ErrorReply(500, "internal error", Code::kCorruption);
      r.close = true;
      try {
        return Send(conn, response, kj::mv(r), t0);
      } catch (...) {
        return kj::READY_NOW;  // a response was already started: the connection just ends
      }
    });
  }

  // Reads until EOF or one byte past kBodyBytesMax.
  static kj::Promise<void> ReadBody(kj::AsyncInputStream& in, BodyReader& rd) {
    return in.tryRead(rd.buffer.data(), 1, rd.buffer.size())
        .then([&in, &rd](size_t n) -> kj::Promise<void> {
          if (n == 0) return kj::READY_NOW;
          rd.text.append(reinterpret_cast<const char*>(rd.buffer.data()), n);
          if (rd.text.size() > kBodyBytesMax) return kj::READY_NOW;
          return ReadBody(in, rd);
        });
  }

  kj::Promise<void> Send(HttpConn& conn, kj::HttpService::Response& response, Reply reply,
                         std::chrono::steady_clock::time_point t0) {
    server_.Record(reply.route, reply.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const bool close = reply.close || conn.close_requested;
    kj::HttpHeaders headers(*errors_.table);
    headers.set(kj::HttpHeaderId::CONTENT_TYPE, kj::heapString(reply.content_type.c_str()));
    for (const auto& [name, value] : reply.headers)
      headers.add(kj::heapString(name.c_str()), kj::heapString(value.c_str()));
    auto text = kj::heapString(reply.body.data(), reply.body.size());
    errors_.close_now = close;
    kj::Own<kj::AsyncOutputStream> stream;
    KJ_DEFER(errors_.close_now = false);
    stream = response.send(reply.status, StatusText(reply.status), headers, text.size());
    auto promise = stream->write(text.begin(), text.size());
    return promise.attach(kj::mv(stream), kj::mv(text)).then([&conn, close] {
      if (conn.slot) conn.slot->sheddable = true;
      if (close) conn.eof_next = true;  // KJ's next read ends the connection
    });
  }

  static kj::StringPtr StatusText(unsigned status) {
    switch (status) {
      case 200:
        return "OK";
      case 303:
        return "See Other";
      case 400:
        return "Bad Request";
      case 401:
        return "Unauthorized";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      case 408:
        return "Request Timeout";
      case 409:
        return "Conflict";
      case 413:
        return "Payload Too Large";
      case 414:
        return "URI Too Long";
      case 422:
        return "Unprocessable Entity";
      case 500:
        return "Internal Server Error";
      case 503:
        return "Service Unavailable";
      case 504:
        return "Gateway Timeout";
      default:
        return "Status";
    }
  }

  Server& server_;
  kj::Timer& timer_;
  kj::HttpHeaderId authorization_;
  HttpErrors& errors_;
  kj::Duration read_timeout_;
};

// KJ makes one of these per connection (HttpServiceFactory): it knows its HttpConn.
class ConnService final : public kj::HttpService {
 public:
  ConnService(HttpFront& front, HttpConn& conn) : front_(front), conn_(conn) {}
  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders& headers, kj::AsyncInputStream& body,
                            Response& response) override {
    return front_.request(conn_, method, url, headers, body, response);
  }

 private:
  HttpFront& front_;
  HttpConn& conn_;
};

class TaskErrors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&& e) override {
    // A connection that failed (reset by the peer, protocol error) is dropped; nothing to do.
    (void)e;
  }
};

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string rpc_listen;  // empty: no RPC
  std::string tls_cert, tls_key;
  bool insecure = false;
  double read_timeout_s = 10;
  double auth_timeout_s = 10;
  std::string store;              // --store: a serve node's local store of a cluster ledger
  std::string webhooks = "on";    // deliver webhooks from a thread of the server (docs/webhooks.md)
  int64_t alert_interval_s = 60;  // 0: no alert timer
};

// --store goes with a nats:// ledger and only with one (docs/replicated-log.md, Serve nodes).
void CheckStoreArg(const App& app, const ServeArgs& args) {
  const bool cluster = app.ledger_dir.rfind("nats://", 0) == 0;
  if (cluster && args.store.empty())
    Fail(Code::kInvalid,
         "a serve node of a ledger on a NATS cluster needs --store DIR: its local projections "
         "store (made if missing; one per node)");
  if (!cluster && !args.store.empty())
    Fail(Code::kInvalid,
         "--store is for a ledger on a NATS cluster (--log nats://…); leave it out for a ledger "
         "directory");
}

bool IsLoopbackHost(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

std::string HostOf(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

std::string ReadPem(const std::string& path, const char* flag) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    Fail(Code::kInvalid,
         fmt::format("{} '{}': cannot open the file: {}", flag, path, std::strerror(errno)));
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (1 << 20))
    text.append(buf, n);
  std::fclose(f);
  return text;
}

kj::Duration Seconds(double s) { return int64_t(s * 1000) * kj::MILLISECONDS; }

// Refuses what cannot be served safely before anything is opened.
void CheckServeArgs(const ServeArgs& args) {
  if (args.tls_cert.empty() != args.tls_key.empty())
    Fail(Code::kInvalid, "give both --tls-cert and --tls-key (PEM files), or neither");
  if (args.tls_cert.empty() && !args.insecure) {
    for (const std::string* l : {&args.listen, &args.rpc_listen})
      if (!l->empty() && !IsLoopbackHost(HostOf(*l)))
        Fail(Code::kInvalid,
             fmt::format(
                 "'{}' is not a loopback address: tokens would cross the network in clear text; "
                 "give --tls-cert and --tls-key (docs/api.md, \"TLS\"), or --insecure to allow it",
                 *l));
  }
  if (!(args.read_timeout_s > 0 && args.read_timeout_s <= 3600) ||
      !(args.auth_timeout_s > 0 && args.auth_timeout_s <= 3600))
    Fail(Code::kInvalid, "--read-timeout and --auth-timeout must be between 0 and 3600 seconds");
  if (args.alert_interval_s < 0 || args.alert_interval_s > 86400)
    Fail(Code::kInvalid, fmt::format("--alert-interval is {}; give seconds from 0 (off) to 86400",
                                     args.alert_interval_s));
}

// The server's keypair and TLS context (both null without --tls-cert).
struct ServerTls {
  kj::Own<kj::TlsKeypair> keypair;
  kj::Own<kj::TlsContext> context;
};
ServerTls LoadServerTls(const ServeArgs& args) {
  ServerTls out;
  if (args.tls_cert.empty()) return out;
  try {
    const std::string cert = ReadPem(args.tls_cert, "--tls-cert"),
                      key = ReadPem(args.tls_key, "--tls-key");
    out.keypair =
        kj::heap<kj::TlsKeypair>(kj::TlsKeypair{kj::TlsPrivateKey(kj::StringPtr(key.c_str())),
                                                kj::TlsCertificate(kj::StringPtr(cert.c_str()))});
    kj::TlsContext::Options options;
    options.defaultKeypair = *out.keypair;
    options.useSystemTrustStore = false;
    out.context = kj::heap<kj::TlsContext>(kj::mv(options));
  } catch (const kj::Exception&) {
    Fail(Code::kInvalid,
         "--tls-cert/--tls-key: not a PEM certificate and its private key (see docs/api.md, "
         "\"TLS\")");
  }
  return out;
}

// The HTTP listener's connections: admitted into a bounded table (the oldest idle one is shed
// when it is full), TLS-wrapped within the read timeout when serving TLS, then handed to
// kj-http. Destroying it drops every connection.
class HttpConnections {
 public:
  HttpConnections(kj::HttpServer& http, kj::Timer& timer, kj::TlsContext* tls,
                  kj::Duration handshake_timeout, size_t max)
      : http_(http),
        timer_(timer),
        tls_(tls),
        handshake_timeout_(handshake_timeout),
        table_(max, max),
        tasks_(errors_) {}

  kj::Promise<void> AcceptForever(kj::ConnectionReceiver& listener) {
    return cli::AcceptForever(
        listener, timer_, [this](kj::Own<kj::AsyncIoStream> raw) { Admit(kj::mv(raw)); },
        [this](const kj::Exception& e) { AcceptFailed(e); });
  }

 private:
  void Admit(kj::Own<kj::AsyncIoStream> raw) {
    kj::Promise<void> killed = nullptr;
    auto slot = table_.Admit(PeerOf(*raw), &killed);
    if (slot.get() == nullptr) return;  // full of busy connections: closed at once
    ConnectionTable::Slot* s = slot.get();
    auto start = [this, s](kj::Own<kj::AsyncIoStream> stream) -> kj::Promise<void> {
      auto conn = kj::heap<HttpConn>(kj::mv(stream), timer_);
      conn->slot = s;
      return http_.listenHttp(kj::mv(conn));
    };
    kj::Promise<void> running = nullptr;
    if (tls_) {
      running =
          tls_->wrapServer(kj::mv(raw))
              .exclusiveJoin(
                  timer_.afterDelay(handshake_timeout_).then([]() -> kj::Own<kj::AsyncIoStream> {
                    kj::throwFatalException(KJ_EXCEPTION(DISCONNECTED, "TLS handshake timed out"));
                  }))
              .then(kj::mv(start));
    } else {
      running = start(kj::mv(raw));
    }
    tasks_.add(running.exclusiveJoin(kj::mv(killed)).attach(kj::mv(slot)));
  }
  // Out of descriptors (or another accept failure): close the oldest idle connection so the
  // next accept can succeed; the listener never stops.
  void AcceptFailed(const kj::Exception& e) {
    table_.ShedOldest();
    if (told_emfile_) return;
    told_emfile_ = true;
    std::fprintf(stderr,
                 "hourbank serve: accept failed (%s); shedding idle connections and going on\n",
                 e.getDescription().cStr());
  }

  kj::HttpServer& http_;
  kj::Timer& timer_;
  kj::TlsContext* tls_;
  kj::Duration handshake_timeout_;
  bool told_emfile_ = false;
  // Declared before the task set: connections (tasks) are destroyed first.
  ConnectionTable table_;
  TaskErrors errors_;
  kj::TaskSet tasks_;
};

kj::Own<kj::ConnectionReceiver> Listen(kj::AsyncIoContext& io, const HostPort& where,
                                       const std::string& text) {
  try {
    auto addr = io.provider->getNetwork()
                    .parseAddress(kj::StringPtr(where.host.c_str()), where.port)
                    .wait(io.waitScope);
    return addr->listen();
  } catch (const kj::Exception& e) {
    Fail(Code::kIo, fmt::format("cannot listen on {}: {}", text, e.getDescription().cStr()));
  }
}

kj::Own<RpcService> StartRpcFor(kj::AsyncIoContext& io, Server& server, const ServeArgs& args,
                                kj::TlsContext* tls, const ConnectionLimits& limits) {
  if (args.rpc_listen.empty()) return kj::Own<RpcService>();
  RpcOptions options;
  options.tls = tls;
  options.max_connections = limits.rpc_max;
  options.max_per_peer = limits.rpc_per_peer_max;
  options.auth_timeout = Seconds(args.auth_timeout_s);
  return StartRpc(io, server, args.rpc_listen, options);  // prints "rpc listening on HOST:PORT"
}

// Wiring: the ledger, the worker pool, kj-http, the listeners; runs until SIGTERM or SIGINT,
// then stops accepting, finishes in-flight requests (appends included) and closes the ledger.
void Serve(App& app, const ServeArgs& args) {
  const HostPort where = Must(ParseHostPort(args.listen, "--listen"));
  CheckServeArgs(args);
  CheckStoreArg(app, args);
  app.follow_store = args.store;
  // Signals are captured (blocked in every thread) before any worker thread exists.
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  auto io = kj::setupAsyncIo();
  kj::Timer& timer = io.provider->getTimer();
  ServerTls tls = LoadServerTls(args);

  ledger::Log& log = app.log();  // opened once; its LOCK keeps other processes out
  if (const std::string w = log.DurabilityWarning(); !w.empty())
    std::fprintf(stderr, "hourbank serve: warning: %s\n", w.c_str());  // docs/replicated-log.md
  Server server(log, app.now_override_us);
  server.tls = tls.context.get() != nullptr;
  server.StartWorkers();
  KJ_DEFER(server.StopWorkers());         // idempotent: also on a failure to listen
  std::optional<WebhookThread> webhooks;  // stopped before the workers (declared after them)
  if (args.webhooks == "on") webhooks.emplace(log, "webhooks", app.now_override_us);
  server.StartAlertTimer(args.alert_interval_s);
  KJ_DEFER(server.StopAlertTimer());  // before the workers and the log go

  kj::HttpHeaderTable::Builder builder;
  const kj::HttpHeaderId authorization = builder.add("Authorization");
  auto table = builder.build();
  HttpErrors http_errors;
  http_errors.table = table.get();
  HttpFront front(server, timer, authorization, http_errors, Seconds(args.read_timeout_s));
  kj::HttpServerSettings settings;
  settings.headerTimeout = Seconds(args.read_timeout_s);
  settings.pipelineTimeout = 5 * kj::SECONDS;
  settings.errorHandler = http_errors;
  settings.callbacks = http_errors;
  kj::HttpServer http(
      timer, *table,
      [&front](kj::AsyncIoStream& conn) -> kj::Own<kj::HttpService> {
        return kj::heap<ConnService>(front, static_cast<HttpConn&>(conn));
      },
      settings);

  kj::Own<kj::ConnectionReceiver> listener = Listen(io, where, args.listen);
  std::printf("listening on %s:%u%s\n", where.host.c_str(), listener->getPort(),
              tls.context ? " (TLS)" : "");
  std::fflush(stdout);
  const ConnectionLimits limits = LimitsFromDescriptorLimit();
  kj::Own<RpcService> rpc = StartRpcFor(io, server, args, tls.context.get(), limits);

  HttpConnections connections(http, timer, tls.context.get(), Seconds(args.read_timeout_s),
                              limits.http_max);
  auto signal = io.unixEventPort.onSignal(SIGTERM).exclusiveJoin(io.unixEventPort.onSignal(SIGINT));
  kj::Promise<void> accepting = connections.AcceptForever(*listener);
  accepting.then([]() -> siginfo_t { KJ_UNREACHABLE; })
      .exclusiveJoin(kj::mv(signal))
      .wait(io.waitScope);
  // Stop accepting (the accept loop was cancelled above), finish in-flight requests, close.
  // RPC connections and subscriptions are dropped first (an append already handed to a worker
  // still completes: StopWorkers drains the queue).
  rpc = nullptr;
  webhooks.reset();
  http.drain().wait(io.waitScope);
  server.StopAlertTimer();
  server.StopWorkers();
  std::fprintf(stderr, "hourbank serve: stopped (head seq %llu)\n",
               static_cast<unsigned long long>(log.head_seq()));
  app.close_log();
}

}  // namespace

void RegisterServeCommands(CLI::App& cli, App& app) {
  RegisterTokenCommands(cli, app);
  auto args = std::make_shared<ServeArgs>();
  auto* serve = cli.add_subcommand(
      "serve",
      "Serve the ledger over HTTP/JSON (docs/api.md); one process owns the ledger\n"
      "  e.g. hourbank serve --listen 127.0.0.1:8080");
  serve->add_option("--listen", args->listen,
                    "HOST:PORT (port 0: pick a free one; the real one is printed)");
  serve->add_option(
      "--rpc-listen", args->rpc_listen,
      "HOST:PORT for Cap'n Proto RPC (schemas/rpc.capnp); prints \"rpc listening on HOST:PORT\"");
  serve->add_option("--tls-cert", args->tls_cert,
                    "PEM certificate (chain): serve HTTPS and TLS-wrapped RPC");
  serve->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert");
  serve->add_flag("--insecure", args->insecure,
                  "allow plain HTTP/RPC on a non-loopback address (tokens in clear text)");
  serve->add_option("--read-timeout", args->read_timeout_s,
                    "seconds a client may take to send a request's headers, its body, or a TLS "
                    "handshake (default 10)");
  serve->add_option("--auth-timeout", args->auth_timeout_s,
                    "seconds an RPC connection may stay open without authenticating (default 10)");
  serve->add_option("--store", args->store,
                    "DIR: with --log nats://…, this node's local store that follows the cluster "
                    "(required there; made if missing; docs/replicated-log.md)");
  serve
      ->add_option("--webhooks", args->webhooks,
                   "on | off: deliver webhooks from the server (default on; docs/webhooks.md)")
      ->check(CLI::IsMember({"on", "off"}));
  serve->add_option("--alert-interval", args->alert_interval_s,
                    "seconds between checks for alerts due with time alone, every client "
                    "(docs/alerts.md; default 60, 0 = off)");
  serve->callback([&app, args] { Serve(app, *args); });
  RegisterRemoteClient(cli, app);
}

}  // namespace hourbank::cli
