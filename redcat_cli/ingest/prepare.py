"""Rows of a batch checked and typed before they reach the store: footers and blank rows set
aside, every value read, bad rows turned into rejects, the rest staged with their natural key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from redcat_cli.errors import IngestError, UsageError
from redcat_cli.ingest.bytescan import may_start_with
from redcat_cli.ingest.csvsplit import Batch, NotStreamable
from redcat_cli.ingest.kinds import Kind
from redcat_cli.ingest.reader import RawTable
from redcat_cli.ingest.results import Reject
from redcat_cli.ingest.values import MISSING, decide_date_order, parse_column
from redcat_cli.store.db import KEY_SEP

TOTAL_PREFIXES = ("合计", "总计", "汇总", "总合计", "全部合计")  # total rows start with these


def _lead_bytes() -> bytes:
    """The first bytes (UTF-8) of a cell that may be a total, perhaps after white space: 合 全
    (E5), 总 汇 (E6), and the first bytes of every character that Arrow trims as space."""
    chars = "".join(p[0] for p in TOTAL_PREFIXES) + "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0"
    chars += "\u1680\u2000\u2028\u202f\u205f\u3000"
    return bytes(sorted({c.encode()[0] for c in chars}))


_TOTAL_LEAD = _lead_bytes()


@dataclass
class _Rows:
    """Rows of one batch ready for the store, and what was learnt about the others."""

    staged: Any  # Arrow table: the typed fields, _key, _line, _lower_bound, _ingest_id
    sub: Any  # the text of the rows considered (for the rejects file)
    sub_lines: Any
    rows_read: int
    rows_skipped: int
    rejects: list[Reject]
    lower_bound: int
    done: int  # bytes of the input read
    final: bool  # the file's last batch
    dates: tuple[Any, Any] | None  # the first and last data date of the staged rows


def _ahead(items: Iterator[_Rows]) -> Iterator[_Rows]:
    """Prepare the next batch on the other core while the store writes this one. (A file of
    one batch, most files, is prepared right here: a thread per small file costs more than
    the file.)"""
    items = iter(items)
    first = next(items, None)
    if first is None:
        return
    if first.final:
        yield first
        return
    yield from _in_thread(first, items)


def _in_thread(first: _Rows, items: Iterator[_Rows]) -> Iterator[_Rows]:
    import queue
    import threading

    q: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(item)
            q.put(end)
        except BaseException as e:  # handed to the consumer, raised there
            q.put(e)

    t = threading.Thread(target=work, name="redcat-prepare", daemon=True)
    t.start()
    try:
        yield first
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while t.is_alive():  # let a blocked put finish, then the worker sees `stop`
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        t.join()


def _footer_like(kind: Kind, match: Any, table: Any) -> tuple[Any, Any, Any, Any]:
    """Per row: cells filled; not blank; only the first cell filled; a total row (合计…)."""
    import numpy as np
    import pyarrow.compute as pc

    n = table.num_rows
    nonempty = np.zeros(n, dtype=np.int32)
    for i in range(table.num_columns):
        nonempty += pc.binary_length(table.column(i)).to_numpy() > 0
    keep = nonempty > 0
    total = np.zeros(n, dtype=bool)
    check_cols = {
        0,
        *[i for i, f in match.columns.items() if f in kind.key or kind.fields[f].required],
    }
    for i in check_cols:
        if i < table.num_columns:
            col = table.column(i)
            if not may_start_with(col, _TOTAL_LEAD):  # most columns: no
                continue
            cell = pc.utf8_ltrim_whitespace(col)
            for prefix in TOTAL_PREFIXES:  # starts_with: several times faster than a regex
                total |= pc.starts_with(cell, prefix).to_numpy()
    first_only = (nonempty == 1) & (pc.binary_length(table.column(0)).to_numpy() > 0 if n else keep)
    return nonempty, keep, first_only, total


@dataclass
class _Part:
    """A batch of rows, and whether it holds the file's last rows (its footer, if any)."""

    columns: Any
    lines: Any
    ragged: list[Any]
    done: int
    final: bool
    flags: tuple[Any, Any, Any, Any] | None = None  # _footer_like of these rows, if known


