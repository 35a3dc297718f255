#!/usr/bin/env python3
"""End-to-end tests of `hourbank serve` and the CLI as its client (issue 6).

Usage: serve_test.py PATH/TO/hourbank

Each check starts with what it checks. Everything runs on loopback with port 0 (the server
prints the real port), in a temporary ledger, with HOURBANK_NOW fixed so the server and the
local CLI see the same "now". Every wait has a timeout.
"""
import json
import socket
import os
import subprocess
import sys
import threading
import time

from e2e_server import Server, call

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import check  # noqa: E402

HB = su.HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans", "kit.toml")
TMP, ENV = su.ledger_env("hourbank-serve-", "2026-03-10T10:00:00Z")
LEDGER = ENV["HOURBANK_LEDGER"]


def hb(*args, ok=True, timeout=60):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=timeout)
    if ok and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def hb_json(*args):
    return json.loads(hb("--json", *args).stdout)



def oversize_status(srv, path, token, length):
    """Announces a body of `length` bytes, sends one, and returns the HTTP status (0 if none)."""
    host, port = srv.url[len("http://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{").encode())
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def head_seq(srv):
    return call(srv, "GET", "/healthz")[1]["head_seq"]


# ---- a ledger with a catalogue, clients, work and tokens
hb("init")
hb("plan", "define", PLANS)
CLIENTS = ["acme"] + [f"c{i}" for i in range(8)]
for c in CLIENTS:
    hb("client", "add", c, "--name", c.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
    hb("contract", "start", c, "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
# "acc" is on a plan billed on acceptance (1C Start), for the accept route.
hb("plan", "define", os.path.join(HERE, "..", "..", "examples", "plans", "1c-start.toml"))
hb("client", "add", "acc", "--name", "ACC", "--currency", "RUB", "--timezone", "Europe/Moscow")
hb("contract", "start", "acc", "--plan", "1c-start", "--from", "2026-01", "--months", "12")
hb("log", "acme", "1h30m", "--kind", "support", "--task", "T-1", "--at", "2026-03-09T10:00")
hb("log", "acme", "3h", "--kind", "support", "--task", "T-2", "--at", "2026-02-03T11:00")
TOK = {role: hb_json("token", "issue", f"{role}-1", "--role", role)["token"]
       for role in ("staff", "billing", "auditor", "admin")}
REVOKED = hb_json("token", "issue", "gone", "--role", "admin")["token"]
hb("token", "revoke", "gone")
# token list --json: one object per token, by name, never the secret; only "gone" is revoked.
listed = {t["name"]: (t["role"], t["revoked"]) for t in hb_json("token", "list")}
check(listed == {"admin-1": ("admin", False), "auditor-1": ("auditor", False), "billing-1": ("billing", False),
                 "gone": ("admin", True), "staff-1": ("staff", False)}, f"token list names roles and revocation: {listed}")
check(all(t.startswith("hbt_") for t in TOK.values()), "token issue --json prints a secret")
check(not any(TOK["admin"] in open(os.path.join(LEDGER, f), "rb").read().decode("latin-1")
              for f in os.listdir(LEDGER) if os.path.isfile(os.path.join(LEDGER, f))),
      "the secret itself is not stored in the ledger files")

srv = Server(HB, ENV)
try:
    # ---- a second CLI opening the ledger while it is served fails and mentions --server
    p = hb("balance", "acme", ok=False)
    check(p.returncode != 0 and "--server" in p.stderr, f"second opener names --server: {p.stderr!r}")

    # ---- 401: missing, unknown, revoked tokens
    check(call(srv, "GET", "/v1/clients/acme/balance")[0] == 401, "missing token is 401")
    check(call(srv, "GET", "/v1/clients/acme/balance", "hbt_nope")[0] == 401, "unknown token is 401")
    check(call(srv, "GET", "/v1/clients/acme/balance", REVOKED)[0] == 401, "revoked token is 401")
    # ---- 403: outside the role
    check(call(srv, "GET", "/v1/clients/acme/invoices/2026-03", TOK["staff"])[0] == 403, "staff may not read invoices")
    check(call(srv, "GET", "/v1/clients/acme/events", TOK["staff"])[0] == 403, "staff may not read history")
    check(call(srv, "POST", "/v1/clients/acme/work", TOK["billing"], {"kind": "support", "minutes": 5})[0] == 403,
          "billing may not log work")
    check(call(srv, "GET", "/v1/clients/acme/balance", TOK["auditor"])[0] == 403, "auditor may not read balances")
    check(call(srv, "POST", "/v1/clients/acme/pay", TOK["staff"], {"amount": "10"})[0] == 403, "staff may not record payments")
    check(call(srv, "GET", "/v1/clients/acme/balance", TOK["staff"])[0] == 200, "staff reads balances")
    check(call(srv, "GET", "/v1/clients/acme/events", TOK["auditor"])[0] == 200, "auditor reads history")

    # ---- malformed bodies: 400 with {"error"}, nothing written
    before = head_seq(srv)
    for raw in (b"{", b"[1,2]", b"\xff\xfe", b'{"kind": 5, "minutes": 10}', b'{"kind": "support"}',
                b'{"kind": "support", "minutes": "ten"}', b'{"kind": "support", "minutes": 10, "count": 2}',
                b'{"kind": "support", "minutes": -5}', b'{"kind": "nosuchkind", "minutes": 5}'):
        st, body = call(srv, "POST", "/v1/clients/acme/work", TOK["staff"], raw=raw)
        check(st in (400, 404, 422) and isinstance(body, dict) and "error" in body, f"malformed {raw!r} refused: {st} {body}")
    # A body over 1 MiB is refused from its Content-Length, before it is read. Only one byte is
    # sent: sending the whole body races the server's early 413 against a connection reset.
    st = oversize_status(srv, "/v1/clients/acme/work", TOK["staff"], (1 << 20) + 2)
    check(st == 413, f"a body over 1 MiB is 413, got {st}")
    check(head_seq(srv) == before, "malformed requests wrote nothing")

    # ---- every route of docs/api.md x every role: 403 outside the role (and nothing written),
    # a real answer inside it. A role check loosened anywhere (say POST /v1/tokens for any
    # token, which would let any token mint an admin token) fails here.
    ROLES = ("staff", "billing", "auditor", "admin")
    ALLOWED = {  # route -> roles that may call it (docs/api.md "Authentication and roles")
        ("GET", "/metrics"): set(ROLES),
        ("GET", "/v1/clients"): set(ROLES),
        ("GET", "/v1/clients/acme/balance"): {"staff", "billing", "admin"},
        ("GET", "/v1/clients/acme/invoices/2026-03"): {"billing", "admin"},
        ("GET", "/v1/clients/acme/burned"): {"billing", "admin"},
        ("GET", "/v1/clients/acme/report/2026-03"): {"billing", "admin"},
        ("GET", "/v1/clients/acme/events"): {"auditor", "admin"},
        ("POST", "/v1/clients/acme/work"): {"staff", "admin"},
        ("POST", "/v1/clients/acc/accept"): {"staff", "admin"},
        ("POST", "/v1/clients/acme/void"): {"staff", "admin"},
        ("POST", "/v1/clients/acme/pay"): {"admin"},
        ("GET", "/v1/tokens"): {"admin"},
        ("POST", "/v1/tokens"): {"admin"},
        ("POST", "/v1/tokens/{victim}/revoke"): {"admin"},
    }
    # Entries for the voids and tasks for the accepts, one per role (written with the staff token).
    void_targets = {}
    for role in ROLES:
        st, body = call(srv, "POST", "/v1/clients/acc/work", TOK["staff"],
                        {"kind": "development", "minutes": 1, "task": f"M-{role}", "at": "2026-03-09T09:00"})
        check(st == 200, f"matrix setup: work waiting for {role}'s accept: {st} {body}")
        st, body = call(srv, "POST", "/v1/clients/acme/work", TOK["staff"],
                        {"kind": "support", "minutes": 1, "task": f"M-{role}", "at": "2026-03-09T09:00"})
        check(st == 200, f"matrix setup: work for {role}'s void target: {st} {body}")
        void_targets[role] = body["id"]
    for role in ROLES:
        victim = f"victim-{role}"
        st, _ = call(srv, "POST", "/v1/tokens", TOK["admin"], {"name": victim, "role": "staff"})
        check(st == 200, f"matrix setup: admin issues {victim}")
    for (method, route), allowed in ALLOWED.items():
        for role in ROLES:
            path = route.replace("{victim}", f"victim-{role}")
            body = {
                "/v1/clients/acme/work": {"kind": "support", "minutes": 2, "task": f"MW-{role}", "at": "2026-03-09T09:30"},
                "/v1/clients/acc/accept": {"task": f"M-{role}"},
                "/v1/clients/acme/void": {"entry": void_targets[role], "reason": f"matrix {role}"},
                "/v1/clients/acme/pay": {"amount": "1.00", "ref": f"matrix {role}"},
                "/v1/tokens": {"name": f"minted-by-{role}", "role": "admin"},
            }.get(path, {} if method == "POST" else None)
            head = head_seq(srv)
            st, answer = call(srv, method, path, TOK[role], body)
            what = f"{method} {path} as {role}"
            if role in allowed:
                check(st == 200, f"{what} is allowed: {st} {answer}")
            else:
                check(st == 403 and isinstance(answer, dict) and "error" in answer, f"{what} is 403: {st} {answer}")
                check(head_seq(srv) == head, f"{what} refused wrote nothing")
    # What the refused token routes did not do: no token minted, no victim revoked.
    names = {t["name"]: t for t in call(srv, "GET", "/v1/tokens", TOK["admin"])[1]}
    check(set(n for n in names if n.startswith("minted-by-")) == {"minted-by-admin"},
          f"only the admin minted a token: {sorted(names)}")
    check([n for n in names if n.startswith("victim-") and names[n]["revoked"]] == ["victim-admin"],
          f"only the admin revoked a token: {[(n, names[n]['revoked']) for n in names if n.startswith('victim-')]}")
    st, _ = call(srv, "GET", "/v1/clients/acme/balance", TOK["staff"])
    check(st == 200, "the staff token still works after the refused revokes")

    # ---- 8 concurrent clients x 50 appends, each kept in its client's order
    N_THREADS, N_EACH = 8, 50
    acked = {i: [] for i in range(N_THREADS)}
    errors = []

    def writer(i):
        for k in range(N_EACH):
            st, body = call(srv, "POST", f"/v1/clients/c{i}/work", TOK["staff"],
                            {"kind": "support", "minutes": 1, "task": f"w{i}-{k}", "key": f"w{i}-{k}"})
            if st != 200:
                errors.append((i, k, st, body))
                return
            acked[i].append(body["id"])

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, f"every concurrent append acknowledged: {errors[:3]}")
    for i in range(N_THREADS):
        st, page = call(srv, "GET", f"/v1/clients/c{i}/events?after_seq=0", TOK["auditor"])
        tasks = [e.get("task") for e in page["events"] if e["type"] == "work_logged"]
        check(tasks == [f"w{i}-{k}" for k in range(N_EACH)], f"client c{i} kept its order")
        check(acked[i] == sorted(acked[i]), f"client c{i} ids increase")
    # an idempotent retry writes nothing and answers the same id
    st, again = call(srv, "POST", "/v1/clients/c0/work", TOK["staff"],
                     {"kind": "support", "minutes": 1, "task": "w0-0", "key": "w0-0"})
    check(st == 200 and again["replayed"] and again["id"] == acked[0][0], "retry with the same key replays")
    # the same key with another body is a conflict: 409, nothing written, not a replay
    head = head_seq(srv)
    st, body = call(srv, "POST", "/v1/clients/c0/work", TOK["staff"],
                    {"kind": "support", "minutes": 2, "task": "w0-0", "key": "w0-0"})
    check(st == 409 and "error" in body and head_seq(srv) == head, f"same key, another body is 409: {st} {body}")
    st, page = call(srv, "GET", "/v1/clients/c1/events?after_seq=0&limit=3", TOK["auditor"])
    check(len(page["events"]) == 3 and page["more"] is True, "events are paged by limit")

    st, metrics = call(srv, "GET", "/metrics", TOK["admin"])
    check(st == 200 and "hourbank_fsyncs_total" in metrics and "hourbank_write_groups_total" in metrics
          and 'route="/v1/clients/{id}/work"' in metrics, "metrics has log stats and per-route counts")

    # ---- what the server answers now, compared with the local CLI after it stops
    routes = {
        ("balance", "acme"): "/v1/clients/acme/balance",
        ("balance", "acme", "--as-of", "2026-02-28T12:00"): "/v1/clients/acme/balance?as_of=2026-02-28T12:00",
        ("invoice", "acme", "2026-02"): "/v1/clients/acme/invoices/2026-02",
        ("burned", "acme"): "/v1/clients/acme/burned",
        ("report", "acme", "2026-03"): "/v1/clients/acme/report/2026-03",
        ("client", "list"): "/v1/clients",
    }
    served = {cmd: call(srv, "GET", path, TOK["admin"]) for cmd, path in routes.items()}
    served_events = call(srv, "GET", "/v1/clients/acme/events", TOK["admin"])[1]["events"]
    remote = {}
    for cmd in [("balance", "acme"), ("invoice", "acme", "2026-02"), ("burned", "acme"), ("report", "acme", "2026-03"),
                ("history", "acme"), ("history", "acme", "--from-seq", "5")]:
        for js in ((), ("--json",)):
            p = hb("--server", srv.url, "--token", TOK["admin"], *js, *cmd, ok=False)
            remote[js + cmd] = (p.returncode, p.stdout)
    p = hb("--server", srv.url, "--token", TOK["billing"], "history", "acme", ok=False)
    check(p.returncode != 0 and "not allowed" in p.stderr, f"remote CLI reports 403: {p.stderr!r}")
finally:
    rc = srv.stop()
check(rc == 0, f"server exits 0 on SIGTERM, got {rc}")

for cmd, (st, body) in served.items():
    check(st == 200 and body == hb_json(*cmd), f"GET route for {' '.join(cmd)} equals `hourbank --json`")
local_events = [json.loads(line) for line in hb("--json", "history", "acme").stdout.splitlines()]
check(served_events == local_events, "GET events equals `hourbank history --json`")
for cmd, (rc2, out) in remote.items():
    p = hb(*cmd, ok=False)
    check(rc2 == 0 and out == p.stdout, f"remote `{' '.join(cmd)}` prints what the local one prints")

# ---- SIGTERM during appends: every acknowledged append is in the ledger afterwards
srv = Server(HB, ENV)
acked2, stop_at = [], threading.Event()


def writer2(i):
    for k in range(10000):
        try:
            st, body = call(srv, "POST", f"/v1/clients/c{i}/work", TOK["staff"],
                            {"kind": "support", "minutes": 1, "task": f"s{i}-{k}"})
        except Exception:
            return
        if st != 200:
            return
        acked2.append(body["id"])


threads = [threading.Thread(target=writer2, args=(i,), daemon=True) for i in range(4)]
for t in threads:
    t.start()
deadline = time.time() + 20
while len(acked2) < 40 and time.time() < deadline:
    time.sleep(0.01)
rc = srv.stop()
for t in threads:
    t.join(30)
check(rc == 0, f"server exits 0 on SIGTERM during appends, got {rc}")
check(len(acked2) >= 40, f"appends were acknowledged before SIGTERM ({len(acked2)})")
stored = set()
for i in range(4):
    for line in hb("--json", "history", f"c{i}").stdout.splitlines():
        stored.add(json.loads(line)["seq"])
missing = [s for s in acked2 if s not in stored]
check(not missing, f"no acknowledged event lost: missing {missing[:5]}")
p = hb("audit", ok=False)
check(p.returncode == 0 and "audit ok" in p.stdout,
      f"the ledger audits clean after SIGTERM during appends: rc {p.returncode} {p.stdout!r} {p.stderr!r}")

su.finish("serve")
