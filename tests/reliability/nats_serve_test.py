#!/usr/bin/env python3
"""Two `hourbank serve` nodes follow a ledger on a 3-node NATS JetStream cluster (issue 16,
part 2; docs/replicated-log.md, Serve nodes).

Usage: nats_serve_test.py PATH/TO/hourbank SOURCE_DIR PATH/TO/nats-server

Starts the cluster of nats_cluster_test.py (its helpers are imported), makes a ledger with 2
partition streams, and starts two serve nodes, each with its own --store. Writers POST work
through both nodes (each append with an idempotency key, retried with the same key, through
either node, until acknowledged) for a bounded time; mid-load the nats-server leading
HB_books_0 is killed with SIGKILL and restarted, then one serve node is killed with SIGKILL and
restarted (it must resume from its store: a non-zero applied seq in its log). Then checks:
  - every acknowledged append is there exactly once and in its writer's order, read through
    BOTH nodes (and each entry id names its entry);
  - a key raced through both nodes writes one entry: both answers name it, one is a replay;
  - read-your-writes: an append through node A is seen through node B with ?at_least=ID, and
    with the CLI's --at-least ID (--server), whose appends print their id in --json;
  - a position no node has yet: 503, the node says it lags;
  - the lag metric of every stream returns to 0 on both nodes;
  - `hourbank audit` is ok on the cluster, and each node's balance of every client equals a
    fresh fold from the cluster (`hourbank balance --log nats://…`);
  - `hourbank audit --store` of node A's store while A runs is ok; after both nodes stop, it is
    ok on each node's store, names the ledger and both partitions, and its per-client digests
    and chain head equal the cluster's audit; a missing or non-store path is one error line;
and prints the longest time no writer got an acknowledgement. Bounded: about 20 s of writing;
every call has a timeout.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nats_cluster_test as nc  # noqa: E402  (same argv: HOURBANK SOURCE_DIR NATS_SERVER)
import server_concurrency_test as sc  # noqa: E402  (its HTTP call helper)

check = nc.check
LOAD_BEFORE_S = 3.0     # writing before the leader kill
LEADER_DOWN_S = 3.0     # writing while the leader is down
NODE_DOWN_S = 2.0       # writing while a serve node is down
AFTER_S = 2.0           # writing after both came back


class Node:
    """One `hourbank serve --store` process on a fixed free loopback port (kept over restarts)."""

    def __init__(self, tmp, name, url):
        self.name, self.url = name, url
        self.port = nc.free_ports(1)[0]
        self.store = os.path.join(tmp, f"{name}-store")
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.proc = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        """Starts the node; a node that exits because the cluster did not answer in time (a
        leader election) is started again, as a supervisor would, for at most 60 s."""
        deadline = time.monotonic() + 60
        while not self.try_start():
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=30)
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name} did not start in 60 s; log: {self.last_log()}")
            print(f"{self.name} exited at start ({self.last_log().strip()}); starting it again", flush=True)
            time.sleep(0.5)

    def try_start(self):
        log = open(self.log_path, "a")
        log.write("--- start\n")
        log.flush()
        self.proc = subprocess.Popen(
            [nc.HB, "--log", self.url, "--ledger-name", "books", "serve", "--listen", f"127.0.0.1:{self.port}",
             "--store", self.store], stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = [""]
        reader = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        return line[0].startswith("listening on ")

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def last_log(self):
        with open(self.log_path) as f:
            return f.read().split("--- start\n")[-1]

    def call(self, method, path, token, body=None):
        try:
            return sc.call(self.base, method, path, token, body)
        except OSError as e:  # the node is down (killed on purpose)
            return 0, str(e)

    def lags(self, token):
        """{stream: lag in messages} from /metrics, or None when it cannot be read."""
        req = urllib.request.Request(self.base + "/metrics", headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read().decode()
        except OSError:
            return None
        return {m[0]: int(m[1]) for m in re.findall(r'hourbank_follow_lag_messages\{stream="([^"]+)"\} (\d+)', text)}

    def wait_caught_up(self, token, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            lags = self.lags(token)
            if lags and all(v == 0 for v in lags.values()):
                return lags
            time.sleep(0.1)
        return self.lags(token)


class Writer(nc.Writer):
    """POSTs work for one client through both nodes in turn until told to stop; each append is
    retried with its key (through the other node next) until acknowledged."""

    def __init__(self, nodes, token, w, stop):
        super().__init__(None, w, stop)
        self.nodes, self.token = nodes, token

    def attempt(self, key, tries):
        node = self.nodes[(int(key.split("-")[1]) + self.w + tries) % 2]
        st, body = node.call("POST", f"/v1/clients/c{self.w}/work", self.token,
                             {"kind": "support", "minutes": 1, "task": key, "key": key, "at": "2026-06-10T12:00"})
        return body["id"] if st == 200 and isinstance(body, dict) else None


def events_of(node, token, client):
    out, after = [], 0
    for _ in range(1000):  # bounded
        st, page = node.call("GET", f"/v1/clients/{client}/events?after_seq={after}", token)
        if st != 200:
            check(False, f"{node.name}: GET events of {client}: {st} {page}")
            return out
        out += page["events"]
        after = page["next_after_seq"]
        if not page["more"]:
            break
    return out


def check_appends(nodes, token, writers):
    for node in nodes:
        for w in writers:
            mine = [e for e in events_of(node, token, f"c{w.w}")
                    if e["type"] == "work_logged" and e.get("task", "").startswith("w")]
            tasks = [e["task"] for e in mine]
            acked = [k for (k, _, _) in w.acked]
            check(len(tasks) == len(set(tasks)), f"{node.name} c{w.w}: no append twice ({len(tasks)} entries)")
            check(tasks[:len(acked)] == acked and len(tasks) - len(acked) in (0, 1),
                  f"{node.name} c{w.w}: the {len(acked)} acknowledged appends, in order, each once")
            ids = {e["seq"] for e in mine}
            check(all(i in ids for (_, i, _) in w.acked), f"{node.name} c{w.w}: each acknowledged id names its entry")


def key_race(nodes, token):
    """One key, the same body, through both nodes at once: one entry, answered to both."""
    answers = [None, None]
    body = {"kind": "support", "minutes": 2, "task": "RACE", "key": "race-1", "at": "2026-06-11T12:00"}

    def post(i):
        answers[i] = nodes[i].call("POST", "/v1/clients/c0/work", token, body)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(all(a and a[0] == 200 for a in answers), f"both racers acknowledged ({[a and a[0] for a in answers]})")
    if all(a and a[0] == 200 for a in answers):
        check(answers[0][1]["id"] == answers[1][1]["id"], "both racers got the same entry")
        check(sorted(bool(a[1].get("replayed")) for a in answers) == [False, True], "exactly one racer wrote")
    for node in nodes:
        races = [e for e in events_of(node, token, "c0") if e.get("task") == "RACE"]
        check(len(races) == 1, f"{node.name}: the raced key wrote one entry ({len(races)})")


def read_your_writes(a, b, token):
    st, body = a.call("POST", "/v1/clients/c1/work", token,
                      {"kind": "support", "minutes": 3, "task": "RYW", "key": "ryw-1", "at": "2026-06-12T12:00"})
    check(st == 200, f"an append through {a.name} ({st})")
    if st != 200:
        return
    pos = body["id"]
    st, page = b.call("GET", f"/v1/clients/c1/events?after_seq={pos - 1}&at_least={pos}", token)
    seen = st == 200 and any(e["seq"] == pos and e.get("task") == "RYW" for e in page["events"])
    check(seen, f"{b.name} with at_least={pos} shows the append made through {a.name}")
    # A position of HB_books_0 far beyond its head: no node has it; the answer says so in time.
    far = (1_000_000 << 16)
    t0 = time.monotonic()
    st, err = b.call("GET", f"/v1/clients/c1/balance?at_least={far}&wait_ms=300", token)
    took = time.monotonic() - t0
    check(st == 503 and "lags" in str(err) and took < 5,
          f"a position not yet applied: 503 saying the node lags, after {took:.2f} s ({st} {err})")
    for bad in ("x", "18446744073709551616", "-1"):  # the last but one is 2^64
        st, err = b.call("GET", f"/v1/clients/c1/balance?at_least={bad}", token)
        check(st == 400, f"at_least={bad} is not a position: 400 ({st})")
    # The same wait asked with the header instead of the query.
    req = urllib.request.Request(b.base + "/v1/clients/c1/balance?wait_ms=200",
                                 headers={"Authorization": "Bearer " + token, "X-Hourbank-At-Least": str(far)})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    check(status == 503, f"X-Hourbank-At-Least beyond the head: 503 ({status})")
    req.add_header("X-Hourbank-At-Least", str(pos))
    with urllib.request.urlopen(req, timeout=30) as r:
        check(r.status == 200, f"X-Hourbank-At-Least={pos} (applied): 200 ({r.status})")
    cli_at_least(a, b, token, pos, far)


def cli_at_least(a, b, token, pos, far):
    """The CLI's --at-least (with --server) sends the header; an append through --server prints its
    position (`id`) in its JSON."""
    def cli(node, *args):
        return subprocess.run([nc.HB, "--server", node.base, "--token", token, *args], capture_output=True,
                              text=True, timeout=60)
    p = cli(a, "--json", "log", "c1", "4m", "--kind", "support", "--at", "2026-06-12T13:00", "--task", "RYW-CLI",
            "--key", "ryw-cli")
    j = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else {}
    check(isinstance(j.get("id"), int) and j["id"] > pos,
          f"an append through --server prints its position in its JSON ({p.stdout.strip()[:200]} {p.stderr.strip()})")
    new = j.get("id", pos)
    p = cli(b, "--json", "--at-least", str(new), "history", "c1")
    check(p.returncode == 0 and f'"seq":{new}' in p.stdout.replace(" ", "") and "RYW-CLI" in p.stdout,
          f"{b.name} read with --at-least {new} shows the append made through {a.name} ({p.stderr.strip()})")
    t0 = time.monotonic()
    p = cli(b, "--at-least", str(far), "balance", "c1")
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and "lags" in p.stderr and time.monotonic() - t0 < 20,
          f"--at-least beyond the head: one error line saying the node lags ({p.stderr.strip()})")
    p = subprocess.run([nc.HB, "--ledger", "/nonexistent", "--at-least", "5", "balance", "c1"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and "--at-least goes with --server" in p.stderr,
          f"--at-least without --server: one error line ({p.stderr.strip()})")
    p = cli(b, "--at-least", "x1", "balance", "c1")
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and "--at-least must be a position" in p.stderr,
          f"--at-least that is not a position: one error line ({p.stderr.strip()})")


def balances_match(nodes, token, url):
    for w in range(nc.WRITERS):
        p = nc.hb(url, "--json", "balance", f"c{w}", "--as-of", "2026-12-31")
        fresh = json.loads(p.stdout) if p.returncode == 0 else None
        for node in nodes:
            st, body = node.call("GET", f"/v1/clients/c{w}/balance?as_of=2026-12-31", token)
            check(fresh is not None and st == 200 and body == fresh,
                  f"{node.name} c{w}: the balance equals a fresh fold from the cluster")


def resumed(node):
    """The applied seqs the restarted node's log says it resumed from."""
    return [int(n) for n in re.findall(r"following HB_books_\d+ from applied seq (\d+)", node.last_log())]


