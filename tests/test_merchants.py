"""The merchant dimension: two shops' identical notes and dates never collide; reading commands
read one merchant; stores written before merchants existed migrate without loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redcat_cli.ingest.load import ingest
from tests.conftest import DATA, write
from tests.test_json_contract import validate
from tests.test_settle_store import CONTRACT

JUGUANG_B = """\
时间,笔记ID,笔记标题,计划名称,计划ID,消费,展现量,点击量,点击率,点赞,评论,收藏,关注,分享,互动量,行业商品GMV（7日),行业商品成交订单量（7日）
2025-06-01,64f1a2b3000000001e03c0d1,黄皮口红试色,计划A,101,700.00,"5,000",200,4.00%,10,1,5,1,0,17,-,-
2025-06-02,64f1a2b3000000001e03c0d1,黄皮口红试色,计划A,101,300.00,"2,000",90,4.50%,5,0,2,0,0,7,-,-
"""
XINGHE_B = """\
日期,内容ID,流量类型,归因周期,阅读/播放UV,互动UV,进店UV,商品加购UV,成交UV,商家GMV
20250601,64f1a2b3000000001e03c0d1,全部流量,30天,900,70,90,20,9,900.00
20250602,64f1a2b3000000001e03c0d1,全部流量,30天,300,20,30,10,3,300.00
"""
A, B = "某某美妆旗舰店", "测试 B 店"


def b_files(tmp_path: Path) -> list[str]:
    return [
        str(write(tmp_path / "juguang_b.csv", JUGUANG_B)),
        str(write(tmp_path / "xinghe_b.csv", XINGHE_B)),
    ]


def a_files() -> list[str]:
    return [str(DATA / "juguang_notes.csv"), str(DATA / "xinghe_v1.csv")]


def contract(tmp_path: Path, cid: str, merchant: str) -> str:
    p = tmp_path / f"{cid}.yaml"
    text = CONTRACT.format(start="2025-06-01", end="2025-06-02", window=30, flow="全部流量")
    p.write_text(text.replace("T-1", cid).replace("测试店", merchant), encoding="utf-8")
    return str(p)


@pytest.fixture
def two(tmp_path: Path) -> Path:
    store = tmp_path / "two.duckdb"
    ingest(store, a_files(), merchant=A)
    rep = ingest(store, b_files(tmp_path), merchant=B)
    # B's note and dates are A's too: with the merchant in the key they are new rows
    assert [(f.rows_loaded, f.rows_updated, f.rows_duplicate) for f in rep.files] == [
        (2, 0, 0),
        (2, 0, 0),
    ]
    return store


def test_status_counts_rows_per_merchant(run, two: Path) -> None:
    r = run("status", "--store", str(two), "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    validate("status", doc)
    # A: 3 聚光 rows (the 合计 row is skipped) + 5 种草星河 rows; B: 2 + 2
    assert doc["merchants"] == [
        {"merchant": A, "rows": 8, "sources": {"juguang": 3, "xinghe": 5}},
        {"merchant": B, "rows": 4, "sources": {"juguang": 2, "xinghe": 2}},
    ]
    juguang = next(s for s in doc["sources"] if s["source"] == "juguang")
    assert juguang["rows"] == 5 and juguang["spend"] == "2351.50"  # 1351.50 + 1000.00

    r = run("status", "--store", str(two), "--json", "--merchant", B)
    juguang = next(s for s in json.loads(r.stdout)["sources"] if s["source"] == "juguang")
    assert juguang["rows"] == 2 and juguang["spend"] == "1000.00"

    r = run("status", "--store", str(two))
    assert "Rows per merchant (2 merchants)" in r.stdout


def test_each_contract_reads_its_merchant(run, two: Path, tmp_path: Path) -> None:
    args = ["settle", "--store", str(two), "--as-of", "2025-09-01", "--json"]
    ra = run(*args, "--contract", contract(tmp_path, "C-A", A))
    rb = run(*args, "--contract", contract(tmp_path, "C-B", B))
    assert ra.exit_code == 0 and rb.exit_code == 0, ra.stderr + rb.stderr
    a, b = json.loads(ra.stdout), json.loads(rb.stdout)
    # A: spend 1351.50, GMV 800 + 300 = 1100; payout 1351.50 − 1100/3 = 984.83
    assert (a["totals"]["spend"], a["totals"]["gmv"]) == ("1351.50", "1100.00")
    assert a["totals"]["roi_guarantee_payout"] == "984.83"
    # B: spend 700 + 300 = 1000, GMV 900 + 300 = 1200; ROI 1.2 < 2.4; payout 1000 − 400 = 600
    assert (b["totals"]["spend"], b["totals"]["gmv"]) == ("1000.00", "1200.00")
    assert b["totals"]["roi_guarantee_payout"] == "600.00"
    # the audit trail lists the merchant's own files only
    assert {Path(i["path"]).name for i in b["audit"]["inputs"]} == {"juguang_b.csv", "xinghe_b.csv"}

    # the same as settling on a store that holds A alone
    alone = tmp_path / "alone.duckdb"
    ingest(alone, a_files())
    r = run(
        "settle", "--store", str(alone), "--as-of", "2025-09-01", "--json",
        "--contract", contract(tmp_path, "C-A", A),
    )  # fmt: skip
    assert r.stdout == ra.stdout


def test_a_contract_for_a_merchant_the_store_lacks(run, two: Path, tmp_path: Path) -> None:
    r = run("settle", "--store", str(two), "--contract", contract(tmp_path, "C-X", "别的店"))
    assert r.exit_code == 1 and r.stdout == ""
    assert "'别的店' is not in the store" in r.stderr and f"{A}, {B}" in r.stderr
    # --merchant settles it on a merchant the store holds
    r = run(
        "settle", "--store", str(two), "--as-of", "2025-09-01", "--json",
        "--contract", contract(tmp_path, "C-X", "别的店"), "--merchant", B,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["totals"]["roi_guarantee_payout"] == "600.00"


@pytest.mark.parametrize("command", [["attribute"], ["report", "--out", "OUT"]])
def test_reading_a_store_of_several_needs_the_merchant(
    run, two: Path, tmp_path: Path, command: list[str]
) -> None:
    command = [str(tmp_path / "r.html") if a == "OUT" else a for a in command]
    r = run(*command, "--store", str(two))
    assert r.exit_code == 2, r.stderr
    assert f"the store holds 2 merchants ({A}, {B})" in r.stderr and "--merchant" in r.stderr
    r = run(*command, "--store", str(two), "--merchant", "无此店")
    assert r.exit_code == 2 and "holds no rows of that merchant" in r.stderr


def test_attribute_of_one_merchant_equals_a_store_of_that_merchant(
    run, two: Path, tmp_path: Path
) -> None:
    alone = tmp_path / "b.duckdb"
    ingest(alone, b_files(tmp_path))
    r1 = run("attribute", "--store", str(two), "--merchant", B, "--json")
    r2 = run("attribute", "--store", str(alone), "--json")
    assert r1.exit_code == 0, r1.stderr
    one, other = json.loads(r1.stdout), json.loads(r2.stdout)
    assert one["notes"] == other["notes"]
    assert one["notes"][0]["spend"] == "1000.00"


def test_ingest_defaults_to_the_one_merchant(store: Path, tmp_path: Path, run) -> None:
    from tests.conftest import dump

    ingest(store, a_files(), merchant=A)
    ingest(store, [str(DATA / "xinghe_v2.csv")])  # no --merchant: A's
    r = run("status", "--store", str(store), "--json")
    assert [m["merchant"] for m in json.loads(r.stdout)["merchants"]] == [A]

    ingest(store, b_files(tmp_path), merchant=B)
    before = dump(store)
    r = run("ingest", "--store", str(store), str(DATA / "xinghe_v2.csv"))
    assert r.exit_code == 2 and "say whose files these are" in r.stderr
    assert dump(store) == before


def test_ingest_json_names_whose_rows_the_files_became(run, store: Path) -> None:
    first = run("ingest", "--store", str(store), "--merchant", A, *a_files(), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["merchant"] == A
    validate("ingest", json.loads(first.stdout))
    r = run("ingest", "--store", str(store), str(DATA / "xinghe_v2.csv"), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["merchant"] == A  # no --merchant: the one the store holds
    new = run("ingest", "--store", str(store.parent / "new.duckdb"), *a_files(), "--json")
    assert json.loads(new.stdout)["merchant"] == "default"  # a new store, no --merchant


@pytest.mark.parametrize("name", ["", "  ", "a\tb", "x" * 201])
def test_bad_merchant_names(run, store: Path, name: str) -> None:
    r = run("ingest", "--store", str(store), "--merchant", name, str(DATA / "xinghe_v1.csv"))
    assert r.exit_code == 2 and "--merchant" in r.stderr
    assert not store.exists()


def _by_name(store_path: Path) -> dict[str, list[tuple]]:
    """Each table's rows with columns in name order (migration appends columns)."""
    import duckdb

    con = duckdb.connect(str(store_path), read_only=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            cols = sorted(
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [t]
                ).fetchall()
            )
            sel = ", ".join(f'"{c}"' for c in cols)
            out[t] = [cols, sorted(con.execute(f'SELECT {sel} FROM "{t}"').fetchall(), key=repr)]
        return out
    finally:
        con.close()


