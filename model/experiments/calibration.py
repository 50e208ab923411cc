"""Calibration files and ``moatsim calibrate``: fit assumed parameters to dated observations.

A calibration file is YAML validated by :class:`Calibration`, with the same one-line errors as
scenarios and experiments (``file:line: key.path: message``)::

    description: Fit consumer adoption and tastes to 2023-2024 (H2-H12)
    scenario: ../scenarios/baseline.yaml     # relative to this file
    months: 24                               # default: the runs end at 2024-12
    replicates: 4                            # seeds seed … seed+3 at every point
    seed: 1
    parameters:                              # only parameters whose source is an assumption
      segments.consumer_chat.bass_imitation_monthly: {range: [0.01, 0.4], scale: log}
    targets:                                 # check ids of seeds/history.yaml …
      H2: {}
      H6.openai: {weight: 2}
      my_target: {quantity: users, firm: openai, segment: consumer_chat, date: "2023-06",
                  value: 1.2e8, low: 1.0e8, high: 1.4e8}   # … or a target of one's own
    search: {initial_points: 64, population: 16, budget_runs: 2000}
    accept_loss: 1.0

**Loss** (simulated method of moments with each target's tolerance as its scale): at a point,
each target's simulated value is the median over the replicates; its *deviation* is the
distance from the observed value in units of the tolerance band on that side,
``(m - value) / (high - value)`` above and ``(value - m) / (value - low)`` below, so a median
inside the band has deviation ≤ 1. The loss is the weighted mean of squared deviations. A
point whose loss is at most ``accept_loss`` is *acceptable*: on average its targets lie
within their bands.

**Search**: a scrambled Sobol sample of ``initial_points`` over the prior box (the parameters'
ranges, log10 for ``scale: log``; :class:`scipy.stats.qmc.Sobol`), then differential
evolution (:func:`scipy.optimize.differential_evolution`, Storn & Price 1997) started from
the best ``population`` of those points, generation after generation until the budget of
runs is spent. The Sobol stage is ABC rejection from a uniform prior (Pritchard et al. 1999):
its acceptable points are an approximate posterior sample at tolerance ``accept_loss``; the
evolution stage searches for the best point. Every point runs the same seeds (common random
numbers), so the loss is a deterministic function of the parameters and a replicate's noise
does not move the search. The hand-set scenario is evaluated first, on the same seeds.

**Bookkeeping** is a sweep's (:mod:`moatsim.experiments.sweep`): one Parquet file per run in
``results/`` (written atomically, as each batch comes back), local worker processes or a Dask
cluster (``--scheduler``), ``--resume`` after any interruption. The search is deterministic,
so a resumed calibration re-proposes the same points and reads the runs it already has from
their files; the outcome is the same for any number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field, StrictInt, StringConstraints, model_validator

from moatsim.calendar import month_index, month_label
from moatsim.experiments import outfolder, sensitivity
from moatsim.experiments.design import (
    ParameterInfo,
    ParameterSpec,
    RunSpec,
    _PathProblem,
    _Spec,
    read_spec_file,
    resolve_parameter,
)
from moatsim.experiments.robustness import assumption_parameters
from moatsim.experiments.sweep import (
    FAILURES,
    ID_COLUMNS,
    RESULTS,
    TARGET_PREFIX,
    Job,
    SweepError,
    SweepFolder,
    _bar,
    _check_out,
    _jsonable,
    _now,
    batch_size,
    make_executor,
    manifest_record,
    open_folder,
    recording,
)
from moatsim.history import LAST_OBSERVATION, QUANTITIES, Check, history_checks
from moatsim.loading import _suggest, beside_or_bundled, load_scenario, locate
from moatsim.scenario import Identifier, Scenario

FORMAT = "moatsim-calibration/1"
POINTS = "points.parquet"
GENERATION = "generation"
BASE_GENERATION = -1
"""The hand-set scenario's own values, evaluated first on the same seeds."""
SOBOL_GENERATION = 0


Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, ``YYYY-MM``."""


class TargetSpec(_Spec):
    """A target: a check of ``seeds/history.yaml`` (by its id) or one of the file's own."""

    weight: float = Field(1.0, gt=0, le=1000, description="weight in the loss")
    quantity: str | None = Field(None, description="a quantity of model/history.py (own "
                                 "targets only)")
    value: float | None = Field(None, description="observed value (own targets only)")
    low: float | None = Field(None, description="lower end of the tolerance band")
    high: float | None = Field(None, description="upper end of the tolerance band")
    unit: str = Field("", max_length=40)
    firm: Identifier | None = None
    segment: Identifier | None = None
    investor: Identifier | None = None
    date: Month | None = None
    period: tuple[Month, Month] | None = Field(None, description="[from, to], months included")

    @model_validator(mode="after")
    def _ordered(self) -> TargetSpec:
        if self.period is not None and self.period[0] > self.period[1]:
            raise ValueError(f"period must be [from, to] with from ≤ to, got {list(self.period)}")
        return self

    @property
    def own(self) -> bool:
        return self.quantity is not None

    def arguments(self) -> dict[str, Any]:
        names = ("firm", "segment", "investor", "date", "period")
        return {n: (list(v) if n == "period" else v) for n in names
                if (v := getattr(self, n)) is not None}


