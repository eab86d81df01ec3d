"""A contract's YAML, composed node by node (``yaml.compose``) and turned into plain data that
remembers where each value was written.

Never ``yaml.safe_load``: that would turn ``cap: 1000.10`` into a float, ``012345`` into 5349 and
keep only the last of two equal keys. Instead every scalar becomes a :class:`Scalar` (the text as
written, its YAML tag, whether it was quoted, its line), every mapping a :class:`YamlMap` (which
keeps every key in order, duplicates and non-text keys included) and every list a
:class:`YamlList`. The contract model validates that data and reads lines from it.

Hostile input is refused before anything is built from it: more than ``MAX_BYTES``, text that
is not UTF-8, or nesting deeper than ``MAX_DEPTH``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import yaml

from redcat_cli.errors import ContractError

MAX_BYTES = 1 << 20  # a contract is a page of YAML; 1 MiB is far beyond any real one
MAX_DEPTH = 64  # nesting of mappings and lists

T_STR = "tag:yaml.org,2002:str"
T_INT = "tag:yaml.org,2002:int"
T_FLOAT = "tag:yaml.org,2002:float"
T_BOOL = "tag:yaml.org,2002:bool"
T_NULL = "tag:yaml.org,2002:null"
T_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class Scalar(str):
    """A scalar as written: ``str(s)`` is its text; ``tag`` its YAML type; ``plain`` whether it
    was written unquoted; ``line`` where (1-based)."""

    tag: str
    plain: bool
    line: int

    def __new__(cls, text: str, tag: str = T_STR, plain: bool = False, line: int = 1) -> Scalar:
        s = super().__new__(cls, text)
        s.tag, s.plain, s.line = tag, plain, line
        return s


class YamlMap(dict[Any, Any]):
    """A mapping: the first value of each key, plus ``entries`` (every key and value in the
    order written, duplicates included) and ``line``."""

    def __init__(self, entries: list[tuple[Any, Any]], line: int) -> None:
        super().__init__()
        self.entries = entries
        self.line = line
        for k, v in entries:
            if isinstance(k, Scalar) and k not in self:
                self[k] = v

    def key_line(self, key: str) -> int:
        return next((k.line for k in self if k == key), self.line)


class YamlList(list[Any]):
    def __init__(self, items: list[Any], line: int) -> None:
        super().__init__(items)
        self.line = line


def line_of(value: Any, default: int = 1) -> int:
    return int(getattr(value, "line", default))


# --- reading ------------------------------------------------------------------------------


def invalid(path: str, problem: str, code: str | None = None) -> ContractError:
    return ContractError(f"contract {path} is invalid (1 problem)", problems=[problem], code=code)


def too_large(path: str, size: int) -> ContractError:
    return ContractError(
        f"contract {path} is {size:,} bytes; a contract is at most {MAX_BYTES:,}",
        hint="is this the right file? A contract is a page of YAML",
        code="too_large",
    )


def compose(data: bytes, path: str) -> Any:
    """The file's plain data with its marks; a ContractError for what cannot be read."""
    if len(data) > MAX_BYTES:
        raise too_large(path, len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractError(
            f"contract {path} is not UTF-8 text", hint="save the contract as UTF-8"
        ) from None
    deep = f"{path}: nested more than {MAX_DEPTH} levels deep; a contract is not"
    if _flow_depth(text) > MAX_DEPTH:  # before the parser spends minutes on [[[[…]]]]
        raise invalid(path, deep, "too_large")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = (mark.line + 1) if mark is not None else 1
        raise invalid(path, f"{path}:{line}: not valid YAML: {e.problem or e}") from None
    except yaml.YAMLError as e:
        raise invalid(path, f"{path}:1: not valid YAML: {e}") from None
    except RecursionError:
        raise invalid(path, deep, "too_large") from None
    if _depth(root) > MAX_DEPTH:
        raise invalid(path, deep, "too_large")
    if root is None:
        raise invalid(
            path,
            f"{path}:1: the file is empty (expected a mapping with contract_id, merchant, period, gmv)",
        )
    return plain(root)


def plain(node: yaml.Node) -> Any:
    """Scalars, mappings and lists with their marks (the depth is bounded already)."""
    line = int(node.start_mark.line) + 1
    if isinstance(node, yaml.MappingNode):
        return YamlMap([(plain(k), plain(v)) for k, v in node.value], line)
    if isinstance(node, yaml.SequenceNode):
        return YamlList([plain(v) for v in node.value], line)
    return Scalar(str(node.value), node.tag, getattr(node, "style", None) is None, line)


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


# --- values from other sources, and how a value is described ------------------------------


def scalar(value: Any) -> Any:
    """Plain Python data (JSON, a dict built in code) as the Scalar YAML would have given;
    mappings and lists are returned as they are."""
    if isinstance(value, Scalar | dict | list):
        return value
    if value is None:
        return Scalar("", T_NULL, True)
    if isinstance(value, bool):
        return Scalar("true" if value else "false", T_BOOL, True)
    if isinstance(value, int):
        return Scalar(str(value), T_INT, True)
    if isinstance(value, float):
        return Scalar(repr(value), T_FLOAT, True)
    if isinstance(value, dt.date):
        return Scalar(value.isoformat(), T_TIMESTAMP, True)
    if isinstance(value, Decimal):
        return Scalar(str(value))
    return Scalar(str(value))


_TAGS = {
    T_NULL: "empty",
    T_BOOL: "a yes/no value",
    T_FLOAT: "a float",
    T_INT: "a whole number",
    T_TIMESTAMP: "a date",
}


def describe(value: Any) -> str:
    """How a message shows a value: ``'thirty'``, ``'1.5' (a float)``, ``a list``, ``empty``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    s = scalar(value)
    if s.tag == T_NULL:
        return "empty"
    shown = s if len(s) <= 40 else f"{s[:30]}… ({len(s):,} characters)"
    if s.tag in _TAGS and s.plain:
        if s.tag == T_INT and len(s.strip().lstrip("+-")) > 18:
            return f"{str(shown)!r} (a whole number too large for any contract term)"
        return f"{str(shown)!r} ({_TAGS[s.tag]})"
    return repr(str(shown))
