// Property tests: random but reproducible histories on every example plan, checked against
// identities that must hold whatever the events are. Each seed is one history: clients on
// all plans, random hour and item work (urgent, off-hours, late), blocks with and without
// expiry, add-ons, voids, payments, month closes.
#include <array>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "projections/checkpoint.h"
#include "sim.h"

using namespace hourbank;
using namespace hourbank::projections;
using hourbank::testing::Sim;

namespace {

struct Spec {
  const char* client;
  const char* currency;
  StartContract contract;
  std::vector<const char*> hour_kinds;
  std::vector<const char*> item_kinds;
};

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {"c1",
       "RUB",
       {.plan_id = "1c-start", .from_month = 202601, .term_months = 6},
       {"development", "consultation"},
       {}},
      {"k1",
       "RUB",
       {.plan_id = "kit-hours-10", .from_month = 202601, .term_months = 6},
       {"support"},
       {}},
      {"k2",
       "RUB",
       {.plan_id = "kit-prepaid", .from_month = 202601},
       {"support", "development"},
       {}},
      {"a1",
       "USD",
       {.plan_id = "altercpa-basic", .from_month = 202601},
       {},
       {"site_link", "api_offer", "complex_integration", "emergency"}},
      {"a2",
       "USD",
       {.plan_id = "altercpa-constructor", .from_month = 202601},
       {},
       {"simple_integration", "external_offer", "site_archive"}},
      {"g1",
       "RUB",
       {.plan_id = "agbis",
        .from_month = 202601,
        .term_months = 6,
        .prepaid_months = 6,
        .timely = true,
        .units = 12},
       {"support"},
       {}},
      {"b1",
       "RUB",
       {.plan_id = "bpm-premium", .from_month = 202601, .term_months = 12},
       {"support"},
       {}},
  };
  return specs;
}

// Runs one random history and returns the simulator (clients folded with `options`).
Sim RandomHistory(uint32_t seed, ClientOptions options) {
  Sim s(options);
  for (const char* f :
       {"1c-start.toml", "kit.toml", "altercpa.toml", "agbis.toml", "bpmonline.toml"})
    s.DefineExample(f);
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (const Spec& sp : Specs()) {
    s.AddClient(sp.client, sp.currency);
    s.Start(sp.client, sp.contract);
  }
  for (uint32_t month = 202601; month <= 202605; month = NextMonth(month)) {
    for (const Spec& sp : Specs()) {
      auto& c = s.client(sp.client);
      const std::string m = FormatMonth(month);
      if (sp.client == std::string("k2") || pick(0, 4) == 0) {
        BuyHours b{.minutes = pick(1, 20) * 60, .price_minor = pick(1, 9) * 100000};
        b.at_us = s.At(sp.client, m + "-02T10:00");
        if (pick(0, 1))
          b.expires_at_us = s.At(sp.client, FormatMonth(AddMonths(month, pick(0, 2))) + "-20");
        s.Must(sp.client, DecideBuyHours(c, b, b.at_us + Sim::kHourUs));
      }
      if (sp.client == std::string("a2") && pick(0, 1))
        s.Must(sp.client,
               DecideBuyAddon(c, "altercpa-offers-simple-40", month,
                              s.At(sp.client, m + "-01T12:00"), s.At(sp.client, m + "-01T13:00")));
      const int entries = pick(1, 8);
      std::vector<uint64_t> logged;
      for (int i = 0; i < entries; ++i) {
        const std::string at =
            fmt::format("{}-{:02}T{:02}:{:02}", m, pick(1, 28), pick(0, 23), pick(0, 3) * 15);
        const bool urgent = pick(0, 5) == 0;
        if (!sp.hour_kinds.empty()) {
          const char* kind = sp.hour_kinds[size_t(pick(0, int(sp.hour_kinds.size()) - 1))];
          logged.push_back(s.LogHours(sp.client, kind, pick(1, 40) * 15, at,
                                      fmt::format("T{}", pick(1, 5)), urgent));
        } else {
          const char* kind = sp.item_kinds[size_t(pick(0, int(sp.item_kinds.size()) - 1))];
          logged.push_back(s.LogItems(sp.client, kind, pick(1, 30), at, urgent));
        }
      }
      // 1C bills on acceptance: accept some tasks this month, leave others for later.
      if (sp.client == std::string("c1"))
        for (int t = 1; t <= 5; ++t)
          if (!c.PendingForTask(fmt::format("T{}", t)).empty() && pick(0, 2) != 0)
            s.Accept(sp.client, fmt::format("T{}", t), m + "-28T20:00");
      if (pick(0, 3) == 0 && !logged.empty()) {
        const uint64_t victim = logged[size_t(pick(0, int(logged.size()) - 1))];
        if (c.FindEntry(victim) && !c.FindEntry(victim)->voided)
          s.Must(sp.client, DecideVoid(c, victim, "random void", s.At(sp.client, m + "-28T21:00")));
      }
    }
    for (const Spec& sp : Specs()) s.Close(sp.client, month);
  }
  return s;
}

}  // namespace

