"""Generate redcat's bundled example exports: one June-2025 campaign seen by every platform.

The files reproduce the quirks of real exports (see the README's "Supported exports"): UTF-8
with BOM and GB18030, a 合计 total row, grouped numbers ("1,234"), `-` for missing, mixed
full/half-width brackets in headers, `="…"` order numbers, `无退款申请`, literal `null`,
title rows above a header, a group-header row and a footer row in an xlsx, a zip of a
GB18030 CSV with CRLF line ends, day-first dates, and 种草星河 exports made on 06-16, 07-01 and
07-15 whose days grow with their age until their window has passed. Every file name carries
the date it was exported (`导出0701`, `0715重新导出`). The numbers are one consistent world:
interactions drive store visits and orders, and spend is re-planned towards the best notes in
the second half of June.

Run from the repository root:  python examples/generate.py  (deterministic: same seed, same bytes)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEED = 20250601
HERE = Path(__file__).resolve().parent
START = dt.date(2025, 6, 1)
DAYS = 30
N_NOTES = 24
PLANS = [
    ("11873201", "6月新品口红试色"),
    ("11873202", "6月唇釉种草"),
    ("11873203", "6月品牌词防守"),
]
PRODUCTS = [
    ("718923450011", "丝绒雾面口红 #316 3.5g", Decimal("159.00")),
    ("718923450012", "水光唇釉 #07 5ml", Decimal("129.00")),
    ("718923450013", "口红礼盒 三支装", Decimal("399.00")),
    ("718923450014", "润唇膏 无色 4g", Decimal("59.00")),
]
TITLES = [
    "黄皮显白口红试色｜{n}号色绝了",
    "通勤妆必备唇釉{n}支横评",
    "秋冬口红推荐 第{n}期",
    "素颜也能涂的口红{n}",
    "学生党平价口红试色{n}",
    "约会妆容教程 口红篇{n}",
    "新品唇釉上嘴实测{n}",
    "口红礼盒开箱{n}",
]
CENT = Decimal("0.01")


def money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def grouped(n: int) -> str:
    return f"{n:,}"


def pct(num: float, den: float) -> str:
    return f"{num / den * 100:.2f}%" if den else "-"


def note_id(rng: random.Random) -> str:
    ts = rng.randint(0x67000000, 0x68500000)
    return f"{ts:08x}" + "0000000001" + f"{rng.randint(0, 0xFFFFFF):06x}"


def write_csv(
    path: Path,
    rows: list[list[object]],
    *,
    encoding: str,
    bom: bool = False,
    crlf: bool = False,
    quote_all: bool = False,
) -> None:
    """CSV as the platforms write it: cells like ="123" stay unquoted (Excel reads them as text)."""
    buf = io.StringIO()
    writer = csv.writer(
        buf, lineterminator="", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    lines = []
    for r in rows:
        cells = []
        for v in r:
            text = "" if v is None else str(v)
            if text.startswith('="') and text.endswith('"'):
                cells.append(text)
            else:
                buf.seek(0)
                buf.truncate()
                writer.writerow([text])
                cells.append(buf.getvalue())
        lines.append(",".join(cells))
    data = ("\r\n" if crlf else "\n").join(lines + [""]).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def build_world(rng: random.Random) -> dict:
    notes = []
    for i in range(N_NOTES):
        quality = math.exp(rng.gauss(0, 0.55))  # how well the note turns readers into buyers
        notes.append(
            {
                "id": note_id(rng),
                "title": TITLES[i % len(TITLES)].format(n=i + 1),
                "plan": PLANS[i % len(PLANS)],
                "quality": quality,
                "ctr": rng.uniform(0.045, 0.12),
                "engage": rng.uniform(0.05, 0.16) * (0.6 + 0.4 * quality),
                "creator": f"美妆博主{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randint(10, 99)}",
                "product": PRODUCTS[i % len(PRODUCTS)],
            }
        )
    days = [START + dt.timedelta(days=d) for d in range(DAYS)]
    rows = []  # one per note and day with its 聚光 and 种草星河 numbers
    for d_i, day in enumerate(days):
        second_half = d_i >= 15
        for n in notes:
            # Re-planning: in the second half spend follows each note's quality.
            weight = (n["quality"] ** 1.6) if second_half else 1.0
            boosted = rng.random() < (
                0.75 if not second_half else min(0.95, 0.35 + 0.4 * n["quality"])
            )
            spend = money(rng.uniform(60, 420) * weight) if boosted else Decimal("0.00")
            impressions = int(float(spend) * rng.uniform(45, 75))
            clicks = int(impressions * n["ctr"] * rng.uniform(0.85, 1.15))
            inter = int(clicks * n["engage"] * rng.uniform(0.8, 1.2))
            parts = [int(inter * w) for w in (0.46, 0.08, 0.28, 0.08)]
            parts.append(inter - sum(parts))  # likes, comments, collects, follows, shares
            natural_read = int(rng.uniform(30, 260) * n["quality"])
            read_uv_ad = int(clicks * rng.uniform(0.85, 0.98))
            read_uv = read_uv_ad + natural_read
            visit_rate = 0.06 + 0.05 * min(n["quality"], 2.5)
            visit_uv = int(read_uv * visit_rate * rng.uniform(0.8, 1.2))
            cart_uv = int(visit_uv * rng.uniform(0.2, 0.4))
            # orders follow interactions (with noise): the relationship attribute measures
            lam = 0.35 * (0.02 * inter * n["quality"] + 0.015 * natural_read * n["quality"])
            buyers30 = _poisson(rng, lam)
            price = n["product"][2]
            gmv30 = money(sum(float(price) * rng.choice((1, 1, 1, 2)) for _ in range(buyers30)))
            share_ad = read_uv_ad / read_uv if read_uv else 0
            rows.append(
                {
                    "day": day,
                    "note": n,
                    "spend": spend,
                    "impressions": impressions,
                    "clicks": clicks,
                    "inter": inter,
                    "parts": parts,
                    "read_uv": read_uv,
                    "visit_uv": visit_uv,
                    "cart_uv": cart_uv,
                    "buyers30": buyers30,
                    "gmv30": gmv30,
                    "share_ad": share_ad,
                    "interact_uv": int(inter * 0.9 + natural_read * 0.08),
                }
            )
    return {"notes": notes, "days": days, "rows": rows}


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= L:
            return k
        k += 1


def juguang_note_report(world: dict, path: Path) -> None:
    header = [
        "时间",
        "笔记ID",
        "笔记标题",
        "计划名称",
        "计划ID",
        "消费",
        "展现量",
        "点击量",
        "点击率",
        "平均点击成本",
        "平均千次展示费用",
        "点赞",
        "评论",
        "收藏",
        "关注",
        "分享",
        "互动量",
        "平均互动成本",
        "行业商品GMV（7日)",
        "行业商品成交订单量（7日）",
        "行业商品GMV（30日）",
        "行业商品成交订单量（30日）",
    ]
    body = []
    for r in world["rows"]:
        if r["spend"] == 0:
            continue
        n = r["note"]
        ad_buyers = round(r["buyers30"] * r["share_ad"])
        ad_gmv = money(r["gmv30"] * Decimal(str(r["share_ad"])))
        recent = r["day"] > START + dt.timedelta(days=DAYS - 8)
        body.append(
            [
                r["day"].isoformat(),
                n["id"],
                n["title"],
                n["plan"][1],
                n["plan"][0],
                f"{r['spend']}",
                grouped(r["impressions"]),
                grouped(r["clicks"]),
                pct(r["clicks"], r["impressions"]),
                f"{float(r['spend']) / r['clicks']:.2f}" if r["clicks"] else "-",
                f"{float(r['spend']) / r['impressions'] * 1000:.2f}" if r["impressions"] else "-",
                *r["parts"],
                r["inter"],
                f"{float(r['spend']) / r['inter']:.2f}" if r["inter"] else "-",
                f"{money(ad_gmv * Decimal('0.8'))}",
                max(0, int(ad_buyers * 0.8)),
                "-" if recent else f"{ad_gmv}",
                "-" if recent else ad_buyers,
            ]
        )
    sums = [sum(Decimal(b[5]) for b in body)] + [
        sum(int(str(b[i]).replace(",", "")) for b in body) for i in (6, 7)
    ]
    total = [
        f"合计{len(body)}条记录",
        "-",
        "-",
        "-",
        "-",
        f"{sums[0]}",
        grouped(sums[1]),
        grouped(sums[2]),
        pct(sums[2], sums[1]),
        "-",
        "-",
        *[sum(b[i] for b in body) for i in range(11, 17)],
        "-",
        "-",
        "-",
        "-",
        "-",
    ]
    write_csv(path, [header, total, *body], encoding="utf-8", bom=True)


FLOWS = ("全部流量", "广告流量", "自然流量")


def grown_share(note: str, day: dt.date, age: int, window: int) -> float:
    """How much of a day's final conversions an export made ``age`` days later holds: a
    curve 1 − 0.6·e^(−age / (window/5 × speed)) with a speed of each (note, day), final once
    the window has passed. Seeded by the key, so the other files' random draws are untouched."""
    if age >= window:
        return 1.0
    speed = math.exp(random.Random(f"{note}{day}").gauss(0, 0.4))
    return 1.0 - 0.6 * math.exp(-age / (window / 5 * speed))


