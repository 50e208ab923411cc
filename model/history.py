"""History targets (``seeds/history.yaml``, ids H1–H26): what was observed in 2023–2024, and
what one run's output tables say about each.

A target's ``checks`` each name a ``quantity`` — one of the functions in :data:`QUANTITIES` —
with its arguments, the observed value and a band ``[low, high]`` from the target's
tolerance. :func:`check_history` computes every quantity from a run's tables and says whether
it lies in its band. Quantities read only output tables (``moatsim``, ``firms``, ``segments``,
``events``), so they work on a run in memory and on CSV files alike; a quantity the run cannot
speak to (a firm it does not have, a date it does not reach) is ``None``, never a pass.

Targets are outcomes, not inputs: nothing here feeds back into the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from moatsim import library

HISTORY_FILE = library.seed_file("history.yaml")
LAST_OBSERVATION = "2024-12"
"""Targets are observations up to this month; later years are kept for validation."""


@dataclass(frozen=True)
class Check:
    """One model quantity held against one observation."""

    id: str
    target: str
    quantity: str
    value: float
    low: float
    high: float
    unit: str
    args: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def holds(self, simulated: float | None) -> bool:
        return simulated is not None and bool(self.low <= simulated <= self.high)

    @property
    def band(self) -> str:
        high = "∞" if np.isinf(self.high) else f"{self.high:.4g}"
        return f"{self.low:.4g}–{high}"


@cache
def load_history(path: Path = HISTORY_FILE) -> tuple[dict[str, Any], ...]:
    """The targets of ``seeds/history.yaml`` as plain mappings, in file order."""
    return tuple(yaml.safe_load(path.read_text(encoding="utf-8"))["targets"])


def history_checks(path: Path = HISTORY_FILE) -> list[Check]:
    """Every check of every target, in file order."""
    checks = []
    for target in load_history(path):
        for spec in target["checks"]:
            spec = dict(spec)
            fixed = {key: spec.pop(key) for key in ("id", "quantity", "value", "low", "high",
                                                    "unit")}
            note = spec.pop("note", "")
            checks.append(Check(target=target["id"], args=spec, note=note,
                                **{k: (float(v) if k in ("value", "low", "high") else v)
                                   for k, v in fixed.items()}))
    return checks


# ---------------------------------------------------------------- reading the tables


def month_of(model_table: pd.DataFrame, date: str) -> int | None:
    """The step whose calendar month is ``date`` (``YYYY-MM``); None if the run misses it."""
    rows = model_table.loc[model_table["date"] == date, "month"]
    return int(rows.iloc[0]) if len(rows) else None


def _window(model_table: pd.DataFrame, period: list[str]) -> tuple[int, int] | None:
    """First and last step of ``[from, to]``; None unless the run covers the whole period."""
    first, last = month_of(model_table, period[0]), month_of(model_table, period[1])
    return None if first is None or last is None else (first, last)


def _firm_rows(run: Any, firm: str) -> pd.DataFrame | None:
    rows = run.firms[run.firms["firm"] == firm]
    return rows.set_index("month") if len(rows) else None


def users(run: Any, *, firm: str, segment: str, date: str) -> float | None:
    month = month_of(run.model, date)
    seg = run.segments
    rows = seg[(seg["month"] == month) & (seg["firm"] == firm) & (seg["segment"] == segment)]
    return float(rows["users"].iloc[0]) if month is not None and len(rows) else None


def segment_share(run: Any, *, firm: str, segment: str, period: list[str]) -> float | None:
    window = _window(run.model, period)
    seg = run.segments
    rows = seg[(seg["firm"] == firm) & (seg["segment"] == segment)]
    if window is None or rows.empty:
        return None
    inside = rows[rows["month"].between(*window)]
    return float(inside["share"].mean())


def annualized_revenue(run: Any, *, firm: str, date: str) -> float | None:
    month, rows = month_of(run.model, date), _firm_rows(run, firm)
    return None if month is None or rows is None else 12.0 * float(rows.loc[month, "revenue_musd"])


def _period_sum(run: Any, firm: str, period: list[str], column: str) -> float | None:
    window, rows = _window(run.model, period), _firm_rows(run, firm)
    if window is None or rows is None:
        return None
    return float(rows.loc[window[0]:window[1], column].sum())


def revenue(run: Any, *, firm: str, period: list[str]) -> float | None:
    return _period_sum(run, firm, period, "revenue_musd")


def operating_loss(run: Any, *, firm: str, period: list[str]) -> float | None:
    spent = _period_sum(run, firm, period, "costs_musd")
    earned = revenue(run, firm=firm, period=period)
    return None if spent is None or earned is None else spent - earned


def _events_in(run: Any, period: list[str]) -> pd.DataFrame | None:
    window = _window(run.model, period)
    if window is None:
        return None
    return run.events[run.events["month"].between(*window)]


def vc_raised(run: Any, *, firm: str, period: list[str]) -> float | None:
    """VC the fund-raising rule closed (scheduled rounds are recorded as '<id>: venture capital')."""
    events = _events_in(run, period)
    if events is None or _firm_rows(run, firm) is None:
        return None
    rounds = events[(events["firm"] == firm) & (events["kind"] == "funding_round")
                    & events["detail"].astype(str).str.startswith("VC round")]
    return float(rounds["amount_musd"].sum())


def bigtech_invested(run: Any, *, investor: str, firm: str, period: list[str]) -> float | None:
    """Stakes and tranches (cash and compute credits) from ``investor`` into ``firm``."""
    events = _events_in(run, period)
    if events is None or _firm_rows(run, firm) is None:
        return None
    deals = events[(events["firm"] == firm) & events["kind"].isin(["stake", "tranche"])
                   & events["detail"].astype(str).str.startswith(f"{investor} → {firm}")]
    return float(deals["amount_musd"].sum())


def backed_before(run: Any, firm: str, month: int) -> bool:
    """Whether ``firm`` had a big-tech backer or owner in some month before ``month``."""
    backers = run.backers
    return bool(((backers["firm"] == firm) & (backers["month"] <= max(month - 1, 0))).any())


ABSORPTIONS = ("acquisition", "licence_and_hire")
"""Event kinds by which a big tech takes in a lab."""


def unbacked_labs_absorbed(run: Any, *, period: list[str]) -> float | None:
    """Labs without a big-tech backer before the deal that a big tech took in during the
    period (bought outright, or licensed and hired)."""
    events = _events_in(run, period)
    if events is None:
        return None
    deals = events[events["kind"].isin(ABSORPTIONS)]
    return float(sum(not backed_before(run, str(d.firm), int(d.month))
                     for d in deals.itertuples()))


def recapitalised(run: Any, *, firm: str, period: list[str]) -> float | None:
    window, rows = _window(run.model, period), _firm_rows(run, firm)
    if window is None or rows is None:
        return None
    inside = rows.loc[window[0]:window[1]]
    return float(bool(inside["alive"].iloc[-1]) and inside["funding_in_musd"].sum() > 0)


def endogenous_lab_entrants(run: Any, *, period: list[str], scenario: Any = None) -> float | None:
    """Labs founded in the period by the model's entry decision (``founding`` events of labs
    the scenario does not list; its scheduled foundings are inputs, and app builders are not
    frontier-scale entrants)."""
    events = _events_in(run, period)
    if events is None or scenario is None:
        return None
    listed = set(scenario.firm_ids())
    labs = set(run.firms.loc[run.firms["kind"] == "lab", "firm"])
    founded = events[(events["kind"] == "founding") & ~events["firm"].isin(listed)
                     & events["firm"].isin(labs)]
    return float(founded["firm"].nunique())


def open_lag_months(run: Any, *, date: str) -> float | None:
    """Months since the best closed model first reached the best open model's quality at
    ``date`` (0 when open models lead)."""
    month = month_of(run.model, date)
    if month is None:
        return None
    table = run.model.set_index("month")
    open_now = table.loc[month, "open_quality"]
    closed = (table["quality_gap"] + table["open_quality"]).loc[:month]
    if pd.isna(open_now) or closed.isna().all():
        return None
    reached = closed.index[closed.to_numpy() >= open_now - 1e-9]
    # no closed model ever as good: open models lead, and trail by nothing
    return float(month - reached[0]) if len(reached) else 0.0


def constant_capability_price_fall(run: Any, *, period: list[str]) -> float | None:
    """Yearly factor by which model access at least as good as the best model at the period's
    start got cheaper: the lowest user-weighted price per user-month of any lab or community
    model with users and that quality (the constant-capability price of H24)."""
    window = _window(run.model, period)
    if window is None:
        return None
    firms = run.firms[run.firms["kind"].isin(["lab", "open_source"])]
    start = firms[(firms["month"] == window[0]) & (firms["users"] > 0)]
    if start.empty:
        return None
    threshold = float(start["quality"].max())

    def cheapest(month: int) -> float:
        rows = firms[(firms["month"] == month) & (firms["quality"] >= threshold - 1e-9)
                     & (firms["users"] > 0) & (firms["price_usd"] > 0)]
        return float(rows["price_usd"].min()) if len(rows) else float("nan")

    first, last = cheapest(window[0]), cheapest(window[1])
    years = (window[1] - window[0]) / 12.0
    if not (first > 0 and last > 0) or years <= 0:
        return None
    return float((first / last) ** (1.0 / years))


def frontier_training_cost_growth(run: Any, *, period: list[str]) -> float | None:
    """Largest training run of the period's last year over the largest of its first year."""
    events = _events_in(run, period)
    if events is None:
        return None
    runs = events[events["kind"] == "training_run"]
    years = runs["date"].astype(str).str[:4].astype(int)
    first, last = int(period[0][:4]), int(period[1][:4])
    early, late = runs.loc[years == first, "amount_musd"], runs.loc[years == last, "amount_musd"]
    if early.empty or late.empty or last <= first:
        return None
    return float((late.max() / early.max()) ** (1.0 / (last - first)))


