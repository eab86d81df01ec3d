"""Settlement contracts: loading and validation.

A contract is YAML. It is composed node by node (``yamlmarks``), never through
``yaml.safe_load``, and the plain data is validated by the contract model
(``contract_model``), so that:

- every problem carries the line it is on (``FILE:LINE: what is wrong (expected …); hint: …``);
- duplicate keys are refused instead of silently keeping the last one;
- money and rates come from their source text into ``Decimal``: a bare YAML float such as
  ``cap: 1000.10`` is refused (quote it), so money never passes through ``float``;
- IDs are kept as written (``012345`` stays ``"012345"``).

Every problem in a file is collected in one pass and raised together as one
``ContractError``. The engine reads the terms (``terms``) built from the validated model.
This module does no I/O beyond reading the contract file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redcat_cli.errors import ContractError
from redcat_cli.settle import contract_model, terms
from redcat_cli.settle.contract_messages import json_schema, worded
from redcat_cli.settle.contract_section import says_of
from redcat_cli.settle.terms import (
    CYCLES,
    DEFAULT_FLOW_TYPE,
    FORMULAS,
    GUARANTEE_PAYOUT_FORMS,
    JUGUANG_WINDOWS,
    MATCHED_PAYOUT_FORMS,
    MAX_PERIOD_DAYS,
    ROUNDINGS,
    SOURCES,
    XINGHE_WINDOWS,
    Cap,
    Contract,
    GmvSource,
    MatchedInvestment,
    Period,
    RoiGuarantee,
    Scope,
    Target,
    Tier,
)
from redcat_cli.settle.yamlmarks import MAX_BYTES, MAX_DEPTH, YamlList, YamlMap, compose, too_large

__all__ = [
    "CYCLES",
    "DEFAULT_FLOW_TYPE",
    "FORMULAS",
    "GUARANTEE_PAYOUT_FORMS",
    "JUGUANG_WINDOWS",
    "KEYS",
    "MATCHED_PAYOUT_FORMS",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_PERIOD_DAYS",
    "ROUNDINGS",
    "SOURCES",
    "XINGHE_WINDOWS",
    "Cap",
    "Contract",
    "GmvSource",
    "MatchedInvestment",
    "Period",
    "RoiGuarantee",
    "Scope",
    "Target",
    "Tier",
    "json_schema",
    "load_contract",
    "load_contracts",
    "parse_contract",
]

# Every key a contract may hold, per section: the model's fields (and so the schema's).
KEYS: dict[str, tuple[str, ...]] = contract_model.KEYS()


def load_contract(path: str | Path) -> Contract:
    """Read and validate a contract file; raise ContractError listing every problem."""
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_BYTES:
            raise too_large(str(p), p.stat().st_size)
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


def parse_contract(raw: bytes | str, path: str = "<contract>") -> Contract:
    """Validate contract text. ``path`` is used in messages only."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    root = compose(data, path)
    try:
        model = contract_model.validate(root)
    except ValidationError as e:
        problems = worded(says_of(e, None, root), path)
        n = len(problems)
        raise ContractError(
            f"contract {path} is invalid ({n} problem{'s' if n != 1 else ''})", problems=problems
        ) from None
    sha = hashlib.sha256(data).hexdigest()
    return to_terms(model, path, sha, _key_lines(root))


def to_terms(
    c: contract_model.Contract, path: str, sha256: str, lines: dict[str, int]
) -> terms.Contract:
    """The validated file as the terms the settlement engine reads."""
    g, m = c.roi_guarantee, c.matched_investment
    period = terms.Period(c.period.start, c.period.end)
    guarantee = None
    if g is not None:
        targets = (
            tuple(terms.Target(t.start, t.roi) for t in g.targets)
            if g.targets is not None
            else (terms.Target(period.start, g.target_roi),)  # type: ignore[arg-type]
        )
        guarantee = terms.RoiGuarantee(
            targets=targets,
            trigger_factor=g.trigger_factor,
            formula=g.formula,
            tiers=tuple(terms.Tier(t.roi_from, t.roi_to, t.rate) for t in g.tiers or ()),
            refund_rate=g.refund_rate if g.refund_rate is not None else Decimal("1"),
            min_spend=g.min_spend,
            min_orders=g.min_orders,
            cap=terms.Cap(g.cap.amount, g.cap.pct_of_spend) if g.cap is not None else terms.Cap(),
            payout_form=g.payout_form,
        )
    source = c.gmv.source
    flow = (c.gmv.flow_type or terms.DEFAULT_FLOW_TYPE) if source == "xinghe" else None
    return terms.Contract(
        contract_id=c.contract_id,
        merchant=c.merchant,
        period=period,
        gmv=terms.GmvSource(source, c.gmv.window_days, flow),
        currency=c.currency,
        cycle=c.cycle,
        scope=terms.Scope(c.scope.note_ids, c.scope.plan_ids) if c.scope else terms.Scope(),
        roi_guarantee=guarantee,
        matched_investment=(
            terms.MatchedInvestment(m.ratio, m.threshold, m.cap, m.payout_form)
            if m is not None
            else None
        ),
        rounding=c.rounding,
        path=path,
        sha256=sha256,
        lines=lines,
    )


def _key_lines(node: Any, where: str = "") -> dict[str, int]:
    """Dotted key -> the line it is written on, for messages that come later (the store check)."""
    lines: dict[str, int] = {}
    if isinstance(node, YamlMap):
        for key, value in node.items():
            dotted = f"{where}.{key}" if where else str(key)
            lines[dotted] = key.line
            lines.update({k: v for k, v in _key_lines(value, dotted).items() if k not in lines})
    elif isinstance(node, YamlList):
        for i, item in enumerate(node):
            lines.update(_key_lines(item, f"{where}[{i}]"))
    return lines
