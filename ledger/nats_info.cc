// The NATS server's version, from the INFO line it sends first on every connection, and whether
// that version syncs its JetStream file store on a timer only (nats_log.h). libnats 3.4 keeps
// the INFO it parsed to itself, so a short TCP connection of our own reads it.
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ledger/nats_log.h"

namespace hourbank::ledger {

namespace {

constexpr size_t kInfoBytesMax = 64 * 1024;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Splits "nats://host:port" (what natsConnection_GetConnectedUrl and the location give).
bool SplitUrl(std::string_view url, std::string* host, std::string* port) {
  constexpr std::string_view kScheme = "nats://";
  if (url.substr(0, kScheme.size()) == kScheme) url.remove_prefix(kScheme.size());
  if (const size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  const size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == url.size()) return false;
  *host = std::string(url.substr(0, colon));
  *port = std::string(url.substr(colon + 1));
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return true;
}

// Reads until the first "\r\n", at most kInfoBytesMax bytes, each wait bounded by timeout_ms.
Result<std::string> ReadFirstLine(int fd, int64_t timeout_ms) {
  std::string got;
  char buf[4096];
  while (got.find("\r\n") == std::string::npos) {
    if (got.size() >= kInfoBytesMax) return Error::Io("the server's first line is too long");
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout_ms));
    if (r == 0) return Error::Io("the server sent no INFO in time");
    if (r < 0) return Error::Io(fmt::format("poll: {}", std::strerror(errno)));
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return Error::Io("the server closed the connection before its INFO");
    got.append(buf, static_cast<size_t>(n));
  }
  got.resize(got.find("\r\n"));
  return got;
}

}  // namespace

std::optional<std::string> NatsInfoVersion(std::string_view info_line) {
  constexpr std::string_view kInfo = "INFO ";
  if (info_line.substr(0, kInfo.size()) != kInfo) return std::nullopt;
  info_line.remove_prefix(kInfo.size());
  nlohmann::json j = nlohmann::json::parse(info_line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("version") || !j["version"].is_string())
    return std::nullopt;
  std::string v = j["version"].get<std::string>();
  if (v.empty() || v.size() > 64) return std::nullopt;
  return v;
}

bool NatsSyncsOnTimer(std::string_view version) {
  unsigned major = 0, minor = 0;
  const std::string v(version.substr(0, 64));
  if (std::sscanf(v.c_str(), "%u.%u", &major, &minor) != 2) return false;
  return major < 2 || (major == 2 && minor < 10);
}

Result<std::string> NatsServerVersion(std::string_view url, int64_t timeout_ms) {
  std::string host, port;
  if (!SplitUrl(url, &host, &port)) return Error::Invalid(fmt::format("not a server URL: {}", url));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return Error::Io(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  Fd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol));
  if (fd.get() < 0) return Error::Io(fmt::format("socket: {}", std::strerror(errno)));
  timeval tv{static_cast<time_t>(timeout_ms / 1000),
             static_cast<suseconds_t>(timeout_ms % 1000 * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect()
  if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) != 0)
    return Error::Io(fmt::format("cannot connect to {}: {}", url, std::strerror(errno)));
  auto line = ReadFirstLine(fd.get(), timeout_ms);
  if (!line.ok()) return line.error();
  auto version = NatsInfoVersion(*line);
  if (!version) return Error::Io(fmt::format("{} did not send a NATS INFO with a version", url));
  return *version;
}

}  // namespace hourbank::ledger
