"""Checks seeds/facts.yaml against the seed articles.

- every id M1-M5, F1-F15, C1-C28, P1-P7 is present exactly once;
- every quote occurs verbatim in its article (read as UTF-8);
- each pattern's `from` ids exist;
- the article files in seeds/ are byte-identical to ../shared/seeds/
  (skipped, with a reason, when that folder is absent);
- a deliberately mangled quote is NOT found (the matching is not vacuous).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FACTS_FILE = SEEDS / "facts.yaml"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"

ARTICLES = [
    "000_081418a8fe2232b9.txt",
    "001_1722edf2aae45757.txt",
    "002_05ebebab2420df54.txt",
    "003_58cfdf2857a910d3.txt",
    "004_9d1c1461b15ca02e.txt",
]

EXPECTED_IDS = (
    [f"M{i}" for i in range(1, 6)]
    + [f"F{i}" for i in range(1, 16)]
    + [f"C{i}" for i in range(1, 30)]  # C29 added by the project (docs/decisions.md)
    + [f"P{i}" for i in range(1, 8)]
)
KINDS = {"M": "market", "F": "funding", "C": "claim", "P": "pattern"}
REQUIRED_KEYS = {"id", "kind", "statement", "value", "unit", "article", "quote", "model_use"}


def _load_facts() -> list[dict]:
    with FACTS_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict) and isinstance(data.get("facts"), list), (
        "facts.yaml must be a mapping with a list under `facts:`"
    )
    return data["facts"]


FACTS = _load_facts()
BY_ID: dict[str, dict] = {}
for _f in FACTS:
    BY_ID.setdefault(str(_f.get("id")), _f)


def _article_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def quote_in_text(quote: str, text: str) -> bool:
    """True if `quote` occurs in `text`.

    Exact substring match. No whitespace normalization, with one exception:
    a quote that spans a line break in the article may match with runs of
    whitespace collapsed (the quote's whitespace runs match any whitespace
    run), but only if the matched span in the article really contains a
    line break. Every current quote matches exactly; the exception is for
    quotes that wrap across lines.
    """
    if quote in text:
        return True
    words = quote.split()
    if not words:
        return False
    pattern = r"\s+".join(re.escape(w) for w in words)
    return any("\n" in m.group(0) or "\r" in m.group(0)
               for m in re.finditer(pattern, text))


def _quotes(fact: dict) -> list[str]:
    q = fact["quote"]
    return list(q) if isinstance(q, list) else [q]


# --- ids -------------------------------------------------------------------

def test_ids_unique():
    ids = [str(f.get("id")) for f in FACTS]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate ids: {dupes}"


def test_no_unexpected_ids():
    extra = sorted({str(f.get("id")) for f in FACTS} - set(EXPECTED_IDS))
    assert not extra, f"ids not in SEED_FACTS.md: {extra}"


@pytest.mark.parametrize("fact_id", EXPECTED_IDS)
def test_fact_present_and_well_formed(fact_id):
    ids = [str(f.get("id")) for f in FACTS]
    assert ids.count(fact_id) == 1, f"{fact_id} appears {ids.count(fact_id)} times"
    fact = BY_ID[fact_id]
    missing = REQUIRED_KEYS - set(fact)
    assert not missing, f"{fact_id} lacks keys {sorted(missing)}"
    assert fact["kind"] == KINDS[fact_id[0]], f"{fact_id}: kind {fact['kind']!r}"
    assert isinstance(fact["statement"], str) and fact["statement"].strip()
    assert isinstance(fact["model_use"], str) and fact["model_use"].strip()


# --- quotes ----------------------------------------------------------------

QUOTED_IDS = [i for i in EXPECTED_IDS if not i.startswith("P")]


@pytest.mark.parametrize("fact_id", QUOTED_IDS)
def test_quote_verbatim_in_article(fact_id):
    fact = BY_ID.get(fact_id)
    assert fact is not None, f"{fact_id} missing from facts.yaml"
    assert fact["article"] in ARTICLES, f"{fact_id}: unknown article {fact['article']!r}"
    text = _article_text(fact["article"])
    quotes = _quotes(fact)
    assert quotes, f"{fact_id}: no quote"
    for q in quotes:
        assert isinstance(q, str) and q.strip(), f"{fact_id}: empty quote"
        assert quote_in_text(q, text), f"{fact_id}: quote not found in {fact['article']}: {q!r}"


def test_mangled_quote_not_found():
    """Guard: the matcher must reject a quote altered by one character."""
    fact = BY_ID["M1"]
    text = _article_text(fact["article"])
    good = _quotes(fact)[0]
    assert quote_in_text(good, text)
    mangled = good.replace("80%", "81%")
    assert mangled != good
    assert not quote_in_text(mangled, text)
    # also an accent dropped and an extra space inside a line
    assert not quote_in_text("80 por ciento de los telefonos", _article_text(ARTICLES[2]))
    assert not quote_in_text("casi el  80% del mercado mundial", text)


# --- patterns --------------------------------------------------------------

PATTERN_IDS = [i for i in EXPECTED_IDS if i.startswith("P")]


@pytest.mark.parametrize("fact_id", PATTERN_IDS)
def test_pattern_from_ids_exist(fact_id):
    fact = BY_ID.get(fact_id)
    assert fact is not None, f"{fact_id} missing from facts.yaml"
    assert fact["article"] is None and fact["quote"] is None
    sources = fact.get("from")
    assert isinstance(sources, list) and sources, f"{fact_id}: `from` must be a non-empty list"
    unknown = [s for s in sources if str(s) not in BY_ID]
    assert not unknown, f"{fact_id}: unknown `from` ids {unknown}"


# --- article files ---------------------------------------------------------

@pytest.mark.parametrize("name", ARTICLES)
def test_article_matches_shared_copy(name):
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"{SHARED_SEEDS} absent; cannot compare article copies")
    assert (SEEDS / name).read_bytes() == (SHARED_SEEDS / name).read_bytes(), (
        f"seeds/{name} differs from {SHARED_SEEDS / name}"
    )
