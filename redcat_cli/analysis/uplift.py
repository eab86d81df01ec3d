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
    """The two periods' rates, their uplifts with bootstrap intervals, repurchase, the
    calendar events inside them, and warnings."""
    assert req.baseline is not None and req.compare is not None
    base_t, base_by = _period_block(con, scope, req.baseline, req.resample)
    comp_t, comp_by = _period_block(con, scope, req.compare, req.resample)
    paired = req.resample == "notes"
    base_u, comp_u = _units(base_by, comp_by, paired)
    parts = (_matrix(base_u, 0), _matrix(base_u, 1), _matrix(comp_u, 0), _matrix(comp_u, 1))
    block = 1 if paired else (req.block_days or bootstrap.choose_block(*parts))
    intervals = bootstrap.bootstrap_ratio_uplifts(
        *parts, n_boot=req.n_boot, seed=req.seed, block=block, paired=paired
    )
    metrics, warnings = _metrics(base_t, comp_t, intervals, req.n_boot)

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
        "repurchase": _repurchase(con, req.baseline, req.compare) if q.has_orders(con) else None,
    }
    from redcat_cli.analysis import calendar as calendar_events

    events, ev_warn = calendar_events.overlapping(
        {"baseline": req.baseline, "compare": req.compare}, req.calendar
    )
    out["events"] = events
    warnings.extend(ev_warn)
    warnings.extend(_immature(con, scope, req))
    return out, warnings


def _units(
    base_by: dict[Any, dict[str, Any]], comp_by: dict[Any, dict[str, Any]], paired: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each period's units in order. Paired (notes): the same notes in both periods, row for
    row, a note absent from one period a row of zeros there, so that one draw of notes serves
    both periods."""
    if not paired:
        return [base_by[k] for k in sorted(base_by)], [comp_by[k] for k in sorted(comp_by)]
    keys = sorted(set(base_by) | set(comp_by))
    empty = dict.fromkeys(SUM_FIELDS)
    return [base_by.get(k, empty) for k in keys], [comp_by.get(k, empty) for k in keys]


def _matrix(units: list[dict[str, Any]], part: int) -> Any:
    """Units × metrics: each metric's numerator (part 0) or denominator (part 1)."""
    import numpy as np

    names = [rate_parts(m)[part] for m in UPLIFT_METRICS]
    cells = [[float(u[n]) if u[n] is not None else 0.0 for n in names] for u in units]
    return np.asarray(cells, dtype=np.float64).reshape(len(units), len(names))


def _metrics(
    base_t: dict[str, Any], comp_t: dict[str, Any], intervals: list[Any], n_boot: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """One entry per metric: both periods' values, the uplift and its interval; a warning
    where more than 1% of the resamples are undefined."""
    metrics, warnings = [], []
    for name, iv in zip(UPLIFT_METRICS, intervals, strict=True):
        b, c = base_t[name], comp_t[name]
        up = (c / b - 1.0) if (b is not None and c is not None and b != 0) else None
        lo, hi, used, undefined, unbounded = iv.low, iv.high, iv.used, iv.undefined, iv.unbounded
        if up is None:
            lo = hi = None
            used, undefined, unbounded = 0, 0, ()
        elif undefined > bootstrap.MAX_UNDEFINED_SHARE * n_boot:
            side = " and ".join(unbounded) if unbounded else None
            warnings.append(
                f"{undefined} of {n_boot} resamples of the {name} uplift are undefined "
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
    return metrics, warnings


def _repurchase(
    con: Any, baseline: tuple[dt.date, dt.date], compare: tuple[dt.date, dt.date]
) -> dict[str, Any]:
    rb = q.repurchase(con, *baseline)
    rc = q.repurchase(con, *compare)
    b = ratio(rb[0], rb[1])
    c = ratio(rc[0], rc[1])
    return {
        "baseline": b,
        "compare": c,
        "uplift": (c / b - 1.0) if (b and c is not None) else None,
        "baseline_buyers": rb[1],
        "baseline_repeat_buyers": rb[0],
        "compare_buyers": rc[1],
        "compare_repeat_buyers": rc[0],
    }


def _immature(con: Any, scope: q.Scope, req: Request) -> list[str]:
    """Conversions keep flowing back for up to the window: a period ending within it of the
    last date held is not final."""
    if not scope.window_days:
        return []
    _, last = q.date_span(con)
    if last is None:
        return []
    mature = last - dt.timedelta(days=scope.window_days)
    return [
        f"The {label} period ends {p[1]}, within {scope.window_days} days of the "
        f"last date in the store ({last}): its outcomes are still growing."
        for label, p in (("baseline", req.baseline), ("compare", req.compare))
        if p is not None and p[1] > mature
    ]
