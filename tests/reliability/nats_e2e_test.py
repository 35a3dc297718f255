#!/usr/bin/env python3
"""The CLI scenario tests (tests/e2e/cli_test.py) on a ledger on a NATS JetStream server.

Usage: nats_e2e_test.py PATH/TO/hourbank SOURCE_DIR PATH/TO/nats-server

Starts one nats-server with JetStream (file store in a temp dir) on a free loopback port, runs
the named cli_test.py cases with HB_TEST_NATS_URL set (each case makes its own ledger on the
server with `hourbank --log nats://… --ledger-name …`), and stops the server. The same cases
run on ledger directories in the e2e_cli test, so the figures are checked on both backends.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

from nats_util import start_server

if len(sys.argv) != 4:
    sys.exit("usage: nats_e2e_test.py PATH/TO/hourbank SOURCE_DIR PATH/TO/nats-server")
HB, SRC, NATS = (os.path.abspath(a) for a in sys.argv[1:4])

# The tariff worked examples and the write paths they use: logging, buying, closing, paying,
# idempotent retries and conflicts, refusals that must write nothing.
CASES = [
    "test_plan_define_list_show",
    "test_client_add_list",
    "test_contract_start_units_end",
    "test_log_hour_work_flags",
    "test_buy_hours_and_addon",
    "test_pay_adjust_close_outstanding",
    "test_close_all_through",
    "test_tariffs_1c_start_worked_example",
    "test_tariffs_altercpa_basic_898",
    "test_locked_month_needs_late",
    "test_refuse_close_early_or_out_of_order",
    "test_idempotency_keys",
]


def server_syncs_on_timer():
    """Whether the nats-server under test is older than 2.10 (no `sync_interval: always`)."""
    out = subprocess.run([NATS, "--version"], capture_output=True, text=True, timeout=30).stdout
    major, minor = (int(x) for x in re.search(r"v?(\d+)\.(\d+)", out).groups())
    return (major, minor) < (2, 10)


def check_sync_warning(url, tmp):
    """`hourbank init` and `hourbank serve` on a cluster ledger warn on stderr, once, when the
    server syncs to disk on a timer (the installed 2.9), with the configuration line for newer
    servers; other commands do not."""
    want = server_syncs_on_timer()
    hb = [HB, "--log", url, "--ledger-name", "warned"]
    ok = True
    p = subprocess.run([*hb, "init"], capture_output=True, text=True, timeout=60)
    warned = [l for l in p.stderr.splitlines() if "sync_interval: always" in l]
    print(f"init stderr: {p.stderr.strip()!r}")
    ok &= p.returncode == 0 and len(warned) == (1 if want else 0)
    ok &= (not want) or warned[0].startswith("hourbank: warning: nats-server ")
    p = subprocess.run([*hb, "client", "list"], capture_output=True, text=True, timeout=60)
    ok &= p.returncode == 0 and "sync_interval" not in p.stderr
    serve = subprocess.Popen([*hb, "serve", "--listen", "127.0.0.1:0", "--store", os.path.join(tmp, "store")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(60, serve.kill)  # bounded: a serve that never listens is killed
    killer.start()
    try:
        line = serve.stdout.readline()  # "listening on …": the warning came before it
        ok &= line.startswith("listening on")
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=30)
        killer.cancel()
    print(f"serve stderr: {err.strip()!r}")
    warned = [l for l in err.splitlines() if "sync_interval: always" in l]
    ok &= len(warned) == (1 if want else 0)
    print(("ok   " if ok else "FAIL ") + f"sync warning at init and serve (server before 2.10: {want})")
    return ok


def main():
    tmp = tempfile.mkdtemp(prefix="hourbank-nats-e2e-")
    server, url = start_server(NATS, tmp)
    try:
        if url is None:
            print("nats-server did not start")
            return 1
        if not check_sync_warning(url, tmp):
            return 1
        env = dict(os.environ)
        env["HB_TEST_NATS_URL"] = url
        env["CLI_TEST_ONLY"] = ",".join(CASES)
        p = subprocess.run([sys.executable, os.path.join(SRC, "tests", "e2e", "cli_test.py"), HB, SRC], env=env,
                           timeout=600)
        if p.returncode != 0:
            return p.returncode
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
