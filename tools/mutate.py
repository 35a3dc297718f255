#!/usr/bin/env python3
"""Mutation runner: small wrong changes to rules that matter; the test suite must catch each.

    tools/mutate.sh                 a rotating subset of 3 (chosen by the UTC date and HEAD), as CI runs it
    tools/mutate.sh --all           every mutant
    tools/mutate.sh --only ID,ID    these mutants
    tools/mutate.sh --list          print the list and exit
    tools/mutate.sh --report FILE   also write the result table (markdown) to FILE

Each mutant is (id, file, the exact original snippet, its replacement, the ctest regex of the
tests that must catch it, the targets those tests need). The runner copies the source tree to a
persistent work directory (HOURBANK_MUTATE_DIR, default ~/.cache/hourbank-mutate/<hash of the
checkout path>), writes only files whose content changed (so the build there stays incremental),
builds it once unmutated and runs every selected mutant's tests there: they must pass, or the
mutant proves nothing. Then, per mutant: apply it to the copy, build the targets, run the tests,
put the original back. A mutant is KILLED when its tests fail, SURVIVED when they all pass.

Exit status: 0 every mutant killed; 1 a mutant survived; 2 the runner could not judge a mutant
(its snippet is not found exactly once in the file, e.g. after someone changed that line; the
mutant does not compile; its tests fail unmutated or match no test). Such a mutant is never
skipped silently: fix its entry in MUTANTS.

ccache makes the first build of the copy cheap when the main build used the same settings:
tools/test.sh and this runner both build with CCACHE_BASEDIR=<source root> and
CCACHE_NOHASHDIR=1, so objects are shared between the checkout and the copy.
"""
import argparse
import datetime
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

# (id, file, original, replacement, ctest regex, targets, what the change breaks)
M = []


def mutant(mid, path, original, replacement, tests, targets, what):
    M.append(dict(id=mid, file=path, original=original, replacement=replacement, tests=tests,
                  targets=targets, what=what))


HB = ["hourbank"]
AUDIT = ["hourbank", "e2e_tamper"]
RULES = ["billing_rules_tests"]
SCEN = ["scenario_tests"]

mutant("overage-truncated", "projections/month_eval.cc",
       "minutes, rate, RoundDiv(minutes * rate, 60)});",
       "minutes, rate, minutes * rate / 60});",
       r"overage of 1h02m", RULES,
       "overage line amounts truncated instead of rounded")
mutant("round-half-down", "projections/units.cc",
       "if (abs_remainder != 0 && abs_remainder >= denominator - abs_remainder) {",
       "if (abs_remainder != 0 && abs_remainder > denominator - abs_remainder) {",
       r"exactly half a minor unit", RULES,
       "RoundDiv rounds a half down instead of away from zero")
mutant("reserve-cap-ignored", "projections/month_eval.cc",
       "std::clamp<int64_t>(plan->reserve_cap_minutes - reserve_after_use, 0, unused);",
       "std::clamp<int64_t>(plan->reserve_cap_minutes, 0, unused);",
       r"1C Start", SCEN,
       "the reserve cap ignores what is already in the reserve")
mutant("reserve-before-allowance", "projections/month_eval.cc",
       "take(allowance_left, Charge::Source::kAllowance);",
       "take(reserve_left, Charge::Source::kReserve); take(allowance_left, Charge::Source::kAllowance);",
       r"1C Start", SCEN,
       "work draws the reserve before the month's allowance")
mutant("block-latest-expiry-first", "projections/month_eval.cc",
       "return ea != eb ? ea < eb : a.seq < b.seq;",
       "return ea != eb ? ea > eb : a.seq < b.seq;",
       r"block that expires first", RULES,
       "prepaid blocks drawn latest-expiring first")
mutant("multipliers-add-up", "projections/state.cc",
       "if (e.off_hours) m = std::max(m, t->plan->off_hours_percent);",
       "if (e.off_hours) m = m + t->plan->off_hours_percent - 100;",
       r"larger multiplier", RULES,
       "urgent and off-hours surcharges add up instead of the larger winning")
