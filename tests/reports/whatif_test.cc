// What-if replays (reports/whatif.h): on the client's own plan they reproduce the real invoices
// exactly; on another plan they match invoices worked out by hand from the price lists.
#include "reports/whatif.h"

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "sim.h"

using namespace hourbank;
using namespace hourbank::testing;
using reports::MakeWhatIf;
using reports::WhatIf;
using reports::WhatIfRequest;

namespace {

// The client's stream as the ledger stores it, read back (the Sim keeps the flat bytes).
struct Stream {
  std::vector<std::unique_ptr<capnp::FlatArrayMessageReader>> readers;
  std::vector<std::pair<uint64_t, schemas::Event::Reader>> events;
  Stream(Sim& s, const std::string& id) {
    for (auto& [seq, words] : s.log[id]) {
      readers.push_back(std::make_unique<capnp::FlatArrayMessageReader>(words.asPtr()));
      events.emplace_back(seq, readers.back()->getRoot<schemas::Event>());
    }
  }
};

WhatIfRequest On(Sim& s, const std::string& plan_id, uint32_t from, uint32_t to) {
  const Catalog::Version* v = s.catalog.Find(plan_id);
  REQUIRE(v != nullptr);
  return {.plan_id = plan_id,
          .plan_version = v->version,
          .plan_toml = v->spec_toml,
          .from_month = from,
          .to_month = to,
          .now_us = s.now_us};
}

// KIT option 1, 15 h a month, 2026-02 … 04 (minimum term 3 months): 25 h, 9 h, 15 h of support.
Sim Kit15() {
  Sim s;
  s.DefineExample("kit.toml");
  s.DefineExample("bpmonline.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-15", .from_month = 202602});
  s.LogHours("k", "support", 1500, "2026-02-10T12:00");
  s.Close("k", 202602);
  s.LogHours("k", "support", 540, "2026-03-10T12:00");
  s.Close("k", 202603);
  s.LogHours("k", "support", 900, "2026-04-10T12:00");
  s.Close("k", 202604);
  return s;
}

}  // namespace

TEST_CASE("what-if on the client's own plan equals the real invoices month by month (1C Start)",
          "[whatif]") {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  // The TARIFFS.md worked example: trial months, acceptance across a month end, carry, overage.
  s.LogHours("c1", "consultation", 150, "2025-10-10T12:00", "T1");
  s.Accept("c1", "T1", "2025-10-20T12:00");
  s.Close("c1", 202510);
  s.LogHours("c1", "development", 360, "2025-11-05T12:00", "T2");
  s.Accept("c1", "T2", "2025-11-06T12:00");
  s.Close("c1", 202511);
  s.LogHours("c1", "development", 180, "2025-12-03T12:00", "T3");
  s.Accept("c1", "T3", "2025-12-04T12:00");
  s.Close("c1", 202512);
  s.LogHours("c1", "development", 840, "2026-01-12T12:00", "T4");
  s.Accept("c1", "T4", "2026-01-20T12:00");
  s.LogHours("c1", "development", 60, "2026-01-30T12:00", "T6");
  s.Close("c1", 202601);
  s.Accept("c1", "T6", "2026-02-02T12:00");
  s.LogHours("c1", "consultation", 60, "2026-02-10T12:00", "T7");
  s.Accept("c1", "T7", "2026-02-11T12:00");
  s.Close("c1", 202602);
  s.LogHours("c1", "development", 1500, "2026-03-10T12:00", "T8");
  s.Accept("c1", "T8", "2026-03-11T12:00");  // March stays open: projected on both sides
  Stream stream(s, "c1");
  auto w = MakeWhatIf(stream.events, On(s, "1c-start", 202510, 202603));
  REQUIRE(w.ok());
  REQUIRE(w.value().months.size() == 6);
  // 5 000.00, 12 000.00, 20 000.00, 20 000.00, 20 000.00, 20 000 + 5 h × 2 000 = 30 000.00.
  const int64_t expected[] = {500000, 1200000, 2000000, 2000000, 2000000, 3000000};
  for (size_t i = 0; i < 6; ++i) {
    const auto& m = w.value().months[i];
    CHECK(m.billed_minor == s.client("c1").InvoiceFor(m.month).total_minor);
    CHECK(m.billed_minor == expected[i]);
    CHECK(m.whatif_minor == m.billed_minor);
    CHECK(m.whatif_lines == s.client("c1").InvoiceFor(m.month).lines);
  }
  CHECK(w.value().difference_minor == 0);
  CHECK(w.value().problems.empty());
}

