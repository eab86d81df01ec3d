"""The funnel of ``redcat attribute``: sums per note, day or plan, and every rate as a sum
over a sum (``None`` where the denominator is zero or missing; money stays ``Decimal``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from redcat_cli.queries import attribute as q

SUM_FIELDS = (*q.JUGUANG_SUMS, *q.XINGHE_SUMS)


RATES: dict[str, tuple[str, str, bool]] = {
    "ctr": ("clicks", "impressions", False),
    "cpc": ("spend", "clicks", True),
    "cpe": ("spend", "interactions", True),
    "interaction_rate": ("interact_uv", "read_uv", False),
    "visit_rate": ("visits", "read_uv", False),
    "cart_rate": ("cart", "visits", False),
    "conversion_rate": ("orders", "visits", False),
    "roi": ("gmv", "spend", False),
    "cpuv": ("spend", "visits", True),
    "uv_value": ("gmv", "visits", True),
}


ROW_FIELDS = (
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "likes",
    "comments",
    "collects",
    "follows",
    "shares",
    "interactions",
    "cpe",
    "read_uv",
    "interact_uv",
    "interaction_rate",
    "visits",
    "visit_rate",
    "cart",
    "cart_rate",
    "orders",
    "conversion_rate",
    "gmv",
    "roi",
    "cpuv",
    "uv_value",
)


def ratio(num: Any, den: Any, *, money: bool = False) -> Any:
    """num / den, or None when either is missing or the denominator is zero."""
    if num is None or den is None or den == 0:
        return None
    if money:
        return Decimal(num) / Decimal(den)
    if isinstance(num, Decimal) or isinstance(den, Decimal):
        return float(Decimal(num) / Decimal(den))
    return num / den


def rate_parts(name: str) -> tuple[str, str]:
    """The fields a rate divides: matched sums (rows where both parts are known) for rates
    within one platform, the two sides' sums for ROI, CPUV and UV value."""
    if name in q.MATCHED_RATES:
        return f"_{name}_num", f"_{name}_den"
    num, den, _ = RATES[name]
    return num, den


def rate_of(sums: dict[str, Any], name: str) -> Any:
    num, den = rate_parts(name)
    return ratio(sums.get(num), sums.get(den), money=RATES[name][2])


def with_rates(sums: dict[str, Any]) -> dict[str, Any]:
    """A funnel row: the sums in ``sums`` plus every rate, each a sum over a sum."""
    out = dict(sums)
    for name in RATES:
        out[name] = rate_of(sums, name)
    return out


def add_sums(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum each field over the rows; a field unknown in every row stays None."""
    out: dict[str, Any] = {}
    for name in SUM_FIELDS:
        vals = [r[name] for r in rows if r.get(name) is not None]
        out[name] = sum(vals[1:], vals[0]) if vals else None
    return out


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    t = with_rates(add_sums(rows))
    return {name: t[name] for name in ROW_FIELDS}


KEY_FIELDS = {"note": ("note_id", "note_title"), "day": ("date",), "plan": ("plan_id", "plan_name")}


def finish_row(by: str, row: dict[str, Any]) -> dict[str, Any]:
    """A funnel row in the order of the contract: key, sums and rates, side flags."""
    r = with_rates(row)
    out = {k: row[k] for k in KEY_FIELDS[by]}
    out.update({n: r[n] for n in ROW_FIELDS})
    out["in_juguang"] = row["in_juguang"]
    out["in_xinghe"] = row["in_xinghe"]
    return out


def sort_rows(rows: list[dict[str, Any]], by: str, sort: str | None) -> list[dict[str, Any]]:
    """Largest first on the sort field (unknown values last); days default to date order."""
    key_name = {"note": "note_id", "day": "date", "plan": "plan_id"}[by]
    if sort is None:
        sort = "key" if by == "day" else "gmv"
    if sort == "key":
        return sorted(rows, key=lambda r: (r[key_name] is None, str(r[key_name])))

    def value(r: dict[str, Any]) -> Any:
        if sort in RATES:
            return rate_of(r, sort)
        return r.get(sort)

    def k(r: dict[str, Any]) -> tuple[bool, float, str]:
        v = value(r)
        return (v is None, -float(v) if v is not None else 0.0, str(r[key_name]))

    return sorted(rows, key=k)