mutant("urgent-ignored", "projections/state.cc",
       "if (e.urgent) m = std::max(m, t->plan->urgent_percent);",
       "if (e.urgent) m = std::max(m, 100u);",
       r"larger multiplier", RULES,
       "the urgent multiplier is not applied")
mutant("tokens-any-role", "service/auth.cc",
       "{Operation::kTokens, \"manage tokens\",             false, false,  false,  false},",
       "{Operation::kTokens, \"manage tokens\",             true,  true,   true,   true},",
       r"^e2e_serve$", HB,
       "POST /v1/tokens (and every admin route) allowed for any role")
mutant("history-any-role", "service/auth.cc",
       "{Operation::kReadEvents, \"read events\",           false, false,  true,   false},",
       "{Operation::kReadEvents, \"read events\",           true,  true,   true,   true},",
       r"^e2e_serve$", HB,
       "GET .../events allowed for any role")
mutant("request-digest-path-only", "service/execute.cc",
       "  text += request;",
       "  (void)request;",
       r"^e2e_serve$", HB,
       "the idempotency digest of a server request ignores the body")
mutant("chain-link-unchecked", "ledger/log_verify.cc",
       "const bool link_ok = prev_hash == link;",
       "const bool link_ok = true;",
       r"e2e: audit flipped_byte|ledger:a changed (byte|prevHash)", AUDIT + ["ledger_tests"],
       "Verify no longer compares each event's prevHash with the hash of the one before")
mutant("key-digest-unchecked", "ledger/log_write.cc",
       "if (seen->request_digest != w->request_digest) {",
       "if (false) {",
       r"ledger:.*(key|idempot)", ["ledger_tests"],
       "an idempotency key reused with another request replays instead of conflicting")
mutant("close-total-unchecked", "projections/state.cc",
       "if (rc.total_minor != ev.invoice.total_minor)",
       "if (false)",
       r"e2e: audit altered_close_total", AUDIT,
       "replay no longer recomputes a close's invoice total")
mutant("carried-unchecked", "projections/state.cc",
       "if (rc.carried_minutes != ev.carried_minutes)",
       "if (false)",
       r"e2e: audit altered_carried_over", AUDIT,
       "replay no longer compares recorded carried-over hours with the rules")
mutant("trial-one-month-longer", "projections/month_eval.cc",
       "MonthsBetween(in.relationship_first, month) < int32_t(plan->trial_months);",
       "MonthsBetween(in.relationship_first, month) <= int32_t(plan->trial_months);",
       r"1C Start", SCEN,
       "one trial month too many")
mutant("discounts-added", "projections/month_eval.cc",
       "const int64_t factor = int64_t(100 - prepaid_percent) * int64_t(100 - timely_percent);",
       "const int64_t factor = int64_t(100 - prepaid_percent - timely_percent) * 100;",
       r"[Aa]gbis|AGBIS", SCEN,
       "prepaid and timely discounts added instead of compounded")
mutant("prepaid-threshold", "projections/month_eval.cc",
       "if (prepaid_months >= d.min_months) percent = std::max(percent, d.percent);",
       "if (prepaid_months > d.min_months) percent = std::max(percent, d.percent);",
       r"7-month prepayment", RULES,
       "a prepayment of exactly min_months gets no discount")
mutant("slot-quota-plus-one", "projections/month_eval.cc",
       "const int64_t n = std::min<int64_t>(left, pit->second.left());",
       "const int64_t n = std::min<int64_t>(left, pit->second.left() + 1);",
       r"[Aa]lter[Cc][Pp][Aa]", SCEN,
       "one slot more than the quota is free")
mutant("block-expires-late", "projections/month_eval.cc",
       "(after.expires_month != 0 && after.expires_month <= month) || in.blocks_expire;",
       "(after.expires_month != 0 && after.expires_month < month) || in.blocks_expire;",
       r"expiry", SCEN + RULES,
       "a block's remainder expires a month after its expiry month")
mutant("reserve-outlives-term", "projections/month_eval.cc",
       "if (in.reserve_expires) {",
       "if (false) {",
       r"reserve", SCEN,
       "the reserve does not expire with the contract's last month")
