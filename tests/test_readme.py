"""The README's snippets, as written (issue 15): every Python block is saved as a script
and run in its own process; every ``moatsim`` command in a shell block is parsed by the real
command line (its flags exist and its files are there), and the quick ones are run.

A snippet that needs a sweep's output (the SALib one reads ``runs/commoditization``) runs
in a folder where that sweep was done first, on a smaller design of the same experiment.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
PYTHON_BLOCKS = [code for kind, code in BLOCK.findall(README) if kind == "python"]
SHELL_LINES = [line for kind, code in BLOCK.findall(README) if kind in ("sh", "bash")
               for line in re.sub(r"\\\n\s*", " ", code).splitlines()]
QUICK = ("list", "validate", "--version")
"""Shell commands run in full; the others (runs of minutes) are parsed only."""


def _script(code: str, cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``code`` saved in ``tmp_path`` and run with ``cwd`` as the current folder; it prints
    a last line of its own, so a snippet that stops early cannot pass."""
    script = tmp_path / "snippet.py"
    script.write_text(code + "\nprint('SNIPPET-DONE')\n", encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True,
                          text=True, timeout=1200)


def _commoditization_sweep(folder: Path) -> None:
    """``runs/commoditization`` in ``folder``: the README's sweep on 8 Sobol points × 24 months."""
    experiment = yaml.safe_load((ROOT / "experiments" / "commoditization.yaml").read_text())
    experiment.update(samples=8, months=24, scenario="baseline")
    (folder / "commoditization.yaml").write_text(yaml.safe_dump(experiment), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "moatsim", "sweep", "commoditization.yaml",
                           "--out", "runs/commoditization", "--workers", "1", "--quiet"],
                          cwd=folder, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_each_python_snippet_runs_as_written(index, tmp_path):
    code = PYTHON_BLOCKS[index]
    if "runs/commoditization" in code:
        _commoditization_sweep(tmp_path)
        cwd = tmp_path
    elif "scenarios/" in code:
        cwd = ROOT  # it names the checkout's files, as a reader in the checkout would
    else:
        cwd = tmp_path  # the others must work from any folder
    done = _script(code, cwd, tmp_path)
    assert done.returncode == 0, f"README snippet {index}:\n{code}\n{done.stderr[-3000:]}"
    assert done.stdout.rstrip().endswith("SNIPPET-DONE")


def _moatsim_arguments(line: str) -> list[str] | None:
    """The arguments of a ``moatsim`` command in a shell line (None if it is not one)."""
    words = shlex.split(line, comments=True)
    for start, word in enumerate(words):
        if word.endswith("/moatsim") or word == "moatsim":
            return words[start + 1:]
        if word == "-m" and start + 1 < len(words) and words[start + 1] == "moatsim":
            return words[start + 2:]
    return None


COMMANDS = [args for args in map(_moatsim_arguments, SHELL_LINES) if args]


def test_the_snippets_are_found():
    """A README whose blocks the pattern no longer finds would leave the tests below empty."""
    assert len(PYTHON_BLOCKS) == 3, [code.splitlines()[0] for code in PYTHON_BLOCKS]
    assert len(COMMANDS) >= 15, COMMANDS


@pytest.mark.parametrize("arguments", COMMANDS, ids=[" ".join(a)[:60] for a in COMMANDS])
def test_each_moatsim_command_in_the_readme_is_valid(arguments):
    from moatsim.cli import build_parser

    expanded = []
    for word in arguments:  # the shell's globs, from the checkout
        matches = sorted(ROOT.glob(word)) if any(c in word for c in "*?[") else []
        expanded += [str(m.relative_to(ROOT)) for m in matches] or [word]
    if expanded[0] in QUICK:
        done = subprocess.run([sys.executable, "-m", "moatsim", *expanded], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return
    args = build_parser().parse_args(expanded)
    for name in ("scenario", "experiment", "calibration", "folder"):
        value = getattr(args, name, None)
        if value is not None and name != "folder":
            assert (ROOT / value).is_file() or Path(value).is_file(), value
    for value in getattr(args, "scenarios", None) or []:
        assert (ROOT / value).is_file() or Path(value).is_file(), value
