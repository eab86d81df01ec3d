"""The settlement engine: contract + aggregated daily facts in, statement out. No I/O.

Arithmetic is exact. Money enters as ``Decimal`` and every intermediate value is an exact
rational (``fractions.Fraction``), so ``21000 / 2.4`` or ``6000 / 3`` lose nothing and every
comparison (``GMV < target × factor × spend``) is exact, never made on a rounded ROI. Each
statement line is rounded once, to 0.01, with the contract's rule (half_up or half_even), from
exact values and never from another rounded line. Totals are the sums of the rounded lines
and are checked (``Statement.check``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction
from typing import Any

from redcat_cli import __version__
from redcat_cli.settle.contract import Contract, MatchedInvestment, RoiGuarantee, Tier

CENT = Decimal("0.01")
ZERO = Fraction(0)


# --- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFacts:
    """One day of the in-scope notes, summed in the store. ``None`` means no data, not 0."""

    date: dt.date
    spend: Decimal | None = None
    gmv: Decimal | None = None
    orders: int | None = None
    # the date of the (earliest) export that supplied the day's current GMV; None: unknown
    exported_on: dt.date | None = None


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str


# --- rounding ----------------------------------------------------------------------------


def round_fen(value: Fraction | Decimal | int, rounding: str = "half_up") -> Decimal:
    """Round an exact value to 0.01 once: half_up (ties away from zero) or half_even.

    Works on the exact rational, so a value is a tie only when it truly is one; the result
    equals ``Decimal.quantize(CENT, ROUND_HALF_UP / ROUND_HALF_EVEN)`` whenever the value is
    a finite decimal.
    """
    x = Fraction(value)
    scaled = abs(x) * 100
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator:
        q += 1
    elif twice == scaled.denominator:
        if rounding == "half_up" or q % 2 == 1:
            q += 1
    sign = -1 if x < 0 and q else 1
    return (Decimal(sign * q) * CENT).quantize(CENT)


def _fmt(value: Fraction | Decimal, rounding: str) -> str:
    """Money for the working: two places."""
    return str(round_fen(Fraction(value), rounding))


def _roi_text(value: Fraction) -> str:
    """A ratio for people: four places, half-up (display only; never compared)."""
    scaled = value * 10000
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return str((Decimal(q) * Decimal("0.0001")).quantize(Decimal("0.0001")))


# --- the statement -----------------------------------------------------------------------


@dataclass(frozen=True)
class GuaranteeLine:
    target_roi: str | None
    eligible: bool
    triggered: bool | None
    reason: str
    amount_before_cap: Decimal
    cap_applied: str | None  # None | "amount" | "pct_of_spend"
    payout: Decimal
    working: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_roi": self.target_roi,
            "eligible": self.eligible,
            "triggered": self.triggered,
            "reason": self.reason,
            "amount_before_cap": str(self.amount_before_cap),
            "cap_applied": self.cap_applied,
            "payout": str(self.payout),
            "working": self.working,
        }


@dataclass(frozen=True)
class MatchedLine:
    eligible: bool
    reason: str
    amount: Decimal
    working: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "reason": self.reason,
            "amount": str(self.amount),
            "working": self.working,
        }


@dataclass(frozen=True)
class CycleStatement:
    start: dt.date
    end: dt.date
    spend: Decimal
    gmv: Decimal | None
    orders: int | None
    roi: float | None
    roi_text: str | None
    roi_guarantee: GuaranteeLine | None
    matched_investment: MatchedLine | None
    net_ad_cost: Decimal
    final: bool = True
    final_reason: str = ""
    complete: bool = True  # every day with spend has GMV reported

    @property
    def payout(self) -> Decimal:
        return self.roi_guarantee.payout if self.roi_guarantee else Decimal("0.00")

    @property
    def matched(self) -> Decimal:
        return self.matched_investment.amount if self.matched_investment else Decimal("0.00")

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "spend": str(self.spend),
            "gmv": None if self.gmv is None else str(self.gmv),
            "orders": self.orders,
            "roi": self.roi,
            "roi_guarantee": None if self.roi_guarantee is None else self.roi_guarantee.to_dict(),
            "matched_investment": None
            if self.matched_investment is None
            else self.matched_investment.to_dict(),
            "final": self.final,
            "final_reason": self.final_reason,
        }


@dataclass(frozen=True)
class Totals:
    spend: Decimal
    gmv: Decimal
    roi_guarantee_payout: Decimal
    matched_investment: Decimal
    net_ad_cost: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "spend": str(self.spend),
            "gmv": str(self.gmv),
            "roi_guarantee_payout": str(self.roi_guarantee_payout),
            "matched_investment": str(self.matched_investment),
            "net_ad_cost": str(self.net_ad_cost),
        }


@dataclass(frozen=True)
class Statement:
    contract_id: str
    merchant: str
    currency: str
    final: bool
    final_reason: str
    as_of: dt.date
    cycles: tuple[CycleStatement, ...]
    totals: Totals
    contract_sha256: str
    inputs: tuple[InputFile, ...] = ()
    redcat_version: str = __version__
    rounding: str = "half_up"
    gmv_basis: str = ""  # for people: where GMV and orders were read (not part of the JSON)
    # the projected final payout of a provisional statement (redcat_cli.settle.projection)
    projected_cycles: tuple[dict[str, Any] | None, ...] = ()
    projected_totals: dict[str, Any] | None = None
    projection_note: str | None = None
    curve: Any = None  # the maturity curve used (for the report; not part of the JSON)

    def check(self) -> None:
        """Totals are the sums of the rounded lines; every line has two places.

        Raised as an error, not asserted: the check must hold under ``python -O`` too."""
        c = self.cycles
        zero = Decimal("0.00")
        checks = [
            ("spend", self.totals.spend == sum((x.spend for x in c), zero)),
            ("gmv", self.totals.gmv == sum((x.gmv for x in c if x.gmv is not None), zero)),
            ("payout", self.totals.roi_guarantee_payout == sum((x.payout for x in c), zero)),
            ("matched", self.totals.matched_investment == sum((x.matched for x in c), zero)),
            (
                "net cost",
                self.totals.net_ad_cost == self.totals.spend - self.totals.roi_guarantee_payout,
            ),
        ]
        for x in c:
            checks.append((f"net cost {x.start}", x.net_ad_cost == x.spend - x.payout))
            for v in (x.spend, x.gmv, x.payout, x.matched, x.net_ad_cost):
                checks.append((f"two places {x.start}", v is None or v.as_tuple().exponent == -2))
        failed = [name for name, ok in checks if not ok]
        if failed:
            raise ArithmeticError(
                f"statement lines do not add up to their totals: {', '.join(failed)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON contract (docs/settle.md). Money is a two-place string."""
        cycles = [c.to_dict() for c in self.cycles]
        for i, c in enumerate(cycles):
            c["projected"] = self.projected_cycles[i] if i < len(self.projected_cycles) else None
        return {
            "contract_id": self.contract_id,
            "merchant": self.merchant,
            "currency": self.currency,
            "final": self.final,
            "final_reason": self.final_reason,
            "as_of": self.as_of.isoformat(),
            "cycles": cycles,
            "totals": {**self.totals.to_dict(), "projected": self.projected_totals},
            "projection_note": self.projection_note,
            "audit": {
                "contract_sha256": self.contract_sha256,
                "inputs": [
                    {"path": i.path, "sha256": i.sha256}
                    for i in sorted(self.inputs, key=lambda i: (i.path, i.sha256))
                ],
                "redcat_version": self.redcat_version,
            },
        }


