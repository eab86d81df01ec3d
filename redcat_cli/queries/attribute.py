"""Every aggregation ``redcat attribute`` runs on the stored facts.

Each side is summed per group (note, day or plan) inside DuckDB, then the two sides are
joined (full outer join), so only one small row per group reaches Python. Money comes back
as ``Decimal`` (``fetchall`` keeps DECIMAL exact; ``.df()`` would turn it into float).

种草星河 rows are filtered to exactly one flow type and one attribution window before
anything is summed: its exports repeat the same buyers and GMV once per flow type and once
per window, so summing across them counts the same money several times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redcat_cli.errors import QueryError, StoreError

DEFAULT_FLOW_TYPE = "全部流量"

# name in the result -> SQL aggregate over the 聚光 relation
JUGUANG_SUMS: dict[str, str] = {
    "spend": "SUM(spend)",
    "impressions": "SUM(impressions)",
    "clicks": "SUM(clicks)",
    "likes": "SUM(likes)",
    "comments": "SUM(comments)",
    "collects": "SUM(collects)",
    "follows": "SUM(follows)",
    "shares": "SUM(shares)",
    # 互动量 is missing in some exports; it is the sum of its five parts when all are known
    "interactions": "SUM(COALESCE(interactions, likes + comments + collects + follows + shares))",  # noqa: E501
}
# name in the result -> SQL aggregate over the 种草星河 relation (one flow type, one window)
XINGHE_SUMS: dict[str, str] = {
    "read_uv": "SUM(read_uv)",
    "interact_uv": "SUM(interact_uv)",
    "visits": "SUM(visit_uv)",
    "cart": "SUM(cart_uv)",
    "orders": "SUM(buyers)",
    "gmv": "SUM(gmv)",
}
# Rates whose numerator and denominator come from the same rows: each gets matched sums over
# only the rows where both are known (`_ctr_num`, `_ctr_den`…), so that a row with an unknown
# denominator does not put its numerator into the rate (CPE from spend over rows whose
# 互动量 is unknown would come out too high).
_JUGUANG_INTERACTIONS = "COALESCE(interactions, likes + comments + collects + follows + shares)"
JUGUANG_PAIRS: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "impressions"),
    "cpc": ("spend", "clicks"),
    "cpe": ("spend", _JUGUANG_INTERACTIONS),
}
XINGHE_PAIRS: dict[str, tuple[str, str]] = {
    "interaction_rate": ("interact_uv", "read_uv"),
    "visit_rate": ("visit_uv", "read_uv"),
    "cart_rate": ("cart_uv", "visit_uv"),
    "conversion_rate": ("buyers", "visit_uv"),
}


def _matched(pairs: dict[str, tuple[str, str]]) -> dict[str, str]:
    out = {}
    for rate, (num, den) in pairs.items():
        both = f"({num}) IS NOT NULL AND ({den}) IS NOT NULL"
        out[f"_{rate}_num"] = f"SUM({num}) FILTER (WHERE {both})"
        out[f"_{rate}_den"] = f"SUM({den}) FILTER (WHERE {both})"
    return out


JUGUANG_SUMS.update(_matched(JUGUANG_PAIRS))
XINGHE_SUMS.update(_matched(XINGHE_PAIRS))
MATCHED_RATES = frozenset((*JUGUANG_PAIRS, *XINGHE_PAIRS))
BY_CHOICES = ("note", "day", "plan")


@dataclass(frozen=True)
class Scope:
    """What to aggregate: dates, notes, plans and the one 种草星河 slice."""

    flow_type: str | None
    window_days: int | None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    notes: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()


def relation(kind: str) -> str:
    """The SQL relation holding one export kind's current facts."""
    from redcat_cli.queries import fact_relation

    return fact_relation(kind)


def _tables(con: Any) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def check_tables(con: Any) -> None:
    missing = {"juguang", "xinghe"} - _tables(con)
    if missing:
        raise StoreError(
            f"The store has no {', '.join(sorted(missing))} table.",
            hint="Is this a redcat store? Create one with `redcat ingest FILE…`.",
        )


def xinghe_slices(con: Any) -> list[tuple[str | None, int | None, int]]:
    """(flow type, window days, rows) held in the store, most rows first."""
    return [
        (r[0], r[1], int(r[2]))
        for r in con.execute(
            f"SELECT flow_type, window_days, COUNT(*) FROM {relation('xinghe')} AS x "
            "GROUP BY ALL ORDER BY flow_type, window_days"
        ).fetchall()
    ]


