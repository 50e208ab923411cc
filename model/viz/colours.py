"""The page's colours: each firm of a model in :mod:`moatsim.palette`'s one palette, so the
page, the figures of ``moatsim run`` and the reports agree on who is who."""

from __future__ import annotations

from moatsim.palette import firm_colours


def model_colours(model) -> dict[str, str]:
    """The colours of every firm of a model (cached on the model: they never change)."""
    cached = getattr(model, "_viz_colours", None)
    if cached is None:
        cached = firm_colours(firm.firm_id for firm in model.firms)
        model._viz_colours = cached
    return cached
