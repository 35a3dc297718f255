#!/usr/bin/env python3
"""End-to-end tests of the tables `hourbank` prints for people, and of the same figures in the
balance, the answer to `log` and the client statement, on the real binary.

Usage: tables_test.py PATH/TO/hourbank

Tables: text columns are left-aligned and number columns right-aligned, every header stands
over its column (measured in display columns: Cyrillic and ₽ are one column each), a long cell
is cut with "…" and `--wide` shows it whole. Runs the demo once into a temporary ledger, then
adds what each test needs with HOURBANK_NOW fixed in May 2026 (the demo closes April).

Python 3 standard library only. Prints one line per test and `N passed, M failed`; exits
non-zero on any failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import unicodedata

if len(sys.argv) != 2:
    sys.exit("usage: tables_test.py PATH/TO/hourbank")
HB = os.path.abspath(sys.argv[1])
ROOT = tempfile.mkdtemp(prefix="hourbank-tables-")
LEDGER = os.path.join(ROOT, "ledger")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HOURBANK_")}
ENV["USER"] = "tester"
NOW_ENV = dict(ENV, HOURBANK_NOW="2026-05-20T12:00:00Z")


def run(*args, now=True):
    p = subprocess.run([HB, "--ledger", LEDGER, *args], capture_output=True, text=True,
                       env=NOW_ENV if now else ENV, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"hourbank {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def width(s):
    """Terminal columns: wide and fullwidth characters 2, combining marks 0, others 1."""
    n = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def col(line, needle, last=False):
    """Display column where `needle` starts in `line` (the last occurrence with last=True)."""
    at = line.rfind(needle) if last else line.find(needle)
    if at < 0:
        raise AssertionError(f"{needle!r} not in {line!r}")
    return width(line[:at])


def end(line, needle, last=True):
    return col(line, needle, last) + width(needle)


def table(text, header_start):
    """The lines of the table whose header line starts with `header_start`, up to a blank line."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(header_start):
            out = [line]
            for rest in lines[i + 1:]:
                if not rest.strip():
                    break
                out.append(rest)
            return out
    raise AssertionError(f"no table starting {header_start!r} in:\n{text}")


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ---------------------------------------------------------------------------------------

DEMO = ""


@test
def demo_balance_table_has_its_plan_header_over_the_plan_column():
    t = table(DEMO, "client       plan")
    header = t[0]
    rows = {line.split()[0]: line for line in t[1:]}
    # "1c-start" starts with a digit but is text: left-aligned under "plan" like the others.
    for client, plan in (("stroymarket", "1c-start"), ("leadgen", "altercpa-basic"), ("bank-crm", "bpm-business")):
        eq(col(rows[client], plan), col(header, "plan"), f"{client}'s plan column")
    # Numbers right-aligned under their headers.
    eq(end(rows["stroymarket"], "10h", last=False), end(header, "allowance left"), "allowance left column")
    eq(end(rows["logistic"], "15h", last=False), end(header, "allowance left"), "allowance left column")
    eq(end(rows["stroymarket"], "0.00 ₽"), end(header, "outstanding"), "outstanding column")
    eq(end(rows["leadgen"], "$670.00"), end(header, "outstanding"), "outstanding column")
    # The cut slots cell ends with "…", not "...".
    check("…" in rows["leadgen"] and "..." not in rows["leadgen"], "a cut cell ends with …")


@test
def demo_invoice_tables_have_descriptions_under_their_header_and_amounts_right_aligned():
    blocks = re.findall(r"(invoice \S+ 2026-04 \(closed\)\n(?:.+\n)+)", DEMO)
    eq(len(blocks), 10, "invoices in the demo output")  # + bank-sla, SLA breach credits (issue 18)
    for block in blocks:
        lines = block.rstrip("\n").split("\n")
        header, body = lines[1], lines[2:]
        d = col(header, "description")
        a = end(header, "amount")
        for line in body[:-1]:  # every line but the total
            cells = re.split(r"  +", line.strip())
            code, desc = cells[0], cells[1]
            eq(col(line, desc), d, f"description {desc!r} in {lines[0]!r}")
            eq(end(line, cells[-1]), a, f"amount of {code} in {lines[0]!r}")
        eq(end(body[-1], re.split(r"  +", body[-1].strip())[-1]), a, f"total of {lines[0]!r}")


