#include "projections/month_eval.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>

namespace hourbank::projections {

namespace {

// Unit price of one licence/fee after the prepayment and timely discounts: the discounts
// compound on the unrounded price and the result is rounded once (to round_to_minor, half
// away from zero). 1320 × 0.8 × 0.8 = 844.8 -> 845.
int64_t DiscountedPrice(int64_t price_minor, uint32_t prepaid_percent, uint32_t timely_percent,
                        int64_t round_to_minor) {
  const int64_t factor = int64_t(100 - prepaid_percent) * int64_t(100 - timely_percent);
  int64_t scaled = 0;
  if (MulOverflows(price_minor, factor, &scaled))
    return price_minor;  // plan limits keep this unreachable
  const int64_t round_to = std::max<int64_t>(round_to_minor, 1);
  return RoundDiv(scaled, 10000 * round_to) * round_to;
}

uint32_t PrepaidPercent(const PlanSpec& plan, uint32_t prepaid_months) {
  uint32_t percent = 0;
  for (const PrepaidDiscount& d : plan.prepaid_discounts)
    if (prepaid_months >= d.min_months) percent = std::max(percent, d.percent);
  return percent;
}

int64_t TierPrice(const PlanSpec& plan, uint32_t units) {
  for (const Tier& t : plan.tiers)
    if (units >= t.min_units && (t.max_units == 0 || units <= t.max_units))
      return t.unit_price_minor;
  return plan.tiers.empty() ? 0 : plan.tiers.back().unit_price_minor;
}

void AddLine(std::vector<InvoiceLine>& lines, std::string code, std::string description,
             int64_t quantity, int64_t unit_price_minor, int64_t amount_minor) {
  // Group identical (code, description, unit price) lines: 22 sites at 9.00 is one line.
  for (InvoiceLine& l : lines) {
    if (l.code == code && l.description == description && l.unit_price_minor == unit_price_minor &&
        code != "fee" && code != "discount") {
      l.quantity += quantity;
      l.amount_minor += amount_minor;
      return;
    }
  }
  lines.push_back(
      {std::move(code), std::move(description), quantity, unit_price_minor, amount_minor});
}

// The month's running state while its entries are counted, in counting order.
struct Draws {
  int64_t allowance_left = 0;
  int64_t reserve_left = 0;
  std::vector<Block> blocks;                   // usable this month, soonest-expiring first
  std::vector<InvoiceLine> task_lines;         // one-off items and surcharges
  std::map<int64_t, int64_t> overage_by_rate;  // rate per hour -> minutes
};

// "The first two months of cooperation": trials count from the client's first contract month,
// never from a renewal's.
bool IsTrial(const MonthInput& in, const PlanSpec* plan) {
  const uint32_t month = in.month;
  return plan && plan->trial_months > 0 && in.relationship_first != 0 &&
         MonthsBetween(in.relationship_first, month) < int32_t(plan->trial_months);
}

// Blocks usable this month: bought in or before it, not expired before it; drawn
// soonest-expiring first, then oldest first. Adds their minutes to blocks_start.
std::vector<Block> UsableBlocks(const std::vector<Block>& blocks_in, uint32_t month,
                                int64_t& blocks_start) {
  std::vector<Block> blocks;
  for (const Block& b : blocks_in)
    if (b.left_minutes > 0 && b.month <= month &&
        (b.expires_month == 0 || b.expires_month >= month)) {
      blocks.push_back(b);
      blocks_start += b.left_minutes;
    }
  std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    const int64_t ea = a.expires_at_us ? a.expires_at_us : INT64_MAX;
    const int64_t eb = b.expires_at_us ? b.expires_at_us : INT64_MAX;
    return ea != eb ? ea < eb : a.seq < b.seq;
  });
  return blocks;
}

// Slot pools: plan quotas, single-pool add-ons, shared add-ons (their own pool).
void OpenPools(const PlanSpec& plan, const MonthData* md, std::map<std::string, PoolUsage>& pools) {
  for (const auto& [pool, q] : plan.quotas) pools[pool].quota += q;
  for (const Kind& k : plan.kinds)
    if (!k.pool.empty()) pools[k.pool];  // present with quota 0
  if (md)
    for (const auto& [pool, slots] : md->addon_slots) pools[pool].quota += slots;
}

