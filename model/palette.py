"""The one palette of moatsim: a colour per firm that is the same on the page, in the figures of
``moatsim run`` and in every report, and colours for scenarios that no firm uses.

Each firm of the scenario library has its own hue, chosen by hand so that the sellers — labs,
app builders and the open-source community — stand apart from each other (at least 20 CIE76
ΔE between any two, checked in tests/test_palette.py): one glance at a stacked chart tells
OpenAI from Anthropic, not eight shades of blue. Big tech, which invests but sells no model
of its own here, takes dark muted tones. A firm the library does not know (an entrant, or a
firm of the user's own scenario) takes the next free colour of :data:`SPARE`, in scenario
order, so ``entrant_1`` looks the same in every run of a scenario. Scenarios in ``moatsim
compare`` take :data:`SCENARIO_COLOURS`, disjoint from every firm colour, so a scenario line
is never read as a firm.

The kind of a firm is shown by marker shape (:data:`KIND_MARKER`), not by colour family.
No plotting library is imported here: colours are hex strings any renderer takes.
"""

from __future__ import annotations

from collections.abc import Iterable

FIRM_COLOURS: dict[str, str] = {
    # labs
    "openai": "#10a37f",
    "anthropic": "#d97757",
    "google_deepmind": "#1f77b4",
    "meta_ai": "#6a3d9a",
    "mistral": "#ff7f00",
    "midjourney": "#e7298a",
    "stability": "#8c564b",
    "runway": "#17becf",
    "inflection": "#bcbd22",
    "character_ai": "#1a1a6e",
    "adept": "#a6cee3",
    # app builders
    "perplexity": "#b2df8a",
    "github_copilot": "#33a02c",
    "cursor": "#fb9a99",
    "jasper": "#fdbf6f",
    "leonardo": "#cab2d6",
    # the open-source community
    "open_source": "#e31a1c",
    # big tech (investors, owners of in-house labs)
    "microsoft": "#264653",
    "google": "#5f0f40",
    "meta": "#22223b",
    "amazon": "#606c38",
}
"""Fixed colours of the firms in the bundled scenarios."""

SPARE: tuple[str, ...] = (
    "#ce6dbd", "#b2182b", "#a6d854", "#8ca252", "#ffd92f", "#e5c494", "#8c6d31", "#6b6ecf",
    "#393b79", "#bd9e39", "#d6616b", "#9c9ede", "#7b4173", "#de9ed6", "#66c2a5", "#fccde5",
)
"""Colours for firms not in :data:`FIRM_COLOURS`, in the order they are handed out (each the
farthest, in CIELAB, from the fixed colours and the spares before it)."""

SCENARIO_COLOURS: tuple[str, ...] = (
    "#000000", "#e69f00", "#56b4e9", "#cc79a7", "#117733", "#aa4499", "#999933", "#666666",
)
"""Scenario colours in ``moatsim compare`` (the first, the reference scenario, in black)."""

OTHER = "#9e9e9e"
"""Anything that is not a firm: venture capital, an unknown seller."""

EXITED = "#d0d0d0"
"""A firm that has left the market."""

KIND_LABEL = {"lab": "labs", "app": "app builders", "open_source": "open-source community",
              "bigtech": "big tech"}
KIND_MARKER = {"lab": "o", "app": "s", "open_source": "^", "bigtech": "D"}
"""Marker shape per kind of firm, as matplotlib marker codes: circle, square, triangle-up,
diamond."""


def firm_colours(firms: Iterable[str | tuple[str, str]]) -> dict[str, str]:
    """firm id → hex colour, for firm ids (or ``(firm_id, kind)`` pairs) in scenario order.

    Library firms keep their fixed colour; the others take the spare colours in order,
    skipping any already used in this set, and cycle only when all are taken.
    """
    ids = [firm if isinstance(firm, str) else firm[0] for firm in firms]
    colours = {firm: FIRM_COLOURS[firm] for firm in ids if firm in FIRM_COLOURS}
    used = set(colours.values())
    spare = [colour for colour in SPARE if colour not in used]
    unknown = [firm for firm in dict.fromkeys(ids) if firm not in colours]
    for i, firm in enumerate(unknown):
        colours[firm] = spare[i % len(spare)]
    return {firm: colours[firm] for firm in dict.fromkeys(ids)}


def scenario_colours(scenarios: Iterable[str]) -> dict[str, str]:
    """scenario name → hex colour, in the order given (cycling after eight)."""
    names = list(dict.fromkeys(scenarios))
    return {name: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, name in enumerate(names)}
