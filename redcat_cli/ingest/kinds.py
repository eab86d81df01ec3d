"""Export kinds are data: YAML files under configs/sources/, interpreted here.

A kind names its canonical fields (type, header aliases, required), the natural key, extra
missing-value markers, and the headers it recognises without storing them. This module
matches a file's header row against the kinds and decides which kind a file is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from redcat_cli.errors import IngestError

TYPES = ("id", "text", "date", "datetime", "int", "money", "rate", "number", "days")

SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "int": "BIGINT",
    "money": "DECIMAL(18,4)",
    "rate": "DOUBLE",
    "number": "DOUBLE",
    "days": "INTEGER",
}

_SPACE = re.compile(r"\s+")
_UNIT = re.compile(r"\([^()]*\)$")


def normalise_header(name: Any) -> str:
    """NFKC, trimmed, case-folded, without spaces: `（30日)` = `(30日)`, `uv` = `UV`."""
    if name is None:
        return ""
    text = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff")
    return _SPACE.sub("", text).casefold()


def strip_unit(norm: str) -> str:
    """`消耗(元)` → `消耗`: a unit in brackets at the end of a header."""
    return _UNIT.sub("", norm)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    aliases: tuple[str, ...]  # as written in the YAML
    required: bool = False
    signed: bool = False  # may a money/count value be below zero? (`signed: true` in the YAML)

    @property
    def label(self) -> str:
        return self.aliases[0] if self.aliases else self.name

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass
class Match:
    """How a header row maps onto one kind."""

    kind: Kind
    columns: dict[int, str]  # column index -> field name
    recognised: set[int]  # column indexes of recognised-but-not-stored headers
    duplicates: list[tuple[int, str]]  # column index, field already taken by an earlier column
    unmatched: list[int]

    @property
    def fields(self) -> set[str]:
        return set(self.columns.values())

    @property
    def required_present(self) -> int:
        return sum(1 for f in self.kind.required if f in self.fields)

    @property
    def missing_required(self) -> list[str]:
        missing = [f for f in self.kind.required if f not in self.fields]
        for group in self.kind.required_any:
            if not any(f in self.fields for f in group):
                missing.append(" or ".join(group))
        return missing

    @property
    def complete(self) -> bool:
        return not self.missing_required

    @property
    def n_recognised(self) -> int:
        return len(self.columns) + len(self.recognised)


@dataclass(frozen=True, eq=False)
class Kind:
    name: str
    title: str
    description: str
    fields: dict[str, Field]
    key: tuple[str, ...]
    required_any: tuple[tuple[str, ...], ...] = ()
    missing: tuple[str, ...] = ()
    recognised: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]

    @property
    def table(self) -> str:
        return self.name

    @property
    def history_table(self) -> str:
        return f"{self.name}_history"

    @property
    def alias_index(self) -> dict[str, str]:
        return _alias_index(self)

    def match(self, header: Sequence[Any]) -> Match:
        index = self.alias_index
        recognised = {normalise_header(r) for r in self.recognised}
        columns: dict[int, str] = {}
        taken: set[str] = set()
        rec: set[int] = set()
        dups: list[tuple[int, str]] = []
        unmatched: list[int] = []
        for i, raw in enumerate(header):
            norm = normalise_header(raw)
            if not norm:
                continue
            name = index.get(norm)
            if name is None and norm not in recognised:
                bare = strip_unit(norm)
                if bare != norm:
                    name = index.get(bare)
                    if name is None and bare in recognised:
                        rec.add(i)
                        continue
            if name is None:
                if norm in recognised:
                    rec.add(i)
                else:
                    unmatched.append(i)
            elif name in taken:
                dups.append((i, name))
            else:
                columns[i] = name
                taken.add(name)
        return Match(self, columns, rec, dups, unmatched)


@cache
def _alias_index(kind: Kind) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in kind.fields.values():
        for alias in (*f.aliases, f.name):
            index.setdefault(normalise_header(alias), f.name)
    return index


def _validated(data: Any, path: Path) -> dict[str, Any]:
    """The data of a kind's YAML file, validated by the kind model (an unknown key, a wrong
    type or a missing field is an error naming the file and the key), as plain data."""
    from pydantic import ValidationError

    from redcat_cli.ingest.kind_model import KindFile, problems

    try:
        spec = KindFile.model_validate(data)
    except ValidationError as e:
        found = problems(e)
        raise IngestError(
            f"export kind {path} is invalid ({len(found)} problem{'s' if len(found) != 1 else ''}): "
            + "; ".join(found),
            hint="fix the kind file (the keys of a kind are described in docs/sources.md)",
        ) from None
    plain = spec.model_dump(mode="json", exclude={"summary"})
    plain["summary"] = spec.summary.model_dump(mode="json", exclude_unset=True)
    return plain


def _kind_from_spec(spec: dict[str, Any], path: Path) -> Kind:
    return Kind(
        name=spec["name"],
        title=spec["title"] if spec["title"] is not None else spec["name"],
        description=" ".join(spec["description"].split()),
        fields={
            name: Field(
                name=name,
                type=f["type"],
                aliases=tuple(f["aliases"]),
                required=f["required"],
                signed=f["signed"],
            )
            for name, f in spec["fields"].items()
        },
        key=tuple(spec["key"]),
        required_any=tuple(tuple(g) for g in spec["required_any"]),
        missing=tuple(spec["missing"]),
        recognised=tuple(spec["recognised"]),
        summary=spec["summary"],
        path=str(path),
    )


@lru_cache(maxsize=4)
def load_kinds(directory: str | None = None) -> dict[str, Kind]:
    """Every export kind, by name, from YAML (safely loaded).

    The bundled kinds, when their files were validated before by this redcat and this kind
    model, are read from a cache of their validated data (:mod:`redcat_cli.ingest.kind_cache`):
    pydantic costs 0.14 s to import and build, more than most commands' own work."""
    from redcat_cli.resources import sources_dir

    return _load(Path(directory) if directory else sources_dir(), cached=directory is None)


