"""How much narrower are the paired confidence intervals of ``moatsim compare`` with one random
stream per mechanism than with the single stream the model used before?

Runs ``moatsim compare`` on the same scenarios and seeds twice in one go — once from a
reference commit (default: the last commit with a single stream, checked out into a temporary
git worktree) and once from this checkout — and, for every scenario × metric, compares the
half-width of the 95 % paired-t interval of the difference from the first scenario:
``t(0.975, n−1) · sd(differences) / √n``. Prints the median ratio (after / before) per metric
and overall.

    .venv/bin/python benchmarks/paired_ci.py [--reference COMMIT] [--replicates 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
SINGLE_STREAM_COMMIT = "9a6c4b0"
METRICS = ("first_mover_share", "share_lab", "share_app", "share_open_source", "hhi",
           "open_share", "quality_gap", "model_access_markup", "app_layer_margin_share",
           "consumer_surplus_musd", "exits")


def compare_runs(source: Path, scenarios: list[str], replicates: int, out: Path) -> pd.DataFrame:
    """``moatsim compare`` run from ``source`` (a checkout); its runs.csv."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    subprocess.run([sys.executable, "-m", "moatsim", "compare", *scenarios, "--replicates",
                    str(replicates), "--out", str(out)], cwd=source, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return pd.read_csv(out / "runs.csv")


def half_widths(runs: pd.DataFrame) -> pd.DataFrame:
    """scenario × metric: half-width of the 95 % paired interval of the difference from the
    first scenario."""
    names = list(dict.fromkeys(runs["scenario"]))
    reference = runs[runs["scenario"] == names[0]].set_index("seed")
    rows = []
    for name in names[1:]:
        mine = runs[runs["scenario"] == name].set_index("seed")
        for metric in METRICS:
            diff = (mine[metric].astype(float) - reference[metric].astype(float)).dropna()
            n = len(diff)
            width = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)
            rows.append({"scenario": name, "metric": metric, "half_width": width})
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=SINGLE_STREAM_COMMIT)
    parser.add_argument("--replicates", type=int, default=20)
    args = parser.parse_args()
    scenarios = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.yaml"))
    scenarios.remove("scenarios/baseline.yaml")
    scenarios.insert(0, "scenarios/baseline.yaml")
    with tempfile.TemporaryDirectory() as temp:
        tree = Path(temp) / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.reference],
                       cwd=ROOT, check=True, capture_output=True)
        try:
            before = half_widths(compare_runs(tree, scenarios, args.replicates,
                                              Path(temp) / "before"))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           check=True, capture_output=True)
        after = half_widths(compare_runs(ROOT, scenarios, args.replicates, Path(temp) / "after"))
    both = before.merge(after, on=["scenario", "metric"], suffixes=("_before", "_after"))
    both = both[(both["half_width_before"] > 0) & (both["half_width_after"] >= 0)]
    both["ratio"] = both["half_width_after"] / both["half_width_before"]
    print(f"paired 95 % interval half-widths, {len(scenarios) - 1} scenarios vs baseline, "
          f"{args.replicates} common seeds; reference {args.reference} (one stream) vs this "
          "checkout (one stream per mechanism)\n")
    per_metric = both.groupby("metric")["ratio"].median().reindex(METRICS).dropna()
    for metric, ratio in per_metric.items():
        print(f"  {metric:<26} median after/before {ratio:5.2f}")
    print(f"\n  all {len(both)} scenario × metric pairs: median ratio {both['ratio'].median():.2f}"
          f" (narrower in {int((both['ratio'] < 1).sum())}, wider in "
          f"{int((both['ratio'] > 1).sum())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