def _whole_footers(raw: RawTable) -> Iterator[_Part]:
    """The batches, each but the last without its trailing rows that could be a footer
    (blank, one cell, 合计…): those go on to the next batch, so only the rows at the very end
    of the file are judged as its footer, as if it were read whole. A batch that ends before
    the input does is passed on at once (its store write then overlaps the next one's
    parse); the one that reaches the end waits to see whether another follows."""
    import numpy as np
    import pyarrow as pa

    carried: Batch | None = None  # the trailing footer-like rows of the batch before
    held: Batch | None = None  # a batch that may be the last
    for b in raw.batches:
        if held is not None:  # not the last after all
            part, carried = _cut_footer_like(raw, held)
            held = None
            yield part
        if carried is not None and carried.columns.num_rows:
            b = Batch(
                pa.concat_tables([carried.columns, b.columns]),
                np.concatenate([carried.lines, b.lines]),
                b.ragged,
                b.done,
            )
        carried = None
        if b.done < raw.size:
            part, carried = _cut_footer_like(raw, b)
            yield part
        else:
            held = b
    if carried is not None and carried.columns.num_rows:
        held = carried  # the input ended sooner than its size said
    if held is not None:
        yield _Part(held.columns, held.lines, held.ragged, held.done, True)


def _cut_footer_like(raw: RawTable, b: Batch) -> tuple[_Part, Batch]:
    """A batch that is not the file's last, without its trailing rows that could be a
    footer; and those rows, to go on to the next batch."""
    flags = _footer_like(raw.kind, raw.match, b.columns)
    _, keep, first_only, total = flags
    cut = len(keep)
    while cut > 0 and (not keep[cut - 1] or first_only[cut - 1] or total[cut - 1]):
        cut -= 1
    head = tuple(f[:cut] for f in flags)
    rest = Batch(b.columns.slice(cut), b.lines[cut:], [], b.done)
    return _Part(b.columns.slice(0, cut), b.lines[:cut], b.ragged, b.done, False, head), rest


def _fixed_values(
    kind: Kind, match: Any, name: str, fixed: dict[str, str], date_order: str | None
) -> dict[str, Any]:
    """`--set FIELD=VALUE`: each value checked once, as an Arrow scalar of the field's type."""
    import pyarrow as pa

    out: dict[str, Any] = {}
    present = set(match.columns.values())
    for fname, text in fixed.items():
        fixed_field = kind.fields.get(fname)
        if fixed_field is None:
            raise UsageError(
                f"--set {fname}: {name} is a {kind.name} export, which has no field {fname}",
                hint=f"its fields: {', '.join(kind.fields)}",
            )
        if fname in present:
            raise UsageError(
                f"--set {fname}: {name} has that column ({fixed_field.label}) already",
                hint=f"drop --set {fname} for this file",
            )
        one = parse_column(
            pa.array([text], pa.string()),
            fixed_field.type,
            missing=frozenset(),
            date_order=date_order,
            signed=fixed_field.signed,
        )
        if one.errors or one.values[0].as_py() is None:
            raise UsageError(
                f"--set {fname}={text}: {one.errors.get(0, 'no value')}",
                hint=f"{fname} is of type {fixed_field.type}",
            )
        out[fname] = one.values[0]
    return out


@dataclass
class _Text:
    """The rows of one batch to be typed, as text, and what is known of the others."""

    raw: RawTable
    sub: Any  # the text of the rows considered (blank rows and footers set aside)
    sub_lines: Any
    rows_read: int
    rows_skipped: int
    ragged: list[Reject]
    orders: dict[int, str | None]  # column index -> the day/month order to read it with
    fixed: dict[str, Any]
    done: int
    final: bool
    ingest_id: int

    def same_reading(self) -> tuple[Any, ...]:
        """Batches that agree on this are typed alike, so they can be typed as one."""
        kind = self.raw.kind
        return (
            kind.name,
            tuple(self.raw.header),
            tuple(self.raw.match.columns.items()),
            tuple(self.orders.items()),
            tuple(self.fixed),
        )


