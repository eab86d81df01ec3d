"""Ingest: exports into the store, with every row accounted for.

For each file: rows_read = rows_loaded + rows_updated + rows_duplicate + rows_skipped +
rows_rejected. Rejected rows go to a CSV beside the store (line, reason, raw fields).
One call of :func:`ingest` is one transaction: an error, a kill, or a rejected row under
``strict`` leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from redcat_cli import __version__
from redcat_cli.errors import IngestError, RedcatError, UsageError, system_fault
from redcat_cli.ingest.kinds import Kind, get_kind, load_kinds
from redcat_cli.ingest.reader import (
    Batch,
    NotStreamable,
    RawTable,
    Source,
    open_inputs,
    read_source,
)
from redcat_cli.ingest.values import MISSING, decide_date_order, parse_column
from redcat_cli.store.db import (
    BOOKKEEPING_COLUMNS,
    DEFAULT_MERCHANT,
    KEY_SEP,
    Store,
    open_store,
    quote,
)

TOTAL_PREFIXES = ("合计", "总计", "汇总", "总合计", "全部合计")  # total rows start with these
_TOTAL_CHARS = ("计", "汇")  # each prefix holds one of these


@dataclass
class Reject:
    line: int
    reason: str
    fields: list[str]


@dataclass
class FileResult:
    path: str
    source: str
    encoding: str | None
    sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_updated: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    rejects_path: str | None = None
    ingest_id: int | None = None
    sheet: str | None = None
    exported_on: dt.date | None = None
    exported_on_from: str | None = None
    values_lower_bound: int = 0
    columns_ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    _big_changes: int = 0  # updated rows whose spend changed much (see _warn_other_account)
    _worst_change: Any = None

    def balanced(self) -> bool:
        return self.rows_read == (
            self.rows_loaded
            + self.rows_updated
            + self.rows_duplicate
            + self.rows_skipped
            + self.rows_rejected
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "encoding": self.encoding,
            "sha256": self.sha256,
            "sheet": self.sheet,
            "ingest_id": self.ingest_id,
            "exported_on": None if self.exported_on is None else self.exported_on.isoformat(),
            "exported_on_from": self.exported_on_from,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_updated": self.rows_updated,
            "rows_duplicate": self.rows_duplicate,
            "rows_skipped": self.rows_skipped,
            "rows_rejected": self.rows_rejected,
            "rejects_path": self.rejects_path,
            "values_lower_bound": self.values_lower_bound,
            "columns_ignored": self.columns_ignored,
            "warnings": self.warnings,
        }


@dataclass
class IngestReport:
    store: str
    files: list[FileResult]
    committed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "committed": self.committed,
            "files": [f.to_dict() for f in self.files],
        }


# progress(stage, name[, done, total]): stage is "read" (a new input), "store" (a batch of it
# is being written; done of total bytes read) or, from the command, "done".
Progress = Callable[..., None]

# Arrow tables reach DuckDB as Python variables named in the SQL, found in the calling
# frames: a table registered on the connection instead would be kept alive until the
# transaction ends, so memory would grow with every batch of a long file.
_ARROW_BY_NAME = "SET python_scan_all_frames = true"


def ingest(
    store_path: str | os.PathLike[str],
    paths: Sequence[str],
    *,
    source: str | None = None,
    encoding: str | None = None,
    date_order: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    fixed: dict[str, str] | None = None,
    exported_on: dt.date | None = None,
    merchant: str | None = None,
) -> IngestReport:
    """Read every file and load it into the store, in one transaction.

    ``fixed`` gives fields a value for every row of files that lack that column, e.g.
    ``{"account": "小王"}`` to keep two 聚光 accounts' daily reports apart. ``exported_on``
    is the date the files were exported (else found per file: :mod:`redcat_cli.ingest.exported`).
    ``merchant`` tags every row (default: the one merchant the store holds, else ``default``).
    """
    if not paths:
        raise UsageError("no files given", hint="redcat ingest FILE… (use - for stdin)")
    if merchant is not None:
        from redcat_cli.store.merchants import check_name

        merchant = check_name(merchant)
    if date_order not in (None, "dmy", "mdy"):
        raise UsageError(f"--date-order must be dmy or mdy, not {date_order!r}")
    kinds = load_kinds()
    forced = get_kind(source) if source else None
    say = progress or (lambda *a: None)
    # A failed first ingest leaves no store: open_store makes a new store under a temporary
    # name and puts it in place only after the commit.
    try:
        return _ingest(
            Path(store_path),
            paths,
            kinds,
            forced,
            encoding,
            date_order,
            strict,
            say,
            fixed or {},
            exported_on,
            merchant,
        )
    except Exception as e:  # OSError, or DuckDB's IOException: "No space left on device"…
        fault = None
        if not isinstance(e, RedcatError):
            fault = system_fault(e, f"ingest into {store_path} stopped, nothing was committed")
        if fault is None:
            raise
        raise fault from None


def _say_batch_failed(
    e: RedcatError, bad: str, paths: Sequence[str], read: list[FileResult]
) -> None:
    """One file stopped a batch: say that nothing of the batch was loaded, and which files
    were read fine, so the user can drop or fix the one and run again."""
    fine = [r.path for r in read]
    e.message += f" (nothing was loaded: one ingest of {len(paths)} files is one transaction)"
    redo = f"fix or leave out {bad} and run the same command again"
    if fine:
        redo += f"; read fine before it: {', '.join(PurePath(f).name for f in fine)}"
    e.hint = f"{e.hint}; {redo}" if e.hint else redo


def _ingest(
    store_p: Path,
    paths: Sequence[str],
    kinds: dict[str, Kind],
    forced: Kind | None,
    encoding: str | None,
    date_order: str | None,
    strict: bool,
    say: Progress,
    fixed: dict[str, str],
    exported_on: dt.date | None = None,
    merchant: str | None = None,
) -> IngestReport:
    from redcat_cli.store.merchants import for_ingest

    results: list[FileResult] = []
    with open_store(store_p, read_only=False) as store:
        con = store.con
        whose = for_ingest(con, merchant)
        con.execute(_ARROW_BY_NAME)
        con.execute("BEGIN TRANSACTION")
        try:
            batch = int(
                con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest_log").fetchall()[0][
                    0
                ]
            )
            for path in paths:
                try:
                    for src in open_inputs(path):
                        say("read", src.name)
                        results.append(
                            _ingest_source(
                                store,
                                src,
                                kinds,
                                forced,
                                encoding,
                                batch,
                                date_order,
                                say,
                                fixed,
                                exported_on,
                                whose,
                            )
                        )
                except RedcatError as e:
                    if len(paths) > 1:
                        _say_batch_failed(e, path, paths, results)
                    raise
            rejected = [r for r in results if r.rows_rejected]
            for r in rejected:
                r.rejects_path = str(_write_rejects(store_p, r))
            if strict and rejected:
                con.execute("ROLLBACK")
                total = sum(r.rows_rejected for r in rejected)
                where = "; ".join(
                    f"{r.path}: {r.rows_rejected} (see {r.rejects_path})" for r in rejected
                )
                raise IngestError(
                    f"--strict: {total} row(s) rejected, nothing was committed. {where}",
                    hint="fix the rows listed in the rejects file, or run without --strict to load the good rows",
                    code="rows_rejected",
                )
            for r in results:
                if r.rejects_path:
                    con.execute(
                        "UPDATE ingest_log SET rejects_path = ? WHERE id = ?",
                        [r.rejects_path, r.ingest_id],
                    )
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:
                pass
            raise
    return IngestReport(str(store_p), results, True)


# --- one table ---------------------------------------------------------------------------------


def _ingest_source(
    store: Store,
    src: Source,
    kinds: dict[str, Kind],
    forced: Kind | None,
    encoding: str | None,
    batch: int,
    date_order: str | None,
    say: Progress,
    fixed: dict[str, str],
    exported_on: dt.date | None,
    merchant: str,
) -> FileResult:
    """One input: read in pieces where it can be; where a piece turns out to need the exact
    reader, what the earlier pieces wrote is undone and the whole input is read again."""
    con = store.con
    ingest_id = int(con.execute("SELECT coalesce(max(id), 0) + 1 FROM ingest_log").fetchall()[0][0])
    args = (batch, ingest_id, date_order, say, fixed, exported_on, src.mtime, merchant)
    raw = read_source(src, kinds, forced=forced, encoding=encoding)
    try:
        return _ingest_table(store, raw, *args)
    except NotStreamable:
        _undo(store, raw.kind, ingest_id)
        raw = read_source(src, kinds, forced=forced, encoding=encoding, exact=True)
        return _ingest_table(store, raw, *args)


def _undo(store: Store, kind: Kind, ingest_id: int) -> None:
    """Take back what one ingest wrote so far: its rows out, the values they replaced back."""
    con = store.con
    names = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [kind.table],
        ).fetchall()
    ]
    cols = ", ".join(quote(c) for c in names)
    T, H = quote(kind.table), quote(kind.history_table)
    con.execute(f"DELETE FROM {T} WHERE _ingest_id = ?", [ingest_id])
    con.execute(
        f"INSERT INTO {T} ({cols}) SELECT {cols} FROM {H} WHERE _superseded_by = ?", [ingest_id]
    )
    con.execute(f"DELETE FROM {H} WHERE _superseded_by = ?", [ingest_id])
    con.execute("DROP TABLE IF EXISTS redcat_seen")


@dataclass
class _Rows:
    """Rows of one batch ready for the store, and what was learnt about the others."""

    staged: Any  # Arrow table: the typed fields, _key, _line, _lower_bound
    sub: Any  # the text of the rows considered (for the rejects file)
    sub_lines: Any
    rows_read: int
    rows_skipped: int
    rejects: list[Reject]
    lower_bound: int
    done: int  # bytes of the input read
    final: bool  # the file's last batch
    dates: tuple[Any, Any] | None  # the first and last data date of the staged rows


def _ingest_table(
    store: Store,
    raw: RawTable,
    batch: int,
    ingest_id: int,
    date_order: str | None,
    say: Progress,
    fixed: dict[str, str],
    exported_option: dt.date | None = None,
    mtime: float | None = None,
    merchant: str = DEFAULT_MERCHANT,
) -> FileResult:
    import numpy as np
    import pyarrow as pa

    kind = raw.kind
    con = store.con
    res = FileResult(raw.name, kind.name, raw.encoding, "", sheet=raw.sheet)
    started = dt.datetime.now()
    res.ingest_id = ingest_id
    header = raw.header
    match = raw.match
    res.columns_ignored = [header[i] for i in match.unmatched]
    for i, fname in match.duplicates:
        res.warnings.append(
            f"column {header[i]!r} repeats {kind.fields[fname].label}; the first one is used"
        )
    fixed_values = _fixed_values(kind, match, raw.name, fixed, date_order)
    orders: dict[int, str | None] = {}  # date columns: day/month order decided so far
    pieces = 0
    dates: list[Any] = []
    window = bool(kind.summary.get("window"))  # outcomes mature: duplicates are re-dated
    keys: _KeyFilter | None = None  # a file of several batches: which keys may be known
    for rows in _ahead(
        _prepare(raw, b, orders, date_order, fixed_values, merchant) for b in _whole_footers(raw)
    ):
        pieces += 1
        res.rows_read += rows.rows_read
        res.rows_skipped += rows.rows_skipped
        res.values_lower_bound += rows.lower_bound
        res.rejects.extend(rows.rejects)
        say("store", raw.name, rows.done, raw.size)
        dates.extend(rows.dates or ())
        if not (rows.final and pieces == 1):
            keys = keys or _KeyFilter(con, kind)
            _write_batch(con, kind, rows, ingest_id, res, keys)
            continue
        n_before = len(res.rejects)  # the whole file in one batch
        _upsert(store, kind, rows.staged, ingest_id, res, remember=window)
        conflicts = res.rejects[n_before:]
        if conflicts:  # the rejects file shows the row as the file wrote it
            at = np.searchsorted(rows.sub_lines, [r.line for r in conflicts])
            raw_rows = rows.sub.take(pa.array(at)).to_pylist()
            for rej, cells in zip(conflicts, raw_rows, strict=True):
                rej.fields = list(cells.values())
    if keys is not None:
        _settle_candidates(store, kind, ingest_id, res, window)
    _find_export_date(
        res, min(dates, default=None), max(dates, default=None), exported_option, mtime
    )
    if window and res.rows_duplicate:
        _confirm_unchanged(con, kind, ingest_id, res.exported_on)
    con.execute("DROP TABLE IF EXISTS redcat_seen")
    _warn_other_account(kind, res)
    if res.rows_read == 0:
        res.warnings.append(
            "a header and no data rows: nothing to load (was the export's date range empty?)"
        )
    res.sha256 = raw.sha256
    res.rows_rejected = len(res.rejects)
    res.rejects.sort(key=lambda r: r.line)
    if not res.balanced():
        raise AssertionError(f"rows of {raw.name} do not add up: {res.to_dict()}")
    con.execute(
        "INSERT INTO ingest_log (id, batch_id, path, name, sha256, source, encoding, sheet, "
        "rows_read, rows_loaded, rows_updated, rows_duplicate, rows_skipped, rows_rejected, "
        "rejects_path, started_at, finished_at, redcat_version, exported_on, exported_on_from, merchant) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ingest_id,
            batch,
            res.path,
            Path(res.path.split("!")[-1]).name,
            res.sha256,
            kind.name,
            res.encoding,
            res.sheet,
            res.rows_read,
            res.rows_loaded,
            res.rows_updated,
            res.rows_duplicate,
            res.rows_skipped,
            res.rows_rejected,
            None,
            started,
            dt.datetime.now(),
            __version__,
            res.exported_on,
            res.exported_on_from,
            merchant,
        ],
    )
    return res


class _KeyFilter:
    """Which natural keys an ingest may meet again, in a fixed 64 MiB however large the store
    and the file: one flag per slot of 2**26, a key's slot taken from the top bits of DuckDB's
    64-bit hash of it. A key whose slot is free is neither stored nor earlier in the file, so
    its row is new for sure; a key whose slot is taken may be (or share the slot by chance)."""

    BITS = 26

    def __init__(self, con: Any, kind: Kind) -> None:
        import numpy as np

        self.slots = np.zeros(1 << self.BITS, dtype=bool)
        T = quote(kind.table)
        if con.execute(f"SELECT count(*) FROM {T}").fetchall()[0][0]:
            stored = con.execute(f"SELECT hash(_key) AS h FROM {T}").fetchnumpy()["h"]
            self.slots[self._slot(stored)] = True

    def _slot(self, hashes: Any) -> Any:
        import numpy as np

        return (np.asarray(hashes, dtype=np.uint64) >> np.uint64(64 - self.BITS)).astype(np.int64)

    def maybe_known(self, hashes: Any) -> Any:
        """Per key: may it be stored, earlier in the file, or repeated in ``hashes``? Then
        its slot is marked taken."""
        import numpy as np

        slot = self._slot(hashes)
        known = self.slots[slot]
        order = np.argsort(slot, kind="stable")
        sorted_slots = slot[order]
        same = np.flatnonzero(sorted_slots[1:] == sorted_slots[:-1])
        known[order[same]] = True
        known[order[same + 1]] = True
        self.slots[slot] = True
        return known


RAW_SEP = "\x1f"


def _write_batch(
    con: Any, kind: Kind, rows: _Rows, ingest_id: int, res: FileResult, keys: _KeyFilter
) -> None:
    """One batch of a file read in pieces: rows whose key is surely new go straight into the
    store (while the next batch is prepared); the others wait in ``redcat_cand`` for
    :func:`_settle_candidates`, with their cells as the file wrote them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    staged = rows.staged
    if not staged.num_rows:
        return
    # Arrow tables are read by the name of a local variable (see _ARROW_BY_NAME)
    redcat_staged = staged  # noqa: F841
    hashes = con.execute(
        "SELECT hash(_key) AS h FROM redcat_staged ORDER BY _line"  # the staged order
    ).fetchnumpy()["h"]
    known = keys.maybe_known(hashes)
    redcat_new = staged if not known.any() else staged.filter(pa.array(~known))
    if redcat_new.num_rows:
        _insert_rows(con, kind, "redcat_new", ingest_id)
        res.rows_loaded += redcat_new.num_rows
    if not known.any():
        return
    cand = staged.filter(pa.array(known))
    lines = cand.column("_line").to_numpy()
    cells = rows.sub.take(pa.array(np.searchsorted(rows.sub_lines, lines)))
    # the cells as one text joined by U+001F (which no export cell holds): a twentieth of the
    # memory of one string per cell, for a file whose every row waits here (a re-ingest)
    cand = cand.append_column("_raw", pc.binary_join_element_wise(*cells.columns, RAW_SEP))
    redcat_more = cand  # noqa: F841
    con.execute("CREATE TEMP TABLE IF NOT EXISTS redcat_cand AS FROM redcat_more LIMIT 0")
    con.execute("INSERT INTO redcat_cand FROM redcat_more")


