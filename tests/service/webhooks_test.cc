// service/webhooks: the signature (RFC 4231), the header, the retry schedule, what `webhook add`
// accepts, and the fold of "$webhooks" on a real temporary ledger (docs/webhooks.md).
#include <catch2/catch.hpp>

#include <string>

#include "service/webhooks.h"
#include "tests/service/temp_ledger.h"

namespace hourbank::service {
namespace {

using schemas::Role;

constexpr int64_t kNow = 1773136800000000;  // 2026-03-10T10:00Z
constexpr int64_t kSecond = 1000000;
const Caller kBoss{"boss", Role::ADMIN};
const std::string kSecret = "0123456789abcdef0123";  // 20 bytes

TEST_CASE("The HMAC-SHA256 is RFC 4231 test case 2") {
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("The signature header is t=SECONDS,v1=HMAC over SECONDS dot body") {
  const std::string body = R"({"id":"wh1-7"})";
  const std::string sig = WebhookSignature("Jefe", 1773136800, body);
  CHECK(sig == "t=1773136800,v1=" + HmacSha256Hex("Jefe", "1773136800." + body));
  CHECK(sig.size() == std::string("t=1773136800,v1=").size() + 64);
  // Another secret or another body signs differently.
  CHECK(sig != WebhookSignature("Jeff", 1773136800, body));
  CHECK(sig != WebhookSignature("Jefe", 1773136800, body + " "));
}

TEST_CASE("Retries wait 1 s doubling per attempt and at most 1 h") {
  // base 1 s: attempt n failed -> 2^(n-1) s; 2^11 = 2048 s, 2^12 = 4096 s > 3600 s (the cap).
  CHECK(WebhookBackoffUs(1, kSecond) == 1 * kSecond);
  CHECK(WebhookBackoffUs(2, kSecond) == 2 * kSecond);
  CHECK(WebhookBackoffUs(3, kSecond) == 4 * kSecond);
  CHECK(WebhookBackoffUs(12, kSecond) == 2048 * kSecond);
  CHECK(WebhookBackoffUs(13, kSecond) == 3600 * kSecond);
  CHECK(WebhookBackoffUs(4000000000u, kSecond) == 3600 * kSecond);  // no overflow
  CHECK(WebhookBackoffUs(3, 10000) == 40000);                       // --backoff-ms 10: 10 ms × 4
}

TEST_CASE("Webhook URLs are http or https with a host and a valid port, at most 2048 bytes") {
  for (const char* good : {"http://127.0.0.1:8080/hook", "https://hooks.example.com/x?y=1",
                           "http://[::1]:9/", "https://example.com"}) {
    CAPTURE(good);
    CHECK(CheckWebhookUrl(good).ok());
  }
  const std::string long_url = "http://example.com/" + std::string(2048, 'a');
  for (const std::string& bad : std::initializer_list<std::string>{
           "ftp://example.com/", "http://", "http://example.com:0/", "http://example.com:65536/",
           "http://exa mple.com/", "https://:80/", "example.com", "http://user@example.com/",
           "http://[::1/", long_url.c_str()}) {
    CAPTURE(bad);
    auto s = CheckWebhookUrl(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == Code::kInvalid);
  }
}

TEST_CASE("A webhook secret is 16 to 1024 bytes after its trailing newline") {
  CHECK(WebhookSecretFrom("0123456789abcdef\n").value() == "0123456789abcdef");
  CHECK(WebhookSecretFrom("0123456789abcdef\r\n").value() == "0123456789abcdef");
  CHECK(WebhookSecretFrom(std::string(1024, 'k')).ok());
  CHECK_FALSE(WebhookSecretFrom("").ok());
  CHECK_FALSE(WebhookSecretFrom("\n").ok());
  CHECK_FALSE(WebhookSecretFrom("0123456789abcde\n").ok());  // 15 bytes
  CHECK_FALSE(WebhookSecretFrom(std::string(1025, 'k')).ok());
}

TEST_CASE("Webhook event lists name alert and month_closed only") {
  CHECK(ParseWebhookEvents("alert").value() == kHookAlert);
  CHECK(ParseWebhookEvents("alert,month_closed").value() == (kHookAlert | kHookMonthClosed));
  for (const char* bad : {"", "alerts", "alert,", ",alert", "month-closed"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseWebhookEvents(bad).ok());
  }
  CHECK(WebhookEventsText(kHookAlert | kHookMonthClosed) == "alert,month_closed");
}

TEST_CASE("Delivery ids are WEBHOOK-SEQ and parse back") {
  CHECK(DeliveryId({"wh1", 42}) == "wh1-42");
  CHECK(ParseDeliveryId("wh1-42") == DeliveryKey{"wh1", 42});
  for (const char* bad : {"wh1", "wh1-", "-42", "wh1-0", "wh1-4x", "wh1--1"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDeliveryId(bad));
  }
}

TEST_CASE("Only admin manages webhooks, and the secret is shown as a fingerprint") {
  TempLedger t;
  ledger::Log& log = t.session().log();
  auto r =
      AddWebhook(log, {"bob", Role::MANAGER}, {"http://127.0.0.1:9/", kSecret, kHookAlert}, kNow);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kForbidden);
  CHECK(SecretFingerprint(kSecret).size() == 16);
  CHECK(SecretFingerprint(kSecret).find(kSecret) == std::string::npos);
}

TEST_CASE("The delivery log folds to retry, gave-up, redeliver and delivered") {
  TempLedger t;
  ledger::Log& log = t.session().log();
  WebhookSpec spec{"http://127.0.0.1:9/hook", kSecret + "\n", kHookAlert | kHookMonthClosed, 3};
  REQUIRE(AddWebhook(log, kBoss, spec, kNow).value() == "wh1");
  WebhookTable table = LoadWebhooks(log).value();
  const Webhook hook = table.hooks.at("wh1");
  CHECK(hook.secret == kSecret);
  CHECK(hook.max_attempts == 3);
  const uint64_t seq = hook.added_seq + 10;  // an alert after the webhook was added
  CHECK(DeliveryDue(table, hook, seq, kHookAlert, kNow));
  CHECK_FALSE(DeliveryDue(table, hook, hook.added_seq, kHookAlert, kNow));  // before it

  // Attempt 1 answered 500 at kNow: retry 1 s later (base 1 s).
  REQUIRE(RecordAttempt(log, "d", hook, seq, 1, {500, ""}, kNow, kSecond).ok());
  table = LoadWebhooks(log).value();
  const Delivery d1 = table.deliveries.at({"wh1", seq});
  CHECK(d1.state == DeliveryState::kRetry);
  CHECK(d1.last_status == 500);
  CHECK(d1.last_error == "HTTP 500");
  CHECK(d1.next_try_us == kNow + kSecond);
  CHECK_FALSE(DeliveryDue(table, hook, seq, kHookAlert, kNow));
  CHECK(DeliveryDue(table, hook, seq, kHookAlert, kNow + kSecond));

  // Attempt 2 timed out at kNow + 1 s: retry 2 s later; attempt 3 (= max) gives up.
  REQUIRE(RecordAttempt(log, "d", hook, seq, 2, {0, "timed out"}, kNow + kSecond, kSecond).ok());
  CHECK(LoadWebhooks(log).value().deliveries.at({"wh1", seq}).next_try_us == kNow + 3 * kSecond);
  REQUIRE(RecordAttempt(log, "d", hook, seq, 3, {503, ""}, kNow + 3 * kSecond, kSecond).ok());
  table = LoadWebhooks(log).value();
  CHECK(table.deliveries.at({"wh1", seq}).state == DeliveryState::kGaveUp);
  CHECK(table.deliveries.at({"wh1", seq}).attempts == 3);
  CHECK_FALSE(DeliveryDue(table, hook, seq, kHookAlert, kNow + 3600 * kSecond));

  // A redeliver request makes it due again with its attempts restarted; a 204 delivers it.
  REQUIRE(RequestRedelivery(log, kBoss, DeliveryId({"wh1", seq}), kNow).ok());
  table = LoadWebhooks(log).value();
  CHECK(table.deliveries.at({"wh1", seq}).state == DeliveryState::kPending);
  CHECK(table.deliveries.at({"wh1", seq}).attempts == 0);
  CHECK(DeliveryDue(table, hook, seq, kHookAlert, kNow));
  REQUIRE(RecordAttempt(log, "d", hook, seq, 1, {204, ""}, kNow, kSecond).ok());
  table = LoadWebhooks(log).value();
  CHECK(table.deliveries.at({"wh1", seq}).state == DeliveryState::kDelivered);
  CHECK(table.deliveries.at({"wh1", seq}).last_error.empty());
  CHECK_FALSE(DeliveryDue(table, hook, seq, kHookAlert, kNow));
}

TEST_CASE("Removing a webhook stops its deliveries and ids keep counting") {
  TempLedger t;
  ledger::Log& log = t.session().log();
  REQUIRE(AddWebhook(log, kBoss, {"http://127.0.0.1:9/", kSecret, kHookAlert}, kNow).ok());
  REQUIRE(RemoveWebhook(log, kBoss, "wh1", kNow).ok());
  WebhookTable table = LoadWebhooks(log).value();
  CHECK_FALSE(DeliveryDue(table, table.hooks.at("wh1"), 100, kHookAlert, kNow));
  CHECK(RemoveWebhook(log, kBoss, "wh1", kNow).error().code == Code::kNotFound);
  CHECK(AddWebhook(log, kBoss, {"http://127.0.0.1:9/", kSecret, kHookAlert}, kNow).value() ==
        "wh2");
  // A month_closed-only question to an alert-only hook is not due.
  table = LoadWebhooks(log).value();
  CHECK_FALSE(DeliveryDue(table, table.hooks.at("wh2"), 100, kHookMonthClosed, kNow));
  CHECK(RequestRedelivery(log, kBoss, "wh9-1", kNow).error().code == Code::kNotFound);
  CHECK(RequestRedelivery(log, kBoss, "wh2-100", kNow).error().code == Code::kNotFound);
  CHECK(RequestRedelivery(log, kBoss, "nonsense", kNow).error().code == Code::kInvalid);
}

TEST_CASE("Bad registrations are refused and write nothing") {
  TempLedger t;
  ledger::Log& log = t.session().log();
  CHECK_FALSE(AddWebhook(log, kBoss, {"ftp://x/", kSecret, kHookAlert}, kNow).ok());
  CHECK_FALSE(AddWebhook(log, kBoss, {"http://x/", "short", kHookAlert}, kNow).ok());
  CHECK_FALSE(AddWebhook(log, kBoss, {"http://x/", kSecret, 0}, kNow).ok());
  CHECK_FALSE(AddWebhook(log, kBoss, {"http://x/", kSecret, kHookAlert, 0}, kNow).ok());
  CHECK_FALSE(AddWebhook(log, kBoss, {"http://x/", kSecret, kHookAlert, 101}, kNow).ok());
  CHECK(log.StreamVersion(kWebhooksStream).value() == 0);
}

}  // namespace
}  // namespace hourbank::service
