"""The ROI uplift of ``redcat attribute``: two periods' rates and their bootstrap intervals,
repurchase, calendar events and immature days."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from redcat_cli.analysis import bootstrap
from redcat_cli.analysis.funnel import SUM_FIELDS, add_sums, rate_parts, ratio, with_rates
from redcat_cli.queries import attribute as q

if TYPE_CHECKING:
    from redcat_cli.analysis.attribute import Request

UPLIFT_METRICS = ("roi", "ctr", "interaction_rate", "visit_rate", "cart_rate")


def _period_block(
    con: Any, scope: q.Scope, period: tuple[dt.date, dt.date], unit: str
) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]]:
    """The period's totals with rates, and its units (days in date order, or notes) by key."""
    pscope = q.Scope(
        flow_type=scope.flow_type,
        window_days=scope.window_days,
        date_from=period[0],
        date_to=period[1],
        notes=scope.notes,
        plans=scope.plans,
    )
    by = "day" if unit == "days" else "note"
    raw = q.funnel_sums(con, by, pscope)
    key = "date" if by == "day" else "note_id"
    units = {r[key]: {n: r[n] for n in SUM_FIELDS} for r in raw}
    return with_rates(add_sums(list(units.values()))), units


def _block_used(block: int, n_base: int, n_comp: int) -> list[int]:
    """The block length each period was resampled with (capped at half its days)."""
    return [min(block, max(1, n // 2)) for n in (n_base, n_comp)]


def uplift(con: Any, scope: q.Scope, req: Request) -> tuple[dict[str, Any], list[str]]:
    import numpy as np

    assert req.baseline is not None and req.compare is not None
    warnings: list[str] = []
    base_t, base_by = _period_block(con, scope, req.baseline, req.resample)
    comp_t, comp_by = _period_block(con, scope, req.compare, req.resample)
    paired = req.resample == "notes"
    if paired:
        # the same notes in both periods, row for row: a note absent from one period is a
        # row of zeros there, so that one draw of notes serves both periods
        keys = sorted(set(base_by) | set(comp_by))
        empty = dict.fromkeys(SUM_FIELDS)
        base_u = [base_by.get(k, empty) for k in keys]
        comp_u = [comp_by.get(k, empty) for k in keys]
    else:
        base_u = [base_by[k] for k in sorted(base_by)]
        comp_u = [comp_by[k] for k in sorted(comp_by)]

    def matrix(units: list[dict[str, Any]], part: int) -> Any:
        """Units × metrics: each metric's numerator (part 0) or denominator (part 1)."""
        names = [rate_parts(m)[part] for m in UPLIFT_METRICS]
        cells = [[float(u[n]) if u[n] is not None else 0.0 for n in names] for u in units]
        return np.asarray(cells, dtype=np.float64).reshape(len(units), len(names))

    parts = (matrix(base_u, 0), matrix(base_u, 1), matrix(comp_u, 0), matrix(comp_u, 1))
    block = 1 if paired else (req.block_days or bootstrap.choose_block(*parts))
    intervals = bootstrap.bootstrap_ratio_uplifts(
        *parts, n_boot=req.n_boot, seed=req.seed, block=block, paired=paired
    )
    metrics = []
    for name, iv in zip(UPLIFT_METRICS, intervals, strict=True):
        b, c = base_t[name], comp_t[name]
        up = (c / b - 1.0) if (b is not None and c is not None and b != 0) else None
        lo, hi, used, undefined, unbounded = iv.low, iv.high, iv.used, iv.undefined, iv.unbounded
        if up is None:
            lo = hi = None
            used, undefined, unbounded = 0, 0, ()
        elif undefined > bootstrap.MAX_UNDEFINED_SHARE * req.n_boot:
            side = " and ".join(unbounded) if unbounded else None
            warnings.append(
                f"{undefined} of {req.n_boot} resamples of the {name} uplift are undefined "
                "(a zero denominator): the interval is widened to hold them"
                + (f", and is unbounded on the {side} side." if side else ".")
            )
        metrics.append(
            {
                "metric": name,
                "baseline": b,
                "compare": c,
                "uplift": up,
                "ci_low": lo,
                "ci_high": hi,
                "resamples_used": used,
                "resamples_undefined": undefined,
                "unbounded": list(unbounded),
            }
        )

    def period(p: tuple[dt.date, dt.date], t: dict[str, Any], units: list[Any]) -> dict[str, Any]:
        return {
            "from": p[0],
            "to": p[1],
            "units": len(units),
            **{
                n: t[n] for n in ("spend", "gmv", "impressions", "clicks", "read_uv", "interact_uv")
            },
            **{n: t[n] for n in ("visits", "cart", "orders", "roi")},
        }

    out: dict[str, Any] = {
        "resampled": req.resample,
        "block_days": None if paired else _block_used(block, len(base_u), len(comp_u)),
        "block_chosen": None if paired else ("given" if req.block_days else "data"),
        "paired": paired,
        "bootstrap": req.n_boot,
        "seed": req.seed,
        "level": 0.95,
        "baseline": period(req.baseline, base_t, list(base_by)),
        "compare": period(req.compare, comp_t, list(comp_by)),
        "metrics": metrics,
        "repurchase": None,
    }
    if q.has_orders(con):
        rb = q.repurchase(con, *req.baseline)
        rc = q.repurchase(con, *req.compare)
        b = ratio(rb[0], rb[1])
        c = ratio(rc[0], rc[1])
        out["repurchase"] = {
            "baseline": b,
            "compare": c,
            "uplift": (c / b - 1.0) if (b and c is not None) else None,
            "baseline_buyers": rb[1],
            "baseline_repeat_buyers": rb[0],
            "compare_buyers": rc[1],
            "compare_repeat_buyers": rc[0],
        }
    from redcat_cli.analysis import calendar as calendar_events

    events, ev_warn = calendar_events.overlapping(
        {"baseline": req.baseline, "compare": req.compare}, req.calendar
    )
    out["events"] = events
    warnings.extend(ev_warn)
    # conversions keep flowing back for up to the window: recent days are not final
    if scope.window_days:
        _, last = q.date_span(con)
        if last is not None:
            mature = last - dt.timedelta(days=scope.window_days)
            for label, p in (("baseline", req.baseline), ("compare", req.compare)):
                if p[1] > mature:
                    warnings.append(
                        f"The {label} period ends {p[1]}, within {scope.window_days} days of the "
                        f"last date in the store ({last}): its outcomes are still growing."
                    )
    return out, warnings
