"""The report's sections: headline, funnel, correlation, uplift, lift, statements, how it was made."""

from __future__ import annotations

import base64
from typing import Any

from redcat_cli.analysis.attribute import slice_label
from redcat_cli.report.charts import Chart
from redcat_cli.report.gather import Report
from redcat_cli.report.text import (
    change,
    count,
    e,
    money,
    money_value,
    num,
    pearson,
    period_text,
    rate,
    signed_pct,
    table,
    yuan,
)


def headline(rep: Report) -> str:
    t = rep.by_note.totals
    up = rep.by_note.uplift
    figs = [
        ("spend", "Spend (聚光)", yuan(t["spend"]), money_value(t["spend"]), "spend"),
        ("gmv", "GMV (种草星河)", yuan(t["gmv"]), money_value(t["gmv"]), "gmv"),
        ("roi", "ROI", num(t["roi"]), "" if t["roi"] is None else repr(float(t["roi"])), "roi"),
        (
            "orders",
            "Orders (成交UV)",
            count(t["orders"]),
            "" if t["orders"] is None else str(t["orders"]),
            "orders",
        ),
    ]
    cells = []
    for key, label, text, value, upkey in figs:
        delta = ""
        b = c = None
        if up is not None and rep.periods is not None:
            b, c = up["baseline"].get(upkey), up["compare"].get(upkey)
        if b is not None and c is not None:
            ch = change(c, b)
            # colour means good or bad, not up or down: more GMV, ROI or orders is good; more
            # spend is neither by itself
            cls = (
                "" if ch is None or ch == 0 or upkey == "spend" else (" good" if ch > 0 else " bad")
            )
            fmt = (
                (lambda v: num(v))
                if upkey == "roi"
                else ((lambda v: count(v)) if upkey == "orders" else (lambda v: money(v)))
            )
            delta = (
                f'<div class="delta"><span class="{cls.strip()}" data-change="{e(key)}">'
                f"{e(signed_pct(ch))}</span> {e(fmt(c))} vs {e(fmt(b))}</div>"
            )
        cells.append(
            f'<div class="figure" data-key="{e(key)}" data-value="{e(value)}">'
            f'<div class="label">{e(label)}</div><div class="value">{e(text)}</div>{delta}</div>'
        )
    note = ""
    if rep.periods is not None:
        b, c = rep.periods
        which = "" if rep.periods_given else " (the two halves of the date range)"
        note = (
            f'<p class="small muted">Changes: {e(period_text(c))} against the baseline '
            f"{e(period_text(b))}{e(which)}.</p>"
        )
    verdicts = "".join(f"<li>{e(v)}</li>" for v in rep.by_note.findings)
    verdicts += "".join(f"<li>{e(v)}</li>" for v in settlement_verdicts(rep))
    if rep.lift is not None:  # the lift's verdict here; its table in the appendix
        verdicts += f"<li>{e(rep.lift['verdict'])} (lift: table in the appendix)</li>"
    found = f'<ul class="verdicts">{verdicts}</ul>' if verdicts else ""
    return f'<div class="figures">{"".join(cells)}</div>{note}{found}'


def settlement_verdicts(rep: Report) -> list[str]:
    """One sentence per statement: did the guarantee pay, and is it final."""
    out = []
    for st in rep.statements:
        t = st.totals
        hit = sum(1 for c in st.cycles if c.roi_guarantee is not None and c.roi_guarantee.triggered)
        state = "final" if st.final else "provisional: it may still change"
        if hit:
            out.append(
                f"{st.contract_id}: the ROI guarantee triggered in {hit} of {len(st.cycles)} "
                f"cycles, ¥{t.roi_guarantee_payout:,.2f} back ({state})."
            )
        else:
            out.append(
                f"{st.contract_id}: the ROI guarantee did not trigger in any of the "
                f"{len(st.cycles)} cycles ({state})."
            )
    return out


