"""Ingest: exports into the store, with every row accounted for.

For each file: rows_read = rows_loaded + rows_updated + rows_duplicate + rows_skipped +
rows_rejected. Rejected rows go to a CSV beside the store (line, reason, raw fields).
One call of :func:`ingest` is one transaction: an error, a kill, or a rejected row under
``strict`` leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from redcat_cli.errors import IngestError, RedcatError, UsageError, system_fault
from redcat_cli.ingest.csvsplit import NotStreamable
from redcat_cli.ingest.exported import _find_export_date
from redcat_cli.ingest.joined import Group, Parsed, joins, member_texts, parse_group, template_of
from redcat_cli.ingest.kinds import Kind, get_kind, load_kinds
from redcat_cli.ingest.prepare import (
    _ahead,
    _fixed_values,
    _Part,
    _prepare,
    _Rows,
    _select,
    _Text,
    _typed,
    _whole_footers,
)
from redcat_cli.ingest.reader import (
    RawTable,
    Source,
    open_inputs,
    read_source,
)
from redcat_cli.ingest.rejects import _write_rejects, short_name
from redcat_cli.ingest.results import FileResult, IngestReport, Reject, _log_files
from redcat_cli.ingest.waiting import _WaitingRows, cells_at, release_arrow_memory
from redcat_cli.ingest.write import (
    _Appender,
    _drop_scratch,
    _KeyFilter,
    _undo,
    _upsert,
    _warn_other_account,
    _within_files,
    _write_batch,
)
from redcat_cli.store.db import Store, open_store

__all__ = ["FileResult", "IngestReport", "Reject", "ingest", "short_name"]

# progress(stage, name[, done, total]): stage is "read" (a new input), "store" (a batch of it
# is being written; done of total bytes read) or, from the command, "done".
Progress = Callable[..., None]

# Arrow tables reach DuckDB as Python variables named in the SQL, found in the calling
# frames: a table registered on the connection instead would be kept alive until the
# transaction ends, so memory would grow with every batch of a long file.
_ARROW_BY_NAME = "SET python_scan_all_frames = true"

# What DuckDB may hold in memory during an ingest before it spills to a temporary folder
# beside the store: the rows of a re-export that wait to be classified (all of them, on a
# re-ingest) and the joins that classify them. Keeps a re-ingest of 1M rows under 1.5 GB.
INGEST_MEMORY = "640MB"


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
        con.execute(f"SET memory_limit = '{INGEST_MEMORY}'")
        con.execute("BEGIN TRANSACTION")
        try:
            run = _Run(store, con, date_order, say, fixed, exported_on, whose)
            with _no_cycle_collection():
                _ingest_inputs(run, paths, kinds, forced, encoding, results)
                run.flush()
            _finish_rejects(con, store_p, results, strict)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:
                pass
            raise
    return IngestReport(str(store_p), results, True, whose)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while inputs are read: what an input makes is freed
    by reference counting, and the collector's passes over the objects of thousands of
    small inputs cost a tenth of their ingest."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _ingest_inputs(
    run: _Run,
    paths: Sequence[str],
    kinds: dict[str, Kind],
    forced: Kind | None,
    encoding: str | None,
    results: list[FileResult],
) -> None:
    """Every input of every argument, in order. An input read like the one before it
    (:mod:`redcat_cli.ingest.joined`) waits in a group, parsed with the others in one pass."""
    group: Group | None = None

    def flush_group() -> None:
        nonlocal group
        if group is not None and group.members:
            _ingest_group(run, group, kinds, forced, encoding, paths, results)
        if group is not None:
            group = Group(group.template)

    for path in paths:
        try:
            for src in open_inputs(path):
                member = joins(group.template if group else None, src, path, encoding)
                if member is not None and group is not None:
                    group.members.append(member)
                    group.size += len(member.data)
                    if group.full():
                        flush_group()
                    continue
                flush_group()
                run.say("read", src.name)
                res, raw = _ingest_source(run, src, kinds, forced, encoding)
                results.append(res)
                template = template_of(raw, src)
                group = Group(template) if template is not None else None
        except RedcatError as e:
            if len(paths) > 1 and not getattr(e, "batch_said", False):
                _say_batch_failed(e, path, paths, results)
            raise
    flush_group()


def _ingest_group(
    run: _Run,
    group: Group,
    kinds: dict[str, Kind],
    forced: Kind | None,
    encoding: str | None,
    paths: Sequence[str],
    results: list[FileResult],
) -> None:
    """The inputs of a group, parsed as one text and each counted as its own file; each
    read alone where the joined text is not clean, or where its dates need its own rows."""
    parsed = parse_group(group, run.date_order)
    raw0 = group.template.raw
    fixed_values = _fixed_values(raw0.kind, raw0.match, raw0.name, run.fixed, run.date_order)
    texts = None
    if parsed is not None and parsed.orders is not None:
        texts = member_texts(parsed, run.date_order, fixed_values, int(run.next_id))
    for i, m in enumerate(group.members):
        try:
            run.say("read", m.src.name)
            if texts is not None:
                text: _Text | None = texts[i]
            elif parsed is not None:
                text = _select_alone(run, parsed, i, fixed_values)
            else:
                text = None
            if text is None:
                results.append(_ingest_source(run, m.src, kinds, forced, encoding)[0])
                continue
            res = _new_result(text.raw, run.new_id())
            assert res.ingest_id == text.ingest_id
            res.sha256 = text.raw.sha256
            run.say("store", m.src.name, text.done, text.raw.size)
            run.add(_Whole(res, text, dt.datetime.now(), m.src.mtime))
            results.append(res)
        except RedcatError as e:
            if len(paths) > 1:
                _say_batch_failed(e, m.path, paths, results)
                e.batch_said = True  # type: ignore[attr-defined]
            raise


def _select_alone(run: _Run, parsed: Parsed, i: int, fixed_values: dict[str, Any]) -> Any:
    """Member ``i``'s rows, its dates' day/month order decided by its own rows (None: it
    needs the exact reader, as when read alone)."""
    try:
        return _select(
            parsed.raws[i], parsed.part(i), {}, run.date_order, fixed_values, int(run.next_id)
        )
    except NotStreamable:
        return None


def _finish_rejects(con: Any, store_p: Path, results: list[FileResult], strict: bool) -> None:
    """Rejected rows to their files beside the store; under ``strict`` any of them fails the
    whole ingest."""
    rejected = [r for r in results if r.rows_rejected]
    for r in rejected:
        r.rejects_path = str(_write_rejects(store_p, r))
    if strict and rejected:
        con.execute("ROLLBACK")
        total = sum(r.rows_rejected for r in rejected)
        where = "; ".join(f"{r.path}: {r.rows_rejected} (see {r.rejects_path})" for r in rejected)
        raise IngestError(
            f"--strict: {total} row(s) rejected, nothing was committed. {where}",
            hint="fix the rows listed in the rejects file, or run without --strict to load the good rows",
            code="rows_rejected",
        )
    for r in rejected:
        con.execute(
            "UPDATE ingest_log SET rejects_path = ? WHERE id = ?", [r.rejects_path, r.ingest_id]
        )


GROUP_ROWS = 250_000  # rows of whole-read files of one table that wait to be written together


@dataclass
class _Whole:
    """A file read in one batch, waiting to be typed and written with others like it."""

    res: FileResult
    text: _Text
    started: dt.datetime
    mtime: float | None


class _Run:
    """One ingest: its settings, the ingest ids it hands out, and the files read whole that
    wait to be written.

    Many small files (or zip members) cost about what one file of their rows costs: the
    files read whole are written per table in one pass over the store (:func:`_write_group`),
    each file still counted on its own, and in file order where files share a key."""

    def __init__(
        self,
        store: Store,
        con: Any,
        date_order: str | None,
        say: Progress,
        fixed: dict[str, str],
        exported_on: dt.date | None,
        merchant: str,
    ) -> None:
        self.store, self.date_order, self.say, self.fixed = store, date_order, say, fixed
        self.exported_on, self.merchant = exported_on, merchant
        self.batch, self.next_id = con.execute(
            "SELECT coalesce(max(batch_id), 0) + 1, coalesce(max(id), 0) + 1 FROM ingest_log"
        ).fetchall()[0]
        self.waiting: dict[str, list[_Whole]] = {}
        self.rows: dict[str, int] = {}  # rows waiting, per table

    def new_id(self) -> int:
        self.next_id += 1
        return int(self.next_id - 1)

    def add(self, whole: _Whole) -> None:
        table = whole.text.raw.kind.table
        group = self.waiting.get(table)
        if group and group[0].text.same_reading() != whole.text.same_reading():
            self.flush(table)
        group = self.waiting.setdefault(table, [])
        group.append(whole)
        self.rows[table] = self.rows.get(table, 0) + whole.text.sub.num_rows
        if self.rows[table] >= GROUP_ROWS:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        """Write the files waiting (for one table, or all), in the order they were read."""
        for t in [table] if table else list(self.waiting):
            group = self.waiting.pop(t, None)
            self.rows.pop(t, None)
            if group:
                _write_whole_files(self, group)


# --- one table ---------------------------------------------------------------------------------


def _ingest_source(
    run: _Run, src: Source, kinds: dict[str, Kind], forced: Kind | None, encoding: str | None
) -> tuple[FileResult, RawTable]:
    """One input: read in pieces where it can be; where a piece turns out to need the exact
    reader, what the earlier pieces wrote is undone and the whole input is read again."""
    ingest_id = run.new_id()
    raw = read_source(src, kinds, forced=forced, encoding=encoding)
    try:
        return _ingest_table(run, raw, ingest_id, src.mtime), raw
    except NotStreamable:
        _undo(run.store, raw.kind, ingest_id)
        raw = read_source(src, kinds, forced=forced, encoding=encoding, exact=True)
        return _ingest_table(run, raw, ingest_id, src.mtime), raw


def _new_result(raw: RawTable, ingest_id: int) -> FileResult:
    kind, header, match = raw.kind, raw.header, raw.match
    res = FileResult(raw.name, kind.name, raw.encoding, "", sheet=raw.sheet)
    res.ingest_id = ingest_id
    res.columns_ignored = [header[i] for i in match.unmatched]
    for i, fname in match.duplicates:
        res.warnings.append(
            f"column {header[i]!r} repeats {kind.fields[fname].label}; the first one is used"
        )
    return res


def _ingest_table(run: _Run, raw: RawTable, ingest_id: int, mtime: float | None) -> FileResult:
    """One table: a file read in one batch waits in ``run`` to be typed and written with
    others; a file of several batches is written batch by batch, its surely-new rows at once."""
    res = _new_result(raw, ingest_id)
    started = dt.datetime.now()
    fixed_values = _fixed_values(raw.kind, raw.match, raw.name, run.fixed, run.date_order)
    orders: dict[int, str | None] = {}  # date columns: day/month order decided so far
    if not raw.exact:
        _import_pandas_meanwhile()
    parts = _whole_footers(raw)
    first = next(parts, None)
    if first is not None and first.final:  # the whole file in one batch
        text = _select(raw, first, orders, run.date_order, fixed_values, ingest_id)
        res.sha256 = raw.sha256
        run.say("store", raw.name, first.done, raw.size)
        run.add(_Whole(res, text, started, mtime))
        return res
    batches = itertools.chain([first] if first is not None else [], parts)
    waiting = _WaitingRows(Path(run.store.path).parent)
    try:
        _write_pieces(run, raw, res, batches, orders, fixed_values, waiting)
        _find_export_date(res, res._dates, run.exported_on, mtime)
        res.sha256 = raw.sha256
        _settle_candidates(run.store, raw.kind, res, waiting)
    finally:
        waiting.close()
    _finish(raw.kind, res)
    _log_files(run.store.con, [(res, started)], int(run.batch), run.merchant)
    return res


def _import_pandas_meanwhile() -> None:
    """pyarrow imports pandas (0.2-0.4 s) the first time it hands values to numpy, which
    happens right after the first piece of a file is parsed. Begun before that parse, which
    leaves the interpreter free, the import runs beside it. (Not a daemon: the process
    waits for it rather than exit in the middle of an import.)"""
    import sys
    import threading

    if "pandas" not in sys.modules:
        threading.Thread(target=_import_pandas, name="redcat-import").start()


def _import_pandas() -> None:
    try:
        import pandas  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency; pyarrow then does without it
        pass


def _write_pieces(
    run: _Run,
    raw: RawTable,
    res: FileResult,
    parts: Iterator[_Part],
    orders: dict[int, str | None],
    fixed_values: dict[str, Any],
    waiting: _WaitingRows,
) -> None:
    """A file of several batches: each prepared on the other core while the one before is
    written; rows whose key is surely new go in at once, the others wait (``waiting``)."""
    kind, con = raw.kind, run.store.con
    ingest_id = int(res.ingest_id or 0)
    keys: _KeyFilter | None = None  # which keys may be known
    out = _Appender(con, kind)
    for rows in _ahead(
        _prepare(raw, b, orders, run.date_order, fixed_values, run.merchant, ingest_id)
        for b in parts
    ):
        _count(res, rows)
        run.say("store", raw.name, rows.done, raw.size)
        if keys is None:
            run.flush(kind.table)  # the files before this one first
            keys = _KeyFilter(con, kind)
        _write_batch(con, rows, res, keys, out, waiting)
    out.finish()


def _count(res: FileResult, rows: _Rows) -> None:
    res.rows_read += rows.rows_read
    res.rows_skipped += rows.rows_skipped
    res.values_lower_bound += rows.lower_bound
    res.rejects.extend(rows.rejects)
    res._dates.extend(rows.dates or ())


def _write_group(
    store: Store,
    kind: Kind,
    staged: Any,
    files: dict[int, FileResult],
    earlier: bool = False,
    distinct: bool = False,
) -> None:
    """Rows of one or more files (``_ingest_id`` names each row's file) into the store: the
    repeats within each file set apart, then one pass per round of keys (see
    :func:`_within_files`), so a file's row meets the store as the files before it left it."""
    con = store.con
    if isinstance(staged, str):
        src = staged
    else:
        src = "redcat_staged"
        redcat_staged = staged  # noqa: F841  (read by name: see _ARROW_BY_NAME)
    remember = bool(kind.summary.get("window"))  # outcomes mature: duplicates are re-dated
    try:
        src, rounds = _within_files(con, kind, src, files, earlier, distinct)
        if rounds == 1:
            _upsert(store, kind, src, files, earlier=earlier, remember=remember)
            return
        for r in range(1, rounds + 1):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE redcat_r AS SELECT * FROM {src} WHERE _round = {r}"
            )
            _upsert(store, kind, "redcat_r", files, remember=remember)
    finally:
        _drop_scratch(con, ("redcat_s", "redcat_r"))


