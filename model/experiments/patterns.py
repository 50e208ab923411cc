"""Validation that can fail: the dated patterns P1–P7 and the history targets H1–H26, over
replicates, against null and rival models.

A pattern or target counts as **evidence** for the model's mechanisms only when it holds in
≥ 80 % of the scenario's replicates and in ≤ 20 % of the random-choice null's — the same
scenario and seeds with users picking among the available offers at random (Grimm et al.
2005; Malerba et al. 1999 hold history-friendly models to the same standard). The other rival
models switch off one mechanism each (:data:`VARIANTS`); they show which mechanism a pattern
needs.

Work is organised in *arms*: a name and the overrides that make it (the scenario itself, a
variant, a parameter ×2 …). Every arm runs on seeds 1…R — common random numbers, one random
stream per mechanism — and each (arm, seed) run is independent, so results are the same
whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moatsim.history import Check, check_history, history_checks
from moatsim.patterns import PATTERNS, check_patterns

SCENARIO_ARM = "scenario"
EVIDENCE_HELD, EVIDENCE_NULL = 0.8, 0.2
ABSORPTION_OFF = {"mechanisms.absorption": False}


@dataclass(frozen=True)
class Variant:
    """A rival model: the scenario with one mechanism switched off."""

    name: str
    description: str
    overrides: Mapping[str, Any]


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("random_choice", "users pick among the available offers at random (the null)",
            {"mechanisms.users_compare_offers": False}),
    Variant("no_diffusion", "no idea diffusion between labs and no open catch-up",
            {"mechanisms.idea_diffusion": False}),
    Variant("no_brand", "no first-mover brand and no switching cost",
            {"mechanisms.brand_and_switching_costs": False}),
    Variant("equal_funding", "every lab starts with the same cash; no big-tech money",
            {"mechanisms.funding_differences": False}),
    Variant("no_absorption", "the open base's owner absorbs none of the community's work",
            ABSORPTION_OFF),
)}


NULL = "random_choice"
ALIASES = {"null": NULL}
"""``--against null`` names the random-choice null (its tables say ``random_choice``, which
pandas does not read as a missing value)."""


def parse_against(text: str) -> list[str]:
    """``"null,no_brand"`` → the variant names; ``"all"`` → every variant."""
    names = [ALIASES.get(part.strip(), part.strip()) for part in text.split(",")
             if part.strip()]
    if names == ["all"]:
        return list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown model variant {unknown[0]!r}; choose from null, "
                         f"{', '.join(VARIANTS)} or all")
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------- one replicate


def validate_replicate(scenario: str | Path, seed: int, months: int | None,
                       overrides: Mapping[str, Any], arm: str) -> list[dict[str, Any]]:
    """One (arm, seed): run it and its no-absorption twin, judge every pattern and target.

    Rows: ``arm``, ``seed``, ``check``, ``kind`` (pattern or history), ``held`` (1, 0, or
    NaN when the run cannot be judged) and ``value`` (the pattern's measure or the simulated
    quantity).
    """
    from moatsim.experiments.run import run_scenario
    from moatsim.loading import load_scenario

    config = load_scenario(scenario, {**overrides, **({"months": months} if months else {})})
    run = run_scenario(config, seed=seed)
    twin = run if not config.mechanisms.absorption else run_scenario(
        config.model_copy(update={"mechanisms": config.mechanisms.model_copy(
            update={"absorption": False})}), seed=seed)
    rows = []
    for key, judged in check_patterns(run, twin).items():
        rows.append({"arm": arm, "seed": seed, "check": key, "kind": "pattern",
                     "held": np.nan if judged.held is None else float(judged.held),
                     "value": np.nan if judged.measure is None else judged.measure})
    for key, (value, held) in check_history(run, config).items():
        rows.append({"arm": arm, "seed": seed, "check": key, "kind": "history",
                     "held": np.nan if value is None else float(held),
                     "value": np.nan if value is None else value})
    return rows


def run_arms(scenario: str | Path, arms: Sequence[tuple[str, Mapping[str, Any]]], *,
             replicates: int, months: int | None = None, workers: int | None = None,
             on_done: Callable[[], None] | None = None) -> pd.DataFrame:
    """Every arm on seeds 1…R; the long table of :func:`validate_replicate` rows."""
    from moatsim.experiments.pool import parallel_map

    tasks = [(str(scenario), seed, months, dict(overrides), name)
             for name, overrides in arms for seed in range(1, replicates + 1)]
    results = parallel_map(validate_replicate, tasks, workers=workers, on_done=on_done)
    return pd.DataFrame([row for rows in results for row in rows])


def replicate_validation(scenario: str | Path, *, replicates: int = 30,
                         months: int | None = None,
                         overrides: Mapping[str, Any] | None = None,
                         against: Sequence[str] = (), workers: int | None = None,
                         on_done: Callable[[], None] | None = None) -> pd.DataFrame:
    """The scenario and each variant in ``against`` over seeds 1…R (see :func:`run_arms`)."""
    base = dict(overrides or {})
    arms = [(SCENARIO_ARM, base)] + [(name, {**base, **VARIANTS[name].overrides})
                                     for name in against]
    return run_arms(scenario, arms, replicates=replicates, months=months, workers=workers,
                    on_done=on_done)


# ---------------------------------------------------------------- the table


def _descriptions() -> dict[str, tuple[str, str, str]]:
    """check id → (kind, what it says, the date it is judged at)."""
    rows = {key: ("pattern", f"{p.claim}: {p.definition}", p.date) for key, p in PATTERNS.items()}
    for check in history_checks():
        rows[check.id] = ("history", _history_text(check), _check_date(check))
    return rows


def _history_text(check: Check) -> str:
    args = ", ".join(str(v) for k, v in check.args.items() if k not in ("date", "period"))
    return f"{check.quantity}({args}) in {check.band} {check.unit}"


def _check_date(check: Check) -> str:
    if "date" in check.args:
        return str(check.args["date"])
    period = check.args.get("period")
    return f"{period[0]}…{period[1]}" if period else ""


def shares_held(replicates: pd.DataFrame) -> pd.DataFrame:
    """check × arm: the share of replicates in which the check held (not judged = not held)."""
    held = replicates.assign(held=replicates["held"].fillna(0.0))
    return held.pivot_table(index="check", columns="arm", values="held", aggfunc="mean",
                            sort=False)


def validation_table(replicates: pd.DataFrame) -> pd.DataFrame:
    """One row per pattern and history check: where it holds, and whether that is evidence.

    Columns: ``check``, ``kind``, ``description``, ``judged_at``, ``replicates``, ``judged``
    (replicates that reach the check's date), ``share`` (held in the scenario), ``median``,
    ``p5``, ``p95`` (of the measure in the scenario), ``share.<variant>`` for each variant run,
    and ``evidence`` (held in ≥ 80 % of the scenario and ≤ 20 % of the random-choice null;
    empty without it).
    """
    texts = _descriptions()
    held = shares_held(replicates)
    scenario = replicates[replicates["arm"] == SCENARIO_ARM]
    variants = [arm for arm in held.columns if arm != SCENARIO_ARM]
    rows = []
    for check in dict.fromkeys(replicates["check"]):
        mine = scenario[scenario["check"] == check]
        values = mine["value"].dropna()
        kind, text, date = texts.get(check, ("", "", ""))
        row: dict[str, Any] = {
            "check": check, "kind": kind, "description": text, "judged_at": date,
            "replicates": len(mine), "judged": int(mine["held"].notna().sum()),
            "share": float(held.loc[check, SCENARIO_ARM]),
            "median": float(values.median()) if len(values) else np.nan,
            "p5": float(values.quantile(0.05)) if len(values) else np.nan,
            "p95": float(values.quantile(0.95)) if len(values) else np.nan,
        }
        for arm in variants:
            row[f"share.{arm}"] = float(held.loc[check, arm])
        row["evidence"] = (bool(row["share"] >= EVIDENCE_HELD
                                and row[f"share.{NULL}"] <= EVIDENCE_NULL)
                           if NULL in variants else None)
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame, scenario: str) -> str:
    """The table for a terminal: shares in %, the null columns, evidence yes/no."""
    variants = [c.split(".", 1)[1] for c in table.columns if c.startswith("share.")]
    runs = int(table["replicates"].max()) if len(table) else 0
    head = f"{'check':<13}{'judged at':<18}{'scenario':>9}" + "".join(
        f"{v[:13]:>14}" for v in variants) + f"{'evidence':>10}  {'median [5–95 %]':<26}"
    lines = [f"validation of {scenario}: {runs} replicates (seeds 1…{runs})"
             + (f" against {', '.join(variants)}" if variants else ""), "", head]
    for kind, title in (("pattern", "patterns (seeds/facts.yaml, dated by seeds/articles.yaml)"),
                        ("history", "history targets (seeds/history.yaml, up to 2024-12)")):
        part = table[table["kind"] == kind]
        if part.empty:
            continue
        lines.append(f"-- {title}")
        for row in part.itertuples(index=False):
            shares = "".join(f"{_pct(_get(table, row.check, f'share.{v}')):>14}"
                             for v in variants)
            evidence = {True: "yes", False: "no"}.get(row.evidence, "—")
            spread = (f"{_num(row.median)} [{_num(row.p5)}–{_num(row.p95)}]"
                      if pd.notna(row.median) else "not judged")
            lines.append(f"{row.check:<13}{row.judged_at:<18}{_pct(row.share):>9}{shares}"
                         f"{evidence:>10}  {spread:<26}")
    patterns = table[table["kind"] == "pattern"]
    history = table[table["kind"] == "history"]
    lines += ["", f"held in ≥ 80 % of replicates: {int((patterns['share'] >= 0.8).sum())} of "
              f"{len(patterns)} patterns, {int((history['share'] >= 0.8).sum())} of "
              f"{len(history)} history checks"]
    if NULL in variants:
        lines.append(f"evidence (≥ 80 % here and ≤ 20 % in the random-choice null): "
                     f"{int(patterns['evidence'].sum())} patterns, "
                     f"{int(history['evidence'].sum())} history checks")
    else:
        lines.append("add --against null to see which of these the random-choice null also "
                     "produces (only those it does not are evidence)")
    return "\n".join(lines)


def _get(table: pd.DataFrame, check: str, column: str) -> float:
    return float(table.loc[table["check"] == check, column].iloc[0])


def _pct(share: float) -> str:
    return f"{share:.0%}" if pd.notna(share) else "—"


def _num(value: float) -> str:
    return f"{value:.3g}"
