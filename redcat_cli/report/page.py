"""The one-page HTML report: attribution and settlement of a campaign, in one file.

``gather`` reads the store (and the contracts, if any) into a ``Report`` of plain data;
``figures`` draws its charts with matplotlib; ``render_html`` turns both into one
self-contained HTML page: no CDN, no web fonts, no scripts, every chart inline as an SVG data
URI. Text (Chinese note titles included) is HTML text, so it renders with the reader's fonts;
the charts are labelled with note ids and English only, because the fonts matplotlib is sure
to have hold no CJK glyphs.

The page is deterministic: the same store, contracts and request give the same bytes. The
only date on it is the as-of date passed in; the bootstrap of the uplift is seeded.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from redcat_cli import __version__
from redcat_cli.analysis.attribute import slice_label
from redcat_cli.errors import UsageError

CENT = Decimal("0.01")
MAX_LAG = 7
CHART_NAMES = ("daily", "scatter", "lag", "roi_by_note")


@dataclass(frozen=True)
class ReportRequest:
    """What to report on. ``baseline``/``compare`` default to the halves of the date range."""

    store: str
    contracts: tuple[str, ...] = ()
    as_of: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    flow_type: str | None = None
    window_days: int | None = None
    baseline: tuple[dt.date, dt.date] | None = None
    compare: tuple[dt.date, dt.date] | None = None
    max_lag: int = MAX_LAG
    seed: int = 0
    n_boot: int = 2000
    merchant: str | None = None
    lift: Any = None  # lift.Request: the seeded products and start, for the lift section


@dataclass
class Report:
    request: ReportRequest
    as_of: dt.date
    by_note: Any  # attribute.Result, by note, with the uplift
    by_day: Any  # attribute.Result, by day, with the lag scan
    periods: tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None
    periods_given: bool  # False: the halves of the date range
    span: tuple[dt.date | None, dt.date | None]
    statements: list[Any] = field(default_factory=list)  # settle.Statement
    contract_files: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256)
    ingest_log: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lift: dict[str, Any] | None = None  # lift's document, when asked for
    version: str = __version__


# --- gather ------------------------------------------------------------------------------


def halves(
    first: dt.date, last: dt.date
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    """The first and second half of [first, last]; the first half is the shorter for odd spans."""
    days = (last - first).days + 1
    if days < 2:
        return None
    head = days // 2
    mid = first + dt.timedelta(days=head)
    return (first, mid - dt.timedelta(days=1)), (mid, last)


def _ingest_log(con: Any) -> list[dict[str, Any]]:
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "ingest_log" not in tables:
        return []
    cur = con.execute(
        "SELECT id, name, path, source, sha256, rows_loaded, rows_updated, redcat_version "
        "FROM ingest_log ORDER BY id"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def gather(req: ReportRequest) -> Report:
    """Read everything the report shows: attribution by note and by day, uplift, statements."""
    from redcat_cli.analysis import attribute as attr
    from redcat_cli.queries import attribute as q
    from redcat_cli.queries import merchant_scope
    from redcat_cli.queries.settle import settle_on_store
    from redcat_cli.settle.contract import load_contracts
    from redcat_cli.store.db import open_store
    from redcat_cli.store.merchants import for_reading

    if (req.baseline is None) != (req.compare is None):
        raise UsageError("--baseline and --compare go together", hint="give both periods")
    if req.date_from and req.date_to and req.date_to < req.date_from:
        raise UsageError("--to is before --from")
    as_of = req.as_of or dt.date.today()
    contracts = load_contracts(req.contracts)
    contract_files = [(p, c.sha256) for p, c in zip(req.contracts, contracts, strict=True)]

    with (
        open_store(req.store, read_only=True) as store,
        merchant_scope(for_reading(store.con, req.merchant)),
    ):
        con = store.con
        q.check_tables(con)
        first, last = q.date_span(con)
        if first is not None and last is not None:
            first = max(first, req.date_from) if req.date_from else first
            last = min(last, req.date_to) if req.date_to else last
        warnings: list[str] = []
        periods = None
        given = req.baseline is not None
        if given:
            assert req.baseline is not None and req.compare is not None
            periods = (req.baseline, req.compare)
        elif first is not None and last is not None and first <= last:
            periods = halves(first, last)
        if periods is None:
            warnings.append("The data covers fewer than two days: no uplift between periods.")

        common: dict[str, Any] = {
            "flow_type": req.flow_type,
            "window_days": req.window_days,
            "date_from": req.date_from,
            "date_to": req.date_to,
            "seed": req.seed,
            "n_boot": req.n_boot,
        }
        by_note = attr.attribute(
            con,
            attr.Request(
                by="note",
                baseline=periods[0] if periods else None,
                compare=periods[1] if periods else None,
                **common,
            ),
        )
        by_day = attr.attribute(con, attr.Request(by="day", max_lag=req.max_lag, **common))
        for w in (*by_note.warnings, *by_day.warnings):
            if w not in warnings:
                warnings.append(w)

        statements = settle_on_store(con, contracts, as_of, merchant=req.merchant)
        log = _ingest_log(con)
        lift_doc = None
        if req.lift is not None:
            from redcat_cli.analysis import lift

            lift_res = lift.lift(con, req.lift)
            lift_doc = lift_res.doc
            for w in lift_res.warnings:
                if w not in warnings:
                    warnings.append(w)

    return Report(
        request=req,
        as_of=as_of,
        by_note=by_note,
        by_day=by_day,
        periods=periods,
        periods_given=given,
        span=(first, last),
        statements=statements,
        contract_files=contract_files,
        ingest_log=log,
        warnings=warnings,
        lift=lift_doc,
    )


# --- numbers as text -----------------------------------------------------------------------


def money(v: Any) -> str:
    if v is None:
        return "–"
    return f"{Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP):,}"


def money_value(v: Any) -> str:
    """Money as a plain two-place string (the JSON form), for data-value attributes."""
    return "" if v is None else str(Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP))


def count(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def rate(v: Any, places: int = 2) -> str:
    """A rate as a percentage."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v) * 100:.{places}f}%"


