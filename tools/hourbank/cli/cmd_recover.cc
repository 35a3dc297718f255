// hourbank recover --from DIR --to NEWDIR: salvage a ledger whose WAL is damaged (the open
// refuses it, naming the file and byte). DIR is only read; every readable event is written to
// the new ledger NEWDIR and what was lost is reported (ledger/recover.h; docs/recovery.md).
#include <cstdio>

#include <fmt/format.h>

#include "ledger/backup.h"
#include "ledger/recover.h"
#include "projections/units.h"
#include "tools/hourbank/views.h"
#include "tools/hourbank/commands.h"

namespace hourbank::cli {

void RegisterRecoverCommand(CLI::App& cli, App& app) {
  struct Args {
    std::string from, to;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = cli.add_subcommand(
      "recover",
      "Copy every readable event of a damaged ledger into a NEW ledger and report what was lost\n"
      "  e.g. hourbank recover --from ./books --to ./books-recovered");
  cmd->add_option("--from", args->from, "the damaged ledger (only read, never changed)")
      ->required();
  cmd->add_option("--to", args->to,
                  "a new directory for the recovered ledger (must not exist or be empty)")
      ->required();
  cmd->callback([&app, args] {
    auto report = Must(ledger::Recover(args->from, args->to, app.now_us()));
    if (app.json) {
      nlohmann::json lost = nlohmann::json::array();
      for (const auto& [a, b] : report.lost) lost.push_back({a, b});
      nlohmann::json moved = nlohmann::json::array();
      for (const auto& [o, n] : report.reappended)
        moved.push_back({{"old_seq", o}, {"new_seq", n}});
      app.PrintJson({{"from", report.from},
                     {"to", report.to},
                     {"wal", report.wal_findings},
                     {"damaged_head", report.damaged_head},
                     {"copied", report.copied},
                     {"lost", lost},
                     {"lost_count", report.lost_count},
                     {"reappended", moved},
                     {"new_head", report.new_head},
                     {"new_head_hash", ledger::HexOf(report.new_head_hash)},
                     {"report_file", report.to + "/recovery/report.txt"}});
    } else {
      std::fputs(report.text.c_str(), stdout);
      app.Say(fmt::format("report written to {}/recovery/report.txt", report.to));
    }
  });
}

}  // namespace hourbank::cli

namespace hourbank::cli {

// hourbank backup DIR [--list] / hourbank restore DIR --ledger NEW [--backup-id N]: online,
// incremental backups of the embedded ledger (ledger/backup.h; docs/backup.md).
void RegisterBackupCommands(CLI::App& cli, App& app) {
  struct BackupArgs {
    std::string dir;
    bool list = false;
  };
  auto ba = std::make_shared<BackupArgs>();
  auto* backup = cli.add_subcommand(
      "backup",
      "Back up the ledger into DIR (online: a server may keep appending; incremental; verified)\n"
      "  e.g. hourbank --ledger ./books backup /backups/books     hourbank backup /backups/books "
      "--list");
  backup->add_option("DIR", ba->dir, "the backup directory (made if missing; holds every backup)")
      ->required();
  backup->add_flag("--list", ba->list, "list the backups in DIR instead of making one");
  backup->callback([&app, ba] {
    auto print = [&app](const ledger::BackupInfo& b) -> nlohmann::json {
      return {{"id", b.id},
              {"created_at", projections::Zone::Utc().FormatIso(b.created_unix_s * 1000000)},
              {"head_seq", b.head_seq},
              {"files", b.files},
              {"size_bytes", b.size_bytes}};
    };
    if (ba->list) {
      const auto infos = Must(ledger::ListBackups(ba->dir));
      nlohmann::json arr = nlohmann::json::array();
      std::vector<std::vector<std::string>> rows = {
          {"id", "created", "head seq", "files", "bytes"}};
      for (const auto& b : infos) {
        arr.push_back(print(b));
        rows.push_back(
            {std::to_string(b.id), arr.back()["created_at"].get<std::string>().substr(0, 16),
             std::to_string(b.head_seq), std::to_string(b.files), std::to_string(b.size_bytes)});
      }
      app.json ? app.PrintJson(arr) : (void)std::fputs(Table(rows).c_str(), stdout);
      return;
    }
    const ledger::BackupInfo b = Must(ledger::BackupLedger(app.ledger_dir, ba->dir));
    if (app.json)
      app.PrintJson(print(b));
    else
      app.Say(
          fmt::format("backup {} of {} written to {} and verified: events 1-{}, {} files, {} bytes",
                      b.id, app.ledger_dir, ba->dir, b.head_seq, b.files, b.size_bytes));
  });

  struct RestoreArgs {
    std::string dir;
    uint32_t id = 0;
  };
  auto ra = std::make_shared<RestoreArgs>();
  auto* restore = cli.add_subcommand(
      "restore",
      "Restore a backup into a NEW ledger directory (--ledger), after checking every file's "
      "checksum\n"
      "  e.g. hourbank restore /backups/books --ledger ./books-restored [--backup-id 3]");
  restore->add_option("DIR", ra->dir, "the backup directory")->required();
  restore->add_option("--backup-id", ra->id,
                      "which backup (default: the latest; see `hourbank backup DIR --list`)");
  restore->callback([&app, ra] {
    const ledger::RestoreResult r = Must(ledger::RestoreLedger(ra->dir, app.ledger_dir, ra->id));
    if (app.json)
      app.PrintJson(
          {{"backup_id", r.backup.id}, {"ledger", app.ledger_dir}, {"head_seq", r.head_seq}});
    else
      app.Say(fmt::format(
          "backup {} restored into {}: events 1-{}, hash chain verified; events after the backup "
          "are not in it",
          r.backup.id, app.ledger_dir, r.head_seq));
  });
}

}  // namespace hourbank::cli
