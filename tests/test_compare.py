"""The scenario library and `moatsim compare`: every scenario runs, outputs have the promised
columns, results do not depend on the worker count, and the paired test tells noise from
real differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from moatsim import load_scenario, run_scenario
from moatsim.experiments.compare import compare, holm, paired_p_value
from tests.conftest import ROOT, moatsim

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
LIBRARY = {"no_moat", "first_mover_moat", "scaling_returns_back", "post_training_era",
           "proxy_war_escalates", "funding_drought", "meta_stays_closed",
           "meta_licenses_rivals", "open_source_licence_strict"}


def test_the_library_has_the_articles_what_ifs():
    names = {path.stem for path in SCENARIOS}
    assert LIBRARY <= names and len(names - {"baseline"}) >= 8


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_validates_runs_and_explains_itself(path):
    config = load_scenario(path)
    assert config.description and "\n" not in config.description
    if path.stem != "baseline":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert raw["extends"] == "baseline.yaml"
        header = [line for line in path.read_text(encoding="utf-8").splitlines()
                  if line.startswith("#")]
        text = " ".join(header)
        assert len(header) >= 4, "a paragraph in the header comment"
        assert any(f"{kind}{n}" in text for kind in "CFM" for n in range(1, 30)), \
            "the header names the fact ids it tests"
    result = run_scenario(path, seed=1, months=4)
    assert len(result.model) == 5


@pytest.fixture(scope="module")
def small_comparison():
    paths = [ROOT / "scenarios" / "first_mover_moat.yaml", ROOT / "scenarios" / "no_moat.yaml"]
    return compare(paths, replicates=8, months=36, workers=2)


def test_strong_difference_is_marked_significant(small_comparison):
    table = small_comparison.table
    row = table[(table.scenario == "no_moat") & (table.metric == "first_mover_share")].iloc[0]
    assert row["diff_vs_first"] < -0.25 and row["significant"]
    first = table[(table.scenario == "first_mover_moat") & (table.metric == "first_mover_share")]
    assert not first["significant"].iloc[0] and pd.isna(first["p_value"].iloc[0])


def test_results_do_not_depend_on_the_number_of_workers(small_comparison):
    paths = [ROOT / "scenarios" / "first_mover_moat.yaml", ROOT / "scenarios" / "no_moat.yaml"]
    serial = compare(paths, replicates=8, months=36, workers=1)
    pd.testing.assert_frame_equal(serial.runs, small_comparison.runs)
    pd.testing.assert_frame_equal(serial.table, small_comparison.table)


def test_a_difference_the_outcome_cannot_depend_on_is_not_significant(tmp_path):
    twin = tmp_path / "amazon_pays_staff.yaml"
    twin.write_text(
        "# twin of the baseline: Amazon's own staff costs, which no decision in the market uses\n"
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
        "description: baseline with Amazon paying $1M a month of staff\n"
        "firms:\n  - id: amazon\n    staff_cost_musd_month: 1\n"
        "    sources: {staff_cost_musd_month: 'assumption: irrelevant by design'}\n",
        encoding="utf-8")
    result = compare([ROOT / "scenarios" / "baseline.yaml", twin], replicates=3, months=24,
                     workers=2)
    twin_rows = result.table[result.table.scenario == "amazon_pays_staff"]
    assert not twin_rows["significant"].any()
    assert (twin_rows["diff_vs_first"].abs() < 1e-12).all()


def test_paired_test_and_holm():
    assert paired_p_value([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0
    assert paired_p_value([2.0, 3.0, 4.0], [1.0, 2.0, 3.0]) == 0.0  # same shift every seed
    noisy = paired_p_value([1.0, 2.1, 2.9, 4.2], [1.1, 1.9, 3.1, 3.9])
    assert 0.2 < noisy < 1.0
    assert list(holm(pd.Series([0.01, 0.04, 0.03]).to_numpy())) == pytest.approx([0.03, 0.06,
                                                                                 0.06])


def test_compare_command_writes_the_promised_files(tmp_path):
    out = tmp_path / "cmp"
    done = moatsim("compare", ROOT / "scenarios" / "baseline.yaml",
                   ROOT / "scenarios" / "meta_stays_closed.yaml", "--replicates", "3",
                   "--months", "12", "--workers", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert {"scenario", "metric", "mean", "std", "p5", "p95", "diff_vs_first", "p_value",
            "significant"} <= set(table.columns)
    assert set(table.scenario) == {"baseline", "meta_stays_closed"}
    assert {"first_mover_share", "hhi", "open_share", "quality_gap", "app_layer_margin_share",
            "exits", "patterns_held", "share_lab", "share_app",
            "share_open_source"} <= set(table.metric)
    assert any(m.startswith("first_mover_share.") for m in table.metric)
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 6 and sorted(runs.seed.unique()) == [1, 2, 3]
    markdown = (out / "comparison.md").read_text(encoding="utf-8")
    assert "| meta_stays_closed |" in markdown and "Patterns held" in markdown
    for name in ("over_time.png", "final_outcomes.png"):
        assert (out / "figures" / name).stat().st_size > 20_000
    assert "meta_stays_closed" in done.stdout


def test_compare_rejects_a_bad_scenario_without_writing(tmp_path):
    out = tmp_path / "cmp"
    done = moatsim("compare", ROOT / "scenarios" / "baseline.yaml", tmp_path / "nope.yaml",
                   "--out", out)
    assert done.returncode == 2 and "nope.yaml" in done.stderr and not out.exists()
    assert len(done.stderr.strip().splitlines()) == 1


def test_holm_agrees_with_statsmodels():
    """moatsim's ten-line Holm step-down equals statsmodels' (installed with the test extra
    through EMA Workbench) on p-values with ties, zeros and ones."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(11)
    for size in (1, 2, 5, 13, 40):
        for _ in range(50):
            p = rng.choice([0.0, 0.001, 0.01, 0.04, 0.05, 0.2, 1.0], size=size) \
                if rng.random() < 0.3 else rng.random(size)
            expected = multipletests(p, method="holm")[1]
            assert holm(p) == pytest.approx(expected, abs=1e-12), p


