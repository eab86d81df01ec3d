"""The contract model: what a contract file may hold, as pydantic v2 models.

This is the one definition of a contract file. ``contract.parse_contract`` composes the YAML
with its marks (``yamlmarks``) and validates that data here; the JSON Schema that
``redcat contract schema`` prints is generated from the same models (``contract_messages``).

Each value is checked by its type (``Text``, ``Choice``, ``Money``, ``Rate01``, ``IsoDate``…: the
text as written, never a float), ranges by pydantic's constraints (``ge``, ``gt``, ``le``), and
what depends on several keys by the section that holds them. A problem is not a string yet: it
is a :class:`Say` (what, where in the file, on which line) so that every problem of the file can
be reported at once, in the order of the file, worded as ``contract_messages`` words them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from redcat_cli.settle import terms
from redcat_cli.settle.contract_section import Section, says_of
from redcat_cli.settle.contract_values import (
    KEY,
    Choice,
    Currency,
    Decimal0,
    IsoDate,
    Money,
    Positive,
    Rate01,
    Say,
    Text,
    choice,
    decimal,
    fail,
    key_line,
    ok,
    sequence,
    text,
    whole,
)
from redcat_cli.settle.terms import (
    CYCLES,
    FORMULAS,
    GUARANTEE_PAYOUT_FORMS,
    JUGUANG_WINDOWS,
    MATCHED_PAYOUT_FORMS,
    MAX_PERIOD_DAYS,
    ROUNDINGS,
    SOURCES,
    XINGHE_WINDOWS,
)
from redcat_cli.settle.yamlmarks import (
    YamlMap,
    line_of,
)


class Period(Section):
    """Inclusive dates."""

    SECTION = "period"
    start: IsoDate
    end: IsoDate

    def after(self, data: dict[str, Any], info: ValidationInfo) -> list[Say]:
        line = line_of(data["end"])
        days = (self.end - self.start).days + 1
        if self.end < self.start:
            return [
                Say(
                    (),
                    f".end {self.end} is before period.start {self.start}",
                    "end on or after start",
                    "both dates are inclusive",
                    line,
                    rank=(2, 2),
                )
            ]
        if days > MAX_PERIOD_DAYS:
            return [
                Say(
                    (),
                    f" {self.start}..{self.end} is {days:,} days long",
                    f"a period of at most {MAX_PERIOD_DAYS:,} days (ten years)",
                    "settle a long deal in several contracts",
                    line,
                    rank=(2, 2),
                )
            ]
        if info.context is not None:
            info.context["period"] = terms.Period(self.start, self.end)
        return []


def ids(value: Any) -> tuple[str, ...]:
    """Note or plan IDs as written, sorted, each once."""
    items = sequence(value, "IDs")
    says: list[Say] = []
    got: set[str] = set()
    for i, item in enumerate(items):
        try:
            got.add(text(item))
        except PydanticCustomError as e:
            says += [s.shifted((i,)) for s in e.context["says"]]  # type: ignore[index]
    if not items:
        says.append(
            Say(
                (),
                " is empty",
                "at least one ID",
                f"drop scope.{KEY} to mean every note",
                line_of(value),
            )
        )
    if says:
        fail(*says)
    return tuple(sorted(got))


IdList = Annotated[
    tuple[str, ...],
    BeforeValidator(ids),
    WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1}),
]


class Scope(Section):
    """Notes in scope: the listed notes plus the notes under the listed 聚光 plans."""

    SECTION = "scope"
    EMPTY = ("note_ids and/or plan_ids", "drop scope to mean every note in the store")
    note_ids: IdList | None = None
    plan_ids: IdList | None = None


class Gmv(Section):
    """Where a cycle's GMV is read: one source, one attribution window, one flow type."""

    SECTION = "gmv"
    source: Choice(SOURCES)  # type: ignore[valid-type]
    window_days: Annotated[
        int,
        BeforeValidator(whole(1)),
        WithJsonSchema(
            {"type": "integer", "enum": sorted(set(XINGHE_WINDOWS) | set(JUGUANG_WINDOWS))}
        ),
    ]
    flow_type: Text | None = Field(
        None, description="xinghe only", json_schema_extra={"default": terms.DEFAULT_FLOW_TYPE}
    )

    @classmethod
    def before(cls, data: dict[str, Any], info: ValidationInfo) -> tuple[list[Say], dict[str, Any]]:
        says = []
        source = ok(choice(SOURCES), data["source"]) if "source" in data else None
        if source == "juguang" and "flow_type" in data:
            says.append(
                Say(
                    ("flow_type",),
                    " is given for source juguang",
                    "no flow_type: 聚光 has no flow types",
                    "drop flow_type, or use source: xinghe",
                    key_line(data, "flow_type"),
                    rank=(2, 3),
                )
            )
        window = ok(whole(1), data["window_days"]) if "window_days" in data else None
        allowed = XINGHE_WINDOWS if source == "xinghe" else JUGUANG_WINDOWS
        if source is not None and window is not None and window not in allowed:
            says.append(
                Say(
                    ("window_days",),
                    f" is {window}",
                    f"one of {', '.join(map(str, allowed))} for source {source}",
                    line=line_of(data["window_days"]),
                    rank=(2, 4),
                )
            )
        return says, data


