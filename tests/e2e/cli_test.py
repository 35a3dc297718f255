#!/usr/bin/env python3
"""End-to-end tests of the `hourbank` command line (issue 4, ../shared/CLI.md).

Usage: cli_test.py PATH/TO/hourbank SOURCE_DIR

Every test runs the real binary in its own temporary ledger (`--ledger TMPDIR`), with
HOURBANK_NOW fixed so "now" does not depend on the day the test runs (recorded_at still
uses the real clock). Refusals are checked three ways: the exit code (1 refused, 2 usage,
3 conflict), stderr is exactly one line starting with `hourbank: error:`, and nothing was
written (the ledger's event count from `hourbank rebuild --json` is unchanged; rebuild writes
checkpoints only, never events).

Python 3 standard library only. Prints one line per test and `N passed, M failed` at the end;
exits non-zero on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

if len(sys.argv) != 3:
    sys.exit("usage: cli_test.py PATH/TO/hourbank SOURCE_DIR")
HB = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
PLANS = os.path.join(SRC, "examples", "plans")
NOW = "2026-04-15T09:00:00Z"   # the default "now" of every command (a Wednesday)
ROOT = tempfile.mkdtemp(prefix="hourbank-cli-")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HOURBANK_")}
ENV["USER"] = "tester"
# With HB_TEST_NATS_URL set (tests/reliability/nats_e2e_test.py), each test's ledger is a new
# ledger on that NATS cluster instead of a directory.
NATS_URL = os.environ.get("HB_TEST_NATS_URL", "")

TESTS = []


def test(fn):
    TESTS.append((fn, None))
    return fn


def expected_failure(reason):
    def wrap(fn):
        TESTS.append((fn, reason))
        return fn
    return wrap


class Failure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def eq(got, want, what):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


def plan(name):
    return os.path.join(PLANS, name)


class Ledger:
    """A temporary ledger and a way to run hourbank against it."""
    counter = 0

    def __init__(self, init=True):
        Ledger.counter += 1
        self.dir = os.path.join(ROOT, f"ledger{Ledger.counter}")
        if init:
            self.ok("init")

    def run(self, *args, now=NOW, ledger=True, timeout=120):
        env = dict(ENV)
        if now:
            env["HOURBANK_NOW"] = now
        where = ["--log", NATS_URL, "--ledger-name", "cli-" + os.path.basename(self.dir)] \
            if NATS_URL else ["--ledger", self.dir]
        argv = [HB] + (where if ledger else []) + [str(a) for a in args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)

    def ok(self, *args, now=NOW):
        p = self.run(*args, now=now)
        if p.returncode != 0:
            raise Failure(f"`hourbank {' '.join(map(str, args))}` exited {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def json(self, *args, now=NOW):
        out = self.ok("--json", *args, now=now)
        try:
            return json.loads(out)
        except ValueError:
            raise Failure(f"`hourbank --json {' '.join(map(str, args))}` did not print JSON: {out!r}")

    def events(self):
        return self.json("rebuild")["events"]

    def refused(self, *args, code=1, now=NOW, says=None):
        """Runs a command that must be refused: exit `code`, one error line, nothing written."""
        before = self.events()
        p = self.run(*args, now=now)
        after = self.events()
        cmd = "hourbank " + " ".join(map(str, args))
        if p.returncode != code:
            raise Failure(f"`{cmd}` exited {p.returncode}, want {code}; stdout={p.stdout!r} stderr={p.stderr!r}")
        lines = p.stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("hourbank: error:"):
            raise Failure(f"`{cmd}`: stderr must be one `hourbank: error:` line, got {p.stderr!r}")
        if says and says.lower() not in lines[0].lower():
            raise Failure(f"`{cmd}`: error {lines[0]!r} does not mention {says!r}")
        eq(after, before, f"`{cmd}` must write nothing: event count")
        return lines[0]

    # Common set-ups.
    def define(self, *files):
        for f in files:
            self.ok("plan", "define", plan(f))

    def client(self, cid, currency="RUB", zone="Europe/Moscow", name=None):
        self.ok("client", "add", cid, "--name", name or cid.title(), "--currency", currency, "--timezone", zone)

    def contract(self, cid, plan_id, start, *extra):
        self.ok("contract", "start", cid, "--plan", plan_id, "--from", start, *extra)


def kit_ledger():
    """A KIT option-1 client `kit` (15 h a month, burn) from 2026-01."""
    lg = Ledger()
    lg.define("kit.toml")
    lg.client("kit")
    lg.contract("kit", "kit-hours-15", "2026-01", "--months", "12")
    return lg


def altercpa_ledger():
    """An AlterCPA Basic client `shop` (USD, Moscow working hours) from 2026-03."""
    lg = Ledger()
    lg.define("altercpa.toml")
    lg.client("shop", currency="USD")
    lg.contract("shop", "altercpa-basic", "2026-03", "--months", "12")
    return lg


MINI_PLAN = """
[[plan]]
id = "mini"
name = "Mini"
currency = "RUB"
fee_minor = {fee}
included_minutes = 600

