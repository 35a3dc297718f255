#include "tools/hourbank/answers.h"

#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;

// One shape, one definition: reports::LogAnswerJson (its "line" is the sentence `log` prints).
json LogJson(const std::string& client, const service::LogAnswer& a, int64_t now_us) {
  (void)client;  // the state's own id
  return LogAnswerJson(a.state, a.write.result.first_seq, a.write.replayed, now_us);
}

json SummaryJson(const std::string& client, const service::WriteOutcome& w) {
  return {{"client", client}, {"summary", w.summary}};
}

json ClosedJson(const service::Closed& c) {
  return {{"client", c.client}, {"month", MonthText(c.month)}, {"summary", c.summary}};
}

}  // namespace hourbank::cli
