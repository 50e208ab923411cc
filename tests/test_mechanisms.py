"""Mechanism tests: a contract every agent class honours, the pure functions of technology and
pricing, and one small run per mechanism of the model (each compared with the mechanism
switched off or inverted, so that the test fails if the mechanism is removed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from moatsim import AIMarketModel, load_scenario, metrics, pricing, run_scenario, technology
from moatsim.agents import BigTech, Lab
from moatsim.apps import AppBuilder
from moatsim.calendar import month_index
from moatsim.community import OpenSourceCommunity
from moatsim.scenario import ScheduledEvent
from tests.conftest import BASELINE

# ====================================================================== 1. agent contract


def _pick(model: AIMarketModel, cls: type) -> object:
    """The first agent of exactly this class, in the scenario's firm order."""
    agents = list(model.agents_by_type[cls])
    assert agents, f"no {cls.__name__} in the baseline"
    return next(f for f in model.firms if type(f) is cls)


def _state(agent) -> tuple:
    """Key state of an agent, for determinism checks."""
    model = agent.model
    users = tuple(model.users_of(agent).tolist()) if agent in model.sellers else ()
    price = tuple(agent.price_usd.tolist()) if hasattr(agent, "price_usd") else ()
    return (agent.firm_id, agent.alive, agent.exit_month, agent.cash_musd, agent.credits_musd,
            getattr(agent, "quality", None), getattr(agent, "contributors", None),
            getattr(agent, "supplier_id", None), agent.backer_ids(), users, price,
            len(agent.ledger.entries))


class AgentContract:
    """Tests every agent class must pass (cf. Axelrod's strategy test classes).

    Subclasses set ``agent_class`` and ``kind``.
    """

    agent_class: type
    kind: str

    def test_constructs_from_the_baseline_with_defaults(self):
        model = AIMarketModel(BASELINE, rng=1)
        agent = _pick(model, self.agent_class)
        assert isinstance(agent, self.agent_class)
        assert agent in model.agents
        assert model.firm_by_id[agent.firm_id] is agent
        assert isinstance(agent.firm_id, str) and agent.firm_id
        assert agent.kind == self.kind
        assert math.isfinite(agent.cash_musd)
        assert agent.alive is True

    def test_steps_twelve_months_and_stays_consistent(self):
        model = AIMarketModel(BASELINE, rng=3)
        agent = _pick(model, self.agent_class)
        for _ in range(12):
            model.step()
        assert model.month == 12
        for same_kind in model.agents_by_type[self.agent_class]:
            assert type(same_kind.alive) is bool
            assert math.isfinite(same_kind.cash_musd)
            assert math.isfinite(same_kind.credits_musd) and same_kind.credits_musd >= -1e-9
            # cash is the starting cash plus every cash entry of the ledger
            booked = sum(e.amount_musd for e in same_kind.ledger.entries if e.account == "cash")
            assert same_kind.cash_musd == pytest.approx(same_kind.initial_cash_musd + booked,
                                                        abs=1e-6)
        if agent in model.sellers:
            assert (model.users_of(agent) >= 0).all()
            assert np.isfinite(agent.price_usd).all()

    def test_same_seed_same_state_different_seed_different_model(self):
        def after_24(seed: int) -> AIMarketModel:
            model = AIMarketModel(BASELINE, rng=seed)
            for _ in range(24):
                model.step()
            return model

        first, again, other = after_24(5), after_24(5), after_24(6)
        assert _state(_pick(first, self.agent_class)) == _state(_pick(again, self.agent_class))
        assert np.array_equal(first.population.users(), again.population.users())
        assert not np.array_equal(first.population.users(), other.population.users())


class TestLabContract(AgentContract):
    agent_class, kind = Lab, "lab"


class TestBigTechContract(AgentContract):
    agent_class, kind = BigTech, "bigtech"


class TestAppBuilderContract(AgentContract):
    agent_class, kind = AppBuilder, "app"


class TestOpenSourceCommunityContract(AgentContract):
    agent_class, kind = OpenSourceCommunity, "open_source"


# ====================================================================== 2. pure functions


