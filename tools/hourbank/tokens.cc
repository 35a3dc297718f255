// `hourbank token issue|revoke|list` and the "$auth" stream fold.
//
// "$auth" := (TokenIssued | TokenRevoked)*
//   TokenIssued{name, role, secretHash = BLAKE2b-256(secret)}; TokenRevoked{name}.
// A secret is "hbt_" + 64 lowercase hex digits; it is printed once and never stored.
#include <sodium.h>

#include <cstdio>

#include <fmt/format.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/serve.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::kAuthStream;

const char* RoleName(schemas::Role role) {
  switch (role) {
    case schemas::Role::STAFF: return "staff";
    case schemas::Role::BILLING: return "billing";
    case schemas::Role::AUDITOR: return "auditor";
    case schemas::Role::ADMIN: return "admin";
  }
  return "unknown";
}

std::optional<schemas::Role> ParseRole(const std::string& text) {
  if (text == "staff") return schemas::Role::STAFF;
  if (text == "billing") return schemas::Role::BILLING;
  if (text == "auditor") return schemas::Role::AUDITOR;
  if (text == "admin") return schemas::Role::ADMIN;
  return std::nullopt;
}

bool ValidTokenName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '@'))
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

Result<std::map<std::string, TokenInfo>> LoadTokens(const ledger::Log& log) {
  std::map<std::string, TokenInfo> out;
  Status s = log.ReadStream(kAuthStream, 1, 0, [&](const ledger::EventView& v) {
    auto body = v.event.getBody();
    if (body.isTokenIssued()) {
      auto t = body.getTokenIssued();
      TokenInfo info;
      info.name = t.getName();
      info.role = t.getRole();
      auto hash = t.getSecretHash();
      if (hash.size() == info.secret_hash.size()) std::copy(hash.begin(), hash.end(), info.secret_hash.begin());
      info.issued_seq = v.seq;
      info.issued_at_us = v.event.getRecordedAtUs();
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

Result<std::string> IssueToken(ledger::Log& log, const std::string& name, schemas::Role role,
                               const std::string& actor, int64_t now_us) {
  if (!ValidTokenName(name))
    return Error::Invalid(fmt::format("token name '{}' is not valid; use 1-64 of a-z, 0-9, '.', '_', '-', '@'", name));
  auto tokens = LoadTokens(log);
  if (!tokens.ok()) return tokens.error();
  auto it = tokens->find(name);
  if (it != tokens->end() && !it->second.revoked)
    return Error::Refused(fmt::format("a token named '{}' exists; revoke it first (`hourbank token revoke {}`)", name, name));
  const std::string secret = NewTokenSecret();
  const ledger::Hash hash = ledger::Digest(secret);
  ledger::AppendRequest req;
  req.client_id = kAuthStream;
  ledger::EventDraft d;
  auto root = d.root();
  root.setEffectiveAtUs(now_us);
  root.setActor(actor);
  auto t = root.getBody().initTokenIssued();
  t.setName(name);
  t.setRole(role);
  t.setSecretHash(capnp::Data::Reader(hash.data(), hash.size()));
  req.events.push_back(std::move(d));
  auto r = log.Append(std::move(req));
  if (!r.ok()) return r.error();
  return secret;
}

Status RevokeToken(ledger::Log& log, const std::string& name, const std::string& actor, int64_t now_us) {
  auto tokens = LoadTokens(log);
  if (!tokens.ok()) return tokens.error();
  auto it = tokens->find(name);
  if (it == tokens->end()) return Error::NotFound(fmt::format("no token named '{}'; see `hourbank token list`", name));
  if (it->second.revoked) return Error::Refused(fmt::format("the token '{}' is already revoked", name));
  ledger::AppendRequest req;
  req.client_id = kAuthStream;
  ledger::EventDraft d;
  auto root = d.root();
  root.setEffectiveAtUs(now_us);
  root.setActor(actor);
  root.getBody().initTokenRevoked().setName(name);
  req.events.push_back(std::move(d));
  auto r = log.Append(std::move(req));
  if (!r.ok()) return r.error();
  return Status::Ok();
}

void RegisterTokenCommands(CLI::App& cli, App& app) {
  auto* token = cli.add_subcommand("token", "Bearer tokens for `hourbank serve`: issue, revoke, list");
  token->require_subcommand(1);

  struct IssueArgs { std::string name, role; };
  auto ia = std::make_shared<IssueArgs>();
  auto* issue = token->add_subcommand("issue", "Issue a token; the secret is printed once and only its hash is kept\n"
                                               "  e.g. hourbank token issue billing-bot --role billing");
  issue->add_option("NAME", ia->name, "token name: the actor of events appended with it")->required();
  issue->add_option("--role", ia->role, "staff | billing | auditor | admin")->required();
  issue->callback([&app, ia] {
    auto role = ParseRole(ia->role);
    if (!role) Fail(Code::kInvalid, fmt::format("--role '{}' is not a role; use staff, billing, auditor or admin", ia->role));
    const std::string secret = Must(IssueToken(app.log(), ia->name, *role, app.actor, app.now_us()));
    if (app.json) app.PrintJson({{"name", ia->name}, {"role", RoleName(*role)}, {"token", secret}});
    else app.Say(fmt::format("token '{}' ({}): {}\n(shown once: only its hash is stored)", ia->name, RoleName(*role), secret));
  });

  auto name = std::make_shared<std::string>();
  auto* revoke = token->add_subcommand("revoke", "Revoke a token: requests with it get 401 from now on\n"
                                                 "  e.g. hourbank token revoke billing-bot");
  revoke->add_option("NAME", *name, "token name")->required();
  revoke->callback([&app, name] {
    Must(RevokeToken(app.log(), *name, app.actor, app.now_us()));
    app.json ? app.PrintJson({{"name", *name}, {"revoked", true}}) : app.Say(fmt::format("token '{}' revoked", *name));
  });

  auto* list = token->add_subcommand("list", "List tokens (names, roles, state; never secrets)\n  e.g. hourbank token list --json");
  list->callback([&app] {
    auto tokens = Must(LoadTokens(app.log()));
    json arr = json::array();
    std::vector<std::vector<std::string>> rows = {{"name", "role", "state", "issued"}};
    const projections::Zone utc = projections::Zone::Utc();
    for (const auto& [n, t] : tokens) {
      arr.push_back({{"name", n}, {"role", RoleName(t.role)}, {"revoked", t.revoked}, {"issued_seq", t.issued_seq},
                     {"issued_at", utc.FormatIso(t.issued_at_us)}});
      rows.push_back({n, RoleName(t.role), t.revoked ? "revoked" : "active", utc.FormatIso(t.issued_at_us).substr(0, 16)});
    }
    app.json ? app.PrintJson(arr) : (void)std::fputs(Table(rows).c_str(), stdout);
  });
}

}  // namespace hourbank::cli
