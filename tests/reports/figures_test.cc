// The one definition of each figure (reports/figures.h): the balance, the answer to `log` and
// the client statement show the same hours left and the same "paid by" for the same month.
//
// The scenario (figures by hand; the rules: 1C Start's "не выработанные часы копятся в
// резерве", capped at 10 h, and a prepaid block drawn after the allowance and the reserve):
//   plan: 10 h included a month, unused hours carried into a reserve capped at 10 h.
//   January 2026: 4 h used → 6 h carried: February starts with a 6 h reserve.
//   February: a 5 h block bought, usable through 28 February (it expires at February's close).
//     12 h on 10 Feb: allowance 10 h, reserve 2 h;  1 h on 11 Feb: reserve 1 h.
//   Left in February: allowance 10 − 10 = 0 h; reserve 6 − 3 = 3 h; prepaid 5 h (the block is
//   still usable while February is open, though it expires at the close).
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "sim.h"

#include "reports/figures.h"
#include "reports/json.h"
#include "reports/statement.h"
#include "reports/text.h"

using namespace hourbank;
using namespace hourbank::projections;
using hourbank::testing::Sim;

namespace {

constexpr const char* kPlan = R"(
[[plan]]
id = "bank"
name = "Hour bank"
currency = "USD"
fee_minor = 100000
included_minutes = 600
rollover = "carry"
reserve_cap_minutes = 600
overage_rate_minor = 5000

[[plan.kinds]]
id = "support"
unit = "hour"
)";

struct Scenario {
  Sim sim;
  uint64_t last_entry = 0;
  int64_t at_us = 0;  // "now": 12 February 2026, 12:00 in the client's zone
};

void Build(Scenario& x) {
  Sim& s = x.sim;
  s.DefineToml(kPlan);
  s.AddClient("c", "USD", "Europe/Berlin");
  s.Start("c", {.plan_id = "bank", .from_month = 202601, .term_months = 0});
  s.LogHours("c", "support", 240, "2026-01-15T10:00");
  s.Close("c", 202601);
  s.Must("c", DecideBuyHours(s.client("c"),
                             {.minutes = 300,
                              .price_minor = 10000,
                              .expires_day = 20260228,
                              .at_us = s.At("c", "2026-02-02T10:00")},
                             s.now_us));
  s.LogHours("c", "support", 720, "2026-02-10T10:00");
  x.last_entry = s.LogHours("c", "support", 60, "2026-02-11T10:00");
  x.at_us = s.At("c", "2026-02-12T12:00");
}

// Minutes of a FormatMinutes text ("3h", "45m", "1h30m", "0m"); -1 when it is not one.
int64_t Minutes(const std::string& text) {
  std::smatch m;
  if (!std::regex_match(text, m, std::regex(R"((?:(\d+)h)?(?:(\d+)m)?)")) || text.empty())
    return -1;
  return (m[1].matched ? std::stoll(m[1]) * 60 : 0) + (m[2].matched ? std::stoll(m[2]) : 0);
}

// The text of the element carrying id="ID", up to its first child tag or end tag.
std::string ById(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "<no id " + id + ">";
  const size_t open = html.find('>', at);
  const size_t close = html.find('<', open);
  return html.substr(open + 1, close - open - 1);
}

}  // namespace

TEST_CASE("prepaid minutes left count a block expiring at the close while the month is open",
          "[reports][figures]") {
  Scenario x;
  Build(x);
  const MonthEval feb = x.sim.client("c").Evaluate(202602);
  REQUIRE_FALSE(feb.closed);
  CHECK(reports::AllowanceLeftMinutes(feb) == 0);
  CHECK(reports::ReserveLeftMinutes(feb) == 180);
  CHECK(reports::PrepaidLeftMinutes(feb) == 300);
}

TEST_CASE("prepaid minutes left drop a block that expired at the month's close",
          "[reports][figures]") {
  Scenario x;
  Build(x);
  x.sim.Close("c", 202602);
  const MonthEval feb = x.sim.client("c").Evaluate(202602);
  REQUIRE(feb.closed);
  CHECK(reports::PrepaidLeftMinutes(feb) == 0);  // the 5 h expired unused at February's close
}

TEST_CASE("the balance, the log answer and the statement show the same figures for the same month",
          "[reports][figures][consistency]") {
  Scenario x;
  Build(x);
  const ClientState& s = x.sim.client("c");

  // The balance (`balance --json`).
  const nlohmann::json bal = reports::BalanceJson(s, x.at_us);
  REQUIRE(bal["month"] == "2026-02");
  const int64_t allowance_left = bal["allowance"]["left_minutes"];
  const int64_t reserve_left = bal["reserve_minutes"];
  const int64_t prepaid_left = bal["prepaid_minutes"];
  CHECK(allowance_left == 0);
  CHECK(reserve_left == 180);
  CHECK(prepaid_left == 300);

  // The answer to `log` for the last entry, as people and programs read it.
  const std::string line = reports::LogAnswerText(s, x.last_entry, false);
  std::smatch m;
  REQUIRE(std::regex_search(
      line, m,
      std::regex(R"(→ (.*) \| left in 2026-02: allowance (\S+), reserve (\S+), prepaid (\S+))")));
  const std::string log_paid_by = m[1];
  CHECK(Minutes(m[2]) == allowance_left);
  CHECK(Minutes(m[3]) == reserve_left);
  CHECK(Minutes(m[4]) == prepaid_left);
  const nlohmann::json answer = reports::LogAnswerJson(s, x.last_entry, false, x.at_us);
  CHECK(answer["paid_by"] == log_paid_by);
  CHECK(answer["balance"]["prepaid_minutes"] == prepaid_left);
  CHECK(answer["balance"]["reserve_minutes"] == reserve_left);
  CHECK(log_paid_by == "reserve 1h");

  // The statement (HTML and text) for February.
  const std::string html = reports::RenderStatementHtml(s, {.month = 202602, .now_us = x.at_us});
  CHECK(Minutes(ById(html, "glance-allowance-left")) == allowance_left);
  CHECK(Minutes(ById(html, "glance-reserve-left")) == reserve_left);
  CHECK(Minutes(ById(html, "glance-blocks-left")) == prepaid_left);
  CHECK(html.find("<td>" + log_paid_by + "</td>") != std::string::npos);
  const std::string text = reports::RenderStatementText(s, {.month = 202602, .now_us = x.at_us});
  CHECK(std::regex_search(text, std::regex("Prepaid hours left +5h\n")));
  CHECK(std::regex_search(text, std::regex("Reserve left +3h\n")));
  CHECK(text.find("Paid by: " + log_paid_by + "\n") != std::string::npos);

  // The work report (`report --json`) says the same about the entry.
  const nlohmann::json report = reports::ReportJson(s, 202602);
  bool found = false;
  for (const auto& e : report["entries"])
    if (e["id"] == x.last_entry) {
      found = true;
      CHECK(e["paid_by"] == log_paid_by);
    }
  CHECK(found);
}

TEST_CASE("what paid for an entry reads the same in English and Russian, source by source",
          "[reports][figures]") {
  Scenario x;
  Build(x);
  const auto e = reports::EntryWithCharges(x.sim.client("c"), x.last_entry);
  REQUIRE(e);
  CHECK(reports::PaidBy(*e, reports::Lang::kEn) == "reserve 1h");
  CHECK(reports::PaidBy(*e, reports::Lang::kRu) == "резерв 1 ч");
}
