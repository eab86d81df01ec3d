"""How good is the projected final payout? Generated stores with known final GMV, many seeds.

For each seed: build the world of tests/projection_world.py (40 notes, daily spend, GMV maturing
along a curve with a speed per key, a "last 45 days" 种草星河 export every 7 days), ingest it,
settle three July weeks as of 2025-08-01 (windows still open), and compare the provisional and
projected payouts with the payout on the true final values. Prints, per cycle and in total:
the mean and worst absolute error in % of the true payout, and how often the true payout lies
inside the 80% interval (coverage). Run from the repository root:

    python bench/bench_projection.py [SEEDS]      # default 20
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redcat_cli.ingest.load import ingest  # noqa: E402
from redcat_cli.queries.settle import settle_on_store  # noqa: E402
from redcat_cli.settle.contract import parse_contract  # noqa: E402
from redcat_cli.settle.engine import settle  # noqa: E402
from redcat_cli.store.db import open_store  # noqa: E402
from tests import projection_world as W  # noqa: E402


def one(seed: int) -> list[tuple[Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """(provisional, projected, low, high, true) payout per cycle, then the total."""
    world = W.build(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ingest(folder / "s.duckdb", [str(f) for f in W.write_exports(world, folder)])
        c = parse_contract(W.CONTRACT, str(folder / "c.yaml"))
        with open_store(folder / "s.duckdb") as st:
            (s,) = settle_on_store(st.con, [c], W.AS_OF)
    truth = settle(c, W.true_days(world), dt.date(2025, 12, 31))
    out = []
    for cy, p, t in zip(s.cycles, s.projected_cycles, truth.cycles, strict=True):
        assert p is not None
        out.append(
            (
                cy.payout,
                Decimal(p["roi_guarantee_payout"]),
                Decimal(p["roi_guarantee_payout_low"]),
                Decimal(p["roi_guarantee_payout_high"]),
                t.payout,
            )
        )
    pt = s.projected_totals
    assert pt is not None
    out.append(
        (
            s.totals.roi_guarantee_payout,
            Decimal(pt["roi_guarantee_payout"]),
            Decimal(pt["roi_guarantee_payout_low"]),
            Decimal(pt["roi_guarantee_payout_high"]),
            truth.totals.roi_guarantee_payout,
        )
    )
    return out


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    t0 = time.perf_counter()
    cycles, totals = [], []
    for seed in range(1, seeds + 1):
        rows = one(seed)
        cycles += rows[:-1]
        totals += rows[-1:]

    def report(name: str, rows: list) -> None:
        err_prov = [abs(p - t) / t * 100 for p, _, _, _, t in rows]
        err = [abs(q - t) / t * 100 for _, q, _, _, t in rows]
        inside = sum(lo <= t <= hi for _, _, lo, hi, t in rows)
        width = [(hi - lo) / t * 100 for _, _, lo, hi, t in rows]
        print(
            f"{name:7} n={len(rows):3}  provisional error mean {statistics.mean(err_prov):5.1f}% "
            f"max {max(err_prov):5.1f}%  |  projected error mean {statistics.mean(err):4.1f}% "
            f"max {max(err):4.1f}%  within 10%: {sum(e <= 10 for e in err)}/{len(rows)}  |  "
            f"80% interval covers {inside}/{len(rows)} ({inside / len(rows):.0%}), "
            f"mean width {statistics.mean(width):4.1f}% of the true payout"
        )

    report("cycles", cycles)
    report("totals", totals)
    print(f"{seeds} seeds in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
