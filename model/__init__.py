"""moatsim: an agent-based strategy simulation of the AI industry (Mesa).

Frontier labs and big tech companies compete for the users of generative AI, under
parameters drawn from five news articles (``seeds/``). The main entry points:

* :func:`run_scenario` — run a scenario YAML file, get pandas tables back;
* :class:`AIMarketModel` — the Mesa model itself (for ``mesa.batch_run``, notebooks, SolaraViz);
* :func:`load_scenario` — a validated :class:`Scenario` from a file, with overrides.
"""

from model.experiments.run import RunResult, run_scenario
from model.loading import ScenarioError, load_scenario
from model.model import AIMarketModel
from model.scenario import Scenario

__all__ = ["AIMarketModel", "RunResult", "Scenario", "ScenarioError", "load_scenario",
           "run_scenario"]
