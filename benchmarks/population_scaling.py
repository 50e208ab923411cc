"""How the cost of a run grows with the number of users: counts engine vs one Mesa agent per user.

Three measurements, each the median over ``--repeats`` runs (seeds 0, 1, …) of the stepping
loop only (``time.perf_counter`` around the ``step()`` calls; building the model is reported
separately):

1. *baseline model* — ``AIMarketModel`` on ``scenarios/baseline.yaml`` with every segment's
   potential users (and every firm's initial users, in proportion) rescaled so the whole
   population is 10^4 … 10^9 people; 96 months.
2. *counts engine alone* — ``UserPopulation`` on one segment × 3 cohorts × 5 providers, the
   market the per-agent model below runs (same probabilities, same months).
3. *one Mesa agent per user* — the same one-segment choice with each user a ``mesa.Agent`` that
   every month adopts (Bass hazard × logit against the outside option) or reconsiders (logit
   with the switching-cost bonus) with its own draws from ``model.rng``; 10^4 and 10^5 users.

Peak memory is the ``tracemalloc`` peak (Python and numpy allocations traced; interpreter and
imported modules excluded) of a separate, untimed run: building the model plus
``--memory-months`` months.

Usage::

    .venv/bin/python benchmarks/population_scaling.py            # 5 repeats (~2-3 minutes)
    .venv/bin/python benchmarks/population_scaling.py --quick    # 2 repeats, 24 agent months
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
import tracemalloc
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moatsim.choice import offer_utility  # noqa: E402
from moatsim.loading import load_scenario  # noqa: E402
from moatsim.model import AIMarketModel  # noqa: E402
from moatsim.population import UserPopulation, logit_probabilities  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
MODEL_SIZES = (10**4, 10**5, 10**6, 10**8, 10**9)
AGENT_SIZES = (10**4, 10**5)

# ---------------------------------------------------------------- 1. the baseline, rescaled


def baseline_overrides(total_users: int) -> dict[str, float]:
    """Flat overrides that rescale the baseline's population to about ``total_users`` people."""
    scenario = load_scenario(BASELINE)
    total = sum(s.potential_users for s in scenario.segments)
    factor = total_users / total
    overrides: dict[str, float] = {}
    for segment in scenario.segments:
        overrides[f"segments__{segment.id}__potential_users"] = max(
            1.0, float(round(segment.potential_users * factor)))
    for firm in scenario.firms:
        for segment_id, offering in firm.offerings.items():
            if offering.initial_users > 0:
                overrides[f"firms__{firm.id}__offerings__{segment_id}__initial_users"] = (
                    offering.initial_users * factor)
    return overrides


# ---------------------------------------------------------------- 2./3. one-segment market


class OneSegmentMarket:
    """One segment, 3 cohorts, 5 providers with baseline-like tastes; providers enter over time."""

    cohort_shares = np.array([0.6, 0.25, 0.15])
    quality = np.array([[70.0, 68.0, 65.0, 63.0, 60.0]])
    price_usd = np.array([[0.9, 0.75, 0.5, 0.5, 0.6]])
    is_open = np.array([False, False, False, True, True])
    entry_month = np.array([0, 2, 2, 2, 8])
    bass_p, bass_q = np.array([0.01]), np.array([0.25])
    outside_utility, reconsider_share, switching_cost = 8.0, 0.08, 1.0
    initial_share = np.array([0.033, 0.0, 0.0, 0.0, 0.0])  # first mover: ~1e8 of 3e9

    def __init__(self, n_users: int):
        self.n_users = n_users
        self.initial = np.rint(self.initial_share * n_users).astype(np.int64)[None, :]
        self.utility = offer_utility(self.quality, self.price_usd, self.is_open,
                                     np.array([0.15, 0.3, 0.12]), np.array([0.6, 0.2, 0.4]),
                                     np.array([0.0, 0.0, 1.5]))  # [1, C, P]

    def available(self, month: int) -> np.ndarray:
        return (self.entry_month <= month)[None, :]

    def population(self) -> UserPopulation:
        return UserPopulation(np.array([self.n_users]), self.cohort_shares, self.initial)

    def step_counts(self, population: UserPopulation, rng: np.random.Generator,
                    month: int) -> None:
        population.step(rng, utility=self.utility, available=self.available(month),
                        outside_utility=self.outside_utility, bass_p=self.bass_p,
                        bass_q=self.bass_q, reconsider_share=self.reconsider_share,
                        switching_cost=self.switching_cost)


def _cumulative(probabilities: np.ndarray) -> list[float]:
    """Cumulative probabilities for ``bisect_right``; outcomes after the last possible one can
    never be drawn (guards round-off)."""
    cumulative = np.cumsum(probabilities)
    last = int(np.flatnonzero(probabilities > 0)[-1])
    cumulative[last:] = 2.0
    return cumulative.tolist()


