// `hourbank serve`: one process owns the ledger; HTTP/JSON under /v1/ with bearer tokens, and
// Cap'n Proto RPC with --rpc-listen (rpc.cc; its calls run on the same worker pool).
//
// Threads: the KJ event loop (main thread) accepts connections, reads requests and writes
// responses. Every request that touches the ledger runs on a fixed pool of worker threads
// (Server::kWorkers) and comes back through a kj::CrossThreadPromiseFulfiller, so a synced
// append never blocks the loop and concurrent appends from many connections meet in the
// log's group commit. Writes to one client are serialised by a striped mutex (decide +
// append under the client's stripe), so concurrent writers to a client never exhaust the
// expected-version retries; writes to different clients proceed in parallel.
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
#include <csignal>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/compat/http.h>
#include <kj/debug.h>
#include <sodium.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/requests.h"
#include "tools/hourbank/rpc.h"
#include "tools/hourbank/serve.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::ClientState;
using projections::Decision;

void RegisterTokenCommands(CLI::App& cli, App& app);
void RegisterRemoteClient(CLI::App& cli, App& app);

namespace {

constexpr size_t kBodyBytesMax = 1 << 20;           // POST bodies
constexpr size_t kConnectionsMax = 256;             // open connections; more are closed at once
constexpr size_t kQueueJobsMax = 4096;              // requests waiting for a worker; more get 503
constexpr int kWorkers = 8;
constexpr size_t kClientStripes = 64;
constexpr uint64_t kEventsPageMax = 10000;
const kj::Duration kRequestTimeout = 30 * kj::SECONDS;

struct Request {
  kj::HttpMethod method = kj::HttpMethod::GET;
  std::string path;                           // without the query
  std::map<std::string, std::string> query;   // decoded
  std::string authorization;
  std::string body;
};

struct Reply {
  unsigned status = 200;
  std::string body;
  std::string route = "unmatched";   // the route template, for metrics
  std::string content_type = "application/json";
};

Reply JsonReply(unsigned status, const json& j) {
  Reply r;
  r.status = status;
  r.body = j.dump() + "\n";
  return r;
}

unsigned HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalid: return 400;
    case Code::kNotFound: return 404;
    case Code::kRefused: return 422;
    case Code::kConflict: return 409;
    case Code::kCorruption: return 500;
    case Code::kIo: return 503;
    case Code::kBusy: return 503;
    case Code::kLimit: return 413;
  }
  return 500;
}

Reply ErrorReply(unsigned status, const std::string& message, Code code = Code::kInvalid) {
  return JsonReply(status, {{"error", message}, {"code", CodeName(code)}});
}
Reply ErrorReply(const Error& e) { return ErrorReply(HttpStatusFor(e.code), e.message, e.code); }

// ---- JSON body helpers (Str, Int, Bool) and path/query parsing: tools/hourbank/requests.h.

ClientState LoadWithTime(App& app, const std::string& client, const std::string& as_of, const std::string& known_at,
                         int64_t* as_of_out, bool retain_entries = false) {
  return LoadClientAt(app, client, as_of, known_at, as_of_out, retain_entries);
}

std::string Q(const Request& r, const char* name) {
  auto it = r.query.find(name);
  return it == r.query.end() ? std::string() : it->second;
}

