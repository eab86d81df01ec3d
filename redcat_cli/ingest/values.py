"""Cell values of real exports: missing markers, numbers with 万 and %, dates in every form.

Two layers:
- scalar parsers (``parse_int``, ``parse_money``, ``parse_date`` …): one value of text in, a
  value out or ``ValueError`` with a reason. They are the definition of what redcat accepts.
- ``parse_column``: a whole column at once. Values in the common canonical form go through
  vectorised Arrow casts; the rest (few distinct values, as a rule) go through the scalar
  parsers once per distinct value. Both paths give the same values (tested).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from redcat_cli.ingest.bytescan import ends_clean, grouped_ints, holds_any, longer_than, maybe_dmy

# Markers that mean "no value" in real exports. Never zero.
MISSING = frozenset(
    [
        "",
        "-",
        "—",
        "--",
        "——",
        "－",
        "–",
        "_",
        "暂无",
        "数据较少",
        "nan",
        "NaN",
        "NAN",
        "None",
        "无退款申请",
        "/",
    ]
)

MONEY_SCALE = 4  # DECIMAL(18,4)
MONEY_MAX = Decimal(10) ** 14

_NUM = re.compile(
    r"^(?P<sign>[-+])?(?P<num>\d+(?:\.\d*)?|\.\d+)(?P<mult>万|w|W|亿|千|k|K)?(?P<plus>\+)?$"
)
_PCT = re.compile(r"^(?P<sign>[-+])?(?P<num>\d+(?:\.\d*)?|\.\d+)%$")
_MULT = {
    "万": 10_000,
    "w": 10_000,
    "W": 10_000,
    "亿": 100_000_000,
    "千": 1_000,
    "k": 1_000,
    "K": 1_000,
}
_SCI = re.compile(r"^[-+]?\d+\.\d+[eE][-+]?\d+$")
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.S)


def _clean_number(text: str) -> str:
    t = text.strip()
    for ch in (",", "，", " ", "\u00a0", "¥", "￥", "元", "'"):
        t = t.replace(ch, "")
    return t


def _decimal_of(text: str, what: str) -> tuple[Decimal, bool]:
    """A Decimal from `1,234.5`, `1.2万`, `¥3.1w`, `10万+`; the flag says "lower bound (+)"."""
    t = _clean_number(text)
    m = _NUM.match(t)
    if not m:
        if _PCT.match(t):
            raise ValueError(f"cannot read {text!r} as {what}: it is a percentage")
        raise ValueError(f"cannot read {text!r} as {what}")
    try:
        value = Decimal(m["num"])
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        raise ValueError(f"cannot read {text!r} as {what}") from None
    if m["mult"]:
        value *= _MULT[m["mult"]]
    if m["sign"] == "-":
        value = -value
    return value, bool(m["plus"])


def parse_int(text: str) -> tuple[int, bool]:
    """`1,234` → 1234, `12.0` → 12, `1.2万` → 12000, `10万+` → (100000, lower bound)."""
    value, plus = _decimal_of(text, "a whole number")
    if value != value.to_integral_value():
        raise ValueError(f"cannot read {text!r} as a whole number")
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"{text!r} is too large for a count")
    return int(value), plus


def parse_money(text: str) -> Decimal:
    """Exact money: `¥1,234.50`, `12.3元`, `1.2万` → Decimal. Never through float."""
    value, plus = _decimal_of(text, "an amount of money")
    if plus:
        raise ValueError(f"{text!r} is a lower bound, not an amount of money")
    if abs(value) >= MONEY_MAX:
        raise ValueError(f"{text!r} is too large for an amount of money")
    scale = Decimal(1).scaleb(-MONEY_SCALE)
    if value != value.quantize(scale):  # exact: 1.23450 is fine, 1.23456 is not
        raise ValueError(f"{text!r} has more than {MONEY_SCALE} decimal places")
    return value.quantize(scale)


def parse_rate(text: str) -> float:
    """`13.83%` → 0.1383; a bare number is taken as a fraction already (`0.2109`)."""
    t = _clean_number(text)
    m = _PCT.match(t)
    if m:
        value = Decimal(m["num"]) / 100
        return float(-value if m["sign"] == "-" else value)
    m = _NUM.match(t)
    if not m or m["mult"] or m["plus"]:
        raise ValueError(f"cannot read {text!r} as a rate")
    value = Decimal(m["num"])
    return float(-value if m["sign"] == "-" else value)


def parse_number(text: str) -> float:
    value, plus = _decimal_of(text, "a number")
    if plus:
        raise ValueError(f"{text!r} is a lower bound")
    if abs(value) >= Decimal("1e300"):  # a float would be inf, or as good as
        raise ValueError(f"{text!r} is too large for a number")
    return float(value)


_DAYS = re.compile(r"^(?:近|最近)?(\d{1,3})\s*(?:天|日|d|days?)?$", re.I)


def parse_days(text: str) -> int:
    """An attribution window: `30`, `30天`, `30日`, `近7天` → days."""
    m = _DAYS.match(text.strip())
    if not m:
        raise ValueError(f"cannot read {text!r} as a number of days")
    return int(m.group(1))


def parse_id(text: str) -> str:
    """IDs are text: `="1930679858170647"` and a leading `'` unwrapped; never type-inferred.

    An id in scientific notation (`1.93068E+15`) is refused: its real digits are gone.
    """
    t = text.strip()
    m = _EXCEL_TEXT.match(t)
    if m:
        t = m.group(1).strip()
    if t.startswith("'"):
        t = t[1:].strip()
    if _SCI.match(t):
        raise ValueError(
            f"{text!r} is in scientific notation: the real digits were lost (the file went "
            "through Excel); export it again and give redcat the original"
        )
    if not t:
        raise ValueError("empty id")
    if '"' in t or t.startswith("="):
        raise ValueError(_STRAY_QUOTE.format(text=text))
    return t


_STRAY_QUOTE = "{text!r} has a stray quote or '=': not an id as exported; export the file again"


# --- dates -----------------------------------------------------------------------------

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_YMD = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$"
)
_YMD_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CN = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日"
    r"(?:\s*(\d{1,2})(?:时|:)(\d{1,2})(?:分|:)?(?:(\d{1,2})秒?)?)?$"
)
_DMY = re.compile(
    r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_RANGE = re.compile(r"^\S+\s*[~～至]\s*\S+$")


def dmy_parts(text: str) -> tuple[int, int] | None:
    """The two leading numbers of a `19/05/2025`-style date, for deciding day/month order."""
    m = _DMY.match(text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def parse_datetime(text: str, date_order: str | None = None) -> dt.datetime:
    """Every date form of the exports: ISO, `2025/6/1`, `20250601`, `2025年6月1日`, with times,
    Excel serials (45809 = 2025-06-01), and `19/05/2025` given the file's day/month order."""
    t = text.strip()
    m = _YMD.match(t)
    if m:
        return _build(
            m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7), text
        )
    m = _YMD_COMPACT.match(t)
    if m:
        return _build(m.group(1), m.group(2), m.group(3), None, None, None, None, text)
    m = _CN.match(t)
    if m:
        return _build(
            m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), None, text
        )
    m = _DMY.match(t)
    if m:
        a, b = m.group(1), m.group(2)
        if date_order == "dmy":
            day, month = a, b
        elif date_order == "mdy":
            month, day = a, b
        else:
            raise ValueError(f"{text!r}: day/month order unknown; give --date-order dmy or mdy")
        return _build(m.group(3), month, day, m.group(4), m.group(5), m.group(6), None, text)
    if _SERIAL.match(t):
        serial = float(t)
        if not 1 <= serial < 2958466:
            raise ValueError(f"cannot read {text!r} as a date")
        return EXCEL_EPOCH + dt.timedelta(days=serial)
    if _RANGE.match(t):
        raise ValueError(f"{text!r} is a date range; export the report by day")
    raise ValueError(f"cannot read {text!r} as a date")


