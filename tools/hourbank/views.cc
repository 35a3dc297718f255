#include "tools/hourbank/views.h"

#include <fmt/format.h>

#include "tools/hourbank/app.h"
#include "tools/hourbank/escape.h"

namespace hourbank::cli {

using nlohmann::json;

std::string BalanceText(const json& b) { return reports::BalanceText(b); }
std::string InvoiceText(const json& inv) { return reports::InvoiceText(inv); }
std::string BurnedText(const json& b) { return reports::BurnedText(b); }
std::string ReportText(const json& r) { return reports::ReportText(r); }
std::string SlaText(const json& s) { return reports::SlaText(s); }
std::string BalanceText(const json& b, const TableOptions& o) { return reports::BalanceText(b, o); }
std::string InvoiceText(const json& inv, const TableOptions& o) {
  return reports::InvoiceText(inv, o);
}
std::string SlaText(const json& s, const TableOptions& o) { return reports::SlaText(s, o); }
std::string ReportText(const json& r, const TableOptions& o) { return reports::ReportText(r, o); }

json EventJson(uint64_t seq, schemas::Event::Reader event, const projections::Zone& zone) {
  json j = reports::EventJson(seq, event, zone);
  if (j.contains("key")) {
    const std::string stored = j["key"];
    j["key"] = std::string(UserKey(stored));
    if (stored.size() != j["key"].get<std::string>().size()) j["key_stored"] = stored;
  }
  return j;
}

std::string PlanListText(const nlohmann::json& plans) {
  std::vector<std::vector<std::string>> rows = {{"plan", "version", "currency", "name"}};
  for (const nlohmann::json& p : plans)
    rows.push_back({p.value("id", ""), std::to_string(p.value("version", 0u)),
                    p.value("currency", ""), p.value("name", "")});
  return Table(rows);
}

std::string PlanText(const nlohmann::json& plan) {
  std::string out = fmt::format("# {} version {} (defined in event #{})\n", plan.value("id", ""),
                                plan.value("version", 0u), plan.value("seq", uint64_t(0)));
  if (plan.contains("grace_days")) {  // a plan whose TOML parsed (its rules are known)
    const std::string blocking = plan.value("debt_blocking", "none");
    const unsigned grace = plan.value("grace_days", 0u);
    const std::string rule =
        blocking == "none" ? "none: work is never refused for debt"
        : blocking == "overdue"
            ? fmt::format(
                  "overdue: work is refused while an invoice is unpaid {} day(s) after its month",
                  grace)
            : fmt::format(
                  "prepaid: work is refused while an invoice is unpaid {} day(s) after its month, "
                  "and at once while emergency work is unpaid",
                  grace);
    out += TerminalLines(fmt::format("# debt blocking: {}", rule)) + "\n";
    out += TerminalLines(fmt::format("# early end (before the {}-month minimum term): {}",
                                     plan.value("minimum_term_months", 0u),
                                     plan.value("early_end", "free"))) +
           "\n";
  }
  return out + TerminalLines(plan.value("toml", ""));
}

}  // namespace hourbank::cli
