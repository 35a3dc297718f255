#!/usr/bin/env python3
"""Signed webhooks end to end with the real binary (docs/webhooks.md).

Usage: webhooks_test.py PATH/TO/hourbank

A threaded loopback receiver (port 0) verifies each X-Hourbank-Signature with hmac and answers
per path: /ok 200; /fail 500 (until told otherwise); /ooo hangs its first request past the
deliverer's timeout and answers the rest at once, so a later delivery is answered before an
earlier one; /hang holds every request for a few seconds.

1C Start (10 h a month; January and February, the trial, closed before the hooks exist): 8 h in
March -> the 80 % alert, 2 h more -> 100 %, close March -> month.closed. Then `deliver --once`
passes: /ok gets each of the three once, signed; /fail is tried 3 times per alert and gives up;
/ooo gets the 100 % alert answered before the 80 % one, then the 80 % one on the next pass;
`redeliver` sends a gave-up delivery again and it is delivered; a wrong secret fails the check;
a `log` append completes while the deliverer waits on /hang; `deliver` without --once
delivers and stops on SIGTERM; `serve` delivers a redelivery from its own thread. Bad input: one error line, nothing
written.
"""
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import hbtest as su  # noqa: E402
from hbtest import check, ok, refused, run  # noqa: E402

su.HB = sys.argv[1]
PLANS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "plans")
SECRET = "s3cr3t-0123456789abcdef"
RECEIVED = []   # (path, headers dict, body bytes, signature valid) in arrival order
ANSWERED = []   # (path, delivery id) in the order answers were sent
STATE = {"fail": 500, "ooo_first": True}
LOCK = threading.Lock()


def valid(headers, body, secret=SECRET):
    parts = dict(p.split("=", 1) for p in headers.get("X-Hourbank-Signature", "").split(",") if "=" in p)
    want = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k: v for k, v in self.headers.items()}
        with LOCK:
            RECEIVED.append((self.path, headers, body, valid(headers, body)))
            hang = self.path == "/hang" or (self.path == "/ooo" and STATE["ooo_first"])
            if self.path == "/ooo":
                STATE["ooo_first"] = False
        if hang:
            time.sleep(3)
        status = STATE["fail"] if self.path == "/fail" else 200
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass  # the deliverer gave up waiting
        with LOCK:
            ANSWERED.append((self.path, headers.get("X-Hourbank-Delivery")))

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{server.server_address[1]}"

tmp, env = su.ledger_env("hourbank-webhooks-", "2026-04-01T12:00:00+03:00")
live = dict(env)
live.pop("HOURBANK_NOW")  # the deliverer runs on the real clock: retries come due
secret_file = os.path.join(tmp, "hook.secret")
with open(secret_file, "w") as f:
    f.write(SECRET + "\n")
short_file = os.path.join(tmp, "short.secret")
with open(short_file, "w") as f:
    f.write("too-short\n")

ok(env, "init")
ok(env, "plan", "define", os.path.join(PLANS, "1c-start.toml"))
ok(env, "client", "add", "c", "--name", "C", "--currency", "RUB", "--timezone", "Europe/Moscow")
ok(env, "contract", "start", "c", "--plan", "1c-start", "--from", "2026-01")
ok(env, "close", "c", "2026-01")
ok(env, "close", "c", "2026-02")

# ---- bad input: one error line, nothing written
refused(env, ["webhook", "add", "ftp://x/", "--events", "alert", "--secret-file", secret_file],
        "http:// or https://", "a URL that is not http")
refused(env, ["webhook", "add", BASE + "/ok", "--events", "alerts", "--secret-file", secret_file],
        "'alerts' is not an event type", "an unknown event type")
refused(env, ["webhook", "add", BASE + "/ok", "--events", "alert", "--secret-file", tmp + "/none"],
        "cannot read --secret-file", "a missing secret file")
refused(env, ["webhook", "add", BASE + "/ok", "--events", "alert", "--secret-file", short_file],
        "16-1024 bytes", "a short secret")
refused(env, ["webhook", "remove", "wh7"], "no webhook 'wh7'", "an unknown webhook")
refused(env, ["webhook", "redeliver", "wh7-3"], "no webhook 'wh7'", "redeliver to an unknown webhook")

ok(env, "webhook", "add", BASE + "/ok", "--events", "alert,month_closed", "--secret-file", secret_file)
ok(env, "webhook", "add", BASE + "/fail", "--events", "alert", "--max-attempts", "3",
   "--secret-file", secret_file)
