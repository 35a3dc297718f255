// Scenario tests: each price list run through at least four months, every figure worked out by
// hand from ../shared/TARIFFS.md (arithmetic in the comments). Money in minor units.
#include "sim.h"

using namespace hourbank;
using namespace hourbank::projections;
using hourbank::testing::LineAmount;
using hourbank::testing::Sim;

// ---------------------------------------------------------------------------------------
// 1C Start: 20 000/month, 10 h included, carry into a reserve capped at 10 h, 2 000/h beyond,
// two trial months, billed on acceptance. The TARIFFS.md worked example, month by month.

namespace {
Sim OneCStartThroughMarch(ClientOptions options = {.retain_entries = true}) {
  Sim s(options);
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  // 2025-10 (trial): 2h30m accepted.
  s.LogHours("c1", "consultation", 150, "2025-10-10T12:00", "T1");
  s.Accept("c1", "T1", "2025-10-20T12:00");
  s.Close("c1", 202510);
  // 2025-11 (trial): 6h accepted.
  s.LogHours("c1", "development", 360, "2025-11-05T12:00", "T2");
  s.Accept("c1", "T2", "2025-11-06T12:00");
  s.Close("c1", 202511);
  // 2025-12: 3h.
  s.LogHours("c1", "development", 180, "2025-12-03T12:00", "T3");
  s.Accept("c1", "T3", "2025-12-04T12:00");
  s.Close("c1", 202512);
  // 2026-01: 14h accepted; T6 (1h) logged 30 Jan, accepted 2 Feb.
  s.LogHours("c1", "development", 600, "2026-01-12T12:00", "T4");
  s.LogHours("c1", "update", 240, "2026-01-13T12:00", "T5");
  s.Accept("c1", "T4", "2026-01-20T12:00");
  s.Accept("c1", "T5", "2026-01-21T12:00");
  s.LogHours("c1", "development", 60, "2026-01-30T12:00", "T6");
  s.Close("c1", 202601);
  // 2026-02: 1h + T6.
  s.Accept("c1", "T6", "2026-02-02T12:00");
  s.LogHours("c1", "consultation", 60, "2026-02-10T12:00", "T7");
  s.Accept("c1", "T7", "2026-02-11T12:00");
  s.Close("c1", 202602);
  // 2026-03: 25h.
  s.LogHours("c1", "development", 1500, "2026-03-10T12:00", "T8");
  s.Accept("c1", "T8", "2026-03-11T12:00");
  s.Close("c1", 202603);
  return s;
}
}  // namespace

TEST_CASE("1C Start trial months bill every accepted hour at 2000 and charge no fee",
          "[scenario][1c]") {
  Sim s = OneCStartThroughMarch();
  auto& c = s.client("c1");
  // 2025-10: 2.5 h × 2 000.00 = 5 000.00; no fee, no allowance.
  Invoice oct = c.InvoiceFor(202510);
  CHECK(oct.total_minor == 500000);
  CHECK(LineAmount(oct, "fee") == 0);
  CHECK(c.Evaluate(202510).included_minutes == 0);
  // 2025-11: 6 h × 2 000.00 = 12 000.00.
  CHECK(c.InvoiceFor(202511).total_minor == 1200000);
}

TEST_CASE("1C Start carries unused hours into the reserve after the trial", "[scenario][1c]") {
  Sim s = OneCStartThroughMarch();
  auto dec = s.client("c1").Evaluate(202512);
  // 10 h included − 3 h used = 7 h carried; reserve 0 + 7 = 7 h; fee 20 000.00.
  CHECK(dec.allowance_used_minutes == 180);
  CHECK(dec.carried_minutes == 420);
  CHECK(dec.reserve_end_minutes == 420);
  CHECK(dec.invoice.total_minor == 2000000);
}

TEST_CASE("1C Start draws the reserve after the allowance and counts work in its acceptance month",
          "[scenario][1c]") {
  Sim s = OneCStartThroughMarch();
  auto jan = s.client("c1").Evaluate(202601);
  // 14 h accepted in January (T6 is accepted in February): allowance 10 h, reserve 4 h of 7 h.
  CHECK(jan.used_minutes == 840);
  CHECK(jan.allowance_used_minutes == 600);
  CHECK(jan.reserve_used_minutes == 240);
  CHECK(jan.reserve_end_minutes == 180);  // 7 − 4 = 3 h
  CHECK(jan.carried_minutes == 0);
  CHECK(jan.invoice.total_minor == 2000000);
}

TEST_CASE("1C Start expires what exceeds the 10 hour reserve cap", "[scenario][1c]") {
  Sim s = OneCStartThroughMarch();
  auto feb = s.client("c1").Evaluate(202602);
  // T6 (1 h, accepted 2 Feb) + T7 1 h = 2 h; 8 h unused; reserve 3 h + 7 h = 10 h (cap); 1 h
  // expires.
  CHECK(feb.used_minutes == 120);
  CHECK(feb.carried_minutes == 420);
  CHECK(feb.expired_allowance_minutes == 60);
  CHECK(feb.reserve_end_minutes == 600);
  CHECK(feb.invoice.total_minor == 2000000);
}

TEST_CASE("1C Start bills hours beyond allowance and a full reserve as overage", "[scenario][1c]") {
  Sim s = OneCStartThroughMarch();
  auto mar = s.client("c1").Evaluate(202603);
  // 25 h: allowance 10 h, reserve 10 h, overage 5 h × 2 000.00 = 10 000.00; total 30 000.00.
  CHECK(mar.allowance_used_minutes == 600);
  CHECK(mar.reserve_used_minutes == 600);
  CHECK(mar.overage_minutes == 300);
  CHECK(LineAmount(mar.invoice, "overage") == 1000000);
  CHECK(mar.invoice.total_minor == 3000000);
  CHECK(s.client("c1").problems().empty());
}

TEST_CASE("1C Start work waiting for acceptance is not billed", "[scenario][1c]") {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  s.LogHours("c1", "development", 120, "2025-10-10T12:00", "X");
  CHECK(s.client("c1").InvoiceFor(202510).total_minor == 0);
  CHECK(s.client("c1").PendingForTask("X").size() == 1);
}

TEST_CASE("the reserve expires with the last month of the contract", "[scenario][1c]") {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  // Four months: two trial, then two paid; nothing worked in the paid months.
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 4});
  for (uint32_t m : {202510u, 202511u, 202512u}) s.Close("c1", m);
  auto jan = s.client("c1").Evaluate(202601);
  // 2025-12 carried 10 h into the reserve; January is the last month: 10 h unused allowance
  // cannot carry past a full reserve (cap 10 h) and expire, and the reserve's 10 h expire too.
  CHECK(jan.reserve_start_minutes == 600);
  CHECK(jan.expired_allowance_minutes == 600);
  CHECK(jan.expired_reserve_minutes == 600);
  s.Close("c1", 202601);
  CHECK(s.client("c1").problems().empty());
}

// ---------------------------------------------------------------------------------------
// AlterCPA (USD, cents): quotas, one-off prices, surcharges.

TEST_CASE("AlterCPA Basic worked example invoices 898.00", "[scenario][altercpa]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a1", "USD");
  s.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202603, .term_months = 0});
  // 2026-03-03 is a Tuesday, 03-02 a Monday, 03-04 a Wednesday (Moscow time).
  s.LogItems("a1", "complex_integration", 1, "2026-03-03T11:00");        // one-off 50.00
  s.LogItems("a1", "complex_integration", 1, "2026-03-03T11:00", true);  // urgent: 3 × 50 = 150.00
  s.LogItems("a1", "simple_integration", 1, "2026-03-03T11:00", true);  // slot + (3−1) × 15 = 30.00
  s.LogItems("a1", "site_link", 22, "2026-03-02T15:00");                // 20 slots + 2 × 9 = 18.00
  s.LogItems("a1", "emergency", 1, "2026-03-04T20:00");  // off-hours own price 150.00
  Invoice inv = s.client("a1").InvoiceFor(202603);
  // 500 + 50 + 150 + 30 + 18 + 150 = 898.00
  CHECK(LineAmount(inv, "fee") == 50000);
  CHECK(LineAmount(inv, "surcharge") == 3000);
  CHECK(LineAmount(inv, "task") == 5000 + 15000 + 1800 + 15000);
  CHECK(inv.total_minor == 89800);
  auto ev = s.client("a1").Evaluate(202603);
  CHECK(ev.pools.at("site").used == 20);
  CHECK(ev.pools.at("simple_integration").used == 1);
}

TEST_CASE("AlterCPA urgent work outside working hours takes the larger multiplier, not both",
          "[scenario][altercpa]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a1", "USD");
  s.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202603});
  // Saturday 2026-03-07: off-hours (2×) and urgent (3×) → 3 × 50.00 = 150.00, not 300.00.
  s.LogItems("a1", "complex_integration", 1, "2026-03-07T12:00", true);
  CHECK(LineAmount(s.client("a1").InvoiceFor(202603), "task") == 15000);
}

TEST_CASE("AlterCPA off-hours work within quota pays a surcharge of one price",
          "[scenario][altercpa]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a1", "USD");
  s.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202603});
  // Sunday 2026-03-08: a site from the archive within quota: (2 − 1) × 6.00 = 6.00 surcharge.
  s.LogItems("a1", "site_archive", 1, "2026-03-08T12:00");
  auto inv = s.client("a1").InvoiceFor(202603);
  CHECK(LineAmount(inv, "surcharge") == 600);
  CHECK(inv.total_minor == 50000 + 600);
}

