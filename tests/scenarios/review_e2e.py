#!/usr/bin/env python3
"""Review end to end with the real binary (issue 18): on examples/plans/reviewed.toml, logged work
is pending (drawn provisionally, shown apart in the balance), `approve`/`reject` decide it by task
or id, a month with pending work does not close unless `--carry-pending` moves it on, and bad
input (approving twice, rejecting approved work in a closed month) is one `hourbank: error:` line,
exit != 0, nothing written.

Usage: review_e2e.py PATH/TO/hourbank
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import FAILURES, check, events, ok, refused, run  # noqa: E402

su.HB = HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLAN = os.path.join(HERE, "..", "..", "examples", "plans", "reviewed.toml")


tmp, env = su.ledger_env("hourbank-review-", "2026-01-20T10:00:00Z")
ok(env, "init")
ok(env, "plan", "define", PLAN)
ok(env, "client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "acme", "--plan", "kit-hours-10-reviewed", "--from", "2026-01", "--months", "12")


def log(duration, task):
    return json.loads(ok(env, "--json", "log", "acme", duration, "--kind", "support", "--task", task,
                         "--at", "2026-01-15T12:00"))["id"]


t1 = log("3h", "T-1")
t2 = log("1h", "T-2")
t3 = log("30m", "T-3")
bal = json.loads(ok(env, "--json", "balance", "acme"))
# 3h + 1h + 30m = 4h30m = 270 minutes, all pending, all drawn from the 10 h allowance.
check(bal["pending_review_minutes"] == 270, f"270 minutes pending: {bal}")
check(bal["allowance"]["used_minutes"] == 270, f"drawn provisionally: {bal['allowance']}")
check("pending review (3 entries)" in ok(env, "balance", "acme"), "the balance text shows the pending part")
rv = json.loads(ok(env, "--json", "review", "acme", "2026-01"))
check([e["state"] for e in rv["entries"]] == ["pending"] * 3, f"review lists three pending entries: {rv}")

ok(env, "approve", "acme", "2026-01", "--task", "T-1")
refused(env, ["approve", "acme", "2026-01", str(t1)], [f"entry #{t1} is already approved"], "approving twice")
ok(env, "reject", "acme", "2026-01", str(t2), "--reason", "not ordered")
bal = json.loads(ok(env, "--json", "balance", "acme"))
check(bal["pending_review_minutes"] == 30, f"only T-3 pending: {bal}")
check(bal["allowance"]["used_minutes"] == 210, f"the rejected hour is released: 180 + 30 = 210: {bal['allowance']}")
text = ok(env, "review", "acme", "2026-01")
check("rejected (not ordered)" in text, f"review shows the rejection's reason: {text!r}")

env["HOURBANK_NOW"] = "2026-02-02T10:00:00Z"
refused(env, ["close", "acme", "2026-01"], [f"#{t3}", "--carry-pending", "2026-02"], "closing with pending work")
ok(env, "close", "acme", "2026-01", "--carry-pending")
inv = json.loads(ok(env, "--json", "invoice", "acme", "2026-01"))
check(inv["closed"] and inv["total_minor"] == 2550000, f"January bills the fee only (3 h approved < 10 h): {inv}")
burned = json.loads(ok(env, "--json", "burned", "acme"))
jan = [m for m in burned["months"] if m["month"] == "2026-01"][0]
check(jan["expired_minutes"] == 420, f"10 h − 3 h = 7 h burn in January: {jan}")
feb = json.loads(ok(env, "--json", "review", "acme", "2026-02"))
check([(e["id"], e["state"]) for e in feb["entries"]] == [(t3, "pending")], f"T-3 moved to February: {feb}")
refused(env, ["reject", "acme", "2026-01", str(t1), "--reason", "after all"], ["closed", "void"],
        "rejecting approved work in a closed month")
audit = run(env, "audit")
check(audit.returncode == 0, f"audit passes: {audit.stdout} {audit.stderr}")

# The client's review rule overrides the plan's (`contract start --review required|off`).
ok(env, "plan", "define", os.path.join(HERE, "..", "..", "examples", "plans", "kit.toml"))
for cid, plan, rule in (("free", "kit-hours-10-reviewed", "off"), ("strict", "kit-hours-10", "required")):
    ok(env, "client", "add", cid, "--name", cid, "--currency", "RUB", "--timezone", "Europe/Moscow")
    ok(env, "contract", "start", cid, "--plan", plan, "--from", "2026-02", "--months", "12", "--review", rule)
    ok(env, "log", cid, "1h", "--kind", "support", "--task", "X", "--at", "2026-02-02T09:00")
check(json.loads(ok(env, "--json", "balance", "free"))["pending_review_minutes"] == 0,
      "--review off: nothing pending on a plan that requires review")
check(json.loads(ok(env, "--json", "balance", "strict"))["pending_review_minutes"] == 60,
      "--review required: the hour is pending on a plan without review")
ok(env, "client", "add", "odd", "--name", "odd", "--currency", "RUB", "--timezone", "Europe/Moscow")
refused(env, ["contract", "start", "odd", "--plan", "kit-hours-10", "--from", "2026-02", "--months", "12",
              "--review", "maybe"], ["--review", "required or off"], "an unknown --review value")

su.finish("review e2e")
