// hourbank-bench: balance reads over HTTP against a real `hourbank serve` child, from several
// keep-alive connections at once (run.cc's HTTP rows), driven two ways: all connections from
// one epoll thread (the figure the target is judged on) and one blocking thread per connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/bench/run.h"

namespace hourbank::bench {

namespace {

// Bounds on one response: a balance is a few hundred bytes; anything past these is not one.
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 1024 * 1024;

// A loopback connection with TCP_NODELAY; -1 when it fails. Blocking, with send and receive
// timeouts of `timeout_s` so a thread per connection cannot hang on a silent server.
int Connect(uint16_t port, int timeout_s) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
  const timeval tv{.tv_sec = timeout_s, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

std::string BalanceRequest(const std::string& id, const std::string& token) {
  return fmt::format(
      "GET /v1/clients/{}/balance HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
      id, token);
}

// The status of the HTTP/1.x response at the start of `buf`, its length (headers and
// Content-Length body) in `*size`. 0 while it is incomplete; -1 when it is not a response
// this bench reads (no status line, a bad Content-Length, headers or body past the bounds).
int ParseResponse(std::string_view buf, size_t* size) {
  const size_t header_end = buf.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return buf.size() > kMaxHeaderBytes ? -1 : 0;
  if (header_end > kMaxHeaderBytes) return -1;
  const std::string_view head = buf.substr(0, header_end + 2);  // each line ends in CRLF
  int status = 0;
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ' ||
      std::from_chars(head.data() + 9, head.data() + 12, status).ptr != head.data() + 12 ||
      status < 100)
    return -1;
  size_t need = 0;  // no Content-Length: no body (the server always sends one)
  for (size_t at = head.find("\r\n"); at != std::string_view::npos && at + 2 < head.size();
       at = head.find("\r\n", at + 2)) {
    constexpr std::string_view kName = "content-length:";
    const std::string_view line = head.substr(at + 2, head.find("\r\n", at + 2) - at - 2);
    if (line.size() < kName.size() ||
        !std::equal(kName.begin(), kName.end(), line.begin(), [](char n, char c) {
          return n == std::tolower(static_cast<unsigned char>(c));
        }))
      continue;
    std::string_view v = line.substr(kName.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), need);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty() || need > kMaxBodyBytes)
      return -1;
  }
  if (buf.size() < header_end + 4 + need) return 0;
  *size = header_end + 4 + need;
  return status;
}

// One keep-alive GET on a blocking socket; returns the status code or -1.
int Get(int fd, const std::string& request) {
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) return -1;
  std::string buf;
  char chunk[16384];
  while (true) {  // bounded: ParseResponse fails past kMaxHeaderBytes + kMaxBodyBytes
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return -1;
    buf.append(chunk, size_t(n));
    size_t size = 0;
    const int status = ParseResponse(buf, &size);
    if (status != 0) return size == buf.size() ? status : -1;  // nothing may follow it
  }
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

// The id the i-th read asks for: the same spread over the ids in both ways of loading.
const std::string& IdOf(const std::vector<std::string>& ids, size_t i) {
  return ids[(i * 7919) % ids.size()];
}

