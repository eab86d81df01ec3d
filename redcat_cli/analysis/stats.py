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


def partial_correlation(
    x: Sequence[Any], y: Sequence[Any], z: Sequence[Any], method: str = "pearson"
) -> Correlation:
    """The correlation of x and y controlling for z, on the triples where all are known.

    r = (r_xy − r_xz r_yz) / sqrt((1 − r_xz²)(1 − r_yz²)) from the Pearson correlations of the
    values (``pearson``) or of their average ranks (``spearman``). Its p is the t-test with
    n − 3 degrees of freedom; its 95% CI Fisher's z with the standard error of n − 1 pairs,
    1/sqrt(n − 4) (Pearson; Bonett–Wright's sqrt((1 + r²/2)/(n − 4)) for Spearman).
    r is None when z explains x or y entirely or either is constant.
    """
    xa = np.array([math.nan if v is None else float(v) for v in x], dtype=float)
    ya = np.array([math.nan if v is None else float(v) for v in y], dtype=float)
    za = np.array([math.nan if v is None else float(v) for v in z], dtype=float)
    keep = ~(np.isnan(xa) | np.isnan(ya) | np.isnan(za))
    xa, ya, za = xa[keep], ya[keep], za[keep]
    n = int(xa.size)
    if n < 4:
        return Correlation(method, None, None, None, None, n)
    if method == "spearman":
        xa, ya, za = rankdata(xa), rankdata(ya), rankdata(za)
    rxy, rxz, ryz = _pearson_r(xa, ya), _pearson_r(xa, za), _pearson_r(ya, za)
    if rxy is None or rxz is None or ryz is None or abs(rxz) >= 1.0 or abs(ryz) >= 1.0:
        return Correlation(method, None, None, None, None, n)
    r = (rxy - rxz * ryz) / math.sqrt((1.0 - rxz * rxz) * (1.0 - ryz * ryz))
    r = max(-1.0, min(1.0, r))
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


# --- bootstrap ----------------------------------------------------------------------------


