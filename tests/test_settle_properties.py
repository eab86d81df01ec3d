"""Invariants of the settlement engine, on generated contracts and facts."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from redcat_cli.settle.contract import parse_contract
from redcat_cli.settle.engine import DayFacts, round_fen, settle

START = dt.date(2025, 6, 1)
END = dt.date(2025, 7, 14)
AS_OF = dt.date(2025, 9, 1)


def money(max_units: int = 50_000, places: int = 4) -> st.SearchStrategy[Decimal]:
    scale = 10**places
    return st.integers(0, max_units * scale).map(lambda n: Decimal(n).scaleb(-places))


def rate(lo: str = "0", hi: str = "1", places: int = 2) -> st.SearchStrategy[str]:
    scale = 10**places
    return st.integers(int(Decimal(lo) * scale), int(Decimal(hi) * scale)).map(
        lambda n: str(Decimal(n).scaleb(-places))
    )


@st.composite
def contracts(draw: st.DrawFn) -> str:
    formula = draw(st.sampled_from(["qianchuan", "xhs", "tiered"]))
    cycle = draw(st.sampled_from(["period", "month", "week", "day"]))
    rounding = draw(st.sampled_from(["half_up", "half_even"]))
    if draw(st.booleans()):
        target = f'target_roi: "{draw(rate("0.5", "6", 1))}"'
    else:
        second = draw(st.integers(1, (END - START).days))
        target = (
            "targets:\n"
            f'    - {{from: {START}, roi: "{draw(rate("0.5", "6", 1))}"}}\n'
            f'    - {{from: {START + dt.timedelta(days=second)}, roi: "{draw(rate("0.5", "6", 1))}"}}'
        )
    lines = [target, f'trigger_factor: "{draw(rate("0.5", "1.2"))}"', f"formula: {formula}"]
    if formula == "tiered":
        edges = sorted(set(draw(st.lists(st.integers(1, 60), min_size=1, max_size=4))))
        bounds = ["0", *(str(Decimal(e).scaleb(-1)) for e in edges)]
        lines.append("tiers:")
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            lines.append(f'  - {{roi_from: "{lo}", roi_to: "{hi}", rate: "{draw(rate())}"}}')
    if draw(st.booleans()):
        lines.append(f'refund_rate: "{draw(rate())}"')
    cap = []
    if draw(st.booleans()):
        cap.append(f'amount: "{draw(money(20_000, 2))}"')
    if draw(st.booleans()):
        cap.append(f'pct_of_spend: "{draw(rate())}"')
    if cap:
        lines.append("cap: {" + ", ".join(cap) + "}")
    if draw(st.booleans()):
        lines.append(f"min_orders: {draw(st.integers(0, 20))}")
    matched = [f'ratio: "{draw(rate("0", "2"))}"', f'threshold: "{draw(money(30_000, 2))}"']
    if draw(st.booleans()):
        matched.append(f'cap: "{draw(money(30_000, 2))}"')
    return (
        f"contract_id: P\nmerchant: m\nperiod: {{start: {START}, end: {END}}}\ncycle: {cycle}\n"
        f"gmv: {{source: xinghe, window_days: 7}}\nrounding: {rounding}\n"
        "roi_guarantee:\n"
        + "".join(f"  {x}\n" for x in lines)
        + "matched_investment:\n"
        + "".join(f"  {x}\n" for x in matched)
    )


@st.composite
def facts(draw: st.DrawFn) -> list[DayFacts]:
    n = (END - START).days + 1
    days = draw(st.lists(st.integers(0, n - 1), max_size=25))
    out = []
    for i in days:
        gmv = draw(st.one_of(st.none(), money(60_000)))
        out.append(
            DayFacts(
                START + dt.timedelta(days=i),
                draw(st.one_of(st.none(), money(10_000))),
                gmv,
                None if gmv is None else draw(st.integers(0, 30)),
            )
        )
    return out


def _caps_hold(contract, statement) -> None:
    g = contract.roi_guarantee
    m = contract.matched_investment
    for c in statement.cycles:
        line = c.roi_guarantee
        assert line.payout >= 0
        assert line.payout <= line.amount_before_cap
        assert line.payout <= c.spend  # never above the spend (both rounded the same way)
        if g.cap.amount is not None:
            assert line.payout <= g.cap.amount
        if g.cap.pct_of_spend is not None:
            # exact payout ≤ pct × exact spend; the payout and spend lines are each rounded
            # once from exact values, so against the rounded spend line allow one fen
            assert Fraction(line.payout) <= Fraction(g.cap.pct_of_spend) * Fraction(
                c.spend
            ) + Fraction(1, 100)
        if not line.eligible or not line.triggered:
            assert line.payout == 0
        mi = c.matched_investment
        assert mi.amount >= 0
        if m.cap is not None:
            assert mi.amount <= m.cap
        if not mi.eligible:
            assert mi.amount == 0
        assert c.net_ad_cost == c.spend - line.payout


@settings(max_examples=150, deadline=None)
@given(contracts(), facts())
def test_invariants(text, days):
    contract = parse_contract(text, "p.yaml")
    statement = settle(contract, days, AS_OF)
    _caps_hold(contract, statement)
    # lines sum to totals
    t = statement.totals
    assert t.spend == sum((c.spend for c in statement.cycles), Decimal("0.00"))
    assert t.roi_guarantee_payout == sum(
        (c.roi_guarantee.payout for c in statement.cycles), Decimal("0.00")
    )
    assert t.matched_investment == sum(
        (c.matched_investment.amount for c in statement.cycles), Decimal("0.00")
    )
    assert t.gmv == sum((c.gmv for c in statement.cycles if c.gmv is not None), Decimal("0.00"))
    assert t.net_ad_cost == t.spend - t.roi_guarantee_payout
    # cycles tile the period
    assert statement.cycles[0].start == START and statement.cycles[-1].end == END
    for a, b in zip(statement.cycles, statement.cycles[1:], strict=False):
        assert b.start == a.end + dt.timedelta(days=1)


@settings(max_examples=60, deadline=None)
@given(contracts(), facts(), st.randoms(use_true_random=False))
def test_settling_twice_gives_the_same_bytes(text, days, rnd: random.Random):
    contract = parse_contract(text, "p.yaml")
    first = json.dumps(settle(contract, days, AS_OF).to_dict(), ensure_ascii=False, indent=2)
    shuffled = list(days)
    rnd.shuffle(shuffled)
    again = json.dumps(
        settle(parse_contract(text, "p.yaml"), shuffled, AS_OF).to_dict(),
        ensure_ascii=False,
        indent=2,
    )
    assert first == again


@given(st.integers(-(10**12), 10**12), st.integers(0, 8))
def test_round_fen_agrees_with_decimal_quantize(n, places):
    d = Decimal(n).scaleb(-places)
    assert round_fen(d, "half_up") == d.quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert round_fen(d, "half_even") == d.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


@given(st.integers(1, 10**9), st.integers(1, 10**6))
def test_round_fen_is_within_half_a_fen(num, den):
    x = Fraction(num, den)
    for mode in ("half_up", "half_even"):
        assert abs(Fraction(round_fen(x, mode)) - x) <= Fraction(1, 200)


@settings(max_examples=100, deadline=None)
@given(money(10_000, 2), money(60_000, 2), rate("0.5", "6", 1))
def test_qianchuan_payout_never_exceeds_spend_and_is_monotone_in_gmv(spend, gmv, target):
    text = (
        f"contract_id: Q\nmerchant: m\nperiod: {{start: {START}, end: {START}}}\n"
        "gmv: {source: xinghe, window_days: 1}\n"
        f'roi_guarantee: {{target_roi: "{target}", trigger_factor: "1", formula: qianchuan}}\n'
    )
    c = parse_contract(text, "q.yaml")
    low = settle(c, [DayFacts(START, spend, gmv, 1)], AS_OF).cycles[0].roi_guarantee.payout
    high = (
        settle(c, [DayFacts(START, spend, gmv + Decimal("100"), 1)], AS_OF)
        .cycles[0]
        .roi_guarantee.payout
    )
    assert Decimal(0) <= high <= low <= spend
