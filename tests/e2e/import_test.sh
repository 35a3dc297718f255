#!/usr/bin/env bash
# e2e: `hourbank import` of time-tracker CSV exports (issue 4), run against the real binary in
# temp ledgers. Usage: import_test.sh HOURBANK_BINARY SAMPLES_DIR
# Each case sets up a client on kit-hours-40 (Europe/Moscow) and checks the imported entries
# through `report --json`, the event count through `history --json | wc -l`, and exit codes.
set -u
HB=$1
SAMPLES=$2
REPO=$(cd "$SAMPLES/../../.." && pwd)
export HOURBANK_NOW=2026-06-15T00:00:00Z
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() {  # check NAME ACTUAL EXPECTED
  if [[ "$2" == "$3" ]]; then echo "ok: $1"; else fail "$1: got '$2', want '$3'"; fi
}

setup() {  # a fresh ledger with client acme
  export HOURBANK_LEDGER="$WORK/$1"
  "$HB" init >/dev/null &&
  "$HB" plan define "$REPO/examples/plans/kit.toml" >/dev/null &&
  "$HB" client add acme --name "Acme" --currency RUB --timezone Europe/Moscow >/dev/null &&
  "$HB" contract start acme --plan kit-hours-40 --from 2026-01 --months 6 >/dev/null || { fail "setup $1"; return 1; }
}
events() { "$HB" history acme --json | wc -l; }
# "minutes kind task staff" per March entry, sorted, from report --json.
entries() {
  "$HB" report acme 2026-03 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
for e in sorted(r["entries"], key=lambda e: e["at"]):
    print(e["at"], e["minutes"], e["kind"], e["task"] or "-", e["staff"])'
}

# --- each format imports the right entries; re-import writes nothing
for fmt in toggl harvest kimai generic; do
  setup "$fmt" || continue
  out=$("$HB" import acme "$SAMPLES/$fmt.csv" --format "$fmt" 2>&1); rc=$?
  check "$fmt: exit code" "$rc" 0
  echo "$out"
  case $fmt in
    toggl) want=$'2026-03-02T09:15:00+03:00 90 support T-101 Anna Petrova
2026-03-03T14:00:00+03:00 45 support T-102 Boris Ivanov
2026-03-04T11:00:00+03:00 20 support T-103 Anna Petrova
2026-03-05T16:00:00+03:00 60 support - Boris Ivanov' ;;
    harvest) want=$'2026-03-09T12:00:00+03:00 90 support Support Anna Petrova
2026-03-10T12:00:00+03:00 45 support Support Boris Ivanov
2026-03-11T12:00:00+03:00 120 support Consulting Anna Petrova' ;;
    kimai) want=$'2026-03-16T10:00:00+03:00 90 support Support anna
2026-03-17T15:00:00+03:00 25 support Support boris' ;;
    generic) want=$'2026-03-23T10:00:00+03:00 60 support T-201 anna
2026-03-24T13:30:00+03:00 90 development T-202 boris
2026-03-25T12:00:00+03:00 45 support T-203 anna' ;;
  esac
  check "$fmt: entries" "$(entries)" "$want"
  before=$(events)
  json=$("$HB" --json import acme "$SAMPLES/$fmt.csv" --format "$fmt"); rc=$?
  check "$fmt: re-import exit code" "$rc" 0
  check "$fmt: re-import writes nothing" "$(events)" "$before"
  n=$(printf '%s\n' "$want" | wc -l)
  check "$fmt: re-import json" "$json" "$(printf '{"client":"acme","dry_run":false,"file":"%s","format":"%s","imported":0,"refused":[],"skipped":%d}' "$SAMPLES/$fmt.csv" "$fmt" "$n")"
done

