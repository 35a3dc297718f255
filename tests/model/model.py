"""An independent reference model of hourbank's billing rules.

Written from the documented rules (README.md "How the rules work", docs/plan-format.md, the
price lists' worked examples), not from projections/state.cc. It is deliberately small and
slow: every figure of an open month is recomputed from scratch, in order, from the state after
the last close; nothing is cached except the frozen figures of closed months.

Integers only: money in minor units, time in minutes, percent as integers.

Where issue 13 changes a rule (contract lifecycle), the model follows issue 13's TARGET rule
and tags the command with the feature name, so that the generator can leave such histories out
until the C++ side has landed (see README.md here, "enabled once issue 13 lands"):

  renewal        a contract starting while the previous contract's last month is still open
                 or after a gap month; work dated under an earlier contract after a renewal
  trial_renewal  a contract on a plan with trial months after an earlier contract (the trial
                 counts from the client's first month, not each contract's)
  closed_void    a void of an entry whose month is closed (credit = closed total minus the
                 month re-evaluated without the entry)
  block_day      a block whose last usable day is not the last day of its month (work after
                 that day does not draw it)
  end_rules      a contract end at an already closed month, before the plan's minimum term,
                 or leaving logged work outside every contract; a block that outlives the
                 contract (bought or ended so that its last day is after the last month)
  debt           an unpaid closed invoice at the time of a command (blocking)
"""
from __future__ import annotations

import datetime as _dt
import tomllib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# ---------------------------------------------------------------------------------------------
# Arithmetic helpers


def round_div(num: int, den: int) -> int:
    """num / den rounded half away from zero (the ledger's one rounding rule)."""
    assert den > 0
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def month_of(local: str) -> int:
    """'2026-03-14T12:00' or '2026-03-14' -> 202603."""
    return int(local[0:4]) * 100 + int(local[5:7])