def _load(folder: Path, *, cached: bool) -> dict[str, Kind]:
    from redcat_cli.ingest import kind_cache

    paths = sorted(folder.glob("*.yaml"))
    texts = [p.read_bytes() for p in paths]
    specs = kind_cache.read(folder, paths, texts) if cached else None
    if specs is None:
        specs = [_validated(_parse_yaml(t, p), p) for p, t in zip(paths, texts, strict=True)]
        if cached:
            kind_cache.write(folder, paths, texts, specs)
    kinds: dict[str, Kind] = {}
    for path, spec in zip(paths, specs, strict=True):
        kind = _kind_from_spec(spec, path)
        kinds[kind.name] = kind
    return kinds


def _parse_yaml(text: bytes, path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when built: 7× faster
    try:
        return yaml.load(text.decode("utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise IngestError(
            f"export kind {path}{line} is not valid YAML: {getattr(e, 'problem', None) or e}"
        ) from None


def get_kind(name: str) -> Kind:
    kinds = load_kinds()
    if name not in kinds:
        raise IngestError(f"unknown export kind {name!r}", hint=f"one of: {', '.join(kinds)}")
    return kinds[name]


def best_matches(header: Sequence[Any], kinds: Iterable[Kind]) -> list[Match]:
    """Complete matches first, ordered by required fields present, then headers recognised."""
    matches = [k.match(header) for k in kinds]
    matches.sort(key=lambda m: (m.complete, m.required_present, m.n_recognised), reverse=True)
    return matches


# Exports people reach for that cannot be used: (headers that tell them, message, what to do).
UNJOINABLE = [
    (
        ("笔记标题", "首次发布时间", "体裁"),
        "the creator-center note list (笔记列表明细表) has no 笔记ID: nothing can join it to "
        "聚光 or 种草星河",
        "export 聚光 数据报表 → 笔记 (kind juguang), or 创作中心 → 笔记数据 → 导出 with 笔记id "
        "(kind note_data) instead",
    ),
]
_NOTE_ID_HEADERS = {"笔记id", "内容id", "笔记/素材id"}


def unjoinable(header: Sequence[Any], *, name: str = "the file") -> IngestError | None:
    """The error for a known export that lacks the key every join needs, or None."""
    seen = {normalise_header(h) for h in header}
    if seen & _NOTE_ID_HEADERS:
        return None
    for tells, message, hint in UNJOINABLE:
        if all(normalise_header(t) in seen for t in tells):
            return IngestError(f"{name}: {message}", hint=hint, code="unrecognised_export")
    return None


def detect(header: Sequence[Any], kinds: dict[str, Kind], *, name: str = "the file") -> Match:
    """The kind of a file from its header row, or an error that says what was found."""
    matches = best_matches(header, kinds.values())
    complete = [m for m in matches if m.complete]
    if not complete:
        found = ", ".join(str(h) for h in header if normalise_header(h)) or "(none)"
        closest = matches[0] if matches else None
        hint = "if you know the kind, force it with --source NAME (see `redcat sources`)"
        if closest is not None and closest.n_recognised:
            missing = ", ".join(_labels(closest.kind, closest.missing_required))
            raise IngestError(
                f"{name}: not recognised as any export kind. Headers found: {found}. "
                f"Closest kind: {closest.kind.name} ({closest.kind.title}), "
                f"which needs {missing}.",
                hint=hint,
                code="unrecognised_export",
            )
        raise IngestError(
            f"{name}: not recognised as any export kind. Headers found: {found}.",
            hint=hint,
            code="unrecognised_export",
        )
    best = complete[0]
    ties = [
        m
        for m in complete[1:]
        if (m.required_present, m.n_recognised) == (best.required_present, best.n_recognised)
    ]
    if ties:
        names = ", ".join(m.kind.name for m in [best, *ties])
        raise IngestError(
            f"{name}: its headers fit several export kinds equally well ({names})",
            hint="say which with --source NAME",
            code="unrecognised_export",
        )
    return best


def _labels(kind: Kind, names: Iterable[str]) -> list[str]:
    out = []
    for n in names:
        parts = [kind.fields[p].label if p in kind.fields else p for p in n.split(" or ")]
        out.append(" or ".join(parts))
    return out
