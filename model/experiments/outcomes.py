"""What a sweep keeps of each run: named outcome metrics, their units, and how to read them.

A metric is either a **final value** (one number per run: the last month of ``model.csv``, the
first mover's final share, a pattern P1–P7 held or not …) or a **time series** (one number per
run and month, kept in long format: ``run_id``, ``month``, ``metric``, ``value``).

The registry (:data:`METRICS`) gives each metric a label and a unit, so experiment files can
be checked (unknown name → closest valid one), Parquet columns get a fixed type, and reports
print numbers for people (:mod:`moatsim.experiments.units`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moatsim.metrics import first_mover
from moatsim.patterns import PATTERNS, SINGLE_RUN_PATTERNS, check_patterns

if TYPE_CHECKING:
    from moatsim.experiments.run import RunResult


@dataclass(frozen=True)
class Metric:
    """One outcome of a run: its label, display unit and storage kind."""

    name: str
    label: str
    unit: str
    kind: str = "float"  # float, int or bool
    series: bool = True  # can be kept as a time series

    @property
    def arrow_type(self) -> str:
        return {"float": "float64", "int": "int64", "bool": "bool"}[self.kind]


_MODEL_COLUMNS = (
    Metric("adopters", "adopters of generative AI", "users", "int"),
    Metric("hhi", "market concentration (HHI)", "index"),
    Metric("open_share", "open-weights share of adopters", "share"),
    Metric("frontier_quality", "best model's quality", "quality points"),
    Metric("open_quality", "best open model's quality", "quality points"),
    Metric("quality_gap", "closed − open quality gap", "quality points"),
    Metric("mean_price_usd", "mean price", "USD/user-month"),
    Metric("mean_cost_to_serve_usd", "mean cost to serve", "USD/user-month"),
    Metric("model_access_markup", "labs' markup over cost to serve", "ratio"),
    Metric("app_layer_revenue_share", "app layer's share of revenue", "share"),
    Metric("app_layer_margin_share", "app layer's share of the margin", "share"),
    Metric("consumer_surplus_musd", "consumer surplus", "USD millions/month"),
)
MODEL_COLUMNS = tuple(m.name for m in _MODEL_COLUMNS)

METRICS: dict[str, Metric] = {m.name: m for m in _MODEL_COLUMNS}
METRICS["first_mover_share"] = Metric(
    "first_mover_share", "first mover's share of adopters", "share")
METRICS["first_mover_leads"] = Metric(
    "first_mover_leads", "first mover still the largest firm", "flag", "bool", series=False)
METRICS["exits"] = Metric("exits", "firms that exited", "firms", "int", series=False)
for _key in SINGLE_RUN_PATTERNS:  # P7 needs a twin run: moatsim patterns checks it
    METRICS[_key] = Metric(_key, f"{_key}: {PATTERNS[_key].claim}", "flag", "bool",
                           series=False)

SEGMENT_SHARE_PREFIX = "first_mover_share."
"""``first_mover_share.<segment>``: the segment's first entrant's share of that segment."""

DEFAULT_FINAL = ("hhi", "open_share", "quality_gap", "model_access_markup",
                 "app_layer_margin_share", "consumer_surplus_musd", "first_mover_share",
                 "first_mover_leads", "exits", *SINGLE_RUN_PATTERNS)
"""Final values kept when an experiment does not list its own."""

DEFAULT_KEY = ("first_mover_share", "hhi", "open_share", "model_access_markup",
               "app_layer_margin_share", "consumer_surplus_musd")
"""Metrics a report plots when an experiment does not say (those of them it keeps)."""


def metric(name: str) -> Metric:
    """The registry entry for ``name``, including ``first_mover_share.<segment>``."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith(SEGMENT_SHARE_PREFIX):
        segment = name[len(SEGMENT_SHARE_PREFIX):]
        return Metric(name, f"first entrant's share of {segment.replace('_', ' ')}", "share")
    raise KeyError(name)


def known_metrics(segment_ids: list[str], *, series: bool = False) -> list[str]:
    """Every metric name valid for a scenario with these segments."""
    names = [n for n, m in METRICS.items() if m.series or not series]
    return names + [f"{SEGMENT_SHARE_PREFIX}{s}" for s in segment_ids]


# ---------------------------------------------------------------- reading a run


def _first_mover_share_series(result: RunResult) -> pd.Series:
    firms = result.firms
    leader = first_mover(firms)
    return firms[firms["firm"] == leader].set_index("month")["share"].astype(float)


def final_values(result: RunResult, names: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The last month's value of each metric in ``names``, as plain Python values."""
    last = result.model.iloc[-1]
    row: dict[str, Any] = {}
    patterns: dict[str, Any] | None = None
    for name in names:
        kind = metric(name).kind
        if name in MODEL_COLUMNS or name.startswith(SEGMENT_SHARE_PREFIX):
            value: Any = last[name]
        elif name == "first_mover_share":
            value = _first_mover_share_series(result).iloc[-1]
        elif name == "first_mover_leads":
            final = result.firms[result.firms["month"] == result.firms["month"].max()]
            value = str(final.loc[final["share"].idxmax(), "firm"]) == first_mover(result.firms)
        elif name == "exits":
            value = len(result.summary["exits"])
        else:  # a pattern
            if patterns is None:
                patterns = check_patterns(result)
            value = bool(patterns[name].held)
        row[name] = _typed(value, kind)
    return row


def time_series(result: RunResult, names: list[str] | tuple[str, ...],
                every: int = 1) -> dict[str, np.ndarray]:
    """``{"month": [...], metric: [...]}`` every ``every`` months (the last month always)."""
    months = result.model["month"].to_numpy()
    keep = (months % every == 0) | (months == months[-1])
    series = {"month": months[keep].astype(np.int64)}
    for name in names:
        if name == "first_mover_share":
            values = _first_mover_share_series(result).reindex(months).to_numpy()
        else:
            values = result.model[name].to_numpy()
        series[name] = np.asarray(values, dtype=np.float64)[keep]
    return series


def _typed(value: Any, kind: str) -> Any:
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    number = float(value)
    return number
