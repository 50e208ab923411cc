"""Multi-homing: users who work with several providers at once (issue 13, point 3; H8).

An enterprise team or a developer keeps a *primary* provider — the one it chose by logit in
:mod:`moatsim.population`, with the switching cost that comes with an account, contracts and
habits — and may add others. Each task has its own taste shock (the same unit-scale Gumbel
term as the user-level logit), so a user with the set ``A`` routes each task to the provider
that suits it best: it sends ``exp(u_j) / Σ_{i∈A} exp(u_i)`` of its use to ``j`` and gets the
log-sum ``ln Σ_{i∈A} exp(u_i)`` from the set (McFadden 1978; the expected maximum of Gumbel
draws). Each provider beyond the first costs the user ``c`` utils a month (integration,
security review, a second contract). For a given size the best set is the primary and the
best others, and the gain ``g_m`` from adding the m-th best other falls with m, so a user
adds providers, best first, while ``g_m > c`` (a discrete version of the
multiple-discrete-continuous choice of Bhat 2008).

Users differ in what an extra provider costs them: ``c`` is exponential with mean ``c̄`` (the
segment's ``extra_provider_cost_utils``), so of a cell's users with primary ``k`` a share
``P_m = 1 − exp(−g_m / c̄)`` has at least m others. Without this spread every user of a cell
would choose the same set, and a provider would hold all or none of a cohort's second
place as its utility crossed a threshold.

Use — the share of a user's month of work (tasks; tokens at equal task size) — is what
providers are paid for and what shares of a multi-homing segment measure; *reach* is the
number of users who use a provider at all, each multi-homing user counted at every provider
in its set. In a segment where ``c̄`` is NaN users single-home, and use and reach are the
primary counts. Pure numpy: the model supplies utilities and counts.
"""

from __future__ import annotations

import numpy as np


def use_split(utility: np.ndarray, available: np.ndarray,
              extra_provider_cost_utils: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the users of each primary provider send their work, and whom they use.

    ``utility`` [S, C, P] of each offer to each cohort, ``available`` [S, P], and the mean
    cost of each provider beyond the first, ``extra_provider_cost_utils`` [S] (NaN: users of
    the segment single-home). Returns ``(split, used)``, both [S, C, K, P]: the share of its
    work a user of primary ``K`` sends to ``P`` (each row sums to 1, so a segment's use adds
    up to its adopters), and the share of those users who use ``P`` at all.
    """
    n_segments, n_cohorts, n_providers = utility.shape
    split = np.zeros((n_segments, n_cohorts, n_providers, n_providers))
    single = np.isnan(extra_provider_cost_utils)
    split[single] = np.eye(n_providers)
    used = split.copy()
    multi = np.flatnonzero(~single)
    if multi.size:
        split[multi], used[multi] = _split_multi(utility[multi], available[multi],
                                                 extra_provider_cost_utils[multi])
    return split, used


def _split_multi(utility: np.ndarray, available: np.ndarray,
                 mean_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`use_split` for segments where users may multi-home ([S', C, K, P] each)."""
    n_segments, n_cohorts, n_providers = utility.shape
    masked = np.where(available[:, None, :], utility, -np.inf)
    peak = masked.max(axis=2, keepdims=True)
    weight = np.exp(masked - np.where(np.isfinite(peak), peak, 0.0))  # [S, C, P], 0 if absent
    order = np.argsort(-weight, axis=2, kind="stable")
    rank = np.argsort(order, axis=2, kind="stable")  # each provider's place, best first
    ranked = np.take_along_axis(weight, order, axis=2)
    # total[s, c, k, m]: weight of primary k and its m best other providers (m = 0 … P−1):
    # the first m overall when k is not among them, else the first m + 1 less k itself
    prefix = np.concatenate([np.zeros((n_segments, n_cohorts, 1)), np.cumsum(ranked, axis=2)],
                            axis=2)  # [S, C, P+1]
    m = np.arange(n_providers)[None, None, None, :]
    own = weight[:, :, :, None]
    others = np.where(m <= rank[:, :, :, None], prefix[:, :, None, :n_providers],
                      prefix[:, :, None, 1:] - own)
    total = own + np.maximum(others, 0.0)
    n_others = available.sum(axis=1)[:, None, None, None] - 1
    feasible = (m <= n_others) & (own > 0)
    # gain[..., m]: what the m-th best other adds to the log-sum (m ≥ 1); 0 where none is left
    with np.errstate(divide="ignore", invalid="ignore"):
        log_total = np.where(feasible, np.log(np.where(feasible, total, 1.0)), 0.0)
    gain = np.zeros_like(total)
    gain[..., 1:] = np.where(feasible[..., 1:], log_total[..., 1:] - log_total[..., :-1], 0.0)
    # at_least[..., m]: share of users whose cost of a provider is below g_m (nested, as g_m
    # falls with m): they use the primary and at least its m best others
    cost = mean_cost[:, None, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        at_least = np.where(cost > 0, -np.expm1(-gain / np.where(cost > 0, cost, 1.0)),
                            (gain > 0).astype(float))
    at_least[..., 0] = 1.0
    at_least = np.minimum.accumulate(at_least, axis=3)  # guards round-off in the nesting
    exactly = at_least - np.concatenate([at_least[..., 1:], np.zeros_like(at_least[..., :1])],
                                        axis=3)
    # a user with m others sends w_j / total_m to each provider of its set; a provider that
    # is k's r-th best other is in every set with m ≥ r
    per_weight = np.divide(exactly, total, out=np.zeros_like(total), where=total > 0)
    from_m_on = np.flip(np.cumsum(np.flip(per_weight, axis=3), axis=3), axis=3)
    others_rank = rank[:, :, None, :] - (rank[:, :, None, :] > rank[:, :, :, None])  # [.., K, P]
    place = np.where(np.eye(n_providers, dtype=bool)[None, None], 0, others_rank + 1)
    on_offer = weight[:, :, None, :] > 0
    split = np.where(on_offer,
                     weight[:, :, None, :] * np.take_along_axis(from_m_on, place, axis=3), 0.0)
    used = np.where(on_offer, np.take_along_axis(at_least, place, axis=3), 0.0)
    # a primary that is not on offer keeps its (empty) row on itself, so every row sums to 1
    empty = ~(own[..., 0] > 0)[..., None]
    eye = np.eye(n_providers)[None, None]
    return np.where(empty, eye, split), np.where(empty, eye, used)


def use_and_reach(counts: np.ndarray, split: np.ndarray,
                  used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Users' use [S, C, P] (user-months of work sent to each provider) and reach [S, P]
    (users who send it any, expected and rounded to whole users) from primary ``counts``
    [S, C, K] and :func:`use_split`'s ``split`` and ``used``."""
    use = np.einsum("sck,sckp->scp", counts.astype(float), split)
    reach = np.rint(np.einsum("sck,sckp->sp", counts.astype(float), used)).astype(np.int64)
    return use, reach
