"""Where the bundled configs and examples are: inside the installed package, or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    installed = _PKG / name  # a wheel carries configs/ and examples/ inside the package
    if installed.is_dir():
        return installed
    checkout = _PKG.parent / name  # a source checkout or an editable install
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"redcat's bundled {name}/ folder is missing; reinstall redcat")


def configs_dir() -> Path:
    return _find("configs")


def sources_dir() -> Path:
    return configs_dir() / "sources"


def examples_dir() -> Path:
    return _find("examples")
