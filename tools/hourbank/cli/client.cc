// The CLI as a client of `hourbank serve`: with --server URL (and --token), the read commands
// (balance, invoice, burned, report, history) and `log` are sent to the server and the JSON
// it returns is printed exactly as the local command prints it (the same *Text renderers).
//
// The hook is the main App's parse-complete callback: it runs after every option is parsed
// and before any subcommand's callback. A command handled remotely prints its output and
// ends the process (exit code 0, or the code of the server's error); a command that has no
// remote form yet fails with a message instead of silently opening a local ledger.
//
// HTTP: a small blocking HTTP/1.1 client, one connection per request, `Connection: close`,
// response body := Content-Length bytes or everything to EOF (the server always sends a
// length; chunked responses are not supported).
//
// HTTPS (`--server https://HOST:PORT`): OpenSSL, TLS 1.2 or later, the server's certificate
// verified against `--cacert FILE` (env HOURBANK_CACERT; without it the system's trust store)
// and its name or IP address checked against HOST. A failed verification is an error; there is
// no switch to skip it.
#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/server/serve.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;

namespace {

constexpr size_t kResponseBytesMax = 64u << 20;
constexpr int kSocketTimeoutSeconds = 60;

std::string g_cacert;  // --cacert / HOURBANK_CACERT

std::string SslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "the TLS connection failed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// One TLS session over a connected socket, verified; closes nothing (the caller owns fd).
struct Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
  }
  // "" when the handshake and the verification succeeded, else why not.
  std::string Connect(int fd, const std::string& host) {
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return SslError();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // The server may close without a close_notify; a truncated answer is still caught, since
    // the body must be Content-Length bytes long (HttpCall).
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!g_cacert.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, g_cacert.c_str(), nullptr) != 1)
        return fmt::format("--cacert '{}' is not a readable PEM certificate file", g_cacert);
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return SslError();
    }
    ssl = SSL_new(ctx);
    if (!ssl) return SslError();
    SSL_set_fd(ssl, fd);
    in6_addr ip6;
    in_addr ip4;
    const bool is_ip = inet_pton(AF_INET, host.c_str(), &ip4) == 1 || inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    }
    if (SSL_connect(ssl) != 1) {
      const long v = SSL_get_verify_result(ssl);
      if (v != X509_V_OK)
        return fmt::format("the server's certificate is not trusted ({}); pass the CA that signed it with --cacert",
                           X509_verify_cert_error_string(v));
      return SslError();
    }
    return {};
  }
};