[[plan.kinds]]
id = "support"
unit = "hour"
"""


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# ------------------------------------------------------------------------------------------
# Setting up

@test
def test_init():
    """init creates an empty ledger (exit 0); a second init of the same directory and any
    command on a directory that is not a ledger are refused with one error line."""
    lg = Ledger(init=False)
    out = lg.ok("init")
    check(lg.dir in out, f"init says where the ledger is: {out!r}")
    eq(lg.events(), 0, "a new ledger has no events")
    p = lg.run("init")
    eq(p.returncode, 1, "init of an existing ledger")
    check(p.stderr.startswith("hourbank: error:") and len(p.stderr.splitlines()) == 1, f"one error line: {p.stderr!r}")
    other = Ledger(init=False)
    p = other.run("client", "list")
    eq(p.returncode, 1, "a command on a missing ledger")
    check(p.stderr.startswith("hourbank: error:") and len(p.stderr.splitlines()) == 1, f"one error line: {p.stderr!r}")


@test
def test_plan_define_list_show():
    """plan define reads every example file; plan list/show (table and --json, --version) show
    the catalogue; re-defining an unchanged file writes nothing."""
    lg = Ledger()
    for f in ("1c-start.toml", "agbis.toml", "altercpa.toml", "bpmonline.toml", "kit.toml"):
        lg.ok("plan", "define", plan(f))
    n = lg.events()
    check(n >= 5, f"plans were written: {n} events")
    plans = {p["id"]: p for p in lg.json("plan", "list")}
    for pid in ("1c-start", "agbis", "altercpa-basic", "altercpa-standard", "altercpa-constructor",
                "bpm-basic", "kit-hours-15", "kit-prepaid"):
        check(pid in plans, f"plan list has {pid}")
        eq(plans[pid]["version"], 1, f"{pid} version")
    eq(plans["1c-start"]["currency"], "RUB", "1c-start currency")
    table = lg.ok("plan", "list")
    check("1c-start" in table and "altercpa-basic" in table, f"plan list table: {table!r}")
    shown = lg.ok("plan", "show", "1c-start")
    check("fee_minor = 2000000" in shown, f"plan show prints canonical TOML: {shown!r}")
    j = lg.json("plan", "show", "1c-start", "--version", "1")
    eq(j["version"], 1, "plan show --version 1")
    check("reserve_cap_minutes = 600" in j["toml"], "plan show --json has the TOML")
    lg.refused("plan", "show", "1c-start", "--version", "2", says="1c-start")
    # Unchanged again: nothing new.
    out = lg.ok("plan", "define", plan("1c-start.toml"))
    eq(lg.events(), n, f"re-defining an unchanged file writes nothing (said {out.strip()!r})")
    eq(lg.json("plan", "list")[0]["version"], 1, "still version 1")


@test
def test_plan_new_version_keeps_contract_fee():
    """A changed plan becomes version 2; a contract signed on version 1 keeps v1's fee, a new
    contract gets v2; plan show --version 1 still shows the old text."""
    lg = Ledger()
    f = write(os.path.join(ROOT, "mini-v1.toml"), MINI_PLAN.format(fee=1000000))
    lg.ok("plan", "define", f)
    lg.client("old")
    lg.contract("old", "mini", "2026-01")
    f2 = write(os.path.join(ROOT, "mini-v2.toml"), MINI_PLAN.format(fee=1500000))
    lg.ok("plan", "define", f2)
    p = [x for x in lg.json("plan", "list") if x["id"] == "mini"][0]
    eq(p["version"], 2, "a changed plan is version 2")
    check("fee_minor = 1000000" in lg.ok("plan", "show", "mini", "--version", "1"), "v1 text kept")
    check("fee_minor = 1500000" in lg.ok("plan", "show", "mini"), "latest is v2")
    lg.client("new")
    lg.contract("new", "mini", "2026-01")
    old = lg.json("invoice", "old", "2026-01")
    new = lg.json("invoice", "new", "2026-01")
    eq(old["total_minor"], 1000000, "the old contract keeps v1's fee")
    eq(new["total_minor"], 1500000, "a new contract gets v2's fee")
    eq(lg.json("balance", "old", "--as-of", "2026-01-15")["plan_version"], 1, "old contract pinned to v1")


@test
def test_client_add_list():
    """client add registers a client; client list shows it (table and --json)."""
    lg = Ledger()
    lg.define("1c-start.toml")
    out = lg.ok("client", "add", "acme", "--name", "Acme Ltd", "--currency", "RUB", "--timezone", "Europe/Moscow")
    check(out.strip(), "client add says something")
    lg.client("shop", currency="USD", zone="America/New_York")
    lg.contract("acme", "1c-start", "2026-01")
    rows = {c["client"]: c for c in lg.json("client", "list")}
    eq(sorted(rows), ["acme", "shop"], "client list ids")
    eq(rows["acme"]["name"], "Acme Ltd", "name")
    eq(rows["acme"]["currency"], "RUB", "currency")
    eq(rows["shop"]["timezone"], "America/New_York", "zone")
    eq(rows["acme"]["plan"], "1c-start", "plan")
    table = lg.ok("client", "list")
    check("Acme Ltd" in table and "shop" in table, f"client list table: {table!r}")


@test
def test_contract_start_units_end():
    """contract start with --months --prepaid --timely --units --extra prices the AGBIS
    example (1740 x 0.93 x 0.8 -> 1295 per licence); contract units changes the licences from
    a month; contract end sets the last month (work after it is refused)."""
    lg = Ledger()
    lg.define("agbis.toml")
    lg.client("garage")
    lg.contract("garage", "agbis", "2026-01", "--months", "6", "--prepaid", "6", "--timely", "--units", "10",
                "--extra", "extra_contact=2")
    inv = lg.json("invoice", "garage", "2026-01")
    # 10 licences at 1295.00 (1740 x 0.93 x 0.8 = 1294.56 -> 1295) + 2 extra contacts x 1000.00
    eq(inv["total_minor"], 10 * 129500 + 2 * 100000, "AGBIS 10 licences, 6 months prepaid, timely + 2 contacts")
    codes = [l["code"] for l in inv["lines"]]
    check("fee" in codes and "extra" in codes, f"fee and extra lines: {codes}")
    lg.ok("contract", "units", "garage", "16", "--from", "2026-02")
    feb = lg.json("invoice", "garage", "2026-02")
    # 16 licences: tier 16-20, 1320 x 0.93 x 0.8 = 982.08 -> 982
    eq(feb["total_minor"], 16 * 98200 + 2 * 100000, "16 licences from February")
    eq(lg.json("invoice", "garage", "2026-01")["total_minor"], inv["total_minor"], "January unchanged")
    lg.ok("contract", "end", "garage", "--after", "2026-03")
    lg.refused("log", "garage", "1h", "--kind", "support", "--at", "2026-04-02T12:00", says="outside")
    lg.ok("log", "garage", "1h", "--kind", "support", "--at", "2026-03-02T12:00")


# ------------------------------------------------------------------------------------------
# Day to day

@test
def test_log_hour_work_flags():
    """log hour work with --task --staff --at --urgent --off-hours/--in-hours --note --key:
    the line names the entry and what paid for it; report and history show the fields."""
    lg = kit_ledger()
    out = lg.ok("log", "kit", "1h30m", "--kind", "support", "--task", "T-1", "--staff", "anna",
                "--at", "2026-04-06T12:00", "--urgent", "--off-hours", "--note", "night call", "--key", "k-1")
    check(out.startswith("entry #") and "allowance" in out, f"log line: {out!r}")
    check("\n" not in out.strip(), f"one short line: {out!r}")
    lg.ok("log", "kit", "90m", "--kind", "development", "--task", "T-2", "--staff", "boris",
          "--at", "2026-04-07T12:00", "--in-hours")
    lg.ok("log", "kit", "1.5h", "--kind", "consultation", "--at", "2026-04-08")
    rep = lg.json("report", "kit", "2026-04")
    es = rep["entries"]
    eq(len(es), 3, "three entries")
    eq([e["minutes"] for e in es], [90, 90, 90], "90m = 1h30m = 1.5h")
    e = es[0]
    eq((e["task"], e["staff"], e["kind"], e["urgent"], e["off_hours"]), ("T-1", "anna", "support", True, True),
       "first entry's fields")
    eq((es[1]["staff"], es[1]["off_hours"]), ("boris", False), "--in-hours")
    eq(es[2]["staff"], "tester", "staff defaults to $USER")
    check(e["at"].startswith("2026-04-06T12:00") and e["at"].endswith("+03:00"), f"--at in the client's zone: {e['at']}")
    hist = [json.loads(l) for l in lg.ok("--json", "history", "kit").splitlines()]
    w = [h for h in hist if h["type"] == "work_logged"][0]
    eq(w["note"], "night call", "--note recorded")
    eq(w.get("key") or w.get("idempotency_key"), "k-1", "--key recorded")


@test
def test_log_item_work():
    """log item work with --count: slots are used and shown in the balance."""
    lg = altercpa_ledger()
    out = lg.ok("log", "shop", "--kind", "site_link", "--count", "3", "--task", "S-4", "--at", "2026-04-06T12:00")
    check(out.startswith("entry #") and "slot" in out, f"item log line: {out!r}")
    bal = lg.json("balance", "shop")
    eq(bal["slots"]["site"], {"quota": 20, "used": 3, "left": 17}, "site slots")
    rep = lg.json("report", "shop", "2026-04")
    eq((rep["entries"][0]["count"], rep["entries"][0]["minutes"]), (3, 0), "count and minutes")


@test
def test_log_item_work_without_count_is_one_item():
    """`--count` is optional for item work: without it, one item; hour work still needs a DURATION."""
    lg = altercpa_ledger()
    out = lg.ok("log", "shop", "--kind", "site_link", "--task", "S-5", "--at", "2026-04-06T12:00")
    check(out.startswith("entry #") and "site slots left: 19" in out, f"one item: {out!r}")
    eq(lg.json("balance", "shop")["slots"]["site"]["used"], 1, "one site slot used")
    kit = kit_ledger()
    kit.refused("log", "kit", "--kind", "support", "--at", "2026-04-06T12:00", says="DURATION")
    lg.refused("log", "shop", "--kind", "site_link", "--count", "0", "--at", "2026-04-06T12:00", says="--count")


@test
def test_accept():
    """accept: on a plan billed on acceptance, logged work counts only once its task is
    accepted, in the month of acceptance."""
    lg = Ledger()
    lg.define("1c-start.toml")
    lg.client("onec")
    lg.contract("onec", "1c-start", "2026-01", "--months", "12")
    out = lg.ok("log", "onec", "2h", "--kind", "development", "--task", "T-9", "--at", "2026-03-30T12:00")
    check("awaiting acceptance" in out, f"pending work says so: {out!r}")
    eq(lg.json("report", "onec", "2026-03")["entries"], [], "not counted before acceptance")
    lg.ok("accept", "onec", "--task", "T-9", "--at", "2026-04-02T10:00")
    eq([e["minutes"] for e in lg.json("report", "onec", "2026-04")["entries"]], [120], "counted in April")
    lg.refused("accept", "onec", "--task", "T-404", says="T-404")


@test
def test_void():
    """void cancels an entry (it leaves the report); an unknown entry is refused."""
    lg = kit_ledger()
    j = lg.json("log", "kit", "2h", "--kind", "support", "--at", "2026-04-06T12:00")
    lg.ok("log", "kit", "1h", "--kind", "support", "--at", "2026-04-06T13:00")
    lg.ok("void", "kit", j["id"], "--reason", "logged twice")
    eq([e["minutes"] for e in lg.json("report", "kit", "2026-04")["entries"]], [60], "voided entry gone")
    eq(lg.json("balance", "kit")["allowance"]["used_minutes"], 60, "balance without the voided entry")
    lg.refused("void", "kit", "99999", "--reason", "x")


@test
def test_buy_hours_and_addon():
    """buy --hours --price --expires --at sells a prepaid block; buy --addon --month adds
    slots for that month."""
    lg = Ledger()
    lg.define("kit.toml", "altercpa.toml")
    lg.client("pre")
    lg.contract("pre", "kit-prepaid", "2026-01")
    lg.ok("buy", "pre", "--hours", "50h", "--price", "127500", "--expires", "2026-12-31", "--at", "2026-04-01T10:00")
    lg.ok("buy", "pre", "--hours", "10h", "--at", "2026-04-01T11:00")   # the plan's offer price
    bal = lg.json("balance", "pre")
    eq(bal["prepaid_minutes"], 3600, "50h + 10h prepaid")
    lg.ok("log", "pre", "2h", "--kind", "support", "--at", "2026-04-02T12:00")
    eq(lg.json("balance", "pre")["prepaid_minutes"], 3480, "2h drawn from blocks")
    inv = lg.json("invoice", "pre", "2026-04")
    blocks = [l for l in inv["lines"] if l["code"] == "hours_block"]
    eq(sorted(l["amount_minor"] for l in blocks), [2550000, 12750000], "hour block lines")
    lg.client("shop", currency="USD")
    lg.contract("shop", "altercpa-basic", "2026-03")
    lg.ok("buy", "shop", "--addon", "altercpa-sites-40", "--month", "2026-04", "--at", "2026-04-01T10:00")
    eq(lg.json("balance", "shop")["slots"]["site"]["quota"], 60, "20 + 40 site slots")
    eq(sum(l["amount_minor"] for l in lg.json("invoice", "shop", "2026-04")["lines"] if l["code"] == "addon"),
       20000, "add-on line 200.00")


@test
def test_pay_adjust_close_outstanding():
    """close freezes an invoice and makes it outstanding; pay --ref --at reduces what is
    outstanding; adjust --penalty/--credit add invoice lines to an open month."""
    lg = kit_ledger()
    lg.ok("close", "kit", "2026-01")
    bal = lg.json("balance", "kit")
    eq(bal["outstanding_minor"], 3825000, "January invoice outstanding")
    # KIT's price list has no rule refusing work for debt: debt_blocking "none" never blocks.
    eq(bal["blocked"], False, "KIT never blocks for debt")
    lg.ok("pay", "kit", "38250", "--ref", "inv 2026-01", "--at", "2026-02-03T10:00")
    bal = lg.json("balance", "kit")
    eq((bal["outstanding_minor"], bal["blocked"]), (0, False), "paid in full")
    lg.ok("adjust", "kit", "--penalty", "500", "--reason", "late payment", "--month", "2026-02")
    lg.ok("adjust", "kit", "--credit", "100.50", "--reason", "goodwill", "--month", "2026-02")
    lines = {l["code"]: l["amount_minor"] for l in lg.json("invoice", "kit", "2026-02")["lines"]}
    eq(lines.get("penalty"), 50000, "penalty line")
    eq(lines.get("credit"), -10050, "credit line (negative)")
    lg.refused("adjust", "kit", "--reason", "nothing given")


@test
def test_close_all_through():
    """close --all --through closes every open month of every client in order; a second run
    has nothing more to write; invoices say closed."""
    lg = Ledger()
    lg.define("kit.toml")
    for c in ("a", "b"):
        lg.client(c)
    lg.contract("a", "kit-hours-10", "2026-01")
    lg.contract("b", "kit-hours-15", "2026-02")
    out = lg.json("close", "--all", "--through", "2026-03")
    got = sorted((r["client"], r["month"]) for r in out)
    eq(got, [("a", "2026-01"), ("a", "2026-02"), ("a", "2026-03"), ("b", "2026-02"), ("b", "2026-03")], "months closed")
    n = lg.events()
    lg.ok("close", "--all", "--through", "2026-03")
    eq(lg.events(), n, "nothing more to close")
    eq(lg.json("invoice", "a", "2026-03")["closed"], True, "closed invoice")
    eq(lg.json("invoice", "a", "2026-04")["closed"], False, "April open")
    lg.ok("close", "a", "2026-03")   # already closed: a no-op, not an error
    eq(lg.events(), n, "closing a closed month writes nothing")


@test
def test_read_tables_for_people():
    """balance, invoice, burned, report print aligned tables for people: money with the
    currency's decimals, hours as 12h30m."""
    lg = kit_ledger()
    lg.ok("log", "kit", "12h30m", "--kind", "support", "--task", "T-1", "--staff", "anna", "--at", "2026-04-06T12:00")
    bal = lg.ok("balance", "kit")
    check("12h30m" in bal and "allowance" in bal, f"balance table: {bal!r}")
    inv = lg.ok("invoice", "kit", "2026-04")
    check("38" in inv and "250.00" in inv and "fee" in inv, f"invoice table: {inv!r}")
    rep = lg.ok("report", "kit", "2026-04")
    check("anna" in rep and "T-1" in rep and "12h30m" in rep, f"report table: {rep!r}")
    bur = lg.ok("burned", "kit", "--from", "2026-01", "--to", "2026-04")
    check("2026-01" in bur and "2026-04" in bur, f"burned table: {bur!r}")


