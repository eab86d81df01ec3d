"""The command line: exit codes, streams, the JSON contract, and a fast --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ALL_KINDS, DATA


def test_ingest_json_contract(run, store: Path) -> None:
    res = run(
        "ingest",
        "--store",
        str(store),
        str(DATA / "juguang_notes.csv"),
        str(DATA / "xinghe_v1.csv"),
        "--json",
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["store"] == str(store)
    keys = {
        "path",
        "source",
        "encoding",
        "sha256",
        "rows_read",
        "rows_loaded",
        "rows_updated",
        "rows_duplicate",
        "rows_skipped",
        "rows_rejected",
        "rejects_path",
    }
    for f in data["files"]:
        assert keys <= set(f)
        assert (
            f["rows_read"]
            == f["rows_loaded"]
            + f["rows_updated"]
            + f["rows_duplicate"]
            + f["rows_skipped"]
            + f["rows_rejected"]
        )
    assert [f["source"] for f in data["files"]] == ["juguang", "xinghe"]
    import hashlib

    assert (
        data["files"][0]["sha256"]
        == hashlib.sha256((DATA / "juguang_notes.csv").read_bytes()).hexdigest()
    )


def test_status_json_money_is_two_place_strings(run, store: Path) -> None:
    run(
        "ingest",
        "-q",
        "--store",
        str(store),
        str(DATA / "juguang_notes.csv"),
        str(DATA / "xinghe_v1.csv"),
    )
    res = run("status", "--store", str(store), "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    by = {s["source"]: s for s in data["sources"]}
    assert by["juguang"]["spend"] == "1351.50"  # 1200.00 + 100.5 + 51
    assert by["juguang"]["date_min"] == "2025-06-01" and by["juguang"]["date_max"] == "2025-06-02"
    gmv = {(g["flow_type"], g["window_days"]): g["gmv"] for g in by["xinghe"]["gmv"]}
    assert gmv == {
        ("全部流量", 7): "500.00",
        ("全部流量", 30): "1100.00",
        ("广告流量", 30): "600.00",
        ("自然流量", 30): "200.00",
    }


def test_bad_file_exit_1_one_line_no_traceback(run, store: Path, tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    res = run("ingest", "--store", str(store), str(p))
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.startswith("Error: ") and "Traceback" not in res.stderr
    assert not store.exists()


def test_usage_error_exit_2(run) -> None:
    res = run("ingest", "--format", "xml", "x.csv")
    assert res.exit_code == 2


def test_status_without_store(run, tmp_path: Path) -> None:
    res = run("status", "--store", str(tmp_path / "none.duckdb"))
    assert res.exit_code == 1 and "no store" in res.stderr


def test_store_from_environment(run, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "env.duckdb"
    monkeypatch.setenv("REDCAT_STORE", str(target))
    res = run("ingest", "-q", str(DATA / "xinghe_v1.csv"))
    assert res.exit_code == 0 and target.exists()


def test_sources_lists_every_kind(run) -> None:
    res = run("sources", "--json")
    names = {s["source"] for s in json.loads(res.stdout)["sources"]}
    assert names == ALL_KINDS


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from redcat_cli.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for name in ['ingest', 'status', 'sources', 'attribute', 'lift', 'settle', 'contract', 'schema', 'report', 'demo']:\n"
        "    try:\n        main([name, '--help'])\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('pandas', 'scipy', 'duckdb', 'pyarrow', 'numpy', 'matplotlib', 'openpyxl', 'pydantic', 'statsmodels', 'chinese_calendar') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    assert "HEAVY []" in out.stderr, out.stderr[-2000:]


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "redcat_cli", "--version"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    assert out.returncode == 0 and "redcat" in out.stdout


def test_demo_runs_in_a_fresh_folder(run, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = run("demo")
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "redcat-demo" / "redcat.duckdb").exists()
    res2 = run("demo")
    assert res2.exit_code == 0
    assert (tmp_path / "redcat-demo-2" / "redcat.duckdb").exists()


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    import os

    from redcat_cli.files import atomic_write_text

    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "out.txt", "x")
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644


def test_bootstrap_over_notes_is_reproducible(run, tmp_path: Path) -> None:
    from redcat_cli.demo import example_files
    from redcat_cli.ingest.load import ingest

    store = tmp_path / "s.duckdb"
    ingest(store, [str(p) for p in example_files()])
    args = [
        "attribute",
        "--store",
        str(store),
        "--json",
        "--baseline",
        "2025-06-01..2025-06-15",
        "--compare",
        "2025-06-16..2025-06-30",
        "--resample",
        "notes",
        "--seed",
        "7",
    ]
    first = run(*args)
    assert first.exit_code == 0, first.stderr
    assert run(*args).stdout == first.stdout


def test_chinese_tables_align_in_80_columns(run, store: Path) -> None:
    """Wide (CJK) characters take two cells: every line of a table fits 80 cells and the
    rows of one table are equally wide, so the columns line up."""
    from rich.cells import cell_len

    from redcat_cli.demo import example_files

    res = run("ingest", "--store", str(store), *[str(p) for p in example_files()])
    assert res.exit_code == 0
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert any("千牛" in ln for ln in lines)
    assert all(cell_len(ln) <= 80 for ln in lines)
    body = [
        ln
        for ln in lines
        if ln.startswith((" ", "千", "种", "聚", "生", "万", "小")) and "━" not in ln
    ]
    widths = {cell_len(ln) for ln in body}
    assert len(widths) == 1, widths
    # the numbers are never cut: the totals row holds the full sum of rows read
    total = next(ln for ln in lines if ln.lstrip().startswith("total"))
    data = json.loads(
        run("ingest", "--store", str(store), *[str(p) for p in example_files()], "--json").stdout
    )
    assert f"{sum(f['rows_read'] for f in data['files']):,}" in total
