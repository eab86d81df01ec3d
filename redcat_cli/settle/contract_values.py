"""The values of a contract: each read from the text as written and checked, or refused with
a :class:`Say` (a problem not yet worded: what, where, on which line).

``Text``, ``Currency``, ``IsoDate``, ``Choice(...)``, ``Money``, ``Decimal0``, ``Positive`` and
``Rate01`` are the types the contract model's fields are made of: a before-validator reads the
text (refusing bare YAML floats, so money never passes through ``float``), pydantic's
constraints (``ge``, ``gt``, ``le``) bound the decimals, and each type carries its JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from annotated_types import Ge, Gt, Le
from pydantic import (
    BeforeValidator,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from redcat_cli.settle.yamlmarks import (
    T_FLOAT,
    T_INT,
    T_NULL,
    T_STR,
    T_TIMESTAMP,
    describe,
    line_of,
    scalar,
)

KEY = "\x00key\x00"  # stands for the key's own name in a message; filled in when worded
_DECIMAL_RE = re.compile(r"^[+-]?\d{1,18}(\.\d{1,18})?$")  # longer is not a contract's number
_INT_RE = re.compile(r"^[+-]?\d{1,18}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Say:
    """One problem, before it is worded: ``{before}{where}{after} (expected …); hint: …``.

    ``where`` is the path to the value (relative to the section that raised it until it is
    shifted up); ``line`` its line; ``rank`` orders problems on the same line as the file is
    read (a position relative to ``base``; by default the value's own position)."""

    where: tuple[str | int, ...]
    after: str = ""
    expected: str | None = None
    hint: str | None = None
    line: int = 1
    before: str = ""
    rank: tuple[float, ...] | None = None
    base: tuple[str | int, ...] = ()
    missing: bool = False  # a missing required key: "expected" is looked up when worded

    def shifted(self, prefix: tuple[str | int, ...]) -> Say:
        return replace(self, where=prefix + self.where, base=prefix + self.base)


def fail(*says: Say) -> NoReturn:
    """Raise problems through pydantic: one error that carries them all."""
    raise PydanticCustomError("contract", "{n} contract problem(s)", {"says": says, "n": len(says)})


# --- values: the text as written, checked ---------------------------------------------------


def text(value: Any) -> str:
    """A name or ID, exactly as written (so 012345 stays "012345")."""
    s = scalar(value)
    if isinstance(value, dict | list) or s.tag == T_NULL or s.strip() == "":
        fail(Say((), f" is {describe(value)}", "a text value", line=line_of(value)))
    return str(s).strip()


def currency(value: Any) -> str:
    code = text(value)
    if not _CURRENCY_RE.match(code):
        fail(Say((), f" is {code!r}", "an ISO 4217 code such as CNY", line=line_of(value)))
    return code


def choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, dict | list) or str(scalar(value)) not in choices:
            shown = describe(value) if isinstance(value, dict | list) else str(scalar(value))
            near = difflib.get_close_matches(shown, choices, n=1, cutoff=0.5)
            fail(
                Say(
                    (),
                    f" is {shown!r}",
                    f"one of {', '.join(choices)}",
                    f"did you mean {near[0]}?" if near else None,
                    line_of(value),
                )
            )
        return str(scalar(value))

    return check


