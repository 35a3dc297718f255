"""Random client histories for the differential test (tests/model/diff_test.py).

A history is one client on one plan file: a contract (sometimes renewed or ended), months of
work of both kinds with surcharge flags and times across business hours, prepaid blocks,
add-ons, voids, late entries, acceptances, licence changes, closes and payments, plus some
commands that must be refused. Every choice comes from random.Random(seed): the same seed
gives the same history.

The generator proposes commands and runs them through the reference model as it goes, so it
can aim at what is possible (void an entry that exists, close the next month). A command the
model tags with a feature that is switched off (an issue 13 rule, see model.py) is dropped,
so the default histories never touch those rules.
"""
from __future__ import annotations

import os
import random

from model import Model, Skip, add_months, last_day_of_month, load_plans, month_of, next_month

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PLAN_FILES = ["examples/plans/1c-start.toml", "examples/plans/agbis.toml",
              "examples/plans/altercpa.toml", "examples/plans/bpmonline.toml",
              "examples/plans/kit.toml", "tests/model/plans/model-mixed.toml"]

# Issue 13 features (model.py tags): off by default until issue 13 lands.
ISSUE13_FEATURES = ["renewal", "trial_renewal", "closed_void", "block_day", "end_rules", "debt"]
# Never generated: cross_plan (the rules do not say which plan prices it; see README.md here).
ALWAYS_OFF = {"cross_plan"}
ZONES = ["Europe/Moscow", "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]

_plan_cache: dict = {}


def plans_of(path: str) -> dict:
    if path not in _plan_cache:
        _plan_cache[path] = load_plans([os.path.join(ROOT, path)])
    return _plan_cache[path]


def all_plans():
    for f in PLAN_FILES:
        for pid in plans_of(f):
            yield f, pid


class Gen:
    def __init__(self, seed: int, features: set):
        self.rng = random.Random(seed)
        self.features = set(features)

    # ---- small random pieces

    def at(self, month: int, day: int | None = None) -> str:
        r = self.rng
        d = day or r.randint(1, last_day_of_month(month))
        # Hours 04-23 only: no local time falls in a DST gap (those are refused as input).
        h = r.choice([4, 9, 10, 11, 12, 15, 17, 18, 19, 20, 23, r.randint(4, 23)])
        mi = r.choice([0, 0, 30, 59, r.randint(0, 59)])
        return f"{month // 100:04d}-{month % 100:02d}-{d:02d}T{h:02d}:{mi:02d}"

    def minutes(self) -> int:
        r = self.rng
        return r.choice([30, 60, 61, 90, 120, 150, 180, 240, 360, 600, 601, 900, 1,
                         r.randint(1, 120), r.randint(1, 1500)])

    # ---- the history

    def history(self, hid: str) -> dict:
        r = self.rng
        pf, pid = r.choice(list(all_plans()))
        plans = plans_of(pf)
        plan = plans[pid]
        zone = r.choice(ZONES)
        model = Model(zone, plan.currency, plans)
        model.forbid = ALWAYS_OFF | (set(ISSUE13_FEATURES) - self.features)
        cmds: list[dict] = []

        def do(c: dict) -> bool:
            """Runs c through the model; keeps it unless it is skipped. True when accepted."""
            try:
                err, _ = model.apply(len(cmds), c)
            except Skip:
                return False
            cmds.append(c)
            return err is None

        start = r.randint(2024, 2026) * 100 + r.randint(1, 12)
        self.start_contract(do, plan, start, first=True)
        if not model.terms:
            # a refused start: try once more with sane values
            self.start_contract(do, plan, start, first=True, sane=True)
        months = r.randint(1, 8)
        cur = start
        tasks = []
        for _ in range(months):
            t = model.terms_for(cur)
            p = t.plan if t else plan
            for _ in range(r.choice([0, 1, 2, 3, 4, 6, 10])):
                self.work(do, model, p, cur, tasks, cmds)
            if p.acceptance_required and tasks and r.random() < 0.8:
                for task in r.sample(tasks, k=min(len(tasks), r.randint(1, 3))):
                    late = r.random() < 0.5
                    accm = cur if r.random() < 0.8 else r.choice([cur, add_months(cur, -1)])
                    do({"op": "accept", "task": task, "at": self.at(accm), "late": late})
            if r.random() < 0.15:
                self.buy(do, model, p, cur)
            if p.raw.get("addons") and r.random() < 0.4:
                a = r.choice(p.raw["addons"])
                do({"op": "addon", "addon": a["id"], "month": r.choice([cur, cur, next_month(cur)]),
                    "at": self.at(cur)})
            if p.tiers and r.random() < 0.3:
                do({"op": "units", "units": self.units(), "from": r.choice([cur, next_month(cur)])})
            if r.random() < 0.2:
                self.void(do, model, cmds)
            if r.random() < 0.05:
                end = {"op": "end", "last": r.choice([cur, add_months(cur, r.randint(0, 4))])}
                if "end_rules" in self.features and r.random() < 0.5:
                    end["early"] = True
                if do(end) and end.get("early") and r.random() < 0.4:
                    # a second end at an earlier month: an early-end charge of the first moves
                    # into the new last month (tag early_end_moved)
                    do({"op": "end", "last": add_months(end["last"], -r.randint(1, 3)), "early": True})
            # close: usually every month up to this one, in order
            x = r.random()
            if x < 0.75:
                while model.first_open() and model.first_open() <= cur:
                    if not do({"op": "close", "month": model.first_open()}):
                        break
                    self.settle(do, model, cur)
            elif x < 0.85:
                do({"op": "close", "month": r.choice([cur, next_month(cur)])})
                self.settle(do, model, cur)
            # renewal after the last month of a fixed term
            last = model.terms[-1].last if model.terms else None
            if last is not None and last <= cur and r.random() < (0.7 if last == cur else 0.2):
                others = [q for q in plans.values() if q.currency == plan.currency]
                np_ = r.choice(others + [model.terms[-1].plan] * 2)
                self.start_contract(do, np_, next_month(last) if r.random() < 0.8 else add_months(last, 2),
                                    first=False, sane=True)
            if r.random() < 0.1:
                do({"op": "pay", "amount": r.randint(1, 5000000), "at": self.at(cur)})
            cur = next_month(cur)
            if model.terms and model.terms_for(cur) is None and r.random() < 0.7:
                break  # the contract is over: a few commands after it are enough
        report = [add_months(start, -1), cur]
        return {"id": hid, "zone": zone, "currency": plan.currency, "plans": [pf],
                "report": report, "cmds": cmds}

    def units(self) -> int:
        r = self.rng
        return r.choice([1, 3, 4, 7, 8, 10, 11, 12, 15, 16, 18, 20, 21, 30, 31, 50, 51,
                         100, 101, 150, 151, 400, r.randint(1, 300)])

    def start_contract(self, do, plan, frm, first, sane=False):
        r = self.rng
        mt = plan.minimum_term_months
        if plan.id == "agbis":
            term = r.choice([3, 6, 12])
        else:
            term = r.choice([0, 0, mt, mt + r.randint(1, 6), 12, 2, 3])
        if not sane and r.random() < 0.08:
            term = max(0, mt - 1)  # below the minimum: refused (unless 0 = the minimum)
        if term and term < mt and sane:
            term = mt
        if r.random() < 0.5:
            prepaid = 0
        elif term:
            prepaid = r.choice([term, r.randint(1, term)])
        else:
            prepaid = r.choice([1, 3, 6, 7, 12, 13])
        c = {"op": "start", "plan": plan.id, "from": frm, "term": term, "prepaid": prepaid,
             "timely": r.random() < 0.4, "units": self.units() if plan.tiers else 0}
        if plan.raw.get("extras") and r.random() < 0.5:
            c["extras"] = {x["id"]: r.randint(1, 3) for x in plan.raw["extras"] if r.random() < 0.7}
        if not sane and r.random() < 0.04:
            c["units"] = 0 if plan.tiers else 5  # refused: units must match the pricing
        do(c)

    def work(self, do, model, plan, cur, tasks, cmds):
        r = self.rng
        kinds = plan.raw.get("kinds", [])
        if not kinds:
            return
        k = r.choice(kinds)
        m = cur
        late = False
        x = r.random()
        if x < 0.12 and model.last_closed:
            m = r.choice([model.last_closed, add_months(model.last_closed, -r.randint(0, 2))])
            late = r.random() < 0.8   # a closed month: refused unless late
        elif x < 0.2:
            m = add_months(cur, -1)   # an earlier month, maybe still open
        c = {"op": "log", "kind": k["id"], "at": self.at(m), "urgent": r.random() < 0.25,
             "off_hours": r.choice([None, None, None, True, False]), "late": late}
        if k.get("unit", "hour") == "hour":
            c["minutes"] = self.minutes()
        else:
            c["count"] = r.choice([1, 1, 2, 3, 5, 12, 20, 22, 40, 45, r.randint(1, 60)])
        if plan.acceptance_required:
            task = f"T{r.randint(1, 6)}"
            c["task"] = task
            if task not in tasks:
                tasks.append(task)
        if r.random() < 0.03:
            c["kind"] = "no-such-kind"  # refused
        do(c)

    def buy(self, do, model, plan, cur):
        r = self.rng
        offers = plan.raw.get("block_offers", [])
        if plan.unlimited or plan.trial_months:
            return  # blocks on unlimited or trial plans are not modelled (README here)
        if offers and r.random() < 0.7:
            o = r.choice(offers)
            minutes, price = o["minutes"], None
        else:
            minutes, price = r.choice([60, 300, 600, 900, r.randint(1, 3000)]), r.randint(0, 5000000)
        expires = None
        if r.random() < 0.5:
            em = add_months(cur, r.randint(0, 4))
            day = last_day_of_month(em)
            if "block_day" in self.features and r.random() < 0.6:
                day = r.randint(1, day)
            expires = f"{em // 100:04d}-{em % 100:02d}-{day:02d}"
        at = self.at(cur)
        if expires and expires < at[:10]:
            expires = at[:10]
        do({"op": "buy", "minutes": minutes, "price": price, "expires": expires, "at": at})

    def void(self, do, model, cmds):
        r = self.rng
        logs = [i for i, c in enumerate(cmds) if c["op"] == "log"]
        if not logs:
            return
        do({"op": "void", "ref": r.choice(logs)})

    def settle(self, do, model, cur):
        """Pays what is owed after a close (unless histories with debt are on)."""
        r = self.rng
        if "debt" in self.features and r.random() < 0.5:
            return
        owed = model.outstanding()
        if owed > 0:
            at = self.at(cur)
            if r.random() < 0.3 and owed > 1:
                part = r.randint(1, owed - 1)
                do({"op": "pay", "amount": part, "at": at})
                owed -= part
            do({"op": "pay", "amount": owed, "at": at})


def generate(seed: int, n: int, features=()):
    """n histories from one seed; history i is reproducible from (seed, i) alone."""
    for i in range(n):
        yield Gen(seed * 1000003 + i, set(features)).history(f"s{seed}-h{i}")
