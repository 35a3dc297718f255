// sla, statement: the reports a client reads.
#include <fstream>

#include <fmt/format.h>

#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/server/endpoints.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

void RegisterReportCommands(CLI::App& cli, App& app) {
  struct SlaArgs {
    std::string client, month;
    bool wide = false;
  };
  auto sa = std::make_shared<SlaArgs>();
  auto* sla = cli.add_subcommand(
      "sla",
      "SLA compliance for a month: reaction and resolution in service time, breaches\n"
      "  e.g. hourbank sla bank-crm 2026-03 --json");
  sla->add_option("CLIENT", sa->client)->required();
  sla->add_option("MONTH", sa->month, "YYYY-MM")->required();
  sla->add_flag("--wide", sa->wide, "show long incident ids whole (the table cuts them with …)");
  sla->callback([&app, sa] {
    const uint32_t month = ParseMonthFlag(sa->month, "MONTH");
    json j;
    if (!app.server_url.empty()) {
      j = ServerCall(
          app, "GET",
          fmt::format("/v1/clients/{}/sla/{}", PathSegment(sa->client), MonthText(month)));
    } else {
      ClientState s = app.LoadClient(sa->client);
      if (!s.registered())
        Fail(Code::kNotFound,
             fmt::format("unknown client '{}'; see `hourbank client list`", sa->client));
      j = SlaJson(s, month, app.now_us());
    }
    app.json ? app.PrintJson(j) : (void)std::fputs(SlaText(j, {.wide = sa->wide}).c_str(), stdout);
  });

  struct StmtArgs {
    std::string client, month, out;
    bool html = false, text = false;
    uint32_t months = 6;
  };
  auto st = std::make_shared<StmtArgs>();
  auto* stmt = cli.add_subcommand(
      "statement",
      "The monthly statement for the client: one self-contained HTML file, or text for e-mail\n"
      "  e.g. hourbank statement stroymarket 2026-04 --html --out statement.html");
  stmt->add_option("CLIENT", st->client)->required();
  stmt->add_option("MONTH", st->month, "YYYY-MM")->required();
  auto* html = stmt->add_flag("--html", st->html, "HTML (the default)");
  auto* text = stmt->add_flag("--text", st->text, "plain text");
  html->excludes(text);
  stmt->add_option("--months", st->months, "months in the chart (1-24, default 6)");
  stmt->add_option("--out", st->out, "write to this file instead of stdout");
  stmt->callback([&app, st] {
    const uint32_t month = ParseMonthFlag(st->month, "MONTH");
    if (st->months < 1 || st->months > 24) Fail(Code::kInvalid, "--months must be 1 to 24");
    const std::string doc =
        app.server_url.empty()
            ? Must(StatementDocument(app.session(), app.caller(), st->client, month, st->months,
                                     st->text))
            : ServerDocument(app, fmt::format("/v1/clients/{}/statement/{}?months={}&format={}",
                                              PathSegment(st->client), MonthText(month), st->months,
                                              st->text ? "text" : "html"));
    if (st->out.empty()) {
      std::fwrite(doc.data(), 1, doc.size(), stdout);
      return;
    }
    std::ofstream f(st->out, std::ios::binary | std::ios::trunc);
    f.write(doc.data(), std::streamsize(doc.size()));
    f.close();
    if (!f) Fail(Code::kIo, fmt::format("cannot write '{}'", st->out));
    app.Say(fmt::format("statement written to {}", st->out));
  });
}

}  // namespace hourbank::cli
