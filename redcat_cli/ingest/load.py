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
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import Any

from redcat_cli import __version__
from redcat_cli.errors import IngestError, RedcatError, UsageError, system_fault
from redcat_cli.ingest.csvsplit import NotStreamable
from redcat_cli.ingest.kinds import Kind, get_kind, load_kinds
from redcat_cli.ingest.prepare import _ahead, _fixed_values, _prepare, _whole_footers
from redcat_cli.ingest.reader import (
    RawTable,
    Source,
    open_inputs,
    read_source,
)
from redcat_cli.ingest.results import FileResult, IngestReport, Reject
from redcat_cli.ingest.write import (
    RAW_SEP,
    _confirm_unchanged,
    _drop_scratch,
    _KeyFilter,
    _temp_table_exists,
    _undo,
    _upsert,
    _warn_other_account,
    _write_batch,
)
from redcat_cli.store.db import DEFAULT_MERCHANT, Store, open_store

__all__ = ["FileResult", "IngestReport", "Reject", "ingest", "short_name"]

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
