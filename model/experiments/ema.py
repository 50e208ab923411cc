"""moatsim as an EMA Workbench model (``ema_workbench``, the ``ema`` extra).

EMA Workbench calls a plain function with keyword arguments and wants a dict of outcomes
back. :func:`run` is that function: parameters by their dotted path, the name they have in
sweep files and their Parquet columns (``first_mover.switching_cost_utils``; the flat
``first_mover__switching_cost_utils`` works too), plus ``scenario_file``, ``seed`` and ``months``
(not ``scenario``: EMA Workbench uses that name for its own scenario ids). Outcomes are the
final values of :data:`SCALARS`, the monthly series of :data:`SERIES` (named
``<metric>_series``, ``months + 1`` values) and ``TIME``, the months 0…N, which EMA's
time-series plots (``ema_workbench.analysis.plotting.lines``) put on the x axis.

:func:`ema_model` builds the ``Model``: ``ScalarOutcome`` for the scalars,
``TimeSeriesOutcome`` for the series and ``TIME``. With ``replications=R`` it builds a
``ReplicatorModel`` instead, run on seeds ``seed … seed + R − 1`` (the same seeds for every
EMA scenario: common random numbers): each scalar is the mean over the replications, each
series of shape (R, months + 1) (EMA keeps one outcome class per name in a process, so the
series are ``TimeSeriesOutcome`` in both models).

    from ema_workbench import SequentialEvaluator
    from moatsim.experiments.ema import ema_model

    model = ema_model({"first_mover.switching_cost_utils": (0, 8)}, months=48, replications=5)
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=50)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moatsim.experiments import outcomes
from moatsim.loading import flat_to_path, path_to_flat
from moatsim.model import DEFAULT_SCENARIO

SCALARS = ("hhi", "open_share", "quality_gap", "model_access_markup", "app_layer_margin_share",
           "consumer_surplus_musd", "first_mover_share", "exits")
SERIES = ("hhi", "open_share", "first_mover_share")
TIME = "TIME"
"""The outcome EMA Workbench's time-series plots look for: the months 0…N."""


def run(scenario_file: str | Path = DEFAULT_SCENARIO, seed: int = 1,
        months: int | None = None, **flat_params: Any) -> dict[str, Any]:
    """One run; scalar outcomes as floats, series and ``TIME`` as numpy arrays (one value
    per month)."""
    from moatsim.experiments.run import run_scenario

    overrides = {flat_to_path(name): _plain(value) for name, value in flat_params.items()}
    result = run_scenario(scenario_file, seed=int(seed),
                          months=None if months is None else int(months), overrides=overrides)
    final = outcomes.final_values(result, SCALARS)
    series = outcomes.time_series(result, SERIES)
    return {**{name: float(value) for name, value in final.items()},
            **{f"{name}_series": np.asarray(series[name]) for name in SERIES},
            TIME: result.model["month"].to_numpy(dtype=float)}


def _first(replicated: Any) -> np.ndarray:
    """The months of the first replication (every replication has the same ones); a named
    function, so the model pickles for EMA's multiprocessing evaluator."""
    return np.asarray(replicated)[0]


def _plain(value: Any) -> Any:
    """numpy scalars (as EMA passes them) → Python numbers the scenario schema accepts."""
    return value.item() if isinstance(value, np.generic) else value


def ema_model(uncertainties: dict[str, tuple[float, float]], *, months: int = 24,
              scenario: str | Path = DEFAULT_SCENARIO, seed: int = 1,
              replications: int | None = None, name: str = "moatsim"):
    """An ``ema_workbench`` model of moatsim with real-valued uncertainties by dotted (or flat) name, named in EMA by the flat one (EMA
Workbench 3 requires identifiers):
    one run per experiment (seed ``seed``), or ``replications`` runs on seeds
    ``seed, seed + 1, …`` (a ``ReplicatorModel``; scalars are their means)."""
    from ema_workbench import (
        Constant,
        Model,
        RealParameter,
        ReplicatorModel,
        ScalarOutcome,
        TimeSeriesOutcome,
    )

    constants = [Constant("months", months), Constant("scenario_file", str(scenario))]
    if replications is None:
        model = Model(name, function=run)
        model.constants = [*constants, Constant("seed", seed)]
        model.outcomes = [ScalarOutcome(n) for n in SCALARS] + \
            [TimeSeriesOutcome(f"{n}_series") for n in SERIES] + [TimeSeriesOutcome(TIME)]
    else:
        model = ReplicatorModel(name, function=run)
        model.replications = [{"seed": seed + r} for r in range(replications)]
        model.constants = constants
        model.outcomes = [ScalarOutcome(n, function=np.mean) for n in SCALARS] + \
            [TimeSeriesOutcome(f"{n}_series") for n in SERIES] + \
            [TimeSeriesOutcome(TIME, function=_first)]
    # EMA Workbench 3 wants identifiers: a dotted path becomes its flat spelling
    model.uncertainties = [RealParameter(path_to_flat(name), low, high)
                           for name, (low, high) in uncertainties.items()]
    return model
