// Evaluating one month: a pure function of the terms that govern it, the hour buckets it
// starts with, and the entries and adjustments that count in it. It returns the month's
// figures (draws, closing, invoice) and what paid for each entry; it reads nothing else and
// writes nothing. ClientState (projections/state.h) decides the inputs (which terms, what was
// carried in) and folds the results; DecideVoid re-evaluates a closed month without an entry
// through the same function, so a credit is computed exactly like the invoice it corrects.
//
// CheckMonthLaws states the identities every evaluation must satisfy; ClientState checks them
// at every close (in every build, not with assert) and records a violation as a replay problem
// that `hourbank audit` reports with the seq of the close.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "projections/sla.h"
#include "projections/state.h"

namespace hourbank::projections {

struct MonthInput {
  uint32_t month = 0;
  const ContractTerms* terms = nullptr;  // nullptr: outside every contract (no fee, no work)
  uint32_t relationship_first = 0;       // the client's first contract month: trials count from it
  uint32_t units = 0;                    // licences (per-unit plans)
  bool reserve_expires = false;          // the month ends a contract term: the reserve expires
  bool blocks_expire = false;            // no contract follows: prepaid blocks left expire
  int64_t reserve_start = 0;
  const std::vector<Block>* blocks = nullptr;  // carried in (minutes left at the month's start)
  std::vector<const Entry*> entries;           // counting order; voided entries left out
  const MonthData* data = nullptr;             // adjustments and add-on slots; may be null
  // The month's SLA measured at its last instant, when its plan grants breach credits
  // (docs/sla.md, "Breach credits"); null otherwise.
  const SlaReport* sla = nullptr;
};

struct MonthResult {
  MonthEval eval;
  std::vector<std::pair<uint64_t, std::vector<Charge>>> charges;  // per entry, counting order
};

MonthResult EvaluateMonth(const MonthInput& in);

// The minutes each hour entry is billed, before the surcharge multiplier, in counting order
// (item entries: 0). The plan's billing rules (docs/plan-format.md, "Billing rules"), in order:
// a non-billable entry or kind bills 0; otherwise the logged minutes round up to a multiple of
// increment_minutes; the first billed entry of a task in the month is raised to
// minimum_task_minutes (an entry without a task is a task of its own); then the manager's
// write-downs are taken off, never below 0. With the rules off this is the logged minutes.
std::vector<int64_t> BillableMinutes(const PlanSpec& plan,
                                     const std::vector<const Entry*>& entries);

// The laws (empty when they hold, else the first one broken, in words):
//   included = from allowance + carried + expired allowance
//   reserve in + carried = from reserve + expired reserve + reserve out
//   blocks in = from blocks + expired blocks + blocks out
//   used = from allowance + reserve + blocks + overage + unlimited
//   each hour entry is paid by exactly its billable minutes × multiplier, each item entry by its
//   count, and the entries' charges per source add up to the month's figure for that source invoice
//   total = sum of its lines
std::string CheckMonthLaws(const MonthInput& in, const MonthResult& result);

}  // namespace hourbank::projections
