"""Application-layer companies ("GPT wrappers", C1): they buy model access, add their own
post-training and interface (C3), and swap the model beneath them when another is better value.

An app builder serves one segment. Its quality there is its supplier's model in the segment's modality (what the
API sells, not the supplier's own product work) plus its own post-training bonus; its unit cost is the supplier's price per user-month (paid to the supplier as API fees);
its price keeps its own markup over that cost, since it owns the interface. Its share of the
revenue users pay is how much value moves to the application layer (pattern P6).
"""

from __future__ import annotations

import numpy as np

from model import scenario as sc
from model.agents import Lab, Seller
from model.market import APP


class AppBuilder(Seller):
    """An application built on someone else's model, in one segment."""

    kind = "app"
    market_kind = APP

    def __init__(self, model, spec: sc.Firm, start: str):
        super().__init__(model, spec, start)
        self.segment = model.segment_ids.index(next(iter(spec.offerings)))
        model.market.app_segment[self.column] = self.segment
        self.supplier_id = spec.supplier

    @property
    def supplier_id(self) -> str:
        """Id of the lab whose model it runs on."""
        return self._supplier_id

    @supplier_id.setter
    def supplier_id(self, firm_id: str) -> None:
        self._supplier_id = firm_id
        self._supplier = self.model.firm_by_id[firm_id]
        self.model.market.set_supplier(self.column, self.model.market.position(self._supplier))

    @property
    def supplier(self) -> Lab:
        return self._supplier

    def serves(self, month: int) -> np.ndarray:
        """An app serves only while the model beneath it exists."""
        return super().serves(month) & self.supplier.alive

    @property
    def quality(self) -> float:
        """Quality of its product in its segment: its supplier's model plus its own work."""
        return float(self.segment_quality()[self.segment])

    def segment_quality(self) -> np.ndarray:
        quality = np.full(len(self.model.segment_ids), -np.inf)
        # the API gives the supplier's model, not the supplier's own product work (C3)
        quality[self.segment] = (
            self.supplier.api_quality(int(self.model.market.segment_modality[self.segment]))
            + self.quality_bonus[self.segment])
        return quality

    def choose_supplier(self) -> None:
        """Swap to the model with the best value for this segment when the gain is worth it."""
        model = self.model
        if not self.active(model.month):
            return
        commod = model.config.commoditization
        users = float(model.users_of(self)[self.segment])
        # labs serving the segment, best value first, that take an app of this size
        offers = (offer for offer in model.supplier_ranking[self.segment]
                  if users <= offer[2].licence_cap_users)
        best_value, _, best = next(offers, (None, None, None))
        if best is None:
            return
        current = self.supplier
        current_ok = (current.alive and bool(current.serves(model.month)[self.segment])
                      and users <= current.licence_cap_users)
        gain = best_value - (model.supplier_value_of(current, self.segment) if current_ok
                             else -np.inf)
        if best.firm_id != self.supplier_id and gain >= commod.app_swap_min_gain_utils:
            old = self.supplier_id
            self.supplier_id = best.firm_id
            self.book("swap_cost", -commod.app_swap_cost_musd)
            model.record(self.firm_id, "model_swap", f"{old} → {best.firm_id}",
                         commod.app_swap_cost_musd)

    def settle(self, users: np.ndarray, revenue_musd: float, serving_musd: float) -> None:
        """Revenue from users; API fees to the supplier, who bears the cost of serving them."""
        if not self.active(self.model.month):
            return
        if revenue_musd > 0:
            self.book("revenue", revenue_musd)
        if not self.supplier.alive:
            return  # no model beneath it: it served nobody this month
        served = float(users[self.segment])
        self.pay(self.supplier, served * self.supplier.price_usd[self.segment] / 1e6,
                 "api_revenue")
        # the supplier runs the model for the app's users, so it bears the cost of serving them
        self.supplier.spend_compute(
            "serving", served * self.model.cost_to_serve_usd[self.segment] / 1e6)
        if self.staff_cost_musd_month > 0:
            self.book("staff", -self.staff_cost_musd_month)
