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
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from redcat_cli import __version__
from redcat_cli.errors import IngestError, RedcatError, UsageError
from redcat_cli.kinds import Kind, get_kind, load_kinds
from redcat_cli.reader import RawTable, open_inputs, read_source
from redcat_cli.store import (
    BOOKKEEPING_COLUMNS,
    DEFAULT_MERCHANT,
    KEY_SEP,
    Store,
    open_store,
    quote,
)
from redcat_cli.values import MISSING, decide_date_order, parse_column

TOTAL_PREFIXES = ("合计", "总计", "汇总", "总合计", "全部合计")  # total rows start with these


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


Progress = Callable[[str, str], None]


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
    is the date the files were exported (else found per file: :mod:`redcat_cli.exported`).
    ``merchant`` tags every row (default: the one merchant the store holds, else ``default``).
    """
    if not paths:
        raise UsageError("no files given", hint="redcat ingest FILE… (use - for stdin)")
    if merchant is not None:
        from redcat_cli.merchants import check_name

        merchant = check_name(merchant)
    if date_order not in (None, "dmy", "mdy"):
        raise UsageError(f"--date-order must be dmy or mdy, not {date_order!r}")
    kinds = load_kinds()
    forced = get_kind(source) if source else None
    say = progress or (lambda stage, name: None)
    # A failed first ingest leaves no store: open_store makes a new store under a temporary
    # name and puts it in place only after the commit.
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
    from redcat_cli.merchants import for_ingest

    results: list[FileResult] = []
    with open_store(store_p, read_only=False) as store:
        con = store.con
        whose = for_ingest(con, merchant)
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
                        raw = read_source(src, kinds, forced=forced, encoding=encoding)
                        say("parse", src.name)
                        result = _ingest_table(
                            store, raw, batch, date_order, say, fixed, exported_on, src.mtime, whose
                        )
                        results.append(result)
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


def _ingest_table(
    store: Store,
    raw: RawTable,
    batch: int,
    date_order: str | None,
    say: Progress,
    fixed: dict[str, str],
    exported_option: dt.date | None = None,
    mtime: float | None = None,
    merchant: str = DEFAULT_MERCHANT,
) -> FileResult:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = raw.kind
    con = store.con
    res = FileResult(raw.name, kind.name, raw.encoding, raw.sha256, sheet=raw.sheet)
    started = dt.datetime.now()
    ingest_id = int(con.execute("SELECT coalesce(max(id), 0) + 1 FROM ingest_log").fetchall()[0][0])
    res.ingest_id = ingest_id

    table = raw.columns
    n = table.num_rows
    lines = raw.lines
    header = raw.header
    match = raw.match
    res.columns_ignored = [header[i] for i in match.unmatched]
    for i, fname in match.duplicates:
        res.warnings.append(
            f"column {header[i]!r} repeats {kind.fields[fname].label}; the first one is used"
        )

    # Blank rows are not rows.
    missing_set = frozenset(MISSING | set(kind.missing))
    nonempty = np.zeros(n, dtype=np.int32)
    for i in range(table.num_columns):
        nonempty += pc.not_equal(table.column(i), "").to_numpy().astype(np.int32)
    keep = nonempty > 0
    res.rows_read = int(keep.sum()) + len(raw.ragged)
    if res.rows_read == 0:
        res.warnings.append(
            "a header and no data rows: nothing to load (was the export's date range empty?)"
        )

    # Total rows (合计…) and footers (one text cell after the data, no key).
    skipped = np.zeros(n, dtype=bool)
    check_cols = {
        0,
        *[i for i, f in match.columns.items() if f in kind.key or kind.fields[f].required],
    }
    for i in check_cols:
        if i < table.num_columns:
            cell = pc.utf8_ltrim_whitespace(table.column(i))
            for prefix in TOTAL_PREFIXES:  # starts_with: several times faster than a regex
                skipped |= pc.starts_with(cell, prefix).to_numpy()
    first_only = (nonempty == 1) & (pc.not_equal(table.column(0), "").to_numpy() if n else keep)
    idx = n - 1
    while idx >= 0 and (not keep[idx] or first_only[idx] or skipped[idx]):
        if keep[idx] and first_only[idx] and not _first_is_data(kind, match):
            skipped[idx] = True
        idx -= 1
    skipped &= keep
    res.rows_skipped = int(skipped.sum())

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
    del table
    for ci, fname in match.columns.items():
        f = kind.fields[fname]
        col = sub.column(ci).combine_chunks()
        order = date_order
        if f.type in ("date", "datetime") and order is None:
            try:
                decided = decide_date_order(col)
            except ValueError as e:
                raise IngestError(
                    f"{raw.name}: column {header[ci]}: {e}",
                    hint="the file was probably edited by hand; export it again",
                ) from None
            if decided == "ambiguous":
                raise IngestError(
                    f"{raw.name}: column {header[ci]}: dates like 1/11/2024 with no day over 12, so "
                    "day/month order cannot be told",
                    hint="say which with --date-order dmy (19/05/2025) or --date-order mdy (05/19/2025)",
                )
            order = decided
        parsed = parse_column(col, f.type, missing=missing_set, date_order=order, signed=f.signed)
        typed[fname] = parsed.values
        for r, reason in parsed.errors.items():
            errors.setdefault(r, []).append(f"{header[ci]}: {reason}")
        for r in parsed.lower_bound_rows:
            lower_bound.setdefault(r, []).append(fname)
    for fname, text in fixed.items():
        fixed_field = kind.fields.get(fname)
        if fixed_field is None:
            raise UsageError(
                f"--set {fname}: {raw.name} is a {kind.name} export, which has no field {fname}",
                hint=f"its fields: {', '.join(kind.fields)}",
            )
        if fname in typed:
            raise UsageError(
                f"--set {fname}: {raw.name} has that column ({fixed_field.label}) already",
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
        typed[fname] = pa.repeat(one.values[0], m)
    # Required fields present?
    for fname in kind.required:
        if fname in typed:
            nulls = pc.is_null(typed[fname]).to_numpy(zero_copy_only=False)
            for r in np.nonzero(nulls)[0].tolist():
                if r not in errors:
                    errors.setdefault(r, []).append(f"{kind.fields[fname].label} is empty")
    for rg in raw.ragged:
        res.rejects.append(Reject(rg.line, rg.reason, rg.fields))
    if errors:
        bad_rows = sorted(errors)
        raw_rows = sub.take(pa.array(bad_rows)).to_pylist()
        for r, cells in zip(bad_rows, raw_rows, strict=True):
            res.rejects.append(
                Reject(int(sub_lines[r]), "; ".join(errors[r]), list(cells.values()))
            )
    res.values_lower_bound = sum(len(v) for k, v in lower_bound.items() if k not in errors)

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
    staged = pa.table(cols)
    _find_export_date(kind, staged, res, exported_option, mtime)

    say("store", raw.name)
    n_before = len(res.rejects)
    _upsert(store, kind, staged, ingest_id, res)
    conflicts = res.rejects[n_before:]
    if conflicts:  # the rejects file shows the row as the file wrote it
        at = np.searchsorted(sub_lines, [r.line for r in conflicts])
        raw_rows = sub.take(pa.array(at)).to_pylist()
        for rej, cells in zip(conflicts, raw_rows, strict=True):
            rej.fields = list(cells.values())
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


def _find_export_date(
    kind: Kind, staged: Any, res: FileResult, option: dt.date | None, mtime: float | None
) -> None:
    """The file's export date, from the option, its name or its modification time."""
    import pyarrow.compute as pc

    from redcat_cli.exported import FROM_MTIME, find_export_date

    first = last = None
    date_col = kind.summary.get("date")
    if date_col and date_col in staged.column_names and staged.num_rows:
        lo_hi = pc.min_max(staged.column(date_col)).as_py()
        first, last = (
            v.date() if isinstance(v, dt.datetime) else v for v in (lo_hi["min"], lo_hi["max"])
        )
    found = find_export_date(res.path, first, last, option=option, mtime=mtime)
    res.exported_on, res.exported_on_from = found.date, found.found_from
    if found.found_from == FROM_MTIME and last is not None and found.date <= last:
        res.warnings.append(
            f"exported_on {found.date} (the file's modified time) is not after its last data "
            f"date {last}; give the export date with --exported-on"
        )