def whole(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        s = scalar(value)
        if (
            isinstance(value, dict | list)
            or s.tag not in (T_INT, T_STR)
            or not _INT_RE.match(s.strip())
        ):
            hint = "write a whole number, e.g. 10" if getattr(s, "tag", None) == T_FLOAT else None
            fail(Say((), f" is {describe(value)}", "a whole number", hint, line_of(value)))
        number = int(s.strip())
        if number < minimum:
            fail(Say((), f" is {number}", f"a whole number ≥ {minimum}", line=line_of(value)))
        return number

    return check


def decimal(*, money: bool) -> Callable[[Any], Decimal]:
    """Money or a rate from its source text. Bare YAML floats are refused."""

    def check(value: Any) -> Decimal:
        line = line_of(value)
        node = isinstance(value, dict | list)
        s = scalar("" if node else value)
        if not node and s.tag == T_FLOAT and s.plain:
            through = "money never passes" if money else "rates never pass"
            fail(
                Say(
                    (),
                    f": {s} is a bare YAML float",
                    f'a quoted decimal string, e.g. {KEY}: "{s}"',
                    f'quote it ({KEY}: "{s}"); {through} through float',
                    line,
                )
            )
        ok_tag = (s.tag == T_INT and s.plain) or s.tag in (T_STR, T_FLOAT)
        if node or not ok_tag or not _DECIMAL_RE.match(s.strip()):
            example = '"10000.00"' if money else '"0.8"'
            fail(
                Say(
                    (),
                    f" is {describe(value)}",
                    f"a decimal number in quotes, e.g. {KEY}: {example}",
                    line=line,
                )
            )
        number = Decimal(s.strip())
        # money has at most two places; a negative amount is refused for its sign first (ge)
        if money and number >= 0 and number.as_tuple().exponent < -2:  # type: ignore[operator]
            fail(
                Say(
                    (), f" is {s.strip()}", "money with at most two decimal places (fen)", line=line
                )
            )
        return number

    return check


def date(value: Any) -> dt.date:
    s = scalar(value)
    if not isinstance(value, dict | list) and s.tag in (T_TIMESTAMP, T_STR):
        try:
            return dt.date.fromisoformat(s.strip())
        except ValueError:
            pass
    shown = (
        repr(str(s)) if not isinstance(value, dict | list) and s.tag != T_NULL else describe(value)
    )
    fail(Say((), f" is {shown}", "a date written YYYY-MM-DD", line=line_of(value)))


_DIGITS = r"\+?\d{1,18}"


def _schema(pattern: str, description: str, **bounds: int) -> dict[str, Any]:
    """A decimal's JSON Schema: a quoted string of that pattern, or a whole number in bounds
    (never a JSON number with a fraction: that is a float)."""
    return {
        "type": ["string", "integer"],
        "pattern": f"^{pattern}$",
        **bounds,
        "description": description,
    }


Text = Annotated[str, BeforeValidator(text), WithJsonSchema({"type": "string", "minLength": 1})]
Currency = Annotated[
    str,
    BeforeValidator(currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "default": "CNY"}),
]
IsoDate = Annotated[
    dt.date, BeforeValidator(date), WithJsonSchema({"type": "string", "format": "date"})
]
Money = Annotated[
    Decimal,
    BeforeValidator(decimal(money=True)),
    Ge(0),
    "money",
    WithJsonSchema(
        _schema(_DIGITS + r"(\.\d{1,2})?", "money in quotes, at most two places", minimum=0)
    ),
]
Decimal0 = Annotated[
    Decimal,
    BeforeValidator(decimal(money=False)),
    Ge(0),
    WithJsonSchema(
        _schema(
            _DIGITS + r"(\.\d{1,18})?",
            "a decimal ≥ 0 in quotes; bare floats are refused",
            minimum=0,
        )
    ),
]
Positive = Annotated[
    Decimal,
    BeforeValidator(decimal(money=False)),
    Gt(0),
    WithJsonSchema(
        _schema(
            r"(?!\+?0+(\.0+)?$)" + _DIGITS + r"(\.\d{1,18})?",
            "a decimal > 0 in quotes; bare floats are refused",
            exclusiveMinimum=0,
        )
    ),
]
Rate01 = Annotated[
    Decimal,
    BeforeValidator(decimal(money=False)),
    Ge(0),
    Le(1),
    WithJsonSchema(
        _schema(
            r"\+?(0(\.\d{1,18})?|1(\.0{1,18})?)",
            "a rate between 0 and 1, in quotes",
            minimum=0,
            maximum=1,
        )
    ),
]


def Choice(choices: tuple[str, ...], default: str | None = None) -> Any:  # noqa: N802 - a type
    schema: dict[str, Any] = {"enum": list(choices)}
    if default is not None:
        schema["default"] = default
    return Annotated[str, BeforeValidator(choice(choices)), WithJsonSchema(schema)]


def sequence(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        fail(
            Say(
                (),
                f" is {describe(value)}",
                f"a list of {what}",
                f"write it as {KEY}: [...]",
                line_of(value),
            )
        )
    return value


def key_line(data: dict[str, Any], key: str) -> int:
    return next((line_of(k) for k in data if k == key), line_of(data))


def ok(check: Callable[[Any], Any], value: Any) -> Any:
    """``check(value)``, or None when the value is refused (its problem is reported elsewhere)."""
    try:
        return check(value)
    except PydanticCustomError:
        return None
