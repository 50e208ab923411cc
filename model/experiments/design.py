"""Experiment files: which parameters a sweep varies, how, over which seeds, and what it keeps.

An experiment is YAML validated by :class:`Experiment`, with the same one-line errors as a
scenario (``file:line: key.path: message``, :class:`moatsim.loading.ScenarioError`)::

    description: How switching costs and brand decay decide the first mover's fate
    scenario: ../scenarios/baseline.yaml   # relative to this file
    design: grid                           # grid, latin_hypercube, sobol or morris
    replicates: 5                          # seeds seed, seed+1, … seed+4 at every point
    seed: 1
    months: 96
    parameters:
      first_mover.switching_cost_utils: {values: [0.5, 1, 2, 5], label: switching cost}
      first_mover.brand_half_life_months: {range: [3, 48], points: 4, scale: log}
    metrics:
      final: [first_mover_share, hhi, P1, P2]   # one value per run
      timeseries: [first_mover_share]           # one value per run and month
      every: 3                                  # months between time-series points

Parameter paths are those of ``--set`` and docs/parameters.md (``firms.openai.cash_musd``);
each must name a parameter declared with a unit and a range in :mod:`moatsim.scenario`, and
every value must lie in that range. A grid takes ``values`` or a ``range`` with ``points``;
the sampled designs take a ``range`` and a number of ``samples``.

Runs are numbered ``run_id = point × replicates + replicate`` and use
``seed = seed + replicate``: every design point sees the same seeds (common random numbers),
so differences between points are not seed noise, and a run's result depends only on the
experiment file.
"""

from __future__ import annotations

import itertools
import math
import typing
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from moatsim.experiments import outcomes, sensitivity
from moatsim.loading import (
    OVERRIDE_ORIGIN,
    Origins,
    ScenarioError,
    _line_of,
    _message,
    _named_loc,
    _read_yaml,
    _suggest,
    beside_or_bundled,
    default_name,
    load_scenario,
    locate,
)
from moatsim.params import param_meta
from moatsim.scenario import Identifier, Scenario

DESIGNS = ("grid", *sensitivity.SAMPLED_DESIGNS)
MAX_RUNS = 10_000_000


