"""The promotion calendar: e-commerce events (configs/calendar/) and public holidays.

- Events (618, 双11, 双12/年终好价节, 38节, 年货节, 99划算节) are data: one entry per event and
  year with its windows (presale, main, return), a ``source`` and a ``provisional`` flag.
  A user file of the same shape adds events or replaces a bundled one (same name and year).
- Public holidays and make-up workdays (调休) come from the ``chinesecalendar`` package (the
  State Council notices). It knows the years up to the latest notice; a date in a later year
  raises ``CalendarError`` naming the year — never "no holidays".

``overlapping(periods)`` lists what falls inside a set of labelled periods, for the warnings
of ``attribute`` and ``lift``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from redcat_cli.errors import RedcatError

STAGES = ("presale", "main", "return")
ENV_FILE = "REDCAT_CALENDAR"


class CalendarError(RedcatError):
    """The calendar file is invalid, or a year is not covered by the holiday data."""


@dataclass(frozen=True)
class Window:
    """One stage of an event (or one public holiday run), both dates inclusive."""

    name: str
    year: int
    stage: str  # presale | main | return | holiday | workday
    start: dt.date
    end: dt.date
    source: str
    provisional: bool
    kind: str = "event"  # event | holiday

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return self.start <= end and start <= self.end


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def parse_events(doc: Any, origin: str) -> list[Window]:
    """Windows of a calendar document; every problem names the file and the entry."""
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise CalendarError(f"{origin}: a calendar file holds `events:`, a list of events")
    out: list[Window] = []
    for i, ev in enumerate(doc["events"], start=1):
        where = f"{origin}: event {i}"
        if not isinstance(ev, dict):
            raise CalendarError(f"{where} is not a mapping")
        name = str(ev.get("name") or "").strip()
        if not name:
            raise CalendarError(f"{where} has no name")
        where = f"{origin}: event {name!r}"
        year = ev.get("year")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise CalendarError(f"{where}: year must be a number such as 2025")
        source = str(ev.get("source") or "").strip()
        if not source:
            raise CalendarError(f"{where} {year}: say where the dates come from (source:)")
        provisional = ev.get("provisional", False)
        if not isinstance(provisional, bool):
            raise CalendarError(f"{where} {year}: provisional must be true or false")
        windows = ev.get("windows")
        if not isinstance(windows, list) or not windows:
            raise CalendarError(f"{where} {year}: give at least one window (stage, from, to)")
        for w in windows:
            if not isinstance(w, dict):
                raise CalendarError(f"{where} {year}: a window is a mapping of stage, from, to")
            stage = str(w.get("stage", "main"))
            if stage not in STAGES:
                raise CalendarError(f"{where} {year}: stage must be one of {', '.join(STAGES)}")
            start = _date(w.get("from"), f"{where} {year} {stage}")
            end = _date(w.get("to"), f"{where} {year} {stage}")
            if end < start:
                raise CalendarError(f"{where} {year} {stage}: ends before it starts")
            out.append(Window(name, year, stage, start, end, source, provisional))
    return out


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CalendarError(f"cannot read calendar file {path}: {e.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CalendarError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    except ValueError as e:  # YAML reads 2025-13-01 as a date, and fails
        raise CalendarError(f"{path} holds a value that is not a date ({e})") from None


@cache
def bundled_events() -> tuple[Window, ...]:
    from redcat_cli.resources import configs_dir

    path = configs_dir() / "calendar" / "events.yaml"
    return tuple(parse_events(_read_yaml(path), path.name))


def load_events(user_file: str | os.PathLike[str] | None = None) -> list[Window]:
    """Bundled events, with the user's file (argument, else $REDCAT_CALENDAR) on top.

    A user entry with the same name and year as a bundled one replaces all its windows.
    """
    events = list(bundled_events())
    path = user_file or os.environ.get(ENV_FILE) or None
    if path:
        user = parse_events(_read_yaml(Path(path)), str(path))
        replaced = {(w.name, w.year) for w in user}
        events = [w for w in events if (w.name, w.year) not in replaced] + user
    return sorted(events, key=lambda w: (w.start, w.name))


def holidays(start: dt.date, end: dt.date) -> list[Window]:
    """Public holidays and make-up workdays between two dates, as runs of days.

    Raises ``CalendarError`` for a year the installed chinesecalendar has no data for.
    """
    import chinese_calendar

    runs: list[Window] = []
    day = start
    src = "chinesecalendar (State Council holiday notices)"
    while day <= end:
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            raise CalendarError(
                f"the public holidays of {day.year} are not known to the installed "
                "chinesecalendar package",
                hint="upgrade it (pip install -U chinesecalendar); it is updated each November "
                "after the State Council notice",
            ) from None
        if name is not None:
            stage = "holiday" if on_holiday else "workday"
            last = runs[-1] if runs else None
            if (
                last is not None
                and last.name == name
                and last.stage == stage
                and last.end == day - dt.timedelta(days=1)
            ):
                runs[-1] = Window(name, day.year, stage, last.start, day, src, False, "holiday")
            else:
                runs.append(Window(name, day.year, stage, day, day, src, False, "holiday"))
        day += dt.timedelta(days=1)
    return runs


def overlapping(
    periods: dict[str, tuple[dt.date, dt.date]],
    user_file: str | os.PathLike[str] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Events and holidays inside the labelled periods, and the warnings to print.

    Returns (entries, warnings). Each entry names the window and the periods it overlaps.
    A year without holiday data gives a warning saying so, not an empty list.
    """
    spans = list(periods.values())
    if not spans:
        return [], []
    lo = min(s for s, _ in spans)
    hi = max(e for _, e in spans)
    warnings: list[str] = []
    windows: list[Window] = [w for w in load_events(user_file) if w.overlaps(lo, hi)]
    try:
        windows += [w for w in holidays(lo, hi) if w.stage == "holiday"]
    except CalendarError as e:
        warnings.append(f"Public holidays not checked: {e.message}.")
    entries: list[dict[str, Any]] = []
    for w in sorted(windows, key=lambda w: (w.start, w.name)):
        hit = [label for label, (s, e) in periods.items() if w.overlaps(s, e)]
        if not hit:
            continue
        entries.append(
            {
                "name": w.name,
                "kind": w.kind,
                "stage": w.stage,
                "from": w.start,
                "to": w.end,
                "provisional": w.provisional,
                "source": w.source,
                "periods": hit,
            }
        )
    for label, (start, end) in periods.items():
        names = _names(x for x in entries if label in list(x["periods"]) and x["kind"] == "event")
        if names:
            warnings.append(f"The {label} period {start}..{end} overlaps {names}.")
    return entries, warnings


def _names(entries: Iterable[dict[str, Any]]) -> str:
    """`618 2025 (main 2025-05-13..2025-06-18, provisional)`, joined."""
    parts = []
    for e in entries:
        prov = ", provisional" if e["provisional"] else ""
        parts.append(f"{e['name']} {e['from'].year} ({e['stage']} {e['from']}..{e['to']}{prov})")
    return "; ".join(parts)