struct HttpResult {
  unsigned status = 0;
  std::string body;
};

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += char(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// One request to `server_url` ("http://HOST:PORT" with an optional path prefix).
HttpResult HttpCall(const std::string& server_url, const std::string& token, const std::string& method,
                    const std::string& target, const std::string& body) {
  std::string rest = server_url;
  const bool https = rest.rfind("https://", 0) == 0;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (https) rest = rest.substr(8);
  else if (rest.find("://") != std::string::npos)
    Fail(Code::kInvalid, fmt::format("--server '{}': use an http:// or https:// URL", server_url));
  std::string prefix;
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    prefix = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host = rest, port = https ? "443" : "80";
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) Fail(Code::kInvalid, fmt::format("--server '{}' is not a URL", server_url));
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    Fail(Code::kIo, fmt::format("cannot resolve {}: {}", host, gai_strerror(rc)));
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{kSocketTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) Fail(Code::kIo, fmt::format("cannot connect to {}: {}; is `hourbank serve` running?", server_url, std::strerror(errno)));
  Tls tls;
  if (https) {
    const std::string why = tls.Connect(fd, host);
    if (!why.empty()) {
      close(fd);
      Fail(Code::kIo, fmt::format("TLS with {} failed: {}", server_url, why));
    }
  }
  auto send_some = [&](const char* p, size_t n) -> ssize_t {
    if (!https) return send(fd, p, n, MSG_NOSIGNAL);
    const int k = SSL_write(tls.ssl, p, int(std::min<size_t>(n, 1 << 30)));
    return k > 0 ? k : -1;
  };
  auto recv_some = [&](char* p, size_t n) -> ssize_t {
    if (!https) return recv(fd, p, n, 0);
    const int k = SSL_read(tls.ssl, p, int(n));
    if (k > 0) return k;
    const int e = SSL_get_error(tls.ssl, k);
    return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? 0 : -1;
  };
  std::string req = fmt::format("{} {}{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", method, prefix, target, rest);
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST")
    req += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  req += "\r\n";
  req += body;
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = send_some(req.data() + sent, req.size() - sent);
    if (n <= 0) {
      close(fd);
      Fail(Code::kIo, fmt::format("sending to {} failed: {}", server_url, std::strerror(errno)));
    }
    sent += size_t(n);
  }
  std::string resp;
  char buf[65536];
  for (;;) {
    ssize_t n = recv_some(buf, sizeof buf);
    if (n < 0) {
      close(fd);
      Fail(Code::kIo, fmt::format("reading from {} failed: {}", server_url, std::strerror(errno)));
    }
    if (n == 0) break;
    resp.append(buf, size_t(n));
    if (const size_t end = resp.find("\r\n\r\n"); end != std::string::npos) {
      // Complete once Content-Length bytes of body are in (the server always sends a length).
      std::string head = resp.substr(0, end);
      for (char& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
      if (const size_t cl = head.find("\r\ncontent-length:"); cl != std::string::npos &&
          resp.size() - end - 4 >= std::strtoull(head.c_str() + cl + 17, nullptr, 10))
        break;
    }
    if (resp.size() > kResponseBytesMax) {
      close(fd);
      Fail(Code::kLimit, "the server's response is larger than 64 MiB");
    }
  }
  close(fd);
  const size_t head_end = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || resp.size() < 12)
    Fail(Code::kIo, fmt::format("{} did not answer with HTTP", server_url));
  HttpResult out;
  out.status = unsigned(std::atoi(resp.c_str() + 9));
  out.body = resp.substr(head_end + 4);
  {
    std::string head = resp.substr(0, head_end);
    for (char& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (const size_t cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
      const size_t want = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
      if (out.body.size() < want) Fail(Code::kIo, fmt::format("the answer from {} was cut short", server_url));
      out.body.resize(want);
    }
  }
  return out;
}

Code CodeForStatus(unsigned status) {
  switch (status) {
    case 400: return Code::kInvalid;
    case 404: return Code::kNotFound;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kForbidden;
    case 409: return Code::kConflict;
    case 413: return Code::kLimit;
    case 414: return Code::kLimit;
    case 422: return Code::kRefused;
    case 503: return Code::kBusy;
    default: return Code::kInvalid;
  }
}

}  // namespace

// GET/POST and parse JSON; a non-2xx status becomes the server's error sentence.
json ServerCall(App& app, const std::string& method, const std::string& target, const json& body) {
  HttpResult r = HttpCall(app.server_url, app.token, method, target, body.is_null() ? std::string() : body.dump());
  json j = json::parse(r.body, nullptr, false);
  if (r.status / 100 != 2) {
    std::string message = j.is_object() && j.contains("error") && j["error"].is_string()
                              ? j["error"].get<std::string>()
                              : fmt::format("the server answered HTTP {}", r.status);
    if (r.status == 401) message = "the server refused the token: " + message + " (pass --token or HOURBANK_TOKEN)";
    if (r.status == 403) message = "not allowed: " + message;
    Fail(CodeForStatus(r.status), message);
  }
  if (j.is_discarded()) Fail(Code::kIo, "the server's answer is not JSON");
  return j;
}

namespace {

json Call(App& app, const std::string& method, const std::string& target) { return ServerCall(app, method, target); }

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
  if (app.json) app.PrintJson(j);
  else std::fputs(text(j).c_str(), stdout);
}