ok(env, "webhook", "add", BASE + "/ooo", "--events", "alert", "--secret-file", secret_file)
listed = ok(env, "--json", "webhook", "list") + ok(env, "webhook", "list")
exported = ok(env, "export", "--format", "jsonl")
check(SECRET not in listed and SECRET not in exported and "secret_fingerprint" in exported,
      "list and export's decoded fields never show the secret")
hooks = json.loads(ok(env, "--json", "webhook", "list"))
check([h["id"] for h in hooks] == ["wh1", "wh2", "wh3"], f"three webhooks: {hooks}")
check(len(hooks[0]["secret_fingerprint"]) == 16, f"a 16-hex-digit fingerprint: {hooks[0]}")


# 8 h of 600 minutes: 480, 80 %; 2 h more: 600, 100 %.
for task, dur, day in [("A", "8h", "2026-03-10"), ("B", "2h", "2026-03-11")]:
    ok(env, "log", "c", dur, "--kind", "consultation", "--task", task, "--at", day + "T10:00")
    ok(env, "accept", "c", "--task", task, "--at", day + "T18:00")
ok(env, "close", "c", "2026-03")
alerts = json.loads(ok(env, "--json", "alerts", "c"))
check([a["key"] for a in alerts] == ["alert:c:allowance_used:80:202603", "alert:c:allowance_used:100:202603"],
      f"two alerts: {alerts}")
a80, a100 = alerts[0]["seq"], alerts[1]["seq"]


def deliver(*extra):
    return json.loads(ok(live, "--json", "webhook", "deliver", "--once", "--backoff-ms", "0",
                         "--timeout-ms", "1000", *extra))


def got(path):
    with LOCK:
        return [r for r in RECEIVED if r[0] == path]


deliver()
oks = got("/ok")
check(len(oks) == 3 and all(r[3] for r in oks), f"/ok: three deliveries, each signed: {len(oks)}")
bodies = [json.loads(r[2]) for r in oks]
check([b["type"] for b in bodies] == ["alert.raised", "alert.raised", "month.closed"],
      f"types: {[b['type'] for b in bodies]}")
check([b["id"] for b in bodies] == [f"wh1-{a80}", f"wh1-{a100}", bodies[2]["id"]], f"ids: {bodies}")
check(all(r[1].get("X-Hourbank-Delivery") == json.loads(r[2])["id"] and
          r[1].get("X-Hourbank-Event") == json.loads(r[2])["type"] and
          r[1].get("Content-Type") == "application/json" for r in oks), "headers match the body")
check(bodies[0]["data"] == alerts[0], f"an alert's data is what `alerts --json` prints: {bodies[0]['data']}")
inv = json.loads(ok(env, "--json", "invoice", "c", "2026-03"))
m = bodies[2]["data"]
check(m["month"] == "2026-03" and m["currency"] == "RUB" and m["client"] == "c" and m["invoice"] == inv,
      f"month.closed data: {m}")
check(not valid(oks[0][1], oks[0][2], "another-secret-0123456789"), "a wrong secret fails the check")

deliver()
deliver()
check(len(got("/ok")) == 3, "/ok: nothing is sent twice")
fails = got("/fail")
check(len(fails) == 6, f"/fail: 3 attempts for each of 2 alerts, got {len(fails)}")
rows = {d["id"]: d for d in json.loads(ok(env, "--json", "webhook", "deliveries", "--webhook", "wh2"))}
check(rows.get(f"wh2-{a80}", {}).get("outcome") == "gave_up" and rows[f"wh2-{a80}"]["attempts"] == 3 and
      rows[f"wh2-{a80}"]["last_status"] == 500 and rows[f"wh2-{a80}"]["type"] == "alert.raised" and
      rows[f"wh2-{a80}"]["client"] == "c", f"wh2 gave up after 3: {rows}")
check("gave_up" in ok(env, "webhook", "deliveries"), "the table shows gave_up")

with LOCK:
    ooo = [d for p, d in ANSWERED if p == "/ooo"]
check(ooo[:2] == [f"wh3-{a100}", f"wh3-{a80}"], f"/ooo answered the later alert first: {ooo}")
rows = {d["id"]: d for d in json.loads(ok(env, "--json", "webhook", "deliveries", "--webhook", "wh3"))}
check(rows[f"wh3-{a80}"]["outcome"] == "delivered" and rows[f"wh3-{a80}"]["attempts"] == 2,
      f"the timed-out one was delivered on attempt 2: {rows}")