class _Spec(BaseModel):
    """Unknown keys are errors and numbers must be finite (no ``.nan``, ``.inf``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Spec = typing.TypeVar("Spec", bound=_Spec)

Value = StrictBool | StrictInt | float  # float also reads YAML 1.1 strings like 1.0e9


class ParameterSpec(_Spec):
    """How one parameter varies: a list of ``values`` or a ``range`` (with ``points`` on grids)."""

    values: list[Value] | None = Field(None, min_length=1, max_length=10_000,
                                       description="values to run (grid designs)")
    range: tuple[float, float] | None = Field(
        None, description="[low, high]: the span sampled, or split into `points` on a grid")
    points: StrictInt | None = Field(None, ge=2, le=10_000,
                               description="grid points across the range, ends included")
    scale: Literal["linear", "log"] = Field(
        "linear", description="spread points (and plot them) on a linear or a log scale")
    label: str | None = Field(None, max_length=60, description="name shown in reports")

    @model_validator(mode="after")
    def _one_form(self) -> ParameterSpec:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values: [...] or range: [low, high]")
        if self.values is not None and self.points is not None:
            raise ValueError("points goes with range, not with values")
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range must be [low, high] with low < high, got {[low, high]}")
            if self.scale == "log" and low <= 0:
                raise ValueError("a log scale needs a range above 0")
        if self.values is not None and self.scale == "log" and any(
                isinstance(v, bool) or v <= 0 for v in self.values):
            raise ValueError("a log scale needs values above 0")
        return self


class MetricSpec(_Spec):
    """What each run keeps."""

    final: list[str] = Field(default_factory=lambda: list(outcomes.DEFAULT_FINAL),
                             min_length=1, description="metrics kept as final values")
    timeseries: list[str] = Field(default_factory=list,
                                  description="metrics kept month by month (long format)")
    every: StrictInt = Field(1, ge=1, le=600, description="months between time-series points")
    key: list[str] | None = Field(
        None, min_length=1, description="metrics a report plots (default: a few of `final`)")


class Experiment(_Spec):
    """A parameter sweep: a base scenario, parameters to vary, a design, seeds and outputs."""

    name: Identifier = Field(description="experiment name (defaults to the file name)")
    description: str = Field(description="one line saying what the sweep asks")
    scenario: str = Field(description="base scenario file, relative to the experiment file, "
                          "or a bundled scenario's name")
    design: Literal["grid", "latin_hypercube", "sobol", "morris"] = "grid"
    parameters: dict[str, ParameterSpec] = Field(min_length=1, max_length=50)
    samples: StrictInt | None = Field(
        None, ge=1, le=1_000_000,
        description="latin_hypercube: points; sobol: base samples N (a power of 2); "
        "morris: trajectories")
    levels: StrictInt = Field(4, ge=2, le=50, description="morris: grid levels")
    second_order: StrictBool = Field(False, description="sobol: also second-order indices")
    replicates: StrictInt = Field(1, ge=1, le=100_000, description="seeds per design point")
    seed: StrictInt = Field(1, ge=0, le=2**31, description="first seed; also seeds the sampler")
    months: StrictInt | None = Field(None, ge=1, le=600,
                               description="months per run (default: the scenario's)")
    overrides: dict[str, Any] = Field(default_factory=dict,
                                      description="fixed changes to the base scenario")
    metrics: MetricSpec = Field(default_factory=MetricSpec)


# ---------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ParameterInfo:
    """A varied parameter, resolved against the schema and the base scenario."""

    path: str
    label: str
    unit: str
    kind: str  # float, int or bool
    description: str
    source: str
    base: Any  # value in the base scenario (with the experiment's overrides)
    low: float | None
    high: float | None
    scale: str = "linear"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_UNIT_SUFFIXES = ("_usd_per_user_month", "_musd_month", "_per_year", "_per_usd", "_per_point",
                  "_monthly", "_musd", "_utils", "_points", "_months", "_usd")


def default_label(path: str) -> str:
    """``first_mover.switching_cost_utils`` → ``switching cost``;
    ``firms.openai.cash_musd`` → ``openai cash``."""
    parts = path.split(".")
    last = parts[-1]
    for suffix in _UNIT_SUFFIXES:
        if last.endswith(suffix) and len(last) > len(suffix):
            last = last[: -len(suffix)]
            break
    words = last.replace("_", " ")
    entry = parts[-2] if len(parts) >= 3 and parts[0] in {
        "firms", "segments", "cohorts"} else None
    return f"{entry.replace('_', ' ')} {words}" if entry else words


class _PathProblem(Exception):
    pass


def resolve_parameter(scenario: Scenario, dotted: str) -> ParameterInfo:
    """The schema's unit, range and doc for ``dotted`` and its value in ``scenario``.

    Raises :class:`ValueError` (a one-line message with a suggestion) for a path that does
    not name a declared parameter of this scenario.
    """
    parts = dotted.split(".")
    node: Any = scenario
    walked: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            if part not in fields:
                where = ".".join(walked) or "the scenario"
                choices = [n for n, f in fields.items() if n != "sources"]
                raise _PathProblem(f"unknown parameter {part!r} in {where}"
                                   f"{_suggest(part, choices)}")
            field = fields[part]
            value = getattr(node, part)
            if last:
                return _leaf(node, part, field, value, dotted)
            node = value
        elif isinstance(node, list):
            ids = [str(getattr(entry, "id", i)) for i, entry in enumerate(node)]
            if part not in ids:
                raise _PathProblem(f"no entry with id {part!r} in {'.'.join(walked)}"
                                   f"{_suggest(part, ids)}")
            if last:
                raise _PathProblem("names a whole entry; vary one of its parameters")
            node = node[ids.index(part)]
        elif isinstance(node, dict):
            keys = [str(k) for k in node]
            if part not in keys:
                raise _PathProblem(f"no key {part!r} in {'.'.join(walked)}"
                                   f"{_suggest(part, keys)}")
            node = node[list(node)[keys.index(part)]]
            if last or not isinstance(node, BaseModel):
                raise _PathProblem(f"{dotted} has no unit or range in the schema; only "
                                   "parameters listed in docs/parameters.md can be varied")
        else:
            raise _PathProblem(f"{'.'.join(walked)} is a value, not a section")
        walked.append(part)
    raise _PathProblem("empty parameter path")


def _leaf(owner: BaseModel, name: str, field: Any, value: Any, dotted: str) -> ParameterInfo:
    meta = param_meta(field)
    if not meta:
        raise _PathProblem(f"{name!r} is not a numeric parameter (no unit or range in the "
                           "schema); set it in the scenario or under overrides")
    if dotted == "months":
        raise _PathProblem("months is set for the whole experiment (top-level months:)")
    description = field.description or ""
    kind_tag = description.split("]", 1)[0][1:] if description.startswith("[") else ""
    firm_kind = getattr(owner, "kind", None)
    if kind_tag and firm_kind is not None and firm_kind not in [
            t.strip() for t in kind_tag.split(",")]:
        raise _PathProblem(f"{name!r} applies to {kind_tag} firms only, and "
                           f"{getattr(owner, 'id', '?')} is a {firm_kind}")
    annotation = field.annotation
    kind = "bool" if annotation is bool else "int" if annotation is int else "float"
    low = meta.get("ge", meta.get("gt"))
    high = meta.get("le", meta.get("lt"))
    return ParameterInfo(path=dotted, label=default_label(dotted), unit=meta["unit"], kind=kind,
                         description=description, source=meta["source"], base=value,
                         low=None if low is None else float(low),
                         high=None if high is None else float(high))


# ---------------------------------------------------------------- loading


@dataclass
class LoadedExperiment:
    """A validated experiment with its resolved base scenario and parameters."""

    experiment: Experiment
    file: str
    scenario_file: Path
    base: Scenario
    parameters: list[ParameterInfo]
    months: int

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    @property
    def key_metrics(self) -> list[str]:
        metrics = self.experiment.metrics
        if metrics.key is not None:
            return list(metrics.key)
        chosen = [m for m in outcomes.DEFAULT_KEY if m in metrics.final]
        return chosen or [m for m in metrics.final if not m.startswith("P")][:6] \
            or list(metrics.final[:6])

    def point_count(self) -> int:
        exp = self.experiment
        if exp.design == "grid":
            return math.prod(len(grid_values(spec, info))
                             for spec, info in zip(exp.parameters.values(), self.parameters))
        return sensitivity.points_for(exp.design, len(self.parameters), exp.samples or 0,
                                      second_order=exp.second_order)

    def run_count(self) -> int:
        return self.point_count() * self.experiment.replicates


Fail = typing.Callable[[tuple[str, ...], str], typing.NoReturn]


def read_spec_file(path: str | Path, schema: type[Spec], what: str,
                   prefix: str) -> tuple[Spec, Fail]:
    """A file of ``schema`` (an experiment, a calibration) read and validated, and a ``fail``
    that raises a one-line :class:`ScenarioError` at a key's line; ``what`` names the file's
    kind in messages ("an experiment") and ``prefix`` starts a default name that is not an
    identifier."""
    file = Path(path)
    shown = str(path)
    try:
        data, origins = _read_yaml(file)
    except ScenarioError as exc:
        if "a scenario must be a mapping" in exc.message:
            raise ScenarioError(shown, f"{what} must be a mapping of keys to values",
                                line=exc.line) from None
        raise
    if "name" not in data:
        data["name"] = default_name(file, shown, what.split()[-1], prefix=prefix)
    try:
        spec = schema.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, data, origins, shown, root=schema) from None

    def fail(where: tuple[str, ...], message: str) -> typing.NoReturn:
        _, line = _line_of(where, origins, shown)
        raise ScenarioError(shown, message, line=line, path=".".join(where))

    return spec, fail


def load_experiment(path: str | Path) -> LoadedExperiment:
    """A validated experiment from a YAML file or a bundled experiment's name
    (``"funding"``); :class:`ScenarioError` on any bad input."""
    file = locate("experiments", path)
    path = path if file == Path(path) else file
    shown = str(path)
    experiment, fail = read_spec_file(path, Experiment, "an experiment", "e")

    scenario_file = beside_or_bundled(file, experiment.scenario)
    if not scenario_file.exists():
        fail(("scenario",), f"scenario file not found: {scenario_file}")
    try:
        base = load_scenario(scenario_file, dict(experiment.overrides))
    except ScenarioError as exc:
        if exc.file.endswith(f"(from {OVERRIDE_ORIGIN})"):
            key = next((k for k in experiment.overrides
                        if exc.path == k or exc.path.startswith(f"{k}.")
                        or k.startswith(f"{exc.path}.")), exc.path)
            fail(("overrides", key), exc.message)
        raise
    months = experiment.months or base.months
    if experiment.design != "grid" and experiment.samples is None:
        fail(("design",), f"a {experiment.design} design needs samples: at the top level")
    if experiment.design == "sobol" and not sensitivity.is_power_of_two(experiment.samples):
        fail(("samples",), f"a sobol design needs a power of 2 for samples (Saltelli), got "
             f"{experiment.samples}")
    if experiment.design == "grid" and experiment.samples is not None:
        fail(("samples",), "samples is for latin_hypercube, sobol and morris designs")

    parameters = []
    for path, spec in experiment.parameters.items():
        where = ("parameters", path)
        try:
            info = resolve_parameter(base, path)
        except _PathProblem as problem:
            fail(where, str(problem))
        if path in experiment.overrides:
            fail(where, "is also set under overrides; vary it or fix it, not both")
        info = ParameterInfo(**{**info.to_dict(), "label": spec.label or info.label,
                                "scale": spec.scale})
        _check_spec(experiment, spec, info, where, fail)
        parameters.append(info)

    known = outcomes.known_metrics(base.segment_ids())
    series_known = outcomes.known_metrics(base.segment_ids(), series=True)
    for section, names, valid in (("final", experiment.metrics.final, known),
                                  ("timeseries", experiment.metrics.timeseries, series_known),
                                  ("key", experiment.metrics.key or [], known)):
        seen: set[str] = set()
        for name in names:
            if name not in valid:
                hint = " (it is a final value only)" if section == "timeseries" and \
                    name in known else _suggest(name, valid)
                fail(("metrics", section), f"unknown metric {name!r}{hint}")
            if name in seen:
                fail(("metrics", section), f"{name!r} is listed twice")
            seen.add(name)
    for name in experiment.metrics.key or []:
        if name not in experiment.metrics.final:
            fail(("metrics", "key"), f"key metric {name!r} must also be in metrics.final")

    loaded = LoadedExperiment(experiment, shown, scenario_file, base, parameters, months)
    if loaded.run_count() > MAX_RUNS:
        fail(("parameters",), f"{loaded.run_count():,} runs is more than {MAX_RUNS:,}")
    return loaded


def _check_spec(experiment: Experiment, spec: ParameterSpec, info: ParameterInfo,
                where: tuple[str, ...], fail: Any) -> None:
    sampled = experiment.design != "grid"
    if info.kind == "bool":
        if sampled or spec.values is None:
            fail(where, f"{info.path} is a yes/no flag: give values: [true, false] on a "
                 "grid design")
        for value in spec.values:
            if not isinstance(value, bool):
                fail((*where, "values"), f"{info.path} is a yes/no flag; got {value!r}")
        return
    if sampled:
        if spec.range is None:
            fail(where, f"a {experiment.design} design samples a range: give "
                 "range: [low, high], not values")
        if spec.points is not None:
            fail((*where, "points"), f"points is for grid designs; a {experiment.design} "
                 "design takes samples: at the top level")
    elif spec.range is not None and spec.points is None:
        fail(where, "a grid over a range needs points: (how many values, ends included)")
    numbers = list(spec.values) if spec.values is not None else list(spec.range or ())
    key = "values" if spec.values is not None else "range"
    for value in numbers:
        if isinstance(value, bool):
            fail((*where, key), f"{info.path} is a number ({info.unit}); got {value!r}")
        if info.kind == "int" and spec.values is not None and not float(value).is_integer():
            fail((*where, key), f"{info.path} is a whole number ({info.unit}); got {value!r}")
        if info.low is not None and value < info.low or info.high is not None and \
                value > info.high:
            fail((*where, key), f"{value:g} is outside the range of {info.path}: "
                 f"{info.low:g} – {info.high:g} {info.unit}")
    if spec.values is not None and len(set(spec.values)) != len(spec.values):
        fail((*where, "values"), "values repeat")
    if spec.range is not None and spec.points is not None and info.kind == "int":
        values = grid_values(spec, info)
        if len(values) != spec.points:
            fail((*where, "points"), f"{spec.points} whole-number points do not fit in "
                 f"{list(spec.range)}")


def _first_error(exc: ValidationError, data: dict, origins: Origins, file: str,
                 root: type[BaseModel] | None = None) -> ScenarioError:
    """The first of pydantic's errors as one line naming the file, line and key; ``root`` is
    the file's schema (default :class:`Experiment`)."""
    errors = exc.errors()
    # an unknown key first: a misspelt required key is also reported as missing; then a
    # non-finite number (a union reports its bool and int branches first)
    error = next((e for e in errors if e["type"] == "extra_forbidden"),
                 next((e for e in errors if e["type"] == "finite_number"), errors[0]))
    raw_loc = tuple(part for part in error["loc"] if part != "[key]")
    # a union's error points at one of its branches (``bool``, ``int`` …): drop them
    loc = tuple(part for part in raw_loc if not (isinstance(part, str) and (
        "[" in part or part in {"bool", "int", "float", "function-after"})))
    if loc != raw_loc and error["type"] in {"bool_type", "int_type", "float_type",
                                            "bool_parsing"}:
        error = {**error, "msg": "expected a number or true/false"}
    path = _named_loc(loc, data)
    _, line = _line_of(path, origins, file)
    if error["type"] == "extra_forbidden":
        owner = _model_at(loc, root or Experiment)
        valid = [n for n in owner.model_fields] if owner else []
        message = f"unknown key {path[-1]!r}{_suggest(path[-1], valid)}"
    elif error["type"] == "missing":
        message = "required key is missing"
    else:
        got = error.get("input")
        text = _message(error)
        message = f"{text} (got {got!r})" if not isinstance(got, dict | list) else text
    return ScenarioError(file, message, line=line, path=".".join(path))


