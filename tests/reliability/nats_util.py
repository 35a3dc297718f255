"""Shared by the NATS tests in this directory: free loopback ports and one JetStream nats-server."""
import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(nats, tmp):
    """Starts nats-server with JetStream (file store under `tmp`) on a free loopback port.
    Returns (process, url) once the port accepts connections, (process, None) if it did not
    within 10 s. The caller stops the process."""
    port = free_port()
    proc = subprocess.Popen([nats, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", os.path.join(tmp, "js"),
                             "-l", os.path.join(tmp, "server.log")])
    for _ in range(200):  # bounded
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"nats://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    return proc, None
