"""Many files in one ingest are written together, per table: each file is still counted on
its own, and the store ends as if the files had been ingested one by one."""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

import redcat_cli.ingest.load as load
import redcat_cli.ingest.reader as reader
from redcat_cli.ingest.load import ingest
from tests.conftest import dump, rows, write
from tests.test_ingest_pieces import JG_HEADER, NOTES, jg_row, reports

XH_HEADER = "日期,内容ID,流量类型,归因周期,阅读/播放UV,互动UV,进店UV,商品加购UV,成交UV,商家GMV\n"


def xh_row(day: int, note: int, window: str = "7天", gmv: str = "500.00") -> str:
    return f"2025-06-{day:02d},{NOTES[note]},全部流量,{window},1000,80,100,30,5,{gmv}\n"


def stored(store: Path) -> dict[str, list[tuple]]:
    """The store without what differs between one ingest and several: the batch and the
    times in the ingest log (each ingest_log row keeps its id, file, counts and export date)."""
    out = dump(store)
    out["ingest_log"] = sorted((r[0], *r[2:14], *r[17:]) for r in out["ingest_log"])
    return out


def file_reports(files) -> list[tuple]:
    return [
        (*r, f.exported_on, f.exported_on_from, f.warnings)
        for r, f in zip(reports(files), files, strict=True)
    ]


def one_by_one(store: Path, paths: list[Path]) -> list[tuple]:
    return [file_reports(ingest(store, [str(p)]).files)[0] for p in paths]


def test_three_exports_of_the_same_days_by_hand(tmp_path: Path) -> None:
    """聚光's outcomes mature: a later export's unchanged row re-dates the stored one, an
    earlier export's does not. Worked out row by row."""
    f1 = write(
        tmp_path / "j1_2025-06-20.csv",
        JG_HEADER
        + jg_row(1, 0)  # line 2: new
        + jg_row(1, 1)  # line 3: new
        + jg_row(1, 2)  # line 4: new
        + jg_row(1, 0)  # line 5: repeats line 2
        + jg_row(1, 1, "99.00")  # line 6: conflicts with line 3
        + jg_row(1, 3, "abc"),  # line 7: no spend
        bom=True,
    )
    xh = write(tmp_path / "星河_2025-06-20.csv", XH_HEADER + xh_row(1, 0) + xh_row(1, 0, "30天"))
    f2 = write(
        tmp_path / "j2_2025-06-21.csv",
        JG_HEADER + jg_row(1, 0) + jg_row(1, 1, "20.00") + jg_row(2, 0),
        bom=True,
    )
    f3 = write(
        tmp_path / "j3_2025-06-19.csv",
        JG_HEADER + jg_row(1, 0) + jg_row(1, 1, "20.00") + jg_row(2, 0, "30.00"),
        bom=True,
    )
    empty = write(tmp_path / "j4_2025-06-22.csv", JG_HEADER, bom=True)
    store = tmp_path / "s.duckdb"
    files = ingest(store, [str(p) for p in (f1, xh, f2, f3, empty)]).files
    # read, loaded, updated, duplicate, skipped, rejected
    assert [reports([f])[0][:6] for f in files] == [
        (6, 3, 0, 1, 0, 2),
        (2, 2, 0, 0, 0, 0),
        (3, 1, 1, 1, 0, 0),
        (3, 0, 1, 2, 0, 0),
        (0, 0, 0, 0, 0, 0),
    ]
    assert [(r.line, r.reason.split(" (")[0]) for r in files[0].rejects] == [
        (6, "conflict: same key as line 3 with different values"),
        (7, "消费: cannot read 'abc' as an amount of money"),
    ]
    assert files[0].rejects[0].fields[5] == "99.00"  # the row as the file wrote it
    ids = [f.ingest_id for f in files]
    assert ids == sorted(ids) and len(set(ids)) == 5
    j1, _, j2, j3, _ = ids
    assert rows(
        store, "SELECT note_id, date, spend, _ingest_id, _line FROM juguang ORDER BY 2, 1"
    ) == [
        (NOTES[0], dt.date(2025, 6, 1), Decimal("10.0000"), j2, 2),  # re-dated by the later j2
        (NOTES[1], dt.date(2025, 6, 1), Decimal("20.0000"), j2, 3),  # updated by j2
        (NOTES[2], dt.date(2025, 6, 1), Decimal("10.0000"), j1, 4),
        (NOTES[0], dt.date(2025, 6, 2), Decimal("30.0000"), j3, 4),  # updated by j3
    ]
    assert rows(
        store,
        "SELECT note_id, date, spend, _ingest_id, _superseded_by FROM juguang_history ORDER BY 5, 2, 1",
    ) == [
        (NOTES[0], dt.date(2025, 6, 1), Decimal("10.0000"), j1, j2),
        (NOTES[1], dt.date(2025, 6, 1), Decimal("10.0000"), j1, j2),
        (NOTES[0], dt.date(2025, 6, 2), Decimal("10.0000"), j2, j3),
    ]
    log = rows(
        store, "SELECT id, exported_on, rows_loaded, rows_duplicate FROM ingest_log ORDER BY id"
    )
    assert [r[1] for r in log] == [
        dt.date(2025, 6, 20),
        dt.date(2025, 6, 20),
        dt.date(2025, 6, 21),
        dt.date(2025, 6, 19),
        dt.date(2025, 6, 22),
    ]
    assert [(r[2], r[3]) for r in log] == [(3, 1), (2, 0), (1, 1), (0, 2), (0, 0)]


