// The writes of service/webhooks.h: registrations, removals, redeliver requests and attempts,
// appended to "$webhooks".
#include <fmt/format.h>

#include "service/webhooks.h"

namespace hourbank::service {

using schemas::WebhookOutcome;

namespace {

ledger::EventDraft Draft(const std::string& actor, int64_t now_us) {
  ledger::EventDraft d;
  d.root().setEffectiveAtUs(now_us);
  d.root().setActor(actor);
  return d;
}

Result<ledger::AppendResult> AppendHook(ledger::Log& log, ledger::EventDraft d,
                                        std::optional<uint32_t> expected_version = std::nullopt,
                                        const std::string& key = {}) {
  ledger::AppendRequest req;
  req.client_id = kWebhooksStream;
  req.expected_version = expected_version;
  req.idempotency_key = key;
  req.events.push_back(std::move(d));
  return log.Append(std::move(req));
}

// The webhook `id`, registered and not removed; kNotFound otherwise.
Result<Webhook> ActiveHook(const WebhookTable& t, const std::string& id) {
  auto it = t.hooks.find(id);
  if (it == t.hooks.end() || it->second.removed)
    return Error::NotFound(
        fmt::format("no webhook '{}'; see `hourbank webhook list`", id.substr(0, 64)));
  return it->second;
}

}  // namespace

Result<std::string> AddWebhook(ledger::Log& log, const Caller& caller, const WebhookSpec& spec,
                               int64_t now_us) {
  HB_TRY(Require(caller, Operation::kWebhooks));
  HB_TRY(CheckWebhookUrl(spec.url));
  auto secret = WebhookSecretFrom(spec.secret);
  if (!secret.ok()) return secret.error();
  if (spec.events == 0)
    return Error::Invalid("--events: give alert, month_closed or both (comma-separated)");
  if (spec.max_attempts < 1 || spec.max_attempts > kWebhookAttemptsMax)
    return Error::Invalid(fmt::format("--max-attempts {} is not 1-100", spec.max_attempts));
  auto version = log.StreamVersion(kWebhooksStream);
  if (!version.ok()) return version.error();
  auto table = LoadWebhooks(log);
  if (!table.ok()) return table.error();
  const std::string id = fmt::format("wh{}", table->added + 1);
  ledger::EventDraft d = Draft(caller.name, now_us);
  auto a = d.root().getBody().initWebhookAdded();
  a.setWebhookId(id);
  a.setUrl(spec.url);
  auto events =
      a.initEvents((spec.events & kHookAlert ? 1 : 0) + (spec.events & kHookMonthClosed ? 1 : 0));
  unsigned i = 0;
  if (spec.events & kHookAlert) events.set(i++, "alert");
  if (spec.events & kHookMonthClosed) events.set(i++, "month_closed");
  a.setSecret(
      capnp::Data::Reader(reinterpret_cast<const uint8_t*>(secret->data()), secret->size()));
  a.setMaxAttempts(spec.max_attempts);
  // The version read before the fold: a concurrent add conflicts instead of reusing the id.
  auto r = AppendHook(log, std::move(d), version.value());
  if (!r.ok()) return r.error();
  return id;
}

Status RemoveWebhook(ledger::Log& log, const Caller& caller, const std::string& id,
                     int64_t now_us) {
  HB_TRY(Require(caller, Operation::kWebhooks));
  auto table = LoadWebhooks(log);
  if (!table.ok()) return table.error();
  auto hook = ActiveHook(table.value(), id);
  if (!hook.ok()) return hook.error();
  ledger::EventDraft d = Draft(caller.name, now_us);
  d.root().getBody().initWebhookRemoved().setWebhookId(id);
  auto r = AppendHook(log, std::move(d));
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Status RequestRedelivery(ledger::Log& log, const Caller& caller, std::string_view delivery_id,
                         int64_t now_us) {
  HB_TRY(Require(caller, Operation::kWebhooks));
  const auto key = ParseDeliveryId(delivery_id);
  if (!key)
    return Error::Invalid(
        fmt::format("'{}' is not a delivery id (WEBHOOK-SEQ, e.g. wh1-42); see `hourbank webhook "
                    "deliveries`",
                    delivery_id.substr(0, 64)));
  auto table = LoadWebhooks(log);
  if (!table.ok()) return table.error();
  auto hook = ActiveHook(table.value(), key->first);
  if (!hook.ok()) return hook.error();
  if (!table->deliveries.count(*key))
    return Error::NotFound(fmt::format(
        "no delivery '{}' was attempted; see `hourbank webhook deliveries`", delivery_id));
  ledger::EventDraft d = Draft(caller.name, now_us);
  auto r = d.root().getBody().initWebhookRedeliverRequested();
  r.setWebhookId(key->first);
  r.setSourceSeq(key->second);
  auto appended = AppendHook(log, std::move(d));
  if (!appended.ok()) return appended.error();
  return Status::Ok();
}

void DecideAttempt(const Webhook& hook, uint32_t attempt, const AttemptResult& r, int64_t now_us,
                   int64_t backoff_base_us, schemas::WebhookAttempted::Builder out) {
  out.setWebhookId(hook.id);
  out.setAttempt(attempt);
  out.setHttpStatus(r.http_status);
  const bool ok = r.http_status >= 200 && r.http_status <= 299;
  std::string error = ok                 ? std::string()
                      : !r.error.empty() ? r.error
                                         : fmt::format("HTTP {}", r.http_status);
  if (error.size() > kWebhookErrorBytesMax) error.resize(kWebhookErrorBytesMax);
  for (char& c : error)  // printable ASCII only: it is shown in tables and JSON
    if (c < ' ' || c > '~') c = '?';
  out.setError(error);
  if (ok) {
    out.setOutcome(WebhookOutcome::DELIVERED);
  } else if (attempt >= hook.max_attempts) {
    out.setOutcome(WebhookOutcome::GAVE_UP);
  } else {
    out.setOutcome(WebhookOutcome::RETRY);
    out.setRetryAtUs(now_us + WebhookBackoffUs(attempt, backoff_base_us));
  }
}

Status RecordAttempt(ledger::Log& log, const std::string& actor, const Webhook& hook,
                     uint64_t source_seq, uint32_t attempt, const AttemptResult& r, int64_t now_us,
                     int64_t backoff_base_us) {
  ledger::EventDraft d = Draft(actor, now_us);
  auto a = d.root().getBody().initWebhookAttempted();
  DecideAttempt(hook, attempt, r, now_us, backoff_base_us, a);
  a.setSourceSeq(source_seq);
  auto appended = AppendHook(log, std::move(d));
  if (!appended.ok()) return appended.error();
  return Status::Ok();
}

}  // namespace hourbank::service
