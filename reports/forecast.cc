// The burn-down forecast (reports/forecast.h): a day-by-day projection in integers.
#include "reports/forecast.h"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "reports/figures.h"
#include "reports/text.h"

namespace hourbank::reports {

using namespace projections;

namespace {

// Days projected at most: the current month and horizon_months more (31 days each).
constexpr int32_t kHorizonMonthsMax = 24;
constexpr int32_t kWindowDaysMax = 366;

bool IsHourSource(Charge::Source s) {
  return s == Charge::Source::kAllowance || s == Charge::Source::kReserve ||
         s == Charge::Source::kBlock || s == Charge::Source::kOverage ||
         s == Charge::Source::kUnlimited;
}

// The minutes an entry drew from the hour buckets (its minutes × multiplier, as billed).
int64_t DrawnMinutes(const Entry& e) {
  int64_t sum = 0;
  for (const Charge& c : e.charges)
    if (IsHourSource(c.source)) sum += c.minutes;
  return sum;
}

// The buckets while the projection runs, in billing's draw order.
struct Buckets {
  int64_t allowance = 0;
  int64_t reserve = 0;
  std::vector<Block> blocks;  // left_minutes = minutes left; soonest-expiring first, then oldest
};

// The blocks with minutes left now: after this month's work (blocks_end), plus those that
// expire at this open month's close (still usable until then), plus blocks bought for later.
std::vector<Block> BlocksNow(const ClientState& s, const MonthEval& ev) {
  std::vector<Block> out;
  for (const Block& bought : s.blocks()) {
    int64_t left = 0;
    for (const Block& b : ev.blocks_end)
      if (b.seq == bought.seq) left = b.left_minutes;
    if (!ev.closed)
      for (const auto& [seq, minutes] : ev.expired_blocks)
        if (seq == bought.seq) left = minutes;
    if (left <= 0) continue;
    Block b = bought;
    b.left_minutes = left;
    out.push_back(b);
  }
  std::stable_sort(out.begin(), out.end(), [](const Block& a, const Block& b) {
    const int64_t ea = a.expires_at_us ? a.expires_at_us : INT64_MAX;
    const int64_t eb = b.expires_at_us ? b.expires_at_us : INT64_MAX;
    return ea != eb ? ea < eb : a.seq < b.seq;
  });
  return out;
}

BlockForecast* FindBlock(Forecast& f, uint64_t seq) {
  for (BlockForecast& b : f.blocks)
    if (b.seq == seq) return &b;
  return nullptr;
}

// Draws one projected day's minutes (billing's order); returns what no bucket paid for.
int64_t DrawDay(Buckets& k, int64_t need, int32_t day, uint32_t month, const Zone& zone,
                Forecast& f) {
  auto take = [&need](int64_t& pool) {
    const int64_t n = std::min(need, pool);
    if (n <= 0) return false;
    pool -= n;
    need -= n;
    return pool == 0;
  };
  if (take(k.allowance) && month == f.month && f.allowance_runs_out_on == 0)
    f.allowance_runs_out_on = day;
  if (take(k.reserve) && f.reserve_runs_out_on == 0) f.reserve_runs_out_on = day;
  const int64_t day_start_us = zone.DayStartUs(day);
  for (Block& b : k.blocks) {
    if (need <= 0) break;
    if (b.month > month || (b.expires_month != 0 && b.expires_month < month)) continue;
    if (b.expires_at_us != 0 && day_start_us >= b.expires_at_us) continue;
    if (take(b.left_minutes))
      if (BlockForecast* bf = FindBlock(f, b.seq); bf && bf->runs_out_on == 0)
        bf->runs_out_on = day;
  }
  return need;
}

// The close of `month` (its last day `day`): the rollover carries or expires the allowance,
// the reserve expires at a term's end, blocks expire with their month or the relationship.
void CloseMonth(const ClientState& s, const ContractTerms& t, uint32_t month, int32_t day,
                Buckets& k, Forecast& f) {
  const PlanSpec& plan = *t.plan;
  int64_t carried = 0;
  switch (plan.rollover) {
    case Rollover::kBurn:
      carried = 0;
      break;
    case Rollover::kCarry:
      carried = std::clamp<int64_t>(plan.reserve_cap_minutes - k.reserve, 0, k.allowance);
      break;
    case Rollover::kCarryUnlimited:
      carried = k.allowance;
      break;
  }
  if (k.allowance - carried > 0) f.expiries.push_back({day, "allowance", 0, k.allowance - carried});
  k.allowance = 0;
  k.reserve += carried;
  bool reserve_expires = false, blocks_expire = false;
  if (t.last_month == month) {
    const ContractTerms* next = s.TermsFor(NextMonth(month));
    reserve_expires = !(next && next->continues);
    blocks_expire = next == nullptr;
  }
  if (reserve_expires && k.reserve > 0) {
    f.expiries.push_back({day, "reserve", 0, k.reserve});
    k.reserve = 0;
  }
  for (Block& b : k.blocks) {
    if (b.month > month || b.left_minutes <= 0) continue;
    if ((b.expires_month != 0 && b.expires_month <= month) || blocks_expire) {
      f.expiries.push_back({day, "block", b.seq, b.left_minutes});
      b.left_minutes = 0;
    }
  }
}

int64_t WindowMinutes(const ClientState& s, const Zone& zone, int64_t from_us, int64_t to_us,
                      uint32_t month) {
  int64_t sum = 0;
  for (uint32_t m = zone.MonthOf(from_us); m <= month; m = NextMonth(m))
    for (const Entry& e : s.EntriesFor(m))
      if (e.unit == Unit::kHour && !e.voided && e.at_us >= from_us && e.at_us < to_us)
        sum += DrawnMinutes(e);
  for (const Entry* e : s.PendingEntries())
    if (e->unit == Unit::kHour && !e->voided && e->at_us >= from_us && e->at_us < to_us)
      sum += RoundDiv(e->minutes * int64_t(e->multiplier_percent), 100);
  return sum;
}

int64_t PendingMinutes(const ClientState& s) {
  int64_t sum = 0;
  for (const Entry* e : s.PendingEntries())
    if (e->unit == Unit::kHour && !e->voided)
      sum += RoundDiv(e->minutes * int64_t(e->multiplier_percent), 100);
  return sum;
}

int64_t ClampToInt64(__int128 v) {
  if (v > __int128(INT64_MAX)) return INT64_MAX;
  if (v < __int128(INT64_MIN)) return INT64_MIN;
  return int64_t(v);
}

}  // namespace

Forecast MakeForecast(const ClientState& s, const ForecastOptions& o) {
  Forecast f;
  f.client = s.id();
  f.currency = s.currency();
  const Zone& zone = s.zone();
  f.today = zone.Local(o.now_us).yyyymmdd;
  f.month = zone.MonthOf(o.now_us);
  f.window_days = std::clamp(o.window_days, 1, kWindowDaysMax);
  const int32_t horizon_months = std::clamp(o.horizon_months, 0, kHorizonMonthsMax);
  f.window_from = AddDaysToDate(f.today, -f.window_days);
  f.window_to = AddDaysToDate(f.today, -1);
  f.window_minutes =
      WindowMinutes(s, zone, zone.DayStartUs(f.window_from), zone.DayStartUs(f.today), f.month);
  f.pending_minutes = PendingMinutes(s);
  f.projected_to = f.today;

  const ContractTerms* terms = s.TermsFor(f.month);
  if (!terms || !terms->plan) return f;
  const MonthEval ev = s.Evaluate(f.month);
  f.in_contract = ev.in_contract;
  if (!f.in_contract) return f;
  f.unlimited = terms->plan->unlimited;

  Buckets k;
  k.allowance = AllowanceLeftMinutes(ev);
  k.reserve = ReserveLeftMinutes(ev);
  k.blocks = BlocksNow(s, ev);
  f.allowance_left_minutes = k.allowance;
  f.reserve_left_minutes = k.reserve;
  for (const Block& b : k.blocks) {
    BlockForecast bf;
    bf.seq = b.seq;
    bf.left_minutes = b.left_minutes;
    bf.last_day = b.expires_at_us ? zone.Local(b.expires_at_us - 1).yyyymmdd : 0;
    bf.expires_month = b.expires_month;
    f.blocks.push_back(bf);
  }
  f.overage_minutes = ev.overage_minutes;

  // Day k after today has used floor(window_minutes × k / window_days) in all.
  uint32_t month = f.month;
  const ContractTerms* t = terms;
  int64_t used_before = 0, projected_overage = 0;
  int32_t month_ends = 0;
  const int32_t days_max = 31 * (horizon_months + 1);
  for (int32_t day_index = 1; day_index <= days_max; ++day_index) {
    const int32_t day = AddDaysToDate(f.today, day_index);
    const uint32_t day_month = uint32_t(day / 100);
    if (day_month != month) {
      CloseMonth(s, *t, month, AddDaysToDate(day, -1), k, f);
      if (++month_ends > horizon_months) break;
      month = day_month;
      t = s.TermsFor(month);
      if (!t || !t->plan) break;
      k.allowance = s.Evaluate(month).included_minutes;
    }
    const int64_t used = ClampToInt64(__int128(f.window_minutes) * day_index / f.window_days);
    const int64_t rest = DrawDay(k, used - used_before, day, month, zone, f);
    used_before = used;
    f.projected_to = day;
    if (month != f.month || t->plan->unlimited || rest <= 0) continue;
    projected_overage += rest;
    if (f.overage_starts_on == 0) f.overage_starts_on = day;
  }
  f.expected_overage_minutes = f.overage_minutes + projected_overage;
  int64_t so_far_minor = 0;
  for (const InvoiceLine& l : ev.invoice.lines)
    if (l.code == "overage") so_far_minor += l.amount_minor;
  const __int128 projected_minor = __int128(projected_overage) * terms->plan->overage_rate_minor;
  // Rounded once, half away from zero, like an overage line (projections/units.h RoundDiv).
  f.expected_overage_minor = ClampToInt64(__int128(so_far_minor) + (projected_minor + 30) / 60);
  std::stable_sort(f.expiries.begin(), f.expiries.end(),
                   [](const ForecastExpiry& a, const ForecastExpiry& b) { return a.on < b.on; });
  return f;
}

std::string DayText(int32_t d) {
  if (d == 0) return "-";
  return fmt::format("{:04}-{:02}-{:02}", d / 10000, d / 100 % 100, d % 100);
}

nlohmann::json ForecastJson(const Forecast& f) {
  auto day = [](int32_t d) {
    return d == 0 ? nlohmann::json(nullptr) : nlohmann::json(DayText(d));
  };
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockForecast& b : f.blocks)
    blocks.push_back(
        {{"block_seq", b.seq},
         {"left_minutes", b.left_minutes},
         {"last_day", day(b.last_day)},
         {"expires_month",
          b.expires_month ? nlohmann::json(FormatMonth(b.expires_month)) : nlohmann::json(nullptr)},
         {"runs_out_on", day(b.runs_out_on)}});
  nlohmann::json expiries = nlohmann::json::array();
  for (const ForecastExpiry& e : f.expiries) {
    nlohmann::json j = {{"on", DayText(e.on)}, {"bucket", e.bucket}, {"minutes", e.minutes}};
    if (e.bucket == "block") j["block_seq"] = e.block_seq;
    expiries.push_back(std::move(j));
  }
  return {
      {"client", f.client},
      {"currency", f.currency},
      {"month", FormatMonth(f.month)},
      {"today", DayText(f.today)},
      {"in_contract", f.in_contract},
      {"unlimited", f.unlimited},
      {"window",
       {{"from", DayText(f.window_from)},
        {"to", DayText(f.window_to)},
        {"days", f.window_days},
        {"minutes", f.window_minutes}}},
      {"pending_minutes", f.pending_minutes},
      {"allowance",
       {{"left_minutes", f.allowance_left_minutes}, {"runs_out_on", day(f.allowance_runs_out_on)}}},
      {"reserve",
       {{"left_minutes", f.reserve_left_minutes}, {"runs_out_on", day(f.reserve_runs_out_on)}}},
      {"blocks", std::move(blocks)},
      {"overage",
       {{"so_far_minutes", f.overage_minutes},
        {"expected_minutes", f.expected_overage_minutes},
        {"expected_minor", f.expected_overage_minor},
        {"starts_on", day(f.overage_starts_on)}}},
      {"expiries", std::move(expiries)},
      {"projected_to", DayText(f.projected_to)}};
}

