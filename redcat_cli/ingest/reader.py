"""Files in, tables of text out: encodings, CSV / xlsx / zip / stdin, the header row.

The reader decides nothing about values: it returns every data row as text, with the
physical line (CSV) or row number (xlsx) it came from, and the rows that could not be split
into the header's columns. ``ingest`` does the rest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redcat_cli.errors import IngestError, system_fault
from redcat_cli.ingest.csvsplit import (
    Batch,
    Ragged,
    _blank,
    _fast_csv,
    _line_offset,
    _multiline,
    _records,
    _sniff_delimiter,
    _split_line,
    _stream_csv,
    _swallowed_rows,
    _trim_trailing_empty,
)
from redcat_cli.ingest.kinds import Kind, Match, best_matches, detect, normalise_header, unjoinable
from redcat_cli.ingest.textcodec import (
    DecodeFailure,
    _decode,
    _encoding_label,
    _is_utf16,
    _streamable,
    detect_encoding,
)

HEAD_ROWS = 40  # the header is looked for in the first rows
PIECE = 16 << 20  # bytes of CSV parsed at a time: memory stays flat however long the file
# The budget of one archive, checked while it is unpacked (the sizes a zip declares can lie).
ZIP_MAX_MEMBER = 1024**3  # bytes, uncompressed, of one member
ZIP_MAX_TOTAL = 2 * 1024**3  # bytes, uncompressed, of all members
ZIP_MAX_RATIO = 100  # uncompressed / compressed, once a member passes ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 16 * 1024**2  # a small file may compress as well as it likes
ZIP_MAX_MEMBERS = 100_000
ZIP_MAX_SECONDS = 300.0  # unpacking one archive
ZIP_METHODS = {0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma"}  # what zipfile unpacks


@dataclass
class RawTable:
    """One table of text read from one input, in batches of rows."""

    name: str  # what the user calls it: a path, `archive.zip!member.csv`, or `-`
    encoding: str | None
    match: Match  # the kind and how the header maps onto it
    header: list[str]
    header_line: int
    batches: Iterator[Batch]  # read lazily; NotStreamable may come out of it
    size: int  # bytes of the input
    sheet: str | None = None
    _sha: Any = None  # the hex digest, or a hashlib object complete once batches are read
    exact: bool = True  # read whole; False: in pieces, any of which may raise NotStreamable
    # in pieces, of the input's own bytes: (encoding, delimiter, offset of the first data line)
    parsing: tuple[str, str, int] | None = None

    @property
    def kind(self) -> Kind:
        return self.match.kind

    @property
    def sha256(self) -> str:
        """The input's SHA-256 (for a file read in pieces: once every batch is read)."""
        return self._sha if isinstance(self._sha, str) else self._sha.hexdigest()


@dataclass
class Source:
    name: str
    data: bytes | None = None  # in memory (stdin, a zip member), or None for a file on disk
    mtime: float | None = None  # the file's modification time (a zip member's own), if any
    file: Path | None = None  # read in pieces, never whole unless the exact path needs it

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self._path().stat().st_size

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with self._path().open("rb") as fh:
            return fh.read(n)

    def read_all(self) -> bytes:
        return self.data if self.data is not None else self._path().read_bytes()

    def open(self) -> Any:
        return io.BytesIO(self.data) if self.data is not None else self._path().open("rb")

    def _path(self) -> Path:
        assert self.file is not None
        return self.file


# --- inputs ----------------------------------------------------------------------------------


def open_inputs(path: str) -> Iterator[Source]:
    """The byte sources behind one command-line argument (a zip gives one per member)."""
    if path == "-":
        yield Source("-", sys.stdin.buffer.read())
        return
    p = Path(path)
    try:
        if not p.exists():
            raise IngestError(
                f"{path}: no such file",
                hint="check the path; a shell glob such as exports/*.csv gives several files",
            )
        if p.is_dir():
            raise IngestError(
                f"{path}: is a folder",
                hint="give the export files themselves (a shell glob works: folder/*.csv)",
            )
        mtime = p.stat().st_mtime
        if _is_zip(Source(path, file=p).head(4)):
            data = p.read_bytes()
            if not _is_xlsx(data):
                yield from _zip_members(path, data)
                return
            yield Source(path, data, mtime)
            return
        with p.open("rb") as fh:  # readable? (the file itself is read in pieces later)
            fh.read(1)
    except OSError as e:
        raise system_fault(e, f"cannot read {path}") or IngestError(
            f"cannot read {path}: {e.strerror or e}"
        ) from None
    yield Source(path, file=p, mtime=mtime)


