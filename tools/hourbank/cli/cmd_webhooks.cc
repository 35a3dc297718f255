// `hourbank webhook add|remove|list|deliver|deliveries|redeliver` (docs/webhooks.md): the CLI
// onto service/webhooks.h and the delivery pass of webhook_deliver.h. Local ledger only.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tools/hourbank/cli/remote.h"
#include "tools/hourbank/cli/webhook_deliver.h"
#include "tools/hourbank/commands.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop = true; }

void LocalOnly(const App& app) {
  if (!app.server_url.empty())
    Fail(Code::kInvalid,
         "webhook deliver runs against the local ledger; drop --server (`hourbank serve` "
         "delivers itself)");
}

// The secret file's text, read bounded (a longer file is refused by WebhookSecretFrom).
std::string ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    Fail(Code::kInvalid,
         fmt::format("cannot read --secret-file '{}'; give a file holding the secret", path));
  std::string text(service::kWebhookSecretBytesMax + 3, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  text.resize(size_t(in.gcount()));
  return Must(service::WebhookSecretFrom(std::move(text)));
}

const projections::Zone& Utc() {
  static const projections::Zone utc = projections::Zone::Utc();
  return utc;
}
std::string AtOrEmpty(int64_t us) { return us ? Utc().FormatIso(us) : ""; }

void RegisterAdd(CLI::App* hook, App& app) {
  struct Args {
    std::string url, events, secret_file;
    uint32_t max_attempts = service::kWebhookAttemptsDefault;
  };
  auto a = std::make_shared<Args>();
  auto* add = hook->add_subcommand(
      "add",
      "Register a receiver: alerts and closed months are POSTed to it, signed\n"
      "  e.g. hourbank webhook add https://hooks.example.com/hb --events alert,month_closed "
      "--secret-file hook.secret");
  add->add_option("URL", a->url, "http:// or https:// URL")->required();
  add->add_option("--events", a->events, "alert, month_closed or both (comma-separated)")
      ->required();
  add->add_option("--secret-file", a->secret_file, "file holding the HMAC secret (16-1024 bytes)")
      ->required();
  add->add_option("--max-attempts", a->max_attempts, "attempts per delivery (1-100, default 8)");
  add->callback([&app, a] {
    service::WebhookSpec spec{a->url, ReadSecretFile(a->secret_file),
                              Must(service::ParseWebhookEvents(a->events)), a->max_attempts};
    Must(service::CheckWebhookUrl(spec.url));
    const json j = app.server_url.empty()
                       ? Must(WebhookAddAnswer(app.log(), app.caller(), spec, app.now_us()))
                       : ServerCall(app, "POST", "/v1/webhooks",
                                    {{"url", spec.url},
                                     {"events", a->events},
                                     {"secret", spec.secret},
                                     {"max_attempts", spec.max_attempts}});
    app.json
        ? app.PrintJson(j)
        : app.Say(fmt::format("webhook {} added: {} (secret fingerprint {})", j.value("id", ""),
                              j.value("url", ""), j.value("secret_fingerprint", "")));
  });
}

json HooksJson(const service::WebhookTable& t) {
  json arr = json::array();
  for (const auto& [id, h] : t.hooks)
    arr.push_back({{"id", id},
                   {"url", h.url},
                   {"events", service::WebhookEventsText(h.events)},
                   {"max_attempts", h.max_attempts},
                   {"secret_fingerprint", service::SecretFingerprint(h.secret)},
                   {"added_seq", h.added_seq},
                   {"added_at", AtOrEmpty(h.added_at_us)},
                   {"removed", h.removed}});
  return arr;
}