mutant("grace-one-instant-late", "projections/state.cc",
       "if (due_us <= now_us) due_minor += rc.total_minor;",
       "if (due_us < now_us) due_minor += rc.total_minor;",
       r"grace days", SCEN,
       "a client is blocked one instant after the invoice falls due")
mutant("void-still-counts", "projections/state.cc",
       "seqs.erase(std::remove(seqs.begin(), seqs.end(), target), seqs.end());",
       "(void)seqs;",
       r"[Vv]oid", SCEN + ["property_tests", "statement_tests"],
       "a voided entry still counts in its month")
mutant("csv-overlong-utf8", "tools/hourbank/import/csv.cc",
       "if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;",
       "if (cp < kMin[n - 1] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;",
       r"overlong UTF-8", ["csv_tests"],
       "the import accepts overlong UTF-8 forms")

mutant("prepaid-left-drops-expiring", "reports/figures.cc",
       "  if (!m.closed)\n",
       "  if (false)\n",
       r"prepaid minutes left|same figures", ["reports_tests"],
       "prepaid minutes left forget a block that expires at an open month's close")
mutant("forecast-latest-block-first", "reports/forecast.cc",
       "return ea != eb ? ea < eb : a.seq < b.seq;",
       "return ea != eb ? ea > eb : a.seq < b.seq;",
       r"blocks run out soonest-expiring first", ["forecast_tests"],
       "the forecast draws the latest-expiring block first, unlike billing")
mutant("whatif-keeps-closes", "reports/whatif.cc",
       "    case Event::Body::PERIOD_CLOSED:\n      return false;",
       "    case Event::Body::PERIOD_CLOSED:\n      break;",
       r"what-if on a", ["whatif_tests"],
       "the what-if keeps the recorded closes, so closed months show the real plan's figures")
mutant("client-reads-any-client", "service/auth.cc",
       "  if (caller.role != Role::CLIENT || client == caller.client) return Status::Ok();",
       "  if (caller.role != Role::CLIENT || !client.empty()) return Status::Ok();",
       r"client token", ["service_tests"],
       "a client token reads every other client's data (the portal's isolation)")
mutant("alert-one-minute-early", "projections/alerts.cc",
       "if (ev.allowance_used_minutes * 100 < int64_t(percent) * ev.included_minutes) break;",
       "if (ev.allowance_used_minutes * 100 <= int64_t(percent) * ev.included_minutes) break;",
       r"8 of 1C Start", ["alerts_tests"],
       "the allowance alert waits for one minute past its threshold (8 h of 10 h raise no 80 %)")

mutant("webhook-signs-body-only", "service/webhooks.cc",
       "  std::string message = t + \".\";\n",
       "  std::string message;\n",
       r"signature header is t=SECONDS", ["service_webhooks_tests"],
       "the webhook signature leaves the timestamp out, so a captured request can be replayed later")
mutant("overdue-one-instant-late", "projections/alerts.cc",
       "    if (due.now_us() < due_us) continue;",
       "    if (due.now_us() <= due_us) continue;",
       r"overdue from 11 May 00:00", ["alerts_tests"],
       "the invoice-overdue alert waits past the first instant of its due day")

# The order of a full run: the three the issue named first, then by how much a slip would cost.
ORDER = ["carried-unchecked", "tokens-any-role", "overage-truncated", "round-half-down", "close-total-unchecked",
         "reserve-cap-ignored", "chain-link-unchecked", "key-digest-unchecked", "multipliers-add-up",
         "discounts-added", "trial-one-month-longer", "slot-quota-plus-one", "block-expires-late",
         "block-latest-expiry-first", "prepaid-threshold", "csv-overlong-utf8", "request-digest-path-only",
         "history-any-role", "reserve-before-allowance", "urgent-ignored", "reserve-outlives-term",
         "grace-one-instant-late", "void-still-counts", "prepaid-left-drops-expiring",
         "forecast-latest-block-first", "whatif-keeps-closes", "client-reads-any-client",
         "alert-one-minute-early", "webhook-signs-body-only", "overdue-one-instant-late"]
