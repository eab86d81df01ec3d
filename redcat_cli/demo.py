"""The bundled example exports, and a fresh folder to run the whole job in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from redcat_cli.resources import examples_dir

# Ingest order matters where a later export updates an earlier one.
# Every name carries the date the file was exported (redcat reads it as exported_on).
EXAMPLE_ORDER = [
    "聚光_笔记投放日报_202506_导出0701.csv",
    "聚光_账户日报_202506_导出0701.csv",
    "种草星河_内容效果明细_0601-0615_导出0616.csv",
    "种草星河_内容效果明细_202506_导出0701.csv",
    "种草星河_内容效果明细_202506_0715重新导出.csv",
    "千牛_订单报表_202506_导出0701.csv",
    "千牛_订单明细_202506_导出0701.csv",
    "生意参谋_商品日报_0420-0630_导出0701.csv",
    "万相台_计划报表_202506_导出0701.zip",
    "小红书_笔记数据_202506_导出0701.xlsx",
]


# The products the example notes seeded (the other products in the 生意参谋 export are
# controls), and the day the seeding began.
EXAMPLE_SEEDED = ("718923450011", "718923450012", "718923450013", "718923450014")
EXAMPLE_START = "2025-06-01"


def example_files() -> list[Path]:
    folder = examples_dir()
    files = [folder / name for name in EXAMPLE_ORDER]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise FileNotFoundError(f"bundled examples missing: {', '.join(missing)}; reinstall redcat")
    return files


def example_contract() -> Path:
    return examples_dir() / "contract.yaml"


def fresh_folder(base: str | os.PathLike[str] | None = None, name: str = "redcat-demo") -> Path:
    """A new folder for the demo: DIR as given, or redcat-demo, redcat-demo-2, … in the cwd."""
    if base is not None:
        p = Path(base)
        if p.exists() and any(p.iterdir()):
            raise FileExistsError(f"{p} exists and is not empty")
        p.mkdir(parents=True, exist_ok=True)
        return p
    cwd = Path.cwd()
    for i in range(1, 1000):
        p = cwd / (name if i == 1 else f"{name}-{i}")
        if not p.exists():
            p.mkdir()
            return p
    raise FileExistsError("too many demo folders here; remove some redcat-demo-* folders")


def halves(store: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The first and second half of the 聚光 dates in the store, as ISO strings."""
    import datetime as dt

    from redcat_cli.store.db import open_store

    with open_store(store, read_only=True) as st:
        lo, hi = st.con.execute("SELECT min(date), max(date) FROM juguang").fetchall()[0]
    days = (hi - lo).days + 1
    mid = lo + dt.timedelta(days=days // 2 - 1)
    return (lo.isoformat(), mid.isoformat()), (
        (mid + dt.timedelta(days=1)).isoformat(),
        hi.isoformat(),
    )


def steps(folder: Path, files: list[str]) -> Iterator[tuple[list[str], str]]:
    """The demo's commands, in order, as (arguments, what to show): a generator, because the
    uplift's periods are read from the store the first step fills."""
    store = str(folder / "redcat.duckdb")
    contract = str(folder / "contract.yaml")
    yield (
        ["ingest", "--store", store, *files],
        f"ingest --store {store} <{len(files)} bundled example exports>",
    )
    yield ["status", "--store", store], ""
    first, second = halves(store)
    periods = ["--baseline", f"{first[0]}..{first[1]}", "--compare", f"{second[0]}..{second[1]}"]
    yield ["attribute", "--store", store, "--top", "5", *periods], ""
    yield ["attribute", "--store", store, "--by", "day", "--max-lag", "7", "--top", "3"], ""
    lift = ["--treated", ",".join(EXAMPLE_SEEDED), "--start", EXAMPLE_START]
    lift += ["--inference", "permutation"]
    yield ["lift", "--store", store, *lift], ""
    yield ["settle", "--store", store, "--contract", contract], ""
    report = str(folder / "report.html")
    yield ["report", "--store", store, "--contract", contract, "--out", report, *periods, *lift], ""
