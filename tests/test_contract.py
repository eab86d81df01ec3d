"""Contract loading: good contracts load exactly; every bad contract is refused with FILE:LINE."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from redcat_cli.errors import ContractError
from redcat_cli.settle.contract import KEYS, json_schema, load_contract, parse_contract
from tests.contract_cases import GOOD  # the contract the golden cases vary too

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = sorted((ROOT / "configs" / "contracts").glob("*.yaml"))


def problems(text: str) -> list[str]:
    with pytest.raises(ContractError) as info:
        parse_contract(text, "deal.yaml")
    err = info.value
    n = len(err.problems)
    assert err.message == f"contract deal.yaml is invalid ({n} problem{'s' if n != 1 else ''})"
    for p in err.problems:
        assert p.startswith("deal.yaml:"), p
    return err.problems


def only(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# --- good contracts ----------------------------------------------------------------------


def test_good_contract_loads_exact_values():
    c = parse_contract(GOOD, "deal.yaml")
    assert c.contract_id == "RC-2025-0618"
    assert c.period.start == dt.date(2025, 6, 1) and c.period.end == dt.date(2025, 6, 30)
    assert c.cycle == "month"
    assert (c.gmv.source, c.gmv.window_days, c.gmv.flow_type) == ("xinghe", 30, "全部流量")
    g = c.roi_guarantee
    assert g.targets[0].roi == Decimal("3.0") and g.targets[0].start == dt.date(2025, 6, 1)
    assert g.trigger_factor == Decimal("0.8")
    assert g.min_spend == Decimal("10000.00") and g.min_orders == 10
    assert g.cap.amount == Decimal("50000.00") and g.cap.pct_of_spend == Decimal("0.30")
    m = c.matched_investment
    assert (m.ratio, m.threshold, m.cap) == (
        Decimal("1.0"),
        Decimal("100000.00"),
        Decimal("500000.00"),
    )
    assert isinstance(m.threshold, Decimal)
    assert c.rounding == "half_up"
    assert len(c.sha256) == 64
    assert c.line_of("gmv.window_days") == 8


def test_defaults():
    c = parse_contract(
        "contract_id: X\nmerchant: m\nperiod: {start: 2025-06-01, end: 2025-06-01}\n"
        "gmv: {source: xinghe, window_days: 7}\n",
        "deal.yaml",
    )
    assert (c.currency, c.cycle, c.rounding, c.gmv.flow_type) == (
        "CNY",
        "period",
        "half_up",
        "全部流量",
    )
    assert c.roi_guarantee is None and c.matched_investment is None and c.scope.everything


def test_ids_are_kept_as_written():
    # YAML 1.1 would read 012345 as the octal number 5349; IDs stay text
    c = parse_contract(
        GOOD.replace("contract_id: RC-2025-0618", "contract_id: 012345")
        + "scope:\n  note_ids: [622941fa000000000102924f, 00123]\n  plan_ids: [0777]\n",
        "deal.yaml",
    )
    assert c.contract_id == "012345"
    assert c.scope.note_ids == ("00123", "622941fa000000000102924f")
    assert c.scope.plan_ids == ("0777",)


def test_whole_number_money_is_accepted_from_its_text():
    c = parse_contract(GOOD.replace('min_spend: "10000.00"', "min_spend: 10000"), "deal.yaml")
    assert c.roi_guarantee.min_spend == Decimal("10000")


def test_targets_and_tiers():
    text = GOOD.replace(
        'target_roi: "3.0"',
        'targets:\n    - {from: 2025-06-01, roi: "3.0"}\n    - {from: 2025-06-15, roi: "2.5"}',
    ).replace(
        "formula: qianchuan",
        'formula: tiered\n  tiers:\n    - {roi_from: "0", roi_to: "2.0", rate: "0.20"}\n    - {roi_from: "2.0", roi_to: "2.4", rate: "0.10"}',
    )
    g = parse_contract(text, "deal.yaml").roi_guarantee
    assert [(t.start.isoformat(), str(t.roi)) for t in g.targets] == [
        ("2025-06-01", "3.0"),
        ("2025-06-15", "2.5"),
    ]
    assert [(str(t.roi_from), str(t.roi_to), str(t.rate)) for t in g.tiers] == [
        ("0", "2.0", "0.20"),
        ("2.0", "2.4", "0.10"),
    ]


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_bundled_contracts_load(path):
    c = load_contract(path)
    assert c.contract_id and c.period.start <= c.period.end


def test_bundled_contracts_cover_every_formula():
    formulas = {load_contract(p).roi_guarantee.formula for p in CONTRACTS}
    assert formulas == {"qianchuan", "xhs", "tiered"}


def test_example_contract_terms():
    c = load_contract(ROOT / "configs" / "contracts" / "example.yaml")
    assert (c.period.start, c.period.end) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert (c.gmv.source, c.gmv.window_days, c.gmv.flow_type) == ("xinghe", 30, "全部流量")
    g, m = c.roi_guarantee, c.matched_investment
    assert (g.formula, g.targets[0].roi, g.trigger_factor) == (
        "qianchuan",
        Decimal("3.0"),
        Decimal("0.8"),
    )
    assert g.cap.amount is not None
    assert (m.ratio, m.threshold, m.cap) == (
        Decimal("1.0"),
        Decimal("10000.00"),
        Decimal("50000.00"),
    )


# --- every bad contract ------------------------------------------------------------------


def test_misspelt_key_suggests_the_nearest():
    p = only(GOOD.replace("min_spend:", "minimun_spend:"))
    assert p.startswith("deal.yaml:15: unknown key roi_guarantee.minimun_spend")
    assert p.endswith("hint: did you mean min_spend?")


def test_unknown_key_at_the_wrong_level_says_where_it_belongs():
    p = only(GOOD + 'trigger_factor: "0.8"\n')
    assert p.startswith("deal.yaml:25: unknown key trigger_factor")
    assert "belongs under roi_guarantee" in p


def test_duplicate_key():
    p = only(GOOD.replace('  ratio: "1.0"\n', '  ratio: "1.0"\n  ratio: "2.0"\n'))
    assert p.startswith(
        "deal.yaml:21: duplicate key matched_investment.ratio (first given on line 20)"
    )


def test_duplicate_top_level_key():
    p = only(GOOD + "rounding: half_even\n")
    assert p.startswith("deal.yaml:25: duplicate key rounding (first given on line 24)")


@pytest.mark.parametrize(
    ("old", "new", "line", "key"),
    [
        ('cap: "500000.00"', "cap: 1000.10", 22, "matched_investment.cap"),
        ('min_spend: "10000.00"', "min_spend: 10000.00", 15, "roi_guarantee.min_spend"),
        ('trigger_factor: "0.8"', "trigger_factor: 0.8", 12, "roi_guarantee.trigger_factor"),
        ('target_roi: "3.0"', "target_roi: 3.0", 11, "roi_guarantee.target_roi"),
        ('pct_of_spend: "0.30"', "pct_of_spend: 0.30", 17, "roi_guarantee.cap.pct_of_spend"),
    ],
)
def test_bare_float_money_and_rates_are_refused(old, new, line, key):
    p = only(GOOD.replace(old, new))
    value = new.split(": ")[1]
    assert p.startswith(f"deal.yaml:{line}: {key}: {value} is a bare YAML float")
    assert f'quote it ({key.rsplit(".", 1)[1]}: "{value}")' in p
    assert "through float" in p


@pytest.mark.parametrize(
    ("drop", "key"),
    [
        ("contract_id: RC-2025-0618\n", "contract_id"),
        ("merchant: 某某美妆旗舰店\n", "merchant"),
        ("period: {start: 2025-06-01, end: 2025-06-30}\n", "period"),
        ("  window_days: 30\n", "gmv.window_days"),
        ('  trigger_factor: "0.8"\n', "roi_guarantee.trigger_factor"),
        ("  formula: qianchuan\n", "roi_guarantee.formula"),
        ('  target_roi: "3.0"\n', "roi_guarantee.target_roi"),
        ('  threshold: "100000.00"\n', "matched_investment.threshold"),
    ],
)
def test_missing_required_keys(drop, key):
    assert drop in GOOD
    p = only(GOOD.replace(drop, ""))
    assert f"missing required key {key}" in p


def test_missing_period_start():
    p = only(
        GOOD.replace("period: {start: 2025-06-01, end: 2025-06-30}", "period: {end: 2025-06-30}")
    )
    assert p.startswith("deal.yaml:4: missing required key period.start")


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        (
            "period: {start: 2025-06-01, end: 2025-06-30}",
            "period: June",
            "period is 'June' (expected a mapping of keys)",
        ),
        (
            "  window_days: 30",
            "  window_days: thirty",
            "gmv.window_days is 'thirty' (expected a whole number)",
        ),
        (
            "  min_orders: 10",
            "  min_orders: 1.5",
            "roi_guarantee.min_orders is '1.5' (a float) (expected a whole number)",
        ),
        (
            "start: 2025-06-01",
            "start: 2025-06-31",
            "period.start is '2025-06-31' (expected a date written YYYY-MM-DD)",
        ),
        (
            "start: 2025-06-01",
            "start: yesterday",
            "period.start is 'yesterday' (expected a date written YYYY-MM-DD)",
        ),
        (
            "cycle: month",
            "cycle: monthly",
            "cycle is 'monthly' (expected one of period, month, week, day); hint: did you mean month?",
        ),
        ("formula: qianchuan", "formula: qianchaun", "hint: did you mean qianchuan?"),
        (
            "rounding: half_up",
            "rounding: bankers",
            "rounding is 'bankers' (expected one of half_up, half_even)",
        ),
        (
            "  source: xinghe",
            "  source: taobao",
            "gmv.source is 'taobao' (expected one of xinghe, juguang)",
        ),
        (
            'cap: "500000.00"',
            'cap: "lots"',
            "matched_investment.cap is 'lots' (expected a decimal number in quotes",
        ),
        (
            'target_roi: "3.0"',
            "target_roi: yes",
            "roi_guarantee.target_roi is 'yes' (a yes/no value)",
        ),
        (
            "currency: CNY",
            "currency: rmb",
            "currency is 'rmb' (expected an ISO 4217 code such as CNY)",
        ),
        (
            '  min_spend: "10000.00"',
            '  min_spend: "10000.005"',
            "money with at most two decimal places",
        ),
        (
            "  window_days: 30",
            "  window_days: 31",
            "gmv.window_days is 31 (expected one of 1, 3, 7, 15, 30 for source xinghe)",
        ),
        (
            "payout_form: ad_credit",
            "payout_form: coupons",
            "roi_guarantee.payout_form is 'coupons'",
        ),
    ],
)
def test_wrong_types_and_values(old, new, expect):
    assert old in GOOD
    p = only(GOOD.replace(old, new, 1))
    assert expect in p


def test_scope_ids_must_be_a_list():
    p = only(GOOD + "scope:\n  note_ids: 622941fa000000000102924f\n")
    assert p.startswith(
        "deal.yaml:26: scope.note_ids is '622941fa000000000102924f' (expected a list of IDs)"
    )


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        (
            'refund_rate: "1.0"',
            'refund_rate: "-0.1"',
            "roi_guarantee.refund_rate is negative (-0.1)",
        ),
        ('ratio: "1.0"', 'ratio: "-1"', "matched_investment.ratio is negative (-1)"),
        (
            'trigger_factor: "0.8"',
            'trigger_factor: "-0.8"',
            "roi_guarantee.trigger_factor is negative (-0.8)",
        ),
        (
            'pct_of_spend: "0.30"',
            'pct_of_spend: "-0.30"',
            "roi_guarantee.cap.pct_of_spend is negative",
        ),
        (
            'refund_rate: "1.0"',
            'refund_rate: "1.5"',
            "roi_guarantee.refund_rate is 1.5 (expected a rate between 0 and 1)",
        ),
        (
            'target_roi: "3.0"',
            'target_roi: "0"',
            "roi_guarantee.target_roi is 0 (expected a rate > 0); hint: a zero here would divide by zero",
        ),
    ],
)
def test_negative_and_out_of_range_rates(old, new, expect):
    p = only(GOOD.replace(old, new))
    assert expect in p


TIERED = GOOD.replace("formula: qianchuan", "formula: tiered\n  tiers:\n{bands}")


def tiered(*bands: str) -> str:
    return TIERED.replace("{bands}", "".join(f"    - {b}\n" for b in bands))


def test_tier_gap():
    p = only(
        tiered(
            '{roi_from: "0", roi_to: "2.0", rate: "0.20"}',
            '{roi_from: "2.5", roi_to: "3.0", rate: "0.10"}',
        )
    )
    assert p.startswith("deal.yaml:16: roi_guarantee.tiers gap: nothing covers ROI from 2.0 to 2.5")
    assert p.endswith('hint: start it at roi_from: "2.0"')


def test_tier_gap_beside_a_band_with_a_bad_rate_is_reported_too():
    found = problems(
        tiered(
            '{roi_from: "0", roi_to: "2.0", rate: "1.10"}',
            '{roi_from: "2.1", roi_to: "3.0", rate: "0.10"}',
        )
    )
    assert len(found) == 2
    assert "tiers[0].rate is 1.10" in found[0]
    assert "gap: nothing covers ROI from 2.0 to 2.1" in found[1]


def test_tier_overlap():
    p = only(
        tiered(
            '{roi_from: "0", roi_to: "2.0", rate: "0.20"}',
            '{roi_from: "1.5", roi_to: "3.0", rate: "0.10"}',
        )
    )
    assert p.startswith(
        "deal.yaml:16: roi_guarantee.tiers overlap: [1.5, 3.0) starts inside [0, 2.0)"
    )


def test_tier_disorder():
    p = only(
        tiered(
            '{roi_from: "2.0", roi_to: "2.4", rate: "0.10"}',
            '{roi_from: "0", roi_to: "2.0", rate: "0.20"}',
        )
    )
    assert p.startswith("deal.yaml:16: roi_guarantee.tiers out of order")
    assert "hint: sort the bands by roi_from" in p


def test_tier_reversed_band():
    p = only(tiered('{roi_from: "2.0", roi_to: "1.0", rate: "0.10"}'))
    assert "roi_guarantee.tiers[0] is empty or reversed: roi_to 1.0 ≤ roi_from 2.0" in p


def test_tier_rate_as_bare_float_and_missing_key():
    found = problems(
        tiered("{roi_from: '0', roi_to: '2.0', rate: 0.20}", "{roi_from: '2.0', rate: '0.1'}")
    )
    assert any("roi_guarantee.tiers[0].rate: 0.20 is a bare YAML float" in p for p in found)
    assert any("missing required key roi_guarantee.tiers[1].roi_to" in p for p in found)


def test_tiered_needs_tiers_and_tiers_need_tiered():
    assert "missing required key roi_guarantee.tiers" in only(
        GOOD.replace("formula: qianchuan", "formula: tiered")
    )
    p = only(
        GOOD.replace(
            "formula: qianchuan",
            'formula: xhs\n  tiers: [{roi_from: "0", roi_to: "1", rate: "0.1"}]',
        )
    )
    assert "roi_guarantee.tiers is given but formula is xhs" in p


def test_end_before_start():
    p = only(
        GOOD.replace("{start: 2025-06-01, end: 2025-06-30}", "{start: 2025-06-30, end: 2025-06-01}")
    )
    assert p == (
        "deal.yaml:4: period.end 2025-06-01 is before period.start 2025-06-30 "
        "(expected end on or after start); hint: both dates are inclusive"
    )


def test_targets_must_cover_the_period_from_its_first_day():
    p = only(GOOD.replace('target_roi: "3.0"', 'targets:\n    - {from: 2025-06-02, roi: "3.0"}'))
    assert "targets start on 2025-06-02, after the period starts (2025-06-01)" in p
    assert "hint: make the first target from: 2025-06-01" in p


def test_targets_out_of_order_or_outside_the_period():
    found = problems(
        GOOD.replace(
            'target_roi: "3.0"',
            'targets:\n    - {from: 2025-06-01, roi: "3.0"}\n    - {from: 2025-06-01, roi: "2.0"}\n    - {from: 2025-07-05, roi: "2.0"}',
        )
    )
    assert any(
        "targets[1].from 2025-06-01 is not after the previous target's 2025-06-01" in p
        for p in found
    )
    assert any(
        "targets[2].from 2025-07-05 is outside the period 2025-06-01..2025-06-30" in p
        for p in found
    )


def test_target_roi_and_targets_together():
    p = only(
        GOOD.replace(
            'target_roi: "3.0"', 'target_roi: "3.0"\n  targets: [{from: 2025-06-01, roi: "3.0"}]'
        )
    )
    assert "roi_guarantee has both target_roi and targets" in p


def test_flow_type_with_juguang_and_juguang_windows():
    found = problems(
        GOOD.replace("source: xinghe", "source: juguang").replace(
            "window_days: 30", "window_days: 3"
        )
    )
    assert any("gmv.flow_type is given for source juguang" in p for p in found)
    assert any(
        "gmv.window_days is 3 (expected one of 7, 15, 30 for source juguang)" in p for p in found
    )


def test_invalid_yaml_has_a_line():
    p = only(GOOD.replace("merchant: 某某美妆旗舰店", "merchant: [unclosed"))
    assert p.startswith("deal.yaml:3: not valid YAML") or p.startswith(
        "deal.yaml:4: not valid YAML"
    )


def test_empty_file_and_not_a_mapping():
    assert "the file is empty" in only("")
    assert "the contract is a list" in only("- a\n- b\n")


def test_every_problem_is_listed_in_one_run():
    bad = (
        GOOD.replace("min_spend:", "minimun_spend:")
        .replace('cap: "500000.00"', "cap: 1000.10")
        .replace("{start: 2025-06-01, end: 2025-06-30}", "{start: 2025-06-30, end: 2025-06-01}")
        .replace('refund_rate: "1.0"', 'refund_rate: "-1"')
        .replace("cycle: month", "cycle: fortnight")
    )
    found = problems(bad)
    assert len(found) == 5
    # sorted by line
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines) == [4, 5, 14, 15, 22]


def test_missing_file():
    with pytest.raises(ContractError, match="does not exist"):
        load_contract("/nonexistent/deal.yaml")


# --- JSON Schema -------------------------------------------------------------------------


def test_schema_lists_the_same_keys_as_the_loader():
    s = json_schema()
    assert tuple(s["properties"]) == KEYS[""]
    assert tuple(s["properties"]["roi_guarantee"]["properties"]) == KEYS["roi_guarantee"]
    assert (
        tuple(s["properties"]["roi_guarantee"]["properties"]["tiers"]["items"]["properties"])
        == KEYS["roi_guarantee.tiers[]"]
    )
    assert s["required"] == ["contract_id", "merchant", "period", "gmv"]
    assert s["additionalProperties"] is False
    json.dumps(s)  # serialisable


# --- the schema against an independent validator -----------------------------------------

EXAMPLES = sorted({*CONTRACTS, ROOT / "examples" / "contract.yaml"})


def as_json(text: str) -> object:
    """A contract as a JSON document: YAML's dates become ISO strings, as JSON would hold them."""
    import yaml

    return json.loads(json.dumps(yaml.safe_load(text), default=str))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_contract_is_valid_against_the_schema(path):
    import jsonschema

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(as_json(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("min_spend:", "minimun_spend:"),  # an unknown key
        ('target_roi: "3.0"', 'target_roi: "0"'),  # a zero target
        ('target_roi: "3.0"', "target_roi: 2.5"),  # a bare float (3.0 would be whole to JSON)
        ('refund_rate: "1.0"', 'refund_rate: "1.5"'),  # a rate above 1
        ('min_spend: "10000.00"', 'min_spend: "10000.005"'),  # money below the fen
        ('min_spend: "10000.00"', 'min_spend: "-1"'),  # negative money
        ("cycle: month", "cycle: monthly"),  # not a cycle
        ("  window_days: 30\n", ""),  # a required key missing
        ("start: 2025-06-01", 'start: "2025-06-31"'),  # not a date
        ("formula: qianchuan", "formula: tiered"),  # tiered without tiers
        ('target_roi: "3.0"', 'target_roi: "3.0"\n  targets: [{from: 2025-06-01, roi: "3.0"}]'),
    ],
)
def test_the_schema_refuses_bad_contracts_too(old, new):
    import jsonschema

    assert old in GOOD
    validator = jsonschema.Draft202012Validator(
        json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    assert validator.is_valid(as_json(GOOD))
    assert not validator.is_valid(as_json(GOOD.replace(old, new, 1)))
    # and the loader refuses each of them as well
    assert problems(GOOD.replace(old, new, 1))


def test_the_model_reads_plain_data_with_the_same_rules():
    """JSON (or a dict built in code) goes through the same model: a float is still refused."""
    from pydantic import ValidationError

    from redcat_cli.settle.contract_model import validate

    data = as_json(GOOD)
    model = validate(data)
    assert model.roi_guarantee.min_spend == Decimal("10000.00")
    assert model.period.start == dt.date(2025, 6, 1)
    data["roi_guarantee"]["min_spend"] = 10000.5
    data["cycle"] = "monthly"
    with pytest.raises(ValidationError) as info:
        validate(data)
    assert len(info.value.errors()) == 1  # one error that carries every problem of the file
    assert len(info.value.errors()[0]["ctx"]["says"]) == 2