def num(v: Any, places: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v):,.{places}f}"


def change(new: Any, old: Any) -> float | None:
    if new is None or old is None or float(old) == 0:
        return None
    return float(new) / float(old) - 1.0


def signed_pct(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v * 100:+.1f}%"


def period_text(p: tuple[dt.date, dt.date]) -> str:
    return f"{p[0].isoformat()}..{p[1].isoformat()}"


def pearson(res: Any, lag: int = 0) -> dict[str, Any] | None:
    return next(
        (c for c in res.correlations if c["method"] == "pearson" and c["lag_days"] == lag), None
    )


# --- charts --------------------------------------------------------------------------------


@dataclass
class Chart:
    name: str  # file stem: scatter, lag, roi_by_note
    alt: str  # what the chart shows, in words
    svg: bytes
    png: bytes


def _daily(ax: Any, rep: Report) -> str:
    """Spend and GMV per day; the baseline and compare periods shaded."""
    import matplotlib.dates as mdates

    rows = [r for r in rep.by_day.rows if r["date"] is not None]
    if not rows or all(r["spend"] is None and r["gmv"] is None for r in rows):
        ax.text(0.5, 0.5, "no spend or GMV by day", ha="center")
        ax.set_axis_off()
        return "No daily spend or GMV."
    days = [r["date"] for r in rows]
    spend = [float(r["spend"]) if r["spend"] is not None else math.nan for r in rows]
    gmv = [float(r["gmv"]) if r["gmv"] is not None else math.nan for r in rows]
    if rep.periods is not None:
        for (a, b), label, color in zip(
            rep.periods, ("baseline", "compare"), ("#edf2f7", "#e6f4ea"), strict=True
        ):
            ax.axvspan(
                mdates.date2num(a) - 0.5, mdates.date2num(b) + 0.5, color=color, zorder=0, lw=0
            )
            ax.text(
                mdates.date2num(a) - 0.4,
                1.0,
                label,
                transform=ax.get_xaxis_transform(),
                va="top",
                fontsize=8,
                color="#5a6577",
            )
    ax.bar(days, spend, width=0.7, color="#2b6cb0", alpha=0.85, label="聚光消费")
    ax.plot(days, gmv, color="#2f855a", linewidth=1.6, marker="o", ms=2.5, label="种草星河GMV")
    step = max(1, math.ceil(len(days) / 8))
    ax.set_xticks([mdates.date2num(d) for d in days[::step]])
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.set_xlim(mdates.date2num(days[0]) - 0.7, mdates.date2num(days[-1]) + 0.7)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.set_ylabel("元 / 天")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.92), fontsize=8, frameon=False)
    ax.set_title(f"聚光消费与种草星河GMV（按天）{days[0]} – {days[-1]}", fontsize=10)
    return f"Spend (bars) and GMV (line) per day from {days[0]} to {days[-1]}" + (
        f"; shaded: baseline {period_text(rep.periods[0])}, compare {period_text(rep.periods[1])}."
        if rep.periods
        else "."
    )


def _scatter(ax: Any, rep: Report) -> str:
    import numpy as np

    res = rep.by_note
    # the store returns notes in no fixed order: sort the points so the same data draws the
    # same bytes
    pairs = sorted(zip(map(float, res.points[0]), map(float, res.points[1]), strict=True))
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if not pairs:
        ax.text(0.5, 0.5, f"no notes with both {res.request.x} and {res.request.y}", ha="center")
        ax.set_axis_off()
        return f"No scatter: no notes have both {res.request.x} and {res.request.y}."
    ax.scatter(xs, ys, s=22, alpha=0.75, color="#2b6cb0", edgecolor="white", linewidth=0.5)
    if len(xs) >= 2 and np.ptp(np.asarray(xs)) > 0:
        slope, icept = np.polyfit(np.asarray(xs), np.asarray(ys), 1)
        gx = np.linspace(min(xs), max(xs), 200)
        gy = slope * gx + icept
        keep = gy >= 0  # counts cannot go below zero: the line stops where it would
        ax.plot(gx[keep], gy[keep], color="#2d3748", linewidth=1.4, label="最小二乘拟合")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    pear = pearson(res)
    if pear and pear["r"] is not None:
        ci = (
            f", 95% CI [{pear['ci_low']:.2f}, {pear['ci_high']:.2f}]"
            if pear["ci_low"] is not None
            else ""
        )
        title = f"Pearson r = {pear['r']:.3f}, n = {pear['n']} notes{ci}"
    else:
        title = f"r undefined, n = {len(xs)} notes"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"聚光{AXIS_NAMES.get(res.request.x, res.request.x)}")
    window = f"，{res.window_days}天归因" if res.window_days else ""
    ax.set_ylabel(f"种草星河{AXIS_NAMES.get(res.request.y, res.request.y)}{window}")
    return (
        f"Scatter of {res.request.x} against {res.request.y} per note with the fit line; {title}."
    )


