// Client state: the one fold over a client's events, used both to answer reads (balances,
// burned hours, invoices, work reports) and to decide new events (projections/decide.h).
//
// How hours are consumed (DESIGN.md §3): within a month, hour work counted in that month is
// drawn in seq order from (1) the month's allowance, (2) the reserve, (3) prepaid blocks,
// soonest-expiring first, then oldest first, (4) overage. A surcharge multiplier scales what
// the work costs in whatever pays for it.
//
// Months are evaluated lazily and in order: the state keeps, per open month, the entries that
// count in it; the reserve and blocks a month starts with are what the previous month ended
// with (its recorded closing entries when closed, its projected ones when still open). So work
// logged for October after November's work was logged still draws October's allowance first,
// and November's reserve reflects October's carry. Closed months keep only their frozen
// summary (burned figures and invoice, packed: projections/month_pack.h) unless
// `retain_entries` is set, so memory grows with clients and months, not with events.
//
// Thread safety: none; a ClientState is owned by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <tuple>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/month_pack.h"
#include "projections/plan.h"
#include "projections/units.h"
#include "schemas/events.capnp.h"

namespace hourbank::projections {

// One line of an invoice. amount_minor = quantity × unit_price_minor, except lines whose
// amount is rounded once from a computed price (overage by the minute, discounts).
struct InvoiceLine {
  std::string
      code;  // fee, discount, overage, task, surcharge, addon, hours_block, extra, penalty, credit
  std::string description;
  int64_t quantity = 0;  // items, units, minutes (overage) or 1
  int64_t unit_price_minor = 0;
  int64_t amount_minor = 0;
  bool operator==(const InvoiceLine&) const = default;
};

struct Invoice {
  uint32_t month = 0;
  std::vector<InvoiceLine> lines;
  int64_t total_minor = 0;
  bool closed = false;
  bool operator==(const Invoice&) const = default;
};

// BLAKE2b-256 over the canonical text of the lines ("code\tdescription\tquantity\tunit\tamount\n"
// per line). Recorded in PeriodClosed so an audit proves the invoice did not change.
std::array<uint8_t, 32> LinesDigest(const std::vector<InvoiceLine>& lines);

// What paid for (part of) an entry.
struct Charge {
  enum class Source : uint8_t {
    kAllowance,
    kReserve,
    kBlock,
    kOverage,
    kUnlimited,
    kSlot,
    kAddonSlot,
    kOneOff,
    kIncluded
  };
  Source source = Source::kAllowance;
  int64_t minutes = 0;       // hour sources
  int64_t count = 0;         // item sources
  int64_t amount_minor = 0;  // money billed for this part (one-off, overage; surcharge below)
  int64_t surcharge_minor = 0;
  uint64_t block_seq = 0;  // kBlock
  std::string pool;        // kSlot / kAddonSlot
};
const char* SourceName(Charge::Source source);

// Review of work on a plan with review_required (docs/plan-format.md, "Review").
enum class Review : uint8_t {
  kNone,      // no review: billed as logged (and 1C acceptance, which has its own pending state)
  kPending,   // draws its bucket provisionally; the month cannot close with it
  kApproved,  // billed
  kRejected,  // left its month: draws nothing, never billed
};

// One work entry (a WorkLogged event).
struct Entry {
  uint64_t seq = 0;
  int64_t at_us = 0;   // effective time of the work
  uint32_t month = 0;  // month it counts in (0 while waiting for acceptance)
  std::string kind, task, staff, note;
  Unit unit = Unit::kHour;
  int64_t minutes = 0;  // as logged
  int64_t count = 0;
  uint32_t multiplier_percent = 100;
  bool urgent = false, off_hours = false, late = false, emergency = false, voided = false;
  bool non_billable = false;         // logged --non-billable (WorkLogged.nonBillable)
  int64_t written_down_minutes = 0;  // sum of the manager's write-downs (WorkWrittenDown)
  Review review = Review::kNone;
  std::string review_reason;    // the rejection's reason
  std::vector<Charge> charges;  // filled by month evaluation
  int64_t billed_minutes =
      -1;  // hour entries: filled by EntriesFor (BillableMinutes); -1 = not evaluated
  int64_t billed_minor() const;  // sum of amounts and surcharges (what paid: reports/figures.h)
};

struct Block {
  uint64_t seq = 0;            // the HoursPurchased event
  int64_t minutes = 0;         // bought
  int64_t left_minutes = 0;    // at the start of the month being evaluated
  int64_t expires_at_us = 0;   // 0 = never
  uint32_t expires_month = 0;  // month whose close expires it (0 = never)
  uint32_t month = 0;          // month bought (usable from this month on)
  bool operator==(const Block&) const = default;
};

struct PoolUsage {
  uint32_t quota = 0;  // plan quota + single-pool add-ons (or shared add-on slots)
  uint32_t used = 0;
  uint32_t left() const { return used >= quota ? 0 : quota - used; }
  bool operator==(const PoolUsage&) const = default;
};

// The evaluation of one month: draws, slot usage, closing figures, invoice.
struct MonthEval {
  uint32_t month = 0;
  bool in_contract = false;
  bool trial = false;
  bool closed = false;
  int64_t included_minutes = 0;
  int64_t allowance_used_minutes = 0;
  int64_t reserve_start_minutes = 0;
  int64_t reserve_used_minutes = 0;
  int64_t blocks_start_minutes = 0;  // prepaid minutes usable at the start of the month
  int64_t block_used_minutes = 0;
  int64_t overage_minutes = 0;
  int64_t unlimited_minutes = 0;
  int64_t used_minutes = 0;     // all hour work counted (after multipliers)
  int64_t pending_minutes = 0;  // of used_minutes: work pending review, drawn provisionally
  int64_t pending_entries = 0;  // entries pending review (hours and items)
  std::map<std::string, PoolUsage> pools;
  // Closing: computed by the rules for open months, as recorded for closed months.
  int64_t carried_minutes = 0;
  int64_t expired_allowance_minutes = 0;
  int64_t expired_reserve_minutes = 0;
  int64_t expired_block_minutes = 0;
  std::vector<std::pair<uint64_t, int64_t>> expired_blocks;  // (block seq, minutes)
  int64_t reserve_end_minutes = 0;
  std::vector<Block>
      blocks_end;  // blocks with minutes left after this month (and blocks bought for later months)
  int64_t blocks_end_minutes() const {  // minutes left in the blocks usable this month
    int64_t sum = 0;
    for (const Block& b : blocks_end)
      if (b.month <= month) sum += b.left_minutes;
    return sum;
  }
  Invoice invoice;
  int64_t expired_minutes() const {
    return expired_allowance_minutes + expired_reserve_minutes + expired_block_minutes;
  }
  bool operator==(const MonthEval&) const = default;
};

// A contract segment: the terms that govern the months from_month … last_month. A client's
// segments are sorted and never overlap: each ContractStarted (a first contract, a renewal, a
// later contract on another plan) appends one; a ContractChanged replaces the terms from its
// month on; a ContractEnded moves the last segment's end. Months outside every segment are
// outside the contract.
struct ContractTerms {
  std::string plan_id;
  uint32_t plan_version = 0;
  std::shared_ptr<const PlanSpec> plan;
  uint32_t from_month = 0;
  uint32_t last_month = 0;  // the segment's last month; 0 = open-ended
  bool continues =
      false;  // a ContractChanged: continues the contract before it (keeps its reserve)
  uint32_t term_months = 0;  // 0 = open-ended
  uint32_t prepaid_months = 0;
  bool timely = false;
  std::map<std::string, uint32_t> extras;
  // The client's review rule (`contract start --review`): kPlan follows review_required.
  enum class ReviewRule : uint8_t { kPlan, kRequired, kOff };
  ReviewRule review = ReviewRule::kPlan;
  bool ReviewRequired() const {
    if (review == ReviewRule::kPlan) return plan && plan->review_required;
    return review == ReviewRule::kRequired;
  }
};

// One line of `hourbank review CLIENT MONTH`: work a manager reviews (review_required), or work
// awaiting the client's acceptance (acceptance_required, 1C), which is review by the client.
struct ReviewItem {
  enum class Kind : uint8_t { kManager, kClientAcceptance };
  uint64_t seq = 0;
  Kind kind = Kind::kManager;
  Review state =
      Review::kPending;  // kClientAcceptance: always kPending (accepted work counts as usual)
};

// A stretch during which an incident waited on the customer (`incident wait` … `resume`): the
// resolution clock stops (docs/sla.md, "Waiting").
struct IncidentWait {
  int64_t from_us = 0;
  int64_t to_us = 0;  // 0 = still waiting
  std::string reason;
};

struct Incident {
  std::string id;
  uint8_t priority = 1;         // current
  uint8_t opened_priority = 1;  // at opening
  std::string title;
  int64_t opened_us = 0, responded_us = 0, resolved_us = 0;
  std::vector<std::pair<int64_t, uint8_t>> priority_changes;  // (at, new priority)
  std::vector<int64_t> reopened_us;
  std::vector<int64_t> resolved_history_us;
  std::vector<IncidentWait> waits;  // in recorded order; a resolve ends a wait still running
  bool waiting() const { return !waits.empty() && waits.back().to_us == 0; }
};

// An alert recorded by an AlertRaised event (projections/alerts.h, docs/alerts.md).
struct AlertRecord {
  uint64_t seq = 0;
  int64_t raised_us = 0;
  std::string key;  // the event's idempotency key: "alert:<client>:<kind>:<threshold>:<month>…"
  schemas::AlertKind kind = schemas::AlertKind::ALLOWANCE_USED;
  uint32_t threshold = 0, month = 0;
  std::string subject;
  int64_t used_minutes = 0, limit_minutes = 0, left_minutes = 0, deadline_us = 0, amount_minor = 0;
};

// A client's own alert thresholds (AlertSettingsSet, `hourbank alerts set`; docs/alerts.md):
// each one set replaces the plan's; the kinds in `off` are never raised for the client.
struct AlertOverrides {
  static constexpr size_t kOffMax = 16;  // more off kinds than kinds exist: the rest ignored
  std::optional<std::vector<uint32_t>> allowance_percent;
  std::optional<uint32_t> block_expiry_days, reserve_expiry_days, invoice_overdue_days;
  std::vector<schemas::AlertKind> off;  // sorted, unique
  bool Off(schemas::AlertKind kind) const;
  bool operator==(const AlertOverrides&) const = default;
};

// A problem found while replaying: a closing entry that does not follow from the rules, an
// event that refers to something unknown. Audit reports these.
struct ReplayProblem {
  uint64_t seq = 0;
  std::string what;
};

// What counts in one month besides work: penalties, credits, add-ons, hour blocks, charges.
struct Adjust {
  uint64_t seq = 0;
  std::string code, description;
  int64_t amount_minor = 0;  // signed
  bool early_end =
      false;  // a charge written by an early contract end (schemas: Adjustment.earlyEnd)
};
struct MonthData {
  std::vector<uint64_t> entry_seqs;             // entries counting in this month, in counting order
  std::vector<Adjust> adjustments;              // penalties, credits, add-ons, hour blocks, charges
  std::map<std::string, uint32_t> addon_slots;  // pool (or shared add-on id) -> slots bought
};

struct ClientOptions {
  bool retain_entries =
      false;  // keep entries of closed months (work reports, voids of old entries)
};

// Recorded closing facts of a closed month (its closing entries and PeriodClosed), for audit.
struct RecordedClose {
  int64_t carried_minutes = 0, reserve_after_minutes = 0;
  std::vector<std::tuple<schemas::Bucket, uint64_t, int64_t>>
      expired;  // bucket, block seq, minutes
  std::map<std::string, uint32_t> slots_expired;
  int64_t total_minor = 0;
  std::array<uint8_t, 32> lines_digest{};
  uint32_t line_count = 0;
  uint64_t closed_seq = 0;
  bool operator==(const RecordedClose&) const = default;
};

class ClientState {
 public:
  explicit ClientState(ClientOptions options = {}) : options_(options) {}
  // The stream this state folds; set before the first event so errors can name the client.
  void set_id(std::string id) { id_ = std::move(id); }

