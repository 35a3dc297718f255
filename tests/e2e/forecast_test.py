#!/usr/bin/env python3
"""`hourbank forecast` and `hourbank whatif` end to end with the real binary.

Usage: forecast_test.py PATH/TO/hourbank

The forecast case is the one worked out by hand in tests/reports/forecast_test.cc (KIT option
1, 15 h a month, 60 minutes a day over the window): the CLI shows the same days and money.
Refusals are one `hourbank: error:` line, a non-zero exit, and nothing written.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import check, ok, refused, run  # noqa: E402

su.HB = HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")


def ledger(now="2026-03-15T12:00:00+03:00"):
    return su.ledger_env("hourbank-forecast-", now)


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
refused(env, ["whatif", "k", "--plan", "nope"], "unknown plan 'nope'", "whatif unknown plan")
refused(env, ["whatif", "k", "--plan", "bpm-basic@9"], "has no version 9", "whatif unknown version")
refused(env, ["whatif", "k", "--plan", "bpm-basic@x"], "is not a number", "whatif bad version")
refused(env, ["whatif", "k", "--plan", "altercpa-basic"], ["in USD", "pays in RUB"], "whatif other currency")
refused(env, ["whatif", "k", "--plan", "bpm-basic", "--from", "2026-03", "--to", "2026-02"], "is after --to", "whatif reversed range")
refused(env, ["whatif", "nobody", "--plan", "bpm-basic"], "unknown client 'nobody'", "whatif unknown client")

refused(env, ["forecast", "nobody"], "unknown client 'nobody'", "unknown client")
refused(env, ["forecast", "k", "--window", "0"], "--window must be 1 to 366", "window 0")
refused(env, ["forecast", "k", "--window", "367"], "--window must be 1 to 366", "window too long")
refused(env, ["forecast", "k", "--months", "25"], "--months must be 0 to 24", "months too many")

su.finish("forecast and whatif e2e")
