"""``redcat schema``: the JSON Schemas of redcat's JSON outputs."""

from __future__ import annotations

import click


@click.command("schema")
@click.argument("name", required=False, metavar="[NAME]")
def schema(name: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a JSON output: ingest, status, attribute,
    settle, error (the object on stderr when a command run with --json fails), or contract
    (the settlement contract's YAML). Without NAME, list them.

    Every JSON output carries "schema_version"; it changes only when a field is removed,
    renamed or changes meaning. New fields may appear without a change.

    \b
    Examples:
      redcat schema
      redcat schema settle > settle.schema.json
    """
    import json

    from redcat_cli import schemas

    if name is None:
        for n in [*schemas.names(), "contract"]:
            title = "settlement contract (YAML)" if n == "contract" else schemas.load(n)["title"]
            click.echo(f"{n:<10} {title}")
        return
    if name == "contract":
        from redcat_cli.settle.contract import json_schema

        doc = json_schema()
    else:
        doc = schemas.load(name)
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
