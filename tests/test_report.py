"""redcat report: one self-contained HTML page whose figures are attribute's and settle's."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from redcat_cli.cli import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "configs" / "contracts" / "example.yaml")
AS_OF = "2025-08-15"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


class Page(HTMLParser):
    """What a test needs from the page: tags with their attributes, and the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if not self._in_style:
            self.text.append(data)

    @property
    def plain(self) -> str:
        """The visible text, runs of white space as one space."""
        return re.sub(r"\s+", " ", " ".join(self.text))

    def by_key(self, key: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if a.get("data-key") == key]

    def value(self, key: str) -> str:
        (found,) = self.by_key(key)
        return found["data-value"]

    def attr(self, name: str, value: str) -> dict[str, str]:
        (found,) = [a for _, a in self.tags if a.get(name) == value]
        return found


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from redcat_cli.demo import example_files
    from redcat_cli.ingest.load import ingest

    path = tmp_path_factory.mktemp("store") / "s.duckdb"
    ingest(path, [str(p) for p in example_files()])
    return path


@pytest.fixture(scope="module")
def made(store, tmp_path_factory):
    """The demo report with the example contract, and its charts as PNG."""
    folder = tmp_path_factory.mktemp("report")
    out, pngs = folder / "report.html", folder / "charts"
    r = run(
        "report",
        "--store",
        str(store),
        "--contract",
        EXAMPLE,
        "--as-of",
        AS_OF,
        "--out",
        str(out),
        "--png",
        str(pngs),
    )
    return r, out, pngs


@pytest.fixture(scope="module")
def page(made) -> Page:
    return Page(made[1].read_text(encoding="utf-8"))


def attribute_result(store: Path, **kw):
    from redcat_cli.analysis.attribute import Request, attribute
    from redcat_cli.store.db import open_store

    with open_store(store, read_only=True) as s:
        return attribute(s.con, Request(**kw))


def grouped(v: Decimal) -> str:
    return f"{v:,.2f}"


# --- the file ------------------------------------------------------------------------------


def test_report_is_written_and_its_path_printed(made):
    r, out, _ = made
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"{out}\n"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(out.parent.glob(".*.tmp")), "no temporary file left behind"


def test_report_is_self_contained(made, page):
    html = made[1].read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "@import" not in html and "url(" not in html
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "data", "poster"):
            v = attrs.get(name, "")
            assert not re.match(r"\s*(https?:|//|ftp:|file:)", v, re.I), (tag, name, v[:80])
        if tag in ("link", "iframe", "object", "embed", "video", "audio", "source"):
            pytest.fail(f"<{tag}> would load something: {attrs}")


def test_every_image_is_an_inline_svg(page):
    imgs = [a for t, a in page.tags if t == "img"]
    assert [a["id"] for a in imgs] == [
        "chart-daily",
        "chart-roi_by_note",
        "chart-scatter",
        "chart-lag",
    ]
    for a in imgs:
        prefix = "data:image/svg+xml;base64,"
        assert a["src"].startswith(prefix)
        svg = base64.b64decode(a["src"][len(prefix) :]).decode("utf-8")
        assert "<svg" in svg and "</svg>" in svg
        assert 'xlink:href="http' not in svg and 'href="http' not in svg.replace(
            "http://www.w3.org", ""
        )
        assert a["alt"], "every chart says what it shows"


def test_report_is_deterministic(store, made, tmp_path):
    out = tmp_path / "again.html"
    r = run(
        "report", "--store", str(store), "--contract", EXAMPLE, "--as-of", AS_OF, "--out", str(out)
    )
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes() == made[1].read_bytes()


# --- its numbers are attribute's and settle's ------------------------------------------------


def test_headline_figures_are_attributes_totals(store, page):
    t = attribute_result(store).totals
    assert Decimal(page.value("spend")) == t["spend"].quantize(Decimal("0.01"))
    assert Decimal(page.value("gmv")) == t["gmv"].quantize(Decimal("0.01"))
    assert int(page.value("orders")) == t["orders"]
    assert float(page.value("roi")) == pytest.approx(float(t["gmv"] / t["spend"]), rel=1e-12)
    text = page.plain
    assert "¥" + grouped(t["spend"]) in text
    assert "¥" + grouped(t["gmv"]) in text
    assert f"{t['orders']:,}" in text
    assert f"{float(t['gmv'] / t['spend']):.2f}" in text


