"""Prices from demand (issue 12, point 1): the best-response prices satisfy each seller's
first-order condition, the closed-form demand equals the logit choice of every chooser group,
and markups respond to what an IO economist would expect — price sensitivity, close
substitutes, a strong free open model, a quality lead — as outcomes, not rules."""

from __future__ import annotations

import numpy as np
import pytest

from moatsim import pricing
from moatsim.model import AIMarketModel
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
            leave = np.exp(outside) if choosers.lookers_may_leave else 0.0
            for j in range(n_sellers):
                bonus = np.where(np.arange(n_sellers) == j, choosers.switching_cost, 0.0)
                mine = np.exp(utility + bonus)
                if leave + mine.sum() > 0:
                    demand[s] += choosers.looking[s, c, j] * mine / (leave + mine.sum())
    return demand


def random_market(seed: int, n_sellers: int = 5, lookers_may_leave: bool = False):
    rng = np.random.default_rng(seed)
    n_segments, n_cohorts = 2, 3
    value = rng.normal(3.0, 1.5, (n_segments, n_cohorts, n_sellers))
    available = rng.random((n_segments, n_sellers)) < 0.85
    available[:, 0] = True
    alpha = np.array([0.6, 0.2, 0.4])
    counts = rng.integers(0, 10_000, (n_segments, n_cohorts, n_sellers + 1))
    choosers = pricing.Choosers.of(counts, available, np.array([0.05, 0.2]), 0.08,
                                   float(rng.uniform(0.0, 2.0)),
                                   lookers_may_leave=lookers_may_leave)
    return value, available, alpha, choosers


def equilibrium(value, available, alpha, choosers, cost=0.5, priced=None, tolerance=1e-10):
    n_segments, _, n_sellers = value.shape
    priced = np.ones(n_sellers, dtype=bool) if priced is None else priced
    return pricing.best_response_prices(
        value, np.full((n_segments, n_sellers), cost), np.full((n_segments, n_sellers), cost),
        available, priced, np.eye(n_sellers), np.zeros(n_sellers, dtype=bool), alpha,
        np.array([0.6, 0.25, 0.15]), OUTSIDE, choosers, max_iterations=2000,
        tolerance_usd=tolerance)


