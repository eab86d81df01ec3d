"""``redcat contract``: check a settlement contract, or print its JSON Schema."""

from __future__ import annotations

import click

from redcat_cli.cli.render import terminal_safe


@click.group("contract")
def contract() -> None:
    """Check settlement contracts, or print the contract's JSON Schema.

    \b
    Examples:
      redcat contract check deal.yaml
      redcat contract check deal.yaml --store redcat.duckdb   # also against the data
      redcat contract schema > contract.schema.json
    """


@contract.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Also check that the store holds the contract's GMV window and flow type.",
)
def check(files: tuple[str, ...], store: str | None) -> None:
    """Validate contract FILES: every problem, with its line, in one run.

    Exit 0 and one "ok" line per contract when all are valid; exit 1 listing every problem
    otherwise.

    \b
    Examples:
      redcat contract check deal.yaml
      redcat contract check configs/contracts/*.yaml --store redcat.duckdb
    """
    from redcat_cli.errors import ContractError
    from redcat_cli.settle.contract import load_contract

    problems: list[str] = []
    loaded = []
    invalid = 0
    for f in files:
        try:
            loaded.append(load_contract(f))
        except ContractError as e:
            invalid += 1
            problems.extend(e.problems or [e.message])
    if store is not None and loaded:
        from redcat_cli.cli.settle import open_read_only
        from redcat_cli.queries.settle import contract_problems

        with open_read_only(store) as con:
            for c in loaded:
                found, _ = contract_problems(con, [c])
                if found:
                    invalid += 1
                    problems.extend(found)
    if problems:
        n = len(problems)
        what = (
            f"contract {files[0]} is invalid"
            if len(files) == 1
            else f"{invalid} of {len(files)} contracts are invalid"
        )
        raise ContractError(f"{what} ({n} problem{'s' if n != 1 else ''})", problems=problems)
    for c in loaded:
        click.echo(terminal_safe(f"ok {c.path}: {c.summary()}"))


@contract.command("schema")
def schema() -> None:
    """Print the contract's JSON Schema (draft 2020-12), generated from the contract model.

    Money and rates are quoted decimal strings; the schema's patterns say so, but only
    `redcat contract check` reports problems with their line numbers, and checks what JSON
    Schema cannot say (dates in order, tier bands without gaps, each source's windows).
    """
    import json

    from redcat_cli.settle.contract import json_schema

    click.echo(json.dumps(json_schema(), ensure_ascii=False, indent=2))