def _build(
    y: str, mo: str, d: str, h: str | None, mi: str | None, s: str | None, us: str | None, text: str
) -> dt.datetime:
    try:
        return dt.datetime(
            int(y),
            int(mo),
            int(d),
            int(h or 0),
            int(mi or 0),
            int(s or 0),
            int((us or "0").ljust(6, "0")),
        )
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


def parse_date(text: str, date_order: str | None = None) -> dt.date:
    return parse_datetime(text, date_order).date()


# --- whole columns -------------------------------------------------------------------------


@dataclass
class ColumnResult:
    values: Any  # pyarrow Array of the field's type; null where missing or invalid
    errors: dict[int, str] = field(default_factory=dict)  # row index -> reason
    lower_bound_rows: list[int] = field(default_factory=list)


def arrow_type(ftype: str) -> Any:
    import pyarrow as pa

    return {
        "id": pa.string(),
        "text": pa.string(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "int": pa.int64(),
        "money": pa.decimal128(18, MONEY_SCALE),
        "rate": pa.float64(),
        "number": pa.float64(),
        "days": pa.int32(),
    }[ftype]


# Canonical forms that Arrow can cast directly, per type.
_FAST: dict[str, str] = {
    # digits with or without thousands separators (`1,234`: the commas are dropped, as the
    # scalar parsers drop them)
    "int": r"^-?\d[\d,]{0,22}(\.0*)?$",
    "money": r"^-?\d[\d,]{0,18}(\.\d{0,4})?$",
    "number": r"^-?\d{1,15}(\.\d{1,15})?$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "datetime": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    "days": r"^\d{1,3}$",
}


def _cast_or_none(text: Any, target: Any) -> Any:
    """Cast the fast-path text; values too long for the type fall back to the scalar parser."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(text, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _strict_cast(column: Any, ftype: str, target: Any) -> Any:
    """The whole column in one cast with Arrow's strict parsers, or None when it does not
    cast (then the value-by-value path decides, naming each bad value)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    guards = _STRICT_CAST.get(ftype)
    if guards is None or holds_any(column, guards):
        return None
    if longer_than(column, _CAST_MAX_CHARS):
        return None  # Arrow casts a 1,000-digit text to the decimal -1 without a word
    try:
        # a failed cast of a million values is slow (0.3 s for decimals): try the head first
        pc.cast(column.slice(0, 2048), target)
        return pc.cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


_CAST_MAX_CHARS = 40  # longer than any value of these types: the scalar parsers decide


# Types whose Arrow cast from text is as strict as our parsers, apart from the forms it
# accepts and we do not (hex 0x10 for integers, 1e3 for decimals): a column holding any of
# these substrings skips the one-pass cast.
_STRICT_CAST: dict[str, tuple[str, ...]] = {
    "int": ("x", "X"),
    "date": (),
    "datetime": (),
    "money": ("e", "E"),
}


_CALENDAR = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}


