"""The validated data of the export-kind files, kept between runs.

Validating the YAML of the kinds with the pydantic model (:mod:`redcat_cli.ingest.kind_model`)
costs 0.14 s a process, nearly all of it importing pydantic and building the model: more
than many commands' own work. The data it validated is kept in one JSON file per kinds
folder under the user's cache folder (``$XDG_CACHE_HOME/redcat``, else ``~/.cache/redcat``),
with a digest of everything it depends on: this redcat's version, the model's source, and
the name and bytes of every kind file. Any change to one of those, and the files are
validated again (so a typo is still an error naming the file and the key). A cache that
cannot be read or written is passed over: the files are then validated every time.
``REDCAT_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

FORMAT = 1


def _folder() -> Path | None:
    if os.environ.get("REDCAT_NO_CACHE"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"))
    return base / "redcat" if base.is_absolute() else None  # no home: no cache


def _digest(paths: list[Path], texts: list[bytes]) -> str:
    from redcat_cli import __version__
    from redcat_cli.ingest import kinds

    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0".encode())
    h.update((Path(kinds.__file__).parent / "kind_model.py").read_bytes())
    for path, text in zip(paths, texts, strict=True):
        h.update(f"\0{path.name}\0{len(text)}\0".encode())
        h.update(text)
    return h.hexdigest()


def _file(kinds_folder: Path) -> Path | None:
    folder = _folder()
    if folder is None:
        return None
    tag = hashlib.sha256(str(kinds_folder.resolve()).encode()).hexdigest()[:16]
    return folder / f"kinds-{tag}.json"


def read(kinds_folder: Path, paths: list[Path], texts: list[bytes]) -> list[Any] | None:
    """The validated data of these files, if this exact set was validated before."""
    try:
        file = _file(kinds_folder)
        if file is None or not file.exists():
            return None
        kept = json.loads(file.read_text(encoding="utf-8"))
        if kept.get("digest") != _digest(paths, texts) or len(kept["kinds"]) != len(paths):
            return None
        return list(kept["kinds"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write(kinds_folder: Path, paths: list[Path], texts: list[bytes], specs: list[Any]) -> None:
    """Keep the validated data of these files (replacing what the folder had)."""
    try:
        file = _file(kinds_folder)
        if file is None:
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        text = json.dumps({"digest": _digest(paths, texts), "kinds": specs}, ensure_ascii=False)
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, file)
        finally:
            tmp.unlink(missing_ok=True)  # a write cut short (a full disk) leaves nothing
    except OSError:
        pass
