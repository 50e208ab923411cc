"""The companies of moatsim as Mesa agents: labs and big tech (apps and the open-source
community live in :mod:`moatsim.apps` and :mod:`moatsim.community`).

Agents hold their own state and make their own monthly decisions; the market (who uses whom)
lives in :mod:`moatsim.population`, and the model (:mod:`moatsim.model`) calls the agents in the
documented order. Agents know nothing of files or the command line.

* :class:`Firm` — cash, compute credits and a ledger (:mod:`moatsim.finance`); exits when cash
  runs out.
* :class:`Seller` — a firm with offerings users can choose: entry month, quality and price
  per segment.
* :class:`Lab` — a model maker: pre-training runs that raise its general capability with
  returns that decay (C2), post-training per segment (C3), release policy, prices whose markup
  shrinks as rivals catch up (C4), VC rounds when runway is short (F7).
* :class:`BigTech` — a platform: distribution in some segments (M4), in-house labs it funds,
  a champion lab it backs with stakes and compute credits (C23–C26), stopgap licences (C22)
  and rescues of failing labs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from moatsim import technology
from moatsim import scenario as sc
from moatsim.calendar import month_index
from moatsim.finance import RAISED, Entry, Ledger
from moatsim.market import LAB, Cell, ReadOnlyRow, Row

if TYPE_CHECKING:
    from moatsim.model import AIMarketModel


class Firm(mesa.Agent):
    """A company with cash, compute credits and a ledger of every dollar."""

    kind = "firm"
    model: AIMarketModel

    def __init__(self, model: AIMarketModel, firm_id: str, name: str, cash_musd: float,
                 staff_cost_musd_month: float = 0.0, founded_month: int = 0):
        super().__init__(model)
        self.firm_id = firm_id
        self.name = name
        self.cash_musd = cash_musd
        self.credits_musd = 0.0
        self.initial_cash_musd = cash_musd
        self.staff_cost_musd_month = staff_cost_musd_month
        self.founded_month = founded_month
        self.ledger = Ledger()
        self.last_burn_musd = 0.0
        self.last_revenue_musd = 0.0
        self.alive = True
        self.exit_month: int | None = None
        self.owner: BigTech | None = None
        self.backers: set[str] = set()
        model.firm_by_id[firm_id] = self

    # ---------------------------------------------------------------- money

    def book(self, category: str, amount_musd: float, *, counterparty: str | None = None,
             account: str = "cash", transfer_id: int | None = None) -> None:
        """Record money in (+) or out (−) and move the balance by exactly that much."""
        self.ledger.post(Entry(self.model.month, category, amount_musd, account,
                               counterparty, transfer_id))
        if account == "cash":
            self.cash_musd += amount_musd
        else:
            self.credits_musd += amount_musd

    def pay(self, payee: Firm, amount_musd: float, category: str, *,
            account: str = "cash") -> None:
        """Transfer money to another firm: two ledger entries that cancel out.

        ``category`` names what the payee receives; the payer books ``<category>_out``
        (or the cost category for fees, see :data:`moatsim.finance.COSTS`).
        """
        if amount_musd <= 0:
            return
        transfer_id = self.model.next_transfer_id()
        out = {"api_revenue": "api_fees", "licence_fee_in": "licence_fee_out"}.get(
            category, f"{category}_out")
        self.book(out, -amount_musd, counterparty=payee.firm_id, transfer_id=transfer_id)
        payee.book(category, amount_musd, counterparty=self.firm_id, account=account,
                   transfer_id=transfer_id)

    def spend_compute(self, category: str, amount_musd: float) -> None:
        """Pay for compute from credits first (C25), then from cash."""
        from_credits = min(amount_musd, max(self.credits_musd, 0.0))
        if from_credits > 0:
            self.book(category, -from_credits, account="credits")
        if amount_musd - from_credits > 0:
            self.book(category, -(amount_musd - from_credits))

    def active(self, month: int) -> bool:
        """Founded and not exited: spends money and may serve users."""
        return self.alive and month >= self.founded_month

    @property
    def revenue_musd(self) -> float:
        return self.ledger.month_total(self.model.month, "revenue")

    @property
    def funding_in_musd(self) -> float:
        return self.ledger.month_total(self.model.month, "funding")

    @property
    def costs_musd(self) -> float:
        return -self.ledger.month_total(self.model.month, "costs")

    def monthly_burn_musd(self) -> float:
        """Costs minus revenue in the last closed month (≤ 0 when profitable).

        Decisions during a month (raising, backing, rescuing) see the month before, whose
        books are complete; the month is closed after money has moved.
        """
        return self.last_burn_musd

    def close_month(self) -> None:
        self.last_revenue_musd = self.revenue_musd
        self.last_burn_musd = self.costs_musd - self.revenue_musd

    def runway_months(self) -> float:
        """Months of cash and credits left at the last month's burn (inf when not burning)."""
        burn = self.monthly_burn_musd()
        return math.inf if burn <= 0 else max(self.cash_musd + self.credits_musd, 0.0) / burn

    def raised_musd(self) -> float:
        """Money its investors have put in: its starting cash and every round, stake and
        tranche since (USD millions)."""
        return self.initial_cash_musd + sum(
            e.amount_musd for e in self.ledger.entries if e.category in RAISED)

    def backer_ids(self) -> tuple[str, ...]:
        """Its big-tech backers and owner, by id."""
        return tuple(sorted(self.backers | ({self.owner.firm_id} if self.owner else set())))

    def exit(self, reason: str) -> None:
        self.alive = False
        self.exit_month = self.model.month
        self.model.record(self.firm_id, "exit", reason, self.cash_musd)


