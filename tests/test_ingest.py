"""Ingest: every row accounted for, nothing lost, nothing double-counted."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from redcat_cli.errors import IngestError, StoreError
from redcat_cli.ingest.load import ingest
from tests.conftest import ALL_KINDS, DATA, SAMPLES, dump, rows, write

NOTE1 = "64f1a2b3000000001e03c0d1"
NOTE2 = "64f1a2b3000000001e03c0d2"


def counts(f) -> tuple[int, int, int, int, int, int]:
    return (
        f.rows_read,
        f.rows_loaded,
        f.rows_updated,
        f.rows_duplicate,
        f.rows_skipped,
        f.rows_rejected,
    )


# --- the quirks of 聚光 --------------------------------------------------------------------


def test_juguang_note_report(store: Path) -> None:
    rep = ingest(store, [str(DATA / "juguang_notes.csv")])
    (f,) = rep.files
    assert f.source == "juguang"
    assert f.encoding == "utf-8-bom"
    # 4 rows under the header: the 合计 row is skipped, three are loaded
    assert counts(f) == (4, 3, 0, 0, 1, 0)
    got = rows(
        store,
        "SELECT date, note_id, spend, impressions, clicks, interactions, gmv_7d, orders_7d "
        "FROM juguang ORDER BY date, note_id",
    )
    assert got == [
        (
            dt.date(2025, 6, 1),
            NOTE1,
            Decimal("1200.0000"),
            10000,
            500,
            41,
            Decimal("1234.5000"),
            12,
        ),
        (
            dt.date(2025, 6, 1),
            NOTE2,
            Decimal("100.5000"),
            12000,
            80,
            16,
            None,
            None,
        ),  # 1.2万; '-' is null
        (
            dt.date(2025, 6, 2),
            NOTE1,
            Decimal("51.0000"),
            None,
            20,
            3,
            None,
            0,
        ),  # ¥51元; 暂无 null; 0 stays 0
    ]


def test_same_file_twice_adds_nothing(store: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    before = dump(store)
    (f,) = ingest(store, [str(DATA / "juguang_notes.csv")]).files
    assert counts(f) == (4, 0, 0, 3, 1, 0)
    after = dump(store)
    assert after["juguang"] == before["juguang"]
    assert len(after["ingest_log"]) == 2  # the second ingest is logged too


def test_later_export_updates_and_keeps_history(store: Path) -> None:
    (v1,) = ingest(store, [str(DATA / "xinghe_v1.csv")]).files
    assert counts(v1) == (5, 5, 0, 0, 0, 0)
    (v2,) = ingest(store, [str(DATA / "xinghe_v2.csv")]).files
    # 06-01 30d 全部流量 unchanged → duplicate; 06-02 grew → updated; 06-03 new → loaded
    assert counts(v2) == (3, 1, 1, 1, 0, 0)
    cur = rows(
        store,
        "SELECT date, gmv, buyers, visit_uv FROM xinghe WHERE flow_type='全部流量' AND window_days=30 ORDER BY date",
    )
    assert cur == [
        (dt.date(2025, 6, 1), Decimal("800.0000"), 8, 100),
        (dt.date(2025, 6, 2), Decimal("520.0000"), 5, 55),
        (dt.date(2025, 6, 3), Decimal("99.0000"), 1, 20),
    ]
    hist = rows(store, "SELECT date, gmv, _ingest_id, _superseded_by FROM xinghe_history")
    assert hist == [(dt.date(2025, 6, 2), Decimal("300.0000"), v1.ingest_id, v2.ingest_id)]
    # the store as it stood after the first ingest, rebuilt from history
    from redcat_cli.queries import fact_relation

    rel = fact_relation("xinghe", as_of_ingest=v1.ingest_id)
    old = rows(store, f"SELECT sum(gmv) FROM {rel} WHERE flow_type='全部流量' AND window_days=30")
    assert old == [(Decimal("1100.0000"),)]  # 800 + 300, as exported the first time


def test_a_file_speaks_only_for_its_columns(store: Path, tmp_path: Path) -> None:
    ingest(store, [str(DATA / "xinghe_v1.csv")])
    narrow = write(
        tmp_path / "narrow.csv",
        f"日期,内容ID,流量类型,归因周期,商家GMV\n20250601,{NOTE1},全部流量,30天,850.00\n",
    )
    (f,) = ingest(store, [str(narrow)]).files
    assert counts(f) == (1, 0, 1, 0, 0, 0)
    got = rows(
        store,
        "SELECT gmv, buyers, read_uv FROM xinghe WHERE date='2025-06-01' AND flow_type='全部流量' AND window_days=30",
    )
    assert got == [(Decimal("850.0000"), 8, 1000)]  # buyers and read UV untouched


def test_conflicting_rows_in_one_file(store: Path, tmp_path: Path) -> None:
    text = (
        "日期,内容ID,流量类型,归因周期,商家GMV\n"
        f"20250601,{NOTE1},全部流量,30天,100.00\n"
        f"20250601,{NOTE1},全部流量,30天,100.00\n"
        f"20250601,{NOTE1},全部流量,30天,120.00\n"
    )
    (f,) = ingest(store, [str(write(tmp_path / "x.csv", text))]).files
    assert counts(f) == (3, 1, 0, 1, 0, 1)
    (rej,) = f.rejects
    assert rej.line == 4
    assert "conflict" in rej.reason and "line 2" in rej.reason
    assert rej.fields == ["20250601", NOTE1, "全部流量", "30天", "120.00"]  # as the file wrote it
    assert rows(store, "SELECT gmv FROM xinghe") == [(Decimal("100.0000"),)]


# --- 千牛: GB18030, ="…" ids, rejects with line numbers -------------------------------------

QIANNIU = (
    "订单编号,买家会员名,买家应付货款,总金额,买家实际支付金额,订单状态,订单创建时间,订单付款时间,宝贝标题,退款金额\n"
    '="1930679858170647",t**1,159.00,159.00,159.00,交易成功,2025-06-01 10:00:00,2025-06-01 10:01:00,口红,无退款申请\n'
    '="1930679858170648",t**2,59.00,59.00,0.00,交易关闭,2025-06-01 11:00:00,,润唇膏,无退款申请\n'
    "1.93068E+15,t**3,10.00,10.00,10.00,交易成功,2025-06-02 09:00:00,2025-06-02 09:05:00,唇釉,0\n"
    '="1930679858170650",t**4,abc,10.00,10.00,交易成功,2025-06-02 09:00:00,2025-06-02 09:05:00,唇釉,0\n'
    '="1930679858170651",t**5,10.00\n'
    '="1930679858170652",t**1,129.00,129.00,129.00,交易成功,2025/6/3 08:00,2025/6/3 08:01,唇釉,"=HYPERLINK(""x"")"\n'
)


def test_qianniu_gb18030_with_rejects(store: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "订单.csv", QIANNIU, encoding="gb18030")
    (f,) = ingest(store, [str(path)]).files
    assert f.source == "qianniu" and f.encoding == "gb18030"
    # 6 data rows: 3 good (ids ...47, ...48, ...52 has a bad refund) - see below
    assert f.rows_read == 6
    by_line = {r.line: r.reason for r in f.rejects}
    assert set(by_line) == {4, 5, 6, 7}
    assert "scientific notation" in by_line[4]
    assert "买家应付货款" in by_line[5] and "'abc'" in by_line[5]
    assert by_line[6] == "3 fields, the header has 10"
    assert "退款金额" in by_line[7]
    assert counts(f) == (6, 2, 0, 0, 0, 4)
    got = rows(
        store, "SELECT order_id, paid_amount, status, paid_at FROM qianniu ORDER BY order_id"
    )
    assert got == [
        ("1930679858170647", Decimal("159.0000"), "交易成功", dt.datetime(2025, 6, 1, 10, 1)),
        ("1930679858170648", Decimal("0.0000"), "交易关闭", None),
    ]
    # the rejects file: UTF-8 with BOM, line + reason + raw fields, formulas neutralised
    raw = Path(f.rejects_path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("line,reason,field_1")
    assert "'=HYPERLINK" in text and ',"=HYPERLINK' not in text
    assert "\r\n4," in text


def test_strict_commits_nothing(store: Path, tmp_path: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    before = dump(store)
    path = write(tmp_path / "订单.csv", QIANNIU, encoding="gb18030")
    with pytest.raises(IngestError, match="nothing was committed"):
        ingest(store, [str(DATA / "xinghe_v1.csv"), str(path)], strict=True)
    assert dump(store) == before


def test_failure_half_way_leaves_store_unchanged(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    before = dump(store)
    import redcat_cli.ingest.load as mod

    real = mod._upsert
    calls = {"n": 0}

    def failing(*a, **k):
        calls["n"] += 1
        real(*a, **k)
        if calls["n"] == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(mod, "_upsert", failing)
    with pytest.raises(RuntimeError):
        ingest(store, [str(DATA / "xinghe_v1.csv"), str(DATA / "xinghe_v2.csv")])
    assert dump(store) == before


def test_kill_half_way_leaves_store_unchanged(store: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    before = dump(store)
    script = textwrap.dedent(
        f"""
        import os, signal
        import redcat_cli.ingest.load as mod
        real = mod._upsert
        n = [0]
        def killing(*a, **k):
            real(*a, **k)
            n[0] += 1
            if n[0] == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        mod._upsert = killing
        mod.ingest({str(store)!r}, [{str(DATA / "xinghe_v1.csv")!r}, {str(DATA / "xinghe_v2.csv")!r}])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[1])
    assert proc.returncode == -9
    assert dump(store) == before


