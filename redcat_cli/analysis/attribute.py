"""Attribution: note engagement (聚光) joined to Taobao outcomes (种草星河).

The library behind ``redcat attribute``. It takes a DuckDB connection and a ``Request`` and
returns a ``Result`` of plain data (dicts, Decimals, floats); it knows nothing of click,
rich or JSON. The heavy lifting (summing millions of fact rows) happens in SQL in
``redcat_cli.queries.attribute``; this module sees one row per note, day or plan.

Rules it keeps:
- 种草星河 counts for exactly one flow type and one attribution window, never summed across.
- Each side is summed per group first, then joined (outer): notes found on one side only
  are reported, and the totals cover every note on either side.
- Every rate is a sum over a sum; a zero or missing denominator gives ``None``.
- Money (spend, GMV, CPC, CPE, CPUV, UV value) stays ``Decimal``; rates, ROI and r are floats.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from redcat_cli.analysis import bootstrap, stats
from redcat_cli.analysis.metrics import RESAMPLE_CHOICES, SORT_CHOICES, X_CHOICES, Y_CHOICES  # noqa: E402,F401
from redcat_cli.errors import QueryError, UsageError
from redcat_cli.queries import attribute as q

SUM_FIELDS = (*q.JUGUANG_SUMS, *q.XINGHE_SUMS)
# rate name -> (numerator, denominator, is money)
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
# the order of a funnel row's fields after its key
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
UPLIFT_METRICS = ("roi", "ctr", "interaction_rate", "visit_rate", "cart_rate")
MIN_N = 10


@dataclass(frozen=True)
class Request:
    by: str = "note"
    x: str = "interactions"
    y: str = "orders"
    flow_type: str | None = None
    window_days: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    notes: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    max_lag: int = 0
    baseline: tuple[dt.date, dt.date] | None = None
    compare: tuple[dt.date, dt.date] | None = None
    seed: int = 0
    n_boot: int = 2000
    resample: str = "days"
    block_days: int | None = None  # None: chosen from the data (bootstrap.choose_block)
    calendar: str | None = None
    sort: str | None = None
    top: int | None = None


@dataclass
class Result:
    request: Request
    flow_type: str | None
    window_days: int | None
    rows: list[dict[str, Any]]  # sorted, cut to --top
    n_rows: int  # before --top
    totals: dict[str, Any]
    correlations: list[dict[str, Any]]
    lag_scan: dict[str, Any] | None
    unmatched: dict[str, Any]
    uplift: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    points: tuple[list[float], list[float]] = ((), ())  # type: ignore[assignment]
    findings: list[str] = field(default_factory=list)  # what it found, in plain sentences
    store_level: dict[str, Any] | None = None  # the kinds read when 种草星河 is missing

    @property
    def sort(self) -> str:
        return default_sort(self.request)


def default_sort(req: Request) -> str:
    """The funnel's sort field: --sort, else date order by day and GMV otherwise."""
    return req.sort or ("key" if req.by == "day" else "gmv")


# --- rates ---------------------------------------------------------------------------


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


# --- the funnel ------------------------------------------------------------------------


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


# --- correlations ----------------------------------------------------------------------


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _corr_dict(
    x: str, y: str, by: str, lag: int, c: stats.Correlation, partial: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "by": by,
        "method": c.method,
        "lag_days": lag,
        "r": c.r,
        "p_value": c.p_value,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "n": c.n,
        "partial": partial,
    }


PARTIAL_CONTROL = "spend"


def _partial(
    req: Request, method: str, xs: list[Any], ys: list[Any], zs: list[Any]
) -> dict[str, Any] | None:
    """The correlation controlling for spend, or None (Kendall, spend as x or y, or when it
    cannot be computed)."""
    if method == "kendall" or PARTIAL_CONTROL in (req.x, req.y):
        return None
    c = stats.partial_correlation(xs, ys, zs, method)
    if c.r is None:
        return None
    return {
        "control": PARTIAL_CONTROL,
        "r": c.r,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "p_value": c.p_value,
        "n": c.n,
    }


def _stories_differ(c: dict[str, Any]) -> bool:
    """The correlation and its partial tell different stories: one interval excludes 0 and
    the other holds it, or both exclude 0 with opposite signs."""
    pa = c["partial"]
    if pa is None or c["ci_low"] is None or pa["ci_low"] is None:
        return False

    def sign(lo: float, hi: float) -> int:
        return 1 if lo > 0 else -1 if hi < 0 else 0

    return sign(c["ci_low"], c["ci_high"]) != sign(pa["ci_low"], pa["ci_high"])


