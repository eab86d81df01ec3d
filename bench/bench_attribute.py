"""Benchmark: ``redcat attribute`` over 10,000 notes × 365 days, beside plain DuckDB SQL.

The store holds 3.65M 聚光 rows (one per note and day) and the matching 种草星河 rows for
全部流量 under two attribution windows (7 and 30 days: 7.3M rows, so the one-slice filter
does real work). Each case runs as a whole process (interpreter start, imports, query,
output), three times, interleaved with its baseline; we report the median wall time and
the peak resident memory of the process (``ru_maxrss`` from ``wait4``).

The baselines are the same aggregations written directly in DuckDB SQL and run from a
bare ``python -c`` with only ``duckdb`` imported: per-note (or per-day) sums of each side,
one slice of 种草星河, full outer join, every row fetched.

    python bench/bench_attribute.py [--notes 10000] [--store PATH] [--rebuild] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTES = 10_000
DAYS = 365

GENERATE_JUGUANG = """
INSERT INTO juguang (date, note_id, note_title, plan_id, plan_name, unit_id, creative_id,
    placement, spend, impressions, clicks, likes, comments, collects, follows, shares,
    interactions, _key, _ingest_id, _line)
SELECT DATE '2024-07-01' + CAST(d AS INTEGER),
       printf('%024x', 6000000000000000000 + n),
       'note ' || n, 'P' || (n % 50), 'plan ' || (n % 50), 'U' || (n % 200), 'C' || n, '信息流',
       CAST((hash(n, d, 1) % 20000) / 100.0 AS DECIMAL(18,4)),
       1000 + hash(n, d, 2) % 9000,
       10 + hash(n, d, 3) % 300,
       hash(n, d, 4) % 40, hash(n, d, 5) % 8, hash(n, d, 6) % 20, hash(n, d, 7) % 4,
       hash(n, d, 8) % 6,
       CASE WHEN hash(n, d, 9) % 10 = 0 THEN NULL ELSE (n % 97) + hash(n, d, 10) % 60 END,
       n || '|' || d, 1, CAST(n * {days} + d AS BIGINT)
FROM range({notes}) AS a(n), range({days}) AS b(d)
"""

GENERATE_XINGHE = """
INSERT INTO xinghe (date, note_id, creator_name, flow_type, window_days, read_uv, interact_uv,
    visit_uv, cart_uv, buyers, gmv, _key, _ingest_id, _line)
