"""The projected final payout of a provisional statement, learned from the store's re-exports.

A day's GMV keeps growing in later exports until its attribution window has passed. Every key
the store saw more than once (a 种草星河 (date, note, flow, window) row, or a 聚光 row) tells how
far along its value was at each age (export date − data date, in days): its *share* of the
final value, the final value being one exported at age ≥ window. The **maturity curve** is,
for each age, the ratio of sums Σ value at that age / Σ final value over the keys seen at that
age (a rate of the group, so a big note weighs what it sells), with an 80% band from the 10th
and 90th percentiles of the per-key shares, each key weighted by its final value.

Projection of a provisional statement, day by day:
- a day whose GMV is mature (exported at age ≥ window) keeps its value;
- an immature day's GMV is divided by the curve's share at its age: central by the ratio of
  sums, low by the band's high share, high by the band's low share (ages between observed
  ones are interpolated linearly, with share 1 at the window; ages below the youngest
  observed take the youngest's share);
- a day with spend but no GMV yet gets spend × the scope's mature GMV/spend ratio of its
  weekday (all weekdays when that weekday has none), with the 10th–90th percentiles of the
  mature days' ratios as its band; with no mature day in scope it is left out, and said so.
Orders are projected with the same central share (and ratio), since ``min_orders`` decides
eligibility. Then the contract applies to the projected days exactly as to real ones (the
same exact engine); low GMV gives the high payout. The band is carried through with every
day at the same quantile at once, i.e. the days are taken to mature together: a deliberately
wide (conservative) interval. No projection is made from fewer than ``MIN_KEYS`` keys.

No I/O here: ``redcat_cli.queries.projection`` reads the observations from the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from redcat_cli.settle.contract import Contract
from redcat_cli.settle.engine import DayFacts, Statement, settle

MIN_KEYS = 30
LEVEL = "0.8"
Q_LOW, Q_HIGH = 0.1, 0.9
PLACES = Decimal("0.0001")  # projected day values: 4 places, as the store keeps money


@dataclass(frozen=True)
class AgePoint:
    age: int
    share: float  # Σ value at this age / Σ final value
    low: float  # 10th percentile of per-key shares (weighted by final value)
    high: float  # 90th percentile
    keys: int  # keys observed at this age


@dataclass(frozen=True)
class Curve:
    window: int
    points: tuple[AgePoint, ...]  # observed ages, ascending
    keys: int  # keys seen both immature and mature (final value > 0)

    def at(self, age: int) -> tuple[float, float, float]:
        """(central, low, high) share at ``age``: observed, interpolated, or 1 at the window."""
        if age >= self.window:
            return 1.0, 1.0, 1.0
        pts = [(p.age, p.share, p.low, p.high) for p in self.points]
        pts.append((self.window, 1.0, 1.0, 1.0))
        if age <= pts[0][0]:
            return pts[0][1], pts[0][2], pts[0][3]
        for (a0, *v0), (a1, *v1) in zip(pts, pts[1:], strict=False):
            if a0 <= age <= a1:
                t = (age - a0) / (a1 - a0)
                c, lo, hi = (x + t * (y - x) for x, y in zip(v0, v1, strict=True))
                return c, lo, hi
        return 1.0, 1.0, 1.0  # unreachable: age < window is inside the points

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_days": self.window,
            "keys": self.keys,
            "ages": [
                {
                    "age": p.age,
                    "share": round(p.share, 4),
                    "low": round(p.low, 4),
                    "high": round(p.high, 4),
                    "keys": p.keys,
                }
                for p in self.points
            ],
        }


def _weighted_quantile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    """The q-quantile of values weighted by weights (the value where the cumulative weight
    first reaches q of the total)."""
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(w for _, w in pairs)
    acc = 0.0
    for v, w in pairs:
        acc += w
        if acc >= q * total:
            return v
    return pairs[-1][0]


def learn_curve(observations: Sequence[tuple[Any, int, float, float]], window: int) -> Curve:
    """The curve from (key, age, value at that age, final value) observations, final > 0."""
    by_age: dict[int, list[tuple[float, float]]] = {}
    keys = set()
    for key, age, value, final in observations:
        if final <= 0 or age < 0 or age >= window:
            continue
        keys.add(key)
        by_age.setdefault(int(age), []).append((float(value), float(final)))
    points = []
    for age in sorted(by_age):
        obs = by_age[age]
        total_final = sum(f for _, f in obs)
        share = sum(v for v, _ in obs) / total_final
        shares = [v / f for v, f in obs]
        weights = [f for _, f in obs]
        low = _weighted_quantile(shares, weights, Q_LOW)
        high = _weighted_quantile(shares, weights, Q_HIGH)
        points.append(AgePoint(age, share, min(low, share), max(high, share), len(obs)))
    return Curve(window, tuple(points), len(keys))


@dataclass(frozen=True)
class Ratio:
    """GMV and orders per unit of spend on the scope's mature days: central by weekday, band."""

    by_weekday: dict[int, tuple[Fraction, Fraction]]  # weekday → (GMV/spend, orders/spend)
    overall: tuple[Fraction, Fraction]
    low: Fraction
    high: Fraction
    days: int