@test
def test_history_json_and_from_seq():
    """history --json: one JSON object per line with seq, type, recorded_at, effective_at and
    the event's fields (task, minutes, kind) at top level; --from-seq starts later."""
    lg = kit_ledger()
    lg.ok("log", "kit", "45m", "--kind", "support", "--task", "T-5", "--at", "2026-04-06T12:00")
    lines = lg.ok("--json", "history", "kit").splitlines()
    hist = [json.loads(l) for l in lines]
    check(len(hist) >= 3, f"registration, contract and work: {len(hist)} lines")
    for h in hist:
        for k, t in (("seq", int), ("type", str), ("recorded_at", str), ("effective_at", str)):
            check(isinstance(h.get(k), t), f"history line has {k} ({t.__name__}): {h}")
    seqs = [h["seq"] for h in hist]
    eq(seqs, sorted(seqs), "oldest first")
    w = [h for h in hist if h["type"] == "work_logged"]
    eq(len(w), 1, "one work_logged event")
    eq((w[0]["task"], w[0]["minutes"], w[0]["kind"]), ("T-5", 45, "support"), "fields at top level")
    check(w[0]["effective_at"].startswith("2026-04-06T12:00"), f"effective_at is --at: {w[0]['effective_at']}")
    later = [json.loads(l) for l in lg.ok("--json", "history", "kit", "--from-seq", seqs[-1]).splitlines()]
    eq([h["seq"] for h in later], [seqs[-1]], "--from-seq")
    table = lg.ok("history", "kit")
    check("work_logged" in table, f"history table: {table!r}")


