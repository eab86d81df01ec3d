"""Correlations with their uncertainty and a lag scan (the bootstrap is in ``bootstrap``).

Pure functions over numpy arrays; the distributions come from ``scipy.stats``, imported
inside the functions that need them (``redcat --help`` and the commands that compute no
statistics never load it):

- Pearson: ``scipy.stats.pearsonr`` (two-sided p from Student's t with n - 2 degrees of
  freedom) and its Fisher-z 95% CI, standard error 1/sqrt(n - 3).
- Spearman: ``scipy.stats.spearmanr`` (p from t with n - 2 df); CI by Fisher's z with the
  Bonett–Wright (2000) variance (1 + r²/2) / (n - 3), which scipy does not give.
- Kendall: ``scipy.stats.kendalltau`` (tau-b; p exact for n <= 33 without ties, otherwise the
  tie-corrected normal approximation); CI by Fisher's z with the Fieller–Hartley–Pearson
  (1957) variance 0.437 / (n - 4), as recommended by Bonett and Wright (2000).

Where redcat deliberately differs from scipy (each is tested):

- two pairs: r is ±1 by construction, so Pearson and Spearman give no p-value (``None``;
  scipy says 1.0) and no interval;
- a constant x or y: r is ``None`` (scipy warns and returns NaN);
- points on a line: r is exactly ±1 (scipy may say 0.9999999999999999), the t-test's p is 0
  and the interval is the point (r, r), not NaN from atanh(±1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LEVEL = 0.95


@dataclass(frozen=True)
class Correlation:
    method: str
    r: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


# --- distributions (scipy) ----------------------------------------------------------------


def _z(level: float = LEVEL) -> float:
    """The two-sided normal quantile of ``level`` (1.959963984540054 for 95%)."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


def t_two_sided_p_from_r(r: float, n: float) -> float:
    """Two-sided p of H0: rho = 0 for a correlation r from n pairs: Student's t with n - 2
    degrees of freedom (n need not be whole: an effective sample size), t = r sqrt((n - 2) /
    (1 - r²)). |r| = 1 gives 0."""
    from scipy.stats import t as student_t

    df = n - 2
    x = 1.0 - r * r
    if x <= 0.0:
        return 0.0
    return min(1.0, float(2.0 * student_t.sf(abs(r) * math.sqrt(df / x), df)))


# --- correlations --------------------------------------------------------------------------


def _fisher_ci(r: float, se: float) -> tuple[float, float]:
    """tanh(atanh r ± z se); the point itself when |r| = 1 (atanh is infinite there)."""
    if abs(r) >= 1.0:
        return (r, r)
    z = math.atanh(r)
    q = _z()
    return (math.tanh(z - q * se), math.tanh(z + q * se))


def _floats(v: Sequence[Any]) -> np.ndarray:
    return np.array([math.nan if e is None else float(e) for e in v], dtype=float)


def _clean(x: Sequence[Any], y: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs where both values are known (None and NaN are missing)."""
    xa, ya = _floats(x), _floats(y)
    keep = ~(np.isnan(xa) | np.isnan(ya))
    return xa[keep], ya[keep]


def _degenerate(xa: np.ndarray, ya: np.ndarray) -> bool:
    """Fewer than two pairs, or a constant side: no correlation is defined."""
    return xa.size < 2 or float(np.ptp(xa)) == 0.0 or float(np.ptp(ya)) == 0.0


EXACT = 1e-14  # |r| this close to 1 is 1: floating-point rounding, not evidence


def _clip(r: Any) -> float:
    """r in [−1, 1], and exactly ±1 when it is within rounding error of it (scipy may give
    0.9999999999999999 for points on a line)."""
    v = max(-1.0, min(1.0, float(r)))
    return math.copysign(1.0, v) if 1.0 - abs(v) < EXACT else v


def _quietly(f: Any, *args: Any) -> Any:
    """f(*args) with scipy's warnings (near-constant input: redcat answers the degenerate
    cases itself) kept out of the user's stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args)