def funnel(rep: Report) -> str:
    res = rep.by_note
    cols = [
        ("#", "n"),
        ("note", "note"),
        ("spend", "n"),
        ("impres&shy;sions", "n"),
        ("CTR", "n"),
        ("inter&shy;actions", "n"),
        ("CPE", "n"),
        ("visits", "n"),
        ("orders", "n"),
        ("conv.", "n"),
        ("GMV", "n"),
        ("ROI", "n"),
    ]
    rows = []
    for i, r in enumerate(res.rows, 1):
        side = ""
        if not r["in_juguang"]:
            side = ' <span class="badge provisional">种草星河 only</span>'
        elif not r["in_xinghe"]:
            side = ' <span class="badge provisional">聚光 only</span>'
        title = e(r.get("note_title") or "")
        rows.append(
            [
                str(i),
                f'{title}{side}<br><span class="id">{e(r["note_id"])}</span>',
                e(money(r["spend"])),
                e(count(r["impressions"])),
                e(rate(r["ctr"])),
                e(count(r["interactions"])),
                e(money(r["cpe"])),
                e(count(r["visits"])),
                e(count(r["orders"])),
                e(rate(r["conversion_rate"])),
                e(money(r["gmv"])),
                e(num(r["roi"])),
            ]
        )
    t = res.totals
    footer = [
        "",
        f"all {res.n_rows} notes",
        e(money(t["spend"])),
        e(count(t["impressions"])),
        e(rate(t["ctr"])),
        e(count(t["interactions"])),
        e(money(t["cpe"])),
        e(count(t["visits"])),
        e(count(t["orders"])),
        e(rate(t["conversion_rate"])),
        e(money(t["gmv"])),
        e(num(t["roi"])),
    ]
    caption = (
        "Sorted by GMV. CTR = clicks / impressions; CPE = spend / interactions; conv. = orders / "
        "visits; ROI = GMV / spend. Every rate is a sum over a sum; – where the denominator is "
        f"zero or missing. Outcomes: {e(slice_label(res.flow_type, res.window_days))}."
    )
    return table(cols, rows, footer=footer, caption=caption, cls="funnel")


def img(chart: Chart) -> str:
    data = base64.b64encode(chart.svg).decode("ascii")
    return (
        f'<div class="chart"><img id="chart-{e(chart.name)}" src="data:image/svg+xml;base64,{data}" '
        f'alt="{e(chart.alt)}"></div>'
    )


def correlation_text(rep: Report) -> str:
    rows = []
    for c in rep.by_note.correlations:
        rows.append(
            [
                e(c["method"]),
                e(num(c["r"], 3)),
                e("–" if c["ci_low"] is None else f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}]"),
                e("–" if c["p_value"] is None else f"{c['p_value']:.2g}"),
                e(count(c["n"])),
            ]
        )
    cols = [("method", ""), ("r", "n"), ("95% CI", "n"), ("p", "n"), ("n notes", "n")]
    x, y = rep.by_note.request.x, rep.by_note.request.y
    caption = f"Correlation of {e(x)} with {e(y)} across notes."
    return table(cols, rows, caption=caption, cls="compact")


def lag_text(rep: Report) -> str:
    scan = rep.by_day.lag_scan
    if not scan or scan.get("best_lag") is None:
        return '<p class="muted">No lag scan: too few days with both engagement and orders.</p>'
    best = scan["best_lag"]
    pear = pearson(rep.by_day, best) or {}
    n_eff = pear.get("n_effective")
    return (
        f"<p>Orders follow engagement most closely at a lag of <b>{e(best)} day(s)</b> "
        f"(Pearson r = {e(num(scan['r'], 3))}, n = {e(scan['n'])} days, p = "
        f"{e(format(scan['p_adjusted'], '.2g'))} after Bonferroni over {e(scan['max_lag'] + 1)} lags). "
        f"Daily series are autocorrelated: the effective sample size is about "
        f"{e(num(n_eff, 1))} days, so read the intervals as optimistic.</p>"
    )


def uplift(rep: Report) -> str:
    up = rep.by_note.uplift
    if up is None or rep.periods is None:
        return '<p class="muted">No uplift: the data covers fewer than two days.</p>'
    b, c = up["baseline"], up["compare"]
    cols = [("", ""), ("baseline", "n"), ("compare", "n"), ("change", "n")]
    period_rows = [
        ["period", e(period_text(rep.periods[0])), e(period_text(rep.periods[1])), ""],
        [f"units ({e(up['resampled'])})", e(b["units"]), e(c["units"]), ""],
        [
            "spend",
            e(money(b["spend"])),
            e(money(c["spend"])),
            e(signed_pct(change(c["spend"], b["spend"]))),
        ],
        ["GMV", e(money(b["gmv"])), e(money(c["gmv"])), e(signed_pct(change(c["gmv"], b["gmv"])))],
        [
            "orders",
            e(count(b["orders"])),
            e(count(c["orders"])),
            e(signed_pct(change(c["orders"], b["orders"]))),
        ],
    ]
    first = table(cols, period_rows, cls="compact")
    labels = {
        "roi": "ROI (GMV / spend)",
        "ctr": "CTR (clicks / impressions)",
        "interaction_rate": "interaction rate (interact UV / read UV)",
        "visit_rate": "visit rate (visits / read UV)",
        "cart_rate": "cart rate (cart / visits)",
    }
    rows = []
    for m in up["metrics"]:
        is_roi = m["metric"] == "roi"
        fmt = (lambda v: num(v, 3)) if is_roi else (lambda v: rate(v))
        ci = (
            "–"
            if m["ci_low"] is None
            else f"[{signed_pct(m['ci_low'])}, {signed_pct(m['ci_high'])}]"
        )
        rows.append(
            [
                e(labels.get(m["metric"], m["metric"])),
                e(fmt(m["baseline"])),
                e(fmt(m["compare"])),
                f'<span data-uplift="{e(m["metric"])}">{e(signed_pct(m["uplift"]))}</span>',
                e(ci),
            ]
        )
    rp = up.get("repurchase")
    if rp:
        rows.append(
            [
                "repurchase rate (千牛 buyers with 2+ paid orders in the period)",
                e(rate(rp["baseline"])),
                e(rate(rp["compare"])),
                e(signed_pct(rp["uplift"])),
                "–",
            ]
        )
    cols2 = [("metric", ""), ("baseline", "n"), ("compare", "n"), ("uplift", "n"), ("95% CI", "n")]
    caption = (
        f"Uplift = compare / baseline − 1. Intervals: bootstrap over {e(up['resampled'])} "
        + ("(paired across the periods)" if up.get("paired") else "(in blocks of days)")
        + f", {e(up['bootstrap'])} resamples, seed {e(up['seed'])}, Student's t on the log scale."
    )
    which = (
        ""
        if rep.periods_given
        else '<p class="small muted">No baseline was given: the baseline is the first half of '
        "the date range and the compare period the second half.</p>"
    )
    return which + first + table(cols2, rows, caption=caption, cls="compact")


