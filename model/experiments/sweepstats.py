"""What a sweep shows, in numbers a report can put in words: how each metric responds to each
parameter, which parameter moves it most and whether that is more than seed noise, where a
yes/no outcome flips, and which heat-map cells differ from the baseline cell.

Runs are grouped by a parameter's value (a grid) or into bins of equal size (sampled
designs); a group's spread is over seeds and the other parameters. The noise of a difference
between two group means is its standard error from the runs, and a difference counts as an
effect only beyond a Bonferroni-corrected normal quantile over every pair of groups it was
picked from — picking the largest of many differences would otherwise find one in pure
noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

BAND = (0.05, 0.95)
BINS = 8
ALPHA = 0.05


def groups(results: pd.DataFrame, parameter: str, metric: str, binned: bool) -> pd.DataFrame:
    """Runs grouped by ``parameter`` (into ``BINS`` bins of equal size when ``binned`` and
    it takes more values): x (mean parameter value), mean, std, low, high, runs — sorted by
    x."""
    data = results[[parameter, metric]].dropna()
    values = data[metric].astype(float)
    if binned and data[parameter].nunique() > BINS:
        keys = pd.qcut(data[parameter], BINS, duplicates="drop")
        x = data.groupby(keys, observed=True)[parameter].mean().to_numpy(dtype=float)
        grouped = values.groupby(keys, observed=True)
    else:
        grouped = values.groupby(data[parameter])
        x = np.asarray(grouped.mean().index, dtype=float)
    table = pd.DataFrame({"x": x, "mean": grouped.mean().to_numpy(),
                          "std": grouped.std(ddof=1).to_numpy(),
                          "low": grouped.quantile(BAND[0]).to_numpy(),
                          "high": grouped.quantile(BAND[1]).to_numpy(),
                          "runs": grouped.size().to_numpy()})
    return table.sort_values("x", kind="stable").reset_index(drop=True)


def _se_of_difference(a: pd.Series, b: pd.Series) -> float:
    variance = 0.0
    for row in (a, b):
        if row["runs"] < 2 or not math.isfinite(row["std"]):
            return math.nan
        variance += row["std"] ** 2 / row["runs"]
    return math.sqrt(variance)


def critical_z(comparisons: int, alpha: float = ALPHA) -> float:
    """Two-sided normal quantile for ``comparisons`` tests at family-wise ``alpha``."""
    return float(norm.ppf(1 - alpha / (2 * max(1, comparisons))))


@dataclass(frozen=True)
class Effect:
    """The largest move of one metric: between the groups of ``parameter`` where its mean is
    lowest and highest, written in the parameter's order (``x_from`` < ``x_to``)."""

    metric: str
    parameter: str
    x_from: float  # parameter value (group mean) of the first group
    x_to: float
    mean_from: float  # the metric's mean there
    mean_to: float
    se: float  # standard error of mean_to − mean_from (NaN: one run per group)
    z: float  # the corrected threshold it is judged against

    @property
    def change(self) -> float:
        return self.mean_to - self.mean_from

    @property
    def beyond_noise(self) -> bool:
        return math.isfinite(self.se) and abs(self.change) > self.z * self.se


def largest_effect(results: pd.DataFrame, parameters: list[str], metric: str,
                   binned: bool) -> Effect | None:
    """The parameter whose groups' means span the widest range of ``metric`` (None if no
    parameter has two groups with values)."""
    candidates, comparisons = [], 0
    for parameter in parameters:
        table = groups(results, parameter, metric, binned)
        if len(table) < 2:
            continue
        comparisons += len(table) * (len(table) - 1) // 2
        ends = sorted((table["mean"].idxmin(), table["mean"].idxmax()))
        first, last = table.loc[ends[0]], table.loc[ends[1]]
        candidates.append((abs(float(last["mean"] - first["mean"])), parameter, first, last))
    if not candidates:
        return None
    _, parameter, first, last = max(candidates, key=lambda c: c[0])
    return Effect(metric, parameter, float(first["x"]), float(last["x"]),
                  float(first["mean"]), float(last["mean"]), _se_of_difference(first, last),
                  critical_z(comparisons))


@dataclass(frozen=True)
class Threshold:
    """Where a yes/no outcome goes from holding in fewer than half the runs to more (or
    back), between two neighbouring groups of ``parameter``."""

    metric: str
    parameter: str
    before: float  # parameter value (group mean) on the lower side
    after: float
    share_before: float
    share_after: float
    se: float

    @property
    def rising(self) -> bool:
        return self.share_after > self.share_before


def thresholds(results: pd.DataFrame, parameters: list[str], metric: str,
               binned: bool) -> list[Threshold]:
    """Every crossing of one half between neighbouring groups, sharpest first (largest
    change in share)."""
    found = []
    frame = results.assign(**{metric: results[metric].astype(float)})
    for parameter in parameters:
        table = groups(frame, parameter, metric, binned)
        for i in range(len(table) - 1):
            a, b = table.iloc[i], table.iloc[i + 1]
            if (a["mean"] - 0.5) * (b["mean"] - 0.5) < 0:
                se = math.sqrt(sum(p * (1 - p) / n for p, n in (
                    (a["mean"], a["runs"]), (b["mean"], b["runs"]))))
                found.append(Threshold(metric, parameter, float(a["x"]), float(b["x"]),
                                       float(a["mean"]), float(b["mean"]), se))
    return sorted(found, key=lambda t: -abs(t.share_after - t.share_before))


@dataclass(frozen=True)
class HeatCells:
    """One heat map's cells: mean, standard error and runs per cell (rows: the second
    parameter's values, columns: the first's), the baseline cell if the baseline values are
    on the grid, and which cells are within seed noise of it."""

    mean: pd.DataFrame
    se: pd.DataFrame
    runs: pd.DataFrame
    baseline: tuple[int, int] | None  # (row, column)
    within_noise: np.ndarray  # bool, same shape; all False without a baseline cell or SEs


def _position(values: pd.Index, base: Any) -> int | None:
    if base is None:
        return None
    for i, value in enumerate(values):
        try:
            if math.isclose(float(value), float(base), rel_tol=1e-9, abs_tol=1e-12):
                return i
        except (TypeError, ValueError):
            if value == base:
                return i
    return None


def heat_cells(results: pd.DataFrame, column: str, row: str, metric: str,
               base_column: Any, base_row: Any, z: float = 2.0) -> HeatCells:
    """Cells of ``metric`` over ``column`` × ``row``; a cell is within noise when it differs
    from the baseline cell by at most ``z`` standard errors of the difference."""
    data = results[[column, row, metric]].dropna()
    data = data.assign(**{metric: data[metric].astype(float)})
    table = data.pivot_table(index=row, columns=column, values=metric,
                             aggfunc=["mean", "std", "count"])
    mean = table["mean"].sort_index().sort_index(axis=1)
    std = table["std"].reindex_like(mean)
    runs = table["count"].reindex_like(mean).fillna(0).astype(int)
    se = std / np.sqrt(runs.where(runs > 0))
    at = (_position(mean.index, base_row), _position(mean.columns, base_column))
    baseline = None if None in at else (at[0], at[1])
    within = np.zeros(mean.shape, dtype=bool)
    if baseline is not None:
        m, s = mean.to_numpy(dtype=float), se.to_numpy(dtype=float)
        m0, s0 = m[baseline], s[baseline]
        noise = z * np.sqrt(s ** 2 + s0 ** 2)
        with np.errstate(invalid="ignore"):
            within = np.isfinite(noise) & (np.abs(m - m0) <= noise)
        within[baseline] = False
    return HeatCells(mean, se, runs, baseline, within)
