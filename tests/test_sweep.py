"""Sweeps: the same results on any executor, failed runs recorded, resume after SIGKILL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from moatsim.cli import main
from moatsim.experiments.sweep import (
    SweepError,
    read_failures,
    read_results,
    read_timeseries,
    run_sweep,
)
from tests.conftest import BASELINE, ROOT, kill_once_written

# 2 × 2 points × 2 seeds; a potential market of 1 user is smaller than the firms' initial
# users, so the 4 runs with it fail when their scenario is validated
SMALL = f"""\
description: a small sweep with failing runs
scenario: {BASELINE}
replicates: 2
seed: 5
months: 12
parameters:
  first_mover.switching_cost_utils: {{values: [0.5, 4]}}
  segments.consumer_chat.potential_users: {{values: [3.0e+9, 1]}}
metrics:
  final: [hhi, open_share, first_mover_share, first_mover_leads, exits, P1, P5]
  timeseries: [hhi, first_mover_share]
  every: 3
"""


def sorted_failures(folder: Path) -> pd.DataFrame:
    return read_failures(folder).drop(columns="traceback")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small experiment, and its results from a serial (in-process) sweep."""
    root = tmp_path_factory.mktemp("sweep")
    experiment = root / "small.yaml"
    experiment.write_text(SMALL, encoding="utf-8")
    summary = run_sweep(experiment, root / "serial", workers=1)
    return experiment, root / "serial", summary


def test_serial_sweep_records_results_and_failures(small):
    experiment, out, summary = small
    assert (summary.runs, summary.ok, summary.failed, summary.executed) == (8, 4, 4, 8)
    assert "4 failed" in summary.text() and "exceed potential users" in summary.text()
    results = pd.read_parquet(out / "results")  # the folder reads as one table
    assert sorted(results["run_id"]) == [0, 1, 4, 5]
    assert results["seed"].tolist() == [5, 6, 5, 6]
    assert list(results.columns[:6]) == ["run_id", "point", "replicate", "seed",
                                         "first_mover.switching_cost_utils",
                                         "segments.consumer_chat.potential_users"]
    assert results["first_mover_leads"].dtype == bool and results["exits"].dtype == "int64"
    failures = read_failures(out)
    assert failures["run_id"].tolist() == [2, 3, 6, 7]
    assert (failures["segments.consumer_chat.potential_users"] == 1).all()
    assert failures["error"].str.contains("initial users of all firms").all()
    assert failures["traceback"].str.contains("Traceback").all()
    series = read_timeseries(out)
    assert set(series["metric"]) == {"hhi", "first_mover_share"}
    assert sorted(series["month"].unique()) == [0, 3, 6, 9, 12]
    assert len(series) == 4 * 2 * 5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs"] == 8
    assert manifest["done"] == {"ok": 4, "failed": 4}
    # nothing but whole run files in the result folders
    assert all(p.name.startswith("run-") for p in (out / "results").iterdir())
    assert not list((out / ".tmp").iterdir())


def test_process_pool_gives_the_serial_results(small, tmp_path):
    experiment, serial, _ = small
    summary = run_sweep(experiment, tmp_path / "pool", workers=2)
    assert summary.executor == "2 local worker processes"
    pd.testing.assert_frame_equal(read_results(tmp_path / "pool"), read_results(serial))
    pd.testing.assert_frame_equal(sorted_failures(tmp_path / "pool"), sorted_failures(serial))
    pd.testing.assert_frame_equal(read_timeseries(tmp_path / "pool"), read_timeseries(serial))


def test_batches_of_runs_give_the_serial_results(small, tmp_path):
    """Several runs per task (the fast path) and one run per task (the plain one) agree."""
    experiment, serial, _ = small
    run_sweep(experiment, tmp_path / "batched", workers=2, batch=3)
    pd.testing.assert_frame_equal(read_results(tmp_path / "batched"), read_results(serial))
    pd.testing.assert_frame_equal(sorted_failures(tmp_path / "batched"),
                                  sorted_failures(serial))
    pd.testing.assert_frame_equal(read_timeseries(tmp_path / "batched"),
                                  read_timeseries(serial))


def test_batch_sizes():
    from moatsim.experiments.sweep import MAX_BATCH, _batches, batch_size

    assert [len(b) for b in _batches(iter(range(7)), 3)] == [3, 3, 1]
    assert [x for b in _batches(iter(range(7)), 3) for x in b] == list(range(7))
    assert batch_size(8, 2) == 1 and batch_size(80, 2) == 10
    assert batch_size(10**6, 2) == MAX_BATCH and batch_size(0, 2) == 1


