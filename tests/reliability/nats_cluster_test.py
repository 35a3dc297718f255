#!/usr/bin/env python3
"""A ledger on a 3-node NATS JetStream cluster keeps every acknowledged append through the loss
of a stream leader (issue 16).

Usage: nats_cluster_test.py PATH/TO/hourbank SOURCE_DIR PATH/TO/nats-server

Starts three nats-server processes with cluster routes on 127.0.0.1 (free ports; JetStream file
stores in a temp dir), waits for the JetStream meta leader, makes a ledger with 2 partition
streams of 3 replicas, and runs writers (`hourbank log … --key`, one process per append, each
retried with its key until acknowledged) for a bounded time. Mid-load the nats-server leading a
stream is killed with SIGKILL; writing goes on; the server is restarted. Then checks:
  - every acknowledged append is in the log exactly once (by its key and task), none other;
  - per client, the versions are 1, 2, 3 … without gaps (verify) and the writer's order is kept;
  - two processes racing with one key get one answer: the same entry, one of them a replay;
  - `audit` is ok;
and prints the longest time no writer got an acknowledgement (the write unavailability of the
leader change). Bounded: about 40 s of writing, every process call has a timeout.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

if len(sys.argv) != 4:
    sys.exit("usage: nats_cluster_test.py PATH/TO/hourbank SOURCE_DIR PATH/TO/nats-server")
HB, SRC, NATS = (os.path.abspath(a) for a in sys.argv[1:4])
FAILS = []
WRITERS = 4          # writer threads, one client each
LOAD_BEFORE_S = 3.0  # writing before the kill
DOWN_S = 4.0         # writing while the leader is down
AFTER_S = 3.0        # writing after the restart
CALL_TIMEOUT_S = 30


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Cluster:
    """Three nats-server processes: client, cluster and monitoring ports each."""

    def __init__(self, tmp):
        self.tmp = tmp
        ports = free_ports(9)
        self.client, self.route, self.http = ports[0:3], ports[3:6], ports[6:9]
        self.procs = [None, None, None]

    def url(self):
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.client)

    def start(self, i):
        routes = ",".join(f"nats://127.0.0.1:{self.route[j]}" for j in range(3) if j != i)
        self.procs[i] = subprocess.Popen(
            [NATS, "-a", "127.0.0.1", "-p", str(self.client[i]), "-m", str(self.http[i]), "-n", f"n{i}",
             "-js", "-sd", os.path.join(self.tmp, f"js{i}"), "--cluster_name", "hb",
             "--cluster", f"nats://127.0.0.1:{self.route[i]}", "--routes", routes,
             "-l", os.path.join(self.tmp, f"n{i}.log")])

    def kill9(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(timeout=30)

    def stop_all(self):
        for p in self.procs:
            if p and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()

    def jsz(self, i):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http[i]}/jsz?accounts=true&streams=true", timeout=5) as r:
            return json.loads(r.read())

    def stream_leader(self, stream):
        """The index of the server leading `stream`, asked of any live server (None if unknown)."""
        for i in range(3):
            if self.procs[i].poll() is not None:
                continue
            try:
                j = self.jsz(i)
            except OSError:
                continue
            for acc in j.get("account_details") or []:
                for st in acc.get("stream_detail") or []:
                    if st.get("name") == stream:
                        leader = (st.get("cluster") or {}).get("leader", "")
                        if leader.startswith("n") and leader[1:].isdigit():
                            return int(leader[1:])
        return None


def hb(url, *args, timeout=CALL_TIMEOUT_S):
    return subprocess.run([HB, "--log", url, "--ledger-name", "books", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def must(url, *args):
    p = hb(url, *args)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(map(str, args))} failed: {p.stderr.strip()}")
    return p


def make_ledger(url):
    """init, retried until the cluster has a JetStream meta leader (bounded)."""
    deadline = time.monotonic() + 30
    while True:
        p = hb(url, "--partitions", "2", "init")
        if p.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the cluster did not take a ledger in 30 s: {p.stderr.strip()}")
        time.sleep(0.5)
    must(url, "plan", "define", os.path.join(SRC, "examples", "plans", "kit.toml"))
    for w in range(WRITERS):
        must(url, "client", "add", f"c{w}", "--name", f"C{w}", "--currency", "RUB", "--timezone", "Europe/Moscow")
        must(url, "contract", "start", f"c{w}", "--plan", "kit-hours-15", "--from", "2026-01", "--months", "12")


class Writer(threading.Thread):
    """Appends to one client until told to stop; each append retried with its key until acknowledged."""

    def __init__(self, url, w, stop):
        super().__init__()
        self.url, self.w, self.stop = url, w, stop
        self.acked = []  # (key, entry id, time acknowledged)
        self.errors = 0

    def attempt(self, key, tries):
        """One try (the tries-th retry) of the append `key`: its entry id, or None."""
        p = hb(self.url, "--json", "log", f"c{self.w}", "1m", "--kind", "support", "--task", key, "--at",
               "2026-06-10T12:00", "--key", key)
        return json.loads(p.stdout)["id"] if p.returncode == 0 else None

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"w{self.w}-{n}"
            tries = 0
            while True:  # the same request again until it is acknowledged (a deadline bounds it)
                entry = self.attempt(key, tries)
                if entry is not None:
                    self.acked.append((key, entry, time.monotonic()))
                    break
                self.errors += 1
                tries += 1
                if self.stop.is_set() and time.monotonic() > self.stop.deadline:
                    return
                time.sleep(0.05)


def longest_gap(writers, start, end):
    times = sorted([start, end] + [t for w in writers for (_, _, t) in w.acked])
    return max(b - a for a, b in zip(times, times[1:]))


def key_race(url):
    """Two processes with one key and the same arguments: one entry, answered to both."""
    args = ["--json", "log", "c0", "2m", "--kind", "support", "--task", "RACE", "--at", "2026-06-11T12:00",
            "--key", "race-1"]
    cmd = [HB, "--log", url, "--ledger-name", "books", *args]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=CALL_TIMEOUT_S) for p in procs]
    check(all(p.returncode == 0 for p in procs), f"both racers acknowledged ({[o[1].strip() for o in outs]})")
    js = [json.loads(o[0]) for o in outs if o[0].strip()]
    check(len(js) == 2 and js[0]["id"] == js[1]["id"], "both racers got the same entry")
    check(sorted(bool(j.get("replayed")) for j in js) == [False, True], "exactly one racer wrote")


def check_log(url, tmp, writers):
    out = os.path.join(tmp, "all.jsonl")
    must(url, "export", "--format", "jsonl", "--out", out)
    with open(out) as f:
        events = [json.loads(line) for line in f if line.strip()]
    work = [e for e in events if e["type"] == "work_logged"]
    for w in writers:
        mine = [e for e in work if e["client"] == f"c{w.w}" and e.get("task", "").startswith("w")]
        tasks = [e["task"] for e in mine]
        acked = [k for (k, _, _) in w.acked]
        check(len(tasks) == len(set(tasks)), f"c{w.w}: no append twice ({len(tasks)} entries)")
        # Every acknowledged append is there, in the writer's order; at most the one append the
        # writer was retrying when it stopped is there without an acknowledgement.
        check(tasks[:len(acked)] == acked and len(tasks) - len(acked) in (0, 1),
              f"c{w.w}: the {len(acked)} acknowledged appends, in order, each once")
        ids = {e["seq"] for e in mine}
        check(all(i in ids for (_, i, _) in w.acked), f"c{w.w}: each acknowledged entry id names its entry")
    races = [e for e in work if e.get("task") == "RACE"]
    check(len(races) == 1, f"the raced key wrote one entry ({len(races)})")
    p = hb(url, "--json", "audit", timeout=120)
    j = json.loads(p.stdout) if p.stdout.strip() else {}
    check(p.returncode == 0 and j.get("ok") is True, f"audit ok on the cluster ({p.stderr.strip()})")


def kill_leader(cluster, stream, start):
    """SIGKILLs the server leading `stream`; returns (its index, when)."""
    victim = cluster.stream_leader(stream)
    check(victim is not None, f"the leader of {stream} is known (n{victim})")
    victim = 0 if victim is None else victim
    killed_at = time.monotonic()
    cluster.kill9(victim)
    print(f"killed n{victim} (leader of {stream}) with SIGKILL at {killed_at - start:.1f} s", flush=True)
    return victim, killed_at


def stop_writers(writers, stop, start, killed_at):
    """Stops the writers (each may finish the append it is retrying, for at most 30 s), prints the
    longest write unavailability and checks appends were acknowledged after the kill."""
    stop.deadline = time.monotonic() + 30
    stop.set()
    for w in writers:
        w.join(timeout=60)
    end = time.monotonic()
    check(not any(w.is_alive() for w in writers), "every writer stopped")
    total = sum(len(w.acked) for w in writers)
    after_kill = sum(1 for w in writers for (_, _, t) in w.acked if t > killed_at)
    gap = longest_gap(writers, start, end)
    print(f"acknowledged appends: {total} ({after_kill} after the kill); failed attempts retried: "
          f"{sum(w.errors for w in writers)}; longest write unavailability: {gap:.2f} s", flush=True)
    check(after_kill > 0, "appends were acknowledged after the leader was killed")


def run_load(cluster, tmp):
    url = cluster.url()
    make_ledger(url)
    stop = threading.Event()
    stop.deadline = float("inf")
    writers = [Writer(url, w, stop) for w in range(WRITERS)]
    start = time.monotonic()
    for w in writers:
        w.start()
    time.sleep(LOAD_BEFORE_S)
    victim, killed_at = kill_leader(cluster, "HB_books_0", start)
    time.sleep(DOWN_S)
    cluster.start(victim)
    time.sleep(AFTER_S)
    stop_writers(writers, stop, start, killed_at)
    key_race(url)
    check_log(url, tmp, writers)


def main():
    tmp = tempfile.mkdtemp(prefix="hourbank-nats-cluster-")
    cluster = Cluster(tmp)
    try:
        for i in range(3):
            cluster.start(i)
        run_load(cluster, tmp)
        return 1 if FAILS else 0
    finally:
        cluster.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