def correlations(
    rows: list[dict[str, Any]], req: Request
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[str], tuple[list[float], list[float]]]:
    """Correlation entries, the lag scan (by day), warnings, and the points to plot."""
    import numpy as np

    warnings: list[str] = []
    if req.by != "day":
        xs = [_num(r[req.x]) for r in rows]
        ys = [_num(r[req.y]) for r in rows]
        zs = [_num(r[PARTIAL_CONTROL]) for r in rows]
        out = [
            _corr_dict(req.x, req.y, req.by, 0, c, _partial(req, c.method, xs, ys, zs))
            for c in stats.correlate(xs, ys)
        ]
        pts = [(a, b) for a, b in zip(xs, ys, strict=True) if a is not None and b is not None]
        scan = None
    else:
        xd = {r["date"]: float(r[req.x]) for r in rows if r[req.x] is not None}
        yd = {r["date"]: float(r[req.y]) for r in rows if r[req.y] is not None}
        zd = {r["date"]: _num(r[PARTIAL_CONTROL]) for r in rows}
        one_day = dt.timedelta(days=1)
        result = stats.lag_scan(xd, yd, req.max_lag, one_day)
        out = []
        for lag, cs in result.by_lag:
            xs_l, ys_l = stats.lagged_pairs(xd, yd, lag, one_day)
            # spend on the day of the engagement, beside each pair
            zs_l = [zd.get(t) for t in xd if t + one_day * lag in yd]
            n_eff = stats.effective_n(np.array(xs_l), np.array(ys_l)) if len(xs_l) >= 3 else None
            for c in cs:
                d = _corr_dict(
                    req.x, req.y, "day", lag, c, _partial(req, c.method, xs_l, ys_l, zs_l)
                )
                d["n_effective"] = n_eff
                # the t-test of r again, with n_eff pairs (Pearson and Spearman only)
                d["p_value_effective"] = (
                    stats.t_two_sided_p_from_r(c.r, n_eff)
                    if c.method != "kendall" and c.r is not None and n_eff is not None and n_eff > 3
                    else None
                )
                out.append(d)
        plot_lag = result.best_lag if (req.max_lag > 0 and result.best_lag is not None) else 0
        x0, y0 = stats.lagged_pairs(xd, yd, plot_lag, one_day)
        pts = list(zip(x0, y0, strict=True))
        scan = None
        if req.max_lag > 0:
            scan = {
                "method": result.method,
                "max_lag": req.max_lag,
                "best_lag": result.best_lag,
                "r": result.best.r if result.best else None,
                "p_value": result.best.p_value if result.best else None,
                "p_adjusted": result.p_adjusted,
                "adjustment": "bonferroni",
                "n": result.best.n if result.best else None,
            }
        warnings.append(
            "Daily series are autocorrelated: the p-values treat days as independent and are "
            "optimistic; n_effective (lag-1 AR approximation) is the sample size they are worth."
        )
    n = out[0]["n"] if out else 0
    if n < MIN_N:
        warnings.append(
            f"Only {n} {req.by}s have both {req.x} and {req.y}: with n < {MIN_N} a correlation "
            "says little; read the confidence interval."
        )
    for row in out:
        if row["lag_days"] == 0 and row["method"] == "pearson" and _stories_differ(row):
            pa = row["partial"]
            raw_only = row["ci_low"] > 0 or row["ci_high"] < 0
            warnings.append(
                f"{req.x} and {req.y} across {req.by}s: Pearson r {row['r']:.3f} (95% CI "
                f"{row['ci_low']:.2f} to {row['ci_high']:.2f}), but controlling for spend the partial "
                f"correlation is {pa['r']:.2f} (95% CI {pa['ci_low']:.2f} to {pa['ci_high']:.2f}): "
                + (
                    f"much of the association is size — bigger {req.by}s get more of everything."
                    if raw_only and pa["ci_low"] <= 0 <= pa["ci_high"]
                    else "net of spend the association tells a different story."
                )
            )
    return out, scan, warnings, ([p[0] for p in pts], [p[1] for p in pts])


# --- uplift ----------------------------------------------------------------------------


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


# --- the whole job ---------------------------------------------------------------------