def _model_at(loc: tuple[Any, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    current: Any = root
    for part in loc[:-1]:
        args = [a for a in typing.get_args(current) if a is not type(None)]
        origin = typing.get_origin(current)
        if origin is dict and len(args) == 2:
            current = args[1]  # ``part`` is a key of the mapping
        elif origin in (list, tuple) and args:
            current = args[0]  # ``part`` is an index
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            inner = [a for a in typing.get_args(current) if a is not type(None)]
            if typing.get_origin(current) not in (dict, list, tuple) and len(inner) == 1:
                current = inner[0]  # X | None → X
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


# ---------------------------------------------------------------- design points


def grid_values(spec: ParameterSpec, info: ParameterInfo) -> list[Any]:
    """The values a grid runs for one parameter, in order."""
    if spec.values is not None:
        if info.kind == "float":
            return [float(v) for v in spec.values]
        if info.kind == "int":
            return [int(v) for v in spec.values]
        return list(spec.values)
    low, high = spec.range
    points = spec.points or 2
    raw = np.geomspace(low, high, points) if spec.scale == "log" else \
        np.linspace(low, high, points)
    if info.kind == "int":
        return sorted({int(round(v)) for v in raw})
    return [float(f"{v:.10g}") for v in raw]


@dataclass
class Design:
    """The design points: ``points`` has ``point`` and one column per parameter path;
    ``samples`` (sampled designs) the same points in the sampling space."""

    points: pd.DataFrame
    samples: np.ndarray | None
    bounds: list[tuple[float, float]] | None


def build_design(loaded: LoadedExperiment) -> Design:
    exp = loaded.experiment
    paths = loaded.paths
    specs = list(exp.parameters.values())
    if exp.design == "grid":
        grids = [grid_values(spec, info) for spec, info in zip(specs, loaded.parameters)]
        rows = list(itertools.product(*grids))
        columns = {path: [row[i] for row in rows] for i, path in enumerate(paths)}
        table = pd.DataFrame({"point": np.arange(len(rows), dtype=np.int64), **columns})
        return Design(_typed(table, loaded), None, None)
    bounds = [sensitivity.to_sampling_space(*spec.range, spec.scale) for spec in specs]
    x = sensitivity.sample(exp.design, paths, bounds, samples=exp.samples, seed=exp.seed,
                           levels=exp.levels, second_order=exp.second_order)
    columns = {path: sensitivity.to_values(x[:, i], scale=spec.scale, kind=info.kind)
               for i, (path, spec, info) in enumerate(zip(paths, specs, loaded.parameters))}
    table = pd.DataFrame({"point": np.arange(len(x), dtype=np.int64), **columns})
    return Design(_typed(table, loaded), x, bounds)


def _typed(table: pd.DataFrame, loaded: LoadedExperiment) -> pd.DataFrame:
    dtypes = {"float": "float64", "int": "int64", "bool": "bool"}
    return table.astype({p.path: dtypes[p.kind] for p in loaded.parameters})


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a design point and a replicate."""

    run_id: int
    point: int
    replicate: int
    seed: int
    params: dict[str, Any]


def runs(loaded: LoadedExperiment, design: Design,
         skip: set[int] | frozenset[int] = frozenset()) -> Iterator[RunSpec]:
    """Every run not in ``skip``, in run_id order (generated lazily: flat memory)."""
    exp = loaded.experiment
    paths = loaded.paths
    columns = [design.points[path].tolist() for path in paths]
    for point in range(len(design.points)):
        params = {path: columns[i][point] for i, path in enumerate(paths)}
        for replicate in range(exp.replicates):
            run_id = point * exp.replicates + replicate
            if run_id in skip:
                continue
            yield RunSpec(run_id, point, replicate, exp.seed + replicate, params)

