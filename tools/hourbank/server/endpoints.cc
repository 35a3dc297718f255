#include "tools/hourbank/server/endpoints.h"

#include <fmt/format.h>

#include "reports/statement.h"
#include "service/alerts.h"
#include "service/operations.h"
#include "tools/hourbank/server/forecasts.h"
#include "tools/hourbank/app.h"
#include "tools/hourbank/server/requests.h"
#include "tools/hourbank/views.h"

namespace hourbank::cli {

using nlohmann::json;
using service::Names;

namespace {

// Runs a request parser (requests.h fails by throwing CommandError) and returns its failure as
// a value: the endpoints never throw.
template <typename F>
auto Parsed(F&& f) -> Result<decltype(f())> {
  try {
    return f();
  } catch (const CommandError& e) {
    return e.error;
  } catch (const json::exception&) {
    return Error::Invalid(
        "malformed request: a field has the wrong type or the body is not valid JSON");
  }
}

std::string Q(const Endpoints::Query& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

Result<uint64_t> QInt(const Endpoints::Query& q, const char* name, uint64_t fallback) {
  const std::string v = Q(q, name);
  if (v.empty()) return fallback;
  uint64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || out > (UINT64_MAX - 9) / 10)
      return Error::Invalid(fmt::format("query parameter {} must be a non-negative integer", name));
    out = out * 10 + uint64_t(c - '0');
  }
  return out;
}

service::TimeQuery Time(const Endpoints::Query& q) { return {Q(q, "as_of"), Q(q, "known_at")}; }

// A month read of one client (report, review, SLA): the role, the month, the client at the time
// asked for, then `render(state, month)`.
template <class Render>
Result<json> ReadMonth(service::Session& session, const service::Caller& c, service::Operation op,
                       const std::string& client, const std::string& month,
                       const Endpoints::Query& q, bool retain_entries, Render render) {
  HB_TRY(service::Require(c, op));
  auto m = service::ParseMonthField(month, "month");
  if (!m.ok()) return m.error();
  auto r = service::ReadClientOp(session, c, op, client, Time(q), retain_entries);
  if (!r.ok()) return r.error();
  return render(r.value().state, m.value());
}

// The body as a JSON object with only `allowed` fields.
Result<json> Body(const std::string& text, std::initializer_list<const char*> allowed) {
  return Parsed([&] {
    json body = ParseJsonObject(text);
    RequireKnownFields(body, allowed);
    return body;
  });
}

}  // namespace

Result<std::string> StatementDocument(service::Session& s, const service::Caller& c,
                                      const std::string& client, uint32_t month, uint32_t months,
                                      bool text) {
  auto r = service::ReadClientOp(s, c, service::Operation::kReadReport, client, {},
                                 /*retain_entries=*/true);
  if (!r.ok()) return r.error();
  reports::StatementOptions o;
  o.month = month;
  o.months_back = months;
  o.now_us = s.now_us();
  o.forecast = reports::MakeForecast(r.value().state, {.now_us = o.now_us});
  HB_TRY(s.log().ReadStream(client, 1, 0, [&](const ledger::EventView& v) {
    if (auto p = reports::PaymentOf(v.seq, v.event)) o.payments.push_back(std::move(*p));
    return true;
  }));
  return text ? reports::RenderStatementText(r.value().state, o)
              : reports::RenderStatementHtml(r.value().state, o);
}

json PlanListJson(const projections::Catalog& catalog) {
  json arr = json::array();
  for (const auto& [id, versions] : catalog.plans()) {
    const auto& v = versions.back();
    arr.push_back({{"id", id},
                   {"version", v.version},
                   {"currency", v.spec ? v.spec->currency : ""},
                   {"name", v.spec ? v.spec->name : ""},
                   {"versions", versions.size()}});
  }
  return arr;
}

json PlanJson(const std::string& id, const projections::Catalog::Version& v) {
  json j = {
      {"id", id},
      {"version", v.version},
      {"seq", v.seq},
      {"toml", v.spec_toml},
      {"debt_blocking", v.spec ? projections::DebtBlockingName(v.spec->debt_blocking) : "none"},
      {"early_end", v.spec ? projections::EarlyEndName(v.spec->early_end) : "free"}};
  if (v.spec) {
    j["grace_days"] = v.spec->grace_days;
    j["minimum_term_months"] = v.spec->minimum_term_months;
  }
  return j;
}

