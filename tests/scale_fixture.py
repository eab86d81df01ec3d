"""A store of several merchants for the warehouse and engine tests, built through ingest.

Three merchants (one with characters hive folder names would need escaping), 聚光 rows for
five notes under two plans over 20 days, 种草星河 rows in two flow types and two windows, and
a later re-export of one merchant's 种草星河 days with changed GMV (so history tables hold
rows and --as-of-ingest has something to rebuild). Values come from a seeded generator.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from redcat_cli.ingest.load import ingest

MERCHANTS = ["某某美妆旗舰店", "店 B/1%=x", "Acme Beauty"]
NOTES = [f"64f1a2b3000000001e03c0{i:02x}" for i in range(5)]
PLANS = {NOTES[0]: "101", NOTES[1]: "101", NOTES[2]: "102", NOTES[3]: "102", NOTES[4]: "103"}
DAYS = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(20)]

JUGUANG_HEAD = (
    "时间,笔记ID,笔记标题,计划名称,计划ID,消费,展现量,点击量,点击率,点赞,评论,收藏,关注,分享,互动量,"
    "行业商品GMV（7日),行业商品成交订单量（7日）\n"
)
XINGHE_HEAD = "日期,内容ID,流量类型,归因周期,阅读/播放UV,互动UV,进店UV,商品加购UV,成交UV,商家GMV\n"


def _juguang(rng: random.Random) -> str:
    lines = []
    for day in DAYS:
        for note in NOTES:
            if rng.random() < 0.2:
                continue
            spend = rng.randint(1000, 90000) / 100
            imp = rng.randint(1000, 20000)
            clicks = rng.randint(10, 900)
            inter = [rng.randint(0, 40) for _ in range(5)]
            gmv = "-" if rng.random() < 0.3 else f"{rng.randint(0, 120000) / 100:.2f}"
            orders = "-" if gmv == "-" else str(rng.randint(0, 30))
            lines.append(
                f"{day},{note},笔记{note[-2:]},计划{PLANS[note]},{PLANS[note]},{spend:.2f},{imp},"
                f"{clicks},{clicks / imp:.2%},{','.join(map(str, inter))},{sum(inter)},{gmv},{orders}\n"
            )
    return JUGUANG_HEAD + "".join(lines)


def _xinghe(rng: random.Random, days: list[dt.date], bump: int = 0) -> str:
    lines = []
    for day in days:
        for note in NOTES[:4]:
            for flow in ("全部流量", "广告流量"):
                for window in (7, 30):
                    read = rng.randint(100, 5000)
                    buyers = rng.randint(0, 40)
                    gmv = rng.randint(0, 150000) / 100 + bump
                    lines.append(
                        f"{day:%Y%m%d},{note},{flow},{window}天,{read},{read // 10},{read // 8},"
                        f"{read // 20},{buyers},{gmv:.2f}\n"
                    )
    return XINGHE_HEAD + "".join(lines)


def build(folder: Path) -> Path:
    """The store (``folder/scale.duckdb``); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "scale.duckdb"
    for i, merchant in enumerate(MERCHANTS):
        rng = random.Random(1000 + i)
        j = folder / f"juguang_{i}.csv"
        x = folder / f"xinghe_{i}.csv"
        j.write_text(_juguang(rng), encoding="utf-8")
        x.write_text(_xinghe(rng, DAYS), encoding="utf-8")
        ingest(store, [str(j), str(x)], merchant=merchant, exported_on=dt.date(2025, 8, 1))
    later = folder / "xinghe_0_again.csv"  # merchant 0 re-exports days 5–9: GMV grew
    later.write_text(_xinghe(random.Random(7), DAYS[5:10], bump=50), encoding="utf-8")
    ingest(store, [str(later)], merchant=MERCHANTS[0], exported_on=dt.date(2025, 8, 20))
    return store


CONTRACT = """\
contract_id: {cid}
merchant: {merchant}
currency: CNY
period: {{start: 2025-06-01, end: 2025-06-20}}
cycle: {cycle}
{scope}gmv:
  source: {source}
  window_days: {window}
{flow}roi_guarantee:
{target}
  trigger_factor: "0.8"
  formula: {formula}
{tiers}  min_orders: 10
  cap: {{amount: "4000.00", pct_of_spend: "0.30"}}
matched_investment:
  ratio: "1.0"
  threshold: "2000.00"
  cap: "5000.00"
rounding: {rounding}
"""


def contracts(folder: Path) -> list[Path]:
    """Contracts of every merchant: all notes, one plan, listed notes, 聚光 GMV, segmented
    targets, weekly and whole-period cycles, each formula."""
    folder.mkdir(parents=True, exist_ok=True)
    segmented = (
        '  targets:\n    - {from: 2025-06-01, roi: "3.0"}\n    - {from: 2025-06-11, roi: "2.5"}'
    )
    single = '  target_roi: "2.0"'
    tiers = (
        '  tiers:\n    - {roi_from: "0", roi_to: "1.0", rate: "0.20"}\n'
        '    - {roi_from: "1.0", roi_to: "100", rate: "0.10"}\n'
    )
    specs = [
        ("all", "", "xinghe", 30, "week", segmented, "qianchuan", "", "half_up"),
        ("plan", 'scope: {plan_ids: ["101"]}\n', "xinghe", 7, "period", single, "xhs", "", "half_even"),
        ("notes", f'scope: {{note_ids: ["{NOTES[2]}", "{NOTES[4]}"]}}\n', "xinghe", 30, "week",
         single, "tiered", tiers, "half_up"),
        ("jg", 'scope: {plan_ids: ["102"], note_ids: ["' + NOTES[0] + '"]}\n', "juguang", 7,
         "period", segmented, "qianchuan", "", "half_up"),
    ]  # fmt: skip
    out = []
    for i, merchant in enumerate(MERCHANTS):
        for name, scope, source, window, cycle, target, formula, tier_text, rounding in specs:
            flow = "  flow_type: 全部流量\n" if source == "xinghe" else ""
            text = CONTRACT.format(
                cid=f"M{i}-{name}",
                merchant=merchant,
                cycle=cycle,
                scope=scope,
                source=source,
                window=window,
                flow=flow,
                target=target,
                formula=formula,
                tiers=tier_text,
                rounding=rounding,
            )
            p = folder / f"M{i}-{name}.yaml"
            p.write_text(text, encoding="utf-8")
            out.append(p)
    return out