// Hour work: minutes × multiplier from the allowance, then the reserve, then the blocks, then
// unlimited hours or overage at the kind's or the plan's rate.
void CountHours(const PlanSpec& plan, const Kind* kind, const Entry& e, int64_t billable,
                uint32_t month, Draws& d, MonthEval& ev, std::vector<Charge>& charges) {
  int64_t& allowance_left = d.allowance_left;
  int64_t& reserve_left = d.reserve_left;
  int64_t need = RoundDiv(billable * int64_t(e.multiplier_percent), 100);
  if (need <= 0) return;  // non-billable or written down to nothing: draws no bucket
  ev.used_minutes += need;
  auto take = [&](int64_t& pool, Charge::Source src) {
    const int64_t n = std::min(need, pool);
    if (n <= 0) return;
    pool -= n;
    need -= n;
    charges.push_back({src, n, 0, 0, 0, 0, {}});
  };
  const int64_t a0 = allowance_left, r0 = reserve_left;
  take(allowance_left, Charge::Source::kAllowance);
  ev.allowance_used_minutes += a0 - allowance_left;
  take(reserve_left, Charge::Source::kReserve);
  ev.reserve_used_minutes += r0 - reserve_left;
  for (Block& b : d.blocks) {
    if (need <= 0) break;
    if (b.expires_month != 0 && b.expires_month < month) continue;
    // "--expires DATE" is the last day the block can be used: work after it does not draw it.
    if (b.expires_at_us != 0 && e.at_us >= b.expires_at_us) continue;
    const int64_t n = std::min(need, b.left_minutes);
    if (n <= 0) continue;
    b.left_minutes -= n;
    need -= n;
    ev.block_used_minutes += n;
    charges.push_back({Charge::Source::kBlock, n, 0, 0, 0, b.seq, {}});
  }
  if (need <= 0) return;
  if (plan.unlimited) {
    ev.unlimited_minutes += need;
    charges.push_back({Charge::Source::kUnlimited, need, 0, 0, 0, 0, {}});
    return;
  }
  const int64_t rate = (kind && kind->price_minor) ? *kind->price_minor : plan.overage_rate_minor;
  ev.overage_minutes += need;
  d.overage_by_rate[rate] += need;
  charges.push_back({Charge::Source::kOverage, need, 0, RoundDiv(need * rate, 60), 0, 0, {}});
}

// What one item costs with surcharges: the largest applicable multiplier wins; a kind's own
// off-hours price replaces the off-hours multiplier (it is not doubled).
int64_t EffectiveItemPrice(const PlanSpec& plan, const Kind* kind, const Entry& e, int64_t price) {
  int64_t effective = RoundDiv(price * int64_t(e.multiplier_percent), 100);
  if (e.off_hours && kind && kind->off_hours_price_minor) {
    const int64_t urgent = e.urgent ? RoundDiv(price * int64_t(plan.urgent_percent), 100) : 0;
    effective = std::max(*kind->off_hours_price_minor, urgent);
  }
  return effective;
}

// Item work: included kinds cost nothing; pooled kinds draw their pool, then the add-on
// pools for the kind (paying only the surcharge in a pool); the rest is one-off at the
// effective price.
void CountItems(const PlanSpec& plan, const Kind* kind, const Entry& e, Draws& d, MonthEval& ev,
                std::vector<Charge>& charges) {
  int64_t left = e.count;
  if (kind && kind->included) {
    charges.push_back({Charge::Source::kIncluded, 0, left, 0, 0, 0, {}});
    return;
  }
  const int64_t price = (kind && kind->price_minor) ? *kind->price_minor : 0;
  const int64_t effective = EffectiveItemPrice(plan, kind, e, price);
  const int64_t surcharge = std::max<int64_t>(effective - price, 0);
  const std::string& kind_name = e.kind;
  if (kind && !kind->pool.empty()) {
    auto draw = [&](const std::string& pool, Charge::Source src) {
      auto pit = ev.pools.find(pool);
      if (pit == ev.pools.end() || left <= 0) return;
      const int64_t n = std::min<int64_t>(left, pit->second.left());
      if (n <= 0) return;
      pit->second.used += uint32_t(n);
      left -= n;
      charges.push_back({src, 0, n, 0, n * surcharge, 0, pool});
      if (surcharge > 0)
        AddLine(d.task_lines, "surcharge",
                kind_name + (e.urgent ? " urgent" : " off-hours") + " (in quota)", n, surcharge,
                n * surcharge);
    };
    draw(kind->pool, Charge::Source::kSlot);
    for (const Addon& a : plan.addons)
      if (!a.kinds.empty() && std::find(a.kinds.begin(), a.kinds.end(), e.kind) != a.kinds.end())
        draw(a.id, Charge::Source::kAddonSlot);
  }
  if (left <= 0) return;
  charges.push_back({Charge::Source::kOneOff, 0, left, left * effective, 0, 0, {}});
  std::string desc = kind_name;
  if (e.urgent && effective != price)
    desc += " urgent";
  else if (e.off_hours && effective != price)
    desc += " off-hours";
  AddLine(d.task_lines, "task", desc, left, effective, left * effective);
}

