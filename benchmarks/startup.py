"""Start-up time of the ``moatsim`` command, now and at a reference commit, in one run.

Measures the wall time of three commands, each a fresh ``python`` process, as the median of
``--repeats`` runs, interleaving this checkout and the reference (so both see the same machine
load):

* ``python -m model --help``
* ``python -m model validate scenarios/baseline.yaml``
* ``python -c "import model"``

The reference commit (default 91125b2, before issue 11) is checked out into a temporary git
worktree and run with ``PYTHONPATH=<worktree>`` and ``cwd=<worktree>``; this checkout the same
way with its own root. Prints a Markdown table with both medians and their ratio.

    .venv/bin/python benchmarks/startup.py [--reference 91125b2] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "91125b2"
COMMANDS = {
    "moatsim --help": ["-m", "model", "--help"],
    "moatsim validate scenarios/baseline.yaml": ["-m", "model", "validate",
                                                 "scenarios/baseline.yaml"],
    'python -c "import model"': ["-c", "import model"],
}


def wall_time(source: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=source, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    times: dict[tuple[str, str], list[float]] = {}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as temp:
        tree = Path(temp) / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.reference],
                       cwd=ROOT, check=True, capture_output=True)
        try:
            for source in (tree, ROOT):  # warm the file cache and the bytecode
                for argv in COMMANDS.values():
                    wall_time(source, argv)
            for _ in range(args.repeats):
                for name, argv in COMMANDS.items():
                    for label, source in (("reference", tree), ("now", ROOT)):
                        times.setdefault((name, label), []).append(wall_time(source, argv))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           check=True, capture_output=True)
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, 1-minute load average "
          f"at the start {load:.1f}; medians of {args.repeats} runs, reference "
          f"{args.reference}\n")
    print(f"| command | {args.reference} | now | now / {args.reference} |")
    print("|---|---:|---:|---:|")
    for name in COMMANDS:
        before = statistics.median(times[(name, "reference")])
        after = statistics.median(times[(name, "now")])
        print(f"| `{name}` | {before:.3f} s | {after:.3f} s | {after / before:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
