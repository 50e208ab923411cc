"""C13 (issue 13, point 6): Llama's licence needs Meta's permission above a number of monthly
users. An app above the cap cannot build on the capped model, so a binding cap forces it
onto the next-best model; permission is never granted in the model (Meta decides at its
discretion, and it would be granting it to a rival: docs/decisions.md).
"""

from __future__ import annotations

from moatsim.loading import load_scenario
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

MONTHS = 12


def _suppliers(cap_users: float) -> tuple[list[str], AIMarketModel]:
    model = AIMarketModel(load_scenario(BASELINE, {"firms.meta_ai.licence_cap_users": cap_users}),
                          rng=1)
    perplexity = model.firm_by_id["perplexity"]
    suppliers = []
    for _ in range(MONTHS):
        model.step()
        suppliers.append(perplexity.supplier_id)
    return suppliers, model


def test_a_binding_licence_cap_sends_a_large_app_to_the_next_best_model():
    free, _ = _suppliers(7e8)  # Llama's 700M: far above Perplexity's few million users
    capped, model = _suppliers(1e5)
    # once Meta AI's model is on the market and the best value, the app moves to it ...
    assert "meta_ai" in free
    # ... unless it is too large for the licence, when it takes the next-best model
    assert "meta_ai" not in capped
    switched = free.index("meta_ai")
    assert capped[:switched] == free[:switched]  # the same choices until the cap binds
    assert capped[switched] != free[switched]  # the month it binds, it chooses otherwise
    users = float(model.users_of(model.firm_by_id["perplexity"]).sum())
    assert users > 1e5  # the cap binds: the app is larger than it allows