def test_pretrain_gain_more_spend_more_gain_with_diminishing_returns():
    gains = [technology.pretrain_gain(cost, 100.0, 10.0, 5.0, 0, 30.0)
             for cost in (0.0, 10.0, 110.0, 1000.0)]
    assert gains[0] == 0.0
    assert gains[0] < gains[1] < gains[2] < gains[3]
    # one doubling of reference + stock buys exactly points_per_doubling at month 0
    assert technology.pretrain_gain(110.0, 100.0, 10.0, 5.0, 0, 30.0) == pytest.approx(5.0)


def test_pretrain_returns_decay_over_time_c2():
    at = [technology.pretrain_gain(500.0, 100.0, 10.0, 5.0, month, 30.0)
          for month in (0, 12, 30, 60)]
    assert at[0] > at[1] > at[2] > at[3] > 0
    assert at[2] == pytest.approx(at[0] / 2)  # one half-life
    assert at[3] == pytest.approx(at[0] / 4)


def test_pretrain_gain_falls_with_the_stock_already_spent():
    small, large = (technology.pretrain_gain(500.0, stock, 10.0, 5.0, 6, 30.0)
                    for stock in (100.0, 5000.0))
    assert small > large > 0
    # the surprise scales the gain
    assert technology.pretrain_gain(500.0, 100.0, 10.0, 5.0, 6, 30.0, surprise=1.5) == \
        pytest.approx(1.5 * small)


def test_posttrain_gain_monotone_in_spend():
    spend = np.array([0.0, 1.0, 10.0, 30.0, 100.0])
    gain = technology.posttrain_gain(spend, 10.0, 2.0)
    assert gain[0] == 0.0
    assert np.all(np.diff(gain) > 0)
    assert gain[2] == pytest.approx(2.0 / 12.0)  # spend = reference → one doubling a year


def test_catch_up_closes_a_share_of_the_gap_scaled_by_contributors():
    half = 1000.0
    full_rate = technology.catch_up(60.0, 80.0, 0.1, 1e12, half)
    at_half = technology.catch_up(60.0, 80.0, 0.1, half, half)
    none = technology.catch_up(60.0, 80.0, 0.1, 0.0, half)
    assert none == 60.0
    assert at_half == pytest.approx(61.0)  # half strength × 10% × 20-point gap
    assert full_rate == pytest.approx(62.0)
    assert none < at_half < full_rate
    # innovation adds on top, scaled by strength
    assert technology.catch_up(60.0, 80.0, 0.1, half, half, 12.0) == pytest.approx(61.5)
    # already at or beyond the frontier: no catch-up
    assert technology.catch_up(85.0, 80.0, 0.1, half, half) == 85.0


@pytest.mark.parametrize("quality,frontier,rate,contributors", [
    (0.0, 100.0, 1.0, 1e9), (50.0, 51.0, 1.0, 1e12), (79.9, 80.0, 0.7, 3e5),
    (60.0, 90.0, 0.08, 5e5),
])
def test_catch_up_never_overshoots_the_frontier_without_innovation(quality, frontier, rate,
                                                                    contributors):
    after = technology.catch_up(quality, frontier, rate, contributors, 50000.0, 0.0)
    assert quality <= after <= frontier


def test_brand_stock_halves_after_one_half_life():
    stock = technology.brand_stock(1.5, np.array([-3, 0, 12, 24, 48]), 12.0)
    assert stock.tolist() == pytest.approx([1.5, 1.5, 0.75, 0.375, 1.5 / 16])


def test_target_markup_floor_max_and_monotone():
    lead = np.array([-20.0, -1.0, 0.0, 1.0, 4.0, 8.0, 20.0, 1000.0])
    target = pricing.target_markup(lead, 3.0, 0.05, 8.0)
    assert target[:3].tolist() == pytest.approx([0.05] * 3)  # no lead: the floor
    assert target[-1] == pytest.approx(3.0)  # far ahead: the maximum
    assert target[5] == pytest.approx(0.05 + 2.95 * (1 - math.exp(-1)))
    assert np.all(np.diff(target) >= 0) and np.all(np.diff(target[2:]) > 0)