  // Folds one event of this client's stream (events must come in seq order). Events that do
  // not fit (unknown entry, bad plan text) are recorded as problems, never thrown.
  void Apply(uint64_t seq, schemas::Event::Reader event);

  const ClientOptions& options() const { return options_; }

  // ---- identity and contract
  bool registered() const { return registered_; }
  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& currency() const { return currency_; }
  const Zone& zone() const { return zone_; }
  uint32_t version() const { return version_; }  // events applied (stream version)
  uint64_t last_seq() const { return last_seq_; }
  bool has_contract() const { return !terms_.empty(); }
  const ContractTerms* TermsFor(uint32_t month) const;  // nullptr outside the contract
  const std::vector<ContractTerms>& terms() const { return terms_; }  // segments, sorted
  uint32_t first_month() const;  // first contract month ever (the relationship), 0 if none
  uint32_t last_month() const;   // last month of the last segment, 0 = open-ended
  uint32_t UnitsFor(uint32_t month) const;

  // ---- months
  uint32_t last_closed_month() const { return last_closed_; }
  uint32_t FirstOpenMonth() const;  // the month after the last closed (or the first contract month)
  bool IsClosed(uint32_t month) const;
  // Evaluates `month` (closed: the frozen figures; open: projected from the months before).
  MonthEval Evaluate(uint32_t month) const;
  Invoice InvoiceFor(uint32_t month) const { return Evaluate(month).invoice; }

