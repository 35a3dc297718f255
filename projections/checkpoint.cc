// Checkpoint format (version 4; version 3 had no non_billable, written_down_minutes, review and
// review_reason on entries (their last four fields), version 2 no early_end flag on adjustments,
// version 1 one contract end, "last_month", for all terms): one JSON object, UTF-8.
//
//   checkpoint := { "format": 4, "options": {"retain_entries": bool},
//                   "registered", "id", "name", "currency", "zone" (IANA name),
//                   "version" (stream version folded), "last_seq",
//                   "terms": [terms], "units": [[from_month, units]],
//                   "entries": [entry], "months": [[month, month_data]],
//                   "blocks": [block], "last_closed", "reserve_after_close",
//                   "block_left_after_close": [[seq, minutes]],
//                   "closed": [[month, month_eval]],
//                   "closed_start": [[month, reserve_minutes, [block]]] (retained states),
//                   "closes": [[month, recorded_close]],
//                   "pending_close": recorded_close, "pending_close_month",
//                   "paid_minor", "incidents": [incident], "problems": [[seq, what]],
//                   "alerts": [[seq, raised_us, key, kind, threshold, month, subject, used,
//                   limit, left, deadline_us, amount_minor]] (only when there are alerts),
//                   "alert_settings": [allowance_percent|null, block_expiry_days|-1,
//                   reserve_expiry_days|-1, invoice_overdue_days|-1, [off kinds]] (only when
//                   the client has set its own) }
//   terms   := { plan_id, plan_version, plan_toml (canonical), from_month, last_month, continues,
//   term_months,
//                prepaid_months, timely, extras: {name: qty} }
//   Every other record is the struct of projections/state.h with its field names; integers
//   are JSON integers (int64/uint64 exact), digests are lower-case hex.
//
// JSON rather than Cap'n Proto because a checkpoint is a cache, not a fact: it is dropped by
// `rebuild`, never audited, and read only by this version of the fold (the format number
// guards that). An unreadable checkpoint is ignored and the stream is replayed.
#include "projections/checkpoint.h"

#include <nlohmann/json.hpp>

#include "projections/month_pack.h"

namespace hourbank::projections {

using nlohmann::json;

namespace {

std::string Hex(const std::array<uint8_t, 32>& h) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (uint8_t b : h) {
    out += d[b >> 4];
    out += d[b & 15];
  }
  return out;
}

std::array<uint8_t, 32> Unhex(const std::string& s) {
  std::array<uint8_t, 32> out{};
  auto v = [](char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; };
  for (size_t i = 0; i < 32 && 2 * i + 1 < s.size(); ++i)
    out[i] = uint8_t(v(s[2 * i]) * 16 + v(s[2 * i + 1]));
  return out;
}

json ToJson(const Block& b) {
  return {b.seq, b.minutes, b.left_minutes, b.expires_at_us, b.expires_month, b.month};
}
Block BlockFrom(const json& j) {
  Block b;
  b.seq = j[0];
  b.minutes = j[1];
  b.left_minutes = j[2];
  b.expires_at_us = j[3];
  b.expires_month = j[4];
  b.month = j[5];
  return b;
}

json ToJson(const Charge& c) {
  return {int(c.source),     c.minutes,   c.count, c.amount_minor,
          c.surcharge_minor, c.block_seq, c.pool};
}
Charge ChargeFrom(const json& j) {
  Charge c;
  c.source = Charge::Source(j[0].get<int>());
  c.minutes = j[1];
  c.count = j[2];
  c.amount_minor = j[3];
  c.surcharge_minor = j[4];
  c.block_seq = j[5];
  c.pool = j[6];
  return c;
}

json ToJson(const InvoiceLine& l) {
  return {l.code, l.description, l.quantity, l.unit_price_minor, l.amount_minor};
}
InvoiceLine LineFrom(const json& j) { return {j[0], j[1], j[2], j[3], j[4]}; }

}  // namespace