def next_month(m: int) -> int:
    return m + 1 if m % 100 < 12 else (m // 100 + 1) * 100 + 1


def add_months(m: int, n: int) -> int:
    idx = (m // 100) * 12 + (m % 100 - 1) + n
    return (idx // 12) * 100 + idx % 12 + 1


def months_between(a: int, b: int) -> int:
    return ((b // 100) * 12 + b % 100) - ((a // 100) * 12 + a % 100)


def last_day_of_month(m: int) -> int:
    y, mo = divmod(m, 100)
    nxt = _dt.date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return (nxt - _dt.timedelta(days=1)).day


# ---------------------------------------------------------------------------------------------
# Plans, read with tomllib from the same files the C++ reads


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_ROOT = __import__("os").path.abspath(__import__("os").path.join(__import__("os").path.dirname(__file__), "..", ".."))


class ProductionCalendar:
    """docs/calendars.md: a date is H (public holiday), O (weekday made a rest day), W
    (Saturday/Sunday made a working day) or follows the week. The "ru" data is read from
    projections/calendars/ru.inc itself (one source for the data); years outside its range
    follow the Labour Code rule (art. 112): the fixed holidays, and a holiday on a Saturday or
    Sunday moves its rest day to the next working day, except 1-8 January."""

    FIXED = [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)]

    def __init__(self, path: str):
        import re
        text = open(path, encoding="utf-8").read()
        self.first = int(re.search(r"#define RU_FIRST_YEAR (\d+)", text).group(1))
        self.last = int(re.search(r"#define RU_LAST_YEAR (\d+)", text).group(1))
        code = "\n".join(line.split("//")[0] for line in text.splitlines())
        self.rows = {_dt.date(int(d[0:4]), int(d[4:6]), int(d[6:8])): st
                     for d, st in re.findall(r"\{(\d{8}),\s*([HOW])\}", code)}
        assert self.rows, path
        self.rule_years: dict = {}

    def _rule_year(self, y: int) -> dict:
        if y not in self.rule_years:
            out = {}
            for mo, d in self.FIXED:
                out[_dt.date(y, mo, d)] = "H"
            for mo, d in self.FIXED:
                day = _dt.date(y, mo, d)
                if mo == 1 or day.weekday() < 5:
                    continue
                nxt = day + _dt.timedelta(days=1)
                while nxt.weekday() >= 5 or nxt in out:
                    nxt += _dt.timedelta(days=1)
                if nxt.year == y:
                    out[nxt] = "O"
            self.rule_years[y] = out
        return self.rule_years[y]

    def status(self, day: _dt.date) -> str | None:
        if self.first <= day.year <= self.last:
            return self.rows.get(day)
        return self._rule_year(day.year).get(day)


_PRODUCTION_CALENDARS: dict = {}


def production_calendar(name: str) -> ProductionCalendar:
    if name not in _PRODUCTION_CALENDARS:
        import os
        _PRODUCTION_CALENDARS[name] = ProductionCalendar(
            os.path.join(_ROOT, "projections", "calendars", name + ".inc"))
    return _PRODUCTION_CALENDARS[name]


@dataclass
class Calendar:
    zone: str
    days: set
    open_min: int
    close_min: int
    always: bool
    holidays: set
    production: ProductionCalendar | None = None

    @staticmethod
    def parse(t: dict) -> "Calendar":
        hours = t.get("hours", "09:00-18:00")
        if hours == "24x7":
            return Calendar(t["timezone"], set(range(7)), 0, 1440, True, set())
        a, b = hours.split("-")
        to_min = lambda s: int(s[0:2]) * 60 + int(s[3:5])
        days = {WEEKDAYS.index(d) for d in t.get("days", WEEKDAYS[:5])}
        hol = {str(h) for h in t.get("holidays", [])}
        prod = production_calendar(t["production_calendar"]) if "production_calendar" in t else None
        return Calendar(t["timezone"], days, to_min(a), to_min(b), False, hol, prod)

    def is_open(self, utc: _dt.datetime) -> bool:
        if self.always:
            return True
        loc = utc.astimezone(ZoneInfo(self.zone))
        st = self.production.status(loc.date()) if self.production else None
        if st in ("H", "O"):
            return False  # a public holiday or rest day closes the day, whatever `days` says
        if st == "W":
            pass          # a weekend day made a working day opens in `hours`
        elif loc.weekday() not in self.days or loc.date().isoformat() in self.holidays:
            return False
        minute = loc.hour * 60 + loc.minute
        return self.open_min <= minute < self.close_min


@dataclass
class Plan:
    raw: dict

    def __getattr__(self, key):
        defaults = dict(fee_minor=0, round_to_minor=1, included_minutes=0, rollover="burn",
                        reserve_cap_minutes=0, unlimited=False, overage_rate_minor=0,
                        urgent_percent=100, off_hours_percent=100, timely_discount_percent=0,
                        trial_months=0, minimum_term_months=0, grace_days=0,
                        acceptance_required=False, debt_blocking="none", early_end="free",
                        timely_min_prepaid_months=0)
        if key in defaults:
            return self.raw.get(key, defaults[key])
        raise AttributeError(key)

    @property
    def id(self):
        return self.raw["id"]

    @property
    def currency(self):
        return self.raw["currency"]

    def kind(self, kid):
        for k in self.raw.get("kinds", []):
            if k["id"] == kid:
                return k
        return None

    def addon(self, aid):
        for a in self.raw.get("addons", []):
            if a["id"] == aid:
                return a
        return None

    @property
    def tiers(self):
        return self.raw.get("tiers", [])

    @property
    def calendar(self):
        c = self.raw.get("calendar")
        return Calendar.parse(c) if c else None


def load_plans(paths) -> dict:
    plans = {}
    for p in paths:
        with open(p, "rb") as f:
            for raw in tomllib.load(f)["plan"]:
                plans[raw["id"]] = Plan(raw)
    return plans


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Terms:
    plan: Plan
    start: int
    last: int | None  # None = open-ended
    prepaid: int
    timely: bool
    units: int
    extras: dict
    units_changes: dict = field(default_factory=dict)  # from month -> licences
    early_charged: set = field(default_factory=set)    # months charged by an early end


@dataclass
class Entry:
    n: int               # order of logging
    at: str              # local wall time of the work
    kind: str
    minutes: int
    count: int
    urgent: bool
    off_hours: bool | None
    month: int = 0       # month it counts in; 0 while waiting for acceptance
    task: str = ""
    voided: bool = False


@dataclass
class Block:
    n: int
    minutes: int
    month: int            # bought in (usable from)
    last_day: str | None  # last usable day YYYY-MM-DD, None = never expires
    price: int

    @property
    def expires_month(self):
        return month_of(self.last_day) if self.last_day else None


@dataclass
class MonthResult:
    figures: dict
    reserve_out: int
    blocks_out: dict      # block n -> minutes left after the month


class Refused(Exception):
    pass


class Skip(Exception):
    """The command touches a feature the caller has switched off (Model.forbid)."""


class Model:
    def __init__(self, zone: str, currency: str, plans: dict):
        self.zone = zone
        self.currency = currency
        self.plans = plans
        self.terms: list[Terms] = []
        self.entries: dict[int, Entry] = {}
        self.counting: dict[int, list[int]] = {}     # month -> entry ns in counting order
        self.blocks: dict[int, Block] = {}
        self.addons: dict[int, list[dict]] = {}      # month -> add-ons bought (as sold)
        self.credits: dict[int, list[int]] = {}      # month -> credits (negative amounts)
        self.charges: dict[int, list[int]] = {}      # month -> early-end charges
        self.last_closed = 0
        self.closed: dict[int, dict] = {}            # frozen figures
        self.reserve_after_close = 0
        self.blocks_after_close: dict[int, int] = {}
        self.paid = 0
        self.counter = 0
        self.logged_by_cmd: dict[int, int] = {}
        self.forbid: set = set()   # tags whose commands raise Skip instead of applying

    # ---- contract

    def terms_for(self, m: int) -> Terms | None:
        for t in self.terms:
            if t.start <= m and (t.last is None or m <= t.last):
                return t
        return None

    def first_month(self) -> int:
        return self.terms[0].start if self.terms else 0

    def first_open(self) -> int:
        return next_month(self.last_closed) if self.last_closed else self.first_month()

    def is_closed(self, m: int) -> bool:
        return m != 0 and m <= self.last_closed

    def is_last_contract_month(self, m: int) -> bool:
        t = self.terms_for(m)
        return t is not None and t.last == m

    def is_trial(self, t: Terms, m: int) -> bool:
        # Issue 13 (target): "the first two months of cooperation" count from the client's
        # first contract month, whatever contract follows.
        return months_between(self.first_month(), m) < t.plan.trial_months

    def units_for(self, t: Terms, m: int) -> int:
        units = t.units
        for frm in sorted(t.units_changes):
            if frm <= m:
                units = t.units_changes[frm]
        return units

    # ---- money

    def invoiced(self) -> int:
        return sum(f["total"] for f in self.closed.values())

    def outstanding(self) -> int:
        return self.invoiced() - self.paid

    # ---- commands

    def apply(self, idx: int, c: dict) -> tuple[str | None, set]:
        """Applies command number idx. Returns (refusal reason or None, issue-13 tags)."""
        tags: set = set()
        if self.outstanding() > 0 and c["op"] in ("log", "accept", "buy", "addon", "close"):
            tags.add("debt")
        self._tags = tags
        try:
            self._gate()
            getattr(self, "cmd_" + c["op"])(idx, c, tags)
            self._gate()
            return None, tags
        except Refused as e:
            self._gate()
            return str(e), tags

    def _gate(self):
        """Called before any command changes state: a forbidden tag skips the command."""
        if self._tags & self.forbid:
            raise Skip(", ".join(sorted(self._tags & self.forbid)))

    def cmd_start(self, idx, c, tags):
        plan = self.plans.get(c["plan"])
        if plan is None:
            raise Refused("unknown plan")
        if plan.currency != self.currency:
            raise Refused("currency")
        frm = c["from"]
        if self.terms:
            last = self.terms[-1].last
            if last is None or frm <= last:
                raise Refused("already has a contract")
            if not self.is_closed(last) or frm != next_month(last):
                # renewed while the old last month is open, or after a gap month
                tags.add("renewal")
            if plan.trial_months > 0:
                tags.add("trial_renewal")
        if frm <= self.last_closed:
            raise Refused("already closed")
        term = c.get("term", 0) or plan.minimum_term_months
        if term != 0 and term < plan.minimum_term_months:
            raise Refused("minimum term")
        allowed = plan.raw.get("allowed_terms_months")
        if allowed and term not in allowed:
            raise Refused("term not allowed")
        prepaid = c.get("prepaid", 0)
        if term != 0 and prepaid > term:
            raise Refused("prepaid longer than the contract")
        units = c.get("units", 0)
        if plan.tiers and units == 0:
            raise Refused("per licence: units needed")
        if not plan.tiers and units != 0:
            raise Refused("not per licence")
        extras = c.get("extras", {})
        known = {x["id"] for x in plan.raw.get("extras", [])}
        for k, q in extras.items():
            if k not in known or not 1 <= q <= 1000:
                raise Refused("extra")
        self._gate()
        self.terms.append(Terms(plan, frm, add_months(frm, term - 1) if term else None,
                                prepaid, c.get("timely", False), units, dict(extras)))

    def cmd_units(self, idx, c, tags):
        if not self.terms:
            raise Refused("no contract")
        frm = c["from"]
        t = self.terms_for(frm)
        if t is None:
            raise Refused("outside the contract")
        if not t.plan.tiers:
            raise Refused("not priced per licence")
        if not 1 <= c["units"] <= 1000000:
            raise Refused("licences")
        if self.is_closed(frm):
            raise Refused("closed")
        # A change belongs to the contract it was made under; a later contract states its own.
        t.units_changes[frm] = c["units"]

    def cmd_end(self, idx, c, tags):
        # docs/contracts.md "Ending a contract".
        if not self.terms:
            raise Refused("no contract")
        last = c["last"]
        if last < self.first_month():
            raise Refused("before the start")
        if last < self.last_closed:
            raise Refused("months are closed through a later month")
        outside = [e for e in self.entries.values() if not e.voided and max(month_of(e.at), e.month) > last]
        if outside:
            tags.add("end_rules")
            raise Refused("logged work would fall outside the contract; void it or end later")
        # The term that ends: the one covering `last` (later terms go). A month no term
        # covers is refused: an end never lengthens a contract.
        t = self.terms_for(last)
        if t is None:
            raise Refused("outside the contract; end it at a month it covers")
        if t is not self.terms[-1]:
            tags.add("end_rules")
        if t.last == last and t is self.terms[-1]:
            return  # already ends there: nothing changes (a repeated end needs no --early)
        early = t.start <= last and months_between(t.start, last) + 1 < t.plan.minimum_term_months
        charges = []
        if early:
            tags.add("end_rules")
            if not c.get("early"):
                raise Refused("before the plan's minimum term; pass --early")
            rule = t.plan.early_end
            if rule == "when_settled" and self.outstanding() > 0:
                raise Refused("early end: the closed invoices are not all paid")
            if rule == "pay_minimum_term":
                # The fee (after discounts) of each month left to the minimum term.
                mm = next_month(last)
                while months_between(t.start, mm) < t.plan.minimum_term_months:
                    lines: list = []
                    if not self.is_trial(t, mm):
                        self._fee_lines(t, mm, lines)
                    fee = sum(l[3] for l in lines)
                    if fee and mm not in t.early_charged:  # owed once, also when ended twice
                        charges.append((mm, fee))
                    mm = next_month(mm)
        if last <= self.last_closed:
            tags.add("end_rules")
        if any(mm > last and not self.is_closed(mm) and self.charges[mm] for mm in self.charges):
            tags.add("early_end_moved")  # a second, earlier end moves an early-end charge
        self._gate()
        self.terms = [x for x in self.terms if x.start <= last]
        t.last = last
        booked = self.first_open() if self.is_closed(last) else last
        # An early-end charge booked in an open month that is now after the last month moves
        # to the new last month: the months left are owed in the last month of the contract.
        for mm in sorted(self.charges):
            if mm > last and not self.is_closed(mm) and mm != booked:
                self.charges.setdefault(booked, []).extend(self.charges.pop(mm))
        if charges:  # one charge line for the months left (its quantity is presentation)
            self.charges.setdefault(booked, []).append(sum(fee for _, fee in charges))
            t.early_charged |= {mm for mm, _ in charges}
        if last == self.last_closed:
            # Ending at the last closed month: what its close would have expired as the
            # relationship's last month -- the reserve and the blocks left -- expires at once.
            f = self.closed[last]
            f["expired_reserve"] += f["reserve_end"]
            f["reserve_end"] = 0
            f["expired_block"] += f["blocks_end"]
            f["blocks_end"] = 0
            self.reserve_after_close = 0
            self.blocks_after_close = {}

    def _booked(self, local: str, late: bool, what: str) -> int:
        m = month_of(local)
        if not self.is_closed(m):
            return m
        if not late:
            raise Refused(f"{what} month closed: --late")
        return self.first_open()

    def blocked(self, plan: Plan) -> bool:
        # docs/contracts.md "Debt": the plan's debt_blocking rule. none = never; overdue = a
        # closed invoice unpaid grace_days after its month (the histories' "now" is after every
        # month, so any unpaid closed invoice); prepaid = as overdue, and also while emergency
        # work is unpaid (the generator logs no emergency work).
        if plan.debt_blocking == "none":
            return False
        return self.outstanding() > 0

    def cmd_log(self, idx, c, tags):
        if not self.terms:
            raise Refused("no contract")
        at = c["at"]
        wm = month_of(at)
        t = self.terms_for(wm)
        if t is None:
            raise Refused("outside the contract")
        kind = t.plan.kind(c["kind"])
        if kind is None:
            raise Refused("unknown kind")
        minutes, count = c.get("minutes", 0), c.get("count", 0)
        if kind.get("unit", "hour") == "hour":
            if count != 0 or not 0 < minutes <= 600000:
                raise Refused("duration")
        else:
            if minutes != 0 or not 0 < count <= 100000:
                raise Refused("count")
        if t is not self.terms[-1]:
            # Work dated under an earlier contract after a renewal: the C++ of today drops
            # the old terms on renewal (issue 13 defect 1).
            tags.add("renewal")
        booked = self._booked(at, c.get("late", False), "work")
        bt = self.terms_for(booked)
        if bt is None:
            raise Refused("first open month outside the contract")
        if bt.plan is not t.plan:
            tags.add("cross_plan")
        if self.blocked(t.plan) and not c.get("emergency", False):
            raise Refused("blocked")
        if kind.get("unit", "hour") == "item" and not kind.get("included") and "price_minor" not in kind:
            fig = self.evaluate(booked)
            left = fig["_pool_left"].get(kind.get("pool"), 0)
            for a in bt.plan.raw.get("addons", []):
                if kind["id"] in a.get("kinds", []):
                    left += fig["_pool_left"].get(a["id"], 0)
            if left < count:
                raise Refused("no slots left and no one-off price")
        self._gate()
        self.counter += 1
        e = Entry(self.counter, at, c["kind"], minutes, count, c.get("urgent", False),
                  c.get("off_hours"), 0, c.get("task", "T"))
        self.entries[e.n] = e
        self.logged_by_cmd[idx] = e.n
        if not bt.plan.acceptance_required:
            e.month = booked
            self.counting.setdefault(booked, []).append(e.n)

    def cmd_accept(self, idx, c, tags):
        if not self.terms:
            raise Refused("no contract")
        pending = [e for e in self.entries.values()
                   if e.task == c["task"] and e.month == 0 and not e.voided]
        if not pending:
            raise Refused("nothing waiting for acceptance")
        booked = self._booked(c["at"], c.get("late", False), "acceptance")
        t = self.terms_for(booked)
        if t is None:
            raise Refused("acceptance outside the contract")
        for e in pending:
            wt = self.terms_for(month_of(e.at))
            if wt is None or wt.plan is not t.plan:
                tags.add("cross_plan")
            if wt is not None and wt is not self.terms[-1]:
                tags.add("renewal")
        self._gate()
        for e in sorted(pending, key=lambda e: e.n):
            e.month = booked
            self.counting.setdefault(booked, []).append(e.n)

    def cmd_void(self, idx, c, tags):
        n = self.logged_by_cmd.get(c["ref"])
        if n is None:
            raise Refused("no such entry")
        e = self.entries[n]
        if e.voided:
            raise Refused("already voided")
        if e.month != 0 and self.is_closed(e.month):
            # Issue 13 #5 (target): credit the difference between the invoice as closed and
            # the month re-evaluated without the entry, in the first open month.
            tags.add("closed_void")
            self._gate()
            # "the month's invoice as it stands (as closed, less entries voided before)"
            # minus the month without this entry too, both from the buckets it started with.
            cl = self.closed[e.month]
            before = self._eval_month(e.month, cl["_reserve_in"], dict(cl["_blocks_in"])).figures["total"]
            e.voided = True
            again = self._eval_month(e.month, cl["_reserve_in"], dict(cl["_blocks_in"]))
            credit = before - again.figures["total"]
            if credit:
                self.credits.setdefault(self.first_open(), []).append(-credit)
            return
        e.voided = True

    def cmd_buy(self, idx, c, tags):
        if not self.terms:
            raise Refused("no contract")
        minutes = c["minutes"]
        if not 0 < minutes <= 600000:
            raise Refused("hours")
        booked = self._booked(c["at"], True, "purchase")
        t = self.terms_for(booked)
        if t is None:
            raise Refused("outside the contract")
        price = c.get("price")
        if price is None:
            offers = [o["price_minor"] for o in t.plan.raw.get("block_offers", []) if o["minutes"] == minutes]
            if not offers:
                raise Refused("no such block on sale")
            price = offers[0]
        day = c.get("expires")
        last = self.terms[-1].last
        if last is not None and (day is None or month_of(day) > last):
            tags.add("end_rules")  # a block outliving the contract (see cmd_end)
        if day is not None:
            if day < c["at"][:10]:
                raise Refused("expires before the purchase")
            if int(day[8:10]) != last_day_of_month(month_of(day)):
                tags.add("block_day")
        self._gate()
        self.counter += 1
        self.blocks[self.counter] = Block(self.counter, minutes, booked, day, price)

    def cmd_addon(self, idx, c, tags):
        if not self.terms:
            raise Refused("no contract")
        m = c["month"]
        t = self.terms_for(m)
        if t is None:
            raise Refused("outside the contract")
        if t.plan.addon(c["addon"]) is None:
            raise Refused("no such add-on")
        if self.is_closed(m):
            raise Refused("closed")
        self.addons.setdefault(m, []).append(dict(t.plan.addon(c["addon"])))

    def cmd_close(self, idx, c, tags):
        if not self.terms:
            raise Refused("no contract")
        m = c["month"]
        if self.is_closed(m):
            return
        if m != self.first_open():
            raise Refused("months close in order")
        reserve_in, blocks_in = self._carry_in(m)
        r = self._eval_month(m, reserve_in, blocks_in)
        self.closed[m] = r.figures
        self.closed[m]["closed"] = True
        self.last_closed = m
        self.reserve_after_close = r.reserve_out
        self.blocks_after_close = r.blocks_out

    def cmd_pay(self, idx, c, tags):
        if not 0 < c["amount"] <= 10**15:
            raise Refused("amount")
        self.paid += c["amount"]

    # ---- evaluation

    def _carry_in(self, m: int):
        """Reserve and block minutes at the start of open month m: the recorded state after
        the last close, projected through the open months before m."""
        reserve = self.reserve_after_close
        blocks = dict(self.blocks_after_close)
        k = self.first_open()
        while k < m:
            r = self._eval_month(k, reserve, blocks)
            reserve, blocks = r.reserve_out, r.blocks_out
            k = next_month(k)
        return reserve, blocks

    def evaluate(self, m: int) -> dict:
        if m in self.closed:
            return self.closed[m]
        if self.first_open() == 0 or m < self.first_open():
            # before the first contract month: nothing, and closed once a later month is
            return dict(self._eval_month(m, 0, {}).figures, closed=self.is_closed(m))
        reserve, blocks = self._carry_in(m)
        return self._eval_month(m, reserve, blocks).figures

    def evaluate_range(self, first: int, last: int) -> dict:
        """evaluate(m) for every month first..last, walking the open months once."""
        out = {}
        reserve = blocks = None
        m = first
        while m <= last:
            if m in self.closed or self.first_open() == 0 or m < self.first_open():
                out[m] = self.evaluate(m)
            else:
                if reserve is None:
                    reserve, blocks = self._carry_in(m)
                r = self._eval_month(m, reserve, blocks)
                out[m] = r.figures
                reserve, blocks = r.reserve_out, r.blocks_out
            m = next_month(m)
        return out

    def _off_hours(self, plan: Plan, e: Entry) -> bool:
        if e.off_hours is not None:
            return e.off_hours
        cal = plan.calendar
        if cal is None:
            return False
        local = _dt.datetime.fromisoformat(e.at).replace(tzinfo=ZoneInfo(self.zone))
        return not cal.is_open(local.astimezone(_dt.timezone.utc))

    def _eval_month(self, m: int, reserve_in: int, blocks_in: dict) -> MonthResult:
        t = self.terms_for(m)
        lines: list[list] = []   # [code, qty, unit, amount]
        f = dict(in_contract=t is not None, trial=False, closed=False, included=0,
                 allowance_used=0, reserve_start=reserve_in, reserve_used=0, blocks_start=0,
                 block_used=0, overage=0, unlimited=0, used=0, carried=0,
                 expired_allowance=0, expired_reserve=0, expired_block=0, reserve_end=0)
        pools: dict[str, list[int]] = {}
        # Blocks usable this month: bought in or before m, not past their expiry month.
        left = {}
        for b in self.blocks.values():
            if b.month > m:
                continue
            have = blocks_in.get(b.n, b.minutes) if b.month < m else b.minutes
            if b.month < m and b.n not in blocks_in:
                have = 0  # used up or expired before
            left[b.n] = have
        usable = {n: v for n, v in left.items()
                  if v > 0 and (self.blocks[n].expires_month is None or self.blocks[n].expires_month >= m)}
        f["blocks_start"] = sum(usable.values())
        for b in self.blocks.values():
            if b.month == m:
                lines.append(["hours_block", 1, b.price, b.price])
        for a in self.addons.get(m, []):
            lines.append(["addon", 1, a["price_minor"], a["price_minor"]])
        for amount in self.credits.get(m, []):
            lines.append(["credit", 1, amount, amount])
        if self.charges.get(m):  # early-end charges: one line (its split is presentation)
            amount = sum(self.charges[m])
            lines.append(["charge", 1, amount, amount])
        allowance_left = 0
        reserve_left = reserve_in
        if t is not None:
            plan = t.plan
            trial = self.is_trial(t, m)
            f["trial"] = trial
            if not trial:
                f["included"] = plan.included_minutes
                allowance_left = plan.included_minutes
                self._fee_lines(t, m, lines)
            for xid, q in sorted(t.extras.items()):
                price = next(x["price_minor"] for x in plan.raw["extras"] if x["id"] == xid)
                lines.append(["extra", q, price, q * price])
            # Slot pools: plan quotas, single-pool add-ons, shared add-on pools.
            for pool, q in plan.raw.get("quotas", {}).items():
                pools[pool] = [q, 0]
            for a in self.addons.get(m, []):
                key = a.get("pool", a["id"])
                pools.setdefault(key, [0, 0])[0] += a["slots"]
            overage: dict[int, int] = {}   # rate -> minutes
            for n in self.counting.get(m, []):
                e = self.entries[n]
                if e.voided:
                    continue
                kind = plan.kind(e.kind)
                off = self._off_hours(plan, e)
                if kind.get("unit", "hour") == "hour":
                    mult = max(plan.urgent_percent if e.urgent else 100,
                               plan.off_hours_percent if off else 100)
                    need = round_div(e.minutes * mult, 100)
                    f["used"] += need
                    rate = kind.get("price_minor", plan.overage_rate_minor)
                    if trial:
                        # "hour work billed at overage_rate_minor" in trial months
                        overage[rate] = overage.get(rate, 0) + need
                        f["overage"] += need
                        continue
                    take = min(need, allowance_left)
                    allowance_left -= take
                    f["allowance_used"] += take
                    need -= take
                    take = min(need, reserve_left)
                    reserve_left -= take
                    f["reserve_used"] += take
                    need -= take
                    # Blocks: soonest-expiring first (never-expiring last), then oldest.
                    order = sorted(usable, key=lambda bn: (self.blocks[bn].last_day or "9999-99-99", bn))
                    for bn in order:
                        if need == 0:
                            break
                        day = self.blocks[bn].last_day
                        if day is not None and e.at[:10] > day:
                            continue  # issue 13 #6: not after its last day
                        take = min(need, usable[bn])
                        usable[bn] -= take
                        f["block_used"] += take
                        need -= take
                    if need:
                        if plan.unlimited:
                            f["unlimited"] += need
                        else:
                            f["overage"] += need
                            overage[rate] = overage.get(rate, 0) + need
                else:
                    if kind.get("included"):
                        continue
                    if off and "off_hours_price_minor" in kind:
                        # The kind's own off-hours price replaces the off-hours multiplier;
                        # the largest applicable surcharge wins (they never stack).
                        price = max(kind["off_hours_price_minor"],
                                    round_div(kind.get("price_minor", 0) * (plan.urgent_percent if e.urgent else 100), 100))
                        mult = 100
                    else:
                        price = kind.get("price_minor", 0)
                        mult = max(plan.urgent_percent if e.urgent else 100,
                                   plan.off_hours_percent if off else 100)
                    need = e.count
                    sources = [kind["pool"]] if "pool" in kind else []
                    sources += [a["id"] for a in plan.raw.get("addons", []) if e.kind in a.get("kinds", [])]
                    in_quota = 0
                    for pool in sources:
                        if pool not in pools:
                            continue
                        q = pools[pool]
                        take = min(need, q[0] - q[1])
                        q[1] += take
                        in_quota += take
                        need -= take
                    if in_quota and mult > 100:
                        unit = round_div(price * (mult - 100), 100)
                        lines.append(["surcharge", in_quota, unit, in_quota * unit])
                    if need:
                        unit = round_div(price * mult, 100)
                        lines.append(["task", need, unit, need * unit])
            for rate, minutes in sorted(overage.items()):
                lines.append(["overage", minutes, rate, round_div(minutes * rate, 60)])
            # Closing.
            unused = allowance_left
            last = self.is_last_contract_month(m)
            # Month end: unused allowance rolls over by the plan's policy; then, in the
            # contract's last month, the whole reserve expires (scenario_test: "10 h unused
            # allowance cannot carry past a full reserve (cap 10 h) and expire, and the
            # reserve's 10 h expire too" -- the carry happens as in any month).
            if not trial and unused:
                if plan.rollover == "burn":
                    f["expired_allowance"] = unused
                elif plan.rollover == "carry":
                    room = max(0, plan.reserve_cap_minutes - reserve_left)
                    f["carried"] = min(unused, room)
                    f["expired_allowance"] = unused - f["carried"]
                else:
                    f["carried"] = unused
            reserve_end = reserve_left + f["carried"]
            if last:
                f["expired_reserve"] = reserve_end
                reserve_end = 0
            f["reserve_end"] = reserve_end
        else:
            # Outside every contract the reserve does not live on.
            f["expired_reserve"] = 0
            f["reserve_end"] = 0
        blocks_out = {}
        # Blocks outlive a renewal, but expire at the close of the relationship's last month
        # (a term's last month with no term right after it), as on their own day.
        rel_end = t is not None and t.last == m and self.terms_for(next_month(m)) is None
        for bn, v in usable.items():
            em = self.blocks[bn].expires_month
            if rel_end or (em is not None and em <= m):
                f["expired_block"] += v
            elif v > 0:
                blocks_out[bn] = v
        f["blocks_end"] = sum(blocks_out.values())
        # Lines with the same code and unit price are one line, as an invoice shows them
        # (22 sites at 9.00 is one line); overage is one line per rate, rounded once.
        merged: dict = {}
        for code, q, unit, amount in lines:
            if (code, unit) in merged:
                merged[(code, unit)][1] += q
                merged[(code, unit)][3] += amount
            else:
                merged[(code, unit)] = [code, q, unit, amount]
        f["lines"] = sorted(merged.values())
        f["total"] = sum(l[3] for l in f["lines"])
        f["pools"] = {k: v for k, v in sorted(pools.items()) if v != [0, 0]}
        f["_pool_left"] = {k: v[0] - v[1] for k, v in pools.items()}
        f["_reserve_in"] = reserve_in
        f["_blocks_in"] = dict(blocks_in)
        return MonthResult(f, f["reserve_end"], blocks_out)

    def _fee_lines(self, t: Terms, m: int, lines: list):
        plan = t.plan
        discounts = []
        # A prepaid discount is for the months paid at once: the first `prepaid` months of
        # the contract; later months are paid at the list price.
        pre = [d for d in plan.raw.get("prepaid_discounts", []) if d["min_months"] <= t.prepaid]
        if pre and months_between(t.start, m) < t.prepaid:
            discounts.append(max(pre, key=lambda d: d["min_months"])["percent"])
        # The timely discount: with timely_min_prepaid_months, only in contracts paying at least
        # that many months at once, and only in those months (docs/contracts.md, AGBIS).
        if t.timely and plan.timely_discount_percent and (
                plan.timely_min_prepaid_months == 0
                or (t.prepaid >= plan.timely_min_prepaid_months and months_between(t.start, m) < t.prepaid)):
            discounts.append(plan.timely_discount_percent)
        if plan.tiers:
            units = self.units_for(t, m)
            tier = next(x for x in plan.tiers
                        if x["min_units"] <= units and ("max_units" not in x or units <= x["max_units"]))
            base, qty = tier["unit_price_minor"], units
        else:
            base, qty = plan.fee_minor, 1
        if base == 0 and not plan.tiers:
            return
        lines.append(["fee", qty, base, qty * base])
        if discounts:
            # Discounts compound on the unrounded price; the result is rounded once, to a
            # multiple of round_to_minor: 1740 x 0.93 x 0.8 = 1294.56 -> 1295.
            num, den = base, 1
            for p in discounts:
                num *= 100 - p
                den *= 100
            step = plan.round_to_minor
            unit = round_div(num, den * step) * step
            if unit != base:
                lines.append(["discount", qty, unit - base, qty * (unit - base)])
