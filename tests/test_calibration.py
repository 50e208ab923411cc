"""Calibration: file validation, the loss, recovery of known parameters, resume after SIGKILL."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from moatsim.cli import main
from moatsim.experiments.calibration import (
    BASE_GENERATION,
    deviation,
    load_calibration,
    loss,
    read_points,
    run_calibration,
)
from moatsim.experiments.calibration_outputs import MARKER, write_calibrated_scenario
from moatsim.history import Check, users
from moatsim.loading import ScenarioError, load_scenario
from tests.conftest import BASELINE, ROOT, kill_once_written

P = "segments.consumer_chat.bass_innovation_monthly"
Q = "segments.consumer_chat.bass_imitation_monthly"
TRUE = {P: 0.004, Q: 0.06}
DATES = ("2023-04", "2023-08", "2023-12")


def calibration_text(targets: str, *, months: int = 12, extra: str = "",
                     search: str = "{initial_points: 8, population: 5, budget_runs: 40}",
                     parameters: str | None = None) -> str:
    parameters = parameters or (f"  {P}: {{range: [0.0005, 0.03], scale: log}}\n"
                                f"  {Q}: {{range: [0.01, 0.4], scale: log}}\n")
    return (f"description: a test calibration\nscenario: {BASELINE}\nmonths: {months}\n"
            f"replicates: 1\nseed: 3\nparameters:\n{parameters}targets:\n{targets}"
            f"search: {search}\n{extra}")


OWN = ('  users_2023_10: {quantity: users, firm: openai, segment: consumer_chat, '
       'date: "2023-10", value: 1.4e8, low: 1.2e8, high: 1.6e8}\n')


def write(tmp_path: Path, text: str, name: str = "cal.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the file


BAD = {
    "unknown_key": (calibration_text(OWN, extra="serach_limit: 3\n"), 12,
                    "unknown key 'serach_limit'"),
    "fact_sourced_parameter": (calibration_text(
        OWN, parameters="  cohorts.mainstream.price_weight_per_usd: {range: [0.1, 1]}\n"), 7,
        "is sourced to a fact"),
    "unknown_target": (calibration_text("  H99: {}\n"), 10, "unknown target 'H99'"),
    "yes_no_target": (calibration_text("  H26: {}\n", months=24), 10, "has no width"),
    "past_2024": (calibration_text(OWN, months=30), 3, "run past 2024-12"),
    "after_the_run": (calibration_text("  H3: {}\n"), 10, "after the runs end (2023-12)"),
    "own_target_after_2024": (calibration_text(
        '  late: {quantity: users, firm: openai, segment: consumer_chat, date: "2025-03", '
        'value: 1, low: 0, high: 2}\n'), 10, "2025-03 is after 2024-12"),
    "own_target_wrong_argument": (calibration_text(
        '  t: {quantity: users, investor: amazon, firm: openai, segment: consumer_chat, '
        'date: "2023-03", value: 1, low: 0, high: 2}\n'), 10, "users takes"),
    "period_backwards": (calibration_text(
        '  t: {quantity: revenue, firm: openai, period: ["2023-09", "2023-03"], value: 1, '
        'low: 0, high: 2}\n'), 10, "from ≤ to"),
    "history_value_overridden": (calibration_text("  H2: {value: 3}\n"), 10,
                                 "its value is seeds/history.yaml's"),
    "budget_too_small": (calibration_text(
        OWN, search="{initial_points: 8, population: 5, budget_runs: 10}"), 11,
        "10 runs do not cover"),
    "sobol_not_power_of_two": (calibration_text(
        OWN, search="{initial_points: 12, population: 5, budget_runs: 40}"), 11,
        "must be a power of 2"),
    "range_outside_schema": (calibration_text(
        OWN, parameters=f"  {P}: {{range: [0.001, 2]}}\n"), 7, "2 is outside the range"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_calibration_file_is_one_line_naming_file_line_and_key(tmp_path, case):
    text, line, message = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as error:
        load_calibration(path)
    assert message in str(error.value)
    assert error.value.line == line, str(error.value)
    assert str(error.value).startswith(f"{path}:{line}:")


def test_the_cli_answers_a_bad_file_with_exit_2_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, BAD["fact_sourced_parameter"][0])
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is sourced to a fact" in err[0] and "Traceback" not in err[0]
    assert not out.exists()


def test_scenario_out_never_replaces_a_users_file(tmp_path, capsys):
    path = write(tmp_path, calibration_text(OWN))
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--scenario-out", str(mine)]) == 2
    assert "was not written by moatsim calibrate" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "name: mine\n" and not out.exists()


# ---------------------------------------------------------------- the loss


def test_deviation_is_in_band_units_on_each_side():
    check = Check(id="x", target="x", quantity="users", value=100.0, low=80.0, high=150.0,
                  unit="users")
    assert deviation(100.0, check) == 0.0
    assert deviation(150.0, check) == pytest.approx(1.0)  # the band's upper end
    assert deviation(200.0, check) == pytest.approx(2.0)
    assert deviation(60.0, check) == pytest.approx(2.0)  # 40 below, a 20-wide lower side
    assert math.isnan(deviation(float("nan"), check))
    one_sided = Check(id="y", target="y", quantity="users", value=3.0, low=1.0,
                      high=float("inf"), unit="labs")
    assert deviation(50.0, one_sided) == 0.0 and deviation(2.0, one_sided) == 0.5
    assert loss(pd.Series([1.0, 3.0]).to_numpy(), pd.Series([1.0, 1.0]).to_numpy()) == 5.0
    assert loss(pd.Series([1.0, 3.0]).to_numpy(), pd.Series([3.0, 1.0]).to_numpy()) == 3.0
    assert math.isinf(loss(pd.Series([1.0, float("nan")]).to_numpy(),
                           pd.Series([1.0, 1.0]).to_numpy()))


# ---------------------------------------------------------------- recovery


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Targets made by the model itself at known parameters (seed 3, the calibration's)."""
    from moatsim.experiments.run import run_scenario

    root = tmp_path_factory.mktemp("synthetic")
    run = run_scenario(load_scenario(BASELINE), seed=3, months=12, overrides=TRUE)
    lines = []
    for date in DATES:
        value = users(run, firm="openai", segment="consumer_chat", date=date)
        lines.append(f'  users_{date.replace("-", "_")}: {{quantity: users, firm: openai, '
                     f'segment: consumer_chat, date: "{date}", value: {value:.6g}, '
                     f'low: {0.95 * value:.6g}, high: {1.05 * value:.6g}}}\n')
    path = write(root, calibration_text(
        "".join(lines), search="{initial_points: 16, population: 6, budget_runs: 90}"))
    summary = run_calibration(path, root / "out", workers=1)
    return path, root, summary