def test_adjust_moves_a_share_of_the_way():
    current, target = np.array([1.0, 0.2]), np.array([0.0, 1.0])
    assert pricing.adjust(current, target, 0.3).tolist() == pytest.approx([0.7, 0.44])
    assert pricing.adjust(current, target, 0.0).tolist() == current.tolist()
    assert pricing.adjust(current, target, 1.0).tolist() == target.tolist()


# ====================================================================== 3. mechanisms


def _events(result, kind: str, agent: str | None = None) -> pd.DataFrame:
    events = result.events[result.events["kind"] == kind]
    return events if agent is None else events[events["firm"] == agent]


def _firm(result, firm: str) -> pd.DataFrame:
    return result.firms[result.firms["firm"] == firm].set_index("month")


def test_imitation_closes_the_open_closed_gap():
    """C14/C29: without imitation (open weights at once, closed models after a lag) the gap
    between the best closed and the best open model stays open."""
    on = run_scenario(BASELINE, seed=1, months=36)
    off = run_scenario(BASELINE, seed=1, months=36, overrides={"mechanisms.idea_diffusion": False})
    assert off.model.iloc[-1]["quality_gap"] > on.model.iloc[-1]["quality_gap"] + 10


def test_commoditization_idea_diffusion_and_open_catch_up_drive_the_price_fall():
    """C4/C14/C29, with the pre-issue-12 rules (gap-share capability, lead markups): without
    diffusion and open catch-up the gap stays open and markups high."""
    legacy = {"pricing.rule": "lead_markup", "technology.capability_rule": "gap_share"}
    on = run_scenario(BASELINE, seed=1, months=36, overrides=legacy)
    off = run_scenario(BASELINE, seed=1, months=36,
                       overrides={"mechanisms.idea_diffusion": False, **legacy})
    on_last, off_last = on.model.iloc[-1], off.model.iloc[-1]
    assert off_last["quality_gap"] > on_last["quality_gap"] + 5
    assert off_last["model_access_markup"] > 1.5 * on_last["model_access_markup"]
    # with the mechanisms, the markup falls from its first year
    assert on_last["model_access_markup"] < on.model["model_access_markup"].iloc[:12].mean()


DEAL = "google_anthropic_later"


def _deal_run(milestone: float):
    return run_scenario(BASELINE, seed=1, months=13, overrides={
        f"funding.investments.{DEAL}.milestone_max_gap_points": milestone})


def test_a_tranche_with_a_milestone_is_withheld_when_the_investee_trails():
    deal_month = month_index("2023-01", "2024-01")
    withheld = _deal_run(0.0)
    held = _events(withheld, "tranche_withheld", "google")
    assert len(held) == 1
    assert held["detail"].iloc[0].startswith(f"{DEAL}: anthropic trails the frontier")
    assert int(held["month"].iloc[0]) == deal_month
    assert held["amount_musd"].iloc[0] == 1500
    assert _firm(withheld, "anthropic").loc[deal_month, "funding_in_musd"] == 0.0
    assert _events(withheld, "tranche").empty

    paid = _deal_run(100.0)  # a milestone that is met: a tranche
    tranche = _events(paid, "tranche", "anthropic")
    assert tranche[["month", "amount_musd"]].values.tolist() == [[deal_month, 1500.0]]
    assert tranche["detail"].iloc[0].startswith("google → anthropic")
    assert _firm(paid, "anthropic").loc[deal_month, "funding_in_musd"] == pytest.approx(1500.0)
    assert _events(paid, "tranche_withheld").empty
    credit_share = load_scenario(BASELINE).funding.compute_credit_share
    booked = paid.ledger[(paid.ledger["firm"] == "anthropic") & (paid.ledger["month"] == deal_month)
                         & (paid.ledger["counterparty"] == "google")]
    assert booked.set_index("category")["amount_musd"].to_dict() == pytest.approx(
        {"tranche": 1500.0 * (1 - credit_share), "compute_credits": 1500.0 * credit_share})
    assert (booked.set_index("category")["account"] == pd.Series(
        {"tranche": "cash", "compute_credits": "credits"})).all()

    unconditional = _deal_run(200.0)  # 200 is the schema's "no condition": paid as a stake
    stake = _events(unconditional, "stake", "anthropic")
    assert [deal_month, 1500.0] in stake[["month", "amount_musd"]].values.tolist()
    assert _firm(unconditional, "anthropic").loc[deal_month, "funding_in_musd"] == \
        pytest.approx(1500.0)