def _settle_candidates(
    store: Store, kind: Kind, ingest_id: int, res: FileResult, remember: bool
) -> None:
    """The rows of a file read in pieces whose key may be known: classified all at once
    against the store and the rows the file wrote, as a whole read would."""
    con = store.con
    if not _temp_table_exists(con, "redcat_cand"):
        return
    n_before = len(res.rejects)
    try:
        _upsert(store, kind, "redcat_cand", ingest_id, res, earlier=True, remember=remember)
        conflicts = res.rejects[n_before:]
        if conflicts:  # the rejects file shows the row as the file wrote it
            lines = ", ".join(str(r.line) for r in conflicts)
            cells = dict(
                con.execute(
                    f"SELECT _line, _raw FROM redcat_cand WHERE _line IN ({lines})"
                ).fetchall()
            )
            for rej in conflicts:
                rej.fields = cells[rej.line].split(RAW_SEP)
    finally:
        _drop_scratch(con, ("redcat_cand",))


def _temp_table_exists(con: Any, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


def _insert_rows(con: Any, kind: Kind, src: str, ingest_id: int, anti: str = "") -> None:
    """Rows of ``src`` (its fields and bookkeeping) into the kind's table as this ingest's."""
    names = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
    present = [c for c in names if not c.startswith("_")]
    collist = ", ".join(quote(c) for c in present)
    select = ", ".join("s." + quote(c) for c in present)
    con.execute(
        f"INSERT INTO {quote(kind.table)} ({collist}, _key, _ingest_id, _line, _lower_bound) "
        f"SELECT {select}, s._key, {ingest_id}, s._line, s._lower_bound FROM {src} s {anti}"
    )


def _find_export_date(
    res: FileResult,
    first: dt.date | None,
    last: dt.date | None,
    option: dt.date | None,
    mtime: float | None,
) -> None:
    """The file's export date, from the option, its name or its modification time."""
    from redcat_cli.ingest.exported import FROM_MTIME, find_export_date

    found = find_export_date(res.path, first, last, option=option, mtime=mtime)
    res.exported_on, res.exported_on_from = found.date, found.found_from
    if found.found_from == FROM_MTIME and last is not None and found.date <= last:
        res.warnings.append(
            f"exported_on {found.date} (the file's modified time) is not after its last data "
            f"date {last}; give the export date with --exported-on"
        )


def _ahead(items: Iterator[_Rows]) -> Iterator[_Rows]:
    """Prepare the next batch on the other core while the store writes this one."""
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
            # every total prefix holds 计 or 汇: one cheap search tells most columns apart
            if not any(pc.any(pc.match_substring(col, ch)).as_py() for ch in _TOTAL_CHARS):
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
    of the file are judged as its footer, as if it were read whole."""
    import numpy as np
    import pyarrow as pa

    prev: Batch | None = None
    for b in raw.batches:
        if prev is not None:
            flags = _footer_like(raw.kind, raw.match, prev.columns)
            _, keep, first_only, total = flags
            cut = len(keep)
            while cut > 0 and (not keep[cut - 1] or first_only[cut - 1] or total[cut - 1]):
                cut -= 1
            head = tuple(f[:cut] for f in flags)
            yield _Part(
                prev.columns.slice(0, cut), prev.lines[:cut], prev.ragged, prev.done, False, head
            )
            if cut < len(keep):
                b = Batch(
                    pa.concat_tables([prev.columns.slice(cut), b.columns]),
                    np.concatenate([prev.lines[cut:], b.lines]),
                    b.ragged,
                    b.done,
                )
        prev = b
    if prev is not None:
        yield _Part(prev.columns, prev.lines, prev.ragged, prev.done, True)


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


def _prepare(
    raw: RawTable,
    part: _Part,
    orders: dict[int, str | None],
    date_order: str | None,
    fixed: dict[str, Any],
    merchant: str,
) -> _Rows:
    """One batch checked and typed: footers and blank rows set aside, every value read, the
    rows with a bad value turned into rejects, the rest staged with their natural key."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind, match, header = raw.kind, raw.match, raw.header
    table, lines = part.columns, part.lines
    n = table.num_rows
    nonempty, keep, first_only, skipped = part.flags or _footer_like(kind, match, table)
    skipped = skipped.copy()
    if part.final:  # the file's last rows: a footer (one text cell after the data, no key)
        idx = n - 1
        while idx >= 0 and (not keep[idx] or first_only[idx] or skipped[idx]):
            if keep[idx] and first_only[idx] and not _first_is_data(kind, match):
                skipped[idx] = True
            idx -= 1
    skipped &= keep
    rows_read = int(keep.sum()) + len(part.ragged)

    active = keep & ~skipped
    errors: dict[int, list[str]] = {}
    lower_bound: dict[int, list[str]] = {}
    typed: dict[str, Any] = {}
    active_idx = np.nonzero(active)[0]
    m = len(active_idx)
    if m == n:
        sub = table
    elif m and active_idx[-1] - active_idx[0] + 1 == m:  # one contiguous run: a zero-copy slice
        sub = table.slice(int(active_idx[0]), m)
    else:
        sub = table.filter(pa.array(active))
    sub_lines = lines[active_idx]
    missing_set = frozenset(MISSING | set(kind.missing))
    for ci, fname in match.columns.items():
        f = kind.fields[fname]
        col = sub.column(ci).combine_chunks()
        order = date_order
        if f.type in ("date", "datetime") and order is None:
            order = _date_order(raw, ci, col, orders)
        parsed = parse_column(col, f.type, missing=missing_set, date_order=order, signed=f.signed)
        typed[fname] = parsed.values
        for r, reason in parsed.errors.items():
            errors.setdefault(r, []).append(f"{header[ci]}: {reason}")
        for r in parsed.lower_bound_rows:
            lower_bound.setdefault(r, []).append(fname)
    for fname, value in fixed.items():
        typed[fname] = pa.repeat(value, m)
    # Required fields present?
    for fname in kind.required:
        if fname in typed:
            nulls = pc.is_null(typed[fname]).to_numpy(zero_copy_only=False)
            for r in np.nonzero(nulls)[0].tolist():
                if r not in errors:
                    errors.setdefault(r, []).append(f"{kind.fields[fname].label} is empty")
    rejects = [Reject(rg.line, rg.reason, rg.fields) for rg in part.ragged]
    if errors:
        bad_rows = sorted(errors)
        raw_rows = sub.take(pa.array(bad_rows)).to_pylist()
        for r, cells in zip(bad_rows, raw_rows, strict=True):
            rejects.append(Reject(int(sub_lines[r]), "; ".join(errors[r]), list(cells.values())))
    lower = sum(len(v) for k, v in lower_bound.items() if k not in errors)

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
    return _Rows(
        pa.table(cols),
        sub,
        sub_lines,
        rows_read,
        int(skipped.sum()),
        rejects,
        lower,
        part.done,
        part.final,
        _date_range(kind, cols),
    )


def _date_range(kind: Kind, cols: dict[str, Any]) -> tuple[Any, Any] | None:
    """The first and last date of the kind's date column among these rows."""
    import pyarrow.compute as pc

    date_col = kind.summary.get("date")
    if not date_col or date_col not in cols or not len(cols[date_col]):
        return None
    lo_hi = pc.min_max(cols[date_col]).as_py()
    if lo_hi["min"] is None:
        return None
    return tuple(
        v.date() if isinstance(v, dt.datetime) else v for v in (lo_hi["min"], lo_hi["max"])
    )


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


def _upsert(
    store: Store,
    kind: Kind,
    staged: Any,
    ingest_id: int,
    res: FileResult,
    earlier: bool = False,
    remember: bool = False,
) -> None:
    """Classify rows against the file itself and the store, then write.

    ``staged``: an Arrow table, or the name of a table of the connection.
    ``earlier``: rows of this file were written before these, so a stored row with this
    ingest's id, or a key in ``redcat_seen`` (rows of the file that were duplicates of the
    store), is an earlier row of the same file: equal is a duplicate, different a conflict.
    ``remember``: duplicates of the store go into ``redcat_seen`` (for :func:`_confirm_unchanged`
    at the end of the file)."""
    con = store.con
    if isinstance(staged, str):
        src = staged
        names = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
        n_rows = int(con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0])
    else:
        src = "redcat_staged"
        redcat_staged = staged  # noqa: F841  (read by name: see _ARROW_BY_NAME)
        names, n_rows = staged.column_names, staged.num_rows
    present = [c for c in names if not c.startswith("_")]
    T = quote(kind.table)
    H = quote(kind.history_table)
    same = (
        " AND ".join(f"a.{quote(c)} IS NOT DISTINCT FROM b.{quote(c)}" for c in present) or "TRUE"
    )
    try:
        # 1. Rows that repeat an earlier row's key: duplicate if equal, conflict if not. (A key
        # this file wrote already: each of its rows is compared with that row in step 2.)
        n_keys = int(con.execute(f"SELECT count(DISTINCT _key) FROM {src}").fetchall()[0][0])
        if n_keys != n_rows:
            con.execute(f"CREATE OR REPLACE TEMP TABLE redcat_s AS SELECT * FROM {src}")
            src = "redcat_s"
            written = (
                f"AND _key NOT IN (SELECT _key FROM {T} WHERE _ingest_id = {ingest_id})"
                if earlier
                else ""
            )
            con.execute(
                "CREATE OR REPLACE TEMP TABLE redcat_first AS "
                "SELECT _key, min(_line) AS _first FROM redcat_s GROUP BY _key "
                f"HAVING count(*) > 1 {written}"
            )
            pairs = (
                "FROM redcat_s b JOIN redcat_first f ON f._key = b._key AND b._line > f._first "
                "JOIN redcat_s a ON a._key = f._key AND a._line = f._first"
            )
            res.rows_duplicate += int(
                con.execute(f"SELECT count(*) {pairs} WHERE {same}").fetchall()[0][0]
            )
            _conflicts(con, present, same, f"SELECT b._line, a._line, {{cols}} {pairs}", res)
            con.execute(
                "DELETE FROM redcat_s USING redcat_first f WHERE redcat_s._key = f._key AND redcat_s._line > f._first"
            )

        # 2. Against the store: new, duplicate, or updated (or, for a key an earlier batch of
        # this file wrote or found stored, a duplicate or conflict within the file).
        if earlier:
            con.execute("CREATE TEMP TABLE IF NOT EXISTS redcat_seen (_key VARCHAR, _line BIGINT)")
            within = f"(a._ingest_id = {ingest_id} OR s._key IS NOT NULL)"
            first = f"CASE WHEN a._ingest_id = {ingest_id} THEN a._line ELSE s._line END"
            seen = "LEFT JOIN redcat_seen s ON s._key = b._key"
        else:
            within, first, seen = "FALSE", "NULL::BIGINT", ""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE redcat_c AS SELECT b._key, b._line, "
            f"CASE WHEN ({same}) THEN 1 WHEN {within} THEN 3 ELSE 2 END AS c, "
            f"{within} AS w, {first} AS _first "
            f"FROM {src} b JOIN {T} a ON a._key = b._key {seen}"
        )
        counts = dict(con.execute("SELECT c, count(*) FROM redcat_c GROUP BY c").fetchall())
        n_src = int(con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0])
        matched = sum(int(v) for v in counts.values())
        res.rows_duplicate += int(counts.get(1, 0))
        updated = int(counts.get(2, 0))
        res.rows_updated += updated
        if updated and "account" in kind.key and "spend" in present:
            _spend_changes(con, kind, src, res)
        res.rows_loaded += n_src - matched
        if counts.get(3):
            _conflicts(
                con,
                present,
                same,
                f"SELECT b._line, c._first, {{cols}} FROM redcat_c c JOIN {src} b "
                f"ON b._key = c._key AND c.c = 3 JOIN {T} a ON a._key = c._key",
                res,
            )
        if remember and counts.get(1):
            con.execute("CREATE TEMP TABLE IF NOT EXISTS redcat_seen (_key VARCHAR, _line BIGINT)")
            con.execute(
                "INSERT INTO redcat_seen SELECT _key, _line FROM redcat_c WHERE c = 1 AND NOT w"
            )

        if updated:
            names = [*kind.fields, *BOOKKEEPING_COLUMNS]
            con.execute(
                f"INSERT INTO {H} ({', '.join(quote(c) for c in names)}, _superseded_by) "
                f"SELECT {', '.join('t.' + quote(c) for c in names)}, {ingest_id} "
                f"FROM {T} t JOIN redcat_c c ON c._key = t._key AND c.c = 2"
            )
            sets = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in present)
            con.execute(
                f"UPDATE {T} SET {sets}, _ingest_id = {ingest_id}, _line = u._line, _lower_bound = u._lower_bound "
                f"FROM (SELECT s.* FROM {src} s JOIN redcat_c c ON c._key = s._key AND c.c = 2) u "
                f"WHERE {T}._key = u._key"
            )
        if n_src > matched:  # some keys are stored already: insert only the new ones
            anti = "ANTI JOIN redcat_c c ON c._key = s._key" if matched else ""
            _insert_rows(con, kind, src, ingest_id, anti)
    finally:
        _drop_scratch(con, ("redcat_s", "redcat_c", "redcat_first"))


