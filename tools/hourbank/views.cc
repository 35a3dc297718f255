#include "tools/hourbank/views.h"
#include "tools/hourbank/escape.h"
#include "tools/hourbank/app.h"

#include <algorithm>

#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <fmt/format.h>

#include "projections/units.h"

namespace hourbank::cli {

using nlohmann::json;
using projections::ClientState;
using projections::FormatMinutes;
using projections::FormatMoney;
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
  for (auto field : s.getSchema().getNonUnionFields()) out[SnakeCase(field.getProto().getName())] = DynamicToJson(s.get(field));
  KJ_IF_MAYBE(f, s.which()) { out[SnakeCase(f->getProto().getName())] = DynamicToJson(s.get(*f)); }
  return out;
}

json DynamicToJson(const capnp::DynamicValue::Reader& v) {
  switch (v.getType()) {
    case capnp::DynamicValue::VOID: return nullptr;
    case capnp::DynamicValue::BOOL: return v.as<bool>();
    case capnp::DynamicValue::INT: return v.as<int64_t>();
    case capnp::DynamicValue::UINT: return v.as<uint64_t>();
    case capnp::DynamicValue::FLOAT: return nullptr;  // the schema has no floats
    case capnp::DynamicValue::TEXT: return std::string(v.as<capnp::Text>().cStr());
    case capnp::DynamicValue::DATA: return Hex(v.as<capnp::Data>());
    case capnp::DynamicValue::LIST: {
      json arr = json::array();
      for (auto item : v.as<capnp::DynamicList>()) arr.push_back(DynamicToJson(item));
      return arr;
    }
    case capnp::DynamicValue::ENUM: {
      KJ_IF_MAYBE(e, v.as<capnp::DynamicEnum>().getEnumerant()) { return std::string(e->getProto().getName().cStr()); }
      return v.as<capnp::DynamicEnum>().getRaw();
    }
    case capnp::DynamicValue::STRUCT: return StructToJson(v.as<capnp::DynamicStruct>());
    default: return nullptr;
  }
}

}  // namespace

std::string MonthText(uint32_t month) { return month ? projections::FormatMonth(month) : std::string("-"); }

std::string Table(const std::vector<std::vector<std::string>>& raw_rows) {
  // User text (task, note, staff, actor …) is shown escaped: no control character reaches the
  // terminal, and the widths are those of what is printed.
  std::vector<std::vector<std::string>> rows = raw_rows;
  for (auto& r : rows)
    for (std::string& cell : r) cell = TerminalSafe(cell);
  std::vector<size_t> width;
  auto display_len = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
    return n;
  };
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], display_len(r[i]));
    }
  auto numeric = [](const std::string& s) {
    return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '$' || s[0] == '\xe2');
  };
  std::string out;
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    const auto& r = rows[ri];
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      const size_t pad = width[i] - display_len(r[i]);
      const bool right = ri > 0 && i > 0 && numeric(r[i]);
      if (i) line += "  ";
      if (right) line += std::string(pad, ' ') + r[i];
      else line += r[i] + (i + 1 < r.size() ? std::string(pad, ' ') : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

// ---------------------------------------------------------------------------------------

json BalanceJson(const ClientState& s, int64_t at_us) {
  const uint32_t month = s.zone().MonthOf(at_us);
  MonthEval ev = s.Evaluate(month);
  const auto* terms = s.TermsFor(month);
  int64_t prepaid = 0;
  for (const auto& b : ev.blocks_end) prepaid += b.left_minutes;
  if (!ev.closed)
    for (const auto& [seq, m] : ev.expired_blocks) prepaid += m;  // still usable until the month closes
  json slots = json::object();
  for (const auto& [pool, u] : ev.pools) slots[pool] = {{"quota", u.quota}, {"used", u.used}, {"left", u.left()}};
  json j = {
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
        {"left_minutes", ev.included_minutes - ev.allowance_used_minutes}}},
      {"reserve_minutes", ev.reserve_start_minutes - ev.reserve_used_minutes},
      {"prepaid_minutes", prepaid},
      {"overage_minutes", ev.overage_minutes},
      {"used_minutes", ev.used_minutes},
      {"slots", slots},
      {"invoice_so_far_minor", ev.invoice.total_minor},
      {"outstanding_minor", s.outstanding_minor()},
      {"blocked", s.BlockedAt(at_us)},
  };
  return j;
}