def pearson(x: Sequence[Any], y: Sequence[Any]) -> Correlation:
    from scipy.stats import pearsonr

    xa, ya = _clean(x, y)
    n = int(xa.size)
    if _degenerate(xa, ya):
        return Correlation("pearson", None, None, None, None, n)
    res = _quietly(pearsonr, xa, ya)
    r = _clip(res.statistic)
    if n < 3:
        return Correlation("pearson", r, None, None, None, n)
    p = 0.0 if abs(r) >= 1.0 else float(res.pvalue)
    lo, hi = (None, None)
    if n > 3:
        if abs(r) >= 1.0:
            lo, hi = r, r
        else:
            ci = res.confidence_interval(confidence_level=LEVEL)  # Fisher z, se 1/sqrt(n - 3)
            lo, hi = float(ci.low), float(ci.high)
    return Correlation("pearson", r, p, lo, hi, n)


def spearman(x: Sequence[Any], y: Sequence[Any]) -> Correlation:
    from scipy.stats import spearmanr

    xa, ya = _clean(x, y)
    n = int(xa.size)
    if _degenerate(xa, ya):
        return Correlation("spearman", None, None, None, None, n)
    res = _quietly(spearmanr, xa, ya)
    r = _clip(res.statistic)
    if n < 3:
        return Correlation("spearman", r, None, None, None, n)
    p = 0.0 if abs(r) >= 1.0 else float(res.pvalue)
    lo, hi = (None, None)
    if n > 3:
        lo, hi = _fisher_ci(r, math.sqrt((1.0 + r * r / 2.0) / (n - 3)))
    return Correlation("spearman", r, p, lo, hi, n)


def kendall(x: Sequence[Any], y: Sequence[Any]) -> Correlation:
    """tau-b and its p from ``scipy.stats.kendalltau`` (method "auto": exact for n <= 33
    without ties, or with at most one discordant pair; else the tie-corrected normal)."""
    from scipy.stats import kendalltau

    xa, ya = _clean(x, y)
    n = int(xa.size)
    if _degenerate(xa, ya):
        return Correlation("kendall", None, None, None, None, n)
    res = _quietly(kendalltau, xa, ya)
    tau = _clip(res.statistic)
    p = min(1.0, float(res.pvalue))
    lo, hi = _fisher_ci(tau, math.sqrt(0.437 / (n - 4))) if n > 4 else (None, None)
    return Correlation("kendall", tau, p, lo, hi, n)


def correlate(x: Sequence[Any], y: Sequence[Any]) -> list[Correlation]:
    """Pearson, Spearman and Kendall on the pairs where both values are known."""
    return [pearson(x, y), spearman(x, y), kendall(x, y)]


