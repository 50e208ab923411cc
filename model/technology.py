"""How spend becomes capability, and how capability ages: small pure functions.

* pre-training: capability grows with the log of cumulative training spend, so a run's gain is
  ``points · 2^(−month / half_life) · log2((ref + stock + cost) / (ref + stock))`` times a
  log-normal surprise — each doubling buys less as time passes (C2); a run also closes a share
  of the lab's gap to the frontier, since ideas diffuse between labs (C29);
* post-training: a segment's gain per month is ``points_per_year / 12 · log2(1 + spend / ref)``
  — returns that do not decay (C3);
* open catch-up: the community closes a share of the gap to the frontier and adds its own
  innovations, both scaled by its strength ``C / (C + C½)`` in contributors (C12, C14, C17);
* brand: the first entrant's stock halves every ``half_life`` months (C5, C7).
"""

from __future__ import annotations

import math

import numpy as np


def pretrain_gain(run_cost_musd: float, stock_musd: float, reference_musd: float,
                  points_per_doubling: float, month: int, half_life_months: float,
                  surprise: float = 1.0) -> float:
    """Quality points a pre-training run adds on top of ``stock_musd`` already spent."""
    returns = points_per_doubling * 0.5 ** (month / half_life_months)
    base = reference_musd + stock_musd
    return returns * math.log2((base + run_cost_musd) / base) * surprise


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
