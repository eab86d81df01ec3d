#!/usr/bin/env python3
"""Render a redcat HTML report in headless Chromium, save a PNG, and fail on what a reader
would see as broken.

    python bench/browser_check.py REPORT.html --png OUT.png [--width 1280] [--chromium PATH]

How it works: Chromium is started with ``--remote-debugging-pipe`` and driven over the
DevTools protocol (JSON messages separated by NUL bytes on file descriptors 3 and 4), with
the Python standard library only: no websocket client, no Selenium, no Playwright. The page
is opened from its file:// URL in a fresh profile; the report itself carries no script, so
the checks run from outside, in the page, through ``Runtime.evaluate``.

It fails (exit 1, one line per problem on stderr) when:
- the page logs a console error, throws an uncaught exception, or Chromium logs an error;
- a request fails, or anything is requested from outside the file (http, https, ws: a
  self-contained report fetches nothing);
- an <img> did not load (not complete, or naturalWidth 0), or an <svg> has zero size;
- the page is wider than the window (horizontal scroll), an element sticks out past the
  right edge, or a box's content is wider than the box (clipped, scrolled sideways or spilling
  over its border): layout errors;
- the page has no image at all (the report's charts are missing).

Exit 0 prints a summary: images, size, time. Exit 2: Chromium missing or did not answer.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
TIMEOUT = 60.0

# Runs inside the page after the load event; returns plain JSON.
CHECK_JS = r"""
(() => {
  const out = {images: [], svgs: [], overflow: [], clipped: []};
  const root = document.documentElement;
  const vw = root.clientWidth;
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList && el.classList.length) s += '.' + [...el.classList].join('.');
    const t = (el.textContent || '').trim().slice(0, 40);
    return t ? `${s} "${t}"` : s;
  };
  for (const img of document.images) {
    out.images.push({id: img.id || img.alt.slice(0, 40), complete: img.complete,
      naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      width: img.getBoundingClientRect().width, height: img.getBoundingClientRect().height});
  }
  for (const svg of document.querySelectorAll('svg')) {
    const r = svg.getBoundingClientRect();
    out.svgs.push({id: svg.id || '', width: r.width, height: r.height});
  }
  const clips = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox !== 'visible') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > vw + 1 && !clips(el)) out.overflow.push({el: name(el), right: Math.round(r.right)});
    // a box whose content is wider than the box: clipped, scrolled, or spilling over its
    // border (inline boxes have no clientWidth and are skipped)
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      out.clipped.push({el: name(el), scrollWidth: el.scrollWidth, clientWidth: el.clientWidth});
  }
  out.pageWidth = root.scrollWidth;
  out.viewportWidth = vw;
  out.pageHeight = Math.max(root.scrollHeight, document.body.scrollHeight);
  out.title = document.title;
  return out;
})()
"""


class CheckError(Exception):
    """Chromium could not be run or did not answer."""


class Chromium:
    """A headless Chromium driven over --remote-debugging-pipe."""

    def __init__(self, exe: str, width: int, height: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="redcat-chromium-")
        self._log = open(os.path.join(self.profile, "stderr.log"), "w+b")  # noqa: SIM115
        # our end writes to fd 3 of the child, reads from its fd 4
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child, before exec: our pipes become its fds 3 and 4
            import fcntl

            r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.close(r)
            os.close(w)

        args = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # a file, not a pipe: Chromium logs freely, and a full pipe nobody reads would
            # stop it
            stderr=self._log,
            preexec_fn=wire,
            pass_fds=(3, 4),  # kept open across exec (set up by wire)
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self._next_id:
                if "error" in m:
                    raise CheckError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method: str, deadline: float) -> dict[str, Any]:
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def _read(self, deadline: float | None = None) -> dict[str, Any]:
        import select

        deadline = deadline or time.monotonic() + TIMEOUT
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise CheckError(
                    "Chromium exited: " + (err.strip().splitlines() or ["no output"])[-1]
                )
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            os.write(
                self._to_child, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0"
            )
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def find_chromium(given: str | None) -> str | None:
    for c in (given,) if given else CHROMIUM_CANDIDATES:
        path = shutil.which(c) if c else None
        if path:
            return path
    return None


def problems_in(events: list[dict[str, Any]], page: dict[str, Any]) -> list[str]:
    """Everything that is wrong, one line each."""
    out: list[str] = []
    for m in events:
        method, p = m.get("method"), m.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", [])
            )
            out.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            out.append(f"uncaught exception: {desc}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            ent = p["entry"]
            out.append(
                f"browser error ({ent.get('source')}): {ent.get('text')} {ent.get('url', '')}".rstrip()
            )
        elif method == "Network.loadingFailed":
            out.append(f"request failed: {p.get('errorText')} ({p.get('type')})")
        elif method == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "about:")):
                out.append(f"external request (the report must be self-contained): {url[:120]}")
    if not page["images"] and not page["svgs"]:
        out.append("no images on the page: the charts are missing")
    for img in page["images"]:
        if not img["complete"] or img["naturalWidth"] == 0:
            out.append(f"image did not load: {img['id']}")
        elif img["width"] == 0 or img["height"] == 0:
            out.append(f"image has zero size on the page: {img['id']}")
    for svg in page["svgs"]:
        if svg["width"] == 0 or svg["height"] == 0:
            out.append(f"svg has zero size: {svg['id'] or '(no id)'}")
    if page["pageWidth"] > page["viewportWidth"] + 1:
        out.append(f"page is {page['pageWidth']} px wide in a {page['viewportWidth']} px window")
    for o in page["overflow"][:10]:
        out.append(f"element past the right edge ({o['right']} px): {o['el']}")
    for c in page["clipped"][:10]:
        out.append(
            f"content wider than its box ({c['scrollWidth']} > {c['clientWidth']} px): {c['el']}"
        )
    return out


def check(
    report: Path,
    png: Path | None,
    width: int = 1280,
    exe: str | None = None,
    media: str = "screen",
    pdf: Path | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Open ``report``; return (problems, page facts) and write the full-page screenshot."""
    path = find_chromium(exe)
    if path is None:
        raise CheckError("Chromium not found; install it: apt-get install -y chromium")
    height = 900
    browser = Chromium(path, width, height)
    try:
        deadline = time.monotonic() + TIMEOUT
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
        browser.events.clear()
        nav = browser.send("Page.navigate", {"url": report.resolve().as_uri()}, session=session)
        if nav.get("errorText"):
            raise CheckError(f"cannot open {report}: {nav['errorText']}")
        browser.wait_event("Page.loadEventFired", deadline)
        # images decode asynchronously: wait until every one has settled
        browser.send(
            "Runtime.evaluate",
            {
                "expression": "Promise.all([...document.images].map(i => i.decode().catch(() => null)))",
                "awaitPromise": True,
            },
            session=session,
        )
        got = browser.send(
            "Runtime.evaluate", {"expression": CHECK_JS, "returnByValue": True}, session=session
        )
        if "exceptionDetails" in got:
            raise CheckError(f"the check script failed: {got['exceptionDetails'].get('text')}")
        page = got["result"]["value"]
        # drain events that arrived meanwhile
        browser.send("Runtime.evaluate", {"expression": "1"}, session=session)
        if pdf is not None:
            # printed on A4 as the page's own @page rule says: every page, then the pages
            # before the appendix (the page without it)
            data = print_pdf(browser, session)
            pdf.parent.mkdir(parents=True, exist_ok=True)
            pdf.write_bytes(data)
            page["pdfPages"] = pdf_pages(data)
            browser.send(
                "Runtime.evaluate",
                {
                    "expression": "for (const s of ['#appendix', '#appendix-toggle', "
                    "'label.appendix']) document.querySelector(s)?.remove()"
                },
                session=session,
            )
            page["summaryPages"] = pdf_pages(print_pdf(browser, session))
        if png is not None:
            full = int(page["pageHeight"])
            browser.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": full, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            shot = browser.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True, "fromSurface": True},
                session=session,
            )
            png.parent.mkdir(parents=True, exist_ok=True)
            png.write_bytes(base64.b64decode(shot["data"]))
        events = list(browser.events)
    finally:
        browser.close()
    return problems_in(events, page), page


