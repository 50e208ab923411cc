"""Numbers for people: values with their units, sensible digits, and axis labels.

The unit strings are those of the schema (:func:`moatsim.params.param`) and of the outcome
registry (:mod:`moatsim.experiments.outcomes`): ``share``, ``1/month``, ``USD millions``,
``USD/user-month``, ``quality points``, ``utils``, ``flag`` …

    >>> format_value(0.4146, "share")
    '41%'
    >>> format_value(215649.4, "USD millions/month")
    '$216 B/month'
"""

from __future__ import annotations

import math
from typing import Any

PERCENT_UNITS = {"share", "ratio", "flag", "1/month", "share/year"}
"""Units shown as percentages (a markup ``ratio`` of 0.14 is a 14% markup)."""

_PER = {"1/month": "/month", "share/year": "/year"}

LEVEL_UNITS = {"share", "ratio", "flag", "index", "users", "firms", "patterns", "USD millions",
               "USD millions/month", "USD/user-month"}
"""Units of levels (amounts measured from a true zero), whose axes start at zero when every
value is ≥ 0; quality points are on an arbitrary scale and are not among them."""


def significant(value: float, digits: int = 3, *, trim: bool = True) -> str:
    """``value`` with ``digits`` significant digits, thousands separated, no exponent;
    ``trim`` drops trailing zeros (``2.50`` → ``2.5``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "−")


def _percent(value: float) -> str:
    scaled = value * 100
    if abs(scaled) >= 10 or scaled == 0 or float(scaled).is_integer():
        text = f"{scaled:,.0f}"
    elif abs(scaled) >= 1:
        text = f"{scaled:.1f}"
    else:
        text = significant(scaled, 2)
    return text.replace("-", "−") + "%"


def _money_millions(value: float) -> str:
    """USD millions → $1.2 T, $216 B, $500 M, $0.5 M."""
    sign = "−" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0"
    for size, suffix in ((1e6, "T"), (1e3, "B"), (1.0, "M")):
        if amount >= size:
            return f"{sign}${significant(amount / size)} {suffix}"
    return f"{sign}${significant(amount)} M"


def _count(value: float) -> str:
    amount = abs(value)
    for size, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if amount >= size:
            return significant(value / size) + suffix
    return significant(value)


def format_value(value: Any, unit: str, *, with_unit: bool = True, trim: bool = True) -> str:
    """``value`` written for a reader, with its unit unless ``with_unit`` is false; ``trim``
    drops trailing zeros (set it false to line up measured values in a column)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    if unit in PERCENT_UNITS:
        return _percent(number) + (_PER.get(unit, "") if with_unit else "")
    if unit.startswith("USD millions"):
        tail = unit[len("USD millions"):]
        return _money_millions(number) + (tail if with_unit else "")
    if unit.startswith("USD/"):
        if abs(number) < 0.1 and number != 0:
            text = f"${significant(number, 2)}"
        else:
            text = f"${number:,.2f}" if abs(number) < 100 else f"${significant(number)}"
        return (text.replace("$-", "−$") + (f"/{unit[4:]}" if with_unit else ""))
    if unit in ("users", "developers"):
        return _count(number) + (f" {unit}" if with_unit else "")
    text = significant(number, trim=trim)
    if not with_unit or unit in ("index", ""):
        return text
    if unit == "quality points":
        return f"{text} points"
    if unit == "firms" and number == 1:
        return "1 firm"
    return f"{text} {unit}"


def axis_unit(unit: str) -> str:
    """The unit as shown in an axis label's parentheses ('' if none is needed)."""
    return {"share": "%", "ratio": "%", "flag": "% of runs", "1/month": "% per month",
            "share/year": "% per year", "index": "0–1", "USD millions": "USD",
            "USD millions/month": "USD per month"}.get(unit, unit)


def axis_label(label: str, unit: str) -> str:
    """``label (unit)`` for a parameter axis (a yes/no flag needs no unit)."""
    shown = "" if unit == "flag" else axis_unit(unit)
    return f"{label} ({shown})" if shown else label


def is_percent(unit: str) -> bool:
    return unit in PERCENT_UNITS


def format_difference(value: float, unit: str) -> str:
    """A signed difference in the unit of what is compared; shares in percentage points."""
    sign = "+" if value > 0 else ""
    if unit in ("share", "ratio", "flag"):
        return f"{sign}{value * 100:.1f} points".replace("-", "−")
    if unit == "index":  # the decimals the index itself is written with
        return f"{value:+.3f}".replace("-", "−")
    return sign + format_value(value, unit)


def start_at_zero(ax, unit: str, lowest: float) -> None:
    """Start a matplotlib axis's y range at zero for a level whose values are all ≥ 0, so
    heights compare as amounts (a bar or line twice as high is twice as much)."""
    if unit in LEVEL_UNITS and math.isfinite(lowest) and lowest >= 0:
        ax.set_ylim(bottom=0)
