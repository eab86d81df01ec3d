"""`redcat demo`: the whole job on the bundled example exports, in a fresh store."""

from __future__ import annotations

import click


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def demo(directory: str | None) -> None:
    """Run the whole job on the bundled examples in a fresh folder (DIRECTORY, default ./redcat-demo).

    A June-2025 campaign's exports of every kind are ingested into a new store, then: status,
    attribute (funnel, correlation, ROI uplift between the two halves of the month), lift
    (the seeded products against the shop's others in 生意参谋), settle the example contract,
    and the HTML report. Finally it prints the commands to run on your
    own exports.

    \b
    Examples:
      redcat demo
      redcat demo /tmp/try-redcat
    """
    import shutil

    from redcat_cli.cli.render import notice
    from redcat_cli.demo import example_contract, example_files, fresh_folder, steps
    from redcat_cli.errors import UsageError

    try:
        folder = fresh_folder(directory)
    except FileExistsError as e:
        raise UsageError(str(e), hint="give another DIRECTORY") from None
    shutil.copyfile(example_contract(), folder / "contract.yaml")
    from redcat_cli.cli import cli

    for args, shown in steps(folder, [str(f) for f in example_files()]):
        notice(f"\n$ redcat {shown or ' '.join(args)}")
        cli.main(args=args, prog_name="redcat", standalone_mode=False)
    notice(
        f"\nDone. The report: {folder / 'report.html'}  (open it in a browser; it prints on A4)\n"
        f"The demo store and contract are in {folder}/.\n"
        "\nNow on your own exports (docs/exports.md says which to download):\n"
        "  redcat ingest 聚光笔记日报.csv 种草星河明细.csv 千牛订单.csv   # into ./redcat.duckdb\n"
        "  redcat attribute                       # what each note returned\n"
        "  redcat settle --contract deal.yaml     # start from the demo's contract.yaml\n"
        "  redcat report --contract deal.yaml     # writes report.html"
    )
