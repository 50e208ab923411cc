"""Killed commands leave no processes behind (issue 9, point 2), and a killed ``run`` leaves no
staging folder behind for good (point 1).

Each test starts the real command line in its own session, waits (polling, with generous
limits for a loaded machine) until its child processes exist, SIGKILLs the parent only, and
measures how long any child outlives it. The issue's bound is 5 s; the tests allow 10 s so a
loaded machine does not fail them, and print the measured time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from moatsim.viz.server import free_port
from tests.conftest import BASELINE, ROOT, moatsim

NO_MOAT = ROOT / "scenarios" / "no_moat.yaml"
START_LIMIT_S = 120.0
"""How long the commands may take to get going on a loaded machine."""
SURVIVAL_LIMIT_S = 10.0
"""How long a child may outlive its killed parent here (the issue's bound is 5 s)."""

LONG_SWEEP = f"""\
description: forty longer runs, still running when it is killed
scenario: {BASELINE}
replicates: 4
months: 96
parameters:
  first_mover.switching_cost_utils: {{range: [0, 8], points: 10}}
metrics:
  final: [hhi, open_share, first_mover_share]
"""


def start(*args: object, cwd: Path = ROOT) -> subprocess.Popen:
    """The command line in its own session (so a failed test can still end all of it)."""
    return subprocess.Popen([sys.executable, "-m", "moatsim", *map(str, args)], cwd=cwd,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait_for(condition: Callable[[], object], process: subprocess.Popen, what: str,
             limit: float = START_LIMIT_S) -> object:
    """Poll ``condition`` until it is truthy; fail if ``process`` exits or time runs out."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the command ended before {what}: {process.stderr.read().decode()}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {limit:.0f} s")


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def running(process: psutil.Process) -> bool:
    """Alive, or a zombie whose other threads are still exiting (still holding its files)."""
    try:
        if not process.is_running():
            return False
        if process.status() != psutil.STATUS_ZOMBIE:
            return True
        return len(os.listdir(f"/proc/{process.pid}/task")) > 1
    except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
        return False


def kill_parent_and_time_children(process: subprocess.Popen, children: list[psutil.Process],
                                  also: Callable[[], bool] = lambda: False) -> float:
    """SIGKILL the parent alone; seconds until no child runs (and ``also`` is false)."""
    assert children, "the command has no child processes to check"
    os.kill(process.pid, signal.SIGKILL)
    killed = time.monotonic()
    process.wait(timeout=30)
    try:
        deadline = killed + SURVIVAL_LIMIT_S
        while time.monotonic() < deadline:
            if not any(running(child) for child in children) and not also():
                return time.monotonic() - killed
            time.sleep(0.01)
        survivors = [f"{c.pid} {' '.join(c.cmdline())[:80]}" for c in children if running(c)]
        pytest.fail(f"children outlived their SIGKILLed parent by {SURVIVAL_LIMIT_S:.0f} s: "
                    f"{survivors}")
    finally:
        for child in children:  # whatever the outcome, end what this test started
            if running(child):
                child.kill()
        process.stderr.close()


def report(what: str, seconds: float) -> None:
    print(f"\n{what}: the last child ended {seconds:.3f} s after the parent's SIGKILL")
    assert seconds < SURVIVAL_LIMIT_S


def pool_workers(pid: int, count: int) -> list[psutil.Process] | None:
    """The parent's children once ``count`` pool workers run (None before)."""
    children = descendants(pid)
    workers = [c for c in children if "spawn_main" in " ".join(_cmdline(c))]
    return children if len(workers) >= count else None


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return []


def test_sigkilled_sweep_leaves_no_workers_or_resource_tracker(tmp_path):
    experiment = tmp_path / "long.yaml"
    experiment.write_text(LONG_SWEEP, encoding="utf-8")
    out = tmp_path / "out"
    process = start("sweep", experiment, "--out", out, "--workers", "2", "--quiet")
    try:
        # the workers are busy with runs (one already finished) when the sweep is killed
        wait_for(lambda: list((out / "results").glob("run-*.parquet")), process,
                 "finished run")
        children = wait_for(lambda: pool_workers(process.pid, 2), process, "2 pool workers")
        names = " ".join(" ".join(_cmdline(c)) for c in children)
        assert "resource_tracker" in names  # it must end too
        seconds = kill_parent_and_time_children(process, children)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    report(f"sweep ({len(children)} children: 2 workers and the resource tracker)", seconds)
    assert len(list((out / "results").glob("run-*.parquet"))) < 40  # killed part-way


def test_sigkilled_compare_leaves_no_workers(tmp_path):
    process = start("compare", BASELINE, NO_MOAT, "--replicates", "20", "--months", "96",
                    "--workers", "2", "--out", tmp_path / "out")
    try:
        children = wait_for(lambda: pool_workers(process.pid, 2), process, "2 pool workers")
        seconds = kill_parent_and_time_children(process, children)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    report(f"compare ({len(children)} children)", seconds)
    assert not (tmp_path / "out").exists()


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_sigkilled_viz_leaves_no_server_answering():
    port = free_port()
    process = start("viz", "--port", port)
    try:
        wait_for(lambda: answers(port), process, f"answer on port {port}")
        children = descendants(process.pid)
        seconds = kill_parent_and_time_children(process, children, also=lambda: listening(port))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not listening(port)
    report(f"viz ({len(children)} children: the Solara server)", seconds)


def test_dask_local_cluster_workers_end_with_their_parent():
    """The Dask cluster the tests and the benchmark start: Dask ends its own workers."""
    code = ("import time\nfrom distributed import LocalCluster\n"
            "cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, "
            "host='127.0.0.1', dashboard_address=None)\nprint('ready', flush=True)\n"
            "time.sleep(600)\n")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout.readline().strip() == b"ready", process.stderr.read().decode()
        children = wait_for(lambda: pool_workers(process.pid, 2), process, "2 Dask workers")
        seconds = kill_parent_and_time_children(process, children)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.stdout.close()
    report(f"Dask LocalCluster ({len(children)} children)", seconds)


def staging_folders(parent: Path, name: str) -> list[Path]:
    return sorted(parent.glob(f".{name}.partial-*"))


def kill_while_writing(process: subprocess.Popen, parent: Path, name: str) -> bool:
    """SIGKILL ``process`` as soon as its staging folder appears; whether it was caught."""
    try:
        deadline = time.monotonic() + START_LIMIT_S
        while process.poll() is None and time.monotonic() < deadline:
            if staging_folders(parent, name):
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.stderr.close()
    return process.returncode == -signal.SIGKILL


def test_sigkilled_run_leaves_a_staging_folder_the_next_run_removes(tmp_path):
    out = tmp_path / "run"
    # the staging folder exists only while the outputs are written (a second or two at the
    # end of a run); a run that is not caught in it is simply tried again
    for _attempt in range(5):
        if out.exists():
            shutil.rmtree(out)
        process = start("run", BASELINE, "--months", "96", "--out", out, "--quiet")
        if kill_while_writing(process, tmp_path, "run") and staging_folders(tmp_path, "run"):
            break
    else:
        pytest.fail("no run was caught writing its outputs in 5 attempts")
    assert len(staging_folders(tmp_path, "run")) == 1
    assert not out.exists()  # killed before its output was whole: no output at all

    done = moatsim("run", BASELINE, "--months", "2", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    assert staging_folders(tmp_path, "run") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