def lift_section(doc: dict[str, Any]) -> str:
    """What the seeding added: the verdict, then effect, placebo and naive in one table."""
    ef, pl = doc["effect"], doc["placebo"]

    def ci(lo: float, hi: float) -> str:
        return f"[{signed_pct(lo)}, {signed_pct(hi)}]"

    rows = [
        [
            "effect of the seeding",
            f'<span data-lift="effect">{e(signed_pct(ef["relative"]))}</span>',
            e(ci(ef["relative_ci_low"], ef["relative_ci_high"])),
            e(money(ef["incremental"])),
        ],
        [
            f"placebo (a fake start on {e(pl['start'])})",
            e(signed_pct(pl["relative"])),
            e(ci(pl["relative_ci_low"], pl["relative_ci_high"])),
            "–",
        ],
        ["naive before/after", e(signed_pct(doc["naive"]["relative"])), "–", "–"],
    ]
    cols = [("", ""), ("relative", "n"), ("95% CI", "n"), ("incremental sales", "n")]
    caption = (
        f"{len(doc['treated'])} seeded products against {doc['controls']} unseeded ones in "
        f"{doc['outcome']}, pre {doc['pre']['from']}..{doc['pre']['to']}, post "
        f"{doc['post']['from']}..{doc['post']['to']}: {doc['method']}. Day effects absorb what "
        "lifted every product (618); the placebo and the pre-trend test the parallel-trends "
        "assumption."
    )
    return f'<p class="verdict"><strong>{e(doc["verdict"])}</strong></p>' + table(
        cols, rows, caption=e(caption), cls="compact"
    )


def cycle_working(st: Any, c: Any) -> list[list[str]]:
    """One cycle's lines for the appendix: each amount beside how it was worked out."""
    lines: list[list[str]] = [
        ["spend (聚光 消费)", e(money(c.spend)), "sum over the cycle's days"],
        [
            e(f"GMV ({st.gmv_basis})" if st.gmv_basis else "GMV"),
            e(money(c.gmv)),
            "sum over the cycle's days" if c.gmv is not None else "no GMV reported",
        ],
        ["orders", e(count(c.orders)), ""],
        ["ROI", e(c.roi_text or "–"), "GMV / spend" if c.roi_text else "undefined"],
    ]
    g = c.roi_guarantee
    if g is not None:
        lines += [
            ["target ROI", e(g.target_roi or "–"), ""],
            ["guarantee eligible", "yes" if g.eligible else "no", ""],
            [
                "guarantee triggered",
                "–" if g.triggered is None else ("yes" if g.triggered else "no"),
                e(g.reason),
            ],
            ["guarantee before cap", e(money(g.amount_before_cap)), ""],
            [
                "guarantee payout",
                e(money(g.payout)),
                e((f"capped by {g.cap_applied}; " if g.cap_applied else "") + g.working),
            ],
        ]
    m = c.matched_investment
    if m is not None:
        lines.append(
            [
                "matched investment",
                e(money(m.amount)),
                e(f"{m.reason}: {m.working}" if m.working else m.reason),
            ]
        )
    lines.append(["net ad cost", e(money(c.net_ad_cost)), e(f"{c.spend} − {c.payout}")])
    return lines


