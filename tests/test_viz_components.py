"""The browser page without a browser: its controls, its model, its charts and its wiring.

The page's panels are built and rendered in Python (Solara's test renderer stands in for the
browser), every slider is tried at its extremes in every scenario, and bad input must come
back as a message on the page. tests/test_viz_browser.py drives the same page in chromium.
"""

from __future__ import annotations

import io
import re
import select
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara

from moatsim.loading import load_scenario
from moatsim.params import param_meta
from moatsim.viz import app, controls, figures
from moatsim.viz.components import COMPONENTS
from moatsim.viz.events import describe, event_lines, money
from moatsim.viz.vizmodel import VizModel
from tests.conftest import ROOT, moatsim

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def _checked(fig: dict) -> dict:
    """A page figure, checked against plotly.js's schema (plotly's own validators raise on
    an unknown property or a bad value) and for what the page promises: every trace says
    what hovering it shows, no text under 11 px, and the month it shows in its meta."""
    import plotly.graph_objects as go

    go.Figure(fig)  # raises ValueError on anything plotly.js would not take
    for trace in fig["data"]:
        assert trace.get("hoverinfo") == "skip" or trace.get("hovertemplate"), trace
    assert fig["layout"]["meta"]["month"] >= 0
    sizes = _font_sizes(fig)
    assert sizes and min(sizes) >= figures.SMALL_PX, sizes
    return fig


def _font_sizes(node, inside_font: bool = False) -> list[float]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "size" and inside_font and isinstance(value, (int, float)):
                found.append(value)
            else:
                found += _font_sizes(value, inside_font or key in ("font", "textfont",
                                                                    "tickfont"))
    elif isinstance(node, list):
        for item in node:
            found += _font_sizes(item, inside_font)
    return found


def _render(model: VizModel, *, every_segment: bool = False) -> None:
    """Draw every panel of the page for this state of the model (as the page would)."""
    segments = model.segment_ids if every_segment else model.segment_ids[:1]
    for segment in segments:
        _checked(figures.market_map_figure(model, segment))
        _checked(figures.shares_figure(model, segment))
    for fig in (figures.shares_figure(model), figures.money_figure(model),
                figures.network_figure(model), figures.indicators_figure(model)):
        _checked(fig)
    head = figures.headline(model)
    assert head.date == model.date and set(head.leaders) == set(model.segment_ids)
    event_lines(model.events, minor=True)


# ---------------------------------------------------------------- controls


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_sliders_take_their_ranges_and_units_from_the_schema(path):
    config = load_scenario(path)
    params = controls.slider_params(config)
    assert {spec.family for spec in controls.SLIDERS} >= {"funding", "first_mover",
                                                         "commoditization"}
    for spec in controls.SLIDERS:
        slider = params[spec.flat]
        meta = param_meta(controls.field_of(spec.path))
        # validation bounds for the number box, the typical range for the slider
        assert slider["min"] == meta["ge"] and slider["max"] == meta["le"]
        assert slider["unit"] == meta["unit"] and slider["source"] == meta["source"]
        assert slider["scale"] == meta["scale"] and slider["label"] == spec.label
        low, high = slider["typical"]
        assert slider["min"] <= low <= slider["value"] <= high <= slider["max"]
        assert (low, high) == (min(meta["typical"][0], slider["value"]),
                               max(meta["typical"][1], slider["value"]))
        assert slider["value"] == controls.value_at(config, spec.path)
        steps = (slider["value"] - low) / slider["step"]
        assert abs(steps - round(steps)) < 1e-6, f"{spec.path} is off its slider's grid"
        assert (high - low) / slider["step"] >= 50
        assert spec.flat == spec.path.replace(".", "__")


