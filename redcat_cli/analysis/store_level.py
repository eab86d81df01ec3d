"""``redcat attribute --by day`` without 种草星河: the store's daily 聚光 spend against its
daily Taobao sales."""

from __future__ import annotations

from typing import Any

from redcat_cli.analysis.attribute import Request, Result, default_sort
from redcat_cli.analysis.correlation import correlations
from redcat_cli.analysis.findings import findings
from redcat_cli.analysis.funnel import (
    SUM_FIELDS,
    add_sums,
    finish_row,
    rate_of,
    sort_rows,
    totals,
)
from redcat_cli.errors import QueryError, UsageError
from redcat_cli.queries import attribute as q

KIND_NAMES = {**q.STORE_SPEND_SOURCES, **q.STORE_SALES_SOURCES}


def q_has(con: Any, kind: str) -> bool:
    from redcat_cli.queries.lift import has_rows

    return has_rows(con, kind)


def _totals(
    rows: list[dict[str, Any]], daily: list[dict[str, Any]], warnings: list[str]
) -> dict[str, Any]:
    """Every row's sums; ROI (GMV over spend) only when both exports cover every day. A day
    inside an export's span without rows is a day of zero (no orders paid), but a day outside
    it is not in the export at all: spend there against no sales data compares nothing. So
    outside the days both exports cover, the total's ROI is null and a warning gives the ROI
    of the days they both cover."""
    tot = totals(rows)
    spans = [
        (min(dates), max(dates))
        for dates in ([d["date"] for d in daily if d[flag]] for flag in ("has_spend", "has_sales"))
        if dates
    ]
    covered: list[dict[str, Any]] = []
    if len(spans) == 2:
        lo, hi = max(s[0] for s in spans), min(s[1] for s in spans)
        covered = [r for r, d in zip(rows, daily, strict=True) if lo <= d["date"] <= hi]
    if len(covered) == len(daily):
        return tot
    tot["roi"] = None
    sums = add_sums(covered)
    roi = rate_of(sums, "roi") if covered else None
    if roi is not None:
        warnings.append(
            f"{len(daily) - len(covered)} of the {len(daily)} days are in only one export (聚光 "
            f"spend or Taobao sales), so the total has no ROI; the {len(covered)} days both "
            f"cover ({lo}..{hi}) return ROI {roi:.2f} (GMV {sums['gmv']:,.2f} on spend "
            f"{sums['spend']:,.2f})."
        )
    return tot


def store_level(con: Any, req: Request) -> Result | None:
    """``--by day`` without 种草星河: the store's daily XHS spend (聚光 note rows, else the
    account report) against its daily Taobao sales (千牛 paid GMV, else 生意参谋), with the
    lag scan and calendar warnings. None when the store lacks either side."""
    from redcat_cli.analysis import calendar as calendar_events

    spend_kind, sales_kind = q.store_sources(con)
    if spend_kind is None or sales_kind is None:
        return None
    if req.baseline is not None:
        raise UsageError(
            "--baseline/--compare compare notes' 种草星河 outcomes, and the store holds no 种草星河",
            hint="`redcat lift` measures what the seeding added against unseeded products",
        )
    if req.notes or req.plans:
        raise UsageError(
            "--note and --plan need 种草星河 per note; the store level sums the whole store"
        )
    daily = q.store_daily(con, spend_kind, sales_kind, req.date_from, req.date_to)
    if not daily:
        raise QueryError(
            "No days of 聚光 spend or Taobao sales match these dates.",
            hint="Check --from/--to against `redcat status`.",
        )
    rows = [_row(d) for d in daily]
    warnings = [
        f"The store holds no 种草星河: days compare the store's 聚光 spend "
        f"({KIND_NAMES[spend_kind]}) with its Taobao sales ({KIND_NAMES[sales_kind]}), "
        "not what each note's readers bought; every sale of the shop counts, seeded or not."
    ]
    both = [d for d in daily if d["has_spend"] and d["has_sales"]]
    if not both:
        warnings.append(_no_common_day(daily))
    x, y = req.x, req.y
    if not any(r[x] is not None for r in rows) or not any(r[y] is not None for r in rows):
        warnings.append(
            f"The store level has no daily {x if not any(r[x] is not None for r in rows) else y}: "
            "correlating spend with gmv instead."
        )
        x, y = "spend", "gmv"
    sreq = Request(**{**req.__dict__, "x": x, "y": y})
    tot = _totals(rows, daily, warnings)
    corrs, scan, cwarn, points = correlations(rows, sreq)
    warnings.extend(cwarn)
    if both:  # the days compared: where both sides are held
        span = (both[0]["date"], both[-1]["date"])
        _, ev_warn = calendar_events.overlapping({"daily": span}, req.calendar)
        warnings.extend(ev_warn)
    ordered = [finish_row("day", r) for r in sort_rows(rows, "day", default_sort(sreq))]
    shown = ordered[: req.top] if req.top else ordered
    return Result(
        request=sreq,
        flow_type=None,
        window_days=None,
        rows=shown,
        n_rows=len(rows),
        totals=tot,
        correlations=corrs,
        lag_scan=scan,
        unmatched={
            "matched": 0,
            "juguang_only": {"count": 0, "note_ids": []},
            "xinghe_only": {"count": 0, "note_ids": []},
        },
        uplift=None,
        warnings=warnings,
        points=points,
        findings=findings(sreq, ordered, tot, corrs, scan, None),
        store_level={"spend": spend_kind, "sales": sales_kind},
    )


def _row(d: dict[str, Any]) -> dict[str, Any]:
    """A day of the store as a funnel row: the sums it has, the matched parts of its rates."""
    row: dict[str, Any] = {"date": d["date"], **dict.fromkeys(SUM_FIELDS)}
    for f in ("spend", "impressions", "clicks", "interactions", "gmv", "orders"):
        row[f] = d[f]
    for name, (num, den) in (
        ("ctr", ("clicks", "impressions")),
        ("cpc", ("spend", "clicks")),
        ("cpe", ("spend", "interactions")),
    ):
        both = row[num] is not None and row[den] is not None
        row[f"_{name}_num"] = row[num] if both else None
        row[f"_{name}_den"] = row[den] if both else None
    row["in_juguang"] = bool(d["has_spend"])
    row["in_xinghe"] = False
    return row


def _no_common_day(daily: list[dict[str, Any]]) -> str:
    spans = {
        side: [d["date"] for d in daily if d[flag]]
        for side, flag in (("spend", "has_spend"), ("sales", "has_sales"))
    }
    if spans["spend"] and spans["sales"]:
        return (
            f"No day has both 聚光 spend ({spans['spend'][0]}..{spans['spend'][-1]}) and Taobao "
            f"sales ({spans['sales'][0]}..{spans['sales'][-1]}) in the store: export the same "
            "dates from both."
        )
    return "No day has both 聚光 spend and Taobao sales in these dates."
