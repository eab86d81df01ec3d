"""Seeded bootstrap intervals of a ratio's uplift between two periods.

An uplift compares two ratios of sums, (Σnum_c/Σden_c) / (Σnum_b/Σden_b) − 1 (ROI, CTR, …),
over units that are days (resampled in circular blocks, each period on its own) or notes
(paired: the same notes in both periods). Its interval is Student's t on the log scale,
log(1 + uplift) ± t × a standard error that respects how the data were drawn:

- days: the block bootstrap's variance of each period's log ratio, corrected for its two
  known biases — a bootstrap over k blocks divides by k where an unbiased variance divides
  by k − 1, and a block of b days sees the day-to-day correlation only up to b − 1 days
  apart — with the block itself chosen from the data (``choose_block``); t with the
  blocks of both periods less 2 degrees of freedom;
- notes: the jackknife (leave one note out) variance, t with Kish's effective number of
  notes (weighted by their denominators) less 1 degrees of freedom. The bootstrap's own
  variance over a few dozen notes of very unequal size is too small.

``bench/coverage_attribute.py`` measures the coverage on data with a known uplift
(docs/attribute.md has the figures). The resampling is a small loop of its own rather than
``scipy.stats.bootstrap``: scipy has no block bootstrap for the days, and one draw of
indices must serve several ratios of two periods at once, counting (not dropping) the
undefined resamples, in chunks that keep memory flat for 10,000 notes (scipy materialises
every resample). scipy has no jackknife of its own; the t quantiles are scipy's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

AUTO_SHARE = 1 / 1.2  # an automatic block sees at least this share of the long-run variance


# --- resampling -----------------------------------------------------------------------------


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


# --- the standard error -------------------------------------------------------------------


def _point(bn: np.ndarray, bd: np.ndarray, cn: np.ndarray, cd: np.ndarray) -> float | None:
    b_den, c_den = float(bd.sum()), float(cd.sum())
    if b_den == 0 or c_den == 0 or float(bn.sum()) == 0:
        return None
    return (float(cn.sum()) / c_den) / (float(bn.sum()) / b_den) - 1.0


def _influence(num: np.ndarray, den: np.ndarray) -> np.ndarray | None:
    """Each unit's share in log(Σnum / Σden): num_t/Σnum − den_t/Σden (the delta method's
    linearisation); None when a sum is zero."""
    a, b = float(num.sum()), float(den.sum())
    if a <= 0 or b <= 0:
        return None
    return num / a - den / b


def lag1(series: list[np.ndarray]) -> float | None:
    """The lag-1 autocorrelation of one or more series pooled (each about its own mean),
    bias-corrected for short series (Kendall 1954: E[r1] ≈ φ − (1 + 3φ)/n) and kept within
    [0, 0.95]; None when the series are constant."""
    num = den = 0.0
    n = 0
    for u in series:
        d = u - u.mean()
        num += float(d[:-1] @ d[1:])
        den += float(d @ d)
        n += d.size
    if den == 0.0 or n < 3:
        return None
    r = num / den
    r += (1.0 + 3.0 * r) / (n / len(series))
    return min(max(r, 0.0), 0.95)


def block_share(phi: float, block: int) -> float:
    """The share of an AR(1) series' long-run variance, (1 + φ)/(1 − φ), that a block
    bootstrap with blocks of ``block`` sees: 1 + 2 Σ_{k<b} (1 − k/b) φ^k (Bartlett weights)."""
    seen = 1.0 + 2.0 * sum((1.0 - k / block) * phi**k for k in range(1, block))
    return min(1.0, seen / ((1.0 + phi) / (1.0 - phi)))


def choose_block(
    base_num: np.ndarray, base_den: np.ndarray, comp_num: np.ndarray, comp_den: np.ndarray
) -> int:
    """The block length for days: the shortest that sees at least 1/1.2 of the long-run
    variance of the most autocorrelated ratio (by ``lag1`` of the ratios' influence values,
    both periods pooled), and at most a third of the shorter period (three blocks at least).
    Inputs are (days × ratios) arrays."""
    bn, bd = np.atleast_2d(base_num), np.atleast_2d(base_den)
    cn, cd = np.atleast_2d(comp_num), np.atleast_2d(comp_den)
    cap = max(1, min(bn.shape[0], cn.shape[0]) // 3)
    phis = []
    for j in range(bn.shape[1]):
        ub, uc = _influence(bn[:, j], bd[:, j]), _influence(cn[:, j], cd[:, j])
        if ub is not None and uc is not None and min(ub.size, uc.size) >= 3:
            phi = lag1([ub, uc])
            if phi is not None:
                phis.append(phi)
    phi = max(phis, default=0.0)
    return next((b for b in range(1, cap + 1) if block_share(phi, b) >= AUTO_SHARE), cap)


def _log_ratios(s: np.ndarray, j: int, k: int) -> np.ndarray:
    """log(Σnum/Σden) of ratio j in each resample (k ratios: numerators, then denominators),
    the resamples where it is a finite number only."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(s[:, j] / s[:, k + j])
    return r[np.isfinite(r)]