BIG_CHANGE = 0.5  # a stored spend changed by more than half of itself…
BIG_CHANGES = 3  # …on at least this many rows: probably another account's report


def _spend_changes(con: Any, kind: Kind, src: str, res: FileResult) -> None:
    """How many updated rows of this batch change stored spend by more than BIG_CHANGE of it,
    and by how much at most (added up over the file's batches in ``res``)."""
    T = quote(kind.table)
    n, worst = con.execute(
        f"SELECT count(*) FILTER (WHERE abs(b.spend - a.spend) > {BIG_CHANGE} * abs(a.spend)), "
        "max(abs(b.spend - a.spend) / nullif(abs(a.spend), 0)) "
        f"FROM {src} b JOIN {T} a ON a._key = b._key JOIN redcat_c c ON c._key = b._key AND c.c = 2"
    ).fetchall()[0]
    res._big_changes += int(n or 0)
    if worst is not None:
        res._worst_change = max(res._worst_change or worst, worst)


def _warn_other_account(kind: Kind, res: FileResult) -> None:
    """A later export changes stored spend a little as numbers mature; another account's
    report, ingested without --set account=, replaces the first account's days wholesale."""
    if res._big_changes < BIG_CHANGES:
        return
    what = "days" if "date" in kind.fields else "rows"
    res.warnings.append(
        f"{res._big_changes} {what} changed spend by up to {float(res._worst_change):.0%} — if "
        f"this is another account, ingest it with --set account=NAME (the replaced values are "
        f"kept in {kind.history_table})"
    )


