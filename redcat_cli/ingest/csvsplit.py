"""CSV text split into rows of cells: in pieces of a large file, fast where each row is one
line, and the exact splitter's helpers for multi-line cells and broken quotes."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redcat_cli.ingest.reader import Source


@dataclass
class Ragged:
    line: int
    fields: list[str]
    reason: str


@dataclass
class Batch:
    """Consecutive data rows of one input, as text."""

    columns: Any  # pyarrow Table of strings, columns c0..cN, no nulls
    lines: Any  # numpy int64 array: the line of each row
    ragged: list[Ragged] = field(default_factory=list)
    done: int = 0  # bytes of the input read so far (for progress)


class NotStreamable(Exception):
    """A piece of a file read in pieces needs the exact, whole-file path (a value spanning
    lines, a row of the wrong width, bytes not in the encoding). The caller undoes what it
    did with the earlier pieces and reads the file again with ``exact=True``."""


def _line_offset(head: bytes, lines: int) -> int | None:
    """Byte offset just after the first ``lines`` line ends of ``head`` (None: not in it)."""
    pos = 0
    for _ in range(lines):
        pos = head.find(b"\n", pos)
        if pos < 0:
            return None
        pos += 1
    return pos


FIRST_PIECE = 4 << 20  # bytes of a file's first piece (the rest: the caller's piece size)
TRANSCODED_BLOCK = 1 << 20  # pyarrow block of a file decoded by Python's codec (see _parse_piece)


def _stream_csv(
    src: Source,
    enc: str,
    start: int,
    header_line: int,
    ncols: int,
    delimiter: str,
    hasher: Any,
    piece_bytes: int,
) -> Iterator[Batch]:
    """The data rows in pieces of about ``piece_bytes`` cut at line ends, each parsed by
    pyarrow. Raises NotStreamable where a piece is not one row per line of the header's width
    (the exact path then reads the file)."""
    import numpy as np

    with src.open() as fh:
        skipped = fh.read(start)
        hasher.update(skipped)
        done = len(skipped)
        line = header_line + 1
        size = min(piece_bytes, FIRST_PIECE)  # the store's first write begins sooner
        while True:
            piece = fh.read(size)
            size = piece_bytes
            if piece and not piece.endswith(b"\n"):
                piece += fh.readline()  # up to the end of the line cut
            if not piece and done > start:
                return
            hasher.update(piece)
            done += len(piece)
            parsed = _parse_piece(piece, 0, enc, ncols, delimiter)
            if parsed is None:
                raise NotStreamable(f"{src.name}: line {line:,} onwards needs the exact reader")
            n = parsed.num_rows
            yield Batch(parsed, np.arange(line, line + n, dtype=np.int64), [], done)
            line += n
            if not piece:
                return


def _parse_piece(data: bytes, pos: int, enc: str, ncols: int, delimiter: str) -> Any:
    """The whole lines of ``data`` from byte ``pos`` as a table of text, or None if they are
    not one clean row per line of ``ncols`` fields (or not in the encoding)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(ncols)]
    if pos >= len(data):
        return pa.table({n: pa.array([], pa.string()) for n in names})
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    pa_enc = "utf8" if enc in ("utf-8", "utf-8-sig", "utf8") else enc
    # a small export in one block on this thread: the thread pool costs more than the parse
    small = len(data) - pos < 1 << 20
    # pyarrow decodes other encodings (GB18030) with Python's codec, which holds the
    # interpreter lock for a whole block: in 1 MiB blocks, the threads that type and write
    # the rows get it between blocks (1M 千牛 rows: 3.70 s in 8 MiB blocks, 3.45 s)
    block = 1 << 23 if pa_enc == "utf8" else TRANSCODED_BLOCK
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(data)[pos:])),  # no copy
            read_options=pacsv.ReadOptions(
                column_names=names,
                encoding=pa_enc,
                block_size=max(1 << 16, len(data) - pos + 1) if small else block,
                use_threads=not small,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                invalid_row_handler=on_invalid,
                ignore_empty_lines=False,
                newlines_in_values=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError):
        return None
    if invalid:
        return None
    # One row per physical line? Then no value spans lines and line numbers follow directly.
    if table.num_rows != data.count(b"\n", pos) + (0 if data.endswith(b"\n") else 1):
        return None
    return table


def _blank(data: bytes | memoryview) -> bool:
    """Only whitespace? Looks at the head first, so a big file is not copied to tell."""
    if bytes(data[:65536]).strip():
        return False
    return not bytes(data).strip()


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 5)
    sample = "\n".join(first[:5])
    counts = {d: sample.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _trim_trailing_empty(row: Sequence[Any]) -> list[str]:
    out = ["" if v is None else str(v) for v in row]
    while out and not out[-1].strip():
        out.pop()
    return out


def _multiline(ends: list[int]) -> bool:
    """Does any row of the head span several physical lines?"""
    prev = 0
    for end in ends:
        if end != prev + 1:
            return True
        prev = end
    return False


def _fast_csv(
    data: bytes, enc: str, header_line: int, ncols: int, delimiter: str, name: str
) -> Any:
    """pyarrow's multi-threaded parser for the clean case: one row per line, every row the
    header's width. Returns None when the file needs the exact (slow) path."""
    import numpy as np
    import pyarrow as pa

    pos = _line_offset(data, header_line)
    if pos is None:
        pos = len(data)
    if _blank(memoryview(data)[pos:]):  # no copy of a file of hundreds of MB
        names = [f"c{i}" for i in range(ncols)]
        empty = pa.table({n: pa.array([], pa.string()) for n in names})
        return empty, np.zeros(0, dtype=np.int64), []
    table = _parse_piece(data, pos, enc, ncols, delimiter)
    if table is None:
        return None
    lines = np.arange(header_line + 1, header_line + 1 + table.num_rows, dtype=np.int64)
    return table, lines, []


# A cell can be long (a 买家留言, a note's text), but a field beyond this is a quote left open.


def _records(lines: list[str], at: int, delimiter: str) -> Iterator[tuple[Any, int, int]]:
    """Records from line ``at`` on, each with its first and past-the-last physical line;
    ``None`` for a record with a field over the size limit (then nothing after it)."""

    def feed() -> Iterator[str]:
        for j in range(at, len(lines)):
            yield lines[j]

    reader = csv.reader(feed(), delimiter=delimiter)
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield None, at + prev, at + reader.line_num
            return
        start, prev = at + prev, reader.line_num
        yield row, start, at + prev


def _split_line(line: str, delimiter: str) -> list[str]:
    """One physical line's fields, as if it stood alone (a quote left open closes at its end)."""
    try:
        row = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return [line.rstrip("\r\n")]
    return row


def _swallowed_rows(lines: list[str], start: int, end: int, ncols: int, delimiter: str) -> bool:
    """Do the lines inside a multi-line record look like rows of their own?"""
    for j in range(start + 1, min(end, start + 1 + 50)):
        line = lines[j]
        if line.count('"') % 2:
            continue
        fields = _split_line(line, delimiter)
        if len(_trim_trailing_empty(fields)) <= ncols <= len(fields) and len(fields) > 1:
            return True
    return False