# --- cycles ------------------------------------------------------------------------------


def cycles(start: dt.date, end: dt.date, kind: str) -> list[tuple[dt.date, dt.date]]:
    """Split [start, end] into cycles: the period, calendar months, ISO weeks or days."""
    if kind == "period":
        return [(start, end)]
    out: list[tuple[dt.date, dt.date]] = []
    day = start
    while day <= end:
        if kind == "day":
            last = day
        elif kind == "week":
            last = day + dt.timedelta(days=6 - day.weekday())  # Sunday of the ISO week
        elif kind == "month":
            nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            last = nxt - dt.timedelta(days=1)
        else:
            raise ValueError(f"unknown cycle {kind!r}")
        last = min(last, end)
        out.append((day, last))
        day = last + dt.timedelta(days=1)
    return out


# --- the engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sums:
    spend: Fraction
    gmv: Fraction | None  # None: no GMV reported at all
    orders: int | None
    gmv_by_target: tuple[tuple[Decimal, Fraction], ...]  # (target roi, GMV of its segment)


def _sum_cycle(days: Sequence[DayFacts], targets: Sequence[tuple[dt.date, Decimal]]) -> _Sums:
    spend = ZERO
    gmv: Fraction | None = None
    orders: int | None = None
    seg: dict[int, Fraction] = {}
    for d in days:
        if d.spend is not None:
            spend += Fraction(d.spend)
        if d.gmv is not None:
            gmv = (gmv or ZERO) + Fraction(d.gmv)
            idx = _target_index(targets, d.date)
            if idx is not None:
                seg[idx] = seg.get(idx, ZERO) + Fraction(d.gmv)
        if d.orders is not None:
            orders = (orders or 0) + d.orders
    by_target = tuple((targets[i][1], seg[i]) for i in sorted(seg))
    return _Sums(spend, gmv, orders, by_target)


