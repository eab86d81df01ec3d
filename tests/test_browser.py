"""The report in a real browser: bench/browser_check.py on a fresh report, and on pages broken
on purpose (so that the check is known to fail when it should). Needs /usr/bin/chromium."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from redcat_cli.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "bench" / "browser_check.py"
CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE = str(ROOT / "configs" / "contracts" / "example.yaml")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Chromium: apt-get install -y chromium"
)


def check(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(page), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    from redcat_cli.demo import example_files
    from redcat_cli.ingest.load import ingest

    folder = tmp_path_factory.mktemp("browser")
    store = folder / "s.duckdb"
    ingest(store, [str(p) for p in example_files()])
    out = folder / "report.html"
    r = CliRunner().invoke(
        cli,
        [
            "report",
            "--store",
            str(store),
            "--contract",
            EXAMPLE,
            "--as-of",
            "2025-08-15",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.stderr
    return out


def test_report_passes_the_browser_check(report, tmp_path):
    png = tmp_path / "shot.png"
    r = check(report, "--png", str(png))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"browser check ok: {report}: 4 images loaded")
    assert r.stderr == ""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 3000, (width, height)


def test_report_passes_at_a_narrow_width(report):
    r = check(report, "--width", "760")
    assert r.returncode == 0, r.stderr


def test_report_passes_printed_on_a4(report):
    # A4 less 12 mm margins is 186 mm: about 703 CSS px; 718 leaves no slack to hide behind
    r = check(report, "--width", "703", "--media", "print")
    assert r.returncode == 0, r.stderr
    assert "(print)" in r.stdout


def test_report_passes_on_a_phone(report):
    # 390 CSS px: an iPhone 12-15 held upright; every table turns into cards
    r = check(report, "--width", "390")
    assert r.returncode == 0, r.stderr


def test_printed_summary_is_at_most_three_a4_pages(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    r = check(report, "--pdf", str(pdf), "--max-summary-pages", "3")
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) A4 pages, (\d+) before the appendix", r.stdout)
    assert m, r.stdout
    total, summary = int(m[1]), int(m[2])
    assert 1 <= summary <= 3 and total > summary  # the appendix starts on a page of its own
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_page_count_is_checked(tmp_path):
    """The page limit fails when it should: six forced page breaks are six pages."""
    body = "".join('<p style="break-after: page">page</p>' for _ in range(6)) + (
        '<img src="' + SVG + '">'
    )
    r = check(page(tmp_path, body), "--pdf", str(tmp_path / "p.pdf"), "--max-summary-pages", "3")
    assert r.returncode == 1 and "the pages before the appendix are" in r.stderr


def page(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "page.html"
    p.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head>'
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return p


SVG = (
    "data:image/svg+xml;base64,"
    "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxMCIgaGVpZ2h0PSIxMCIvPg=="
)


def test_a_clean_page_passes(tmp_path):
    r = check(page(tmp_path, f'<p>ok 中文</p><img src="{SVG}" alt="x">'))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<img src="missing.png" alt="gone">', "image did not load: gone"),
        ('<img src="missing.png" alt="gone">', "request failed"),
        (f'<img src="{SVG}"><script>console.error("boom")</script>', "console error: boom"),
        (
            f'<img src="{SVG}"><script>throw new Error("bang")</script>',
            "uncaught exception: Error: bang",
        ),
        (f'<img src="{SVG}"><div style="width:3000px">wide</div>', "page is 3"),
        (f'<img src="{SVG}"><div style="width:3000px">wide</div>', "element past the right edge"),
        (
            f'<img src="{SVG}"><div style="width:200px;overflow:auto"><p style="width:900px">x</p></div>',
            "content wider than its box (900 > 200 px)",
        ),
        (
            f'<img src="{SVG}"><div style="width:100px;font-size:40px;white-space:nowrap">¥141,289.97</div>',
            "content wider than its box",
        ),
        ('<img src="http://127.0.0.1:9/x.png" alt="far">', "external request"),
        (
            '<svg width="0" height="0" id="empty"></svg><img src="' + SVG + '">',
            "svg has zero size: empty",
        ),
        ("<p>no charts</p>", "no images on the page"),
    ],
)
def test_a_broken_page_fails(tmp_path, body, message):
    r = check(page(tmp_path, body))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.startswith("browser check FAILED")
    assert message in r.stderr, r.stderr


def test_missing_file_is_a_usage_error(tmp_path):
    r = check(tmp_path / "none.html")
    assert r.returncode == 2
    assert "no such file" in r.stderr
