"""The embedded store: one DuckDB file, one table per export kind, keyed by its natural key.

- ``<kind>``: the current facts. Every column of the kind, plus ``_key`` (the natural key as
  text), ``_ingest_id`` (the ingest that last wrote the row), ``_line`` (its line in that
  file) and ``_lower_bound`` (fields whose value was a lower bound such as ``10万+``).
- ``<kind>_history``: a row's earlier values, kept when a later export replaced them, with
  ``_superseded_by`` (the ingest that replaced them).
- ``ingest_log``: every file ingested: name, sha256, kind, counts, time, and the date the
  file was exported (``exported_on``, with where it was found in ``exported_on_from``; NULL
  for files ingested before schema 2, whose export date is unknown).
- ``redcat_meta``: the schema version. A store from a newer redcat is refused.

Writers take DuckDB's file lock; a second writer waits up to ``lock_timeout`` seconds, then
gets a clear "store in use" error. One ``ingest`` is one transaction.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redcat_cli.errors import StoreError
from redcat_cli.kinds import Kind, load_kinds

SCHEMA_VERSION = 2  # 2: ingest_log.exported_on, exported_on_from
BOOKKEEPING = [
    ("_key", "VARCHAR"),
    ("_ingest_id", "INTEGER"),
    ("_line", "BIGINT"),
    ("_lower_bound", "VARCHAR"),
]
LOCK_TIMEOUT = float(os.environ.get("REDCAT_LOCK_TIMEOUT", "10"))

INGEST_LOG_DDL = """
CREATE TABLE IF NOT EXISTS ingest_log (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    path VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    encoding VARCHAR,
    sheet VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_updated BIGINT, rows_duplicate BIGINT,
    rows_skipped BIGINT, rows_rejected BIGINT,
    rejects_path VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    redcat_version VARCHAR,
    exported_on DATE,
    exported_on_from VARCHAR
)
"""

# columns ingest_log gained after schema 1, in order (each migration only adds)
MIGRATIONS_INGEST_LOG = [("exported_on", "DATE"), ("exported_on_from", "VARCHAR")]


@dataclass
class Store:
    path: Path
    con: Any  # duckdb.DuckDBPyConnection
    read_only: bool

    def close(self) -> None:
        self.con.close()

    def tables(self) -> set[str]:
        return {
            r[0]
            for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path, read_only: bool, timeout: float) -> Any:
    import duckdb

    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            msg = str(e)
            if "lock" in msg.lower():
                if time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                raise StoreError(
                    f"store {path} is in use by another redcat process",
                    hint="wait for it to finish (or raise REDCAT_LOCK_TIMEOUT), or use --store for another store",
                    code="store_locked",
                ) from None
            raise StoreError(
                f"cannot open store {path}: {msg.splitlines()[0]}",
                hint="check the path and its permissions, or use --store for another store",
                code="store_unreadable",
            ) from None
        except duckdb.Error as e:
            first = str(e).splitlines()[0]
            raise StoreError(
                f"{path} is not a redcat store ({first})",
                hint="give another path with --store, or move that file away",
                code="not_a_store",
            ) from None


@contextmanager
def open_store(
    path: str | os.PathLike[str],
    *,
    read_only: bool = True,
    lock_timeout: float | None = None,
) -> Iterator[Store]:
    """Open (and, for writing, create or upgrade) the store at ``path``."""
    p = Path(path)
    if read_only and not p.exists():
        raise StoreError(
            f"no store at {p}",
            hint="ingest exports first: redcat ingest FILE… (or point --store at your store)",
            code="store_missing",
        )
    if not read_only and p.parent and not p.parent.exists():
        raise StoreError(f"cannot create store {p}: folder {p.parent} does not exist")
    con = _connect(p, read_only, LOCK_TIMEOUT if lock_timeout is None else lock_timeout)
    store = Store(p, con, read_only)
    try:
        _check_version(store)
        if not read_only:
            ensure_schema(store)
        yield store
    finally:
        store.close()


def _check_version(store: Store) -> None:
    if "redcat_meta" not in store.tables():
        if store.read_only and store.tables():
            raise StoreError(
                f"{store.path} is a DuckDB file but not a redcat store", code="not_a_store"
            )
        return
    rows = store.con.execute(
        "SELECT value FROM redcat_meta WHERE key = 'schema_version'"
    ).fetchall()
    version = int(rows[0][0]) if rows else 0
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {store.path} was written by a newer redcat (schema {version}; this redcat knows {SCHEMA_VERSION})",
            hint="upgrade redcat: pip install --upgrade redcat",
            code="store_too_new",
        )


def table_ddl(kind: Kind, *, history: bool = False) -> str:
    cols = [f"{quote(f.name)} {f.sql_type}" for f in kind.fields.values()]
    cols += [f"{quote(n)} {t}" for n, t in BOOKKEEPING]
    if history:
        cols.append('"_superseded_by" INTEGER')
    name = kind.history_table if history else kind.table
    return f"CREATE TABLE IF NOT EXISTS {quote(name)} ({', '.join(cols)})"


def ensure_schema(store: Store, kinds: dict[str, Kind] | None = None) -> None:
    """Create what is missing: a table per kind (and its history), the log, the version.

    A kind that gained fields since the store was made gets the new columns (additive).
    """
    con = store.con
    kinds = kinds or load_kinds()
    existing = store.tables()
    con.execute("BEGIN")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS redcat_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        con.execute(
            "INSERT INTO redcat_meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
            [str(SCHEMA_VERSION)],
        )
        con.execute(INGEST_LOG_DDL)
        for column, sql_type in MIGRATIONS_INGEST_LOG:  # additive: older stores gain them
            con.execute(f"ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS {column} {sql_type}")
        con.execute(
            "UPDATE redcat_meta SET value = ? WHERE key = 'schema_version' "
            "AND TRY_CAST(value AS INTEGER) < ?",
            [str(SCHEMA_VERSION), SCHEMA_VERSION],
        )
        for kind in kinds.values():
            for history in (False, True):
                name = kind.history_table if history else kind.table
                if name not in existing:
                    con.execute(table_ddl(kind, history=history))
                    continue
                have = {
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                        [name],
                    ).fetchall()
                }
                for f in kind.fields.values():
                    if f.name not in have:
                        con.execute(
                            f"ALTER TABLE {quote(name)} ADD COLUMN {quote(f.name)} {f.sql_type}"
                        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
