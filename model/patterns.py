"""The seven patterns of the articles (P1–P7, ``seeds/facts.yaml``) as dated, quantitative
checks on one run's output tables — the filters of pattern-oriented modelling (Grimm et al.
2005, Science 310: 987–991).

Each pattern is judged at the date its article makes the claim (``seeds/articles.yaml``),
not at the end of the run, with a tolerance written into its definition
(:data:`PATTERNS`; docs/ODD.md §7 gives the reasoning for each). A check returns ``None`` when
the run cannot be judged (it stops before the date; P7 without its twin run), which never
counts as a pass.

P7 asks whether the open base's owner gains *from the absorbed work*, so it compares the run
with a twin on the same seed with absorption switched off (``mechanisms.absorption: false``);
:mod:`moatsim.experiments.patterns` runs the twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import pandas as pd
import yaml

from moatsim import library
from moatsim.history import ABSORPTIONS, LAST_OBSERVATION, backed_before, month_of
from moatsim.metrics import first_mover

ARTICLES_FILE = library.seed_file("articles.yaml")
C5_CATEGORIES = ("coding", "image", "video")
"""The categories C5 says OpenAI opened and lost (article 000)."""


@cache
def article_date(prefix: str) -> str:
    """Publication month of the seed article whose file name starts with ``prefix``."""
    articles = yaml.safe_load(ARTICLES_FILE.read_text(encoding="utf-8"))["articles"]
    return next(a["published"] for a in articles if a["file"].startswith(prefix))


@dataclass(frozen=True)
class Pattern:
    """A pattern's claim, its sources and the measurable statement that decides it."""

    id: str
    claim: str
    facts: tuple[str, ...]
    article: str  # file-name prefix of the article whose date judges it
    definition: str
    judged_at: str | None = None  # a fixed month instead of the article's date

    @property
    def date(self) -> str:
        return self.judged_at or article_date(self.article)


PATTERNS: dict[str, Pattern] = {p.id: p for p in (
    Pattern("P1", "the first mover starts dominant (~80 %) and loses it", ("M1", "C5", "C20"),
            "000", "the firm with most adopters in 2023-01 holds 70–90 % of adopters on "
            "average over 2023 (M1: 'casi el 80%') and under 50 % at 2025-09"),
    Pattern("P2", "the first mover loses most categories it opened", ("C5",), "000",
            "the first mover leads at least two of coding, image and video at some month up to "
            "2025-09 and leads none of those by 2025-09 (a segment it never led is not 'lost')"),
    Pattern("P3", "the open–closed gap shrinks after open weights are released",
            ("C14", "C17"), "002",
            "after the first open-weights release (a month the best open model gains ≥ 3 points, "
            "whoever releases it), the closed-minus-open gap falls by ≥ 25 % by 2023-05 "
            "(article 002: 'weeks, not months'), or within 2 months of a later release"),
    Pattern("P4", "prices of model access fall toward cost when the gap is small",
            ("C4", "C15", "F11"), "000",
            "labs' markup over cost to serve, averaged over the 12 months to 2025-09, is at most "
            "half its 2023 average, while the open–closed gap over those months averages ≤ 5 "
            "points"),
    Pattern("P5", "labs without big-tech backing run out of money more often",
            ("C24", "C25", "F12"), "004",
            "by 2024-12 (H17–H20), at least two labs without a big-tech backer ran out of cash "
            "(exit or absorption), and a larger share of unbacked labs than of backed ones did",
            judged_at=LAST_OBSERVATION),
    Pattern("P6", "value shifts to the application layer", ("C1", "C3", "C4"), "000",
            "the app layer's share of the margin over serving cost, averaged over the 12 months "
            "to 2025-09, is ≥ 5 points above its 2023 average"),
    Pattern("P7", "the open base's owner gains from the community's work", ("C19", "C11"),
            "002", "at 2024-12 the owner of the community's open base has ≥ 1 point more of all "
            "adopters than in the twin run with absorption switched off (same seed)",
            judged_at=LAST_OBSERVATION),
)}


class Judged(NamedTuple):
    """A pattern's verdict on one run: held (None = cannot be judged) and its measure."""

    held: bool | None
    measure: float | None


NOT_JUDGED = Judged(None, None)
SINGLE_RUN_PATTERNS = ("P1", "P2", "P3", "P4", "P5", "P6")
"""Patterns one run can decide; P7 needs its twin (``moatsim patterns`` runs it)."""


def check_patterns(run: Any, twin: Any = None) -> dict[str, Judged]:
    """Every pattern's verdict on ``run`` (tables ``moatsim``, ``firms``, ``segments``,
    ``events``); ``twin`` is the same scenario and seed with absorption switched off (P7)."""
    return {"P1": p1(run), "P2": p2(run), "P3": p3(run), "P4": p4(run), "P5": p5(run),
            "P6": p6(run), "P7": p7(run, twin)}


def _year_mask(model_table: pd.DataFrame, year: str) -> pd.Series:
    return model_table["date"].astype(str).str.startswith(year)


def _trailing_year(series: pd.Series, month: int) -> pd.Series:
    return series.loc[month - 11:month]


def _2023_and_trailing_year(run: Any, column: str, month: int) -> tuple[float, float]:
    """A model-table column's mean over 2023 and over the 12 months to ``month``."""
    table = run.model.set_index("month")
    early = table.loc[_year_mask(run.model, "2023").to_numpy(), column].mean()
    return float(early), float(_trailing_year(table[column], month).mean())


