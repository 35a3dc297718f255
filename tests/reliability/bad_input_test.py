#!/usr/bin/env python3
"""Bad input table: each row is a command line the real `hourbank` binary must refuse.

What it checks, per row: the process exits non-zero (and was not killed by a signal), stderr
is exactly one line and it starts with `hourbank: error:`, and the ledger holds the same
events as before (`hourbank rebuild --json` "events", plus a byte-for-byte comparison of
`history --json` for every client). A row that passes these is a clear refusal that wrote
nothing (DESIGN.md section 6).

Usage: bad_input_test.py HOURBANK_BINARY SOURCE_DIR [-v]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

NOW = "2025-06-01T00:00:00Z"  # every case runs at this "now" (HOURBANK_NOW)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    verbose = "-v" in sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="hourbank-bad-input-")
    try:
        return run(binary, src, tmp, verbose)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(binary, src, tmp, verbose):
    ledger = os.path.join(tmp, "ledger")
    env = dict(os.environ, HOURBANK_LEDGER=ledger, HOURBANK_NOW=NOW, USER="tester")
    env.pop("HOURBANK_SERVER", None)
    env.pop("HOURBANK_TOKEN", None)

    def hb(*args, check=False):
        argv = [binary] + [a if isinstance(a, bytes) else str(a) for a in args]
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if check and p.returncode != 0:
            raise SystemExit("setup failed: %r: %s" % (args, p.stderr.decode(errors="replace")))
        return p

    plan = os.path.join(src, "examples", "plans", "1c-start.toml")
    hb("init", check=True)
    hb("plan", "define", plan, check=True)
    hb("client", "add", "acme", "--name", "Acme", "--currency", "RUB", "--timezone", "Europe/Moscow", check=True)
    hb("client", "add", "bare", "--name", "Bare", "--currency", "RUB", "--timezone", "Europe/Moscow", check=True)
    hb("contract", "start", "acme", "--plan", "1c-start", "--from", "2025-01", "--months", "4", check=True)
    hb("log", "acme", "1h", "--kind", "development", "--task", "T1", "--at", "2025-01-10T10:00", check=True)
    hb("close", "acme", "2025-01", check=True)
    hb("log", "acme", "30m", "--kind", "development", "--task", "T2", "--at", "2025-02-10T10:00", check=True)

    # Plan files for the plan-loader rows.
    files = {}

    def plan_file(name, content):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        files[name] = path
        return path

    good_head = '[[plan]]\nid = "p1"\ncurrency = "RUB"\n'
    plan_file("malformed.toml", "[[plan]\nid = \"x\"\n")
    plan_file("float.toml", good_head + "fee_minor = 1000.5\n")
    plan_file("unknown-key.toml", good_head + "free_money = 1\n")
    plan_file("bad-currency.toml", '[[plan]]\nid = "p1"\ncurrency = "rubles"\n')
    plan_file("negative.toml", good_head + "fee_minor = -5\n")
    plan_file("bad-id.toml", '[[plan]]\nid = "P 1; DROP TABLE plans"\ncurrency = "RUB"\n')
    plan_file("dup.toml", good_head + good_head)
    plan_file("empty.toml", "")
    plan_file("binary.toml", bytes(range(256)) * 4)
    plan_file("bad-utf8.toml", b'[[plan]]\nid = "p1"\ncurrency = "RUB"\nname = "\xff\xfe"\n')
    plan_file("no-currency.toml", '[[plan]]\nid = "p1"\n')
    plan_file("carry-no-cap.toml", good_head + 'rollover = "carry"\nincluded_minutes = 60\n')
    plan_file("wrong-type.toml", good_head + 'included_minutes = "ten hours"\n')
    plan_file("bad-rollover.toml", good_head + 'rollover = "sometimes"\n')
    plan_file("bad-kind-unit.toml", good_head + '[[plan.kinds]]\nid = "dev"\nunit = "parsec"\n')

    big = "x" * 120000  # one argv string is at most 128 KiB (MAX_ARG_STRLEN)
    log = ["log", "acme"]
    dev = ["--kind", "development", "--at", "2025-02-12T10:00"]
    add = ["client", "add"]
    client_ok = ["--name", "N", "--currency", "RUB", "--timezone", "Europe/Moscow"]
    cases = [
        # durations
        ("duration zero", log + ["0m"] + dev),
        ("duration negative", log + ["-1h"] + dev),
        ("duration without unit", log + ["90"] + dev),
        ("duration fraction of a minute", log + ["1.01h"] + dev),
        ("duration words", log + ["an hour"] + dev),
        ("duration too long", log + ["10001h"] + dev),
        ("duration empty", log + [""] + dev),
        ("duration exponent", log + ["1e3m"] + dev),
        ("duration arabic-indic digits", log + ["\u0663h"] + dev),
        ("duration overflow", log + ["99999999999999999999999h"] + dev),
        # money
        ("money zero", ["pay", "acme", "0"]),
        ("money negative", ["pay", "acme", "-5"]),
        ("money too many decimals", ["pay", "acme", "1.234"]),
        ("money exponent", ["pay", "acme", "1e3"]),
        ("money comma", ["pay", "acme", "12,50"]),
        ("money overflow", ["pay", "acme", "99999999999999999999"]),
        ("money words", ["pay", "acme", "ten roubles"]),
        ("money shell injection", ["pay", "acme", "100; rm -rf /"]),
        ("block price malformed", ["buy", "acme", "--hours", "5h", "--price", "5k"]),
        ("block hours malformed", ["buy", "acme", "--hours", "five", "--price", "1000"]),
        # times
        ("time February 30", log + ["1h", "--kind", "development", "--at", "2025-02-30"]),
        ("time month 13", log + ["1h", "--kind", "development", "--at", "2025-13-01"]),
        ("time hour 25", log + ["1h", "--kind", "development", "--at", "2025-02-03T25:00"]),
        ("time words", log + ["1h", "--kind", "development", "--at", "yesterday"]),
        ("time bad offset", log + ["1h", "--kind", "development", "--at", "2025-02-03T10:00+25:00"]),
        ("pay time malformed", ["pay", "acme", "100", "--at", "2025/02/03"]),
        # months
        ("month 13", ["close", "acme", "2025-13"]),
        ("month two-digit year", ["close", "acme", "25-01"]),
        ("month without zero", ["contract", "units", "acme", "3", "--from", "2025-1"]),
        ("month before 1970", ["contract", "end", "acme", "--after", "1969-12"]),
        # unknown references
        ("unknown client (log)", ["log", "nobody", "1h"] + dev),
        ("unknown client (pay)", ["pay", "nobody", "100"]),
        ("unknown client (close)", ["close", "nobody", "2025-02"]),
        ("unknown plan", ["contract", "start", "bare", "--plan", "no-such-plan", "--from", "2025-01"]),
        ("unknown plan version", ["contract", "start", "bare", "--plan", "1c-start", "--plan-version", "99", "--from", "2025-01"]),
        ("unknown kind", log + ["1h", "--kind", "flying", "--at", "2025-02-12T10:00"]),
        ("unknown add-on", ["buy", "acme", "--addon", "no-such-addon", "--month", "2025-02"]),
        ("unknown entry", ["void", "acme", "999999", "--reason", "typo"]),
        ("entry not a number", ["void", "acme", "seven", "--reason", "typo"]),
        ("no contract yet", ["log", "bare", "1h"] + dev),
        # registration
        ("invalid zone", add + ["newc", "--name", "N", "--currency", "RUB", "--timezone", "Mars/Olympus"]),
        ("lower-case currency", add + ["newc", "--name", "N", "--currency", "rub", "--timezone", "UTC"]),
        ("unknown currency", add + ["newc", "--name", "N", "--currency", "ZZZ", "--timezone", "UTC"]),
        ("four-letter currency", add + ["newc", "--name", "N", "--currency", "RUBL", "--timezone", "UTC"]),
        ("duplicate client", add + ["acme"] + client_ok),
        ("client id upper case", add + ["Acme2"] + client_ok),
        ("client id too long", add + ["a" * 65] + client_ok),
        ("client id SQL injection", add + ["'; DROP TABLE clients;--"] + client_ok),
        ("client id path traversal", add + ["../../etc/passwd"] + client_ok),
        ("client id invalid UTF-8", add + [b"\xff\xfeacme"] + client_ok),
        ("client id system stream", add + ["$catalog"] + client_ok),
        ("contract twice", ["contract", "start", "acme", "--plan", "1c-start", "--from", "2025-01"]),
        # rules
        ("work before the term", log + ["1h", "--kind", "development", "--at", "2024-12-15T10:00"]),
        ("work after the term", log + ["1h", "--kind", "development", "--at", "2025-05-15T10:00"]),
        ("work in the future", log + ["1h", "--kind", "development", "--at", "2030-01-15T10:00"]),
        ("locked month without --late", log + ["1h", "--kind", "development", "--at", "2025-01-20T10:00"]),
        ("close a month out of order", ["close", "acme", "2025-03"]),
        ("close without a contract", ["close", "bare", "2025-01"]),
        ("units before contract", ["contract", "units", "acme", "3", "--from", "2024-01"]),
        # oversize and odd strings
        ("oversize note", log + ["1h"] + dev + ["--note", big]),
        ("oversize idempotency key", log + ["1h"] + dev + ["--key", "k" * 300]),
        ("idempotency key with control byte", log + ["1h"] + dev + ["--key", "a\x01b"]),
        ("kind SQL injection", log + ["1h", "--kind", "development'; DROP TABLE events;--", "--at", "2025-02-12T10:00"]),
        ("kind invalid UTF-8", log + ["1h", "--kind", b"dev\xc3\x28", "--at", "2025-02-12T10:00"]),
        # plan files
        ("plan file missing", ["plan", "define", os.path.join(tmp, "no-such.toml")]),
        ("plan file is a directory", ["plan", "define", tmp]),
    ] + [("plan file " + name, ["plan", "define", path]) for name, path in sorted(files.items())] + [
        # usage
        ("unknown command", ["frobnicate"]),
        ("missing argument", ["log"]),
        ("unknown option", ["log", "acme", "1h", "--kind", "development", "--colour", "red"]),
    ]

    def snapshot():
        p = hb("--json", "rebuild")
        if p.returncode != 0:
            raise SystemExit("rebuild failed: " + p.stderr.decode(errors="replace"))
        events = None
        for line in p.stdout.decode().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "events" in obj:
                    events = obj["events"]
        histories = {c: hb("--json", "history", c).stdout for c in ("acme", "bare")}
        return events, histories

    before = snapshot()
    if before[0] is None:
        raise SystemExit("`hourbank rebuild --json` printed no \"events\"")
    failed = 0
    for name, argv in cases:
        p = hb(*argv)
        err = p.stderr.decode("utf-8", errors="replace")
        lines = err.splitlines()
        problems = []
        if p.returncode == 0:
            problems.append("exit code 0")
        if p.returncode < 0 or p.returncode >= 128:
            problems.append("killed or crashed (exit %d)" % p.returncode)
        if len(lines) != 1:
            problems.append("%d stderr lines" % len(lines))
        if not lines or not lines[0].startswith("hourbank: error:"):
            problems.append("stderr does not start with 'hourbank: error:'")
        if name.startswith("unknown client") and "nobody" not in err:
            problems.append("the error does not name the unknown client")
        after = snapshot()
        if after != before:
            problems.append("events changed: %s -> %s" % (before[0], after[0]))
            before = after
        if problems:
            failed += 1
            print("FAIL %-40s %s | stderr: %s" % (name, "; ".join(problems), err.strip()[:300]))
        elif verbose:
            print("ok   %-40s %s" % (name, lines[0][:150]))
    print("bad input: %d passed, %d failed (%d inputs tried; ledger holds %s events throughout)"
          % (len(cases) - failed, failed, len(cases), before[0]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
