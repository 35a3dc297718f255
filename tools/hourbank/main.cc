// hourbank: the command line of the ledger. See ../shared/CLI.md and README.md.
//
// Exit codes: 0 ok; 1 refused or failed; 2 usage; 3 conflict (expected version, idempotency
// key reused with another body). Every failure is one line on stderr: `hourbank: error: …`.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <kj/exception.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/flag_checks.h"

namespace {

int ExitCodeFor(hourbank::Code code) {
  switch (code) {
    case hourbank::Code::kOk:
      return 0;
    case hourbank::Code::kConflict:
      return 3;
    case hourbank::Code::kUnauthenticated:
      return 1;
    case hourbank::Code::kForbidden:
      return 1;
    default:
      return 1;
  }
}

void PrintError(const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line)
    if (c == '\n' || c == '\r') c = ' ';
  one_line = hourbank::cli::TerminalSafe(
      one_line);  // user text in a message never reaches the terminal raw
  std::fprintf(stderr, "hourbank: error: %s\n", one_line.c_str());
}

// The settings taken from the environment; flags given on the command line override them.
// Returns 0, or the exit code of a bad value (after printing its error line).
int ReadEnvironment(hourbank::cli::App& app) {
  if (const char* v = std::getenv("HOURBANK_LEDGER")) app.ledger_dir = v;
  if (const char* v = std::getenv("HOURBANK_SERVER")) app.server_url = v;
  if (const char* v = std::getenv("HOURBANK_LEDGER_NAME")) app.ledger_name = v;
  if (const char* v = std::getenv("HOURBANK_TOKEN")) app.token = v;
  if (const char* v = std::getenv("USER")) app.actor = v;
  if (app.actor.empty()) app.actor = "unknown";  // no $USER (e.g. a container): still a valid actor
  if (const char* v = std::getenv("HOURBANK_NOW")) {
    auto t = hourbank::projections::ParseTime(v, hourbank::projections::Zone::Utc());
    if (!t.ok()) {
      PrintError("HOURBANK_NOW: " + t.error().message);
      return 2;
    }
    app.now_override_us = t.value();
  }
  return 0;
}

// Commands that only read open the ledger read-only: nothing in its directory changes, and
// they work on a read-only copy.
void OpenReadOnlyFor(CLI::App& cli, hourbank::cli::App& app) {
  for (const char* path :
       {"balance", "invoice", "burned", "report", "history", "sla", "statement", "forecast",
        "whatif", "audit", "verify", "export", "plan list", "plan show", "client list",
        "token list", "webhook list", "webhook deliveries"}) {
    CLI::App* sub = &cli;
    for (const std::string& name : CLI::detail::split(path, ' ')) sub = sub->get_subcommand(name);
    sub->preparse_callback([&app](std::size_t) { app.read_only = true; });
  }
}

// Runs the command line; every failure is one error line and an exit code (see the top).
int Parse(CLI::App& cli, int argc, char** argv) {
  using hourbank::cli::CommandError;
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    PrintError(what + "; see `hourbank --help` or `hourbank COMMAND --help`");
    return 2;
  } catch (const CommandError& e) {
    PrintError(e.error.message);
    return ExitCodeFor(e.error.code);
  } catch (const kj::Exception& e) {
    PrintError(std::string("internal error: ") + e.getDescription().cStr());
    return 1;
  } catch (const std::exception& e) {
    PrintError(std::string("internal error: ") + e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hourbank::cli;
  App app;
  if (int rc = ReadEnvironment(app); rc != 0) return rc;

  CLI::App cli{
      "hourbank — an event-sourced ledger for support-contract hour banks and quota slots"};
  cli.set_help_all_flag("--help-all", "all commands and their options");
  cli.require_subcommand(1);
  cli.fallthrough();
  cli.add_option("--ledger", app.ledger_dir,
                 "ledger directory (env HOURBANK_LEDGER; default ./hourbank-ledger)");
  cli.add_option("--log", app.ledger_dir,
                 "where the log is: a ledger directory (as --ledger) or nats://host[:port][,host…] "
                 "for a ledger on a "
                 "NATS JetStream cluster (with --ledger-name)");
  cli.add_option("--ledger-name", app.ledger_name,
                 "which ledger on the NATS cluster of --log (env HOURBANK_LEDGER_NAME)");
  cli.add_option("--partitions", app.nats_partitions,
                 "streams of a ledger on a NATS cluster, chosen at `init` (1-256; default 1; "
                 "docs/replicated-log.md)")
      ->check(CLI::Range(1, 256));
  cli.add_option("--server", app.server_url,
                 "talk to `hourbank serve` at this URL (env HOURBANK_SERVER)");
  cli.add_option("--token", app.token, "bearer token for --server (env HOURBANK_TOKEN)");
  cli.add_option("--actor", app.actor,
                 "who is acting, recorded on every event (default: $USER; 1-128 bytes)")
      ->check(ActorCheck());
  cli.add_flag("--json", app.json, "exact JSON output for programs");
  cli.add_flag("--nosync", app.nosync,
               "do not fsync appends (bulk loads only: unsafe on power loss)");

  RegisterSetupCommands(cli, app);
  RegisterWorkCommands(cli, app);
  RegisterReadCommands(cli, app);
  RegisterReportCommands(cli, app);
  RegisterDemoCommand(cli, app);
  RegisterImportCommand(cli, app);
  RegisterAuditCommands(cli, app);
  RegisterServeCommands(cli, app);
  RegisterRecoverCommand(cli, app);
  RegisterBackupCommands(cli, app);
  RegisterBillingCommands(cli, app);
  RegisterForecastCommands(cli, app);
  RegisterAlertsCommands(cli, app);
  RegisterWebhookCommands(cli, app);
  OpenReadOnlyFor(cli, app);

  return Parse(cli, argc, argv);
}