class SearchSpec(_Spec):
    """How many points the search tries."""

    initial_points: StrictInt = Field(64, ge=8, le=65536,
                                      description="Sobol points (a power of 2)")
    population: StrictInt = Field(16, ge=5, le=4096,
                                  description="differential evolution: points per generation")
    budget_runs: StrictInt = Field(ge=1, le=10_000_000,
                                   description="most runs in all (points × replicates)")


class Calibration(_Spec):
    """A calibration: a base scenario, assumed parameters with bounds, targets and a search."""

    name: Identifier = Field(description="calibration name (defaults to the file name)")
    description: str = Field(description="one line saying what is fitted to what")
    scenario: str = Field(description="base scenario file, relative to this file, or a "
                          "bundled scenario's name")
    months: StrictInt | None = Field(
        None, ge=1, le=600, description=f"months per run (default: to {LAST_OBSERVATION})")
    replicates: StrictInt = Field(4, ge=1, le=1000, description="seeds per point")
    seed: StrictInt = Field(1, ge=0, le=2**31, description="first seed; also seeds the search")
    parameters: dict[str, ParameterSpec] = Field(min_length=1, max_length=20)
    targets: dict[str, TargetSpec] = Field(min_length=1, max_length=200)
    search: SearchSpec
    accept_loss: float = Field(1.0, gt=0, le=1e6,
                               description="a point is acceptable when its loss is at most this")


# ---------------------------------------------------------------- loading


@dataclass
class LoadedCalibration:
    """A validated calibration with its base scenario, parameters and checks."""

    calibration: Calibration
    file: str
    scenario_file: Path
    base: Scenario
    parameters: list[ParameterInfo]
    checks: list[Check]
    weights: list[float]
    months: int

    @property
    def name(self) -> str:
        return self.calibration.name

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """Each parameter's range in the sampling space (log10 for ``scale: log``)."""
        return [sensitivity.to_sampling_space(p.low, p.high, p.scale) for p in self.parameters]

    def values(self, x: np.ndarray) -> dict[str, Any]:
        """Sampling-space coordinates → parameter values."""
        return {p.path: sensitivity.to_values(np.array([xi]), scale=p.scale, kind=p.kind)[0]
                for p, xi in zip(self.parameters, x, strict=True)}

    def base_values(self) -> dict[str, Any]:
        return {p.path: p.base for p in self.parameters}

    def run_count(self) -> int:
        return self.calibration.search.budget_runs


def _bounded(info: ParameterInfo, spec: ParameterSpec) -> ParameterInfo:
    low, high = spec.range
    return ParameterInfo(**{**info.to_dict(), "label": spec.label or info.label,
                            "scale": spec.scale, "low": float(low), "high": float(high)})


def _last_date(check: Check) -> str:
    if "date" in check.args:
        return str(check.args["date"])
    return str(check.args["period"][1])