// ---- reads

Result<json> Endpoints::Clients(const Caller& c) {
  auto states = service::ListClientsOp(session_, c);
  if (!states.ok()) return states.error();
  json arr = json::array();
  for (const projections::ClientState& s : states.value()) {
    const auto* t = s.TermsFor(s.FirstOpenMonth());
    arr.push_back({{"client", s.id()},
                   {"name", s.name()},
                   {"currency", s.currency()},
                   {"timezone", s.zone().name()},
                   {"plan", t ? t->plan_id : ""}});
  }
  return arr;
}

Result<json> Endpoints::Balance(const Caller& c, const std::string& client, const Query& q) {
  auto r = service::ReadSnapshotOp(session_, c, service::Operation::kReadBalance, client, Time(q));
  if (!r.ok()) return r.error();
  const service::Snapshot& state = r.value().state;
  const int64_t at = r.value().at_us;
  return BalanceJson(*state, at, *session_.Evaluation(state, state->zone().MonthOf(at)));
}

std::optional<json> Endpoints::BalanceIfCached(const Caller& c, const std::string& client,
                                               uint64_t head) {
  if (!service::RequireFor(c, service::Operation::kReadBalance, client).ok()) return std::nullopt;
  if (!service::CheckClientId(client).ok()) return std::nullopt;
  auto read = session_.CachedAt(client, head);
  if (!read) return std::nullopt;
  for (const projections::ContractTerms& t : read->state->terms())
    if (t.plan && t.plan->debt_blocking == projections::DebtBlocking::kPrepaid) return std::nullopt;
  return BalanceJson(*read->state, read->at_us, *read->eval);
}

Result<json> Endpoints::Invoice(const Caller& c, const std::string& client,
                                const std::string& month, const Query& q) {
  HB_TRY(service::Require(c, service::Operation::kReadInvoice));
  auto m = service::ParseMonthField(month, "month");
  if (!m.ok()) return m.error();
  auto r = service::ReadSnapshotOp(session_, c, service::Operation::kReadInvoice, client, Time(q));
  if (!r.ok()) return r.error();
  return InvoiceJson(*r.value().state, m.value());
}

Result<json> Endpoints::Burned(const Caller& c, const std::string& client, const Query& q) {
  HB_TRY(
      service::Require(c, service::Operation::kReadBurned));  // the role before the request is read
  auto r = service::ReadSnapshotOp(session_, c, service::Operation::kReadBurned, client, Time(q));
  if (!r.ok()) return r.error();
  const std::string f = Q(q, "from"), t = Q(q, "to");
  uint32_t from = 0, to = 0;
  if (!f.empty()) {
    auto m = service::ParseMonthField(f, "from");
    if (!m.ok()) return m.error();
    from = m.value();
  }
  if (!t.empty()) {
    auto m = service::ParseMonthField(t, "to");
    if (!m.ok()) return m.error();
    to = m.value();
  }
  HB_TRY(service::CheckMonthRange(from, to, Names::kFields));
  return BurnedJson(*r.value().state, from, to);
}

Result<json> Endpoints::Report(const Caller& c, const std::string& client, const std::string& month,
                               const Query& q) {
  return ReadMonth(
      session_, c, service::Operation::kReadReport, client, month, q, /*retain_entries=*/true,
      [&](const projections::ClientState& st, uint32_t m) { return ReportJson(st, m); });
}

Result<json> Endpoints::ReviewList(const Caller& c, const std::string& client,
                                   const std::string& month, const Query& q) {
  return ReadMonth(session_, c, service::Operation::kReadReport, client, month, q,
                   /*retain_entries=*/true, [&](const projections::ClientState& st, uint32_t m) {
                     return reports::ReviewJson(st, client, m);
                   });
}

Result<json> Endpoints::Sla(const Caller& c, const std::string& client, const std::string& month,
                            const Query& q) {
  return ReadMonth(session_, c, service::Operation::kReadSla, client, month, q,
                   /*retain_entries=*/false, [&](const projections::ClientState& st, uint32_t m) {
                     return SlaJson(st, m, session_.now_us());
                   });
}

