# hourbank Cap'n Proto RPC interface (`hourbank serve --rpc-listen HOST:PORT`).
#
# The same operations as the HTTP API (docs/api.md) for programs, plus a subscription that
# streams the log from a seq. Transport: capnp two-party RPC over TCP (capnp::TwoPartyClient);
# the bootstrap capability is a `Ledger`.
#
# Answers that the HTTP API gives as JSON are returned as the same JSON text (the CLI's
# `--json` shapes, CLI.md), so one decoder serves both transports. Events are returned as the
# stored bytes of an `Event` (events.capnp), unpacked (capnp::FlatArrayMessageReader).
#
# Failures are RPC exceptions whose description is one sentence: "unauthorized: …" (a
# missing, unknown or revoked token), "forbidden: …" (outside the token's role), otherwise
# the HTTP error's code and message ("invalid: …", "not_found: …", "refused: …"). A refused or
# malformed call writes nothing.
#
# SCHEMA EVOLUTION RULES (programs built against older versions depend on them):
#   1. Method and field ordinals are only ever appended. Never renumber, retype, rename with a
#      new meaning or remove a method, parameter or result; an obsolete one stays, documented
#      as obsolete, and the server keeps answering it.
#   2. New operations are new methods with the next free ordinal; new optional inputs are new
#      parameters whose default means "the behaviour before this parameter existed".
#   3. Default values are never changed.
#   4. JSON answers only gain keys (as the HTTP API); a key never changes its meaning or type.
#   5. Event bytes follow events.capnp's own rules; a receiver that meets an event kind it does
#      not know must report it, not skip it silently.
#   6. Interface ids (@0x… below) are never changed.

@0xb970e2f69e88a90a;

$import "/capnp/c++.capnp".namespace("hourbank::schemas::rpc");

interface Ledger {
  # The bootstrap capability. Everything else needs a session.
  authenticate @0 (token :Text) -> (session :Session, name :Text, role :Text);
  # `token`: the secret printed by `hourbank token issue` ("hbt_…"). An unknown or revoked
  # token fails with "unauthorized: …". `name` and `role` describe the token.
}

interface Session {
  # Every call re-checks the token (a revocation takes effect on the next call) and its role,
  # exactly as the HTTP route named on each method does.

  balance @0 (client :Text, asOf :Text) -> (json :Text);
  # GET /v1/clients/{client}/balance?as_of=asOf (staff, billing, admin). asOf "" = now.

  invoice @1 (client :Text, month :Text) -> (json :Text);
  # GET /v1/clients/{client}/invoices/{month} (billing, admin). month "2026-03".

  report @2 (client :Text, month :Text) -> (json :Text);
  # GET /v1/clients/{client}/report/{month} (billing, admin).

  logWork @3 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/work with requestJson as the body (staff, admin); the answer is
  # the route's JSON. An idempotency "key" in the body makes retries safe.

  events @4 (client :Text, afterSeq :UInt64, limit :UInt32) -> (events :List(Data), nextAfterSeq :UInt64, more :Bool);
  # The client's events with seq > afterSeq, in seq order, at most `limit` (0 or above 10000:
  # 10000), as stored Event bytes (auditor, admin). Page on with afterSeq = nextAfterSeq while
  # `more`.

  subscribe @5 (fromSeq :UInt64, receiver :EventReceiver) -> (handle :Subscription);
  # Streams every event of the whole log (all clients and system streams) with seq > fromSeq to
  # `receiver`, exactly once each and in seq order: first the backlog, then new appends as they
  # are acknowledged. The next event is sent only after the receiver has returned from the
  # previous batch, so a slow receiver slows its stream, never the ledger. Streaming stops when
  # `handle` is dropped, when the receiver fails (the error is not retried) or when the
  # connection closes; resume with fromSeq = the last seq received. (auditor, admin)

