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

from redcat_cli.ingest.bytescan import holds_any, longer_than, may_start_with, maybe_dmy
from redcat_cli.ingest.prepare import _TOTAL_LEAD, TOTAL_PREFIXES

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
