"""Robustness: does a pattern or history target survive when an assumed number changes?

Every parameter whose value rests on an assumption — a schema default whose source says
``assumption:``, or a value a scenario sets and cites as one in its ``sources`` — is set to
×0.5 and ×2 of its value, one at a time, and the whole validation (:mod:`moatsim.experiments.
patterns`) is re-run on the same seeds (common random numbers). A check *survives* a change
when it still holds in ≥ 80 % of replicates; a parameter is *fragile* when some check that
holds in the scenario does not survive one of its changes. A scaled value outside the
parameter's allowed range is clipped to it, and a change the scenario's rules reject (cohort
shares that no longer sum to 1, initial users above the potential) is reported as skipped.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from moatsim.experiments.patterns import EVIDENCE_HELD, SCENARIO_ARM, run_arms, shares_held
from moatsim.loading import ScenarioError, load_scenario, sourced_entries
from moatsim.params import param_meta
from moatsim.scenario import Scenario, Sourced

FACTORS = (0.5, 2.0)
NOT_A_MODEL_PARAMETER = {"months"}
"""Run length is how long one looks, not an assumption about the market."""


@dataclass(frozen=True)
class Assumed:
    """A number that rests on an assumption, where it lives and what bounds it."""

    path: str
    value: float
    source: str
    low: float | None
    high: float | None
    integer: bool

    def scaled(self, factor: float) -> float | int:
        value = self.value * factor
        if self.low is not None:
            value = max(value, self.low)
        if self.high is not None:
            value = min(value, self.high)
        return int(round(value)) if self.integer else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _assumed(path: str, value: Any, source: str, field: Any) -> Assumed | None:
    if "assumption" not in source or not _is_number(value) or path in NOT_A_MODEL_PARAMETER:
        return None
    meta = param_meta(field)
    if meta.get("unit") == "flag":
        return None
    low = meta.get("ge", meta.get("gt"))
    return Assumed(path, float(value), source, low, meta.get("le"), isinstance(value, int))


def assumption_parameters(config: Scenario) -> list[Assumed]:
    """Every assumed number of the scenario, sections first, then list entries."""
    found: list[Assumed] = []

    def sections(node: BaseModel, path: tuple[str, ...]) -> None:
        for name, field in type(node).model_fields.items():
            value = getattr(node, name)
            if isinstance(value, BaseModel) and not isinstance(value, Sourced):
                sections(value, (*path, name))
                continue
            meta = param_meta(field)
            item = _assumed(".".join((*path, name)), value, meta.get("source", ""), field)
            if item is not None:
                found.append(item)

    sections(config, ())
    for path, entry in sourced_entries(config):  # values the scenario sets and cites
        fields = type(entry).model_fields
        for key, source in entry.sources.items():
            item = _assumed(".".join((*path, key)), getattr(entry, key), source, fields[key])
            if item is not None:
                found.append(item)
    return found


@dataclass
class Robustness:
    """The tidy results: one row per (parameter, factor, check), plus the skipped changes."""

    table: pd.DataFrame
    skipped: pd.DataFrame
    replicates: pd.DataFrame

    def fragile(self) -> pd.DataFrame:
        """Parameters with a change under which a check that holds in the scenario fails."""
        lost = self.table[self.table["held_in_scenario"] & ~self.table["survives"]]
        return (lost.groupby("parameter", sort=False)
                .agg(changes=("factor", lambda f: ", ".join(f"×{x:g}" for x in sorted(set(f)))),
                     checks=("check", lambda c: ", ".join(dict.fromkeys(c))))
                .reset_index())


@dataclass(frozen=True)
class Plan:
    """The changes to run (arm name → change) and those the scenario's rules reject."""

    changes: dict[str, dict[str, Any]]
    skipped: list[dict[str, Any]]

    @property
    def arms(self) -> list[tuple[str, dict[str, Any]]]:
        return [(SCENARIO_ARM, {})] + [(name, {change["parameter"]: change["value"]})
                                       for name, change in self.changes.items()]


def plan(scenario: str | Path, *, factors: Sequence[float] = FACTORS,
         parameters: Sequence[str] | None = None) -> Plan:
    """Every assumed parameter (or those matching the ``parameters`` globs) × each factor,
    each change validated like ``--set``."""
    config = load_scenario(scenario)
    changes, skipped = {}, []
    for item in assumption_parameters(config):
        if parameters and not any(fnmatch.fnmatchcase(item.path, g) for g in parameters):
            continue
        for factor in factors:
            value = item.scaled(factor)
            row = {"parameter": item.path, "factor": factor, "scenario_value": item.value,
                   "value": value}
            if value == item.value:
                skipped.append({**row, "reason": "the value stays as it is (0, or at the end "
                                       "of its allowed range)"})
                continue
            try:
                load_scenario(scenario, {item.path: value})
            except ScenarioError as exc:
                skipped.append({**row, "reason": exc.message})
                continue
            changes[f"{item.path}×{factor:g}"] = row
    return Plan(changes, skipped)