def test_the_comparison_opens_with_its_clearest_differences_in_words():
    """The summary names a scenario's significant differences with their 95% interval, in
    the units the report uses (percentage points for shares), and says when there are none."""
    from moatsim.experiments.compare import Comparison, summarize
    from moatsim.experiments.compare_outputs import render_markdown, summary_lines

    seeds = range(1, 9)
    noise = [0.01, -0.02, 0.015, 0.0, -0.01, 0.02, -0.005, -0.01]  # mean 0
    runs = pd.DataFrame(
        [{"scenario": "base", "seed": s, "open_share": 0.30 + e, "hhi": 0.2 + e}
         for s, e in zip(seeds, noise)]
        + [{"scenario": "open", "seed": s, "open_share": 0.42 + e + e2, "hhi": 0.2 + e}
           for s, e, e2 in zip(seeds, noise, noise[::-1])]
        + [{"scenario": "twin", "seed": s, "open_share": 0.30 + e, "hhi": 0.2 + e}
           for s, e in zip(seeds, noise)])
    table = summarize(runs, ["base", "open", "twin"])
    row = table[(table.scenario == "open") & (table.metric == "open_share")].iloc[0]
    assert row.diff_vs_first == pytest.approx(0.12)
    assert row.diff_low < row.diff_vs_first < row.diff_high
    assert row.diff_high - row.diff_low < 0.04
    comparison = Comparison(runs=runs, table=table, series=pd.DataFrame(),
                            scenarios=["base", "open", "twin"])
    open_line, twin_line = summary_lines(comparison)
    assert "share of users on open models +12.0 points (95% interval +" in open_line
    assert "HHI" not in open_line  # the same in both scenarios: not named
    assert "does not differ from base beyond the seed noise" in twin_line
    markdown = render_markdown(comparison)
    assert markdown.index("## Summary") < markdown.index("## Market structure")
    assert "42% ± " in markdown and "30% ± " in markdown