// Friend of ClientState: the one place that knows every private field.
struct CheckpointCodec {
  static json Save(const ClientState& s) {
    json j;
    j["format"] = kCheckpointFormatVersion;
    j["options"] = {{"retain_entries", s.options_.retain_entries}};
    j["registered"] = s.registered_;
    j["id"] = s.id_;
    j["name"] = s.name_;
    j["currency"] = s.currency_;
    j["zone"] = s.zone_.name();
    j["version"] = s.version_;
    j["last_seq"] = s.last_seq_;
    json terms = json::array();
    for (const ContractTerms& t : s.terms_)
      terms.push_back({{"plan_id", t.plan_id},
                       {"plan_version", t.plan_version},
                       {"plan_toml", t.plan ? CanonicalToml(*t.plan) : ""},
                       {"from_month", t.from_month},
                       {"last_month", t.last_month},
                       {"continues", t.continues},
                       {"term_months", t.term_months},
                       {"prepaid_months", t.prepaid_months},
                       {"timely", t.timely},
                       {"extras", t.extras},
                       {"review", int(t.review)}});
    j["terms"] = terms;
    j["units"] = s.units_;
    json entries = json::array();
    for (const Entry& e : s.entries_) {
      json charges = json::array();
      for (const Charge& c : e.charges) charges.push_back(ToJson(c));
      entries.push_back({e.seq,
                         e.at_us,
                         e.month,
                         e.kind,
                         e.task,
                         e.staff,
                         e.note,
                         int(e.unit),
                         e.minutes,
                         e.count,
                         e.multiplier_percent,
                         e.urgent,
                         e.off_hours,
                         e.late,
                         e.emergency,
                         e.voided,
                         charges,
                         e.non_billable,
                         e.written_down_minutes,
                         int(e.review),
                         e.review_reason});
    }
    j["entries"] = entries;
    json months = json::array();
    for (const auto& [m, d] : s.months_) {
      json adjust = json::array();
      for (const auto& a : d.adjustments)
        adjust.push_back({a.seq, a.code, a.description, a.amount_minor, a.early_end});
      months.push_back({m,
                        {{"entry_seqs", d.entry_seqs},
                         {"adjustments", adjust},
                         {"addon_slots", d.addon_slots}}});
    }
    j["months"] = months;
    json blocks = json::array();
    for (const Block& b : s.blocks_) blocks.push_back(ToJson(b));
    j["blocks"] = blocks;
    j["last_closed"] = s.last_closed_;
    j["reserve_after_close"] = s.reserve_after_close_;
    j["block_left_after_close"] = s.block_left_after_close_;
    json closed = json::array();
    for (size_t i = 0; i < s.closed_.size(); ++i)  // the unpacked figures: the format is unchanged
      if (s.closed_.has_eval(i))
        closed.push_back({s.closed_.month(i), SaveEval(s.closed_.EvalAt(i))});
    j["closed"] = closed;
    json closed_start = json::array();
    for (const auto& [m, start] : s.closed_start_) {
      json blocks = json::array();
      for (const Block& b : start.second) blocks.push_back(ToJson(b));
      closed_start.push_back({m, start.first, blocks});
    }
    j["closed_start"] = closed_start;
    json closes = json::array();
    for (size_t i = 0; i < s.closed_.size(); ++i)
      if (s.closed_.has_close(i))
        closes.push_back({s.closed_.month(i), SaveClose(s.closed_.CloseAt(i))});
    j["closes"] = closes;
    j["pending_close"] = SaveClose(s.pending_close_);
    j["pending_close_month"] = s.pending_close_month_;
    j["paid_minor"] = s.paid_minor_;
    json incidents = json::array();
    for (const auto& [id, i] : s.incidents_)
      incidents.push_back({i.id, i.priority, i.opened_priority, i.title, i.opened_us,
                           i.responded_us, i.resolved_us, i.priority_changes, i.reopened_us,
                           i.resolved_history_us});
    j["incidents"] = incidents;
    if (!s.alerts_.empty()) {  // optional: absent in checkpoints written before alerts existed
      json alerts = json::array();
      for (const AlertRecord& a : s.alerts_)
        alerts.push_back({a.seq, a.raised_us, a.key, int(a.kind), a.threshold, a.month, a.subject,
                          a.used_minutes, a.limit_minutes, a.left_minutes, a.deadline_us,
                          a.amount_minor});
      j["alerts"] = alerts;
    }
    if (s.alert_overrides_ != AlertOverrides{}) j["alert_settings"] = SaveOverrides(s);
    json problems = json::array();
    for (const auto& p : s.problems_) problems.push_back({p.seq, p.what});
    j["problems"] = problems;
    return j;
  }

