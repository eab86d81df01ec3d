"""The sums a settlement needs, read from the store.

Everything is aggregated per day in SQL; the engine (``redcat_cli.settle.engine``) splits days into
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
from dataclasses import dataclass
from typing import Any

from redcat_cli.errors import ContractError, QueryError, UsageError
from redcat_cli.settle.contract import Contract
from redcat_cli.settle.engine import DayFacts, InputFile, Statement, settle

KINDS_FOR_SOURCE = {"xinghe": ("juguang", "xinghe"), "juguang": ("juguang",)}


def _relation(kind: str, as_of_ingest: int | None) -> str:
    """The facts of a kind, optionally as the store stood after ingest number N."""
    from redcat_cli.queries import fact_relation

    return fact_relation(kind, as_of_ingest)


def _tables(con: Any) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


# --- one pass for every contract -----------------------------------------------------------
#
# The contracts go into the engine as three small tables (one row per contract, per named
# note, per named plan); each kind is then read once, joined to the contracts on merchant and
# period, and summed per contract and day. One contract settles through the same pass as
# two hundred, so a statement settled in a batch is the statement settled alone.

BATCH, BATCH_NOTES, BATCH_PLANS = "redcat_batch", "redcat_batch_notes", "redcat_batch_plans"

_SCOPE = f"""
    scope AS (
        SELECT idx, note_id FROM {BATCH_NOTES}
        UNION
        SELECT p.idx, j.note_id
        FROM {BATCH_PLANS} p
        JOIN {BATCH} c ON c.idx = p.idx
        JOIN {{juguang}} j ON j.merchant = c.merchant AND j.plan_id = p.plan_id
    )"""
# the export behind each day's GMV: the earliest, NULL when any is unknown
_EXPORTED = (
    "CASE WHEN bool_or(m.g IS NOT NULL AND e.exported_on IS NULL) THEN NULL "
    "ELSE min(e.exported_on) FILTER (WHERE m.g IS NOT NULL) END"
)

JUGUANG_DAILY = f"""
WITH {_SCOPE},
    m AS (
        SELECT c.idx, j.date, j.spend, j._ingest_id,
            CASE c.window_days WHEN 7 THEN j.gmv_7d WHEN 15 THEN j.gmv_15d
                WHEN 30 THEN j.gmv_30d END AS g,
            CASE c.window_days WHEN 7 THEN j.orders_7d WHEN 15 THEN j.orders_15d
                WHEN 30 THEN j.orders_30d END AS o
        FROM {{juguang}} j
        JOIN {BATCH} c ON j.merchant = c.merchant AND j.date BETWEEN c.p_start AND c.p_end
        LEFT JOIN scope s ON s.idx = c.idx AND s.note_id = j.note_id
        WHERE c.everything OR s.idx IS NOT NULL
    )
SELECT m.idx, m.date, SUM(m.spend) AS spend, SUM(m.g) AS gmv, SUM(m.o) AS orders,
    {_EXPORTED} AS exported_on
FROM m LEFT JOIN {{exports}} e ON e.id = m._ingest_id
GROUP BY m.idx, m.date
ORDER BY m.idx, m.date
"""

XINGHE_DAILY = f"""
WITH {_SCOPE},
    m AS (
        SELECT c.idx, x.date, x.gmv AS g, x.buyers AS o, x._ingest_id
        FROM {{xinghe}} x
        JOIN {BATCH} c ON x.merchant = c.merchant AND x.date BETWEEN c.p_start AND c.p_end
            AND x.flow_type = c.flow_type AND x.window_days = c.window_days
        LEFT JOIN scope s ON s.idx = c.idx AND s.note_id = x.note_id
        WHERE c.source = 'xinghe' AND (c.everything OR s.idx IS NOT NULL)
    )
