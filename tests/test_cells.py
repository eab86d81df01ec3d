"""Display widths and cutting titles to fit, against rich's own cell table (the terminal's)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len as rich_len
from rich.cells import set_cell_size

from redcat_cli.cells import cell_len, truncate

ALPHABET = "abcXYZ 0123口红礼盒开箱第期：，。！？（）【】😀✨🔥€é̃—·×\u200b"


@given(st.text(alphabet=ALPHABET, max_size=60))
def test_width_agrees_with_the_terminal(text: str) -> None:
    assert cell_len(text) == rich_len(text)


@given(st.text(alphabet=ALPHABET, max_size=60), st.integers(min_value=4, max_value=40))
def test_a_cut_title_fits_and_keeps_its_head_and_tail(text: str, cells: int) -> None:
    out = truncate(text, cells)
    if rich_len(text) <= cells:
        assert out == text
        return
    assert rich_len(out) <= cells and "…" in out
    head, _, tail = out.rpartition("…")
    assert text.startswith(head.rstrip()) and text.endswith(tail)
    # the head is as long as fits: rich's own cut of the same text to the same width
    assert head.rstrip() == set_cell_size(text, cells - 1 - rich_len(tail)).rstrip()


def test_numbered_titles_stay_told_apart() -> None:
    a, b = "秋冬口红推荐合集第11期", "秋冬口红推荐合集第19期"
    assert truncate(a, 14) == "秋冬口红…11期" and truncate(b, 14) == "秋冬口红…19期"