class Target(Section):
    """The target ROI from a date on."""

    SECTION = "roi_guarantee.targets[]"
    ALL_OR_NOTHING = True
    start: IsoDate = Field(alias="from")
    roi: Positive


class Tier(Section):
    """A half-open band [roi_from, roi_to) and its rate."""

    SECTION = "roi_guarantee.tiers[]"
    ALL_OR_NOTHING = True
    roi_from: Decimal0
    roi_to: Decimal0
    rate: Rate01


def _items(model: type[Section], items: list[Any], info: ValidationInfo) -> list[tuple[int, Any]]:
    """Each item validated on its own: (index, model or the Says of its problems)."""
    out: list[tuple[int, Any]] = []
    for i, item in enumerate(items):
        try:
            out.append((i, model.model_validate(item, context=info.context)))
        except ValidationError as e:
            out.append((i, [s.shifted((i,)) for s in says_of(e, None, item)]))
    return out


def targets(value: Any, info: ValidationInfo) -> tuple[Target, ...]:
    """Targets by date: in date order, within the period, the first on its first day."""
    items = sequence(value, '{from: DATE, roi: "3.0"}')
    if not items:
        fail(Say((), " is empty", "at least one target", line=line_of(value)))
    period = (info.context or {}).get("period")
    says: list[Say] = []
    good: list[Target] = []
    for i, t in _items(Target, items, info):
        if isinstance(t, list):
            says += t
            continue
        line = line_of(items[i].get("from") if isinstance(items[i], dict) else None)
        if good and t.start <= good[-1].start:
            after = f".from {t.start} is not after the previous target's {good[-1].start}"
            says.append(
                Say(
                    (i,),
                    after,
                    "targets in date order, one per date",
                    None,
                    line,
                    rank=(2, 2),
                    base=(i,),
                )
            )
        if period is not None and not (period.start <= t.start <= period.end):
            after = f".from {t.start} is outside the period {period.start}..{period.end}"
            says.append(
                Say((i,), after, "a date within the period", None, line, rank=(2, 3), base=(i,))
            )
        good.append(t)
    if not says and good and period is not None and good[0].start != period.start:
        says.append(
            Say(
                (),
                f" start on {good[0].start}, after the period starts ({period.start})",
                "targets that cover the period from its first day",
                f"make the first target from: {period.start}",
                line_of(items[0]),
                rank=(3,),
            )
        )
    if says:
        fail(*says)
    return tuple(good)


def _bounds(item: Any) -> tuple[Decimal, Decimal] | None:
    """A band's bounds when both are readable (its rate may not be)."""
    if not isinstance(item, dict) or any(k not in item for k in ("roi_from", "roi_to", "rate")):
        return None
    lo, hi = ok(decimal(money=False), item["roi_from"]), ok(decimal(money=False), item["roi_to"])
    if lo is None or hi is None or lo < 0 or hi < 0:
        return None
    return Decimal(lo), Decimal(hi)


