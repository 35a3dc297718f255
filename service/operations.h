// Every operation of hourbank as one service call: the CLI, the HTTP routes, the RPC methods and
// the remote client build one of these requests and call the function; each checks the
// caller's role (auth.h), parses the request's texts against the client (its zone, its
// currency), decides and appends through Execute (execute.h). Nothing here throws; nothing
// here formats an answer (that is the transports' and reports' job).
//
// Requests carry the texts the user gave (times, amounts, months): they are read in the
// client's zone and currency here, once for every transport. `names` says how error sentences
// call the fields: "--at" for the CLI, "at" for JSON bodies.
//
// The canonical text of a request (its operation and its fields as given, without the key) is
// what the idempotency digest is taken over, so the same request through any transport is the
// same request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "projections/decide.h"
#include "service/auth.h"
#include "service/execute.h"
#include "service/session.h"

namespace hourbank::service {

enum class Names { kFields, kFlags };

struct LogRequest {
  std::string client;
  projections::LogWork work;  // at_us is ignored: `at` is read in the client's zone
  std::string at, key;
  Names names = Names::kFields;
};
struct LogAnswer {
  WriteOutcome write;
  projections::ClientState state;  // the client after the append (lean; all entries on a replay)
};
Result<LogAnswer> LogWorkOp(Session& s, const Caller& caller, const LogRequest& r);

struct AcceptRequest {
  std::string client, task, at;
  bool late = false;
  Names names = Names::kFields;
};
Result<WriteOutcome> AcceptOp(Session& s, const Caller& caller, const AcceptRequest& r);

struct VoidRequest {
  std::string client;
  uint64_t entry = 0;
  std::string reason, key;
};
Result<WriteOutcome> VoidOp(Session& s, const Caller& caller, const VoidRequest& r);

// A manager's write-down of an hour entry's billed time (projections::DecideWriteDown).
struct WriteDownRequest {
  std::string client;
  uint64_t entry = 0;
  int64_t minutes = 0;
  std::string reason, key;
};
Result<WriteOutcome> WriteDownOp(Session& s, const Caller& caller, const WriteDownRequest& r);

// A manager approves or rejects work pending review in `month` (projections::DecideReview).
struct ReviewRequest {
  std::string client, month;
  bool approve = true;
  std::vector<uint64_t> entries;
  std::string task;
  bool all = false;
  std::string reason;
  Names names = Names::kFields;
};
Result<WriteOutcome> ReviewOp(Session& s, const Caller& caller, const ReviewRequest& r);

// An hour block (`hours`, optional `price`, `expires`) or an add-on (`addon` for `month`).
struct BuyRequest {
  std::string client, hours, price, expires, addon, month, at, key;
  Names names = Names::kFields;
};
Result<WriteOutcome> BuyOp(Session& s, const Caller& caller, const BuyRequest& r);

struct PayRequest {
  std::string client, amount, ref, at, key;
  Names names = Names::kFields;
};
Result<WriteOutcome> PayOp(Session& s, const Caller& caller, const PayRequest& r);

// Exactly one of penalty, credit, charge.
struct AdjustRequest {
  std::string client, penalty, credit, charge, reason, month, key;
  Names names = Names::kFields;
};
Result<WriteOutcome> AdjustOp(Session& s, const Caller& caller, const AdjustRequest& r);

struct CloseRequest {
  std::string client, month;
  Names names = Names::kFields;
  bool carry_pending = false;  // move work pending review to the next month (DecideClose)
};
Result<WriteOutcome> CloseOp(Session& s, const Caller& caller, const CloseRequest& r);

// Every client's open months up to `through`, in order; `on_closed` (optional) hears each.
struct CloseAllRequest {
  std::string through;
  Names names = Names::kFields;
};
struct Closed {
  std::string client;
  uint32_t month = 0;
  std::string summary;
};
Result<std::vector<Closed>> CloseAllOp(Session& s, const Caller& caller, const CloseAllRequest& r,
                                       const std::function<void(const Closed&)>& on_closed = {},
                                       const std::function<void(size_t clients)>& on_start = {});

struct IncidentRequest {
  std::string client;
  projections::IncidentAction action = projections::IncidentAction::kOpen;
  std::string id, title, at;
  int64_t priority = 0;  // 1 (highest) to 4; required to open and to reprioritize
  Names names = Names::kFields;
  std::string reason;  // wait: why the incident waits on the customer (optional)
};
Result<WriteOutcome> IncidentOp(Session& s, const Caller& caller, const IncidentRequest& r);
// "open", "respond", "resolve", "reprioritize", "reopen", "wait", "resume".
std::optional<projections::IncidentAction> ParseIncidentAction(const std::string& text);

Result<WriteOutcome> AddClientOp(Session& s, const Caller& caller,
                                 const projections::RegisterClient& r);

struct ContractStartRequest {
  std::string client, plan, from;
  uint32_t plan_version = 0, months = 0, prepaid = 0, units = 0;
  bool timely = false;
  std::map<std::string, uint32_t> extras;
  Names names = Names::kFields;
  std::string review;  // "" = as the plan says, "required", "off"
};
Result<WriteOutcome> ContractStartOp(Session& s, const Caller& caller,
                                     const ContractStartRequest& r);
struct ContractUnitsRequest {
  std::string client, from;
  uint32_t units = 0;
  Names names = Names::kFields;
};
Result<WriteOutcome> ContractUnitsOp(Session& s, const Caller& caller,
                                     const ContractUnitsRequest& r);
struct ContractEndRequest {
  std::string client, after;
  bool early = false;
  Names names = Names::kFields;
};
Result<WriteOutcome> ContractEndOp(Session& s, const Caller& caller, const ContractEndRequest& r);

// Plan files: (name for messages, TOML text) each.
struct DefinePlansRequest {
  std::vector<std::pair<std::string, std::string>> files;
};
Result<WriteOutcome> DefinePlansOp(Session& s, const Caller& caller, const DefinePlansRequest& r);
inline constexpr size_t kPlanFileBytesMax = 4u << 20;

// Reads: the role check, then the client at the time asked for.
Result<ClientAt> ReadClientOp(Session& s, const Caller& caller, Operation op,
                              const std::string& client, const TimeQuery& time,
                              bool retain_entries = false);
// As ReadClientOp for a lean read that does not change the state: shares the cached snapshot.
Result<SnapshotAt> ReadSnapshotOp(Session& s, const Caller& caller, Operation op,
                                  const std::string& client, const TimeQuery& time);
Result<std::vector<projections::ClientState>> ListClientsOp(Session& s, const Caller& caller);
Result<projections::Catalog> ListPlansOp(Session& s, const Caller& caller);

// A page of a client's events with seq > after_seq, at most `limit` (0: kEventsPageMax).
struct EventsRequest {
  std::string client, known_at;
  uint64_t after_seq = 0, limit = 0;
};
struct EventsPage {
  uint64_t next_after_seq = 0;
  bool more = false;
  projections::Zone zone = projections::Zone::Utc();
};
inline constexpr uint64_t kEventsPageMax = 10000;
Result<EventsPage> ReadEventsOp(
    Session& s, const Caller& caller, const EventsRequest& r,
    const std::function<void(const ledger::EventView&, const projections::Zone&)>& visit);

// Month and time texts, with the field's name in the sentence.
Result<uint32_t> ParseMonthField(const std::string& text, const std::string& name);
Result<int64_t> ParseTimeField(const std::string& text, const projections::Zone& zone,
                               const std::string& name);
// An amount in the client's currency (its minor digits checked); kNotFound for an unregistered
// client.
Result<int64_t> ParseMoneyField(const projections::ClientState& s, const std::string& text,
                                const std::string& name);
// Months from..to (0 = open) for burned: to before from, or more than kMonthsMax (limits.h) months,
// refused.
Status CheckMonthRange(uint32_t from, uint32_t to, Names names);

}  // namespace hourbank::service
