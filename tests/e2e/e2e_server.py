"""`hourbank serve` for the end-to-end scripts: started on a free loopback port, stopped with SIGTERM.

Usage: srv = Server(HB, ENV) … srv.url … call(srv, "GET", path, token) … srv.stop(). The scripts in tests/e2e import it (python
puts a script's own directory first on sys.path).
"""
import json
import signal
import subprocess
import threading
import urllib.error
import urllib.request


class Server:
    def __init__(self, hb, env, args=()):
        self.proc = subprocess.Popen([hb, "serve", "--listen", "127.0.0.1:0", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = [None]

        def read():
            line[0] = self.proc.stdout.readline()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(20)
        if not line[0] or not line[0].startswith("listening on "):
            self.proc.kill()
            raise SystemExit(f"server did not start: {line[0]!r} {self.proc.stderr.read()}")
        self.url = "http://" + line[0].split()[2]

    def stop(self):
        """SIGTERM, then the exit code; a server that does not stop within 30 s is killed and fails."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("server did not stop within 30 s of SIGTERM")


def call(target, method, path, token=None, body=None, raw=None, timeout=30):
    """One HTTP request to `target` (a Server or a base URL): `body` is sent as JSON, `raw` as
    bytes. Returns (status, the answer: decoded JSON when the server says it is JSON, else text).
    An error status is returned, not raised; its body is JSON (the server's error shape)."""
    base = target if isinstance(target, str) else target.url
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            is_json = r.headers.get("Content-Type", "").startswith("application/json")
            return r.status, (json.loads(text) if is_json else text)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")
