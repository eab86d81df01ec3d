"""Rows into the store: classified against the file itself and the store (new, duplicate,
updated, conflict), history kept for what they replace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from redcat_cli.ingest.kinds import Kind
from redcat_cli.ingest.prepare import _Rows
from redcat_cli.ingest.results import FileResult, Reject
from redcat_cli.store.db import BOOKKEEPING_COLUMNS, Store, quote


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
