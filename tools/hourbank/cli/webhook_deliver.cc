// `hourbank webhook deliver`: one pass finds the deliveries due (service/webhooks.h), builds each
// payload, POSTs it signed and records the attempt in "$webhooks" (docs/webhooks.md). The ledger
// is closed while POSTs run, so a receiver that hangs never holds it: other processes append.
#include "tools/hourbank/cli/webhook_deliver.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using service::Webhook;

namespace {

struct DueDelivery {
  Webhook hook;
  uint64_t seq = 0;
  uint32_t attempt = 1, kind = 0;
  std::string client;
  int64_t recorded_us = 0;
  uint32_t month = 0;       // month.closed: the month
  int64_t total_minor = 0;  // month.closed: the invoice total recorded at the close
};

json AlertData(const projections::ClientState& s, uint64_t seq) {
  for (const projections::AlertRecord& a : s.alerts())
    if (a.seq == seq) return AlertJson({s.id(), s.currency(), s.zone(), {}}, a);
  return json::object();
}

// The JSON body of one delivery (docs/webhooks.md, "Payload").
std::string PayloadOf(App& app, const DueDelivery& d) {
  const projections::ClientState s = app.LoadClient(d.client);
  const bool alert = d.kind == service::kHookAlert;
  json data = alert ? AlertData(s, d.seq)
                    : json{{"client", d.client},
                           {"month", reports::MonthText(d.month)},
                           {"total_minor", d.total_minor},
                           {"currency", s.currency()},
                           {"invoice", InvoiceJson(s, d.month)}};
  return json{{"id", service::DeliveryId({d.hook.id, d.seq})},
              {"type", service::WebhookPayloadType(d.kind)},
              {"client", d.client},
              {"position", d.seq},
              {"created_at", s.zone().FormatIso(d.recorded_us)},
              {"data", data}}
      .dump(-1, ' ', false, json::error_handler_t::replace);  // bad UTF-8 cannot throw
}

// Every delivery due now, in log order; *next_retry the earliest retry due later (0: none).
std::vector<DueDelivery> CollectDue(App& app, int64_t now_us, int64_t* next_retry) {
  const service::WebhookTable t = Must(service::LoadWebhooks(app.log()));
  for (const auto& [key, d] : t.deliveries)
    if (d.state == service::DeliveryState::kRetry && d.next_try_us > now_us &&
        (*next_retry == 0 || d.next_try_us < *next_retry))
      *next_retry = d.next_try_us;
  uint64_t from = 0;
  for (const auto& [id, h] : t.hooks)
    if (!h.removed && (from == 0 || h.added_seq + 1 < from)) from = h.added_seq + 1;
  std::vector<DueDelivery> due;
  if (from == 0) return due;
  Must(app.log().Scan(from, 0, [&](const ledger::EventView& v) {
    const uint32_t kind = service::WebhookEventOf(v.event);
    if (kind == 0) return true;
    for (const auto& [id, h] : t.hooks) {
      if (!service::DeliveryDue(t, h, v.seq, kind, now_us)) continue;
      auto it = t.deliveries.find({id, v.seq});
      DueDelivery d{h,
                    v.seq,
                    it == t.deliveries.end() ? 1 : it->second.attempts + 1,
                    kind,
                    std::string(v.event.getClientId().cStr()),
                    v.event.getRecordedAtUs()};
      if (v.event.getBody().isPeriodClosed()) {
        d.month = v.event.getBody().getPeriodClosed().getMonth();
        d.total_minor = v.event.getBody().getPeriodClosed().getTotalMinor();
      }
      due.push_back(std::move(d));
    }
    return true;
  }));
  return due;
}

// The ledger for recording an attempt: another process may hold it for a moment (kBusy).
ledger::Log& OpenForAppend(App& app) {
  for (int i = 0;; ++i) {
    try {
      return app.log();
    } catch (const CommandError& e) {
      if (e.error.code != Code::kBusy || i >= 100) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> WebhookHeaders(const std::string& delivery_id,
                                                                const std::string& type,
                                                                const std::string& signature) {
  return {{"X-Hourbank-Delivery", delivery_id},
          {"X-Hourbank-Event", type},
          {"X-Hourbank-Signature", signature}};
}

DeliverCounts DeliverOnce(App& app, const DeliverOptions& o, const std::atomic<bool>* stop) {
  std::vector<std::pair<DueDelivery, std::string>> due;
  DeliverCounts n;
  for (DueDelivery& d : CollectDue(app, app.now_us(), &n.next_retry_us)) {
    std::string body = PayloadOf(app, d);
    due.emplace_back(std::move(d), std::move(body));
  }
  for (const auto& [d, body] : due) {
    if (stop && stop->load()) break;
    app.close_log();  // a receiver that hangs holds no lock on the ledger
    const int64_t now_us = app.now_us();
    const std::string id = service::DeliveryId({d.hook.id, d.seq});
    const std::string sig = service::WebhookSignature(d.hook.secret, now_us / 1000000, body);
    const WebhookPostResult r =
        PostWebhook(d.hook.url, WebhookHeaders(id, service::WebhookPayloadType(d.kind), sig), body,
                    o.timeout_ms);
    Must(service::RecordAttempt(OpenForAppend(app), app.actor, d.hook, d.seq, d.attempt,
                                {r.status, r.error}, app.now_us(), o.backoff_ms * 1000));
    const bool ok = r.status >= 200 && r.status <= 299;
    ok ? ++n.delivered : d.attempt >= d.hook.max_attempts ? ++n.gave_up : ++n.retry;
  }
  app.close_log();
  return n;
}

DeliverCounts DeliverLoop(App& app, const DeliverOptions& o, bool once,
                          const std::atomic<bool>& stop) {
  DeliverCounts total;
  std::optional<uint64_t> seen_head;  // the head when the last pass began
  do {
    const uint64_t head = OpenForAppend(app).head_seq();
    const bool idle =
        seen_head == head && (total.next_retry_us == 0 || app.now_us() < total.next_retry_us);
    if (!idle) {
      seen_head = head;
      const DeliverCounts n = DeliverOnce(app, o, &stop);
      total.delivered += n.delivered, total.retry += n.retry, total.gave_up += n.gave_up;
      total.next_retry_us = n.next_retry_us;
    }
    app.close_log();
    for (int i = 0; !once && i < 10 && !stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (!once && !stop);
  return total;
}

WebhookThread::WebhookThread(ledger::Log& log, const std::string& actor,
                             std::optional<int64_t> now_override) {
  thread_ = std::thread([this, &log, actor, now_override] {
    App app;
    app.adopt_log(&log);
    app.actor = actor;
    app.now_override_us = now_override;
    while (!stop_) {
      try {
        DeliverLoop(app, {}, false, stop_);
      } catch (const CommandError& e) {
        std::fprintf(stderr, "hourbank serve: webhooks: %s\n", e.error.message.c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "hourbank serve: webhooks: %s\n", e.what());
      }
      for (int i = 0; i < 10 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

WebhookThread::~WebhookThread() {
  stop_ = true;
  thread_.join();
}

}  // namespace hourbank::cli