def _calendar_cast(text: Any, fast: Any, ftype: str, target: Any) -> tuple[Any, Any]:
    """Canonical dates and date-times, strictly: 2025-02-30 and 24:00:00 are not dates.

    Arrow's cast is strict but fails the whole column on one bad value; its ``strptime``
    rolls 2025-02-30 over to 2025-03-02. So: the cast when every value is good; otherwise
    ``strptime`` and a round trip back to text, and a value that does not come back as it
    was written leaves the fast path (the scalar parser then names it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(text, target), fast
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    fmt = _CALENDAR[ftype]
    stamps = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    same = pc.fill_null(pc.equal(pc.strftime(stamps, format=fmt), text), False)
    year_0 = pc.fill_null(pc.starts_with(text, "0000"), False)  # null where not fast
    kept = pc.and_(pc.and_(fast, same), pc.invert(year_0))  # no year 0
    values = pc.if_else(kept, stamps, pa.scalar(None, stamps.type))
    return pc.cast(values, target), kept


def _scalar(ftype: str, date_order: str | None) -> Callable[[str], tuple[Any, bool]]:
    if ftype == "int":
        return parse_int
    if ftype == "money":
        return lambda t: (parse_money(t), False)
    if ftype == "rate":
        return lambda t: (parse_rate(t), False)
    if ftype == "number":
        return lambda t: (parse_number(t), False)
    if ftype == "days":
        return lambda t: (parse_days(t), False)
    if ftype == "date":
        return lambda t: (parse_date(t, date_order), False)
    if ftype == "datetime":
        return lambda t: (parse_datetime(t, date_order), False)
    if ftype == "id":
        return lambda t: (parse_id(t), False)
    return lambda t: (t, False)


def decide_date_order(column: Any) -> str | None:
    """Day/month order of a column's `a/b/yyyy` values: settled by a value over 12.

    Returns "dmy", "mdy", None (no such values), or "ambiguous" (none over 12).
    Raises ValueError when the column contradicts itself.
    """
    import pyarrow.compute as pc

    if not maybe_dmy(column):
        return None
    mask = pc.match_substring_regex(column, r"^\s*\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
    if not pc.any(mask).as_py():
        return None
    firsts, seconds = [], []
    for v in pc.unique(pc.filter(column, mask)).to_pylist():
        parts = dmy_parts(v.split()[0] if " " in v.strip() else v)
        if parts:
            firsts.append(parts[0])
            seconds.append(parts[1])
    day_first = any(a > 12 for a in firsts)
    month_first = any(b > 12 for b in seconds)
    if day_first and month_first:
        raise ValueError("dates mix day-first and month-first forms")
    if day_first:
        return "dmy"
    if month_first:
        return "mdy"
    return "ambiguous"


def parse_column(
    column: Any,
    ftype: str,
    *,
    missing: frozenset[str] = MISSING,
    date_order: str | None = None,
    signed: bool = True,
) -> ColumnResult:
    """Parse one column of text (a pyarrow StringArray, no nulls) into the field's type.

    With ``signed=False`` (money and counts that cannot be below zero) a negative value is
    an error of its row, like any value that cannot be read."""
    result = _parse_column(column, ftype, missing=missing, date_order=date_order)
    if not signed and ftype in _SIGNED_TYPES:
        _reject_negative(column, result)
    return result


_SIGNED_TYPES = ("int", "money", "number")


def _reject_negative(column: Any, result: ColumnResult) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = result.values
    negative = pc.fill_null(pc.less(values, pa.scalar(0, values.type)), False)
    if not pc.any(negative).as_py():
        return
    rows = pc.indices_nonzero(negative).to_pylist()
    texts = pc.take(column, pa.array(rows)).to_pylist()
    for r, text in zip(rows, texts, strict=True):
        result.errors.setdefault(
            r, f"{text.strip()!r} is negative, and this column cannot be below zero"
        )
    result.values = pc.if_else(negative, pa.scalar(None, values.type), values)
    if result.lower_bound_rows:
        bad = set(rows)
        result.lower_bound_rows = [r for r in result.lower_bound_rows if r not in bad]


def _parse_column(
    column: Any,
    ftype: str,
    *,
    missing: frozenset[str],
    date_order: str | None,
) -> ColumnResult:
    import pyarrow as pa
    import pyarrow.compute as pc

    from redcat_cli.ingest.idcolumn import parse_ids

    target = arrow_type(ftype)
    # The common case first: a clean column (no blanks, no markers, canonical values).
    done = _strict_cast(column, ftype, target)
    if done is None and ftype == "int":
        done = grouped_ints(column)  # 1,234: digits and commas only
    if done is not None:
        return ColumnResult(done)
    # ids: a look at their ends is cheaper than trimming (not so for short text)
    clean = ftype == "id" and ends_clean(column)
    s = column if clean else pc.utf8_trim_whitespace(column)
    is_missing_ = pc.is_in(s, value_set=pa.array(sorted(missing), pa.string()))
    present = pc.invert(is_missing_)
    if ftype == "text":
        return ColumnResult(pc.if_else(present, s, pa.scalar(None, pa.string())))

    if ftype == "id":
        return parse_ids(s, present)

    null_str = pa.scalar(None, pa.string())
    # Again with blanks and markers as nulls and cells trimmed.
    done = _strict_cast(pc.if_else(present, s, null_str), ftype, target)
    if done is not None:
        return ColumnResult(done)

    fast_pattern = _FAST.get(ftype)
    if fast_pattern is not None:
        fast = pc.and_(present, pc.match_substring_regex(s, fast_pattern))
    else:
        fast = pa.array([False] * len(s), pa.bool_()) if len(s) else pa.array([], pa.bool_())
    rest = pc.and_(present, pc.invert(fast))

    fast_text = pc.if_else(fast, s, null_str)
    if fast_pattern is None:
        fast_vals = pa.nulls(len(s), target)
    elif ftype == "int":
        plain = pc.replace_substring(pc.replace_substring_regex(fast_text, r"\.0*$", ""), ",", "")
        fast_vals = _cast_or_none(plain, target)
    elif ftype == "money":
        fast_vals = _cast_or_none(pc.replace_substring(fast_text, ",", ""), target)
    elif ftype in _CALENDAR:
        fast_vals, fast = _calendar_cast(fast_text, fast, ftype, target)
        rest = pc.and_(present, pc.invert(fast))
    else:
        fast_vals = pc.cast(fast_text, target)
    if fast_vals is None:  # a value too long for the type: every value to the scalar parser
        fast = pc.and_(present, pa.scalar(False))
        rest = present
        fast_vals = pa.nulls(len(s), target)

    result = ColumnResult(fast_vals)
    if pc.any(rest).as_py():
        _parse_rest(result, s, fast, rest, ftype, target, date_order)
    return result


def _parse_rest(
    result: ColumnResult,
    s: Any,
    fast: Any,
    rest: Any,
    ftype: str,
    target: Any,
    date_order: str | None,
) -> None:
    """The values the vectorised casts refused, each distinct text once through the exact
    scalar parser: its value, or the reason it is rejected, or a lower bound (10万+)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fast_vals = result.values
    parser = _scalar(ftype, date_order)
    uniques = pc.unique(pc.filter(s, rest))
    parsed: list[Any] = []
    bad: dict[str, str] = {}
    plus_values: list[str] = []
    for text in uniques.to_pylist():
        try:
            value, plus = parser(text)
        except ValueError as e:
            parsed.append(None)
            reason = str(e)
            if len(text) > 60:  # a 5,000-digit value: quote its beginning and its length
                short = f"{text[:30]!r}… ({len(text):,} characters)"
                reason = reason.replace(repr(text), short).replace(repr(text.strip()), short)
            bad[text] = reason if len(reason) <= 300 else reason[:300] + "…"
            continue
        parsed.append(value)
        if plus:
            plus_values.append(text)
    parsed_arr = pa.array(parsed, target)
    idx = pc.index_in(s, value_set=uniques)
    rest_vals = pc.take(parsed_arr, idx)
    result.values = pc.if_else(fast, fast_vals, rest_vals)
    if bad:
        bad_mask = pc.and_(rest, pc.is_in(s, value_set=pa.array(list(bad), pa.string())))
        texts = s.to_pylist() if len(bad) > 0 else []
        for i in pc.indices_nonzero(bad_mask).to_pylist():
            result.errors[i] = bad[texts[i]]
    if plus_values:
        lb_mask = pc.and_(rest, pc.is_in(s, value_set=pa.array(plus_values, pa.string())))
        result.lower_bound_rows = pc.indices_nonzero(lb_mask).to_pylist()
