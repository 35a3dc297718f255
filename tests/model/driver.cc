// model_driver: runs client histories through the real fold (projections/decide.h + state.h)
// for the differential test against the independent Python model (tests/model/model.py).
//
// Input: one history per line of stdin, a JSON object:
//   {"id": "h17", "zone": "Europe/Moscow", "currency": "RUB", "plans": ["examples/plans/kit.toml"],
//    (plan files relative to the source tree, or to argv[1])
//    "report": [202601, 202606], "cmds": [ {"op": "start", ...}, {"op": "log", ...}, ... ]}
// Commands (times are local wall times "YYYY-MM-DDTHH:MM" in the client's zone; "now" is
// optional on every command and defaults to 2030-01-01T00:00Z, after every test month):
//   start  plan, from, term, prepaid, timely, units, extras{}
//   units  units, from
//   end    last
//   log    kind, minutes | count, at, urgent, off_hours (true/false/null), late, task
//   accept task, at, late
//   buy    minutes, price (null = the plan's offer), expires ("YYYY-MM-DD", the last day the
//          block can be used; null = never), at
//   addon  addon, month, at
//   void   ref (index in cmds of the log command whose entry is voided)
//   close  month
//   pay    amount, at
// Output: one JSON object per history, on one line:
//   {"id", "results": [{"ok": true, "outstanding": N} | {"refused": "message", "outstanding": N}],
//    "months": {"202601": {figures..., "lines": [[code, qty, unit, amount], ...], "total": N}},
//    "outstanding", "invoiced", "paid"}
// Integers only. A malformed input line produces {"error": "..."} and the driver goes on.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "projections/decide.h"
#include "projections/plan.h"
#include "projections/state.h"
#include "projections/units.h"

using hourbank::Result;
using hourbank::Status;
using json = nlohmann::json;
namespace p = hourbank::projections;

