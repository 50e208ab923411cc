"""Endogenous entry (issue 13, point 1): a prospective entrant founds a lab when the margin it
expects repays its founding round and the VC pool holds that round; entrants are labs like the
others. The checks move the decision's inputs — margins (through the payback horizon), the
round, the pool, the open weights it builds on — and see entry move with them."""

from __future__ import annotations

import numpy as np
import pytest

from moatsim import history, load_scenario, run_scenario
from moatsim.entry import entrant_share, entry_value_musd
from tests.conftest import BASELINE

SEEDS = (1, 2, 3, 4)
MONTHS = 24  # 2023-01 … 2025-01


def foundings(overrides=None, seeds=SEEDS, months=MONTHS, prefix="entrant_"):
    """(seed, run, founding events of the prospective entrants named ``prefix…``: labs by
    default, ``app_entrant_`` for app builders) for each seed."""
    out = []
    for seed in seeds:
        run = run_scenario(BASELINE, seed=seed, months=months, overrides=overrides)
        events = run.events
        out.append((seed, run, events[(events["kind"] == "founding")
                                      & events["firm"].str.startswith(prefix)]))
    return out


@pytest.fixture(scope="module")
def baseline():
    return foundings()


def test_entrants_are_founded_and_act_like_labs(baseline):
    founded = sum(len(events) for _, _, events in baseline)
    assert founded >= len(SEEDS)  # entry happens in 2023-2024
    round_musd = load_scenario(BASELINE).entry.founding_round_musd
    for _, run, events in baseline:
        assert (events["amount_musd"] == round_musd).all()
        assert events["firm"].str.startswith("entrant_").all()
        assert events["firm"].is_unique  # each prospective entrant is founded once
        for row in events.itertuples():
            firm = run.firms[run.firms["firm"] == row.firm].set_index("month")
            assert firm.loc[row.month, "funding_in_musd"] == pytest.approx(round_musd)
            later = firm.loc[row.month + 1:]
            assert (later["costs_musd"] > 0).all()  # it pays staff and compute from then on
            if row.month <= MONTHS - 8:
                runs = run.events[(run.events["firm"] == row.firm)
                                  & (run.events["kind"] == "training_run")]
                assert len(runs) >= 1  # and trains
            before = firm.loc[:row.month - 1]
            assert (before[["costs_musd", "users", "cash_musd"]] == 0).all().all()
    # some entrant wins users
    assert any((run.firms[run.firms["firm"].isin(events["firm"])]["users"] > 0).any()
               for _, run, events in baseline)


def test_entry_needs_open_weights_to_build_on(baseline):
    for _, run, events in baseline:
        open_quality = run.model.set_index("month")["open_quality"]
        for row in events.itertuples():
            assert not np.isnan(open_quality.loc[row.month])


def test_no_entry_when_no_margin_repays_the_round(baseline):
    for _, run, events in foundings({"entry.founding_round_musd": 1e5}):
        assert events.empty
        entrants = run.firms[run.firms["firm"].str.startswith("entrant_")]
        assert entrants["firm"].nunique() == 6 and (entrants["users"] == 0).all()


def test_entry_falls_with_the_margin_it_can_expect(baseline):
    """Value grows with the payback horizon (users kept for H months): a short horizon is a
    smaller expected margin against the same round."""
    short = sum(len(e) for _, _, e in foundings({"entry.payback_months": 12}))
    assert short < sum(len(e) for _, _, e in baseline)


def test_no_entry_without_venture_money():
    dry = {"funding.vc_pools.closed.annual_musd": {2023: 0.0}}
    assert all(events.empty for _, _, events in foundings(dry, seeds=(1, 2)))
    assert all(events.empty for _, _, events in foundings(dry, seeds=(1, 2),
                                                          prefix="app_entrant_"))


def test_the_history_check_counts_foundings_not_prospective_entrants(baseline):
    check = next(c for c in history.history_checks() if c.id == "H21")
    scenario = load_scenario(BASELINE)
    for _, run, events in baseline:
        assert history.simulate(check, run, scenario) == len(events)
    _, run, _ = foundings({"entry.founding_round_musd": 1e5}, seeds=(1,))[0]
    assert history.simulate(check, run, scenario) == 0


