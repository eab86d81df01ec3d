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
from dataclasses import replace
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction

from redcat_cli import __version__
from redcat_cli.settle.payouts import guarantee_line, matched_line
from redcat_cli.settle.statement import (
    ZERO,
    CycleStatement,
    CycleSums,
    DayFacts,
    Gaps,
    GuaranteeLine,
    InputFile,
    MatchedLine,
    Statement,
    Totals,
    days_text,
    roi_text,
    round_fen,
)
from redcat_cli.settle.terms import Contract

__all__ = [
    "CycleStatement",
    "DayFacts",
    "GuaranteeLine",
    "InputFile",
    "MatchedLine",
    "Statement",
    "Totals",
    "cycles",
    "days_text",
    "round_fen",
    "settle",
]


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


def _sum_cycle(days: Sequence[DayFacts], targets: Sequence[tuple[dt.date, Decimal]]) -> CycleSums:
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
    return CycleSums(spend, gmv, orders, by_target)


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


def _gaps(days: Sequence[DayFacts]) -> Gaps | None:
    with_spend = sorted({d.date for d in days if d.spend is not None and d.spend > 0})
    reported = {d.date for d in days if d.gmv is not None}
    missing = tuple(x for x in with_spend if x not in reported)
    return Gaps(missing, len(with_spend)) if missing else None


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
    s: CycleSums,
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
        guarantee = guarantee_line(contract, contract.roi_guarantee, start, s, roi, rounding, gaps)
    matched = None
    if contract.matched_investment is not None:
        matched = matched_line(contract.matched_investment, s, rounding)
    payout = guarantee.payout if guarantee else Decimal("0.00")
    return CycleStatement(
        start=start,
        end=end,
        spend=spend,
        gmv=gmv,
        orders=s.orders,
        roi=None if roi is None else float(roi_text(roi)),
        roi_text=None if roi is None else roi_text(roi),
        roi_guarantee=guarantee,
        matched_investment=matched,
        net_ad_cost=spend - payout,
    )
