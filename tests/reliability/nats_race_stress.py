#!/usr/bin/env python3
"""Stress for nats-server issue #4320 (ctest runs 30 rounds, ~25 s): on a 3-node cluster, two
`hourbank log` processes for one client, started together, both reading the same state.

Usage: nats_race_stress.py PATH/TO/hourbank SOURCE_DIR PATH/TO/nats-server [ROUNDS] [STEPDOWN_EVERY]

Starts the cluster of nats_cluster_test.py (its helpers are imported), makes a ledger with 2
partition streams of 3 replicas and, per round, two fresh clients: on `k<i>` two processes append
with one --key (right: one writes, the other is answered with its entry as a replay), on `n<i>`
two processes append without a key (right: both written, at versions v+1 and v+2). Every
STEPDOWN_EVERY rounds (default 5; 0: never) both streams' leaders are asked to step down first,
as the race was seen right after a leader change. Counts per kind of race:
  - both written: the keyed pair both answered "not a replay" (two entries for one key);
  - chain broken: `history` of the client fails (two messages stamped with one version);
then runs `audit` once. Prints one summary line; exits 1 if any round broke something.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ARGS = sys.argv[4:]
sys.argv = sys.argv[:4]
import nats_cluster_test as nc  # noqa: E402  (same argv: HOURBANK SOURCE_DIR NATS_SERVER)

ROUNDS = int(ARGS[0]) if ARGS else 50
STEPDOWN_EVERY = int(ARGS[1]) if len(ARGS) > 1 else 5


def stepdown(cluster, stream):
    """Asks the cluster (raw NATS protocol, no client library) to move `stream`'s leader; bounded."""
    with socket.create_connection(("127.0.0.1", cluster.client[0]), timeout=5) as s:
        s.recv(4096)  # INFO
        s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.sd 1\r\n'
                  + f"PUB $JS.API.STREAM.LEADER.STEPDOWN.{stream} _INBOX.sd 0\r\n\r\n".encode())
        buf = b""
        deadline = time.monotonic() + 5
        while b"MSG _INBOX.sd" not in buf and time.monotonic() < deadline:
            buf += s.recv(4096)


def add_client(url, c):
    nc.must(url, "client", "add", c, "--name", c, "--currency", "RUB", "--timezone", "Europe/Moscow")
    nc.must(url, "contract", "start", c, "--plan", "kit-hours-15", "--from", "2026-01", "--months", "12")


def race(url, client, key):
    """Two processes appending to `client` at once; their (return code, stdout json, stderr)."""
    args = ["--json", "log", client, "1m", "--kind", "support", "--task", "RACE", "--at", "2026-06-11T12:00"]
    if key:
        args += ["--key", f"race-{client}"]
    cmd = [nc.HB, "--log", url, "--ledger-name", "books", *args]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=nc.CALL_TIMEOUT_S) for p in procs]
    return [(p.returncode, json.loads(o[0]) if o[0].strip() else {}, o[1].strip()) for p, o in zip(procs, outs)]


def round_result(url, client, key):
    """'ok', 'failed' (a racer got an error), 'both written' or 'chain broken'."""
    res = race(url, client, key)
    broken = nc.hb(url, "--json", "history", client).returncode != 0
    if broken:
        return "chain broken"
    if any(rc != 0 for rc, _, _ in res):
        print(f"{client}: a racer failed: {[e for _, _, e in res]}", flush=True)
        return "failed"
    if key and not any(j.get("replayed") for _, j, _ in res):
        return "both written"
    return "ok"


def main():
    tmp = tempfile.mkdtemp(prefix="hourbank-nats-race-")
    cluster = nc.Cluster(tmp)
    counts = {}
    try:
        for i in range(3):
            cluster.start(i)
        url = cluster.url()
        nc.make_ledger(url)
        start = time.monotonic()
        for r in range(ROUNDS):
            if STEPDOWN_EVERY and r % STEPDOWN_EVERY == 0:
                for st in ("HB_books_0", "HB_books_1"):
                    stepdown(cluster, st)
                time.sleep(0.3)
            for key in (True, False):
                c = f"{'k' if key else 'n'}{r}"
                add_client(url, c)
                what = round_result(url, c, key)
                counts[(key, what)] = counts.get((key, what), 0) + 1
                if what != "ok":
                    print(f"round {r} {c}: {what}", flush=True)
        audit = nc.hb(url, "--json", "audit", timeout=300)
        line = ", ".join(f"{'key' if k else 'no key'} {w}: {n}" for (k, w), n in sorted(counts.items()))
        print(f"{ROUNDS} rounds in {time.monotonic() - start:.0f} s (step-down every {STEPDOWN_EVERY}): {line}; "
              f"audit rc {audit.returncode} {audit.stderr.strip()[:200]}", flush=True)
        return 0 if all(w == "ok" for (_, w) in counts) else 1
    finally:
        cluster.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
