"""The event log in words: ``2023-03  meta_ai weights released (quality 63.0)``."""

from __future__ import annotations

import math
from typing import Any

# events that happen every few months to most firms: shown only on request
MINOR_KINDS = frozenset({"training_run", "price_cut", "model_swap"})


def money(amount_musd: Any) -> str:
    """$450M, $1.5B, $12B."""
    if amount_musd is None:
        return ""
    try:
        value = float(amount_musd)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value):
        return ""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1000:
        return f"{sign}${value / 1000:,.1f}B".replace(".0B", "B")
    if value >= 10:
        return f"{sign}${value:,.0f}M"
    return f"{sign}${value:,.1f}M"


def describe(event: dict[str, Any]) -> str:
    """One event as a short sentence (without its date)."""
    agent = str(event.get("agent", ""))
    kind = str(event.get("kind", ""))
    detail = str(event.get("detail", "") or "")
    amount = money(event.get("amount_musd"))
    if kind == "open_release":
        return f"{agent} weights released ({detail})"
    if kind == "close_release":
        return f"{agent} closed its weights ({detail})"
    if kind == "model_release":
        return f"{agent} released {detail}"
    if kind == "funding_round":
        return f"{agent} raised {amount} ({detail})"
    if kind in ("stake", "tranche"):
        return f"{agent} raised {amount}: {kind} from {detail}"
    if kind == "exit":
        return f"{agent} exited ({detail})"
    if kind == "acquisition":
        return f"{agent} {detail}" + (f" for {amount}" if amount else "")
    if kind == "tranche_withheld":
        return f"{agent} withheld a {amount} tranche ({detail})"
    if kind == "training_run":
        return f"{agent} finished a training run, {detail}"
    if kind == "price_cut":
        return f"{agent} cut its price in {detail}"
    if kind == "segment_entry":
        return f"{agent} entered {detail}"
    if kind == "model_swap":
        return f"{agent} swapped its model: {detail}"
    if kind == "new_open_base":
        return f"open-source community {detail}"
    if kind == "new_champion":
        return f"{agent} backs {detail} as its champion"
    if kind in ("licence_start", "licence_end"):
        return f"{agent} {detail}"
    return f"{agent} {kind.replace('_', ' ')}: {detail}" + (f" ({amount})" if amount else "")


def event_lines(events: list[dict[str, Any]], *, minor: bool = False,
                limit: int = 300) -> list[tuple[str, str, str]]:
    """``(date, sentence, kind)`` for the log, newest first (at most ``limit``)."""
    lines = []
    for event in reversed(events):
        if not minor and event.get("kind") in MINOR_KINDS:
            continue
        lines.append((str(event.get("date", "")), describe(event), str(event.get("kind", ""))))
        if len(lines) >= limit:
            break
    return lines
