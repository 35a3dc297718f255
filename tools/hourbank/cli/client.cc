// The CLI as a client of `hourbank serve`: with --server URL (and --token), every read, write,
// plan and token command goes to the server's routes (docs/api.md) and prints what the local
// command prints (the same renderers). The writes, sla, statement, plan and token commands send
// from their own callbacks (remote.h); the reads below (balance, invoice, burned, report, history,
// client list) are sent from the main App's parse-complete callback, which runs after every option
// is parsed and before any subcommand's callback, prints and ends the process. A command that
// works on the ledger's files (init, audit, verify, export, backup...) fails with a message
// instead of silently opening a local ledger.
//
// HTTP: kj-http (kj::HttpClient over one kj-async connection per request). Bounded: the
// connection (and the TLS handshake) must be up within kConnectTimeout, the answer (status,
// headers and body) must arrive within kReadTimeout, and a body over kResponseBytesMax is refused.
// Every failure is one sentence for Fail(): connection refused, name not resolved, TLS failure,
// timeout, an answer that is not HTTP.
//
// HTTPS (`--server https://HOST:PORT`): kj-tls, the server's certificate verified against
// `--cacert FILE` (env HOURBANK_CACERT; without it the system's trust store) and its DNS name
// checked against HOST. KJ's TLS matches DNS names only, so HOST must be a name (for a local
// server: https://localhost:PORT with a certificate for DNS:localhost); an IP address is refused
// with a message that says so. A failed verification is an error; there is no switch to skip it.
#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <kj/compat/tls.h>
#include <kj/exception.h>

#include <arpa/inet.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/server/serve.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;

namespace {

constexpr size_t kResponseBytesMax = 64u << 20;
constexpr size_t kCacertBytesMax = 1u << 20;
constexpr auto kConnectTimeout = 30 * kj::SECONDS;
constexpr auto kReadTimeout = 60 * kj::SECONDS;

std::string g_cacert;    // --cacert / HOURBANK_CACERT
std::string g_at_least;  // --at-least: sent as X-Hourbank-At-Least with every --server call

struct HttpResult {
  unsigned status = 0;
  std::string body;
};

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += char(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// "http[s]://HOST[:PORT][/prefix]" taken apart.
struct ServerUrl {
  bool https = false;
  std::string host;       // without brackets
  std::string authority;  // HOST[:PORT] as written (the Host header)
  std::string port;
  std::string prefix;  // no trailing '/'
};

ServerUrl ParseServerUrl(const std::string& server_url) {
  ServerUrl u;
  std::string rest = server_url;
  u.https = rest.rfind("https://", 0) == 0;
  if (rest.rfind("http://", 0) == 0)
    rest = rest.substr(7);
  else if (u.https)
    rest = rest.substr(8);
  else
    Fail(Code::kInvalid, fmt::format("--server '{}': use an http:// or https:// URL", server_url));
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    u.prefix = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  u.authority = rest;
  u.host = rest;
  u.port = u.https ? "443" : "80";
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos)
      Fail(Code::kInvalid, fmt::format("--server '{}' is not a URL", server_url));
    u.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') u.port = rest.substr(close + 2);
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    u.host = rest.substr(0, colon);
    u.port = rest.substr(colon + 1);
  }
  const bool port_ok = !u.port.empty() && u.port.size() <= 5 &&
                       u.port.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoul(u.port) <= 65535;
  if (u.host.empty() || !port_ok)
    Fail(Code::kInvalid,
         fmt::format("--server '{}' is not a URL (http[s]://HOST:PORT)", server_url));
  return u;
}

bool IsIpAddress(const std::string& host) {
  in_addr ip4;
  in6_addr ip6;
  return inet_pton(AF_INET, host.c_str(), &ip4) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
}

// The --cacert file's text, or Fail() with what to fix.
std::string ReadCacert() {
  std::ifstream in(g_cacert, std::ios::binary);
  std::string pem;
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    pem = ss.str();
  }
  if (pem.empty() || pem.size() > kCacertBytesMax ||
      pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    Fail(Code::kInvalid,
         fmt::format("--cacert '{}' is not a readable PEM certificate file", g_cacert));
  return pem;
}

