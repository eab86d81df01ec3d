"""xlsx exports: the first sheet that holds a known header, read as text like a CSV."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

from redcat_cli.errors import IngestError
from redcat_cli.ingest.csvsplit import Batch, Ragged, _trim_trailing_empty
from redcat_cli.ingest.kinds import Kind
from redcat_cli.ingest.reader import HEAD_ROWS, RawTable, Source, _Budget, _find_header


def _cell_text(v: Any) -> str:
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _read_xlsx(src: Source, kinds: dict[str, Kind], forced: Kind | None) -> RawTable:
    import warnings

    _xlsx_budget(src)
    try:
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(src.read_all()), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise IngestError(
            f"{src.name}: not a readable xlsx workbook ({type(e).__name__})",
            hint="open it in Excel or WPS and save it again as .xlsx or .csv",
        ) from None
    try:
        return _read_workbook(src, wb, kinds, forced)
    except IngestError:
        raise
    except Exception as e:  # a damaged or hostile sheet (XML entity bombs among them)
        if isinstance(e, OSError | MemoryError) and not isinstance(e, zipfile.BadZipFile):
            raise
        detail = str(e).splitlines()[0] if str(e) else ""
        raise IngestError(
            f"{src.name}: a sheet of the workbook cannot be read ({type(e).__name__}"
            + (f": {detail[:120]}" if detail else "")
            + ")",
            hint="open it in Excel or WPS and save it again as .xlsx or .csv",
        ) from None
    finally:
        wb.close()


def _xlsx_budget(src: Source) -> None:
    """An xlsx is a zip: the same limits on what its parts unpack to, before openpyxl."""
    budget = _Budget(src.name)
    with zipfile.ZipFile(io.BytesIO(src.read_all())) as zf:
        infos = zf.infolist()
        budget.members(len(infos))
        for info in infos:
            budget.declared(info.filename, info.file_size, info.compress_size)
            budget.total += info.file_size
            budget.check(info.filename, info.file_size, info.compress_size, 0)


def _read_workbook(src: Source, wb: Any, kinds: dict[str, Kind], forced: Kind | None) -> RawTable:
    import numpy as np
    import pyarrow as pa

    sha = hashlib.sha256(src.read_all()).hexdigest()
    first_error: IngestError | None = None
    for ws in wb.worksheets:
        rows_iter = ws.iter_rows(values_only=True)
        head: list[list[str]] = []
        for row in rows_iter:
            head.append([_cell_text(v) for v in row])
            if len(head) >= HEAD_ROWS:
                break
        if not head:
            continue
        try:
            header_idx, match = _find_header(head, kinds, forced, f"{src.name} (sheet {ws.title})")
        except IngestError as e:
            first_error = first_error or e
            continue
        header = _trim_trailing_empty(head[header_idx])
        ncols = len(header)
        cols: list[list[str]] = [[] for _ in range(ncols)]
        lines: list[int] = []
        ragged: list[Ragged] = []

        for j, r in enumerate(head[header_idx + 1 :], start=header_idx + 2):
            _take_row(r, j, ncols, cols, lines, ragged)
        for j, row in enumerate(rows_iter, start=len(head) + 1):
            _take_row([_cell_text(v) for v in row], j, ncols, cols, lines, ragged)
        table = pa.table({f"c{i}": pa.array(cols[i], pa.string()) for i in range(ncols)})
        size = len(src.read_all())
        one = iter([Batch(table, np.array(lines, dtype=np.int64), ragged, size)])
        return RawTable(src.name, None, match, header, header_idx + 1, one, size, ws.title, sha)
    if first_error is not None:
        raise first_error
    raise IngestError(
        f"{src.name}: the workbook has no sheet with data", hint="export the report again"
    )


def _take_row(
    r: list[str],
    line: int,
    ncols: int,
    cols: list[list[str]],
    lines: list[int],
    ragged: list[Ragged],
) -> None:
    """One worksheet row into the columns; cells beyond the header's width must be empty."""
    if any(v.strip() for v in r[ncols:]):
        ragged.append(
            Ragged(line, r, f"{len(_trim_trailing_empty(r))} cells, the header has {ncols}")
        )
        return
    r = (r + [""] * ncols)[:ncols]
    for c, v in enumerate(r):
        cols[c].append(v)
    lines.append(line)