def test_half_lives_slide_on_a_log_scale_over_their_typical_range():
    """Issue 16, point 3: brand half-life spans 1–240 months on a log scale, not 0.1–1200
    on a line (where the useful 3–48 months were the first 4 % of the track)."""
    from moatsim.viz.inputs import check_value, from_log_position, log_position, tooltip

    params = controls.slider_params(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    half_life = params["first_mover__brand_half_life_months"]
    assert half_life["scale"] == "log" and half_life["typical"] == (1, 240)
    low, high = (np.log10(v) for v in half_life["typical"])
    # 3 and 48 months now sit at 20 % and 71 % of the track
    assert (log_position(3, 1, 240) - low) / (high - low) == pytest.approx(0.200, abs=0.001)
    assert (log_position(48, 1, 240) - low) / (high - low) == pytest.approx(0.707, abs=0.001)
    assert from_log_position(log_position(12, 1, 240)) == 12
    assert log_position(1200, 1, 240) == high  # beyond the typical range: the slider's end
    assert check_value(half_life, "1200") == (1200.0, None)  # the number box takes it
    assert check_value(half_life, "5000")[1].endswith("outside the allowed 0.1–1200 months")
    assert check_value(half_life, "abc")[0] is None
    assert "source: C5" in tooltip(half_life) and "stock to halve" in tooltip(half_life)
    assert params["first_mover__switching_cost_utils"]["scale"] == "linear"


def test_slider_steps_are_round_and_keep_bounds_and_values_on_the_grid():
    assert controls.nice_step(0, 1, 0.35, integer=False) == 0.01
    assert controls.nice_step(0, 120, 9, integer=False) == 1
    assert controls.nice_step(0.1, 1200, 12, integer=False) == 0.1
    assert controls.nice_step(0.1, 1200, 120, integer=False) == 0.1
    assert controls.nice_step(1, 60, 9, integer=True) == 1


def test_first_mover_moat_sliders_show_its_own_values():
    moat = controls.slider_params(load_scenario(ROOT / "scenarios" / "first_mover_moat.yaml"))
    base = controls.slider_params(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    key = "first_mover__brand_half_life_months"
    assert moat[key]["value"] == 120 and base[key]["value"] == 12


@pytest.mark.parametrize(("text", "seed"), [("1", 1), (" 42 ", 42), (7, 7), ("0", 0)])
def test_seeds_as_typed(text, seed):
    assert controls.parse_seed(text) == (seed, None)


@pytest.mark.parametrize("text", ["abc", "-3", "1.5", "", "٣", True, -1, "9" * 30])
def test_bad_seeds_get_a_message(text):
    value, problem = controls.parse_seed(text)
    assert value is None and problem.startswith("Seed: ")


def test_the_picker_lists_every_scenario_file_and_the_one_given(monkeypatch, tmp_path):
    choices = controls.scenario_choices()
    assert set(choices) == {p.stem for p in SCENARIOS}
    other = tmp_path / "mine.yaml"
    other.write_text((ROOT / "scenarios" / "baseline.yaml").read_text())
    monkeypatch.setenv(controls.SCENARIO_ENV, str(other))
    label, choices = controls.initial_scenario()
    assert choices[label] == other.resolve() and len(choices) == len(SCENARIOS) + 1
    monkeypatch.setenv(controls.SCENARIO_ENV, str(ROOT / "scenarios" / "first_mover_moat.yaml"))
    assert controls.initial_scenario()[0] == "first_mover_moat"
    monkeypatch.delenv(controls.SCENARIO_ENV)
    assert controls.initial_scenario()[0] == "baseline"


# ---------------------------------------------------------------- the model behind the page


@pytest.mark.parametrize("seed", ["abc", "-1", "2.5"])
def test_a_bad_seed_is_a_message_and_the_run_does_not_move(seed):
    model = VizModel(scenario_file="baseline", seed=seed)
    assert model.problem.startswith("Seed: expected a whole number")
    assert model.running is False
    model.step()
    assert model.month == 0 and model.date == "2023-01"
    _render(model)


def test_unknown_or_broken_scenarios_and_bad_values_are_messages(tmp_path):
    unknown = VizModel(scenario_file="no_such_scenario")
    assert "no_such_scenario" in unknown.problem and unknown.config.name == "baseline"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nmonths: [oops\n")
    model = VizModel(scenario_file=str(broken))
    assert "broken.yaml" in model.problem and "baseline instead" in model.problem
    out_of_range = VizModel(scenario_file="baseline", first_mover__brand_half_life_months=-5)
    assert "first_mover.brand_half_life_months" in out_of_range.problem
    assert out_of_range.config.first_mover.brand_half_life_months == 12  # the file's value
    not_a_number = VizModel(scenario_file="baseline", funding__round_success_probability="x")
    assert "funding.round_success_probability" in not_a_number.problem
    for broken in (unknown, model, out_of_range, not_a_number):
        assert broken.running is False
        _render(broken)


def test_mesas_reset_arguments_are_accepted():
    """Mesa's Reset passes its own experiment object as ``scenario``: it is ignored."""
    from mesa.experimental.scenarios import Scenario as MesaScenario

    model = VizModel(scenario=MesaScenario(), scenario_file="first_mover_moat", seed="3")
    assert model.problem is None and model.config.name == "first_mover_moat" and model.seed == 3


def test_every_slider_alone_at_its_extremes():
    params = controls.slider_params(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    for name, slider in params.items():
        for end in ("min", "max"):
            model = VizModel(scenario_file="baseline", seed="2", **{name: slider[end]})
            assert model.problem is None, model.problem
            for _ in range(3):
                model.step()
            assert model.problem is None and model.month == 3, (name, end, model.problem)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_with_all_sliders_at_their_extremes(path):
    params = controls.slider_params(load_scenario(path))
    for end in ("min", "max"):
        model = VizModel(scenario_file=path.stem, seed="2",
                         **{name: slider[end] for name, slider in params.items()})
        for _ in range(12):
            model.step()
        assert model.problem is None and model.month == 12, (end, model.problem)
        _render(model)


def test_a_whole_run_to_the_end_and_beyond():
    model = VizModel(scenario_file="baseline", seed="3")
    for _ in range(model.config.months + 3):
        model.step()
    assert model.month == model.config.months and model.running is False
    assert model.problem is None and model.date == model.end_date == "2031-01"
    assert len(model.offer_history) == model.config.months + 1
    _render(model, every_segment=True)


def test_a_failing_step_is_a_message_not_a_traceback(monkeypatch):
    from moatsim.model import AIMarketModel

    model = VizModel(scenario_file="baseline", seed="1")
    model.step()

    def broken(self):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(AIMarketModel, "step", broken)
    model.step()
    assert model.problem == "The run stopped in 2023-02: ZeroDivisionError: boom"
    assert model.running is False
    model.step()  # stays stopped
    _render(model)


# ---------------------------------------------------------------- charts, colours, events


def test_charts_show_what_the_issue_asks_for():
    model = VizModel(scenario_file="baseline", seed="1")
    for _ in range(14):
        model.step()
    shares = figures.share_table(model)
    assert np.allclose(shares.sum(axis=1), 1.0) and len(shares) == 15
    coding = figures.share_table(model, "coding")
    assert set(coding.columns) == {s.firm_id for s in model.sellers}
    points = figures.market_points(model, "consumer_chat")
    assert {"openai", "meta_ai"} <= set(points["firm"])
    assert (points["price"] >= 0).all() and points["past_quality"].notna().any()
    table = figures.money_table(model)
    assert "open_source" not in set(table["firm"]) and "microsoft" in set(table["firm"])
    deals = figures.investments(model).set_index(["investor", "investee"])["amount_musd"]
    assert deals[("microsoft", "openai")] == pytest.approx(10_000)  # M2, stake + credits
    assert ("google", "google_deepmind") in deals.index  # an in-house lab and its owner
    assert ("venture_capital", "anthropic") in deals.index


def test_fast_chart_tables_equal_the_straightforward_ones():
    """The page reads the recorder's arrays, not Mesa's DataCollector rebuilt every Step: the
    shares and indicators must be those of the tables a user downloads."""
    model = VizModel(scenario_file="baseline", seed="2")
    for _ in range(30):
        model.step()
    table = model.datacollector.get_table_dataframe("segments")
    sellers = [s.firm_id for s in model.sellers]
    for segment in (figures.ALL_SEGMENTS, "coding"):
        rows = table if segment == figures.ALL_SEGMENTS else table[table["segment"] == segment]
        users = rows.pivot_table(index="month", columns="firm", values="users", aggfunc="sum",
                                 fill_value=0.0).reindex(columns=sellers, fill_value=0.0)
        totals = users.sum(axis=1)
        expected = users.div(totals.where(totals > 0), axis=0).fillna(0.0)
        assert np.array_equal(figures.share_table(model, segment).to_numpy(),
                              expected.to_numpy())
    collected = model.datacollector.model_vars
    series = figures.indicator_series(model)
    for name in ("hhi", "open_share", "quality_gap", "adopters"):
        assert np.allclose(np.asarray(series[name], float), np.asarray(collected[name], float),
                           equal_nan=True, rtol=0, atol=0), name
    assert figures.headline(model).hhi == collected["hhi"][-1]


def test_funding_read_step_by_step_equals_the_whole_ledgers_read_at_once():
    """The network chart reads only the ledger entries posted since the last Step; its
    totals must be those of every ledger read from the start."""
    model = VizModel(scenario_file="baseline", seed="3")
    for _ in range(40):
        model.step()
        stepwise = figures.investments(model)
    expected: dict[tuple[str, str], float] = {}
    for firm in model.firms:
        for entry in firm.ledger.entries:
            if entry.category in figures.FUNDING_FROM_OTHERS and entry.counterparty and \
                    entry.amount_musd > 0:
                key = (entry.counterparty, firm.firm_id)
                expected[key] = expected.get(key, 0.0) + float(entry.amount_musd)
    got = {(row.investor, row.investee): row.amount_musd for row in stepwise.itertuples()
           if row.amount_musd > 0}
    assert len(expected) > 10 and got == expected


def test_charts_are_dated_coloured_by_firm_and_say_what_hovering_shows():
    from moatsim.viz.colours import model_colours

    model = VizModel(scenario_file="baseline", seed="1")
    for _ in range(6):
        model.step()
    colours = model_colours(model)
    shares = _checked(figures.shares_figure(model))
    bands = [t for t in shares["data"] if t.get("stackgroup")]
    assert {t["name"] for t in bands} >= {"openai", "meta_ai", "open_source"}
    assert all(t["fillcolor"] == colours[t["name"]] for t in bands)
    assert all(t["name"] in t["hovertemplate"] and "%" in t["hovertemplate"] for t in bands)
    assert bands[0]["x"][:2] == ["2023-01-01", "2023-02-01"]
    assert shares["layout"]["xaxis"]["type"] == "date"
    # the story on the time axis: LLaMA's weights (2023-03) and the regime changes
    events = next(t for t in shares["data"] if t.get("name") == "events")
    assert any("meta_ai weights released" in text for text in events["text"])
    assert not any("raised" in text and "series" in text for text in events["text"])
    indicators = _checked(figures.indicators_figure(model))
    assert [t["name"] for t in indicators["data"][:2]] == ["HHI (0–1)", "users on open models"]
    assert indicators["data"][0]["x"][-1] == "2023-07-01"
    market = _checked(figures.market_map_figure(model, "consumer_chat"))
    bubbles = [t for t in market["data"] if t.get("mode") == "markers+text"]
    hover = bubbles[0]["hovertemplate"]
    assert "quality %{x:.1f} points" in hover and "per user-month" in hover and "users" in hover
    named = [label for t in bubbles for label in t["text"] if label]
    assert 0 < len(named) <= figures.LABELLED_SELLERS and "openai" in named
    money = _checked(figures.money_figure(model))
    assert "$%{customdata[0]:,.0f}M" in money["data"][0]["hovertemplate"]
    assert money["layout"]["xaxis"]["type"] == "log"
    network = _checked(figures.network_figure(model))
    assert any("microsoft → openai: $10B" in t["hovertemplate"] for t in network["data"])


def test_a_figure_is_sent_apart_from_the_month_it_shows():
    """A month that leaves a chart's figure as it was sends the chart nothing to draw:
    traitlets sync only changed values, so the month travels in its own trait."""
    import json

    from moatsim.viz.plotlychart import figure_json

    model = VizModel(scenario_file="baseline", seed="1")
    model.step()
    first = figures.market_map_figure(model, "video")
    later = json.loads(json.dumps(first, default=list))
    later["layout"]["meta"]["month"] = 7
    (body, stamps), (body_later, stamps_later) = figure_json(first), figure_json(later)
    assert body == body_later and json.loads(body)["layout"]["meta"] == {"segment": "video"}
    assert json.loads(stamps) == {"month": 1, "run": model.serial}
    assert json.loads(stamps_later)["month"] == 7
    assert first["layout"]["meta"]["month"] == 1  # the figure itself is left as it was


def test_the_chart_widget_sends_plotly_js_from_the_installed_package():
    """No internet and no static route: the first chart of a page asks for plotly.js over
    its comm and gets the file inside the plotly package."""
    from moatsim.viz.plotlychart import PLOTLY_JS, PlotlyChart

    chart = PlotlyChart()
    sent = []
    chart.send = sent.append
    chart._answer(chart, {"want": "something else"}, [])
    assert sent == []
    chart._answer(chart, {"want": "plotly_js"}, [])
    assert len(sent) == 1 and sent[0]["plotly_js"] == PLOTLY_JS.read_text(encoding="utf-8")
    assert "plotly.js" in sent[0]["plotly_js"][:2000] and len(sent[0]["plotly_js"]) > 1_000_000


def test_the_status_line_says_ready_playing_finished_or_stopped():
    from moatsim.viz.controller import status

    model = VizModel(scenario_file="baseline", seed="1")
    assert status(model, playing=False) == ("ready", "ready: 2023-01, month 0 of 96")
    assert status(model, playing=True)[0] == "playing"
    for _ in range(model.config.months):
        model.step()
    state, sentence = status(model, playing=True)
    assert state == "finished" and "2031-01, month 96 of 96" in sentence and "Reset" in sentence
    assert status(VizModel(scenario_file="baseline", seed="x"), playing=False)[0] == "stopped"


def test_the_run_label_lists_moved_sliders_and_the_story_names_its_facts():
    from moatsim.viz.components import run_label, story_line

    plain = VizModel(scenario_file="no_moat", seed="4")
    assert plain.changed == [] and "changed" not in run_label(plain)
    moved = VizModel(scenario_file="no_moat", seed="4",
                     first_mover__switching_cost_utils=2.5,
                     first_mover__brand_half_life_months=6)  # no_moat's own value
    label = run_label(moved)
    assert "changed: Switching cost 2.5 (scenario 0.3)" in label
    assert "half-life" not in label
    story = story_line(plain)
    assert plain.config.description.split(" (")[0] in story
    for fact in ("C14", "C17", "C18"):
        assert f">{fact}</span>" in story
    assert 'title="Open source is closing the quality gap surprisingly fast; weeks' in story


def test_the_address_round_trips_the_run_and_its_month():
    """Issue 16, point 4: a link reproduces the view — scenario, seed, moved values, month."""
    from moatsim.viz import urlstate

    choices = controls.scenario_choices()
    model = VizModel(scenario_file="no_moat", seed="3", first_mover__switching_cost_utils=2.5)
    for _ in range(4):
        model.step()
    address = urlstate.query(model)
    assert address == ("scenario=no_moat&seed=3&month=4"
                       "&first_mover__switching_cost_utils=2.5")
    asked = urlstate.parse("?" + address, choices)
    assert (asked.scenario, asked.seed, asked.month) == ("no_moat", "3", 4)
    assert asked.overrides == {"first_mover__switching_cost_utils": 2.5}
    params = app.model_params(asked.scenario, choices, asked.seed, asked.overrides)
    assert params["first_mover__switching_cost_utils"]["value"] == 2.5
    again = app.build_model(params, asked.overrides, asked.month)
    assert again.date == model.date and again.changed == model.changed
    assert np.array_equal(again.population.users(), model.population.users())
    # what cannot be used is left out, and a bad value becomes the page's message
    junk = urlstate.parse("scenario=nope&month=x&evil=1&first_mover__switching_cost_utils=abc",
                          choices)
    assert junk.scenario is None and junk.month == 0
    assert junk.overrides == {"first_mover__switching_cost_utils": "abc"}
    bad = app.build_model(app.model_params("baseline", choices, "1"), junk.overrides)
    assert "first_mover.switching_cost_utils" in bad.problem and bad.month == 0


def test_a_pinned_run_is_compared_at_the_same_month():
    from moatsim.viz.components import pin_comparison

    first = VizModel(scenario_file="baseline", seed="1")
    for _ in range(6):
        first.step()
    pinned = figures.pin(first, "baseline · seed 1 at 2023-07")
    for _ in range(3):
        first.step()  # the pin is a snapshot: it does not move with the run
    assert pinned.months == list(range(7))
    other = VizModel(scenario_file="no_moat", seed="1")
    for _ in range(4):
        other.step()
    text = pin_comparison(other, pinned)
    series = figures.indicator_series(other)
    then, now = pinned.hhi[4], series["hhi"][-1]
    assert f"HHI {then:.3f} pinned, {now:.3f} here ({now - then:+.3f})" in text
    assert "pp)" in text and "at 2023-05" in text
    figure = _checked(figures.indicators_figure(other, pinned))
    dashed = [t for t in figure["data"] if t.get("line", {}).get("dash") == "dash"]
    assert [len(t["y"]) for t in dashed] == [7, 7]


def test_a_downloaded_run_re_runs_to_the_same_tables(tmp_path):
    """Issue 16, point 4: the zip holds the tables of the months shown and a scenario file
    that ``moatsim run`` turns into the same tables, from another folder."""
    import io
    import zipfile

    from moatsim.viz.download import run_zip

    model = VizModel(scenario_file="no_moat", seed="5", first_mover__switching_cost_utils=2.5)
    for _ in range(7):
        model.step()
    archive = zipfile.ZipFile(io.BytesIO(run_zip(model)))
    stem = "no_moat-seed5-2023-08"
    names = set(archive.namelist())
    for table in ("model", "firms", "backers", "segments", "events", "ledger"):
        assert {f"{stem}/{table}.csv", f"{stem}/{table}.parquet"} <= names
    archive.extractall(tmp_path / "download")
    scenario = (tmp_path / "download" / stem / f"{stem}.yaml")
    text = scenario.read_text()
    assert "extends: no_moat" in text and "switching_cost_utils: 2.5" in text
    assert f"moatsim run {stem}.yaml --seed 5" in text
    done = moatsim("run", scenario, "--seed", "5", "--out", tmp_path / "again", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for table in ("model", "firms", "segments", "events"):
        assert (tmp_path / "again" / f"{table}.csv").read_text() == \
            (tmp_path / "download" / stem / f"{table}.csv").read_text(), table


@pytest.mark.parametrize(("event", "text"), [
    ({"firm": "meta_ai", "kind": "open_release", "detail": "quality 63.0"},
     "meta_ai weights released (quality 63.0)"),
    ({"firm": "anthropic", "kind": "funding_round", "detail": "series c", "amount_musd": 450},
     "anthropic raised $450M (series c)"),
    ({"firm": "anthropic", "kind": "tranche", "detail": "google → anthropic",
      "amount_musd": 1500.0}, "anthropic raised $1.5B: tranche from google → anthropic"),
    ({"firm": "midjourney", "kind": "exit", "detail": "cash ran out", "amount_musd": -3},
     "midjourney exited (cash ran out)"),
    ({"firm": "x", "kind": "something_new", "detail": "d", "amount_musd": None},
     "x something new: d"),
])
def test_events_read_as_sentences(event, text):
    assert describe(event) == text


def test_event_log_is_newest_first_and_hides_minor_events_unless_asked():
    model = VizModel(scenario_file="baseline", seed="1")
    for _ in range(24):
        model.step()
    major, everything = event_lines(model.events), event_lines(model.events, minor=True)
    dates = [date for date, _, _ in everything]
    assert dates == sorted(dates, reverse=True)
    assert len(everything) > len(major) > 0
    assert not any(kind == "training_run" for _, _, kind in major)
    assert any("meta_ai weights released" in text for _, text, _ in major)
    assert money(12_000) == "$12B" and money(2.5) == "$2.5M" and money(None) == ""


def test_grid_layout_fits_twelve_columns_without_overlap():
    layout = app.grid_layout(len(COMPONENTS))
    assert len(layout) == len(COMPONENTS) == 7
    cells = set()
    for item in layout:
        assert 0 <= item["x"] and item["x"] + item["w"] <= 12
        for x in range(item["x"], item["x"] + item["w"]):
            for y in range(item["y"], item["y"] + item["h"]):
                assert (x, y) not in cells
                cells.add((x, y))
    assert layout[0]["w"] == 12  # the headline spans the page
    assert app.grid_layout(3) == app._mesa_initial_layout(3)


# ---------------------------------------------------------------- the page, rendered in Python


def _html(rc) -> str:
    return " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def _date(rc) -> str:
    return re.search(r'data-testid="headline-date">([^<]*)<', _html(rc)).group(1)


def _widget(rc, cls, text: str):
    found = [w for w in rc.find(cls).widgets if text in str(getattr(w, "label", ""))]
    assert len(found) == 1, (cls, text, found)
    return found[0]


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def test_the_page_works_without_a_browser(monkeypatch):
    built: list[dict] = []
    original = VizModel.__init__

    def spy(self, scenario=None, **kwargs):  # keywords only, as Mesa requires
        built.append(kwargs)
        original(self, scenario, **kwargs)

    monkeypatch.setattr(VizModel, "__init__", spy)
    monkeypatch.delenv(controls.SCENARIO_ENV, raising=False)
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    assert _date(rc) == "2023-01"
    for panel in ("chart-shares", "chart-market-map", "chart-money", "chart-network",
                  "chart-indicators"):
        assert rc.find(attributes={"data-testid": panel}).widgets
    _click(rc, "Step")
    _click(rc, "Step")
    assert _date(rc) == "2023-03"
    # every chart was sent the month shown (a panel that missed the update would not)
    import json

    from moatsim.viz.plotlychart import PlotlyChart

    charts = rc.find(PlotlyChart).widgets
    assert len(charts) == 5
    assert [json.loads(c.meta_json)["month"] for c in charts] == [2] * 5
    # the month is sent apart from the figure (a figure that did not change is not sent)
    assert all("month" not in json.loads(c.figure_json)["layout"]["meta"] for c in charts)
    _click(rc, "Step")
    _click(rc, "Step")

    # pin this run, step on: the indicators chart carries the pinned lines, the headline
    # compares the two at the month shown
    _click(rc, "Pin this run")
    _click(rc, "Step")
    assert "pinned: baseline · seed 1 at 2023-05" in _html(rc)
    assert "(its last month is 2023-05)" in _html(rc)
    indicators = json.loads(rc.find(attributes={"data-testid": "chart-indicators"}).find(
        PlotlyChart).widget.figure_json)
    assert [t["name"] for t in indicators["data"]][2:4] == [
        "HHI, pinned (baseline · seed 1 at 2023-05)", "open models, pinned"]
    _click(rc, "Unpin")
    assert "pinned:" not in _html(rc)

    # a value typed at the validation maximum applies on Reset; until then it is marked
    box = rc.find(attributes={"data-testid": "param-first_mover__brand_half_life_months"}
                  ).find(v.TextField).widget
    box.v_model = "1200"
    box.fire_event("keyup.enter", None)
    assert "changed from 12: press Reset" in _html(rc)
    _click(rc, "Reset")
    assert _date(rc) == "2023-01" and "press Reset" not in _html(rc)
    assert built[-1]["first_mover__brand_half_life_months"] == 1200.0
    assert "changed: First mover&#x27;s brand half-life 1200 (scenario 12)" in _html(rc)

    # a seed typed as text: a message, and the run refuses to move
    seed = _widget(rc, v.TextField, "Seed")
    seed.v_model = "abc"
    seed.fire_event("keyup.enter", None)
    _click(rc, "Reset")
    alerts = [a.children for a in rc.find(v.Alert).widgets]
    assert any("Seed: expected a whole number" in str(a) for a in alerts)
    _click(rc, "Step")
    assert _date(rc) == "2023-01"

    # another scenario: its run starts at once, and Reset keeps it with its own values
    picker = _widget(rc, v.Select, "Scenario file")
    picker.v_model = "first_mover_moat"
    assert "first_mover_moat" in _html(rc) and _date(rc) == "2023-01"
    _click(rc, "Reset")
    assert built[-1]["scenario_file"] == "first_mover_moat"
    assert built[-1]["first_mover__brand_half_life_months"] == 120
    assert not rc.find(v.Alert).widgets
    _click(rc, "Step")
    assert _date(rc) == "2023-02"


# ---------------------------------------------------------------- the command


def test_viz_with_a_bad_scenario_is_one_line_and_exit_2(tmp_path):
    done = moatsim("viz", tmp_path / "nope.yaml")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "file not found" in done.stderr
    assert moatsim("viz", "--port", "70000").returncode == 2


def _screenshot(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "moatsim.viz.screenshot", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_screenshot_command_replaces_only_pictures_it_wrote(tmp_path):
    """A file at the output path that the command did not write (text, or a PNG without its
    marker) is left as it is, with a one-line error and exit 2, before any browser starts;
    a picture it wrote (the marker) may be replaced, and is written with the marker."""
    from PIL import Image

    from moatsim.viz import screenshot

    mine = tmp_path / "notes.png"
    mine.write_text("my notes")
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    for path in (mine, plain, tmp_path):
        done = _screenshot(path)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert str(path) in done.stderr
    assert mine.read_text() == "my notes" and not screenshot.written_here(plain)
    assert _screenshot(tmp_path / "x.png", "--months", "-1").returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    done = _screenshot(tmp_path / "x.png", "--scenario", bad)
    assert done.returncode == 2 and "bad.yaml:1" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "notes.png", "plain.png"]

    ours = tmp_path / "ours.png"
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    screenshot.save(ours, buffer.getvalue())
    assert screenshot.written_here(ours)
    screenshot.check_out(ours)  # ours: may be replaced
    screenshot.save(ours, buffer.getvalue())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.yaml", "notes.png", "ours.png", "plain.png"]  # no temporary file left


def test_viz_serves_the_page_offline_and_prints_its_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "moatsim", "viz", "scenarios/first_mover_moat.yaml", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline, line = time.monotonic() + 90, ""
        while time.monotonic() < deadline and "http" not in line:
            ready, _, _ = select.select([process.stdout], [], [], 1.0)
            if ready:
                line = process.stdout.readline()
            assert process.poll() is None, "moatsim viz stopped"
        address = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(address, timeout=20) as response:
            page = response.read().decode()
        assert response.status == 200 and "solara" in page.lower()
        # every script and style sheet comes from this server, none from the internet
        links = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert links and not [link for link in links if link.startswith(("http:", "https:", "//"))]
        for link in links[:5]:
            with urllib.request.urlopen(address + link.lstrip("./").removeprefix("/"),
                                        timeout=20) as asset:
                assert asset.status == 200, link
    finally:
        process.terminate()
        assert process.wait(timeout=20) is not None
    # the server went with it
    with pytest.raises(OSError):
        urllib.request.urlopen(address, timeout=3)


def test_the_viz_package_keeps_mesa_internals_to_itself():
    for path in (ROOT / "model").rglob("*.py"):
        if "viz" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert "mesa.visualization" not in text and "solara" not in text, path
    assert Path(app.__file__).parent.name == "viz"


def test_a_scenario_the_model_cannot_start_from_is_a_message(monkeypatch):
    from moatsim.model import AIMarketModel

    original = AIMarketModel.__init__

    def fussy(self, scenario=None, *, rng=None, **flat):
        if getattr(scenario, "name", "") == "first_mover_moat":
            raise KeyError("no such firm")
        original(self, scenario, rng=rng, **flat)

    monkeypatch.setattr(AIMarketModel, "__init__", fussy)
    model = VizModel(scenario_file="first_mover_moat", seed="4")
    assert "first_mover_moat cannot start: KeyError" in model.problem
    assert model.config.name == "baseline" and model.running is False
    _render(model)


def test_the_page_leaves_mesas_solara_viz_as_mesa_wrote_it():
    """Issue 15, point 6: the page's changes live in its own copy of Mesa's module, so a
    notebook's SolaraViz in the same process is Mesa's."""
    code = ("import mesa.visualization.solara_viz as mesa_viz\n"
            "names = ('ModelCreator', 'make_initial_grid_layout', 'ModelController', "
            "'force_update')\n"
            "before = [getattr(mesa_viz, n) for n in names]\n"
            "import moatsim.viz.app as app\n"
            "assert [getattr(mesa_viz, n) for n in names] == before\n"
            "assert app._mesa_viz.force_update is app.force_update_in_one_pass\n"
            "assert app._mesa_viz.ModelController.__name__ == 'PageController'\n"
            "assert app._mesa_viz.make_initial_grid_layout is app.grid_layout\n"
            "assert app._mesa_viz.ModelCreator is app.ModelCreator\n"
            "assert mesa_viz.make_initial_grid_layout(7) != app.grid_layout(7)\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
