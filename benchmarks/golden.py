"""Golden outputs: the CSV tables and summary.json of a few fixed runs, written exactly as
``moatsim run`` writes them (without figures), so a refactor can be checked byte for byte.

    .venv/bin/python benchmarks/golden.py [--out tests/golden]

Writes ``<out>/<scenario>-seed<N>/{model,firms,segments,events,ledger}.csv`` and
``summary.json`` for every case in :data:`CASES`. ``tests/test_golden.py`` compares the
current code's outputs with the files in ``tests/golden/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# (scenario file, seed, months): frozen copies of the scenarios as they were when the golden
# files were last compared (the library's scenarios have since gained firms the golden runs
# predate), so the comparison checks the code, not the scenario library
CASES = (
    ("tests/golden/scenarios/baseline.yaml", 1, 96),
    ("tests/golden/scenarios/no_moat.yaml", 2, 96),
    ("tests/golden/scenarios/funding_drought.yaml", 3, 96),
    ("tests/golden/scenarios/proxy_war_escalates.yaml", 4, 96),
)
TABLES = ("model", "firms", "segments", "events", "ledger")


def case_name(scenario: str, seed: int) -> str:
    return f"{Path(scenario).stem}-seed{seed}"


LEGACY = {"pricing.rule": "lead_markup", "technology.capability_rule": "gap_share",
          "pricing.free_tiers": False, "commoditization.serving_cost_exponent": 0.0,
          "choice.lookers_may_leave": False, "entry.potential_labs": 0,
          "funding.licence_and_hire": False,
          "commoditization.posttrain_size_exponent": 0.0, "open_source.apps_may_use": False}
"""The golden files predate issues 12 and 13's mechanisms: they are compared with the
lead-markup pricing rule, the gap-share capability rule, no free tiers, the same serving cost
for every model, users who look around choosing among the offers only, no endogenous
entry, no licence-and-hire deals, post-training that costs the same on any model
size and apps that run on labs' models only."""


RENAMED = {
    "events": {"agent": "firm"},
    "firms": {"revenue": "revenue_musd", "costs": "costs_musd", "funding_in": "funding_in_musd",
              "cash": "cash_musd", "credits": "credits_musd", "price": "price_usd"},
    "model": {"mean_price": "mean_price_usd", "mean_cost_to_serve": "mean_cost_to_serve_usd",
              "consumer_surplus": "consumer_surplus_musd"},
}
"""Columns renamed since the golden files were written (table → golden name → name now):
the comparison is of the values, under the golden files' names. The summary's ``final``
values are the model table's, renamed the same way."""


def _golden_firms(firms: pd.DataFrame, backers: pd.DataFrame) -> pd.DataFrame:
    """The firms table as the golden files wrote it: the backers of each firm and month as
    one ``;``-joined text (now the long ``backers`` table), an unlimited runway as 999."""
    joined = backers.groupby(["month", "firm"], sort=False)["backer"].agg(";".join)
    keys = pd.MultiIndex.from_arrays([firms["month"], firms["firm"]])
    return firms.assign(
        backers=joined.reindex(keys).fillna("").to_numpy(),
        runway_months=firms["runway_months"].fillna(999.0).clip(upper=999.0))


def outputs(scenario: str, seed: int, months: int,
            columns: dict[str, list[str]] | None = None) -> dict[str, bytes]:
    """File name → bytes, as ``moatsim run`` writes them (same DataFrame.to_csv calls), with
    the pre-issue-12 pricing rule; ``columns`` (table → names) keeps only those columns of a
    table (outputs added since the golden files were written are not in them)."""
    from moatsim.experiments.run import run_scenario

    result = run_scenario(ROOT / scenario, seed=seed, months=months, overrides=LEGACY)
    files = {}
    summary = result.summary
    for name in TABLES:
        table = getattr(result, name)
        if columns and name in columns:
            if name == "firms":
                table = _golden_firms(table, result.backers)
            renamed = {new: old for old, new in RENAMED.get(name, {}).items()}
            table = table.rename(columns=renamed)[columns[name]]
        files[f"{name}.csv"] = table.to_csv(index=False).encode("utf-8")
    if columns:
        renamed = {new: old for old, new in RENAMED["model"].items()}
        summary = {**summary, "final": {renamed.get(key, key): value
                                        for key, value in summary["final"].items()}}
    files["summary.json"] = (json.dumps(summary, indent=2) + "\n").encode("utf-8")
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "golden")
    args = parser.parse_args()
    for scenario, seed, months in CASES:
        folder = args.out / case_name(scenario, seed)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in outputs(scenario, seed, months).items():
            (folder / name).write_bytes(data)
        print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