def validate(req: Request) -> None:
    if req.by not in q.BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(q.BY_CHOICES)}")
    if req.x not in X_CHOICES:
        raise UsageError(f"--x must be one of {', '.join(X_CHOICES)}")
    if req.y not in Y_CHOICES:
        raise UsageError(f"--y must be one of {', '.join(Y_CHOICES)}")
    if req.max_lag < 0:
        raise UsageError("--max-lag must be 0 or more")
    if req.max_lag and req.by != "day":
        raise UsageError("--max-lag scans daily series", hint="add --by day")
    if (req.baseline is None) != (req.compare is None):
        raise UsageError("--baseline and --compare go together", hint="give both periods")
    if req.resample not in RESAMPLE_CHOICES:
        raise UsageError(f"--resample must be one of {', '.join(RESAMPLE_CHOICES)}")
    if req.n_boot < 100:
        raise UsageError("--bootstrap needs at least 100 resamples")
    if req.block_days is not None and req.block_days < 1:
        raise UsageError("--block-days must be 1 or more")
    if req.top is not None and req.top < 1:
        raise UsageError("--top must be 1 or more")
    if req.sort is not None and req.sort not in SORT_CHOICES:
        raise UsageError(f"--sort must be one of {', '.join(SORT_CHOICES)}")
    if req.seed < 0:
        raise UsageError("--seed must be 0 or more")
    if req.date_from and req.date_to and req.date_to < req.date_from:
        raise UsageError("--to is before --from", hint="swap the two dates")
    if req.baseline and req.compare:
        (b0, b1), (c0, c1) = req.baseline, req.compare
        if b0 <= c1 and c0 <= b1:
            raise UsageError(
                "--baseline and --compare overlap",
                hint="give two separate periods, e.g. the month before and the month after",
            )


def attribute(con: Any, req: Request) -> Result:
    """Funnel, correlations, unmatched notes and (with two periods) the uplift."""
    validate(req)
    q.check_tables(con)
    flow_type, window = q.resolve_slice(con, req.flow_type, req.window_days)
    scope = q.Scope(
        flow_type=flow_type,
        window_days=window,
        date_from=req.date_from,
        date_to=req.date_to,
        notes=req.notes,
        plans=req.plans,
    )
    warnings: list[str] = []
    if flow_type is None:
        warnings.append(
            "The store holds no 种草星河 rows: outcomes (visits, orders, GMV) are empty."
        )

    if req.by == "day" and flow_type is None:
        level = store_level(con, req)
        if level is not None:
            return level
    raw = q.funnel_sums(con, req.by, scope)
    if not raw and not any(
        con.execute(f"SELECT count(*) > 0 FROM {q.relation(k)}").fetchall()[0][0]
        for k in ("juguang", "xinghe")
    ):
        spend, sales = q.store_sources(con)
        have = [k for k in (spend, sales) if k]
        raise QueryError(
            "The store holds no 聚光 note report and no 种草星河 content export.",
            hint=(
                f"you have {' and '.join(_KIND_NAMES[k] for k in have)}: "
                + (
                    "`redcat attribute --by day` compares daily spend with daily sales at the "
                    "store level"
                    if spend and sales
                    else "ingest the other side too (see `redcat status`)"
                )
                + (
                    "; `redcat lift` measures the seeded products against the others"
                    if sales == "sycm" or q_has(con, "sycm")
                    else ""
                )
                if have
                else "ingest them first: redcat ingest 聚光笔记日报.csv 种草星河明细.csv (see `redcat status`)"
            ),
        )
    if not raw:
        raise QueryError(
            "No 聚光 or 种草星河 facts match these filters.",
            hint="Check --from/--to, --note and --plan against `redcat status`.",
        )
    rows = raw  # key fields, sums and side flags; rates only for the rows shown (finish_row)
    tot = totals(rows)

    if req.by == "note":
        only_j = sorted(r["note_id"] for r in rows if r["in_juguang"] and not r["in_xinghe"])
        only_x = sorted(r["note_id"] for r in rows if r["in_xinghe"] and not r["in_juguang"])
        matched = sum(1 for r in rows if r["in_juguang"] and r["in_xinghe"])
    else:
        only_j, only_x, matched = q.note_sides(con, scope)
    unmatched = {
        "matched": matched,
        "juguang_only": {"count": len(only_j), "note_ids": only_j},
        "xinghe_only": {"count": len(only_x), "note_ids": only_x},
    }
    if only_j or only_x:
        warnings.append(
            f"{len(only_j)} notes appear only in 聚光 and {len(only_x)} only in 种草星河 "
            "(listed under unmatched); the totals include them."
        )

    corrs, scan, cwarn, points = correlations(rows, req)
    warnings.extend(cwarn)

    up = None
    if req.baseline is not None:
        up, uwarn = uplift(con, scope, req)
        warnings.extend(uwarn)

    ordered = [finish_row(req.by, r) for r in sort_rows(rows, req.by, default_sort(req))]
    shown = ordered[: req.top] if req.top else ordered
    found = findings(req, ordered, tot, corrs, scan, up)
    return Result(
        request=req,
        flow_type=flow_type,
        window_days=window,
        rows=shown,
        n_rows=len(rows),
        totals=tot,
        correlations=corrs,
        lag_scan=scan,
        unmatched=unmatched,
        uplift=up,
        warnings=warnings,
        points=points,
        findings=found,
    )


