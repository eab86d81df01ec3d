"""Difference-in-differences estimators of ``redcat lift`` on a unit × day panel of sales.

Least squares on log daily sales with unit and day effects and one treated × post indicator
(``statsmodels`` OLS), with inference that respects correlation within a unit over time:
cluster-robust by unit, a permutation distribution over sets of control units, or, with two
units (the store against a comparison series), the daily log ratio with Newey–West errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

LEVEL = 0.95
HAC_LAGS = 7


@dataclass(frozen=True)
class Fit:
    delta: float  # log of 1 + the relative effect
    ci_low: float
    ci_high: float
    p_value: float


def _design(Y: Any) -> tuple[Any, Any, Any, Any]:
    """log(y) of the unit-days with sales, and unit dummies plus day dummies (the first day
    dropped) with a last column left for the effect; with each row's unit and day."""
    import numpy as np

    n_units, n_days = Y.shape
    u_all = np.repeat(np.arange(n_units), n_days)
    t_all = np.tile(np.arange(n_days), n_units)
    keep = Y.ravel() > 0
    u, t = u_all[keep], t_all[keep]
    n = int(keep.sum())
    X = np.zeros((n, n_units + n_days - 1 + 1))
    X[np.arange(n), u] = 1.0
    later = t > 0
    X[np.flatnonzero(later), n_units + t[later] - 1] = 1.0
    return np.log(Y.ravel()[keep]), X, u, t


def _ols(y: Any, X: Any, groups: Any | None) -> Any:
    import statsmodels.api as sm

    model = sm.OLS(y, X)
    if groups is None:
        return model.fit()
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


def _fit_cluster(Y: Any, treated: Any, post: Any) -> Fit:
    """δ of treated × post with unit and day effects; cluster-robust by unit."""
    import numpy as np

    y, X, u, t = _design(Y)
    X[:, -1] = (treated[u] & post[t]).astype(float)
    res = _ols(y, X, u)
    lo, hi = np.asarray(res.conf_int(alpha=1 - LEVEL))[-1]
    return Fit(float(res.params[-1]), float(lo), float(hi), float(res.pvalues[-1]))


def _fit_permutation(Y: Any, treated: Any, post: Any, draws: int, seed: int) -> Fit:
    """δ with a placebo-in-space distribution: the treatment handed to random sets of
    controls (as many as the treated), the treated units left out. The interval is δ minus
    the placebo quantiles; p = (1 + #|placebo| ≥ |δ|) / (1 + draws)."""
    import numpy as np

    y, X, u, t = _design(Y)
    X[:, -1] = (treated[u] & post[t]).astype(float)
    delta = float(_ols(y, X, None).params[-1])
    controls = np.flatnonzero(~treated)
    k = int(treated.sum())
    yc, Xc, uc, tc = _design(Y[controls])
    # Frisch–Waugh: δ = d̃·ỹ / d̃·d̃, with ~ the residual after the unit and day effects
    # (one QR of the effects' columns serves every draw)
    Q, _ = np.linalg.qr(Xc[:, :-1])
    y_res = yc - Q @ (Q.T @ yc)
    rng = np.random.default_rng(seed)
    placebo = np.empty(draws)
    for i in range(draws):
        fake = np.zeros(len(controls), dtype=bool)
        fake[rng.choice(len(controls), size=k, replace=False)] = True
        d = (fake[uc] & post[tc]).astype(float)
        d_res = d - Q @ (Q.T @ d)
        placebo[i] = float(d_res @ y_res) / float(d_res @ d_res)
    a = (1 - LEVEL) / 2
    q_lo, q_hi = np.quantile(placebo, [a, 1 - a])
    p = (1 + int((np.abs(placebo) >= abs(delta)).sum())) / (1 + draws)
    return Fit(delta, delta - float(q_hi), delta - float(q_lo), p)


def _fit_two_series(Y: Any, treated: Any, regressor: Any) -> Any:
    """Two units: the daily log ratio treated / comparison on one regressor, HAC errors."""
    import numpy as np
    import statsmodels.api as sm

    ti = int(np.flatnonzero(treated)[0])
    ratio = np.log(Y[ti]) - np.log(Y[1 - ti])
    X = np.column_stack([np.ones(ratio.size), np.asarray(regressor, dtype=float)])
    return sm.OLS(ratio, X).fit(cov_type="HAC", cov_kwds={"maxlags": HAC_LAGS}, use_t=True)


def fit(Y: Any, treated: Any, post: Any, inference: str, draws: int, seed: int) -> Fit:
    import numpy as np

    if Y.shape[0] == 2:
        res = _fit_two_series(Y, treated, post)
        lo, hi = np.asarray(res.conf_int(alpha=1 - LEVEL))[1]
        return Fit(float(res.params[1]), float(lo), float(hi), float(res.pvalues[1]))
    if inference == "permutation":
        return _fit_permutation(Y, treated, post, draws, seed)
    return _fit_cluster(Y, treated, post)


def pre_trend(Y: Any, treated: Any) -> tuple[float, float]:
    """The treated units' drift against the controls before the start: (relative change per
    week, p), from treated × (weeks from the middle of the period) beside unit and day
    effects (cluster-robust), or on the daily log ratio (HAC) with two units."""
    import numpy as np

    n_days = Y.shape[1]
    weeks = (np.arange(n_days) - (n_days - 1) / 2) / 7.0
    if Y.shape[0] == 2:
        res = _fit_two_series(Y, treated, weeks)
    else:
        y, X, u, t = _design(Y)
        X[:, -1] = treated[u] * weeks[t]
        res = _ols(y, X, u)
    return math.expm1(float(res.params[-1])), float(res.pvalues[-1])