TEST_CASE("every bucket balances in every month of random histories", "[property]") {
  // included = from allowance + carried + expired allowance
  // reserve_in + carried = from reserve + expired reserve + reserve_out
  // blocks_in = from blocks + expired blocks + blocks_out
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    Sim s = RandomHistory(seed, {.retain_entries = true});
    for (const Spec& sp : Specs()) {
      const auto& c = s.client(sp.client);
      for (uint32_t m = 202601; m <= 202606; m = NextMonth(m)) {
        const MonthEval ev = c.Evaluate(m);
        INFO("seed " << seed << " client " << sp.client << " month " << FormatMonth(m));
        CHECK(ev.included_minutes ==
              ev.allowance_used_minutes + ev.carried_minutes + ev.expired_allowance_minutes);
        CHECK(ev.reserve_start_minutes + ev.carried_minutes ==
              ev.reserve_used_minutes + ev.expired_reserve_minutes + ev.reserve_end_minutes);
        CHECK(ev.blocks_start_minutes ==
              ev.block_used_minutes + ev.expired_block_minutes + ev.blocks_end_minutes());
        CHECK(ev.used_minutes == ev.allowance_used_minutes + ev.reserve_used_minutes +
                                     ev.block_used_minutes + ev.overage_minutes +
                                     ev.unlimited_minutes);
      }
      CHECK(c.problems().empty());
    }
  }
}

TEST_CASE("each month starts with the reserve the month before ended with", "[property]") {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    Sim s = RandomHistory(seed, {.retain_entries = true});
    for (const Spec& sp : Specs()) {
      const auto& c = s.client(sp.client);
      for (uint32_t m = 202601; m < 202606; m = NextMonth(m)) {
        INFO("seed " << seed << " client " << sp.client << " month " << FormatMonth(m));
        CHECK(c.Evaluate(NextMonth(m)).reserve_start_minutes == c.Evaluate(m).reserve_end_minutes);
      }
    }
  }
}

TEST_CASE("every invoice total equals the sum of its lines and is what the close recorded",
          "[property]") {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    Sim s = RandomHistory(seed, {.retain_entries = true});
    for (const Spec& sp : Specs()) {
      const auto& c = s.client(sp.client);
      for (uint32_t m = 202601; m <= 202605; m = NextMonth(m)) {
        const Invoice inv = c.InvoiceFor(m);
        int64_t sum = 0;
        for (const auto& l : inv.lines) sum += l.amount_minor;
        INFO("seed " << seed << " client " << sp.client << " month " << FormatMonth(m));
        CHECK(sum == inv.total_minor);
        CHECK(inv.closed);
        CHECK(c.recorded_close(m).value().total_minor == inv.total_minor);
        CHECK(c.recorded_close(m).value().lines_digest == LinesDigest(inv.lines));
      }
    }
  }
}

TEST_CASE("a rebuild without retained entries gives the same figures as the incremental fold",
          "[property]") {
  // The whole-ledger rebuild folds with retain_entries = false (closed months keep only their
  // figures); the CLI folds one client with entries retained. Both must agree on everything.
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    Sim full = RandomHistory(seed, {.retain_entries = true});
    Sim lean = RandomHistory(seed, {.retain_entries = false});
    for (const Spec& sp : Specs()) {
      for (uint32_t m = 202601; m <= 202606; m = NextMonth(m)) {
        const MonthEval a = full.client(sp.client).Evaluate(m);
        const MonthEval b = lean.client(sp.client).Evaluate(m);
        INFO("seed " << seed << " client " << sp.client << " month " << FormatMonth(m));
        CHECK(a.invoice.lines == b.invoice.lines);
        CHECK(a.used_minutes == b.used_minutes);
        CHECK(a.carried_minutes == b.carried_minutes);
        CHECK(a.expired_minutes() == b.expired_minutes());
        CHECK(a.reserve_end_minutes == b.reserve_end_minutes);
        CHECK(a.blocks_end_minutes() == b.blocks_end_minutes());
      }
      CHECK(full.client(sp.client).outstanding_minor() ==
            lean.client(sp.client).outstanding_minor());
    }
  }
}