@test
def test_rebuild():
    """rebuild replays the log: --json has events, clients, problems; it writes no events."""
    lg = kit_ledger()
    j = lg.json("rebuild")
    for k in ("events", "clients", "seconds", "problems"):
        check(k in j, f"rebuild --json has {k}: {j}")
    eq(j["clients"], 1, "one client")
    eq(j["problems"], 0, "no problems")
    eq(lg.json("rebuild")["events"], j["events"], "rebuild writes no events")
    check("replayed" in lg.ok("rebuild"), "rebuild says what it did")


@test
def test_demo():
    """demo builds a ledger in an empty directory, prints balances and the latest invoices,
    exits 0; it refuses a directory that is not empty."""
    lg = Ledger(init=False)
    p = lg.run("demo", timeout=150)
    eq(p.returncode, 0, f"demo exit code (stderr {p.stderr[-300:]!r})")
    check("Latest invoices" in p.stdout, "demo prints the latest invoices")
    check(lg.events() > 100, "demo wrote a realistic ledger")
    p = lg.run("demo")
    eq(p.returncode, 1, "demo into a non-empty ledger is refused")


@test
def test_incidents():
    """incident open/respond/resolve record SLA events, shown by sla --json."""
    lg = Ledger()
    lg.define("bpmonline.toml")
    lg.client("bank")
    lg.contract("bank", "bpm-basic", "2026-01", "--months", "12")
    lg.ok("incident", "open", "bank", "INC-1", "--priority", "1", "--at", "2026-04-06T11:00")
    lg.ok("incident", "respond", "bank", "INC-1", "--at", "2026-04-06T12:00")
    lg.ok("incident", "resolve", "bank", "INC-1", "--at", "2026-04-07T12:00")
    types = [json.loads(l)["type"] for l in lg.ok("--json", "history", "bank").splitlines()]
    check(sum(t.startswith("incident") for t in types) == 3, f"three incident events: {types}")
    sla = lg.json("sla", "bank", "2026-04")
    eq([i["id"] for i in sla["incidents"]], ["INC-1"], "sla lists the incident")
    eq(sla["incidents"][0]["priority"], 1, "priority")
    lg.refused("incident", "open", "bank", "INC-2", "--at", "2026-04-06T11:00", says="priority")
    lg.refused("incident", "respond", "bank", "INC-404")


HELP_COMMANDS = [
    ["init"], ["plan"], ["plan", "define"], ["plan", "list"], ["plan", "show"], ["client"], ["client", "add"],
    ["client", "list"], ["contract"], ["contract", "start"], ["contract", "units"], ["contract", "end"], ["log"],
    ["accept"], ["void"], ["incident"], ["incident", "open"], ["incident", "respond"], ["incident", "resolve"],
    ["buy"], ["pay"], ["adjust"], ["close"], ["balance"], ["invoice"], ["burned"], ["report"], ["sla"],
    ["history"], ["rebuild"], ["demo"], ["forecast"], ["whatif"],
]


@test
def test_help_everywhere():
    """--help on every command of CLI.md exits 0 and shows an example line ("e.g.")."""
    lg = Ledger(init=False)
    bad = []
    for cmd in HELP_COMMANDS:
        p = lg.run(*cmd, "--help", ledger=False)
        if p.returncode != 0 or "e.g." not in p.stdout:
            bad.append(f"{' '.join(cmd)} (exit {p.returncode})")
    check(not bad, "no example in --help of: " + ", ".join(bad))
    p = lg.run("--help", ledger=False)
    eq(p.returncode, 0, "hourbank --help")


# ------------------------------------------------------------------------------------------
# JSON keys of CLI.md

def keys(obj, spec, where):
    for k, t in spec.items():
        check(k in obj, f"{where} has key {k!r}: {sorted(obj)}")
        v = obj[k]
        if t is int:
            check(isinstance(v, int) and not isinstance(v, bool), f"{where}.{k} is an integer: {v!r}")
        elif isinstance(t, dict):
            check(isinstance(v, dict), f"{where}.{k} is an object: {v!r}")
            keys(v, t, f"{where}.{k}")
        else:
            check(isinstance(v, t), f"{where}.{k} is {t.__name__}: {v!r}")


@test
def test_json_keys():
    """The JSON keys CLI.md documents for balance, invoice, burned, report exist with their
    types (integers for minutes and minor units)."""
    lg = altercpa_ledger()
    lg.define("kit.toml")
    lg.client("kit")
    lg.contract("kit", "kit-hours-15", "2026-01", "--months", "12")
    lg.ok("log", "kit", "2h", "--kind", "support", "--task", "T-1", "--at", "2026-04-06T12:00")
    lg.ok("log", "shop", "--kind", "site_link", "--count", "2", "--at", "2026-04-06T12:00")
    for c in ("kit", "shop"):
        b = lg.json("balance", c)
        keys(b, {"client": str, "month": str, "currency": str,
                 "allowance": {"included_minutes": int, "used_minutes": int, "left_minutes": int},
                 "reserve_minutes": int, "prepaid_minutes": int, "overage_minutes": int, "slots": dict,
                 "outstanding_minor": int, "blocked": bool}, f"balance {c}")
        eq(b["month"], "2026-04", "balance month")
    slots = lg.json("balance", "shop")["slots"]
    check(slots, "altercpa has slots")
    for pool, s in slots.items():
        keys(s, {"quota": int, "used": int, "left": int}, f"slots.{pool}")
    inv = lg.json("invoice", "kit", "2026-04")
    keys(inv, {"client": str, "month": str, "currency": str, "lines": list, "total_minor": int, "closed": bool}, "invoice")
    check(inv["lines"], "invoice has lines")
    for l in inv["lines"]:
        keys(l, {"code": str, "description": str, "quantity": int, "unit_price_minor": int, "amount_minor": int}, "line")
        check(l["code"] in ("fee", "discount", "overage", "task", "surcharge", "addon", "hours_block", "extra",
                            "penalty", "credit"), f"documented line code: {l['code']}")
    bur = lg.json("burned", "kit", "--from", "2026-01", "--to", "2026-04")
    keys(bur, {"client": str, "months": list, "total_expired_minutes": int}, "burned")
    eq([m["month"] for m in bur["months"]], ["2026-01", "2026-02", "2026-03", "2026-04"], "burned months")
    for m in bur["months"]:
        keys(m, {"month": str, "included_minutes": int, "used_minutes": int, "carried_minutes": int,
                 "expired_minutes": int}, "burned.months[]")
    rep = lg.json("report", "kit", "2026-04")
    keys(rep, {"client": str, "month": str, "entries": list}, "report")
    for e in rep["entries"] + lg.json("report", "shop", "2026-04")["entries"]:
        keys(e, {"id": int, "at": str, "staff": str, "task": str, "kind": str, "minutes": int, "count": int,
                 "paid_by": str}, "report.entries[]")


