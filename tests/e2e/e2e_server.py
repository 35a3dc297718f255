"""`hourbank serve` for the end-to-end scripts: started on a free loopback port, stopped with SIGTERM.

Usage: srv = Server(HB, ENV) … srv.url … srv.stop(). The scripts in tests/e2e import it (python
puts a script's own directory first on sys.path).
"""
import signal
import subprocess
import threading


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
