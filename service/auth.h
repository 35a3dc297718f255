// Who may do what: bearer tokens (the "$auth" stream), roles, and the one table of
// Allowed(role, operation) that every transport goes through.
//
// "$auth" := (TokenIssued | TokenRevoked)*
//   TokenIssued{name, role, secretHash = BLAKE2b-256(secret)}; TokenRevoked{name}.
// A secret is "hbt_" + 64 lowercase hex digits; it is printed once and never stored. The latest
// issue of a name wins; a revocation after it revokes it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/log.h"
#include "schemas/events.capnp.h"

namespace hourbank::service {

// Every operation a caller can ask for, through any transport.
enum class Operation {
  kListClients,
  kListPlans,
  kMetrics,      // any valid token
  kReadBalance,  // staff, billing, manager
  kReadInvoice,
  kReadBurned,
  kReadReport,
  kReadSla,     // billing, manager
  kReadEvents,  // auditor (history, subscribe)
  kLogWork,
  kAccept,
  kVoid,      // staff
  kIncident,  // staff, manager
  kBuy,
  kAdjust,
  kClose,
  kContract,
  kAddClient,  // manager
  kPay,        // admin only
  kDefinePlans,
  kTokens,  // admin only
  kWriteDown,
  kReview,        // manager (issue 18)
  kReadForecast,  // billing, manager, client (own)
  kWhatIf,        // billing, manager
  kPortal,        // client (own): GET /portal
  kWebhooks,      // admin only: webhook add/remove/list/deliver/deliveries/redeliver
};

// The caller of an operation: a token's name and role, or the local CLI (admin: whoever can
// write the ledger directory is trusted). A `client` token carries the one client it may read.
struct Caller {
  std::string name;
  schemas::Role role = schemas::Role::STAFF;
  std::string client;  // the scope of a client token; empty for every other role
};

// The role table (docs/api.md, "Authentication and roles"). Admin may do everything.
bool Allowed(schemas::Role role, Operation op);
// "read balances", "close months", …: what `op` is, for a 403 sentence.
const char* OperationName(Operation op);
// kForbidden naming the caller, its role and the operation, when not Allowed.
Status Require(const Caller& caller, Operation op);
// Require, and for a client token also that `client` is its own: another client's data is 403
// whether that client exists or not (a client token learns nothing about other clients).
Status RequireFor(const Caller& caller, Operation op, const std::string& client);

// "staff", "billing", "auditor", "manager", "admin", "client".
const char* RoleName(schemas::Role role);
std::optional<schemas::Role> ParseRole(const std::string& text);
inline constexpr const char* kRoleNames = "staff, billing, auditor, manager, admin or client";

struct TokenInfo {
  std::string name;
  schemas::Role role = schemas::Role::STAFF;
  ledger::Hash secret_hash{};
  bool revoked = false;
  uint64_t issued_seq = 0;
  int64_t issued_at_us = 0;
  std::string client;  // a client token's scope
};
using TokenTable = std::map<std::string, TokenInfo>;

// Folds the "$auth" stream of `log`. Thread-safe (Log is).
Result<TokenTable> LoadTokens(const ledger::Log& log);
// Token names: 1-64 of a-z, 0-9, '.', '_', '-', '@' (they become event actors).
bool ValidTokenName(const std::string& name);
// A fresh secret: "hbt_" + 64 hex digits from libsodium's CSPRNG.
std::string NewTokenSecret();
// Appends TokenIssued (refused while an unrevoked token of that name exists); returns the secret.
// `client`: required for the client role (kNotFound unless that client is registered), refused
// for every other role.
Result<std::string> IssueToken(ledger::Log& log, const std::string& name, schemas::Role role,
                               const std::string& actor, int64_t now_us,
                               const std::string& client = {});
// Appends TokenRevoked. kNotFound for an unknown name; kRefused when already revoked.
Status RevokeToken(ledger::Log& log, const std::string& name, const std::string& actor,
                   int64_t now_us);

// Checks secrets against the "$auth" fold, cached by the stream's version. Thread-safe.
class Authenticator {
 public:
  explicit Authenticator(const ledger::Log& log) : log_(log) {}
  // kUnauthenticated (the 401 sentence) for an unknown or revoked secret.
  Result<Caller> Secret(std::string_view secret);
  // An `Authorization` header: the scheme "Bearer" (any case), one or more blanks, the secret.
  Result<Caller> Bearer(std::string_view authorization);
  Result<TokenTable> Tokens();
  // As Bearer, answered from the cached tokens only, and only for a valid, unrevoked token:
  // when they were read at the log's head `head` (nothing appended since) and no other thread
  // holds them. nullopt otherwise (then ask Bearer). No I/O, never waits for a lock.
  std::optional<Caller> BearerIfCurrent(std::string_view authorization, uint64_t head);

 private:
  // Reloads the tokens unless they are of `version`; `head` was read before `version`.
  Status RefreshLocked(uint32_t version, std::optional<uint64_t> head);

  const ledger::Log& log_;
  std::mutex mu_;
  std::optional<TokenTable> tokens_;
  uint32_t version_ = 0;
  std::optional<uint64_t> head_;  // tokens_ holds every "$auth" event up to this head
};

}  // namespace hourbank::service
