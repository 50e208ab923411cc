"""Model months ↔ calendar months: step 0 is the scenario's start month (``YYYY-MM``)."""

from __future__ import annotations


def month_index(start: str, date: str) -> int:
    """Months from ``start`` to ``date`` (both ``YYYY-MM``); negative if ``date`` is earlier."""
    start_year, start_month = (int(part) for part in start.split("-"))
    year, month = (int(part) for part in date.split("-"))
    return (year - start_year) * 12 + (month - start_month)


def month_label(start: str, month: int) -> str:
    """The ``YYYY-MM`` of model month ``month`` counted from ``start``."""
    start_year, start_month = (int(part) for part in start.split("-"))
    total = start_year * 12 + (start_month - 1) + month
    return f"{total // 12:04d}-{total % 12 + 1:02d}"
