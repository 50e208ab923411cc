"""Sweep throughput and memory: runs per minute on 1 and 2 local workers and on a 2-worker Dask
LocalCluster, and the parent process's peak memory during a 2,000-run sweep.

    .venv/bin/python benchmarks/sweep_throughput.py            # prints a Markdown table
    .venv/bin/python benchmarks/sweep_throughput.py --runs 40 --memory-runs 500   # quicker

Throughput: a grid over ``first_mover.switching_cost_utils`` on the baseline scenario,
``--runs`` runs of ``--months`` months, timed with ``time.perf_counter`` around
:func:`model.experiments.sweep.run_sweep` — pool start-up, writing every Parquet file and the
manifest included; the Dask cluster is started before the clock starts (a cluster is
long-lived), and the client's connection is inside it.

Memory: the sweep runs in a fresh child process (2 local workers); the figure is that
process's peak resident set size, ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` — the parent
that schedules runs and writes the results, not its worker processes (each of which holds one
run at a time). A smaller sweep is measured the same way to show that memory does not grow
with the number of runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def experiment(folder: Path, runs: int, months: int, name: str) -> Path:
    """A grid of ``runs // 2`` switching costs × 2 seeds."""
    points = max(1, runs // 2)
    path = folder / f"{name}.yaml"
    path.write_text(
        f"description: benchmark sweep\nscenario: {BASELINE}\nreplicates: 2\n"
        f"months: {months}\nparameters:\n  first_mover.switching_cost_utils:\n"
        f"    range: [0, 10]\n    points: {points}\n", encoding="utf-8")
    return path


def timed(path: Path, out: Path, **kwargs) -> tuple[int, float]:
    from model.experiments.sweep import run_sweep

    start = time.perf_counter()
    summary = run_sweep(path, out, **kwargs)
    return summary.executed, time.perf_counter() - start


def child_memory(runs: int, months: int) -> None:
    """Run a sweep in this (fresh) process and print its peak RSS as JSON."""
    from model.experiments.sweep import run_sweep

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
    parser.add_argument("--runs", type=int, default=60, help="runs per throughput sweep")
    parser.add_argument("--months", type=int, default=96, help="months per throughput run")
    parser.add_argument("--memory-runs", type=int, default=2000)
    parser.add_argument("--memory-months", type=int, default=24)
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.child_memory, args.months)
        return

    from distributed import LocalCluster

    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = experiment(folder, args.runs, args.months, "throughput")
        for label, kwargs in (("local, 1 worker (in-process)", {"workers": 1}),
                              ("local, 2 worker processes (spawn)", {"workers": 2})):
            runs, seconds = timed(path, folder / label.split()[1], **kwargs)
            rows.append((label, runs, seconds))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            runs, seconds = timed(path, folder / "dask", scheduler=cluster.scheduler_address)
            rows.append(("Dask LocalCluster, 2 workers × 1 thread", runs, seconds))

    small = memory(max(1, args.memory_runs // 10), args.memory_months)
    large = memory(args.memory_runs, args.memory_months)

    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"1-minute load average at the start: {load_before:.1f}\n")
    print("| executor | runs × months | wall time | runs/minute |")
    print("|---|---:|---:|---:|")
    for label, runs, seconds in rows:
        rate = runs / seconds * 60
        print(f"| {label} | {runs} × {args.months} | {seconds:.1f} s | {rate:,.0f} |")
    print()
    print("| sweep (2 local workers) | runs × months | wall time | parent peak RSS |")
    print("|---|---:|---:|---:|")
    for result in (small, large):
        print(f"| {result['runs']:,} runs | {result['runs']:,} × {args.memory_months} | "
              f"{result['seconds']:.0f} s | {result['peak_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