static std::string BalanceTextUnescaped(const json& b);
// Every line escaped for the terminal (user text inside: tasks, notes, titles).
std::string BalanceText(const json& b) { return TerminalLines(BalanceTextUnescaped(b)); }
std::string BalanceTextUnescaped(const json& b) {
  const std::string cur = b["currency"];
  std::string out = fmt::format("{} — {} ({} v{}){}\n", b["client"].get<std::string>(), b["month"].get<std::string>(),
                                b["plan"].get<std::string>(), b["plan_version"].get<uint32_t>(),
                                b["trial"].get<bool>() ? ", trial month" : "");
  std::vector<std::vector<std::string>> rows = {{"bucket", "minutes"}};
  const auto& a = b["allowance"];
  if (b["unlimited"].get<bool>()) {
    rows.push_back({"hours (unlimited)", FormatMinutes(b["used_minutes"])});
  } else {
    rows.push_back({"allowance included", FormatMinutes(a["included_minutes"])});
    rows.push_back({"allowance used", FormatMinutes(a["used_minutes"])});
    rows.push_back({"allowance left", FormatMinutes(a["left_minutes"])});
    rows.push_back({"reserve", FormatMinutes(b["reserve_minutes"])});
    rows.push_back({"prepaid blocks", FormatMinutes(b["prepaid_minutes"])});
    rows.push_back({"overage", FormatMinutes(b["overage_minutes"])});
  }
  out += Table(rows);
  if (!b["slots"].empty()) {
    std::vector<std::vector<std::string>> srows = {{"pool", "quota", "used", "left"}};
    for (auto& [pool, u] : b["slots"].items())
      srows.push_back({pool, std::to_string(u["quota"].get<uint32_t>()), std::to_string(u["used"].get<uint32_t>()),
                       std::to_string(u["left"].get<uint32_t>())});
    out += "\n" + Table(srows);
  }
  out += fmt::format("\nthis month so far {}; outstanding {}{}\n", FormatMoney(b["invoice_so_far_minor"], cur),
                     FormatMoney(b["outstanding_minor"], cur), b["blocked"].get<bool>() ? " — BLOCKED (unpaid debt under the plan's debt_blocking rule; see `plan show`)" : "");
  return out;
}

json InvoiceJson(const ClientState& s, uint32_t month) {
  MonthEval ev = s.Evaluate(month);
  json lines = json::array();
  for (const auto& l : ev.invoice.lines)
    lines.push_back({{"code", l.code},
                     {"description", l.description},
                     {"quantity", l.quantity},
                     {"unit_price_minor", l.unit_price_minor},
                     {"amount_minor", l.amount_minor}});
  return {{"client", s.id()},        {"month", MonthText(month)},   {"currency", s.currency()},
          {"lines", lines},          {"total_minor", ev.invoice.total_minor},
          {"closed", ev.invoice.closed}};
}

static std::string InvoiceTextUnescaped(const json& inv);
// Every line escaped for the terminal (user text inside: tasks, notes, titles).
std::string InvoiceText(const json& inv) { return TerminalLines(InvoiceTextUnescaped(inv)); }
std::string InvoiceTextUnescaped(const json& inv) {
  const std::string cur = inv["currency"];
  std::string out = fmt::format("invoice {} {}{}\n", inv["client"].get<std::string>(), inv["month"].get<std::string>(),
                                inv["closed"].get<bool>() ? " (closed)" : " (open: may still change)");
  std::vector<std::vector<std::string>> rows = {{"code", "description", "qty", "unit price", "amount"}};
  for (const auto& l : inv["lines"]) {
    std::string qty = std::to_string(l["quantity"].get<int64_t>());
    if (l["code"] == "overage") qty = FormatMinutes(l["quantity"]);
    rows.push_back({l["code"], l["description"], qty, FormatMoney(l["unit_price_minor"], cur), FormatMoney(l["amount_minor"], cur)});
  }
  rows.push_back({"total", "", "", "", FormatMoney(inv["total_minor"], cur)});
  return out + Table(rows);
}

