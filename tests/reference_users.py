"""The first half of a users-engine month as first written (before issue 11's bookkeeping):
adoption and who looks around. Shared by the reference months of tests/test_population.py and
tests/test_fast_paths.py, which differ in how the lookers then choose."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from moatsim.population import NOT_ADOPTED, _normalised


def adopt_and_look(counts: np.ndarray, rng, choice_rng, logit: Callable, *, utility,
                   available, outside_utility, bass_p, bass_q, reconsider_share):
    """(avail [S, C, P], adopted [S, C, P], looking [S, C, P]) of one month, drawn from
    ``rng`` (adoption) and ``choice_rng`` (who looks), with ``logit`` as the choice rule."""
    n_segments, n_cohorts, n_options = counts.shape
    n_providers = n_options - 1
    avail = np.broadcast_to(available[:, None, :], (n_segments, n_cohorts, n_providers))
    adopted_share = counts[:, :, 1:].sum(axis=(1, 2)) / np.maximum(counts.sum(axis=(1, 2)), 1)
    hazard = np.clip(bass_p + bass_q * adopted_share, 0.0, 1.0)[:, None, None]
    with_outside = np.concatenate(
        [np.full((n_segments, n_cohorts, 1), outside_utility), utility], axis=2)
    offer = logit(
        with_outside, np.concatenate([np.ones((n_segments, n_cohorts, 1), bool), avail], 2))
    adopt_p = hazard * offer[:, :, 1:]
    pvals = np.concatenate([1.0 - adopt_p.sum(axis=2, keepdims=True), adopt_p], axis=2)
    adopted = rng.multinomial(counts[:, :, NOT_ADOPTED], _normalised(pvals))[:, :, 1:]
    looking = choice_rng.binomial(counts[:, :, 1:], np.where(avail, reconsider_share, 1.0))
    return avail, adopted, looking