def load_calibration(path: str | Path) -> LoadedCalibration:
    """A validated calibration from a YAML file or a bundled calibration's name
    (``"baseline"``); :class:`ScenarioError` on any bad input."""
    file = locate("calibrations", path)
    path = path if file == Path(path) else file
    shown = str(path)
    calibration, fail = read_spec_file(path, Calibration, "a calibration", "c")

    scenario_file = beside_or_bundled(file, calibration.scenario)
    if not scenario_file.exists():
        fail(("scenario",), f"scenario file not found: {scenario_file}")
    base = load_scenario(scenario_file)
    last = month_index(base.start, LAST_OBSERVATION) + 1
    months = calibration.months or last
    if months > last:
        fail(("months",), f"{months} months run past {LAST_OBSERVATION} "
             f"({month_label(base.start, months - 1)}); fit to observations up to "
             f"{LAST_OBSERVATION} only, later years are kept for validation")
    end = month_label(base.start, months - 1)

    assumed = {a.path: a for a in assumption_parameters(base)}
    parameters = []
    for dotted, spec in calibration.parameters.items():
        where = ("parameters", dotted)
        try:
            info = resolve_parameter(base, dotted)
        except _PathProblem as problem:
            fail(where, str(problem))
        if dotted not in assumed:
            fail(where, f"{dotted} is sourced to a fact ({info.source!r}); only parameters "
                 "whose source is an assumption are fitted")
        if info.kind == "bool" or spec.range is None or spec.values is not None:
            fail(where, "give range: [low, high] (a number the search can vary)")
        if spec.points is not None:
            fail((*where, "points"), "points is for grid sweeps; the search chooses points")
        for value in spec.range:
            if info.low is not None and value < info.low or info.high is not None and \
                    value > info.high:
                fail((*where, "range"), f"{value:g} is outside the range of {dotted}: "
                     f"{info.low:g} – {info.high:g} {info.unit}")
        source = assumed[dotted].source
        parameters.append(_bounded(ParameterInfo(**{**info.to_dict(), "source": source}),
                                   spec))

    known = {c.id: c for c in history_checks()}
    checks, weights = [], []
    for target_id, spec in calibration.targets.items():
        where = ("targets", target_id)
        if spec.own:
            check = _own_check(target_id, spec, where, fail)
        else:
            if target_id not in known:
                fail(where, f"unknown target {target_id!r}{_suggest(target_id, list(known))}; "
                     "name a check of seeds/history.yaml or give quantity, value, low and high")
            extra = [k for k in ("value", "low", "high", "firm", "segment", "investor", "date",
                                 "period") if getattr(spec, k) is not None]
            if extra:
                fail((*where, extra[0]), f"{target_id} is a history check: its {extra[0]} is "
                     "seeds/history.yaml's; give only weight")
            check = known[target_id]
        if not check.low < check.high:
            fail(where, f"{target_id}'s band {check.band} has no width (a yes/no target); hold it "
                 "in validation (moatsim patterns), not in a fit by distance")
        if _last_date(check) > end:
            fail(where, f"{target_id} is observed in {_last_date(check)}, after the runs end "
                 f"({end}); raise months:")
        checks.append(check)
        weights.append(spec.weight)

    loaded = LoadedCalibration(calibration, shown, scenario_file, base, parameters, checks,
                               weights, months)
    if not sensitivity.is_power_of_two(calibration.search.initial_points):
        fail(("search", "initial_points"), "must be a power of 2 (a balanced Sobol sample), "
             f"got {calibration.search.initial_points}")
    per_point = calibration.replicates
    minimum = (1 + calibration.search.initial_points + calibration.search.population) * per_point
    if calibration.search.budget_runs < minimum:
        fail(("search", "budget_runs"), f"{calibration.search.budget_runs} runs do not cover "
             f"the hand-set point, {calibration.search.initial_points} Sobol points and one "
             f"generation of {calibration.search.population} × {per_point} replicates "
             f"({minimum} runs)")
    return loaded


