"""The house by pipeline stage (docs/development.md): the library below cli/ never imports
the command line (click, rich, redcat_cli.cli), not even lazily inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "redcat_cli"
STAGES = ("ingest", "store", "queries", "engines", "analysis", "settle", "report")


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def library_modules() -> list[Path]:
    return [
        p
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0] != "cli" and p.name != "__main__.py"
    ]


def test_every_stage_is_a_package() -> None:
    for stage in (*STAGES, "cli"):
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    # beside the stages only what every stage shares
    assert loose == ["__init__.py", "__main__.py", "cells.py", "demo.py", "errors.py",
                     "files.py", "resources.py"]  # fmt: skip


def test_the_library_never_imports_the_command_line() -> None:
    offenders = {}
    for p in library_modules():
        bad = {m for m in imports(p) if m.split(".")[0] in ("click", "rich")}
        bad |= {m for m in imports(p) if m == "redcat_cli.cli" or m.startswith("redcat_cli.cli.")}
        if bad:
            offenders[str(p.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}
    assert len(library_modules()) > 30  # the walk found the package


def test_modules_and_functions_stay_readable() -> None:
    """No module over 600 lines, no function over 80 (docs/development.md)."""
    big, long = {}, {}
    for p in PACKAGE.rglob("*.py"):
        src = p.read_text(encoding="utf-8")
        name = str(p.relative_to(PACKAGE))
        if src.count("\n") > 600:
            big[name] = src.count("\n")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 80:
                    long[f"{name}:{node.name}"] = n
    assert big == {}
    assert long == {}
