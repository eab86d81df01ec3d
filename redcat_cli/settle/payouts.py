"""The two payouts of a cycle, exact: the ROI guarantee (效果对赌: qianchuan, xhs or tiered, after
the refund rate and the caps) and the matched investment (外投激励), each with its working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from redcat_cli.settle.statement import (
    ZERO,
    CycleSums,
    Gaps,
    GuaranteeLine,
    MatchedLine,
    days_text,
    fmt_money,
    roi_text,
    round_fen,
)
from redcat_cli.settle.terms import Contract, MatchedInvestment, RoiGuarantee, Tier


def _no_payout(
    target: str | None, eligible: bool, triggered: bool | None, reason: str, working: str
) -> GuaranteeLine:
    z = Decimal("0.00")
    return GuaranteeLine(target, eligible, triggered, reason, z, None, z, working)


def guarantee_line(
    c: Contract,
    g: RoiGuarantee,
    start: dt.date,
    s: CycleSums,
    roi: Fraction | None,
    rounding: str,
    gaps: Gaps | None = None,
) -> GuaranteeLine:
    m = lambda v: fmt_money(v, rounding)  # noqa: E731
    segs = s.gmv_by_target
    factor = Fraction(g.trigger_factor)
    # Σ GMV_seg / target_seg: the GMV "paid for" at the targets. Effective target = GMV / that.
    covered = sum((gmv / Fraction(t) for t, gmv in segs), ZERO)
    target_text = _target_text(g, start, s, covered)
    unsettled = _unsettled(c, s, target_text, gaps)
    if unsettled is not None:
        return unsettled
    gmv = s.gmv
    assert gmv is not None
    # Exact trigger: GMV < target_eff × factor × spend  ⇔  Σ GMV_seg/target_seg < factor × spend
    # (multiply both sides by Σ GMV_seg/target_seg / GMV); GMV 0 with spend > 0 is triggered.
    triggered = gmv == 0 or covered < factor * s.spend
    test = _trigger_test(g, s, covered, triggered, m)
    roi_part = f"ROI {roi_text(roi)}" if roi is not None else "ROI –"
    if g.min_spend is not None and s.spend < Fraction(g.min_spend):
        reason = f"not eligible: spend {m(s.spend)} < min_spend {g.min_spend}"
        return _no_payout(target_text, False, triggered, reason, test)
    if g.min_orders is not None and (s.orders or 0) < g.min_orders:
        reason = f"not eligible: orders {s.orders or 0} < min_orders {g.min_orders}"
        return _no_payout(target_text, False, triggered, reason, test)
    if not triggered:
        return _no_payout(target_text, True, False, f"not triggered: {roi_part}; {test}", test)

    found = _formula_amount(g, s, covered, roi, m)
    if found is None:
        return _no_payout(
            target_text,
            True,
            True,
            f"triggered, but no tier band holds {roi_part}",
            f"{test}; no band holds {roi_part}",
        )
    amount, formula_text = found
    payout, cap_applied, working = _capped(g, s, amount, formula_text, m)
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


def _target_text(g: RoiGuarantee, start: dt.date, s: CycleSums, covered: Fraction) -> str | None:
    """The cycle's target: the one in force, or the effective target over its segments."""
    segs = s.gmv_by_target
    if len(segs) == 1:
        return str(segs[0][0])
    if not segs:  # no GMV in the cycle: the target in force when the cycle starts
        in_force = [t for t in g.targets if t.start <= start]
        return str(in_force[-1].roi) if in_force else None
    if covered > 0:
        return roi_text(s.gmv / covered)  # type: ignore[operator]
    return None


def _unsettled(
    c: Contract, s: CycleSums, target_text: str | None, gaps: Gaps | None
) -> GuaranteeLine | None:
    """The line of a cycle that cannot be settled: no spend, no GMV, or days missing."""
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
    return None


def _trigger_test(
    g: RoiGuarantee, s: CycleSums, covered: Fraction, triggered: bool, m: Callable[[Any], str]
) -> str:
    """The trigger test written out with the cycle's figures."""
    segs = s.gmv_by_target
    factor = Fraction(g.trigger_factor)
    cmp = "<" if triggered else "≥"
    if len(segs) <= 1:
        t = segs[0][0] if segs else g.targets[0].roi
        bar = Fraction(t) * factor * s.spend
        return f"GMV {m(s.gmv)} {cmp} {t} × {g.trigger_factor} × spend {m(s.spend)} = {m(bar)}"
    if s.gmv == 0:
        return f"GMV 0.00 with spend {m(s.spend)}"
    parts = " + ".join(f"{m(v)} / {t}" for t, v in segs)
    return f"Σ GMV/target = {parts} = {m(covered)} {cmp} {g.trigger_factor} × spend {m(s.spend)} = {m(factor * s.spend)}"


def _formula_amount(
    g: RoiGuarantee,
    s: CycleSums,
    covered: Fraction,
    roi: Fraction | None,
    m: Callable[[Any], str],
) -> tuple[Fraction, str] | None:
    """The formula's amount, exact, after the refund rate, with its working; None when the
    formula is tiered and no band holds the ROI."""
    segs = s.gmv_by_target
    factor = Fraction(g.trigger_factor)
    if g.formula == "tiered":
        band = _band(g.tiers, roi) if roi is not None else None
        if band is None:
            return None
        roi_part = f"ROI {roi_text(roi)}" if roi is not None else "ROI –"
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
    return amount, formula_text + f" = {m(amount)}"


def _capped(
    g: RoiGuarantee, s: CycleSums, amount: Fraction, formula_text: str, m: Callable[[Any], str]
) -> tuple[Fraction, str | None, str]:
    """The payout after the caps (the smaller binds), the cap that applied, and the working."""
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
    return payout, cap_applied, working


def _band(tiers: Sequence[Tier], roi: Fraction) -> Tier | None:
    for t in tiers:
        if Fraction(t.roi_from) <= roi < Fraction(t.roi_to):
            return t
    return None


def matched_line(mi: MatchedInvestment, s: CycleSums, rounding: str) -> MatchedLine:
    m = lambda v: fmt_money(v, rounding)  # noqa: E731
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
