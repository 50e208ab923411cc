"""Sweep reports: one self-contained HTML file, Markdown with PNGs, SALib indices."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moatsim.cli import main
from moatsim.experiments.report import write_report
from moatsim.experiments.sweep import run_sweep
from tests.conftest import BASELINE

GRID = f"""\
description: switching costs against the potential chat market
scenario: {BASELINE}
replicates: 2
months: 12
parameters:
  first_mover.switching_cost_utils: {{values: [0.5, 4], label: switching cost}}
  segments.consumer_chat.potential_users: {{values: [3.0e+9, 1]}}
metrics:
  final: [first_mover_share, hhi, consumer_surplus_musd, exits, P1]
  timeseries: [first_mover_share]
"""

SAMPLED = f"""\
description: a {{design}} design over two first-mover parameters
scenario: {BASELINE}
design: {{design}}
samples: {{samples}}
months: 6
parameters:
  first_mover.switching_cost_utils: {{{{range: [0, 8], label: switching cost}}}}
  first_mover.brand_half_life_months: {{{{range: [3, 48], scale: log}}}}
metrics:
  final: [first_mover_share, hhi, open_share, P1]
"""


def sweep(tmp_path: Path, name: str, text: str) -> Path:
    experiment = tmp_path / f"{name}.yaml"
    experiment.write_text(text, encoding="utf-8")
    out = tmp_path / name
    run_sweep(experiment, out, workers=1)
    return out


def check_self_contained(out: Path) -> str:
    page = (out / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    for source in sources:
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # outside the embedded images (whose base64 may spell anything, "http" included)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "<link" not in text and "<script" not in text and "http" not in text
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(sources) == len(pngs)
    markdown = (out / "report.md").read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert sorted(out / link for link in linked) == pngs
    # numbers for people: no long raw floats, no scientific notation (error messages of
    # failed runs are quoted as they are)
    ours = markdown.split("## Failed runs")[0]
    assert not re.search(r"\d\.\d{5,}|\de[+-]\d", ours), ours
    return markdown


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return sweep(tmp_path_factory.mktemp("report"), "grid", GRID)


def test_grid_report_with_heat_map_time_series_and_failures(grid, capsys):
    out = grid
    assert main(["report", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    markdown = check_self_contained(out)
    names = {p.name for p in (out / "figures").glob("*.png")}
    assert names == {"response-1-switching-cost.png",
                     "response-2-consumer-chat-potential-users.png",
                     "heatmap-switching-cost-consumer-chat-potential-users.png",
                     "timeseries-first-mover-share.png"}
    for heading in ("## Set-up", "### Varied parameters", "## Results at a glance",
                    "## Responses", "## Heat maps", "## Over time", "## Failed runs",
                    "## Reproduce"):
        assert heading in markdown
    assert "| Runs | 8: 4 finished, 4 failed |" in markdown
    assert "switching cost (`first_mover.switching_cost_utils`) | utils | 1 utils | 0.5, 4 |" \
        in markdown
    assert "first mover's share of adopters" in markdown and "%" in markdown
    assert "initial users of all firms" in markdown  # the failures' error
    assert not (out / "sensitivity.csv").exists()


def test_incomplete_sweep_is_reported_as_such(grid, tmp_path):
    out = tmp_path / "partial"
    shutil.copytree(grid, out)
    next((out / "results").glob("run-*.parquet")).unlink()
    write_report(out)
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "3 finished, 4 failed, 1 not run yet" in markdown
    assert "The sweep is incomplete" in markdown


@pytest.mark.parametrize(("design", "samples", "indices"), [
    ("sobol", 4, {"S1", "ST"}), ("morris", 3, {"mu_star", "sigma"})])
def test_sensitivity_indices_with_confidence_intervals(tmp_path, design, samples, indices):
    out = sweep(tmp_path, design, SAMPLED.format(design=design, samples=samples))
    files = write_report(out)
    markdown = check_self_contained(out)
    assert "## Sensitivity" in markdown and "## Heat maps" not in markdown
    assert (out / "figures" / "sensitivity.png").exists()
    table = pd.read_csv(files.sensitivity)
    assert set(table["index"]) == indices
    assert set(table["parameter"]) == {"first_mover.switching_cost_utils",
                                       "first_mover.brand_half_life_months"}
    assert set(table["metric"]) <= {"first_mover_share", "hhi", "open_share", "P1"}
    assert np.isfinite(table["value"]).all()
    main_index = "S1" if design == "sobol" else "mu_star"
    assert np.isfinite(table.loc[table["index"] == main_index, "conf"]).all()
    header = "S1 ± 95% CI | ST ± 95% CI" if design == "sobol" else "μ* ± 95% CI | σ"
    assert header in markdown


def test_importing_the_output_modules_chooses_no_matplotlib_backend():
    """A notebook's inline backend survives importing moatsim's figure code (issue 15)."""
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('svg'); "
            "import moatsim.experiments.report, moatsim.experiments.figures, "
            "moatsim.experiments.compare_outputs, moatsim.experiments.calibration_outputs, "
            "moatsim.experiments.robustness; "
            "import sys; assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "svg"


def test_salib_inputs_average_replicates_per_design_point(tmp_path):
    from SALib.analyze import sobol

    from moatsim.experiments.report import salib_inputs

    text = SAMPLED.format(design="sobol", samples=4).replace("months: 6",
                                                             "months: 6\nreplicates: 2")
    out = sweep(tmp_path, "sobol2", text)
    problem, x, y = salib_inputs(out, "hhi")
    results = pd.read_parquet(out / "results")
    assert len(results) == 2 * len(y) == 2 * len(x) == 32  # 16 points × 2 replicates
    means = results.groupby("point")["hhi"].mean().sort_index().to_numpy()
    np.testing.assert_allclose(y, means)
    assert problem["names"] == ["first_mover.switching_cost_utils",
                                "first_mover.brand_half_life_months"]
    assert problem["bounds"][1] == pytest.approx([np.log10(3), np.log10(48)])
    indices = sobol.analyze(problem, y, calc_second_order=False, print_to_console=False,
                            seed=1)
    table = pd.read_csv(write_report(out).sensitivity)
    s1 = table[(table["metric"] == "hhi") & (table["index"] == "S1")]["value"].to_numpy()
    np.testing.assert_allclose(indices["S1"], s1)


# ---------------------------------------------------------------- the report in words


def _synthetic(seed: int = 0, runs_per_cell: int = 6) -> pd.DataFrame:
    """A 4 × 4 grid with seed noise: ``strong`` moves y by 0.1 per step, ``idle`` does
    nothing; ``z`` is pure noise; ``flag`` holds when strong ≥ 2."""
    rng = np.random.default_rng(seed)
    rows = []
    for strong in range(4):
        for idle in range(4):
            for replicate in range(runs_per_cell):
                rows.append({"strong": float(strong), "idle": float(idle),
                             "y": 0.2 + 0.1 * strong + rng.normal(0, 0.02),
                             "z": rng.normal(0.5, 0.05), "flag": strong >= 2,
                             "seed": replicate})
    return pd.DataFrame(rows)


def test_the_largest_effect_is_found_and_noise_is_called_noise():
    from moatsim.experiments import sweepstats

    results = _synthetic()
    effect = sweepstats.largest_effect(results, ["idle", "strong"], "y", binned=False)
    assert effect.parameter == "strong" and (effect.x_from, effect.x_to) == (0.0, 3.0)
    assert effect.change == pytest.approx(0.3, abs=0.02) and effect.beyond_noise
    # 12 pairs of groups were compared (6 per parameter): the threshold is corrected for it
    assert effect.z == pytest.approx(sweepstats.critical_z(12)) and effect.z > 2.8
    falling = results.assign(y=-results["y"])
    assert sweepstats.largest_effect(falling, ["strong"], "y", False).change < -0.25
    # the largest of many differences in pure noise is not an effect, in most draws
    calls = [sweepstats.largest_effect(_synthetic(seed), ["idle", "strong"], "z",
                                       binned=False).beyond_noise for seed in range(40)]
    assert sum(calls) <= 4, calls
    one_run = _synthetic(runs_per_cell=1).groupby(["strong"]).head(1)
    assert not sweepstats.largest_effect(one_run, ["strong"], "y", False).beyond_noise


def test_a_yes_no_outcome_flips_where_the_data_say():
    from moatsim.experiments import sweepstats

    found = sweepstats.thresholds(_synthetic(), ["idle", "strong"], "flag", binned=False)
    assert len(found) == 1
    flip = found[0]
    assert flip.parameter == "strong" and (flip.before, flip.after) == (1.0, 2.0)
    assert flip.rising and (flip.share_before, flip.share_after) == (0.0, 1.0)
    never = _synthetic().assign(flag=False)
    assert sweepstats.thresholds(never, ["idle", "strong"], "flag", binned=False) == []


def test_heat_map_cells_within_noise_of_the_baseline_cell_are_flagged():
    from moatsim.experiments import sweepstats

    cells = sweepstats.heat_cells(_synthetic(), "strong", "idle", "y", base_column=1,
                                  base_row=2)
    assert cells.baseline == (2, 1)  # row = idle 2, column = strong 1
    within = cells.within_noise
    assert not within[2, 1]  # the baseline cell itself is not compared
    # the column with the baseline's value of ``strong`` is within noise (idle does nothing),
    # the other columns differ by ≥ 0.1 against a noise of 0.02/√6 per cell
    assert within[[0, 1, 3], 1].all() and not within[:, [0, 2, 3]].any()
    off_grid = sweepstats.heat_cells(_synthetic(), "strong", "idle", "y", 1.5, 2)
    assert off_grid.baseline is None and not off_grid.within_noise.any()


def test_level_axes_start_at_zero_and_others_do_not():
    from matplotlib.figure import Figure

    from moatsim.experiments.units import format_difference, start_at_zero

    for unit, lowest, bottom in (("share", 0.3, 0.0), ("USD millions/month", 5e4, 0.0),
                                 ("share", -0.1, None), ("quality points", 60.0, None)):
        ax = Figure().subplots()
        ax.plot([0, 1], [max(lowest, 0.3), 0.9] if unit == "share" else [lowest, lowest * 2])
        before = ax.get_ylim()[0]
        start_at_zero(ax, unit, lowest)
        assert ax.get_ylim()[0] == (bottom if bottom is not None else before), unit
    assert format_difference(0.053, "share") == "+5.3 points"
    assert format_difference(-0.0619, "index") == "−0.062"


GRID_ON_BASELINE = f"""\
description: switching cost against brand half-life, around the baseline
scenario: {BASELINE}
replicates: 3
months: 12
parameters:
  first_mover.switching_cost_utils: {{values: [0.5, 1, 8], label: switching cost}}
  first_mover.brand_half_life_months: {{values: [3, 12], label: brand half-life}}
