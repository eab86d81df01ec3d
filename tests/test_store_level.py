"""attribute --by day at the store level (聚光 account report, 千牛 orders, 生意参谋, no
种草星河), status's feeds, and errors that name the export the user has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from redcat_cli.cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("level") / "s.duckdb"
    files = [
        "聚光_账户日报_202506_导出0701.csv",
        "千牛_订单报表_202506_导出0701.csv",
        "生意参谋_商品日报_0420-0630_导出0701.csv",
    ]
    r = run("ingest", "-q", "--store", str(path), *(str(EXAMPLES / f) for f in files))
    assert r.exit_code == 0, r.output
    return str(path)


def test_by_day_compares_account_spend_with_paid_gmv(store: str) -> None:
    import duckdb
    from scipy import stats as sps

    r = run("attribute", "--store", store, "--by", "day", "--x", "spend", "--y", "gmv", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["store_level"] == {"spend": "juguang_account", "sales": "qianniu"}
    con = duckdb.connect(store, read_only=True)
    spend = dict(con.execute("SELECT date, sum(spend) FROM juguang_account GROUP BY 1").fetchall())
    gmv = dict(
        con.execute(
            "SELECT CAST(paid_at AS DATE), sum(paid_amount) FROM qianniu "
            "WHERE paid_at IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    con.close()
    days = sorted(set(spend) & set(gmv))
    assert doc["totals"]["spend"] == f"{sum(spend.values()):.2f}"
    assert doc["totals"]["gmv"] == f"{sum(gmv.values()):.2f}"
    pearson = next(c for c in doc["correlations"] if c["method"] == "pearson")
    expected = sps.pearsonr([float(spend[d]) for d in days], [float(gmv[d]) for d in days])[0]
    assert pearson["n"] == len(days) and pearson["r"] == pytest.approx(expected, abs=1e-9)
    assert pearson["partial"] is None  # spend is x
    assert any("overlaps 618 2025" in w for w in doc["warnings"])
    assert any("holds no 种草星河" in w for w in doc["warnings"])


def test_store_level_refuses_an_uplift_and_names_lift(store: str) -> None:
    r = run(
        "attribute",
        "--store",
        store,
        "--by",
        "day",
        "--baseline",
        "2025-06-01..2025-06-10",
        "--compare",
        "2025-06-11..2025-06-20",
    )
    assert r.exit_code == 2 and "redcat lift" in r.stderr


def test_by_note_names_the_exports_the_user_has(store: str) -> None:
    r = run("attribute", "--store", store)
    assert r.exit_code == 1
    assert "you have 聚光 账户日报 and 千牛 订单报表" in r.stderr
    assert "--by day" in r.stderr and "redcat lift" in r.stderr


def test_status_says_what_each_export_feeds(store: str) -> None:
    doc = json.loads(run("status", "--store", store, "--json").stdout)
    feeds = {s["source"]: s["feeds"] for s in doc["sources"]}
    assert "lift" in feeds["sycm"]
    assert any(f.startswith("attribute --by day") for f in feeds["juguang_account"])
    assert "lift --outcome qianniu" in feeds["qianniu"]
    table = run("status", "--store", store).stdout
    assert "what each feeds" in table


def test_settle_without_xinghe_names_the_exports_the_user_has(store: str) -> None:
    r = run("settle", "--store", store, "--contract", str(EXAMPLES / "contract.yaml"))
    assert r.exit_code == 1
    line = next(x for x in r.stderr.splitlines() if "种草星河 rows" in x)
    assert line.strip().startswith(f"{EXAMPLES / 'contract.yaml'}:10: the store holds no 种草星河")
    # the three exports this store holds, by the names the merchant knows them by
    assert "the store holds 聚光 账户投放日报, 千牛 订单报表, 生意参谋 商品日报)" in line
    assert "gmv.source: juguang" in line
    assert r.stderr.count("problem") == 1  # one problem, not one per missing window and flow


def _account_against_orders(tmp_path: Path, orders: str) -> dict:
    """attribute --by day --json on the bundled June 聚光 account report and these 千牛 orders."""
    path = tmp_path / "千牛_订单报表_导出0705.csv"
    head = "订单编号,买家实际支付金额,订单状态,订单创建时间,订单付款时间\n"
    path.write_text(head + orders, encoding="utf-8")
    store = str(tmp_path / "s.duckdb")
    account = EXAMPLES / "聚光_账户日报_202506_导出0701.csv"
    assert run("ingest", "-q", "--store", store, str(account), str(path)).exit_code == 0
    r = run("attribute", "--store", store, "--by", "day", "--x", "spend", "--y", "gmv", "--json")
    assert r.exit_code == 0, r.output
    return {"store": store, **json.loads(r.stdout)}


def test_store_level_roi_only_over_days_holding_both_sides(tmp_path: Path) -> None:
    # 聚光 spend on 06-01..06-30; 千牛 orders paid on 06-29, 06-30 and 07-01, 07-02: only two
    # days hold both. Spend of 06-29 and 06-30 from the account report: 4602.74 + 5620.57.
    doc = _account_against_orders(
        tmp_path,
        "1001,3000.00,交易成功,2025-06-29 10:00:00,2025-06-29 10:01:00\n"
        "1002,1223.31,交易成功,2025-06-30 11:00:00,2025-06-30 11:02:00\n"
        "1003,500.00,交易成功,2025-07-01 09:00:00,2025-07-01 09:00:30\n"
        "1004,800.00,交易成功,2025-07-02 09:00:00,2025-07-02 09:00:30\n",
    )
    assert doc["totals"]["roi"] is None  # 32 days, 30 of them with one side only
    assert doc["totals"]["gmv"] == "5523.31" and doc["totals"]["spend"] == "141289.97"
    # (3000.00 + 1223.31) / (4602.74 + 5620.57) = 4223.31 / 10223.31 = 0.4131…
    note = next(w for w in doc["warnings"] if "days both cover" in w)
    assert "30 of the 32 days are in only one export" in note and "ROI 0.41 " in note
    assert "(2025-06-29..2025-06-30)" in note and "GMV 4,223.31 on spend 10,223.31" in note
    table = run("attribute", "--store", doc["store"], "--by", "day").stdout
    assert "together return ROI" not in table


def test_by_note_without_xinghe_points_to_the_store_level(tmp_path: Path) -> None:
    store = str(tmp_path / "s.duckdb")
    files = ["聚光_笔记投放日报_202506_导出0701.csv", "千牛_订单报表_202506_导出0701.csv"]
    assert run("ingest", "-q", "--store", store, *(str(EXAMPLES / f) for f in files)).exit_code == 0
    r = run("attribute", "--store", store)
    assert r.exit_code == 0, r.output
    assert "You have 千牛 订单报表 (paid GMV): `redcat attribute --by day` compares" in r.stderr


def test_a_day_without_orders_inside_the_export_is_zero_not_missing(tmp_path: Path) -> None:
    # orders paid on 06-01 and 06-30 only: 千牛 covers June, its 28 other days sold nothing,
    # so the total ROI stands: 1413.00 / 141289.97
    doc = _account_against_orders(
        tmp_path,
        "2001,1000.00,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00\n"
        "2002,413.00,交易成功,2025-06-30 11:00:00,2025-06-30 11:02:00\n",
    )
    assert abs(float(doc["totals"]["roi"]) - 1413.00 / 141289.97) < 1e-12
    assert not [w for w in doc["warnings"] if "days both cover" in w]
