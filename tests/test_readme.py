"""The README's generated parts (command reference, included docs) are up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_not_stale() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build_readme.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def test_readme_quick_start_matches_ci() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in (
        'pip install . && (cd "$(mktemp -d)" && redcat demo)',
        'pip install ".[test]" && python -m pytest',
    ):
        assert command in readme and command in ci


def test_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "<!-- help:" not in readme, "the command reference lives in docs/commands.md"
    assert "redcat report" in readme and "docs/README.md" in readme


def test_every_command_is_in_the_reference_and_the_contents() -> None:
    from redcat_cli.cli import COMMANDS

    reference = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    contents = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"<!-- help: redcat {name} -->" in reference or (
            f"<!-- help: redcat {name} " in reference
        ), name
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    linked = set(re.findall(r"\]\(([a-z_-]+\.md)", contents))
    assert pages <= linked, f"not in the contents: {sorted(pages - linked)}"


def test_relative_links_resolve() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
