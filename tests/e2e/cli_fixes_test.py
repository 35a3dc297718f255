#!/usr/bin/env python3
"""Two CLI defects of issue 15, end to end with the real binary.

Usage: cli_fixes_test.py PATH/TO/hourbank PATH/TO/e2e_tamper

1. `close --all` when listing the streams fails on a read error: before, the error was swallowed
   (the stream list came back empty) and the command printed "nothing to close" and exited 0.
   Now it is one `hourbank: error: …` line naming the failure, exit 1, nothing written.
2. `log CLIENT --kind ITEM` without `--count` means one item (CLI.md makes --count optional);
   an hour kind without a DURATION is still refused.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import check, ok, run  # noqa: E402

su.HB, TAMPER = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")


def ledger():
    tmp, env = su.ledger_env("hourbank-fixes-", "2026-03-10T10:00:00Z")
    return env["HOURBANK_LEDGER"], env


# ---- 1. close --all on a ledger whose streams index cannot be listed
d, env = ledger()
ok(env, "init")
ok(env, "plan", "define", os.path.join(PLANS, "kit.toml"))
ok(env, "client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "acme", "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
head = json.loads(ok(env, "--json", "rebuild"))["events"]
t = subprocess.run([TAMPER, d, "bad-stream-key", "0"], capture_output=True, text=True, timeout=60)
check(t.returncode == 0, f"tamper put a malformed streams key: {t.stderr}")
p = run(env, "close", "--all", "--through", "2026-02")
lines = p.stderr.strip().splitlines()
check(p.returncode == 1, f"close --all with an unreadable stream list exits 1, got {p.returncode}")
check("nothing to close" not in p.stdout, f"it does not claim there is nothing to close: {p.stdout!r}")
check(len(lines) == 1 and lines[0].startswith("hourbank: error:") and "cannot list the clients" in lines[0],
      f"one error line saying the clients could not be listed: {p.stderr!r}")
p = run(env, "--json", "close", "--all", "--through", "2026-02")
check(p.returncode == 1 and p.stdout == "", f"--json: no answer, exit 1: {p.returncode} {p.stdout!r}")
p = run(env, "--json", "history", "acme")
check(p.returncode == 0 and not any(json.loads(l)["type"] == "period_closed" for l in p.stdout.splitlines()),
      "nothing was closed")

# ---- 2. log --kind ITEM without --count: one item
d, env = ledger()
ok(env, "init")
ok(env, "plan", "define", os.path.join(PLANS, "altercpa.toml"))
ok(env, "plan", "define", os.path.join(PLANS, "kit.toml"))
ok(env, "client", "add", "shop", "--name", "Shop", "--currency", "USD", "--timezone", "UTC")
ok(env, "contract", "start", "shop", "--plan", "altercpa-basic", "--from", "2026-01")
ok(env, "client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "acme", "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
p = run(env, "--json", "log", "shop", "--kind", "site_link", "--task", "S-1", "--at", "2026-03-02T10:00")
check(p.returncode == 0, f"log --kind site_link without --count is accepted: {p.stderr!r}")
if p.returncode == 0:
    entry = json.loads(p.stdout)["id"]
    rep = json.loads(ok(env, "--json", "report", "shop", "2026-03"))
    counts = [e["count"] for e in rep["entries"] if e["id"] == entry]
    check(counts == [1], f"the entry is one item: {counts}")
p = run(env, "log", "acme", "--kind", "support", "--at", "2026-03-02T10:00")
check(p.returncode == 1 and p.stderr.startswith("hourbank: error:") and "measured in hours" in p.stderr,
      f"an hour kind without DURATION is refused asking for a duration: {p.stderr!r}")

su.finish("close --all read error and log --count default")
