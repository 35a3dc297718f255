// hourbank-bench: balance reads over HTTP against a real `hourbank serve` child, from several
// keep-alive connections at once (run.cc's HTTP rows).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/bench/run.h"

namespace hourbank::bench {

namespace {

int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One keep-alive GET; returns the status code or -1. Reads exactly Content-Length bytes.
int Get(int fd, const std::string& path, const std::string& token) {
  const std::string req = fmt::format(
      "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n", path, token);
  if (write(fd, req.data(), req.size()) != ssize_t(req.size())) return -1;
  std::string buf;
  char chunk[16384];
  size_t header_end = std::string::npos, need = 0;
  for (int reads = 0; reads < 100000; ++reads) {  // bounded
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return -1;
    buf.append(chunk, size_t(n));
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      std::string lower = buf.substr(0, header_end);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return char(std::tolower(c)); });
      const size_t cl = lower.find("content-length:");
      need = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
    }
    if (buf.size() >= header_end + 4 + need) return std::atoi(buf.c_str() + 9);
  }
  return -1;
}

std::string IssueToken(const std::string& exe, const std::string& ledger_dir) {
  ProcessResult tok =
      RunProcess({exe, "--ledger", ledger_dir, "--actor", "bench", "--json", "token", "issue",
                  fmt::format("bench-{}-{}", getpid(), time(nullptr)), "--role",
                  "billing"});  // a new name: the ledger may be reused
  try {
    return nlohmann::json::parse(tok.out).value("token", "");
  } catch (const std::exception&) {
    return "";
  }
}

// Starts `hourbank serve` on a free loopback port; returns its pid and port (0: not reported).
std::pair<pid_t, uint16_t> StartServe(const std::string& exe, const std::string& ledger_dir,
                                      const std::string& log_path, const std::string& now) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!now.empty()) setenv("HOURBANK_NOW", now.c_str(), 1);
    FILE* f = std::freopen(log_path.c_str(), "w", stdout);
    (void)f;
    FILE* g = std::freopen(log_path.c_str(), "a", stderr);
    (void)g;
    execl(exe.c_str(), exe.c_str(), "--ledger", ledger_dir.c_str(), "serve", "--listen",
          "127.0.0.1:0", nullptr);
    _exit(127);
  }
  uint16_t port = 0;
  for (int i = 0; i < 100 && port == 0 && pid > 0; ++i) {  // up to 10 s
    usleep(100000);
    std::ifstream in(log_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find("127.0.0.1:");
    if (at != std::string::npos) port = uint16_t(std::atoi(text.c_str() + at + 10));
  }
  return {pid, port};
}

// CPU time (user + system, every thread) the process `pid` has used so far, in µs; -1 if unknown.
int64_t ProcessCpuUs(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  int64_t utime = -1, stime = -1;
  for (int i = 3; i <= 15 && fields >> f; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i == 14) utime = std::atoll(f.c_str());
    if (i == 15) stime = std::atoll(f.c_str());
  }
  const long tick = sysconf(_SC_CLK_TCK);
  if (utime < 0 || stime < 0 || tick <= 0) return -1;
  return (utime + stime) * (1000000 / tick);
}

// `queries` balance reads spread over `ids`, from `connections` threads; latencies in µs.
std::vector<double> Load(uint16_t port, const std::string& token,
                         const std::vector<std::string>& ids, size_t queries, uint32_t connections,
                         std::atomic<int>* bad) {
  std::vector<std::vector<double>> lat(connections);
  std::vector<std::thread> pool;
  for (uint32_t c = 0; c < connections; ++c)
    pool.emplace_back([&, c] {
      const int fd = Connect(port);
      if (fd < 0) return void(++*bad);
      for (size_t i = c; i < queries; i += connections) {
        const auto t0 = std::chrono::steady_clock::now();
        const int code = Get(fd, "/v1/clients/" + ids[(i * 7919) % ids.size()] + "/balance", token);
        lat[c].push_back(SecondsSince(t0) * 1e6);
        if (code != 200) ++*bad;
        if (code < 0) break;
      }
      close(fd);
    });
  for (auto& t : pool) t.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  return all;
}

}  // namespace

HttpFigure HttpBalance(const HttpLoadOptions& o) {
  HttpFigure f;
  if (!Executable(o.hourbank_exe)) return {.skipped = "skipped: no hourbank binary"};
  if (RunProcess({o.hourbank_exe, "serve", "--help"}).exit_code != 0)
    return {.skipped = "skipped: serve not available"};
  const std::string token = IssueToken(o.hourbank_exe, o.ledger_dir);
  if (token.empty()) return {.skipped = "skipped: could not issue a token"};
  if (o.ids.empty()) return {.skipped = "skipped: no clients"};
  const auto [pid, port] = StartServe(o.hourbank_exe, o.ledger_dir, o.log_path, o.now);
  std::atomic<int> bad{0};
  if (port != 0) {
    // Warm-up: one request per client makes the server catch each client's state up once;
    // the target is for a caught-up projection, which is what the measured requests read.
    (void)Load(port, token, o.ids, o.ids.size(), 1, &bad);
    bad = 0;
    const int64_t cpu_before = ProcessCpuUs(pid);
    f.latencies_us = Load(port, token, o.ids, o.queries, o.connections, &bad);
    const int64_t cpu_after = ProcessCpuUs(pid);
    if (cpu_before >= 0 && cpu_after >= cpu_before) f.server_cpu_us = cpu_after - cpu_before;
  }
  if (pid > 0) {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  if (port == 0) return {.skipped = "skipped: serve did not report its port"};
  if (f.latencies_us.empty() || bad > 0)
    return {.skipped = fmt::format("failed: {} non-200 responses", bad.load())};
  f.ok = true;
  return f;
}

std::string HttpClockFor(
    const std::map<std::string, projections::ClientState, std::less<>>& states) {
  uint32_t month = 0;
  for (const auto& [id, s] : states) month = std::max(month, s.FirstOpenMonth());
  if (month == 0) return "";
  return projections::FormatMonth(month) + "-11T12:00:00Z";
}

Row HttpRow(const std::string& what, const HttpFigure& f, const std::string& peer,
            nlohmann::json* j) {
  if (!f.ok) {
    *j = {{"skipped", f.skipped}};
    return {what, f.skipped, "-", "-", "p99 <= 1 ms", "-"};
  }
  const double p50 = Percentile(f.latencies_us, 0.5), p99 = Percentile(f.latencies_us, 0.99);
  *j = {{"queries", f.latencies_us.size()}, {"p50_us", p50}, {"p99_us", p99}};
  return {what,          fmt::format("{:.0f} / {:.0f}", p50, p99),
          peer,          "-",
          "p99 <= 1 ms", Verdict(p99 <= 1000)};
}

}  // namespace hourbank::bench