def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "[Content_Types].xml" in zf.namelist() and any(
                n.startswith("xl/") for n in zf.namelist()
            )
    except zipfile.BadZipFile:
        return False


def _member_mtime(info: zipfile.ZipInfo) -> float | None:
    """A zip member's modification time (stored as local time), as a timestamp."""
    import datetime as dt

    try:
        return dt.datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return None


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # no UTF-8 flag: Chinese tools write GBK names
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


class _Budget:
    """What unpacking one archive may cost: bytes, ratio, members, time; checked as it goes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.total = 0
        self.deadline = time.monotonic() + ZIP_MAX_SECONDS

    def refuse(self, what: str, hint: str) -> IngestError:
        return IngestError(f"{self.path}: refused, {what}", hint=hint, code="too_large")

    def members(self, n: int) -> None:
        if n > ZIP_MAX_MEMBERS:
            raise self.refuse(
                f"the archive has {n:,} members (at most {ZIP_MAX_MEMBERS:,} are read)",
                "unpack it and give redcat the files in several runs",
            )

    def declared(self, name: str, size: int, compressed: int) -> None:
        """Refuse at once what the archive says it would unpack to (before trusting it)."""
        if size > ZIP_MAX_MEMBER:
            raise self.refuse(
                f"{name} would unpack to {size:,} bytes (at most {ZIP_MAX_MEMBER:,})",
                "unpack it yourself and give redcat the CSV if you trust it",
            )
        if size > ZIP_RATIO_FLOOR and size > ZIP_MAX_RATIO * max(compressed, 1):
            raise self.refuse(
                f"{name}: compression ratio {size / max(compressed, 1):,.0f}:1 looks like a zip bomb",
                "unpack it yourself and give redcat the CSV if you trust it",
            )

    def check(self, name: str, declared: int, compressed: int, read: int) -> None:
        if read > min(declared, ZIP_MAX_MEMBER):
            raise self.refuse(
                f"{name} unpacks to more than {min(declared, ZIP_MAX_MEMBER):,} bytes"
                + (" (more than it declares)" if read > declared else ""),
                "the archive is damaged or hostile; download the report again, or unpack it "
                "yourself if you trust it",
            )
        if read > ZIP_RATIO_FLOOR and read > ZIP_MAX_RATIO * max(compressed, 1):
            raise self.refuse(
                f"{name} expands more than {ZIP_MAX_RATIO}:1, which looks like a zip bomb",
                "unpack it yourself and give redcat the CSV if you trust it",
            )
        if self.total + read > ZIP_MAX_TOTAL:
            raise self.refuse(
                f"the archive unpacks to more than {ZIP_MAX_TOTAL:,} bytes",
                "unpack it yourself and ingest the files one by one",
            )
        if time.monotonic() > self.deadline:
            raise self.refuse(
                f"unpacking took longer than {ZIP_MAX_SECONDS:.0f} s",
                "unpack it yourself and ingest the files one by one",
            )


def _damaged(path: str, e: BaseException) -> IngestError:
    detail = str(e).splitlines()[0] if str(e) else type(e).__name__
    return IngestError(
        f"{path}: the zip archive is damaged ({detail})",
        hint="download the report again; unpack it with another tool to see what is left",
    )


def _zip_members(path: str, data: bytes) -> Iterator[Source]:
    """Each CSV/xlsx member, unpacked in memory (never to disk) within the archive's budget."""
    budget = _Budget(path)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as e:
        raise IngestError(
            f"{path}: not a readable zip archive ({str(e) or type(e).__name__})",
            hint="download the report again; the archive is damaged",
        ) from None
    budget.members(len(infos))
    found = False
    with zf:
        for info in infos:
            name = _member_name(info)
            base = name.rsplit("/", 1)[-1]
            if info.is_dir() or name.startswith("__MACOSX/") or base.startswith("."):
                continue
            if not base.lower().endswith((".csv", ".txt", ".xlsx")):
                continue
            if info.flag_bits & 0x1:
                raise IngestError(
                    f"{path}!{name}: the archive is password-protected",
                    hint="unpack it with its password and give redcat the files inside",
                )
            if info.compress_type not in ZIP_METHODS:
                method = "Deflate64" if info.compress_type == 9 else f"method {info.compress_type}"
                raise IngestError(
                    f"{path}!{name}: compressed with {method}, which redcat cannot unpack",
                    hint="unpack it with 7-Zip or unzip and give redcat the files (or zip them "
                    "again with ordinary compression)",
                )
            budget.declared(name, info.file_size, info.compress_size)
            chunks = []
            read = 0
            try:
                with zf.open(info) as fh:  # in memory, never extracted to disk
                    while True:
                        chunk = fh.read(1 << 20)
                        if not chunk:
                            break
                        read += len(chunk)
                        budget.check(name, info.file_size, info.compress_size, read)
                        chunks.append(chunk)
            except IngestError:
                raise
            except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as e:
                raise _damaged(f"{path}!{name}", e) from None
            except Exception as e:  # zlib.error, lzma.LZMAError, OSError…
                if isinstance(e, OSError) and system_fault(e) is not None:
                    raise
                raise _damaged(f"{path}!{name}", e) from None
            budget.total += read
            found = True
            yield Source(f"{path}!{name}", b"".join(chunks), _member_mtime(info))
    if not found:
        raise IngestError(
            f"{path}: the zip archive holds no CSV or xlsx file",
            hint="redcat reads .csv, .txt and .xlsx members; unpack it to see what it holds",
        )


