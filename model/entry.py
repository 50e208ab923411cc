"""Endogenous entry: whether founding a new lab is worth it this month (issue 13, point 1).

A prospective entrant builds its first product on the best open-weights model it can see (as
Mistral and DeepSeek did; open weights spread at once, C17, C29) and asks, for each segment it
may serve, what that product would earn: the users it would win among this month's choosers
(the logit over the outside option, the offers on sale and its own, at the segment's mean
price), kept for a payback horizon, times the margin sellers earn there per user-month. Entry
is worth it where that value repays the founding round it must raise — a free-entry condition
with a sunk cost (Bresnahan & Reiss 1991; Sutton 1991). Whether the round can be raised is the
VC pool's question (:mod:`moatsim.finance`). Pure numpy: the model supplies the arrays.
"""

from __future__ import annotations

import numpy as np

from moatsim.market import NEVER

NOT_FOUNDED = NEVER
"""Founding month of a prospective entrant the entry decision has not founded."""


def entrant_share(utility: np.ndarray, available: np.ndarray, outside_utility: float,
                  entrant_utility: np.ndarray) -> np.ndarray:
    """[S, C] the logit share an extra offer worth ``entrant_utility`` [S, C] would take among
    the outside option and the offers on sale (``utility`` [S, C, P], ``available`` [S, P])."""
    offered = np.where(available[:, None, :], utility, -np.inf)
    peak = np.maximum(np.maximum(offered.max(axis=2), outside_utility), entrant_utility)
    weights = np.exp(offered - peak[:, :, None]).sum(axis=2) + np.exp(outside_utility - peak)
    mine = np.exp(entrant_utility - peak)
    return mine / (weights + mine)


def entry_value_musd(share: np.ndarray, choosers: np.ndarray, margin_usd: np.ndarray,
                     payback_months: float) -> np.ndarray:
    """[S] margin (USD millions) an entrant would earn in each segment over the horizon: it
    wins ``share`` [S, C] of the ``choosers`` [S, C] each month and keeps them, so over H
    months it serves ``flow · H (H + 1) / 2`` user-months at ``margin_usd`` [S] each."""
    flow = (share * choosers).sum(axis=1)
    user_months = flow * payback_months * (payback_months + 1.0) / 2.0
    return user_months * np.maximum(margin_usd, 0.0) / 1e6