namespace {

struct ForecastLabels {
  const char* title;  // "Forecast for {client}, {today}"
  const char*
      rate;  // "Burn rate: {minutes} in the {days} days {from} – {to} (about {per_week} a week)"
  const char* pending;  // "Awaiting acceptance (not drawn yet): {}"
  const char* bucket;
  const char* day;
  const char* minutes;
  const char* left;
  const char* runs_out;
  const char* allowance;
  const char* reserve;
  const char* block;  // "block #{seq}"
  const char* lasts;  // a bucket that does not run out in the projection
  const char*
      overage;  // "Overage this month: {so far} so far, {expected} expected by {end} ({money})"
  const char* overage_from;  // ", starting {day}"
  const char* expires;       // "Expires unused:"
  const char* nothing_expires;
  const char* no_contract;
  const char* projected;  // "Projected to {day}."
};

const ForecastLabels kEn = {
    "Forecast for {}, {}",
    "Burn rate: {} in the {} days {} – {} (about {} a week)",
    "Awaiting acceptance (not drawn yet): {}",
    "bucket",
    "day",
    "hours",
    "left",
    "runs out",
    "allowance",
    "reserve",
    "block #{}",
    "lasts",
    "Overage this month: {} so far, {} expected by {} ({})",
    ", starting {}",
    "Expires unused:",
    "Nothing is projected to expire.",
    "No contract this month: nothing to forecast.",
    "Projected to {}.",
};
const ForecastLabels kRu = {
    "Прогноз для {}, {}",
    "Темп: {} за {} дн. {} – {} (около {} в неделю)",
    "Ждёт приёмки (ещё не списано): {}",
    "остаток",
    "день",
    "часы",
    "осталось",
    "закончится",
    "часы тарифа",
    "резерв",
    "пакет №{}",
    "хватит",
    "Сверх тарифа в этом месяце: {} уже, {} ожидается к {} ({})",
    ", начиная с {}",
    "Сгорит неиспользованным:",
    "Ничего не сгорит.",
    "В этом месяце нет договора: прогнозировать нечего.",
    "Прогноз до {}.",
};

}  // namespace

