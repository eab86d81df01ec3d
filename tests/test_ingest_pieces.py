"""Files read in pieces: the same rows, counts, rejects and stored values as a whole read."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

import redcat_cli.ingest.reader as reader
import redcat_cli.ingest.waiting as waiting
import redcat_cli.ingest.write as store_write
from redcat_cli.ingest.kinds import load_kinds
from redcat_cli.ingest.load import _KeyFilter, ingest
from redcat_cli.ingest.prepare import _whole_footers
from tests.conftest import dump, rows, write
from tests.test_ingest import counts

JG_HEADER = (
    "时间,笔记ID,笔记标题,计划名称,计划ID,消费,展现量,点击量,点赞,评论,收藏,关注,分享,互动量\n"
)
NOTES = [f"64f1a2b3000000001e03c{i:03x}" for i in range(8)]


def jg_row(day: int, note: int, spend: str = "10.00", imp: str = '"1,200"', plan: int = 101) -> str:
    return f"2025-06-{day:02d},{NOTES[note]},试色{note},计划A,{plan},{spend},{imp},30,1,2,3,0,1,7\n"


def messy_juguang(blank_line: bool = True) -> str:
    """60 data rows with the quirks a piece boundary could disturb (an empty line sends a file
    to the exact reader)."""
    lines = [JG_HEADER, "合计60条记录,-,-,-,-,600.00,-,-,-,-,-,-,-,-\n"]
    for i in range(52):
        day, note = 1 + i // 8, i % 8
        spend = ["10.00", "¥12.5元", "1.2万", "-", "abc", '"3,000.25"'][i % 6]
        imp = ['"1,200"', "1.5万", "-", "800", "10万+", "x"][i % 5]
        lines.append(jg_row(day, note, spend, imp))
    lines += [
        jg_row(1, 0, "10.00", '"1,200"'),  # line 55: duplicate of line 3
        jg_row(1, 2, "99.00", "800"),  # line 56: conflict with line 5
        "2025-06-09,,,,,,,,,,,,,\n",  # no note id: rejected
        "\n" if blank_line else ",,,,,,,,,,,,,\n",
        "合计,,,,,,,,,,,,,\n",
        jg_row(9, 7, "5.00", "1"),
        # footer: one cell after the data (without the commas: a row of the wrong width)
        "导出时间：2025-06-10\n" if blank_line else "导出时间：2025-06-10,,,,,,,,,,,,,\n",
        ",,,,,,,,,,,,,\n",
    ]
    return "".join(lines)


def stored(store: Path) -> dict[str, list[tuple]]:
    """The store without the times of the ingest log."""
    out = dump(store)
    out["ingest_log"] = [r[:14] + r[17:] for r in out["ingest_log"]]
    return out


def reports(files) -> list[tuple]:
    return [
        (
            *counts(f),
            f.values_lower_bound,
            f.sha256,
            [(r.line, r.reason, r.fields) for r in f.rejects],
        )
        for f in files
    ]


def both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: list[list[Path]], exported=()
):
    """Ingest the same files into a store read whole and one read in pieces of ~one row
    (the i-th ingest exported on ``exported[i]``, if given)."""
    out = []
    for piece in (1 << 30, 150):
        monkeypatch.setattr(reader, "PIECE", piece)
        store = tmp_path / f"store-{piece}.duckdb"
        reps = [
            reports(
                ingest(
                    store,
                    [str(p) for p in batch],
                    exported_on=exported[i] if exported else None,
                ).files
            )
            for i, batch in enumerate(files)
        ]
        out.append((reps, stored(store)))
    return out


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("slot_bits", [26, 1])
@pytest.mark.parametrize("blank_line", [False, True])
def test_pieces_give_what_a_whole_read_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blank_line: bool, slot_bits: int, split: bool
) -> None:
    """With 2 slots for keys, nearly every row of a later piece waits to be classified with
    the store at the end of the file: the result is the same. ``split``: the waiting rows
    are classified a part at a time (as those of a file of millions of rows are)."""
    monkeypatch.setattr(_KeyFilter, "BITS", slot_bits)
    groups: list[int] = []
    if split:
        monkeypatch.setattr(waiting, "GROUP_ROWS", 1)
        grouped = waiting._WaitingRows.groups
        monkeypatch.setattr(
            waiting._WaitingRows, "groups", lambda w: groups.append(len(grouped(w))) or grouped(w)
        )
    first = write(tmp_path / "聚光.csv", messy_juguang(blank_line), bom=True)
    later = messy_juguang(blank_line).replace("3,000.25", "3,000.50").replace("1.5万", "1.6万")
    second = write(tmp_path / "聚光2.csv", later, bom=True)
    # 聚光's outcomes mature: a later export's unchanged rows are re-dated, in pieces too
    (whole, whole_store), (pieces, piece_store) = both_ways(
        tmp_path,
        monkeypatch,
        [[first], [second], [first]],
        [dt.date(2025, 6, 20), dt.date(2025, 6, 25), dt.date(2025, 7, 30)],
    )
    assert pieces == whole
    assert piece_store == whole_store
    # the waiting rows were classified in several groups of parts (an empty line sends the
    # file to the exact reader: nothing waits)
    assert (max(groups, default=0) > 1) == (split and not blank_line)
    # the first file, worked out from the rows above: 55 rows of values, the two 合计 rows,
    # the footer; empty lines and rows of empty cells are not rows
    read, loaded, updated, dup, skipped, rejected, *_ = whole[0][0]
    assert read == 59
    assert skipped == (2 if blank_line else 3)  # the 合计 rows (and the footer)
    assert dup == 1  # line 55 repeats line 3
    reasons = {line: reason for line, reason, _ in whole[0][0][-1]}
    assert reasons[56].startswith("conflict: same key as line 5")
    assert reasons[57] == "笔记ID is empty"
    assert ("1 fields, the header has 14" in reasons.get(61, "")) == blank_line
    assert read == loaded + updated + dup + skipped + rejected
    # the second file changes the rows of 3,000.25 and 1.5万 (the two are never in one row
    # with another bad value): updated, the rest duplicates
    _, loaded2, updated2, dup2, *_ = whole[1][0]
    assert loaded2 == 0 and updated2 > 0 and dup2 > 0
    redated = rows(
        tmp_path / "store-150.duckdb",
        "SELECT count(*) FROM juguang_history WHERE _superseded_by = 3",
    )[0][0]
    # every row of the third ingest that was stored already went to history: updated back,
    # or re-dated (all its duplicates but line 55, a duplicate within the file)
    assert redated == whole[2][0][2] + whole[2][0][3] - 1


@pytest.mark.parametrize("diff_bits", [62, 1])
def test_an_update_writes_the_columns_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, diff_bits: int
) -> None:
    """Which columns an update changes comes from the classifying join's difference mask, or
    (past DIFF_BITS fields) from comparing the rows again: the same values either way."""
    monkeypatch.setattr(store_write, "DIFF_BITS", diff_bits)
    store = tmp_path / "s.duckdb"
    ingest(store, [str(write(tmp_path / "a.csv", JG_HEADER + jg_row(1, 0) + jg_row(1, 1)))])
    later = JG_HEADER + jg_row(1, 0, spend="12.50") + jg_row(1, 1, imp="1.5万")
    (res,) = ingest(store, [str(write(tmp_path / "b.csv", later))]).files
    assert (res.rows_updated, res.rows_loaded, res.rows_duplicate) == (2, 0, 0)
    got = rows(store, "SELECT note_id, spend, impressions, _line FROM juguang ORDER BY note_id")
    assert got == [(NOTES[0], Decimal("12.5"), 1200, 2), (NOTES[1], Decimal("10"), 15000, 3)]
    old = rows(store, "SELECT note_id, spend, impressions FROM juguang_history ORDER BY 1")
    assert old == [(NOTES[0], Decimal("10"), 1200), (NOTES[1], Decimal("10"), 1200)]


def test_waiting_keys_that_share_a_hash_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's 64-bit hash gives the keys of these two 聚光 rows one value. Every row waits
    (2 slots); the two that share a hash are compared by their keys: both are loaded, and a
    true repeat of one is still found a duplicate."""
    import duckdb

    twins = [("6700005e000000000100005e", 1006), ("6700305e000000000100305e", 1002)]
    keys = [f"default\x1f2025-01-12\x1f{n}\x1f{p}\x1f\x1f\x1f" for n, p in twins]
    (h1, h2), *_ = duckdb.sql(f"SELECT hash('{keys[0]}'), hash('{keys[1]}')").fetchall()
    assert h1 == h2
    monkeypatch.setattr(_KeyFilter, "BITS", 1)
    monkeypatch.setattr(reader, "PIECE", 150)
    told: list[tuple[int, bool]] = []
    distinct = waiting._WaitingRows.distinct
    monkeypatch.setattr(
        waiting._WaitingRows,
        "distinct",
        lambda w, con, r, sh: told.append((len(sh), distinct(w, con, r, sh))) or told[-1][1],
    )
    rows_ = [
        f"2025-01-{d:02d},{NOTES[d % 8]},t,计划A,{100 + d},1.00,1,1,1,1,1,1,1,1\n"
        for d in range(1, 9)
    ]
    twin_rows = [f"2025-01-12,{n},t,计划B,{p},2.00,2,2,2,2,2,2,2,2\n" for n, p in twins]
    text = JG_HEADER + "".join(rows_[:4] + twin_rows + rows_[4:])
    (res,) = ingest(tmp_path / "a.duckdb", [str(write(tmp_path / "a.csv", text))]).files
    assert (res.rows_loaded, res.rows_duplicate) == (10, 0) and told == [(1, True)]
    told.clear()
    (res,) = ingest(
        tmp_path / "b.duckdb", [str(write(tmp_path / "b.csv", text + twin_rows[0]))]
    ).files
    assert (res.rows_loaded, res.rows_duplicate) == (10, 1) and told == [(1, False)]
    stored_twins = rows(
        tmp_path / "b.duckdb", "SELECT note_id FROM juguang WHERE plan_name = '计划B'"
    )
    assert sorted(stored_twins) == [(twins[0][0],), (twins[1][0],)]


