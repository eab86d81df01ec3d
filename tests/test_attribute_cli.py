"""``redcat attribute`` end to end: the JSON contract, CSV, tables, plots and exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from redcat_cli.cli import main
from redcat_cli.store.db import open_store

D = Decimal
N1 = "5f1a2b3c000000000102924f"
N2 = "5f1a2b3c0000000001029250"
N3 = "5f1a2b3c0000000001029251"  # 种草星河 only
MONEY = re.compile(r"^-?\d+\.\d{2}$")


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def redcat(args: tuple[str, ...]) -> None:
    main(list(args))


def run(*args: str) -> Any:
    return CliRunner().invoke(redcat, list(args), catch_exceptions=False)


def insert(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        con.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )


@pytest.fixture
def store(tmp_path: Path) -> str:
    """Two notes boosted for 12 days, one more seen only in 种草星河; two windows."""
    path = tmp_path / "redcat.duckdb"
    juguang, xinghe = [], []
    for d in range(12):
        date = dt.date(2025, 6, 1) + dt.timedelta(days=d)
        for i, note in enumerate((N1, N2)):
            juguang.append(
                {
                    "date": date,
                    "note_id": note,
                    "note_title": f"试色 {i}",
                    "plan_id": "P1",
                    "plan_name": "口红",
                    "spend": D("50.00") + d + i,
                    "impressions": 1000 + 50 * d,
                    "clicks": 30 + d + 3 * i,
                    "likes": 5,
                    "comments": 1,
                    "collects": 2,
                    "follows": 0,
                    "shares": 1,
                    "interactions": 9 + d % 4 + i,
                }
            )
            for window in (7, 30):
                xinghe.append(
                    {
                        "date": date,
                        "note_id": note,
                        "flow_type": "全部流量",
                        "window_days": window,
                        "read_uv": 400,
                        "interact_uv": 30,
                        "visit_uv": 20 + d % 5,
                        "cart_uv": 4,
                        "buyers": 2 + (d + i) % 3,
                        "gmv": D("120.50") + 3 * d,
                    }
                )
        xinghe.append(
            {
                "date": date,
                "note_id": N3,
                "flow_type": "全部流量",
                "window_days": 30,
                "read_uv": 10,
                "interact_uv": 1,
                "visit_uv": 0,
                "cart_uv": 0,
                "buyers": 0,
                "gmv": D("0"),
            }
        )
    with open_store(path, read_only=False) as s:
        insert(s.con, "juguang", juguang)
        insert(s.con, "xinghe", xinghe)
    return str(path)


def test_json_contract(store: str) -> None:
    r = run("attribute", "--store", store, "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) >= {"filters", "correlations", "notes", "totals", "unmatched", "uplift"}
    assert doc["filters"]["flow_type"] == "全部流量" and doc["filters"]["window_days"] == 30
    assert doc["filters"]["by"] == "note" and doc["uplift"] is None
    assert [c["method"] for c in doc["correlations"]] == ["pearson", "spearman", "kendall"]
    for c in doc["correlations"]:
        assert set(c) >= {
            "x",
            "y",
            "by",
            "method",
            "lag_days",
            "r",
            "p_value",
            "ci_low",
            "ci_high",
            "n",
        }
        assert c["x"] == "interactions" and c["y"] == "orders" and c["by"] == "note"
        assert isinstance(c["n"], int) and c["n"] == 2
    notes = {n["note_id"]: n for n in doc["notes"]}
    assert set(notes) == {N1, N2, N3}
    n1 = notes[N1]
    for money in ("spend", "gmv", "cpc", "cpe", "cpuv", "uv_value"):
        assert isinstance(n1[money], str) and MONEY.match(n1[money]), money
    for count in ("impressions", "clicks", "interactions", "visits", "orders", "read_uv", "cart"):
        assert isinstance(n1[count], int), count
    for rate in ("ctr", "roi", "visit_rate", "cart_rate"):
        assert isinstance(n1[rate], float), rate
    # by hand: N1 spend = Σ (50 + d) over d = 0..11 = 600 + 66
    assert n1["spend"] == "666.00"
    # the 30-day window only: GMV Σ (120.50 + 3d) = 1446 + 198
    assert n1["gmv"] == "1644.00"
    assert n1["roi"] == pytest.approx(1644 / 666)
    n3 = notes[N3]
    assert (
        n3["spend"] is None and n3["roi"] is None and n3["cpuv"] is None and n3["uv_value"] is None
    )
    t = doc["totals"]
    assert t["spend"] == "1344.00" and t["gmv"] == "3288.00"
    assert doc["unmatched"]["xinghe_only"] == {"count": 1, "note_ids": [N3]}
    assert doc["unmatched"]["juguang_only"] == {"count": 0, "note_ids": []}
    # warnings go to stderr, never into the data
    assert "only in 种草星河" in r.stderr


def test_json_by_day_with_lag_and_uplift(store: str) -> None:
    r = run(
        "attribute",
        "--store",
        store,
        "--by",
        "day",
        "--max-lag",
        "2",
        "--json",
        "--baseline",
        "2025-06-01..2025-06-06",
        "--compare",
        "2025-06-07..2025-06-12",
        "--bootstrap",
        "300",
        "--seed",
        "4",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["notes"] is None and len(doc["days"]) == 12
    assert {c["lag_days"] for c in doc["correlations"]} == {0, 1, 2}
    assert doc["lag_scan"]["adjustment"] == "bonferroni"
    u = doc["uplift"]
    assert u["seed"] == 4 and u["bootstrap"] == 300 and u["resampled"] == "days"
    assert MONEY.match(u["baseline"]["spend"])
    assert [m["metric"] for m in u["metrics"]] == [
        "roi",
        "ctr",
        "interaction_rate",
        "visit_rate",
        "cart_rate",
    ]
    again = json.loads(
        run(
            "attribute",
            "--store",
            store,
            "--by",
            "day",
            "--max-lag",
            "2",
            "--json",
            "--baseline",
            "2025-06-01..2025-06-06",
            "--compare",
            "2025-06-07..2025-06-12",
            "--bootstrap",
            "300",
            "--seed",
            "4",
        ).stdout
    )
    assert again["uplift"] == u
    assert "autocorrelated" in r.stderr


def test_csv_is_the_funnel(store: str) -> None:
    r = run("attribute", "--store", store, "--format", "csv", "--sort", "spend")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:4] == ["note_id", "note_title", "spend", "impressions"]
    assert [row[0] for row in rows[1:]] == [N2, N1, N3]
    assert rows[1][2] == "678.00"  # N2: Σ (51 + d)


def test_jsonl_one_row_per_line(store: str) -> None:
    r = run("attribute", "--store", store, "-f", "jsonl", "--top", "2")
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["note_id"] for x in lines)


def test_tables_for_people(store: str) -> None:
    r = run("attribute", "--store", store, "--window", "7")
    assert r.exit_code == 0, r.stderr
    assert "By note (2, sorted by gmv)" in r.stdout and "7-day window" in r.stdout
    # findings first, then one table holding both platforms' columns
    first = r.stdout.splitlines()[0]
    assert first.startswith("All 2 notes together return ROI ")
    rules = [line for line in r.stdout.splitlines() if line.strip().startswith("━")]
    assert len(rules) == 2  # one table: a rule under its head, one above its foot
    assert " spend " in r.stdout and " GMV " in r.stdout and " orders " in r.stdout
    assert "pearson" in r.stdout and "95% CI" in r.stdout
    # every line fits an 80-column terminal (CJK characters take two cells)
    from rich.cells import cell_len

    assert max(cell_len(line) for line in r.stdout.splitlines()) <= 80
    assert "Unmatched notes" not in r.stdout  # N3 has no 7-day rows
    assert "warning" not in r.stdout


def test_plot_is_written(store: str, tmp_path: Path) -> None:
    out = tmp_path / "scatter.png"
    r = run("attribute", "--store", store, "--by", "day", "--plot", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    json.loads(r.stdout)  # the plot notice went to stderr
    assert not list(tmp_path.glob(".redcat-plot-*"))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--flow-type", "直播"], 1, "It holds: 全部流量 × 7d, 全部流量 × 30d"),
        (["--window", "15"], 1, "15-day window"),
        (["--max-lag", "3"], 2, "--by day"),
        (["--baseline", "2025-06-01..2025-06-05"], 2, "--compare"),
        (
            ["--baseline", "2025-06-05..2025-06-01", "--compare", "2025-06-01..2025-06-02"],
            2,
            "ends before",
        ),
        (["--x", "gmv"], 2, "--x"),
        (["--seed", "-5"], 2, "--seed"),
        (["--from", "2025-06-20", "--to", "2025-06-10"], 2, "--to is before --from"),
        (
            ["--baseline", "2025-06-01..2025-06-10", "--compare", "2025-06-05..2025-06-20"],
            2,
            "overlap",
        ),
    ],
)
def test_errors_are_one_line_and_an_exit_code(
    store: str, args: list[str], code: int, message: str
) -> None:
    r = run("attribute", "--store", store, *args)
    assert r.exit_code == code
    assert message in r.stderr
    assert r.stdout == ""
    assert "Traceback" not in r.stderr


def test_missing_store(tmp_path: Path) -> None:
    r = run("attribute", "--store", str(tmp_path / "none.duckdb"))
    assert r.exit_code == 1
    assert "no store" in r.stderr and "redcat ingest" in r.stderr


def test_help_has_examples() -> None:
    r = run("attribute", "-h")
    assert r.exit_code == 0
    assert "--baseline" in r.stdout and "Examples:" in r.stdout


def test_choices_match_the_library() -> None:
    from redcat_cli.analysis import attribute as lib
    from redcat_cli.cli import attribute as cmd

    assert cmd.X_CHOICES == lib.X_CHOICES
    assert cmd.Y_CHOICES == lib.Y_CHOICES
    assert cmd.SORT_CHOICES == lib.SORT_CHOICES


def test_command_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, redcat_cli.cli.attribute; "
        "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'duckdb', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_json_by_plan_names_its_rows_plans(store: str) -> None:
    doc = json.loads(run("attribute", "--store", store, "--by", "plan", "--json").stdout)
    assert doc["notes"] is None and doc["filters"]["by"] == "plan"
    plans = {p["plan_id"]: p for p in doc["plans"]}
    # N3 was boosted by no plan: its outcome forms the row without a plan
    assert set(plans) == {"P1", None}
    assert plans["P1"]["plan_name"] == "口红" and plans["P1"]["spend"] == "1344.00"
    assert plans[None]["spend"] is None and plans[None]["gmv"] == "0.00"
    assert doc["totals"]["gmv"] == "3288.00"
    assert doc["unmatched"]["xinghe_only"]["note_ids"] == [N3]


def test_plot_into_a_new_folder_follows_the_umask(store: str, tmp_path: Path) -> None:
    import os

    out = tmp_path / "new" / "scatter.png"
    old = os.umask(0o022)
    try:
        r = run("attribute", "--store", store, "--plot", str(out))
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_mode & 0o777 == 0o644


def test_uplift_periods_overlapping_618_are_named(store: str, tmp_path: Path) -> None:
    r = run(
        "attribute",
        "--store",
        store,
        "--by",
        "day",
        "--json",
        "--bootstrap",
        "200",
        "--baseline",
        "2025-06-01..2025-06-06",
        "--compare",
        "2025-06-07..2025-06-12",
    )
    doc = json.loads(r.stdout)
    names = {(e["name"], e["stage"]) for e in doc["uplift"]["events"]}
    assert ("618", "main") in names  # 2025-05-13..06-18 holds both periods
    assert ("Dragon Boat Festival", "holiday") in names  # 2025-05-31..06-02
    assert any(
        w.startswith("The baseline period 2025-06-01..2025-06-06 overlaps 618 2025")
        for w in doc["warnings"]
    )
    # a brand's own calendar replaces the bundled 618 of that year
    own = tmp_path / "cal.yaml"
    own.write_text(
        "events:\n  - name: '618'\n    year: 2025\n    source: our own plan\n"
        "    windows: [{stage: main, from: 2025-06-10, to: 2025-06-18}]\n",
        encoding="utf-8",
    )
    r = run(
        "attribute",
        "--store",
        store,
        "--by",
        "day",
        "--json",
        "--bootstrap",
        "200",
        "--baseline",
        "2025-06-01..2025-06-06",
        "--compare",
        "2025-06-07..2025-06-12",
        "--calendar",
        str(own),
    )
    doc = json.loads(r.stdout)
    assert [e["periods"] for e in doc["uplift"]["events"] if e["name"] == "618"] == [["compare"]]


def test_every_pearson_and_spearman_row_has_its_partial_on_spend(store: str) -> None:
    doc = json.loads(run("attribute", "--store", store, "--json").stdout)
    for c in doc["correlations"]:
        if c["method"] == "kendall":
            assert c["partial"] is None
        else:
            pa = c["partial"]
            assert pa is None or (
                set(pa) == {"control", "r", "ci_low", "ci_high", "p_value", "n"}
                and pa["control"] == "spend"
            )
    doc = json.loads(run("attribute", "--store", store, "--json", "--x", "spend").stdout)
    assert all(c["partial"] is None for c in doc["correlations"])
