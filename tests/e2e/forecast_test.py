#!/usr/bin/env python3
"""`hourbank forecast` and `hourbank whatif` end to end with the real binary.

Usage: forecast_test.py PATH/TO/hourbank

The forecast case is the one worked out by hand in tests/reports/forecast_test.cc (KIT option
1, 15 h a month, 60 minutes a day over the window): the CLI shows the same days and money.
Refusals are one `hourbank: error:` line, a non-zero exit, and nothing written.
"""
import json
import os
import subprocess
import sys
import tempfile

HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def ledger(now="2026-03-15T12:00:00+03:00"):
    d = os.path.join(tempfile.mkdtemp(prefix="hourbank-forecast-"), "ledger")
    env = dict(os.environ, HOURBANK_LEDGER=d, HOURBANK_NOW=now, USER="tester")
    env.pop("HOURBANK_SERVER", None)
    return d, env


def run(env, *args):
    return subprocess.run([HB, *args], env=env, capture_output=True, text=True, timeout=60)


def ok(env, *args):
    p = run(env, *args)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def refused(env, what, *args):
    before = json.loads(ok(env, "--json", "rebuild"))["events"]
    p = run(env, *args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0, f"{what}: non-zero exit, got {p.returncode}")
    check(len(lines) == 1 and lines[0].startswith("hourbank: error: "), f"{what}: one error line, got {p.stderr!r}")
    after = json.loads(ok(env, "--json", "rebuild"))["events"]
    check(before == after, f"{what}: nothing written")


# ---- the KIT 15 h case
d, env = ledger()
ok(env, "init")
ok(env, "plan", "define", os.path.join(PLANS, "kit.toml"))
ok(env, "client", "add", "k", "--name", "K", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "k", "--plan", "kit-hours-15", "--from", "2026-02")
for at, dur in [("2026-02-10T12:00", "5h"), ("2026-02-16T12:00", "10h"), ("2026-02-25T12:00", "10h")]:
    ok(env, "log", "k", dur, "--kind", "support", "--at", at)
ok(env, "close", "k", "2026-02")
for at, dur in [("2026-03-05T12:00", "8h"), ("2026-03-15T10:00", "1h")]:
    ok(env, "log", "k", dur, "--kind", "support", "--at", at)

f = json.loads(ok(env, "--json", "forecast", "k"))
check(f["window"] == {"from": "2026-02-15", "to": "2026-03-14", "days": 28, "minutes": 1680}, f"window: {f['window']}")
check(f["allowance"] == {"left_minutes": 360, "runs_out_on": "2026-03-21"}, f"allowance: {f['allowance']}")
check(f["overage"]["expected_minutes"] == 600 and f["overage"]["expected_minor"] == 2550000,
      f"overage: {f['overage']}")
check(f["overage"]["starts_on"] == "2026-03-22", f"overage starts: {f['overage']}")
check(f["projected_to"] == "2026-04-30", f"projected to the contract's end: {f['projected_to']}")

text = ok(env, "forecast", "k")
check("2026-03-21" in text and "25 500.00" in text, f"text shows the day and the money:\n{text}")
check("Прогноз" in text, f"a RUB client reads Russian:\n{text}")

# --as-of moves today: on 1 Mar the window is 1 … 28 Feb (16 Feb + 25 Feb + 10 Feb = 25 h).
f = json.loads(ok(env, "--json", "forecast", "k", "--as-of", "2026-03-01"))
check(f["today"] == "2026-03-01" and f["window"]["minutes"] == 1500, f"as-of window: {f['window']}")

# ---- whatif on the same ledger: own plan = billed; bpmonline Basic by hand
ok(env, "plan", "define", os.path.join(PLANS, "bpmonline.toml"))
ok(env, "plan", "define", os.path.join(PLANS, "altercpa.toml"))
before = json.loads(ok(env, "--json", "rebuild"))["events"]
w = json.loads(ok(env, "--json", "whatif", "k", "--plan", "kit-hours-15"))
check([m["month"] for m in w["months"]] == ["2026-02", "2026-03"], f"months to this one: {w['months']}")
check(all(m["whatif_minor"] == m["billed_minor"] for m in w["months"]) and w["difference_minor"] == 0,
      f"own plan equals the invoices: {w}")
# Billed: February 38 250 + 10 h × 2 550 = 63 750.00, March (open) 38 250.00 = 102 000.00;
# bpm-basic "24 000/month, unlimited": 48 000.00; difference -54 000.00.
w = json.loads(ok(env, "--json", "whatif", "k", "--plan", "bpm-basic@1"))
check(w["billed_total_minor"] == 10200000 and w["whatif_total_minor"] == 4800000 and w["difference_minor"] == -5400000,
      f"bpm-basic what-if: {w['billed_total_minor']} {w['whatif_total_minor']} {w['difference_minor']}")
text = ok(env, "whatif", "k", "--plan", "bpm-basic", "--from", "2026-02", "--to", "2026-02")
check("63 750.00" in text and "24 000.00" in text and "-39 750.00" in text, f"whatif text:\n{text}")
after = json.loads(ok(env, "--json", "rebuild"))["events"]
check(before == after, "whatif writes nothing")
refused(env, "whatif unknown plan", "whatif", "k", "--plan", "nope")
refused(env, "whatif unknown version", "whatif", "k", "--plan", "bpm-basic@9")
refused(env, "whatif bad version", "whatif", "k", "--plan", "bpm-basic@x")
refused(env, "whatif other currency", "whatif", "k", "--plan", "altercpa-basic")
refused(env, "whatif reversed range", "whatif", "k", "--plan", "bpm-basic", "--from", "2026-03", "--to", "2026-02")
refused(env, "whatif unknown client", "whatif", "nobody", "--plan", "bpm-basic")

refused(env, "unknown client", "forecast", "nobody")
refused(env, "window 0", "forecast", "k", "--window", "0")
refused(env, "window too long", "forecast", "k", "--window", "367")
refused(env, "months too many", "forecast", "k", "--months", "25")

if FAILURES:
    print(f"{len(FAILURES)} failure(s)")
    sys.exit(1)
print("ok")
