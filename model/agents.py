"""The firms of moatsim as Mesa agents: labs that make models and big tech companies.

Each agent holds its own state and makes its own monthly decisions; the market (who uses whom)
lives in :mod:`model.population` and the model wires the two together. Agents know nothing
of files or the command line: they are built from validated scenario entries.

* :class:`Firm` — cash, general capability, per-segment offerings (entry date, quality bonus,
  markup), training spend; settles its month's money and exits when cash runs out.
* :class:`Lab` — a model maker (openai, anthropic, mistral …): trains, serves, can run out of
  money (F12: costs far exceed revenue).
* :class:`BigTech` — a platform company (google, meta, microsoft, amazon): may run an in-house
  lab that serves users, and pays the stakes it has committed to other firms (M2, F1, F2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from model import scenario as sc
from model.calendar import month_index

NEVER = 10**9
"""Entry month of a segment a firm does not serve."""


@dataclass
class MonthlyMoney:
    """A firm's money flows in one month, USD millions (all ≥ 0)."""

    revenue_musd: float = 0.0
    funding_in_musd: float = 0.0
    invested_out_musd: float = 0.0
    training_musd: float = 0.0
    serving_musd: float = 0.0
    staff_musd: float = 0.0

    @property
    def costs_musd(self) -> float:
        return self.training_musd + self.serving_musd + self.staff_musd

    @property
    def net_musd(self) -> float:
        return self.revenue_musd + self.funding_in_musd - self.invested_out_musd - self.costs_musd


class Firm(mesa.Agent):
    """A company with cash, a general model quality and offerings in some segments."""

    kind = "firm"

    def __init__(self, model: mesa.Model, spec: sc.Firm, segment_ids: list[str], start: str):
        super().__init__(model)
        self.firm_id = spec.id
        self.name = spec.name
        self.release = spec.release
        # a freemium firm's free models are open weights (C10), so they count as open
        self.is_open = spec.release in ("open_weights", "freemium")
        self.founded_month = 0 if spec.founded is None else month_index(start, spec.founded)
        self.cash_musd = spec.cash_musd
        self.quality = spec.quality
        self.training_spend_musd_month = spec.training_spend_musd_month
        self.staff_cost_musd_month = spec.staff_cost_musd_month
        self.entry_month = np.full(len(segment_ids), NEVER, dtype=np.int64)
        self.quality_bonus = np.zeros(len(segment_ids))
        self.markup = np.zeros(len(segment_ids))
        for index, segment_id in enumerate(segment_ids):
            offering = spec.offerings.get(segment_id)
            if offering is None:
                continue
            entry = 0 if offering.entry is None else month_index(start, offering.entry)
            # a firm with users at the start is in the segment from the start
            entry = 0 if offering.initial_users > 0 else max(entry, self.founded_month, 0)
            self.entry_month[index] = entry
            self.quality_bonus[index] = offering.quality_bonus
            self.markup[index] = offering.markup
        self.alive = True
        self.exit_month: int | None = None
        self.money = MonthlyMoney()

    # ---------------------------------------------------------------- what it offers

    def serves(self, month: int) -> np.ndarray:
        """[S] whether the firm offers a product in each segment this month."""
        return (self.entry_month <= month) & self.alive

    def segment_quality(self) -> np.ndarray:
        """[S] quality of its product in each segment (general + post-training bonus)."""
        return self.quality + self.quality_bonus

    def prices(self, cost_to_serve_usd: np.ndarray) -> np.ndarray:
        """[S] blended monthly price per user: cost to serve marked up."""
        return cost_to_serve_usd * (1.0 + self.markup)

    # ---------------------------------------------------------------- monthly decisions

    def start_month(self) -> None:
        self.money = MonthlyMoney()

    def active(self, month: int) -> bool:
        """Founded and not exited: spends money and may serve users."""
        return self.alive and month >= self.founded_month

    def train(self, month: int, points_per_doubling_year: float,
              reference_musd_month: float) -> None:
        """Spend on pre-training while cash lasts; capability grows with log spend (C28)."""
        if not self.active(month):
            return
        spend = min(self.training_spend_musd_month, max(self.cash_musd, 0.0))
        self.money.training_musd += spend
        self.quality += points_per_doubling_year / 12.0 * math.log2(1.0 + spend / reference_musd_month)

    def receive(self, amount_musd: float) -> None:
        """Money from an investor arrives in cash at once."""
        self.money.funding_in_musd += amount_musd
        self.cash_musd += amount_musd

    def settle(self, month: int, users: np.ndarray, prices_usd: np.ndarray,
               cost_to_serve_usd: np.ndarray) -> None:
        """Book the month's revenue and costs into cash ([S] users, prices and costs per user).

        Transfers (stakes, tranches) moved cash when they were paid.
        """
        if not self.active(month):
            return
        self.money.revenue_musd += float(users @ prices_usd) / 1e6
        self.money.serving_musd += float(users @ cost_to_serve_usd) / 1e6
        self.money.staff_musd += self.staff_cost_musd_month
        self.cash_musd += self.money.revenue_musd - self.money.costs_musd

    def exit_if_broke(self, month: int) -> bool:
        """Leave the market when cash is gone; its users will have to choose again."""
        if self.alive and self.cash_musd < 0:
            self.alive = False
            self.exit_month = month
            return True
        return False

    def runway_months(self) -> float:
        """Months of cash left at this month's net burn (inf when not burning)."""
        burn = -self.money.net_musd + self.money.funding_in_musd
        return math.inf if burn <= 0 else self.cash_musd / burn


class Lab(Firm):
    """A model maker: trains and serves its models, and lives on revenue and investors' money."""

    kind = "lab"


class BigTech(Firm):
    """A platform company: may serve users with an in-house lab and pays committed stakes."""

    kind = "bigtech"

    def pay(self, recipient: Firm, amount_musd: float) -> None:
        """Transfer a stake or tranche to another firm (money is conserved)."""
        self.money.invested_out_musd += amount_musd
        self.cash_musd -= amount_musd
        recipient.receive(amount_musd)


AGENT_CLASSES: dict[str, type[Firm]] = {"lab": Lab, "bigtech": BigTech}
