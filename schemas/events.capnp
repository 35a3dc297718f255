# hourbank event log record format.
#
# Every fact of the ledger is one `Event`, stored unpacked (capnp::messageToFlatArray) as the
# value of the `events` column family, keyed by its seq (see ledger/format.h for the on-disk
# grammar).
#
# SCHEMA EVOLUTION RULES (auditors and old ledgers depend on them):
#   1. Ordinals are only ever appended. Never renumber, retype, rename-with-new-meaning or
#      remove a field or a union member. A field that is no longer written stays, documented
#      as obsolete.
#   2. New event kinds are new members of `Event.body` with the next free ordinal.
#   3. Default values are never changed: old events decode with the default, so a default
#      must keep meaning "the behaviour before this field existed".
#   4. Units are in every name: `…Minor` is money in integer minor units of the client's
#      currency (Int64), `…Minutes` is integer minutes (Int64), `…Us` is microseconds since
#      the Unix epoch, UTC (Int64). Months are UInt32 `YYYYMM` (202510 = October 2025).
#   5. No floating point anywhere. Percentages are integer percent, multipliers integer
#      percent (300 = 3x).
#   6. A reader that meets a union member it does not know (`which()` beyond its enum) must
#      report it, not skip it silently.

@0xa9dc7b341c4a4028;

$import "/capnp/c++.capnp".namespace("hourbank::schemas");

struct Event {
  # Envelope. seq, recordedAtUs and prevHash are stamped by the ledger under its write lock.
  seq @0 :UInt64;             # 1, 2, 3 … no gaps
  recordedAtUs @1 :Int64;     # when the ledger appended it (UTC µs)
  effectiveAtUs @2 :Int64;    # business time: when the work was done / the fact holds
  clientId @3 :Text;          # stream; system streams start with '$' ("$catalog", "$auth", "$audit")
  actor @4 :Text;             # who appended it (CLI user, or the server token's name)
  idempotencyKey @5 :Text;    # optional; empty when none
  prevHash @6 :Data;          # BLAKE2b-256 chain hash of the previous event (32 zero bytes for seq 1)

  body :union {
    clientRegistered @7 :ClientRegistered;
    planDefined @8 :PlanDefined;
    contractStarted @9 :ContractStarted;
    contractChanged @10 :ContractChanged;
    contractEnded @11 :ContractEnded;
    unitsChanged @12 :UnitsChanged;
    workLogged @13 :WorkLogged;
    workAccepted @14 :WorkAccepted;
    workVoided @15 :WorkVoided;
    hoursPurchased @16 :HoursPurchased;
    addonPurchased @17 :AddonPurchased;
    paymentReceived @18 :PaymentReceived;
    hoursCarriedOver @19 :HoursCarriedOver;
    hoursExpired @20 :HoursExpired;
    slotsExpired @21 :SlotsExpired;
    periodClosed @22 :PeriodClosed;
    adjustment @23 :Adjustment;
    incidentOpened @24 :IncidentOpened;
    incidentResponded @25 :IncidentRef;
    incidentResolved @26 :IncidentRef;
    incidentReprioritized @27 :IncidentReprioritized;
    incidentReopened @28 :IncidentRef;
    tokenIssued @29 :TokenIssued;
    tokenRevoked @30 :TokenRevoked;
    checkpoint @31 :Checkpoint;
    workWrittenDown @32 :WorkWrittenDown;
    workReviewed @33 :WorkReviewed;
    incidentWaiting @34 :IncidentWaiting;
    incidentResumed @35 :IncidentRef;
    alertRaised @36 :AlertRaised;
    webhookAdded @37 :WebhookAdded;
    webhookRemoved @38 :WebhookRemoved;
    webhookAttempted @39 :WebhookAttempted;
    webhookRedeliverRequested @40 :WebhookRedeliverRequested;
    alertSettingsSet @41 :AlertSettingsSet;
  }
}

struct ClientRegistered {
  name @0 :Text;
  currency @1 :Text;          # ISO 4217, e.g. "RUB", "USD"
  timezone @2 :Text;          # IANA zone, e.g. "Europe/Moscow"
}

