#include "tools/hourbank/answers.h"

#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;

json LogJson(const std::string& client, const service::LogAnswer& a, int64_t now_us) {
  const projections::ClientState& s = a.state;
  const projections::Entry* e = s.FindEntry(a.write.result.first_seq);
  json j = {{"client", client}, {"id", a.write.result.first_seq}, {"replayed", a.write.replayed}};
  if (e) {
    std::string paid = e->paid_by();
    if (e->month)
      for (const projections::Entry& x : s.EntriesFor(e->month))
        if (x.seq == e->seq) paid = x.paid_by(), j["billed_minor"] = x.billed_minor();
    j["paid_by"] = paid;
    j["month"] = MonthText(e->month);
  }
  j["balance"] = BalanceJson(s, e ? s.zone().MonthStartUs(e->month ? e->month : s.zone().MonthOf(now_us)) : now_us);
  return j;
}

json SummaryJson(const std::string& client, const service::WriteOutcome& w) {
  return {{"client", client}, {"summary", w.summary}};
}

json ClosedJson(const service::Closed& c) {
  return {{"client", c.client}, {"month", MonthText(c.month)}, {"summary", c.summary}};
}

}  // namespace hourbank::cli