TEST_CASE("closing again after a replay decides nothing new", "[property]") {
  // Deciding is a function of the fold: a state rebuilt from the same events closes nothing twice.
  Sim s = RandomHistory(3, {.retain_entries = false});
  for (const Spec& sp : Specs()) {
    auto again = DecideClose(s.client(sp.client), 202605, s.now_us);
    REQUIRE(again.ok());
    CHECK(again.value().events.empty());
  }
}

TEST_CASE("a checkpoint restored and caught up folds to exactly the full replay",
          "[property][checkpoint]") {
  // For every client and several cut points: fold events 1..k, save a checkpoint, restore it,
  // fold events k+1..n; the result must serialise identically to folding 1..n in one go, for
  // both fold kinds (lean, as `rebuild` uses, and with entries retained).
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    for (bool retain : {false, true}) {
      Sim s = RandomHistory(seed, {.retain_entries = retain});
      for (const Spec& sp : Specs()) {
        const auto& events = s.log.at(sp.client);
        const std::string full = SaveCheckpoint(s.client(sp.client));
        for (size_t cut : {size_t(1), events.size() / 3, events.size() / 2, events.size() - 1}) {
          ClientState head({.retain_entries = retain});
          head.set_id(sp.client);
          auto fold = [](ClientState& st, const std::pair<uint64_t, kj::Array<capnp::word>>& e) {
            capnp::FlatArrayMessageReader reader(e.second.asPtr());
            st.Apply(e.first, reader.getRoot<schemas::Event>());
          };
          for (size_t i = 0; i < cut; ++i) fold(head, events[i]);
          auto restored = RestoreCheckpoint(SaveCheckpoint(head));
          REQUIRE(restored.ok());
          ClientState tail = std::move(restored).value();
          for (size_t i = cut; i < events.size(); ++i) fold(tail, events[i]);
          INFO("seed " << seed << " client " << sp.client << " cut " << cut << " retain "
                       << retain);
          CHECK(SaveCheckpoint(tail) == full);
          CHECK(tail.Evaluate(202605).invoice.lines ==
                s.client(sp.client).Evaluate(202605).invoice.lines);
        }
      }
    }
  }
}

TEST_CASE("a checkpoint of another format version is refused, not misread",
          "[property][checkpoint]") {
  CHECK_FALSE(RestoreCheckpoint("{\"format\": 999}").ok());
  CHECK_FALSE(RestoreCheckpoint("not json").ok());
  CHECK(RestoreCheckpoint("not json").error().code == Code::kCorruption);
}

// ---------------------------------------------------------------------------------------
// Random contract lives (issue 13): one client per life, months 2026-01 … 2026-12, with
// renewals (also onto another plan), early and normal ends, hour work (urgent, late into the
// first open month, awaiting acceptance), voids of open and closed months' entries, blocks
// with expiry days, payments, closes. Every command is decided like the CLI would; refusals
// are part of a random life and are skipped. After each life: no replay problems (the fold
// checks its own laws at every close), the bucket laws for every month, every closed invoice
// unchanged since its close, and checkpoint + catch-up == full replay at a random cut.

