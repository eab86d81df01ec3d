"""The terminal view: findings first, one table that fits 80 columns without cutting a
number, colour that means something, and none of it when piped or under NO_COLOR."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from redcat_cli.cells import truncate
from redcat_cli.cli import cli
from redcat_cli.demo import example_files


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("term") / "redcat.duckdb"
    res = CliRunner().invoke(
        cli, ["ingest", "-q", "--store", str(path), *map(str, example_files())]
    )
    assert res.exit_code == 0, res.output
    return str(path)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "80", **(env or {})})


def test_attribute_fits_80_columns_and_keeps_every_figure_whole(demo_store: str) -> None:
    res = run("attribute", "--store", demo_store)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(cell_len(x) for x in lines) <= 80
    doc = json.loads(run("attribute", "--store", demo_store, "--json").stdout)
    # every shown note's spend, GMV and orders appear whole, with their separators
    for note in doc["notes"]:
        for money in (note["spend"], note["gmv"]):
            assert f"{float(money):,.2f}" in res.stdout
        assert f" {note['orders']:,} " in res.stdout
        assert f"{note['roi']:.2f}" in res.stdout
    # the findings are the first lines, before the table, and count what the JSON holds
    rois = [n["roi"] for n in doc["notes"] if n["roi"] is not None]
    under = sum(1 for r in rois if r < 1)
    # ROI of the whole = Σ GMV / Σ spend over the notes of the JSON (sums over sums)
    from decimal import Decimal

    total = sum(Decimal(n["gmv"]) for n in doc["notes"] if n["gmv"] is not None)
    spend = sum(Decimal(n["spend"]) for n in doc["notes"] if n["spend"] is not None)
    assert res.stdout.startswith(f"All 24 notes together return ROI {total / spend:.2f}")
    assert f"{under} are under 1" in " ".join(res.stdout.split())
    assert doc["findings"][0].startswith("All 24 notes together")


def test_wider_terminal_shows_both_platforms_in_one_table(demo_store: str) -> None:
    narrow = run("attribute", "--store", demo_store)
    wide = run("attribute", "--store", demo_store, env={"COLUMNS": "200"})
    assert "Not shown at this width" in narrow.stdout
    assert "Not shown at this width" not in wide.stdout
    header = next(x for x in wide.stdout.splitlines() if x.startswith(" note "))
    for col in ("spend", "impr.", "CTR", "visits", "conv.", "加购率"):
        assert col in header


def test_titles_are_cut_by_display_width() -> None:
    assert truncate("秋冬口红推荐 第11期", 20) == "秋冬口红推荐 第11期"
    cut = truncate("黄皮显白口红试色｜这支颜色绝了12", 20)
    assert cell_len(cut) <= 20 and "…" in cut and cut.endswith("12")


def test_ids_on_request(demo_store: str) -> None:
    plain = run("attribute", "--store", demo_store, "--top", "3")
    with_ids = run(
        "attribute", "--store", demo_store, "--top", "3", "--ids", env={"COLUMNS": "160"}
    )
    assert "6762c2b9000000000196711a" not in plain.stdout
    assert "6762c2b9000000000196711a" in with_ids.stdout


def test_colour_means_something_and_is_off_when_asked(demo_store: str) -> None:
    coloured = run(
        "attribute",
        "--store",
        demo_store,
        env={"FORCE_COLOR": "1", "TERM": "xterm", "NO_COLOR": ""},
    )
    assert "\x1b[31m0.23" in coloured.stdout  # an ROI under 1 is red
    off = run("attribute", "--store", demo_store, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    # NO_COLOR: no colour at all (bold headers are not colour)
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", off.stdout) and "0.23" in off.stdout
    piped = run("attribute", "--store", demo_store)
    assert "\x1b[" not in piped.stdout


def test_status_keeps_numbers_whole_at_80_columns(demo_store: str) -> None:
    res = run("status", "--store", demo_store)
    assert max(cell_len(x) for x in res.stdout.splitlines()) <= 80
    for whole in ("4,320", "1,152", "6,456,020.00", "141,289.97", "2025-04-20..06-30"):
        assert whole in res.stdout
    # what the store holds does not fit beside them: it is left out whole and said so, never cut
    assert "Not shown at this width: holds" in res.stdout
    assert "927 ord" not in res.stdout and "16 prod" not in res.stdout
    wide = run("status", "--store", demo_store, env={"COLUMNS": "100"})
    assert max(cell_len(x) for x in wide.stdout.splitlines()) <= 100
    for whole in ("927 orders", "545 buyers", "16 products", "6,456,020.00"):
        assert whole in wide.stdout


def test_demo_steps_fit_a_screen_and_end_with_the_report(tmp_path) -> None:
    res = run("demo", str(tmp_path / "d"))
    assert res.exit_code == 0, res.output
    text = res.stderr + res.stdout  # steps are announced on stderr
    assert "redcat report --contract" in res.stderr
    assert f"The report: {tmp_path / 'd' / 'report.html'}" in res.stderr
    assert (tmp_path / "d" / "report.html").exists()
    assert len(text.splitlines()) < 260


SCREEN = 50  # lines: a terminal of 80 columns filling a laptop screen


def test_each_demo_step_fits_one_screen_at_80_columns(tmp_path) -> None:
    import shutil

    from redcat_cli.demo import example_contract, steps

    shutil.copyfile(example_contract(), tmp_path / "contract.yaml")
    heights = {}
    for args, _ in steps(tmp_path, [str(f) for f in example_files()]):
        res = run(*args)
        assert res.exit_code == 0, res.output
        # rows on the screen: a longer line (a warning, a verdict) wraps in the terminal
        rows = sum(max(1, -(-cell_len(x) // 80)) for x in (res.stderr + res.stdout).splitlines())
        heights[f"{len(heights) + 1} {args[0]}"] = rows
    assert len(heights) == 7
    assert max(heights.values()) <= SCREEN, heights