class UserAgent(mesa.Agent):
    """One user: cohort and current provider (0 = not adopted)."""

    def __init__(self, model: PerAgentMarket, cohort: int, provider: int):
        super().__init__(model)
        self.cohort = cohort
        self.provider = provider

    def step(self) -> None:
        model = self.model
        if self.provider == 0:  # adopt provider k with prob h·P_k, else stay out
            choice = bisect_right(model.adopt_cum[self.cohort], model.rng.random())
            if choice:
                self.provider = choice
                model.moved_in += 1
        elif model.rng.random() < model.look_p[self.provider]:  # look around, then choose
            choice = bisect_right(model.choose_cum[self.cohort][self.provider],
                                  model.rng.random())
            if choice == 0:
                model.moved_out += 1
            self.provider = choice


class PerAgentMarket(mesa.Model):
    """The one-segment market with one Mesa agent per user; probabilities as the counts engine."""

    def __init__(self, market: OneSegmentMarket, rng: int):
        super().__init__(rng=rng)
        self.market = market
        self.month = 0
        counts = market.population().counts[0]  # [C, P+1]: the same initial state
        for cohort, row in enumerate(counts):
            for provider, n in enumerate(row):
                for _ in range(int(n)):
                    UserAgent(self, cohort, provider)
        self.adopters = int(counts[:, 1:].sum())

    def _probabilities(self) -> None:
        """This month's choice probabilities from the state at the start of the month."""
        m = self.market
        n_cohorts, n_providers = m.utility.shape[1:]
        available = m.available(self.month)[0]
        hazard = float(np.clip(m.bass_p[0] + m.bass_q[0] * self.adopters / m.n_users, 0, 1))
        offer = logit_probabilities(np.concatenate([np.full((n_cohorts, 1), m.outside_utility),
                                                    m.utility[0]], axis=1),
                                    np.concatenate([[True], available])[None, :])
        adopt = hazard * offer
        adopt[:, 0] = 1.0 - adopt[:, 1:].sum(axis=1)
        self.adopt_cum = [_cumulative(row) for row in adopt]
        self.look_p = [0.0] + [m.reconsider_share if a else 1.0 for a in available]
        bonus = m.switching_cost * np.eye(n_providers)
        self.choose_cum = []
        for cohort in range(n_cohorts):
            rows: list[list[float]] = [[]]  # index by current provider 1…P
            for current in range(n_providers):
                choose = logit_probabilities(m.utility[0, cohort] + bonus[current], available)
                drop = 0.0 if available.any() else 1.0
                rows.append(_cumulative(np.concatenate([[drop], choose])))
            self.choose_cum.append(rows)

    def step(self) -> None:
        self.month += 1
        self._probabilities()
        self.moved_in = self.moved_out = 0
        self.agents.do("step")
        self.adopters += self.moved_in - self.moved_out

    def counts(self) -> np.ndarray:
        n_cohorts, n_providers = self.market.utility.shape[1:]
        out = np.zeros((n_cohorts, n_providers + 1), dtype=np.int64)
        for agent in self.agents:
            out[agent.cohort, agent.provider] += 1
        return out


# ---------------------------------------------------------------- measuring


def measure(build: Callable[[int], object], step: Callable[[object, int], None],
            months: int, repeats: int, memory_months: int) -> dict[str, float]:
    """Median stepping time over seeds 0…repeats-1, build time, and tracemalloc peak."""
    step_times, build_times = [], []
    for seed in range(repeats):
        gc.collect()
        start = time.perf_counter()
        state = build(seed)
        built = time.perf_counter()
        for month in range(1, months + 1):
            step(state, month)
        done = time.perf_counter()
        build_times.append(built - start)
        step_times.append(done - built)
        del state
    gc.collect()
    tracemalloc.start()
    state = build(repeats)
    for month in range(1, memory_months + 1):
        step(state, month)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del state
    seconds = statistics.median(step_times)
    return {"steps_per_s": months / seconds, "seconds": seconds,
            "build_s": statistics.median(build_times), "peak_mb": peak / 2**20}


def _model_step(model: AIMarketModel, month: int) -> None:
    model.step()


def bench_model(total_users: int, months: int, repeats: int,
                memory_months: int) -> dict[str, float]:
    overrides = baseline_overrides(total_users)

    def build(seed: int) -> AIMarketModel:
        return AIMarketModel(BASELINE, rng=seed, months=months, **overrides)

    result = measure(build, _model_step, months, repeats, memory_months)
    result["people"] = int(build(0).population.potential.sum())
    return result


