"""A contract's terms, as the settlement engine reads them: plain frozen dataclasses.

They are built from a contract file that the contract model (``contract_model``) has validated;
``contract.load_contract`` is the way in. Nothing here reads files or validates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

CYCLES = ("period", "month", "week", "day")
FORMULAS = ("qianchuan", "xhs", "tiered")
SOURCES = ("xinghe", "juguang")
ROUNDINGS = ("half_up", "half_even")
GUARANTEE_PAYOUT_FORMS = ("ad_credit", "cash")
MATCHED_PAYOUT_FORMS = ("media_credit", "ad_credit", "cash")
XINGHE_WINDOWS = (1, 3, 7, 15, 30)
JUGUANG_WINDOWS = (7, 15, 30)
DEFAULT_FLOW_TYPE = "全部流量"
MAX_PERIOD_DAYS = 3_660


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Scope:
    note_ids: tuple[str, ...] | None = None
    plan_ids: tuple[str, ...] | None = None

    @property
    def everything(self) -> bool:
        return self.note_ids is None and self.plan_ids is None


@dataclass(frozen=True)
class GmvSource:
    source: str  # xinghe | juguang
    window_days: int
    flow_type: str | None  # xinghe only

    def describe(self) -> str:
        if self.source == "xinghe":
            return f"种草星河 商家GMV, {self.flow_type}, {self.window_days}-day window"
        return f"聚光 行业商品GMV, {self.window_days}-day window"


@dataclass(frozen=True)
class Target:
    start: dt.date
    roi: Decimal


@dataclass(frozen=True)
class Tier:
    roi_from: Decimal
    roi_to: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Cap:
    amount: Decimal | None = None
    pct_of_spend: Decimal | None = None


@dataclass(frozen=True)
class RoiGuarantee:
    targets: tuple[Target, ...]
    trigger_factor: Decimal
    formula: str  # qianchuan | xhs | tiered
    tiers: tuple[Tier, ...] = ()
    refund_rate: Decimal = Decimal("1")
    min_spend: Decimal | None = None
    min_orders: int | None = None
    cap: Cap = Cap()
    payout_form: str = "ad_credit"


@dataclass(frozen=True)
class MatchedInvestment:
    ratio: Decimal
    threshold: Decimal
    cap: Decimal | None = None
    payout_form: str = "media_credit"


@dataclass(frozen=True)
class Contract:
    contract_id: str
    merchant: str
    period: Period
    gmv: GmvSource
    currency: str = "CNY"
    cycle: str = "period"
    scope: Scope = Scope()
    roi_guarantee: RoiGuarantee | None = None
    matched_investment: MatchedInvestment | None = None
    rounding: str = "half_up"
    path: str = "<contract>"
    sha256: str = ""
    # dotted key -> line in the file, for messages that come later (e.g. the store check)
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, key: str) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return 1

    def summary(self) -> str:
        parts = [
            f"{self.contract_id} ({self.merchant})",
            f"{self.period.start}..{self.period.end}",
            f"cycle {self.cycle}",
            f"GMV {self.gmv.describe()}",
        ]
        g = self.roi_guarantee
        if g is not None:
            targets = ", ".join(f"{t.roi} from {t.start}" for t in g.targets)
            parts.append(f"guarantee {g.formula}: target {targets}, trigger × {g.trigger_factor}")
        m = self.matched_investment
        if m is not None:
            parts.append(f"matched {m.ratio} when spend ≥ {m.threshold}")
        parts.append(f"rounding {self.rounding}")
        return "; ".join(parts)
