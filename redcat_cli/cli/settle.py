"""``redcat settle``: settle Red Cat contracts on the store, to the fen."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import click

from redcat_cli.cli.options import (
    DATE,
    engine_options,
    format_options,
    merchant_option,
    resolve_format,
    store_option,
    store_path,
)


@contextlib.contextmanager
def open_read_only(
    path: str, engine: str = "duckdb", warehouse: str | None = None, master: str | None = None
) -> Iterator[Any]:
    """A read-only connection to the store (or to a warehouse, on the chosen engine)."""
    from redcat_cli.engines import open_source

    with open_source(path, engine=engine, warehouse=warehouse, master=master) as source:
        yield source.con


def run_settlements(
    contract_paths: Sequence[str],
    store: str,
    as_of: dt.date,
    as_of_ingest: int | None = None,
    merchant: str | None = None,
    engine: dict[str, Any] | None = None,
) -> list[Any]:
    """Load every contract (all problems at once), then settle each one on the store."""
    from redcat_cli.queries.settle import settle_on_store
    from redcat_cli.settle.contract import load_contracts

    contracts = load_contracts(contract_paths)
    unique_ids(contracts)
    with open_read_only(store, **(engine or {})) as con:
        return settle_on_store(con, contracts, as_of, as_of_ingest, merchant)


def contract_files(files: Sequence[str], folders: Sequence[str]) -> list[str]:
    """The contract files given one by one, then every ``*.yaml``/``*.yml`` of each folder (by
    name); a contract_id given twice is refused (its statements could not be told apart)."""
    from pathlib import Path

    from redcat_cli.errors import UsageError

    paths = list(files)
    for folder in folders:
        d = Path(folder)
        if not d.is_dir():
            raise UsageError(
                f"--contracts {folder}: not a folder", hint="give a folder of contract YAML files"
            )
        found = sorted(
            str(f) for f in d.iterdir() if f.suffix.lower() in (".yaml", ".yml") and f.is_file()
        )
        if not found:
            raise UsageError(f"--contracts {folder}: no .yaml or .yml files in it")
        paths += found
    if not paths:
        raise UsageError(
            "no contract given", hint="--contract FILE (repeat it) or --contracts FOLDER"
        )
    return paths


def unique_ids(contracts: Sequence[Any]) -> None:
    from redcat_cli.errors import UsageError

    seen: dict[str, str] = {}
    for c in contracts:
        if c.contract_id in seen:
            raise UsageError(
                f"contract_id {c.contract_id} is in both {seen[c.contract_id]} and {c.path}",
                hint="settle each contract once; give each contract its own contract_id",
            )
        seen[c.contract_id] = c.path


def summary_table(statements: Sequence[Any]) -> Any:
    """One row per statement: what an agency checks across its merchants at a glance."""
    from decimal import Decimal

    from redcat_cli.cli.render import Table

    zero = Decimal("0.00")
    rows = [
        [
            st.contract_id,
            st.merchant,
            st.totals.spend,
            st.totals.gmv,
            st.totals.roi_guarantee_payout,
            st.totals.matched_investment,
            "yes" if st.final else "no",
        ]
        for st in statements
    ]
    final = sum(1 for st in statements if st.final)
    return Table(
        title=f"{len(statements)} settlements as of {statements[0].as_of}",
        columns=["contract", "merchant", "spend", "GMV", "payout", "matched", "final"],
        rows=rows,
        footer=[
            "total",
            None,
            sum((st.totals.spend for st in statements), zero),
            sum((st.totals.gmv for st in statements), zero),
            sum((st.totals.roi_guarantee_payout for st in statements), zero),
            sum((st.totals.matched_investment for st in statements), zero),
            f"{final} of {len(statements)}",
        ],
        caption="payout: the ROI guarantee (效果对赌); matched: the matched investment (外投激励), "
        "media the platform adds. Totals add the statements' totals (mixed currencies are not "
        "converted).",
        justify={"final": "left"},
    )


def statement_findings(st: Any) -> list[str]:
    """What the statement comes to, in two or three sentences, before its table."""
    from decimal import Decimal

    def money(v: Any) -> str:
        return f"{v:,.2f}"

    t = st.totals
    n = len(st.cycles)
    hit = [c for c in st.cycles if c.roi_guarantee is not None and c.roi_guarantee.triggered]
    out = []
    gaps = [c for c in st.cycles if not c.complete]
    if gaps:
        out.append(
            f"GMV is still missing on days with spend in {len(gaps)} of {n} cycle"
            f"{'s' if n != 1 else ''}: no payout is computed for "
            f"{'them' if len(gaps) != 1 else 'it'} from part of the days."
        )
    if hit:
        out.append(
            f"The ROI guarantee triggered in {len(hit)} of {n} cycle{'s' if n != 1 else ''}: "
            f"¥{money(t.roi_guarantee_payout)} comes back; net ad cost ¥{money(t.net_ad_cost)} "
            f"on spend ¥{money(t.spend)}."
        )
    elif len(gaps) < n:
        out.append(
            f"The ROI guarantee did not trigger in any of the {n} cycle{'s' if n != 1 else ''}: "
            f"nothing comes back on spend ¥{money(t.spend)} (GMV ¥{money(t.gmv)})."
        )
    if t.matched_investment:
        out.append(f"The platform matches ¥{money(t.matched_investment)} of spend in media.")
    if not st.final:
        open_ = [c for c in st.cycles if not c.final]
        out.append(
            f"PROVISIONAL: {len(open_)} cycle{'s' if len(open_) != 1 else ''} may still change "
            "as later exports bring in conversions."
        )
        p = st.projected_totals
        if p is not None:
            out.append(
                f"Projected once every window has closed: ¥{money(Decimal(p['roi_guarantee_payout']))} "
                f"comes back (80% interval ¥{money(Decimal(p['roi_guarantee_payout_low']))}–"
                f"¥{money(Decimal(p['roi_guarantee_payout_high']))}), learned from "
                f"{p['keys_learned_from']:,} re-exported rows."
            )
        elif st.projection_note:
            out.append(st.projection_note[0].upper() + st.projection_note[1:] + ".")
    return out


def statement_tables(st: Any) -> list[Any]:
    """A finance person's view: a summary row per cycle with totals, then each cycle line by
    line with its working, so every figure can be checked by hand."""
    from redcat_cli.cli.render import Styled, Table

    status = "final" if st.final else "PROVISIONAL"
    t = st.totals
    first, last = st.cycles[0].start, st.cycles[-1].end
    one_year = first.year == last.year

    def label(c: Any) -> str:
        if not one_year:
            return f"{c.start}..{c.end}"
        if c.start == c.end:
            return f"{c.start:%m-%d}"
        return (
            f"{c.start:%m-%d}..{c.end:%d}"
            if c.start.month == c.end.month
            else f"{c.start:%m-%d}..{c.end:%m-%d}"
        )

    columns = ["cycle", "spend", "GMV", "ROI", "payout", "matched", "net cost"]
    rows = [
        [
            label(c),
            c.spend,
            c.gmv,
            c.roi_text,
            Styled(c.payout, "warn") if c.payout else c.payout,  # a triggered payout stands out
            c.matched,
            c.net_ad_cost,
        ]
        for c in st.cycles
    ]
    footer: list[Any] = [
        "total",
        t.spend,
        t.gmv,
        None,
        t.roi_guarantee_payout,
        t.matched_investment,
        t.net_ad_cost,
    ]
    if not st.final:  # which cycles are not final, and why in one word
        columns.append("status")
        for row, c in zip(rows, st.cycles, strict=True):
            row.append(cycle_status(c) if c.final else Styled(cycle_status(c), "bad"))
        footer.append(None)
    summary = Table(
        title=f"Settlement {st.contract_id} · {st.merchant} · {first}..{last} · {st.currency} · {status} as of {st.as_of}",
        columns=columns,
        rows=rows,
        footer=footer,
        caption=(
            f"{st.final_reason}. Net ad cost = spend − guarantee payout; the matched investment "
            f"is media the platform adds, not netted. Rounding {st.rounding.replace('_', '-')} "
            f"to 0.01, once per line; totals are sums of the lines."
        ),
        justify={"ROI": "right"},
        optional=["net cost"],
    )
    tables = [summary]
    if st.projected_totals is not None:
        tables.append(projection_table(st, label))
    for i, c in enumerate(st.cycles, 1):
        tables.append(
            Table(
                title=f"Cycle {i} of {len(st.cycles)}: {c.start}..{c.end}",
                columns=["line", "amount", "working"],
                rows=cycle_lines(st, c),
                justify={"amount": "right"},
            )
        )
    inputs = ", ".join(f"{x.path} (sha256 {x.sha256[:12]})" for x in st.inputs) or "none recorded"
    tables[
        -1
    ].caption = (
        f"contract sha256 {st.contract_sha256[:16]}; inputs: {inputs}; redcat {st.redcat_version}"
    )
    return tables


def cycle_lines(st: Any, c: Any) -> list[list[Any]]:
    """One cycle line by line: each amount beside how it was worked out."""
    rows: list[list[Any]] = [
        ["spend (聚光 消费)", c.spend, "sum over the cycle's days"],
        [
            f"GMV ({st.gmv_basis})" if st.gmv_basis else "GMV",
            c.gmv,
            "sum over the cycle's days" if c.gmv is not None else "no GMV reported",
        ],
        ["orders", c.orders, None],
        ["ROI", c.roi_text, "GMV / spend" if c.roi_text else "undefined"],
    ]
    g = c.roi_guarantee
    if g is not None:
        rows += [
            ["target ROI", g.target_roi, None],
            ["guarantee eligible", g.eligible, None],
            ["guarantee triggered", g.triggered, g.reason],
            ["guarantee before cap", g.amount_before_cap, g.working.split("; min(")[0]],
            [
                "guarantee payout",
                g.payout,
                (f"capped by {g.cap_applied}: " if g.cap_applied else "")
                + (
                    "min(" + g.working.split("; min(", 1)[1]
                    if "; min(" in g.working
                    else "no cap binds"
                ),
            ],
        ]
    m = c.matched_investment
    if m is not None:
        rows.append(
            [
                "matched investment",
                m.amount,
                f"{m.reason}: {m.working}" if m.eligible else m.reason,
            ]
        )
    rows.append(["net ad cost", c.net_ad_cost, f"{c.spend} − {c.payout}"])
    if not c.final:
        rows.append(["status", cycle_status(c), c.final_reason])
    return rows


def projection_table(st: Any, label: Any) -> Any:
    """Provisional beside projected: the payout the data supports today, and the likely final."""
    from decimal import Decimal

    from redcat_cli.cli.render import Table

    def span(p: dict[str, Any]) -> str:
        lo, hi = (Decimal(p[f"roi_guarantee_payout_{k}"]) for k in ("low", "high"))
        return f"{lo:,.2f}–{hi:,.2f}"

    rows: list[list[Any]] = [
        [
            label(c),
            Decimal(p["gmv"]),
            c.payout,
            Decimal(p["roi_guarantee_payout"]),
            span(p),
        ]
        for c, p in zip(st.cycles, st.projected_cycles, strict=True)
    ]
    t = st.projected_totals
    footer = [
        "total",
        Decimal(t["gmv"]),
        st.totals.roi_guarantee_payout,
        Decimal(t["roi_guarantee_payout"]),
        span(t),
    ]
    return Table(
        title="Payout now and projected final, with its 80% interval",
        columns=["cycle", "GMV final", "payout now", "payout final", "80% interval"],
        rows=rows,
        footer=footer,
        caption=f"{t['method']}; low GMV gives the high payout",
        justify={"80% interval": "right"},
    )


def cycle_status(c: Any) -> str:
    """One word for a cycle: final, incomplete (days with spend lack GMV) or provisional."""
    if c.final:
        return "final"
    return "incomplete" if not c.complete else "provisional"


def statement_csv_rows(statements: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    columns = [
        "contract_id",
        "start",
        "end",
        "spend",
        "gmv",
        "orders",
        "roi",
        "target_roi",
        "eligible",
        "triggered",
        "amount_before_cap",
        "cap_applied",
        "payout",
        "matched_investment",
        "net_ad_cost",
        "final",
    ]
    rows = []
    for st in statements:
        for c in st.cycles:
            g = c.roi_guarantee
            rows.append(
                [
                    st.contract_id,
                    c.start,
                    c.end,
                    c.spend,
                    c.gmv,
                    c.orders,
                    c.roi_text,
                    g.target_roi if g else None,
                    g.eligible if g else None,
                    g.triggered if g else None,
                    g.amount_before_cap if g else None,
                    g.cap_applied if g else None,
                    c.payout if g else None,
                    c.matched if c.matched_investment else None,
                    c.net_ad_cost,
                    st.final,
                ]
            )
    return columns, rows


@click.command("settle")
@click.option(
    "--contract",
    "contracts",
    multiple=True,
    metavar="FILE",
    help="Contract YAML (repeat to settle several in one run).",
)
@click.option(
    "--contracts",
    "folders",
    multiple=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Settle every contract (*.yaml, *.yml) in DIR, in one pass over the store.",
)
@click.option(
    "--summary",
    is_flag=True,
    help="With several contracts, print only the summary table (one row per contract).",
)
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Settle as of this date [default: today]; decides final vs provisional.",
)
@click.option(
    "--as-of-ingest",
    "as_of_ingest",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Use the store as it stood after ingest number N.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also write the JSON statement (JSON Lines for several) to FILE, atomically.",
)
@merchant_option(
    "Settle on this merchant's rows [default: each contract's merchant: as the store holds it]."
)
@store_option
@click.option(
    "--working",
    is_flag=True,
    default=False,
    help="Tables: also each cycle's working, line by line (JSON and CSV always carry it).",
)
@engine_options
@format_options
def settle(
    contracts: tuple[str, ...],
    folders: tuple[str, ...],
    summary: bool,
    as_of: dt.date | None,
    as_of_ingest: int | None,
    out: str | None,
    merchant: str | None,
    store: str | None,
    working: bool,
    engine: str,
    warehouse: str | None,
    spark_master: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """Settle Red Cat contracts: the ROI guarantee (效果对赌) and the matched investment
    (外投激励), to the fen, with the working shown line by line.

    \b
    Examples:
      redcat settle --contract examples/contract.yaml
      redcat settle --contract deal.yaml --as-of 2025-07-31 --json
      redcat settle --contract a.yaml --contract b.yaml -f jsonl
      redcat settle --contracts contracts/ --as-of 2025-07-31 --summary
      redcat settle --contract deal.yaml --as-of 2025-07-31 --out statement.json

    The same store, contract and --as-of always give the same JSON, byte for byte, whether
    the contract is settled alone or with others. Several contracts are summed in one pass
    over the store; --json gives a list of statements, -f jsonl one statement a line, and
    the table a summary row per contract before each statement.
    A statement is final only when every cycle has GMV on each day with spend, that GMV was
    exported on or after the cycle's end + window_days, and --as-of is past that date.
    """
    from redcat_cli.cli import render

    fmt = resolve_format(fmt, as_json)
    when = as_of or dt.date.today()
    paths = contract_files(contracts, folders)
    statements = run_settlements(
        paths,
        store_path(store),
        when,
        as_of_ingest,
        merchant,
        {"engine": engine, "warehouse": warehouse, "master": spark_master},
    )
    dicts = [s.to_dict() for s in statements]

    if out:
        # the bytes a script gets from stdout: compact JSON (JSON Lines for several contracts)
        text = "".join(render.dumps(render.versioned(d), indent=None) + "\n" for d in dicts)
        from redcat_cli.files import atomic_write_text

        atomic_write_text(out, text)
        render.notice(f"wrote {out}")

    _emit(statements, dicts, fmt, summary, working)


def _emit(statements: list[Any], dicts: list[dict], fmt: str, summary: bool, working: bool) -> None:
    """The statements on stdout in the asked format; which are provisional, and why, on stderr."""
    from redcat_cli.cli import render

    if fmt == "json" and len(dicts) == 1:
        render.emit_json(dicts[0])
    elif fmt == "json":
        render.emit_json([render.versioned(d) for d in dicts])
    elif fmt == "jsonl":
        render.emit_jsonl(dicts)
    elif fmt == "csv":
        columns, rows = statement_csv_rows(statements)
        render.emit_csv(columns, rows)
    else:
        several = [summary_table(statements)] if len(statements) > 1 else []
        if several:
            render.emit_tables(several)
        if not (summary and several):
            for s in statements:
                render.emit_sentences(statement_findings(s))
                tables = statement_tables(s)
                if not working:
                    first = tables[0]
                    first.caption = (
                        f"{first.caption}\nEach cycle's working, line by line, and the inputs' "
                        "checksums: --working."
                    )
                    tables = [first, *(t for t in tables if t.title.startswith("Payout now"))]
                render.emit_tables(tables)
        for s in statements:
            if not s.final:
                render.notice(f"{s.contract_id}: {s.final_reason}")
