"""Money is conserved: every change of cash or credits is a ledger entry, and every transfer
between agents is paid by one and received by another (issue: money is conserved)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from moatsim import AIMarketModel
from moatsim.finance import ALL_CATEGORIES, Entry, Ledger, VentureMarket
from tests.conftest import BASELINE

RANDOM_SCENARIOS = [
    (seed, {
        "first_mover__switching_cost_utils": float(rng.uniform(0, 5)),
        "funding__round_success_probability": float(rng.uniform(0, 1)),
        "funding__compute_credit_share": float(rng.uniform(0, 1)),
        "funding__acquisition_max_gap_points": float(rng.uniform(0, 30)),
        "commoditization__max_markup": float(rng.uniform(0, 5)),
        "commoditization__open_catch_up_share_monthly": float(rng.uniform(0, 0.3)),
        "firms__anthropic__cash_musd": float(rng.uniform(0, 2000)),
        "firms__stability__staff_cost_musd_month": float(rng.uniform(0, 30)),
        "firms__meta__license_stopgap": bool(rng.integers(2)),
    })
    for seed, rng in ((s, np.random.default_rng(1000 + s)) for s in range(6))
]


@pytest.mark.parametrize(("seed", "overrides"), RANDOM_SCENARIOS)
def test_cash_changes_equal_the_ledger_every_month(seed, overrides):
    market = AIMarketModel(BASELINE, rng=seed, months=60, **overrides)
    firms = market.firms
    before = {f.firm_id: (f.cash_musd, f.credits_musd) for f in firms}
    start = {f.firm_id: (f.initial_cash_musd, 0.0) for f in firms}
    # month 0 (deals dated at the start) is in the ledger too
    for firm in firms:
        booked = _booked(firm.ledger, 0)
        assert firm.cash_musd == pytest.approx(start[firm.firm_id][0] + booked["cash"], abs=1e-6)
    while market.running:
        market.step()
        for firm in firms:
            booked = _booked(firm.ledger, market.month)
            cash, credits = before[firm.firm_id]
            assert firm.cash_musd == pytest.approx(cash + booked["cash"], abs=1e-6), firm.firm_id
            assert firm.credits_musd == pytest.approx(credits + booked["credits"], abs=1e-6)
            assert firm.credits_musd >= -1e-9  # credits are never overdrawn
        before = {f.firm_id: (f.cash_musd, f.credits_musd) for f in firms}


def _booked(ledger: Ledger, month: int) -> dict[str, float]:
    totals = {"cash": 0.0, "credits": 0.0}
    for entry in ledger.month_entries(month):
        totals[entry.account] += entry.amount_musd
    return totals


@pytest.mark.parametrize(("seed", "overrides"), RANDOM_SCENARIOS[:3])
def test_money_paid_by_one_agent_is_received_by_another(seed, overrides):
    market = AIMarketModel(BASELINE, rng=seed, months=60, **overrides)
    market.run_model()
    legs = defaultdict(list)
    for firm in market.firms:
        for entry in firm.ledger.entries:
            if entry.transfer_id is not None:
                legs[entry.transfer_id].append((firm.firm_id, entry))
    assert legs, "the run made no transfers"
    kinds = set()
    for transfer_id, pair in legs.items():
        assert len(pair) == 2, transfer_id
        (payer, out), (payee, received) = sorted(pair, key=lambda p: p[1].amount_musd)
        assert out.amount_musd == pytest.approx(-received.amount_musd)
        assert payer != payee and out.counterparty == payee and received.counterparty == payer
        assert out.month == received.month
        kinds.add(received.category)
    # the baseline moves money in these ways within five years
    assert {"stake", "compute_credits", "api_revenue", "owner_funding"} <= kinds


def test_outside_money_only_enters_as_revenue_vc_or_leaves_as_costs_or_payouts():
    market = AIMarketModel(BASELINE, rng=3, months=36)
    market.run_model()
    for firm in market.firms:
        for entry in firm.ledger.entries:
            assert entry.category in ALL_CATEGORIES
            if entry.transfer_id is None:  # money from or to outside the model
                assert entry.category in {"revenue", "vc", "training", "post_training",
                                          "safety", "serving", "staff", "swap_cost",
                                          "investor_payout"}, entry


def test_ledger_rejects_unknown_categories_and_accounts():
    ledger = Ledger()
    with pytest.raises(ValueError, match="category"):
        ledger.post(Entry(0, "gift", 1.0))
    with pytest.raises(ValueError, match="account"):
        ledger.post(Entry(0, "revenue", 1.0, account="piggy_bank"))


def test_funding_columns_match_the_ledger(baseline_run):
    firms = baseline_run.firms
    anthropic = firms[firms.firm == "anthropic"].set_index("month")
    # Amazon's first $1.25B arrives in 2023-09 (F2), cash and credits together
    assert anthropic.loc[8, "funding_in_musd"] == pytest.approx(1250.0)


def test_venture_pools_follow_the_articles_figures():
    venture = VentureMarket({"open_source": {2022: 900.0, 2023: 2900.0}}, {"open_source": 0.5})
    assert venture.annual("open_source", 2023) == 2900.0  # F7
    assert venture.annual("open_source", 2025) == pytest.approx(2900.0 * 1.5 ** 2)
    for _ in range(24):
        venture.accrue(2023)
    assert venture.dry_powder["open_source"] == pytest.approx(2900.0)  # a year's worth at most
    rng = np.random.default_rng(0)
    raised = venture.raise_round("open_source", 5000.0, rng, success_probability=1.0)
    assert raised == pytest.approx(2900.0) and venture.dry_powder["open_source"] == 0.0
    assert venture.raise_round("open_source", 10.0, rng, success_probability=1.0) == 0.0