def _target_index(targets: Sequence[tuple[dt.date, Decimal]], day: dt.date) -> int | None:
    idx = None
    for i, (start, _) in enumerate(targets):
        if start <= day:
            idx = i
    return idx


def settle(
    contract: Contract,
    days: Iterable[DayFacts],
    as_of: dt.date,
    inputs: Iterable[InputFile] = (),
    redcat_version: str = __version__,
) -> Statement:
    """Settle a contract on daily facts. Days outside the period are ignored.

    Decimal arithmetic here (sums of rounded lines, spend − payout) runs in a local context
    that traps ``Inexact``: a Decimal operation that had to round would raise, not drift.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        return _settle(contract, days, as_of, inputs, redcat_version)


def _settle(
    contract: Contract,
    days: Iterable[DayFacts],
    as_of: dt.date,
    inputs: Iterable[InputFile],
    redcat_version: str,
) -> Statement:
    rounding = contract.rounding
    by_day: dict[dt.date, list[DayFacts]] = {}
    for d in days:
        by_day.setdefault(d.date, []).append(d)
    g = contract.roi_guarantee
    targets = [(t.start, t.roi) for t in g.targets] if g else []

    out: list[CycleStatement] = []
    for start, end in cycles(contract.period.start, contract.period.end, contract.cycle):
        cycle_days = [f for day, fs in sorted(by_day.items()) if start <= day <= end for f in fs]
        sums = _sum_cycle(cycle_days, [t for t in targets if t[0] <= end])
        gaps = _gaps(cycle_days)
        cycle = _settle_cycle(contract, start, end, sums, rounding, gaps)
        final, reason = _cycle_finality(contract, start, end, cycle_days, gaps, as_of)
        out.append(replace(cycle, final=final, final_reason=reason, complete=gaps is None))

    zero = Decimal("0.00")
    spend = sum((c.spend for c in out), zero)
    payout = sum((c.payout for c in out), zero)
    totals = Totals(
        spend=spend,
        gmv=sum((c.gmv for c in out if c.gmv is not None), zero),
        roi_guarantee_payout=payout,
        matched_investment=sum((c.matched for c in out), zero),
        net_ad_cost=spend - payout,
    )
    final, reason = _finality(contract, out, as_of)
    statement = Statement(
        contract_id=contract.contract_id,
        merchant=contract.merchant,
        currency=contract.currency,
        final=final,
        final_reason=reason,
        as_of=as_of,
        cycles=tuple(out),
        totals=totals,
        contract_sha256=contract.sha256,
        inputs=tuple(sorted(set(inputs), key=lambda i: (i.path, i.sha256))),
        redcat_version=redcat_version,
        rounding=rounding,
        gmv_basis=contract.gmv.describe(),
    )
    statement.check()
    return statement


def _finality(
    contract: Contract, out: Sequence[CycleStatement], as_of: dt.date
) -> tuple[bool, str]:
    """Final when every cycle is (complete, mature, and past end + window as of ``as_of``)."""
    window = contract.gmv.window_days
    for c in out:
        if not c.final:
            return False, f"provisional: cycle {c.start}..{c.end}: {c.final_reason}"
    return True, f"final: every cycle's end + {window} days is on or before {as_of}"


@dataclass(frozen=True)
class Gaps:
    """Days of a cycle with spend but no GMV reported: the cycle is incomplete."""

    missing: tuple[dt.date, ...]
    with_spend: int

    @property
    def text(self) -> str:
        return f"GMV reported on {self.with_spend - len(self.missing)} of {self.with_spend} days with spend"


def _gaps(days: Sequence[DayFacts]) -> Gaps | None:
    with_spend = sorted({d.date for d in days if d.spend is not None and d.spend > 0})
    reported = {d.date for d in days if d.gmv is not None}
    missing = tuple(x for x in with_spend if x not in reported)
    return Gaps(missing, len(with_spend)) if missing else None


def days_text(days: Sequence[dt.date]) -> str:
    """Dates for people: runs of consecutive days as first..last."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs)


