"""A column of ids, vectorised: what :func:`redcat_cli.ingest.values.parse_id` gives each
value, for a whole column at once."""

from __future__ import annotations

from typing import Any

from redcat_cli.ingest.bytescan import ends_clean, text_bytes

# No id as exported holds these unless it needs unwrapping (="…", a leading '), refusing (a
# stray quote or =) or a look for scientific notation (1.93E+15 holds a point).
_SPECIAL = (b'"', b"=", b"'", b".")


def _plain_ids(s: Any, present: Any) -> Any:
    """The ids of a column that needs none of that, or None: no byte of ``_SPECIAL``, no
    empty value (then every present value is its id, as it stands), or every value `="…"`
    around such an id (then the id is what is inside)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tb = text_bytes(s)
    if tb is None:
        return None
    off, data = tb
    lengths = off[1:] - off[:-1]
    if not len(lengths) or int(lengths.min()) == 0:
        return None
    blob = data.tobytes()  # bytes.count: far quicker than numpy on a few MB
    counts = {c: blob.count(c) for c in _SPECIAL}
    n = len(lengths)
    none = pa.scalar(None, pa.string())
    if not any(counts.values()):
        return s if not pc.any(pc.invert(present)).as_py() else pc.if_else(present, s, none)
    starts = off[:-1] - off[0]
    wrapped = (
        counts[b"="] == n
        and counts[b'"'] == 2 * n
        and not (counts[b"'"] or counts[b"."])
        and int(lengths.min()) > 3
        and bool((data[starts] == ord("=")).all())
        and bool((data[starts + 1] == ord('"')).all())
        and bool((data[starts + lengths - 1] == ord('"')).all())
        and bool(present.true_count == n)
    )
    if not wrapped:
        return None
    inner = pc.utf8_slice_codeunits(s, 2, -1)
    return inner if ends_clean(inner) else None


def parse_ids(s: Any, present: Any) -> Any:
    """IDs, vectorised: `="…"` and a leading `'` unwrapped; scientific notation refused.

    Gives exactly what :func:`parse_id` gives, value by value (tested)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from redcat_cli.ingest.values import _SCI, ColumnResult, parse_id

    quick = _plain_ids(s, present)
    if quick is not None:
        return ColumnResult(quick)
    t = s
    wrapped = pc.and_(
        pc.and_(pc.starts_with(t, '="'), pc.ends_with(t, '"')),
        pc.greater_equal(pc.utf8_length(t), 3),
    )
    if pc.any(wrapped).as_py():
        # ="…": drop the first two and the last code unit (a slice, not a regex: 10× faster)
        t = pc.if_else(wrapped, pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(t, 2, -1)), t)
    if pc.any(pc.starts_with(t, "'")).as_py():
        t = pc.utf8_trim_whitespace(pc.replace_substring_regex(t, r"^'", ""))
    empty = pc.and_(present, pc.equal(t, ""))
    sci = pc.and_(present, pc.match_substring_regex(t, _SCI.pattern))
    stray = pc.and_(present, pc.or_(pc.match_substring(t, '"'), pc.starts_with(t, "=")))
    keep = pc.and_(present, pc.invert(pc.or_(pc.or_(empty, sci), stray)))
    result = ColumnResult(pc.if_else(keep, t, pa.scalar(None, pa.string())))
    # `=""` is an empty cell in Excel's text form: missing, like any empty cell.
    if pc.any(pc.or_(sci, stray)).as_py():
        rows = pc.indices_nonzero(pc.or_(sci, stray)).to_pylist()
        if rows:
            texts = pc.take(s, pa.array(rows)).to_pylist()
            for r, text in zip(rows, texts, strict=True):
                try:
                    parse_id(text)
                except ValueError as e:
                    result.errors[r] = str(e)
    return result
