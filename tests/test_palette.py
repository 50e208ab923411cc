"""One palette (issue 16, point 6): every firm the same colour on the page, in run figures and
in reports; labs told apart from each other; scenario colours that no firm uses.

Distances are CIE76 ΔE in CIELAB (D65): about 2.3 is the smallest difference people notice
side by side, and above about 20 two colours read as different colours, not shades.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure

from moatsim import run_scenario
from moatsim.experiments import compare_outputs, figures
from moatsim.experiments.compare import compare
from moatsim.loading import load_scenario
from moatsim.palette import (
    EXITED,
    FIRM_COLOURS,
    OTHER,
    SCENARIO_COLOURS,
    SPARE,
    firm_colours,
    scenario_colours,
)
from moatsim.viz.colours import model_colours
from moatsim.viz.vizmodel import VizModel
from tests.conftest import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
BIGTECH = {"microsoft", "google", "meta", "amazon"}


def _lab(colour: str) -> np.ndarray:
    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str) -> float:
    return float(np.linalg.norm(_lab(a) - _lab(b)))


def _closest(pairs) -> float:
    return min(delta_e(a, b) for a, b in pairs)


def test_the_colour_difference_is_measured_right():
    assert delta_e("#ffffff", "#000000") == pytest.approx(100.0, abs=0.01)
    assert delta_e("#ff0000", "#ff0000") == 0.0
    assert _lab("#ff0000") == pytest.approx([53.24, 80.09, 67.20], abs=0.05)  # sRGB red


def test_every_firm_of_the_library_has_its_own_fixed_colour():
    firms = {firm.id for path in SCENARIOS for firm in load_scenario(path).firms}
    assert firms <= set(FIRM_COLOURS), f"no fixed colour for {sorted(firms - set(FIRM_COLOURS))}"
    assert len(set(FIRM_COLOURS.values())) == len(FIRM_COLOURS)


def test_sellers_read_as_different_colours_not_shades_of_one():
    sellers = [colour for firm, colour in FIRM_COLOURS.items() if firm not in BIGTECH]
    assert _closest(itertools.combinations(sellers, 2)) >= 20
    assert _closest(itertools.combinations(FIRM_COLOURS.values(), 2)) >= 20
    labs = [FIRM_COLOURS[f] for f in ("openai", "anthropic", "google_deepmind", "meta_ai",
                                      "mistral", "midjourney", "stability", "runway")]
    hues = {round(np.degrees(np.arctan2(*_lab(c)[[2, 1]])) / 60) % 6 for c in labs}
    assert len(hues) >= 5, "the labs span the colour wheel, not one family"


def test_spare_and_scenario_colours_keep_their_distance():
    fixed = list(FIRM_COLOURS.values())
    assert _closest(itertools.product(SPARE, fixed)) >= 15
    assert _closest(itertools.combinations(SPARE, 2)) >= 20
    assert not set(SCENARIO_COLOURS) & (set(fixed) | set(SPARE))
    assert _closest(itertools.product(SCENARIO_COLOURS, fixed)) >= 20
    assert _closest(itertools.product(SCENARIO_COLOURS, SPARE)) >= 14
    assert _closest(itertools.combinations(SCENARIO_COLOURS, 2)) >= 25
    assert _closest(itertools.product([OTHER, EXITED], fixed + list(SPARE))) >= 15


def test_unknown_firms_take_free_spares_in_order_and_cycle_only_when_all_are_used():
    colours = firm_colours([("openai", "lab"), ("new_lab", "lab"), ("new_app", "app")])
    assert colours == {"openai": FIRM_COLOURS["openai"], "new_lab": SPARE[0],
                       "new_app": SPARE[1]}
    assert firm_colours(["x", "openai"]) == {"x": SPARE[0], "openai": FIRM_COLOURS["openai"]}
    many = firm_colours([f"firm_{i}" for i in range(len(SPARE) + 3)])
    values = list(many.values())
    assert len(set(values[:len(SPARE)])) == len(SPARE)
    assert values[len(SPARE):] == values[:3]
    assert list(scenario_colours(["b", "a", "b"])) == ["b", "a"]
    assert scenario_colours(["b", "a"]) == {"b": SCENARIO_COLOURS[0], "a": SCENARIO_COLOURS[1]}


def test_the_page_and_the_run_figures_give_a_firm_the_same_colour(monkeypatch, tmp_path):
    page = model_colours(VizModel(scenario_file="baseline", seed="1"))
    other_page = model_colours(VizModel(scenario_file="first_mover_moat", seed="9"))
    shared = set(page) & set(other_page)
    assert {"entrant_1", "app_entrant_1", "openai"} <= shared
    assert all(page[f] == other_page[f] for f in shared)
    assert len(set(page.values())) == len(page)

    drawn: dict[str, Figure] = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.stem, fig))
    result = run_scenario(ROOT / "scenarios" / "baseline.yaml", seed=1, months=12)
    figures.write_figures(result, tmp_path)  # _save only collects the figures
    lines = {line.get_label(): to_hex(line.get_color()) for line in drawn["quality"].axes[0].lines}
    assert lines["openai"] == page["openai"] and lines["anthropic"] == page["anthropic"]
    assert all(colour == page[firm] for firm, colour in lines.items())
    bands = drawn["shares"].axes[0].collections
    legend = [text.get_text() for text in drawn["shares"].axes[0].get_legend().get_texts()]
    assert [to_hex(band.get_facecolor()[0]) for band in bands] == [page[f] for f in legend]


def test_compare_draws_scenarios_in_scenario_colours(monkeypatch, tmp_path):
    paths = [ROOT / "scenarios" / "no_moat.yaml", ROOT / "scenarios" / "first_mover_moat.yaml"]
    result = compare(paths, replicates=2, months=6, workers=1)
    saved: list[Figure] = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: saved.append(self))
    compare_outputs._series_figure(result, tmp_path / "series.png")
    lines = {line.get_label(): to_hex(line.get_color()) for line in saved[0].axes[0].lines}
    assert lines == {"no_moat": SCENARIO_COLOURS[0], "first_mover_moat": SCENARIO_COLOURS[1]}
