"""The settlement engine on hand-worked figures. Every expected value is worked out in a comment."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from redcat_cli.settle.contract import parse_contract
from redcat_cli.settle.engine import DayFacts, InputFile, cycles, round_fen, settle

D = Decimal
JUNE_1 = dt.date(2025, 6, 1)
AFTER = dt.date(2025, 12, 31)  # far enough after the period: the statement is final
EXPORTED = dt.date(2025, 12, 1)  # the exports behind the days' GMV: all mature


def contract(
    guarantee: str | None = None,
    matched: str | None = None,
    *,
    cycle: str = "period",
    period: str = "{start: 2025-06-01, end: 2025-06-30}",
    rounding: str = "half_up",
    window: int = 30,
):
    text = f"""\
contract_id: T-1
merchant: 测试旗舰店
period: {period}
cycle: {cycle}
gmv: {{source: xinghe, window_days: {window}, flow_type: 全部流量}}
rounding: {rounding}
"""
    if guarantee:
        text += "roi_guarantee:\n" + "".join(
            f"  {line}\n" for line in guarantee.strip().splitlines()
        )
    if matched:
        text += "matched_investment:\n" + "".join(
            f"  {line}\n" for line in matched.strip().splitlines()
        )
    return parse_contract(text, "test.yaml")


def guarantee(
    formula: str = "qianchuan",
    target: str = 'target_roi: "3"',
    factor: str = "0.8",
    extra: str = "",
) -> str:
    return f'{target}\ntrigger_factor: "{factor}"\nformula: {formula}\n{extra}'


def day(
    date: dt.date | str, spend: str | None, gmv: str | None, orders: int | None = 100
) -> DayFacts:
    d = dt.date.fromisoformat(date) if isinstance(date, str) else date
    g = None if gmv is None else D(gmv)
    # exported long after the period (mature) unless a test says otherwise
    return DayFacts(
        d, None if spend is None else D(spend), g, orders, EXPORTED if g is not None else None
    )


def one(c, days, as_of=AFTER):
    st = settle(c, days, as_of)
    assert len(st.cycles) == 1
    return st, st.cycles[0]


# --- the public worked examples (domain.md) ----------------------------------------------


def test_qianchuan_public_example_pays_3000():
    # spend 10,000, GMV 21,000, target 3, factor 0.8: ROI 2.1 < 2.4, triggered.
    # payout = 10,000 − 21,000 / 3 = 10,000 − 7,000 = 3,000.00
    st, c = one(contract(guarantee("qianchuan")), [day(JUNE_1, "10000", "21000")])
    g = c.roi_guarantee
    assert (g.eligible, g.triggered) == (True, True)
    assert g.payout == D("3000.00")
    assert g.amount_before_cap == D("3000.00")
    assert g.working == "10000.00 − 21000.00 / 3 = 3000.00"
    assert c.roi == 2.1
    assert st.totals.net_ad_cost == D("7000.00")  # 10,000 − 3,000


def test_xhs_public_example_pays_1250():
    # payout = 10,000 − 21,000 / (3 × 0.8) = 10,000 − 8,750 = 1,250.00
    _, c = one(contract(guarantee("xhs")), [day(JUNE_1, "10000", "21000")])
    assert c.roi_guarantee.payout == D("1250.00")
    assert c.roi_guarantee.working == "10000.00 − 21000.00 / (3 × 0.8) = 1250.00"


SEGMENTED = 'targets:\n  - {from: 2025-06-01, roi: "3.0"}\n  - {from: 2025-06-15, roi: "2.5"}'


def test_segmented_public_example_pays_1200():
    # target 3.0 for GMV 6,000, then 2.5 for GMV 9,000, spend 8,200 (xhs formula):
    # 6,000 / (3.0 × 0.8) = 2,500; 9,000 / (2.5 × 0.8) = 4,500; 8,200 − 7,000 = 1,200.00
    days = [day("2025-06-03", "4100", "6000"), day("2025-06-20", "4100", "9000")]
    _, c = one(contract(guarantee("xhs", SEGMENTED)), days)
    g = c.roi_guarantee
    assert g.triggered is True
    assert g.payout == D("1200.00")
    assert g.working == "8200.00 − (6000.00 / (3.0 × 0.8) + 9000.00 / (2.5 × 0.8)) = 1200.00"
    # effective target = 15,000 / (6,000/3.0 + 9,000/2.5) = 15,000 / 5,600 = 2.67857… → "2.6786"
    assert g.target_roi == "2.6786"


def test_segmented_qianchuan():
    # 8,200 − (6,000 / 3.0 + 9,000 / 2.5) = 8,200 − 5,600 = 2,600.00
    days = [day("2025-06-03", "4100", "6000"), day("2025-06-20", "4100", "9000")]
    _, c = one(contract(guarantee("qianchuan", SEGMENTED)), days)
    assert c.roi_guarantee.payout == D("2600.00")


def test_segment_boundary_day_belongs_to_the_new_target():
    # GMV on 2025-06-15 (the day target 2.5 starts) is divided by 2.5:
    # 10,000 − 10,000 / 2.5 = 6,000.00 (it would be 6,666.67 with target 3.0)
    _, c = one(contract(guarantee("qianchuan", SEGMENTED)), [day("2025-06-15", "10000", "10000")])
    assert c.roi_guarantee.payout == D("6000.00")
    assert c.roi_guarantee.target_roi == "2.5"


def test_segments_inside_a_week_cycle():
    # targets 3.0 from 06-01 and 2.5 from 06-04; ISO week 06-02..06-08 holds both segments.
    # GMV 6,000 on 06-03 (target 3.0) and 9,000 on 06-05 (target 2.5), spend 8,200 (xhs):
    # 8,200 − (6,000 / 2.4 + 9,000 / 2.0) = 8,200 − 7,000 = 1,200.00, as in the public example.
    # The first cycle (Sunday 06-01) has no rows: spend 0, not eligible, target 3.0 in force.
    targets = 'targets:\n  - {from: 2025-06-01, roi: "3.0"}\n  - {from: 2025-06-04, roi: "2.5"}'
    c_ = contract(guarantee("xhs", targets), cycle="week")
    days = [day("2025-06-03", "4100", "6000"), day("2025-06-05", "4100", "9000")]
    st = settle(c_, days, AFTER)
    assert st.cycles[1].start == dt.date(2025, 6, 2)
    assert st.cycles[1].roi_guarantee.payout == D("1200.00")
    assert st.cycles[0].roi_guarantee.eligible is False
    assert st.cycles[0].roi_guarantee.target_roi == "3.0"
    # the last week (06-30) starts with 2.5 in force
    assert st.cycles[-1].roi_guarantee.target_roi == "2.5"
    assert st.totals.roi_guarantee_payout == D("1200.00")


def test_segmented_trigger_is_exact():
    # Σ GMV/target = 6,000/3.0 + 9,000/2.5 = 5,600. Trigger: 5,600 < 0.8 × spend.
    # spend 7,000.00: 0.8 × 7,000 = 5,600, not below: not triggered.
    days = [day("2025-06-03", "3500", "6000"), day("2025-06-20", "3500", "9000")]
    _, c = one(contract(guarantee("qianchuan", SEGMENTED)), days)
    assert c.roi_guarantee.triggered is False
    assert c.roi_guarantee.payout == D("0.00")
    # spend 7,000.01: 0.8 × 7,000.01 = 5,600.008 > 5,600: triggered.
    # payout = 7,000.01 − 5,600 = 1,400.01
    days = [day("2025-06-03", "3500.01", "6000"), day("2025-06-20", "3500", "9000")]
    _, c = one(contract(guarantee("qianchuan", SEGMENTED)), days)
    assert c.roi_guarantee.triggered is True
    assert c.roi_guarantee.payout == D("1400.01")


# --- the trigger boundary ----------------------------------------------------------------


def test_roi_exactly_at_the_trigger_is_not_triggered():
    # target 3 × factor 0.8 = 2.4; spend 10,000, GMV 24,000: ROI 2.4, not below 2.4
    _, c = one(contract(guarantee("qianchuan")), [day(JUNE_1, "10000", "24000")])
    g = c.roi_guarantee
    assert (g.eligible, g.triggered) == (True, False)
    assert g.payout == D("0.00") and g.amount_before_cap == D("0.00")
    assert "not triggered" in g.reason
    assert "GMV 24000.00 ≥ 3 × 0.8 × spend 10000.00 = 24000.00" in g.reason


def test_roi_one_fen_below_the_trigger_is_triggered():
    # GMV 23,999.99 < 24,000: triggered. payout = 10,000 − 23,999.99 / 3
    # = 10,000 − 7,999.99666… = 2,000.00333… → 2,000.00
    _, c = one(contract(guarantee("qianchuan")), [day(JUNE_1, "10000", "23999.99")])
    assert c.roi_guarantee.triggered is True
    assert c.roi_guarantee.payout == D("2000.00")


def test_comparison_is_not_made_on_a_rounded_roi():
    # spend 3, GMV 7.19: ROI 2.39666… shows as 2.3967 (and would round to 2.40 at two places),
    # but 7.19 < 3 × 0.8 × 3 = 7.20 exactly: triggered. payout = 3 − 7.19/3 = 0.60333… → 0.60
    _, c = one(contract(guarantee("qianchuan")), [day(JUNE_1, "3", "7.19")])
    assert c.roi_guarantee.triggered is True
    assert c.roi_guarantee.payout == D("0.60")


def test_gmv_zero_with_spend_is_triggered():
    # GMV 0 < anything × spend: payout = 5,000 − 0 / 3 = 5,000.00
    _, c = one(contract(guarantee("qianchuan")), [day(JUNE_1, "5000", "0", 0)])
    assert c.roi_guarantee.triggered is True
    assert c.roi_guarantee.payout == D("5000.00")
    assert c.roi == 0.0


def test_no_gmv_reported_is_not_eligible():
    # Missing is not zero: with no GMV rows at all, nothing is paid.
    _, c = one(contract(guarantee("qianchuan")), [day(JUNE_1, "5000", None, None)])
    g = c.roi_guarantee
    assert (g.eligible, g.triggered, g.payout) == (False, None, D("0.00"))
    assert "no GMV reported" in g.reason
    assert c.gmv is None and c.roi is None


def test_negative_formula_amount_is_clamped_to_zero():
    # factor 1.5: ROI 2.5 < 2 × 1.5 = 3, triggered; 10,000 − 25,000 / 2 = −2,500 → max(…, 0) = 0
    _, c = one(
        contract(guarantee("qianchuan", 'target_roi: "2"', "1.5")), [day(JUNE_1, "10000", "25000")]
    )
    g = c.roi_guarantee
    assert g.triggered is True and g.payout == D("0.00")
    assert g.working.startswith("max(")


# --- zero spend, eligibility -------------------------------------------------------------


def test_zero_spend_is_not_eligible_and_roi_is_undefined():
    c_ = contract(guarantee("qianchuan"), 'ratio: "1.0"\nthreshold: "0"')
    st, c = one(c_, [day(JUNE_1, "0", "500", 3)])
    assert c.roi is None and c.roi_text is None
    g = c.roi_guarantee
    assert (g.eligible, g.triggered, g.payout) == (False, None, D("0.00"))
    assert "spend 0.00" in g.reason
    assert c.matched_investment.eligible is False and c.matched_investment.amount == D("0.00")
    assert st.to_dict()["cycles"][0]["roi"] is None


def test_no_rows_at_all_is_zero_spend():
    _, c = one(contract(guarantee("qianchuan")), [])
    assert c.spend == D("0.00") and c.roi_guarantee.eligible is False


@pytest.mark.parametrize(
    ("orders", "eligible", "payout"), [(9, False, "0.00"), (10, True, "3000.00")]
)
def test_min_orders_boundary(orders, eligible, payout):
    # 10 orders required: 9 is not eligible; 10 is, and pays the 3,000.00 of the public example
    c_ = contract(guarantee("qianchuan", extra="min_orders: 10"))
    _, c = one(c_, [day(JUNE_1, "10000", "21000", orders)])
    assert c.roi_guarantee.eligible is eligible
    assert c.roi_guarantee.payout == D(payout)
    if not eligible:
        assert c.roi_guarantee.reason == "not eligible: orders 9 < min_orders 10"


def test_min_orders_with_no_order_data_is_not_eligible():
    c_ = contract(guarantee("qianchuan", extra="min_orders: 1"))
    _, c = one(c_, [day(JUNE_1, "10000", "21000", None)])
    assert c.roi_guarantee.eligible is False


@pytest.mark.parametrize(("spend", "eligible"), [("9999.99", False), ("10000.00", True)])
def test_min_spend_boundary(spend, eligible):
    c_ = contract(guarantee("qianchuan", extra='min_spend: "10000.00"'))
    _, c = one(c_, [day(JUNE_1, spend, "100")])
    assert c.roi_guarantee.eligible is eligible
    assert c.roi_guarantee.triggered is True  # ROI 0.01 < 2.4 either way


# --- caps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cap", "payout", "applied"),
    [
        ('{amount: "2500.00"}', "2500.00", "amount"),  # 3,000 > 2,500
        ('{pct_of_spend: "0.20"}', "2000.00", "pct_of_spend"),  # 0.20 × 10,000 = 2,000 < 3,000
        (
            '{amount: "2500.00", pct_of_spend: "0.20"}',
            "2000.00",
            "pct_of_spend",
        ),  # min(3,000, 2,500, 2,000)
        (
            '{amount: "1500.00", pct_of_spend: "0.20"}',
            "1500.00",
            "amount",
        ),  # min(3,000, 1,500, 2,000)
        ('{amount: "3000.00"}', "3000.00", None),  # equal to the amount: does not bind
        ('{amount: "5000.00", pct_of_spend: "0.50"}', "3000.00", None),  # neither binds
    ],
)
def test_each_cap_binding(cap, payout, applied):
    _, c = one(
        contract(guarantee("qianchuan", extra=f"cap: {cap}")), [day(JUNE_1, "10000", "21000")]
    )
    g = c.roi_guarantee
    assert g.amount_before_cap == D("3000.00")
    assert g.payout == D(payout)
    assert g.cap_applied == applied


def test_cap_working_is_spelt_out():
    c_ = contract(guarantee("qianchuan", extra='cap: {amount: "50000.00", pct_of_spend: "0.20"}'))
    _, c = one(c_, [day(JUNE_1, "10000", "21000")])
    assert c.roi_guarantee.working == (
        "10000.00 − 21000.00 / 3 = 3000.00; min(3000.00, cap 50000.00, 0.20 × spend 10000.00 = 2000.00) = 2000.00"
    )


def test_refund_rate_multiplies_before_caps():
    # (10,000 − 21,000/3) × 0.5 = 1,500.00; cap 1,200 binds: payout 1,200.00
    c_ = contract(guarantee("qianchuan", extra='refund_rate: "0.5"\ncap: {amount: "1200.00"}'))
    _, c = one(c_, [day(JUNE_1, "10000", "21000")])
    g = c.roi_guarantee
    assert g.amount_before_cap == D("1500.00")
    assert g.payout == D("1200.00") and g.cap_applied == "amount"
    assert g.working.startswith("(10000.00 − 21000.00 / 3) × 0.5 = 1500.00")


# --- tiered bands ------------------------------------------------------------------------

TIERS = """tiers:
  - {roi_from: "0", roi_to: "2.0", rate: "0.20"}
  - {roi_from: "2.0", roi_to: "2.4", rate: "0.10"}"""


@pytest.mark.parametrize(
    ("gmv", "triggered", "payout"),
    [
        ("0", True, "2000.00"),  # ROI 0 in [0, 2.0): 0.20 × 10,000
        ("19999.99", True, "2000.00"),  # ROI 1.999999 in [0, 2.0): 0.20 × 10,000
        ("20000", True, "1000.00"),  # ROI exactly 2.0 opens [2.0, 2.4): 0.10 × 10,000
        ("23999.99", True, "1000.00"),  # ROI 2.399999 still in [2.0, 2.4)
        ("24000", False, "0.00"),  # ROI 2.4 = 3 × 0.8: not triggered
    ],
)
def test_tier_band_edges(gmv, triggered, payout):
    _, c = one(contract(guarantee("tiered", extra=TIERS)), [day(JUNE_1, "10000", gmv)])
    assert c.roi_guarantee.triggered is triggered
    assert c.roi_guarantee.payout == D(payout)


def test_tier_working():
    _, c = one(contract(guarantee("tiered", extra=TIERS)), [day(JUNE_1, "10000", "15000")])
    assert c.roi_guarantee.working == "0.20 × 10000.00 (band [0, 2.0) holds ROI 1.5000) = 2000.00"


def test_triggered_but_no_band_holds_the_roi():
    # target 4 × factor 1 = 4: ROI 3 is triggered, but the bands stop at 2.4: nothing to pay
    _, c = one(
        contract(guarantee("tiered", 'target_roi: "4"', "1", TIERS)),
        [day(JUNE_1, "10000", "30000")],
    )
    g = c.roi_guarantee
    assert g.triggered is True and g.payout == D("0.00")
    assert "no tier band holds ROI 3.0000" in g.reason


def test_trigger_applies_to_tiered_too():
    # ROI 2.2 is inside the band [2.0, 2.4) but 2.2 ≥ 2 × 0.8 = 1.6: not triggered, nothing paid
    _, c = one(
        contract(guarantee("tiered", 'target_roi: "2"', "0.8", TIERS)),
        [day(JUNE_1, "10000", "22000")],
    )
    assert c.roi_guarantee.triggered is False and c.roi_guarantee.payout == D("0.00")


# --- matched investment ------------------------------------------------------------------

MATCHED = 'ratio: "1.0"\nthreshold: "10000.00"\ncap: "50000.00"'


@pytest.mark.parametrize(
    ("spend", "eligible", "amount"),
    [
        ("9999.99", False, "0.00"),  # one fen below the threshold
        ("10000.00", True, "10000.00"),  # exactly at the threshold (inclusive): 10,000 × 1.0
        ("60000.00", True, "50000.00"),  # min(60,000 × 1.0, 50,000): the cap binds
    ],
)
def test_matched_threshold_and_cap(spend, eligible, amount):
    st, c = one(contract(matched=MATCHED), [day(JUNE_1, spend, "1")])
    assert c.matched_investment.eligible is eligible
    assert c.matched_investment.amount == D(amount)
    # the match is reported beside the cost, not netted from it
    assert c.net_ad_cost == D(spend).quantize(D("0.01"))
    assert st.totals.matched_investment == D(amount)


def test_matched_working():
    _, c = one(contract(matched=MATCHED), [day(JUNE_1, "60000", "1")])
    assert c.matched_investment.working == "min(60000.00 × 1.0, cap 50000.00) = 50000.00"
    _, c = one(contract(matched=MATCHED), [day(JUNE_1, "9999.99", "1")])
    assert c.matched_investment.reason == "not eligible: spend 9999.99 < threshold 10000.00"


# --- rounding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "half_up", "half_even"),
    [
        ("0.125", "0.13", "0.12"),  # exact half fen, 2 is even
        ("0.135", "0.14", "0.14"),  # exact half fen, 4 is even
        ("-0.125", "-0.13", "-0.12"),
        ("0.1249999", "0.12", "0.12"),
        ("0.1250001", "0.13", "0.13"),
        ("0.005", "0.01", "0.00"),
        ("7", "7.00", "7.00"),
    ],
)
def test_round_fen(value, half_up, half_even):
    assert str(round_fen(Fraction(D(value)), "half_up")) == half_up
    assert str(round_fen(Fraction(D(value)), "half_even")) == half_even
    assert round_fen(D(value), "half_up") == D(value).quantize(D("0.01"), ROUND_HALF_UP)
    assert round_fen(D(value), "half_even") == D(value).quantize(D("0.01"), ROUND_HALF_EVEN)


def test_round_fen_of_a_repeating_value():
    # 1/3 = 0.333…: not a tie, 0.33 under either rule; 2/3 → 0.67
    assert round_fen(Fraction(1, 3)) == D("0.33")
    assert round_fen(Fraction(2, 3), "half_even") == D("0.67")


@pytest.mark.parametrize(("rounding", "line"), [("half_up", "50.01"), ("half_even", "50.00")])
def test_half_up_against_half_even_on_an_exact_half_fen(rounding, line):
    # 聚光 keeps spend to 4 places: spend 50.005 is an exact half fen.
    # half_up: 50.01 (ties away from zero); half_even: 50.00 (0 is even).
    # The matched line (ratio 1, threshold 0) is 50.005 × 1 = 50.005, rounded the same way.
    c_ = contract(matched='ratio: "1"\nthreshold: "0"', rounding=rounding)
    _, c = one(c_, [day(JUNE_1, "50.005", "1")])
    assert c.spend == D(line)
    assert c.matched_investment.amount == D(line)


@pytest.mark.parametrize(("rounding", "line"), [("half_up", "50.02"), ("half_even", "50.02")])
def test_half_even_rounds_to_the_even_fen(rounding, line):
    # 50.015: half_up 50.02; half_even 50.02 too (2 is even)
    _, c = one(
        contract(matched='ratio: "1"\nthreshold: "0"', rounding=rounding),
        [day(JUNE_1, "50.015", "1")],
    )
    assert c.spend == D(line)


def test_lines_are_rounded_from_exact_values_not_from_rounded_lines():
    # spend 10,000.004 + 0.004 = 10,000.008 → line 10,000.01.
    # qianchuan: 10,000.008 − 21,000/3 = 3,000.008 → 3,000.01;
    # from the rounded spend line it would be 10,000.01 − 7,000 = 3,000.01 too, so use xhs:
    # xhs: 10,000.008 − 21,000/2.4 = 10,000.008 − 8,750 = 1,250.008 → 1,250.01.
    # (06-02 reports GMV 0: a day with spend and no GMV would leave the cycle incomplete)
    days = [day("2025-06-01", "10000.004", "21000"), day("2025-06-02", "0.004", "0", None)]
    _, c = one(contract(guarantee("xhs")), days)
    assert c.spend == D("10000.01")
    assert c.roi_guarantee.payout == D("1250.01")
    # net ad cost = spend line − payout line: 10,000.01 − 1,250.01 = 8,750.00
    assert c.net_ad_cost == D("8750.00")


# --- cycles, totals, finality ------------------------------------------------------------


def test_cycles_month_week_day():
    a, b = dt.date(2025, 6, 15), dt.date(2025, 7, 10)
    assert cycles(a, b, "period") == [(a, b)]
    assert cycles(a, b, "month") == [(a, dt.date(2025, 6, 30)), (dt.date(2025, 7, 1), b)]
    # 2025-06-01 is a Sunday: the first ISO week is that single day, then Monday–Sunday weeks
    weeks = cycles(dt.date(2025, 6, 1), dt.date(2025, 6, 30), "week")
    assert weeks[0] == (dt.date(2025, 6, 1), dt.date(2025, 6, 1))
    assert weeks[1] == (dt.date(2025, 6, 2), dt.date(2025, 6, 8))
    assert weeks[-1] == (dt.date(2025, 6, 30), dt.date(2025, 6, 30))
    assert all(s.weekday() == 0 for s, _ in weeks[1:]) and all(
        e.weekday() == 6 for _, e in weeks[:-1]
    )
    assert len(weeks) == 6
    assert len(cycles(dt.date(2025, 6, 1), dt.date(2025, 6, 30), "day")) == 30
    assert cycles(dt.date(2025, 12, 20), dt.date(2026, 1, 5), "month")[1] == (
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 5),
    )


def test_each_cycle_settles_on_its_own_and_totals_are_sums_of_lines():
    # June: the public example, 3,000.00. July: spend 1,000, GMV 2,500: ROI 2.5 ≥ 2.4, not
    # triggered, 0.00. Total payout 3,000.00. Settled as one period it would differ:
    # spend 11,000, GMV 23,500, ROI 2.136… < 2.4: 11,000 − 23,500/3 = 3,166.67.
    c_ = contract(
        guarantee("qianchuan"), cycle="month", period="{start: 2025-06-01, end: 2025-07-31}"
    )
    days = [day("2025-06-10", "10000", "21000"), day("2025-07-10", "1000", "2500")]
    st = settle(c_, days, AFTER)
    assert [c.roi_guarantee.payout for c in st.cycles] == [D("3000.00"), D("0.00")]
    assert [c.roi_guarantee.triggered for c in st.cycles] == [True, False]
    assert st.totals.roi_guarantee_payout == D("3000.00")
    assert st.totals.spend == D("11000.00")
    assert st.totals.gmv == D("23500.00")
    assert st.totals.net_ad_cost == D("8000.00")  # 11,000.00 − 3,000.00
    c_period = contract(
        guarantee("qianchuan"), cycle="period", period="{start: 2025-06-01, end: 2025-07-31}"
    )
    assert settle(c_period, days, AFTER).totals.roi_guarantee_payout == D("3166.67")


def test_totals_are_sums_of_rounded_lines():
    # three day cycles each paying 1/3 of a fen over a round figure:
    # 1 − 2/3 = 0.333… → 0.33 per day; total 0.99 (not round(1.00) of the exact sum)
    c_ = contract(
        guarantee("qianchuan"), cycle="day", period="{start: 2025-06-01, end: 2025-06-03}"
    )
    days = [day(f"2025-06-0{i}", "1", "2") for i in (1, 2, 3)]
    st = settle(c_, days, AFTER)
    assert st.totals.roi_guarantee_payout == D("0.99")


def test_days_outside_the_period_are_ignored():
    _, c = one(
        contract(guarantee("qianchuan")),
        [
            day("2025-05-31", "99999", "0"),
            day(JUNE_1, "10000", "21000"),
            day("2025-07-01", "5", "0"),
        ],
    )
    assert c.spend == D("10000.00") and c.roi_guarantee.payout == D("3000.00")


@pytest.mark.parametrize(
    ("as_of", "final"), [(dt.date(2025, 7, 29), False), (dt.date(2025, 7, 30), True)]
)
def test_provisional_until_cycle_end_plus_window(as_of, final):
    # period ends 2025-06-30, window 30 days: conversions flow back until 2025-07-30
    st = settle(contract(guarantee("qianchuan")), [day(JUNE_1, "10000", "21000")], as_of)
    assert st.final is final
    assert ("2025-07-30" in st.final_reason) or final
    assert st.to_dict()["final"] is final


def test_to_dict_is_the_documented_contract():
    inputs = [InputFile("b.csv", "bb"), InputFile("a.csv", "aa")]
    st = settle(
        contract(guarantee("qianchuan"), MATCHED),
        [day(JUNE_1, "10000", "21000", 50)],
        dt.date(2025, 8, 1),
        inputs,
    )
    d = st.to_dict()
    assert list(d) == [
        "contract_id",
        "merchant",
        "currency",
        "final",
        "final_reason",
        "as_of",
        "cycles",
        "totals",
        "projection_note",
        "audit",
    ]
    cyc = d["cycles"][0]
    assert list(cyc) == [
        "start",
        "end",
        "spend",
        "gmv",
        "orders",
        "roi",
        "roi_guarantee",
        "matched_investment",
        "final",
        "final_reason",
        "projected",
    ]
    assert list(cyc["roi_guarantee"]) == [
        "target_roi",
        "eligible",
        "triggered",
        "reason",
        "amount_before_cap",
        "cap_applied",
        "payout",
        "working",
    ]
    assert list(cyc["matched_investment"]) == ["eligible", "reason", "amount", "working"]
    assert cyc["spend"] == "10000.00" and cyc["gmv"] == "21000.00" and cyc["orders"] == 50
    assert cyc["roi_guarantee"]["payout"] == "3000.00"
    assert d["totals"] == {
        "spend": "10000.00",
        "gmv": "21000.00",
        "roi_guarantee_payout": "3000.00",
        "matched_investment": "10000.00",
        "net_ad_cost": "7000.00",
        "projected": None,  # the engine alone projects nothing (redcat_cli.settle.projection does)
    }
    assert d["audit"]["inputs"] == [
        {"path": "a.csv", "sha256": "aa"},
        {"path": "b.csv", "sha256": "bb"},
    ]
    assert len(d["audit"]["contract_sha256"]) == 64
    assert d["as_of"] == "2025-08-01" and d["final"] is True
