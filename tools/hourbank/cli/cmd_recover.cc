// hourbank recover --from DIR --to NEWDIR: salvage a ledger whose WAL is damaged (the open
// refuses it, naming the file and byte). DIR is only read; every readable event is written to
// the new ledger NEWDIR and what was lost is reported (ledger/recover.h; docs/recovery.md).
#include <cstdio>

#include <fmt/format.h>

#include "ledger/recover.h"
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
  cmd->add_option("--from", args->from, "the damaged ledger (only read, never changed)")->required();
  cmd->add_option("--to", args->to, "a new directory for the recovered ledger (must not exist or be empty)")->required();
  cmd->callback([&app, args] {
    auto report = Must(ledger::Recover(args->from, args->to, app.now_us()));
    if (app.json) {
      nlohmann::json lost = nlohmann::json::array();
      for (const auto& [a, b] : report.lost) lost.push_back({a, b});
      nlohmann::json moved = nlohmann::json::array();
      for (const auto& [o, n] : report.reappended) moved.push_back({{"old_seq", o}, {"new_seq", n}});
      app.PrintJson({{"from", report.from}, {"to", report.to}, {"wal", report.wal_findings},
                     {"damaged_head", report.damaged_head}, {"copied", report.copied},
                     {"lost", lost}, {"lost_count", report.lost_count}, {"reappended", moved},
                     {"new_head", report.new_head}, {"new_head_hash", ledger::HexOf(report.new_head_hash)},
                     {"report_file", report.to + "/recovery/report.txt"}});
    } else {
      std::fputs(report.text.c_str(), stdout);
      app.Say(fmt::format("report written to {}/recovery/report.txt", report.to));
    }
  });
}

}  // namespace hourbank::cli
