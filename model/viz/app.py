"""The browser page: Mesa's SolaraViz around moatsim's model, served by ``moatsim viz``.

    solara run moatsim.viz.app:page        (what ``moatsim viz`` starts)

The sidebar holds the scenario picker (every file in ``scenarios/``), Reset / Play / Step
with a status line (:mod:`moatsim.viz.controller`), the seed, and a slider and number box
for each of the parameters that matter most (typical range, scale, unit, description and
source from the schema; :mod:`moatsim.viz.inputs`); the main area holds the panels of
:mod:`moatsim.viz.components`. Switching scenario builds its run at once, with the inputs
at that scenario's values; input and seed changes apply on Reset, as everywhere in Mesa,
and are marked until then. Bad input becomes a message on the page
(:class:`~moatsim.viz.vizmodel.VizModel`), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import importlib.util

import solara
from mesa.visualization.utils import update_counter

from moatsim.loading import load_scenario
from moatsim.viz import controls, urlstate
from moatsim.viz.components import COMPONENTS
from moatsim.viz.controller import make_controller
from moatsim.viz.inputs import ParameterInputs
from moatsim.viz.vizmodel import VizModel

TITLE = "moatsim · the AI market, month by month"
PLAY_INTERVAL_MS = 100
"""At most a month every 100 ms while playing, slow enough to follow the shares move (the
Play Interval slider sets it, 1–500 ms); on this machine a month's computing and drawing
takes longer than that, and 96 months play in 10–25 s (by the machine's hour)."""

# (x, y, w, h) of each panel in Mesa's 12-column grid (rows of 30 px): the headline across
# the top, then two charts a row — readable at 1400×900 with no sideways scrolling.
LAYOUT = [(0, 0, 12, 6), (0, 6, 6, 12), (6, 6, 6, 12), (0, 18, 6, 12), (6, 18, 6, 12),
          (0, 30, 6, 12), (6, 30, 6, 12)]


def _private_copy_of_mesas_page():
    """A second instance of ``mesa.visualization.solara_viz``, for this page alone.

    The page needs four things Mesa's SolaraViz has no argument for (its panel sizes,
    parameter inputs rebuilt on a change of scenario, one render pass per Step, and a
    controller whose pace holds); they replace four names in this copy's namespace, so
    Mesa's own module, and every other SolaraViz in the process (a notebook's), stay as Mesa
    wrote them."""
    spec = importlib.util.find_spec("mesa.visualization.solara_viz")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_mesa_viz = _private_copy_of_mesas_page()
SolaraViz = _mesa_viz.SolaraViz
_mesa_initial_layout = _mesa_viz.make_initial_grid_layout


def grid_layout(num_components: int) -> list[dict[str, Any]]:
    """Mesa's grid layout, with moatsim's panel sizes when the page shows its own panels."""
    if num_components != len(LAYOUT):
        return _mesa_initial_layout(num_components)
    return [{"i": i, "x": x, "y": y, "w": w, "h": h, "moved": False}
            for i, (x, y, w, h) in enumerate(LAYOUT)]


# Mesa sizes every panel alike (half the width, 300 px high); the page needs a full-width
# headline and taller charts. Mesa reads this function when a page is first laid out.
_mesa_viz.make_initial_grid_layout = grid_layout  # in the page's own copy only

CSS = """
.moatsim-tiles { display: flex; flex-wrap: wrap; gap: 6px 22px; align-items: baseline; }
.moatsim-tile { min-width: 110px; }
.moatsim-value { font-size: 22px; font-weight: 600; line-height: 1.2; }
.moatsim-caption { font-size: 11px; color: #666; }
.moatsim-leaders { margin-top: 6px; font-size: 12px; }
.moatsim-download { margin-top: 4px; }
.moatsim-download .v-btn { font-size: 11px; height: 24px !important; text-transform: none; }
.moatsim-chip { display: inline-block; margin-right: 12px; white-space: nowrap; }
.moatsim-dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%;
               margin: 0 4px 0 2px; vertical-align: middle; }
.moatsim-events { font-size: 12px; line-height: 1.55; }
.moatsim-event .moatsim-date { font-family: monospace; color: #555; margin-right: 4px; }
.moatsim-kind-exit { color: #b00020; }
.moatsim-kind-open_release, .moatsim-kind-acquisition { font-weight: 600; }
.moatsim-title { font-size: 13px; margin-bottom: 2px; }
.moatsim-changed { color: #b35900; }
.moatsim-story { font-size: 12px; color: #444; margin-bottom: 4px; }
.moatsim-fact { display: inline-block; margin-right: 4px; padding: 0 5px; border-radius: 8px;
                background: #eceff1; cursor: help; font-size: 11px; }
/* light only (see Page): Mesa's theme toggle is the app bar's only other button */
.v-app-bar .v-toolbar__content > .v-btn:not(.v-app-bar__nav-icon) { display: none; }
/* one page of panels: Mesa's page tabs would only take room */
.solara-content-main .v-tabs { display: none; }
/* Mesa's two sliders (play and render interval): labels above their track, value below */
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; margin-bottom: 2px;
    white-space: normal; font-size: 13px; }
.v-input__slider .v-slider__thumb-container::after { content: attr(aria-valuenow);
    position: absolute; top: 9px; left: 50%; transform: translateX(-50%);
    font-size: 11px; color: #333; white-space: nowrap; }
.moatsim-param .v-input__slider .v-slider__thumb-container::after { content: none; }
.v-input__slider { margin-bottom: 6px; }
.moatsim-param { margin: 4px 0 10px; }
.moatsim-param-label { font-size: 13px; cursor: help; }
.moatsim-unit { color: #666; }
.moatsim-help { color: #1565c0; }
.moatsim-param .v-input { margin-top: 0; padding-top: 0; }
.moatsim-param-problem { color: #b00020; font-size: 12px; }
.moatsim-pending { color: #b35900; font-size: 12px; font-weight: 600; }
.vue-grid-item { overflow: hidden; }
/* Play runs in its own thread always (moatsim.viz.controller): Mesa's thread switch goes */
.v-navigation-drawer .v-input--checkbox { display: none; }
.moatsim-status { font-size: 12px; margin-top: 8px; color: #333; }
.moatsim-status-playing { color: #1565c0; font-weight: 600; }
.moatsim-status-finished { color: #2e7d32; font-weight: 600; }
.moatsim-status-stopped { color: #b00020; }
.vue-grid-item .v-card { height: 100%; }
.v-card__title { font-size: 15px !important; padding: 8px 12px !important; }
"""


def model_params(label: str, choices: dict[str, Path], seed: Any,
                 overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Mesa ``model_params`` for a scenario: the scenario label (fixed), the seed as text, and
    the sliders at the scenario's values (the baseline's if the file cannot be read), or at
    ``overrides`` (flat names, from the page's address) where those are valid."""
    path = choices.get(label, Path(label))
    config, _problem = controls.load_for_page(path)
    if config is None:
        config, _ = controls.load_for_page(controls.DEFAULT_SCENARIO)
    elif overrides:
        try:
            config = load_scenario(path, {k.replace("__", "."): v for k, v in overrides.items()})
        except Exception:  # noqa: BLE001 — the run built from them says what is wrong
            pass
    return {
        "scenario_file": label,
        "seed": {"type": "InputText", "value": str(seed), "label": "Seed (whole number ≥ 0)"},
        **controls.slider_params(config),
    }


def slider_values(params: dict[str, Any]) -> dict[str, Any]:
    return {name: spec["value"] for name, spec in params.items()
            if isinstance(spec, dict) and spec.get("type", "").startswith("Slider")}


def build_model(params: dict[str, Any], overrides: dict[str, Any] | None = None,
                month: int = 0) -> VizModel:
    """The run Mesa's Reset builds from ``params`` as they are (with ``overrides`` on top),
    stepped to ``month``."""
    fixed = {k: v for k, v in params.items() if not isinstance(v, dict)}
    model = VizModel(seed=params["seed"]["value"],
                     **{**fixed, **slider_values(params), **(overrides or {})})
    for _ in range(min(max(month, 0), model.config.months)):
        if not model.running:
            break
        model.step()
    return model


@solara.component
def ModelCreator(model, user_params, *, model_parameters=None):
    """The page's parameter inputs (:mod:`moatsim.viz.inputs`), rebuilt whenever the page
    gives them new parameters.

    The inputs fill the parameter store once, when they first show (as Mesa's do); the
    sidebar outlives a change of scenario, so without a fresh instance Reset would keep the
    old scenario's values while the sliders showed the new ones.
    """
    return ParameterInputs(model, user_params,
                           model_parameters=model_parameters).key(f"params-{id(user_params)}")


_mesa_viz.ModelCreator = ModelCreator  # in the page's own copy only

_mesa_force_update = _mesa_viz.force_update


def force_update_in_one_pass() -> None:
    """Mesa's ``force_update`` (redraw every panel after a Step), as one render pass.

    Every panel listens to Mesa's update counter; each listener's change is its own render
    pass, so a Step walked the page's whole tree once per panel (8 passes, ~60 ms on this
    machine). Inside the session's render batch the panels are re-rendered together, once.
    Outside a Solara server (a notebook, the test renderer) there is no session to batch in.
    """
    from solara.server import kernel_context

    try:
        render_context = kernel_context.get_current_context().app_object
    except Exception:  # noqa: BLE001 — no server session: Mesa's own behaviour
        render_context = None
    if render_context is None or not hasattr(render_context, "_batch_counter"):
        _mesa_force_update()
        return
    with render_context:
        _mesa_force_update()


_mesa_viz.force_update = force_update_in_one_pass  # in the page's own copy only
# Reset, Play and Step with a pace that holds and a status line (moatsim.viz.controller)
_mesa_viz.ModelController = make_controller(force_update_in_one_pass)  # page's copy only


@solara.component
def ScenarioPicker(label: str, choices: dict[str, Path], on_pick: Any):
    with solara.Card("Scenario", margin=0):
        solara.Select("Scenario file (scenarios/)", values=list(choices), value=label,
                      on_value=on_pick)
        solara.Text("Picking a scenario starts its run; sliders and seed apply on Reset. "
                    "The address holds the run and month shown: copy it to share the view.",
                    style={"font-size": "12px"})


@solara.component
def Address(model: VizModel):
    """The browser's address follows the run shown and its month (moatsim.viz.urlstate)."""
    update_counter.get()
    # the widget draws nothing, but its wrapper is as tall as the sidebar: no height here
    with solara.Div(style={"height": "0", "overflow": "hidden"}):
        urlstate.AddressBar.element(query=urlstate.query(model))


@solara.component
def Page():
    router = solara.use_router()
    first_label, choices = solara.use_memo(controls.initial_scenario, [])
    # a shared link: ?scenario=…&seed=…&month=…&<parameter>=… (moatsim.viz.urlstate)
    asked = solara.use_memo(lambda: urlstate.parse(router.search, choices), [])
    label = solara.use_reactive(asked.scenario or first_label)
    seed = solara.use_reactive(asked.seed or str(controls.DEFAULT_SEED))
    overrides = solara.use_reactive(asked.overrides)  # the address's, until another pick
    params = solara.use_memo(
        lambda: model_params(label.value, choices, seed.value, overrides.value), [label.value])
    initial = solara.use_memo(lambda: build_model(params, overrides.value, asked.month), [])
    model = solara.use_reactive(initial)

    def pick(new_label: str) -> None:
        if new_label == label.value or new_label not in choices:
            return
        current = model.value
        keep = current.seed if current.problem is None else controls.DEFAULT_SEED
        seed.set(str(keep))
        overrides.set({})
        label.set(new_label)
        model.set(build_model(model_params(new_label, choices, keep)))

    # The page is light only: its charts are drawn on white and its captions in dark grey,
    # so Solara's dark theme (chosen by the OS under "auto", or by Mesa's toggle) would
    # leave white boxes with unreadable text around them. The toggle is hidden (CSS).
    solara.lab.theme.dark = False
    solara.Style(CSS)
    solara.Title("moatsim")
    with solara.Sidebar():
        ScenarioPicker(label.value, choices, pick)
        Address(model.value)
    SolaraViz(model, components=list(COMPONENTS), model_params=params, name=TITLE,
              play_interval=PLAY_INTERVAL_MS)


page = Page