def _days_se(
    lb: np.ndarray, lc: np.ndarray, sides: tuple[tuple[np.ndarray, np.ndarray, int], ...]
) -> float | None:
    """The standard error of log(1 + uplift) over days: each period's bootstrap variance of
    its log ratio × k/(k − 1) for its k = days/block blocks × 1/``block_share`` for the
    day-to-day correlation its blocks miss (φ from both periods' influence values)."""
    infl = [_influence(num, den) for num, den, _ in sides]
    if infl[0] is None or infl[1] is None or min(lb.size, lc.size) < 2:
        return None
    phi = lag1([infl[0], infl[1]]) if min(infl[0].size, infl[1].size) >= 3 else None
    var = 0.0
    for logs, (num, _, block) in zip((lb, lc), sides, strict=True):
        k = num.size / block
        v = float(np.var(logs, ddof=1))
        if k > 1:
            v *= k / (k - 1)
        var += v / block_share(phi or 0.0, block)
    return math.sqrt(var)


def _jackknife_se(bn: np.ndarray, bd: np.ndarray, cn: np.ndarray, cd: np.ndarray) -> float | None:
    """The jackknife standard error of log(1 + uplift) over paired notes: leave each note out
    of both periods, sqrt((n − 1)/n Σ (θ₋ᵢ − θ̄)²); None when leaving one out empties a sum."""
    n = bn.size
    if n < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = np.log((cn.sum() - cn) / (cd.sum() - cd)) - np.log((bn.sum() - bn) / (bd.sum() - bd))
    if not np.isfinite(loo).all():
        return None
    return math.sqrt((n - 1) / n * float(((loo - loo.mean()) ** 2).sum()))


def _t_interval(
    iv: UpliftInterval, point: float | None, se: float | None, df: int, level: float
) -> UpliftInterval | None:
    """exp(log(1 + point) ± t(df) × se) − 1; None when the log scale does not apply."""
    from scipy.stats import t as student_t

    if point is None or point <= -1.0 or se is None:
        return None
    q = float(student_t.ppf(0.5 + level / 2.0, df))
    centre = math.log1p(point)
    return UpliftInterval(
        math.expm1(centre - q * se), math.expm1(centre + q * se), iv.used, iv.undefined
    )


# --- the intervals ---------------------------------------------------------------------------


def _draw_sums(
    vb: np.ndarray,
    vc: np.ndarray,
    n_boot: int,
    seed: int,
    chunk: int,
    bb: int,
    bc: int,
    paired: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Each resample's column sums of both periods' values, ``numpy.random.default_rng(seed)``:
    all of the baseline's draws, then the compare period's (the same numbers whatever the
    chunk); paired, the baseline's draws serve both."""
    rng = np.random.default_rng(seed)
    sb = np.empty((n_boot, vb.shape[1]))
    sc = np.empty((n_boot, vc.shape[1]))
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        ib = block_indices(rng, vb.shape[0], m, bb)
        sb[start : start + m] = _sums(ib, vb)
        if paired:
            sc[start : start + m] = _sums(ib, vc)
    if not paired:
        for start in range(0, n_boot, chunk):
            m = min(chunk, n_boot - start)
            sc[start : start + m] = _sums(block_indices(rng, vc.shape[0], m, bc), vc)
    return sb, sc


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
    """Intervals of (Σnum_c/Σden_c) / (Σnum_b/Σden_b) − 1 for k ratios at once.

    Inputs are (units × k) arrays: one row per unit (day or note) of a period, one column per
    ratio, with ``numpy.random.default_rng(seed)``; every ratio sees the same resampled units.

    - Days: each period's days are resampled in circular blocks of ``block`` consecutive
      days (capped at half the period's length), independently per period, so that
      day-to-day correlation stays inside a resample (``choose_block`` picks ``block``).
    - ``paired``: the two periods hold the same units in the same rows (notes): one draw of
      units serves both periods.

    ``student``: the t interval on the log scale (module docstring); else, and wherever the
    log does not apply, the percentile interval. Undefined resamples are counted, and
    handled as ``_interval`` says.
    """
    bn, bd = np.atleast_2d(np.asarray(base_num, float)), np.atleast_2d(np.asarray(base_den, float))
    cn, cd = np.atleast_2d(np.asarray(comp_num, float)), np.atleast_2d(np.asarray(comp_den, float))
    k = bn.shape[1]
    nb, nc = bn.shape[0], cn.shape[0]
    if nb == 0 or nc == 0:
        return [UpliftInterval(None, None, 0, 0)] * k
    if paired and nb != nc:
        raise ValueError("paired resampling needs the same units in both periods")
    bb, bc = (1, 1) if paired else (min(block, max(1, nb // 2)), min(block, max(1, nc // 2)))
    sb, sc = _draw_sums(
        np.hstack([bn, bd]), np.hstack([cn, cd]), n_boot, seed, chunk, bb, bc, paired
    )
    alpha = (1.0 - level) / 2.0
    if paired:
        # notes weigh by their denominators: Kish's effective number, (Σw)² / Σw², less 1
        w = bd.sum(axis=1) + cd.sum(axis=1)
        n_eff = float(w.sum() ** 2 / (w * w).sum()) if (w * w).sum() > 0 else float(nb)
        df = max(1, int(n_eff) - 1)
    else:
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
                cols = (bn[:, j], bd[:, j], cn[:, j], cd[:, j])
                if paired:
                    se = _jackknife_se(*cols)
                else:
                    se = _days_se(
                        _log_ratios(sb, j, k),
                        _log_ratios(sc, j, k),
                        ((cols[0], cols[1], bb), (cols[2], cols[3], bc)),
                    )
                iv = _t_interval(iv, _point(*cols), se, df, level) or iv
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