# --- quoted fields: commas, escaped quotes, a newline (toggl sample)
export HOURBANK_LEDGER="$WORK/toggl"
notes=$("$HB" history acme --json | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if "note" in e and e.get("minutes"): print(repr(e["note"]))')
check "quoted fields parse" "$notes" $'\'Password reset for the CFO\'\n\'Mail relay down, restarted postfix\'\n\'Printer says "PC LOAD LETTER"\'\n\'Backup check:\\nnightly job failed twice\''

# --- bad rows: the good ones are imported, the bad ones reported by line, exit 1
setup bad
before=$(events)
out=$("$HB" import acme "$SAMPLES/bad_rows.csv" --format generic 2>"$WORK/bad.err"); rc=$?
echo "$out"
check "bad rows: exit code" "$rc" 1
check "bad rows: two entries written" "$(($(events) - before))" 2
check "bad rows: summary" "$(head -1 <<<"$out")" "acme: imported 2, skipped 0 (already imported), refused 5"
for line in 3 4 6 7 8; do
  grep -q "^  line $line: " <<<"$out" || fail "bad rows: line $line not reported"
done
grep -q "line 3: duration '0:00' must be more than zero" <<<"$out" || fail "bad rows: zero duration reason"
grep -q "^hourbank: error: 5 rows .* refused" "$WORK/bad.err" || fail "bad rows: error line: $(cat "$WORK/bad.err")"
json=$("$HB" --json import acme "$SAMPLES/bad_rows.csv" --format generic 2>/dev/null)
check "bad rows: json" "$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["imported"], j["skipped"], [r["line"] for r in j["refused"]])' "$json")" "0 2 [3, 4, 6, 7, 8]"

# --- file errors: one error line, exit 1, nothing written
setup files
before=$(events)
refuse() {  # refuse NAME PATTERN ARGS…
  local name=$1 pattern=$2; shift 2
  "$HB" import acme "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?
  check "$name: exit code" "$rc" 1
  check "$name: one error line" "$(wc -l <"$WORK/err")" 1
  grep -q "^hourbank: error: .*$pattern" "$WORK/err" || fail "$name: message: $(cat "$WORK/err")"
  check "$name: nothing written" "$(events)" "$before"
}
refuse "missing columns" "lacks columns 'Start date', 'Start time', 'Duration'" "$SAMPLES/missing_columns.csv" --format toggl
refuse "missing file" "cannot read" "$WORK/nope.csv" --format toggl
refuse "unknown format" "unknown format 'excel'" "$SAMPLES/toggl.csv" --format excel
printf 'date,duration\n2026-03-02,"1h\n' >"$WORK/unclosed.csv"
refuse "unclosed quote" "not CSV: line 2" "$WORK/unclosed.csv" --format generic
printf 'date,duration\n\0\0\0' >"$WORK/binary.csv"
refuse "binary file" "NUL byte" "$WORK/binary.csv" --format generic
: >"$WORK/empty.csv"
refuse "empty file" "empty" "$WORK/empty.csv" --format generic
"$HB" import nobody "$SAMPLES/generic.csv" --format generic >/dev/null 2>"$WORK/err"
check "unknown client: exit code" "$?" 1
grep -q "unknown client 'nobody'" "$WORK/err" || fail "unknown client: $(cat "$WORK/err")"

# --- dry run: checks, writes nothing
out=$("$HB" import acme "$SAMPLES/generic.csv" --format generic --dry-run); rc=$?
check "dry run: exit code" "$rc" 0
check "dry run: summary" "$out" "acme: would import 3, skipped 0 (already imported), refused 0"
check "dry run: nothing written" "$(events)" "$before"

# --- piped: no progress bar escape codes on stderr
"$HB" import acme "$SAMPLES/kimai.csv" --format kimai >/dev/null 2>"$WORK/err"
check "piped: stderr empty" "$(wc -c <"$WORK/err")" 0

# --- the same file with another --kind: refused per row, nothing new written
before=$(events)
"$HB" import acme "$SAMPLES/kimai.csv" --format kimai --kind development >"$WORK/out" 2>/dev/null
check "other kind: exit code" "$?" 1
grep -q "line 2: was imported before with other options" "$WORK/out" || fail "other kind: $(cat "$WORK/out")"
check "other kind: nothing written" "$(events)" "$before"

if ((FAILS)); then echo "$FAILS failure(s)"; exit 1; fi
echo "all import tests passed"
