"""Queries that aggregate stored facts: the one place that knows the store's SQL.

Sub-modules hold each command's aggregations (``queries.status``, ``queries.attribute``,
``queries.settle``); this module gives them the facts of a kind, either as the store holds
them now or as it stood right after an earlier ingest (``as_of_ingest``), rebuilt from the
history table; and of one merchant only, inside ``with merchant_scope(NAME):``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from redcat_cli.ingest.kinds import get_kind
from redcat_cli.store.db import BOOKKEEPING_COLUMNS, quote

_MERCHANT: ContextVar[str | None] = ContextVar("redcat_merchant", default=None)


@contextmanager
def merchant_scope(merchant: str | None) -> Iterator[None]:
    """Within the block, every ``fact_relation`` holds that merchant's rows only (``None``:
    all rows, as for a store with one merchant)."""
    token = _MERCHANT.set(merchant)
    try:
        yield
    finally:
        _MERCHANT.reset(token)


def current_merchant() -> str | None:
    """The merchant of the enclosing ``merchant_scope`` (``None``: every row)."""
    return _MERCHANT.get()


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


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
    merchant = _MERCHANT.get()
    if as_of_ingest is None and merchant is None:
        return table
    cols = ", ".join(quote(c) for c in [*k.fields, *BOOKKEEPING_COLUMNS])
    only = "" if merchant is None else f" AND merchant = {sql_text(merchant)}"
    if as_of_ingest is None:
        return f"(SELECT {cols} FROM {table} WHERE TRUE{only})"
    n = int(as_of_ingest)
    return (
        f"(SELECT {cols} FROM {table} WHERE _ingest_id <= {n}{only} "
        f"UNION ALL "
        f"SELECT {cols} FROM {history} WHERE _ingest_id <= {n} AND _superseded_by > {n}{only})"
    )


def held_kinds(con: Any) -> list[str]:
    """The export kinds the store holds rows of (in the enclosing merchant scope), in one
    query: errors about a missing export name the ones the user has instead."""
    from redcat_cli.ingest.kinds import load_kinds

    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    kinds = [k for k in load_kinds().values() if k.table in tables]
    if not kinds:
        return []
    probes = " UNION ALL ".join(
        f"SELECT {sql_text(k.name)} AS kind WHERE EXISTS (SELECT 1 FROM {fact_relation(k.name)})"
        for k in kinds
    )
    held = {r[0] for r in con.execute(probes).fetchall()}
    return [k.name for k in kinds if k.name in held]


def held_text(con: Any) -> str:
    """What the store holds, in the exports' own names: "聚光 账户投放日报, 千牛 订单报表"."""
    from redcat_cli.ingest.kinds import load_kinds

    kinds = load_kinds()
    names = [kinds[k].title for k in held_kinds(con)]
    return ", ".join(names) if names else "nothing yet"