def tiers(value: Any, info: ValidationInfo) -> tuple[Tier, ...]:
    """Bands in ascending order, each starting where the previous one ends."""
    items = sequence(value, "bands {roi_from, roi_to, rate}")
    if not items:
        fail(Say((), " is empty", "at least one band", line=line_of(value)))
    says: list[Say] = []
    bands: list[tuple[Decimal, Decimal, Any]] = []
    good: list[Tier] = []
    for i, t in _items(Tier, items, info):
        says += t if isinstance(t, list) else []
        bounds = _bounds(items[i])
        if bounds is None:
            continue
        lo, hi = bounds
        if hi <= lo:
            says.append(
                Say(
                    (i,),
                    f" is empty or reversed: roi_to {hi} ≤ roi_from {lo}",
                    "roi_from < roi_to (bands are [roi_from, roi_to))",
                    line=line_of(items[i]["roi_to"]),
                    rank=(2, 3),
                    base=(i,),
                )
            )
            continue
        bands.append((lo, hi, items[i]))
        if not isinstance(t, list):
            good.append(t)
    says += _gaps(bands)
    if says:
        fail(*says)
    return tuple(good)


def _gaps(bands: list[tuple[Decimal, Decimal, Any]]) -> list[Say]:
    says = []
    for j, ((plo, phi, _), (clo, chi, node)) in enumerate(zip(bands, bands[1:], strict=False)):
        line, rank = line_of(node), (3, j)
        if clo < plo:
            after = f" out of order: band [{clo}, {chi}) comes after [{plo}, {phi})"
            says.append(
                Say(
                    (),
                    after,
                    "bands in ascending order of roi_from",
                    "sort the bands by roi_from",
                    line,
                    rank=rank,
                )
            )
        elif clo != phi:
            after = (
                f" overlap: [{clo}, {chi}) starts inside [{plo}, {phi})"
                if clo < phi
                else f" gap: nothing covers ROI from {phi} to {clo}"
            )
            says.append(
                Say(
                    (),
                    after,
                    "each band to start where the previous one ends",
                    f'start it at roi_from: "{phi}"',
                    line,
                    rank=rank,
                )
            )
    return says


class Cap(Section):
    """Either or both; the smaller binds."""

    SECTION = "roi_guarantee.cap"
    EMPTY = ("amount and/or pct_of_spend", "drop cap for no cap")
    amount: Money | None = None
    pct_of_spend: Rate01 | None = None


Targets = Annotated[
    tuple[Target, ...],
    BeforeValidator(targets),
    Field(
        min_length=1,
        description="targets by date; the first starts on the period's first day",
    ),
]
Tiers = Annotated[
    tuple[Tier, ...],
    BeforeValidator(tiers),
    Field(
        min_length=1,
        description="formula tiered: half-open bands [roi_from, roi_to), ascending, no gaps or overlaps",
    ),
]


