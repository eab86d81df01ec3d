"""Export-kind files are validated by the kind model: a typo is an error naming the file and the
key, never a silent default; the bundled kinds load unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from redcat_cli.errors import IngestError
from redcat_cli.ingest.kinds import load_kinds

GOOD = "name: k\nfields:\n  date: {type: date, aliases: [日期], required: true}\nkey: [date]\n"


def refused(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "kinds"
    folder.mkdir()
    (folder / "k.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(IngestError) as info:
        load_kinds(str(folder))
    message = info.value.message
    assert message.startswith(f"export kind {folder / 'k.yaml'}"), message
    return message


def test_a_good_kind_file_loads(tmp_path: Path) -> None:
    folder = tmp_path / "kinds"
    folder.mkdir()
    (folder / "k.yaml").write_text(GOOD + "summary: {date: date, window: 7}\n", encoding="utf-8")
    kind = load_kinds(str(folder))["k"]
    assert (kind.title, kind.key, kind.required) == ("k", ("date",), ["date"])
    assert kind.fields["date"].aliases == ("日期",) and kind.fields["date"].signed is False
    assert kind.summary == {"date": "date", "window": 7}


def test_bundled_kinds_keep_their_terms() -> None:
    kinds = load_kinds()
    assert kinds["xinghe"].key == ("date", "note_id", "flow_type", "window_days")
    assert kinds["xinghe"].summary["window"] == "window_days"
    assert kinds["juguang"].summary["window"] == 30 and "gmv" not in kinds["juguang"].summary
    assert kinds["qianniu"].required_any == (("status", "paid_at"),)
    assert kinds["qianniu"].missing == ("null",)
    assert kinds["qianniu"].fields["refund_amount"].signed is True
    assert kinds["qianniu"].fields["order_id"].signed is False


def test_a_misspelt_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    m = refused(tmp_path, GOOD.replace("{type: date,", "{tpye: date,"))
    assert "is invalid (2 problems): missing required key fields.date.type; " in m
    assert (
        "fields.date.tpye: unknown key (expected one of type, aliases, required, signed); "
        "did you mean type?" in m
    )


def test_an_unknown_top_level_or_summary_key(tmp_path: Path) -> None:
    m = refused(tmp_path, GOOD + "recognized: [a]\nsummary: {windw: 3}\n")
    assert "recognized: unknown key" in m and "did you mean recognised?" in m
    assert "summary.windw: unknown key" in m and "did you mean window?" in m


def test_an_unknown_type_suggests_the_nearest(tmp_path: Path) -> None:
    m = refused(tmp_path, GOOD.replace("type: date", "type: dat"))
    assert "fields.date.type: 'dat' is not a type (expected one of id, text, date," in m
    assert m.endswith("did you mean date?")


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (
            "required: true",
            "required: maybe",
            "fields.date.required: input should be a valid boolean",
        ),
        ("required: true", "required: 1", "fields.date.required: input should be a valid boolean"),
        ("aliases: [日期]", "aliases: 日期", "fields.date.aliases: input should be a valid list"),
        ("key: [date]\n", "", "missing required key key"),
        ("key: [date]", "key: [day]", "key: day is not among the fields"),
        ("key: [date]", "key: []", "key: list should have at least 1 item"),
        ("name: k", "name: My Kind", "name: string should match pattern"),
    ],
)
def test_wrong_types_and_missing_fields(tmp_path: Path, old: str, new: str, words: str) -> None:
    assert old in GOOD
    assert words in refused(tmp_path, GOOD.replace(old, new))


def test_summary_names_only_fields(tmp_path: Path) -> None:
    m = refused(tmp_path, GOOD + "summary: {sums: [spend], window: days}\n")
    assert "summary.sums: spend is not among the fields; summary.window: days is not among" in m


def test_not_a_mapping_and_not_yaml(tmp_path: Path) -> None:
    assert "the file holds a list (expected a mapping with keys name, title," in refused(
        tmp_path, "- a\n"
    )
    (tmp_path / "kinds").rename(tmp_path / "old")
    m = refused(tmp_path, "name: [\n")
    assert m.startswith(f"export kind {tmp_path / 'kinds' / 'k.yaml'}:2 is not valid YAML")


def kinds_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "kinds"
    folder.mkdir(exist_ok=True)
    (folder / "k.yaml").write_text(text, encoding="utf-8")
    return folder


def test_validated_kinds_are_kept_and_a_changed_file_is_validated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second load of the same bytes reads the kept data and gives the same kinds; a
    file edited since (a typo) is validated again, and refused naming the file and key."""
    from redcat_cli.ingest import kind_cache, kinds

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = kinds_folder(tmp_path, GOOD + "summary: {date: date, window: 7}\n")
    first = kinds._load(folder, cached=True)
    (kept,) = (tmp_path / "cache" / "redcat").glob("kinds-*.json")
    validated = []
    monkeypatch.setattr(kinds, "_validated", lambda *a: validated.append(a) or {})
    again = kinds._load(folder, cached=True)
    assert not validated  # read from the kept data
    assert {n: vars(k) for n, k in again.items()} == {n: vars(k) for n, k in first.items()}
    assert again["k"].summary == {"date": "date", "window": 7}
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kinds_folder(tmp_path, GOOD.replace("required", "requird"))
    with pytest.raises(IngestError) as info:
        kinds._load(folder, cached=True)
    assert info.value.message.startswith(f"export kind {folder / 'k.yaml'}")
    assert "requird" in info.value.message
    kept.write_text("{not json", encoding="utf-8")  # a damaged cache is passed over
    kinds_folder(tmp_path, GOOD)
    assert kinds._load(folder, cached=True)["k"].key == ("date",)
    assert kind_cache.read(folder, [folder / "k.yaml"], [GOOD.encode()]) is not None


def test_bundled_kinds_load_without_pydantic_once_validated(tmp_path: Path) -> None:
    """What the cache is for: a second process loads the kinds without importing pydantic."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from redcat_cli.ingest.kinds import load_kinds; k = load_kinds(); "
        "print(len(k), 'pydantic' in sys.modules)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    n = len(load_kinds())
    assert [r.stdout.split() for r in runs] == [[str(n), "True"], [str(n), "False"]]
    env["XDG_CACHE_HOME"] = "relative/cache"  # not a place to write: no cache, no folder
    rel = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert rel.stdout.split() == [str(n), "True"] and not (tmp_path / "relative").exists()
    env["XDG_CACHE_HOME"] = str(tmp_path)
    env["REDCAT_NO_CACHE"] = "1"
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert off.stdout.split() == [str(n), "True"]


def test_a_cache_write_cut_short_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while the kept data is written: the kinds load all the same, and neither
    the half-written file nor a kept file is left in the cache folder."""
    from redcat_cli.ingest import kind_cache, kinds

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = kinds_folder(tmp_path, GOOD)
    real_write = Path.write_text

    def full_disk(self: Path, text: str, *a: object, **k: object) -> int:
        real_write(self, text[:10], encoding="utf-8")  # part of it reached the disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    assert kinds._load(folder, cached=True)["k"].key == ("date",)
    assert list((tmp_path / "cache" / "redcat").iterdir()) == []
    assert kind_cache.read(folder, [folder / "k.yaml"], [GOOD.encode()]) is None
