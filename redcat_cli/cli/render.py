"""The only module that knows about rich tables, JSON, JSON Lines and CSV.

Conventions (the JSON contract relies on them):
- ``Decimal`` is money: a string with two places, half-up ("1234.50").
- dates and datetimes are ISO 8601; missing values are ``null``.
- floats (rates, ROI, r) are numbers; NaN and infinities become ``null``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from redcat_cli.cells import truncate

CENT = Decimal("0.01")


# --- terminal safety ---------------------------------------------------------------------
# Every string printed for people passes through terminal_safe: a header name, a file name or
# a contract field could hold ESC sequences (OSC 52 writes the clipboard, OSC 0 the window
# title), C1 controls (U+009B is CSI by itself) or bidi overrides that reorder what is shown.
# They are shown escaped (\x1b, \u202e), never sent raw.
def _unsafe_chars() -> dict[int, str]:
    codes = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    codes += [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    return {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in codes}


_UNSAFE = _unsafe_chars()
_UNSAFE_MULTILINE = {c: v for c, v in _UNSAFE.items() if c != 0x0A}
# JSON escapes C0 itself; the rest it passes through as they are
_UNSAFE_JSON = {c: f"\\u{c:04x}" for c in _UNSAFE if c >= 0x7F}


_UNSAFE_JSON_FOUND = re.compile("[" + "".join(chr(c) for c in sorted(_UNSAFE_JSON)) + "]")


def json_safe(text: str) -> str:
    """JSON text with C1 controls, DEL and bidi overrides as \\u escapes (JSON escapes C0)."""
    if not _UNSAFE_JSON_FOUND.search(text):  # (a search is many times faster than translate)
        return text
    return text.translate(_UNSAFE_JSON)


def terminal_safe(text: object, *, multiline: bool = True) -> str:
    """Text fit for a terminal: control characters and bidi overrides shown as escapes.

    Line breaks stay when ``multiline`` (messages with a hint line); everything else that a
    terminal would act on (ESC, CSI, OSC, BEL, CR, backspace…) is written out as ``\\x1b``."""
    return str(text).translate(_UNSAFE_MULTILINE if multiline else _UNSAFE)


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def p_value(v: float | None) -> str | None:
    """A p-value for a table: 4 places, or scientific below 0.001."""
    if v is None:
        return None
    return f"{v:.2e}" if v < 0.001 else f"{v:.4f}"


def percent(v: float | None, places: int = 2, sign: bool = False) -> str | None:
    """A fraction as a percentage (0.153 → "15.30%", or "+15.3%" with sign and 1 place)."""
    if v is None:
        return None
    return f"{v * 100:+.{places}f}%" if sign else f"{v * 100:.{places}f}%"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, float):
        return None if (math.isnan(value) or math.isinf(value)) else value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return to_jsonable(value.item())
    return value


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise TypeError(type(value).__name__)


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    try:  # fast path: the encoder calls _default only for Decimals, dates and numpy scalars
        return json.dumps(obj, ensure_ascii=False, indent=indent, default=_default, allow_nan=False)
    except (ValueError, TypeError):  # NaN/inf somewhere, or keys that are not text: walk it
        return json.dumps(to_jsonable(obj), ensure_ascii=False, indent=indent, sort_keys=False)


# The version of every JSON output's contract (docs/json.md). It is bumped when a field is
# removed or renamed or changes meaning; fields may be added without a bump.
SCHEMA_VERSION = 1


def versioned(obj: Any) -> Any:
    """The object with ``schema_version`` as its first key (objects only)."""
    if isinstance(obj, dict):
        return {"schema_version": SCHEMA_VERSION, **obj}
    return obj


def emit_json(obj: Any) -> None:
    """JSON on stdout: indented for a terminal, compact (and encoded by the C encoder, several
    times faster) when piped to a program. Every object carries ``schema_version``; C1
    controls are written as \\u escapes (the same JSON value, nothing a terminal acts on)."""
    text = dumps(versioned(obj), indent=2 if sys.stdout.isatty() else None)
    sys.stdout.write(json_safe(text) + "\n")


def emit_jsonl(records: Iterable[Any]) -> None:
    """One JSON object a line, each with ``schema_version``."""
    for rec in records:
        sys.stdout.write(json_safe(dumps(versioned(rec), indent=None)) + "\n")


# --- CSV -------------------------------------------------------------------------------


def csv_bom() -> bool:
    """A UTF-8 BOM before CSV: asked for with --bom, or stdout is a file (`> x.csv`), which
    Excel on Windows would otherwise read as GBK and garble. Pipes and terminals stay plain."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("redcat_bom"):  # meta is shared by nested contexts
        return True
    try:
        import stat

        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CSV on stdout; cells Excel would run as formulas are neutralised (see files.excel_safe)."""
    from redcat_cli.files import csv_text

    text = csv_text(columns, ([to_jsonable(v) for v in row] for row in rows))
    if sys.stdout.isatty():  # for a person: nothing a terminal would act on
        text = "\r\n".join(terminal_safe(line, multiline=False) for line in text.split("\r\n"))
    sys.stdout.write(("\ufeff" if csv_bom() else "") + text)


# --- tables ----------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    footer: list[Any] | None = None
    caption: str | None = None
    justify: dict[str, str] = field(default_factory=dict)
    # columns that may be left out, first to go first, when the table is wider than the
    # terminal (numbers are never cut: a column goes whole or stays whole)
    optional: list[str] = field(default_factory=list)
    # a text column cut to this many cells, with an ellipsis (note titles)
    truncate: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Styled:
    """A cell with a meaning a colour shows: "bad" (red), "good" (green), "warn" (yellow),
    "strong" (bold). Without colour (NO_COLOR, a pipe) the text alone says it."""

    value: Any
    style: str


STYLES = {"bad": "red", "good": "green", "warn": "yellow", "strong": "bold", "muted": "dim"}
NUMBER = re.compile(r"^[-+−]?[¥]?[\d,]*\.?\d+(e[-+]?\d+)?%?$|^–$")


def _cell(value: Any) -> str:
    if isinstance(value, Styled):
        return _cell(value.value)
    if isinstance(value, list | tuple):  # one item a line
        return "\n".join(_cell(v) for v in value)
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return terminal_safe(value, multiline=False)


def _is_number(value: Any) -> bool:
    if isinstance(value, Styled):
        value = value.value
    if value is None or isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and bool(NUMBER.match(value.strip()))


def _width(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _console(stderr: bool) -> Any:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; a closed pipe is the reader's choice (`| head`): exit 0, quietly
            self.quiet = True
            raise BrokenPipeError

    return _Console(
        stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False
    )


def stdout_console() -> Any:
    return _console(False)


def stderr_console() -> Any:
    return _console(True)


def _rich_table(t: Table, columns: list[int], styled: bool) -> Any:
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    rt = RichTable(
        box=box.SIMPLE_HEAVY,
        show_footer=t.footer is not None,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )

    def text(i: int, v: Any) -> Any:
        out = _cell(v)
        if t.columns[i] in t.truncate:
            out = truncate(out, t.truncate[t.columns[i]])
        style = STYLES.get(v.style) if isinstance(v, Styled) and styled else None
        return Text(out, style=style or "")  # Text: never read as rich markup

    for i in columns:
        col = t.columns[i]
        cells = [text(i, r[i]).plain for r in t.rows]
        if t.footer is not None:
            cells.append(text(i, t.footer[i]).plain)
        numeric = bool(t.rows) and all(_is_number(r[i]) for r in t.rows)
        longest = max((_width(line) for c in cells for line in c.split("\n")), default=0)
        longest_word = max((_width(w) for c in cells for w in c.split()), default=0)
        # numbers, short codes, truncated titles and one-item-a-line lists are never cut
        listed = any(isinstance(r[i], list | tuple) for r in t.rows)
        whole = numeric or longest <= 12 or col in t.truncate or listed
        rt.add_column(
            Text(terminal_safe(col, multiline=False)),
            footer=text(i, t.footer[i]) if t.footer is not None else "",
            justify=t.justify.get(col, "right" if numeric else "left"),  # type: ignore[arg-type]
            overflow="fold",
            no_wrap=whole,
            # numbers and short codes are never cut; text wraps between words
            min_width=max(longest, min(_width(col), 9)) if whole else min(longest_word, 24),
        )
    for row in t.rows:
        rt.add_row(*(text(i, row[i]) for i in columns))
    return rt


def _needed(t: Table, columns: list[int]) -> int:
    """The narrowest the table can be without cutting a number or a truncated title: whole
    columns at their longest cell, text at its longest word, one space either side."""
    total = 0
    for i in columns:
        col = t.columns[i]
        cells = [_cell(r[i]) for r in t.rows] + ([_cell(t.footer[i])] if t.footer else [])
        if col in t.truncate:
            cells = [truncate(c, t.truncate[col]) for c in cells]
        longest = max((_width(x) for c in cells for x in c.split("\n")), default=0)
        numeric = bool(t.rows) and all(_is_number(r[i]) for r in t.rows)
        listed = any(isinstance(r[i], list | tuple) for r in t.rows)
        if numeric or longest <= 12 or col in t.truncate or listed:
            total += max(longest, min(_width(col), 9))
        else:
            total += min(max((_width(w) for c in cells for w in c.split()), default=0), 24)
    return total + 2 * len(columns) - 1  # one space between columns and at either edge


def emit_tables(tables: Sequence[Table]) -> None:
    """Each table under its title, never wider than the terminal: optional columns are left
    out (whole) until it fits, text wraps between words, numbers are never cut."""
    from rich.text import Text

    console = stdout_console()
    styled = console.color_system is not None and not console.no_color
    for n, t in enumerate(tables):
        if n:
            console.print()
        console.print(Text(terminal_safe(t.title), style="bold" if styled else ""))
        columns = list(range(len(t.columns)))
        dropped: list[str] = []
        for name in t.optional:
            if _needed(t, columns) <= console.width:
                break
            columns.remove(t.columns.index(name))
            dropped.append(name)
        console.print(_rich_table(t, columns, styled))
        caption = t.caption or ""
        if dropped:
            caption = (
                (f"{caption}\n" if caption else "")
                + f"Not shown at this width: {', '.join(dropped)} (a wider terminal, or --format csv)."
            )
        if caption:
            console.print(Text(terminal_safe(caption), style="dim" if styled else ""))


def emit_sentences(sentences: Sequence[str]) -> None:
    """What a view found, in plain sentences, before its table."""
    from rich.text import Text

    if not sentences:
        return
    console = stdout_console()
    for s in sentences:
        console.print(Text(terminal_safe(s)))
    console.print()


def notice(message: str, *, style: str = "") -> None:
    """A notice for people: stderr, never stdout."""
    stderr_console().print(
        terminal_safe(message), style=style or None, markup=False, highlight=False, soft_wrap=True
    )
