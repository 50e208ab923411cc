"""Market indicators: what the model reports each month about the market and each firm.

Indicators are computed from the model each month and collected by Mesa's DataCollector into
``model.csv`` (one row per month) and ``firms.csv`` (one row per month × firm):

* ``hhi`` — Herfindahl–Hirschman index on a 0–1 scale, per segment from sellers' user shares,
  averaged over segments weighted by adopters;
* ``open_share`` — share of adopters using open-weights models (open labs and the community);
* ``frontier_quality`` / ``open_quality`` — best general capability of any lab / of any open
  model; ``quality_gap`` is the best closed model's minus the best open one's (quality points);
* ``mean_price`` / ``mean_cost_to_serve`` — USD per user-month, weighted by users;
* ``model_access_markup`` — labs' user-weighted price over their cost to serve, minus 1;
* ``app_layer_revenue_share`` — app builders' share of the money users pay;
* ``app_layer_margin_share`` — app builders' share of the margin over the cost of serving
  users, after they pay for model access (where value sits, C4; pattern P6);
* ``consumer_surplus`` — adopters' logit surplus over not adopting,
  Σ adopters · (log Σ exp(u) − u₀) / price weight (USD millions per month; Small & Rosen 1981);
* ``leader.<segment>`` and ``first_mover_share.<segment>`` — who leads each segment, and the
  share of the segment's first entrant.

The patterns P1–P7 are checked in :mod:`model.patterns`, from the output tables.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from model.agents import Firm
    from model.model import AIMarketModel


def segment_shares(users: np.ndarray) -> np.ndarray:
    """[S, P] each provider's share of its segment's adopters (0 where a segment has none)."""
    totals = users.sum(axis=1, keepdims=True)
    return np.divide(users, totals, out=np.zeros(users.shape), where=totals > 0)


# ---------------------------------------------------------------- model-level indicators


def hhi(model: AIMarketModel) -> float:
    users = model.population.users()
    per_segment = (segment_shares(users) ** 2).sum(axis=1)
    weights = users.sum(axis=1)
    return float(per_segment @ weights / weights.sum()) if weights.sum() > 0 else float("nan")


def open_share(model: AIMarketModel) -> float:
    users = model.population.users().sum(axis=0)
    total = users.sum()
    return float(users[model.is_open].sum() / total) if total > 0 else 0.0


def frontier_quality(model: AIMarketModel) -> float:
    return model.frontier_quality()


def open_quality(model: AIMarketModel) -> float:
    """Best general capability of an open-weights model (open labs and the community)."""
    open_labs = [lab.quality for lab in model.labs if lab.active(model.month) and lab.is_open]
    community = [model.community.quality] if model.community.base is not None else []
    values = open_labs + community
    return max(values) if values else float("nan")


def quality_gap(model: AIMarketModel) -> float:
    """Best closed model minus best open model (negative when open models lead)."""
    return model.closed_frontier_quality() - open_quality(model)


def _user_weighted(model: AIMarketModel, values: np.ndarray) -> float:
    users = model.population.users()
    total = users.sum()
    return float((users * values).sum() / total) if total > 0 else float("nan")


def mean_price(model: AIMarketModel) -> float:
    return _user_weighted(model, model.price_usd)


def mean_cost_to_serve(model: AIMarketModel) -> float:
    return _user_weighted(model, np.broadcast_to(model.cost_to_serve_usd[:, None],
                                                 model.price_usd.shape))


def model_access_markup(model: AIMarketModel) -> float:
    """Labs' user-weighted price over their cost to serve, minus 1 (what model access earns)."""
    users = model.population.users()
    is_lab = np.array([seller.kind == "lab" for seller in model.sellers])
    lab_users = users[:, is_lab]
    cost = (lab_users * model.cost_to_serve_usd[:, None]).sum()
    return float((lab_users * model.price_usd[:, is_lab]).sum() / cost - 1.0) if cost > 0 \
        else float("nan")


def app_layer_revenue_share(model: AIMarketModel) -> float:
    revenue = model.population.users() * model.price_usd  # [S, P] USD/month paid by users
    is_app = np.array([seller.kind == "app" for seller in model.sellers])
    total = revenue.sum()
    return float(revenue[:, is_app].sum() / total) if total > 0 else 0.0


def app_layer_margin_share(model: AIMarketModel) -> float:
    """App builders' share of the margin users' money leaves after the cost of serving them:
    (app revenue − API fees) / (all user revenue − cost to serve). Where value sits (C4)."""
    users = model.population.users()
    revenue = users * model.price_usd
    is_app = np.array([seller.kind == "app" for seller in model.sellers])
    api_fees = sum(float(users[app.segment, model.market.position(app)])
                   * app.supplier.price_usd[app.segment] for app in model.apps)
    margin = revenue.sum() - float(users.sum(axis=1) @ model.cost_to_serve_usd)
    return float((revenue[:, is_app].sum() - api_fees) / margin) if margin > 0 else 0.0