def xinghe_rows(
    world: dict, exported: dt.date, days: set[dt.date] | None = None
) -> list[list[object]]:
    """种草星河 rows of an export made on ``exported``: each (date, note) × 3 flow types ×
    windows 7 and 30, 全部流量 = 广告 + 自然; each day holds what had come in by then."""
    out = []
    for r in world["rows"]:
        if days is not None and r["day"] not in days:
            continue
        if r["day"] >= exported:
            continue
        n = r["note"]
        age = (exported - r["day"]).days
        for window in (7, 30):
            frac = (0.8 if window == 7 else 1.0) * grown_share(n["id"], r["day"], age, window)
            buyers = int(r["buyers30"] * frac)
            gmv = money(r["gmv30"] * Decimal(str(frac)))
            split = r["share_ad"]
            ad = {
                "read": int(r["read_uv"] * split),
                "inter": int(r["interact_uv"] * split),
                "visit": int(r["visit_uv"] * split),
                "cart": int(r["cart_uv"] * split),
                "buyers": int(buyers * split),
                "gmv": money(gmv * Decimal(str(split))),
            }
            full = {
                "read": r["read_uv"],
                "inter": r["interact_uv"],
                "visit": r["visit_uv"],
                "cart": r["cart_uv"],
                "buyers": buyers,
                "gmv": gmv,
            }
            nat = {k: full[k] - ad[k] for k in full}
            for flow, v in zip(FLOWS, (full, ad, nat), strict=True):
                new_buyers = int(v["buyers"] * 0.6)
                out.append(
                    [
                        r["day"].strftime("%Y%m%d"),
                        n["id"],
                        n["creator"],
                        f"https://www.xiaohongshu.com/explore/{n['id']}",
                        "6月唇部新品种草",
                        flow,
                        f"{window}天",
                        v["read"],
                        v["inter"],
                        pct(v["inter"], v["read"]),
                        v["visit"],
                        int(v["visit"] * 0.4),
                        v["cart"],
                        v["buyers"],
                        f"{v['gmv']}",
                        new_buyers,
                        pct(v["buyers"], v["visit"]),
                    ]
                )
    return out


