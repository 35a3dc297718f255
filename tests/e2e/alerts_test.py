#!/usr/bin/env python3
"""Alerts end to end with the real binary (docs/alerts.md).

Usage: alerts_test.py PATH/TO/hourbank

1. 1C Start, the case worked out in tests/projections/alerts_test.cc: "Включено часов по тарифу:
   10 часов" (600 minutes); the trial months January and February are closed, so March has
   10 h and a reserve of 0. 8 h accepted -> the 80 % alert; 10 h -> 100 %; 10h30 -> overage
   started. Each CLI write raises them once; `alerts --check`, `rebuild` and retries raise
   nothing new.
2. KIT 15 h (900 minutes) through `hourbank serve`: eight writers POST 2 h each at once
   (16 h: past 80 % = 720, 100 % = 900 and into overage) while readers list the alerts; each
   alert is recorded exactly once; after a restart of serve and more work, still once.
3. `alerts` refusals: one error line, non-zero exit, nothing written.
4. A client's own thresholds: `alerts set o --allowance-percent 50` alerts at 50 % (not the
   plan's 80); `alerts settings` says where each threshold comes from; bad flags are refused
   with one line and write nothing; over serve a staff token reads them, a manager sets them.
5. The serve timer: an invoice unpaid 10 days after March is raised by `serve --alert-interval
   1` with no write at all (HOURBANK_NOW later than the due day), once over several ticks and
   a restart; `--alert-interval 0` raises nothing.
Loopback, port 0, HOURBANK_NOW fixed.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

from e2e_server import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import check, events, ok, run  # noqa: E402

su.HB = HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")


def ledger(now):
    return su.ledger_env("hourbank-alerts-", now)[1]


def keys(env, *args):
    return [a["key"] for a in json.loads(ok(env, "--json", "alerts", *args))]


def kit_client(now, cid):
    """A fresh ledger at `now` with client `cid` on KIT 15 h (900 minutes) from March 2026."""
    env = ledger(now)
    ok(env, "init")
    ok(env, "plan", "define", os.path.join(PLANS, "kit.toml"))
    ok(env, "client", "add", cid, "--name", cid.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
    ok(env, "contract", "start", cid, "--plan", "kit-hours-15", "--from", "2026-03")
    return env


# ---- 1. 1C Start through the CLI
env = ledger("2026-03-13T20:00:00+03:00")
ok(env, "init")
ok(env, "plan", "define", os.path.join(PLANS, "1c-start.toml"))
ok(env, "client", "add", "c", "--name", "C", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "c", "--plan", "1c-start", "--from", "2026-01")
ok(env, "close", "c", "2026-01")
ok(env, "close", "c", "2026-02")
check(keys(env, "c") == [], "no alerts before work")


def accepted(task, dur, day):
    ok(env, "log", "c", dur, "--kind", "consultation", "--task", task, "--at", day + "T10:00")
    ok(env, "accept", "c", "--task", task, "--at", day + "T18:00")


accepted("A", "8h", "2026-03-10")
check(keys(env, "c") == ["alert:c:allowance_used:80:202603"], f"8 h of 10: 80 %: {keys(env, 'c')}")
accepted("B", "2h", "2026-03-11")
accepted("C", "30m", "2026-03-12")
want = ["alert:c:allowance_used:80:202603", "alert:c:allowance_used:100:202603",
        "alert:c:overage_started:0:202603"]
check(keys(env, "c") == want, f"10 h: 100 %, 10h30: overage: {keys(env, 'c')}")
a = json.loads(ok(env, "--json", "alerts", "c"))
check(a[2]["used_minutes"] == 30 and a[2]["amount_minor"] == 100000,
      f"overage figures: 30 minutes, 1 000.00 RUB: {a[2]}")
check(a[0]["used_minutes"] == 480 and a[0]["limit_minutes"] == 600, f"80 % figures: {a[0]}")
text = ok(env, "alerts", "c")
check("allowance 80 % used in 2026-03: 8h of 10h" in text, f"text:\n{text}")

n = events(env)  # a replay of the whole log
p = run(env, "alerts", "--check")
check(p.returncode == 0 and "0 alert(s) raised" in p.stderr, f"--check after a replay raises nothing: {p.stderr}")
accepted("D", "1h", "2026-03-13")  # more overage: no second alert
check(events(env) == n + 2, "the write appended its two events and no alert")
check(keys(env, "c") == want, "still three alerts")
check(keys(env, "c", "--since", "2026-03-14") == [], "--since after them: none")
check(len(keys(env, "--since", "2026-03-01")) == 3, "every client since March: three")


def refused(what, *args):
    before = events(env)
    p = run(env, *args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0, f"{what}: non-zero exit, got {p.returncode}")
    check(len(lines) == 1 and lines[0].startswith("hourbank: error: "), f"{what}: one error line, got {p.stderr!r}")
    check(events(env) == before, f"{what}: nothing written")


refused("unknown client", "alerts", "nobody")
refused("bad --since", "alerts", "c", "--since", "yesterday")
refused("unknown client with --check", "alerts", "nobody", "--check")

# ---- 2. racing writers through serve, then a restart
env = kit_client("2026-03-20T12:00:00+03:00", "k")
secret = json.loads(ok(env, "--json", "token", "issue", "w", "--role", "staff"))["token"]


def call(srv, method, path, body=None):
    req = urllib.request.Request(srv.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + secret, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


srv = Server(HB, env)
errors = []


def writer(i):
    try:
        call(srv, "POST", "/v1/clients/k/work",
             {"kind": "support", "minutes": 120, "task": f"T{i}", "at": f"2026-03-{10 + i:02d}T10:00"})
    except Exception as e:  # noqa: BLE001 - collected and reported below
        errors.append(repr(e))


def reader():
    try:
        for _ in range(5):
            call(srv, "GET", "/v1/alerts")
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))


threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
threads += [threading.Thread(target=reader) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
check(errors == [], f"every request answered: {errors}")
got = sorted(a["key"] for a in call(srv, "GET", "/v1/clients/k/alerts"))
want = sorted(["alert:k:allowance_used:80:202603", "alert:k:allowance_used:100:202603",
               "alert:k:overage_started:0:202603"])
check(got == want, f"16 h of 15 by eight racing writers: each alert once: {got}")
check(srv.stop() == 0, "serve stops cleanly")
srv = Server(HB, env)  # a restart
call(srv, "POST", "/v1/clients/k/work", {"kind": "support", "minutes": 60, "task": "T9", "at": "2026-03-19T10:00"})
got = sorted(a["key"] for a in call(srv, "GET", "/v1/clients/k/alerts"))
check(got == want, f"after a restart and more work: still each once: {got}")
check(srv.stop() == 0, "serve stops cleanly again")
p = run(env, "alerts", "--check")
check(p.returncode == 0 and "0 alert(s) raised" in p.stderr, f"--check raises nothing new: {p.stderr}")

# ---- 4. a client's own thresholds: `alerts set`, `alerts settings`, and over serve
env = kit_client("2026-03-20T12:00:00+03:00", "o")
ok(env, "alerts", "set", "o", "--allowance-percent", "50")
# kit-hours-15 has no [plan.alerts] (80 and 100 %); o's own 50 %: 450 × 100 = 45 000 ≥ 50 × 900.
ok(env, "log", "o", "7h30m", "--kind", "support", "--task", "A", "--at", "2026-03-10T10:00")
check(keys(env, "o") == ["alert:o:allowance_used:50:202603"], f"o alerts at its 50 %, not 80: {keys(env, 'o')}")
st = json.loads(ok(env, "--json", "alerts", "settings", "o"))
check(st["allowance_percent"] == {"value": [50], "from": "client"}, f"settings: allowance from the client: {st}")
check(st["block_expiry_days"] == {"value": 14, "from": "plan"}, f"settings: block expiry from the plan: {st}")
check(st["invoice_overdue_days"] == {"value": None, "from": "plan"},
      f"settings: a plan without grace days or a debt rule states no payment term: {st}")
text = ok(env, "alerts", "settings", "o")
check("allowance_percent" in text and "client" in text, f"settings text:\n{text}")
refused("percent 0", "alerts", "set", "o", "--allowance-percent", "0")
refused("percent twice", "alerts", "set", "o", "--allowance-percent", "80,80")
refused("percent not a number", "alerts", "set", "o", "--allowance-percent", "half")
refused("400 days", "alerts", "set", "o", "--block-expiry-days", "400")
refused("days not a number", "alerts", "set", "o", "--reserve-expiry-days", "7\nx = 1")
refused("unknown kind", "alerts", "set", "o", "--off", "everything")
refused("nothing to set", "alerts", "set", "o")
refused("unknown client", "alerts", "set", "nobody", "--reset")
ok(env, "alerts", "set", "o", "--reset")
st = json.loads(ok(env, "--json", "alerts", "settings", "o"))
check(st["allowance_percent"] == {"value": [80, 100], "from": "plan"}, f"--reset: the plan's again: {st}")

manager = json.loads(ok(env, "--json", "token", "issue", "m", "--role", "manager"))["token"]
secret = json.loads(ok(env, "--json", "token", "issue", "s", "--role", "staff"))["token"]
srv = Server(HB, env, ["--alert-interval", "0"])
answer = call(srv, "GET", "/v1/clients/o/alerts/settings")  # staff reads
check(answer["block_expiry_days"]["from"] == "plan", f"served settings: {answer}")
try:
    call(srv, "POST", "/v1/clients/o/alerts/settings", {"block_expiry_days": 3})
    check(False, "a staff token may not set thresholds")
except urllib.error.HTTPError as e:
    check(e.code == 403, f"staff sets thresholds: 403, got {e.code}")
secret = manager
call(srv, "POST", "/v1/clients/o/alerts/settings", {"block_expiry_days": 3, "off": "overage_started"})
answer = call(srv, "GET", "/v1/clients/o/alerts/settings")
check(answer["block_expiry_days"] == {"value": 3, "from": "client"} and
      answer["off"] == {"value": ["overage_started"], "from": "client"}, f"set over HTTP: {answer}")
check(srv.stop() == 0, "serve stops cleanly (settings)")

# ---- 5. the serve timer: an invoice overdue with no write at all, once over ticks and a restart
env = kit_client("2026-04-01T12:00:00+03:00", "t")
ok(env, "alerts", "set", "t", "--invoice-overdue-days", "10")
ok(env, "close", "t", "2026-03")  # 38 250.00 RUB, unpaid; overdue from 11 Apr 00:00 Moscow
check(keys(env, "t") == [], "nothing overdue on 1 April")
n = events(env)
secret = json.loads(ok(env, "--json", "token", "issue", "r", "--role", "staff"))["token"]
later = dict(env, HOURBANK_NOW="2026-04-15T12:00:00+03:00")
srv = Server(HB, later, ["--alert-interval", "0"])
time.sleep(2.5)
check(call(srv, "GET", "/v1/clients/t/alerts") == [], "--alert-interval 0: no timer, nothing raised")
check(srv.stop() == 0, "serve stops cleanly (no timer)")
want = ["alert:t:invoice_overdue:10:202603"]
for run_no in (1, 2):  # a start, then a restart
    srv = Server(HB, later, ["--alert-interval", "1"])
    time.sleep(3.5)  # three ticks
    got = [a["key"] for a in call(srv, "GET", "/v1/clients/t/alerts")]
    check(got == want, f"run {run_no}: the timer raised the overdue invoice once: {got}")
    check(srv.stop() == 0, f"serve stops cleanly (timer run {run_no})")
a = json.loads(ok(later, "--json", "alerts", "t"))
check(len(a) == 1 and a[0]["amount_minor"] == 3825000 and a[0]["threshold"] == 10,
      f"one alert, 38 250.00 RUB unpaid 10 days after March: {a}")
check(events(env) == n + 2, "the token and the one alert were appended, nothing else")

su.finish("alerts e2e")
