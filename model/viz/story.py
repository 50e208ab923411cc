"""What a scenario is about, for the page: its one-line description and the seed facts it
names (``C14``, ``F7`` …), each with its statement from ``seeds/facts.yaml``."""

from __future__ import annotations

import functools
import re
from typing import Any

FACT_ID = re.compile(r"\b([MFCP][1-9][0-9]?)\b")


@functools.cache
def fact_statements() -> dict[str, str]:
    """Seed fact id → its one-sentence statement (the bundled ``seeds/facts.yaml``)."""
    import yaml

    from moatsim.library import seed_file

    data = yaml.safe_load(seed_file("facts.yaml").read_text(encoding="utf-8"))
    return {str(fact["id"]): str(fact.get("statement", "")) for fact in data["facts"]}


def cited_facts(config: Any) -> list[tuple[str, str]]:
    """``(id, statement)`` of every seed fact the scenario's description or its events'
    sources name, in the order they first appear (ids the seeds do not hold are left out)."""
    texts = [config.description or ""]
    for event in getattr(config, "events", ()):
        texts.extend(str(value) for value in getattr(event, "sources", {}).values())
    known = fact_statements()
    ids = dict.fromkeys(match for text in texts for match in FACT_ID.findall(text))
    return [(fact, known[fact]) for fact in ids if fact in known]