def mature_ratio(history: Sequence[DayFacts], window: int) -> Ratio | None:
    """GMV/spend of the scope's days whose GMV is mature, per weekday, with its 10–90% band."""
    mature = [
        d
        for d in history
        if d.spend is not None
        and d.spend > 0
        and d.gmv is not None
        and d.exported_on is not None
        and (d.exported_on - d.date).days >= window
    ]
    if not mature:
        return None

    def ratio(days: Sequence[DayFacts]) -> tuple[Fraction, Fraction]:
        spend = sum((Fraction(d.spend) for d in days if d.spend is not None), Fraction(0))
        gmv = sum((Fraction(d.gmv) for d in days if d.gmv is not None), Fraction(0))
        orders = sum(d.orders or 0 for d in days)
        return gmv / spend, Fraction(orders) / spend

    by_weekday: dict[int, list[DayFacts]] = {}
    for d in mature:
        by_weekday.setdefault(d.date.weekday(), []).append(d)
    per_day = [float(Fraction(d.gmv) / Fraction(d.spend)) for d in mature]  # type: ignore[arg-type]
    weights = [float(d.spend) for d in mature]  # type: ignore[arg-type]
    return Ratio(
        {w: ratio(ds) for w, ds in by_weekday.items()},
        ratio(mature),
        Fraction(_weighted_quantile(per_day, weights, Q_LOW)),
        Fraction(_weighted_quantile(per_day, weights, Q_HIGH)),
        len(mature),
    )


@dataclass(frozen=True)
class ProjectedDays:
    central: list[DayFacts]
    low: list[DayFacts]
    high: list[DayFacts]
    left_out: list[dt.date]  # spend but no GMV and nothing to project it from


def _four(x: Fraction) -> Decimal:
    """A projected day value to 4 places, half-up (an estimate: never a statement line)."""
    scaled = x * 10000
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return (Decimal(q) * PLACES).quantize(PLACES)


def project_days(
    days: Sequence[DayFacts], curve: Curve, ratio: Ratio | None, mature_on: dt.date
) -> ProjectedDays:
    """Each day's final GMV and orders: kept (mature), grown (immature) or estimated (missing).

    Projected days carry ``exported_on = mature_on`` so the engine settles them as mature.
    """
    central: list[DayFacts] = []
    low: list[DayFacts] = []
    high: list[DayFacts] = []
    left_out: list[dt.date] = []
    for d in days:
        if d.gmv is None:
            if d.spend is None or d.spend <= 0:
                continue
            if ratio is None:
                left_out.append(d.date)
                central.append(d)
                low.append(d)
                high.append(d)
                continue
            g, o = ratio.by_weekday.get(d.date.weekday(), ratio.overall)
            s = Fraction(d.spend)
            orders = int(_four(s * o).to_integral_value())
            for out, gmv in ((central, s * g), (low, s * ratio.low), (high, s * ratio.high)):
                out.append(replace(d, gmv=_four(gmv), orders=orders, exported_on=mature_on))
            continue
        age = None if d.exported_on is None else (d.exported_on - d.date).days
        if age is not None and age >= curve.window:
            for out in (central, low, high):
                out.append(d)
            continue
        c, lo, hi = curve.at(max(age or 0, 0))
        v = Fraction(d.gmv)
        grown_orders = None if d.orders is None else round(d.orders / c) if c > 0 else d.orders
        # low GMV from the high share, high GMV from the low share (a zero share: no bound)
        for out, share in ((central, c), (low, hi), (high, lo if lo > 0 else c)):
            grown = v / Fraction(share) if share > 0 else v
            out.append(replace(d, gmv=_four(grown), orders=grown_orders, exported_on=mature_on))
    return ProjectedDays(central, low, high, left_out)


