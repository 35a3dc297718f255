// `hourbank token issue|revoke|list`: the CLI onto the tokens of service/auth.h.
#include <sodium.h>

#include <cstdio>

#include <fmt/format.h>

#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/server/serve.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::kAuthStream;

void RegisterTokenCommands(CLI::App& cli, App& app) {
  auto* token =
      cli.add_subcommand("token", "Bearer tokens for `hourbank serve`: issue, revoke, list");
  token->require_subcommand(1);

  struct IssueArgs {
    std::string name, role, client;
  };
  auto ia = std::make_shared<IssueArgs>();
  auto* issue =
      token->add_subcommand("issue",
                            "Issue a token; the secret is printed once and only its hash is kept\n"
                            "  e.g. hourbank token issue billing-bot --role billing");
  issue->add_option("NAME", ia->name, "token name: the actor of events appended with it")
      ->required();
  issue->add_option("--role", ia->role, "staff | billing | auditor | manager | admin | client")
      ->required();
  issue->add_option("--client", ia->client,
                    "with --role client: the one client the token may read (its portal)");
  issue->callback([&app, ia] {
    if (!app.server_url.empty()) {  // POST /v1/tokens (admin)
      json body = {{"name", ia->name}, {"role", ia->role}};
      if (!ia->client.empty()) body["client"] = ia->client;
      const json j = ServerCall(app, "POST", "/v1/tokens", body);
      if (app.json)
        app.PrintJson(j);
      else
        app.Say(fmt::format("token '{}' ({}): {}\n(shown once: only its hash is stored)",
                            j.value("name", ""), j.value("role", ""), j.value("token", "")));
      return;
    }
    auto role = ParseRole(ia->role);
    if (!role)
      Fail(Code::kInvalid,
           fmt::format("--role '{}' is not a role; use {}", ia->role, service::kRoleNames));
    const std::string secret =
        Must(IssueToken(app.log(), ia->name, *role, app.actor, app.now_us(), ia->client));
    if (app.json)
      app.PrintJson({{"name", ia->name},
                     {"role", RoleName(*role)},
                     {"token", secret},
                     {"client", ia->client}});
    else
      app.Say(fmt::format("token '{}' ({}): {}\n(shown once: only its hash is stored)", ia->name,
                          RoleName(*role), secret));
  });

  auto name = std::make_shared<std::string>();
  auto* revoke = token->add_subcommand("revoke",
                                       "Revoke a token: requests with it get 401 from now on\n"
                                       "  e.g. hourbank token revoke billing-bot");
  revoke->add_option("NAME", *name, "token name")->required();
  revoke->callback([&app, name] {
    if (!app.server_url.empty())
      ServerCall(app, "POST", "/v1/tokens/" + PathSegment(*name) + "/revoke");
    else
      Must(RevokeToken(app.log(), *name, app.actor, app.now_us()));
    app.json ? app.PrintJson({{"name", *name}, {"revoked", true}})
             : app.Say(fmt::format("token '{}' revoked", *name));
  });

  auto* list = token->add_subcommand(
      "list",
      "List tokens (names, roles, state; never secrets)\n  e.g. hourbank token list --json");
  list->callback([&app] {
    json arr = json::array();
    if (!app.server_url.empty()) {
      arr = ServerCall(app, "GET", "/v1/tokens");
    } else {
      const projections::Zone utc = projections::Zone::Utc();
      for (const auto& [n, t] : Must(LoadTokens(app.log())))
        arr.push_back({{"name", n},
                       {"role", RoleName(t.role)},
                       {"revoked", t.revoked},
                       {"issued_seq", t.issued_seq},
                       {"issued_at", utc.FormatIso(t.issued_at_us)},
                       {"client", t.client}});
    }
    std::vector<std::vector<std::string>> rows = {{"name", "role", "state", "issued"}};
    for (const json& t : arr)
      rows.push_back({t.value("name", ""),
                      t.value("client", "").empty()
                          ? t.value("role", "")
                          : t.value("role", "") + " (" + t.value("client", "") + ")",
                      t.value("revoked", false) ? "revoked" : "active",
                      t.value("issued_at", "").substr(0, 16)});
    app.json ? app.PrintJson(arr) : (void)std::fputs(Table(rows).c_str(), stdout);
  });
}

}  // namespace hourbank::cli
