"""``redcat attribute``: parse options, call ``redcat_cli.attribute``, render the result.

Nothing heavy is imported at module level: pandas, numpy, duckdb and matplotlib load only
when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

from redcat_cli.cli.options import (
    PERIOD,
    READ_MERCHANT,
    date_range_options,
    format_options,
    resolve_format,
    slice_options,
    store_option,
    store_path,
)
from redcat_cli.metrics import SORT_CHOICES, X_CHOICES, Y_CHOICES  # noqa: E402,F401

# funnel columns shown to people, in three tables that each fit 80 columns: (field, header)
HEAD_COLUMNS = (
    ("spend", "spend"),
    ("gmv", "GMV"),
    ("roi", "ROI"),
    ("orders", "orders"),
)
AD_COLUMNS = (
    ("impressions", "impr."),
    ("clicks", "clicks"),
    ("ctr", "CTR"),
    ("cpc", "CPC"),
    ("interactions", "interact."),
    ("cpe", "CPE"),
)
SHOP_COLUMNS = (
    ("read_uv", "read UV"),
    ("visits", "visits"),
    ("visit_rate", "进店率"),
    ("cart", "cart"),
    ("cart_rate", "加购率"),
    ("cpuv", "CPUV"),
    ("uv_value", "UV value"),
)
TABLE_TOP = 30  # rows shown in a table unless --top says otherwise
PERCENT_FIELDS = {"ctr", "visit_rate", "cart_rate", "interaction_rate", "conversion_rate"}


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


def _pct(v: Any) -> Any:
    return None if v is None else f"{v * 100:.2f}%"


def _num(v: Any, places: int = 3) -> Any:
    return None if v is None else f"{v:.{places}f}"


def _p(v: Any) -> Any:
    if v is None:
        return None
    return f"{v:.2e}" if v < 0.001 else f"{v:.4f}"


def _key_columns(by: str) -> list[tuple[str, str]]:
    return {
        "note": [("note_id", "note"), ("note_title", "title")],
        "day": [("date", "date")],
        "plan": [("plan_id", "plan"), ("plan_name", "name")],
    }[by]


def _cell(field: str, value: Any) -> Any:
    return _pct(value) if field in PERCENT_FIELDS else value


def _tables(res: Any) -> list[Any]:
    from redcat_cli.attribute import slice_label
    from redcat_cli.cli.render import Table, money

    req = res.request
    key_field, key_header = _key_columns(req.by)[0]
    shown = (
        f"top {len(res.rows)} of {res.n_rows}" if len(res.rows) < res.n_rows else f"{res.n_rows}"
    )
    more = " (--top N or --format csv for more)" if len(res.rows) < res.n_rows else ""
    # the first table names each row; the other two refer to it by its number (days by date)
    by_date = req.by == "day"
    parts = (
        (
            HEAD_COLUMNS,
            f"By {req.by} ({shown}, sorted by {res.sort}) · "
            f"{slice_label(res.flow_type, res.window_days)}",
            True,
        ),
        (AD_COLUMNS, f"聚光 funnel by {req.by}", by_date),
        (SHOP_COLUMNS, f"Taobao funnel by {req.by}", by_date),
    )
    tables = []
    for columns, title, named in parts:
        cols = (["#"] if not by_date else []) + ([key_header] if named else [])
        cols += [h for _, h in columns]
        rows = []
        for i, r in enumerate(res.rows, start=1):
            cells: list[Any] = [] if by_date else [i]
            if named:
                key = r[key_field]
                cells.append(key if key is not None else "(no plan)")
            rows.append(cells + [_cell(f, r[f]) for f, _ in columns])
        lead = len(cols) - len(columns)
        footer = ["total"] + [""] * (lead - 1) + [_cell(f, res.totals[f]) for f, _ in columns]
        tables.append(Table(title=title, columns=cols, rows=rows, footer=footer))
    tables[-1].caption = (
        "Rates are sums over sums; – where the denominator is 0 or unknown. "
        f"Totals cover every row, shown or not{more}."
    )

    corr_rows = []
    for c in res.correlations:
        ci = f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}]" if c["ci_low"] is not None else None
        row = [c["method"], c["lag_days"], _num(c["r"]), _p(c["p_value"]), ci, c["n"]]
        if req.by == "day":
            ne = c.get("n_effective")
            row += [None if ne is None else f"{ne:.1f}", _p(c.get("p_value_effective"))]
        corr_rows.append(row)
    ccols = ["method", "lag", "r", "p", "95% CI", "n"]
    if req.by == "day":
        ccols += ["n eff.", "p (n eff.)"]
    caption = (
        "CI: Fisher z (Pearson), with the Bonett–Wright variance (Spearman) and the "
        "Fieller–Hartley–Pearson variance (Kendall)."
    )
    if res.lag_scan is not None:
        s = res.lag_scan
        if s["best_lag"] is not None:
            caption += (
                f"\nBest lag: {s['best_lag']} days (Pearson r {s['r']:.3f}, p {_p(s['p_value'])}; "
                f"Bonferroni-adjusted over {s['max_lag'] + 1} lags: p {_p(s['p_adjusted'])})."
            )
    tables.append(
        Table(
            title=f"Correlation of {req.x} with {req.y}, across {req.by}s",
            columns=ccols,
            rows=corr_rows,
            caption=caption,
        )
    )

    if res.uplift is not None:
        u = res.uplift
        b, c = u["baseline"], u["compare"]
        urows = []
        for m in u["metrics"]:
            ci = f"[{_pct(m['ci_low'])}, {_pct(m['ci_high'])}]" if m["ci_low"] is not None else None
            fmt = _num if m["metric"] == "roi" else _pct
            urows.append(
                [m["metric"], fmt(m["baseline"]), fmt(m["compare"]), _pct(m["uplift"]), ci]
            )
        if u["repurchase"] is not None:
            rp = u["repurchase"]
            urows.append(
                ["repurchase", _pct(rp["baseline"]), _pct(rp["compare"]), _pct(rp["uplift"]), None]
            )
        tables.append(
            Table(
                title=f"Uplift: {b['from']}..{b['to']} → {c['from']}..{c['to']}",
                columns=["metric", "baseline", "compare", "uplift", "95% CI"],
                rows=urows,
                caption=(
                    f"Bootstrap: {u['bootstrap']} resamples of {u['resampled']} within each period "
                    f"(seed {u['seed']}), percentile interval. Spend {money(b['spend'])} → {money(c['spend'])}, "
                    f"GMV {money(b['gmv'])} → {money(c['gmv'])}."
                ),
            )
        )

    un = res.unmatched
    if un["juguang_only"]["count"] or un["xinghe_only"]["count"]:
        urows = []
        for side, label in (("juguang_only", "聚光 only"), ("xinghe_only", "种草星河 only")):
            ids = un[side]["note_ids"]
            more = f" … (+{len(ids) - 8})" if len(ids) > 8 else ""
            urows.append([label, un[side]["count"], ", ".join(ids[:8]) + more])
        tables.append(
            Table(
                title=f"Unmatched notes ({un['matched']} matched)",
                columns=["side", "notes", "note ids"],
                rows=urows,
            )
        )
    return tables


def _csv_rows(res: Any) -> tuple[list[str], list[list[Any]]]:
    from redcat_cli.attribute import ROW_FIELDS

    keys = [f for f, _ in _key_columns(res.request.by)]
    cols = keys + list(ROW_FIELDS) + ["in_juguang", "in_xinghe"]
    return cols, [[r[c] for c in cols] for r in res.rows]


@click.command(
    "attribute",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@READ_MERCHANT
@store_option
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
@click.option(
    "--by",
    type=click.Choice(("note", "day", "plan")),
    default="note",
    show_default=True,
    help="One funnel row (and one correlation point) per note, day or plan.",
)
@click.option(
    "--x",
    "x",
    type=click.Choice(X_CHOICES),
    default="interactions",
    show_default=True,
    help="Engagement metric to correlate.",
)
@click.option(
    "--y",
    "y",
    type=click.Choice(Y_CHOICES),
    default="orders",
    show_default=True,
    help="Taobao outcome to correlate (orders = 成交UV).",
)
@click.option(
    "--max-lag",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="With --by day: correlate the outcome 0..N days after the engagement.",
)
@click.option(
    "--baseline", type=PERIOD, default=None, help="Baseline period for the uplift, FROM..TO."
)
@click.option(
    "--compare", type=PERIOD, default=None, help="Period compared with the baseline, FROM..TO."
)
@click.option(
    "--resample",
    type=click.Choice(("days", "notes")),
    default="days",
    show_default=True,
    help="Bootstrap unit for the uplift intervals.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=100),
    default=2000,
    show_default=True,
    metavar="N",
    help="Bootstrap resamples.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the bootstrap: the same seed gives the same intervals.",
)
@click.option(
    "--sort",
    type=click.Choice(SORT_CHOICES),
    default=None,
    help="Sort the funnel, largest first [default: gmv; date order with --by day].",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help=f"Show only the first N funnel rows; totals still cover all [default: {TABLE_TOP} in a table, all in json/csv].",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="FILE.png",
    help="Draw x against y with the fit line; r, n and CI in the title.",
)
@format_options
def attribute(
    merchant: str | None,
    store: str | None,
    date_from: Any,
    date_to: Any,
    notes: tuple[str, ...],
    plans: tuple[str, ...],
    flow_type: str | None,
    window_days: int | None,
    by: str,
    x: str,
    y: str,
    max_lag: int,
    baseline: Any,
    compare: Any,
    resample: str,
    n_boot: int,
    seed: int,
    sort: str | None,
    top: int | None,
    plot: str | None,
    fmt: str,
    as_json: bool,
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
    from redcat_cli.attribute import Request, to_document, write_plot
    from redcat_cli.attribute import attribute as run
    from redcat_cli.cli import render
    from redcat_cli.merchants import for_reading
    from redcat_cli.queries import merchant_scope
    from redcat_cli.store import open_store

    out = resolve_format(fmt, as_json)
    if out == "table" and top is None:
        top = TABLE_TOP  # people read the first rows; scripts (json, csv) get them all
    req = Request(
        by=by,
        x=x,
        y=y,
        flow_type=flow_type,
        window_days=window_days,
        date_from=date_from,
        date_to=date_to,
        notes=_split(notes),
        plans=_split(plans),
        max_lag=max_lag,
        baseline=baseline,
        compare=compare,
        seed=seed,
        n_boot=n_boot,
        resample=resample,
        sort=sort,
        top=top,
    )
    with (
        open_store(store_path(store), read_only=True) as st,
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
        render.emit_tables(_tables(res))
