"""Users as counts: Bass adoption and multinomial-logit choice with switching cost, in numpy.

The state is ``counts[segment, cohort, provider]`` (int64), where provider 0 means "has not
adopted" and providers 1…P are the firms' offerings. Users within a cell are exchangeable, so
drawing how many of them do something with exact binomial/multinomial draws gives the same
distribution as running one agent per user — at a cost that depends on the number of cells and
providers, not on the number of users (tests/test_population.py checks this against a
one-object-per-user reference). This module knows nothing of Mesa, firms or files.

Each month, in this order:

1. *adoption* — each non-adopter adopts with probability ``h · (1 − s₀)``: the Bass hazard
   ``h = p + q · adopted_share`` (Bass 1969) times the chance that the best of the offers beats
   the outside option (``s₀``, its logit share); adopters pick a provider by logit;
2. *reconsideration* — each adopter looks around with probability ``r`` (1 if their provider
   is gone) and picks by logit, their current provider getting the switching-cost bonus;
   users of a vanished provider with nothing left to choose return to "not adopted".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOT_ADOPTED = 0


@dataclass(frozen=True)
class MonthlyFlows:
    """What moved during one month (users), for accounting and outputs."""

    adopted: np.ndarray  # [segment, provider] new adopters by chosen provider (provider ≥ 1)
    switched_in: np.ndarray  # [segment, provider] users who came from another provider
    switched_out: np.ndarray  # [segment, provider] users who left (for another provider, or
    # back to "not adopted" when nothing is offered in their segment)


def logit_probabilities(utility: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Choice probabilities over the last axis; unavailable options get probability 0.

    Rows with no available option are all zeros.
    """
    masked = np.where(available, utility, -np.inf)
    peak = masked.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.where(available, np.exp(masked - peak), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _normalised(pvals: np.ndarray) -> np.ndarray:
    """Guard numpy's multinomial against float round-off in the last category."""
    pvals = np.clip(pvals, 0.0, 1.0)
    total = pvals.sum(axis=-1, keepdims=True)
    return np.divide(pvals, total, out=np.zeros_like(pvals), where=total > 0)


class UserPopulation:
    """Counts of users by segment, cohort and provider, stepped with exact random draws."""

    def __init__(self, potential_users: np.ndarray, cohort_shares: np.ndarray,
                 initial_users: np.ndarray):
        """Split each segment's potential users into cohorts and place the initial adopters.

        Args:
            potential_users: [S] people who could adopt in each segment.
            cohort_shares: [C] share of every segment's people in each cohort (sums to 1).
            initial_users: [S, P] users of each provider at the start, spread over cohorts
                in proportion to cohort shares (largest-remainder rounding, so totals are exact).
        """
        potential = np.rint(np.asarray(potential_users, dtype=float)).astype(np.int64)
        shares = np.asarray(cohort_shares, dtype=float)
        shares = shares / shares.sum()  # the loader accepts sums within 1e-6 of 1
        initial = np.rint(np.asarray(initial_users, dtype=float)).astype(np.int64)
        n_segments, n_providers = initial.shape
        not_adopted = potential - initial.sum(axis=1)
        if (not_adopted < 0).any():
            raise ValueError("initial users exceed a segment's potential users")
        self.counts = np.zeros((n_segments, shares.size, n_providers + 1), dtype=np.int64)
        self.counts[:, :, 1:] = _split(initial, shares)  # [S, C, P]
        # non-adopters are split on their own, so a segment filled exactly stays exact
        self.counts[:, :, NOT_ADOPTED] = _split(not_adopted[:, None], shares)[:, :, 0]
        self._users: np.ndarray | None = None
        self._adopters: np.ndarray | None = None

    @property
    def potential(self) -> np.ndarray:
        """[S] people per segment (constant)."""
        return self.counts.sum(axis=(1, 2))

    def users(self) -> np.ndarray:
        """[S, P] users of each provider (read-only; computed once per month)."""
        if self._users is None:
            self._users = self.counts[:, :, 1:].sum(axis=1)
            self._users.flags.writeable = False
        return self._users

    def adopters(self) -> np.ndarray:
        """[S] people who use some provider (read-only; computed once per month)."""
        if self._adopters is None:
            self._adopters = self.counts[:, :, 1:].sum(axis=(1, 2))
            self._adopters.flags.writeable = False
        return self._adopters

    def step(
        self,
        rng: np.random.Generator,
        *,
        utility: np.ndarray,
        available: np.ndarray,
        outside_utility: float,
        bass_p: np.ndarray,
        bass_q: np.ndarray,
        reconsider_share: float,
        switching_cost: float,
        choice_rng: np.random.Generator | None = None,
    ) -> MonthlyFlows:
        """Advance one month.

        Args:
            rng: the generator for adoption draws (and for reconsideration when
                ``choice_rng`` is not given).
            utility: [S, C, P] utility of each provider to each cohort.
            available: [S, P] whether the provider serves the segment this month.
            outside_utility: utility of not adopting.
            bass_p, bass_q: [S] monthly Bass innovation and imitation coefficients.
            reconsider_share: share of adopters who look around each month.
            switching_cost: utility bonus of a user's current provider.
            choice_rng: a separate generator for reconsideration draws, so that a change in
                adoption does not reshuffle who switches (one stream per mechanism).
        """
        choice_rng = rng if choice_rng is None else choice_rng
        n_segments, n_cohorts, n_options = self.counts.shape
        n_providers = n_options - 1
        avail = np.broadcast_to(available[:, None, :], (n_segments, n_cohorts, n_providers))

        # 1. adoption: outcome 0 = stay out, outcome k = adopt provider k
        adopted_share = self.adopters() / np.maximum(self.potential, 1)
        hazard = np.clip(bass_p + bass_q * adopted_share, 0.0, 1.0)[:, None, None]
        with_outside = np.concatenate(
            [np.full((n_segments, n_cohorts, 1), outside_utility), utility], axis=2)
        offer = logit_probabilities(
            with_outside, np.concatenate([np.ones((n_segments, n_cohorts, 1), bool), avail], 2))
        adopt_p = hazard * offer[:, :, 1:]
        pvals = np.concatenate([1.0 - adopt_p.sum(axis=2, keepdims=True), adopt_p], axis=2)
        outcome = rng.multinomial(self.counts[:, :, NOT_ADOPTED], _normalised(pvals))
        adopted = outcome[:, :, 1:]

        # 2. reconsideration: looking[s, c, j] users of provider j choose among k (0 = drop out)
        current = self.counts[:, :, 1:]
        look_p = np.where(avail, reconsider_share, 1.0)
        looking = choice_rng.binomial(current, look_p)
        # one choice row per (segment, cohort, provider) that somebody looks away from: rows
        # with nobody looking draw nothing, so leaving them out changes no draw and keeps the
        # cost linear in providers (instead of [S, C, P, P] rows)
        s_idx, c_idx, j_idx = np.nonzero(looking)
        n_rows = j_idx.size
        current_one = np.zeros((n_rows, n_providers))
        current_one[np.arange(n_rows), j_idx] = 1.0
        choose = logit_probabilities(utility[s_idx, c_idx] + switching_cost * current_one,
                                     avail[s_idx, c_idx])  # [R, P]
        stranded = ~avail.any(axis=2)  # [S, C]: nothing left to choose
        drop = stranded[s_idx, c_idx][:, None].astype(float)
        moves = (choice_rng.multinomial(looking[s_idx, c_idx, j_idx],
                                        _normalised(np.concatenate([drop, choose], axis=1)))
                 if n_rows else np.zeros((0, n_options), dtype=np.int64))  # [R, 1 + P]

        arrived = np.zeros_like(current)  # [S, C, k]
        np.add.at(arrived, (s_idx, c_idx), moves[:, 1:])
        dropped = np.zeros_like(self.counts[:, :, NOT_ADOPTED])
        np.add.at(dropped, (s_idx, c_idx), moves[:, 0])
        stayed = np.zeros_like(current)  # [S, C, P]
        stayed[s_idx, c_idx, j_idx] = moves[np.arange(n_rows), j_idx + 1]
        self.counts[:, :, NOT_ADOPTED] += dropped - adopted.sum(axis=2)
        self.counts[:, :, 1:] += adopted - looking + arrived
        self._users = self._adopters = None

        return MonthlyFlows(
            adopted=adopted.sum(axis=1),
            switched_in=(arrived - stayed).sum(axis=1),
            switched_out=(looking - stayed).sum(axis=1),
        )


def _split(totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """[..., P] integer totals split over cohorts → [..., C, P], exact by largest remainder."""
    totals = np.asarray(totals, dtype=np.int64)
    ideal = totals[..., None, :] * shares[:, None]  # [..., C, P]
    floor = np.floor(ideal).astype(np.int64)
    short = totals - floor.sum(axis=-2)  # [..., P] units still to place
    remainder = ideal - floor
    # give the missing units to the cohorts with the largest remainders (ties: lower index)
    order = np.argsort(-remainder, axis=-2, kind="stable")
    rank = np.argsort(order, axis=-2, kind="stable")
    floor += (rank < short[..., None, :]).astype(np.int64)
    return floor
