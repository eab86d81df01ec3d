"""Many small files benchmark: the same rows as one file, as 1,000 files, as a 10,000-member zip.

Agencies get a day's or a campaign's exports as hundreds of files, or one zip of thousands;
ingesting them must cost about what one file of the same rows costs. Generates N 聚光 note-day
rows (UTF-8 with BOM, as bench_ingest.py makes them), writes them as one file, as F files
and as a zip of Z members (each with the header), then times whole processes (median of R
runs, peak memory too) in the same run:

- fresh: into a new store;
- again: the same input into that store (every row a duplicate).

    python bench/bench_many.py                     # 100,000 rows; 1,000 files; 10,000 members
    python bench/bench_many.py --rows 20000 --runs 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_ingest import gen_juguang, measure  # noqa: E402


def split(lines: list[str], parts: int) -> list[list[str]]:
    size = -(-len(lines) // parts)
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def make_inputs(work: Path, n: int, files: int, members: int) -> dict[str, list[str]]:
    """The same data rows three ways; each value is the command-line arguments."""
    source = work / "source.csv"
    if not source.exists():
        gen_juguang(source, n)
    header, _total, *data = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    one = work / "one.csv"
    one.write_text(header + "".join(data), encoding="utf-8-sig")
    folder = work / "files"
    folder.mkdir(exist_ok=True)
    paths = []
    for i, chunk in enumerate(split(data, files)):
        p = folder / f"聚光笔记日报_{i:05d}.csv"
        p.write_text(header + "".join(chunk), encoding="utf-8-sig")
        paths.append(str(p))
    archive = work / "members.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for i, chunk in enumerate(split(data, members)):
            text = "\ufeff" + header + "".join(chunk)
            z.writestr(f"聚光笔记日报_{i:05d}.csv", text.encode("utf-8"))
    return {
        "one file": [str(one)],
        f"{len(paths):,} files": paths,
        f"zip of {len(split(data, members)):,}": [str(archive)],
    }


def ingest_cmd(args: list[str], store: Path) -> list[str]:
    # --json: the per-file table of a 10,000-member zip is 10,000 lines for rich to lay out
    return [
        sys.executable,
        "-m",
        "redcat_cli",
        "ingest",
        "-q",
        "--json",
        "--store",
        str(store),
        *args,
    ]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=1_000)
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="redcat-bench-many-"))
    inputs = make_inputs(work, args.rows, args.files, args.members)
    times: dict[str, dict[str, list[float]]] = {k: {"fresh": [], "again": []} for k in inputs}
    peaks: dict[str, float] = dict.fromkeys(inputs, 0.0)
    for _ in range(args.runs):
        for label, cmd_args in inputs.items():  # interleaved: load changes hit every input
            store = work / "store.duckdb"
            store.unlink(missing_ok=True)
            for step in ("fresh", "again"):
                secs, peak = measure(ingest_cmd(cmd_args, store))
                times[label][step].append(secs)
                peaks[label] = max(peaks[label], peak)
            store.unlink(missing_ok=True)
    base = {s: statistics.median(times["one file"][s]) for s in ("fresh", "again")}
    print(f"{args.rows:,} 聚光 rows, median of {args.runs} whole processes")
    print(f"{'input':16} {'fresh':>7} {'×one':>6} {'again':>7} {'×one':>6} {'peak MiB':>9}")
    for label in inputs:
        f, a = (statistics.median(times[label][s]) for s in ("fresh", "again"))
        print(
            f"{label:16} {f:>6.2f}s {f / base['fresh']:>5.2f}× {a:>6.2f}s "
            f"{a / base['again']:>5.2f}× {peaks[label]:>9.0f}"
        )


if __name__ == "__main__":
    main()
