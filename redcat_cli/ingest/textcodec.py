"""Text encodings of exports: told from the bytes, decoded with the line of a bad byte."""

from __future__ import annotations

import codecs

from redcat_cli.errors import IngestError


def detect_encoding(data: bytes) -> str:
    """BOM → UTF-8 or UTF-16; UTF-16 without a BOM (every other byte zero); valid UTF-8 →
    UTF-8; otherwise GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    bare = _utf16_without_bom(data)
    if bare:
        return bare
    head = data[: 1 << 20]
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if len(head) == 1 << 20 and e.start >= len(head) - 4:  # a character cut at the boundary
            try:
                head[: e.start].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
        before = head[: e.start].decode("utf-8")
        if sum(1 for ch in before if ch >= "\u0800") >= 4:
            # Chinese text in valid UTF-8 before the bad byte (3-byte sequences: GBK text
            # hardly ever forms four of them): a UTF-8 file with a damaged line, not GB18030
            return "utf-8"
        return "gb18030"


def _utf16_without_bom(data: bytes) -> str | None:
    """Excel's "Unicode Text" and some tools write UTF-16 without a BOM: in text that is
    mostly ASCII or CJK punctuation, one byte of every pair is zero."""
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even = head[0::2].count(0) / len(head[0::2])
    odd = head[1::2].count(0) / len(head[1::2])
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _is_utf16(enc: str) -> bool:
    return enc.replace("_", "-").lower().startswith(("utf-16", "utf16"))


class DecodeFailure(IngestError):
    """Bytes that are not text in the encoding tried; says where (line and byte) and which."""


def _decode(data: bytes, encoding: str, name: str, *, first_line: int = 1) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        where = f"byte {e.start:,}"
        if not _is_utf16(encoding):  # a newline is the byte 0x0A in every other encoding read
            line = first_line + data.count(b"\n", 0, e.start)
            where = f"line {line:,} (byte {e.start:,})"
        raise DecodeFailure(
            f"{name}: {where} cannot be read as {_encoding_label(encoding)}",
            hint="give the right encoding with --encoding (utf-8, gb18030, utf-16); if only that "
            "line is damaged, fix or delete it",
        ) from None
    except LookupError:
        raise IngestError(
            f"unknown encoding {encoding!r}", hint="try utf-8, gb18030 or utf-16", code="usage"
        ) from None


def _streamable(enc: str) -> bool:
    """Encodings in which a byte 0x0A is always a line end (never part of a character)."""
    try:
        name = codecs.lookup(enc).name
    except LookupError:
        return False
    return name in ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii", "latin-1")


def _encoding_label(enc: str) -> str:
    return {"utf-8-sig": "utf-8-bom", "utf8": "utf-8"}.get(enc.lower(), enc.lower())
