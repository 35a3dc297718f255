#!/usr/bin/env python3
"""End-to-end tests of `hourbank serve --rpc-listen` (issue 6, schemas/rpc.capnp).

Usage: rpc_test.py PATH/TO/hourbank PATH/TO/e2e_rpc_client

The server runs on loopback with port 0 for HTTP and RPC (it prints the real ports), in a
temporary ledger, with HOURBANK_NOW fixed. Checks: a subscription started before 50 appends
(HTTP, 4 threads) receives every new event exactly once in seq order; a subscription from 0
receives the whole log (backlog); balance/invoice over RPC equal the HTTP JSON; events over
RPC are the HTTP events' seqs; a bad or revoked token and a wrong role are refused; malformed
input is an RPC error that writes nothing. Every wait has a timeout.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

from e2e_server import call as http

HB, CLIENT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans", "kit.toml")
TMP = tempfile.mkdtemp(prefix="hourbank-rpc-")
ENV = dict(os.environ, HOURBANK_LEDGER=os.path.join(TMP, "ledger"), HOURBANK_NOW="2026-03-10T10:00:00Z", USER="tester")
ENV.pop("HOURBANK_SERVER", None)
ENV.pop("HOURBANK_TOKEN", None)
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    else:
        print("ok:", what, flush=True)


def hb(*args):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def rpc(token, *args, timeout=60):
    return subprocess.run([CLIENT, RPC_ADDR, token, *args], capture_output=True, text=True, timeout=timeout)


def call(method, path, token=None, body=None):
    return http(HTTP_URL, method, path, token, body)


def head_seq():
    return call("GET", "/healthz")[1]["head_seq"]


# ---- a ledger with a catalogue, two clients and tokens
hb("init")
hb("plan", "define", PLANS)
for c in ("acme", "beta"):
    hb("client", "add", c, "--name", c.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
    hb("contract", "start", c, "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
hb("log", "acme", "1h30m", "--kind", "support", "--task", "T-1", "--at", "2026-03-09T10:00")
TOK = {role: json.loads(hb("--json", "token", "issue", f"{role}-1", "--role", role))["token"]
       for role in ("staff", "billing", "auditor", "admin")}
REVOKED = json.loads(hb("--json", "token", "issue", "gone", "--role", "admin"))["token"]
hb("token", "revoke", "gone")

proc = subprocess.Popen([HB, "serve", "--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0"], env=ENV,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
lines = []


def read_lines():
    for _ in range(2):
        lines.append(proc.stdout.readline())


t = threading.Thread(target=read_lines, daemon=True)
t.start()
t.join(20)
if len(lines) < 2 or not lines[0].startswith("listening on ") or not lines[1].startswith("rpc listening on "):
    proc.kill()
    raise SystemExit(f"server did not start: {lines!r} {proc.stderr.read()}")
HTTP_URL = "http://" + lines[0].split()[2]
RPC_ADDR = lines[1].split()[3]
check(not RPC_ADDR.endswith(":0"), f"the real RPC port is printed: {RPC_ADDR}")

try:
    # ---- a subscription started before 50 concurrent appends receives each new event once, in order
    head0 = head_seq()
    sub = subprocess.Popen([CLIENT, RPC_ADDR, TOK["auditor"], "subscribe", str(head0), "50", "60"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = sub.stdout.readline()
    check(first.strip() == "subscribed", f"subscribe answers: {first!r}")

    statuses = []

    def writer(w):
        for i in range(w, 50, 4):
            client = "acme" if i % 2 == 0 else "beta"
            st, _ = call("POST", f"/v1/clients/{client}/work", TOK["staff"],
                         # 5-14 minutes: 25 per client stay under kit-hours-10's 80 % (480 of 600
                         # minutes), so no alert is raised and each append is one event
                         {"kind": "support", "minutes": 5 + i % 10, "task": f"R-{i}", "at": "2026-03-09T12:00"})
            statuses.append(st)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    check(statuses == [200] * 50, f"50 appends over HTTP from 4 threads: {sorted(set(statuses))}")
    head1 = head_seq()
    check(head1 == head0 + 50, f"each append is one event: head {head0} -> {head1}")
    try:
        out, err = sub.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        sub.kill()
        out, err = sub.communicate()
    got = [int(line.split()[0]) for line in out.splitlines() if line and line[0].isdigit()]
    check(sub.returncode == 0, f"the subscriber got its 50 events (rc {sub.returncode}, {err.strip()!r})")
    check(got == list(range(head0 + 1, head1 + 1)),
          f"every new event exactly once, in seq order (got {len(got)}: {got[:5]}…{got[-5:]})")
    check("mismatch" not in out, "each streamed Event decodes and carries the announced seq")

    # ---- from 0: the backlog, then nothing more (N = the head)
    p = rpc(TOK["admin"], "subscribe", "0", str(head1), "60")
    got = [int(line.split()[0]) for line in p.stdout.splitlines() if line and line[0].isdigit()]
    check(p.returncode == 0 and got == list(range(1, head1 + 1)), f"subscribe from 0 replays the whole log ({len(got)} events)")
    # ---- from the head: nothing arrives (timeout), no duplicate of the last event
    p = rpc(TOK["admin"], "subscribe", str(head1), "1", "1")
    check(p.returncode == 2 and not any(line[:1].isdigit() for line in p.stdout.splitlines()),
          f"subscribe from the head sends nothing old: rc {p.returncode} {p.stdout!r}")

    # ---- JSON answers equal the HTTP JSON
    for token, args, path in [
            (TOK["billing"], ["balance", "acme"], "/v1/clients/acme/balance"),
            (TOK["staff"], ["balance", "beta", "2026-02-15"], "/v1/clients/beta/balance?as_of=2026-02-15"),
            (TOK["billing"], ["invoice", "acme", "2026-03"], "/v1/clients/acme/invoices/2026-03"),
            (TOK["admin"], ["report", "acme", "2026-03"], "/v1/clients/acme/report/2026-03")]:
        p = rpc(token, *args)
        st, body = call("GET", path, token)
        check(p.returncode == 0 and st == 200 and json.loads(p.stdout) == body, f"RPC {' '.join(args)} == HTTP GET {path}")

    # ---- events: the stored bytes of the client's events, paged
    st, body = call("GET", "/v1/clients/acme/events?after_seq=3&limit=7", TOK["auditor"])
    p = rpc(TOK["auditor"], "events", "acme", "3", "7")
    seqs = [int(line.split()[0]) for line in p.stdout.splitlines() if line[:1].isdigit()]
    check(p.returncode == 0 and seqs == [e["seq"] for e in body["events"]], f"RPC events == HTTP events seqs: {seqs}")
    check(all(line.split()[1] == "acme" for line in p.stdout.splitlines() if line[:1].isdigit()),
          "RPC events decode as acme's Events")
    check(p.stdout.splitlines()[-1] == f"more {1 if body['more'] else 0} next {body['next_after_seq']}",
          f"RPC events paging: {p.stdout.splitlines()[-1]!r}")

    # ---- logWork over RPC: the HTTP route's answer; a malformed body writes nothing
    before = head_seq()
    p = rpc(TOK["staff"], "logwork", "acme", json.dumps({"kind": "support", "minutes": 30, "task": "RPC-1", "key": "rpc-k1"}))
    check(p.returncode == 0 and json.loads(p.stdout)["id"] == before + 1, f"logWork appends: {p.stdout!r} {p.stderr!r}")
    p = rpc(TOK["staff"], "logwork", "acme", json.dumps({"kind": "support", "minutes": 30, "task": "RPC-1", "key": "rpc-k1"}))
    check(p.returncode == 0 and json.loads(p.stdout)["replayed"] is True, "logWork with the same key is a replay")
    mid = head_seq()
    for bad in ["{", "[]", '{"kind": "support", "minutes": "x"}', '{"kind": "support"}', ""]:
        p = rpc(TOK["staff"], "logwork", "acme", bad)
        check(p.returncode == 1 and p.stderr.startswith("error:") and "invalid" in p.stderr, f"malformed body {bad!r} refused: {p.stderr.strip()!r}")
    p = rpc(TOK["staff"], "logwork", "nobody", '{"kind": "support", "minutes": 5}')
    check(p.returncode == 1 and "not_found" in p.stderr, f"unknown client refused: {p.stderr.strip()!r}")
    p = rpc(TOK["staff"], "balance", "")
    check(p.returncode == 1 and "invalid" in p.stderr, f"empty client refused: {p.stderr.strip()!r}")
    p = rpc(TOK["billing"], "invoice", "acme", "13/2026")
    check(p.returncode == 1 and "invalid" in p.stderr, f"bad month refused: {p.stderr.strip()!r}")
    check(head_seq() == mid, "refused calls wrote nothing")

    # ---- tokens and roles
    for token, what in [("hbt_nope", "unknown"), (REVOKED, "revoked"), ("", "empty")]:
        p = rpc(token, "balance", "acme")
        check(p.returncode == 1 and "unauthorized" in p.stderr, f"{what} token refused: {p.stderr.strip()!r}")
    for token, args in [(TOK["staff"], ["subscribe", "0", "1", "5"]), (TOK["billing"], ["events", "acme", "0", "10"]),
                        (TOK["auditor"], ["balance", "acme"]), (TOK["billing"], ["logwork", "acme", '{"kind":"support","minutes":5}'])]:
        p = rpc(token, *args)
        check(p.returncode == 1 and "forbidden" in p.stderr, f"{args[0]} outside the role refused: {p.stderr.strip()!r}")
    check(head_seq() == mid, "refused calls wrote nothing")

    # ---- burned and sla over RPC are the HTTP JSON (issue 15: every operation on every transport)
    for token, args, path in [
            (TOK["billing"], ["burned", "acme"], "/v1/clients/acme/burned"),
            (TOK["billing"], ["burned", "acme", "2026-01", "2026-03"], "/v1/clients/acme/burned?from=2026-01&to=2026-03"),
            (TOK["admin"], ["sla", "acme", "2026-03"], "/v1/clients/acme/sla/2026-03"),
            (TOK["billing"], ["reviewlist", "acme", "2026-03"], "/v1/clients/acme/review/2026-03")]:
        p = rpc(token, *args)
        st, body = call("GET", path, token)
        check(p.returncode == 0 and st == 200 and json.loads(p.stdout) == body,
              f"RPC {' '.join(args)} == HTTP GET {path}: {p.stderr.strip()!r}")
    # ---- void, pay and accept over RPC write as the HTTP routes do, with the same roles
    p = rpc(TOK["staff"], "logwork", "beta", json.dumps({"kind": "support", "minutes": 10, "task": "V-1",
                                                          "at": "2026-03-09T09:00"}))
    entry = json.loads(p.stdout)["id"]
    before = head_seq()
    p = rpc(TOK["staff"], "void", "beta", json.dumps({"entry": entry, "reason": "rpc void"}))
    check(p.returncode == 0 and json.loads(p.stdout)["client"] == "beta" and head_seq() == before + 1,
          f"voidEntry appends one event: {p.stdout!r} {p.stderr!r}")
    p = rpc(TOK["admin"], "pay", "beta", json.dumps({"amount": "100.00", "ref": "rpc", "key": "rpc-pay-1"}))
    check(p.returncode == 0 and "summary" in json.loads(p.stdout) and head_seq() == before + 2,
          f"pay appends one event: {p.stdout!r} {p.stderr!r}")
    p = rpc(TOK["admin"], "pay", "beta", json.dumps({"amount": "100.00", "ref": "rpc", "key": "rpc-pay-1"}))
    check(p.returncode == 0 and head_seq() == before + 2, f"pay retried with its key writes nothing: {p.stderr!r}")
    st, _ = call("POST", "/v1/clients/beta/pay", TOK["admin"], {"amount": "100.00", "ref": "rpc", "key": "rpc-pay-1"})
    check(st == 200 and head_seq() == before + 2, "the same pay and key over HTTP is the same request (one digest)")
    p = rpc(TOK["staff"], "accept", "beta", json.dumps({"task": "NOPE"}))
    check(p.returncode == 1 and "forbidden" not in p.stderr and "unauthorized" not in p.stderr,
          f"accept reaches the service for staff: {p.stderr.strip()!r}")
    for token, args in [(TOK["staff"], ["pay", "beta", '{"amount": "1"}']), (TOK["billing"], ["void", "beta", '{"entry": 1, "reason": "x"}']),
                        (TOK["billing"], ["accept", "beta", '{"task": "V-1"}']), (TOK["auditor"], ["burned", "acme"]),
                        (TOK["staff"], ["sla", "acme", "2026-03"]), (TOK["staff"], ["reviewlist", "acme", "2026-03"])]:
        p = rpc(token, *args)
        check(p.returncode == 1 and "forbidden" in p.stderr, f"{args[0]} outside the role refused: {p.stderr.strip()!r}")
    check(head_seq() == before + 2, "refused calls wrote nothing")

    # ---- every other operation over RPC (issue 15): reads are the HTTP JSON; writes append
    # what the route appends; roles as the route's.
    for token, args, path in [
            (TOK["staff"], ["clients"], "/v1/clients"), (TOK["auditor"], ["plans"], "/v1/plans"),
            (TOK["billing"], ["plan", "kit-hours-10", "1"], "/v1/plans/kit-hours-10?version=1")]:
        p = rpc(token, *args)
        st, body = call("GET", path, token)
        check(p.returncode == 0 and st == 200 and json.loads(p.stdout) == body,
              f"RPC {' '.join(args)} == HTTP GET {path}: {p.stderr.strip()!r}")
    p = rpc(TOK["billing"], "statement", "acme", "2026-03", "3", "text")
    req = urllib.request.Request(HTTP_URL + "/v1/clients/acme/statement/2026-03?months=3&format=text")
    req.add_header("Authorization", "Bearer " + TOK["billing"])
    with urllib.request.urlopen(req, timeout=30) as r:
        doc = r.read().decode()
    answer = json.loads(p.stdout) if p.returncode == 0 else {}
    check(answer.get("document") == doc and answer.get("content_type", "").startswith("text/plain") and "ACME" in doc,
          f"RPC statement == HTTP statement document: {p.stderr.strip()!r}")
    # forecast and whatif (issue 17): the route's document, as statement; billing yes, staff no.
    for args, path in [(["forecast", "acme", "", "14", "3", ""], "/v1/clients/acme/forecast?window=14&months=3"),
                       (["forecast", "acme", "", "28", "12", "text"], "/v1/clients/acme/forecast?format=text"),
                       (["whatif", "acme", "kit-hours-10@1", "2026-01", "2026-03", ""],
                        "/v1/clients/acme/whatif?plan=kit-hours-10@1&from=2026-01&to=2026-03")]:
        p = rpc(TOK["billing"], *args)
        req = urllib.request.Request(HTTP_URL + path)
        req.add_header("Authorization", "Bearer " + TOK["billing"])
        with urllib.request.urlopen(req, timeout=30) as r:
            doc = r.read().decode()
        answer = json.loads(p.stdout) if p.returncode == 0 else {}
        check(answer.get("document") == doc and len(doc) > 100, f"RPC {args[0]} == HTTP GET {path}: {p.stderr.strip()!r}")
    for args in (["forecast", "acme", "", "28", "12", ""], ["whatif", "acme", "kit-hours-10", "", "", ""]):
        p = rpc(TOK["staff"], *args)
        check(p.returncode == 1 and "forbidden" in p.stderr, f"RPC {args[0]} as staff refused: {p.stderr.strip()!r}")
    before = head_seq()
    writes = [
        ("addclient", json.dumps({"id": "gamma", "name": "Gamma", "currency": "RUB", "timezone": "Europe/Moscow"})),
        ("contract", "gamma", "start", json.dumps({"plan": "kit-hours-10", "from": "2026-01", "months": 12})),
        ("adjust", "gamma", json.dumps({"charge": "50", "reason": "setup", "month": "2026-01"})),
        ("incident", "gamma", json.dumps({"action": "open", "id": "INC-R", "priority": 2, "at": "2026-03-09T10:00"})),
        ("close", "gamma", json.dumps({"month": "2026-01"})),
        ("closeall", json.dumps({"through": "2026-01"})),
        ("defineplans", json.dumps({"toml": open(PLANS).read(), "name": "kit.toml"})),
    ]
    for args in writes:
        p = rpc(TOK["admin"], *args)
        check(p.returncode == 0 and isinstance(json.loads(p.stdout or "null"), (dict, list)),
              f"RPC {args[0]} answers the route's JSON: {p.stdout[:200]!r} {p.stderr.strip()!r}")
    check(head_seq() > before + 4, f"the RPC writes appended ({head_seq() - before} events)")
    st, body = call("GET", "/v1/clients/gamma/balance", TOK["admin"])
    check(st == 200 and body["client"] == "gamma", f"the client added over RPC is there: {st} {body}")
    h = head_seq()
    p = rpc(TOK["admin"], "buy", "gamma", json.dumps({"hours": "5h", "price": "500"}))
    check(p.returncode == 0 and "summary" in json.loads(p.stdout or "{}") and head_seq() == h + 1,
          f"buy over RPC appends one event: {p.stderr.strip()!r}")
    mid = head_seq()
    for token, args in [(TOK["staff"], ["buy", "gamma", '{"hours": "5h"}']), (TOK["staff"], ["adjust", "gamma", '{"charge": "1", "reason": "x"}']),
                        (TOK["billing"], ["addclient", '{"id": "x", "name": "X", "currency": "RUB", "timezone": "UTC"}']),
                        (TOK["staff"], ["closeall", '{"through": "2026-02"}']), (TOK["billing"], ["close", "gamma", '{"month": "2026-02"}']),
                        (TOK["billing"], ["contract", "gamma", "end", '{"after": "2026-12"}']),
                        (TOK["billing"], ["defineplans", '{"toml": ""}']), (TOK["auditor"], ["statement", "acme", "2026-03", "0", ""]),
                        (TOK["billing"], ["incident", "gamma", '{"action": "open", "id": "X", "priority": 1}'])]:
        p = rpc(token, *args)
        check(p.returncode == 1 and "forbidden" in p.stderr, f"{args[0]} outside the role refused: {p.stderr.strip()!r}")
    check(head_seq() == mid, "refused calls wrote nothing")
    # write-down and review over RPC (issue 18): a manager's operations, refused to staff.
    st, logged = call("POST", "/v1/clients/gamma/work", TOK["admin"],
                      {"kind": "support", "minutes": 60, "task": "WD", "at": "2026-03-09T09:00"})
    check(st == 200, f"work logged for the write-down: {st} {logged}")
    h = head_seq()
    for token, args in [(TOK["staff"], ["writedown", "gamma", json.dumps({"entry": logged.get("id"), "minutes": 15, "reason": "x"})]),
                        (TOK["billing"], ["review", "gamma", '{"decision": "approve", "month": "2026-03", "all": true}'])]:
        p = rpc(token, *args)
        check(p.returncode == 1 and "forbidden" in p.stderr, f"{args[0]} outside the role refused: {p.stderr.strip()!r}")
    check(head_seq() == h, "refused write-down/review wrote nothing")
    p = rpc(TOK["admin"], "writedown", "gamma", json.dumps({"entry": logged.get("id"), "minutes": 15, "reason": "learning"}))
    check(p.returncode == 0 and "summary" in json.loads(p.stdout or "{}") and head_seq() == h + 1,
          f"write-down over RPC appends one event: {p.stdout!r} {p.stderr.strip()!r}")
    # Read your writes over RPC (Session.atLeast): a ledger directory shows every append, so a
    # position at or beyond its head answers at once; waitMs over 30000 is refused.
    p = rpc(TOK["auditor"], "atleast", str(head_seq()), "0")
    check(p.returncode == 0 and p.stdout.strip() == "ok", f"atLeast of the head answers: {p.stderr.strip()!r}")
    p = rpc(TOK["staff"], "atleast", "1", "30001")
    check(p.returncode == 1 and "invalid: waitMs must be 0 to 30000" in p.stderr,
          f"atLeast with waitMs over 30000 is refused: {p.stderr.strip()!r}")
    # docs/api.md's RPC table names every Session method of schemas/rpc.capnp.
    schema = open(os.path.join(HERE, "..", "..", "schemas", "rpc.capnp")).read()
    session = schema[schema.index("interface Session"):schema.index("interface EventReceiver")]
    api = open(os.path.join(HERE, "..", "..", "docs", "api.md")).read()
    for name in re.findall(r"^  (\w+) @\d+", session, re.M):
        check(f"`Session.{name}(" in api, f"docs/api.md's RPC table has Session.{name}")

    # ---- garbage on the RPC port: the connection is dropped, the server keeps serving
    import socket
    host, port = RPC_ADDR.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"\xff" * 64 + b"GET / HTTP/1.1\r\n\r\n" * 10)
        s.settimeout(10)
        try:
            s.recv(100)
        except OSError:
            pass
    p = rpc(TOK["billing"], "balance", "acme")
    check(p.returncode == 0 and proc.poll() is None, "the server survives malformed Cap'n Proto")
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = None
check(rc == 0, f"SIGTERM with RPC stops the server cleanly (rc {rc})")

if FAILURES:
    print(f"{len(FAILURES)} check(s) failed")
    sys.exit(1)
print("all RPC checks passed")