STATE["fail"] = 200
ok(env, "webhook", "redeliver", f"wh2-{a80}")
deliver()
rows = {d["id"]: d for d in json.loads(ok(env, "--json", "webhook", "deliveries", "--webhook", "wh2"))}
check(rows[f"wh2-{a80}"]["outcome"] == "delivered" and rows[f"wh2-{a80}"]["attempts"] == 1,
      f"redelivered: {rows[f'wh2-{a80}']}")
check(rows[f"wh2-{a100}"]["outcome"] == "gave_up", "the other stays gave_up")
check(len(got("/fail")) == 7 and json.loads(got("/fail")[-1][2])["id"] == f"wh2-{a80}",
      "the redelivery is the same delivery id")

# ---- a receiver that hangs never holds up an append
ok(env, "webhook", "remove", "wh1")
ok(env, "webhook", "add", BASE + "/hang", "--events", "alert", "--secret-file", secret_file)
ok(env, "log", "c", "8h", "--kind", "consultation", "--task", "C", "--at", "2026-04-01T01:00")
ok(env, "accept", "c", "--task", "C", "--at", "2026-04-01T11:00")  # April 80 %: for wh2, wh3, wh4
bg = subprocess.Popen([su.HB, "webhook", "deliver", "--once", "--backoff-ms", "0", "--timeout-ms", "5000"],
                      env=live, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30
while not got("/hang") and time.time() < deadline:
    time.sleep(0.05)
check(len(got("/hang")) == 1, "the deliverer reached /hang")
start = time.time()
p = run(env, "log", "c", "15m", "--kind", "consultation", "--task", "D", "--at", "2026-04-01T11:30")
took = time.time() - start
check(p.returncode == 0 and took < 2.5, f"log while /hang waits: exit {p.returncode} in {took:.2f} s {p.stderr}")
out, err = bg.communicate(timeout=60)
check(bg.returncode == 0, f"the background deliver finished: {err}")
check(len(got("/ok")) == 3, "a removed webhook gets nothing")

# ---- `deliver` without --once: passes until SIGTERM
import signal  # noqa: E402

ok(env, "webhook", "redeliver", f"wh3-{a80}")
before = len(got("/ooo"))
loop = subprocess.Popen([su.HB, "--json", "webhook", "deliver", "--backoff-ms", "0"], env=live,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30
while len(got("/ooo")) == before and time.time() < deadline:
    time.sleep(0.05)
time.sleep(1.5)  # an idle pass or two
loop.send_signal(signal.SIGTERM)
out, err = loop.communicate(timeout=30)
check(loop.returncode == 0 and json.loads(out or "{}").get("delivered") == 1,
      f"the loop delivered the redelivery once and stopped on SIGTERM: {loop.returncode} {out} {err}")
check(len(got("/ooo")) == before + 1, "one POST for one redelivery")

# ---- `hourbank serve` delivers from its own thread (default --webhooks on)
from e2e_server import Server  # noqa: E402

ok(env, "webhook", "redeliver", f"wh2-{a100}")
admin = json.loads(ok(env, "--json", "token", "issue", "hook-admin", "--role", "admin"))["token"]
staff = json.loads(ok(env, "--json", "token", "issue", "hook-staff", "--role", "staff"))["token"]
srv = Server(su.HB, live)
remote = dict(live, HOURBANK_SERVER=srv.url, HOURBANK_TOKEN=admin)
listed = json.loads(ok(remote, "--json", "webhook", "list"))
check([h["id"] for h in listed] == ["wh1", "wh2", "wh3", "wh4"] and SECRET not in json.dumps(listed),
      f"webhook list --server (admin): {listed}")
added = json.loads(ok(remote, "--json", "webhook", "add", BASE + "/ok", "--events", "month_closed",
                      "--secret-file", secret_file))
check(added["id"] == "wh5" and added["secret_fingerprint"] == listed[0]["secret_fingerprint"],
      f"webhook add --server: {added}")
p = run(dict(remote, HOURBANK_TOKEN=staff), "webhook", "deliveries")
check(p.returncode != 0 and "not allowed" in p.stderr, f"a staff token may not read deliveries: {p.stderr}")
deadline = time.time() + 30
while len(got("/fail")) < 9 and time.time() < deadline:  # 7 so far, + the overage alert, + this
    time.sleep(0.1)
check(srv.stop() == 0, "serve stops on SIGTERM")
rows = {d["id"]: d for d in json.loads(ok(env, "--json", "webhook", "deliveries", "--webhook", "wh2"))}
check(rows[f"wh2-{a100}"]["outcome"] == "delivered", f"serve delivered the redelivery: {rows}")

server.shutdown()
su.finish("webhooks e2e")