def consumer_surplus(model: AIMarketModel) -> float:
    """USD millions per month: logit inclusive value of adopters, in money (Small & Rosen 1981)."""
    utility = np.where(model.available[:, None, :], model.utility, -np.inf)
    peak = utility.max(axis=2, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    inclusive = np.log(np.exp(utility - peak).sum(axis=2)) + peak[:, :, 0]  # [S, C]
    # surplus over not adopting, so a market with nothing worth having is worth zero
    inclusive = np.where(np.isfinite(inclusive),
                         inclusive - model.config.choice.outside_option_utils, 0.0)
    adopters = model.population.counts[:, :, 1:].sum(axis=2)  # [S, C]
    weight = np.where(model.price_weight > 0, model.price_weight, np.inf)
    return float((adopters * inclusive / weight[None, :]).sum() / 1e6)


def _leader(model: AIMarketModel, segment: int) -> str:
    users = model.population.users()[segment]
    return model.sellers[int(np.argmax(users))].firm_id if users.sum() > 0 else ""


def _first_mover_share(model: AIMarketModel, segment: int) -> float:
    if segment not in model.first_mover:
        return float("nan")
    seller, _ = model.first_mover[segment]
    users = model.population.users()[segment]
    return float(users[seller] / users.sum()) if users.sum() > 0 else 0.0


def model_reporters(segment_ids: list[str]) -> dict[str, Any]:
    reporters: dict[str, Any] = {
        "month": lambda m: m.month,
        "date": lambda m: m.date,
        "adopters": lambda m: int(m.population.adopters().sum()),
        "hhi": hhi,
        "open_share": open_share,
        "frontier_quality": frontier_quality,
        "open_quality": open_quality,
        "quality_gap": quality_gap,
        "mean_price": mean_price,
        "mean_cost_to_serve": mean_cost_to_serve,
        "model_access_markup": model_access_markup,
        "app_layer_revenue_share": app_layer_revenue_share,
        "app_layer_margin_share": app_layer_margin_share,
        "consumer_surplus": consumer_surplus,
    }
    for index, segment_id in enumerate(segment_ids):
        reporters[f"leader.{segment_id}"] = lambda m, s=index: _leader(m, s)
        reporters[f"first_mover.{segment_id}"] = lambda m, s=index: (
            m.sellers[m.first_mover[s][0]].firm_id if s in m.first_mover else "")
        reporters[f"first_mover_share.{segment_id}"] = lambda m, s=index: _first_mover_share(m, s)
    return reporters


# ---------------------------------------------------------------- firm-level indicators


def firm_users(firm: Firm) -> int:
    model = firm.model
    return int(model.users_of(firm).sum()) if id(firm) in model.market.index else 0


def firm_share(firm: Firm) -> float:
    total = firm.model.population.adopters().sum()
    return firm_users(firm) / total if total > 0 else 0.0


def firm_quality(firm: Firm) -> float:
    """General capability (labs, community); the app's quality in its segment; NaN for big tech."""
    if firm.kind == "app":
        return float(firm.segment_quality()[firm.segment])
    return float(getattr(firm, "quality", math.nan))


def prices_of(users: np.ndarray, price_usd: np.ndarray, served: np.ndarray) -> np.ndarray:
    """[R] user-weighted price over each row's segments, for rows of [R, S] users, prices and
    served masks (the mean list price where it serves if it has no users; NaN if it serves
    nowhere)."""
    total = users.sum(axis=1)
    offered = served.sum(axis=1)
    weighted = np.divide((users * price_usd).sum(axis=1), total, out=np.full(total.shape, np.nan),
                         where=total > 0)
    listed = np.divide(np.where(served, price_usd, 0.0).sum(axis=1), offered,
                       out=np.full(total.shape, np.nan), where=offered > 0)
    return np.where(total > 0, weighted, listed)


def firm_price(firm: Firm) -> float:
    """User-weighted price over the firm's segments (mean list price if it has no users)."""
    model = firm.model
    if id(firm) not in model.market.index:
        return math.nan
    return float(prices_of(model.users_of(firm)[None, :], firm.price_usd[None, :],
                           firm.serves(model.month)[None, :])[0])


FIRM_REPORTERS = {
    "month": lambda f: f.model.month,
    "date": lambda f: f.model.date,
    "firm": "firm_id",
    "kind": "kind",
    "users": firm_users,
    "share": firm_share,
    "revenue": "revenue_musd",
    "costs": "costs_musd",
    "funding_in": "funding_in_musd",
    "cash": "cash_musd",
    "credits": "credits_musd",
    "runway_months": lambda f: min(f.runway_months(), 999.0),
    "backers": lambda f: f.backer_ids(),
    "quality": firm_quality,
    "absorbed_points": lambda f: float(getattr(f, "absorbed_points", 0.0)),
    "price": firm_price,
    "alive": "alive",
}


# ---------------------------------------------------------------- read-outs for patterns


def first_mover(firms: pd.DataFrame) -> str:
    """The firm with the largest share of all adopters at month 0."""
    start = firms[firms["month"] == firms["month"].min()]
    return str(start.loc[start["share"].idxmax(), "firm"])
