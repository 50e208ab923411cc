"""Regime changes mid-run (issue 13, point 5): a ``kind: set`` event gives a parameter a new
value from its month on. Before that month a run is the run without the event, draw for
draw; from that month it differs, and the model reads the new value wherever it reads the
parameter (arrays read at the start included). Bad set events are refused at load time
(tests/test_cli_errors.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from moatsim import load_scenario, run_scenario
from moatsim.model import AIMarketModel
from tests.conftest import BASELINE, ROOT

MONTH = 24  # 2025-01 for a run starting 2023-01
DATE = "2025-01"


def with_set(path: str, value, date: str = DATE, base=BASELINE, **overrides):
    """The baseline with one set event appended (and any other overrides)."""
    scenario = load_scenario(base, overrides or None).model_copy(deep=True)
    event = type(scenario.events[0])(id="regime_change", date=date, kind="set", path=path,
                                     value=value)
    scenario.events = [*scenario.events, event]
    return load_scenario(scenario)  # validated like a file


def numeric(table: pd.DataFrame) -> pd.DataFrame:
    return table.select_dtypes("number")


def first_month_that_differs(a: pd.DataFrame, b: pd.DataFrame) -> int | None:
    """Smallest month at which any number of two same-shaped tables differs."""
    x, y = numeric(a).to_numpy(), numeric(b).to_numpy()
    differs = ~((x == y) | (np.isnan(x) & np.isnan(y)))
    rows = np.flatnonzero(differs.any(axis=1))
    return int(a["month"].to_numpy()[rows[0]]) if rows.size else None


@pytest.mark.parametrize("path, value", [
    ("choice.outside_option_utils", 30.0),  # users: adoption and churn
    ("commoditization.pretrain_points_per_doubling", 9.0),  # capability from training
    ("cohorts.power_users.price_weight_per_usd", 1.0),  # an array read at the start
])
def test_a_set_event_changes_the_run_from_its_month_only(path, value):
    plain = run_scenario(BASELINE, seed=5, months=30)
    changed = run_scenario(with_set(path, value), seed=5, months=30)
    for table in ("model", "firms", "segments"):
        a, b = getattr(plain, table), getattr(changed, table)
        assert a.shape == b.shape and list(a.columns) == list(b.columns)
        assert first_month_that_differs(a, b) == MONTH, table
    events = changed.events[changed.events["kind"] == "parameter_set"]
    events = events[~events["detail"].isin(
        plain.events.loc[plain.events["kind"] == "parameter_set", "detail"])]  # the baseline's own
    assert events["month"].tolist() == [MONTH]
    assert path in events["detail"].iloc[0] and (events["firm"] == "scenario").all()
    assert events["amount_musd"].isna().all()  # no money moves


def test_the_model_reads_the_new_value_where_it_cached_the_old():
    model = AIMarketModel(with_set("cohorts.power_users.price_weight_per_usd", 1.0,
                                   months=30), rng=2)
    power = [c.id for c in model.config.cohorts].index("power_users")
    before = model.price_weight[power]
    for _ in range(MONTH - 1):
        model.step()
    assert model.price_weight[power] == before != 1.0
    model.step()
    assert model.price_weight[power] == 1.0
    assert next(c for c in model.config.cohorts if c.id == "power_users"
                ).price_weight_per_usd == 1.0


def test_a_set_on_a_vc_pool_changes_the_money_available_from_then_on():
    model = AIMarketModel(with_set("funding.vc_pools.closed.annual_musd.2025", 0.0,
                                   months=30), rng=2)
    planned = model.venture.annual("closed", 2025)
    assert planned > 0
    for _ in range(MONTH):
        model.step()
    assert model.venture.annual("closed", 2025) == 0.0
    assert model.venture.annual("closed", 2026) == 0.0  # later years grow from the last given
    assert model.venture.annual("open_source", 2025) > 0


def test_a_set_cannot_undo_a_mechanism_that_is_switched_off():
    scenario = with_set("first_mover.switching_cost_utils", 5.0,
                        **{"mechanisms.brand_and_switching_costs": False, "months": 30})
    model = AIMarketModel(scenario, rng=1)
    for _ in range(MONTH):
        model.step()
    assert model.source_scenario.first_mover.switching_cost_utils == 5.0
    assert model.config.first_mover.switching_cost_utils == 0.0  # the null model stays null


def test_scaling_returns_back_is_the_baseline_until_its_reversal():
    """C8's scenario: the same run as the baseline before 2026-03, a different one after,
    with pre-training returns up from the reversal."""
    path = ROOT / "scenarios" / "scaling_returns_back.yaml"
    reversal = 38  # 2026-03
    plain = run_scenario(BASELINE, seed=3, months=48)
    reversed_ = run_scenario(path, seed=3, months=48)
    assert first_month_that_differs(plain.model, reversed_.model) == reversal
    frontier = reversed_.model.set_index("month")["frontier_quality"]
    baseline_frontier = plain.model.set_index("month")["frontier_quality"]
    assert frontier.loc[48] > baseline_frontier.loc[48] + 2  # the reversal buys capability
    events = reversed_.events[(reversed_.events["kind"] == "parameter_set")
                              & reversed_.events["detail"].str.startswith("pretraining_")]
    assert events["month"].tolist() == [reversal, reversal]


def test_a_big_tech_strategy_can_change_at_a_date():
    """C22 as a regime change: Meta may license a rival's model from the event's month on
    (the licence itself still waits for its own lab to trail by licence_gap_points)."""
    plain = run_scenario(BASELINE, seed=4, months=30)
    never = plain.events[plain.events["kind"] == "licence_start"]
    assert never.empty
    scenario = with_set("firms.meta.licence_gap_points", 0.0, months=30)
    scenario.events.append(type(scenario.events[0])(
        id="meta_may_license", date=DATE, kind="set", path="firms.meta.license_stopgap",
        value=True))
    changed = run_scenario(load_scenario(scenario), seed=4)
    starts = changed.events[changed.events["kind"] == "licence_start"]
    assert starts["firm"].tolist() == ["meta"] and starts["month"].tolist() == [MONTH]
    assert first_month_that_differs(plain.model, changed.model) == MONTH
    meta = AIMarketModel(scenario, rng=4)
    assert meta.firm_by_id["meta"].license_stopgap is False
    for _ in range(MONTH):
        meta.step()
    assert meta.firm_by_id["meta"].license_stopgap is True
    assert meta.firm_by_id["meta"].licence_gap_points == 0.0


def test_a_big_tech_stays_out_of_champions_in_the_equal_funding_null():
    """A set event cannot give money back to a null model that has none."""
    scenario = with_set("firms.google.invest_in_champion", True, months=30,
                        **{"mechanisms.funding_differences": False})
    model = AIMarketModel(scenario, rng=1)
    for _ in range(MONTH):
        model.step()
    assert model.firm_by_id["google"].invest_in_champion is False


@pytest.mark.parametrize("name", ["baseline", "funding_drought", "scaling_returns_back"])
def test_a_set_event_applied_at_run_time_gives_the_scenario_loading_would(name):
    """The run applies its set events with the schema's validation only
    (``loading.with_set_event``); the result is the scenario the full loader gives for the
    same override, field for field."""
    from moatsim.loading import with_set_event
    from moatsim.model import _value_at

    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    events = [event for event in scenario.events if event.kind == "set" and event.enabled]
    assert events
    for event in events:
        fast = with_set_event(scenario, event.path, event.value)
        full = load_scenario(scenario, {event.path: event.value})
        assert fast.model_dump() == full.model_dump(), event.id
        assert _value_at(fast, event.path) == event.value
