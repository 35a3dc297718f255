#!/usr/bin/env python3
"""Hostile clients against `hourbank serve` (issue 14, docs/guarantees.md "Hostile clients").

Each attack class runs a bounded loop against a real server (loopback, port 0, a temporary
ledger) and then checks that the server still answers GET /healthz and an authenticated
GET /v1/clients/acme/balance (and, where RPC is involved, an authenticated RPC balance), and
that its resident memory stayed bounded. The server runs with a lowered descriptor limit
(RLIMIT_NOFILE 256, set in the child before exec) and short timeouts (--read-timeout 2,
--auth-timeout 2), so the classes finish in seconds. No check depends on timing for its
outcome: waits are generous upper bounds for things that must happen.

Classes: slow HTTP bodies (300), slow HTTP headers (300), RPC connection flood without a token
(2 000), descriptors run out (a second server whose connection limits exceed its descriptor
limit: EMFILE), idle unauthenticated RPC connections closed, oversized RPC frames before
authentication (60 MiB announced, x10), deep JSON (100 000 levels), invalid UTF-8 in path,
query and RPC arguments, HTTP framing (two Content-Length, unknown Transfer-Encoding, chunked
body over 1 MiB, 200 KB URL, Connection: close, HEAD /healthz, lower-case bearer), a revoked
token's RPC subscription ends, and TLS (HTTPS with a self-signed certificate made by openssl,
the CLI verifying it with --cacert, plain HTTP refused on a non-loopback address).

Usage: hostile_server_test.py HOURBANK E2E_RPC_CLIENT SOURCE_DIR
"""
import json
import os
import resource
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HB, RPC_CLIENT, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="hourbank-hostile-")
ENV = dict(os.environ, HOURBANK_LEDGER=os.path.join(TMP, "ledger"), HOURBANK_NOW="2025-06-01T00:00:00Z", USER="tester")
for k in ("HOURBANK_SERVER", "HOURBANK_TOKEN", "HOURBANK_CACERT"):
    ENV.pop(k, None)
FAILURES = []
RSS_GROWTH_MAX_KB = 200 * 1024  # resident memory may grow at most this much over a class


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def hb(*args, check_rc=True):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=60)
    if check_rc and p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def raise_own_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Server:
    def __init__(self, args, nofile=256, env=None):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([HB, "serve", *args], env=env or ENV, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, preexec_fn=limit)
        self.lines = []
        want = 2 if "--rpc-listen" in args else 1
        t = threading.Thread(target=lambda: [self.lines.append(self.proc.stdout.readline()) for _ in range(want)],
                             daemon=True)
        t.start()
        t.join(20)
        if len(self.lines) < want or not self.lines[0].startswith("listening on "):
            self.proc.kill()
            raise SystemExit(f"server did not start: {self.lines!r} {self.proc.stderr.read()}")
        self.addr = self.lines[0].split()[2]
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)
        self.rpc = self.lines[1].split()[3] if want == 2 else None
        self.rpc_port = int(self.rpc.rsplit(":", 1)[1]) if self.rpc else None
        # stderr is drained so a chatty server never blocks on a full pipe.
        self.err = []
        threading.Thread(target=lambda: [self.err.append(l) for l in self.proc.stderr], daemon=True).start()

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http(server, method, path, token=None, body=None, timeout=10, scheme="http", context=None, host=None):
    req = urllib.request.Request(f"{scheme}://{host or server.addr}{path}", data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError) as e:
        return 0, str(e).encode()