class Seller(Firm):
    """A firm whose products users can choose, segment by segment.

    Its offers live in the model's :class:`moatsim.market.MarketState` (its column there):
    ``entry_month``, ``quality_bonus``, ``markup`` and ``price_usd`` are its rows, ``is_open``
    its cell, so reads over all sellers are array operations.
    """

    market_kind = LAB
    entry_month = ReadOnlyRow()
    quality_bonus = ReadOnlyRow()
    markup = Row()
    price_usd = Row("list_price_usd")
    is_open = Cell("open_weights")

    def __init__(self, model: AIMarketModel, spec: sc.Firm, start: str,
                 founded_month: int | None = None):
        """``founded_month`` overrides the spec's founding date (an entrant waiting for the
        entry decision is founded at :data:`moatsim.market.NEVER`)."""
        founded = founded_month if founded_month is not None else (
            0 if spec.founded is None else month_index(start, spec.founded))
        super().__init__(model, spec.id, spec.name, spec.cash_musd, spec.staff_cost_musd_month,
                         founded)
        self.column = model.market.claim(self, self.market_kind, founded)
        self.owner_id = spec.owner  # a big tech's own lab or app (resolved once all exist)
        bonus = np.zeros(len(model.segment_ids))
        self.post_training_spend_musd_month = spec.post_training_spend_musd_month
        for index, segment_id in enumerate(model.segment_ids):
            offering = spec.offerings.get(segment_id)
            if offering is None:
                continue
            entry = 0 if offering.entry is None else month_index(start, offering.entry)
            # a seller with users at the start is in the segment from the start
            model.market.set_entry(self.column, index, 0 if offering.initial_users > 0
                                   else max(entry, founded, 0))
            bonus[index] = offering.quality_bonus
            self.markup[index] = offering.markup
            if offering.free_tier_gap_points is not None and spec.kind == "lab" \
                    and model.config.pricing.free_tiers:
                model.market.free_tier_gap[self.column, index] = offering.free_tier_gap_points
        model.market.add_to_bonus(np.array([self.column]), bonus[None, :])

    def serves(self, month: int) -> np.ndarray:
        """[S] whether it offers a product in each segment this month."""
        return (self.entry_month <= month) & self.active(month)

    def exit(self, reason: str) -> None:
        super().exit(reason)
        self.model.market.leave(self.column)

    def begin(self, segment: int, round_musd: float, reason: str) -> None:
        """Founded now by the entry decision (model.entry), with a founding round of
        ``round_musd`` from venture capital, in ``segment``; recorded as a founding."""
        model = self.model
        self.founded_month = model.month
        model.market.set_founded(self.column, model.month)
        model.market.set_entry(self.column, segment, model.month)
        self.book("vc", round_musd, counterparty=sc.OUTSIDE_INVESTOR)
        model.record(self.firm_id, "founding", reason, round_musd)

    def enter(self, segment: int) -> None:
        """Enter a segment now (recorded with the month's other entries)."""
        if self.entry_month[segment] > self.model.month:
            self.model.market.set_entry(self.column, segment, self.model.month)

    main_modality = 0
    """The modality of its first offering (text unless it offers only images or video)."""

    @property
    def capability(self) -> np.ndarray:
        """[M] capability of its models per modality (quality points; NaN where it has none),
        read-only."""
        view = self.model.market.capability[self.column]
        view.flags.writeable = False
        return view

    @property
    def quality(self) -> float:
        """Capability in its main modality, points."""
        return self.model.market.capability[self.column, self.main_modality].item()

    @quality.setter
    def quality(self, value: float) -> None:
        """One general capability (the gap_share rule): the same in every modality."""
        self.model.market.set_capability(self.column, value)

    def segment_quality(self) -> np.ndarray:
        raise NotImplementedError

    def offer_gap_points(self) -> float:
        """How far its best product trails the frontier of its modality (points)."""
        model = self.model
        frontier = model.market.frontier(model.month)[model.market.segment_modality]
        return float(np.fmin.reduce(frontier - self.segment_quality()))

    def post_training_budget_musd(self) -> float:
        """This month's post-training budget: its plan, or a share of last month's revenue
        when that is more (C3). The model splits it over the segments it serves."""
        share = self.model.config.commoditization.posttrain_share_of_revenue
        return max(self.post_training_spend_musd_month, share * self.last_revenue_musd)

    def raise_money(self) -> None:
        """Raise a VC round when runway is short and its product is close enough to the frontier
        (labs with open weights draw on the open-source pool, F7; others on the closed pool)."""
        model = self.model
        funding = model.config.funding
        if not self.active(model.month) or self.owner is not None:
            return
        if self.runway_months() >= funding.raise_when_runway_below_months:
            return
        if self.offer_gap_points() > funding.max_gap_for_vc_points:
            return
        burn = max(self.monthly_burn_musd(), self.staff_cost_musd_month
                   + getattr(self, "training_spend_musd_month", 0.0))
        pool = "open_source" if self.is_open else "closed"
        amount = model.venture.raise_round(pool, funding.round_months_of_burn * burn,
                                           model.streams["venture"],
                                           funding.round_success_probability)
        if amount > 0:
            self.book("vc", amount, counterparty="venture_capital")
            model.record(self.firm_id, "funding_round", f"VC round from the {pool} pool", amount)

    def settle(self, users: np.ndarray, revenue_musd: float, serving_musd: float) -> None:
        """Book the month's revenue from its [S] users (``revenue_musd`` at its prices), the
        cost of serving them (``serving_musd``) and staff."""
        if not self.active(self.model.month):
            return
        if revenue_musd > 0:
            self.book("revenue", revenue_musd)
        if serving_musd > 0:
            self.spend_compute("serving", serving_musd)
        if self.staff_cost_musd_month > 0:
            self.book("staff", -self.staff_cost_musd_month)


