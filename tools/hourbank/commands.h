// Registration of the CLI's commands. Each Register* adds subcommands to `cli` whose callbacks
// run against `app`; failures are thrown as CommandError and turned into one line and an exit
// code by main().
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "reports/whatif.h"
#include "service/alerts.h"
#include "service/auth.h"
#include "service/webhooks.h"
#include "tools/hourbank/app.h"

namespace hourbank::cli {

void RegisterSetupCommands(CLI::App& cli, App& app);  // init, plan, client, contract
void RegisterWorkCommands(CLI::App& cli,
                          App& app);  // log, accept, void, buy, pay, adjust, close, incident
void RegisterReadCommands(CLI::App& cli,
                          App& app);  // balance, invoice, burned, report, history, rebuild
void RegisterReportCommands(CLI::App& cli, App& app);  // sla, statement
void RegisterDemoCommand(CLI::App& cli, App& app);     // demo
void RegisterImportCommand(CLI::App& cli, App& app);   // import (time-tracker CSV)
// Audit, export, import-log, checkpoint, keygen, verify (tools/hourbank/audit.cc).
void RegisterAuditCommands(CLI::App& cli, App& app);
// token, serve, and --server for read commands and log (tools/hourbank/server/serve.cc, tokens.cc,
// client.cc).
void RegisterServeCommands(CLI::App& cli, App& app);
// recover --from DIR --to NEWDIR (tools/hourbank/cli/cmd_recover.cc).
void RegisterRecoverCommand(CLI::App& cli, App& app);
void RegisterBackupCommands(CLI::App& cli, App& app);  // backup, restore
// write-down, review (tools/hourbank/cli/cmd_billing.cc).
void RegisterBillingCommands(CLI::App& cli, App& app);
// forecast, whatif (tools/hourbank/cli/cmd_forecast.cc).
void RegisterForecastCommands(CLI::App& cli, App& app);
// `whatif` (reports/whatif.h) for CLIENT under PLAN or PLAN@VERSION; months 0 = the defaults.
reports::WhatIf WhatIfFor(App& app, const std::string& client, const std::string& plan,
                          uint32_t from_month, uint32_t to_month);

// alerts (tools/hourbank/cli/cmd_alerts.cc), and its JSON for GET /v1/alerts and
// GET /v1/clients/{id}/alerts (`client` empty: every client; `since` as given).
void RegisterAlertsCommands(CLI::App& cli, App& app);
// One alert as `alerts --json` prints it (also a webhook's "data" for alert.raised).
nlohmann::json AlertJson(const service::ClientAlerts& c, const projections::AlertRecord& a);
// webhook add|remove|list|deliver|deliveries|redeliver (tools/hourbank/cli/cmd_webhooks.cc).
void RegisterWebhookCommands(CLI::App& cli, App& app);
// The answers of the webhook commands and of serve's /v1/webhooks routes (admin only; the JSON
// never holds a secret, only its fingerprint).
Result<nlohmann::json> WebhookAddAnswer(ledger::Log& log, const service::Caller& c,
                                        const service::WebhookSpec& spec, int64_t now_us);
Result<nlohmann::json> WebhookListAnswer(const ledger::Log& log, const service::Caller& c);
Result<nlohmann::json> WebhookDeliveriesAnswer(const ledger::Log& log, const service::Caller& c,
                                               const std::string& only);
Result<nlohmann::json> AlertsAnswer(service::Session& s, const service::Caller& c,
                                    const std::string& client, const std::string& since,
                                    service::Names names);
// `alerts settings CLIENT --json` and GET /v1/clients/{id}/alerts/settings: the thresholds in
// force for the client and where each comes from.
Result<nlohmann::json> AlertSettingsAnswer(service::Session& s, const service::Caller& c,
                                           const std::string& client);

}  // namespace hourbank::cli
