"""How spend becomes capability, and how capability ages: small pure functions.

* pre-training (``effective_compute`` rule, :func:`effective_compute_run`): a run buys
  effective compute in each modality — its dollars at this month's FLOP per dollar and
  algorithms — and reaches further by imitating the best model it can see; capability rises by
  ``points · 2^(−month / half_life)`` per doubling beyond the lab's best run (C2, C28, C29);
* pre-training (``gap_share`` rule, kept for comparison): capability grows with the log of
  cumulative training spend, ``points · 2^(−month / half_life) · log2((ref + stock + cost) /
  (ref + stock))`` times a log-normal surprise, and a run also closes a share of the lab's gap
  to the frontier;
* post-training: a segment's gain per month is ``points_per_year / 12 · log2(1 + spend / ref)``
  — returns that do not decay (C3);
* open catch-up: the community closes a share of the gap to the frontier and adds its own
  innovations, both scaled by its strength ``C / (C + C½)`` in contributors (C12, C14, C17);
* brand: the first entrant's stock halves every ``half_life`` months (C5, C7).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from moatsim.scenario import Scenario


def pretrain_gain(run_cost_musd: float, stock_musd: float, reference_musd: float,
                  points_per_doubling: float, month: int, half_life_months: float,
                  surprise: float = 1.0) -> float:
    """Quality points a pre-training run adds on top of ``stock_musd`` already spent."""
    returns = points_per_doubling * 0.5 ** (month / half_life_months)
    base = reference_musd + stock_musd
    return returns * math.log2((base + run_cost_musd) / base) * surprise


def anchors(config: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """[M] anchor models' final-run cost (USD millions, 2023-01 prices) and capability (points),
    in the order of :data:`moatsim.scenario.MODALITIES`."""
    tech = config.technology
    cost = np.array([tech.text_anchor_run_musd, tech.image_anchor_run_musd,
                     tech.video_anchor_run_musd])
    points = np.array([tech.text_anchor_points, tech.image_anchor_points,
                       tech.video_anchor_points])
    return cost, points


def log2_compute_of(capability: np.ndarray, config: Scenario) -> np.ndarray:
    """[M] effective compute (log2, relative to each modality's anchor model) that gives
    ``capability`` at 2023 returns: the inverse of ``anchor + points_per_doubling · log2 E``."""
    _, points = anchors(config)
    per_doubling = max(config.commoditization.pretrain_points_per_doubling, 1e-9)
    return (np.asarray(capability, dtype=float) - points) / per_doubling


def pretrain_points_per_doubling(month: int, config: Scenario) -> float:
    """Capability points a doubling of effective compute adds at ``month``: ``π0 ·
    2^(−month / half_life)`` (C2: the returns to pre-training decline)."""
    commod = config.commoditization
    return commod.pretrain_points_per_doubling * 0.5 ** (
        month / commod.pretrain_returns_half_life_months)


def imitate(own_log2: np.ndarray, visible_log2: np.ndarray, reach_doublings: float) -> np.ndarray:
    """[M] effective compute (log2) reached by imitating the best visible model (NaN: none):
    toward it, by at most ``reach_doublings`` above what one's own compute gives."""
    toward = np.minimum(visible_log2, own_log2 + reach_doublings)
    return np.where(np.isnan(visible_log2), own_log2, np.maximum(own_log2, toward))


def effective_compute_run(capability: np.ndarray, compute_log2: np.ndarray, users: np.ndarray,
                          run_musd: float, month: int, visible_log2: np.ndarray, draw: float,
                          config: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """One pre-training run of a lab with [M] ``capability`` (NaN: no model there), best runs
    so far ``compute_log2`` and ``users`` per modality: ([M] points gained, [M] best runs after).

    The run's ``run_musd`` is split over the modalities it has a model in, by users plus a
    floor; the final run's share of each part buys ``cost / anchor cost × (FLOP/$ growth ×
    algorithmic progress)^years`` of the anchor's effective compute, times ``e^draw`` (the
    run's surprise). Imitation lifts it toward the best model the lab can see
    (``visible_log2``, NaN where none), by at most ``imitation_reach_doublings``. Each doubling
    beyond its best run adds ``points_per_doubling · 2^(−month / half_life)`` (C2)."""
    tech = config.technology
    has = ~np.isnan(capability)
    weight = np.where(has, users + tech.modality_floor_share * users.sum() + 1.0, 0.0)
    share = weight / weight.sum()
    cost, _ = anchors(config)
    years = month / 12.0
    spent = np.maximum(share * run_musd * tech.final_run_share, 1e-12)
    run = (np.log2(spent / cost)
           + years * math.log2(tech.hardware_flop_per_usd_growth_per_year
                               * tech.algorithmic_progress_per_year)
           + draw / math.log(2.0))
    reached = imitate(run, visible_log2, tech.imitation_reach_doublings)
    gain = np.where(has, pretrain_points_per_doubling(month, config)
                    * np.maximum(reached - compute_log2, 0.0), 0.0)
    return gain, np.where(has, np.maximum(compute_log2, reached), compute_log2)


def posttrain_gain(spend_musd: np.ndarray, reference_musd: float,
                   points_per_doubling_year: float) -> np.ndarray:
    """[S] quality points one month of post-training adds in each segment."""
    return points_per_doubling_year / 12.0 * np.log2(1.0 + np.asarray(spend_musd) / reference_musd)


def posttrain_spend(budget_musd: np.ndarray, users: np.ndarray,
                    served: np.ndarray) -> np.ndarray:
    """[N, S] each seller's post-training budget [N] split over the segments it serves
    ([N, S] mask, at least one per row) in proportion to users + 1 there (C3: effort goes
    where the users are)."""
    weight = np.where(served, np.asarray(users, dtype=float) + 1.0, 0.0)
    return budget_musd[:, None] * (weight / weight.sum(axis=1, keepdims=True))


def catch_up(quality: float, frontier: float, rate: float, contributors: float,
             half_strength: float, innovation_points_per_year: float = 0.0) -> float:
    """Community quality after a month of closing the gap to the frontier and innovating."""
    strength = contributors / (contributors + half_strength)
    return quality + strength * (rate * max(frontier - quality, 0.0)
                                 + innovation_points_per_year / 12.0)


def brand_stock(initial_utils: float, months_since_entry: np.ndarray,
                half_life_months: float) -> np.ndarray:
    """Brand utility of a first entrant, decaying since it entered."""
    age = np.maximum(np.asarray(months_since_entry, dtype=float), 0.0)
    return initial_utils * 0.5 ** (age / half_life_months)


def trust_stock(stock_musd: float, spend_musd: float, half_life_months: float) -> float:
    """A goodwill stock after one month (Nerlove & Arrow 1962): last month's, worn off by
    the half-life, plus this month's spending."""
    return stock_musd * 0.5 ** (1.0 / half_life_months) + spend_musd


def trust_utility(stock_musd: np.ndarray, weight_utils: np.ndarray,
                  scale_musd: float) -> np.ndarray:
    """[S, P] what sellers' trust stocks [P] are worth in segments of weight [S]: declining
    returns to the stock, ``weight · ln(1 + stock / scale)``."""
    return weight_utils[:, None] * np.log1p(np.asarray(stock_musd) / scale_musd)[None, :]