def _prepare(
    raw: RawTable,
    part: _Part,
    orders: dict[int, str | None],
    date_order: str | None,
    fixed: dict[str, Any],
    merchant: str,
    ingest_id: int,
) -> _Rows:
    """One batch checked and typed: footers and blank rows set aside, every value read, the
    rows with a bad value turned into rejects, the rest staged with their natural key."""
    text = _select(raw, part, orders, date_order, fixed, ingest_id)
    return _typed([text], merchant)[1][0]


def _select(
    raw: RawTable,
    part: _Part,
    orders: dict[int, str | None],
    date_order: str | None,
    fixed: dict[str, Any],
    ingest_id: int,
    decided: dict[int, str | None] | None = None,
) -> _Text:
    """The rows of a batch that hold values (footers and blank rows set aside), and the
    day/month order of each date column as the file's rows so far decide it (or as
    ``decided`` gives it: known for many small files at once)."""
    import numpy as np
    import pyarrow as pa

    kind, match = raw.kind, raw.match
    table, lines = part.columns, part.lines
    n = table.num_rows
    keep, skipped = _set_aside(kind, match, part)
    active = keep & ~skipped
    active_idx = np.nonzero(active)[0]
    m = len(active_idx)
    if m == n:
        sub = table
    elif m and active_idx[-1] - active_idx[0] + 1 == m:  # one contiguous run: a zero-copy slice
        sub = table.slice(int(active_idx[0]), m)
    else:
        sub = table.filter(pa.array(active))
    col_orders: dict[int, str | None] = {}
    for ci, fname in match.columns.items():
        order = date_order
        if kind.fields[fname].type in ("date", "datetime") and order is None:
            if decided is not None:
                order = decided[ci]
            else:
                order = _date_order(raw, ci, sub.column(ci).combine_chunks(), orders)
        col_orders[ci] = order
    return _Text(
        raw,
        sub,
        lines[active_idx],
        int(keep.sum()) + len(part.ragged),
        int(skipped.sum()),
        [Reject(rg.line, rg.reason, rg.fields) for rg in part.ragged],
        col_orders,
        fixed,
        part.done,
        part.final,
        ingest_id,
    )