  burned @6 (client :Text, from :Text, to :Text) -> (json :Text);
  # GET /v1/clients/{client}/burned?from=&to= (billing, manager, admin). "" = the default.

  sla @7 (client :Text, month :Text) -> (json :Text);
  # GET /v1/clients/{client}/sla/{month} (billing, manager, admin).

  accept @8 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/accept with requestJson as the body (staff, admin).

  voidEntry @9 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/void with requestJson as the body (staff, admin).

  pay @10 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/pay with requestJson as the body (admin).

  buy @11 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/buy with requestJson as the body (manager, admin).

  adjust @12 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/adjust with requestJson as the body (manager, admin).

  close @13 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/close with requestJson as the body (manager, admin).

  closeAll @14 (requestJson :Text) -> (json :Text);
  # POST /v1/close with requestJson as the body (manager, admin).

  incident @15 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/incidents with requestJson as the body (staff, manager, admin).

  addClient @16 (requestJson :Text) -> (json :Text);
  # POST /v1/clients with requestJson as the body (manager, admin).

  contract @17 (client :Text, action :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/contract/{action} (start, units, end) with requestJson as the body
  # (manager, admin).

  definePlans @18 (requestJson :Text) -> (json :Text);
  # POST /v1/plans with requestJson as the body (admin).

  clients @19 () -> (json :Text);
  # GET /v1/clients (any valid token).

  plans @20 () -> (json :Text);
  # GET /v1/plans (any valid token).

  plan @21 (id :Text, version :UInt32) -> (json :Text);
  # GET /v1/plans/{id}?version= (any valid token). version 0 = the latest.

  statement @22 (client :Text, month :Text, months :UInt32, format :Text) -> (json :Text);
  # GET /v1/clients/{client}/statement/{month}?months=&format= (billing, manager, admin), as
  # JSON {"content_type", "document"}. months 0 = 6; format "" = "html", or "text".

  forecast @23 (client :Text, asOf :Text, windowDays :UInt32 = 28, months :UInt32 = 12, format :Text) -> (json :Text);
  # GET /v1/clients/{client}/forecast?as_of=&window=&months=&format= (billing, manager, admin,
  # and a client token for its own client), as JSON {"content_type", "document"}: the document
  # is `forecast --json`'s JSON, or with format "text" its text. asOf "" = now.

  whatif @24 (client :Text, plan :Text, from :Text, to :Text, format :Text) -> (json :Text);
  # GET /v1/clients/{client}/whatif?plan=&from=&to=&format= (billing, manager, admin), as JSON
  # {"content_type", "document"}. plan "PLAN" or "PLAN@VERSION"; from/to "" = the default.

  writeDown @25 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/write-down with requestJson as the body (manager, admin).

  review @26 (client :Text, requestJson :Text) -> (json :Text);
  # POST /v1/clients/{client}/review with requestJson as the body (manager, admin).

  reviewList @27 (client :Text, month :Text) -> (json :Text);
  # GET /v1/clients/{client}/review/{month} (billing, manager, admin; a client token for its
  # own client), as `review CLIENT MONTH --json`.

  atLeast @28 (position :UInt64, waitMs :UInt32 = 5000) -> ();
  # Read your writes across serve nodes (docs/replicated-log.md): returns once this node shows
  # `position` (the "id" an append answered on any node), waiting at most waitMs (0 to 30000),
  # as HTTP's ?at_least=POS&wait_ms=. Await it, then read: calls on a session run
  # concurrently. "busy: this node lags: …" when it is not there in time; "invalid: …" for a
  # position of no partition of the ledger or waitMs over 30000. Answered at once on a ledger
  # directory or a cluster read directly (they show every acknowledged append). (any token)
}

interface EventReceiver {
  onEvent @0 (seq :UInt64, event :Data) -> ();
  # One event: its seq and its stored bytes (an `Event` of events.capnp, unpacked).
}

interface Subscription {
  # Dropping the last reference stops the stream. No methods yet.
}
