"""C21 (issue 13, point 6): the tighter labs control their models, the more attractive open
alternatives become. A cohort's taste for open weights grows with the share of its
segment's work that runs on closed models (``choice.open_appeal_from_closed_use``): the tests
check the formula on the model's own state, and that the weight moves the open share.
"""

from __future__ import annotations

import numpy as np
import pytest

from moatsim.experiments.run import run_scenario
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

KEY = "choice.open_appeal_from_closed_use"


def test_the_taste_for_open_weights_grows_with_the_closed_share_of_use():
    model = AIMarketModel(BASELINE, rng=1)
    for _ in range(6):
        model.step()
    weight = model.config.choice.open_appeal_from_closed_use
    assert weight > 0  # on in the baseline
    use, is_open = model.use, model.market.is_open
    closed = 1.0 - (use * is_open).sum(axis=1) / use.sum(axis=1)
    assert model.closed_use_share == pytest.approx(closed)
    appeal = model.open_appeal()
    assert appeal == pytest.approx(model.open_preference[None, :] * (1 + weight * closed[:, None]))
    # where more of the work is closed, open weights appeal more to those who care at all
    caring = np.flatnonzero(model.open_preference > 0)
    order = np.argsort(closed)
    assert (np.diff(appeal[order][:, caring], axis=0) >= 0).all()
    assert (appeal[:, model.open_preference == 0] == 0).all()


def test_a_stronger_reaction_to_closed_control_raises_the_open_share():
    shares = [run_scenario(BASELINE, seed=1, months=24, overrides={KEY: weight})
              .model.set_index("date")["open_share"] for weight in (0.0, 1.0, 3.0)]
    at = "2023-12"
    assert shares[0][at] < shares[1][at] < shares[2][at]
    assert shares[1][at] > shares[0][at] + 0.02
