"""Spark on a Parquet warehouse: the DuckDB SQL translated with sqlglot, run through PySpark."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from redcat_cli.engines.duckdb import _catalog
from redcat_cli.engines.sql import Rows, inline_params
from redcat_cli.errors import RedcatError, UsageError

DEFAULT_MASTER = "local[*]"
SPARK_INSTALL = 'pip install "redcat[spark]"  (from a checkout: pip install ".[spark]")'


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
        quiet = _quiet_driver(chosen)
        if quiet:
            builder = builder.config("spark.driver.extraJavaOptions", quiet)
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


LOG4J2 = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
"""


def _quiet_driver(master: str | None) -> str | None:
    """Java options that keep a local Spark's start-up notices off the user's stderr (errors
    still show), unless the user configures logging or the driver JVM themselves
    (``REDCAT_SPARK_LOG_LEVEL``, ``SPARK_CONF_DIR``, ``spark-submit``); None to leave it."""
    import tempfile
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\.|$)")
    if os.environ.get("REDCAT_SPARK_LOG_LEVEL") or os.environ.get("SPARK_CONF_DIR"):
        return None
    if master is None or not master.startswith("local"):
        return None  # spark-submit or a cluster: its own logging configuration
    if "SPARK_LOCAL_IP" not in os.environ:
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # local mode: no hostname notice
    import hashlib

    digest = hashlib.sha256(LOG4J2.encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"redcat-spark-log4j2-{digest}.properties")
    if not os.path.exists(path):
        with open(path + f".{os.getpid()}", "w", encoding="utf-8") as fh:
            fh.write(LOG4J2)
        os.replace(path + f".{os.getpid()}", path)
    return f"-Dlog4j2.configurationFile=file:{path}"


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
