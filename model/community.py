"""The open-source community (C11–C19): contributors gather around a strong open base model,
build derivatives that close the gap to the frontier, and the base's owner absorbs their work.

* contributors join (a share of the room left) while the best open-weights model is within
  ``strong_base_gap_points`` of the frontier, and leave otherwise (C11, C12, C17);
* community quality starts at the open base's and closes a share of the gap to the best closed
  model each month that grows with contributors (C14, C18);
* the owner of the open base absorbs a share of each month's improvement (C19, pattern P7);
* community models are offered at hosting cost (no markup) in ``open_source.segments``.

The community has no cash: hosting is paid by users to hosts outside the model.
"""

from __future__ import annotations

import numpy as np

from model import technology
from model.agents import Lab, Seller
from model.market import COMMUNITY, QualityCell


class OpenSourceCommunity(Seller):
    """Independent developers and their derivative models."""

    kind = "open_source"
    market_kind = COMMUNITY
    quality = QualityCell("capability")

    def __init__(self, model):
        cfg = model.config.open_source
        # a Seller built from a synthetic spec: no cash, no staff, segments from the config
        from model.scenario import Firm

        spec = Firm(id="open_source", name="Open-source community", kind="lab", cash_musd=0,
                    staff_cost_musd_month=0, post_training_spend_musd_month=0)
        super().__init__(model, spec, model.config.start)
        self.is_open = True
        self.contributors = cfg.initial_contributors
        self.quality = 0.0
        self.base: Lab | None = None
        self.wanted = np.array([s in cfg.segments for s in model.segment_ids])

    def segment_quality(self) -> np.ndarray:
        return np.full(len(self.model.segment_ids), self.quality)

    def step(self) -> None:
        model = self.model
        cfg = model.config.open_source
        open_labs = [lab for lab in model.labs if lab.active(model.month) and lab.is_open]
        best = max(open_labs, key=lambda lab: (lab.quality, lab.firm_id), default=None)
        base = self.base if self.base in open_labs else None
        if best is not None and (base is None
                                 or best.quality > base.quality + cfg.base_switch_gain_points):
            base = best
        if base is not self.base and base is not None:
            model.record(self.firm_id, "new_open_base", f"builds on {base.firm_id}'s weights")
        self.base = base
        frontier = model.closed_frontier_quality()
        if base is None:
            self.contributors *= 1.0 - cfg.leave_share_monthly
            return
        if frontier - base.quality <= cfg.strong_base_gap_points:
            self.contributors += cfg.join_share_monthly * (cfg.max_contributors - self.contributors)
        else:
            self.contributors *= 1.0 - cfg.leave_share_monthly
        before = max(self.quality, base.quality)
        self.quality = technology.catch_up(
            before, frontier, model.config.commoditization.open_catch_up_share_monthly,
            self.contributors, cfg.half_strength_contributors, cfg.innovation_points_per_year)
        improvement = self.quality - before
        if improvement > 0:
            base.absorb(cfg.owner_absorb_share * improvement)
        for segment in np.flatnonzero(self.wanted):
            self.enter(int(segment))

    def settle(self, users: np.ndarray, revenue_musd: float, serving_musd: float) -> None:
        """No books: users pay hosts outside the model for what they use."""
