"""`redcat contract check` (and the JSON error of `redcat settle --json`) says exactly what the
recordings under tests/data/contract_golden/ say, for every case in tests/contract_cases.py.

The recordings were made from the hand-written loader that came before the contract model, and
each was read when it was made: they hold the wording, the line, the order and the number of
problems users rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract_cases import CASES, GOLDEN, observe


def test_every_case_has_a_recording_and_every_recording_a_case():
    assert {p.stem for p in GOLDEN.glob("*.txt")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_messages_are_byte_identical_to_the_recording(name: str, tmp_path: Path) -> None:
    expected = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")
    assert observe(name, tmp_path) == expected