def print_pdf(browser: Any, session: str) -> bytes:
    browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
    got = browser.send(
        "Page.printToPDF",
        {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False},
        session=session,
    )
    return base64.b64decode(got["data"])


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF Chromium wrote: its page objects (not the /Pages tree nodes)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", type=Path, help="the HTML file to check")
    ap.add_argument("--png", type=Path, default=None, help="write a full-page screenshot here")
    ap.add_argument("--width", type=int, default=1280, help="window width in CSS pixels [1280]")
    ap.add_argument(
        "--media",
        choices=("screen", "print"),
        default="screen",
        help="CSS media to emulate [screen]; print with --width 718 is an A4 page",
    )
    ap.add_argument("--chromium", default=None, help="Chromium executable [/usr/bin/chromium]")
    ap.add_argument(
        "--pdf",
        type=Path,
        default=None,
        help="also print the page to this PDF (A4) and count its pages, and those before the "
        "appendix",
    )
    ap.add_argument(
        "--max-summary-pages",
        type=int,
        default=None,
        metavar="N",
        help="with --pdf: fail when the pages before the appendix are more than N",
    )
    ap.add_argument(
        "--text-page",
        action="store_true",
        help="a page of text (a terminal capture): no images expected",
    )
    args = ap.parse_args(argv)
    if not args.report.is_file():
        print(f"browser check: no such file: {args.report}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        problems, page = check(
            args.report, args.png, args.width, args.chromium, args.media, args.pdf
        )
    except CheckError as err:
        print(f"browser check: {err}", file=sys.stderr)
        return 2
    took = time.monotonic() - started
    if args.text_page:
        problems = [p for p in problems if not p.startswith("no images on the page")]
    if args.pdf is not None and args.max_summary_pages is not None:
        if page["summaryPages"] > args.max_summary_pages:
            problems.append(
                f"printed, the pages before the appendix are {page['summaryPages']} "
                f"(at most {args.max_summary_pages})"
            )
    if problems:
        print(f"browser check FAILED: {args.report}: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    n_img = sum(1 for i in page["images"] if i["naturalWidth"] > 0)
    shot = f"; screenshot {args.png}" if args.png else ""
    if args.pdf is not None:
        shot += (
            f"; {args.pdf}: {page['pdfPages']} A4 pages, {page['summaryPages']} before the appendix"
        )
    print(
        f"browser check ok: {args.report}: {n_img} images loaded, {len(page['svgs'])} inline svg, "
        f"page {page['pageWidth']}x{page['pageHeight']} px at width {args.width} ({args.media}), "
        f"no console errors, no failed or external requests, no overflow; {took:.1f} s{shot}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
