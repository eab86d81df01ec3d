"""Lift: what the seeding added to Taobao sales, against a counterfactual from controls.

The library behind ``redcat lift``. It returns plain data and knows nothing of click.

Design: difference-in-differences on the unit × day panel (units are products, or the
store and a comparison series), pre period before the seeding start, post period from it.

- Estimator: least squares on log daily sales with unit and day effects and one
  treated × post indicator (``statsmodels`` OLS). Effects are multiplicative and products
  differ in size by 10× and more: on the log scale every product weighs the same, where a
  fit on amounts would be ruled by the two largest. Day effects absorb anything that lifts
  every unit on a day: 618 is not credited to the campaign. The relative effect is
  exp(δ) − 1, the counterfactual of the treated post sales is actual × e^(−δ), and
  incremental = actual × (1 − e^(−δ)). Days without sales have no log: they are left out
  and counted, and a unit with too many of them is left out whole.
- Inference that respects correlation within a unit over time: cluster-robust by unit
  (t with clusters − 1 df), or a permutation distribution that hands the treatment to random
  sets of control units (placebo in space). With two units (the store against a comparison
  series) it is a regression of the daily log ratio on the post indicator with
  Newey–West (HAC, 7 lags) errors.
- Falsification: a placebo start in the middle of the pre period (only pre data), and a
  pre-trend check (the treated units' weekly drift against the controls before the start).
- Naive: the treated units' own change in average daily sales, post vs pre, for contrast.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from redcat_cli.analysis.did import HAC_LAGS, LEVEL, fit, pre_trend
from redcat_cli.errors import QueryError, UsageError

MIN_PRE_DAYS = 7
DEFAULT_PRE_DAYS = 28
MIN_SALES_SHARE = 0.5
INFERENCE_CHOICES = ("cluster", "permutation")
OUTCOME_CHOICES = ("sycm", "qianniu")
CENT = Decimal("0.01")
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Request:
    treated: tuple[str, ...] = ()
    start: dt.date | None = None
    pre: tuple[dt.date, dt.date] | None = None
    post: tuple[dt.date, dt.date] | None = None
    outcome: str = "sycm"
    inference: str = "cluster"
    permutations: int = 500
    seed: int = 0
    comparison: dict[dt.date, Decimal] | None = None  # qianniu: the comparison series
    comparison_name: str = "comparison"
    calendar: str | None = None


@dataclass
class Panel:
    """Daily outcome per unit: ``table`` is a pandas DataFrame of units (rows, sorted) ×
    dates (columns, every day from the first to the last held) of Decimal amounts."""

    table: Any
    filled: int = 0  # unit-days absent from the export, taken as no sales

    @property
    def units(self) -> list[str]:
        return list(self.table.index)

    @property
    def dates(self) -> list[dt.date]:
        return list(self.table.columns)

    def total(self, units: list[str], days: list[dt.date]) -> Decimal:
        """The exact sum of the units' amounts over the days."""
        return sum(self.table.loc[units, days].to_numpy().ravel(), Decimal(0))


@dataclass
class Result:
    doc: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# --- the panel ------------------------------------------------------------------------


def make_panel(rows: list[tuple[str, dt.date, Decimal]]) -> Panel:
    """Every unit on every date between the first and last held; absent unit-days are 0
    (counted in ``filled``). A unit-day given twice keeps its last amount."""
    import pandas as pd

    long = pd.DataFrame(rows, columns=["unit", "date", "amount"], dtype=object)
    if long.empty:
        return Panel(pd.DataFrame(dtype=object))
    first, last = min(long["date"]), max(long["date"])
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    long = long.drop_duplicates(["unit", "date"], keep="last")
    wide = long.pivot(index="unit", columns="date", values="amount")
    wide = wide.reindex(index=sorted(wide.index), columns=dates)
    absent = wide.isna()
    return Panel(wide.where(~absent, Decimal(0)), int(absent.to_numpy().sum()))


def _arrays(panel: Panel, units: list[str], days: list[dt.date]) -> Any:
    """The amounts of the units over the days as floats, units × days."""
    import numpy as np

    return np.asarray(panel.table.loc[units, days].to_numpy(), dtype=np.float64).reshape(
        len(units), len(days)
    )