# --- reading ---------------------------------------------------------------------------------


def read_source(
    src: Source,
    kinds: dict[str, Kind],
    *,
    forced: Kind | None = None,
    encoding: str | None = None,
    exact: bool = False,
) -> RawTable:
    """One input's rows as text, with its kind detected (or forced).

    A CSV whose head has one row per line is read in pieces of :data:`PIECE` bytes, each
    parsed by pyarrow as it arrives; ``exact=True`` reads the whole input at once and falls
    back to Python's csv module for ragged rows and values that span lines."""
    head = src.head(1 << 20)
    if _blank(head) and (len(head) == src.size or _blank(src.read_all())):
        raise IngestError(f"{src.name}: the file is empty", hint="export the report again")
    if _is_zip(head):
        data = src.read_all()
        if _is_xlsx(data):
            from redcat_cli.ingest.xlsx import _read_xlsx

            return _read_xlsx(Source(src.name, data), kinds, forced)
        raise IngestError(
            f"{src.name}: a zip archive inside an archive is not read",
            hint="unpack the outer archive and give redcat the inner one",
        )
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # an OLE2 compound file
        if "EncryptedPackage".encode("utf-16-le") in src.read_all():  # an encrypted xlsx
            raise IngestError(
                f"{src.name}: a password-protected Excel workbook",
                hint="open it in Excel or WPS, remove the password (File → Info → Protect "
                "Workbook) and save it as .xlsx, or save it as .csv",
            )
        raise IngestError(
            f"{src.name}: an old Excel .xls file",
            hint="open it in Excel or WPS and save it as .xlsx or .csv",
        )
    return _read_csv(src, head, kinds, forced, encoding, exact)


# Header rows already matched (a folder or zip of one kind's exports repeats one header):
# (id of the kinds, the forced kind, the row) -> (the kinds, the match).
_HEADERS: dict[tuple[Any, ...], tuple[dict[str, Kind], Match]] = {}


