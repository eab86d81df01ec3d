"""The report's projection of a provisional statement: payout now beside the projected final
with its 80% interval, and the maturity curve it used (see ``redcat_cli.settle.projection``)."""

from __future__ import annotations

from typing import Any


def projection_line(st: Any) -> str:
    """One sentence for the page's summary: the projected final payout and its interval (the
    tables are in the appendix, with the working)."""
    from redcat_cli.report.text import e, money

    if st.final:
        return ""
    p = st.projected_totals
    if p is None:
        return f'<p class="small muted projection-note">{e(st.projection_note or "")}.</p>'
    return (
        '<p class="small projection">Projected final payout once every window has closed: '
        f'<span data-key="projected_payout" data-value="{e(p["roi_guarantee_payout"])}">'
        f"¥{e(money(p['roi_guarantee_payout']))}</span> (80% interval "
        f"¥{e(money(p['roi_guarantee_payout_low']))} – ¥{e(money(p['roi_guarantee_payout_high']))}; "
        f"payout now ¥{e(money(st.totals.roi_guarantee_payout))}). Per cycle, with the maturity "
        "curve it used: in the appendix.</p>"
    )


def projection_html(st: Any) -> str:
    """HTML for one statement: nothing when final, the note when there is no projection."""
    from redcat_cli.report.text import e, money, table

    if st.final or st.projected_totals is None:
        return ""

    def span(p: dict[str, Any], key: str) -> str:
        return f"{e(money(p[key + '_low']))} – {e(money(p[key + '_high']))}"

    cols = [
        ("cycle", ""),
        ("GMV now", "n"),
        ("GMV final", "n"),
        ("80% interval", "n"),
        ("payout now", "n"),
        ("payout final", "n"),
        ("80% interval", "n"),
    ]
    rows = []
    for c, p in zip(st.cycles, st.projected_cycles, strict=True):
        rows.append(
            [
                e(f"{c.start}..{c.end}"),
                e(money(c.gmv)),
                e(money(p["gmv"])),
                span(p, "gmv"),
                e(money(c.payout)),
                e(money(p["roi_guarantee_payout"])),
                span(p, "roi_guarantee_payout"),
            ]
        )
    t = st.projected_totals
    footer = [
        "total",
        e(money(st.totals.gmv)),
        e(money(t["gmv"])),
        span(t, "gmv"),
        e(money(st.totals.roi_guarantee_payout)),
        e(money(t["roi_guarantee_payout"])),
        span(t, "roi_guarantee_payout"),
    ]
    out = [
        "<h4>Projected final payout</h4>",
        table(
            cols,
            rows,
            footer=footer,
            caption=e(f"{t['method']}; low GMV gives the high payout."),
            cls="projection",
        ),
    ]
    curve = st.curve
    if curve is not None and curve.points:
        crow = [
            [
                e(p.age),
                e(f"{p.share:.1%}"),
                e(f"{p.low:.1%} – {p.high:.1%}"),
                e(f"{p.keys:,}"),
            ]
            for p in curve.points
        ]
        out.append(
            table(
                [("age (days)", "n"), ("share of final", "n"), ("10th–90th", "n"), ("keys", "n")],
                crow,
                caption=e(
                    f"The maturity curve: how much of a day's final {curve.window}-day GMV an "
                    f"export made that many days later held, learned from {curve.keys:,} keys "
                    "of this store seen both before and after their window closed."
                ),
                cls="curve",
            )
        )
    return "\n".join(out)