// `queries` balance reads spread over `ids`, from `connections` threads (one blocking
// connection each, reads i = c, c + connections, ...); latencies in µs.
std::vector<double> LoadThreads(uint16_t port, const std::string& token,
                                const std::vector<std::string>& ids, size_t queries,
                                uint32_t connections, int timeout_s, std::atomic<int>* bad) {
  std::vector<std::vector<double>> lat(connections);
  std::vector<std::thread> pool;
  for (uint32_t c = 0; c < connections; ++c)
    pool.emplace_back([&, c] {
      const int fd = Connect(port, timeout_s);
      if (fd < 0) return void(++*bad);
      for (size_t i = c; i < queries; i += connections) {
        const auto t0 = std::chrono::steady_clock::now();
        const int code = Get(fd, BalanceRequest(IdOf(ids, i), token));
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

// One connection of LoadEventLoop: a closed loop of reads i = c, c + connections, ...
struct EventConn {
  int fd = -1;
  size_t next = 0;        // the read to send next
  std::string out;        // the request being sent
  size_t sent = 0;        // bytes of `out` written
  std::string in;         // the response so far
  bool want_out = false;  // EPOLLOUT in its epoll events: a request waits for buffer space
  std::chrono::steady_clock::time_point t0;
  std::vector<double> lat;
};

// The same reads as LoadThreads (same requests, same spread, each connection's next read sent
// when its previous response is complete), from ONE thread: every connection non-blocking under
// one epoll set. A connection that fails (connect, I/O error, peer closed, a response that does
// not parse or has bytes after it) counts one bad answer and stops; a non-200 answer counts one
// and the connection goes on. After `timeout_s` every unfinished connection counts one bad
// answer and `*timed_out` is set.
std::vector<double> LoadEventLoop(uint16_t port, const std::string& token,
                                  const std::vector<std::string>& ids, size_t queries,
                                  uint32_t connections, int timeout_s, std::atomic<int>* bad,
                                  bool* timed_out) {
  std::vector<EventConn> conns(connections);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    *bad += int(connections);
    return {};
  }
  size_t active = 0;
  auto drop = [&](EventConn& c) {
    ++*bad;
    close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    --active;
  };
  auto watch = [&](EventConn& c, bool out) {  // EPOLLIN always; EPOLLOUT while `out`
    if (c.want_out == out) return true;
    c.want_out = out;
    epoll_event ev{.events = EPOLLIN | (out ? uint32_t(EPOLLOUT) : 0u),
                   .data = {.u64 = uint64_t(&c - conns.data())}};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) == 0;
  };
  // Writes what is left of c.out; waits for EPOLLOUT when the socket buffer is full.
  auto flush = [&](EventConn& c) {
    while (c.sent < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += size_t(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!watch(c, true)) drop(c);
        return;
      } else {
        return drop(c);
      }
    }
    if (!watch(c, false)) drop(c);
  };
  // Sends c's next read, or closes c when it has sent all of its reads.
  auto start = [&](EventConn& c) {
    if (c.next >= queries) {
      close(c.fd);
      c.fd = -1;
      --active;
      return;
    }
    c.t0 = std::chrono::steady_clock::now();
    c.out = BalanceRequest(IdOf(ids, c.next), token);
    c.next += connections;
    c.sent = 0;
    c.in.clear();
    flush(c);
  };
  // Reads what c's socket holds; ends the read when its response is complete.
  auto receive = [&](EventConn& c) {
    char chunk[16384];
    const ssize_t n = read(c.fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0 || c.sent < c.out.size()) return drop(c);  // closed, failed, or answered early
    c.in.append(chunk, size_t(n));
    size_t size = 0;
    const int status = ParseResponse(c.in, &size);
    if (status == 0) return;  // bounded: ParseResponse fails past its limits
    if (status < 0 || size != c.in.size()) return drop(c);
    c.lat.push_back(SecondsSince(c.t0) * 1e6);
    if (status != 200) ++*bad;
    start(c);
  };

  for (uint32_t k = 0; k < connections; ++k) {
    EventConn& c = conns[k];
    c.next = k;
    c.fd = Connect(port, timeout_s);
    int flags = c.fd < 0 ? -1 : fcntl(c.fd, F_GETFL);
    epoll_event ev{.events = EPOLLIN, .data = {.u64 = k}};
    if (flags < 0 || fcntl(c.fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      ++*bad;
      if (c.fd >= 0) close(c.fd);
      c.fd = -1;
      continue;
    }
    ++active;
  }
  for (EventConn& c : conns)
    if (c.fd >= 0) start(c);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::array<epoll_event, 64> events;
  while (active > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *timed_out = true;
      for (EventConn& c : conns)
        if (c.fd >= 0) drop(c);
      break;
    }
    const int n = epoll_wait(ep, events.data(), int(events.size()),
                             int(std::min<int64_t>(left.count() + 1, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      for (EventConn& c : conns)
        if (c.fd >= 0) drop(c);
      break;
    }
    for (int e = 0; e < n; ++e) {
      const uint64_t k = events[size_t(e)].data.u64;
      if (k >= conns.size() || conns[k].fd < 0) continue;  // dropped earlier in this batch
      EventConn& c = conns[k];
      const uint32_t what = events[size_t(e)].events;
      if ((what & EPOLLOUT) && c.sent < c.out.size()) {
        flush(c);
        if (c.fd < 0) continue;
      }
      if (what & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(c);
    }
  }
  close(ep);
  std::vector<double> all;
  for (auto& c : conns) all.insert(all.end(), c.lat.begin(), c.lat.end());
  return all;
}

// The measured reads of one way of loading, with the server's CPU over them.
HttpFigure Measure(pid_t pid, uint32_t client_threads,
                   const std::function<std::vector<double>(std::atomic<int>*, bool*)>& load) {
  HttpFigure f;
  f.client_threads = client_threads;
  std::atomic<int> bad{0};
  bool timed_out = false;
  const int64_t cpu_before = ProcessCpuUs(pid);
  const auto t0 = std::chrono::steady_clock::now();
  f.latencies_us = load(&bad, &timed_out);
  f.seconds = SecondsSince(t0);
  const int64_t cpu_after = ProcessCpuUs(pid);
  if (cpu_before >= 0 && cpu_after >= cpu_before) f.server_cpu_us = cpu_after - cpu_before;
  if (f.latencies_us.empty() || bad > 0) {
    f.skipped = fmt::format("failed: {} bad answers{}", bad.load(),
                            timed_out ? " (the run timed out)" : "");
    f.latencies_us.clear();
    return f;
  }
  f.ok = true;
  return f;
}

}  // namespace

HttpFigures HttpBalance(const HttpLoadOptions& o) {
  auto both = [](const std::string& why) {
    return HttpFigures{.event_loop = {.skipped = why}, .threads = {.skipped = why}};
  };
  if (!Executable(o.hourbank_exe)) return both("skipped: no hourbank binary");
  if (RunProcess({o.hourbank_exe, "serve", "--help"}).exit_code != 0)
    return both("skipped: serve not available");
  const std::string token = IssueToken(o.hourbank_exe, o.ledger_dir);
  if (token.empty()) return both("skipped: could not issue a token");
  if (o.ids.empty()) return both("skipped: no clients");
  const auto [pid, port] = StartServe(o.hourbank_exe, o.ledger_dir, o.log_path, o.now);
  HttpFigures f = both("skipped: serve did not report its port");
  if (port != 0) {
    // Warm-up: one request per client makes the server catch each client's state up once;
    // the target is for a caught-up projection, which is what the measured requests read.
    const uint16_t p = port;
    std::atomic<int> warm_bad{0};  // not counted, as before: the measured reads count theirs
    (void)LoadThreads(p, token, o.ids, o.ids.size(), 1, o.timeout_seconds, &warm_bad);
    // Then the same reads both ways, one after the other, against the same caught-up server.
    f.event_loop = Measure(pid, 1, [&](std::atomic<int>* bad, bool* timed_out) {
      return LoadEventLoop(p, token, o.ids, o.queries, o.connections, o.timeout_seconds, bad,
                           timed_out);
    });
    f.threads = Measure(pid, o.connections, [&](std::atomic<int>* bad, bool*) {
      return LoadThreads(p, token, o.ids, o.queries, o.connections, o.timeout_seconds, bad);
    });
  }
  if (pid > 0) {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  return f;
}

std::string HttpClockFor(
    const std::map<std::string, projections::ClientState, std::less<>>& states) {
  uint32_t month = 0;
  for (const auto& [id, s] : states) month = std::max(month, s.FirstOpenMonth());
  if (month == 0) return "";
  return projections::FormatMonth(month) + "-11T12:00:00Z";
}

Row HttpRow(const std::string& what, const HttpFigure& f, const std::string& peer, bool target,
            nlohmann::json* j) {
  const std::string goal = target ? "p99 <= 1 ms" : "- (comparison)";
  if (!f.ok) {
    *j = {{"skipped", f.skipped}};
    return {what, f.skipped, "-", "-", goal, "-"};
  }
  const double p50 = Percentile(f.latencies_us, 0.5), p99 = Percentile(f.latencies_us, 0.99);
  const size_t reads = f.latencies_us.size();
  *j = {{"queries", reads},
        {"p50_us", p50},
        {"p99_us", p99},
        {"client_threads", f.client_threads},
        {"reads_per_s", double(reads) / f.seconds},
        {"server_cpu_us_per_read", f.server_cpu_us < 0
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(f.server_cpu_us / int64_t(reads))}};
  return {what, fmt::format("{:.0f} / {:.0f}", p50, p99), peer, "-",
          goal, target ? Verdict(p99 <= 1000) : "-"};
}

void HttpRows(const HttpLoadOptions& h, const std::string& peer, std::vector<Row>* rows,
              nlohmann::json* j, const std::string& key) {
  const HttpFigures f = HttpBalance(h);
  const std::string what =
      fmt::format("balance over HTTP, {} clients, {} connections", h.ids.size(), h.connections);
  rows->push_back(HttpRow(what + " (1 event-driven client thread) p50/p99 us", f.event_loop, peer,
                          true, &(*j)[key + "_event_loop"]));
  rows->push_back(HttpRow(fmt::format("{} ({} client threads) p50/p99 us", what, h.connections),
                          f.threads, peer, false, &(*j)[key]));
}

}  // namespace hourbank::bench