Result<json> Endpoints::Events(const Caller& c, const std::string& client, const Query& q) {
  HB_TRY(
      service::Require(c, service::Operation::kReadEvents));  // the role before the request is read
  service::EventsRequest req;
  req.client = client;
  req.known_at = Q(q, "known_at");
  auto after = QInt(q, "after_seq", 0);
  if (!after.ok()) return after.error();
  auto limit = QInt(q, "limit", service::kEventsPageMax);
  if (!limit.ok()) return limit.error();
  req.after_seq = after.value();
  req.limit = limit.value();
  json events = json::array();
  auto page = service::ReadEventsOp(session_, c, req,
                                    [&](const ledger::EventView& v, const projections::Zone& zone) {
                                      events.push_back(EventJson(v.seq, v.event, zone));
                                    });
  if (!page.ok()) return page.error();
  return json{{"events", std::move(events)},
              {"next_after_seq", page.value().next_after_seq},
              {"more", page.value().more}};
}

Result<json> Endpoints::Plans(const Caller& c) {
  auto catalog = service::ListPlansOp(session_, c);
  if (!catalog.ok()) return catalog.error();
  return PlanListJson(catalog.value());
}

Result<json> Endpoints::Plan(const Caller& c, const std::string& id, const Query& q) {
  auto catalog = service::ListPlansOp(session_, c);
  if (!catalog.ok()) return catalog.error();
  auto version = QInt(q, "version", 0);
  if (!version.ok()) return version.error();
  if (version.value() > UINT32_MAX) return Error::Invalid("query parameter version is too large");
  const projections::Catalog::Version* v = catalog.value().Find(id, uint32_t(version.value()));
  if (!v) return Error::NotFound(fmt::format("unknown plan '{}'; see GET /v1/plans", id));
  return PlanJson(id, *v);
}

Result<json> Endpoints::Statement(const Caller& c, const std::string& client,
                                  const std::string& month, const Query& q) {
  HB_TRY(
      service::Require(c, service::Operation::kReadReport));  // the role before the request is read
  auto m = service::ParseMonthField(month, "month");
  if (!m.ok()) return m.error();
  auto months = QInt(q, "months", 6);
  if (!months.ok()) return months.error();
  if (months.value() < 1 || months.value() > 24)
    return Error::Invalid("query parameter months must be 1 to 24");
  const std::string format = Q(q, "format");
  if (!format.empty() && format != "html" && format != "text")
    return Error::Invalid("query parameter format must be html or text");
  const bool text = format == "text";
  auto doc = StatementDocument(session_, c, client, m.value(), uint32_t(months.value()), text);
  if (!doc.ok()) return doc.error();
  return json{{"content_type", text ? "text/plain; charset=utf-8" : "text/html; charset=utf-8"},
              {"document", std::move(doc).value()}};
}

// ---- writes

Result<json> Endpoints::Work(const Caller& c, const std::string& client, const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kLogWork));  // the role before the request is read
  auto parsed = Parsed([&] { return ParseWorkBody(ParseJsonObject(text), c.name); });
  if (!parsed.ok()) return parsed.error();
  service::LogRequest req{client, parsed.value().work, parsed.value().at, parsed.value().key,
                          Names::kFields};
  std::lock_guard lock(StripeFor(client));
  auto a = service::LogWorkOp(session_, c, req);
  if (!a.ok()) return a.error();
  return LogAnswerJson(a.value().state, a.value().write.result.first_seq, a.value().write.replayed,
                       session_.now_us());
}

