#!/usr/bin/env python3
"""Idempotency-key scope and the staff/actor rule through `hourbank serve` (issue 14, item 13).

Usage: key_scope_test.py PATH/TO/hourbank

Checks, on loopback with port 0 in a temporary ledger (HOURBANK_NOW fixed):
- a staff token that uses a key first does not make an admin's request with the same key 409,
  and does not answer it with the staff's result: the admin's payment is written;
- a retry by the same token with the same key and body is replayed (nothing written), with
  another body it is 409;
- the same key for another client is another key;
- a staff token may log work only as itself ("staff" left out or its own name): naming
  someone else is 403 and writes nothing; an admin token may name anyone, and the event
  records both the actor (token name) and the staff;
- the events show the key as given ("key") and the stored, scoped form ("key_stored");
- `hourbank audit` is ok afterwards (the keys index agrees with the events).
"""
import json
import os
import shutil
import subprocess
import sys

from e2e_server import Server, call

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import check  # noqa: E402

HB = su.HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans", "kit.toml")
TMP, ENV = su.ledger_env("hourbank-keyscope-", "2026-03-10T10:00:00Z")
LEDGER = ENV["HOURBANK_LEDGER"]


def hb(*args, ok=True):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=60)
    if ok and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def hb_json(*args):
    return json.loads(hb("--json", *args).stdout)



def head(srv, tok):
    return call(srv, "GET", "/healthz", tok)[1]["head_seq"]


try:
    hb("init")
    hb("plan", "define", PLANS)
    for c in ("acme", "beta"):
        hb("client", "add", c, "--name", c.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
        hb("contract", "start", c, "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
    ann = hb_json("token", "issue", "ann", "--role", "staff")["token"]
    bob = hb_json("token", "issue", "bob", "--role", "staff")["token"]
    boss = hb_json("token", "issue", "boss", "--role", "admin")["token"]

    srv = Server(HB, ENV)
    try:
        work = {"kind": "support", "minutes": 30, "task": "T-1", "key": "k-1"}
        st, first = call(srv, "POST", "/v1/clients/acme/work", ann, work)
        check(st == 200 and not first["replayed"], f"staff ann logs work with key k-1 ({st})")
        st, again = call(srv, "POST", "/v1/clients/acme/work", ann, work)
        check(st == 200 and again["replayed"] and again["id"] == first["id"], "ann's retry with k-1 is replayed")
        st, _ = call(srv, "POST", "/v1/clients/acme/work", ann, dict(work, minutes=45))
        check(st == 409, f"ann's k-1 with another body is 409 ({st})")
        n = head(srv, boss)
        st, paid = call(srv, "POST", "/v1/clients/acme/pay", boss, {"amount": "1000", "ref": "r", "key": "k-1"})
        check(st == 200 and not paid.get("replayed"), f"admin's payment with ann's key k-1 is written, not 409 ({st}: {paid})")
        check(head(srv, boss) == n + 1, "the admin's payment appended one event")
        st, w2 = call(srv, "POST", "/v1/clients/acme/work", bob, work)
        check(st == 200 and not w2["replayed"] and w2["id"] != first["id"],
              f"staff bob's k-1 is his own key, not ann's result ({st})")
        st, w3 = call(srv, "POST", "/v1/clients/beta/work", ann, work)
        check(st == 200 and not w3["replayed"], f"ann's k-1 for another client is another key ({st})")

        n = head(srv, boss)
        st, body = call(srv, "POST", "/v1/clients/acme/work", ann, dict(work, key="k-2", staff="bob"))
        check(st == 403 and "ann" in body.get("error", ""), f"staff ann may not log work as bob: 403 ({st}: {body})")
        st, _ = call(srv, "POST", "/v1/clients/acme/work", ann, dict(work, key="k-3", staff="ann"))
        check(st == 200, f"staff ann may name herself ({st})")
        st, boss_w = call(srv, "POST", "/v1/clients/acme/work", boss, dict(work, key="k-4", staff="bob"))
        check(st == 200, f"an admin may log work for bob ({st})")
        check(head(srv, boss) == n + 2, "the 403 wrote nothing")

        st, page = call(srv, "GET", "/v1/clients/acme/events?after_seq=0", boss)
        events = {e["seq"]: e for e in page["events"]}
        e = events[boss_w["id"]]
        check(e["actor"] == "boss" and e["staff"] == "bob", f"the event records actor boss and staff bob: {e}")
        e = events[first["id"]]
        check(e.get("key") == "k-1" and e.get("key_stored", "").startswith("@") and e["key_stored"].endswith(":k-1"),
              f"events show the key as given and the scoped stored form: {e.get('key')!r} {e.get('key_stored')!r}")
    finally:
        rc = srv.stop()
    check(rc == 0, f"server exits 0 ({rc})")

    # The CLI: the same key by another --actor is another key; by the same actor, a retry.
    a = hb_json("--actor", "carol", "pay", "acme", "5", "--key", "cli-1")
    b = hb_json("--actor", "carol", "pay", "acme", "5", "--key", "cli-1")
    c = hb_json("--actor", "dave", "pay", "acme", "5", "--key", "cli-1")
    check("already" not in a["summary"] and b["summary"] == a["summary"] and "already" not in c["summary"],
          f"CLI: carol's retry replays, dave's cli-1 is written: {a} {b} {c}")
    check(hb("--actor", "carol", "pay", "acme", "6", "--key", "cli-1", ok=False).returncode == 3,
          "CLI: carol's cli-1 with another amount is a conflict (exit 3)")
    p = hb("--json", "audit", ok=False)
    check(p.returncode == 0 and json.loads(p.stdout)["ok"], f"audit ok: {p.stdout[:300]} {p.stderr[:300]}")
finally:
    shutil.rmtree(TMP, ignore_errors=True)

su.finish("key-scope")