# ------------------------------------------------------------------------------------------
# TARIFFS.md worked examples

@test
def test_tariffs_1c_start_worked_example():
    """TARIFFS.md 1C Start from 2025-10 (12 months, Europe/Moscow), month by month through
    the CLI: invoices 5 000, 12 000, 20 000 x 3, 30 000; February expires 60 minutes."""
    lg = Ledger()
    lg.define("1c-start.toml")
    lg.client("onec")
    lg.contract("onec", "1c-start", "2025-10", "--months", "12")

    def task(tid, dur, at, accepted):
        lg.ok("log", "onec", dur, "--kind", "development", "--task", tid, "--staff", "olga", "--at", at)
        if accepted:
            lg.ok("accept", "onec", "--task", tid, "--at", accepted)

    def close(month, total):
        lg.ok("close", "onec", month)
        inv = lg.json("invoice", "onec", month)
        eq((inv["total_minor"], inv["closed"]), (total, True), f"1C invoice {month}")
        lg.ok("pay", "onec", f"{total // 100}", "--at", f"{month}-28T12:00")  # paid: never blocked

    # 2025-10 (trial): 2h30m accepted; no allowance; 2.5 x 2000 = 5 000.00
    task("T1", "2h30m", "2025-10-10T12:00", "2025-10-20T12:00")
    close("2025-10", 500000)
    # 2025-11 (trial): 6h; 6 x 2000 = 12 000.00
    task("T2", "6h", "2025-11-10T12:00", "2025-11-20T12:00")
    close("2025-11", 1200000)
    # 2025-12: 3h from the allowance; 7h carried to the reserve; fee 20 000.00
    task("T3", "3h", "2025-12-10T12:00", "2025-12-20T12:00")
    close("2025-12", 2000000)
    eq(lg.json("burned", "onec", "--from", "2025-12", "--to", "2025-12")["months"][0]["carried_minutes"], 420,
       "December carries 7h")
    # 2026-01: 14h accepted = allowance 10h + reserve 4h; reserve 3h left. A task logged 30 Jan
    # and accepted 2 Feb does not count here.
    task("T4", "14h", "2026-01-10T12:00", "2026-01-20T12:00")
    task("T5", "1h", "2026-01-30T12:00", None)
    close("2026-01", 2000000)
    jan = lg.json("burned", "onec", "--from", "2026-01", "--to", "2026-01")["months"][0]
    eq((jan["used_minutes"], jan["carried_minutes"], jan["expired_minutes"]), (840, 0, 0), "January")
    # 2026-02: 1h + T5 accepted 2 Feb (1h) = 2h from the allowance; 8h left: reserve 3h + 8h
    # > cap 10h, so carry 7h, expire 1h.
    lg.ok("accept", "onec", "--task", "T5", "--at", "2026-02-02T12:00")
    task("T6", "1h", "2026-02-10T12:00", "2026-02-20T12:00")
    close("2026-02", 2000000)
    feb = lg.json("burned", "onec", "--from", "2026-02", "--to", "2026-02")["months"][0]
    eq((feb["used_minutes"], feb["carried_minutes"], feb["expired_minutes"]), (120, 420, 60),
       "February: 2h used, 7h carried, 1h expires")
    # 2026-03: 25h = allowance 10h + reserve 10h + overage 5h; 20 000 + 5 x 2000 = 30 000.00
    task("T7", "25h", "2026-03-10T12:00", "2026-03-20T12:00")
    close("2026-03", 3000000)
    totals = [lg.json("invoice", "onec", m)["total_minor"]
              for m in ("2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03")]
    eq(totals, [500000, 1200000, 2000000, 2000000, 2000000, 3000000], "1C invoices")
    rep = lg.json("report", "onec", "2026-02")
    eq(sorted(e["task"] for e in rep["entries"]), ["T5", "T6"], "February report: accepted tasks only")


@test
def test_tariffs_altercpa_basic_898():
    """TARIFFS.md AlterCPA Basic month: 500 + 50 + 150 + 30 + 18 + 150 = 898.00."""
    lg = Ledger()
    lg.define("altercpa.toml")
    lg.client("cpa", currency="USD")
    lg.contract("cpa", "altercpa-basic", "2026-03", "--months", "12")
    # 2026-03-03 is a Tuesday, 03-02 a Monday, 03-04 a Wednesday (Moscow time).
    lg.ok("log", "cpa", "--kind", "complex_integration", "--count", "1", "--at", "2026-03-03T11:00")   # one-off 50
    lg.ok("log", "cpa", "--kind", "complex_integration", "--count", "1", "--urgent",
          "--at", "2026-03-03T11:00")                                                                # 50 x 3 = 150
    lg.ok("log", "cpa", "--kind", "simple_integration", "--count", "1", "--urgent",
          "--at", "2026-03-03T11:00")                                                                # slot + (3-1) x 15 = 30
    lg.ok("log", "cpa", "--kind", "site_link", "--count", "22", "--at", "2026-03-02T15:00")         # 20 slots + 2 x 9 = 18
    lg.ok("log", "cpa", "--kind", "emergency", "--count", "1", "--at", "2026-03-04T20:00")          # off-hours price 150
    inv = lg.json("invoice", "cpa", "2026-03")
    eq(inv["total_minor"], 89800, "AlterCPA Basic month: 898.00")
    check("898.00" in lg.ok("invoice", "cpa", "2026-03"), "the table shows 898.00")
    lg.ok("close", "cpa", "2026-03")
    eq(lg.json("invoice", "cpa", "2026-03")["total_minor"], 89800, "frozen at close")


@test
def test_production_calendar_holidays_and_oneoff_plan():
    """Issue 13 (8, 9): AlterCPA 'по будням' follows the ru production calendar — Sat 1 Nov 2025
    is a working day, Tue 4 Nov a holiday — and altercpa-oneoff bills per task with no fee;
    an unknown production calendar is refused."""
    lg = Ledger()
    lg.define("altercpa.toml")
    check('production_calendar = "ru"' in lg.ok("plan", "show", "altercpa-basic"),
          "plan show prints the production calendar")
    lg.client("cpa", currency="USD")
    lg.contract("cpa", "altercpa-basic", "2025-11", "--months", "12")
    lg.ok("log", "cpa", "--kind", "emergency", "--count", "1", "--at", "2025-11-01T12:00")           # working Sat: 50
    lg.ok("log", "cpa", "--kind", "simple_integration", "--count", "1", "--at", "2025-11-04T12:00")  # holiday: slot + 15
    # 500 + 50 + (2 - 1) x 15 = 565.00
    eq(lg.json("invoice", "cpa", "2025-11")["total_minor"], 56500, "AlterCPA Basic, November 2025")
    lg.client("one", currency="USD")
    lg.contract("one", "altercpa-oneoff", "2026-03")
    lg.ok("log", "one", "--kind", "consultation", "--count", "2", "--at", "2026-03-03T11:00")         # 2 x 15
    eq(lg.json("invoice", "one", "2026-03")["total_minor"], 3000, "one-off: two consultations, no fee")
    bad = write(os.path.join(ROOT, "badcal.toml"), MINI_PLAN.format(fee=100) +
                '\n[plan.calendar]\ntimezone = "Europe/Moscow"\nproduction_calendar = "de"\n')
    lg.refused("plan", "define", bad, says="production_calendar")


