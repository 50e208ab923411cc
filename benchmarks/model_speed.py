"""How fast is one run, and how does a month-step grow with firms and users — now against the
pre-issue-11 implementation, measured in the same run with the same harness (issue 11).

The reference (default: commit 91125b2) is checked out into a temporary git worktree and
measured in a subprocess with ``PYTHONPATH`` and the working directory set to it; this
checkout is measured the same way. Every figure is the median of ``--repeats`` repeats
(after a warm-up run). This checkout runs with the reference's mechanisms (the lead-markup
pricing rule and the gap-share capability rule, :func:`reference_rules`), so the ratios
measure the implementation; its own defaults (best-response pricing, capability from effective
compute, issue 12) are measured as well and printed beside them:

Both trees run the same market: the *reference's* ``scenarios/baseline.yaml`` (the library's
baseline has since gained firms, segments that multi-home and new mechanisms, so each
checkout's own baseline would compare different markets).

1. *per run* — ``run_scenario(<reference baseline>, seed=1)``, 96 months: building the
   model, stepping it and building the output tables; reference / now is the speed-up. The
   two take turns, one process per repeat (after an untimed warm-up run in that process), so
   a change in the machine's load falls on both.
2. *firms* — ms per month-step (stepping plus building the tables, divided by months) on
   generated scenarios: the reference baseline with copies of its labs and apps (new ids,
   same offerings, no initial users; a copied app runs on the copy of its supplier) until
   there are 17, 32, 64, 128, 256 firms. The log-log slope of ms/month against firms is the scaling
   exponent (1 = linear); peak memory is the ``tracemalloc`` peak of a separate run.
3. *users* — ms per month-step of this checkout's own baseline rescaled to 10^4 … 10^9
   people (:func:`benchmarks.population_scaling.baseline_overrides`), this checkout only.

    .venv/bin/python benchmarks/model_speed.py [--reference 91125b2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "91125b2"
FIRM_COUNTS = (17, 32, 64, 128, 256)
USER_SIZES = (10**4, 10**6, 10**9)
SCALING_MONTHS = 24


# ---------------------------------------------------------------- worker (runs in either tree)


def generated_scenario(n_firms: int, baseline: Path | None = None):
    """``baseline`` (default: the working directory's ``scenarios/baseline.yaml``) with
    copies of its labs and apps until it has ``n_firms`` firms (counting the open-source
    community, as the model's firm list does)."""
    from moatsim.loading import load_scenario

    base = load_scenario(baseline or Path("scenarios/baseline.yaml").resolve())
    scenario = base.model_copy(deep=True)
    templates = [f for f in base.firms if f.kind in ("lab", "app")]
    copy_number = 0
    while len(scenario.firms) + 1 < n_firms:
        copy_number += 1
        for template in templates:
            if len(scenario.firms) + 1 >= n_firms:
                break
            firm = template.model_copy(deep=True)
            firm.id = f"{template.id}_copy{copy_number}"
            firm.name = f"{template.name} (copy {copy_number})"
            for offering in firm.offerings.values():
                offering.initial_users = 0.0
            if firm.kind == "app" and firm.supplier is not None:
                firm.supplier = f"{firm.supplier}_copy{copy_number}"
            scenario.firms.append(firm)
    return scenario


TABLES = ("model", "firms", "backers", "segments", "events", "ledger", "summary")


def _read_tables(result) -> None:
    """Read every table: this checkout builds them when first read, the reference eagerly
    (the reference predates the ``backers`` table: its firms table holds the backers)."""
    for name in TABLES:
        if name != "backers" or hasattr(type(result), name):
            getattr(result, name)


def _time_run(scenario, seed: int, months: int, overrides=None) -> float:
    from moatsim.experiments.run import run_scenario

    gc.collect()
    start = time.perf_counter()
    _read_tables(run_scenario(scenario, seed=seed, months=months, overrides=overrides))
    return time.perf_counter() - start


def _peak_mb(scenario, months: int) -> float:
    from moatsim.experiments.run import run_scenario

    gc.collect()
    tracemalloc.start()
    run_scenario(scenario, seed=0, months=months)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _ms_per_month(scenario, months: int, repeats: int, overrides=None) -> float:
    """Median over seeds 0… of (run minus build time) / months, in ms."""
    from moatsim.experiments.run import collect_result
    from moatsim.loading import load_scenario
    from moatsim.model import AIMarketModel

    times = []
    config = load_scenario(scenario, {**(overrides or {}), "months": months})
    for seed in range(repeats):
        gc.collect()
        market = AIMarketModel(config, rng=seed)
        start = time.perf_counter()
        while market.running:
            market.step()
        _read_tables(collect_result(market, seed=seed))
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times) / months


def reference_rules() -> dict:
    """Overrides that give this checkout the reference's mechanisms: the lead-markup pricing
    rule and the gap-share capability rule once issue 12's mechanisms exist; nothing in the
    reference itself."""
    from moatsim.scenario import Scenario, Technology

    rules = {}
    if "pricing" in Scenario.model_fields:
        rules["pricing.rule"] = "lead_markup"
    if "capability_rule" in Technology.model_fields:
        rules["technology.capability_rule"] = "gap_share"
    if "pricing" in Scenario.model_fields and "free_tiers" in Scenario.model_fields[
            "pricing"].annotation.model_fields:
        rules["pricing.free_tiers"] = False
        rules["commoditization.serving_cost_exponent"] = 0.0
    if "lookers_may_leave" in Scenario.model_fields["choice"].annotation.model_fields:
        rules["choice.lookers_may_leave"] = False
    if "entry" in Scenario.model_fields:
        rules["entry.potential_labs"] = 0
    if "licence_and_hire" in Scenario.model_fields["funding"].annotation.model_fields:
        rules["funding.licence_and_hire"] = False
    if "posttrain_size_exponent" in Scenario.model_fields["commoditization"].annotation.model_fields:
        rules["commoditization.posttrain_size_exponent"] = 0.0
    if "apps_may_use" in Scenario.model_fields["open_source"].annotation.model_fields:
        rules["open_source.apps_may_use"] = False
    return rules


def worker(part: str, repeats: int, scenario: Path | None = None) -> dict:
    """One part of the measurements in this process: ``per_run`` (one warm-up run, then
    ``repeats`` timed runs), ``firms`` or ``users``, on ``scenario`` (default: this tree's
    baseline); with the reference's mechanisms and, where this checkout's defaults differ,
    with its defaults too (``*_default``)."""
    baseline = scenario or Path("scenarios/baseline.yaml").resolve()
    same = reference_rules()
    variants = {"": same, "_default": {}} if same else {"": {}}
    if part == "per_run":
        _time_run(baseline, 1, 96)  # warm-up: imports, caches
        return {f"per_run{suffix}_s": [_time_run(baseline, 1, 96, rules)
                                       for _ in range(repeats)]
                for suffix, rules in variants.items()}
    if part == "firms":
        firms = {}
        for n in FIRM_COUNTS:
            scenario = generated_scenario(n, baseline)
            _time_run(scenario, 0, 2)
            firms[n] = {f"ms_per_month{suffix}": _ms_per_month(scenario, SCALING_MONTHS,
                                                                repeats, rules)
                        for suffix, rules in variants.items()}
            firms[n]["peak_mb"] = _peak_mb(scenario, SCALING_MONTHS)
        return {"firms": firms}
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    from population_scaling import baseline_overrides

    baseline = Path("scenarios/baseline.yaml").resolve()
    _time_run(baseline, 1, 2)
    def dotted(n: int) -> dict:  # flat names (a__b) → the loader's dotted paths (a.b)
        return {key.replace("__", "."): value for key, value in baseline_overrides(n).items()}

    return {"users": {n: _ms_per_month(baseline, 96, repeats, dotted(n)) for n in USER_SIZES}}


# ---------------------------------------------------------------- driver


def measure(tree: Path, part: str, repeats: int, scenario: Path | None = None) -> dict:
    """Run one part of the measurements with the model of ``tree`` (a checkout), on
    ``scenario`` (default: the tree's own baseline)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    chosen = ["--scenario", str(scenario)] if scenario else []
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", part,
                           "--repeats", str(repeats), *chosen],
                          cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{part} in {tree} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def exponent(firms: dict) -> float:
    n = np.array([float(k) for k in firms])
    ms = np.array([v["ms_per_month"] for v in firms.values()])
    return float(np.polyfit(np.log(n), np.log(ms), 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", choices=("per_run", "firms", "users"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--scenario", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats, args.scenario)))
        return 0
    temp = Path(tempfile.mkdtemp(prefix="moatsim-model-speed-"))
    tree = temp / "reference"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.reference],
                   cwd=ROOT, check=True, capture_output=True)
    # the market both trees run: the reference's baseline, kept beside the worktree
    common = temp / "reference_baseline.yaml"
    shutil.copyfile(tree / "scenarios" / "baseline.yaml", common)
    try:
        # per run: reference and this checkout take turns, a process each, so a change in
        # the machine's load falls on both
        runs: dict[str, list[float]] = {"reference": [], "now": [], "now_default": []}
        for _ in range(args.repeats):
            for name, source in (("reference", tree), ("now", ROOT)):
                got = measure(source, "per_run", 1, common)
                runs[name] += got["per_run_s"]
                runs["now_default"] += got.get("per_run_default_s", []) if name == "now" else []
        ref_s, now_s = statistics.median(runs["reference"]), statistics.median(runs["now"])
        print(f"model speed: reference {args.reference} vs this checkout, medians of "
              f"{args.repeats} repeats\n")
        print(f"  per run (the reference's baseline, seed 1, 96 months; build, step, tables), "
              f"the reference's mechanisms: reference {ref_s:.3f} s, now {now_s:.3f} s — "
              f"{ref_s / now_s:.1f}× faster", flush=True)
        if runs["now_default"]:
            default_s = statistics.median(runs["now_default"])
            print(f"  per run with this checkout's defaults (best-response pricing): "
                  f"{default_s:.3f} s — {ref_s / default_s:.1f}× the reference", flush=True)
        before = measure(tree, "firms", args.repeats, common)
        now = {**measure(ROOT, "firms", args.repeats, common),
               **measure(ROOT, "users", args.repeats)}
    finally:
        removed = subprocess.run(["git", "worktree", "remove", "--force", str(tree)],
                                 cwd=ROOT, capture_output=True, text=True)
        if removed.returncode != 0:
            print(f"(could not remove the worktree {tree}: {removed.stderr.strip()})",
                  file=sys.stderr)
        shutil.rmtree(temp, ignore_errors=True)
    print(f"\n  firms (generated scenarios, {SCALING_MONTHS} months): ms per month-step, "
          "tracemalloc peak MB")
    print(f"  {'firms':>6} {'reference':>10} {'now':>8} {'ratio':>6} {'peak ref':>9} {'peak now':>9}")
    for n in FIRM_COUNTS:
        b, a = before["firms"][str(n)], now["firms"][str(n)]
        print(f"  {n:>6} {b['ms_per_month']:>10.2f} {a['ms_per_month']:>8.2f} "
              f"{b['ms_per_month'] / a['ms_per_month']:>5.1f}× {b['peak_mb']:>9.1f} "
              f"{a['peak_mb']:>9.1f}")
    print(f"  scaling exponent (log-log slope, {FIRM_COUNTS[0]}–{FIRM_COUNTS[-1]} firms): "
          f"reference {exponent(before['firms']):.2f}, now {exponent(now['firms']):.2f}")
    if "ms_per_month_default" in now["firms"][str(FIRM_COUNTS[0])]:
        default = {n: {"ms_per_month": v["ms_per_month_default"]}
                   for n, v in now["firms"].items()}
        print("  with this checkout's defaults (best-response pricing): ms per month-step "
              + ", ".join(f"{n} firms {v['ms_per_month']:.2f}" for n, v in default.items())
              + f"; exponent {exponent(default):.2f}")
    users = now["users"]
    first = users[str(USER_SIZES[0])]
    print("\n  users (baseline rescaled, 96 months, this checkout): ms per month-step")
    for n in USER_SIZES:
        print(f"  {n:>12,} people {users[str(n)]:>8.2f} ms  ({users[str(n)] / first:.2f}× the "
              f"{USER_SIZES[0]:,}-people figure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