TEST_CASE("what-if on the client's own plan equals the real invoices (KIT, with overage)",
          "[whatif]") {
  Sim s = Kit15();
  Stream stream(s, "k");
  auto w = MakeWhatIf(stream.events, On(s, "kit-hours-15", 0, 0));
  REQUIRE(w.ok());
  // Default range: the contract's first month to its last (2026-02 … 04; now is 2030).
  REQUIRE(w.value().months.size() == 3);
  // Fee "15 h × 2 550 = 38 250 RUB"; February 25 h − 15 h = 10 h × 2 550.00 = 25 500.00 beyond.
  CHECK(w.value().billed_total_minor == 3825000 + 2550000 + 3825000 + 3825000);
  CHECK(w.value().whatif_total_minor == w.value().billed_total_minor);
  CHECK(w.value().difference_minor == 0);
}

TEST_CASE(
    "what-if on a flat unlimited plan bills the fee only (KIT 15 h replayed on bpmonline Basic)",
    "[whatif]") {
  Sim s = Kit15();
  Stream stream(s, "k");
  auto w = MakeWhatIf(stream.events, On(s, "bpm-basic", 0, 0));
  REQUIRE(w.ok());
  REQUIRE(w.value().months.size() == 3);
  // bpm-basic: "Basic 24 000/month; unlimited requests": 24 000.00 a month whatever the hours.
  for (const auto& m : w.value().months) CHECK(m.whatif_minor == 2400000);
  // Billed: 63 750.00 + 38 250.00 + 38 250.00 = 140 250.00; what-if 72 000.00; 68 250.00 less.
  CHECK(w.value().billed_total_minor == 14025000);
  CHECK(w.value().whatif_total_minor == 7200000);
  CHECK(w.value().difference_minor == -6825000);
  CHECK(w.value().problems.empty());
}

TEST_CASE("what-if on a bigger package moves overage into the fee (KIT 15 h replayed on KIT 25 h)",
          "[whatif]") {
  Sim s = Kit15();
  Stream stream(s, "k");
  auto w = MakeWhatIf(stream.events, On(s, "kit-hours-25", 202602, 202603));
  REQUIRE(w.ok());
  REQUIRE(w.value().months.size() == 2);
  // kit-hours-25: fee 25 h × 2 550.00 = 63 750.00; February's 25 h fit exactly: no overage.
  CHECK(w.value().months[0].whatif_minor == 6375000);
  CHECK(w.value().months[0].billed_minor == 6375000);  // 38 250 + 25 500 on 15 h
  CHECK(w.value().months[1].whatif_minor == 6375000);
  CHECK(w.value().months[1].billed_minor == 3825000);
  CHECK(w.value().difference_minor == 2550000);
}

TEST_CASE("what-if leaves the real state as it was and refuses a plan in another currency",
          "[whatif]") {
  Sim s = Kit15();
  s.DefineExample("altercpa.toml");
  const uint32_t version = s.client("k").version();
  Stream stream(s, "k");
  auto w = MakeWhatIf(stream.events, On(s, "altercpa-basic", 0, 0));
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code == Code::kInvalid);
  CHECK(w.error().message.find("USD") != std::string::npos);
  CHECK(s.client("k").version() == version);
  CHECK(s.log["k"].size() == version);
}

TEST_CASE("what-if refuses a reversed or too long month range", "[whatif]") {
  Sim s = Kit15();
  Stream stream(s, "k");
  CHECK_FALSE(MakeWhatIf(stream.events, On(s, "kit-hours-15", 202604, 202602)).ok());
  CHECK_FALSE(MakeWhatIf(stream.events, On(s, "kit-hours-15", 202001, 203001)).ok());
}
