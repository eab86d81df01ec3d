"""The merchant dimension: whose data a row is.

Every row of the store belongs to one merchant (a shop name such as ``某某美妆旗舰店``); the
merchant leads every natural key, so two merchants' identical notes or dates never collide.
A store written before merchants existed holds one merchant, ``default``.

Reading commands work on one merchant at a time: the one the store holds, or the one named
with ``--merchant`` (required when the store holds several). A contract's ``merchant:``
selects that merchant's rows.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from redcat_cli.errors import UsageError
from redcat_cli.ingest.kinds import load_kinds
from redcat_cli.store.db import DEFAULT_MERCHANT, quote

MAX_NAME = 200


def check_name(name: str, *, option: str = "--merchant") -> str:
    """A merchant name as given, trimmed; empty names and control characters are refused."""
    text = str(name).strip()
    if not text:
        raise UsageError(f"{option}: the merchant name is empty", hint="give the shop name")
    if len(text) > MAX_NAME:
        raise UsageError(f"{option}: the merchant name is longer than {MAX_NAME} characters")
    bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    if bad:
        raise UsageError(
            f"{option}: the merchant name {text!r} holds a control character ({bad[0]!r})",
            hint="give the shop name as printed",
        )
    return text


def store_merchants(con: Any) -> list[str]:
    """The merchants whose rows the store holds (current facts), sorted."""
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'merchant'"
        ).fetchall()
    }
    parts = [
        f"SELECT DISTINCT merchant FROM {quote(k.table)}"
        for k in load_kinds().values()
        if k.table in tables
    ]
    if not parts:
        return []
    rows = con.execute(" UNION ".join(parts)).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def listing(names: list[str]) -> str:
    shown = ", ".join(names[:20])
    return shown + (f", … ({len(names)} in all)" if len(names) > 20 else "")


def for_ingest(con: Any, requested: str | None) -> str:
    """The merchant an ingest writes: the one named, else the one the store holds, else
    ``default``. A store holding several needs the name."""
    if requested is not None:
        return check_name(requested)
    held = store_merchants(con)
    if not held:
        return DEFAULT_MERCHANT
    if len(held) == 1:
        return held[0]
    raise UsageError(
        f"the store holds {len(held)} merchants ({listing(held)}): say whose files these are",
        hint="redcat ingest --merchant NAME FILE…",
    )


def for_reading(con: Any, requested: str | None, held: list[str] | None = None) -> str | None:
    """The merchant a reading command reads: the one named (it must be in the store), else
    the one the store holds. ``None`` for an empty store (the command says what is missing).
    ``held``: the store's merchants, when the caller has them already."""
    held = store_merchants(con) if held is None else held
    if requested is not None:
        name = check_name(requested)
        if held and name not in held:
            raise UsageError(
                f"--merchant {name}: the store holds no rows of that merchant "
                f"(it holds: {listing(held)})",
                hint="`redcat status` lists the merchants",
            )
        return name
    if len(held) <= 1:
        return held[0] if held else None
    raise UsageError(
        f"the store holds {len(held)} merchants ({listing(held)}): say which with --merchant",
        hint=f"e.g. --merchant {held[0]}",
    )


def for_contract(
    con: Any, contract_merchant: str, requested: str | None, held: list[str] | None = None
) -> str | None:
    """The merchant a contract is settled on: ``--merchant`` if given, else the contract's
    ``merchant:``. A store holding only ``default`` (written without ``--merchant``) is read
    for any contract, as before merchants existed."""
    held = store_merchants(con) if held is None else held
    if requested is not None:
        return for_reading(con, requested, held)
    if contract_merchant in held:
        return contract_merchant
    if held == [DEFAULT_MERCHANT] or not held:
        return held[0] if held else None
    raise UsageError(
        f"the contract's merchant {contract_merchant!r} is not in the store "
        f"(it holds: {listing(held)})",
        hint="ingest its exports with --merchant, or settle with --merchant NAME",
    )
