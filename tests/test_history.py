"""seeds/history.yaml against ../shared/HISTORY.md, seeds/articles.yaml against the articles,
and each history quantity on hand-made tables where it must pass and where it must fail."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from moatsim import history as hi
from moatsim.calendar import month_label
from moatsim.loading import load_scenario
from tests.conftest import BASELINE, ROOT

SHARED_HISTORY = ROOT.parent / "shared" / "HISTORY.md"
TARGETS = hi.load_history()
CHECKS = hi.history_checks()


def history_rows() -> dict[str, dict[str, str]]:
    """id → {observed, when, source, tolerance} from HISTORY.md's tables."""
    rows = {}
    for line in SHARED_HISTORY.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (H\d+) \| (.*) \| (.*) \| (.*) \| (.*) \|$", line)
        if match:
            key, observed, when, source, tolerance = match.groups()
            rows[key] = {"observed": observed, "when": when, "source": source,
                         "tolerance": tolerance}
    return rows


def test_history_md_is_beside_the_checkout():
    assert SHARED_HISTORY.is_file(), "CI lays ../shared beside the clone"


def test_every_history_target_is_in_the_repo_once_with_its_wording():
    shared = history_rows()
    assert list(shared) == [f"H{i}" for i in range(1, 27)]
    ids = [t["id"] for t in TARGETS]
    assert ids == list(shared)
    for target in TARGETS:
        for key in ("observed", "when", "source", "tolerance"):
            assert target[key] == shared[target["id"]][key], (target["id"], key)


def test_every_target_has_checks_or_says_why_not():
    for target in TARGETS:
        if target["checks"]:
            assert "status" not in target
        else:
            assert target["status"] in ("input", "not_in_model", "covered_by"), target["id"]
            assert target["why"].strip()


def test_checks_are_bands_around_the_observation_and_dated_up_to_2024_12():
    assert len({c.id for c in CHECKS}) == len(CHECKS)
    for check in CHECKS:
        assert check.low <= check.value <= check.high, check.id
        assert check.quantity in hi.QUANTITIES, check.id
        dates = [check.args["date"]] if "date" in check.args else check.args["period"]
        assert all(d <= hi.LAST_OBSERVATION for d in dates), check.id


def test_history_yaml_parses_with_the_safe_loader():
    data = yaml.safe_load((ROOT / "seeds" / "history.yaml").read_text(encoding="utf-8"))
    assert math.isinf(next(c for t in data["targets"] for c in t["checks"]
                           if c["id"] == "H21")["high"])


def test_article_dates_quote_their_articles_verbatim():
    articles = yaml.safe_load((ROOT / "seeds" / "articles.yaml").read_text(encoding="utf-8"))
    files = sorted(p.name for p in (ROOT / "seeds").glob("0*.txt"))
    assert [a["file"] for a in articles["articles"]] == files
    for article in articles["articles"]:
        text = (ROOT / "seeds" / article["file"]).read_text(encoding="utf-8")
        assert article["evidence"] in text, article["file"]
        assert re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", article["published"])
        assert "mangled" + article["evidence"] not in text  # the match is not vacuous


# ====================================================================== quantities


def tables(months: int = 24) -> SimpleNamespace:
    dates = [month_label("2023-01", m) for m in range(months)]
    model = pd.DataFrame({"month": range(months), "date": dates,
                          "open_quality": [60.0 + m for m in range(months)],
                          "quality_gap": [10.0] * months,
                          "leader.consumer_chat": ["openai"] * months})
    firms = pd.DataFrame([{"month": m, "firm": f, "kind": "lab", "users": 100,
                           "revenue_musd": 100.0 + m, "costs_musd": 150.0,
                           "funding_in_musd": 0.0, "alive": True, "quality": 70.0 + m,
                           "price_usd": 2.0 * 0.9 ** m}
                          for m in range(months) for f in ("openai", "stability")])
    segments = pd.DataFrame([{"month": m, "segment": "consumer_chat", "firm": "openai",
                              "users": 1e8 * (1 + m / 10), "share": 0.8} for m in range(months)])
    events = pd.DataFrame(columns=["month", "date", "firm", "kind", "detail", "amount_musd"])
    backers = pd.DataFrame(columns=["month", "date", "firm", "backer"])
    return SimpleNamespace(model=model, firms=firms, segments=segments, events=events,
                           backers=backers)


def add_events(run: SimpleNamespace, *rows: tuple[int, str, str, str, float]) -> None:
    new = pd.DataFrame([{"month": m, "date": month_label("2023-01", m), "firm": a, "kind": k,
                         "detail": d, "amount_musd": amount} for m, a, k, d, amount in rows])
    run.events = pd.concat([run.events, new], ignore_index=True)


def check(check_id: str) -> hi.Check:
    return next(c for c in CHECKS if c.id == check_id)


def test_users_and_annualized_revenue_read_the_right_month():
    run = tables()
    assert hi.users(run, firm="openai", segment="consumer_chat", date="2023-11") == \
        pytest.approx(2e8)
    assert hi.annualized_revenue(run, firm="openai", date="2023-12") == pytest.approx(12 * 111)
    assert hi.users(run, firm="openai", segment="coding", date="2023-11") is None
    assert hi.annualized_revenue(run, firm="openai", date="2025-01") is None  # not reached