assert sorted(ORDER) == sorted(m["id"] for m in M), "ORDER must name every mutant once"
M.sort(key=lambda m: ORDER.index(m["id"]))


def sh(cmd, **kw):
    return subprocess.run(cmd, **kw)


def source_files(root):
    out = sh(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
             capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(root, f))]


def sync(root, dest):
    """Copies root's source files to dest, writing only files whose content differs."""
    files = source_files(root)
    written = 0
    for f in files:
        src, dst = os.path.join(root, f), os.path.join(dest, f)
        data = open(src, "rb").read()
        try:
            if open(dst, "rb").read() == data:
                continue
        except OSError:
            pass
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as out:
            out.write(data)
        shutil.copymode(src, dst)
        written += 1
    keep = set(files)
    for dirpath, dirnames, filenames in os.walk(dest):
        rel = os.path.relpath(dirpath, dest)
        if rel == "." and "build" in dirnames:
            dirnames.remove("build")
        for name in filenames:
            f = os.path.normpath(os.path.join(rel, name))
            if f not in keep:
                os.remove(os.path.join(dirpath, name))
    return written


def pick_subset(count):
    """A rotating subset: a stride through the list from a start chosen by date and commit."""
    day = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.date(2026, 1, 1)).days
    head = sh(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or "0"
    start = (day + int(head[:8], 16)) % len(M)
    stride = max(1, len(M) // count)
    picked = []
    for i in range(count):
        idx = (start + i * stride) % len(M)
        while M[idx] in picked:
            idx = (idx + 1) % len(M)
        picked.append(M[idx])
    return picked


def main():
    ap = argparse.ArgumentParser(description="apply one-line wrong changes and check the tests catch each")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--check", action="store_true", help="only check every snippet is found exactly once")
    ap.add_argument("--report", default="")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)

    ids = [m["id"] for m in M]
    assert len(ids) == len(set(ids)), "duplicate mutant ids"
    if args.check:
        bad = 0
        for m in M:
            found = open(m["file"], encoding="utf-8").read().count(m["original"])
            if found != 1:
                bad += 1
                print(f"mutate: {m['id']}: snippet found {found} times in {m['file']}: {m['original']!r}", file=sys.stderr)
        print(f"mutate: {len(M) - bad} of {len(M)} snippets found exactly once")
        return 1 if bad else 0
    if args.list:
        for m in M:
            print(f"{m['id']:28} {m['file']:28} {m['what']}")
        return 0
    if args.all:
        chosen = list(M)
    elif args.only:
        want = args.only.split(",")
        unknown = [w for w in want if w not in ids]
        if unknown:
            print(f"mutate: unknown mutant(s) {unknown}; see --list", file=sys.stderr)
            return 2
        chosen = [m for m in M if m["id"] in want]
    else:
        chosen = pick_subset(min(args.count, len(M)))
    print(f"mutate: {len(chosen)} of {len(M)} mutants: {', '.join(m['id'] for m in chosen)}", flush=True)

    work = os.environ.get("HOURBANK_MUTATE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "hourbank-mutate", hashlib.sha1(root.encode()).hexdigest()[:10])
    src = os.path.join(work, "src")
    build = os.path.join(src, "build")
    os.makedirs(src, exist_ok=True)
    t0 = time.time()
    n = sync(root, src)
    print(f"mutate: copy in {src} ({n} files written)", flush=True)

    results = {}  # id -> (verdict, detail)

    # Every snippet must be found exactly once: a mutant whose line changed is a runner error.
    for m in chosen:
        text = open(os.path.join(src, m["file"]), encoding="utf-8").read()
        found = text.count(m["original"])
        if found != 1:
            results[m["id"]] = ("ERROR", f"snippet {'not found' if found == 0 else f'found {found} times'} in {m['file']}: "
                                         f"{m['original']!r}")
    runnable = [m for m in chosen if m["id"] not in results]

    env = dict(os.environ, CCACHE_BASEDIR=src, CCACHE_NOHASHDIR="1")
    # Configure every time, not only when the cache is missing: a build directory kept from an
    # older tree does not know targets added since (make says "No rule to make target").
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    r = sh(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", *launcher],
           env=env, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-3000:])
        print("mutate: cmake failed on the unmutated copy", file=sys.stderr)
        return 2

    def build_targets(targets):
        r = sh(["cmake", "--build", build, "-j", str(args.jobs), "--target", *sorted(set(targets))],
               env=env, capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr)[-4000:]

    def run_tests(regex):
        r = sh(["ctest", "--test-dir", build, "-R", regex, "--timeout", "300", "--output-on-failure", "-j", str(args.jobs)],
               env=env, capture_output=True, text=True)
        out = r.stdout + r.stderr
        total = re.search(r"tests passed, (\d+) tests failed out of (\d+)", out)
        ran = int(total.group(2)) if total else 0
        failed = re.findall(r"^\s*\d+ - (.+?) \((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception|Child aborted|[A-Za-z ]+)\)",
                            out, re.M)
        return r.returncode, ran, [f[0] for f in failed], out

    # The unmutated copy: every selected mutant's tests must exist and pass.
    all_targets = [t for m in runnable for t in m["targets"]]
    if runnable:
        ok, log = build_targets(all_targets)
        if not ok:
            print(log)
            print("mutate: the unmutated copy does not build", file=sys.stderr)
            return 2
        baseline = {}
        for m in runnable:
            if m["tests"] not in baseline:
                baseline[m["tests"]] = run_tests(m["tests"])
            rc, ran, failed, out = baseline[m["tests"]]
            if ran == 0:
                results[m["id"]] = ("ERROR", f"the regex {m['tests']!r} matches no test")
            elif rc != 0:
                results[m["id"]] = ("ERROR", f"its tests fail unmutated: {failed or out[-1500:]}")
        print(f"mutate: baseline built and green in {time.time() - t0:.0f} s", flush=True)

    for m in chosen:
        if m["id"] in results:
            print(f"mutate: {results[m['id']][0]:8} {m['id']}: {results[m['id']][1][:400]}", flush=True)
            continue
        path = os.path.join(src, m["file"])
        original = open(path, encoding="utf-8").read()
        t1 = time.time()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(m["original"], m["replacement"], 1))
            # Every target of the run, not only this mutant's: a test binary left stale from
            # an earlier mutant would still be registered with ctest and run unmutated code.
            ok, log = build_targets(all_targets)
            if not ok:
                results[m["id"]] = ("ERROR", "the mutant does not compile: " + log[-1500:])
            else:
                rc, ran, failed, out = run_tests(m["tests"])
                if ran == 0:
                    results[m["id"]] = ("ERROR", f"the regex {m['tests']!r} matches no test")
                elif rc != 0:
                    results[m["id"]] = ("KILLED", failed or ["(ctest exit %d)" % rc])
                else:
                    results[m["id"]] = ("SURVIVED", f"{ran} tests passed")
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        verdict, detail = results[m["id"]]
        shown = "; ".join(detail) if isinstance(detail, list) else detail
        print(f"mutate: {verdict:8} {m['id']} ({time.time() - t1:.0f} s): {shown[:400]}", flush=True)

    # Leave the copy's build matching the unmutated sources for the next run.
    if runnable:
        build_targets(all_targets)

    lines = ["| mutant | file | wrong change | result | killed by |", "|---|---|---|---|---|"]
    for m in chosen:
        verdict, detail = results[m["id"]]
        by = ", ".join(f"`{t}`" for t in detail) if isinstance(detail, list) else detail.replace("|", "\\|")[:300]
        lines.append(f"| `{m['id']}` | `{m['file']}` | {m['what']} | {verdict.lower()} | {by} |")
    table = "\n".join(lines)
    print(table)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    survived = [i for i, (v, _) in results.items() if v == "SURVIVED"]
    errors = [i for i, (v, _) in results.items() if v == "ERROR"]
    print(f"mutate: {sum(v == 'KILLED' for v, _ in results.values())} killed, {len(survived)} survived, "
          f"{len(errors)} runner errors, {time.time() - t0:.0f} s", flush=True)
    if errors:
        print(f"mutate: RUNNER ERRORS (fix the entries in tools/mutate.py): {', '.join(errors)}", file=sys.stderr)
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