// Runs `cmd` against the server. Returns false when the command has no remote form.
bool RunRemote(App& app, CLI::App* cmd) {
  const std::string name = cmd->get_name();
  const std::string client = UrlEncode(Opt(cmd, "CLIENT"));
  const std::string times = Query({{"as_of", Opt(cmd, "--as-of")}, {"known_at", Opt(cmd, "--known-at")}});
  if (name == "balance") {
    const json j = Call(app, "GET", "/v1/clients/" + client + "/balance" + times);
    app.json ? app.PrintJson(j) : (void)std::fputs(BalanceText(j, {.wide = Flag(cmd, "--wide")}).c_str(), stdout);
  } else if (name == "invoice") {
    const json j = Call(app, "GET", "/v1/clients/" + client + "/invoices/" + UrlEncode(Opt(cmd, "MONTH")) + times);
    app.json ? app.PrintJson(j) : (void)std::fputs(InvoiceText(j, {.wide = Flag(cmd, "--wide")}).c_str(), stdout);
  } else if (name == "burned") {
    const std::string q = Query({{"from", Opt(cmd, "--from")}, {"to", Opt(cmd, "--to")}, {"as_of", Opt(cmd, "--as-of")},
                                 {"known_at", Opt(cmd, "--known-at")}});
    Print(app, Call(app, "GET", "/v1/clients/" + client + "/burned" + q), BurnedText);
  } else if (name == "report") {
    const json j = Call(app, "GET", "/v1/clients/" + client + "/report/" + UrlEncode(Opt(cmd, "MONTH")) + times);
    app.json ? app.PrintJson(j) : (void)std::fputs(ReportText(j, {.wide = Flag(cmd, "--wide")}).c_str(), stdout);
  } else if (name == "history") {
    const std::string from = Opt(cmd, "--from-seq");
    uint64_t after = from.empty() ? 0 : std::strtoull(from.c_str(), nullptr, 10);
    if (after > 0) --after;
    std::vector<std::vector<std::string>> rows = {{"seq", "type", "effective", "recorded", "actor"}};
    for (int page = 0; page < 1000000; ++page) {
      json j = Call(app, "GET", "/v1/clients/" + client + "/events" +
                                    Query({{"after_seq", std::to_string(after)}, {"known_at", Opt(cmd, "--known-at")}}));
      for (const json& e : j["events"]) {
        if (app.json) std::printf("%s\n", e.dump().c_str());
        else rows.push_back({std::to_string(e["seq"].get<uint64_t>()), e["type"], e["effective_at"].get<std::string>().substr(0, 16),
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
        rows.push_back({c.value("client", ""), c.value("name", ""), c.value("currency", ""), c.value("timezone", ""),
                        c.value("plan", "")});
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
  for (const char* n : {"log", "accept", "void", "buy", "pay", "adjust", "close", "incident", "contract"})
    if (name == n) return true;
  return (name == "client" && ParsedSub(cmd, "add")) || (name == "plan" && ParsedSub(cmd, "define"));
}

}  // namespace

void RegisterRemoteClient(CLI::App& cli, App& app) {
  if (const char* v = std::getenv("HOURBANK_CACERT")) g_cacert = v;
  cli.add_option("--cacert", g_cacert,
                 "PEM CA certificate that signed the https:// --server's certificate (env HOURBANK_CACERT)");
  cli.parse_complete_callback([&cli, &app] {
    if (app.server_url.empty()) return;
    for (CLI::App* cmd : cli.get_subcommands()) {
      if (cmd->get_name() == "serve") return;  // `serve` ignores --server
      if (SentByCallback(cmd)) return;  // the command's own callback sends its request (remote.h)
      if (!RunRemote(app, cmd))
        Fail(Code::kInvalid, fmt::format("`{}` is not available with --server yet; run it on the server's host without --server "
                                         "(reads, history, client list and every write work remotely)", cmd->get_name()));
      std::fflush(stdout);
      std::exit(0);  // handled: the local callback must not run (it would open a local ledger)
    }
  });
}

}  // namespace hourbank::cli
