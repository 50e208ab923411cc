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
   is gone) and picks by logit, their current provider getting the switching-cost bonus:
   among the offers and the outside option (``lookers_may_leave``, so users may churn back
   to "not adopted"), or among the offers only; users of a vanished provider with nothing
   left to choose return to "not adopted" either way.
"""

from __future__ import annotations

import functools
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
    return _logit_of_masked(np.where(available, utility, -np.inf))


def _logit_of_masked(masked: np.ndarray, out: np.ndarray | None = None,
                     peak: np.ndarray | None = None) -> np.ndarray:
    """:func:`logit_probabilities` of utilities already set to -inf where unavailable.

    After the peak is made finite, exp(-inf - peak) is exactly 0, so unavailable options
    need no second mask. ``out``, if given, must be zeros. ``peak`` may be passed in as
    ``masked.max(axis=-1, keepdims=True)`` computed in some faster order: a maximum is the
    same whatever the order (up to the sign of a zero peak, which changes no exp).
    """
    if peak is None:
        peak = masked.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.exp(masked - peak)
    total = weights.sum(axis=-1, keepdims=True)
    return _divide_rows(weights, total, out)


def _divide_rows(values: np.ndarray, total: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
    """``values / total`` where ``total > 0``, zeros elsewhere (``out``, if given, must be
    zeros); a plain division when every total is positive, as it nearly always is."""
    if total.size and np.minimum.reduce(total, axis=None) > 0:  # NaN fails this too
        return np.divide(values, total, out=out)
    return np.divide(values, total, out=np.zeros_like(values) if out is None else out,
                     where=total > 0)


def _normalised(pvals: np.ndarray) -> np.ndarray:
    """Guard numpy's multinomial against float round-off in the last category."""
    pvals = np.clip(pvals, 0.0, 1.0)
    total = pvals.sum(axis=-1, keepdims=True)
    return np.divide(pvals, total, out=np.zeros_like(pvals), where=total > 0)


