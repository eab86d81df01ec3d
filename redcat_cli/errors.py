"""Typed errors. The library raises them; the CLI turns them into one line and an exit code.

Every error carries what went wrong and, where we know it, what to do next (``hint``).
"""

from __future__ import annotations


class RedcatError(Exception):
    """Base class: bad data, a bad contract or a store problem (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class IngestError(RedcatError):
    """A file could not be read or recognised."""


class StoreError(RedcatError):
    """The store is missing, locked, or from a newer redcat."""


class ContractError(RedcatError):
    """A settlement contract is invalid. ``problems`` lists every error found."""

    def __init__(self, message: str, problems: list[str] | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class QueryError(RedcatError):
    """A query cannot be answered from what the store holds (e.g. no such window)."""


class UsageError(RedcatError):
    """Options that make no sense together (exit code 2)."""

    exit_code = 2
