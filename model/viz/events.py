"""The event log in words: ``2023-03  meta_ai weights released (quality 63.0)``."""

from __future__ import annotations

import math
from typing import Any

# events that happen every few months to most firms: shown only on request (a baseline
# run has ~25 venture rounds and ~150 training runs: the story would drown in them)
MINOR_KINDS = frozenset({"training_run", "price_cut", "model_swap", "funding_round",
                         "routing"})
# the story of a run, marked on the page's time charts: releases, deals, foundings,
# absorptions, exits and regime changes
STORY_KINDS = frozenset({"open_release", "close_release", "model_release", "new_open_base",
                         "stake", "acquisition", "licence_and_hire", "founding", "exit",
                         "parameter_set", "licence_start", "licence_end", "new_champion"})


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


# event kind → sentence; {agent}, {kind}, {detail} and {amount} are filled in
SENTENCES = {
    "open_release": "{agent} weights released ({detail})",
    "close_release": "{agent} closed its weights ({detail})",
    "model_release": "{agent} released {detail}",
    "funding_round": "{agent} raised {amount} ({detail})",
    "stake": "{agent} raised {amount}: {kind} from {detail}",
    "tranche": "{agent} raised {amount}: {kind} from {detail}",
    "exit": "{agent} exited ({detail})",
    "tranche_withheld": "{agent} withheld a {amount} tranche ({detail})",
    "training_run": "{agent} finished a training run, {detail}",
    "price_cut": "{agent} cut its price in {detail}",
    "segment_entry": "{agent} entered {detail}",
    "model_swap": "{agent} swapped its model: {detail}",
    "routing": "{agent} {detail}",
    "new_open_base": "open-source community {detail}",
    "parameter_set": "regime change: {detail}",
    "founding": "{agent} founded with {amount}: {detail}",
    "new_champion": "{agent} backs {detail} as its champion",
    "licence_start": "{agent} {detail}",
    "licence_end": "{agent} {detail}",
}


def describe(event: dict[str, Any]) -> str:
    """One event as a short sentence (without its date)."""
    agent = str(event.get("firm", ""))
    kind = str(event.get("kind", ""))
    detail = str(event.get("detail", "") or "")
    amount = money(event.get("amount_musd"))
    if kind == "acquisition":
        return f"{agent} {detail}" + (f" for {amount}" if amount else "")
    template = SENTENCES.get(kind)
    if template is not None:
        return template.format(agent=agent, kind=kind, detail=detail, amount=amount)
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