def random_files(tmp_path: Path, n: int, seed: int) -> list[Path]:
    """``n`` small 聚光 and 星河 exports of overlapping days: repeats, conflicts, updates,
    unchanged re-exports, bad values, dated names in and out of order."""
    rng = random.Random(seed)
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        exported = dt.date(2025, 6, 10) + dt.timedelta(days=rng.randrange(10))
        if rng.random() < 0.25:
            body = "".join(
                xh_row(
                    rng.randrange(1, 4),
                    rng.randrange(3),
                    rng.choice(["7天", "30天"]),
                    rng.choice(["500.00", "520.00"]),
                )
                for _ in range(rng.randrange(1, 6))
            )
            paths.append(write(tmp_path / f"星河{i:03d}_{exported:%Y%m%d}.csv", XH_HEADER + body))
            continue
        body = "".join(
            jg_row(
                rng.randrange(1, 4), rng.randrange(4), rng.choice(["10.00", "10.00", "12.00", "x"])
            )
            for _ in range(rng.randrange(0, 8))
        )
        paths.append(
            write(tmp_path / f"聚光{i:03d}_{exported:%Y%m%d}.csv", JG_HEADER + body, bom=True)
        )
    return paths


@pytest.mark.parametrize("group_rows", [250_000, 7])
def test_many_files_in_one_ingest_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_rows: int
) -> None:
    """Per file: the same counts, rejects (line, reason, cells), export date and warnings;
    the same rows stored, history kept and ingest log, as ingesting each file on its own.
    (With 7 rows a group, the files go to the store in many groups.)"""
    monkeypatch.setattr(load, "GROUP_ROWS", group_rows)
    paths = random_files(tmp_path / "in", 60, seed=5)
    together = file_reports(ingest(tmp_path / "a.duckdb", [str(p) for p in paths]).files)
    separate = one_by_one(tmp_path / "b.duckdb", paths)
    assert together == separate
    assert stored(tmp_path / "a.duckdb") == stored(tmp_path / "b.duckdb")
    # the scenario holds what it is meant to test
    kinds = {r[0] for r in [(f[3],) for f in together]}
    assert len(kinds) > 1
    total = [sum(f[i] for f in together) for i in range(6)]
    assert all(total[i] for i in (1, 2, 3, 5)), total  # loaded, updated, duplicate, rejected
    assert rows(tmp_path / "a.duckdb", "SELECT count(*) FROM juguang_history")[0][0] > 0


def test_a_file_read_in_pieces_among_small_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file too large for one batch, between small files of its table: the small files
    before it are written first, so it meets the store as one by one."""
    monkeypatch.setattr(reader, "PIECE", 600)
    paths = random_files(tmp_path / "in", 12, seed=11)
    big = "".join(jg_row(1 + i % 3, i % 4, ["10.00", "12.00"][i % 2]) for i in range(40))
    paths.insert(6, write(tmp_path / "in" / "聚光big_20250615.csv", JG_HEADER + big, bom=True))
    together = file_reports(ingest(tmp_path / "a.duckdb", [str(p) for p in paths]).files)
    assert together == one_by_one(tmp_path / "b.duckdb", paths)
    assert stored(tmp_path / "a.duckdb") == stored(tmp_path / "b.duckdb")


def test_zip_members_as_loose_files(tmp_path: Path) -> None:
    paths = random_files(tmp_path / "in", 40, seed=3)
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in paths:
            z.write(p, p.name)
    zipped = ingest(tmp_path / "a.duckdb", [str(archive)]).files
    loose = ingest(tmp_path / "b.duckdb", [str(p) for p in paths]).files
    assert [f.path for f in zipped] == [f"{archive}!{p.name}" for p in paths]
    assert file_reports(zipped) == file_reports(loose)
    a, b = stored(tmp_path / "a.duckdb"), stored(tmp_path / "b.duckdb")
    # the log names the member inside the archive; the rest is the same
    assert [(r[0], *r[3:]) for r in a.pop("ingest_log")] == [
        (r[0], *r[3:]) for r in b.pop("ingest_log")
    ]
    assert a == b
