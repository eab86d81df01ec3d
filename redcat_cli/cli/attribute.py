"""``redcat attribute``: parse options, call ``redcat_cli.analysis.attribute``, render the result.

Nothing heavy is imported at module level: pandas, numpy, duckdb and matplotlib load only
when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

from redcat_cli.analysis.metrics import SORT_CHOICES, X_CHOICES, Y_CHOICES  # noqa: E402,F401
from redcat_cli.cli.options import (
    READ_MERCHANT,
    calendar_option,
    choice_option,
    count_option,
    date_range_options,
    engine_options,
    file_option,
    format_options,
    period_option,
    resolve_format,
    seed_option,
    slice_options,
    split_ids,
    store_option,
    store_path,
)

# the funnel for people, in one table: (field, header, side). Core columns first; the others
# are left out, last first, when the terminal is too narrow (never cut).
FUNNEL_COLUMNS = (
    ("spend", "spend", "聚光"),
    ("gmv", "GMV", "种草星河"),
    ("roi", "ROI", ""),
    ("orders", "orders", "种草星河"),
    ("interactions", "interact.", "聚光"),
    ("impressions", "impr.", "聚光"),
    ("ctr", "CTR", "聚光"),
    ("cpe", "CPE", "聚光"),
    ("visits", "visits", "种草星河"),
    ("conversion_rate", "conv.", "种草星河"),
    ("clicks", "clicks", "聚光"),
    ("cpc", "CPC", "聚光"),
    ("read_uv", "read UV", "种草星河"),
    ("visit_rate", "进店率", "种草星河"),
    ("cart", "cart", "种草星河"),
    ("cart_rate", "加购率", "种草星河"),
    ("cpuv", "CPUV", ""),
    ("uv_value", "UV value", ""),
)
CORE = 5  # title/key, spend, GMV, ROI, orders, interactions always stay
TITLE_CELLS = 20  # a note title is cut to this display width (--ids adds the id)
TABLE_TOP = 30  # rows shown in a table unless --top says otherwise
PERCENT_FIELDS = {"ctr", "visit_rate", "cart_rate", "interaction_rate", "conversion_rate"}


def _pct(v: Any) -> Any:
    from redcat_cli.cli.render import percent

    return percent(v)


def _num(v: Any, places: int = 3) -> Any:
    return None if v is None else f"{v:.{places}f}"


def _key_columns(by: str) -> list[tuple[str, str]]:
    return {
        "note": [("note_id", "note"), ("note_title", "title")],
        "day": [("date", "date")],
        "plan": [("plan_id", "plan"), ("plan_name", "name")],
    }[by]


def _cell(field: str, value: Any) -> Any:
    return _pct(value) if field in PERCENT_FIELDS else value


def _roi_cell(v: Any) -> Any:
    from redcat_cli.cli.render import Styled

    if v is None:
        return None
    text = f"{v:.2f}"
    return Styled(text, "bad") if v < 1 else (Styled(text, "good") if v >= 3 else text)


def _titles(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Note titles cut to TITLE_CELLS; titles that come out the same get their id's last
    four characters, so every row can be told apart (--ids shows the whole id)."""
    from redcat_cli.cells import truncate

    cut = {
        r["note_id"]: truncate(str(r.get("note_title") or r["note_id"]), TITLE_CELLS) for r in rows
    }
    seen: dict[str, int] = {}
    for v in cut.values():
        seen[v] = seen.get(v, 0) + 1
    for r in rows:
        nid = r["note_id"]
        if seen[cut[nid]] > 1:
            title = str(r.get("note_title") or nid)
            cut[nid] = truncate(title, TITLE_CELLS - 6) + " #" + str(nid)[-4:]
    return cut