def test_dask_cluster_gives_the_local_results(small, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    experiment, serial, _ = small
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        code = main(["sweep", str(experiment), "--out", str(tmp_path / "dask"), "--scheduler",
                     cluster.scheduler_address, "--quiet"])
        run_sweep(experiment, tmp_path / "dask-batched", scheduler=cluster.scheduler_address,
                  batch=3)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Dask cluster at tcp://127.0.0.1" in out and "4 failed" in out
    pd.testing.assert_frame_equal(read_results(tmp_path / "dask-batched"),
                                  read_results(serial))
    pd.testing.assert_frame_equal(sorted_failures(tmp_path / "dask-batched"),
                                  sorted_failures(serial))
    pd.testing.assert_frame_equal(read_results(tmp_path / "dask"), read_results(serial))
    pd.testing.assert_frame_equal(sorted_failures(tmp_path / "dask"), sorted_failures(serial))
    pd.testing.assert_frame_equal(read_timeseries(tmp_path / "dask"), read_timeseries(serial))


def test_unreachable_scheduler_is_one_line_and_writes_nothing(small, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setattr("moatsim.experiments.sweep.CONNECT_TIMEOUT_S", 1.0)
    experiment, _, _ = small
    out = tmp_path / "nowhere"
    code = main(["sweep", str(experiment), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:9", "--quiet"])
    error = capsys.readouterr().err
    assert code == 2 and "cannot connect" in error and error.count("\n") == 1
    assert not out.exists()


def test_progress_bar_shows_runs_failed_and_eta(small, tmp_path, capsys):
    experiment, _, _ = small
    assert main(["sweep", str(experiment), "--out", str(tmp_path / "bar"), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "sweep small: 8 runs = 4 points (grid) × 2 replicates" in captured.out
    assert "8/8 runs" in captured.err and "failed=4" in captured.err
    assert "<00:00" in captured.err  # elapsed<remaining
    assert f"report: moatsim report {tmp_path / 'bar'}" in captured.out


def test_existing_folders_are_guarded(small, tmp_path):
    experiment, serial, _ = small
    with pytest.raises(SweepError, match=r"already holds a sweep of small \(8 of 8 runs done\); "
                       "add --resume"):
        run_sweep(experiment, serial, workers=1)
    again = run_sweep(experiment, serial, workers=1, resume=True)
    assert again.executed == 0 and again.done_before == 8
    changed = tmp_path / "small.yaml"
    changed.write_text(SMALL.replace("seed: 5", "seed: 6"), encoding="utf-8")
    with pytest.raises(SweepError, match="started with a different experiment"):
        run_sweep(changed, serial, workers=1, resume=True)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="holds other files"):
        run_sweep(experiment, foreign, workers=1)
    # labels, descriptions and key metrics are not part of the fingerprint
    relabelled = tmp_path / "relabelled.yaml"
    relabelled.write_text(SMALL.replace("a small sweep", "a relabelled sweep"), encoding="utf-8")
    assert run_sweep(relabelled, serial, workers=1, resume=True).executed == 0


KILL = f"""\
description: forty short runs, to kill part-way
scenario: {BASELINE}
replicates: 4
months: 24
parameters:
  first_mover.switching_cost_utils: {{range: [0, 8], points: 10}}
metrics:
  final: [hhi, open_share, first_mover_share, P1]
"""


def test_sigkill_then_resume_loses_and_redoes_nothing(tmp_path):
    experiment = tmp_path / "kill.yaml"
    experiment.write_text(KILL, encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "moatsim", "sweep", str(experiment), "--out", str(out),
               "--workers", "2", "--quiet"]
    results = out / "results"
    kill_once_written(command, results, 4)  # the command and its worker processes
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
              for p in results.glob("run-*.parquet")}
    assert 4 <= len(before) < 40
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running"  # killed: it never wrote its end

    resuming = subprocess.Popen([*command, "--resume"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    # meanwhile, the same experiment uninterrupted, in this process
    reference = run_sweep(experiment, tmp_path / "reference", workers=1)
    assert reference.ok == 40
    stdout, stderr = resuming.communicate(timeout=300)
    assert resuming.returncode == 0, stderr
    resumed = subprocess.CompletedProcess(resuming.args, 0, stdout, stderr)
    assert f"resumed: {len(before)} runs were already done and not redone" in resumed.stdout
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
             for p in results.glob("run-*.parquet")}
    assert {name: after[name] for name in before} == before  # untouched files
    table = pd.read_parquet(results)
    assert sorted(table["run_id"]) == list(range(40))  # each run exactly once
    manifest = json.loads((out / "manifest.json").read_text())
    last = manifest["sessions"][-1]
    assert last["done_at_start"] == len(before) and last["executed"] == 40 - len(before)
    assert manifest["status"] == "complete"

    pd.testing.assert_frame_equal(read_results(out), read_results(tmp_path / "reference"))
