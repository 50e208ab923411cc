"""Checks the users-as-counts engine (model/population.py).

a. *Equivalence*: a one-object-per-user reference written here in plain Python (each user draws
   its own categorical outcome with ``numpy.random.Generator.random``) and ``UserPopulation``
   give the same distribution of final counts over 400 seeds each (two-sample KS per provider,
   Bonferroni-adjusted to a 1 % family-wise error, and z-tests on means), with lookers who stay
   among the offers and with lookers who may leave for the outside option. A reference with the
   switching cost doubled, and one whose lookers cannot leave, must be told apart by the same
   statistics (negative controls: the comparison has power).
b. *Invariants* at every step of random scenarios (hypothesis, derandomized): people are
   conserved per segment and cohort, counts are int64 and ≥ 0, shares are finite and sum to 1,
   flows add up to the change in counts, nobody stays with an unavailable provider; the same
   conservation on the full AIMarketModel, and its DataCollector reports the counts' adopters.
c. Unit tests of ``logit_probabilities`` and of the initial split into cohorts; the month's
   fast bookkeeping makes the same draws (same ``n``, bit-identical ``pvals``, same generators
   in the same order) and the same counts and flows as the straightforward month.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from moatsim.metrics import segment_shares
from moatsim.model import AIMarketModel
from moatsim.population import (NOT_ADOPTED, UserPopulation, _normalised, _split,
                              logit_probabilities)
from tests.reference_users import adopt_and_look

# ====================================================================== a. reference engine


def reference_logit(utilities: list[float], available: list[bool]) -> list[float]:
    """Logit probabilities in plain Python (written independently of the engine's)."""
    offered = [u for u, a in zip(utilities, available, strict=True) if a]
    if not offered:
        return [0.0] * len(utilities)
    top = max(offered)
    weights = [math.exp(u - top) if a else 0.0 for u, a in zip(utilities, available, strict=True)]
    total = sum(weights)
    return [w / total for w in weights]


def draw_category(rng: np.random.Generator, probabilities: list[float]) -> int:
    """One categorical draw for one user: a single uniform against the cumulative sum."""
    u = rng.random()
    cumulative = 0.0
    last = 0
    for index, p in enumerate(probabilities):
        if p > 0.0:
            cumulative += p
            last = index
            if u < cumulative:
                return index
    return last  # round-off: the last possible outcome


class RefUser:
    __slots__ = ("segment", "cohort", "provider")

    def __init__(self, segment: int, cohort: int, provider: int):
        self.segment, self.cohort, self.provider = segment, cohort, provider


class ReferencePopulation:
    """One Python object per user; provider 0 = not adopted, providers 1…P as in the engine."""

    def __init__(self, counts: np.ndarray):
        self.shape = counts.shape
        self.users = [
            RefUser(s, c, k)
            for s in range(counts.shape[0])
            for c in range(counts.shape[1])
            for k in range(counts.shape[2])
            for _ in range(int(counts[s, c, k]))
        ]

    def counts(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=np.int64)
        for user in self.users:
            out[user.segment, user.cohort, user.provider] += 1
        return out

    def step(self, rng, *, utility, available, outside_utility, bass_p, bass_q,
             reconsider_share, switching_cost, lookers_may_leave=False) -> None:
        n_segments, _, n_options = self.shape
        n_providers = n_options - 1
        # everybody acts on the state at the start of the month (as the engine does)
        people = [0] * n_segments
        adopters = [0] * n_segments
        for user in self.users:
            people[user.segment] += 1
            adopters[user.segment] += user.provider != 0
        hazard = [min(max(bass_p[s] + bass_q[s] * adopters[s] / max(people[s], 1), 0.0), 1.0)
                  for s in range(n_segments)]
        for user in self.users:
            s, c, j = user.segment, user.cohort, user.provider
            offered = [bool(available[s, k]) for k in range(n_providers)]
            utilities = [float(utility[s, c, k]) for k in range(n_providers)]
            if j == 0:  # adoption: stay out, or adopt provider k
                share = reference_logit([outside_utility, *utilities], [True, *offered])
                probs = [1.0 - hazard[s] * (1.0 - share[0])] + [hazard[s] * x for x in share[1:]]
                user.provider = draw_category(rng, probs)
                continue
            # reconsideration: forced when the provider is gone
            if offered[j - 1] and rng.random() >= reconsider_share:
                continue
            with_bonus = [u + (switching_cost if k == j - 1 else 0.0)
                          for k, u in enumerate(utilities)]
            if lookers_may_leave:  # the outside option is one of the choices
                user.provider = draw_category(
                    rng, reference_logit([outside_utility, *with_bonus], [True, *offered]))
                continue
            if not any(offered):
                user.provider = 0
                continue
            user.provider = 1 + draw_category(rng, reference_logit(with_bonus, offered))


# Small market: 2 segments × 2 cohorts × 3 providers, 300 people, 6 months.
POTENTIAL = np.array([180, 120])
COHORT_SHARES = np.array([0.6, 0.4])
INITIAL = np.array([[30, 0, 0], [10, 12, 0]])
UTILITY = np.array([
    [[1.0, 0.5, 1.5], [0.2, 1.0, 2.0]],
    [[0.5, 1.2, 0.0], [1.5, 0.3, 0.8]],
])
SWITCHING_COST = 1.5
MONTHS = 6
RECORD_AT = (3, 6)


def market_params(month: int, switching_cost: float = SWITCHING_COST,
                  lookers_may_leave: bool = False) -> dict:
    """Month 2: provider 3 enters segment 0; month 4: provider 1 leaves segment 0 and
    segment 1 has nothing on offer (its users return); month 5: provider 3 enters segment 1."""
    available = np.array([
        [month < 4, True, month >= 2],
        [month != 4, month != 4, month >= 5],
    ])
    return dict(utility=UTILITY, available=available, outside_utility=0.5,
                bass_p=np.array([0.05, 0.10]), bass_q=np.array([0.4, 0.3]),
                reconsider_share=0.25, switching_cost=switching_cost,
                lookers_may_leave=lookers_may_leave)


def initial_counts() -> np.ndarray:
    return UserPopulation(POTENTIAL, COHORT_SHARES, INITIAL).counts.copy()


def run_engine(seed: int, lookers_may_leave: bool = False) -> np.ndarray:
    """[len(RECORD_AT), S, C, P+1] counts of UserPopulation at the recorded months."""
    population = UserPopulation(POTENTIAL, COHORT_SHARES, INITIAL)
    rng = np.random.default_rng(seed)
    recorded = []
    for month in range(1, MONTHS + 1):
        population.step(rng, **market_params(month, lookers_may_leave=lookers_may_leave))
        if month in RECORD_AT:
            recorded.append(population.counts.copy())
    return np.stack(recorded)


def run_reference(seed: int, switching_cost: float = SWITCHING_COST,
                  lookers_may_leave: bool = False) -> np.ndarray:
    population = ReferencePopulation(initial_counts())
    rng = np.random.default_rng(seed)
    recorded = []
    for month in range(1, MONTHS + 1):
        population.step(rng, **market_params(month, switching_cost, lookers_may_leave))
        if month in RECORD_AT:
            recorded.append(population.counts())
    return np.stack(recorded)


N_SEEDS = 400


@pytest.fixture(scope="module", params=[False, True], ids=["stay-in", "may-leave"])
def lookers_may_leave(request) -> bool:
    """Whether users who look around may choose the outside option (choice.lookers_may_leave)."""
    return request.param


@pytest.fixture(scope="module")
def engine_runs(lookers_may_leave) -> np.ndarray:
    return np.stack([run_engine(seed, lookers_may_leave) for seed in range(N_SEEDS)])


FAMILY_ERROR = 0.01  # chance that equal distributions fail the KS tests of one comparison


def compare(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Smallest KS p-value over (month, segment, option) totals, Bonferroni-adjusted (times
    the number of tests), and largest |z| of mean differences over (month, segment, cohort,
    option) cells; a, b: [runs, T, S, C, P+1]."""
    min_p, n_tests = 1.0, 0
    by_segment_a, by_segment_b = a.sum(axis=3), b.sum(axis=3)  # [runs, T, S, P+1]
    for index in np.ndindex(by_segment_a.shape[1:]):
        x, y = by_segment_a[(slice(None), *index)], by_segment_b[(slice(None), *index)]
        if np.ptp(x) == 0 and np.ptp(y) == 0:
            assert x[0] == y[0], index  # both constant (e.g. emptied segment): equal constants
            continue
        min_p = min(min_p, stats.ks_2samp(x, y).pvalue)
        n_tests += 1
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    diff = np.abs(a.mean(axis=0) - b.mean(axis=0))
    assert np.all(diff[se == 0] == 0)
    z = np.divide(diff, se, out=np.zeros_like(diff), where=se > 0)
    return min(1.0, min_p * max(n_tests, 1)), float(z.max())


def test_reference_conserves_and_matches_engine_layout():
    """Sanity of the reference itself: same initial state, people conserved."""
    reference = ReferencePopulation(initial_counts())
    np.testing.assert_array_equal(reference.counts(), initial_counts())
    out = run_reference(seed=1)
    np.testing.assert_array_equal(out.sum(axis=(2, 3)), np.tile(POTENTIAL, (len(RECORD_AT), 1)))
    # month 4 emptied segment 1 and month 6 must have refilled some of it
    assert out[-1, 1, :, 1:].sum() > 0


def test_engine_matches_one_object_per_user_reference(engine_runs, lookers_may_leave):
    reference = np.stack([run_reference(10_000 + seed, lookers_may_leave=lookers_may_leave)
                          for seed in range(N_SEEDS)])
    min_p, max_z = compare(engine_runs, reference)
    assert min_p > FAMILY_ERROR, f"KS tests tell engine and reference apart (p = {min_p:.2g})"
    assert max_z < 4.0, f"mean counts differ by {max_z:.1f} standard errors"
    # the scenario exercises every path: adoption, switching, forced moves and returns
    final = engine_runs[:, -1]
    assert final[:, 0, :, 1].sum() == 0  # provider 1 left segment 0: nobody stays
    assert final[:, 0, :, 3].mean() > 10  # the entrant won users
    assert engine_runs[:, 0, 1, :, 1:].sum(axis=(1, 2)).mean() > 40  # segment 1 adopted


def test_negative_control_doubled_switching_cost_is_detected(engine_runs, lookers_may_leave):
    perturbed = np.stack([run_reference(20_000 + seed, switching_cost=2 * SWITCHING_COST,
                                        lookers_may_leave=lookers_may_leave)
                          for seed in range(N_SEEDS)])
    min_p, max_z = compare(engine_runs, perturbed)
    assert min_p < FAMILY_ERROR, f"the comparison cannot see a doubled switching cost (p = {min_p:.2g})"
    assert max_z > 4.0


def test_negative_control_lookers_who_may_leave_are_detected():
    """The same statistics tell a market whose lookers may churn from one where they stay."""
    leaving = np.stack([run_engine(30_000 + seed, lookers_may_leave=True)
                        for seed in range(N_SEEDS)])
    staying = np.stack([run_reference(40_000 + seed) for seed in range(N_SEEDS)])
    min_p, max_z = compare(leaving, staying)
    assert min_p < FAMILY_ERROR and max_z > 4.0
    # churn sends users back to "not adopted" while every segment has offers (month 3)
    assert leaving[:, 0, :, :, NOT_ADOPTED].mean() > staying[:, 0, :, :, NOT_ADOPTED].mean()


def test_one_step_means_at_a_billion_users():
    """At N = 1e9 one month's adopters per provider sit within 6 sd of N·h·P_k."""
    potential, adopted0 = 10**9, 2 * 10**8
    population = UserPopulation(np.array([potential]), np.array([1.0]),
                                np.array([[adopted0, 0, 0]]))
    utility = np.array([[[2.0, 1.0, 3.0]]])
    available = np.array([[True, True, True]])
    flows = population.step(np.random.default_rng(5), utility=utility, available=available,
                            outside_utility=1.0, bass_p=np.array([0.01]),
                            bass_q=np.array([0.2]), reconsider_share=0.0, switching_cost=0.0)
    h = 0.01 + 0.2 * adopted0 / potential
    offer = reference_logit([1.0, 2.0, 1.0, 3.0], [True] * 4)
    n = potential - adopted0
    expected = np.array([n * h * p for p in offer[1:]])
    sd = np.sqrt(expected * (1 - np.array(offer[1:]) * h))
    assert np.all(np.abs(flows.adopted[0] - expected) < 6 * sd)
    assert population.counts.sum() == potential


# ====================================================================== b. invariants


@st.composite
def population_cases(draw):
    n_segments = draw(st.integers(1, 4))
    n_cohorts = draw(st.integers(1, 3))
    n_providers = draw(st.integers(1, 5))
    potential = np.array(draw(st.lists(
        st.one_of(st.integers(0, 50), st.integers(0, 10**9)),
        min_size=n_segments, max_size=n_segments)), dtype=np.int64)
    raw_shares = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=n_cohorts,
                                        max_size=n_cohorts)))
    shares = raw_shares / raw_shares.sum()
    seed = draw(st.integers(0, 2**32 - 1))
    fill = draw(st.floats(0.0, 0.95))
    rng = np.random.default_rng(seed)
    # initial users: up to `fill` of each segment, kept clear of the cohort-rounding edge
    # (see test_initial_users_that_fill_a_segment_exactly below)
    room = np.maximum(potential - (n_providers + 1) / shares.min(), 0)
    total = np.floor(np.minimum(fill * potential, room))
    weights = rng.dirichlet(np.ones(n_providers), size=n_segments)
    initial = np.floor(total[:, None] * weights).astype(np.int64)
    params = dict(
        outside_utility=draw(st.floats(-50, 50)),
        bass_p=np.array(draw(st.lists(st.floats(0, 1), min_size=n_segments,
                                      max_size=n_segments))),
        bass_q=np.array(draw(st.lists(st.floats(0, 1), min_size=n_segments,
                                      max_size=n_segments))),
        reconsider_share=draw(st.floats(0, 1)),
        switching_cost=draw(st.floats(0, 50)),
    )
    utility_scale = draw(st.sampled_from([1.0, 30.0, 1000.0]))
    return potential, shares, initial, params, utility_scale, seed


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(population_cases())
def test_population_invariants_every_step(case):
    potential, shares, initial, params, utility_scale, seed = case
    population = UserPopulation(potential, shares, initial)
    n_segments, n_cohorts, n_options = population.counts.shape
    per_cohort = population.counts.sum(axis=2).copy()
    np.testing.assert_array_equal(per_cohort.sum(axis=1), potential)
    np.testing.assert_array_equal(population.users(), initial)
    rng = np.random.default_rng(seed + 1)
    for _ in range(8):
        utility = rng.normal(0.0, utility_scale, (n_segments, n_cohorts, n_options - 1))
        available = rng.random((n_segments, n_options - 1)) < 0.7
        available[rng.random(n_segments) < 0.2] = False  # segments with nothing on offer
        before = population.counts.copy()
        flows = population.step(rng, utility=utility, available=available, **params)
        counts = population.counts
        assert counts.dtype == np.int64
        assert (counts >= 0).all()
        np.testing.assert_array_equal(counts.sum(axis=2), per_cohort)  # nobody made or lost
        np.testing.assert_array_equal(population.potential, potential)
        # nobody stays with a provider that is not on offer; emptied segments have no adopters
        assert (population.users()[~available] == 0).all()
        assert (population.adopters()[~available.any(axis=1)] == 0).all()
        shares_now = segment_shares(population.users())
        assert np.isfinite(shares_now).all()
        has_adopters = population.adopters() > 0
        np.testing.assert_allclose(shares_now[has_adopters].sum(axis=1), 1.0, rtol=1e-12)
        assert (shares_now[~has_adopters] == 0).all()
        # flows account for every move
        for flow in (flows.adopted, flows.switched_in, flows.switched_out):
            assert flow.shape == (n_segments, n_options - 1) and (flow >= 0).all()
        change = counts.sum(axis=1) - before.sum(axis=1)  # [S, P+1]
        np.testing.assert_array_equal(change[:, 1:],
                                      flows.adopted + flows.switched_in - flows.switched_out)
        dropped = flows.switched_out.sum(axis=1) - flows.switched_in.sum(axis=1)
        np.testing.assert_array_equal(change[:, NOT_ADOPTED], dropped - flows.adopted.sum(axis=1))
        assert (dropped[available.any(axis=1)] == 0).all()


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    overrides=st.fixed_dictionaries({}, optional={
        "first_mover__switching_cost_utils": st.floats(0, 50),
        "first_mover__reconsider_share_monthly": st.floats(0, 1),
        "choice__outside_option_utils": st.floats(-50, 50),
        "commoditization__inference_cost_decline_per_year": st.floats(0, 0.99),
        "commoditization__pretrain_points_per_doubling": st.floats(0, 50),
        "commoditization__open_catch_up_share_monthly": st.floats(0, 1),
        "first_mover__brand_initial_utils": st.floats(0, 50),
        "first_mover__network_effect_utils": st.floats(0, 50),
        "funding__round_success_probability": st.floats(0, 1),
    }),
)
def test_model_invariants_every_month(seed, overrides):
    months = 48
    model = AIMarketModel(rng=seed, months=months, **overrides)
    population = model.population
    potential = np.array([int(s.potential_users) for s in model.config.segments])
    np.testing.assert_array_equal(population.potential, potential)
    n_firms = len(model.sellers)  # the segments table has a row per segment × seller
    for month in range(1, months + 1):
        model.step()
        counts = population.counts
        assert counts.dtype == np.int64 and (counts >= 0).all()
        np.testing.assert_array_equal(counts.sum(axis=(1, 2)), potential)
        adopters = model.datacollector.model_vars["adopters"]
        assert len(adopters) == month + 1
        assert adopters[-1] == int(population.adopters().sum())
        table = model.datacollector.tables["segments"]
        last = slice(-len(model.segment_ids) * n_firms, None)
        assert table["month"][last] == [month] * (len(model.segment_ids) * n_firms)
        np.testing.assert_array_equal(np.array(table["users"][last]), model.reach.ravel())
        # each segment's use adds up to its adopters; a provider's users are at least its
        # primary users (multi-homing users count at each of their providers)
        np.testing.assert_allclose(np.array(table["use"][last]).reshape(
            len(model.segment_ids), n_firms).sum(axis=1), population.adopters(), rtol=1e-9)
        assert (model.reach >= population.users()).all()
    assert not model.running