  static Result<ClientState> Restore(const json& j) {
    if (!j.is_object() || j.value("format", 0) != kCheckpointFormatVersion)
      return Error::Corruption("checkpoint has another format version");
    ClientState s({.retain_entries = j["options"]["retain_entries"].get<bool>()});
    s.registered_ = j["registered"];
    s.id_ = j["id"];
    s.name_ = j["name"];
    s.currency_ = j["currency"];
    auto zone = Zone::Find(j["zone"].get<std::string>());
    if (!zone.ok()) return Error::Corruption("checkpoint names an unknown time zone");
    s.zone_ = zone.value();
    s.version_ = j["version"];
    s.last_seq_ = j["last_seq"];
    for (const json& t : j["terms"]) {
      ContractTerms ct;
      ct.plan_id = t["plan_id"];
      ct.plan_version = t["plan_version"];
      auto plan = ParseCanonicalPlan(t["plan_toml"].get<std::string>());
      if (!plan.ok()) return Error::Corruption("checkpoint plan text does not parse");
      ct.plan = std::make_shared<const PlanSpec>(std::move(plan).value());
      ct.from_month = t["from_month"];
      ct.last_month = t["last_month"];
      ct.continues = t["continues"];
      ct.term_months = t["term_months"];
      ct.prepaid_months = t["prepaid_months"];
      ct.timely = t["timely"];
      const int review = t.value("review", 0);  // absent in checkpoints written before it
      if (review < 0 || review > 2) return Error::Corruption("checkpoint review rule out of range");
      ct.review = ContractTerms::ReviewRule(review);
      ct.extras = t["extras"].get<std::map<std::string, uint32_t>>();
      s.terms_.push_back(std::move(ct));
    }
    s.units_ = j["units"].get<std::map<uint32_t, uint32_t>>();
    for (const json& e : j["entries"]) {
      Entry x;
      x.seq = e[0];
      x.at_us = e[1];
      x.month = e[2];
      x.kind = e[3];
      x.task = e[4];
      x.staff = e[5];
      x.note = e[6];
      x.unit = Unit(e[7].get<int>());
      x.minutes = e[8];
      x.count = e[9];
      x.multiplier_percent = e[10];
      x.urgent = e[11];
      x.off_hours = e[12];
      x.late = e[13];
      x.emergency = e[14];
      x.voided = e[15];
      for (const json& c : e[16]) x.charges.push_back(ChargeFrom(c));
      x.non_billable = e[17];
      x.written_down_minutes = e[18];
      x.review = Review(e[19].get<int>());
      x.review_reason = e[20];
      s.NewEntry(x.seq) = std::move(x);
    }
    for (const json& m : j["months"]) {
      ClientState::MonthData d;
      d.entry_seqs = m[1]["entry_seqs"].get<std::vector<uint64_t>>();
      for (const json& a : m[1]["adjustments"])
        d.adjustments.push_back({a[0], a[1], a[2], a[3], a[4]});
      d.addon_slots = m[1]["addon_slots"].get<std::map<std::string, uint32_t>>();
      s.months_[m[0].get<uint32_t>()] = std::move(d);
    }
    for (const json& b : j["blocks"]) {
      s.block_index_[b[0].get<uint64_t>()] = uint32_t(s.blocks_.size());
      s.blocks_.push_back(BlockFrom(b));
    }
    s.last_closed_ = j["last_closed"];
    s.reserve_after_close_ = j["reserve_after_close"];
    s.block_left_after_close_ = j["block_left_after_close"].get<std::map<uint64_t, int64_t>>();
    for (const json& c : j["closed"]) s.closed_.PutEval(c[0].get<uint32_t>(), RestoreEval(c[1]));
    for (const json& c : j["closed_start"]) {
      std::vector<Block> blocks;
      for (const json& b : c[2]) blocks.push_back(BlockFrom(b));
      s.closed_start_[c[0].get<uint32_t>()] = {c[1].get<int64_t>(), std::move(blocks)};
    }
    for (const json& c : j["closes"]) s.closed_.PutClose(c[0].get<uint32_t>(), RestoreClose(c[1]));
    s.pending_close_ = RestoreClose(j["pending_close"]);
    s.pending_close_month_ = j["pending_close_month"];
    s.paid_minor_ = j["paid_minor"];
    for (const json& i : j["incidents"]) {
      Incident x;
      x.id = i[0];
      x.priority = i[1];
      x.opened_priority = i[2];
      x.title = i[3];
      x.opened_us = i[4];
      x.responded_us = i[5];
      x.resolved_us = i[6];
      x.priority_changes = i[7].get<std::vector<std::pair<int64_t, uint8_t>>>();
      x.reopened_us = i[8].get<std::vector<int64_t>>();
      x.resolved_history_us = i[9].get<std::vector<int64_t>>();
      s.incidents_[x.id] = std::move(x);
    }
    if (j.contains("alerts"))
      for (const json& a : j["alerts"]) {
        AlertRecord x;
        x.seq = a[0];
        x.raised_us = a[1];
        x.key = a[2];
        x.kind = schemas::AlertKind(a[3].get<int>());
        x.threshold = a[4];
        x.month = a[5];
        x.subject = a[6];
        x.used_minutes = a[7];
        x.limit_minutes = a[8];
        x.left_minutes = a[9];
        x.deadline_us = a[10];
        x.amount_minor = a[11];
        s.alerts_.push_back(std::move(x));
      }
    if (j.contains("alert_settings")) RestoreOverrides(j["alert_settings"], &s);
    for (const json& p : j["problems"]) s.problems_.push_back({p[0], p[1]});
    return s;
  }

