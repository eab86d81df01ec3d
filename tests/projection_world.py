"""A generated store whose true final GMV is known, to validate the projected final payout.

``notes`` notes spend every day from ``HISTORY_START`` to ``PERIOD_END``; each (note, day) has a
true final 30-day GMV = spend × the note's ROI × noise. Its value in an export made ``age`` days
later is final × share, where the share follows 1 − 0.6·exp(−age / (6·speed)) with a speed of
its own (lognormal), and is final from age 30 on. A "last 45 days" 种草星河 export is made every
7 days (the last on ``AS_OF``), each under a name carrying its export date; the 聚光 report
holds the spend. The contract settles three ISO weeks of July 2025 whose windows are still
open on ``AS_OF``, so its statement is provisional and projected.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from redcat_cli.settle.engine import DayFacts

HISTORY_START = dt.date(2025, 5, 1)
PERIOD_START, PERIOD_END = dt.date(2025, 7, 7), dt.date(2025, 7, 27)
AS_OF = dt.date(2025, 8, 1)
WINDOW = 30
SPAN = 45  # days each export covers
CONTRACT = """\
contract_id: RC-TRUTH
merchant: 生成数据店
period: {start: 2025-07-07, end: 2025-07-27}
cycle: week
gmv: {source: xinghe, window_days: 30, flow_type: 全部流量}
roi_guarantee: {target_roi: "3.0", trigger_factor: "0.8", formula: qianchuan}
rounding: half_up
"""
CENT = Decimal("0.01")


def _money(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def build(seed: int, notes: int = 40, grows: bool = True) -> dict:
    """The world: per (note, day) spend, true final GMV, buyers and maturing speed."""
    rng = random.Random(seed)
    ids = [f"{rng.getrandbits(96):024x}" for _ in range(notes)]
    roi = {n: math.exp(rng.gauss(math.log(1.5), 0.35)) for n in ids}
    days = []
    d = HISTORY_START
    while d <= PERIOD_END:
        days.append(d)
        d += dt.timedelta(days=1)
    facts = {}
    for day in days:
        weekday_lift = 1.25 if day.weekday() >= 5 else 1.0
        for n in ids:
            spend = _money(rng.uniform(80, 400))
            final = _money(float(spend) * roi[n] * weekday_lift * math.exp(rng.gauss(0, 0.5)))
            facts[(n, day)] = {
                "spend": spend,
                "gmv": final,
                "buyers": max(1, int(float(final) / 150)),
                "speed": math.exp(rng.gauss(0, 0.4)),
            }
    exports = []
    e = AS_OF
    while e - dt.timedelta(days=SPAN) >= HISTORY_START - dt.timedelta(days=7):
        exports.append(e)
        e -= dt.timedelta(days=7)
    return {"ids": ids, "days": days, "facts": facts, "exports": sorted(exports), "grows": grows}


def share(age: int, speed: float, grows: bool = True) -> float:
    if age >= WINDOW or not grows:
        return 1.0
    return 1.0 - 0.6 * math.exp(-age / (6.0 * speed))


def write_exports(world: dict, folder: Path) -> list[Path]:
    """The 聚光 report, then every 种草星河 export in the order it was made."""
    files = []
    j = folder / f"聚光_笔记日报_{HISTORY_START:%Y%m%d}-{PERIOD_END:%Y%m%d}_导出{AS_OF:%Y%m%d}.csv"
    lines = ["时间,笔记ID,计划ID,消费"]
    for (n, day), f in world["facts"].items():
        lines.append(f"{day},{n},101,{f['spend']}")
    j.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    files.append(j)
    for e in world["exports"]:
        path = folder / f"种草星河_明细_近{SPAN}天_{e:%Y%m%d}.csv"
        lines = ["日期,内容ID,流量类型,归因周期,成交UV,商家GMV"]
        for day in world["days"]:
            age = (e - day).days
            if not 1 <= age <= SPAN:
                continue
            for n in world["ids"]:
                f = world["facts"][(n, day)]
                s = share(age, f["speed"], world["grows"])
                lines.append(
                    f"{day:%Y%m%d},{n},全部流量,30天,{int(f['buyers'] * s)},{_money(float(f['gmv']) * s)}"
                )
        path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files


def true_days(world: dict) -> list[DayFacts]:
    """The contract period's days on their true final values (what a mature store will hold)."""
    out = []
    for day in world["days"]:
        if not PERIOD_START <= day <= PERIOD_END:
            continue
        fs = [world["facts"][(n, day)] for n in world["ids"]]
        out.append(
            DayFacts(
                day,
                sum((f["spend"] for f in fs), Decimal(0)),
                sum((f["gmv"] for f in fs), Decimal(0)),
                sum(f["buyers"] for f in fs),
                day + dt.timedelta(days=WINDOW + 10),
            )
        )
    return out
