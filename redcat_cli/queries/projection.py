"""What a projection learns from the store: every re-exported key's value by age, and the
scope's mature days (see ``redcat_cli.settle.projection`` for how they are used)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from redcat_cli.settle.contract import Contract
from redcat_cli.settle.engine import DayFacts, Statement


def _versions(contract: Contract, as_of_ingest: int | None) -> tuple[str, list[Any]]:
    """Every stored version of the contract's GMV measure: (key, date, ingest id, value)."""
    from redcat_cli.queries import current_merchant, sql_text

    gmv = contract.gmv
    n = "" if as_of_ingest is None else f" AND _ingest_id <= {int(as_of_ingest)}"
    merchant = current_merchant()
    if merchant is not None:  # the merchant's own history only
        n += f" AND merchant = {sql_text(merchant)}"
    if gmv.source == "xinghe":
        where = f"flow_type = ? AND window_days = ? AND gmv IS NOT NULL{n}"
        sql = (
            f"SELECT _key, date, _ingest_id, gmv AS v FROM xinghe WHERE {where} UNION ALL "
            f"SELECT _key, date, _ingest_id, gmv AS v FROM xinghe_history WHERE {where}"
        )
        return sql, [gmv.flow_type, gmv.window_days] * 2
    col = f"gmv_{int(gmv.window_days)}d"
    where = f"{col} IS NOT NULL{n}"
    sql = (
        f"SELECT _key, date, _ingest_id, {col} AS v FROM juguang WHERE {where} UNION ALL "
        f"SELECT _key, date, _ingest_id, {col} AS v FROM juguang_history WHERE {where}"
    )
    return sql, []


def curve_observations(
    con: Any, contract: Contract, as_of_ingest: int | None = None
) -> list[tuple[str, int, float, float]]:
    """(key, age, value at that age, final value) for every key seen both before and after
    its window closed, with a final value > 0: the latest export at each age, and as final
    the latest export made at age ≥ window."""
    from redcat_cli.queries import export_dates

    window = int(contract.gmv.window_days)
    versions, params = _versions(contract, as_of_ingest)
    exports = export_dates(con, as_of_ingest)
    rows = con.execute(
        f"""
        WITH v AS (
            SELECT x._key, datediff('day', x.date, e.exported_on) AS age, e.exported_on, x.v
            FROM ({versions}) x JOIN {exports} e ON e.id = x._ingest_id
            WHERE e.exported_on IS NOT NULL AND e.exported_on >= x.date
        ),
        fin AS (
            SELECT _key, arg_max(v, exported_on) AS final FROM v WHERE age >= {window}
            GROUP BY _key HAVING arg_max(v, exported_on) > 0
        ),
        imm AS (
            SELECT _key, age, arg_max(v, exported_on) AS v FROM v WHERE age < {window}
            GROUP BY _key, age
        )
        SELECT imm._key, imm.age, CAST(imm.v AS DOUBLE), CAST(fin.final AS DOUBLE)
        FROM imm JOIN fin ON fin._key = imm._key
        ORDER BY imm._key, imm.age
        """,
        params,
    ).fetchall()
    return [(str(k), int(a), float(v), float(f)) for k, a, v, f in rows]


def scope_history(con: Any, contract: Contract, as_of_ingest: int | None = None) -> list[DayFacts]:
    """Every day the store holds for the contract's scope, spend and GMV (any period)."""
    from redcat_cli.queries import current_merchant
    from redcat_cli.queries.settle import daily_facts
    from redcat_cli.settle.contract import Period

    every_day = replace(contract, period=Period(dt.date(1900, 1, 1), dt.date(9999, 12, 31)))
    return daily_facts(con, [(every_day, current_merchant())], as_of_ingest)[0]


def with_projection(
    con: Any,
    contract: Contract,
    statement: Statement,
    days: list[DayFacts],
    as_of_ingest: int | None = None,
) -> Statement:
    """The statement with its projected final payout (or the note saying why there is none)."""
    from redcat_cli.settle.projection import learn_curve, mature_ratio, project

    if statement.final:
        result = project(contract, statement, days, None, None)
    else:
        window = int(contract.gmv.window_days)
        curve = learn_curve(curve_observations(con, contract, as_of_ingest), window)
        needs_ratio = any(d.gmv is None and (d.spend or 0) > 0 for d in days)
        ratio = (
            mature_ratio(scope_history(con, contract, as_of_ingest), window)
            if needs_ratio
            else None
        )
        result = project(contract, statement, days, curve, ratio)
    return replace(
        statement,
        projected_cycles=result.cycles,
        projected_totals=result.totals,
        projection_note=result.note,
        curve=result.curve,
    )