class Lab(Seller):
    """A model maker: trains, releases, prices, serves, raises money, may exit or be bought."""

    kind = "lab"

    def __init__(self, model: AIMarketModel, spec: sc.Firm, start: str,
                 founded_month: int | None = None):
        super().__init__(model, spec, start, founded_month)
        self.release = spec.release
        self.is_open = spec.release in ("open_weights", "freemium")
        modality = model.market.segment_modality
        offered = [modality[model.segment_ids.index(s)] for s in spec.offerings]
        self.main_modality = int(offered[0]) if offered else 0
        if model.config.technology.capability_rule == "gap_share":
            self.quality = spec.quality  # one general capability, in every modality
        else:
            for m in sorted(set(offered)):
                model.market.set_capability(self.column, spec.quality, int(m))
        self.compute_log2 = technology.log2_compute_of(self.capability, model.config)
        self.read_strategy(spec)
        self.licence_cap_users = spec.licence_cap_users
        self.training_stock_musd = spec.training_stock_musd
        self.run_fund_musd = 0.0
        self.months_since_run = 0
        self.absorbed_points = 0.0

    def read_strategy(self, spec: sc.Firm) -> None:
        """Its spending plans, from its spec: at the start, and again when a set event
        changes them (:data:`moatsim.loading.STRATEGY_KEYS`)."""
        self.training_spend_musd_month = spec.training_spend_musd_month
        self.post_training_spend_musd_month = spec.post_training_spend_musd_month
        self.safety_spend_musd_month = spec.safety_spend_musd_month

    def build_trust(self) -> None:
        """Spend this month's safety budget, if it has the cash, and add it to its trust
        stock, which wears off meanwhile (C27; :func:`moatsim.technology.trust_stock`)."""
        model = self.model
        spend = 0.0
        if self.active(model.month) and self.safety_spend_musd_month > 0:
            spend = min(self.safety_spend_musd_month, max(self.cash_musd, 0.0))
            if spend > 0:
                self.book("safety", -spend)
        stock = model.market.trust_stock_musd[self.column]
        model.market.trust_stock_musd[self.column] = technology.trust_stock(
            float(stock), spend, model.config.trust.half_life_months)

    def found(self, segment: int, capability: float, round_musd: float, reason: str) -> None:
        """Founded now by the entry decision (model.entry): it raised ``round_musd`` of
        venture capital, starts from a model of ``capability`` in its main modality (the
        open weights it builds on) and enters ``segment``."""
        self._set_main_capability(capability)
        self.begin(segment, round_musd, reason)

    def build_on(self, capability: float) -> None:
        """Its team builds on a model of ``capability`` in its main modality (open weights)
        where that is better than its own (NaN: nothing to build on)."""
        if not math.isnan(capability) and not capability <= self.quality:
            self._set_main_capability(capability)

    def _set_main_capability(self, capability: float) -> None:
        model = self.model
        if model.config.technology.capability_rule == "gap_share":
            self.quality = capability
        else:
            model.market.set_capability(self.column, capability, self.main_modality)
        self.compute_log2 = technology.log2_compute_of(self.capability, model.config)

    def capability_gap(self) -> float:
        """Points by which it trails the frontier in the modality where it is closest."""
        frontier = self.model.market.frontier(self.model.month)
        return float(np.fmin.reduce(frontier - self.capability))

    @property
    def licensed_quality(self) -> np.ndarray | None:
        """[M] capability of a stopgap licence's model it serves (C22), or None."""
        value = self.model.market.licensed_capability[self.column]
        return None if np.isnan(value).all() else value

    @licensed_quality.setter
    def licensed_quality(self, value: np.ndarray | None) -> None:
        self.model.market.set_licensed(self.column, value)

    # ---------------------------------------------------------------- capability

    def segment_quality(self) -> np.ndarray:
        modality = self.model.market.segment_modality
        own = self.capability[modality] + self.quality_bonus
        licensed = self.licensed_quality
        if licensed is not None:
            own = np.fmax(own, licensed[modality] + self.quality_bonus)
        return np.where(np.isnan(own), -np.inf, own)

    def ready_to_expand(self) -> bool:
        """Active, with the runway entry into a new segment needs (M3)."""
        return self.active(self.model.month) and (
            self.runway_months() >= self.model.config.first_mover.entry_min_runway_months)

    def api_quality(self, modality: int = 0) -> float:
        """Quality of the model it sells through its API in ``modality``: its capability, or
        a licensed model's where better (−inf where it has none)."""
        licensed = self.licensed_quality
        own = self.capability[modality]
        value = own if licensed is None else np.fmax(own, licensed[modality])
        return -math.inf if np.isnan(value) else float(value)

    def pretrain(self) -> None:
        """Set aside this month's budget; every few months it becomes a training run (C2, C28)."""
        model = self.model
        if not self.active(model.month) or self.training_spend_musd_month <= 0:
            return
        funds = max(self.cash_musd + self.credits_musd, 0.0)
        wanted = max(self.training_spend_musd_month,
                     model.config.technology.training_share_of_cash_monthly * funds)
        budget = min(wanted, funds)
        if budget > 0:
            self.spend_compute("training", budget)
            self.run_fund_musd += budget
        self.months_since_run += 1
        if self.months_since_run < model.config.technology.training_run_months:
            return
        tech = model.config.technology
        draw = float(model.streams["training"].normal(0.0, tech.training_outcome_sd))
        if tech.capability_rule == "effective_compute":
            self._train_on_effective_compute(draw)
        else:
            self._train_closing_the_gap(float(np.exp(draw - tech.training_outcome_sd ** 2 / 2)))
        self.training_stock_musd += self.run_fund_musd
        self.run_fund_musd = 0.0
        self.months_since_run = 0

    def _train_on_effective_compute(self, draw: float) -> None:
        """A run in every modality it has a model in: the budget split by users there, each
        part buying effective compute at this month's prices and algorithms, reaching further
        by imitating the best model it can see (C2, C28, C29; docs/ODD.md §7.6)."""
        model = self.model
        users = np.bincount(model.market.segment_modality, weights=model.use_of(self),
                            minlength=len(self.capability))
        before = self.capability.copy()
        gain, self.compute_log2 = technology.effective_compute_run(
            before, self.compute_log2, users, self.run_fund_musd, model.month,
            model.ideas.visible(model.month), draw, model.config)
        model.market.set_capability(self.column, before + gain)
        trained = np.flatnonzero(~np.isnan(before))
        model.record(self.firm_id, "training_run", ", ".join(
            f"{sc.MODALITIES[m]} +{gain[m]:.1f} points (now {before[m] + gain[m]:.1f})"
            for m in trained), self.run_fund_musd)

    def _train_closing_the_gap(self, surprise: float) -> None:
        """The gap_share rule: one general capability, growing with the log of cumulative
        spend, and every run closes a share of the gap to the frontier (kept for comparison)."""
        model = self.model
        tech, commod = model.config.technology, model.config.commoditization
        gain = technology.pretrain_gain(
            self.run_fund_musd, self.training_stock_musd, tech.training_reference_musd,
            commod.pretrain_points_per_doubling, model.month,
            commod.pretrain_returns_half_life_months, surprise)
        # ideas diffuse: a run also closes part of the gap to the best model (C29)
        gain += commod.idea_diffusion_per_run * max(model.frontier_quality() - self.quality, 0.0)
        self.quality += gain
        model.record(self.firm_id, "training_run",
                     f"+{gain:.1f} quality points (now {self.quality:.1f})", self.run_fund_musd)

    def release_model(self, quality: float, name: str, modality: int = 0) -> None:
        """A scheduled release of a model trained before the start (e.g. GPT-4, March 2023)."""
        if self.model.config.technology.capability_rule == "gap_share":
            gain = max(quality - self.quality, 0.0)
            self.quality = max(self.quality, quality)
            now = self.quality
        else:
            old = self.capability[modality]
            now = quality if np.isnan(old) else max(old, quality)
            gain = now - (0.0 if np.isnan(old) else old)
            self.model.market.set_capability(self.column, now, modality)
            self.compute_log2 = np.fmax(self.compute_log2,
                                        technology.log2_compute_of(self.capability,
                                                                   self.model.config))
        self.model.record(self.firm_id, "model_release", f"{name}: +{gain:.1f} quality points "
                          f"(now {now:.1f})")

    def absorb(self, points: np.ndarray) -> None:
        """Take in part of the open community's work on its weights (C19): ``points`` in each
        modality ([M], or one number for the general capability of the gap_share rule)."""
        if np.ndim(points) == 0:
            self.quality += points
            self.absorbed_points += points
            return
        has = ~np.isnan(self.capability)
        added = np.where(has, points, 0.0)
        self.model.market.set_capability(self.column, np.where(has, self.capability + added,
                                                                 np.nan))
        self.absorbed_points += float(added.sum())

    def release_weights(self, open_: bool) -> None:
        self.is_open = open_
        self.release = "open_weights" if open_ else "closed"
        self.model.record(self.firm_id, "open_release" if open_ else "close_release",
                          f"quality {self.quality:.1f}")

    def sells_at_hosting_cost(self) -> bool:
        """Open weights are priced at what hosting costs: users pay only for serving."""
        return self.is_open and self.release == "open_weights"

    # ---------------------------------------------------------------- money