struct PlanDefined {
  # The whole plan, as canonical TOML, so replay never depends on external files.
  planId @0 :Text;
  version @1 :UInt32;         # 1, 2, … per planId
  specToml @2 :Text;          # canonical TOML of this one plan (see projections/plan.h)
  specDigest @3 :Data;        # BLAKE2b-256 of specToml
}

struct Extra {
  name @0 :Text;
  quantity @1 :UInt32;
}

struct ContractStarted {
  planId @0 :Text;
  planVersion @1 :UInt32;
  planSpecToml @2 :Text;      # copy of the pinned plan, so a client's stream replays on its own
  fromMonth @3 :UInt32;       # YYYYMM, first month
  termMonths @4 :UInt32;      # 0 = open-ended
  prepaidMonths @5 :UInt32;   # months paid in advance (prepayment discount)
  timely @6 :Bool;            # timely conclusion / renewal discount
  units @7 :UInt32;           # licences (per-unit plans); 0 otherwise
  extras @8 :List(Extra);
  review @9 :ReviewRule;      # the client's review rule; plan = the plan's review_required
}

enum ReviewRule {
  # Whether logged work waits for a manager's approval (docs/plan-format.md, "Review").
  plan @0;                    # as the plan says (review_required)
  required @1;                # always, whatever the plan says
  off @2;                     # never, whatever the plan says
}

struct ContractChanged {
  # Renewal or plan change from a month on; replaces the pinned plan and terms from fromMonth.
  planId @0 :Text;
  planVersion @1 :UInt32;
  planSpecToml @2 :Text;
  fromMonth @3 :UInt32;
  termMonths @4 :UInt32;
  prepaidMonths @5 :UInt32;
  timely @6 :Bool;
  extras @7 :List(Extra);
}

struct ContractEnded {
  lastMonth @0 :UInt32;       # YYYYMM, the last month of the contract
}

struct UnitsChanged {
  units @0 :UInt32;
  fromMonth @1 :UInt32;
}

enum OffHours {
  auto @0;                    # decided by the plan's business calendar from effectiveAtUs
  yes @1;
  no @2;
}

struct WorkLogged {
  # The entry id is the seq of this event.
  kind @0 :Text;
  task @1 :Text;
  staff @2 :Text;
  minutes @3 :Int64;          # hour kinds; 0 for item kinds
  count @4 :UInt32;           # item kinds; 0 for hour kinds
  urgent @5 :Bool;
  offHours @6 :OffHours;
  note @7 :Text;
  late @8 :Bool;              # booked into bookedMonth although done in a closed month
  emergency @9 :Bool;         # accepted while the client is blocked
  bookedMonth @10 :UInt32;    # YYYYMM the entry counts in (0 = month of effectiveAtUs / acceptance)
  nonBillable @11 :Bool;      # recorded and reported, never billed (default: billable as before)
}

struct WorkAccepted {
  task @0 :Text;              # every logged, unaccepted entry of this task counts from now
  bookedMonth @1 :UInt32;     # YYYYMM the accepted entries count in (0 = month of effectiveAtUs)
}

struct WorkVoided {
  entrySeq @0 :UInt64;
  reason @1 :Text;
  creditMonth @2 :UInt32;     # 0 when the entry's month is open; else the open month credited
  creditMinor @3 :Int64;      # money credited (positive) when the month was closed
  creditMinutes @4 :Int64;    # minutes returned to the reserve/credit when the month was closed
}

struct HoursPurchased {
  # A prepaid hour block; its id is the seq of this event.
  minutes @0 :Int64;
  priceMinor @1 :Int64;
  expiresAtUs @2 :Int64;      # 0 = never expires
  month @3 :UInt32;           # YYYYMM invoiced in
}

struct AddonPurchased {
  addonId @0 :Text;
  month @1 :UInt32;           # YYYYMM the slots are for
  priceMinor @2 :Int64;
}

struct PaymentReceived {
  amountMinor @0 :Int64;
  ref @1 :Text;
}

