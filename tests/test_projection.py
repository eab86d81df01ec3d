"""The projected final payout, validated on generated data whose true final GMV is known
(tests/projection_world.py; the figures over many seeds are in docs/settle.md, from
bench/bench_projection.py)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import pytest

from redcat_cli.ingest.load import ingest
from redcat_cli.queries.settle import settle_on_store
from redcat_cli.settle.contract import parse_contract
from redcat_cli.settle.engine import DayFacts, settle
from redcat_cli.settle.projection import (
    MIN_KEYS,
    AgePoint,
    Curve,
    learn_curve,
    mature_ratio,
    project_days,
)
from redcat_cli.store.db import open_store
from tests import projection_world as W


def settle_world(tmp: Path, seed: int, grows: bool = True):
    world = W.build(seed, grows=grows)
    ingest(tmp / "s.duckdb", [str(f) for f in W.write_exports(world, tmp)])
    c = parse_contract(W.CONTRACT, str(tmp / "c.yaml"))
    with open_store(tmp / "s.duckdb") as st:
        (statement,) = settle_on_store(st.con, [c], W.AS_OF)
    truth = settle(c, W.true_days(world), dt.date(2025, 12, 31))
    return statement, truth


@pytest.fixture(scope="module")
def world_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("world")


@pytest.fixture(scope="module")
def world_statement(world_folder):
    return settle_world(world_folder, seed=7)


def test_projection_is_close_to_the_payout_on_true_final_values(world_statement) -> None:
    st, truth = world_statement
    assert st.final is False and truth.final is True
    assert st.projected_totals is not None
    # the provisional payout overstates (its GMV has not all arrived yet) ...
    assert st.totals.roi_guarantee_payout > truth.totals.roi_guarantee_payout
    # ... the projection is within 10% of the payout on the true final values, per cycle and in total
    pairs = [
        (D(p["roi_guarantee_payout"]), c.payout)
        for p, c in zip(st.projected_cycles, truth.cycles, strict=True)
    ]
    pairs.append(
        (D(st.projected_totals["roi_guarantee_payout"]), truth.totals.roi_guarantee_payout)
    )
    for projected, true in pairs:
        assert abs(projected - true) <= D("0.10") * true, (projected, true)
    inside = [
        D(p["roi_guarantee_payout_low"]) <= c.payout <= D(p["roi_guarantee_payout_high"])
        for p, c in zip(st.projected_cycles, truth.cycles, strict=True)
    ]
    assert sum(inside) >= 2  # most of the three cycles
    gmv_inside = [
        D(p["gmv_low"]) <= c.gmv <= D(p["gmv_high"])  # type: ignore[operator]
        for p, c in zip(st.projected_cycles, truth.cycles, strict=True)
    ]
    assert sum(gmv_inside) >= 2


def test_projected_json_shape(world_statement) -> None:
    st, _ = world_statement
    d = st.to_dict()
    p = d["totals"]["projected"]
    assert list(p) == [
        "gmv",
        "gmv_low",
        "gmv_high",
        "roi_guarantee_payout",
        "roi_guarantee_payout_low",
        "roi_guarantee_payout_high",
        "matched_investment",
        "level",
        "method",
        "keys_learned_from",
    ]
    assert p["level"] == "0.8" and p["keys_learned_from"] >= MIN_KEYS
    assert all(c["projected"] is not None for c in d["cycles"])
    # totals are sums of the cycles' projected lines
    for k in ("gmv", "gmv_low", "gmv_high", "roi_guarantee_payout"):
        assert D(p[k]) == sum(D(c["projected"][k]) for c in d["cycles"])
    for c in d["cycles"]:
        q = c["projected"]
        assert D(q["gmv_low"]) <= D(q["gmv"]) <= D(q["gmv_high"])
        assert D(q["roi_guarantee_payout_low"]) <= D(q["roi_guarantee_payout"])
        assert D(q["roi_guarantee_payout"]) <= D(q["roi_guarantee_payout_high"])


def test_no_growth_no_change(tmp_path: Path) -> None:
    """With values that never grow (the same at every age), the curve is flat at 1 and the
    projection is the provisional statement itself."""
    st, truth = settle_world(tmp_path, seed=3, grows=False)
    assert st.final is False  # exported before end + 30 days: not mature, though complete
    assert all(p.share == 1.0 for p in st.curve.points)
    assert st.projected_totals["roi_guarantee_payout"] == str(st.totals.roi_guarantee_payout)
    assert st.totals.roi_guarantee_payout == truth.totals.roi_guarantee_payout


def test_too_little_history_gives_no_projection(run, tmp_path: Path, monkeypatch) -> None:
    from tests.settle_mature_data import CONTRACT, write_exports

    monkeypatch.chdir(tmp_path)
    j, early, late = write_exports(Path("."))
    ingest("s.duckdb", [j.name, early.name])
    Path("c.yaml").write_text(CONTRACT, encoding="utf-8")
    r = run(
        "settle", "--store", "s.duckdb", "--contract", "c.yaml", "--as-of", "2025-08-01", "--json"
    )
    doc = json.loads(r.stdout)
    assert doc["final"] is False and doc["totals"]["projected"] is None
    assert all(c["projected"] is None for c in doc["cycles"])
    assert doc["projection_note"].startswith("no projection: the store holds 0 keys seen both")


def test_curve_by_hand() -> None:
    # two keys at age 3: values 30 of final 100 and 90 of final 100 → share (30+90)/200 = 0.6;
    # one key at age 10: 80 of 100 → 0.8. Age 6 interpolates: 0.6 + 3/7 × 0.2 = 0.6857…
    c = learn_curve([("a", 3, 30, 100), ("b", 3, 90, 100), ("a", 10, 80, 100)], 30)
    assert c.keys == 2
    assert [(p.age, p.share, p.keys) for p in c.points] == [(3, 0.6, 2), (10, 0.8, 1)]
    assert c.at(6)[0] == pytest.approx(0.6 + 3 / 7 * 0.2)
    assert c.at(1) == c.at(3)  # younger than observed: the youngest observed share
    assert c.at(30) == (1.0, 1.0, 1.0)
    # weighted percentiles of shares 0.3 and 0.9 (equal weight): 10th → 0.3, 90th → 0.9
    assert (c.points[0].low, c.points[0].high) == (0.3, 0.9)


def test_project_days_by_hand() -> None:
    curve = Curve(30, (AgePoint(5, 0.5, 0.4, 0.8, 50),), 50)
    day = DayFacts(dt.date(2025, 7, 1), D("100"), D("60.00"), 4, dt.date(2025, 7, 6))  # age 5
    mature = DayFacts(dt.date(2025, 6, 1), D("100"), D("70.00"), 3, dt.date(2025, 7, 6))
    p = project_days([day, mature], curve, None, dt.date(2025, 8, 1))
    # 60 / 0.5 = 120 central; 60 / 0.8 = 75 low; 60 / 0.4 = 150 high; orders 4 / 0.5 = 8
    assert [d.gmv for d in (p.central[0], p.low[0], p.high[0])] == [D("120"), D("75"), D("150")]
    assert p.central[0].orders == 8
    assert p.central[1].gmv == D("70.00")  # age 35 ≥ 30: kept as it is


def test_projected_statement_meets_its_schema(world_statement) -> None:
    from tests.test_json_contract import validate

    st, _ = world_statement
    validate("settle", {"schema_version": 1, **st.to_dict()})


def test_table_shows_payout_now_beside_projected(run, world_statement, world_folder) -> None:
    st, _ = world_statement
    (world_folder / "c.yaml").write_text(W.CONTRACT, encoding="utf-8")
    r = run(
        "settle",
        "--store",
        str(world_folder / "s.duckdb"),
        "--contract",
        str(world_folder / "c.yaml"),
        "--as-of",
        "2025-08-01",
    )
    assert r.exit_code == 0, r.stderr
    p = st.projected_totals
    assert "Payout now and projected final, with its 80% interval" in r.stdout
    low, high = (D(p[f"roi_guarantee_payout_{k}"]) for k in ("low", "high"))
    assert f"{low:,.2f}–{high:,.2f}" in r.stdout
    assert (
        f"Projected once every window has closed: ¥{D(p['roi_guarantee_payout']):,.2f}" in r.stdout
    )


def test_as_of_ingest_reproduces_the_projection_made_then(
    run, world_statement, world_folder
) -> None:
    import duckdb

    (world_folder / "c.yaml").write_text(W.CONTRACT, encoding="utf-8")
    store = str(world_folder / "s.duckdb")
    con = duckdb.connect(store, read_only=True)
    (n,) = con.execute("SELECT max(id) FROM ingest_log").fetchone()
    con.close()
    args = ("settle", "--store", store, "--contract", str(world_folder / "c.yaml"))
    args += ("--as-of", "2025-08-01", "--json")
    now = json.loads(run(*args).stdout)
    same = json.loads(run(*args, "--as-of-ingest", str(n)).stdout)
    assert same["totals"]["projected"] == now["totals"]["projected"]
    # after the export before the last one, the curve knew fewer keys, and said so
    before = json.loads(run(*args, "--as-of-ingest", str(n - 1)).stdout)
    p = before["totals"]["projected"]
    assert (
        p is not None and p["keys_learned_from"] < now["totals"]["projected"]["keys_learned_from"]
    )
    assert before["totals"]["gmv"] != now["totals"]["gmv"]  # the earlier export's values


def test_days_with_spend_but_no_gmv_by_hand() -> None:
    """A day with spend and no GMV yet takes the scope's mature GMV/spend of its weekday (all
    weekdays when its weekday has none); its band is the 10th–90th percentile of the per-day
    ratios weighted by spend."""
    out = dt.date(2025, 8, 1)  # exported 30+ days after every history day: all mature
    history = [
        DayFacts(dt.date(2025, 6, 2), D("100"), D("300"), 3, out),  # Monday, 3.0 per yuan
        DayFacts(dt.date(2025, 6, 9), D("100"), D("500"), 5, out),  # Monday, 5.0
        DayFacts(dt.date(2025, 6, 3), D("200"), D("400"), 4, out),  # Tuesday, 2.0
        DayFacts(dt.date(2025, 6, 10), D("50"), D("900"), 9, dt.date(2025, 6, 20)),  # immature
    ]
    ratio = mature_ratio(history, 30)
    assert ratio is not None and ratio.days == 3
    # Mondays (300 + 500) / 200 = 4; all days 1,200 / 400 = 3; orders 8/200 and 12/400
    assert ratio.by_weekday[0] == (Fraction(4), Fraction(1, 25))
    assert ratio.overall == (Fraction(3), Fraction(3, 100))
    # per-day ratios 2 (weight 200), 3 (100), 5 (100): 10% of 400 is reached at 2, 90% at 5
    assert (ratio.low, ratio.high) == (Fraction(2), Fraction(5))
    monday = DayFacts(dt.date(2025, 6, 30), D("50"), None, None, None)
    wednesday = DayFacts(dt.date(2025, 7, 2), D("10"), None, None, None)
    idle = DayFacts(dt.date(2025, 7, 3), None, None, None, None)  # no spend: nothing to project
    curve = Curve(30, (AgePoint(5, 0.5, 0.4, 0.8, 50),), 50)
    p = project_days([monday, wednesday, idle], curve, ratio, out)
    assert [d.gmv for d in p.central] == [D("200"), D("30")]  # 50 × 4; 10 × 3 (no Wednesdays)
    assert [d.gmv for d in p.low] == [D("100"), D("20")]  # × 2
    assert [d.gmv for d in p.high] == [D("250"), D("50")]  # × 5
    assert [d.orders for d in p.central] == [2, 0]  # 50 × 0.04; 10 × 0.03 = 0.3 → 0
    assert all(d.exported_on == out for d in p.central) and p.left_out == []
    # with no mature history there is nothing to project from: the day is left out, said so
    none = project_days([monday], curve, mature_ratio(history[3:], 30), out)
    assert none.left_out == [monday.date] and none.central == [monday]
