"""Correlations with their uncertainty, a lag scan and a seeded bootstrap.

Pure functions over numpy arrays. No pandas and no scipy at run time: ``scipy.stats``
costs most of a second to import, more than the whole aggregation of a year of data, so
the few distributions we need are computed here (and checked against scipy in the tests):

- Pearson: r, two-sided p from Student's t with n - 2 degrees of freedom (the same as
  ``scipy.stats.pearsonr``), 95% CI by Fisher's z with standard error 1/sqrt(n - 3).
- Spearman: Pearson on average ranks, p from t with n - 2 df (as ``scipy.stats.spearmanr``),
  CI by Fisher's z with the Bonett–Wright (2000) variance (1 + r²/2) / (n - 3).
- Kendall: tau-b, p exact for n <= 33 without ties, otherwise the tie-corrected normal
  approximation (as ``scipy.stats.kendalltau``); CI by Fisher's z with the
  Fieller–Hartley–Pearson (1957) variance 0.437 / (n - 4), as recommended by Bonett and
  Wright (2000).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

Z975 = 1.959963984540054  # the 97.5% quantile of the standard normal


@dataclass(frozen=True)
class Correlation:
    method: str
    r: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


# --- special functions ------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p_from_r(r: float, n: float) -> float:
    """Two-sided p of H0: rho = 0 for a correlation r from n pairs (t with n - 2 df).

    t = r sqrt((n - 2) / (1 - r²)) and P(|T| > t) = I_{1 - r²}((n - 2)/2, 1/2).
    """
    df = n - 2
    x = 1.0 - r * r
    if x <= 0.0:
        return 0.0
    return min(1.0, max(0.0, betainc(df / 2.0, 0.5, x)))


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


# --- ranks and correlations -------------------------------------------------------------


def rankdata(a: np.ndarray) -> np.ndarray:
    """Average ranks, 1-based (ties get the mean of their positions)."""
    a = np.asarray(a, dtype=float)
    n = a.size
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    new = np.r_[True, s[1:] != s[:-1]]
    dense = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], n]
    avg = (starts + ends + 1) / 2.0  # mean of 1-based positions start+1 .. end
    ranks = np.empty(n, dtype=float)
    ranks[order] = avg[dense]
    return ranks


def _fisher_ci(r: float, se: float) -> tuple[float, float]:
    if abs(r) >= 1.0:
        return (r, r)
    z = math.atanh(r)
    return (math.tanh(z - Z975 * se), math.tanh(z + Z975 * se))


def _pearson_r(x: np.ndarray, y: np.ndarray) -> float | None:
    xm = x - x.mean()
    ym = y - y.mean()
    sxx = float(np.dot(xm, xm))
    syy = float(np.dot(ym, ym))
    if sxx == 0.0 or syy == 0.0:
        return None
    r = float(np.dot(xm, ym)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def _clean(x: Sequence[Any], y: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs where both values are known (None and NaN are missing)."""
    xa = np.array([math.nan if v is None else float(v) for v in x], dtype=float)
    ya = np.array([math.nan if v is None else float(v) for v in y], dtype=float)
    keep = ~(np.isnan(xa) | np.isnan(ya))
    return xa[keep], ya[keep]


def pearson(x: Sequence[Any], y: Sequence[Any]) -> Correlation:
    xa, ya = _clean(x, y)
    n = int(xa.size)
    r = _pearson_r(xa, ya) if n >= 2 else None
    if r is None or n < 3:
        return Correlation("pearson", r, None, None, None, n)
    p = t_two_sided_p_from_r(r, n)
    lo, hi = _fisher_ci(r, 1.0 / math.sqrt(n - 3)) if n > 3 else (None, None)
    return Correlation("pearson", r, p, lo, hi, n)


