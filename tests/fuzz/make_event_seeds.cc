// Writes seed inputs for fuzz_event: the stored bytes of real events (a plan, a client, a
// contract, work, a close and a payment, decided by projections/decide.h and appended to a
// scratch ledger), framed as fuzz_event expects: (uint32 little-endian length, bytes)*.
// Usage: make_event_seeds OUT_DIR. Run by hand; its output is committed in corpus/event/.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "projections/decide.h"
#include "projections/plan.h"
#include "projections/state.h"

using namespace hourbank;
using namespace hourbank::projections;

namespace {

constexpr const char* kPlan = R"(
[[plan]]
id = "seed"
currency = "RUB"
fee_minor = 1000000
included_minutes = 600
rollover = "carry"
reserve_cap_minutes = 300
overage_rate_minor = 150000
[[plan.kinds]]
id = "support"
unit = "hour"
)";

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string out = argv[1];
  const std::string dir = "/tmp/hourbank-event-seeds";
  std::filesystem::remove_all(dir);
  ledger::Options o;
  o.create_if_missing = true;
  o.durability = ledger::Durability::kNoSync;
  auto log = Must(ledger::Log::Open(dir, o));
  const int64_t now = 4102444800LL * 1000000;
  Catalog catalog;
  ClientState st;
  st.set_id("acme");
  auto commit = [&](const std::string& stream, Decision d) {
    ledger::AppendRequest req;
    req.client_id = stream;
    for (auto& e : d.events) {
      e.root().setActor("seed");
      req.events.push_back(std::move(e));
    }
    auto r = Must(log->Append(std::move(req)));
    for (uint64_t s = r.first_seq; s < r.first_seq + r.count; ++s) {
      const std::string bytes = Must(log->Get(s));
      Must(Result<bool>(ledger::DecodeEvent(s, bytes, [&](schemas::Event::Reader e) {
                          if (stream == kCatalogStream)
                            catalog.Apply(s, e);
                          else
                            st.Apply(s, e);
                        }).ok()));
    }
  };
  commit(kCatalogStream,
         Must(DecidePlanDefine(catalog, Must(ParsePlans(kPlan, "seed.toml")), now)));
  commit("acme", Must(DecideRegister(st, {"acme", "Acme", "RUB", "Europe/Moscow"}, now)));
  StartContract c;
  c.plan_id = "seed";
  c.from_month = 202501;
  commit("acme", Must(DecideContractStart(st, catalog, c, now)));
  for (int i = 0; i < 3; ++i) {
    LogWork w;
    w.kind = "support";
    w.task = "T" + std::to_string(i);
    w.staff = "anna";
    w.minutes = 240;
    w.at_us = st.zone().MonthStartUs(202501) + (i + 1) * 86400000000LL;
    commit("acme", Must(DecideLog(st, w, now)));
  }
  commit("acme", Must(DecideClose(st, 202501, now)));
  commit("acme", Must(DecidePay(st, st.InvoiceFor(202501).total_minor, "seed", now, now)));

  auto frame = [&](uint64_t from, uint64_t to) {
    std::string buf;
    for (uint64_t s = from; s <= to; ++s) {
      const std::string bytes = Must(log->Get(s));
      const uint32_t len = static_cast<uint32_t>(bytes.size());
      buf.append(reinterpret_cast<const char*>(&len), 4);
      buf += bytes;
    }
    return buf;
  };
  const uint64_t head = log->head_seq();
  std::vector<std::pair<std::string, std::string>> files = {
      {"plan-only", frame(1, 1)}, {"setup", frame(1, 3)}, {"whole-month", frame(1, head)}};
  for (const auto& [name, bytes] : files) {
    std::ofstream f(out + "/" + name, std::ios::binary);
    f << bytes;
  }
  std::printf("%llu events, %zu seed files in %s\n", static_cast<unsigned long long>(head),
              files.size(), out.c_str());
  log.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
