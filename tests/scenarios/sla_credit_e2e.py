#!/usr/bin/env python3
"""SLA breach credits end to end with the real binary (issue 18): a client on bpm-business-credits
(examples/plans/sla-credits.toml, the optional credit rule) has a P1 incident answered late in
February; closing February puts a negative `sla_credit` line on the invoice, `audit` recomputes the
close with it and passes, and the Russian statement labels it.

Figures: fee 89 000.00; P1 credit 10 % = 8 900.00; P3 credit 2 000.00; cap 30 % = 26 700.00.
Invoice: 89 000.00 - 8 900.00 - 2 000.00 = 78 100.00.

Usage: sla_credit_e2e.py PATH/TO/hourbank
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import FAILURES, check, events, ok, refused, run  # noqa: E402

su.HB = HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLAN = os.path.join(HERE, "..", "..", "examples", "plans", "sla-credits.toml")


tmp, env = su.ledger_env("hourbank-slacredit-", "2026-03-02T10:00:00Z")
ok(env, "init")
ok(env, "plan", "define", PLAN)
ok(env, "client", "add", "bank", "--name", "Банк", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "bank", "--plan", "bpm-business-credits", "--from", "2026-02", "--months", "12")
# P1, reaction 240 service minutes (Mon-Sat 09:00-19:00): Mon 16 Feb 09:00 -> 15:00 = 360, breached.
ok(env, "incident", "open", "bank", "P1-LATE", "--priority", "1", "--at", "2026-02-16T09:00")
ok(env, "incident", "respond", "bank", "P1-LATE", "--at", "2026-02-16T15:00")
# P1 answered in time: no credit.
ok(env, "incident", "open", "bank", "P1-OK", "--priority", "1", "--at", "2026-02-17T09:00")
ok(env, "incident", "respond", "bank", "P1-OK", "--at", "2026-02-17T10:00")
# P3, reaction 1440 = 2 days and 4 h of service: Wed 18 Feb 09:00 -> Sat 21 Feb 09:00 = 1800, breached.
ok(env, "incident", "open", "bank", "P3-LATE", "--priority", "3", "--at", "2026-02-18T09:00")
ok(env, "incident", "respond", "bank", "P3-LATE", "--at", "2026-02-21T09:00")

ok(env, "close", "bank", "2026-02")
inv = json.loads(ok(env, "--json", "invoice", "bank", "2026-02"))
credits = [l for l in inv["lines"] if l["code"] == "sla_credit"]
check([l["amount_minor"] for l in credits] == [-890000, -200000], f"two credit lines: {inv['lines']}")
check(credits and credits[0]["description"] == "SLA breach credit, incident P1-LATE (P1)", f"described: {credits}")
check(inv["total_minor"] == 7810000, f"total 78 100.00: {inv['total_minor']}")

audit = json.loads(ok(env, "--json", "audit"))
check(audit.get("ok") is True, f"audit recomputes the close with the credits: {audit}")
stmt = ok(env, "statement", "bank", "2026-02", "--text")
check("Компенсация за нарушение SLA" in stmt or "нарушение SLA" in stmt, "the Russian statement labels the credit")

su.finish("sla credit e2e")
