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

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from redcat_cli.errors import RedcatError, UsageError
from redcat_cli.store.db import Store, quote

ENGINES = ("duckdb", "spark")
DEFAULT_MASTER = "local[*]"
SPARK_INSTALL = 'pip install "redcat[spark]"  (from a checkout: pip install ".[spark]")'


# --- parameters as literals --------------------------------------------------------------


def literal(value: Any) -> str:
    """A Python value as a DuckDB SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def inline_params(sql: str, params: Sequence[Any] | dict[str, Any] | None) -> str:
    """The statement with its ``?`` and ``$name`` parameters written in as literals (found
    with sqlglot's DuckDB tokenizer, so a ``?`` inside a string stays text)."""
    if not params:
        return sql
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    tokens = Dialect.get_or_raise("duckdb").tokenize(sql)
    out: list[str] = []
    last = 0
    i = 0
    positional = iter(params if isinstance(params, list | tuple) else ())
    skip_next = False
    for n, tok in enumerate(tokens):
        if skip_next:
            skip_next = False
            last = tok.end + 1
            continue
        if tok.token_type == TokenType.PLACEHOLDER and tok.text == "?":
            out += [sql[last : tok.start], literal(next(positional))]
            last = tok.end + 1
            i += 1
        elif tok.token_type == TokenType.QDCOLON:  # `?::TYPE`
            out += [sql[last : tok.start], "(", literal(next(positional)), ")::"]
            last = tok.end + 1
            i += 1
        elif tok.token_type == TokenType.PARAMETER and isinstance(params, dict):
            name = tokens[n + 1].text
            out += [sql[last : tok.start], literal(params[name])]
            skip_next = True
    out.append(sql[last:])
    return "".join(out)


# --- a cursor over fetched rows ----------------------------------------------------------


class Rows:
    """What ``execute`` returns on the Spark engine: the rows, fetched."""

    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(n,) for n in names]
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None


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


# --- Spark -------------------------------------------------------------------------------


def spark_session(master: str | None = None) -> Any:
    """The active Spark session, or a new one: ``master`` (``--spark-master``), else
    ``REDCAT_SPARK_MASTER``, else the one ``spark-submit`` gave, else ``local[*]``."""
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "--engine spark needs PySpark, which is not installed",
            hint=f"{SPARK_INSTALL}; Spark also needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)",
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None and not os.environ.get("REDCAT_SPARK_MASTER"):
        return active
    builder = SparkSession.builder.appName("redcat")
    chosen = master or os.environ.get("REDCAT_SPARK_MASTER")
    try:
        if chosen is None and not SparkConf().contains("spark.master"):
            chosen = DEFAULT_MASTER
        if chosen is not None:
            builder = builder.master(chosen)
        spark = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("REDCAT_SPARK_PARTITIONS", "8"))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel(os.environ.get("REDCAT_SPARK_LOG_LEVEL", "ERROR"))
        return spark
    except Exception as e:  # no Java, a master that cannot be reached, …
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RedcatError(
            f"cannot start Spark ({first})",
            hint="Spark needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless) and a "
            "reachable master (--spark-master, REDCAT_SPARK_MASTER)",
        ) from None


class SparkConnection:
    """The queries' connection surface, on Spark (see the module's note)."""

    def __init__(self, spark: Any, location: str, manifest: dict[str, Any]) -> None:
        self.spark = spark
        self.location = location.rstrip("/")
        self.catalog = _catalog(manifest)
        self.registered: list[str] = []
        for table, info in manifest["tables"].items():
            self._view(table, info)

    def _schema(self, columns: list[dict[str, str]]) -> str:
        from redcat_cli.store.warehouse import spark_type

        return ", ".join(f"`{c['name']}` {spark_type(c['type'])}" for c in columns)

    def _view(self, table: str, info: dict[str, Any]) -> None:
        names = [c["name"] for c in info["columns"]]
        if info["rows"]:
            path = f"{self.location}/{table}"
            schema = self._schema(info["columns"])
            if info["partitioned_by"]:
                schema += f", `{info['partitioned_by']}` STRING"
            df = (
                self.spark.read.schema(schema).option("basePath", path).parquet(path).select(*names)
            )
        else:
            df = self.spark.createDataFrame([], self._schema(info["columns"]))
        df.createOrReplaceTempView(table)
        self.registered.append(table)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Rows:
        if "information_schema" in sql:
            cur = self.catalog.execute(sql, params or [])
            return Rows([d[0] for d in cur.description], cur.fetchall())
        text = to_spark(inline_params(sql, params))
        df = self.spark.sql(text)
        return Rows(list(df.columns), [tuple(r) for r in df.collect()])

    def register(self, name: str, table: Any) -> None:
        """A small Arrow table (the batch's contracts) as a view."""
        schema = self._schema(
            [{"name": f.name, "type": _arrow_duck_type(f.type)} for f in table.schema]
        )
        self.spark.createDataFrame(
            [tuple(r.values()) for r in table.to_pylist()], schema
        ).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        for t in self.registered:
            self.spark.catalog.dropTempView(t)
        self.registered = []
        self.catalog.close()


def _arrow_duck_type(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    raise TypeError(f"no Spark type for {t}")


def to_spark(sql: str) -> str:
    """DuckDB SQL as Spark SQL (sqlglot)."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def _read_text_with(spark: Any) -> Any:
    def read(path: str) -> str:
        try:
            return "\n".join(r.value for r in spark.read.text(path, wholetext=True).collect())
        except Exception as e:
            if "PATH_NOT_FOUND" in str(e) or "does not exist" in str(e):
                raise FileNotFoundError(path) from None
            raise OSError(str(e).splitlines()[0]) from None

    return read


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