SELECT m.idx, m.date, SUM(m.g) AS gmv, SUM(m.o) AS orders, {_EXPORTED} AS exported_on
FROM m LEFT JOIN {{exports}} e ON e.id = m._ingest_id
GROUP BY m.idx, m.date
ORDER BY m.idx, m.date
"""

XINGHE_HELD = (
    "SELECT merchant, flow_type, window_days, count(*) AS n FROM {xinghe} "
    "GROUP BY merchant, flow_type, window_days"
)
JUGUANG_HELD = (
    "SELECT merchant, count(gmv_7d), count(gmv_15d), count(gmv_30d) FROM {juguang} "
    "GROUP BY merchant"
)
INPUT_FILES = "SELECT DISTINCT merchant, source, path, sha256 FROM ingest_log{where}"


def _register_batch(con: Any, jobs: list[tuple[Contract, str | None]]) -> None:
    """The contracts as three small tables the pass joins to (see the note above)."""
    import pyarrow as pa

    rows, notes, plans = [], [], []
    for i, (c, merchant) in enumerate(jobs):
        scope = c.scope
        rows.append(
            {
                "idx": i,
                "merchant": merchant,
                "p_start": c.period.start,
                "p_end": c.period.end,
                "everything": bool(scope.everything),
                "source": c.gmv.source,
                "flow_type": c.gmv.flow_type,
                "window_days": int(c.gmv.window_days),
            }
        )
        notes += [{"idx": i, "note_id": n} for n in scope.note_ids or ()]
        plans += [{"idx": i, "plan_id": p} for p in scope.plan_ids or ()]
    schema = pa.schema(
        [
            ("idx", pa.int32()),
            ("merchant", pa.string()),
            ("p_start", pa.date32()),
            ("p_end", pa.date32()),
            ("everything", pa.bool_()),
            ("source", pa.string()),
            ("flow_type", pa.string()),
            ("window_days", pa.int32()),
        ]
    )
    con.register(BATCH, pa.Table.from_pylist(rows, schema=schema))
    con.register(
        BATCH_NOTES,
        pa.Table.from_pylist(
            notes, schema=pa.schema([("idx", pa.int32()), ("note_id", pa.string())])
        ),
    )
    con.register(
        BATCH_PLANS,
        pa.Table.from_pylist(
            plans, schema=pa.schema([("idx", pa.int32()), ("plan_id", pa.string())])
        ),
    )


def daily_facts(
    con: Any, jobs: list[tuple[Contract, str | None]], as_of_ingest: int | None = None
) -> list[list[DayFacts]]:
    """Spend, GMV and orders per day of each contract's period, for its merchant's notes in
    scope: ``jobs`` pairs each contract with the merchant whose rows it reads."""
    from redcat_cli.queries import export_dates, merchant_scope

    tables = _tables(con)
    needed = sorted({k for c, _ in jobs for k in KINDS_FOR_SOURCE[c.gmv.source]})
    missing = [k for k in needed if k not in tables]
    if missing:
        raise QueryError(
            f"the store holds no {' or '.join(missing)} data",
            hint="ingest the 聚光 note report"
            + (" and the 种草星河 content export" if "xinghe" in missing else "")
            + " first",
        )
    for c, _ in jobs:
        if c.gmv.source == "juguang" and int(c.gmv.window_days) not in (7, 15, 30):
            raise QueryError(f"聚光 reports GMV for 7, 15 or 30 days, not {c.gmv.window_days}")
    days: list[dict[dt.date, dict[str, Any]]] = [{} for _ in jobs]
    _register_batch(con, jobs)
    try:
        with merchant_scope(None):  # the pass joins each row to its merchant's contracts
            rel = {
                "juguang": _relation("juguang", as_of_ingest),
                "xinghe": _relation("xinghe", as_of_ingest) if "xinghe" in tables else None,
                "exports": export_dates(con, as_of_ingest),
            }
            for idx, day, spend, g, orders, exported_on in con.execute(
                JUGUANG_DAILY.format(**rel)
            ).fetchall():
                d = days[idx].setdefault(day, {})
                d["spend"] = spend
                if jobs[idx][0].gmv.source == "juguang":
                    d.update(gmv=g, orders=orders, exported_on=exported_on)
            if any(c.gmv.source == "xinghe" for c, _ in jobs):
                for idx, day, g, orders, exported_on in con.execute(
                    XINGHE_DAILY.format(**rel)
                ).fetchall():
                    days[idx].setdefault(day, {}).update(
                        gmv=g, orders=orders, exported_on=exported_on
                    )
    finally:
        for name in (BATCH, BATCH_NOTES, BATCH_PLANS):
            con.unregister(name)
    return [
        [
            DayFacts(
                date=day,
                spend=v.get("spend"),
                gmv=v.get("gmv"),
                orders=None if v.get("orders") is None else int(v["orders"]),
                exported_on=v.get("exported_on"),
            )
            for day, v in sorted(by_day.items())
        ]
        for by_day in days
    ]


def input_files(
    con: Any, jobs: list[tuple[Contract, str | None]], as_of_ingest: int | None = None
) -> list[list[InputFile]]:
    """The files of the kinds each settlement read (path + sha256), for the audit trail:
    its merchant's, ingested by ``as_of_ingest``."""
    if "ingest_log" not in _tables(con):
        return [[] for _ in jobs]
    where = "" if as_of_ingest is None else f" WHERE id <= {int(as_of_ingest)}"
    logged = con.execute(INPUT_FILES.format(where=where)).fetchall()
    out = []
    for c, merchant in jobs:
        kinds = KINDS_FOR_SOURCE[c.gmv.source]
        files = {
            (str(p), str(s))
            for m, k, p, s in logged
            if k in kinds and (merchant is None or m == merchant)
        }
        out.append([InputFile(p, s) for p, s in sorted(files)])
    return out