def test_compute_credits_arrive_with_the_stake_and_are_spent_before_cash():
    """C25: with the whole stake as credits, OpenAI's cash is untouched and compute uses credits."""
    cash_at_start = next(f for f in load_scenario(BASELINE).firms if f.id == "openai").cash_musd
    result = run_scenario(BASELINE, seed=1, months=6,
                          overrides={"funding.compute_credit_share": 1.0})
    openai = _firm(result, "openai")
    assert openai.loc[0, "credits_musd"] == pytest.approx(10_000.0)
    assert openai.loc[0, "cash_musd"] == pytest.approx(cash_at_start)
    assert np.all(np.diff(openai["credits_musd"].to_numpy()) < 0)  # spent month after month
    ledger = result.ledger[(result.ledger["firm"] == "openai") & (result.ledger["month"] >= 1)]
    compute = ledger[ledger["category"].isin(["training", "post_training", "serving"])]
    assert not compute.empty
    assert (compute["account"] == "credits").all()  # not a dollar of compute from cash
    assert openai["cash_musd"].iloc[-1] > cash_at_start  # revenue accumulates untouched
    # with the default share, most of the stake is cash
    default = AIMarketModel(BASELINE, rng=1).firm_by_id["openai"]
    assert default.credits_musd == pytest.approx(3_000.0)
    assert default.cash_musd == pytest.approx(cash_at_start + 7_000.0)


def _licence_model(stopgap: bool, months: int = 3) -> AIMarketModel:
    model = AIMarketModel(BASELINE, rng=1, firms__meta__license_stopgap=stopgap,
                          firms__meta_ai__quality=40)
    for _ in range(months):
        model.step()
    return model


def test_stopgap_licence_lifts_the_trailing_in_house_lab_and_pays_the_licensor():
    """C22: Meta licenses the leader's model while its own lab trails far behind."""
    model = _licence_model(True)
    meta, meta_ai = model.firm_by_id["meta"], model.firm_by_id["meta_ai"]
    starts = [e for e in model.events if e["kind"] == "licence_start"]
    assert [(e["firm"], e["month"]) for e in starts] == [("meta", 1)]
    licensor = meta.licensor
    assert licensor is not None and licensor.firm_id == "openai"
    assert meta_ai.quality < licensor.quality - 10
    assert meta_ai.licensed_quality[0] == pytest.approx(licensor.quality)
    assert meta_ai.api_quality() == pytest.approx(licensor.quality)
    text = model.market.segment_modality == 0  # the licensed model's text capability
    serving = model.quality[:, model.sellers.index(meta_ai)][text]
    assert np.all(serving >= licensor.quality + meta_ai.quality_bonus[text] - 1e-9)
    for _ in range(9):  # Meta AI has users from its segment entries (2023-07 on): fees flow
        model.step()
    assert meta.licensor is licensor and model.users_of(meta_ai).sum() > 0
    fees_in = sum(e.amount_musd for e in licensor.ledger.entries
                  if e.category == "licence_fee_in")
    fees_out = sum(e.amount_musd for e in meta_ai.ledger.entries
                   if e.category == "licence_fee_out")  # the lab that serves the model pays
    assert fees_in > 0 and fees_out == pytest.approx(-fees_in)
    # the fee is what a user earns the licensor, and the licensee prices above it
    fee = meta.licence_fee_usd_by_segment
    served = model.market.serves_licence()[meta_ai.column] & licensor.serves(model.month)
    assert served.any() and (fee[served] > meta.licence_fee_usd).all()
    column = model.sellers.index(meta_ai)
    assert (model.price_usd[served, column] > fee[served]).all()

    without = _licence_model(False)
    assert not any(e["kind"].startswith("licence") for e in without.events)
    own = without.firm_by_id["meta_ai"]
    assert own.licensed_quality is None
    text = own.model.market.segment_modality == 0  # Meta AI has text models only
    assert own.segment_quality()[text].tolist() == pytest.approx(
        (own.quality + own.quality_bonus[text]).tolist())
    assert np.isneginf(own.segment_quality()[~text]).all()
    assert not any(e.category.startswith("licence")
                   for f in without.firms for e in f.ledger.entries)


