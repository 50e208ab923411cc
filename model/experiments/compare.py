"""Scenarios side by side: every scenario over the same seeds (common random numbers), the
spread of each outcome, and which differences from the first scenario exceed the noise.

Each (scenario, seed) run is independent and depends only on its scenario and seed, so the
results are the same whatever the number of worker processes. A difference from the first
scenario is tested per metric with a paired t-test across the common seeds (common random
numbers make the per-seed differences far less noisy than the outcomes), and is called
significant when its Holm-adjusted p-value (over one scenario's metrics) is below 0.05.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from moatsim.experiments.pool import parallel_map
from moatsim.metrics import first_mover
from moatsim.patterns import SINGLE_RUN_PATTERNS, check_patterns

# outcome → (label, unit) for tables and figures; units as moatsim.experiments.units writes
# them, so a markup or a share reads the same here as in the sweep report (14%, not 0.14)
FINAL_METRICS: dict[str, tuple[str, str]] = {
    "first_mover_share": ("first mover's share of adopters", "share"),
    "share_lab": ("labs' share of adopters", "share"),
    "share_app": ("app builders' share of adopters", "share"),
    "share_open_source": ("community models' share of adopters", "share"),
    "hhi": ("HHI (0–1)", "index"),
    "open_share": ("share of users on open models", "share"),
    "quality_gap": ("best closed − best open model", "quality points"),
    "model_access_markup": ("labs' markup over cost to serve", "ratio"),
    "app_layer_margin_share": ("app layer's share of the margin", "share"),
    "consumer_surplus_musd": ("consumer surplus", "USD millions/month"),
    "exits": ("labs and apps that exited", "firms"),
    "patterns_held": ("patterns P1–P6 held", "patterns"),
}
SERIES = ("first_mover_share", "hhi", "open_share", "quality_gap", "model_access_markup",
          "app_layer_margin_share")


@dataclass
class Comparison:
    """Per-run outcomes, their summary per scenario, and monthly series for the figures."""

    runs: pd.DataFrame  # one row per scenario × seed: final metrics
    table: pd.DataFrame  # one row per scenario × metric: mean, std, p5, p95, difference, p
    series: pd.DataFrame  # one row per scenario × seed × month: SERIES columns
    scenarios: list[str]


def run_one(scenario: str, seed: int, months: int | None) -> tuple[dict, pd.DataFrame]:
    """One replicate: final outcomes and the monthly series."""
    from moatsim.experiments.run import run_scenario

    result = run_scenario(scenario, seed=seed, months=months)
    model, firms = result.model, result.firms
    leader = first_mover(firms)
    leader_share = firms[firms["firm"] == leader].set_index("month")["share"]
    last = model.iloc[-1]
    final_month = int(last["month"])
    at_end = firms[firms["month"] == final_month]
    outcome: dict[str, Any] = {"scenario": result.summary["scenario"], "seed": seed,
                               "first_mover": leader,
                               "first_mover_share": float(leader_share.iloc[-1])}
    for kind in ("lab", "app", "open_source"):
        outcome[f"share_{kind}"] = float(at_end.loc[at_end["kind"] == kind, "share"].sum())
    for key in ("hhi", "open_share", "quality_gap", "model_access_markup",
                "app_layer_margin_share", "consumer_surplus_musd"):
        outcome[key] = float(last[key])
    for column in model.columns:
        if column.startswith("first_mover_share."):
            outcome[column] = float(last[column])
    outcome["exits"] = int((~at_end["alive"] & at_end["kind"].isin(["lab", "app"])).sum())
    patterns = {key: bool(judged.held) for key, judged in check_patterns(result).items()
                if key in SINGLE_RUN_PATTERNS}
    outcome["patterns_held"] = int(sum(patterns.values()))
    outcome.update(patterns)
    series = model[["month", "date", "hhi", "open_share", "quality_gap", "model_access_markup",
                    "app_layer_margin_share"]].copy()
    series["first_mover_share"] = leader_share.reindex(series["month"]).to_numpy()
    series.insert(0, "seed", seed)
    series.insert(0, "scenario", outcome["scenario"])
    return outcome, series


def compare(scenarios: Sequence[str | Path], *, replicates: int = 20, months: int | None = None,
            workers: int | None = None, on_done: Callable[[], None] | None = None) -> Comparison:
    """Run every scenario over seeds 1…R and summarize (see module docstring)."""
    tasks = [(str(path), seed, months) for path in scenarios
             for seed in range(1, replicates + 1)]
    results = parallel_map(run_one, tasks, workers=workers, on_done=on_done)
    runs = pd.DataFrame([outcome for outcome, _ in results])
    series = pd.concat([s for _, s in results], ignore_index=True)
    names = list(dict.fromkeys(runs["scenario"]))
    return Comparison(runs=runs, table=summarize(runs, names), series=series, scenarios=names)


def metric_columns(runs: pd.DataFrame) -> list[str]:
    segment_shares = [c for c in runs.columns if c.startswith("first_mover_share.")]
    return [m for m in FINAL_METRICS if m in runs.columns] + segment_shares


def summarize(runs: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """One row per scenario × metric with the spread and the paired test against the first."""
    reference = runs[runs["scenario"] == scenarios[0]].set_index("seed")
    rows = []
    for scenario in scenarios:
        mine = runs[runs["scenario"] == scenario].set_index("seed")
        for metric in metric_columns(runs):
            values = mine[metric].astype(float)
            row = {"scenario": scenario, "metric": metric, "n": int(values.notna().sum()),
                   "mean": values.mean(), "std": values.std(ddof=1),
                   "p5": values.quantile(0.05), "p95": values.quantile(0.95),
                   "diff_vs_first": np.nan, "diff_low": np.nan, "diff_high": np.nan,
                   "p_value": np.nan}
            if scenario != scenarios[0]:
                paired = pd.concat([values, reference[metric].astype(float)], axis=1,
                                   keys=["a", "b"]).dropna()
                row["diff_vs_first"] = float((paired["a"] - paired["b"]).mean())
                row["diff_low"], row["diff_high"] = paired_interval(
                    paired["a"].to_numpy(), paired["b"].to_numpy())
                row["p_value"] = paired_p_value(paired["a"].to_numpy(), paired["b"].to_numpy())
            rows.append(row)
    table = pd.DataFrame(rows)
    table["significant"] = False
    for scenario in scenarios[1:]:
        mask = (table["scenario"] == scenario) & table["p_value"].notna()
        table.loc[mask, "significant"] = holm(table.loc[mask, "p_value"].to_numpy()) < 0.05
    return table


def paired_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided paired-t p-value on the per-seed differences (Law & Kelton, "Simulation
    Modeling and Analysis": the paired-t comparison with common random numbers); 1.0 when the
    pairs never differ, 0.0 when they differ by the same amount in every seed."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    differences = a - b
    if np.allclose(differences, 0.0, atol=1e-12):
        return 1.0
    if np.allclose(differences, differences[0], atol=1e-12) or len(differences) < 2:
        return 0.0 if len(differences) >= 2 else 1.0
    return float(stats.ttest_rel(a, b).pvalue)


def paired_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` confidence interval of the mean per-seed difference ``a − b`` (paired t);
    NaN with fewer than two pairs, a point when every pair differs by the same amount."""
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(differences) < 2:
        return float("nan"), float("nan")
    mean = float(differences.mean())
    half = float(stats.t.ppf(0.5 + level / 2, len(differences) - 1)
                 * differences.std(ddof=1) / np.sqrt(len(differences)))
    return mean - half, mean + half


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (family = one scenario's metrics)."""
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
