"""What an offer is worth to a user: the utility the logit choice in :mod:`model.population` uses.

Utility of provider k in segment s to cohort c (in utils, one util ≈ the spread of the logit's
random taste term):

    u[s, c, k] = quality_weight[c] · quality[s, k] − price_weight[c] · price[s, k]
                 + open_preference[c] · is_open[k]

Pure numpy, no Mesa: agents supply quality and price, the scenario supplies tastes.
"""

from __future__ import annotations

import numpy as np


def offer_utility(
    quality: np.ndarray,
    price_usd: np.ndarray,
    is_open: np.ndarray,
    quality_weight: np.ndarray,
    price_weight: np.ndarray,
    open_preference: np.ndarray,
) -> np.ndarray:
    """[S, C, P] utilities from quality [S, P], price [S, P], openness [P] and tastes [C]."""
    return (
        quality_weight[None, :, None] * quality[:, None, :]
        - price_weight[None, :, None] * price_usd[:, None, :]
        + open_preference[None, :, None] * is_open[None, None, :].astype(float)
    )