struct HoursCarriedOver {
  month @0 :UInt32;           # month closed
  minutes @1 :Int64;          # allowance minutes moved into the reserve
  reserveAfterMinutes @2 :Int64;
}

enum Bucket {
  allowance @0;
  reserve @1;
  block @2;
}

struct HoursExpired {
  month @0 :UInt32;
  bucket @1 :Bucket;
  blockSeq @2 :UInt64;        # for bucket = block
  minutes @3 :Int64;
}

struct SlotsExpired {
  month @0 :UInt32;
  pool @1 :Text;
  count @2 :UInt32;
}

struct PeriodClosed {
  month @0 :UInt32;
  totalMinor @1 :Int64;
  linesDigest @2 :Data;       # BLAKE2b-256 over the invoice lines (LinesDigest, projections/state.h)
  lineCount @3 :UInt32;
}

enum AdjustmentKind {
  penalty @0;
  credit @1;
  charge @2;
}

struct Adjustment {
  kind @0 :AdjustmentKind;
  amountMinor @1 :Int64;      # always positive; the kind gives the sign
  reason @2 :Text;
  month @3 :UInt32;           # YYYYMM invoiced in
  reversesSeq @4 :UInt64;     # 0 = none; else cancels the adjustment with this seq, which must be
                              # in `month` (still open) with the same kind and amount: a recorded
                              # reversal (events are immutable), e.g. of an early-end charge left
                              # after the contract's new last month by a second, earlier end
  earlyEnd @5 :Bool;          # a charge written by `contract end --early` (pay_minimum_term); only
                              # these move when the contract is ended earlier again (false in
                              # events written before this field: such charges stay where they are)
}

struct IncidentOpened {
  incidentId @0 :Text;
  priority @1 :UInt8;         # 1 (highest) … 4
  title @2 :Text;
}

struct IncidentRef {
  incidentId @0 :Text;
}

struct IncidentReprioritized {
  incidentId @0 :Text;
  priority @1 :UInt8;
}

enum Role {
  staff @0;
  billing @1;
  auditor @2;
  admin @3;
  manager @4;   # closes months and sells (blocks, add-ons, contracts, clients); docs/api.md
  client @5;    # read-only, scoped to TokenIssued.clientId (the portal); docs/api.md
}

struct TokenIssued {
  name @0 :Text;
  role @1 :Role;
  secretHash @2 :Data;        # BLAKE2b-256 of the secret; the secret itself is never stored
  clientId @3 :Text;          # the one client a `client` token may read; empty for other roles
}

struct TokenRevoked {
  name @0 :Text;
}

struct Checkpoint {
  headSeq @0 :UInt64;         # the last seq covered
  headHash @1 :Data;          # chain hash after headSeq
  publicKey @2 :Data;         # Ed25519 public key (32 bytes)
  signature @3 :Data;         # Ed25519 over "hourbank-checkpoint-v1" ‖ headSeq (8 bytes BE) ‖ headHash
}

struct WorkWrittenDown {
  # A manager's reduction of an hour entry's billed time (docs/plan-format.md, "Billing rules").
  entrySeq @0 :UInt64;
  minutes @1 :Int64;          # billed minutes taken off (before the surcharge multiplier), > 0
  reason @2 :Text;
}

enum ReviewDecision {
  approve @0;                 # pending work is billed as logged
  reject @1;                  # the work leaves its month: it draws nothing and is never billed
  carry @2;                   # pending work moves to toMonth (`close --carry-pending`)
}

struct WorkReviewed {
  # A manager's review of work on a plan with review_required (docs/plan-format.md, "Review").
  entrySeqs @0 :List(UInt64);
  decision @1 :ReviewDecision;
  reason @2 :Text;            # required for reject
  toMonth @3 :UInt32;         # carry: the open month the entries move to; 0 otherwise
}

struct IncidentWaiting {
  # The resolution clock stops while the incident waits on the customer (docs/sla.md, "Waiting");
  # incidentResumed starts it again.
  incidentId @0 :Text;
  reason @1 :Text;            # optional, e.g. "waiting for the customer's logs"
}

