"""The market as arrays over segments × sellers: what every offer is, read by agents and metrics.

:class:`MarketState` holds, for the S segments and the P sellers of a model (labs, apps, the
community, in the model's seller order), the ``[S, P]`` arrays of offer quality, price and
availability and the ``[P]`` openness of each seller. Agents write their own state (quality,
markups, entries); the model refreshes the arrays at fixed points of the month
(:meth:`refresh`), and reads like "the best rival's quality" are array operations on them
instead of loops over sellers, so a month costs time linear in the number of firms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.agents import Lab, Seller


class MarketState:
    """``[S, P]`` quality, price and availability of every seller's offers."""

    def __init__(self, sellers: Sequence[Seller], n_segments: int):
        self.sellers = list(sellers)
        self.index = {id(s): k for k, s in enumerate(self.sellers)}
        shape = (n_segments, len(self.sellers))
        self.quality = np.zeros(shape)
        self.price_usd = np.zeros(shape)
        self.available = np.zeros(shape, dtype=bool)
        self.is_open = np.zeros(len(self.sellers), dtype=bool)
        self._rivals: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def position(self, seller: Seller) -> int:
        """Column of ``seller`` in the arrays."""
        return self.index[id(seller)]

    def refresh(self, month: int) -> None:
        """Read every seller's quality, price and availability at ``month``."""
        self.quality = np.stack([s.segment_quality() for s in self.sellers], axis=1)
        self.price_usd = np.stack([s.price_usd for s in self.sellers], axis=1)
        self.available = np.stack([s.serves(month) for s in self.sellers], axis=1)
        self.is_open = np.array([s.is_open for s in self.sellers])

    def best_offer_quality(self) -> np.ndarray:
        """[S] best quality on offer in each segment (−inf where nobody serves)."""
        return np.where(self.available, self.quality, -np.inf).max(axis=1)

    # ---------------------------------------------------------------- rivals of labs

    def rank_rivals(self, month: int) -> None:
        """Rank the offers as they stand now for :meth:`best_rival_quality`.

        A lab's rivals are all sellers except itself and the apps running on its model, so
        sellers are grouped by the model beneath them (a lab and its apps; the community on
        its own) and each segment keeps the best and second-best group. This reads the
        sellers' current quality and availability without replacing the offer arrays users
        see (:meth:`refresh`).
        """
        quality = np.stack([s.segment_quality() for s in self.sellers], axis=1)
        served = np.stack([s.serves(month) for s in self.sellers], axis=1)
        offered = np.where(served, quality, -np.inf)  # [S, P]
        group = np.array([self.index[id(getattr(s, "supplier", s))] for s in self.sellers])
        best_of_group = np.full(offered.T.shape, -np.inf)  # [G = P, S]
        np.maximum.at(best_of_group, group, offered.T)
        top = np.argmax(best_of_group, axis=0)  # [S]
        columns = np.arange(best_of_group.shape[1])
        first = best_of_group[top, columns]
        without_top = best_of_group.copy()
        without_top[top, columns] = -np.inf
        self._rivals = (top, first, without_top.max(axis=0))

    def best_rival_quality(self, lab: Lab) -> np.ndarray:
        """[S] best quality offered by a seller not running on ``lab``'s model (as ranked by
        the last :meth:`rank_rivals`)."""
        if self._rivals is None:
            raise RuntimeError("rank_rivals() must be called first")
        top, first, second = self._rivals
        return np.where(top == self.index[id(lab)], second, first)
