"""The report's charts, drawn with matplotlib and embedded as SVG."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redcat_cli import __version__
from redcat_cli.report.gather import Report
from redcat_cli.report.text import (
    num,
    pearson,
    period_text,
)

CHART_NAMES = ("daily", "scatter", "lag", "roi_by_note")


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
    from redcat_cli.cells import truncate

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