// One line from a KJ exception: its description without KJ's "file:line: kind:" prefixes.
std::string Why(const kj::Exception& e) {
  std::string d = e.getDescription().cStr();
  if (const size_t nl = d.find('\n'); nl != std::string::npos) d.resize(nl);
  if (d.size() > 300) d = d.substr(0, 300) + "...";
  return d.empty() ? "unknown error" : d;
}

// `promise`'s value, or a KJ exception "timed out" after `limit`.
template <typename T>
T Within(kj::AsyncIoContext& io, kj::Duration limit, kj::Promise<T> promise) {
  return io.provider->getTimer().timeoutAfter(limit, kj::mv(promise)).wait(io.waitScope);
}

// One connection, TLS-wrapped for https; `tls` holds the TLS context while the stream lives.
kj::Own<kj::AsyncIoStream> Connect(kj::AsyncIoContext& io, const ServerUrl& u,
                                   const std::string& server_url, kj::Own<kj::TlsContext>& tls,
                                   kj::Duration limit) {
  kj::Own<kj::AsyncIoStream> stream;
  try {
    kj::Own<kj::NetworkAddress> addr =
        Within(io, limit,
               io.provider->getNetwork().parseAddress(u.host.c_str(), uint(std::stoul(u.port))));
    stream = Within(io, limit, addr->connect());
  } catch (const kj::Exception& e) {
    if (e.getType() == kj::Exception::Type::OVERLOADED &&
        Why(e).find("timed out") != std::string::npos)
      Fail(Code::kIo, fmt::format("cannot connect to {}: no answer within {} s", server_url,
                                  limit / kj::SECONDS));
    if (Why(e).find("DNS lookup failed") != std::string::npos)
      Fail(Code::kIo,
           fmt::format("cannot resolve the host name '{}' of --server {}", u.host, server_url));
    if (Why(e).find("DNS lookup failed") != std::string::npos)
      Fail(Code::kIo,
           fmt::format("cannot resolve the host name '{}' of --server {}", u.host, server_url));
    Fail(Code::kIo,
         fmt::format("cannot connect to {}: {}; is `hourbank serve` running?", server_url, Why(e)));
  }
  if (!u.https) return stream;
  kj::TlsContext::Options options;
  kj::Maybe<kj::TlsCertificate> ca;
  if (!g_cacert.empty()) {
    const std::string pem = ReadCacert();
    try {
      ca = kj::TlsCertificate(kj::StringPtr(pem.c_str()));
    } catch (const kj::Exception&) {
      Fail(Code::kInvalid,
           fmt::format("--cacert '{}' is not a readable PEM certificate file", g_cacert));
    }
    KJ_IF_MAYBE (c, ca) options.trustedCertificates = kj::arrayPtr(c, 1);
    options.useSystemTrustStore = false;
  }
  try {
    tls = kj::heap<kj::TlsContext>(kj::mv(options));
    return Within(io, limit, tls->wrapClient(kj::mv(stream), u.host.c_str()));
  } catch (const kj::Exception& e) {
    const std::string why = Why(e);
    if (why.find("certificate") != std::string::npos || why.find("verify") != std::string::npos)
      Fail(Code::kIo, fmt::format("TLS with {} failed: the server's certificate is not trusted for "
                                  "'{}' ({}); pass the CA "
                                  "that signed it with --cacert",
                                  server_url, u.host, why));
    Fail(Code::kIo, fmt::format("TLS with {} failed: {}", server_url, why));
  }
}

// One request to `server_url` ("http[s]://HOST:PORT" with an optional path prefix).
// Per-call limits and headers (a webhook POST sets its own; ServerCall uses the defaults).
struct CallOptions {
  std::vector<std::pair<std::string, std::string>> headers;
  kj::Duration connect_timeout = kConnectTimeout, read_timeout = kReadTimeout;
  size_t body_bytes_max = kResponseBytesMax;
  bool keep_status_past_limit = false;  // a longer body is cut, not an error
};