@test
def a_long_invoice_description_is_cut_with_an_ellipsis_and_wide_shows_it_whole():
    reason = "Штраф за уклонение от оплаты задолженности: десятикратный размер долга по счёту за апрель"
    run("adjust", "leadgen", "--penalty", "67", "--reason", reason, "--month", "2026-05")
    cut = run("invoice", "leadgen", "2026-05")
    check(reason not in cut, "the default table cuts the 88-column reason")
    line = next(l for l in cut.split("\n") if l.startswith("penalty"))
    cell = re.split(r"  +", line)[1]
    check(cell.endswith("…") and reason.startswith(cell[:-1]), f"cut cell {cell!r} ends with …")
    eq(width(cell), 40, "a cut description is 40 columns")
    header = cut.split("\n")[1]
    eq(col(line, cell), col(header, "description"), "the cut cell stays under its header")
    wide = run("invoice", "leadgen", "2026-05", "--wide")
    line = next(l for l in wide.split("\n") if l.startswith("penalty"))
    check(reason in line, "--wide shows the whole description")
    header = wide.split("\n")[1]
    eq(end(line, "$67.00"), end(header, "amount"), "amounts still right-aligned with --wide")


@test
def a_long_task_in_the_report_is_cut_and_wide_shows_it():
    task = "SM-" + "очень-длинное-имя-задачи-" * 3
    run("log", "logistic", "1h", "--kind", "support", "--task", task, "--at", "2026-05-11T10:00")
    cut = run("report", "logistic", "2026-05")
    check(task not in cut and "…" in cut, "the report cuts the long task")
    check(task in run("report", "logistic", "2026-05", "--wide"), "--wide shows the whole task")


def minutes(text):
    """Minutes of "12h30m" / "45m" / "3h" or of the Russian "12 ч 30 мин" / "0 ч"."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?", text) or re.fullmatch(r"(?:(\d+) ч)? ?(?:(\d+) мин)?", text)
    if not m or not text:
        raise AssertionError(f"not a duration: {text!r}")
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


@test
def the_balance_the_log_answer_and_the_statement_show_the_same_hours_left():
    # retail-one (KIT option 3, prepaid blocks, RUB): a 10 h block bought in May, then 3 h of
    # work: prepaid 10 − 3 = 7 h left; no allowance, no reserve.
    run("buy", "retail-one", "--hours", "10h", "--at", "2026-05-03T10:00")
    line = run("log", "retail-one", "3h", "--kind", "support", "--task", "R-9", "--at", "2026-05-12T10:00").strip()
    m = re.search(r"→ (.*) \| left in 2026-05: allowance (\S+), reserve (\S+), prepaid (\S+)$", line)
    check(m, f"the log answer names what is left: {line!r}")
    paid_by = m.group(1)
    check(paid_by.startswith("block #"), f"paid by a block: {paid_by!r}")
    bal = json.loads(run("balance", "retail-one", "--as-of", "2026-05-20T12:00", "--json"))
    eq(bal["prepaid_minutes"], 420, "balance: prepaid left (10 h − 3 h)")
    eq(minutes(m.group(4)), bal["prepaid_minutes"], "log answer vs balance: prepaid")
    eq(minutes(m.group(2)), bal["allowance"]["left_minutes"], "log answer vs balance: allowance")
    eq(minutes(m.group(3)), bal["reserve_minutes"], "log answer vs balance: reserve")
    text = run("statement", "retail-one", "2026-05", "--text")
    got = re.search(r"Остаток предоплаченных часов +(.+)\n", text)
    check(got, "the statement shows prepaid hours left")
    eq(minutes(got.group(1)), bal["prepaid_minutes"], "statement vs balance: prepaid")
    got = re.search(r"Осталось из тарифа +(.+)\n", text)
    eq(minutes(got.group(1)), bal["allowance"]["left_minutes"], "statement vs balance: allowance")
    # What paid for the entry: the same in the report (English) and the statement (Russian).
    rep = json.loads(run("report", "retail-one", "2026-05", "--json"))
    entry = [e for e in rep["entries"] if e["task"] == "R-9"]
    eq([e["paid_by"] for e in entry], [paid_by], "report vs log answer: paid by")
    block = paid_by.split()[1]
    check(f"Чем оплачено: пакет {block} 3 ч" in text, f"the statement says пакет {block} 3 ч")
    # The JSON answer to log carries the same sentence and figures.
    j = json.loads(run("log", "retail-one", "30m", "--kind", "support", "--task", "R-10",
                       "--at", "2026-05-13T10:00", "--json"))
    check(j["line"].endswith("prepaid 6h30m"), f"JSON line: {j['line']!r}")
    eq(j["balance"]["prepaid_minutes"], 390, "JSON balance after 30 more minutes")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    global DEMO
    passed = failed = 0
    try:
        DEMO = run("demo", now=False)
        for fn in TESTS:
            try:
                fn()
                print(f"ok   {fn.__name__}")
                passed += 1
            except Exception:
                print(f"FAIL {fn.__name__}\n{traceback.format_exc()}")
                failed += 1
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
