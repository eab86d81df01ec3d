"""The store as a Parquet warehouse: what Spark (or any Parquet reader) reads.

Layout of ``DIR`` (``redcat export DIR``)::

    manifest.json                               kinds, rows, schema version, sha256 of each file
    juguang/merchant_key=m3f2a…/data_0.parquet  one folder per table and merchant
    juguang_history/merchant_key=m3f2a…/…       history tables too
    ingest_log/data_0.parquet                   the ingest log (not partitioned)

Merchant names are Chinese shop names. DuckDB and Spark do not agree on how to escape such
text in hive folder names, so folders are named by a stable ASCII key (``m`` + the first 16
hex digits of the name's SHA-256: the same name always gets the same key, on any machine)
and the name itself stays in each row's ``merchant`` column; the manifest maps keys to
names. Every reader reads ``merchant`` from the data, never from the folder name.

An export is written into a temporary folder beside ``DIR`` and exchanged with the old one in
one atomic step (Linux; see ``_swap``), so a reader sees the old warehouse or the new one,
never a half-written one and never none. Only a folder that
is empty or holds an earlier redcat warehouse is replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from redcat_cli import __version__
from redcat_cli.errors import StoreError, UsageError
from redcat_cli.ingest.kinds import load_kinds
from redcat_cli.store.db import quote

FORMAT = "redcat-warehouse"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOG = "ingest_log"


def merchant_key(name: str) -> str:
    """The merchant's folder key: ASCII, stable, never read back as a number."""
    return "m" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _columns(con: Any, table: str) -> list[dict[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [{"name": n, "type": t} for n, t in rows]


def _tables_to_export(con: Any) -> list[tuple[str, str | None, bool]]:
    """(table, kind, history) for every table of the store, in a fixed order."""
    have = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    out: list[tuple[str, str | None, bool]] = []
    for kind in load_kinds().values():
        for table, history in ((kind.table, False), (kind.history_table, True)):
            if table in have:
                out.append((table, kind.name, history))
    if LOG in have:
        out.append((LOG, None, False))
    return out


def _check_target(target: Path) -> None:
    if not target.exists():
        if not target.parent.exists():
            raise UsageError(f"cannot export to {target}: folder {target.parent} does not exist")
        return
    if not target.is_dir():
        raise UsageError(f"cannot export to {target}: it is a file", hint="give a folder")
    if not any(target.iterdir()):
        return
    manifest = target / MANIFEST
    try:
        ok = json.loads(manifest.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise UsageError(
            f"{target} is not empty and holds no redcat warehouse: it is left alone",
            hint="give a new or empty folder (an earlier `redcat export` folder is replaced)",
        )


def export_store(
    store_path: str | os.PathLike[str],
    target_dir: str | os.PathLike[str],
    merchants: list[str] | None = None,
) -> dict[str, Any]:
    """Write the store (or the named merchants' part of it) as a warehouse; return the
    manifest."""
    from redcat_cli.store.db import open_store
    from redcat_cli.store.merchants import for_reading, store_merchants

    target = Path(target_dir)
    _check_target(target)
    tmp = target.parent / f".{target.name}.redcat-export-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        with open_store(store_path, read_only=True) as store:
            con = store.con
            held = store_merchants(con)
            chosen = (
                sorted({for_reading(con, m, held) or m for m in merchants}) if merchants else held
            )
            version = con.execute(
                "SELECT value FROM redcat_meta WHERE key = 'schema_version'"
            ).fetchall()[0][0]
            manifest = _write(con, tmp, chosen)
            manifest["store_schema_version"] = int(version)
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write(con: Any, tmp: Path, merchants: list[str]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    tmp.mkdir()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE redcat_export_m (merchant VARCHAR, merchant_key VARCHAR)"
    )
    try:
        con.executemany(
            "INSERT INTO redcat_export_m VALUES (?, ?)", [[m, merchant_key(m)] for m in merchants]
        )
        tables: dict[str, Any] = {}
        files: list[dict[str, Any]] = []
        for table, kind, history in _tables_to_export(con):
            cols = _columns(con, table)
            names = ", ".join(f"t.{quote(c['name'])}" for c in cols)
            folder = tmp / table
            source = f"{quote(table)} t JOIN redcat_export_m m ON m.merchant = t.merchant"
            (n,) = con.execute(f"SELECT count(*) FROM {source}").fetchone()
            folder.mkdir()
            if n and table == LOG:
                con.execute(
                    f"COPY (SELECT {names} FROM {source} ORDER BY t.id) "
                    f"TO '{folder / 'data_0.parquet'}' (FORMAT parquet)"
                )
            elif n:
                order = "t._key" + (", t._superseded_by" if history else "")
                con.execute(
                    f"COPY (SELECT {names}, m.merchant_key FROM {source} ORDER BY {order}) "
                    f"TO '{folder}' (FORMAT parquet, PARTITION_BY (merchant_key), "
                    "OVERWRITE_OR_IGNORE true)"
                )
            tables[table] = {
                "kind": kind,
                "history": history,
                "rows": int(n),
                "columns": cols,
                "partitioned_by": None if table == LOG else "merchant_key",
            }
            for f in sorted(folder.rglob("*.parquet")):
                rel = f.relative_to(tmp).as_posix()
                key = f.parent.name.split("=", 1)[1] if "=" in f.parent.name else None
                files.append(
                    {
                        "path": rel,
                        "table": table,
                        "merchant_key": key,
                        "rows": pq.read_metadata(f).num_rows,
                        "bytes": f.stat().st_size,
                        "sha256": _sha256(f),
                    }
                )
        for t, info in tables.items():
            counted = sum(f["rows"] for f in files if f["table"] == t)
            if counted != info["rows"]:
                raise StoreError(f"export of {t}: {counted} rows written, {info['rows']} expected")
    finally:
        con.execute("DROP TABLE IF EXISTS redcat_export_m")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "redcat_version": __version__,
        "exported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "merchants": [{"merchant": m, "merchant_key": merchant_key(m)} for m in merchants],
        "tables": tables,
        "files": files,
    }


def _swap(tmp: Path, target: Path) -> None:
    """Put the new warehouse in place of the old one, then remove the old one.

    On Linux the two folders are exchanged in one step (``renameat2`` with
    ``RENAME_EXCHANGE``): a reader opening ``DIR`` at any moment finds the old warehouse or
    the new one. Where that call is missing (other systems, some file systems) two renames
    are used, and for the instant between them ``DIR`` does not exist.
    """
    if target.exists() and _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old warehouse
        return
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.redcat-old-{os.getpid()}"
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Exchange two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


# --- reading -----------------------------------------------------------------------------


def read_manifest(location: str, read_text: Any = None) -> dict[str, Any]:
    """The warehouse's manifest; ``read_text`` reads a file from storage Python cannot open
    (e.g. ``hdfs://``; the Spark engine passes one)."""
    path = location.rstrip("/") + "/" + MANIFEST
    try:
        if read_text is not None:
            text = read_text(path)
        else:
            text = Path(path).read_text(encoding="utf-8")
        manifest = json.loads(text)
    except FileNotFoundError:
        raise UsageError(
            f"no redcat warehouse at {location} (no {MANIFEST})",
            hint="write one with: redcat export DIR",
        ) from None
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read the warehouse at {location}: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UsageError(f"{location} is not a redcat warehouse")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise UsageError(
            f"the warehouse at {location} was written by a newer redcat",
            hint="upgrade redcat: pip install --upgrade redcat",
        )
    return manifest


def duckdb_type(t: str) -> str:
    return t


def spark_type(t: str) -> str:
    """A DuckDB column type as Spark DDL."""
    t = t.upper()
    simple = {
        "VARCHAR": "STRING",
        "INTEGER": "INT",
        "BIGINT": "BIGINT",
        "SMALLINT": "SMALLINT",
        "BOOLEAN": "BOOLEAN",
        "DOUBLE": "DOUBLE",
        "FLOAT": "FLOAT",
        "DATE": "DATE",
        "TIMESTAMP": "TIMESTAMP_NTZ",
    }
    if t in simple:
        return simple[t]
    if t.startswith("DECIMAL"):
        return t
    raise UsageError(f"the warehouse holds a column of type {t}, which redcat cannot read")