# ------------------------------------------------------------------------------------------
# Refusals: exit code, one error line, nothing written

@test
def test_refuse_bad_durations():
    """Zero, negative, malformed and absurdly large durations are refused (log and buy)."""
    lg = Ledger()
    lg.define("kit.toml")
    lg.client("kit")
    lg.contract("kit", "kit-prepaid", "2026-01")
    for d in ("0m", "abc", "100000h", "1.5", "1h30", "0.5m"):
        lg.refused("log", "kit", d, "--kind", "support", "--at", "2026-04-06T12:00")
        lg.refused("buy", "kit", "--hours", d, "--price", "1000")
    for d in ("-1h", "-30m"):
        lg.refused("log", "kit", d, "--kind", "support", "--at", "2026-04-06T12:00", says="sign")
        lg.refused("log", "kit", "--kind", "support", "--at", "2026-04-06T12:00", "--", d, says="sign")
        lg.refused("buy", "kit", "--hours", d, "--price", "1000")
        lg.refused("buy", "kit", f"--hours={d}", "--price", "1000")


@test
def test_refuse_bad_amounts():
    """Zero, negative, too precise for the currency, exponent and huge amounts are refused
    (pay, buy --price, adjust)."""
    lg = kit_ledger()
    for a in ("0", "0.00", "1.234", "1e5", "abc", "1,5", "99999999999999999999"):
        lg.refused("pay", "kit", a)
        lg.refused("adjust", "kit", "--charge", a, "--reason", "x")
    lg.refused("pay", "kit", "-5")
    lg.refused("pay", "kit", "--", "-5")
    lg.refused("adjust", "kit", "--charge", "-5", "--reason", "x")
    lg.refused("adjust", "kit", "--charge=-5", "--reason", "x")
    lg2 = Ledger()
    lg2.define("kit.toml")
    lg2.client("pre")
    lg2.contract("pre", "kit-prepaid", "2026-01")
    for a in ("0", "1.234", "1e5"):
        lg2.refused("buy", "pre", "--hours", "10h", "--price", a)
    lg2.refused("buy", "pre", "--hours", "10h", "--price", "-5")
    lg2.refused("buy", "pre", "--hours", "10h", "--price=-5")
    lg2.ok("pay", "pre", "1.23")     # two decimals are fine for RUB


@test
def test_refuse_unknown_things():
    """Unknown client, plan, kind, add-on and entry are refused."""
    lg = altercpa_ledger()
    lg.refused("log", "nobody", "1h", "--kind", "support", says="nobody")
    lg.refused("pay", "nobody", "10", says="nobody")
    lg.refused("balance", "nobody", says="nobody")
    lg.refused("invoice", "nobody", "2026-03", says="nobody")
    lg.refused("contract", "start", "nobody", "--plan", "altercpa-basic", "--from", "2026-01")
    lg.client("other", currency="USD")
    lg.refused("contract", "start", "other", "--plan", "no-such-plan", "--from", "2026-01", says="no-such-plan")
    lg.refused("plan", "show", "no-such-plan", says="no-such-plan")
    lg.refused("log", "shop", "--kind", "no_such_kind", "--count", "1", says="no_such_kind")
    lg.refused("buy", "shop", "--addon", "no-such-addon", "--month", "2026-04", says="no-such-addon")
    lg.refused("void", "shop", "424242", "--reason", "x")
    lg.refused("log", "other", "--kind", "site_link", "--count", "1")   # registered, no contract


@test
def test_refuse_bad_zone_currency_duplicate():
    """An invalid time zone or currency, and a duplicate client, are refused."""
    lg = Ledger()
    lg.refused("client", "add", "a", "--name", "A", "--currency", "RUB", "--timezone", "Mars/Olympus", says="Mars")
    lg.refused("client", "add", "a", "--name", "A", "--currency", "XYZ", "--timezone", "Europe/Moscow", says="XYZ")
    lg.refused("client", "add", "a", "--name", "A", "--currency", "rub", "--timezone", "Europe/Moscow")
    lg.refused("client", "add", "Bad Id!", "--name", "A", "--currency", "RUB", "--timezone", "Europe/Moscow")
    lg.client("a")
    lg.refused("client", "add", "a", "--name", "A again", "--currency", "RUB", "--timezone", "Europe/Moscow")


@test
def test_refuse_bad_plan_files():
    """A malformed plan file (bad TOML, unknown key, float price) or a missing one is refused."""
    lg = Ledger()
    bad_toml = write(os.path.join(ROOT, "bad.toml"), '[[plan]\nid = "x"\n')
    unknown = write(os.path.join(ROOT, "unknown.toml"), MINI_PLAN.format(fee=100) + 'colour = "red"\n')
    unknown2 = write(os.path.join(ROOT, "unknown2.toml"),
                     MINI_PLAN.format(fee=100).replace('currency = "RUB"', 'currency = "RUB"\ncolour = "red"'))
    floaty = write(os.path.join(ROOT, "float.toml"), MINI_PLAN.format(fee="500.0"))
    for f in (bad_toml, unknown, unknown2, floaty):
        lg.refused("plan", "define", f)
    lg.refused("plan", "define", os.path.join(ROOT, "no-such-file.toml"), says="no-such-file")
    # One bad file among good ones: nothing from the good ones is written either.
    lg.refused("plan", "define", plan("kit.toml"), floaty)
    eq(lg.json("plan", "list"), [], "no plans defined")


@test
def test_refuse_months_that_do_not_exist():
    """Months such as 2026-13, 2026-00 and 26-01 are refused wherever a month is given."""
    lg = altercpa_ledger()
    for m in ("2026-13", "2026-00", "26-01", "2026-1"):
        lg.refused("contract", "start", "shop", "--plan", "altercpa-basic", "--from", m)
        lg.refused("invoice", "shop", m)
        lg.refused("close", "shop", m)
        lg.refused("buy", "shop", "--addon", "altercpa-sites-40", "--month", m)
        lg.refused("contract", "end", "shop", "--after", m)
    lg.refused("log", "shop", "--kind", "site_link", "--count", "1", "--at", "2026-02-30T10:00")


@test
def test_refuse_work_outside_term():
    """Work dated before the contract's first month or after its last is refused."""
    lg = altercpa_ledger()
    lg.refused("log", "shop", "--kind", "site_link", "--count", "1", "--at", "2026-02-27T12:00", says="outside")
    lg.ok("contract", "end", "shop", "--after", "2026-04")
    lg.refused("log", "shop", "--kind", "site_link", "--count", "1", "--at", "2026-05-04T12:00",
               now="2026-05-10T09:00:00Z", says="outside")


@test
def test_locked_month_needs_late():
    """Work dated in a closed month is refused without --late; with --late it is booked into
    the first open month."""
    lg = kit_ledger()
    lg.ok("close", "kit", "2026-01")
    lg.ok("pay", "kit", "38250")
    lg.refused("log", "kit", "1h", "--kind", "support", "--at", "2026-01-20T12:00", says="--late")
    j = lg.json("log", "kit", "1h", "--kind", "support", "--at", "2026-01-20T12:00", "--late")
    eq(j["month"], "2026-02", "booked into the first open month")
    es = lg.json("report", "kit", "2026-02")["entries"]
    eq([(e["minutes"], e["late"]) for e in es], [(60, True)], "February report has the late entry")
    eq(lg.json("report", "kit", "2026-01")["entries"], [], "January unchanged")


