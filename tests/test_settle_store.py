"""settle refuses a contract the store cannot answer, instead of paying 0.00 on missing data."""

from __future__ import annotations

from pathlib import Path

import pytest

from redcat_cli.ingest.load import ingest
from tests.conftest import DATA

CONTRACT = """\
contract_id: T-1
merchant: 测试店
currency: CNY
period: {{start: {start}, end: {end}}}
cycle: period
gmv:
  source: xinghe
  window_days: {window}
  flow_type: {flow}
roi_guarantee:
  target_roi: "3.0"
  trigger_factor: "0.8"
  formula: qianchuan
rounding: half_up
"""


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    store = tmp_path / "s.duckdb"
    # 聚光: note …d1 spends 1200.00 on 06-01 and 51.00 on 06-02 (note …d2 100.50 on 06-01).
    # 种草星河: 全部流量 × 7d and × 30d, 广告流量 × 30d, 自然流量 × 30d — but no 广告流量 × 7d.
    ingest(store, [str(DATA / "juguang_notes.csv"), str(DATA / "xinghe_v1.csv")])
    return store


def contract(
    tmp_path: Path,
    *,
    flow: str = "全部流量",
    window: int = 30,
    start: str = "2025-06-01",
    end: str = "2025-06-02",
) -> str:
    p = tmp_path / "c.yaml"
    p.write_text(CONTRACT.format(flow=flow, window=window, start=start, end=end), encoding="utf-8")
    return str(p)


def test_settles_what_the_store_holds(run, small_store: Path, tmp_path: Path) -> None:
    import json

    r = run(
        "settle",
        "--store",
        str(small_store),
        "--contract",
        contract(tmp_path),
        "--json",
        "--as-of",
        "2025-09-01",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    # spend 1200.00 + 100.50 + 51.00 = 1351.50; GMV 全部流量 30d: 800.00 + 300.00 = 1100.00
    assert doc["totals"]["spend"] == "1351.50" and doc["totals"]["gmv"] == "1100.00"
    # ROI 0.81 < 3.0 × 0.8: payout = 1351.50 − 1100.00 / 3 = 1351.50 − 366.666… = 984.83
    assert doc["totals"]["roi_guarantee_payout"] == "984.83"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 15}, "gmv.window_days 15 is not in the store"),
        ({"flow": "全域流量"}, "gmv.flow_type 全域流量 is not in the store"),
        ({"flow": "广告流量", "window": 7}, "no 种草星河 rows for 广告流量 with a 7-day window"),
        ({"start": "2024-06-01", "end": "2024-06-30"}, "no 聚光 spend"),
    ],
)
def test_refuses_what_the_store_does_not_hold(
    run, small_store: Path, tmp_path: Path, kwargs: dict, message: str
) -> None:
    r = run("settle", "--store", str(small_store), "--contract", contract(tmp_path, **kwargs))
    assert r.exit_code == 1
    assert r.stdout == ""
    assert message in r.stderr and "c.yaml:" in r.stderr


def test_report_refuses_the_same(run, small_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = run(
        "report",
        "--store",
        str(small_store),
        "--contract",
        contract(tmp_path, window=15),
        "--out",
        str(out),
    )
    assert r.exit_code == 1 and "window_days 15" in r.stderr
    assert not out.exists()