def _tables(res: Any, ids: bool = False) -> list[Any]:
    """One table: a row per note (day, plan) with the 聚光 and Taobao columns side by side,
    then the correlations and the uplift as lines under it."""
    from redcat_cli.analysis.attribute import slice_label
    from redcat_cli.cli.render import Table

    req = res.request
    shown = (
        f"top {len(res.rows)} of {res.n_rows}" if len(res.rows) < res.n_rows else f"{res.n_rows}"
    )
    key_head = {"note": "note", "day": "date", "plan": "plan"}[req.by]
    cols = [key_head] + (["id"] if ids and req.by != "day" else [])
    cols += [h for _, h, _ in FUNNEL_COLUMNS]
    footer = [f"all {res.n_rows}"] + [""] * (len(cols) - len(FUNNEL_COLUMNS) - 1)
    footer += [
        _roi_cell(res.totals[f]) if f == "roi" else _cell(f, res.totals[f])
        for f, _, _ in FUNNEL_COLUMNS
    ]
    lines = [_sources_line(res), *_correlation_lines(res)]
    if res.uplift is not None:
        lines.append(_uplift_line(res.uplift))
    for side, label in (("juguang_only", "only in 聚光"), ("xinghe_only", "only in 种草星河")):
        note_ids = res.unmatched[side]["note_ids"]
        if note_ids:
            extra = f" … (+{len(note_ids) - 8})" if len(note_ids) > 8 else ""
            lines.append(f"Notes {label}: {', '.join(note_ids[:8])}{extra}")
    optional = [h for _, h, _ in FUNNEL_COLUMNS[CORE:]][::-1]
    if ids and req.by != "day":
        optional.append("id")
    title = f"By {req.by} ({shown}, sorted by {res.sort}) · " + (
        "the whole store"
        if res.store_level is not None
        else slice_label(res.flow_type, res.window_days)
    )
    table = Table(
        title=title,
        columns=cols,
        rows=_funnel_rows(res, ids),
        footer=footer,
        caption="\n".join(lines),
        optional=optional,
        truncate={key_head: TITLE_CELLS} if req.by != "day" else {},
    )
    return [table]


def _funnel_rows(res: Any, ids: bool) -> list[list[Any]]:
    by = res.request.by
    labels = _titles(res.rows) if by == "note" else {}
    rows = []
    for r in res.rows:
        if by == "note":
            cells: list[Any] = [labels[r["note_id"]]] + ([r["note_id"]] if ids else [])
        elif by == "plan":
            cells = [r.get("plan_name") or r.get("plan_id") or "(no plan)"]
            cells += [r.get("plan_id")] if ids else []
        else:
            cells = [r["date"]]
        for f, _, _ in FUNNEL_COLUMNS:
            cells.append(_roi_cell(r[f]) if f == "roi" else _cell(f, r[f]))
        rows.append(cells)
    return rows


def _sources_line(res: Any) -> str:
    """Where each column comes from, and how rates and totals are made."""
    more = " (--top N or --format csv for more)" if len(res.rows) < res.n_rows else ""
    sources = (
        "spend, interact., impr., CTR, CPE, clicks, CPC: 聚光; GMV, orders (成交UV), visits, "
        "conv., read UV, cart: 种草星河."
    )
    if res.store_level is not None:
        from redcat_cli.analysis.store_level import KIND_NAMES

        lv = res.store_level
        sources = (
            f"Store level (no 种草星河): spend and engagement from {KIND_NAMES[lv['spend']]}, "
            f"GMV and orders from {KIND_NAMES[lv['sales']]}."
        )
    return (
        f"{sources} Rates are sums over sums; – where the denominator is "
        f"0 or unknown. Totals cover every row, shown or not{more}."
    )