def _own_check(target_id: str, spec: TargetSpec, where: tuple[str, ...],
               fail: Callable[..., typing.NoReturn]) -> Check:
    if spec.quantity not in QUANTITIES:
        fail((*where, "quantity"), f"unknown quantity {spec.quantity!r}"
             f"{_suggest(spec.quantity or '', list(QUANTITIES))}")
    for key in ("value", "low", "high"):
        if getattr(spec, key) is None:
            fail(where, f"a target of one's own needs {key}:")
    if not spec.low <= spec.value <= spec.high:
        fail(where, f"value {spec.value:g} is outside its band [{spec.low:g}, {spec.high:g}]")
    args = spec.arguments()
    if "date" not in args and "period" not in args:
        fail(where, "a target needs a date: (YYYY-MM) or a period: [from, to]")
    for date in [args.get("date")] + list(args.get("period") or []):
        if date is not None and date > LAST_OBSERVATION:
            fail(where, f"{date} is after {LAST_OBSERVATION}; later years are kept for "
                 "validation")
    import inspect

    accepted = set(inspect.signature(QUANTITIES[spec.quantity]).parameters) - {"run"}
    for key in args:
        if key not in accepted:
            fail((*where, key), f"{spec.quantity} takes {', '.join(sorted(accepted))}, "
                 f"not {key}")
    missing = accepted - set(args) - {"scenario"}
    if missing:
        fail(where, f"{spec.quantity} needs {', '.join(sorted(missing))}")
    return Check(id=target_id, target=target_id, quantity=spec.quantity, value=spec.value,
                 low=spec.low, high=spec.high, unit=spec.unit, args=args)


# ---------------------------------------------------------------- loss


def deviation(simulated: float, check: Check) -> float:
    """Distance of ``simulated`` from the observed value in units of the band on that side
    (≤ 1 inside the band; NaN if the run cannot speak to it)."""
    if simulated is None or not math.isfinite(simulated):
        return math.nan
    if simulated >= check.value:
        span = check.high - check.value
        if math.isinf(span):
            return 0.0
        return (simulated - check.value) / span if span > 0 else \
            (0.0 if simulated == check.value else math.inf)
    span = check.value - check.low
    return (check.value - simulated) / span if span > 0 else math.inf


