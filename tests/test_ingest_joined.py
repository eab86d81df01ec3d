"""Small inputs of one header parsed as one text (redcat_cli.ingest.joined): each is still its
own file, exactly as when ingested alone; an input the joined text would misread is read
alone."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

import redcat_cli.ingest.joined as joined
import redcat_cli.ingest.load as load
from redcat_cli.errors import IngestError
from redcat_cli.ingest.load import ingest
from tests.conftest import rows, write
from tests.test_ingest_many import file_reports, one_by_one, random_files, stored
from tests.test_ingest_pieces import JG_HEADER, NOTES, jg_row


@pytest.fixture
def read_alone(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the inputs read on their own (not as a member of a joined group)."""
    names: list[str] = []
    real = load._ingest_source

    def spy(run, src, *a):  # type: ignore[no-untyped-def]
        names.append(Path(src.name.split("!")[-1]).name)
        return real(run, src, *a)

    monkeypatch.setattr(load, "_ingest_source", spy)
    return names


def test_files_of_one_header_worked_out_by_hand(tmp_path: Path, read_alone: list[str]) -> None:
    """Three 聚光 exports with the same header: each file's total row, footer, bad value and
    repeated key are judged within that file, at that file's own line numbers."""
    a = write(tmp_path / "a_20250620.csv", JG_HEADER + jg_row(1, 0) + jg_row(1, 1), bom=True)
    b = write(
        tmp_path / "b_20250621.csv",
        JG_HEADER
        + "合计,-,-,-,-,30.00,-,-,-,-,-,-,-,-\n"  # line 2: a total row, skipped
        + jg_row(1, 1, "12.00")  # line 3: updates a's row
        + jg_row(2, 0, "x")  # line 4: rejected
        + jg_row(2, 1)  # line 5: new
        + jg_row(2, 1, "11.00")  # line 6: conflicts with line 5
        + "导出时间：2025-06-21 10:00"
        + "," * 13
        + "\n",  # line 7: a footer, skipped
        bom=True,
    )
    c = write(tmp_path / "c_20250622.csv", JG_HEADER, bom=True)  # a header and nothing else
    store = tmp_path / "s.duckdb"
    files = ingest(store, [str(a), str(b), str(c)]).files
    assert read_alone == ["a_20250620.csv"]  # b and c were parsed with it as one text
    counts = [
        (f.rows_read, f.rows_loaded, f.rows_updated, f.rows_duplicate, f.rows_skipped)
        for f in files
    ]
    assert counts == [(2, 2, 0, 0, 0), (6, 1, 1, 0, 2), (0, 0, 0, 0, 0)]
    assert [(r.line, r.reason.split(" (")[0]) for r in files[1].rejects] == [
        (4, "消费: cannot read 'x' as an amount of money"),
        (6, "conflict: same key as line 5 with different values"),
    ]
    assert files[1].rejects[0].fields[5] == "x"  # the row as the file wrote it
    assert files[2].warnings and "no data rows" in files[2].warnings[0]
    assert [f.exported_on for f in files] == [
        dt.date(2025, 6, 20),
        dt.date(2025, 6, 21),
        dt.date(2025, 6, 22),
    ]
    import hashlib

    assert [f.sha256 for f in files] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c)
    ]
    ia, ib, _ = (f.ingest_id for f in files)
    assert rows(
        store, "SELECT note_id, date, spend, _ingest_id, _line FROM juguang ORDER BY 2, 1"
    ) == [
        (NOTES[0], dt.date(2025, 6, 1), Decimal("10.0000"), ia, 2),
        (NOTES[1], dt.date(2025, 6, 1), Decimal("12.0000"), ib, 3),
        (NOTES[1], dt.date(2025, 6, 2), Decimal("10.0000"), ib, 5),
    ]