ForecastLines ForecastLinesOf(const Forecast& f, Lang lang) {
  const ForecastLabels& L = lang == Lang::kRu ? kRu : kEn;
  ForecastLines out;
  out.bucket = L.bucket, out.left = L.left, out.runs_out = L.runs_out;
  const int64_t per_week = RoundDiv(f.window_minutes * 7, f.window_days > 0 ? f.window_days : 1);
  out.rate = fmt::format(fmt::runtime(L.rate), Duration(f.window_minutes, lang), f.window_days,
                         DayText(f.window_from), DayText(f.window_to), Duration(per_week, lang));
  if (!f.in_contract) return out;
  // An empty bucket has nothing to run out of: "-".
  auto runs = [&](int32_t d, int64_t left) {
    return left <= 0 ? std::string("-") : d ? DayText(d) : std::string(L.lasts);
  };
  out.rows.push_back({"allowance", L.allowance, Duration(f.allowance_left_minutes, lang),
                      runs(f.allowance_runs_out_on, f.allowance_left_minutes)});
  out.rows.push_back({"reserve", L.reserve, Duration(f.reserve_left_minutes, lang),
                      runs(f.reserve_runs_out_on, f.reserve_left_minutes)});
  for (const BlockForecast& b : f.blocks)
    out.rows.push_back({fmt::format("block-{}", b.seq), fmt::format(fmt::runtime(L.block), b.seq),
                        Duration(b.left_minutes, lang), runs(b.runs_out_on, b.left_minutes)});
  if (!f.unlimited) {
    out.overage = fmt::format(fmt::runtime(L.overage), Duration(f.overage_minutes, lang),
                              Duration(f.expected_overage_minutes, lang),
                              DayText(AddDaysToDate(int32_t(NextMonth(f.month)) * 100 + 1, -1)),
                              FormatMoney(f.expected_overage_minor, f.currency));
    if (f.overage_starts_on)
      out.overage += fmt::format(fmt::runtime(L.overage_from), DayText(f.overage_starts_on));
  }
  return out;
}

