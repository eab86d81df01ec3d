"""Queries that aggregate stored facts: the one place that knows the store's SQL.

Sub-modules hold each command's aggregations (``queries.status``, ``queries.attribute``,
``queries.settle``); this module gives them the facts of a kind, either as the store holds
them now or as it stood right after an earlier ingest (``as_of_ingest``), rebuilt from the
history table.
"""

from __future__ import annotations

from typing import Any

from redcat_cli.kinds import get_kind
from redcat_cli.store import quote


def export_dates(con: Any, as_of_ingest: int | None = None) -> str:
    """A SQL relation ``(id, exported_on)``: each ingest and the date its file was exported.

    A store from before schema 2 (opened read-only, not migrated) has no export dates: NULL.
    """
    cols = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'ingest_log'"
        ).fetchall()
    }
    date = "exported_on" if "exported_on" in cols else "CAST(NULL AS DATE)"
    where = "" if as_of_ingest is None else f" WHERE id <= {int(as_of_ingest)}"
    return f"(SELECT id, {date} AS exported_on FROM ingest_log{where})"


def fact_relation(kind: str, as_of_ingest: int | None = None) -> str:
    """A SQL relation (table name or parenthesised subquery) with the kind's facts.

    With ``as_of_ingest=N``: each key's latest version written by ingest ≤ N — the current
    row if it was written by then, else the history row that was current after ingest N.
    """
    k = get_kind(kind)
    table, history = quote(k.table), quote(k.history_table)
    if as_of_ingest is None:
        return table
    n = int(as_of_ingest)
    cols = ", ".join(quote(c) for c in [*k.fields, "_key", "_ingest_id", "_line", "_lower_bound"])
    return (
        f"(SELECT {cols} FROM {table} WHERE _ingest_id <= {n} "
        f"UNION ALL "
        f"SELECT {cols} FROM {history} WHERE _ingest_id <= {n} AND _superseded_by > {n})"
    )