@dataclass
class Holdings:
    """What the store holds that a contract may name, per merchant: its tables, 种草星河
    (flow type, window) pairs with their rows, and 聚光 GMV values per window."""

    tables: set[str]
    merchants: list[str]
    xinghe: list[tuple[str | None, str | None, int | None, int]]
    juguang: dict[str | None, dict[int, int]]
    held: str = ""  # the exports the store holds rows of, by their names (for errors)

    def xinghe_of(self, merchant: str | None) -> list[tuple[str | None, int | None, int]]:
        return [(f, w, n) for m, f, w, n in self.xinghe if merchant is None or m == merchant]

    def juguang_gmv(self, merchant: str | None, window: int) -> int:
        return sum(
            by.get(window, 0) for m, by in self.juguang.items() if merchant is None or m == merchant
        )


def store_holdings(con: Any) -> Holdings:
    """Read once per command, whatever the number of contracts."""
    from redcat_cli.queries import held_text, merchant_scope
    from redcat_cli.store.merchants import store_merchants

    tables = _tables(con)
    with merchant_scope(None):
        xinghe = (
            [
                (m, f, None if w is None else int(w), int(n))
                for m, f, w, n in con.execute(
                    XINGHE_HELD.format(xinghe=_relation("xinghe", None))
                ).fetchall()
            ]
            if "xinghe" in tables
            else []
        )
        juguang = (
            {
                m: {7: int(a), 15: int(b), 30: int(c)}
                for m, a, b, c in con.execute(
                    JUGUANG_HELD.format(juguang=_relation("juguang", None))
                ).fetchall()
            }
            if "juguang" in tables
            else {}
        )
    held = held_text(con) if not xinghe or not juguang else ""
    return Holdings(tables, store_merchants(con), xinghe, juguang, held)


