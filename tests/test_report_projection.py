"""The report shows a provisional statement's projection, its interval and the curve it used."""

from __future__ import annotations

import json
from pathlib import Path

from redcat_cli.demo import example_contract, example_files


def test_report_shows_the_projection_and_its_curve(run, tmp_path: Path) -> None:
    store = str(tmp_path / "s.duckdb")
    assert run("ingest", "-q", "--store", store, *map(str, example_files())).exit_code == 0
    contract = str(example_contract())
    st = json.loads(
        run(
            "settle", "--store", store, "--contract", contract, "--as-of", "2025-08-15", "--json"
        ).stdout
    )
    p = st["totals"]["projected"]
    assert st["final"] is False and p is not None
    out = tmp_path / "r.html"
    r = run(
        "report",
        "--store",
        store,
        "--contract",
        contract,
        "--as-of",
        "2025-08-15",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert "Projected final payout" in page
    assert f'data-key="projected_payout" data-value="{p["roi_guarantee_payout"]}"' in page
    assert p["method"] in page
    assert "The maturity curve" in page and f"learned from {p['keys_learned_from']:,} keys" in page
