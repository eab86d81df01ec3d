"""`redcat ingest`: exports into the store."""

from __future__ import annotations

from typing import Any

import click

from redcat_cli.cli.options import (
    DATE,
    format_options,
    merchant_option,
    resolve_format,
    store_option,
    store_path,
    verbosity_options,
)


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE…")
@click.option(
    "--source",
    metavar="KIND",
    help="Force the export kind (see `redcat sources`); detected from the headers otherwise.",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="Force the text encoding (utf-8, gb18030, …); detected otherwise.",
)
@click.option(
    "--date-order",
    type=click.Choice(["dmy", "mdy"]),
    help="Day/month order for dates like 1/11/2024 when no day over 12 settles it.",
)
@click.option(
    "--strict", is_flag=True, help="Any rejected row fails the command; nothing is committed."
)
@click.option(
    "--set",
    "fixed",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Give a field one value for every row of files that lack it, e.g. --set account=小王 "
    "to keep two 聚光 accounts' daily reports apart.",
)
@click.option(
    "--exported-on",
    "exported_on",
    type=DATE,
    default=None,
    metavar="DATE",
    help="The date the files were exported [default: a date in the file name after its data, "
    "else its modified time]; decides how mature their outcomes are.",
)
@merchant_option(
    "Whose exports these are (the shop name); part of every row's key "
    "[default: the one merchant the store holds, else `default`]."
)
@store_option
@format_options
@verbosity_options
def ingest(
    files: tuple[str, ...],
    source: str | None,
    encoding: str | None,
    date_order: str | None,
    strict: bool,
    fixed: tuple[str, ...],
    exported_on: Any,
    merchant: str | None,
    store: str | None,
    fmt: str,
    as_json: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Read exports into the store: every row loaded, updated, duplicate, skipped or rejected.

    FILE is a .csv, .xlsx or .zip export of 聚光, 种草星河, 千牛, 生意参谋, 万相台 or 小红书笔记数据;
    `-` reads standard input. The kind is told from the headers. The same file twice adds
    nothing; a later export of the same rows replaces their values (the old ones are kept in
    history). Rejected rows go to a CSV beside the store, with their line and reason.

    \b
    Examples:
      redcat ingest 聚光笔记日报.csv 种草星河明细.csv
      redcat ingest --source qianniu --encoding gb18030 ExportOrderList.csv
      redcat ingest 万相台报表.zip --strict --json
      redcat ingest --set account=小王 聚光账户日报.csv
      redcat ingest --exported-on 2025-07-15 种草星河明细.csv
      redcat ingest --merchant 某某美妆旗舰店 聚光笔记日报.csv
      cat export.csv | redcat ingest -
    """
    from redcat_cli.ingest.load import ingest as run_ingest

    fmt = resolve_format(fmt, as_json)
    path = store_path(store)
    pairs: dict[str, str] = {}
    for item in fixed:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"{item!r}: write it as FIELD=VALUE", param_hint="--set")
        pairs[name.strip()] = value.strip()
    progress = _progress(quiet, verbose)
    try:
        report = run_ingest(
            path,
            list(files),
            source=source,
            encoding=encoding,
            date_order=date_order,
            strict=strict,
            progress=progress,
            fixed=pairs,
            exported_on=exported_on,
            merchant=merchant,
        )
    finally:
        progress("done", "")
    from redcat_cli.cli import COMMITTED

    COMMITTED.append(path)  # an interrupt from here on must not say "nothing was committed"
    _notices(report, quiet, verbose)
    _emit(report.to_dict(), fmt)


def _notices(report: Any, quiet: bool, verbose: int) -> None:
    """Per file on stderr: its rejected rows, lower bounds, warnings (and with -v the columns
    not stored)."""
    from redcat_cli.cli.render import notice

    if quiet:
        return
    for f in report.files:
        if f.rows_rejected:
            first = f.rejects[0]
            notice(
                f"{f.path}: {f.rows_rejected} row(s) rejected → {f.rejects_path} "
                f"(first: line {first.line}: {first.reason})"
            )
        if f.values_lower_bound:
            notice(f"{f.path}: {f.values_lower_bound} value(s) like 10万+ kept as lower bounds")
        for w in f.warnings:
            notice(f"{f.path}: {w}")
        if verbose and f.columns_ignored:
            notice(f"{f.path}: columns not stored: {', '.join(f.columns_ignored)}")


def _emit(data: dict[str, Any], fmt: str) -> None:
    """The per-file counts on stdout in the chosen format (a table with totals for people)."""
    from redcat_cli.cli.render import Table, emit_csv, emit_json, emit_jsonl, emit_tables

    cols = [
        "path",
        "source",
        "encoding",
        "rows_read",
        "rows_loaded",
        "rows_updated",
        "rows_duplicate",
        "rows_skipped",
        "rows_rejected",
    ]
    if fmt == "json":
        emit_json(data)
    elif fmt == "jsonl":
        emit_jsonl(data["files"])
    elif fmt == "csv":
        emit_csv(
            [*cols, "sha256", "rejects_path"],
            [[f[c] for c in [*cols, "sha256", "rejects_path"]] for f in data["files"]],
        )
    else:
        from pathlib import PurePath

        files = data["files"]
        heads = ["file", "kind", "read", "loaded", "updated", "dup", "skipped", "rejected"]
        caption = None
        if len(files) > TABLE_FILES:  # a line per file would be thousands of lines
            rows = _by_kind(files, cols[3:])
            caption = f"{len(files):,} files, one line per kind: --csv or --json lists every file"
        else:
            rows = [
                [PurePath(f["path"]).name, f["source"], *[f[c] for c in cols[3:]]] for f in files
            ]
        totals: list[Any] = ["total", ""] + [sum(f[c] for f in files) for c in cols[3:]]
        emit_tables(
            [Table(f"Ingested into {data['store']}", heads, rows, footer=totals, caption=caption)]
        )


TABLE_FILES = 50  # more files than this: the table has a line per kind


def _by_kind(files: list[dict[str, Any]], counts: list[str]) -> list[list[Any]]:
    """One line per export kind: how many files, and their counts added up."""
    kinds: dict[str, list[Any]] = {}
    for f in files:
        line = kinds.setdefault(f["source"], [0, f["source"], *[0] * len(counts)])
        line[0] += 1
        for i, c in enumerate(counts):
            line[2 + i] += f[c]
    return [[f"{line[0]:,} files", *line[1:]] for line in kinds.values()]


def _progress(quiet: bool, verbose: int) -> Any:
    """Progress on stderr: a bar over the bytes of each file as its batches are read, checked
    and stored, when stderr is a terminal; with -v, one line per stage otherwise."""
    if quiet:
        return lambda *a: None
    from rich.markup import escape

    from redcat_cli.cli.render import stderr_console, terminal_safe

    console = stderr_console()
    if not console.is_terminal:

        def plain(stage: str, name: str, done: int | None = None, total: int | None = None) -> None:
            if verbose and stage != "done":
                at = f" ({done / total:.0%})" if done is not None and total else ""
                console.print(terminal_safe(f"{stage}: {name}{at}"), markup=False, highlight=False)

        return plain
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    state: dict[str, Any] = {"task": None}

    def live(stage: str, name: str, done: int | None = None, total: int | None = None) -> None:
        if stage == "done":
            if state["task"] is not None:
                bar.stop()
            return
        if state["task"] is None:
            bar.start()
            state["task"] = bar.add_task("", total=None)
        what = "reading" if stage == "read" else "storing"
        description = escape(terminal_safe(f"{what} {name}", multiline=False))
        if stage == "read":  # a new input: the bar starts again for it
            bar.update(state["task"], description=description, total=None, completed=0)
        else:
            bar.update(state["task"], description=description, total=total, completed=done)

    return live
