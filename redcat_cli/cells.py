"""Display width of text in a terminal or a table cell: a CJK character takes two cells.

Used where titles are cut to fit (the terminal's tables, the report's chart labels) without
depending on the terminal library.
"""

from __future__ import annotations

import unicodedata


def char_width(ch: str) -> int:
    """Cells one character takes: 0 for combining marks and controls, 2 for wide and
    full-width characters (East Asian Width W or F), else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Cc", "Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_len(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def truncate(text: str, cells: int) -> str:
    """Cut to a display width, with an ellipsis; the end is kept too, so that numbered titles
    (…第11期, …试色12) stay told apart."""
    if cell_len(text) <= cells:
        return text
    tail = ""
    for ch in reversed(text):
        if cell_len(ch + tail) > min(6, cells // 3):
            break
        tail = ch + tail
    return _cut(text, cells - 1 - cell_len(tail)).rstrip() + "…" + tail


def _cut(text: str, cells: int) -> str:
    """The longest head of text that fits in cells, padded with spaces to exactly cells (a wide
    character that would straddle the edge is left out)."""
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > cells:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (cells - used)
