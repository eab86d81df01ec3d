"""``redcat report``: one self-contained HTML page of the campaign."""

from __future__ import annotations

import datetime as dt

import click

from redcat_cli.cli.options import (
    DATE,
    PERIOD,
    READ_MERCHANT,
    date_range_options,
    seeded_ids,
    seeded_options,
    slice_options,
    store_option,
    store_path,
)


@click.command("report")
@click.option(
    "--contract",
    "contracts",
    multiple=True,
    metavar="FILE",
    help="Contract YAML to settle on the page (repeat for several; optional).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default="report.html",
    show_default=True,
    metavar="FILE",
    help="The HTML file to write (atomically).",
)
@click.option(
    "--png",
    "png_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Also write the charts as PNG files into DIR.",
)
@click.option(
    "--baseline",
    type=PERIOD,
    default=None,
    help="Baseline period, FROM..TO [default: the first half of the dates].",
)
@click.option(
    "--compare",
    type=PERIOD,
    default=None,
    help="Period compared with the baseline, FROM..TO [default: the second half].",
)
@date_range_options
@slice_options
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Date of the report and of the settlement [default: today].",
)
@seeded_options(required_start=False, section="Lift section: ")
@READ_MERCHANT
@store_option
def report(
    contracts: tuple[str, ...],
    out: str,
    png_dir: str | None,
    baseline: tuple[dt.date, dt.date] | None,
    compare: tuple[dt.date, dt.date] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    flow_type: str | None,
    window_days: int | None,
    as_of: dt.date | None,
    treated: tuple[str, ...],
    treated_file: str | None,
    lift_start: dt.date | None,
    inference: str,
    merchant: str | None,
    store: str | None,
) -> None:
    """Write a one-page HTML report: headline figures, the funnel by note, engagement
    against orders, the lag chart, ROI by note, the uplift between two periods, with
    --treated and --start what the seeding added against unseeded products (lift) and, with
    --contract, the settlement statement with its working.

    \b
    Examples:
      redcat report
      redcat report --contract deal.yaml --as-of 2025-08-15 --out june.html
      redcat report --baseline 2025-05-01..2025-05-31 \\
                    --compare 2025-06-01..2025-06-30
      redcat report --from 2025-06-01 --to 2025-06-30 --png charts/
      redcat report --treated 718923450011,718923450012 --start 2025-06-01

    The file works offline: no scripts, no fonts or images fetched; charts are inline SVG.
    The same store, contracts and --as-of give the same file, byte for byte.
    """
    from redcat_cli.cli import render
    from redcat_cli.errors import UsageError
    from redcat_cli.report.gather import ReportRequest, gather
    from redcat_cli.report.page import write_report

    if (baseline is None) != (compare is None):
        raise UsageError("--baseline and --compare go together", hint="give both periods")
    if png_dir is not None and png_dir.lower().endswith(".png"):
        raise UsageError(
            f"--png takes a folder for the chart files, and {png_dir} looks like a file name",
            hint=f"give a folder, e.g. --png {png_dir[:-4] or 'charts'}/",
        )
    lift_req = None
    if treated or treated_file or lift_start:
        from redcat_cli.analysis import lift

        if lift_start is None:
            raise UsageError("the lift section needs --start", hint="the day the seeding began")
        ids = seeded_ids(treated, treated_file)
        lift_req = lift.Request(treated=tuple(ids), start=lift_start, inference=inference)
    req = ReportRequest(
        store=store_path(store),
        contracts=contracts,
        as_of=as_of,
        date_from=date_from,
        date_to=date_to,
        flow_type=flow_type,
        window_days=window_days,
        baseline=baseline,
        compare=compare,
        merchant=merchant,
        lift=lift_req,
    )
    rep = gather(req)
    written = write_report(rep, out, png_dir)
    click.echo(render.terminal_safe(written[0]))
    for p in written[1:]:
        render.notice(f"wrote {p}")
    for st in rep.statements:
        if not st.final:
            reason = st.final_reason.removeprefix("provisional: ")
            render.notice(f"{st.contract_id}: provisional: {reason}")
