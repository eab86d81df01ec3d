"""redcat_cli.stats: checked against published values, by-hand formulas and scipy."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redcat_cli import stats

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


def test_betainc_same_as_scipy() -> None:
    sp = pytest.importorskip("scipy.special")
    for a, b, x in [
        (0.5, 0.5, 0.3),
        (2.0, 0.5, 0.99),
        (50.0, 0.5, 0.2),
        (4999.0, 0.5, 0.999),
        (1.5, 3.0, 0.7),
    ]:
        assert stats.betainc(a, b, x) == pytest.approx(float(sp.betainc(a, b, x)), rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=40))
def test_count_inversions_matches_brute_force(values: list[int]) -> None:
    brute = sum(
        1 for i in range(len(values)) for j in range(i + 1, len(values)) if values[i] > values[j]
    )
    assert stats.count_inversions(np.array(values)) == brute


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


def test_bootstrap_same_seed_same_interval_other_seed_other_interval() -> None:
    rng = np.random.default_rng(0)
    bn, bd = rng.gamma(2, 100, 30), rng.gamma(2, 40, 30)
    cn, cd = rng.gamma(2, 130, 30), rng.gamma(2, 40, 30)
    a = stats.bootstrap_ratio_uplift(bn, bd, cn, cd, n_boot=1000, seed=7)
    b = stats.bootstrap_ratio_uplift(bn, bd, cn, cd, n_boot=1000, seed=7)
    c = stats.bootstrap_ratio_uplift(bn, bd, cn, cd, n_boot=1000, seed=8)
    assert a == b
    assert a != c
    lo, hi, used = a
    point = (cn.sum() / cd.sum()) / (bn.sum() / bd.sum()) - 1
    assert used == 1000
    assert lo < point < hi


def test_bootstrap_drops_undefined_resamples() -> None:
    lo, hi, used = stats.bootstrap_ratio_uplift(
        np.array([1.0, 2.0]),
        np.array([0.0, 1.0]),
        np.array([3.0]),
        np.array([1.0]),
        n_boot=200,
        seed=1,
    )
    assert 0 < used < 200  # resamples drawing only the zero-denominator day are dropped
    assert lo is not None and hi is not None


def test_bootstrap_of_one_unit_per_period_is_the_point_uplift() -> None:
    lo, hi, used = stats.bootstrap_ratio_uplift(
        np.array([30.0]), np.array([10.0]), np.array([60.0]), np.array([12.0]), n_boot=200, seed=0
    )
    # every resample is the same single unit: (60/12) / (30/10) − 1 = 2/3
    assert lo == pytest.approx(2 / 3) and hi == pytest.approx(2 / 3) and used == 200


def test_bootstrap_many_ratios_at_once_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    bn, bd, cn, cd = (rng.gamma(2, 10, size=(25, 3)) for _ in range(4))
    together = stats.bootstrap_ratio_uplifts(bn, bd, cn, cd, n_boot=700, seed=5, chunk=100)
    for j in range(3):
        alone = stats.bootstrap_ratio_uplift(
            bn[:, j], bd[:, j], cn[:, j], cd[:, j], n_boot=700, seed=5
        )
        assert together[j] == pytest.approx(alone)


def test_kendall_exact_p_for_many_points_does_not_overflow() -> None:
    # n = 200 with at most one discordant pair takes the exact path; 200! overflows a float.
    # Perfect agreement: tau = 1 and the one-sided exact p is 2/200!, which is 0 as a float.
    from redcat_cli import stats as st

    x = list(range(200))
    c = st.kendall(x, [2 * v for v in x])
    assert c.r == 1.0 and c.n == 200 and c.p_value == 0.0
    y = list(range(200))
    y[3], y[4] = y[4], y[3]  # one discordant pair of 19,900: tau = 1 - 2/19900
    assert st.kendall(x, y).r == pytest.approx(1 - 2 / 19900, abs=1e-15)
