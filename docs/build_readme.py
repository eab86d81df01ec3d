"""Regenerate the generated parts of the README and of the manual under docs/: the command
reference (from --help) and included pages.

    python docs/build_readme.py          # rewrite README.md and docs/*.md in place
    python docs/build_readme.py --check  # exit 1 if one is stale (the tests run this)

Blocks look like:
    <!-- help: redcat ingest -->  …  <!-- end help -->
    <!-- include: docs/settle.md -->  …  <!-- end include -->
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HELP = re.compile(r"(<!-- help: (?P<cmd>[^>]+?) -->\n)(?P<body>.*?)(<!-- end help -->)", re.S)
INCLUDE = re.compile(
    r"(<!-- include: (?P<path>[^>]+?) -->\n)(?P<body>.*?)(<!-- end include -->)", re.S
)


def pages() -> list[Path]:
    """Every page that may hold generated blocks."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def help_text(command: str) -> str:
    from click.testing import CliRunner

    sys.path.insert(0, str(ROOT))
    from redcat_cli.cli import cli

    args = command.split()[1:] + ["--help"]
    res = CliRunner(env={"NO_COLOR": "1"}).invoke(cli, args, terminal_width=100, prog_name="redcat")
    if res.exit_code != 0:
        raise SystemExit(f"{command} --help failed: {res.output}")
    return res.output.rstrip() + "\n"


def render(text: str) -> str:
    text = HELP.sub(
        lambda m: (
            f"{m.group(1)}```text\n$ {m['cmd']} --help\n{help_text(m['cmd'])}```\n{m.group(4)}"
        ),
        text,
    )
    text = INCLUDE.sub(
        lambda m: (
            f"{m.group(1)}{(ROOT / m['path']).read_text(encoding='utf-8').rstrip()}\n{m.group(4)}"
        ),
        text,
    )
    return text


def main() -> int:
    stale = []
    for page in pages():
        current = page.read_text(encoding="utf-8")
        fresh = render(current)
        if fresh == current:
            continue
        if "--check" in sys.argv:
            stale.append(str(page.relative_to(ROOT)))
        else:
            page.write_text(fresh, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}: run python docs/build_readme.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
