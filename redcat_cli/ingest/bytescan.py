"""Cheap looks at the bytes of an Arrow string column, with numpy and without a copy: they
tell most columns that an Arrow kernel (a regex, a search, a trim) would find nothing in.
Each answers "maybe" for anything it cannot look at cheaply, so the exact check still runs."""

from __future__ import annotations

from typing import Any


def text_bytes(column: Any) -> tuple[Any, Any] | None:
    """The offsets and the bytes of the values of a string array, as numpy views: value
    ``i`` is ``data[off[i] - off[0]:off[i + 1] - off[0]]``. None for anything else (a chunked
    or large string column, an empty one). A null's bytes are empty or absent, so a check
    that finds nothing in ``data`` finds nothing in the values."""
    import numpy as np
    import pyarrow as pa

    if not isinstance(column, pa.Array) or column.type != pa.string() or not len(column):
        return None
    _, offsets, data = column.buffers()
    off = np.frombuffer(offsets, dtype=np.int32, count=len(column) + 1, offset=column.offset * 4)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return off, raw[off[0] : off[-1]]


def holds_any(column: Any, chars: tuple[str, ...]) -> bool:
    """Does any value hold one of these ASCII characters? (No byte of a multi-byte UTF-8
    character is ASCII, so a byte scan answers exactly.)"""
    import pyarrow.compute as pc

    tb = text_bytes(column)
    if tb is None:
        return any(pc.any(pc.match_substring(column, ch)).as_py() for ch in chars)
    data = tb[1]
    return any(bool((data == ord(ch)).any()) for ch in chars)


def longer_than(column: Any, limit: int) -> bool:
    """Does any value have more than ``limit`` characters?"""
    import pyarrow.compute as pc

    tb = text_bytes(column)
    if tb is not None and int((tb[0][1:] - tb[0][:-1]).max()) <= limit:
        return False  # bytes: no more characters than that
    longest = pc.max(pc.utf8_length(column)).as_py()
    return longest is not None and longest > limit


_SPACE_BYTES = [9, 10, 11, 12, 13, 32]  # what a regex's \s matches (RE2: ASCII only)
_DMY_SEP = [ord("-"), ord("/"), ord(".")]


def maybe_dmy(column: Any) -> bool:
    """Could a value be `a/b/yyyy` (perhaps after spaces)? Not unless it starts with a space
    or has a separator (- / .) as its second or third byte: three bytes of each value."""
    import numpy as np

    tb = text_bytes(column)
    if tb is None:
        return True
    off, data = tb
    start, length = off[:-1] - off[0], off[1:] - off[:-1]
    start = start[length >= 8]  # d/m/yyyy at least
    if not len(start):
        return False
    lead = np.isin(data[start], _SPACE_BYTES)
    sep = np.isin(data[start + 1], _DMY_SEP) | np.isin(data[start + 2], _DMY_SEP)
    return bool((lead | sep).any())


def may_start_with(column: Any, first: bytes) -> bool:
    """Could a cell of this (chunked) column start with one of these bytes? A look at the
    first byte of each non-empty cell."""
    import numpy as np

    lead = np.zeros(256, dtype=bool)
    lead[list(first)] = True
    for chunk in getattr(column, "chunks", [column]):
        tb = text_bytes(chunk)
        if tb is None:
            if len(chunk):
                return True
            continue
        off, data = tb
        starts = (off[:-1] - off[0])[off[1:] > off[:-1]]
        if lead[data[starts]].any():
            return True
    return False
