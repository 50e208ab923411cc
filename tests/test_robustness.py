"""``moatsim robustness``: which assumed parameters it changes, how, and what it reports."""

from __future__ import annotations

import pandas as pd
import pytest

from moatsim.experiments.robustness import Assumed, Robustness, assumption_parameters, plan
from moatsim.loading import load_scenario
from tests.conftest import BASELINE, moatsim

ASSUMED = {a.path: a for a in assumption_parameters(load_scenario(BASELINE))}


def test_assumed_parameters_are_those_whose_source_is_an_assumption():
    # schema defaults sourced as assumptions, and values the scenario cites as assumptions
    assert "first_mover.brand_half_life_months" in ASSUMED
    assert "funding.round_success_probability" in ASSUMED
    assert "firms.openai.cash_musd" in ASSUMED
    assert "cohorts.power_users.share" in ASSUMED
    # facts and outside references stay fixed; flags, switches and the run length are not
    assert "segments.coding.potential_users" not in ASSUMED  # Evans Data 2023
    assert "firms.openai.quality" not in ASSUMED  # GPT-4 technical report
    assert "months" not in ASSUMED
    assert not any(path.startswith("mechanisms.") for path in ASSUMED)
    for item in ASSUMED.values():
        assert "assumption" in item.source


def test_scaled_values_stay_in_the_allowed_range():
    share = Assumed("x", 0.8, "assumption", 0.0, 1.0, integer=False)
    assert share.scaled(2.0) == 1.0 and share.scaled(0.5) == 0.4
    months = Assumed("y", 9, "assumption", 1, 60, integer=True)
    assert months.scaled(0.5) == 4 and isinstance(months.scaled(0.5), int)


def test_plan_skips_changes_the_scenario_rules_reject():
    changes = plan(BASELINE, parameters=["cohorts.power_users.share", "first_mover.brand_*"])
    assert set(changes.changes) == {"first_mover.brand_initial_utils×0.5",
                                    "first_mover.brand_initial_utils×2",
                                    "first_mover.brand_half_life_months×0.5",
                                    "first_mover.brand_half_life_months×2"}
    reasons = {(s["parameter"], s["factor"]): s["reason"] for s in changes.skipped}
    assert "cohort shares must sum to 1" in reasons[("cohorts.power_users.share", 2.0)]
    assert changes.arms[0] == ("scenario", {})


def test_fragile_names_parameters_whose_change_breaks_a_held_check():
    table = pd.DataFrame([
        {"parameter": "a", "factor": 0.5, "check": "P7", "held_in_scenario": True,
         "survives": False},
        {"parameter": "a", "factor": 2.0, "check": "P7", "held_in_scenario": True,
         "survives": True},
        {"parameter": "b", "factor": 2.0, "check": "P1", "held_in_scenario": False,
         "survives": True},
    ])
    fragile = Robustness(table, pd.DataFrame(), pd.DataFrame()).fragile()
    assert fragile.to_dict("records") == [{"parameter": "a", "changes": "×0.5", "checks": "P7"}]


@pytest.mark.parametrize("bad", [["nothing.matches*"]])
def test_robustness_command_refuses_globs_that_match_nothing(tmp_path, bad):
    done = moatsim("robustness", "scenarios/baseline.yaml", "--parameters", *bad,
                   "--out", tmp_path / "r")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "matches no assumed parameter" in done.stderr
    assert not (tmp_path / "r").exists()


def test_robustness_command_writes_its_table_and_figure(tmp_path):
    out = tmp_path / "robust"
    done = moatsim("robustness", "scenarios/baseline.yaml", "--replicates", "1",
                   "--months", "33", "--parameters", "first_mover.brand_half_life_months",
                   "--workers", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "robustness.csv")
    assert set(table["factor"]) == {0.5, 2.0}
    assert set(table["value"]) == {6.0, 24.0}
    assert {"P1", "P7", "H22"} <= set(table["check"])
    assert table["share"].between(0, 1).all()
    assert (out / "figures" / "robustness.png").stat().st_size > 5000
    assert "# Robustness of baseline" in (out / "robustness.md").read_text(encoding="utf-8")
    replicates = pd.read_csv(out / "replicates.csv")
    assert set(replicates["arm"]) == {"scenario", "first_mover.brand_half_life_months×0.5",
                                      "first_mover.brand_half_life_months×2"}