def test_headline_changes_compare_the_two_halves(store, page):
    from redcat_cli.queries.attribute import date_span
    from redcat_cli.store.db import open_store

    with open_store(store, read_only=True) as s:
        first, last = date_span(s.con)
    assert (first, last) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    base = attribute_result(store, date_from=first, date_to=dt.date(2025, 6, 15)).totals
    comp = attribute_result(store, date_from=dt.date(2025, 6, 16), date_to=last).totals
    text = page.plain
    for key in ("spend", "gmv"):
        pct = f"{(float(comp[key]) / float(base[key]) - 1) * 100:+.1f}%"
        assert f"{pct} {grouped(comp[key])} vs {grouped(base[key])}" in text
    pct = f"{(comp['orders'] / base['orders'] - 1) * 100:+.1f}%"
    assert f"{pct} {comp['orders']:,} vs {base['orders']:,}" in text
    roi_b, roi_c = base["gmv"] / base["spend"], comp["gmv"] / comp["spend"]
    pct = f"{(float(roi_c) / float(roi_b) - 1) * 100:+.1f}%"
    assert f"{pct} {float(roi_c):.2f} vs {float(roi_b):.2f}" in text
    assert "the two halves of the date range" in text


def test_correlation_in_the_scatter_title_is_attributes(store, page):
    res = attribute_result(store)
    pear = next(c for c in res.correlations if c["method"] == "pearson")
    alt = page.attr("id", "chart-scatter")["alt"]
    assert f"r = {pear['r']:.3f}" in alt
    assert f"n = {pear['n']} notes" in alt
    assert f"[{pear['ci_low']:.2f}, {pear['ci_high']:.2f}]" in alt


def test_lag_chart_marks_attributes_best_lag(store, page):
    res = attribute_result(store, by="day", max_lag=7)
    scan = res.lag_scan
    alt = page.attr("id", "chart-lag")["alt"]
    assert f"Best lag {scan['best_lag']} d: r = {scan['r']:.3f}, n = {scan['n']} days" in alt


def test_uplift_table_is_attributes_uplift(store, page):
    res = attribute_result(
        store,
        baseline=(dt.date(2025, 6, 1), dt.date(2025, 6, 15)),
        compare=(dt.date(2025, 6, 16), dt.date(2025, 6, 30)),
    )
    shown = {a["data-uplift"] for _, a in page.tags if "data-uplift" in a}
    assert shown == {m["metric"] for m in res.uplift["metrics"]}
    roi = next(m for m in res.uplift["metrics"] if m["metric"] == "roi")
    text = page.plain
    assert f"[{roi['ci_low'] * 100:+.1f}%, {roi['ci_high'] * 100:+.1f}%]" in text


def test_funnel_lists_every_note(store, page):
    res = attribute_result(store)
    text = page.plain
    for r in res.rows:
        assert r["note_id"] in text
        assert r["note_title"] in text
    assert f"all {res.n_rows} notes" in text


def test_statement_is_settles(store, page):
    r = run("settle", "--store", str(store), "--contract", EXAMPLE, "--as-of", AS_OF, "--json")
    assert r.exit_code == 0, r.stderr
    st = json.loads(r.stdout)
    assert page.value("roi_guarantee_payout") == st["totals"]["roi_guarantee_payout"]
    assert page.value("matched_investment") == st["totals"]["matched_investment"]
    assert page.value("net_ad_cost") == st["totals"]["net_ad_cost"]
    text = page.plain
    assert st["contract_id"] in text and st["merchant"] in text
    assert ("FINAL" if st["final"] else "PROVISIONAL") + " as of 2025-08-15" in text
    for c in st["cycles"]:
        assert c["matched_investment"]["working"] in text
        assert c["roi_guarantee"]["reason"] in text
    assert st["audit"]["contract_sha256"] in text