SELECT DATE '2024-07-01' + CAST(d AS INTEGER),
       printf('%024x', 6000000000000000000 + n),
       'creator ' || (n % 900), '全部流量', w,
       (200 + hash(n, d, 11) % 3000) * w // 30,
       (20 + hash(n, d, 12) % 200) * w // 30,
       ((n % 97) // 4 + hash(n, d, 13) % 50) * w // 30,
       (hash(n, d, 14) % 12) * w // 30,
       ((n % 97) // 20 + hash(n, d, 15) % 4) * w // 30,
       CAST((hash(n, d, 16) % 500000) / 100.0 * w / 30 AS DECIMAL(18,4)),
       n || '|' || d || '|' || w, 1, CAST(n * {days} + d AS BIGINT)
FROM range({notes}) AS a(n), range({days}) AS b(d), (VALUES (7), (30)) AS c(w)
"""

JSUMS = """SUM(spend) AS spend, SUM(impressions) AS impressions, SUM(clicks) AS clicks,
    SUM(likes) AS likes, SUM(comments) AS comments, SUM(collects) AS collects,
    SUM(follows) AS follows, SUM(shares) AS shares,
    SUM(COALESCE(interactions, likes + comments + collects + follows + shares)) AS interactions"""
XSUMS = """SUM(read_uv) AS read_uv, SUM(interact_uv) AS interact_uv, SUM(visit_uv) AS visits,
    SUM(cart_uv) AS cart, SUM(buyers) AS orders, SUM(gmv) AS gmv"""

BASELINE_NOTE = f"""
WITH j AS (SELECT note_id, max(note_title) AS title, {JSUMS} FROM juguang GROUP BY note_id),
     x AS (SELECT note_id, {XSUMS} FROM xinghe
           WHERE flow_type = '全部流量' AND window_days = 30 GROUP BY note_id)
SELECT * FROM j FULL OUTER JOIN x ON j.note_id = x.note_id
"""
BASELINE_DAY = f"""
WITH j AS (SELECT date, {JSUMS} FROM juguang GROUP BY date),
     x AS (SELECT date, {XSUMS} FROM xinghe
           WHERE flow_type = '全部流量' AND window_days = 30 GROUP BY date)
SELECT * FROM j FULL OUTER JOIN x ON j.date = x.date ORDER BY 1
"""


def build(path: Path, notes: int = NOTES) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from redcat_cli.store.db import open_store

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    t0 = time.perf_counter()
    with open_store(path, read_only=False) as s:
        s.con.execute(GENERATE_JUGUANG.format(notes=notes, days=DAYS))
        s.con.execute(GENERATE_XINGHE.format(notes=notes, days=DAYS))
        s.con.execute("CHECKPOINT")
        nj = s.con.execute("SELECT COUNT(*) FROM juguang").fetchone()[0]
        nx = s.con.execute("SELECT COUNT(*) FROM xinghe").fetchone()[0]
    size = path.stat().st_size / 2**20
    print(
        f"built {path}: {nj:,} 聚光 rows, {nx:,} 种草星河 rows, {size:,.0f} MiB, "
        f"{time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )


def run_process(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one whole process; its output is discarded."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--store", type=Path, default=None, help="[default: a file in the temp folder]")
    ap.add_argument(
        "--notes", type=int, default=NOTES, help=f"notes in the store [default: {NOTES:,}]"
    )
    ap.add_argument("--rebuild", action="store_true", help="generate the store even if it exists")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.store is None:
        args.store = Path(tempfile.gettempdir()) / "redcat-bench" / f"attribute-{args.notes}.duckdb"

    if args.build_only:
        build(args.store, args.notes)
        return
    args.store.parent.mkdir(parents=True, exist_ok=True)
    if args.rebuild or not args.store.exists():
        # in a child process: a forked child inherits its parent's peak RSS, so this
        # process stays small to keep the memory figures of the runs below honest
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--store",
                str(args.store),
                "--notes",
                str(args.notes),
                "--build-only",
            ],
            check=True,
        )

    py = sys.executable
    store = str(args.store)
    redcat = [py, "-m", "redcat_cli", "attribute", "--store", store]

    def sql(query: str, as_json: bool = False) -> list[str]:
        code = "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        code += f"cur = con.execute({query!r}); "
        if as_json:
            code += (
                "import json; names = [d[0] for d in cur.description]; "
                "rows = [dict(zip(names, r)) for r in cur.fetchall()]; "
                "sys.stdout.write(json.dumps(rows, default=str, ensure_ascii=False, indent=2))"
            )
        else:
            code += "rows = cur.fetchall(); print(len(rows))"
        return [py, "-c", code, store]

    uplift = ["--baseline", "2024-07-01..2024-09-30", "--compare", "2025-01-01..2025-03-31"]
    cases = [
        ("per note, table (top 30 rows) vs SQL fetch", redcat, sql(BASELINE_NOTE)),
        (
            f"per note, --json (all {args.notes:,} rows) vs SQL + json.dumps",
            [*redcat, "--json"],
            sql(BASELINE_NOTE, True),
        ),
        (
            "per day, --json, lag scan 0..14 vs SQL + json.dumps",
            [*redcat, "--json", "--by", "day", "--max-lag", "14"],
            sql(BASELINE_DAY, True),
        ),
        (
            "per note, table + uplift (2000 resamples) vs SQL fetch",
            [*redcat, *uplift],
            sql(BASELINE_NOTE),
        ),
    ]
    # warm the page cache and the bytecode once
    run_process(sql(BASELINE_NOTE))
    run_process(redcat)

    print(
        f"redcat attribute over {args.notes:,} notes × {DAYS} days; median of {args.repeat} whole processes"
    )
    header = (
        f"{'case':<58} {'redcat s':>9} {'SQL s':>7} {'ratio':>6} {'redcat MiB':>11} {'SQL MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, ours, base in cases:
        ot, om, bt, bm = [], [], [], []
        for _ in range(args.repeat):
            t, m = run_process(base)
            bt.append(t)
            bm.append(m)
            t, m = run_process(ours)
            ot.append(t)
            om.append(m)
        o, b = statistics.median(ot), statistics.median(bt)
        print(f"{name:<58} {o:>9.2f} {b:>7.2f} {o / b:>5.2f}× {max(om):>11.0f} {max(bm):>8.0f}")
    print(
        "\nSQL = the same sums and join written directly in DuckDB SQL, run from `python -c` "
        "with only duckdb imported\n(+ json.dumps of every row where redcat prints JSON). "
        "MiB = peak resident memory of the process, max over runs."
    )


if __name__ == "__main__":
    main()
