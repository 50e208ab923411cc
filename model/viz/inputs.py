"""The page's parameter inputs: a slider over the typical range, a number box, help on hover.

It stands in for Mesa's ``ModelCreator`` in the page's copy of SolaraViz and keeps its
contract: it fills the parameters Reset builds the next run from (``model_parameters``:
the fixed ones as given, the others at their current values) and updates them as the user
changes a value. What it adds, for each parameter of :func:`moatsim.viz.controls.slider_params`:

* the slider spans the parameter's *typical* range (schema metadata), on a log scale where
  the schema says so (half-lives), not its validation bounds — brand half-life 1–240
  months, log, instead of 0.1–1200 on a line where the useful values filled 4 % of it;
* a number box takes any value within the validation bounds (outside them: a message, and
  the value is not taken); a value beyond the typical range puts the slider at its end;
* the label's tooltip gives the description, unit, validation range and source;
* "changed — press Reset" under any value that differs from the run shown.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import solara


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def log_position(value: float, low: float, high: float) -> float:
    """Where ``value`` sits on a log slider over ``[low, high]`` (its log10, clamped)."""
    return math.log10(_clamp(value, low, high))


def from_log_position(position: float) -> float:
    """The value at a log slider's position, to three significant figures."""
    return float(f"{10 ** position:.3g}")


def tooltip(spec: dict[str, Any]) -> str:
    """Description, unit, validation range and source of a parameter, for its label."""
    return (f"{spec['description']}\nunit: {spec['unit']}; allowed {spec['min']:g}–"
            f"{spec['max']:g}; typical {spec['typical'][0]:g}–{spec['typical'][1]:g}"
            f"{' (log scale)' if spec['scale'] == 'log' else ''}\nsource: {spec['source']}")


def check_value(spec: dict[str, Any], value: Any) -> tuple[float | int | None, str | None]:
    """A typed value, or None and the message saying why it cannot be used."""
    integer = spec["type"] == "SliderInt"
    if value is None or isinstance(value, bool):
        return None, f"{spec['label']}: expected a number"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"{spec['label']}: expected a number, got {value!r}"
    if not math.isfinite(number) or not spec["min"] <= number <= spec["max"]:
        return None, (f"{spec['label']}: {number:g} is outside the allowed "
                      f"{spec['min']:g}–{spec['max']:g} {spec['unit']}")
    if integer and number != int(number):
        return None, f"{spec['label']}: expected a whole number, got {number:g}"
    return (int(number) if integer else number), None


@solara.component
def ParameterInput(name: str, spec: dict[str, Any], value: Any, shown: Any,
                   on_value: Callable[[Any], None]):
    """One parameter: label with help, slider, number box, and whether it awaits Reset."""
    problem = solara.use_reactive(None)
    low, high = spec["typical"]
    integer = spec["type"] == "SliderInt"

    def typed(text: Any) -> None:
        checked, message = check_value(spec, text)
        problem.set(message)
        if message is None:
            on_value(checked)

    log_step = (math.log10(high) - math.log10(low)) / 200 if spec["scale"] == "log" else 0.0

    def slid(position: float) -> None:
        if spec["scale"] == "log":
            # the slider snaps a value that is off its grid by up to half a step when it
            # shows; that is not the user moving it (an arrow key moves a whole step)
            if abs(position - log_position(float(value), low, high)) < 0.51 * log_step:
                return
            problem.set(None)
            on_value(from_log_position(position))
            return
        problem.set(None)
        on_value(position)

    with solara.Div(classes=["moatsim-param"], attributes={"data-testid": f"param-{name}"}):
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"{html.escape(spec['label'])} <span class='moatsim-unit'>"
            f"({html.escape(spec['unit'])})</span> <span class='moatsim-help'>ⓘ</span>"),
            classes=["moatsim-param-label"], attributes={"title": tooltip(spec)})
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "nowrap"}):
            with solara.Div(style={"flex": "1 1 auto", "min-width": "0"}):
                if spec["scale"] == "log":
                    solara.SliderFloat(
                        "", value=log_position(float(value), low, high),
                        min=math.log10(low), max=math.log10(high),
                        step=log_step, on_value=slid,
                        thumb_label=False)
                elif integer:
                    solara.SliderInt("", value=int(_clamp(value, low, high)), min=int(low),
                                     max=int(high), step=int(spec["step"]), on_value=slid,
                                     thumb_label=False)
                else:
                    solara.SliderFloat("", value=_clamp(float(value), low, high), min=low,
                                       max=high, step=spec["step"], on_value=slid,
                                       thumb_label=False)
            with solara.Div(style={"flex": "0 0 84px"}):
                solara.InputText("value", value=f"{value:g}", on_value=typed,
                                 continuous_update=False)
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"typical {low:g}–{high:g}{', log scale' if spec['scale'] == 'log' else ''}"),
            classes=["moatsim-caption"])
        if problem.value:
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(problem.value),
                        classes=["moatsim-param-problem"],
                        attributes={"data-testid": f"problem-{name}"})
        if shown is not None and value != shown:
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"changed from {shown:g}: press Reset"), classes=["moatsim-pending"],
                attributes={"data-testid": f"pending-{name}"})


@solara.component
def ParameterInputs(model: solara.Reactive, user_params: dict[str, Any], *,
                    model_parameters: Any = None):
    """Every input of ``user_params`` (Mesa's ``model_params`` layout): a dict with a
    ``type`` is an input, anything else is passed to the model as it is."""
    model_parameters = solara.use_reactive({} if model_parameters is None
                                           else model_parameters)
    inputs = {k: v for k, v in user_params.items() if isinstance(v, dict)}
    fixed = {k: v for k, v in user_params.items() if not isinstance(v, dict)}
    # this component's own values, from its parameters: the shared store may still hold
    # the previous scenario's until the effect below has run
    values = solara.use_reactive({**fixed, **{k: v["value"] for k, v in inputs.items()}})
    solara.use_effect(lambda: model_parameters.set(dict(values.value)), [])

    def setter(name: str) -> Callable[[Any], None]:
        def set_value(value: Any) -> None:
            values.set({**values.value, name: value})
            model_parameters.set({**model_parameters.value, name: value})
        return set_value

    shown_run = model.value
    for name, spec in inputs.items():
        if spec["type"] == "InputText":  # the seed, as typed
            typed = str(values.value[name])
            solara.InputText(spec["label"], value=typed, on_value=setter(name),
                             continuous_update=False)
            if typed.strip() != getattr(shown_run, "seed_as_typed", typed.strip()):
                solara.HTML(tag="div", unsafe_innerHTML="changed: press Reset",
                            classes=["moatsim-pending"],
                            attributes={"data-testid": f"pending-{name}"})
            continue
        shown = shown_run.shown_value(spec["path"]) if hasattr(shown_run, "shown_value") \
            else None
        ParameterInput(name, spec, values.value[name], shown, setter(name))
