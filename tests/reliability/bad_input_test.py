#!/usr/bin/env python3
"""Bad input table: each row is a command line the real `hourbank` binary must refuse.

What it checks, per row: the process exits non-zero (and was not killed by a signal), stderr
is exactly one line and it starts with `hourbank: error:`, and the ledger holds the same
events as before (`hourbank rebuild --json` "events", plus a byte-for-byte comparison of
`history --json` for every client). A row that passes these is a clear refusal that wrote
nothing (DESIGN.md section 6).

CSV import rows (`hourbank import`) are command lines too, on malformed files written to the
temporary directory. Server rows run after them: `hourbank serve --listen 127.0.0.1:0` on the
same ledger with an admin token issued before the baseline; each malformed request must get a
4xx answer whose body is a JSON object with "error", and /healthz "head_seq" plus every
client's GET /v1/clients/{id}/events must be unchanged (and, once the server has stopped, the
CLI snapshot too).

Usage: bad_input_test.py HOURBANK_BINARY SOURCE_DIR [-v]
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
import urllib.error
import urllib.request

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
    # The server rows' admin token (issued before the baseline snapshot).
    p = hb("--json", "token", "issue", "bad-input-admin", "--role", "admin", check=True)
    admin_token = json.loads(p.stdout.decode())["token"]

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

    # CSV files for the import rows (acme's term is 2025-01..2025-04, January is closed, "now"
    # is 2025-06-01: no row below may be importable).
    csv_files = {}

    def csv_file(name, content):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        csv_files[name] = path
        return path

    generic_head = "date,duration,kind,task,staff,note\n"
    csv_file("empty.csv", "")
    csv_file("bom-only.csv", b"\xef\xbb\xbf")
    csv_file("binary.csv", bytes(range(256)) * 8)
    csv_file("missing-duration-column.csv", "date,kind,task\n2025-02-10T10:00,development,T1\n")
    csv_file("unclosed-quote.csv", generic_head + '2025-02-10T10:00,1h,development,T1,anna,"never closed\n')
    csv_file("quote-in-bare-field.csv", generic_head + '2025-02-10T10:00,1h,development,T"1,anna,x\n')
    csv_file("text-after-quote.csv", generic_head + '2025-02-10T10:00,1h,development,"T1"x,anna,x\n')
    csv_file("invalid-utf8.csv", generic_head.encode() + b"2025-02-10T10:00,1h,development,T\xff\xfe,anna,x\n")
    csv_file("nul-byte.csv", generic_head.encode() + b"2025-02-10T10:00,1h,development,T\x001,anna,x\n")
    csv_file("zero-duration.csv", generic_head + "2025-02-10T10:00,0m,development,T1,anna,x\n")
    csv_file("over-24h.csv", generic_head + "2025-02-10T10:00,25h,development,T1,anna,x\n")
    csv_file("bad-date.csv", generic_head + "2025-02-30T10:00,1h,development,T1,anna,x\n")
    csv_file("wrong-field-count.csv", generic_head + "2025-02-10T10:00,1h,development\n")
    csv_file("unknown-kind.csv", generic_head + "2025-02-10T10:00,1h,flying,T1,anna,x\n")
    csv_file("future.csv", generic_head + '2030-02-10T10:00,1h,development,"=HYPERLINK(""http://x"")",anna,x\n')
    csv_file("locked-month.csv", generic_head + "2025-01-20T10:00,1h,development,T1,anna,x\n")
    csv_file("oversize-field.csv", generic_head + "2025-02-10T10:00,1h,development,T1,anna," + "n" * 70000 + "\n")
    csv_file("toggl-missing-columns.csv",
             "User,Email,Client,Project,Task,Description,Billable,End date,End time,Tags\n"
             "Anna,a@example.com,Acme,Support,T-101,x,Yes,2025-02-10,10:45:00,\n")
    csv_file("kimai-bad-duration.csv",
             "Date,From,To,Duration,Rate,User,Customer,Project,Activity,Description,Exported,Tags,Hourly rate,Fixed rate\n"
             "2025-02-10,10:00,11:30,one and a half,0,anna,Acme,Support,Support,x,,,0,\n")
    csv_file("harvest-negative-hours.csv",
             "Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,Billable?,Invoiced?,Approved?,"
             "First Name,Last Name,Employee?,Roles,Employee Id,External Reference URL\n"
             "2025-02-10,Acme,S,S,Support,x,-1.5,-1.5,Yes,No,Yes,Anna,P,Yes,E,,\n")
    imp = ["import", "acme"]
    csv_cases = [
        ("csv unknown format", imp + [csv_files["zero-duration.csv"], "--format", "excel"]),
        ("csv format upper case", imp + [csv_files["zero-duration.csv"], "--format", "Generic"]),
        ("csv unknown client", ["import", "nobody", csv_files["zero-duration.csv"], "--format", "generic"]),
        ("csv file missing", imp + [os.path.join(tmp, "no-such.csv"), "--format", "generic"]),
        ("csv file is a directory", imp + [tmp, "--format", "generic"]),
        ("csv toggl without start columns", imp + [csv_files["toggl-missing-columns.csv"], "--format", "toggl"]),
        ("csv kimai duration in words", imp + [csv_files["kimai-bad-duration.csv"], "--format", "kimai"]),
        ("csv harvest negative hours", imp + [csv_files["harvest-negative-hours.csv"], "--format", "harvest"]),
        ("csv generic file read as toggl", imp + [csv_files["zero-duration.csv"], "--format", "toggl"]),
    ] + [("csv " + name, imp + [path, "--format", "generic"]) for name, path in sorted(csv_files.items())
         if not name.startswith(("toggl-", "kimai-", "harvest-"))]

    big = "x" * 120000  # one argv string is at most 128 KiB (MAX_ARG_STRLEN)
    # The seq of acme's work entry T2 (a real entry: the void rows must fail on the reason alone).
    t2_seq = [json.loads(line)["seq"] for line in hb("--json", "history", "acme", check=True).stdout.decode().splitlines()
              if json.loads(line).get("task") == "T2"][0]
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
        # empty and absurd flag values (issue 14, item 12): each would be written otherwise
        ("--at empty (pay)", ["pay", "acme", "100", "--at", ""]),
        ("--at empty (log)", log + ["1h", "--kind", "development", "--at", ""]),
        ("--at blank (pay)", ["pay", "acme", "100", "--at", "   "]),
        ("--actor empty", ["--actor", ""] + log + ["1h"] + dev),
        ("--actor blank", ["--actor", "  "] + log + ["1h"] + dev),
        ("--actor 129 bytes", ["--actor", "a" * 129] + log + ["1h"] + dev),
        ("--actor 100 kB", ["--actor", "a" * 100000] + log + ["1h"] + dev),
        ("--actor with a terminal escape", ["--actor", "ann\x1b[2J"] + log + ["1h"] + dev),
        ("void --reason blank", ["void", "acme", str(t2_seq), "--reason", "   "]),
        ("void --reason empty", ["void", "acme", str(t2_seq), "--reason", ""]),
        ("adjust --reason blank", ["adjust", "acme", "--charge", "50", "--reason", "\t"]),
        ("contract --months 0", ["contract", "start", "bare", "--plan", "1c-start", "--from", "2025-01", "--months", "0"]),
        ("contract --months 1201", ["contract", "start", "bare", "--plan", "1c-start", "--from", "2025-01", "--months", "1201"]),
    ] + csv_cases

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
    n_cli = len(cases) - len(csv_cases)
    print("bad input (CLI and plan files): %d rows; CSV import: %d rows; %d failed"
          % (n_cli, len(csv_cases), failed))

    server_failed, server_rows = run_server_rows(binary, env, admin_token, verbose)
    failed += server_failed
    after = snapshot()
    if after != before:
        failed += 1
        print("FAIL server rows: events changed (CLI snapshot after the server stopped): %s -> %s"
              % (before[0], after[0]))
    total = len(cases) + server_rows
    print("bad input: %d passed, %d failed (%d inputs tried: %d CLI/plan, %d CSV, %d server; "
          "ledger holds %s events throughout)"
          % (total - failed, failed, total, n_cli, len(csv_cases), server_rows, before[0]))
    return 1 if failed else 0


def run_server_rows(binary, env, token, verbose):
    """Malformed requests to `hourbank serve`; returns (failed, rows)."""
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = [b""]
    reader = threading.Thread(target=lambda: first.__setitem__(0, proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(20)
    line = first[0].decode(errors="replace")
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit("server did not start: %r %s" % (line, proc.stderr.read().decode(errors="replace")))
    url = "http://" + line.split()[2]

    def call(method, path, raw=None, auth=token):
        req = urllib.request.Request(url + path, data=raw, method=method)
        if auth:
            req.add_header("Authorization", "Bearer " + auth)
        if raw is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def declared_oversize(method, path, raw, auth):
        # Headers announcing a body over 1 MiB and then only `raw`: the server must answer 413
        # from Content-Length alone. (Sending the whole megabyte races the server's close
        # against our writes: a TCP reset can then eat the 413.)
        host, port = url[len("http://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            head = ("%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n" % (method, path, host, auth, (1 << 20) + 2))
            sock.sendall(head.encode() + raw)
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    headers, _, rest = data.partition(b"\r\n\r\n")
                    length = [int(x.split(b":")[1]) for x in headers.split(b"\r\n") if x.lower().startswith(b"content-length:")]
                    if length and len(rest) >= length[0]:
                        break
        headers, _, body = data.partition(b"\r\n\r\n")
        status = int(headers.split(b" ")[1]) if headers.startswith(b"HTTP/") else 0
        return status, body

    def raw_request(extra_headers, body=b"", target=None):
        # A hand-made request (framing urllib cannot send): `extra_headers` after Host and
        # Authorization; the answer's status and body.
        def send(method, path, raw, auth):
            host, port = url[len("http://"):].rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                head = "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n" % (method, target or path, host, auth)
                sock.sendall(head.encode() + extra_headers + b"\r\n" + body)
                data = b""
                try:
                    while True:
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                        headers, sep, rest = data.partition(b"\r\n\r\n")
                        if sep:
                            length = [int(x.split(b":")[1]) for x in headers.split(b"\r\n")
                                      if x.lower().startswith(b"content-length:")]
                            if length and len(rest) >= length[0]:
                                break
                except OSError:
                    pass
            headers, _, rest = data.partition(b"\r\n\r\n")
            return (int(headers.split(b" ")[1]) if headers.startswith(b"HTTP/") else 0), rest
        return send

    def state():
        st, body = call("GET", "/healthz")
        head = json.loads(body)["head_seq"] if st == 200 else None
        events = {c: call("GET", "/v1/clients/%s/events?after_seq=0" % c)[1] for c in ("acme", "bare")}
        return head, events

    def j(obj):
        return json.dumps(obj).encode()

    work = "/v1/clients/acme/work"
    dev = {"kind": "development", "at": "2025-02-12T10:00"}
    rows = [
        ("server invalid JSON", "POST", work, b"{"),
        ("server JSON array", "POST", work, b"[1,2]"),
        ("server empty body", "POST", work, b""),
        ("server body invalid UTF-8", "POST", work, b"\xff\xfe"),
        ("server string invalid UTF-8", "POST", work,
         b'{"kind": "development", "minutes": 10, "at": "2025-02-12T10:00", "task": "T\xc3\x28"}'),
        ("server kind wrong type", "POST", work, j(dict(dev, kind=["development"], minutes=10))),
        ("server minutes wrong type", "POST", work, j(dict(dev, minutes="ten"))),
        ("server minutes float", "POST", work, j(dict(dev, minutes=1e30))),
        ("server late wrong type", "POST", work, j(dict(dev, minutes=10, late="yes"))),
        ("server minutes zero", "POST", work, j(dict(dev, minutes=0))),
        ("server minutes negative", "POST", work, j(dict(dev, minutes=-5))),
        ("server duration zero", "POST", work, j(dict(dev, duration="0m"))),
        ("server duration and minutes", "POST", work, j(dict(dev, duration="1h", minutes=60))),
        ("server minutes and count", "POST", work, j(dict(dev, minutes=10, count=2))),
        ("server count negative", "POST", work, j(dict(dev, count=-1))),
        ("server unknown kind", "POST", work, j({"kind": "flying", "minutes": 10, "at": "2025-02-12T10:00"})),
        ("server kind SQL injection", "POST", work,
         j({"kind": "development'; DROP TABLE events;--", "minutes": 10, "at": "2025-02-12T10:00"})),
        ("server missing kind", "POST", work, j({"minutes": 10})),
        ("server work in the future", "POST", work, j({"kind": "development", "minutes": 10, "at": "2030-01-15T10:00"})),
        ("server locked month without late", "POST", work,
         j({"kind": "development", "minutes": 10, "at": "2025-01-20T10:00"})),
        ("server time malformed", "POST", work, j({"kind": "development", "minutes": 10, "at": "yesterday"})),
        ("server oversize note", "POST", work, j(dict(dev, minutes=10, note="x" * 200000))),
        ("server oversize key", "POST", work, j(dict(dev, minutes=10, key="k" * 300))),
        ("server body over 1 MiB", "POST", work, b"{", token, declared_oversize),
        ("server unknown client (work)", "POST", "/v1/clients/nobody/work", j(dict(dev, minutes=10))),
        ("server no contract (work)", "POST", "/v1/clients/bare/work", j(dict(dev, minutes=10))),
        ("server client id injection", "POST", "/v1/clients/'%3B%20DROP%20TABLE/work", j(dict(dev, minutes=10))),
        ("server pay amount zero", "POST", "/v1/clients/acme/pay", j({"amount": "0"})),
        ("server pay amount negative", "POST", "/v1/clients/acme/pay", j({"amount": "-5"})),
        ("server pay amount wrong type", "POST", "/v1/clients/acme/pay", j({"amount": 1.5})),
        ("server pay unknown client", "POST", "/v1/clients/nobody/pay", j({"amount": "100"})),
        ("server void entry zero", "POST", "/v1/clients/acme/void", j({"entry": 0, "reason": "typo"})),
        ("server void unknown entry", "POST", "/v1/clients/acme/void", j({"entry": 999999, "reason": "typo"})),
        ("server void without reason", "POST", "/v1/clients/acme/void", j({"entry": 1})),
        ("server accept without task", "POST", "/v1/clients/acme/accept", j({})),
        ("server token unknown role", "POST", "/v1/tokens", j({"name": "x", "role": "god"})),
        ("server unknown route", "POST", "/v1/clients/acme/frobnicate", j({})),
        ("server missing token", "POST", work, j(dict(dev, minutes=10)), None),
        ("server unknown token", "POST", work, j(dict(dev, minutes=10)), "hbt_nope"),
        # Issue 14: hostile requests (each once crashed the server, was accepted, or leaked internals).
        ("server client id invalid UTF-8 (work)", "POST", "/v1/clients/%FF/work", j(dict(dev, minutes=10))),
        ("server client id invalid UTF-8 (balance)", "GET", "/v1/clients/%FF/balance", None),
        ("server month invalid UTF-8", "GET", "/v1/clients/acme/invoices/%FF", None),
        ("server as_of invalid UTF-8", "GET", "/v1/clients/acme/balance?as_of=%FF", None),
        ("server known_at invalid UTF-8", "GET", "/v1/clients/acme/balance?known_at=%C3%28", None),
        ("server from invalid UTF-8", "GET", "/v1/clients/acme/burned?from=%ED%A0%80", None),
        ("server revoke name invalid UTF-8", "POST", "/v1/tokens/%FF/revoke", j({})),
        ("server JSON nested 100000 deep", "POST", work,
         b'{"kind":"development","minutes":10,"x":' + b"[" * 100000 + b"]" * 100000 + b"}"),
        ("server JSON nested 33 deep", "POST", work, b'{"x":' + b"[" * 32 + b"]" * 32 + b"}"),
        ("server unknown work field (urgnet)", "POST", work, j(dict(dev, minutes=10, urgnet=True))),
        ("server unknown pay field", "POST", "/v1/clients/acme/pay", j({"amount": "100", "refernce": "x"})),
        ("server two Content-Length", "POST", work, None, token,
         raw_request(b"Content-Length: 2\r\nContent-Length: 3\r\n", b"{}")),
        ("server unknown Transfer-Encoding", "POST", work, None, token,
         raw_request(b"Transfer-Encoding: gzip\r\n", b"{}")),
        ("server chunked body over 1 MiB", "POST", work, None, token,
         raw_request(b"Transfer-Encoding: chunked\r\n",
                     b"".join(b"10000\r\n" + b"x" * 65536 + b"\r\n" for _ in range(17)) + b"0\r\n\r\n")),
        ("server URL of 200 KB", "GET", "/healthz", None, token,
         raw_request(b"Connection: close\r\n", b"", "/v1/clients/acme/balance?x=" + "a" * 200000)),
    ]
    failed = 0
    try:
        before = state()
        if before[0] is None:
            raise SystemExit("GET /healthz did not answer head_seq")
        for row in rows:
            name, method, path, raw = row[:4]
            auth = row[4] if len(row) > 4 else token
            st, body = (row[5] if len(row) > 5 else call)(method, path, raw, auth)
            problems = []
            if not 400 <= st < 500:
                problems.append("status %d" % st)
            try:
                obj = json.loads(body.decode())
            except ValueError:
                obj = None
            if not isinstance(obj, dict) or not isinstance(obj.get("error"), str) or not obj["error"]:
                problems.append("the body is not a JSON object with \"error\"")
            after = state()
            if after != before:
                problems.append("events changed: head_seq %s -> %s" % (before[0], after[0]))
                before = after
            if problems:
                failed += 1
                print("FAIL %-40s %s | body: %s" % (name, "; ".join(problems), body[:300]))
            elif verbose:
                print("ok   %-40s %d %s" % (name, st, obj["error"][:120]))
        if proc.poll() is not None:
            failed += 1
            print("FAIL the server exited during the rows (%s)" % proc.returncode)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print("bad input (server): %d rows, %d failed" % (len(rows), failed))
    return failed, len(rows)


if __name__ == "__main__":
    sys.exit(main())
