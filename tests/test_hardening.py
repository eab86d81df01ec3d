"""Hostile input and a hostile machine: nothing lost, nothing silently changed, every fault in
words. One section per class of fault."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from redcat_cli.errors import IngestError, UsageError
from redcat_cli.ingest.load import ingest
from redcat_cli.ingest.values import parse_column, parse_datetime
from tests.conftest import DATA, dump, rows, write

REPO = Path(__file__).resolve().parents[1]
QIANNIU_HEAD = "订单编号,买家实际支付金额,订单状态,订单创建时间,订单付款时间,退款金额\n"


def redcat(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """The installed command in a process of its own."""
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full.pop("REDCAT_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "redcat_cli", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=REPO,
        timeout=timeout,
    )


# --- 1. the store's life: creation, races, foreign files -------------------------------------


RACE_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.005)
    from redcat_cli.cli import main
    main(["ingest", "-q", "--store", sys.argv[2], *sys.argv[3:]])
    """
)


def _qianniu(path: Path, first_id: int, n: int) -> Path:
    lines = [
        f'="{first_id + i}",{10 + (first_id + i) % 7}.50,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00,0\n'
        for i in range(n)
    ]
    return write(path, QIANNIU_HEAD + "".join(lines))


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_first_ingests_never_lose_a_commit(tmp_path: Path, trial: int) -> None:
    """Two processes start on a store that does not exist yet; one fails after reading a big
    file. The other's commit must survive, whatever the order (they take turns)."""
    store = tmp_path / "new.duckdb"
    go = tmp_path / "go"
    big = _qianniu(tmp_path / "big.csv", 10**15, 20_000)
    good = _qianniu(tmp_path / "good.csv", 2 * 10**15, 300)
    bad = write(tmp_path / "bad.csv", "foo,bar\n1,2\n")
    env = {**os.environ, "REDCAT_LOCK_TIMEOUT": "60"}
    failing = subprocess.Popen(
        [sys.executable, "-c", RACE_SCRIPT, str(go), str(store), str(big), str(bad)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    winning = subprocess.Popen(
        [sys.executable, "-c", RACE_SCRIPT, str(go), str(store), str(good)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    go.touch()
    _, err_fail = failing.communicate(timeout=120)
    _, err_win = winning.communicate(timeout=120)
    assert failing.returncode == 1, err_fail
    assert "not recognised" in err_fail
    assert winning.returncode == 0, err_win
    got = rows(store, "SELECT count(*), min(order_id), max(order_id) FROM qianniu")
    assert got == [(300, str(2 * 10**15), str(2 * 10**15 + 299))]
    assert not list(tmp_path.glob(".redcat-*"))  # no temporary store left behind


def test_two_first_ingests_both_commit(tmp_path: Path) -> None:
    store = tmp_path / "new.duckdb"
    go = tmp_path / "go"
    a = _qianniu(tmp_path / "a.csv", 10**15, 5_000)
    b = _qianniu(tmp_path / "b.csv", 10**15 + 4_000, 2_000)  # 1,000 rows in common
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_SCRIPT, str(go), str(store), str(f)],
            cwd=REPO,
            env={**os.environ, "REDCAT_LOCK_TIMEOUT": "60"},  # the suite's 2 s is for waits
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in (a, b)
    ]
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert rows(store, "SELECT count(*) FROM qianniu") == [(6_000,)]
    # the second to commit saw the first's rows: 1,000 duplicates between them
    log = rows(store, "SELECT sum(rows_loaded), sum(rows_duplicate) FROM ingest_log")
    assert log == [(6_000, 1_000)]


def test_killed_first_ingest_leaves_no_store(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    script = textwrap.dedent(
        f"""
        import os, signal
        import redcat_cli.ingest.load as mod
        real = mod._upsert
        def killing(*a, **k):
            real(*a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        mod._upsert = killing
        mod.ingest({str(store)!r}, [{str(DATA / "xinghe_v1.csv")!r}])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO)
    assert proc.returncode == -9
    assert not store.exists()
    assert list(tmp_path.glob(".redcat-*.creating"))  # the killed process's temporary file
    ingest(store, [str(DATA / "juguang_notes.csv")])  # the next creator removes it
    assert not list(tmp_path.glob(".redcat-*"))
    assert rows(store, "SELECT count(*) FROM juguang") == [(3,)]


def test_a_failure_never_removes_an_existing_store(store: Path, tmp_path: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    before = dump(store)
    bad = write(tmp_path / "x.csv", "foo,bar\n1,2\n")
    with pytest.raises(Exception, match="not recognised"):
        ingest(store, [str(DATA / "xinghe_v1.csv"), str(bad)])
    assert dump(store) == before


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", str(DATA / "juguang_notes.csv")],
        ["status"],
        ["attribute"],
        ["settle", "--contract", str(REPO / "configs" / "contracts" / "example.yaml")],
        ["report", "--out", "REPORT"],
    ],
)
def test_a_foreign_duckdb_file_is_refused_by_every_command(
    run, tmp_path: Path, command: list[str]
) -> None:
    import duckdb

    foreign = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'a')")
    con.close()
    before = dump(foreign)
    args = [str(tmp_path / "r.html") if a == "REPORT" else a for a in command]
    res = run(*args, "--store", str(foreign))
    assert res.exit_code == 1, res.output
    assert "not a redcat store" in res.stderr
    assert dump(foreign) == before


def test_a_damaged_store_is_an_error_in_words(run, store: Path, tmp_path: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv"), str(DATA / "xinghe_v1.csv")])
    size = store.stat().st_size
    with store.open("r+b") as fh:
        fh.truncate(size // 2)
    damaged = store.read_bytes()
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(bytes(range(256)) * 400)
    for path in (store, junk):
        for args in (["status"], ["ingest", str(DATA / "xinghe_v2.csv")], ["attribute"]):
            res = run(*args, "--store", str(path))
            assert res.exit_code == 1, (path, args, res.stderr)
            assert res.stderr.startswith("Error: ") and "bug" not in res.stderr
    assert store.read_bytes() == damaged


def test_bad_lock_timeout_is_a_usage_error(run, store: Path, monkeypatch) -> None:
    monkeypatch.setenv("REDCAT_LOCK_TIMEOUT", "abc")
    res = run("ingest", "--store", str(store), str(DATA / "juguang_notes.csv"))
    assert res.exit_code == 2
    assert "REDCAT_LOCK_TIMEOUT must be a number of seconds, not 'abc'" in res.stderr
    monkeypatch.setenv("REDCAT_LOCK_TIMEOUT", "-1")
    with pytest.raises(UsageError):
        ingest(store, [str(DATA / "juguang_notes.csv")])
    assert not store.exists()


def test_a_reader_waits_for_a_writer_and_says_so(store: Path, tmp_path: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,os,time; c=duckdb.connect({str(store)!r}); print('ok', flush=True)\n"
            f"while not os.path.exists({str(release)!r}): time.sleep(0.05)\nc.close()",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"ok"
        reader = subprocess.Popen(
            [sys.executable, "-m", "redcat_cli", "status", "--store", str(store), "--json"],
            cwd=REPO,
            env={**os.environ, "REDCAT_LOCK_TIMEOUT": "60"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = reader.stderr.readline()  # printed after 2 s of waiting
        release.touch()
        out, rest = reader.communicate(timeout=60)
    finally:
        release.touch()
        holder.wait()
    assert first.startswith(f"waiting for store {store}: in use by another redcat process")
    assert reader.returncode == 0, rest
    assert '"juguang"' in out


# --- 2. the reader: line ends, quotes, field sizes, encodings --------------------------------

ADDR_HEAD = "订单编号,买家实际支付金额,订单状态,订单创建时间,收货地址,退款金额\n"


def _orders(n: int, addr: dict[int, str] | None = None) -> list[str]:
    """n 千牛 rows with ids 5000.. and amounts 1.00, 2.00, …; ``addr`` replaces addresses."""
    addr = addr or {}
    return [
        f'="{5000 + i}",{i + 1}.00,交易成功,2025-06-01 10:00:00,{addr.get(i, "上海市浦东新区")},0\n'
        for i in range(n)
    ]


def _loaded(store: Path) -> list[tuple]:
    return rows(store, "SELECT order_id, paid_amount FROM qianniu ORDER BY order_id")


def _expected(n: int, skip: set[int] = frozenset()) -> list[tuple]:
    return [(str(5000 + i), Decimal(i + 1)) for i in range(n) if i not in skip]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_convention(store: Path, tmp_path: Path, end: str) -> None:
    text = (ADDR_HEAD + "".join(_orders(30))).replace("\n", end)
    (f,) = ingest(store, [str(write(tmp_path / "o.csv", text))]).files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (30, 30, 0)
    assert _loaded(store) == _expected(30)
    assert rows(store, "SELECT max(_line) FROM qianniu") == [(31,)]


def test_mixed_line_ends_and_a_real_multiline_cell(store: Path, tmp_path: Path) -> None:
    lines = _orders(12, {4: '"上海市\r\n浦东新区"', 0: '"第一行\n第二行"'})
    text = ADDR_HEAD + "".join(
        line.replace("\n", "\r\n") if i % 2 else line for i, line in enumerate(lines)
    )
    (f,) = ingest(store, [str(write(tmp_path / "o.csv", text))]).files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (12, 12, 0)
    got = rows(store, "SELECT order_id, _line FROM qianniu ORDER BY order_id")
    # row 0 takes lines 2-3, row 4 lines 7-8: the rows after them are one line further down
    assert got == [(str(5000 + i), i + 2 + (i > 0) + (i > 4)) for i in range(12)]


@pytest.mark.parametrize("where", [3, 0, 59], ids=["middle", "first", "last"])
def test_a_stray_quote_rejects_its_row_and_swallows_nothing(
    store: Path, tmp_path: Path, where: int
) -> None:
    text = ADDR_HEAD + "".join(_orders(60, {where: '"上海市浦东新区'}))
    (f,) = ingest(store, [str(write(tmp_path / "o.csv", text))]).files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (60, 59, 1)
    (rej,) = f.rejects
    assert rej.line == where + 2
    assert rej.reason.startswith("a quote opened on this line is never closed")
    assert _loaded(store) == _expected(60, {where})


def test_a_stray_quote_then_a_closing_one_later(store: Path, tmp_path: Path) -> None:
    """A quote opened in row 10 and one 'closed' in row 30's address: the 20 rows between are
    whole rows, not one cell."""
    text = ADDR_HEAD + "".join(_orders(40, {10: '"上海', 30: '浦东"'}))
    (f,) = ingest(store, [str(write(tmp_path / "o.csv", text))]).files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (40, 39, 1)
    assert [r.line for r in f.rejects] == [12]
    assert _loaded(store) == _expected(40, {10})


@pytest.mark.parametrize(
    "cell", ['"="5002",', '=5002",', '="5002"",', '5002",'], ids=["open", "eq", "doubled", "tail"]
)
def test_ids_with_stray_quotes_are_rejected(store: Path, tmp_path: Path, cell: str) -> None:
    lines = _orders(5)
    lines[2] = cell + lines[2].split(",", 1)[1]
    (f,) = ingest(store, [str(write(tmp_path / "o.csv", ADDR_HEAD + "".join(lines)))]).files
    assert f.rows_rejected == 1 and f.rows_loaded == 4
    assert "stray quote" in f.rejects[0].reason or "quote opened" in f.rejects[0].reason
    assert rows(store, """SELECT count(*) FROM qianniu WHERE order_id LIKE '%"%'""") == [(0,)]


def test_a_field_over_the_size_limit_rejects_its_row(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    import redcat_cli.ingest.reader as reader

    old = csv.field_size_limit(4096)
    monkeypatch.setattr(reader, "FIELD_LIMIT", 4096)
    try:
        big = '"' + "长" * 5000 + '"'
        # a multi-line cell in row 0 sends the file down the exact path, where the limit is
        text = ADDR_HEAD + "".join(_orders(8, {0: '"a\nb"', 5: big, 2: '"' + "短" * 3000 + '"'}))
        (f,) = ingest(store, [str(write(tmp_path / "o.csv", text))]).files
    finally:
        csv.field_size_limit(old)
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (8, 7, 1)
    assert f.rejects[0].line == 8 and "a field longer than" in f.rejects[0].reason
    assert _loaded(store) == _expected(8, {5})


def test_a_bad_byte_in_a_utf8_file_names_its_line_and_the_encoding(
    store: Path, tmp_path: Path
) -> None:
    data = (ADDR_HEAD + "".join(_orders(10))).encode("utf-8")
    at = data.index(b"5006")
    p = tmp_path / "o.csv"
    p.write_bytes(data[:at] + b"\xff" + data[at:])
    with pytest.raises(IngestError, match=r"line 8 \(byte [\d,]+\) cannot be read as utf-8"):
        ingest(store, [str(p)])
    gbk = write(tmp_path / "g.csv", ADDR_HEAD + "".join(_orders(3)), encoding="gb18030")
    with pytest.raises(IngestError, match=r"line 1 \(byte 0\) cannot be read as utf-8"):
        ingest(store, [str(gbk)], encoding="utf-8")
    assert not store.exists()


@pytest.mark.parametrize(
    ("codec", "forced", "label"),
    [
        ("utf-16", None, "utf-16"),  # with a BOM: Excel's "Unicode Text"
        ("utf-16-le", None, "utf-16-le"),
        ("utf-16-be", None, "utf-16-be"),
        ("utf-16-le", "utf-16-le", "utf-16-le"),
    ],
)
def test_utf16_tab_separated_unicode_text(
    store: Path, tmp_path: Path, codec: str, forced: str | None, label: str
) -> None:
    text = (ADDR_HEAD + "".join(_orders(20, {3: '"多行\r\n地址"'}))).replace(",", "\t")
    p = tmp_path / "o.txt"
    p.write_bytes(text.replace("\n", "\r\n").encode(codec))
    (f,) = ingest(store, [str(p)], encoding=forced).files
    assert f.encoding == label
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (20, 20, 0)
    assert _loaded(store) == _expected(20)


# --- 3. values: strict dates, one bad value rejects its row, no impossible money -----------


def _valid(y: int, m: int, d: int, hh: int, mm: int, ss: int) -> bool:
    return (
        1 <= y
        and 1 <= m <= 12
        and 1 <= d <= calendar.monthrange(y, m)[1]
        and hh < 24
        and mm < 60
        and ss < 60
    )


CANDIDATES = [
    (y, m, d, hh, mm, ss)
    for y in (2024, 2025)
    for m in (1, 2, 4, 6, 12)
    for d in (0, 1, 28, 29, 30, 31, 32)
    for hh, mm, ss in ((0, 0, 0), (23, 59, 59), (24, 0, 0), (10, 60, 0), (10, 0, 60))
] + [(0, 0, 0, 0, 0, 0), (0, 1, 1, 0, 0, 0)]


@pytest.mark.parametrize("with_missing", [False, True])
def test_date_times_never_roll_over(with_missing: bool) -> None:
    texts = [
        f"{y:04d}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}" for y, m, d, hh, mm, ss in CANDIDATES
    ]
    if with_missing:
        texts.append("-")
    res = parse_column(pa.array(texts), "datetime")
    values = res.values.to_pylist()
    for i, parts in enumerate(CANDIDATES):
        if _valid(*parts):
            assert values[i] == dt.datetime(*parts), texts[i]
            assert i not in res.errors
        else:
            assert values[i] is None, texts[i]
            assert "not a valid date" in res.errors[i]
            with pytest.raises(ValueError):
                parse_datetime(texts[i])


@pytest.mark.parametrize("with_missing", [False, True])
def test_dates_never_roll_over(with_missing: bool) -> None:
    days = sorted({p[:3] for p in CANDIDATES})
    texts = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in days] + (["—"] if with_missing else [])
    res = parse_column(pa.array(texts), "date")
    values = res.values.to_pylist()
    for i, (y, m, d) in enumerate(days):
        if _valid(y, m, d, 0, 0, 0):
            assert values[i] == dt.date(y, m, d)
        else:
            assert values[i] is None and "not a valid date" in res.errors[i], texts[i]


def test_one_bad_date_rejects_its_row_not_the_file(store: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "订单.csv",
        QIANNIU_HEAD
        + '="1001",10.00,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00,0\n'
        + '="1002",10.00,交易成功,0000-00-00 00:00:00,2025-06-01 10:01:00,0\n'
        + '="1003",10.00,交易成功,2025-06-01 24:00:00,2025-06-01 10:01:00,0\n'
        + '="1004",10.00,交易成功,2025-02-30 10:00:00,2025-06-01 10:01:00,0\n'
        + '="1005",10.00,交易成功,2025-06-02 10:00:00,2025-06-02 10:01:00,0\n',
    )
    (f,) = ingest(store, [str(path)]).files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (5, 2, 3)
    reasons = {r.line: r.reason for r in f.rejects}
    assert reasons == {
        3: "订单创建时间: '0000-00-00 00:00:00' is not a valid date",
        4: "订单创建时间: '2025-06-01 24:00:00' is not a valid date",
        5: "订单创建时间: '2025-02-30 10:00:00' is not a valid date",
    }
    assert rows(store, "SELECT order_id, created_at FROM qianniu ORDER BY 1") == [
        ("1001", dt.datetime(2025, 6, 1, 10)),
        ("1005", dt.datetime(2025, 6, 2, 10)),
    ]


def test_one_impossible_day_in_a_juguang_file(store: Path, tmp_path: Path) -> None:
    text = (DATA / "juguang_notes.csv").read_text(encoding="utf-8-sig")
    text = text.replace("2025/6/2,", "2025-06-31,", 1)
    (f,) = ingest(store, [str(write(tmp_path / "j.csv", text))]).files
    assert f.rows_rejected == 1 and f.rows_loaded == 2
    assert "'2025-06-31' is not a valid date" in f.rejects[0].reason


def test_negative_amounts_are_rejected_where_they_cannot_be(store: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "订单.csv",
        QIANNIU_HEAD
        + '="2001",10.00,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00,-25.00\n'
        + '="2002",-10.00,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00,0\n'
        + '="2003",-0.00,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00,0\n'
        + '="2004","-99,999,999,999,999.00",交易成功,2025-06-01 10:00:00,,0\n',
    )
    (f,) = ingest(store, [str(path)]).files
    assert (f.rows_loaded, f.rows_rejected) == (2, 2)
    assert [r.line for r in f.rejects] == [3, 5]
    for r in f.rejects:
        assert r.reason.startswith("买家实际支付金额: '-")
        assert "is negative, and this column cannot be below zero" in r.reason
    # a refund column says in its kind's YAML that it may be negative
    assert rows(store, "SELECT order_id, paid_amount, refund_amount FROM qianniu ORDER BY 1") == [
        ("2001", Decimal("10.0000"), Decimal("-25.0000")),
        ("2003", Decimal("0.0000"), Decimal("0.0000")),
    ]


def test_negative_spend_and_counts_in_juguang(store: Path, tmp_path: Path) -> None:
    text = (DATA / "juguang_notes.csv").read_text(encoding="utf-8-sig")
    text = text.replace(",1200.00,", ',"-99,999,999,999,999.00",', 1).replace(
        ",80,0.67%", ",-80,0.67%"
    )
    (f,) = ingest(store, [str(write(tmp_path / "j.csv", text))]).files
    assert f.rows_rejected == 2 and f.rows_loaded == 1
    assert "消费: '-99,999,999,999,999.00' is negative" in f.rejects[0].reason
    assert "点击量: '-80' is negative" in f.rejects[1].reason
    assert rows(store, "SELECT count(*) FROM juguang WHERE spend < 0 OR clicks < 0") == [(0,)]


@pytest.mark.parametrize("ftype", ["int", "money", "number"])
@pytest.mark.parametrize("digits", [19, 40, 1000, 5000])
def test_huge_numbers_are_rejected_never_wrapped(ftype: str, digits: int) -> None:
    text = "9" * digits
    res = parse_column(pa.array([text, "1", text + ".5"]), ftype)
    if ftype == "number" and digits < 300:  # a float holds it (approximately): not an error
        assert res.values.to_pylist()[0] == float(text)
        return
    assert res.values.to_pylist() == [None, 1, None]
    assert set(res.errors) == {0, 2}
    assert "too large" in res.errors[0]
    assert all(len(r) <= 301 for r in res.errors.values())


# --- 5. nothing reaches a terminal raw ---------------------------------------------------------

HOSTILE = "\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x1b\\\x9b31m\x1b[2J\u202eevil\r\x08"


def test_terminal_safe_escapes_every_control() -> None:
    from redcat_cli.cli.render import terminal_safe

    out = terminal_safe(HOSTILE + "\nnext", multiline=True)
    assert out == (
        "\\x1b]52;c;ZXZpbA==\\x07\\x1b]0;pwned\\x1b\\\\x9b31m\\x1b[2J\\u202eevil\\x0d\\x08\nnext"
    )
    every = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)])
    assert all(ord(ch) >= 0x20 for ch in terminal_safe(every, multiline=False))
    assert "\n" not in terminal_safe("a\nb", multiline=False)


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) < 0xA0]


def test_hostile_header_and_file_name_reach_no_terminal(run, store: Path, tmp_path: Path) -> None:
    name = tmp_path / "a\x1b]0;title\x07.csv"
    write(name, "列\x1b]52;c;ZXZpbA==\x07,x\n1,2\n")
    res = run("ingest", "--store", str(store), str(name))
    assert res.exit_code == 1
    assert not _raw_controls(res.stderr) and not _raw_controls(res.stdout)
    assert "\\x1b]52" in res.stderr
    # a recognised file with a hostile extra column and file name: the table and the notices
    text = (DATA / "juguang_notes.csv").read_text(encoding="utf-8-sig")
    text = text.replace("时间,", "时间,[link=https://x]\x1b[31m坏\x9b,", 1)
    text = "\n".join(
        line if i == 0 else line.split(",", 1)[0] + ",z," + line.split(",", 1)[1]
        for i, line in enumerate(text.splitlines())
    )
    evil = write(tmp_path / "b\x1b]52;c;eA==\x07.csv", text)
    res = run("ingest", "-v", "--store", str(store), str(evil))
    assert res.exit_code == 0, res.stderr
    assert not _raw_controls(res.stderr) and not _raw_controls(res.stdout)
    assert "\\x1b]52" in res.stdout
    assert "\\x1b[31m坏\\x9b" in res.stderr
    res = run("ingest", "--store", str(store), str(evil), "--json")
    assert "\x9b" not in res.stdout and "\\u009b" in res.stdout


# --- 6. faults of the machine ----------------------------------------------------------------


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_interrupt_exits_130_and_commits_nothing(
    store: Path, tmp_path: Path, signal_name: str
) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    before = dump(store)
    script = textwrap.dedent(
        f"""
        import os, signal
        import redcat_cli.ingest.load as mod
        real = mod._upsert
        def interrupted(*a, **k):
            real(*a, **k)
            os.kill(os.getpid(), signal.{signal_name})
        mod._upsert = interrupted
        from redcat_cli.cli import main
        main(["ingest", "--store", {str(store)!r}, {str(DATA / "xinghe_v1.csv")!r}])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "Interrupted; nothing was committed."
    assert dump(store) == before


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or not Path("/proc/mounts").exists():
        return False
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return res.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 6 MiB file system of its own (tmpfs), to fill up."""
    where = tmp_path / "disk"
    if not _mount_tmpfs(where, "6m"):
        pytest.skip("needs root and tmpfs to make a small disk to fill (not available here)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _big_orders(path: Path, n: int) -> Path:
    return write(
        path,
        QIANNIU_HEAD
        + "".join(
            f'="{3 * 10**15 + i}",{i % 1000}.{i % 100:02d},交易成功,2025-06-01 10:{i % 60:02d}:00,'
            f"2025-06-02 10:00:00,0\n"
            for i in range(n)
        ),
    )


def test_a_full_disk_is_an_error_in_words_and_commits_nothing(
    small_disk: Path, tmp_path: Path
) -> None:
    store = small_disk / "s.duckdb"
    small = _qianniu(tmp_path / "small.csv", 10**15, 100)
    large = _big_orders(tmp_path / "large.csv", 400_000)
    assert redcat("ingest", "-q", "--store", str(store), str(small)).returncode == 0
    before = dump(store)
    res = redcat("ingest", "--store", str(store), str(large))
    assert res.returncode == 3, res.stderr
    assert res.stderr.startswith(f"Error: ingest into {store} stopped, nothing was committed: ")
    assert "the disk is full" in res.stderr and "bug" not in res.stderr
    assert res.stdout == ""
    assert (
        dump(store) == before
    )  # (the file may keep the size it grew to; its content is as it was)
    # a first ingest on the full disk leaves no store and no temporary file
    res = redcat("ingest", "--json", "--store", str(small_disk / "new.duckdb"), str(small))
    assert res.returncode == 3 and '"code": "disk_full"' in res.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["s.duckdb"]
    # output to a full device
    res = subprocess.run(
        [sys.executable, "-m", "redcat_cli", "sources"],
        stdout=open(os.devnull if not Path("/dev/full").exists() else "/dev/full", "w"),
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    if Path("/dev/full").exists():
        assert res.returncode == 3
        assert res.stderr.startswith("Error: cannot write the output: the disk is full")


def test_a_read_only_store_folder(tmp_path: Path) -> None:
    where = tmp_path / "ro"
    if not _mount_tmpfs(where, "8m"):
        pytest.skip("needs root and tmpfs to make a read-only file system (not available here)")
    try:
        store = where / "s.duckdb"
        assert (
            redcat(
                "ingest", "-q", "--store", str(store), str(DATA / "juguang_notes.csv")
            ).returncode
            == 0
        )
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        res = redcat("ingest", "--store", str(store), str(DATA / "xinghe_v1.csv"))
        assert res.returncode == 3, res.stderr
        assert "read-only" in res.stderr and "bug" not in res.stderr
        res = redcat("ingest", "--store", str(where / "new.duckdb"), str(DATA / "xinghe_v1.csv"))
        assert res.returncode == 3 and "read-only" in res.stderr
        assert redcat("status", "--store", str(store)).returncode == 0  # reading still works
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _zip_of(path: Path, body: str, *, method: int = 8) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("订单.csv", body.encode("gb18030"))
    return buf.getvalue()


def _patch_both(data: bytes, local: int, central: int, fn) -> bytes:
    b = bytearray(data)
    fn(b, local)
    fn(b, b.index(b"PK\x01\x02") + central)
    return bytes(b)


def test_broken_archives_are_errors_in_words(run, store: Path, tmp_path: Path) -> None:
    body = QIANNIU_HEAD + "".join(
        f'="{9000 + i}",1.00,交易成功,2025-06-01 10:00:00,,0\n' for i in range(5)
    )
    good = _zip_of(tmp_path, body)

    def setbit(b: bytearray, at: int) -> None:
        b[at] |= 1  # general purpose flag bit 0: encrypted

    def deflate64(b: bytearray, at: int) -> None:
        b[at] = 9  # compression method 9

    cases = {
        "crc": (_crc_broken(good), "damaged"),
        "encrypted": (_patch_both(good, 6, 8, setbit), "password-protected"),
        "deflate64": (_patch_both(good, 8, 10, deflate64), "Deflate64"),
        "truncated": (good[: len(good) // 2], "not a readable zip archive"),
    }
    for name, (data, words) in cases.items():
        p = tmp_path / f"{name}.zip"
        p.write_bytes(data)
        res = run("ingest", "--store", str(store), str(p))
        assert res.exit_code == 1, (name, res.stderr)
        assert words in res.stderr and "bug" not in res.stderr, (name, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 2  # the error and its hint
    assert not store.exists()
    (tmp_path / "good.zip").write_bytes(good)
    assert run("ingest", "-q", "--store", str(store), str(tmp_path / "good.zip")).exit_code == 0


def _crc_broken(data: bytes) -> bytes:
    b = bytearray(data)
    b[14] ^= 0xFF  # the CRC-32 of the local header…
    b[b.index(b"PK\x01\x02") + 16] ^= 0xFF  # …and of the central directory
    return bytes(b)


def test_archive_budget_is_checked_while_unpacking(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    import redcat_cli.ingest.reader as reader

    body = QIANNIU_HEAD + "".join(
        f'="{9000 + i}",1.00,交易成功,2025-06-01 10:00:00,,0\n' for i in range(2000)
    )
    # a member that unpacks to more than it declares (the header lies): never read past it
    good = _zip_of(tmp_path, body)
    size = len(body.encode("gb18030"))
    small = (size // 2).to_bytes(4, "little")

    def lie(b: bytearray, at: int, off: int) -> None:
        b[at + off : at + off + 4] = small

    b = bytearray(good)
    lie(b, 0, 22)
    lie(b, b.index(b"PK\x01\x02"), 24)
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(b))
    with pytest.raises(IngestError, match="damaged|more than it declares"):
        ingest(store, [str(liar)])  # zipfile stops at the declared size: the CRC then fails
    # a ratio bomb past the floor, told while unpacking (the declared sizes lie the same way)
    monkeypatch.setattr(reader, "ZIP_RATIO_FLOOR", 4096)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", QIANNIU_HEAD + "0" * 2_000_000)
    with pytest.raises(IngestError, match="zip bomb"):
        ingest(store, [str(bomb)])
    # too many members, and too long
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(5):
            zf.writestr(f"{i}.csv", body)
    monkeypatch.setattr(reader, "ZIP_MAX_MEMBERS", 4)
    with pytest.raises(IngestError, match="5 members"):
        ingest(store, [str(many)])
    monkeypatch.setattr(reader, "ZIP_MAX_MEMBERS", 100)
    monkeypatch.setattr(reader, "ZIP_MAX_SECONDS", 0.0)
    with pytest.raises(IngestError, match="unpacking took longer"):
        ingest(store, [str(many)])
    assert not store.exists()


def _xlsx(path: Path, sheet_xml_edit=None) -> Path:
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "买家实际支付金额", "订单状态", "订单创建时间"])
    ws.append(['="1"', "1.00", "交易成功", "2025-06-01 10:00:00"])
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_xml_edit:
                data = sheet_xml_edit(data.decode()).encode()
            out.writestr(info, data)
    return path


def test_hostile_workbooks(run, store: Path, tmp_path: Path) -> None:
    lol = '<!ENTITY lol "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{i} "' + ("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10 + '">'
        for i in range(1, 10)
    )

    def bomb(xml: str) -> str:
        at = xml.index("<worksheet")
        return f'<?xml version="1.0"?><!DOCTYPE worksheet [{lol}]>' + xml[at:].replace(
            "交易成功", "&lol9;", 1
        )

    p = _xlsx(tmp_path / "bomb.xlsx", bomb)
    res = run("ingest", "--store", str(store), str(p))
    assert res.exit_code == 1 and "cannot be read" in res.stderr and "bug" not in res.stderr
    enc = tmp_path / "locked.xlsx"  # what Excel writes for a workbook with a password
    enc.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le")
    )
    res = run("ingest", "--store", str(store), str(enc))
    assert res.exit_code == 1 and "password-protected Excel workbook" in res.stderr
    assert not store.exists()
    assert (
        run("ingest", "-q", "--store", str(store), str(_xlsx(tmp_path / "ok.xlsx"))).exit_code == 0
    )


def test_unreadable_and_overlong_inputs(
    run, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path / "o.csv", QIANNIU_HEAD + "".join(_orders(2)))
    long = tmp_path / ("长" * 100 + ".csv")  # 300 bytes: over the 255 a name may have
    res = run("ingest", "--store", str(store), str(long))
    assert res.exit_code == 3 and "the file name is too long" in res.stderr, res.stderr
    real = Path.open

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "o.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)  # root may read anything: pretend it may not
    res = run("ingest", "--json", "--store", str(store), str(p))
    assert res.exit_code == 3 and '"code": "permission_denied"' in res.stderr
    assert f"cannot read {p}: permission denied" in res.stderr
    assert not store.exists()


def test_rejects_file_names_stay_short_and_a_file_in_the_way_is_an_error(
    run, store: Path, tmp_path: Path
) -> None:
    lines = _orders(3)
    lines[1] = lines[1].replace("2025-06-01 10:00:00", "2025-02-30 10:00:00")
    name = "订" * 80 + ".csv"  # 240 bytes: the rejects file's name would pass 255
    p = write(tmp_path / name, ADDR_HEAD + "".join(lines))
    (f,) = ingest(store, [str(p)]).files
    out = Path(f.rejects_path)
    assert out.exists() and len(out.name.encode()) <= 255
    assert out.name.startswith("00001-订") and out.name.endswith(".rejects.csv")
    before = dump(store)
    other = tmp_path / "other.duckdb"
    (tmp_path / "other-rejects").write_text("not a folder")
    res = run("ingest", "--store", str(other), str(p))
    assert res.exit_code == 3 and "is a file, not a folder" in res.stderr
    assert not other.exists()
    assert dump(store) == before


# --- 4. contracts beyond any real size ----------------------------------------------------------

CONTRACT = (REPO / "configs" / "contracts" / "example.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
        ("a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n", "nested more than 64 levels deep"),
        ("".join(" " * i + "k:\n" for i in range(1300)), "nested more than 64 levels deep"),
        (
            CONTRACT.replace("window_days: 30", "window_days: " + "9" * 5000),
            "too large for any contract term",
        ),
        (
            CONTRACT.replace('target_roi: "3.0"', 'target_roi: "' + "9" * 5000 + '"'),
            "(5,000 characters)",
        ),
        (
            CONTRACT.replace(
                "period: {start: 2025-06-01, end: 2025-06-30}",
                "period: {start: 0001-01-01, end: 9999-12-31}",
            ),
            "is 3,652,059 days long",
        ),
        ("# " + "x" * (1 << 20) + "\n" + CONTRACT, "a contract is at most 1,048,576"),
    ],
    ids=["flow-lists", "flow-maps", "block", "integer", "decimal", "period", "size"],
)
def test_hostile_contracts_are_refused_quickly(run, tmp_path: Path, text: str, words: str) -> None:
    import time

    p = tmp_path / "deal.yaml"
    p.write_text(text, encoding="utf-8")
    started = time.monotonic()
    res = run("contract", "check", str(p))
    assert time.monotonic() - started < 10
    assert res.exit_code == 1, res.stderr
    assert words in res.stderr and "bug" not in res.stderr


def test_contract_fields_reach_no_terminal_raw(run, tmp_path: Path) -> None:
    p = tmp_path / "deal.yaml"
    text = CONTRACT.replace("merchant: ", 'merchant: "\\e]52;c;ZXZpbA==\\a\\e]0;x\\a" #', 1)
    assert text != CONTRACT
    p.write_text(text, encoding="utf-8")
    res = run("contract", "check", str(p))
    assert res.exit_code == 0, res.stderr
    assert not _raw_controls(res.stdout) and "\\x1b]52" in res.stdout


def test_an_interrupt_after_the_commit_says_so(store: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        import redcat_cli.cli.render as render
        def interrupted(*a, **k):
            os.kill(os.getpid(), signal.SIGINT)
        render.emit_tables = interrupted
        from redcat_cli.cli import main
        main(["ingest", "--store", {str(store)!r}, {str(DATA / "juguang_notes.csv")!r}])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"Interrupted after the ingest into {store} was committed; "
        "see `redcat status` for what it holds."
    )
    assert rows(store, "SELECT count(*) FROM juguang") == [(3,)]
