"""`redcat sources`: the export kinds redcat recognises."""

from __future__ import annotations

from typing import Any

import click

from redcat_cli.cli.options import format_options, resolve_format


@click.command()
@click.argument("kind", required=False)
@format_options
def sources(kind: str | None, fmt: str, as_json: bool) -> None:
    """List the export kinds, their recognised headers and required fields.

    With KIND, list that kind's fields one per line.

    \b
    Examples:
      redcat sources
      redcat sources xinghe
    """
    from redcat_cli.cli.render import Table, emit_csv, emit_json, emit_jsonl, emit_tables
    from redcat_cli.ingest.kinds import get_kind, load_kinds

    fmt = resolve_format(fmt, as_json)
    kinds = [get_kind(kind)] if kind else list(load_kinds().values())
    data = [kind_doc(k) for k in kinds]
    if fmt == "json":
        emit_json({"sources": data})
    elif fmt == "jsonl":
        emit_jsonl(data)
    elif kind:
        k = data[0]
        rows = [
            [f["field"], f["type"], " | ".join(f["headers"]), f["required"], f["field"] in k["key"]]
            for f in k["fields"]
        ]
        if fmt == "csv":
            emit_csv(["field", "type", "headers", "required", "key"], rows)
        else:
            emit_tables(
                [
                    Table(
                        f"{k['source']}: {k['title']}",
                        ["field", "type", "headers", "required", "key"],
                        rows,
                        caption=k["description"],
                    )
                ]
            )
    else:
        rows = [
            [
                k["source"],
                k["title"],
                ", ".join(_label(k, r) for r in k["required"]),
                ", ".join(k["key"]),
                len(k["fields"]),
            ]
            for k in data
        ]
        if fmt == "csv":
            emit_csv(["source", "title", "required", "key", "fields"], rows)
        else:
            emit_tables(
                [
                    Table(
                        "Export kinds (redcat sources KIND for one kind's headers)",
                        ["source", "title", "required headers", "key", "fields"],
                        rows,
                    )
                ]
            )


def _label(k: dict[str, Any], name: str) -> str:
    by = {f["field"]: f["headers"][0] if f["headers"] else f["field"] for f in k["fields"]}
    return " or ".join(by.get(p, p) for p in name.split(" or "))


def kind_doc(k: Any) -> dict[str, Any]:
    """One export kind as data: its key, required headers and every field's header aliases."""
    return {
        "source": k.name,
        "title": k.title,
        "description": k.description,
        "key": list(k.key),
        "required": k.required + [" or ".join(g) for g in k.required_any],
        "fields": [
            {"field": f.name, "type": f.type, "headers": list(f.aliases), "required": f.required}
            for f in k.fields.values()
        ],
        "recognised_not_stored": list(k.recognised),
    }