def _confirm_unchanged(con: Any, kind: Kind, ingest_id: int, exported: dt.date | None) -> None:
    """Re-date rows this export repeats unchanged (``redcat_seen``), when it was made after
    the stored one.

    For kinds whose outcomes mature (``summary.window`` in the kind's YAML), the row's earlier
    version goes to history and the row names this ingest, so the store knows the value was
    still the same at the later age (the maturity curve needs that; ``rows_duplicate`` still
    counts it)."""
    if exported is None or not _temp_table_exists(con, "redcat_seen"):
        return
    T, H = quote(kind.table), quote(kind.history_table)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE redcat_conf AS SELECT t._key, s._line FROM {T} t "
        "JOIN redcat_seen s ON s._key = t._key "
        "LEFT JOIN ingest_log l ON l.id = t._ingest_id "
        "WHERE l.exported_on IS NULL OR l.exported_on < ?",
        [exported],
    )
    try:
        names = ", ".join(quote(c) for c in [*kind.fields, *BOOKKEEPING_COLUMNS])
        con.execute(
            f"INSERT INTO {H} ({names}, _superseded_by) SELECT {names}, {ingest_id} "
            f"FROM {T} WHERE _key IN (SELECT _key FROM redcat_conf)"
        )
        con.execute(
            f"UPDATE {T} SET _ingest_id = {ingest_id}, _line = c._line FROM redcat_conf c "
            f"WHERE c._key = {T}._key"
        )
    finally:
        _drop_scratch(con, ("redcat_conf",))