def _lag(ax: Any, rep: Report) -> str:
    res = rep.by_day
    rows = sorted(
        (c for c in res.correlations if c["method"] == "pearson" and c["r"] is not None),
        key=lambda c: c["lag_days"],
    )
    scan = res.lag_scan or {}
    best = scan.get("best_lag")
    if not rows:
        ax.text(0.5, 0.5, "no days with both engagement and orders", ha="center", va="center")
        ax.set_axis_off()
        return "Lag chart: not enough days."
    lags = [c["lag_days"] for c in rows]
    rs = [c["r"] for c in rows]
    lo = [c["r"] - c["ci_low"] if c["ci_low"] is not None else 0.0 for c in rows]
    hi = [c["ci_high"] - c["r"] if c["ci_high"] is not None else 0.0 for c in rows]
    colors = ["#c53030" if lag == best else "#2b6cb0" for lag in lags]
    ax.bar(lags, rs, color=colors, width=0.6, alpha=0.85)
    ax.errorbar(lags, rs, yerr=[lo, hi], fmt="none", ecolor="#333333", capsize=3, linewidth=1)
    ax.axhline(0, color="#666666", linewidth=0.8)
    ax.set_xticks(lags)
    x_name = AXIS_NAMES.get(res.request.x, res.request.x)
    y_name = AXIS_NAMES.get(res.request.y, res.request.y)
    ax.set_xlabel(f"滞后天数：第 t + lag 天的{y_name} 对 第 t 天的{x_name}")
    ax.set_ylabel("Pearson r（95% CI）")
    if best is not None and scan.get("r") is not None:
        title = (
            f"Best lag {best} d: r = {scan['r']:.3f}, n = {scan['n']} days, "
            f"Bonferroni p = {scan['p_adjusted']:.2g}"
        )
        top = next((c["ci_high"] for c in rows if c["lag_days"] == best), None)
        ax.annotate(
            f"best lag {best}",
            (best, top if top is not None else scan["r"]),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=8,
            color="#c53030",
        )
    else:
        title = "No best lag (r undefined)"
    ax.set_title(title, fontsize=10)
    return f"Correlation by lag 0..{scan.get('max_lag', 0)} days with 95% intervals; {title}."


def _roi_bars(ax: Any, rep: Report) -> str:
    res = rep.by_note
    rows = [r for r in res.rows if r["roi"] is not None]
    rows.sort(key=lambda r: (-r["roi"], str(r["note_id"])))
    if not rows:
        ax.text(0.5, 0.5, "no note has an ROI (GMV or spend missing)", ha="center")
        ax.set_axis_off()
        return "No ROI by note: GMV or spend is missing for every note."
    labels = note_labels(rows)
    vals = [float(r["roi"]) for r in rows]
    ypos = list(range(len(rows)))
    target = _target_roi(rep)
    good = target if target is not None else 3.0
    # colour says good or bad: at or over the target green, under 1 (cost more than it sold)
    # red, in between grey
    colors = [GOOD if v >= good else (BAD if v < 1 else NEUTRAL) for v in vals]
    ax.barh(ypos, vals, color=colors, height=0.7)
    ax.set_yticks(ypos)
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.invert_yaxis()
    total = res.totals.get("roi")
    if total is not None:
        ax.axvline(total, color="#2b6cb0", linewidth=1.2, label=f"全部笔记合计 {total:.2f}")
    if target is not None:
        ax.axvline(
            target,
            color="#333333",
            linewidth=1.2,
            linestyle="--",
            label=f"合同目标 ROI {target:.2f}",
        )
    if total is not None or target is not None:
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_xlabel("ROI = 种草星河GMV / 聚光消费")
    ax.set_title(f"各笔记 ROI（{len(rows)} 篇有消费的笔记）", fontsize=10)
    for y, v in zip(ypos, vals, strict=True):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize=7)
    return f"ROI by note, {len(rows)} notes, highest first; all notes together {num(total)}."


GOOD, BAD, NEUTRAL = "#2f855a", "#c53030", "#a0aec0"
AXIS_NAMES = {
    "interactions": "互动量",
    "impressions": "展现量",
    "clicks": "点击量",
    "spend": "消费",
    "read_uv": "阅读UV",
    "interact_uv": "互动UV",
    "orders": "成交UV",
    "gmv": "GMV",
    "visits": "进店UV",
    "cart": "加购UV",
}


def note_labels(rows: Sequence[dict[str, Any]], cells: int = 22) -> list[str]:
    """Note titles cut to a display width, as the funnel table names them; titles that come
    out the same get the last four characters of their id."""
    from redcat_cli.cli.render import truncate

    cut = [truncate(str(r.get("note_title") or r["note_id"]), cells) for r in rows]
    out = []
    for r, c in zip(rows, cut, strict=True):
        if cut.count(c) > 1:
            title = str(r.get("note_title") or r["note_id"])
            c = truncate(title, cells - 6) + " #" + str(r["note_id"])[-4:]
        out.append(c)
    return out


def _target_roi(rep: Report) -> float | None:
    for st in rep.statements:
        for c in st.cycles:
            g = c.roi_guarantee
            if g is not None and g.target_roi is not None:
                return float(g.target_roi)
    return None


