"""Ingest benchmark: redcat ingest vs a bare pyarrow parse of the same file, same run.

Generates realistic exports (千牛 orders in GB18030 and 聚光 note-day rows in UTF-8 with BOM)
of each size, then times whole processes (interpreter start and imports included), median
of R runs, and reads each process's peak memory (max RSS). Per file and size:

- bare: ``pyarrow.csv.read_csv`` of the file, the floor;
- fresh: ``redcat ingest`` into a new store (ratio to bare);
- dup: the same file again into that store, every row a duplicate (ratio to fresh);
- update: a re-export with 10% of the rows changed, into a copy of the fresh store (ratio to
  fresh).

Then the growth of each from the smallest size to the largest (linear would be the ratio of
the sizes).

    python bench/bench_ingest.py                       # 1M and 5M rows, 3 runs
    python bench/bench_ingest.py --rows 200000 --runs 1
    python bench/bench_ingest.py --profile             # where ingest's time goes, by stage
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START = dt.date(2025, 1, 1)


def gen_qianniu(path: Path, n: int, seed: int = 1, update: bool = False) -> None:
    """``update``: the same orders, every tenth refunded in full (a re-export a week on)."""
    rng = random.Random(seed)
    statuses = ["交易成功"] * 7 + [
        "交易关闭",
        "卖家已发货，等待买家确认",
        "买家已付款，等待卖家发货",
    ]
    titles = ["丝绒雾面口红 #316 3.5g", "水光唇釉 #07 5ml", "口红礼盒 三支装", "润唇膏 无色 4g"]
    prices = ["159.00", "129.00", "399.00", "59.00"]
    header = "订单编号,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,订单创建时间,订单付款时间,宝贝标题,宝贝种类,宝贝总数量,店铺名称,订单关闭原因,退款金额\n"
    base = 3190000000000000000
    with path.open("w", encoding="gb18030", newline="") as fh:
        fh.write(header)
        lines = []
        for i in range(n):
            k = rng.randrange(4)
            st = statuses[rng.randrange(len(statuses))]
            day = 1 + i * 30 // n
            created = f"2025-06-{day:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
            paid = "" if st == "交易关闭" else created
            paid_amt = "0.00" if st == "交易关闭" else prices[k]
            refund = "无退款申请" if rng.random() < 0.95 else prices[k]
            if update and i % 10 == 0:
                refund = prices[k] if refund == "无退款申请" else "0.00"
            lines.append(
                f'="{base + i * 7919}",t**{rng.randrange(100000)},{prices[k]},0.00,{prices[k]},{paid_amt},{st},'
                f"{created},{paid},{titles[k]},1,1,某某美妆旗舰店,{'买家未付款' if st == '交易关闭' else ''},{refund}\n"
            )
            if len(lines) >= 50000:
                fh.write("".join(lines))
                lines = []
        fh.write("".join(lines))


def gen_juguang(path: Path, n: int, seed: int = 2, update: bool = False) -> None:
    """``update``: the same rows, every tenth with its spend grown by 1.00 (a later export)."""
    rng = random.Random(seed)
    header = (
        "时间,笔记ID,笔记标题,计划名称,计划ID,消费,展现量,点击量,点击率,平均点击成本,平均千次展示费用,点赞,评论,收藏,"
        "关注,分享,互动量,平均互动成本,行业商品GMV（7日),行业商品成交订单量（7日）\n"
    )
    n_notes = max(1, n // 365)
    notes = [f"{0x67000000 + j:08x}0000000001{j:06x}" for j in range(n_notes)]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(header)
        fh.write(f"合计{n}条记录,-,-,-,-,0,0,0,-,-,-,0,0,0,0,0,0,-,-,-\n")
        lines = []
        for i in range(n):
            day = i // n_notes
            d = (START + dt.timedelta(days=day)).isoformat()
            note = notes[i % n_notes]
            spend = rng.randrange(1000, 50000) / 100 + (1 if update and i % 10 == 0 else 0)
            imp = rng.randrange(500, 20000)
            clk = imp * rng.randrange(3, 12) // 100
            parts = [rng.randrange(0, 30) for _ in range(5)]
            lines.append(
                f'{d},{note},口红试色{i % 97},计划{i % 7},{1000 + i % 7},{spend:.2f},"{imp:,}",{clk},{clk / imp * 100:.2f}%,'
                f"{spend / max(clk, 1):.2f},{spend / imp * 1000:.2f},{','.join(map(str, parts))},{sum(parts)},"
                f"{spend / max(sum(parts), 1):.2f},{rng.randrange(0, 100000) / 100:.2f},{rng.randrange(0, 9)}\n"
            )
            if len(lines) >= 50000:
                fh.write("".join(lines))
                lines = []
        fh.write("".join(lines))


PEAK = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "dt = time.perf_counter() - t\n"
    "print(r.returncode, dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of one whole process."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK, *cmd], capture_output=True, text=True, check=True
    )
    code, secs, kib = out.stdout.split()
    if code != "0":
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return float(secs), int(kib) / 1024


def bare_parse_cmd(path: Path, encoding: str) -> list[str]:
    code = (
        "import sys, pyarrow.csv as c\n"
        f"t = c.read_csv(sys.argv[1], read_options=c.ReadOptions(encoding={encoding!r}))\n"
        "print(t.num_rows)\n"
    )
    return [sys.executable, "-c", code, str(path)]


def ingest_cmd(path: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "redcat_cli", "ingest", "-q", "--store", str(store), str(path)]


def profile(path: Path, store: Path) -> dict[str, float]:
    """Seconds per stage of one in-process ingest."""
    sys.path.insert(0, str(HERE.parent))
    from redcat_cli.ingest.load import ingest

    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    ingest(
        store,
        [str(path)],
        progress=lambda stage, name, *a: marks.append((stage, time.perf_counter())),
    )
    end = time.perf_counter()
    stages: dict[str, float] = {}
    prev_stage, prev_t = "start", t0
    for stage, t in marks + [("end", end)]:
        stages[prev_stage] = stages.get(prev_stage, 0) + t - prev_t
        prev_stage, prev_t = stage, t
    return stages


def median_of(runs: list[float]) -> float:
    return round(statistics.median(runs), 2)


def bench_file(path: Path, update_path: Path, enc: str, work: Path, runs: int) -> dict[str, Any]:
    """Median seconds and peak MiB of the bare parse and of the three ingests."""
    times: dict[str, list[float]] = {k: [] for k in ("bare", "fresh", "dup", "update")}
    peaks: dict[str, float] = dict.fromkeys(times, 0.0)
    for _ in range(runs):
        stores = [work / "store_a.duckdb", work / "store_b.duckdb"]
        for store in stores:
            for leftover in (store, store.with_name(store.name + ".wal")):
                leftover.unlink(missing_ok=True)
        steps = [
            ("bare", bare_parse_cmd(path, enc)),
            ("fresh", ingest_cmd(path, stores[0])),
            ("copy", None),
            ("dup", ingest_cmd(path, stores[0])),
            ("update", ingest_cmd(update_path, stores[1])),
        ]
        for what, cmd in steps:
            if cmd is None:
                shutil.copyfile(stores[0], stores[1])
                continue
            secs, peak = measure(cmd)
            times[what].append(secs)
            peaks[what] = max(peaks[what], peak)
        for store in stores:
            store.unlink(missing_ok=True)
    row: dict[str, Any] = {k: median_of(v) for k, v in times.items()}
    row["fresh_ratio"] = round(row["fresh"] / row["bare"], 2)
    row["dup_ratio"] = round(row["dup"] / row["fresh"], 2)
    row["update_ratio"] = round(row["update"] / row["fresh"], 2)
    row["peak_mib"] = {k: round(v) for k, v in peaks.items()}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--rows", default="1000000,5000000", help="sizes, comma-separated (default 1M,5M)"
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files")
    args = ap.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="redcat-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    kinds = {
        "千牛 orders, GB18030": ("qianniu", gen_qianniu, "gb18030"),
        "聚光 note-day, UTF-8 BOM": ("juguang", gen_juguang, "utf8"),
    }
    results = []
    for label, (stem, gen, enc) in kinds.items():
        for n in sizes:
            path, update_path = work / f"{stem}_{n}.csv", work / f"{stem}_{n}_update.csv"
            for target, update in ((path, False), (update_path, True)):
                if not target.exists():
                    t = time.perf_counter()
                    gen(target, n, update=update)
                    print(
                        f"generated {target.name}: {target.stat().st_size / 1e6:.0f} MB "
                        f"in {time.perf_counter() - t:.1f}s",
                        file=sys.stderr,
                    )
            row = {"file": label, "rows": n, "mb": round(path.stat().st_size / 1e6, 1)}
            row.update(bench_file(path, update_path, enc, work, args.runs))
            if args.profile:
                store = work / "store_profile.duckdb"
                store.unlink(missing_ok=True)
                row["stages_s"] = {k: round(v, 2) for k, v in profile(path, store).items()}
                store.unlink(missing_ok=True)
            results.append(row)
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
    print(
        f"{'file':26} {'rows':>9} {'MB':>5} {'pyarrow':>8} {'fresh':>6} {'×bare':>6} "
        f"{'dup':>6} {'×fresh':>6} {'update':>6} {'×fresh':>6} {'peak MiB pa/fresh/dup/upd':>26}"
    )
    for r in results:
        pk = r["peak_mib"]
        print(
            f"{r['file']:26} {r['rows']:>9,} {r['mb']:>5.0f} {r['bare']:>7.2f}s {r['fresh']:>5.2f}s "
            f"{r['fresh_ratio']:>5.2f}× {r['dup']:>5.2f}s {r['dup_ratio']:>5.2f}× "
            f"{r['update']:>5.2f}s {r['update_ratio']:>5.2f}× "
            f"{pk['bare']:>7}/{pk['fresh']}/{pk['dup']}/{pk['update']}"
        )
        if "stages_s" in r:
            print("   stages (s): " + ", ".join(f"{k} {v}" for k, v in r["stages_s"].items()))
    if len(sizes) > 1:
        lo, hi = min(sizes), max(sizes)
        print(f"growth from {lo:,} to {hi:,} rows (linear: {hi / lo:.1f}×):")
        for label in kinds:
            a = next(r for r in results if r["file"] == label and r["rows"] == lo)
            b = next(r for r in results if r["file"] == label and r["rows"] == hi)
            print(
                f"  {label:26} bare {b['bare'] / a['bare']:.2f}×, fresh {b['fresh'] / a['fresh']:.2f}×, "
                f"dup {b['dup'] / a['dup']:.2f}×, update {b['update'] / a['update']:.2f}×"
            )


if __name__ == "__main__":
    main()