# ====================================================================== c. unit tests


def test_logit_rows_sum_to_one_or_zero_and_unavailable_get_zero():
    rng = np.random.default_rng(0)
    utility = rng.normal(0, 5, (50, 7))
    available = rng.random((50, 7)) < 0.5
    available[:5] = False
    probs = logit_probabilities(utility, available)
    assert probs.shape == utility.shape
    assert (probs[~available] == 0).all()
    assert (probs[available] > 0).all()
    sums = probs.sum(axis=1)
    np.testing.assert_allclose(sums[available.any(axis=1)], 1.0, rtol=1e-12)
    assert (sums[~available.any(axis=1)] == 0).all()
    # against the textbook formula, row by row
    for row in range(50):
        expected = reference_logit(list(utility[row]), list(available[row]))
        np.testing.assert_allclose(probs[row], expected, rtol=1e-12, atol=1e-300)


def test_logit_invariant_to_adding_a_constant():
    rng = np.random.default_rng(1)
    utility = rng.normal(0, 3, (4, 3, 6))
    available = rng.random((4, 3, 6)) < 0.8
    base = logit_probabilities(utility, available)
    for shift in (-700.0, 3.5, 1e4):
        np.testing.assert_allclose(logit_probabilities(utility + shift, available), base,
                                   rtol=1e-9, atol=1e-15)
    # a per-row constant too
    row_shift = rng.normal(0, 100, (4, 3, 1))
    np.testing.assert_allclose(logit_probabilities(utility + row_shift, available), base,
                               rtol=1e-9, atol=1e-15)


