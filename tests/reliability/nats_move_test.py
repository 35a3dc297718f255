#!/usr/bin/env python3
"""Moving a ledger between backends: a ledger directory -> a NATS cluster ledger -> a directory.

Usage: nats_move_test.py PATH/TO/hourbank PATH/TO/nats-server

Builds the demo ledger in a directory (plus a keyed `log` and a keyed `void`, so idempotency keys
and a seq reference travel), exports it as jsonl, imports it into a ledger on its own nats-server
(free loopback port, 2 partition streams), exports that, imports it into a new directory, and
checks:
  - every export holds the same events per client, in the same order, with the same payloads,
    actors, times, idempotency keys and key digests (seqs, positions and chain hashes are the
    target's own; a reference such as a void's entry_seq names the same event of the client);
  - `audit` passes on all three and prints the same per-client digests (client_digests);
  - a keyed retry on the cluster ledger answers with the first answer and writes nothing;
  - bad input is one error line, a non-zero exit and nothing written: importing into a ledger
    that is not empty, a file cut in the middle of a line, a partial (--from-seq) export.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from nats_util import start_server

if len(sys.argv) != 3:
    sys.exit("usage: nats_move_test.py PATH/TO/hourbank PATH/TO/nats-server")
HB, NATS = (os.path.abspath(a) for a in sys.argv[1:3])
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(*args, ok=True):
    p = subprocess.run([HB, *map(str, args)], capture_output=True, text=True, timeout=120)
    if ok and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
    return p


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


REFS = ("entry_seq", "block_seq", "reverses_seq")
TARGET_OWN = ("seq", "raw", "prev_hash")


def per_client(lines):
    """client -> list of events with the target's own fields left out and references written
    as the referenced event's index in its client."""
    index, out = {}, {}
    for e in lines:
        events = out.setdefault(e["client"], [])
        index[e["seq"]] = (e["client"], len(events) + 1)
        d = {k: v for k, v in e.items() if k not in TARGET_OWN}
        for k in REFS:
            if d.get(k):
                d[k] = index.get(d[k], ("missing", d[k]))
        if d.get("entry_seqs"):
            d["entry_seqs"] = [index.get(s, ("missing", s)) for s in d["entry_seqs"]]
        events.append(d)
    return out


def audit_digests(ledger_args, what):
    p = run(*ledger_args, "audit", "--json", ok=False)
    j = json.loads(p.stdout) if p.stdout.strip() else {}
    check(p.returncode == 0 and j.get("ok") is True, f"audit ok on {what}")
    return j.get("client_digests", {})


def one_error_line(p, says, what):
    err = p.stderr.strip().splitlines()
    check(p.returncode != 0 and len(err) == 1 and err[0].startswith("hourbank: error:") and says in err[0],
          f"{what}: one error line saying '{says}' ({p.stderr.strip()!r})")


def build_source(tmp):
    src = os.path.join(tmp, "src")
    run("--ledger", src, "demo")
    d = ["--ledger", src]
    logged = json.loads(run(*d, "--json", "log", "helpdesk", "30m", "--kind", "support", "--task", "MOVE-1",
                            "--key", "move-log-1").stdout)
    run(*d, "void", "helpdesk", logged["id"], "--reason", "moved by mistake", "--key", "move-void-1")
    return d


def main():
    tmp = tempfile.mkdtemp(prefix="hourbank-nats-move-")
    server, url = start_server(NATS, tmp)
    try:
        if url is None:
            print("nats-server did not start")
            return 1
        src = build_source(tmp)
        a = os.path.join(tmp, "a.jsonl")
        run(*src, "export", "--format", "jsonl", "--out", a)
        digests_a = audit_digests(src, "the source directory")
        check(len(digests_a) >= 5 and "helpdesk" in digests_a, f"audit prints client digests ({len(digests_a)})")

        # Into the cluster (2 streams, so the cluster's export order differs from the source's).
        nl = ["--log", url, "--ledger-name", "moved", "--partitions", "2"]
        run(*nl, "init")
        p = run(*nl, "--json", "import-log", a)
        imp = json.loads(p.stdout)
        check(imp.get("restamped") is True and imp["imported"] == len(read_jsonl(a)),
              f"import-log into the cluster re-stamps every event ({imp})")
        b = os.path.join(tmp, "b.jsonl")
        run(*nl, "export", "--format", "jsonl", "--out", b)
        check(per_client(read_jsonl(b)) == per_client(read_jsonl(a)),
              "the cluster's export holds the source's events, per client, in order")
        check(audit_digests(nl, "the cluster ledger") == digests_a, "audit digests: cluster == source")

        # A keyed retry on the cluster answers with the first answer, writes nothing.
        n = len(read_jsonl(b))
        again = json.loads(run(*nl, "--json", "log", "helpdesk", "30m", "--kind", "support", "--task",
                               "MOVE-1", "--key", "move-log-1").stdout)
        check(again.get("replayed") is True, "a keyed retry on the cluster is a replay")
        b2 = os.path.join(tmp, "b2.jsonl")
        run(*nl, "export", "--format", "jsonl", "--out", b2)
        check(len(read_jsonl(b2)) == n, "the retry wrote nothing")

        # Back into a new directory.
        back = ["--ledger", os.path.join(tmp, "back")]
        run(*back, "init")
        imp = json.loads(run(*back, "--json", "import-log", b).stdout)
        check(imp.get("restamped") is True, "import-log of a cluster export into a directory re-stamps")
        c = os.path.join(tmp, "c.jsonl")
        run(*back, "export", "--format", "jsonl", "--out", c)
        check(per_client(read_jsonl(c)) == per_client(read_jsonl(a)), "the round trip keeps every event")
        check(audit_digests(back, "the directory imported back") == digests_a, "audit digests: back == source")

        # Bad input: one error line, nothing written.
        one_error_line(run(*nl, "import-log", a, ok=False), "not empty", "import into a non-empty cluster ledger")
        with open(a) as f:
            text = f.read()
        cut = os.path.join(tmp, "cut.jsonl")
        with open(cut, "w") as f:
            f.write(text[: len(text) // 2])
        nl2 = ["--log", url, "--ledger-name", "cut"]
        run(*nl2, "init")
        one_error_line(run(*nl2, "import-log", cut, ok=False), "truncated", "import of a file cut mid-line")
        p = run(*nl2, "--json", "audit", ok=False)
        check(json.loads(p.stdout).get("head_seq") == 0, "the cut import wrote nothing")
        part = os.path.join(tmp, "part.jsonl")
        run(*nl, "export", "--format", "jsonl", "--from-seq", read_jsonl(b)[5]["seq"], "--out", part)
        part_dir = ["--ledger", os.path.join(tmp, "part")]
        run(*part_dir, "init")
        one_error_line(run(*part_dir, "import-log", part, ok=False), "whole-ledger export",
                       "import of a partial cluster export")
        return 1 if FAILS else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
