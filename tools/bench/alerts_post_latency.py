#!/usr/bin/env python3
"""What the alert check after each write costs a POST (docs/alerts.md, "Cost").

Usage: tools/bench/alerts_post_latency.py PATH/TO/hourbank [ENTRIES]

A fresh ledger, kit-hours-15 from March 2026 (Moscow), a loopback `hourbank serve` (port 0),
then ENTRIES (default 1000) one-minute `POST /v1/clients/k/work` in March, one after another.
Prints the mean latency of the first 100 POSTs and of the last 100, then of 20 `GET …/balance`
and 20 `GET …/alerts` on the full month. HOURBANK_NOW is fixed (2026-03-31 12:00 Moscow), so
every run writes the same events.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from e2e_server import Server  # noqa: E402

HB = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")


def ok(env, *args):
    p = subprocess.run([HB, *args], env=env, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed: {p.stderr}")
    return p.stdout


def main():
    d = os.path.join(tempfile.mkdtemp(prefix="hourbank-bench-"), "ledger")
    env = dict(os.environ, HOURBANK_LEDGER=d, HOURBANK_NOW="2026-03-31T12:00:00+03:00",
               USER="bench")
    env.pop("HOURBANK_SERVER", None)
    ok(env, "init")
    ok(env, "plan", "define", os.path.join(PLANS, "kit.toml"))
    ok(env, "client", "add", "k", "--name", "K", "--currency", "RUB", "--timezone",
       "Europe/Moscow")
    ok(env, "contract", "start", "k", "--plan", "kit-hours-15", "--from", "2026-03")
    secret = json.loads(ok(env, "--json", "token", "issue", "w", "--role", "staff"))["token"]
    srv = Server(HB, env)

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(srv.url + path, method=method, data=data, headers={
            "Authorization": "Bearer " + secret, "Content-Type": "application/json"})
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        return time.perf_counter() - start

    try:
        post = [call("POST", "/v1/clients/k/work",
                     {"kind": "support", "minutes": 1, "task": f"T{i}",
                      "at": f"2026-03-{1 + i % 28:02d}T{9 + i % 9:02d}:{i % 60:02d}"})
                for i in range(N)]
        balance = [call("GET", "/v1/clients/k/balance") for _ in range(20)]
        alerts = [call("GET", "/v1/clients/k/alerts") for _ in range(20)]
    finally:
        srv.stop()

    def ms(xs):
        return f"{1000 * sum(xs) / len(xs):.1f} ms"

    print(f"POST work, entries 1-100: {ms(post[:100])}")
    print(f"POST work, entries {N - 99}-{N}: {ms(post[-100:])}")
    print(f"GET balance ({N} entries): {ms(balance)}")
    print(f"GET alerts ({N} entries): {ms(alerts)}")


main()
