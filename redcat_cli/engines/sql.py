"""Statements for engines that take no parameters: values written in as SQL literals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

# --- parameters as literals --------------------------------------------------------------


def literal(value: Any) -> str:
    """A Python value as a DuckDB SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def inline_params(sql: str, params: Sequence[Any] | dict[str, Any] | None) -> str:
    """The statement with its ``?`` and ``$name`` parameters written in as literals (found
    with sqlglot's DuckDB tokenizer, so a ``?`` inside a string stays text)."""
    if not params:
        return sql
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    tokens = Dialect.get_or_raise("duckdb").tokenize(sql)
    out: list[str] = []
    last = 0
    i = 0
    positional = iter(params if isinstance(params, list | tuple) else ())
    skip_next = False
    for n, tok in enumerate(tokens):
        if skip_next:
            skip_next = False
            last = tok.end + 1
            continue
        if tok.token_type == TokenType.PLACEHOLDER and tok.text == "?":
            out += [sql[last : tok.start], literal(next(positional))]
            last = tok.end + 1
            i += 1
        elif tok.token_type == TokenType.QDCOLON:  # `?::TYPE`
            out += [sql[last : tok.start], "(", literal(next(positional)), ")::"]
            last = tok.end + 1
            i += 1
        elif tok.token_type == TokenType.PARAMETER and isinstance(params, dict):
            name = tokens[n + 1].text
            out += [sql[last : tok.start], literal(params[name])]
            skip_next = True
    out.append(sql[last:])
    return "".join(out)


# --- a cursor over fetched rows ----------------------------------------------------------


class Rows:
    """What ``execute`` returns on the Spark engine: the rows, fetched."""

    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(n,) for n in names]
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None
