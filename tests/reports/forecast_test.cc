// The burn-down forecast (reports/forecast.h) against days worked out by hand. Each case states
// the window, the rate, and the day-by-day arithmetic the expected days follow from.
#include "reports/forecast.h"

#include <catch2/catch.hpp>

#include "sim.h"

using namespace hourbank;
using namespace hourbank::testing;
using reports::Forecast;
using reports::ForecastOptions;
using reports::MakeForecast;

namespace {

Forecast ForecastAt(Sim& s, const std::string& id, const std::string& local_now,
                    int32_t horizon_months = 12) {
  ForecastOptions o;
  o.now_us = s.At(id, local_now);
  o.horizon_months = horizon_months;
  return MakeForecast(s.client(id), o);
}

// KIT option 1, 15 h a month: "неизрасходованные часы «сгорают»" (kit-hours-15: 900 minutes
// included, rollover burn, 2 550.00 RUB an hour beyond, minimum term 3 months: 2026-02 … 04).
// Work: 10 Feb 5h (before the window), 16 Feb 10h, 25 Feb 10h, 5 Mar 8h, 15 Mar (today) 1h.
void KitHours15(Sim& s) {
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-15", .from_month = 202602});
  s.LogHours("k", "support", 300, "2026-02-10T12:00");
  s.LogHours("k", "support", 600, "2026-02-16T12:00");
  s.LogHours("k", "support", 600, "2026-02-25T12:00");
  s.Close("k", 202602);
  s.LogHours("k", "support", 480, "2026-03-05T12:00");
  s.LogHours("k", "support", 60, "2026-03-15T10:00");
}

}  // namespace

TEST_CASE("the burn rate is the work of the 28 days before today, today and older work left out",
          "[forecast]") {
  Sim s;
  KitHours15(s);
  const Forecast f = ForecastAt(s, "k", "2026-03-15T12:00");
  // Window 2026-02-15 … 2026-03-14 (28 local days): 600 + 600 + 480 = 1680 minutes = 60 a day.
  // The 10 Feb entry is before the window; today's hour is after it.
  CHECK(f.window_from == 20260215);
  CHECK(f.window_to == 20260314);
  CHECK(f.window_days == 28);
  CHECK(f.window_minutes == 1680);
  CHECK(f.in_contract);
}

TEST_CASE("the allowance runs out on the day the projected work reaches what is left of it",
          "[forecast]") {
  Sim s;
  KitHours15(s);
  const Forecast f = ForecastAt(s, "k", "2026-03-15T12:00");
  // March: 900 included − (480 + 60 today) = 360 left. From 16 Mar, day k has used 60·k in all:
  // 60·6 = 360 on day 6 = 21 Mar, so the allowance is empty at the end of 21 Mar.
  CHECK(f.allowance_left_minutes == 360);
  CHECK(f.allowance_runs_out_on == 20260321);
  CHECK(f.overage_starts_on == 20260322);
}

TEST_CASE(
    "expected overage by month end is the projected work beyond the buckets at the plan's rate",
    "[forecast]") {
  Sim s;
  KitHours15(s);
  const Forecast f = ForecastAt(s, "k", "2026-03-15T12:00");
  // 31 Mar is day 16: 60·16 = 960 minutes projected, 360 from the allowance, 600 beyond it.
  // "2 550 RUB/h" (overage_rate_minor 255000): 600 / 60 × 2 550.00 = 25 500.00 RUB.
  CHECK(f.overage_minutes == 0);
  CHECK(f.expected_overage_minutes == 600);
  CHECK(f.expected_overage_minor == 2550000);
  // Every month's allowance is used up by the rate (April: 30 × 60 = 1800 > 900), so nothing
  // burns; the contract's last month is April, where the projection stops.
  CHECK(f.expiries.empty());
  CHECK(f.projected_to == 20260430);
}

TEST_CASE("without work in the window each month's unused allowance burns at its end",
          "[forecast]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-15", .from_month = 202603});
  const Forecast f = ForecastAt(s, "k", "2026-03-15T12:00");
  // Rate 0: the 15 h of March and of April (and May: minimum term 3 months, 2026-03 … 05) burn.
  CHECK(f.window_minutes == 0);
  CHECK(f.allowance_runs_out_on == 0);
  REQUIRE(f.expiries.size() == 3);
  CHECK(f.expiries[0].on == 20260331);
  CHECK(f.expiries[0].bucket == "allowance");
  CHECK(f.expiries[0].minutes == 900);
  CHECK(f.expiries[1].on == 20260430);
  CHECK(f.expiries[2].on == 20260531);
  CHECK(f.expected_overage_minutes == 0);
  CHECK(f.expected_overage_minor == 0);
}

