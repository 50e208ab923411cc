"""Application-layer companies ("GPT wrappers", C1): they buy model access, add their own
post-training and interface (C3), and swap the model beneath them when another is better value
— or route each task to whichever model serves it best.

An app builder serves one segment. Its supplier is a lab, or the open-source community's
models (``open_source.apps_may_use``; hosted at cost outside the model). Its quality there is
its supplier's model in the segment's modality (what the API sells, not the supplier's own
product work) plus its own post-training bonus; its unit cost is the supplier's price per
user-month (paid to the supplier as API fees); its price is its own, since it owns the
interface. Its share of the revenue users pay is how
much value moves to the application layer (pattern P6).

**Routing** (``routes_across_suppliers``; Cursor's and Perplexity's model pickers, GitHub
Copilot's multi-model release of 2024-10). Each task has its own taste for each model, a Gumbel
draw of scale 1 util, as in multi-homing (:mod:`moatsim.multihoming`). A router that sends a task
to the supplier with the best value plus that draw sends a share ``r_j = exp(v_j) / Σ exp(v)``
of its work to supplier j (``v_j`` is the supplier's mean value to the segment's users,
quality less API price, :meth:`AIMarketModel._rank_suppliers`). Its users then get the
log-sum of the suppliers' values, ``Σ r_j v_j + H(r)`` with ``H(r) = −Σ r_j ln r_j``
(McFadden 1978; Anderson, de Palma & Thisse 1992, ch. 2): the weighted model, priced at the
weighted API fee, plus ``H(r)`` utils for matching tasks to models. That gain is largest when
several suppliers are about as good — when models are commodities (C1) — and zero when one
dominates. A single-homing user of a lab would need several subscriptions and pay the cost
of each extra provider to get it. Suppliers that would get under
:data:`MIN_ROUTE_SHARE` of the tasks are left out.
"""

from __future__ import annotations

import numpy as np

from moatsim import scenario as sc
from moatsim.agents import Lab, Seller
from moatsim.market import APP

MIN_ROUTE_SHARE = 0.01
"""Least share of its tasks a router sends a supplier (assumption: a model that would get
fewer is not worth the integration; it also keeps the routes short)."""


