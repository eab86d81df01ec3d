"""JSON Schemas (draft 2020-12) of redcat's JSON outputs and of its error object.

    redcat schema            # the names
    redcat schema settle     # one schema on stdout

A schema requires the documented fields and their types; outputs may carry fields a schema
does not list yet (adding a field does not change ``schema_version``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def names() -> list[str]:
    folder = resources.files(__name__)
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def load(name: str) -> dict[str, Any]:
    """The schema called ``name`` (ingest, status, attribute, settle, error, …)."""
    from redcat_cli.errors import UsageError

    if name not in names():
        raise UsageError(f"no schema called {name!r}", hint=f"one of: {', '.join(names())}")
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)
