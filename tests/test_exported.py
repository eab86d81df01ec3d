"""Export dates: from --exported-on, the file name, or the modified time; status shows maturity."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from redcat_cli.errors import IngestError
from redcat_cli.ingest.exported import date_from_name, find_export_date, name_parts
from redcat_cli.ingest.load import ingest

D = dt.date
JUNE = (D(2025, 6, 1), D(2025, 6, 30))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("种草星河_202506_0715重新导出.csv", D(2025, 7, 15)),  # 202506 is no date; 0715 is
        ("聚光_20250601-20250630_导出20250702.csv", D(2025, 7, 2)),  # the range is the data's
        ("x_2025-07-15.csv", D(2025, 7, 15)),
        ("x_2025.07.15.csv", D(2025, 7, 15)),
        ("x_7月15日导出.csv", D(2025, 7, 15)),
        ("x_2025年7月3日.csv", D(2025, 7, 3)),
        ("x_0601-0620.csv", None),  # only the data's own dates: not an export date
        ("x_0630.csv", None),  # the last data date itself is not after it
        ("x_0701_0715.csv", D(2025, 7, 15)),  # of several after the data, the latest
        ("x_1340.csv", None),  # no such month
        ("note_622941fa000000000102924f.csv", None),  # digits inside a longer run
    ],
)
def test_dates_in_names(name: str, expected: dt.date | None) -> None:
    assert date_from_name([name], *JUNE) == expected


def test_month_day_before_the_data_is_next_year() -> None:
    december = (D(2025, 12, 1), D(2025, 12, 31))
    assert date_from_name(["对账_0105.csv"], *december) == D(2026, 1, 5)


def test_zip_member_name_first_then_the_archive() -> None:
    assert name_parts("dl/报表_0720.zip!sub/明细_0716.csv") == ["明细_0716.csv", "报表_0720.zip"]
    assert date_from_name(name_parts("dl/报表_0720.zip!明细.csv"), *JUNE) == D(2025, 7, 20)


def test_order_option_name_mtime() -> None:
    stamp = dt.datetime(2025, 8, 3, 12, 0).timestamp()
    opt = find_export_date("a_0715.csv", *JUNE, option=D(2025, 7, 20), mtime=stamp)
    assert (opt.date, opt.found_from) == (D(2025, 7, 20), "option")
    named = find_export_date("a_0715.csv", *JUNE, mtime=stamp)
    assert (named.date, named.found_from) == (D(2025, 7, 15), "file name")
    m = find_export_date("a.csv", *JUNE, mtime=stamp)
    assert (m.date, m.found_from) == (D(2025, 8, 3), "modified time")
    stdin = find_export_date("-", *JUNE)
    assert stdin.found_from == "ingest date" and stdin.date == dt.date.today()


def test_option_before_the_data_is_refused() -> None:
    with pytest.raises(IngestError, match="before the file's last data date 2025-06-30"):
        find_export_date("a.csv", *JUNE, option=D(2025, 6, 29))


XINGHE = "\ufeff日期,内容ID,流量类型,归因周期,成交UV,商家GMV\n{rows}"


def xinghe(path: Path, gmv: dict[str, str]) -> Path:
    rows = "".join(f"{d},n1,全部流量,30天,1,{v}\n" for d, v in gmv.items())
    path.write_text(XINGHE.format(rows=rows), encoding="utf-8")
    return path


def test_ingest_json_reports_the_export_date(run, tmp_path: Path) -> None:
    a = xinghe(tmp_path / "星河_0601-0602_导出0610.csv", {"20250601": "10.00", "20250602": "5.00"})
    b = xinghe(tmp_path / "星河.csv", {"20250601": "12.00"})
    os.utime(b, (0, dt.datetime(2025, 7, 9, 10, 0).timestamp()))
    store = str(tmp_path / "s.duckdb")
    r = run("ingest", "--store", store, str(a), str(b), "--json")
    assert r.exit_code == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert [(f["exported_on"], f["exported_on_from"]) for f in files] == [
        ("2025-06-10", "file name"),
        ("2025-07-09", "modified time"),
    ]
    c = xinghe(tmp_path / "again.csv", {"20250602": "5.00"})
    r = run("ingest", "--store", store, str(c), "--exported-on", "2025-07-05", "--json")
    f = json.loads(r.stdout)["files"][0]
    assert (f["exported_on"], f["exported_on_from"], f["rows_duplicate"]) == (
        "2025-07-05",
        "option",
        1,
    )
    # status: 06-01 was exported 07-09 (age 38 ≥ 30: mature); 06-02's value was confirmed
    # unchanged by the 07-05 export (age 33): mature too
    s = json.loads(run("status", "--store", store, "--json").stdout)["sources"][0]
    assert (s["newest_export"], s["maturing_dates"]) == ("2025-07-09", [])


def test_status_lists_maturing_dates(run, tmp_path: Path) -> None:
    a = xinghe(
        tmp_path / "星河_导出20250703.csv",
        {"20250601": "10.00", "20250602": "5.00", "20250610": "1.00"},
    )
    store = str(tmp_path / "s.duckdb")
    assert run("ingest", "--store", store, str(a)).exit_code == 0
    s = json.loads(run("status", "--store", store, "--json").stdout)["sources"][0]
    # exported 07-03: 06-01 (age 32) is mature, 06-02 (31) too, 06-10 (23) is not
    assert s["maturing_dates"] == ["2025-06-10"] and s["mature_on"] == "2025-07-10"
    table = run("status", "--store", store).stdout
    assert "06-10 → 07-10" in table


def test_a_schema_1_store_gains_export_dates(tmp_path: Path) -> None:
    import duckdb

    from redcat_cli.store.db import SCHEMA_VERSION, open_store

    path = tmp_path / "old.duckdb"
    a = xinghe(tmp_path / "星河_导出20250703.csv", {"20250601": "10.00"})
    ingest(path, [str(a)])
    con = duckdb.connect(str(path))  # make it a schema-1 store: no export dates
    con.execute("ALTER TABLE ingest_log DROP COLUMN exported_on_from")
    con.execute("ALTER TABLE ingest_log DROP COLUMN exported_on")
    con.execute("UPDATE redcat_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    from redcat_cli.queries.status import store_status

    with open_store(path, read_only=True) as st:  # upgraded on opening; dates unknown
        entry = store_status(st)["sources"][0]
        assert entry["maturing_dates"] == [D(2025, 6, 1)] and entry["export_date_unknown"]
    ingest(path, [str(xinghe(tmp_path / "b_0801.csv", {"20250602": "1.00"}))])
    with open_store(path, read_only=True) as st:
        (v,) = st.con.execute("SELECT value FROM redcat_meta").fetchone()
        rows = st.con.execute("SELECT id, exported_on FROM ingest_log ORDER BY id").fetchall()
    assert int(v) == SCHEMA_VERSION
    assert rows == [(1, None), (2, D(2025, 8, 1))]  # kept without loss; unknown stays unknown


def test_a_month_day_needs_the_data_year() -> None:
    # a file without data dates (千牛 order detail): 0701 alone could be any year, so the name
    # gives nothing and the modified time decides; a full date still counts
    assert date_from_name(["千牛_订单明细_导出0701.csv"], None, None) is None
    assert date_from_name(["千牛_订单明细_导出20250701.csv"], None, None) == D(2025, 7, 1)
    mtime = dt.datetime(2025, 7, 3, 12).timestamp()
    found = find_export_date("千牛_订单明细_导出0701.csv", None, None, mtime=mtime)
    assert (found.date, found.found_from) == (D(2025, 7, 3), "modified time")


def test_a_year_month_in_the_name_gives_a_month_day_its_year() -> None:
    # 202506 says the export is about June 2025: 0701 is 2025-07-01; 0105 after 202512 is the
    # next January
    found = find_export_date("千牛_订单明细_202506_导出0701.csv", None, None, mtime=0.0)
    assert (found.date, found.found_from) == (D(2025, 7, 1), "file name")
    assert date_from_name(["订单明细_202512_导出0105.csv"], None, None) == D(2026, 1, 5)
    assert date_from_name(["订单明细_2025-06_导出0701.csv"], None, None) == D(2025, 7, 1)
    # a year-month does not override the data's own dates
    assert date_from_name(["日报_202401_导出0701.csv"], D(2025, 6, 1), D(2025, 6, 30)) == D(
        2025, 7, 1
    )