def _downgrade(store_path: Path) -> None:
    """Make the store as the schema-2 redcat wrote it: no merchant column, keys without it."""
    import duckdb

    con = duckdb.connect(str(store_path))
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'merchant'"
            ).fetchall()
        ]
        for t in tables:
            if t != "ingest_log":
                con.execute(f"UPDATE \"{t}\" SET _key = substr(_key, length('default') + 2)")
            con.execute(f'ALTER TABLE "{t}" DROP COLUMN merchant')
        con.execute("UPDATE redcat_meta SET value = '2' WHERE key = 'schema_version'")
    finally:
        con.close()


def test_an_old_store_migrates_without_loss(run, store: Path, tmp_path: Path) -> None:
    ingest(store, a_files())
    ingest(store, [str(DATA / "xinghe_v2.csv")])  # updates rows: history is kept
    settle = [
        "settle", "--store", str(store), "--as-of", "2025-09-01", "--json",
        "--contract", contract(tmp_path, "C-A", A),
    ]  # fmt: skip
    statement = run(*settle).stdout
    fresh = _by_name(store)
    assert fresh["xinghe_history"][1], "the fixture must leave history rows"
    at = fresh["juguang"][0].index("merchant")
    assert {r[at] for r in fresh["juguang"][1]} == {"default"}

    _downgrade(store)
    old = _by_name(store)
    assert "merchant" not in old["juguang"][0]
    at = old["juguang"][0].index("_key")
    assert not any(r[at].startswith("default") for r in old["juguang"][1])

    r = run(*settle)  # a reading command opens, upgrades once, then reads
    assert r.exit_code == 0, r.stderr
    assert r.stdout == statement
    assert _by_name(store) == fresh
    # and writing to it afterwards behaves as on a store that never was old
    rep = ingest(store, [str(DATA / "xinghe_v2.csv")])
    assert rep.files[0].rows_duplicate == rep.files[0].rows_read