TEST_CASE("AlterCPA Basic runs four months: slots expire and do not carry",
          "[scenario][altercpa]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a1", "USD");
  s.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202603});
  s.LogItems("a1", "site_link", 22, "2026-03-02T15:00");
  s.Close("a1", 202603);
  // March: 20 site slots used, 0 left; 20 simple integrations and 20 offers unused expire.
  const RecordedClose rc = s.client("a1").recorded_close(202603).value();
  CHECK(rc.slots_expired.count("site") == 0);
  CHECK(rc.slots_expired.at("offer") == 20);
  CHECK(rc.slots_expired.at("simple_integration") == 20);
  // April: quotas start again at 20; 5 sites use 5 slots.
  s.LogItems("a1", "site_archive", 5, "2026-04-07T12:00");
  auto apr = s.client("a1").Evaluate(202604);
  CHECK(apr.pools.at("site").quota == 20);
  CHECK(apr.pools.at("site").used == 5);
  CHECK(apr.invoice.total_minor == 50000);
  s.Close("a1", 202604);
  s.Close("a1", 202605);
  s.LogItems("a1", "standard_integration", 2, "2026-06-09T12:00");  // one-off 2 × 25.00
  CHECK(s.client("a1").InvoiceFor(202606).total_minor == 50000 + 5000);
  s.Close("a1", 202606);
  // Invoices: 518.00 + 500.00 + 500.00 + 550.00 = 2068.00, each paid at its close.
  CHECK(s.client("a1").invoiced_closed_minor() == 51800 + 50000 + 50000 + 55000);
  CHECK(s.client("a1").outstanding_minor() == 0);
  CHECK(s.client("a1").problems().empty());
}

TEST_CASE("AlterCPA Constructor shares one add-on pool between offers and simple integrations",
          "[scenario][altercpa]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a2", "USD");
  s.Start("a2", {.plan_id = "altercpa-constructor", .from_month = 202603});
  s.Must("a2", DecideBuyAddon(s.client("a2"), "altercpa-offers-simple-40", 202603,
                              s.At("a2", "2026-03-02T10:00"), s.now_us));
  s.LogItems("a2", "simple_integration", 45, "2026-03-03T11:00");  // 40 own pool + 5 shared
  s.LogItems("a2", "api_offer", 40, "2026-03-03T11:00");           // 40 own pool (offer)
  s.LogItems("a2", "external_offer", 36,
             "2026-03-03T11:00");  // 35 shared (40 − 5), 1 one-off 15.00
  auto ev = s.client("a2").Evaluate(202603);
  CHECK(ev.pools.at("simple_integration").used == 40);
  CHECK(ev.pools.at("offer").used == 40);
  CHECK(ev.pools.at("altercpa-offers-simple-40").used == 40);
  // 500.00 fee + 200.00 add-on + 15.00 one-off external offer = 715.00
  CHECK(LineAmount(ev.invoice, "addon") == 20000);
  CHECK(LineAmount(ev.invoice, "task") == 1500);
  CHECK(ev.invoice.total_minor == 71500);
}

TEST_CASE("AlterCPA Constructor sites come only from the sites add-on", "[scenario][altercpa]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a2", "USD");
  s.Start("a2", {.plan_id = "altercpa-constructor", .from_month = 202603});
  s.LogItems("a2", "site_link", 1, "2026-03-03T11:00");  // no site quota: one-off 9.00
  s.Must("a2", DecideBuyAddon(s.client("a2"), "altercpa-sites-40", 202603,
                              s.At("a2", "2026-03-04T10:00"), s.now_us));
  s.LogItems("a2", "site_link", 3, "2026-03-05T11:00");  // the add-on raised pool site to 40: slots
  auto ev = s.client("a2").Evaluate(202603);
  // Draws are in log order: the first site came before the add-on was counted? No: add-on
  // slots belong to the month, so all 4 sites fit in the 40 slots: 500.00 + 200.00 = 700.00.
  CHECK(ev.pools.at("site").quota == 40);
  CHECK(ev.pools.at("site").used == 4);
  CHECK(ev.invoice.total_minor == 70000);
}

// ---------------------------------------------------------------------------------------
// AGBIS (RUB): per-licence volume tiers, compounding discounts rounded once.

TEST_CASE("AGBIS 10 licences on a 3-month contract cost 17 400.00 a month", "[scenario][agbis]") {
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g1", "RUB");
  s.Start("g1", {.plan_id = "agbis", .from_month = 202601, .term_months = 3, .units = 10});
  // Tier 8–11: 1740 × 10 = 17 400.00
  for (uint32_t m : {202601u, 202602u, 202603u})
    CHECK(s.client("g1").InvoiceFor(m).total_minor == 1740000);
}

TEST_CASE("AGBIS 151 licences cost less than 150", "[scenario][agbis]") {
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g1", "RUB");
  s.AddClient("g2", "RUB");
  s.Start("g1", {.plan_id = "agbis", .from_month = 202601, .term_months = 3, .units = 150});
  s.Start("g2", {.plan_id = "agbis", .from_month = 202601, .term_months = 3, .units = 151});
  // 150 × 420 = 63 000.00; 151 × 408 = 61 608.00
  CHECK(s.client("g1").InvoiceFor(202601).total_minor == 6300000);
  CHECK(s.client("g2").InvoiceFor(202601).total_minor == 6160800);
}

TEST_CASE("AGBIS discounts compound on the unrounded price and round once, as the price list shows",
          "[scenario][agbis]") {
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g1", "RUB");
  s.AddClient("g2", "RUB");
  s.AddClient("g3", "RUB");
  // 1–3 licences, 6 months prepaid, timely: 4440 × 0.93 × 0.8 = 3303.36 → 3303 per licence.
  s.Start("g1", {.plan_id = "agbis",
                 .from_month = 202601,
                 .term_months = 6,
                 .prepaid_months = 6,
                 .timely = true,
                 .units = 2});
  CHECK(s.client("g1").InvoiceFor(202601).total_minor == 2 * 330300);
  // 16–20 licences, 12 months prepaid, timely: 1320 × 0.8 × 0.8 = 844.8 → 845 per licence.
  s.Start("g2", {.plan_id = "agbis",
                 .from_month = 202601,
                 .term_months = 12,
                 .prepaid_months = 12,
                 .timely = true,
                 .units = 18});
  CHECK(s.client("g2").InvoiceFor(202601).total_minor == 18 * 84500);
  // 10 licences, 6 months prepaid, timely: 1740 × 0.93 × 0.8 = 1294.56 → 1295; 12 950.00.
  s.Start("g3", {.plan_id = "agbis",
                 .from_month = 202601,
                 .term_months = 6,
                 .prepaid_months = 6,
                 .timely = true,
                 .units = 10});
  auto inv = s.client("g3").InvoiceFor(202601);
  CHECK(inv.total_minor == 1295000);
  CHECK(LineAmount(inv, "fee") == 1740000);
  CHECK(LineAmount(inv, "discount") == -(1740000 - 1295000));
}

TEST_CASE("AGBIS recalculates the fee every month from the licences installed",
          "[scenario][agbis]") {
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g1", "RUB");
  s.Start("g1", {.plan_id = "agbis",
                 .from_month = 202601,
                 .term_months = 6,
                 .prepaid_months = 6,
                 .timely = true,
                 .units = 10,
                 .extras = {{"extra_contact", 2}}});
  s.Must("g1", DecideUnits(s.client("g1"), 16, 202603, s.now_us));
  // Jan, Feb: 10 × 1295 = 12 950.00 + 2 extra contacts × 1 000.00 = 14 950.00
  // Mar, Apr: 16 licences, tier 16–20: 1320 × 0.93 × 0.8 = 982.08 → 982; 16 × 982 = 15 712.00 + 2
  // 000.00
  for (uint32_t m : {202601u, 202602u}) {
    CHECK(s.client("g1").InvoiceFor(m).total_minor == 1495000);
    s.Close("g1", m);
  }
  for (uint32_t m : {202603u, 202604u}) {
    CHECK(s.client("g1").InvoiceFor(m).total_minor == 1571200 + 200000);
    s.Close("g1", m);
  }
  CHECK(LineAmount(s.client("g1").InvoiceFor(202603), "extra") == 200000);
  CHECK(s.client("g1").problems().empty());
}

// ---------------------------------------------------------------------------------------
// KIT (RUB): burning packages, never-burning blocks.

TEST_CASE("KIT 15 hour package burns what is unused at month end", "[scenario][kit]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k1", "RUB");
  s.Start("k1", {.plan_id = "kit-hours-15", .from_month = 202601, .term_months = 3});
  s.LogHours("k1", "support", 540, "2026-01-14T12:00");  // 9 h
  auto jan = s.client("k1").Evaluate(202601);
  // 15 h − 9 h = 6 h expire, nothing carried.
  CHECK(jan.expired_allowance_minutes == 360);
  CHECK(jan.carried_minutes == 0);
  s.Close("k1", 202601);
  auto feb = s.client("k1").Evaluate(202602);
  CHECK(feb.reserve_start_minutes == 0);
  CHECK(feb.included_minutes == 900);
}

