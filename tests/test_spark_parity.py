"""The Spark engine gives what DuckDB gives, byte for byte, on the same warehouse.

One Spark session serves the whole run (the ``spark`` fixture in conftest). The store holds
three merchants (one whose name hive folder names would have to escape), a re-export that
left history, and contracts scoped by note and by plan, with segmented targets, every
formula, weekly and whole-period cycles, and 聚光 or 种草星河 GMV.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scale_fixture import MERCHANTS, build, contracts


@pytest.fixture(scope="module")
def built(tmp_path_factory, spark) -> tuple[Path, Path, list[Path]]:
    from redcat_cli.store.warehouse import export_store

    folder = tmp_path_factory.mktemp("parity")
    store = build(folder)
    export_store(store, folder / "wh")
    return store, folder / "wh", contracts(folder / "contracts")


def both(run, wh: Path, *args: str) -> tuple[str, str]:
    """The command's stdout on DuckDB and on Spark, over the same warehouse."""
    a = run(*args, "--warehouse", str(wh))
    b = run(*args, "--warehouse", str(wh), "--engine", "spark")
    assert a.exit_code == 0, a.stderr
    assert b.exit_code == 0, b.stderr
    return a.stdout, b.stdout


def test_settle_batch_and_as_of_ingest(run, built) -> None:
    store, wh, paths = built
    common = ["settle", "--contracts", str(paths[0].parent), "--as-of", "2025-09-01"]
    duck, spark = both(run, wh, *common, "-f", "jsonl")
    assert duck == spark
    assert len(spark.splitlines()) == len(paths)
    # and the same as the store itself
    assert run(*common, "-f", "jsonl", "--store", str(store)).stdout == spark
    payouts = [json.loads(x)["totals"]["roi_guarantee_payout"] for x in spark.splitlines()]
    assert any(p != "0.00" for p in payouts) and any(p == "0.00" for p in payouts)
    duck, spark = both(run, wh, *common, "--json", "--as-of-ingest", "6")
    assert duck == spark


def test_status(run, built) -> None:
    _, wh, _ = built
    duck, spark = both(run, wh, "status", "--json")
    assert duck == spark
    assert [m["merchant"] for m in json.loads(spark)["merchants"]] == sorted(MERCHANTS)


def test_attribute(run, built) -> None:
    """By plan over a plan filter, and by note over listed notes (each query path of the
    attribute SQL: the main plan of a note, the plan filter, the note list)."""
    from tests.scale_fixture import NOTES

    _, wh, _ = built
    args = ["attribute", "--json", "--merchant", MERCHANTS[1]]
    duck, spark = both(run, wh, *args, "--by", "plan", "--plan", "101,103")
    assert duck == spark and json.loads(spark)["plans"]
    duck, spark = both(run, wh, *args, "--note", f"{NOTES[0]},{NOTES[2]}")
    assert duck == spark
    assert len(json.loads(spark)["notes"]) == 2