@pytest.mark.parametrize("leave", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_closed_form_demand_equals_every_groups_logit(seed, leave):
    value, available, alpha, choosers = random_market(seed, lookers_may_leave=leave)
    price = np.random.default_rng(seed).uniform(0.5, 5.0, available.shape)
    demand = pricing.logit_demand(value, price, available, alpha, OUTSIDE, choosers)
    expected = direct_demand(value, price, available, alpha, OUTSIDE, choosers)
    assert np.allclose(demand.demand, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("leave", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_first_order_condition_holds_at_the_chosen_prices(seed, leave):
    """D + (p − c) ∂D/∂p = 0 for every priced offer, with ∂D/∂p by finite differences of the
    direct demand (independent of the closed form the solver uses)."""
    value, available, alpha, choosers = random_market(seed, lookers_may_leave=leave)
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
        np.eye(4), np.zeros(4, bool), alpha, np.array([1.0]), OUTSIDE, choosers,
        max_iterations=2000, tolerance_usd=1e-12)
    utility = value[0, 0] - alpha[0] * result.price_usd[0]
    share = np.exp(utility) / (np.exp(OUTSIDE) + np.exp(utility).sum())
    assert np.allclose(result.price_usd[0] - 1.0, 1.0 / (alpha[0] * (1.0 - share)), rtol=1e-8)


def _captive_seller(lookers_may_leave: bool) -> pricing.Equilibrium:
    """One seller, one cohort, no new users: its only demand is its own users who look
    around this month."""
    counts = np.array([[[0, 1_000_000]]], dtype=np.int64)
    available = np.ones((1, 1), dtype=bool)
    choosers = pricing.Choosers.of(counts, available, np.array([0.0]), 0.08, 1.0,
                                   lookers_may_leave=lookers_may_leave)
    return pricing.best_response_prices(
        np.full((1, 1, 1), 3.0), np.ones((1, 1)), np.ones((1, 1)), available, np.ones(1, bool),
        np.eye(1), np.zeros(1, bool), np.array([0.5]), np.array([1.0]), OUTSIDE, choosers,
        max_iterations=400, tolerance_usd=1e-12)


def test_a_captive_seller_has_a_best_response_only_if_its_users_may_leave():
    """Users who look around and can only choose among the offers stay whatever the price,
    so the price runs away; if they may leave for the outside option the markup is the
    textbook ``1 / (α (1 − P))``, P the looking user's chance of staying."""
    stuck = _captive_seller(lookers_may_leave=False)
    assert stuck.max_step_usd > 1.0 and stuck.price_usd[0, 0] > 500 and stuck.foc_residual > 0.5
    result = _captive_seller(lookers_may_leave=True)
    assert result.max_step_usd < 1e-9 and result.foc_residual < 1e-9
    price = result.price_usd[0, 0]
    stay = 1.0 / (1.0 + np.exp(OUTSIDE - (3.0 + 1.0 - 0.5 * price)))
    assert price - 1.0 == pytest.approx(1.0 / (0.5 * (1.0 - stay)), rel=1e-9)


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
        np.ones((1, n_sellers), bool), priced, np.eye(n_sellers),
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
            np.eye(2), np.zeros(2, bool), np.array([0.5]), np.array([1.0]), OUTSIDE,
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
    # ... of the model each serves: one behind the segment's best costs less to serve
    community = model.community.column
    assert np.allclose(price[community], cost * model.cost_multiplier[:, community])
    assert (model.cost_multiplier[:, community] < 1).any()
    openai = model.firm_by_id["openai"]
    assert (price[openai.column] > cost * model.cost_multiplier[:, openai.column]).all()


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


# ---------------------------------------------------------------- free tiers (C10, F12)

FREE_COST = 0.2


def direct_tier_demand(value, free_value, price, available, alpha, outside, choosers):
    """([S, K] paid demand, [S, K] free-tier demand) by looping over every chooser group's
    logit over all products — paid tiers, free tiers, the outside option for new users — with
    the switching bonus on both tiers of a looking user's provider (no closed form)."""
    n_segments, n_cohorts, n_sellers = value.shape
    paid, free = np.zeros((n_segments, n_sellers)), np.zeros((n_segments, n_sellers))
    for s in range(n_segments):
        for c in range(n_cohorts):
            u_paid = np.where(available[s], value[s, c] - alpha[c] * price[s], -np.inf)
            u_free = np.where(available[s], free_value[s, c], -np.inf)
            groups = [(choosers.adopting[s, c], np.zeros(n_sellers), np.exp(outside))]
            leave = np.exp(outside) if choosers.lookers_may_leave else 0.0
            groups += [(choosers.looking[s, c, j],
                        np.where(np.arange(n_sellers) == j, choosers.switching_cost, 0.0),
                        leave)
                       for j in range(n_sellers)]
            for n, bonus, outside_weight in groups:
                w_paid, w_free = np.exp(u_paid + bonus), np.exp(u_free + bonus)
                total = outside_weight + w_paid.sum() + w_free.sum()
                if total > 0:
                    paid[s] += n * w_paid / total
                    free[s] += n * w_free / total
    return paid, free


def free_tier_market(seed: int, lookers_may_leave: bool = False):
    """A random market where sellers 0 and 1 also offer a free tier 2–8 points worse."""
    value, available, alpha, choosers = random_market(seed, lookers_may_leave=lookers_may_leave)
    quality_weight = np.array([0.15, 0.3, 0.12])
    gap = np.full(available.shape, np.nan)
    gap[:, :2] = np.random.default_rng(seed + 100).uniform(2.0, 8.0, (available.shape[0], 2))
    free_value = np.where(np.isnan(gap)[:, None, :], -np.inf,
                          value - quality_weight[None, :, None] * np.nan_to_num(gap)[:, None, :])
    return value, free_value, available, alpha, choosers


def tier_equilibrium(value, free_value, available, alpha, choosers, cost=0.5):
    n_segments, _, n_sellers = value.shape
    return pricing.best_response_prices(
        value, np.full((n_segments, n_sellers), cost), np.full((n_segments, n_sellers), cost),
        available, np.ones(n_sellers, dtype=bool), np.eye(n_sellers),
        np.zeros(n_sellers, dtype=bool), alpha, np.array([0.6, 0.25, 0.15]), OUTSIDE, choosers,
        max_iterations=2000, tolerance_usd=1e-11,
        free_tiers=pricing.FreeTiers(value=free_value,
                                     cost_usd=np.full((n_segments, n_sellers), FREE_COST)))


@pytest.mark.parametrize("leave", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_closed_form_demand_with_free_tiers_equals_every_groups_logit(seed, leave):
    value, free_value, available, alpha, choosers = free_tier_market(seed, leave)
    price = np.random.default_rng(seed).uniform(0.5, 5.0, available.shape)
    demand = pricing._demand(np.where(available[:, None, :], value, -np.inf), price, alpha,
                             OUTSIDE, choosers,
                             pricing.FreeTiers(value=np.where(available[:, None, :], free_value,
                                                              -np.inf),
                                               cost_usd=np.full(available.shape, FREE_COST)))
    paid, _ = direct_tier_demand(value, free_value, price, available, alpha, OUTSIDE, choosers)
    assert np.allclose(demand.demand, paid, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("leave", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_a_seller_with_a_free_tier_prices_its_paid_tier_at_its_best_response(seed, leave):
    """The two-product first-order condition: profit (p − c) D_paid(p) − c_free D_free(p) is
    flat in p at the chosen price (finite differences of the direct demand) and no small
    change either way raises it."""
    value, free_value, available, alpha, choosers = free_tier_market(seed, leave)
    result = tier_equilibrium(value, free_value, available, alpha, choosers)
    price = result.price_usd
    assert result.foc_residual < 1e-7

    def profit(s, k, p_k):
        trial = price.copy()
        trial[s, k] = p_k
        paid, free = direct_tier_demand(value, free_value, trial, available, alpha, OUTSIDE,
                                        choosers)
        return (p_k - 0.5) * paid[s, k] - FREE_COST * free[s, k]

    step = 1e-6
    for s, k in zip(*np.nonzero(available[:, :2]), strict=True):
        slope = (profit(s, k, price[s, k] + step) - profit(s, k, price[s, k] - step)) / (2 * step)
        paid, _ = direct_tier_demand(value, free_value, price, available, alpha, OUTSIDE,
                                     choosers)
        assert abs(slope) < 1e-5 * paid[s, k]
        assert profit(s, k, price[s, k]) >= max(profit(s, k, price[s, k] * 1.02),
                                                profit(s, k, price[s, k] * 0.98))


def test_a_free_tier_raises_the_paid_price_and_the_sellers_users():
    """Price discrimination as an outcome: the free tier takes the price-sensitive users, so
    the paid tier is priced for the others (higher), and the seller has more users in all."""
    rng = np.random.default_rng(3)
    value = np.repeat(rng.normal(3.0, 0.5, (1, 1, 3)), 3, axis=1)  # [1, 3 cohorts, 3 sellers]
    available = np.ones((1, 3), dtype=bool)
    alpha = np.array([1.2, 0.1, 0.4])  # very price-sensitive, insensitive, between
    counts = np.zeros((1, 3, 4), dtype=np.int64)
    counts[0, :, 0] = 1_000_000
    choosers = pricing.Choosers.of(counts, available, np.array([0.1]), 0.0, 0.0)
    free_value = np.full(value.shape, -np.inf)
    free_value[:, :, 0] = value[:, :, 0] - 1.0  # seller 0's free tier: one util worse, price 0
    without = equilibrium(value, available, alpha, choosers).price_usd
    with_free = tier_equilibrium(value, free_value, available, alpha, choosers).price_usd
    assert with_free[0, 0] > without[0, 0] * 1.2
    paid, free = direct_tier_demand(value, free_value, with_free, available, alpha, OUTSIDE,
                                    choosers)
    alone, _ = direct_tier_demand(value, np.full(value.shape, -np.inf), without, available,
                                  alpha, OUTSIDE, choosers)
    assert paid[0, 0] + free[0, 0] > alone[0, 0] and free[0, 0] > paid[0, 0]


def test_free_tier_users_cost_money_and_pay_nothing():
    """F12 in the model: a large part of OpenAI's chat users are on the free tier; they pay
    nothing and cost it a share of a paid user's serving; without free tiers everyone pays."""
    model = AIMarketModel(BASELINE, rng=1, months=6)
    while model.running:
        model.step()
    openai = model.market.position(model.firm_by_id["openai"])
    chat = model.segment_ids.index("consumer_chat")
    paying, serving_units = model.paying_users()
    users = model.population.users()[chat, openai]
    assert 0.05 * users < paying[chat, openai] < 0.9 * users
    free = users - paying[chat, openai]
    # a free user is served a model 16.4 points (3.3 doublings) smaller: 2^(−0.5 · 3.28) of
    # the cost (Hoffmann et al. 2022), on top of the offer's own cost multiplier
    gap = model.market.free_tier_gap[openai, chat]
    share = 2.0 ** (-model.config.commoditization.serving_cost_exponent * gap
                    / model.config.commoditization.pretrain_points_per_doubling)
    expected = (paying[chat, openai] + share * free) * model.cost_multiplier[chat, openai]
    assert 0.3 < share < 0.35
    assert serving_units[chat, openai] == pytest.approx(expected)
    off = AIMarketModel(BASELINE, rng=1, months=6, pricing__free_tiers=False)
    while off.running:
        off.step()
    paying_off, units_off = off.paying_users()
    assert np.array_equal(paying_off, off.use)
    assert np.array_equal(units_off, paying_off * off.cost_multiplier)