def test_waiting_rows_leave_no_scratch_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows that wait for the end of the file (here every row of a re-ingest) sit in a
    scratch folder beside the store while they are classified; it is gone after the ingest,
    and after one that fails once rows waited (a byte that is not UTF-8 in the last row)."""
    from redcat_cli.errors import IngestError

    monkeypatch.setattr(reader, "PIECE", 1 << 16)
    folder = tmp_path / "store"
    folder.mkdir()
    scratch: list[int] = []
    read = waiting._WaitingRows.read
    monkeypatch.setattr(
        waiting._WaitingRows,
        "read",
        lambda w, g: (
            scratch.append(len(list(folder.glob(".redcat-waiting-*/*.arrow")))) or read(w, g)
        ),
    )
    added: list[int] = []
    add = waiting._WaitingRows.add
    monkeypatch.setattr(waiting._WaitingRows, "add", lambda w, *a: added.append(1) or add(w, *a))
    # 15,000 rows (1.3 MB: past the 1 MiB head read whole), each key once
    body = "".join(
        f"2025-06-{1 + i % 30:02d},{i:024x},t,计划A,{101 + i % 7},10.00,1,1,1,1,1,1,1,1\n"
        for i in range(15_000)
    )
    text = JG_HEADER + body
    ingest(folder / "s.duckdb", [str(write(tmp_path / "a.csv", text, bom=True))])
    (again,) = ingest(folder / "s.duckdb", [str(write(tmp_path / "a2.csv", text, bom=True))]).files
    assert again.rows_duplicate == 15_000  # every row waited, in the 16 parts
    assert scratch and scratch[-1] == waiting.PARTS
    assert not list(folder.glob(".redcat-*"))
    names = sorted(p.name for p in folder.iterdir())
    before = dump(folder / "s.duckdb")
    bad = tmp_path / "b.csv"
    data = text.replace("10.00", "10.50").encode()
    cut = data.rindex(b",t,")  # the last row's title: a byte that is not UTF-8
    bad.write_bytes(b"\xef\xbb\xbf" + data[:cut] + b",t\xff," + data[cut + 3 :])
    added.clear()
    with pytest.raises(IngestError, match="cannot be read"):
        ingest(folder / "s.duckdb", [str(bad)])
    assert added  # rows waited before the bad byte was met
    assert sorted(p.name for p in folder.iterdir()) == names
    assert dump(folder / "s.duckdb") == before


def test_key_filter_flags_the_keys_that_may_be_known() -> None:
    """A key is maybe-known when its slot (the top bits of its hash) was marked by an earlier
    batch, or another key of its batch has the slot: both rows, not only the later one."""
    import numpy as np

    keys = _KeyFilter.__new__(_KeyFilter)  # without a store: no stored keys
    keys.slots = np.zeros(1 << _KeyFilter.BITS, dtype=bool)

    def hashes(*slots_low: tuple[int, int]) -> np.ndarray:
        shift = 64 - _KeyFilter.BITS
        return np.array([(s << shift) + low for s, low in slots_low], dtype=np.uint64)

    first = keys.maybe_known(hashes((1, 0), (2, 0), (1, 5), (3, 0), (7, 1), (7, 2), (7, 3)))
    assert first.tolist() == [True, False, True, False, True, True, True]
    assert keys.maybe_known(hashes((2, 9), (4, 0), (3, 1))).tolist() == [True, False, True]


def test_key_hashes_come_in_the_rows_order() -> None:
    """The hashes line up with the rows of a batch of several row groups, as an ORDER BY
    would put them (a parallel scan that lost the order would flag the wrong rows)."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    n = 400_000
    keys = pa.array([f"default\x1f2025-06-{i % 30 + 1:02d}\x1f{i * 7919:x}" for i in range(n)])
    staged = pa.table({"_key": keys, "_line": pa.array(np.arange(2, n + 2), pa.int64())})
    con = duckdb.connect()
    got = store_write._key_hashes(con, staged)
    redcat_sorted = staged  # noqa: F841
    want = con.execute("SELECT hash(_key) AS h FROM redcat_sorted ORDER BY _line").fetchnumpy()
    assert np.array_equal(got, want["h"])