XINGHE_HEADER = [
    "日期",
    "内容ID",
    "达人昵称",
    "内容链接",
    "订单名称",
    "流量类型",
    "归因周期",
    "阅读/播放UV",
    "互动UV",
    "内容互动率",
    "进店UV",
    "新客进店uv",
    "商品加购UV",
    "成交UV",
    "商家GMV",
    "新客成交UV",
    "成交转化率",
]


XINGHE_EXPORTS = [  # (file name, export date, days it covers): the order they were made
    ("种草星河_内容效果明细_0601-0615_导出0616.csv", dt.date(2025, 6, 16), (1, 15)),
    ("种草星河_内容效果明细_202506_导出0701.csv", dt.date(2025, 7, 1), (1, 30)),
    ("种草星河_内容效果明细_202506_0715重新导出.csv", dt.date(2025, 7, 15), (1, 30)),
]


def xinghe_report(world: dict) -> None:
    """Three exports of the same month: the first half mid-month, the month on 07-01, and a
    re-export on 07-15 in which the first half has matured (what a maturity curve learns from)."""
    for name, exported, (first, last) in XINGHE_EXPORTS:
        days = {START + dt.timedelta(days=d - 1) for d in range(first, last + 1)}
        rows = xinghe_rows(world, exported, days)
        write_csv(HERE / name, [XINGHE_HEADER, *rows], encoding="utf-8", bom=True)


