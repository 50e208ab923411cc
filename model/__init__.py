"""moatsim: an agent-based strategy simulation of the AI industry (Mesa).

Frontier labs and big tech companies compete for the users of generative AI, under
parameters drawn from five news articles (``seeds/``). The main entry points:

* :func:`run_scenario` — run a scenario YAML file, get pandas tables back;
* :class:`AIMarketModel` — the Mesa model itself (for ``mesa.batch_run``, notebooks, SolaraViz);
* :func:`load_scenario` — a validated :class:`Scenario` from a file, with overrides.

They are imported on first use (PEP 562), so ``import model.lifeline`` — the first thing a
pool worker or the browser page's server does — is quick: a child learns to die with its
parent before it spends seconds importing Mesa and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"AIMarketModel": "model.model", "RunResult": "model.experiments.run",
            "Scenario": "model.scenario", "ScenarioError": "model.loading",
            "load_scenario": "model.loading", "run_scenario": "model.experiments.run"}

if TYPE_CHECKING:
    from model.experiments.run import RunResult, run_scenario
    from model.loading import ScenarioError, load_scenario
    from model.model import AIMarketModel
    from model.scenario import Scenario


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = ["AIMarketModel", "RunResult", "Scenario", "ScenarioError", "load_scenario",
           "run_scenario"]