def test_a_licensed_model_an_open_lab_serves_is_a_closed_offer_priced_by_its_seller():
    """C22 with open weights: once Meta's lab releases open weights (the LLaMA leak,
    2023-03), the licensed model it serves is still the licensor's closed model — not open to
    users who prefer open models, not counted in the open share, and priced above cost
    rather than at hosting cost."""
    months = 8  # past the leak, with Meta AI's offers on the market (2023-07)
    licensed, own = _licence_model(True, months), _licence_model(False, months)
    for model in (licensed, own):
        assert model.firm_by_id["meta_ai"].is_open  # its own weights are open either way
    meta_ai = licensed.firm_by_id["meta_ai"]
    column = licensed.sellers.index(meta_ai)
    serving = licensed.available[:, column]
    assert serving.any() and meta_ai.licensed_quality is not None
    assert not licensed.is_open[serving, column].any()
    column_own = own.sellers.index(own.firm_by_id["meta_ai"])
    assert own.is_open[own.available[:, column_own], column_own].all()
    cost = licensed.cost_to_serve_usd * licensed.cost_multiplier[:, column]
    # costs fall after the month's prices are set, hence the 5 % (2.4 % a month here)
    assert (licensed.price_usd[serving, column] > cost[serving] * 1.2).all()
    cost_own = own.cost_to_serve_usd * own.cost_multiplier[:, column_own]
    served_own = own.available[:, column_own]
    assert own.price_usd[served_own, column_own] == pytest.approx(cost_own[served_own],
                                                                 rel=0.05)
    assert licensed.users_of(meta_ai).sum() > 0
    users = licensed.population.users()  # the licensed offer is not an open one ...
    assert users[:, column][licensed.is_open[:, column]].sum() == 0
    # ... but Meta AI keeps its own open model as a free tier (C10), whose users do count
    modality = licensed.market.segment_modality
    own_gap = meta_ai.licensed_quality[modality] - meta_ai.capability[modality]
    assert licensed.free_tier_gap()[serving, column] == pytest.approx(own_gap[serving])
    free = licensed.use[:, column] - licensed.paying_users()[0][:, column]  # of use
    assert free[serving].sum() > 0
    records = licensed.recorder.records(slice(-1, None))
    assert metrics.open_users(records)[0][:, column].sum() == pytest.approx(free.sum())


def _failing_anthropic(max_gap: float):
    overrides = {"firms.anthropic.cash_musd": 0, "firms.anthropic.staff_cost_musd_month": 500,
                 "funding.round_success_probability": 0.0,
                 "funding.acquisition_max_gap_points": max_gap}
    model = AIMarketModel(BASELINE, rng=1, **{k.replace(".", "__"): v
                                               for k, v in overrides.items()})
    for _ in range(6):
        model.step()
    return model


def test_a_failing_lab_close_to_the_frontier_is_acquired_instead_of_exiting():
    model = _failing_anthropic(100.0)
    anthropic = model.firm_by_id["anthropic"]
    bought = [e for e in model.events if e["kind"] == "acquisition"]
    assert [(e["firm"], e["month"]) for e in bought] == [("anthropic", 1)]
    assert anthropic.alive and anthropic.cash_musd > 0
    assert anthropic.owner is not None
    buyer = anthropic.owner.firm_id
    assert bought[0]["detail"] == f"acquired by {buyer}"
    assert buyer in anthropic.backer_ids()
    paid = sum(e.amount_musd for e in anthropic.ledger.entries if e.category == "acquisition")
    spent = sum(e.amount_musd for e in anthropic.owner.ledger.entries
                if e.category == "acquisition_out")
    assert paid == pytest.approx(bought[0]["amount_musd"]) and spent == pytest.approx(-paid)

    model = _failing_anthropic(0.0)
    anthropic = model.firm_by_id["anthropic"]
    assert not any(e["kind"] == "acquisition" for e in model.events)
    assert not anthropic.alive and anthropic.exit_month == 1 and anthropic.owner is None


