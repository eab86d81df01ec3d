"""docs/terminal.png: what `redcat attribute` and `redcat settle` show in an 80-column terminal.

Runs both commands on the demo campaign (a fresh store from the bundled exports, the bundled
contract, ``--as-of 2025-08-15``) with ``COLUMNS=80 FORCE_COLOR=1``, turns their ANSI output
into HTML with rich (``Text.from_ansi``, ``export_html``) in WenQuanYi Micro Hei Mono with each
CJK character in a two-cell box, and captures the page with bench/browser_check.py (which also
checks nothing overflows). Needs Chromium and fonts-wqy-microhei (see docs/development.md).

    python bench/terminal_shot.py                 # writes docs/terminal.png
    python bench/terminal_shot.py --out shot.png --keep DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2025-08-15"

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<style>
body {{ margin: 0; background: #1e1e1e; }}
pre {{ margin: 0; padding: 16px; color: #e5e5e5; background: #1e1e1e; font-size: 14px;
  line-height: 1.3; font-family: "WenQuanYi Micro Hei Mono", monospace; }}
.cjk {{ display: inline-block; width: 2ch; text-align: center; }}
</style></head>
<body><pre><code>{code}</code></pre></body></html>
"""


def run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "COLUMNS": "80", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    res = subprocess.run(
        [sys.executable, "-m", "redcat_cli", *args], cwd=cwd, env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    shown = " ".join(a if not a.startswith(str(cwd)) else Path(a).name for a in args)
    return f"$ redcat {shown}\n" + res.stderr + res.stdout


def cjk_boxes(html: str) -> str:
    """Each wide character in a box two cells wide, so columns line up in any CJK font."""
    import unicodedata

    out = []
    in_tag = False
    for ch in html:
        if ch == "<":
            in_tag = True
        elif ch == ">":
            in_tag = False
        if not in_tag and unicodedata.east_asian_width(ch) in ("W", "F"):
            out.append(f'<span class="cjk">{ch}</span>')
        else:
            out.append(ch)
    return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "terminal.png"))
    ap.add_argument("--keep", default=None, help="work in DIR and keep it")
    a = ap.parse_args()
    from rich.console import Console
    from rich.text import Text

    from redcat_cli.demo import example_contract, example_files

    work = Path(a.keep or tempfile.mkdtemp(prefix="redcat-shot-"))
    work.mkdir(parents=True, exist_ok=True)
    store = str(work / "redcat.duckdb")
    subprocess.run(
        [sys.executable, "-m", "redcat_cli", "ingest", "-q", "--store", store,
         *map(str, example_files())],
        check=True, capture_output=True,
    )  # fmt: skip
    ansi = run(["attribute", "--store", store, "--top", "8"], work) + "\n"
    contract = work / "contract.yaml"
    contract.write_bytes(example_contract().read_bytes())
    ansi += run(["settle", "--store", store, "--contract", str(contract),
                 "--as-of", AS_OF], work)  # fmt: skip
    console = Console(record=True, width=80, force_terminal=True, file=open(os.devnull, "w"))
    console.print(Text.from_ansi(ansi))  # long lines wrap at 80 columns, as a terminal does
    html = console.export_html(code_format="{code}", inline_styles=True)
    page = work / "terminal.html"
    page.write_text(PAGE.format(code=cjk_boxes(html)), encoding="utf-8")
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "browser_check.py"), str(page), "--width", "760",
         "--png", a.out, "--text-page"],
        check=True,
    )  # fmt: skip
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
