"""What an offer is worth to a user: the utility the logit choice in :mod:`moatsim.population` uses.

Utility of provider k in segment s to cohort c (in utils, one util ≈ the spread of the logit's
random taste term):

    u[s, c, k] = quality_weight[c] · quality[s, k] − price_weight[c] · price[s, k]
                 + open_preference[s, c] · is_open[s, k]

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
    """[S, C, P] utilities from quality [S, P], price [S, P], openness ([S, P] per offer, or
    [P] per seller), tastes [C] and the taste for open weights ([S, C], or [C] in every
    segment alike)."""
    appeal = np.broadcast_to(open_preference, (quality.shape[0], len(quality_weight)))
    return (
        quality_weight[None, :, None] * quality[:, None, :]
        - price_weight[None, :, None] * price_usd[:, None, :]
        + appeal[:, :, None]
        * np.broadcast_to(is_open, quality.shape)[:, None, :].astype(float)
    )


def with_free_tiers(paid_utility: np.ndarray, price_usd: np.ndarray, free_tier_gap: np.ndarray,
                    quality_weight: np.ndarray, price_weight: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A provider's utility when it also offers a free tier, and the share of its users who pay.

    The free tier is the same offer at price 0 with a model ``free_tier_gap`` [S, P] points
    worse (NaN: no free tier). Users choose among all products by logit, so a provider with
    two tiers is worth their log-sum to a cohort and its users split between the tiers by
    the within-provider logit (a switching-cost bonus moves both tiers alike): returns
    ``([S, C, P] log-sum utility, [S, C, P] share of its users on the paid tier)``.
    """
    has_free = ~np.isnan(free_tier_gap)[:, None, :]
    free = (paid_utility + price_weight[None, :, None] * price_usd[:, None, :]
            - quality_weight[None, :, None] * np.nan_to_num(free_tier_gap)[:, None, :])
    utility = np.where(has_free, np.logaddexp(paid_utility, free), paid_utility)
    return utility, np.where(has_free, np.exp(paid_utility - utility), 1.0)
