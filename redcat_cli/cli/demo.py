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
    import importlib.util
    import shutil

    from redcat_cli.cli.render import notice
    from redcat_cli.demo import (
        EXAMPLE_SEEDED,
        EXAMPLE_START,
        example_contract,
        example_files,
        fresh_folder,
        halves,
    )
    from redcat_cli.errors import UsageError

    try:
        folder = fresh_folder(directory)
    except FileExistsError as e:
        raise UsageError(str(e), hint="give another DIRECTORY") from None
    store = str(folder / "redcat.duckdb")
    contract = folder / "contract.yaml"
    shutil.copyfile(example_contract(), contract)
    files = [str(f) for f in example_files()]

    def step(args: list[str], shown: str | None = None) -> None:
        from redcat_cli.cli import cli

        notice(f"\n$ redcat {shown or ' '.join(args)}")
        cli.main(args=args, prog_name="redcat", standalone_mode=False)

    step(
        ["ingest", "--store", store, *files],
        f"ingest --store {store} <{len(files)} bundled example exports>",
    )
    step(["status", "--store", store])
    first, second = halves(store)
    step(
        [
            "attribute",
            "--store",
            store,
            "--top",
            "8",
            "--baseline",
            f"{first[0]}..{first[1]}",
            "--compare",
            f"{second[0]}..{second[1]}",
        ]
    )
    step(["attribute", "--store", store, "--by", "day", "--max-lag", "7", "--top", "3"])
    seeded = ",".join(EXAMPLE_SEEDED)
    lift_args = ["--treated", seeded, "--start", EXAMPLE_START, "--inference", "permutation"]
    step(["lift", "--store", store, *lift_args])
    step(["settle", "--store", store, "--contract", str(contract)])
    report = folder / "report.html"
    if importlib.util.find_spec("redcat_cli.cli.report") is not None:
        step(
            [
                "report",
                "--store",
                store,
                "--contract",
                str(contract),
                "--out",
                str(report),
                "--baseline",
                f"{first[0]}..{first[1]}",
                "--compare",
                f"{second[0]}..{second[1]}",
                *lift_args,
            ]
        )
    notice(
        f"\nDone. The report: {report}  (open it in a browser; it prints on A4)\n"
        f"The demo store and contract are in {folder}/.\n"
        "\nNow on your own exports (docs/exports.md says which to download):\n"
        "  redcat ingest 聚光笔记日报.csv 种草星河明细.csv 千牛订单.csv   # into ./redcat.duckdb\n"
        "  redcat attribute                       # what each note returned\n"
        "  redcat settle --contract deal.yaml     # start from the demo's contract.yaml\n"
        "  redcat report --contract deal.yaml     # writes report.html"
    )