class RoiGuarantee(Section):
    """效果对赌: part of the ad fee refunded when ROI misses the target."""

    SECTION = "roi_guarantee"
    WALK = (
        "formula",
        "trigger_factor",
        "refund_rate",
        "min_spend",
        "min_orders",
        "payout_form",
        "target_roi",
        "tiers",
        "cap",
    )
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["target_roi"]}, {"required": ["targets"]}],
            "if": {"properties": {"formula": {"const": "tiered"}}},
            "then": {"required": ["tiers"]},
            "else": {"not": {"required": ["tiers"]}},
        }
    )
    target_roi: Positive | None = Field(None, description="one target ROI for the whole period")
    targets: Targets | None = None
    trigger_factor: Annotated[
        Positive, Field(description="triggered when actual ROI < effective target × trigger_factor")
    ]
    formula: Choice(FORMULAS)  # type: ignore[valid-type]
    tiers: Tiers | None = None
    refund_rate: Rate01 | None = Field(None, json_schema_extra={"default": "1"})
    min_spend: Money | None = None
    min_orders: (
        Annotated[int, BeforeValidator(whole(0)), WithJsonSchema({"type": "integer", "minimum": 0})]
        | None
    ) = None
    cap: Cap | None = None
    payout_form: Choice(GUARANTEE_PAYOUT_FORMS, "ad_credit") = "ad_credit"  # type: ignore[valid-type]

    @classmethod
    def position(cls, key: str) -> int:
        return super().position("target_roi" if key == "targets" else key)

    @classmethod
    def before(cls, data: dict[str, Any], info: ValidationInfo) -> tuple[list[Say], dict[str, Any]]:
        """One target or targets by date; tiers exactly when the formula is tiered."""
        says: list[Say] = []
        at_target = (2, cls.position("target_roi"))
        if "target_roi" in data and "targets" in data:
            says.append(
                Say(
                    (),
                    " has both target_roi and targets",
                    "one of them",
                    "use targets: [...] when the target changes during the period",
                    key_line(data, "targets"),
                    rank=at_target,
                )
            )
            data = YamlMap(
                [(k, v) for k, v in data.items() if k not in ("target_roi", "targets")],
                line_of(data),
            )
        elif "target_roi" not in data and "targets" not in data:
            expected = 'target_roi: "3.0", or targets: [{from: 2025-06-01, roi: "3.0"}, ...]'
            says.append(
                Say(
                    ("target_roi",),
                    "",
                    expected,
                    None,
                    line_of(data),
                    "missing required key ",
                    at_target,
                )
            )
        formula = ok(choice(FORMULAS), data["formula"]) if "formula" in data else None
        at_tiers = (2, cls.position("tiers"))
        if "tiers" in data and formula is not None and formula != "tiered":
            says.append(
                Say(
                    ("tiers",),
                    f" is given but formula is {formula}",
                    "tiers only with formula: tiered",
                    "drop tiers, or set formula: tiered",
                    key_line(data, "tiers"),
                    rank=at_tiers,
                )
            )
        elif "tiers" not in data and formula == "tiered":
            expected = 'formula tiered needs bands: tiers: [{roi_from: "0", roi_to: "2.0", rate: "0.20"}, ...]'
            says.append(
                Say(
                    ("tiers",), "", expected, None, line_of(data), "missing required key ", at_tiers
                )
            )
        return says, data


class MatchedInvestment(Section):
    """外投激励: the platform adds spend × ratio, up to cap."""

    SECTION = "matched_investment"
    ratio: Decimal0
    threshold: Annotated[Money, Field(description="eligible when cycle spend ≥ threshold")]
    cap: Money | None = None
    payout_form: Choice(MATCHED_PAYOUT_FORMS, "media_credit") = "media_credit"  # type: ignore[valid-type]


class Contract(Section):
    """redcat settlement contract"""

    SECTION = ""
    WALK = (
        "contract_id",
        "merchant",
        "currency",
        "cycle",
        "rounding",
        "period",
        "scope",
        "gmv",
        "roi_guarantee",
        "matched_investment",
    )
    contract_id: Text
    merchant: Text
    currency: Currency = "CNY"
    period: Period
    cycle: Choice(CYCLES, "period") = "period"  # type: ignore[valid-type]
    scope: Scope | None = None
    gmv: Gmv
    roi_guarantee: RoiGuarantee | None = None
    matched_investment: MatchedInvestment | None = None
    rounding: Choice(ROUNDINGS, "half_up") = "half_up"  # type: ignore[valid-type]


SECTIONS: tuple[type[Section], ...] = (
    Contract,
    Period,
    Scope,
    Gmv,
    RoiGuarantee,
    Target,
    Tier,
    Cap,
    MatchedInvestment,
)
# the section a key leads to (a list's items are the same section for every index)
CHILDREN: dict[tuple[type[Section], str], type[Section]] = {
    (Contract, "period"): Period,
    (Contract, "scope"): Scope,
    (Contract, "gmv"): Gmv,
    (Contract, "roi_guarantee"): RoiGuarantee,
    (Contract, "matched_investment"): MatchedInvestment,
    (RoiGuarantee, "targets"): Target,
    (RoiGuarantee, "tiers"): Tier,
    (RoiGuarantee, "cap"): Cap,
}


def KEYS() -> dict[str, tuple[str, ...]]:  # noqa: N802 - the table the loader has always named
    """Every key a contract may hold, per section: the models' fields."""
    return {m.SECTION: m.keys() for m in SECTIONS}


def validate(data: Any) -> Contract:
    """The contract model over plain data (from ``yamlmarks.compose``, or JSON)."""
    return Contract.model_validate(data, context={})