uint64_t QInt(const Request& r, const char* name, uint64_t fallback) {
  const std::string v = Q(r, name);
  if (v.empty()) return fallback;
  uint64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || out > (UINT64_MAX - 9) / 10)
      Fail(Code::kInvalid, fmt::format("query parameter {} must be a non-negative integer", name));
    out = out * 10 + uint64_t(c - '0');
  }
  return out;
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
  Server(ledger::Log& log, std::optional<int64_t> now_override_us) : log_(log), now_override_us_(now_override_us) {}

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
  Answer HandleRoute(bool post, const std::string& path, const std::map<std::string, std::string>& query,
                     const std::string& token, const std::string& body) override {
    Request r;
    r.method = post ? kj::HttpMethod::POST : kj::HttpMethod::GET;
    r.path = path;
    r.query = query;
    r.authorization = "Bearer " + token;
    r.body = body;
    const auto t0 = std::chrono::steady_clock::now();
    Reply reply = Handle(r);
    Record("rpc " + reply.route, reply.status,   // the worker's time (HTTP's includes the loop's)
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return {reply.status, std::move(reply.body)};
  }
  Result<RpcBackend::Caller> AuthenticateToken(const std::string& token) override {
    Request r;
    r.authorization = "Bearer " + token;
    try {
      Caller who = Authenticate(r);
      return RpcBackend::Caller{who.name, who.role};
    } catch (const AuthFailure& f) {
      return Error{Code::kInvalid, f.message};
    } catch (const CommandError& e) {
      return e.error;
    }
  }
  ledger::Log& log() override { return log_; }

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
    out += "# HELP hourbank_append_requests_total Append requests acknowledged by the log (replays included).\n"
           "# TYPE hourbank_append_requests_total counter\n";
    out += fmt::format("hourbank_append_requests_total {}\n", st.append_requests);
    out += "# TYPE hourbank_events_appended_total counter\n";
    out += fmt::format("hourbank_events_appended_total {}\n", st.events_appended);
    out += "# HELP hourbank_write_groups_total Group-commit WriteBatches written.\n# TYPE hourbank_write_groups_total counter\n";
    out += fmt::format("hourbank_write_groups_total {}\n", st.write_groups);
    out += "# TYPE hourbank_fsyncs_total counter\n";
    out += fmt::format("hourbank_fsyncs_total {}\n", st.fsyncs);
    out += "# HELP hourbank_group_requests_max Largest group commit so far (append requests in one WriteBatch).\n"
           "# TYPE hourbank_group_requests_max gauge\n";
    out += fmt::format("hourbank_group_requests_max {}\n", st.group_requests_max);
    out += "# TYPE hourbank_head_seq gauge\n";
    out += fmt::format("hourbank_head_seq {}\n", log_.head_seq());
    out += "# HELP hourbank_projection_lag_events Events not yet reflected in served projections (always 0: "
           "projections are folded per request).\n# TYPE hourbank_projection_lag_events gauge\n"
           "hourbank_projection_lag_events 0\n";
    std::lock_guard lock(metrics_mu_);
    out += "# TYPE hourbank_http_requests_total counter\n";
    for (const auto& [route, s] : routes_)
      for (const auto& [status, n] : s.by_status)
        out += fmt::format("hourbank_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", route, status, n);
    out += "# TYPE hourbank_http_request_duration_seconds summary\n";
    for (const auto& [route, s] : routes_) {
      out += fmt::format("hourbank_http_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n", route, s.seconds_sum);
      out += fmt::format("hourbank_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, s.count);
    }
    return out;
  }

  // Handles one request on a worker thread. Never throws.
  Reply Handle(const Request& r) {
    Reply reply;
    std::string route = "unmatched";
    try {
      reply = Route(r, route);
    } catch (const CommandError& e) {
      reply = ErrorReply(e.error);
    } catch (const json::exception& e) {
      reply = ErrorReply(400, fmt::format("malformed request: {}", e.what()));
    } catch (const kj::Exception& e) {
      reply = ErrorReply(500, std::string("internal error: ") + e.getDescription().cStr(), Code::kCorruption);
    } catch (const std::exception& e) {
      reply = ErrorReply(500, std::string("internal error: ") + e.what(), Code::kCorruption);
    }
    reply.route = route;
    return reply;
  }

 private:
  struct Caller {
    std::string name;
    schemas::Role role;
  };

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
      if (job.task) {
        job.task();
        job.fulfiller->fulfill(Reply{});
        continue;
      }
      Reply reply = Handle(*job.request);
      job.fulfiller->fulfill(kj::mv(reply));
    }
  }

  // 401 unless the bearer token is known and not revoked.
  Caller Authenticate(const Request& r) {
    static const std::string kPrefix = "Bearer ";
    if (r.authorization.compare(0, kPrefix.size(), kPrefix) != 0)
      throw AuthFailure{"missing bearer token: send `Authorization: Bearer TOKEN` (see `hourbank token issue`)"};
    const std::string secret = r.authorization.substr(kPrefix.size());
    const ledger::Hash hash = ledger::Digest(secret);
    auto tokens = Must(Tokens());
    for (const auto& [name, t] : tokens) {
      if (sodium_memcmp(t.secret_hash.data(), hash.data(), hash.size()) == 0) {
        if (t.revoked) throw AuthFailure{fmt::format("the token '{}' was revoked", name)};
        return {name, t.role};
      }
    }
    throw AuthFailure{"unknown token"};
  }

  // The "$auth" fold, cached by the stream's version.
  Result<std::map<std::string, TokenInfo>> Tokens() {
    auto version = log_.StreamVersion(projections::kAuthStream);
    if (!version.ok()) return version.error();
    std::lock_guard lock(tokens_mu_);
    if (!tokens_ || tokens_version_ != version.value()) {
      auto t = LoadTokens(log_);
      if (!t.ok()) return t.error();
      tokens_ = std::move(t.value());
      tokens_version_ = version.value();
    }
    return *tokens_;
  }

  struct AuthFailure {
    std::string message;
  };

  enum class Need { kStaffWrite, kBalance, kProjection, kHistory, kAdmin, kAny };

  static bool Allowed(schemas::Role role, Need need) {
    using schemas::Role;
    if (role == Role::ADMIN) return true;
    switch (need) {
      case Need::kAny: return true;
      case Need::kStaffWrite: return role == Role::STAFF;
      case Need::kBalance: return role == Role::STAFF || role == Role::BILLING;
      case Need::kProjection: return role == Role::BILLING;
      case Need::kHistory: return role == Role::AUDITOR;
      case Need::kAdmin: return false;
    }
    return false;
  }

  // A fresh App per request: it borrows the server's log and carries the caller as actor.
  App RequestApp(const Caller& caller) {
    App app;
    app.adopt_log(&log_);
    app.adopt_cache(&states_);
    app.actor = caller.name;
    app.json = true;
    app.now_override_us = now_override_us_;
    return app;
  }

  StateCache states_;  // lean client states kept caught up between requests

  std::mutex& StripeFor(const std::string& client) { return stripes_[std::hash<std::string>{}(client) % kClientStripes]; }

  json ParseBody(const Request& r) { return ParseJsonObject(r.body); }

  // The idempotency digest input for a server request: the route and the body without "key".
  static std::string RequestText(const Request& r, json body) {
    body.erase("key");
    return r.path + '\0' + body.dump();
  }

  Reply Route(const Request& r, std::string& route) {
    const std::vector<std::string> p = SplitPath(r.path);
    const bool get = r.method == kj::HttpMethod::GET;
    const bool post = r.method == kj::HttpMethod::POST;
    if (p.size() == 1 && p[0] == "healthz" && get) {
      route = "/healthz";
      if (const ledger::Health h = log_.health(); !h.ok)  // e.g. the disk is full (issue 14.9)
        return JsonReply(503, {{"ok", false}, {"reason", h.reason}, {"head_seq", log_.head_seq()}});
      return JsonReply(200, {{"ok", true}, {"head_seq", log_.head_seq()}});
    }
    // Every other route needs a token.
    Caller caller;
    try {
      caller = Authenticate(r);
    } catch (const AuthFailure& f) {
      route = "unauthorized";
      Reply rep = ErrorReply(401, f.message, Code::kInvalid);
      return rep;
    }
    auto require = [&](Need need) {
      if (!Allowed(caller.role, need))
        throw RoleFailure{fmt::format("the token '{}' ({}) may not {} {}", caller.name, RoleName(caller.role),
                                      get ? "GET" : "POST", r.path)};
    };
    try {
      if (p.size() == 1 && p[0] == "metrics" && get) {
        route = "/metrics";
        Reply rep;
        rep.body = MetricsText();
        rep.content_type = "text/plain; version=0.0.4";
        return rep;
      }
      if (p.empty() || p[0] != "v1") return ErrorReply(404, fmt::format("no route {}; see docs/api.md", r.path), Code::kNotFound);
      App app = RequestApp(caller);
      if (p.size() == 2 && p[1] == "clients" && get) {
        route = "/v1/clients";
        require(Need::kAny);
        return JsonReply(200, ClientList(app));
      }
      if (p.size() == 2 && p[1] == "tokens" && get) {
        route = "/v1/tokens";
        require(Need::kAdmin);
        return JsonReply(200, TokenList());
      }
      if (p.size() == 2 && p[1] == "tokens" && post) {
        route = "/v1/tokens";
        require(Need::kAdmin);
        json body = ParseBody(r);
        auto role = ParseRole(Str(body, "role", true));
        if (!role) Fail(Code::kInvalid, "\"role\" must be staff, billing, auditor or admin");
        const std::string name = Str(body, "name", true);
        const std::string secret = Must(IssueToken(log_, name, *role, caller.name, app.now_us()));
        return JsonReply(200, {{"name", name}, {"role", RoleName(*role)}, {"token", secret}});
      }
      if (p.size() == 4 && p[1] == "tokens" && p[3] == "revoke" && post) {
        route = "/v1/tokens/{name}/revoke";
        require(Need::kAdmin);
        Must(RevokeToken(log_, p[2], caller.name, app.now_us()));
        return JsonReply(200, {{"name", p[2]}, {"revoked", true}});
      }
      if (p.size() >= 4 && p[1] == "clients") {
        const std::string& client = p[2];
        const std::string& what = p[3];
        if (get && p.size() == 4 && what == "balance") {
          route = "/v1/clients/{id}/balance";
          require(Need::kBalance);
          int64_t at = 0;
          ClientState s = LoadWithTime(app, client, Q(r, "as_of"), Q(r, "known_at"), &at);
          return JsonReply(200, BalanceJson(s, at));
        }
        if (get && p.size() == 5 && what == "invoices") {
          route = "/v1/clients/{id}/invoices/{month}";
          require(Need::kProjection);
          const uint32_t month = ParseMonthFlag(p[4], "month");
          ClientState s = LoadWithTime(app, client, Q(r, "as_of"), Q(r, "known_at"), nullptr);
          return JsonReply(200, InvoiceJson(s, month));
        }
        if (get && p.size() == 4 && what == "burned") {
          route = "/v1/clients/{id}/burned";
          require(Need::kProjection);
          ClientState s = LoadWithTime(app, client, Q(r, "as_of"), Q(r, "known_at"), nullptr);
          const std::string f = Q(r, "from"), t = Q(r, "to");
          const uint32_t from = f.empty() ? 0 : ParseMonthFlag(f, "from");
          const uint32_t to = t.empty() ? 0 : ParseMonthFlag(t, "to");
          if (from && to && to < from) Fail(Code::kInvalid, "to is before from");
          if (from && to && projections::MonthsBetween(from, to) > 1200) Fail(Code::kLimit, "at most 100 years at once");
          return JsonReply(200, BurnedJson(s, from, to));
        }
        if (get && p.size() == 5 && what == "report") {
          route = "/v1/clients/{id}/report/{month}";
          require(Need::kProjection);
          const uint32_t month = ParseMonthFlag(p[4], "month");
          ClientState s = LoadWithTime(app, client, Q(r, "as_of"), Q(r, "known_at"), nullptr, /*retain_entries=*/true);
          return JsonReply(200, ReportJson(s, month));
        }
        if (get && p.size() == 5 && what == "sla") {
          route = "/v1/clients/{id}/sla/{month}";
          require(Need::kProjection);
          const uint32_t month = ParseMonthFlag(p[4], "month");
          ClientState s = LoadWithTime(app, client, Q(r, "as_of"), Q(r, "known_at"), nullptr);
          return JsonReply(200, SlaJson(s, month, app.now_us()));
        }
        if (get && p.size() == 4 && what == "events") {
          route = "/v1/clients/{id}/events";
          require(Need::kHistory);
          return JsonReply(200, Events(app, r, client));
        }
        if (post && p.size() == 4 && what == "work") {
          route = "/v1/clients/{id}/work";
          require(Need::kStaffWrite);
          return JsonReply(200, LogWorkRoute(app, r, client));
        }
        if (post && p.size() == 4 && what == "accept") {
          route = "/v1/clients/{id}/accept";
          require(Need::kStaffWrite);
          json body = ParseBody(r);
          const std::string task = Str(body, "task", true), at = Str(body, "at");
          const bool late = Bool(body, "late").value_or(false);
          std::string summary;
          std::lock_guard lock(StripeFor(client));
          app.DecideAndAppend(client, [&](const ClientState& s) {
            const int64_t at_us = at.empty() ? app.now_us() : ParseTimeFlag(at, s.zone(), "at");
            return projections::DecideAccept(s, task, at_us, late, app.now_us());
          }, {}, {}, &summary);
          return JsonReply(200, {{"client", client}, {"summary", summary}});
        }
        if (post && p.size() == 4 && what == "void") {
          route = "/v1/clients/{id}/void";
          require(Need::kStaffWrite);
          json body = ParseBody(r);
          const int64_t entry = Int(body, "entry");
          if (entry <= 0) Fail(Code::kInvalid, "the body needs \"entry\": the entry id (a positive integer)");
          const std::string reason = Str(body, "reason", true), key = Str(body, "key");
          std::string summary;
          std::lock_guard lock(StripeFor(client));
          app.DecideAndAppend(client, [&](const ClientState& s) { return projections::DecideVoid(s, uint64_t(entry), reason, app.now_us()); },
                              key, RequestText(r, body), &summary);
          return JsonReply(200, {{"client", client}, {"summary", summary}});
        }
        if (post && p.size() == 4 && what == "pay") {
          route = "/v1/clients/{id}/pay";
          require(Need::kAdmin);
          json body = ParseBody(r);
          const std::string amount = Str(body, "amount", true), ref = Str(body, "ref"), at = Str(body, "at"),
                            key = Str(body, "key");
          std::string summary;
          std::lock_guard lock(StripeFor(client));
          app.DecideAndAppend(client, [&](const ClientState& s) {
            const int64_t at_us = at.empty() ? app.now_us() : ParseTimeFlag(at, s.zone(), "at");
            return projections::DecidePay(s, ParseMoneyFor(s, amount, "amount"), ref, at_us, app.now_us());
          }, key, RequestText(r, body), &summary);
          return JsonReply(200, {{"client", client}, {"summary", summary}});
        }
      }
      return ErrorReply(404, fmt::format("no route {} {}; see docs/api.md", get ? "GET" : post ? "POST" : "?", r.path),
                        Code::kNotFound);
    } catch (const RoleFailure& f) {
      return ErrorReply(403, f.message, Code::kRefused);
    }
  }

  struct RoleFailure {
    std::string message;
  };

  json ClientList(App& app) {
    json arr = json::array();
    for (const std::string& id : app.ClientIds()) {
      ClientState s = app.LoadClient(id, {.retain_entries = false});
      const auto* t = s.TermsFor(s.FirstOpenMonth());
      arr.push_back({{"client", id}, {"name", s.name()}, {"currency", s.currency()}, {"timezone", s.zone().name()},
                     {"plan", t ? t->plan_id : ""}});
    }
    return arr;
  }

  json TokenList() {
    auto tokens = Must(Tokens());
    json arr = json::array();
    const projections::Zone utc = projections::Zone::Utc();
    for (const auto& [n, t] : tokens)
      arr.push_back({{"name", n}, {"role", RoleName(t.role)}, {"revoked", t.revoked}, {"issued_seq", t.issued_seq},
                     {"issued_at", utc.FormatIso(t.issued_at_us)}});
    return arr;
  }

  // {"events": [EventJson…], "next_after_seq": N, "more": bool}: events with seq > after_seq,
  // at most `limit` (default and maximum kEventsPageMax).
  json Events(App& app, const Request& r, const std::string& client) {
    ClientState probe = app.LoadClient(client, {.retain_entries = false});
    if (!probe.registered()) Fail(Code::kNotFound, fmt::format("unknown client '{}'; see `hourbank client list`", client));
    const uint64_t after = QInt(r, "after_seq", 0);
    uint64_t limit = QInt(r, "limit", kEventsPageMax);
    if (limit == 0 || limit > kEventsPageMax) limit = kEventsPageMax;
    ledger::ReadOptions read;
    const std::string known_at = Q(r, "known_at");
    if (!known_at.empty()) read.known_at_us = ParseTimeFlag(known_at, probe.zone(), "known_at");
    json events = json::array();
    uint64_t next = after;
    bool more = false;
    Must(app.log().ReadStream(client, 1, 0, [&](const ledger::EventView& v) {
      if (v.seq <= after) return true;
      if (events.size() >= limit) {
        more = true;
        return false;
      }
      events.push_back(EventJson(v.seq, v.event, probe.zone()));
      next = v.seq;
      return true;
    }, read));
    return {{"events", std::move(events)}, {"next_after_seq", next}, {"more", more}};
  }

  // POST work: the body as `hourbank log`'s flags; the answer as `hourbank log --json`.
  json LogWorkRoute(App& app, const Request& r, const std::string& client) {
    json body = ParseBody(r);
    const WorkBody parsed = ParseWorkBody(body, app.actor);
    const projections::LogWork& w = parsed.work;
    const std::string& at = parsed.at;
    const std::string& key = parsed.key;
    std::unique_lock lock(StripeFor(client));
    AppendOutcome out = app.DecideAndAppend(client, [&](const ClientState& st) {
        projections::LogWork cmd = w;
        cmd.at_us = at.empty() ? app.now_us() : ParseTimeFlag(at, st.zone(), "at");
        return projections::DecideLog(st, cmd, app.now_us());
    }, key, RequestText(r, body));
    ClientState s = app.LoadClient(client);
    lock.unlock();
    const projections::Entry* e = s.FindEntry(out.result.first_seq);
    json j = {{"client", client}, {"id", out.result.first_seq}, {"replayed", out.replayed}};
    if (e) {
      std::string paid = e->paid_by();
      if (e->month)
        for (const projections::Entry& x : s.EntriesFor(e->month))
          if (x.seq == e->seq) paid = x.paid_by(), j["billed_minor"] = x.billed_minor();
      j["paid_by"] = paid;
      j["month"] = MonthText(e->month);
    }
    j["balance"] = BalanceJson(s, e ? s.zone().MonthStartUs(e->month ? e->month : s.zone().MonthOf(app.now_us())) : app.now_us());
    return j;
  }

  ledger::Log& log_;
  const std::optional<int64_t> now_override_us_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::array<std::mutex, kClientStripes> stripes_;
  std::mutex metrics_mu_;
  std::map<std::string, RouteStats> routes_;
  std::mutex tokens_mu_;
  std::optional<std::map<std::string, TokenInfo>> tokens_;
  uint32_t tokens_version_ = 0;
};

