"""AIMarketModel: labs, big tech, app builders and an open-source community compete for the
users of generative AI.

A monthly agent-based model of the AI industry from 2023 on, with parameters drawn from five
news articles (``seeds/``; fact ids in ``seeds/facts.yaml``): funding (VC pools, big-tech
stakes and tranches), first-mover loss (brand that decays, switching costs, network effects)
and commoditization (markups that shrink as the quality gap closes, open catch-up, pre-training
returns that decay). Firms are Mesa agents (:mod:`moatsim.agents`, :mod:`moatsim.apps`,
:mod:`moatsim.community`); users are counts by segment, taste cohort and provider
(:mod:`moatsim.population`), so billions of users cost no more than thousands. docs/ODD.md
describes the model with the ODD protocol.

One month (``step``), in order:

1. scheduled events and deals: weight releases, entries, licences, stakes and tranches,
   regime changes; then the entry decision, which may found a new lab (:mod:`moatsim.entry`);
2. big tech: fund in-house labs, back a champion, manage stopgap licences;
3. labs: pre-training runs, safety spending (trust, C27) and post-training, entry into new
   segments, prices;
4. the open-source community: contributors, catch-up, spillover to the base's owner;
5. app builders: choose the model beneath them, post-train, price;
6. users adopt and choose (Bass + logit with brand, network, distribution, switching cost);
7. money: revenue, API and licence fees, costs; VC rounds; rescues, acquisitions and exits;
8. data collection.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mesa
from mesa.experimental.scenarios import Scenario as MesaScenario
import numpy as np

from moatsim import entry, metrics, multihoming, pricing, technology
from moatsim.agents import BigTech, Firm, Lab, Seller
from moatsim.apps import AppBuilder, task_routes
from moatsim.calendar import month_index, month_label
from moatsim.choice import offer_utility, with_free_tiers
from moatsim.community import OpenSourceCommunity
from moatsim.diffusion import IdeaPool
from moatsim.finance import VentureMarket
from moatsim import library
from moatsim.loading import load_scenario, with_set_event
from moatsim.market import APP, LAB, NEVER, MarketState
from moatsim.population import UserPopulation
from moatsim.recorder import Recorder
from moatsim.scenario import MODALITIES, OUTSIDE_INVESTOR, SCENARIO_AGENT, Investment, Scenario

DEFAULT_SCENARIO = library.folder("scenarios") / "baseline.yaml"

RANDOM_STREAMS = ("adoption", "choice", "training", "venture", "entry", "app_entry")
"""One random stream per mechanism: who adopts, who switches to whom, how training runs turn
out, which VC rounds close, when an entrant lab and when an entrant app builder closes its
founding round (each appended last, so the earlier streams are the same with or without
it). Common random numbers then stay common across scenarios that change only one mechanism (Law & Kelton, variance reduction by
synchronised streams)."""


class AIMarketModel(mesa.Model):
    """The AI-industry market, month by month.

    Args:
        scenario: a :class:`Scenario`, the path of a scenario YAML file, or the name of one
            (``"no_moat"``: the user's ``./scenarios/no_moat.yaml``, else the bundled one;
            default: the bundled baseline). Or a Mesa ``Scenario`` (``mesa.experimental.
            scenarios``): its parameters are flat overrides, its ``scenario_file`` the base
            file and its ``rng`` the seed, and ``model.scenario`` returns it.
        rng: seed or ``numpy.random.Generator``. All randomness comes from it, through one
            independent stream per mechanism (:data:`RANDOM_STREAMS`, spawned with
            ``SeedSequence.spawn``), so changing how one mechanism draws does not reshuffle
            the draws of the others.
        **flat_overrides: parameters by their dotted path, the one name they have in every
            file (``**{"first_mover.switching_cost_utils": 3}``, as ``mesa.batch_run`` and
            EMA Workbench pass them), or its flat spelling ``first_mover__switching_cost_utils=3``.
    """

    def __init__(self, scenario: Scenario | MesaScenario | str | Path | None = None, *,
                 rng: Any = None, **flat_overrides: Any):
        if isinstance(scenario, MesaScenario):
            # Mesa's idiom: its Scenario carries the parameters (flat names, plus
            # ``scenario_file`` for the base file) and the seed; Mesa keeps it as .scenario
            mesa_scenario = scenario
            params = {k: v for k, v in mesa_scenario if k != "rng"}
            scenario = params.pop("scenario_file", None)
            flat_overrides = {**params, **flat_overrides}
            super().__init__(rng=rng, scenario=mesa_scenario)
        else:
            super().__init__(rng=rng)
        self.streams: dict[str, np.random.Generator] = dict(
            zip(RANDOM_STREAMS, self.rng.spawn(len(RANDOM_STREAMS)), strict=True))
        source = DEFAULT_SCENARIO if scenario is None else scenario
        overrides = {key.replace("__", "."): value for key, value in flat_overrides.items()}
        # a Scenario is validated when it is made; the model reads it and never changes it
        validated = isinstance(source, Scenario) and not overrides
        self.source_scenario: Scenario = source if validated else load_scenario(source, overrides)
        """The scenario as written (with its overrides): ``config`` is what the model reads,
        with switched-off mechanisms applied; set events change both."""
        self.config: Scenario = switched_off(self.source_scenario)
        cfg = self.config
        self.month = 0
        self._date = (-1, "")  # (month, its label), computed once per month
        self._transfers = 0
        self.events: list[dict[str, Any]] = []
        self.segment_ids = cfg.segment_ids()
        self.cost_to_serve_usd = np.array(
            [s.cost_to_serve_usd_per_user_month for s in cfg.segments])

        self.firm_by_id: dict[str, Firm] = {}  # filled as firms are created
        self.market = MarketState(
            len(self.segment_ids), capacity=len(cfg.firms) + 1,
            segment_modality=[MODALITIES.index(s.modality) for s in cfg.segments])
        self.ideas = IdeaPool(len(MODALITIES), cfg.technology.closed_imitation_lag_months)
        self.bigtechs = [BigTech(self, spec, cfg.start) for spec in cfg.firms_of("bigtech")]
        self.labs = [Lab(self, spec, cfg.start) for spec in cfg.firms_of("lab")]
        # prospective entrants: labs not founded until the entry decision founds them
        self.entrants = [Lab(self, spec, cfg.start, founded_month=entry.NOT_FOUNDED)
                         for spec in cfg.entrant_specs()]
        self.labs += self.entrants
        self.apps = [AppBuilder(self, spec, cfg.start) for spec in cfg.firms_of("app")]
        # prospective app builders, likewise
        self.app_entrants = [AppBuilder(self, spec, cfg.start, founded_month=entry.NOT_FOUNDED)
                             for spec in cfg.entrant_app_specs()]
        self.apps += self.app_entrants
        self.community = OpenSourceCommunity(self)
        for seller in (*self.labs, *self.apps):
            seller.owner = self.firm_by_id[seller.owner_id] if seller.owner_id else None
        for bigtech in self.bigtechs:
            if bigtech.champion is not None:
                bigtech.champion.backers.add(bigtech.firm_id)
        # output order: the scenario's firms, the prospective entrants, then the community
        self.firms: list[Firm] = ([self.firm_by_id[i] for i in cfg.firm_ids()] + self.entrants
                                  + self.app_entrants + [self.community])
        self.sellers: list[Seller] = [*self.labs, *self.apps, self.community]
        self._seller_index = self.market.index

        self.cohort_share = np.array([c.share for c in cfg.cohorts])
        self._read_tastes_and_adoption()
        initial = np.array([[spec.offerings[s].initial_users if s in spec.offerings else 0.0
                             for spec in (*cfg.firms_of("lab"), *cfg.entrant_specs(),
                                          *cfg.firms_of("app"), *cfg.entrant_app_specs())]
                            + [0.0]
                            for s in self.segment_ids])
        self.population = UserPopulation(
            np.array([s.potential_users for s in cfg.segments]), self.cohort_share, initial)
        self.venture = VentureMarket(*_vc_pools(cfg))
        self.first_mover = self._initial_first_movers(initial)
        self.last_shares = metrics.segment_shares(self.population.users())
        self.closed_use_share = np.zeros(len(self.segment_ids))  # C21, from the first month's use

        self.scheduled = self._schedule()
        self._run_scheduled(month=0)
        self._price_all()
        self._refresh_offers()
        self.utility = self.offer_utilities()
        self._route_use(self.utility)
        self.recorder = Recorder(self)
        self._collect()

    # ---------------------------------------------------------------- schedule

    def step(self) -> None:
        """Advance the market by one month."""
        self.month += 1
        self.venture.accrue(int(self.date[:4]))
        self._run_scheduled(self.month)
        self._consider_entry()
        for bigtech in self.bigtechs:
            bigtech.fund_in_house_labs()
            bigtech.back_champion()
            bigtech.manage_licence()
            bigtech.apply_licence()
        for lab in self.labs:
            lab.pretrain()
            lab.build_trust()
        self._post_train(self.labs)
        self._enter_segments()
        self.community.step()
        self._rank_suppliers()
        self._consider_app_entry()
        for app in self.apps:
            app.choose_supplier()
        self._post_train(self.apps)
        self._price_all()
        self._note_entries()
        self._users_choose()
        self._settle_money()
        self._collect()
        if self.month >= self.config.months:
            self.running = False

    # ---------------------------------------------------------------- 1. scheduled

    def _schedule(self) -> dict[int, list[tuple[Any, Any]]]:
        """month → (action, item) for the enabled events, then deals, dated then (in the
        scenario's order; anything dated before the start happens in month 0)."""
        start, schedule = self.config.start, {}
        dated = [(event, self._apply_event) for event in self.config.events] + [
            (deal, self._pay_deal) for deal in self.config.funding.investments]
        for item, action in dated:
            if item.enabled:
                schedule.setdefault(max(month_index(start, item.date), 0), []).append(
                    (action, item))
        return schedule

    def _run_scheduled(self, month: int) -> None:
        for action, item in self.scheduled.get(month, ()):
            action(item)

    def _consider_entry(self) -> None:
        """Endogenous entry (model.entry): the next prospective entrant founds a lab if the
        margin it expects in its best segment repays its founding round and the VC pool it
        draws on holds that round; the round then closes with the month's founding chance."""
        waiting = [lab for lab in self.entrants if lab.founded_month == entry.NOT_FOUNDED]
        if not waiting:
            return
        candidate, rules = waiting[0], self.config.entry
        base = self.best_open_capability(candidate.main_modality)
        pool = "open_source" if candidate.is_open else "closed"
        if math.isnan(base) or self.venture.dry_powder.get(pool, 0.0) < rules.founding_round_musd:
            return
        value = self._entry_value_musd(candidate, base)
        segment = int(np.argmax(value))
        if value[segment] < rules.founding_round_musd:
            return
        raised = self.venture.raise_round(pool, rules.founding_round_musd, self.streams["entry"],
                                          rules.founding_probability_monthly)
        if raised > 0:
            candidate.found(segment, base, raised, (
                f"enters {self.segment_ids[segment]} on open weights of {base:.1f} points: "
                f"${value[segment]:,.0f}M of margin expected over "
                f"{rules.payback_months:g} months against a ${raised:,.0f}M round"))

    def best_open_capability(self, modality: int) -> float:
        """Best capability in ``modality`` of a model whose weights anyone can build on (an
        active open-weights lab's or the community's); NaN if there is none."""
        market, size = self.market, self.market.size
        active = market.alive[:size] & (market.founded_month[:size] <= self.month)
        open_ = active & market.open_weights[:size]
        # the community has a model to build on only once it has an open base of its own
        open_[self.community.column] = self.community.base is not None
        values = market.capability[:size][open_, modality]
        values = values[~np.isnan(values)]
        return float(values.max()) if values.size else math.nan

    def _entry_value_musd(self, candidate: Lab, capability: float) -> np.ndarray:
        """[S] margin (USD millions over the payback horizon) an entrant with a model of
        ``capability`` would earn in each segment its template may serve (0 elsewhere)."""
        may_serve = np.array([s in self.config.entry.lab.offerings for s in self.segment_ids])
        return self._product_value_musd(capability, candidate.main_modality, candidate.is_open,
                                        may_serve)

    def _product_value_musd(self, capability: float, modality: int, is_open: bool,
                            may_serve: np.ndarray) -> np.ndarray:
        """[S] margin (USD millions over ``entry.payback_months``) a new product on a model of
        ``capability`` in ``modality`` would earn in each segment of ``may_serve`` [S] where
        paid labs sell (0 elsewhere, and everywhere when ``capability`` is NaN): it prices at
        the segment's mean paid price and earns its sellers' mean margin per user
        (:mod:`moatsim.entry`). Entrants and big techs buying a lab's team value a product
        this way."""
        if math.isnan(capability):
            return np.zeros(len(self.segment_ids))
        mean_price, margin, sold = self._paid_margins()
        own = offer_utility(np.full((len(self.segment_ids), 1), capability), mean_price[:, None],
                            np.array([is_open]), self.quality_weight,
                            self.price_weight, self.open_appeal())[:, :, 0]
        same_modality = self.market.segment_modality == modality
        return np.where(may_serve & same_modality & sold,
                        self._new_offer_margin_musd(own, margin), 0.0)

    def _paid_margins(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """[S] the mean price and mean margin over serving cost (USD per user-month) of the
        paid labs' offers in each segment, weighted by use, and whether any is sold there:
        what a new product expects to charge and earn."""
        market = self.market
        paid = self.available & (market.kind[:market.size] == LAB)[None, :] & ~market.is_open
        weight = np.where(paid, self.use, 0.0)
        total = weight.sum(axis=1)
        price = self.price_usd
        cost = self.cost_to_serve_usd[:, None] * self.cost_multiplier
        mean_price = np.divide((weight * price).sum(axis=1), total, out=np.zeros(total.shape),
                               where=total > 0)
        margin = np.divide((weight * (price - cost)).sum(axis=1), total,
                           out=np.zeros(total.shape), where=total > 0)
        return mean_price, margin, total > 0

    def _new_offer_margin_musd(self, utility: np.ndarray, margin_usd: np.ndarray) -> np.ndarray:
        """[S] margin (USD millions over ``entry.payback_months``) a new offer worth
        ``utility`` [S, C] to each cohort would earn at ``margin_usd`` [S] a user-month: the
        users it would win among this month's choosers, kept (:mod:`moatsim.entry`)."""
        cfg, served = self.config, self.available
        share = entry.entrant_share(self.utility, served, cfg.choice.outside_option_utils,
                                    utility)
        choosers = self._choosers(served)
        return entry.entry_value_musd(share, choosers.adopting + choosers.looking.sum(axis=2),
                                      margin_usd, cfg.entry.payback_months)

    def _consider_app_entry(self) -> None:
        """Endogenous app entry: the next prospective app builder is founded in the segment
        where the margin it expects from a product on this month's suppliers
        (:meth:`_app_value_musd`) is largest, if that repays its founding round and the
        closed VC pool holds the round; the round closes with the month's founding chance."""
        waiting = [app for app in self.app_entrants if app.founded_month == entry.NOT_FOUNDED]
        rules = self.config.entry
        round_musd = rules.app_founding_round_musd
        if not waiting or self.venture.dry_powder.get("closed", 0.0) < round_musd:
            return
        candidate = waiting[0]
        value, detail = self._app_value_musd(candidate)
        segment = int(np.argmax(value))
        if value[segment] < round_musd:
            return
        raised = self.venture.raise_round("closed", round_musd, self.streams["app_entry"],
                                          rules.founding_probability_monthly)
        if raised > 0:
            candidate.found(segment, raised, (
                f"enters {self.segment_ids[segment]} on {detail[segment]}: "
                f"${value[segment]:,.0f}M of margin expected over {rules.payback_months:g} "
                f"months against a ${raised:,.0f}M round"))

    def _app_value_musd(self, candidate: AppBuilder) -> tuple[np.ndarray, list[str]]:
        """[S] margin (USD millions over the payback horizon) a new app like ``candidate``
        would earn in each segment it may serve (0 elsewhere), and what it would run on there.

        It would run on this month's suppliers as ranked for apps (routing across them, or on
        the best one), add its template's interface bonus, and charge its API cost plus the
        margin paid labs earn in the segment (:meth:`_paid_margins`), which is what it earns."""
        market = self.market
        _, margin, sold = self._paid_margins()
        n_segments = len(self.segment_ids)
        quality, price, gain = np.zeros(n_segments), np.zeros(n_segments), np.zeros(n_segments)
        available = np.zeros(n_segments, dtype=bool)
        detail = [""] * n_segments
        api = market.api_capability()
        may_serve = np.array([s in self.config.entry.app.offerings for s in self.segment_ids])
        for segment in np.flatnonzero(may_serve & sold).tolist():
            offers = self.supplier_ranking[segment]
            values = np.array([offer[0] for offer in offers])
            if not offers or not np.isfinite(values.max()):
                continue
            if candidate.routes_across_suppliers:
                kept, share, gain[segment] = task_routes(values)
            else:
                kept, share = np.array([0]), np.ones(1)
            columns = np.array([offers[row][2].column for row in kept.tolist()])
            quality[segment] = share @ api[columns, market.segment_modality[segment]]
            price[segment] = share @ market.list_price_usd[columns, segment]
            available[segment] = True
            names = [offers[row][1] for row in kept.tolist()]
            detail[segment] = (f"{names[0]}'s model" if len(names) == 1 else
                               f"models routed across {', '.join(names[:3])}"
                               + (f" and {len(names) - 3} more" if len(names) > 3 else ""))
        quality = quality + market.quality_bonus[candidate.column]
        own = (offer_utility(quality[:, None], (price + np.maximum(margin, 0.0))[:, None],
                             np.array([False]), self.quality_weight, self.price_weight,
                             self.open_appeal())[:, :, 0] + gain[:, None])
        value = np.where(available, self._new_offer_margin_musd(own, margin), 0.0)
        return value, detail

    def absorption_value_musd(self, lab: Lab, buyer: BigTech) -> float:
        """What ``lab``'s team and model are worth to ``buyer`` in a licence-and-hire deal
        (make or buy): the team can build on its own model or the best open weights, so it
        is worth the margin a product on the better of the two would earn in its best segment
        (:meth:`_product_value_musd`). A buyer with a lab of its own already has a team and
        whatever it builds on, so to it the deal is worth only the better model."""
        modality = lab.main_modality
        may_serve = self.market.entry_month[lab.column] != NEVER
        open_weights = self.best_open_capability(modality)
        reachable = np.fmax(lab.capability[modality], open_weights)
        value = self._product_value_musd(reachable, modality, False, may_serve).max()
        own_labs = [own for own in buyer.in_house_labs() if own is not lab]
        if own_labs:
            have = np.fmax.reduce([open_weights] + [own.capability[modality] for own in own_labs])
            value -= self._product_value_musd(float(have), modality, False, may_serve).max()
        return float(value)

    def _read_tastes_and_adoption(self) -> None:
        """[C] cohorts' tastes and [S] segments' Bass coefficients, as arrays."""
        cfg = self.config
        self.quality_weight = np.array([c.quality_weight_per_point for c in cfg.cohorts])
        self.price_weight = np.array([c.price_weight_per_usd for c in cfg.cohorts])
        self.open_preference = np.array([c.open_preference_utils for c in cfg.cohorts])
        self.trust_weight = np.array([s.trust_weight_utils for s in cfg.segments])
        self.bass_p = np.array([s.bass_innovation_monthly for s in cfg.segments])
        self.bass_q = np.array([s.bass_imitation_monthly for s in cfg.segments])
        self.extra_provider_cost = np.array([
            np.nan if s.extra_provider_cost_utils is None else s.extra_provider_cost_utils
            for s in cfg.segments])

    def _set_parameter(self, event: Any) -> None:
        """A change of regime (``kind: set``): from this month on the model reads the
        parameter's new value. What was read into arrays or state objects at the start is
        read again; everything else is read from ``config`` where it is used."""
        before = self.config
        self.source_scenario = with_set_event(self.source_scenario, event.path, event.value)
        self.config = switched_off(self.source_scenario)
        self._read_tastes_and_adoption()
        parts = event.path.split(".")
        if parts[0] == "firms":  # a firm's strategy (moatsim.loading.STRATEGY_KEYS)
            self.firm_by_id[parts[1]].read_strategy(
                next(f for f in self.config.firms if f.id == parts[1]))
        self.venture.set_pools(*_vc_pools(self.config))
        self.ideas.closed_lag_months = self.config.technology.closed_imitation_lag_months
        old = _value_at(before, event.path)
        # a change of the market's rules, not any firm's doing, and no money moves
        self.record(SCENARIO_AGENT, "parameter_set", f"{event.id}: {event.path} {old!r} → "
                    f"{_value_at(self.config, event.path)!r}")

    def _apply_event(self, event: Any) -> None:
        if event.kind == "set":
            self._set_parameter(event)
            return
        firm = self.firm_by_id[event.firm]
        if event.kind in ("open_release", "close_release") and isinstance(firm, Lab):
            firm.release_weights(event.kind == "open_release")
        elif event.kind == "model_release" and isinstance(firm, Lab):
            firm.release_model(event.quality, event.id, MODALITIES.index(event.modality))
        elif event.kind == "enter_segment" and isinstance(firm, Seller):
            firm.enter(self.segment_ids.index(event.segment))
        elif event.kind == "exit" and firm.alive:
            firm.exit(f"scheduled: {event.id}")
        elif event.kind == "licence_start" and isinstance(firm, BigTech):
            firm.start_licence(self.firm_by_id[event.partner])
        elif event.kind == "licence_end" and isinstance(firm, BigTech):
            firm.end_licence()

    def _pay_deal(self, deal: Investment) -> None:
        investee = self.firm_by_id[deal.investee]
        if not investee.alive:
            self.record(deal.investor, "tranche_withheld", f"{deal.id}: {deal.investee} has exited",
                        deal.amount_musd)
            return
        if deal.investor == OUTSIDE_INVESTOR:
            investee.book("vc", deal.amount_musd, counterparty=OUTSIDE_INVESTOR)
            self.record(deal.investee, "funding_round", f"{deal.id}: venture capital",
                        deal.amount_musd)
            return
        investor = self.firm_by_id[deal.investor]
        gap = (investee.capability_gap() if isinstance(investee, Lab)
               else self.frontier_quality())
        if gap > deal.milestone_max_gap_points:
            self.record(deal.investor, "tranche_withheld",
                        f"{deal.id}: {deal.investee} trails the frontier by {gap:.1f} points",
                        deal.amount_musd)
            return
        category = "tranche" if deal.milestone_max_gap_points < 200 else "stake"
        if isinstance(investor, BigTech) and isinstance(investee, Lab):
            investor.invest(investee, deal.amount_musd, category)
        else:
            investor.pay(investee, deal.amount_musd, category)
            self.record(deal.investee, category, f"{deal.id}: {deal.investor}", deal.amount_musd)

    # ---------------------------------------------------------------- 3–6. prices and users

    def _post_train(self, sellers: list[Seller]) -> None:
        """Each seller splits its post-training budget over the segments it serves, by use
        (C3); a lab with a smaller model gets further per dollar (C16); every edge wears off
        as rivals copy it (C14, C29) unless it is renewed."""
        cfg = self.config
        columns = np.array([seller.column for seller in sellers], dtype=np.int64)
        budget = np.array([seller.post_training_budget_musd() for seller in sellers])
        served = self.market.serving(self.month)[columns]
        training = (budget > 0) & served.any(axis=1)
        if not training.any():
            return
        rows = np.flatnonzero(training)
        columns, served, budget = columns[rows], served[rows], budget[rows]
        spend = technology.posttrain_spend(budget, self.use[:, columns].T,
                                           served)
        for row, total in zip(rows.tolist(), spend.sum(axis=1).tolist(), strict=True):
            sellers[row].spend_compute("post_training", total)
        if cfg.commoditization.posttrain_size_exponent > 0:
            spend = spend * self._iteration_speed(columns)
        gain = technology.posttrain_gain(spend, cfg.technology.training_reference_musd,
                                         cfg.commoditization.posttrain_points_per_doubling_year)
        bonus = self.market.quality_bonus[columns]
        self.market.add_to_bonus(columns, served * (
            gain - cfg.commoditization.posttrain_depreciation_monthly * np.maximum(bonus, 0.0)))

    def _iteration_speed(self, columns: np.ndarray) -> np.ndarray:
        """[N, S] how much further a post-training dollar goes for each seller in each
        segment (C16): ``2^(κ · d)`` for a model ``d`` doublings of compute behind the
        frontier in the segment's modality, 1 for an app (it tunes an interface)."""
        market = self.market
        modality = market.segment_modality
        capability = market.capability[columns][:, modality]  # [N, S], NaN for apps
        frontier = market.frontier(self.month)[modality]
        doublings = self._doublings(np.maximum(frontier[None, :] - capability, 0.0))
        # at most 2^30 per dollar: a bound for a scale with (almost) no points per doubling
        return np.exp2(np.minimum(
            self.config.commoditization.posttrain_size_exponent * doublings, 30.0))

    def _enter_segments(self) -> None:
        """Labs with the runway to expand enter every segment they have not served yet where
        their model is within ``entry_max_gap_points`` of the best offer there (M3)."""
        rules = self.config.first_mover
        ready = [lab for lab in self.labs if lab.ready_to_expand()]
        if not ready:
            return
        market = self.market
        columns = np.array([lab.column for lab in ready], dtype=np.int64)
        new = ~market.serving(self.month)[columns] & (market.entry_month[columns] == NEVER)
        close = (market.capability[columns][:, market.segment_modality]
                 >= market.best_offer_quality()[None, :] - rules.entry_max_gap_points)
        for row, segment in zip(*np.nonzero(new & close), strict=True):
            ready[row].markup[segment] = self.config.commoditization.max_markup / 2
            ready[row].enter(int(segment))

    def _price_all(self) -> None:
        """Every seller sets this month's prices (``pricing.rule``; model.pricing): its best
        response to the demand of the users choosing now, or the lead-markup rule. Open
        weights and the community sell at hosting cost; an app's unit cost is its supplier's
        new price. Big cuts are recorded."""
        market, commod = self.market, self.config.commoditization
        previous = market.list_price_usd[:market.size].copy()
        self.cost_multiplier = self._cost_multipliers()
        self.unit_cost_usd = self._unit_costs()
        if self.config.pricing.rule == "lead_markup":
            self._lead_markups()
            market.set_prices(self.unit_cost_usd)
            self.pricing_iterations, self.pricing_foc_residual = 0, float("nan")
        else:
            self._best_response_prices()
        price = market.list_price_usd[:market.size]
        served = market.serving(self.month)
        cut = served & (previous > 0) & (price < previous * (1.0 - commod.price_cut_event_share))
        for column, segment in zip(*np.nonzero(cut), strict=True):
            self.record(self.sellers[column].firm_id, "price_cut",
                        f"{self.segment_ids[segment]}: ${previous[column, segment]:.2f} → "
                        f"${price[column, segment]:.2f} per user-month")

    def _choosers(self, available: np.ndarray) -> pricing.Choosers:
        """This month's choosers (new adopters and users who look around) given what is on
        offer [S, P]: the demand prices answer and an entrant counts on."""
        cfg = self.config
        compare = cfg.mechanisms.users_compare_offers
        return pricing.Choosers.of(
            self.population.counts, available, self.population.hazard(self.bass_p, self.bass_q),
            cfg.first_mover.reconsider_share_monthly,
            cfg.first_mover.switching_cost_utils if compare else 0.0,
            lookers_may_leave=cfg.choice.lookers_may_leave)

    def _best_response_prices(self) -> None:
        """Nash–Bertrand prices against this month's choosers (model.pricing)."""
        market, cfg = self.market, self.config
        size = market.size
        available = market.serving(self.month).T  # [S, P]
        quality = np.where(available, market.offer_quality().T, 0.0)
        is_open = market.offer_open().T  # [S, P]
        value = offer_utility(quality, np.zeros(quality.shape), is_open,
                              self.quality_weight, self.price_weight,
                              self.open_appeal()) + self.advantage()[:, None, :]
        choosers = self._choosers(available)
        # open weights sell at hosting cost; a licensed model an open lab serves is priced
        hosting = np.zeros(size, dtype=bool)
        hosting[[lab.column for lab in self.labs if lab.sells_at_hosting_cost()]] = True
        priced = ~(hosting[None, :] & is_open)
        priced[:, self.community.column] = False
        cost = self.unit_cost_usd  # [S, P]
        gap = self.free_tier_gap()  # [S, P]
        serving = self.cost_to_serve_usd[:, None] * self.cost_multiplier  # no licence fee
        free = None if np.isnan(gap).all() else pricing.FreeTiers(
            value=np.where(np.isnan(gap)[:, None, :], -np.inf,
                           value - self.quality_weight[None, :, None] * gap[:, None, :]),
            cost_usd=serving * self._free_tier_cost_share(gap))
        equilibrium = pricing.best_response_prices(
            value, cost, market.list_price_usd[:size].T, available, priced,
            market.route_share[:size, :size], market.kind[:size] == APP,
            self.price_weight,
            self.cohort_share, cfg.choice.outside_option_utils, choosers,
            max_iterations=cfg.pricing.max_iterations, tolerance_usd=cfg.pricing.tolerance_usd,
            free_tiers=free)
        market.list_price_usd[:size] = equilibrium.price_usd.T
        self.pricing_iterations = equilibrium.iterations
        self.pricing_foc_residual = equilibrium.foc_residual

    def _lead_markups(self) -> None:
        """Labs move their markups toward what their lead over the best rival allows (C4,
        C15; open weights at hosting cost): the lead-markup rule."""
        market, commod = self.market, self.config.commoditization
        market.rank_rivals(self.month)
        labs = np.array([lab.column for lab in self.labs], dtype=np.int64)
        top, first, second = market.rivals()
        rival = np.where(top[None, :] == labs[:, None], second[None, :], first[None, :])
        target = pricing.target_markup(market.offer_quality()[labs] - rival, commod.max_markup,
                                       commod.markup_floor, commod.lead_scale_points)
        at_cost = np.array([lab.sells_at_hosting_cost() for lab in self.labs], dtype=bool)
        target[at_cost] = 0.0
        market.markup[labs] = pricing.adjust(market.markup[labs], target,
                                             commod.price_adjust_share_monthly)

    def _note_entries(self) -> None:
        """Record the segment entries that were scheduled for this month."""
        market = self.market
        size = market.size
        active = market.alive[:size] & (market.founded_month[:size] <= self.month)
        entered = (market.entry_month[:size] == self.month) & active[:, None]
        for column, segment in zip(*np.nonzero(entered), strict=True):
            self.record(self.sellers[column].firm_id, "segment_entry", self.segment_ids[segment])

    def _refresh_offers(self) -> None:
        """Quality, price and availability of every seller's offer [S, P] at this month."""
        self.market.refresh(self.month)

    @property
    def quality(self) -> np.ndarray:
        """[S, P] quality of every seller's offer (as of the last refresh of the market)."""
        return self.market.quality

    @property
    def price_usd(self) -> np.ndarray:
        """[S, P] price of every seller's offer, USD per user-month."""
        return self.market.price_usd

    @property
    def available(self) -> np.ndarray:
        """[S, P] whether each seller serves each segment."""
        return self.market.available

    @property
    def is_open(self) -> np.ndarray:
        """[S, P] whether each offer is an open-weights model (a licensed model is not)."""
        return self.market.is_open

    def offer_utilities(self) -> np.ndarray:
        """[S, C, P] what each seller's offer is worth to each cohort this month (with a free
        tier, the log-sum over its two tiers; :attr:`paid_share` is then the share of its
        users who pay, else None)."""
        paid = offer_utility(np.where(self.available, self.quality, 0.0), self.price_usd,
                             self.is_open, self.quality_weight, self.price_weight,
                             self.open_appeal()) + self.advantage()[:, None, :]
        gap = self.free_tier_gap()
        if np.isnan(gap).all():
            self.paid_share = None
            return paid
        utility, self.paid_share = with_free_tiers(paid, self.price_usd, gap,
                                                   self.quality_weight, self.price_weight)
        return utility

    def paying_users(self) -> tuple[np.ndarray, np.ndarray]:
        """[S, P] users on paid tiers (expected: each cohort's users split by its paid share)
        and users in serving-cost units: a user of an offer behind the segment's best costs
        :attr:`cost_multiplier` of a user of the best, and a free-tier user less again (its
        model is smaller, :meth:`_free_tier_cost_share`)."""
        multiplier = self.cost_multiplier
        if self.paid_share is None:
            return self.use, self.use * multiplier
        paid = (self.use_by_cohort * self.paid_share).sum(axis=1)
        free = self.use - paid
        gap = self.free_tier_gap()
        return paid, (paid + self._free_tier_cost_share(gap) * free) * multiplier

    def _compute_behind(self, points: np.ndarray) -> np.ndarray:
        """Cost of serving a model ``points`` behind another, as a share of the other's:
        ``2^(−θ · points / π0)`` (commoditization.serving_cost_exponent; NaN points → 1)."""
        return 2.0 ** (-self.config.commoditization.serving_cost_exponent
                       * self._doublings(points))

    def _doublings(self, points: np.ndarray) -> np.ndarray:
        """Doublings of effective compute that ``points`` of quality stand for
        (``points / π0``, commoditization.pretrain_points_per_doubling; NaN → 0)."""
        return np.nan_to_num(points) / max(
            self.config.commoditization.pretrain_points_per_doubling, 1e-9)

    def free_tier_gap(self) -> np.ndarray:
        """[S, P] how many points each offer's free tier trails its paid one (NaN: none). A
        lab that serves a licensed model keeps its own as the free tier (C10's freemium with
        C22's bridge: Meta AI free on its own model, the licensed one paid), when the scenario
        has free tiers."""
        market = self.market
        size = market.size
        gap = market.free_tier_gap[:size].T
        licensed = market.serves_licence().T
        if not self.config.pricing.free_tiers or not licensed.any():
            return gap
        modality = market.segment_modality
        own = market.capability[:size][:, modality].T
        return np.where(licensed, market.licensed_capability[:size][:, modality].T - own, gap)

    def _free_tier_cost_share(self, gap: np.ndarray) -> np.ndarray:
        """[S, P] a free-tier user's serving cost as a share of a paid user's of the same
        offer: its model is ``gap`` points smaller."""
        return self._compute_behind(gap)

    def _unit_costs(self) -> np.ndarray:
        """[S, P] what a user of each offer costs its seller this month: serving, and where
        it serves a licensed model, the licence fee (:meth:`BigTech.quote_licence_fees`)."""
        serving = self.cost_to_serve_usd[:, None] * self.cost_multiplier
        cost = serving.copy()
        licensed = self.market.serves_licence().T  # [S, P]
        for bigtech in self.bigtechs:
            if bigtech.licensor is None:
                continue
            fee = bigtech.quote_licence_fees(serving)
            for lab in bigtech.in_house_labs():
                cost[:, lab.column] += np.where(licensed[:, lab.column], fee, 0.0)
        return cost

    def _cost_multipliers(self) -> np.ndarray:
        """[S, P] each offer's cost of serving a user as a share of the segment's best offer's
        (a model behind the best is smaller, so cheaper to serve: Hoffmann et al. 2022)."""
        served = self.market.serving(self.month).T
        quality = np.where(served, self.market.offer_quality().T, -np.inf)
        best = quality.max(axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):  # −inf − (−inf) where nobody serves
            behind = np.where(served, np.maximum(best - quality, 0.0), 0.0)
        return self._compute_behind(behind)

    def _users_choose(self) -> None:
        self._refresh_offers()
        first = self.config.first_mover
        self.utility = self.offer_utilities()
        compare_offers = self.config.mechanisms.users_compare_offers
        utility = self.utility if compare_offers else random_choice_utility(
            self.utility, self.available)
        self.population.step(
            self.streams["adoption"],
            choice_rng=self.streams["choice"],
            utility=utility,
            available=self.available,
            outside_utility=self.config.choice.outside_option_utils,
            bass_p=self.bass_p,
            bass_q=self.bass_q,
            reconsider_share=first.reconsider_share_monthly,
            switching_cost=first.switching_cost_utils if compare_offers else 0.0,
            lookers_may_leave=self.config.choice.lookers_may_leave,
        )
        self._route_use(utility)
        self._note_first_movers()

    def _route_use(self, utility: np.ndarray) -> None:
        """Where users' work goes this month: in segments where users multi-home, each user
        of a primary provider splits its use over a set of providers by a logit over tasks
        (:mod:`moatsim.multihoming`, with the ``utility`` [S, C, P] users chose by); elsewhere
        use is the primary counts. Sets :attr:`use_by_cohort` [S, C, P], :attr:`use` [S, P]
        (what providers are paid for and shares measure) and :attr:`reach` [S, P] (users of
        each provider, a multi-homing user counted at each of its providers)."""
        counts = self.population.counts[:, :, 1:]
        if np.isnan(self.extra_provider_cost).all():
            self.use_by_cohort = counts.astype(float)
            self.reach = self.population.users()
        else:
            split, used = multihoming.use_split(utility, self.available,
                                                self.extra_provider_cost)
            self.use_by_cohort, self.reach = multihoming.use_and_reach(counts, split, used)
        self.use = self.use_by_cohort.sum(axis=1)
        total = self.use.sum(axis=1)
        open_use = (self.use * self.market.is_open).sum(axis=1)
        self.closed_use_share = np.divide(total - open_use, total, out=np.zeros(total.shape),
                                          where=total > 0)

    def open_appeal(self) -> np.ndarray:
        """[S, C] what an open-weights offer is worth to each cohort over a closed one: its
        taste for open weights, stronger where more of the segment's work runs on closed
        models (C21: the tighter the control, the more attractive open alternatives)."""
        weight = self.config.choice.open_appeal_from_closed_use
        return self.open_preference[None, :] * (1.0 + weight * self.closed_use_share[:, None])

    def advantage(self) -> np.ndarray:
        """[S, P] utility from brand (first entrant), network effects, distribution, trust
        (C27) and an app's routing of tasks across suppliers."""
        first = self.config.first_mover
        bonus = first.network_effect_utils * self.last_shares
        gain = self.market.routing_gain_utils[:self.market.size]
        if gain.any():
            bonus = bonus + gain[None, :]
        if self.trust_weight.any():
            bonus = bonus + technology.trust_utility(
                self.market.trust_stock_musd[:self.market.size], self.trust_weight,
                self.config.trust.scale_musd)
        for segment, (seller, entered) in self.first_mover.items():
            bonus[segment, seller] += technology.brand_stock(
                first.brand_initial_utils, self.month - entered, first.brand_half_life_months)
        for bigtech in self.bigtechs:
            partners = [*bigtech.in_house_labs(), *bigtech.own_apps()]
            champion = bigtech.champion
            if champion is not None and champion.alive and champion.owner is None:
                partners.append(champion)
            for lab in partners:
                bonus[:, self._seller_index[id(lab)]] += bigtech.distribution_utils
        return bonus

    def _initial_first_movers(self, initial: np.ndarray) -> dict[int, tuple[int, int]]:
        """segment → (seller index, entry month) of the first entrant: the one the scenario
        names (C5), else the seller with the most users at the start."""
        first = {}
        for s, segment in enumerate(self.config.segments):
            if segment.first_mover is not None:
                first[s] = (self._seller_index[id(self.firm_by_id[segment.first_mover])], 0)
            elif initial[s].sum() > 0:
                first[s] = (int(np.argmax(initial[s])), 0)
        return first

    def _note_first_movers(self) -> None:
        for segment in range(len(self.segment_ids)):
            if segment in self.first_mover:
                continue
            entrants = np.flatnonzero(self.available[segment])
            if entrants.size:
                self.first_mover[segment] = (int(entrants[0]), self.month)

    # ---------------------------------------------------------------- 7. money

    def _settle_money(self) -> None:
        users = self.use
        size = self.market.size
        paying, serving_units = self.paying_users()
        revenue = ((paying * self.market.list_price_usd[:size].T).sum(axis=0) / 1e6).tolist()
        serving = ((serving_units * self.cost_to_serve_usd[:, None]).sum(axis=0) / 1e6).tolist()
        for column, seller in enumerate(self.sellers):
            seller.settle(users[:, column], revenue[column], serving[column])
        for bigtech in self.bigtechs:
            bigtech.pay_licence_fees()
            if bigtech.active(self.month) and bigtech.staff_cost_musd_month > 0:
                bigtech.book("staff", -bigtech.staff_cost_musd_month)
        for firm in self.firms:
            firm.close_month()
        for seller in (*self.labs, *self.apps):
            seller.raise_money()
        for firm in (*self.labs, *self.apps):
            if firm.alive and firm.cash_musd < 0:
                self._rescue_or_exit(firm)
        decline = self.config.commoditization.inference_cost_decline_per_year
        self.cost_to_serve_usd = self.cost_to_serve_usd * (1.0 - decline) ** (1.0 / 12.0)
        self.last_shares = metrics.segment_shares(self.use)
        self._refresh_offers()

    def _rescue_or_exit(self, firm: Firm) -> None:
        if self.config.mechanisms.funding_differences:
            if firm.owner is not None and firm.owner.cash_musd > -firm.cash_musd:
                firm.owner.pay(firm, -firm.cash_musd + firm.staff_cost_musd_month,
                               "owner_funding")
                return
        if isinstance(firm, Lab) and self.config.mechanisms.funding_differences:
            buyers = sorted(self.bigtechs, key=lambda b: (-b.cash_musd, b.firm_id))
            if firm.owner is None and any(b.consider_acquisition(firm) for b in buyers):
                return
            if firm.owner is None and self.config.funding.licence_and_hire and any(
                    b.consider_licence_and_hire(firm) for b in buyers):
                return
        firm.exit("cash ran out")

    # ---------------------------------------------------------------- read-outs

    def next_transfer_id(self) -> int:
        self._transfers += 1
        return self._transfers

    def record(self, firm: str, kind: str, detail: str, amount_musd: float | None = None) -> None:
        """An event about ``firm`` (a firm id, or ``scenario`` for a scheduled change)."""
        self.events.append({"month": self.month, "date": self.date, "firm": firm,
                            "kind": kind, "detail": detail, "amount_musd": amount_musd})

    def __repr__(self) -> str:
        """The scenario, where the run is, and who leads: what a notebook cell shows."""
        users = [float(self.users_of(seller).sum()) for seller in self.sellers]
        total = sum(users)
        lead = ""
        if total > 0:
            top = int(np.argmax(users))
            lead = f", leader {self.sellers[top].firm_id} with {users[top] / total:.0%} of users"
        return (f"<AIMarketModel {self.config.name!r} at {self.date} (month {self.month} of "
                f"{self.config.months}){lead}>")

    @property
    def date(self) -> str:
        """Calendar month (``YYYY-MM``) of the current state."""
        if self._date[0] != self.month:
            self._date = (self.month, month_label(self.config.start, self.month))
        return self._date[1]

    def users_of(self, seller: Seller) -> np.ndarray:
        """[S] users of a seller (a multi-homing user counts at each of its providers)."""
        return self.reach[:, self._seller_index[id(seller)]]

    def use_of(self, seller: Seller) -> np.ndarray:
        """[S] user-months of work a seller serves (its users, where users single-home)."""
        return self.use[:, self._seller_index[id(seller)]]

    def users_by_firm(self) -> np.ndarray:
        """[firms] users of every firm over all segments (0 for big tech)."""
        users = self.reach.sum(axis=0)
        return np.array([users[self._seller_index[id(f)]] if id(f) in self._seller_index else 0
                         for f in self.firms])

    def frontier_quality(self) -> float:
        """Best general capability of any lab still alive."""
        return self.market.best_capability(self.month, default=0.0)

    def closed_frontier_quality(self) -> float:
        """Best general capability of a closed model (what open models catch up with)."""
        return self.market.best_capability(self.month, closed_only=True,
                                           default=self.frontier_quality())

    def best_offer_quality(self) -> np.ndarray:
        """[S] best quality on offer in each segment (−inf where nobody serves)."""
        return self.market.best_offer_quality()

    def _rank_suppliers(self) -> None:
        """Each segment's labs (and the community's models, ``open_source.apps_may_use``) by
        value to users, best first: what app builders choose from (models and prices do not
        change while apps choose)."""
        suppliers: list[Seller] = list(self.labs)
        if self.config.open_source.apps_may_use:
            suppliers.append(self.community)
        columns = np.array([supplier.column for supplier in suppliers], dtype=np.int64)
        market = self.market
        serving = market.serving(self.month)[columns]  # [L, S]
        # mean utility over cohorts of each lab's API model in each segment, [L, S]
        api = market.api_capability()[columns][:, market.segment_modality]  # [L, S]
        utility = (self.quality_weight * np.where(np.isnan(api), -np.inf, api)[:, :, None]
                   - self.price_weight * market.list_price_usd[columns][:, :, None])
        self.supplier_value = (self.cohort_share * utility).sum(axis=2)
        ranking: list[list[tuple[float, str, Seller]]] = []
        for segment in range(len(self.segment_ids)):
            offers = [(float(self.supplier_value[row, segment]), suppliers[row].firm_id,
                       suppliers[row]) for row in np.flatnonzero(serving[:, segment])]
            offers.sort(key=lambda offer: offer[:2], reverse=True)
            ranking.append(offers)
        self.supplier_ranking = ranking
        self._supplier_row = {id(supplier): row for row, supplier in enumerate(suppliers)}

    def supplier_value_of(self, supplier: Seller, segment: int) -> float:
        """Mean utility over cohorts of ``supplier``'s API model in ``segment`` (before brand
        and network effects), as ranked this month (−inf if apps may not use it)."""
        row = self._supplier_row.get(id(supplier))
        return -math.inf if row is None else float(self.supplier_value[row, segment])

    def _collect(self) -> None:
        self._share_ideas()
        self.recorder.collect(self)

    def _share_ideas(self) -> None:
        """Put this month's best open and closed models in the pool of ideas (model.diffusion)."""
        if self.config.technology.capability_rule != "effective_compute":
            return
        models = [(lab.compute_log2, lab.is_open) for lab in self.labs if lab.active(self.month)]
        models.append((self.community.compute_log2, True))
        best = {True: np.full(len(MODALITIES), np.nan), False: np.full(len(MODALITIES), np.nan)}
        for compute, is_open in models:
            best[is_open] = np.fmax(best[is_open], compute)
        self.ideas.record(best[True], best[False])

    @property
    def datacollector(self) -> mesa.DataCollector:
        """The run's outputs so far as a ``mesa.DataCollector`` (model variables, one record
        per firm and month, and the ``segments`` table), for Mesa tools such as
        ``mesa.batch_run``; built from :attr:`recorder` when asked for."""
        return self.recorder.datacollector()


# ---------------------------------------------------------------- null and rival models


def _vc_pools(config: Scenario) -> tuple[dict[str, dict[int, float]], dict[str, float]]:
    """The scenario's VC pools: pool → year → USD millions, and pool → growth after."""
    pools = config.funding.vc_pools
    return ({pool.id: pool.annual_musd for pool in pools},
            {pool.id: pool.growth_after_per_year for pool in pools})


def _value_at(config: Scenario, path: str) -> Any:
    """The value at a dotted parameter path (list entries named by id)."""
    node: Any = config
    for part in path.split("."):
        if isinstance(node, list):
            node = next(entry for entry in node if entry.id == part)
        elif isinstance(node, dict):
            node = node.get(int(part) if part.isdigit() and int(part) in node else part)
        else:
            node = getattr(node, part)
    return node


def switched_off(config: Scenario) -> Scenario:
    """The scenario with the parameters of every mechanism it switches off set to "absent".

    Switches that are a parameter value (diffusion, brand, absorption) are applied here, once,
    so agents read ordinary parameters; random choice and owner rescues are switched where
    they act (:meth:`AIMarketModel._users_choose`, :meth:`AIMarketModel._rescue_or_exit`).
    """
    mechanisms = config.mechanisms
    if all(getattr(mechanisms, name) for name in type(mechanisms).model_fields):
        return config
    config = config.model_copy(deep=True)
    if not mechanisms.idea_diffusion:
        config.commoditization.idea_diffusion_per_run = 0.0
        config.commoditization.open_catch_up_share_monthly = 0.0
        config.technology.imitation_reach_doublings = 0.0
    if not mechanisms.brand_and_switching_costs:
        config.first_mover.brand_initial_utils = 0.0
        config.first_mover.switching_cost_utils = 0.0
    if not mechanisms.absorption:
        config.open_source.owner_absorb_share = 0.0
    if not mechanisms.funding_differences:
        labs = config.firms_of("lab")
        mean_cash = sum(lab.cash_musd for lab in labs) / len(labs) if labs else 0.0
        for lab in labs:
            lab.cash_musd = mean_cash
        lab_ids = {lab.id for lab in labs}
        for deal in config.funding.investments:
            if deal.investee in lab_ids and deal.investor != OUTSIDE_INVESTOR:
                deal.enabled = False
        for bigtech in config.firms_of("bigtech"):
            bigtech.invest_in_champion = False
    return config


def random_choice_utility(utility: np.ndarray, available: np.ndarray) -> np.ndarray:
    """[S, C, P] every available offer at the mean utility of the offers in its segment, so
    the logit picks among them at random while adoption still depends on what is offered."""
    mask = np.broadcast_to(available[:, None, :], utility.shape)
    count = mask.sum(axis=2, keepdims=True)
    mean = np.divide(np.where(mask, utility, 0.0).sum(axis=2, keepdims=True), count,
                     out=np.zeros(count.shape), where=count > 0)
    return np.broadcast_to(mean, utility.shape).copy()
