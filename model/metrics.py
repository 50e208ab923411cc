"""Market indicators computed from the model's state: concentration, openness, gaps, prices.

Each function takes the model and returns one number; ``MODEL_REPORTERS`` and
``FIRM_REPORTERS`` hand them to Mesa's DataCollector, which makes ``model.csv`` (one row per
month) and ``firms.csv`` (one row per month × firm).

Definitions (user-weighted means count every adopter once):

* ``hhi`` — Herfindahl–Hirschman index on a 0–1 scale, computed per segment from firms'
  user shares and averaged over segments weighted by adopters;
* ``open_share`` — share of adopters using an open-weights provider;
* ``quality_gap`` — best closed quality minus best open quality (quality points), averaged
  over segments where both are offered; NaN when no segment has both;
* ``mean_price`` / ``mean_cost_to_serve`` — USD per user-month, weighted by users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.agents import Firm
    from model.model import AIMarketModel


def segment_shares(users: np.ndarray) -> np.ndarray:
    """[S, P] each provider's share of its segment's adopters (0 where a segment has none)."""
    totals = users.sum(axis=1, keepdims=True)
    return np.divide(users, totals, out=np.zeros(users.shape), where=totals > 0)


def hhi(model: AIMarketModel) -> float:
    users = model.population.users()
    per_segment = (segment_shares(users) ** 2).sum(axis=1)
    weights = users.sum(axis=1)
    return float(per_segment @ weights / weights.sum()) if weights.sum() > 0 else float("nan")


def open_share(model: AIMarketModel) -> float:
    users = model.population.users().sum(axis=0)
    total = users.sum()
    return float(users[model.is_open].sum() / total) if total > 0 else 0.0


def quality_gap(model: AIMarketModel) -> float:
    offered = model.available
    gaps = []
    for s in range(offered.shape[0]):
        closed = offered[s] & ~model.is_open
        open_ = offered[s] & model.is_open
        if closed.any() and open_.any():
            gaps.append(model.quality[s, closed].max() - model.quality[s, open_].max())
    return float(np.mean(gaps)) if gaps else float("nan")


def _user_weighted(model: AIMarketModel, values: np.ndarray) -> float:
    users = model.population.users()
    total = users.sum()
    return float((users * values).sum() / total) if total > 0 else float("nan")


def mean_price(model: AIMarketModel) -> float:
    return _user_weighted(model, model.price_usd)


def mean_cost_to_serve(model: AIMarketModel) -> float:
    return _user_weighted(model, np.broadcast_to(model.cost_to_serve_usd[:, None],
                                                 model.price_usd.shape))


def firm_users(firm: Firm) -> int:
    return int(firm.model.population.users()[:, firm.model.firms.index(firm)].sum())


def firm_share(firm: Firm) -> float:
    total = firm.model.population.adopters().sum()
    return firm_users(firm) / total if total > 0 else 0.0


def firm_price(firm: Firm) -> float:
    """User-weighted price over the firm's segments (mean list price if it has no users)."""
    model = firm.model
    index = model.firms.index(firm)
    users = model.population.users()[:, index]
    prices = model.price_usd[:, index]
    if users.sum() > 0:
        return float(users @ prices / users.sum())
    offered = model.available[:, index]
    return float(prices[offered].mean()) if offered.any() else float("nan")


MODEL_REPORTERS = {
    "month": lambda m: m.month,
    "date": lambda m: m.date,
    "adopters": lambda m: int(m.population.adopters().sum()),
    "hhi": hhi,
    "open_share": open_share,
    "quality_gap": quality_gap,
    "mean_price": mean_price,
    "mean_cost_to_serve": mean_cost_to_serve,
}

FIRM_REPORTERS = {
    "month": lambda f: f.model.month,
    "date": lambda f: f.model.date,
    "firm": "firm_id",
    "kind": "kind",
    "users": firm_users,
    "share": firm_share,
    "revenue": lambda f: f.money.revenue_musd,
    "costs": lambda f: f.money.costs_musd,
    "funding_in": lambda f: f.money.funding_in_musd,
    "cash": "cash_musd",
    "quality": "quality",
    "price": firm_price,
    "alive": "alive",
}