def test_second_writer_gets_store_in_use(store: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys,time; c=duckdb.connect({str(store)!r}); print('ok', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"ok"
        from redcat_cli.store import db as store_mod

        with pytest.raises(StoreError, match="in use"):
            with store_mod.open_store(store, read_only=False, lock_timeout=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_store_from_newer_redcat_is_refused(store: Path) -> None:
    ingest(store, [str(DATA / "juguang_notes.csv")])
    import duckdb

    con = duckdb.connect(str(store))
    con.execute("UPDATE redcat_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer redcat"):
        ingest(store, [str(DATA / "xinghe_v1.csv")])


def test_failed_first_ingest_leaves_no_store(store: Path, tmp_path: Path) -> None:
    bad = write(tmp_path / "x.csv", "foo,bar\n1,2\n")
    with pytest.raises(IngestError):
        ingest(store, [str(bad)])
    assert not store.exists()


# --- headers, kinds and files ----------------------------------------------------------------


def test_header_under_title_rows_with_units_and_width_variants(store: Path, tmp_path: Path) -> None:
    text = (
        "生意参谋 商品排行\n统计日期：2025-06-01~2025-06-02\n\n"
        "统计日期,商品ID ,商品名称,商品访客数,支付买家数,支付金额（元）,商品支付转化率\n"
        '2025-06-01,718923450011,口红,"1,200",30,"4,770.00",2.50%\n'
        "2025-06-02,718923450011,口红,1100,22,3498.00,2.00%\n"
        "总计,-,-,2300,52,8268.00,-\n"
    )
    (f,) = ingest(store, [str(write(tmp_path / "sycm.csv", text, encoding="gb18030"))]).files
    assert f.source == "sycm"
    assert counts(f) == (3, 2, 0, 0, 1, 0)
    assert rows(store, "SELECT sum(paid_amount), sum(visitors) FROM sycm") == [
        (Decimal("8268.0000"), 2300)
    ]
    # line numbers count the title rows: the header is on line 4
    assert rows(store, "SELECT _line FROM sycm ORDER BY _line") == [(5,), (6,)]


def test_note_report_is_not_taken_for_account_report(store: Path) -> None:
    (f,) = ingest(store, [str(DATA / "juguang_notes.csv")]).files
    assert f.source == "juguang"


def test_unknown_headers_name_the_closest_kind(store: Path, tmp_path: Path) -> None:
    bad = write(tmp_path / "list.csv", "笔记标题,首次发布时间,曝光,点赞\nA,2026-01-01,1,2\n")
    with pytest.raises(IngestError) as e:
        ingest(store, [str(bad)])
    msg = str(e.value)
    assert "not recognised" in msg and "笔记标题, 首次发布时间, 曝光, 点赞" in msg
    assert "Closest kind" in msg and "--source" in msg


def test_empty_and_blank_files_are_refused(store: Path, tmp_path: Path) -> None:
    for name, data in (("empty.csv", b""), ("blank.csv", b"\n\n  \n")):
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(IngestError, match="empty"):
            ingest(store, [str(p)])


def test_header_only_ingests_zero_rows(store: Path, tmp_path: Path) -> None:
    p = write(tmp_path / "h.csv", "日期,内容ID,流量类型,归因周期,商家GMV\n", bom=True)
    (f,) = ingest(store, [str(p)]).files
    assert counts(f) == (0, 0, 0, 0, 0, 0)


def test_binary_garbage_is_refused(store: Path, tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(IngestError, match="binary"):
        ingest(store, [str(p)])


def test_forced_wrong_encoding_is_a_clear_error(store: Path, tmp_path: Path) -> None:
    p = write(tmp_path / "q.csv", QIANNIU, encoding="gb18030")
    with pytest.raises(IngestError, match="cannot be read as utf-8"):
        ingest(store, [str(p)], encoding="utf-8")


def test_ambiguous_day_month_needs_date_order(store: Path, tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "时间,消费\n1/11/2024,10.00\n2/11/2024,20.00\n")
    with pytest.raises(IngestError, match="--date-order"):
        ingest(store, [str(p)])
    (f,) = ingest(store, [str(p)], date_order="dmy").files
    assert f.source == "juguang_account" and f.rows_loaded == 2
    assert rows(store, "SELECT date FROM juguang_account ORDER BY date") == [
        (dt.date(2024, 11, 1),),
        (dt.date(2024, 11, 2),),
    ]


def test_day_over_twelve_settles_the_order(store: Path, tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "时间,消费\n31/10/2024,1.02\n1/11/2024,106.46\n")
    (f,) = ingest(store, [str(p)]).files
    assert rows(store, "SELECT date, spend FROM juguang_account ORDER BY date") == [
        (dt.date(2024, 10, 31), Decimal("1.0200")),
        (dt.date(2024, 11, 1), Decimal("106.4600")),
    ]


def test_zip_of_gb18030_csv_with_crlf(store: Path, tmp_path: Path) -> None:
    csv_text = "日期,计划ID,主体ID,花费,总成交金额,总成交笔数\r\n2025/6/1,81863724248,1056701263315,99.82,0,0\r\n2025/6/1,81831404144,1045221343950,500,7979,1\r\n"
    z = tmp_path / "报表.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("XXXXXXXX_20250601.csv", csv_text.encode("gb18030"))
    # Chinese zip tools store member names in GBK without the UTF-8 flag
    gbk = "商品报表".encode("gbk")
    assert len(gbk) == 8
    z.write_bytes(z.read_bytes().replace(b"XXXXXXXX", gbk))
    (f,) = ingest(store, [str(z)]).files
    assert f.source == "alimama" and f.encoding == "gb18030"
    assert f.path.endswith("!商品报表_20250601.csv")
    assert counts(f) == (2, 2, 0, 0, 0, 0)
    assert rows(store, "SELECT sum(spend), sum(total_gmv) FROM alimama") == [
        (Decimal("599.8200"), Decimal("7979.0000"))
    ]


def test_zip_bomb_is_refused(store: Path, tmp_path: Path) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", b"0" * (20 * 1024 * 1024))
    with pytest.raises(IngestError, match="zip bomb"):
        ingest(store, [str(z)])


def test_xlsx_with_group_header_and_footer(store: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["基础信息", "", "全部流量效果", "", ""])
    ws.append(["笔记id", "笔记名称", "全部曝光量", "全部互动率", "阅读uv"])
    ws.append([NOTE1, "口红", "1,200", "22.22%", "_"])
    ws.append([NOTE2, "唇釉", "350", "0.2109", "数据较少"])
    ws.append(["专业号行业:美妆-彩妆"])
    p = tmp_path / "笔记数据.xlsx"
    wb.save(p)
    (f,) = ingest(store, [str(p)]).files
    assert f.source == "note_data"
    assert counts(f) == (3, 2, 0, 0, 1, 0)
    assert rows(
        store,
        "SELECT note_id, impressions, interaction_rate, read_uv FROM note_data ORDER BY note_id",
    ) == [
        (NOTE1, 1200, 0.2222, None),
        (NOTE2, 350, 0.2109, None),
    ]


def test_ragged_trailing_empty_fields_are_harmless(store: Path, tmp_path: Path) -> None:
    p = write(
        tmp_path / "a.csv",
        "时间,消费,\n2025-06-01,10.00,\n2025-06-02,20.00,,\n2025-06-03,30.00,x\n",
    )
    (f,) = ingest(store, [str(p)]).files
    assert counts(f) == (3, 2, 0, 0, 0, 1)
    assert f.rejects[0].line == 4


def test_quoted_newlines_keep_line_numbers(store: Path, tmp_path: Path) -> None:
    p = write(
        tmp_path / "a.csv",
        '时间,消费,笔记ID,笔记标题\n2025-06-01,10.00,n1,"two\nlines"\n2025-06-02,oops,n1,t\n',
    )
    (f,) = ingest(store, [str(p)]).files
    assert counts(f) == (2, 1, 0, 0, 0, 1)
    assert f.rejects[0].line == 4


def test_stdin(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (DATA / "xinghe_v1.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    (f,) = ingest(store, ["-"]).files
    assert f.path == "-" and f.rows_loaded == 5


def test_bundled_examples_every_row_accounted_for(store: Path) -> None:
    from redcat_cli.demo import example_files

    rep = ingest(store, [str(p) for p in example_files()])
    for f in rep.files:
        assert f.balanced(), f.path
        assert f.rows_rejected == 0, (f.path, f.rejects[:3])
    kinds = {f.source for f in rep.files}
    assert kinds == ALL_KINDS
    # the 种草星河 re-export of the last 7 days updates what grew
    reexport = [f for f in rep.files if "重新导出" in f.path][0]
    assert reexport.rows_updated > 0 and reexport.rows_loaded == 0


@pytest.mark.skipif(not SAMPLES.exists(), reason="shared samples not present")
def test_real_samples(store: Path) -> None:
    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix in (".csv", ".xlsx"))
    creator = [p for p in files if "xhs_creator_center" in str(p)]
    others = [p for p in files if p not in creator]
    rep = ingest(store, [str(p) for p in others])
    assert len(rep.files) == len(others)
    for f in rep.files:
        assert f.balanced()
        assert f.rows_rejected == 0, (f.path, f.rejects[:3])
    for p in creator:
        # the creator-center list has no note id: it says so and names the export to use
        with pytest.raises(IngestError, match="has no 笔记ID: nothing can join it") as err:
            ingest(store, [str(p)])
        assert "note_data" in err.value.hint


def test_two_accounts_kept_apart_with_set(store: Path, tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "时间,消费\n2025-05-20,59.53\n")
    b = write(tmp_path / "b.csv", "时间,消费\n2025-05-20,287.76\n")
    ingest(store, [str(a)], fixed={"account": "LifeCar"})
    (f,) = ingest(store, [str(b)], fixed={"account": "小王"}).files
    assert counts(f) == (1, 1, 0, 0, 0, 0)  # another account's day: loaded, not an update
    assert rows(store, "SELECT account, spend FROM juguang_account ORDER BY account") == [
        ("LifeCar", Decimal("59.5300")),
        ("小王", Decimal("287.7600")),
    ]
    from redcat_cli.errors import UsageError

    with pytest.raises(UsageError, match="no field"):
        ingest(store, [str(a)], fixed={"acount": "x"})


def test_utf8_only_at_the_head_is_read_as_gb18030(store: Path, tmp_path: Path) -> None:
    # the first MiB is ASCII (valid UTF-8); a GBK title comes after it: the file is not UTF-8
    rows = ["时间,消费,笔记ID,笔记标题"] + [f"2025-06-01,1.00,n{i},plain{i}" for i in range(40000)]
    rows.append("2025-06-02,2.00,nx,口红试色")
    p = tmp_path / "late.csv"
    p.write_bytes("\n".join(rows).encode("gbk"))
    assert p.stat().st_size > 1 << 20
    (f,) = ingest(store, [str(p)]).files
    assert f.encoding == "gb18030" and f.rows_loaded == 40001
    assert rows_of(store) == [("口红试色",)]


def rows_of(store: Path) -> list[tuple]:
    return rows(store, "SELECT note_title FROM juguang WHERE note_id = 'nx'")


def test_a_tie_between_kinds_asks_for_source(tmp_path: Path) -> None:
    from redcat_cli.ingest.kinds import detect, load_kinds

    folder = tmp_path / "kinds"
    folder.mkdir()
    for name in ("first", "second"):
        (folder / f"{name}.yaml").write_text(
            f"name: {name}\nfields:\n  date: {{type: date, aliases: [日期], required: true}}\n"
            "  spend: {type: money, aliases: [花费], required: true}\nkey: [date]\n",
            encoding="utf-8",
        )
    kinds = load_kinds(str(folder))
    with pytest.raises(IngestError, match="--source") as e:
        detect(["日期", "花费"], kinds, name="x.csv")
    assert "first, second" in str(e.value)
