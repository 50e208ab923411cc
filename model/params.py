"""Parameter declarations: one helper that attaches unit, range, doc and source to a field.

Every number a scenario can set is declared once, here or in :mod:`moatsim.scenario`, with
``param(...)``. The metadata travels on the pydantic field, so the YAML validation, the
generated ``docs/parameters.md`` and (later) the browser sliders all read the same place.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field


def param(
    default: Any,
    *,
    unit: str,
    doc: str,
    source: str,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    typical: tuple[float, float] | None = None,
    scale: str = "linear",
) -> Any:
    """A scenario parameter with its unit, allowed range, one-line doc and source.

    ``source`` is a seed fact id (``M1``, ``F7`` …, see seeds/facts.yaml), an outside
    reference, or ``assumption: <why>``. ``typical`` is the range where values worth
    exploring lie (the browser page's sliders span it; a value outside it is still valid
    within the bounds), and ``scale`` is ``"log"`` for quantities read in ratios
    (half-lives, money), ``"linear"`` otherwise.
    """
    if not source.strip():
        raise ValueError("every parameter needs a source")
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log', not {scale!r}")
    extra: dict[str, Any] = {"unit": unit, "source": source, "scale": scale}
    if typical is not None:
        low, high = typical
        floor = ge if ge is not None else gt
        if not low < high or (floor is not None and low < floor) or (
                le is not None and high > le) or (scale == "log" and low <= 0):
            raise ValueError(f"typical range {typical} must lie within the bounds "
                             f"(and above 0 on a log scale)")
        extra["typical"] = [low, high]
    return Field(
        default,
        ge=ge,
        le=le,
        gt=gt,
        description=doc,
        json_schema_extra=extra,
    )


def flag(default: bool, *, doc: str, source: str) -> Any:
    """A yes/no scenario parameter (unit ``flag``), with its doc and source."""
    return param(default, unit="flag", doc=doc, source=source)


def param_meta(field_info: Any) -> dict[str, Any]:
    """Unit, source and bounds of a field declared with :func:`param` (empty if it was not)."""
    extra = field_info.json_schema_extra or {}
    if not isinstance(extra, dict) or "unit" not in extra:
        return {}
    bounds: dict[str, Any] = {}
    for constraint in field_info.metadata:
        for name in ("ge", "le", "gt", "lt"):
            value = getattr(constraint, name, None)
            if value is not None:
                bounds[name] = value
    typical = extra.get("typical")
    return {"unit": extra["unit"], "source": extra["source"],
            "scale": extra.get("scale", "linear"),
            **({"typical": tuple(typical)} if typical is not None else {}), **bounds}