def block_indices(rng: np.random.Generator, n: int, m: int, block: int) -> np.ndarray:
    """``m`` resamples of ``n`` positions: circular blocks of ``block`` consecutive positions
    (Politis and Romano's circular block bootstrap), as many as cover ``n``, cut to ``n``.
    ``block`` 1 is the ordinary bootstrap."""
    if block <= 1:
        return rng.integers(0, n, size=(m, n))
    k = -(-n // block)
    starts = rng.integers(0, n, size=(m, k))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n
    return idx.reshape(m, k * block)[:, :n]


def _sums(idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Column sums of ``values`` over each row of drawn indices (counts × values, in BLAS)."""
    m, n = idx.shape[0], values.shape[0]
    flat = (idx + (np.arange(m)[:, None] * n)).ravel()
    counts = np.bincount(flat, minlength=m * n).reshape(m, n).astype(np.float64)
    return counts @ values


@dataclass(frozen=True)
class UpliftInterval:
    """A percentile interval of an uplift; ``None`` on a side that is unbounded."""

    low: float | None
    high: float | None
    used: int  # resamples with a finite uplift
    undefined: int  # resamples whose uplift is not a finite number
    unbounded: tuple[str, ...] = ()  # "high" when the interval has no upper end


MAX_UNDEFINED_SHARE = 0.01


def _interval(up: np.ndarray, alpha: float) -> UpliftInterval:
    """The percentile interval of resampled uplifts, some of them NaN (0/0, a zero
    denominator) or +inf (a baseline ratio of 0).

    Up to 1% of them are dropped (and counted). Beyond that, dropping would cut off a tail:
    each undefined resample is placed where it hurts each bound most — at −100% (the lowest
    an uplift of non-negative ratios can be) for the lower bound, at +∞ for the upper — and
    an upper bound at +∞ is reported as unbounded (``None``).
    """
    finite = np.isfinite(up)
    n_undef = int((~finite).sum())
    ok = up[finite]
    if ok.size == 0:
        return UpliftInterval(None, None, 0, n_undef, ("low", "high") if n_undef else ())
    if n_undef <= MAX_UNDEFINED_SHARE * up.size:
        lo, hi = np.quantile(ok, [alpha, 1.0 - alpha])
        return UpliftInterval(float(lo), float(hi), int(ok.size), n_undef)
    low_side = np.where(finite, up, -1.0)
    lo = float(np.quantile(low_side, alpha))
    # the upper quantile without interpolating into +inf: an order statistic
    hi_val = np.quantile(np.where(finite, up, np.inf), 1.0 - alpha, method="inverted_cdf")
    hi = None if np.isinf(hi_val) else float(hi_val)
    return UpliftInterval(lo, hi, int(ok.size), n_undef, ("high",) if hi is None else ())


def _point(bn: np.ndarray, bd: np.ndarray, cn: np.ndarray, cd: np.ndarray) -> float | None:
    b_den, c_den = float(bd.sum()), float(cd.sum())
    if b_den == 0 or c_den == 0 or float(bn.sum()) == 0:
        return None
    return (float(cn.sum()) / c_den) / (float(bn.sum()) / b_den) - 1.0


def _student(
    iv: UpliftInterval, up: np.ndarray, point: float | None, level: float, df: int
) -> UpliftInterval | None:
    """The interval on the log scale: log(1 + uplift) ± t(df) × the bootstrap standard error.

    A percentile interval from few independent units (4 weeks of days in blocks, a dozen
    notes that carry most of the spend) is too narrow: the bootstrap's spread is itself
    estimated from little. Student's t with the number of independent units less 2 (blocks
    of both periods) or less 1 (paired notes: Kish's effective number of notes, weighted by
    their denominators) widens it as a t-test would. None when the
    log scale does not apply (an uplift of −100%)."""
    from scipy.stats import t as student_t

    ok = up[np.isfinite(up)]
    if point is None or point <= -1.0 or (ok <= -1.0).any() or ok.size < 2:
        return None
    se = float(np.std(np.log1p(ok), ddof=1))
    q = float(student_t.ppf(0.5 + level / 2.0, df))
    centre = math.log1p(point)
    return UpliftInterval(
        math.expm1(centre - q * se), math.expm1(centre + q * se), iv.used, iv.undefined
    )


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
    block: int = 1,
    paired: bool = False,
    student: bool = True,
) -> list[UpliftInterval]:
    """Percentile intervals of (Σnum_c/Σden_c) / (Σnum_b/Σden_b) − 1 for k ratios at once.

    Inputs are (units × k) arrays: one row per unit (day or note) of a period, one column per
    ratio, with ``numpy.random.default_rng(seed)``; every ratio sees the same resampled units.

    - Days: each period's days are resampled in circular blocks of ``block`` consecutive
      days (capped at half the period's length), independently per period, so that
      day-to-day correlation stays inside a resample.
    - ``paired``: the two periods hold the same units in the same rows (notes): one draw of
      units serves both periods.

    Undefined resamples are counted, and handled as ``_interval`` says.
    """
    bn, bd = np.atleast_2d(np.asarray(base_num, float)), np.atleast_2d(np.asarray(base_den, float))
    cn, cd = np.atleast_2d(np.asarray(comp_num, float)), np.atleast_2d(np.asarray(comp_den, float))
    k = bn.shape[1]
    nb, nc = bn.shape[0], cn.shape[0]
    if nb == 0 or nc == 0:
        return [UpliftInterval(None, None, 0, 0)] * k
    if paired and nb != nc:
        raise ValueError("paired resampling needs the same units in both periods")
    rng = np.random.default_rng(seed)
    vb, vc = np.hstack([bn, bd]), np.hstack([cn, cd])
    sb = np.empty((n_boot, 2 * k))
    sc = np.empty((n_boot, 2 * k))
    # all of the baseline's draws, then the compare period's: the same numbers whatever chunk
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        ib = block_indices(rng, nb, m, min(block, max(1, nb // 2)))
        sb[start : start + m] = _sums(ib, vb)
        if paired:
            sc[start : start + m] = _sums(ib, vc)
    if not paired:
        for start in range(0, n_boot, chunk):
            m = min(chunk, n_boot - start)
            ic = block_indices(rng, nc, m, min(block, max(1, nc // 2)))
            sc[start : start + m] = _sums(ic, vc)
    alpha = (1.0 - level) / 2.0
    if paired:
        # notes weigh by their denominators: Kish's effective number, (Σw)² / Σw², less 1
        w = bd.sum(axis=1) + cd.sum(axis=1)
        n_eff = float(w.sum() ** 2 / (w * w).sum()) if (w * w).sum() > 0 else float(nb)
        df = max(1, int(n_eff) - 1)
    else:
        bb, bc = min(block, max(1, nb // 2)), min(block, max(1, nc // 2))
        df = max(1, nb // bb + nc // bc - 2)
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(k):
            rb = sb[:, j] / sb[:, k + j]
            rc = sc[:, j] / sc[:, k + j]
            up = rc / rb - 1.0  # +inf where only the baseline ratio is 0
            up[~(np.isfinite(rb) & np.isfinite(rc))] = np.nan  # a zero denominator
            up[(rb == 0) & (rc == 0)] = np.nan
            iv = _interval(up, alpha)
            if student and iv.low is not None and iv.high is not None:
                point = _point(bn[:, j], bd[:, j], cn[:, j], cd[:, j])
                iv = _student(iv, up, point, level, df) or iv
            out.append(iv)
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
    """One ratio's interval: ``bootstrap_ratio_uplifts`` on 1-D arrays, (low, high, used)."""

    def col(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, float).reshape(-1, 1)

    iv = bootstrap_ratio_uplifts(
        col(base_num),
        col(base_den),
        col(comp_num),
        col(comp_den),
        n_boot=n_boot,
        seed=seed,
        level=level,
    )[0]
    return iv.low, iv.high, iv.used