def test_the_entry_value_follows_the_logit_and_the_horizon():
    # two segments, one cohort: an offer as good as the only rival takes a third of the
    # choosers against an outside option as good as both
    utility = np.zeros((2, 1, 1))
    share = entrant_share(utility, np.ones((2, 1), bool), 0.0, np.zeros((2, 1)))
    assert np.allclose(share, 1.0 / 3.0)
    value = entry_value_musd(share, np.full((2, 1), 3e6), np.array([2.0, -1.0]), 10.0)
    # 1e6 new users a month, kept: 55e6 user-months at $2 (and no value at a negative margin)
    assert value == pytest.approx([110.0, 0.0])
    # nothing offered: the entrant shares only with the outside option
    alone = entrant_share(utility, np.zeros((2, 1), bool), 0.0, np.zeros((2, 1)))
    assert np.allclose(alone, 0.5)


# ---------------------------------------------------------------- app builders


@pytest.fixture(scope="module")
def app_foundings():
    return foundings(prefix="app_entrant_")


def test_app_builders_are_founded_in_one_segment_and_route_across_suppliers(app_foundings):
    scenario = load_scenario(BASELINE)
    round_musd = scenario.entry.app_founding_round_musd
    assert sum(len(events) for _, _, events in app_foundings) >= len(SEEDS)
    for seed, run, events in app_foundings:
        assert (events["amount_musd"] == round_musd).all() and events["firm"].is_unique
        for row in events.itertuples():
            segment = row.detail.split()[1]  # "enters <segment> on …"
            assert segment in scenario.entry.app.offerings
            firm = run.firms[run.firms["firm"] == row.firm].set_index("month")
            assert firm.loc[row.month, "funding_in_musd"] == pytest.approx(round_musd)
            assert (firm.loc[:row.month - 1, ["costs_musd", "users", "cash_musd"]] == 0).all().all()
            served = run.segments[(run.segments["firm"] == row.firm)
                                  & (run.segments["use"] > 0)]
            assert set(served["segment"]) <= {segment}
            # it is on sale from its founding month, when users choose after it is founded
            assert served["month"].min() == row.month
            # and it pays API fees to more than one supplier from then on
            ledger = run.ledger[(run.ledger["firm"] == row.firm)
                                & (run.ledger["month"] == row.month)]
            suppliers = ledger[ledger["category"] == "api_fees"]["counterparty"].nunique() + int(
                (ledger["category"] == "serving").any())
            assert suppliers >= 2


def test_app_entry_stops_when_no_margin_repays_its_round():
    # (a one-month horizon: an app that takes a few percent of consumer chat expects billions
    # over three years, more than any round the schema allows)
    for _, run, events in foundings({"entry.app_founding_round_musd": 1e4,
                                     "entry.payback_months": 1}, seeds=(1, 2),
                                    prefix="app_entrant_"):
        assert events.empty
        entrants = run.firms[run.firms["firm"].str.startswith("app_entrant_")]
        assert (entrants["users"] == 0).all() and (entrants["costs_musd"] == 0).all()


def test_app_builders_choose_the_segment_with_the_largest_expected_margin():
    """Served only where its template allows: without consumer chat, the segment almost
    every baseline app entrant picks, app builders enter elsewhere or not at all."""
    template = load_scenario(BASELINE).entry.app.model_dump(mode="python")
    del template["offerings"]["consumer_chat"]
    picked = [row.detail.split()[1]
              for _, _, events in foundings({"entry.app": template}, seeds=(1, 2),
                                            prefix="app_entrant_")
              for row in events.itertuples()]
    baseline = [row.detail.split()[1]
                for _, _, events in foundings(seeds=(1, 2), prefix="app_entrant_")
                for row in events.itertuples()]
    assert "consumer_chat" in baseline and "consumer_chat" not in picked
