"""What ingest tells a person beyond the counts: another account's report overwriting the
first, a header-only file, one bad file stopping a batch, an export that cannot be joined."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DATA, dump, write


def account_report(path: Path, spends: list[str]) -> Path:
    lines = ["时间,消费,展现量"] + [
        f"2025-06-{d:02d},{s},1000" for d, s in enumerate(spends, start=1)
    ]
    return write(path, "\n".join(lines) + "\n")


def test_another_accounts_report_is_flagged(run, tmp_path: Path, store: Path) -> None:
    a = account_report(tmp_path / "a.csv", ["100.00", "200.00", "50.00", "80.00"])
    # the second account: three days differ by far more than half (300%, 50%→+150%, …)
    b = account_report(tmp_path / "b.csv", ["400.00", "90.00", "125.00", "80.00"])
    assert run("ingest", "-q", "--store", str(store), str(a)).exit_code == 0
    res = run("ingest", "--store", str(store), str(b), "--json")
    doc = json.loads(res.stdout)
    (w,) = doc["files"][0]["warnings"]
    # 100→400 is +300%, 200→90 is −55%, 50→125 is +150%; 80→80 is not updated
    assert w.startswith("3 days changed spend by up to 300% — if this is another account")
    assert "--set account=NAME" in w and "juguang_account_history" in w
    assert "changed spend" in res.stderr


def test_a_maturing_re_export_is_not_flagged(run, tmp_path: Path, store: Path) -> None:
    a = account_report(tmp_path / "a.csv", ["100.00", "200.00", "50.00", "80.00"])
    b = account_report(tmp_path / "b.csv", ["140.00", "290.00", "74.00", "80.00"])  # +40..48%
    run("ingest", "-q", "--store", str(store), str(a))
    doc = json.loads(run("ingest", "--store", str(store), str(b), "--json").stdout)
    assert doc["files"][0]["rows_updated"] == 3 and doc["files"][0]["warnings"] == []


def test_header_only_file_gets_a_notice(run, tmp_path: Path, store: Path) -> None:
    f = write(tmp_path / "empty.csv", "时间,消费,展现量\n")
    res = run("ingest", "--store", str(store), str(f))
    assert res.exit_code == 0
    assert "a header and no data rows: nothing to load" in res.stderr


def test_one_bad_file_says_the_batch_loaded_nothing(run, tmp_path: Path, store: Path) -> None:
    good = account_report(tmp_path / "good.csv", ["1.00"])
    bad = write(tmp_path / "bad.csv", "a,b\n1,2\n")
    res = run("ingest", "--store", str(store), str(good), str(bad), str(DATA / "xinghe_v1.csv"))
    assert res.exit_code == 1
    assert "nothing was loaded" in res.stderr
    assert "read fine before it: good.csv" in res.stderr
    assert f"leave out {bad}" in res.stderr
    assert dump(store) == {}


def test_creator_center_list_says_why_it_cannot_be_used(run, tmp_path: Path, store: Path) -> None:
    f = write(
        tmp_path / "笔记列表明细表.csv",
        "笔记标题,首次发布时间,体裁,曝光,观看量,点赞\n秋冬口红,2025-06-01,图文,100,50,3\n",
    )
    for extra in ([], ["--source", "note_data"]):
        res = run("ingest", "--store", str(store), *extra, str(f))
        assert res.exit_code == 1
        assert "has no 笔记ID: nothing can join it" in res.stderr
        assert "export 聚光 数据报表 → 笔记" in res.stderr
        assert "--source" not in res.stderr
