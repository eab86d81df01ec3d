"""Files redcat writes: atomically (temp file + rename), and CSV that Excel will not execute."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value: Any) -> str:
    """Cell text that Excel will not run as a formula: `=cmd|…` → `'=cmd|…`.

    Plain numbers such as -12.5 stay numbers.
    """
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


def csv_text(columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([excel_safe(c) for c in columns])
    for row in rows:
        writer.writerow([excel_safe(v) for v in row])
    return buf.getvalue()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file is for sharing
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
