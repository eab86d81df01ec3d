"""The one-page HTML report: attribution and settlement of a campaign, in one file.

``gather.gather`` reads the store (and the contracts, if any) into a ``Report`` of plain data;
``charts.figures`` draws its charts with matplotlib; ``render_html`` here lays the sections
(``sections``) out as one self-contained HTML page: no CDN, no web fonts, no scripts, every
chart inline as an SVG data URI. Text (Chinese note titles included) is HTML text, so it
renders with the reader's fonts.

The page is deterministic: the same store, contracts and request give the same bytes. The
only date on it is the as-of date passed in; the bootstrap of the uplift is seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from redcat_cli.errors import UsageError
from redcat_cli.report.charts import Chart, figures
from redcat_cli.report.gather import Report
from redcat_cli.report.sections import (
    correlation_text,
    funnel,
    headline,
    img,
    lag_text,
    lift_section,
    made,
    statement,
    uplift,
)
from redcat_cli.report.text import e

CSS = """
:root { --ink: #1a202c; --muted: #5a6577; --line: #d9dee6; --band: #f5f7fa; --accent: #2b6cb0;
  --bad: #c53030; --good: #2f855a; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p, li { max-width: 80ch; }
.sub { color: var(--muted); margin: 0 0 16px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
code, .id { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
.id { word-break: break-all; color: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; margin: 16px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; background: var(--band); }
.figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.figure .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; margin: 2px 0; }
.figure .delta { font-size: 12px; color: var(--muted); }
.good { color: var(--good); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
ul.verdicts { margin: 8px 0 12px; padding-left: 20px; }
ul.verdicts li { margin: 2px 0; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
#appendix-toggle { position: absolute; opacity: 0; width: 1px; height: 1px; }
label.appendix { display: inline-block; margin: 24px 0 8px; padding: 6px 12px; cursor: pointer;
  border: 1px solid var(--line); border-radius: 6px; background: var(--band); font-weight: 600; }
label.appendix::before { content: "▸ "; }
#appendix-toggle:checked + label.appendix::before { content: "▾ "; }
#appendix-toggle:not(:checked) ~ .appendix-body { display: none; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 12.5px; }
table.compact { width: auto; min-width: 60%; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 12px; padding-top: 6px; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
thead th { border-bottom: 2px solid var(--ink); font-weight: 600; }
tfoot td { border-top: 2px solid var(--ink); border-bottom: none; font-weight: 600; }
tbody tr:nth-child(even) { background: var(--band); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
td.note { min-width: 12em; }
td.working { color: var(--muted); overflow-wrap: anywhere; }
table.working { table-layout: fixed; }
table.working th:nth-child(1) { width: 30%; }
table.working th:nth-child(2) { width: 8.5em; }
td.path { overflow-wrap: anywhere; }
.chart { margin: 12px 0 4px; text-align: center; break-inside: avoid; }
.chart img { max-width: 100%; height: auto; display: inline-block; }
.chart p { margin: 4px auto 0; color: var(--muted); font-size: 12px; text-align: left; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.final { background: #e6f4ea; color: var(--good); }
.badge.provisional { background: #fdecea; color: var(--bad); }
ul.warnings li { color: var(--muted); font-size: 13px; }
dl.made { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 16px; font-size: 13px; }
dl.made dt { color: var(--muted); }
dl.made dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 960px) {
  main { padding: 20px 12px 36px; }
  table { font-size: 11px; }
  th, td { padding: 3px 3px; }
  td.note { min-width: 7em; }
  .id { font-size: 10px; }
  .figure .value { font-size: 20px; }
}
@media (max-width: 760px) { .figures { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media (max-width: 600px) {
  /* a phone: every table becomes a list of cards, a label before each value */
  table, tbody, tfoot, tr, td, caption { display: block; width: 100%; }
  table.compact { min-width: 0; }
  thead { display: none; }
  tr { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 12px;
    padding: 6px 0; border-bottom: 1px solid var(--line); }
  tbody tr:nth-child(even) { background: none; }
  td, tfoot td { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 6px;
    border: none; padding: 1px 0; min-width: 0; text-align: right; white-space: normal; }
  td.n { white-space: normal; }
  tfoot tr { border-top: 2px solid var(--ink); }
  td::before { content: attr(data-label); color: var(--muted); text-align: left; }
  td.note, td.path, td.working, td.wide { grid-column: 1 / -1; display: block; text-align: left; }
  td.note::before, td.path::before, td.working::before, td.wide::before { display: block; }
  td:empty { display: none; }
  table.working { table-layout: auto; }
  .figure .value { font-size: 18px; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  h2 { margin: 14px 0 6px; }
  .pair { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .chart img { max-height: 80mm; width: auto; }
  .pair .chart img { max-height: 62mm; }
  label.appendix, #appendix-toggle { display: none; }
  .appendix-body { display: block !important; break-before: page; }
  .statement table.cycles, ul.verdicts { break-inside: avoid; }
  h2, h3 { break-after: avoid-page; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  table { font-size: 9px; }
  th, td { padding: 2px 3px; }
  td.note { min-width: 7em; }
  .id { font-size: 8px; }
  tr, .figure, .chart { break-inside: avoid; }
  .figures { grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; }
  .figure { padding: 8px 10px; }
  .figure .value { font-size: 17px; }
}
"""


def appendix(rep: Report, workings: Sequence[str]) -> list[str]:
    """Collapsed on screen (no script: a checkbox and CSS), after a page break in print."""
    unmatched = rep.by_note.unmatched
    parts = [
        '<input type="checkbox" id="appendix-toggle">',
        '<label class="appendix" for="appendix-toggle">Appendix: the funnel by note, '
        + ("the lift, " if rep.lift is not None else "")
        + "each cycle's working, how it was made</label>",
        '<div class="appendix-body" id="appendix">',
        "<h2>Appendix</h2>",
        '<section id="funnel"><h2>Funnel by note</h2>',
        funnel(rep),
        f'<p class="small muted">{e(unmatched["matched"])} notes are in both 聚光 and 种草星河; '
        f"{e(unmatched['juguang_only']['count'])} only in 聚光, "
        f"{e(unmatched['xinghe_only']['count'])} only in 种草星河.</p>",
        "</section>",
    ]
    if rep.lift is not None:
        parts += [
            '<section id="lift"><h2>What the seeding added (against unseeded products)</h2>',
            lift_section(rep.lift),
            "</section>",
        ]
    if workings:
        parts.append('<section id="working"><h2>Settlement working</h2>')
        parts.extend(workings)
        parts.append("</section>")
    parts += ['<section id="made"><h2>How it was made</h2>', made(rep), "</section>", "</div>"]
    return parts


def render_html(rep: Report, charts: Sequence[Chart]) -> str:
    """The page. Every piece of text is escaped; nothing is fetched when it is opened."""
    by_name = {c.name: c for c in charts}
    first, last = rep.span
    title = "redcat campaign report"
    period = f"{first}..{last}" if first and last else "no dates"
    merchant = ", ".join(sorted({st.merchant for st in rep.statements}))
    sub = " · ".join(x for x in (merchant, period, f"as of {rep.as_of}") if x)
    warn = "".join(f"<li>{e(w)}</li>" for w in rep.warnings)
    res = rep.by_note
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="redcat {e(rep.version)}">',
        f"<title>{e(title)} · {e(period)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{e(title)}</h1>",
        f'<p class="sub">{e(sub)}</p>',
        '<section id="headline"><h2>Headline</h2>',
        headline(rep),
        img(by_name["daily"]),
        "</section>",
        '<section id="roi"><h2>ROI by note</h2>',
        img(by_name["roi_by_note"]),
        "</section>",
        '<section id="engagement"><h2>Engagement and orders</h2>',
        f"<p>Each point is a note: its {e(res.request.x)} in 聚光 against its {e(res.request.y)} on "
        f"Taobao as 种草星河 attributes them; the line is the least-squares fit. The bars on the "
        f"right: how well orders follow engagement one day, two days … later.</p>",
        '<div class="pair">',
        img(by_name["scatter"]),
        img(by_name["lag"]),
        "</div>",
        correlation_text(rep),
        lag_text(rep),
        "</section>",
        '<section id="uplift"><h2>Uplift between periods</h2>',
        uplift(rep),
        "</section>",
    ]
    statements = [statement(st) for st in rep.statements]
    if statements:
        parts.append('<section id="settlement"><h2>Settlement</h2>')
        parts.extend(summary for summary, _ in statements)
        parts.append("</section>")
    if warn:
        parts.append(
            f'<section id="warnings"><h2>Read with care</h2><ul class="warnings">{warn}</ul></section>'
        )
    parts += appendix(rep, [working for _, working in statements])
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def write_report(rep: Report, out: str | Path, png_dir: str | Path | None = None) -> list[Path]:
    """Write the page (and the charts as PNG files), atomically; return the paths written."""
    from redcat_cli.files import atomic_write_bytes, atomic_write_text

    charts = figures(rep)
    written = [atomic_write_text(out, render_html(rep, charts))]
    if png_dir is not None:
        folder = Path(png_dir)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--png {folder} is a file, not a folder", hint="give a folder name")
        for c in charts:
            written.append(atomic_write_bytes(folder / f"{c.name}.png", c.png))
    return written
