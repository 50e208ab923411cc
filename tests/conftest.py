"""Shared fixtures: the repository root and a short baseline run reused across tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def moatsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the real command line (``python -m moatsim ...``) and capture its output."""
    return subprocess.run([sys.executable, "-m", "moatsim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def kill_once_written(command: list[str], folder: Path, count: int,
                      timeout_s: float = 300) -> None:
    """Start ``command`` in a session of its own, wait (up to ``timeout_s``) until ``folder``
    holds ``count`` run files, then SIGKILL the whole process group (the command and its
    workers). Fails if the command ends first."""
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if folder.is_dir() and len(list(folder.glob("run-*.parquet"))) >= count:
                break
            time.sleep(0.02)
        assert process.poll() is None, process.stderr.read().decode()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.stderr.close()


@pytest.fixture(scope="session")
def baseline_run():
    from moatsim import run_scenario

    return run_scenario(BASELINE, seed=7, months=36)