def resolve_slice(
    con: Any, flow_type: str | None, window_days: int | None
) -> tuple[str | None, int | None]:
    """The flow type (default 全部流量) and window (default the longest held for it).

    Returns (None, None) when the store holds no 种草星河 rows at all. Cheap probes first
    (DuckDB answers them from its column statistics or stops at the first row); the full
    list of slices is gathered only to explain an error.
    """
    rel = relation("xinghe")
    wanted = flow_type or DEFAULT_FLOW_TYPE

    def listing() -> str:
        held = sorted(
            {(f, w) for f, w, _ in xinghe_slices(con)}, key=lambda t: (str(t[0]), t[1] or 0)
        )
        return ", ".join(f"{f} × {w}d" for f, w in held)

    if (
        con.execute(f"SELECT 1 FROM {rel} AS x WHERE x.flow_type = ? LIMIT 1", [wanted]).fetchone()
        is None
    ):
        if con.execute(f"SELECT 1 FROM {rel} AS x LIMIT 1").fetchone() is None:
            return None, None
        raise QueryError(
            f"The store holds no 种草星河 rows with flow type {wanted!r}.",
            hint=f"It holds: {listing()}. Choose one with --flow-type.",
        )
    if window_days is None:
        longest = con.execute(
            f"SELECT max(x.window_days) FROM {rel} AS x WHERE x.flow_type = ?", [wanted]
        ).fetchone()[0]
        if longest is None:
            raise QueryError(f"The 种草星河 rows of {wanted!r} have no attribution window.")
        return wanted, int(longest)
    found = con.execute(
        f"SELECT 1 FROM {rel} AS x WHERE x.flow_type = ? AND x.window_days = ? LIMIT 1",
        [wanted, window_days],
    ).fetchone()
    if found is None:
        raise QueryError(
            f"The store holds no 种草星河 rows of {wanted!r} with a {window_days}-day window.",
            hint=f"It holds: {listing()}. Choose one with --window.",
        )
    return wanted, window_days


def _conditions(
    scope: Scope, *, table: str, params: dict[str, Any], plan_filter_notes: bool
) -> list[str]:
    cond = []
    if scope.date_from is not None:
        cond.append(f"{table}.date >= $date_from")
        params["date_from"] = scope.date_from
    if scope.date_to is not None:
        cond.append(f"{table}.date <= $date_to")
        params["date_to"] = scope.date_to
    if scope.notes:
        cond.append(f"list_contains($notes, {table}.note_id)")
        params["notes"] = list(scope.notes)
    if scope.plans:
        params["plans"] = list(scope.plans)
        if plan_filter_notes:
            # A note's Taobao outcome belongs to one plan: the plan that spent most on the note
            # in the period (ties: the smallest plan id) — the rule of --by plan, so that
            # filtering plan by plan never counts one note's outcome twice.
            sub = []
            if scope.date_from is not None:
                sub.append("p.date >= $date_from")
            if scope.date_to is not None:
                sub.append("p.date <= $date_to")
            cond.append(
                f"{table}.note_id IN (SELECT note_id FROM ("
                "SELECT p.note_id, p.plan_id, max(p.plan_name) AS plan_name, "
                "row_number() OVER (PARTITION BY p.note_id "
                "ORDER BY SUM(p.spend) DESC NULLS LAST, p.plan_id) AS rn "
                f"FROM {relation('juguang')} AS p {_where(sub)} GROUP BY p.note_id, p.plan_id"
                ") AS ranked WHERE rn = 1 "
                "AND (list_contains($plans, plan_id) OR list_contains($plans, plan_name)))"
            )
        else:
            cond.append(
                f"(list_contains($plans, {table}.plan_id) OR list_contains($plans, {table}.plan_name))"
            )
    return cond


def _where(cond: Sequence[str]) -> str:
    return ("WHERE " + " AND ".join(cond)) if cond else ""


