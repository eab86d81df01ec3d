"""redcat lift: validated on generated panels with a known effect (and none)."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from lift_panel import FIRST, START, TREATED, panel_rows, product_id

from redcat_cli.analysis import lift

HEADER = "统计日期,商品ID,商品名称,商品访客数,支付买家数,支付金额"


def sycm_csv(path: Path, rows: list[tuple[str, dt.date, Decimal]]) -> Path:
    """A 生意参谋 商品日报 with its title rows and grouped numbers, as the export has them."""
    lines = ["生意参谋 商品排行 日报", "统计日期：2025-03-16~2025-06-13", "", HEADER]
    for pid, day, amount in rows:
        lines.append(f'{day.isoformat()},{pid},商品{pid[-2:]},"1,000",10,"{amount:,}"')
    path.write_bytes("\n".join(lines + [""]).encode("gb18030"))
    return path


@pytest.fixture(scope="module")
def effect_doc() -> dict:
    res = lift.analyse(
        lift.make_panel(panel_rows(0.15)), TREATED, lift.Request(start=START), "generated"
    )
    return res.doc


@pytest.fixture(scope="module")
def null_doc() -> dict:
    res = lift.analyse(
        lift.make_panel(panel_rows(0.0)), TREATED, lift.Request(start=START), "generated"
    )
    return res.doc


def test_known_effect_is_recovered(effect_doc: dict) -> None:
    e = effect_doc["effect"]
    assert abs(e["relative"] - 0.15) < 0.05
    assert e["relative_ci_low"] <= 0.15 <= e["relative_ci_high"]
    assert e["relative_ci_low"] > 0  # zero outside the interval
    assert e["p_value"] < 0.05


def test_placebo_holds_zero_and_naive_is_far_above(effect_doc: dict) -> None:
    p = effect_doc["placebo"]
    assert p["relative_ci_low"] <= 0 <= p["relative_ci_high"]
    # the pre period holds 1 festival day of 28 and the post period only festival days:
    # naive ≈ 1.15 × 2.5 / ((27 + 2.5) / 28) − 1 ≈ 1.73 (noise aside)
    assert effect_doc["naive"]["relative"] > 1.2
    assert effect_doc["verdict"].startswith("Seeding added about 15% (95% CI")
    assert "the placebo shows no effect" in effect_doc["verdict"]
    assert "is mostly 618" in effect_doc["verdict"]


def test_no_effect_interval_holds_zero(null_doc: dict) -> None:
    e = null_doc["effect"]
    assert e["relative_ci_low"] <= 0 <= e["relative_ci_high"]
    assert abs(e["relative"]) < 0.05
    assert null_doc["verdict"].startswith("No effect of the seeding")


def test_incremental_is_actual_minus_counterfactual(effect_doc: dict) -> None:
    rows = panel_rows(0.15)
    post = {d for _, d, _ in rows if d >= START}
    actual = sum((a for p, d, a in rows if p in TREATED and d in post), Decimal(0))
    assert effect_doc["actual"] == actual.quantize(Decimal("0.01"))
    rel = effect_doc["effect"]["relative"]
    expected = actual - actual / Decimal(repr(1 + rel))
    assert abs(effect_doc["effect"]["incremental"] - expected) <= Decimal("0.01")


def test_periods_default_to_28_days_before_and_start_to_last(effect_doc: dict) -> None:
    assert effect_doc["pre"] == {
        "from": START - dt.timedelta(days=28),
        "to": START - dt.timedelta(days=1),
    }
    assert effect_doc["post"] == {"from": START, "to": FIRST + dt.timedelta(days=89)}
    assert effect_doc["controls"] == 30
    assert effect_doc["placebo"]["start"] == START - dt.timedelta(days=14)
    assert [e["name"] for e in effect_doc["events"] if e["kind"] == "event"] == ["618"]


def test_effect_equals_the_log_did_by_hand() -> None:
    """A balanced panel without zeros: δ is the two-way mean contrast of logs."""
    import numpy as np

    rows = panel_rows(0.15, seed=3)
    res = lift.analyse(lift.make_panel(rows), TREATED, lift.Request(start=START), "x").doc
    pre0 = START - dt.timedelta(days=28)
    logs: dict[tuple[bool, bool], list[float]] = {}
    for pid, day, amount in rows:
        if day < pre0:
            continue
        logs.setdefault((pid in TREATED, day >= START), []).append(math.log(float(amount)))
    m = {k: np.mean(v) for k, v in logs.items()}
    delta = (m[True, True] - m[True, False]) - (m[False, True] - m[False, False])
    assert res["effect"]["relative"] == pytest.approx(math.expm1(delta), rel=1e-9)


def test_permutation_inference_covers_the_truth() -> None:
    res = lift.analyse(
        lift.make_panel(panel_rows(0.15)),
        TREATED,
        lift.Request(start=START, inference="permutation", permutations=199),
        "x",
    ).doc
    e = res["effect"]
    assert e["relative_ci_low"] <= 0.15 <= e["relative_ci_high"] and e["relative_ci_low"] > 0
    assert "permutation" in res["method"]


def test_a_pre_trend_is_caught() -> None:
    """Treated products drifting up 8% a week: the pre-trend check says so."""
    rows = []
    for pid, day, amount in panel_rows(0.0, seed=11):
        if pid in TREATED:
            weeks = (day - FIRST).days / 7
            amount = (amount * Decimal(repr(1.08**weeks))).quantize(Decimal("0.01"))
        rows.append((pid, day, amount))
    res = lift.analyse(lift.make_panel(rows), TREATED, lift.Request(start=START), "x")
    assert res.doc["pre_trend"]["p_value"] < 0.05
    assert 0.03 < res.doc["pre_trend"]["relative_per_week"] < 0.13
    assert any(w.startswith("Pre-trend check failed") for w in res.warnings)


# --- refusals -------------------------------------------------------------------------


def _analyse(rows: list, treated: list[str], **kw) -> dict:
    return lift.analyse(lift.make_panel(rows), treated, lift.Request(**kw), "x").doc


def test_refuses_without_controls() -> None:
    rows = [r for r in panel_rows(0.15) if r[0] in TREATED]
    with pytest.raises(lift.QueryError, match="no control units"):
        _analyse(rows, TREATED, start=START)


def test_refuses_fewer_than_7_pre_days() -> None:
    with pytest.raises(lift.UsageError, match="has 6 days"):
        _analyse(
            panel_rows(0.15),
            TREATED,
            start=START,
            pre=(START - dt.timedelta(days=6), START - dt.timedelta(days=1)),
        )


def test_refuses_a_start_outside_the_data() -> None:
    with pytest.raises(lift.UsageError, match="outside the data"):
        _analyse(panel_rows(0.15), TREATED, start=dt.date(2025, 7, 1))
    with pytest.raises(lift.UsageError, match="outside the data"):
        _analyse(panel_rows(0.15), TREATED, start=FIRST)


def test_two_series_store_against_comparison() -> None:
    """One store against one comparison series: the log ratio with HAC errors."""
    import random

    rng = random.Random(5)
    rows = []
    for t in range(70):
        day = FIRST + dt.timedelta(days=t)
        market = 10000 * (2.5 if t >= 40 else 1.0) * math.exp(rng.gauss(0, 0.1))
        lift_ = 1.2 if t >= 42 else 1.0
        store = market * 0.3 * lift_ * math.exp(rng.gauss(0, 0.08))
        rows.append(("store", day, Decimal(f"{store:.2f}")))
        rows.append(("comparison", day, Decimal(f"{market:.2f}")))
    doc = _analyse(rows, ["store"], start=FIRST + dt.timedelta(days=42))
    e = doc["effect"]
    assert e["relative_ci_low"] <= 0.2 <= e["relative_ci_high"] and e["relative_ci_low"] > 0
    assert "HAC" in doc["method"]
    assert (
        doc["verdict"].startswith("Seeding added about") and "the store's sales" in doc["verdict"]
    )


# --- the command on a store -----------------------------------------------------------


@pytest.fixture(scope="module")
def lift_store(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    from redcat_cli.cli import cli

    d = tmp_path_factory.mktemp("lift")
    csv = sycm_csv(d / "生意参谋_商品日报.csv", panel_rows(0.15))
    store = d / "store.duckdb"
    res = CliRunner().invoke(
        cli, ["ingest", "--store", str(store), str(csv)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    return store


def test_cli_json_shape(run, lift_store: Path) -> None:
    res = run(
        "lift",
        "--store",
        str(lift_store),
        "--treated",
        ",".join(TREATED),
        "--start",
        str(START),
        "--json",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    jsonschema = pytest.importorskip("jsonschema")
    from redcat_cli import schemas

    jsonschema.Draft202012Validator(
        schemas.load("lift"), format_checker=jsonschema.FormatChecker()
    ).validate(doc)
    for key in (
        "outcome",
        "method",
        "treated",
        "controls",
        "pre",
        "post",
        "effect",
        "naive",
        "placebo",
        "events",
        "warnings",
        "verdict",
    ):
        assert key in doc
    assert set(doc["effect"]) == {
        "relative",
        "relative_ci_low",
        "relative_ci_high",
        "incremental",
        "incremental_ci_low",
        "incremental_ci_high",
        "p_value",
        "level",
    }
    assert set(doc["placebo"]) == {
        "start",
        "relative",
        "relative_ci_low",
        "relative_ci_high",
        "p_value",
    }
    assert doc["effect"]["level"] == 0.95
    assert (
        isinstance(doc["effect"]["incremental"], str)
        and doc["effect"]["incremental"].count(".") == 1
    )
    assert len(doc["effect"]["incremental"].split(".")[1]) == 2
    assert doc["treated"] == TREATED and doc["controls"] == 30
    assert abs(doc["effect"]["relative"] - 0.15) < 0.05
    assert any("618" in w for w in doc["warnings"])


def test_cli_table_and_treated_file(run, lift_store: Path, tmp_path: Path) -> None:
    f = tmp_path / "seeded.txt"
    f.write_text("# seeded in June\n" + "\n".join(TREATED) + "\n", encoding="utf-8")
    res = run("lift", "--store", str(lift_store), "--treated-file", str(f), "--start", str(START))
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())  # the caption wraps with the terminal's width
    assert "Seeding added about 15%" in text
    assert "a fake start on 2025-04-30" in text


def test_cli_unknown_product_is_refused(run, lift_store: Path) -> None:
    res = run("lift", "--store", str(lift_store), "--treated", "999", "--start", str(START))
    assert res.exit_code == 1
    assert "holds no product 999" in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_qianniu_needs_orders_and_names_what_you_have(
    run, lift_store: Path, tmp_path: Path
) -> None:
    comp = tmp_path / "c.csv"
    comp.write_text("date,amount\n2025-05-01,100\n", encoding="utf-8")
    res = run(
        "lift",
        "--store",
        str(lift_store),
        "--outcome",
        "qianniu",
        "--comparison",
        str(comp),
        "--start",
        str(START),
    )
    assert res.exit_code == 1
    assert "千牛 订单报表" in res.stderr and "you have 生意参谋 商品日报" in res.stderr
    assert "the store holds none (it holds 生意参谋 商品日报)" in res.stderr


def test_cli_needs_treated(run, lift_store: Path) -> None:
    res = run("lift", "--store", str(lift_store), "--start", str(START))
    assert res.exit_code == 2
    assert "--treated" in res.stderr


def test_read_comparison_reports_the_line(tmp_path: Path) -> None:
    from redcat_cli.errors import IngestError

    f = tmp_path / "c.csv"
    f.write_text("date,amount\n2025-05-01,100\n2025-05-02,abc\n", encoding="utf-8")
    with pytest.raises(IngestError, match="line 3"):
        lift.read_comparison(str(f))
    assert product_id(3) == "710000000003"


def test_cli_store_against_a_comparison_series(run, tmp_path: Path) -> None:
    """千牛 paid GMV per day against a comparison that is the same series ×2 with a wobble:
    no effect, the interval holds 0; the store's daily sales are the 千牛 file's, by hand."""
    import duckdb

    examples = Path(__file__).resolve().parents[1] / "examples"
    store = tmp_path / "s.duckdb"
    r = run(
        "ingest", "-q", "--store", str(store), str(examples / "千牛_订单报表_202506_导出0701.csv")
    )
    assert r.exit_code == 0, r.output
    con = duckdb.connect(str(store), read_only=True)
    daily = con.execute(
        "SELECT CAST(paid_at AS DATE), sum(paid_amount) FROM qianniu "
        "WHERE paid_at IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    con.close()
    comp = tmp_path / "category.csv"
    lines = ["date,amount"]
    for i, (day, amount) in enumerate(daily):
        lines.append(f"{day},{amount * 2 * Decimal(repr(1 + 0.05 * math.sin(i))):.2f}")
    comp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run(
        "lift",
        "--store",
        str(store),
        "--outcome",
        "qianniu",
        "--comparison",
        str(comp),
        "--start",
        "2025-06-15",
        "--json",
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["treated"] == ["store"] and doc["controls"] == 1
    assert doc["pre"] == {"from": "2025-06-01", "to": "2025-06-14"}
    e = doc["effect"]
    assert e["relative_ci_low"] <= 0 <= e["relative_ci_high"]
    post = sum((a for d, a in daily if str(d) >= "2025-06-15"), Decimal(0))
    assert doc["actual"] == f"{post:.2f}"
