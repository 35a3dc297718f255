// Connection guards shared by the HTTP (serve.cc) and RPC (rpc.cc) listeners of `hourbank serve`:
// a stream wrapper to watch a connection's bytes, a table of open connections that sheds the
// oldest idle one when a limit is reached, an accept loop that survives EMFILE, and the limits
// derived from the process's descriptor limit. Loop thread only (nothing here is thread-safe).
//
// Hostile clients (issue 14, docs/guarantees.md "Hostile clients"): a new connection always
// gets a slot when an older *sheddable* one (HTTP: not running a request; RPC: not
// authenticated) can be closed for it, so idle or slow connections can never keep an honest
// client out; connections that are doing work are never shed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>

#include <kj/async-io.h>

#include "ledger/status.h"

namespace hourbank::cli {

// Forwards everything to `inner`; subclasses override tryRead to watch or cut the input.
class ForwardingStream : public kj::AsyncIoStream {
 public:
  explicit ForwardingStream(kj::Own<kj::AsyncIoStream> inner) : inner_(kj::mv(inner)) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    return inner_->tryRead(buffer, min_bytes, max_bytes);
  }
  kj::Maybe<uint64_t> tryGetLength() override { return nullptr; }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    return inner_->write(buffer, size);
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    return inner_->write(pieces);
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override { inner_->shutdownWrite(); }
  void abortRead() override { inner_->abortRead(); }
  void getsockopt(int level, int option, void* value, kj::uint* length) override {
    inner_->getsockopt(level, option, value, length);
  }
  void setsockopt(int level, int option, const void* value, kj::uint length) override {
    inner_->setsockopt(level, option, value, length);
  }
  void getsockname(struct sockaddr* addr, kj::uint* length) override {
    inner_->getsockname(addr, length);
  }
  void getpeername(struct sockaddr* addr, kj::uint* length) override {
    inner_->getpeername(addr, length);
  }

 protected:
  kj::AsyncIoStream& inner() { return *inner_; }

 private:
  kj::Own<kj::AsyncIoStream> inner_;
};

// The peer's IP address (without the port), or "?" when the stream has none.
std::string PeerOf(kj::AsyncIoStream& stream);

// Open connections of one listener, oldest first.
class ConnectionTable {
 public:
  struct Slot {
    ConnectionTable* table = nullptr;
    std::string peer;
    bool sheddable = true;  // the owner clears it while the connection does work
    bool listed = false;
    std::list<Slot*>::iterator pos;
    kj::Own<kj::PromiseFulfiller<void>> kill;
    ~Slot() {
      if (listed) table->Unlist(this);
    }
  };

  ConnectionTable(size_t max_total, size_t max_per_peer)
      : max_total_(max_total), max_per_peer_(max_per_peer) {}

  // A slot for a new connection from `peer`; `*killed` resolves when the table sheds it (join
  // it with the connection's promise). Sheds the oldest sheddable connection (of the peer,
  // then of all) to make room; nullptr when nothing can be shed (close the new connection).
  kj::Own<Slot> Admit(const std::string& peer, kj::Promise<void>* killed);
  // Closes the oldest sheddable connection (EMFILE: frees a descriptor). False if none.
  bool ShedOldest(const std::string* peer = nullptr);

  size_t size() const { return order_.size(); }
  uint64_t shed_total() const { return shed_total_; }
  uint64_t refused_total() const { return refused_total_; }

 private:
  void Unlist(Slot* s);

  size_t max_total_, max_per_peer_;
  std::list<Slot*> order_;
  std::map<std::string, size_t> per_peer_;
  uint64_t shed_total_ = 0, refused_total_ = 0;
};

// Connection limits from RLIMIT_NOFILE: descriptors are kept back for the ledger (RocksDB)
// and the process, the rest is shared by the listeners, so accepted sockets alone can never
// run the process out of descriptors.
struct ConnectionLimits {
  size_t http_max = 512, rpc_max = 256, rpc_per_peer_max = 128;
};
ConnectionLimits LimitsFromDescriptorLimit();

// Accepts on `listener` for ever: each connection goes to `on_accept`. A failed accept
// (EMFILE, ENFILE, ENOBUFS …) never ends the loop: `on_error` runs (shed a connection) and
// accepting resumes after a short pause.
kj::Promise<void> AcceptForever(kj::ConnectionReceiver& listener, kj::Timer& timer,
                                std::function<void(kj::Own<kj::AsyncIoStream>)> on_accept,
                                std::function<void(const kj::Exception&)> on_error);

// A listen address "HOST:PORT" ("[::1]:0"; port 0 picks a free one). kInvalid naming `flag`.
struct HostPort {
  std::string host;
  unsigned port = 0;
};
Result<HostPort> ParseHostPort(const std::string& text, const char* flag);

}  // namespace hourbank::cli