def spearman(x: Sequence[Any], y: Sequence[Any]) -> Correlation:
    xa, ya = _clean(x, y)
    n = int(xa.size)
    r = _pearson_r(rankdata(xa), rankdata(ya)) if n >= 2 else None
    if r is None or n < 3:
        return Correlation("spearman", r, None, None, None, n)
    p = t_two_sided_p_from_r(r, n)
    lo, hi = (None, None)
    if n > 3:
        lo, hi = _fisher_ci(r, math.sqrt((1.0 + r * r / 2.0) / (n - 3)))
    return Correlation("spearman", r, p, lo, hi, n)


def _dense(a: np.ndarray) -> np.ndarray:
    """Dense 0-based ranks."""
    _, inv = np.unique(a, return_inverse=True)
    return inv.astype(np.int64)


def count_inversions(a: np.ndarray) -> int:
    """Pairs i < j with a[i] > a[j] (strictly), by a bottom-up merge vectorised in numpy."""
    a = _dense(np.asarray(a))
    n = a.size
    if n < 2:
        return 0
    big = int(a.max()) + 2
    total = 0
    width = 1
    pos = np.arange(n)
    while width < n:
        block = pos // width  # which width-block each element is in (blocks are sorted)
        pair = block // 2
        is_left = (block % 2) == 0
        lkeys = pair[is_left] * big + a[is_left]  # globally sorted: pairs ascend, blocks sorted
        rpair = pair[~is_left]
        rvals = a[~is_left]
        if rvals.size:
            left_end = np.searchsorted(lkeys, rpair * big + big, side="left")
            le = np.searchsorted(lkeys, rpair * big + rvals, side="right")
            total += int((left_end - le).sum())
        # merge: sort each pair of blocks
        keys = pair * big + a
        a = np.sort(keys) - np.sort(pair) * big
        width *= 2
    return total


def _kendall_p_exact(n: int, c: int) -> float:
    """Two-sided exact p for n untied pairs with c discordant pairs (Mahonian numbers)."""
    tot = n * (n - 1) // 2
    c = min(c, tot - c)
    if 4 * c == n * (n - 1):
        return 1.0
    # counts[k] = number of permutations of n with k inversions, for k <= c
    counts = [1] + [0] * c
    for j in range(2, n + 1):
        new = [0] * (c + 1)
        run = 0
        for k in range(c + 1):
            run += counts[k]
            if k - j >= 0:
                run -= counts[k - j]
            new[k] = run
        counts = new
    # exact rational arithmetic: n! overflows a float from n = 171 on
    return min(1.0, float(Fraction(2 * sum(counts), math.factorial(n))))


