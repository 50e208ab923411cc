"""Trust reputations (C27; issue 13, point 6): enterprise buyers weigh a lab's record on
safety and transparency, a goodwill stock its safety spending builds and that wears off.

Each test moves one input — the spending, the segment's weight, the half-life — and checks
that the stock and the enterprise share move with it (the same seed, so common random
numbers).
"""

from __future__ import annotations

import numpy as np
import pytest

from moatsim import technology
from moatsim.experiments.run import run_scenario
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

MONTHS = 24  # to 2024-12


def test_the_stock_halves_in_a_half_life_and_adds_the_months_spending():
    stock = technology.trust_stock(100.0, 0.0, 24.0)
    for _ in range(23):
        stock = technology.trust_stock(stock, 0.0, 24.0)
    assert stock == pytest.approx(50.0)
    assert technology.trust_stock(0.0, 7.0, 24.0) == 7.0
    steady = 10.0 / (1.0 - 0.5 ** (1 / 24))  # spending forever: the stock levels off
    assert technology.trust_stock(steady, 10.0, 24.0) == pytest.approx(steady)


def test_trust_is_worth_its_weight_with_declining_returns():
    weight = np.array([0.0, 1.0])
    value = technology.trust_utility(np.array([0.0, 100.0, 300.0]), weight, 100.0)
    assert value[0].tolist() == [0.0, 0.0, 0.0]  # a segment that does not weigh it
    assert value[1, 1] == pytest.approx(np.log(2.0))
    # per dollar, the next $200M buys half what the first $100M bought
    per_dollar_first = (value[1, 1] - value[1, 0]) / 100
    per_dollar_next = (value[1, 2] - value[1, 1]) / 200
    assert per_dollar_next == pytest.approx(0.5 * per_dollar_first)


def enterprise_share(firm: str, **overrides) -> float:
    segments = run_scenario(BASELINE, seed=1, months=MONTHS, overrides=overrides).segments
    row = segments[(segments["month"] == MONTHS - 1) & (segments["firm"] == firm)
                   & (segments["segment"] == "enterprise_knowledge")]
    return float(row["share"].iloc[0])


@pytest.fixture(scope="module")
def anthropic_share():
    return enterprise_share("anthropic")


def test_safety_spending_wins_anthropic_enterprise_buyers(anthropic_share):
    without = enterprise_share("anthropic", **{"firms.anthropic.safety_spend_musd_month": 0.0})
    assert anthropic_share > without + 0.04


def test_a_segment_that_does_not_weigh_trust_ignores_it(anthropic_share):
    unweighted = enterprise_share(
        "anthropic", **{"segments.enterprise_knowledge.trust_weight_utils": 0.0})
    assert anthropic_share > unweighted + 0.04


def test_trust_that_wears_off_fast_is_worth_less(anthropic_share):
    fleeting = enterprise_share("anthropic", **{"trust.half_life_months": 2.0})
    assert fleeting < anthropic_share - 0.02


def test_safety_spending_is_a_cost_on_the_books_and_builds_the_stock():
    market = AIMarketModel(BASELINE, rng=1, months=12)
    market.run_model()
    anthropic = market.firm_by_id["anthropic"]
    spent = [e.amount_musd for e in anthropic.ledger.entries if e.category == "safety"]
    assert len(spent) == 12 and all(amount == pytest.approx(-10.0) for amount in spent)
    stock = market.market.trust_stock_musd[anthropic.column]
    expected = sum(10.0 * 0.5 ** (age / 24.0) for age in range(12))
    assert stock == pytest.approx(expected)
    assert market.market.trust_stock_musd[market.firm_by_id["openai"].column] == 0.0