def test_how_it_was_made_lists_every_ingested_file(store, page):
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        files = con.execute("SELECT name, sha256 FROM ingest_log ORDER BY id").fetchall()
    finally:
        con.close()
    text = page.plain
    assert len(files) == 10  # the bundled examples: 10 files (three 种草星河 exports)
    for name, sha in files:
        assert name in text and sha in text
    from redcat_cli import __version__

    assert f"redcat {__version__}" in text or __version__ in text
    assert "种草星河 全部流量, 30-day window" in text


def test_png_writes_every_chart(made):
    _, _, pngs = made
    files = sorted(p.name for p in pngs.iterdir())
    assert files == ["daily.png", "lag.png", "roi_by_note.png", "scatter.png"]
    for p in pngs.iterdir():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 5000


# --- options -------------------------------------------------------------------------------


def test_given_baseline_and_compare(store, tmp_path):
    out = tmp_path / "r.html"
    r = run(
        "report",
        "--store",
        str(store),
        "--baseline",
        "2025-06-01..2025-06-10",
        "--compare",
        "2025-06-21..2025-06-30",
        "--out",
        str(out),
        "--as-of",
        AS_OF,
    )
    assert r.exit_code == 0, r.stderr
    page = Page(out.read_text(encoding="utf-8"))
    text = page.plain
    assert "2025-06-21..2025-06-30 against the baseline 2025-06-01..2025-06-10." in text
    assert "halves" not in text
    assert "Settlement" not in text, "no contract, no statement"
    base = attribute_result(
        store, date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 6, 10)
    ).totals
    comp = attribute_result(
        store, date_from=dt.date(2025, 6, 21), date_to=dt.date(2025, 6, 30)
    ).totals
    want = f"{(comp['orders'] / base['orders'] - 1) * 100:+.1f}% {comp['orders']:,} vs {base['orders']:,}"
    assert want in text