class BigTech(Firm):
    """A platform company: distribution, in-house labs, a champion lab, licences, rescues."""

    kind = "bigtech"

    def __init__(self, model: AIMarketModel, spec: sc.Firm, start: str):
        founded = 0 if spec.founded is None else month_index(start, spec.founded)
        super().__init__(model, spec.id, spec.name, spec.cash_musd, spec.staff_cost_musd_month,
                         founded)
        self.distribution_utils = np.array(
            [spec.distribution_utils.get(s, 0.0) for s in model.segment_ids])
        self.champion_id = spec.champion
        self.read_strategy(spec)
        self.licensor: Lab | None = None
        self.licence_fee_usd_by_segment = np.zeros(len(model.segment_ids))

    def read_strategy(self, spec: sc.Firm) -> None:
        """Its strategy, from its spec: at the start, and again when a set event changes it
        (:data:`moatsim.loading.STRATEGY_KEYS`)."""
        self.invest_in_champion = spec.invest_in_champion
        self.license_stopgap = spec.license_stopgap
        self.licence_gap_points = spec.licence_gap_points
        self.licence_fee_usd = spec.licence_fee_usd_per_user_month

    @property
    def champion(self) -> Lab | None:
        lab = self.model.firm_by_id.get(self.champion_id) if self.champion_id else None
        return lab if isinstance(lab, Lab) else None

    def in_house_labs(self) -> list[Lab]:
        return [lab for lab in self.model.labs if lab.owner is self and lab.alive]

    def own_apps(self) -> list[Seller]:
        """App builders it owns (GitHub Copilot is Microsoft's), alive."""
        return [app for app in self.model.apps if app.owner is self and app.alive]

    # ---------------------------------------------------------------- decisions

    def fund_in_house_labs(self) -> None:
        """Keep its own labs at six months of runway (F14: billions for Meta's labs)."""
        if not self.model.config.mechanisms.funding_differences:
            return
        for lab in self.in_house_labs():
            burn = max(lab.monthly_burn_musd(), lab.staff_cost_musd_month
                       + lab.training_spend_musd_month + lab.post_training_spend_musd_month)
            wanted = 6.0 * burn - (lab.cash_musd + lab.credits_musd)
            if wanted > 0 and self.cash_musd > wanted:
                self.pay(lab, wanted, "owner_funding")

    def back_champion(self) -> None:
        """Pick a champion if it has none (avoiding rivals' champions, C26) and top it up
        with a stake part-paid in compute credits when its runway is short (C24, C25)."""
        if not self.invest_in_champion or not self.active(self.model.month):
            return
        champion = self.champion
        if champion is None or not champion.alive or champion.owner is not None:
            champion = self._choose_champion()
            if champion is None:
                return
        funding = self.model.config.funding
        if champion.runway_months() < funding.raise_when_runway_below_months / 1.5:
            self.invest(champion, funding.champion_follow_on_musd, "stake")

    def _choose_champion(self) -> Lab | None:
        taken = self.rivals_champions()
        month = self.model.month
        candidates = [lab for lab in self.model.labs
                      if lab.active(month) and lab.owner is None and lab.firm_id not in taken
                      and lab.capability_gap() <= self.model.config.funding.max_gap_for_vc_points]
        if not candidates:
            return None
        best = max(candidates, key=lambda lab: (lab.quality, lab.firm_id))
        self.champion_id = best.firm_id
        self.model.record(self.firm_id, "new_champion", best.firm_id)
        return best

    def rivals_champions(self) -> set[str]:
        """Ids of the labs other big techs champion, which it keeps away from (C26; none when
        ``funding.avoid_rivals_champions`` is off)."""
        if not self.model.config.funding.avoid_rivals_champions:
            return set()
        return {b.champion_id for b in self.model.bigtechs if b is not self and b.champion_id}

    def invest(self, lab: Lab, amount_musd: float, category: str) -> float:
        """Pay a stake or tranche: part as compute credits (C25), the rest as cash."""
        amount = min(amount_musd, max(self.cash_musd, 0.0))
        if amount <= 0:
            return 0.0
        credits = amount * self.model.config.funding.compute_credit_share
        self.pay(lab, amount - credits, category)
        self.pay(lab, credits, "compute_credits", account="credits")
        lab.backers.add(self.firm_id)
        self.model.record(lab.firm_id, category, f"{self.firm_id} → {lab.firm_id} "
                          f"({credits:,.0f} as compute credits)", amount)
        return amount

    def manage_licence(self) -> None:
        """License a rival's model as a stopgap while its own lab trails (C22)."""
        if not self.license_stopgap:
            return
        labs = self.in_house_labs()
        if not labs:
            return
        own = max(lab.quality for lab in labs)
        rivals = [lab for lab in self.model.labs
                  if lab.active(self.model.month) and lab.owner is not self]
        if not rivals:
            return
        best = max(rivals, key=lambda lab: (lab.quality, lab.firm_id))
        if self.licensor is None and best.quality - own > self.licence_gap_points:
            self.start_licence(best)
        elif self.licensor is not None and (not self.licensor.alive
                                            or self.licensor.quality - own
                                            < self.licence_gap_points / 2):
            self.end_licence()

    def start_licence(self, licensor: Lab) -> None:
        self.licensor = licensor
        self.model.record(self.firm_id, "licence_start",
                          f"licenses {licensor.firm_id}'s model as a stopgap")

    def end_licence(self) -> None:
        if self.licensor is not None:
            self.model.record(self.firm_id, "licence_end",
                              f"stops licensing {self.licensor.firm_id}'s model")
        self.licensor = None
        for lab in self.in_house_labs():
            lab.licensed_quality = None

    def apply_licence(self) -> None:
        """Its labs serve with the licensed model's quality where that is better."""
        if self.licensor is None:
            return
        for lab in self.in_house_labs():
            lab.licensed_quality = self.licensor.capability.copy()

    def quote_licence_fees(self, cost_usd: np.ndarray) -> np.ndarray:
        """[S] this month's fee per user-month its labs pay where they serve the licensed
        model: what a user of its own earns the licensor there (its price, as it stands
        before this month's prices, less its cost ``cost_usd`` [S, P] of serving one), so
        the licensor gives up no margin, as an app pays its supplier's price (C22); at least
        the agreed ``licence_fee_usd_per_user_month``."""
        fee = np.zeros(len(self.model.segment_ids))
        if self.licensor is not None and self.licensor.alive:
            column = self.licensor.column
            margin = self.licensor.price_usd - cost_usd[:, column]
            fee = np.maximum(np.where(self.licensor.serves(self.model.month), margin, 0.0),
                             self.licence_fee_usd)
        self.licence_fee_usd_by_segment = fee
        return fee

    def pay_licence_fees(self) -> None:
        """Its labs pay the month's fee for every paying user they served with the licensed
        model (the fee is part of their unit cost when they price,
        :meth:`quote_licence_fees`; free-tier users get the lab's own model)."""
        if self.licensor is None or not self.licensor.alive:
            return
        model = self.model
        licensed = model.market.serves_licence()
        paying = model.paying_users()[0]  # a free tier runs on the lab's own model
        for lab in self.in_house_labs():
            fees = (paying[:, model.market.position(lab)] * licensed[lab.column]
                    * self.licence_fee_usd_by_segment).sum()
            lab.pay(self.licensor, float(fees) / 1e6, "licence_fee_in")

    def consider_acquisition(self, lab: Lab) -> bool:
        """Buy a failing lab close to the frontier: clear its deficit, fund a year (C24)."""
        if lab.capability_gap() > self.model.config.funding.acquisition_max_gap_points:
            return False
        burn = lab.staff_cost_musd_month + lab.training_spend_musd_month \
            + lab.post_training_spend_musd_month
        price = -min(lab.cash_musd, 0.0) + 12.0 * burn
        if self.cash_musd < 2 * price:
            return False
        self.pay(lab, price, "acquisition")
        lab.owner = self
        lab.backers.add(self.firm_id)
        self.model.record(lab.firm_id, "acquisition", f"acquired by {self.firm_id}", price)
        return True

    def consider_licence_and_hire(self, lab: Lab) -> bool:
        """Take in an unowned lab that ran out of cash by licensing its model and hiring its
        team (H17–H19) when that is worth more than the fee: the fee clears the lab's deficit
        and repays its investors a share of what they put in; its products leave the market
        and its team becomes one of this company's labs, which may launch again under it."""
        model = self.model
        if not self.active(model.month) or lab.firm_id in self.rivals_champions():
            return False  # C26: a rival's champion is not for sale
        deficit = -min(lab.cash_musd, 0.0)
        payout = model.config.funding.licence_fee_share_of_raised * lab.raised_musd()
        price = deficit + payout
        if self.cash_musd < 2 * price:
            return False
        value = model.absorption_value_musd(lab, self)
        if value < price:
            return False
        self.pay(lab, price, "licence_and_hire")
        if payout > 0:
            lab.book("investor_payout", -payout, counterparty=sc.OUTSIDE_INVESTOR)
        lab.owner = self
        lab.backers.add(self.firm_id)
        lab.licensed_quality = None
        lab.build_on(model.best_open_capability(lab.main_modality))
        model.market.withdraw(lab.column)
        model.record(lab.firm_id, "licence_and_hire",
                     f"{self.firm_id} licenses its model and hires its team: ${value:,.0f}M "
                     f"of margin expected against a ${price:,.0f}M fee", price)
        return True
