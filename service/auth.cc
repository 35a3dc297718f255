#include "service/auth.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "projections/decide.h"
#include "service/session.h"

namespace hourbank::service {

using schemas::Role;

namespace {

// One row per operation: which roles may (admin always may).
struct Rule {
  Operation op;
  const char* name;
  bool staff, billing, auditor, manager;
};
// clang-format off
constexpr std::array<Rule, 27> kRules{{
    //                                              staff  billing auditor manager
    {Operation::kListClients, "list clients",         true,  true,   true,   true},
    {Operation::kListPlans, "list plans",             true,  true,   true,   true},
    {Operation::kMetrics, "read metrics",             true,  true,   true,   true},
    {Operation::kReadBalance, "read balances",        true,  true,   false,  true},
    {Operation::kReadInvoice, "read invoices",        false, true,   false,  true},
    {Operation::kReadBurned, "read burned hours",     false, true,   false,  true},
    {Operation::kReadReport, "read reports",          false, true,   false,  true},
    {Operation::kReadSla, "read SLA reports",         false, true,   false,  true},
    {Operation::kReadEvents, "read events",           false, false,  true,   false},
    {Operation::kLogWork, "log work",                 true,  false,  false,  false},
    {Operation::kAccept, "record acceptances",        true,  false,  false,  false},
    {Operation::kVoid, "void entries",                true,  false,  false,  false},
    {Operation::kIncident, "record incidents",        true,  false,  false,  true},
    {Operation::kBuy, "sell blocks and add-ons",      false, false,  false,  true},
    {Operation::kAdjust, "adjust invoices",           false, false,  false,  true},
    {Operation::kClose, "close months",               false, false,  false,  true},
    {Operation::kContract, "change contracts",        false, false,  false,  true},
    {Operation::kAddClient, "add clients",            false, false,  false,  true},
    {Operation::kPay, "record payments",              false, false,  false,  false},
    {Operation::kDefinePlans, "define plans",         false, false,  false,  false},
    {Operation::kTokens, "manage tokens",             false, false,  false,  false},
    {Operation::kWriteDown, "write down billed time", false, false,  false,  true},
    {Operation::kReview, "review work",               false, false,  false,  true},
    {Operation::kReadForecast, "read forecasts",      false, true,   false,  true},
    {Operation::kWhatIf, "replay under another plan", false, true,   false,  true},
    {Operation::kPortal, "open the client portal",    false, false,  false,  false},
    {Operation::kWebhooks, "manage webhooks",         false, false,  false,  false},
}};
// clang-format on

// The client role (a token scoped to one client, RequireFor): these reads of its own client,
// nothing else — no list of clients, no plans, no events, no write.
constexpr std::array<Operation, 7> kClientReads{Operation::kReadBalance, Operation::kReadInvoice,
                                                Operation::kReadBurned,  Operation::kReadReport,
                                                Operation::kReadSla,     Operation::kReadForecast,
                                                Operation::kPortal};

const Rule* RuleFor(Operation op) {
  for (const Rule& r : kRules)
    if (r.op == op) return &r;
  return nullptr;
}

}  // namespace

bool Allowed(Role role, Operation op) {
  const Rule* r = RuleFor(op);
  if (!r) return false;
  switch (role) {
    case Role::ADMIN:
      return op != Operation::kPortal;  // the portal is a client token's page: it has no client
    case Role::CLIENT:
      return std::find(kClientReads.begin(), kClientReads.end(), op) != kClientReads.end();
    case Role::STAFF:
      return r->staff;
    case Role::BILLING:
      return r->billing;
    case Role::AUDITOR:
      return r->auditor;
    case Role::MANAGER:
      return r->manager;
  }
  return false;
}

const char* OperationName(Operation op) {
  const Rule* r = RuleFor(op);
  return r ? r->name : "do that";
}

Status Require(const Caller& caller, Operation op) {
  if (Allowed(caller.role, op)) return Status::Ok();
  return Error{Code::kForbidden,
               fmt::format("the token '{}' ({}) is not allowed to {}", caller.name,
                           RoleName(caller.role), OperationName(op))};
}

Status RequireFor(const Caller& caller, Operation op, const std::string& client) {
  HB_TRY(Require(caller, op));
  if (caller.role != Role::CLIENT || client == caller.client) return Status::Ok();
  return Error{Code::kForbidden,
               fmt::format("the token '{}' (client) may read only the client '{}'", caller.name,
                           caller.client)};
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::STAFF:
      return "staff";
    case Role::BILLING:
      return "billing";
    case Role::AUDITOR:
      return "auditor";
    case Role::ADMIN:
      return "admin";
    case Role::MANAGER:
      return "manager";
    case Role::CLIENT:
      return "client";
  }
  return "unknown";
}