namespace {

struct LifePlan {
  const char* id;
  std::vector<const char*> hour_kinds;
  uint32_t units;  // per-licence plans
};

const std::vector<LifePlan>& LifePlans() {
  static const std::vector<LifePlan> plans = {
      {"1c-start", {"development", "consultation"}, 0},
      {"kit-hours-10", {"support", "development"}, 0},
      {"kit-hours-15", {"support"}, 0},
      {"kit-prepaid", {"support", "development"}, 0},
      {"kit-unlimited", {"support"}, 0},
      {"agbis", {"support"}, 7},
      {"bpm-basic", {"support"}, 0},
  };
  return plans;
}

const Catalog& LifeCatalog() {
  static const Catalog catalog = [] {
    Sim s;
    for (const char* f : {"1c-start.toml", "kit.toml", "agbis.toml", "bpmonline.toml"})
      s.DefineExample(f);
    return s.catalog;
  }();
  return catalog;
}

// One random life; returns "" or what went wrong.
std::string RandomLife(uint32_t seed, bool check_checkpoint) {
  Sim s;
  s.catalog = LifeCatalog();
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::string id = "c";
  s.AddClient(id, "RUB");
  auto& c = s.client(id);
  const LifePlan* plan = &LifePlans()[size_t(pick(0, int(LifePlans().size()) - 1))];
  auto start = [&](uint32_t from) {
    StartContract sc{.plan_id = plan->id, .from_month = from, .units = plan->units};
    const int term_pick = pick(0, 3);
    sc.term_months =
        term_pick == 0 ? 0 : uint32_t(std::array<int, 3>{3, 6, 12}[size_t(term_pick - 1)]);
    if (pick(0, 2) == 0)
      sc.prepaid_months = sc.term_months ? uint32_t(pick(1, int(sc.term_months))) : 0;
    sc.timely = pick(0, 1) == 1;
    if (s.Commit(id, DecideContractStart(c, s.catalog, sc, s.now_us)).ok()) return true;
    sc.term_months = 0;  // the plan's minimum term (bpmonline: a year)
    sc.prepaid_months = 0;
    return s.Commit(id, DecideContractStart(c, s.catalog, sc, s.now_us)).ok();
  };
  if (!start(202601))
    return fmt::format("seed {}: the first contract on {} was refused", seed, plan->id);
  std::map<uint32_t, std::pair<int64_t, std::array<uint8_t, 32>>> closed_invoices;
  std::vector<uint64_t> entries;
  for (uint32_t month = 202601; month <= 202612; month = NextMonth(month)) {
    const std::string m = FormatMonth(month);
    auto at = [&](int day, int hour) {
      return s.At(id, fmt::format("{}-{:02}T{:02}:{:02}", m, day, hour, pick(0, 3) * 15));
    };
    const ContractTerms* t = c.TermsFor(month);
    if (t == nullptr) {
      // Between contracts: sometimes a new one, on any plan.
      if (c.last_closed_month() < month && pick(0, 2) == 0) {
        plan = &LifePlans()[size_t(pick(0, int(LifePlans().size()) - 1))];
        start(month);
      }
    }
    if (c.TermsFor(month) != nullptr) {
      if (pick(0, 3) == 0) {
        BuyHours b{.minutes = pick(1, 20) * 60,
                   .price_minor = pick(1, 9) * 100000,
                   .at_us = at(pick(1, 5), 10)};
        if (pick(0, 1)) {
          const uint32_t em = AddMonths(month, pick(0, 2));
          b.expires_day = int32_t(em) * 100 + pick(1, 28);
        }
        (void)s.Commit(id, DecideBuyHours(c, b, b.at_us));
      }
      const int n = pick(0, 6);
      for (int i = 0; i < n; ++i) {
        LogWork w;
        w.kind = plan->hour_kinds[size_t(pick(0, int(plan->hour_kinds.size()) - 1))];
        w.minutes = pick(1, 40) * 15;
        w.at_us = at(pick(1, 28), pick(0, 23));
        w.task = fmt::format("T{}", pick(1, 4));
        w.urgent = pick(0, 6) == 0;
        w.emergency = pick(0, 9) == 0;
        if (s.Commit(id, DecideLog(c, w, w.at_us + Sim::kHourUs)).ok()) entries.push_back(s.seq);
      }
      if (pick(0, 4) == 0 && c.last_closed_month() != 0) {  // late work for a closed month
        LogWork w{.kind = plan->hour_kinds[0],
                  .minutes = 60,
                  .at_us = c.zone().MonthStartUs(c.last_closed_month()) + Sim::kHourUs * 30,
                  .late = true};
        if (s.Commit(id, DecideLog(c, w, at(28, 12))).ok()) entries.push_back(s.seq);
      }
      for (int task = 1; task <= 4; ++task)
        if (!c.PendingForTask(fmt::format("T{}", task)).empty() && pick(0, 2) != 0)
          (void)s.Commit(id,
                         DecideAccept(c, fmt::format("T{}", task), at(28, 20), false, at(28, 21)));
      if (!entries.empty() && pick(0, 3) == 0) {  // a void, maybe of a closed month's entry
        const uint64_t victim = entries[size_t(pick(0, int(entries.size()) - 1))];
        (void)s.Commit(id, DecideVoid(c, victim, "random void", at(28, 22)));
      }
      if (pick(0, 2) == 0) {
        const int64_t at_us = at(pick(1, 28), 9);
        (void)s.Commit(id, DecidePay(c, pick(1, 60) * 100000, "pay", at_us, at_us));
      }
      const ContractTerms* now = c.TermsFor(month);
      if (now && now->last_month == month && pick(0, 1) == 0) {
        // A timely renewal while the last month is open, sometimes onto another plan.
        if (pick(0, 2) == 0) plan = &LifePlans()[size_t(pick(0, int(LifePlans().size()) - 1))];
        start(NextMonth(month));
      } else if (now && pick(0, 11) == 0) {
        // An end: this month, or the month before when it is closed (expires at once), early or
        // not.
        const uint32_t last =
            (pick(0, 1) && c.IsClosed(AddMonths(month, -1)) && c.TermsFor(AddMonths(month, -1)))
                ? AddMonths(month, -1)
                : month;
        (void)s.Commit(id, DecideContractEnd(c, last, pick(0, 1) == 1, at(28, 23)));
      }
    }
    if (c.has_contract() && c.FirstOpenMonth() == month) {
      Status closed =
          s.Commit(id, DecideClose(c, month, c.zone().MonthEndUs(month) + Sim::kHourUs));
      if (!closed.ok())
        return fmt::format("seed {}: closing {} was refused: {}", seed, m, closed.error().message);
      const Invoice inv = c.InvoiceFor(month);
      closed_invoices[month] = {inv.total_minor, LinesDigest(inv.lines)};
    }
  }
  for (const ReplayProblem& p : c.problems())
    return fmt::format("seed {}: replay problem at #{}: {}", seed, p.seq, p.what);
  for (const auto& [month, inv] : closed_invoices) {
    const Invoice now = c.InvoiceFor(month);
    if (now.total_minor != inv.first || LinesDigest(now.lines) != inv.second || !now.closed)
      return fmt::format("seed {}: closed invoice {} changed after its close", seed,
                         FormatMonth(month));
  }
  for (uint32_t month = 202601; month <= 202701; month = NextMonth(month)) {
    const MonthEval ev = c.Evaluate(month);
    int64_t sum = 0;
    for (const auto& l : ev.invoice.lines) sum += l.amount_minor;
    if (ev.included_minutes !=
            ev.allowance_used_minutes + ev.carried_minutes + ev.expired_allowance_minutes ||
        ev.reserve_start_minutes + ev.carried_minutes !=
            ev.reserve_used_minutes + ev.expired_reserve_minutes + ev.reserve_end_minutes ||
        ev.blocks_start_minutes !=
            ev.block_used_minutes + ev.expired_block_minutes + ev.blocks_end_minutes() ||
        ev.used_minutes != ev.allowance_used_minutes + ev.reserve_used_minutes +
                               ev.block_used_minutes + ev.overage_minutes + ev.unlimited_minutes ||
        sum != ev.invoice.total_minor)
      return fmt::format("seed {}: a law fails in {}", seed, FormatMonth(month));
  }
  if (check_checkpoint) {
    const auto& events = s.log.at(id);
    const size_t cut = size_t(pick(1, int(events.size()) - 1));
    {
      const bool retain = seed % 2 == 0;  // lean (as `rebuild` folds) and retained, alternately
      ClientState full({.retain_entries = retain}), head({.retain_entries = retain});
      full.set_id(id);
      head.set_id(id);
      auto fold = [](ClientState& st, const std::pair<uint64_t, kj::Array<capnp::word>>& e) {
        capnp::FlatArrayMessageReader reader(e.second.asPtr());
        st.Apply(e.first, reader.getRoot<schemas::Event>());
      };
      for (const auto& e : events) fold(full, e);
      for (size_t i = 0; i < cut; ++i) fold(head, events[i]);
      auto restored = RestoreCheckpoint(SaveCheckpoint(head));
      if (!restored.ok()) return fmt::format("seed {}: checkpoint does not restore", seed);
      ClientState tail = std::move(restored).value();
      for (size_t i = cut; i < events.size(); ++i) fold(tail, events[i]);
      if (SaveCheckpoint(tail) != SaveCheckpoint(full))
        return fmt::format(
            "seed {}: checkpoint at event {} + catch-up differs from the full replay (retain {})",
            seed, cut, retain);
      if (!full.problems().empty())
        return fmt::format("seed {}: replay problem: {}", seed, full.problems().front().what);
    }
  }
  return {};
}

}  // namespace

TEST_CASE(
    "random contract lives keep every law, never change a closed invoice, and checkpoint like a "
    "replay",
    "[property][lifecycle]") {
  // 10 000 lives in CI; HOURBANK_LIVES overrides (a longer soak).
  uint32_t lives = 10000;
  if (const char* env = std::getenv("HOURBANK_LIVES"))
    lives = uint32_t(std::strtoul(env, nullptr, 10));
  uint32_t failures = 0;
  for (uint32_t seed = 1; seed <= lives; ++seed) {
    const std::string what = RandomLife(seed, true);
    if (!what.empty() && ++failures <= 5) FAIL_CHECK(what);
  }
  CHECK(failures == 0);
}