// Closing figures by the rules: what the allowance left carries into the reserve (up to the
// cap) or expires; the reserve expires with the term's last month (a renewal starts without).
void CloseHours(const MonthInput& in, const PlanSpec* plan, const Draws& d, MonthEval& ev) {
  const int64_t unused = d.allowance_left;
  const int64_t reserve_after_use = d.reserve_left;
  if (plan) {
    switch (plan->rollover) {
      case Rollover::kBurn:
        ev.carried_minutes = 0;
        break;
      case Rollover::kCarry:
        ev.carried_minutes =
            std::clamp<int64_t>(plan->reserve_cap_minutes - reserve_after_use, 0, unused);
        break;
      case Rollover::kCarryUnlimited:
        ev.carried_minutes = unused;
        break;
    }
  }
  ev.expired_allowance_minutes = unused - ev.carried_minutes;
  int64_t reserve_end = reserve_after_use + ev.carried_minutes;
  if (in.reserve_expires) {
    ev.expired_reserve_minutes = reserve_end;
    reserve_end = 0;
  }
  ev.reserve_end_minutes = reserve_end;
}

// Blocks after the month: as drawn; those expiring this month (or with the relationship)
// expire; blocks bought for a later month are untouched.
void CloseBlocks(const MonthInput& in, const std::vector<Block>& blocks_in,
                 const std::vector<Block>& drawn, MonthEval& ev) {
  const uint32_t month = in.month;
  for (const Block& b : blocks_in) {
    if (b.month > month) {
      ev.blocks_end.push_back(b);
      continue;
    }
    Block after = b;
    for (const Block& used : drawn)
      if (used.seq == b.seq) after.left_minutes = used.left_minutes;
    const bool expires =
        (after.expires_month != 0 && after.expires_month <= month) || in.blocks_expire;
    if (expires && after.left_minutes > 0) {
      ev.expired_block_minutes += after.left_minutes;
      ev.expired_blocks.emplace_back(after.seq, after.left_minutes);
      after.left_minutes = 0;
    }
    if (after.left_minutes > 0) ev.blocks_end.push_back(after);
  }
}

// The fee line (per licence on tiered plans) and its discount line: the prepayment discount in
// the prepaid months, the timely discount where the plan grants it.
void FeeLines(const MonthInput& in, const ContractTerms& t, const PlanSpec& plan,
              std::vector<InvoiceLine>& lines) {
  const uint32_t month = in.month;
  const bool prepaid_month =
      t.prepaid_months > 0 && MonthsBetween(t.from_month, month) < int32_t(t.prepaid_months);
  const uint32_t prepaid_percent = prepaid_month ? PrepaidPercent(plan, t.prepaid_months) : 0;
  // A plan may grant the timely discount only with a prepayment (AGBIS: the timely columns
  // exist for 6 and 12 months paid at once, none for the 3-month base price).
  const bool timely_ok =
      t.timely && (plan.timely_min_prepaid_months == 0 ||
                   (prepaid_month && t.prepaid_months >= plan.timely_min_prepaid_months));
  const uint32_t timely_percent = timely_ok ? plan.timely_discount_percent : 0;
  int64_t unit_price = plan.fee_minor;
  int64_t units = 1;
  std::string desc = plan.name.empty() ? plan.id : plan.name;
  if (!plan.tiers.empty()) {
    units = in.units;
    unit_price = TierPrice(plan, uint32_t(units));
    desc += fmt::format(", {} licences", units);
  }
  if (unit_price <= 0 || units <= 0) return;
  lines.push_back({"fee", desc, units, unit_price, units * unit_price});
  if (!prepaid_percent && !timely_percent) return;
  const int64_t discounted =
      DiscountedPrice(unit_price, prepaid_percent, timely_percent, plan.round_to_minor);
  std::string why;
  if (prepaid_percent)
    why += fmt::format("prepaid {} months −{}%", t.prepaid_months, prepaid_percent);
  if (timely_percent) why += fmt::format("{}timely −{}%", why.empty() ? "" : ", ", timely_percent);
  lines.push_back(
      {"discount", why, units, discounted - unit_price, units * (discounted - unit_price)});
}

