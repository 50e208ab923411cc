"""Multi-homing (issue 13, point 3; H8): enterprise and coding users keep a primary provider
and split their work among a set of providers by a logit over tasks, paying a cost for each
provider beyond the first.

The split is checked against a brute force over every set; the model-level tests move the
cost and check that the number of providers, the shares of use and the reach move with it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from moatsim import multihoming
from moatsim.experiments.run import run_scenario
from moatsim.loading import load_scenario
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

MONTHS = 23  # to 2024-11, the month of H7's enterprise shares


def _best_set_by_brute_force(utility: np.ndarray, available: np.ndarray, primary: int,
                             cost: float) -> tuple[np.ndarray, np.ndarray]:
    """(split, used) of a user with this cost per extra provider, from every subset."""
    others = [j for j in np.flatnonzero(available) if j != primary]
    best_gain, best = -np.inf, [primary]
    for size in range(len(others) + 1):
        for extra in itertools.combinations(others, size):
            chosen = [primary, *extra]
            gain = np.log(np.exp(utility[chosen]).sum()) - cost * size
            if gain > best_gain + 1e-12:
                best_gain, best = gain, chosen
    split, used = np.zeros(len(utility)), np.zeros(len(utility))
    weight = np.exp(utility[best])
    split[best], used[best] = weight / weight.sum(), 1.0
    return split, used


def test_users_pick_the_set_that_maximises_their_logsum_net_of_their_own_cost():
    """Each user's set is the best of all subsets for its own cost; averaged over the
    exponential spread of costs (by quantiles), that is the split the module computes."""
    rng = np.random.default_rng(7)
    quantiles = (np.arange(800) + 0.5) / 800
    for _ in range(25):
        n_providers = int(rng.integers(1, 6))
        utility = rng.normal(0.0, 1.5, (2, 2, n_providers))
        available = rng.random((2, n_providers)) < 0.8
        mean_cost = np.array([np.nan, rng.uniform(0.05, 1.0)])
        split, used = multihoming.use_split(utility, available, mean_cost)
        assert np.allclose(split.sum(axis=3), 1.0)
        # the single-homing segment keeps every user on its primary
        assert np.array_equal(split[0], np.broadcast_to(np.eye(n_providers), split[0].shape))
        assert np.array_equal(used[0], split[0])
        costs = -mean_cost[1] * np.log1p(-quantiles)
        for cohort, primary in itertools.product(range(2), range(n_providers)):
            if not available[1, primary]:
                continue
            sets = [_best_set_by_brute_force(utility[1, cohort], available[1], primary, cost)
                    for cost in costs]
            assert split[1, cohort, primary] == pytest.approx(
                np.mean([one[0] for one in sets], axis=0), abs=5e-3)
            assert used[1, cohort, primary] == pytest.approx(
                np.mean([one[1] for one in sets], axis=0), abs=5e-3)


def test_the_cost_per_provider_decides_how_many_a_user_keeps():
    utility = np.array([[[1.0, 0.8, 0.0, -3.0]]])  # one segment, one cohort
    available = np.ones((1, 4), dtype=bool)
    providers = [float(multihoming.use_split(utility, available, np.array([cost]))[1][0, 0, 0]
                       .sum()) for cost in (0.0, 0.1, 0.5, 2.0, 20.0)]
    assert providers[0] == 4.0  # free to add: every provider
    assert all(a > b for a, b in zip(providers, providers[1:], strict=False))
    assert providers[-1] == pytest.approx(1.0, abs=0.05)  # dear: the primary alone
    # a user whose primary is the worst offer still sends most of its work elsewhere
    split = multihoming.use_split(utility, available, np.array([0.5]))[0][0, 0, 3]
    assert split[3] < 0.1 and split[0] > split[1] > split[2]


def test_use_adds_up_to_the_users_and_reach_counts_each_user_at_each_provider():
    counts = np.array([[[10, 0, 5]]])  # 10 users of provider 0 and 5 of provider 2
    split = np.array([[[[0.6, 0.4, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 0.5]]]])
    used = np.array([[[[1.0, 0.8, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 1.0]]]])
    use, reach = multihoming.use_and_reach(counts, split, used)
    assert use[0, 0].tolist() == [6.0, 6.5, 2.5]
    assert use.sum() == counts.sum()
    assert reach[0].tolist() == [10, 13, 5]


def _model_at(months: int, overrides: dict) -> AIMarketModel:
    model = AIMarketModel(load_scenario(BASELINE, overrides), rng=1)
    for _ in range(months):
        model.step()
    return model


def test_enterprise_users_use_several_providers_in_the_baseline_and_one_without():
    multi = run_scenario(BASELINE, seed=1, months=MONTHS)
    single = run_scenario(BASELINE, seed=1, months=MONTHS, overrides={
        "segments.enterprise_knowledge.extra_provider_cost_utils": None,
        "segments.coding.extra_provider_cost_utils": None})
    column = "providers_per_user.enterprise_knowledge"
    assert multi.model[column].iloc[-1] > 1.5
    assert single.model[column].dropna().eq(1.0).all()
    segments = multi.segments[(multi.segments["month"] == MONTHS)
                              & (multi.segments["segment"] == "enterprise_knowledge")]
    adopters = multi.model["adopters"].iloc[-1]
    assert segments["share"].sum() == pytest.approx(1.0)
    # use adds up to the adopters; users of providers add up to more (each counted at each)
    assert segments["use"].sum() == pytest.approx(
        segments["users"].sum() / multi.model[column].iloc[-1])
    assert segments["users"].sum() > 1.5 * segments["use"].sum()
    assert adopters >= segments["use"].sum()


def test_a_dearer_second_provider_concentrates_use_on_primaries():
    segment_key = "segments.enterprise_knowledge.extra_provider_cost_utils"
    runs = {cost: _model_at(MONTHS, {segment_key: cost}) for cost in (0.1, 0.7, 20.0)}
    segment = runs[0.1].segment_ids.index("enterprise_knowledge")

    def providers_per_user(model: AIMarketModel) -> float:
        return float(model.reach[segment].sum() / model.use[segment].sum())

    def off_primary(model: AIMarketModel) -> float:
        """Share of the segment's work users send to providers other than their primary."""
        split, _ = multihoming.use_split(model.utility, model.available,
                                         model.extra_provider_cost)
        counts = model.population.counts[segment, :, 1:].astype(float)  # [C, K]
        kept = (counts * np.diagonal(split[segment], axis1=1, axis2=2)).sum()
        return float(1.0 - kept / counts.sum())

    per_user = [providers_per_user(runs[cost]) for cost in (0.1, 0.7, 20.0)]
    assert per_user[0] > 3.0 and per_user[0] > per_user[1] > per_user[2]
    assert per_user[2] < 1.2
    moved = [off_primary(runs[cost]) for cost in (0.1, 0.7, 20.0)]
    assert moved[0] > moved[1] > moved[2]
    assert moved[2] < 0.1 < moved[0]


def test_providers_are_paid_for_the_use_they_serve():
    model = _model_at(MONTHS, {})
    segment = model.segment_ids.index("enterprise_knowledge")
    paying, _ = model.paying_users()
    assert paying[segment] == pytest.approx(model.use[segment])  # no free tier there
    assert not np.allclose(paying[segment], model.population.users()[segment])