// The kj-http side: reads the request, hands it to the pool, writes the reply.
class HttpFront final : public kj::HttpService {
 public:
  HttpFront(Server& server, kj::Timer& timer, kj::HttpHeaderId authorization)
      : server_(server), timer_(timer), authorization_(authorization) {}

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url, const kj::HttpHeaders& headers,
                            kj::AsyncInputStream& body, Response& response) override {
    const auto t0 = std::chrono::steady_clock::now();
    auto req = std::make_shared<Request>();
    req->method = method;
    std::string u(url.cStr(), url.size());
    const size_t q = u.find('?');
    req->path = u.substr(0, q);
    if (q != std::string::npos) req->query = ParseQuery(std::string_view(u).substr(q + 1));
    KJ_IF_MAYBE(a, headers.get(authorization_)) { req->authorization = std::string(a->cStr(), a->size()); }
    KJ_IF_MAYBE(len, body.tryGetLength()) {
      if (*len > kBodyBytesMax) return Send(response, ErrorReply(413, "the body is larger than 1 MiB", Code::kLimit), t0);
    }
    return body.readAllText(kBodyBytesMax + 1)
        .then([this, req, &response, t0](kj::String text) -> kj::Promise<void> {
          if (text.size() > kBodyBytesMax)
            return Send(response, ErrorReply(413, "the body is larger than 1 MiB", Code::kLimit), t0);
          req->body.assign(text.cStr(), text.size());
          auto work = server_.Submit(req).exclusiveJoin(timer_.afterDelay(kRequestTimeout).then([] {
            return ErrorReply(504, "the request took longer than 30 s; an append may still complete — retry with the same key",
                              Code::kIo);
          }));
          return work.then([this, &response, t0](Reply reply) { return Send(response, kj::mv(reply), t0); });
        }, [this, &response, t0](kj::Exception&& e) -> kj::Promise<void> {
          return Send(response, ErrorReply(400, std::string("cannot read the body: ") + e.getDescription().cStr()), t0);
        });
  }

 private:
  kj::Promise<void> Send(Response& response, Reply reply, std::chrono::steady_clock::time_point t0) {
    server_.Record(reply.route, reply.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    kj::HttpHeaders headers(headerTable());
    headers.set(kj::HttpHeaderId::CONTENT_TYPE, kj::heapString(reply.content_type.c_str()));
    auto text = kj::heapString(reply.body.data(), reply.body.size());
    auto stream = response.send(reply.status, StatusText(reply.status), headers, text.size());
    auto promise = stream->write(text.begin(), text.size());
    return promise.attach(kj::mv(stream), kj::mv(text));
  }

  static kj::StringPtr StatusText(unsigned status) {
    switch (status) {
      case 200: return "OK";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 403: return "Forbidden";
      case 404: return "Not Found";
      case 409: return "Conflict";
      case 413: return "Payload Too Large";
      case 422: return "Unprocessable Entity";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      case 504: return "Gateway Timeout";
      default: return "Status";
    }
  }

  const kj::HttpHeaderTable& headerTable() const { return *table_; }

 public:
  const kj::HttpHeaderTable* table_ = nullptr;

 private:
  Server& server_;
  kj::Timer& timer_;
  kj::HttpHeaderId authorization_;
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
};

