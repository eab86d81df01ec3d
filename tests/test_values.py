"""Cell values: every form of the real exports, and round trips through the formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redcat_cli.ingest.values import (
    MISSING,
    decide_date_order,
    parse_column,
    parse_date,
    parse_datetime,
    parse_days,
    parse_id,
    parse_int,
    parse_money,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "value", "plus"),
    [
        ("1,234", 1234, False),
        ("12.0", 12, False),
        ("1.2万", 12000, False),
        ("3.1w", 31000, False),
        ("10万+", 100000, True),
        ("-7", -7, False),
        (" 42 ", 42, False),
    ],
)
def test_int_forms(text: str, value: int, plus: bool) -> None:
    assert parse_int(text) == (value, plus)


@pytest.mark.parametrize(
    "text", ["12.5", "abc", "13.83%", "1.2.3", "万", "99999999999999999999999"]
)
def test_int_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_int(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("¥51元", Decimal("51")),
        ("￥0.01", Decimal("0.01")),
        ("1.2万", Decimal("12000")),
        ("-3.5", Decimal("-3.5")),
        ("100.1234", Decimal("100.1234")),
    ],
)
def test_money_is_exact(text: str, value: Decimal) -> None:
    got = parse_money(text)
    assert got == value
    assert isinstance(got, Decimal)


def test_money_refuses_more_places_than_stored() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        parse_money("1.23456")
    assert parse_money("1.23450") == Decimal("1.2345")
    with pytest.raises(ValueError, match="too large"):
        parse_money("1" + "0" * 40)


def test_rates() -> None:
    assert parse_rate("13.83%") == 0.1383
    assert parse_rate("0.2109") == 0.2109
    assert parse_rate("7.9%") == 0.079


def test_days() -> None:
    assert [parse_days(t) for t in ("30", "30天", "7日", "近15天")] == [30, 30, 7, 15]


def test_ids_are_text() -> None:
    assert parse_id('="1930679858170647"') == "1930679858170647"
    assert parse_id("'154839030206893571") == "154839030206893571"
    assert parse_id("6e1811800000000001000002") == "6e1811800000000001000002"
    with pytest.raises(ValueError, match="scientific notation"):
        parse_id("1.93068E+15")


@pytest.mark.parametrize(
    ("text", "order", "value"),
    [
        ("2025-06-01", None, dt.date(2025, 6, 1)),
        ("2025/6/1", None, dt.date(2025, 6, 1)),
        ("20250601", None, dt.date(2025, 6, 1)),
        ("2025年6月1日", None, dt.date(2025, 6, 1)),
        ("2025-06-01 12:30:00", None, dt.date(2025, 6, 1)),
        ("45809", None, dt.date(2025, 6, 1)),  # Excel serial
        ("19/05/2025", "dmy", dt.date(2025, 5, 19)),
        ("1/11/2024", "dmy", dt.date(2024, 11, 1)),
        ("1/11/2024", "mdy", dt.date(2024, 1, 11)),
    ],
)
def test_date_forms(text: str, order: str | None, value: dt.date) -> None:
    assert parse_date(text, order) == value


def test_datetime_chinese_with_time() -> None:
    assert parse_datetime("2026年03月16日08时00分29秒") == dt.datetime(2026, 3, 16, 8, 0, 29)


def test_date_refusals() -> None:
    with pytest.raises(ValueError, match="day/month order"):
        parse_date("1/11/2024")
    with pytest.raises(ValueError, match="range"):
        parse_date("2025-06-01~2025-06-07")
    with pytest.raises(ValueError):
        parse_date("2025-02-30")


def test_date_order_is_decided_per_column() -> None:
    assert decide_date_order(pa.array(["19/05/2025", "1/06/2025"])) == "dmy"
    assert decide_date_order(pa.array(["05/19/2025", "06/01/2025"])) == "mdy"
    assert decide_date_order(pa.array(["1/11/2024", "2/11/2024"])) == "ambiguous"
    assert decide_date_order(pa.array(["2025-06-01"])) is None
    with pytest.raises(ValueError):
        decide_date_order(pa.array(["19/05/2025", "05/19/2025"]))


def test_missing_markers_are_null_not_zero() -> None:
    markers = ["-", "—", "--", "_", "暂无", "数据较少", "nan", "NaN", "None", "无退款申请", ""]
    for m in markers:
        assert m in MISSING
    res = parse_column(pa.array(markers + ["0"]), "int")
    assert res.values.to_pylist() == [None] * len(markers) + [0]
    assert res.errors == {}


def test_column_errors_name_the_value() -> None:
    res = parse_column(pa.array(["12", "abc", "7"]), "int")
    assert res.values.to_pylist() == [12, None, 7]
    assert res.errors == {1: "cannot read 'abc' as a whole number"}


def test_lower_bounds_are_counted() -> None:
    res = parse_column(pa.array(["10万+", "5", "10万+"]), "int")
    assert res.values.to_pylist() == [100000, 5, 100000]
    assert res.lower_bound_rows == [0, 2]


# --- property tests: format a value, parse it back ---------------------------------------

money_values = st.decimals(
    min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2
)


@given(money_values, st.sampled_from(["plain", "grouped", "yen", "yuan"]))
def test_money_round_trip(value: Decimal, style: str) -> None:
    text = {"plain": f"{value}", "grouped": f"{value:,}", "yen": f"¥{value}", "yuan": f"{value}元"}[
        style
    ]
    assert parse_money(text) == value


@given(st.integers(min_value=-(10**12), max_value=10**12), st.booleans())
def test_int_round_trip(value: int, group: bool) -> None:
    text = f"{value:,}" if group else str(value)
    assert parse_int(text) == (value, False)


@given(st.integers(min_value=1, max_value=99999))
def test_wan_round_trip(tenths: int) -> None:
    # 1.2万 style: tenths of 万 are whole numbers of units
    text = f"{tenths // 10}.{tenths % 10}万"
    assert parse_int(text) == (tenths * 1000, False)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_round_trip(d: dt.date) -> None:
    forms = [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        d.strftime("%Y%m%d"),
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.isoformat()} 12:30:00",
        str((d - dt.date(1899, 12, 30)).days),
    ]
    for text in forms:
        assert parse_date(text) == d, text
    assert parse_date(f"{d.day}/{d.month}/{d.year}", "dmy") == d
    assert parse_date(f"{d.month}/{d.day}/{d.year}", "mdy") == d


@settings(max_examples=60)
@given(
    st.lists(
        st.one_of(
            st.integers(min_value=-(10**9), max_value=10**9).map(str),
            st.decimals(min_value=-1000, max_value=1000, places=2).map(lambda d: f"{d:,}"),
            st.sampled_from(["-", "暂无", "1.2万", "10万+", "abc", "12.0", "1e3"]),
        ),
        max_size=30,
    )
)
def test_column_fast_path_agrees_with_scalar_parser(texts: list[str]) -> None:
    """The vectorised column parser gives exactly what the scalar parser gives, value by value."""
    res = parse_column(pa.array(texts, pa.string()), "money")
    for i, t in enumerate(texts):
        if t.strip() in MISSING:
            assert res.values[i].as_py() is None
            continue
        try:
            expected = parse_money(t)
        except ValueError:
            assert i in res.errors
            continue
        assert res.values[i].as_py() == expected
        assert i not in res.errors


@settings(max_examples=80)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A[0-9]{1,19}\Z"),
            st.from_regex(r'\A="[0-9]{0,19}"\Z'),
            st.from_regex(r"\A'[0-9a-f]{1,24}\Z"),
            st.sampled_from(
                ["1.93068E+15", "6e1811800000000001000002", '="', '=" 77 "', "-", "null", " x "]
            ),
            st.text(max_size=6),
        ),
        max_size=25,
    )
)
def test_ids_vectorised_agree_with_scalar_parser(texts: list[str]) -> None:
    res = parse_column(pa.array(texts, pa.string()), "id")
    for i, t in enumerate(texts):
        got = res.values[i].as_py()
        if t.strip() in MISSING:
            assert got is None
            continue
        try:
            expected = parse_id(t)
        except ValueError as e:
            if "scientific" in str(e) or "stray quote" in str(e):
                assert i in res.errors
            else:  # an empty id (`=""`) is a missing value
                assert got is None and i not in res.errors
            continue
        assert got == expected, (t, got, expected)


def test_oversized_values_are_rejected_not_crashing() -> None:
    res = parse_column(pa.array(["1,23", "99999999999999999999999", "-"]), "int")
    assert res.values.to_pylist() == [123, None, None]
    assert res.errors == {1: "'99999999999999999999999' is too large for a count"}
    res = parse_column(pa.array(["123456789012345.5", "1,234.50"]), "money")
    assert res.values.to_pylist() == [None, Decimal("1234.50")]
    assert "too large" in res.errors[0]


@given(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_datetime_column_agrees_with_scalar_parser(d: dt.datetime) -> None:
    texts = [
        d.strftime("%Y-%m-%d %H:%M:%S"),
        d.strftime("%Y-%m-%dT%H:%M:%S"),
        d.strftime("%Y/%m/%d %H:%M:%S"),
    ]
    for t in texts:
        res = parse_column(pa.array([t, t]), "datetime")
        assert res.values.to_pylist() == [parse_datetime(t)] * 2 == [d] * 2, t
