"""The shape of an export-kind file (configs/sources/*.yaml), as a pydantic model.

``kinds.load_kinds`` reads each file with a safe YAML loader and validates the data here: an
unknown key, a wrong type or a missing field is an error naming the file and the key (with the
nearest known key when one is close), never a silent default. Imported only when kinds are
loaded, so that ``redcat --help`` does not pay for pydantic.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from redcat_cli.ingest.kinds import TYPES


def _as_text(value: Any) -> Any:
    """A header name written as a bare YAML number (`2024`) is still a header name."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_as_text), Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class FieldSpec(_Strict):
    """One canonical field: its type, the header names it goes by, whether a file must have it."""

    type: str
    aliases: list[Text] = []
    required: StrictBool = False
    signed: StrictBool = False  # may a money or count value be below zero

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in TYPES:
            near = difflib.get_close_matches(value, TYPES, n=1, cutoff=0.6)
            raise ValueError(
                f"{value!r} is not a type (expected one of {', '.join(TYPES)})"
                + (f"; did you mean {near[0]}?" if near else "")
            )
        return value


class Summary(_Strict):
    """What `redcat status` shows of a kind: the date column, distinct counts, sums, the GMV
    column and its grouping, and the window over which outcomes mature (a column or days)."""

    date: str | None = None
    distinct: list[str] = []
    sums: list[str] = []
    group_by: list[str] = []
    gmv: str | None = None
    window: str | int | None = None


class KindFile(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: str | None = None
    description: str = ""
    fields: dict[str, FieldSpec] = Field(min_length=1)
    key: list[str] = Field(min_length=1)
    required_any: list[list[str]] = []
    missing: list[Text] = []
    recognised: list[Text] = []
    summary: Summary = Summary()

    @model_validator(mode="after")
    def _names_are_fields(self) -> KindFile:
        """Every field the key, required_any and summary name is one of the kind's fields."""
        named = [("key", k) for k in self.key]
        named += [("required_any", k) for group in self.required_any for k in group]
        s = self.summary
        for where in ("date", "gmv"):
            if getattr(s, where) is not None:
                named.append((f"summary.{where}", getattr(s, where)))
        for where in ("distinct", "sums", "group_by"):
            named += [(f"summary.{where}", k) for k in getattr(s, where)]
        if isinstance(s.window, str):
            named.append(("summary.window", s.window))
        bad = [
            f"{where}: {k} is not among the fields" for where, k in named if k not in self.fields
        ]
        if bad:
            raise ValueError("; ".join(bad))
        return self


def problems(error: ValidationError) -> list[str]:
    """Each of pydantic's errors as one line naming the key (``fields.spend.tpye: …``)."""
    out = []
    for e in error.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = _allowed(tuple(e["loc"][:-1]))
            text = f"{loc}: unknown key (expected one of {', '.join(allowed)})"
            near = difflib.get_close_matches(str(e["loc"][-1]), allowed, n=1, cutoff=0.6)
            if near:
                text += f"; did you mean {near[0]}?"
        elif e["type"] == "missing":
            text = f"missing required key {loc}"
        elif e["type"] == "value_error":
            text = f"{loc + ': ' if loc else ''}{str(e['ctx']['error'])}"
        elif not loc:
            held = {list: "a list", str: "text", type(None): "nothing"}.get(
                type(e["input"]), "a value"
            )
            text = f"the file holds {held} (expected a mapping with keys {', '.join(KindFile.model_fields)})"
        else:
            text = f"{loc}: {e['msg'][0].lower()}{e['msg'][1:]} (found {e['input']!r})"
        out.append(text)
    return out


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    """The keys the mapping at ``loc`` may hold (the file, a field, the summary)."""
    sections: dict[tuple[Any, ...], type[BaseModel]] = {(): KindFile, ("summary",): Summary}
    section = sections.get(loc)
    if section is None and len(loc) == 2 and loc[0] == "fields":
        section = FieldSpec
    return list(section.model_fields) if section is not None else []