def _correlation_lines(res: Any) -> list[str]:
    """Every method's same-day correlation with its partial on spend, the lags, the best lag."""
    from redcat_cli.cli.render import p_value

    req = res.request
    lines = []
    same_day = [c for c in res.correlations if not c.get("lag_days")]
    if same_day:
        parts = []
        for c in same_day:
            part = f"{c['method']} r {_num(c['r']) or '–'}"
            if c["ci_low"] is not None:
                part += f" [{c['ci_low']:.3f}, {c['ci_high']:.3f}]"
            part += f" p {p_value(c['p_value']) or '–'} n {c['n']}"
            pa = c.get("partial")
            if pa is not None:
                part += f"; partial on spend {_num(pa['r'])}"
                if pa["ci_low"] is not None:
                    part += f" [{pa['ci_low']:.3f}, {pa['ci_high']:.3f}]"
                part += f" p {p_value(pa['p_value'])}"
            if req.by == "day" and c.get("n_effective") is not None:
                p_eff = p_value(c.get("p_value_effective"))
                part += f" (n eff. {c['n_effective']:.1f}" + (f", p {p_eff})" if p_eff else ")")
            parts.append(part)
        lines.append(
            f"Correlation of {req.x} with {req.y} across {req.by}s (95% CI): " + " · ".join(parts)
        )
        from redcat_cli.analysis.correlation import _stories_differ

        if any(c["method"] == "pearson" and _stories_differ(c) for c in same_day):
            lines.append(
                "Note: the correlation and the partial correlation controlling for spend tell "
                "different stories (see the warning)."
            )
    lagged = [c for c in res.correlations if c.get("lag_days") and c["method"] == "pearson"]
    if lagged:
        lines.append(
            "Pearson r by lag (days): "
            + ", ".join(f"{c['lag_days']}: {_num(c['r'], 2) or '–'}" for c in lagged)
            + " (every method and interval: --json)."
        )
    if res.lag_scan is not None and res.lag_scan["best_lag"] is not None:
        s = res.lag_scan
        lines.append(
            f"Best lag: {s['best_lag']} days (Pearson r {s['r']:.3f}, p {p_value(s['p_value'])}; "
            f"Bonferroni-adjusted over {s['max_lag'] + 1} lags: p {p_value(s['p_adjusted'])})."
        )
    return lines


def _uplift_line(u: dict[str, Any]) -> str:
    from redcat_cli.cli.render import money

    b, c = u["baseline"], u["compare"]
    parts = []
    for m in u["metrics"]:
        fmt = _num if m["metric"] == "roi" else _pct
        ci = ""
        if m["ci_low"] is not None:
            high = "unbounded" if "high" in m.get("unbounded", ()) else _pct(m["ci_high"])
            ci = f" [{_pct(m['ci_low'])}, {high}]"
        parts.append(
            f"{m['metric']} {fmt(m['baseline']) or '–'} → {fmt(m['compare']) or '–'} "
            f"{_pct(m['uplift']) or '–'}{ci}"
        )
    if u["repurchase"] is not None:
        rp = u["repurchase"]
        parts.append(
            f"repurchase {_pct(rp['baseline'])} → {_pct(rp['compare'])} {_pct(rp['uplift'])}"
        )
    return (
        f"Uplift {b['from']}..{b['to']} → {c['from']}..{c['to']} (95% CI: "
        + (
            "notes paired across the periods, jackknife t on the log scale"
            if u.get("paired")
            else f"{u['bootstrap']} resamples of days in blocks of "
            f"{'/'.join(map(str, u['block_days'] or []))}, seed {u['seed']}, t on the log scale"
        )
        + "; spend "
        f"{money(b['spend'])} → {money(c['spend'])}): " + "; ".join(parts)
    )


def _csv_rows(res: Any) -> tuple[list[str], list[list[Any]]]:
    from redcat_cli.analysis.funnel import ROW_FIELDS

    keys = [f for f, _ in _key_columns(res.request.by)]
    cols = keys + list(ROW_FIELDS) + ["in_juguang", "in_xinghe"]
    return cols, [[r[c] for c in cols] for r in res.rows]


