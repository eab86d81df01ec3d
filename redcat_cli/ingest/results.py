"""What an ingest tells about each file it read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Reject:
    line: int
    reason: str
    fields: list[str]


@dataclass
class FileResult:
    path: str
    source: str
    encoding: str | None
    sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_updated: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    rejects_path: str | None = None
    ingest_id: int | None = None
    sheet: str | None = None
    exported_on: dt.date | None = None
    exported_on_from: str | None = None
    values_lower_bound: int = 0
    columns_ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    _big_changes: int = 0  # updated rows whose spend changed much (see _warn_other_account)
    _worst_change: Any = None
    _dates: list[Any] = field(default_factory=list)  # first and last data date of each batch

    def balanced(self) -> bool:
        return self.rows_read == (
            self.rows_loaded
            + self.rows_updated
            + self.rows_duplicate
            + self.rows_skipped
            + self.rows_rejected
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "encoding": self.encoding,
            "sha256": self.sha256,
            "sheet": self.sheet,
            "ingest_id": self.ingest_id,
            "exported_on": None if self.exported_on is None else self.exported_on.isoformat(),
            "exported_on_from": self.exported_on_from,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_updated": self.rows_updated,
            "rows_duplicate": self.rows_duplicate,
            "rows_skipped": self.rows_skipped,
            "rows_rejected": self.rows_rejected,
            "rejects_path": self.rejects_path,
            "values_lower_bound": self.values_lower_bound,
            "columns_ignored": self.columns_ignored,
            "warnings": self.warnings,
        }


@dataclass
class IngestReport:
    store: str
    files: list[FileResult]
    committed: bool
    merchant: str | None = None  # whose rows the files became

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "merchant": self.merchant,
            "committed": self.committed,
            "files": [f.to_dict() for f in self.files],
        }


_LOG_COLUMNS = (
    "id, batch_id, path, name, sha256, source, encoding, sheet, rows_read, rows_loaded, "
    "rows_updated, rows_duplicate, rows_skipped, rows_rejected, rejects_path, started_at, "
    "finished_at, redcat_version, exported_on, exported_on_from, merchant"
)


def _log_files(
    con: Any, done: list[tuple[FileResult, dt.datetime]], batch: int, merchant: str
) -> None:
    """The files' lines in ingest_log, in one statement however many files."""
    import pyarrow as pa

    from redcat_cli import __version__

    now = dt.datetime.now()
    rows = [
        [
            res.ingest_id,
            batch,
            res.path,
            Path(res.path.split("!")[-1]).name,
            res.sha256,
            res.source,
            res.encoding,
            res.sheet,
            res.rows_read,
            res.rows_loaded,
            res.rows_updated,
            res.rows_duplicate,
            res.rows_skipped,
            res.rows_rejected,
            None,
            started,
            now,
            __version__,
            res.exported_on,
            res.exported_on_from,
            merchant,
        ]
        for res, started in done
    ]
    names = [c.strip() for c in _LOG_COLUMNS.split(",")]
    types = [pa.int64(), pa.int64()] + [pa.string()] * 6 + [pa.int64()] * 6 + [pa.string()]
    types += [pa.timestamp("us"), pa.timestamp("us"), pa.string(), pa.date32()]
    types += [pa.string(), pa.string()]
    redcat_log = pa.table(  # noqa: F841  (read by name: see _ARROW_BY_NAME)
        {
            n: pa.array([r[i] for r in rows], t)
            for i, (n, t) in enumerate(zip(names, types, strict=True))
        }
    )
    con.execute(f"INSERT INTO ingest_log ({_LOG_COLUMNS}) SELECT {_LOG_COLUMNS} FROM redcat_log")