  // ---- money
  int64_t invoiced_closed_minor() const;  // sum of closed invoice totals
  int64_t paid_minor() const { return paid_minor_; }
  int64_t outstanding_minor() const { return invoiced_closed_minor() - paid_minor_; }
  // Blocked at `now_us` by the plan's debt_blocking rule (plan.h DebtBlocking): "overdue", an
  // invoice closed for more than the grace days is not covered by payments; "prepaid", also
  // emergency work in open months not covered by payments. "none" never blocks.
  bool BlockedAt(int64_t now_us) const;
  // The money that blocks at now_us (0 when not blocked), for messages.
  int64_t BlockingDebtMinor(int64_t now_us) const;
  // What of closed `month`'s invoice payments have not covered (payments settle the oldest
  // closed invoice first, as the debt above counts them); 0 for an open or paid month.
  int64_t UnpaidMinor(uint32_t month) const;

  // ---- entries
  const Entry* FindEntry(uint64_t seq) const;
  std::vector<const Entry*> PendingForTask(
      const std::string& task) const;  // logged, not yet accepted
  std::vector<const Entry*> PendingEntries()
      const;  // every entry logged, not voided, not yet accepted; by seq
  // Review of `month`: entries under review that count in it (pending, approved, rejected), then
  // entries dated in it awaiting client acceptance; by seq.
  std::vector<ReviewItem> ReviewItems(uint32_t month) const;
  std::vector<uint64_t> PendingReview(
      uint32_t month) const;  // entries pending review counting in month
  std::vector<Entry> EntriesFor(
      uint32_t month) const;  // with charges filled in (needs retain for closed)
  // Work (not voided) that counts in a month after `month`, or awaits acceptance and is dated
  // after it: what a contract ending with `month` would leave outside every contract.
  std::vector<uint64_t> EntriesAfter(uint32_t month) const;
  // A closed month re-evaluated from the buckets it started with, without `entry_seq` and the
  // entries voided before (retained entries only; nullopt when the month cannot be re-evaluated).
  std::optional<MonthEval> ReEvaluateClosedWithout(uint32_t month, uint64_t entry_seq) const;
  // Minutes left after the last close, as a contract ending at a closed month expires them.
  int64_t reserve_after_close() const { return reserve_after_close_; }
  // Blocks usable in the last closed month with minutes left: (block seq, minutes). A block
  // bought for a later month is not among them.
  std::vector<std::pair<uint64_t, int64_t>> BlocksLeftAfterClose() const;
  // Early-end charges booked in open months after `month`: what a contract ending with `month`
  // moves into its new last month (docs/contracts.md, "Ending a contract").
  struct BookedCharge {
    uint64_t seq = 0;
    uint32_t month = 0;
    int64_t amount_minor = 0;
  };
  std::vector<BookedCharge> EarlyEndChargesAfter(uint32_t month) const;
  // Every prepaid block ever bought, minutes as bought (what is left is in a MonthEval).
  const std::vector<Block>& blocks() const { return blocks_; }
  const std::map<std::string, Incident>& incidents() const { return incidents_; }
  const std::vector<AlertRecord>& alerts() const { return alerts_; }  // by seq
  const AlertOverrides& alert_overrides() const { return alert_overrides_; }
  const std::vector<ReplayProblem>& problems() const { return problems_; }
  // Recorded closing facts of a closed month, for audit comparison.
  using RecordedClose = projections::RecordedClose;
  std::optional<RecordedClose> recorded_close(uint32_t month) const { return closed_.Close(month); }
  // Every recorded close, by month (unpacked: a copy).
  std::vector<std::pair<uint32_t, RecordedClose>> recorded_closes() const;
  // The closed months' packed evaluations and recorded closes (projections/month_pack.h).
  const ClosedMonths& closed_months() const { return closed_; }