# --- the store level --------------------------------------------------------------------

_KIND_NAMES = {**q.STORE_SPEND_SOURCES, **q.STORE_SALES_SOURCES}


def q_has(con: Any, kind: str) -> bool:
    from redcat_cli.queries.lift import has_rows

    return has_rows(con, kind)


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
    rows = []
    for d in daily:
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
        rows.append(row)
    warnings = [
        f"The store holds no 种草星河: days compare the store's 聚光 spend "
        f"({_KIND_NAMES[spend_kind]}) with its Taobao sales ({_KIND_NAMES[sales_kind]}), "
        "not what each note's readers bought; every sale of the shop counts, seeded or not."
    ]
    both = [d for d in daily if d["has_spend"] and d["has_sales"]]
    if not both:
        spans = {
            side: [d["date"] for d in daily if d[flag]]
            for side, flag in (("spend", "has_spend"), ("sales", "has_sales"))
        }
        warnings.append(
            f"No day has both 聚光 spend ({spans['spend'][0]}..{spans['spend'][-1]}) and Taobao "
            f"sales ({spans['sales'][0]}..{spans['sales'][-1]}) in the store: export the same "
            "dates from both."
            if spans["spend"] and spans["sales"]
            else "No day has both 聚光 spend and Taobao sales in these dates."
        )
    x, y = req.x, req.y
    if not any(r[x] is not None for r in rows) or not any(r[y] is not None for r in rows):
        warnings.append(
            f"The store level has no daily {x if not any(r[x] is not None for r in rows) else y}: "
            "correlating spend with gmv instead."
        )
        x, y = "spend", "gmv"
    sreq = Request(**{**req.__dict__, "x": x, "y": y})
    tot = totals(rows)
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


# --- findings: the numbers turned into sentences ----------------------------------------

GOOD_ROI = 3.0  # "ROI ≥ 3": the usual Red Cat target; below 1 a note cost more than it sold
UNITS = {"note": "notes", "day": "days", "plan": "plans"}


def _yuan(v: Any) -> str:
    return "–" if v is None else f"¥{Decimal(v).quantize(Decimal('0.01')):,}"


def _short(text: Any, cells: int = 24) -> str:
    """A title cut to a display width (a CJK character counts two), with an ellipsis."""
    import unicodedata

    out, used = "", 0
    s = str(text)
    for ch in s:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > cells - 1 and len(out) < len(s):
            return out.rstrip() + "…"
        out, used = out + ch, used + w
    return out


def _span(a: Any, b: Any) -> str:
    """2025-06-01..15 within a month, 2025-06-16..07-15 within a year."""
    x, y = str(a), str(b)
    if x[:7] == y[:7]:
        return f"{x}..{y[8:]}"
    return f"{x}..{y[5:]}" if x[:4] == y[:4] else f"{x}..{y}"


def _pct(v: float) -> str:
    return f"{v * 100:+.0f}%"


def _p_text(p: float | None) -> str:
    if p is None:
        return ""
    return ", p < 0.001" if p < 0.001 else f", p = {p:.3f}"


def _r2(v: float) -> str:
    """A correlation to two places, never "-0.00"."""
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


SIZE_STORY = {
    "note": "bigger notes get more of everything",
    "day": "days with more spend get more of everything",
    "plan": "bigger plans get more of everything",
}


