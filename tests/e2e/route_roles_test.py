#!/usr/bin/env python3
"""Every HTTP route x every role, from one table (issue 15; docs/api.md "Authentication and roles").

Usage: route_roles_test.py PATH/TO/hourbank

For each route of docs/api.md and each role (staff, billing, auditor, manager, admin, client) the
real server answers 2xx when the table allows the role and 403 when it does not (and a 403 writes
nothing: /healthz head_seq is unchanged); with no token, an unknown token or a revoked one every
route is 401. Each role writes to its own client (r-ROLE) so allowed writes do not depend on each
other; the client token is scoped to r-client (its "own"), and every route naming another client
(r-staff, which exists, or ghost, which does not) is 403 for it. Loopback, port 0, a temporary
ledger, HOURBANK_NOW fixed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

from e2e_server import Server, call as http

HB = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "..", "examples", "plans")
TMP = tempfile.mkdtemp(prefix="hourbank-roles-")
ENV = dict(os.environ, HOURBANK_LEDGER=os.path.join(TMP, "ledger"), HOURBANK_NOW="2026-03-10T10:00:00Z", USER="tester")
ENV.pop("HOURBANK_SERVER", None)
ENV.pop("HOURBANK_TOKEN", None)
FAILURES = []
ROLES = ("staff", "billing", "auditor", "manager", "admin", "client")
ANY = set(ROLES) - {"client"}  # every valid token but a client token
READERS = {"billing", "manager", "admin"}
OWN = READERS | {"client"}  # the reads a client token may make of its own client
SELLERS = {"manager", "admin"}


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def hb(*args):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


KIT_TOML = open(os.path.join(PLANS, "kit.toml")).read()

# The table: (method, path, body, roles allowed). {c} is the role's own client, {r} the role.
TABLE = [
    ("GET", "/metrics", None, ANY),
    ("GET", "/v1/clients", None, ANY),
    ("POST", "/v1/clients", {"id": "new-{r}", "name": "New", "currency": "RUB", "timezone": "Europe/Moscow"}, SELLERS),
    ("GET", "/v1/clients/{c}/balance", None, {"staff", "billing", "manager", "admin", "client"}),
    ("GET", "/v1/clients/{c}/invoices/2026-02", None, OWN),
    ("GET", "/v1/clients/{c}/burned", None, OWN),
    ("GET", "/v1/clients/{c}/report/2026-03", None, OWN),
    ("GET", "/v1/clients/{c}/sla/2026-03", None, OWN),
    ("GET", "/v1/clients/{c}/review/2026-03", None, OWN),
    ("GET", "/v1/clients/{c}/statement/2026-02", None, OWN),
    ("GET", "/v1/clients/{c}/events", None, {"auditor", "admin"}),
    ("POST", "/v1/clients/{c}/work", {"kind": "support", "minutes": 5, "task": "W-{r}", "at": "2026-03-09T09:00"},
     {"staff", "admin"}),
    ("POST", "/v1/clients/acc-{r}/accept", {"task": "A-{r}"}, {"staff", "admin"}),
    ("POST", "/v1/clients/{c}/void", {"entry": "{entry}", "reason": "matrix"}, {"staff", "admin"}),
    ("POST", "/v1/clients/{c}/incidents", {"action": "open", "id": "INC-{r}", "priority": 2, "at": "2026-03-09T10:00"},
     {"staff", "manager", "admin"}),
    ("POST", "/v1/clients/{c}/pay", {"amount": "1.00", "ref": "matrix"}, {"admin"}),
    ("POST", "/v1/clients/{c}/write-down", {"entry": "{wd}", "minutes": 5, "reason": "matrix"}, SELLERS),
    ("POST", "/v1/clients/rev-{r}/review", {"decision": "approve", "month": "2026-03", "task": "R-{r}"}, SELLERS),
    ("POST", "/v1/clients/pre-{r}/buy", {"hours": "10h", "price": "1000"}, SELLERS),
    ("POST", "/v1/clients/{c}/adjust", {"charge": "50", "reason": "setup"}, SELLERS),
    ("POST", "/v1/clients/{c}/close", {"month": "2026-01"}, SELLERS),
    ("POST", "/v1/clients/bare-{r}/contract/start", {"plan": "kit-hours-10", "from": "2026-01", "months": 12}, SELLERS),
    ("POST", "/v1/clients/bare-{r}/contract/end", {"after": "2026-12"}, SELLERS),
    ("POST", "/v1/close", {"through": "2026-01"}, SELLERS),
    ("GET", "/v1/plans", None, ANY),
    ("GET", "/v1/plans/kit-hours-10", None, ANY),
    ("POST", "/v1/plans", {"toml": KIT_TOML, "name": "kit.toml"}, {"admin"}),
    ("GET", "/v1/tokens", None, {"admin"}),
    ("POST", "/v1/tokens", {"name": "minted-{r}", "role": "staff"}, {"admin"}),
    ("POST", "/v1/tokens/victim-{r}/revoke", None, {"admin"}),
    ("GET", "/v1/webhooks", None, {"admin"}),
    ("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/{r}", "events": "alert", "secret": "0123456789abcdef-{r}"},
     {"admin"}),
    ("GET", "/v1/webhook-deliveries", None, {"admin"}),
    ("POST", "/v1/webhook-deliveries/{dl}/redeliver", None, {"admin"}),
    ("POST", "/v1/webhooks/wh1/remove", None, {"admin"}),
    ("GET", "/v1/clients/{c}/forecast", None, OWN),
    ("GET", "/v1/clients/{c}/whatif?plan=kit-hours-15", None, READERS),
    ("GET", "/v1/alerts", None, {"staff", "billing", "manager", "admin"}),
    ("GET", "/v1/clients/{c}/alerts", None, {"staff", "billing", "manager", "admin", "client"}),
    ("GET", "/v1/clients/{c}/alerts/settings", None, {"staff", "billing", "manager", "admin", "client"}),
    ("POST", "/v1/clients/{c}/alerts/settings", {"block_expiry_days": 7}, SELLERS),
]


# The table covers the server's route table: every route of tools/hourbank/server/serve.cc
# Routes() has a row here (a new route without a row fails this test), and every row is a route.
SERVE_CC = os.path.join(HERE, "..", "..", "tools", "hourbank", "server", "serve.cc")
ROUTES = re.findall(r'\{M::(GET|POST), "(/[^"]*)"', open(SERVE_CC).read())
check(len(ROUTES) >= 25, f"the route table was read from serve.cc ({len(ROUTES)} routes)")


def matches(pattern, path):
    want, got = pattern.strip("/").split("/"), path.split("?")[0].strip("/").split("/")
    return len(want) == len(got) and all(w == g or w.startswith("{") for w, g in zip(want, got))


for method, pattern in ROUTES:
    check(any(m == method and matches(pattern, p) for m, p, _, _ in TABLE),
          f"{method} {pattern} (serve.cc) has a row in this test's TABLE and docs/api.md's role table")
for m, p, _, _ in TABLE:
    check(p == "/metrics" or any(m == rm and matches(rp, p) for rm, rp in ROUTES), f"TABLE row {m} {p} is a route of serve.cc")

# ---- a ledger: per role a client with a contract and an entry to void, a client on a plan billed
# on acceptance with work waiting, a client on a prepaid plan (blocks), a client without contract
hb("init")
for f in ("kit.toml", "1c-start.toml", "reviewed.toml"):
    hb("plan", "define", os.path.join(PLANS, f))
ENTRY = {}
WD = {}  # per role an entry of r-ROLE to write down (ENTRY's is voided by the void row)
for role in ROLES:
    for cid, plan in ((f"r-{role}", "kit-hours-10"), (f"acc-{role}", "1c-start"), (f"pre-{role}", "kit-prepaid"),
                      (f"bare-{role}", None)):
        hb("client", "add", cid, "--name", cid, "--currency", "RUB", "--timezone", "Europe/Moscow")
        if plan:
            hb("contract", "start", cid, "--plan", plan, "--from", "2026-01", "--months", "12")
    ENTRY[role] = json.loads(hb("--json", "log", f"r-{role}", "1h", "--kind", "support", "--task", "V",
                                "--at", "2026-03-09T08:00"))["id"]
    hb("log", f"acc-{role}", "1h", "--kind", "development", "--task", f"A-{role}", "--at", "2026-03-09T08:00")
    WD[role] = json.loads(hb("--json", "log", f"r-{role}", "1h", "--kind", "support", "--task", "WD",
                             "--at", "2026-03-09T08:30"))["id"]
    # a client on a plan with review (examples/plans/reviewed.toml) and work pending review
    hb("client", "add", f"rev-{role}", "--name", "rev", "--currency", "RUB", "--timezone", "Europe/Moscow")
    hb("contract", "start", f"rev-{role}", "--plan", "kit-hours-10-reviewed", "--from", "2026-01", "--months", "12")
    hb("log", f"rev-{role}", "1h", "--kind", "support", "--task", f"R-{role}", "--at", "2026-03-09T08:00")
    hb("token", "issue", f"victim-{role}", "--role", "staff")
TOK = {role: json.loads(hb("--json", "token", "issue", f"{role}-1", "--role", role,
                          *(("--client", "r-client") if role == "client" else ())))["token"] for role in ROLES}

# A client token for a client that is not registered is refused at issue: one error line, nothing written.
for args in (("--client", "ghost"), ("--client", "$auth"), ()):
    before = json.loads(hb("--json", "rebuild"))["events"]
    p = subprocess.run([HB, "token", "issue", "portal-x", "--role", "client", *args], env=ENV, capture_output=True,
                       text=True, timeout=60)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0 and len(lines) == 1 and lines[0].startswith("hourbank: error: "),
          f"token issue --role client {args} refused with one line: {p.returncode} {p.stderr!r}")
    check(json.loads(hb("--json", "rebuild"))["events"] == before, f"token issue --role client {args} wrote nothing")
REVOKED = json.loads(hb("--json", "token", "issue", "gone", "--role", "admin"))["token"]
hb("token", "revoke", "gone")
# A webhook with one delivery attempted (to a closed port), for the redeliver row.
with open(os.path.join(TMP, "hook.secret"), "w") as f:
    f.write("0123456789abcdef0123\n")
hb("webhook", "add", "http://127.0.0.1:9/x", "--events", "month_closed", "--secret-file", os.path.join(TMP, "hook.secret"))
hb("client", "add", "wh-c", "--name", "wh-c", "--currency", "RUB", "--timezone", "Europe/Moscow")
hb("contract", "start", "wh-c", "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
hb("close", "wh-c", "2026-01")
hb("webhook", "deliver", "--once", "--timeout-ms", "2000")
DELIVERY = json.loads(hb("--json", "webhook", "deliveries"))[0]["id"]


def call(srv, method, path, token=None, body=None):
    """A POST without a body sends {} (the routes here take an empty object)."""
    return http(srv, method, path, token, body if body is not None or method != "POST" else {})


def fill(x, role):
    if isinstance(x, str):
        return x.replace("{c}", f"r-{role}").replace("{r}", role).replace("{dl}", DELIVERY)
    if isinstance(x, dict):
        return {k: (ENTRY[role] if v == "{entry}" else WD[role] if v == "{wd}" else fill(v, role))
                for k, v in x.items()}
    return x


def head(srv):
    return call(srv, "GET", "/healthz")[1]["head_seq"]


srv = Server(HB, ENV, ["--webhooks", "off"])  # no delivery attempts appended while heads are compared
try:
    for method, path, body, allowed in TABLE:
        # 401 first: no token, an unknown one, a revoked one; nothing written.
        for token, what in ((None, "no token"), ("hbt_" + "0" * 64, "an unknown token"), (REVOKED, "a revoked token")):
            h = head(srv)
            st, answer = call(srv, method, fill(path, "admin"), token, fill(body, "admin"))
            check(st == 401 and isinstance(answer, dict) and answer.get("code") == "unauthenticated",
                  f"{method} {path} with {what} is 401: {st} {answer}")
            check(head(srv) == h, f"{method} {path} with {what} wrote nothing")
        for role in ROLES:
            h = head(srv)
            st, answer = call(srv, method, fill(path, role), TOK[role], fill(body, role))
            what = f"{method} {fill(path, role)} as {role}"
            if role in allowed:
                check(200 <= st < 300, f"{what} is allowed: {st} {answer}")
            else:
                check(st == 403 and isinstance(answer, dict) and answer.get("code") == "forbidden",
                      f"{what} is 403: {st} {answer}")
                check(head(srv) == h, f"{what} refused wrote nothing")
        # client-other: the client token on every route naming another client, existing or not.
        if "{c}" in path:
            for other in ("r-staff", "ghost"):
                h = head(srv)
                st, answer = call(srv, method, fill(path, "admin").replace("r-admin", other), TOK["client"],
                                  fill(body, "admin"))
                check(st == 403 and isinstance(answer, dict) and answer.get("code") == "forbidden",
                      f"{method} {path} for {other} as client (of r-client) is 403: {st} {answer}")
                check(head(srv) == h, f"{method} {path} for {other} as client wrote nothing")
finally:
    rc = srv.stop()
check(rc == 0, f"server exits 0 on SIGTERM, got {rc}")

# What the allowed writes did, read back through the CLI once the server stopped.
clients = {c["client"] for c in json.loads(hb("--json", "client", "list"))}
check(clients >= {"new-manager", "new-admin"} and "new-staff" not in clients, f"only sellers added clients: {sorted(clients)}")
tokens = {t["name"]: t for t in json.loads(hb("--json", "token", "list"))}
check({n for n in tokens if n.startswith("minted-")} == {"minted-admin"}, "only the admin minted a token")
check([n for n in tokens if n.startswith("victim-") and tokens[n]["revoked"]] == ["victim-admin"],
      "only the admin revoked a token")

if FAILURES:
    print(f"{len(FAILURES)} failure(s)")
    sys.exit(1)
print("route x role: every route answered as the table says")
