"""What ``redcat attribute``'s numbers say, in two to four plain sentences."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from redcat_cli.analysis.correlation import _stories_differ

if TYPE_CHECKING:
    from redcat_cli.analysis.attribute import Request

GOOD_ROI = 3.0  # "ROI ≥ 3": the usual Red Cat target; below 1 a note cost more than it sold


UNITS = {"note": "notes", "day": "days", "plan": "plans"}


def _yuan(v: Any) -> str:
    return "–" if v is None else f"¥{Decimal(v).quantize(Decimal('0.01')):,}"


def _short(text: Any, cells: int = 24) -> str:
    """A title cut to a display width (a CJK character counts two), with an ellipsis."""
    import unicodedata

    out, used = "", 0
    s = str(text)
    for ch in s:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > cells - 1 and len(out) < len(s):
            return out.rstrip() + "…"
        out, used = out + ch, used + w
    return out


def _span(a: Any, b: Any) -> str:
    """2025-06-01..15 within a month, 2025-06-16..07-15 within a year."""
    x, y = str(a), str(b)
    if x[:7] == y[:7]:
        return f"{x}..{y[8:]}"
    return f"{x}..{y[5:]}" if x[:4] == y[:4] else f"{x}..{y}"


def _pct(v: float) -> str:
    return f"{v * 100:+.0f}%"


def _p_text(p: float | None) -> str:
    if p is None:
        return ""
    return ", p < 0.001" if p < 0.001 else f", p = {p:.3f}"


def _r2(v: float) -> str:
    """A correlation to two places, never "-0.00"."""
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


SIZE_STORY = {
    "note": "bigger notes get more of everything",
    "day": "days with more spend get more of everything",
    "plan": "bigger plans get more of everything",
}


def _partial_story(pear: dict[str, Any], by: str) -> str:
    """The end of the correlation sentence when the partial correlation controlling for
    spend tells a different story from the raw one ("" when they agree): e.g. ", but 0.32
    (95% CI -0.11 to 0.65) controlling for spend — bigger notes get more of everything"."""
    if not _stories_differ(pear):
        return ""
    pa = pear["partial"]
    figure = f"{_r2(pa['r'])} (95% CI {_r2(pa['ci_low'])} to {_r2(pa['ci_high'])})"
    raw_clear = pear["ci_low"] > 0 or pear["ci_high"] < 0
    if raw_clear and pa["ci_low"] <= 0 <= pa["ci_high"]:
        return f", but {figure} controlling for spend — {SIZE_STORY[by]}"
    if not raw_clear:
        way = "positive" if pa["ci_low"] > 0 else "negative"
        return f"; controlling for spend it is {figure}, clearly {way} once size is taken out"
    return f", but {figure} controlling for spend: the other way round once size is taken out"


def findings(
    req: Request,
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    corrs: list[dict[str, Any]],
    scan: dict[str, Any] | None,
    up: dict[str, Any] | None,
) -> list[str]:
    """Two to four sentences of what the numbers say, for the top of a view. Every figure in
    them is in the table or the JSON beside it; a correlation comes with its n and interval."""
    out = _lead(req, rows, totals)
    pear = next((c for c in corrs if c["method"] == "pearson" and c.get("lag_days", 0) == 0), None)
    if pear is not None and pear.get("r") is not None:
        out.append(_correlation_sentence(req, pear))
    if scan is not None and scan.get("best_lag") and scan.get("p_adjusted") is not None:
        if scan["p_adjusted"] < 0.05:
            out.append(
                f"They line up best {scan['best_lag']} day(s) later (r {scan['r']:.2f}, "
                f"p = {scan['p_adjusted']:.2g} after Bonferroni over {scan['max_lag'] + 1} lags)."
            )
    if up is not None:
        roi = next((m for m in up["metrics"] if m["metric"] == "roi"), None)
        if roi is not None and roi.get("uplift") is not None:
            out.append(_uplift_sentence(up, roi))
    return out[:4]


