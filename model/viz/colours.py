"""One colour per firm, by kind: labs in blues, app builders in greens, the open-source
community in orange, big tech in purples — so a chart says at a glance which kind of firm
holds the users, and every chart on the page gives a firm the same colour.

Within a kind, firms take shades in scenario order, alternating dark and light so that
neighbours in a stacked chart stand apart.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

KIND_COLORMAP = {"lab": "Blues", "app": "Greens", "open_source": "Oranges",
                 "bigtech": "Purples"}
KIND_LABEL = {"lab": "labs", "app": "app builders", "open_source": "open-source community",
              "bigtech": "big tech"}
KIND_COLOUR = {kind: to_hex(colormaps[name](0.7)) for kind, name in KIND_COLORMAP.items()}
OTHER = "#9e9e9e"


def _shades(n: int) -> list[float]:
    """n shade levels in [0.4, 0.95], ordered dark, light, dark, … for contrast."""
    if n == 1:
        return [0.7]
    levels = list(np.linspace(0.95, 0.4, n))
    half = (n + 1) // 2
    dark, light = levels[:half], levels[half:]
    order = []
    for i in range(half):
        order.append(dark[i])
        if i < len(light):
            order.append(light[i])
    return order


def kind_colours(firms: Iterable[tuple[str, str]]) -> dict[str, str]:
    """firm id → hex colour, from ``(firm_id, kind)`` pairs in scenario order."""
    firms = list(firms)
    by_kind: dict[str, list[str]] = {}
    for firm_id, kind in firms:
        by_kind.setdefault(kind, []).append(firm_id)
    colours: dict[str, str] = {}
    for kind, ids in by_kind.items():
        cmap = colormaps[KIND_COLORMAP.get(kind, "Greys")]
        for firm_id, level in zip(ids, _shades(len(ids)), strict=True):
            colours[firm_id] = to_hex(cmap(level))
    return colours


def model_colours(model) -> dict[str, str]:
    """The colours of every firm of a model (cached on the model: they never change)."""
    cached = getattr(model, "_viz_colours", None)
    if cached is None:
        cached = kind_colours((firm.firm_id, firm.kind) for firm in model.firms)
        model._viz_colours = cached
    return cached
