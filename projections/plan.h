// Plans (tariffs): the parsed form of a plan file, its validation, and its canonical text.
//
// A plan file is TOML holding one or more `[[plan]]` tables (format in README.md, "Plan
// files"). ParsePlans() validates every rule and returns PlanSpecs; CanonicalToml() writes one
// PlanSpec back as canonical TOML, which is what a PlanDefined event stores, so replay never
// depends on the original file: ParsePlans(CanonicalToml(p)) == {p}, and two plans are the
// same version exactly when their canonical texts are equal.
//
// Money is integer minor units of the plan's currency; durations integer minutes; multipliers
// and discounts integer percent. No floating point is accepted in a plan file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace hourbank::projections {

enum class Rollover : uint8_t {
  kBurn,   // unused allowance expires at month end
  kCarry,  // unused allowance moves to a reserve up to reserve_cap_minutes; the rest expires
  kCarryUnlimited,  // all unused allowance moves to the reserve
};

// When unpaid money stops new work (DecideLog refuses it unless --emergency).
enum class DebtBlocking : uint8_t {
  kNone,     // never (the default: a price list that says nothing about debt blocks nobody)
  kOverdue,  // a closed invoice unpaid `grace_days` after its month ended
  kPrepaid,  // kOverdue, and work logged with --emergency is a debt at once: until payments
             // cover it, the next ordinary work is refused the same day (AlterCPA)
};

// What ending a contract before the plan's minimum term costs (`contract end --early`).
enum class EarlyEnd : uint8_t {
  kFree,            // allowed with --early; nothing charged (the default)
  kPayMinimumTerm,  // the fees of the months left to the minimum term are charged at the end
  kWhenSettled,     // allowed only when every closed invoice is paid; nothing charged
};

enum class Unit : uint8_t {
  kHour,  // measured in minutes, drawn from the hour buckets
  kItem,  // counted, drawn from a slot pool or billed one-off
};

// When the business is open. Used for `off_hours` on work and for SLA service time.
struct Calendar {
  std::string timezone = "UTC";    // IANA zone
  bool always_open = false;        // 24x7
  uint8_t days_mask = 0x1F;        // bit 0 = Monday … bit 6 = Sunday. Default Mon–Fri
  int32_t open_minute = 9 * 60;    // minutes after local midnight. Default 09:00
  int32_t close_minute = 18 * 60;  // Default 18:00; open_minute < close_minute
  std::vector<int32_t> holidays;   // YYYYMMDD, sorted; closed all day
  // A named production calendar (production_calendar.h; "" = none): its public holidays and
  // days off close the day, its moved working weekend days open it, and it decides which days
  // are working days for SLA targets in working days (docs/calendars.md).
  std::string production_calendar;
  bool operator==(const Calendar&) const = default;
};

struct Kind {
  std::string id;
  Unit unit = Unit::kHour;
  bool included = false;  // items: free under the plan (no slot, no price)
  std::optional<int64_t>
      price_minor;  // items: one-off price per item; hours: own hourly rate beyond buckets
  std::optional<int64_t> off_hours_price_minor;  // items: replaces the off-hours multiplier
  std::string pool;                              // items: the slot pool it draws from ("" = none)
  bool billable = true;  // hours: false = recorded and reported, never billed
  bool operator==(const Kind&) const = default;
};

// Volume pricing: every unit is priced at the tier the total count falls in.
struct Tier {
  uint32_t min_units = 1;
  uint32_t max_units = 0;  // 0 = no upper bound (last tier only)
  int64_t unit_price_minor = 0;
  bool operator==(const Tier&) const = default;
};

struct Addon {
  std::string id;
  int64_t price_minor = 0;
  uint32_t slots = 0;
  std::string pool;                // single-pool add-on: adds `slots` to this pool for the month
  std::vector<std::string> kinds;  // shared add-on: its own pool (named by id) for these kinds
  bool operator==(const Addon&) const = default;
};

struct PrepaidDiscount {
  uint32_t min_months = 0;  // applies when months prepaid >= min_months (largest match wins)
  uint32_t percent = 0;
  bool operator==(const PrepaidDiscount&) const = default;
};

struct ExtraPrice {
  std::string id;
  int64_t price_minor = 0;  // per unit per month
  bool operator==(const ExtraPrice&) const = default;
};

struct BlockOffer {  // a prepaid hour block on sale (buy --hours without --price)
  int64_t minutes = 0;
  int64_t price_minor = 0;
  bool operator==(const BlockOffer&) const = default;
};

struct SlaTarget {
  uint8_t priority = 1;                  // 1 … 4
  int64_t reaction_minutes = 0;          // service minutes; 0 = no target
  int64_t resolution_minutes = 0;        // service minutes; 0 = no target
  uint32_t resolution_working_days = 0;  // alternative to resolution_minutes; 0 = none
  // Breach credit (docs/sla.md, "Breach credits"): a percentage of the month's fee, or a fixed
  // amount, per breached incident of this priority; both 0 = no credit (the default).
  uint32_t credit_percent_of_fee = 0;  // 0 … 100
  int64_t credit_fixed_minor = 0;      // minor units
  bool operator==(const SlaTarget&) const = default;
};

