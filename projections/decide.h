// Deciding: command + current state -> the events to append, or an Error saying why not.
//
// state = fold(events); new events = Decide(state, command). The same ClientState answers
// reads, so what a command checks is exactly what a balance shows. Every function here is
// pure: it reads the state and returns drafts; the caller appends them with
// expected_version = state.version(), so a concurrent writer makes the append conflict
// instead of deciding on stale state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "projections/plan.h"
#include "projections/state.h"

namespace hourbank::projections {

// Every plan version ever defined (the "$catalog" stream).
class Catalog {
 public:
  struct Version {
    uint32_t version = 0;
    std::string spec_toml;
    std::shared_ptr<const PlanSpec> spec;
    int64_t defined_at_us = 0;
    uint64_t seq = 0;
  };
  void Apply(uint64_t seq, schemas::Event::Reader event);
  uint32_t version() const { return version_; }  // events applied ($catalog stream version)
  // The latest version of a plan, or a specific one; nullptr when unknown.
  const Version* Find(const std::string& plan_id, uint32_t version = 0) const;
  const std::map<std::string, std::vector<Version>>& plans() const { return plans_; }

 private:
  uint32_t version_ = 0;
  std::map<std::string, std::vector<Version>> plans_;
};

inline constexpr const char* kCatalogStream = "$catalog";
inline constexpr const char* kAuthStream = "$auth";
inline constexpr const char* kAuditStream = "$audit";

struct Decision {
  std::vector<ledger::EventDraft> events;
  std::string summary;  // one line for people ("plan kit-hours-10 v2 defined")
};

// Plans: a PlanDefined for each plan that is new or whose canonical text changed; unchanged
// plans produce nothing (re-defining the same file is a no-op).
Result<Decision> DecidePlanDefine(const Catalog& catalog, const std::vector<PlanSpec>& plans,
                                  int64_t now_us);

struct RegisterClient {
  std::string client_id, name, currency, timezone;
};
Result<Decision> DecideRegister(const ClientState& state, const RegisterClient& cmd,
                                int64_t now_us);

struct StartContract {
  std::string plan_id;
  uint32_t plan_version = 0;  // 0 = latest
  uint32_t from_month = 0;
  uint32_t term_months = 0;  // 0 = the plan's minimum term, or open-ended when it has none
  uint32_t prepaid_months = 0;
  bool timely = false;
  uint32_t units = 0;
  std::map<std::string, uint32_t> extras;
  ContractTerms::ReviewRule review = ContractTerms::ReviewRule::kPlan;  // --review required|off
};
Result<Decision> DecideContractStart(const ClientState& state, const Catalog& catalog,
                                     const StartContract& cmd, int64_t now_us);
Result<Decision> DecideUnits(const ClientState& state, uint32_t units, uint32_t from_month,
                             int64_t now_us);
// Ends the contract after `last_month`. Refused when logged work would be left outside every
// contract (naming the entries), and before the plan's minimum term unless `early`; an early
// end follows the plan's early_end rule (a charge for the months left, or only when settled).
// Ending at a month already closed expires the reserve and blocks left at once (HoursExpired).
Result<Decision> DecideContractEnd(const ClientState& state, uint32_t last_month, bool early,
                                   int64_t now_us);
Result<Decision> DecideContractEnd(const ClientState& state, uint32_t last_month,
                                   int64_t now_us);  // early = false

struct LogWork {
  std::string kind, task, staff, note;
  int64_t minutes = 0;  // hour kinds
  int64_t count = 0;    // item kinds
  int64_t at_us = 0;    // when the work was done
  bool urgent = false;
  std::optional<bool> off_hours;  // nullopt: the plan's calendar decides
  bool late = false;              // book into the first open month when the work's month is closed
  bool emergency = false;         // allowed while the client is blocked
  bool non_billable = false;      // hour work recorded and reported, never billed (--non-billable)
};
Result<Decision> DecideLog(const ClientState& state, const LogWork& cmd, int64_t now_us);
Result<Decision> DecideAccept(const ClientState& state, const std::string& task, int64_t at_us,
                              bool late, int64_t now_us);
Result<Decision> DecideVoid(const ClientState& state, uint64_t entry_seq, const std::string& reason,
                            int64_t now_us);
// A manager's write-down: takes `minutes` off the billed time of hour entry `entry_seq`, with a
// reason. Refused for an unknown, voided or item entry, an entry in a closed month (void it
// instead: the credit comes in an open month), and more minutes than the entry is billed now.
Result<Decision> DecideWriteDown(const ClientState& state, uint64_t entry_seq, int64_t minutes,
                                 const std::string& reason, int64_t now_us);

struct BuyHours {
  int64_t minutes = 0;
  std::optional<int64_t> price_minor;  // nullopt: the plan's block offer for that size
  int64_t expires_at_us = 0;           // first instant the block can no longer be used; 0 = never
  int32_t expires_day = 0;             // or: the last day it can be used (YYYYMMDD, local); its
                            // end is computed by calendar arithmetic in the client's zone
  int64_t at_us = 0;
};
Result<Decision> DecideBuyHours(const ClientState& state, const BuyHours& cmd, int64_t now_us);
Result<Decision> DecideBuyAddon(const ClientState& state, const std::string& addon_id,
                                uint32_t month, int64_t at_us, int64_t now_us);
Result<Decision> DecidePay(const ClientState& state, int64_t amount_minor, const std::string& ref,
                           int64_t at_us, int64_t now_us);

// `hourbank alerts set` (docs/alerts.md, "Per client"): the thresholds given replace the
// client's current ones (values already checked by ParseAlertRulesText); `reset` starts from
// the plan's. Records the whole resulting setting.
struct AlertSettingsChange {
  bool reset = false;
  std::optional<std::vector<uint32_t>> allowance_percent;
  std::optional<uint32_t> block_expiry_days, reserve_expiry_days, invoice_overdue_days;
  std::optional<std::vector<schemas::AlertKind>> off;
};
Result<Decision> DecideAlertSettings(const ClientState& state, const AlertSettingsChange& change,
                                     int64_t now_us);

struct AdjustCmd {
  schemas::AdjustmentKind kind = schemas::AdjustmentKind::PENALTY;
  int64_t amount_minor = 0;
  std::string reason;
  uint32_t month = 0;  // 0 = first open month
};
Result<Decision> DecideAdjust(const ClientState& state, const AdjustCmd& cmd, int64_t now_us);

// Review (plans with review_required): approve or reject work counting in `month`, by entry ids,
// by task (its pending entries), or all pending entries of the month. Refused as a whole, with
// nothing written, when any entry does not fit: unknown, voided, not under review, in another
// month, approved twice, rejected twice, a rejection without a reason, a rejection of approved
// work in a closed month (void it instead).
struct ReviewCmd {
  enum class Decision { kApprove, kReject };
  Decision decision = Decision::kApprove;
  uint32_t month = 0;
  std::vector<uint64_t> entries;  // by id; or
  std::string task;               // the task's pending entries; or
  bool all = false;               // every pending entry of the month
  std::string reason;             // required to reject
};
Result<Decision> DecideReview(const ClientState& state, const ReviewCmd& cmd, int64_t now_us);

// Closes `month`: HoursCarriedOver, HoursExpired (by bucket), SlotsExpired, PeriodClosed.
// A month already closed: an empty Decision (no-op). Months close in order; a month cannot
// close before it has ended in the client's zone.
// A month with work pending review is refused with the list, unless `carry_pending`: then a
// WorkReviewed (carry) moves that work to the next month first, and the month closes without it.
Result<Decision> DecideClose(const ClientState& state, uint32_t month, int64_t now_us);
Result<Decision> DecideClose(const ClientState& state, uint32_t month, int64_t now_us,
                             bool carry_pending);

// Incidents (SLA).
// kWait stops the resolution clock while the incident waits on the customer, kResume starts it
// again (docs/sla.md, "Waiting"); for kWait, `title` is the reason (optional).
enum class IncidentAction { kOpen, kRespond, kResolve, kReprioritize, kReopen, kWait, kResume };
Result<Decision> DecideIncident(const ClientState& state, IncidentAction action,
                                const std::string& id, uint8_t priority, const std::string& title,
                                int64_t at_us, int64_t now_us);

}  // namespace hourbank::projections