def qianniu_orders(world: dict, rng: random.Random, orders_path: Path, items_path: Path) -> None:
    header = [
        "订单编号",
        "买家会员名",
        "买家应付货款",
        "买家应付邮费",
        "总金额",
        "买家实际支付金额",
        "订单状态",
        "订单创建时间",
        "订单付款时间",
        "宝贝标题",
        "宝贝种类",
        "宝贝总数量",
        "店铺名称",
        "订单关闭原因",
        "退款金额",
    ]
    buyers = [
        f"t**{rng.randint(100, 999)}{c}{k}" for c in "abcdefghijklmnopqrstuvwxyz" for k in range(60)
    ]
    regulars = buyers[:30]
    rows, items = (
        [header],
        [
            [
                "订单编号",
                "标题",
                "价格",
                "购买数量",
                "外部系统编号",
                "商品属性",
                "套餐信息",
                "备注",
                "订单状态",
                "商家编码",
            ]
        ],
    )
    oid = 3190000000000000000 + rng.randint(0, 10**12)
    for day in world["days"]:
        n_orders = sum(r["buyers30"] for r in world["rows"] if r["day"] == day) // 2 + rng.randint(
            2, 6
        )
        for _ in range(n_orders):
            oid += rng.randint(1000, 90000)
            buyer = rng.choice(regulars) if rng.random() < 0.3 else rng.choice(buyers)
            product = rng.choice(PRODUCTS)
            qty = rng.choice((1, 1, 1, 2))
            goods = product[2] * qty
            created = dt.datetime.combine(
                day, dt.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
            )
            u = rng.random()
            if u < 0.06:
                status, paid, close, refund = "交易关闭", None, "买家未付款", "无退款申请"
            elif u < 0.09:
                status, paid, close, refund = "等待买家付款", None, "", "无退款申请"
            else:
                status = rng.choice(
                    ["交易成功"] * 6 + ["卖家已发货，等待买家确认", "买家已付款，等待卖家发货"]
                )
                paid = created + dt.timedelta(seconds=rng.randint(5, 900))
                close = ""
                refund = f"{goods}" if rng.random() < 0.04 else "无退款申请"
            rows.append(
                [
                    f'="{oid}"',
                    buyer,
                    f"{goods}",
                    "0.00",
                    f"{goods}",
                    f"{goods}" if paid else "0.00",
                    status,
                    created.strftime("%Y-%m-%d %H:%M:%S"),
                    paid.strftime("%Y-%m-%d %H:%M:%S") if paid else "",
                    product[1],
                    1,
                    qty,
                    "某某美妆旗舰店",
                    close,
                    refund,
                ]
            )
            items.append(
                [
                    f'="{oid}"',
                    product[1],
                    f"{product[2]}",
                    qty,
                    "null",
                    "颜色分类：" + product[1].split(" ")[-1],
                    "null",
                    "null",
                    status,
                    "MZ-" + product[0][-4:],
                ]
            )
    write_csv(orders_path, rows, encoding="gb18030")
    write_csv(items_path, items, encoding="gbk", quote_all=True)