  // ---- internals used by evaluation (public for decide.cc and the checkpoint codec)
  using Adjust = projections::Adjust;
  using MonthData = projections::MonthData;

 private:
  // One fold step per event kind: Apply looks the body kind up in a table (state.cc kHandlers)
  // of these handlers, the month field replay validates and whether it must be set.
  struct Handler;
  static const Handler* HandlerFor(schemas::Event::Body::Which which);
  void ApplyRegistered(uint64_t seq, schemas::Event::Reader ev);
  void ApplyTerms(uint64_t seq, schemas::Event::Reader ev);
  void ApplyEnded(uint64_t seq, schemas::Event::Reader ev);
  void ApplyWorkLogged(uint64_t seq, schemas::Event::Reader ev);
  void ApplyWorkAccepted(uint64_t seq, schemas::Event::Reader ev);
  void ApplyWorkVoided(uint64_t seq, schemas::Event::Reader ev);
  void ApplyWrittenDown(uint64_t seq, schemas::Event::Reader ev);
  void ApplyWorkReviewed(uint64_t seq, schemas::Event::Reader ev);
  void Uncount(const Entry& e);  // takes an entry out of its month's counting list
  void ApplyHoursPurchased(uint64_t seq, schemas::Event::Reader ev);
  void ApplyAddon(uint64_t seq, schemas::Event::Reader ev);
  void ApplyClosingEntry(uint64_t seq, schemas::Event::Reader ev);
  void ApplyPeriodClosed(uint64_t seq, schemas::Event::Reader ev);
  void ApplyAdjustment(uint64_t seq, schemas::Event::Reader ev);
  void ApplyIncident(uint64_t seq, schemas::Event::Reader ev);
  void ApplyAlertRaised(uint64_t seq, schemas::Event::Reader ev);
  void ApplyAlertSettings(uint64_t seq, schemas::Event::Reader ev);
  void ApplyUnits(uint64_t seq, schemas::Event::Reader ev);
  void ApplyUnknown(uint64_t seq, schemas::Event::Reader ev);  // a kind this build does not fold
  void ApplyPayment(uint64_t seq, schemas::Event::Reader ev);
  void ApplyClose(uint64_t seq, uint32_t month);
  void ApplyExpiryAfterClose(uint64_t seq, uint32_t month, schemas::Bucket bucket,
                             uint64_t block_seq, int64_t minutes);
  void CountEntry(Entry& e, uint32_t month);
  Entry* MutableEntry(uint64_t seq);  // nullptr when not kept
  Entry& NewEntry(uint64_t seq);      // a fresh entry: appended (seq order) or replacing
  uint32_t MonthAt(int64_t at_us);    // zone_.MonthOf through month_span_
  std::vector<Block> BlocksAfterClose()
      const;           // every block with minutes left after the last close
  struct MonthInputs;  // the inputs of projections/month_eval.h for a month
  MonthEval EvaluateOpen(uint32_t month, int64_t reserve_start, const std::vector<Block>& blocks,
                         std::vector<std::pair<uint64_t, std::vector<Charge>>>* charges = nullptr,
                         std::string* law_violation = nullptr, uint64_t without = 0) const;
  void Problem(uint64_t seq, std::string what) { problems_.push_back({seq, std::move(what)}); }
  friend struct CheckpointCodec;  // projections/checkpoint.cc saves and restores every field

