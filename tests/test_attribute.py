"""redcat_cli.analysis.attribute on small stores whose every total is worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redcat_cli.analysis import attribute as A
from redcat_cli.errors import QueryError, UsageError
from redcat_cli.store.db import open_store

D = Decimal
N1 = "622941fa000000000102924f"
N2 = "622941fa0000000001029250"
N3 = "622941fa0000000001029251"  # only in 种草星河
N4 = "622941fa0000000001029252"  # only in 聚光
DAY1, DAY2, DAY3 = dt.date(2025, 6, 1), dt.date(2025, 6, 2), dt.date(2025, 6, 3)


def insert(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def jg(date: dt.date, note: str, plan: str, spend: str, **kw: Any) -> dict[str, Any]:
    row = {
        "date": date,
        "note_id": note,
        "note_title": f"title {note[-2:]}",
        "plan_id": plan,
        "plan_name": f"plan {plan}",
        "spend": D(spend),
    }
    row.update(kw)
    return row


def xh(date: dt.date, note: str, flow: str, window: int, gmv: str, **kw: Any) -> dict[str, Any]:
    row = {"date": date, "note_id": note, "flow_type": flow, "window_days": window, "gmv": D(gmv)}
    row.update(kw)
    return row


FLOWS = ("全部流量", "自然流量", "广告流量")


def standard_facts() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """聚光: N1 and N2 over two days, two creatives each on day 1; N4 only here.
    种草星河: N1, N2, N3 × three flow types × two windows (7, 30). The 全部流量/30 slice is
    the one that counts; the others carry different numbers so that any summing across
    them shows.
    """
    juguang = [
        jg(
            DAY1,
            N1,
            "P1",
            "100.00",
            impressions=1000,
            clicks=50,
            likes=10,
            comments=2,
            collects=5,
            follows=1,
            shares=2,
            interactions=20,
        ),
        jg(
            DAY1,
            N1,
            "P1",
            "50.50",
            impressions=500,
            clicks=25,
            likes=5,
            comments=1,
            collects=2,
            follows=0,
            shares=2,
            interactions=None,
        ),  # 10 from parts
        jg(
            DAY2,
            N1,
            "P2",
            "20.00",
            impressions=300,
            clicks=10,
            likes=1,
            comments=None,
            collects=1,
            follows=0,
            shares=0,
            interactions=None,
        ),  # unknown
        jg(
            DAY1,
            N2,
            "P2",
            "0.00",
            impressions=0,
            clicks=0,
            likes=0,
            comments=0,
            collects=0,
            follows=0,
            shares=0,
            interactions=0,
        ),
        jg(
            DAY2,
            N2,
            "P2",
            "30.25",
            impressions=200,
            clicks=4,
            likes=3,
            comments=0,
            collects=0,
            follows=0,
            shares=0,
            interactions=3,
        ),
        jg(
            DAY1,
            N4,
            "P1",
            "9.99",
            impressions=100,
            clicks=1,
            likes=0,
            comments=0,
            collects=0,
            follows=0,
            shares=0,
            interactions=0,
        ),
    ]
    xinghe = []
    # (date, note) -> (read_uv, interact_uv, visits, cart, buyers, gmv) for 全部流量 / 30 days
    chosen = {
        (DAY1, N1): (400, 40, 80, 20, 8, "800.00"),
        (DAY2, N1): (300, 30, 60, 10, 4, "410.10"),
        (DAY3, N1): (100, 5, 10, 2, 1, "99.90"),  # a day without any boost still counts
        (DAY1, N2): (50, 5, 0, 0, 0, "0.00"),  # no visits: 加购率, CPUV, UV value undefined
        (DAY2, N2): (20, 2, 5, 1, 1, "25.00"),
        (DAY1, N3): (10, 1, 2, 1, 1, "66.60"),
    }
    for (date, note), (read, inter, visits, cart, buyers, gmv) in chosen.items():
        for fi, flow in enumerate(FLOWS):
            for window in (7, 30):
                scale = 1 if (flow, window) == ("全部流量", 30) else (fi + 2) * (window // 7 + 1)
                xinghe.append(
                    xh(
                        date,
                        note,
                        flow,
                        window,
                        str(D(gmv) * scale if flow != "全部流量" or window != 30 else D(gmv)),
                        read_uv=read * scale,
                        interact_uv=inter * scale,
                        visit_uv=visits * scale,
                        cart_uv=cart * scale,
                        buyers=buyers * scale,
                    )
                )
    return juguang, xinghe


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "redcat.duckdb"
    juguang, xinghe = standard_facts()
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", juguang)
        insert(s.con, "xinghe", xinghe)
    with open_store(path, read_only=True) as s:
        yield s.con


def by_key(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


# --- the join and the double-counting trap -------------------------------------------------


def test_double_count_trap_totals_are_the_single_chosen_slice(store: Any) -> None:
    res = A.attribute(store, A.Request())
    assert res.flow_type == "全部流量"
    assert res.window_days == 30  # the longest window in the store
    t = res.totals
    # by hand, 全部流量 × 30 days only: GMV 800.00 + 410.10 + 99.90 + 0 + 25.00 + 66.60
    assert t["gmv"] == D("1401.60")
    assert t["orders"] == 8 + 4 + 1 + 0 + 1 + 1
    assert t["visits"] == 80 + 60 + 10 + 0 + 5 + 2
    assert t["read_uv"] == 400 + 300 + 100 + 50 + 20 + 10
    assert t["cart"] == 20 + 10 + 2 + 0 + 1 + 1
    # spend: every 聚光 row, N4 included
    assert t["spend"] == D("100.00") + D("50.50") + D("20.00") + D("0.00") + D("30.25") + D("9.99")
    assert t["roi"] == pytest.approx(1401.60 / 210.74)


def test_other_window_and_flow_type_are_their_own_slices(store: Any) -> None:
    res = A.attribute(store, A.Request(window_days=7, flow_type="自然流量"))
    # 自然流量 is flow index 1: scale (1 + 2) × (7 // 7 + 1) = 6 on every number
    assert res.totals["gmv"] == D("1401.60") * 6
    assert res.totals["orders"] == 15 * 6


def test_absent_flow_type_or_window_is_an_error_listing_what_is_held(store: Any) -> None:
    with pytest.raises(QueryError) as e:
        A.attribute(store, A.Request(window_days=15))
    assert "15-day" in e.value.message
    assert "全部流量 × 7d" in e.value.hint and "全部流量 × 30d" in e.value.hint
    with pytest.raises(QueryError) as e:
        A.attribute(store, A.Request(flow_type="直播流量"))
    assert "自然流量" in e.value.hint


def test_per_note_sums_and_rates_by_hand(store: Any) -> None:
    rows = by_key(A.attribute(store, A.Request()).rows, "note_id")
    n1 = rows[N1]
    assert n1["spend"] == D("170.50")
    assert n1["impressions"] == 1800 and n1["clicks"] == 85
    # 20 given + 10 from its parts; the third row has a missing part, so it is unknown
    assert n1["interactions"] == 30
    assert n1["ctr"] == pytest.approx(85 / 1800)
    assert n1["cpc"] == D("170.50") / 85
    # CPE over the rows whose interactions are known: the 20.00 of day 2 has none
    assert n1["cpe"] == (D("100.00") + D("50.50")) / 30
    assert n1["read_uv"] == 800 and n1["visits"] == 150 and n1["cart"] == 32 and n1["orders"] == 13
    assert n1["gmv"] == D("1310.00")
    assert n1["roi"] == pytest.approx(1310.00 / 170.50)
    assert n1["visit_rate"] == pytest.approx(150 / 800)
    assert n1["cart_rate"] == pytest.approx(32 / 150)
    assert n1["cpuv"] == D("170.50") / 150
    assert n1["uv_value"] == D("1310.00") / 150
    assert isinstance(n1["gmv"], Decimal) and isinstance(n1["cpuv"], Decimal)


def test_zero_denominators_give_none_never_zero_or_infinity(store: Any) -> None:
    rows = by_key(A.attribute(store, A.Request(date_to=DAY1)).rows, "note_id")
    n2 = rows[N2]  # day 1: spend 0, impressions 0, clicks 0, interactions 0, visits 0
    assert n2["spend"] == D("0.00")
    for name in ("ctr", "cpc", "cpe", "roi", "cart_rate", "conversion_rate", "cpuv", "uv_value"):
        assert n2[name] is None, name
    assert n2["visit_rate"] == 0.0  # 0 visits of 50 readers is a real 0


def test_unmatched_notes_are_reported_and_counted_in_totals(store: Any) -> None:
    res = A.attribute(store, A.Request())
    assert res.unmatched == {
        "matched": 2,
        "juguang_only": {"count": 1, "note_ids": [N4]},
        "xinghe_only": {"count": 1, "note_ids": [N3]},
    }
    rows = by_key(res.rows, "note_id")
    assert rows[N3]["spend"] is None and rows[N3]["gmv"] == D("66.60")
    assert rows[N4]["gmv"] is None and rows[N4]["spend"] == D("9.99")
    assert rows[N3]["roi"] is None
    assert any("only in 聚光" in w for w in res.warnings)


def test_by_day_sums_every_note_and_keeps_unboosted_days(store: Any) -> None:
    res = A.attribute(store, A.Request(by="day"))
    rows = by_key(res.rows, "date")
    assert [r["date"] for r in res.rows] == [DAY1, DAY2, DAY3]
    assert rows[DAY1]["spend"] == D("100.00") + D("50.50") + D("0.00") + D("9.99")
    assert rows[DAY1]["gmv"] == D("800.00") + D("0.00") + D("66.60")
    assert rows[DAY3]["spend"] is None and rows[DAY3]["gmv"] == D("99.90")
    assert res.totals["gmv"] == D("1401.60")
    # unmatched is still computed per note
    assert res.unmatched["juguang_only"]["note_ids"] == [N4]


def test_by_plan_gives_each_notes_outcome_to_its_main_plan(store: Any) -> None:
    res = A.attribute(store, A.Request(by="plan"))
    rows = by_key(res.rows, "plan_id")
    # N1: P1 spent 150.50, P2 20.00 -> all of N1's outcome goes to P1. N2 only in P2.
    # N4 (P1) has no outcome; N3 was boosted by no plan -> the row without a plan.
    assert rows["P1"]["spend"] == D("160.49")
    assert rows["P1"]["gmv"] == D("1310.00")
    assert rows["P2"]["spend"] == D("50.25")
    assert rows["P2"]["gmv"] == D("25.00")
    assert rows[None]["gmv"] == D("66.60") and rows[None]["spend"] is None
    assert res.totals["gmv"] == D("1401.60")
    assert res.totals["spend"] == D("210.74")


def test_filters_notes_plans_and_dates(store: Any) -> None:
    res = A.attribute(store, A.Request(notes=(N2,)))
    assert [r["note_id"] for r in res.rows] == [N2]
    assert res.totals["gmv"] == D("25.00")
    res = A.attribute(store, A.Request(date_from=DAY2, date_to=DAY2))
    assert res.totals["spend"] == D("50.25") and res.totals["gmv"] == D("435.10")
    # P2 boosted N1 (20.00 on day 2) and N2; P1 spent 150.50 on N1, so N1's 种草星河 outcome
    # (1310.00) belongs to P1, as in --by plan: filtering plan by plan never counts it twice
    res = A.attribute(store, A.Request(plans=("P2",)))
    assert res.totals["spend"] == D("50.25")
    assert res.totals["gmv"] == D("25.00")
    res = A.attribute(store, A.Request(plans=("P1",)))
    assert res.totals["spend"] == D("150.50") + D("9.99")  # N1 on day 1, and N4
    assert res.totals["gmv"] == D("1310.00")  # N4 has no 种草星河 outcome
    res = A.attribute(store, A.Request(plans=("plan P2",)))  # by name too
    assert res.totals["spend"] == D("50.25")


def test_no_facts_match_is_a_query_error(store: Any) -> None:
    with pytest.raises(QueryError):
        A.attribute(store, A.Request(date_from=dt.date(2030, 1, 1)))


def test_sorting_and_top(store: Any) -> None:
    res = A.attribute(store, A.Request(sort="spend", top=2))
    assert [r["note_id"] for r in res.rows] == [N1, N2]
    assert res.n_rows == 4
    assert res.totals["spend"] == D("210.74")  # totals cover the rows not shown
    res = A.attribute(store, A.Request())  # default: GMV, unknown last
    assert [r["note_id"] for r in res.rows] == [N1, N3, N2, N4]


def test_correlation_across_notes_uses_pairs_with_both_values(store: Any) -> None:
    res = A.attribute(store, A.Request(x="clicks", y="gmv"))
    pear = res.correlations[0]
    assert pear["method"] == "pearson" and pear["n"] == 2  # N3 has no clicks, N4 no GMV
    assert any("n < 10" in w for w in res.warnings)
    assert [c["method"] for c in res.correlations] == ["pearson", "spearman", "kendall"]


@pytest.mark.parametrize(
    "req",
    [
        A.Request(max_lag=3),
        A.Request(baseline=(DAY1, DAY1)),
        A.Request(x="gmv"),
        A.Request(by="week"),
        A.Request(top=0),
    ],
)
def test_bad_requests_are_usage_errors(store: Any, req: A.Request) -> None:
    with pytest.raises(UsageError):
        A.attribute(store, req)


# --- uplift ----------------------------------------------------------------------------------


@pytest.fixture
def uplift_store(tmp_path: Path) -> Iterator[Any]:
    """Ten baseline days (June 1–10), ten compare days (June 11–20), two notes."""
    path = tmp_path / "u.duckdb"
    juguang, xinghe = [], []
    for d in range(20):
        date = dt.date(2025, 6, 1) + dt.timedelta(days=d)
        compare = d >= 10
        for i, note in enumerate((N1, N2)):
            spend = D(100 + 7 * ((d * 3 + i) % 5))
            gmv = spend * (D("3.0") if compare else D("2.0")) + D((d * 13 + i * 7) % 40)
            juguang.append(
                jg(date, note, "P1", str(spend), impressions=1000 + 10 * d, clicks=40 + (d % 7) + i)
            )
            xinghe.append(
                xh(
                    date,
                    note,
                    "全部流量",
                    30,
                    str(gmv),
                    read_uv=500,
                    interact_uv=50 + d % 3,
                    visit_uv=40 + (d % 4),
                    cart_uv=10 + (d % 3),
                    buyers=5,
                )
            )
    orders = [
        # buyer a: two paid orders in the baseline; b: one paid, one closed unpaid
        {
            "order_id": "1",
            "buyer": "a",
            "paid_at": dt.datetime(2025, 6, 2, 10),
            "status": "交易成功",
        },
        {
            "order_id": "2",
            "buyer": "a",
            "paid_at": dt.datetime(2025, 6, 3, 10),
            "status": "交易成功",
        },
        {
            "order_id": "3",
            "buyer": "b",
            "paid_at": dt.datetime(2025, 6, 4, 10),
            "status": "交易成功",
        },
        {"order_id": "4", "buyer": "b", "paid_at": None, "status": "交易关闭"},
        {
            "order_id": "5",
            "buyer": "c",
            "paid_at": dt.datetime(2025, 6, 12, 9),
            "status": "交易成功",
        },
        {
            "order_id": "6",
            "buyer": "c",
            "paid_at": dt.datetime(2025, 6, 15, 9),
            "status": "交易关闭",
        },  # refunded after paying
        {
            "order_id": "7",
            "buyer": "d",
            "paid_at": dt.datetime(2025, 6, 16, 9),
            "status": "交易成功",
        },
        {
            "order_id": "8",
            "buyer": "e",
            "paid_at": dt.datetime(2025, 6, 17, 9),
            "status": "交易成功",
        },
        {
            "order_id": "9",
            "buyer": "e",
            "paid_at": dt.datetime(2025, 6, 18, 9),
            "status": "交易成功",
        },
    ]
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", juguang)
        insert(s.con, "xinghe", xinghe)
        insert(s.con, "qianniu", orders)
    with open_store(path, read_only=True) as s:
        yield s.con, juguang, xinghe


BASE = (dt.date(2025, 6, 1), dt.date(2025, 6, 10))
COMP = (dt.date(2025, 6, 11), dt.date(2025, 6, 20))


def test_uplift_point_values_by_hand(uplift_store: Any) -> None:
    con, juguang, xinghe = uplift_store
    res = A.attribute(con, A.Request(baseline=BASE, compare=COMP, n_boot=500, seed=3))
    u = res.uplift

    def total(rows: list[dict[str, Any]], field: str, period: tuple[dt.date, dt.date]) -> Any:
        return sum((r[field] for r in rows if period[0] <= r["date"] <= period[1]), start=0)

    roi_b = total(xinghe, "gmv", BASE) / total(juguang, "spend", BASE)
    roi_c = total(xinghe, "gmv", COMP) / total(juguang, "spend", COMP)
    m = {x["metric"]: x for x in u["metrics"]}
    assert m["roi"]["baseline"] == pytest.approx(float(roi_b))
    assert m["roi"]["compare"] == pytest.approx(float(roi_c))
    assert m["roi"]["uplift"] == pytest.approx(float(roi_c / roi_b) - 1)
    assert m["roi"]["ci_low"] < m["roi"]["uplift"] < m["roi"]["ci_high"]
    ctr_b = total(juguang, "clicks", BASE) / total(juguang, "impressions", BASE)
    assert m["ctr"]["baseline"] == pytest.approx(ctr_b)
    cart_c = total(xinghe, "cart_uv", COMP) / total(xinghe, "visit_uv", COMP)
    assert m["cart_rate"]["compare"] == pytest.approx(cart_c)
    assert u["baseline"]["units"] == 10 and u["resampled"] == "days"
    assert u["baseline"]["spend"] == total(juguang, "spend", BASE)
    # repurchase, by hand: baseline a (2 paid) and b (1 paid; the closed unpaid order does
    # not count) -> 1 of 2; compare c (2 paid, one refunded later), d (1), e (2) -> 2 of 3
    rp = u["repurchase"]
    assert (rp["baseline_repeat_buyers"], rp["baseline_buyers"]) == (1, 2)
    assert (rp["compare_repeat_buyers"], rp["compare_buyers"]) == (2, 3)
    assert rp["baseline"] == 0.5 and rp["compare"] == pytest.approx(2 / 3)
    assert rp["uplift"] == pytest.approx((2 / 3) / 0.5 - 1)


def test_uplift_intervals_same_seed_same_numbers(uplift_store: Any) -> None:
    con = uplift_store[0]
    req = A.Request(baseline=BASE, compare=COMP, n_boot=400, seed=11)
    a = A.attribute(con, req).uplift
    b = A.attribute(con, req).uplift
    c = A.attribute(con, A.Request(baseline=BASE, compare=COMP, n_boot=400, seed=12)).uplift
    assert a == b
    ci = [(m["ci_low"], m["ci_high"]) for m in a["metrics"]]
    assert ci != [(m["ci_low"], m["ci_high"]) for m in c["metrics"]]
    notes = A.attribute(
        con, A.Request(baseline=BASE, compare=COMP, n_boot=400, seed=11, resample="notes")
    ).uplift
    assert notes["resampled"] == "notes" and notes["baseline"]["units"] == 2


def test_uplift_warns_about_immature_recent_days(uplift_store: Any) -> None:
    con = uplift_store[0]
    res = A.attribute(con, A.Request(baseline=BASE, compare=COMP, n_boot=100))
    assert any("still growing" in w for w in res.warnings)


def test_by_day_lag_scan_on_the_store(tmp_path: Path) -> None:
    """Orders follow interactions three days later; the scan over the store finds it."""
    import numpy as np

    rng = np.random.default_rng(5)
    start = dt.date(2025, 3, 1)
    inter = rng.integers(50, 500, size=90)
    juguang, xinghe = [], []
    for t in range(90):
        date = start + dt.timedelta(days=t)
        juguang.append(jg(date, N1, "P1", "10.00", interactions=int(inter[t])))
        if t >= 3:
            orders = int(inter[t - 3]) // 10 + int(rng.integers(0, 3))
            xinghe.append(xh(date, N1, "全部流量", 30, "1.00", buyers=orders))
    path = tmp_path / "lag.duckdb"
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", juguang)
        insert(s.con, "xinghe", xinghe)
    with open_store(path) as s:
        res = A.attribute(s.con, A.Request(by="day", max_lag=6))
    assert res.lag_scan["best_lag"] == 3
    assert res.lag_scan["p_adjusted"] == min(1.0, res.lag_scan["p_value"] * 7)
    assert len(res.correlations) == 7 * 3
    lag3 = [c for c in res.correlations if c["lag_days"] == 3 and c["method"] == "pearson"][0]
    assert lag3["n"] == 87 and lag3["r"] > 0.95 and lag3["n_effective"] is not None
    assert any("autocorrelated" in w for w in res.warnings)
    # the points to plot pair x(t) with y(t + best lag)
    xs, ys = res.points
    assert len(xs) == 87
    assert all(0 <= y - x // 10 <= 2 for x, y in zip(xs, ys, strict=True))
    A.write_plot(str(tmp_path / "lag.png"), res)
    assert (tmp_path / "lag.png").read_bytes()[:4] == b"\x89PNG"


def test_empty_xinghe_still_gives_the_ad_side(tmp_path: Path) -> None:
    path = tmp_path / "j.duckdb"
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", [jg(DAY1, N1, "P1", "12.34", impressions=10, clicks=1)])
    with open_store(path) as s:
        res = A.attribute(s.con, A.Request())
    assert res.flow_type is None and res.totals["spend"] == D("12.34") and res.totals["gmv"] is None
    assert any("no 种草星河" in w for w in res.warnings)


# --- property: every grouping partitions the same facts ------------------------------------


NOTES = [N1, N2, N3, N4]
DAYS = [DAY1, DAY2, DAY3]
money_st = st.one_of(st.none(), st.decimals(min_value=0, max_value=10_000, places=2))
count_st = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000))
jg_st = st.fixed_dictionaries(
    {
        "date": st.sampled_from(DAYS),
        "note_id": st.sampled_from(NOTES),
        "plan_id": st.sampled_from(["P1", "P2"]),
        "spend": money_st,
        "impressions": count_st,
        "clicks": count_st,
        "interactions": count_st,
    }
)
xh_st = st.fixed_dictionaries(
    {
        "date": st.sampled_from(DAYS),
        "note_id": st.sampled_from(NOTES),
        "flow_type": st.sampled_from(FLOWS),
        "window_days": st.sampled_from([7, 30]),
        "gmv": money_st,
        "buyers": count_st,
        "visit_uv": count_st,
    }
)


def _sum(values: list[Any]) -> Any:
    known = [v for v in values if v is not None]
    return sum(known[1:], known[0]) if known else None


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(jg_st, max_size=12), st.lists(xh_st, max_size=15))
def test_totals_are_the_facts_of_one_slice_whatever_the_grouping(
    tmp_path_factory: Any, juguang: list[dict[str, Any]], xinghe: list[dict[str, Any]]
) -> None:
    if not juguang and not xinghe:
        return
    path = tmp_path_factory.mktemp("prop") / "s.duckdb"
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", juguang)
        insert(s.con, "xinghe", xinghe)
    with open_store(path) as s:
        flows = {r["flow_type"] for r in xinghe}
        flow = "全部流量" if "全部流量" in flows or not xinghe else sorted(flows)[0]
        window = max((r["window_days"] for r in xinghe if r["flow_type"] == flow), default=None)
        results = [
            A.attribute(s.con, A.Request(by=by, flow_type=flow if xinghe else None))
            for by in ("note", "day", "plan")
        ]
    chosen = [r for r in xinghe if (r["flow_type"], r["window_days"]) == (flow, window)]
    expect = {
        "spend": _sum([r["spend"] for r in juguang]),
        "clicks": _sum([r["clicks"] for r in juguang]),
        "gmv": _sum([r["gmv"] for r in chosen]),
        "orders": _sum([r["buyers"] for r in chosen]),
        "visits": _sum([r["visit_uv"] for r in chosen]),
    }
    for res in results:
        for field, value in expect.items():
            assert res.totals[field] == value, (res.request.by, field)
            assert _sum([row[field] for row in res.rows]) == value, (res.request.by, field)


# --- the partial correlation in the findings ----------------------------------------------

# over 8 notes: A and B sum to 0, are orthogonal to each other and to 1..8 (so to any
# spend that rises linearly with the note's number)
PATTERN_A = (1, -1, -1, 1, 1, -1, -1, 1)
PATTERN_B = (1, -1, -1, 1, -1, 1, 1, -1)


def size_store(tmp_path: Path, direct: bool) -> Any:
    """24 notes with spend 100, 200, … 2400. Interactions 10 × spend + 50 A; orders
    spend / 100 + 5 + 2 B (direct=False: orders follow spend only, so that controlling for
    spend the partial correlation is exactly 0) or + 2 (A + B) (direct: orders also follow
    the interactions that spend does not explain)."""
    juguang, xinghe = [], []
    for i in range(24):
        note = f"6{i:023d}"
        a, b = PATTERN_A[i % 8], PATTERN_B[i % 8]
        spend = 100 * (i + 1)
        juguang.append(jg(DAY1, note, "P1", f"{spend}.00", interactions=10 * spend + 50 * a))
        orders = i + 1 + 5 + 2 * b + (2 * a if direct else 0)
        xinghe.append(xh(DAY1, note, "全部流量", 30, f"{orders * 100}.00", buyers=orders))
    path = tmp_path / "size.duckdb"
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", juguang)
        insert(s.con, "xinghe", xinghe)
    return path


def test_findings_say_when_the_correlation_is_only_size(tmp_path: Path) -> None:
    import math

    path = size_store(tmp_path, direct=False)
    with open_store(path, read_only=True) as s:
        res = A.attribute(s.con, A.Request())
    pear = res.correlations[0]
    # by construction the residuals on spend are 50 A and 2 B, orthogonal: partial r = 0,
    # and its interval Fisher's z with n − 4 = 20: ± tanh(1.959964 / √20) = ± 0.41
    assert pear["partial"]["r"] == pytest.approx(0.0, abs=1e-9)
    half = math.tanh(1.959964 / math.sqrt(20))
    assert pear["partial"]["ci_high"] == pytest.approx(half, abs=1e-6)
    assert pear["ci_low"] > 0.9  # the raw correlation: both follow spend
    import numpy as np

    spend = np.arange(1, 25) * 100.0
    a = np.array([PATTERN_A[i % 8] for i in range(24)])
    b = np.array([PATTERN_B[i % 8] for i in range(24)])
    r = np.corrcoef(10 * spend + 50 * a, spend / 100 + 5 + 2 * b)[0, 1]
    sentence = next(f for f in res.findings if "Pearson" in f)
    assert sentence.startswith(f"Orders follow interactions across notes (Pearson r {r:.2f}, ")
    assert sentence.endswith(
        ", but 0.00 (95% CI -0.41 to 0.41) controlling for spend — bigger notes get more "
        "of everything."
    )


def test_findings_leave_the_partial_out_when_it_tells_the_same_story(tmp_path: Path) -> None:
    path = size_store(tmp_path, direct=True)
    with open_store(path, read_only=True) as s:
        res = A.attribute(s.con, A.Request())
    pa = res.correlations[0]["partial"]
    # residuals 50 A and 2 (A + B): r = 2·8·3 / √(8·3 · 8·3·2) = 1/√2 on A·A = 24, (A+B)² = 48
    assert pa["r"] == pytest.approx(1 / 2**0.5, abs=1e-9)
    assert pa["ci_low"] > 0
    sentence = next(f for f in res.findings if "Pearson" in f)
    assert "controlling for spend" not in sentence and sentence.endswith(").")