def figures(rep: Report) -> list[Chart]:
    """The charts, each as SVG (for the page) and PNG (for --png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_bars = sum(1 for r in rep.by_note.rows if r["roi"] is not None)
    specs = [
        ("daily", _daily, (7.0, 3.2)),
        ("scatter", _scatter, (7.0, 4.6)),
        ("lag", _lag, (7.0, 3.8)),
        ("roi_by_note", _roi_bars, (7.0, max(2.5, 0.8 + 0.22 * n_bars))),
    ]
    out = []
    style: dict[str, Any] = {
        "svg.hashsalt": "redcat",  # stable ids: the same report gives the same bytes
        # Chinese labels: a CJK font after DejaVu for the PNGs; in the SVG the text stays
        # text, drawn by the browser's fonts
        "font.family": [
            "DejaVu Sans",
            "WenQuanYi Micro Hei",
            "Noto Sans CJK SC",
            "Source Han Sans SC",
            "Microsoft YaHei",
            "PingFang SC",
            "SimHei",
        ],
        "svg.fonttype": "none",
        "axes.unicode_minus": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e2e2e2",
        "grid.linewidth": 0.6,
    }
    import logging
    import warnings

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    with plt.rc_context(style), warnings.catch_warnings():  # type: ignore[arg-type]
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        for name, draw, size in specs:
            fig, ax = plt.subplots(figsize=size, dpi=100)
            try:
                ax.set_axisbelow(True)
                alt = draw(ax, rep)
                if not ax.axison:  # nothing to draw: a one-line note, not a blank chart
                    fig.set_size_inches(size[0], 0.6)
                fig.tight_layout()
                svg, png = io.BytesIO(), io.BytesIO()
                fig.savefig(
                    svg, format="svg", metadata={"Date": None, "Creator": f"redcat {__version__}"}
                )
                fig.savefig(
                    png, format="png", dpi=150, metadata={"Software": f"redcat {__version__}"}
                )
            finally:
                plt.close(fig)
            out.append(Chart(name, alt, svg.getvalue(), png.getvalue()))
    return out


# --- HTML ----------------------------------------------------------------------------------


def e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


CSS = """
:root { --ink: #1a202c; --muted: #5a6577; --line: #d9dee6; --band: #f5f7fa; --accent: #2b6cb0;
  --bad: #c53030; --good: #2f855a; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p, li { max-width: 80ch; }
.sub { color: var(--muted); margin: 0 0 16px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
code, .id { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
.id { word-break: break-all; color: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; margin: 16px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; background: var(--band); }
.figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.figure .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; margin: 2px 0; }
.figure .delta { font-size: 12px; color: var(--muted); }
.good { color: var(--good); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
ul.verdicts { margin: 8px 0 12px; padding-left: 20px; }
ul.verdicts li { margin: 2px 0; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
#appendix-toggle { position: absolute; opacity: 0; width: 1px; height: 1px; }
label.appendix { display: inline-block; margin: 24px 0 8px; padding: 6px 12px; cursor: pointer;
  border: 1px solid var(--line); border-radius: 6px; background: var(--band); font-weight: 600; }
label.appendix::before { content: "▸ "; }
#appendix-toggle:checked + label.appendix::before { content: "▾ "; }
#appendix-toggle:not(:checked) ~ .appendix-body { display: none; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 12.5px; }
table.compact { width: auto; min-width: 60%; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 12px; padding-top: 6px; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
thead th { border-bottom: 2px solid var(--ink); font-weight: 600; }
tfoot td { border-top: 2px solid var(--ink); border-bottom: none; font-weight: 600; }
tbody tr:nth-child(even) { background: var(--band); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
td.note { min-width: 12em; }
td.working { color: var(--muted); overflow-wrap: anywhere; }
table.working { table-layout: fixed; }
table.working th:nth-child(1) { width: 30%; }
table.working th:nth-child(2) { width: 8.5em; }
td.path { overflow-wrap: anywhere; }
.chart { margin: 12px 0 4px; text-align: center; break-inside: avoid; }
.chart img { max-width: 100%; height: auto; display: inline-block; }
.chart p { margin: 4px auto 0; color: var(--muted); font-size: 12px; text-align: left; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.final { background: #e6f4ea; color: var(--good); }
.badge.provisional { background: #fdecea; color: var(--bad); }
ul.warnings li { color: var(--muted); font-size: 13px; }
dl.made { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 16px; font-size: 13px; }
dl.made dt { color: var(--muted); }
dl.made dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 960px) {
  main { padding: 20px 12px 36px; }
  table { font-size: 11px; }
  th, td { padding: 3px 3px; }
  td.note { min-width: 7em; }
  .id { font-size: 10px; }
  .figure .value { font-size: 20px; }
}
@media (max-width: 760px) { .figures { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media (max-width: 600px) {
  /* a phone: every table becomes a list of cards, a label before each value */
  table, tbody, tfoot, tr, td, caption { display: block; width: 100%; }
  table.compact { min-width: 0; }
  thead { display: none; }
  tr { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 12px;
    padding: 6px 0; border-bottom: 1px solid var(--line); }
  tbody tr:nth-child(even) { background: none; }
  td, tfoot td { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 6px;
    border: none; padding: 1px 0; min-width: 0; text-align: right; white-space: normal; }
  td.n { white-space: normal; }
  tfoot tr { border-top: 2px solid var(--ink); }
  td::before { content: attr(data-label); color: var(--muted); text-align: left; }
  td.note, td.path, td.working, td.wide { grid-column: 1 / -1; display: block; text-align: left; }
  td.note::before, td.path::before, td.working::before, td.wide::before { display: block; }
  td:empty { display: none; }
  table.working { table-layout: auto; }
  .figure .value { font-size: 18px; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  h2 { margin: 14px 0 6px; }
  .pair { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .chart img { max-height: 80mm; width: auto; }
  .pair .chart img { max-height: 62mm; }
  label.appendix, #appendix-toggle { display: none; }
  .appendix-body { display: block !important; break-before: page; }
  .statement table.cycles, ul.verdicts { break-inside: avoid; }
  h2, h3 { break-after: avoid-page; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  table { font-size: 9px; }
  th, td { padding: 2px 3px; }
  td.note { min-width: 7em; }
  .id { font-size: 8px; }
  tr, .figure, .chart { break-inside: avoid; }
  .figures { grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; }
  .figure { padding: 8px 10px; }
  .figure .value { font-size: 17px; }
}
"""


def _table(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[str]],
    *,
    footer: Sequence[str] | None = None,
    caption: str | None = None,
    cls: str = "",
) -> str:
    """An HTML table. ``columns`` are (header, css class); cells are HTML already escaped."""
    out = [f'<table class="{e(cls)}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append(
        "<thead><tr>" + "".join(f'<th class="{c}">{h}</th>' for h, c in columns) + "</tr></thead>"
    )
    # each cell names its column, for the card layout of a narrow screen
    labels = [e(re.sub(r"<[^>]*>|&shy;", "", h)) for h, _ in columns]
    out.append("<tbody>")
    for r in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="{c}" data-label="{lab}">{v}</td>'
                for (_, c), lab, v in zip(columns, labels, r, strict=True)
            )
            + "</tr>"
        )
    out.append("</tbody>")
    if footer is not None:
        out.append(
            "<tfoot><tr>"
            + "".join(
                f'<td class="{c}" data-label="{lab}">{v}</td>'
                for (_, c), lab, v in zip(columns, labels, footer, strict=True)
            )
            + "</tr></tfoot>"
        )
    out.append("</table>")
    return "\n".join(out)


def yuan(v: Any) -> str:
    return "–" if v is None else "¥" + money(v)


def _headline(rep: Report) -> str:
    t = rep.by_note.totals
    up = rep.by_note.uplift
    figs = [
        ("spend", "Spend (聚光)", yuan(t["spend"]), money_value(t["spend"]), "spend"),
        ("gmv", "GMV (种草星河)", yuan(t["gmv"]), money_value(t["gmv"]), "gmv"),
        ("roi", "ROI", num(t["roi"]), "" if t["roi"] is None else repr(float(t["roi"])), "roi"),
        (
            "orders",
            "Orders (成交UV)",
            count(t["orders"]),
            "" if t["orders"] is None else str(t["orders"]),
            "orders",
        ),
    ]
    cells = []
    for key, label, text, value, upkey in figs:
        delta = ""
        b = c = None
        if up is not None and rep.periods is not None:
            b, c = up["baseline"].get(upkey), up["compare"].get(upkey)
        if b is not None and c is not None:
            ch = change(c, b)
            # colour means good or bad, not up or down: more GMV, ROI or orders is good; more
            # spend is neither by itself
            cls = (
                "" if ch is None or ch == 0 or upkey == "spend" else (" good" if ch > 0 else " bad")
            )
            fmt = (
                (lambda v: num(v))
                if upkey == "roi"
                else ((lambda v: count(v)) if upkey == "orders" else (lambda v: money(v)))
            )
            delta = (
                f'<div class="delta"><span class="{cls.strip()}" data-change="{e(key)}">'
                f"{e(signed_pct(ch))}</span> {e(fmt(c))} vs {e(fmt(b))}</div>"
            )
        cells.append(
            f'<div class="figure" data-key="{e(key)}" data-value="{e(value)}">'
            f'<div class="label">{e(label)}</div><div class="value">{e(text)}</div>{delta}</div>'
        )
    note = ""
    if rep.periods is not None:
        b, c = rep.periods
        which = "" if rep.periods_given else " (the two halves of the date range)"
        note = (
            f'<p class="small muted">Changes: {e(period_text(c))} against the baseline '
            f"{e(period_text(b))}{e(which)}.</p>"
        )
    verdicts = "".join(f"<li>{e(v)}</li>" for v in rep.by_note.findings)
    verdicts += "".join(f"<li>{e(v)}</li>" for v in settlement_verdicts(rep))
    if rep.lift is not None:  # the lift's verdict here; its table in the appendix
        verdicts += f"<li>{e(rep.lift['verdict'])} (lift: table in the appendix)</li>"
    found = f'<ul class="verdicts">{verdicts}</ul>' if verdicts else ""
    return f'<div class="figures">{"".join(cells)}</div>{note}{found}'


def settlement_verdicts(rep: Report) -> list[str]:
    """One sentence per statement: did the guarantee pay, and is it final."""
    out = []
    for st in rep.statements:
        t = st.totals
        hit = sum(1 for c in st.cycles if c.roi_guarantee is not None and c.roi_guarantee.triggered)
        state = "final" if st.final else "provisional: it may still change"
        if hit:
            out.append(
                f"{st.contract_id}: the ROI guarantee triggered in {hit} of {len(st.cycles)} "
                f"cycles, ¥{t.roi_guarantee_payout:,.2f} back ({state})."
            )
        else:
            out.append(
                f"{st.contract_id}: the ROI guarantee did not trigger in any of the "
                f"{len(st.cycles)} cycles ({state})."
            )
    return out


def _funnel(rep: Report) -> str:
    res = rep.by_note
    cols = [
        ("#", "n"),
        ("note", "note"),
        ("spend", "n"),
        ("impres&shy;sions", "n"),
        ("CTR", "n"),
        ("inter&shy;actions", "n"),
        ("CPE", "n"),
        ("visits", "n"),
        ("orders", "n"),
        ("conv.", "n"),
        ("GMV", "n"),
        ("ROI", "n"),
    ]
    rows = []
    for i, r in enumerate(res.rows, 1):
        side = ""
        if not r["in_juguang"]:
            side = ' <span class="badge provisional">种草星河 only</span>'
        elif not r["in_xinghe"]:
            side = ' <span class="badge provisional">聚光 only</span>'
        title = e(r.get("note_title") or "")
        rows.append(
            [
                str(i),
                f'{title}{side}<br><span class="id">{e(r["note_id"])}</span>',
                e(money(r["spend"])),
                e(count(r["impressions"])),
                e(rate(r["ctr"])),
                e(count(r["interactions"])),
                e(money(r["cpe"])),
                e(count(r["visits"])),
                e(count(r["orders"])),
                e(rate(r["conversion_rate"])),
                e(money(r["gmv"])),
                e(num(r["roi"])),
            ]
        )
    t = res.totals
    footer = [
        "",
        f"all {res.n_rows} notes",
        e(money(t["spend"])),
        e(count(t["impressions"])),
        e(rate(t["ctr"])),
        e(count(t["interactions"])),
        e(money(t["cpe"])),
        e(count(t["visits"])),
        e(count(t["orders"])),
        e(rate(t["conversion_rate"])),
        e(money(t["gmv"])),
        e(num(t["roi"])),
    ]
    caption = (
        "Sorted by GMV. CTR = clicks / impressions; CPE = spend / interactions; conv. = orders / "
        "visits; ROI = GMV / spend. Every rate is a sum over a sum; – where the denominator is "
        f"zero or missing. Outcomes: {e(slice_label(res.flow_type, res.window_days))}."
    )
    return _table(cols, rows, footer=footer, caption=caption, cls="funnel")


def _img(chart: Chart) -> str:
    data = base64.b64encode(chart.svg).decode("ascii")
    return (
        f'<div class="chart"><img id="chart-{e(chart.name)}" src="data:image/svg+xml;base64,{data}" '
        f'alt="{e(chart.alt)}"></div>'
    )


def _correlation_text(rep: Report) -> str:
    rows = []
    for c in rep.by_note.correlations:
        rows.append(
            [
                e(c["method"]),
                e(num(c["r"], 3)),
                e("–" if c["ci_low"] is None else f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}]"),
                e("–" if c["p_value"] is None else f"{c['p_value']:.2g}"),
                e(count(c["n"])),
            ]
        )
    cols = [("method", ""), ("r", "n"), ("95% CI", "n"), ("p", "n"), ("n notes", "n")]
    x, y = rep.by_note.request.x, rep.by_note.request.y
    caption = f"Correlation of {e(x)} with {e(y)} across notes."
    return _table(cols, rows, caption=caption, cls="compact")


def _lag_text(rep: Report) -> str:
    scan = rep.by_day.lag_scan
    if not scan or scan.get("best_lag") is None:
        return '<p class="muted">No lag scan: too few days with both engagement and orders.</p>'
    best = scan["best_lag"]
    pear = pearson(rep.by_day, best) or {}
    n_eff = pear.get("n_effective")
    return (
        f"<p>Orders follow engagement most closely at a lag of <b>{e(best)} day(s)</b> "
        f"(Pearson r = {e(num(scan['r'], 3))}, n = {e(scan['n'])} days, p = "
        f"{e(format(scan['p_adjusted'], '.2g'))} after Bonferroni over {e(scan['max_lag'] + 1)} lags). "
        f"Daily series are autocorrelated: the effective sample size is about "
        f"{e(num(n_eff, 1))} days, so read the intervals as optimistic.</p>"
    )


def _uplift(rep: Report) -> str:
    up = rep.by_note.uplift
    if up is None or rep.periods is None:
        return '<p class="muted">No uplift: the data covers fewer than two days.</p>'
    b, c = up["baseline"], up["compare"]
    cols = [("", ""), ("baseline", "n"), ("compare", "n"), ("change", "n")]
    period_rows = [
        ["period", e(period_text(rep.periods[0])), e(period_text(rep.periods[1])), ""],
        [f"units ({e(up['resampled'])})", e(b["units"]), e(c["units"]), ""],
        [
            "spend",
            e(money(b["spend"])),
            e(money(c["spend"])),
            e(signed_pct(change(c["spend"], b["spend"]))),
        ],
        ["GMV", e(money(b["gmv"])), e(money(c["gmv"])), e(signed_pct(change(c["gmv"], b["gmv"])))],
        [
            "orders",
            e(count(b["orders"])),
            e(count(c["orders"])),
            e(signed_pct(change(c["orders"], b["orders"]))),
        ],
    ]
    first = _table(cols, period_rows, cls="compact")
    labels = {
        "roi": "ROI (GMV / spend)",
        "ctr": "CTR (clicks / impressions)",
        "interaction_rate": "interaction rate (interact UV / read UV)",
        "visit_rate": "visit rate (visits / read UV)",
        "cart_rate": "cart rate (cart / visits)",
    }
    rows = []
    for m in up["metrics"]:
        is_roi = m["metric"] == "roi"
        fmt = (lambda v: num(v, 3)) if is_roi else (lambda v: rate(v))
        ci = (
            "–"
            if m["ci_low"] is None
            else f"[{signed_pct(m['ci_low'])}, {signed_pct(m['ci_high'])}]"
        )
        rows.append(
            [
                e(labels.get(m["metric"], m["metric"])),
                e(fmt(m["baseline"])),
                e(fmt(m["compare"])),
                f'<span data-uplift="{e(m["metric"])}">{e(signed_pct(m["uplift"]))}</span>',
                e(ci),
            ]
        )
    rp = up.get("repurchase")
    if rp:
        rows.append(
            [
                "repurchase rate (千牛 buyers with 2+ paid orders in the period)",
                e(rate(rp["baseline"])),
                e(rate(rp["compare"])),
                e(signed_pct(rp["uplift"])),
                "–",
            ]
        )
    cols2 = [("metric", ""), ("baseline", "n"), ("compare", "n"), ("uplift", "n"), ("95% CI", "n")]
    caption = (
        f"Uplift = compare / baseline − 1. Intervals: bootstrap over {e(up['resampled'])} "
        + ("(paired across the periods)" if up.get("paired") else "(in blocks of days)")
        + f", {e(up['bootstrap'])} resamples, seed {e(up['seed'])}, Student's t on the log scale."
    )
    which = (
        ""
        if rep.periods_given
        else '<p class="small muted">No baseline was given: the baseline is the first half of '
        "the date range and the compare period the second half.</p>"
    )
    return which + first + _table(cols2, rows, caption=caption, cls="compact")


def _lift(doc: dict[str, Any]) -> str:
    """What the seeding added: the verdict, then effect, placebo and naive in one table."""
    ef, pl = doc["effect"], doc["placebo"]

    def ci(lo: float, hi: float) -> str:
        return f"[{signed_pct(lo)}, {signed_pct(hi)}]"

    rows = [
        [
            "effect of the seeding",
            f'<span data-lift="effect">{e(signed_pct(ef["relative"]))}</span>',
            e(ci(ef["relative_ci_low"], ef["relative_ci_high"])),
            e(money(ef["incremental"])),
        ],
        [
            f"placebo (a fake start on {e(pl['start'])})",
            e(signed_pct(pl["relative"])),
            e(ci(pl["relative_ci_low"], pl["relative_ci_high"])),
            "–",
        ],
        ["naive before/after", e(signed_pct(doc["naive"]["relative"])), "–", "–"],
    ]
    cols = [("", ""), ("relative", "n"), ("95% CI", "n"), ("incremental sales", "n")]
    caption = (
        f"{len(doc['treated'])} seeded products against {doc['controls']} unseeded ones in "
        f"{doc['outcome']}, pre {doc['pre']['from']}..{doc['pre']['to']}, post "
        f"{doc['post']['from']}..{doc['post']['to']}: {doc['method']}. Day effects absorb what "
        "lifted every product (618); the placebo and the pre-trend test the parallel-trends "
        "assumption."
    )
    return f'<p class="verdict"><strong>{e(doc["verdict"])}</strong></p>' + _table(
        cols, rows, caption=e(caption), cls="compact"
    )


def _statement(st: Any) -> tuple[str, str]:
    """The statement's summary for the page, and its working for the appendix."""
    status = "final" if st.final else "provisional"
    first, last = st.cycles[0].start, st.cycles[-1].end
    head = (
        f'<h3 data-contract="{e(st.contract_id)}">{e(st.contract_id)} · {e(st.merchant)} · '
        f"{e(first)}..{e(last)} · {e(st.currency)} "
        f'<span class="badge {status}">{e(status.upper())} as of {e(st.as_of)}</span></h3>'
        f'<p class="small muted">{e(st.final_reason)}.</p>'
    )
    cols = [
        ("cycle", ""),
        ("spend", "n"),
        ("GMV", "n"),
        ("ROI", "n"),
        ("guarantee payout", "n"),
        ("matched investment", "n"),
        ("net ad cost", "n"),
    ]
    rows = [
        [
            e(f"{c.start}..{c.end}"),
            e(money(c.spend)),
            e(money(c.gmv)),
            e(c.roi_text or "–"),
            e(money(c.payout)),
            e(money(c.matched)),
            e(money(c.net_ad_cost)),
        ]
        for c in st.cycles
    ]
    t = st.totals
    footer = [
        "total",
        e(money(t.spend)),
        e(money(t.gmv)),
        "",
        f'<span data-key="roi_guarantee_payout" data-value="{e(money_value(t.roi_guarantee_payout))}">'
        f"{e(money(t.roi_guarantee_payout))}</span>",
        f'<span data-key="matched_investment" data-value="{e(money_value(t.matched_investment))}">'
        f"{e(money(t.matched_investment))}</span>",
        f'<span data-key="net_ad_cost" data-value="{e(money_value(t.net_ad_cost))}">'
        f"{e(money(t.net_ad_cost))}</span>",
    ]
    caption = (
        "Net ad cost = spend − guarantee payout; the matched investment is media the platform adds, "
        f"not netted. Rounding {e(st.rounding.replace('_', '-'))} to 0.01, once per line; totals "
        "are sums of the lines."
    )
    from redcat_cli.report.projection import projection_html, projection_line

    summary = head + _table(cols, rows, footer=footer, caption=caption, cls="cycles")
    summary += projection_line(st)
    parts = [f"<h3>{e(st.contract_id)}: each cycle's working</h3>", projection_html(st)]
    for i, c in enumerate(st.cycles, 1):
        lines: list[list[str]] = [
            ["spend (聚光 消费)", e(money(c.spend)), "sum over the cycle's days"],
            [
                e(f"GMV ({st.gmv_basis})" if st.gmv_basis else "GMV"),
                e(money(c.gmv)),
                "sum over the cycle's days" if c.gmv is not None else "no GMV reported",
            ],
            ["orders", e(count(c.orders)), ""],
            ["ROI", e(c.roi_text or "–"), "GMV / spend" if c.roi_text else "undefined"],
        ]
        g = c.roi_guarantee
        if g is not None:
            lines += [
                ["target ROI", e(g.target_roi or "–"), ""],
                ["guarantee eligible", "yes" if g.eligible else "no", ""],
                [
                    "guarantee triggered",
                    "–" if g.triggered is None else ("yes" if g.triggered else "no"),
                    e(g.reason),
                ],
                ["guarantee before cap", e(money(g.amount_before_cap)), ""],
                [
                    "guarantee payout",
                    e(money(g.payout)),
                    e((f"capped by {g.cap_applied}; " if g.cap_applied else "") + g.working),
                ],
            ]
        m = c.matched_investment
        if m is not None:
            lines.append(
                [
                    "matched investment",
                    e(money(m.amount)),
                    e(f"{m.reason}: {m.working}" if m.working else m.reason),
                ]
            )
        lines.append(["net ad cost", e(money(c.net_ad_cost)), e(f"{c.spend} − {c.payout}")])
        parts.append(f"<h4>Cycle {i} of {len(st.cycles)}: {e(c.start)}..{e(c.end)}</h4>")
        parts.append(
            _table([("line", ""), ("amount", "n"), ("working", "working")], lines, cls="working")
        )
    inputs = "".join(
        f'<li><span class="path">{e(x.path)}</span> <span class="id">sha256 {e(x.sha256)}</span></li>'
        for x in sorted(st.inputs, key=lambda x: (x.path, x.sha256))
    )
    parts.append(
        f'<p class="small muted">Contract sha256 <span class="id">{e(st.contract_sha256)}</span>; '
        f'settled by redcat {e(st.redcat_version)} from:</p><ul class="small">{inputs}</ul>'
    )
    return (
        '<section class="statement">' + summary + "</section>",
        '<section class="working">' + "\n".join(parts) + "</section>",
    )


def _made(rep: Report) -> str:
    req = rep.request
    res = rep.by_note
    first, last = rep.span
    items = [
        ("redcat", e(rep.version)),
        ("store", f"<code>{e(req.store)}</code>"),
        ("as of", e(rep.as_of)),
        ("dates", e(f"{req.date_from or first or '–'}..{req.date_to or last or '–'}")),
        (
            "种草星河 slice",
            e(slice_label(res.flow_type, res.window_days)),
        ),
        (
            "uplift periods",
            e(
                f"baseline {period_text(rep.periods[0])}, compare {period_text(rep.periods[1])}"
                + ("" if rep.periods_given else " (halves of the date range)")
            )
            if rep.periods
            else "none",
        ),
        ("bootstrap", e(f"{req.n_boot} resamples over days, seed {req.seed}")),
        (
            "correlation",
            e(f"{res.request.x} against {res.request.y}; lag scan by day 0..{req.max_lag}"),
        ),
    ]
    for path, sha in rep.contract_files:
        items.append(
            ("contract", f'<code>{e(path)}</code> <span class="id">sha256 {e(sha)}</span>')
        )
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
    cols = [
        ("#", "n"),
        ("file", "path"),
        ("kind", ""),
        ("rows new", "n"),
        ("rows updated", "n"),
        ("sha256", "path"),
    ]
    rows = [
        [
            e(r["id"]),
            f'{e(r["name"])}<br><span class="id">{e(r["path"])}</span>',
            e(r["source"]),
            e(count(r["rows_loaded"])),
            e(count(r["rows_updated"])),
            f'<span class="id">{e(r["sha256"])}</span>',
        ]
        for r in rep.ingest_log
    ]
    log = _table(cols, rows, caption="Every file ingested into the store, in order (ingest_log).")
    return f'<dl class="made">{dl}</dl>{log}'


def render_html(rep: Report, charts: Sequence[Chart]) -> str:
    """The page. Every piece of text is escaped; nothing is fetched when it is opened."""
    by_name = {c.name: c for c in charts}
    first, last = rep.span
    title = "redcat campaign report"
    period = f"{first}..{last}" if first and last else "no dates"
    merchant = ", ".join(sorted({st.merchant for st in rep.statements}))
    sub = " · ".join(x for x in (merchant, period, f"as of {rep.as_of}") if x)
    warn = "".join(f"<li>{e(w)}</li>" for w in rep.warnings)
    res = rep.by_note
    unmatched = res.unmatched
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="redcat {e(rep.version)}">',
        f"<title>{e(title)} · {e(period)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{e(title)}</h1>",
        f'<p class="sub">{e(sub)}</p>',
        '<section id="headline"><h2>Headline</h2>',
        _headline(rep),
        _img(by_name["daily"]),
        "</section>",
        '<section id="roi"><h2>ROI by note</h2>',
        _img(by_name["roi_by_note"]),
        "</section>",
        '<section id="engagement"><h2>Engagement and orders</h2>',
        f"<p>Each point is a note: its {e(res.request.x)} in 聚光 against its {e(res.request.y)} on "
        f"Taobao as 种草星河 attributes them; the line is the least-squares fit. The bars on the "
        f"right: how well orders follow engagement one day, two days … later.</p>",
        '<div class="pair">',
        _img(by_name["scatter"]),
        _img(by_name["lag"]),
        "</div>",
        _correlation_text(rep),
        _lag_text(rep),
        "</section>",
        '<section id="uplift"><h2>Uplift between periods</h2>',
        _uplift(rep),
        "</section>",
    ]
    statements = [_statement(st) for st in rep.statements]
    if statements:
        parts.append('<section id="settlement"><h2>Settlement</h2>')
        parts.extend(summary for summary, _ in statements)
        parts.append("</section>")
    if warn:
        parts.append(
            f'<section id="warnings"><h2>Read with care</h2><ul class="warnings">{warn}</ul></section>'
        )
    # the appendix: collapsed on screen (no script: a checkbox and CSS), after a page break
    # in print
    parts += [
        '<input type="checkbox" id="appendix-toggle">',
        '<label class="appendix" for="appendix-toggle">Appendix: the funnel by note, '
        + ("the lift, " if rep.lift is not None else "")
        + "each cycle's working, how it was made</label>",
        '<div class="appendix-body" id="appendix">',
        "<h2>Appendix</h2>",
        '<section id="funnel"><h2>Funnel by note</h2>',
        _funnel(rep),
        f'<p class="small muted">{e(unmatched["matched"])} notes are in both 聚光 and 种草星河; '
        f"{e(unmatched['juguang_only']['count'])} only in 聚光, "
        f"{e(unmatched['xinghe_only']['count'])} only in 种草星河.</p>",
        "</section>",
    ]
    if rep.lift is not None:
        parts += [
            '<section id="lift"><h2>What the seeding added (against unseeded products)</h2>',
            _lift(rep.lift),
            "</section>",
        ]
    if statements:
        parts.append('<section id="working"><h2>Settlement working</h2>')
        parts.extend(working for _, working in statements)
        parts.append("</section>")
    parts += [
        '<section id="made"><h2>How it was made</h2>',
        _made(rep),
        "</section>",
        "</div>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def write_report(rep: Report, out: str | Path, png_dir: str | Path | None = None) -> list[Path]:
    """Write the page (and the charts as PNG files), atomically; return the paths written."""
    from redcat_cli.files import atomic_write_bytes, atomic_write_text

    charts = figures(rep)
    written = [atomic_write_text(out, render_html(rep, charts))]
    if png_dir is not None:
        folder = Path(png_dir)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--png {folder} is a file, not a folder", hint="give a folder name")
        for c in charts:
            written.append(atomic_write_bytes(folder / f"{c.name}.png", c.png))
    return written