def _partial_story(pear: dict[str, Any], by: str) -> str:
    """The end of the correlation sentence when the partial correlation controlling for
    spend tells a different story from the raw one ("" when they agree): e.g. ", but 0.32
    (95% CI -0.11 to 0.65) controlling for spend — bigger notes get more of everything"."""
    if not _stories_differ(pear):
        return ""
    pa = pear["partial"]
    figure = f"{_r2(pa['r'])} (95% CI {_r2(pa['ci_low'])} to {_r2(pa['ci_high'])})"
    raw_clear = pear["ci_low"] > 0 or pear["ci_high"] < 0
    if raw_clear and pa["ci_low"] <= 0 <= pa["ci_high"]:
        return f", but {figure} controlling for spend — {SIZE_STORY[by]}"
    if not raw_clear:
        way = "positive" if pa["ci_low"] > 0 else "negative"
        return f"; controlling for spend it is {figure}, clearly {way} once size is taken out"
    return f", but {figure} controlling for spend: the other way round once size is taken out"


def findings(
    req: Request,
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    corrs: list[dict[str, Any]],
    scan: dict[str, Any] | None,
    up: dict[str, Any] | None,
) -> list[str]:
    """Two to four sentences of what the numbers say, for the top of a view. Every figure in
    them is in the table or the JSON beside it; a correlation comes with its n and interval."""
    unit = UNITS[req.by]
    out: list[str] = []
    rois = [r["roi"] for r in rows if r.get("roi") is not None]
    if totals.get("roi") is not None:
        lead = (
            f"All {len(rows)} {unit} together return ROI {totals['roi']:.2f} "
            f"(GMV {_yuan(totals.get('gmv'))} on spend {_yuan(totals.get('spend'))})"
        )
        if req.by != "day" and rois:
            good = sum(1 for v in rois if v >= GOOD_ROI)
            under = sum(1 for v in rois if v < 1)
            lead += f"; {good} of {len(rois)} {unit} return ROI ≥ {GOOD_ROI:g}"
            lead += (
                f" and {under} {'is' if under == 1 else 'are'} under 1, costing more than "
                f"{'it' if under == 1 else 'they'} sold"
                if under
                else " and none is under 1"
            )
        out.append(lead + ".")
    elif not rois:
        out.append(
            f"No {unit[:-1]} has an ROI: the store lacks 聚光 spend or 种草星河 GMV for them."
        )
    if req.by == "note" and len(rois) >= 2:
        ranked = sorted(
            (r for r in rows if r.get("roi") is not None), key=lambda r: (-r["roi"], r["note_id"])
        )
        best, worst = ranked[0], ranked[-1]

        def name(r: dict[str, Any]) -> str:
            return _short(r.get("note_title") or r["note_id"])

        out.append(
            f"Best: {name(best)} (ROI {best['roi']:.2f}); worst: {name(worst)} "
            f"(ROI {worst['roi']:.2f})."
        )
    pear = next((c for c in corrs if c["method"] == "pearson" and c.get("lag_days", 0) == 0), None)
    if pear is not None and pear.get("r") is not None:
        across = "on the same day" if req.by == "day" else f"across {unit}"
        detail = f"Pearson r {pear['r']:.2f}"
        if pear.get("ci_low") is not None:
            detail += f", 95% CI {pear['ci_low']:.2f} to {pear['ci_high']:.2f}"
        if req.by == "day" and pear.get("n_effective") is not None:
            # days are autocorrelated: the p-value worth quoting is the one at the effective n
            detail += f", n {pear['n']} (worth {pear['n_effective']:.0f} independent days)"
            detail += _p_text(pear.get("p_value_effective"))
        else:
            detail += f", n {pear['n']}{_p_text(pear.get('p_value'))}"
        if pear.get("ci_low") is not None and pear["ci_low"] > 0:
            said = f"{req.y.capitalize()} follow {req.x} {across} ({detail})"
        elif pear.get("ci_high") is not None and pear["ci_high"] < 0:
            said = f"{req.y.capitalize()} fall as {req.x} rise {across} ({detail})"
        else:
            said = f"No clear link between {req.x} and {req.y} {across} ({detail})"
        out.append(said + _partial_story(pear, req.by) + ".")
    if scan is not None and scan.get("best_lag") and scan.get("p_adjusted") is not None:
        if scan["p_adjusted"] < 0.05:
            out.append(
                f"They line up best {scan['best_lag']} day(s) later (r {scan['r']:.2f}, "
                f"p = {scan['p_adjusted']:.2g} after Bonferroni over {scan['max_lag'] + 1} lags)."
            )
    if up is not None:
        roi = next((m for m in up["metrics"] if m["metric"] == "roi"), None)
        if roi is not None and roi.get("uplift") is not None:
            b, c = up["baseline"], up["compare"]
            when = f"between {_span(b['from'], b['to'])} and {_span(c['from'], c['to'])}"
            move = f"ROI went from {roi['baseline']:.2f} to {roi['compare']:.2f} {when}"
            if roi.get("ci_low") is None:
                out.append(f"{move} ({_pct(roi['uplift'])}).")
            elif roi["ci_low"] > 0 or roi["ci_high"] < 0:
                out.append(
                    f"{move}: {_pct(roi['uplift'])} (95% CI {_pct(roi['ci_low'])} to "
                    f"{_pct(roi['ci_high'])})."
                )
            else:
                out.append(
                    f"{move} ({_pct(roi['uplift'])}), but the 95% interval "
                    f"({_pct(roi['ci_low'])} to {_pct(roi['ci_high'])}) includes no change."
                )
    return out[:4]