void RegisterList(CLI::App* hook, App& app) {
  auto* list = hook->add_subcommand("list",
                                    "Webhooks (URL, events, secret fingerprint; never the secret)\n"
                                    "  e.g. hourbank webhook list --json");
  list->callback([&app] {
    const json arr = app.server_url.empty() ? Must(WebhookListAnswer(app.log(), app.caller()))
                                            : ServerCall(app, "GET", "/v1/webhooks");
    std::vector<std::vector<std::string>> rows = {{"id", "url", "events", "secret", "state"}};
    for (const json& h : arr)
      rows.push_back({h["id"], h["url"], h["events"], h["secret_fingerprint"],
                      h["removed"].get<bool>() ? "removed" : "active"});
    app.json ? app.PrintJson(arr) : (void)std::fputs(Table(rows).c_str(), stdout);
  });
}

void RegisterRemove(CLI::App* hook, App& app) {
  auto id = std::make_shared<std::string>();
  auto* remove = hook->add_subcommand(
      "remove", "Remove a webhook: nothing more is sent to it\n  e.g. hourbank webhook remove wh1");
  remove->add_option("ID", *id, "webhook id (see `webhook list`)")->required();
  remove->callback([&app, id] {
    if (!app.server_url.empty())
      ServerCall(app, "POST", "/v1/webhooks/" + PathSegment(*id) + "/remove");
    else
      Must(service::RemoveWebhook(app.log(), app.caller(), *id, app.now_us()));
    app.json ? app.PrintJson({{"id", *id}, {"removed", true}})
             : app.Say(fmt::format("webhook {} removed", *id));
  });
}

}  // namespace

namespace {

// The source event's payload type and client ("" when it cannot be read).
std::pair<std::string, std::string> SourceOf(const ledger::Log& log, uint64_t seq) {
  std::pair<std::string, std::string> out;
  (void)log.Scan(seq, seq, [&](const ledger::EventView& v) {
    out = {service::WebhookPayloadType(service::WebhookEventOf(v.event)),
           v.event.getClientId().cStr()};
    return false;
  });
  return out;
}

json DeliveriesJson(const ledger::Log& log, const service::WebhookTable& t,
                    const std::string& only) {
  json arr = json::array();
  for (const auto& [key, d] : t.deliveries) {
    if (!only.empty() && key.first != only) continue;
    const auto [type, client] = SourceOf(log, key.second);
    arr.push_back({{"id", service::DeliveryId(key)},
                   {"webhook", key.first},
                   {"type", type},
                   {"client", client},
                   {"position", key.second},
                   {"attempts", d.attempts},
                   {"last_status", d.last_status},
                   {"last_error", d.last_error},
                   {"outcome", service::DeliveryStateName(d.state)},
                   {"last_try", AtOrEmpty(d.last_try_us)},
                   {"next_try", AtOrEmpty(d.next_try_us)}});
  }
  return arr;
}

}  // namespace

Result<json> WebhookAddAnswer(ledger::Log& log, const service::Caller& c,
                              const service::WebhookSpec& spec, int64_t now_us) {
  auto id = service::AddWebhook(log, c, spec, now_us);
  if (!id.ok()) return id.error();
  auto secret = service::WebhookSecretFrom(spec.secret);  // as stored: checked by AddWebhook
  return json{{"id", id.value()},
              {"url", spec.url},
              {"secret_fingerprint", service::SecretFingerprint(secret.value())}};
}

Result<json> WebhookListAnswer(const ledger::Log& log, const service::Caller& c) {
  HB_TRY(service::Require(c, service::Operation::kWebhooks));
  auto t = service::LoadWebhooks(log);
  if (!t.ok()) return t.error();
  return HooksJson(t.value());
}

Result<json> WebhookDeliveriesAnswer(const ledger::Log& log, const service::Caller& c,
                                     const std::string& only) {
  HB_TRY(service::Require(c, service::Operation::kWebhooks));
  auto t = service::LoadWebhooks(log);
  if (!t.ok()) return t.error();
  return DeliveriesJson(log, t.value(), only);
}

