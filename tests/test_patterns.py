"""The seven pattern checks (P1–P7): unit tests on small synthetic tables, pattern-oriented
validation over replicates (Grimm et al. 2005), and the ``moatsim patterns`` command."""

from __future__ import annotations

import pandas as pd
import pytest

from model import metrics
from model.experiments.patterns import pattern_table, replicate_patterns
from model.metrics import PATTERNS, check_patterns
from tests.conftest import BASELINE, ROOT, moatsim

MOAT = ROOT / "scenarios" / "first_mover_moat.yaml"
KEYS = [f"P{i}" for i in range(1, 8)]

# ====================================================================== 4. synthetic tables


def _firms(series: dict[str, list[float]], **columns: dict[str, list]) -> pd.DataFrame:
    """A firms table: one row per month × firm with ``share`` (and any extra columns)."""
    rows = []
    for firm, shares in series.items():
        for month, share in enumerate(shares):
            row = {"month": month, "firm": firm, "share": share}
            for name, values in columns.items():
                row[name] = values[firm][month]
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- P1


def test_p1_holds_when_the_dominant_first_mover_falls_below_half():
    assert metrics._p1(_firms({"first": [0.8, 0.6, 0.45], "rival": [0.2, 0.4, 0.55]}))


@pytest.mark.parametrize("first", [[0.8, 0.7, 0.55],   # still above half at the end
                                   [0.6, 0.5, 0.3]])   # never dominant (< 70%)
def test_p1_fails_when_the_first_mover_keeps_half_or_never_dominated(first):
    assert not metrics._p1(_firms({"first": first, "rival": [1 - s for s in first]}))


# ---------------------------------------------------------------- P2

P2_SEGMENTS = ["chat", "coding", "image"]


def _p2_tables(final_leaders: dict[str, str], opened: tuple[str, ...] = tuple(P2_SEGMENTS)):
    model_table = pd.DataFrame([
        {"month": month,
         **{f"first_mover.{s}": ("first" if s in opened else "rival") for s in P2_SEGMENTS},
         **{f"leader.{s}": ("first" if month == 0 else final_leaders[s]) for s in P2_SEGMENTS}}
        for month in (0, 1)])
    firms = _firms({"first": [0.8, 0.4], "rival": [0.2, 0.6]})
    start_users = {"chat": 100, "coding": 10, "image": 5}  # chat is the home segment
    segments = pd.DataFrame([
        {"month": month, "segment": s, "firm": firm,
         "users": start_users[s] if firm == "first" else 1}
        for month in (0, 1) for s in P2_SEGMENTS for firm in ("first", "rival")])
    return model_table, firms, segments


def test_p2_holds_when_the_first_mover_loses_most_segments_besides_home():
    # keeps its home segment (chat), loses both others
    assert metrics._p2(*_p2_tables({"chat": "first", "coding": "rival", "image": "rival"}))


@pytest.mark.parametrize("leaders,opened", [
    ({"chat": "rival", "coding": "first", "image": "rival"}, tuple(P2_SEGMENTS)),  # 1 of 2
    ({"chat": "first", "coding": "first", "image": "first"}, tuple(P2_SEGMENTS)),  # none
    ({"chat": "rival", "coding": "rival", "image": "rival"}, ("chat",)),  # only its home
])
def test_p2_fails_when_it_keeps_half_or_opened_only_home(leaders, opened):
    assert not metrics._p2(*_p2_tables(leaders, opened))


# ---------------------------------------------------------------- P3


def _gaps(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"month": range(len(values)), "quality_gap": values})


def _release(month: int) -> pd.DataFrame:
    return pd.DataFrame([{"month": month, "kind": "open_release", "detail": "quality 63"},
                         {"month": 0, "kind": "training_run", "detail": ""}])


def test_p3_holds_when_the_gap_closes_within_24_months_of_the_first_open_release():
    gaps = [20.0] * 2 + [20.0 - 0.5 * m for m in range(30)]
    assert metrics._p3(_gaps(gaps), _release(2))


