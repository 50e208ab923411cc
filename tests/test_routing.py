"""Apps that route tasks across suppliers, and apps built on the community's models (issue 13,
point 4; model.apps): the split is the logit over the suppliers' values, the gain to users is
its entropy, quality and API fees follow the split, and routing and open community models
move an app's share of its segment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moatsim.apps import MIN_ROUTE_SHARE, task_routes
from moatsim.community import OpenSourceCommunity
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

COPILOT_ROUTES = "2024-11"  # scenarios/baseline.yaml, event copilot_multi_model


def test_equal_suppliers_split_tasks_evenly_and_are_worth_log_n():
    kept, share, gain = task_routes(np.array([3.0, 3.0, 3.0, 3.0]))
    assert kept.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(share, 0.25)
    assert gain == pytest.approx(math.log(4))


def test_a_dominant_supplier_takes_every_task_and_routing_is_worth_nothing():
    kept, share, gain = task_routes(np.array([0.0, 9.0, 1.0]))
    assert kept.tolist() == [1] and share.tolist() == [1.0]
    assert gain == 0.0


def test_the_split_is_the_logit_without_suppliers_below_the_least_share():
    value = np.array([2.0, 1.0, 2.0 + math.log(MIN_ROUTE_SHARE) - 1.0])
    kept, share, gain = task_routes(value)
    assert kept.tolist() == [0, 1]
    logit = np.exp(value[:2]) / np.exp(value[:2]).sum()
    np.testing.assert_allclose(share, logit)
    assert gain == pytest.approx(-(logit * np.log(logit)).sum())
    # the gain is the log-sum over the kept suppliers less their share-weighted value
    log_sum = math.log(np.exp(value[:2]).sum())
    assert gain == pytest.approx(log_sum - (share * value[:2]).sum())


@pytest.fixture(scope="module")
def routing_copilot():
    """The baseline (seed 1) in the first month GitHub Copilot routes (its model picker)."""
    model = AIMarketModel(BASELINE, rng=1)
    while model.date != COPILOT_ROUTES:
        model.step()
    return model


def test_a_router_runs_on_several_suppliers_with_the_logit_split(routing_copilot):
    model = routing_copilot
    app = model.firm_by_id["github_copilot"]
    assert len(app.route) >= 2
    shares = np.array([share for _, share in app.route])
    assert shares.sum() == pytest.approx(1.0) and shares.min() >= MIN_ROUTE_SHARE
    # the main supplier is the one with the largest share
    assert app.supplier is app.route[int(np.argmax(shares))][0]
    # shares follow the suppliers' values as ranked this month, and users gain their entropy
    value = np.array([model.supplier_value_of(supplier, app.segment) for supplier, _ in app.route])
    logit = np.exp(value - value.max())
    np.testing.assert_allclose(shares[1:] / shares[0], logit[1:] / logit[0], rtol=1e-12)
    gain = model.market.routing_gain_utils[app.column]
    assert gain == pytest.approx(-(shares * np.log(shares)).sum()) and gain > 0.3
    assert model.advantage()[app.segment, app.column] >= gain


def test_a_routers_quality_and_api_price_are_its_suppliers_weighted_by_share(routing_copilot):
    model = routing_copilot
    app = model.firm_by_id["github_copilot"]
    segment = app.segment
    modality = int(model.market.segment_modality[segment])
    supplied = sum(share * (float(s.segment_quality()[segment])
                            if isinstance(s, OpenSourceCommunity) else s.api_quality(modality))
                   for s, share in app.route)
    assert app.quality == pytest.approx(supplied + app.quality_bonus[segment], abs=1e-9)
    fee = sum(share * s.price_usd[segment] for s, share in app.route)
    apps = [a.column for a in model.apps]
    api_price = model.market.routed_price(model.market.price_usd)
    assert api_price[segment, apps.index(app.column)] == pytest.approx(fee)


def test_api_fees_go_to_each_supplier_in_proportion_to_its_share(routing_copilot):
    model = routing_copilot
    app = model.firm_by_id["github_copilot"]
    month = model.month
    served = float(model.use_of(app)[app.segment])
    assert served > 0
    # fees to labs, and what hosts outside the model charge to serve the community's models
    paid = {(entry.category, entry.counterparty): -entry.amount_musd
            for entry in app.ledger.entries
            if entry.month == month and entry.category in ("api_fees", "serving")}
    assert any(isinstance(s, OpenSourceCommunity) for s, _ in app.route)
    for supplier, share in app.route:
        expected = served * share * supplier.price_usd[app.segment] / 1e6
        key = (("serving", None) if isinstance(supplier, OpenSourceCommunity)
               else ("api_fees", supplier.firm_id))
        assert paid.get(key, 0.0) == pytest.approx(expected, rel=1e-9)


def _coding_share(date: str, **overrides) -> float:
    model = AIMarketModel(BASELINE, rng=2, **overrides)
    while model.date != date:
        model.step()
    segment = model.segment_ids.index("coding")
    use = model.use[segment]
    return float(use[model.firm_by_id["github_copilot"].column] / use.sum())


def test_routing_raises_the_routers_share_of_its_segment():
    routed = _coding_share("2025-12")
    single = _coding_share("2025-12", events__copilot_multi_model__enabled=False)
    assert routed > single + 0.02


def test_apps_on_the_community_models_take_more_of_their_segment():
    allowed = _coding_share("2024-06")
    labs_only = _coding_share("2024-06", open_source__apps_may_use=False)
    assert allowed > labs_only + 0.03