def test_inputs_the_joined_text_would_misread_are_read_alone(
    tmp_path: Path, read_alone: list[str]
) -> None:
    """A quote left open, a blank line, no BOM among files with one, another delimiter: those
    inputs (or the group their text is in) are read alone, and every file comes out as when
    ingested on its own."""
    clean = [jg_row(1 + i % 3, i % 4, ["10.00", "12.00"][i % 2]) for i in range(6)]
    body = "".join(clean)
    inputs = {
        "01.csv": (JG_HEADER + body, True),
        "02.csv": (JG_HEADER + body, True),
        "03.csv": (JG_HEADER + clean[0] + '2025-06-02,"' + NOTES[1][1:] + "\n" + body, True),
        "04.csv": (JG_HEADER + body, True),
        "05.csv": (JG_HEADER + clean[0] + "\n" + clean[1], True),  # a blank line
        "06.csv": (JG_HEADER + body, False),  # no BOM: another preamble
        "07.csv": (JG_HEADER + body, False),
        "08.csv": ((JG_HEADER + body).replace(",", ";"), True),  # another delimiter
        "09.csv": (JG_HEADER + body, True),
        "10.csv": (JG_HEADER + body[:-1], True),  # no line end at its end
    }
    paths = [write(tmp_path / "in" / n, t, bom=bom) for n, (t, bom) in _mkdir(tmp_path, inputs)]
    together = file_reports(ingest(tmp_path / "a.duckdb", [str(p) for p in paths]).files)
    alone = list(read_alone)
    assert together == one_by_one(tmp_path / "b.duckdb", paths)
    assert stored(tmp_path / "a.duckdb") == stored(tmp_path / "b.duckdb")
    # the scenario: the open quote is rejected at its own line, the text after it kept
    assert [(r[0], r[5]) for r in together][2] == (8, 1)
    assert together[2][-4][0][0] == 3
    # 01 alone, then 02–05 one group whose text breaks (so each is read alone); 06 alone
    # (another preamble) and 07 joining it; 08 alone (another delimiter); 09 alone, 10 joining
    assert alone == ["01.csv", "02.csv", "03.csv", "04.csv", "05.csv", "06.csv", "08.csv", "09.csv"]


def _mkdir(tmp_path: Path, inputs: dict) -> list:
    (tmp_path / "in").mkdir(exist_ok=True)
    return list(inputs.items())


def test_each_member_decides_its_own_day_month_order(tmp_path: Path) -> None:
    """19/06/2025 settles one file as day-first, 06/19/2025 another as month-first: joined,
    the group cannot decide for them, so each file is read by its own rows."""

    def row(date: str, note: int) -> str:
        return jg_row(1, note).replace("2025-06-01", date, 1)

    dmy = write(
        tmp_path / "dmy.csv", JG_HEADER + row("19/06/2025", 0) + row("02/06/2025", 1), bom=True
    )
    mdy = write(
        tmp_path / "mdy.csv", JG_HEADER + row("06/19/2025", 2) + row("06/02/2025", 3), bom=True
    )
    dmy2 = write(
        tmp_path / "dmy2.csv", JG_HEADER + row("25/06/2025", 4) + row("03/06/2025", 5), bom=True
    )
    store = tmp_path / "s.duckdb"
    ingest(store, [str(dmy), str(mdy), str(dmy2)])
    assert rows(store, "SELECT note_id, date FROM juguang ORDER BY note_id") == [
        (NOTES[0], dt.date(2025, 6, 19)),
        (NOTES[1], dt.date(2025, 6, 2)),
        (NOTES[2], dt.date(2025, 6, 19)),
        (NOTES[3], dt.date(2025, 6, 2)),
        (NOTES[4], dt.date(2025, 6, 25)),
        (NOTES[5], dt.date(2025, 6, 3)),
    ]


# pyarrow decodes a ragged row's text before it calls the handler, and reports a row not in the
# encoding as an exception it ignores (the parse then fails, which is what is wanted here)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_member_that_cannot_be_read_stops_the_batch_by_its_own_name(tmp_path: Path) -> None:
    """A byte that is not UTF-8 in a member of a joined group: the error names that member
    and its line, as reading it alone does, and nothing is committed."""
    good = [write(tmp_path / f"g{i}.csv", JG_HEADER + jg_row(1, i), bom=True) for i in range(3)]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        b"\xef\xbb\xbf" + (JG_HEADER + jg_row(1, 4)).encode() + b"2025-06-02,\xff\xfe\n"
    )
    store = tmp_path / "s.duckdb"
    with pytest.raises(IngestError) as alone:
        ingest(tmp_path / "alone.duckdb", [str(bad)])
    with pytest.raises(IngestError) as batch:
        ingest(store, [*map(str, good), str(bad)])
    assert alone.value.message in batch.value.message
    assert "line 3" in alone.value.message
    assert "g0.csv, g1.csv, g2.csv" in batch.value.hint
    assert not store.exists()