def statement(st: Any) -> tuple[str, str]:
    """The statement's summary for the page, and its working for the appendix."""
    status = "final" if st.final else "provisional"
    first, last = st.cycles[0].start, st.cycles[-1].end
    head = (
        f'<h3 data-contract="{e(st.contract_id)}">{e(st.contract_id)} · {e(st.merchant)} · '
        f"{e(first)}..{e(last)} · {e(st.currency)} "
        f'<span class="badge {status}">{e(status.upper())} as of {e(st.as_of)}</span></h3>'
        f'<p class="small muted">{e(st.final_reason)}.</p>'
    )
    cols = [
        ("cycle", ""),
        ("spend", "n"),
        ("GMV", "n"),
        ("ROI", "n"),
        ("guarantee payout", "n"),
        ("matched investment", "n"),
        ("net ad cost", "n"),
    ]
    rows = [
        [
            e(f"{c.start}..{c.end}"),
            e(money(c.spend)),
            e(money(c.gmv)),
            e(c.roi_text or "–"),
            e(money(c.payout)),
            e(money(c.matched)),
            e(money(c.net_ad_cost)),
        ]
        for c in st.cycles
    ]
    t = st.totals
    footer = [
        "total",
        e(money(t.spend)),
        e(money(t.gmv)),
        "",
        f'<span data-key="roi_guarantee_payout" data-value="{e(money_value(t.roi_guarantee_payout))}">'
        f"{e(money(t.roi_guarantee_payout))}</span>",
        f'<span data-key="matched_investment" data-value="{e(money_value(t.matched_investment))}">'
        f"{e(money(t.matched_investment))}</span>",
        f'<span data-key="net_ad_cost" data-value="{e(money_value(t.net_ad_cost))}">'
        f"{e(money(t.net_ad_cost))}</span>",
    ]
    caption = (
        "Net ad cost = spend − guarantee payout; the matched investment is media the platform adds, "
        f"not netted. Rounding {e(st.rounding.replace('_', '-'))} to 0.01, once per line; totals "
        "are sums of the lines."
    )
    from redcat_cli.report.projection import projection_html, projection_line

    summary = head + table(cols, rows, footer=footer, caption=caption, cls="cycles")
    summary += projection_line(st)
    parts = [f"<h3>{e(st.contract_id)}: each cycle's working</h3>", projection_html(st)]
    for i, c in enumerate(st.cycles, 1):
        parts.append(f"<h4>Cycle {i} of {len(st.cycles)}: {e(c.start)}..{e(c.end)}</h4>")
        parts.append(
            table(
                [("line", ""), ("amount", "n"), ("working", "working")],
                cycle_working(st, c),
                cls="working",
            )
        )
    inputs = "".join(
        f'<li><span class="path">{e(x.path)}</span> <span class="id">sha256 {e(x.sha256)}</span></li>'
        for x in sorted(st.inputs, key=lambda x: (x.path, x.sha256))
    )
    parts.append(
        f'<p class="small muted">Contract sha256 <span class="id">{e(st.contract_sha256)}</span>; '
        f'settled by redcat {e(st.redcat_version)} from:</p><ul class="small">{inputs}</ul>'
    )
    return (
        '<section class="statement">' + summary + "</section>",
        '<section class="working">' + "\n".join(parts) + "</section>",
    )


def made(rep: Report) -> str:
    req = rep.request
    res = rep.by_note
    first, last = rep.span
    items = [
        ("redcat", e(rep.version)),
        ("store", f"<code>{e(req.store)}</code>"),
        ("as of", e(rep.as_of)),
        ("dates", e(f"{req.date_from or first or '–'}..{req.date_to or last or '–'}")),
        (
            "种草星河 slice",
            e(slice_label(res.flow_type, res.window_days)),
        ),
        (
            "uplift periods",
            e(
                f"baseline {period_text(rep.periods[0])}, compare {period_text(rep.periods[1])}"
                + ("" if rep.periods_given else " (halves of the date range)")
            )
            if rep.periods
            else "none",
        ),
        ("bootstrap", e(f"{req.n_boot} resamples over days, seed {req.seed}")),
        (
            "correlation",
            e(f"{res.request.x} against {res.request.y}; lag scan by day 0..{req.max_lag}"),
        ),
    ]
    for path, sha in rep.contract_files:
        items.append(
            ("contract", f'<code>{e(path)}</code> <span class="id">sha256 {e(sha)}</span>')
        )
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
    cols = [
        ("#", "n"),
        ("file", "path"),
        ("kind", ""),
        ("rows new", "n"),
        ("rows updated", "n"),
        ("sha256", "path"),
    ]
    rows = [
        [
            e(r["id"]),
            f'{e(r["name"])}<br><span class="id">{e(r["path"])}</span>',
            e(r["source"]),
            e(count(r["rows_loaded"])),
            e(count(r["rows_updated"])),
            f'<span class="id">{e(r["sha256"])}</span>',
        ]
        for r in rep.ingest_log
    ]
    log = table(cols, rows, caption="Every file ingested into the store, in order (ingest_log).")
    return f'<dl class="made">{dl}</dl>{log}'
