"""AIMarketModel: frontier labs and big tech companies competing for the users of generative AI.

A monthly agent-based model of the AI industry from 2023 on, with parameters drawn from five
news articles (``seeds/``; fact ids in ``seeds/facts.yaml``). Firms are Mesa agents
(:mod:`model.agents`); users are held as counts by segment, taste cohort and provider
(:mod:`model.population`), so a run with billions of users costs the same as one with
thousands. The model is pattern-oriented (Grimm et al. 2005): docs/ODD.md describes it.

One month (``step``), in order:

1. scheduled money: stakes and tranches committed for this month are paid;
2. firms train: capability grows with the log of training spend (C28);
3. users adopt and choose among the offers by quality and price (Bass + logit);
4. money moves: revenue, serving and staff costs; firms out of cash exit;
5. data collection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from model import metrics
from model.agents import AGENT_CLASSES, BigTech, Firm
from model.calendar import month_index, month_label
from model.choice import offer_utility
from model.loading import load_scenario
from model.population import UserPopulation
from model.scenario import OUTSIDE_INVESTOR, Scenario

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


class AIMarketModel(mesa.Model):
    """The AI-industry market: firms (Mesa agents) and users (counts) month by month.

    Args:
        scenario: a :class:`Scenario`, or the path of a scenario YAML file
            (default: ``scenarios/baseline.yaml``).
        rng: seed or ``numpy.random.Generator``; all randomness comes from ``self.rng``.
        **flat_overrides: parameters by flat name, e.g. ``first_mover__switching_cost_utils=3``
            or ``firms__openai__cash_musd=500`` (the form ``mesa.batch_run`` passes).
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, *, rng: Any = None,
                 **flat_overrides: Any):
        super().__init__(rng=rng)
        source = DEFAULT_SCENARIO if scenario is None else scenario
        overrides = {key.replace("__", "."): value for key, value in flat_overrides.items()}
        self.config: Scenario = load_scenario(source, overrides)
        cfg = self.config
        self.month = 0
        self.segment_ids = cfg.segment_ids()
        self.firms: list[Firm] = [
            AGENT_CLASSES[spec.kind](self, spec, self.segment_ids, cfg.start) for spec in cfg.firms
        ]
        self.firm_by_id = {firm.firm_id: firm for firm in self.firms}
        self.is_open = np.array([firm.is_open for firm in self.firms])
        self.cost_to_serve_usd = np.array(
            [s.cost_to_serve_usd_per_user_month for s in cfg.segments])
        self.bass_p = np.array([s.bass_innovation_monthly for s in cfg.segments])
        self.bass_q = np.array([s.bass_imitation_monthly for s in cfg.segments])
        self.quality_weight = np.array([c.quality_weight_per_point for c in cfg.cohorts])
        self.price_weight = np.array([c.price_weight_per_usd for c in cfg.cohorts])
        self.open_preference = np.array([c.open_preference_utils for c in cfg.cohorts])
        initial = np.array([
            [spec.offerings[s].initial_users if s in spec.offerings else 0.0 for spec in cfg.firms]
            for s in self.segment_ids
        ])
        self.population = UserPopulation(
            np.array([s.potential_users for s in cfg.segments]),
            np.array([c.share for c in cfg.cohorts]),
            initial,
        )
        self.payments_due = self._schedule_payments()
        self.events: list[dict[str, Any]] = []
        self._pay_scheduled_investments()  # deals dated at (or before) the start month
        self._refresh_offers()
        self.datacollector = mesa.DataCollector(
            model_reporters=metrics.MODEL_REPORTERS,
            agent_reporters=metrics.FIRM_REPORTERS,
            tables={"segments": ["month", "segment", "firm", "users", "share"]},
        )
        self._collect()

    # ---------------------------------------------------------------- schedule

    def step(self) -> None:
        """Advance the market by one month."""
        self.month += 1
        for firm in self.firms:
            firm.start_month()
        self._pay_scheduled_investments()
        self._train()
        self._users_choose()
        self._settle_money()
        self._collect()
        if self.month >= self.config.months:
            self.running = False

    # ---------------------------------------------------------------- steps

    def _schedule_payments(self) -> dict[int, list[Any]]:
        due: dict[int, list[Any]] = {}
        for investment in self.config.funding.investments:
            month = max(month_index(self.config.start, investment.date), 0)
            due.setdefault(month, []).append(investment)
        return due

    def _pay_scheduled_investments(self) -> None:
        for investment in self.payments_due.get(self.month, []):
            investee = self.firm_by_id[investment.investee]
            if not investee.alive:
                self._event(investment.investor, "tranche_withheld",
                            f"{investment.id}: {investment.investee} has exited",
                            investment.amount_musd)
                continue
            if investment.investor == OUTSIDE_INVESTOR:
                investee.receive(investment.amount_musd)
            else:
                investor = self.firm_by_id[investment.investor]
                if not isinstance(investor, BigTech) or not investor.alive:
                    continue
                investor.pay(investee, investment.amount_musd)
            self._event(investment.investee, "funding",
                        f"{investment.id}: {investment.investor} → {investment.investee}",
                        investment.amount_musd)

    def _train(self) -> None:
        tech = self.config.technology
        for firm in self.firms:
            firm.train(self.month, tech.quality_points_per_doubling_year,
                       tech.training_spend_reference_musd_month)

    def _users_choose(self) -> None:
        self._refresh_offers()
        utility = offer_utility(self.quality, self.price_usd, self.is_open,
                                self.quality_weight, self.price_weight, self.open_preference)
        self.population.step(
            self.rng,
            utility=utility,
            available=self.available,
            outside_utility=self.config.choice.outside_option_utils,
            bass_p=self.bass_p,
            bass_q=self.bass_q,
            reconsider_share=self.config.first_mover.reconsider_share_monthly,
            switching_cost=self.config.first_mover.switching_cost_utils,
        )

    def _settle_money(self) -> None:
        users = self.population.users()  # [S, P]
        for index, firm in enumerate(self.firms):
            firm.settle(self.month, users[:, index], self.price_usd[:, index],
                        self.cost_to_serve_usd)
            if firm.exit_if_broke(self.month):
                self._event(firm.firm_id, "exit", "cash ran out", firm.cash_musd)
        decline = self.config.commoditization.inference_cost_decline_per_year
        self.cost_to_serve_usd = self.cost_to_serve_usd * (1.0 - decline) ** (1.0 / 12.0)
        self._refresh_offers()

    def _refresh_offers(self) -> None:
        """Quality, price and availability of every firm's offer [S, P] at this month."""
        self.quality = np.stack([f.segment_quality() for f in self.firms], axis=1)
        self.price_usd = np.stack([f.prices(self.cost_to_serve_usd) for f in self.firms], axis=1)
        self.available = np.stack([f.serves(self.month) for f in self.firms], axis=1)

    def _event(self, agent: str, kind: str, detail: str, amount_musd: float | None = None) -> None:
        self.events.append({"month": self.month, "date": self.date, "agent": agent,
                            "kind": kind, "detail": detail, "amount_musd": amount_musd})

    def _collect(self) -> None:
        users = self.population.users()
        totals = users.sum(axis=1, keepdims=True)
        shares = np.divide(users, totals, out=np.zeros(users.shape), where=totals > 0)
        for s, segment_id in enumerate(self.segment_ids):
            for k, firm in enumerate(self.firms):
                self.datacollector.add_table_row("segments", {
                    "month": self.month, "segment": segment_id, "firm": firm.firm_id,
                    "users": int(users[s, k]), "share": float(shares[s, k])})
        self.datacollector.collect(self)

    # ---------------------------------------------------------------- read-outs

    @property
    def date(self) -> str:
        """Calendar month (``YYYY-MM``) of the current state."""
        return month_label(self.config.start, self.month)

    def users_by_firm(self) -> np.ndarray:
        """[P] users of each firm over all segments."""
        return self.population.users().sum(axis=0)
