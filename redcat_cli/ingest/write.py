"""Rows into the store: classified against the file itself and the store (new, duplicate,
updated, conflict), history kept for what they replace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redcat_cli.ingest.kinds import Kind
from redcat_cli.ingest.prepare import _Rows
from redcat_cli.ingest.results import FileResult, Reject
from redcat_cli.store.db import BOOKKEEPING_COLUMNS, Store, quote

if TYPE_CHECKING:
    from redcat_cli.ingest.waiting import _WaitingRows


def _undo(store: Store, kind: Kind, ingest_id: int) -> None:
    """Take back what one ingest wrote so far: its rows out, the values they replaced back."""
    con = store.con
    cols = ", ".join(quote(c) for c in _table_columns(con, kind.table))
    T, H = quote(kind.table), quote(kind.history_table)
    con.execute(f"DELETE FROM {T} WHERE _ingest_id = ?", [ingest_id])
    con.execute(
        f"INSERT INTO {T} ({cols}) SELECT {cols} FROM {H} WHERE _superseded_by = ?", [ingest_id]
    )
    con.execute(f"DELETE FROM {H} WHERE _superseded_by = ?", [ingest_id])
    con.execute("DROP TABLE IF EXISTS redcat_seen")


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
        import pandas as pd  # loaded by pyarrow already, as a rule; hashing: 3× a sort's speed

        slot = self._slot(hashes)
        known = self.slots[slot]
        known |= pd.Series(slot).duplicated(keep=False).to_numpy()  # repeated in ``hashes``
        self.slots[slot] = True
        return known


RAW_SEP = "\x1f"

ROW_GROUP = 122_880  # DuckDB's rows per row group


class _Appender:
    """The surely-new rows of a file read in pieces, written two whole row groups at a time:
    a piece's last rows wait for the next piece's first ones.

    Written with a small row group after every piece, a store was rewritten by the
    checkpoint that ends the ingest (DuckDB merges small row groups): 0.5 s more for 1M 聚光
    rows, and a file half as large again. Two row groups in one Arrow chunk are written by
    DuckDB on two threads (one row group, or a table of several chunks, on one)."""

    def __init__(self, con: Any, kind: Kind) -> None:
        self.con, self.kind = con, kind
        self.tail: Any = None  # rows waiting for the rest of their row groups

    def add(self, new: Any) -> None:
        import pyarrow as pa

        unit = 2 * ROW_GROUP
        if self.tail is not None and self.tail.schema != new.schema:
            self.finish()  # never happens with one file's pieces; if it did, a small group
        if self.tail is not None:
            k = min(unit - self.tail.num_rows, new.num_rows)
            head = pa.concat_tables([self.tail, new.slice(0, k)])  # chunks kept: no copy
            new = new.slice(k)
            if head.num_rows < unit:
                self.tail = head
                return
            self.tail = None
            self._insert(head)
        whole = new.num_rows // unit * unit
        if whole:
            self._insert(new.slice(0, whole))
        if whole < new.num_rows:
            self.tail = new.slice(whole)

    def finish(self) -> None:
        """The rows still waiting, at the end of the file."""
        if self.tail is not None:
            tail, self.tail = self.tail, None
            self._insert(tail)

    def _insert(self, table: Any) -> None:
        if any(c.num_chunks > 1 for c in table.columns):
            table = table.combine_chunks()  # one chunk: see the class's note
        redcat_new = table  # noqa: F841  (read by name: see _ARROW_BY_NAME)
        _insert_rows(self.con, self.kind, "redcat_new")


def _write_batch(
    con: Any,
    rows: _Rows,
    res: FileResult,
    keys: _KeyFilter,
    out: _Appender,
    waiting: _WaitingRows,
) -> None:
    """One batch of a file read in pieces: rows whose key is surely new go into the store
    (while the next batch is prepared; see :class:`_Appender`); the others wait (``waiting``)
    for ``_settle_candidates``, with their cells as the file wrote them."""
    import numpy as np
    import pyarrow as pa

    staged = rows.staged
    if not staged.num_rows:
        return
    hashes = _key_hashes(con, staged)
    known = keys.maybe_known(hashes)
    new = staged if not known.any() else staged.filter(pa.array(~known))
    if new.num_rows:
        out.add(new)
        res.rows_loaded += new.num_rows
    if not known.any():
        return
    cand = staged.filter(pa.array(known))
    cells = rows.sub.take(
        pa.array(np.searchsorted(rows.sub_lines, cand.column("_line").to_numpy()))
    )
    waiting.add(cand, cells, hashes[known])


def _key_hashes(con: Any, staged: Any) -> Any:
    """DuckDB's 64-bit hash of each row's natural key, in the rows' order (DuckDB keeps a
    scan's order unless preserve_insertion_order is off, never in redcat: sorting by _line
    cost 2-3× the hashing)."""
    # Arrow tables are read by the name of a local variable (see _ARROW_BY_NAME)
    redcat_staged = staged  # noqa: F841
    return con.execute("SELECT hash(_key) AS h FROM redcat_staged").fetchnumpy()["h"]


def _insert_rows(con: Any, kind: Kind, src: str, anti: str = "") -> None:
    """Rows of ``src`` (its fields and bookkeeping) into the kind's table, each as its file's."""
    names = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
    present = [c for c in names if not c.startswith("_")]
    collist = ", ".join(quote(c) for c in present)
    select = ", ".join("s." + quote(c) for c in present)
    con.execute(
        f"INSERT INTO {quote(kind.table)} ({collist}, _key, _ingest_id, _line, _lower_bound) "
        f"SELECT {select}, s._key, s._ingest_id, s._line, s._lower_bound FROM {src} s {anti}"
    )


def _same(present: list[str]) -> str:
    """SQL: row ``a`` holds the same values as row ``b`` in the fields the file has."""
    return (
        " AND ".join(f"a.{quote(c)} IS NOT DISTINCT FROM b.{quote(c)}" for c in present) or "TRUE"
    )


DIFF_BITS = 62  # fields a row's difference mask (BIGINT) can note, one bit each
NO_MASK = "NULL::BIGINT"


def _diff_mask(present: list[str]) -> str:
    """SQL: a BIGINT whose bit ``i`` says row ``a`` and row ``b`` differ in ``present[i]``;
    NULL for more fields than DIFF_BITS."""
    if len(present) > DIFF_BITS:
        return NO_MASK
    bits = [
        f"((a.{quote(c)} IS DISTINCT FROM b.{quote(c)})::BIGINT << {i})"
        for i, c in enumerate(present)
    ]
    return "(" + " | ".join(bits) + ")" if bits else "0::BIGINT"


def _present(con: Any, src: str) -> list[str]:
    names = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
    return [c for c in names if not c.startswith("_")]


def _within_files(
    con: Any,
    kind: Kind,
    src: str,
    files: dict[int, FileResult],
    earlier: bool,
    distinct: bool = False,
) -> tuple[str, int]:
    """Rows that repeat an earlier row's key in the same file: a duplicate if equal, a
    conflict if not; only each file's first row of a key stays. (With ``earlier``, a key the
    file wrote already is left for :func:`_upsert`, which compares each row with that one.)

    Returns where the rows left are and in how many rounds they go to the store: a key that
    several files hold goes once per file, in file order (column ``_round``), so each file's
    row meets the store as the earlier files left it. ``distinct``: the caller knows that no
    two rows of ``src`` share a key."""
    if distinct:
        return src, 1
    n_rows, n_keys, n_files = con.execute(
        f"SELECT count(*), count(DISTINCT _key), count(DISTINCT _ingest_id) FROM {src}"
    ).fetchall()[0]
    if n_keys == n_rows:
        return src, 1
    present = _present(con, src)
    same = _same(present)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE redcat_s AS SELECT *, "
        f"row_number() OVER (PARTITION BY _key, _ingest_id ORDER BY _line) AS _nth FROM {src}"
    )
    repeats = int(con.execute("SELECT count(*) FROM redcat_s WHERE _nth > 1").fetchall()[0][0])
    if repeats:
        written = ""
        if earlier:  # one file: the keys it wrote already
            (only,) = files
            written = f"SELECT _key FROM {quote(kind.table)} WHERE _ingest_id = {only}"
        pairs = (
            "FROM redcat_s b JOIN redcat_s a ON a._key = b._key AND a._ingest_id = b._ingest_id "
            "AND a._nth = 1 AND b._nth > 1" + (f" AND b._key NOT IN ({written})" if written else "")
        )
        for fid, n in con.execute(
            f"SELECT b._ingest_id, count(*) {pairs} WHERE {same} GROUP BY ALL"
        ).fetchall():
            files[int(fid)].rows_duplicate += int(n)
        _conflicts(
            con, present, same, f"SELECT b._ingest_id, b._line, a._line, {{cols}} {pairs}", files
        )
        con.execute(
            "DELETE FROM redcat_s WHERE _nth > 1"
            + (f" AND _key NOT IN ({written})" if written else "")
        )
    if n_files == 1:
        return "redcat_s", 1
    con.execute(
        "CREATE OR REPLACE TEMP TABLE redcat_s AS SELECT * EXCLUDE (_nth), "
        "row_number() OVER (PARTITION BY _key ORDER BY _ingest_id) AS _round FROM redcat_s"
    )
    rounds = con.execute("SELECT max(_round) FROM redcat_s").fetchall()[0][0]
    return "redcat_s", int(rounds or 1)


def _upsert(
    store: Store,
    kind: Kind,
    src: str,
    files: dict[int, FileResult],
    earlier: bool = False,
    remember: bool = False,
) -> None:
    """Classify rows against the store, then write: new, duplicate, or updated. No two rows
    of ``src`` share a key; each names its file in ``_ingest_id`` (``files``: their results).

    ``earlier``: rows of this file were written before these (one file read in pieces), so a
    stored row with this ingest's id is an earlier row of the same file: equal is a
    duplicate, different a conflict.
    ``remember``: the kind's outcomes mature; a row that repeats the stored one unchanged
    re-dates it when its file was exported later (see :func:`_redate`).

    The stored row each row meets is then found by its ``rowid`` (``_row`` in ``redcat_c``),
    not its key again: a join on an integer fetches the rows, where one on the key text read
    every row of the table (the history of 125k updated rows of 5M: 0.42 s, by rowid 0.18).
    Row ids hold within the transaction: nothing between is deleted, and DuckDB updates
    these columns in place."""
    con = store.con
    present = _present(con, src)
    same = _same(present)
    T = quote(kind.table)
    H = quote(kind.history_table)
    within = "a._ingest_id = b._ingest_id" if earlier else "FALSE"
    first = "CASE WHEN a._ingest_id = b._ingest_id THEN a._line END" if earlier else "NULL::BIGINT"
    try:
        mask = _diff_mask(present)
        # equal rows: a mask of no differences (the fields compared once), past DIFF_BITS
        # fields the comparison itself
        equal = f"({same}) AS _equal" if mask == NO_MASK else f"{mask} = 0 AS _equal"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE redcat_c AS SELECT _key, _line, _ingest_id, "
            "CASE WHEN _equal THEN 1 WHEN w THEN 3 ELSE 2 END AS c, w, _first, _diff, _row "
            f"FROM (SELECT b._key, b._line, b._ingest_id, {within} AS w, {first} AS _first, "
            f"{mask} AS _diff, {equal}, a.rowid AS _row "
            f"FROM {src} b JOIN {T} a ON a._key = b._key)"
        )
        counts = con.execute("SELECT _ingest_id, c, count(*) FROM redcat_c GROUP BY ALL").fetchall()
        n_src = con.execute(f"SELECT _ingest_id, count(*) FROM {src} GROUP BY ALL").fetchall()
        by_class: dict[int, int] = {}
        for fid, c, n in counts:
            res, n = files[int(fid)], int(n)
            by_class[c] = by_class.get(c, 0) + n
            if c == 1:
                res.rows_duplicate += n
            elif c == 2:
                res.rows_updated += n
            res.rows_loaded -= n  # the rest of the file's rows here are new
        for fid, n in n_src:
            files[int(fid)].rows_loaded += int(n)
        if by_class.get(2) and "account" in kind.key and "spend" in present:
            _spend_changes(con, kind, src, files)
        if by_class.get(3):
            _conflicts(
                con,
                present,
                same,
                f"SELECT b._ingest_id, b._line, c._first, {{cols}} FROM redcat_c c JOIN {src} b "
                f"ON b._key = c._key AND c.c = 3 JOIN {T} a ON a.rowid = c._row",
                files,
            )
        if remember and by_class.get(1):
            _redate(con, kind, files)
        if by_class.get(2):
            names = [*kind.fields, *BOOKKEEPING_COLUMNS]
            con.execute(
                f"INSERT INTO {H} ({', '.join(quote(c) for c in names)}, _superseded_by) "
                f"SELECT {', '.join('t.' + quote(c) for c in names)}, c._ingest_id "
                f"FROM {T} t JOIN redcat_c c ON c._row = t.rowid AND c.c = 2"
            )
            _replace_updated(con, kind, src, present)
        if sum(int(n) for _, n in n_src) > sum(by_class.values()):  # insert the new keys only
            anti = "ANTI JOIN redcat_c c ON c._key = s._key" if by_class else ""
            _insert_rows(con, kind, src, anti)
    finally:
        _drop_scratch(con, ("redcat_c",))


def _replace_updated(con: Any, kind: Kind, src: str, present: list[str]) -> None:
    """Each stored row that a row of ``src`` updates (class 2 in ``redcat_c``) takes that
    row's values in the fields the file has, and its ingest id, line and lower bounds; its
    other columns stay. Only the columns in which some updated row differs are written:
    DuckDB's UPDATE costs by the column (every column of 100k rows of a 1M-row table: 1.9 s),
    and a re-export changes a few (spend, a refund)."""
    T = quote(kind.table)
    mask = None
    if len(present) <= DIFF_BITS:  # which columns differ: noted by the classifying join
        mask = con.execute("SELECT bit_or(_diff) FROM redcat_c WHERE c = 2").fetchall()[0][0]
    if mask is not None:
        changed = [c for i, c in enumerate(present) if int(mask) >> i & 1]
    else:
        pairs = (
            f"FROM {T} a JOIN redcat_c c ON c._row = a.rowid AND c.c = 2 "
            f"JOIN {src} b ON b._key = c._key"
        )
        differs = ", ".join(f"bool_or(a.{quote(c)} IS DISTINCT FROM b.{quote(c)})" for c in present)
        flags = con.execute(f"SELECT {differs} {pairs}").fetchall()[0] if present else ()
        changed = [c for c, f in zip(present, flags, strict=True) if f]
    cols = [*changed, "_ingest_id", "_line", "_lower_bound"]
    sets = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in cols)
    picked = ", ".join(f"s.{quote(c)}" for c in cols)
    con.execute(
        f"UPDATE {T} SET {sets} FROM (SELECT c._row, {picked} FROM {src} s "
        f"JOIN redcat_c c ON c._key = s._key AND c.c = 2) u WHERE {T}.rowid = u._row"
    )


def _table_columns(con: Any, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


BIG_CHANGE = 0.5  # a stored spend changed by more than half of itself…
BIG_CHANGES = 3  # …on at least this many rows: probably another account's report


def _spend_changes(con: Any, kind: Kind, src: str, files: dict[int, FileResult]) -> None:
    """Per file: how many updated rows change stored spend by more than BIG_CHANGE of it,
    and by how much at most (added up over the file's batches in its result)."""
    T = quote(kind.table)
    for fid, n, worst in con.execute(
        "SELECT b._ingest_id, "
        f"count(*) FILTER (WHERE abs(b.spend - a.spend) > {BIG_CHANGE} * abs(a.spend)), "
        "max(abs(b.spend - a.spend) / nullif(abs(a.spend), 0)) "
        f"FROM {src} b JOIN redcat_c c ON c._key = b._key AND c.c = 2 JOIN {T} a ON a.rowid = c._row "
        "GROUP BY ALL"
    ).fetchall():
        res = files[int(fid)]
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


def _redate(con: Any, kind: Kind, files: dict[int, FileResult]) -> None:
    """Re-date stored rows that a row of ``redcat_c`` repeats unchanged (not an earlier row of
    its own file), when its file was exported after the stored row's.

    For kinds whose outcomes mature (``summary.window`` in the kind's YAML), the row's earlier
    version goes to history and the row names the later ingest, so the store knows the value
    was still the same at the later age (the maturity curve needs that; ``rows_duplicate``
    still counts it). The files of this ingest are not in ``ingest_log`` yet: their export
    dates come from ``files``."""
    import pyarrow as pa

    redcat_files = pa.table(  # noqa: F841  (read by name)
        {
            "id": pa.array(list(files), pa.int64()),
            "exported_on": pa.array([r.exported_on for r in files.values()], pa.date32()),
        }
    )
    T, H = quote(kind.table), quote(kind.history_table)
    stored_on = "coalesce(l.exported_on, g.exported_on)"
    newest = max((r.exported_on for r in files.values() if r.exported_on), default=None)
    older = (
        newest is not None
        and con.execute(  # the stored rows' exports: one is older?
            f"SELECT count(*) FROM (SELECT DISTINCT _ingest_id AS id FROM {T}) t "
            "LEFT JOIN ingest_log l ON l.id = t.id LEFT JOIN redcat_files g ON g.id = t.id "
            f"WHERE {stored_on} IS NULL OR {stored_on} < ?",
            [newest],
        ).fetchall()[0][0]
    )
    if not older:  # the usual re-ingest of an export, answered without the join below
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE redcat_conf AS SELECT c._row, c._line, c._ingest_id "
        f"FROM {T} t JOIN redcat_c c ON c._row = t.rowid AND c.c = 1 AND NOT c.w "
        "JOIN redcat_files f ON f.id = c._ingest_id "
        "LEFT JOIN ingest_log l ON l.id = t._ingest_id "
        "LEFT JOIN redcat_files g ON g.id = t._ingest_id "
        f"WHERE f.exported_on IS NOT NULL AND ({stored_on} IS NULL OR {stored_on} < f.exported_on)"
    )
    try:
        names = [*kind.fields, *BOOKKEEPING_COLUMNS]
        con.execute(
            f"INSERT INTO {H} ({', '.join(quote(c) for c in names)}, _superseded_by) "
            f"SELECT {', '.join('t.' + quote(c) for c in names)}, c._ingest_id "
            f"FROM {T} t JOIN redcat_conf c ON c._row = t.rowid"
        )
        con.execute(
            f"UPDATE {T} SET _ingest_id = c._ingest_id, _line = c._line FROM redcat_conf c "
            f"WHERE c._row = {T}.rowid"
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


def _conflicts(
    con: Any, present: list[str], same: str, query: str, files: dict[int, FileResult]
) -> None:
    """Rejects for rows whose key an earlier row of their file has, with other values.

    ``query`` selects the row's file (its ingest id), its line, the earlier row's line, then
    ``{cols}``: the earlier row's values (``a``) and this row's (``b``)."""
    acols = ", ".join(f"a.{quote(c)}" for c in present)
    bcols = ", ".join(f"b.{quote(c)}" for c in present)
    k = len(present)
    sql = query.format(cols=f"{acols}, {bcols}") + f" WHERE NOT ({same}) ORDER BY b._line"
    for r in con.execute(sql).fetchall():
        first_vals, vals = r[3 : 3 + k], r[3 + k :]
        diffs = [
            f"{c}: {x} vs {y}" for c, x, y in zip(present, first_vals, vals, strict=True) if x != y
        ]
        diff = "; ".join(diffs[:3]) + ("; …" if len(diffs) > 3 else "")
        files[int(r[0])].rejects.append(
            Reject(
                int(r[1]),
                f"conflict: same key as line {r[2]} with different values ({diff})",
                ["" if v is None else str(v) for v in vals],
            )
        )
