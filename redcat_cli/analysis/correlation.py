"""Correlations of ``redcat attribute``: every method across the funnel's rows (or a lag
scan over days), each Pearson and Spearman row with its partial correlation on spend."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from redcat_cli.analysis import stats

if TYPE_CHECKING:
    from redcat_cli.analysis.attribute import Request

MIN_N = 10


PARTIAL_CONTROL = "spend"


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _corr_dict(
    x: str, y: str, by: str, lag: int, c: stats.Correlation, partial: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "by": by,
        "method": c.method,
        "lag_days": lag,
        "r": c.r,
        "p_value": c.p_value,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "n": c.n,
        "partial": partial,
    }


def _partial(
    req: Request, method: str, xs: list[Any], ys: list[Any], zs: list[Any]
) -> dict[str, Any] | None:
    """The correlation controlling for spend, or None (Kendall, spend as x or y, or when it
    cannot be computed)."""
    if method == "kendall" or PARTIAL_CONTROL in (req.x, req.y):
        return None
    c = stats.partial_correlation(xs, ys, zs, method)
    if c.r is None:
        return None
    return {
        "control": PARTIAL_CONTROL,
        "r": c.r,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "p_value": c.p_value,
        "n": c.n,
    }


def _stories_differ(c: dict[str, Any]) -> bool:
    """The correlation and its partial tell different stories: one interval excludes 0 and
    the other holds it, or both exclude 0 with opposite signs."""
    pa = c["partial"]
    if pa is None or c["ci_low"] is None or pa["ci_low"] is None:
        return False

    def sign(lo: float, hi: float) -> int:
        return 1 if lo > 0 else -1 if hi < 0 else 0

    return sign(c["ci_low"], c["ci_high"]) != sign(pa["ci_low"], pa["ci_high"])


def correlations(
    rows: list[dict[str, Any]], req: Request
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[str], tuple[list[float], list[float]]]:
    """Correlation entries, the lag scan (by day), warnings, and the points to plot."""
    warnings: list[str] = []
    if req.by != "day":
        xs = [_num(r[req.x]) for r in rows]
        ys = [_num(r[req.y]) for r in rows]
        zs = [_num(r[PARTIAL_CONTROL]) for r in rows]
        out = [
            _corr_dict(req.x, req.y, req.by, 0, c, _partial(req, c.method, xs, ys, zs))
            for c in stats.correlate(xs, ys)
        ]
        pts = [(a, b) for a, b in zip(xs, ys, strict=True) if a is not None and b is not None]
        scan = None
    else:
        out, scan, pts = _by_day(rows, req)
        warnings.append(
            "Daily series are autocorrelated: the p-values treat days as independent and are "
            "optimistic; n_effective (lag-1 AR approximation) is the sample size they are worth."
        )
    n = out[0]["n"] if out else 0
    if n < MIN_N:
        warnings.append(
            f"Only {n} {req.by}s have both {req.x} and {req.y}: with n < {MIN_N} a correlation "
            "says little; read the confidence interval."
        )
    warnings.extend(_size_warnings(out, req))
    return out, scan, warnings, ([p[0] for p in pts], [p[1] for p in pts])


def _by_day(
    rows: list[dict[str, Any]], req: Request
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[tuple[float, float]]]:
    """Every lag's correlations with n_effective, the lag scan, and the points to plot."""
    import numpy as np

    xd = {r["date"]: float(r[req.x]) for r in rows if r[req.x] is not None}
    yd = {r["date"]: float(r[req.y]) for r in rows if r[req.y] is not None}
    zd = {r["date"]: _num(r[PARTIAL_CONTROL]) for r in rows}
    one_day = dt.timedelta(days=1)
    result = stats.lag_scan(xd, yd, req.max_lag, one_day)
    out = []
    for lag, cs in result.by_lag:
        xs_l, ys_l = stats.lagged_pairs(xd, yd, lag, one_day)
        # spend on the day of the engagement, beside each pair
        zs_l = [zd.get(t) for t in xd if t + one_day * lag in yd]
        n_eff = stats.effective_n(np.array(xs_l), np.array(ys_l)) if len(xs_l) >= 3 else None
        for c in cs:
            d = _corr_dict(req.x, req.y, "day", lag, c, _partial(req, c.method, xs_l, ys_l, zs_l))
            d["n_effective"] = n_eff
            # the t-test of r again, with n_eff pairs (Pearson and Spearman only)
            d["p_value_effective"] = (
                stats.t_two_sided_p_from_r(c.r, n_eff)
                if c.method != "kendall" and c.r is not None and n_eff is not None and n_eff > 3
                else None
            )
            out.append(d)
    plot_lag = result.best_lag if (req.max_lag > 0 and result.best_lag is not None) else 0
    x0, y0 = stats.lagged_pairs(xd, yd, plot_lag, one_day)
    scan = None
    if req.max_lag > 0:
        scan = {
            "method": result.method,
            "max_lag": req.max_lag,
            "best_lag": result.best_lag,
            "r": result.best.r if result.best else None,
            "p_value": result.best.p_value if result.best else None,
            "p_adjusted": result.p_adjusted,
            "adjustment": "bonferroni",
            "n": result.best.n if result.best else None,
        }
    return out, scan, list(zip(x0, y0, strict=True))


def _size_warnings(out: list[dict[str, Any]], req: Request) -> list[str]:
    """A warning where the same-day Pearson row and its partial on spend disagree."""
    warnings = []
    for row in out:
        if row["lag_days"] == 0 and row["method"] == "pearson" and _stories_differ(row):
            pa = row["partial"]
            raw_only = row["ci_low"] > 0 or row["ci_high"] < 0
            warnings.append(
                f"{req.x} and {req.y} across {req.by}s: Pearson r {row['r']:.3f} (95% CI "
                f"{row['ci_low']:.2f} to {row['ci_high']:.2f}), but controlling for spend the partial "
                f"correlation is {pa['r']:.2f} (95% CI {pa['ci_low']:.2f} to {pa['ci_high']:.2f}): "
                + (
                    f"much of the association is size — bigger {req.by}s get more of everything."
                    if raw_only and pa["ci_low"] <= 0 <= pa["ci_high"]
                    else "net of spend the association tells a different story."
                )
            )
    return warnings