def store_problems(holdings: Holdings, contract: Contract, merchant: str | None) -> list[str]:
    """What the contract asks for that the store (its merchant's rows) does not hold, as
    ``FILE:LINE: …`` lines."""
    problems: list[str] = []
    tables = holdings.tables
    gmv = contract.gmv
    path = contract.path
    if gmv.source == "xinghe":
        if "xinghe" not in tables:
            return [
                f"{path}:{contract.line_of('gmv.source')}: the store holds no 种草星河 data (expected a store with gmv.source xinghe); hint: ingest the 种草星河 content export, or use source: juguang"
            ]
        held_pairs = holdings.xinghe_of(merchant)
        if not held_pairs:
            return [
                f"{path}:{contract.line_of('gmv.source')}: the store holds no 种草星河 rows "
                f"(expected the 种草星河 内容效果明细 export; the store holds {holdings.held}); "
                "hint: export 种草星河 → 内容效果明细 and ingest it, or settle on 聚光's own GMV "
                "with gmv.source: juguang"
            ]
        windows = sorted({w for _, w, _ in held_pairs if w is not None})
        flows = sorted({f for f, _, _ in held_pairs if f is not None})
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
            rows = sum(n for f, w, n in held_pairs if f == gmv.flow_type and w == gmv.window_days)
            if not rows:
                pairs = sorted(
                    {(f, w) for f, w, _ in held_pairs},
                    key=lambda p: (p[0] is None, p[0] or "", p[1] is None, p[1] or 0),
                )
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
        if not holdings.juguang_gmv(merchant, n):
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
    con: Any, c: Contract, merchant: str | None, problems: list[str], held: list[str]
) -> tuple[bool, str | None]:
    """(True, whose rows the contract reads), or (False, None) with the reason added to
    ``problems``."""
    from redcat_cli.store.merchants import for_contract

    try:
        return True, for_contract(con, c.merchant, merchant, held)
    except UsageError as e:
        problems.append(f"{c.path}:{c.line_of('merchant')}: {e.message}; hint: {e.hint}")
        return False, None


def contract_problems(
    con: Any, contracts: list[Contract], merchant: str | None = None
) -> tuple[list[str], list[tuple[Contract, str | None]]]:
    """Every problem of the contracts against the store, and each sound contract with the
    merchant whose rows it reads (``merchant`` if given, else its ``merchant:``)."""
    holdings = store_holdings(con)
    problems: list[str] = []
    jobs: list[tuple[Contract, str | None]] = []
    for c in contracts:
        ok, whose = contract_merchant(con, c, merchant, problems, holdings.merchants)
        if not ok:
            continue
        found = store_problems(holdings, c, whose)
        problems.extend(found)
        if not found:
            jobs.append((c, whose))
    return problems, jobs


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
    (see ``redcat_cli.store.merchants.for_contract``). All contracts are summed in one pass
    (``daily_facts``), whatever their number.
    """
    problems, jobs = contract_problems(con, contracts, merchant)
    facts = daily_facts(con, jobs, as_of_ingest) if jobs else []
    for (c, _), days in zip(jobs, facts, strict=True):
        where = f"{c.path}:{c.line_of('period')}"
        span = f"{c.period.start}..{c.period.end}"
        if not any(d.spend is not None for d in days):
            problems.append(
                f"{where}: the store holds no 聚光 spend for the contract's notes in {span}; "
                "hint: check the period and scope, or ingest the 聚光 note report for those dates"
            )
        if not any(d.gmv is not None for d in days):
            problems.append(
                f"{where}: the store holds no GMV ({c.gmv.describe()}) for the contract's notes "
                f"in {span}; hint: ingest the export that reports it for those dates"
            )
    if problems:
        raise ContractError(
            f"the store cannot settle {'this contract' if len(contracts) == 1 else 'these contracts'} "
            f"({len(problems)} problem{'s' if len(problems) > 1 else ''})",
            problems=problems,
            hint="`redcat status` shows what the store holds",
        )
    inputs = input_files(con, jobs, as_of_ingest)
    from redcat_cli.queries import merchant_scope
    from redcat_cli.queries.projection import with_projection

    out = []
    for (c, m), days, files in zip(jobs, facts, inputs, strict=True):
        with merchant_scope(m):  # the projection learns from this merchant's rows
            out.append(with_projection(con, c, settle(c, days, as_of, files), days, as_of_ingest))
    return out
