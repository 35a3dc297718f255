#include "tools/hourbank/cli/remote.h"

#include <fmt/format.h>

namespace hourbank::cli {

using nlohmann::json;

std::string PathSegment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~')
      out += char(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

namespace {

std::string ClientPath(const std::string& client, const char* what) {
  return "/v1/clients/" + PathSegment(client) + "/" + what;
}

// Only the fields that were given: an empty text or a false flag is the route's default.
void Put(json& body, const char* field, const std::string& value) {
  if (!value.empty()) body[field] = value;
}
void Put(json& body, const char* field, bool value) {
  if (value) body[field] = true;
}
void Put(json& body, const char* field, int64_t value) {
  if (value != 0) body[field] = value;
}

}  // namespace

HttpRequest ToHttp(const service::LogRequest& r) {
  const projections::LogWork& w = r.work;
  json b = {{"kind", w.kind}};
  Put(b, "minutes", w.minutes);
  Put(b, "count", w.count);
  Put(b, "task", w.task);
  Put(b, "staff", w.staff);
  Put(b, "note", w.note);
  Put(b, "at", r.at);
  Put(b, "key", r.key);
  Put(b, "urgent", w.urgent);
  Put(b, "late", w.late);
  Put(b, "emergency", w.emergency);
  Put(b, "non_billable", w.non_billable);
  if (w.off_hours) b["off_hours"] = *w.off_hours;
  return {ClientPath(r.client, "work"), b};
}

HttpRequest ToHttp(const service::AcceptRequest& r) {
  json b = {{"task", r.task}};
  Put(b, "at", r.at);
  Put(b, "late", r.late);
  return {ClientPath(r.client, "accept"), b};
}

HttpRequest ToHttp(const service::VoidRequest& r) {
  json b = {{"entry", r.entry}, {"reason", r.reason}};
  Put(b, "key", r.key);
  return {ClientPath(r.client, "void"), b};
}

HttpRequest ToHttp(const service::WriteDownRequest& r) {
  json b = {{"entry", r.entry}, {"minutes", r.minutes}, {"reason", r.reason}};
  Put(b, "key", r.key);
  return {ClientPath(r.client, "write-down"), b};
}

HttpRequest ToHttp(const service::ReviewRequest& r) {
  json b = {{"decision", r.approve ? "approve" : "reject"}, {"month", r.month}};
  if (!r.entries.empty()) b["entries"] = r.entries;
  Put(b, "task", r.task);
  if (r.all) b["all"] = true;
  Put(b, "reason", r.reason);
  return {ClientPath(r.client, "review"), b};
}

HttpRequest ToHttp(const service::BuyRequest& r) {
  json b = json::object();
  for (const auto& [f, v] : {std::pair{"hours", &r.hours},
                             {"price", &r.price},
                             {"expires", &r.expires},
                             {"addon", &r.addon},
                             {"month", &r.month},
                             {"at", &r.at},
                             {"key", &r.key}})
    Put(b, f, *v);
  return {ClientPath(r.client, "buy"), b};
}

HttpRequest ToHttp(const service::PayRequest& r) {
  json b = {{"amount", r.amount}};
  Put(b, "ref", r.ref);
  Put(b, "at", r.at);
  Put(b, "key", r.key);
  return {ClientPath(r.client, "pay"), b};
}

HttpRequest ToHttp(const service::AdjustRequest& r) {
  json b = {{"reason", r.reason}};
  for (const auto& [f, v] : {std::pair{"penalty", &r.penalty},
                             {"credit", &r.credit},
                             {"charge", &r.charge},
                             {"month", &r.month},
                             {"key", &r.key}})
    Put(b, f, *v);
  return {ClientPath(r.client, "adjust"), b};
}

HttpRequest ToHttp(const service::CloseRequest& r) {
  nlohmann::json b{{"month", r.month}};
  if (r.carry_pending) b["carry_pending"] = true;
  return {ClientPath(r.client, "close"), b};
}

HttpRequest ToHttp(const service::CloseAllRequest& r) {
  return {"/v1/close", {{"through", r.through}}};
}

HttpRequest ToHttp(const service::IncidentRequest& r) {
  static const char* kActions[] = {"open",   "respond", "resolve", "reprioritize",
                                   "reopen", "wait",    "resume"};
  json b = {{"action", kActions[int(r.action)]}, {"id", r.id}};
  Put(b, "priority", r.priority);
  Put(b, "title", r.title);
  Put(b, "at", r.at);
  Put(b, "reason", r.reason);
  return {ClientPath(r.client, "incidents"), b};
}

HttpRequest ToHttp(const projections::RegisterClient& r) {
  return {
      "/v1/clients",
      {{"id", r.client_id}, {"name", r.name}, {"currency", r.currency}, {"timezone", r.timezone}}};
}

HttpRequest ToHttp(const service::ContractStartRequest& r) {
  json b = {{"plan", r.plan}, {"from", r.from}};
  Put(b, "plan_version", int64_t(r.plan_version));
  Put(b, "months", int64_t(r.months));
  Put(b, "prepaid", int64_t(r.prepaid));
  Put(b, "units", int64_t(r.units));
  Put(b, "timely", r.timely);
  Put(b, "review", r.review);
  if (!r.extras.empty()) b["extras"] = r.extras;
  return {ClientPath(r.client, "contract/start"), b};
}

HttpRequest ToHttp(const service::ContractUnitsRequest& r) {
  return {ClientPath(r.client, "contract/units"), {{"units", r.units}, {"from", r.from}}};
}

HttpRequest ToHttp(const service::ContractEndRequest& r) {
  json b = {{"after", r.after}};
  Put(b, "early", r.early);
  return {ClientPath(r.client, "contract/end"), b};
}

HttpRequest ToHttp(const service::AlertSettingsRequest& r) {
  json b = json::object();
  for (const auto& [f, v] : {std::pair{"allowance_percent", &r.allowance_percent},
                             {"block_expiry_days", &r.block_expiry_days},
                             {"reserve_expiry_days", &r.reserve_expiry_days},
                             {"invoice_overdue_days", &r.invoice_overdue_days},
                             {"off", &r.off}})
    if (*v) b[f] = **v;  // given, even empty: the server refuses it as the CLI would
  Put(b, "reset", r.reset);
  Put(b, "key", r.key);
  return {ClientPath(r.client, "alerts/settings"), b};
}

HttpRequest ToHttp(const service::DefinePlansRequest& r) {
  // One request per call: several files are joined (each file's plans are [[plan]] tables).
  std::string toml, names;
  for (const auto& [name, text] : r.files) {
    toml += text;
    if (!toml.empty() && toml.back() != '\n') toml += '\n';
    names += (names.empty() ? "" : ", ") + name;
  }
  return {"/v1/plans", {{"toml", toml}, {"name", names}}};
}

}  // namespace hourbank::cli
