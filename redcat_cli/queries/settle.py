"""The sums a settlement needs, read from the store.

Everything is aggregated per day in SQL; the engine (``redcat_cli.settle``) splits days into
cycles and target segments. Money stays DECIMAL in DuckDB and arrives as Python ``Decimal``;
nothing here passes through float.

Rules the SQL keeps:
- spend = SUM(juguang.spend) of the in-scope notes on each date;
- GMV/orders from 种草星河 read ONE flow type and ONE attribution window (summing across
  them would count the same GMV several times); from 聚光 they read gmv_{N}d / orders_{N}d;
- a ``plan_ids`` scope means the notes that appear under those plans in 聚光; ``note_ids`` and
  ``plan_ids`` together mean the union of both;
- SUM ignores NULL (missing) metrics; a day whose metric is missing everywhere stays NULL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from redcat_cli.contract import Contract
from redcat_cli.errors import ContractError, QueryError, UsageError
from redcat_cli.settle import DayFacts, InputFile, Statement, settle

KINDS_FOR_SOURCE = {"xinghe": ("juguang", "xinghe"), "juguang": ("juguang",)}


def _relation(kind: str, as_of_ingest: int | None) -> str:
    """The facts of a kind, optionally as the store stood after ingest number N."""
    from redcat_cli.queries import fact_relation

    return fact_relation(kind, as_of_ingest)


def _tables(con: Any) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _scope_sql(contract: Contract, juguang: str) -> tuple[str, list[Any]]:
    """A condition on ``note_id`` for the notes in scope, with its parameters."""
    scope = contract.scope
    if scope.everything:
        return "TRUE", []
    parts: list[str] = []
    params: list[Any] = []
    if scope.note_ids is not None:
        parts.append("list_contains(?::VARCHAR[], note_id)")
        params.append(list(scope.note_ids))
    if scope.plan_ids is not None:
        parts.append(
            f"note_id IN (SELECT DISTINCT note_id FROM {juguang} WHERE list_contains(?::VARCHAR[], plan_id))"
        )
        params.append(list(scope.plan_ids))
    return "(" + " OR ".join(parts) + ")", params


def daily_facts(con: Any, contract: Contract, as_of_ingest: int | None = None) -> list[DayFacts]:
    """Spend, GMV and orders per day of the contract period, for the notes in scope."""
    tables = _tables(con)
    gmv = contract.gmv
    needed = KINDS_FOR_SOURCE[gmv.source]
    missing = [k for k in needed if k not in tables]
    if missing:
        raise QueryError(
            f"the store holds no {' or '.join(missing)} data",
            hint="ingest the 聚光 note report"
            + (" and the 种草星河 content export" if "xinghe" in missing else "")
            + " first",
        )
    juguang = _relation("juguang", as_of_ingest)
    start, end = contract.period.start, contract.period.end
    scope, scope_params = _scope_sql(contract, juguang)

    spend_rows = con.execute(
        f"""
        SELECT date, SUM(spend) AS spend
        FROM {juguang}
        WHERE date BETWEEN ? AND ? AND {scope}
        GROUP BY date
        ORDER BY date
        """,
        [start, end, *scope_params],
    ).fetchall()

    from redcat_cli.queries import export_dates

    exports = export_dates(con, as_of_ingest)
    # the export behind each day's GMV: the earliest, NULL when any is unknown
    exported = (
        "CASE WHEN bool_or(g IS NOT NULL AND e.exported_on IS NULL) THEN NULL "
        "ELSE min(e.exported_on) FILTER (WHERE g IS NOT NULL) END"
    )
    if gmv.source == "xinghe":
        xinghe = _relation("xinghe", as_of_ingest)
        gmv_rows = con.execute(
            f"""
            SELECT date, SUM(g) AS gmv, SUM(buyers) AS orders, {exported} AS exported_on
            FROM (SELECT *, gmv AS g FROM {xinghe}) x LEFT JOIN {exports} e ON e.id = x._ingest_id
            WHERE date BETWEEN ? AND ? AND flow_type = ? AND window_days = ? AND {scope}
            GROUP BY date
            ORDER BY date
            """,
            [start, end, gmv.flow_type, gmv.window_days, *scope_params],
        ).fetchall()
    else:
        n = int(gmv.window_days)
        if n not in (7, 15, 30):  # also guards the column name below
            raise QueryError(f"聚光 reports GMV for 7, 15 or 30 days, not {n}")
        gmv_rows = con.execute(
            f"""
            SELECT date, SUM(g) AS gmv, SUM(orders_{n}d) AS orders, {exported} AS exported_on
            FROM (SELECT *, gmv_{n}d AS g FROM {juguang}) j LEFT JOIN {exports} e ON e.id = j._ingest_id
            WHERE date BETWEEN ? AND ? AND {scope}
            GROUP BY date
            ORDER BY date
            """,
            [start, end, *scope_params],
        ).fetchall()

    days: dict[dt.date, dict[str, Any]] = {}
    for day, spend in spend_rows:
        days.setdefault(day, {})["spend"] = spend
    for day, g, orders, exported_on in gmv_rows:
        d = days.setdefault(day, {})
        d["gmv"] = g
        d["orders"] = None if orders is None else int(orders)
        d["exported_on"] = exported_on
    return [
        DayFacts(
            date=day,
            spend=v.get("spend"),
            gmv=v.get("gmv"),
            orders=v.get("orders"),
            exported_on=v.get("exported_on"),
        )
        for day, v in sorted(days.items())
    ]


def input_files(con: Any, contract: Contract, as_of_ingest: int | None = None) -> list[InputFile]:
    """The files of the kinds the settlement read (path + sha256), for the audit trail."""
    if "ingest_log" not in _tables(con):
        return []
    kinds = list(KINDS_FOR_SOURCE[contract.gmv.source])
    from redcat_cli.queries import current_merchant

    sql = "SELECT DISTINCT path, sha256 FROM ingest_log WHERE list_contains(?::VARCHAR[], source)"
    params: list[Any] = [kinds]
    merchant = current_merchant()
    if merchant is not None:
        sql += " AND merchant = ?"
        params.append(merchant)
    if as_of_ingest is not None:
        sql += " AND id <= ?"
        params.append(as_of_ingest)
    rows = con.execute(sql + " ORDER BY path, sha256", params).fetchall()
    return [InputFile(str(p), str(s)) for p, s in rows]


def store_problems(con: Any, contract: Contract) -> list[str]:
    """What the contract asks for that the store does not hold, as ``FILE:LINE: …`` lines."""
    problems: list[str] = []
    tables = _tables(con)
    gmv = contract.gmv
    path = contract.path
    xinghe, juguang = _relation("xinghe", None), _relation("juguang", None)
    if gmv.source == "xinghe":
        if "xinghe" not in tables:
            return [
                f"{path}:{contract.line_of('gmv.source')}: the store holds no 种草星河 data (expected a store with gmv.source xinghe); hint: ingest the 种草星河 content export, or use source: juguang"
            ]
        windows = sorted(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT window_days FROM {xinghe} WHERE window_days IS NOT NULL"
            ).fetchall()
        )
        flows = sorted(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT flow_type FROM {xinghe} WHERE flow_type IS NOT NULL"
            ).fetchall()
        )
        if gmv.window_days not in windows:
            problems.append(
                f"{path}:{contract.line_of('gmv.window_days')}: gmv.window_days {gmv.window_days} is not in the store "
                f"(expected one of {', '.join(map(str, windows)) or 'none: the store has no 种草星河 rows'}); hint: the 归因周期 column of the export holds the windows"
            )
        if gmv.flow_type not in flows:
            import difflib

            near = difflib.get_close_matches(str(gmv.flow_type), flows, n=1, cutoff=0.3)
            hint = (
                f"did you mean {near[0]}?"
                if near
                else "the 流量类型 column of the export holds the flow types"
            )
            problems.append(
                f"{path}:{contract.line_of('gmv.flow_type') if 'gmv.flow_type' in contract.lines else contract.line_of('gmv')}: "
                f"gmv.flow_type {gmv.flow_type} is not in the store (expected one of {', '.join(flows) or 'none'}); hint: {hint}"
            )
        if gmv.window_days in windows and gmv.flow_type in flows:
            rows = con.execute(
                f"SELECT count(*) FROM {xinghe} WHERE flow_type = ? AND window_days = ?",
                [gmv.flow_type, gmv.window_days],
            ).fetchall()[0][0]
            if not rows:
                pairs = con.execute(
                    f"SELECT DISTINCT flow_type, window_days FROM {xinghe} ORDER BY 1, 2"
                ).fetchall()
                held = ", ".join(f"{f} × {w}d" for f, w in pairs)
                problems.append(
                    f"{path}:{contract.line_of('gmv')}: the store holds no 种草星河 rows for "
                    f"{gmv.flow_type} with a {gmv.window_days}-day window (it holds: {held}); "
                    "hint: ingest an export of that flow type and window, or change gmv"
                )
    else:
        if "juguang" not in tables:
            return [
                f"{path}:{contract.line_of('gmv.source')}: the store holds no 聚光 data (expected a store with gmv.source juguang); hint: ingest the 聚光 note report"
            ]
        n = int(gmv.window_days)
        (count,) = con.execute(f"SELECT COUNT(gmv_{n}d) FROM {juguang}").fetchone()
        if not count:
            problems.append(
                f"{path}:{contract.line_of('gmv.window_days')}: the store holds no 聚光 {n}-day GMV (expected 行业商品GMV（{n}日）values); "
                "hint: choose a window the 聚光 export carries"
            )
    if "juguang" not in tables:
        problems.append(
            f"{path}:{contract.line_of('gmv')}: the store holds no 聚光 data, so there is no spend (expected a store with the 聚光 note report); hint: ingest it first"
        )
    return problems


def contract_merchant(
    con: Any, c: Contract, merchant: str | None, problems: list[str]
) -> tuple[bool, str | None]:
    """(True, whose rows the contract reads), or (False, None) with the reason added to
    ``problems``."""
    from redcat_cli.merchants import for_contract

    try:
        return True, for_contract(con, c.merchant, merchant)
    except UsageError as e:
        problems.append(f"{c.path}:{c.line_of('merchant')}: {e.message}; hint: {e.hint}")
        return False, None


def settle_on_store(
    con: Any,
    contracts: list[Contract],
    as_of: dt.date,
    as_of_ingest: int | None = None,
    merchant: str | None = None,
) -> list[Statement]:
    """Settle each contract on the store, or refuse them all with every problem listed.

    A contract is refused when the store does not hold what it names (its flow type and
    window, its GMV source) or holds no spend or no GMV for its notes in its period: a
    statement paying 0.00 on missing data would look final and be wrong.

    Each contract reads its merchant's rows: ``merchant`` if given, else its ``merchant:``
    (see ``redcat_cli.merchants.for_contract``).
    """
    from redcat_cli.queries import merchant_scope

    problems: list[str] = []
    prepared: list[tuple[Contract, list[DayFacts], list[InputFile]]] = []
    for c in contracts:
        ok, whose = contract_merchant(con, c, merchant, problems)
        if not ok:
            continue
        with merchant_scope(whose):
            prepared.append((c, *_prepare(con, c, as_of_ingest, problems)))
    if problems:
        raise ContractError(
            f"the store cannot settle {'this contract' if len(contracts) == 1 else 'these contracts'} "
            f"({len(problems)} problem{'s' if len(problems) > 1 else ''})",
            problems=problems,
            hint="`redcat status` shows what the store holds",
        )
    return [settle(c, days, as_of, inputs) for c, days, inputs in prepared]


def _prepare(
    con: Any, c: Contract, as_of_ingest: int | None, problems: list[str]
) -> tuple[list[DayFacts], list[InputFile]]:
    """The contract's daily facts and input files, or its problems added to ``problems``."""
    found = store_problems(con, c)
    days: list[DayFacts] = []
    if not found:
        days = daily_facts(con, c, as_of_ingest)
        where = f"{c.path}:{c.line_of('period')}"
        span = f"{c.period.start}..{c.period.end}"
        if not any(d.spend is not None for d in days):
            found.append(
                f"{where}: the store holds no 聚光 spend for the contract's notes in {span}; "
                "hint: check the period and scope, or ingest the 聚光 note report for those dates"
            )
        if not any(d.gmv is not None for d in days):
            found.append(
                f"{where}: the store holds no GMV ({c.gmv.describe()}) for the contract's notes "
                f"in {span}; hint: ingest the export that reports it for those dates"
            )
    problems.extend(found)
    return days, ([] if found else input_files(con, c, as_of_ingest))