def funnel_sql(by: str, scope: Scope) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of the per-group join (one row per note, day or plan)."""
    if by not in BY_CHOICES:
        raise ValueError(by)
    params: dict[str, Any] = {"flow_type": scope.flow_type, "window_days": scope.window_days}
    jcond = _conditions(scope, table="j", params=params, plan_filter_notes=False)
    xcond = _conditions(scope, table="x", params=params, plan_filter_notes=True)
    xcond = ["x.flow_type = $flow_type", "x.window_days = $window_days", *xcond]
    jsums = ", ".join(f"{sql} AS {name}" for name, sql in JUGUANG_SUMS.items())
    xsums = ", ".join(f"{sql} AS {name}" for name, sql in XINGHE_SUMS.items())
    jrel, xrel = relation("juguang"), relation("xinghe")
    jcols = ", ".join(f"jj.{n}" for n in JUGUANG_SUMS)
    xcols = ", ".join(f"xx.{n}" for n in XINGHE_SUMS)

    if by == "note":
        sql = f"""
        WITH jj AS (
            SELECT j.note_id AS k, max(j.note_title) AS label, TRUE AS present, {jsums}
            FROM {jrel} AS j {_where(jcond)} GROUP BY j.note_id
        ), xx AS (
            SELECT x.note_id AS k, TRUE AS present, {xsums}
            FROM {xrel} AS x {_where(xcond)} GROUP BY x.note_id
        )
        SELECT COALESCE(jj.k, xx.k) AS note_id, jj.label AS note_title, {jcols}, {xcols},
               jj.present IS NOT NULL AS in_juguang, xx.present IS NOT NULL AS in_xinghe
        FROM jj FULL OUTER JOIN xx ON jj.k = xx.k
        ORDER BY 1
        """
    elif by == "day":
        sql = f"""
        WITH jj AS (
            SELECT j.date AS k, TRUE AS present, {jsums} FROM {jrel} AS j {_where(jcond)} GROUP BY j.date
        ), xx AS (
            SELECT x.date AS k, TRUE AS present, {xsums} FROM {xrel} AS x {_where(xcond)} GROUP BY x.date
        )
        SELECT COALESCE(jj.k, xx.k) AS date, {jcols}, {xcols},
               jj.present IS NOT NULL AS in_juguang, xx.present IS NOT NULL AS in_xinghe
        FROM jj FULL OUTER JOIN xx ON jj.k = xx.k
        ORDER BY 1
        """
    else:
        # 种草星河 has no plan: each note's outcome goes to the plan that spent most on the
        # note in the period (ties: the smallest plan id); notes no plan boosted form the
        # row with no plan. Every outcome lands in exactly one row, so totals still add up.
        sql = f"""
        WITH jp AS (
            SELECT j.note_id, j.plan_id, SUM(j.spend) AS s
            FROM {jrel} AS j {_where(jcond)} GROUP BY ALL
        ), prim AS (
            SELECT note_id, plan_id FROM (
                SELECT note_id, plan_id, row_number() OVER (
                    PARTITION BY note_id ORDER BY s DESC NULLS LAST, plan_id) AS rn
                FROM jp
            ) AS ranked WHERE rn = 1
        ), jj AS (
            SELECT j.plan_id AS k, max(j.plan_name) AS label, TRUE AS present, {jsums}
            FROM {jrel} AS j {_where(jcond)} GROUP BY j.plan_id
        ), xx AS (
            SELECT prim.plan_id AS k, TRUE AS present, {xsums}
            FROM {xrel} AS x LEFT JOIN prim ON prim.note_id = x.note_id
            {_where(xcond)} GROUP BY prim.plan_id
        )
        SELECT COALESCE(jj.k, xx.k) AS plan_id, jj.label AS plan_name, {jcols}, {xcols},
               jj.present IS NOT NULL AS in_juguang, xx.present IS NOT NULL AS in_xinghe
        FROM jj FULL OUTER JOIN xx ON jj.k IS NOT DISTINCT FROM xx.k
        ORDER BY 1 NULLS LAST
        """
    return sql, params


def funnel_sums(con: Any, by: str, scope: Scope) -> list[dict[str, Any]]:
    """One dict per group: its key (note_id and note_title, date, or plan_id and plan_name),
    every sum (None when unknown) and the side flags in_juguang / in_xinghe."""
    sql, params = funnel_sql(by, scope)
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def note_sides(con: Any, scope: Scope) -> tuple[list[str], list[str], int]:
    """Notes seen only in 聚光, only in 种草星河 (within the scope), and the matched count."""
    params: dict[str, Any] = {"flow_type": scope.flow_type, "window_days": scope.window_days}
    jcond = _conditions(scope, table="j", params=params, plan_filter_notes=False)
    xcond = _conditions(scope, table="x", params=params, plan_filter_notes=True)
    xcond = ["x.flow_type = $flow_type", "x.window_days = $window_days", *xcond]
    sql = f"""
    WITH a AS (SELECT DISTINCT j.note_id FROM {relation("juguang")} AS j {_where(jcond)}),
         b AS (SELECT DISTINCT x.note_id FROM {relation("xinghe")} AS x {_where(xcond)})
    SELECT COALESCE(a.note_id, b.note_id), a.note_id IS NOT NULL, b.note_id IS NOT NULL
    FROM a FULL OUTER JOIN b ON a.note_id = b.note_id ORDER BY 1
    """
    only_j, only_x, matched = [], [], 0
    for note, in_j, in_x in con.execute(sql, params).fetchall():
        if in_j and in_x:
            matched += 1
        elif in_j:
            only_j.append(note)
        else:
            only_x.append(note)
    return only_j, only_x, matched


def has_orders(con: Any) -> bool:
    if "qianniu" not in _tables(con):
        return False
    return bool(con.execute(f"SELECT COUNT(*) FROM {relation('qianniu')} AS q").fetchone()[0])


def repurchase(con: Any, date_from: dt.date, date_to: dt.date) -> tuple[int, int]:
    """(buyers with ≥2 paid orders, buyers with ≥1) among 千牛 orders paid in the period.

    Paid means the order has a paid time: an order closed unpaid (交易关闭 without a paid
    time) never counts. An order closed after payment (refunded) still counts as paid.
    """
    sql = f"""
    SELECT COUNT(*) FILTER (WHERE n >= 2), COUNT(*)
    FROM (
        SELECT q.buyer, COUNT(DISTINCT q.order_id) AS n
        FROM {relation("qianniu")} AS q
        WHERE q.paid_at IS NOT NULL AND q.buyer IS NOT NULL
          AND CAST(q.paid_at AS DATE) BETWEEN $a AND $b
        GROUP BY q.buyer
    )
    """
    repeat, buyers = con.execute(sql, {"a": date_from, "b": date_to}).fetchone()
    return int(repeat), int(buyers)


def date_span(con: Any) -> tuple[dt.date | None, dt.date | None]:
    """The first and last date of the 聚光 and 种草星河 facts."""
    a = con.execute(f"SELECT min(date), max(date) FROM {relation('juguang')} AS j").fetchone()
    b = con.execute(f"SELECT min(date), max(date) FROM {relation('xinghe')} AS x").fetchone()
    lows = [d for d in (a[0], b[0]) if d is not None]
    highs = [d for d in (a[1], b[1]) if d is not None]
    return (min(lows) if lows else None), (max(highs) if highs else None)


# --- the store level: daily spend against daily sales, without 种草星河 ------------------

STORE_SPEND_SOURCES = {"juguang": "聚光 笔记日报", "juguang_account": "聚光 账户日报"}
STORE_SALES_SOURCES = {
    "qianniu": "千牛 订单报表 (paid GMV)",
    "sycm": "生意参谋 商品日报 (支付金额)",
}


def store_sources(con: Any) -> tuple[str | None, str | None]:
    """The kinds the store level reads: 聚光 note rows, else account rows; 千牛 paid GMV,
    else 生意参谋."""
    from redcat_cli.queries.lift import has_rows

    spend = next((k for k in STORE_SPEND_SOURCES if has_rows(con, k)), None)
    sales = next((k for k in STORE_SALES_SOURCES if has_rows(con, k)), None)
    return spend, sales


def store_daily(
    con: Any, spend_kind: str, sales_kind: str, date_from: dt.date | None, date_to: dt.date | None
) -> list[dict[str, Any]]:
    """One row per day: 聚光 spend, impressions, clicks, interactions summed over the day,
    and Taobao GMV and orders (千牛: orders paid that day and their 买家实际支付金额; 生意参谋:
    支付金额 and 支付买家数 over the products)."""
    spend_rel, sales_rel = relation(spend_kind), relation(sales_kind)
    if sales_kind == "qianniu":
        sales_sql = (
            f"SELECT CAST(paid_at AS DATE) AS d, SUM(paid_amount) AS gmv, COUNT(*) AS orders "
            f"FROM {sales_rel} WHERE paid_at IS NOT NULL GROUP BY 1"
        )
    else:
        sales_sql = (
            f"SELECT date AS d, SUM(paid_amount) AS gmv, SUM(paid_buyers) AS orders "
            f"FROM {sales_rel} WHERE date IS NOT NULL GROUP BY 1"
        )
    sql = f"""
        WITH a AS (
            SELECT date AS d, SUM(spend) AS spend, SUM(impressions) AS impressions,
                   SUM(clicks) AS clicks, SUM({_JUGUANG_INTERACTIONS}) AS interactions
            FROM {spend_rel} WHERE date IS NOT NULL GROUP BY 1
        ), b AS ({sales_sql})
        SELECT coalesce(a.d, b.d) AS date, a.spend, a.impressions, a.clicks, a.interactions,
               b.gmv, b.orders, a.d IS NOT NULL AS has_spend, b.d IS NOT NULL AS has_sales
        FROM a FULL OUTER JOIN b ON a.d = b.d
        WHERE ($f IS NULL OR coalesce(a.d, b.d) >= $f) AND ($t IS NULL OR coalesce(a.d, b.d) <= $t)
        ORDER BY 1
    """
    cur = con.execute(sql, {"f": date_from, "t": date_to})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
