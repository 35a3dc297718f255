#!/usr/bin/env python3
"""Balance reads answered on the server's loop thread (issue 19, docs/performance.md "Balance over
HTTP: reads on the loop thread").

Usage: balance_loop_test.py PATH/TO/hourbank

Checks, on loopback with port 0 in a temporary ledger (HOURBANK_NOW fixed), counting the loop's
answers with /metrics (hourbank_http_loop_answers_total):
- the first read of a client goes to a worker; the next one is answered on the loop, with the
  same status, headers and body bytes;
- after a write (work logged), the next read goes to a worker again and shows the new balance;
  the one after it is on the loop again and the same;
- refusals are never answered on the loop and stay what they were: no token, an unknown token,
  a role that may not read balances, a client token for another client, an unknown client;
- a read with a query (as_of) or an at-least header goes to a worker;
- a token revoked after it was used is refused at once (401), never served from the cache.
"""
import http.client
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
TMP, ENV = su.ledger_env("hourbank-balance-loop-", "2026-03-10T10:00:00Z")


def hb_json(*args):
    return json.loads(su.ok(ENV, "--json", *args))


def get(srv, path, token=None, headers=None):
    """One GET on a new connection: (status, reason, headers as a sorted list, body bytes)."""
    host, port = srv.url[len("http://"):].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    out = (r.status, r.reason, sorted(r.getheaders()), r.read())
    conn.close()
    return out


def loop_answers(srv, token):
    st, text = call(srv, "GET", "/metrics", token)
    for line in text.splitlines():
        if line.startswith("hourbank_http_loop_answers_total "):
            return int(line.split()[1])
    raise SystemExit(f"no hourbank_http_loop_answers_total in /metrics ({st})")


try:
    su.ok(ENV, "init")
    su.ok(ENV, "plan", "define", PLANS)
    for c in ("acme", "beta"):
        su.ok(ENV, "client", "add", c, "--name", c.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
        su.ok(ENV, "contract", "start", c, "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
    su.ok(ENV, "log", "acme", "1h30m", "--kind", "support", "--task", "T-1", "--at", "2026-03-09T10:00")
    tok = {name: hb_json("token", "issue", name, "--role", role)["token"]
           for name, role in (("bill", "billing"), ("ann", "staff"), ("aud", "auditor"), ("boss", "admin"))}
    tok["beta-portal"] = hb_json("token", "issue", "beta-portal", "--role", "client", "--client", "beta")["token"]

    srv = Server(HB, ENV)
    try:
        path = "/v1/clients/acme/balance"
        n0 = loop_answers(srv, tok["boss"])
        check(n0 == 0, f"nothing answered on the loop yet ({n0})")
        first = get(srv, path, tok["bill"])
        n1 = loop_answers(srv, tok["boss"])
        check(first[0] == 200 and n1 == n0, f"the first read is a worker's ({first[0]}, {n1})")
        second = get(srv, path, tok["bill"])
        n2 = loop_answers(srv, tok["boss"])
        check(n2 == n1 + 1, f"the second read is answered on the loop ({n1} -> {n2})")
        check(second == first, f"the loop's answer is the worker's, byte for byte:\n{first}\n{second}")
        used = json.loads(first[3])["used_minutes"]
        check(used == 90, f"the balance shows the 90 minutes logged ({used})")

        # A write: the next read is a worker's and shows it; the one after is the loop's, the same.
        st, _ = call(srv, "POST", "/v1/clients/acme/work", tok["ann"], {"kind": "support", "minutes": 30, "task": "T-2", "at": "2026-03-09T11:00"})
        check(st == 200, f"ann logs 30 minutes ({st})")
        n3 = loop_answers(srv, tok["boss"])
        after = get(srv, path, tok["bill"])
        n4 = loop_answers(srv, tok["boss"])
        check(after[0] == 200 and n4 == n3, f"the read after the write is a worker's ({n3} -> {n4})")
        check(json.loads(after[3])["used_minutes"] == 120, f"the read after the write shows 120: {after[3]}")
        again = get(srv, path, tok["bill"])
        check(loop_answers(srv, tok["boss"]) == n4 + 1 and again == after,
              "the next read is the loop's, the same bytes as the worker's")

        # Refusals: never the loop's, and what they were.
        n5 = loop_answers(srv, tok["boss"])
        for what, p, t, want in (("no token", path, None, 401), ("an unknown token", path, "hbt_" + "0" * 64, 401),
                                 ("an auditor", path, tok["aud"], 403),
                                 ("beta's client token on acme", path, tok["beta-portal"], 403),
                                 ("an unknown client", "/v1/clients/nobody/balance", tok["bill"], 404)):
            for _ in range(2):  # the second time too (the first caches nothing that lets it through)
                got = get(srv, p, t)
                check(got[0] == want, f"{what}: {want}, got {got[0]} {got[3]!r}")
        check(loop_answers(srv, tok["boss"]) == n5, "no refusal was answered on the loop")
        own = get(srv, "/v1/clients/beta/balance", tok["beta-portal"])
        own2 = get(srv, "/v1/clients/beta/balance", tok["beta-portal"])
        check(own[0] == 200 and own2 == own and loop_answers(srv, tok["boss"]) == n5 + 1,
              "a client token reads its own client's balance, the second time on the loop")

        # A query or an at-least header: a worker's.
        n6 = loop_answers(srv, tok["boss"])
        asof = get(srv, path + "?as_of=2026-03-01", tok["bill"])
        check(asof[0] == 200 and json.loads(asof[3])["used_minutes"] != 120, f"as_of reads the past ({asof[3]!r})")
        least = get(srv, path, tok["bill"], {"X-Hourbank-At-Least": "1"})
        check(least[0] == 200 and least[3] == after[3], "an at-least read answers the same")
        check(loop_answers(srv, tok["boss"]) == n6, "reads with a query or at-least are a worker's")

        # A revoked token is refused at once, though it was cached a moment ago.
        check(get(srv, path, tok["bill"])[0] == 200, "bill reads before the revocation")
        st, _ = call(srv, "POST", "/v1/tokens/bill/revoke", tok["boss"])
        check(st == 200, f"boss revokes bill ({st})")
        gone = get(srv, path, tok["bill"])
        check(gone[0] == 401, f"the revoked token is refused ({gone[0]} {gone[3]!r})")
    finally:
        check(srv.stop() == 0, "the server stops cleanly")
finally:
    shutil.rmtree(TMP, ignore_errors=True)

su.finish("balance_loop_test")
