"""Licence-and-hire deals (issue 13, point 2; H17–H19): a big tech takes in an unowned lab
that ran out of cash when the lab's team and model are worth more to it than the fee.

Each test moves one input of the decision — the switch, the fee, whether the buyer already
has a team — and checks that the deal moves with it.
"""

from __future__ import annotations

import pytest

from moatsim.experiments.run import run_scenario
from moatsim.history import unbacked_labs_absorbed
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE

SEED, MONTHS = 2, 26  # in seed 2 Adept runs out of cash in 2024-10 (month 21)


@pytest.fixture(scope="module")
def with_deals():
    return run_scenario(BASELINE, seed=SEED, months=MONTHS)


@pytest.fixture(scope="module")
def without_deals():
    return run_scenario(BASELINE, seed=SEED, months=MONTHS,
                        overrides={"funding.licence_and_hire": False})


def deals(run):
    return run.events[run.events["kind"] == "licence_and_hire"]


def test_a_lab_out_of_cash_is_licensed_and_hired_instead_of_exiting(with_deals, without_deals):
    deal = deals(with_deals)
    assert "adept" in deal["firm"].tolist() and deal["firm"].is_unique
    assert deals(without_deals).empty
    for row in deal.itertuples():
        exits = without_deals.events[(without_deals.events["kind"] == "exit")
                                     & (without_deals.events["firm"] == row.firm)]
        # the same lab, the same month, with the deals switched off
        assert exits["month"].tolist() == [row.month]
        lab = with_deals.firms[with_deals.firms["firm"] == row.firm].set_index("month")
        assert lab.loc[row.month + 1:, "alive"].all()  # it lives on inside the buyer ...
        assert (lab.loc[row.month + 1:, "users"] == 0).all()  # ... with its products withdrawn
        backers = with_deals.backers
        assert backers.loc[(backers["firm"] == row.firm) & (backers["month"] == row.month + 1),
                           "backer"].tolist() == [row.detail.split()[0]]  # the buyer owns it


def test_the_fee_clears_the_deficit_and_repays_investors_what_they_put_in():
    market = AIMarketModel(BASELINE, rng=SEED, months=MONTHS)
    market.run_model()
    adept = market.firm_by_id["adept"]
    deal = next(e for e in market.events if e["kind"] == "licence_and_hire")
    fee = next(e for e in adept.ledger.entries if e.category == "licence_and_hire")
    payout = next(e for e in adept.ledger.entries if e.category == "investor_payout")
    raised = 50.0 + 350.0  # its starting cash and its 2023 Series B (baseline.yaml)
    assert payout.amount_musd == pytest.approx(-1.0 * raised)  # licence_fee_share_of_raised 1
    assert fee.amount_musd == pytest.approx(deal["amount_musd"])
    assert fee.amount_musd > raised  # the rest clears the month's deficit
    buyer = market.firm_by_id[fee.counterparty]
    assert adept.owner is buyer and adept in buyer.in_house_labs()


def test_a_fee_worth_more_than_the_team_stops_the_deal():
    run = run_scenario(BASELINE, seed=SEED, months=MONTHS,
                       overrides={"funding.licence_fee_share_of_raised": 20.0})
    assert deals(run).empty
    assert "adept" in run.events.loc[run.events["kind"] == "exit", "firm"].tolist()


def test_a_buyer_with_a_better_team_of_its_own_values_the_lab_at_nothing():
    market = AIMarketModel(BASELINE, rng=SEED, months=MONTHS)
    for _ in range(20):
        market.step()
    adept, google = market.firm_by_id["adept"], market.firm_by_id["google"]
    microsoft = market.firm_by_id["microsoft"]
    deepmind = market.firm_by_id["google_deepmind"]
    assert deepmind.quality > adept.quality and not microsoft.in_house_labs()
    assert market.absorption_value_musd(adept, google) == pytest.approx(0.0, abs=1e-9)
    assert market.absorption_value_musd(adept, microsoft) > 0  # a team it does not have


def test_the_history_check_counts_licence_and_hire_deals(with_deals, without_deals):
    period = ["2023-01", "2024-12"]
    assert unbacked_labs_absorbed(with_deals, period=period) == len(deals(with_deals)) >= 1
    assert unbacked_labs_absorbed(without_deals, period=period) == 0.0