def _block(
    st: Statement, low: Statement, high: Statement, i: int | None, keys: int, method: str
) -> dict[str, Any]:
    """One ``projected`` object: a cycle's (``i``) or the totals (``i`` None)."""
    gmv: Decimal | None  # a cycle's GMV may be missing; the totals' never is
    gmv_low: Decimal | None
    gmv_high: Decimal | None
    if i is None:
        c, lo, hi = st.totals, low.totals, high.totals
        gmv, gmv_low, gmv_high = c.gmv, lo.gmv, hi.gmv
        pay, pay_low, pay_high = (
            c.roi_guarantee_payout,
            high.totals.roi_guarantee_payout,
            low.totals.roi_guarantee_payout,
        )
        matched: Decimal | None = c.matched_investment
    else:
        a, b, h = st.cycles[i], low.cycles[i], high.cycles[i]
        gmv, gmv_low, gmv_high = a.gmv, b.gmv, h.gmv
        pay, pay_low, pay_high = a.payout, h.payout, b.payout
        matched = a.matched
    z = Decimal("0.00")
    return {
        "gmv": str(gmv if gmv is not None else z),
        "gmv_low": str(gmv_low if gmv_low is not None else z),
        "gmv_high": str(gmv_high if gmv_high is not None else z),
        "roi_guarantee_payout": str(pay),
        "roi_guarantee_payout_low": str(min(pay_low, pay_high)),
        "roi_guarantee_payout_high": str(max(pay_low, pay_high)),
        "matched_investment": str(matched),
        "level": LEVEL,
        "method": method,
        "keys_learned_from": keys,
    }


@dataclass(frozen=True)
class Projection:
    cycles: tuple[dict[str, Any] | None, ...]
    totals: dict[str, Any] | None
    note: str
    curve: Curve | None = None


def project(
    contract: Contract,
    statement: Statement,
    days: Sequence[DayFacts],
    curve: Curve | None,
    ratio: Ratio | None,
) -> Projection:
    """The projected final payout of a provisional statement, or why there is none."""
    n = len(statement.cycles)
    if statement.final:
        return Projection((None,) * n, None, "the statement is final: nothing to project")
    if curve is None or curve.keys < MIN_KEYS:
        have = 0 if curve is None else curve.keys
        return Projection(
            (None,) * n,
            None,
            f"no projection: the store holds {have} key{'s' if have != 1 else ''} seen both "
            f"before and after their {contract.gmv.window_days}-day window closed, fewer than "
            f"the {MIN_KEYS} a maturity curve needs; ingest later re-exports of the same days",
            curve,
        )
    mature_on = max(c.end for c in statement.cycles) + dt.timedelta(days=contract.gmv.window_days)
    proj = project_days(days, curve, ratio, mature_on)
    if proj.left_out:
        from redcat_cli.settle.engine import days_text

        return Projection(
            (None,) * n,
            None,
            f"no projection: {days_text(proj.left_out)} had spend but no GMV yet, and the "
            "scope has no day of mature GMV to estimate it from",
            curve,
        )
    as_of = max(statement.as_of, mature_on)
    central = settle(contract, proj.central, as_of)
    low = settle(contract, proj.low, as_of)
    high = settle(contract, proj.high, as_of)
    method = (
        f"maturity curve by age learned from {curve.keys} re-exported keys "
        f"(ratio of sums per age; band: 10th–90th percentiles of per-key shares)"
    )
    if ratio is not None and any(d.gmv is None and (d.spend or 0) > 0 for d in days):
        method += f"; days with spend but no GMV from the scope's mature GMV/spend by weekday ({ratio.days} days)"
    cycles = tuple(_block(central, low, high, i, curve.keys, method) for i in range(n))
    totals = _block(central, low, high, None, curve.keys, method)
    note = (
        "projected final payout, with an 80% interval; the provisional figures are what the "
        "data supports today"
    )
    return Projection(cycles, totals, note, curve)