def store_flag_refusals(url, tmp):
    """--store goes with a nats:// log, and only with one: one error line each, nothing started."""
    p = nc.hb(url, "serve", "--listen", "127.0.0.1:0", timeout=30)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and "needs --store" in p.stderr,
          f"serve on a cluster without --store: one error line ({p.stderr.strip()})")
    p = subprocess.run([nc.HB, "--ledger", os.path.join(tmp, "dir"), "serve", "--listen", "127.0.0.1:0",
                        "--store", os.path.join(tmp, "s")], capture_output=True, text=True, timeout=30)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and "--store is for a ledger on a NATS cluster" in p.stderr,
          f"serve on a directory with --store: one error line ({p.stderr.strip()})")


def run(cluster, tmp, nodes):
    url = cluster.url()
    store_flag_refusals(url, tmp)
    nc.make_ledger(url)
    token = json.loads(nc.must(url, "--json", "token", "issue", "writer", "--role", "admin").stdout)["token"]
    nodes += [Node(tmp, "A", url), Node(tmp, "B", url)]
    for node in nodes:
        node.start()
        lags = node.wait_caught_up(token)
        check(lags is not None and len(lags) == 2 and all(v == 0 for v in lags.values()),
              f"{node.name} caught up with both streams at start ({lags})")
    stop = threading.Event()
    stop.deadline = float("inf")
    writers = [Writer(nodes, token, w, stop) for w in range(nc.WRITERS)]
    start = time.monotonic()
    for w in writers:
        w.start()
    time.sleep(LOAD_BEFORE_S)
    victim, killed_at = nc.kill_leader(cluster, "HB_books_0", start)
    time.sleep(LEADER_DOWN_S)
    cluster.start(victim)
    nodes[1].kill9()
    print(f"killed serve node B with SIGKILL at {time.monotonic() - start:.1f} s", flush=True)
    time.sleep(NODE_DOWN_S)
    nodes[1].start()
    time.sleep(AFTER_S)
    nc.stop_writers(writers, stop, start, killed_at)
    from_seqs = resumed(nodes[1])
    check(len(from_seqs) == 2 and max(from_seqs) > 0,
          f"node B resumed from its store after the kill (applied seqs {from_seqs}), not from 0")
    key_race(nodes, token)
    read_your_writes(nodes[0], nodes[1], token)
    for node in nodes:
        lags = node.wait_caught_up(token)
        check(lags is not None and all(v == 0 for v in lags.values()), f"{node.name}: the lag returns to 0 ({lags})")
    check_appends(nodes, token, writers)
    p = nc.hb(url, "--json", "audit", timeout=120)
    j = json.loads(p.stdout) if p.stdout.strip() else {}
    check(p.returncode == 0 and j.get("ok") is True, f"audit ok on the cluster ({p.stderr.strip()})")
    balances_match(nodes, token, url)
    audit_stores(nodes, j, tmp)


