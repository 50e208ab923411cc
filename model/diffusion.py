"""Ideas spread by imitation, with a lag that depends on openness (C14, C17, C21, C29).

:class:`IdeaPool` keeps, month by month, the best effective compute (log2, relative to each
modality's anchor model, :func:`moatsim.technology.log2_compute_of`) of the open-weights models
and of the closed ones. What a lab or the community can imitate at a month is the best open
model of the month before — weights are there to fine-tune and distil (C17) — or the best
closed model of ``closed_imitation_lag_months`` before, known through papers and its outputs
(C14, C21: the tighter a lab controls its model, the slower its ideas spread). The lag between
open and closed models is then an outcome (compared with H22), not a parameter.
"""

from __future__ import annotations

import numpy as np


class IdeaPool:
    """Best open and closed effective compute per modality, by month."""

    def __init__(self, n_modalities: int, closed_lag_months: int):
        self.closed_lag_months = closed_lag_months
        self._open: list[np.ndarray] = []
        self._closed: list[np.ndarray] = []
        self._empty = np.full(n_modalities, np.nan)

    def record(self, open_log2: np.ndarray, closed_log2: np.ndarray) -> None:
        """The month's best open and closed models ([M] log2 effective compute, NaN: none)."""
        self._open.append(np.array(open_log2, dtype=float))
        self._closed.append(np.array(closed_log2, dtype=float))

    def closed_visible(self, month: int) -> np.ndarray:
        """[M] best closed model that can be imitated at ``month`` (its state a lag ago; the
        start's closed models count as known for the first months)."""
        if not self._closed:
            return self._empty
        return self._closed[min(max(month - self.closed_lag_months, 0), len(self._closed) - 1)]

    def visible(self, month: int) -> np.ndarray:
        """[M] best model that can be imitated at ``month``: last month's best open model or
        the lagged best closed one."""
        open_now = self._open[min(month - 1, len(self._open) - 1)] if self._open else self._empty
        return np.fmax(open_now, self.closed_visible(month))
