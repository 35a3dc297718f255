#include "tools/hourbank/app.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/flag_checks.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "projections/checkpoint.h"

namespace hourbank::cli {

using projections::Catalog;
using projections::ClientState;
using projections::Decision;

int64_t App::now_us() const {
  if (now_override_us) return *now_override_us;
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ledger::Log& App::log(bool create) {
  if (borrowed_) return *borrowed_;
  if (!log_) {
    ledger::Options options;
    options.create_if_missing = create;
    options.error_if_exists = create;
    options.durability = nosync ? ledger::Durability::kNoSync : ledger::Durability::kSync;
    options.read_only = read_only && !create;
    options.ledger_name = ledger_name;
    options.nats_partitions = nats_partitions;
    options.nats_follow_store = follow_store;
    log_ = Must(ledger::Log::Open(ledger_dir, options));
  }
  return *log_;
}

service::Session& App::session() {
  ledger::Log& l = log();
  // A new clock (the demo moves it) makes a new session: the service reads its "now".
  if (!session_ || &session_->log() != &l || session_->now_override_us() != now_override_us)
    session_ = std::make_unique<service::Session>(l, nullptr, now_override_us);
  return *session_;
}

service::Caller App::caller() const {
  // $USER may be empty or odd where --actor was not given (the flag itself is checked).
  if (const std::string problem = ActorProblem(actor); !problem.empty())
    Fail(Code::kInvalid, problem);
  return service::Caller{actor, schemas::Role::ADMIN};
}

ClientState App::LoadClient(const std::string& client_id, const LoadOptions& options) {
  return Must(session().LoadClient(client_id, options));
}

std::optional<ClientState> App::RestoreFromCheckpoint(const std::string& client_id) {
  return session().RestoreFromCheckpoint(client_id);
}

void App::SaveClientCheckpoint(const ClientState& state) {
  Must(session().SaveClientCheckpoint(state));
}

Catalog App::LoadCatalog(int64_t known_at_us) { return Must(session().LoadCatalog(known_at_us)); }

std::vector<std::string> App::ClientIds() { return Must(session().ClientIds()); }

AppendOutcome App::Append(const std::string& stream, Decision& decision, uint32_t expected_version,
                          const std::string& key, const std::string& request_text) {
  AppendOutcome out;
  out.result = Must(service::AppendDecision(session(), stream, decision, expected_version,
                                            caller().name, key, request_text));
  out.replayed = out.result.replayed;
  return out;
}

AppendOutcome App::DecideAndAppend(
    const std::string& client_id, const std::function<Result<Decision>(const ClientState&)>& decide,
    const std::string& user_key, const std::string& request_text, std::string* summary) {
  auto w =
      Must(service::Execute(session(), client_id, {caller().name, user_key, request_text}, decide));
  if (summary) *summary = w.summary;
  return AppendOutcome{w.result, w.replayed};
}

void App::PrintJson(const nlohmann::json& j) const { std::cout << j.dump() << '\n'; }

void App::Say(const std::string& line) const { std::cout << TerminalLines(line) << '\n'; }

ClientState LoadClientAt(App& app, const std::string& client, const std::string& as_of,
                         const std::string& known_at, int64_t* at_out, bool retain_entries) {
  auto r = Must(app.session().LoadClientAt(client, {as_of, known_at, "--as-of", "--known-at"},
                                           retain_entries));
  if (at_out) *at_out = r.at_us;
  return std::move(r.state);
}

int64_t ParseMoneyFor(const ClientState& s, const std::string& text, const char* what) {
  return Must(service::ParseMoneyField(s, text, what));
}

int64_t ParseTimeFlag(const std::string& text, const projections::Zone& zone, const char* flag) {
  return Must(service::ParseTimeField(text, zone, flag));
}

uint32_t ParseMonthFlag(const std::string& text, const char* flag) {
  return Must(service::ParseMonthField(text, flag));
}

}  // namespace hourbank::cli
