"""The byte-level looks at a string column against the Arrow kernels they stand in front of.

Each look may say "maybe" where the kernel finds nothing (the kernel then runs), but never
"no" where the kernel finds something; and where it gives a value, the value is the kernel's.
Columns are generated with padding, CJK text, totals and dates, and taken as slices (an
offset into shared buffers) and with nulls, as the ingest hands them over.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from redcat_cli.ingest.bytescan import (
    ends_clean,
    holds_any,
    longer_than,
    may_start_with,
    maybe_dmy,
)
from redcat_cli.ingest.prepare import _TOTAL_LEAD, TOTAL_PREFIXES
from redcat_cli.ingest.values import MISSING, parse_column, parse_id, parse_int

CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "1e3",
            "0x10",
            "12,345",
            "合计",
            " 合计12条",
            "\u3000总计",
            "\xa0汇总",
            "全部合计",
            "计划A",
            "19/05/2025",
            " 1.6.2025 10:00",
            "2025-06-01",
            "1/11/2024",
            "¥3.5万",
            "x" * 45,
            "数" * 15,
        ]
    ),
    st.text(alphabet="0123456789-/. 计合总汇exX数\u3000", max_size=14),
)


@st.composite
def columns(draw: st.DrawFn) -> pa.Array:
    cells = draw(st.lists(st.one_of(CELLS, st.none()), min_size=1, max_size=40))
    whole = pa.array(cells, pa.string())
    start = draw(st.integers(min_value=0, max_value=len(cells) - 1))
    return whole.slice(start, draw(st.integers(min_value=1, max_value=len(cells) - start)))


@settings(max_examples=300, deadline=None)
@given(columns())
def test_looks_agree_with_the_kernels(col: pa.Array) -> None:
    for chars in (("x", "X"), ("e", "E")):
        kernel = any(pc.any(pc.match_substring(col, ch)).as_py() for ch in chars)
        assert holds_any(col, chars) == bool(kernel)
    most = pc.max(pc.utf8_length(col)).as_py()
    for limit in (3, 14, 40):
        assert longer_than(col, limit) == (most is not None and most > limit)
    dmy = pc.any(pc.match_substring_regex(col, r"^\s*\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")).as_py()
    if dmy:
        assert maybe_dmy(col)
    trimmed = pc.utf8_ltrim_whitespace(col)
    total = any(pc.any(pc.starts_with(trimmed, p)).as_py() for p in TOTAL_PREFIXES)
    chunked = pa.chunked_array([col, col.slice(0, 1)])
    if total:
        assert may_start_with(chunked, _TOTAL_LEAD)


def test_looks_say_no_where_nothing_can_be() -> None:
    """What they are there for: the common column is told apart without a kernel."""
    ids = pa.array([f"3190000000000{i:06d}" for i in range(1000)]).slice(3)
    assert not holds_any(ids, ("x", "X"))
    assert not maybe_dmy(pa.array(["2025-06-01 10:00:00", "2025-06-02"]))
    assert maybe_dmy(pa.array(["2025-06-01", "1/6/2025"]))
    assert not may_start_with(pa.chunked_array([ids, ids]), _TOTAL_LEAD)
    assert may_start_with(pa.chunked_array([ids, pa.array(["\u3000合计"])]), _TOTAL_LEAD)
    assert not longer_than(pa.array(["1", "数数"]), 4)  # characters, not bytes
    assert longer_than(pa.array(["1", "数数数数数"]), 4)


def test_every_character_arrow_trims_is_seen() -> None:
    """White space at either end, of any kind Arrow trims, means the column is not clean;
    and a total row's first byte after such space is looked for too."""
    every = [chr(c) for c in range(0x3001)]  # no white space lies above U+3000
    trimmed = pc.utf8_trim_whitespace(pa.array(every)).to_pylist()
    points = [ord(ch) for ch, t in zip(every, trimmed, strict=True) if t == ""]
    assert len(points) == 29 and 0x20 in points and 0x3000 in points
    for c in points:
        for text in (f"x{chr(c)}", f"{chr(c)}x", chr(c), f"{chr(c)}数"):
            assert not ends_clean(pa.array(["1", text]).slice(1)), hex(c)
        assert chr(c).encode()[0] in _TOTAL_LEAD, hex(c)
    assert ends_clean(pa.array(["交易成功", "t**86978", "丝绒雾面口红 #316 3.5g", ""]))


def cells_as_scalar(texts: list[str], ftype: str, scalar) -> None:
    res = parse_column(pa.array(texts, pa.string()), ftype)
    for i, text in enumerate(texts):
        if text.strip() in MISSING:
            assert res.values[i].as_py() is None
            continue
        try:
            want = scalar(text)
        except ValueError as e:
            assert res.values[i].as_py() is None
            assert (i in res.errors) == (ftype != "id" or "empty id" not in str(e)), text
            continue
        assert res.values[i].as_py() == want and i not in res.errors, (text, res.values[i])


ONE_FORM_IDS = st.one_of(
    st.lists(st.from_regex(r'\A="[0-9a-d]{1,19}"\Z'), min_size=1, max_size=20),
    st.lists(st.from_regex(r"\A[0-9a-d]{1,24}\Z"), min_size=1, max_size=20),
    st.lists(st.from_regex(r"\A[0-9a-f]{1,24}\Z"), min_size=1, max_size=20),
    st.lists(st.sampled_from(["1.93068E+15", "6e18118", "1.5", "ab", "3E5"]), min_size=1),
    st.lists(
        st.one_of(
            st.from_regex(r'\A="[0-9]{0,5}[ \u3000\'"=]?"\Z'),
            st.sampled_from(["-", '="\'1"', '="1"x', '= "1"', '="1.5E+3"', "2"]),
        ),
        min_size=1,
        max_size=8,
    ),
)


@settings(max_examples=200, deadline=None)
@given(ONE_FORM_IDS)
def test_whole_columns_of_one_id_form(texts: list[str]) -> None:
    """A column every value of which is a plain id, or `="…"` around one, is read at once;
    one odd value sends it the exact way. Either way each cell is what parse_id gives."""
    cells_as_scalar(texts, "id", parse_id)


GROUPED = st.integers(min_value=0, max_value=10**21).map(lambda n: f"{n:,}")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(GROUPED, GROUPED, st.sampled_from([",", "1,,2", ",5", "007", "0", "9" * 41])),
        min_size=1,
        max_size=12,
    )
)
def test_whole_columns_of_grouped_digits(texts: list[str]) -> None:
    """Counts written 1,234 are read at once; a value too large, or commas only, is named
    by the exact way, as parse_int names it."""
    cells_as_scalar(texts, "int", lambda t: parse_int(t)[0])
