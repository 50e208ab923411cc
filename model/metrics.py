"""Market indicators: what the model reports each month about the market and each firm.

Indicators are computed from the model each month and collected by Mesa's DataCollector into
``model.csv`` (one row per month) and ``firms.csv`` (one row per month × firm):

* ``hhi`` — Herfindahl–Hirschman index on a 0–1 scale, per segment from sellers' user shares,
  averaged over segments weighted by adopters;
* ``open_share`` — share of adopters using open-weights models (open labs and the community);
* ``frontier_quality`` / ``open_quality`` — best language-model (text) capability of any lab /
  of any open-weights model (NaN while there is none); ``quality_gap`` is the best closed
  language model's minus the best open one's (quality points);
* ``mean_price_usd`` / ``mean_cost_to_serve_usd`` — USD per user-month, weighted by users;
* ``model_access_markup`` — labs' user-weighted price over their cost to serve, minus 1;
* ``app_layer_revenue_share`` — app builders' share of the money users pay;
* ``app_layer_margin_share`` — app builders' share of the margin over the cost of serving
  users, after they pay for model access (where value sits, C4; pattern P6);
* ``consumer_surplus_musd`` — adopters' logit surplus over not adopting,
  Σ adopters · (log Σ exp(u) − u₀) / price weight (USD millions per month; Small & Rosen 1981);
* ``pricing_iterations`` / ``pricing_foc_residual`` — how the month's best-response prices were
  found: evaluations of the fixed point, and the largest |first-order condition| / demand at
  the prices chosen (0 and NaN under the lead-markup rule; :mod:`moatsim.pricing`);
* ``leader.<segment>`` and ``first_mover_share.<segment>`` — who leads each segment, and the
  share of the segment's first entrant;
* ``providers_per_user.<segment>`` — providers an adopter of the segment uses, on average
  (1 where users single-home; :mod:`moatsim.multihoming`).

Shares, leaders, prices and revenue are of *use*: a user's month of work, split among its
providers where users multi-home, and the user itself where they single-home. ``users`` of a
firm count everyone who uses it.

The patterns P1–P7 are checked in :mod:`moatsim.patterns`, from the output tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moatsim.market import APP, LAB
from moatsim.scenario import MODALITIES

if TYPE_CHECKING:
    from moatsim.agents import Firm
    from moatsim.model import AIMarketModel


def segment_shares(users: np.ndarray) -> np.ndarray:
    """[..., S, P] each provider's share of its segment's adopters (0 where a segment has none)."""
    totals = users.sum(axis=-1, keepdims=True)
    return np.divide(users, totals, out=np.zeros(users.shape), where=totals > 0)


# ---------------------------------------------------------------- model-level indicators


@dataclass(frozen=True)
class MarketRecords:
    """What the model-level indicators are computed from, for T months stacked (T may be 1).

    Per month: ``users`` [T, S, P] of each seller (a multi-homing user counted at each of its
    providers) and ``use`` [T, S, P], the user-months of work each serves (a segment's use
    adds up to its adopters), of which ``paying_users`` is on paid tiers, and use in
    serving-cost units, ``serving_units`` (a free-tier user counts as a share of one); the
    offers users saw, ``price_usd`` and ``available``
    [T, S, P] and whether each was an open-weights model, ``is_open`` [T, S, P], and whether
    each seller's own weights were open, ``open_weights`` [T, P];
    ``cost_to_serve_usd`` [T, S]; what a user of each app costs it in API fees (its
    suppliers' prices weighted by its route), ``api_price_usd`` [T, S, A]; ``utility``
    [T, S, C, P]; adopters by cohort, ``cohort_adopters`` [T, S, C]; the best capability of any lab, of a closed lab and of an open
    model (``frontier``, ``closed_frontier``, ``open_quality`` [T]); the first entrant of each
    segment, ``first_movers`` (T dicts segment → (column, month)); how prices were found,
    ``pricing_iterations`` and ``pricing_foc_residual`` [T]. Constant: ``kind`` [P]
    (:data:`moatsim.market.LAB`, ``APP``, ``COMMUNITY``), the sellers' ids,
    the cohorts' ``price_weight`` [C] and the outside option's utility.
    """

    months: np.ndarray
    dates: list[str]
    users: np.ndarray
    use: np.ndarray
    paying_users: np.ndarray
    serving_units: np.ndarray
    price_usd: np.ndarray
    available: np.ndarray
    is_open: np.ndarray
    open_weights: np.ndarray
    cost_to_serve_usd: np.ndarray
    api_price_usd: np.ndarray
    utility: np.ndarray
    cohort_adopters: np.ndarray
    frontier: np.ndarray
    closed_frontier: np.ndarray
    open_quality: np.ndarray
    first_movers: list[dict[int, tuple[int, int]]]
    pricing_iterations: np.ndarray
    pricing_foc_residual: np.ndarray
    kind: np.ndarray
    seller_ids: list[str]
    segment_ids: list[str]
    price_weight: np.ndarray
    outside_utility: float


def _flat_sum(values: np.ndarray) -> np.ndarray:
    """[T] sum over everything but the month axis (each month summed as one flat array)."""
    return values.reshape(values.shape[0], -1).sum(axis=1)


def _selection_sum(values: np.ndarray) -> np.ndarray:
    """[T] sum of each month's [S, K] values taken over the sellers of one kind, added up in
    the order numpy sums such a selection ``a[:, mask]`` of a month (column by column)."""
    return _flat_sum(np.swapaxes(values, 1, 2))


def open_users(r: MarketRecords) -> np.ndarray:
    """[T, S, P] use of open-weights models: of open offers, and the free-tier use of a
    licensed (closed) offer whose seller's own weights, which its free tier runs on, are
    open."""
    users = r.use
    free_on_own = ~r.is_open & r.open_weights[:, None, :]
    return np.where(r.is_open, users, np.where(free_on_own, users - r.paying_users, 0.0))


def _ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.full(numerator.shape, empty, dtype=float),
                     where=denominator > 0)


def open_quality(model: AIMarketModel) -> float:
    """Best language-model capability of an open-weights model (open labs and the community),
    on the scale of ``frontier_quality``; NaN while no open language model exists (an open
    image model is not a rival of GPT-4 on this index)."""
    return model.best_open_capability(MODALITIES.index("text"))


def indicator_names(segment_ids: list[str]) -> list[str]:
    """Names of the model-level indicators, in the order of :func:`indicators`."""
    names = ["month", "date", "adopters", "hhi", "open_share", "frontier_quality",
             "open_quality", "quality_gap", "mean_price_usd", "mean_cost_to_serve_usd",
             "model_access_markup", "app_layer_revenue_share", "app_layer_margin_share",
             "consumer_surplus_musd", "pricing_iterations", "pricing_foc_residual"]
    for segment_id in segment_ids:
        names += [f"leader.{segment_id}", f"first_mover.{segment_id}",
                  f"first_mover_share.{segment_id}", f"providers_per_user.{segment_id}"]
    return names


def indicators(r: MarketRecords) -> dict[str, Any]:
    """Every model-level indicator (module docstring) for each month: name → [T] values."""
    users = r.use
    n_months = users.shape[0]
    segment_users = r.cohort_adopters.sum(axis=2)  # [T, S] adopters: what use adds up to
    total = segment_users.sum(axis=1)  # [T]
    shares = segment_shares(users)
    per_segment = (shares ** 2).sum(axis=2)
    revenue = r.paying_users * r.price_usd  # [T, S, P] USD/month paid by users
    is_lab, is_app = r.kind == LAB, r.kind == APP
    lab_cost = _selection_sum(r.serving_units[:, :, is_lab] * r.cost_to_serve_usd[:, :, None])
    all_revenue = _flat_sum(revenue)
    app_revenue = _selection_sum(revenue[:, :, is_app])
    # app builders pay their suppliers' prices for each of their users (added up in app order)
    # (an app's use is 0 outside its one segment, so summing over segments adds exact zeros)
    apps = np.flatnonzero(is_app)
    fees = (users[:, :, apps].astype(float) * r.api_price_usd).sum(axis=1)  # [T, apps]
    api_fees = np.cumsum(fees, axis=1)[:, -1] if apps.size else np.zeros(n_months)
    margin = all_revenue - (r.serving_units.sum(axis=2) * r.cost_to_serve_usd).sum(axis=1)
    # consumer surplus: adopters' logit inclusive value over not adopting, in money
    utility = np.where(r.available[:, :, None, :], r.utility, -np.inf)
    peak = utility.max(axis=3, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    inclusive = np.log(np.exp(utility - peak).sum(axis=3)) + peak[:, :, :, 0]  # [T, S, C]
    inclusive = np.where(np.isfinite(inclusive), inclusive - r.outside_utility, 0.0)
    weight = np.where(r.price_weight > 0, r.price_weight, np.inf)
    columns: dict[str, Any] = {
        "month": r.months,
        "date": list(r.dates),
        "adopters": total,
        "hhi": _ratio((per_segment * segment_users).sum(axis=1), total, np.nan),
        "open_share": _ratio(open_users(r).sum(axis=(1, 2)), total, 0.0),
        "frontier_quality": r.frontier,
        "open_quality": r.open_quality,
        "quality_gap": r.closed_frontier - r.open_quality,
        "mean_price_usd": _ratio(_flat_sum(revenue), total, np.nan),
        "mean_cost_to_serve_usd": _ratio(_flat_sum(r.serving_units * np.broadcast_to(
            r.cost_to_serve_usd[:, :, None], users.shape)), total, np.nan),
        "model_access_markup": _ratio(_selection_sum(revenue[:, :, is_lab]), lab_cost,
                                      np.nan) - 1.0,
        "app_layer_revenue_share": _ratio(app_revenue, all_revenue, 0.0),
        "app_layer_margin_share": _ratio(app_revenue - api_fees, margin, 0.0),
        "consumer_surplus_musd": _flat_sum(r.cohort_adopters * inclusive / weight[None, None, :])
        / 1e6,
        "pricing_iterations": r.pricing_iterations,
        "pricing_foc_residual": r.pricing_foc_residual,
    }
    leader = np.argmax(users, axis=2)  # [T, S]
    for s, segment_id in enumerate(r.segment_ids):
        columns[f"leader.{segment_id}"] = [
            r.seller_ids[leader[t, s]] if segment_users[t, s] > 0 else ""
            for t in range(n_months)]
        firsts = [first.get(s) for first in r.first_movers]
        columns[f"first_mover.{segment_id}"] = [
            "" if first is None else r.seller_ids[first[0]] for first in firsts]
        columns[f"first_mover_share.{segment_id}"] = [
            math.nan if first is None else
            (float(users[t, s, first[0]] / segment_users[t, s]) if segment_users[t, s] > 0
             else 0.0)
            for t, first in enumerate(firsts)]
        columns[f"providers_per_user.{segment_id}"] = _ratio(
            r.users[:, s].sum(axis=1).astype(float), segment_users[:, s], np.nan)
    return columns


# ---------------------------------------------------------------- firm-level indicators


def firm_users(firm: Firm) -> int:
    """Users of the firm's offers (a multi-homing user counts at each of its providers)."""
    model = firm.model
    return int(model.users_of(firm).sum()) if id(firm) in model.market.index else 0


def firm_share(firm: Firm) -> float:
    """The firm's share of all adopters' use (of users, where users single-home)."""
    model = firm.model
    total = model.population.adopters().sum()
    if total <= 0 or id(firm) not in model.market.index:
        return 0.0
    return float(model.use_of(firm).sum()) / total


def recorded_runway(firm: Firm) -> float:
    """Months of runway as the tables hold it: NaN (an empty cell) when the firm is not
    burning cash, so has no runway limit, rather than a sentinel number."""
    runway = firm.runway_months()
    return runway if math.isfinite(runway) else math.nan


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
    """Use-weighted price over the firm's segments (mean list price if it has no users)."""
    model = firm.model
    if id(firm) not in model.market.index:
        return math.nan
    return float(prices_of(model.use_of(firm)[None, :], firm.price_usd[None, :],
                           firm.serves(model.month)[None, :])[0])


FIRM_REPORTERS = {
    "month": lambda f: f.model.month,
    "date": lambda f: f.model.date,
    "firm": "firm_id",
    "kind": "kind",
    "users": firm_users,
    "share": firm_share,
    "revenue_musd": "revenue_musd",
    "costs_musd": "costs_musd",
    "funding_in_musd": "funding_in_musd",
    "cash_musd": "cash_musd",
    "credits_musd": "credits_musd",
    "runway_months": recorded_runway,
    "quality": firm_quality,
    "absorbed_points": lambda f: float(getattr(f, "absorbed_points", 0.0)),
    "price_usd": firm_price,
    "alive": "alive",
}


# ---------------------------------------------------------------- read-outs for patterns


def first_mover(firms: pd.DataFrame) -> str:
    """The firm with the largest share of all adopters at month 0."""
    start = firms[firms["month"] == firms["month"].min()]
    return str(start.loc[start["share"].idxmax(), "firm"])