def loss(deviations: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of squared deviations; ∞ if a target cannot be computed."""
    if not np.all(np.isfinite(deviations)):
        return math.inf
    return float(np.sum(weights * deviations ** 2) / np.sum(weights))


def summarize_point(values: pd.DataFrame, loaded: LoadedCalibration) -> dict[str, Any]:
    """A point's replicates → each target's median, 5th and 95th percentile, deviation, and
    the loss."""
    row: dict[str, Any] = {}
    deviations = []
    for check in loaded.checks:
        column = values[f"{TARGET_PREFIX}{check.id}"].to_numpy(dtype=float)
        finite = column[np.isfinite(column)]
        median = float(np.median(finite)) if finite.size else math.nan
        row[f"median:{check.id}"] = median
        row[f"p5:{check.id}"] = float(np.percentile(finite, 5)) if finite.size else math.nan
        row[f"p95:{check.id}"] = float(np.percentile(finite, 95)) if finite.size else math.nan
        d = deviation(median, check)
        row[f"deviation:{check.id}"] = d
        deviations.append(d)
    row["loss"] = loss(np.array(deviations), np.array(loaded.weights))
    return row


# ---------------------------------------------------------------- the search


class _BudgetSpent(Exception):
    """Raised inside the evolution's map when the next generation does not fit the budget."""


class Evaluator:
    """Runs points (every replicate), keeps their runs on disk, and remembers each point.

    A point is identified by its parameter values: proposing the same values again (the
    evolution's first generation re-proposes the best Sobol points) costs nothing. Runs
    already on disk (a resumed calibration) are read, not run again; their parameters must
    be those proposed, or the folder holds another calibration's runs.
    """

    def __init__(self, loaded: LoadedCalibration, folder: SweepFolder, executor: Any,
                 done: pd.DataFrame, progress: Any):
        self.loaded = loaded
        self.folder = folder
        self.executor = executor
        self.done = {int(r): i for i, r in enumerate(done["run_id"])} if len(done) else {}
        self.done_table = done
        self.progress = progress
        self.key_to_point: dict[tuple[Any, ...], int] = {}
        self.points: list[dict[str, Any]] = []
        self.runs_used = 0
        self.executed = 0
        self.reused = 0
        self.failed = 0
        replicates = loaded.calibration.replicates
        schema = [pa.field(n, pa.int64()) for n in (*ID_COLUMNS, GENERATION)]
        kinds = {"float": pa.float64(), "int": pa.int64()}
        schema += [pa.field(p.path, kinds[p.kind]) for p in loaded.parameters]
        schema += [pa.field(f"{TARGET_PREFIX}{c.id}", pa.float64()) for c in loaded.checks]
        self.schema = pa.schema(schema)
        self.failure_schema = pa.schema(
            [*schema[: 5 + len(loaded.parameters)], pa.field("error", pa.string()),
             pa.field("traceback", pa.string())])
        self.replicates = replicates

    def evaluate(self, params: list[dict[str, Any]], generation: int,
                 coordinates: np.ndarray | None = None) -> np.ndarray:
        """The loss of each point (in order), running what is not yet known."""
        loaded = self.loaded
        keys = [tuple(values[p] for p in loaded.paths) for values in params]
        fresh = list(dict.fromkeys(k for k in keys if k not in self.key_to_point))
        needed = len(fresh) * self.replicates
        if self.runs_used + needed > loaded.calibration.search.budget_runs:
            raise _BudgetSpent
        self.runs_used += needed
        new: list[int] = []
        for index, (key, values) in enumerate(zip(keys, params, strict=True)):
            if key in self.key_to_point:
                continue
            point = len(self.points)
            self.key_to_point[key] = point
            self.points.append({"point": point, GENERATION: generation, **values,
                                **({f"x:{p}": float(c) for p, c in zip(
                                    loaded.paths, coordinates[index], strict=True)}
                                   if coordinates is not None else {})})
            new.append(point)
        ids = [self.key_to_point[key] for key in keys]
        specs = [RunSpec(point * self.replicates + r, point, r,
                         loaded.calibration.seed + r,
                         {p: self.points[point][p] for p in loaded.paths})
                 for point in new for r in range(self.replicates)]
        rows: dict[int, dict[str, Any]] = {}
        todo = []
        for spec in specs:
            if spec.run_id in self.done:
                rows[spec.run_id] = self._read_done(spec)
                self.reused += 1
            else:
                todo.append(spec)
        if todo:
            size = batch_size(len(todo), self.executor.slots)
            for spec, outcome in self.executor.map(iter(todo), size):
                rows[spec.run_id] = self._write(spec, outcome, generation)
                self.progress.update(1)
        for point in new:
            replicate_rows = pd.DataFrame([rows[point * self.replicates + r]
                                           for r in range(self.replicates)])
            self.points[point].update(summarize_point(replicate_rows, loaded))
        return np.array([self.points[i]["loss"] for i in ids], dtype=float)

    def _read_done(self, spec: RunSpec) -> dict[str, Any]:
        row = self.done_table.iloc[self.done[spec.run_id]].to_dict()
        for path, value in spec.params.items():
            if row.get(path) != value:
                raise SweepError(f"--out {self.folder.root}: run {spec.run_id} was made with "
                                 f"{path} = {row.get(path)!r}, not {value!r}; the folder holds "
                                 "another calibration's runs")
        return row

    def _write(self, spec: RunSpec, outcome: dict[str, Any], generation: int) -> dict[str, Any]:
        ids = {"run_id": spec.run_id, "point": spec.point, "replicate": spec.replicate,
               "seed": spec.seed, GENERATION: generation}
        self.executed += 1
        if outcome["ok"]:
            row = {**ids, **spec.params, **outcome["values"]}
            self.folder.write_table(RESULTS, spec.run_id,
                                    pa.Table.from_pylist([row], schema=self.schema))
            return row
        self.failed += 1
        row = {**ids, **spec.params, "error": outcome["error"],
               "traceback": outcome["traceback"]}
        self.folder.write_table(FAILURES, spec.run_id,
                                pa.Table.from_pylist([row], schema=self.failure_schema))
        # a failed run speaks to no target: the point's loss is ∞
        return {**ids, **spec.params, **{f"{TARGET_PREFIX}{c.id}": math.nan
                                         for c in self.loaded.checks}}

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.points)


