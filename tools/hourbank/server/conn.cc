// Connection guards for `hourbank serve`; see conn.h.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // KJ promise machinery (see serve.cc)
#endif
#include "tools/hourbank/server/conn.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

namespace hourbank::cli {

std::string PeerOf(kj::AsyncIoStream& stream) {
  sockaddr_storage addr{};
  kj::uint len = sizeof addr;
  try {
    stream.getpeername(reinterpret_cast<sockaddr*>(&addr), &len);
  } catch (...) {
    return "?";
  }
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
  else if (addr.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
  return text;
}

void ConnectionTable::Unlist(Slot* s) {
  order_.erase(s->pos);
  auto it = per_peer_.find(s->peer);
  if (it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
  s->listed = false;
}

bool ConnectionTable::ShedOldest(const std::string* peer) {
  for (Slot* s : order_) {
    if (!s->sheddable || (peer && s->peer != *peer)) continue;
    Unlist(s);
    ++shed_total_;
    s->kill->fulfill();  // its connection promise is cancelled on the next turn of the loop
    return true;
  }
  return false;
}

kj::Own<ConnectionTable::Slot> ConnectionTable::Admit(const std::string& peer,
                                                      kj::Promise<void>* killed) {
  auto it = per_peer_.find(peer);
  if (it != per_peer_.end() && it->second >= max_per_peer_ && !ShedOldest(&peer)) {
    ++refused_total_;
    return kj::Own<Slot>();
  }
  if (order_.size() >= max_total_ && !ShedOldest()) {
    ++refused_total_;
    return kj::Own<Slot>();
  }
  auto slot = kj::heap<Slot>();
  auto paf = kj::newPromiseAndFulfiller<void>();
  *killed = kj::mv(paf.promise);
  slot->kill = kj::mv(paf.fulfiller);
  slot->table = this;
  slot->peer = peer;
  slot->pos = order_.insert(order_.end(), slot.get());
  slot->listed = true;
  ++per_peer_[peer];
  return slot;
}

ConnectionLimits LimitsFromDescriptorLimit() {
  rlimit rl{};
  size_t soft = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    soft = size_t(rl.rlim_cur);
  else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    soft = 1 << 20;
  // Kept back: the descriptors open now (the ledger's files, the event loop, stdio) plus room
  // for the ledger to grow (RocksDB keeps every table file open): 256, or half of a small limit.
  size_t open_now = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++open_now;
    closedir(d);
  }
  const size_t reserve = open_now + (soft >= 1024 ? 256 : soft / 2);
  const size_t budget = soft > reserve + 8 ? soft - reserve : 8;
  ConnectionLimits l;
  l.http_max = std::clamp<size_t>(budget * 2 / 3, 4, 1024);
  l.rpc_max = std::clamp<size_t>(budget / 3, 2, 512);
  l.rpc_per_peer_max = std::max<size_t>(l.rpc_max / 2, 1);
  // Tests only (tests/reliability/hostile_server_test.py): limits above the descriptor limit, so
  // that accept() itself runs out of descriptors (EMFILE) and the shedding path is exercised.
  if (const char* v = std::getenv("HOURBANK_SERVE_CONNECTIONS_MAX")) {
    const unsigned long long n = std::strtoull(v, nullptr, 10);
    if (n > 0) l.http_max = l.rpc_max = l.rpc_per_peer_max = size_t(n);
  }
  return l;
}

kj::Promise<void> AcceptForever(kj::ConnectionReceiver& listener, kj::Timer& timer,
                                std::function<void(kj::Own<kj::AsyncIoStream>)> on_accept,
                                std::function<void(const kj::Exception&)> on_error) {
  return kj::evalNow([&listener] { return listener.accept(); })
      .then(
          [&listener, &timer, on_accept,
           on_error](kj::Own<kj::AsyncIoStream> stream) mutable -> kj::Promise<void> {
            try {
              on_accept(kj::mv(stream));
            } catch (...) {
              // The connection is dropped (closed); the listener goes on.
            }
            return AcceptForever(listener, timer, kj::mv(on_accept), kj::mv(on_error));
          },
          [&listener, &timer, on_accept, on_error](kj::Exception&& e) mutable -> kj::Promise<void> {
            try {
              on_error(e);
            } catch (...) {}
            return timer.afterDelay(20 * kj::MILLISECONDS)
                .then([&listener, &timer, on_accept, on_error]() mutable {
                  return AcceptForever(listener, timer, kj::mv(on_accept), kj::mv(on_error));
                });
          });
}

Result<HostPort> ParseHostPort(const std::string& text, const char* flag) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    return Error::Invalid(std::string(flag) + " '" + text + "' is not HOST:PORT");
  HostPort out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  for (char c : text.substr(colon + 1))
    if (c < '0' || c > '9' || (out.port = out.port * 10 + unsigned(c - '0')) > 65535)
      return Error::Invalid(std::string(flag) + " '" + text + "': the port must be 0-65535");
  return out;
}

}  // namespace hourbank::cli
