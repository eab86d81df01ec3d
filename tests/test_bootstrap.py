"""redcat_cli.analysis.bootstrap: seeded, paired or in blocks, undefined resamples counted,
and intervals whose coverage is measured on data with a known uplift."""

from __future__ import annotations

import numpy as np
import pytest

from redcat_cli.analysis import bootstrap


def test_bootstrap_same_seed_same_interval_other_seed_other_interval() -> None:
    rng = np.random.default_rng(0)
    bn, bd = rng.gamma(2, 100, 30), rng.gamma(2, 40, 30)
    cn, cd = rng.gamma(2, 130, 30), rng.gamma(2, 40, 30)
    a = bootstrap.bootstrap_ratio_uplift(bn, bd, cn, cd, n_boot=1000, seed=7)
    b = bootstrap.bootstrap_ratio_uplift(bn, bd, cn, cd, n_boot=1000, seed=7)
    c = bootstrap.bootstrap_ratio_uplift(bn, bd, cn, cd, n_boot=1000, seed=8)
    assert a == b
    assert a != c
    lo, hi, used = a
    point = (cn.sum() / cd.sum()) / (bn.sum() / bd.sum()) - 1
    assert used == 1000
    assert lo < point < hi


def test_bootstrap_counts_undefined_resamples_and_widens_past_1_percent() -> None:
    """Baseline days (1 / 0) and (2 / 1), compare (3 / 1). A resample of both days draws
    {0,1} or {1,0} (ratio 3, uplift 0; p 1/2), {1,1} (ratio 2, uplift 0.5; p 1/4) or {0,0}
    (zero denominator: undefined; p 1/4). A quarter undefined is far beyond 1%: they count
    as −100% for the lower bound and +∞ for the upper, which is then unbounded."""
    (iv,) = bootstrap.bootstrap_ratio_uplifts(
        np.array([[1.0], [2.0]]),
        np.array([[0.0], [1.0]]),
        np.array([[3.0]]),
        np.array([[1.0]]),
        n_boot=2000,
        seed=1,
    )
    assert 400 < iv.undefined < 600 and iv.used == 2000 - iv.undefined
    assert iv.low == -1.0 and iv.high is None and iv.unbounded == ("high",)


def test_interval_drops_up_to_1_percent_undefined() -> None:
    from redcat_cli.analysis.bootstrap import _interval

    up = np.linspace(0.0, 1.0, 1000)
    few = up.copy()
    few[:10] = np.nan  # 1%: dropped
    iv = _interval(few, 0.025)
    kept = up[10:]
    assert (iv.low, iv.high) == (
        pytest.approx(np.quantile(kept, 0.025)),
        pytest.approx(np.quantile(kept, 0.975)),
    )
    assert iv.undefined == 10 and iv.used == 990 and iv.unbounded == ()
    more = up.copy()
    more[:20] = np.nan  # 2%: widened, not dropped
    iv = _interval(more, 0.025)
    # upper: the 975th of 1000 sorted values, the 20 undefined on top as +inf
    assert iv.high == pytest.approx(up[20:][974])
    # lower: the 20 undefined at −1 below everything; the 2.5% quantile of that
    filled = np.r_[np.full(20, -1.0), up[20:]]
    assert iv.low == pytest.approx(np.quantile(filled, 0.025))
    more[:30] = np.nan  # 3% > 2.5%: no upper end
    assert _interval(more, 0.025).high is None


def test_block_indices_are_runs_of_consecutive_days() -> None:
    idx = bootstrap.block_indices(np.random.default_rng(0), 10, 50, 4)
    assert idx.shape == (50, 10)
    for row in idx:
        for b in range(0, 10, 4):  # each block of 4 runs on circularly
            run = row[b : b + 4]
            assert all((run[i + 1] - run[i]) % 10 == 1 for i in range(len(run) - 1))


def test_paired_notes_draw_the_same_notes_in_both_periods() -> None:
    """Every note's ratio doubles: with paired draws every resample's uplift is exactly 1,
    whatever notes it draws; drawn independently it would scatter."""
    rng = np.random.default_rng(2)
    num, den = rng.gamma(2, 50, size=(20, 1)), rng.gamma(2, 20, size=(20, 1))
    (paired,) = bootstrap.bootstrap_ratio_uplifts(
        num, den, 2 * num, den, n_boot=500, seed=3, paired=True
    )
    assert paired.low == pytest.approx(1.0) and paired.high == pytest.approx(1.0)
    (indep,) = bootstrap.bootstrap_ratio_uplifts(num, den, 2 * num, den, n_boot=500, seed=3)
    assert indep.high - indep.low > 0.3


