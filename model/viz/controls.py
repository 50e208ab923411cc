"""What the page's controls offer: the scenario files, the seed, and the sliders.

Pure Python (no Solara): the slider ranges, units and help texts come from the scenario
schema (:func:`moatsim.params.param_meta`), so a parameter's bounds are declared once, in
:mod:`moatsim.scenario`; this module only chooses which parameters get a slider and how to
label them. Everything here is tested without a browser (tests/test_viz_components.py).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from moatsim import library
from moatsim.loading import ScenarioError, load_scenario, path_to_flat
from moatsim.model import DEFAULT_SCENARIO
from moatsim.params import param_meta
from moatsim.scenario import Scenario

SCENARIO_ENV = "MOATSIM_VIZ_SCENARIO"
"""Environment variable naming the scenario file the page opens with (set by ``moatsim viz``)."""

DEFAULT_SEED = 1


@dataclass(frozen=True)
class SliderSpec:
    """A parameter that gets a slider: its dotted path, family and short label."""

    path: str
    family: str
    label: str

    @property
    def flat(self) -> str:
        """The keyword name the model takes (``first_mover__brand_half_life_months``)."""
        return path_to_flat(self.path)


# The parameters that matter most for the three families the card names (docs/ODD.md, the
# sensitivity section): two per family. Ranges, units and docs come from the schema.
SLIDERS: tuple[SliderSpec, ...] = (
    SliderSpec("funding.round_success_probability", "funding", "VC round closes, per month"),
    SliderSpec("funding.raise_when_runway_below_months", "funding", "Raise when runway below"),
    SliderSpec("first_mover.brand_half_life_months", "first_mover", "First mover's brand half-life"),
    SliderSpec("first_mover.switching_cost_utils", "first_mover", "Switching cost"),
    SliderSpec("commoditization.idea_diffusion_per_run", "commoditization",
               "Idea diffusion per training run"),
    SliderSpec("commoditization.open_catch_up_share_monthly", "commoditization",
               "Open catch-up, share of gap per month"),
)


def field_of(path: str) -> Any:
    """The pydantic field declared for a dotted section path (``funding.round_…``)."""
    model: type[BaseModel] = Scenario
    *sections, name = path.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise KeyError(f"{path}: {section} is not a section")
        model = annotation
    return model.model_fields[name]


def value_at(config: Scenario, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def changed_sliders(scenario: Scenario, shown: Scenario) -> list[tuple[SliderSpec, Any, Any]]:
    """``(slider, value shown, the scenario's own value)`` of each slider whose value in the
    run shown differs from its scenario's."""
    changed = []
    for spec in SLIDERS:
        value, own = value_at(shown, spec.path), value_at(scenario, spec.path)
        if value != own:
            changed.append((spec, value, own))
    return changed


def nice_step(low: float, high: float, value: float, *, integer: bool) -> float:
    """A round slider step (1, 2 or 5 × 10^k, about a hundredth of the range) on whose grid
    the lower bound and the current value both lie, so neither moves when the slider shows."""
    if integer:
        return 1
    span = high - low
    if span <= 0:
        return 1.0
    exponent = math.floor(math.log10(span / 100))
    candidates = [m * 10.0 ** e for e in range(exponent + 1, exponent - 6, -1) for m in (5, 2, 1)]
    for step in candidates:
        if step > span / 50:
            continue
        if _on_grid(low, step) and _on_grid(value - low, step):
            return float(f"{step:.10g}")
    return float(f"{candidates[-1]:.10g}")


def _on_grid(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-6


def slider_params(config: Scenario) -> dict[str, dict[str, Any]]:
    """The page's inputs for the sliders, at the values of ``config``: validation bounds
    (``min``, ``max``), the typical range the slider spans (``typical``, widened to hold
    the scenario's own value) and its ``scale``, unit, description and source, all from the
    schema (:func:`moatsim.params.param_meta`)."""
    params: dict[str, dict[str, Any]] = {}
    for spec in SLIDERS:
        field = field_of(spec.path)
        meta = param_meta(field)
        low = meta.get("ge", meta.get("gt"))
        high = meta.get("le", meta.get("lt"))
        if low is None or high is None or "typical" not in meta:
            raise ValueError(f"{spec.path}: a slider needs a bounded parameter (ge and le) "
                             "with a typical range")
        integer = field.annotation is int
        value = value_at(config, spec.path)
        typical_low, typical_high = meta["typical"]
        typical = (min(typical_low, value), max(typical_high, value))
        step = nice_step(float(typical[0]), float(typical[1]), float(value), integer=integer)
        params[spec.flat] = {
            "type": "SliderInt" if integer else "SliderFloat",
            "label": spec.label,
            "path": spec.path,
            "value": int(value) if integer else float(value),
            "min": int(low) if integer else float(low),
            "max": int(high) if integer else float(high),
            "typical": typical,
            "scale": meta["scale"],
            "step": step,
            "unit": meta["unit"],
            "family": spec.family,
            "description": field.description,
            "source": meta["source"],
        }
    return params


# ---------------------------------------------------------------- scenarios


def scenario_choices(extra: str | Path | None = None) -> dict[str, Path]:
    """Picker label → scenario file: the bundled scenarios, the user's ``./scenarios/``
    (a name in both is the user's file, as on the command line; the bundled one is then
    labelled ``NAME (bundled)``), and ``extra`` if it is another file (labelled by its path)."""
    choices = {name: path.resolve() for name, path in library.bundled("scenarios").items()}
    mine = library.user_folder("scenarios")
    for name, path in (library.yaml_files(mine) if mine is not None else {}).items():
        if name in choices:
            choices[f"{name} (bundled)"] = choices[name]
        choices[name] = path.resolve()
    if extra is not None:
        extra_path = Path(extra).resolve()
        if extra_path not in choices.values():
            choices[str(extra)] = extra_path
    return choices


def initial_scenario() -> tuple[str, dict[str, Path]]:
    """The label the page opens with (``$MOATSIM_VIZ_SCENARIO`` or the baseline), and the
    choices."""
    wanted = os.environ.get(SCENARIO_ENV) or None
    choices = scenario_choices(wanted)
    if wanted is not None:
        wanted_path = Path(wanted).resolve()
        for label, path in choices.items():
            if path == wanted_path:
                return label, choices
    label = DEFAULT_SCENARIO.stem if DEFAULT_SCENARIO.stem in choices else next(iter(choices))
    return label, choices


def load_for_page(path: Path) -> tuple[Scenario | None, str | None]:
    """The scenario in ``path``, or None and a one-line message saying why it cannot be used."""
    try:
        return load_scenario(path), None
    except ScenarioError as exc:
        return None, str(exc)
    except Exception as exc:  # an unreadable file must not break the page
        return None, f"{path}: {exc}"


def parse_seed(text: Any) -> tuple[int | None, str | None]:
    """A seed from what was typed: a whole number ≥ 0, or None and a message."""
    if isinstance(text, bool):
        return None, f"Seed: expected a whole number ≥ 0, got {text!r}"
    if isinstance(text, int):
        value = text
    else:
        cleaned = str(text).strip()
        if not cleaned.isdigit() or not cleaned.isascii():
            shown = cleaned if len(cleaned) <= 30 else cleaned[:27] + "…"
            return None, f"Seed: expected a whole number ≥ 0, got {shown!r}"
        value = int(cleaned)
    if value < 0:
        return None, f"Seed: expected a whole number ≥ 0, got {value}"
    if value >= 2**63:
        return None, "Seed: expected a number below 2^63"
    return value, None
