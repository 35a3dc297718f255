#include "reports/json.h"

#include <algorithm>

#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <fmt/format.h>

#include "ledger/log.h"
#include "projections/sla.h"
#include "projections/units.h"
#include "reports/figures.h"
#include "reports/text.h"

namespace hourbank::reports {

using nlohmann::json;
using projections::ClientState;
using projections::MonthEval;

namespace {

std::string SnakeCase(kj::StringPtr camel) {
  std::string out;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      out += '_';
      out += char(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

std::string Hex(capnp::Data::Reader d) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

json DynamicToJson(const capnp::DynamicValue::Reader& v);

json StructToJson(capnp::DynamicStruct::Reader s) {
  json out = json::object();
  for (auto field : s.getSchema().getNonUnionFields())
    out[SnakeCase(field.getProto().getName())] = DynamicToJson(s.get(field));
  KJ_IF_MAYBE (f, s.which()) {
    out[SnakeCase(f->getProto().getName())] = DynamicToJson(s.get(*f));
  }
  return out;
}

json DynamicToJson(const capnp::DynamicValue::Reader& v) {
  switch (v.getType()) {
    case capnp::DynamicValue::VOID:
      return nullptr;
    case capnp::DynamicValue::BOOL:
      return v.as<bool>();
    case capnp::DynamicValue::INT:
      return v.as<int64_t>();
    case capnp::DynamicValue::UINT:
      return v.as<uint64_t>();
    case capnp::DynamicValue::FLOAT:
      return nullptr;  // the schema has no floats
    case capnp::DynamicValue::TEXT:
      return std::string(v.as<capnp::Text>().cStr());
    case capnp::DynamicValue::DATA:
      return Hex(v.as<capnp::Data>());
    case capnp::DynamicValue::LIST: {
      json arr = json::array();
      for (auto item : v.as<capnp::DynamicList>()) arr.push_back(DynamicToJson(item));
      return arr;
    }
    case capnp::DynamicValue::ENUM: {
      KJ_IF_MAYBE (e, v.as<capnp::DynamicEnum>().getEnumerant()) {
        return std::string(e->getProto().getName().cStr());
      }
      return v.as<capnp::DynamicEnum>().getRaw();
    }
    case capnp::DynamicValue::STRUCT:
      return StructToJson(v.as<capnp::DynamicStruct>());
    default:
      return nullptr;
  }
}

}  // namespace

std::string MonthText(uint32_t month) {
  return month ? projections::FormatMonth(month) : std::string("-");
}

json BalanceJson(const ClientState& s, int64_t at_us) {
  return BalanceJson(s, at_us, s.Evaluate(s.zone().MonthOf(at_us)));
}

json BalanceJson(const ClientState& s, int64_t at_us, const MonthEval& ev) {
  const uint32_t month = s.zone().MonthOf(at_us);
  const auto* terms = s.TermsFor(month);
  json slots = json::object();
  for (const auto& [pool, u] : ev.pools)
    slots[pool] = {{"quota", u.quota}, {"used", u.used}, {"left", u.left()}};
  return {
      {"client", s.id()},
      {"month", MonthText(month)},
      {"currency", s.currency()},
      {"plan", terms ? terms->plan_id : ""},
      {"plan_version", terms ? terms->plan_version : 0},
      {"unlimited", terms ? terms->plan->unlimited : false},
      {"trial", ev.trial},
      {"allowance",
       {{"included_minutes", ev.included_minutes},
        {"used_minutes", ev.allowance_used_minutes},
        {"left_minutes", AllowanceLeftMinutes(ev)}}},
      {"reserve_minutes", ReserveLeftMinutes(ev)},
      {"prepaid_minutes", PrepaidLeftMinutes(ev)},
      {"overage_minutes", ev.overage_minutes},
      {"used_minutes", ev.used_minutes},
      {"pending_review_minutes",
       ev.pending_minutes},  // of used_minutes: drawn provisionally (issue 18)
      {"pending_review_entries", ev.pending_entries},
      {"slots", slots},
      {"invoice_so_far_minor", ev.invoice.total_minor},
      {"outstanding_minor", Money(s).outstanding_minor},
      {"blocked", s.BlockedAt(at_us)},
  };
}

json InvoiceJson(const ClientState& s, uint32_t month) {
  const MonthEval ev = s.Evaluate(month);
  json lines = json::array();
  for (const auto& l : ev.invoice.lines)
    lines.push_back({{"code", l.code},
                     {"description", l.description},
                     {"quantity", l.quantity},
                     {"unit_price_minor", l.unit_price_minor},
                     {"amount_minor", l.amount_minor}});
  return {{"client", s.id()},
          {"month", MonthText(month)},
          {"currency", s.currency()},
          {"lines", lines},
          {"total_minor", ev.invoice.total_minor},
          {"closed", ev.invoice.closed}};
}

json BurnedJson(const ClientState& s, uint32_t from, uint32_t to) {
  json months = json::array();
  int64_t total_expired = 0;
  if (from == 0) from = s.first_month();
  if (to == 0) to = std::max(s.FirstOpenMonth(), from);
  if (s.last_month() != 0 && to > s.last_month() && from <= s.last_month()) to = s.last_month();
  for (uint32_t m = from; from != 0 && m <= to; m = projections::NextMonth(m)) {
    const MonthEval ev = s.Evaluate(m);
    total_expired += ev.expired_minutes();
    months.push_back({{"month", MonthText(m)},
                      {"included_minutes", ev.included_minutes},
                      {"used_minutes", ev.used_minutes},
                      {"from_allowance_minutes", ev.allowance_used_minutes},
                      {"from_reserve_minutes", ev.reserve_used_minutes},
                      {"from_blocks_minutes", ev.block_used_minutes},
                      {"overage_minutes", ev.overage_minutes},
                      {"carried_minutes", ev.carried_minutes},
                      {"expired_minutes", ev.expired_minutes()},
                      {"expired_allowance_minutes", ev.expired_allowance_minutes},
                      {"expired_reserve_minutes", ev.expired_reserve_minutes},
                      {"expired_block_minutes", ev.expired_block_minutes},
                      {"reserve_end_minutes", ev.reserve_end_minutes},
                      {"closed", ev.closed}});
  }
  return {{"client", s.id()}, {"months", months}, {"total_expired_minutes", total_expired}};
}

json ReportJson(const ClientState& s, uint32_t month) {
  json entries = json::array();
  for (const auto& e : s.EntriesFor(month))
    entries.push_back(
        {{"id", e.seq},
         {"at", s.zone().FormatIso(e.at_us)},
         {"staff", e.staff},
         {"task", e.task},
         {"kind", e.kind},
         {"minutes", e.minutes},
         {"billed_minutes", e.unit == projections::Unit::kHour ? e.billed_minutes : 0},
         {"non_billable", e.non_billable},
         {"count", e.count},
         {"urgent", e.urgent},
         {"off_hours", e.off_hours},
         {"late", e.late},
         {"billed_minor", BilledMinor(e)},
         {"paid_by", PaidBy(e, Lang::kEn)}});
  return {{"client", s.id()},
          {"month", MonthText(month)},
          {"currency", s.currency()},
          {"entries", entries}};
}

namespace {
json AtOrNull(const ClientState& s, int64_t us) {
  return us != 0 ? json(s.zone().FormatIso(us)) : json(nullptr);
}
// The incident's waits on the customer (docs/sla.md, "Waiting").
json WaitsJson(const ClientState& s, const projections::SlaIncident& i) {
  json waits = json::array();
  for (const projections::SlaWait& w : i.waits)
    waits.push_back({{"from", s.zone().FormatIso(w.from_us)},
                     {"to", AtOrNull(s, w.to_us)},
                     {"reason", w.reason},
                     {"paused_minutes", w.paused_minutes}});
  return waits;
}
}  // namespace

json SlaJson(const ClientState& s, uint32_t month, int64_t now_us) {
  const projections::SlaReport r = projections::ComputeSla(s, month, now_us);
  json incidents = json::array();
  auto minutes_or_null = [](int64_t m) { return m < 0 ? json(nullptr) : json(m); };
  for (const auto& i : r.incidents)
    incidents.push_back(
        {{"id", i.id},
         {"priority", i.priority},
         {"opened_priority", i.opened_priority},
         {"opened_at", s.zone().FormatIso(i.opened_us)},
         {"responded_at",
          i.responded_us ? json(s.zone().FormatIso(i.responded_us)) : json(nullptr)},
         {"resolved_at", i.resolved_us ? json(s.zone().FormatIso(i.resolved_us)) : json(nullptr)},
         {"reaction_minutes", minutes_or_null(i.reaction_minutes)},
         {"resolution_minutes", minutes_or_null(i.resolution_minutes)},
         {"reaction_target_minutes", i.reaction_target_minutes},
         {"resolution_target_minutes", i.resolution_target_minutes},
         {"reaction_breached", i.reaction_breached},
         {"resolution_breached", i.resolution_breached},
         {"breached", i.breached},
         {"reopened_count", i.reopened_count},
         {"waits", WaitsJson(s, i)},
         {"paused_minutes", i.paused_minutes},
         {"waiting", i.waiting},
         {"reaction_escalation_at", AtOrNull(s, i.reaction_escalation_us)},
         {"resolution_escalation_at", AtOrNull(s, i.resolution_escalation_us)},
         {"escalation_due", i.escalation_due}});
  return {{"client", s.id()},       {"month", MonthText(month)},
          {"has_sla", r.has_sla},   {"plan", r.plan_id},
          {"incidents", incidents}, {"total", r.total},
          {"breached", r.breached}, {"compliance_basis_points", r.compliance_basis_points}};
}

json LogAnswerJson(const ClientState& s, uint64_t seq, bool replayed, int64_t now_us) {
  const std::optional<projections::Entry> e = EntryWithCharges(s, seq);
  json j = {{"client", s.id()}, {"id", seq}, {"replayed", replayed}};
  if (e) {
    if (e->month != 0 && !e->voided) j["billed_minor"] = BilledMinor(*e);
    j["paid_by"] = PaidBy(*e, Lang::kEn);
    j["month"] = MonthText(e->month);
  }
  j["balance"] = BalanceJson(
      s, e ? s.zone().MonthStartUs(e->month ? e->month : s.zone().MonthOf(now_us)) : now_us);
  j["line"] = LogAnswerText(s, seq, replayed);
  return j;
}

std::string EventType(schemas::Event::Reader event) {
  capnp::DynamicStruct::Reader body =
      capnp::toDynamic(event).get("body").as<capnp::DynamicStruct>();
  KJ_IF_MAYBE (f, body.which()) {
    return SnakeCase(f->getProto().getName());
  }
  return "unknown";
}

json EventJson(uint64_t seq, schemas::Event::Reader event, const projections::Zone& zone) {
  json j = {{"seq", seq},
            {"type", EventType(event)},
            {"recorded_at", zone.FormatIso(event.getRecordedAtUs())},
            {"effective_at", zone.FormatIso(event.getEffectiveAtUs())},
            {"client", std::string(event.getClientId().cStr())},
            {"actor", std::string(event.getActor().cStr())}};
  if (event.getIdempotencyKey().size())
    j["key"] = std::string(event.getIdempotencyKey().cStr(), event.getIdempotencyKey().size());
  capnp::DynamicStruct::Reader body =
      capnp::toDynamic(event).get("body").as<capnp::DynamicStruct>();
  KJ_IF_MAYBE (f, body.which()) {
    json fields = DynamicToJson(body.get(*f));
    if (fields.is_object())
      for (auto& [k, v] : fields.items())
        if (!j.contains(k)) j[k] = v;
  }
  if (event.getBody().isWebhookAdded()) {  // the HMAC secret is never shown (docs/webhooks.md)
    auto secret = event.getBody().getWebhookAdded().getSecret();
    j.erase("secret");
    j["secret_fingerprint"] =
        ledger::HexOf(ledger::Digest(std::string_view(reinterpret_cast<const char*>(secret.begin()),
                                                      secret.size())))
            .substr(0, 16);
  }
  return j;
}

nlohmann::json SummaryJson(const std::string& client, const std::string& summary) {
  return {{"client", client}, {"summary", summary}};
}

nlohmann::json ClosedJson(const std::string& client, uint32_t month, const std::string& summary) {
  return {{"client", client}, {"month", MonthText(month)}, {"summary", summary}};
}

namespace {
const char* ReviewStateName(projections::Review r) {
  switch (r) {
    case projections::Review::kNone:
      return "-";
    case projections::Review::kPending:
      return "pending";
    case projections::Review::kApproved:
      return "approved";
    case projections::Review::kRejected:
      return "rejected";
  }
  return "?";
}
}  // namespace

json ReviewJson(const ClientState& s, const std::string& client, uint32_t month) {
  using projections::ReviewItem;
  json items = json::array();
  for (const ReviewItem& i : s.ReviewItems(month)) {
    const projections::Entry* e = s.FindEntry(i.seq);
    if (!e) continue;
    const bool acceptance = i.kind == ReviewItem::Kind::kClientAcceptance;
    items.push_back(
        {{"id", i.seq},
         {"at", s.zone().FormatIso(e->at_us)},
         {"staff", e->staff},
         {"task", e->task},
         {"kind", e->kind},
         {"unit", e->unit == projections::Unit::kHour ? "hour" : "item"},
         {"minutes", e->minutes},
         {"count", e->count},
         {"review", acceptance ? "client_acceptance" : "manager"},
         {"state", acceptance ? "awaiting client acceptance" : ReviewStateName(i.state)},
         {"reason", e->review_reason}});
  }
  return {{"client", client}, {"month", MonthText(month)}, {"entries", items}};
}

}  // namespace hourbank::reports