def raw(server, data, timeout=10, read=True):
    """Sends raw bytes and returns (status, headers, body) of the answer (0 if none)."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return 0, b"", b""
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                head, sep, rest = got.partition(b"\r\n\r\n")
                if sep:
                    lengths = [int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length:")]
                    if lengths and len(rest) >= lengths[0]:
                        break
        except OSError:
            pass
    head, _, body = got.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, head, body


def healthy(server, token, what, rpc=True):
    st, body = http(server, "GET", "/healthz")
    check(st == 200, f"{what}: /healthz answers 200 (got {st})")
    st, body = http(server, "GET", "/v1/clients/acme/balance", token)
    check(st == 200 and b"acme" in body, f"{what}: an authenticated balance answers 200 (got {st} {body[:120]!r})")
    if rpc and server.rpc:
        p = subprocess.run([RPC_CLIENT, server.rpc, token, "balance", "acme"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and '"acme"' in p.stdout,
              f"{what}: an authenticated RPC balance answers (rc {p.returncode} {p.stderr.strip()[:160]})")
    check(server.alive(), f"{what}: the server is still running")


def json_error(body):
    try:
        obj = json.loads(body)
        return isinstance(obj, dict) and isinstance(obj.get("error"), str)
    except ValueError:
        return False


def timed(name, fn, server, token, rpc=True):
    rss0 = server.rss_kb()
    t0 = time.monotonic()
    fn()
    healthy(server, token, name, rpc)
    grew = server.rss_kb() - rss0
    check(grew < RSS_GROWTH_MAX_KB, f"{name}: resident memory grew {grew} KiB (< {RSS_GROWTH_MAX_KB})")
    print(f"      {name}: {time.monotonic() - t0:.1f} s", flush=True)


def main():
    raise_own_fd_limit()
    plan = os.path.join(SRC, "examples", "plans", "1c-start.toml")
    hb("init")
    hb("plan", "define", plan)
    hb("client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow")
    hb("contract", "start", "acme", "--plan", "1c-start", "--from", "2025-01", "--months", "12")
    admin = json.loads(hb("--json", "token", "issue", "hostile-admin", "--role", "admin").stdout)["token"]
    auditor = json.loads(hb("--json", "token", "issue", "watcher", "--role", "auditor").stdout)["token"]

    server = Server(["--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0", "--read-timeout", "2",
                     "--auth-timeout", "2"])
    try:
        run_classes(server, admin, auditor)
    finally:
        server.stop()
    check(server.proc.returncode == 0, f"the server stopped cleanly on SIGTERM (exit {server.proc.returncode})")
    emfile_class(admin)
    tls_class(admin)


def run_classes(server, admin, auditor):
    healthy(server, admin, "baseline")

    # ---- slow HTTP bodies: headers and part of a body, then nothing.
    def slow_bodies():
        socks = []
        for i in range(300):
            s = socket.create_connection((server.host, server.port), timeout=10)
            s.sendall(b"POST /v1/clients/acme/work HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"kind\":")
            socks.append(s)
        healthy(server, admin, "while 300 slow-body connections are open", rpc=False)
        # A slow body is answered 408 (or closed) once the read timeout (2 s) passed.
        s = socks[-1]
        s.settimeout(15)
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        check(data == b"" or b" 408 " in data.split(b"\r\n")[0],
              f"a slow body is cut off after the read timeout ({data[:40]!r})")
        for s in socks:
            s.close()
    timed("slow HTTP bodies (300)", slow_bodies, server, admin)

    # ---- slow HTTP headers.
    def slow_headers():
        socks = []
        for i in range(300):
            s = socket.create_connection((server.host, server.port), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        healthy(server, admin, "while 300 slow-header connections are open", rpc=False)
        for s in socks:
            s.close()
    timed("slow HTTP headers (300)", slow_headers, server, admin)

    # ---- RPC connection flood without a token.
    def rpc_flood():
        socks = []
        for i in range(2000):
            try:
                socks.append(socket.create_connection(("127.0.0.1", server.rpc_port), timeout=5))
            except OSError:
                pass
        check(len(socks) >= 1000, f"the flood opened {len(socks)} RPC connections")
        healthy(server, admin, "while 2000 idle RPC connections were opened")
        for s in socks:
            s.close()
    timed("RPC connection flood (2000, RLIMIT_NOFILE 256)", rpc_flood, server, admin)

    # ---- idle unauthenticated RPC connections are closed after --auth-timeout (2 s).
    def idle_rpc():
        s = socket.create_connection(("127.0.0.1", server.rpc_port), timeout=15)
        t0 = time.monotonic()
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        check(data == b"", f"an idle unauthenticated RPC connection is closed ({time.monotonic() - t0:.1f} s)")
        s.close()
    timed("idle unauthenticated RPC", idle_rpc, server, admin)

    # ---- oversized RPC frames before authentication: 60 MiB announced, all but 8 bytes not sent.
    def rpc_frames():
        socks = []
        closed = 0
        for i in range(10):
            s = socket.create_connection(("127.0.0.1", server.rpc_port), timeout=10)
            s.sendall(struct.pack("<II", 0, (60 << 20) // 8))
            try:
                for _ in range(16):
                    s.sendall(b"\0" * 65536)
            except OSError:
                pass
            socks.append(s)
        for s in socks:
            try:
                s.settimeout(10)
                data = s.recv(4096)
                closed += data == b""
            except OSError:
                closed += 1
            s.close()
        check(closed == 10, f"every connection announcing a 60 MiB message was closed ({closed}/10)")
    timed("oversized RPC frames (10 x 60 MiB)", rpc_frames, server, admin)

    # ---- deep JSON: an unknown field nested 100 000 levels in a work body.
    def deep_json():
        body = b'{"kind":"development","minutes":10,"x":' + b"[" * 100000 + b"]" * 100000 + b"}"
        st, out = http(server, "POST", "/v1/clients/acme/work", admin, body)
        check(st == 400 and json_error(out), f"deep JSON gets 400 ({st} {out[:100]!r})")
        st, out = http(server, "POST", "/v1/clients/acme/work", admin,
                       json.dumps({"kind": "development", "minutes": 10, "urgnet": True, "at": "2025-05-20T10:00"}).encode())
        check(st == 400 and b"urgnet" in out, f"an unknown field is refused, naming it ({st} {out[:160]!r})")
    timed("deep JSON", deep_json, server, admin)

    # ---- invalid UTF-8 in path segments, query values and RPC arguments.
    def bad_utf8():
        for path in ["/v1/clients/%FF/balance", "/v1/clients/acme/invoices/%FF", "/v1/clients/acme/balance?as_of=%FF",
                     "/v1/clients/acme/balance?known_at=%C3%28", "/v1/clients/acme/burned?from=%FF",
                     "/v1/clients/acme/events?known_at=%ED%A0%80", "/v1/clients/%F0%28%8C%BC/report/2025-01"]:
            st, out = http(server, "GET", path, admin)
            check(st == 400 and json_error(out) and b"\xff" not in out, f"GET {path} gets 400 ({st} {out[:100]!r})")
        st, out = http(server, "POST", "/v1/tokens/%FF/revoke", admin, b"{}")
        check(st == 400 and json_error(out), f"revoke of a non-UTF-8 name gets 400 ({st})")
        p = subprocess.run([RPC_CLIENT.encode(), server.rpc.encode(), admin.encode(), b"balance", b"\xff"],
                           capture_output=True, timeout=30)
        check(p.returncode == 1 and b"UTF-8" in p.stderr, f"RPC balance of a 0xFF client is an RPC error ({p.stderr[:160]!r})")
        p = subprocess.run([RPC_CLIENT.encode(), server.rpc.encode(), admin.encode(), b"events", b"\xff", b"0", b"10"],
                           capture_output=True, timeout=30)
        check(p.returncode == 1, f"RPC events of a 0xFF client is an RPC error ({p.stderr[:160]!r})")
    timed("invalid UTF-8", bad_utf8, server, admin)

    # ---- HTTP framing.
    def framing():
        auth = b"Authorization: Bearer " + admin.encode() + b"\r\n"
        st, _, body = raw(server, b"POST /v1/clients/acme/work HTTP/1.1\r\nHost: x\r\n" + auth +
                          b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
        check(st == 400 and json_error(body) and b"0x" not in body and b".c++" not in body,
              f"two Content-Length headers: 400 without internals ({st} {body[:120]!r})")
        st, _, body = raw(server, b"POST /v1/clients/acme/work HTTP/1.1\r\nHost: x\r\n" + auth +
                          b"Transfer-Encoding: gzip\r\n\r\n{}")
        check(st == 400 and json_error(body) and b".c++" not in body,
              f"unknown Transfer-Encoding: 400 without internals ({st} {body[:120]!r})")
        chunk = b"x" * 65536
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"
        st, _, body = raw(server, b"POST /v1/clients/acme/work HTTP/1.1\r\nHost: x\r\n" + auth +
                          b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
        check(st == 413 and json_error(body), f"a chunked body over 1 MiB: 413 ({st})")
        st, _, body = raw(server, b"GET /v1/clients/acme/balance?x=" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check(st == 414 and json_error(body), f"a 200 KB URL: 414 ({st})")
        st, _, body = raw(server, b"GET /v1/clients/acme/balance?x=" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check(st == 414 and json_error(body), f"a 10 KB URL: 414 ({st})")
        # Connection: close: the server closes right after the answer (recv sees EOF, well
        # before the 5 s keep-alive would have run out).
        with socket.create_connection((server.host, server.port), timeout=30) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            t0 = time.monotonic()
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            # (kj-http's keep-alive is 5 s: without the fix EOF came only then.)
            check(got.startswith(b"HTTP/1.1 200") and b"connection: close" in got.lower() and time.monotonic() - t0 < 4.5,
                  f"Connection: close is honoured ({time.monotonic() - t0:.1f} s)")
        st, head, body = raw(server, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(st == 200, f"HEAD /healthz without a token: 200 ({st})")
        for scheme in (b"bearer", b"BEARER", b"Bearer  "):
            st, _, body = raw(server, b"GET /v1/clients/acme/balance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                              b"Authorization: " + scheme + b" " + admin.encode() + b"\r\n\r\n")
            check(st == 200, f"the scheme {scheme!r} is accepted ({st})")
        st, _, body = raw(server, b"GET /v1/clients/acme/balance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          b"Authorization: Bearerx " + admin.encode() + b"\r\n\r\n")
        check(st == 401, f"'Bearerx' is not the bearer scheme ({st})")
        st, out = http(server, "GET", "/v1/clients/nobody/balance", admin)
        check(TMP.encode() not in out and b"/ledger" not in out, f"errors never show file paths ({out[:120]!r})")
    timed("HTTP framing", framing, server, admin)

    # ---- a revoked token's subscription ends (and its connection with it).
    def revoked_subscription():
        st, out = http(server, "GET", "/healthz")
        head = json.loads(out)["head_seq"]
        w = subprocess.Popen([RPC_CLIENT, server.rpc, auditor, "watch", "0", "20"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        check(w.stdout.readline().strip() == "subscribed", "the auditor subscribes")
        st, _ = http(server, "POST", "/v1/clients/acme/work", admin,
                     json.dumps({"kind": "development", "minutes": 10, "at": "2025-05-20T10:00"}).encode())
        check(st == 200, "an append before the revocation")
        # Wait until the watcher has been sent that append (delivery is asynchronous: a
        # revocation right away may end the subscription before anything was sent).
        early = []
        while True:
            line = w.stdout.readline()
            if not line:
                break
            early.append(line)
            if line[0].isdigit() and int(line.split()[0]) > head:
                break
        st, out = http(server, "POST", "/v1/tokens/watcher/revoke", admin, b"{}")
        check(st == 200, f"the auditor's token is revoked ({st} {out[:80]!r})")
        st, out = http(server, "GET", "/healthz")
        revoked_at = json.loads(out)["head_seq"]
        st, _ = http(server, "POST", "/v1/clients/acme/work", admin,
                     json.dumps({"kind": "development", "minutes": 11, "at": "2025-05-20T11:00"}).encode())
        check(st == 200, "an append after the revocation")
        try:
            out, err = w.communicate(timeout=25)
        except subprocess.TimeoutExpired:
            w.kill()
            out, err = w.communicate()
        out = "".join(early) + out
        seqs = [int(l.split()[0]) for l in out.splitlines() if l and l[0].isdigit()]
        check(w.returncode == 3 and "disconnected" in out,
              f"the subscription's connection ended after the revocation (rc {w.returncode})")
        check(seqs and max(seqs) < revoked_at and max(seqs) >= head,
              f"no event at or after the revocation (seq {revoked_at}) was sent (last {max(seqs) if seqs else None})")
    timed("revoked subscription", revoked_subscription, server, admin)


def emfile_class(admin):
    # Connection limits far above the descriptor limit: accept itself fails with EMFILE; the
    # server sheds idle connections, keeps both listeners and never aborts.
    env = dict(ENV, HOURBANK_SERVE_CONNECTIONS_MAX="100000")
    server = Server(["--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0", "--auth-timeout", "30"], nofile=128, env=env)
    try:
        def flood():
            socks = []
            for i in range(600):
                port = server.port if i % 2 else server.rpc_port
                try:
                    socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                except OSError:
                    pass
            time.sleep(0.5)
            healthy(server, admin, "after descriptors ran out (EMFILE)")
            for s in socks:
                s.close()
        timed("descriptors run out (EMFILE, RLIMIT_NOFILE 128)", flood, server, admin)
        check(any("accept failed" in l for l in server.err), "the server noticed the failed accepts (stderr)")
    finally:
        server.stop()


def tls_class(admin):
    if not shutil.which("openssl"):
        check(False, "openssl is installed (tools/setup.sh)")
        return
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"], capture_output=True, text=True)
    if p.returncode != 0:
        check(False, f"openssl made a self-signed certificate: {p.stderr[-300:]}")
        return
    p = hb("serve", "--listen", "0.0.0.0:0", check_rc=False)
    check(p.returncode != 0 and "--tls-cert" in p.stderr and p.stderr.count("\n") == 1,
          f"plain HTTP on a non-loopback address is refused ({p.stderr.strip()[:160]})")
    server = Server(["--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
    try:
        ctx = ssl.create_default_context(cafile=cert)
        st, out = http(server, "GET", "/v1/clients/acme/balance", admin, scheme="https", context=ctx,
                       host=f"localhost:{server.port}")
        check(st == 200 and b"acme" in out, f"HTTPS with the self-signed certificate ({st} {out[:80]!r})")
        st, out = http(server, "GET", "/healthz", scheme="http")
        check(st != 200, "plain HTTP to the TLS port gets no answer")
        # KJ's TLS checks DNS names only: the CLI connects by name, and refuses an IP address
        # with one line that says to use the name.
        url = f"https://localhost:{server.port}"
        p = subprocess.run([HB, "--server", f"https://{server.addr}", "--token", admin, "--cacert", cert, "balance", "acme"],
                           env=ENV, capture_output=True, text=True, timeout=30)
        check(p.returncode != 0 and "DNS name" in p.stderr and p.stderr.count("\n") == 1,
              f"an https IP address is refused with one line ({p.stderr.strip()[:160]})")
        p = subprocess.run([HB, "--server", url, "--token", admin, "--cacert", cert, "--json", "balance", "acme"],
                           env=ENV, capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and '"acme"' in p.stdout, f"the CLI over HTTPS with --cacert ({p.stderr.strip()[:160]})")
        p = subprocess.run([HB, "--server", url, "--token", admin, "balance", "acme"], env=ENV, capture_output=True,
                           text=True, timeout=30)
        check(p.returncode != 0 and "certificate" in p.stderr,
              f"the CLI refuses an unverified certificate ({p.stderr.strip()[:160]})")
        p = subprocess.run([HB, "--server", f"https://localhost:{server.port}", "--token", admin, "--cacert", cert,
                            "--json", "balance", "acme"], env=ENV, capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, f"the CLI checks the name 'localhost' against the certificate ({p.stderr.strip()[:160]})")
        # RPC over TLS: an authenticated balance through the TLS-wrapped port (the test client
        # verifies the certificate); a plain Cap'n Proto client gets nothing.
        p = subprocess.run([RPC_CLIENT, server.rpc, admin, "balance", "acme"], capture_output=True, text=True,
                           timeout=30, env=dict(os.environ, E2E_RPC_CACERT=cert))
        check(p.returncode == 0 and '"acme"' in p.stdout, f"RPC balance over TLS ({p.stderr.strip()[:160]})")
        p = subprocess.run([RPC_CLIENT, server.rpc, admin, "balance", "acme"], capture_output=True, text=True, timeout=30)
        check(p.returncode != 0, "a plain RPC client gets no answer from the TLS port")
        # The RPC port speaks TLS: a handshake with the certificate succeeds.
        with socket.create_connection(("127.0.0.1", server.rpc_port), timeout=10) as s:
            try:
                with ctx.wrap_socket(s, server_hostname="localhost") as t:
                    check(t.version() is not None, f"the RPC port is TLS-wrapped ({t.version()})")
            except (ssl.SSLError, OSError) as e:
                check(False, f"the RPC port is TLS-wrapped ({e})")
    finally:
        server.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"hostile server: {len(FAILURES)} failed", flush=True)
    sys.exit(1 if FAILURES else 0)
