"""Daily outcome series for ``redcat lift``: products × days from 生意参谋, the store's day
from 千牛 orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from redcat_cli.queries import fact_relation

OUTCOMES = {
    "sycm": "支付金额 per product and day (生意参谋 商品日报)",
    "qianniu": "paid GMV of the store per day (千牛 订单报表, by 订单付款时间)",
}


def has_rows(con: Any, kind: str) -> bool:
    from redcat_cli.ingest.kinds import get_kind

    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if get_kind(kind).table not in tables:
        return False
    return bool(con.execute(f"SELECT count(*) > 0 FROM {fact_relation(kind)}").fetchall()[0][0])


def sycm_panel(con: Any) -> list[tuple[str, dt.date, Decimal]]:
    """(product id, date, 支付金额) for every product and day the store holds; a missing
    支付金额 counts as no sales only where the row exists (the column is required)."""
    rel = fact_relation("sycm")
    return [
        (str(r[0]), r[1], Decimal(r[2]))
        for r in con.execute(
            f"SELECT product_id, date, sum(coalesce(paid_amount, 0)) FROM {rel} "
            "WHERE product_id IS NOT NULL AND date IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    ]


def sycm_products(con: Any) -> dict[str, str | None]:
    """Product id → its latest name."""
    rel = fact_relation("sycm")
    return {
        str(r[0]): r[1]
        for r in con.execute(
            f"SELECT product_id, arg_max(product_name, date) FROM {rel} "
            "WHERE product_id IS NOT NULL GROUP BY 1"
        ).fetchall()
    }


def qianniu_daily(con: Any) -> list[tuple[dt.date, Decimal]]:
    """(date, paid GMV): 买家实际支付金额 of the orders paid that day."""
    rel = fact_relation("qianniu")
    return [
        (r[0], Decimal(r[1]))
        for r in con.execute(
            f"SELECT CAST(paid_at AS DATE) AS d, sum(coalesce(paid_amount, 0)) FROM {rel} "
            "WHERE paid_at IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
    ]
