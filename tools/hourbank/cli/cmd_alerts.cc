// alerts: the AlertRaised events of a client or of every client (docs/alerts.md), and
// `alerts --check` to raise what time alone made due. The same JSON answers GET /v1/alerts and
// GET /v1/clients/{id}/alerts.
#include <fmt/format.h>

#include "service/alerts.h"
#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/commands.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::AlertRecord;

json AlertJson(const service::ClientAlerts& c, const AlertRecord& a) {
  return {{"client", c.client},
          {"seq", a.seq},
          {"raised_at", a.raised_us ? c.zone.FormatIso(a.raised_us) : ""},
          {"key", a.key},
          {"kind", projections::AlertKindName(a.kind)},
          {"threshold", a.threshold},
          {"month", projections::FormatMonth(a.month)},
          {"subject", a.subject},
          {"used_minutes", a.used_minutes},
          {"limit_minutes", a.limit_minutes},
          {"left_minutes", a.left_minutes},
          {"deadline", a.deadline_us ? c.zone.FormatIso(a.deadline_us) : ""},
          {"amount_minor", a.amount_minor},
          {"currency", c.currency},
          {"text", projections::AlertSentence(a, c.zone, c.currency)}};
}

namespace {

json AlertsJson(const std::vector<service::ClientAlerts>& clients) {
  json arr = json::array();
  for (const service::ClientAlerts& c : clients)
    for (const AlertRecord& a : c.alerts) arr.push_back(AlertJson(c, a));
  return arr;
}

std::string Field(const json& j, const char* name) {
  return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string();
}

// One line per alert: when, client, kind, the sentence.
std::string AlertsText(const json& arr) {
  if (arr.empty()) return "no alerts\n";
  std::string out;
  for (const json& a : arr) {
    std::string when = Field(a, "raised_at").substr(0, 16);
    if (!when.empty()) when[10] = ' ';
    out += fmt::format("{:<16}  {:<20}  {:<16}  {}\n", when, Field(a, "client"), Field(a, "kind"),
                       Field(a, "text"));
  }
  return out;
}

std::string Query(const std::string& since) {
  if (since.empty()) return "";
  return "?since=" + PathSegment(since);
}

}  // namespace

Result<json> AlertsAnswer(service::Session& s, const service::Caller& c, const std::string& client,
                          const std::string& since, service::Names names) {
  auto alerts = service::ListAlertsOp(s, c, {client, since, names});
  if (!alerts.ok()) return alerts.error();
  return AlertsJson(alerts.value());
}

void RegisterAlertsCommands(CLI::App& cli, App& app) {
  struct Args {
    std::string client, since;
    bool check = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = cli.add_subcommand(
      "alerts",
      "Alerts raised: allowance 80/100 %, overage, blocks and reserve expiring, slots,\n"
      "  SLA, blocked (docs/alerts.md); --check raises what is due now\n"
      "  e.g. hourbank alerts stroymarket --since 2026-03-01 --json");
  cmd->add_option("CLIENT", a->client, "one client (default: every client)");
  cmd->add_option("--since", a->since, "only alerts recorded from then on (ISO 8601 date or time)");
  cmd->add_flag("--check", a->check,
                "raise the alerts due now first (for cron: expiries and SLA clocks)");
  cmd->callback([&app, a] {
    if (a->check && !app.server_url.empty())
      Fail(Code::kInvalid, "--check runs against the local ledger; drop --server");
    if (a->check) {
      auto raised = Must(service::CheckAlertsOp(app.session(), app.caller(), a->client));
      size_t n = 0;
      for (const service::ClientAlerts& c : raised) n += c.alerts.size();
      std::fprintf(stderr, "%zu alert(s) raised\n", n);
    }
    json j;
    if (!app.server_url.empty()) {
      j = ServerCall(app, "GET",
                     (a->client.empty() ? std::string("/v1/alerts")
                                        : "/v1/clients/" + PathSegment(a->client) + "/alerts") +
                         Query(a->since));
    } else {
      j = Must(
          AlertsAnswer(app.session(), app.caller(), a->client, a->since, service::Names::kFlags));
    }
    app.json ? app.PrintJson(j) : (void)std::fputs(AlertsText(j).c_str(), stdout);
  });
}

}  // namespace hourbank::cli
