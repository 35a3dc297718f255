// Closed months kept packed (projections/month_pack.h, issue 19): packing is lossless, damaged
// bytes never crash, and a closed month reads back exactly as the close evaluated it, also
// without retained entries and after a checkpoint.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "projections/checkpoint.h"
#include "projections/month_pack.h"
#include "sim.h"

using namespace hourbank::projections;
using hourbank::testing::Sim;

namespace {

MonthEval EveryField() {
  MonthEval e;
  e.month = 202611;
  e.in_contract = true;
  e.trial = true;
  e.closed = true;
  e.included_minutes = 600;
  e.allowance_used_minutes = 590;
  e.reserve_start_minutes = 120;
  e.reserve_used_minutes = 45;
  e.blocks_start_minutes = 1200;
  e.block_used_minutes = 300;
  e.overage_minutes = 75;
  e.unlimited_minutes = 15;
  e.used_minutes = 1025;
  e.pending_minutes = 5;
  e.pending_entries = 2;
  e.pools = {{"offers", {40, 12}}, {"sites", {3, 5}}, {"", {0, 0}}};
  e.carried_minutes = 10;
  e.expired_allowance_minutes = -1;  // signed fields keep their sign
  e.expired_reserve_minutes = std::numeric_limits<int64_t>::min();
  e.expired_block_minutes = std::numeric_limits<int64_t>::max();
  e.expired_blocks = {{17, 60}, {std::numeric_limits<uint64_t>::max(), -60}};
  e.reserve_end_minutes = 85;
  e.blocks_end = {{.seq = 17,
                   .minutes = 1200,
                   .left_minutes = 900,
                   .expires_at_us = 1'790'000'000'000'000,
                   .expires_month = 202612,
                   .month = 202610},
                  {.seq = 40, .minutes = 600, .left_minutes = 600, .month = 202612}};
  e.invoice.month = 202611;
  e.invoice.closed = true;
  e.invoice.total_minor = -2'500'050;
  e.invoice.lines = {{"fee", "Абонентская плата, ноябрь", 1, 2'550'000, 2'550'000},
                     {"credit", "", 1, -5'050'050, -5'050'050},
                     {"task", std::string(300, 'x'), 3, 0, 0}};
  return e;
}

}  // namespace

TEST_CASE("a packed month unpacks to exactly the evaluation that was packed", "[month_pack]") {
  const MonthEval e = EveryField();
  CHECK(UnpackMonthEval(PackMonthEval(e)) == e);
  CHECK(UnpackMonthEval(PackMonthEval(MonthEval{})) == MonthEval{});
  // The point of packing: beyond its texts, a month with 3 lines, 2 blocks and 3 pools (and
  // figures at the int64 extremes, 10 bytes each) packs in under 200 bytes.
  size_t text = 0;
  for (const InvoiceLine& l : e.invoice.lines) text += l.code.size() + l.description.size();
  for (const auto& [pool, usage] : e.pools) text += pool.size();
  CHECK(PackMonthEval(e).size() < text + 200);
}

TEST_CASE("unpacking cut or garbled bytes never crashes and never invents more than the bytes hold",
          "[month_pack]") {
  const MonthEval e = EveryField();
  const std::string packed = PackMonthEval(e);
  for (size_t n = 0; n < packed.size(); ++n) {
    const MonthEval cut = UnpackMonthEval(std::string_view(packed).substr(0, n));
    CHECK(cut.invoice.lines.size() <= e.invoice.lines.size());
    CHECK(cut.blocks_end.size() <= e.blocks_end.size());
    CHECK(cut.pools.size() <= e.pools.size());
  }
  // Every byte 0xff: one endless varint, read as far as the bytes go, then zeros.
  const MonthEval ff = UnpackMonthEval(std::string(64, '\xff'));
  CHECK(ff.invoice.lines.empty());
  // A huge count with nothing after it gives no records at all.
  std::string bomb(4 + 16, '\0');  // month, 3 flags, 16 figures
  bomb += "\xff\xff\xff\xff\x0f";  // expired_blocks: 2^32 - 1 records
  CHECK(UnpackMonthEval(bomb).expired_blocks.empty());
}