def _typed(texts: list[_Text], merchant: str) -> tuple[Any, list[_Rows]]:
    """Batches that read alike (:meth:`_Text.same_reading`: one file's, or many small files'
    of one header) typed in one pass: every value read, the rows with a bad value turned into
    rejects, the rest staged with their natural key and their file's ingest id. Returns the
    staged rows of all, and each batch's own (its staged rows a slice of all)."""
    import numpy as np
    import pyarrow as pa

    first = texts[0]
    kind = first.raw.kind
    sub = first.sub if len(texts) == 1 else pa.concat_tables([t.sub for t in texts])
    sizes = np.array([t.sub.num_rows for t in texts], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    m = int(starts[-1])
    sub_lines = first.sub_lines if len(texts) == 1 else np.concatenate([t.sub_lines for t in texts])
    typed, errors, lower_bound = _typed_columns(first.raw, sub, first.orders)
    for fname, value in first.fixed.items():
        typed[fname] = pa.repeat(value, m)
    _required(kind, typed, errors)
    rejects: list[list[Reject]] = [list(t.ragged) for t in texts]
    if errors:
        bad_rows = sorted(errors)
        raw_rows = sub.take(pa.array(bad_rows)).to_pylist()
        owner = np.searchsorted(starts, bad_rows, side="right") - 1
        for r, cells, i in zip(bad_rows, raw_rows, owner.tolist(), strict=True):
            rejects[i].append(Reject(int(sub_lines[r]), "; ".join(errors[r]), list(cells.values())))
    good = np.ones(m, dtype=bool)
    if errors:
        good[list(errors)] = False
    good_idx = np.nonzero(good)[0]
    cols: dict[str, Any] = {}
    for fname, arr in typed.items():
        cols[fname] = arr.take(pa.array(good_idx)) if len(good_idx) != m else arr
    cols["_key"] = _arrow_key(kind, cols, len(good_idx), merchant)
    cols["_line"] = pa.array(sub_lines[good_idx], pa.int64())
    lb_values = (
        [",".join(lower_bound[r]) if r in lower_bound else None for r in good_idx.tolist()]
        if lower_bound
        else None
    )
    cols["_lower_bound"] = (
        pa.array(lb_values, pa.string()) if lb_values else pa.nulls(len(good_idx), pa.string())
    )
    cols["merchant"] = pa.repeat(pa.scalar(merchant, pa.string()), len(good_idx))
    ids = np.repeat(np.array([t.ingest_id for t in texts], dtype=np.int64), sizes)
    cols["_ingest_id"] = pa.array(ids[good_idx], pa.int64())
    staged = pa.table(cols)
    # each batch's share: its good rows, its lower bounds (of rows not rejected)
    good_starts = np.searchsorted(good_idx, starts)
    lower = np.zeros(len(texts), dtype=np.int64)
    for r, fields in lower_bound.items():
        if r not in errors:
            lower[np.searchsorted(starts, r, side="right") - 1] += len(fields)
    ranges = _date_ranges(kind, staged, good_starts)
    out = []
    for i, t in enumerate(texts):
        mine = staged.slice(int(good_starts[i]), int(good_starts[i + 1] - good_starts[i]))
        out.append(
            _Rows(
                mine,
                t.sub,
                t.sub_lines,
                t.rows_read,
                t.rows_skipped,
                rejects[i],
                int(lower[i]),
                t.done,
                t.final,
                ranges[i],
            )
        )
    return staged, out


def _required(kind: Kind, typed: dict[str, Any], errors: dict[int, list[str]]) -> None:
    """Rows with no value in a required field (and no other fault) are rejected for it."""
    import numpy as np
    import pyarrow.compute as pc

    for fname in kind.required:
        if fname in typed:
            nulls = pc.is_null(typed[fname]).to_numpy(zero_copy_only=False)
            for r in np.nonzero(nulls)[0].tolist():
                if r not in errors:
                    errors.setdefault(r, []).append(f"{kind.fields[fname].label} is empty")


def _set_aside(kind: Kind, match: Any, part: _Part) -> tuple[Any, Any]:
    """Per row: not blank; skipped (a total row, or the file's footer at its very end)."""
    n = part.columns.num_rows
    nonempty, keep, first_only, skipped = part.flags or _footer_like(kind, match, part.columns)
    skipped = skipped.copy()
    if part.final:
        _mark_footer(kind, match, (keep, first_only, skipped), 0, n)
    skipped &= keep
    return keep, skipped


def _mark_footer(kind: Kind, match: Any, flags: tuple[Any, Any, Any], start: int, end: int) -> None:
    """A file's last rows (``start:end`` of the flags ``keep, first_only, skipped``), from its
    end back to its data: a footer (one text cell after the data, no key) is marked skipped."""
    keep, first_only, skipped = flags
    idx = end - 1
    while idx >= start and (not keep[idx] or first_only[idx] or skipped[idx]):
        if keep[idx] and first_only[idx] and not _first_is_data(kind, match):
            skipped[idx] = True
        idx -= 1


def _typed_columns(
    raw: RawTable, sub: Any, orders: dict[int, str | None]
) -> tuple[dict[str, Any], dict[int, list[str]], dict[int, list[str]]]:
    """Every matched column read as its field's type: the typed values by field, and per row
    the reasons it is rejected and the fields holding a lower bound (10万+)."""
    kind, header = raw.kind, raw.header
    errors: dict[int, list[str]] = {}
    lower_bound: dict[int, list[str]] = {}
    typed: dict[str, Any] = {}
    missing_set = frozenset(MISSING | set(kind.missing))
    for ci, fname in raw.match.columns.items():
        f = kind.fields[fname]
        col = sub.column(ci).combine_chunks()
        parsed = parse_column(
            col, f.type, missing=missing_set, date_order=orders[ci], signed=f.signed
        )
        typed[fname] = parsed.values
        for r, reason in parsed.errors.items():
            errors.setdefault(r, []).append(f"{header[ci]}: {reason}")
        for r in parsed.lower_bound_rows:
            lower_bound.setdefault(r, []).append(fname)
    return typed, errors, lower_bound


def _date_ranges(kind: Kind, staged: Any, bounds: Any) -> list[tuple[Any, Any] | None]:
    """The first and last date of the kind's date column in each run of rows
    ``bounds[i]:bounds[i + 1]`` of ``staged`` (one per batch; None where it has none), in one
    pass however many batches (many small files typed together)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    k = len(bounds) - 1
    date_col = kind.summary.get("date")
    if not date_col or date_col not in staged.column_names or not staged.num_rows:
        return [None] * k
    col = staged.column(date_col)
    as_int = pa.int32() if pa.types.is_date32(col.type) else pa.int64()
    ints = pc.cast(pc.cast(col, as_int), pa.int64())
    info = np.iinfo(np.int64)
    lo = pc.fill_null(ints, info.max).to_numpy().astype(np.int64)
    hi = pc.fill_null(ints, info.min).to_numpy().astype(np.int64)
    bounds = np.asarray(bounds, dtype=np.int64)
    filled = np.flatnonzero(bounds[1:] > bounds[:-1])  # batches with rows
    out: list[tuple[Any, Any] | None] = [None] * k
    if not len(filled):
        return out
    mins = np.minimum.reduceat(lo, bounds[filled])
    maxs = np.maximum.reduceat(hi, bounds[filled])

    seen: dict[int, Any] = {}  # (a few hundred days among thousands of batches)

    def day(v: int) -> Any:
        if v not in seen:
            value = pa.scalar(v, as_int).cast(col.type).as_py()
            seen[v] = value.date() if isinstance(value, dt.datetime) else value
        return seen[v]

    for i, a, b in zip(filled.tolist(), mins.tolist(), maxs.tolist(), strict=True):
        if a != info.max:  # (else every date of the batch is missing)
            out[i] = (day(a), day(b))
    return out


def _date_order(raw: RawTable, ci: int, col: Any, orders: dict[int, str | None]) -> str | None:
    """The day/month order of a date column, decided by the values seen so far in the file.

    A batch that cannot tell, before any batch could, sends the file to the exact path (which
    sees the whole column at once)."""
    try:
        decided = decide_date_order(col)
    except ValueError as e:
        raise _column_error(raw, ci, str(e)) from None
    known = orders.get(ci)
    if decided in (None, "ambiguous"):
        if known is not None:
            return known
        if decided == "ambiguous":
            if raw.exact:
                raise IngestError(
                    f"{raw.name}: column {raw.header[ci]}: dates like 1/11/2024 with no day over "
                    "12, so day/month order cannot be told",
                    hint="say which with --date-order dmy (19/05/2025) or --date-order mdy (05/19/2025)",
                )
            raise NotStreamable(f"{raw.name}: day/month order not settled by the first rows")
        return None
    if known is not None and known != decided:
        raise _column_error(raw, ci, "dates mix day-first and month-first forms")
    orders[ci] = decided
    return decided


def _column_error(raw: RawTable, ci: int, reason: str) -> IngestError:
    return IngestError(
        f"{raw.name}: column {raw.header[ci]}: {reason}",
        hint="the file was probably edited by hand; export it again",
    )


def _first_is_data(kind: Kind, match: Any) -> bool:
    """A single-cell row is a footer unless that single cell could be a complete row."""
    return len(kind.required) <= 1 and not kind.required_any and 0 in match.columns


def _arrow_key(kind: Kind, cols: dict[str, Any], n: int, merchant: str) -> Any:
    """The natural key as one text column: the merchant, then the kind's key parts, joined
    by U+001F; a missing part as ''."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [pa.scalar(merchant, pa.string())]
    for k in kind.key:
        if k in cols:
            parts.append(pc.fill_null(pc.cast(cols[k], pa.string()), ""))
        else:
            parts.append(pa.scalar("", pa.string()))
    key = pc.binary_join_element_wise(*parts, KEY_SEP)
    return pa.repeat(key, n) if isinstance(key, pa.Scalar) else key