HttpResult HttpCall(const std::string& server_url, const std::string& token,
                    const std::string& method, const std::string& target, const std::string& body,
                    const CallOptions& o = {}) {
  const ServerUrl u = ParseServerUrl(server_url);
  if (u.https && IsIpAddress(u.host))
    Fail(Code::kInvalid,
         fmt::format(
             "--server '{}': name an https server by its DNS name (e.g. https://localhost:{}); "
             "the certificate check matches host names, not IP addresses",
             server_url, u.port));
  auto io = kj::setupAsyncIo();
  kj::Own<kj::TlsContext> tls;
  kj::Own<kj::AsyncIoStream> stream = Connect(io, u, server_url, tls, o.connect_timeout);
  HttpResult out;
  try {
    kj::HttpHeaderTable table;
    kj::Own<kj::HttpClient> client = kj::newHttpClient(table, *stream);
    kj::HttpHeaders headers(table);
    headers.set(kj::HttpHeaderId::HOST, u.authority.c_str());
    const std::string auth = "Bearer " + token;
    if (!token.empty()) headers.add("Authorization", auth.c_str());
    for (const auto& [name, value] : o.headers) headers.add(name, value);
    const bool has_body = !body.empty() || method == "POST";
    if (has_body) headers.set(kj::HttpHeaderId::CONTENT_TYPE, "application/json");
    std::string path = u.prefix + target;
    if (path.empty()) path = "/";
    const kj::HttpMethod m = method == "POST" ? kj::HttpMethod::POST : kj::HttpMethod::GET;
    auto request = client->request(m, path.c_str(), headers,
                                   has_body ? kj::Maybe<uint64_t>(body.size()) : nullptr);
    kj::Promise<void> sent =
        has_body ? request.body->write(body.data(), body.size()).attach(kj::mv(request.body))
                 : kj::Promise<void>(kj::READY_NOW);
    auto answer =
        sent.then([response = kj::mv(request.response)]() mutable { return kj::mv(response); })
            .then([&out, &o](kj::HttpClient::Response&& r) {
              out.status = r.statusCode;
              return r.body->readAllText(o.body_bytes_max)
                  .attach(kj::mv(r.body));  // "limit" past it
            });
    kj::String text = Within(io, o.read_timeout, kj::mv(answer));
    out.body.assign(text.cStr(), text.size());
  } catch (const kj::Exception& e) {
    const std::string why = Why(e);
    if (o.keep_status_past_limit && out.status != 0 && why.find("limit") != std::string::npos)
      return out;
    if (why.find("timed out") != std::string::npos)
      Fail(Code::kIo,
           fmt::format("{} did not answer within {} s", server_url, o.read_timeout / kj::SECONDS));
    if (why.find("limit") != std::string::npos)
      Fail(Code::kLimit, fmt::format("the answer from {} is larger than {} MiB", server_url,
                                     kResponseBytesMax >> 20));
    Fail(Code::kIo, fmt::format("{} did not answer with HTTP: {}", server_url, why));
  }
  return out;
}

Code CodeForStatus(unsigned status) {
  switch (status) {
    case 400:
      return Code::kInvalid;
    case 404:
      return Code::kNotFound;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kForbidden;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kLimit;
    case 414:
      return Code::kLimit;
    case 422:
      return Code::kRefused;
    case 503:
      return Code::kBusy;
    default:
      return Code::kInvalid;
  }
}

}  // namespace

namespace {

// A non-2xx status becomes Fail() with the server's error sentence.
void FailOnStatus(const HttpResult& r) {
  if (r.status / 100 == 2) return;
  const json j = json::parse(r.body, nullptr, false);
  {
    std::string message = j.is_object() && j.contains("error") && j["error"].is_string()
                              ? j["error"].get<std::string>()
                              : fmt::format("the server answered HTTP {}", r.status);
    if (r.status == 401)
      message = "the server refused the token: " + message + " (pass --token or HOURBANK_TOKEN)";
    if (r.status == 403) message = "not allowed: " + message;
    Fail(CodeForStatus(r.status), message);
  }
}

}  // namespace

namespace {

// A call to the --server: with --at-least, the node answers once it shows that position.
CallOptions ServerCallOptions() {
  CallOptions o;
  if (!g_at_least.empty()) o.headers.emplace_back("X-Hourbank-At-Least", g_at_least);
  return o;
}

}  // namespace

