"""moatsim: an agent-based strategy simulation of the AI industry (Mesa).

Frontier labs and big tech companies compete for the users of generative AI, under
parameters drawn from five news articles (``seeds/``). The main entry points:

* :func:`run_scenario` — run a scenario YAML file, get pandas tables back;
* :class:`AIMarketModel` — the Mesa model itself (for ``mesa.batch_run``, notebooks, SolaraViz);
* :func:`load_scenario` — a validated :class:`Scenario` from a file, with overrides.

They are imported on first use (PEP 562), so ``import moatsim.lifeline`` — the first thing a
pool worker or the browser page's server does — is quick: a child learns to die with its
parent before it spends seconds importing Mesa and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"AIMarketModel": "moatsim.model", "RunResult": "moatsim.experiments.run",
            "Scenario": "moatsim.scenario", "ScenarioError": "moatsim.loading",
            "load_scenario": "moatsim.loading", "run_scenario": "moatsim.experiments.run"}

if TYPE_CHECKING:
    from moatsim.experiments.run import RunResult, run_scenario
    from moatsim.loading import ScenarioError, load_scenario
    from moatsim.model import AIMarketModel
    from moatsim.scenario import Scenario


def __getattr__(name: str) -> Any:
    if name == "__version__":  # from the installed distribution's metadata, on first use
        from importlib.metadata import version

        globals()[name] = version("moatsim")
        return globals()[name]
    if name not in _EXPORTS:
        raise AttributeError(f"module 'moatsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, "__version__"})


__all__ = ["AIMarketModel", "RunResult", "Scenario", "ScenarioError", "load_scenario",
           "run_scenario"]
