"""The page's state in its address, so a link reproduces the view.

``?scenario=no_moat&seed=3&month=24&first_mover__switching_cost_utils=2.5``: the scenario
(a picker label), the seed, the month shown and every parameter moved away from the
scenario's value, by the flat name the model takes. :func:`query` writes it from the run
shown; :func:`parse` reads it back when the page opens (anything it cannot use is left
out, and a bad value goes to the model, which says what is wrong on the page).
:class:`AddressBar` puts the query in the browser's address with
``history.replaceState``: no navigation, no new history entry per month, and nothing sent
back to the server. The page uses it; the panels (also shown in notebooks) do not.
"""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import anywidget
import traitlets

from moatsim.viz import controls

_ESM = """
export default {
  render({ model }) {
    const apply = () => {
      const query = model.get("query");
      const wanted = query ? "?" + query : "";
      if (window.location.search !== wanted) {
        window.history.replaceState(window.history.state, "",
                                    window.location.pathname + wanted + window.location.hash);
      }
    };
    model.on("change:query", apply);
    apply();
    return () => model.off("change:query", apply);
  },
};
"""


class AddressBar(anywidget.AnyWidget):
    """Keeps the browser's address at ``?<query>``."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)


@dataclass
class PageState:
    """What an address asks for (empty parts: the page's defaults)."""

    scenario: str | None = None
    seed: str | None = None
    month: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text  # the model's loader says what is wrong with it
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() and "." not in text else value


def parse(search: str | None, choices: dict[str, Any]) -> PageState:
    """The state an address's query (``a=1&b=2``, with or without ``?``) asks for."""
    state = PageState()
    pairs = urllib.parse.parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    first = {key: values[0] for key, values in pairs.items() if values}
    if first.get("scenario") in choices:
        state.scenario = first["scenario"]
    if "seed" in first:
        state.seed = first["seed"][:40]
    if first.get("month", "").isdigit():
        state.month = int(first["month"])
    sliders = {spec.flat for spec in controls.SLIDERS}
    state.overrides = {key: _number(value) for key, value in first.items() if key in sliders}
    return state


def query(model: Any) -> str:
    """The query that reproduces the run shown and its month."""
    parts: list[tuple[str, str]] = [
        ("scenario", str(getattr(model, "scenario_label", model.config.name))),
        ("seed", str(getattr(model, "seed_as_typed", model.seed))),
        ("month", str(model.month)),
    ]
    parts += [(spec.flat, f"{value:g}") for spec, value, _ in getattr(model, "changed", [])]
    return urllib.parse.urlencode(parts)
