// The one definition of every figure a person or a program sees. The balance (`balance`, its
// JSON and the server's), the answer to `log`, the work report and the client statement all
// take their figures from here, so they cannot disagree about the same month.
//
// Pure functions of their arguments; thread-safe as long as no one applies events to the
// ClientState meanwhile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "projections/state.h"
#include "reports/labels.h"
#include "schemas/events.capnp.h"

namespace hourbank::reports {

// ---- hours left in a month (MonthEval of that month, open or closed)

// The month's allowance not drawn: included - used from the allowance (0 in a trial month, on
// an unlimited plan, outside the contract).
int64_t AllowanceLeftMinutes(const projections::MonthEval& month);

// The reserve the month started with, less what the month drew from it. Unused allowance
// carried at the close is not in it (that is next month's reserve).
int64_t ReserveLeftMinutes(const projections::MonthEval& month);

// Prepaid block minutes the month can still draw: the blocks usable in the month (bought in it
// or before) with minutes left after its work, plus, while the month is open, the minutes of
// blocks that expire at its close (usable until then). Blocks bought for a later month are not
// in it; they show in that month.
int64_t PrepaidLeftMinutes(const projections::MonthEval& month);

// ---- what paid for an entry

// The entry with seq `seq` with its charges filled in: an entry counted in a month from that
// month's evaluation (entries of closed months need ClientOptions::retain_entries), a voided or
// pending entry as recorded. nullopt when the state has no such entry.
std::optional<projections::Entry> EntryWithCharges(const projections::ClientState& state,
                                                   uint64_t seq);

// What paid for an entry, in `lang`: "allowance 2h, reserve 30m", "block #12 1h", "slot site",
// "addon altercpa-sites-40 ×3 +surcharge", "one-off"; "voided", "awaiting acceptance"; "—"
// for an entry nothing was charged to.
std::string PaidBy(const projections::Entry& entry, Lang lang);

// What the entry cost on the month's invoice (one-off prices, overage, surcharges); 0 for a
// voided or pending entry.
int64_t BilledMinor(const projections::Entry& entry);

// ---- money

struct MoneyFigures {
  int64_t invoiced_closed_minor = 0;  // every closed month's invoice total, all time
  int64_t paid_minor = 0;             // every payment received, all time
  int64_t outstanding_minor = 0;      // invoiced_closed - paid; negative: paid in advance
};
MoneyFigures Money(const projections::ClientState& state);

// One payment received (a PaymentReceived event).
struct Payment {
  uint64_t seq = 0;
  int64_t at_us = 0;  // effective time: when it was received
  int64_t amount_minor = 0;
  std::string ref;
};
// The payment an event records; nullopt for any other event.
std::optional<Payment> PaymentOf(uint64_t seq, schemas::Event::Reader event);

}  // namespace hourbank::reports