TEST_CASE("KIT prepaid block never burns and runs into overage in the third month",
          "[scenario][kit]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k2", "RUB");
  s.Start("k2", {.plan_id = "kit-prepaid", .from_month = 202601});
  s.Must("k2",
         DecideBuyHours(
             s.client("k2"),
             {.minutes = 3000, .price_minor = 10000000, .at_us = s.At("k2", "2026-01-05T10:00")},
             s.now_us));
  const uint64_t block = s.seq;
  s.LogHours("k2", "support", 1200, "2026-01-14T12:00");  // 20 h
  s.Close("k2", 202601);
  s.LogHours("k2", "development", 1200, "2026-02-14T12:00");  // 20 h
  s.Close("k2", 202602);
  s.LogHours("k2", "consultation", 900, "2026-03-14T12:00");  // 15 h
  auto mar = s.client("k2").Evaluate(202603);
  // 50 h − 20 − 20 = 10 h left: March draws 10 h from the block and 5 h are overage.
  CHECK(mar.block_used_minutes == 600);
  CHECK(mar.overage_minutes == 300);
  // kit-prepaid: "hours beyond the blocks are billed at 2 550 RUB/h" (overage_rate_minor = 255000):
  // 5 h × 2 550.00 = 12 750.00.
  CHECK(LineAmount(mar.invoice, "overage") == 1275000);
  CHECK(mar.expired_minutes() == 0);
  s.Close("k2", 202603);
  s.Close("k2", 202604);
  CHECK(s.client("k2").Evaluate(202601).expired_minutes() == 0);
  CHECK(s.client("k2").Evaluate(202602).expired_minutes() == 0);
  CHECK(s.client("k2").InvoiceFor(202601).total_minor == 10000000);  // the block itself
  (void)block;
  CHECK(s.client("k2").problems().empty());
}

TEST_CASE("a prepaid block with an expiry date expires its remainder at that month's close",
          "[scenario][kit]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k2", "RUB");
  s.Start("k2", {.plan_id = "kit-prepaid", .from_month = 202601});
  s.Must("k2", DecideBuyHours(s.client("k2"),
                              {.minutes = 600,
                               .price_minor = 100,
                               .expires_at_us = s.At("k2", "2026-02-15T00:00"),
                               .at_us = s.At("k2", "2026-01-05T10:00")},
                              s.now_us));
  s.LogHours("k2", "support", 120, "2026-01-14T12:00");
  s.Close("k2", 202601);
  auto feb = s.client("k2").Evaluate(202602);
  // 10 h − 2 h = 8 h left; the block expires in February: 8 h expire at its close.
  CHECK(feb.expired_block_minutes == 480);
  s.Close("k2", 202602);
  CHECK(s.client("k2").Evaluate(202603).block_used_minutes == 0);
  CHECK(s.client("k2").problems().empty());
}

TEST_CASE("a block is drawn after the allowance, soonest-expiring first", "[scenario][kit]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k3", "RUB");
  s.Start("k3", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  s.Must("k3", DecideBuyHours(
                   s.client("k3"),
                   {.minutes = 600, .price_minor = 100, .at_us = s.At("k3", "2026-01-02T10:00")},
                   s.now_us));
  const uint64_t never = s.seq;
  s.Must("k3", DecideBuyHours(s.client("k3"),
                              {.minutes = 600,
                               .price_minor = 100,
                               .expires_at_us = s.At("k3", "2026-06-01"),
                               .at_us = s.At("k3", "2026-01-02T10:00")},
                              s.now_us));
  const uint64_t expiring = s.seq;
  s.LogHours("k3", "support", 720,
             "2026-01-14T12:00");  // 12 h: 10 h allowance, 2 h from the expiring block
  auto entries = s.client("k3").EntriesFor(202601);
  REQUIRE(entries.size() == 1);
  REQUIRE(entries[0].charges.size() == 2);
  CHECK(entries[0].charges[1].block_seq == expiring);
  CHECK(entries[0].charges[1].minutes == 120);
  (void)never;
}

// ---------------------------------------------------------------------------------------
// bpmonline (RUB): flat fees, unlimited hours.

TEST_CASE("bpmonline Business bills its flat fee for four months whatever the hours",
          "[scenario][bpm]") {
  Sim s;
  s.DefineExample("bpmonline.toml");
  s.AddClient("b1", "RUB");
  s.Start("b1", {.plan_id = "bpm-business", .from_month = 202601, .term_months = 12});
  s.LogHours("b1", "support", 6000, "2026-01-14T12:00");  // 100 h: unlimited
  s.auto_pay = false;
  for (uint32_t m : {202601u, 202602u, 202603u, 202604u}) {
    auto ev = s.client("b1").Evaluate(m);
    CHECK(ev.invoice.total_minor == 8900000);  // 89 000.00
    CHECK(ev.overage_minutes == 0);
    s.Close("b1", m);
  }
  CHECK(s.client("b1").Evaluate(202601).unlimited_minutes == 6000);
  CHECK(s.client("b1").outstanding_minor() == 4 * 8900000);
}

TEST_CASE("bpmonline refuses a contract shorter than the one-year minimum", "[scenario][bpm]") {
  Sim s;
  s.DefineExample("bpmonline.toml");
  s.AddClient("b1", "RUB");
  auto r = DecideContractStart(s.client("b1"), s.catalog,
                               {.plan_id = "bpm-basic", .from_month = 202601, .term_months = 3},
                               s.now_us);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("minimum term of 12") != std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Rules across plans.

TEST_CASE("a price list change does not touch an existing contract", "[scenario][versions]") {
  Sim s;
  s.DefineToml("[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\nfee_minor = 100000\n");
  s.AddClient("x", "RUB");
  s.Start("x", {.plan_id = "p", .from_month = 202601});
  s.DefineToml("[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\nfee_minor = 150000\n");
  CHECK(s.catalog.Find("p")->version == 2);
  s.AddClient("y", "RUB");
  s.Start("y", {.plan_id = "p", .from_month = 202601});
  CHECK(s.client("x").InvoiceFor(202601).total_minor == 100000);  // pinned v1
  CHECK(s.client("y").InvoiceFor(202601).total_minor == 150000);  // signed on v2
}

TEST_CASE("defining the same plan twice makes no new version", "[scenario][versions]") {
  Sim s;
  s.DefineExample("kit.toml");
  const uint64_t before = s.seq;
  s.DefineExample("kit.toml");
  CHECK(s.seq == before);
}

TEST_CASE("work in a closed month is refused unless booked late into the first open month",
          "[scenario][locked]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  s.Close("k", 202601);
  LogWork w{.kind = "support", .task = "L", .minutes = 60, .at_us = s.At("k", "2026-01-20T12:00")};
  auto refused = DecideLog(s.client("k"), w, s.now_us);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("--late") != std::string::npos);
  w.late = true;
  s.Must("k", DecideLog(s.client("k"), w, s.now_us));
  // Counted in February, the first open month.
  CHECK(s.client("k").Evaluate(202602).used_minutes == 60);
  CHECK(s.client("k").Evaluate(202601).used_minutes == 0);
}

TEST_CASE("voiding an entry of an open month gives its hours back", "[scenario][void]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  const uint64_t e = s.LogHours("k", "support", 720, "2026-01-14T12:00");
  CHECK(s.client("k").Evaluate(202601).overage_minutes == 120);
  s.Must("k", DecideVoid(s.client("k"), e, "logged twice", s.now_us));
  auto jan = s.client("k").Evaluate(202601);
  CHECK(jan.used_minutes == 0);
  CHECK(jan.overage_minutes == 0);
}

TEST_CASE("a voided entry of an open month is no longer among the month's entries",
          "[scenario][void]") {
  // What the report, the statement and the emergency-debt rule list: two entries logged, one
  // voided, one left (the month's evaluation skips voided entries on its own; this is the list).
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  const uint64_t kept = s.LogHours("k", "support", 60, "2026-01-14T12:00");
  const uint64_t wrong = s.LogHours("k", "support", 90, "2026-01-15T12:00");
  REQUIRE(s.client("k").EntriesFor(202601).size() == 2);
  s.Must("k", DecideVoid(s.client("k"), wrong, "logged twice", s.now_us));
  const auto entries = s.client("k").EntriesFor(202601);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].seq == kept);
}

TEST_CASE("voiding an entry of a closed month credits what it was billed in the first open month",
          "[scenario][void]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a", "USD");
  s.Start("a", {.plan_id = "altercpa-basic", .from_month = 202603});
  const uint64_t e = s.LogItems("a", "site_layout", 1, "2026-03-03T11:00");  // one-off 250.00
  s.Close("a", 202603);
  s.Must("a", DecideVoid(s.client("a"), e, "client cancelled", s.now_us));
  auto apr = s.client("a").InvoiceFor(202604);
  CHECK(LineAmount(apr, "credit") == -25000);
  CHECK(apr.total_minor == 50000 - 25000);
  CHECK(s.client("a").InvoiceFor(202603).total_minor == 50000 + 25000);  // frozen
}

TEST_CASE("months close in order, only after they end, and closing twice is a no-op",
          "[scenario][close]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  auto skip = DecideClose(s.client("k"), 202602, s.now_us);
  REQUIRE_FALSE(skip.ok());
  CHECK(skip.error().message.find("close 2026-01 first") != std::string::npos);
  auto early = DecideClose(s.client("k"), 202601, s.At("k", "2026-01-31T23:59"));
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().message.find("has not ended") != std::string::npos);
  s.Close("k", 202601);
  const uint64_t before = s.seq;
  auto again = DecideClose(s.client("k"), 202601, s.now_us);
  REQUIRE(again.ok());
  CHECK(again.value().events.empty());
  CHECK(s.seq == before);
}