namespace {

// Two clients over a three-month term: hours with overage, a prepaid block, an item plan with
// slot pools and per-task lines; evaluated just before each close and read back after it.
void Scenario(Sim& s, std::vector<std::pair<std::string, MonthEval>>* before_close) {
  s.DefineExample("kit.toml");
  s.DefineExample("altercpa.toml");
  s.AddClient("k", "RUB");
  s.Start("k", {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 3});
  s.AddClient("a", "USD");
  s.Start("a", {.plan_id = "altercpa-basic", .from_month = 202601});
  s.Must("k",
         DecideBuyHours(
             s.client("k"),
             {.minutes = 600, .price_minor = 1'500'000, .at_us = s.At("k", "2026-01-05T10:00")},
             s.At("k", "2026-01-05T10:00")));
  for (uint32_t m : {202601u, 202602u, 202603u}) {
    const std::string month = FormatMonth(m);
    s.LogHours("k", "support", m == 202601u ? 1500 : 200, month + "-10T12:00", "T-" + month);
    s.LogItems("a", "site_link", 2, month + "-11T12:00");
    s.LogItems("a", "api_offer", 1, month + "-12T12:00");
    for (const char* id : {"k", "a"}) {
      MonthEval expected = s.client(id).Evaluate(m);
      expected.closed = true;
      expected.invoice.closed = true;
      before_close->emplace_back(id, std::move(expected));
      s.Close(id, m);
    }
  }
}

}  // namespace

TEST_CASE(
    "a closed month reads back as the close evaluated it, with or without retained entries "
    "and after a checkpoint",
    "[month_pack]") {
  for (bool retain : {true, false}) {
    INFO("retain_entries " << retain);
    Sim s({.retain_entries = retain});
    std::vector<std::pair<std::string, MonthEval>> before_close;
    Scenario(s, &before_close);
    REQUIRE(before_close.size() == 6);
    // The scenario does reach what packing must keep: overage, a block, pools, several lines.
    CHECK(before_close[0].second.overage_minutes + before_close[0].second.block_used_minutes > 0);
    CHECK_FALSE(before_close[1].second.pools.empty());
    CHECK(before_close[1].second.invoice.lines.size() >= 2);
    for (const auto& [id, expected] : before_close) {
      INFO("client " << id << " month " << expected.month);
      CHECK(s.client(id).problems().empty());
      CHECK(s.client(id).Evaluate(expected.month) == expected);
      auto restored = RestoreCheckpoint(SaveCheckpoint(s.client(id)));
      REQUIRE(restored.ok());
      CHECK(restored.value().Evaluate(expected.month) == expected);
    }
  }
}

// ---- ClosedMonths: one client's closed months in one arena, texts pooled (issue 19, h-mem)

namespace {

RecordedClose EveryCloseField(uint32_t month) {
  RecordedClose rc;
  rc.carried_minutes = 90;
  rc.reserve_after_minutes = -7;
  rc.expired = {{hourbank::schemas::Bucket::RESERVE, 0, 30},
                {hourbank::schemas::Bucket::BLOCK, std::numeric_limits<uint64_t>::max(), -1}};
  rc.slots_expired = {{"offer", 20}, {"simple_integration", 3}, {"", 1}};
  rc.total_minor = std::numeric_limits<int64_t>::min() + month;
  for (size_t i = 0; i < rc.lines_digest.size(); ++i) rc.lines_digest[i] = uint8_t(month + i);
  rc.line_count = 7;
  rc.closed_seq = 1'000'000 + month;
  return rc;
}

MonthEval MonthNumbered(uint32_t month) {
  MonthEval e = EveryField();
  e.month = month;
  e.invoice.month = month;
  e.invoice.total_minor = month;
  e.invoice.lines[0].description = "Абонентская плата, " + FormatMonth(month);
  return e;
}

}  // namespace

