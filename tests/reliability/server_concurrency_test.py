#!/usr/bin/env python3
"""Concurrency through the server (issue 8): several writer PROCESSES append work to the same
and to different clients of one `hourbank serve` at once, for a bounded time.

Checks, after the writers finish:
  1. every request of a writer was acknowledged (200), none replayed;
  2. per-client order: the events of each writer (task "p<W>-<K>") appear in its client's
     stream in the order the writer sent them, K = 0, 1, 2, … with no gap;
  3. no acknowledged append is missing: every returned id is the seq of a work_logged event
     with that writer's task and key, and no task is there twice;
  4. conflicts are reported, never lost: pairs of processes race on one idempotency key with
     different bodies; exactly one of each pair is written, the other gets 409, and the
     stream holds exactly one event for that key, the winner's;
  5. with the server stopped, `hourbank audit` is ok and `hourbank rebuild --json` counts the
     same events as /healthz head_seq did.

Usage: server_concurrency_test.py HOURBANK SOURCE_DIR [--seconds S]   (default 8 s of writing)
(`--writer …` is the child role, started by the test itself.)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def call(url, method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


# ---- child roles: one process each, with its own connections. Output: one JSON line per request.
def writer_main(url, token, client, writer, seconds, max_appends):
    deadline = time.monotonic() + seconds
    k = 0
    while k < max_appends and time.monotonic() < deadline:
        task = "p%d-%d" % (writer, k)
        st, body = call(url, "POST", "/v1/clients/%s/work" % client, token,
                        {"kind": "support", "minutes": 1, "task": task, "key": task})
        ok = st == 200 and isinstance(body, dict)
        print(json.dumps({"k": k, "status": st, "id": body.get("id") if ok else None,
                          "replayed": body.get("replayed") if ok else None,
                          "error": None if ok else body}), flush=True)
        if not ok:
            return 1
        k += 1
    return 0


def racer_main(url, token, client, racer, keys, start_at):
    while time.time() < start_at:
        time.sleep(0.001)
    for key in keys:
        st, body = call(url, "POST", "/v1/clients/%s/work" % client, token,
                        {"kind": "support", "minutes": 1 + racer, "task": "%s-r%d" % (key, racer), "key": key})
        print(json.dumps({"key": key, "status": st, "id": body.get("id") if st == 200 else None,
                          "replayed": body.get("replayed") if st == 200 else None}), flush=True)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        url, token, client, writer, seconds, max_appends = sys.argv[2:8]
        return writer_main(url, token, client, int(writer), float(seconds), int(max_appends))
    if len(sys.argv) > 1 and sys.argv[1] == "--racer":
        url, token, client, racer, keys, start_at = sys.argv[2:8]
        return racer_main(url, token, client, int(racer), keys.split(","), float(start_at))
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 8.0
    tmp = tempfile.mkdtemp(prefix="hourbank-server-concurrency-")
    try:
        return run(binary, src, tmp, seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(binary, src, tmp, seconds):
    env = dict(os.environ, HOURBANK_LEDGER=os.path.join(tmp, "ledger"), HOURBANK_NOW="2026-03-10T10:00:00Z",
               USER="tester")
    env.pop("HOURBANK_SERVER", None)
    env.pop("HOURBANK_TOKEN", None)
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL:", what, flush=True)

    def hb(*args):
        p = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise SystemExit("hourbank %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    hb("init")
    hb("plan", "define", os.path.join(src, "examples", "plans", "kit.toml"))
    clients = ["c0", "c1", "c2"]
    for c in clients:
        hb("client", "add", c, "--name", c.upper(), "--currency", "RUB", "--timezone", "Europe/Moscow")
        hb("contract", "start", c, "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
    token = json.loads(hb("--json", "token", "issue", "writer", "--role", "admin").stdout)["token"]

    srv = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    first = [""]
    reader = threading.Thread(target=lambda: first.__setitem__(0, srv.stdout.readline()), daemon=True)
    reader.start()
    reader.join(20)
    if not first[0].startswith("listening on "):
        srv.kill()
        raise SystemExit("server did not start: %r" % first[0])
    url = "http://" + first[0].split()[2]
    me = os.path.abspath(__file__)
    try:
        # Writers: three on c0 (the same client), two on c1, one on c2.
        assignment = {0: "c0", 1: "c0", 2: "c0", 3: "c1", 4: "c1", 5: "c2"}
        writers = {w: subprocess.Popen([sys.executable, me, "--writer", url, token, c, str(w), str(seconds), "5000"],
                                       stdout=subprocess.PIPE, text=True)
                   for w, c in assignment.items()}
        # Racers: pairs of processes on one key with different bodies, while the writers run.
        race_keys = ["race-%d" % i for i in range(20)]
        start_at = time.time() + 0.5
        racers = [subprocess.Popen([sys.executable, me, "--racer", url, token, "c1", str(r), ",".join(race_keys),
                                    str(start_at)], stdout=subprocess.PIPE, text=True) for r in (0, 1)]
        acked = {}
        for w, p in writers.items():
            out, _ = p.communicate(timeout=seconds + 120)
            lines = [json.loads(x) for x in out.splitlines() if x.strip()]
            check(p.returncode == 0, "writer %d: every request acknowledged (last: %s)" % (w, lines[-1:] or None))
            check(all(x["replayed"] is False for x in lines if x["status"] == 200), "writer %d: nothing replayed" % w)
            acked[w] = [x["id"] for x in lines if x["status"] == 200]
            check(len(acked[w]) > 0, "writer %d acknowledged at least one append" % w)
        race = {}
        for r, p in enumerate(racers):
            out, _ = p.communicate(timeout=120)
            for x in (json.loads(line) for line in out.splitlines() if line.strip()):
                race.setdefault(x["key"], {})[r] = x

        st, health = call(url, "GET", "/healthz", token)
        head_seq = health["head_seq"]

        def events_of(client):
            out, after = [], 0
            while True:
                st, page = call(url, "GET", "/v1/clients/%s/events?after_seq=%d" % (client, after), token)
                check(st == 200, "GET events of %s: %s" % (client, st))
                if st != 200:
                    return out
                out += page["events"]
                after = page["next_after_seq"]
                if not page["more"]:
                    return out

        streams = {c: [e for e in events_of(c) if e["type"] == "work_logged"] for c in clients}
        for w, c in assignment.items():
            mine = [e for e in streams[c] if str(e.get("task", "")).startswith("p%d-" % w)]
            tasks = [e["task"] for e in mine]
            check(tasks == ["p%d-%d" % (w, k) for k in range(len(tasks))],
                  "writer %d: its events are in its order with no gap (%d events)" % (w, len(tasks)))
            check([e["seq"] for e in mine] == acked[w],
                  "writer %d: the %d acknowledged ids are exactly its events' seqs (%d in the stream)"
                  % (w, len(acked[w]), len(mine)))
            check(all(e.get("key") == e["task"] for e in mine), "writer %d: keys kept" % w)
        c1_by_key = {}
        for e in streams["c1"]:
            if str(e.get("key", "")).startswith("race-"):
                c1_by_key.setdefault(e["key"], []).append(e)
        conflicts = 0
        for key in race_keys:
            answers = race.get(key, {})
            won = [r for r, x in answers.items() if x["status"] == 200 and not x["replayed"]]
            lost = [r for r, x in answers.items() if x["status"] == 409]
            conflicts += len(lost)
            check(len(answers) == 2 and len(won) == 1 and len(lost) == 1,
                  "%s: one racer written, the other 409 (%s)" % (key, answers))
            stored = c1_by_key.get(key, [])
            check(len(stored) == 1 and won and stored[0]["seq"] == answers[won[0]]["id"]
                  and stored[0]["task"] == "%s-r%d" % (key, won[0]),
                  "%s: exactly the winner's event is stored (%s)" % (key, [e.get("task") for e in stored]))
        total = sum(len(v) for v in acked.values())
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
            failures.append("server did not stop within 30 s of SIGTERM")

    p = subprocess.run([binary, "audit"], env=env, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "hourbank audit is ok: %s %s" % (p.stdout[-500:], p.stderr[-500:]))
    p = subprocess.run([binary, "--json", "rebuild"], env=env, capture_output=True, text=True, timeout=300)
    events = None
    for line in p.stdout.splitlines():
        if line.strip().startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and "events" in obj:
                events = obj["events"]
    check(p.returncode == 0 and events == head_seq,
          "rebuild counts the events the server acknowledged (%s vs head_seq %s)" % (events, head_seq))
    print("server concurrency: %d writer processes on %d clients acknowledged %d appends in %.0f s; "
          "%d key races, %d conflicts reported as 409; head_seq %s; %s"
          % (len(assignment), len(clients), total, seconds, len(race_keys), conflicts, head_seq,
             "FAILED (%d)" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