def search(loaded: LoadedCalibration, evaluator: Evaluator) -> None:
    """The hand-set point, the Sobol stage, then differential evolution to the budget."""
    from scipy.optimize import differential_evolution
    from scipy.stats import qmc

    cal = loaded.calibration
    evaluator.evaluate([loaded.base_values()], BASE_GENERATION)
    bounds = np.array(loaded.bounds, dtype=float)
    sobol = qmc.Sobol(d=len(bounds), scramble=True, rng=np.random.default_rng(cal.seed))
    unit = sobol.random_base2(int(math.log2(cal.search.initial_points)))
    x = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    losses = evaluator.evaluate([loaded.values(row) for row in x], SOBOL_GENERATION, x)

    order = np.lexsort((np.arange(len(x)), losses))  # best first, ties by Sobol order
    init = x[order[: cal.search.population]]
    generation = [SOBOL_GENERATION]

    def population_map(_func: Any, members: Any) -> list[float]:
        coordinates = np.array(list(members), dtype=float)
        generation[0] += 1
        return list(evaluator.evaluate([loaded.values(row) for row in coordinates],
                                       generation[0], coordinates))

    integrality = [p.kind == "int" and p.scale == "linear" for p in loaded.parameters]
    per_generation = cal.search.population * cal.replicates
    generations = max(1, cal.search.budget_runs // per_generation)
    try:
        differential_evolution(
            _unused_objective, bounds, init=init, maxiter=generations, polish=False,
            updating="deferred", workers=population_map, tol=0.0, atol=0.0,
            rng=np.random.default_rng(cal.seed), integrality=integrality if any(integrality)
            else None)
    except _BudgetSpent:
        pass


def _unused_objective(x: np.ndarray) -> float:  # pragma: no cover - the map never calls it
    raise AssertionError("differential evolution evaluates through Evaluator.evaluate")


# ---------------------------------------------------------------- the calibration run


class CalibrationFolder(SweepFolder):
    """A calibration's output folder: a sweep folder with its points and outputs."""

    format = FORMAT
    kind = "calibration"
    subject = "calibration file"
    own_entries = SweepFolder.own_entries | {POINTS, "report.html", "report.md", "figures",
                                             "calibrated.yaml"}


@dataclass
class CalibrationSummary:
    """How a calibration went."""

    name: str
    out: Path
    points: pd.DataFrame
    runs_used: int
    executed: int
    failed: int
    seconds: float
    executor: str
    budget: int
    reused: int = 0
    accept: float = 1.0

    @property
    def best(self) -> pd.Series:
        return self.points.loc[self.points["loss"].idxmin()]

    @property
    def base(self) -> pd.Series:
        return self.points.loc[self.points[GENERATION] == BASE_GENERATION].iloc[0]

    def text(self) -> str:
        rate = self.executed / self.seconds * 60 if self.seconds > 0 and self.executed else 0
        accepted = int((self.points["loss"] <= self.accept).sum())
        return (f"{self.name}: {len(self.points)} points, {self.runs_used} of {self.budget} "
                f"runs ({self.executed} this session in {self.seconds:.1f} s, {rate:,.0f} "
                f"runs/min on {self.executor}; {self.failed} failed); loss {self.base['loss']:.4g} "
                f"hand-set → {self.best['loss']:.4g} best; {accepted} acceptable points"
                + (f"\nresumed: {self.reused} runs were already done and not redone"
                   if self.reused else ""))


def fingerprint(loaded: LoadedCalibration) -> str:
    """A hash of everything the calibration's runs and search depend on."""
    cal = loaded.calibration
    payload = {
        "scenario": loaded.base.model_dump(mode="json"),
        "months": loaded.months,
        "parameters": [(p.path, p.low, p.high, p.scale, p.kind) for p in loaded.parameters],
        "checks": [(c.id, c.quantity, c.args, c.value, c.low, c.high) for c in loaded.checks],
        "weights": loaded.weights,
        "replicates": cal.replicates,
        "seed": cal.seed,
        "search": cal.search.model_dump(),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()


def run_calibration(calibration: str | Path | LoadedCalibration, out: str | Path, *,
                    workers: int | None = None, scheduler: str | None = None,
                    resume: bool = False, force: bool = False,
                    progress: bool = False) -> CalibrationSummary:
    """Run the calibration into ``out`` (see the module docstring); ``points.parquet`` holds
    one row per point: its generation, parameters, each target's median, band and deviation,
    and the loss. Raises :class:`ScenarioError` or :class:`SweepError` before writing anything
    when the file, the folder or the scheduler cannot be used."""
    loaded = calibration if isinstance(calibration, LoadedCalibration) \
        else load_calibration(calibration)
    fp = fingerprint(loaded)
    folder = CalibrationFolder(out)
    move_aside = _check_out(folder, loaded, fp, resume=resume, force=force)
    previous = None if move_aside else folder.check(loaded.file, fp, resume)
    job = Job(scenario=loaded.base, months=loaded.months, final=(), checks=tuple(loaded.checks))
    executor = make_executor(job, workers, scheduler)
    started = time.perf_counter()
    session = open_folder(folder, executor, move_aside, scheduler)
    try:
        folder.prepare()
        done = _read_runs(folder.root / RESULTS)
        failed = _read_runs(folder.root / FAILURES)
        if len(failed):
            failed = failed.assign(**{f"{TARGET_PREFIX}{c.id}": math.nan for c in loaded.checks})
            done = pd.concat([done, failed[done.columns.intersection(failed.columns)]],
                             ignore_index=True) if len(done) else failed
        session["done_at_start"] = len(done)
        folder.write_json(folder.manifest_path, _manifest(loaded, fp, previous, session))
        bar = _bar(loaded.name, loaded.run_count(), 0, 0, progress)
        evaluator = Evaluator(loaded, folder, executor, done, bar)
        try:
            with recording(session, bar):
                search(loaded, evaluator)
        finally:
            session["executed"] = evaluator.executed
        points = evaluator.table()
        outfolder.write_file_atomically(folder.root / POINTS,
                                        lambda temp: points.to_parquet(temp, index=False))
        return CalibrationSummary(
            name=loaded.name, out=folder.root, points=points, runs_used=evaluator.runs_used,
            executed=evaluator.executed, failed=evaluator.failed,
            seconds=time.perf_counter() - started, executor=executor.description,
            budget=loaded.run_count(), reused=evaluator.reused,
            accept=loaded.calibration.accept_loss)
    finally:
        executor.close()
        session["finished"] = _now()
        session["seconds"] = round(time.perf_counter() - started, 3)
        manifest = folder.manifest() or {}
        if manifest.get("sessions"):
            manifest["sessions"][-1] = session
            manifest["status"] = session["status"]
            folder.write_json(folder.manifest_path, manifest)
        folder.unlock()


def _read_runs(path: Path) -> pd.DataFrame:
    from moatsim.experiments.sweep import _read_folder

    return _read_folder(path)


def _manifest(loaded: LoadedCalibration, fp: str, previous: dict[str, Any] | None,
              session: dict[str, Any]) -> dict[str, Any]:
    targets = [{"id": c.id, "target": c.target, "quantity": c.quantity, "args": c.args,
                "value": c.value, "low": c.low, "high": c.high, "unit": c.unit, "weight": w}
               for c, w in zip(loaded.checks, loaded.weights, strict=True)]
    return manifest_record(FORMAT, fp, previous, session, loaded,
                           calibration_file=str(loaded.file),
                           calibration=loaded.calibration.model_dump(mode="json"),
                           replicates=loaded.calibration.replicates, targets=targets)


def read_points(out: str | Path) -> pd.DataFrame:
    """The points of a finished calibration (``points.parquet``)."""
    return pd.read_parquet(Path(out) / POINTS)


def describe_plan(loaded: LoadedCalibration) -> str:
    cal = loaded.calibration
    return (f"calibrate {loaded.name}: {len(loaded.parameters)} parameters, "
            f"{len(loaded.checks)} targets, {cal.replicates} replicates per point (seeds "
            f"{cal.seed}…{cal.seed + cal.replicates - 1}), {cal.search.initial_points} Sobol "
            f"points then differential evolution ({cal.search.population} a generation), at "
            f"most {cal.search.budget_runs:,} runs of {loaded.months} months "
            f"(to {month_label(loaded.base.start, loaded.months - 1)})")


__all__ = ["Calibration", "CalibrationSummary", "LoadedCalibration", "deviation",
           "describe_plan", "load_calibration", "loss", "read_points", "run_calibration"]
