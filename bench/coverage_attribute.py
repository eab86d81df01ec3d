"""Coverage of `redcat attribute`'s uplift intervals, measured by simulation.

The uplift of a ratio (ROI = Σ GMV / Σ spend) between two periods, with a known truth of
+20% (ROI 2.0 → 2.4), interval from ``bootstrap.bootstrap_ratio_uplifts`` exactly as
``attribute`` calls it:

- days: 30 + 30 days, spend and the ROI's noise AR(1) on the log scale with φ = 0, 0.3, 0.6;
  single days with the percentile interval (the old independent-days bootstrap), blocks
  of 7 (``--block-days 7``) and the block chosen from the data (the default), both with the
  corrected t interval;
- notes: 24 notes seen in both periods, each with its own quality (log-normal σ 0.5);
  resampled independently per period with the percentile interval (the old way) and paired
  with the jackknife t interval (the default).

    python bench/coverage_attribute.py [--runs 400] [--boot 1000] [--days 30] [--notes 24]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TRUTH = 0.2


def ar1(rng, n: int, phi: float, sd: float):
    import numpy as np

    e = np.empty(n)
    e[0] = rng.normal(0, sd)
    for t in range(1, n):
        e[t] = phi * e[t - 1] + math.sqrt(1 - phi * phi) * rng.normal(0, sd)
    return e


def day_period(rng, n: int, roi: float, phi: float):
    import numpy as np

    spend = 1000 * np.exp(ar1(rng, n, phi, 0.4))
    noise = ar1(rng, n, phi, 0.35)
    gmv = roi * spend * np.exp(noise - 0.35**2 / 2)
    return gmv.reshape(-1, 1), spend.reshape(-1, 1)


def coverage_days(
    runs: int, boot: int, days: int, phi: float, block: int | None
) -> tuple[float, float]:
    """Coverage and mean width; ``block`` None: chosen from the data as ``attribute`` does,
    1: single days with the percentile interval (the old way)."""
    import numpy as np

    from redcat_cli.analysis import bootstrap

    rng = np.random.default_rng(100 + int(phi * 10))
    hits, widths = 0, []
    for i in range(runs):
        bn, bd = day_period(rng, days, 2.0, phi)
        cn, cd = day_period(rng, days, 2.0 * (1 + TRUTH), phi)
        b = block or bootstrap.choose_block(bn, bd, cn, cd)
        (iv,) = bootstrap.bootstrap_ratio_uplifts(
            bn, bd, cn, cd, n_boot=boot, seed=i, block=b, student=block != 1
        )
        hits += iv.low <= TRUTH <= iv.high
        widths.append(iv.high - iv.low)
    return hits / runs, float(np.mean(widths))


def coverage_notes(runs: int, boot: int, notes: int, paired: bool) -> tuple[float, float]:
    import numpy as np

    from redcat_cli.analysis import bootstrap

    rng = np.random.default_rng(7)
    hits, widths = 0, []
    for i in range(runs):
        quality = np.exp(rng.normal(0, 0.5, notes))
        size = np.exp(rng.normal(0, 0.8, notes))  # notes differ in size in both periods alike
        sb = 1000 * size * np.exp(rng.normal(0, 0.3, notes))
        sc = 1000 * size * np.exp(rng.normal(0, 0.3, notes))
        gb = 2.0 * quality * sb * np.exp(rng.normal(0, 0.2, notes) - 0.02)
        gc = 2.0 * (1 + TRUTH) * quality * sc * np.exp(rng.normal(0, 0.2, notes) - 0.02)
        (iv,) = bootstrap.bootstrap_ratio_uplifts(
            gb.reshape(-1, 1),
            sb.reshape(-1, 1),
            gc.reshape(-1, 1),
            sc.reshape(-1, 1),
            n_boot=boot,
            seed=i,
            paired=paired,
            student=paired,
        )
        hits += iv.low <= TRUTH <= iv.high
        widths.append(iv.high - iv.low)
    return hits / runs, float(np.mean(widths))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--notes", type=int, default=24)
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"nominal 95%, truth +{TRUTH:.0%}, {args.runs} runs × {args.boot} resamples")
    print("| resampling | data | coverage | mean width |")
    print("| --- | --- | --- | --- |")
    labels = {
        1: "days, single days, percentile (old)",
        7: "days, blocks of 7 (--block-days 7), corrected t",
        None: "days, block chosen from the data (default), corrected t",
    }
    for phi in (0.0, 0.3, 0.6):
        for block in (1, 7, None):
            cov, width = coverage_days(args.runs, args.boot, args.days, phi, block)
            print(
                f"| {labels[block]} | {args.days}+{args.days} days, AR(1) φ = {phi} "
                f"| {cov:.1%} | {width:.3f} |"
            )
    for paired in (False, True):
        cov, width = coverage_notes(args.runs, args.boot, args.notes, paired)
        label = (
            "notes, paired, jackknife t (default)"
            if paired
            else "notes, independent per period, percentile (old)"
        )
        print(f"| {label} | {args.notes} notes in both periods | {cov:.1%} | {width:.3f} |")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
