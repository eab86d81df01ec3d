"""The ``redcat`` command: a thin layer over the library.

Each sub-command lives in its own module and is imported only when it runs, so that
``redcat --help`` answers without importing pandas, scipy, duckdb or pyarrow.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any

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
    "lift": (
        "redcat_cli.cli.lift",
        "lift",
        "What the seeding added to sales: difference-in-differences against control products.",
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
    "schema": (
        "redcat_cli.cli.schema",
        "schema",
        "Print the JSON Schema of a JSON output (ingest, status, attribute, settle, …).",
    ),
    "report": ("redcat_cli.cli.report", "report", "Write a one-page HTML report of the campaign."),
    "export": (
        "redcat_cli.cli.export",
        "export",
        "Write the store as a Parquet warehouse (for Spark and other readers).",
    ),
    "demo": ("redcat_cli.cli.demo", "demo", "Run the whole job on the bundled example exports."),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    return importlib.util.find_spec(module) is not None


class PipeClosed(Exception):
    """Standard output was closed by its reader (``redcat … | head``)."""


class UnknownCommand(click.UsageError):
    """A mistyped command name; the message offers the closest ones."""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        from redcat_cli.store import db as store

        if store.wait_reporter is None:
            store.wait_reporter = _report_wait
        try:
            return super().invoke(ctx)
        except OSError as e:
            # click's own handler would exit 1 on a closed pipe: make it ours (exit 0, silent)
            if e.errno == errno.EPIPE:
                raise PipeClosed() from None
            raise

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise UnknownCommand(_no_such(name, self.list_commands(ctx)), ctx=ctx)
        return super().resolve_command(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Standalone, every failure becomes one line (or, under --json, one JSON object) on
        stderr and an exit code; never a traceback. Not standalone (a command run by another,
        as the demo does), errors go up to the caller."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.exceptions.Exit as e:
            code = e.exit_code
        except (BrokenPipeError, PipeClosed):
            code = 0  # `redcat … | head`: the reader went away; not an error of ours
        except BaseException as e:
            if isinstance(e, SystemExit):
                raise
            code = fail(e, json_requested(argv))
        code = _flush_stdout(code, json_requested(argv))
        sys.exit(code)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _no_such(name: str, commands: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, commands, n=3, cutoff=0.5)
    close += [c for c in commands if c.startswith(name[:3]) and c not in close][: 3 - len(close)]
    if not close:
        return f"No such command {name!r}."
    return f"No such command {name!r}. Did you mean {' or '.join(repr(c) for c in close)}?"


def json_requested(argv: Sequence[str]) -> bool:
    """Did the command line ask for JSON (``--json``, ``--format json|jsonl``, ``-f json``)?
    Read from the words themselves, so that even a usage error is answered in JSON."""
    words = list(argv)
    if "--" in words:
        words = words[: words.index("--")]
    for i, w in enumerate(words):
        if w == "--json":
            return True
        if w in ("-f", "--format") and i + 1 < len(words) and words[i + 1] in ("json", "jsonl"):
            return True
        if w in ("--format=json", "--format=jsonl", "-fjson", "-fjsonl"):
            return True
    return False


# Set by a command once it has committed to the store: an interrupt after that point must
# not say "nothing was committed".
COMMITTED: list[str] = []


def _report_wait(store_path: object, seconds: float) -> None:
    """The store module's notice while it waits for another process's lock."""
    from redcat_cli.cli.render import terminal_safe

    _stderr_line(
        terminal_safe(
            f"waiting for store {store_path}: in use by another redcat process "
            f"({seconds:.0f} s; the limit is REDCAT_LOCK_TIMEOUT)"
        )
    )


def _stop_on_sigterm() -> None:
    """`kill PID` and a scheduler's stop: the same clean rollback as Ctrl-C."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def as_redcat_error(e: BaseException) -> Any:
    """A failure that is not a bug of ours as a RedcatError (a fault of the machine, a damaged
    store, memory), or None: then it is a bug."""
    from redcat_cli.errors import RedcatError, StoreError, SystemFault, system_fault

    if isinstance(e, RedcatError):
        return e
    stream = isinstance(e, OSError) and e.filename is None  # a write to stdout or stderr
    fault = system_fault(e, "cannot write the output" if stream else None)
    if fault is not None:
        return fault
    if isinstance(e, MemoryError):
        return SystemFault(
            "out of memory",
            hint="give fewer or smaller files at once, or free some memory",
            code="out_of_memory",
        )
    if isinstance(e, RecursionError):
        return RedcatError("the input is nested too deeply to read", code="bad_input")
    if type(e).__module__.startswith("_duckdb") or type(e).__module__.startswith("duckdb"):
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return StoreError(
            f"the store could not be read or written ({first})",
            hint="if the store file was damaged, restore it from a copy; "
            "run again with REDCAT_DEBUG=1 for details",
            code="store_unreadable",
        )
    return None


