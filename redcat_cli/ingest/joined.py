"""Many small inputs of one header, parsed as one text: a folder of a day's exports, or a
zip of thousands of members, costs about what one file of the same rows costs.

An input joins the group of the input read before it when nothing about reading it can
differ: the same bytes up to the end of its header (title rows, header and byte order mark
alike), the same encoding as it would be detected alone, the same delimiter, and a size that
the reader would take in one batch. The bodies (the lines after the header) are parsed in one
pyarrow pass; each input still gets its own lines, footer, counts, SHA-256 and export date.
Where the joined text is not one clean row per line (a quote left open, a ragged row, a byte
outside the encoding), nothing is decided from it: every input of the group is read alone,
as it would have been without this module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from redcat_cli.ingest.csvsplit import _line_offset, _parse_piece, _sniff_delimiter
from redcat_cli.ingest.prepare import _footer_like, _mark_footer, _Part, _Text
from redcat_cli.ingest.reader import PIECE, RawTable, Source
from redcat_cli.ingest.textcodec import detect_encoding
from redcat_cli.ingest.values import decide_date_order

JOIN_MAX_BYTES = 4 << 20  # an input larger than this is read on its own (it gains nothing)
JOIN_GROUP_BYTES = PIECE  # the bodies parsed in one pass


def _encoding_of(head: bytes, encoding: str | None) -> str:
    """The encoding the reader would parse these bytes with (see reader._as_parsed)."""
    enc = encoding or detect_encoding(head)
    if enc.replace("_", "-").lower() in ("utf-8", "utf8") and head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    return enc


@dataclass
class _Member:
    src: Source
    path: str  # the command-line argument it came from
    data: bytes
    body_rows: int  # lines after the header (each a row, if the joined parse is clean)


@dataclass
class Template:
    """How an input read alone was parsed: its reading, and the bytes up to its data."""

    raw: RawTable
    enc: str
    delimiter: str
    preamble: bytes


@dataclass
class Group:
    """Inputs waiting to be parsed as one text, all read like ``template``."""

    template: Template
    members: list[_Member] = field(default_factory=list)
    size: int = 0

    def full(self) -> bool:
        return self.size >= JOIN_GROUP_BYTES


def template_of(raw: RawTable, src: Source) -> Template | None:
    """The reading of an input read alone in one batch, for the inputs after it to join;
    None for one that was not (xlsx, UTF-16, CR line ends, large, or read exactly)."""
    if raw.parsing is None or src.size > JOIN_MAX_BYTES:
        return None
    enc, delimiter, start = raw.parsing
    return Template(raw, enc, delimiter, src.head(start))


def joins(template: Template | None, src: Source, path: str, encoding: str | None) -> Any:
    """The member ``src`` makes in ``template``'s group, or None when it must be read alone."""
    if template is None or src.size > JOIN_MAX_BYTES:
        return None
    pre = template.preamble
    if src.head(len(pre)) != pre:
        return None
    data = src.read_all()
    if data[: len(pre)] != pre or _encoding_of(data[: 1 << 20], encoding) != template.enc:
        return None
    five = _line_offset(data, 5) or len(data)
    sniff = data[:five].decode(template.enc, errors="replace")
    if _sniff_delimiter(sniff) != template.delimiter:
        return None
    body_rows = data.count(b"\n", len(pre)) + (0 if data.endswith(b"\n") else 1)
    if len(data) == len(pre):
        body_rows = 0
    return _Member(src, path, data, body_rows)


@dataclass
class Parsed:
    """A group's bodies parsed as one table: each member's rows are ``starts[i]:starts[i+1]``."""

    group: Group
    table: Any
    starts: list[int]
    flags: tuple[Any, Any, Any, Any]  # _footer_like of the whole table
    raws: list[RawTable]  # each member's reading (its name, size, SHA-256)
    orders: dict[int, str | None] | None  # see _group_orders

    def part(self, i: int) -> _Part:
        """Member ``i``'s rows as the reader would give them for it alone: one final batch."""
        import numpy as np

        a, b = self.starts[i], self.starts[i + 1]
        first = self.group.template.raw.header_line + 1
        return _Part(
            self.table.slice(a, b - a),
            np.arange(first, first + b - a, dtype=np.int64),
            [],
            self.raws[i].size,
            True,
            tuple(f[a:b] for f in self.flags),
        )