def _find_header(
    rows: Sequence[Sequence[Any]], kinds: dict[str, Kind], forced: Kind | None, name: str
) -> tuple[int, Match]:
    """The header row: the first row that fits a kind completely, looked for under title rows."""
    pool = [forced] if forced else list(kinds.values())
    best: tuple[tuple[int, int], int] | None = None
    for i, row in enumerate(rows[:HEAD_ROWS]):
        known = _HEADERS.get((id(kinds), forced and forced.name, tuple(row)))
        if known is not None and known[0] is kinds:
            return i, known[1]
        matches = best_matches(row, pool)
        if not matches:
            continue
        m = matches[0]
        if m.complete:
            found = m if forced else detect(row, kinds, name=name)
            if len(_HEADERS) > 256:
                _HEADERS.clear()
            _HEADERS[(id(kinds), forced and forced.name, tuple(row))] = (kinds, found)
            return i, found
        score = (m.required_present, m.n_recognised)
        if best is None or score > best[0]:
            best = (score, i)
    # Nothing fits: report against the most promising row.
    row = rows[best[1]] if best else (rows[0] if rows else [])
    for head in rows[:HEAD_ROWS]:
        refused = unjoinable(head, name=name)
        if refused is not None:
            raise refused
    if forced:
        m = forced.match(row)
        missing = ", ".join(
            forced.fields[f].label if f in forced.fields else f for f in m.missing_required
        )
        headers = ", ".join(str(h) for h in row if normalise_header(h)) or "(none)"
        raise IngestError(
            f"{name}: not a {forced.name} export: {missing} missing. Headers found: {headers}",
            hint="check the file, or drop --source to let redcat tell the kind",
        )
    detect(row, kinds, name=name)  # raises with the closest kind and what it lacks
    raise AssertionError("unreachable")  # pragma: no cover


