"""What the store holds, per export kind and per merchant (for `redcat status`).

Inside ``merchant_scope(NAME)`` the figures are that merchant's only.
"""

from __future__ import annotations

from typing import Any

from redcat_cli.ingest.kinds import Kind, load_kinds
from redcat_cli.queries import current_merchant, fact_relation
from redcat_cli.store.db import Store, quote


def _maturity(con: Any, kind: Kind, table: str, date_col: str | None) -> dict[str, Any]:
    """The newest export of a kind and, for kinds whose outcomes mature, the data dates whose
    current rows were exported before their window had passed (still maturing)."""
    from redcat_cli.queries import export_dates

    exports = export_dates(con)
    merchant = current_merchant()
    (newest,) = con.execute(
        f"SELECT max(e.exported_on) FROM ingest_log l JOIN {exports} e ON e.id = l.id "
        "WHERE l.source = ?" + ("" if merchant is None else " AND l.merchant = ?"),
        [kind.name] + ([] if merchant is None else [merchant]),
    ).fetchone()
    out: dict[str, Any] = {"newest_export": newest}
    window = kind.summary.get("window")
    if not window or not date_col:
        return out
    w = quote(window) if isinstance(window, str) else str(int(window))
    d = quote(date_col)
    rows = con.execute(
        f"SELECT t.{d}, max(t.{d} + CAST({w} AS INTEGER)), bool_or(e.exported_on IS NULL) "
        f"FROM {table} t JOIN {exports} e ON e.id = t._ingest_id "
        f"WHERE e.exported_on IS NULL OR e.exported_on < t.{d} + CAST({w} AS INTEGER) "
        f"GROUP BY t.{d} ORDER BY t.{d}"
    ).fetchall()
    out["maturing_dates"] = [r[0] for r in rows]
    known = [r[1] for r in rows if not r[2]]
    out["mature_on"] = max(known) if known else None  # every maturing date's window has passed
    out["export_date_unknown"] = any(r[2] for r in rows)
    return out


# which commands read each export kind (status tells the user what their exports are good for)
FEEDS: dict[str, tuple[str, ...]] = {
    "juguang": ("attribute", "settle", "report", "attribute --by day (store level)"),
    "juguang_account": ("attribute --by day (store level, without 聚光 note rows)",),
    "xinghe": ("attribute", "settle", "report"),
    "qianniu": (
        "attribute (repurchase)",
        "attribute --by day (store level)",
        "lift --outcome qianniu",
        "report",
    ),
    "qianniu_items": (),
    "sycm": ("lift", "attribute --by day (store level, without 千牛 orders)"),
    "alimama": (),
    "note_data": (),
}


def store_status(store: Store) -> dict[str, Any]:
    con = store.con
    kinds = load_kinds()
    tables = store.tables()
    sources = []
    for kind in kinds.values():
        if kind.table not in tables:
            continue
        T = fact_relation(kind.name)
        rows = int(con.execute(f"SELECT count(*) FROM {T}").fetchall()[0][0])
        if rows == 0:
            continue
        summ = kind.summary
        entry: dict[str, Any] = {"source": kind.name, "title": kind.title, "rows": rows}
        entry["feeds"] = list(FEEDS.get(kind.name, ()))
        date_col = summ.get("date")
        if date_col:
            dmin, dmax = con.execute(
                f"SELECT min({quote(date_col)}), max({quote(date_col)}) FROM {T}"
            ).fetchall()[0]
            entry["date_min"] = (
                dmin.date() if hasattr(dmin, "date") and callable(dmin.date) else dmin
            )
            entry["date_max"] = (
                dmax.date() if hasattr(dmax, "date") and callable(dmax.date) else dmax
            )
        distinct = summ.get("distinct", [])
        if distinct:
            vals = con.execute(
                "SELECT "
                + ", ".join(f"count(DISTINCT {quote(c)})" for c in distinct)
                + f" FROM {T}"
            ).fetchall()[0]
            entry["distinct"] = {c: int(v) for c, v in zip(distinct, vals, strict=True)}
        sums = summ.get("sums", [])
        if sums:
            vals = con.execute(
                "SELECT " + ", ".join(f"sum({quote(c)})" for c in sums) + f" FROM {T}"
            ).fetchall()[0]
            entry["totals"] = dict(zip(sums, vals, strict=True))
        if "spend" in kind.fields:
            entry["spend"] = entry.get("totals", {}).get("spend")
        gmv = summ.get("gmv")
        group = summ.get("group_by")
        if gmv and group:
            cols = ", ".join(quote(c) for c in group)
            q = (
                f"SELECT {cols}, count(*), sum({quote(gmv)}) FROM {T} "
                f"GROUP BY {cols} ORDER BY {cols} NULLS LAST"
            )
            entry["gmv"] = [
                {**dict(zip(group, r[: len(group)], strict=True)), "rows": int(r[-2]), "gmv": r[-1]}
                for r in con.execute(q).fetchall()
            ]
        elif gmv:
            entry["gmv"] = entry.get("totals", {}).get(gmv)
        merchant = current_merchant()
        last = con.execute(
            "SELECT max(finished_at), count(*) FROM ingest_log WHERE source = ?"
            + ("" if merchant is None else " AND merchant = ?"),
            [kind.name] + ([] if merchant is None else [merchant]),
        ).fetchall()[0]
        entry["last_ingest"] = last[0]
        entry["files"] = int(last[1])
        entry.update(_maturity(con, kind, T, date_col))
        sources.append(entry)
    n_ingests = int(con.execute("SELECT count(*) FROM ingest_log").fetchall()[0][0])
    return {
        "store": str(store.path),
        "ingests": n_ingests,
        "sources": sources,
        "merchants": merchant_rows(store),
    }


def merchant_rows(store: Store) -> list[dict[str, Any]]:
    """Rows per merchant and export kind (the current facts), merchants sorted by name."""
    con = store.con
    tables = store.tables()
    kinds = [k for k in load_kinds().values() if k.table in tables]
    if not kinds:
        return []
    union = " UNION ALL ".join(
        f"SELECT merchant, {i} AS k, count(*) AS n FROM {fact_relation(k.name)} GROUP BY merchant"
        for i, k in enumerate(kinds)
    )
    out: dict[str, dict[str, int]] = {}
    for m, i, n in con.execute(f"SELECT * FROM ({union}) ORDER BY 1, 2").fetchall():
        out.setdefault(m, {})[kinds[i].name] = int(n)
    return [
        {"merchant": m, "rows": sum(by.values()), "sources": by} for m, by in sorted(out.items())
    ]