// SLA breach credits (docs/sla.md, "Breach credits"): one negative line per credited incident,
// computed on the month's fee after discounts (the fee and discount lines so far).
void SlaCreditLines(const SlaReport& report, const Sla& sla, std::vector<InvoiceLine>& lines) {
  int64_t fee = 0;
  for (const InvoiceLine& l : lines)
    if (l.code == "fee" || l.code == "discount") fee += l.amount_minor;
  for (const SlaCredit& c : SlaCredits(report, sla, fee))
    lines.push_back(
        {"sla_credit",
         fmt::format("SLA breach credit, incident {} (P{}){}", c.incident_id, c.priority,
                     c.capped
                         ? fmt::format(", capped at {}% of the fee", sla.credit_cap_percent_of_fee)
                         : std::string()),
         1, -c.amount_minor, -c.amount_minor});
}

// The invoice: fee and discount (not in a trial month), extras, overage per rate, task lines,
// then the month's adjustments (add-ons, blocks, penalties, credits, charges); the total is
// the sum of the lines.
void InvoiceMonth(const MonthInput& in, const PlanSpec* plan, const Draws& d, MonthEval& ev) {
  const ContractTerms* t = in.terms;
  std::vector<InvoiceLine>& lines = ev.invoice.lines;
  ev.invoice.month = in.month;
  if (plan && !ev.trial) FeeLines(in, *t, *plan, lines);
  if (plan)
    for (const auto& [extra_id, qty] : t->extras) {
      const ExtraPrice* x = plan->FindExtra(extra_id);
      if (x && qty > 0)
        lines.push_back({"extra", extra_id, qty, x->price_minor, qty * x->price_minor});
    }
  for (const auto& [rate, minutes] : d.overage_by_rate)
    lines.push_back({"overage", fmt::format("hours beyond the plan, {}", FormatMinutes(minutes)),
                     minutes, rate, RoundDiv(minutes * rate, 60)});
  for (const InvoiceLine& l : d.task_lines) lines.push_back(l);
  if (in.data)
    for (const Adjust& a : in.data->adjustments) {
      if (a.code == "addon")
        AddLine(lines, "addon", a.description, 1, a.amount_minor, a.amount_minor);
      else
        lines.push_back({a.code, a.description, 1, a.amount_minor, a.amount_minor});
    }
  if (plan && plan->sla && in.sla) SlaCreditLines(*in.sla, *plan->sla, lines);
  for (const InvoiceLine& l : lines) ev.invoice.total_minor += l.amount_minor;
}

}  // namespace

std::vector<int64_t> BillableMinutes(const PlanSpec& plan,
                                     const std::vector<const Entry*>& entries) {
  std::vector<int64_t> out(entries.size(), 0);
  // Tasks whose first billed entry has been counted (views into `entries`, which outlive this
  // call); tracked only when the plan has a per-task minimum.
  std::unordered_set<std::string_view> task_seen;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = *entries[i];
    if (e.unit != Unit::kHour || e.non_billable) continue;
    if (const Kind* kind = plan.FindKind(e.kind); kind && !kind->billable) continue;
    int64_t minutes = std::max<int64_t>(e.minutes, 0);
    if (plan.increment_minutes > 0)  // round up: 50 min in 15-min increments bills 60
      minutes =
          (minutes + plan.increment_minutes - 1) / plan.increment_minutes * plan.increment_minutes;
    if (plan.minimum_task_minutes > 0 && (e.task.empty() || task_seen.insert(e.task).second))
      minutes = std::max(minutes, plan.minimum_task_minutes);
    out[i] = std::max<int64_t>(minutes - e.written_down_minutes, 0);
  }
  return out;
}

MonthResult EvaluateMonth(const MonthInput& in) {
  static const std::vector<Block> kNoBlocks;
  const std::vector<Block>& blocks_in = in.blocks ? *in.blocks : kNoBlocks;
  const PlanSpec* plan = in.terms ? in.terms->plan.get() : nullptr;
  MonthResult result;
  MonthEval& ev = result.eval;
  ev.month = in.month;
  ev.in_contract = in.terms != nullptr;
  ev.trial = IsTrial(in, plan);
  ev.included_minutes = (plan && !ev.trial) ? plan->included_minutes : 0;
  ev.reserve_start_minutes = in.reserve_start;

  Draws d;
  d.allowance_left = ev.included_minutes;
  d.reserve_left = in.reserve_start;
  d.blocks = UsableBlocks(blocks_in, in.month, ev.blocks_start_minutes);
  if (plan) {
    OpenPools(*plan, in.data, ev.pools);
    const std::vector<int64_t> billable = BillableMinutes(*plan, in.entries);
    for (size_t i = 0; i < in.entries.size(); ++i) {
      const Entry* e = in.entries[i];
      std::vector<Charge>& charges =
          result.charges.emplace_back(e->seq, std::vector<Charge>{}).second;
      const Kind* kind = plan->FindKind(e->kind);
      if (e->review == Review::kPending) {  // drawn provisionally; shown apart (state.h MonthEval)
        ev.pending_entries += 1;
        if (e->unit == Unit::kHour)
          ev.pending_minutes += RoundDiv(billable[i] * int64_t(e->multiplier_percent), 100);
      }
      if (e->unit == Unit::kHour)
        CountHours(*plan, kind, *e, billable[i], in.month, d, ev, charges);
      else
        CountItems(*plan, kind, *e, d, ev, charges);
    }
  }
  ev.pools.erase(std::string());  // never a pool named ""

  CloseHours(in, plan, d, ev);
  CloseBlocks(in, blocks_in, d.blocks, ev);
  InvoiceMonth(in, plan, d, ev);
  return result;
}

