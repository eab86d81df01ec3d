"""Bad (and a few good) contracts whose `redcat contract check` output is recorded under
tests/data/contract_golden/: the recordings are the reference the loader's messages are held to,
byte for byte (stdout, stderr, exit code, and the JSON error of `redcat settle --json`).

Record them again only when a message is meant to change:
    python tests/contract_cases.py --record
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "data" / "contract_golden"
EXAMPLE = (ROOT / "configs" / "contracts" / "example.yaml").read_text(encoding="utf-8")

GOOD = """\
contract_id: RC-2025-0618
merchant: 某某美妆旗舰店
currency: CNY
period: {start: 2025-06-01, end: 2025-06-30}
cycle: month
gmv:
  source: xinghe
  window_days: 30
  flow_type: 全部流量
roi_guarantee:
  target_roi: "3.0"
  trigger_factor: "0.8"
  formula: qianchuan
  refund_rate: "1.0"
  min_spend: "10000.00"
  min_orders: 10
  cap: {amount: "50000.00", pct_of_spend: "0.30"}
  payout_form: ad_credit
matched_investment:
  ratio: "1.0"
  threshold: "100000.00"
  cap: "500000.00"
  payout_form: media_credit
rounding: half_up
"""
TIERED = GOOD.replace("formula: qianchuan", "formula: tiered\n  tiers:\n{bands}")
MINIMAL = (
    "contract_id: X\nmerchant: m\nperiod: {start: 2025-06-01, end: 2025-06-30}\n"
    "gmv: {source: xinghe, window_days: 7}\n"
)


def tiered(*bands: str) -> str:
    return TIERED.replace("{bands}", "".join(f"    - {b}\n" for b in bands))


def sub(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    # the good ones: their "ok" line is recorded too
    c["good"] = GOOD
    c["good_minimal"] = MINIMAL
    c["good_example"] = EXAMPLE
    c["good_ids_as_written"] = sub(GOOD, ("contract_id: RC-2025-0618", "contract_id: 012345")) + (
        "scope:\n  note_ids: [622941fa000000000102924f, 00123]\n  plan_ids: [0777]\n"
    )
    c["good_targets_tiers"] = sub(
        GOOD,
        (
            'target_roi: "3.0"',
            'targets:\n    - {from: 2025-06-01, roi: "3.0"}\n    - {from: 2025-06-15, roi: "2.5"}',
        ),
        (
            "formula: qianchuan",
            'formula: tiered\n  tiers:\n    - {roi_from: "0", roi_to: "2.0", rate: "0.20"}\n'
            '    - {roi_from: "2.0", roi_to: "2.4", rate: "0.10"}',
        ),
    )
    c["good_quoted_window_and_int_money"] = sub(
        GOOD,
        ("window_days: 30", 'window_days: "30"'),
        ('min_spend: "10000.00"', "min_spend: 10000"),
    )
    # unknown, misplaced and duplicate keys
    c["misspelt_key"] = sub(GOOD, ("min_spend:", "minimun_spend:"))
    c["key_at_wrong_level"] = GOOD + 'trigger_factor: "0.8"\n'
    c["unknown_key_no_suggestion"] = GOOD + "zzzz: 1\n"
    c["duplicate_key"] = sub(GOOD, ('  ratio: "1.0"\n', '  ratio: "1.0"\n  ratio: "2.0"\n'))
    c["duplicate_top_key"] = GOOD + "rounding: half_even\n"
    c["non_scalar_key"] = GOOD + "? [a, b]\n: 1\n"
    c["unknown_key_in_flow_map"] = sub(
        GOOD, ("{start: 2025-06-01,", "{start: 2025-06-01, stat: 2025-06-01,")
    )
    c["unknown_in_target_item"] = sub(
        GOOD, ('target_roi: "3.0"', 'targets:\n    - {from: 2025-06-01, roi: "3.0", rio: "2"}')
    )
    c["unknown_in_cap"] = sub(
        GOOD, ('{amount: "50000.00",', '{amount: "50000.00", percent: "0.1",')
    )
    # bare floats
    for name, old, new in [
        ("float_matched_cap", 'cap: "500000.00"', "cap: 1000.10"),
        ("float_min_spend", 'min_spend: "10000.00"', "min_spend: 10000.00"),
        ("float_trigger", 'trigger_factor: "0.8"', "trigger_factor: 0.8"),
        ("float_target", 'target_roi: "3.0"', "target_roi: 3.0"),
        ("float_pct", 'pct_of_spend: "0.30"', "pct_of_spend: 0.30"),
        ("float_ratio", 'ratio: "1.0"', "ratio: 1.0"),
        ("float_exponent", 'threshold: "100000.00"', "threshold: 1e5"),
        ("float_window", "window_days: 30", "window_days: 30.0"),
        ("float_contract_id", "contract_id: RC-2025-0618", "contract_id: 1.5"),
        ("float_cycle", "cycle: month", "cycle: 1.5"),
    ]:
        c[name] = sub(GOOD, (old, new))
    # missing keys
    for name, drop in [
        ("missing_contract_id", "contract_id: RC-2025-0618\n"),
        ("missing_merchant", "merchant: 某某美妆旗舰店\n"),
        ("missing_period", "period: {start: 2025-06-01, end: 2025-06-30}\n"),
        ("missing_window", "  window_days: 30\n"),
        ("missing_source", "  source: xinghe\n"),
        ("missing_trigger", '  trigger_factor: "0.8"\n'),
        ("missing_formula", "  formula: qianchuan\n"),
        ("missing_target", '  target_roi: "3.0"\n'),
        ("missing_threshold", '  threshold: "100000.00"\n'),
        ("missing_ratio", '  ratio: "1.0"\n'),
    ]:
        c[name] = sub(GOOD, (drop, ""))
    c["missing_period_start"] = sub(
        GOOD, ("{start: 2025-06-01, end: 2025-06-30}", "{end: 2025-06-30}")
    )
    c["missing_everything"] = "currency: CNY\n"
    c["missing_gmv_and_bad_period"] = (
        "contract_id: X\nmerchant: m\nperiod: {start: 2025-06-30, end: 2025-06-01}\n"
    )
    c["missing_several_guarantee"] = sub(
        GOOD,
        ('  trigger_factor: "0.8"\n', ""),
        ("  formula: qianchuan\n", ""),
        ('  target_roi: "3.0"\n', ""),
    )
    # wrong types and values
    for name, old, new in [
        ("period_text", "period: {start: 2025-06-01, end: 2025-06-30}", "period: June"),
        ("period_list", "period: {start: 2025-06-01, end: 2025-06-30}", "period: [2025-06-01]"),
        ("window_text", "  window_days: 30", "  window_days: thirty"),
        ("window_zero", "  window_days: 30", "  window_days: 0"),
        ("window_negative", "  window_days: 30", "  window_days: -7"),
        ("window_31", "  window_days: 30", "  window_days: 31"),
        ("window_bool", "  window_days: 30", "  window_days: yes"),
        ("window_empty", "  window_days: 30", "  window_days:"),
        ("min_orders_float", "  min_orders: 10", "  min_orders: 1.5"),
        ("min_orders_negative", "  min_orders: 10", "  min_orders: -1"),
        ("min_orders_list", "  min_orders: 10", "  min_orders: [1]"),
        ("start_bad_day", "start: 2025-06-01", "start: 2025-06-31"),
        ("start_word", "start: 2025-06-01", "start: yesterday"),
        ("start_int", "start: 2025-06-01", "start: 20250601"),
        ("start_empty", "start: 2025-06-01", "start: null"),
        ("start_quoted", "start: 2025-06-01", 'start: "2025-06-01"'),
        ("cycle_monthly", "cycle: month", "cycle: monthly"),
        ("cycle_map", "cycle: month", "cycle: {a: 1}"),
        ("formula_typo", "formula: qianchuan", "formula: qianchaun"),
        ("formula_upper", "formula: qianchuan", "formula: XHS"),
        ("rounding_bankers", "rounding: half_up", "rounding: bankers"),
        ("source_taobao", "  source: xinghe", "  source: taobao"),
        ("cap_words", 'cap: "500000.00"', 'cap: "lots"'),
        ("target_yes", 'target_roi: "3.0"', "target_roi: yes"),
        ("target_empty", 'target_roi: "3.0"', "target_roi: ~"),
        ("target_list", 'target_roi: "3.0"', "target_roi: [3]"),
        ("currency_rmb", "currency: CNY", "currency: rmb"),
        ("currency_empty", "currency: CNY", 'currency: ""'),
        ("merchant_empty", "merchant: 某某美妆旗舰店", "merchant:"),
        ("merchant_list", "merchant: 某某美妆旗舰店", "merchant: [a, b]"),
        ("merchant_bool", "merchant: 某某美妆旗舰店", "merchant: no"),
        ("contract_id_long", "contract_id: RC-2025-0618", "contract_id: " + "x" * 60),
        ("min_spend_three_places", 'min_spend: "10000.00"', 'min_spend: "10000.005"'),
        ("min_spend_plus", 'min_spend: "10000.00"', 'min_spend: "+10000.00"'),
        ("payout_coupons", "payout_form: ad_credit", "payout_form: coupons"),
        ("payout_media_for_guarantee", "payout_form: ad_credit", "payout_form: media_credit"),
        ("matched_payout_typo", "payout_form: media_credit", "payout_form: media_credt"),
        ("refund_negative", 'refund_rate: "1.0"', 'refund_rate: "-0.1"'),
        ("ratio_negative", 'ratio: "1.0"', 'ratio: "-1"'),
        ("trigger_negative", 'trigger_factor: "0.8"', 'trigger_factor: "-0.8"'),
        ("trigger_zero", 'trigger_factor: "0.8"', 'trigger_factor: "0"'),
        ("pct_negative", 'pct_of_spend: "0.30"', 'pct_of_spend: "-0.30"'),
        ("refund_over_one", 'refund_rate: "1.0"', 'refund_rate: "1.5"'),
        ("target_zero", 'target_roi: "3.0"', 'target_roi: "0"'),
        ("target_int_zero", 'target_roi: "3.0"', "target_roi: 0"),
        ("target_octal_like", 'target_roi: "3.0"', "target_roi: 012"),
        ("target_hex", 'target_roi: "3.0"', "target_roi: 0x1F"),
        ("target_huge_int", 'target_roi: "3.0"', "target_roi: " + "9" * 30),
        ("target_huge_text", 'target_roi: "3.0"', 'target_roi: "' + "9" * 60 + '"'),
        ("cap_empty_map", '{amount: "50000.00", pct_of_spend: "0.30"}', "{}"),
        ("cap_text", '{amount: "50000.00", pct_of_spend: "0.30"}', '"50000"'),
        (
            "gmv_text",
            "gmv:\n  source: xinghe\n  window_days: 30\n  flow_type: 全部流量\n",
            "gmv: xinghe\n",
        ),
        ("guarantee_list", "roi_guarantee:\n  target_roi", "roi_guarantee:\n  - target_roi"),
        ("flow_type_empty", "flow_type: 全部流量", "flow_type: ''"),
        ("flow_type_number", "flow_type: 全部流量", "flow_type: 3"),
    ]:
        c[name] = sub(GOOD, (old, new))
    c["guarantee_list"] = GOOD.split("roi_guarantee:")[0] + "roi_guarantee: [1, 2]\n"
    c["scope_not_list"] = GOOD + "scope:\n  note_ids: 622941fa000000000102924f\n"
    c["scope_empty_list"] = GOOD + "scope:\n  note_ids: []\n"
    c["scope_empty"] = GOOD + "scope: {}\n"
    c["scope_null_item"] = GOOD + "scope:\n  note_ids: [a, ~, '']\n  plan_ids: [[1]]\n"
    c["scope_text"] = GOOD + "scope: everything\n"
    # tiers
    c["tier_gap"] = tiered(
        '{roi_from: "0", roi_to: "2.0", rate: "0.20"}',
        '{roi_from: "2.5", roi_to: "3.0", rate: "0.10"}',
    )
    c["tier_gap_and_bad_rate"] = tiered(
        '{roi_from: "0", roi_to: "2.0", rate: "1.10"}',
        '{roi_from: "2.1", roi_to: "3.0", rate: "0.10"}',
    )
    c["tier_overlap"] = tiered(
        '{roi_from: "0", roi_to: "2.0", rate: "0.20"}',
        '{roi_from: "1.5", roi_to: "3.0", rate: "0.10"}',
    )
    c["tier_disorder"] = tiered(
        '{roi_from: "2.0", roi_to: "2.4", rate: "0.10"}',
        '{roi_from: "0", roi_to: "2.0", rate: "0.20"}',
    )
    c["tier_reversed"] = tiered('{roi_from: "2.0", roi_to: "1.0", rate: "0.10"}')
    c["tier_reversed_then_gap"] = tiered(
        '{roi_from: "0", roi_to: "1.0", rate: "0.1"}',
        '{roi_from: "2.0", roi_to: "1.0", rate: "0.10"}',
        '{roi_from: "1.5", roi_to: "3.0", rate: "0.1"}',
    )
    c["tier_float_and_missing"] = tiered(
        "{roi_from: '0', roi_to: '2.0', rate: 0.20}", "{roi_from: '2.0', rate: '0.1'}"
    )
    c["tier_bad_bound"] = tiered(
        '{roi_from: "x", roi_to: "2.0", rate: "0.20"}',
        '{roi_from: "2.0", roi_to: "3.0", rate: "0.10"}',
    )
    c["tier_item_text"] = tiered('{roi_from: "0", roi_to: "2.0", rate: "0.20"}', "band")
    c["tier_many_on_one_line"] = sub(
        GOOD,
        (
            "formula: qianchuan",
            'formula: tiered\n  tiers: [{roi_from: "0", roi_to: "1", rate: 0.2}, '
            '{roi_from: "2", roi_to: "1", rate: "x"}, {roi_to: "4"}]',
        ),
    )
    c["tiers_empty"] = sub(GOOD, ("formula: qianchuan", "formula: tiered\n  tiers: []"))
    c["tiers_text"] = sub(GOOD, ("formula: qianchuan", "formula: tiered\n  tiers: flat"))
    c["tiered_without_tiers"] = sub(GOOD, ("formula: qianchuan", "formula: tiered"))
    c["tiers_without_tiered"] = sub(
        GOOD,
        (
            "formula: qianchuan",
            'formula: xhs\n  tiers: [{roi_from: "0", roi_to: "1", rate: "0.1"}]',
        ),
    )
    c["tiers_with_bad_formula"] = sub(
        GOOD,
        (
            "formula: qianchuan",
            'formula: tierd\n  tiers: [{roi_from: "0", roi_to: "1", rate: "0.1"}]',
        ),
    )
    # periods and targets
    c["end_before_start"] = sub(
        GOOD, ("{start: 2025-06-01, end: 2025-06-30}", "{start: 2025-06-30, end: 2025-06-01}")
    )
    c["period_too_long"] = sub(
        GOOD, ("{start: 2025-06-01, end: 2025-06-30}", "{start: 0001-01-01, end: 9999-12-31}")
    )
    c["period_both_bad"] = sub(
        GOOD, ("{start: 2025-06-01, end: 2025-06-30}", "{start: x, end: 2025-02-30}")
    )
    c["targets_late_start"] = sub(
        GOOD, ('target_roi: "3.0"', 'targets:\n    - {from: 2025-06-02, roi: "3.0"}')
    )
    c["targets_order_and_outside"] = sub(
        GOOD,
        (
            'target_roi: "3.0"',
            'targets:\n    - {from: 2025-06-01, roi: "3.0"}\n    - {from: 2025-06-01, roi: "2.0"}\n'
            '    - {from: 2025-07-05, roi: "2.0"}',
        ),
    )
    c["targets_bad_items"] = sub(
        GOOD,
        (
            'target_roi: "3.0"',
            'targets:\n    - {from: 2025-06-01, roi: 3.0}\n    - {from: someday, roi: "0"}\n'
            '    - {roi: "2"}\n    - just text',
        ),
    )
    c["targets_empty"] = sub(GOOD, ('target_roi: "3.0"', "targets: []"))
    c["targets_text"] = sub(GOOD, ('target_roi: "3.0"', "targets: soon"))
    c["targets_with_bad_period"] = sub(
        GOOD,
        ("{start: 2025-06-01, end: 2025-06-30}", "{start: 2025-06-30, end: 2025-06-01}"),
        ('target_roi: "3.0"', 'targets:\n    - {from: 2025-06-05, roi: "3.0"}'),
    )
    c["target_roi_and_targets"] = sub(
        GOOD,
        ('target_roi: "3.0"', 'target_roi: "3.0"\n  targets: [{from: 2025-06-01, roi: "3.0"}]'),
    )
    c["juguang_flow_and_window"] = sub(
        GOOD, ("source: xinghe", "source: juguang"), ("window_days: 30", "window_days: 3")
    )
    c["juguang_window_bad_source_flow"] = sub(
        GOOD, ("source: xinghe", "source: tmall"), ("window_days: 30", "window_days: 3")
    )
    # YAML itself
    c["invalid_yaml"] = sub(GOOD, ("merchant: 某某美妆旗舰店", "merchant: [unclosed"))
    c["invalid_yaml_tab"] = sub(GOOD, ("  source: xinghe", "\tsource: xinghe"))
    c["empty_file"] = ""
    c["comment_only"] = "# nothing here\n"
    c["not_a_mapping"] = "- a\n- b\n"
    c["scalar_file"] = "just some words\n"
    c["alias"] = sub(
        GOOD, ('  ratio: "1.0"', '  ratio: &r "1.0"\n  cap: *r'), ('  cap: "500000.00"\n', "")
    )
    c["bom"] = "\ufeff" + GOOD
    c["nested_flow_lists"] = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    c["nested_flow_maps"] = "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n"
    c["nested_block"] = "".join(" " * i + "k:\n" for i in range(1300))
    c["huge_window"] = sub(EXAMPLE, ("window_days: 30", "window_days: " + "9" * 5000))
    c["huge_decimal"] = sub(EXAMPLE, ('target_roi: "3.0"', 'target_roi: "' + "9" * 5000 + '"'))
    # several problems at once, some on one line
    c["every_problem_at_once"] = sub(
        GOOD,
        ("min_spend:", "minimun_spend:"),
        ('cap: "500000.00"', "cap: 1000.10"),
        ("{start: 2025-06-01, end: 2025-06-30}", "{start: 2025-06-30, end: 2025-06-01}"),
        ('refund_rate: "1.0"', 'refund_rate: "-1"'),
        ("cycle: month", "cycle: fortnight"),
    )
    c["one_line_gmv"] = sub(
        GOOD,
        (
            "gmv:\n  source: xinghe\n  window_days: 30\n  flow_type: 全部流量\n",
            "gmv: {sorce: xinghe, window_days: 2.5, flow_type: ~, extra: 1}\n",
        ),
    )
    c["one_line_guarantee"] = GOOD.split("roi_guarantee:")[0] + (
        'roi_guarantee: {trigger_factor: 0.8, formula: qc, target_roi: "x", cap: {amount: 1.5}, min_orders: a}\n'
    )
    c["one_line_root"] = (
        "{contract_id: ~, merchant: [], cycle: often, rounding: up, currency: cny, zz: 1, "
        "period: {start: 2025-06-01, end: 2025-05-01}, gmv: {source: juguang, window_days: 1, flow_type: x}}\n"
    )
    c["missing_and_unknown_same_line"] = "contract_di: X\nmerchant: m\n"
    c["matched_all_bad"] = sub(
        GOOD,
        ('ratio: "1.0"', "ratio: 1.0"),
        ('threshold: "100000.00"', "threshold: -5"),
        ('cap: "500000.00"', 'cap: "1.234"'),
        ("payout_form: media_credit", "payout_form: [x]"),
    )
    c["guarantee_all_bad"] = sub(
        GOOD,
        ('target_roi: "3.0"', 'target_roi: "0"'),
        ('trigger_factor: "0.8"', "trigger_factor: x"),
        ("formula: qianchuan", "formula: tiered"),
        ('refund_rate: "1.0"', 'refund_rate: "2"'),
        ('min_spend: "10000.00"', "min_spend: 1.5"),
        ("min_orders: 10", "min_orders: ten"),
        ('{amount: "50000.00", pct_of_spend: "0.30"}', '{amount: "-1", pct_of_spend: "3"}'),
        ("payout_form: ad_credit", "payout_form: cash money"),
    )
    return c


CASES = _cases()


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """The CLI as a user runs it (standalone main), its streams captured."""
    from redcat_cli.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


def observe(name: str, folder: Path) -> str:
    """What `redcat contract check deal.yaml` and `redcat settle --contract deal.yaml --json`
    say about one case, run inside ``folder`` (so that the path in messages is relative)."""
    (folder / "deal.yaml").write_bytes(CASES[name].encode("utf-8"))
    here = os.getcwd()
    os.chdir(folder)
    try:
        check = run_cli(["contract", "check", "deal.yaml"])
        settle = run_cli(
            ["settle", "--contract", "deal.yaml", "--store", "absent.duckdb", "--json"]
        )
    finally:
        os.chdir(here)
    text = f"$ redcat contract check deal.yaml\nexit {check[0]}\n--- stdout\n{check[1]}--- stderr\n{check[2]}"
    if check[0] != 0:
        err = json.loads(settle[2])
        text += f"$ redcat settle --contract deal.yaml --json\nexit {settle[0]}\n--- stderr\n"
        text += json.dumps(err, ensure_ascii=False, indent=1) + "\n"
    return text


if __name__ == "__main__":
    import tempfile

    assert sys.argv[1:] == ["--record"], __doc__
    os.environ["NO_COLOR"] = "1"
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for old in GOLDEN.glob("*.txt"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            (GOLDEN / f"{name}.txt").write_text(observe(name, Path(tmp)), encoding="utf-8")
    print(f"recorded {len(CASES)} cases in {GOLDEN}")