def _r(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r of two vectors, None when either is constant."""
    if float(np.ptp(x)) == 0.0 or float(np.ptp(y)) == 0.0:
        return None
    return _clip(np.corrcoef(x, y)[0, 1])


def partial_correlation(
    x: Sequence[Any], y: Sequence[Any], z: Sequence[Any], method: str = "pearson"
) -> Correlation:
    """The correlation of x and y controlling for z, on the triples where all are known.

    r = (r_xy − r_xz r_yz) / sqrt((1 − r_xz²)(1 − r_yz²)) from the Pearson correlations of the
    values (``pearson``) or of their average ranks (``spearman``, ``scipy.stats.rankdata``).
    Its p is the t-test with n − 3 degrees of freedom; its 95% CI Fisher's z with the
    standard error of n − 1 pairs, 1/sqrt(n − 4) (Pearson; Bonett–Wright's
    sqrt((1 + r²/2)/(n − 4)) for Spearman). r is None when z explains x or y entirely or
    either is constant.
    """
    xa, ya, za = _floats(x), _floats(y), _floats(z)
    keep = ~(np.isnan(xa) | np.isnan(ya) | np.isnan(za))
    xa, ya, za = xa[keep], ya[keep], za[keep]
    n = int(xa.size)
    if n < 4:
        return Correlation(method, None, None, None, None, n)
    if method == "spearman":
        from scipy.stats import rankdata

        xa, ya, za = rankdata(xa), rankdata(ya), rankdata(za)
    rxy, rxz, ryz = _r(xa, ya), _r(xa, za), _r(ya, za)
    if rxy is None or rxz is None or ryz is None or abs(rxz) >= 1.0 or abs(ryz) >= 1.0:
        return Correlation(method, None, None, None, None, n)
    r = _clip((rxy - rxz * ryz) / math.sqrt((1.0 - rxz * rxz) * (1.0 - ryz * ryz)))
    p = t_two_sided_p_from_r(r, n - 1)  # t with (n − 1) − 2 = n − 3 df
    lo, hi = (None, None)
    if n > 4:
        var = (1.0 + r * r / 2.0) if method == "spearman" else 1.0
        lo, hi = _fisher_ci(r, math.sqrt(var / (n - 4)))
    return Correlation(method, r, p, lo, hi, n)


# --- daily series -------------------------------------------------------------------------


def lag1_autocorrelation(a: np.ndarray) -> float | None:
    a = np.asarray(a, dtype=float)
    if a.size < 3:
        return None
    am = a - a.mean()
    den = float(np.dot(am, am))
    if den == 0.0:
        return None
    return float(np.dot(am[:-1], am[1:])) / den


def effective_n(x: np.ndarray, y: np.ndarray) -> float | None:
    """Effective sample size of a correlation between two autocorrelated series.

    n_eff = n (1 - r1x r1y) / (1 + r1x r1y), with r1 the lag-1 autocorrelations
    (Bretherton et al. 1999, eq. 31; an AR(1) approximation). Capped at n.
    """
    n = len(x)
    rx, ry = lag1_autocorrelation(x), lag1_autocorrelation(y)
    if rx is None or ry is None:
        return None
    prod = rx * ry
    if prod <= -1.0:
        return float(n)
    return float(min(n, n * (1.0 - prod) / (1.0 + prod)))


@dataclass(frozen=True)
class LagScan:
    """Correlations of x(t) with y(t + lag) for lag = 0..max_lag, all three methods."""

    method: str  # the method that picks the best lag
    by_lag: list[tuple[int, list[Correlation]]]
    best_lag: int | None
    best: Correlation | None
    p_adjusted: float | None  # Bonferroni over the lags scanned
    n_lags: int


def lagged_pairs(
    x: dict[Any, Any], y: dict[Any, Any], lag: int, step: Any = 1
) -> tuple[list[Any], list[Any]]:
    """x at t paired with y at t + lag (keys are dates or integers; step is one day)."""
    xs, ys = [], []
    for t, xv in x.items():
        key = t + step * lag
        if key in y:
            xs.append(xv)
            ys.append(y[key])
    return xs, ys


def lag_scan(
    x: dict[Any, Any], y: dict[Any, Any], max_lag: int, step: Any = 1, method: str = "pearson"
) -> LagScan:
    """Correlate x(t) with y(t + L) for L = 0..max_lag; name the lag with the smallest p.

    The best lag is the one whose ``method`` correlation has the smallest p-value (ties: the
    shorter lag). Picking the best of several lags inflates significance, so its p-value is
    also given Bonferroni-adjusted: min(1, p × (max_lag + 1)). Bonferroni holds whatever the
    dependence between the lags (neighbouring lags of a daily series are far from
    independent), at the price of being conservative.
    """
    rows: list[tuple[int, list[Correlation]]] = []
    for lag in range(max_lag + 1):
        xs, ys = lagged_pairs(x, y, lag, step)
        rows.append((lag, correlate(xs, ys)))
    candidates = []
    for lag, cs in rows:
        c = next(c for c in cs if c.method == method)
        if c.p_value is not None:
            candidates.append((c.p_value, lag, c))
    if not candidates:
        return LagScan(method, rows, None, None, None, max_lag + 1)
    p, lag, best = min(candidates, key=lambda t: (t[0], t[1]))
    return LagScan(method, rows, lag, best, min(1.0, p * (max_lag + 1)), max_lag + 1)