def _write_whole_files(run: _Run, group: list[_Whole]) -> None:
    """Files read in one batch that read alike, typed in one pass and written together; then
    each one's conflicts shown as the file wrote them, its counts checked, its line in
    ingest_log."""
    import numpy as np
    import pyarrow as pa

    kind = group[0].text.raw.kind
    staged, prepared = _typed([w.text for w in group], run.merchant)
    files: dict[int, FileResult] = {}
    for w, rows in zip(group, prepared, strict=True):
        _count(w.res, rows)
        _find_export_date(w.res, w.res._dates, run.exported_on, w.mtime)
        files[int(w.res.ingest_id or 0)] = w.res
    before = {w.res.ingest_id: len(w.res.rejects) for w in group}
    _write_group(run.store, kind, staged, files)
    for w, rows in zip(group, prepared, strict=True):
        conflicts = w.res.rejects[before[w.res.ingest_id] :]
        if conflicts:  # the rejects file shows the row as the file wrote it
            at = np.searchsorted(rows.sub_lines, [r.line for r in conflicts])
            raw_rows = rows.sub.take(pa.array(at)).to_pylist()
            for rej, cells in zip(conflicts, raw_rows, strict=True):
                rej.fields = list(cells.values())
        _finish(kind, w.res)
    _log_files(run.store.con, [(w.res, w.started) for w in group], int(run.batch), run.merchant)


