#!/usr/bin/env python3
"""SLA waits end to end with the real binary (issue 18): `incident wait` / `resume` stop and
restart the resolution clock, `hourbank sla` shows the waits, the paused service time and the
escalation instants, and bad input (a wait on a resolved incident, a wait while waiting, a resume
when not waiting, a resume before the wait) is one `hourbank: error:` line, exit != 0, nothing
written.

Plan bpm-business (examples/plans/bpmonline.toml): service Mon-Sat 09:00-19:00 Moscow with the ru
production calendar, P1 reaction 240 minutes, no resolution target.

Usage: sla_wait_e2e.py PATH/TO/hourbank
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import FAILURES, check, events, ok, refused, run  # noqa: E402

su.HB = HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLAN = os.path.join(HERE, "..", "..", "examples", "plans", "bpmonline.toml")


tmp, env = su.ledger_env("hourbank-slawait-", "2026-02-20T10:00:00Z")
ok(env, "init")
ok(env, "plan", "define", PLAN)
ok(env, "client", "add", "bank", "--name", "Bank", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "bank", "--plan", "bpm-business", "--from", "2026-02", "--months", "12")

# Friday 13 February 2026: open 17:00, wait 18:00 (60 service minutes open), resume Monday 16
# February 10:00, resolve 11:00.
ok(env, "incident", "open", "bank", "I1", "--priority", "1", "--at", "2026-02-13T17:00")
ok(env, "incident", "respond", "bank", "I1", "--at", "2026-02-13T17:30")
ok(env, "incident", "wait", "bank", "I1", "--at", "2026-02-13T18:00", "--reason", "logs requested")
refused(env, ["incident", "wait", "bank", "I1", "--at", "2026-02-13T18:30"], ["already waiting", "resume"],
        "a wait while waiting")
refused(env, ["incident", "resume", "bank", "I1", "--at", "2026-02-13T17:59"], ["before the wait began"],
        "a resume before the wait")
ok(env, "incident", "resume", "bank", "I1", "--at", "2026-02-16T10:00")
refused(env, ["incident", "resume", "bank", "I1", "--at", "2026-02-16T10:30"], ["is not waiting"],
        "a resume when not waiting")
ok(env, "incident", "resolve", "bank", "I1", "--at", "2026-02-16T11:00")
refused(env, ["incident", "wait", "bank", "I1", "--at", "2026-02-16T12:00"], ["is resolved"],
        "a wait on a resolved incident")

sla = json.loads(ok(env, "--json", "sla", "bank", "2026-02"))
i = sla["incidents"][0]
# Paused: Fri 18:00-19:00 = 60, Sat 14 Feb 09:00-19:00 = 600 (Mon-Sat service), Sun 0,
# Mon 09:00-10:00 = 60 -> 720. Resolution: Fri 17:00-18:00 60 + Mon 10:00-11:00 60 = 120.
check(i["paused_minutes"] == 720, f"paused 720 service minutes: {i}")
check(i["resolution_minutes"] == 120, f"resolution 120 minutes: {i}")
check(i["waits"] == [{"from": i["waits"][0]["from"], "to": i["waits"][0]["to"], "reason": "logs requested",
                      "paused_minutes": 720}], f"one wait listed: {i['waits']}")
check(i["waits"][0]["from"].startswith("2026-02-13T18:00"), f"wait from: {i['waits']}")
check(i["waits"][0]["to"].startswith("2026-02-16T10:00"), f"wait to: {i['waits']}")
check(i["waiting"] is False, "not waiting any more")
# Reaction 30 minutes of 240; escalation at ceil(240 x 3/4) = 180 -> Fri 17:00 + 120 (to 19:00)
# + Sat 09:00 + 60 = Saturday 10:00.
check(i["reaction_escalation_at"].startswith("2026-02-14T10:00"), f"reaction escalation instant: {i}")
check(i["escalation_due"] is False, "answered and resolved: no escalation due")
text = ok(env, "sla", "bank", "2026-02")
check("paused" in text and "12h" in text, f"the table shows the paused time: {text}")
check("I1 waited 2026-02-13T18:00 → 2026-02-16T10:00, paused 12h: logs requested" in text,
      f"the wait is listed under the table: {text}")

# A second incident, open and unanswered at now (Friday 20 February 10:00 UTC = 13:00 Moscow):
# opened 09:30, 210 service minutes ago; escalation at 180 (12:30) is due, no breach (240).
ok(env, "incident", "open", "bank", "I2", "--priority", "1", "--at", "2026-02-20T09:30")
i2 = json.loads(ok(env, "--json", "sla", "bank", "2026-02"))["incidents"][1]
check(i2["escalation_due"] is True and i2["breached"] is False, f"escalation due: {i2}")
check("ESCALATE" in ok(env, "sla", "bank", "2026-02"), "the table marks the escalation")

su.finish("sla wait e2e")
