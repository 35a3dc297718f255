#include "service/webhooks.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace hourbank::service {

using schemas::WebhookOutcome;

namespace {

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

void ApplyAttempt(WebhookTable& t, schemas::WebhookAttempted::Reader a, int64_t at_us) {
  Delivery& d = t.deliveries[{Str(a.getWebhookId()), a.getSourceSeq()}];
  d.webhook = Str(a.getWebhookId());
  d.source_seq = a.getSourceSeq();
  d.attempts = std::max(d.attempts, a.getAttempt());
  d.last_status = a.getHttpStatus();
  d.last_error = Str(a.getError());
  d.last_try_us = at_us;
  d.next_try_us = 0;
  switch (a.getOutcome()) {
    case WebhookOutcome::DELIVERED:
      d.state = DeliveryState::kDelivered;
      break;
    case WebhookOutcome::RETRY:
      d.state = DeliveryState::kRetry;
      d.next_try_us = a.getRetryAtUs();
      break;
    default:  // gaveUp, or an outcome this build does not know: nothing more is sent
      d.state = DeliveryState::kGaveUp;
      break;
  }
}

}  // namespace

void ApplyWebhookEvent(WebhookTable& t, uint64_t seq, schemas::Event::Reader event) {
  auto body = event.getBody();
  if (body.isWebhookAdded()) {
    auto a = body.getWebhookAdded();
    Webhook h;
    h.id = Str(a.getWebhookId());
    h.url = Str(a.getUrl());
    h.secret.assign(reinterpret_cast<const char*>(a.getSecret().begin()), a.getSecret().size());
    for (auto e : a.getEvents()) {
      auto bits = ParseWebhookEvents(Str(e));
      if (bits.ok()) h.events |= bits.value();
    }
    h.max_attempts = a.getMaxAttempts();
    h.added_seq = seq;
    h.added_at_us = event.getRecordedAtUs();
    t.hooks[h.id] = std::move(h);
    ++t.added;
  } else if (body.isWebhookRemoved()) {
    auto it = t.hooks.find(Str(body.getWebhookRemoved().getWebhookId()));
    if (it != t.hooks.end()) it->second.removed = true;
  } else if (body.isWebhookAttempted()) {
    ApplyAttempt(t, body.getWebhookAttempted(), event.getRecordedAtUs());
  } else if (body.isWebhookRedeliverRequested()) {
    auto r = body.getWebhookRedeliverRequested();
    Delivery& d = t.deliveries[{Str(r.getWebhookId()), r.getSourceSeq()}];
    d.webhook = Str(r.getWebhookId());
    d.source_seq = r.getSourceSeq();
    d.attempts = 0;
    d.state = DeliveryState::kPending;
    d.next_try_us = 0;
  }
}

Result<WebhookTable> LoadWebhooks(const ledger::Log& log) {
  WebhookTable t;
  HB_TRY(log.ReadStream(kWebhooksStream, 1, 0, [&](const ledger::EventView& v) {
    ApplyWebhookEvent(t, v.seq, v.event);
    return true;
  }));
  return t;
}

std::string DeliveryId(const DeliveryKey& key) {
  return fmt::format("{}-{}", key.first, key.second);
}

std::optional<DeliveryKey> ParseDeliveryId(std::string_view id) {
  const size_t dash = id.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || id.size() > 100) return std::nullopt;
  uint64_t seq = 0;
  const char* end = id.data() + id.size();
  auto [p, ec] = std::from_chars(id.data() + dash + 1, end, seq);
  if (ec != std::errc() || p != end || seq == 0) return std::nullopt;
  for (char c : id.substr(0, dash))  // webhook ids are "wh" + digits
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return std::nullopt;
  return DeliveryKey{std::string(id.substr(0, dash)), seq};
}

const char* DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kRetry:
      return "retry";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kGaveUp:
      return "gave_up";
  }
  return "?";
}