# --- the whole job --------------------------------------------------------------------


def _span(days: list[dt.date]) -> dict[str, dt.date]:
    return {"from": days[0], "to": days[-1]}


def _money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _incremental(actual: Decimal, delta: float) -> Decimal:
    """actual × (1 − e^(−δ)): the treated post sales minus their counterfactual."""
    return _money(actual * (Decimal(1) - Decimal(repr(math.exp(-delta)))))


def _pct(x: float, sign: bool = True) -> str:
    """0.153 → "+15%" (or "15%" without the sign); never "-0%"."""
    v = round(x * 100)
    return f"{v:+d}%" if sign and v else f"{v:d}%"


def resolve_periods(
    req: Request, first: dt.date, last: dt.date
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """--pre and --post, or their defaults: the 28 days before the start, start..last."""
    if req.start is None:
        raise UsageError("say when the seeding began: --start DATE")
    start = req.start
    if not first < start <= last:
        raise UsageError(
            f"--start {start} is outside the data: the store holds {first}..{last}, and the "
            "start needs at least one day before it",
            hint=f"give a start after {first} and no later than {last}",
        )
    pre = req.pre or (max(first, start - dt.timedelta(days=DEFAULT_PRE_DAYS)), start - ONE_DAY)
    post = req.post or (start, last)
    if pre[1] >= post[0]:
        raise UsageError(
            f"the pre period {pre[0]}..{pre[1]} must end before the post period {post[0]}..{post[1]} starts"
        )
    if pre[1] >= start:
        raise UsageError(f"the pre period {pre[0]}..{pre[1]} must end before --start {start}")
    if post[0] < start:
        raise UsageError(f"the post period {post[0]}..{post[1]} starts before --start {start}")
    for label, (a, b) in (("pre", pre), ("post", post)):
        if a < first or b > last:
            raise UsageError(
                f"the {label} period {a}..{b} reaches outside the data ({first}..{last})"
            )
    n_pre = (pre[1] - pre[0]).days + 1
    if n_pre < MIN_PRE_DAYS:
        raise UsageError(
            f"the pre period {pre[0]}..{pre[1]} has {n_pre} days; a counterfactual needs at "
            f"least {MIN_PRE_DAYS} days before the start",
            hint="ingest earlier days of the export, or move --start later",
        )
    return pre, post


def _panel_for(con: Any, req: Request) -> tuple[Panel, dict[str, str | None], str]:
    from redcat_cli.queries import held_text
    from redcat_cli.queries import lift as q

    if req.outcome == "sycm":
        if not q.has_rows(con, "sycm"):
            have = "千牛 订单报表" if q.has_rows(con, "qianniu") else None
            raise QueryError(
                "lift by product needs the 生意参谋 商品日报 (支付金额 per product and day); "
                f"the store holds none (it holds {held_text(con)})",
                hint=(
                    f"you have {have}: use --outcome qianniu with --comparison FILE"
                    if have
                    else "export it (生意参谋 → 品类 → 商品排行 → 日 → 下载) and ingest it"
                ),
            )
        return make_panel(q.sycm_panel(con)), q.sycm_products(con), q.OUTCOMES["sycm"]
    if not q.has_rows(con, "qianniu"):
        have = "生意参谋 商品日报" if q.has_rows(con, "sycm") else None
        raise QueryError(
            "lift on the store's paid GMV needs the 千牛 订单报表; the store holds none "
            f"(it holds {held_text(con)})",
            hint=(f"you have {have}: use --outcome sycm (the default)" if have else None),
        )
    if not req.comparison:
        raise UsageError(
            "--outcome qianniu compares the store with a comparison series",
            hint="give --comparison FILE: a CSV of date,amount (e.g. the category's daily sales)",
        )
    rows = [("store", d, v) for d, v in q.qianniu_daily(con)]
    rows += [(req.comparison_name, d, v) for d, v in req.comparison.items()]
    return make_panel(rows), {}, q.OUTCOMES["qianniu"]


def lift(con: Any, req: Request) -> Result:
    """Run the whole analysis on the store; raise UsageError/QueryError on refusals."""
    if req.outcome not in OUTCOME_CHOICES:
        raise UsageError(f"--outcome must be one of {', '.join(OUTCOME_CHOICES)}")
    if req.inference not in INFERENCE_CHOICES:
        raise UsageError(f"--inference must be one of {', '.join(INFERENCE_CHOICES)}")
    if req.permutations < 99:
        raise UsageError("--permutations needs at least 99 draws")
    panel, names, outcome = _panel_for(con, req)
    if req.outcome == "qianniu":
        treated_ids = ["store"]
    else:
        treated_ids = list(dict.fromkeys(req.treated))
        if not treated_ids:
            raise UsageError(
                "name the seeded products: --treated ID… or --treated-file FILE",
                hint="every other product of the shop is a control",
            )
        unknown = [t for t in treated_ids if t not in panel.table.index]
        if unknown:
            raise QueryError(
                f"the store's 生意参谋 data holds no product {', '.join(unknown)}",
                hint="check the ids against the 商品ID column (`redcat status` lists the kinds held)",
            )
    return analyse(panel, treated_ids, req, outcome, names)


def analyse(
    panel: Panel,
    treated_ids: list[str],
    req: Request,
    outcome: str,
    names: dict[str, str | None] | None = None,
) -> Result:
    """The estimate, placebo, pre-trend, naive figure, events and verdict for one panel."""
    import numpy as np

    from redcat_cli.analysis import calendar as calendar_events

    pre, post = resolve_periods(req, panel.dates[0], panel.dates[-1])
    pre_days = [d for d in panel.dates if pre[0] <= d <= pre[1]]
    post_days = [d for d in panel.dates if post[0] <= d <= post[1]]
    days = pre_days + post_days
    units, treated_used, controls, warnings = _comparable_units(
        panel, treated_ids, days, len(pre_days)
    )
    Y = _arrays(panel, units, days)
    warnings.extend(_check_design(Y, len(treated_used), len(controls), req))
    treated = np.array([u in set(treated_ids) for u in units])
    is_post = np.array([d >= post[0] for d in days])
    est = fit(Y, treated, is_post, req.inference, req.permutations, req.seed)
    # the placebo: a fake start halfway into the pre period, on pre data only
    fake = pre_days[len(pre_days) // 2]
    Yp = Y[:, : len(pre_days)]
    fake_post = np.array([d >= fake for d in pre_days])
    plc = fit(Yp, treated, fake_post, req.inference, req.permutations, req.seed)
    trend, trend_p = pre_trend(Yp, treated)

    actual_post = panel.total(treated_used, post_days)
    actual_pre = panel.total(treated_used, pre_days)
    naive = None
    if actual_pre > 0:
        naive = float((actual_post / len(post_days)) / (actual_pre / len(pre_days)) - Decimal(1))

    events, ev_warn = calendar_events.overlapping(
        {"pre": (pre[0], pre[1]), "post": (post[0], post[1])}, req.calendar
    )
    warnings.extend(ev_warn)
    warnings.extend(_falsification_warnings(trend, trend_p, fake, plc))
    doc: dict[str, Any] = {
        "outcome": outcome,
        "method": _method(len(units) == 2, req),
        "treated": treated_used,
        "controls": len(controls),
        "pre": _span(pre_days),
        "post": _span(post_days),
        "effect": {
            "relative": math.expm1(est.delta),
            "relative_ci_low": math.expm1(est.ci_low),
            "relative_ci_high": math.expm1(est.ci_high),
            "incremental": _incremental(actual_post, est.delta),
            "incremental_ci_low": _incremental(actual_post, est.ci_low),
            "incremental_ci_high": _incremental(actual_post, est.ci_high),
            "p_value": est.p_value,
            "level": LEVEL,
        },
        "naive": {"relative": naive},
        "placebo": {
            "start": fake,
            "relative": math.expm1(plc.delta),
            "relative_ci_low": math.expm1(plc.ci_low),
            "relative_ci_high": math.expm1(plc.ci_high),
            "p_value": plc.p_value,
        },
        "pre_trend": {"relative_per_week": trend, "p_value": trend_p},
        "actual": _money(actual_post),
        "events": events,
        "warnings": warnings,
    }
    doc["verdict"] = verdict(doc, names or {})
    return Result(doc, warnings)


def _comparable_units(
    panel: Panel, treated_ids: list[str], days: list[dt.date], n_pre: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """The units compared on logs (sales on at least half the days of each period), the
    treated and the controls among them, and warnings; refuses when either side is empty."""
    Y_all = _arrays(panel, panel.units, days)
    warnings: list[str] = []
    sparse = [
        u
        for u, row in zip(panel.units, Y_all, strict=True)
        if (row[:n_pre] > 0).mean() < MIN_SALES_SHARE or (row[n_pre:] > 0).mean() < MIN_SALES_SHARE
    ]
    if sparse:
        warnings.append(
            f"{len(sparse)} unit(s) sold on fewer than half the days of the pre or post period "
            f"and were left out: {', '.join(sparse[:8])}{' …' if len(sparse) > 8 else ''}."
        )
    units = [u for u in panel.units if u not in set(sparse)]
    treated_used = [u for u in treated_ids if u in units]
    controls = [u for u in units if u not in set(treated_ids)]
    if not treated_used:
        raise QueryError(
            "none of the treated units sold on at least half the days of the pre and post periods",
            hint="a daily comparison needs products that sell most days; widen --pre and --post",
        )
    if not controls:
        raise QueryError(
            "there are no control units: every product with sales is among the treated",
            hint="a counterfactual needs products the notes did not seed; leave some out of --treated",
        )
    if panel.filled:
        warnings.append(
            f"{panel.filled} unit-days were absent from the export and were taken as no sales."
        )
    return units, treated_used, controls, warnings


def _check_design(Y: Any, n_treated: int, n_controls: int, req: Request) -> list[str]:
    """Refuse what the inference cannot do; warn where it is weak."""
    warnings = []
    zero_days = int((Y <= 0).sum())
    if zero_days:
        warnings.append(
            f"{zero_days} unit-days without sales have no log and were left out of the fit."
        )
    two = Y.shape[0] == 2
    if two and (Y <= 0).any():
        raise QueryError(
            "the store or the comparison series has days without sales; the daily ratio needs "
            "sales on every day of the pre and post periods"
        )
    if req.inference == "permutation" and not two:
        if n_controls < n_treated + 1 or math.comb(n_controls, n_treated) < 20:
            raise UsageError(
                f"{n_controls} controls are too few for a permutation test of "
                f"{n_treated} treated units (fewer than 20 distinct placebo sets)",
                hint="use --inference cluster",
            )
    if req.inference == "cluster" and not two and min(n_treated, n_controls) < 5:
        warnings.append(
            f"Only {min(n_treated, n_controls)} "
            f"{'treated' if n_treated < n_controls else 'control'} units: "
            "cluster-robust intervals are unreliable with so few clusters; "
            "try --inference permutation."
        )
    return warnings


def _falsification_warnings(trend: float, trend_p: float, fake: dt.date, plc: Any) -> list[str]:
    warnings = []
    if trend_p < 0.05:
        warnings.append(
            f"Pre-trend check failed: before the start the treated units drifted "
            f"{_pct(trend)} a week against the controls (p {trend_p:.3f}); the parallel-trends "
            "assumption is doubtful."
        )
    if not plc.ci_low <= 0 <= plc.ci_high:
        warnings.append(
            f"The placebo start {fake} shows an effect of {_pct(math.expm1(plc.delta))} where "
            "there was none: treated and controls moved apart before the seeding."
        )
    return warnings


def _method(two: bool, req: Request) -> str:
    if two:
        return (
            "difference-in-differences of the daily log ratio store / comparison, "
            f"Newey-West (HAC, {HAC_LAGS} lags) errors"
        )
    if req.inference == "permutation":
        return (
            "difference-in-differences on log daily sales with unit and day effects; permutation "
            f"interval from {req.permutations} placebo sets of controls (seed {req.seed})"
        )
    return (
        "difference-in-differences on log daily sales with unit and day effects; "
        "cluster-robust (by unit) interval, t with clusters - 1 df"
    )


def verdict(doc: dict[str, Any], names: dict[str, str | None] | None = None) -> str:
    """One plain sentence: effect and interval, placebo, and the naive figure beside them."""
    e = doc["effect"]
    n = len(doc["treated"])
    who = (
        "the store's sales"
        if doc["treated"] == ["store"]
        else f"the {n} seeded product{'s' if n != 1 else ''}' sales"
        if n != 1
        else "the seeded product's sales"
    )
    rel, lo, hi = e["relative"], e["relative_ci_low"], e["relative_ci_high"]
    ci = f"(95% CI {_pct(lo, False)} to {_pct(hi, False)})"
    if lo > 0:
        head = f"Seeding added about {_pct(rel, False)} {ci} to {who}"
    elif hi < 0:
        head = f"{who[0].upper()}{who[1:]} fell about {_pct(-rel, False)} below the counterfactual {ci}"
    else:
        head = f"No effect of the seeding on {who} can be told apart from noise: {_pct(rel)} {ci}"
    p = doc["placebo"]
    if p["relative_ci_low"] <= 0 <= p["relative_ci_high"]:
        plc = "the placebo shows no effect"
    else:
        plc = (
            f"but the placebo start {p['start']} also shows {_pct(p['relative'])}, so the "
            "estimate is doubtful"
        )
    tail = ""
    naive = doc["naive"]["relative"]
    if naive is not None:
        tail = f"the naive before/after ({_pct(naive)})"
        gap = naive - rel
        festivals = sorted(
            {
                ev["name"]
                for ev in doc["events"]
                if ev["kind"] == "event" and ev["stage"] != "presale" and "post" in ev["periods"]
            }
        )
        cause = " and ".join(festivals) if festivals else "what moved every product"
        if abs(gap) < max(0.03, 0.25 * abs(rel)):
            tail += " is close to it"
        elif gap > abs(rel):
            tail += f" is mostly {cause}"
        elif gap > 0:
            tail += f" overstates it: {cause} lifted every product"
        else:
            tail += " understates it: every product sold less than before the start"
    return "; ".join(x for x in (head, plc, tail) if x) + "."


# --- inputs from files ----------------------------------------------------------------


def read_ids(path: str) -> list[str]:
    """Product ids, one a line (or comma-separated); blank lines and # comments skipped."""
    from redcat_cli.errors import IngestError

    try:
        text = open(path, encoding="utf-8-sig").read()
    except OSError as e:
        raise IngestError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise IngestError(f"{path} is not UTF-8 text", hint="save it as UTF-8") from None
    out: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        out.extend(p.strip() for p in line.split(",") if p.strip())
    if not out:
        raise IngestError(f"{path} names no product ids", hint="one 商品ID a line")
    return out


def read_comparison(path: str) -> dict[dt.date, Decimal]:
    """A comparison series: CSV with a header, a date column and an amount column."""
    import csv
    from decimal import InvalidOperation

    from redcat_cli.errors import IngestError

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as e:
        raise IngestError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise IngestError(f"{path} is not UTF-8 text", hint="save it as UTF-8") from None
    if len(rows) < 2 or len(rows[0]) < 2:
        raise IngestError(
            f"{path}: expected a header and rows of date,amount",
            hint="e.g. date,amount then 2025-05-01,12345.60",
        )
    out: dict[dt.date, Decimal] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            day = dt.date.fromisoformat(row[0].strip())
        except (ValueError, IndexError):
            raise IngestError(
                f"{path} line {line}: {row[0]!r} is not a date (YYYY-MM-DD)"
            ) from None
        try:
            amount = Decimal(row[1].strip().replace(",", ""))
        except (InvalidOperation, IndexError):
            raise IngestError(f"{path} line {line}: {row[1]!r} is not an amount") from None
        if not amount.is_finite() or amount < 0:
            raise IngestError(f"{path} line {line}: the amount must be 0 or more")
        if day in out:
            raise IngestError(f"{path} line {line}: {day} appears twice")
        out[day] = amount
    return out
