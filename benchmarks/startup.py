"""Start-up time of the ``moatsim`` command, now and at a reference commit, in one run.

Measures the wall time of three commands, each a fresh ``python`` process, as the median of
``--repeats`` runs, interleaving this checkout and the reference (so both see the same machine
load):

* ``python -m moatsim --help``
* ``python -m moatsim validate scenarios/baseline.yaml``
* ``python -c "import moatsim"``

The reference commit (default 91125b2, before issue 11) is checked out into a temporary git
worktree and run with ``cwd=<worktree>`` and its own package on ``PYTHONPATH`` (``model``
before issue 15, so ``python -m model``; ``moatsim``, whose source folder is ``model/``,
through a link); this checkout the same way with its own root. Prints a Markdown table
with both medians and their ratio, for the wall time and for the CPU time (user + system,
less sensitive to other load on the machine).

    .venv/bin/python benchmarks/startup.py [--reference 91125b2] [--repeats 7]
"""

from __future__ import annotations

import argparse
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
COMMANDS = {
    "moatsim --help": ["-m", "moatsim", "--help"],
    "moatsim validate scenarios/baseline.yaml": ["-m", "moatsim", "validate",
                                                 "scenarios/baseline.yaml"],
    'python -c "import moatsim"': ["-c", "import moatsim"],
}


def package_path(tree: Path, links: Path) -> Path:
    """A folder from which ``tree``'s package imports: the tree itself for ``model``; for
    ``moatsim`` (whose source folder is ``model/``) a folder holding a ``moatsim`` link."""
    if package_name(tree) == "model":
        return tree
    folder = links / f"path-{tree.name}"
    if not folder.exists():
        folder.mkdir()
        (folder / "moatsim").symlink_to(tree / "model")
    return folder


def package_name(tree: Path) -> str:
    """What ``tree``'s package imports as: ``moatsim`` since issue 15, ``model`` before."""
    main = (tree / "model" / "__main__.py").read_text(encoding="utf-8")
    return "moatsim" if "moatsim" in main.replace("moatsim` command", "") else "model"


def for_tree(tree: Path, args: list[str]) -> list[str]:
    """The command's arguments with the tree's package name (before issue 15 the package was
    ``model``; with ``-m moatsim`` the reference would have run this checkout's installed
    package, as it did in the runs after the rename)."""
    name = package_name(tree)
    return [arg.replace("moatsim", name) if arg in ("moatsim", "import moatsim") else arg
            for arg in args]


def wall_time(source: Path, args: list[str], links: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one command, run by ``source``'s package."""
    args = for_tree(source, args)
    env = {**os.environ, "PYTHONPATH": str(package_path(source, links))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=source, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as temp:
        tree = Path(temp) / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.reference],
                       cwd=ROOT, check=True, capture_output=True)
        try:
            for source in (tree, ROOT):  # warm the file cache and the bytecode
                for argv in COMMANDS.values():
                    wall_time(source, argv, Path(temp))
            for _ in range(args.repeats):
                for name, argv in COMMANDS.items():
                    for label, source in (("reference", tree), ("now", ROOT)):
                        times.setdefault((name, label), []).append(
                            wall_time(source, argv, Path(temp)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           check=True, capture_output=True)
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, 1-minute load average "
          f"at the start {load:.1f}; medians of {args.repeats} runs, reference "
          f"{args.reference}\n")
    ref = args.reference
    print(f"| command | wall {ref} | wall now | now / {ref} | CPU {ref} | CPU now | "
          f"now / {ref} |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in COMMANDS:
        cells = []
        for i in (0, 1):  # wall, CPU
            before = statistics.median(t[i] for t in times[(name, "reference")])
            after = statistics.median(t[i] for t in times[(name, "now")])
            cells.append(f"{before:.3f} s | {after:.3f} s | {after / before:.2f}")
        print(f"| `{name}` | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
