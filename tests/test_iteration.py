"""C16 (issue 13, point 6): giant models slow iteration, and small models iterated quickly
gain between frontier releases. A post-training dollar goes further on a smaller model
(``commoditization.posttrain_size_exponent``): the tests check the factor against its
formula and that switching it on raises the product edge of the labs behind the frontier,
and not the frontier lab's.
"""

from __future__ import annotations

import numpy as np
import pytest

from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

MONTHS = 18  # to 2024-06


def _model(months: int, exponent: float) -> AIMarketModel:
    model = AIMarketModel(BASELINE, rng=1,
                          commoditization__posttrain_size_exponent=exponent)
    for _ in range(months):
        model.step()
    return model


def test_a_dollar_goes_further_by_two_to_the_kappa_d_on_a_model_d_doublings_smaller():
    model = _model(6, 0.5)
    market, cfg = model.market, model.config.commoditization
    text = model.segment_ids.index("consumer_chat")
    labs = [lab for lab in model.labs if lab.active(model.month)
            and not np.isnan(market.capability[lab.column, 0])]
    columns = np.array([lab.column for lab in labs])
    speed = model._iteration_speed(columns)[:, text]
    frontier = market.frontier(model.month)[0]
    behind = frontier - market.capability[columns, 0]
    expected = 2.0 ** (0.5 * behind / cfg.pretrain_points_per_doubling)
    assert speed == pytest.approx(expected)
    assert speed.min() == pytest.approx(1.0)  # the frontier lab itself
    assert speed.max() > 1.5  # a lab a couple of doublings behind
    apps = np.array([app.column for app in model.apps])
    assert model._iteration_speed(apps) == pytest.approx(1.0)  # apps tune interfaces


def test_small_models_gain_product_edge_and_the_frontier_lab_does_not():
    fast, slow = _model(MONTHS, 0.5), _model(MONTHS, 0.0)
    chat = fast.segment_ids.index("consumer_chat")

    def edge(model: AIMarketModel, firm_id: str) -> float:
        return float(model.market.quality_bonus[model.firm_by_id[firm_id].column, chat])

    # Mistral's small open models, 2023-09 on, are well behind the frontier
    assert edge(fast, "mistral") > edge(slow, "mistral") + 1.0
    assert edge(fast, "openai") == pytest.approx(edge(slow, "openai"), rel=0.05, abs=0.2)