def slice_label(flow_type: str | None, window_days: int | None) -> str:
    """The 种草星河 slice read, for people: `种草星河 全部流量, 30-day window`, or what is
    missing (never `None`)."""
    if flow_type is None and window_days is None:
        return "no 种草星河 data"
    window = f"{window_days}-day window" if window_days is not None else "no attribution window"
    return f"种草星河 {flow_type or 'all flow types'}, {window}"


def to_document(res: Result) -> dict[str, Any]:
    """The JSON contract (see docs/attribute.md); render.py turns Decimals into strings."""
    req = res.request
    rows_key = {"note": "notes", "day": "days", "plan": "plans"}[req.by]
    doc: dict[str, Any] = {
        "filters": {
            "from": req.date_from,
            "to": req.date_to,
            "notes": list(req.notes),
            "plans": list(req.plans),
            "flow_type": res.flow_type,
            "window_days": res.window_days,
            "by": req.by,
            "x": req.x,
            "y": req.y,
            "max_lag": req.max_lag,
            "sort": res.sort,
            "top": req.top,
        },
        "correlations": res.correlations,
        "lag_scan": res.lag_scan,
        "rows": res.n_rows,
        rows_key: res.rows,
        "totals": res.totals,
        "unmatched": res.unmatched,
        "uplift": res.uplift,
        "warnings": res.warnings,
        "findings": res.findings,
        "store_level": res.store_level,
    }
    if rows_key != "notes":
        doc["notes"] = None
    return doc


def write_plot(path: str, res: Result) -> None:
    """Scatter of x against y with the least-squares line; r, n and the CI in the title.

    Written atomically (a temporary file in the same folder, then renamed).
    """

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    req = res.request
    xs, ys = res.points
    # by day with a lag scan the points are x(t) against y(t + best lag)
    lag = (res.lag_scan or {}).get("best_lag") or 0
    pear = next(
        (c for c in res.correlations if c["method"] == "pearson" and c["lag_days"] == lag), None
    )
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    ax.scatter(xs, ys, s=14, alpha=0.6)
    if len(xs) >= 2 and np.ptp(np.asarray(xs, dtype=float)) > 0:
        slope, icept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
        gx = np.linspace(min(xs), max(xs), 50)
        ax.plot(gx, slope * gx + icept, color="C3", linewidth=1.5)
    unit = {"note": "notes", "day": "days", "plan": "plans"}[req.by]
    if pear and pear["r"] is not None:
        ci = (
            f", 95% CI [{pear['ci_low']:.2f}, {pear['ci_high']:.2f}]"
            if pear["ci_low"] is not None
            else ""
        )
        at = f" at lag {lag} days" if lag else ""
        title = f"Pearson r = {pear['r']:.3f}{at}, n = {pear['n']} {unit}{ci}"
    else:
        title = f"r undefined, n = {len(xs)} {unit}"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(req.x + (" on day t" if lag else ""))
    ax.set_ylabel(
        f"{req.y}{f' on day t + {lag}' if lag else ''}"
        + (f" ({res.window_days}-day attribution window)" if res.window_days else "")
    )
    fig.tight_layout()
    from redcat_cli.files import atomic_write_bytes

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", metadata={"Software": _software()})
    finally:
        plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())  # folder made if missing; mode follows the umask


def _software() -> str:
    from redcat_cli import __version__

    return f"redcat {__version__} attribute"