class AppBuilder(Seller):
    """An application built on someone else's model, in one segment."""

    kind = "app"
    market_kind = APP

    def __init__(self, model, spec: sc.Firm, start: str, founded_month: int | None = None):
        """``founded_month`` overrides the spec's founding date (a prospective app builder
        waits for the entry decision at :data:`moatsim.market.NEVER`, with the segments it may
        serve as offerings, and serves the first until it is founded in one)."""
        super().__init__(model, spec, start, founded_month)
        self.segment = model.segment_ids.index(next(iter(spec.offerings)))
        model.market.set_app_segment(self.column, self.segment)
        self.supplier_id = spec.supplier
        self.read_strategy(spec)

    def found(self, segment: int, round_musd: float, reason: str) -> None:
        """Founded now by the entry decision, in ``segment``; it picks its suppliers with
        the other apps this month."""
        self.segment = segment
        self.model.market.set_app_segment(self.column, segment)
        self.begin(segment, round_musd, reason)

    def read_strategy(self, spec: sc.Firm) -> None:
        """Its strategy, from its spec: at the start, and again when a set event changes it
        (:data:`moatsim.loading.STRATEGY_KEYS`)."""
        self.post_training_spend_musd_month = spec.post_training_spend_musd_month
        self.routes_across_suppliers = spec.routes_across_suppliers

    @property
    def supplier_id(self) -> str:
        """Id of the lab whose model it runs on."""
        return self._supplier_id

    @supplier_id.setter
    def supplier_id(self, firm_id: str) -> None:
        """It now runs on ``firm_id``'s model alone."""
        self._run_on([self.model.firm_by_id[firm_id]], np.ones(1), 0.0)

    def _run_on(self, suppliers: list[Seller], shares: np.ndarray, gain_utils: float) -> None:
        """It now sends ``shares`` of its tasks to ``suppliers``' models (one supplier: all of
        them), worth ``gain_utils`` to its users; its main supplier has the largest share."""
        market = self.model.market
        market.set_route(self.column, np.array([market.position(s) for s in suppliers]),
                         shares, gain_utils)
        self.route: list[tuple[Seller, float]] = list(zip(suppliers, shares.tolist(),
                                                          strict=True))
        self._supplier = suppliers[int(np.argmax(shares))]
        self._supplier_id = self._supplier.firm_id

    @property
    def supplier(self) -> Seller:
        """Its main supplier (the one with the largest share of its work)."""
        return self._supplier

    def serves(self, month: int) -> np.ndarray:
        """An app serves only while the model beneath it exists."""
        return super().serves(month) & self.supplier.alive

    @property
    def quality(self) -> float:
        """Quality of its product in its segment: its supplier's model plus its own work."""
        return float(self.segment_quality()[self.segment])

    def segment_quality(self) -> np.ndarray:
        """[S] its suppliers' API models weighted by its route, plus its own work, in its
        segment (−inf elsewhere): the API gives the models, not the suppliers' own product
        work (C3)."""
        quality = np.full(len(self.model.segment_ids), -np.inf)
        quality[self.segment] = self.model.market.offer_quality()[self.column, self.segment]
        return quality

    def choose_supplier(self) -> None:
        """Route its tasks across the suppliers, or swap to the model with the best value for
        this segment when the gain is worth it."""
        model = self.model
        if not self.active(model.month):
            return
        commod = model.config.commoditization
        users = float(model.users_of(self)[self.segment])
        # suppliers serving the segment, best value first, that take an app of this size
        offers = [offer for offer in model.supplier_ranking[self.segment]
                  if users <= offer[2].licence_cap_users]
        if not offers:
            return
        if self.routes_across_suppliers:
            self._route_tasks(offers)
            return
        if len(self.route) > 1:  # it stopped routing: back to its main supplier alone
            self._run_on([self.supplier], np.ones(1), 0.0)
        best_value, _, best = offers[0]
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

    def _route_tasks(self, offers: list[tuple[float, str, Seller]]) -> None:
        """Send each supplier the share of tasks it serves best (module docstring), at no
        switching cost (an API call, H8). Starting to route is recorded; the shares move
        every month with the suppliers' values and show in its API fees."""
        kept, share, gain = task_routes(np.array([offer[0] for offer in offers]))
        started = len(self.route) == 1
        self._run_on([offers[row][2] for row in kept.tolist()], share, gain)
        if started and len(self.route) > 1:
            mix = ", ".join(f"{s.firm_id} {part:.0%}" for s, part in self.route)
            self.model.record(self.firm_id, "routing", f"routes its tasks across {mix}")

    def settle(self, users: np.ndarray, revenue_musd: float, serving_musd: float) -> None:
        """Revenue from users; API fees to the supplier, who bears the cost of serving them."""
        if not self.active(self.model.month):
            return
        if revenue_musd > 0:
            self.book("revenue", revenue_musd)
        if not self.supplier.alive:
            return  # no model beneath it: it served nobody this month
        served = float(users[self.segment])
        cost_to_serve = self.model.cost_to_serve_usd[self.segment]
        for supplier, share in self.route:
            if not supplier.alive:
                continue
            work = served * share
            fees = work * supplier.price_usd[self.segment] / 1e6
            if isinstance(supplier, Lab):
                self.pay(supplier, fees, "api_revenue")
                # the supplier runs its model for the app's users, so it bears the cost
                supplier.spend_compute("serving", work * cost_to_serve / 1e6)
            elif fees > 0:  # community models: hosts outside the model serve them at cost
                self.book("serving", -fees)
        if self.staff_cost_musd_month > 0:
            self.book("staff", -self.staff_cost_musd_month)


def task_routes(value_utils: np.ndarray, min_share: float = MIN_ROUTE_SHARE
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """A router's split of tasks over suppliers worth ``value_utils`` [N] (module docstring):
    the suppliers it keeps (indices, in the order given), the share of tasks each gets (the
    logit, without those under ``min_share``, renormalised) and what matching tasks to models
    is worth to its users, ``H(r)`` utils."""
    share = np.exp(value_utils - value_utils.max())
    share /= share.sum()
    kept = np.flatnonzero(share >= min_share)
    share = share[kept] / share[kept].sum()
    return kept, share, max(float(-(share * np.log(share)).sum()), 0.0)
