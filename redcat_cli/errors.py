"""Typed errors. The library raises them; the CLI turns them into one line and an exit code
(or, under --json, one JSON object on stderr).

Every error carries what went wrong, where we know it what to do next (``hint``), and a stable
machine-readable ``code`` (documented in docs/json.md; a script may rely on it). A subclass
gives the default code of its family; a raise site may name a more precise one.
"""

from __future__ import annotations

import errno

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
    "interrupted": (
        130,
        "interrupted (Ctrl-C, SIGTERM); nothing was committed unless the message says so",
    ),
    "disk_full": (3, "the disk (or the quota) is full; nothing was committed"),
    "permission_denied": (3, "the system refused access to a file or folder"),
    "read_only": (3, "the file system is read-only"),
    "name_too_long": (3, "a file name or path is too long for the file system"),
    "io_error": (3, "the disk or network share failed to read or write"),
    "system_fault": (3, "any other refusal of the machine (no such folder, too many files…)"),
    "out_of_memory": (3, "the machine ran out of memory; nothing was committed"),
    "too_large": (1, "an input is beyond redcat's limits (archive, contract, field size)"),
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


class SystemFault(RedcatError):
    """The machine refused: disk full, permission denied, a name too long, a read-only or
    failing disk (exit code 3). Nothing was committed."""

    exit_code = 3
    code = "system_fault"


class Interrupted(RedcatError):
    """Ctrl-C or SIGTERM (exit code 130)."""

    exit_code = 130
    code = "interrupted"


# errno -> (code, what it means to a user, what to do about it)
_FAULTS: dict[int, tuple[str, str, str]] = {
    errno.ENOSPC: (
        "disk_full",
        "the disk is full",
        "free some space (or point --store elsewhere) and run again",
    ),
    errno.EDQUOT: ("disk_full", "the disk quota is used up", "free some space and run again"),
    errno.EACCES: (
        "permission_denied",
        "permission denied",
        "check the permissions of the file and its folder",
    ),
    errno.EPERM: (
        "permission_denied",
        "operation not permitted",
        "check the permissions of the file and its folder",
    ),
    errno.EROFS: ("read_only", "the file system is read-only", "use a writable folder"),
    errno.ENAMETOOLONG: (
        "name_too_long",
        "the file name is too long",
        "use a shorter name or folder",
    ),
    errno.EIO: (
        "io_error",
        "an input/output error (a failing disk or network share)",
        "check the disk",
    ),
    errno.EFBIG: ("disk_full", "the file is too large for this file system", "use another disk"),
    errno.EISDIR: ("system_fault", "it is a folder", "give a file"),
    errno.ENOTDIR: ("system_fault", "a part of the path is not a folder", "check the path"),
    errno.ENOENT: ("system_fault", "no such file or folder", "check the path"),
    errno.EMFILE: (
        "system_fault",
        "too many open files",
        "raise the limit (ulimit -n) or give fewer files",
    ),
    errno.ELOOP: ("system_fault", "too many symbolic links in the path", "check the path"),
}
# how the same faults read in the messages of libraries that do not keep the errno (DuckDB)
_FAULT_TEXTS = {
    "no space left on device": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
    "permission denied": errno.EACCES,
    "read-only file system": errno.EROFS,
    "file name too long": errno.ENAMETOOLONG,
    "input/output error": errno.EIO,
    "file too large": errno.EFBIG,
    "too many open files": errno.EMFILE,
}


def system_fault(exc: BaseException, doing: str | None = None) -> SystemFault | None:
    """``exc`` as a one-line :class:`SystemFault` ("<doing>: the disk is full"), or None when it
    is not a fault of the machine."""
    number = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if number is None:
        text = str(exc).lower()
        number = next((c for t, c in _FAULT_TEXTS.items() if t in text), None)
    if number not in _FAULTS:
        return None
    code, what, hint = _FAULTS[number]
    where = getattr(exc, "filename", None) if isinstance(exc, OSError) else None
    if doing is None:
        message = f"{where}: {what}" if where is not None else what
    else:
        message = f"{doing}: {what}" + (
            f" ({where})" if where is not None and str(where) not in doing else ""
        )
    return SystemFault(message, hint=hint, code=code)