def test_a_calibration_recovers_the_parameters_that_made_its_targets(synthetic):
    _, _, summary = synthetic
    best = summary.best
    assert summary.base["loss"] > 10 * max(best["loss"], 1e-9)  # the hand-set point is far
    assert best["loss"] <= 1.0  # every synthetic target within its ±5 % band
    for path, true in TRUE.items():
        assert abs(math.log(best[path] / true)) < math.log(1.5), (path, best[path], true)
    assert summary.runs_used <= 90
    points = read_points(summary.out)
    assert points["point"].is_unique and (points["generation"] == BASE_GENERATION).sum() == 1
    assert (points["generation"] >= 1).any()  # the evolution stage ran


def test_the_calibrated_scenario_loads_and_cites_the_calibration(synthetic, tmp_path):
    path, _, summary = synthetic
    loaded = load_calibration(path)
    target = tmp_path / "calibrated.yaml"
    write_calibrated_scenario(loaded, summary.points, target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith(MARKER + "\n")
    scenario = load_scenario(target)
    segment = next(s for s in scenario.segments if s.id == "consumer_chat")
    assert segment.bass_innovation_monthly == pytest.approx(summary.best[P], rel=1e-5)
    assert segment.sources["bass_imitation_monthly"].startswith("calibrated: users_2023_04")
    assert str(path) in segment.sources["bass_innovation_monthly"]


# ---------------------------------------------------------------- resume and executors


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small calibration, run uninterrupted on one worker (in this process)."""
    root = tmp_path_factory.mktemp("tiny")
    path = write(root, calibration_text(OWN + "  H2: {}\n"))
    return path, run_calibration(path, root / "reference", workers=1)


def test_sigkill_then_resume_gives_the_uninterrupted_calibration(tiny, tmp_path):
    path, reference = tiny
    out = tmp_path / "out"
    command = [sys.executable, "-m", "moatsim", "calibrate", str(path), "--out", str(out),
               "--workers", "2", "--quiet"]
    results = out / "results"
    kill_once_written(command, results, 12)  # the command and its worker processes
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
              for p in results.glob("run-*.parquet")}
    assert 12 <= len(before) < reference.runs_used
    assert not (out / "points.parquet").exists()

    resumed = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {len(before)} runs were already done and not redone" in resumed.stdout
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
             for p in results.glob("run-*.parquet")}
    assert {name: after[name] for name in before} == before  # read, never rewritten
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2
    # killed and resumed on 2 workers = uninterrupted on 1
    pd.testing.assert_frame_equal(read_points(out), reference.points)
    assert (out / "report.html").is_file() and (out / "calibrated.yaml").is_file()


def test_a_dask_cluster_gives_the_local_calibration(tiny, tmp_path):
    import distributed

    path, reference = tiny
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        summary = run_calibration(path, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert "Dask cluster" in summary.executor
    pd.testing.assert_frame_equal(summary.points, reference.points)


def test_resume_refuses_a_changed_calibration(tiny, tmp_path, capsys):
    path, reference = tiny
    shutil.copytree(reference.out, tmp_path / "out")
    changed = write(tmp_path, path.read_text(encoding="utf-8").replace("seed: 3", "seed: 4"))
    assert main(["calibrate", str(changed), "--out", str(tmp_path / "out"), "--resume",
                 "--quiet"]) == 2
    assert "started with a different calibration file" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((ROOT / "calibrations").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_the_library_calibrations_load_and_fit_only_assumptions(path):
    loaded = load_calibration(path)
    assert loaded.parameters and loaded.checks
    for info in loaded.parameters:
        assert "assumption" in info.source, info.path
    assert all(check.target.startswith("H") for check in loaded.checks)