def parse_group(group: Group, date_order: str | None) -> Parsed | None:
    """The group's bodies parsed in one pass; None when the joined text is not one clean row
    per line (then each member is read alone)."""
    import numpy as np

    tpl = group.template
    raw0 = tpl.raw
    pre = len(tpl.preamble)
    bodies = []
    for m in group.members:
        body = m.data[pre:]
        bodies.append(body if not body or body.endswith(b"\n") else body + b"\n")
    joined = b"".join(bodies)
    del bodies
    table = _parse_piece(joined, 0, tpl.enc, len(raw0.header), tpl.delimiter)
    if table is None:
        return None
    starts = np.concatenate([[0], np.cumsum([m.body_rows for m in group.members])]).tolist()
    if starts[-1] != table.num_rows:  # (the parse checks one row per line already)
        return None
    raws = [
        RawTable(
            m.src.name,
            raw0.encoding,
            raw0.match,
            raw0.header,
            raw0.header_line,
            iter(()),
            len(m.data),
            _sha=hashlib.sha256(m.data).hexdigest(),
            exact=False,
        )
        for m in group.members
    ]
    flags = _footer_like(raw0.kind, raw0.match, table)
    return Parsed(group, table, starts, flags, raws, _group_orders(raw0, table, date_order))


def member_texts(
    parsed: Parsed, date_order: str | None, fixed: dict[str, Any], first_id: int
) -> list[_Text]:
    """Each member's rows to be typed, as :func:`redcat_cli.ingest.prepare._select` picks
    them from a file read alone (blank rows, total rows and its footer set aside), for all
    members in one pass. Only for a group whose dates need no member's own rows
    (``parsed.orders``); member ``i`` gets the ingest id ``first_id + i``."""
    import numpy as np

    assert parsed.orders is not None
    raw0 = parsed.group.template.raw
    kind, match = raw0.kind, raw0.match
    _, keep, first_only, total = parsed.flags
    skipped = total.copy()
    starts = parsed.starts
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        _mark_footer(kind, match, (keep, first_only, skipped), a, b)
    skipped &= keep
    active = keep & ~skipped
    active_idx = np.flatnonzero(active)
    sub_all = parsed.table.filter(active) if len(active_idx) != len(active) else parsed.table
    # per member: where its rows start among the active ones, rows kept and skipped
    at = np.searchsorted(active_idx, starts).tolist()
    kept = np.concatenate([[0], np.cumsum(keep)])[starts].tolist()
    skips = np.concatenate([[0], np.cumsum(skipped)])[starts].tolist()
    member = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    lines = active_idx - np.asarray(starts)[member[active_idx]] + raw0.header_line + 1
    col_orders = {ci: parsed.orders.get(ci, date_order) for ci in match.columns}
    out = []
    for i, raw in enumerate(parsed.raws):
        out.append(
            _Text(
                raw,
                sub_all.slice(at[i], at[i + 1] - at[i]),
                lines[at[i] : at[i + 1]],
                kept[i + 1] - kept[i],
                skips[i + 1] - skips[i],
                [],
                col_orders,
                fixed,
                raw.size,
                True,
                first_id + i,
            )
        )
    return out


def _group_orders(
    raw: RawTable, table: Any, date_order: str | None
) -> dict[int, str | None] | None:
    """Each date column's day/month order for every member at once: the option's, or none
    needed when no value of the whole group is an a/b/yyyy date. None: each member decides
    for itself (from its own rows, as when read alone)."""
    kind = raw.kind
    dated = [
        ci for ci, f in raw.match.columns.items() if kind.fields[f].type in ("date", "datetime")
    ]
    if date_order is not None:
        return dict.fromkeys(dated, date_order)
    for ci in dated:
        try:
            if decide_date_order(table.column(ci)) is not None:
                return None
        except ValueError:
            return None
    return dict.fromkeys(dated, None)