  // [allowance_percent or null, block days or -1, reserve days or -1, invoice days or -1, [off]]
  static json SaveOverrides(const ClientState& s) {
    const AlertOverrides& o = s.alert_overrides_;
    const auto days = [](const std::optional<uint32_t>& d) { return d ? int64_t(*d) : -1; };
    json off = json::array();
    for (schemas::AlertKind k : o.off) off.push_back(int(k));
    return {o.allowance_percent ? json(*o.allowance_percent) : json(nullptr),
            days(o.block_expiry_days), days(o.reserve_expiry_days), days(o.invoice_overdue_days),
            off};
  }
  static void RestoreOverrides(const json& a, ClientState* s) {
    AlertOverrides& o = s->alert_overrides_;
    if (!a[0].is_null()) o.allowance_percent = a[0].get<std::vector<uint32_t>>();
    const auto days = [](const json& d) {
      return d.get<int64_t>() < 0 ? std::nullopt : std::optional<uint32_t>(d.get<uint32_t>());
    };
    o.block_expiry_days = days(a[1]);
    o.reserve_expiry_days = days(a[2]);
    o.invoice_overdue_days = days(a[3]);
    for (const json& k : a[4]) o.off.push_back(schemas::AlertKind(k.get<int>()));
  }

  static json SaveEval(const MonthEval& e) {
    json pools = json::object();
    for (const auto& [p, u] : e.pools) pools[p] = {u.quota, u.used};
    json blocks = json::array();
    for (const Block& b : e.blocks_end) blocks.push_back(ToJson(b));
    json lines = json::array();
    for (const auto& l : e.invoice.lines) lines.push_back(ToJson(l));
    return {{"month", e.month},
            {"in_contract", e.in_contract},
            {"trial", e.trial},
            {"closed", e.closed},
            {"included", e.included_minutes},
            {"allowance_used", e.allowance_used_minutes},
            {"reserve_start", e.reserve_start_minutes},
            {"reserve_used", e.reserve_used_minutes},
            {"blocks_start", e.blocks_start_minutes},
            {"block_used", e.block_used_minutes},
            {"overage", e.overage_minutes},
            {"unlimited", e.unlimited_minutes},
            {"used", e.used_minutes},
            {"pools", pools},
            {"carried", e.carried_minutes},
            {"expired_allowance", e.expired_allowance_minutes},
            {"expired_reserve", e.expired_reserve_minutes},
            {"expired_block", e.expired_block_minutes},
            {"expired_blocks", e.expired_blocks},
            {"reserve_end", e.reserve_end_minutes},
            {"blocks_end", blocks},
            {"invoice",
             {{"month", e.invoice.month},
              {"lines", lines},
              {"total", e.invoice.total_minor},
              {"closed", e.invoice.closed}}}};
  }