std::string ForecastText(const Forecast& f, Lang lang) {
  const ForecastLabels& L = lang == Lang::kRu ? kRu : kEn;
  const ForecastLines lines = ForecastLinesOf(f, lang);
  std::string out = fmt::format(fmt::runtime(L.title), f.client, DayText(f.today)) + "\n";
  out += lines.rate + "\n";
  if (f.pending_minutes > 0)
    out += fmt::format(fmt::runtime(L.pending), Duration(f.pending_minutes, lang)) + "\n";
  if (!f.in_contract) return out + L.no_contract + "\n";
  std::vector<std::vector<std::string>> rows;
  for (const ForecastLines::Row& r : lines.rows) rows.push_back({r.bucket, r.left, r.runs_out});
  out += "\n" + RenderTable({{L.bucket}, {L.left, Align::kRight}, {L.runs_out}}, rows) + "\n";
  if (!f.unlimited) out += lines.overage + "\n";
  if (f.expiries.empty()) {
    out += std::string(L.nothing_expires) + "\n";
  } else {
    out += std::string(L.expires) + "\n";
    std::vector<std::vector<std::string>> ex;
    for (const ForecastExpiry& e : f.expiries) {
      const std::string what = e.bucket == "allowance" ? L.allowance
                               : e.bucket == "reserve"
                                   ? L.reserve
                                   : fmt::format(fmt::runtime(L.block), e.block_seq);
      ex.push_back({DayText(e.on), what, Duration(e.minutes, lang)});
    }
    out += RenderTable({{L.day}, {L.bucket}, {L.minutes, Align::kRight}}, ex);
  }
  out += fmt::format(fmt::runtime(L.projected), DayText(f.projected_to)) + "\n";
  return out;
}

}  // namespace hourbank::reports
