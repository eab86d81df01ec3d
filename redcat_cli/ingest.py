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
from pathlib import Path
from typing import Any

from redcat_cli import __version__
from redcat_cli.errors import IngestError, UsageError
from redcat_cli.kinds import Kind, get_kind, load_kinds
from redcat_cli.reader import RawTable, open_inputs, read_source
from redcat_cli.store import Store, open_store, quote
from redcat_cli.values import MISSING, decide_date_order, parse_column

TOTAL_ROW = re.compile(r"^\s*(合计|总计|汇总|总合计|全部合计)")


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
    values_lower_bound: int = 0
    columns_ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def balanced(self) -> bool:
        return self.rows_read == (
            self.rows_loaded + self.rows_updated + self.rows_duplicate + self.rows_skipped + self.rows_rejected
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "encoding": self.encoding,
            "sha256": self.sha256,
            "sheet": self.sheet,
            "ingest_id": self.ingest_id,
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
        return {"store": self.store, "committed": self.committed, "files": [f.to_dict() for f in self.files]}


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
) -> IngestReport:
    """Read every file and load it into the store, in one transaction."""
    if not paths:
        raise UsageError("no files given", hint="redcat ingest FILE… (use - for stdin)")
    if date_order not in (None, "dmy", "mdy"):
        raise UsageError(f"--date-order must be dmy or mdy, not {date_order!r}")
    kinds = load_kinds()
    forced = get_kind(source) if source else None
    say = progress or (lambda stage, name: None)
    store_p = Path(store_path)
    existed = store_p.exists()
    try:
        return _ingest(store_p, paths, kinds, forced, encoding, date_order, strict, say)
    except BaseException:
        if not existed:  # a failed first ingest leaves no store behind
            for leftover in (store_p, store_p.with_name(store_p.name + ".wal")):
                try:
                    leftover.unlink()
                except OSError:
                    pass
        raise


def _ingest(
    store_p: Path,
    paths: Sequence[str],
    kinds: dict[str, Kind],
    forced: Kind | None,
    encoding: str | None,
    date_order: str | None,
    strict: bool,
    say: Progress,
) -> IngestReport:
    results: list[FileResult] = []
    with open_store(store_p, read_only=False) as store:
        con = store.con
        con.execute("BEGIN TRANSACTION")
        try:
            batch = int(con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest_log").fetchall()[0][0])
            for path in paths:
                for src in open_inputs(path):
                    say("read", src.name)
                    raw = read_source(src, kinds, forced=forced, encoding=encoding)
                    say("parse", src.name)
                    result = _ingest_table(store, raw, batch, date_order, say)
                    results.append(result)
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
                )
            for r in results:
                if r.rejects_path:
                    con.execute("UPDATE ingest_log SET rejects_path = ? WHERE id = ?", [r.rejects_path, r.ingest_id])
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:
                pass
            raise
    return IngestReport(str(store_p), results, True)


# --- one table ---------------------------------------------------------------------------------