def test_logit_large_utilities_do_not_overflow():
    utility = np.array([[1000.0, 1001.0, -1000.0], [1e300, 1e300, 0.0], [-1e300, 5.0, 7.0]])
    available = np.array([[True, True, True], [True, True, False], [True, False, False]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        probs = logit_probabilities(utility, available)
    e = math.e
    np.testing.assert_allclose(probs[0], [1 / (1 + e), e / (1 + e), 0.0], atol=1e-300)
    np.testing.assert_allclose(probs[1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(probs[2], [1.0, 0.0, 0.0])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(totals=st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
       raw_shares=st.lists(st.floats(0.001, 1.0), min_size=1, max_size=5))
def test_split_is_exact_and_proportional(totals, raw_shares):
    totals = np.array(totals, dtype=np.int64).reshape(-1, 1)  # [S, 1]
    shares = np.array(raw_shares) / sum(raw_shares)
    parts = _split(totals, shares)  # [S, C, 1]
    assert parts.dtype == np.int64 and (parts >= 0).all()
    np.testing.assert_array_equal(parts.sum(axis=1), totals)
    ideal = totals[:, None, :] * shares[None, :, None]
    assert (np.abs(parts - ideal) < 1.0 + 1e-6).all()


def test_constructor_totals_and_cohorts():
    potential = np.array([3_000_000_000, 27_000_000, 101])
    shares = np.array([0.6, 0.25, 0.15])
    initial = np.array([[100_000_000, 0], [1_000_000, 3], [7, 5]])
    population = UserPopulation(potential, shares, initial)
    counts = population.counts
    assert counts.shape == (3, 3, 3) and counts.dtype == np.int64
    np.testing.assert_array_equal(population.potential, potential)
    np.testing.assert_array_equal(population.users(), initial)
    np.testing.assert_array_equal(population.adopters(), initial.sum(axis=1))
    per_cohort = counts.sum(axis=2)
    assert (np.abs(per_cohort - potential[:, None] * shares) < 1.0 + 1e-6).all()
    assert (np.abs(counts[:, :, 1:] - initial[:, None, :] * shares[None, :, None])
            < 1.0 + 1e-6).all()
    np.testing.assert_array_equal(per_cohort[0], [1_800_000_000, 750_000_000, 450_000_000])


def test_constructor_tolerates_shares_the_loader_accepts():
    """Shares summing to 0.999999 pass the loader (|sum − 1| ≤ 1e-6); no user may be lost."""
    population = UserPopulation(np.array([3_000_000_000]), np.array([0.333333] * 3),
                                np.array([[100_000_000]]))
    assert population.potential[0] == 3_000_000_000
    assert population.users()[0, 0] == 100_000_000


def test_constructor_rejects_initial_users_above_potential():
    with pytest.raises(ValueError, match="exceed"):
        UserPopulation(np.array([100, 1000]), np.array([0.5, 0.5]), np.array([[60, 41], [0, 0]]))
    with pytest.raises(ValueError, match="exceed"):
        UserPopulation(np.array([10]), np.array([1.0]), np.array([[11]]))


def test_initial_users_that_fill_a_segment_exactly():
    population = UserPopulation(np.array([10]), np.array([0.5, 0.5]), np.array([[5, 5]]))
    np.testing.assert_array_equal(population.users(), [[5, 5]])


def straightforward_logit(utility: np.ndarray, available: np.ndarray) -> np.ndarray:
    """logit_probabilities as first written (two masks, a division into zeros)."""
    masked = np.where(available, utility, -np.inf)
    peak = masked.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.where(available, np.exp(masked - peak), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def straightforward_step(counts, rng, choice_rng, *, utility, available, outside_utility,
                         bass_p, bass_q, reconsider_share, switching_cost,
                         lookers_may_leave=False):
    """The month as first written (concatenations, np.add.at): (flows, new counts)."""
    counts = counts.copy()
    n_options = counts.shape[2]
    n_providers = n_options - 1
    avail, adopted, looking = adopt_and_look(
        counts, rng, choice_rng, straightforward_logit, utility=utility, available=available,
        outside_utility=outside_utility, bass_p=bass_p, bass_q=bass_q,
        reconsider_share=reconsider_share)
    current = counts[:, :, 1:]
    s_idx, c_idx, j_idx = np.nonzero(looking)
    n_rows = j_idx.size
    current_one = np.zeros((n_rows, n_providers))
    current_one[np.arange(n_rows), j_idx] = 1.0
    with_bonus = utility[s_idx, c_idx] + switching_cost * current_one
    if lookers_may_leave:  # one logit over the outside option and the offers
        options = straightforward_logit(
            np.concatenate([np.full((n_rows, 1), outside_utility), with_bonus], axis=1),
            np.concatenate([np.ones((n_rows, 1), bool), avail[s_idx, c_idx]], axis=1))
    else:  # a logit over the offers; users leave only where nothing is offered
        choose = straightforward_logit(with_bonus, avail[s_idx, c_idx])
        drop = (~avail.any(axis=2))[s_idx, c_idx][:, None].astype(float)
        options = np.concatenate([drop, choose], axis=1)
    moves = (choice_rng.multinomial(looking[s_idx, c_idx, j_idx], _normalised(options))
             if n_rows else np.zeros((0, n_options), dtype=np.int64))
    arrived = np.zeros_like(current)
    np.add.at(arrived, (s_idx, c_idx), moves[:, 1:])
    dropped = np.zeros_like(counts[:, :, NOT_ADOPTED])
    np.add.at(dropped, (s_idx, c_idx), moves[:, 0])
    stayed = np.zeros_like(current)
    stayed[s_idx, c_idx, j_idx] = moves[np.arange(n_rows), j_idx + 1]
    counts[:, :, NOT_ADOPTED] += dropped - adopted.sum(axis=2)
    counts[:, :, 1:] += adopted - looking + arrived
    return (adopted.sum(axis=1), (arrived - stayed).sum(axis=1),
            (looking - stayed).sum(axis=1)), counts


class RecordingGenerator:
    """Passes draws on to a generator and records each call's n and pvals, bit for bit."""

    def __init__(self, seed):
        self.generator, self.calls = np.random.default_rng(seed), []

    def _record(self, name, n, p):
        n, p = np.asarray(n), np.asarray(p, dtype=float)
        self.calls.append((name, n.shape, p.shape, n.tobytes(), p.tobytes()))

    def multinomial(self, n, pvals):
        self._record("multinomial", n, pvals)
        return self.generator.multinomial(n, pvals)

    def binomial(self, n, p):
        self._record("binomial", *np.broadcast_arrays(n, p))  # (the p of a cell, however shaped)
        return self.generator.binomial(n, p)


@pytest.mark.parametrize("seed", range(12))
def test_fast_month_draws_and_moves_like_the_straightforward_month(seed):
    rng = np.random.default_rng(seed)
    n_segments, n_cohorts, n_providers = rng.integers(1, 6), rng.integers(1, 4), rng.integers(1, 15)
    counts = rng.integers(0, [30, 10**9][seed % 2], size=(n_segments, n_cohorts, n_providers + 1))
    counts *= rng.random(counts.shape) < 0.7
    fast = UserPopulation.__new__(UserPopulation)  # any state, not only the constructor's
    fast.counts, fast._users, fast._adopters = counts.copy(), None, None
    shared = seed % 3 == 0  # one generator for both mechanisms: the order of draws matters
    # streams 0, 1 for the engine and 2, 3 for the straightforward month, from the same seeds
    streams = [RecordingGenerator([seed, 0 if shared else k % 2]) for k in range(4)]
    for month in range(6):
        available = rng.random((n_segments, n_providers)) < rng.choice([0.3, 0.7, 1.0])
        if month % 3 == 1:
            available[rng.integers(n_segments)] = False  # users there drop out
        utility = rng.normal(0.0, rng.choice([0.5, 3.0, 400.0]),
                             (n_segments, n_cohorts, n_providers))
        if month == 4:
            utility[rng.random(utility.shape) < 0.2] = rng.choice([np.inf, -np.inf, -0.0])
        inputs = dict(utility=utility, available=available,
                      outside_utility=float(rng.choice([0.0, 8.0, rng.normal(0, 10)])),
                      bass_p=rng.random(n_segments) * 0.05, bass_q=rng.random(n_segments),
                      reconsider_share=float(rng.choice([0.0, 0.08, 1.0])),
                      switching_cost=float(rng.choice([0.0, 1.5, -1.0, 40.0])),
                      lookers_may_leave=bool(month % 2))
        with np.errstate(over="ignore", invalid="ignore"):  # the infinite utilities
            flows = fast.step(streams[0], choice_rng=None if shared else streams[1], **inputs)
            expected, counts = straightforward_step(
                counts, streams[2], streams[2] if shared else streams[3], **inputs)
        assert streams[0].calls == streams[2].calls, f"month {month}"
        assert streams[1].calls == streams[3].calls, f"month {month}"
        assert np.array_equal(fast.counts, counts) and fast.counts.dtype == np.int64
        for got, want in zip((flows.adopted, flows.switched_in, flows.switched_out), expected,
                             strict=True):
            assert got.dtype == want.dtype and np.array_equal(got, want), f"month {month}"
