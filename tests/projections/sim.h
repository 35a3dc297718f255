// A thin in-memory driver for scenario tests: decides with projections/decide.h, stamps seqs
// like the ledger would, and folds the events into ClientStates. No RocksDB, no disk.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "projections/decide.h"
#include "projections/plan.h"
#include "projections/state.h"
#include "projections/units.h"

namespace hourbank::testing {

using namespace hourbank::projections;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Sim {
 public:
  explicit Sim(ClientOptions options = {.retain_entries = true}) : options_(options) {}

  // Defines every plan in examples/plans/NAME.
  void DefineExample(const std::string& file) {
    const std::string path = std::string(HOURBANK_SOURCE_DIR) + "/examples/plans/" + file;
    auto plans = ParsePlans(ReadFile(path), path);
    REQUIRE(plans.ok());
    Must(kCatalogStream, DecidePlanDefine(catalog, plans.value(), now_us));
  }
  void DefineToml(const std::string& text) {
    auto plans = ParsePlans(text, "inline.toml");
    if (!plans.ok()) FAIL(plans.error().message);
    Must(kCatalogStream, DecidePlanDefine(catalog, plans.value(), now_us));
  }

  ClientState& client(const std::string& id) {
    auto it = clients.find(id);
    if (it == clients.end()) {
      it = clients.emplace(id, ClientState(options_)).first;
      it->second.set_id(id);
    }
    return it->second;
  }

  // Applies a decision's events to the stream; returns the error when refused.
  Status Commit(const std::string& stream, Result<Decision> decision) {
    if (!decision.ok()) return decision.error();
    for (ledger::EventDraft& d : decision.value().events) {
      auto root = d.root();
      root.setSeq(++seq);
      root.setClientId(stream);
      root.setRecordedAtUs(now_us);
      root.setActor("test");
      log[stream].push_back({seq, capnp::messageToFlatArray(d.message())});
      if (stream == kCatalogStream)
        catalog.Apply(seq, root.asReader());
      else
        client(stream).Apply(seq, root.asReader());
    }
    return Status::Ok();
  }
  void Must(const std::string& stream, Result<Decision> decision) {
    Status s = Commit(stream, std::move(decision));
    if (!s.ok()) FAIL(s.error().message);
  }

  // Convenience: Moscow wall time "2025-10-10T12:00" in the client's zone.
  int64_t At(const std::string& id, const std::string& local) {
    auto t = ParseTime(local, client(id).zone());
    REQUIRE(t.ok());
    return t.value();
  }

  void AddClient(const std::string& id, const std::string& currency,
                 const std::string& tz = "Europe/Moscow") {
    Must(id, DecideRegister(client(id), {id, "Client " + id, currency, tz}, now_us));
  }
  void Start(const std::string& id, StartContract cmd) {
    Must(id, DecideContractStart(client(id), catalog, cmd, now_us));
  }

  uint64_t LogHours(const std::string& id, const std::string& kind, int64_t minutes,
                    const std::string& at, const std::string& task = "T", bool urgent = false) {
    LogWork w;
    w.kind = kind;
    w.minutes = minutes;
    w.at_us = At(id, at);
    w.task = task;
    w.urgent = urgent;
    w.staff = "anna";
    Must(id, DecideLog(client(id), w, w.at_us + kHourUs));
    return seq;
  }
  uint64_t LogItems(const std::string& id, const std::string& kind, int64_t count,
                    const std::string& at, bool urgent = false,
                    std::optional<bool> off_hours = std::nullopt) {
    LogWork w;
    w.kind = kind;
    w.count = count;
    w.at_us = At(id, at);
    w.task = "I";
    w.urgent = urgent;
    w.off_hours = off_hours;
    w.staff = "boris";
    Must(id, DecideLog(client(id), w, w.at_us + kHourUs));
    return seq;
  }
  void Accept(const std::string& id, const std::string& task, const std::string& at) {
    Must(id, DecideAccept(client(id), task, At(id, at), false, now_us));
  }
  // Closes the month the day after it ends and, with auto_pay, pays its invoice at once (so
  // later work is not refused for debt; debt tests turn auto_pay off).
  void Close(const std::string& id, uint32_t month) {
    const int64_t at = client(id).zone().MonthEndUs(month) + kHourUs;
    Must(id, DecideClose(client(id), month, at));
    const int64_t total = client(id).InvoiceFor(month).total_minor;
    if (auto_pay && total > 0) Must(id, DecidePay(client(id), total, "auto", at, at));
  }
  static constexpr int64_t kHourUs = 3600LL * 1000000;
  bool auto_pay = true;

  Catalog catalog;
  std::map<std::string, ClientState> clients;
  // Every committed event per stream, as the ledger would store it (seq, flat bytes).
  std::map<std::string, std::vector<std::pair<uint64_t, kj::Array<capnp::word>>>> log;
  uint64_t seq = 0;
  int64_t now_us = 1893456000LL * 1000000;  // 2030-01-01: every test month has ended

 private:
  ClientOptions options_;
};

// The amount of the invoice line with this code (summed when several), 0 when absent.
inline int64_t LineAmount(const Invoice& inv, const std::string& code) {
  int64_t sum = 0;
  for (const InvoiceLine& l : inv.lines)
    if (l.code == code) sum += l.amount_minor;
  return sum;
}

}  // namespace hourbank::testing
