"""Shared fixtures: the repository root and a short baseline run reused across tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def moatsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the real command line (``python -m model ...``) and capture its output."""
    return subprocess.run([sys.executable, "-m", "model", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def baseline_run():
    from model import run_scenario

    return run_scenario(BASELINE, seed=7, months=36)
