"""redcat_cli.analysis.stats: checked against published values, by-hand formulas and scipy."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from redcat_cli.analysis import stats

# Anscombe, F. J. (1973). "Graphs in Statistical Analysis". The American Statistician
# 27 (1): 17–21. All four sets have the same Pearson correlation, 0.816 (to 3 places).
ANSCOMBE_X = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
ANSCOMBE = {
    "I": (ANSCOMBE_X, [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]),
    "II": (ANSCOMBE_X, [9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74]),
    "III": (ANSCOMBE_X, [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]),
    "IV": (
        [8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8],
        [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.50, 5.56, 7.91, 6.89],
    ),
}


@pytest.mark.parametrize("name", list(ANSCOMBE))
def test_anscombe_quartet_pearson_is_0_816(name: str) -> None:
    x, y = ANSCOMBE[name]
    c = stats.pearson(x, y)
    assert c.n == 11
    assert c.r == pytest.approx(0.816, abs=0.001)


def test_pearson_ci_is_fisher_z_by_hand() -> None:
    x, y = ANSCOMBE["I"]
    c = stats.pearson(x, y)
    # by hand: z = ½ ln((1 + r)/(1 − r)), se = 1/√(n − 3), back with tanh
    z = 0.5 * math.log((1 + c.r) / (1 - c.r))
    se = 1 / math.sqrt(11 - 3)
    lo = (math.exp(2 * (z - 1.959964 * se)) - 1) / (math.exp(2 * (z - 1.959964 * se)) + 1)
    hi = (math.exp(2 * (z + 1.959964 * se)) - 1) / (math.exp(2 * (z + 1.959964 * se)) + 1)
    assert c.ci_low == pytest.approx(lo, abs=1e-6)
    assert c.ci_high == pytest.approx(hi, abs=1e-6)
    # the published r = 0.816 with n = 11 gives roughly [0.42, 0.95]
    assert 0.41 < c.ci_low < 0.43 and 0.94 < c.ci_high < 0.96


def test_rank_cis_use_bonett_wright_and_fieller_variances() -> None:
    x, y = ANSCOMBE["I"]
    n = 11
    s = stats.spearman(x, y)
    se = math.sqrt((1 + s.r**2 / 2) / (n - 3))
    assert s.ci_low == pytest.approx(math.tanh(math.atanh(s.r) - 1.959964 * se), abs=1e-6)
    assert s.ci_high == pytest.approx(math.tanh(math.atanh(s.r) + 1.959964 * se), abs=1e-6)
    k = stats.kendall(x, y)
    se = math.sqrt(0.437 / (n - 4))
    assert k.ci_low == pytest.approx(math.tanh(math.atanh(k.r) - 1.959964 * se), abs=1e-6)
    assert k.ci_high == pytest.approx(math.tanh(math.atanh(k.r) + 1.959964 * se), abs=1e-6)


def test_spearman_and_kendall_by_hand_on_a_tiny_set() -> None:
    # x ranks 1..5, y ranks 2 1 4 3 5: d² = 1+1+1+1+0 = 4, rho = 1 − 6·4/(5·24) = 0.8
    x = [1, 2, 3, 4, 5]
    y = [20, 10, 40, 30, 50]
    assert stats.spearman(x, y).r == pytest.approx(0.8)
    # concordant 8, discordant 2 of 10 pairs: tau = 0.6
    assert stats.kendall(x, y).r == pytest.approx(0.6)


def _scipy() -> object:
    return pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("n", [3, 4, 5, 8, 12, 33, 34, 60, 500])
@pytest.mark.parametrize("ties", [False, True])
def test_same_as_scipy(n: int, ties: bool) -> None:
    ss = _scipy()
    rng = np.random.default_rng(n * 7 + ties)
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    if ties:
        x, y = np.round(x), np.round(y * 2)
    for mine, ref in (
        (stats.pearson, ss.pearsonr),
        (stats.spearman, ss.spearmanr),
        (stats.kendall, ss.kendalltau),
    ):
        c = mine(x, y)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            assert c.r is None and c.p_value is None
            continue
        r, p = (float(v) for v in ref(x, y))
        assert c.n == n
        assert c.r == pytest.approx(r, abs=1e-12)
        assert c.p_value == pytest.approx(p, rel=1e-9, abs=1e-15)


def test_where_redcat_differs_from_scipy_on_purpose() -> None:
    """Two pairs: scipy gives p 1.0, redcat no p (r is ±1 by construction). A constant side:
    scipy warns and gives NaN, redcat None. |r| = 1: p 0 and the interval is the point."""
    import warnings

    ss = _scipy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert float(ss.pearsonr([1.0, 2.0], [2.0, 1.0])[1]) == 1.0
        assert math.isnan(float(ss.pearsonr([3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0])[0]))
    for f in (stats.pearson, stats.spearman):
        two = f([1, 2], [2, 1])
        assert two.r == pytest.approx(-1.0) and two.p_value is None and two.ci_low is None
        const = f([3, 3, 3, 3], [1, 2, 3, 4])
        assert const.r is None and const.p_value is None
    x = [1, 2, 3, 4, 5, 6]
    for f in (stats.pearson, stats.spearman, stats.kendall):
        exact = f(x, [10 * v + 1 for v in x])
        assert exact.r == 1.0 and exact.ci_low == 1.0 and exact.ci_high == 1.0
    assert stats.pearson(x, [-v for v in x]).p_value == 0.0
    # n = 2 for Kendall is an exact test: both orders are equally likely, p = 1 (as scipy)
    assert stats.kendall([1, 2], [2, 1]).p_value == 1.0


def test_t_p_value_at_a_fractional_n_by_hand() -> None:
    """p at an effective n of 12.5: t = r √(10.5 / (1 − r²)) against t with 10.5 df, by
    numerical integration of the t density (independent of scipy's routine)."""
    r, n = 0.5, 12.5
    df = n - 2
    t = r * math.sqrt(df / (1 - r * r))
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    grid = np.linspace(t, 200.0, 400_001)
    dens = c * (1 + grid**2 / df) ** (-(df + 1) / 2)
    tail = float(np.sum((dens[1:] + dens[:-1]) / 2 * np.diff(grid)))
    assert stats.t_two_sided_p_from_r(r, n) == pytest.approx(2 * tail, rel=1e-6)
    assert stats.t_two_sided_p_from_r(1.0, n) == 0.0


def test_missing_pairs_are_dropped_and_degenerate_cases_are_none() -> None:
    c = stats.pearson([1, 2, None, 4, float("nan"), 6], [2, 4, 5, None, 7, 12])
    assert c.n == 3  # (1,2), (2,4), (6,12)
    assert c.r == pytest.approx(1.0)
    const = stats.pearson([3, 3, 3, 3], [1, 2, 3, 4])
    assert const.r is None and const.p_value is None and const.n == 4
    assert stats.kendall([1, 1, 1], [1, 2, 3]).r is None
    two = stats.spearman([1, 2], [2, 1])
    assert two.n == 2 and two.p_value is None and two.ci_low is None


def test_lag_scan_finds_a_built_in_lag_of_three_days() -> None:
    rng = np.random.default_rng(42)
    days = 120
    start = dt.date(2025, 1, 1)
    engagement = rng.gamma(2.0, 50.0, size=days)
    noise = rng.normal(0, 10, size=days)
    x = {start + dt.timedelta(days=t): float(engagement[t]) for t in range(days)}
    # the outcome on day t is the engagement of day t − 3, plus noise
    y = {start + dt.timedelta(days=t): float(engagement[t - 3] + noise[t]) for t in range(3, days)}
    scan = stats.lag_scan(x, y, max_lag=7, step=dt.timedelta(days=1))
    assert scan.best_lag == 3
    assert scan.n_lags == 8
    assert scan.best.r > 0.9
    assert scan.p_adjusted == min(1.0, scan.best.p_value * 8)
    by_lag = dict(scan.by_lag)
    assert [c.method for c in by_lag[3]] == ["pearson", "spearman", "kendall"]
    assert by_lag[3][0].n == days - 3
    assert abs(by_lag[0][0].r) < 0.5


def test_effective_n_by_hand() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 6.0, 5.0])

    def r1(a: np.ndarray) -> float:
        m = a.mean()
        return sum((a[i] - m) * (a[i + 1] - m) for i in range(len(a) - 1)) / sum(
            (v - m) ** 2 for v in a
        )

    p = r1(x) * r1(y)
    assert stats.effective_n(x, y) == pytest.approx(min(6, 6 * (1 - p) / (1 + p)))
    # two trending series: far fewer independent observations than days
    t = np.arange(100.0)
    assert stats.effective_n(t, t + np.sin(t)) < 10


