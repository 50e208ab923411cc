"""Prices from demand (issue 12, point 1): the best-response prices satisfy each seller's
first-order condition, the closed-form demand equals the logit choice of every chooser group,
and markups respond to what an IO economist would expect — price sensitivity, close
substitutes, a strong free open model, a quality lead — as outcomes, not rules."""

from __future__ import annotations

import numpy as np
import pytest

from model import pricing
from model.model import AIMarketModel
from tests.conftest import BASELINE

OUTSIDE = 0.0


def direct_demand(value, price, available, alpha, outside, choosers):
    """[S, K] demand by looping over every chooser group and its own logit (no closed form)."""
    n_segments, n_cohorts, n_sellers = value.shape
    demand = np.zeros((n_segments, n_sellers))
    for s in range(n_segments):
        for c in range(n_cohorts):
            utility = np.where(available[s], value[s, c] - alpha[c] * price[s], -np.inf)
            weight = np.exp(utility)
            demand[s] += choosers.adopting[s, c] * weight / (np.exp(outside) + weight.sum())
            for j in range(n_sellers):
                bonus = np.where(np.arange(n_sellers) == j, choosers.switching_cost, 0.0)
                mine = np.exp(utility + bonus)
                if mine.sum() > 0:
                    demand[s] += choosers.looking[s, c, j] * mine / mine.sum()
    return demand


def random_market(seed: int, n_sellers: int = 5):
    rng = np.random.default_rng(seed)
    n_segments, n_cohorts = 2, 3
    value = rng.normal(3.0, 1.5, (n_segments, n_cohorts, n_sellers))
    available = rng.random((n_segments, n_sellers)) < 0.85
    available[:, 0] = True
    alpha = np.array([0.6, 0.2, 0.4])
    counts = rng.integers(0, 10_000, (n_segments, n_cohorts, n_sellers + 1))
    choosers = pricing.Choosers.of(counts, available, np.array([0.05, 0.2]), 0.08,
                                   float(rng.uniform(0.0, 2.0)))
    return value, available, alpha, choosers


def equilibrium(value, available, alpha, choosers, cost=0.5, priced=None, tolerance=1e-10):
    n_segments, _, n_sellers = value.shape
    priced = np.ones(n_sellers, dtype=bool) if priced is None else priced
    return pricing.best_response_prices(
        value, np.full((n_segments, n_sellers), cost), np.full((n_segments, n_sellers), cost),
        available, priced, np.arange(n_sellers), np.zeros(n_sellers, dtype=bool), alpha,
        np.array([0.6, 0.25, 0.15]), OUTSIDE, choosers, max_iterations=2000,
        tolerance_usd=tolerance)


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_demand_equals_every_groups_logit(seed):
    value, available, alpha, choosers = random_market(seed)
    price = np.random.default_rng(seed).uniform(0.5, 5.0, available.shape)
    demand = pricing.logit_demand(value, price, available, alpha, OUTSIDE, choosers)
    expected = direct_demand(value, price, available, alpha, OUTSIDE, choosers)
    assert np.allclose(demand.demand, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_first_order_condition_holds_at_the_chosen_prices(seed):
    """D + (p − c) ∂D/∂p = 0 for every priced offer, with ∂D/∂p by finite differences of the
    direct demand (independent of the closed form the solver uses)."""
    value, available, alpha, choosers = random_market(seed)
    result = equilibrium(value, available, alpha, choosers)
    price = result.price_usd
    assert result.foc_residual < 1e-8
    step = 1e-6
    for s, k in zip(*np.nonzero(available), strict=True):
        up, down = price.copy(), price.copy()
        up[s, k] += step
        down[s, k] -= step
        slope = (direct_demand(value, up, available, alpha, OUTSIDE, choosers)[s, k]
                 - direct_demand(value, down, available, alpha, OUTSIDE, choosers)[s, k]) / (2 * step)
        demand = direct_demand(value, price, available, alpha, OUTSIDE, choosers)[s, k]
        assert abs(demand + (price[s, k] - 0.5) * slope) < 1e-5 * demand
    # no seller gains from a small price change either way (it is a best response)
    for s, k in zip(*np.nonzero(available), strict=True):
        def profit(p_k):
            trial = price.copy()
            trial[s, k] = p_k
            return (p_k - 0.5) * direct_demand(value, trial, available, alpha, OUTSIDE,
                                               choosers)[s, k]
        assert profit(price[s, k]) >= max(profit(price[s, k] * 1.02),
                                          profit(price[s, k] * 0.98))


def test_one_cohort_without_switching_gives_the_textbook_markup():
    """One cohort, no switching cost: p − c = 1 / (α (1 − s))."""
    rng = np.random.default_rng(7)
    value = rng.normal(2.0, 1.0, (1, 1, 4))
    available = np.ones((1, 4), dtype=bool)
    alpha = np.array([0.5])
    counts = np.zeros((1, 1, 5), dtype=np.int64)
    counts[0, 0, 0] = 1_000_000
    choosers = pricing.Choosers.of(counts, available, np.array([0.1]), 0.0, 0.0)
    result = pricing.best_response_prices(
        value, np.full((1, 4), 1.0), np.full((1, 4), 1.0), available, np.ones(4, bool),
        np.arange(4), np.zeros(4, bool), alpha, np.array([1.0]), OUTSIDE, choosers,
        max_iterations=2000, tolerance_usd=1e-12)
    utility = value[0, 0] - alpha[0] * result.price_usd[0]
    share = np.exp(utility) / (np.exp(OUTSIDE) + np.exp(utility).sum())
    assert np.allclose(result.price_usd[0] - 1.0, 1.0 / (alpha[0] * (1.0 - share)), rtol=1e-8)


def _duopoly(quality_gap=0.0, alpha=0.5, rival_at_cost=False, n_rivals=1):
    """A seller and ``n_rivals`` rivals in one segment, one cohort; returns its markup."""
    n_sellers = 1 + n_rivals
    value = np.zeros((1, 1, n_sellers))
    value[0, 0, 0] = 3.0 + quality_gap
    value[0, 0, 1:] = 3.0
    counts = np.zeros((1, 1, n_sellers + 1), dtype=np.int64)
    counts[0, 0, 0] = 1_000_000
    choosers = pricing.Choosers.of(counts, np.ones((1, n_sellers), bool), np.array([0.1]),
                                   0.0, 0.0)
    priced = np.ones(n_sellers, dtype=bool)
    priced[1:] = not rival_at_cost
    result = pricing.best_response_prices(
        value, np.full((1, n_sellers), 1.0), np.full((1, n_sellers), 1.0),
        np.ones((1, n_sellers), bool), priced, np.arange(n_sellers),
        np.zeros(n_sellers, bool), np.array([alpha]), np.array([1.0]), OUTSIDE, choosers,
        max_iterations=2000, tolerance_usd=1e-12)
    return float(result.price_usd[0, 0] - 1.0)


def test_markups_respond_to_demand_as_outcomes():
    base = _duopoly()
    assert _duopoly(alpha=1.5) < base / 2  # price-sensitive users push prices to cost
    assert _duopoly(n_rivals=6) < base  # more close substitutes
    assert _duopoly(rival_at_cost=True) < base  # a rival sold at hosting cost (open weights)
    assert _duopoly(quality_gap=3.0) > 1.5 * base  # a quality lead allows a markup


def test_switching_costs_raise_the_markup_of_a_seller_with_users():
    value = np.full((1, 1, 2), 3.0)
    counts = np.array([[[100_000, 900_000, 0]]])
    markups = []
    for switching_cost in (0.0, 2.0):
        choosers = pricing.Choosers.of(counts, np.ones((1, 2), bool), np.array([0.1]), 0.1,
                                       switching_cost)
        result = pricing.best_response_prices(
            value, np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2), bool), np.ones(2, bool),
            np.arange(2), np.zeros(2, bool), np.array([0.5]), np.array([1.0]), OUTSIDE,
            choosers, max_iterations=2000, tolerance_usd=1e-12)
        markups.append(result.price_usd[0] - 1.0)
    (incumbent_free, entrant_free), (incumbent_locked, entrant_locked) = markups
    assert incumbent_free == pytest.approx(entrant_free, rel=0.2)
    assert incumbent_locked > 1.3 * incumbent_free


