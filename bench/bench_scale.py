"""Benchmark: batch settlement of many merchants, DuckDB against Spark, and growth with rows.

A store of M merchants × N notes × D days (default 200 × 50 × 365: 3.65M 聚光 rows and as many
种草星河 rows, 全部流量 × 30-day window) is generated in SQL with the store's own keys, and one
contract per merchant (its notes, the whole period, monthly cycles). Every case is a whole
`redcat` process (interpreter start, imports, queries, output), timed from outside:

1. batch: `redcat settle --contracts DIR` (one pass for all contracts), against the baseline of
   one process per contract (`redcat settle --contract FILE`, as a script looping over
   contracts would run it). The baseline runs a sample of contracts one after the other and is
   scaled to all M (each run reads the same store; the sample's median per run × M). Each
   sampled statement is checked to be byte-identical to its line in the batch output.
2. engines: the same batch on the exported warehouse, DuckDB against Spark local[*] (a new
   Spark process, so its start-up is included, as a user would see it).
3. growth: the batch at M/4, M/2, 3M/4 and M merchants (1× to 4× the rows), best of 3, whole
   process; and the settlement pass alone (the grouped query and the engine, in this process,
   best of 5), which is the part that grows with rows: the process around it (interpreter,
   imports, reading the contracts) is a fixed cost. A least-squares line t = fixed + per_row ×
   rows is fitted to each: linear growth shows as equal marginal costs between sizes and small
   residuals from the line.

With ``--sample M`` every contract is run in its own process (nothing is scaled).

    python bench/bench_scale.py [--merchants 200] [--notes 50] [--days 365] [--sample 8]
                                [--no-spark] [--dir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = dt.date(2024, 7, 1)

JUGUANG = """
INSERT INTO juguang (date, note_id, note_title, plan_id, plan_name, spend, impressions, clicks,
    interactions, gmv_7d, orders_7d, _key, _ingest_id, _line, merchant)
SELECT DATE '{start}' + CAST(d AS INTEGER), printf('%024x', 6000000000000000000 + n),
       'note ' || n, 'P' || (n % 5), 'plan ' || (n % 5),
       CAST((hash(m, n, d, 1) % 20000) / 100.0 AS DECIMAL(18,4)),
       1000 + hash(m, n, d, 2) % 9000, 10 + hash(m, n, d, 3) % 300, hash(m, n, d, 4) % 60,
       CAST((hash(m, n, d, 5) % 40000) / 100.0 AS DECIMAL(18,4)), hash(m, n, d, 6) % 9,
       '店铺' || m || chr(31) || (DATE '{start}' + CAST(d AS INTEGER)) || chr(31)
           || printf('%024x', 6000000000000000000 + n) || chr(31) || 'P' || (n % 5)
           || chr(31) || chr(31) || chr(31),
       2 * m + 1, n * {days} + d + 2, '店铺' || m
FROM range({m0}, {m1}) AS a(m), range({notes}) AS b(n), range({days}) AS c(d)
"""

XINGHE = """
INSERT INTO xinghe (date, note_id, flow_type, window_days, read_uv, interact_uv, visit_uv,
    cart_uv, buyers, gmv, _key, _ingest_id, _line, merchant)
SELECT DATE '{start}' + CAST(d AS INTEGER), printf('%024x', 6000000000000000000 + n),
       '全部流量', 30, 200 + hash(m, n, d, 11) % 3000, 20 + hash(m, n, d, 12) % 200,
       hash(m, n, d, 13) % 80, hash(m, n, d, 14) % 12, hash(m, n, d, 15) % 5,
       CAST((hash(m, n, d, 16) % 60000) / 100.0 AS DECIMAL(18,4)),
       '店铺' || m || chr(31) || (DATE '{start}' + CAST(d AS INTEGER)) || chr(31)
           || printf('%024x', 6000000000000000000 + n) || chr(31) || '全部流量' || chr(31) || '30',
       2 * m + 2, n * {days} + d + 2, '店铺' || m
