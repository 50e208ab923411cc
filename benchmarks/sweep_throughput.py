"""Sweep throughput: runs per minute on 1 and 2 local workers and on a 2-worker Dask
LocalCluster, the fixed cost of a run and of a sweep — now and at a reference commit, in one
run — and the parent process's peak memory during a long sweep.

    .venv/bin/python benchmarks/sweep_throughput.py            # prints Markdown tables
    .venv/bin/python benchmarks/sweep_throughput.py --runs 40 --repeats 5 --memory-runs 0

Throughput: a grid over ``first_mover.switching_cost_utils`` on the baseline scenario,
``--runs`` runs of ``--months`` months, timed with ``time.perf_counter`` around
:func:`moatsim.experiments.sweep.run_sweep` — pool start-up, writing every Parquet file and the
manifest included; the Dask cluster is started before the clock starts (a cluster is
long-lived), and the client's connection is inside it. Each figure is the median of
``--repeats`` repeats.

Reference: the same sweeps from ``--reference`` (default 91125b2, before issue 11), checked
out into a temporary git worktree. Every repeat runs in a fresh child process
(``PYTHONPATH`` and ``cwd`` = the checkout), alternating reference and this checkout, so both
see the same machine load; the table gives both medians and the ratio now / reference.

Fixed costs: *per run* — seconds per run of a 1-worker (in-process) sweep of
``--overhead-runs`` one-month runs (scenario validation, building the model, collecting its
tables, the final metrics, one Parquet file; one month of simulation); *per sweep* — the wall
time of a 2-worker sweep of 4 one-month runs (spawning the workers and importing Mesa and
pandas there, loading the experiment, the folder, the manifest).

Memory: the sweep runs in a fresh child process (2 local workers); the figure is that
process's peak resident set size, ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` — the parent
that schedules runs and writes the results, not its worker processes. A smaller sweep is
measured the same way to show that memory does not grow with the number of runs
(``--memory-runs 0`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "91125b2"
EXECUTORS = ("1 worker", "2 workers", "dask")
LABELS = {"1 worker": "local, 1 worker (in-process)",
          "2 workers": "local, 2 worker processes (spawn)",
          "dask": "Dask LocalCluster, 2 workers × 1 thread"}


def experiment(folder: Path, runs: int, months: int, name: str, source: Path = ROOT) -> Path:
    """A grid of ``runs // 2`` switching costs × 2 seeds, with the reference's mechanisms
    (the lead-markup pricing rule and the gap-share capability rule in a checkout that has
    issue 12's mechanisms)."""
    points = max(1, runs // 2)
    path = folder / f"{name}.yaml"
    schema = (source / "model" / "scenario.py").read_text(encoding="utf-8")
    same = "".join(line for marker, line in (
        ("class Pricing", "  pricing.rule: lead_markup\n"),
        ("capability_rule", "  technology.capability_rule: gap_share\n"),
        ("free_tiers", "  pricing.free_tiers: false\n"),
        ("serving_cost_exponent", "  commoditization.serving_cost_exponent: 0.0\n"),
        ("lookers_may_leave", "  choice.lookers_may_leave: false\n"),
        ("class Entry", "  entry.potential_labs: 0\n"),
        ("licence_and_hire", "  funding.licence_and_hire: false\n"),
        ("posttrain_size_exponent", "  commoditization.posttrain_size_exponent: 0.0\n"),
        ("apps_may_use", "  open_source.apps_may_use: false\n"))
        if marker in schema)
    path.write_text(
        f"description: benchmark sweep\nscenario: {source / 'scenarios' / 'baseline.yaml'}\n"
        f"replicates: 2\nmonths: {months}\nparameters:\n  first_mover.switching_cost_utils:\n"
        f"    range: [0, 10]\n    points: {points}\n"
        + (f"overrides:\n{same}" if same else ""), encoding="utf-8")
    return path


def timed(path: Path, out: Path, **kwargs) -> tuple[int, float]:
    from moatsim.experiments.sweep import run_sweep

    start = time.perf_counter()
    summary = run_sweep(path, out, **kwargs)
    return summary.executed, time.perf_counter() - start


def child_repeat(runs: int, months: int, overhead_runs: int) -> None:
    """One repeat of every measurement, in this (fresh) process, from whichever checkout
    ``PYTHONPATH`` names; prints JSON."""
    from distributed import LocalCluster

    source = Path(os.environ.get("PYTHONPATH", ROOT)).resolve()
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = experiment(folder, runs, months, "throughput", source)
        for name, kwargs in (("1 worker", {"workers": 1}), ("2 workers", {"workers": 2})):
            done, seconds = timed(path, folder / name.replace(" ", "-"), **kwargs)
            result[name] = done / seconds * 60
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            done, seconds = timed(path, folder / "dask", scheduler=cluster.scheduler_address)
            result["dask"] = done / seconds * 60
        small = experiment(folder, overhead_runs, 1, "per-run", source)
        done, seconds = timed(small, folder / "per-run", workers=1)
        result["per run"] = seconds / done
        tiny = experiment(folder, 4, 1, "per-sweep", source)
        _, result["per sweep"] = timed(tiny, folder / "per-sweep", workers=2)
    print(json.dumps(result))


def repeat(source: Path, args: argparse.Namespace) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-repeat",
                           "--runs", str(args.runs), "--months", str(args.months),
                           "--overhead-runs", str(args.overhead_runs)],
                          cwd=source, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_memory(runs: int, months: int) -> None:
    """Run a sweep in this (fresh) process and print its peak RSS as JSON."""
    from moatsim.experiments.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        path = experiment(Path(tmp), runs, months, "memory")
        start = time.perf_counter()
        summary = run_sweep(path, Path(tmp) / "out", workers=2)
        seconds = time.perf_counter() - start
        files = len(list((Path(tmp) / "out" / "results").iterdir()))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"runs": summary.executed, "files": files, "seconds": seconds,
                      "peak_mib": peak_kib / 1024}))