def bench_engine(n_users: int, months: int, repeats: int,
                 memory_months: int) -> dict[str, float]:
    market = OneSegmentMarket(n_users)

    def build(seed: int) -> tuple[UserPopulation, np.random.Generator]:
        return market.population(), np.random.default_rng(seed)

    def step(state: tuple[UserPopulation, np.random.Generator], month: int) -> None:
        market.step_counts(state[0], state[1], month)

    return measure(build, step, months, repeats, memory_months)


def bench_agents(n_users: int, months: int, repeats: int,
                 memory_months: int) -> dict[str, float]:
    market = OneSegmentMarket(n_users)

    def step(model: PerAgentMarket, month: int) -> None:
        model.step()

    return measure(lambda seed: PerAgentMarket(market, seed), step, months, repeats,
                   memory_months)


def agreement(n_users: int, months: int, seeds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Mean final shares (not adopted, providers 1…5) of both engines: they should agree."""
    market = OneSegmentMarket(n_users)
    engine, agents = [], []
    for seed in range(seeds):
        population, rng = market.population(), np.random.default_rng(seed)
        model = PerAgentMarket(market, 100 + seed)
        for month in range(1, months + 1):
            market.step_counts(population, rng, month)
            model.step()
        engine.append(population.counts[0].sum(axis=0) / n_users)
        agents.append(model.counts().sum(axis=0) / n_users)
    return np.mean(engine, axis=0), np.mean(agents, axis=0)


# ---------------------------------------------------------------- report


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.3g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per row, median reported (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="2 repeats and 24-month per-agent runs")
    parser.add_argument("--months", type=int, default=96, help="months per timed run (96)")
    parser.add_argument("--agent-months", type=int, default=None,
                        help="months per per-agent run (default --months; 24 with --quick)")
    parser.add_argument("--memory-months", type=int, default=12,
                        help="months in the untimed tracemalloc run (12)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    agent_months = args.agent_months or (24 if args.quick else args.months)
    if repeats < 1 or args.months < 1 or agent_months < 1:
        parser.error("--repeats and months must be ≥ 1")

    command = "python benchmarks/population_scaling.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    print(f"# moatsim population scaling — `{command.strip()}`")
    print(f"Python {platform.python_version()}, numpy {np.__version__}, mesa {mesa.__version__}, "
          f"{platform.machine()} {platform.system()}; median of {repeats} runs (seeds 0…"
          f"{repeats - 1}) of the stepping loop (perf_counter); memory = tracemalloc peak of "
          f"an untimed run (build + {args.memory_months} months).\n")

    rows = []
    model_rate: dict[int, float] = {}
    engine_rate: dict[int, float] = {}
    for n in MODEL_SIZES:
        r = bench_model(n, args.months, repeats, args.memory_months)
        model_rate[n] = r["steps_per_s"]
        rows.append(("baseline model (counts)", f"{r['people']:.3g}", args.months, r))
    for n in AGENT_SIZES + (10**9,):
        r = bench_engine(n, args.months, repeats, args.memory_months)
        engine_rate[n] = r["steps_per_s"]
        rows.append(("counts engine, 1 segment × 5 providers", f"{n:.0e}", args.months, r))
    agent_rate: dict[int, float] = {}
    for n in AGENT_SIZES:
        r = bench_agents(n, agent_months, repeats, args.memory_months)
        agent_rate[n] = r["steps_per_s"]
        rows.append(("one Mesa agent per user, 1 segment × 5 providers", f"{n:.0e}",
                     agent_months, r))

    print("| engine | users | months | month-steps/s | run s | build s | peak MB (tracemalloc) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, months, r in rows:
        print(f"| {name} | {n} | {months} | {_fmt(r['steps_per_s'])} | {r['seconds']:.3g} "
              f"| {r['build_s']:.3g} | {r['peak_mb']:.3g} |")

    print("\n| users | baseline model ÷ per-agent | counts engine ÷ per-agent (same market) |")
    print("|---:|---:|---:|")
    for n in AGENT_SIZES:
        print(f"| {n:.0e} | {model_rate[n] / agent_rate[n]:,.0f}× "
              f"| {engine_rate[n] / agent_rate[n]:,.0f}× |")
    config = load_scenario(BASELINE)
    print(f"\n(ratios of month-steps per second; the baseline model has {len(config.segments)} "
          f"segments, {len(config.firms)} firms and data collection, the per-agent model one "
          "segment and no firms)")

    engine, agents = agreement(AGENT_SIZES[0], agent_months)
    print(f"\nSame market, {AGENT_SIZES[0]:.0e} users, {agent_months} months, mean of 3 seeds — "
          "final shares [not adopted, provider 1…5]:")
    print(f"  counts engine: {np.array2string(engine, precision=3)}")
    print(f"  per-agent:     {np.array2string(agents, precision=3)}")


if __name__ == "__main__":
    main()