TEST_CASE("an unpaid invoice blocks the client after the grace days, emergency work still goes in",
          "[scenario][debt]") {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a", "USD");
  s.Start("a", {.plan_id = "altercpa-basic", .from_month = 202603});
  s.auto_pay = false;
  s.Close("a", 202603);
  auto& c = s.client("a");
  // altercpa-basic: grace_days = 0, "Услуги оказываются по предоплате" (services are prepaid),
  // so the March invoice is overdue from the first instant of April in the client's zone.
  const int64_t due = s.At("a", "2026-04-01T00:00");
  CHECK_FALSE(c.BlockedAt(due - 1));
  CHECK(c.BlockedAt(due));
  LogWork w{.kind = "site_link", .count = 1, .at_us = due + 1000};
  auto refused = DecideLog(c, w, due + 2000);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("blocked") != std::string::npos);
  w.emergency = true;
  s.Must("a", DecideLog(s.client("a"), w, due + 2000));
  s.Must("a", DecidePay(s.client("a"), 50000, "wire 1", due + 3000, due + 3000));
  // The emergency, at 00:00 on 1 April, is off hours: a site by link in quota with the off-hours
  // surcharge (2 − 1) × 9.00 = 9.00, done without prepayment, so a debt at once (debt_blocking =
  // "prepaid"). Paying March's 500.00 leaves it unpaid behind April's prepaid fee: still
  // blocked. Paying April's 500.00 + 9.00 lifts the block.
  CHECK(s.client("a").BlockedAt(due + 4000));
  CHECK(s.client("a").BlockingDebtMinor(due + 4000) == 900);
  s.Must("a", DecidePay(s.client("a"), 50900, "wire 2", due + 5000, due + 5000));
  CHECK_FALSE(s.client("a").BlockedAt(due + 6000));
}

TEST_CASE("hour buckets balance for every closed month", "[scenario][property]") {
  // included + reserve_in + blocks_in = used_from_buckets + carried + expired + reserve_out +
  // blocks_out
  Sim s = OneCStartThroughMarch();
  auto& c = s.client("c1");
  for (uint32_t m = 202510; m <= 202603; m = NextMonth(m)) {
    auto ev = c.Evaluate(m);
    int64_t blocks_in = 0, blocks_out = 0;
    (void)blocks_in;
    for (const auto& b : ev.blocks_end) blocks_out += b.left_minutes;
    const int64_t lhs = ev.included_minutes + ev.reserve_start_minutes;
    const int64_t rhs = ev.allowance_used_minutes + ev.reserve_used_minutes +
                        ev.expired_allowance_minutes + ev.expired_reserve_minutes +
                        ev.reserve_end_minutes;
    INFO(FormatMonth(m));
    CHECK(lhs == rhs);
    CHECK(blocks_out == 0);
  }
}

TEST_CASE("an invoice total equals the sum of its lines", "[scenario][property]") {
  Sim s = OneCStartThroughMarch();
  for (uint32_t m = 202510; m <= 202603; m = NextMonth(m)) {
    auto inv = s.client("c1").InvoiceFor(m);
    int64_t sum = 0;
    for (const auto& l : inv.lines) sum += l.amount_minor;
    CHECK(sum == inv.total_minor);
  }
}

TEST_CASE("state folded without retained entries gives the same figures", "[scenario][property]") {
  // The lean fold (used for whole-ledger rebuilds) drops closed months' entries; every figure
  // must still equal the full fold's.
  Sim full = OneCStartThroughMarch({.retain_entries = true});
  Sim lean = OneCStartThroughMarch({.retain_entries = false});
  for (uint32_t m = 202510; m <= 202603; m = NextMonth(m)) {
    auto a = full.client("c1").Evaluate(m);
    auto b = lean.client("c1").Evaluate(m);
    INFO(FormatMonth(m));
    CHECK(a.invoice.lines == b.invoice.lines);
    CHECK(a.used_minutes == b.used_minutes);
    CHECK(a.carried_minutes == b.carried_minutes);
    CHECK(a.expired_minutes() == b.expired_minutes());
    CHECK(a.reserve_end_minutes == b.reserve_end_minutes);
  }
}

TEST_CASE("events with out-of-range months or terms are replay problems, not arithmetic",
          "[scenario][replay]") {
  // fuzz_event found a ContractStarted with a term of ~4 billion months: `term - 1` overflowed
  // a signed int on replay (UBSan). No decide function writes such values, but a replay must
  // survive whatever bytes are stored: each event below is recorded as a problem and skipped.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  const std::string spec = s.catalog.Find("kit-hours-10")->spec_toml;
  auto craft = [&](auto fill) {
    Decision d;
    ledger::EventDraft draft;
    draft.root().setEffectiveAtUs(s.At("k", "2026-01-01"));
    fill(draft.root().initBody());
    d.events.push_back(std::move(draft));
    return Result<Decision>(std::move(d));
  };
  const size_t before = s.client("k").problems().size();
  s.Must("k", craft([&](auto body) {
           auto c = body.initContractStarted();
           c.setPlanId("kit-hours-10");
           c.setPlanSpecToml(spec);
           c.setFromMonth(202601);
           c.setTermMonths(0xFFFFFFFFu);
         }));
  s.Must("k", craft([&](auto body) { body.initPeriodClosed().setMonth(202613); }));
  s.Must("k", craft([&](auto body) { body.initAddonPurchased().setMonth(0); }));
  auto& c = s.client("k");
  CHECK(c.problems().size() == before + 3);
  CHECK_FALSE(c.has_contract());
  CHECK(c.last_closed_month() == 0);
  // The stream still folds on: a valid contract after them works as usual.
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  // kit-hours-10, no work: the fee alone, "fee = 10 h x 2 550 = 25 500 RUB" (3 months: no
  // prepaid discount, that starts "more than 6 months").
  CHECK(s.client("k").InvoiceFor(202601).total_minor == 2550000);
}

// ---------------------------------------------------------------------------------------
// Issue 13, defect 8: the plan files. AlterCPA Standard includes emergencies, AlterCPA one-off
// support is a plan, 1C phone consultations are unlimited.

namespace {
// The sources that paid for an entry, e.g. {kIncluded}.
std::vector<Charge::Source> SourcesOf(const ClientState& c, uint64_t seq) {
  std::vector<Charge::Source> out;
  for (const Entry& e : c.EntriesFor(c.zone().MonthOf(c.FindEntry(seq)->at_us)))
    if (e.seq == seq)
      for (const Charge& ch : e.charges) out.push_back(ch.source);
  return out;
}
}  // namespace

TEST_CASE("AlterCPA Standard includes emergencies: free in and out of hours, urgent or not",
          "[scenario][altercpa]") {
  // Standard "включает в себя: ... Спасение проекта в случае аварий" (rescuing the project in
  // case of failures): emergencies are part of the $1000 package, not the one-off $50 / $150.
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a3", "USD");
  s.Start("a3", {.plan_id = "altercpa-standard", .from_month = 202603});
  const uint64_t day = s.LogItems("a3", "emergency", 1, "2026-03-03T11:00");  // Tue, in hours
  const uint64_t night =
      s.LogItems("a3", "emergency", 1, "2026-03-04T20:00", true);  // Wed night, urgent
  const Invoice inv = s.client("a3").InvoiceFor(202603);
  // 1000.00 fee; 0 for both emergencies (Basic would bill 50.00 + 150.00 for the same two).
  CHECK(inv.total_minor == 100000);
  CHECK(LineAmount(inv, "task") == 0);
  CHECK(LineAmount(inv, "surcharge") == 0);
  CHECK(SourcesOf(s.client("a3"), day) == std::vector<Charge::Source>{Charge::Source::kIncluded});
  CHECK(SourcesOf(s.client("a3"), night) == std::vector<Charge::Source>{Charge::Source::kIncluded});

  // The same two on Basic, for contrast: 50.00 in hours; at night the kind's own off-hours
  // price 150.00 (urgent 3 × 50.00 = 150.00 is not larger): 500 + 50 + 150 = 700.00.
  Sim b;
  b.DefineExample("altercpa.toml");
  b.AddClient("a1", "USD");
  b.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202603});
  b.LogItems("a1", "emergency", 1, "2026-03-03T11:00");
  b.LogItems("a1", "emergency", 1, "2026-03-04T20:00", true);
  CHECK(b.client("a1").InvoiceFor(202603).total_minor == 70000);
}

TEST_CASE("AlterCPA one-off support has no fee and bills every task, consultations at 15.00",
          "[scenario][altercpa]") {
  // "Разовая техническая поддержка — помощь наших специалистов с оплатой за каждую задачу";
  // "Консультация: от $15 за вопрос"; "Бесплатная техническая поддержка не предусмотрена.
  // Совсем." Surcharges as for the packages: urgent 3×, off hours 2× or the kind's own price.
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("o1", "USD");
  s.Start("o1", {.plan_id = "altercpa-oneoff", .from_month = 202603});
  // March 2026 (Mon 2, Tue 3, Wed 4 are ordinary working days):
  s.LogItems("o1", "consultation", 3, "2026-03-03T11:00");              // 3 × 15.00 = 45.00
  s.LogItems("o1", "simple_integration", 1, "2026-03-03T11:00", true);  // urgent 3 × 15.00 = 45.00
  s.LogItems("o1", "site_link", 2, "2026-03-02T15:00");  // 2 × 9.00 = 18.00 (no slots)
  s.LogItems("o1", "emergency", 1, "2026-03-04T20:00");  // off-hours own price 150.00
  const Invoice mar = s.client("o1").InvoiceFor(202603);
  // 0 + 45 + 45 + 18 + 150 = 258.00
  CHECK(LineAmount(mar, "fee") == 0);
  CHECK(mar.total_minor == 25800);
  s.Close("o1", 202603);
  // April: nothing done, nothing billed (no fee).
  CHECK(s.client("o1").InvoiceFor(202604).total_minor == 0);
  s.Close("o1", 202604);
  // May: a consultation by the chief, Tue 12 May 11:00: 150.00.
  s.LogItems("o1", "chief_consultation", 1, "2026-05-12T11:00");
  CHECK(s.client("o1").InvoiceFor(202605).total_minor == 15000);
  s.Close("o1", 202605);
  // June: a site layout, Mon 1 June 12:00: 250.00.
  s.LogItems("o1", "site_layout", 1, "2026-06-01T12:00");
  CHECK(s.client("o1").InvoiceFor(202606).total_minor == 25000);
  s.Close("o1", 202606);
  // Four months: 258.00 + 0 + 150.00 + 250.00 = 658.00, each paid at its close.
  CHECK(s.client("o1").invoiced_closed_minor() == 25800 + 0 + 15000 + 25000);
  CHECK(s.client("o1").problems().empty());
}

