"""The model as the page drives it: built from what the controls say, never raising.

Mesa's SolaraViz re-creates the model on Reset by calling its class with the controls'
values (``type(model)(**params)``), and steps it on Step and Play. :class:`VizModel` is an
:class:`~moatsim.model.AIMarketModel` that takes those values as they come from the page — a
scenario label, a seed as typed, the sliders — and turns anything unusable into a message
(:attr:`VizModel.problem`) shown on the page: it then shows the scenario it can build
(the baseline, seed 1, no overrides) and refuses to step, instead of raising into the UI.
It also keeps each month's offers, so the market map can draw where bubbles came from.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from moatsim.loading import ScenarioError, load_scenario
from moatsim.model import DEFAULT_SCENARIO, AIMarketModel
from moatsim.scenario import Scenario
from moatsim.viz import controls

_serials = itertools.count(1)


class VizModel(AIMarketModel):
    """An :class:`AIMarketModel` built from the page's controls.

    Args:
        scenario: ignored unless it is a moatsim :class:`Scenario` or a path (Mesa's Reset
            passes its own experiment object under this name).
        scenario_file: the picker's label (a file stem in ``scenarios/``) or a file path.
        seed: the seed as typed (text or a number).
        **params: slider values by flat name (``first_mover__brand_half_life_months``).
    """

    def __init__(self, scenario: Any = None, *, scenario_file: str | None = None,
                 seed: Any = controls.DEFAULT_SEED, rng: Any = None, **params: Any):
        problems: list[str] = []
        source: Scenario | Path | None = None
        if isinstance(scenario, (Scenario, str, Path)):
            source = scenario if isinstance(scenario, Scenario) else Path(scenario)
        elif scenario_file is not None:
            source = self._resolve(scenario_file, problems)
        source = DEFAULT_SCENARIO if source is None else source
        self.scenario_path: Path | None = source if isinstance(source, Path) else None
        """The scenario file the run was asked for (what a download extends)."""
        self.scenario_label = (scenario_file if scenario_file is not None
                               else getattr(source, "stem", getattr(source, "name", "")))

        if isinstance(rng, np.random.Generator):
            value, seed_problem = rng, None
        else:
            value, seed_problem = controls.parse_seed(seed if rng is None else rng)
        if seed_problem:
            problems.append(seed_problem)
            value = controls.DEFAULT_SEED
        self.seed = value
        self.seed_as_typed = str(seed if rng is None else rng).strip()
        """The seed as the page's box held it when this run was built."""

        overrides = {key.replace("__", "."): v for key, v in params.items()}
        config = None
        try:
            config = load_scenario(source, overrides)
        except ScenarioError as exc:
            problems.append(str(exc))
        except Exception as exc:  # an unreadable file or value: say so, do not raise
            problems.append(f"{source}: {exc}")
        if config is None and overrides:
            try:
                config = load_scenario(source)
            except Exception:  # noqa: BLE001 — the first message already says what is wrong
                config = None
        if config is None:
            config = load_scenario(DEFAULT_SCENARIO)
            if source != DEFAULT_SCENARIO:
                problems.append(f"showing {DEFAULT_SCENARIO.stem} instead")

        self.changed: list[tuple[controls.SliderSpec, Any, Any]] = []
        """Sliders set away from the scenario's own values: (slider, value, scenario's)."""
        if overrides:
            try:
                self.changed = controls.changed_sliders(load_scenario(source), config)
            except Exception:  # noqa: BLE001 — the run was built; only the label is lost
                self.changed = []

        self.problem: str | None = None
        try:
            super().__init__(config, rng=self.seed)
        except Exception as exc:  # noqa: BLE001 — a scenario the model cannot start from
            problems.append(f"{config.name} cannot start: {type(exc).__name__}: {exc}; "
                            f"showing {DEFAULT_SCENARIO.stem} instead")
            super().__init__(load_scenario(DEFAULT_SCENARIO), rng=controls.DEFAULT_SEED)
        if problems:
            self.problem = "; ".join(problems)
            self.running = False
        self.serial = next(_serials)
        self.offer_history: list[tuple[np.ndarray, ...]] = []
        self._keep_offers()

    @staticmethod
    def _resolve(label: str, problems: list[str]) -> Path | None:
        choices = controls.scenario_choices()
        if label in choices:
            return choices[label]
        path = Path(label)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            return path
        problems.append(f"Scenario {label!r}: not a bundled scenario, nor a file in "
                        "./scenarios/")
        return None

    def step(self) -> None:
        """One month; a failure becomes :attr:`problem` and stops the run (never raises)."""
        if self.problem is not None or self.month >= self.config.months:
            self.running = False
            return
        try:
            super().step()
        except Exception as exc:  # noqa: BLE001 — shown on the page instead of a traceback
            self.problem = f"The run stopped in {self.date}: {type(exc).__name__}: {exc}"
            self.running = False
            return
        self._keep_offers()

    def _keep_offers(self) -> None:
        """Keep this month's offers: quality, price, users and availability [S, P]."""
        self.offer_history.append((self.quality.copy(), self.price_usd.copy(),
                                   self.population.users().astype(float),
                                   self.available.copy()))

    def shown_value(self, path: str) -> Any:
        """The value of a parameter (dotted path) in the scenario this run was built from."""
        return controls.value_at(self.source_scenario, path)

    @property
    def end_date(self) -> str:
        from moatsim.calendar import month_label

        return month_label(self.config.start, self.config.months)
