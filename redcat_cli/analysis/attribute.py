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
from typing import Any

from redcat_cli.analysis.correlation import correlations
from redcat_cli.analysis.findings import findings
from redcat_cli.analysis.funnel import finish_row, sort_rows, totals
from redcat_cli.analysis.metrics import RESAMPLE_CHOICES, SORT_CHOICES, X_CHOICES, Y_CHOICES
from redcat_cli.analysis.uplift import uplift
from redcat_cli.errors import QueryError, UsageError
from redcat_cli.queries import attribute as q

__all__ = ["X_CHOICES", "Y_CHOICES", "SORT_CHOICES", "Request", "Result", "attribute"]


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
        from redcat_cli.analysis.store_level import KIND_NAMES

        _, sales = q.store_sources(con)
        warnings.append(
            "The store holds no 种草星河 rows: outcomes (visits, orders, GMV) are empty."
            + (
                f" You have {KIND_NAMES[sales]}: `redcat attribute --by day` compares daily "
                "spend with daily sales at the store level."
                if sales and req.by != "day"
                else ""
            )
        )
    if req.by == "day" and flow_type is None:
        from redcat_cli.analysis.store_level import store_level

        level = store_level(con, req)
        if level is not None:
            return level
    # key fields, sums and side flags; rates only for the rows shown (finish_row)
    rows = q.funnel_sums(con, req.by, scope)
    if not rows:
        raise _nothing_matches(con)
    tot = totals(rows)
    unmatched, uwarn = _unmatched(con, scope, req.by, rows)
    warnings.extend(uwarn)
    corrs, scan, cwarn, points = correlations(rows, req)
    warnings.extend(cwarn)
    up = None
    if req.baseline is not None:
        up, uwarn = uplift(con, scope, req)
        warnings.extend(uwarn)
    ordered = [finish_row(req.by, r) for r in sort_rows(rows, req.by, default_sort(req))]
    return Result(
        request=req,
        flow_type=flow_type,
        window_days=window,
        rows=ordered[: req.top] if req.top else ordered,
        n_rows=len(rows),
        totals=tot,
        correlations=corrs,
        lag_scan=scan,
        unmatched=unmatched,
        uplift=up,
        warnings=warnings,
        points=points,
        findings=findings(req, ordered, tot, corrs, scan, up),
    )


def _nothing_matches(con: Any) -> QueryError:
    """The error when no fact matches: the filters, or (an empty store of 聚光 and 种草星河)
    what the exports the store does hold can do."""
    from redcat_cli.analysis.store_level import KIND_NAMES, q_has

    if any(
        con.execute(f"SELECT count(*) > 0 FROM {q.relation(k)}").fetchall()[0][0]
        for k in ("juguang", "xinghe")
    ):
        return QueryError(
            "No 聚光 or 种草星河 facts match these filters.",
            hint="Check --from/--to, --note and --plan against `redcat status`.",
        )
    spend, sales = q.store_sources(con)
    have = [k for k in (spend, sales) if k]
    if not have:
        hint = "ingest them first: redcat ingest 聚光笔记日报.csv 种草星河明细.csv (see `redcat status`)"
    else:
        hint = f"you have {' and '.join(KIND_NAMES[k] for k in have)}: " + (
            "`redcat attribute --by day` compares daily spend with daily sales at the store level"
            if spend and sales
            else "ingest the other side too (see `redcat status`)"
        )
        if sales == "sycm" or q_has(con, "sycm"):
            hint += "; `redcat lift` measures the seeded products against the others"
    return QueryError(
        "The store holds no 聚光 note report and no 种草星河 content export.", hint=hint
    )


def _unmatched(
    con: Any, scope: q.Scope, by: str, rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[str]]:
    """Notes in both sources (a count) and on one side only (ids), always per note."""
    if by == "note":
        only_j = sorted(r["note_id"] for r in rows if r["in_juguang"] and not r["in_xinghe"])
        only_x = sorted(r["note_id"] for r in rows if r["in_xinghe"] and not r["in_juguang"])
        matched = sum(1 for r in rows if r["in_juguang"] and r["in_xinghe"])
    else:
        only_j, only_x, matched = q.note_sides(con, scope)
    warnings = []
    if only_j or only_x:
        warnings.append(
            f"{len(only_j)} notes appear only in 聚光 and {len(only_x)} only in 种草星河 "
            "(listed under unmatched); the totals include them."
        )
    return {
        "matched": matched,
        "juguang_only": {"count": len(only_j), "note_ids": only_j},
        "xinghe_only": {"count": len(only_x), "note_ids": only_x},
    }, warnings


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