@pytest.mark.parametrize("group_bytes", [150, 700])
def test_groups_of_any_size_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_bytes: int
) -> None:
    """Groups cut every few inputs (by their bytes) give what one group and one by one give."""
    monkeypatch.setattr(joined, "JOIN_GROUP_BYTES", group_bytes)
    paths = random_files(tmp_path / "in", 40, seed=8)
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in paths:
            z.write(p, p.name)
    together = file_reports(ingest(tmp_path / "a.duckdb", [str(archive)]).files)
    separate = one_by_one(tmp_path / "b.duckdb", paths)
    assert together == separate
    a, b = stored(tmp_path / "a.duckdb"), stored(tmp_path / "b.duckdb")
    assert [(r[0], *r[3:]) for r in a.pop("ingest_log")] == [
        (r[0], *r[3:]) for r in b.pop("ingest_log")
    ]
    assert a == b


def test_the_table_has_a_line_per_kind_past_fifty_files(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    """51 聚光 exports of 2 rows and one 星河 export: a line per kind with its files counted
    and their rows added up (a line per file would be 52 lines); 50 files: a line each."""
    from tests.test_ingest_many import XH_HEADER, xh_row

    folder = tmp_path / "in"
    folder.mkdir()
    paths = [
        write(
            folder / f"j{i:02d}.csv",
            JG_HEADER + jg_row(1 + i % 28, i % 8) + jg_row(2 + i % 27, i % 8),
            bom=True,
        )
        for i in range(51)
    ]
    paths.append(write(folder / "x.csv", XH_HEADER + xh_row(1, 0) + xh_row(1, 0)))
    store = str(tmp_path / "s.duckdb")
    out = run("ingest", "--store", store, *map(str, paths))
    assert out.exit_code == 0, out.output
    lines = [line.split() for line in out.stdout.splitlines()]
    assert ["51", "files", "juguang", "102"] == lines_of(lines, "juguang")[:4]
    assert ["1", "files", "xinghe", "2", "1", "0", "1", "0", "0"] == lines_of(lines, "xinghe")
    assert "52 files, one line per kind: --csv or --json lists every file" in out.stdout
    assert not any("j00.csv" in line for line in out.stdout.splitlines())
    few = run("ingest", "--store", str(tmp_path / "t.duckdb"), *map(str, paths[:50]))
    assert sum("juguang" in line for line in few.stdout.splitlines()) == 50


def lines_of(lines: list[list[str]], kind: str) -> list[str]:
    (line,) = [line for line in lines if kind in line]
    return line


@pytest.mark.parametrize("timestamps", [False, True])
def test_each_files_first_and_last_date_in_one_pass(timestamps: bool) -> None:
    """The date range of every file typed together, against each file's rows looked at
    alone with Python's min and max (files with no rows, and with only missing dates, have
    none)."""
    import random

    import pyarrow as pa

    from redcat_cli.ingest.prepare import _date_ranges

    class Kind:
        summary = {"date": "d"}

    rng = random.Random(4)
    day0 = dt.datetime(2025, 6, 1, 8, 30) if timestamps else dt.date(2025, 6, 1)
    sizes = [rng.choice([0, 0, 1, 3, 7]) for _ in range(40)] + [2]
    values = [
        None if rng.random() < 0.3 else day0 + dt.timedelta(days=rng.randrange(-400, 400))
        for _ in range(sum(sizes) - 2)
    ] + [None, None]  # the last file: missing dates only
    staged = pa.table({"d": pa.array(values, pa.timestamp("us") if timestamps else pa.date32())})
    bounds = [0]
    for n in sizes:
        bounds.append(bounds[-1] + n)
    expected = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        mine = [v for v in values[a:b] if v is not None]
        if timestamps:
            mine = [v.date() for v in mine]
        expected.append((min(mine), max(mine)) if mine else None)
    assert _date_ranges(Kind, staged, bounds) == expected
    assert expected[-1] is None and sum(e is None for e in expected) > 5
