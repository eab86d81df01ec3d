"""The embedded store: one DuckDB file, one table per export kind, keyed by its natural key.

- ``<kind>``: the current facts. Every column of the kind, plus ``_key`` (the natural key as
  text, the merchant first), ``_ingest_id`` (the ingest that last wrote the row), ``_line``
  (its line in that file), ``_lower_bound`` (fields whose value was a lower bound such as
  ``10万+``) and ``merchant`` (whose data it is: every natural key includes it, so two
  merchants' identical notes or dates never collide).
- ``<kind>_history``: a row's earlier values, kept when a later export replaced them, with
  ``_superseded_by`` (the ingest that replaced them).
- ``ingest_log``: every file ingested: name, sha256, kind, merchant, counts, time, and the
  date the file was exported (``exported_on``, with where it was found in ``exported_on_from``;
  NULL for files ingested before schema 2, whose export date is unknown).
- ``redcat_meta``: the schema version. A store from a newer redcat is refused; a store from an
  older one is upgraded when it is opened (to schema 3: its rows become the merchant
  ``default``, nothing else changes).

Writers take DuckDB's file lock; a second writer (or a reader, while a writer holds the
store) waits up to ``REDCAT_LOCK_TIMEOUT`` seconds (300 by default), saying so every few
seconds, then gets a clear "store in use" error. One ``ingest`` is one transaction.

A new store is made in a hidden temporary file beside it and linked into place only once
its first transaction has committed, so the store path never names a half-made store. The
processes that create stores in one folder take turns (a lock on the folder), so two first
ingests into the same new store run one after the other, like any two writers. A failure
removes only the temporary file of that process; a temporary file left by a killed process
is removed by the next one that creates a store in that folder.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redcat_cli.errors import StoreError, UsageError, system_fault
from redcat_cli.ingest.kinds import Kind, load_kinds

SCHEMA_VERSION = 3  # 2: ingest_log.exported_on, exported_on_from; 3: merchant
DEFAULT_MERCHANT = "default"
KEY_SEP = "\x1f"  # between the parts of ``_key``
BOOKKEEPING = [
    ("_key", "VARCHAR"),
    ("_ingest_id", "INTEGER"),
    ("_line", "BIGINT"),
    ("_lower_bound", "VARCHAR"),
    ("merchant", f"VARCHAR DEFAULT '{DEFAULT_MERCHANT}'"),  # a row written without one
]
BOOKKEEPING_COLUMNS = [n for n, _ in BOOKKEEPING]
DEFAULT_LOCK_TIMEOUT = 300.0  # seconds
TEMP_SUFFIX = ".creating"  # a store being made: `.redcat-<pid>-<n>.creating`

# Called now and then while waiting for another process's lock, with the store and the
# seconds waited so far; the command line sets it to print a notice.
wait_reporter: Callable[[Path, float], None] | None = None


def lock_timeout_seconds() -> float:
    """Seconds to wait for a store in use: ``REDCAT_LOCK_TIMEOUT``, or 300."""
    text = os.environ.get("REDCAT_LOCK_TIMEOUT")
    if text is None or not text.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UsageError(
            f"REDCAT_LOCK_TIMEOUT must be a number of seconds, not {text!r}",
            hint="for example REDCAT_LOCK_TIMEOUT=60, or unset it for the default of 300",
        )
    return value


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
    exported_on_from VARCHAR,
    merchant VARCHAR DEFAULT 'default'
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


class _Waiting:
    """Retry with back-off until a deadline, telling ``wait_reporter`` every few seconds."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.start = time.monotonic()
        self.deadline = self.start + timeout
        self.delay = 0.05
        self.next_report = self.start + 2.0

    def again(self) -> bool:
        now = time.monotonic()
        if now >= self.deadline:
            return False
        if wait_reporter is not None and now >= self.next_report:
            wait_reporter(self.path, now - self.start)
            self.next_report = now + 10.0
        time.sleep(min(self.delay, max(self.deadline - now, 0.0)))
        self.delay = min(self.delay * 2, 0.5)
        return True


