"""DuckDB on a Parquet warehouse: one view per table over its files."""

from __future__ import annotations

from typing import Any

from redcat_cli.engines.sql import literal
from redcat_cli.store.db import quote

# --- DuckDB on a warehouse ---------------------------------------------------------------


def _catalog(manifest: dict[str, Any]) -> Any:
    """An in-memory DuckDB holding the warehouse's tables, empty."""
    import duckdb

    con = duckdb.connect()
    for table, info in manifest["tables"].items():
        cols = ", ".join(f"{quote(c['name'])} {c['type']}" for c in info["columns"])
        con.execute(f"CREATE TABLE {quote(table)} ({cols})")
    return con


def duckdb_on_warehouse(location: str, manifest: dict[str, Any]) -> Any:
    """An in-memory DuckDB whose tables are views over the warehouse's Parquet files."""
    import duckdb

    con = duckdb.connect()
    base = location.rstrip("/")
    for table, info in manifest["tables"].items():
        names = ", ".join(quote(c["name"]) for c in info["columns"])
        cols = ", ".join(f"{quote(c['name'])} {c['type']}" for c in info["columns"])
        if not info["rows"]:
            con.execute(f"CREATE TABLE {quote(table)} ({cols})")
            continue
        pattern = (
            f"{base}/{table}/*/*.parquet" if info["partitioned_by"] else f"{base}/{table}/*.parquet"
        )
        src = literal(pattern)
        con.execute(
            f"CREATE VIEW {quote(table)} AS SELECT {names} FROM read_parquet({src}, "
            "hive_partitioning = false)"
        )
    return con
