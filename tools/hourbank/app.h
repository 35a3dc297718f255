// The hourbank CLI's context: global options, the ledger (opened on first use), loading
// client state by replay, appending decisions with idempotency and optimistic concurrency,
// and output (tables for people, JSON for programs).
//
// Not thread-safe: one App per process (the server has its own context).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/log.h"
#include "projections/decide.h"
#include "projections/state.h"
#include "service/execute.h"
#include "service/operations.h"
#include "service/session.h"

namespace hourbank::cli {

// A user-facing failure raised inside a command: becomes `hourbank: error: …` and an exit code.
struct CommandError {
  Error error;
};
[[noreturn]] inline void Fail(Error e) { throw CommandError{std::move(e)}; }
[[noreturn]] inline void Fail(Code code, std::string message) {
  Fail(Error{code, std::move(message)});
}
template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) Fail(r.error());
  return std::move(r).value();
}
inline void Must(Status s) {
  if (!s.ok()) Fail(s.error());
}

using LoadOptions = service::LoadOptions;
using StateCache = service::StateCache;

struct AppendOutcome {
  ledger::AppendResult result;
  bool replayed = false;
};

class App {
 public:
  // Global options (set by main from flags and the environment).
  std::string ledger_dir = "./hourbank-ledger";  // or nats://… (--log; docs/replicated-log.md)
  std::string ledger_name;                       // --ledger-name: which ledger on a NATS cluster
  std::string follow_store;      // `serve --store`: a serve node's local store (nats:// only)
  uint32_t nats_partitions = 0;  // --partitions: streams of a new cluster ledger (0: 1)
  std::string server_url, token;
  std::string actor = "cli";
  bool json = false;
  bool nosync = false;
  bool read_only = false;  // set for commands that only read: the ledger is opened read-only
  std::optional<int64_t> now_override_us;  // HOURBANK_NOW, for tests and backfills

  int64_t now_us() const;
  // Opens the ledger on first use. create: `hourbank init`.
  ledger::Log& log(bool create = false);
  bool log_open() const { return log_ != nullptr; }
  void close_log() { log_.reset(); }
  // Use an already-open log (the server and the demo share theirs).
  void adopt_log(ledger::Log* log) { borrowed_ = log; }
  // The service on this process's ledger (opened on first use), and the local caller: the
  // actor as admin (whoever can write the ledger directory is trusted; docs/api.md).
  service::Session& session();
  service::Caller caller() const;

  // Folds a client's stream. Lean present-time loads (retain_entries = false, no as-of or
  // known-at) start from the client's checkpoint when it matches the stream and catch up.
  projections::ClientState LoadClient(const std::string& client_id,
                                      const LoadOptions& options = {});
  // The client's checkpoint when it is a lean checkpoint ending exactly at an event of this
  // stream; nullopt otherwise (missing, another format, stale or foreign).
  std::optional<projections::ClientState> RestoreFromCheckpoint(const std::string& client_id);
  void SaveClientCheckpoint(const projections::ClientState& state);
  // After an append crosses a multiple of this stream version, the checkpoint is refreshed.
  static constexpr uint32_t kCheckpointEveryEvents = 256;
  projections::Catalog LoadCatalog(int64_t known_at_us = 0);
  // Client ids (streams without the '$' system prefix), sorted.
  std::vector<std::string> ClientIds();

  // Appends a decision to a stream with expected_version, an optional (stored, unscoped)
  // idempotency key and the request digest over `request_text` (service::RequestDigest).
  AppendOutcome Append(const std::string& stream, projections::Decision& decision,
                       uint32_t expected_version, const std::string& key = {},
                       const std::string& request_text = {});

  // service::Execute as the local caller: decide, append, on a concurrent writer decide again.
  AppendOutcome DecideAndAppend(
      const std::string& client_id,
      const std::function<Result<projections::Decision>(const projections::ClientState&)>& decide,
      const std::string& key = {}, const std::string& request_text = {},
      std::string* summary = nullptr);

  // Output.
  void PrintJson(const nlohmann::json& j) const;
  void Say(const std::string& line) const;  // a line for people on stdout

 private:
  std::unique_ptr<ledger::Log> log_;
  ledger::Log* borrowed_ = nullptr;
  std::unique_ptr<service::Session> session_;
};

// Loads a client for a read with optional --as-of / --known-at texts (read in the client's
// zone). *at_out (optional) gets the instant the read is about: as-of, else known-at, else now.
// Fails (kNotFound) for an unknown client or one not registered yet at that time.
projections::ClientState LoadClientAt(App& app, const std::string& client, const std::string& as_of,
                                      const std::string& known_at, int64_t* at_out,
                                      bool retain_entries = false);

// Parses an amount in the client's currency (its minor digits checked), failing with a clear
// message; an unregistered client is reported as unknown.
int64_t ParseMoneyFor(const projections::ClientState& state, const std::string& text,
                      const char* what);

// Idempotency keys: scoped per client and actor (service/execute.h).
using service::kScopedKeyPrefixBytes;
using service::kUserKeyBytesMax;
using service::ScopedKey;
using service::UserKey;

// Parses a time flag in the client's zone (or UTC), failing with a clear message.
int64_t ParseTimeFlag(const std::string& text, const projections::Zone& zone, const char* flag);
uint32_t ParseMonthFlag(const std::string& text, const char* flag);

}  // namespace hourbank::cli