def test_bootstrap_of_one_unit_per_period_is_the_point_uplift() -> None:
    lo, hi, used = bootstrap.bootstrap_ratio_uplift(
        np.array([30.0]), np.array([10.0]), np.array([60.0]), np.array([12.0]), n_boot=200, seed=0
    )
    # every resample is the same single unit: (60/12) / (30/10) − 1 = 2/3
    assert lo == pytest.approx(2 / 3) and hi == pytest.approx(2 / 3) and used == 200


def test_bootstrap_many_ratios_at_once_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    bn, bd, cn, cd = (rng.gamma(2, 10, size=(25, 3)) for _ in range(4))
    together = bootstrap.bootstrap_ratio_uplifts(bn, bd, cn, cd, n_boot=700, seed=5, chunk=100)
    for j in range(3):
        alone = bootstrap.bootstrap_ratio_uplift(
            bn[:, j], bd[:, j], cn[:, j], cd[:, j], n_boot=700, seed=5
        )
        iv = together[j]
        assert (iv.low, iv.high, iv.used) == pytest.approx(alone)


def _bench() -> object:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "coverage_attribute.py"
    spec = importlib.util.spec_from_file_location("coverage_attribute", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_intervals_cover_autocorrelated_days_in_a_small_simulation() -> None:
    """A small version of bench/coverage_attribute.py (docs/attribute.md has the large one):
    30 + 30 days with AR(1) φ = 0.6 and a true ROI uplift of +20%. The block chosen from the
    data with the corrected t interval covers about 95%; single days with the percentile
    interval (the old way) fall far short."""
    bench = _bench()
    new, _ = bench.coverage_days(runs=200, boot=400, days=30, phi=0.6, block=None)
    old, _ = bench.coverage_days(runs=200, boot=400, days=30, phi=0.6, block=1)
    assert new >= 0.91
    assert old <= 0.80


def test_paired_notes_cover_in_a_small_simulation() -> None:
    bench = _bench()
    cov, _ = bench.coverage_notes(runs=200, boot=200, notes=24, paired=True)
    assert 0.91 <= cov <= 0.99


def test_block_share_by_hand() -> None:
    """φ = 0.5, blocks of 3: the block sees 1 + 2(⅔·0.5 + ⅓·0.25) = 1 + 2·(5/12) = 11/6 of
    the long-run variance (1 + 0.5)/(1 − 0.5) = 3, a share of 11/18."""
    assert bootstrap.block_share(0.5, 3) == pytest.approx(11 / 18)
    assert bootstrap.block_share(0.0, 1) == 1.0
    assert bootstrap.block_share(0.5, 1) == pytest.approx(1 / 3)


def test_lag1_is_bias_corrected_and_pooled() -> None:
    # one series 1, 2, 1, 2, 1, 2 about its mean 1.5: d = ∓0.5, r1 = −2.5·0.25/(6·0.25) = −5/6
    # corrected: −5/6 + (1 − 15/6)/6 < 0, kept at 0
    assert bootstrap.lag1([np.array([1.0, 2, 1, 2, 1, 2])]) == 0.0
    # a slow wave, 0 1 2 3 2 1 twice: r1 = 6/10 − ... by hand below
    u = np.array([0.0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1])
    d = u - u.mean()
    r1 = float(sum(d[i] * d[i + 1] for i in range(11)) / sum(d * d))
    assert bootstrap.lag1([u]) == pytest.approx(r1 + (1 + 3 * r1) / 12)
    assert bootstrap.lag1([u, u]) == pytest.approx(r1 + (1 + 3 * r1) / 12)


def test_choose_block_grows_with_day_to_day_correlation() -> None:
    """Independent days get short blocks; strongly autocorrelated days long ones, capped at a
    third of the period."""
    bench = _bench()
    rng = np.random.default_rng(5)
    short = [
        bootstrap.choose_block(
            *bench.day_period(rng, 60, 2.0, 0.0), *bench.day_period(rng, 60, 2.4, 0.0)
        )
        for _ in range(20)
    ]
    long = [
        bootstrap.choose_block(
            *bench.day_period(rng, 60, 2.0, 0.8), *bench.day_period(rng, 60, 2.4, 0.8)
        )
        for _ in range(20)
    ]
    assert np.median(short) <= 2
    assert np.median(long) >= 10
    assert max(long) <= 20


def test_jackknife_se_by_hand() -> None:
    """Three notes: leave each out of both periods and take the log uplift of the rest."""
    bn, bd = np.array([10.0, 20, 30]), np.array([5.0, 5, 10])
    cn, cd = np.array([12.0, 30, 33]), np.array([5.0, 6, 10])
    import math

    loo = [
        math.log((cn.sum() - cn[i]) / (cd.sum() - cd[i]))
        - math.log((bn.sum() - bn[i]) / (bd.sum() - bd[i]))
        for i in range(3)
    ]
    m = sum(loo) / 3
    assert bootstrap._jackknife_se(bn, bd, cn, cd) == pytest.approx(
        math.sqrt(2 / 3 * sum((v - m) ** 2 for v in loo))
    )