  ClientOptions options_;
  bool registered_ = false;
  std::string id_, name_, currency_;
  Zone zone_ = Zone::Utc();
  uint32_t version_ = 0;
  uint64_t last_seq_ = 0;

  std::vector<ContractTerms> terms_;    // by from_month
  std::map<uint32_t, uint32_t> units_;  // from month -> units

  // Entries by ascending seq (open months; all when retained): appended as WorkLogged events
  // come (in seq order), found by binary search, compacted when a month closes.
  std::vector<Entry> entries_;
  Zone::MonthSpan month_span_;  // the last MonthSpanOf asked by the fold (a cache of zone_)
  std::map<uint32_t, MonthData> months_;      // open months' data (all when retained)
  std::vector<Block> blocks_;                 // all blocks ever bought, minutes as bought
  std::map<uint64_t, uint32_t> block_index_;  // seq -> index in blocks_

  // Frozen state after the last closed month.
  uint32_t last_closed_ = 0;
  int64_t reserve_after_close_ = 0;
  std::map<uint64_t, int64_t> block_left_after_close_;  // block seq -> minutes left
  // Frozen evaluations and recorded closes of closed months, packed (projections/month_pack.h):
  // Evaluate unpacks one.
  ClosedMonths closed_;
  std::map<uint32_t, std::pair<int64_t, std::vector<Block>>>
      closed_start_;             // retained: reserve and blocks each closed month started with
  RecordedClose pending_close_;  // closing entries seen before PeriodClosed
  uint32_t pending_close_month_ = 0;

  int64_t paid_minor_ = 0;
  std::map<std::string, Incident> incidents_;
  std::vector<AlertRecord> alerts_;
  AlertOverrides alert_overrides_;
  std::vector<ReplayProblem> problems_;
};

}  // namespace hourbank::projections
