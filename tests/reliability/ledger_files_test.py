#!/usr/bin/env python3
"""The ledger directory through the real `hourbank` binary (issue 14, items 7, 8 and 14).

1. Read commands change nothing: a demo ledger is copied; every file's bytes, size, mode and
   mtime and the directory listing are recorded; audit, export (jsonl, csv, hledger), history,
   balance, invoice, burned, report, client list and plan list run on the copy and must exit 0;
   the record must be unchanged. When a read-only bind mount is allowed (root), the same
   commands run on a read-only mount of the copy and must exit 0. (As root, chmod a-w does not
   stop writes, so the mount is the real read-only test; the hashes are the test elsewhere.)
2. A damaged WAL: one byte flipped in the middle of the WAL; `balance` must fail with one
   `hourbank: error:` line naming the WAL file and `hourbank recover`, and change nothing;
   `hourbank recover --from L --to N` must exit 0, print the report with the lost seqs, write
   N/recovery/report.txt and a copy of the WAL; `hourbank --ledger N audit` must run.
3. Under umask 000, `hourbank init` makes the ledger directory 0700 and its files 0600.

Usage: ledger_files_test.py HOURBANK_BINARY
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def snapshot(d):
    out = {}
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            digest = ""
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    digest = hashlib.blake2b(f.read()).hexdigest()
            out[os.path.relpath(p, d)] = (st.st_size, st.st_mtime_ns, st.st_mode, digest)
    out["."] = os.stat(d).st_mtime_ns
    return out


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="hourbank-files-")
    try:
        run(binary, tmp)
    finally:
        subprocess.run(["umount", "-l", os.path.join(tmp, "ro")], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("ok")
    return 0


def run(binary, tmp):
    env = dict(os.environ, HOURBANK_NOW="2026-06-15T12:00:00Z", USER="tester")
    for k in ("HOURBANK_SERVER", "HOURBANK_TOKEN", "HOURBANK_LEDGER"):
        env.pop(k, None)

    def hb(ledger, *args):
        return subprocess.run([binary, "--ledger", ledger] + list(args), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120)

    demo = os.path.join(tmp, "demo")
    p = hb(demo, "demo")
    check(p.returncode == 0, "demo: %s" % p.stderr.decode())
    copy = os.path.join(tmp, "copy")
    shutil.copytree(demo, copy)
    import json
    clients = [c["client"] for c in json.loads(hb(copy, "--json", "client", "list").stdout)]
    check(len(clients) >= 3, "demo clients: %r" % clients)
    c = clients[0]
    reads = [["audit"], ["export", "--format", "jsonl"], ["export", "--format", "csv"], ["export", "--format", "hledger"],
             ["history", c], ["balance", c], ["invoice", c, "2026-03"], ["burned", c], ["report", c, "2026-03"],
             ["client", "list"], ["plan", "list"], ["--json", "audit"]]
    plan = json.loads(hb(copy, "--json", "balance", c).stdout)["plan"]
    reads += [["forecast", c], ["whatif", c, "--plan", plan]]
    before = snapshot(copy)
    for args in reads:
        p = hb(copy, *args)
        check(p.returncode == 0, "%s on the copy exited %d: %s" % (args, p.returncode, p.stderr.decode()[:300]))
    after = snapshot(copy)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    check(not changed, "read commands changed files in the ledger directory: %r" % changed)

    ro = os.path.join(tmp, "ro")
    os.mkdir(ro)
    mounted = subprocess.run(["mount", "--bind", copy, ro], stderr=subprocess.DEVNULL).returncode == 0 and \
        subprocess.run(["mount", "-o", "remount,ro,bind", ro], stderr=subprocess.DEVNULL).returncode == 0
    if mounted:
        check(not os.access(os.path.join(ro, "CURRENT"), os.W_OK), "the mount is read-only")
        for args in reads:
            p = hb(ro, *args)
            check(p.returncode == 0, "%s on a read-only mount exited %d: %s" % (args, p.returncode, p.stderr.decode()[:300]))
        p = hb(ro, "log", c, "1h", "--task", "x")
        check(p.returncode != 0, "a write on a read-only mount must fail")
        subprocess.run(["umount", "-l", ro])
        print("read-only mount: exercised")
    else:
        print("read-only mount: not allowed here; only the before/after file record was checked")

    # 2. A damaged WAL.
    led = os.path.join(tmp, "wal")
    check(hb(led, "init").returncode == 0, "init")
    check(hb(led, "client", "add", "acme", "--name", "Acme", "--currency", "EUR", "--timezone", "UTC").returncode == 0, "client add")
    for i in range(40):
        p = hb(led, "pay", "acme", "10.00", "--ref", "r%d" % i)
        check(p.returncode == 0, "pay: %s" % p.stderr.decode())
    wals = sorted(f for f in os.listdir(led) if f.endswith(".log") and f[0].isdigit())
    check(len(wals) >= 1, "a WAL file")
    wal = os.path.join(led, wals[-1])
    size = os.path.getsize(wal)
    with open(wal, "r+b") as f:
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0x5A]))
    before = snapshot(led)
    p = hb(led, "balance", "acme")
    err = p.stderr.decode()
    check(p.returncode == 1, "balance on a damaged WAL exits 1, got %d" % p.returncode)
    check(err.count("\n") == 1 and err.startswith("hourbank: error:"), "one error line: %r" % err)
    check(wals[-1] in err and "hourbank recover" in err, "the error names the WAL and recover: %r" % err)
    p = hb(led, "pay", "acme", "1.00")
    check(p.returncode == 1, "a write on a damaged WAL is refused too")
    after = snapshot(led)
    check(before[wals[-1]] == after[wals[-1]], "the damaged WAL is kept as it was")
    new = os.path.join(tmp, "recovered")
    p = subprocess.run([binary, "recover", "--from", led, "--to", new], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode()
    check(p.returncode == 0, "recover exits 0: %s" % p.stderr.decode())
    # The flip hit the newest WAL, which here holds only the last append (each command reopens
    # the ledger, which moves the WAL into table files): the report names the damaged record.
    check("LOST: " in out and wals[-1] + ": checksum mismatch at byte" in out, "the report names the damage: %r" % out[:800])
    check(os.path.isfile(os.path.join(new, "recovery", "report.txt")), "report.txt")
    check(os.path.isfile(os.path.join(new, "recovery", "wal", wals[-1])), "the WAL copy")
    p = hb(new, "audit")
    check(p.returncode in (0, 1) and "hourbank: error: internal" not in p.stderr.decode(), "audit of the recovered ledger runs")
    p = hb(new, "pay", "acme", "1.00")
    check(p.returncode == 0, "the recovered ledger takes appends: %s" % p.stderr.decode())
    p = subprocess.run([binary, "recover", "--from", led, "--to", new], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    check(p.returncode != 0 and p.stderr.decode().startswith("hourbank: error:"), "recover never writes into a used directory")

    # 3. Permissions under umask 000.
    old = os.umask(0)
    try:
        priv = os.path.join(tmp, "private")
        check(hb(priv, "init").returncode == 0, "init under umask 000")
    finally:
        os.umask(old)
    check(os.stat(priv).st_mode & 0o777 == 0o700, "ledger dir mode %o" % (os.stat(priv).st_mode & 0o777))
    for name in os.listdir(priv):
        mode = os.stat(os.path.join(priv, name)).st_mode & 0o777
        check(mode & 0o077 == 0, "%s mode %o" % (name, mode))


if __name__ == "__main__":
    sys.exit(main())
