"""Statements on complete, mature data stay what they were, to the byte.

The golden file was written by the settlement engine before export dates, completeness and
maturity were tracked; the figures in it are checked by hand here too (tests/settle_mature_data.py
gives the data):
  week 1: spend 7,000.00, GMV 14,000.00, ROI 2.0 < 3.0 × 0.8: 7,000 − 14,000/3 = 2,333.33,
          capped by 0.30 × 7,000 = 2,100.00; matched min(7,000, cap 6,000) = 6,000.00
  week 2: spend 5,000.00, GMV 11,000.02, ROI 2.2 < 2.4: 5,000 − 11,000.02/3 = 1,333.326… → 1,333.33
          (cap 1,500 does not bind); matched 5,000 ≥ threshold 5,000 → 5,000.00
  totals: spend 12,000.00, GMV 25,000.02, payout 3,433.33, matched 11,000.00, net 8,566.67
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redcat_cli.ingest.load import ingest
from tests.conftest import DATA
from tests.settle_mature_data import CONTRACT, write_exports

GOLDEN = DATA / "settle_mature_statement.json"
# keys a statement gained after the golden file was written: they are compared elsewhere
NEW_CYCLE_KEYS = ("final", "final_reason", "complete", "mature", "projected")
NEW_TOP_KEYS = ("projection_note", "schema_version")
NEW_TOTALS_KEYS = ("projected",)


def strip_new(doc: dict) -> dict:
    for c in doc["cycles"]:
        for k in NEW_CYCLE_KEYS:
            c.pop(k, None)
    for k in NEW_TOP_KEYS:
        doc.pop(k, None)
    for k in NEW_TOTALS_KEYS:
        doc["totals"].pop(k, None)
    return doc


@pytest.fixture
def mature_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # relative paths: the audit trail is the same on every machine
    files = write_exports(Path("."))
    for f in files:
        ingest("s.duckdb", [f.name])
    Path("c.yaml").write_text(CONTRACT, encoding="utf-8")
    return tmp_path


def test_statement_on_mature_data_is_unchanged(run, mature_store: Path) -> None:
    r = run(
        "settle", "--store", "s.duckdb", "--contract", "c.yaml", "--as-of", "2025-07-20", "--json"
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["final"] is True
    t = doc["totals"]
    assert (t["spend"], t["gmv"], t["roi_guarantee_payout"], t["matched_investment"]) == (
        "12000.00",
        "25000.02",
        "3433.33",
        "11000.00",
    )
    assert t["net_ad_cost"] == "8566.67"
    w1, w2 = doc["cycles"]
    assert (w1["roi_guarantee"]["amount_before_cap"], w1["roi_guarantee"]["payout"]) == (
        "2333.33",
        "2100.00",
    )
    assert (w1["orders"], w2["orders"]) == (105, 75)
    assert (w2["roi_guarantee"]["payout"], w2["matched_investment"]["amount"]) == (
        "1333.33",
        "5000.00",
    )
    got = json.dumps(strip_new(doc), ensure_ascii=False, indent=2) + "\n"
    assert got == GOLDEN.read_text(encoding="utf-8")
    assert doc.get("projection_note") is None or doc["totals"].get("projected") is None


def test_csv_on_mature_data_is_unchanged(run, mature_store: Path) -> None:
    r = run(
        "settle",
        "--store",
        "s.duckdb",
        "--contract",
        "c.yaml",
        "--as-of",
        "2025-07-20",
        "-f",
        "csv",
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout == (DATA / "settle_mature_statement.csv").read_text(encoding="utf-8")