def test_from_to_filters_the_headline(store, tmp_path):
    out = tmp_path / "r.html"
    r = run(
        "report",
        "--store",
        str(store),
        "--from",
        "2025-06-10",
        "--to",
        "2025-06-19",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.stderr
    page = Page(out.read_text(encoding="utf-8"))
    t = attribute_result(store, date_from=dt.date(2025, 6, 10), date_to=dt.date(2025, 6, 19)).totals
    assert Decimal(page.value("gmv")) == t["gmv"].quantize(Decimal("0.01"))
    assert "2025-06-15..2025-06-19 against the baseline 2025-06-10..2025-06-14" in page.plain


def test_text_is_escaped(store):
    from redcat_cli.report.charts import figures
    from redcat_cli.report.gather import ReportRequest, gather
    from redcat_cli.report.page import render_html

    rep = gather(ReportRequest(store=str(store), as_of=dt.date(2025, 8, 15)))
    rep.by_note.rows[0]["note_title"] = '<img src=x onerror="alert(1)">&'
    rep.warnings.append("<b>bold</b>")
    html = render_html(rep, figures(rep))
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


# --- errors --------------------------------------------------------------------------------


def test_bad_contract_exits_1_and_writes_nothing(store, tmp_path):
    bad = tmp_path / "deal.yaml"
    bad.write_text(
        Path(EXAMPLE).read_text(encoding="utf-8").replace("min_spend:", "minimun_spend:"),
        encoding="utf-8",
    )
    out = tmp_path / "r.html"
    r = run("report", "--store", str(store), "--contract", str(bad), "--out", str(out))
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith(f"Error: contract {bad} is invalid")
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_missing_contract_exits_1(store, tmp_path):
    r = run(
        "report",
        "--store",
        str(store),
        "--contract",
        str(tmp_path / "none.yaml"),
        "--out",
        str(tmp_path / "r.html"),
    )
    assert r.exit_code == 1
    assert "does not exist" in r.stderr


def test_missing_store_exits_1(tmp_path):
    r = run("report", "--store", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.html"))
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("Error: no store at")


def test_baseline_without_compare_is_a_usage_error(store, tmp_path):
    r = run(
        "report",
        "--store",
        str(store),
        "--baseline",
        "2025-06-01..2025-06-10",
        "--out",
        str(tmp_path / "r.html"),
    )
    assert r.exit_code == 2
    assert "--baseline and --compare go together" in r.stderr


def test_help_has_examples_and_fits_80_columns():
    from rich.cells import cell_len

    r = CliRunner().invoke(cli, ["report", "--help"], terminal_width=80)
    assert r.exit_code == 0
    assert "redcat report --contract deal.yaml" in r.stdout
    # every line fits an 80-column terminal (CJK characters take two cells)
    assert max(cell_len(line) for line in r.stdout.splitlines()) <= 80


def test_same_data_in_another_order_gives_the_same_page(store):
    """The store returns notes in no fixed order; the page must not depend on it."""
    import random

    from redcat_cli.report.charts import figures
    from redcat_cli.report.gather import ReportRequest, gather
    from redcat_cli.report.page import render_html

    rep = gather(ReportRequest(store=str(store), as_of=dt.date(2025, 8, 15)))
    before = render_html(rep, figures(rep))
    xs, ys = rep.by_note.points
    order = list(range(len(xs)))
    random.Random(7).shuffle(order)
    assert order != sorted(order)
    rep.by_note.points = ([xs[i] for i in order], [ys[i] for i in order])
    assert render_html(rep, figures(rep)) == before


def test_a_store_without_outcomes_still_reports(tmp_path):
    """聚光 only: spend is known, GMV, ROI and orders are not (shown as –, never 0)."""
    from redcat_cli.demo import example_files
    from redcat_cli.ingest.load import ingest

    juguang = next(p for p in example_files() if p.name.startswith("聚光_笔记投放日报"))
    store = tmp_path / "j.duckdb"
    ingest(store, [str(juguang)])
    out = tmp_path / "r.html"
    r = run("report", "--store", str(store), "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 0, r.stderr
    page = Page(out.read_text(encoding="utf-8"))
    t = attribute_result(store).totals
    assert Decimal(page.value("spend")) == t["spend"].quantize(Decimal("0.01"))
    assert t["gmv"] is None and page.value("gmv") == "" and page.value("orders") == ""
    assert "The store holds no 种草星河 rows" in page.plain
    assert [a["id"] for t_, a in page.tags if t_ == "img"] == [
        "chart-daily",
        "chart-roi_by_note",
        "chart-scatter",
        "chart-lag",
    ]


def test_lift_section_is_lifts_result(store, tmp_path):
    """With the seeded products and the start, the page carries lift's verdict and figures;
    without them it has no lift section."""
    from redcat_cli.analysis import lift
    from redcat_cli.demo import EXAMPLE_SEEDED, EXAMPLE_START
    from redcat_cli.store.db import open_store

    out = tmp_path / "r.html"
    args = ["--treated", ",".join(EXAMPLE_SEEDED), "--start", EXAMPLE_START]
    r = run("report", "--store", str(store), "--as-of", AS_OF, "--out", str(out), *args)
    assert r.exit_code == 0, r.stderr
    pg = Page(out.read_text(encoding="utf-8"))
    with open_store(store, read_only=True) as s:
        doc = lift.lift(
            s.con,
            lift.Request(treated=EXAMPLE_SEEDED, start=dt.date.fromisoformat(EXAMPLE_START)),
        ).doc
    assert pg.attr("id", "lift")
    assert doc["verdict"] in pg.plain
    shown = pg.attr("data-lift", "effect")
    assert shown
    assert f"{doc['effect']['relative'] * 100:+.1f}%" in pg.plain
    assert 0 < doc["effect"]["relative_ci_low"]  # the bundled 生意参谋 has a +18% effect
    assert doc["effect"]["relative_ci_low"] <= 0.18 <= doc["effect"]["relative_ci_high"]
    plain = run(
        "report", "--store", str(store), "--as-of", AS_OF, "--out", str(tmp_path / "p.html")
    )
    assert plain.exit_code == 0
    assert 'id="lift"' not in (tmp_path / "p.html").read_text(encoding="utf-8")


def test_lift_section_needs_a_start(store, tmp_path):
    r = run(
        "report",
        "--store",
        str(store),
        "--treated",
        "718923450011",
        "--out",
        str(tmp_path / "x.html"),
    )
    assert r.exit_code == 2 and "--start" in r.stderr
