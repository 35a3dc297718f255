// Signed webhooks (docs/webhooks.md): registrations and the delivery log are events of the
// system stream "$webhooks"; this file folds them, validates what `webhook add` is given, signs
// payloads and appends the registration, removal, attempt and redeliver events.
//
// "$webhooks" := (WebhookAdded | WebhookRemoved | WebhookAttempted | WebhookRedeliverRequested)*
// A delivery is (webhook id, source seq); its id "<webhook>-<seq>" is stable across retries and
// redeliveries. Its state is the last of its attempts since its last redeliver request.
// The HTTP POST itself is not here (service does no network I/O): tools/hourbank/cli/webhooks.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/log.h"
#include "schemas/events.capnp.h"
#include "service/auth.h"

namespace hourbank::service {

inline constexpr const char* kWebhooksStream = "$webhooks";
inline constexpr size_t kWebhookUrlBytesMax = 2048;
inline constexpr size_t kWebhookSecretBytesMin = 16, kWebhookSecretBytesMax = 1024;
inline constexpr uint32_t kWebhookAttemptsDefault = 8, kWebhookAttemptsMax = 100;
inline constexpr size_t kWebhookErrorBytesMax = 200;
inline constexpr int64_t kWebhookBackoffCapUs = 3600ll * 1000 * 1000;  // 1 h

// What a webhook may subscribe to (the payload's "type": "alert.raised", "month.closed").
enum WebhookEvents : uint32_t { kHookAlert = 1, kHookMonthClosed = 2 };

struct Webhook {
  std::string id, url, secret;
  uint32_t events = 0;  // WebhookEvents bits
  uint32_t max_attempts = kWebhookAttemptsDefault;
  uint64_t added_seq = 0;
  int64_t added_at_us = 0;
  bool removed = false;
};

enum class DeliveryState { kPending, kRetry, kDelivered, kGaveUp };

struct Delivery {
  std::string webhook;
  uint64_t source_seq = 0;
  uint32_t attempts = 0;  // since the last redeliver request
  uint32_t last_status = 0;
  std::string last_error;
  DeliveryState state = DeliveryState::kPending;
  int64_t next_try_us = 0;  // kRetry: not before then
  int64_t last_try_us = 0;
};

using DeliveryKey = std::pair<std::string, uint64_t>;  // (webhook id, source seq)
struct WebhookTable {
  std::map<std::string, Webhook> hooks;
  std::map<DeliveryKey, Delivery> deliveries;  // only those with an attempt or a request
  uint32_t added = 0;                          // WebhookAdded events: the next id is added + 1
};

// Applies one "$webhooks" event (no I/O; other bodies are ignored).
void ApplyWebhookEvent(WebhookTable& t, uint64_t seq, schemas::Event::Reader event);
Result<WebhookTable> LoadWebhooks(const ledger::Log& log);

// "<webhook>-<seq>" and back (nullopt for anything else).
std::string DeliveryId(const DeliveryKey& key);
std::optional<DeliveryKey> ParseDeliveryId(std::string_view id);
const char* DeliveryStateName(DeliveryState s);  // pending, retry, delivered, gave_up

// Checks: http:// or https://, a host, an optional port 1-65535, at most 2048 bytes, no blanks
// or control characters. kInvalid with what to fix.
Status CheckWebhookUrl(std::string_view url);
// The secret from a file's text: one trailing newline (\n or \r\n) stripped, then 16-1024 bytes.
Result<std::string> WebhookSecretFrom(std::string text);
// "alert,month_closed" -> bits; kInvalid for an unknown or missing name.
Result<uint32_t> ParseWebhookEvents(std::string_view list);
std::string WebhookEventsText(uint32_t events);
// First 8 bytes of BLAKE2b-256 of the secret, hex: what list/JSON show instead of it.
std::string SecretFingerprint(std::string_view secret);

// Lowercase hex HMAC-SHA256(secret, message) (libsodium).
std::string HmacSha256Hex(std::string_view secret, std::string_view message);
// "t=<unix_seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>".
std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body);
// The wait before the attempt after `attempt` failed: base × 2^(attempt-1), at most 1 h.
int64_t WebhookBackoffUs(uint32_t attempt, int64_t base_us);

// kHookAlert for an AlertRaised, kHookMonthClosed for a PeriodClosed, 0 for anything else.
uint32_t WebhookEventOf(schemas::Event::Reader event);
// The payload's "type" of an event kind: "alert.raised", "month.closed"; "" for 0.
const char* WebhookPayloadType(uint32_t kind);
// Whether the event at `seq` (of kind `kind`) is to be sent to `hook` now: the hook is active,
// subscribes to it, was added before it, and the delivery is new, redeliver-requested or a retry
// whose time has come.
bool DeliveryDue(const WebhookTable& t, const Webhook& hook, uint64_t seq, uint32_t kind,
                 int64_t now_us);

// Appends (admin: Require kWebhooks first). AddWebhook returns the new id.
struct WebhookSpec {
  std::string url, secret;
  uint32_t events = 0;
  uint32_t max_attempts = kWebhookAttemptsDefault;
};
Result<std::string> AddWebhook(ledger::Log& log, const Caller& caller, const WebhookSpec& spec,
                               int64_t now_us);
Status RemoveWebhook(ledger::Log& log, const Caller& caller, const std::string& id, int64_t now_us);
Status RequestRedelivery(ledger::Log& log, const Caller& caller, std::string_view delivery_id,
                         int64_t now_us);

// One attempt's result, recorded as WebhookAttempted.
struct AttemptResult {
  uint32_t http_status = 0;  // 0: no answer
  std::string error;         // bounded to kWebhookErrorBytesMax
};
// The outcome of attempt number `attempt` of `d` under `hook`: delivered for 2xx, gave-up at
// max attempts, else retry after the backoff. Fills the event's fields (no I/O).
void DecideAttempt(const Webhook& hook, uint32_t attempt, const AttemptResult& r, int64_t now_us,
                   int64_t backoff_base_us, schemas::WebhookAttempted::Builder out);
Status RecordAttempt(ledger::Log& log, const std::string& actor, const Webhook& hook,
                     uint64_t source_seq, uint32_t attempt, const AttemptResult& r, int64_t now_us,
                     int64_t backoff_base_us);

}  // namespace hourbank::service