def _lead(req: Request, rows: list[dict[str, Any]], totals: dict[str, Any]) -> list[str]:
    """The ROI of all rows together, how many do well or badly, and (notes) best and worst."""
    unit = UNITS[req.by]
    out: list[str] = []
    rois = [r["roi"] for r in rows if r.get("roi") is not None]
    if totals.get("roi") is not None:
        lead = (
            f"All {len(rows)} {unit} together return ROI {totals['roi']:.2f} "
            f"(GMV {_yuan(totals.get('gmv'))} on spend {_yuan(totals.get('spend'))})"
        )
        if req.by != "day" and rois:
            good = sum(1 for v in rois if v >= GOOD_ROI)
            under = sum(1 for v in rois if v < 1)
            lead += f"; {good} of {len(rois)} {unit} return ROI ≥ {GOOD_ROI:g}"
            lead += (
                f" and {under} {'is' if under == 1 else 'are'} under 1, costing more than "
                f"{'it' if under == 1 else 'they'} sold"
                if under
                else " and none is under 1"
            )
        out.append(lead + ".")
    elif not rois:
        out.append(
            f"No {unit[:-1]} has an ROI: the store lacks 聚光 spend or "
            f"{'' if req.by == 'day' else '种草星河 '}GMV for them."
        )
    if req.by == "note" and len(rois) >= 2:
        ranked = sorted(
            (r for r in rows if r.get("roi") is not None), key=lambda r: (-r["roi"], r["note_id"])
        )
        best, worst = ranked[0], ranked[-1]

        def name(r: dict[str, Any]) -> str:
            return _short(r.get("note_title") or r["note_id"])

        out.append(
            f"Best: {name(best)} (ROI {best['roi']:.2f}); worst: {name(worst)} "
            f"(ROI {worst['roi']:.2f})."
        )
    return out


def _correlation_sentence(req: Request, pear: dict[str, Any]) -> str:
    """The same-day Pearson correlation with its interval, n and p (by day: at the effective
    n), and its partial on spend when that tells another story."""
    across = "on the same day" if req.by == "day" else f"across {UNITS[req.by]}"
    detail = f"Pearson r {pear['r']:.2f}"
    if pear.get("ci_low") is not None:
        detail += f", 95% CI {pear['ci_low']:.2f} to {pear['ci_high']:.2f}"
    if req.by == "day" and pear.get("n_effective") is not None:
        # days are autocorrelated: the p-value worth quoting is the one at the effective n
        detail += f", n {pear['n']} (worth {pear['n_effective']:.0f} independent days)"
        detail += _p_text(pear.get("p_value_effective"))
    else:
        detail += f", n {pear['n']}{_p_text(pear.get('p_value'))}"
    if pear.get("ci_low") is not None and pear["ci_low"] > 0:
        said = f"{req.y.capitalize()} follow {req.x} {across} ({detail})"
    elif pear.get("ci_high") is not None and pear["ci_high"] < 0:
        said = f"{req.y.capitalize()} fall as {req.x} rise {across} ({detail})"
    else:
        said = f"No clear link between {req.x} and {req.y} {across} ({detail})"
    return said + _partial_story(pear, req.by) + "."


def _uplift_sentence(up: dict[str, Any], roi: dict[str, Any]) -> str:
    b, c = up["baseline"], up["compare"]
    when = f"between {_span(b['from'], b['to'])} and {_span(c['from'], c['to'])}"
    move = f"ROI went from {roi['baseline']:.2f} to {roi['compare']:.2f} {when}"
    if roi.get("ci_low") is None:
        return f"{move} ({_pct(roi['uplift'])})."
    if roi["ci_low"] > 0 or roi["ci_high"] < 0:
        return (
            f"{move}: {_pct(roi['uplift'])} (95% CI {_pct(roi['ci_low'])} to "
            f"{_pct(roi['ci_high'])})."
        )
    return (
        f"{move} ({_pct(roi['uplift'])}), but the 95% interval "
        f"({_pct(roi['ci_low'])} to {_pct(roi['ci_high'])}) includes no change."
    )