FROM range({m0}, {m1}) AS a(m), range({notes}) AS b(n), range({days}) AS c(d)
"""

CONTRACT = """\
contract_id: BENCH-{m:04d}
merchant: 店铺{m}
currency: CNY
period: {{start: {start}, end: {end}}}
cycle: month
gmv: {{source: xinghe, window_days: 30, flow_type: 全部流量}}
roi_guarantee: {{target_roi: "3.0", trigger_factor: "0.8", formula: qianchuan}}
matched_investment: {{ratio: "1.0", threshold: "10000.00", cap: "50000.00"}}
rounding: half_up
"""


def build(store: Path, merchants: int, notes: int, days: int) -> None:
    import duckdb

    from redcat_cli.store.db import open_store

    with open_store(store, read_only=False):
        pass  # the schema, as redcat makes it
    end = START + dt.timedelta(days=days - 1)
    con = duckdb.connect(str(store))
    try:
        step = 25  # merchants per statement: bounded memory
        for m0 in range(0, merchants, step):
            fill = {"start": START, "days": days, "notes": notes, "m0": m0,
                    "m1": min(m0 + step, merchants)}  # fmt: skip
            con.execute(JUGUANG.format(**fill))
            con.execute(XINGHE.format(**fill))
        exported = end + dt.timedelta(days=40)
        rows = []
        for m in range(merchants):
            for k, kind in ((1, "juguang"), (2, "xinghe")):
                rows.append([2 * m + k, m + 1, f"exports/{kind}_{m}.csv", f"{kind}_{m}.csv",
                             f"{m:060d}{k:04d}", kind, exported, f"店铺{m}"])  # fmt: skip
        con.executemany(
            "INSERT INTO ingest_log (id, batch_id, path, name, sha256, source, exported_on, "
            "merchant) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def contracts(folder: Path, merchants: int, days: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    end = START + dt.timedelta(days=days - 1)
    out = []
    for m in range(merchants):
        p = folder / f"c{m:04d}.yaml"
        p.write_text(CONTRACT.format(m=m, start=START, end=end), encoding="utf-8")
        out.append(p)
    return out


def settle_pass(store: Path, cdir: Path, as_of: dt.date, runs: int = 5) -> float:
    """The settlement pass alone: the grouped query over the store and the engine, best of N."""
    from redcat_cli.queries.settle import settle_on_store
    from redcat_cli.settle.contract import load_contracts
    from redcat_cli.store.db import open_store

    contracts = load_contracts(sorted(str(p) for p in cdir.glob("*.yaml")))
    best = float("inf")
    with open_store(store, read_only=True) as st:
        for _ in range(runs):
            t = time.perf_counter()
            settle_on_store(st.con, contracts, as_of)
            best = min(best, time.perf_counter() - t)
    return best


def fit_table(title: str, growth: list[tuple[int, int, float]]) -> None:
    xs = [r / 1e6 for _, r, _ in growth]
    ys = [s for _, _, s in growth]
    fit = statistics.linear_regression(xs, ys)
    print(f"\n## {title}")
    print(f"line: t = {fit.intercept:.2f} s + {fit.slope:.3f} s per million 聚光 rows")
    print("| merchants | 聚光 rows | time | marginal s per million rows | off the line |")
    print("| --- | --- | --- | --- | --- |")
    for i, (m, r, s) in enumerate(growth):
        marg = "" if i == 0 else f"{(s - ys[i - 1]) / (xs[i] - xs[i - 1]):.3f}"
        off = s - (fit.intercept + fit.slope * xs[i])
        print(f"| {m} | {r:,} | {s:.3f} s | {marg} | {off:+.3f} s |")


def timed(args: list[str], out: Path | None = None) -> float:
    t = time.perf_counter()
    with open(out or os.devnull, "wb") as fh:
        subprocess.run(args, check=True, stdout=fh, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def redcat(*args: str) -> list[str]:
    return [sys.executable, "-m", "redcat_cli", *args]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--merchants", type=int, default=200)
    ap.add_argument("--notes", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--sample", type=int, default=8, help="contracts run one process each")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    work = Path(a.dir or tempfile.mkdtemp(prefix="redcat-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    as_of = ["--as-of", str(START + dt.timedelta(days=a.days + 60)), "-f", "jsonl"]
    M = a.merchants
    rows = M * a.notes * a.days
    print(f"# {M} merchants × {a.notes} notes × {a.days} days = {rows:,} 聚光 rows "
          f"+ {rows:,} 种草星河 rows; {os.cpu_count()} cores; folder {work}")  # fmt: skip

    growth: list[tuple[int, int, float]] = []
    passes: list[tuple[int, int, float]] = []
    for quarter in (1, 2, 3, 4):
        m = M * quarter // 4
        store = work / f"store_{m}.duckdb"
        if not store.exists():
            t = time.perf_counter()
            build(store, m, a.notes, a.days)
            print(f"built {store.name} in {time.perf_counter() - t:.1f} s")
        cdir = work / f"contracts_{m}"
        contracts(cdir, m, a.days)
        out = work / f"batch_{m}.jsonl"
        secs = [timed(redcat("settle", "--store", str(store), "--contracts", str(cdir), *as_of), out)
                for _ in range(3)]  # fmt: skip
        growth.append((m, m * a.notes * a.days, min(secs)))
        as_of_day = START + dt.timedelta(days=a.days + 60)
        passes.append((m, m * a.notes * a.days, settle_pass(store, cdir, as_of_day)))

    store, cdir = work / f"store_{M}.duckdb", work / f"contracts_{M}"
    batch = growth[-1][2]
    lines = (work / f"batch_{M}.jsonl").read_text(encoding="utf-8").splitlines()
    by_id = {json.loads(x)["contract_id"]: x for x in lines}
    one: list[float] = []
    step = max(1, M // a.sample)
    for m in range(0, M, step)[: a.sample]:
        out = work / "one.jsonl"
        one.append(timed(redcat("settle", "--store", str(store), "--contract",
                                str(cdir / f"c{m:04d}.yaml"), *as_of), out))  # fmt: skip
        alone = out.read_text(encoding="utf-8").strip()
        assert alone == by_id[f"BENCH-{m:04d}"], f"BENCH-{m:04d} differs alone and in the batch"
    per = statistics.median(one)
    print("\n## Batch against one process per contract (DuckDB store)")
    print("| case | wall time |")
    print("| --- | --- |")
    print(f"| batch: {M} contracts, one process | {batch:.2f} s |")
    print(f"| one process per contract: median of {len(one)} runs | {per:.2f} s each |")
    if len(one) == M:
        total = sum(one)
        print(f"| one process per contract, all {M} run (measured) | {total:.0f} s |")
    else:
        total = per * M
        print(f"| one process per contract × {M} (scaled from the sample) | {total:.0f} s |")
    print(f"| speed-up | {total / batch:.0f}× |")
    print(f"(each of the {len(one)} sampled statements equals its batch line byte for byte)")

    fit_table("Growth with rows: batch, whole process, best of 3", growth)
    fit_table("Growth with rows: the settlement pass alone, best of 5", passes)

    wh = work / f"warehouse_{M}"
    t = time.perf_counter()
    subprocess.run(redcat("export", str(wh), "--store", str(store)), check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    export_s = time.perf_counter() - t
    duck_out = work / "wh_duckdb.jsonl"
    duck = min(timed(redcat("settle", "--warehouse", str(wh), "--contracts", str(cdir), *as_of),
                     duck_out) for _ in range(2))  # fmt: skip
    assert duck_out.read_text(encoding="utf-8").splitlines() == lines
    print(f"\n## Engines on the same warehouse (export took {export_s:.1f} s)")
    print("| engine | batch settle, whole process |")
    print("| --- | --- |")
    print(f"| DuckDB (store) | {batch:.2f} s |")
    print(f"| DuckDB (Parquet warehouse) | {duck:.2f} s |")
    if not a.no_spark:
        spark_out = work / "wh_spark.jsonl"
        spark = timed(redcat("settle", "--engine", "spark", "--warehouse", str(wh),
                             "--contracts", str(cdir), *as_of), spark_out)  # fmt: skip
        same = spark_out.read_text(encoding="utf-8").splitlines() == lines
        print(f"| Spark local[*] (Parquet warehouse) | {spark:.2f} s |")
        print(f"(Spark's statements {'equal' if same else 'DIFFER FROM'} DuckDB's byte for byte)")


if __name__ == "__main__":
    main()