# --- several contracts in one pass -------------------------------------------------------

SCOPED = """\
contract_id: {cid}
merchant: {merchant}
currency: CNY
period: {{start: 2025-06-01, end: 2025-06-02}}
cycle: day
{scope}gmv:
  source: {source}
  window_days: {window}
{flow}roi_guarantee:
  target_roi: "2.0"
  trigger_factor: "1.0"
  formula: qianchuan
rounding: half_even
"""


def scoped_contracts(folder: Path) -> list[str]:
    """Contracts of both merchants: every note, listed notes, a plan, 聚光 GMV, day cycles."""
    folder.mkdir()
    specs = [
        ("A-all", A, "", "xinghe", 30),
        ("A-note", A, 'scope: {note_ids: ["64f1a2b3000000001e03c0d1"]}\n', "xinghe", 30),
        ("A-plan", A, 'scope: {plan_ids: ["101"]}\n', "xinghe", 7),
        ("A-jg", A, "", "juguang", 7),
        ("B-all", B, "", "xinghe", 30),
        ("B-plan", B, 'scope: {plan_ids: ["101"], note_ids: ["nothing"]}\n', "xinghe", 30),
    ]
    paths = []
    for cid, merchant, scope, source, window in specs:
        flow = "  flow_type: 全部流量\n" if source == "xinghe" else ""
        text = SCOPED.format(
            cid=cid, merchant=merchant, scope=scope, source=source, window=window, flow=""
        ).replace("gmv:\n", "gmv:\n" + flow, 1)
        p = folder / f"{cid}.yaml"
        p.write_text(text, encoding="utf-8")
        paths.append(str(p))
    return paths