def leads_throughout(run: Any, *, firm: str, segment: str, period: list[str]) -> float | None:
    window = _window(run.model, period)
    column = f"leader.{segment}"
    if window is None or column not in run.model.columns:
        return None
    leaders = run.model.set_index("month").loc[window[0]:window[1], column]
    return float((leaders == firm).all())


def lead_margin(run: Any, *, firm: str, segment: str, period: list[str]) -> float | None:
    """Smallest lead over the period of ``firm``'s share of the segment's adopters over the
    next seller's (negative in a month it does not lead): a graded :func:`leads_throughout`,
    which a calibration can fit by distance."""
    window = _window(run.model, period)
    seg = run.segments
    if window is None:
        return None
    rows = seg[(seg["segment"] == segment) & seg["month"].between(*window)]
    if rows.empty or not (rows["firm"] == firm).any():
        return None
    shares = rows.pivot_table(index="month", columns="firm", values="share", aggfunc="sum",
                              fill_value=0.0)
    shares = shares.reindex(range(window[0], window[1] + 1), fill_value=0.0)
    rivals = shares.drop(columns=firm)
    best_rival = rivals.max(axis=1) if rivals.shape[1] else 0.0
    return float((shares[firm] - best_rival).min())


QUANTITIES: dict[str, Callable[..., float | None]] = {
    f.__name__: f for f in (users, segment_share, annualized_revenue, revenue, operating_loss,
                            vc_raised, bigtech_invested, unbacked_labs_absorbed, recapitalised,
                            endogenous_lab_entrants, open_lag_months,
                            constant_capability_price_fall, frontier_training_cost_growth,
                            leads_throughout, lead_margin)
}
NEEDS_SCENARIO = {"endogenous_lab_entrants"}


def simulate(check: Check, run: Any, scenario: Any = None) -> float | None:
    """The run's value of the check's quantity (None where the run cannot speak to it)."""
    extra = {"scenario": scenario} if check.quantity in NEEDS_SCENARIO else {}
    return QUANTITIES[check.quantity](run, **check.args, **extra)


def check_history(run: Any, scenario: Any = None,
                  checks: list[Check] | None = None) -> dict[str, tuple[float | None, bool]]:
    """``check id → (simulated value, within its band)`` for one run."""
    results = {}
    for check in checks if checks is not None else history_checks():
        value = simulate(check, run, scenario)
        results[check.id] = (value, check.holds(value))
    return results
