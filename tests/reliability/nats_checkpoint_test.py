#!/usr/bin/env python3
"""Signed checkpoints on a NATS cluster ledger (issue 16: "signed checkpoints and verify as today").

Usage: nats_checkpoint_test.py PATH/TO/hourbank PATH/TO/nats-server

A cluster's global chain runs partition by partition, so an append to partition 0 after a
checkpoint lands *before* the last position of partition 1: a checkpoint of the global head would
stop verifying after any such append. `hourbank checkpoint` on a cluster therefore signs one head
per partition (each partition's events, in stream order, are a chain that only grows at its end).
Checks, on its own nats-server (free loopback port) with a 2-partition ledger:
  - `checkpoint` signs one head per non-empty partition (2 here), each in its own partition;
  - appends to both partitions afterwards, then `verify` (the auditor's key) is ok with every
    checkpoint's chain passing through its head, and `audit` is ok;
  - a second round of checkpoints, more appends, both still verify;
  - another key: `verify` fails, naming the key;
  - an empty ledger (cluster and directory): `checkpoint` is refused with one error line and
    writes nothing (before, it signed head 0, which verify then always reported as rewritten).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from nats_util import start_server

HB, NATS = (os.path.abspath(a) for a in sys.argv[1:3])
FAILS = []
# Clients whose FNV-1a-64 partition (mod 2) covers both partitions.
CLIENTS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def run(*args, ok=True):
    env = dict(os.environ, HOURBANK_NOW="2026-03-10T10:00:00Z", USER="tester")
    for k in ("HOURBANK_LEDGER", "HOURBANK_LEDGER_NAME", "HOURBANK_SERVER", "HOURBANK_TOKEN"):
        env.pop(k, None)
    p = subprocess.run([HB, *map(str, args)], capture_output=True, text=True, timeout=120, env=env)
    if ok and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
    return p


def partition(pos):
    return pos >> 56  # a position is partition (8 bits) ‖ stream seq (40) ‖ index (16)


def log_work(ledger, minutes):
    """Logs work for every client; the partitions the entries landed in."""
    parts = set()
    for c in CLIENTS:
        p = run(*ledger, "--json", "log", c, f"{minutes}m", "--kind", "support", "--at", "2026-03-09T12:00")
        parts.add(partition(json.loads(p.stdout)["id"]))
    return parts


def verify(ledger, pub, what, ok=True):
    p = run(*ledger, "--json", "verify", "--pubkey", pub, ok=False)
    v = json.loads(p.stdout)
    if ok:
        check(p.returncode == 0 and v["ok"] and all(c["chain_ok"] for c in v["checkpoints"]),
              f"{what}: verify ok, every chain passes through its checkpoint ({p.stdout.strip()[:300]})")
    return p, v


def refused_empty(ledger, key, what):
    p = run(*ledger, "checkpoint", "--key", key, ok=False)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0 and len(lines) == 1 and lines[0].startswith("hourbank: error:")
          and "no events yet" in lines[0], f"{what}: checkpoint refused with one error line ({p.stderr!r})")
    a = json.loads(run(*ledger, "--json", "audit", ok=False).stdout)
    check(a["head_seq"] == 0, f"{what}: nothing written (head {a['head_seq']})")


def main():
    tmp = tempfile.mkdtemp(prefix="hourbank-nats-cp-")
    server, url = start_server(NATS, tmp)
    try:
        if url is None:
            print("nats-server did not start")
            return 1
        key = os.path.join(tmp, "ops.key")
        run("keygen", "--out", key)
        other = os.path.join(tmp, "other.key")
        run("keygen", "--out", other)
        nl = ["--log", url, "--ledger-name", "signed", "--partitions", "2"]
        run(*nl, "init")
        refused_empty(nl, key, "empty cluster ledger")
        d = ["--ledger", os.path.join(tmp, "dir")]
        run(*d, "init")
        refused_empty(d, key, "empty directory ledger")

        run(*nl, "plan", "define", os.path.join(os.path.dirname(__file__), "..", "..", "examples", "plans", "kit.toml"))
        for c in CLIENTS:
            run(*nl, "client", "add", c, "--name", c, "--currency", "RUB", "--timezone", "Europe/Moscow")
            run(*nl, "contract", "start", c, "--plan", "kit-hours-10", "--from", "2026-01")
        log_work(nl, 30)

        cp = json.loads(run(*nl, "--json", "checkpoint", "--key", key).stdout)["checkpoints"]
        check(len(cp) == 2 and sorted(partition(c["head_seq"]) for c in cp) == [0, 1],
              f"one checkpoint per partition: {[(c['head_seq'], partition(c['head_seq'])) for c in cp]}")
        check(log_work(nl, 15) == {0, 1}, "both partitions grow after the checkpoint")
        verify(nl, key + ".pub", "after appends to both partitions")
        check(json.loads(run(*nl, "--json", "audit").stdout)["ok"], "audit ok with the checkpoints")

        run(*nl, "checkpoint", "--key", key)
        log_work(nl, 10)
        p, v = verify(nl, key + ".pub", "two rounds of checkpoints")
        check(v.get("verified_checkpoints") == 4, f"4 checkpoints verified: {v.get('verified_checkpoints')}")

        p, v = verify(nl, other + ".pub", "another key", ok=False)
        check(p.returncode != 0 and not v["ok"] and "another key" in p.stdout,
              f"another key: verify fails naming it ({p.stdout.strip()[:200]})")
    finally:
        server.terminate()
        server.wait(10)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("signed checkpoints on a cluster: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