json BurnedJson(const ClientState& s, uint32_t from, uint32_t to) {
  json months = json::array();
  int64_t total_expired = 0;
  if (from == 0) from = s.first_month();
  if (to == 0) to = std::max(s.FirstOpenMonth(), from);
  if (s.last_month() != 0 && to > s.last_month() && from <= s.last_month()) to = s.last_month();
  for (uint32_t m = from; from != 0 && m <= to; m = projections::NextMonth(m)) {
    MonthEval ev = s.Evaluate(m);
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

static std::string BurnedTextUnescaped(const json& b);
// Every line escaped for the terminal (user text inside: tasks, notes, titles).
std::string BurnedText(const json& b) { return TerminalLines(BurnedTextUnescaped(b)); }
std::string BurnedTextUnescaped(const json& b) {
  std::vector<std::vector<std::string>> rows = {
      {"month", "included", "used", "reserve", "blocks", "overage", "carried", "expired", "reserve end", ""}};
  for (const auto& m : b["months"])
    rows.push_back({m["month"], FormatMinutes(m["included_minutes"]), FormatMinutes(m["used_minutes"]),
                    FormatMinutes(m["from_reserve_minutes"]), FormatMinutes(m["from_blocks_minutes"]),
                    FormatMinutes(m["overage_minutes"]), FormatMinutes(m["carried_minutes"]),
                    FormatMinutes(m["expired_minutes"]), FormatMinutes(m["reserve_end_minutes"]),
                    m["closed"].get<bool>() ? "closed" : "open"});
  return fmt::format("burned hours — {}\n", b["client"].get<std::string>()) + Table(rows) +
         fmt::format("total expired: {}\n", FormatMinutes(b["total_expired_minutes"]));
}

json ReportJson(const ClientState& s, uint32_t month) {
  json entries = json::array();
  for (const auto& e : s.EntriesFor(month))
    entries.push_back({{"id", e.seq},
                       {"at", s.zone().FormatIso(e.at_us)},
                       {"staff", e.staff},
                       {"task", e.task},
                       {"kind", e.kind},
                       {"minutes", e.minutes},
                       {"count", e.count},
                       {"urgent", e.urgent},
                       {"off_hours", e.off_hours},
                       {"late", e.late},
                       {"billed_minor", e.billed_minor()},
                       {"paid_by", e.paid_by()}});
  return {{"client", s.id()}, {"month", MonthText(month)}, {"currency", s.currency()}, {"entries", entries}};
}

static std::string ReportTextUnescaped(const json& r);
// Every line escaped for the terminal (user text inside: tasks, notes, titles).
std::string ReportText(const json& r) { return TerminalLines(ReportTextUnescaped(r)); }
std::string ReportTextUnescaped(const json& r) {
  std::vector<std::vector<std::string>> rows = {{"id", "when", "staff", "task", "kind", "time", "paid by"}};
  for (const auto& e : r["entries"]) {
    const std::string at = e["at"].get<std::string>().substr(0, 16);
    const std::string amount = e["count"].get<int64_t>() > 0 ? fmt::format("×{}", e["count"].get<int64_t>())
                                                             : FormatMinutes(e["minutes"]);
    rows.push_back({"#" + std::to_string(e["id"].get<uint64_t>()), at, e["staff"], e["task"], e["kind"], amount, e["paid_by"]});
  }
  return fmt::format("work report {} {} ({} entries)\n", r["client"].get<std::string>(), r["month"].get<std::string>(),
                     r["entries"].size()) +
         Table(rows);
}

std::string EventType(schemas::Event::Reader event) {
  capnp::DynamicStruct::Reader body = capnp::toDynamic(event).get("body").as<capnp::DynamicStruct>();
  KJ_IF_MAYBE(f, body.which()) { return SnakeCase(f->getProto().getName()); }
  return "unknown";
}

json EventJson(uint64_t seq, schemas::Event::Reader event, const projections::Zone& zone) {
  json j = {{"seq", seq},
            {"type", EventType(event)},
            {"recorded_at", zone.FormatIso(event.getRecordedAtUs())},
            {"effective_at", zone.FormatIso(event.getEffectiveAtUs())},
            {"client", std::string(event.getClientId().cStr())},
            {"actor", std::string(event.getActor().cStr())}};
  if (event.getIdempotencyKey().size()) {
    // The key as the user gave it; the stored form is scoped per client and actor (app.h).
    const std::string stored(event.getIdempotencyKey().cStr(), event.getIdempotencyKey().size());
    j["key"] = std::string(UserKey(stored));
    if (stored.size() != j["key"].get<std::string>().size()) j["key_stored"] = stored;
  }
  capnp::DynamicStruct::Reader body = capnp::toDynamic(event).get("body").as<capnp::DynamicStruct>();
  KJ_IF_MAYBE(f, body.which()) {
    json fields = DynamicToJson(body.get(*f));
    if (fields.is_object())
      for (auto& [k, v] : fields.items())
        if (!j.contains(k)) j[k] = v;
  }
  return j;
}

}  // namespace hourbank::cli

#include "projections/sla.h"

namespace hourbank::cli {

json SlaJson(const ClientState& s, uint32_t month, int64_t now_us) {
  const projections::SlaReport r = projections::ComputeSla(s, month, now_us);
  json incidents = json::array();
  auto minutes_or_null = [](int64_t m) { return m < 0 ? json(nullptr) : json(m); };
  for (const auto& i : r.incidents)
    incidents.push_back({{"id", i.id},
                         {"priority", i.priority},
                         {"opened_priority", i.opened_priority},
                         {"opened_at", s.zone().FormatIso(i.opened_us)},
                         {"responded_at", i.responded_us ? json(s.zone().FormatIso(i.responded_us)) : json(nullptr)},
                         {"resolved_at", i.resolved_us ? json(s.zone().FormatIso(i.resolved_us)) : json(nullptr)},
                         {"reaction_minutes", minutes_or_null(i.reaction_minutes)},
                         {"resolution_minutes", minutes_or_null(i.resolution_minutes)},
                         {"reaction_target_minutes", i.reaction_target_minutes},
                         {"resolution_target_minutes", i.resolution_target_minutes},
                         {"reaction_breached", i.reaction_breached},
                         {"resolution_breached", i.resolution_breached},
                         {"breached", i.breached},
                         {"reopened_count", i.reopened_count}});
  return {{"client", s.id()},
          {"month", MonthText(month)},
          {"has_sla", r.has_sla},
          {"plan", r.plan_id},
          {"incidents", incidents},
          {"total", r.total},
          {"breached", r.breached},
          {"compliance_basis_points", r.compliance_basis_points}};
}

static std::string SlaTextUnescaped(const json& j);
// Every line escaped for the terminal (user text inside: tasks, notes, titles).
std::string SlaText(const json& j) { return TerminalLines(SlaTextUnescaped(j)); }
std::string SlaTextUnescaped(const json& j) {
  std::string out = fmt::format("SLA {} {}{}\n", j["client"].get<std::string>(), j["month"].get<std::string>(),
                                j["has_sla"].get<bool>() ? " (" + j["plan"].get<std::string>() + ")" : " (the plan has no SLA)");
  std::vector<std::vector<std::string>> rows = {{"incident", "P", "reaction", "target", "resolution", "target", ""}};
  auto m = [](const json& v) { return v.is_null() ? std::string("-") : FormatMinutes(v.get<int64_t>()); };
  auto t = [](const json& v) { return v.get<int64_t>() == 0 ? std::string("-") : FormatMinutes(v.get<int64_t>()); };
  for (const auto& i : j["incidents"])
    rows.push_back({i["id"], std::to_string(i["priority"].get<int>()), m(i["reaction_minutes"]), t(i["reaction_target_minutes"]),
                    m(i["resolution_minutes"]), t(i["resolution_target_minutes"]), i["breached"].get<bool>() ? "BREACHED" : "ok"});
  const uint32_t bp = j["compliance_basis_points"];
  return out + Table(rows) +
         fmt::format("{} incident(s), {} breached, compliance {}.{:02}%\n", j["total"].get<uint32_t>(),
                     j["breached"].get<uint32_t>(), bp / 100, bp % 100);
}

}  // namespace hourbank::cli
