"""Money: a ledger per firm, transfers between firms, and the venture-capital pools.

Every change to a firm's cash or compute credits is a ledger entry, so a firm's cash at any
month equals its starting cash plus the sum of its entries — and every transfer is two entries
with the same ``transfer_id`` that cancel out (money paid by one agent is received by another).
Money enters the model only from users (revenue), venture capital and outside shareholders,
and leaves it only as costs (compute, staff, swaps) or as capital returned to outside
investors (a licence-and-hire fee's payout) — each a named category below.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

# categories of money coming in, and which of them are funding rather than earnings
REVENUE = {"revenue", "api_revenue", "licence_fee_in"}
FUNDING = {"vc", "stake", "tranche", "compute_credits", "acquisition", "owner_funding",
           "licence_and_hire"}
RAISED = {"vc", "stake", "tranche", "compute_credits"}
"""Funding that buys investors a claim on the firm (what a licence-and-hire fee repays)."""
# categories of money going out that are costs of doing business (not transfers of capital)
COSTS = {"training", "post_training", "safety", "serving", "staff", "api_fees",
         "licence_fee_out", "swap_cost"}
INVESTED = {"stake_out", "tranche_out", "compute_credits_out", "acquisition_out",
            "owner_funding_out", "licence_and_hire_out", "investor_payout"}
# investor_payout: capital returned to outside investors (money leaving the model)
ALL_CATEGORIES = REVENUE | FUNDING | COSTS | INVESTED
ACCOUNTS = ("cash", "credits")
TOTALS = (("revenue", REVENUE), ("funding", FUNDING), ("costs", COSTS))
"""The month totals every ledger keeps as entries are posted (what firms report monthly)."""
_GROUP: dict[str, str | None] = {category: None for category in ALL_CATEGORIES} | {
    category: name for name, categories in TOTALS for category in categories}
_UNKNOWN = object()


class Entry(NamedTuple):
    """One line of a ledger (USD millions; positive = in, negative = out)."""

    month: int
    category: str
    amount_musd: float
    account: str = "cash"
    counterparty: str | None = None
    transfer_id: int | None = None


@dataclass
class Ledger:
    """A firm's book of every dollar in and out, by month and category.

    Besides the entries it keeps this month's amounts of revenue, funding and costs
    (:data:`TOTALS`) in posting order, so a month total is ``sum()`` of one short list — the
    same sum :meth:`total` gives (Python's ``sum`` compensates float round-off, so the
    amounts are summed together rather than kept as a running total).
    """

    entries: list[Entry] = field(default_factory=list)
    _months: list[int] = field(default_factory=list, repr=False, compare=False)
    _totals_month: int | None = field(default=None, repr=False, compare=False)
    _totals: dict[str, list[float]] = field(default_factory=dict, repr=False, compare=False)

    def post(self, entry: Entry) -> None:
        month, category = entry.month, entry.category
        group = _GROUP.get(category, _UNKNOWN)
        if group is _UNKNOWN:
            raise ValueError(f"unknown ledger category {category!r}")
        if entry.account not in ACCOUNTS:
            raise ValueError(f"unknown account {entry.account!r}")
        if month != self._totals_month:
            if self._totals_month is not None and month < self._totals_month:
                raise ValueError(f"entry for month {month} after month {self._totals_month}")
            self._totals_month, self._totals = month, {name: [] for name, _ in TOTALS}
        self.entries.append(entry)
        self._months.append(month)
        if group is not None:
            self._totals[group].append(entry.amount_musd)

    def month_total(self, month: int, group: str) -> float:
        """This month's signed total of ``group`` (a name in :data:`TOTALS`): equal to
        ``total(month, categories)`` — the same additions in the same order."""
        return sum(self._totals[group]) if month == self._totals_month else 0

    def month_entries(self, month: int) -> list[Entry]:
        """This month's entries, in the order they were posted (entries come in month order,
        so they are a slice found by bisection)."""
        return self.entries[bisect_left(self._months, month):bisect_right(self._months, month)]

    def total(self, month: int, categories: set[str]) -> float:
        """Sum of this month's entries in ``categories`` (signed)."""
        return sum(e.amount_musd for e in self.month_entries(month) if e.category in categories)


class VentureMarket:
    """Venture capital available to labs, by pool (open-weights and closed), month by month.

    Each month a pool receives a twelfth of its year's amount (F7: open-source AI $0.9B in
    2022, $2.9B in 2023); rounds draw from what has accumulated. Unspent money carries over,
    up to a year's worth (funds do not wait forever).
    """

    def __init__(self, pools: dict[str, dict[int, float]], growth: dict[str, float]):
        self.pools = pools
        self.growth = growth
        self.dry_powder = {pool: 0.0 for pool in pools}

    def set_pools(self, pools: dict[str, dict[int, float]], growth: dict[str, float]) -> None:
        """New yearly amounts and growth from this month on (a set event); money already
        accrued stays, and a pool that is new starts empty."""
        self.pools, self.growth = pools, growth
        self.dry_powder = {pool: self.dry_powder.get(pool, 0.0) for pool in pools}

    def annual(self, pool: str, year: int) -> float:
        amounts = self.pools.get(pool, {})
        if not amounts:
            return 0.0
        if year in amounts:
            return amounts[year]
        last = max(y for y in amounts if y <= year) if min(amounts) <= year else min(amounts)
        years_after = max(year - last, 0)
        return amounts[last] * (1.0 + self.growth.get(pool, 0.0)) ** years_after

    def accrue(self, year: int) -> None:
        for pool in self.dry_powder:
            monthly = self.annual(pool, year) / 12.0
            self.dry_powder[pool] = min(self.dry_powder[pool] + monthly, 12 * monthly)

    def raise_round(self, pool: str, wanted_musd: float, rng: np.random.Generator,
                    success_probability: float) -> float:
        """Amount raised this month (0 if the round does not close or the pool is empty)."""
        if pool not in self.dry_powder or wanted_musd <= 0:
            return 0.0
        if rng.random() >= success_probability:
            return 0.0
        amount = min(wanted_musd, self.dry_powder[pool])
        self.dry_powder[pool] -= amount
        return amount