def _cycle_finality(
    contract: Contract,
    start: dt.date,
    end: dt.date,
    days: Sequence[DayFacts],
    gaps: Gaps | None,
    as_of: dt.date,
) -> tuple[bool, str]:
    """A cycle is final when complete, mature (the GMV behind it was exported on or after
    end + window_days) and ``as_of`` is on or after end + window_days."""
    window = contract.gmv.window_days
    due = end + dt.timedelta(days=window)
    problems: list[str] = []
    if gaps is not None:
        problems.append(f"incomplete: {gaps.text} (no GMV yet on {days_text(gaps.missing)})")
    reported = [d for d in days if d.gmv is not None]
    unknown = [d.date for d in reported if d.exported_on is None]
    if unknown:
        problems.append(
            f"the export date of the GMV for {days_text(unknown)} is unknown (ingested before "
            "export dates were recorded); ingest an export made after "
            f"{due - dt.timedelta(days=1)} to settle it"
        )
    else:
        early = [
            d.exported_on for d in reported if d.exported_on is not None and d.exported_on < due
        ]
        if early:
            problems.append(
                f"immature: its GMV was exported on {min(early)}, before end + {window} days = "
                f"{due}; conversions are still arriving in later exports"
            )
    if due > as_of:
        problems.append(
            f"conversions flow back for {window} days, until {due}; as of {as_of} they are "
            "still coming in"
        )
    if problems:
        return False, "; ".join(problems)
    return True, f"final: complete, its GMV exported on or after end + {window} days = {due}"


def _settle_cycle(
    contract: Contract,
    start: dt.date,
    end: dt.date,
    s: _Sums,
    rounding: str,
    gaps: Gaps | None = None,
) -> CycleStatement:
    spend = round_fen(s.spend, rounding)
    gmv = None if s.gmv is None else round_fen(s.gmv, rounding)
    roi: Fraction | None = None
    if s.spend > 0 and s.gmv is not None and gaps is None:  # no ROI from part of the days
        roi = s.gmv / s.spend
    guarantee = None
    if contract.roi_guarantee is not None:
        guarantee = _guarantee(contract, contract.roi_guarantee, start, s, roi, rounding, gaps)
    matched = None
    if contract.matched_investment is not None:
        matched = _matched(contract.matched_investment, s, rounding)
    payout = guarantee.payout if guarantee else Decimal("0.00")
    return CycleStatement(
        start=start,
        end=end,
        spend=spend,
        gmv=gmv,
        orders=s.orders,
        roi=None if roi is None else float(_roi_text(roi)),
        roi_text=None if roi is None else _roi_text(roi),
        roi_guarantee=guarantee,
        matched_investment=matched,
        net_ad_cost=spend - payout,
    )


