"""`redcat settle` and `redcat contract` end to end, on a small store built here.

The store holds (figures chosen so the public 千川 example comes out):
  聚光  n1 (11873201) 2025-06-01 spend 6,000   gmv_7d 10,000  orders_7d 20   ingest 1
        n2 (11873202) 2025-06-02 spend 4,000   gmv_7d 11,000  orders_7d 30   ingest 3
        n3 (11873201) 2025-07-05 spend   999   (outside the June period)     ingest 3
  星河  n1 2025-06-01 全部流量 30d GMV 12,000 buyers 30; 自然流量 30d GMV 5,000 (a part of 全部流量)
        n2 2025-06-02 全部流量 30d GMV  9,000 buyers 20; 全部流量 7d GMV 100   ingests 2 and 4
Every file was exported on 2025-07-31, after June's end + 30 days: the GMV is mature.
So configs/contracts/example.yaml (xinghe, 全部流量, 30 days) sees spend 10,000, GMV 21,000,
orders 50: ROI 2.1 < 3.0 × 0.8, payout 10,000 − 21,000/3 = 3,000.00.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from redcat_cli.cli import cli, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "configs" / "contracts" / "example.yaml")
XHS = str(ROOT / "configs" / "contracts" / "xhs.yaml")
TIERED = str(ROOT / "configs" / "contracts" / "tiered.yaml")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    from redcat_cli.store.db import open_store

    path = tmp_path_factory.mktemp("store") / "redcat.duckdb"
    with open_store(path, read_only=False) as s:
        con = s.con
        con.execute(
            "INSERT INTO juguang (date, note_id, plan_id, spend, gmv_7d, orders_7d, _key, _ingest_id) VALUES "
            "('2025-06-01', 'n1', '11873201', 6000, 10000, 20, 'k1', 1),"
            "('2025-06-02', 'n2', '11873202', 4000, 11000, 30, 'k2', 3),"
            "('2025-07-05', 'n3', '11873201', 999, NULL, NULL, 'k3', 3)"
        )
        con.execute(
            "INSERT INTO xinghe (date, note_id, flow_type, window_days, gmv, buyers, _key, _ingest_id) VALUES "
            "('2025-06-01', 'n1', '全部流量', 30, 12000, 30, 'x1', 2),"
            "('2025-06-01', 'n1', '自然流量', 30, 5000, 3, 'x2', 2),"
            "('2025-06-02', 'n2', '全部流量', 30, 9000, 20, 'x3', 4),"
            "('2025-06-02', 'n2', '全部流量', 7, 100, 1, 'x4', 4)"
        )
        con.execute(
            "INSERT INTO ingest_log (id, batch_id, path, name, sha256, source, exported_on) VALUES "
            "(1, 1, 'exports/a.csv', 'a.csv', 'aaaa', 'juguang', '2025-07-31'),"
            "(2, 1, 'exports/b.csv', 'b.csv', 'bbbb', 'xinghe', '2025-07-31'),"
            "(3, 2, 'exports/c.csv', 'c.csv', 'cccc', 'juguang', '2025-07-31'),"
            "(4, 2, 'exports/d.csv', 'd.csv', 'dddd', 'xinghe', '2025-07-31')"
        )
    return str(path)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code), out, err


def settle_json(store: str, *args: str) -> dict:
    r = run("settle", "--contract", EXAMPLE, "--store", store, "--json", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# --- redcat settle -----------------------------------------------------------------------


def test_settle_table(store):
    r = run(
        "settle",
        "--contract",
        EXAMPLE,
        "--store",
        store,
        "--as-of",
        "2025-07-15",
        "--working",
        env={"COLUMNS": "160"},
    )
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Settlement RC-2025-0618" in out and "PROVISIONAL" in out
    assert "10,000.00" in out and "21,000.00" in out and "3,000.00" in out and "7,000.00" in out
    assert "10000.00 − 21000.00 / 3.0 = 3000.00" in out
    assert "\x1b[" not in out  # no ANSI codes when stdout is not a terminal
    assert "provisional" in r.stderr and "2025-07-30" in r.stderr
    # the statement in words first: 10,000 − 21,000 / 3 = 3,000 comes back
    assert out.startswith("The ROI guarantee triggered in 1 of 1 cycle: ¥3,000.00 comes back")
    brief = run("settle", "--contract", EXAMPLE, "--store", store, "--as-of", "2025-07-15")
    assert "10000.00 − 21000.00 / 3.0" not in brief.stdout and "--working" in brief.stdout


def test_settle_table_final_has_no_notice(store):
    r = run("settle", "--contract", EXAMPLE, "--store", store, "--as-of", "2025-07-30")
    assert r.exit_code == 0
    assert "final as of 2025-07-30" in " ".join(r.stdout.split())
    assert r.stderr == ""


def test_settle_json_values(store):
    d = settle_json(store, "--as-of", "2025-07-30")
    assert d["contract_id"] == "RC-2025-0618" and d["final"] is True and d["as_of"] == "2025-07-30"
    (c,) = d["cycles"]
    assert (c["start"], c["end"]) == ("2025-06-01", "2025-06-30")
    # 自然流量 (5,000) and the 7-day window (100) are not added: GMV = 12,000 + 9,000
    assert (c["spend"], c["gmv"], c["orders"], c["roi"]) == ("10000.00", "21000.00", 50, 2.1)
    g = c["roi_guarantee"]
    assert (g["eligible"], g["triggered"], g["payout"], g["cap_applied"]) == (
        True,
        True,
        "3000.00",
        None,
    )
    m = c["matched_investment"]
    assert (m["eligible"], m["amount"]) == (True, "10000.00")  # spend 10,000 ≥ threshold 10,000
    assert d["totals"] == {
        "spend": "10000.00",
        "gmv": "21000.00",
        "roi_guarantee_payout": "3000.00",
        "matched_investment": "10000.00",
        "net_ad_cost": "7000.00",
        "projected": None,  # final: nothing to project
    }
    assert d["projection_note"] == "the statement is final: nothing to project"
    assert d["audit"]["inputs"] == [
        {"path": "exports/a.csv", "sha256": "aaaa"},
        {"path": "exports/b.csv", "sha256": "bbbb"},
        {"path": "exports/c.csv", "sha256": "cccc"},
        {"path": "exports/d.csv", "sha256": "dddd"},
    ]
    import hashlib

    assert d["audit"]["contract_sha256"] == hashlib.sha256(Path(EXAMPLE).read_bytes()).hexdigest()


def test_settle_json_is_byte_identical(store):
    a = run("settle", "--contract", EXAMPLE, "--store", store, "--json", "--as-of", "2025-07-15")
    b = run(
        "settle", "--contract", EXAMPLE, "--store", store, "-f", "json", "--as-of", "2025-07-15"
    )
    assert a.exit_code == b.exit_code == 0
    assert a.stdout_bytes == b.stdout_bytes
    assert json.loads(a.stdout)["final"] is False
    assert "2025-07-30" in json.loads(a.stdout)["final_reason"]


def test_settle_out_is_written_atomically(store, tmp_path):
    out = tmp_path / "statement.json"
    r = run(
        "settle",
        "--contract",
        EXAMPLE,
        "--store",
        store,
        "--as-of",
        "2025-07-15",
        "--out",
        str(out),
        "--json",
    )
    assert r.exit_code == 0
    assert out.read_bytes() == r.stdout_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["statement.json"]  # no temp file left
    assert f"wrote {out}" in r.stderr.replace("\n", "")


def test_settle_several_contracts_gives_a_json_list(store):
    r = run(
        "settle",
        "--contract",
        EXAMPLE,
        "--contract",
        XHS,
        "--store",
        store,
        "--json",
        "--as-of",
        "2025-08-01",
    )
    assert r.exit_code == 0
    docs = json.loads(r.stdout)
    assert [d["contract_id"] for d in docs] == ["RC-2025-0618", "RC-2025-0618-XHS"]


def test_settle_out_with_several_contracts_is_json_lines(store, tmp_path):
    out = tmp_path / "statements.jsonl"
    r = run(
        "settle",
        "--contract",
        EXAMPLE,
        "--contract",
        XHS,
        "--store",
        store,
        "--as-of",
        "2025-08-01",
        "--out",
        str(out),
    )
    assert r.exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["totals"]["roi_guarantee_payout"] for x in lines] == [
        "3000.00",
        "1800.00",
    ]
    assert "Settlement RC-2025-0618-XHS" in r.stdout  # the table still goes to stdout


def test_xhs_contract_with_plan_scope_and_juguang_gmv(store):
    # 11873201 → note n1 (n3 is outside the period): spend 6,000, 聚光 7-day GMV 10,000.
    # xhs: 6,000 − 10,000 / (3.0 × 0.8) = 6,000 − 4,166.666… = 1,833.33 before cap;
    # cap 0.30 × 6,000 = 1,800.00 binds.
    r = run("settle", "--contract", XHS, "--store", store, "--json", "--as-of", "2025-08-01")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    c = d["cycles"][0]
    assert (c["spend"], c["gmv"], c["orders"]) == ("6000.00", "10000.00", 20)
    g = c["roi_guarantee"]
    assert (g["amount_before_cap"], g["payout"], g["cap_applied"]) == (
        "1833.33",
        "1800.00",
        "pct_of_spend",
    )
    # 聚光 only: the audit lists the 聚光 files, not the 种草星河 ones
    assert [i["path"] for i in d["audit"]["inputs"]] == ["exports/a.csv", "exports/c.csv"]


def test_note_scope(store, tmp_path):
    # note n2 only: spend 4,000, GMV 9,000 (全部流量, 30 days). 9,000 < 3 × 0.8 × 4,000 = 9,600:
    # payout 4,000 − 9,000/3 = 1,000.00
    text = (
        Path(EXAMPLE)
        .read_text(encoding="utf-8")
        .replace("cycle: month", "cycle: month\nscope: {note_ids: [n2]}")
    )
    text = text.replace('min_spend: "1000.00"', 'min_spend: "0"')
    p = tmp_path / "n2.yaml"
    p.write_text(text, encoding="utf-8")
    r = run("settle", "--contract", str(p), "--store", store, "--json", "--as-of", "2025-08-01")
    assert r.exit_code == 0, r.output
    c = json.loads(r.stdout)["cycles"][0]
    assert (c["spend"], c["gmv"], c["roi_guarantee"]["payout"]) == ("4000.00", "9000.00", "1000.00")


def test_as_of_ingest(store):
    # after ingest 2 the store held n1 only: spend 6,000, GMV 12,000, orders 30; ROI 2 < 2.4:
    # 6,000 − 12,000/3 = 2,000.00; cap 0.30 × 6,000 = 1,800.00 binds. Matched: 6,000 < 10,000.
    d = settle_json(store, "--as-of", "2025-08-01", "--as-of-ingest", "2")
    c = d["cycles"][0]
    assert (c["spend"], c["gmv"], c["orders"]) == ("6000.00", "12000.00", 30)
    assert (c["roi_guarantee"]["amount_before_cap"], c["roi_guarantee"]["payout"]) == (
        "2000.00",
        "1800.00",
    )
    assert c["matched_investment"]["eligible"] is False
    assert [i["path"] for i in d["audit"]["inputs"]] == ["exports/a.csv", "exports/b.csv"]


def test_settle_csv(store):
    r = run("settle", "--contract", EXAMPLE, "--store", store, "-f", "csv", "--as-of", "2025-08-01")
    assert r.exit_code == 0
    header, row = r.stdout.splitlines()
    assert header.startswith("contract_id,start,end,spend,gmv")
    assert row.startswith("RC-2025-0618,2025-06-01,2025-06-30,10000.00,21000.00,50")


def test_settle_bad_contract_exits_1_with_every_problem(tmp_path, store, capsys):
    p = tmp_path / "deal.yaml"
    p.write_text(
        Path(EXAMPLE)
        .read_text(encoding="utf-8")
        .replace("min_spend:", "minimun_spend:")
        .replace('cap: "50000.00"', "cap: 50000.10"),
        encoding="utf-8",
    )
    r = run("settle", "--contract", str(p), "--store", store)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith(f"Error: contract {p} is invalid (2 problems)\n")
    code, out, err = run_main(capsys, "settle", "--contract", str(p), "--store", store)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"Error: contract {p} is invalid (2 problems)"
    assert lines[1].startswith(f"  {p}:17: unknown key roi_guarantee.minimun_spend") and lines[
        1
    ].endswith("did you mean min_spend?")
    assert lines[2].startswith(f"  {p}:24: matched_investment.cap: 50000.10 is a bare YAML float")


def test_settle_missing_store(tmp_path, capsys):
    r = run("settle", "--contract", EXAMPLE, "--store", str(tmp_path / "none.duckdb"))
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("Error: no store at")
    code, out, err = run_main(
        capsys, "settle", "--contract", EXAMPLE, "--store", str(tmp_path / "none.duckdb")
    )
    assert code == 1 and out == "" and err.startswith("Error: no store at")


def test_settle_needs_a_contract():
    r = run("settle")
    assert r.exit_code == 2
    assert "--contract" in r.stderr


def test_settle_help():
    r = run("settle", "-h")
    assert r.exit_code == 0 and "Examples:" in r.stdout and "--as-of-ingest" in r.stdout


# --- redcat contract ---------------------------------------------------------------------


def test_contract_check_ok():
    r = run("contract", "check", EXAMPLE, XHS, TIERED)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and all(x.startswith("ok ") for x in lines)
    assert "RC-2025-0618 (某某美妆旗舰店)" in lines[0]
    assert r.stderr == ""


def test_contract_check_bad(tmp_path, capsys):
    p = tmp_path / "deal.yaml"
    p.write_text(
        "contract_id: X\nmerchant: m\nperiod: {start: 2025-06-30, end: 2025-06-01}\n",
        encoding="utf-8",
    )
    r = run("contract", "check", str(p))
    assert r.exit_code == 1 and r.stdout == ""
    code, out, err = run_main(capsys, "contract", "check", str(p))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"Error: contract {p} is invalid (2 problems)",
        f"  {p}:1: missing required key gmv (expected gmv: {{source: xinghe, window_days: 30, flow_type: 全部流量}})",
        f"  {p}:3: period.end 2025-06-01 is before period.start 2025-06-30 (expected end on or after start); hint: both dates are inclusive",
    ]


def test_contract_check_against_the_store(store, tmp_path, capsys):
    assert run("contract", "check", EXAMPLE, XHS, "--store", store).exit_code == 0
    assert run("contract", "check", TIERED, "--store", store).exit_code == 0
    # a 15-day window, which this store does not hold
    w = tmp_path / "w15.yaml"
    w.write_text(
        Path(TIERED).read_text(encoding="utf-8").replace("window_days: 7", "window_days: 15"),
        encoding="utf-8",
    )
    code, out, err = run_main(capsys, "contract", "check", str(w), "--store", store)
    assert code == 1 and out == ""
    assert f"{w}:9: gmv.window_days 15 is not in the store (expected one of 7, 30)" in err
    p = tmp_path / "flow.yaml"
    p.write_text(
        Path(EXAMPLE)
        .read_text(encoding="utf-8")
        .replace("flow_type: 全部流量", "flow_type: 全部流量s"),
        encoding="utf-8",
    )
    code, out, err = run_main(capsys, "contract", "check", str(p), "--store", store)
    assert code == 1
    assert (
        "gmv.flow_type 全部流量s is not in the store (expected one of 全部流量, 自然流量); hint: did you mean 全部流量?"
        in err
    )


def test_contract_schema():
    r = run("contract", "schema")
    assert r.exit_code == 0
    s = json.loads(r.stdout)
    assert s["$schema"].endswith("2020-12/schema")
    assert "roi_guarantee" in s["properties"]


def test_cli_modules_import_nothing_heavy():
    code = (
        "import sys; import redcat_cli.cli.settle, redcat_cli.cli.contract; "
        "print(sorted(m for m in ('duckdb', 'pandas', 'pydantic', 'scipy', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
