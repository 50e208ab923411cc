"""The open-source community (C11–C19): contributors gather around a strong open base model,
build derivatives that close the gap to the frontier, and the base's owner absorbs their work.

* contributors join (a share of the room left) while the best open-weights model is within
  ``strong_base_gap_points`` of the frontier, and leave otherwise (C11, C12, C17);
* community models start from the best open-weights model of each modality and improve by
  fine-tuning (``innovation_points_per_year``) and by imitating the best closed model it can
  see a lag later (distillation, model.diffusion), both scaled by contributors (C14, C17, C18);
  under the ``gap_share`` capability rule it instead closes a share of the gap to the closed
  frontier each month;
* the owner of the open base absorbs a share of each month's improvement (C19, pattern P7);
* community models are offered at hosting cost (no markup) in ``open_source.segments``.

The community has no cash: hosting is paid by users to hosts outside the model.
"""

from __future__ import annotations

import math

import numpy as np

from moatsim import technology
from moatsim.agents import Lab, Seller
from moatsim.market import COMMUNITY


class OpenSourceCommunity(Seller):
    """Independent developers and their derivative models."""

    kind = "open_source"
    market_kind = COMMUNITY

    def __init__(self, model):
        cfg = model.config.open_source
        # a Seller built from a synthetic spec: no cash, no staff, segments from the config
        from moatsim.scenario import Firm

        spec = Firm(id="open_source", name="Open-source community", kind="lab", cash_musd=0,
                    staff_cost_musd_month=0, post_training_spend_musd_month=0)
        super().__init__(model, spec, model.config.start)
        self.is_open = True
        self.contributors = cfg.initial_contributors
        self.base: Lab | None = None
        self.wanted = np.array([s in cfg.segments for s in model.segment_ids])
        modality = model.market.segment_modality
        if model.config.technology.capability_rule == "gap_share":
            self.quality = 0.0
        else:  # no models before it has a base, in the modalities of its segments
            model.market.set_capability(self.column, 0.0, np.unique(modality[self.wanted]))
        self.compute_log2 = technology.log2_compute_of(self.capability, model.config)

    @property
    def licence_cap_users(self) -> float:
        """Its models are derivatives of its base's weights, under the base's licence (C13)."""
        return math.inf if self.base is None else self.base.licence_cap_users

    def segment_quality(self) -> np.ndarray:
        quality = self.capability[self.model.market.segment_modality]
        return np.where(np.isnan(quality), -np.inf, quality)

    def step(self) -> None:
        model = self.model
        cfg = model.config.open_source
        open_labs = [lab for lab in model.labs if lab.active(model.month) and lab.is_open]
        # the base is the best open text model (C12: a strong base model gathers contributors)
        bases = [lab for lab in open_labs if not np.isnan(lab.capability[0])]
        best = max(bases, key=lambda lab: (lab.capability[0], lab.firm_id), default=None)
        base = self.base if self.base in bases else None
        if best is not None and (base is None or best.capability[0]
                                 > base.capability[0] + cfg.base_switch_gain_points):
            base = best
        if base is not self.base and base is not None:
            model.record(self.firm_id, "new_open_base", f"builds on {base.firm_id}'s weights")
        self.base = base
        frontier = model.closed_frontier_quality()
        if base is None:
            self.contributors *= 1.0 - cfg.leave_share_monthly
            return
        if frontier - base.capability[0] <= cfg.strong_base_gap_points:
            self.contributors += cfg.join_share_monthly * (cfg.max_contributors - self.contributors)
        else:
            self.contributors *= 1.0 - cfg.leave_share_monthly
        if model.config.technology.capability_rule == "gap_share":
            before = max(self.quality, base.quality)
            self.quality = technology.catch_up(
                before, frontier, model.config.commoditization.open_catch_up_share_monthly,
                self.contributors, cfg.half_strength_contributors, cfg.innovation_points_per_year)
            improvement = self.quality - before
            if improvement > 0:
                base.absorb(cfg.owner_absorb_share * improvement)
        else:
            self._build_on(open_labs, base)
        for segment in np.flatnonzero(self.wanted):
            self.enter(int(segment))

    def _build_on(self, open_labs: list[Lab], base: Lab) -> None:
        """Start from the best open weights of each modality, fine-tune, and distil the best
        closed model visible a lag ago; the text base's owner absorbs part of the work (C19)."""
        model = self.model
        cfg = model.config.open_source
        has = ~np.isnan(self.capability)
        capability, compute = self.capability.copy(), self.compute_log2.copy()
        for lab in open_labs:
            capability = np.where(has, np.fmax(capability, lab.capability), np.nan)
            compute = np.where(has, np.fmax(compute, lab.compute_log2), np.nan)
        before = capability.copy()
        strength = self.contributors / (self.contributors + cfg.half_strength_contributors)
        reached = technology.imitate(compute, model.ideas.closed_visible(model.month),
                                     strength * model.config.technology.imitation_reach_doublings)
        capability = (capability + technology.pretrain_points_per_doubling(model.month,
                                                                          model.config)
                      * (reached - compute) + strength * cfg.innovation_points_per_year / 12.0)
        model.market.set_capability(self.column, np.where(has, capability, np.nan))
        self.compute_log2 = np.where(has, reached, np.nan)
        improvement = np.where(has, capability - before, 0.0)
        if improvement.max() > 0:
            base.absorb(cfg.owner_absorb_share * np.maximum(improvement, 0.0))

    def settle(self, users: np.ndarray, revenue_musd: float, serving_musd: float) -> None:
        """No books: users pay hosts outside the model for what they use."""
