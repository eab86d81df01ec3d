"""Where reading commands run their SQL: the DuckDB store, or a Parquet warehouse read by
DuckDB or by Spark.

The SQL is written once, in DuckDB's dialect, in ``redcat_cli.queries``. Every engine offers
the same small surface the queries use — ``execute(sql, params)`` returning a cursor with
``fetchall``/``fetchone``/``description``, ``register(name, arrow_table)``/``unregister`` —
so ``status``, ``attribute`` and ``settle`` run unchanged on each:

- ``duckdb`` on the store (the default), or on a warehouse (``--warehouse DIR``: views over
  its Parquet files);
- ``spark`` on a warehouse: each statement is translated with sqlglot (DuckDB → Spark SQL)
  after its parameters are written in as literals, and runs through PySpark. Only the
  results (per-merchant, per-day or per-note aggregates) come back to the driver. Questions
  about the catalog (``information_schema``) are answered by an empty DuckDB copy of the
  warehouse's tables, made from its manifest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from redcat_cli.engines.duckdb import duckdb_on_warehouse
from redcat_cli.engines.spark import SparkConnection, _read_text_with, spark_session
from redcat_cli.errors import UsageError
from redcat_cli.store.db import Store

ENGINES = ("duckdb", "spark")


# --- choosing one ------------------------------------------------------------------------


@contextmanager
def open_source(
    store: str,
    *,
    engine: str = "duckdb",
    warehouse: str | None = None,
    master: str | None = None,
) -> Iterator[Store]:
    """What a reading command reads: the store, or the warehouse on the chosen engine."""
    from redcat_cli.store.db import open_store
    from redcat_cli.store.warehouse import read_manifest

    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "spark" and warehouse is None:
        raise UsageError(
            "--engine spark reads a warehouse: give --warehouse DIR",
            hint="write one from the store with: redcat export DIR",
        )
    if master is not None and engine != "spark":
        raise UsageError("--spark-master goes with --engine spark")
    if warehouse is None:
        with open_store(store, read_only=True) as st:
            yield st
        return
    if engine == "duckdb":
        manifest = read_manifest(warehouse)
        con = duckdb_on_warehouse(warehouse, manifest)
    else:
        spark = spark_session(master)
        remote = "://" in warehouse
        manifest = read_manifest(warehouse, _read_text_with(spark) if remote else None)
        location = warehouse if remote else os.path.abspath(warehouse)
        con = SparkConnection(spark, location, manifest)
    source = Store(warehouse, con, True)  # type: ignore[arg-type]
    try:
        yield source
    finally:
        source.close()
