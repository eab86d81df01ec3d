"""`redcat status`: what the store holds."""

from __future__ import annotations

from typing import Any

import click

from redcat_cli.cli.options import (
    engine_options,
    format_options,
    merchant_option,
    resolve_format,
    store_option,
    store_path,
)


@click.command()
@merchant_option("Show this merchant's rows only [default: every merchant].")
@store_option
@engine_options
@format_options
def status(
    merchant: str | None,
    store: str | None,
    engine: str,
    warehouse: str | None,
    spark_master: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """Show what the store holds per export kind: rows, dates, notes, spend, GMV, last ingest,
    the newest export date and the dates whose outcomes are still maturing; and rows per
    merchant when it holds several.

    种草星河 GMV is shown per flow type and attribution window: never add those up, the same
    sale is in several of them.

    \b
    Examples:
      redcat status
      redcat status --json | jq '.sources[] | {source, rows}'
    """
    from redcat_cli.cli.render import emit_csv, emit_json, emit_jsonl, emit_tables
    from redcat_cli.engines import open_source
    from redcat_cli.queries import merchant_scope
    from redcat_cli.queries.status import store_status
    from redcat_cli.settle.engine import days_text as date_ranges
    from redcat_cli.store.merchants import for_reading

    fmt = resolve_format(fmt, as_json)
    with open_source(
        store_path(store), engine=engine, warehouse=warehouse, master=spark_master
    ) as st:
        with merchant_scope(for_reading(st.con, merchant) if merchant is not None else None):
            data = store_status(st)
    if fmt == "json":
        emit_json(data)
        return
    if fmt == "jsonl":
        emit_jsonl(data["sources"])
        return
    cols = ["source", "rows", "from", "to", "spend", "GMV", "holds"]
    rows = []
    for s in data["sources"]:
        distinct = " ".join(
            f"{v:,} {k.removesuffix('_id')}s" for k, v in s.get("distinct", {}).items() if v
        )
        gmv = s.get("gmv")
        rows.append(
            [
                s["source"],
                s["rows"],
                s.get("date_min"),
                s.get("date_max"),
                s.get("spend"),
                None if isinstance(gmv, list) else gmv,
                distinct,
            ]
        )
    if fmt == "csv":
        emit_csv(
            [*cols, "newest_export", "maturing"],
            [
                [*r, s.get("newest_export"), _maturing(s, date_ranges)]
                for r, s in zip(rows, data["sources"], strict=True)
            ],
        )
        return
    emit_tables(_tables(data, rows, cols, merchant, date_ranges))


def _tables(
    data: dict[str, Any], rows: list[list[Any]], cols: list[str], merchant: str | None, dr: Any
) -> list[Any]:
    """For people: what the store holds, then its exports (newest, still maturing, what each
    feeds), then rows per merchant and 种草星河's GMV per slice when there are several."""
    from redcat_cli.cli.render import Table

    if not rows:
        return [Table(f"Store {data['store']}", cols, [], caption="empty: run redcat ingest FILE…")]
    last = max((s["last_ingest"] for s in data["sources"] if s.get("last_ingest")), default=None)
    caption = (
        f"{data['ingests']} files ingested, the last at {last:%Y-%m-%d %H:%M}" if last else None
    )
    title = f"Store {data['store']}" + (f" · merchant {merchant}" if merchant else "")
    # one dates column, and what it holds wrapping between items, so that 80 columns show
    # every figure whole
    people = [
        [r[0], r[1], _span(r[2], r[3]), r[4], r[5], d]
        for r, d in zip(rows, (_holds(s) for s in data["sources"]), strict=True)
    ]
    tables = [
        Table(
            title,
            ["source", "rows", "dates", "spend", "GMV", "holds"],
            people,
            caption=caption,
            optional=["holds"],
        ),
        Table(
            "Exports: the newest, what is still maturing, what each feeds",
            ["source", "newest export", "maturing", "feeds"],
            [
                [s["source"], s.get("newest_export"), _maturing_short(s, dr), _feeds_short(s)]
                for s in data["sources"]
            ],
            caption="a date matures when an export made on or after it + its attribution window "
            "holds it (→ the day it will); until then its GMV and orders keep growing. "
            "by day: attribute --by day (store level); the full list: --json",
        ),
    ]
    if len(data["merchants"]) > 1:
        kinds = [s["source"] for s in data["sources"]]
        tables.append(
            Table(
                f"Rows per merchant ({len(data['merchants'])} merchants)",
                ["merchant", *kinds],
                [
                    [m["merchant"], *(m["sources"].get(k, 0) for k in kinds)]
                    for m in data["merchants"]
                ],
            )
        )
    for s in data["sources"]:
        if isinstance(s.get("gmv"), list):
            tables.append(_slices(s))
    return tables


def _slices(s: dict) -> Any:
    """GMV per flow type (rows) and attribution window (columns): never to be added up."""
    from redcat_cli.cli.render import Table

    windows = sorted({g.get("window_days") for g in s["gmv"]}, key=lambda w: (w is None, w))
    flows: dict[Any, dict[Any, Any]] = {}
    for g in s["gmv"]:
        flows.setdefault(g.get("flow_type"), {})[g.get("window_days")] = g["gmv"]
    return Table(
        f"{s['source']}: GMV per flow type and attribution window (do not add these up)",
        ["flow type", *(f"{w}-day window" if w is not None else "window –" for w in windows)],
        [[f, *(by.get(w) for w in windows)] for f, by in flows.items()],
    )


def _maturing_short(s: dict, date_ranges: Any) -> str:
    """06-16..06-30 → 07-30 (the year said once, by the newest export beside it)."""
    days = s.get("maturing_dates")
    if not days:
        return "–"
    year = str(days[0])[:4]
    text = date_ranges(days).replace(f"{year}-", "")
    if s.get("mature_on"):
        text += f" → {str(s['mature_on']).replace(f'{year}-', '')}"
    if s.get("export_date_unknown"):
        text += " (some export dates unknown)"
    return text


def _feeds_short(s: dict) -> str:
    feeds = []
    for f in s.get("feeds") or []:
        short = "by day" if f.startswith("attribute --by day") else f
        if short not in feeds:
            feeds.append(short)
    return ", ".join(feeds) or "none yet"


def _maturing(s: dict, date_ranges: Any) -> str | None:
    days = s.get("maturing_dates")
    if days is None:
        return "– (no outcomes that mature)"
    if not days:
        return "none"
    text = date_ranges(days)
    if s.get("mature_on"):
        text += f" (mature on {s['mature_on']})"
    if s.get("export_date_unknown"):
        text += " (some export dates unknown)"
    return text


def _span(first: Any, last: Any) -> str | list[str] | None:
    """2025-06-01..06-30 within a year; across years on two lines, 2024-12-01.. / 2025-01-31."""
    if first is None or last is None:
        return None
    a, b = str(first), str(last)
    return f"{a}..{b[5:]}" if a[:4] == b[:4] else [f"{a}..", b]


def _holds(s: dict) -> list[str]:
    return [f"{v:,} {k.removesuffix('_id')}s" for k, v in s.get("distinct", {}).items() if v]