def _no_payout(
    target: str | None, eligible: bool, triggered: bool | None, reason: str, working: str
) -> GuaranteeLine:
    z = Decimal("0.00")
    return GuaranteeLine(target, eligible, triggered, reason, z, None, z, working)


def _guarantee(
    c: Contract,
    g: RoiGuarantee,
    start: dt.date,
    s: _Sums,
    roi: Fraction | None,
    rounding: str,
    gaps: Gaps | None = None,
) -> GuaranteeLine:
    m = lambda v: _fmt(v, rounding)  # noqa: E731
    segs = s.gmv_by_target
    factor = Fraction(g.trigger_factor)
    # Σ GMV_seg / target_seg: the GMV "paid for" at the targets. Effective target = GMV / that.
    covered = sum((gmv / Fraction(t) for t, gmv in segs), ZERO)
    if len(segs) == 1:
        target_text: str | None = str(segs[0][0])
    elif not segs:  # no GMV in the cycle: the target in force when the cycle starts
        in_force = [t for t in g.targets if t.start <= start]
        target_text = str(in_force[-1].roi) if in_force else None
    elif covered > 0:
        target_text = _roi_text(s.gmv / covered)  # type: ignore[operator]
    else:
        target_text = None

    if s.spend == 0:
        return _no_payout(
            target_text,
            False,
            None,
            "not eligible: spend 0.00 in the cycle, ROI undefined",
            "no spend, nothing to settle",
        )
    if s.gmv is None:
        return _no_payout(
            target_text,
            False,
            None,
            f"not eligible: no GMV reported for the cycle ({c.gmv.describe()})",
            "no GMV data: check the store holds this window and flow type for these dates",
        )
    if gaps is not None:  # never settled as if the missing days were 0
        return _no_payout(
            target_text,
            False,
            None,
            f"not eligible: {gaps.text}",
            f"incomplete: no GMV yet on {days_text(gaps.missing)}; provisional, not settled as 0",
        )
    gmv = s.gmv
    # Exact trigger: GMV < target_eff × factor × spend  ⇔  Σ GMV_seg/target_seg < factor × spend
    # (multiply both sides by Σ GMV_seg/target_seg / GMV); GMV 0 with spend > 0 is triggered.
    triggered = gmv == 0 or covered < factor * s.spend
    if len(segs) <= 1:
        t = segs[0][0] if segs else g.targets[0].roi
        bar = Fraction(t) * factor * s.spend
        cmp = "<" if triggered else "≥"
        test = f"GMV {m(gmv)} {cmp} {t} × {g.trigger_factor} × spend {m(s.spend)} = {m(bar)}"
    else:
        cmp = "<" if triggered else "≥"
        parts = " + ".join(f"{m(v)} / {t}" for t, v in segs)
        test = f"Σ GMV/target = {parts} = {m(covered)} {cmp} {g.trigger_factor} × spend {m(s.spend)} = {m(factor * s.spend)}"
        if gmv == 0:
            test = f"GMV 0.00 with spend {m(s.spend)}"
    roi_part = f"ROI {_roi_text(roi)}" if roi is not None else "ROI –"

    if g.min_spend is not None and s.spend < Fraction(g.min_spend):
        return _no_payout(
            target_text,
            False,
            triggered,
            f"not eligible: spend {m(s.spend)} < min_spend {g.min_spend}",
            test,
        )
    if g.min_orders is not None and (s.orders or 0) < g.min_orders:
        return _no_payout(
            target_text,
            False,
            triggered,
            f"not eligible: orders {s.orders or 0} < min_orders {g.min_orders}",
            test,
        )
    if not triggered:
        return _no_payout(target_text, True, False, f"not triggered: {roi_part}; {test}", test)

    # The formula's amount, exact.
    if g.formula == "tiered":
        band = _band(g.tiers, roi) if roi is not None else None
        if band is None:
            return _no_payout(
                target_text,
                True,
                True,
                f"triggered, but no tier band holds {roi_part}",
                f"{test}; no band holds {roi_part}",
            )
        raw = Fraction(band.rate) * s.spend
        formula_text = (
            f"{band.rate} × {m(s.spend)} (band [{band.roi_from}, {band.roi_to}) holds {roi_part})"
        )
    else:
        if g.formula == "xhs":
            paid_for = sum((v / (Fraction(t) * factor) for t, v in segs), ZERO)
            terms = [f"{m(v)} / ({t} × {g.trigger_factor})" for t, v in segs]
        else:  # qianchuan
            paid_for = covered
            terms = [f"{m(v)} / {t}" for t, v in segs]
        raw = s.spend - paid_for
        if not terms:
            terms = ["0.00"]
        sub = terms[0] if len(terms) == 1 else "(" + " + ".join(terms) + ")"
        formula_text = f"{m(s.spend)} − {sub}"
    amount = max(raw, ZERO) * Fraction(g.refund_rate)
    if raw < 0:
        formula_text = f"max({formula_text}, 0)"
    if g.refund_rate != 1:
        formula_text = f"({formula_text}) × {g.refund_rate}"
    formula_text += f" = {m(amount)}"

    caps: list[tuple[str, Fraction, str]] = []
    if g.cap.amount is not None:
        caps.append(("amount", Fraction(g.cap.amount), f"cap {g.cap.amount}"))
    if g.cap.pct_of_spend is not None:
        v = Fraction(g.cap.pct_of_spend) * s.spend
        caps.append(("pct_of_spend", v, f"{g.cap.pct_of_spend} × spend {m(s.spend)} = {m(v)}"))
    payout = amount
    cap_applied = None
    for name, value, _ in caps:
        if value < payout:
            payout, cap_applied = value, name
    working = formula_text
    if caps:
        shown = ", ".join(f"{label}" for _, _, label in caps)
        working += f"; min({m(amount)}, {shown}) = {m(payout)}"
    reason = f"triggered: {roi_part}; {test}"
    if cap_applied:
        reason += f"; capped by {cap_applied}"
    return GuaranteeLine(
        target_roi=target_text,
        eligible=True,
        triggered=True,
        reason=reason,
        amount_before_cap=round_fen(amount, rounding),
        cap_applied=cap_applied,
        payout=round_fen(payout, rounding),
        working=working,
    )