  static MonthEval RestoreEval(const json& j) {
    MonthEval e;
    e.month = j["month"];
    e.in_contract = j["in_contract"];
    e.trial = j["trial"];
    e.closed = j["closed"];
    e.included_minutes = j["included"];
    e.allowance_used_minutes = j["allowance_used"];
    e.reserve_start_minutes = j["reserve_start"];
    e.reserve_used_minutes = j["reserve_used"];
    e.blocks_start_minutes = j["blocks_start"];
    e.block_used_minutes = j["block_used"];
    e.overage_minutes = j["overage"];
    e.unlimited_minutes = j["unlimited"];
    e.used_minutes = j["used"];
    for (auto& [p, u] : j["pools"].items())
      e.pools[p] = PoolUsage{u[0].get<uint32_t>(), u[1].get<uint32_t>()};
    e.carried_minutes = j["carried"];
    e.expired_allowance_minutes = j["expired_allowance"];
    e.expired_reserve_minutes = j["expired_reserve"];
    e.expired_block_minutes = j["expired_block"];
    e.expired_blocks = j["expired_blocks"].get<std::vector<std::pair<uint64_t, int64_t>>>();
    e.reserve_end_minutes = j["reserve_end"];
    for (const json& b : j["blocks_end"]) e.blocks_end.push_back(BlockFrom(b));
    e.invoice.month = j["invoice"]["month"];
    for (const json& l : j["invoice"]["lines"]) e.invoice.lines.push_back(LineFrom(l));
    e.invoice.total_minor = j["invoice"]["total"];
    e.invoice.closed = j["invoice"]["closed"];
    return e;
  }

  static json SaveClose(const ClientState::RecordedClose& rc) {
    json expired = json::array();
    for (const auto& [bucket, seq, minutes] : rc.expired)
      expired.push_back({int(bucket), seq, minutes});
    return {{"carried", rc.carried_minutes},
            {"reserve_after", rc.reserve_after_minutes},
            {"expired", expired},
            {"slots_expired", rc.slots_expired},
            {"total", rc.total_minor},
            {"digest", Hex(rc.lines_digest)},
            {"line_count", rc.line_count},
            {"closed_seq", rc.closed_seq}};
  }

  static ClientState::RecordedClose RestoreClose(const json& j) {
    ClientState::RecordedClose rc;
    rc.carried_minutes = j["carried"];
    rc.reserve_after_minutes = j["reserve_after"];
    for (const json& x : j["expired"])
      rc.expired.emplace_back(schemas::Bucket(x[0].get<int>()), x[1].get<uint64_t>(),
                              x[2].get<int64_t>());
    rc.slots_expired = j["slots_expired"].get<std::map<std::string, uint32_t>>();
    rc.total_minor = j["total"];
    rc.lines_digest = Unhex(j["digest"]);
    rc.line_count = j["line_count"];
    rc.closed_seq = j["closed_seq"];
    return rc;
  }
};

std::string CheckpointName(std::string_view client_id) {
  return "client/" + std::string(client_id);
}

std::string SaveCheckpoint(const ClientState& state) { return CheckpointCodec::Save(state).dump(); }

Result<ClientState> RestoreCheckpoint(std::string_view bytes) {
  try {
    return CheckpointCodec::Restore(json::parse(bytes));
  } catch (const std::exception& e) {
    return Error::Corruption(std::string("checkpoint does not decode: ") + e.what());
  }
}

}  // namespace hourbank::projections
