// `hourbank serve --rpc-listen`: Cap'n Proto RPC (schemas/rpc.capnp) on the server's KJ event
// loop. The RPC front owns no ledger logic: every call runs on the server's worker pool and
// calls the same operations as the HTTP routes (endpoints.h, onto service/), so the same auth,
// roles and validation; only the raw-event calls (events, subscribe) read the log directly.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include "ledger/log.h"
#include "schemas/events.capnp.h"
#include "service/auth.h"
#include "tools/hourbank/server/endpoints.h"

namespace hourbank::cli {

// What the RPC front needs from the server; serve.cc's Server implements it.
class RpcBackend {
 public:
  virtual ~RpcBackend() = default;

  // Loop thread: runs `task` on the worker pool; resolves on the loop thread once it returned.
  // Rejected when the pool is overloaded or stopping. `task` must not throw.
  virtual kj::Promise<void> RunOnWorker(std::function<void()> task) = 0;

  // Worker threads only. The token's name and role; kUnauthenticated with the 401 sentence for
  // an unknown or revoked token; another code when the ledger cannot be read.
  virtual Result<service::Caller> AuthenticateToken(const std::string& token) = 0;
  // Worker threads only: the operations, called directly (the same ones the HTTP routes call).
  virtual Endpoints& endpoints() = 0;

  virtual ledger::Log& log() = 0;
};

// The running RPC listener; destroying it closes the listener and drops every connection and
// subscription.
class RpcService {
 public:
  virtual ~RpcService() noexcept(false) = default;  // KJ members may throw from destructors
};

// Hostile-client bounds of the RPC listener (docs/guarantees.md, "Hostile clients").
struct RpcOptions {
  kj::TlsContext* tls = nullptr;  // set: every connection is TLS (the server's keypair)
  size_t max_connections = 256;   // open connections; the oldest unauthenticated is shed
  size_t max_per_peer = 128;      // per peer IP address, likewise
  kj::Duration auth_timeout = 10 * kj::SECONDS;  // a connection not authenticated by then is closed
};
constexpr size_t kRpcMessageMaxBeforeAuth = 64 << 10;  // bytes of one message before authenticate
constexpr size_t kRpcMessageMaxAfterAuth = 4 << 20;    // and after
constexpr size_t kRpcBufferedMax = 64 << 20;           // messages being received, all connections

// Listens on `listen` (HOST:PORT; port 0 picks a free one) on the loop of `io` and prints
// "rpc listening on HOST:PORT" (the real port) on stdout. Call from the loop thread outside any
// promise callback (it waits for the address). Fails with CommandError when it cannot listen.
kj::Own<RpcService> StartRpc(kj::AsyncIoContext& io, RpcBackend& backend, const std::string& listen,
                             const RpcOptions& options = {});

}  // namespace hourbank::cli