def p1(run: Any) -> Judged:
    judge = month_of(run.model, PATTERNS["P1"].date)
    if judge is None:
        return NOT_JUDGED
    firms = run.firms
    share = firms[firms["firm"] == first_mover(firms)].set_index("month")["share"]
    months_2023 = run.model.loc[_year_mask(run.model, "2023"), "month"]
    mean_2023 = float(share.reindex(months_2023).mean())
    final = float(share.loc[judge])
    return Judged(bool(0.70 <= mean_2023 <= 0.90 and final < 0.50), final)


def p2(run: Any) -> Judged:
    judge = month_of(run.model, PATTERNS["P2"].date)
    if judge is None:
        return NOT_JUDGED
    leader = first_mover(run.firms)
    table = run.model.set_index("month")
    led = lost = 0
    for segment in C5_CATEGORIES:
        column = f"leader.{segment}"
        if column not in table.columns:
            continue
        leaders = table.loc[:judge, column]
        if (leaders == leader).any():
            led += 1
            lost += leaders.loc[judge] != leader
    return Judged(bool(led >= 2 and lost == led), float(lost))


def first_open_release(model_table: pd.DataFrame, jump_points: float = 3.0) -> int | None:
    """First month the best open model appears or gains ``jump_points`` at once (a release of
    open weights, by whoever); month 0 if open weights exist from the start and never jump."""
    quality = model_table.set_index("month")["open_quality"]
    previous = quality.shift(1)
    jumps = quality.index[(quality.index > 0)
                          & ((quality - previous >= jump_points)
                             | (previous.isna() & quality.notna()))]
    if len(jumps):
        return int(jumps[0])
    return 0 if pd.notna(quality.iloc[0]) else None


def p3(run: Any) -> Judged:
    release = first_open_release(run.model)
    if release is None:
        return Judged(False, None)  # open weights never appear: the gap cannot close after them
    claimed = month_of(run.model, PATTERNS["P3"].date)
    judge = claimed if claimed is not None and release < claimed else release + 2
    gap = run.model.set_index("month")["quality_gap"]
    if judge not in gap.index:
        return NOT_JUDGED
    at_release = float(gap.loc[release])
    if not at_release > 0:
        return Judged(False, None)
    ratio = float(gap.loc[judge]) / at_release
    return Judged(bool(ratio <= 0.75), ratio)


def p4(run: Any) -> Judged:
    judge = month_of(run.model, PATTERNS["P4"].date)
    if judge is None:
        return NOT_JUDGED
    early, late = _2023_and_trailing_year(run, "model_access_markup", judge)
    gap = _trailing_year(run.model.set_index("month")["quality_gap"], judge).abs().mean()
    if not early > 0:
        return Judged(False, None)
    ratio = float(late / early)
    return Judged(bool(ratio <= 0.5 and gap <= 5.0), ratio)


def p5(run: Any) -> Judged:
    judge = month_of(run.model, PATTERNS["P5"].date)
    if judge is None:
        return NOT_JUDGED
    events = run.events[run.events["month"] <= judge]
    out_of_cash = events[((events["kind"] == "exit")
                          & (events["detail"].astype(str) == "cash ran out"))
                         | events["kind"].isin(ABSORPTIONS)]
    first_out = out_of_cash.groupby("firm")["month"].min()
    labs = run.firms.loc[run.firms["kind"] == "lab", "firm"].unique()
    backed, unbacked = [], []
    for lab in labs:  # a lab's buyer is not its backer: look before it ran out
        was_backed = backed_before(run, lab, int(first_out.get(lab, judge + 1)))
        (backed if was_backed else unbacked).append(lab in first_out.index)
    if not backed or not unbacked:
        return Judged(False, None)
    rate_unbacked, rate_backed = sum(unbacked) / len(unbacked), sum(backed) / len(backed)
    return Judged(bool(sum(unbacked) >= 2 and rate_unbacked > rate_backed),
                  rate_unbacked - rate_backed)


def p6(run: Any) -> Judged:
    judge = month_of(run.model, PATTERNS["P6"].date)
    if judge is None:
        return NOT_JUDGED
    early, late = _2023_and_trailing_year(run, "app_layer_margin_share", judge)
    gain = late - early
    return Judged(bool(gain >= 0.05), gain)


def open_base_owner(events: pd.DataFrame, month: int) -> str | None:
    """The lab whose weights the community builds on at ``month``."""
    bases = events[(events["kind"] == "new_open_base") & (events["month"] <= month)]
    if bases.empty:
        return None
    return str(bases.iloc[-1]["detail"]).split("builds on ", 1)[1].split("'", 1)[0]


def p7(run: Any, twin: Any) -> Judged:
    judge = month_of(run.model, PATTERNS["P7"].date)
    if judge is None or twin is None:
        return NOT_JUDGED
    owner = open_base_owner(run.events, judge)
    if owner is None:
        return Judged(False, None)

    def share(tables: Any) -> float:
        rows = tables.firms[(tables.firms["firm"] == owner) & (tables.firms["month"] == judge)]
        return float(rows["share"].iloc[0]) if len(rows) else 0.0

    gain = share(run) - share(twin)
    return Judged(bool(gain >= 0.01), gain)
