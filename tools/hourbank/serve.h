// `hourbank serve` and its bearer tokens: the pieces shared by tokens.cc (the `token`
// commands and the "$auth" fold), serve.cc (the HTTP server) and client.cc (the CLI as a
// client of a server).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ledger/log.h"
#include "projections/decide.h"
#include "schemas/events.capnp.h"

namespace hourbank::cli {

// Tokens live in the "$auth" system stream (projections::kAuthStream).

// One named token as the "$auth" stream leaves it: the latest issue of the name wins; a
// revocation after it revokes it. Only the BLAKE2b-256 hash of the secret is known.
struct TokenInfo {
  std::string name;
  schemas::Role role = schemas::Role::STAFF;
  ledger::Hash secret_hash{};
  bool revoked = false;
  uint64_t issued_seq = 0;
  int64_t issued_at_us = 0;
};

// Folds the "$auth" stream of `log` into name -> token. Fails as Log::ReadStream does.
// Thread-safe (Log is).
Result<std::map<std::string, TokenInfo>> LoadTokens(const ledger::Log& log);

// "staff", "billing", "auditor", "admin"; nullopt for another word.
const char* RoleName(schemas::Role role);
std::optional<schemas::Role> ParseRole(const std::string& text);

// Token names: 1-64 of a-z, 0-9, '.', '_', '-', '@' (they become event actors).
bool ValidTokenName(const std::string& name);

// A fresh secret: "hbt_" + 64 hex digits from libsodium's CSPRNG.
std::string NewTokenSecret();

// Appends TokenIssued for `name` (refused while an unrevoked token of that name exists) with
// `actor` on the event. Returns the secret, which is stored nowhere. Thread-safe; callers
// issuing the same name concurrently may both succeed (the later one wins).
Result<std::string> IssueToken(ledger::Log& log, const std::string& name, schemas::Role role,
                               const std::string& actor, int64_t now_us);
// Appends TokenRevoked. kNotFound for an unknown name; kRefused when already revoked.
Status RevokeToken(ledger::Log& log, const std::string& name, const std::string& actor, int64_t now_us);

}  // namespace hourbank::cli
