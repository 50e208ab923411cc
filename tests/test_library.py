"""Bundled inputs found by name (issue 15, point 2): ``moatsim run baseline`` and
``AIMarketModel("baseline")`` from any folder, the user's ``./scenarios/`` first, a clear
error naming the bundled files otherwise, and ``moatsim docs`` writing only where it may."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moatsim import library
from moatsim.loading import ScenarioError, load_scenario
from tests.conftest import ROOT, moatsim

MINE = ('description: "a user\'s scenario (C5)"\nextends: baseline\nmonths: 7\n'
        "first_mover:\n  switching_cost_utils: 0.5\n")


def test_the_bundled_folders_are_the_checkouts_inputs():
    for kind in ("scenarios", "experiments", "calibrations", "seeds"):
        assert library.folder(kind) == (ROOT / kind).resolve()
    assert set(library.bundled("scenarios")) == {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert library.checkout() == ROOT


def test_a_name_finds_the_users_file_before_the_bundled_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert library.find("scenarios", "baseline") == library.folder("scenarios") / "baseline.yaml"
    assert library.find("scenarios", "no_moat.yaml").parent == library.folder("scenarios")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "baseline.yaml").write_text(MINE, encoding="utf-8")
    assert library.find("scenarios", "baseline") == Path("scenarios") / "baseline.yaml"
    assert load_scenario("baseline").months == 7  # the user's copy runs
    # a path is a path: never looked up by name
    assert library.find("scenarios", "elsewhere/baseline.yaml") == Path("elsewhere/baseline.yaml")
    with pytest.raises(ScenarioError, match="elsewhere/baseline.yaml: file not found$"):
        load_scenario("elsewhere/baseline.yaml")


def test_an_unknown_name_is_one_line_naming_the_bundled_files(tmp_path):
    done = moatsim("run", "baseline_typo", "--months", "2", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("moatsim: error: baseline_typo: file not found (not a file "
                                  "here, in ./scenarios/ or among the bundled scenarios: ")
    assert "baseline, baseline_calibrated," in done.stderr
    assert list(tmp_path.iterdir()) == []
    sweep = moatsim("sweep", "fundng", cwd=tmp_path)
    assert sweep.returncode == 2 and "bundled experiments: commoditization, first_mover, " \
        "funding, screening)" in sweep.stderr


def test_a_users_scenario_extends_a_bundled_one_by_name_and_runs_by_name(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "mine.yaml").write_text(MINE, encoding="utf-8")
    listing = moatsim("list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == f"bundled with moatsim ({library.folder('scenarios')}):"
    heading = lines.index("yours, in ./scenarios/ (used first when a name is in both):")
    assert [line.split()[0] for line in lines[heading + 1:]] == ["mine"]
    done = moatsim("run", "mine", "--quiet", "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "model.csv").read_text().count("\n") == 1 + 8  # months 0…7


def test_bundled_experiments_and_calibrations_load_by_name(tmp_path, monkeypatch):
    from moatsim.experiments.calibration import load_calibration
    from moatsim.experiments.design import load_experiment

    monkeypatch.chdir(tmp_path)
    loaded = load_experiment("funding")
    assert loaded.name == "funding" and loaded.file == str(library.folder("experiments") /
                                                           "funding.yaml")
    assert loaded.scenario_file.resolve() == library.folder("scenarios") / "baseline.yaml"
    assert load_calibration("baseline").base.name == "baseline"


def test_docs_writes_only_its_own_file(tmp_path):
    mine = tmp_path / "notes.md"
    mine.write_text("my notes\n", encoding="utf-8")
    refused = moatsim("docs", "--out", mine, cwd=tmp_path)
    assert refused.returncode == 2 and "is not a parameters document" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "my notes\n"
    target = tmp_path / "params.md"
    assert moatsim("docs", "--out", target, cwd=tmp_path).returncode == 0
    assert moatsim("docs", "--out", target, cwd=tmp_path).returncode == 0  # its own: replaced
    assert moatsim("docs", "--check", "--out", target, cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md", "params.md"]


def test_a_closed_pipe_ends_the_command_quietly():
    reader = subprocess.Popen([sys.executable, "-m", "moatsim", "list"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # like `moatsim list | head -0`
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=300) == 141, stderr
    assert stderr == ""
