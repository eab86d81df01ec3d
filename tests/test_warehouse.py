"""`redcat export`: the store as a hive-partitioned Parquet warehouse, and DuckDB reading it
back with the same results as the store."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from tests.scale_fixture import MERCHANTS, build, contracts


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, list[Path]]:
    from redcat_cli.store.warehouse import export_store

    folder = tmp_path_factory.mktemp("scale")
    store = build(folder)
    export_store(store, folder / "wh")
    return store, folder / "wh", contracts(folder / "contracts")


def _count(store: Path, sql: str) -> int:
    from tests.conftest import rows

    return int(rows(store, sql)[0][0])


def test_manifest_accounts_for_every_row_and_file(built) -> None:
    import pyarrow.parquet as pq

    from redcat_cli.store.warehouse import merchant_key

    store, wh, _ = built
    manifest = json.loads((wh / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "redcat-warehouse" and manifest["store_schema_version"] == 3
    assert [m["merchant"] for m in manifest["merchants"]] == sorted(MERCHANTS)
    for table in ("juguang", "xinghe", "xinghe_history", "ingest_log"):
        assert manifest["tables"][table]["rows"] == _count(store, f"SELECT count(*) FROM {table}")
    assert manifest["tables"]["xinghe_history"]["rows"] > 0  # the re-export left history
    on_disk = sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet"))
    assert on_disk == sorted(f["path"] for f in manifest["files"])
    for f in manifest["files"]:  # checked independently of the exporter
        data = (wh / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        table = pq.read_table(wh / f["path"])
        assert table.num_rows == f["rows"]
        if f["merchant_key"]:  # the folder's key is the key of every row's merchant
            names = set(table.column("merchant").to_pylist())
            assert [merchant_key(n) for n in names] == [f["merchant_key"]]
            assert f["path"].split("/")[1] == f"merchant_key={f['merchant_key']}"
    # one folder per merchant and table, with an ASCII name; the names are in the data
    keys = {p.name for p in (wh / "juguang").iterdir()}
    assert keys == {f"merchant_key={merchant_key(m)}" for m in MERCHANTS}
    assert all(k.isascii() for k in keys)
    assert merchant_key("店 B/1%=x") == "m" + hashlib.sha256("店 B/1%=x".encode()).hexdigest()[:16]


def test_duckdb_reads_the_warehouse_as_the_store(run, built) -> None:
    store, wh, paths = built
    common = ["--as-of", "2025-09-01", "-f", "jsonl"]
    args = [x for p in paths for x in ("--contract", str(p))]
    a = run("settle", "--store", str(store), *args, *common)
    b = run("settle", "--warehouse", str(wh), *args, *common)
    assert a.exit_code == 0, a.stderr
    assert a.stdout == b.stdout and len(a.stdout.splitlines()) == len(paths)
    now = a.stdout
    # the store before the re-export (ingest 7), rebuilt from history
    a = run("settle", "--store", str(store), *args, *common, "--as-of-ingest", "6")
    b = run("settle", "--warehouse", str(wh), *args, *common, "--as-of-ingest", "6")
    assert a.exit_code == 0, a.stderr
    assert a.stdout == b.stdout and a.stdout.splitlines()[0] != now.splitlines()[0]
    a = json.loads(run("status", "--store", str(store), "--json").stdout)
    b = json.loads(run("status", "--warehouse", str(wh), "--json").stdout)
    assert a.pop("store") == str(store) and b.pop("store") == str(wh)
    assert a == b


def test_export_of_one_merchant(run, built, tmp_path: Path) -> None:
    store, _, _ = built
    out = tmp_path / "one"
    r = run("export", str(out), "--store", str(store), "--merchant", MERCHANTS[1], "--json")
    assert r.exit_code == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [m["merchant"] for m in manifest["merchants"]] == [MERCHANTS[1]]
    n = _count(store, f"SELECT count(*) FROM juguang WHERE merchant = '{MERCHANTS[1]}'")
    assert manifest["tables"]["juguang"]["rows"] == n
    logged = _count(store, f"SELECT count(*) FROM ingest_log WHERE merchant = '{MERCHANTS[1]}'")
    assert manifest["tables"]["ingest_log"]["rows"] == logged == 2
    r = run("export", str(out), "--store", str(store), "--merchant", "无此店")
    assert r.exit_code == 2 and "holds no rows of that merchant" in r.stderr


def test_re_export_replaces_and_failure_keeps_the_old(run, built, tmp_path: Path) -> None:
    store, _, _ = built
    out = tmp_path / "wh"
    assert run("export", str(out), "--store", str(store), "--merchant", MERCHANTS[0]).exit_code == 0
    first = (out / "manifest.json").read_bytes()
    r = run("export", str(out), "--store", str(store), "--merchant", "无此店")  # fails
    assert r.exit_code == 2 and (out / "manifest.json").read_bytes() == first
    assert run("export", str(out), "--store", str(store)).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["merchants"]) == 3
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert on_disk == sorted(f["path"] for f in manifest["files"])  # nothing of the old left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh"]  # no temporary folder left


def test_export_leaves_a_foreign_folder_alone(run, built, tmp_path: Path) -> None:
    store, _, _ = built
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    r = run("export", str(mine), "--store", str(store))
    assert r.exit_code == 2 and "holds no redcat warehouse" in r.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_spark_engine_needs_a_warehouse(run, built) -> None:
    store, _, _ = built
    r = run("status", "--store", str(store), "--engine", "spark")
    assert r.exit_code == 2 and "--warehouse" in r.stderr
    r = run("status", "--store", str(store), "--spark-master", "local[1]")
    assert r.exit_code == 2 and "--engine spark" in r.stderr


def test_spark_engine_without_pyspark_says_how_to_install(run, built, monkeypatch) -> None:
    import sys

    _, wh, _ = built
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    r = run("status", "--engine", "spark", "--warehouse", str(wh))
    assert r.exit_code == 2 and 'pip install "redcat[spark]"' in r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    from redcat_cli.store.warehouse import _exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("new"), (b / "x").write_text("old")
    assert _exchange(a, b)
    assert (b / "x").read_text() == "new" and (a / "x").read_text() == "old"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_a_re_export_never_leaves_the_folder_missing(built, tmp_path: Path, monkeypatch) -> None:
    """The old warehouse is exchanged for the new one: the folder is never renamed away (the
    two-rename fallback, with its instant of no warehouse, is not used)."""
    import os

    from redcat_cli.store import warehouse

    store, _, _ = built
    wh = tmp_path / "wh"
    warehouse.export_store(store, wh)
    first = json.loads((wh / "manifest.json").read_text(encoding="utf-8"))["exported_at"]
    renamed: list[tuple[str, str]] = []
    real = os.rename
    monkeypatch.setattr(os, "rename", lambda s, d: (renamed.append((str(s), str(d))), real(s, d)))
    warehouse.export_store(store, wh, merchants=[MERCHANTS[0]])
    assert not [r for r in renamed if r[0] == str(wh)]
    manifest = json.loads((wh / "manifest.json").read_text(encoding="utf-8"))
    assert [m["merchant"] for m in manifest["merchants"]] == [MERCHANTS[0]]
    assert first  # the first export had a manifest too
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".wh.redcat")]  # old one gone