def test_champion_follow_on_when_the_champions_runway_is_short():
    """C24: a big tech tops up its champion when it is about to run out of cash."""
    scheduled = {(month_index("2023-01", d.date), d.investor)
                 for d in load_scenario(BASELINE).funding.investments}
    short = {"firms.anthropic.cash_musd": 60, "funding.champion_follow_on_musd": 1234,
             "funding.round_success_probability": 0.0,  # no VC round rescues it instead
             "firms.anthropic.safety_spend_musd_month": 0.0}  # its burn of 2023 before C27
    result = run_scenario(BASELINE, seed=1, months=6, overrides=short)
    stakes = _events(result, "stake", "anthropic")
    follow_on = stakes[[(int(m), d.split(" ")[0]) not in scheduled
                        for m, d in zip(stakes["month"], stakes["detail"])]]
    assert len(follow_on) == 1
    backer = follow_on["detail"].iloc[0].split(" ")[0]
    assert backer in {"google", "amazon"}  # the champion's backers in the baseline
    assert follow_on["amount_musd"].iloc[0] == pytest.approx(1234.0)
    assert _firm(result, "anthropic")["alive"].all()

    no_backing = run_scenario(BASELINE, seed=1, months=6, overrides={
        **short, "firms.google.invest_in_champion": False,
        "firms.amazon.invest_in_champion": False})
    assert _events(no_backing, "stake", "anthropic").empty
    assert not _firm(no_backing, "anthropic")["alive"].iloc[-1]  # it runs out of cash


def test_a_big_tech_passes_over_a_rivals_champion_when_it_needs_a_new_one_c26():
    """C26: when OpenAI is gone, Microsoft picks a new champion; the best lab, Anthropic, is
    Google's and Amazon's champion, so it takes the next one, unless the rule is off."""
    scenario = load_scenario(BASELINE).model_copy(deep=True)
    scenario.events = [*scenario.events, ScheduledEvent(id="openai_gone", date="2023-04",
                                                        kind="exit", firm="openai")]
    scenario = load_scenario(scenario)

    def new_champions(avoid: bool) -> list[tuple[str, str]]:
        run = run_scenario(scenario, seed=1, months=6,
                           overrides={"funding.avoid_rivals_champions": avoid})
        events = run.events[run.events["kind"] == "new_champion"]
        return list(zip(events["firm"], events["detail"], strict=True))

    apart = new_champions(True)
    assert len(apart) == 1 and apart[0][0] == "microsoft"
    assert apart[0][1] not in {"anthropic", "openai"}
    assert new_champions(False) == [("microsoft", "anthropic")]


def _leonardo_with(exit_event: bool) -> AIMarketModel:
    config = load_scenario(BASELINE, {"commoditization.app_swap_min_gain_utils": 50.0})
    if exit_event:
        config.events.append(ScheduledEvent(id="stability_exit", date="2023-03", kind="exit",
                                            firm="stability"))
    model = AIMarketModel(config, rng=1)
    for _ in range(6):
        model.step()
    return model


def test_an_app_whose_supplier_exits_swaps_models_and_keeps_serving():
    """C1: the model beneath an app is a commodity that can be swapped out."""
    model = _leonardo_with(exit_event=True)
    leonardo = model.firm_by_id["leonardo"]
    swaps = [e for e in model.events if e["kind"] == "model_swap" and e["firm"] == "leonardo"]
    assert len(swaps) == 1 and swaps[0]["month"] == 2
    assert swaps[0]["detail"] == f"stability → {leonardo.supplier_id}"
    assert leonardo.supplier_id != "stability" and leonardo.supplier.alive
    assert leonardo.alive and model.users_of(leonardo).sum() > 0
    assert np.isfinite(leonardo.segment_quality()[leonardo.segment])
    fees = [e for e in leonardo.supplier.ledger.entries
            if e.category == "api_revenue" and e.counterparty == "leonardo" and e.month >= 3]
    assert fees and all(e.amount_musd > 0 for e in fees)

    # the same high swap threshold, supplier alive: no swap
    stays = _leonardo_with(exit_event=False)
    assert stays.firm_by_id["leonardo"].supplier_id == "stability"
    assert not any(e["kind"] == "model_swap" and e["firm"] == "leonardo" for e in stays.events)


