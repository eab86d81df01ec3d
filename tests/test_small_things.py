"""Small things that add up: a CSV Excel reads, --png taking a folder, no `None` for people,
a demo contract without stub weeks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from redcat_cli.demo import example_contract, example_files

ROOT = Path(__file__).resolve().parents[1]
BOM = "\ufeff"


@pytest.fixture(scope="module")
def juguang_only(tmp_path_factory) -> str:
    """A store with one platform's data: 聚光 and 千牛, no 种草星河."""
    from click.testing import CliRunner

    from redcat_cli.cli import cli

    path = tmp_path_factory.mktemp("one") / "s.duckdb"
    files = [str(f) for f in example_files() if f.name.startswith(("聚光_笔记", "千牛_订单报表"))]
    res = CliRunner().invoke(cli, ["ingest", "-q", "--store", str(path), *files])
    assert res.exit_code == 0, res.output
    return str(path)


def test_csv_bom_on_request_and_plain_otherwise(run, juguang_only: str) -> None:
    plain = run("status", "--store", juguang_only, "-f", "csv")
    assert plain.stdout.startswith("source,")
    bom = run("status", "--store", juguang_only, "-f", "csv", "--bom")
    assert bom.stdout.startswith(BOM + "source,")


def test_csv_redirected_to_a_file_starts_with_a_bom(juguang_only: str, tmp_path: Path) -> None:
    out = tmp_path / "status.csv"
    with out.open("wb") as fh:
        subprocess.run(
            [sys.executable, "-m", "redcat_cli", "status", "--store", juguang_only, "-f", "csv"],
            stdout=fh,
            check=True,
        )
    text = out.read_bytes().decode("utf-8")
    assert text.startswith(BOM + "source,") and "juguang" in text
    piped = subprocess.run(
        [sys.executable, "-m", "redcat_cli", "status", "--store", juguang_only, "-f", "csv"],
        capture_output=True,
        check=True,
    )
    assert piped.stdout.startswith(b"source,")


def test_png_refuses_a_file_name(run, juguang_only: str, tmp_path: Path) -> None:
    res = run(
        "report",
        "--store",
        juguang_only,
        "--out",
        str(tmp_path / "r.html"),
        "--png",
        str(tmp_path / "charts.png"),
    )
    assert res.exit_code == 2 and "looks like a file name" in res.stderr
    assert not (tmp_path / "charts.png").exists() and not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["attribute"],
        ["attribute", "--by", "day"],
        ["attribute", "--by", "plan"],
        ["attribute", "-f", "csv"],
    ],
)
def test_no_none_with_one_platform_only(run, juguang_only: str, args: list[str]) -> None:
    res = run(*args, "--store", juguang_only)
    assert res.exit_code == 0, res.output
    assert "None" not in res.stdout and "None" not in res.stderr
    if args == ["attribute"]:
        assert "no 种草星河 data" in res.stdout


def test_report_has_no_none_with_one_platform_only(run, juguang_only: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run("report", "--store", juguang_only, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "None" not in out.read_text(encoding="utf-8")


def test_demo_contract_has_whole_weeks() -> None:
    import datetime as dt

    from redcat_cli.settle.contract import load_contract

    c = load_contract(str(example_contract()))
    assert c.cycle == "week"
    start, end = c.period.start, c.period.end
    # Monday to Sunday: every ISO-week cycle is seven days long
    assert start.weekday() == 0 and end.weekday() == 6
    assert ((end - start).days + 1) % 7 == 0 and start >= dt.date(2025, 6, 1)
