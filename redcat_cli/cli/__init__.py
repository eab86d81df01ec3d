"""The ``redcat`` command: a thin layer over the library.

Each sub-command lives in its own module and is imported only when it runs, so that
``redcat --help`` answers without importing pandas, scipy, duckdb or pyarrow.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

from redcat_cli import __version__

# name -> (module, attribute, one-line help). Help is repeated here so that listing the
# commands does not import them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ingest": (
        "redcat_cli.cli.ingest",
        "ingest",
        "Read exports of 聚光, 种草星河, 千牛, 生意参谋, 万相台 into the store.",
    ),
    "status": ("redcat_cli.cli.status", "status", "Show what the store holds, per export kind."),
    "sources": ("redcat_cli.cli.sources", "sources", "List the export kinds redcat recognises."),
    "attribute": (
        "redcat_cli.cli.attribute",
        "attribute",
        "Join note engagement to Taobao outcomes: funnel, correlation, ROI uplift.",
    ),
    "settle": (
        "redcat_cli.cli.settle",
        "settle",
        "Settle a Red Cat contract: ROI guarantee and matched investment.",
    ),
    "contract": (
        "redcat_cli.cli.contract",
        "contract",
        "Check a settlement contract or print its JSON Schema.",
    ),
    "report": ("redcat_cli.cli.report", "report", "Write a one-page HTML report of the campaign."),
    "demo": ("redcat_cli.cli.demo", "demo", "Run the whole job on the bundled example exports."),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    return importlib.util.find_spec(module) is not None


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> object:
        """Library errors become one line on stderr and an exit code; never a traceback."""
        from redcat_cli.errors import RedcatError

        try:
            return super().invoke(ctx)
        except RedcatError as e:
            if _debug():
                raise
            click.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)
        except (
            click.exceptions.Exit,
            click.ClickException,
            click.exceptions.Abort,
            BrokenPipeError,
            KeyboardInterrupt,
        ):
            raise
        except Exception as e:  # a bug: never a traceback for the user
            if _debug():
                raise
            click.echo(
                f"Internal error: {type(e).__name__}: {e}\n"
                "  hint: this is a bug in redcat; run again with REDCAT_DEBUG=1 for the traceback.",
                err=True,
            )
            ctx.exit(1)
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _debug() -> bool:
    return os.environ.get("REDCAT_DEBUG") not in (None, "", "0")


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="redcat")
def cli() -> None:
    """redcat: Xiaohongshu note engagement joined to Taobao/Tmall sales.

    \b
    Quick start:
      redcat demo                         # the whole job on the bundled examples
      redcat ingest 聚光.csv 种草星河.csv    # your own exports into ./redcat.duckdb
      redcat attribute                    # funnel, correlation, ROI
      redcat settle --contract deal.yaml  # the Red Cat contract, to the fen

    The store is ./redcat.duckdb unless --store or REDCAT_STORE says otherwise.
    Exit codes: 0 ok, 1 bad data or contract (nothing committed), 2 usage error.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns library errors into one clean line and an exit code."""
    from redcat_cli.errors import RedcatError

    debug = _debug()
    try:
        rv = cli.main(args=argv, prog_name="redcat", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 130
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except RedcatError as e:
        if debug:
            raise
        click.echo(f"Error: {e}", err=True)
        code = e.exit_code
    except BrokenPipeError:
        # `redcat ... | head`: the reader went away. Not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing was committed.", err=True)
        code = 130
    except Exception as e:  # a bug: never a traceback for the user
        if debug:
            raise
        click.echo(
            f"Internal error: {type(e).__name__}: {e}\n"
            "  hint: this is a bug in redcat; run again with REDCAT_DEBUG=1 for the traceback.",
            err=True,
        )
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(code)
