#!/usr/bin/env python3
"""hourbank backup / restore on the real binary (issue 16 part 4; docs/backup.md).

Usage: backup_test.py PATH/TO/hourbank

A ledger served by `hourbank serve` is backed up while the server runs and takes writes; a
second backup is incremental; restoring backup 1 gives a ledger with exactly backup 1's events
(its balance equals the served balance read just before that backup), which passes `audit`
and `verify` of a checkpoint signed before the backup. A non-empty target, an unknown backup
id, a damaged backup (a flipped byte in a table file) and `--server` are each refused with one
error line, writing nothing. Loopback, port 0, temp directories, HOURBANK_NOW fixed.
"""
import glob
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
TMP = tempfile.mkdtemp(prefix="hourbank-backup-")
L, B = os.path.join(TMP, "ledger"), os.path.join(TMP, "backups")
ENV = dict(os.environ, HOURBANK_LEDGER=L, HOURBANK_NOW="2026-03-10T10:00:00Z", USER="tester")
ENV.pop("HOURBANK_SERVER", None)
ENV.pop("HOURBANK_TOKEN", None)
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def hb(*args, ok=True):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=120)
    if ok and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def one_error_line(p):
    return p.returncode != 0 and p.stderr.startswith("hourbank: error: ") and p.stderr.count("\n") == 1


hb("init")
hb("plan", "define", os.path.join(PLANS, "kit.toml"))
hb("client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow")
hb("contract", "start", "acme", "--plan", "kit-hours-10", "--from", "2026-01", "--months", "12")
for i in range(5):
    hb("log", "acme", "30m", "--kind", "support", "--task", f"T-{i}", "--at", f"2026-03-0{i + 1}T10:00")
hb("keygen", "--out", os.path.join(TMP, "ops.key"))
hb("checkpoint", "--key", os.path.join(TMP, "ops.key"))
ADMIN = json.loads(hb("--json", "token", "issue", "boss", "--role", "admin").stdout)["token"]

srv = Server(HB, ENV)
try:
    remote = ("--server", srv.url, "--token", ADMIN)
    hb(*remote, "log", "acme", "1h", "--kind", "support", "--task", "R-1", "--at", "2026-03-09T10:00")
    balance_at_backup = json.loads(hb(*remote, "--json", "balance", "acme").stdout)
    # Backup 1 while the server holds the ledger open and serves writes.
    p = hb("--json", "backup", B, ok=False)
    check(p.returncode == 0, f"backup while the server runs: {p.stderr.strip()!r}")
    first = json.loads(p.stdout) if p.returncode == 0 else {}
    check(first.get("id") == 1 and first.get("head_seq", 0) > 0, f"backup 1 answers its id and head: {first}")
    for i in range(3):
        hb(*remote, "log", "acme", "15m", "--kind", "support", "--task", f"LATER-{i}", "--at", "2026-03-09T11:00")
    p = hb("backup", B, ok=False)
    check(p.returncode == 0 and p.stdout.count("\n") == 1 and "backup 2" in p.stdout and "verified" in p.stdout,
          f"backup 2 prints one line: {p.stdout!r} {p.stderr!r}")
    p = hb(*remote, "backup", B, ok=False)
    check(one_error_line(p) and "--server" in p.stderr, f"backup refuses --server: {p.stderr!r}")
finally:
    check(srv.stop() == 0, "the server stopped cleanly")
served_head = json.loads(hb("--json", "history", "acme").stdout.splitlines()[-1])["seq"]

listed = json.loads(hb("--json", "backup", B, "--list").stdout)
check([b["id"] for b in listed] == [1, 2] and listed[1]["head_seq"] >= listed[0]["head_seq"] + 3,
      f"--list shows both backups, the second with the 3 later events: {listed}")
check(listed[1]["head_seq"] == served_head, f"backup 2 holds every event ({listed[1]['head_seq']} vs {served_head})")

# Restore backup 1: exactly its events; the balance read just before it; audit and verify pass.
N1 = os.path.join(TMP, "restored-1")
p = hb("--json", "restore", B, "--ledger", N1, "--backup-id", "1", ok=False)
check(p.returncode == 0 and json.loads(p.stdout)["head_seq"] == first.get("head_seq"),
      f"restore of backup 1 ends at its head: {p.stdout!r} {p.stderr!r}")
env1 = dict(ENV, HOURBANK_LEDGER=N1)
b1 = json.loads(subprocess.run([HB, "--json", "balance", "acme"], env=env1, capture_output=True, text=True).stdout or "{}")
check(b1 == balance_at_backup, f"the restored balance is the balance at backup time:\n  {b1}\n  {balance_at_backup}")
for args in (("audit",), ("verify", "--pubkey", os.path.join(TMP, "ops.key.pub"))):
    p = subprocess.run([HB, *args], env=env1, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"the restored ledger passes {args[0]}: {p.stdout[-200:]!r} {p.stderr!r}")
tasks = {json.loads(l).get("task") for l in subprocess.run([HB, "--json", "history", "acme"], env=env1,
                                                             capture_output=True, text=True).stdout.splitlines()}
check("R-1" in tasks and not any(str(t).startswith("LATER-") for t in tasks),
      "backup 1 holds the work logged before it, not the work logged after it")
N2 = os.path.join(TMP, "restored-latest")
p = hb("restore", B, "--ledger", N2, ok=False)
check(p.returncode == 0 and "backup 2" in p.stdout, f"restore without --backup-id takes the latest: {p.stdout!r}")

# Refusals: one error line, nothing written.
p = hb("restore", B, "--ledger", N1, ok=False)
check(one_error_line(p) and "not empty" in p.stderr, f"a non-empty target is refused: {p.stderr!r}")
p = hb("restore", B, "--ledger", os.path.join(TMP, "nope"), "--backup-id", "9", ok=False)
check(one_error_line(p) and "no backup 9" in p.stderr and not os.path.exists(os.path.join(TMP, "nope")),
      f"an unknown backup id is refused: {p.stderr!r}")
ssts = sorted(glob.glob(os.path.join(B, "shared_checksum", "*.sst")))
check(len(ssts) > 0, "the backups share table files under shared_checksum/")
if ssts:
    with open(ssts[0], "r+b") as f:
        f.seek(64)
        byte = f.read(1)
        f.seek(64)
        f.write(bytes([byte[0] ^ 0xFF]))
    M = os.path.join(TMP, "from-damaged")
    p = hb("restore", B, "--ledger", M, ok=False)
    check(one_error_line(p) and "damaged" in p.stderr and not os.path.exists(M),
          f"a damaged backup is refused and nothing is written: {p.stderr!r}")

shutil.rmtree(TMP, ignore_errors=True)
if FAILURES:
    print(f"{len(FAILURES)} failure(s)")
    sys.exit(1)
print("backup and restore: online, incremental, verified, refusals write nothing")
