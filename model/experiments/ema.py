"""moatsim as an EMA Workbench model (``ema_workbench``, optional).

EMA Workbench calls a plain function with keyword arguments and wants a dict of outcomes
back. :func:`run` is that function: parameters by flat name
(``first_mover__switching_cost_utils=3``), plus ``scenario_file``, ``seed`` and ``months``
(not ``scenario``: EMA Workbench uses that name for its own scenario ids);
outcomes are the final values of :data:`SCALARS` and, as arrays of ``months + 1`` values,
the monthly series of :data:`SERIES` (named ``<metric>_series``).

    from ema_workbench import Model, RealParameter, Constant, ScalarOutcome, ArrayOutcome
    from moatsim.experiments.ema import run, SCALARS, SERIES

    model = Model("moatsim", function=run)
    model.uncertainties = [RealParameter("first_mover__switching_cost_utils", 0, 8)]
    model.constants = [Constant("months", 48)]
    model.outcomes = [ScalarOutcome(n) for n in SCALARS] + \\
        [ArrayOutcome(f"{n}_series") for n in SERIES]

:func:`ema_model` builds exactly that from ``{flat_name: (low, high)}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moatsim.experiments import outcomes
from moatsim.loading import flat_to_path
from moatsim.model import DEFAULT_SCENARIO

SCALARS = ("hhi", "open_share", "quality_gap", "model_access_markup", "app_layer_margin_share",
           "consumer_surplus", "first_mover_share", "exits")
SERIES = ("hhi", "open_share", "first_mover_share")


def run(scenario_file: str | Path = DEFAULT_SCENARIO, seed: int = 1,
        months: int | None = None, **flat_params: Any) -> dict[str, Any]:
    """One run; scalar outcomes as floats, series as numpy arrays (one value per month)."""
    from moatsim.experiments.run import run_scenario

    overrides = {flat_to_path(name): _plain(value) for name, value in flat_params.items()}
    result = run_scenario(scenario_file, seed=int(seed),
                          months=None if months is None else int(months), overrides=overrides)
    final = outcomes.final_values(result, SCALARS)
    series = outcomes.time_series(result, SERIES)
    return {**{name: float(value) for name, value in final.items()},
            **{f"{name}_series": np.asarray(series[name]) for name in SERIES}}


def _plain(value: Any) -> Any:
    """numpy scalars (as EMA passes them) → Python numbers the scenario schema accepts."""
    return value.item() if isinstance(value, np.generic) else value


def ema_model(uncertainties: dict[str, tuple[float, float]], *, months: int = 24,
              scenario: str | Path = DEFAULT_SCENARIO, seed: int = 1, name: str = "moatsim"):
    """An ``ema_workbench.Model`` of moatsim with real-valued uncertainties by flat name."""
    from ema_workbench import ArrayOutcome, Constant, Model, RealParameter, ScalarOutcome

    model = Model(name, function=run)
    model.uncertainties = [RealParameter(flat, low, high)
                           for flat, (low, high) in uncertainties.items()]
    model.constants = [Constant("months", months), Constant("seed", seed),
                       Constant("scenario_file", str(scenario))]
    model.outcomes = [ScalarOutcome(n) for n in SCALARS] + \
        [ArrayOutcome(f"{n}_series") for n in SERIES]
    return model