def test_the_lead_markup_rule_records_no_iterations():
    model = AIMarketModel(BASELINE, rng=3, months=3, pricing__rule="lead_markup")
    model.run_model()
    table = model.recorder.model_frame()
    assert (table["pricing_iterations"] == 0).all() and table["pricing_foc_residual"].isna().all()


def test_the_model_prices_at_best_responses_every_month():
    model = AIMarketModel(BASELINE, rng=3, months=18)
    assert model.config.pricing.rule == "best_response"  # the default
    residuals, iterations = [], []
    while model.running:
        model.step()
        residuals.append(model.pricing_foc_residual)
        iterations.append(model.pricing_iterations)
    assert max(residuals) < 1e-5
    assert max(iterations) < model.config.pricing.max_iterations
    table = model.recorder.model_frame()
    assert table["pricing_foc_residual"].max() < 1e-5
    # open weights and the community sell at hosting cost; closed labs above it
    price = model.market.list_price_usd
    # prices were set at this month's cost of serving, before its decline at the month's end
    decline = model.config.commoditization.inference_cost_decline_per_year
    cost = model.cost_to_serve_usd / (1.0 - decline) ** (1.0 / 12.0)
    community = model.community.column
    assert np.allclose(price[community], cost)
    openai = model.firm_by_id["openai"]
    assert (price[openai.column] > cost).all()


def test_demand_stays_finite_when_the_outside_option_dwarfs_every_offer():
    """Nobody adopts, the users who look around still choose among the offers."""
    value, available, alpha, choosers = random_market(3)
    outside = 900.0  # exp(900) overflows a float
    demand = pricing.logit_demand(value, np.ones(available.shape), available, alpha, outside,
                                  choosers)
    assert np.isfinite(demand.demand).all() and np.isfinite(demand.lam).all()
    looking_only = pricing.Choosers(adopting=np.zeros_like(choosers.adopting),
                                    looking=choosers.looking,
                                    switching_cost=choosers.switching_cost)
    expected = direct_demand(value, np.ones(available.shape), available, alpha, 0.0,
                             looking_only)
    assert np.allclose(demand.demand, expected, rtol=1e-12)
