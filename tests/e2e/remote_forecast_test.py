#!/usr/bin/env python3
"""`hourbank forecast` and `hourbank whatif` over every transport (issue 17, parts 3-5).

Usage: remote_forecast_test.py PATH/TO/hourbank

One ledger (the KIT 15 h case of forecast_test.py and tests/reports/forecast_test.cc: allowance
runs out 2026-03-21, 10 h overage expected = 25 500.00). The local commands run first (the
server holds the ledger's lock), then the same commands with --server: stdout must be equal
byte for byte, --json and text, for a billing token; a client token gets its own forecast (the
same bytes) and is refused whatif and any other client's forecast with one error line. The raw
routes answer the same JSON; a bad query parameter is a 400. Loopback, port 0, HOURBANK_NOW fixed.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from e2e_server import Server

HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")
FAILURES = []
D = os.path.join(tempfile.mkdtemp(prefix="hourbank-remote-forecast-"), "ledger")
ENV = dict(os.environ, HOURBANK_LEDGER=D, HOURBANK_NOW="2026-03-15T12:00:00+03:00", USER="tester")
ENV.pop("HOURBANK_SERVER", None)
ENV.pop("HOURBANK_TOKEN", None)


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def run(*args):
    return subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=60)


def ok(*args):
    p = run(*args)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


ok("init")
for f in ("kit.toml", "bpmonline.toml"):
    ok("plan", "define", os.path.join(PLANS, f))
for cid in ("k", "other"):
    ok("client", "add", cid, "--name", cid.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
    ok("contract", "start", cid, "--plan", "kit-hours-15", "--from", "2026-02")
for at, dur in [("2026-02-10T12:00", "5h"), ("2026-02-16T12:00", "10h"), ("2026-02-25T12:00", "10h")]:
    ok("log", "k", dur, "--kind", "support", "--at", at)
ok("close", "k", "2026-02")
for at, dur in [("2026-03-05T12:00", "8h"), ("2026-03-15T10:00", "1h")]:
    ok("log", "k", dur, "--kind", "support", "--at", at)
BILLING = json.loads(ok("--json", "token", "issue", "bill", "--role", "billing"))["token"]
CLIENT = json.loads(ok("--json", "token", "issue", "k-portal", "--role", "client", "--client", "k"))["token"]

COMMANDS = [
    ("--json", "forecast", "k"),
    ("forecast", "k"),
    ("--json", "forecast", "k", "--as-of", "2026-03-01", "--window", "14", "--months", "2"),
    ("forecast", "k", "--as-of", "2026-03-01"),
    ("--json", "whatif", "k", "--plan", "kit-hours-15"),
    ("--json", "whatif", "k", "--plan", "bpm-basic@1", "--from", "2026-02", "--to", "2026-02"),
    ("whatif", "k", "--plan", "bpm-basic"),
]
LOCAL = {c: ok(*c) for c in COMMANDS}
# the figures are the hand-worked ones (forecast_test.py), so equal outputs are not both empty
check(json.loads(LOCAL[COMMANDS[0]])["allowance"] == {"left_minutes": 360, "runs_out_on": "2026-03-21"},
      f"local forecast: {LOCAL[COMMANDS[0]]}")
check("25 500.00" in LOCAL[COMMANDS[1]], f"local forecast text:\n{LOCAL[COMMANDS[1]]}")


def remote(token, *args):
    return run("--server", srv.url, "--token", token, *args)


def get(path, token):
    req = urllib.request.Request(srv.url + path)
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


srv = Server(HB, ENV)
try:
    for c in COMMANDS:
        p = remote(BILLING, *c)
        check(p.returncode == 0 and p.stdout == LOCAL[c],
              f"remote {' '.join(c)} equals local byte for byte:\n--- local\n{LOCAL[c]}--- remote ({p.returncode} {p.stderr})\n{p.stdout}")
    for c in COMMANDS[:4]:  # a client token: its own forecast
        p = remote(CLIENT, *c)
        check(p.returncode == 0 and p.stdout == LOCAL[c], f"client token {' '.join(c)} equals local: {p.stderr}")
    for c in (("forecast", "other"), ("whatif", "k", "--plan", "kit-hours-15"), ("forecast", "nobody")):
        p = remote(CLIENT, *c)
        lines = p.stderr.strip().splitlines()
        check(p.returncode != 0 and len(lines) == 1 and lines[0].startswith("hourbank: error: "),
              f"client token {' '.join(c)} refused with one line: {p.returncode} {p.stderr!r}")
    st, ctype, body = get("/v1/clients/k/forecast", BILLING)
    check(st == 200 and ctype.startswith("application/json") and body == LOCAL[COMMANDS[0]],
          f"GET forecast is the --json bytes: {st} {ctype} {body[:200]}")
    st, ctype, body = get("/v1/clients/k/forecast?format=text", BILLING)
    check(st == 200 and ctype.startswith("text/plain") and body == LOCAL[COMMANDS[1]], f"GET forecast text: {st} {ctype}")
    for path in ("/v1/clients/k/forecast?window=0", "/v1/clients/k/forecast?months=25",
                 "/v1/clients/k/forecast?format=pdf", "/v1/clients/k/whatif", "/v1/clients/k/whatif?plan=kit@x",
                 "/v1/clients/k/whatif?plan=bpm-basic&from=2026-13"):
        st, _, body = get(path, BILLING)
        check(st == 400 and json.loads(body).get("code") == "invalid", f"GET {path} is 400: {st} {body}")
    for path, want in (("/v1/clients/nobody/forecast", 404), ("/v1/clients/k/whatif?plan=nope", 404),
                       ("/v1/clients/other/forecast", 403), ("/v1/clients/k/whatif?plan=kit-hours-15", 403)):
        st, _, body = get(path, CLIENT if want == 403 else BILLING)
        check(st == want, f"GET {path} is {want}: {st} {body}")
finally:
    rc = srv.stop()
check(rc == 0, f"server exits 0 on SIGTERM, got {rc}")

if FAILURES:
    print(f"{len(FAILURES)} failure(s)")
    sys.exit(1)
print("forecast and whatif: remote equals local, byte for byte")