TEST_CASE("1C phone consultations are unlimited: they never draw the 10 hours, trial included",
          "[scenario][1c]") {
  // "Во всех тарифах нашей компании включены безлимитные консультации наших специалистов по
  // телефону, CRM-чате или мобильном приложении": unlimited, so not drawn from "10 часов
  // (включая доработки, консультации, обновление)" — those are consultation hours of task work.
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  // 2025-10 (trial): 4 phone consultations, accepted; the trial bills only hours: 0.00.
  s.LogItems("c1", "phone_consultation", 4, "2025-10-10T12:00");
  s.Accept("c1", "I", "2025-10-10T15:00");
  CHECK(s.client("c1").InvoiceFor(202510).total_minor == 0);
  s.Close("c1", 202510);
  s.Close("c1", 202511);
  // 2025-12: 10 h of development and 25 phone consultations.
  s.LogHours("c1", "development", 600, "2025-12-03T12:00", "T1");
  s.Accept("c1", "T1", "2025-12-04T12:00");
  const uint64_t calls = s.LogItems("c1", "phone_consultation", 25, "2025-12-05T12:00");
  s.Accept("c1", "I", "2025-12-06T12:00");
  const MonthEval dec = s.client("c1").Evaluate(202512);
  // Hours: 10 h of 10 h drawn by development alone; nothing left to carry; no overage.
  // Money: the fee, 20 000.00; the 25 consultations 0.00.
  CHECK(dec.used_minutes == 600);
  CHECK(dec.allowance_used_minutes == 600);
  CHECK(dec.overage_minutes == 0);
  CHECK(dec.carried_minutes == 0);
  CHECK(dec.invoice.total_minor == 2000000);
  CHECK(SourcesOf(s.client("c1"), calls) == std::vector<Charge::Source>{Charge::Source::kIncluded});
}

// ---------------------------------------------------------------------------------------
// Issue 13, defect 9: "по будням" (on weekdays) follows the Russian production calendar.

TEST_CASE(
    "AlterCPA work on a public holiday weekday is off hours; on a moved working Saturday it is not",
    "[scenario][altercpa][calendar]") {
  // "Служба технической поддержки работает по будням с 10:00 до 18:00 по UTC+3"; "Выполнение
  // задачи в нерабочее время: двойная цена"; "Авария в рабочее время: от $50; в нерабочее
  // время: от $150". November 2025 (decree of 04.10.2024 No. 1335): Sat 1 Nov is a working
  // day, Mon 3 Nov a rest day, Tue 4 Nov National Unity Day.
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a1", "USD");
  s.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202511});
  s.LogItems("a1", "emergency", 1, "2025-11-01T12:00");  // Sat, working: 50.00
  s.LogItems("a1", "emergency", 1, "2025-11-03T12:00");  // Mon, rest day: 150.00
  s.LogItems("a1", "simple_integration", 1,
             "2025-11-04T12:00");  // Tue, holiday: slot + (2 − 1) × 15.00
  s.LogItems("a1", "simple_integration", 1, "2025-11-05T12:00");  // Wed, ordinary: slot, 0.00
  const Invoice inv = s.client("a1").InvoiceFor(202511);
  // 500.00 + 50.00 + 150.00 + 15.00 = 715.00 (a plain Mon–Fri calendar would give
  // 500 + 150 (Saturday) + 50 + 0 = 700.00).
  CHECK(LineAmount(inv, "task") == 5000 + 15000);
  CHECK(LineAmount(inv, "surcharge") == 1500);
  CHECK(inv.total_minor == 71500);
}

TEST_CASE("AlterCPA one-off work on Russia Day pays the off-hours double price",
          "[scenario][altercpa][calendar]") {
  // Fri 12 June 2026 is Russia Day: not a weekday in the sense of "по будням". An external
  // offer at 12:00: 2 × 15.00 = 30.00; the same on Thu 11 June: 15.00. Total 45.00.
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("o1", "USD");
  s.Start("o1", {.plan_id = "altercpa-oneoff", .from_month = 202606});
  s.LogItems("o1", "external_offer", 1, "2026-06-12T12:00");
  s.LogItems("o1", "external_offer", 1, "2026-06-11T12:00");
  CHECK(s.client("o1").InvoiceFor(202606).total_minor == 4500);
}

// ---------------------------------------------------------------------------------------
// Contracts over their whole life (issue 13): renewals, trials, ends, voids of closed
// months, block expiry days, debt blocking, allowed terms.

namespace {
// 1C Start from 2025-10 for 6 months (through 2026-03), closed through February with no work:
// Oct, Nov trial; Dec carries 10 h into the reserve (cap 10 h); Jan and Feb burn 10 h each
// (the reserve is full).
Sim OneCSixMonthsClosedThroughFebruary() {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c", "RUB");
  s.Start("c", {.plan_id = "1c-start", .from_month = 202510, .term_months = 6});
  for (uint32_t m : {202510u, 202511u, 202512u, 202601u, 202602u}) s.Close("c", m);
  return s;
}
}  // namespace

TEST_CASE(
    "a timely renewal keeps the old contract's open last month: its fee, its work and its reserve "
    "expiry",
    "[scenario][lifecycle]") {
  Sim s = OneCSixMonthsClosedThroughFebruary();
  // March, the old contract's last month, is open; the renewal for April on is signed now.
  s.LogHours("c", "development", 180, "2026-03-10T12:00", "M1");
  s.Accept("c", "M1", "2026-03-11T12:00");
  s.Start("c", {.plan_id = "1c-start", .from_month = 202604, .term_months = 12});
  auto& c = s.client("c");
  CHECK(c.TermsFor(202603) != nullptr);
  CHECK(c.TermsFor(202604) != nullptr);
  CHECK(c.terms().size() == 2);
  // Work dated in March after the renewal still counts in March.
  s.LogHours("c", "consultation", 60, "2026-03-20T12:00", "M2");
  s.Accept("c", "M2", "2026-03-21T12:00");
  const MonthEval mar = c.Evaluate(202603);
  // March: fee 20 000.00; 3 h + 1 h = 4 h from the allowance; 10 h − 4 h = 6 h unused, the
  // reserve is at its 10 h cap so nothing is carried: 6 h allowance expire; and "перенос
  // остатка часов ... на весь срок действия договора": the 10 h reserve expires with the term.
  CHECK(mar.invoice.total_minor == 2000000);
  CHECK(mar.allowance_used_minutes == 240);
  CHECK(mar.expired_allowance_minutes == 360);
  CHECK(mar.expired_reserve_minutes == 600);
  CHECK(mar.reserve_end_minutes == 0);
  CHECK(c.EntriesFor(202603).size() == 2);
  s.Close("c", 202603);
  CHECK(c.recorded_close(202603).value().total_minor == 2000000);
  CHECK(c.problems().empty());
  // April starts the renewal with no reserve.
  CHECK(c.Evaluate(202604).reserve_start_minutes == 0);
}

TEST_CASE("a renewal never starts a new trial: 1C's trial is the first two months of cooperation",
          "[scenario][lifecycle]") {
  // 1c-start-tariff.txt: "Первые два месяца сотрудничества, мы работаем без абонентской платы и
  // какой-либо предоплаты" ("the first two months of cooperation ... without the subscription
  // fee"): the first months of the client's relationship, not of each contract.
  Sim s = OneCSixMonthsClosedThroughFebruary();
  s.Start("c", {.plan_id = "1c-start", .from_month = 202604, .term_months = 12});
  const MonthEval apr = s.client("c").Evaluate(202604);
  // April is the 7th month of cooperation: no trial; fee 20 000.00 and 10 h included.
  CHECK_FALSE(apr.trial);
  CHECK(apr.included_minutes == 600);
  CHECK(apr.invoice.total_minor == 2000000);
  CHECK(s.client("c").Evaluate(202510).trial);  // the first month of cooperation was one
}

TEST_CASE("a contract that overlaps an existing term is refused, naming both periods and the fix",
          "[scenario][lifecycle]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  auto r = DecideContractStart(s.client("k"), s.catalog,
                               {.plan_id = "kit-hours-10", .from_month = 202603, .term_months = 3},
                               s.now_us);
  REQUIRE_FALSE(r.ok());
  const std::string& msg = r.error().message;
  CHECK(msg.find("2026-03 … 2026-05") != std::string::npos);
  CHECK(msg.find("2026-01 … 2026-06") != std::string::npos);
  CHECK(msg.find("2026-07 or later") != std::string::npos);
  CHECK(msg.find("contract end k --after 2026-02") != std::string::npos);
}

