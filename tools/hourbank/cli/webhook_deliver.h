// Webhook delivery passes (docs/webhooks.md): `hourbank webhook deliver` and serve's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include "service/webhooks.h"
#include "tools/hourbank/app.h"

namespace hourbank::cli {

struct DeliverOptions {
  int64_t backoff_ms = 1000;   // the first retry's wait; doubles per attempt, at most 1 h
  int64_t timeout_ms = 10000;  // connect, and the answer, each within this
};
struct DeliverCounts {
  size_t delivered = 0, retry = 0, gave_up = 0;
  int64_t next_retry_us = 0;  // the earliest retry not yet due when the pass began; 0: none
};

// The X-Hourbank-* headers of one POST (Content-Type is set by the HTTP client).
std::vector<std::pair<std::string, std::string>> WebhookHeaders(const std::string& delivery_id,
                                                                const std::string& type,
                                                                const std::string& signature);
// One pass over the deliveries due now: POST each, record each attempt. The ledger is closed
// (app.close_log) around every POST. `stop` (optional) ends the pass early. Fails (CommandError)
// when the ledger cannot be read or an attempt cannot be recorded.
DeliverCounts DeliverOnce(App& app, const DeliverOptions& o,
                          const std::atomic<bool>* stop = nullptr);

// Passes until `stop` (about one a second), or one pass when `once`; the counts summed. A pass is
// skipped while the log's head is where the last pass began and no retry has come due.
DeliverCounts DeliverLoop(App& app, const DeliverOptions& o, bool once,
                          const std::atomic<bool>& stop);
// `hourbank serve --webhooks on`: DeliverLoop on the server's log in a thread of its own, a
// failed pass reported on stderr and tried again; never touches the request path.
class WebhookThread {
 public:
  WebhookThread(ledger::Log& log, const std::string& actor, std::optional<int64_t> now_override);
  ~WebhookThread();  // stops it: the POST under way finishes or times out first

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hourbank::cli
