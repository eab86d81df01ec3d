"""Completeness and maturity: a statement is final only on complete data exported after the
window closed, and an incomplete cycle is never settled as if the missing days were 0."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from redcat_cli.ingest.load import ingest
from redcat_cli.settle.engine import DayFacts, settle
from tests.settle_mature_data import CONTRACT, write_exports
from tests.test_settle_engine import contract, guarantee

ROOT = Path(__file__).resolve().parents[1]
LATE = dt.date(2025, 7, 31)  # after June's end + 30 days


def days_of_week(gmv_days: int, exported: dt.date | None = LATE) -> list[DayFacts]:
    """06-23..29: spend 1,000.00 a day; GMV 2,000.00 reported on the first ``gmv_days`` days."""
    out = []
    for i in range(7):
        d = dt.date(2025, 6, 23) + dt.timedelta(days=i)
        g = D("2000.00") if i < gmv_days else None
        out.append(DayFacts(d, D("1000.00"), g, 10 if g else None, exported if g else None))
    return out


WEEK = "{start: 2025-06-23, end: 2025-06-29}"


def test_incomplete_cycle_is_not_settled_on_the_reported_days() -> None:
    # GMV on 1 of 7 days: summed against 7 days of spend it would be ROI 2,000/7,000 = 0.29 and
    # pay 7,000 − 2,000/3 = 6,333.33; instead: not eligible, payout 0, no ROI, provisional.
    st = settle(contract(guarantee(), period=WEEK), days_of_week(1), dt.date(2025, 9, 1))
    (c,) = st.cycles
    g = c.roi_guarantee
    assert (g.eligible, g.triggered, g.payout) == (False, None, D("0.00"))
    assert g.reason == "not eligible: GMV reported on 1 of 7 days with spend"
    assert c.roi is None and c.gmv == D("2000.00") and not c.complete
    assert st.final is False and c.final is False
    assert st.final_reason.startswith("provisional: cycle 2025-06-23..2025-06-29: incomplete")
    assert "no GMV yet on 2025-06-24..2025-06-29" in st.final_reason


def test_complete_mature_cycle_is_final() -> None:
    # every day reported, exported 07-31 ≥ 06-29 + 30 = 07-29, as of 07-29: final
    st = settle(contract(guarantee(), period=WEEK), days_of_week(7), dt.date(2025, 7, 29))
    (c,) = st.cycles
    assert st.final and c.final and c.complete
    # ROI 14,000 / 7,000 = 2 < 2.4: 7,000 − 14,000/3 = 2,333.33
    assert c.roi_guarantee.payout == D("2333.33")


@pytest.mark.parametrize(
    ("exported", "words"),
    [
        (dt.date(2025, 7, 28), "exported on 2025-07-28, before end + 30 days = 2025-07-29"),
        (None, "export date of the GMV for 2025-06-23..2025-06-29 is unknown"),
    ],
)
def test_immature_or_unknown_export_is_provisional_whatever_the_date(exported, words) -> None:
    st = settle(contract(guarantee(), period=WEEK), days_of_week(7, exported), dt.date(2026, 1, 1))
    assert st.final is False and words in st.final_reason
    # the figures are still the provisional statement's: 2,333.33 on what is reported
    assert st.cycles[0].roi_guarantee.payout == D("2333.33")


def test_statement_reason_names_the_first_cycle_that_is_not_final() -> None:
    # two weeks: the first complete and mature, the second only half reported
    c = contract(guarantee(), cycle="week", period="{start: 2025-06-16, end: 2025-06-29}")
    first = [
        DayFacts(dt.date(2025, 6, 16) + dt.timedelta(days=i), D("10"), D("30"), 1, LATE)
        for i in range(7)
    ]
    st = settle(c, first + days_of_week(3), dt.date(2025, 8, 1))
    assert [x.final for x in st.cycles] == [True, False]
    assert st.final_reason.startswith("provisional: cycle 2025-06-23..2025-06-29:")
    d = st.to_dict()
    assert d["cycles"][0]["final"] is True and d["cycles"][1]["final"] is False
    assert d["cycles"][0]["final_reason"].startswith("final: complete")


def test_bundled_juguang_report_with_a_30_day_window(run, tmp_path: Path) -> None:
    """Case 1: the bundled 聚光 note report reports 行业商品GMV（30日） on 1 of 7 days of 06-23..29."""
    src = ROOT / "examples" / "聚光_笔记投放日报_202506_导出0701.csv"
    exports = sorted((ROOT / "examples").glob("聚光_笔记投放日报_*.csv"))
    f = tmp_path / (exports[0].name if exports else src.name)
    shutil.copyfile(exports[0] if exports else src, f)
    store = str(tmp_path / "s.duckdb")
    assert run("ingest", "--store", store, str(f), "--exported-on", "2025-07-01").exit_code == 0
    c = tmp_path / "c.yaml"
    c.write_text(
        "contract_id: CASE-1\nmerchant: 店\nperiod: {start: 2025-06-23, end: 2025-06-29}\n"
        "cycle: week\ngmv: {source: juguang, window_days: 30}\n"
        'roi_guarantee: {target_roi: "3.0", trigger_factor: "0.8", formula: qianchuan}\n',
        encoding="utf-8",
    )
    r = run("settle", "--store", store, "--contract", str(c), "--as-of", "2025-09-01", "--json")
    doc = json.loads(r.stdout)
    (cyc,) = doc["cycles"]
    assert doc["final"] is False and cyc["roi"] is None
    assert cyc["roi_guarantee"]["eligible"] is False
    assert cyc["roi_guarantee"]["reason"] == "not eligible: GMV reported on 1 of 7 days with spend"
    assert cyc["roi_guarantee"]["payout"] == "0.00"
    table = run("settle", "--store", store, "--contract", str(c), "--as-of", "2025-09-01")
    assert "incomplete" in table.stdout and "GMV reported on 1 of 7 days" in table.stderr


def test_mature_only_after_the_re_export(run, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    j, early, late = write_exports(Path("."))
    ingest("s.duckdb", [j.name, early.name])  # GMV exported 06-20 only
    Path("c.yaml").write_text(CONTRACT, encoding="utf-8")
    args = ("settle", "--store", "s.duckdb", "--contract", "c.yaml", "--as-of", "2025-08-01")
    doc = json.loads(run(*args, "--json").stdout)
    assert doc["final"] is False
    assert [c["final"] for c in doc["cycles"]] == [False, False]
    assert "exported on 2025-06-20, before end + 30 days = 2025-07-08" in doc["final_reason"]
    ingest("s.duckdb", [late.name])  # exported 07-20: after 06-15 + 30 = 07-15
    doc = json.loads(run(*args, "--json").stdout)
    assert doc["final"] is True and all(c["final"] for c in doc["cycles"])
    # and the store as it stood after ingest 2 still gives the provisional statement
    old = json.loads(run(*args, "--json", "--as-of-ingest", "2").stdout)
    assert old["final"] is False
    # week 2 at 60%: GMV 11,000.02 × 0.6 → 6,600.00 + 0.01 (the 0.02 day) = 6,600.01
    assert old["cycles"][1]["gmv"] == "6600.01"


def test_demo_is_provisional_until_exports_after_every_window(run, tmp_path: Path) -> None:
    """Case 2: the bundled exports (newest made 2025-07-15) leave the demo contract's last
    weeks immature whatever --as-of says; it has a projection (the 07-15 re-export matured the
    first half of June); an export made after 06-29 + 30 days makes it final."""
    from redcat_cli.demo import example_contract, example_files

    store = str(tmp_path / "s.duckdb")
    assert run("ingest", "-q", "--store", store, *map(str, example_files())).exit_code == 0
    args = ("settle", "--store", store, "--contract", str(example_contract()), "--json")
    doc = json.loads(run(*args, "--as-of", "2026-01-01").stdout)
    assert doc["final"] is False
    assert "exported on 2025-07-15" in doc["final_reason"]
    p = doc["totals"]["projected"]
    assert p is not None and p["keys_learned_from"] >= 30
    assert D(p["gmv"]) >= D(doc["totals"]["gmv"])  # days only grow
    # the same numbers exported again on 2025-08-01: every window has closed
    last = next(f for f in example_files() if "0715" in f.name)
    r = run("ingest", "--store", store, str(last), "--exported-on", "2025-08-01", "--json")
    assert json.loads(r.stdout)["files"][0]["rows_updated"] == 0  # nothing changed but the date
    doc = json.loads(run(*args, "--as-of", "2026-01-01").stdout)
    assert doc["final"] is True and doc["totals"]["projected"] is None