// GET/POST and parse JSON.
json ServerCall(App& app, const std::string& method, const std::string& target, const json& body) {
  const HttpResult r = HttpCall(app.server_url, app.token, method, target,
                                body.is_null() ? std::string() : body.dump(), ServerCallOptions());
  FailOnStatus(r);
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) Fail(Code::kIo, "the server's answer is not JSON");
  return j;
}

WebhookPostResult PostWebhook(const std::string& url,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, int64_t timeout_ms) {
  CallOptions o;
  o.headers = headers;
  o.connect_timeout = o.read_timeout = timeout_ms * kj::MILLISECONDS;
  o.body_bytes_max = 64u << 10;  // the receiver's answer is not kept: its status is
  o.keep_status_past_limit = true;
  WebhookPostResult out;
  try {
    out.status = HttpCall(url, "", "POST", "", body, o).status;
  } catch (const CommandError& e) {  // one sentence: refused, timed out, TLS, not HTTP
    out.error = e.error.message;
    if (const size_t hint = out.error.find("; is `hourbank serve`"); hint != std::string::npos)
      out.error.resize(hint);
  }
  return out;
}

std::string ServerDocument(App& app, const std::string& target) {
  HttpResult r = HttpCall(app.server_url, app.token, "GET", target, {}, ServerCallOptions());
  FailOnStatus(r);
  return std::move(r.body);
}

namespace {

json Call(App& app, const std::string& method, const std::string& target) {
  return ServerCall(app, method, target);
}

std::string Opt(CLI::App* cmd, const char* name) {
  CLI::Option* o = cmd->get_option_no_throw(name);
  if (!o || o->count() == 0) return {};
  return o->as<std::string>();
}
bool Flag(CLI::App* cmd, const char* name) {
  CLI::Option* o = cmd->get_option_no_throw(name);
  return o && o->count() > 0 && o->as<bool>();
}
// True when `cmd`'s subcommand `name` was given.
bool ParsedSub(CLI::App* cmd, const char* name) {
  for (CLI::App* sub : cmd->get_subcommands())
    if (sub->get_name() == name) return true;
  return false;
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + k + "=" + UrlEncode(v);
  }
  return q;
}

void Print(App& app, const json& j, std::string (*text)(const json&)) {
  if (app.json)
    app.PrintJson(j);
  else
    std::fputs(text(j).c_str(), stdout);
}