std::optional<Role> ParseRole(const std::string& text) {
  if (text == "staff") return Role::STAFF;
  if (text == "billing") return Role::BILLING;
  if (text == "auditor") return Role::AUDITOR;
  if (text == "manager") return Role::MANAGER;
  if (text == "admin") return Role::ADMIN;
  if (text == "client") return Role::CLIENT;
  return std::nullopt;
}

bool ValidTokenName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
          c == '@'))
      return false;
  return true;
}

std::string NewTokenSecret() {
  if (sodium_init() < 0) std::abort();  // libsodium cannot run: nothing safe to do
  uint8_t bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  ledger::Hash h;
  static_assert(sizeof bytes == std::tuple_size_v<ledger::Hash>);
  std::copy(std::begin(bytes), std::end(bytes), h.begin());
  return "hbt_" + ledger::HexOf(h);
}

Result<TokenTable> LoadTokens(const ledger::Log& log) {
  TokenTable out;
  Status s = log.ReadStream(projections::kAuthStream, 1, 0, [&](const ledger::EventView& v) {
    auto body = v.event.getBody();
    if (body.isTokenIssued()) {
      auto t = body.getTokenIssued();
      TokenInfo info;
      info.name = t.getName();
      info.role = t.getRole();
      auto hash = t.getSecretHash();
      if (hash.size() == info.secret_hash.size())
        std::copy(hash.begin(), hash.end(), info.secret_hash.begin());
      info.issued_seq = v.seq;
      info.issued_at_us = v.event.getRecordedAtUs();
      info.client = t.getClientId();
      out[info.name] = info;
    } else if (body.isTokenRevoked()) {
      auto it = out.find(std::string(body.getTokenRevoked().getName()));
      if (it != out.end()) it->second.revoked = true;
    }
    return true;
  });
  if (!s.ok()) return s.error();
  return out;
}

namespace {

Result<ledger::AppendResult> AppendAuth(ledger::Log& log, ledger::EventDraft d) {
  ledger::AppendRequest req;
  req.client_id = projections::kAuthStream;
  req.events.push_back(std::move(d));
  return log.Append(std::move(req));
}

// A client token's scope: given exactly for the client role, and a registered client.
Status CheckTokenScope(const ledger::Log& log, Role role, const std::string& client) {
  if (role != Role::CLIENT) {
    if (client.empty()) return Status::Ok();
    return Error::Invalid("--client is only for --role client (the other roles see every client)");
  }
  if (client.empty())
    return Error::Invalid("--role client needs --client ID: the one client the token may read");
  bool registered = false;
  if (CheckClientId(client).ok())  // "$auth", "$catalog": streams, not clients
    HB_TRY(log.ReadStream(client, 1, 0, [&](const ledger::EventView& v) {
      registered = registered || v.event.getBody().isClientRegistered();
      return !registered;
    }));
  if (!registered)
    return Error::NotFound(fmt::format("unknown client '{}'; see `hourbank client list`", client));
  return Status::Ok();
}

}  // namespace

Result<std::string> IssueToken(ledger::Log& log, const std::string& name, Role role,
                               const std::string& actor, int64_t now_us,
                               const std::string& client) {
  if (!ValidTokenName(name))
    return Error::Invalid(fmt::format(
        "token name '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-', '@'", name));
  HB_TRY(CheckTokenScope(log, role, client));
  auto tokens = LoadTokens(log);
  if (!tokens.ok()) return tokens.error();
  auto it = tokens->find(name);
  if (it != tokens->end() && !it->second.revoked)
    return Error::Refused(fmt::format(
        "a token named '{}' exists; revoke it first (`hourbank token revoke {}`)", name, name));
  const std::string secret = NewTokenSecret();
  const ledger::Hash hash = ledger::Digest(secret);
  ledger::EventDraft d;
  auto root = d.root();
  root.setEffectiveAtUs(now_us);
  root.setActor(actor);
  auto t = root.getBody().initTokenIssued();
  t.setName(name);
  t.setRole(role);
  t.setSecretHash(capnp::Data::Reader(hash.data(), hash.size()));
  if (role == Role::CLIENT) t.setClientId(client);
  auto r = AppendAuth(log, std::move(d));
  if (!r.ok()) return r.error();
  return secret;
}