TEST_CASE(
    "a contract end that would leave logged work outside every contract is refused, naming the "
    "entries",
    "[scenario][lifecycle]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  const uint64_t april = s.LogHours("k", "support", 60, "2026-04-10T12:00");
  const uint64_t may = s.LogHours("k", "support", 60, "2026-05-10T12:00");
  auto r = DecideContractEnd(s.client("k"), 202603, s.now_us);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("#" + std::to_string(april) + ", #" + std::to_string(may)) !=
        std::string::npos);
  CHECK(r.error().message.find("void them") != std::string::npos);
  CHECK(r.error().message.find("end later") != std::string::npos);
  // Ending after May leaves nothing out.
  CHECK(DecideContractEnd(s.client("k"), 202605, s.now_us).ok());
  // Voided work does not hold the contract open.
  s.Must("k", DecideVoid(s.client("k"), april, "wrong client", s.now_us));
  s.Must("k", DecideVoid(s.client("k"), may, "wrong client", s.now_us));
  CHECK(DecideContractEnd(s.client("k"), 202603, s.now_us).ok());
}

TEST_CASE("a contract ending at a month already closed expires its prepaid blocks at once",
          "[scenario][lifecycle]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  BuyHours b{.minutes = 600, .price_minor = 1000000, .at_us = s.At("k", "2026-01-02T10:00")};
  s.Must("k", DecideBuyHours(s.client("k"), b, b.at_us));
  const uint64_t block = s.seq;
  // 12 h in January: 10 h allowance, 2 h from the block; 8 h left.
  s.LogHours("k", "support", 720, "2026-01-10T12:00");
  for (uint32_t m : {202601u, 202602u, 202603u}) s.Close("k", m);
  auto end = DecideContractEnd(s.client("k"), 202603, s.now_us);
  REQUIRE(end.ok());
  // ContractEnded, then HoursExpired for the 8 h left in the block.
  REQUIRE(end.value().events.size() == 2);
  auto expired = end.value().events[1].root().getBody();
  REQUIRE(expired.isHoursExpired());
  CHECK(expired.getHoursExpired().getMonth() == 202603);
  CHECK(expired.getHoursExpired().getBlockSeq() == block);
  CHECK(expired.getHoursExpired().getMinutes() == 480);
  s.Must("k", std::move(end));
  CHECK(s.client("k").BlocksLeftAfterClose().empty());
  CHECK(s.client("k").problems().empty());
  CHECK(s.client("k").TermsFor(202604) == nullptr);
}

TEST_CASE("a contract ending at a closed month expires the 1C reserve at once",
          "[scenario][lifecycle]") {
  Sim s = OneCSixMonthsClosedThroughFebruary();
  // The reserve holds 10 h after February (see the fixture); ending after February expires it.
  CHECK(s.client("c").reserve_after_close() == 600);
  s.Must("c", DecideContractEnd(s.client("c"), 202602, true, s.now_us));
  CHECK(s.client("c").reserve_after_close() == 0);
  CHECK(s.client("c").problems().empty());
}

TEST_CASE("the closed month a contract ends at shows the reserve it expires in its own figures",
          "[scenario][lifecycle]") {
  // Found by the model differential test (regressions/end-at-closed-month-figures.json): the
  // reserve was gone from the client, but February still showed it as left.
  Sim s = OneCSixMonthsClosedThroughFebruary();
  const MonthEval before = s.client("c").Evaluate(202602);
  REQUIRE(before.reserve_end_minutes == 600);
  s.Must("c", DecideContractEnd(s.client("c"), 202602, true, s.now_us));
  // February: the 10 h reserve left moves from "left" to "expired"; the reserve law still holds:
  // start + carried = used + expired + left.
  const MonthEval feb = s.client("c").Evaluate(202602);
  CHECK(feb.expired_reserve_minutes == before.expired_reserve_minutes + 600);
  CHECK(feb.reserve_end_minutes == 0);
  CHECK(feb.reserve_start_minutes + feb.carried_minutes ==
        feb.reserve_used_minutes + feb.expired_reserve_minutes + feb.reserve_end_minutes);
  CHECK(feb.invoice.total_minor == before.invoice.total_minor);
}

TEST_CASE("the closed month a contract ends at shows the block hours it expires in its own figures",
          "[scenario][lifecycle]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  BuyHours b{.minutes = 600, .price_minor = 1000000, .at_us = s.At("k", "2026-01-02T10:00")};
  s.Must("k", DecideBuyHours(s.client("k"), b, b.at_us));
  // 12 h in January: 10 h allowance, 2 h from the 10 h block; 8 h left through March.
  s.LogHours("k", "support", 720, "2026-01-10T12:00");
  for (uint32_t m : {202601u, 202602u, 202603u}) s.Close("k", m);
  REQUIRE(s.client("k").Evaluate(202603).blocks_end_minutes() == 480);
  s.Must("k", DecideContractEnd(s.client("k"), 202603, s.now_us));
  const MonthEval mar = s.client("k").Evaluate(202603);
  CHECK(mar.expired_block_minutes == 480);
  CHECK(mar.blocks_end_minutes() == 0);
  CHECK(mar.blocks_start_minutes ==
        mar.block_used_minutes + mar.expired_block_minutes + mar.blocks_end_minutes());
}

TEST_CASE("ending before the plan's minimum term needs --early; KIT charges the months left",
          "[scenario][lifecycle]") {
  // kit-consulting-sla-options.txt: "Минимальный срок заключения договора – 3 месяца" (the
  // contract is concluded for at least 3 months): ending after one month owes the other two.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  auto refused = DecideContractEnd(s.client("k"), 202601, s.now_us);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("minimum term of 3 months") != std::string::npos);
  CHECK(refused.error().message.find("--early") != std::string::npos);
  s.Must("k", DecideContractEnd(s.client("k"), 202601, true, s.now_us));
  // January: fee 25 500.00 + early end 2 months × 25 500.00 = 51 000.00 -> 76 500.00.
  const Invoice jan = s.client("k").InvoiceFor(202601);
  CHECK(LineAmount(jan, "charge") == 5100000);
  CHECK(jan.total_minor == 7650000);
  CHECK(s.client("k").TermsFor(202602) == nullptr);
}

// ---------------------------------------------------------------------------------------
// A second early end at an earlier month. bpmonline Business: "Business 89 000/month ...
// minimum term one year" ("Пакеты технической поддержки приобретаются на срок не менее одного
// года"), early_end = pay_minimum_term: the fees of the months left to the twelfth are charged
// in the last month (docs/contracts.md, "Ending a contract").

namespace {
// bpmonline Business, open-ended from 2024-12; ended early after 2025-03.
//   months 2024-12 … 2025-03 = 4; left to the minimum: 12 − 4 = 8 (2025-04 … 2025-11);
//   charge 8 × 89 000.00 = 712 000.00, booked in 2025-03, the last month.
Sim BpmBusinessEndedAfterMarch() {
  Sim s;
  s.DefineExample("bpmonline.toml");
  s.AddClient("b", "RUB", "Asia/Tokyo");
  s.Start("b", {.plan_id = "bpm-business", .from_month = 202412});
  s.Must("b", DecideContractEnd(s.client("b"), 202503, true, s.now_us));
  REQUIRE(LineAmount(s.client("b").InvoiceFor(202503), "charge") == 71200000);
  return s;
}
}  // namespace

TEST_CASE(
    "a second early end at an earlier month moves the first early-end charge into the new last "
    "month",
    "[scenario][lifecycle]") {
  Sim s = BpmBusinessEndedAfterMarch();
  s.Must("b", DecideContractEnd(s.client("b"), 202502, true, s.now_us));
  // Ended after 2025-02: months 2024-12 … 2025-02 = 3; left: 12 − 3 = 9 (2025-03 … 2025-11).
  // 2025-04 … 2025-11 (8 months) were charged by the first end: that 712 000.00 moves here;
  // 2025-03 is charged now: 89 000.00. Charge in February: 712 000.00 + 89 000.00 = 801 000.00
  // = 9 × 89 000.00. February's invoice: fee 89 000.00 + 801 000.00 = 890 000.00.
  const Invoice feb = s.client("b").InvoiceFor(202502);
  CHECK(LineAmount(feb, "charge") == 80100000);
  CHECK(feb.total_minor == 89000000);
  // March is outside the contract now: no fee, and the first charge is no longer there.
  const Invoice mar = s.client("b").InvoiceFor(202503);
  CHECK(mar.lines.empty());
  CHECK(mar.total_minor == 0);
  CHECK(s.client("b").problems().empty());
}

TEST_CASE("two early ends together charge exactly the twelve months of the minimum term",
          "[scenario][lifecycle]") {
  Sim s = BpmBusinessEndedAfterMarch();
  s.Must("b", DecideContractEnd(s.client("b"), 202502, true, s.now_us));
  // Fees 2024-12, 2025-01, 2025-02 (3 × 89 000.00 = 267 000.00) + the charge 801 000.00
  // = 1 068 000.00 = 12 × 89 000.00: the year, once. The old code charged 17 months (the
  // 712 000.00 stayed in March): 1 780 000.00.
  int64_t total = 0;
  for (uint32_t m : {202412u, 202501u, 202502u, 202503u, 202504u})
    total += s.client("b").InvoiceFor(m).total_minor;
  CHECK(total == 106800000);
}

