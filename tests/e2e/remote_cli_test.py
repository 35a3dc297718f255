#!/usr/bin/env python3
"""The CLI as a client of `hourbank serve` (--server) for every write (issue 15).

Usage: remote_cli_test.py PATH/TO/hourbank

Each write command is run twice on the same script: once against a local ledger, once with
--server against a served copy of the same starting ledger. The `--json` answers must be equal,
and so must every client's history afterwards (event types, effective times, bodies), except
for the actor (the token's name remotely). A command outside the token's role fails with one
`hourbank: error: not allowed: …` line and exit 1. Loopback, port 0, HOURBANK_NOW fixed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from e2e_server import Server

HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")
TMP = tempfile.mkdtemp(prefix="hourbank-remote-")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def env_for(ledger):
    e = dict(os.environ, HOURBANK_LEDGER=ledger, HOURBANK_NOW="2026-03-10T10:00:00Z", USER="tester")
    e.pop("HOURBANK_SERVER", None)
    e.pop("HOURBANK_TOKEN", None)
    return e


def hb(env, *args, ok=True):
    p = subprocess.run([HB, *args], env=env, capture_output=True, text=True, timeout=60)
    if ok and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


LOCAL, SERVED = os.path.join(TMP, "local"), os.path.join(TMP, "served")
EL, ES = env_for(LOCAL), env_for(SERVED)
hb(EL, "init")
hb(EL, "plan", "define", os.path.join(PLANS, "kit.toml"))
ADMIN = json.loads(hb(EL, "--json", "token", "issue", "boss", "--role", "admin").stdout)["token"]
STAFF = json.loads(hb(EL, "--json", "token", "issue", "anna", "--role", "staff").stdout)["token"]
MANAGER = json.loads(hb(EL, "--json", "token", "issue", "mary", "--role", "manager").stdout)["token"]
shutil.copytree(LOCAL, SERVED)

srv = Server(HB, ES)
URL = srv.url

SCRIPT = [
    ("client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow"),
    ("client", "add", "pre", "--name", "Pre", "--currency", "RUB", "--timezone", "Europe/Moscow"),
    ("contract", "start", "acme", "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12"),
    ("contract", "start", "pre", "--plan", "kit-prepaid", "--from", "2026-01"),
    ("log", "acme", "1h30m", "--kind", "support", "--task", "T-1", "--staff", "anna", "--at", "2026-02-03T10:00", "--key", "k1"),
    ("log", "acme", "1h30m", "--kind", "support", "--task", "T-1", "--staff", "anna", "--at", "2026-02-03T10:00", "--key", "k1"),
    ("buy", "pre", "--hours", "10h", "--price", "1000", "--key", "b1"),
    ("pay", "acme", "100.50", "--ref", "inv 1", "--at", "2026-02-05T10:00", "--key", "p1"),
    ("adjust", "acme", "--charge", "50", "--reason", "setup"),
    ("incident", "open", "acme", "INC-1", "--priority", "1", "--title", "down", "--at", "2026-03-06T17:50"),
    ("incident", "resolve", "acme", "INC-1", "--at", "2026-03-07T10:00"),
    # issue 18: waits on the customer, a client's own review rule, approval
    ("incident", "open", "acme", "INC-2", "--priority", "2", "--at", "2026-03-08T10:00"),
    ("incident", "wait", "acme", "INC-2", "--at", "2026-03-08T11:00", "--reason", "logs"),
    ("incident", "resume", "acme", "INC-2", "--at", "2026-03-09T11:00"),
    ("client", "add", "rv", "--name", "Rv", "--currency", "RUB", "--timezone", "Europe/Moscow"),
    ("contract", "start", "rv", "--plan", "kit-hours-10", "--from", "2026-03", "--months", "12", "--review", "required"),
    ("log", "rv", "1h", "--kind", "support", "--task", "R-1", "--at", "2026-03-09T10:00"),
    ("approve", "rv", "2026-03", "--all"),
    # the review list and a close that carries pending work, both served over --server too
    ("client", "add", "rc", "--name", "Rc", "--currency", "RUB", "--timezone", "Europe/Moscow"),
    ("contract", "start", "rc", "--plan", "kit-hours-10", "--from", "2026-02", "--months", "12", "--review", "required"),
    ("log", "rc", "2h", "--kind", "support", "--task", "C-1", "--staff", "anna", "--at", "2026-02-09T10:00"),
    ("log", "rc", "1h", "--kind", "support", "--task", "C-2", "--staff", "anna", "--at", "2026-02-10T10:00"),
    ("approve", "rc", "2026-02", "--task", "C-1"),
    ("review", "rc", "2026-02"),
    ("close", "rc", "2026-02", "--carry-pending"),
    ("review", "rc", "2026-03"),
    ("close", "acme", "2026-01"),
    ("close", "--all", "--through", "2026-02"),
    ("contract", "end", "acme", "--after", "2026-12"),
    ("plan", "define", os.path.join(PLANS, "1c-start.toml")),
    ("client", "list"),
]
try:
    for args in SCRIPT:
        local = hb(EL, "--json", *args, ok=False)
        remote = hb(ES, "--server", URL, "--token", ADMIN, "--json", *args, ok=False)
        what = " ".join(args[:3])
        check(local.returncode == 0, f"local {what}: {local.stderr.strip()!r}")
        check(remote.returncode == 0, f"--server {what}: {remote.stderr.strip()!r}")
        if local.returncode == 0 and remote.returncode == 0:
            check(json.loads(local.stdout) == json.loads(remote.stdout),
                  f"{what}: the same answer locally and with --server:\n  {local.stdout.strip()}\n  {remote.stdout.strip()}")
    # write-down with --server (issue 18): the same entry id on both ledgers.
    entry = json.loads(hb(EL, "--json", "log", "acme", "1h", "--kind", "support", "--task", "W",
                          "--staff", "anna", "--at", "2026-03-09T12:00").stdout)["id"]
    hb(ES, "--server", URL, "--token", ADMIN, "log", "acme", "1h", "--kind", "support", "--task", "W",
       "--staff", "anna", "--at", "2026-03-09T12:00")
    local = hb(EL, "--json", "write-down", "acme", str(entry), "15m", "--reason", "learning", ok=False)
    remote = hb(ES, "--server", URL, "--token", ADMIN, "--json", "write-down", "acme", str(entry), "15m",
                "--reason", "learning", ok=False)
    check(local.returncode == 0 and remote.returncode == 0 and json.loads(local.stdout) == json.loads(remote.stdout),
          f"write-down: the same answer locally and with --server: {local.stdout!r} {remote.stdout!r} {remote.stderr!r}")
    # Text output works remotely too (one line per write).
    p = hb(ES, "--server", URL, "--token", ADMIN, "adjust", "acme", "--credit", "10", "--reason", "goodwill", ok=False)
    hb(EL, "adjust", "acme", "--credit", "10", "--reason", "goodwill")
    check(p.returncode == 0 and p.stdout.count("\n") == 1, f"adjust with --server prints one line: {p.stdout!r} {p.stderr!r}")
    # Roles through the remote CLI: a staff token may not sell, a manager may.
    p = hb(ES, "--server", URL, "--token", STAFF, "buy", "pre", "--hours", "5h", "--price", "500", ok=False)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 1 and len(lines) == 1 and lines[0].startswith("hourbank: error: not allowed:"),
          f"staff may not sell through --server: {p.returncode} {p.stderr!r}")
    p = hb(ES, "--server", URL, "--token", MANAGER, "buy", "pre", "--hours", "5h", "--price", "500", ok=False)
    hb(EL, "buy", "pre", "--hours", "5h", "--price", "500")
    check(p.returncode == 0, f"a manager sells through --server: {p.stderr!r}")
    # The reads that used to be refused with --server (issue 15): the same text and the same
    # --json locally and remotely, byte for byte.
    for args in (("sla", "acme", "2026-03"), ("review", "rc", "2026-03"), ("alerts", "acme"), ("alerts",), ("plan", "list"), ("plan", "show", "kit-hours-10"),
                 ("plan", "show", "kit-hours-10", "--version", "1"),
                 ("statement", "acme", "2026-02", "--text"), ("statement", "acme", "2026-02", "--months", "3"),
                 ("token", "list")):
        for mode in ((), ("--json",)):
            local = hb(EL, *mode, *args, ok=False)
            remote = hb(ES, "--server", URL, "--token", ADMIN, *mode, *args, ok=False)
            what = " ".join(mode + args)
            check(local.returncode == 0 and remote.returncode == 0 and local.stdout == remote.stdout
                  and len(local.stdout) > 40,
                  f"{what}: the same output locally and with --server ({local.returncode}/{remote.returncode} "
                  f"{remote.stderr.strip()!r}):\n  {local.stdout[:300]!r}\n  {remote.stdout[:300]!r}")
    p = hb(ES, "--server", URL, "--token", STAFF, "statement", "acme", "2026-02", ok=False)
    check(p.returncode == 1 and p.stderr.startswith("hourbank: error: not allowed:") and p.stderr.count("\n") == 1,
          f"staff may not read the statement through --server: {p.returncode} {p.stderr!r}")
    p = hb(ES, "--server", URL, "--token", ADMIN, "--json", "token", "issue", "remote-bot", "--role", "billing", ok=False)
    check(p.returncode == 0 and json.loads(p.stdout).get("token", "").startswith("hbt_"), f"token issue with --server: {p.stderr!r}")
    p = hb(ES, "--server", URL, "--token", ADMIN, "token", "revoke", "remote-bot", ok=False)
    listed = json.loads(hb(ES, "--server", URL, "--token", ADMIN, "--json", "token", "list").stdout)
    check(p.returncode == 0 and any(t["name"] == "remote-bot" and t["revoked"] for t in listed),
          f"token revoke with --server: {p.stderr!r} {listed}")
    out = os.path.join(TMP, "st.html")
    p = hb(ES, "--server", URL, "--token", ADMIN, "statement", "acme", "2026-02", "--out", out, ok=False)
    check(p.returncode == 0 and open(out).read().lstrip().lower().startswith("<!doctype html"),
          f"statement --out with --server writes the HTML file: {p.stderr!r}")
finally:
    srv.stop()


def history(env, client):
    out = []
    for l in hb(env, "--json", "history", client).stdout.splitlines():
        e = json.loads(l)
        for volatile in ("actor", "recorded_at", "seq", "key_stored", "hash", "prev_hash"):
            e.pop(volatile, None)
        out.append(e)
    return out


# Transport failures are one error line and a non-zero exit, with nothing written locally:
# a port nobody listens on (the stopped server's), a name that does not resolve, a scheme
# that is not http(s), and an https URL by IP address (the TLS check matches DNS names only).
for url, says in ((URL, "cannot connect"), ("http://no-such-host.invalid:8080", "cannot resolve"),
                  ("ftp://localhost:21", "http:// or https://"),
                  ("https://127.0.0.1:8443", "DNS name")):
    p = hb(ES, "--server", url, "--token", ADMIN, "balance", "acme", ok=False)
    check(p.returncode != 0 and p.stderr.startswith("hourbank: error: ") and says in p.stderr
          and p.stderr.count("\n") == 1 and p.stdout == "",
          f"--server {url}: one error line saying {says!r} ({p.returncode} {p.stderr!r})")

for client in ("acme", "pre"):
    a, b = history(EL, client), history(ES, client)
    check(a == b, f"{client}: the same events locally and through the server ({len(a)} vs {len(b)}): "
                  f"{[(x, y) for x, y in zip(a, b) if x != y][:1]}")
actors = {json.loads(l)["actor"] for l in hb(ES, "--json", "history", "acme").stdout.splitlines()}
check(actors == {"boss"}, f"remote writes carry the token's name as actor: {actors}")

shutil.rmtree(TMP, ignore_errors=True)
if FAILURES:
    print(f"{len(FAILURES)} failure(s)")
    sys.exit(1)
print("every write through --server answers as it does locally")
