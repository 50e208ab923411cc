"""The fast paths of issue 11 give the same results as the straightforward ones they replaced:

* best rival quality from the ranked market arrays (:meth:`moatsim.market.MarketState.
  best_rival_quality`) = a loop over every seller for every lab;
* app builders' choice of supplier from the month's ranking of labs = the maximum over all
  candidate labs;
* the users engine's reconsideration with one choice row per provider somebody leaves = the
  full ``[S, C, P, P]`` choice, draw for draw (same counts from the same seed).

Checked on the baseline and on a generated scenario with copies of its labs and apps
(``benchmarks/model_speed.py``), and on random markets. Byte-identical outputs against the
pre-issue implementation are checked in tests/test_golden.py.
"""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest

from moatsim.apps import AppBuilder
from moatsim.model import AIMarketModel
from moatsim.population import NOT_ADOPTED, UserPopulation, _normalised, logit_probabilities
from tests.conftest import BASELINE, ROOT
from tests.reference_users import adopt_and_look

_spec = importlib.util.spec_from_file_location("model_speed",
                                               ROOT / "benchmarks" / "model_speed.py")
model_speed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model_speed)


def reference_best_rival_quality(model: AIMarketModel, lab) -> np.ndarray:
    """[S] the pre-issue-11 loop: best quality of any seller not running on ``lab``'s model."""
    best = np.full(len(model.segment_ids), -np.inf)
    for seller in model.sellers:
        if seller is lab or (isinstance(seller, AppBuilder) and seller.supplier is lab):
            continue
        served = seller.serves(model.month)
        best = np.where(served, np.maximum(best, seller.segment_quality()), best)
    return best


def value_to_users(model: AIMarketModel, lab, segment: int) -> float:
    """The pre-issue-11 value of a lab's API model in a segment, one lab at a time (its model
    in the segment's modality; the community's models for the community)."""
    modality = int(model.market.segment_modality[segment])
    quality = (lab.api_quality(modality) if lab is not model.community
               else float(lab.segment_quality()[segment]))
    price = lab.price_usd[segment]
    return float(model.cohort_share @ (model.quality_weight * quality
                                       - model.price_weight * price))


def reference_supplier(model: AIMarketModel, app: AppBuilder):
    """The pre-issue-11 choice: the best-value candidate lab (None if there is none)."""
    users = float(model.users_of(app)[app.segment])
    # since issue 13 an app may also run on the community's models
    suppliers = [*model.labs, model.community] if model.config.open_source.apps_may_use \
        else model.labs
    candidates = [lab for lab in suppliers if lab.serves(model.month)[app.segment]
                  and users <= lab.licence_cap_users]
    if not candidates:
        return None
    return max(candidates, key=lambda lab: (value_to_users(model, lab, app.segment), lab.firm_id))


@pytest.mark.parametrize("scenario", ["baseline", "generated-40"])
def test_ranked_market_matches_the_loops_over_sellers(scenario):
    source = BASELINE if scenario == "baseline" else model_speed.generated_scenario(40)
    model = AIMarketModel(source, rng=3, months=36)
    checked = 0
    while model.running:
        model.step()
        model.market.rank_rivals(model.month)
        for lab in model.labs:
            assert np.array_equal(model.market.best_rival_quality(lab),
                                  reference_best_rival_quality(model, lab))
        model._rank_suppliers()
        for app in model.apps:
            offers = [o for o in model.supplier_ranking[app.segment]
                      if float(model.users_of(app)[app.segment]) <= o[2].licence_cap_users]
            assert (offers[0][2] if offers else None) is reference_supplier(model, app)
            checked += 1
    assert checked > 0


def reference_step(population: UserPopulation, rng, choice_rng, *, utility, available,
                   outside_utility, bass_p, bass_q, reconsider_share, switching_cost):
    """The pre-issue-11 month: reconsideration over the full [S, C, P, P] choice."""
    counts = population.counts
    n_providers = counts.shape[2] - 1
    avail, adopted, looking = adopt_and_look(
        counts, rng, choice_rng, logit_probabilities, utility=utility, available=available,
        outside_utility=outside_utility, bass_p=bass_p, bass_q=bass_q,
        reconsider_share=reconsider_share)
    bonus = switching_cost * np.eye(n_providers)[None, None, :, :]
    choose = logit_probabilities(utility[:, :, None, :] + bonus, avail[:, :, None, :])
    stranded = ~avail.any(axis=2)
    drop = np.broadcast_to(stranded[:, :, None, None], (*looking.shape, 1)).astype(float)
    moves = choice_rng.multinomial(looking, _normalised(np.concatenate([drop, choose], axis=3)))
    arrived = moves[:, :, :, 1:].sum(axis=2)
    counts[:, :, NOT_ADOPTED] += moves[:, :, :, 0].sum(axis=2) - adopted.sum(axis=2)
    counts[:, :, 1:] += adopted - looking + arrived