def _in_use(path: Path) -> StoreError:
    return StoreError(
        f"store {path} is in use by another redcat process",
        hint="wait for it to finish (or raise REDCAT_LOCK_TIMEOUT), or use --store for another store",
        code="store_locked",
    )


def _connect(path: Path, read_only: bool, timeout: float, shown: Path | None = None) -> Any:
    import duckdb

    shown = shown or path
    waiting = _Waiting(shown, timeout)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            msg = str(e)
            if "lock" in msg.lower():
                if waiting.again():
                    continue
                raise _in_use(shown) from None
            fault = system_fault(e, f"cannot open store {shown}")
            if fault is not None:
                raise fault from None
            raise StoreError(
                f"cannot open store {shown}: {msg.splitlines()[0]}",
                hint="check the path and its permissions, or use --store for another store",
                code="store_unreadable",
            ) from None
        except duckdb.Error as e:
            first = str(e).splitlines()[0]
            raise StoreError(
                f"{shown} is not a redcat store ({first})",
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
    """Open (and, for writing, create or upgrade) the store at ``path``.

    A store that does not exist yet is made in a temporary file and appears at ``path`` only
    when the ``with`` block ends without an error (see the module's note)."""
    p = Path(path)
    timeout = lock_timeout_seconds() if lock_timeout is None else lock_timeout
    if read_only and not p.exists():
        raise StoreError(
            f"no store at {p}",
            hint="ingest exports first: redcat ingest FILE… (or point --store at your store)",
            code="store_missing",
        )
    if not read_only and p.parent and not p.parent.exists():
        raise StoreError(f"cannot create store {p}: folder {p.parent} does not exist")
    if read_only or p.exists():
        yield from _open_existing(p, read_only, timeout)
        return
    with _folder_lock(p, timeout):
        if p.exists():  # made by another process while we waited for the folder
            yield from _open_existing(p, read_only, timeout)
            return
        yield from _create(p, timeout)


def _open_existing(p: Path, read_only: bool, timeout: float) -> Iterator[Store]:
    con = _connect(p, read_only, timeout)
    store = Store(p, con, read_only)
    try:
        version = _check_version(store)
        if read_only and version is not None and version < SCHEMA_VERSION:
            store.close()  # an older store: upgrade it once, then read it
            _upgrade(p, timeout)
            store = Store(p, _connect(p, read_only, timeout), read_only)
        if not read_only:
            ensure_schema(store)
        yield store
    finally:
        store.close()


def _create(p: Path, timeout: float) -> Iterator[Store]:
    """A new store: made under a temporary name, linked into place when all went well."""
    _remove_stale_temporaries(p.parent)
    tmp = p.parent / f".redcat-{os.getpid()}-{time.monotonic_ns()}{TEMP_SUFFIX}"
    try:
        con = _connect(tmp, False, timeout, shown=p)
    except BaseException:
        _remove(tmp)
        raise
    store = Store(p, con, False)
    done = False
    try:
        ensure_schema(store)
        yield store
        try:
            con.execute("CHECKPOINT")
        except Exception as e:
            fault = system_fault(e, f"cannot write store {p}")
            raise (fault or e) from None
        con.close()
        _fsync(tmp)
        _publish(tmp, p)
        done = True
    finally:
        store.close()
        if not done:
            _remove(tmp)


def _publish(tmp: Path, p: Path) -> None:
    """Put the finished store at its path; never over a file that appeared meanwhile."""
    try:
        os.link(tmp, p)
    except FileExistsError:
        raise StoreError(
            f"{p} appeared while this store was being made; nothing was committed",
            hint="run the command again: it will add to that store",
        ) from None
    except OSError:  # a file system without hard links: the folder lock keeps creators apart
        if p.exists():
            raise StoreError(
                f"{p} appeared while this store was being made; nothing was committed",
                hint="run the command again: it will add to that store",
            ) from None
        os.replace(tmp, p)
    else:
        _remove(tmp)
    _fsync(p.parent)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary stores of killed processes. Safe: we hold the folder's creation lock, and
    every process making a store in this folder holds it for as long as its file exists."""
    for leftover in folder.glob(f".redcat-*{TEMP_SUFFIX}*"):
        try:
            leftover.unlink()
        except OSError:
            pass


@contextmanager
def _folder_lock(p: Path, timeout: float) -> Iterator[None]:
    """Creators of stores in one folder take turns (an advisory lock on the folder)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one creator at a time is not enforced
        yield
        return
    folder = p.parent
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as e:
        raise system_fault(e, f"cannot create store {p}") or StoreError(
            f"cannot create store {p}: {e.strerror}"
        ) from None
    try:
        waiting = _Waiting(p, timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waiting.again():
                    continue
                raise _in_use(p) from None
            except OSError:  # a file system without locks: go ahead, as before
                break
        yield
    finally:
        os.close(fd)  # releases the lock


def _upgrade(p: Path, timeout: float) -> None:
    if not os.access(p, os.W_OK):
        raise StoreError(
            f"store {p} was written by an earlier redcat and must be upgraded once, but it is read-only",
            hint="make it writable for one run (any redcat command upgrades it), or copy it",
        )
    con = _connect(p, False, timeout)
    try:
        ensure_schema(Store(p, con, False))
    finally:
        con.close()


def _check_version(store: Store) -> int | None:
    """The store's schema version (None for a new, empty file); a newer one is refused."""
    if "redcat_meta" not in store.tables():
        if store.tables():  # someone else's database: never read as ours, never written to
            raise StoreError(
                f"{store.path} is a DuckDB database but not a redcat store",
                hint="give another path with --store; redcat leaves that file alone",
                code="not_a_store",
            )
        return None
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
    return version


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
        had = con.execute("SELECT value FROM redcat_meta WHERE key = 'schema_version'").fetchall()
        version = int(had[0][0]) if had else SCHEMA_VERSION
        con.execute(INGEST_LOG_DDL)
        for column, sql_type in MIGRATIONS_INGEST_LOG:  # additive: older stores gain them
            con.execute(f"ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS {column} {sql_type}")
        if version < 3:
            _migrate_to_merchants(con, kinds, existing)
        con.execute(
            "INSERT INTO redcat_meta VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )
        for kind in kinds.values():
            for history in (False, True):
                name = kind.history_table if history else kind.table
                if name not in existing:
                    con.execute(table_ddl(kind, history=history))
                    continue
                have = _columns(con, name)
                for f in kind.fields.values():
                    if f.name not in have:
                        con.execute(
                            f"ALTER TABLE {quote(name)} ADD COLUMN {quote(f.name)} {f.sql_type}"
                        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _columns(con: Any, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    }


def _migrate_to_merchants(con: Any, kinds: dict[str, Kind], existing: set[str]) -> None:
    """Schema 3 adds the merchant: every row of an older store becomes ``default``'s, and
    ``default`` leads its natural key, exactly as an ingest without ``--merchant`` writes it."""
    tables = ["ingest_log"]
    for kind in kinds.values():
        tables += [t for t in (kind.table, kind.history_table) if t in existing]
    for t in tables:
        if "merchant" in _columns(con, t):
            continue
        con.execute(
            f"ALTER TABLE {quote(t)} ADD COLUMN merchant VARCHAR DEFAULT '{DEFAULT_MERCHANT}'"
        )
        key = ", _key = ? || _key" if t != "ingest_log" else ""
        params = [DEFAULT_MERCHANT] + ([DEFAULT_MERCHANT + KEY_SEP] if key else [])
        con.execute(f"UPDATE {quote(t)} SET merchant = ?{key}", params)
