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
    blob = tb[1].tobytes()  # a copy, but bytes' search is far quicker than numpy's
    return any(ch.encode() in blob for ch in chars)


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


# The bytes a white space character (as Arrow trims it) starts with, and those it ends with
# or, for characters of two and three bytes, has second or third from the end.
_SPACE_FIRST = bytes([9, 10, 11, 12, 13, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0xC2, 0xE1, 0xE2, 0xE3])
_SPACE_LAST = bytes([9, 10, 11, 12, 13, 0x1C, 0x1D, 0x1E, 0x1F, 0x20])


def ends_clean(column: Any) -> bool:
    """Surely no value starts or ends with white space (so trimming would change nothing)?
    Looks at the first byte and the last three bytes of each value."""
    import numpy as np

    tb = text_bytes(column)
    if tb is None:
        return False
    off, data = tb
    starts, ends = off[:-1] - off[0], off[1:] - off[0]  # ends: past the last byte
    shortest = int((ends - starts).min())
    if shortest == 0:
        keep = ends > starts
        starts, ends = starts[keep], ends[keep]
        if not len(starts):
            return True
    first = np.zeros(256, dtype=bool)
    first[list(_SPACE_FIRST)] = True
    last = np.zeros(256, dtype=bool)
    last[list(_SPACE_LAST)] = True
    if first[data[starts]].any() or last[data[ends - 1]].any():
        return False
    two, three = ends - 2, ends - 3  # inside the value where it is long enough
    if shortest < 3:
        two, three = two[two >= starts], three[three >= starts]
    if (data[two] == 0xC2).any():  # U+0085, U+00A0
        return False
    mid = data[three]
    return not ((mid >= 0xE1) & (mid <= 0xE3)).any()  # U+1680, U+2000…U+205F, U+3000


def grouped_ints(column: Any) -> Any:
    """Whole numbers written with digits and commas only (`1,234`, the way 聚光 writes its
    counts), every value at least one digit: the int64 values, or None. Commas are dropped
    wherever they stand, as :func:`redcat_cli.ingest.values.parse_int` drops them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tb = text_bytes(column)
    if tb is None:
        return None
    off, data = tb
    if int((off[1:] - off[:-1]).min()) == 0 or int((off[1:] - off[:-1]).max()) > 40:
        return None
    allowed = np.zeros(256, dtype=bool)
    allowed[list(b"0123456789,")] = True
    if not allowed[data].all():
        return None
    try:
        return pc.cast(pc.replace_substring(column, ",", ""), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a value of commas only, or too large: the exact path says which