def _drop_scratch(con: Any, tables: tuple[str, ...]) -> None:
    """Drop the scratch tables. After a failure (a full disk, an interrupt) the transaction
    is aborted and these statements fail too: the first error is the one to report."""
    import sys

    failing = sys.exc_info()[0] is not None
    try:
        for t in tables:
            con.execute(f"DROP TABLE IF EXISTS {t}")
    except Exception:
        if not failing:
            raise


NAME_BYTES = 180  # a file name redcat makes, with room for a temporary file's affixes (≤ 255)


def short_name(name: str, max_bytes: int = NAME_BYTES) -> str:
    """``name`` cut to ``max_bytes`` of UTF-8 on a character boundary; a cut name ends with
    a short hash of the whole, so two long names that share a beginning stay apart."""
    raw = name.encode("utf-8")
    if len(raw) <= max_bytes:
        return name
    import hashlib

    tag = "~" + hashlib.sha256(raw).hexdigest()[:8]
    return raw[: max_bytes - len(tag)].decode("utf-8", "ignore") + tag


def _conflicts(con: Any, present: list[str], same: str, query: str, res: FileResult) -> None:
    """Rejects for rows whose key an earlier row of the file has, with other values.

    ``query`` selects the row's line, the earlier row's line, then ``{cols}``: the earlier
    row's values (``a``) and this row's (``b``)."""
    acols = ", ".join(f"a.{quote(c)}" for c in present)
    bcols = ", ".join(f"b.{quote(c)}" for c in present)
    k = len(present)
    sql = query.format(cols=f"{acols}, {bcols}") + f" WHERE NOT ({same}) ORDER BY b._line"
    for r in con.execute(sql).fetchall():
        first_vals, vals = r[2 : 2 + k], r[2 + k :]
        diffs = [
            f"{c}: {x} vs {y}" for c, x, y in zip(present, first_vals, vals, strict=True) if x != y
        ]
        diff = "; ".join(diffs[:3]) + ("; …" if len(diffs) > 3 else "")
        res.rejects.append(
            Reject(
                int(r[0]),
                f"conflict: same key as line {r[1]} with different values ({diff})",
                ["" if v is None else str(v) for v in vals],
            )
        )


def _write_rejects(store_path: Path, res: FileResult) -> Path:
    """Rejected rows to a CSV beside the store (UTF-8 with BOM so Excel opens it)."""
    from redcat_cli.errors import SystemFault
    from redcat_cli.files import atomic_write_text, csv_text

    folder = store_path.parent / short_name(f"{store_path.stem}-rejects")
    if folder.exists() and not folder.is_dir():
        raise SystemFault(
            f"cannot write the rejected rows: {folder} is a file, not a folder; "
            "nothing was committed",
            hint="move that file away (redcat keeps rejected rows in that folder)",
            code="system_fault",
        )
    folder.mkdir(parents=True, exist_ok=True)
    base = re.sub(r"[^\w.\-]+", "_", Path(res.path.replace("!", "_")).name) or "stdin"
    out = folder / f"{res.ingest_id:05d}-{short_name(base)}.rejects.csv"
    width = max((len(r.fields) for r in res.rejects), default=0)
    rows = [[r.line, r.reason, *r.fields] for r in res.rejects]
    header = ["line", "reason", *[f"field_{i + 1}" for i in range(width)]]
    atomic_write_text(out, "\ufeff" + csv_text(header, rows))
    return out
