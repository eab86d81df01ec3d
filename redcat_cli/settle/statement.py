"""A settlement statement and its lines, the engine's inputs, and the one rounding rule.

Every statement line is rounded once, to 0.01, with the contract's rule, from exact values
(``round_fen``); totals are sums of the rounded lines. Money in the working texts is written
with the same rule (``fmt_money``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from redcat_cli import __version__

CENT = Decimal("0.01")
ZERO = Fraction(0)


# --- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFacts:
    """One day of the in-scope notes, summed in the store. ``None`` means no data, not 0."""

    date: dt.date
    spend: Decimal | None = None
    gmv: Decimal | None = None
    orders: int | None = None
    # the date of the (earliest) export that supplied the day's current GMV; None: unknown
    exported_on: dt.date | None = None


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str


# --- rounding ----------------------------------------------------------------------------


def round_fen(value: Fraction | Decimal | int, rounding: str = "half_up") -> Decimal:
    """Round an exact value to 0.01 once: half_up (ties away from zero) or half_even.

    Works on the exact rational, so a value is a tie only when it truly is one; the result
    equals ``Decimal.quantize(CENT, ROUND_HALF_UP / ROUND_HALF_EVEN)`` whenever the value is
    a finite decimal.
    """
    x = Fraction(value)
    scaled = abs(x) * 100
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator:
        q += 1
    elif twice == scaled.denominator:
        if rounding == "half_up" or q % 2 == 1:
            q += 1
    sign = -1 if x < 0 and q else 1
    return (Decimal(sign * q) * CENT).quantize(CENT)


def fmt_money(value: Fraction | Decimal, rounding: str) -> str:
    """Money for the working: two places."""
    return str(round_fen(Fraction(value), rounding))


def roi_text(value: Fraction) -> str:
    """A ratio for people: four places, half-up (display only; never compared)."""
    scaled = value * 10000
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return str((Decimal(q) * Decimal("0.0001")).quantize(Decimal("0.0001")))


# --- the statement -----------------------------------------------------------------------


@dataclass(frozen=True)
class GuaranteeLine:
    target_roi: str | None
    eligible: bool
    triggered: bool | None
    reason: str
    amount_before_cap: Decimal
    cap_applied: str | None  # None | "amount" | "pct_of_spend"
    payout: Decimal
    working: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_roi": self.target_roi,
            "eligible": self.eligible,
            "triggered": self.triggered,
            "reason": self.reason,
            "amount_before_cap": str(self.amount_before_cap),
            "cap_applied": self.cap_applied,
            "payout": str(self.payout),
            "working": self.working,
        }


@dataclass(frozen=True)
class MatchedLine:
    eligible: bool
    reason: str
    amount: Decimal
    working: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "reason": self.reason,
            "amount": str(self.amount),
            "working": self.working,
        }


@dataclass(frozen=True)
class CycleStatement:
    start: dt.date
    end: dt.date
    spend: Decimal
    gmv: Decimal | None
    orders: int | None
    roi: float | None
    roi_text: str | None
    roi_guarantee: GuaranteeLine | None
    matched_investment: MatchedLine | None
    net_ad_cost: Decimal
    final: bool = True
    final_reason: str = ""
    complete: bool = True  # every day with spend has GMV reported

    @property
    def payout(self) -> Decimal:
        return self.roi_guarantee.payout if self.roi_guarantee else Decimal("0.00")

    @property
    def matched(self) -> Decimal:
        return self.matched_investment.amount if self.matched_investment else Decimal("0.00")

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "spend": str(self.spend),
            "gmv": None if self.gmv is None else str(self.gmv),
            "orders": self.orders,
            "roi": self.roi,
            "roi_guarantee": None if self.roi_guarantee is None else self.roi_guarantee.to_dict(),
            "matched_investment": None
            if self.matched_investment is None
            else self.matched_investment.to_dict(),
            "final": self.final,
            "final_reason": self.final_reason,
        }


@dataclass(frozen=True)
class Totals:
    spend: Decimal
    gmv: Decimal
    roi_guarantee_payout: Decimal
    matched_investment: Decimal
    net_ad_cost: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "spend": str(self.spend),
            "gmv": str(self.gmv),
            "roi_guarantee_payout": str(self.roi_guarantee_payout),
            "matched_investment": str(self.matched_investment),
            "net_ad_cost": str(self.net_ad_cost),
        }


@dataclass(frozen=True)
class Statement:
    contract_id: str
    merchant: str
    currency: str
    final: bool
    final_reason: str
    as_of: dt.date
    cycles: tuple[CycleStatement, ...]
    totals: Totals
    contract_sha256: str
    inputs: tuple[InputFile, ...] = ()
    redcat_version: str = __version__
    rounding: str = "half_up"
    gmv_basis: str = ""  # for people: where GMV and orders were read (not part of the JSON)
    # the projected final payout of a provisional statement (redcat_cli.settle.projection)
    projected_cycles: tuple[dict[str, Any] | None, ...] = ()
    projected_totals: dict[str, Any] | None = None
    projection_note: str | None = None
    curve: Any = None  # the maturity curve used (for the report; not part of the JSON)

    def check(self) -> None:
        """Totals are the sums of the rounded lines; every line has two places.

        Raised as an error, not asserted: the check must hold under ``python -O`` too."""
        c = self.cycles
        zero = Decimal("0.00")
        checks = [
            ("spend", self.totals.spend == sum((x.spend for x in c), zero)),
            ("gmv", self.totals.gmv == sum((x.gmv for x in c if x.gmv is not None), zero)),
            ("payout", self.totals.roi_guarantee_payout == sum((x.payout for x in c), zero)),
            ("matched", self.totals.matched_investment == sum((x.matched for x in c), zero)),
            (
                "net cost",
                self.totals.net_ad_cost == self.totals.spend - self.totals.roi_guarantee_payout,
            ),
        ]
        for x in c:
            checks.append((f"net cost {x.start}", x.net_ad_cost == x.spend - x.payout))
            for v in (x.spend, x.gmv, x.payout, x.matched, x.net_ad_cost):
                checks.append((f"two places {x.start}", v is None or v.as_tuple().exponent == -2))
        failed = [name for name, ok in checks if not ok]
        if failed:
            raise ArithmeticError(
                f"statement lines do not add up to their totals: {', '.join(failed)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON contract (docs/settle.md). Money is a two-place string."""
        cycles = [c.to_dict() for c in self.cycles]
        for i, c in enumerate(cycles):
            c["projected"] = self.projected_cycles[i] if i < len(self.projected_cycles) else None
        return {
            "contract_id": self.contract_id,
            "merchant": self.merchant,
            "currency": self.currency,
            "final": self.final,
            "final_reason": self.final_reason,
            "as_of": self.as_of.isoformat(),
            "cycles": cycles,
            "totals": {**self.totals.to_dict(), "projected": self.projected_totals},
            "projection_note": self.projection_note,
            "audit": {
                "contract_sha256": self.contract_sha256,
                "inputs": [
                    {"path": i.path, "sha256": i.sha256}
                    for i in sorted(self.inputs, key=lambda i: (i.path, i.sha256))
                ],
                "redcat_version": self.redcat_version,
            },
        }


@dataclass(frozen=True)
class CycleSums:
    spend: Fraction
    gmv: Fraction | None  # None: no GMV reported at all
    orders: int | None
    gmv_by_target: tuple[tuple[Decimal, Fraction], ...]  # (target roi, GMV of its segment)


@dataclass(frozen=True)
class Gaps:
    """Days of a cycle with spend but no GMV reported: the cycle is incomplete."""

    missing: tuple[dt.date, ...]
    with_spend: int

    @property
    def text(self) -> str:
        return f"GMV reported on {self.with_spend - len(self.missing)} of {self.with_spend} days with spend"


def days_text(days: Sequence[dt.date]) -> str:
    """Dates for people: runs of consecutive days as first..last."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs)