def robustness(scenario: str | Path, changes: Plan, *, replicates: int = 10,
               months: int | None = None, workers: int | None = None,
               on_done: Callable[[], None] | None = None) -> Robustness:
    """Validate the scenario and each planned change on seeds 1…R."""
    runs = run_arms(scenario, changes.arms, replicates=replicates, months=months,
                    workers=workers, on_done=on_done)
    held = shares_held(runs)
    base = held[SCENARIO_ARM]
    rows = []
    for name, change in changes.changes.items():
        for check, share in held[name].items():
            in_scenario = bool(base[check] >= EVIDENCE_HELD)
            rows.append({**change, "check": check, "share": float(share),
                         "scenario_share": float(base[check]),
                         "held_in_scenario": in_scenario,
                         "survives": bool(share >= EVIDENCE_HELD) if in_scenario else True})
    columns = ["parameter", "factor", "scenario_value", "value", "check", "share",
               "scenario_share", "held_in_scenario", "survives"]
    return Robustness(table=pd.DataFrame(rows, columns=columns),
                      skipped=pd.DataFrame(changes.skipped,
                                           columns=["parameter", "factor", "scenario_value",
                                                    "value", "reason"]),
                      replicates=runs)


# ---------------------------------------------------------------- outputs


def write_robustness(result: Robustness, folder: Path, scenario_name: str) -> None:
    """robustness.csv, skipped.csv, replicates.csv, robustness.md and figures/robustness.png
    into ``folder`` (a staging folder)."""
    result.table.to_csv(folder / "robustness.csv", index=False)
    result.skipped.to_csv(folder / "skipped.csv", index=False)
    result.replicates.to_csv(folder / "replicates.csv", index=False)
    (folder / "robustness.md").write_text(markdown(result, scenario_name), encoding="utf-8")
    (folder / "figures").mkdir(exist_ok=True)
    figure(result, folder / "figures" / "robustness.png")


def markdown(result: Robustness, scenario_name: str) -> str:
    table = result.table
    runs = result.replicates[result.replicates["arm"] == SCENARIO_ARM]["seed"].nunique()
    held = sorted(set(table.loc[table["held_in_scenario"], "check"]),
                  key=lambda c: list(dict.fromkeys(table["check"])).index(c))
    lines = [f"# Robustness of {scenario_name}", "",
             f"Each assumed parameter at ×{' and ×'.join(f'{f:g}' for f in FACTORS)} of its "
             f"value, one at a time, {runs} replicates on common seeds. A check survives a "
             f"change when it still holds in ≥ 80 % of replicates.", "",
             f"Checks that hold in the scenario: {', '.join(held) or 'none'}.", ""]
    fragile = result.fragile()
    if fragile.empty:
        lines.append("No change breaks a check that holds in the scenario.")
    else:
        lines += ["## Fragile parameters", "", "| parameter | change | checks that fail |",
                  "|---|---|---|"]
        lines += [f"| `{r.parameter}` | {r.changes} | {r.checks} |"
                  for r in fragile.itertuples()]
    appear = table[~table["held_in_scenario"] & (table["share"] >= EVIDENCE_HELD)]
    if not appear.empty:
        lines += ["", "## Checks that a change makes hold", "", "| parameter | change | check |"
                  " share |", "|---|---|---|---:|"]
        lines += [f"| `{r.parameter}` | ×{r.factor:g} | {r.check} | {r.share:.0%} |"
                  for r in appear.itertuples()]
    if not result.skipped.empty:
        lines += ["", "## Changes not run", "", "| parameter | change | reason |",
                  "|---|---|---|"]
        lines += [f"| `{r.parameter}` | ×{r.factor:g} | {r.reason} |"
                  for r in result.skipped.itertuples()]
    return "\n".join(lines) + "\n"


def figure(result: Robustness, path: Path, limit: int = 40) -> Path:
    """Heat map of the change in share held (change − scenario) for the changes that move a
    check by 20 points or more (at most ``limit`` rows)."""
    from matplotlib.figure import Figure

    table = result.table.assign(delta=result.table["share"] - result.table["scenario_share"],
                                change=result.table["parameter"] + " ×"
                                + result.table["factor"].map("{:g}".format))
    grid = table.pivot_table(index="change", columns="check", values="delta", sort=False)
    strong = grid[(grid.abs() >= 0.2).any(axis=1)]
    strong = strong.loc[strong.abs().max(axis=1).sort_values(ascending=False).index[:limit]]
    height = max(2.5, 0.28 * len(strong) + 1.5)
    fig = Figure(figsize=(max(8.0, 0.38 * grid.shape[1] + 5), height))  # outside pyplot
    ax = fig.subplots()
    if strong.empty:
        ax.text(0.5, 0.5, "no change moves any check by 20 points or more", ha="center",
                va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        image = ax.imshow(strong.to_numpy(dtype=float), cmap="RdBu", vmin=-1, vmax=1,
                          aspect="auto")
        ax.set_xticks(np.arange(strong.shape[1]), strong.columns, rotation=90, fontsize=8)
        ax.set_yticks(np.arange(strong.shape[0]), strong.index, fontsize=8)
        fig.colorbar(image, ax=ax, label="share held: change − scenario")
        ax.set_title("Checks moved by ×0.5 / ×2 of an assumed parameter")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
