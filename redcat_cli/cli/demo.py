"""`redcat demo`: the whole job on the bundled example exports, in a fresh store."""

from __future__ import annotations

import click


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def demo(directory: str | None) -> None:
    """Run redcat on the bundled examples in a fresh folder (DIRECTORY, default ./redcat-demo).

    Ingests a June-2025 campaign's exports of every kind into a new store and shows what it
    holds, then prints the commands to run on your own exports.

    \b
    Examples:
      redcat demo
      redcat demo /tmp/try-redcat
    """
    from click import get_current_context

    from redcat_cli.cli.render import notice
    from redcat_cli.demo import example_files, fresh_folder
    from redcat_cli.errors import UsageError

    try:
        folder = fresh_folder(directory)
    except FileExistsError as e:
        raise UsageError(str(e), hint="give another DIRECTORY") from None
    store = folder / "redcat.duckdb"
    files = [str(f) for f in example_files()]
    ctx = get_current_context()
    from redcat_cli.cli.ingest import ingest
    from redcat_cli.cli.status import status

    notice(f"$ redcat ingest --store {store} <{len(files)} bundled example exports>")
    ctx.invoke(ingest, files=tuple(files), store=str(store), source=None, encoding=None, date_order=None,
               strict=False, fmt="table", as_json=False, verbose=0, quiet=False)
    notice(f"\n$ redcat status --store {store}")
    ctx.invoke(status, store=str(store), fmt="table", as_json=False)
    notice(
        "\nNow on your own exports:\n"
        "  redcat ingest 聚光笔记日报.csv 种草星河明细.csv 千牛订单.csv   # into ./redcat.duckdb\n"
        "  redcat status\n"
        "  redcat sources                                             # what redcat can read\n"
        f"\nThe demo store is {store}; look around with --store {store}."
    )