namespace {

constexpr int64_t kDefaultNowUs = 1893456000LL * 1000000;  // 2030-01-01T00:00Z

std::string ReadAll(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

struct Runner {
  std::string plans_dir;
  std::map<std::string, std::vector<p::PlanSpec>> plan_cache;

  const std::vector<p::PlanSpec>* Plans(const std::string& file, std::string* error) {
    auto it = plan_cache.find(file);
    if (it != plan_cache.end()) return &it->second;
    const std::string path = plans_dir + "/" + file;
    auto parsed = p::ParsePlans(ReadAll(path), path);
    if (!parsed.ok()) {
      *error = parsed.error().message;
      return nullptr;
    }
    return &plan_cache.emplace(file, std::move(parsed).value()).first->second;
  }

  // One history, in memory: decide, stamp seqs as the ledger would, fold.
  struct History {
    p::Catalog catalog;
    p::ClientState state{p::ClientOptions{.retain_entries = true}};
    uint64_t seq = 0;
    Status Commit(bool catalog_stream, Result<p::Decision> decision, int64_t now_us,
                  const std::string& client) {
      if (!decision.ok()) return decision.error();
      for (hourbank::ledger::EventDraft& d : decision.value().events) {
        auto root = d.root();
        root.setSeq(++seq);
        root.setClientId(catalog_stream ? p::kCatalogStream : client);
        root.setRecordedAtUs(now_us);
        root.setActor("model");
        if (catalog_stream)
          catalog.Apply(seq, root.asReader());
        else
          state.Apply(seq, root.asReader());
      }
      return Status::Ok();
    }
  };

  json Run(const json& h) {
    json out;
    out["id"] = h.value("id", json());
    History hist;
    const std::string client = "c";
    hist.state.set_id(client);
    for (const auto& file : h.at("plans")) {
      std::string error;
      const auto* plans = Plans(file.get<std::string>(), &error);
      if (!plans) return json{{"id", out["id"]}, {"error", error}};
      Status s = hist.Commit(true, p::DecidePlanDefine(hist.catalog, *plans, kDefaultNowUs),
                             kDefaultNowUs, client);
      if (!s.ok()) return json{{"id", out["id"]}, {"error", s.error().message}};
    }
    {
      Status s =
          hist.Commit(false,
                      p::DecideRegister(hist.state,
                                        {client, "Client", h.at("currency").get<std::string>(),
                                         h.at("zone").get<std::string>()},
                                        kDefaultNowUs),
                      kDefaultNowUs, client);
      if (!s.ok()) return json{{"id", out["id"]}, {"error", s.error().message}};
    }
    const p::Zone zone = hist.state.zone();
    auto local = [&](const json& v) -> int64_t {
      auto t = p::ParseTime(v.get<std::string>(), zone);
      if (!t.ok()) throw std::runtime_error(t.error().message);
      return t.value();
    };
    std::vector<uint64_t> entry_seq_of_cmd;  // cmd index -> seq of its WorkLogged (0 if none)
    json results = json::array();
    for (const json& c : h.at("cmds")) {
      const std::string op = c.at("op").get<std::string>();
      const int64_t now = c.contains("now") ? local(c["now"]) : kDefaultNowUs;
      uint64_t logged_seq = 0;
      Result<p::Decision> d = hourbank::Error::Invalid("unknown op " + op);
      if (op == "start") {
        p::StartContract s;
        s.plan_id = c.at("plan").get<std::string>();
        s.from_month = c.at("from").get<uint32_t>();
        s.term_months = c.value("term", 0u);
        s.prepaid_months = c.value("prepaid", 0u);
        s.timely = c.value("timely", false);
        s.units = c.value("units", 0u);
        if (c.contains("extras"))
          for (const auto& [k, v] : c["extras"].items()) s.extras[k] = v.get<uint32_t>();
        d = p::DecideContractStart(hist.state, hist.catalog, s, now);
      } else if (op == "units") {
        d = p::DecideUnits(hist.state, c.at("units").get<uint32_t>(), c.at("from").get<uint32_t>(),
                           now);
      } else if (op == "end") {
        d = p::DecideContractEnd(hist.state, c.at("last").get<uint32_t>(), c.value("early", false),
                                 now);
      } else if (op == "log") {
        p::LogWork w;
        w.kind = c.at("kind").get<std::string>();
        w.minutes = c.value("minutes", int64_t{0});
        w.count = c.value("count", int64_t{0});
        w.at_us = local(c.at("at"));
        w.task = c.value("task", std::string("T"));
        w.staff = "staff";
        w.urgent = c.value("urgent", false);
        if (c.contains("off_hours") && !c["off_hours"].is_null())
          w.off_hours = c["off_hours"].get<bool>();
        w.late = c.value("late", false);
        w.emergency = c.value("emergency", false);
        d = p::DecideLog(hist.state, w, now);
        if (d.ok()) logged_seq = hist.seq + 1;
      } else if (op == "accept") {
        d = p::DecideAccept(hist.state, c.at("task").get<std::string>(), local(c.at("at")),
                            c.value("late", false), now);
      } else if (op == "buy") {
        p::BuyHours b;
        b.minutes = c.at("minutes").get<int64_t>();
        if (c.contains("price") && !c["price"].is_null()) b.price_minor = c["price"].get<int64_t>();
        if (c.contains("expires") && !c["expires"].is_null()) {
          // The last day the block can be used (YYYY-MM-DD): BuyHours::expires_day; the C++
          // computes its end by calendar arithmetic in the client's zone.
          const std::string day = c["expires"].get<std::string>();
          if (day.size() != 10) throw std::runtime_error("expires: YYYY-MM-DD");
          b.expires_day = std::stoi(day.substr(0, 4)) * 10000 + std::stoi(day.substr(5, 2)) * 100 +
                          std::stoi(day.substr(8, 2));
        }
        b.at_us = local(c.at("at"));
        d = p::DecideBuyHours(hist.state, b, now);
      } else if (op == "addon") {
        d = p::DecideBuyAddon(hist.state, c.at("addon").get<std::string>(),
                              c.at("month").get<uint32_t>(), local(c.at("at")), now);
      } else if (op == "void") {
        const size_t ref = c.at("ref").get<size_t>();
        const uint64_t seq = ref < entry_seq_of_cmd.size() ? entry_seq_of_cmd[ref] : 0;
        d = p::DecideVoid(hist.state, seq, "model test", now);
      } else if (op == "close") {
        d = p::DecideClose(hist.state, c.at("month").get<uint32_t>(), now);
      } else if (op == "pay") {
        d = p::DecidePay(hist.state, c.at("amount").get<int64_t>(), "model", local(c.at("at")),
                         now);
      }
      Status s = hist.Commit(false, std::move(d), now, client);
      entry_seq_of_cmd.push_back(s.ok() ? logged_seq : 0);
      json r;
      if (s.ok())
        r["ok"] = true;
      else
        r["refused"] = s.error().message;
      r["outstanding"] = hist.state.outstanding_minor();
      results.push_back(std::move(r));
    }
    out["results"] = std::move(results);
    json months = json::object();
    const uint32_t from = h.at("report").at(0).get<uint32_t>(),
                   to = h.at("report").at(1).get<uint32_t>();
    for (uint32_t m = from; m <= to; m = p::NextMonth(m)) {
      const p::MonthEval ev = hist.state.Evaluate(m);
      json j;
      j["in_contract"] = ev.in_contract;
      j["trial"] = ev.trial;
      j["closed"] = ev.closed;
      j["included"] = ev.included_minutes;
      j["allowance_used"] = ev.allowance_used_minutes;
      j["reserve_start"] = ev.reserve_start_minutes;
      j["reserve_used"] = ev.reserve_used_minutes;
      j["blocks_start"] = ev.blocks_start_minutes;
      j["block_used"] = ev.block_used_minutes;
      j["overage"] = ev.overage_minutes;
      j["unlimited"] = ev.unlimited_minutes;
      j["used"] = ev.used_minutes;
      j["carried"] = ev.carried_minutes;
      j["expired_allowance"] = ev.expired_allowance_minutes;
      j["expired_reserve"] = ev.expired_reserve_minutes;
      j["expired_block"] = ev.expired_block_minutes;
      j["reserve_end"] = ev.reserve_end_minutes;
      j["blocks_end"] = ev.blocks_end_minutes();
      json pools = json::object();
      for (const auto& [name, u] : ev.pools) pools[name] = json::array({u.quota, u.used});
      j["pools"] = std::move(pools);
      json lines = json::array();
      for (const p::InvoiceLine& l : ev.invoice.lines)
        lines.push_back(json::array({l.code, l.quantity, l.unit_price_minor, l.amount_minor}));
      j["lines"] = std::move(lines);
      j["total"] = ev.invoice.total_minor;
      months[std::to_string(m)] = std::move(j);
    }
    out["months"] = std::move(months);
    out["outstanding"] = hist.state.outstanding_minor();
    out["invoiced"] = hist.state.invoiced_closed_minor();
    out["paid"] = hist.state.paid_minor();
    json problems = json::array();
    for (const p::ReplayProblem& pr : hist.state.problems()) problems.push_back(pr.what);
    out["problems"] = std::move(problems);
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Runner runner;
  runner.plans_dir = argc > 1 ? argv[1] : HOURBANK_SOURCE_DIR;
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json out;
    try {
      out = runner.Run(json::parse(line));
    } catch (const std::exception& e) {
      out = json{{"error", std::string("bad history: ") + e.what()}};
    }
    std::cout << out.dump() << '\n' << std::flush;
  }
  return 0;
}