def test_batch_settles_every_merchant_as_alone(run, two: Path, tmp_path: Path) -> None:
    paths = scoped_contracts(tmp_path / "contracts")
    common = ["settle", "--store", str(two), "--as-of", "2025-09-01"]
    batch = run(*common, "--contracts", str(tmp_path / "contracts"), "-f", "jsonl")
    assert batch.exit_code == 0, batch.stderr
    lines = batch.stdout.splitlines()
    assert [json.loads(x)["contract_id"] for x in lines] == [
        "A-all", "A-jg", "A-note", "A-plan", "B-all", "B-plan",
    ]  # fmt: skip
    alone = {}
    for p in paths:
        r = run(*common, "--contract", p, "--json")
        assert r.exit_code == 0, r.stderr
        alone[json.loads(r.stdout)["contract_id"]] = r.stdout.rstrip("\n")
    for line in lines:  # byte for byte
        assert line == alone[json.loads(line)["contract_id"]]
    got = {json.loads(x)["contract_id"]: json.loads(x)["totals"] for x in lines}
    # worked by hand from the fixtures (A: tests/data; B: JUGUANG_B, XINGHE_B)
    assert (got["A-all"]["spend"], got["A-all"]["gmv"]) == ("1351.50", "1100.00")
    # A-note: note …d1 only: spend 1,200.00 + 51.00; all of A's 种草星河 rows are …d1's
    assert (got["A-note"]["spend"], got["A-note"]["gmv"]) == ("1251.00", "1100.00")
    # A-plan: plan 101 holds both notes; 7-day 全部流量 GMV: 500.00 on 06-01 only
    assert (got["A-plan"]["spend"], got["A-plan"]["gmv"]) == ("1351.50", "500.00")
    # A-jg: 聚光 7-day GMV 1,234.50 on 06-01 (06-02 暂无)
    assert (got["A-jg"]["spend"], got["A-jg"]["gmv"]) == ("1351.50", "1234.50")
    assert (got["B-all"]["spend"], got["B-all"]["gmv"]) == ("1000.00", "1200.00")
    assert got["B-plan"] == got["B-all"]  # plan 101 holds B's one note

    listed = run(*common, "--contracts", str(tmp_path / "contracts"), "--json")
    assert [d["contract_id"] for d in json.loads(listed.stdout)] == [
        json.loads(x)["contract_id"] for x in lines
    ]
    table = run(*common, "--contracts", str(tmp_path / "contracts"), "--summary")
    assert "6 settlements as of 2025-09-01" in table.stdout
    assert "Cycle 1" not in table.stdout  # --summary: no statement detail


def test_batch_refuses_a_contract_id_twice(run, two: Path, tmp_path: Path) -> None:
    c = contract(tmp_path, "C-A", A)
    r = run("settle", "--store", str(two), "--contract", c, "--contract", c)
    assert r.exit_code == 2 and "contract_id C-A is in both" in r.stderr
    r = run("settle", "--store", str(two), "--contracts", str(tmp_path / "none"))
    assert r.exit_code == 2 and "not a folder" in r.stderr
