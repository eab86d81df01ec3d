"""When was an export made: the ``exported_on`` date every ingested file carries.

A day's outcomes (GMV, orders) keep growing in later exports until its attribution window
has passed, so the date a file was exported says how mature its numbers are. It is found,
in this order:

1. the date given with ``redcat ingest --exported-on DATE`` (``"option"``);
2. a date in the file's name (``"file name"``): ``20250715``, ``2025-07-15``, ``2025.07.15``,
   ``2025年7月15日``, or ``0715`` / ``7月15日`` read in the year of the file's last data date,
   or the next year when that would put it before the file's first data date. A file with
   no data dates (an order-detail export) reads a month-day only against a year-month its
   name also carries (``订单明细_202506_导出0701``: 2025-07-01, the year after when the
   month-day comes before that month); with neither, its year would be a guess and it is not
   read. A name's date
   counts only when it falls after the file's last data date, since names often carry the
   data's own range (``0601-0620``); of several that do, the latest;
3. the file's modification time, as a local date (``"modified time"``); standard input has
   none, so it is the day of the ingest (``"ingest date"``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redcat_cli.errors import IngestError
from redcat_cli.ingest.results import FileResult

FROM_OPTION = "option"
FROM_NAME = "file name"
FROM_MTIME = "modified time"
FROM_INGEST = "ingest date"

_FULL = re.compile(
    r"(?<!\d)(?P<y>20\d\d)(?P<sep>[-.]?)(?P<m>\d\d)(?P=sep)(?P<d>\d\d)(?!\d)"
    r"|(?<!\d)(?P<y2>20\d\d)年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日?"
)
_YEAR_MONTH = re.compile(r"(?<!\d)(?P<y>20\d\d)-?(?P<m>0[1-9]|1[0-2])(?![\d-])")
_SHORT = re.compile(
    r"(?<![\d年])(?P<m>\d{1,2})月(?P<d>\d{1,2})日|(?<!\d)(?P<m2>\d\d)(?P<d2>\d\d)(?!\d)"
)


@dataclass(frozen=True)
class ExportDate:
    date: dt.date
    found_from: str  # "option" | "file name" | "modified time" | "ingest date"


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def dates_in_name(name: str, first: dt.date | None, last: dt.date | None) -> list[dt.date]:
    """Every date a file name carries (full dates, then month-day read against the data)."""
    out: list[dt.date] = []
    rest = name
    for m in _FULL.finditer(name):
        if m.group("y"):
            d = _date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        else:
            d = _date(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
        if d:
            out.append(d)
        rest = rest.replace(m.group(0), " " * len(m.group(0)), 1)
    if last is None:  # no data dates: a year-month in the name gives the year, or nothing does
        ym = _YEAR_MONTH.search(rest)
        if ym is None:
            return out
        first = dt.date(int(ym.group("y")), int(ym.group("m")), 1)
        rest = rest.replace(ym.group(0), " " * len(ym.group(0)), 1)
        last = first
    year = last.year
    for m in _SHORT.finditer(rest):
        mm, dd = (m.group("m"), m.group("d")) if m.group("m") else (m.group("m2"), m.group("d2"))
        d = _date(year, int(mm), int(dd))
        if d and first and d < first:
            d = _date(year + 1, int(mm), int(dd))
        if d:
            out.append(d)
    return out


def date_from_name(
    names: Iterable[str], first: dt.date | None, last: dt.date | None
) -> dt.date | None:
    """The latest date in a name that falls after the data's last date (and not in the future)."""
    today = dt.date.today()
    for name in names:  # a zip member's own name first, then the archive's
        found = [
            d for d in dates_in_name(name, first, last) if (last is None or d > last) and d <= today
        ]
        if found:
            return max(found)
    return None


def name_parts(path: str) -> list[str]:
    """The file names to search: ``a.zip!b/c.csv`` gives ``c.csv`` then ``a.zip``."""
    parts = path.split("!")
    return [p.replace("\\", "/").rsplit("/", 1)[-1] for p in reversed(parts)]


def find_export_date(
    path: str,
    first: dt.date | None,
    last: dt.date | None,
    *,
    option: dt.date | None = None,
    mtime: float | None = None,
) -> ExportDate:
    """The export date of one file, and where it was found (see the module's doc)."""
    if option is not None:
        if last is not None and option < last:
            raise IngestError(
                f"{path}: --exported-on {option} is before the file's last data date {last}",
                hint="an export cannot hold days after the day it was made; check the date",
            )
        return ExportDate(option, FROM_OPTION)
    named = date_from_name(name_parts(path), first, last) if path != "-" else None
    if named is not None:
        return ExportDate(named, FROM_NAME)
    if mtime is not None:
        return ExportDate(dt.date.fromtimestamp(mtime), FROM_MTIME)
    return ExportDate(dt.date.today(), FROM_INGEST)


def _find_export_date(
    res: FileResult, dates: list[Any], option: dt.date | None, mtime: float | None
) -> None:
    """The file's export date, from the option, its name or its modification time."""
    first, last = min(dates, default=None), max(dates, default=None)
    found = find_export_date(res.path, first, last, option=option, mtime=mtime)
    res.exported_on, res.exported_on_from = found.date, found.found_from
    if found.found_from == FROM_MTIME and last is not None and found.date <= last:
        res.warnings.append(
            f"exported_on {found.date} (the file's modified time) is not after its last data "
            f"date {last}; give the export date with --exported-on"
        )