// Runs `cmd` against the server. Returns false when the command has no remote form.
bool RunRemote(App& app, CLI::App* cmd) {
  const std::string name = cmd->get_name();
  const std::string client = UrlEncode(Opt(cmd, "CLIENT"));
  const std::string times =
      Query({{"as_of", Opt(cmd, "--as-of")}, {"known_at", Opt(cmd, "--known-at")}});
  if (name == "balance") {
    const json j = Call(app, "GET", "/v1/clients/" + client + "/balance" + times);
    app.json ? app.PrintJson(j)
             : (void)std::fputs(BalanceText(j, {.wide = Flag(cmd, "--wide")}).c_str(), stdout);
  } else if (name == "invoice") {
    const json j = Call(
        app, "GET", "/v1/clients/" + client + "/invoices/" + UrlEncode(Opt(cmd, "MONTH")) + times);
    app.json ? app.PrintJson(j)
             : (void)std::fputs(InvoiceText(j, {.wide = Flag(cmd, "--wide")}).c_str(), stdout);
  } else if (name == "burned") {
    const std::string q = Query({{"from", Opt(cmd, "--from")},
                                 {"to", Opt(cmd, "--to")},
                                 {"as_of", Opt(cmd, "--as-of")},
                                 {"known_at", Opt(cmd, "--known-at")}});
    Print(app, Call(app, "GET", "/v1/clients/" + client + "/burned" + q), BurnedText);
  } else if (name == "report") {
    const json j = Call(
        app, "GET", "/v1/clients/" + client + "/report/" + UrlEncode(Opt(cmd, "MONTH")) + times);
    app.json ? app.PrintJson(j)
             : (void)std::fputs(ReportText(j, {.wide = Flag(cmd, "--wide")}).c_str(), stdout);
  } else if (name == "history") {
    const std::string from = Opt(cmd, "--from-seq");
    uint64_t after = from.empty() ? 0 : std::strtoull(from.c_str(), nullptr, 10);
    if (after > 0) --after;
    std::vector<std::vector<std::string>> rows = {
        {"seq", "type", "effective", "recorded", "actor"}};
    for (int page = 0; page < 1000000; ++page) {
      json j = Call(
          app, "GET",
          "/v1/clients/" + client + "/events" +
              Query({{"after_seq", std::to_string(after)}, {"known_at", Opt(cmd, "--known-at")}}));
      for (const json& e : j["events"]) {
        if (app.json)
          std::printf("%s\n", e.dump().c_str());
        else
          rows.push_back({std::to_string(e["seq"].get<uint64_t>()), e["type"],
                          e["effective_at"].get<std::string>().substr(0, 16),
                          e["recorded_at"].get<std::string>().substr(0, 16), e["actor"]});
      }
      after = j["next_after_seq"].get<uint64_t>();
      if (!j["more"].get<bool>()) break;
    }
    if (!app.json) std::fputs(Table(rows).c_str(), stdout);
  } else if (name == "client" && ParsedSub(cmd, "list")) {
    json j = Call(app, "GET", "/v1/clients");
    if (app.json) {
      app.PrintJson(j);
    } else {
      std::vector<std::vector<std::string>> rows = {{"client", "name", "currency", "zone", "plan"}};
      for (const json& c : j)
        rows.push_back({c.value("client", ""), c.value("name", ""), c.value("currency", ""),
                        c.value("timezone", ""), c.value("plan", "")});
      std::fputs(Table(rows).c_str(), stdout);
    }
  } else {
    return false;
  }
  return true;
}

// The writes whose callbacks build a service request and send it with --server (remote.h).
bool SentByCallback(CLI::App* cmd) {
  const std::string name = cmd->get_name();
  for (const char* n :
       {"log",      "accept",     "void",    "buy",       "pay",    "adjust", "close",
        "incident", "contract",   "sla",     "statement", "plan",   "token",  "forecast",
        "whatif",   "write-down", "approve", "reject",    "review", "alerts", "webhook"})
    if (name == n) return true;
  return name == "client" && ParsedSub(cmd, "add");
}

}  // namespace

void RegisterRemoteClient(CLI::App& cli, App& app) {
  if (const char* v = std::getenv("HOURBANK_CACERT")) g_cacert = v;
  cli.add_option(
      "--cacert", g_cacert,
      "PEM CA certificate that signed the https:// --server's certificate (env HOURBANK_CACERT)");
  cli.add_option("--at-least", g_at_least,
                 "with --server: the node answers once it shows this position (an append's id, "
                 "from any node), waiting up to 5 s (header X-Hourbank-At-Least; "
                 "docs/replicated-log.md)");
  cli.parse_complete_callback([&cli, &app] {
    if (!g_at_least.empty() &&
        (g_at_least.size() > 20 || g_at_least.find_first_not_of("0123456789") != std::string::npos))
      Fail(Code::kInvalid,
           fmt::format("--at-least must be a position: the id an append answered (got '{}')",
                       TerminalSafe(g_at_least.substr(0, 64))));
    if (app.server_url.empty()) {
      if (!g_at_least.empty())
        Fail(Code::kInvalid,
             "--at-least goes with --server (a serve node); a local ledger shows every append");
      return;
    }
    for (CLI::App* cmd : cli.get_subcommands()) {
      if (cmd->get_name() == "serve") return;  // `serve` ignores --server
      if (SentByCallback(cmd)) return;  // the command's own callback sends its request (remote.h)
      if (!RunRemote(app, cmd))
        Fail(
            Code::kInvalid,
            fmt::format(
                "`{}` works on the ledger's files and has no --server form; run it on the server's "
                "host without --server (every read, write, plan and token command works remotely)",
                cmd->get_name()));
      std::fflush(stdout);
      std::exit(0);  // handled: the local callback must not run (it would open a local ledger)
    }
  });
}

}  // namespace hourbank::cli
