// Decide -> append -> on a concurrent writer, decide again: the one write path of every
// operation, as a loop over values (no exceptions), and the one idempotency digest.
//
// Idempotency (docs/api.md, "Key scope"): a key given by a person is stored scoped per client
// and actor,
//   stored := "@" + hex16(BLAKE2b-256(client \0 actor)) + ":" + key
// and the append carries the request digest
//   digest := BLAKE2b-256(client \0 request)
// where `request` is the operation's canonical text (operations.h: the operation's name and
// its fields as given, the same for the CLI, HTTP and RPC). A retry with the same key and the
// same request answers the first attempt; the same key with another request is kConflict.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ledger/log.h"
#include "projections/decide.h"
#include "service/session.h"

namespace hourbank::service {

inline constexpr size_t kScopedKeyPrefixBytes = 18;  // "@" + 16 hex + ":"
inline constexpr size_t kUserKeyBytesMax = 128 - kScopedKeyPrefixBytes;
std::string ScopedKey(std::string_view client_id, std::string_view actor, std::string_view key);
// The key as the user gave it: `stored` without a ScopedKey prefix (an unscoped key as is).
std::string_view UserKey(std::string_view stored);
// The one request digest (see the top of this file).
ledger::Hash RequestDigest(std::string_view client_id, std::string_view request);

// Who writes, and with which key: `key` as the user gave it (scoped here), `request` the
// canonical request text the digest is taken over.
struct WriteContext {
  std::string actor;
  std::string key;
  std::string request;
};

struct WriteOutcome {
  ledger::AppendResult result;  // first_seq/count of the events (of the first attempt on a replay)
  bool replayed = false;
  std::string summary;  // the decision's sentence ("" when nothing was decided)
};

using DecideFn = std::function<Result<projections::Decision>(const projections::ClientState&)>;

// What a decision reads of the client. kOpenMonths: only its contract, open months, closes and
// payments (a lean state: closed months as their frozen summary), so the state comes from the
// session's cache or checkpoint plus the events after it instead of a full replay of the
// stream. kAllEntries: it may look up any entry, also of closed months (void, write-down,
// review, ...): a full replay with entries retained.
enum class StateNeeded { kAllEntries, kOpenMonths };

// Decides against the client's current state and appends with its version as the expected
// version; on an expected-version conflict (another writer) loads again and decides again, at
// most kAttemptsMax times. A decision with no events appends nothing.
Result<WriteOutcome> Execute(Session& session, const std::string& client_id,
                             const WriteContext& context, const DecideFn& decide,
                             StateNeeded needed = StateNeeded::kAllEntries);
inline constexpr int kAttemptsMax = 3;

// Appends a decision to any stream (the catalog, the audit stream) with expected_version.
// `stored_key` is used as is (not scoped); the digest is RequestDigest(stream, request).
Result<ledger::AppendResult> AppendDecision(Session& session, const std::string& stream,
                                            projections::Decision& decision,
                                            uint32_t expected_version, const std::string& actor,
                                            const std::string& stored_key = {},
                                            const std::string& request = {});

}  // namespace hourbank::service
