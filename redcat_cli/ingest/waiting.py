"""The rows of a file read in pieces whose key may be known, waiting for the file's end.

They wait on disk, in Arrow files beside the store, not in DuckDB: as a temp table, the 5M
rows of a re-ingest outgrew the ingest's memory limit, spilled, and made the classifying join
spill too (2-3× its time in memory). They are split by the top bits of their key hash into
PARTS files, so no key is in two, and classified a group of parts at a time, each group's
join within the memory limit. Read back memory-mapped, a group costs the pages its columns
touch, for as long as it is classified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redcat_cli.ingest.write import RAW_SEP

BITS = 4
PARTS = 1 << BITS
GROUP_ROWS = 1_500_000  # rows classified in one join: what it holds within INGEST_MEMORY


class _WaitingRows:
    """The waiting rows of one file: their typed values and, for a conflict's reject, their
    cells as the file wrote them (column ``_raw``), in PARTS Arrow files; their key hashes."""

    def __init__(self, folder: Path) -> None:
        import numpy as np

        self.folder = folder
        self.hashes: list[Any] = []
        self.sizes = np.zeros(PARTS, dtype=np.int64)
        self._dir: Any = None
        self._writers: list[Any] = []

    @property
    def rows(self) -> int:
        return int(self.sizes.sum())

    def add(self, cand: Any, cells: Any, hashes: Any) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        # one text per row, the cells joined by U+001F (which no export cell holds)
        table = cand.append_column("_raw", pc.binary_join_element_wise(*cells.columns, RAW_SEP))
        if self._dir is None:
            import tempfile

            self._dir = tempfile.TemporaryDirectory(
                prefix=".redcat-waiting-", dir=self.folder, ignore_cleanup_errors=True
            )
            self._writers = [pa.ipc.new_file(self._path(i), table.schema) for i in range(PARTS)]
        part = (np.asarray(hashes, np.uint64) >> np.uint64(64 - BITS)).astype(np.int64)
        sizes = np.bincount(part, minlength=PARTS)
        ordered = table.take(pa.array(np.argsort(part, kind="stable")))
        start = 0
        for i, n in enumerate(sizes.tolist()):
            if n:
                self._writers[i].write_table(ordered.slice(start, n))
                start += n
        self.sizes += sizes
        self.hashes.append(hashes)

    def _path(self, i: int) -> str:
        return f"{self._dir.name}/part-{i:02d}.arrow"

    def groups(self) -> list[list[int]]:
        """The parts in groups of about GROUP_ROWS rows (a part larger than that alone)."""
        out: list[list[int]] = [[]]
        rows = 0
        for i, n in enumerate(self.sizes.tolist()):
            if not n:
                continue
            if out[-1] and rows + n > GROUP_ROWS:
                out.append([])
                rows = 0
            out[-1].append(i)
            rows += n
        return [g for g in out if g]

    def read(self, group: list[int]) -> Any:
        """The rows of these parts, as one Arrow table on the memory-mapped files."""
        import pyarrow as pa

        self._close_writers()
        tables = [pa.ipc.open_file(pa.memory_map(self._path(i))).read_all() for i in group]
        return pa.concat_tables(tables)

    def shared_hashes(self) -> Any:
        """The key hashes that two or more waiting rows have (in the same part, by its bits).
        Rows whose hashes all differ have different keys; DuckDB's 64-bit hash of similar
        keys does collide, so rows that share one must be compared by their keys."""
        import numpy as np

        hashes = np.concatenate(self.hashes) if self.hashes else np.array([], np.uint64)
        self.hashes = []
        hashes.sort()  # in place: a hash table of 5M hashes cost 150 MB at the file's end
        return np.unique(hashes[1:][hashes[1:] == hashes[:-1]])

    def distinct(self, con: Any, rows: Any, shared: Any) -> bool:
        """Do the keys of these waiting rows differ, each from all others? Only rows whose
        key hash another row has (``shared``) can share a key: they are compared by key."""
        if not len(shared):
            return True
        import pandas as pd

        redcat_keys = rows.select(["_key"])  # noqa: F841  (read by name: see _ARROW_BY_NAME)
        redcat_shared = pd.DataFrame({"h": shared})  # noqa: F841
        n, k = con.execute(
            "SELECT count(*), count(DISTINCT _key) FROM redcat_keys "
            "WHERE hash(_key) IN (SELECT h FROM redcat_shared)"
        ).fetchall()[0]
        return bool(n == k)

    def _close_writers(self) -> None:
        writers, self._writers = self._writers, []
        for w in writers:
            w.close()

    def close(self) -> None:
        """The scratch files gone (after a failure too)."""
        try:
            self._close_writers()
        except Exception:  # its disk failed: the files go either way, the first error stays
            pass
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def cells_at(table: Any, lines: list[int]) -> dict[int, list[str]]:
    """The cells of the waiting rows of ``table`` at these lines, as the file wrote them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    hit = table.filter(pc.is_in(table.column("_line"), pa.array(lines, pa.int64())))
    texts = hit.column("_raw").to_pylist()
    lines_hit = hit.column("_line").to_pylist()
    return {int(n): t.split(RAW_SEP) for n, t in zip(lines_hit, texts, strict=True)}


def release_arrow_memory() -> None:
    """Arrow's allocator keeps memory it was given back for its next tables (about 270 MB
    after 5M rows read); the store's classifying join at a file's end needs it more."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
