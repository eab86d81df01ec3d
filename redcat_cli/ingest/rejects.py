"""Rejected rows to a CSV beside the store, under a file name the file system takes."""

from __future__ import annotations

import re
from pathlib import Path

from redcat_cli.ingest.results import FileResult

NAME_BYTES = 180  # a file name redcat makes, with room for a temporary file's affixes (≤ 255)


def short_name(name: str, max_bytes: int = NAME_BYTES) -> str:
    """``name`` cut to ``max_bytes`` of UTF-8 on a character boundary; a cut name ends with
    a short hash of the whole, so two long names that share a beginning stay apart."""
    raw = name.encode("utf-8")
    if len(raw) <= max_bytes:
        return name
    import hashlib

    tag = "~" + hashlib.sha256(raw).hexdigest()[:8]
    return raw[: max_bytes - len(tag)].decode("utf-8", "ignore") + tag


def _write_rejects(store_path: Path, res: FileResult) -> Path:
    """Rejected rows to a CSV beside the store (UTF-8 with BOM so Excel opens it)."""
    from redcat_cli.errors import SystemFault
    from redcat_cli.files import atomic_write_text, csv_text

    folder = store_path.parent / short_name(f"{store_path.stem}-rejects")
    if folder.exists() and not folder.is_dir():
        raise SystemFault(
            f"cannot write the rejected rows: {folder} is a file, not a folder; "
            "nothing was committed",
            hint="move that file away (redcat keeps rejected rows in that folder)",
            code="system_fault",
        )
    folder.mkdir(parents=True, exist_ok=True)
    base = re.sub(r"[^\w.\-]+", "_", Path(res.path.replace("!", "_")).name) or "stdin"
    out = folder / f"{res.ingest_id:05d}-{short_name(base)}.rejects.csv"
    width = max((len(r.fields) for r in res.rejects), default=0)
    rows = [[r.line, r.reason, *r.fields] for r in res.rejects]
    header = ["line", "reason", *[f"field_{i + 1}" for i in range(width)]]
    atomic_write_text(out, "\ufeff" + csv_text(header, rows))
    return out