namespace {

bool ValidPort(std::string_view port) {
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && p == port.data() + port.size() && port.size() <= 5 && value >= 1 &&
         value <= 65535;
}

// HOST[:PORT] or [V6][:PORT]: a host, and a port when there is a ':'.
bool ValidAuthority(std::string_view a) {
  if (!a.empty() && a[0] == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    const std::string_view rest = a.substr(close + 1);
    return rest.empty() || (rest[0] == ':' && ValidPort(rest.substr(1)));
  }
  const size_t colon = a.find(':');
  const std::string_view host = a.substr(0, colon);
  if (host.empty() || host.find_first_of("@[]") != std::string_view::npos) return false;
  return colon == std::string_view::npos || ValidPort(a.substr(colon + 1));
}

}  // namespace

Status CheckWebhookUrl(std::string_view url) {
  auto bad = [&](const char* why) {
    return Error::Invalid(fmt::format("webhook URL '{}' {}; give http[s]://HOST[:PORT][/PATH]",
                                      url.substr(0, 100), why));
  };
  if (url.size() > kWebhookUrlBytesMax) return bad("is longer than 2048 bytes");
  for (unsigned char c : url)
    if (c <= ' ' || c >= 0x7f) return bad("has a blank or control character");
  std::string_view rest;
  if (url.rfind("http://", 0) == 0)
    rest = url.substr(7);
  else if (url.rfind("https://", 0) == 0)
    rest = url.substr(8);
  else
    return bad("is not http:// or https://");
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (!ValidAuthority(authority)) return bad("has no valid host and port");
  return Status::Ok();
}

Result<std::string> WebhookSecretFrom(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.size() < kWebhookSecretBytesMin || text.size() > kWebhookSecretBytesMax)
    return Error::Invalid(fmt::format(
        "the secret file holds {} byte(s); a webhook secret is 16-1024 bytes (e.g. `openssl rand "
        "-hex 32 > FILE`)",
        text.size()));
  return text;
}

Result<uint32_t> ParseWebhookEvents(std::string_view list) {
  uint32_t bits = 0;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view name = list.substr(start, comma - start);
    if (name == "alert")
      bits |= kHookAlert;
    else if (name == "month_closed")
      bits |= kHookMonthClosed;
    else
      return Error::Invalid(fmt::format(
          "--events: '{}' is not an event type; use alert, month_closed or both (comma-separated)",
          name.substr(0, 64)));
    start = comma + 1;
  }
  return bits;
}

std::string WebhookEventsText(uint32_t events) {
  std::string out;
  if (events & kHookAlert) out = "alert";
  if (events & kHookMonthClosed) out += out.empty() ? "month_closed" : ",month_closed";
  return out;
}

std::string SecretFingerprint(std::string_view secret) {
  return ledger::HexOf(ledger::Digest(secret)).substr(0, 16);
}

std::string HmacSha256Hex(std::string_view secret, std::string_view message) {
  if (sodium_init() < 0) std::abort();  // libsodium cannot run: nothing safe to do
  crypto_auth_hmacsha256_state st;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string hex;
  for (unsigned char c : mac) hex += fmt::format("{:02x}", c);
  return hex;
}

std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string message = t + ".";
  message.append(body);
  return "t=" + t + ",v1=" + HmacSha256Hex(secret, message);
}

int64_t WebhookBackoffUs(uint32_t attempt, int64_t base_us) {
  int64_t wait = std::max<int64_t>(base_us, 0);
  for (uint32_t i = 1; i < attempt && wait < kWebhookBackoffCapUs; ++i) wait *= 2;
  return std::min(wait, kWebhookBackoffCapUs);
}

uint32_t WebhookEventOf(schemas::Event::Reader event) {
  auto body = event.getBody();
  if (body.isAlertRaised()) return kHookAlert;
  if (body.isPeriodClosed()) return kHookMonthClosed;
  return 0;
}

const char* WebhookPayloadType(uint32_t kind) {
  return kind == kHookAlert ? "alert.raised" : kind == kHookMonthClosed ? "month.closed" : "";
}

bool DeliveryDue(const WebhookTable& t, const Webhook& hook, uint64_t seq, uint32_t kind,
                 int64_t now_us) {
  if (hook.removed || (hook.events & kind) == 0 || seq <= hook.added_seq) return false;
  auto it = t.deliveries.find({hook.id, seq});
  if (it == t.deliveries.end()) return true;
  const Delivery& d = it->second;
  return d.state == DeliveryState::kPending ||
         (d.state == DeliveryState::kRetry && d.next_try_us <= now_us);
}

}  // namespace hourbank::service