def kendall(x: Sequence[Any], y: Sequence[Any]) -> Correlation:
    xa, ya = _clean(x, y)
    n = int(xa.size)
    if n < 2:
        return Correlation("kendall", None, None, None, None, n)
    order = np.lexsort((ya, xa))  # by x, then y
    xs, ys = _dense(xa[order]), _dense(ya[order])
    dis = count_inversions(ys)

    def ties(d: np.ndarray) -> tuple[int, float, float]:
        cnt = np.bincount(d).astype(np.int64)
        cnt = cnt[cnt > 1]
        return (
            int((cnt * (cnt - 1) // 2).sum()),
            float((cnt * (cnt - 1.0) * (cnt - 2)).sum()),
            float((cnt * (cnt - 1.0) * (2 * cnt + 5)).sum()),
        )

    joint = np.r_[True, (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1]), True]
    jcnt = np.diff(np.flatnonzero(joint)).astype(np.int64)
    ntie = int((jcnt * (jcnt - 1) // 2).sum())
    xtie, x0, x1 = ties(xs)
    ytie, y0, y1 = ties(ys)
    tot = n * (n - 1) // 2
    if xtie == tot or ytie == tot:
        return Correlation("kendall", None, None, None, None, n)
    s = tot - xtie - ytie + ntie - 2 * dis
    tau = s / math.sqrt(tot - xtie) / math.sqrt(tot - ytie)
    tau = max(-1.0, min(1.0, tau))
    if xtie == 0 and ytie == 0 and (n <= 33 or min(dis, tot - dis) <= 1):
        p = _kendall_p_exact(n, dis)
    else:
        m = n * (n - 1.0)
        var = (m * (2 * n + 5) - x1 - y1) / 18 + (2 * xtie * ytie) / m
        if n > 2:
            var += x0 * y0 / (9 * m * (n - 2))
        p = normal_two_sided_p(s / math.sqrt(var))
    lo, hi = _fisher_ci(tau, math.sqrt(0.437 / (n - 4))) if n > 4 else (None, None)
    return Correlation("kendall", tau, p, lo, hi, n)


def correlate(x: Sequence[Any], y: Sequence[Any]) -> list[Correlation]:
    """Pearson, Spearman and Kendall on the pairs where both values are known."""
    return [pearson(x, y), spearman(x, y), kendall(x, y)]


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


# --- bootstrap ----------------------------------------------------------------------------


def _resampled_sums(
    rng: np.random.Generator, values: np.ndarray, n_boot: int, chunk: int
) -> np.ndarray:
    """Column sums of ``n_boot`` resamples (rows drawn with replacement) of ``values``.

    Each resample is drawn as row indices, turned into how often each row was drawn, and
    multiplied with the values: memory stays at ``chunk`` × rows whatever ``n_boot`` is.
    """
    n = values.shape[0]
    out = np.empty((n_boot, values.shape[1]))
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(m, n))
        flat = (idx + (np.arange(m)[:, None] * n)).ravel()
        counts = np.bincount(flat, minlength=m * n).reshape(m, n).astype(np.float64)
        out[start : start + m] = counts @ values  # float: the BLAS product
    return out


def bootstrap_ratio_uplifts(
    base_num: np.ndarray,
    base_den: np.ndarray,
    comp_num: np.ndarray,
    comp_den: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    level: float = 0.95,
    chunk: int = 256,
) -> list[tuple[float | None, float | None, int]]:
    """Percentile intervals of (Σnum_c/Σden_c) / (Σnum_b/Σden_b) − 1 for k ratios at once.

    Inputs are (units × k) arrays: one row per unit (day or note) of a period, one column per
    ratio. Units of each period are resampled with replacement, independently per period,
    with ``numpy.random.default_rng(seed)``; every ratio sees the same resampled units.
    Resamples whose ratio is undefined (a zero denominator) are dropped; for each ratio the
    result is (low, high, resamples used).
    """
    bn, bd = np.atleast_2d(np.asarray(base_num, float)), np.atleast_2d(np.asarray(base_den, float))
    cn, cd = np.atleast_2d(np.asarray(comp_num, float)), np.atleast_2d(np.asarray(comp_den, float))
    k = bn.shape[1]
    if bn.shape[0] == 0 or cn.shape[0] == 0:
        return [(None, None, 0)] * k
    rng = np.random.default_rng(seed)
    sb = _resampled_sums(rng, np.hstack([bn, bd]), n_boot, chunk)
    sc = _resampled_sums(rng, np.hstack([cn, cd]), n_boot, chunk)
    alpha = (1.0 - level) / 2.0
    out: list[tuple[float | None, float | None, int]] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(k):
            rb = sb[:, j] / sb[:, k + j]
            rc = sc[:, j] / sc[:, k + j]
            ok = np.isfinite(rb) & np.isfinite(rc) & (rb != 0)
            up = rc[ok] / rb[ok] - 1.0
            if up.size == 0:
                out.append((None, None, 0))
                continue
            lo, hi = np.quantile(up, [alpha, 1.0 - alpha])
            out.append((float(lo), float(hi), int(up.size)))
    return out


def bootstrap_ratio_uplift(
    base_num: np.ndarray,
    base_den: np.ndarray,
    comp_num: np.ndarray,
    comp_den: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    level: float = 0.95,
) -> tuple[float | None, float | None, int]:
    """One ratio's interval: ``bootstrap_ratio_uplifts`` on 1-D arrays."""

    def col(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, float).reshape(-1, 1)

    return bootstrap_ratio_uplifts(
        col(base_num),
        col(base_den),
        col(comp_num),
        col(comp_den),
        n_boot=n_boot,
        seed=seed,
        level=level,
    )[0]
