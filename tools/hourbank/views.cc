#include "tools/hourbank/views.h"

#include "tools/hourbank/app.h"

namespace hourbank::cli {

using nlohmann::json;

std::string BalanceText(const json& b) { return reports::BalanceText(b); }
std::string InvoiceText(const json& inv) { return reports::InvoiceText(inv); }
std::string BurnedText(const json& b) { return reports::BurnedText(b); }
std::string ReportText(const json& r) { return reports::ReportText(r); }
std::string SlaText(const json& s) { return reports::SlaText(s); }
std::string BalanceText(const json& b, const TableOptions& o) { return reports::BalanceText(b, o); }
std::string InvoiceText(const json& inv, const TableOptions& o) { return reports::InvoiceText(inv, o); }
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

}  // namespace hourbank::cli