def _ingest_table(store: Store, raw: RawTable, batch: int, date_order: str | None, say: Progress) -> FileResult:
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
        res.warnings.append(f"column {header[i]!r} repeats {kind.fields[fname].label}; the first one is used")

    # Blank rows are not rows.
    missing_set = frozenset(MISSING | set(kind.missing))
    missing_arr = pa.array(sorted(missing_set), pa.string())
    nonempty = np.zeros(n, dtype=np.int32)
    trimmed = {}
    for i in range(table.num_columns):
        col = pc.utf8_trim_whitespace(table.column(i).combine_chunks())
        trimmed[i] = col
        nonempty += pc.not_equal(col, "").to_numpy(zero_copy_only=False).astype(np.int32)
    keep = nonempty > 0
    res.rows_read = int(keep.sum()) + len(raw.ragged)

    # Total rows (合计…) and footers (one text cell after the data, no key).
    skipped = np.zeros(n, dtype=bool)
    check_cols = {0, *[i for i, f in match.columns.items() if f in kind.key or kind.fields[f].required]}
    for i in check_cols:
        if i in trimmed:
            skipped |= pc.match_substring_regex(trimmed[i], TOTAL_ROW.pattern).to_numpy(zero_copy_only=False)
    first_only = (nonempty == 1) & (pc.not_equal(trimmed[0], "").to_numpy(zero_copy_only=False) if n else keep)
    # footers: trailing rows with a single text cell in the first column
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
    sub = table.take(pa.array(active_idx)) if len(active_idx) != n else table
    sub_lines = lines[active_idx]
    m = len(active_idx)
    for ci, fname in match.columns.items():
        f = kind.fields[fname]
        col = sub.column(ci).combine_chunks()
        order = date_order
        if f.type in ("date", "datetime") and order is None:
            try:
                decided = decide_date_order(col)
            except ValueError as e:
                raise IngestError(f"{raw.name}: column {header[ci]}: {e}") from None
            if decided == "ambiguous":
                raise IngestError(
                    f"{raw.name}: column {header[ci]}: dates like 1/11/2024 with no day over 12, so "
                    "day/month order cannot be told",
                    hint="say which with --date-order dmy (19/05/2025) or --date-order mdy (05/19/2025)",
                )
            order = decided
        parsed = parse_column(col, f.type, missing=missing_set, date_order=order)
        typed[fname] = parsed.values
        for r, reason in parsed.errors.items():
            errors.setdefault(r, []).append(f"{header[ci]}: {reason}")
        for r in parsed.lower_bound_rows:
            lower_bound.setdefault(r, []).append(fname)
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
        for r in sorted(errors):
            res.rejects.append(Reject(int(sub_lines[r]), "; ".join(errors[r]), _raw_fields(sub, r)))
    res.values_lower_bound = sum(len(v) for k, v in lower_bound.items() if k not in errors)

    good = np.ones(m, dtype=bool)
    if errors:
        good[list(errors)] = False
    good_idx = np.nonzero(good)[0]
    cols: dict[str, Any] = {}
    for fname, arr in typed.items():
        cols[fname] = arr.take(pa.array(good_idx)) if len(good_idx) != m else arr
    cols["_line"] = pa.array(sub_lines[good_idx], pa.int64())
    lb_values = [",".join(lower_bound[r]) if r in lower_bound else None for r in good_idx.tolist()] if lower_bound else None
    cols["_lower_bound"] = pa.array(lb_values, pa.string()) if lb_values else pa.nulls(len(good_idx), pa.string())
    staged = pa.table(cols)

    say("store", raw.name)
    _upsert(store, kind, staged, ingest_id, res)
    res.rows_rejected = len(res.rejects)
    res.rejects.sort(key=lambda r: r.line)
    assert res.balanced(), f"internal error: rows of {raw.name} do not add up: {res.to_dict()}"
    con.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ingest_id, batch, res.path, Path(res.path.split("!")[-1]).name, res.sha256, kind.name,
            res.encoding, res.sheet, res.rows_read, res.rows_loaded, res.rows_updated, res.rows_duplicate,
            res.rows_skipped, res.rows_rejected, None, started, dt.datetime.now(), __version__,
        ],
    )
    return res


def _first_is_data(kind: Kind, match: Any) -> bool:
    """A single-cell row is a footer unless that single cell could be a complete row."""
    return len(kind.required) <= 1 and not kind.required_any and 0 in match.columns


def _raw_fields(table: Any, r: int) -> list[str]:
    return [table.column(i)[r].as_py() for i in range(table.num_columns)]


