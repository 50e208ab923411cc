"""Pattern-oriented validation (Grimm et al. 2005): how many replicates of a scenario show each
of the seven patterns the articles describe (P1–P7, :data:`model.metrics.PATTERNS`).

Replicates use seeds 1…R and run in a process pool; each run's checks depend only on its seed,
so the table is the same whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from model.metrics import PATTERNS, check_patterns


def run_checks(scenario: str | Path, seed: int, months: int | None,
               overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """One replicate: run the scenario and check every pattern."""
    from model.experiments.run import run_scenario

    result = run_scenario(scenario, seed=seed, months=months, overrides=overrides)
    checks = check_patterns(result.model, result.firms, result.segments, result.events)
    return {"seed": seed, **checks}


def replicate_patterns(scenario: str | Path, *, replicates: int = 30, months: int | None = None,
                       overrides: Mapping[str, Any] | None = None, workers: int | None = None,
                       on_done: Callable[[], None] | None = None) -> pd.DataFrame:
    """One row per replicate (``seed``, ``P1`` … ``P7`` as booleans), in seed order."""
    seeds = list(range(1, replicates + 1))
    workers = max(1, min(workers or os.cpu_count() or 1, replicates))
    rows = []
    if workers == 1:
        for seed in seeds:
            rows.append(run_checks(scenario, seed, months, overrides))
            if on_done:
                on_done()
    else:
        # spawn, not fork: forking a process that runs threads (pytest-xdist, notebooks,
        # Dask workers) can deadlock
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(run_checks, scenario, seed, months, overrides)
                       for seed in seeds]
            for future in futures:
                rows.append(future.result())
                if on_done:
                    on_done()
    return pd.DataFrame(rows).sort_values("seed").reset_index(drop=True)


def pattern_table(per_replicate: pd.DataFrame) -> pd.DataFrame:
    """One row per pattern: how many replicates show it, and the share."""
    total = len(per_replicate)
    return pd.DataFrame([
        {"pattern": key, "description": text, "replicates": int(per_replicate[key].sum()),
         "of": total, "share": float(per_replicate[key].mean()) if total else 0.0}
        for key, text in PATTERNS.items()
    ])


def format_table(table: pd.DataFrame, scenario: str) -> str:
    held = int((table["share"] >= 0.8).sum())
    lines = [f"patterns in {scenario} ({int(table['of'].iloc[0])} replicates)", "",
             f"{'':3} {'held':>9} {'share':>6}  pattern"]
    for row in table.itertuples():
        lines.append(f"{row.pattern:3} {row.replicates:>4} / {row.of:<3} {row.share:6.0%}  "
                     f"{row.description}")
    lines += ["", f"{held} of {len(table)} patterns hold in at least 80% of replicates"]
    return "\n".join(lines)
