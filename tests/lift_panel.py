"""A generated product × day panel with a known effect, for the lift tests and docs."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import ROUND_HALF_UP, Decimal

FIRST = dt.date(2025, 3, 16)
DAYS = 90  # 2025-03-16 .. 2025-06-13
START = dt.date(2025, 5, 14)  # seeding begins the day after 618 opened
FESTIVAL = (dt.date(2025, 5, 13), dt.date(2025, 6, 18))  # 618 2025, main window
N_PRODUCTS = 40
N_TREATED = 10


def product_id(i: int) -> str:
    return f"7100000000{i:02d}"


def panel_rows(
    effect: float = 0.15, seed: int = 7, festival: float = 2.5, phi: float = 0.5, sd: float = 0.25
) -> list[tuple[str, dt.date, Decimal]]:
    """(product, date, 支付金额): sizes spread 10× and more, a weekly pattern, AR(1) noise on
    the log scale within each product, every product ×``festival`` during 618, and the first
    ``N_TREATED`` products ×(1 + ``effect``) from ``START``."""
    rng = random.Random(seed)
    weekly = [1.0, 0.95, 0.9, 0.95, 1.05, 1.2, 1.15]
    rows = []
    for i in range(N_PRODUCTS):
        size = 2000 * math.exp(rng.gauss(0, 1.0))
        e = 0.0
        for t in range(DAYS):
            day = FIRST + dt.timedelta(days=t)
            e = phi * e + math.sqrt(1 - phi * phi) * rng.gauss(0, sd)
            mult = weekly[day.weekday()] * math.exp(e - sd * sd / 2)
            if FESTIVAL[0] <= day <= FESTIVAL[1]:
                mult *= festival
            if i < N_TREATED and day >= START:
                mult *= 1 + effect
            amount = Decimal(repr(size * mult)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            rows.append((product_id(i), day, amount))
    return rows


TREATED = [product_id(i) for i in range(N_TREATED)]
