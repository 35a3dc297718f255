"""What the Python end-to-end scripts (tests/scenarios, tests/e2e) share: run the real binary on
a fresh ledger, record failed checks, and check that bad input is refused with one error line
and nothing written.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
    import hbtest as su
    su.HB = sys.argv[1]
    from hbtest import check, run, ok, events, refused
    tmp, env = su.ledger_env("hourbank-x-", "2026-02-20T10:00:00Z")
    ...
    su.finish("x e2e")
"""
import json
import os
import subprocess
import sys
import tempfile

HB = None          # the hourbank binary (set by the script from its argv)
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def run(env, *args):
    return subprocess.run([HB, *args], env=env, capture_output=True, text=True, timeout=60)


def ok(env, *args):
    p = run(env, *args)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def events(env):
    return json.loads(ok(env, "--json", "rebuild"))["events"]


def refused(env, args, needles, what):
    """args are refused: exit != 0, one `hourbank: error:` line naming each of needles (a string
    or a list), and the ledger has as many events as before."""
    before = events(env)
    p = run(env, *args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0, f"{what}: exits non-zero, got {p.returncode}")
    check(len(lines) == 1 and lines[0].startswith("hourbank: error: "), f"{what}: one error line, got {p.stderr!r}")
    for n in [needles] if isinstance(needles, str) else needles:
        check(n in p.stderr, f"{what}: says {n!r}, got {p.stderr!r}")
    check(events(env) == before, f"{what}: nothing written")


def ledger_env(prefix, now):
    """A temporary directory and the environment of a ledger in it, the clock fixed at `now`."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    env = dict(os.environ, HOURBANK_LEDGER=os.path.join(tmp, "ledger"), HOURBANK_NOW=now, USER="tester")
    env.pop("HOURBANK_SERVER", None)
    env.pop("HOURBANK_TOKEN", None)
    return tmp, env


def finish(name):
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        sys.exit(1)
    print(f"{name}: ok")
