#!/usr/bin/env python3
"""Billing increments end to end with the real binary (issue 18): a plan with 15-minute
increments and a 30-minute task minimum, `log --non-billable`, `write-down` by a manager, and the
work report showing raw and billed time. Bad input is one `hourbank: error:` line, exit != 0,
nothing written.

Usage: billing_e2e.py PATH/TO/hourbank
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import FAILURES, check, events, ok, refused, run  # noqa: E402

su.HB = HB = sys.argv[1]

PLAN = """
[[plan]]
id = "quarter"
currency = "RUB"
fee_minor = 2000000
included_minutes = 600
overage_rate_minor = 200000
increment_minutes = 15
minimum_task_minutes = 30

[[plan.kinds]]
id = "support"
unit = "hour"

[[plan.kinds]]
id = "internal"
unit = "hour"
billable = false
"""


tmp, env = su.ledger_env("hourbank-billing-", "2026-01-20T10:00:00Z")
plan = os.path.join(tmp, "quarter.toml")
with open(plan, "w") as f:
    f.write(PLAN)
ok(env, "init")
ok(env, "plan", "define", plan)
ok(env, "client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "acme", "--plan", "quarter", "--from", "2026-01", "--months", "12")


def log(*args):
    out = json.loads(ok(env, "--json", "log", "acme", *args, "--at", "2026-01-15T12:00"))
    return out["id"]


a = log("50m", "--kind", "support", "--task", "T-1")        # 50m → 1h (15-minute steps)
b = log("10m", "--kind", "support", "--task", "T-2")        # 10m → 15m → 30m (task minimum)
c = log("2h", "--kind", "internal", "--task", "meeting")    # non-billable kind: 0
d = log("40m", "--kind", "support", "--task", "T-3", "--non-billable")  # flagged: 0

report = json.loads(ok(env, "--json", "report", "acme", "2026-01"))
billed = {e["id"]: (e["minutes"], e["billed_minutes"]) for e in report["entries"]}
check(billed.get(a) == (50, 60), f"50m bills 1h: {billed.get(a)}")
check(billed.get(b) == (10, 30), f"10m bills the 30m minimum: {billed.get(b)}")
check(billed.get(c) == (120, 0), f"a non-billable kind bills 0: {billed.get(c)}")
check(billed.get(d) == (40, 0), f"--non-billable bills 0: {billed.get(d)}")
text = ok(env, "report", "acme", "2026-01")
check("50m → 1h billed" in text, f"the text report shows raw and billed time: {text!r}")

bal = json.loads(ok(env, "--json", "burned", "acme"))
jan = [m for m in bal["months"] if m["month"] == "2026-01"][0]
check(jan["used_minutes"] == 90, f"60 + 30 = 90 minutes drawn: {jan}")

# A manager writes 15 minutes off entry a: 1h → 45m; 45 + 30 = 75 drawn.
out = ok(env, "write-down", "acme", str(a), "15m", "--reason", "learning curve")
check("written down by 15m" in out, f"write-down answers with a summary: {out!r}")
jan = [m for m in json.loads(ok(env, "--json", "burned", "acme"))["months"] if m["month"] == "2026-01"][0]
check(jan["used_minutes"] == 75, f"after the write-down 45 + 30 = 75: {jan}")

refused(env, ["write-down", "acme", str(a), "46m", "--reason", "too much"], "is billed 45m",
        "writing down more than is billed")
refused(env, ["write-down", "acme", "9999", "10m", "--reason", "x"], "no work entry #9999", "an unknown entry")
refused(env, ["write-down", "acme", str(a), "10m", "--reason", " "], "--reason", "a blank reason")
refused(env, ["log", "acme", "1h", "--kind", "nope", "--non-billable"], "no work kind 'nope'", "an unknown kind")

# After the close, the entry's month is settled: a write-down is refused, pointing to void.
env["HOURBANK_NOW"] = "2026-02-02T10:00:00Z"
ok(env, "close", "acme", "2026-01")
refused(env, ["write-down", "acme", str(a), "15m", "--reason", "late"], "void it instead",
        "a write-down in a closed month")
audit = run(env, "audit")
check(audit.returncode == 0, f"audit passes after the close: {audit.stdout} {audit.stderr}")

su.finish("billing e2e")