namespace {

void RegisterDeliveries(CLI::App* hook, App& app) {
  auto only = std::make_shared<std::string>();
  auto* cmd = hook->add_subcommand(
      "deliveries",
      "The delivery log: one row per delivery attempted (attempts, last status,\n"
      "  outcome, next try)\n  e.g. hourbank webhook deliveries --webhook wh1 --json");
  cmd->add_option("--webhook", *only, "only this webhook's deliveries");
  cmd->callback([&app, only] {
    const json arr =
        app.server_url.empty()
            ? Must(WebhookDeliveriesAnswer(app.log(), app.caller(), *only))
            : ServerCall(app, "GET",
                         "/v1/webhook-deliveries" +
                             (only->empty() ? std::string() : "?webhook=" + PathSegment(*only)));
    std::vector<std::vector<std::string>> rows = {
        {"delivery", "type", "client", "attempts", "status", "outcome", "next try", "error"}};
    for (const json& d : arr)
      rows.push_back({d["id"], d["type"], d["client"],
                      std::to_string(d["attempts"].get<uint32_t>()),
                      std::to_string(d["last_status"].get<uint32_t>()), d["outcome"],
                      d["next_try"].get<std::string>().substr(0, 19), d["last_error"]});
    app.json ? app.PrintJson(arr) : (void)std::fputs(Table(rows).c_str(), stdout);
  });
}

void RegisterRedeliver(CLI::App* hook, App& app) {
  auto id = std::make_shared<std::string>();
  auto* cmd =
      hook->add_subcommand("redeliver",
                           "Send a delivery again on the next pass (its attempts start over)\n"
                           "  e.g. hourbank webhook redeliver wh1-42");
  cmd->add_option("DELIVERY", *id, "delivery id (see `webhook deliveries`)")->required();
  cmd->callback([&app, id] {
    if (!app.server_url.empty())
      ServerCall(app, "POST", "/v1/webhook-deliveries/" + PathSegment(*id) + "/redeliver");
    else
      Must(service::RequestRedelivery(app.log(), app.caller(), *id, app.now_us()));
    app.json ? app.PrintJson({{"id", *id}, {"redeliver", true}})
             : app.Say(fmt::format("delivery {} will be sent again", *id));
  });
}

void RegisterDeliver(CLI::App* hook, App& app) {
  struct Args {
    bool once = false;
    DeliverOptions o;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = hook->add_subcommand(
      "deliver",
      "POST what is due: --once for one pass (cron), else until SIGINT/SIGTERM\n"
      "  e.g. hourbank webhook deliver --once");
  cmd->add_flag("--once", a->once, "one pass over what is due now, then exit");
  cmd->add_option("--backoff-ms", a->o.backoff_ms, "first retry's wait (default 1000; doubles)")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  cmd->add_option("--timeout-ms", a->o.timeout_ms, "per attempt (default 10000)")
      ->check(CLI::Range(int64_t{1}, int64_t{600000}));
  cmd->callback([&app, a] {
    LocalOnly(app);
    Must(service::Require(app.caller(), service::Operation::kWebhooks));
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
    const DeliverCounts total = DeliverLoop(app, a->o, a->once, g_stop);
    app.json
        ? app.PrintJson(
              {{"delivered", total.delivered}, {"retry", total.retry}, {"gave_up", total.gave_up}})
        : app.Say(fmt::format("{} delivered, {} to retry, {} gave up", total.delivered, total.retry,
                              total.gave_up));
  });
}

}  // namespace

void RegisterWebhookCommands(CLI::App& cli, App& app) {
  auto* hook = cli.add_subcommand(
      "webhook", "Signed webhooks for alerts and closed months (docs/webhooks.md)");
  hook->require_subcommand(1);
  RegisterAdd(hook, app);
  RegisterList(hook, app);
  RegisterRemove(hook, app);
  RegisterDeliver(hook, app);
  RegisterDeliveries(hook, app);
  RegisterRedeliver(hook, app);
}

}  // namespace hourbank::cli