def test_new_rows_go_in_whole_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The surely-new rows of a piece wait for the next piece's to fill two row groups (a
    small group after every piece made the commit rewrite the store): every INSERT of them
    but the last holds pairs of whole row groups in one chunk, and the store is the one a
    whole read makes."""
    monkeypatch.setattr(store_write, "ROW_GROUP", 4)
    sizes: list[int] = []
    chunks: list[int] = []
    insert = store_write._insert_rows

    def counted(con, kind, src: str, anti: str = "") -> None:
        if src == "redcat_new":  # the appender's table, read by name from its frame
            table = sys._getframe(1).f_locals["redcat_new"]
            sizes.append(table.num_rows)
            chunks.append(max(c.num_chunks for c in table.columns))
        insert(con, kind, src, anti)

    monkeypatch.setattr(store_write, "_insert_rows", counted)
    path = write(tmp_path / "聚光.csv", messy_juguang(blank_line=False), bom=True)
    (whole, whole_store), (pieces, piece_store) = both_ways(tmp_path, monkeypatch, [[path]])
    assert pieces == whole and piece_store == whole_store
    assert len(sizes) > 3
    assert all(n % 8 == 0 for n in sizes[:-1]) and 0 < sizes[-1] and set(chunks) == {1}
    # the rows not inserted here wait for the end of the file: a repeat of a key in the file
    # (a duplicate, two conflicts), or a key sharing a slot of the key filter with another
    assert sum(sizes) <= whole[0][0][1]


def test_a_piece_goes_on_before_the_next_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A piece that ends before the file does is passed on at once (its write overlaps the
    next piece's parse); only the trailing rows that could be a footer wait for the next."""
    monkeypatch.setattr(reader, "PIECE", 200)
    path = write(tmp_path / "聚光.csv", messy_juguang(blank_line=False), bom=True)
    (src,) = reader.open_inputs(str(path))
    raw = reader.read_source(src, load_kinds())
    go_on = threading.Event()  # the second piece is held back until the first part is out
    waited: list[bool] = []

    def held_back(batches):
        for i, b in enumerate(batches):
            if i == 1:
                waited.append(go_on.wait(timeout=10))
            yield b

    raw.batches = held_back(raw.batches)
    parts = _whole_footers(raw)
    first = next(parts)
    go_on.set()
    assert not first.final and first.columns.num_rows
    rest = list(parts)
    assert waited == [True]  # the first part did not wait for the second piece
    assert len(rest) > 3 and rest[-1].final and not any(p.final for p in rest[:-1])
    lines = [int(n) for p in [first, *rest] for n in p.lines]
    assert lines == sorted(set(lines))  # each row once, in file order
    # the file ends with its footer (the export time, a row of empty cells), judged in the last
    assert list(rest[-1].lines[-2:]) == [61, 62] and 60 in lines