TEST_CASE(
    "moving an early-end charge is a recorded reversal, and a replay of the log gives the same "
    "invoices",
    "[scenario][lifecycle]") {
  Sim s = BpmBusinessEndedAfterMarch();
  const uint64_t first_charge = s.seq;  // the first end's charge is its last event
  auto second = DecideContractEnd(s.client("b"), 202502, true, s.now_us);
  REQUIRE(second.ok());
  // ContractEnded, then the reversal of the first charge (in its own month, same amount), then
  // the new charge in February.
  auto& events = second.value().events;
  REQUIRE(events.size() == 3);
  auto reversal = events[1].root().asReader().getBody();
  REQUIRE(reversal.isAdjustment());
  CHECK(reversal.getAdjustment().getReversesSeq() == first_charge);
  CHECK(reversal.getAdjustment().getMonth() == 202503);
  CHECK(reversal.getAdjustment().getAmountMinor() == 71200000);
  auto charge = events[2].root().asReader().getBody();
  REQUIRE(charge.isAdjustment());
  CHECK(charge.getAdjustment().getReversesSeq() == 0);
  CHECK(charge.getAdjustment().getEarlyEnd());
  CHECK(charge.getAdjustment().getMonth() == 202502);
  CHECK(charge.getAdjustment().getAmountMinor() == 80100000);
  s.Must("b", std::move(second));
  // The first charge's event is still in the log (events are immutable); a fresh fold of the
  // whole stream reaches the same figures, as `hourbank audit` recomputes them.
  ClientState replayed;
  replayed.set_id("b");
  for (const auto& [seq, bytes] : s.log["b"]) {
    capnp::FlatArrayMessageReader reader(bytes);
    replayed.Apply(seq, reader.getRoot<schemas::Event>());
  }
  CHECK(replayed.problems().empty());
  CHECK(replayed.InvoiceFor(202502).total_minor == 89000000);
  CHECK(replayed.InvoiceFor(202503).total_minor == 0);
}

TEST_CASE("a reversal naming an adjustment that is not in its month is a replay problem",
          "[scenario][lifecycle]") {
  Sim s = BpmBusinessEndedAfterMarch();
  ledger::EventDraft draft;
  draft.root().setEffectiveAtUs(s.now_us);
  auto b = draft.root().initBody().initAdjustment();
  b.setKind(schemas::AdjustmentKind::CHARGE);
  b.setAmountMinor(71200000);
  b.setMonth(202504);  // the charge is in 2025-03, not here
  b.setReversesSeq(s.seq);
  Decision d;
  d.events.push_back(std::move(draft));
  s.Must("b", std::move(d));
  REQUIRE(s.client("b").problems().size() == 1);
  CHECK(s.client("b").problems()[0].what.find("reverses") != std::string::npos);
  CHECK(LineAmount(s.client("b").InvoiceFor(202503), "charge") == 71200000);  // untouched
}

TEST_CASE("KIT: ending early twice costs what ending once at the final month costs",
          "[scenario][lifecycle]") {
  // kit-consulting-sla-options.txt: "Минимальный срок заключения договора – 3 месяца".
  // KIT 10 h, 25 500.00 a month, from 2026-01 for 6 months.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  // After 2026-02: 2 months, 1 left (2026-03): 25 500.00 in February.
  s.Must("k", DecideContractEnd(s.client("k"), 202602, true, s.now_us));
  CHECK(LineAmount(s.client("k").InvoiceFor(202602), "charge") == 2550000);
  // After 2026-01: 1 month, 2 left; 2026-03 was charged (25 500.00 moves to January), 2026-02
  // is charged now (25 500.00): 51 000.00 in January, as a single end after 2026-01 charges.
  // January: 25 500.00 + 51 000.00 = 76 500.00; February: nothing.
  s.Must("k", DecideContractEnd(s.client("k"), 202601, true, s.now_us));
  CHECK(LineAmount(s.client("k").InvoiceFor(202601), "charge") == 5100000);
  CHECK(s.client("k").InvoiceFor(202601).total_minor == 7650000);
  CHECK(s.client("k").InvoiceFor(202602).total_minor == 0);
  CHECK(s.client("k").problems().empty());
}

TEST_CASE("a manual charge after the new last month stays where it was booked",
          "[scenario][lifecycle]") {
  // Only early-end charges move; `hourbank adjust --charge` is the operator's own act.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  s.Must("k", DecideAdjust(s.client("k"),
                           {.kind = schemas::AdjustmentKind::CHARGE,
                            .amount_minor = 100000,
                            .reason = "on-site visit",
                            .month = 202602},
                           s.now_us));
  s.Must("k", DecideContractEnd(s.client("k"), 202601, true, s.now_us));
  CHECK(LineAmount(s.client("k").InvoiceFor(202602), "charge") == 100000);
  // January: fee 25 500.00 + 2 × 25 500.00 = 76 500.00, nothing moved in.
  CHECK(s.client("k").InvoiceFor(202601).total_minor == 7650000);
}

TEST_CASE("AGBIS allows an early end only when every invoice is paid", "[scenario][lifecycle]") {
  // agbis-maintenance-contract.txt: "Заказчик вправе прервать действие договора технического
  // сопровождения лишь при полном исполнении обязательств по действующему договору".
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g", "RUB");
  s.Start("g", {.plan_id = "agbis", .from_month = 202601, .term_months = 6, .units = 10});
  s.auto_pay = false;
  s.Close("g", 202601);
  auto refused = DecideContractEnd(s.client("g"), 202602, true, s.now_us);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("every invoice is paid") != std::string::npos);
  // January: 10 licences × 1 740.00 = 17 400.00; paid, the early end goes through, free.
  s.Must("g", DecidePay(s.client("g"), 1740000, "jan", s.now_us, s.now_us));
  s.Must("g", DecideContractEnd(s.client("g"), 202602, true, s.now_us));
  CHECK(s.client("g").InvoiceFor(202602).total_minor == 1740000);
}

TEST_CASE("AGBIS contracts are made for 3, 6 or 12 months only", "[scenario][lifecycle]") {
  // "Договор технического сопровождения заключается и продлевается на период 3, 6 или 12 месяцев."
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g", "RUB");
  auto r = DecideContractStart(
      s.client("g"), s.catalog,
      {.plan_id = "agbis", .from_month = 202601, .term_months = 4, .units = 10}, s.now_us);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("3, 6 or 12 months only") != std::string::npos);
  s.Start("g", {.plan_id = "agbis", .from_month = 202601, .term_months = 6, .units = 10});
  // A renewal for 5 months is refused too; for 12 it goes in.
  CHECK_FALSE(
      DecideContractStart(s.client("g"), s.catalog,
                          {.plan_id = "agbis", .from_month = 202607, .term_months = 5, .units = 10},
                          s.now_us)
          .ok());
  s.Start("g", {.plan_id = "agbis", .from_month = 202607, .term_months = 12, .units = 10});
}

TEST_CASE("AGBIS grants the timely discount only with 6 or 12 months paid at once",
          "[scenario][lifecycle]") {
  // The table's timely columns are "При оплате сразу за 6 месяцев" and "за 12 месяцев"; the
  // 3-month base price has none. 10 licences, 3 months, timely: 10 × 1 740.00 = 17 400.00, no
  // discount; 10 licences, 6 months prepaid, timely: 1 740 × 0.93 × 0.8 = 1 294.56 -> 1 295,
  // × 10 = 12 950.00 (the list's own figure).
  Sim s;
  s.DefineExample("agbis.toml");
  s.AddClient("g", "RUB");
  s.AddClient("h", "RUB");
  s.Start(
      "g",
      {.plan_id = "agbis", .from_month = 202601, .term_months = 3, .timely = true, .units = 10});
  s.Start("h", {.plan_id = "agbis",
                .from_month = 202601,
                .term_months = 6,
                .prepaid_months = 6,
                .timely = true,
                .units = 10});
  CHECK(s.client("g").InvoiceFor(202601).total_minor == 1740000);
  CHECK(s.client("h").InvoiceFor(202601).total_minor == 1295000);
}

TEST_CASE(
    "voiding allowance work of a closed month credits the overage it moved into the allowance",
    "[scenario][lifecycle][void]") {
  // KIT 10 h (fee 25 500.00, 2 550.00 an hour beyond). January: A 4 h, then B 8 h.
  // As closed: A allowance 4 h; B allowance 6 h + overage 2 h × 2 550.00 = 5 100.00;
  // invoice 25 500.00 + 5 100.00 = 30 600.00.
  // Re-evaluated without A: B allowance 8 h, no overage: 25 500.00.
  // Credit = 30 600.00 − 25 500.00 = 5 100.00 (the entry's own charge was 0).
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  const uint64_t a = s.LogHours("k", "support", 240, "2026-01-05T12:00");
  s.LogHours("k", "support", 480, "2026-01-06T12:00");
  s.Close("k", 202601);
  REQUIRE(s.client("k").InvoiceFor(202601).total_minor == 3060000);
  s.Must("k", DecideVoid(s.client("k"), a, "logged on the wrong client", s.now_us));
  const Invoice feb = s.client("k").InvoiceFor(202602);
  CHECK(LineAmount(feb, "credit") == -510000);
  CHECK(s.client("k").InvoiceFor(202601).total_minor == 3060000);  // the closed invoice stands
}

