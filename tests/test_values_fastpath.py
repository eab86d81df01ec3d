"""The column parser's fast paths against the exact scalar parsers, on generated messy columns.

Whatever a column holds (canonical values only, so that one cast takes the whole column, or
canonical values mixed with markers, padding, grouped digits, 万, %, dates in every form and
values that must be refused), each cell must come out exactly as the scalar parser reads it
alone: the same value to the last digit, the same refusal, the same lower-bound flag.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from redcat_cli.ingest.values import (
    MISSING,
    parse_column,
    parse_datetime,
    parse_days,
    parse_int,
    parse_money,
    parse_number,
    parse_rate,
)

SCALAR = {
    "int": parse_int,
    "money": lambda t: (parse_money(t), False),
    "number": lambda t: (parse_number(t), False),
    "rate": lambda t: (parse_rate(t), False),
    "days": lambda t: (parse_days(t), False),
    "date": lambda t: (parse_datetime(t).date(), False),
    "datetime": lambda t: (parse_datetime(t), False),
}

PAD = st.sampled_from(["", " ", "  ", "\t", "\u3000"])
MARKERS = st.sampled_from(sorted(MISSING))
JUNK = st.sampled_from(
    ["abc", "1e3", "0x10", "+5", "007", "1,2,3", "１２", "1.2.3", "--5", "5-", "∞", "NaN%", "null"]
)

ints = st.integers(min_value=-(10**12), max_value=10**12)
big = st.integers(min_value=10**17, max_value=10**22).map(str)
money = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False).map(
    lambda d: d.normalize() if d == d.to_integral_value() else d
)
days = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
stamps = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1))

CANONICAL = {
    "int": ints.map(str),
    "money": st.one_of(ints.map(str), money.map(lambda d: f"{d:f}")),
    "number": st.one_of(ints.map(str), money.map(lambda d: f"{d:f}")),
    "rate": money.map(lambda d: f"{d:f}"),
    "days": st.integers(min_value=0, max_value=999).map(str),
    "date": days.map(lambda d: d.isoformat()),
    "datetime": stamps.map(lambda d: d.replace(microsecond=0).isoformat(sep=" ")),
}

MESSY = {
    "int": st.one_of(
        ints.map(lambda n: f"{n:,}"),
        st.sampled_from(["1.2万", "10万+", "3.1w", "2亿", "12.0", "12.50", "1.5千", "-0"]),
        big,
    ),
    "money": st.one_of(
        money.map(lambda d: f"{d:,f}"),
        money.map(lambda d: f"¥{d:f}"),
        money.map(lambda d: f"{d:f}元"),
        st.sampled_from(["1.23456", ".5", "5.", "1.2万", "10万+", "12%", "123456789012345.5"]),
        big,
    ),
    "number": st.one_of(
        money.map(lambda d: f"{d:,f}"), st.sampled_from(["1.2万", "10万+", "3.5%", ".25"])
    ),
    "rate": st.one_of(
        money.map(lambda d: f"{d:f}%"), st.sampled_from(["12.5%", "-3%", "1.2万", "%", "0.2109"])
    ),
    "days": st.sampled_from(["30天", "7日", "近7天", "最近30天", "7d", "1000", "-7"]),
    "date": st.one_of(
        days.map(lambda d: f"{d.year:04d}/{d.month}/{d.day}"),
        days.map(lambda d: d.strftime("%Y%m%d") if d.year >= 1000 else d.isoformat()),
        days.map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
        stamps.map(lambda d: d.isoformat(sep=" ")),
        st.sampled_from(["2025-02-30", "0000-00-00", "2025-13-01", "45809", "2025-06-01 ~ 06-07"]),
    ),
    "datetime": st.one_of(
        stamps.map(lambda d: d.isoformat(sep="T")),
        stamps.map(lambda d: d.strftime("%Y/%m/%d %H:%M:%S")),
        stamps.map(lambda d: d.isoformat(sep=" ")),
        days.map(lambda d: d.isoformat()),
        st.sampled_from(["2025-06-01 24:00:00", "2025-06-01 12:60:00", "2025-02-29 10:00:00"]),
    ),
}


def expected(text: str, ftype: str) -> tuple[object, bool, bool]:
    """(value, refused, lower bound) of one cell read alone, as the scalar parser reads it."""
    if text.strip() in MISSING:
        return None, False, False
    try:
        value, plus = SCALAR[ftype](text)
    except ValueError:
        return None, True, False
    return value, False, plus


def column(ftype: str) -> st.SearchStrategy[list[str]]:
    canonical = st.lists(CANONICAL[ftype], min_size=1, max_size=30)
    cell = st.one_of(
        CANONICAL[ftype],
        MESSY[ftype],
        st.tuples(PAD, st.one_of(CANONICAL[ftype], MESSY[ftype]), PAD).map("".join),
        MARKERS,
        st.tuples(PAD, MARKERS, PAD).map("".join),
        JUNK,
    )
    return st.one_of(canonical, st.lists(cell, min_size=1, max_size=30))


def check(texts: list[str], ftype: str) -> None:
    res = parse_column(pa.array(texts, pa.string()), ftype)
    got = res.values.to_pylist()
    for i, text in enumerate(texts):
        value, refused, plus = expected(text, ftype)
        assert (i in res.errors) == refused, (ftype, text, res.errors.get(i))
        assert got[i] == value, (ftype, text, got[i], value)
        if isinstance(value, Decimal):  # the stored digits, not only the number
            assert str(got[i]) == str(value.quantize(Decimal("0.0001"))), (text, got[i])
        assert (i in res.lower_bound_rows) == plus, (ftype, text)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SCALAR)).flatmap(lambda t: st.tuples(st.just(t), column(t))))
def test_column_parser_reads_every_cell_as_the_scalar_parser(case: tuple[str, list[str]]) -> None:
    ftype, texts = case
    check(texts, ftype)


def test_a_few_cells_by_hand() -> None:
    """The reference itself, on cells worked out by hand."""
    assert expected(" 1,234 ", "int") == (1234, False, False)
    assert expected("10万+", "int") == (100000, False, True)
    assert expected("¥12.5元", "money") == (Decimal("12.5000"), False, False)
    assert expected("1.23456", "money") == (None, True, False)
    assert expected("2025-02-30", "date") == (None, True, False)
    assert expected("\u3000-\u3000", "int") == (None, False, False)
    check(["1,234", "-", "007", "12.0", "1e3"], "int")
    check(["2025-06-01", "2025/6/2", "20250603", "2025-02-30"], "date")
