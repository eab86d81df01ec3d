"""Two ISO weeks of complete, mature data, written as real exports (used by several tests).

聚光 (spend), notes A and B:
  week 1 (2025-06-02..08): A 600.00 + B 400.00 a day, 7 days        = 7,000.00
  week 2 (2025-06-09..15): A 700.00 + B 300.00 a day, 06-09..06-13  = 5,000.00 (no spend 06-14/15)
种草星河 商家GMV, 全部流量, 30-day window (also written: 7-day window and 广告流量, never summed):
  week 1: A 1,200.00 + B 800.00 a day                               = 14,000.00
  week 2: A 1,500.00 + B 700.00 a day on 06-09..13, B 0.02 on 06-14  = 11,000.02
  buyers (成交UV): A 10, B 5 a day with GMV > 1 (week 1: 105, week 2: 75)
An early export (made 2025-06-20) holds week 2 at 60% and week 1 at 90%; the re-export made
2025-07-20 (after every cycle's end + 30 days) holds the final values above.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

WEEK1 = [dt.date(2025, 6, 2) + dt.timedelta(days=i) for i in range(7)]
WEEK2 = [dt.date(2025, 6, 9) + dt.timedelta(days=i) for i in range(7)]
A, B = "64f1a2b3000000001e03c0aa", "64f1a2b3000000001e03c0bb"

CONTRACT = """\
contract_id: RC-MATURE
merchant: 测试旗舰店
currency: CNY
period: {start: 2025-06-02, end: 2025-06-15}
cycle: week
gmv: {source: xinghe, window_days: 30, flow_type: 全部流量}
roi_guarantee:
  target_roi: "3.0"
  trigger_factor: "0.8"
  formula: qianchuan
  cap: {amount: "50000.00", pct_of_spend: "0.30"}
matched_investment: {ratio: "1.0", threshold: "5000.00", cap: "6000.00"}
rounding: half_up
"""


def spend(day: dt.date) -> dict[str, Decimal]:
    if day in WEEK1:
        return {A: Decimal("600.00"), B: Decimal("400.00")}
    if day <= dt.date(2025, 6, 13):
        return {A: Decimal("700.00"), B: Decimal("300.00")}
    return {}


def gmv(day: dt.date) -> dict[str, Decimal]:
    if day in WEEK1:
        return {A: Decimal("1200.00"), B: Decimal("800.00")}
    if day <= dt.date(2025, 6, 13):
        return {A: Decimal("1500.00"), B: Decimal("700.00")}
    if day == dt.date(2025, 6, 14):
        return {A: Decimal("0.00"), B: Decimal("0.02")}
    return {A: Decimal("0.00"), B: Decimal("0.00")}


def _juguang(path: Path) -> None:
    lines = ["时间,笔记ID,计划ID,消费,展现量,点击量"]
    for day in WEEK1 + WEEK2:
        for note, s in spend(day).items():
            lines.append(f"{day},{note},101,{s},1000,50")
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")


def _xinghe(path: Path, share: dict[int, Decimal]) -> None:
    lines = ["日期,内容ID,流量类型,归因周期,成交UV,商家GMV"]
    for week, days in ((1, WEEK1), (2, WEEK2)):
        f = share[week]
        for day in days:
            for note, g in gmv(day).items():
                buyers = (10 if note == A else 5) if g > 1 else 0
                v = (g * f).quantize(Decimal("0.01"))
                b = int(buyers * f)
                lines.append(f"{day:%Y%m%d},{note},全部流量,30天,{b},{v}")
                lines.append(
                    f"{day:%Y%m%d},{note},全部流量,7天,{b},{(v / 2).quantize(Decimal('0.01'))}"
                )
                lines.append(
                    f"{day:%Y%m%d},{note},广告流量,30天,{b},{(v / 4).quantize(Decimal('0.01'))}"
                )
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")


def write_exports(folder: Path) -> list[Path]:
    """The three exports, in ingest order, with their export dates in their names."""
    j = folder / "聚光_笔记日报_20250602-20250615_20250720.csv"
    early = folder / "种草星河_明细_0602-0615_导出20250620.csv"
    late = folder / "种草星河_明细_0602-0615_导出20250720.csv"
    _juguang(j)
    _xinghe(early, {1: Decimal("0.9"), 2: Decimal("0.6")})
    _xinghe(late, {1: Decimal("1"), 2: Decimal("1")})
    return [j, early, late]