def audit_store(node):
    p = subprocess.run([nc.HB, "--json", "audit", "--store", node.store], capture_output=True, text=True,
                       timeout=120)
    return p, (json.loads(p.stdout) if p.stdout.strip() else {})


def audit_stores(nodes, cluster_audit, tmp):
    """`audit --store` of each node's store equals the cluster's audit (issue 16)."""
    p, j = audit_store(nodes[0])  # while node A runs: a static view of its store
    check(p.returncode == 0 and j.get("ok") is True,
          f"audit --store of running node A's store is ok ({p.stderr.strip()} {j.get('problems')})")
    for node in nodes:
        node.stop()
    for node in nodes:
        p, j = audit_store(node)
        check(p.returncode == 0 and j.get("ok") is True,
              f"audit --store of {node.name}'s store is ok ({p.stderr.strip()} {j.get('problems')})")
        store = j.get("store", {})
        check(store.get("ledger") == "books" and store.get("partitions") == 2
              and sorted(store.get("applied_seqs", {})) == ["HB_books_0", "HB_books_1"],
              f"{node.name}: the store audit names the ledger and its partitions ({store})")
        check(j.get("client_digests") == cluster_audit.get("client_digests")
              and len(j.get("client_digests", {})) > 1,
              f"{node.name}: the store's per-client digests equal the cluster's "
              f"({len(j.get('client_digests', {}))} streams)")
        check(j.get("head_hash") == cluster_audit.get("head_hash")
              and j.get("events_checked") == cluster_audit.get("events_checked"),
              f"{node.name}: the store's chain head and event count equal the cluster's")
    p = subprocess.run([nc.HB, "audit", "--store", os.path.join(tmp, "no-such-store")], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and p.stderr.startswith("hourbank: error: "),
          f"audit --store of a missing path: one error line ({p.stderr.strip()})")
    p = subprocess.run([nc.HB, "audit", "--store", tmp], capture_output=True, text=True, timeout=30)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and "not a serve node's store" in p.stderr,
          f"audit --store of a directory that is not a store: one error line ({p.stderr.strip()})")


def main():
    tmp = nc.tempfile.mkdtemp(prefix="hourbank-nats-serve-")
    cluster = nc.Cluster(tmp)
    nodes = []
    try:
        for i in range(3):
            cluster.start(i)
        run(cluster, tmp, nodes)
        return 1 if nc.FAILS else 0
    finally:
        for node in nodes:
            node.stop()
        cluster.stop_all()
        nc.shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
