"""Every option shared between commands, defined once."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import click

FORMATS = ("table", "json", "jsonl", "csv")
DEFAULT_STORE = "redcat.duckdb"


def store_path(value: str | None) -> str:
    return value or os.environ.get("REDCAT_STORE") or DEFAULT_STORE


def store_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--store",
        type=click.Path(dir_okay=False),
        default=None,
        metavar="PATH",
        help="DuckDB store file [default: $REDCAT_STORE or ./redcat.duckdb].",
    )(f)


def merchant_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--merchant NAME``: whose rows (a shop name, as given to ``ingest --merchant``)."""
    return click.option("--merchant", default=None, metavar="NAME", help=help_text)


READ_MERCHANT = merchant_option(
    "Read this merchant's rows; required when the store holds several [default: the one it holds]."
)


def seed_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--seed N``: the seed of a random procedure (the same seed, the same answer)."""
    return click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True, help=help_text
    )


def _remember_bom(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta["redcat_bom"] = value
    return value


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine``, ``--warehouse``, ``--spark-master``: where the SQL runs."""
    f = click.option(
        "--spark-master",
        "spark_master",
        default=None,
        metavar="URL",
        help="Spark master [default: $REDCAT_SPARK_MASTER, spark-submit's, else local[*]].",
    )(f)
    f = click.option(
        "--warehouse",
        default=None,
        metavar="DIR",
        help="Read this Parquet warehouse (from `redcat export`; a local folder, or any path "
        "Spark reads, e.g. hdfs://…) instead of the store.",
    )(f)
    f = click.option(
        "--engine",
        type=click.Choice(["duckdb", "spark"]),
        default="duckdb",
        show_default=True,
        help="Run the queries on DuckDB, or on Spark over --warehouse.",
    )(f)
    return f


def format_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--bom",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_remember_bom,
        help="CSV: start with a UTF-8 BOM so Excel reads Chinese right [default: only when "
        "written to a file].",
    )(f)
    f = click.option(
        "--json", "as_json", is_flag=True, default=False, help="Shortcut for --format json."
    )(f)
    f = click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format: tables for people, JSON for scripts.",
    )(f)
    return f


def resolve_format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


def verbosity_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("-q", "--quiet", is_flag=True, help="No notices on stderr, only errors.")(f)
    f = click.option("-v", "--verbose", count=True, help="More notices on stderr.")(f)
    return f


class DateType(click.ParamType):
    name = "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as YYYY-MM-DD", param, ctx)


class PeriodType(click.ParamType):
    """FROM..TO, both inclusive ISO dates."""

    name = "FROM..TO"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[dt.date, dt.date]:
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        if ".." not in text:
            self.fail(f"{value!r}: write a period as 2025-06-01..2025-06-15", param, ctx)
        a, b = (p.strip() for p in text.split("..", 1))
        try:
            start, end = dt.date.fromisoformat(a), dt.date.fromisoformat(b)
        except ValueError:
            self.fail(f"{value!r}: write a period as 2025-06-01..2025-06-15", param, ctx)
        if end < start:
            self.fail(f"{value!r}: the period ends before it starts", param, ctx)
        return start, end


DATE = DateType()
PERIOD = PeriodType()


def date_range_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--to", "date_to", type=DATE, default=None, help="Last date (inclusive).")(f)
    f = click.option(
        "--from", "date_from", type=DATE, default=None, help="First date (inclusive)."
    )(f)
    return f


def slice_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The one 种草星河 slice to read: a flow type and an attribution window, never a sum."""
    f = click.option(
        "--window",
        "window_days",
        type=click.IntRange(min=1),
        default=None,
        metavar="DAYS",
        help="种草星河 attribution window [default: the longest in the store].",
    )(f)
    f = click.option(
        "--flow-type", default=None, metavar="TYPE", help="种草星河 flow type [default: 全部流量]."
    )(f)
    return f


def calendar_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--calendar",
        "calendar_file",
        type=click.Path(dir_okay=False, exists=True),
        default=None,
        metavar="FILE.yaml",
        help="Promotion events to add to or override the bundled calendar [default: $REDCAT_CALENDAR].",
    )(f)


def seeded_options(required_start: bool, section: str = "") -> Callable[..., Any]:
    """--treated, --treated-file, --start and --inference: what `lift` (or the report's lift
    section) compares."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option(
            "--inference",
            type=click.Choice(("cluster", "permutation")),
            default="cluster",
            show_default=True,
            metavar="METHOD",
            help=f"{section}Interval: cluster (robust, by product) or permutation (placebo sets).",
        )(f)
        f = click.option(
            "--start",
            "lift_start",
            type=DATE,
            required=required_start,
            default=None,
            help=f"{section}The day the seeding began.",
        )(f)
        f = click.option(
            "--treated-file",
            type=click.Path(dir_okay=False, exists=True),
            default=None,
            metavar="FILE",
            help="Seeded products, one 商品ID a line.",
        )(f)
        return click.option(
            "--treated",
            multiple=True,
            metavar="ID",
            help="Seeded products (商品ID; repeat, or comma-separated).",
        )(f)

    return deco


def seeded_ids(treated: tuple[str, ...], treated_file: str | None) -> list[str]:
    """The ids of --treated (comma-separated or repeated) and of --treated-file."""
    from redcat_cli.analysis.lift import read_ids

    return split_ids(treated) + (read_ids(treated_file) if treated_file else [])


def split_ids(values: tuple[str, ...]) -> list[str]:
    """Ids given repeated or comma-separated (``--note a,b --note c``), in order."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def count_option(
    flag: str, *, default: int | None, minimum: int, help_text: str, dest: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A whole number N of at least ``minimum`` (its default shown when there is one)."""
    names = (flag,) if dest is None else (flag, dest)
    return click.option(
        *names,
        type=click.IntRange(min=minimum),
        default=default,
        show_default=default is not None,
        metavar="N",
        help=help_text,
    )


def choice_option(
    flag: str, choices: tuple[str, ...], *, default: str | None, help_text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One of ``choices`` (its default shown when there is one)."""
    return click.option(
        flag,
        type=click.Choice(choices),
        default=default,
        show_default=default is not None,
        help=help_text,
    )


def period_option(flag: str, help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A period FROM..TO (two ISO dates), or None."""
    return click.option(flag, type=PERIOD, default=None, help=help_text)


def file_option(
    flag: str, *, metavar: str, help_text: str, to_write: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A file path: one that exists (to read), or one that can be written."""
    kind = (
        click.Path(dir_okay=False, writable=True)
        if to_write
        else click.Path(dir_okay=False, exists=True)
    )
    return click.option(flag, type=kind, default=None, metavar=metavar, help=help_text)
