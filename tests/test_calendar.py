"""The promotion calendar: bundled events, user overrides, public holidays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from redcat_cli.analysis import calendar as cal

D = dt.date


def test_bundled_events_cover_every_festival_each_year_with_a_source() -> None:
    events = cal.load_events()
    for year in (2024, 2025, 2026):
        names = {w.name for w in events if w.year == year}
        assert names == {"618", "双11", "双12/年终好价节", "38节", "年货节", "99划算节"}
    assert all(w.source and w.stage in cal.STAGES and w.start <= w.end for w in events)
    # the 2025 windows confirmed by public reporting; 2026 is all provisional
    six18 = next(w for w in events if (w.name, w.year, w.stage) == ("618", 2025, "main"))
    assert (six18.start, six18.end, six18.provisional) == (D(2025, 5, 13), D(2025, 6, 18), False)
    assert all(w.provisional for w in events if w.year == 2026)


def test_holidays_and_makeup_workdays_from_chinesecalendar() -> None:
    runs = cal.holidays(D(2025, 4, 25), D(2025, 5, 6))
    got = [(w.name, w.stage, w.start, w.end) for w in runs]
    # 2025 Labour Day: 05-01..05-05 off, Sunday 04-27 worked in exchange (State Council notice)
    assert ("Labour Day", "workday", D(2025, 4, 27), D(2025, 4, 27)) in got
    assert ("Labour Day", "holiday", D(2025, 5, 1), D(2025, 5, 5)) in got


def test_a_year_without_holiday_data_is_an_error_naming_it() -> None:
    with pytest.raises(cal.CalendarError, match="public holidays of 2031"):
        cal.holidays(D(2031, 1, 1), D(2031, 1, 3))
    entries, warnings = cal.overlapping({"pre": (D(2031, 1, 1), D(2031, 1, 3))})
    assert entries == []
    assert warnings and "2031" in warnings[0] and "not checked" in warnings[0]


def test_overlapping_names_the_event_and_the_period() -> None:
    entries, warnings = cal.overlapping(
        {"pre": (D(2025, 10, 1), D(2025, 10, 14)), "post": (D(2025, 10, 15), D(2025, 10, 31))}
    )
    events = [(e["name"], e["stage"], e["periods"]) for e in entries if e["kind"] == "event"]
    assert events == [("双11", "main", ["post"])]
    assert warnings == [
        "The post period 2025-10-15..2025-10-31 overlaps 双11 2025 (main 2025-10-15..2025-11-14)."
    ]
    assert any(e["name"] == "National Day" for e in entries)  # 10-01..10-08, a holiday


def test_user_file_adds_and_overrides(tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "brand.yaml"
    f.write_text(
        "events:\n"
        "  - {name: '618', year: 2025, source: brand plan, provisional: true,\n"
        "     windows: [{stage: presale, from: 2025-05-20, to: 2025-05-30}]}\n"
        "  - {name: 品牌日, year: 2025, source: brand plan,\n"
        "     windows: [{from: 2025-07-08, to: 2025-07-08}]}\n",
        encoding="utf-8",
    )
    events = cal.load_events(f)
    six18 = [(w.stage, w.start) for w in events if (w.name, w.year) == ("618", 2025)]
    assert six18 == [("presale", D(2025, 5, 20))]  # every bundled 618-2025 window replaced
    assert any(w.name == "品牌日" and w.stage == "main" for w in events)
    monkeypatch.setenv("REDCAT_CALENDAR", str(f))
    assert any(w.name == "品牌日" for w in cal.load_events())


@pytest.mark.parametrize(
    "body, message",
    [
        ("events: 3\n", "a list of events"),
        (
            "events:\n  - {year: 2025, source: x, windows: [{from: 2025-01-01, to: 2025-01-02}]}\n",
            "has no name",
        ),
        (
            "events:\n  - {name: a, year: 2025, windows: [{from: 2025-01-01, to: 2025-01-02}]}\n",
            "source",
        ),
        (
            "events:\n  - {name: a, year: 2025, source: x, windows: [{from: 2025-01-05, to: 2025-01-02}]}\n",
            "ends before it starts",
        ),
        (
            "events:\n  - {name: a, year: 2025, source: x, windows: [{stage: sale, from: 2025-01-01, to: 2025-01-02}]}\n",
            "stage must be",
        ),
        (
            "events:\n  - {name: a, year: 2025, source: x, windows: [{from: 2025-13-01, to: 2025-01-02}]}\n",
            "not a date",
        ),
        ("events: [\n", "not valid YAML"),
    ],
)
def test_bad_user_files_are_refused_clearly(tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(cal.CalendarError, match=message):
        cal.load_events(f)