def test_a_small_first_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first piece is smaller than the others (the store's first write begins sooner):
    the first batch holds fewer rows, and the store is the one a whole read makes."""
    import redcat_cli.ingest.csvsplit as csvsplit

    monkeypatch.setattr(csvsplit, "FIRST_PIECE", 120)
    path = write(tmp_path / "聚光.csv", messy_juguang(blank_line=False), bom=True)
    monkeypatch.setattr(reader, "PIECE", 600)
    (src,) = reader.open_inputs(str(path))
    sizes = [b.columns.num_rows for b in reader.read_source(src, load_kinds()).batches]
    assert len(sizes) > 2 and sizes[0] < sizes[1] / 2
    (whole, whole_store), (pieces, piece_store) = both_ways(tmp_path, monkeypatch, [[path]])
    assert pieces == whole and piece_store == whole_store


def test_gb18030_cut_between_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,宝贝标题\n"
    body = "".join(
        f'="3190000000000{i:06d}",买家{i}号,{i}.50,交易成功,2025-06-01 10:{i % 60:02d}:00,丝绒雾面口红·{i}\n'
        for i in range(40)
    )
    path = write(tmp_path / "订单.csv", head + body, encoding="gb18030")
    (whole, whole_store), (pieces, piece_store) = both_ways(tmp_path, monkeypatch, [[path]])
    assert pieces == whole and piece_store == whole_store
    assert whole[0][0][:6] == (40, 40, 0, 0, 0, 0)
    titles = rows(tmp_path / "store-150.duckdb", "SELECT title FROM qianniu ORDER BY order_id")
    assert titles[39] == ("丝绒雾面口红·39",)


def test_gb18030_in_small_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow decodes GB18030 pieces block by block (1 MiB; here 65,537 bytes, so blocks
    end inside characters and rows): every title comes out as Python's codec and csv module
    read it from the whole file."""
    import csv
    import io

    from redcat_cli.ingest import csvsplit

    monkeypatch.setattr(csvsplit, "TRANSCODED_BLOCK", 65_537)
    monkeypatch.setattr(reader, "PIECE", 3 << 19)  # 1.5 MiB: past the one-block size
    head = "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,宝贝标题\n"
    body = "".join(
        f'="3190000000{i:09d}",买家{i}号,{i % 997}.50,交易成功,2025-06-01 10:{i % 60:02d}:00,'
        f"{'丝绒雾面口红·' * (1 + i % 5)}{i}\n"
        for i in range(30_000)
    )
    path = write(tmp_path / "订单.csv", head + body, encoding="gb18030")
    assert path.stat().st_size > 2 << 20
    (res,) = ingest(tmp_path / "s.duckdb", [str(path)]).files
    assert (res.rows_read, res.rows_loaded) == (30_000, 30_000)
    want = [r[5] for r in csv.reader(io.StringIO(path.read_bytes().decode("gb18030")))][1:]
    got = rows(tmp_path / "s.duckdb", "SELECT title FROM qianniu ORDER BY order_id")
    assert [t for (t,) in got] == want


def two_rows_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding notes 0 and 1 of 2025-06-01 at 10.00; files then read ~a row a piece."""
    monkeypatch.setattr(reader, "PIECE", 100)
    store = tmp_path / "s.duckdb"
    write(tmp_path / "a.csv", JG_HEADER + jg_row(1, 0) + jg_row(1, 1), bom=True)
    ingest(store, [str(tmp_path / "a.csv")])
    return store


def test_keys_repeated_in_later_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key seen in an earlier piece is a duplicate or a conflict, whether that earlier row
    was new, an update, or a duplicate of the store."""
    store = two_rows_stored(tmp_path, monkeypatch)
    text = (
        JG_HEADER
        + jg_row(1, 0)  # line 2: a duplicate of the store
        + jg_row(1, 1, "20.00")  # line 3: an update
        + jg_row(1, 2)  # line 4: new
        + jg_row(2, 0)  # line 5: new
        + jg_row(1, 0, "30.00")  # line 6: conflicts with line 2
        + jg_row(1, 1, "20.00")  # line 7: duplicate of line 3
        + jg_row(1, 2, "40.00")  # line 8: conflicts with line 4
        + jg_row(1, 0)  # line 9: duplicate of line 2
        + jg_row(1, 1, "50.00")  # line 10: conflicts with line 3
    )
    (f,) = ingest(store, [str(write(tmp_path / "b.csv", text, bom=True))]).files
    assert (f.rows_read, f.rows_loaded, f.rows_updated, f.rows_duplicate, f.rows_rejected) == (
        9,
        2,
        1,
        3,
        3,
    )
    assert [(r.line, r.reason.split(" with")[0]) for r in f.rejects] == [
        (6, "conflict: same key as line 2"),
        (8, "conflict: same key as line 4"),
        (10, "conflict: same key as line 3"),
    ]
    assert f.rejects[0].fields[5] == "30.00"  # the row as the file wrote it
    spend = rows(store, "SELECT note_id, date, spend FROM juguang ORDER BY note_id, date")
    assert spend == [
        (NOTES[0], dt.date(2025, 6, 1), Decimal("10.0000")),
        (NOTES[0], dt.date(2025, 6, 2), Decimal("10.0000")),
        (NOTES[1], dt.date(2025, 6, 1), Decimal("20.0000")),
        (NOTES[2], dt.date(2025, 6, 1), Decimal("10.0000")),
    ]
    assert rows(store, "SELECT note_id, spend FROM juguang_history") == [
        (NOTES[1], Decimal("10.0000"))
    ]


def test_late_ragged_row_undoes_the_pieces_and_reads_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row of the wrong width far down: what the earlier pieces wrote (new rows, updates
    with their history) is taken back and the file read whole, the bad row rejected."""
    store = two_rows_stored(tmp_path, monkeypatch)
    text = (
        JG_HEADER
        + jg_row(1, 0, "11.00")  # line 2: an update
        + jg_row(1, 2)  # line 3: new
        + "".join(jg_row(3, n) for n in range(8))  # lines 4-11
        + "2025-06-04,too,few,fields\n"  # line 12
        + jg_row(5, 1)  # line 13
    )
    (f,) = ingest(store, [str(write(tmp_path / "b.csv", text, bom=True))]).files
    assert (f.rows_read, f.rows_loaded, f.rows_updated, f.rows_rejected) == (12, 10, 1, 1)
    assert f.rejects[0].line == 12 and "4 fields, the header has 14" in f.rejects[0].reason
    assert rows(store, "SELECT count(*) FROM juguang") == [(12,)]
    assert rows(store, "SELECT note_id, spend, _superseded_by FROM juguang_history") == [
        (NOTES[0], Decimal("10.0000"), f.ingest_id)
    ]


def test_day_month_order_settled_in_a_later_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "PIECE", 100)
    store = tmp_path / "s.duckdb"
    body = "".join(
        jg_row(1, 0).replace("2025-06-01", f"{d}/06/2025").replace(NOTES[0], NOTES[d % 8])
        for d in range(1, 15)
    )
    (f,) = ingest(store, [str(write(tmp_path / "d.csv", JG_HEADER + body, bom=True))]).files
    assert f.rows_loaded == 14
    assert rows(store, "SELECT min(date), max(date) FROM juguang") == [
        (dt.date(2025, 6, 1), dt.date(2025, 6, 14))
    ]


def test_progress_moves_while_a_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "PIECE", 200)
    path = write(tmp_path / "聚光.csv", messy_juguang(blank_line=False), bom=True)
    seen: list[tuple] = []
    ingest(tmp_path / "s.duckdb", [str(path)], progress=lambda *a: seen.append(a))
    done = [a[2] for a in seen if a[0] == "store"]
    assert seen[0] == ("read", str(path))
    assert len(done) > 5 and done == sorted(done) and done[0] < path.stat().st_size
    assert done[-1] == path.stat().st_size


def test_rows_updated_in_different_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the columns some updated row changes are written, each row taking its own
    values: one row's new spend, another's new impressions, a third changed to no value."""
    store = two_rows_stored(tmp_path, monkeypatch)
    write(tmp_path / "more.csv", JG_HEADER + jg_row(1, 2), bom=True)
    ingest(store, [str(tmp_path / "more.csv")])
    text = JG_HEADER + jg_row(1, 0, "20.00") + jg_row(1, 1, imp="1500") + jg_row(1, 2, imp="-")
    (f,) = ingest(store, [str(write(tmp_path / "b.csv", text, bom=True))]).files
    assert (f.rows_read, f.rows_updated, f.rows_loaded) == (3, 3, 0)
    assert rows(store, "SELECT note_id, spend, impressions, _line FROM juguang ORDER BY 1") == [
        (NOTES[0], Decimal("20.0000"), 1200, 2),
        (NOTES[1], Decimal("10.0000"), 1500, 3),
        (NOTES[2], Decimal("10.0000"), None, 4),
    ]
    assert rows(store, "SELECT note_id, spend, impressions FROM juguang_history ORDER BY 1") == [
        (NOTES[0], Decimal("10.0000"), 1200),
        (NOTES[1], Decimal("10.0000"), 1200),
        (NOTES[2], Decimal("10.0000"), 1200),
    ]
    ids = rows(store, "SELECT DISTINCT _ingest_id FROM juguang")
    assert ids == [(f.ingest_id,)]