def test_revenue_and_loss_sum_over_the_period():
    run = tables()
    assert hi.revenue(run, firm="openai", period=["2024-01", "2024-12"]) == \
        pytest.approx(sum(100 + m for m in range(12, 24)))
    assert hi.operating_loss(run, firm="openai", period=["2024-01", "2024-12"]) == \
        pytest.approx(sum(150 - (100 + m) for m in range(12, 24)))


def test_vc_raised_counts_rounds_the_model_closed_not_scheduled_ones():
    run = tables()
    add_events(run, (14, "openai", "funding_round", "VC round from the closed pool", 5000.0),
               (15, "openai", "funding_round", "vc_openai: venture capital", 2000.0))
    value = hi.vc_raised(run, firm="openai", period=["2024-01", "2024-12"])
    assert value == 5000.0 and check("H13").holds(value)
    assert not check("H13").holds(hi.vc_raised(tables(), firm="openai",
                                               period=["2024-01", "2024-12"]))


def test_unbacked_labs_absorbed_skips_labs_that_had_a_backer_before():
    run = tables()
    run.backers = pd.DataFrame([{"month": m, "date": month_label("2023-01", m),
                                 "firm": "openai", "backer": "microsoft"} for m in range(24)])
    add_events(run, (10, "stability", "acquisition", "acquired by google", 100.0),
               (11, "openai", "acquisition", "acquired by amazon", 100.0))
    assert hi.unbacked_labs_absorbed(run, period=["2023-01", "2024-12"]) == 1.0


def test_open_lag_is_months_since_the_closed_frontier_reached_todays_open_quality():
    run = tables()  # closed = open + 10 = 70 + m; open at month 22 is 82 → closed hit 82 at 12
    assert hi.open_lag_months(run, date="2024-11") == 10.0
    assert check("H22").holds(10.0) and not check("H22").holds(30.0)
    ahead = tables()
    ahead.model["quality_gap"] = -5.0  # open models lead by 5 points
    assert hi.open_lag_months(ahead, date="2024-11") == 0.0


def test_constant_capability_price_fall_is_a_yearly_factor():
    run = tables()  # price × 0.9 a month from month 0 to 23
    expected = 0.9 ** -12  # (0.9^-23)^(12/23)
    value = hi.constant_capability_price_fall(run, period=["2023-01", "2024-12"])
    assert value == pytest.approx(expected)
    assert not check("H24").holds(value)  # 3.5×/year is below the 5–40× band


def test_frontier_training_cost_growth_compares_the_largest_runs():
    run = tables()
    add_events(run, (5, "openai", "training_run", "+5", 1000.0),
               (9, "stability", "training_run", "+5", 50.0),
               (18, "openai", "training_run", "+5", 2500.0))
    assert hi.frontier_training_cost_growth(run, period=["2023-01", "2024-12"]) == 2.5


def test_leads_throughout_fails_on_one_lost_month():
    run = tables()
    assert hi.leads_throughout(run, firm="openai", segment="consumer_chat",
                               period=["2023-01", "2024-12"]) == 1.0
    run.model.loc[7, "leader.consumer_chat"] = "meta_ai"
    assert hi.leads_throughout(run, firm="openai", segment="consumer_chat",
                               period=["2023-01", "2024-12"]) == 0.0


def test_lead_margin_is_the_smallest_lead_and_negative_where_the_lead_is_lost():
    run = tables()
    rival = run.segments.assign(firm="meta_ai", share=0.1)
    run.segments = pd.concat([run.segments, rival], ignore_index=True)
    period = ["2023-01", "2024-12"]
    assert hi.lead_margin(run, firm="openai", segment="consumer_chat",
                          period=period) == pytest.approx(0.7)
    run.segments.loc[(run.segments["firm"] == "meta_ai") & (run.segments["month"] == 9),
                     "share"] = 0.85
    assert hi.lead_margin(run, firm="openai", segment="consumer_chat",
                          period=period) == pytest.approx(-0.05)
    # a month with no row for the firm counts as a share of 0
    run.segments = run.segments[~((run.segments["firm"] == "openai")
                                  & (run.segments["month"] == 3))]
    assert hi.lead_margin(run, firm="openai", segment="consumer_chat",
                          period=period) == pytest.approx(-0.1)
    assert hi.lead_margin(run, firm="openai", segment="coding", period=period) is None


def test_recapitalised_needs_money_in_and_survival():
    run = tables()
    assert hi.recapitalised(run, firm="stability", period=["2024-01", "2024-12"]) == 0.0
    run.firms.loc[(run.firms["firm"] == "stability") & (run.firms["month"] == 15),
                  "funding_in_musd"] = 80.0
    assert hi.recapitalised(run, firm="stability", period=["2024-01", "2024-12"]) == 1.0


def test_endogenous_entrants_do_not_count_scheduled_firms():
    from moatsim import run_scenario

    # Mistral's scheduled founding (2023-06) is an input: without entry, nothing counts
    config = load_scenario(BASELINE, {"entry.potential_labs": 0})
    result = run_scenario(config, seed=1, months=24)
    assert hi.endogenous_lab_entrants(result, period=["2023-02", "2024-12"],
                                      scenario=config) == 0.0
    assert hi.endogenous_lab_entrants(result, period=["2023-02", "2024-12"]) is None


def test_every_check_runs_on_a_real_run(baseline_run):
    results = hi.check_history(baseline_run, load_scenario(BASELINE))
    assert list(results) == [c.id for c in CHECKS]
    for key, (value, held) in results.items():
        assert value is None or np.isfinite(value) or math.isinf(value), key
        assert held is False or value is not None