def _community(months: int, **overrides) -> list[tuple[float, bool, str | None]]:
    """Contributors, whether it serves, and its base, month by month (no open lab before the
    LLaMA leak: Stability and Mistral closed)."""
    model = AIMarketModel(BASELINE, rng=1, firms__stability__release="closed",
                          firms__mistral__release="closed", **overrides)
    rows = []
    for _ in range(months):
        model.step()
        c = model.community
        rows.append((c.contributors, bool(c.serves(model.month).any()),
                     c.base.firm_id if c.base else None))
    return rows


def test_open_source_community_gathers_after_the_leak_of_a_strong_base():
    """C11, C17: contributors leave without an open base and join once a strong one leaks."""
    initial = load_scenario(BASELINE).open_source.initial_contributors
    leak = month_index("2023-01", "2023-03")
    rows = _community(8)  # LLaMA (63) within strong_base_gap_points (25) of GPT-4 (86.4)
    before, after = rows[:leak - 1], rows[leak - 1:]
    assert all(c < initial and not serves and base is None for c, serves, base in before)
    assert all(base == "meta_ai" and serves for _, serves, base in after)
    contributors = [c for c, _, _ in after]
    assert contributors[0] > 10 * initial
    assert np.all(np.diff(contributors) > 0)

    weak = _community(8, firms__meta_ai__quality=50)  # 36 points behind: developers drift away
    assert all(c < initial for c, _, _ in weak)
    assert np.all(np.diff([c for c, _, _ in weak]) < 0)


def test_community_enters_its_segments_in_the_baseline():
    model = AIMarketModel(BASELINE, rng=1)
    for _ in range(24):
        model.step()
    community = model.community
    assert community.base is not None and community.base.firm_id == "meta_ai"
    assert community.contributors > 100_000
    wanted = set(model.config.open_source.segments)
    served = {s for s, on in zip(model.segment_ids, community.serves(model.month)) if on}
    assert served == wanted
    assert model.users_of(community).sum() > 0


def test_the_open_base_owner_absorbs_community_work_c19():
    absorbed = {}
    for share in (0.0, 0.3):
        result = run_scenario(BASELINE, seed=1, months=24,
                              overrides={"open_source.owner_absorb_share": share})
        absorbed[share] = _firm(result, "meta_ai")["absorbed_points"]
    assert (absorbed[0.0] == 0).all()
    assert absorbed[0.3].iloc[-1] > 0.1
    assert absorbed[0.3].is_monotonic_increasing


def test_first_mover_brand_decays_by_the_half_life_rule():
    config = load_scenario(BASELINE)
    first = config.first_mover
    model = AIMarketModel(BASELINE, rng=1, first_mover__network_effect_utils=0.0)
    segment = model.segment_ids.index("image")  # no distribution bonus for OpenAI there
    seller, entered = model.first_mover[segment]
    assert model.sellers[seller].firm_id == "openai" and entered == 0
    at_start = model.advantage()[segment, seller]
    for _ in range(48):
        model.step()
    later = model.advantage()[segment, seller]
    assert at_start == pytest.approx(first.brand_initial_utils)
    assert later == pytest.approx(at_start * 0.5 ** (48 / first.brand_half_life_months))
    # a rival in the same segment gets no brand
    rival = model.sellers.index(model.firm_by_id["midjourney"])
    assert model.advantage()[segment, rival] == 0.0


def test_distribution_raises_the_in_house_labs_share_m4():
    def meta_ai_chat_share(overrides) -> float:
        segments = run_scenario(BASELINE, seed=1, months=36, overrides=overrides).segments
        row = segments[(segments["month"] == 36) & (segments["segment"] == "consumer_chat")
                       & (segments["firm"] == "meta_ai")]
        return float(row["share"].iloc[0])

    with_reach = meta_ai_chat_share({})
    without = meta_ai_chat_share({"firms.meta.distribution_utils.consumer_chat": 0.0})
    assert with_reach > without + 0.05