@pytest.mark.parametrize("gaps,release", [
    ([10.0] * 2 + [10.0 + 0.2 * m for m in range(30)], _release(2)),  # the gap widens
    ([20.0, 10.0, 5.0], _release(1)),  # run too short to look 24 months on
    ([20.0] * 30 + [0.0], pd.DataFrame(columns=["month", "kind", "detail"])),  # no release
])
def test_p3_fails_when_the_gap_does_not_close_or_cannot_be_measured(gaps, release):
    assert not metrics._p3(_gaps(gaps), release)


# ---------------------------------------------------------------- P4


def _markups(first: float, last: float) -> pd.DataFrame:
    return pd.DataFrame({"month": range(36),
                         "model_access_markup": [first] * 12 + [first] * 12 + [last] * 12})


def test_p4_holds_when_the_last_years_markup_is_under_half_the_first():
    assert metrics._p4(_markups(1.2, 0.5))


@pytest.mark.parametrize("first,last", [(1.2, 0.7), (0.0, 0.0), (-0.2, -0.5)])
def test_p4_fails_when_markups_stay_or_never_were_positive(first, last):
    assert not metrics._p4(_markups(first, last))


# ---------------------------------------------------------------- P5


def _labs(backed_alive: list[bool], unbacked_alive: list[bool]) -> pd.DataFrame:
    rows = []
    labs = ([(f"backed{i}", "bigtech", a) for i, a in enumerate(backed_alive)]
            + [(f"indie{i}", "", a) for i, a in enumerate(unbacked_alive)])
    for firm, backers, alive_at_end in labs:
        for month in (0, 1, 2):
            rows.append({"month": month, "firm": firm, "kind": "lab", "backers": backers,
                         "alive": True if month < 2 else alive_at_end, "share": 0.1})
    rows.append({"month": 2, "firm": "google", "kind": "bigtech", "backers": "",
                 "alive": False, "share": 0.0})  # big tech rows are ignored
    return pd.DataFrame(rows)


def test_p5_holds_when_unbacked_labs_exit_more_often():
    assert metrics._p5(_labs(backed_alive=[True, True], unbacked_alive=[False, True]))


@pytest.mark.parametrize("backed,unbacked", [
    ([False, True], [False, True]),  # the same exit rate
    ([False, False], [True, False]),  # backed labs exit more
    ([True, True], []),  # no unbacked lab to compare with
])
def test_p5_fails_when_backing_does_not_protect(backed, unbacked):
    assert not metrics._p5(_labs(backed, unbacked))


def test_p5_counts_a_lab_backed_at_any_month_as_backed():
    table = _labs(backed_alive=[True], unbacked_alive=[False, True])
    # the first backed lab had no backer at the start, the first indie is never backed
    table.loc[(table.firm == "backed0") & (table.month == 0), "backers"] = None
    assert metrics._p5(table)


# ---------------------------------------------------------------- P6


def _margin_share(first: float, last: float) -> pd.DataFrame:
    return pd.DataFrame({"month": range(36),
                         "app_layer_margin_share": [first] * 12 + [0.5] * 12 + [last] * 12})


def test_p6_holds_when_the_app_layer_share_rises_five_points():
    assert metrics._p6(_margin_share(0.10, 0.16))


@pytest.mark.parametrize("last", [0.12, 0.10, 0.02])
def test_p6_fails_when_the_rise_is_under_five_points(last):
    assert not metrics._p6(_margin_share(0.10, last))


# ---------------------------------------------------------------- P7


def _p7_tables(owner_shares: list[float], absorbed_at_end: float, base_month: int = 1):
    firms = _firms({"meta_ai": owner_shares, "openai": [1 - s for s in owner_shares]},
                   absorbed_points={"meta_ai": [0.0] * (len(owner_shares) - 1)
                                    + [absorbed_at_end],
                                    "openai": [0.0] * len(owner_shares)})
    events = pd.DataFrame([
        {"month": 0, "kind": "new_open_base", "detail": "builds on stability's weights"},
        {"month": base_month, "kind": "new_open_base", "detail": "builds on meta_ai's weights"},
    ])
    return firms, events