def _key_expr(kind: Kind, present: set[str], prefix: str = "") -> str:
    parts = []
    for k in kind.key:
        if k in present:
            parts.append(f"coalesce(CAST({prefix}{quote(k)} AS VARCHAR), '')")
        else:
            parts.append("''")
    return "concat_ws(chr(31), " + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def _upsert(store: Store, kind: Kind, staged: Any, ingest_id: int, res: FileResult) -> None:
    """Classify each row against the file itself and the store, then write."""
    con = store.con
    present = [c for c in staged.column_names if not c.startswith("_")]
    pset = set(present)
    T = quote(kind.table)
    H = quote(kind.history_table)
    con.register("redcat_staged_in", staged)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE redcat_s AS SELECT *, {_key_expr(kind, pset)} AS _key FROM redcat_staged_in"
        )
    finally:
        con.unregister("redcat_staged_in")
    same = " AND ".join(f"a.{quote(c)} IS NOT DISTINCT FROM b.{quote(c)}" for c in present) or "TRUE"

    # 1. Rows of this file that repeat an earlier row's key: duplicate if equal, conflict if not.
    n_rows, n_keys = con.execute("SELECT count(*), count(DISTINCT _key) FROM redcat_s").fetchall()[0]
    if n_keys != n_rows:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE redcat_first AS "
            "SELECT _key, min(_line) AS _first FROM redcat_s GROUP BY _key HAVING count(*) > 1"
        )
        pairs = con.execute(
            f"SELECT b._line, a._line, ({same}) AS same FROM redcat_s b "
            f"JOIN redcat_first f ON f._key = b._key AND b._line > f._first "
            f"JOIN redcat_s a ON a._key = f._key AND a._line = f._first ORDER BY b._line"
        ).fetchall()
        drop = []
        for line, first, is_same in pairs:
            drop.append(line)
            if is_same:
                res.rows_duplicate += 1
            else:
                diff = _differences(con, present, line, first)
                res.rejects.append(
                    Reject(int(line), f"conflict: same key as line {first} with different values ({diff})",
                           _fields_of(con, line, present))
                )
        con.execute("DELETE FROM redcat_s WHERE _line IN (SELECT unnest(?::BIGINT[]))", [drop])

    # 2. Against the store: new, duplicate, or updated.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE redcat_c AS SELECT b._key, "
        f"CASE WHEN a._key IS NULL THEN 0 WHEN ({same}) THEN 1 ELSE 2 END AS c "
        f"FROM redcat_s b LEFT JOIN {T} a ON a._key = b._key"
    )
    counts = dict(con.execute("SELECT c, count(*) FROM redcat_c GROUP BY c").fetchall())
    res.rows_loaded = int(counts.get(0, 0))
    res.rows_duplicate += int(counts.get(1, 0))
    res.rows_updated = int(counts.get(2, 0))

    collist = ", ".join(quote(c) for c in present)
    if res.rows_updated:
        all_cols = ", ".join(quote(c) for c in [*kind.fields, "_key", "_ingest_id", "_line", "_lower_bound"])
        con.execute(
            f"INSERT INTO {H} ({all_cols}, _superseded_by) SELECT {', '.join('t.' + quote(c) for c in [*kind.fields, '_key', '_ingest_id', '_line', '_lower_bound'])}, {ingest_id} "
            f"FROM {T} t JOIN redcat_c c ON c._key = t._key AND c.c = 2"
        )
        sets = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in present)
        con.execute(
            f"UPDATE {T} SET {sets}, _ingest_id = {ingest_id}, _line = u._line, _lower_bound = u._lower_bound "
            f"FROM (SELECT s.* FROM redcat_s s JOIN redcat_c c ON c._key = s._key AND c.c = 2) u "
            f"WHERE {T}._key = u._key"
        )
    if res.rows_loaded:
        con.execute(
            f"INSERT INTO {T} ({collist}, _key, _ingest_id, _line, _lower_bound) "
            f"SELECT {', '.join('s.' + quote(c) for c in present)}, s._key, {ingest_id}, s._line, s._lower_bound "
            f"FROM redcat_s s JOIN redcat_c c ON c._key = s._key AND c.c = 0"
        )
    con.execute("DROP TABLE IF EXISTS redcat_s")
    con.execute("DROP TABLE IF EXISTS redcat_c")
    con.execute("DROP TABLE IF EXISTS redcat_first")


def _fields_of(con: Any, line: int, present: list[str]) -> list[str]:
    row = con.execute(f"SELECT {', '.join(quote(c) for c in present)} FROM redcat_s WHERE _line = ?", [line]).fetchall()[0]
    return ["" if v is None else str(v) for v in row]


def _differences(con: Any, present: list[str], line: int, first: int) -> str:
    cols = ", ".join(quote(c) for c in present)
    a = con.execute(f"SELECT {cols} FROM redcat_s WHERE _line = ?", [first]).fetchall()[0]
    b = con.execute(f"SELECT {cols} FROM redcat_s WHERE _line = ?", [line]).fetchall()[0]
    diffs = [f"{c}: {x} vs {y}" for c, x, y in zip(present, a, b, strict=True) if x != y]
    return "; ".join(diffs[:3]) + ("; …" if len(diffs) > 3 else "")


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