def memory(runs: int, months: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child-memory", str(runs),
                           "--months", str(months)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per throughput sweep")
    parser.add_argument("--months", type=int, default=96, help="months per throughput run")
    parser.add_argument("--repeats", type=int, default=5, help="repeats (medians are shown)")
    parser.add_argument("--overhead-runs", type=int, default=100,
                        help="one-month runs of the per-run fixed cost sweep")
    parser.add_argument("--reference", default=REFERENCE,
                        help="commit to compare with ('' for none)")
    parser.add_argument("--memory-runs", type=int, default=2000, help="0 skips memory")
    parser.add_argument("--memory-months", type=int, default=24)
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-repeat", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.child_memory, args.months)
        return
    if args.child_repeat:
        child_repeat(args.runs, args.months, args.overhead_runs)
        return

    load_before = os.getloadavg()[0]
    measured: dict[str, list[dict[str, float]]] = {"now": [], "reference": []}
    with tempfile.TemporaryDirectory() as temp:
        tree = Path(temp) / "reference"
        if args.reference:
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.reference],
                           cwd=ROOT, check=True, capture_output=True)
        try:
            for _ in range(args.repeats):
                if args.reference:
                    measured["reference"].append(repeat(tree, args))
                measured["now"].append(repeat(ROOT, args))
        finally:
            if args.reference:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                               check=True, capture_output=True)
    load_after = os.getloadavg()[0]

    def med(label: str, key: str) -> float:
        return statistics.median(r[key] for r in measured[label])

    ref = args.reference
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, 1-minute load average "
          f"{load_before:.1f} at the start, {load_after:.1f} at the end; medians of "
          f"{args.repeats} repeats of {args.runs} runs × {args.months} months\n")
    head = f" {ref} | now / {ref} |" if ref else ""
    print(f"| executor | runs/minute now |{head}")
    print("|---|---:|" + ("---:|---:|" if ref else ""))
    for key in EXECUTORS:
        row = f"| {LABELS[key]} | {med('now', key):,.0f} |"
        if ref:
            row += f" {med('reference', key):,.0f} | {med('now', key) / med('reference', key):.2f} |"
        print(row)
    for label, fn in (("speed-up 1 → 2 workers", lambda l: med(l, "2 workers") / med(l, "1 worker")),
                      ("Dask / local, 2 workers", lambda l: med(l, "dask") / med(l, "2 workers"))):
        row = f"| {label} | {fn('now'):.2f} |"
        if ref:
            row += f" {fn('reference'):.2f} | |"
        print(row)
    print()
    print(f"| fixed cost | now |{f' {ref} | now / {ref} |' if ref else ''}")
    print("|---|---:|" + ("---:|---:|" if ref else ""))
    for key, text, scale, unit in (
            ("per run", f"per run (1-worker sweep of {args.overhead_runs} one-month runs)",
             1000, "ms"),
            ("per sweep", "per sweep (2 workers, 4 one-month runs: start-up)", 1, "s")):
        fmt = ".0f" if unit == "ms" else ".2f"
        row = f"| {text} | {med('now', key) * scale:{fmt}} {unit} |"
        if ref:
            row += (f" {med('reference', key) * scale:{fmt}} {unit} | "
                    f"{med('now', key) / med('reference', key):.2f} |")
        print(row)

    if args.memory_runs:
        small = memory(max(1, args.memory_runs // 10), args.memory_months)
        large = memory(args.memory_runs, args.memory_months)
        print()
        print("| sweep (2 local workers) | runs × months | wall time | parent peak RSS |")
        print("|---|---:|---:|---:|")
        for result in (small, large):
            print(f"| {result['runs']:,} runs | {result['runs']:,} × {args.memory_months} | "
                  f"{result['seconds']:.0f} s | {result['peak_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
