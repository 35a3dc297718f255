// alerts: the AlertRaised events of a client or of every client (docs/alerts.md), and
// `alerts --check` to raise what time alone made due. The same JSON answers GET /v1/alerts and
// GET /v1/clients/{id}/alerts.
#include <fmt/format.h>

#include <array>
#include <optional>

#include "reports/json.h"
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

// {"value": …, "from": "client" | "plan"} of one threshold.
template <typename T>
json Setting(const std::optional<T>& client, const T& plan) {
  return client ? json{{"value", *client}, {"from", "client"}}
                : json{{"value", plan}, {"from", "plan"}};
}

json SettingsJson(const service::AlertSettingsView& v) {
  const projections::AlertOverrides& o = v.overrides;
  json off = json::array();
  for (schemas::AlertKind k : o.off) off.push_back(projections::AlertKindName(k));
  return {{"client", v.client},
          {"month", projections::FormatMonth(v.month)},
          {"plan", v.plan},
          {"allowance_percent", Setting(o.allowance_percent, v.rules.allowance_percent)},
          {"block_expiry_days", Setting(o.block_expiry_days, v.rules.block_expiry_days)},
          {"reserve_expiry_days", Setting(o.reserve_expiry_days, v.rules.reserve_expiry_days)},
          {"invoice_overdue_days",
           v.rules.invoice_overdue_days
               ? Setting(o.invoice_overdue_days, *v.rules.invoice_overdue_days)
               : json{{"value", nullptr}, {"from", "plan"}}},  // no payment term: no alert
          {"off", {{"value", off}, {"from", o.off.empty() ? "plan" : "client"}}}};
}

std::string SettingsText(const json& j) {
  std::string out =
      fmt::format("alert thresholds of {} in {} (plan {}):\n", Field(j, "client"),
                  Field(j, "month"), Field(j, "plan").empty() ? "-" : Field(j, "plan"));
  for (const char* name : {"allowance_percent", "block_expiry_days", "reserve_expiry_days",
                           "invoice_overdue_days", "off"}) {
    if (!j.contains(name) || !j[name].is_object()) continue;
    const json& v = j[name]["value"];
    std::string text = v.is_array() ? "" : v.is_null() ? "none (no payment term)" : v.dump();
    if (v.is_array())
      for (const json& x : v)
        text += (text.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : x.dump());
    out += fmt::format("  {:<21} {:<24} {}\n", name, text.empty() ? "-" : text,
                       Field(j[name], "from"));
  }
  return out;
}

// alerts set CLIENT …: the client's own thresholds (docs/alerts.md, "Per client"). A flag
// given (even empty) is a value to check; a flag not given keeps the client's.
void RegisterAlertsSet(CLI::App& alerts, App& app) {
  auto r = std::make_shared<service::AlertSettingsRequest>();
  auto texts = std::make_shared<std::array<std::string, 5>>();
  r->names = service::Names::kFlags;
  auto* set = alerts.add_subcommand(
      "set",
      "Set the client's own alert thresholds over its plan's (docs/alerts.md)\n"
      "  e.g. hourbank alerts set acme --allowance-percent 50,90 --off overage_started");
  set->add_option("CLIENT", r->client)->required();
  const std::array<std::pair<const char*, const char*>, 5> flags = {{
      {"--allowance-percent", "percents of the included hours, e.g. 50,90 (none: no alert)"},
      {"--block-expiry-days", "days before a block expires"},
      {"--reserve-expiry-days", "days before the contract's end (reserve left)"},
      {"--invoice-overdue-days", "days after its month an unpaid invoice is overdue"},
      {"--off", "kinds never raised for the client, KIND[,KIND] (none: all on)"},
  }};
  auto options = std::make_shared<std::array<CLI::Option*, 5>>();
  for (size_t i = 0; i < flags.size(); ++i)
    (*options)[i] = set->add_option(flags[i].first, (*texts)[i], flags[i].second);
  set->add_flag("--reset", r->reset, "return every threshold to the plan's first");
  set->add_option("--key", r->key, "idempotency key");
  set->callback([&app, r, texts, options] {
    std::optional<std::string>* fields[] = {&r->allowance_percent, &r->block_expiry_days,
                                            &r->reserve_expiry_days, &r->invoice_overdue_days,
                                            &r->off};
    for (size_t i = 0; i < texts->size(); ++i)
      if ((*options)[i]->count() > 0) *fields[i] = (*texts)[i];
    auto w = Run(app, *r, &service::SetAlertSettingsOp);
    app.json ? app.PrintJson(reports::SummaryJson(r->client, w.summary))
             : app.Say(w.summary.empty() ? "already recorded (same key)" : w.summary);
  });
}

void RegisterAlertsSettings(CLI::App& alerts, App& app) {
  auto client = std::make_shared<std::string>();
  auto* show = alerts.add_subcommand(
      "settings",
      "The client's alert thresholds in force and where each comes from (plan, client)");
  show->add_option("CLIENT", *client)->required();
  show->callback([&app, client] {
    const json j =
        app.server_url.empty()
            ? Must(AlertSettingsAnswer(app.session(), app.caller(), *client))
            : ServerCall(app, "GET", "/v1/clients/" + PathSegment(*client) + "/alerts/settings");
    app.json ? app.PrintJson(j) : (void)std::fputs(SettingsText(j).c_str(), stdout);
  });
}

}  // namespace

Result<json> AlertSettingsAnswer(service::Session& s, const service::Caller& c,
                                 const std::string& client) {
  auto v = service::AlertSettingsOp(s, c, client);
  if (!v.ok()) return v.error();
  return SettingsJson(v.value());
}

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
      "  SLA, blocked, invoice overdue (docs/alerts.md); --check raises what is due now;\n"
      "  `alerts set CLIENT …` / `alerts settings CLIENT`: the client's own thresholds\n"
      "  e.g. hourbank alerts stroymarket --since 2026-03-01 --json");
  cmd->add_option("CLIENT", a->client, "one client (default: every client)");
  cmd->add_option("--since", a->since, "only alerts recorded from then on (ISO 8601 date or time)");
  cmd->add_flag("--check", a->check,
                "raise the alerts due now first (for cron: expiries and SLA clocks)");
  RegisterAlertsSet(*cmd, app);
  RegisterAlertsSettings(*cmd, app);
  cmd->callback([&app, a, cmd] {
    if (!cmd->get_subcommands().empty()) return;  // `alerts set` / `alerts settings` ran
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