TEST_CASE("blocks run out soonest-expiring first, each on its own day", "[forecast][blocks]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("p", "RUB");
  // kit-prepaid: "prepaid hours that never burn"; no allowance, 2 550.00 RUB an hour beyond.
  s.Start("p", {.plan_id = "kit-prepaid", .from_month = 202602});
  // Block A: 30 h, last day 10 Apr; block B: 20 h, no expiry.
  s.Must("p", DecideBuyHours(s.client("p"),
                             {.minutes = 1800,
                              .price_minor = 100,
                              .expires_day = 20260410,
                              .at_us = s.At("p", "2026-02-01T10:00")},
                             s.now_us));
  const uint64_t a = s.seq;
  s.Must("p", DecideBuyHours(
                  s.client("p"),
                  {.minutes = 1200, .price_minor = 100, .at_us = s.At("p", "2026-02-01T10:00")},
                  s.now_us));
  const uint64_t b = s.seq;
  s.LogHours("p", "support", 600, "2026-02-16T12:00");
  s.Close("p", 202602);
  s.LogHours("p", "support", 600, "2026-03-05T12:00");
  s.LogHours("p", "support", 480, "2026-03-10T12:00");
  s.LogHours("p", "support", 60, "2026-03-15T10:00");
  const Forecast f = ForecastAt(s, "p", "2026-03-15T12:00");
  // Window 15 Feb … 14 Mar: 600 + 600 + 480 = 1680 = 60 a day. Everything so far came from A
  // (it expires first): 1800 − 1740 = 60 left; B untouched, 1200.
  CHECK(f.window_minutes == 1680);
  REQUIRE(f.blocks.size() == 2);
  CHECK(f.blocks[0].seq == a);
  CHECK(f.blocks[0].left_minutes == 60);
  CHECK(f.blocks[0].last_day == 20260410);
  CHECK(f.blocks[0].expires_month == 202604);
  CHECK(f.blocks[1].seq == b);
  CHECK(f.blocks[1].left_minutes == 1200);
  // A: 60·1 = 60 → empty at the end of 16 Mar. B: 60 + 1200 = 1260 = 60·21 → day 21 = 5 Apr.
  CHECK(f.blocks[0].runs_out_on == 20260316);
  CHECK(f.blocks[1].runs_out_on == 20260405);
  // By 31 Mar (day 16) 960 minutes are projected, all from the blocks: no overage in March.
  CHECK(f.expected_overage_minutes == 0);
  CHECK(f.overage_starts_on == 0);
  CHECK(f.expiries.empty());
}

TEST_CASE("a block left unused expires at the close of its month, after its last usable day",
          "[forecast][blocks]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("p", "RUB");
  s.Start("p", {.plan_id = "kit-prepaid", .from_month = 202603});
  s.Must("p", DecideBuyHours(s.client("p"),
                             {.minutes = 600,
                              .price_minor = 100,
                              .expires_day = 20260410,
                              .at_us = s.At("p", "2026-03-01T10:00")},
                             s.now_us));
  const Forecast f = ForecastAt(s, "p", "2026-03-15T12:00");
  // Rate 0: the 10 h are never drawn; the ledger expires a block at its month's close (April).
  REQUIRE(f.expiries.size() == 1);
  CHECK(f.expiries[0].bucket == "block");
  CHECK(f.expiries[0].block_seq == s.seq);
  CHECK(f.expiries[0].minutes == 600);
  CHECK(f.expiries[0].on == 20260430);
}

TEST_CASE("work after a block's last day draws the next block, not the expired one",
          "[forecast][blocks]") {
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("p", "RUB");
  s.Start("p", {.plan_id = "kit-prepaid", .from_month = 202602});
  // A: 20 h, last day 20 Mar; B: 10 h, no expiry. Work 28 h in the window = 60 a day.
  s.Must("p", DecideBuyHours(s.client("p"),
                             {.minutes = 1200,
                              .price_minor = 100,
                              .expires_day = 20260320,
                              .at_us = s.At("p", "2026-02-01T10:00")},
                             s.now_us));
  const uint64_t a = s.seq;
  s.Must("p", DecideBuyHours(
                  s.client("p"),
                  {.minutes = 600, .price_minor = 100, .at_us = s.At("p", "2026-02-01T10:00")},
                  s.now_us));
  const uint64_t b = s.seq;
  s.LogHours("p", "support", 1680, "2026-02-20T12:00");
  s.Close("p", 202602);
  const Forecast f = ForecastAt(s, "p", "2026-03-15T12:00");
  // Feb drew A 1200 then B 480: A empty, B 120 left. So only B remains: 120 = 60·2 → 17 Mar.
  REQUIRE(f.blocks.size() == 1);
  CHECK(f.blocks[0].seq == b);
  CHECK(f.blocks[0].runs_out_on == 20260317);
  (void)a;
  // Then overage: 31 Mar is day 16, 960 − 120 = 840 minutes beyond: 840/60 × 2 550 = 35 700.00.
  CHECK(f.overage_starts_on == 20260318);
  CHECK(f.expected_overage_minutes == 840);
  CHECK(f.expected_overage_minor == 3570000);
}

TEST_CASE("unused allowance carries into the reserve up to its cap, and the reserve runs out later",
          "[forecast][reserve]") {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c", "RUB");
  // 1C Start: 10 h a month, "не выработанные часы копятся в резерве", reserve cap 10 h, 2 000
  // RUB an hour beyond; trial 2025-10 … 11 (no allowance); contract 12 months to 2026-09.
  s.Start("c", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  s.Close("c", 202510);
  s.Close("c", 202511);
  s.Close("c", 202512);  // December: 10 h unused, all carried (reserve 0 → 10 h)
  // January: 14 h accepted on 15 Jan; the window 17 Dec … 13 Jan holds 14 h = 30 minutes a day.
  s.LogHours("c", "development", 840, "2026-01-05T12:00", "T1");
  s.Accept("c", "T1", "2026-01-05T13:00");
  const Forecast f = ForecastAt(s, "c", "2026-01-14T12:00");
  CHECK(f.window_minutes == 840);
  // January: allowance 600 drawn first, then reserve 240 of 600: allowance 0, reserve 360 left.
  CHECK(f.allowance_left_minutes == 0);
  CHECK(f.reserve_left_minutes == 360);
  // 30 a day from 15 Jan: reserve 360 = 30·12 → day 12 = 26 Jan.
  CHECK(f.reserve_runs_out_on == 20260126);
  // 31 Jan is day 17: 510 projected, 360 from the reserve, 150 beyond: 150/60 × 2 000 = 5 000.00.
  CHECK(f.expected_overage_minutes == 150);
  CHECK(f.expected_overage_minor == 500000);
}