@test
def test_blocked_client_needs_emergency():
    """AlterCPA (debt_blocking "prepaid", grace_days 0): close a month, do not pay, log later ->
    refused; with --emergency -> accepted; paying March alone leaves the emergency unpaid (still
    blocked: "услуги не оказываются ... при наличии задолженностей за ... оказанные без
    предоплаты услуги"); paying everything charged so far (March 500 + April's prepaid fee 500 +
    the emergency 50 = 1 050) lifts the block."""
    lg = altercpa_ledger()
    lg.ok("close", "shop", "2026-03")
    check(lg.json("balance", "shop")["blocked"], "unpaid past 0 grace days: blocked")
    lg.refused("log", "shop", "--kind", "site_link", "--count", "1", "--at", "2026-04-06T12:00", says="blocked")
    lg.ok("log", "shop", "--kind", "emergency", "--count", "1", "--at", "2026-04-06T12:00", "--emergency")
    lg.ok("pay", "shop", "500")
    lg.refused("log", "shop", "--kind", "site_link", "--count", "1", "--at", "2026-04-06T13:00", says="blocked")
    lg.ok("pay", "shop", "550")
    lg.ok("log", "shop", "--kind", "site_link", "--count", "1", "--at", "2026-04-06T13:00")


@test
def test_plans_without_blocking_rule_do_not_block():
    """KIT has no debt rule (debt_blocking defaults to "none"): an unpaid closed month does not
    block work the next day; `plan show` prints each plan's rule."""
    lg = kit_ledger()
    lg.ok("close", "kit", "2026-01")
    check(not lg.json("balance", "kit", now="2026-02-01T09:00:00Z")["blocked"], "KIT never blocks")
    lg.ok("log", "kit", "1h", "--kind", "support", "--at", "2026-02-01T11:00", now="2026-02-01T09:00:00Z")
    out = lg.ok("plan", "show", "kit-hours-15")
    check("# debt blocking: none" in out, f"plan show prints the rule: {out!r}")
    lg.define("altercpa.toml")
    out = lg.ok("plan", "show", "altercpa-basic")
    check("# debt blocking: prepaid" in out and 'debt_blocking = "prepaid"' in out, f"AlterCPA rule: {out!r}")


@test
def test_contract_end_refusals_and_early():
    """contract end: refused when logged work would fall outside every contract (naming the
    entry; void it or end later); refused before the plan's minimum term without --early; with
    --early KIT charges the months left to the 3-month minimum."""
    lg = Ledger()
    lg.define("kit.toml")
    lg.client("kit")
    lg.contract("kit", "kit-hours-10", "2026-01", "--months", "6")
    entry = lg.json("log", "kit", "1h", "--kind", "support", "--at", "2026-03-10T12:00")["id"]
    line = lg.refused("contract", "end", "kit", "--after", "2026-02", says="outside every contract")
    check(f"#{entry}" in line and "void" in line and "end later" in line, f"names the entry and the fix: {line!r}")
    lg.ok("void", "kit", str(entry), "--reason", "wrong client")
    line = lg.refused("contract", "end", "kit", "--after", "2026-01", says="minimum term of 3 months")
    check("--early" in line, f"says how to proceed: {line!r}")
    lg.ok("contract", "end", "kit", "--after", "2026-01", "--early")
    # January: fee 25 500.00 + 2 months x 25 500.00 = 76 500.00.
    eq(lg.json("invoice", "kit", "2026-01")["total_minor"], 7650000, "early end charged in January")
    lg.refused("log", "kit", "1h", "--kind", "support", "--at", "2026-02-02T12:00", says="outside")


@test
def test_contract_renewal_keeps_open_month():
    """A renewal signed while the old contract's last month is open keeps that month's fee;
    an overlapping contract is refused naming both periods."""
    lg = Ledger()
    lg.define("kit.toml")
    lg.client("kit")
    lg.contract("kit", "kit-hours-10", "2026-01", "--months", "3")
    lg.ok("close", "kit", "2026-01")
    lg.ok("close", "kit", "2026-02")
    lg.refused("contract", "start", "kit", "--plan", "kit-hours-10", "--from", "2026-03", "--months", "3",
               says="overlaps the contract 2026-01 … 2026-03")
    lg.contract("kit", "kit-hours-10", "2026-04", "--months", "3")
    eq(lg.json("invoice", "kit", "2026-03")["total_minor"], 2550000, "March keeps the old contract's fee")
    lg.ok("log", "kit", "1h", "--kind", "support", "--at", "2026-03-10T12:00")


@test
def test_refuse_close_early_or_out_of_order():
    """A month cannot be closed before it ends, nor before the months before it."""
    lg = kit_ledger()
    lg.refused("close", "kit", "2026-02", says="2026-01")     # January is still open
    lg.refused("close", "kit", "2026-04", says="2026-01")
    for m in ("2026-01", "2026-02", "2026-03"):
        lg.ok("close", "kit", m)
    lg.refused("close", "kit", "2026-04", says="ended")       # now is 2026-04-15
    lg.refused("close", "kit", "2026-04", now="2026-04-30T20:59:00Z", says="ended")  # 23:59 in Moscow
    lg.ok("close", "kit", "2026-04", now="2026-04-30T21:00:00Z")                     # midnight in Moscow
    lg.refused("close", "--all")                              # --all needs --through
    lg.refused("close", "kit")                                # no month


# ------------------------------------------------------------------------------------------
# Idempotency and exit codes

@test
def test_idempotency_keys():
    """--key: the same key and arguments answer with the first result and write nothing; the
    same key with other arguments is a conflict (exit 3)."""
    lg = kit_ledger()
    args = ["log", "kit", "2h", "--kind", "support", "--task", "T-1", "--at", "2026-04-06T12:00", "--key", "req-1"]
    first = lg.ok(*args)
    n = lg.events()
    again = lg.ok(*args)
    eq(lg.events(), n, "a retry writes nothing")
    marker = " (already recorded: same key)"
    eq(again.strip().replace(marker, ""), first.strip(), "a retry answers with the first result")
    j1 = lg.json(*args)
    check(j1["replayed"] is True, "--json says replayed")
    eq(j1["id"], int(first.split("#")[1].split(":")[0]), "the same entry id")
    lg.refused("log", "kit", "3h", "--kind", "support", "--task", "T-1", "--at", "2026-04-06T12:00", "--key", "req-1",
               code=3, says="req-1")
    lg.refused("pay", "kit", "100", "--key", "req-1", code=3)
    # pay, buy, adjust, void: the retry prints what the first attempt printed.
    for args in (["pay", "kit", "100", "--ref", "r1", "--key", "pay-1"],
                 ["adjust", "kit", "--charge", "50", "--reason", "setup", "--key", "adj-1"],
                 ["void", "kit", j1["id"], "--reason", "wrong client", "--key", "void-1"]):
        first = lg.ok(*args)
        n = lg.events()
        eq(lg.ok(*args), first, f"`{' '.join(map(str, args))}` retried: same answer")
        eq(lg.json(*args)["summary"], first.strip(), "--json retry: same summary")
        eq(lg.events(), n, f"`{' '.join(map(str, args))}` retried: nothing written")
    lg.refused("pay", "kit", "200", "--key", "pay-1", code=3)
    # Keys are scoped per client and actor (docs/api.md): the same key for another client is
    # another key, so this is refused only because the client does not exist.
    lg.refused("pay", "other", "100", "--ref", "r1", "--key", "pay-1", code=1, says="other")
    eq(lg.json("balance", "kit")["outstanding_minor"], -10000, "one payment of 100.00 counted")
    eq(len(lg.json("report", "kit", "2026-04")["entries"]), 0, "one entry after all retries, then voided")
    lg2 = Ledger()
    lg2.define("kit.toml")
    lg2.client("pre")
    lg2.contract("pre", "kit-prepaid", "2026-01")
    args = ["buy", "pre", "--hours", "10h", "--price", "1000", "--key", "buy-1"]
    first = lg2.ok(*args)
    n = lg2.events()
    eq(lg2.ok(*args), first, "buy retried: same answer")
    eq(lg2.events(), n, "buy retried: nothing written")
    eq(lg2.json("balance", "pre")["prepaid_minutes"], 600, "one block")
    lg2.refused("buy", "pre", "--hours", "20h", "--price", "1000", "--key", "buy-1", code=3)