def _first_is_data(kind: Kind, match: Any) -> bool:
    """A single-cell row is a footer unless that single cell could be a complete row."""
    return len(kind.required) <= 1 and not kind.required_any and 0 in match.columns


def _arrow_key(kind: Kind, cols: dict[str, Any], n: int, merchant: str) -> Any:
    """The natural key as one text column: the merchant, then the kind's key parts, joined
    by U+001F; a missing part as ''."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [pa.array([merchant] * n, pa.string())]
    for k in kind.key:
        if k in cols:
            parts.append(pc.fill_null(pc.cast(cols[k], pa.string()), ""))
        else:
            parts.append(pa.scalar("", pa.string()))
    return pc.binary_join_element_wise(*parts, KEY_SEP)


def _upsert(store: Store, kind: Kind, staged: Any, ingest_id: int, res: FileResult) -> None:
    """Classify each row against the file itself and the store, then write.

    For kinds whose outcomes mature (``summary.window`` in the kind's YAML), a row that a later
    export repeats unchanged is re-dated: its earlier version goes to history and the row
    names this ingest, so the store knows the value was still the same at the later age (the
    maturity curve needs that; ``rows_duplicate`` still counts it).
    """
    con = store.con
    present = [c for c in staged.column_names if not c.startswith("_")]
    T = quote(kind.table)
    H = quote(kind.history_table)
    same = (
        " AND ".join(f"a.{quote(c)} IS NOT DISTINCT FROM b.{quote(c)}" for c in present) or "TRUE"
    )
    src = "redcat_staged"
    con.register(src, staged)
    try:
        # 1. Rows of this file that repeat an earlier row's key: duplicate if equal, conflict if not.
        n_keys = int(con.execute(f"SELECT count(DISTINCT _key) FROM {src}").fetchall()[0][0])
        if n_keys != staged.num_rows:
            con.execute(f"CREATE OR REPLACE TEMP TABLE redcat_s AS SELECT * FROM {src}")
            con.unregister(src)
            src = "redcat_s"
            con.execute(
                "CREATE OR REPLACE TEMP TABLE redcat_first AS "
                "SELECT _key, min(_line) AS _first FROM redcat_s GROUP BY _key HAVING count(*) > 1"
            )
            pairs = (
                "FROM redcat_s b JOIN redcat_first f ON f._key = b._key AND b._line > f._first "
                "JOIN redcat_s a ON a._key = f._key AND a._line = f._first"
            )
            res.rows_duplicate += int(
                con.execute(f"SELECT count(*) {pairs} WHERE {same}").fetchall()[0][0]
            )
            acols = ", ".join(f"a.{quote(c)}" for c in present)
            bcols = ", ".join(f"b.{quote(c)}" for c in present)
            k = len(present)
            for r in con.execute(
                f"SELECT b._line, a._line, {acols}, {bcols} {pairs} WHERE NOT ({same}) ORDER BY b._line"
            ).fetchall():
                first_vals, vals = r[2 : 2 + k], r[2 + k :]
                diffs = [
                    f"{c}: {x} vs {y}"
                    for c, x, y in zip(present, first_vals, vals, strict=True)
                    if x != y
                ]
                diff = "; ".join(diffs[:3]) + ("; …" if len(diffs) > 3 else "")
                res.rejects.append(
                    Reject(
                        int(r[0]),
                        f"conflict: same key as line {r[1]} with different values ({diff})",
                        ["" if v is None else str(v) for v in vals],
                    )
                )
            con.execute(
                "DELETE FROM redcat_s USING redcat_first f WHERE redcat_s._key = f._key AND redcat_s._line > f._first"
            )

        # 2. Against the store: new, duplicate, or updated.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE redcat_c AS SELECT b._key, "
            f"CASE WHEN ({same}) THEN 1 ELSE 2 END AS c "
            f"FROM {src} b JOIN {T} a ON a._key = b._key"
        )
        counts = dict(con.execute("SELECT c, count(*) FROM redcat_c GROUP BY c").fetchall())
        n_src = int(con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0])
        res.rows_duplicate += int(counts.get(1, 0))
        res.rows_updated = int(counts.get(2, 0))
        res.rows_loaded = n_src - int(counts.get(1, 0)) - res.rows_updated

        if res.rows_updated and "account" in kind.key and "spend" in present:
            _warn_other_account(con, kind, src, res)
        collist = ", ".join(quote(c) for c in present)
        if counts.get(1) and kind.summary.get("window") and res.exported_on is not None:
            _confirm_unchanged(con, kind, src, ingest_id, res.exported_on)
        if res.rows_updated:
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
        if res.rows_loaded:
            select = f"SELECT {', '.join('s.' + quote(c) for c in present)}, s._key, {ingest_id}, s._line, s._lower_bound FROM {src} s"
            if counts:  # some keys are stored already: insert only the new ones
                select += " ANTI JOIN redcat_c c ON c._key = s._key"
            con.execute(
                f"INSERT INTO {T} ({collist}, _key, _ingest_id, _line, _lower_bound) {select}"
            )
    finally:
        if src == "redcat_staged":
            con.unregister(src)
        for t in ("redcat_s", "redcat_c", "redcat_first"):
            con.execute(f"DROP TABLE IF EXISTS {t}")


BIG_CHANGE = 0.5  # a stored spend changed by more than half of itself…
BIG_CHANGES = 3  # …on at least this many rows: probably another account's report


def _warn_other_account(con: Any, kind: Kind, src: str, res: FileResult) -> None:
    """A later export changes stored spend a little as numbers mature; another account's
    report, ingested without --set account=, replaces the first account's days wholesale."""
    T = quote(kind.table)
    n, worst = con.execute(
        f"SELECT count(*) FILTER (WHERE abs(b.spend - a.spend) > {BIG_CHANGE} * abs(a.spend)), "
        "max(abs(b.spend - a.spend) / nullif(abs(a.spend), 0)) "
        f"FROM {src} b JOIN {T} a ON a._key = b._key JOIN redcat_c c ON c._key = b._key AND c.c = 2"
    ).fetchall()[0]
    if n is None or n < BIG_CHANGES:
        return
    what = "days" if "date" in kind.fields else "rows"
    res.warnings.append(
        f"{n} {what} changed spend by up to {float(worst):.0%} — if this is another account, "
        f"ingest it with --set account=NAME (the replaced values are kept in "
        f"{kind.history_table})"
    )


def _confirm_unchanged(con: Any, kind: Kind, src: str, ingest_id: int, exported: dt.date) -> None:
    """Re-date rows this export repeats unchanged, when it was made after the stored one."""
    T, H = quote(kind.table), quote(kind.history_table)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE redcat_conf AS SELECT t._key FROM {T} t "
        "JOIN redcat_c c ON c._key = t._key AND c.c = 1 "
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
            f"UPDATE {T} SET _ingest_id = {ingest_id}, _line = s._line FROM {src} s "
            f"WHERE s._key = {T}._key AND s._key IN (SELECT _key FROM redcat_conf)"
        )
    finally:
        con.execute("DROP TABLE IF EXISTS redcat_conf")


def _write_rejects(store_path: Path, res: FileResult) -> Path:
    """Rejected rows to a CSV beside the store (UTF-8 with BOM so Excel opens it)."""
    from redcat_cli.files import atomic_write_text, csv_text

    folder = store_path.parent / f"{store_path.stem}-rejects"
    folder.mkdir(parents=True, exist_ok=True)
    base = re.sub(r"[^\w.\-]+", "_", Path(res.path.replace("!", "_")).name) or "stdin"
    out = folder / f"{res.ingest_id:05d}-{base}.rejects.csv"
    width = max((len(r.fields) for r in res.rejects), default=0)
    rows = [[r.line, r.reason, *r.fields] for r in res.rejects]
    header = ["line", "reason", *[f"field_{i + 1}" for i in range(width)]]
    atomic_write_text(out, "\ufeff" + csv_text(header, rows))
    return out
