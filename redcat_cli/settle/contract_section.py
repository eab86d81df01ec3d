"""A section of a contract (a mapping) as a pydantic model that reports every problem at once.

Its keys are checked first (unknown keys with the nearest suggestion, duplicates, keys that are
not names), then its values (pydantic, each field's type), then the rules that tie several keys
together; pydantic's own errors (a missing key, a range) become :class:`Say` too.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from redcat_cli.settle.contract_values import Say, fail
from redcat_cli.settle.yamlmarks import (
    YamlMap,
    describe,
    line_of,
    scalar,
)


def says_of(error: ValidationError, model: type[Section] | None, data: Any) -> list[Say]:
    """A ValidationError from the fields of ``model`` (validating ``data``) as Says."""
    out: list[Say] = []
    for e in error.errors(include_url=False):
        loc = tuple(e["loc"])
        if e["type"] == "contract":
            out += [s.shifted(loc) for s in e["ctx"]["says"]]
        elif e["type"] == "missing" and model is not None:
            out.append(model.missing(str(loc[-1]), line_of(data)))
        elif model is not None and len(loc) == 1 and str(loc[0]) in model.model_fields:
            out.append(_constraint(model, str(loc[0]), e, data))
        else:  # not reached from YAML: kept so that nothing is ever lost
            out.append(Say(loc, f": {e['msg']}", line=line_of(e.get("input"), line_of(data))))
    return out


def _constraint(model: type[Section], name: str, e: Any, data: Any) -> Say:
    """A range that pydantic refused (ge, gt, le on a decimal), worded as the contract words it."""
    key = model.model_fields[name].alias or name
    raw = data.get(key) if isinstance(data, dict) else None
    line = line_of(raw, line_of(data))
    text = str(scalar(raw)).strip() if raw is not None else str(e.get("input"))
    kind = (
        "money"
        if _money(model.model_fields[name].annotation, *model.model_fields[name].metadata)
        else "a rate"
    )
    if e["type"] in ("greater_than_equal", "greater_than") and Decimal(text) < 0:
        return Say((key,), f" is negative ({text})", f"{kind} ≥ 0", line=line)
    if e["type"] == "greater_than":
        hint = "a zero here would divide by zero" if key in ("roi", "target_roi") else None
        return Say((key,), " is 0", f"{kind} > 0", hint, line=line)
    if e["type"] == "less_than_equal":
        return Say((key,), f" is {text}", "a rate between 0 and 1", 'write 30% as "0.30"', line)
    return Say((key,), f": {e['msg']}", line=line)


def _money(*types: Any) -> bool:
    """Is this a Money field (its annotations carry the "money" mark)?"""
    return any(t == "money" or _money(*get_args(t)) for t in types if not isinstance(t, Decimal))


# --- sections ----------------------------------------------------------------------------


class Section(BaseModel):
    """A mapping of the contract. Its keys are checked first (unknown keys with the nearest
    suggestion, duplicates, keys that are not names), then its values, then the rules that
    tie several of them together; every problem found is raised at once."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    SECTION: ClassVar[str] = ""
    WALK: ClassVar[tuple[str, ...]] = ()  # the order values are looked at, when not the keys'
    ALL_OR_NOTHING: ClassVar[bool] = False  # a list item missing a key is not looked into
    EMPTY: ClassVar[tuple[str, str] | None] = None  # (expected, hint) when it may not be empty

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.alias or name for name, f in cls.model_fields.items())

    @classmethod
    def position(cls, key: str) -> int:
        order = cls.WALK or cls.keys()
        return order.index(key) if key in order else len(order)

    @classmethod
    def missing(cls, key: str, line: int) -> Say:
        required = [k for k in cls.keys() if cls._required(k)]
        rank = (1, required.index(key) if key in required else len(required))
        return Say((key,), before="missing required key ", line=line, rank=rank, missing=True)

    @classmethod
    def _required(cls, key: str) -> bool:
        return any((f.alias or n) == key and f.is_required() for n, f in cls.model_fields.items())

    @model_validator(mode="wrap")
    @classmethod
    def _check(cls, data: Any, handler: Callable[[Any], Any], info: ValidationInfo) -> Any:
        if isinstance(data, cls):
            return data  # validated already (a list's items are)
        if not isinstance(data, dict):
            fail(Say((), f" is {describe(data)}", "a mapping of keys", line=line_of(data)))
        says, clean = cls._keys(data)
        if cls.ALL_OR_NOTHING and any(cls._required(k) and k not in clean for k in cls.keys()):
            fail(
                *says,
                *(
                    cls.missing(k, line_of(data))
                    for k in cls.keys()
                    if cls._required(k) and k not in clean
                ),
            )
        if cls.EMPTY is not None and not clean:  # reported after its keys, as it is read
            says.append(Say((), " is empty", *cls.EMPTY, line_of(data), rank=(3,)))
        more, clean = cls.before(clean, info)
        says += more
        try:
            model = handler(clean)
        except ValidationError as e:
            fail(*says, *says_of(e, cls, clean))
        says += model.after(clean, info)
        if says:
            fail(*says)
        return model

    @classmethod
    def _keys(cls, data: dict[Any, Any]) -> tuple[list[Say], dict[str, Any]]:
        allowed = cls.keys()
        entries = data.entries if isinstance(data, YamlMap) else list(data.items())
        says: list[Say] = []
        seen: dict[str, Any] = {}
        kept: list[tuple[Any, Any]] = []
        for i, (key, value) in enumerate(entries):
            rank = (0, i)
            if not isinstance(key, str):
                expected = f"one of {', '.join(allowed)}"
                says.append(
                    Say(
                        ("?",),
                        ": a key must be a plain name",
                        expected,
                        line=line_of(key),
                        rank=rank,
                    )
                )
            elif key in seen:
                first = line_of(seen[key])
                says.append(
                    Say(
                        (str(key),),
                        f" (first given on line {first})",
                        "each key once",
                        "delete one of them; YAML would silently keep only the last",
                        line_of(key),
                        "duplicate key ",
                        rank,
                    )
                )
            elif key not in allowed:
                hint = suggest(str(key), cls.SECTION)
                expected = f"one of {', '.join(allowed)}"
                says.append(
                    Say((str(key),), "", expected, hint, line_of(key), "unknown key ", rank)
                )
            else:
                seen[key] = key
                kept.append((scalar(key), value))
        return says, YamlMap(kept, line_of(data))

    @classmethod
    def before(cls, data: dict[str, Any], info: ValidationInfo) -> tuple[list[Say], dict[str, Any]]:
        """Rules read from the raw values (they hold even when a value is refused)."""
        return [], data

    def after(self, data: dict[str, Any], info: ValidationInfo) -> list[Say]:
        """Rules over the validated values."""
        return []


def suggest(key: str, section: str) -> str | None:
    from redcat_cli.settle.contract_model import KEYS

    keys = KEYS()
    near = difflib.get_close_matches(key, keys[section], n=1, cutoff=0.6)
    if near:
        return f"did you mean {near[0]}?"
    for other, names in keys.items():
        if other != section and key in names:
            return f"{key} belongs under {other.replace('[]', '[…]') or 'the top level'}"
    return None


def _alias(model: type[Section], name: str) -> str:
    return model.model_fields[name].alias or name
