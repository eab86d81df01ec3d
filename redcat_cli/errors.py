"""Typed errors. The library raises them; the CLI turns them into one line and an exit code
(or, under --json, one JSON object on stderr).

Every error carries what went wrong, where we know it what to do next (``hint``), and a stable
machine-readable ``code`` (documented in docs/json.md; a script may rely on it). A subclass
gives the default code of its family; a raise site may name a more precise one.
"""

from __future__ import annotations

# Every code redcat can put in {"error": {"code": …}}, with its exit status and meaning.
# Codes are never renamed or reused; new ones may be added. docs/json.md lists them (a test
# checks that the two agree).
CODES: dict[str, tuple[int, str]] = {
    "usage": (2, "options or arguments that make no sense (see the command's --help)"),
    "unknown_command": (2, "no such command"),
    "bad_input": (1, "a file could not be read or its rows could not be loaded"),
    "unrecognised_export": (1, "a file's headers match no export kind, or several equally"),
    "rows_rejected": (1, "--strict and some rows were rejected; nothing was committed"),
    "store_missing": (1, "no store at the given path"),
    "store_locked": (1, "another redcat process is writing the store"),
    "store_unreadable": (1, "the store file cannot be opened"),
    "not_a_store": (1, "the file is not a redcat store"),
    "store_too_new": (1, "the store was written by a newer redcat"),
    "store_error": (1, "any other problem with the store"),
    "contract_invalid": (1, "a settlement contract is invalid (see problems)"),
    "cannot_answer": (1, "the store cannot answer the question (no such window, no data)"),
    "error": (1, "any other error redcat reports"),
    "internal": (1, "a bug in redcat (run again with REDCAT_DEBUG=1 for the traceback)"),
    "interrupted": (130, "interrupted (Ctrl-C); nothing was committed"),
}


class RedcatError(Exception):
    """Base class: bad data, a bad contract or a store problem (exit code 1)."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, hint: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            if code not in CODES:
                raise ValueError(f"undocumented error code {code!r}")
            self.code = code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"

    def to_dict(self) -> dict[str, object]:
        """The ``error`` object of the JSON error contract."""
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "exit": self.exit_code,
        }


class IngestError(RedcatError):
    """A file could not be read or recognised."""

    code = "bad_input"


class StoreError(RedcatError):
    """The store is missing, locked, or from a newer redcat."""

    code = "store_error"


class ContractError(RedcatError):
    """A settlement contract is invalid. ``problems`` lists every error found."""

    code = "contract_invalid"

    def __init__(
        self,
        message: str,
        problems: list[str] | None = None,
        hint: str | None = None,
        *,
        code: str | None = None,
    ):
        super().__init__(message, hint, code=code)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "problems": self.problems}


class QueryError(RedcatError):
    """A query cannot be answered from what the store holds (e.g. no such window)."""

    code = "cannot_answer"


class UsageError(RedcatError):
    """Options that make no sense together (exit code 2)."""

    exit_code = 2
    code = "usage"