metrics:
  final: [first_mover_share, hhi, open_share, P1]
"""


def test_report_opens_with_a_summary_and_marks_the_baseline_cell(tmp_path):
    out = sweep(tmp_path, "around", GRID_ON_BASELINE)
    write_report(out)
    markdown = check_self_contained(out)
    assert markdown.index("## Summary") < markdown.index("## Set-up")
    summary = markdown.split("## Summary", 1)[1].split("## Set-up", 1)[0]
    bullets = [line for line in summary.splitlines() if line.startswith("- ")]
    assert len(bullets) >= 4  # three key metrics and the yes/no outcome
    share = next(b for b in bullets if b.startswith("- **First mover's share"))
    assert re.search(r"changes most with \*\*(switching cost|brand half-life)\*\*: it "
                     r"(rises|falls) from \d+% at .* to \d+% at .* \([+−]\d+\.\d points ± "
                     r"\d+\.\d points, (beyond the noise|\*\*within the noise\*\*)", share), share
    assert "The outlined cell is the baseline (1 utils, 12 months)" in markdown
    assert re.search(r"≈ marks a cell within seed noise of it .*: \d+ of 15 cells", markdown)
    html_page = (out / "report.html").read_text(encoding="utf-8")
    assert html_page.count("<li>") >= len(bullets)