def _read_csv(
    src: Source,
    head: bytes,
    kinds: dict[str, Kind],
    forced: Kind | None,
    encoding: str | None,
    exact: bool,
) -> RawTable:
    src, head, enc, label, original_sha = _as_parsed(src, head, encoding)
    # The head: enough lines to find the header under title rows.
    head_bytes = head[: 1 << 18]
    if len(head_bytes) < src.size and b"\n" in head_bytes:
        head_bytes = head_bytes[: head_bytes.rfind(b"\n") + 1]  # whole lines only
    head_text = _decode(head_bytes, enc, src.name)
    delimiter = _sniff_delimiter(head_text)
    head_rows: list[list[str]] = []
    row_end_lines: list[int] = []
    reader = csv.reader(io.StringIO(head_text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            head_rows.append(row)
            row_end_lines.append(reader.line_num)
            if len(head_rows) >= HEAD_ROWS:
                break
    except csv.Error:
        pass
    header_idx, match = _find_header(head_rows, kinds, forced, src.name)
    header = _trim_trailing_empty(head_rows[header_idx])
    header_line = row_end_lines[header_idx]  # the physical line the header ends on
    one_per_line = not _multiline(row_end_lines[: header_idx + 1])
    start = _line_offset(head_bytes, header_line)
    streams = not exact and one_per_line and start is not None and _streamable(enc)
    if streams and original_sha is None:
        assert start is not None
        hasher = hashlib.sha256()
        pieces = _stream_csv(src, enc, start, header_line, len(header), delimiter, hasher, PIECE)
        return RawTable(
            src.name,
            label,
            match,
            header,
            header_line,
            pieces,
            src.size,
            _sha=hasher,
            exact=False,
            parsing=(enc, delimiter, start),
        )
    data = src.read_all()
    sha = original_sha or hashlib.sha256(data).hexdigest()
    table = None
    if one_per_line:
        table = _fast_csv(data, enc, header_line, len(header), delimiter, src.name)
    if table is None:
        try:
            columns, lines, ragged = _slow_csv(
                data, enc, header_idx, len(header), delimiter, src.name
            )
        except DecodeFailure:
            if encoding is None and enc == "utf-8" and head_bytes.isascii():
                # an ASCII head said nothing about the encoding: not UTF-8 after all. (A head
                # with Chinese text in valid UTF-8 is UTF-8: a bad byte later is an error at
                # its line, not a reason to read the whole file as GB18030 and garble it.)
                return _read_csv(src, head, kinds, forced, "gb18030", exact)
            raise
    else:
        columns, lines, ragged = table
    one = iter([Batch(columns, lines, ragged, len(data))])
    return RawTable(src.name, label, match, header, header_line, one, len(data), _sha=sha)


FIELD_LIMIT = 1 << 26  # 64 MiB
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _as_parsed(
    src: Source, head: bytes, encoding: str | None
) -> tuple[Source, bytes, str, str, str | None]:
    """The bytes the parsers read, their encoding and its label, and the input's own SHA-256
    when those bytes are not the input's (UTF-16 read as UTF-8, CR line ends made LF)."""
    enc = encoding or detect_encoding(head)
    label = _encoding_label(enc)
    original_sha = None  # set when the bytes parsed are not the file's own (UTF-16, CR)
    if _is_utf16(enc):  # read as UTF-8 from here on: every byte offset below is UTF-8's
        data = src.read_all()
        original_sha = hashlib.sha256(data).hexdigest()
        text = _decode(data, enc, src.name).lstrip("\ufeff")
        src = Source(src.name, text.encode("utf-8"), src.mtime)
        head = src.head(1 << 20)
        enc = "utf-8"
    elif b"\x00" in head[:4096]:
        raise IngestError(
            f"{src.name}: binary data, not a CSV export",
            hint="give the CSV or xlsx the platform exported (or --encoding utf-16 for "
            "UTF-16 text)",
        )
    if enc.replace("_", "-").lower() in ("utf-8", "utf8") and head.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
        label = "utf-8-bom"
    if b"\r" in head[: 1 << 16] and b"\n" not in head:
        # Excel's "CSV (Macintosh)" ends lines with CR alone: make them LF. (No encoding read
        # here has the byte 0x0D inside a multi-byte character; UTF-16 is UTF-8 by now.)
        data = src.read_all()
        if b"\n" not in data:
            original_sha = original_sha or hashlib.sha256(data).hexdigest()
            src = Source(src.name, data.replace(b"\r", b"\n"), src.mtime)
            head = src.head(1 << 20)
    return src, head, enc, label, original_sha


def _slow_csv(
    data: bytes, enc: str, header_idx: int, ncols: int, delimiter: str, name: str
) -> tuple[Any, Any, list[Ragged]]:
    """The exact path: Python's csv module, line by line, for files with ragged rows or
    values that span lines.

    A row that spans several lines is a real multi-line cell, or a quote left open that
    swallows the rows after it. It is a broken row when one of the lines it swallowed looks
    like a whole row by itself: the header's number of fields, and its quotes balanced (the
    inside of a real multi-line cell has no quotes; its last line closes the quote). A broken
    row is rejected alone, with its line, and reading goes on at the next line; so is a quote
    still open at the end of the file, and a field over FIELD_LIMIT."""
    import numpy as np
    import pyarrow as pa

    text = _decode(data, enc, name)
    lines = _LINE.findall(text)
    del text
    cols: list[list[str]] = [[] for _ in range(ncols)]
    line_of: list[int] = []
    ragged: list[Ragged] = []
    record = 0  # records so far (the header is record header_idx)
    at = 0  # the physical line (0-based) reading starts at
    while at < len(lines):
        resume = None
        for row, start, end in _records(lines, at, delimiter):
            record += 1
            if record - 1 <= header_idx:
                continue
            if row is None:  # a field over the limit
                ragged.append(
                    Ragged(
                        start + 1,
                        _split_line(lines[start], delimiter),
                        f"a field longer than {FIELD_LIMIT // (1 << 20)} MiB: a quote is "
                        "probably left open",
                    )
                )
                resume = start + 1
                break
            open_at_end = (
                bool(row)
                and row[-1].endswith(("\n", "\r"))
                and sum(lines[j].count('"') for j in range(start, end)) % 2 == 1
            )
            if open_at_end or (
                end - start > 1 and _swallowed_rows(lines, start, end, ncols, delimiter)
            ):
                ragged.append(
                    Ragged(
                        start + 1,
                        _split_line(lines[start], delimiter),
                        "a quote opened on this line is never closed"
                        + (
                            ""
                            if open_at_end and end == len(lines)
                            else f" (the next lines are whole rows of {ncols} fields)"
                        ),
                    )
                )
                resume = start + 1
                break
            if len(row) != ncols:
                if len(row) > ncols and not any(v.strip() for v in row[ncols:]):
                    row = row[:ncols]  # trailing empty fields: harmless
                elif not row or (len(row) == 1 and not row[0].strip()):
                    row = [""] * ncols  # a blank line
                else:
                    ragged.append(
                        Ragged(start + 1, row, f"{len(row)} fields, the header has {ncols}")
                    )
                    continue
            for c, v in enumerate(row):
                cols[c].append(v)
            line_of.append(start + 1)
        if resume is None:
            break
        at = resume
    table = pa.table({f"c{i}": pa.array(cols[i], pa.string()) for i in range(ncols)})
    return table, np.array(line_of, dtype=np.int64), ragged