@test
def test_exit_codes():
    """Exit codes: 0 ok; 1 refused; 2 usage (unknown command, missing required argument or
    option, bad option value); 3 conflict."""
    lg = kit_ledger()
    eq(lg.run("balance", "kit").returncode, 0, "ok")
    lg.refused("close", "kit", "2026-04", code=1)
    lg.refused("no-such-command", code=2)
    lg.refused("log", code=2)                              # CLIENT missing
    lg.refused("log", "kit", "1h", code=2)                 # --kind missing
    lg.refused("client", "add", "x", "--currency", "RUB", "--timezone", "UTC", code=2)   # --name missing
    lg.refused("plan", "define", code=2)
    lg.refused("void", "kit", "notanumber", "--reason", "x", code=2)
    lg.refused("log", "kit", "1h", "--kind", "support", "--off-hours", "--in-hours", code=2)
    lg.ok("log", "kit", "1h", "--kind", "support", "--key", "x1")
    lg.refused("log", "kit", "2h", "--kind", "support", "--key", "x1", code=3)
    p = lg.run("balance", "kit", now="not-a-time")
    eq(p.returncode, 2, "a bad HOURBANK_NOW is a usage error")


# ------------------------------------------------------------------------------------------
# Issue 14 item 12: empty or absurd flag values, and user text printed escaped

@test
def test_refuse_empty_and_absurd_flags():
    """--at "", --actor "" / blank / over 128 bytes / with control characters, void --reason
    blank, contract start --months 0 and --as-of "" are usage errors (exit 2, one line,
    nothing written); an actor of exactly 128 bytes is accepted."""
    lg = kit_ledger()
    j = lg.json("log", "kit", "2h", "--kind", "support", "--at", "2026-04-06T12:00")
    work = ["log", "kit", "1h", "--kind", "support", "--at", "2026-04-06T13:00"]
    lg.refused("log", "kit", "1h", "--kind", "support", "--at", "", code=2, says="--at: is empty")
    lg.refused("pay", "kit", "100", "--at", "   ", code=2, says="--at")
    lg.refused("buy", "kit", "--hours", "10h", "--price", "1000", "--at", "", code=2, says="--at")
    lg.refused("--actor", "", *work, code=2, says="actor is empty")
    lg.refused("--actor", "   ", *work, code=2, says="actor is empty")
    lg.refused("--actor", "a" * 129, *work, code=2, says="at most 128 bytes")
    lg.refused("--actor", "a" * 100000, *work, code=2, says="at most 128 bytes")
    lg.refused("--actor", "ann\x1b[2J", *work, code=2, says="control characters")
    lg.refused("void", "kit", j["id"], "--reason", "   ", code=2, says="blank")
    lg.refused("void", "kit", j["id"], "--reason", "", code=2, says="blank")
    lg.refused("adjust", "kit", "--charge", "50", "--reason", " \t ", code=2, says="blank")
    lg.refused("balance", "kit", "--as-of", "", code=2, says="--as-of")
    lg.refused("history", "kit", "--known-at", "", code=2, says="--known-at")
    lg.ok("--actor", "a" * 128, *work)
    bare = Ledger()
    bare.define("kit.toml")
    bare.client("kit")
    for months in ("0", "1201", "-1", "six"):
        bare.refused("contract", "start", "kit", "--plan", "kit-hours-15", "--from", "2026-01", "--months", months,
                     code=2, says="months")
    bare.ok("contract", "start", "kit", "--plan", "kit-hours-15", "--from", "2026-01", "--months", "12")


@test
def test_control_characters_in_user_text_are_printed_escaped():
    """Task, note, staff, ref and reason are stored as given but every table and line for
    people shows their control characters escaped (\\xNN): no terminal escape code reaches
    the terminal raw. --json keeps the exact text."""
    lg = kit_ledger()
    task = "T-1\x1b[31mRED\x1b[0m"
    note = "bell\x07 and\rCR\x9b"
    out = lg.ok("log", "kit", "1h", "--kind", "support", "--at", "2026-04-06T12:00", "--task", task,
                "--note", note, "--staff", "ann\x1b]0;title\x07")
    lg.ok("pay", "kit", "100", "--ref", "inv\x1b[2J-1")
    outputs = {
        "log": out,
        "report": lg.ok("report", "kit", "2026-04"),
        "history": lg.ok("history", "kit"),
        "balance": lg.ok("balance", "kit"),
        "void": lg.ok("void", "kit", lg.json("report", "kit", "2026-04")["entries"][0]["id"], "--reason", "dup\x1b[1A"),
    }
    for name, text in outputs.items():
        for bad in ("\x1b", "\x07", "\r", "\x9b", "\u009b"):
            check(bad not in text, f"`{name}` printed {bad!r} raw: {text!r}")
    check("T-1\\x1b[31mRED" in outputs["report"], f"report shows the task escaped: {outputs['report']!r}")
    logged = [json.loads(x) for x in lg.ok("--json", "history", "kit").splitlines()]
    eq([e["task"] for e in logged if e["type"] == "work_logged"], [task], "--json keeps the exact task")
    p = lg.run("log", "no\x1bclient", "1h", "--kind", "support")
    check(p.returncode != 0 and "\x1b" not in p.stderr, f"an error echoing user text is escaped: {p.stderr!r}")


def main():
    start = time.time()
    passed = failed = 0
    only = set(os.environ.get("CLI_TEST_ONLY", "").split(",")) - {""}
    for fn, xfail in TESTS:
        if only and fn.__name__ not in only:
            continue
        t0 = time.time()
        try:
            fn()
            err = None
        except Failure as e:
            err = str(e)
        except Exception:
            err = traceback.format_exc()
        dt = time.time() - t0
        if xfail:
            if err:
                print(f"XFAIL {fn.__name__} ({dt:.1f}s): {reason_line(xfail)}: {err}", flush=True)
                passed += 1
            else:
                print(f"FAIL  {fn.__name__} ({dt:.1f}s): expected to fail ({xfail}) but passed", flush=True)
                failed += 1
        elif err:
            print(f"FAIL  {fn.__name__} ({dt:.1f}s): {err}", flush=True)
            failed += 1
        else:
            print(f"ok    {fn.__name__} ({dt:.1f}s)", flush=True)
            passed += 1
    shutil.rmtree(ROOT, ignore_errors=True)
    print(f"took {time.time() - start:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def reason_line(r):
    return r.splitlines()[0]


if __name__ == "__main__":
    sys.exit(main())