def _finish(kind: Kind, res: FileResult) -> None:
    """A file's last warnings, its rejects in line order, and its rows added up."""
    _warn_other_account(kind, res)
    if res.rows_read == 0:
        res.warnings.append(
            "a header and no data rows: nothing to load (was the export's date range empty?)"
        )
    res.rows_rejected = len(res.rejects)
    res.rejects.sort(key=lambda r: r.line)
    if not res.balanced():
        raise AssertionError(f"rows of {res.path} do not add up: {res.to_dict()}")


def _settle_candidates(store: Store, kind: Kind, res: FileResult, waiting: _WaitingRows) -> None:
    """The rows of a file read in pieces whose key may be known: classified against the store
    and the rows the file wrote, as a whole read would, a group of parts at a time (no key is
    in two parts: each part's rows meet the store as they would all at once)."""
    if not waiting.rows:
        return
    release_arrow_memory()
    shared = waiting.shared_hashes()
    files = {int(res.ingest_id or 0): res}
    for group in waiting.groups():
        table = waiting.read(group)
        n_before = len(res.rejects)
        rows = table.drop_columns(["_raw"])
        distinct = waiting.distinct(store.con, rows, shared)
        _write_group(store, kind, rows, files, earlier=True, distinct=distinct)
        conflicts = res.rejects[n_before:]
        if conflicts:  # the rejects file shows the row as the file wrote it
            cells = cells_at(table, [r.line for r in conflicts])
            for rej in conflicts:
                rej.fields = cells[rej.line]