TEST_CASE("months stored out of order read back by month, each exactly as stored",
          "[month_pack][closed_months]") {
  ClosedMonths c;
  for (uint32_t m : {202605u, 202601u, 202603u, 202602u, 202604u}) {
    c.PutEval(m, MonthNumbered(m));
    c.PutClose(m, EveryCloseField(m));
  }
  c.PutEval(202512, MonthNumbered(202512));     // figures only
  c.PutClose(202606, EveryCloseField(202606));  // a close only
  REQUIRE(c.size() == 7);
  for (size_t i = 0; i + 1 < c.size(); ++i) CHECK(c.month(i) < c.month(i + 1));
  for (uint32_t m : {202601u, 202602u, 202603u, 202604u, 202605u}) {
    INFO("month " << m);
    CHECK(c.Eval(m) == MonthNumbered(m));
    CHECK(c.Close(m) == EveryCloseField(m));
    CHECK(c.CloseTotalAt(c.Find(m)) == EveryCloseField(m).total_minor);
  }
  CHECK(c.Eval(202512) == MonthNumbered(202512));
  CHECK_FALSE(c.Close(202512).has_value());
  CHECK_FALSE(c.Eval(202606).has_value());
  CHECK(c.Close(202606) == EveryCloseField(202606));
  CHECK(c.Find(202607) == c.size());
  CHECK_FALSE(c.Eval(202607).has_value());
}

TEST_CASE("a month stored again replaces its figures and leaves every other month as it was",
          "[month_pack][closed_months]") {
  ClosedMonths c;
  for (uint32_t m = 202601; m <= 202612; ++m) {
    c.PutEval(m, MonthNumbered(m));
    c.PutClose(m, EveryCloseField(m));
  }
  const size_t before = c.heap_bytes();
  // The last month re-evaluated (hours expiring after its close) and a middle month replaced,
  // each many times: the old bytes are reused or compacted away, not kept.
  for (int round = 0; round < 500; ++round) {
    MonthEval last = MonthNumbered(202612);
    last.expired_block_minutes = round;
    c.PutEval(202612, last);
    MonthEval mid = MonthNumbered(202606);
    mid.reserve_end_minutes = round;
    c.PutEval(202606, mid);
  }
  MonthEval last = MonthNumbered(202612), mid = MonthNumbered(202606);
  last.expired_block_minutes = 499;
  mid.reserve_end_minutes = 499;
  CHECK(c.Eval(202612) == last);
  CHECK(c.Eval(202606) == mid);
  for (uint32_t m = 202601; m <= 202612; ++m) {
    INFO("month " << m);
    if (m != 202606 && m != 202612) CHECK(c.Eval(m) == MonthNumbered(m));
    CHECK(c.Close(m) == EveryCloseField(m));
  }
  CHECK(c.heap_bytes() < 3 * before);
}

TEST_CASE("a text repeated in every closed month is stored once", "[month_pack][closed_months]") {
  ClosedMonths c;
  MonthEval e;
  const std::string long_text(300, 'd');
  e.invoice.lines = {{"task", long_text + "1", 1, 100, 100},
                     {"task", long_text + "2", 2, 100, 200},
                     {"surcharge", long_text + "3", 1, 50, 50}};
  e.pools = {{long_text, {1, 1}}};
  for (uint32_t m = 200001, i = 0; i < 200; m = NextMonth(m), ++i) {
    e.month = m;
    c.PutEval(m, e);
    CHECK(c.Eval(m) == e);
  }
  // 200 months of 1 200 bytes of text each would be 240 000 bytes inline.
  CHECK(c.heap_bytes() < 200 * 300);
}

TEST_CASE("a checkpoint saved and restored keeps every closed month's figures and recorded close",
          "[month_pack][closed_months]") {
  Sim s;
  std::vector<std::pair<std::string, MonthEval>> before_close;
  Scenario(s, &before_close);
  for (const char* id : {"k", "a"}) {
    INFO("client " << id);
    const ClientState& c = s.client(id);
    const auto closes = c.recorded_closes();
    REQUIRE(closes.size() == 3);
    CHECK(closes[0].first == 202601);
    CHECK(closes[2].first == 202603);
    for (const auto& [m, rc] : closes) CHECK(rc.closed_seq != 0);
    auto restored = RestoreCheckpoint(SaveCheckpoint(c));
    REQUIRE(restored.ok());
    CHECK(restored.value().recorded_closes() == closes);
    for (uint32_t m : {202601u, 202602u, 202603u})
      CHECK(restored.value().Evaluate(m) == c.Evaluate(m));
    // The checkpoint text is the same whether written before or after the round trip.
    CHECK(SaveCheckpoint(restored.value()) == SaveCheckpoint(c));
  }
  // The item plan's unused slots expire at each close: the pooled pool names read back.
  CHECK_FALSE(s.client("a").recorded_close(202601).value().slots_expired.empty());
}
