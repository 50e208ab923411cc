"""Sampling designs and global sensitivity indices (SALib, scipy.stats.qmc).

* ``latin_hypercube`` — :class:`scipy.stats.qmc.LatinHypercube`, ``samples`` points;
* ``sobol`` — Saltelli's scheme (:func:`SALib.sample.sobol.sample`), ``samples`` = N base
  points (a power of 2) → N·(D+2) points, or N·(2D+2) with second-order indices;
  indices with :func:`SALib.analyze.sobol.analyze` (S1, ST with 95% confidence intervals);
* ``morris`` — elementary-effects trajectories (:func:`SALib.sample.morris.sample`),
  ``samples`` = trajectories → N·(D+1) points; :func:`SALib.analyze.morris.analyze` gives
  μ* (with a 95% confidence interval) and σ, in the metric's units per move across the whole
  range of the parameter.

Samples live in the *sampling space*: the parameter's range, or its log10 for ``scale: log``.
:func:`to_values` maps them to parameter values (rounding whole-number parameters). The
analyses read the sampling-space matrix, so rounding does not bias Morris steps.

Every sample is seeded from the experiment's ``seed``: the same file gives the same design.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

SAMPLED_DESIGNS = ("latin_hypercube", "sobol", "morris")
SENSITIVITY_DESIGNS = ("sobol", "morris")
CONFIDENCE = 0.95


def problem(names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """A SALib problem definition (bounds in the sampling space)."""
    return {"num_vars": len(names), "names": list(names),
            "bounds": [[float(low), float(high)] for low, high in bounds]}


def sample(design: str, names: Sequence[str], bounds: Sequence[tuple[float, float]], *,
           samples: int, seed: int, levels: int = 4, second_order: bool = False) -> np.ndarray:
    """The design's points as an [n, D] matrix in the sampling space."""
    spec = problem(names, bounds)
    if design == "latin_hypercube":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(seed)).random(samples)
        low = np.array([b[0] for b in spec["bounds"]])
        high = np.array([b[1] for b in spec["bounds"]])
        return low + unit * (high - low)
    if design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(spec, samples, calc_second_order=second_order, scramble=True,
                            seed=seed)
    if design == "morris":
        from SALib.sample import morris

        return morris.sample(spec, samples, num_levels=levels, seed=seed)
    raise ValueError(f"not a sampled design: {design}")


def points_for(design: str, dimensions: int, samples: int, *, second_order: bool = False) -> int:
    """How many points a sampled design makes (before replicates)."""
    if design == "sobol":
        return samples * (2 * dimensions + 2 if second_order else dimensions + 2)
    if design == "morris":
        return samples * (dimensions + 1)
    return samples


def is_power_of_two(number: int) -> bool:
    return number >= 1 and (number & (number - 1)) == 0


def to_values(column: np.ndarray, *, scale: str, kind: str) -> list[Any]:
    """Sampling-space values → parameter values (10^x for log scale; rounded whole numbers)."""
    values = np.power(10.0, column) if scale == "log" else np.asarray(column, dtype=float)
    if kind == "int":
        return [int(round(v)) for v in values]
    return [float(v) for v in values]


def to_sampling_space(low: float, high: float, scale: str) -> tuple[float, float]:
    return (math.log10(low), math.log10(high)) if scale == "log" else (low, high)


# ---------------------------------------------------------------- analysis


def analyze(design: str, names: Sequence[str], bounds: Sequence[tuple[float, float]],
            x: np.ndarray, y: np.ndarray, *, seed: int, levels: int = 4,
            second_order: bool = False) -> pd.DataFrame:
    """Sensitivity indices of one output ``y`` (one value per design point, in design order).

    One row per parameter × index: ``parameter``, ``index`` (S1, ST for Sobol; mu_star,
    sigma for Morris), ``value``, ``conf`` (half-width of the 95% confidence interval, NaN
    where SALib gives none).
    """
    spec = problem(names, bounds)
    y = np.asarray(y, dtype=float)
    rows = []
    if design == "sobol":
        from SALib.analyze import sobol

        indices = sobol.analyze(spec, y, calc_second_order=second_order, num_resamples=200,
                                conf_level=CONFIDENCE, print_to_console=False, seed=seed)
        for i, name in enumerate(names):
            rows.append((name, "S1", indices["S1"][i], indices["S1_conf"][i]))
            rows.append((name, "ST", indices["ST"][i], indices["ST_conf"][i]))
    elif design == "morris":
        from SALib.analyze import morris

        indices = morris.analyze(spec, np.asarray(x, dtype=float), y, num_resamples=200,
                                 conf_level=CONFIDENCE, print_to_console=False,
                                 num_levels=levels, seed=seed)
        for i, name in enumerate(names):
            rows.append((name, "mu_star", indices["mu_star"][i], indices["mu_star_conf"][i]))
            rows.append((name, "sigma", indices["sigma"][i], float("nan")))
    else:
        raise ValueError(f"no sensitivity indices for a {design} design")
    return pd.DataFrame(rows, columns=["parameter", "index", "value", "conf"]).astype(
        {"value": float, "conf": float})