# 生意参谋: the shop's whole range, so that `redcat lift` has controls and a pre period. The
# seeded products are PRODUCTS (the notes link to them); the others are never seeded.
SYCM_FIRST = dt.date(2025, 4, 20)
SYCM_SEED = SEED + 9
SYCM_LIFT = 1.18  # what the seeding adds to the seeded products' sales from START
OTHER_PRODUCTS = [
    ("718923450021", "哑光粉底液 30ml", Decimal("219.00")),
    ("718923450022", "气垫BB霜 替换装", Decimal("99.00")),
    ("718923450023", "眼影盘 九色", Decimal("189.00")),
    ("718923450024", "睫毛膏 纤长款", Decimal("89.00")),
    ("718923450025", "卸妆油 200ml", Decimal("139.00")),
    ("718923450026", "散粉 定妆", Decimal("119.00")),
    ("718923450027", "眉笔 双头", Decimal("49.00")),
    ("718923450028", "腮红 蜜桃色", Decimal("79.00")),
    ("718923450029", "化妆刷 套装", Decimal("159.00")),
    ("718923450030", "隔离霜 50ml", Decimal("169.00")),
    ("718923450031", "遮瑕液 自然色", Decimal("109.00")),
    ("718923450032", "唇线笔 豆沙色", Decimal("39.00")),
]


def festival(day: dt.date) -> float:
    """618 2025 for every product: warm-up, the sale, the last three days, the hangover."""
    if dt.date(2025, 5, 13) <= day <= dt.date(2025, 5, 19):
        return 1.3
    if dt.date(2025, 5, 20) <= day <= dt.date(2025, 6, 15):
        return 2.0
    if dt.date(2025, 6, 16) <= day <= dt.date(2025, 6, 18):
        return 3.0
    if dt.date(2025, 6, 19) <= day <= dt.date(2025, 6, 25):
        return 0.8
    return 1.0