struct Sla {
  Calendar service_hours;
  std::vector<SlaTarget> targets;  // sorted by priority
  uint32_t credit_cap_percent_of_fee =
      0;  // the month's credits at most this % of its fee; 0 = no cap
  bool HasCredits() const {
    for (const SlaTarget& t : targets)
      if (t.credit_percent_of_fee > 0 || t.credit_fixed_minor > 0) return true;
    return false;
  }
  bool operator==(const Sla&) const = default;
};

inline constexpr size_t kAlertPercentsMax = 10;  // allowance_percent thresholds at most
inline constexpr uint32_t kAlertDaysMax = 366;   // block/reserve expiry, invoice overdue days
// When alerts are raised (docs/alerts.md): the optional [plan.alerts] table. A plan without
// the table raises at the defaults below.
struct AlertRules {
  std::vector<uint32_t> allowance_percent = {80, 100};  // sorted, 1 … 1000
  uint32_t block_expiry_days = 14;                      // 0 = no expiry warning
  uint32_t reserve_expiry_days = 30;                    // 0 = no expiry warning
  // Days after a month's end its unpaid invoice is overdue; absent: the plan's grace_days.
  std::optional<uint32_t> invoice_overdue_days;
  bool operator==(const AlertRules&) const = default;
};

struct PlanSpec {
  std::string id;  // [a-z0-9][a-z0-9._-]{0,63}
  std::string name;
  std::string currency;  // ISO 4217
  std::string note;      // free text (e.g. which prices the list did not give)

  // Fee: either fee_minor per month, or tiers priced per unit (contract units).
  int64_t fee_minor = 0;
  std::vector<Tier> tiers;     // sorted, non-overlapping, contiguous from 1
  int64_t round_to_minor = 1;  // computed (discounted) unit price rounded to this, half up

  // Hours.
  int64_t included_minutes = 0;
  Rollover rollover = Rollover::kBurn;
  int64_t reserve_cap_minutes = 0;  // kCarry only
  bool unlimited = false;           // hours recorded, never billed as overage
  int64_t overage_rate_minor = 0;   // per hour beyond the buckets

  std::vector<Kind> kinds;
  std::map<std::string, uint32_t> quotas;  // monthly slots per pool
  std::vector<Addon> addons;

  uint32_t urgent_percent = 100;     // multiplier for urgent work, percent (300 = 3x)
  uint32_t off_hours_percent = 100;  // multiplier outside the calendar's hours
  std::optional<Calendar> calendar;  // decides off-hours from the time of the work

  std::vector<PrepaidDiscount> prepaid_discounts;  // sorted by min_months
  uint32_t timely_discount_percent = 0;
  uint32_t trial_months = 0;  // first months: no fee, no allowance, hours at the rate
  uint32_t minimum_term_months = 0;
  uint32_t grace_days = 0;  // days after a month's end before an unpaid invoice blocks
  DebtBlocking debt_blocking = DebtBlocking::kNone;
  EarlyEnd early_end = EarlyEnd::kFree;
  std::vector<uint32_t> allowed_terms_months;  // sorted; empty = any term (AGBIS: 3, 6, 12)
  uint32_t timely_min_prepaid_months = 0;      // the timely discount needs this many months prepaid
  bool acceptance_required = false;            // work counts in the month it is accepted
  // Billing rules for hour work (docs/plan-format.md, "Billing rules"); 0 = off.
  int64_t increment_minutes = 0;  // each hour entry is billed rounded up to a multiple of this
  int64_t minimum_task_minutes =
      0;                         // a task's first billed entry in a month is billed at least this
  bool review_required = false;  // logged work is pending until a manager approves it
  std::vector<ExtraPrice> extras;
  std::vector<BlockOffer> block_offers;
  std::optional<Sla> sla;
  std::optional<AlertRules> alerts;  // [plan.alerts]; absent: AlertRules{} (the defaults)

  const Kind* FindKind(std::string_view kind_id) const;     // nullptr when unknown
  const Addon* FindAddon(std::string_view addon_id) const;  // nullptr when unknown
  const ExtraPrice* FindExtra(std::string_view extra_id) const;
  bool operator==(const PlanSpec&) const = default;
};

const char* DebtBlockingName(DebtBlocking rule);
const char* EarlyEndName(EarlyEnd rule);

// Parses and validates every [[plan]] in a TOML document. `source` names the file in errors.
// Errors (kInvalid) name the file, the plan and the key, and say how to fix it: TOML syntax
// (with line), unknown keys, wrong types, floats, negative prices, an item kind with no pool
// and no price, a pool no kind uses, overlapping or gapped tiers, duplicate ids, unknown time
// zone names are NOT checked here (the tools check zones), bad calendar hours, …
Result<std::vector<PlanSpec>> ParsePlans(std::string_view toml_text, std::string_view source);

// A client's own thresholds (`hourbank alerts set`) checked by the [plan.alerts] rules: `toml`
// holds the keys given (a subset of the table's keys, values as TOML), `source` names them in
// errors; the keys not given have the defaults.
Result<AlertRules> ParseAlertRulesText(std::string_view toml, std::string_view source);

// Exactly one plan from canonical text (what PlanDefined/ContractStarted store).
Result<PlanSpec> ParseCanonicalPlan(std::string_view toml_text);

// The canonical TOML of one plan: fixed key order, every field written, one [[plan]] table.
std::string CanonicalToml(const PlanSpec& plan);

}  // namespace hourbank::projections