Result<json> Endpoints::Accept(const Caller& c, const std::string& client,
                               const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kAccept));  // the role before the request is read
  auto body = Body(text, {"task", "at", "late"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    return service::AcceptRequest{client, Str(*body, "task", true), Str(*body, "at"),
                                  Bool(*body, "late").value_or(false)};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::AcceptOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::Void(const Caller& c, const std::string& client, const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kVoid));  // the role before the request is read
  auto body = Body(text, {"entry", "reason", "key"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const int64_t entry = Int(*body, "entry");
    if (entry <= 0)
      Fail(Code::kInvalid, "the body needs \"entry\": the entry id (a positive integer)");
    return service::VoidRequest{client, uint64_t(entry), Str(*body, "reason", true),
                                Str(*body, "key")};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::VoidOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::Pay(const Caller& c, const std::string& client, const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kPay));  // the role before the request is read
  auto body = Body(text, {"amount", "ref", "at", "key"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    return service::PayRequest{client, Str(*body, "amount", true), Str(*body, "ref"),
                               Str(*body, "at"), Str(*body, "key")};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::PayOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::AlertSettings(const Caller& c, const std::string& client,
                                      const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kContract));  // the role before the body
  auto body = Body(text, {"allowance_percent", "block_expiry_days", "reserve_expiry_days",
                          "invoice_overdue_days", "off", "reset", "key"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const json& b = *body;
    const auto given = [&b](const char* f) {
      return b.contains(f) && !b[f].is_null() ? std::optional(Str(b, f)) : std::nullopt;
    };
    service::AlertSettingsRequest r{client, Str(b, "key")};
    r.allowance_percent = given("allowance_percent");
    r.block_expiry_days = given("block_expiry_days");
    r.reserve_expiry_days = given("reserve_expiry_days");
    r.invoice_overdue_days = given("invoice_overdue_days");
    r.off = given("off");
    r.reset = Bool(b, "reset").value_or(false);
    return r;
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::SetAlertSettingsOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::Buy(const Caller& c, const std::string& client, const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kBuy));  // the role before the request is read
  auto body = Body(text, {"hours", "price", "expires", "addon", "month", "at", "key"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const json& b = *body;
    return service::BuyRequest{client,          Str(b, "hours"), Str(b, "price"), Str(b, "expires"),
                               Str(b, "addon"), Str(b, "month"), Str(b, "at"),    Str(b, "key")};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::BuyOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::Adjust(const Caller& c, const std::string& client,
                               const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kAdjust));  // the role before the request is read
  auto body = Body(text, {"penalty", "credit", "charge", "reason", "month", "key"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const json& b = *body;
    return service::AdjustRequest{client,           Str(b, "penalty"),      Str(b, "credit"),
                                  Str(b, "charge"), Str(b, "reason", true), Str(b, "month"),
                                  Str(b, "key")};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::AdjustOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::Close(const Caller& c, const std::string& client, const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kClose));  // the role before the request is read
  auto body = Body(text, {"month", "carry_pending"});
  if (!body.ok()) return body.error();
  auto month = Parsed([&] { return Str(*body, "month", true); });
  if (!month.ok()) return month.error();
  auto carry = Parsed([&] { return Bool(*body, "carry_pending").value_or(false); });
  if (!carry.ok()) return carry.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::CloseOp(session_, c, {client, month.value(), Names::kFields, carry.value()});
  if (!w.ok()) return w.error();
  auto m = service::ParseMonthField(month.value(), "month");
  return json{{"client", client},
              {"month", MonthText(m.ok() ? m.value() : 0)},
              {"summary", w.value().summary}};
}

Result<json> Endpoints::CloseAll(const Caller& c, const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kClose));  // the role before the request is read
  auto body = Body(text, {"through"});
  if (!body.ok()) return body.error();
  auto through = Parsed([&] { return Str(*body, "through", true); });
  if (!through.ok()) return through.error();
  auto closed = service::CloseAllOp(session_, c, {through.value()});
  if (!closed.ok()) return closed.error();
  json arr = json::array();
  for (const service::Closed& x : closed.value())
    arr.push_back(reports::ClosedJson(x.client, x.month, x.summary));
  return arr;
}

Result<json> Endpoints::WriteDown(const Caller& c, const std::string& client,
                                  const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kWriteDown));  // the role before the body
  auto body = Body(text, {"entry", "minutes", "reason", "key"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const int64_t entry = Int(*body, "entry");
    if (entry <= 0)
      Fail(Code::kInvalid, "the body needs \"entry\": the entry id (a positive integer)");
    return service::WriteDownRequest{client, uint64_t(entry), Int(*body, "minutes"),
                                     Str(*body, "reason", true), Str(*body, "key")};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::WriteDownOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

namespace {
// "entries": a list of entry ids (positive integers), at most kReviewEntriesMax.
constexpr size_t kReviewEntriesMax = 10'000;
std::vector<uint64_t> EntryIds(const json& body) {
  std::vector<uint64_t> out;
  auto it = body.find("entries");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array() || it->size() > kReviewEntriesMax)
    Fail(Code::kInvalid,
         fmt::format("\"entries\" must be a list of at most {} entry ids", kReviewEntriesMax));
  for (const json& v : *it) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0)
      Fail(Code::kInvalid, "\"entries\" must hold entry ids (positive integers)");
    out.push_back(v.get<uint64_t>());
  }
  return out;
}
}  // namespace

Result<json> Endpoints::Review(const Caller& c, const std::string& client,
                               const std::string& text) {
  HB_TRY(service::Require(c, service::Operation::kReview));  // the role before the body
  auto body = Body(text, {"decision", "month", "entries", "task", "all", "reason"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const std::string decision = Str(*body, "decision", true);
    if (decision != "approve" && decision != "reject")
      Fail(Code::kInvalid, "\"decision\" must be approve or reject");
    return service::ReviewRequest{client,
                                  Str(*body, "month", true),
                                  decision == "approve",
                                  EntryIds(*body),
                                  Str(*body, "task"),
                                  Bool(*body, "all").value_or(false),
                                  Str(*body, "reason")};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::ReviewOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::Incident(const Caller& c, const std::string& client,
                                 const std::string& text) {
  HB_TRY(
      service::Require(c, service::Operation::kIncident));  // the role before the request is read
  auto body = Body(text, {"action", "id", "priority", "title", "at", "reason"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const json& b = *body;
    const std::string action = Str(b, "action", true);
    auto act = service::ParseIncidentAction(action);
    if (!act)
      Fail(Code::kInvalid,
           "\"action\" must be open, respond, resolve, reprioritize, reopen, wait or resume");
    service::IncidentRequest r{client,          *act,         Str(b, "id", true),
                               Str(b, "title"), Str(b, "at"), Int(b, "priority")};
    r.reason = Str(b, "reason");
    return r;
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(client));
  auto w = service::IncidentOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::AddClient(const Caller& c, const std::string& text) {
  HB_TRY(
      service::Require(c, service::Operation::kAddClient));  // the role before the request is read
  auto body = Body(text, {"id", "name", "currency", "timezone"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    const json& b = *body;
    return projections::RegisterClient{Str(b, "id", true), Str(b, "name", true),
                                       Str(b, "currency", true), Str(b, "timezone", true)};
  });
  if (!req.ok()) return req.error();
  std::lock_guard lock(StripeFor(req.value().client_id));
  auto w = service::AddClientOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return reports::SummaryJson(req.value().client_id, w.value().summary);
}

Result<json> Endpoints::Contract(const Caller& c, const std::string& client,
                                 const std::string& action, const std::string& text) {
  HB_TRY(
      service::Require(c, service::Operation::kContract));  // the role before the request is read
  auto body = Body(text, {"plan", "plan_version", "from", "months", "prepaid", "timely", "units",
                          "extras", "after", "early", "review"});
  if (!body.ok()) return body.error();
  auto count = [](const json& b, const char* field) {
    const int64_t v = Int(b, field);
    if (v < 0 || v > 100000) Fail(Code::kInvalid, fmt::format("\"{}\" must be 0 to 100000", field));
    return uint32_t(v);
  };
  std::lock_guard lock(StripeFor(client));
  Result<service::WriteOutcome> w =
      Error::NotFound("no such contract action; use start, units or end");
  if (action == "start") {
    auto req = Parsed([&] {
      const json& b = *body;
      service::ContractStartRequest r;
      r.client = client, r.plan = Str(b, "plan", true), r.from = Str(b, "from", true);
      r.plan_version = count(b, "plan_version"), r.months = count(b, "months"),
      r.prepaid = count(b, "prepaid");
      r.units = count(b, "units"), r.timely = Bool(b, "timely").value_or(false);
      r.review = Str(b, "review");
      if (b.contains("extras") && !b["extras"].is_null()) {
        if (!b["extras"].is_object())
          Fail(Code::kInvalid, "\"extras\" must be an object {\"NAME\": quantity}");
        for (const auto& [name, qty] : b["extras"].items()) {
          if (!qty.is_number_integer() || qty.get<int64_t>() < 1 || qty.get<int64_t>() > 1000)
            Fail(Code::kInvalid,
                 fmt::format("\"extras\".\"{}\" must be a whole number 1 to 1000", Escaped(name)));
          r.extras[name] = uint32_t(qty.get<int64_t>());
        }
      }
      return r;
    });
    if (!req.ok()) return req.error();
    w = service::ContractStartOp(session_, c, req.value());
  } else if (action == "units") {
    auto req = Parsed([&] {
      return service::ContractUnitsRequest{client, Str(*body, "from", true), count(*body, "units")};
    });
    if (!req.ok()) return req.error();
    w = service::ContractUnitsOp(session_, c, req.value());
  } else if (action == "end") {
    auto req = Parsed([&] {
      return service::ContractEndRequest{client, Str(*body, "after", true),
                                         Bool(*body, "early").value_or(false)};
    });
    if (!req.ok()) return req.error();
    w = service::ContractEndOp(session_, c, req.value());
  }
  if (!w.ok()) return w.error();
  return reports::SummaryJson(client, w.value().summary);
}

Result<json> Endpoints::DefinePlans(const Caller& c, const std::string& text) {
  HB_TRY(service::Require(
      c, service::Operation::kDefinePlans));  // the role before the request is read
  auto body = Body(text, {"toml", "name"});
  if (!body.ok()) return body.error();
  auto req = Parsed([&] {
    service::DefinePlansRequest r;
    const std::string name = Str(*body, "name");
    r.files.emplace_back(name.empty() ? "request body" : name, Str(*body, "toml", true));
    return r;
  });
  if (!req.ok()) return req.error();
  auto w = service::DefinePlansOp(session_, c, req.value());
  if (!w.ok()) return w.error();
  return json{{"summary", w.value().summary}};
}

// ---- forecast and what-if

namespace {

// format=json (the default) or text: the document of a report route.
Result<json> ReportDocument(const Endpoints::Query& q, const json& j, const std::string& text) {
  const std::string format = Q(q, "format");
  if (format == "text")
    return json{{"content_type", "text/plain; charset=utf-8"}, {"document", text}};
  if (!format.empty() && format != "json")
    return Error::Invalid("query parameter format must be json or text");
  return json{{"content_type", "application/json"},
              {"document", j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"}};
}

Result<uint32_t> QMonth(const Endpoints::Query& q, const char* name) {
  const std::string v = Q(q, name);
  if (v.empty()) return uint32_t(0);
  return service::ParseMonthField(v, name);
}

}  // namespace

Result<json> Endpoints::Forecast(const Caller& c, const std::string& client, const Query& q) {
  HB_TRY(service::Require(c, service::Operation::kReadForecast));  // the role first
  auto window = QInt(q, "window", 28);
  if (!window.ok()) return window.error();
  if (window.value() < 1 || window.value() > 366)
    return Error::Invalid("query parameter window must be 1 to 366 days");
  auto months = QInt(q, "months", 12);
  if (!months.ok()) return months.error();
  if (months.value() > 24) return Error::Invalid("query parameter months must be 0 to 24");
  auto f = ForecastOf(session_, c, client,
                      {Q(q, "as_of"), int32_t(window.value()), int32_t(months.value())});
  if (!f.ok()) return f.error();
  return ReportDocument(q, reports::ForecastJson(f.value()),
                        reports::ForecastText(f.value(), reports::LangFor(f.value().currency)));
}

Result<json> Endpoints::WhatIf(const Caller& c, const std::string& client, const Query& q) {
  HB_TRY(service::Require(c, service::Operation::kWhatIf));  // the role first
  auto from = QMonth(q, "from");
  if (!from.ok()) return from.error();
  auto to = QMonth(q, "to");
  if (!to.ok()) return to.error();
  if (Q(q, "plan").empty())
    return Error::Invalid("query parameter plan is required: PLAN or PLAN@VERSION");
  auto w = WhatIfOf(session_, c, client, {Q(q, "plan"), from.value(), to.value()});
  if (!w.ok()) return w.error();
  return ReportDocument(q, reports::WhatIfJson(w.value()),
                        reports::WhatIfText(w.value(), reports::LangFor(w.value().currency)));
}

}  // namespace hourbank::cli