@functools.lru_cache(maxsize=8)
def _identity(n: int) -> np.ndarray:
    """[n, n] identity matrix (read-only, shared)."""
    eye = np.eye(n)
    eye.flags.writeable = False
    return eye


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

    def hazard(self, bass_p: np.ndarray, bass_q: np.ndarray) -> np.ndarray:
        """[S] this month's Bass hazard ``p + q · adopted share`` of each segment (in [0, 1])."""
        counts = self.counts
        potential = counts.sum(axis=(1, 2))
        adopters = (self._adopters if self._adopters is not None
                    else potential - counts[:, :, NOT_ADOPTED].sum(axis=1))
        adopted_share = adopters / np.maximum(potential, 1)
        return np.clip(bass_p + bass_q * adopted_share, 0.0, 1.0)

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
        lookers_may_leave: bool = False,
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
            lookers_may_leave: whether the outside option is among a looking user's choices.
            choice_rng: a separate generator for reconsideration draws, so that a change in
                adoption does not reshuffle who switches (one stream per mechanism).
        """
        # Every probability is computed with the float operations of logit_probabilities and
        # _normalised, in the same order, on rows of the same length and layout, so each draw
        # gets bit-identical pvals; only the bookkeeping around them is restructured
        # (tests/test_population.py checks both against the straightforward month).
        choice_rng = rng if choice_rng is None else choice_rng
        counts = self.counts
        n_segments, n_cohorts, n_options = counts.shape
        n_providers = n_options - 1
        available = np.asarray(available, dtype=bool)
        avail = available[:, None, :]  # [S, 1, P]: the same for every cohort

        # 1. adoption: outcome 0 = stay out, outcome k = adopt provider k
        hazard = self.hazard(bass_p, bass_q)[:, None, None]
        # masked utilities with the outside option in front (always available)
        masked = np.empty((n_segments, n_cohorts, n_options))
        masked[:, :, NOT_ADOPTED] = outside_utility
        masked[:, :, 1:] = np.where(avail, utility, -np.inf)
        pvals = _logit_of_masked(masked)  # the offer's logit shares, overwritten in place
        adopt_p = hazard * pvals[:, :, 1:]
        # _normalised(pvals), whose clip to [0, 1] can only act on 1 − Σ adopt_p (< 0 by
        # round-off); the adoption shares are already in [0, 1]
        np.maximum(1.0 - adopt_p.sum(axis=2), 0.0, out=pvals[:, :, NOT_ADOPTED])
        pvals[:, :, 1:] = adopt_p
        outcome = rng.multinomial(counts[:, :, NOT_ADOPTED],
                                  _divide_rows(pvals, pvals.sum(axis=2, keepdims=True)))

        # 2. reconsideration: looking[s, c, j] users of provider j choose among k (0 = leave)
        looking = choice_rng.binomial(counts[:, :, 1:], np.where(avail, reconsider_share, 1.0))
        # one choice row per (segment, cohort, provider) that somebody looks away from: rows
        # with nobody looking draw nothing, so leaving them out changes no draw and keeps the
        # cost linear in providers (instead of [S, C, P, P] rows); rows come in (s, c, j) order
        flat = np.flatnonzero(looking)  # into [S·C·P]
        cell, j_idx = np.divmod(flat, n_providers)  # cell = s·C + c
        n_rows = flat.size
        moved = np.zeros((n_segments * n_cohorts * n_providers, n_options), dtype=np.int64)
        if n_rows:
            # masked utilities plus the bonus of the row's current provider: -inf + bonus
            # stays -inf, so this is where(available, utility + bonus, -inf) (a bonus that is
            # not finite makes NaN rows, i.e. zero probabilities, either way)
            bonus = switching_cost * _identity(n_providers)  # [P, P]
            rows = masked.reshape(-1, n_options).take(cell, axis=0)  # [R, 1 + P]
            rows[:, 1:] += bonus.take(j_idx, axis=0)
            choice = np.zeros((n_rows, n_options))  # [R, 1 + P]: leave, then providers
            # the outside option's column takes part in the logit, or it is left out and
            # filled only where nothing is offered (users of a vanished market must leave)
            first = NOT_ADOPTED if lookers_may_leave else 1
            among = rows[:, first:]
            # (the row maxima over a transposed copy: many short rows reduce slowly)
            _logit_of_masked(among, out=choice[:, first:],
                             peak=np.maximum.reduce(among.T.copy(), axis=0)[:, None])
            if not lookers_may_leave:
                offered = available.any(axis=1)  # [S]
                if not offered.all():
                    choice[:, NOT_ADOPTED] = ~offered[cell // n_cohorts]
            # _normalised without its clip: every entry is already in [0, 1] (or NaN)
            moved[flat] = choice_rng.multinomial(
                looking.reshape(-1)[flat],
                _divide_rows(choice, choice.sum(axis=1, keepdims=True)))
        moved = moved.reshape(n_segments, n_cohorts, n_providers, n_options)
        into = np.einsum("scjk->sck", moved)  # [S, C, 1 + P]: dropped out (0), arrived (k)
        # stayed[s, c, j] = moved[s, c, j, 1 + j]: the diagonal, as a strided view
        stayed = moved.reshape(n_segments, n_cohorts, n_providers * n_options)[
            :, :, 1::n_options + 1]

        adopted = outcome[:, :, 1:].sum(axis=1)
        # multinomial outcomes sum to n, so outcome[:, :, 0] = non-adopters − new adopters
        counts[:, :, NOT_ADOPTED] = 0
        counts[:, :, 1:] -= looking
        counts += outcome
        counts += into
        self._users = self._adopters = None

        stayed = stayed.sum(axis=1)
        return MonthlyFlows(
            adopted=adopted,
            switched_in=into[:, :, 1:].sum(axis=1) - stayed,
            switched_out=looking.sum(axis=1) - stayed,
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