@click.command(
    "attribute",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@READ_MERCHANT
@store_option
@engine_options
@date_range_options
@click.option(
    "--note",
    "notes",
    multiple=True,
    metavar="ID",
    help="Only these notes (repeat, or comma-separated).",
)
@click.option(
    "--plan",
    "plans",
    multiple=True,
    metavar="ID",
    help="Only these 聚光 plans, by id or name (repeat, or comma-separated).",
)
@slice_options
@choice_option(
    "--by",
    ("note", "day", "plan"),
    default="note",
    help_text="One funnel row (and one correlation point) per note, day or plan.",
)
@choice_option(
    "--x", X_CHOICES, default="interactions", help_text="Engagement metric to correlate."
)
@choice_option(
    "--y", Y_CHOICES, default="orders", help_text="Taobao outcome to correlate (orders = 成交UV)."
)
@count_option(
    "--max-lag",
    default=0,
    minimum=0,
    help_text="With --by day: correlate the outcome 0..N days after the engagement.",
)
@period_option("--baseline", "Baseline period for the uplift, FROM..TO.")
@period_option("--compare", "Period compared with the baseline, FROM..TO.")
@choice_option(
    "--resample",
    ("days", "notes"),
    default="days",
    help_text="Bootstrap unit for the uplift intervals: days (in blocks), or notes (paired).",
)
@count_option(
    "--block-days",
    default=None,
    minimum=1,
    help_text="With --resample days: resample runs of N consecutive days (1 = single days) [default: chosen from the data's day-to-day correlation].",
)
@count_option(
    "--bootstrap", dest="n_boot", default=2000, minimum=100, help_text="Bootstrap resamples."
)
@seed_option("Seed of the bootstrap: the same seed gives the same intervals.")
@choice_option(
    "--sort",
    SORT_CHOICES,
    default=None,
    help_text="Sort the funnel, largest first [default: gmv; date order with --by day].",
)
@count_option(
    "--top",
    default=None,
    minimum=1,
    help_text=f"Show only the first N funnel rows; totals still cover all [default: {TABLE_TOP} in a table, all in json/csv].",
)
@file_option(
    "--plot",
    metavar="FILE.png",
    help_text="Draw x against y with the fit line; r, n and CI in the title.",
    to_write=True,
)
@click.option(
    "--ids", is_flag=True, default=False, help="Show each note's (plan's) id beside its title."
)
@calendar_option
@format_options
def attribute(
    merchant: str | None,
    store: str | None,
    engine: str,
    warehouse: str | None,
    spark_master: str | None,
    plot: str | None,
    ids: bool,
    fmt: str,
    as_json: bool,
    **params: Any,
) -> None:
    """Join note engagement (聚光) to Taobao outcomes (种草星河): funnel, correlation, ROI uplift.

    Each side is summed per note over the dates first, then joined on note id. 种草星河
    counts for one flow type and one attribution window only — never summed across them.

    \b
    Examples:
      redcat attribute                          # funnel per note, correlations
      redcat attribute --by day --max-lag 7     # how many days orders lag
      redcat attribute --x read_uv --y gmv --top 20 --sort roi
      redcat attribute --baseline 2025-05-01..2025-05-31 \\
                       --compare 2025-06-01..2025-06-30
      redcat attribute --json | jq '.correlations[0]'
      redcat attribute --format csv > funnel.csv
      redcat attribute --plot scatter.png
    """
    from redcat_cli.analysis.attribute import attribute as run
    from redcat_cli.analysis.attribute import to_document, write_plot
    from redcat_cli.cli import render
    from redcat_cli.engines import open_source
    from redcat_cli.queries import merchant_scope
    from redcat_cli.store.merchants import for_reading

    out = resolve_format(fmt, as_json)
    req = _request(params, out)
    with (
        open_source(
            store_path(store), engine=engine, warehouse=warehouse, master=spark_master
        ) as st,
        merchant_scope(for_reading(st.con, merchant)),
    ):
        res = run(st.con, req)

    for w in res.warnings:
        render.notice(f"warning: {w}")
    if plot:
        write_plot(plot, res)
        render.notice(f"wrote {plot}")

    if out == "json":
        render.emit_json(to_document(res))
    elif out == "jsonl":
        render.emit_jsonl(res.rows)
    elif out == "csv":
        cols, rows = _csv_rows(res)
        render.emit_csv(cols, rows)
    else:
        render.emit_sentences(res.findings)
        render.emit_tables(_tables(res, ids))


def _request(params: dict[str, Any], out: str) -> Any:
    """The library's request from the command's options (Request's fields by their names)."""
    from redcat_cli.analysis.attribute import Request

    p = dict(params)
    p["notes"] = tuple(split_ids(p["notes"]))
    p["plans"] = tuple(split_ids(p["plans"]))
    p["calendar"] = p.pop("calendar_file")
    if out == "table" and p["top"] is None:
        p["top"] = TABLE_TOP  # people read the first rows; scripts (json, csv) get them all
    return Request(**p)
