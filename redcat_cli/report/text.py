"""Numbers as text and HTML pieces: money, counts, rates, escaping, tables."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def money(v: Any) -> str:
    if v is None:
        return "–"
    return f"{Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP):,}"


def money_value(v: Any) -> str:
    """Money as a plain two-place string (the JSON form), for data-value attributes."""
    return "" if v is None else str(Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP))


def count(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def rate(v: Any, places: int = 2) -> str:
    """A rate as a percentage."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v) * 100:.{places}f}%"


def num(v: Any, places: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v):,.{places}f}"


def change(new: Any, old: Any) -> float | None:
    if new is None or old is None or float(old) == 0:
        return None
    return float(new) / float(old) - 1.0


def signed_pct(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v * 100:+.1f}%"


def period_text(p: tuple[dt.date, dt.date]) -> str:
    return f"{p[0].isoformat()}..{p[1].isoformat()}"


def pearson(res: Any, lag: int = 0) -> dict[str, Any] | None:
    return next(
        (c for c in res.correlations if c["method"] == "pearson" and c["lag_days"] == lag), None
    )


def e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def table(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[str]],
    *,
    footer: Sequence[str] | None = None,
    caption: str | None = None,
    cls: str = "",
) -> str:
    """An HTML table. ``columns`` are (header, css class); cells are HTML already escaped."""
    out = [f'<table class="{e(cls)}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append(
        "<thead><tr>" + "".join(f'<th class="{c}">{h}</th>' for h, c in columns) + "</tr></thead>"
    )
    # each cell names its column, for the card layout of a narrow screen
    labels = [e(re.sub(r"<[^>]*>|&shy;", "", h)) for h, _ in columns]
    out.append("<tbody>")
    for r in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="{c}" data-label="{lab}">{v}</td>'
                for (_, c), lab, v in zip(columns, labels, r, strict=True)
            )
            + "</tr>"
        )
    out.append("</tbody>")
    if footer is not None:
        out.append(
            "<tfoot><tr>"
            + "".join(
                f'<td class="{c}" data-label="{lab}">{v}</td>'
                for (_, c), lab, v in zip(columns, labels, footer, strict=True)
            )
            + "</tr></tfoot>"
        )
    out.append("</table>")
    return "\n".join(out)


def yuan(v: Any) -> str:
    return "–" if v is None else "¥" + money(v)
