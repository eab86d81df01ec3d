"""pyproject.toml declares exactly what the code imports: no dependency nothing imports, no
import nothing declares. The package's imports (lazy ones inside functions included) against
the runtime dependencies and the `spark` extra; the tests' and benchmarks' against those plus
the `test` extra."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# the project's own modules, imported by name from their folders (tests/, bench/, …)
LOCAL = {"redcat_cli", "tests"} | {
    p.stem for d in ("tests", "bench", "docs", "examples") for p in (ROOT / d).glob("*.py")
}


def requirement_names(reqs: list[str]) -> set[str]:
    return {canonical(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in reqs}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(folders: list[str]) -> dict[str, set[str]]:
    """Top-level module name -> files importing it, for every import statement anywhere."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif (  # pytest.importorskip("name") imports too
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", None) == "importorskip"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    names = [node.args[0].value]
                for n in names:
                    top = n.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in LOCAL:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Distribution name -> files whose imports it provides."""
    by_module = packages_distributions()
    out: dict[str, set[str]] = {}
    for module, files in modules.items():
        dists = by_module.get(module)
        if not dists:
            pytest.fail(f"{module} (imported by {sorted(files)}) is not installed from any package")
        for d in dists:
            out.setdefault(canonical(d), set()).update(files)
    return out


RUNTIME = requirement_names(PYPROJECT["project"]["dependencies"])
EXTRAS = PYPROJECT["project"]["optional-dependencies"]


def test_the_package_imports_exactly_its_declared_dependencies() -> None:
    declared = RUNTIME | requirement_names(EXTRAS["spark"])
    used = distributions(imported_modules(["redcat_cli"]))
    undeclared = {d: sorted(f) for d, f in used.items() if d not in declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    unused = declared - set(used)
    assert not unused, f"declared in pyproject.toml but imported nowhere in redcat_cli: {unused}"


def test_the_tests_and_benchmarks_import_only_what_is_declared() -> None:
    declared = RUNTIME | requirement_names(EXTRAS["spark"]) | requirement_names(EXTRAS["test"])
    used = distributions(imported_modules(["tests", "bench", "docs", "examples"]))
    undeclared = {d: sorted(f) for d, f in used.items() if d not in declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    unused = requirement_names(EXTRAS["test"]) - set(used)
    assert not unused, f"declared in the test extra but imported by no test: {unused}"
