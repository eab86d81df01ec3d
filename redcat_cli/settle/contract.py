"""Settlement contracts: loading, validation and the JSON Schema.

A contract is YAML. It is read node by node (``yaml.compose``), never through
``yaml.safe_load``, so that:

- every problem carries the line it is on (``FILE:LINE: what is wrong (expected …); hint: …``);
- duplicate keys are refused instead of silently keeping the last one;
- money and rates come from their source text into ``Decimal``: a bare YAML float such as
  ``cap: 1000.10`` is refused (quote it), so money never passes through ``float``;
- IDs are kept as written (``012345`` stays ``"012345"``).

Every problem in a file is collected in one pass and raised together as one
``ContractError``. This module does no I/O beyond reading the contract file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from redcat_cli.errors import ContractError

CYCLES = ("period", "month", "week", "day")
FORMULAS = ("qianchuan", "xhs", "tiered")
SOURCES = ("xinghe", "juguang")
ROUNDINGS = ("half_up", "half_even")
GUARANTEE_PAYOUT_FORMS = ("ad_credit", "cash")
MATCHED_PAYOUT_FORMS = ("media_credit", "ad_credit", "cash")
XINGHE_WINDOWS = (1, 3, 7, 15, 30)
JUGUANG_WINDOWS = (7, 15, 30)
DEFAULT_FLOW_TYPE = "全部流量"

# Every key a contract may hold, per section. Unknown keys are refused with the nearest
# suggestion; the JSON Schema below lists the same keys (a test keeps them in step).
KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "contract_id",
        "merchant",
        "currency",
        "period",
        "cycle",
        "scope",
        "gmv",
        "roi_guarantee",
        "matched_investment",
        "rounding",
    ),
    "period": ("start", "end"),
    "scope": ("note_ids", "plan_ids"),
    "gmv": ("source", "window_days", "flow_type"),
    "roi_guarantee": (
        "target_roi",
        "targets",
        "trigger_factor",
        "formula",
        "tiers",
        "refund_rate",
        "min_spend",
        "min_orders",
        "cap",
        "payout_form",
    ),
    "roi_guarantee.targets[]": ("from", "roi"),
    "roi_guarantee.tiers[]": ("roi_from", "roi_to", "rate"),
    "roi_guarantee.cap": ("amount", "pct_of_spend"),
    "matched_investment": ("ratio", "threshold", "cap", "payout_form"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "": ("contract_id", "merchant", "period", "gmv"),
    "period": ("start", "end"),
    "gmv": ("source", "window_days"),
    "roi_guarantee": ("trigger_factor", "formula"),
    "roi_guarantee.targets[]": ("from", "roi"),
    "roi_guarantee.tiers[]": ("roi_from", "roi_to", "rate"),
    "matched_investment": ("ratio", "threshold"),
}

_DECIMAL_RE = re.compile(r"^[+-]?\d{1,18}(\.\d{1,18})?$")  # longer is not a contract's number
_INT_RE = re.compile(r"^[+-]?\d{1,18}$")
MAX_BYTES = 1 << 20  # a contract is a page of YAML; 1 MiB is far beyond any real one
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_PERIOD_DAYS = 3_660
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

T_STR = "tag:yaml.org,2002:str"
T_INT = "tag:yaml.org,2002:int"
T_FLOAT = "tag:yaml.org,2002:float"
T_BOOL = "tag:yaml.org,2002:bool"
T_NULL = "tag:yaml.org,2002:null"
T_TIMESTAMP = "tag:yaml.org,2002:timestamp"


# --- the contract ------------------------------------------------------------------------


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


# --- reading -----------------------------------------------------------------------------


class _Reader:
    """Walks the composed YAML tree, collecting problems instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[tuple[int, str]] = []
        self.lines: dict[str, int] = {}

    # -- reporting

    def problem(
        self,
        node: yaml.Node | int | None,
        what: str,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        line = node if isinstance(node, int) else (_line(node) if node is not None else 1)
        text = f"{self.path}:{line}: {what}"
        if expected:
            text += f" (expected {expected})"
        if hint:
            text += f"; hint: {hint}"
        self.problems.append((line, text))

    # -- structure

    def mapping(self, node: yaml.Node, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """The keys of a mapping, refusing duplicates and unknown keys."""
        section = _section(where)
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node, f"{where or 'the contract'} is {_describe(node)}", "a mapping of keys"
            )
            return None
        allowed = KEYS[section]
        seen: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(
                    key_node,
                    f"{_join(where, '?')}: a key must be a plain name",
                    f"one of {', '.join(allowed)}",
                )
                continue
            key = key_node.value
            dotted = _join(where, key)
            if key in seen:
                first = _line(seen[key][0])
                self.problem(
                    key_node,
                    f"duplicate key {dotted} (first given on line {first})",
                    "each key once",
                    "delete one of them; YAML would silently keep only the last",
                )
                continue
            if key not in allowed:
                self.problem(
                    key_node,
                    f"unknown key {dotted}",
                    f"one of {', '.join(allowed)}",
                    _suggest(key, section),
                )
                continue
            seen[key] = (key_node, value_node)
            self.lines[_dotted_for_lines(where, key)] = _line(key_node)
        for key in REQUIRED.get(section, ()):
            if key not in seen:
                self.problem(
                    node, f"missing required key {_join(where, key)}", _expected_for(section, key)
                )
        return seen

    def sequence(self, node: yaml.Node, where: str, what: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(
                node,
                f"{where} is {_describe(node)}",
                f"a list of {what}",
                f"write it as {where.rsplit('.', 1)[-1]}: [...]",
            )
            return None
        return list(node.value)

    # -- scalars

    def text(self, node: yaml.Node, where: str) -> str | None:
        """A name or ID, exactly as written (so 012345 stays "012345")."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == T_NULL or node.value.strip() == "":
            self.problem(node, f"{where} is {_describe(node)}", "a text value")
            return None
        return node.value.strip()

    def choice(self, node: yaml.Node, where: str, choices: tuple[str, ...]) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.value not in choices:
            shown = node.value if isinstance(node, yaml.ScalarNode) else _describe(node)
            near = difflib.get_close_matches(str(shown), choices, n=1, cutoff=0.5)
            hint = f"did you mean {near[0]}?" if near else None
            self.problem(node, f"{where} is {shown!r}", f"one of {', '.join(choices)}", hint)
            return None
        return str(node.value)

    def integer(self, node: yaml.Node, where: str, minimum: int | None = 0) -> int | None:
        if (
            not isinstance(node, yaml.ScalarNode)
            or node.tag not in (T_INT, T_STR)
            or not _INT_RE.match(node.value.strip())
        ):
            hint = None
            if isinstance(node, yaml.ScalarNode) and node.tag == T_FLOAT:
                hint = "write a whole number, e.g. 10"
            self.problem(node, f"{where} is {_describe(node)}", "a whole number", hint)
            return None
        value = int(node.value.strip())
        if minimum is not None and value < minimum:
            self.problem(node, f"{where} is {value}", f"a whole number ≥ {minimum}")
            return None
        return value

    def decimal(
        self,
        node: yaml.Node,
        where: str,
        *,
        money: bool = False,
        positive: bool = False,
        at_most_one: bool = False,
    ) -> Decimal | None:
        """Money or a rate, from the source text. Bare YAML floats are refused."""
        key = where.rsplit(".", 1)[-1]
        kind = "money" if money else "a rate"
        if isinstance(node, yaml.ScalarNode) and node.tag == T_FLOAT and node.style is None:
            self.problem(
                node,
                f"{where}: {node.value} is a bare YAML float",
                f'a quoted decimal string, e.g. {key}: "{node.value}"',
                f'quote it ({key}: "{node.value}"); {"money never passes" if money else "rates never pass"} through float',
            )
            return None
        ok_tag = isinstance(node, yaml.ScalarNode) and (
            (node.tag == T_INT and node.style is None) or node.tag in (T_STR, T_FLOAT)
        )
        text = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
        if not ok_tag or not _DECIMAL_RE.match(text):
            example = '"10000.00"' if money else '"0.8"'
            self.problem(
                node,
                f"{where} is {_describe(node)}",
                f"a decimal number in quotes, e.g. {key}: {example}",
            )
            return None
        value = Decimal(text)
        if value < 0:
            self.problem(node, f"{where} is negative ({text})", f"{kind} ≥ 0")
            return None
        if positive and value == 0:
            self.problem(
                node,
                f"{where} is 0",
                f"{kind} > 0",
                "a zero here would divide by zero" if key in ("roi", "target_roi") else None,
            )
            return None
        if at_most_one and value > 1:
            self.problem(
                node, f"{where} is {text}", "a rate between 0 and 1", 'write 30% as "0.30"'
            )
            return None
        if money and value.as_tuple().exponent < -2:  # type: ignore[operator]
            self.problem(node, f"{where} is {text}", "money with at most two decimal places (fen)")
            return None
        return value

    def date(self, node: yaml.Node, where: str) -> dt.date | None:
        if isinstance(node, yaml.ScalarNode) and node.tag in (T_TIMESTAMP, T_STR):
            try:
                return dt.date.fromisoformat(node.value.strip())
            except ValueError:
                pass
        shown = (
            repr(node.value)
            if isinstance(node, yaml.ScalarNode) and node.tag != T_NULL
            else _describe(node)
        )
        self.problem(node, f"{where} is {shown}", "a date written YYYY-MM-DD")
        return None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _section(where: str) -> str:
    """'roi_guarantee.tiers[2]' -> 'roi_guarantee.tiers[]'."""
    return re.sub(r"\[\d+\]", "[]", where)


def _dotted_for_lines(where: str, key: str) -> str:
    return _join(where, key)


def _describe(node: yaml.Node | None) -> str:
    if node is None:
        return "empty"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = {
        T_NULL: "empty",
        T_BOOL: "a yes/no value",
        T_FLOAT: "a float",
        T_INT: "a whole number",
        T_TIMESTAMP: "a date",
    }
    if node.tag == T_NULL:
        return "empty"
    value = (
        node.value
        if len(node.value) <= 40
        else f"{node.value[:30]}… ({len(node.value):,} characters)"
    )
    if node.tag in tag and node.style is None:
        if node.tag == T_INT and len(node.value.strip().lstrip("+-")) > 18:
            return f"{value!r} (a whole number too large for any contract term)"
        return f"{value!r} ({tag[node.tag]})"
    return repr(value)


def _suggest(key: str, section: str) -> str | None:
    near = difflib.get_close_matches(key, KEYS[section], n=1, cutoff=0.6)
    if near:
        return f"did you mean {near[0]}?"
    for other, keys in KEYS.items():
        if other != section and key in keys:
            return f"{key} belongs under {other.replace('[]', '[…]') or 'the top level'}"
    return None


def _expected_for(section: str, key: str) -> str:
    examples = {
        ("", "contract_id"): "e.g. contract_id: RC-2025-0618",
        ("", "merchant"): "the merchant's shop name",
        ("", "period"): "period: {start: 2025-06-01, end: 2025-06-30}",
        ("", "gmv"): "gmv: {source: xinghe, window_days: 30, flow_type: 全部流量}",
        ("gmv", "source"): "xinghe or juguang",
        ("gmv", "window_days"): "the attribution window in days, e.g. 30",
        ("roi_guarantee", "trigger_factor"): 'e.g. trigger_factor: "0.8"',
        ("roi_guarantee", "formula"): "qianchuan, xhs or tiered",
        ("matched_investment", "ratio"): 'e.g. ratio: "1.0"',
        ("matched_investment", "threshold"): 'e.g. threshold: "100000.00"',
    }
    return examples.get((section, key), "a value")


# --- validation --------------------------------------------------------------------------


def load_contract(path: str | Path) -> Contract:
    """Read and validate a contract file; raise ContractError listing every problem."""
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_BYTES:
            raise _too_large(str(p), p.stat().st_size)
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ContractError(
            f"contract {p} does not exist", hint="check the path given to --contract"
        ) from None
    except OSError as e:
        raise ContractError(f"contract {p} cannot be read: {e.strerror}") from None
    return parse_contract(raw, str(p))


def load_contracts(paths: Sequence[str | Path]) -> list[Contract]:
    """Load several contracts; raise one ContractError listing every problem of every file."""
    contracts: list[Contract] = []
    errors: list[ContractError] = []
    for p in paths:
        try:
            contracts.append(load_contract(p))
        except ContractError as e:
            errors.append(e)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        n = sum(max(len(e.problems), 1) for e in errors)
        raise ContractError(
            f"{len(errors)} contracts are invalid ({n} problems)",
            problems=[p for e in errors for p in (e.problems or [e.message])],
        )
    return contracts


def _too_large(path: str, size: int) -> ContractError:
    return ContractError(
        f"contract {path} is {size:,} bytes; a contract is at most {MAX_BYTES:,}",
        hint="is this the right file? A contract is a page of YAML",
        code="too_large",
    )


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ ] and { } outside quotes and comments (a quick upper look)."""
    deepest = depth = 0
    quote = ""
    comment = False
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _depth(node: yaml.Node | None) -> int:
    """How deep mappings and lists nest (without recursion: the file may be hostile)."""
    deepest = 0
    stack = [(node, 1)] if node is not None else []
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > MAX_DEPTH:
            break
        if isinstance(n, yaml.MappingNode):
            stack.extend((v, d + 1) for _, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((v, d + 1) for v in n.value)
    return deepest


def parse_contract(raw: bytes | str, path: str = "<contract>") -> Contract:
    """Validate contract text. ``path`` is used in messages only."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_BYTES:
        raise _too_large(path, len(data))
    sha = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractError(
            f"contract {path} is not UTF-8 text", hint="save the contract as UTF-8"
        ) from None
    reader = _Reader(path)
    if _flow_depth(text) > MAX_DEPTH:  # before the parser spends minutes on [[[[…]]]]
        raise ContractError(
            f"contract {path} is invalid (1 problem)",
            problems=[f"{path}: nested more than {MAX_DEPTH} levels deep; a contract is not"],
            code="too_large",
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = (mark.line + 1) if mark is not None else 1
        raise ContractError(
            f"contract {path} is invalid (1 problem)",
            problems=[f"{path}:{line}: not valid YAML: {e.problem or e}"],
        ) from None
    except yaml.YAMLError as e:
        raise ContractError(
            f"contract {path} is invalid (1 problem)", problems=[f"{path}:1: not valid YAML: {e}"]
        ) from None
    except RecursionError:
        root = None
        depth = MAX_DEPTH + 1
    else:
        depth = _depth(root)
    if depth > MAX_DEPTH:
        raise ContractError(
            f"contract {path} is invalid (1 problem)",
            problems=[f"{path}: nested more than {MAX_DEPTH} levels deep; a contract is not"],
            code="too_large",
        )
    if root is None:
        raise ContractError(
            f"contract {path} is invalid (1 problem)",
            problems=[
                f"{path}:1: the file is empty (expected a mapping with contract_id, merchant, period, gmv)"
            ],
        )
    contract = _validate(reader, root, sha)
    if reader.problems or contract is None:
        problems = [text for _, text in sorted(reader.problems, key=lambda p: p[0])]
        n = len(problems)
        raise ContractError(
            f"contract {path} is invalid ({n} problem{'s' if n != 1 else ''})", problems=problems
        )
    return contract


def _validate(r: _Reader, root: yaml.Node, sha: str) -> Contract | None:
    top = r.mapping(root, "")
    if top is None:
        return None
    values: dict[str, Any] = {}

    def get(
        section: dict[str, tuple[yaml.Node, yaml.Node]],
        key: str,
        fn: Callable[[yaml.Node], Any],
        default: Any = None,
    ) -> Any:
        if key not in section:
            return default
        return fn(section[key][1])

    values["contract_id"] = get(top, "contract_id", lambda n: r.text(n, "contract_id"))
    values["merchant"] = get(top, "merchant", lambda n: r.text(n, "merchant"))
    currency = get(top, "currency", lambda n: r.text(n, "currency"), "CNY")
    if currency is not None and not _CURRENCY_RE.match(currency):
        r.problem(top["currency"][1], f"currency is {currency!r}", "an ISO 4217 code such as CNY")
    values["currency"] = currency
    values["cycle"] = get(top, "cycle", lambda n: r.choice(n, "cycle", CYCLES), "period")
    values["rounding"] = get(
        top, "rounding", lambda n: r.choice(n, "rounding", ROUNDINGS), "half_up"
    )

    period = None
    if "period" in top:
        pm = r.mapping(top["period"][1], "period")
        if pm is not None:
            start = get(pm, "start", lambda n: r.date(n, "period.start"))
            end = get(pm, "end", lambda n: r.date(n, "period.end"))
            if start and end:
                if end < start:
                    r.problem(
                        pm["end"][1],
                        f"period.end {end} is before period.start {start}",
                        "end on or after start",
                        "both dates are inclusive",
                    )
                elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                    r.problem(
                        pm["end"][1],
                        f"period {start}..{end} is {(end - start).days + 1:,} days long",
                        f"a period of at most {MAX_PERIOD_DAYS:,} days (ten years)",
                        "settle a long deal in several contracts",
                    )
                else:
                    period = Period(start, end)
    values["period"] = period

    scope = Scope()
    if "scope" in top:
        sm = r.mapping(top["scope"][1], "scope")
        if sm is not None:
            ids: dict[str, tuple[str, ...] | None] = {}
            for key in ("note_ids", "plan_ids"):
                if key in sm:
                    seq = r.sequence(sm[key][1], f"scope.{key}", "IDs")
                    if seq is not None:
                        got = [r.text(n, f"scope.{key}[{i}]") for i, n in enumerate(seq)]
                        if not seq:
                            r.problem(
                                sm[key][1],
                                f"scope.{key} is empty",
                                "at least one ID",
                                f"drop scope.{key} to mean every note",
                            )
                        ids[key] = tuple(sorted({g for g in got if g is not None}))
            if not sm:
                r.problem(
                    top["scope"][1],
                    "scope is empty",
                    "note_ids and/or plan_ids",
                    "drop scope to mean every note in the store",
                )
            scope = Scope(ids.get("note_ids"), ids.get("plan_ids"))
    values["scope"] = scope

    gmv = None
    if "gmv" in top:
        gm = r.mapping(top["gmv"][1], "gmv")
        if gm is not None:
            source = get(gm, "source", lambda n: r.choice(n, "gmv.source", SOURCES))
            window = get(gm, "window_days", lambda n: r.integer(n, "gmv.window_days", 1))
            flow = get(gm, "flow_type", lambda n: r.text(n, "gmv.flow_type"))
            if source == "juguang" and "flow_type" in gm:
                r.problem(
                    gm["flow_type"][0],
                    "gmv.flow_type is given for source juguang",
                    "no flow_type: 聚光 has no flow types",
                    "drop flow_type, or use source: xinghe",
                )
            allowed = XINGHE_WINDOWS if source == "xinghe" else JUGUANG_WINDOWS
            if source is not None and window is not None and window not in allowed:
                r.problem(
                    gm["window_days"][1],
                    f"gmv.window_days is {window}",
                    f"one of {', '.join(map(str, allowed))} for source {source}",
                )
            elif source is not None and window is not None:
                gmv = GmvSource(
                    source, window, (flow or DEFAULT_FLOW_TYPE) if source == "xinghe" else None
                )
    values["gmv"] = gmv

    values["roi_guarantee"] = (
        _guarantee(r, top["roi_guarantee"][1], period) if "roi_guarantee" in top else None
    )
    values["matched_investment"] = (
        _matched(r, top["matched_investment"][1]) if "matched_investment" in top else None
    )

    if r.problems:
        return None
    return Contract(sha256=sha, path=r.path, lines=dict(r.lines), **values)


def _guarantee(r: _Reader, node: yaml.Node, period: Period | None) -> RoiGuarantee | None:
    w = "roi_guarantee"
    m = r.mapping(node, w)
    if m is None:
        return None
    ok = True

    def dec(key: str, **kw: Any) -> Decimal | None:
        nonlocal ok
        if key not in m:
            return None
        v = r.decimal(m[key][1], f"{w}.{key}", **kw)
        ok = ok and v is not None
        return v

    formula = r.choice(m["formula"][1], f"{w}.formula", FORMULAS) if "formula" in m else None
    factor = dec("trigger_factor", positive=True)
    refund_rate = dec("refund_rate", at_most_one=True)
    min_spend = dec("min_spend", money=True)
    min_orders = r.integer(m["min_orders"][1], f"{w}.min_orders") if "min_orders" in m else None
    payout_form = (
        r.choice(m["payout_form"][1], f"{w}.payout_form", GUARANTEE_PAYOUT_FORMS)
        if "payout_form" in m
        else "ad_credit"
    )

    targets: list[Target] = []
    if "target_roi" in m and "targets" in m:
        r.problem(
            m["targets"][0],
            f"{w} has both target_roi and targets",
            "one of them",
            "use targets: [...] when the target changes during the period",
        )
        ok = False
    elif "target_roi" in m:
        roi = r.decimal(m["target_roi"][1], f"{w}.target_roi", positive=True)
        if roi is not None and period is not None:
            targets = [Target(period.start, roi)]
        ok = ok and roi is not None
    elif "targets" in m:
        targets = _targets(r, m["targets"][1], period) or []
        ok = ok and bool(targets)
    else:
        r.problem(
            node,
            f"missing required key {w}.target_roi",
            'target_roi: "3.0", or targets: [{from: 2025-06-01, roi: "3.0"}, ...]',
        )
        ok = False

    tiers: list[Tier] = []
    if "tiers" in m:
        if formula is not None and formula != "tiered":
            r.problem(
                m["tiers"][0],
                f"{w}.tiers is given but formula is {formula}",
                "tiers only with formula: tiered",
                "drop tiers, or set formula: tiered",
            )
            ok = False
        tiers = _tiers(r, m["tiers"][1]) or []
        ok = ok and bool(tiers)
    elif formula == "tiered":
        r.problem(
            node,
            f"missing required key {w}.tiers",
            'formula tiered needs bands: tiers: [{roi_from: "0", roi_to: "2.0", rate: "0.20"}, ...]',
        )
        ok = False

    cap = Cap()
    if "cap" in m:
        cm = r.mapping(m["cap"][1], f"{w}.cap")
        if cm is not None:
            amount = (
                r.decimal(cm["amount"][1], f"{w}.cap.amount", money=True)
                if "amount" in cm
                else None
            )
            pct = (
                r.decimal(cm["pct_of_spend"][1], f"{w}.cap.pct_of_spend", at_most_one=True)
                if "pct_of_spend" in cm
                else None
            )
            if not cm:
                r.problem(
                    m["cap"][1],
                    f"{w}.cap is empty",
                    "amount and/or pct_of_spend",
                    "drop cap for no cap",
                )
            ok = (
                ok
                and ("amount" not in cm or amount is not None)
                and ("pct_of_spend" not in cm or pct is not None)
            )
            cap = Cap(amount, pct)
        else:
            ok = False

    if not ok or formula is None or factor is None or payout_form is None:
        return None
    if "min_orders" in m and min_orders is None:
        return None
    return RoiGuarantee(
        targets=tuple(targets),
        trigger_factor=factor,
        formula=formula,
        tiers=tuple(tiers),
        refund_rate=refund_rate if refund_rate is not None else Decimal("1"),
        min_spend=min_spend,
        min_orders=min_orders,
        cap=cap,
        payout_form=payout_form,
    )


def _targets(r: _Reader, node: yaml.Node, period: Period | None) -> list[Target] | None:
    w = "roi_guarantee.targets"
    seq = r.sequence(node, w, '{from: DATE, roi: "3.0"}')
    if seq is None:
        return None
    if not seq:
        r.problem(node, f"{w} is empty", "at least one target")
        return None
    out: list[Target] = []
    ok = True
    for i, item in enumerate(seq):
        where = f"{w}[{i}]"
        im = r.mapping(item, where)
        if im is None or "from" not in im or "roi" not in im:
            ok = False
            continue
        start = r.date(im["from"][1], f"{where}.from")
        roi = r.decimal(im["roi"][1], f"{where}.roi", positive=True)
        if start is None or roi is None:
            ok = False
            continue
        if out and start <= out[-1].start:
            r.problem(
                im["from"][1],
                f"{where}.from {start} is not after the previous target's {out[-1].start}",
                "targets in date order, one per date",
            )
            ok = False
        if period is not None and not (period.start <= start <= period.end):
            r.problem(
                im["from"][1],
                f"{where}.from {start} is outside the period {period.start}..{period.end}",
                "a date within the period",
            )
            ok = False
        out.append(Target(start, roi))
    if ok and out and period is not None and out[0].start != period.start:
        r.problem(
            seq[0],
            f"{w} start on {out[0].start}, after the period starts ({period.start})",
            "targets that cover the period from its first day",
            f"make the first target from: {period.start}",
        )
        ok = False
    return out if ok else None


def _tiers(r: _Reader, node: yaml.Node) -> list[Tier] | None:
    w = "roi_guarantee.tiers"
    seq = r.sequence(node, w, "bands {roi_from, roi_to, rate}")
    if seq is None:
        return None
    if not seq:
        r.problem(node, f"{w} is empty", "at least one band")
        return None
    out: list[tuple[Tier, yaml.Node]] = []
    ok = True
    for i, item in enumerate(seq):
        where = f"{w}[{i}]"
        im = r.mapping(item, where)
        if im is None or any(k not in im for k in ("roi_from", "roi_to", "rate")):
            ok = False
            continue
        lo = r.decimal(im["roi_from"][1], f"{where}.roi_from")
        hi = r.decimal(im["roi_to"][1], f"{where}.roi_to")
        rate = r.decimal(im["rate"][1], f"{where}.rate", at_most_one=True)
        if lo is None or hi is None:
            ok = False
            continue
        if rate is None:  # reported already; its bounds still take part in the gap checks
            ok = False
        if hi <= lo:
            r.problem(
                im["roi_to"][1],
                f"{where} is empty or reversed: roi_to {hi} ≤ roi_from {lo}",
                "roi_from < roi_to (bands are [roi_from, roi_to))",
            )
            ok = False
            continue
        out.append((Tier(lo, hi, rate if rate is not None else Decimal(0)), item))
    for (prev, _), (cur, cur_node) in zip(out, out[1:], strict=False):
        if cur.roi_from < prev.roi_from:
            r.problem(
                cur_node,
                f"{w} out of order: band [{cur.roi_from}, {cur.roi_to}) comes after [{prev.roi_from}, {prev.roi_to})",
                "bands in ascending order of roi_from",
                "sort the bands by roi_from",
            )
            ok = False
        elif cur.roi_from < prev.roi_to:
            r.problem(
                cur_node,
                f"{w} overlap: [{cur.roi_from}, {cur.roi_to}) starts inside [{prev.roi_from}, {prev.roi_to})",
                "each band to start where the previous one ends",
                f'start it at roi_from: "{prev.roi_to}"',
            )
            ok = False
        elif cur.roi_from > prev.roi_to:
            r.problem(
                cur_node,
                f"{w} gap: nothing covers ROI from {prev.roi_to} to {cur.roi_from}",
                "each band to start where the previous one ends",
                f'start it at roi_from: "{prev.roi_to}"',
            )
            ok = False
    return [t for t, _ in out] if ok else None


def _matched(r: _Reader, node: yaml.Node) -> MatchedInvestment | None:
    w = "matched_investment"
    m = r.mapping(node, w)
    if m is None:
        return None
    ratio = r.decimal(m["ratio"][1], f"{w}.ratio") if "ratio" in m else None
    threshold = (
        r.decimal(m["threshold"][1], f"{w}.threshold", money=True) if "threshold" in m else None
    )
    cap = r.decimal(m["cap"][1], f"{w}.cap", money=True) if "cap" in m else None
    form = (
        r.choice(m["payout_form"][1], f"{w}.payout_form", MATCHED_PAYOUT_FORMS)
        if "payout_form" in m
        else "media_credit"
    )
    if ratio is None or threshold is None or form is None or ("cap" in m and cap is None):
        return None
    return MatchedInvestment(ratio, threshold, cap, form)


# --- JSON Schema -------------------------------------------------------------------------

_DEC = {
    "type": ["string", "integer"],
    "pattern": r"^[+-]?\d+(\.\d+)?$",
    "description": "a decimal in quotes; bare floats are refused",
}
_MONEY = {
    "type": ["string", "integer"],
    "pattern": r"^\d+(\.\d{1,2})?$",
    "description": "money in quotes, at most two places",
}
_RATE01 = {**_DEC, "description": "a rate between 0 and 1, in quotes"}
_DATE = {"type": "string", "format": "date"}


def json_schema() -> dict[str, Any]:
    """The contract's JSON Schema (draft 2020-12). Validation with line numbers is ours."""

    def obj(props: dict[str, Any], section: str, description: str | None = None) -> dict[str, Any]:
        assert tuple(props) == KEYS[section], section
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        req = list(REQUIRED.get(section, ()))
        if req:
            out["required"] = req
        if description:
            out["description"] = description
        return out

    guarantee = obj(
        {
            "target_roi": {**_DEC, "description": "one target ROI for the whole period"},
            "targets": {
                "type": "array",
                "minItems": 1,
                "items": obj({"from": _DATE, "roi": _DEC}, "roi_guarantee.targets[]"),
                "description": "targets by date; the first starts on the period's first day",
            },
            "trigger_factor": {
                **_DEC,
                "description": "triggered when actual ROI < effective target × trigger_factor",
            },
            "formula": {"enum": list(FORMULAS)},
            "tiers": {
                "type": "array",
                "minItems": 1,
                "items": obj(
                    {"roi_from": _DEC, "roi_to": _DEC, "rate": _RATE01}, "roi_guarantee.tiers[]"
                ),
                "description": "formula tiered: half-open bands [roi_from, roi_to), ascending, no gaps or overlaps",
            },
            "refund_rate": {**_RATE01, "default": "1"},
            "min_spend": _MONEY,
            "min_orders": {"type": "integer", "minimum": 0},
            "cap": obj(
                {"amount": _MONEY, "pct_of_spend": _RATE01},
                "roi_guarantee.cap",
                "either or both; the smaller binds",
            ),
            "payout_form": {"enum": list(GUARANTEE_PAYOUT_FORMS), "default": "ad_credit"},
        },
        "roi_guarantee",
        "效果对赌: part of the ad fee refunded when ROI misses the target",
    )
    guarantee["oneOf"] = [{"required": ["target_roi"]}, {"required": ["targets"]}]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://redcat.invalid/schema/contract.json",
        "title": "redcat settlement contract",
        **obj(
            {
                "contract_id": {"type": "string"},
                "merchant": {"type": "string"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "default": "CNY"},
                "period": obj({"start": _DATE, "end": _DATE}, "period", "inclusive dates"),
                "cycle": {"enum": list(CYCLES), "default": "period"},
                "scope": obj(
                    {
                        "note_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "plan_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    },
                    "scope",
                    "notes in scope: the listed notes plus the notes under the listed 聚光 plans; default every note",
                ),
                "gmv": obj(
                    {
                        "source": {"enum": list(SOURCES)},
                        "window_days": {
                            "type": "integer",
                            "enum": sorted(set(XINGHE_WINDOWS) | set(JUGUANG_WINDOWS)),
                        },
                        "flow_type": {
                            "type": "string",
                            "default": DEFAULT_FLOW_TYPE,
                            "description": "xinghe only",
                        },
                    },
                    "gmv",
                ),
                "roi_guarantee": guarantee,
                "matched_investment": obj(
                    {
                        "ratio": _DEC,
                        "threshold": {
                            **_MONEY,
                            "description": "eligible when cycle spend ≥ threshold",
                        },
                        "cap": _MONEY,
                        "payout_form": {
                            "enum": list(MATCHED_PAYOUT_FORMS),
                            "default": "media_credit",
                        },
                    },
                    "matched_investment",
                    "外投激励: the platform adds spend × ratio, up to cap",
                ),
                "rounding": {"enum": list(ROUNDINGS), "default": "half_up"},
            },
            "",
        ),
    }
