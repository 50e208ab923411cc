"""Experiment files: validation with one-line errors, and the design points they make."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moatsim.cli import main
from moatsim.experiments import sensitivity
from moatsim.experiments.design import build_design, default_label, load_experiment, runs
from moatsim.experiments.units import format_value
from moatsim.loading import ScenarioError
from tests.conftest import BASELINE, ROOT, moatsim

EXAMPLES = sorted((ROOT / "experiments").glob("*.yaml"))


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"description: a test sweep\nscenario: {BASELINE}\n{text}",
                    encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_experiment(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message.split("exp.yaml", 1)[1]


def test_examples_cover_each_family_and_validate():
    names = {path.stem for path in EXAMPLES}
    assert {"funding", "first_mover", "commoditization"} <= names
    designs = set()
    for path in EXAMPLES:
        loaded = load_experiment(path)
        designs.add(loaded.experiment.design)
        design = build_design(loaded)
        assert len(design.points) == loaded.point_count()
        assert loaded.run_count() == loaded.point_count() * loaded.experiment.replicates
        family = path.stem if path.stem != "screening" else None
        if family:
            assert all(p.path.startswith(family) for p in loaded.parameters)
    assert {"grid", "sobol", "morris"} <= designs


@pytest.mark.parametrize(("text", "expected"), [
    ("parameters:\n  first_mover.switching_cost_util: {values: [1, 2]}\n",
     ":4: parameters.first_mover.switching_cost_util: unknown parameter "
     "'switching_cost_util' in first_mover (did you mean 'switching_cost_utils'?)"),
    ("parameters:\n  first_mover.switching_cost_utils:\n    values: [1, 200]\n",
     ":5: parameters.first_mover.switching_cost_utils.values: 200 is outside the range of "
     "first_mover.switching_cost_utils: 0 – 50 utils"),
    ("parameters:\n  commoditization.max_markup: {range: [-1, 2], points: 3}\n",
     ":4: parameters.commoditization.max_markup.range: -1 is outside the range of "
     "commoditization.max_markup: 0 – 20 ratio"),
    ("parameters:\n  firms.opneai.cash_musd: {values: [1, 2]}\n",
     ":4: parameters.firms.opneai.cash_musd: no entry with id 'opneai' in firms "
     "(did you mean 'openai'?)"),
    ("parameters:\n  firms.openai.licence_gap_points: {values: [1, 2]}\n",
     ":4: parameters.firms.openai.licence_gap_points: 'licence_gap_points' applies to "
     "bigtech firms only, and openai is a lab"),
    ("parameters:\n  firms.openai.name: {values: [1, 2]}\n",
     ":4: parameters.firms.openai.name: 'name' is not a numeric parameter"),
    ("parameters:\n  months: {values: [12, 24]}\n",
     ":4: parameters.months: months is set for the whole experiment"),
    ("parameters:\n  first_mover.switching_cost_utils: {rnage: [1, 2]}\n",
     ":4: parameters.first_mover.switching_cost_utils.rnage: unknown key 'rnage' "
     "(did you mean 'range'?)"),
    ("paramters:\n  first_mover.switching_cost_utils: {values: [1, 2]}\n",
     ":3: paramters: unknown key 'paramters' (did you mean 'parameters'?)"),
    ("design: sobl\nparameters:\n  first_mover.switching_cost_utils: {range: [1, 2]}\n",
     ":3: design: Input should be 'grid', 'latin_hypercube', 'sobol' or 'morris'"),
    ("design: sobol\nsamples: 10\nparameters:\n  first_mover.switching_cost_utils: "
     "{range: [1, 2]}\n", ":4: samples: a sobol design needs a power of 2"),
    ("design: morris\nparameters:\n  first_mover.switching_cost_utils: {range: [1, 2]}\n",
     ":3: design: a morris design needs samples"),
    ("design: latin_hypercube\nsamples: 8\nparameters:\n  first_mover.switching_cost_utils: "
     "{values: [1, 2]}\n", "a latin_hypercube design samples a range"),
    ("parameters:\n  first_mover.switching_cost_utils: {range: [1, 2]}\n",
     "a grid over a range needs points"),
    ("parameters:\n  first_mover.switching_cost_utils: {range: [3, 2], points: 2}\n",
     "range must be [low, high] with low < high"),
    ("parameters:\n  first_mover.switching_cost_utils: {values: [1, true]}\n",
     "is a number (utils); got True"),
    ("parameters:\n  firms.microsoft.license_stopgap: {values: [1, 2]}\n",
     "is a yes/no flag"),
    ("parameters:\n  technology.training_run_months: {values: [6, 7.5]}\n",
     "is a whole number (months); got 7.5"),
    ("parameters:\n  first_mover.switching_cost_utils: {values: [1, 2]}\nmetrics:\n"
     "  final: [hhi, opne_share]\n",
     ":6: metrics.final: unknown metric 'opne_share' (did you mean 'open_share'?)"),
    ("parameters:\n  first_mover.switching_cost_utils: {values: [1, 2]}\nmetrics:\n"
     "  timeseries: [P1]\n", "unknown metric 'P1' (it is a final value only)"),
    ("parameters:\n  first_mover.switching_cost_utils: {values: [1, 2]}\noverrides:\n"
     "  first_mover.brand_initial_utils: 100\n",
     ":6: overrides.first_mover.brand_initial_utils: Input should be less than or equal to 50"),
])
def test_bad_experiments_give_one_line_with_file_line_and_path(tmp_path, text, expected):
    assert expected in error_of(tmp_path, text)


def test_missing_scenario_and_unreadable_file(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("description: x\nscenario: nothere.yaml\nparameters:\n"
                    "  first_mover.switching_cost_utils: {values: [1]}\n")
    with pytest.raises(ScenarioError, match=r"exp.yaml:2: scenario: scenario file not found"):
        load_experiment(path)
    with pytest.raises(ScenarioError, match="file not found"):
        load_experiment(tmp_path / "absent.yaml")
    path.write_text("- a list\n")
    with pytest.raises(ScenarioError, match="an experiment must be a mapping"):
        load_experiment(path)


def test_grid_is_the_cartesian_product_in_declared_order(tmp_path):
    loaded = load_experiment(write(tmp_path, (
        "replicates: 3\nseed: 10\nparameters:\n"
        "  first_mover.switching_cost_utils: {values: [0.5, 4]}\n"
        "  first_mover.brand_half_life_months: {range: [3, 48], points: 3, scale: log}\n"
        "  technology.training_run_months: {range: [6, 12], points: 3}\n")))
    design = build_design(loaded)
    assert len(design.points) == 2 * 3 * 3 == loaded.point_count()
    assert design.points["first_mover.switching_cost_utils"].tolist()[:9] == [0.5] * 9
    assert design.points["first_mover.brand_half_life_months"].unique().tolist() == \
        [3.0, 12.0, 48.0]
    assert design.points["technology.training_run_months"].dtype == np.int64
    assert design.points["technology.training_run_months"].unique().tolist() == [6, 9, 12]
    specs = list(runs(loaded, design))
    assert [s.run_id for s in specs] == list(range(54))
    assert [(s.point, s.replicate, s.seed) for s in specs[:4]] == \
        [(0, 0, 10), (0, 1, 11), (0, 2, 12), (1, 0, 10)]
    assert [s.run_id for s in runs(loaded, design, skip={0, 1, 2, 5})][:3] == [3, 4, 6]


@pytest.mark.parametrize(("design", "samples", "points"), [
    ("latin_hypercube", 20, 20), ("sobol", 8, 8 * (3 + 2)), ("morris", 5, 5 * (3 + 1))])
def test_sampled_designs_stay_in_range_and_repeat(tmp_path, design, samples, points):
    text = (f"design: {design}\nsamples: {samples}\nseed: 3\nparameters:\n"
            "  first_mover.switching_cost_utils: {range: [0.5, 4]}\n"
            "  first_mover.brand_half_life_months: {range: [3, 48], scale: log}\n"
            "  technology.training_run_months: {range: [6, 12]}\n")
    loaded = load_experiment(write(tmp_path, text))
    first, again = build_design(loaded), build_design(load_experiment(write(tmp_path, text)))
    assert len(first.points) == points == loaded.point_count()
    assert first.points.equals(again.points)
    assert first.points["first_mover.switching_cost_utils"].between(0.5, 4).all()
    assert first.points["first_mover.brand_half_life_months"].between(3, 48).all()
    assert first.points["technology.training_run_months"].isin(range(6, 13)).all()
    assert first.samples.shape == (points, 3)
    # log scale: the sample lives in log10 space
    assert np.allclose(10 ** first.samples[:, 1],
                       first.points["first_mover.brand_half_life_months"])
    other = build_design(load_experiment(write(tmp_path, text.replace("seed: 3", "seed: 4"))))
    assert not first.points.equals(other.points)


def test_labels_and_units_for_people():
    assert default_label("first_mover.switching_cost_utils") == "switching cost"
    assert default_label("firms.openai.cash_musd") == "openai cash"
    assert default_label("cohorts.power_users.price_weight_per_usd") == \
        "power users price weight"
    assert default_label("funding.round_success_probability") == "round success probability"
    assert format_value(0.4146, "share") == "41%"
    assert format_value(0.042, "share") == "4.2%"
    assert format_value(0.08, "1/month") == "8%/month"
    assert format_value(215649.4, "USD millions/month") == "$216 B/month"
    assert format_value(500, "USD millions") == "$500 M"
    assert format_value(0.1004, "USD/user-month") == "$0.10/user-month"
    assert format_value(4.665e9, "users") == "4.67 B users"
    assert format_value(-2.2012, "quality points") == "−2.2 points"
    assert format_value(12345.678, "months") == "12,346 months"
    assert format_value(float("nan"), "share") == "–"
    assert format_value(True, "flag") == "yes"


def test_sobol_problem_counts():
    assert sensitivity.points_for("sobol", 4, 32) == 192
    assert sensitivity.points_for("sobol", 4, 32, second_order=True) == 320
    assert sensitivity.points_for("morris", 8, 10) == 90
    assert sensitivity.is_power_of_two(64) and not sensitivity.is_power_of_two(48)


def test_cli_rejects_a_bad_experiment_in_one_line_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, "parameters:\n  first_mover.switching_cost_utils: {values: [1, 99]}\n")
    out = tmp_path / "out"
    done = moatsim("sweep", path, "--out", out)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "exp.yaml:4: parameters.first_mover.switching_cost_utils.values: 99 is outside" \
        in done.stderr
    assert not out.exists()
    good = write(tmp_path, "parameters:\n  first_mover.switching_cost_utils: {values: [1]}\n",
                 name="good.yaml")
    for args, message in (
            (["sweep", good, "--out", out, "--workers", "0"], "expected a number ≥ 1"),
            (["sweep", good, "--out", out, "--scheduler", "localhost"],
             "expected a scheduler address"),
            (["report", tmp_path / "nothing-here"], "no such folder"),
            (["report", tmp_path], "not a sweep folder"),
    ):
        assert main([str(a) for a in args]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1, error
        assert not out.exists()
