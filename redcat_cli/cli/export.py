"""`redcat export`: the store as a Parquet warehouse."""

from __future__ import annotations

import click

from redcat_cli.cli.options import format_options, resolve_format, store_option, store_path


@click.command()
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--merchant",
    "merchants",
    multiple=True,
    metavar="NAME",
    help="Export only this merchant's rows (repeat for several) [default: every merchant].",
)
@store_option
@format_options
def export(
    folder: str, merchants: tuple[str, ...], store: str | None, fmt: str, as_json: bool
) -> None:
    """Write the store as Parquet, one folder per table (history tables and the ingest log
    too) and per merchant, with a manifest: tables, row counts, columns, schema version and
    the sha256 of every file.

    Merchant folders are named by a stable ASCII key (merchant_key=m…); the merchant's name
    is in every row and in the manifest. DIR is replaced as a whole, atomically; a folder
    that is neither empty nor an earlier export is refused.

    \b
    Examples:
      redcat export warehouse/
      redcat export warehouse/ --merchant 某某美妆旗舰店
      redcat status --engine spark --warehouse warehouse/
    """
    from redcat_cli.cli.render import Table, emit_csv, emit_json, emit_jsonl, emit_tables
    from redcat_cli.store.warehouse import export_store

    fmt = resolve_format(fmt, as_json)
    manifest = export_store(store_path(store), folder, list(merchants) or None)
    rows = [
        [t, info["kind"], "yes" if info["history"] else "", info["rows"],
         sum(1 for f in manifest["files"] if f["table"] == t)]
        for t, info in manifest["tables"].items()
    ]  # fmt: skip
    if fmt == "json":
        emit_json({"folder": folder, **manifest})
    elif fmt == "jsonl":
        emit_jsonl(manifest["files"])
    elif fmt == "csv":
        emit_csv(["table", "kind", "history", "rows", "files"], rows)
    else:
        emit_tables(
            [
                Table(
                    f"Exported to {folder}",
                    ["table", "kind", "history", "rows", "files"],
                    rows,
                    caption=f"{len(manifest['merchants'])} merchant(s), "
                    f"{len(manifest['files'])} Parquet files; manifest: {folder.rstrip('/')}/manifest.json",
                )
            ]
        )