enum AlertKind {
  allowanceUsed @0;           # threshold: percent of the month's included hours drawn
  overageStarted @1;          # the month's first overage minute
  blockExpiring @2;           # threshold: days before the block's expiry; subject: block seq
  blockRunOut @3;             # a prepaid block drawn to 0; subject: block seq
  reserveExpiring @4;         # threshold: days before the contract's end (reserve left expires)
  slotsExhausted @5;          # threshold: the pool's quota; subject: the pool
  slaBreached @6;             # threshold: percent of the target used (75, 100); subject: incident
  clientBlocked @7;           # the plan's debt_blocking rule blocks the client
  invoiceOverdue @8;          # threshold: days after the month's end; a closed month's invoice unpaid
}

struct AlertRaised {
  # A threshold crossed (docs/alerts.md); appended once, with the idempotency key
  # "alert:<client>:<kind>:<threshold>:<month>[:<subject>]", after the write that crossed it.
  kind @0 :AlertKind;
  threshold @1 :UInt32;       # percent, days or slots (per kind); 0 when the kind has none
  month @2 :UInt32;           # YYYYMM the alert is about (see docs/alerts.md per kind)
  subject @3 :Text;           # block seq, pool or incident id; empty when the kind has none
  usedMinutes @4 :Int64;      # figures at the moment (per kind; docs/alerts.md)
  limitMinutes @5 :Int64;
  leftMinutes @6 :Int64;
  deadlineUs @7 :Int64;       # expiry or deadline; 0 when none
  amountMinor @8 :Int64;      # overage so far, blocking debt; 0 otherwise
}

# Webhooks (docs/webhooks.md): registrations and the delivery log, in the system stream
# "$webhooks".
struct WebhookAdded {
  webhookId @0 :Text;         # "wh1", "wh2", … in the order added
  url @1 :Text;               # http:// or https://, at most 2048 bytes
  events @2 :List(Text);      # "alert", "month_closed"
  secret @3 :Data;            # the HMAC key, 16-1024 bytes: the log is as sensitive as it
  maxAttempts @4 :UInt32;     # attempts per delivery before it gives up, 1-100
}

struct WebhookRemoved {
  webhookId @0 :Text;
}

enum WebhookOutcome {
  delivered @0;               # the receiver answered 2xx
  retry @1;                   # another attempt at retryAtUs
  gaveUp @2;                  # maxAttempts reached
}

struct WebhookAttempted {
  webhookId @0 :Text;
  sourceSeq @1 :UInt64;       # the event delivered (an AlertRaised or PeriodClosed)
  attempt @2 :UInt32;         # 1, 2, … (restarts after a redeliver request)
  httpStatus @3 :UInt32;      # the receiver's status; 0 when none (timeout, connection error)
  error @4 :Text;             # why it failed, at most 200 bytes; empty when delivered
  outcome @5 :WebhookOutcome;
  retryAtUs @6 :Int64;        # for retry: not before then; 0 otherwise
}

struct WebhookRedeliverRequested {
  webhookId @0 :Text;
  sourceSeq @1 :UInt64;
}

struct AlertSettingsSet {
  # A client's own alert thresholds over its plan's [plan.alerts] (docs/alerts.md, "Per
  # client"; `hourbank alerts set`). The whole setting: each event replaces the one before. A
  # threshold whose …Set flag is false follows the plan (all of them after `--reset`).
  allowancePercent @0 :List(UInt32);  # sorted, 1-1000 each, at most 10; [] = none
  allowancePercentSet @1 :Bool;
  blockExpiryDays @2 :UInt32;         # 0-366; 0 = no block expiry warning
  blockExpiryDaysSet @3 :Bool;
  reserveExpiryDays @4 :UInt32;       # 0-366; 0 = no reserve expiry warning
  reserveExpiryDaysSet @5 :Bool;
  invoiceOverdueDays @6 :UInt32;      # 0-366 days after the invoice's month
  invoiceOverdueDaysSet @7 :Bool;
  off @8 :List(AlertKind);            # kinds never raised for this client
}