def test_p7_holds_when_the_last_base_owner_absorbs_and_gains_share():
    assert metrics._p7(*_p7_tables([0.0, 0.05, 0.1, 0.2], absorbed_at_end=1.5))


@pytest.mark.parametrize("shares,absorbed", [
    ([0.0, 0.3, 0.2, 0.1], 1.5),  # absorbs, but loses share after becoming the base
    ([0.0, 0.05, 0.1, 0.2], 0.5),  # gains share, absorbs too little
])
def test_p7_fails_without_absorption_or_share_gain(shares, absorbed):
    assert not metrics._p7(*_p7_tables(shares, absorbed))


def test_p7_fails_without_an_open_base():
    firms, _ = _p7_tables([0.0, 0.05, 0.1, 0.2], absorbed_at_end=1.5)
    assert not metrics._p7(firms, pd.DataFrame(columns=["month", "kind", "detail"]))


def test_check_patterns_on_a_run_gives_one_boolean_per_pattern(baseline_run):
    checks = check_patterns(baseline_run.model, baseline_run.firms, baseline_run.segments,
                            baseline_run.events)
    assert list(checks) == list(PATTERNS) == KEYS
    assert all(isinstance(value, bool) for value in checks.values())


# ====================================================================== 5. replicates


def test_baseline_shows_at_least_five_patterns_in_80_percent_of_replicates():
    runs = replicate_patterns(BASELINE, replicates=8, workers=2)
    assert runs["seed"].tolist() == list(range(1, 9))
    table = pattern_table(runs)
    assert table["of"].eq(8).all()
    assert int((table["share"] >= 0.8).sum()) >= 5
    shares = table.set_index("pattern")["share"]
    assert shares["P1"] >= 0.75 and shares["P2"] >= 0.75  # the first mover's losses (C5)


def test_first_mover_moat_breaks_p1_and_p2():
    """The counterfactual to C5: with a lasting brand and high switching costs the first
    mover keeps its lead, so the first-mover patterns disappear."""
    table = pattern_table(replicate_patterns(MOAT, replicates=8, workers=2))
    shares = table.set_index("pattern")["share"]
    assert shares["P1"] <= 0.25
    assert shares["P2"] <= 0.25


def test_replicate_table_does_not_depend_on_the_number_of_workers():
    serial = replicate_patterns(BASELINE, replicates=4, workers=1)
    parallel = replicate_patterns(BASELINE, replicates=4, workers=2)
    assert list(serial.columns) == ["seed", *KEYS]
    pd.testing.assert_frame_equal(serial, parallel)


# ====================================================================== 6. CLI


def test_patterns_command_prints_every_pattern_and_writes_both_tables(tmp_path):
    out = tmp_path / "patterns"
    done = moatsim("patterns", "scenarios/baseline.yaml", "--replicates", "4",
                   "--workers", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for key in KEYS:
        matching = [line for line in lines if line.startswith(f"{key} ")]
        assert len(matching) == 1, f"no single line for {key}"
        assert PATTERNS[key] in matching[0]
        assert "/ 4" in matching[0]
    patterns = pd.read_csv(out / "patterns.csv")
    assert list(patterns.columns) == ["pattern", "description", "replicates", "of", "share"]
    assert patterns["pattern"].tolist() == KEYS
    assert (patterns["of"] == 4).all()
    replicates = pd.read_csv(out / "replicates.csv")
    assert list(replicates.columns) == ["seed", *KEYS]
    assert replicates["seed"].tolist() == [1, 2, 3, 4]
    # the summary is the per-replicate table summed up
    counted = replicates[KEYS].sum().astype(int)
    assert patterns.set_index("pattern")["replicates"].to_dict() == counted.to_dict()
    assert patterns["share"].tolist() == pytest.approx((counted / 4).tolist())