Status RevokeToken(ledger::Log& log, const std::string& name, const std::string& actor,
                   int64_t now_us) {
  auto tokens = LoadTokens(log);
  if (!tokens.ok()) return tokens.error();
  auto it = tokens->find(name);
  if (it == tokens->end())
    return Error::NotFound(fmt::format("no token named '{}'; see `hourbank token list`", name));
  if (it->second.revoked)
    return Error::Refused(fmt::format("the token '{}' is already revoked", name));
  ledger::EventDraft d;
  auto root = d.root();
  root.setEffectiveAtUs(now_us);
  root.setActor(actor);
  root.getBody().initTokenRevoked().setName(name);
  auto r = AppendAuth(log, std::move(d));
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Status Authenticator::RefreshLocked(uint32_t version, std::optional<uint64_t> head) {
  if (!tokens_ || version_ != version) {
    auto t = LoadTokens(log_);
    if (!t.ok()) return t.error();
    tokens_ = std::move(t).value();
    version_ = version;
  }
  head_ = head;
  return Status::Ok();
}

Result<TokenTable> Authenticator::Tokens() {
  const std::optional<uint64_t> head = log_.HeadSeqInMemory();
  auto version = log_.StreamVersion(projections::kAuthStream);
  if (!version.ok()) return version.error();
  std::lock_guard lock(mu_);
  HB_TRY(RefreshLocked(version.value(), head));
  return *tokens_;
}

namespace {

// The caller whose secret hashes to `hash`; kUnauthenticated when none or revoked.
Result<Caller> Match(const TokenTable& tokens, const ledger::Hash& hash) {
  for (const auto& [name, t] : tokens) {
    if (sodium_memcmp(t.secret_hash.data(), hash.data(), hash.size()) != 0) continue;
    if (t.revoked)
      return Error{Code::kUnauthenticated, fmt::format("the token '{}' was revoked", name)};
    return Caller{name, t.role, t.client};
  }
  return Error{Code::kUnauthenticated, "unknown token"};
}

// The secret of an `Authorization` header: the scheme "Bearer" (any case, RFC 7235), one or
// more blanks, the secret. nullopt without that scheme.
std::optional<std::string_view> BearerSecret(std::string_view a) {
  static const char kScheme[] = "bearer";
  bool scheme = a.size() > 6 && (a[6] == ' ' || a[6] == '\t');
  for (size_t i = 0; scheme && i < 6; ++i) scheme = (a[i] | 0x20) == kScheme[i];
  if (!scheme) return std::nullopt;
  size_t start = 6;
  while (start < a.size() && (a[start] == ' ' || a[start] == '\t')) ++start;
  return a.substr(start);
}

}  // namespace

Result<Caller> Authenticator::Secret(std::string_view secret) {
  const ledger::Hash hash = ledger::Digest(secret);
  const std::optional<uint64_t> head = log_.HeadSeqInMemory();
  auto version = log_.StreamVersion(projections::kAuthStream);
  if (!version.ok()) return version.error();
  std::lock_guard lock(mu_);
  HB_TRY(RefreshLocked(version.value(), head));
  return Match(*tokens_, hash);  // under the lock: the table is not copied
}

Result<Caller> Authenticator::Bearer(std::string_view a) {
  const std::optional<std::string_view> secret = BearerSecret(a);
  if (!secret)
    return Error{
        Code::kUnauthenticated,
        "missing bearer token: send `Authorization: Bearer TOKEN` (see `hourbank token issue`)"};
  return Secret(*secret);
}

std::optional<Caller> Authenticator::BearerIfCurrent(std::string_view a, uint64_t head) {
  const std::optional<std::string_view> secret = BearerSecret(a);
  if (!secret) return std::nullopt;
  const ledger::Hash hash = ledger::Digest(*secret);
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || !tokens_ || head_ != head) return std::nullopt;
  auto caller = Match(*tokens_, hash);
  if (!caller.ok()) return std::nullopt;
  return std::move(caller).value();
}

}  // namespace hourbank::service