def _band(tiers: Sequence[Tier], roi: Fraction) -> Tier | None:
    for t in tiers:
        if Fraction(t.roi_from) <= roi < Fraction(t.roi_to):
            return t
    return None


def _matched(mi: MatchedInvestment, s: _Sums, rounding: str) -> MatchedLine:
    m = lambda v: _fmt(v, rounding)  # noqa: E731
    threshold = Fraction(mi.threshold)
    z = Decimal("0.00")
    if s.spend == 0:
        return MatchedLine(
            False, "not eligible: spend 0.00 in the cycle", z, "no spend, nothing to match"
        )
    if s.spend < threshold:
        return MatchedLine(
            False,
            f"not eligible: spend {m(s.spend)} < threshold {mi.threshold}",
            z,
            f"spend {m(s.spend)} < {mi.threshold}",
        )
    raw = s.spend * Fraction(mi.ratio)
    if mi.cap is not None:
        amount = min(raw, Fraction(mi.cap))
        working = f"min({m(s.spend)} × {mi.ratio}, cap {mi.cap}) = {m(amount)}"
        reason = f"eligible: spend {m(s.spend)} ≥ threshold {mi.threshold}" + (
            "; capped" if Fraction(mi.cap) < raw else ""
        )
    else:
        amount = raw
        working = f"{m(s.spend)} × {mi.ratio} = {m(amount)}"
        reason = f"eligible: spend {m(s.spend)} ≥ threshold {mi.threshold}"
    return MatchedLine(True, reason, round_fen(amount, rounding), working)
