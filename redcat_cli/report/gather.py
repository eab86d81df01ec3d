"""What the report shows, read from the store: attribution by note and by day, the uplift,
the statements, the ingest log, the lift."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from redcat_cli import __version__
from redcat_cli.errors import UsageError

MAX_LAG = 7


@dataclass(frozen=True)
class ReportRequest:
    """What to report on. ``baseline``/``compare`` default to the halves of the date range."""

    store: str
    contracts: tuple[str, ...] = ()
    as_of: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    flow_type: str | None = None
    window_days: int | None = None
    baseline: tuple[dt.date, dt.date] | None = None
    compare: tuple[dt.date, dt.date] | None = None
    max_lag: int = MAX_LAG
    seed: int = 0
    n_boot: int = 2000
    merchant: str | None = None
    lift: Any = None  # lift.Request: the seeded products and start, for the lift section


@dataclass
class Report:
    request: ReportRequest
    as_of: dt.date
    by_note: Any  # attribute.Result, by note, with the uplift
    by_day: Any  # attribute.Result, by day, with the lag scan
    periods: tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None
    periods_given: bool  # False: the halves of the date range
    span: tuple[dt.date | None, dt.date | None]
    statements: list[Any] = field(default_factory=list)  # settle.Statement
    contract_files: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256)
    ingest_log: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lift: dict[str, Any] | None = None  # lift's document, when asked for
    version: str = __version__


# --- gather ------------------------------------------------------------------------------


def halves(
    first: dt.date, last: dt.date
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    """The first and second half of [first, last]; the first half is the shorter for odd spans."""
    days = (last - first).days + 1
    if days < 2:
        return None
    head = days // 2
    mid = first + dt.timedelta(days=head)
    return (first, mid - dt.timedelta(days=1)), (mid, last)


def _ingest_log(con: Any) -> list[dict[str, Any]]:
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "ingest_log" not in tables:
        return []
    cur = con.execute(
        "SELECT id, name, path, source, sha256, rows_loaded, rows_updated, redcat_version "
        "FROM ingest_log ORDER BY id"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _periods(
    req: ReportRequest, first: dt.date | None, last: dt.date | None
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    """The uplift's periods: as asked, else the halves of the date range held."""
    if req.baseline is not None and req.compare is not None:
        return (req.baseline, req.compare)
    if first is not None and last is not None and first <= last:
        return halves(first, last)
    return None


def _attribution(con: Any, req: ReportRequest, periods: Any) -> tuple[Any, Any]:
    """Attribution by note (with the uplift between the periods) and by day (with the lag scan)."""
    from redcat_cli.analysis import attribute as attr

    common: dict[str, Any] = {
        "flow_type": req.flow_type,
        "window_days": req.window_days,
        "date_from": req.date_from,
        "date_to": req.date_to,
        "seed": req.seed,
        "n_boot": req.n_boot,
    }
    by_note = attr.attribute(
        con,
        attr.Request(
            by="note",
            baseline=periods[0] if periods else None,
            compare=periods[1] if periods else None,
            **common,
        ),
    )
    by_day = attr.attribute(con, attr.Request(by="day", max_lag=req.max_lag, **common))
    return by_note, by_day


def gather(req: ReportRequest) -> Report:
    """Read everything the report shows: attribution by note and by day, uplift, statements."""
    from redcat_cli.queries import attribute as q
    from redcat_cli.queries import merchant_scope
    from redcat_cli.queries.settle import settle_on_store
    from redcat_cli.settle.contract import load_contracts
    from redcat_cli.store.db import open_store
    from redcat_cli.store.merchants import for_reading

    if (req.baseline is None) != (req.compare is None):
        raise UsageError("--baseline and --compare go together", hint="give both periods")
    if req.date_from and req.date_to and req.date_to < req.date_from:
        raise UsageError("--to is before --from")
    as_of = req.as_of or dt.date.today()
    contracts = load_contracts(req.contracts)
    contract_files = [(p, c.sha256) for p, c in zip(req.contracts, contracts, strict=True)]

    with (
        open_store(req.store, read_only=True) as store,
        merchant_scope(for_reading(store.con, req.merchant)),
    ):
        con = store.con
        q.check_tables(con)
        first, last = q.date_span(con)
        if first is not None and last is not None:
            first = max(first, req.date_from) if req.date_from else first
            last = min(last, req.date_to) if req.date_to else last
        warnings: list[str] = []
        periods = _periods(req, first, last)
        if periods is None:
            warnings.append("The data covers fewer than two days: no uplift between periods.")
        by_note, by_day = _attribution(con, req, periods)
        for w in (*by_note.warnings, *by_day.warnings):
            if w not in warnings:
                warnings.append(w)

        statements = settle_on_store(con, contracts, as_of, merchant=req.merchant)
        log = _ingest_log(con)
        lift_doc = None
        if req.lift is not None:
            from redcat_cli.analysis import lift

            lift_res = lift.lift(con, req.lift)
            lift_doc = lift_res.doc
            for w in lift_res.warnings:
                if w not in warnings:
                    warnings.append(w)

    return Report(
        request=req,
        as_of=as_of,
        by_note=by_note,
        by_day=by_day,
        periods=periods,
        periods_given=req.baseline is not None,
        span=(first, last),
        statements=statements,
        contract_files=contract_files,
        ingest_log=log,
        warnings=warnings,
        lift=lift_doc,
    )
