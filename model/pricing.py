"""Prices: the markup a seller can keep shrinks as rivals, open models included, catch up (C4, C15).

    target_markup = floor + (max − floor) · (1 − exp(−lead⁺ / scale))

where ``lead`` is the seller's quality in a segment minus the best rival's there. A seller moves
a share of the way to its target each month, so prices fall toward the cost of serving as the
quality gap closes (pattern P4).
"""

from __future__ import annotations

import numpy as np


def target_markup(lead_points: np.ndarray, max_markup: float, floor: float,
                  scale_points: float) -> np.ndarray:
    lead = np.maximum(np.asarray(lead_points, dtype=float), 0.0)
    return floor + (max_markup - floor) * (1.0 - np.exp(-lead / scale_points))


def list_prices(unit_cost_usd: np.ndarray, markup: np.ndarray) -> np.ndarray:
    """Price = unit cost × (1 + markup), elementwise."""
    return unit_cost_usd * (1.0 + markup)


def adjust(current: np.ndarray, target: np.ndarray, share: float) -> np.ndarray:
    """Move ``share`` of the way from ``current`` to ``target``."""
    return current + share * (target - current)
