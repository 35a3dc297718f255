"""The price lists' worked examples, run through the reference model alone.

The model is only useful if it is right on its own: before comparing it with the C++ fold,
diff_test.py runs these hand-worked figures (TARIFFS.md's worked examples, arithmetic in the
comments) through the model. Each returns a list of failures.
"""
from __future__ import annotations

import os

from model import Model, load_plans

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model(file: str, zone="Europe/Moscow", currency="RUB") -> Model:
    return Model(zone, currency, load_plans([os.path.join(ROOT, "examples/plans", file)]))


def _run(m: Model, cmds: list) -> None:
    """Applies the commands; every close is followed by paying its invoice."""
    for i, c in enumerate(cmds):
        err, _ = m.apply(i, c)
        if err:
            raise AssertionError(f"command {i} {c} refused: {err}")
        if c["op"] == "close" and m.outstanding() > 0:
            m.apply(-1, {"op": "pay", "amount": m.outstanding()})


def one_c_start(fail):
    m = _model("1c-start.toml")
    log = lambda minutes, at, task: {"op": "log", "kind": "development", "minutes": minutes, "at": at, "task": task}
    acc = lambda task, at: {"op": "accept", "task": task, "at": at}
    _run(m, [
        {"op": "start", "plan": "1c-start", "from": 202510, "term": 12},
        log(150, "2025-10-10T12:00", "T1"), acc("T1", "2025-10-20T12:00"), {"op": "close", "month": 202510},
        log(360, "2025-11-05T12:00", "T2"), acc("T2", "2025-11-06T12:00"), {"op": "close", "month": 202511},
        log(180, "2025-12-03T12:00", "T3"), acc("T3", "2025-12-04T12:00"), {"op": "close", "month": 202512},
        log(600, "2026-01-12T12:00", "T4"), log(240, "2026-01-13T12:00", "T5"),
        acc("T4", "2026-01-20T12:00"), acc("T5", "2026-01-21T12:00"),
        log(60, "2026-01-30T12:00", "T6"), {"op": "close", "month": 202601},
        acc("T6", "2026-02-02T12:00"), log(60, "2026-02-10T12:00", "T7"), acc("T7", "2026-02-11T12:00"),
        {"op": "close", "month": 202602},
        log(1500, "2026-03-10T12:00", "T8"), acc("T8", "2026-03-11T12:00"),
    ])
    ev = m.evaluate
    # trial: 2.5 h x 2 000.00 = 5 000.00; 6 h x 2 000.00 = 12 000.00; no fee, no allowance
    expect = [(202510, "total", 500000), (202510, "included", 0), (202511, "total", 1200000),
              # Dec: 10 h - 3 h = 7 h carried into the reserve; fee 20 000.00
              (202512, "carried", 420), (202512, "reserve_end", 420), (202512, "total", 2000000),
              # Jan: 14 h = allowance 10 h + reserve 4 h; reserve 7 - 4 = 3 h
              (202601, "used", 840), (202601, "reserve_used", 240), (202601, "reserve_end", 180),
              # Feb: 2 h used, 8 h unused; reserve 3 + 7 = 10 h (cap), 1 h expires
              (202602, "used", 120), (202602, "carried", 420), (202602, "expired_allowance", 60),
              (202602, "reserve_end", 600),
              # Mar: 25 h = 10 allowance + 10 reserve + 5 overage; 20 000 + 5 x 2 000 = 30 000.00
              (202603, "overage", 300), (202603, "total", 3000000)]
    for month, key, want in expect:
        if ev(month)[key] != want:
            fail(f"1C Start {month} {key}: {ev(month)[key]} != {want}")


def altercpa_basic(fail):
    m = _model("altercpa.toml", currency="USD")
    item = lambda kind, n, at, urgent=False: {"op": "log", "kind": kind, "count": n, "at": at, "urgent": urgent}
    _run(m, [
        {"op": "start", "plan": "altercpa-basic", "from": 202603},
        item("complex_integration", 1, "2026-03-03T11:00"),          # one-off 50.00
        item("complex_integration", 1, "2026-03-03T11:00", True),    # 3 x 50.00 = 150.00
        item("simple_integration", 1, "2026-03-03T11:00", True),     # slot + (3 - 1) x 15.00 = 30.00
        item("site_link", 22, "2026-03-02T15:00"),                   # 20 slots + 2 x 9.00 = 18.00
        item("emergency", 1, "2026-03-04T20:00"),                    # own off-hours price 150.00
    ])
    # 500 + 50 + 150 + 30 + 18 + 150 = 898.00
    if m.evaluate(202603)["total"] != 89800:
        fail(f"AlterCPA Basic total {m.evaluate(202603)['total']} != 89800")


def agbis(fail):
    m = _model("agbis.toml")
    _run(m, [{"op": "start", "plan": "agbis", "from": 202601, "term": 6, "prepaid": 6, "timely": True, "units": 10}])
    # 1740 x 0.93 x 0.8 = 1294.56 -> 1295 per licence; 10 licences: 12 950.00
    if m.evaluate(202601)["total"] != 1295000:
        fail(f"AGBIS 10 licences 6 months timely: {m.evaluate(202601)['total']} != 1295000")
    m = _model("agbis.toml")
    _run(m, [{"op": "start", "plan": "agbis", "from": 202601, "term": 12, "prepaid": 12, "timely": True, "units": 18}])
    # 1320 x 0.8 x 0.8 = 844.8 -> 845; 18 x 845 = 15 210.00
    if m.evaluate(202601)["total"] != 18 * 84500:
        fail(f"AGBIS 18 licences 12 months timely: {m.evaluate(202601)['total']} != {18 * 84500}")


def kit(fail):
    m = _model("kit.toml")
    _run(m, [{"op": "start", "plan": "kit-hours-15", "from": 202601, "term": 3},
             {"op": "log", "kind": "support", "minutes": 540, "at": "2026-01-14T12:00"}])
    # 15 h - 9 h = 6 h expire, nothing carried
    if m.evaluate(202601)["expired_allowance"] != 360 or m.evaluate(202601)["carried"] != 0:
        fail("KIT 15 h: 6 h must expire")
    m = _model("kit.toml")
    _run(m, [{"op": "start", "plan": "kit-prepaid", "from": 202601},
             {"op": "buy", "minutes": 3000, "price": None, "expires": None, "at": "2026-01-05T10:00"},
             {"op": "log", "kind": "support", "minutes": 1200, "at": "2026-01-14T12:00"},
             {"op": "close", "month": 202601},
             {"op": "log", "kind": "support", "minutes": 1200, "at": "2026-02-14T12:00"},
             {"op": "close", "month": 202602},
             {"op": "log", "kind": "support", "minutes": 900, "at": "2026-03-14T12:00"}])
    # 50 h - 20 - 20 = 10 h left: March draws 10 h, 5 h overage at 2 550.00 = 12 750.00
    mar = m.evaluate(202603)
    if (mar["block_used"], mar["overage"], mar["total"], mar["expired_block"]) != (600, 300, 1275000, 0):
        fail(f"KIT prepaid March: {mar['block_used'], mar['overage'], mar['total'], mar['expired_block']}")


def run() -> list:
    failures = []
    for f in (one_c_start, altercpa_basic, agbis, kit):
        try:
            f(failures.append)
        except AssertionError as e:
            failures.append(f"{f.__name__}: {e}")
    return failures


if __name__ == "__main__":
    fs = run()
    print("\n".join(fs) or "worked examples: all agree")
    raise SystemExit(1 if fs else 0)