@pytest.mark.parametrize("seed", range(6))
def test_users_engine_draws_like_the_full_choice(seed):
    rng = np.random.default_rng(seed)
    n_segments, n_cohorts, n_providers = 3, 2, 9
    initial = rng.integers(0, 5000, size=(n_segments, n_providers)) * (
        rng.random((n_segments, n_providers)) < 0.6)
    fast = UserPopulation(np.full(n_segments, 10**6), np.array([0.7, 0.3]), initial)
    slow = copy.deepcopy(fast)
    streams = [np.random.default_rng([seed, k % 2]) for k in range(4)]  # same seeds twice
    for month in range(18):
        available = rng.random((n_segments, n_providers)) < 0.7
        if month == 5:
            available[0] = False  # a segment where nothing is offered: users drop out
        inputs = dict(utility=rng.normal(0.0, 3.0, (n_segments, n_cohorts, n_providers)),
                      available=available, outside_utility=1.0,
                      bass_p=np.full(n_segments, 0.01), bass_q=np.full(n_segments, 0.3),
                      reconsider_share=0.1, switching_cost=1.5)
        fast.step(streams[0], choice_rng=streams[1], **inputs)
        reference_step(slow, streams[2], streams[3], **inputs)
        assert np.array_equal(fast.counts, slow.counts), f"month {month}"
        assert np.array_equal(fast.users(), slow.counts[:, :, 1:].sum(axis=1))


def test_market_arrays_grow_for_sellers_beyond_the_first_capacity():
    from moatsim.market import APP, LAB, NEVER, MarketState

    market = MarketState(n_segments=3, capacity=1)
    sellers = [object(), object(), object()]
    columns = [market.claim(seller, kind, founded_month=month)
               for seller, kind, month in zip(sellers, (LAB, LAB, APP), (0, 2, 0), strict=True)]
    assert columns == [0, 1, 2] and market.size == 3
    assert market.capability.shape[0] >= 3 and market.entry_month.shape[1] == 3
    market.set_entry(1, 2, 4)
    market.set_supplier(2, 0)
    assert market.entry_month[:3].tolist() == [[NEVER] * 3, [NEVER, NEVER, 4], [NEVER] * 3]
    assert market.supplier_column[:3].tolist() == [0, 1, 0]
    assert np.isnan(market.capability[:3]).all()
    # seller 1 (founded in month 2) serves segment 2 from month 4; exits take it out
    assert not market.serving(3)[1, 2] and market.serving(4)[1, 2]
    market.leave(1)
    assert not market.serving(4)[1, 2]


def _live_firm_rows(model: AIMarketModel) -> list[tuple]:
    """Each agent's record now, by the straightforward per-firm reporters."""
    from moatsim.metrics import FIRM_REPORTERS

    rows = []
    for agent in model.agents:
        row = []
        for reporter in FIRM_REPORTERS.values():
            row.append(getattr(agent, reporter) if isinstance(reporter, str) else reporter(agent))
        rows.append(tuple(row))
    return rows


@pytest.mark.parametrize("scenario", ["baseline", "generated-40"])
def test_recorded_tables_equal_the_live_reporters_month_by_month(scenario):
    """The firms table built at the end from the recorded months = the per-firm reporters
    applied to the live model each month; the model table built for all months at once =
    the same indicators computed for one month at a time."""
    from moatsim.metrics import FIRM_REPORTERS, indicators

    source = BASELINE if scenario == "baseline" else model_speed.generated_scenario(40)
    model = AIMarketModel(source, rng=5, months=30)
    live = [_live_firm_rows(model)]
    while model.running:
        model.step()
        live.append(_live_firm_rows(model))
    table = model.recorder.firms_frame().reset_index(drop=True)
    expected = [row for month in live for row in month]
    assert len(table) == len(expected)
    got = list(table[list(FIRM_REPORTERS)].itertuples(index=False, name=None))
    for want, have in zip(expected, got, strict=True):
        assert len(want) == len(have)
        for a, b in zip(want, have, strict=True):
            assert (a == b) or (a != a and b != b), (want, have)  # NaN equals NaN here
    recorder = model.recorder
    all_months = indicators(recorder.records())
    for month in (0, 7, 30):
        one = indicators(recorder.records(slice(month, month + 1)))
        for name, values in one.items():
            a, b = values[0], all_months[name][month]
            assert (a == b) or (a != a and b != b), (name, month, a, b)


def test_post_training_for_all_sellers_equals_each_seller_on_its_own():
    """The model's post-training phase = the pre-issue-11 per-seller rule, bonus for bonus."""
    from moatsim import technology

    model = AIMarketModel(model_speed.generated_scenario(40), rng=2, months=24)
    for _ in range(12):
        model.step()
    cfg = model.config
    sellers = [*model.labs, *model.apps]
    before = model.market.quality_bonus.copy()
    expected = before.copy()
    for seller in sellers:
        served = seller.serves(model.month)
        budget = seller.post_training_budget_musd()
        if not served.any() or budget <= 0:
            continue
        users = model.use_of(seller)[served]  # effort goes where the work is
        spend = np.zeros(len(served))
        spend[served] = budget * ((users + 1.0) / (users + 1.0).sum())
        spend *= model._iteration_speed(np.array([seller.column]))[0]  # C16
        gain = technology.posttrain_gain(spend, cfg.technology.training_reference_musd,
                                         cfg.commoditization.posttrain_points_per_doubling_year)
        row = expected[seller.column]
        row += served * (gain - cfg.commoditization.posttrain_depreciation_monthly
                         * np.maximum(row, 0.0))
    model._post_train(model.labs)
    model._post_train(model.apps)
    assert not np.array_equal(before, expected)  # the month moved some bonus
    assert np.array_equal(model.market.quality_bonus, expected)