def fail(e: BaseException, as_json: bool) -> int:
    """Report a failure on stderr (text or one JSON object) and return the exit code."""
    from redcat_cli.cli.render import terminal_safe
    from redcat_cli.errors import CODES, Interrupted, RedcatError

    known = None if isinstance(e, click.ClickException) else as_redcat_error(e)
    if isinstance(e, click.exceptions.Abort | KeyboardInterrupt | Interrupted):
        message = (
            f"Interrupted after the ingest into {COMMITTED[-1]} was committed; "
            "see `redcat status` for what it holds."
            if COMMITTED
            else "Interrupted; nothing was committed."
        )
        error: dict[str, Any] = {
            "code": "interrupted",
            "message": message,
            "hint": None,
            "exit": 130,
        }
        text = message
    elif isinstance(known, RedcatError):
        if _debug():
            raise e
        error = known.to_dict()
        text = f"Error: {known}"
    elif isinstance(e, click.ClickException):
        code = (
            "unknown_command"
            if isinstance(e, UnknownCommand)
            else "usage"
            if isinstance(e, click.UsageError)
            else "bad_input"
            if isinstance(e, click.FileError)
            else "error"
        )
        ctx = getattr(e, "ctx", None)
        hint = f"see {ctx.command_path} --help" if ctx is not None else None
        error = {"code": code, "message": e.format_message(), "hint": hint, "exit": e.exit_code}
        if not as_json:
            import io

            buf = io.StringIO()
            e.show(file=buf)
            _stderr_line(terminal_safe(buf.getvalue().rstrip("\n")))
            return e.exit_code
        text = ""
    else:  # a bug: never a traceback for the user
        if _debug():
            raise e
        error = {
            "code": "internal",
            "message": f"Internal error: {type(e).__name__}: {e}",
            "hint": "this is a bug in redcat; run again with REDCAT_DEBUG=1 for the traceback.",
            "exit": 1,
        }
        text = f"{error['message']}\n  hint: {error['hint']}"
    assert error["code"] in CODES, error["code"]
    if as_json:
        from redcat_cli.cli.render import dumps, json_safe

        _stderr_line(json_safe(dumps({"error": error}, indent=None)))
    else:
        _stderr_line(terminal_safe(text))
    return int(error["exit"])


def _stderr_line(text: str) -> None:
    try:
        click.echo(text, err=True)
    except OSError:  # stderr itself is gone or full: nothing more can be said
        pass


def _flush_stdout(code: int, as_json: bool) -> int:
    """Flush stdout: a pipe closed by its reader is fine; a full disk is a fault of its own."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as e:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return code or fail(e, as_json)
    else:
        return code
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return code


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
    Exit codes: 0 ok, 1 bad data or contract (nothing committed), 2 usage error,
    3 the machine refused (disk full, permission denied…), 130 interrupted.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every failure into one clean line (or JSON object) and an exit code.
    As the program (not when embedded), SIGTERM rolls back like Ctrl-C."""
    _stop_on_sigterm()
    cli.main(args=argv, prog_name="redcat")
