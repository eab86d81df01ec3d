from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

DATA = Path(__file__).parent / "data"
# every export kind redcat ships, written out by hand
ALL_KINDS = {
    "juguang",
    "juguang_account",
    "xinghe",
    "qianniu",
    "qianniu_items",
    "sycm",
    "alimama",
    "note_data",
}
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _no_env_store(monkeypatch: pytest.MonkeyPatch, _cache_home: Path) -> None:
    monkeypatch.delenv("REDCAT_STORE", raising=False)
    monkeypatch.delenv("REDCAT_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # the kinds cache of the runs in the tests (and their subprocesses) stays out of the
    # user's own cache folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cache_home))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def run(tmp_path: Path):
    """Invoke the CLI; stdout, stderr and exit code come back separately."""
    from redcat_cli.cli import cli

    def _run(*args: str, input: bytes | str | None = None):
        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return _run


def write(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def rows(store_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(store_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def dump(store_path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: the store's whole logical content."""
    import duckdb

    if not store_path.exists():
        return {}
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY 1"
            ).fetchall()
        ]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


os.environ.setdefault("REDCAT_LOCK_TIMEOUT", "2")


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole run (starting one costs 10–15 s). Skipped
    when PySpark or Java is missing, unless REDCAT_REQUIRE_SPARK=1 (CI) makes that a failure."""
    import shutil

    required = os.environ.get("REDCAT_REQUIRE_SPARK") == "1"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if required:
            raise
        pytest.skip("PySpark is not installed (pip install '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if required:
            raise RuntimeError("REDCAT_REQUIRE_SPARK=1 but there is no Java")
        pytest.skip("no Java for Spark")
    from redcat_cli.engines.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()