std::string CheckMonthLaws(const MonthInput& in, const MonthResult& r) {
  const MonthEval& ev = r.eval;
  const std::string m = FormatMonth(in.month);
  if (ev.included_minutes !=
      ev.allowance_used_minutes + ev.carried_minutes + ev.expired_allowance_minutes)
    return fmt::format("{}: allowance {} in, {} used + {} carried + {} expired out", m,
                       ev.included_minutes, ev.allowance_used_minutes, ev.carried_minutes,
                       ev.expired_allowance_minutes);
  if (ev.reserve_start_minutes + ev.carried_minutes !=
      ev.reserve_used_minutes + ev.expired_reserve_minutes + ev.reserve_end_minutes)
    return fmt::format("{}: reserve {} + {} carried in, {} used + {} expired + {} left out", m,
                       ev.reserve_start_minutes, ev.carried_minutes, ev.reserve_used_minutes,
                       ev.expired_reserve_minutes, ev.reserve_end_minutes);
  if (ev.blocks_start_minutes !=
      ev.block_used_minutes + ev.expired_block_minutes + ev.blocks_end_minutes())
    return fmt::format("{}: blocks {} in, {} used + {} expired + {} left out", m,
                       ev.blocks_start_minutes, ev.block_used_minutes, ev.expired_block_minutes,
                       ev.blocks_end_minutes());
  if (ev.used_minutes != ev.allowance_used_minutes + ev.reserve_used_minutes +
                             ev.block_used_minutes + ev.overage_minutes + ev.unlimited_minutes)
    return fmt::format("{}: {} used, the sources add up to {}", m, ev.used_minutes,
                       ev.allowance_used_minutes + ev.reserve_used_minutes + ev.block_used_minutes +
                           ev.overage_minutes + ev.unlimited_minutes);
  if (in.terms != nullptr) {
    if (r.charges.size() != in.entries.size())
      return fmt::format("{}: {} entries counted, {} paid", m, in.entries.size(), r.charges.size());
    std::map<Charge::Source, int64_t> by_source;
    const std::vector<int64_t> billable = in.terms->plan
                                              ? BillableMinutes(*in.terms->plan, in.entries)
                                              : std::vector<int64_t>(in.entries.size(), 0);
    for (size_t i = 0; i < in.entries.size(); ++i) {
      const Entry& e = *in.entries[i];
      int64_t paid = 0;
      for (const Charge& c : r.charges[i].second) {
        paid += e.unit == Unit::kHour ? c.minutes : c.count;
        by_source[c.source] += c.minutes;
      }
      const int64_t need = e.unit == Unit::kHour
                               ? RoundDiv(billable[i] * int64_t(e.multiplier_percent), 100)
                               : e.count;
      if (r.charges[i].first != e.seq || paid != need)
        return fmt::format("{}: entry #{} needs {} and is paid {}", m, e.seq, need, paid);
    }
    if (by_source[Charge::Source::kAllowance] != ev.allowance_used_minutes ||
        by_source[Charge::Source::kReserve] != ev.reserve_used_minutes ||
        by_source[Charge::Source::kBlock] != ev.block_used_minutes ||
        by_source[Charge::Source::kOverage] != ev.overage_minutes ||
        by_source[Charge::Source::kUnlimited] != ev.unlimited_minutes)
      return fmt::format("{}: the entries' charges do not add up to the month's figures", m);
  }
  int64_t sum = 0;
  for (const InvoiceLine& l : ev.invoice.lines) sum += l.amount_minor;
  if (sum != ev.invoice.total_minor)
    return fmt::format("{}: invoice total {} but its lines add up to {}", m, ev.invoice.total_minor,
                       sum);
  return {};
}

}  // namespace hourbank::projections
