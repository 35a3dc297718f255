// The CLI as a client of `hourbank serve` (--server URL): one mapping from a parsed command's
// service request (service/operations.h) to the server's route and JSON body. A command's
// callback builds its request once and hands it to Run(): locally it calls the service, with
// --server it sends the request to the route of docs/api.md and reads the same answer back.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/alerts.h"
#include "service/operations.h"
#include "tools/hourbank/app.h"

namespace hourbank::cli {

// GET/POST `target` on app.server_url with app.token; the answer's JSON, or Fail() with the
// server's error sentence and the code of its HTTP status (tools/hourbank/cli/client.cc).
nlohmann::json ServerCall(App& app, const std::string& method, const std::string& target,
                          const nlohmann::json& body = nullptr);
// GET `target`: the answer's body as sent (a document that is not JSON, e.g. the statement).
std::string ServerDocument(App& app, const std::string& target);

// One webhook POST to `url` (http[s]://HOST[:PORT][/PATH]) with `headers` and a JSON body; the
// connection and the answer each within `timeout_ms`; the answer's body is read up to 64 KiB and
// dropped. status 0 and an error sentence when there was no HTTP answer.
struct WebhookPostResult {
  unsigned status = 0;
  std::string error;
};
WebhookPostResult PostWebhook(const std::string& url,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, int64_t timeout_ms);

// A path segment, percent-encoded.
std::string PathSegment(const std::string& s);

// The route and body of each write request (docs/api.md "Routes" and "Bodies").
struct HttpRequest {
  std::string path;
  nlohmann::json body;
};
HttpRequest ToHttp(const service::LogRequest& r);
HttpRequest ToHttp(const service::AcceptRequest& r);
HttpRequest ToHttp(const service::VoidRequest& r);
HttpRequest ToHttp(const service::BuyRequest& r);
HttpRequest ToHttp(const service::PayRequest& r);
HttpRequest ToHttp(const service::AdjustRequest& r);
HttpRequest ToHttp(const service::CloseRequest& r);
HttpRequest ToHttp(const service::CloseAllRequest& r);
HttpRequest ToHttp(const service::IncidentRequest& r);
HttpRequest ToHttp(const service::WriteDownRequest& r);
HttpRequest ToHttp(const service::ReviewRequest& r);
HttpRequest ToHttp(const projections::RegisterClient& r);
HttpRequest ToHttp(const service::ContractStartRequest& r);
HttpRequest ToHttp(const service::ContractUnitsRequest& r);
HttpRequest ToHttp(const service::ContractEndRequest& r);
HttpRequest ToHttp(const service::DefinePlansRequest& r);
HttpRequest ToHttp(const service::AlertSettingsRequest& r);

// A write that answers {"client", "summary"}: the service locally, the route with --server.
template <typename Request>
service::WriteOutcome Run(App& app, const Request& request,
                          Result<service::WriteOutcome> (*local)(service::Session&,
                                                                 const service::Caller&,
                                                                 const Request&)) {
  if (app.server_url.empty()) return Must(local(app.session(), app.caller(), request));
  const HttpRequest http = ToHttp(request);
  const nlohmann::json answer = ServerCall(app, "POST", http.path, http.body);
  service::WriteOutcome out;
  if (answer.is_object() && answer.contains("summary") && answer["summary"].is_string())
    out.summary = answer["summary"].get<std::string>();
  return out;
}

}  // namespace hourbank::cli