TEST_CASE("a closed-month void credit is rounded once per invoice line, like the invoice",
          "[scenario][lifecycle][void]") {
  // Plan: 1.00 an hour beyond nothing included. Two 1-minute entries: the overage line is
  // 2 min × 100 / 60 = 3.33 -> 3 (minor units), rounded once; each entry's own charge is
  // 100 / 60 = 1.67 -> 2. Voiding one: the line becomes 1 min -> 1.67 -> 2; credit 3 − 2 = 1,
  // not the entry's rounded 2.
  Sim s;
  s.DefineToml(
      "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\nfee_minor = 100000\noverage_rate_minor = 100\n"
      "[[plan.kinds]]\nid = \"support\"\nunit = \"hour\"\n");
  s.AddClient("p", "RUB");
  s.Start("p", {.plan_id = "p", .from_month = 202601});
  const uint64_t a = s.LogHours("p", "support", 1, "2026-01-05T12:00");
  s.LogHours("p", "support", 1, "2026-01-06T12:00");
  s.Close("p", 202601);
  REQUIRE(LineAmount(s.client("p").InvoiceFor(202601), "overage") == 3);
  s.Must("p", DecideVoid(s.client("p"), a, "duplicate", s.now_us));
  CHECK(LineAmount(s.client("p").InvoiceFor(202602), "credit") == -1);
}

TEST_CASE("two voids in one closed month credit the invoice difference step by step",
          "[scenario][lifecycle][void]") {
  // Same KIT month as above plus C 1 h: A 4 h, B 8 h, C 1 h -> overage 3 h = 7 650.00.
  // Void B: without B, A 4 h + C 1 h fit the allowance: credit 7 650.00. Void A next: nothing
  // left to credit (the allowance covered A and C): credit 0. Together: the whole overage.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  const uint64_t a = s.LogHours("k", "support", 240, "2026-01-05T12:00");
  const uint64_t b = s.LogHours("k", "support", 480, "2026-01-06T12:00");
  s.LogHours("k", "support", 60, "2026-01-07T12:00");
  s.Close("k", 202601);
  REQUIRE(s.client("k").InvoiceFor(202601).total_minor == 2550000 + 765000);
  s.Must("k", DecideVoid(s.client("k"), b, "void b", s.now_us));
  s.Must("k", DecideVoid(s.client("k"), a, "void a", s.now_us));
  CHECK(LineAmount(s.client("k").InvoiceFor(202602), "credit") == -765000);
}

namespace {
// A plan with no allowance: hours come from blocks, then 1.00 an hour.
const char* kBlocksPlan =
    "[[plan]]\nid = \"blocks\"\ncurrency = \"RUB\"\noverage_rate_minor = 100\n"
    "[[plan.kinds]]\nid = \"support\"\nunit = \"hour\"\n";
}  // namespace

TEST_CASE(
    "a block is not drawn by work after its last usable day, and its remainder expires that month",
    "[scenario][lifecycle][blocks]") {
  // `buy --expires 2026-01-15`: the block can be used through 15 January. 2 h on the 10th draw
  // it; 3 h on the 20th are overage (3 × 1.00 = 3.00); the 8 h left expire at January's close.
  Sim s;
  s.DefineToml(kBlocksPlan);
  s.AddClient("b", "RUB");
  s.Start("b", {.plan_id = "blocks", .from_month = 202601});
  BuyHours buy{.minutes = 600, .price_minor = 500000, .at_us = s.At("b", "2026-01-02T10:00")};
  buy.expires_at_us = s.At("b", "2026-01-16");  // the first instant it can no longer be used
  s.Must("b", DecideBuyHours(s.client("b"), buy, buy.at_us));
  s.LogHours("b", "support", 120, "2026-01-10T12:00");
  s.LogHours("b", "support", 180, "2026-01-20T12:00");
  const MonthEval jan = s.client("b").Evaluate(202601);
  CHECK(jan.block_used_minutes == 120);
  CHECK(jan.overage_minutes == 180);
  CHECK(jan.expired_block_minutes == 480);
  CHECK(LineAmount(jan.invoice, "overage") == 300);
}

TEST_CASE(
    "a block bought with --expires DATE ends at the next local midnight across a DST change "
    "(Europe/Berlin)",
    "[scenario][lifecycle][blocks]") {
  // 2024-03-31 is 23 hours long in Berlin (clocks go 02:00 -> 03:00). The last usable day
  // 2024-03-31 ends at 2024-04-01T00:00+02:00 = 2024-03-31T22:00Z; local midnight + 24 h would
  // be 2024-04-01T01:00+02:00, an hour into April, and would move the expiry into April.
  Sim s;
  s.DefineToml(kBlocksPlan);
  s.AddClient("b", "RUB", "Europe/Berlin");
  s.Start("b", {.plan_id = "blocks", .from_month = 202403});
  auto& c = s.client("b");
  CHECK(c.zone().DayStartUs(20240331) + 86400LL * 1000000 != c.zone().DayEndUs(20240331));
  BuyHours buy{.minutes = 600,
               .price_minor = 500000,
               .expires_day = 20240331,
               .at_us = s.At("b", "2024-03-02T10:00")};
  auto d = DecideBuyHours(c, buy, buy.at_us);
  REQUIRE(d.ok());
  CHECK(d.value().events[0].root().getBody().getHoursPurchased().getExpiresAtUs() ==
        s.At("b", "2024-04-01T00:00"));
  s.Must("b", std::move(d));
  // Work at 00:30 on 1 April is after the last usable day: overage, and the block expired in March.
  s.LogHours("b", "support", 60, "2024-03-31T23:30");
  s.LogHours("b", "support", 60, "2024-04-01T00:30");
  CHECK(c.Evaluate(202403).block_used_minutes == 60);
  CHECK(c.Evaluate(202403).expired_block_minutes == 540);
  CHECK(c.Evaluate(202404).overage_minutes == 60);
}

TEST_CASE("AlterCPA: an unpaid emergency blocks the next ordinary task the same month",
          "[scenario][lifecycle][debt]") {
  // altercpa-platform-support.txt: "Услуги не оказываются в случае наличия задолженностей за
  // ранее оказанные без предоплаты услуги (например, услуги экстренного сопровождения)".
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a", "USD");
  s.Start("a", {.plan_id = "altercpa-basic", .from_month = 202603});
  const int64_t t0 = s.At("a", "2026-03-01T09:00");
  s.Must("a", DecidePay(s.client("a"), 50000, "March fee, prepaid", t0, t0));
  // Emergency on Wednesday 4 March at 11:00 (working hours): 50.00, done without prepayment.
  LogWork emergency{
      .kind = "emergency", .count = 1, .at_us = s.At("a", "2026-03-04T11:00"), .emergency = true};
  s.Must("a", DecideLog(s.client("a"), emergency, emergency.at_us));
  LogWork next{.kind = "site_link", .count = 1, .at_us = s.At("a", "2026-03-05T11:00")};
  auto refused = DecideLog(s.client("a"), next, next.at_us);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("blocked: $50.00 unpaid") != std::string::npos);
  s.Must("a", DecidePay(s.client("a"), 5000, "emergency", next.at_us, next.at_us));
  s.Must("a", DecideLog(s.client("a"), next, next.at_us + 1));
}

TEST_CASE("plans without a blocking rule never block a client the day after a month closes",
          "[scenario][lifecycle][debt]") {
  // KIT, 1C, AGBIS and bpmonline say nothing about refusing work for debt (1C's trial is
  // explicitly "без ... какой-либо предоплаты"): debt_blocking defaults to "none".
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6});
  s.auto_pay = false;
  s.Close("k", 202601);
  const int64_t next_day = s.At("k", "2026-02-01T12:00");
  CHECK_FALSE(s.client("k").BlockedAt(next_day));
  LogWork w{.kind = "support", .minutes = 60, .at_us = next_day};
  CHECK(DecideLog(s.client("k"), w, next_day + 1).ok());
}

TEST_CASE("a lean state drops a closed month's entries and keeps work awaiting acceptance",
          "[scenario][entries]") {
  Sim s({.retain_entries = false});
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  const uint64_t waiting = s.LogHours("c1", "development", 120, "2025-10-10T12:00", "X");
  const uint64_t done = s.LogHours("c1", "development", 60, "2025-10-11T12:00", "Y");
  const uint64_t later = s.LogHours("c1", "development", 30, "2025-10-12T12:00", "Z");
  s.Accept("c1", "Y", "2025-10-20T12:00");
  s.Accept("c1", "Z", "2025-11-03T12:00");
  REQUIRE(s.client("c1").FindEntry(done) != nullptr);
  CHECK(s.client("c1").FindEntry(done)->month == 202510);
  CHECK(s.client("c1").FindEntry(later)->month == 202511);
  s.Close("c1", 202510);
  const ClientState& c = s.client("c1");
  CHECK(c.FindEntry(done) == nullptr);  // counted in the closed month: only its figures stay
  REQUIRE(c.FindEntry(waiting) != nullptr);
  CHECK(c.FindEntry(waiting)->task == "X");
  CHECK(c.FindEntry(waiting)->staff == "anna");
  CHECK(c.FindEntry(waiting)->minutes == 120);
  REQUIRE(c.FindEntry(later) != nullptr);
  CHECK(c.FindEntry(later)->kind == "development");
  CHECK(c.PendingForTask("X").size() == 1);
  CHECK(c.PendingEntries().size() == 1);
  CHECK(c.EntriesFor(202511).size() == 1);
  CHECK(c.EntriesFor(202511)[0].seq == later);
  CHECK(c.FindEntry(later + 1) == nullptr);
  CHECK(c.FindEntry(0) == nullptr);
  CHECK(c.problems().empty());
}