void Serve(App& app, const ServeArgs& args) {
  const size_t colon = args.listen.rfind(':');
  if (colon == std::string::npos) Fail(Code::kInvalid, fmt::format("--listen '{}' is not HOST:PORT", args.listen));
  std::string host = args.listen.substr(0, colon);
  const std::string port_text = args.listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  for (char c : port_text)
    if (c < '0' || c > '9' || (port = port * 10 + unsigned(c - '0')) > 65535)
      Fail(Code::kInvalid, fmt::format("--listen '{}': the port must be 0-65535", args.listen));
  if (port_text.empty()) Fail(Code::kInvalid, fmt::format("--listen '{}' is not HOST:PORT", args.listen));

  // Signals are captured (blocked in every thread) before any worker thread exists.
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  auto io = kj::setupAsyncIo();

  ledger::Log& log = app.log();  // opened once; its LOCK keeps other processes out
  Server server(log, app.now_override_us);
  server.StartWorkers();

  kj::HttpHeaderTable::Builder builder;
  const kj::HttpHeaderId authorization = builder.add("Authorization");
  auto table = builder.build();
  HttpFront front(server, io.provider->getTimer(), authorization);
  front.table_ = table.get();
  kj::HttpServerSettings settings;
  settings.headerTimeout = 15 * kj::SECONDS;
  settings.pipelineTimeout = 5 * kj::SECONDS;
  kj::HttpServer http(io.provider->getTimer(), *table, front, settings);

  kj::Own<kj::ConnectionReceiver> listener;
  try {
    auto addr = io.provider->getNetwork().parseAddress(kj::StringPtr(host.c_str()), port).wait(io.waitScope);
    listener = addr->listen();
  } catch (const kj::Exception& e) {
    server.StopWorkers();
    Fail(Code::kIo, fmt::format("cannot listen on {}: {}", args.listen, e.getDescription().cStr()));
  }
  std::printf("listening on %s:%u\n", host.c_str(), listener->getPort());
  std::fflush(stdout);
  kj::Own<RpcService> rpc;
  if (!args.rpc_listen.empty()) {
    try {
      rpc = StartRpc(io, server, args.rpc_listen);  // prints "rpc listening on HOST:PORT"
    } catch (const CommandError&) {
      server.StopWorkers();
      throw;
    }
  }

  size_t open_connections = 0;
  TaskErrors errors;
  kj::TaskSet connections(errors);
  kj::Function<kj::Promise<void>()> accept_loop;
  accept_loop = [&]() -> kj::Promise<void> {
    return listener->accept().then([&](kj::Own<kj::AsyncIoStream> connection) {
      if (open_connections < kConnectionsMax) {
        ++open_connections;
        connections.add(http.listenHttp(kj::mv(connection)).attach(kj::defer([&open_connections] { --open_connections; })));
      }  // else: dropped, closing it
      return accept_loop();
    });
  };
  auto signal = io.unixEventPort.onSignal(SIGTERM).exclusiveJoin(io.unixEventPort.onSignal(SIGINT));
  kj::Promise<void> accepting = accept_loop();
  siginfo_t info = accepting.then([]() -> siginfo_t { KJ_UNREACHABLE; }).exclusiveJoin(kj::mv(signal)).wait(io.waitScope);
  (void)info;
  // Stop accepting (the accept loop was cancelled above), finish in-flight requests, close.
  // RPC connections and subscriptions are dropped first (an append already handed to a worker
  // still completes: StopWorkers drains the queue).
  rpc = nullptr;
  http.drain().wait(io.waitScope);
  server.StopWorkers();
  std::fprintf(stderr, "hourbank serve: stopped (head seq %llu)\n", static_cast<unsigned long long>(log.head_seq()));
  app.close_log();
}

}  // namespace

void RegisterServeCommands(CLI::App& cli, App& app) {
  RegisterTokenCommands(cli, app);
  auto args = std::make_shared<ServeArgs>();
  auto* serve = cli.add_subcommand("serve", "Serve the ledger over HTTP/JSON (docs/api.md); one process owns the ledger\n"
                                            "  e.g. hourbank serve --listen 127.0.0.1:8080");
  serve->add_option("--listen", args->listen, "HOST:PORT (port 0: pick a free one; the real one is printed)");
  serve->add_option("--rpc-listen", args->rpc_listen,
                    "HOST:PORT for Cap'n Proto RPC (schemas/rpc.capnp); prints \"rpc listening on HOST:PORT\"");
  serve->callback([&app, args] { Serve(app, *args); });
  RegisterRemoteClient(cli, app);
}

}  // namespace hourbank::cli