def test_kendall_exact_p_for_many_points_does_not_overflow() -> None:
    # n = 200 with at most one discordant pair takes the exact path; 200! overflows a float.
    # Perfect agreement: tau = 1 and the one-sided exact p is 2/200!, which is 0 as a float.
    from redcat_cli.analysis import stats as st

    x = list(range(200))
    c = st.kendall(x, [2 * v for v in x])
    assert c.r == 1.0 and c.n == 200 and c.p_value == 0.0
    y = list(range(200))
    y[3], y[4] = y[4], y[3]  # one discordant pair of 19,900: tau = 1 - 2/19900
    assert st.kendall(x, y).r == pytest.approx(1 - 2 / 19900, abs=1e-15)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_partial_correlation_equals_the_correlation_of_residuals(method: str) -> None:
    """Independent route: regress x and y on z (on ranks for Spearman) by least squares,
    correlate the residuals (scipy), test with t on n − 3 df and build Fisher's interval."""
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(9)
    z = rng.gamma(2, 100, 30)
    x = 3 * z + rng.normal(0, 60, 30)
    y = 0.02 * z + 0.001 * x + rng.normal(0, 1.5, 30)
    c = stats.partial_correlation(list(x), list(y), list(z), method)
    if method == "spearman":
        x, y, z = (scipy_stats.rankdata(v) for v in (x, y, z))
    Z = np.column_stack([np.ones(30), z])
    rx = x - Z @ np.linalg.lstsq(Z, x, rcond=None)[0]
    ry = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    r = scipy_stats.pearsonr(rx, ry)[0]
    t = r * np.sqrt(27 / (1 - r * r))
    p = 2 * scipy_stats.t.sf(abs(t), 27)
    var = (1 + r * r / 2) if method == "spearman" else 1.0
    half = 1.959963984540054 * np.sqrt(var / 26)
    assert c.n == 30
    assert c.r == pytest.approx(r, abs=1e-12)
    assert c.p_value == pytest.approx(p, rel=1e-9)
    assert c.ci_low == pytest.approx(np.tanh(np.arctanh(r) - half), abs=1e-12)
    assert c.ci_high == pytest.approx(np.tanh(np.arctanh(r) + half), abs=1e-12)


def test_partial_correlation_undefined_cases() -> None:
    # z explains x entirely: no partial correlation
    assert stats.partial_correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], [2, 4, 6, 8, 10]).r is None
    # too few complete triples (None drops a row)
    c = stats.partial_correlation([1, 2, 3, None], [1, 3, 2, 4], [1, 1, 2, 2])
    assert c.r is None and c.n == 3