def sycm_report(world: dict, rng: random.Random, path: Path) -> None:
    # the shared generator advances as it always did, so every later file stays the same
    for _ in range(len(world["days"]) * len(PRODUCTS)):
        visitors = rng.randint(300, 2600)
        buyers = int(visitors * rng.uniform(0.02, 0.06))
        rng.randint(0, buyers // 3 + 1)
        rng.random()
    srng = random.Random(SYCM_SEED)
    last = world["days"][-1]
    days = [SYCM_FIRST + dt.timedelta(days=i) for i in range((last - SYCM_FIRST).days + 1)]
    weekly = [1.0, 0.95, 0.92, 0.95, 1.05, 1.2, 1.12]
    title = [
        ["生意参谋 商品排行 日报"],
        [f"统计日期：{SYCM_FIRST.isoformat()}~{last.isoformat()}"],
        ["店铺：某某美妆旗舰店"],
        [],
    ]
    header = [
        "统计日期",
        "商品ID",
        "商品名称",
        "商品访客数",
        "商品浏览量",
        "商品收藏人数",
        "商品加购人数",
        "商品加购件数",
        "下单买家数",
        "下单件数",
        "下单金额",
        "支付买家数",
        "支付件数",
        "支付金额",
        "商品支付转化率",
        "成功退款金额",
    ]
    body = []
    seeded = {pid for pid, _, _ in PRODUCTS}
    for pid, name, price in PRODUCTS + OTHER_PRODUCTS:
        base = 400 * math.exp(srng.gauss(0, 0.6))  # products differ in size
        conv = srng.uniform(0.025, 0.05)
        noise = 0.0
        for day in days:
            noise = 0.5 * noise + math.sqrt(1 - 0.25) * srng.gauss(0, 0.12)
            mult = weekly[day.weekday()] * festival(day) * math.exp(noise)
            if pid in seeded and day >= START:
                mult *= SYCM_LIFT
            visitors = max(1, int(base * mult))
            buyers = max(0, int(visitors * conv * srng.uniform(0.9, 1.1)))
            items = buyers + buyers // 8
            body.append(
                [
                    day.isoformat(),
                    pid,
                    name,
                    grouped(visitors),
                    grouped(int(visitors * 1.7)),
                    int(visitors * 0.05),
                    int(visitors * 0.09),
                    int(visitors * 0.11),
                    buyers + 2,
                    items + 2,
                    f"{price * (items + 2):,}",
                    buyers,
                    items,
                    f"{price * items:,}",
                    pct(buyers, visitors),
                    "-" if srng.random() < 0.7 else f"{price}",
                ]
            )
    body.sort(key=lambda r: (r[0], r[1]))  # the export lists each day's products together
    write_csv(path, [*title, header, *body], encoding="gb18030")


def juguang_account_report(world: dict, path: Path) -> None:
    header = ["时间", "消费", "展现量", "点击量", "点击率", "互动量", "平均互动成本"]
    body = []
    for day in world["days"]:
        rs = [r for r in world["rows"] if r["day"] == day]
        spend = sum((r["spend"] for r in rs), Decimal("0.00"))
        imp = sum(r["impressions"] for r in rs)
        clk = sum(r["clicks"] for r in rs)
        inter = sum(r["inter"] for r in rs)
        # after a round trip through Excel: day-first dates without padding
        body.append(
            [
                f"{day.day}/{day.month:02d}/{day.year}",
                f"{spend}",
                imp,
                clk,
                pct(clk, imp),
                inter,
                f"{float(spend) / inter:.2f}" if inter else "0",
            ]
        )
    total = [
        f"合计{len(body)}条记录",
        f"{sum(Decimal(b[1]) for b in body)}",
        sum(b[2] for b in body),
        sum(b[3] for b in body),
        "-",
        sum(b[5] for b in body),
        "-",
    ]
    write_csv(path, [header, total, *body], encoding="utf-8", bom=True)


def alimama_zip(world: dict, rng: random.Random, path: Path) -> None:
    header = [
        "日期",
        "场景ID",
        "场景名字",
        "计划ID",
        "计划名字",
        "主体ID",
        "主体类型",
        "主体名称",
        "展现量",
        "点击量",
        "花费",
        "点击率",
        "平均点击花费",
        "总成交金额",
        "总成交笔数",
        "直接成交金额",
        "直接成交笔数",
        "投入产出比",
        "总购物车数",
    ]
    body = []
    for day in world["days"]:
        for k, (pid, name, price) in enumerate(PRODUCTS[:3]):
            imp = rng.randint(3000, 20000)
            clk = int(imp * rng.uniform(0.02, 0.06))
            spend = money(clk * rng.uniform(0.6, 1.8))
            orders = int(clk * rng.uniform(0.01, 0.04))
            gmv = price * orders
            direct = int(orders * 0.7)
            body.append(
                [
                    f"{day.year}/{day.month}/{day.day}",
                    "371",
                    "关键词推广",
                    f"8186{3724248 + k}",
                    f"{name[:6]}_智能计划",
                    pid,
                    "商品",
                    name,
                    imp,
                    clk,
                    f"{spend}",
                    f"{clk / imp:.5f}",
                    f"{float(spend) / clk:.2f}" if clk else "",
                    f"{gmv}",
                    orders,
                    f"{price * direct}",
                    direct,
                    f"{float(gmv) / float(spend):.2f}" if spend else "",
                    int(clk * 0.08),
                ]
            )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *body])
    inner = buf.getvalue().encode("gb18030")
    zi = zipfile.ZipInfo("计划报表_20250701_101500.csv", date_time=(2025, 7, 1, 10, 15, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zi, inner)


def note_data_xlsx(world: dict, rng: random.Random, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Pgy_Creative_Center_Data_Detail"
    groups = ["基础信息"] * 8 + ["全部流量效果"] * 12 + ["电商转化指标"] * 3
    header = [
        "笔记发布时间",
        "笔记来源",
        "笔记类型",
        "笔记名称",
        "笔记id",
        "笔记链接",
        "笔记创作者名称",
        "作者粉丝量",
        "阅读uv",
        "点赞量",
        "评论量",
        "收藏量",
        "关注量",
        "分享量",
        "全部曝光量",
        "全部曝光量行业排名",
        "全部阅读量",
        "全部互动量",
        "全部互动率",
        "全部阅读率",
        "7日支付订单量",
        "7日支付金额",
        "进店访问量",
    ]
    ws.append(groups)
    ws.append(header)
    for i, n in enumerate(world["notes"]):
        rs = [r for r in world["rows"] if r["note"] is n]
        imp = sum(r["impressions"] for r in rs) + rng.randint(2000, 9000)
        reads = sum(r["read_uv"] for r in rs)
        inter = sum(r["inter"] for r in rs)
        parts = [sum(r["parts"][j] for r in rs) for j in range(5)]
        published = dt.datetime(2025, 5, 20 + i % 10, 9 + i % 10, 3 * i % 60, 7)
        ws.append(
            [
                published.strftime("%Y-%m-%d %H:%M:%S"),
                "专业号笔记",
                "图文笔记" if i % 3 else "视频笔记",
                n["title"],
                n["id"],
                f"https://www.xiaohongshu.com/explore/{n['id']}",
                n["creator"],
                str(rng.randint(800, 90000)),
                str(int(reads * 0.9)),
                *[str(p) for p in (parts[0], parts[1], parts[2], parts[4], parts[3])],
                str(imp),
                "数据较少" if i % 5 == 0 else "位于行业前20%",
                str(reads),
                str(inter),
                f"{inter / reads * 100:.2f}%" if reads else "_",
                f"{reads / imp:.4f}",
                "_" if i % 7 == 0 else str(sum(r["buyers30"] for r in rs) // 3),
                "-" if i % 7 == 0 else f"{sum(r['gmv30'] for r in rs) / 3:.2f}",
                str(sum(r["visit_uv"] for r in rs)),
            ]
        )
    ws.append(["专业号行业:美妆-彩妆"])
    wb.save(path)
    _pin_xlsx_timestamps(path)


def _pin_xlsx_timestamps(path: Path) -> None:
    """openpyxl stamps the current time into docProps/core.xml; pin it so the file is reproducible."""
    import re

    src = path.read_bytes()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(src)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2025-07-01T10:00:00Z", data
                )
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 7, 1, 10, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, data)
    path.write_bytes(out.getvalue())


def main() -> None:
    rng = random.Random(SEED)
    world = build_world(rng)
    juguang_note_report(world, HERE / "聚光_笔记投放日报_202506_导出0701.csv")
    xinghe_report(world)
    qianniu_orders(
        world,
        rng,
        HERE / "千牛_订单报表_202506_导出0701.csv",
        HERE / "千牛_订单明细_202506_导出0701.csv",
    )
    sycm_report(world, rng, HERE / "生意参谋_商品日报_0420-0630_导出0701.csv")
    juguang_account_report(world, HERE / "聚光_账户日报_202506_导出0701.csv")
    alimama_zip(world, rng, HERE / "万相台_计划报表_202506_导出0701.zip")
    note_data_xlsx(world, rng, HERE / "小红书_笔记数据_202506_导出0701.xlsx")


if __name__ == "__main__":
    main()
