"""Parameter sweeps: every run of an experiment, on a local process pool or a Dask cluster,
streamed to Parquet, resumable after any interruption.

    >>> from moatsim.experiments.sweep import run_sweep, read_results
    >>> run_sweep("experiments/first_mover.yaml", "runs/first_mover", workers=2)
    >>> read_results("runs/first_mover")          # == pandas.read_parquet(".../results")

The output folder::

    DIR/manifest.json        the experiment, its base scenario, a fingerprint, the sessions
    DIR/design.parquet       one row per design point (and its sample-space coordinates)
    DIR/results/             one Parquet file per finished run: run_id, point, replicate,
                             seed, the varied parameters, the final metrics
    DIR/timeseries/          one Parquet file per finished run (if the experiment keeps time
                             series): run_id, month, metric, value
    DIR/failures/            one Parquet file per run that raised: its parameters and error
    DIR/.tmp/                files being written (moved into place with os.replace)

The folder is never one that holds anything else: a folder with other files is refused
(``force`` moves it aside to ``DIR.old-<date>-<time>``, never deletes it), and in ``.tmp`` only
the sweep's own temporary files (``<name>.<pid>.<hex>``) are ever removed.

A run's files are written to ``.tmp`` and renamed into place, the time series before the
result, so ``results/`` only ever holds whole files and a run counts as done exactly when its
result (or failure) file exists. ``--resume`` skips those runs and does the rest; a changed
experiment or scenario is refused (the fingerprint differs). The parent process writes every
file and holds only the runs in flight, so memory stays flat however many runs there are.

Workers run :func:`execute`, whose output depends only on the base scenario, the run's
parameters and its seed, so results are the same for any number of workers and executor.

Throughput: the base scenario is validated once, in the parent, and sent once to each worker
(the pool's initializer, or one Dask ``scatter``), never with a task. A task carries a batch
of consecutive runs (:func:`batch_size`: about four tasks per worker, at most
:data:`MAX_BATCH` runs), so small runs share one round trip; the parent still writes one file
per run as each batch comes back, so resume stays exact. ``benchmarks/sweep_throughput.py``
measures runs per minute and the fixed cost per run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from moatsim.experiments import outcomes, outfolder
from moatsim.experiments.design import (
    Design,
    LoadedExperiment,
    RunSpec,
    build_design,
    load_experiment,
    runs,
)
from moatsim.lifeline import pool_initializer
from moatsim.scenario import Scenario

FORMAT = "moatsim-sweep/1"
RESULTS, TIMESERIES, FAILURES, TMP = "results", "timeseries", "failures", ".tmp"
MANIFEST, DESIGN, LOCK = "manifest.json", "design.parquet", ".lock"
OWN_ENTRIES = {RESULTS, TIMESERIES, FAILURES, TMP, MANIFEST, DESIGN, LOCK}
_RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
_TEMP_FILE = re.compile(r"^(?:(?:results|failures|timeseries)-\d+|manifest\.json|"
                        r"design\.parquet|points\.parquet)\.\d+\.[0-9a-f]{6}$")
"""The names of the sweep's own temporary files in ``.tmp`` (see ``SweepFolder._temp``)."""
ID_COLUMNS = ("run_id", "point", "replicate", "seed")
CONNECT_TIMEOUT_S = 10.0
"""How long to try to reach a Dask scheduler before giving up."""


class SweepError(ValueError):
    """A sweep that cannot start (bad folder, scheduler …), told in one line."""


class SweepAborted(SweepError):
    """A sweep that stopped part-way (a worker died, the cluster failed); finished runs are
    saved and ``--resume`` continues it."""


class ManifestError(SweepError):
    """A ``manifest.json`` that cannot be read as a JSON object: ``<file>: <problem>``."""


# ---------------------------------------------------------------- one run (in a worker)


@dataclass(frozen=True)
class Job:
    """What every run of a sweep shares; sent once to each worker."""

    scenario: Scenario
    months: int
    final: tuple[str, ...]
    timeseries: tuple[str, ...] = ()
    every: int = 1
    checks: tuple[Any, ...] = ()
    """History checks (:class:`moatsim.history.Check`) whose simulated values a run keeps as
    ``target:<id>`` (NaN where the run cannot speak to one); calibrations use them."""


TARGET_PREFIX = "target:"


def execute(job: Job, spec: RunSpec) -> dict[str, Any]:
    """Run one design point with one seed; never raises (errors are returned)."""
    from moatsim.experiments.run import run_scenario

    try:
        result = run_scenario(job.scenario, seed=spec.seed, months=job.months,
                              overrides=spec.params)
        values = outcomes.final_values(result, job.final)
        if job.checks:
            from moatsim.history import simulate

            for check in job.checks:
                value = simulate(check, result, job.scenario)
                values[f"{TARGET_PREFIX}{check.id}"] = np.nan if value is None else float(value)
        series = outcomes.time_series(result, job.timeseries, job.every) \
            if job.timeseries else None
        return {"ok": True, "values": values, "series": series}
    except Exception as exc:  # noqa: BLE001 - a failed run is data, not a crash
        message = str(exc).splitlines()[0] if str(exc) else ""
        return {"ok": False, "error": f"{type(exc).__name__}: {message}",
                "traceback": traceback.format_exc(limit=20)}


_WORKER_JOB: Job | None = None


def _init_worker(job: Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _execute_in_pool(spec: RunSpec) -> dict[str, Any]:
    assert _WORKER_JOB is not None
    return execute(_WORKER_JOB, spec)


def _warm_up() -> None:
    import moatsim.experiments.run  # noqa: F401 - the import is the point


def execute_batch(job: Job, specs: list[RunSpec]) -> list[dict[str, Any]]:
    """:func:`execute` for several runs in one task (one round trip to the worker)."""
    return [execute(job, spec) for spec in specs]


def _execute_batch_in_pool(specs: list[RunSpec]) -> list[dict[str, Any]]:
    assert _WORKER_JOB is not None
    return execute_batch(_WORKER_JOB, specs)


MAX_BATCH = 16
"""The most runs in one task: a task's runs are written when it ends, so a SIGKILL loses at
most ``window × MAX_BATCH`` runs and the progress bar moves at least every 16 runs."""


def batch_size(remaining: int, slots: int) -> int:
    """Runs per task: about 4 tasks per worker slot, between 1 and :data:`MAX_BATCH`, so
    every worker stays busy to the end while small runs share the cost of a round trip."""
    return max(1, min(MAX_BATCH, remaining // (4 * max(1, slots))))


def _batches(specs: Iterator[RunSpec], size: int) -> Iterator[list[RunSpec]]:
    """Consecutive runs in lists of ``size`` (the last one shorter)."""
    batch: list[RunSpec] = []
    for spec in specs:
        batch.append(spec)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------- executors


class SerialExecutor:
    """Runs in this process, one after another (``--workers 1``)."""

    slots = 1

    def __init__(self, job: Job):
        self.job = job
        self.description = "1 worker (in-process)"

    def map(self, specs: Iterator[RunSpec],
            batch: int = 1) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
        for spec in specs:
            yield spec, execute(self.job, spec)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A local pool of spawned processes; at most ``2 × workers`` tasks (of ``batch`` runs
    each) in flight."""

    def __init__(self, job: Job, workers: int):
        # spawn, not fork: forking a process that runs threads (pytest-xdist, notebooks,
        # Dask) can deadlock
        context = multiprocessing.get_context("spawn")
        # the workers end when this process does, even when it is SIGKILLed
        initializer, initargs = pool_initializer(_init_worker, job)
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                        initializer=initializer, initargs=initargs)
        # start the workers now: they import Mesa and pandas (seconds) while this process
        # checks the folder and writes the design and the manifest
        self.pool.submit(_warm_up)
        self.slots = workers
        self.window = 2 * workers
        self.description = f"{workers} local worker processes"

    def map(self, specs: Iterator[RunSpec],
            batch: int = 1) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
        from concurrent.futures.process import BrokenProcessPool

        pending: dict[Any, list[RunSpec]] = {}
        source = _batches(iter(specs), batch)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.window:
                specs_ = next(source, None)
                if specs_ is None:
                    exhausted = True
                    break
                pending[self.pool.submit(_execute_batch_in_pool, specs_)] = specs_
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f][0].run_id):
                specs_ = pending.pop(future)
                try:
                    outcomes_ = future.result()
                except BrokenProcessPool as exc:
                    raise SweepAborted(f"a worker process died ({exc}); finished runs are "
                                     "saved: continue with --resume") from None
                yield from zip(specs_, outcomes_, strict=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Runs on a Dask cluster (``distributed``); the scheduler's workers must be able to
    ``import model`` (moatsim installed in their environment)."""

    def __init__(self, job: Job, address: str, workers: int | None = None):
        from distributed import Client

        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"--scheduler {address}: cannot connect ({exc})") from None
        threads = sum(self.client.nthreads().values())
        if threads == 0:
            self.client.close()
            raise SweepError(f"--scheduler {address}: the cluster has no workers")
        self.slots = workers or threads
        self.window = 2 * self.slots
        self.token = uuid.uuid4().hex[:8]
        # every worker imports the model now, while this process prepares the folder (as the
        # local pool's workers do), not in the first task it is given
        self.warm_up = [self.client.submit(_warm_up, pure=False, workers=[address],
                                           key=f"moatsim-warm-up-{n}-{self.token}")
                        for n, address in enumerate(self.client.nthreads())]
        # sent once to every worker and kept there: no task carries the scenario
        self.job = self.client.scatter(job, broadcast=True, hash=False)
        self.description = f"Dask cluster at {address} ({threads} worker threads)"

    def map(self, specs: Iterator[RunSpec],
            batch: int = 1) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
        from distributed import as_completed

        pending: dict[Any, list[RunSpec]] = {}
        queue = as_completed(loop=self.client.loop)
        source = _batches(iter(specs), batch)

        def top_up() -> None:
            while len(pending) < self.window:
                specs_ = next(source, None)
                if specs_ is None:
                    return
                key = f"moatsim-runs-{specs_[0].run_id}-{specs_[-1].run_id}-{self.token}"
                future = self.client.submit(execute_batch, self.job, specs_, pure=False,
                                            key=key)
                pending[future] = specs_
                queue.add(future)

        top_up()
        while pending:
            future = next(queue)
            specs_ = pending.pop(future)
            try:
                outcomes_ = future.result()
            except Exception as exc:  # noqa: BLE001 - lost workers, closed connections
                raise SweepAborted(f"the Dask cluster failed a task ({type(exc).__name__}: "
                                 f"{exc}); finished runs are saved: continue with "
                                 "--resume") from None
            future.release()
            top_up()
            yield from zip(specs_, outcomes_, strict=True)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


# ---------------------------------------------------------------- the output folder


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _arrow_type(kind: str) -> pa.DataType:
    return {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}[kind]


def result_schema(loaded: LoadedExperiment) -> pa.Schema:
    fields = [pa.field(name, pa.int64()) for name in ID_COLUMNS]
    fields += [pa.field(p.path, _arrow_type(p.kind)) for p in loaded.parameters]
    fields += [pa.field(name, _arrow_type(outcomes.metric(name).kind))
               for name in loaded.experiment.metrics.final]
    return pa.schema(fields)


def failure_schema(loaded: LoadedExperiment) -> pa.Schema:
    fields = [pa.field(name, pa.int64()) for name in ID_COLUMNS]
    fields += [pa.field(p.path, _arrow_type(p.kind)) for p in loaded.parameters]
    return pa.schema([*fields, pa.field("error", pa.string()),
                      pa.field("traceback", pa.string())])


TIMESERIES_SCHEMA = pa.schema([pa.field("run_id", pa.int64()), pa.field("month", pa.int64()),
                               pa.field("metric", pa.string()), pa.field("value", pa.float64())])


def fingerprint(loaded: LoadedExperiment, design: Design) -> str:
    """A hash of everything a run's result depends on (not labels or descriptions)."""
    exp = loaded.experiment
    payload = {
        "scenario": loaded.base.model_dump(mode="json"),
        "months": loaded.months,
        "design": {k: list(map(_jsonable, v)) for k, v in design.points.to_dict("list").items()},
        "replicates": exp.replicates,
        "seed": exp.seed,
        "final": exp.metrics.final,
        "timeseries": exp.metrics.timeseries,
        "every": exp.metrics.every,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "true or false", type(None): "null",
             int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


class SweepFolder:
    """The files of one sweep (see the module docstring)."""

    format = FORMAT
    own_entries = OWN_ENTRIES
    kind = "sweep"
    subject = "experiment"

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.manifest_path = self.root / MANIFEST
        self._lock: Any = None

    # -- reading

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if there is none; :class:`ManifestError` (one line naming
        the file) if it is unreadable, empty, not JSON or not a JSON object."""
        path = self.manifest_path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise ManifestError(f"{path}: not a text file (not UTF-8)") from None
        except OSError as exc:
            raise ManifestError(f"{path}: cannot be read ({exc.strerror})") from None
        if not text.strip():
            raise ManifestError(f"{path}: is empty")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path}: not valid JSON at line {exc.lineno}, column "
                                f"{exc.colno} ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: expected a JSON object, found "
                                f"{_json_kind(data)}")
        return data

    def run_ids(self, kind: str) -> set[int]:
        folder = self.root / kind
        if not folder.is_dir():
            return set()
        ids = set()
        with os.scandir(folder) as entries:
            for entry in entries:
                match = _RUN_FILE.match(entry.name)
                if match:
                    ids.add(int(match.group(1)))
        return ids

    def run_file(self, kind: str, run_id: int) -> Path:
        return self.root / kind / f"run-{run_id:08d}.parquet"

    # -- checks before anything is written

    def check(self, shown: str, fp: str, resume: bool) -> dict[str, Any] | None:
        """The existing manifest when resuming; :class:`SweepError` when the folder cannot
        be used. Writes nothing."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise SweepError(f"--out {root}: exists and is not a folder")
        if not root.exists():
            return None
        manifest = self.manifest()
        if manifest is None:
            foreign = self.foreign_entries()
            if foreign:
                raise SweepError(f"--out {root}: the folder holds other files ({foreign[0]} …); "
                                 "use --force to move it aside, or choose an empty or new "
                                 "folder")
            return None
        if manifest.get("format") != self.format:
            raise SweepError(f"--out {root}: {MANIFEST} is not a moatsim {self.kind} manifest")
        done = len(self.run_ids(RESULTS) | self.run_ids(FAILURES))
        name = (manifest.get("experiment") or manifest.get("calibration") or {}).get("name", "?")
        if not resume:
            raise SweepError(f"--out {root}: already holds a {self.kind} of {name} ({done} of "
                             f"{manifest.get('runs', '?')} runs done); add --resume to continue "
                             "it, --force to move it aside and start over, or choose another "
                             "--out")
        if manifest.get("fingerprint") != fp:
            raise SweepError(f"--out {root}: the {self.kind} there was started with a "
                             f"different {self.subject} or scenario than {shown}; use another "
                             "--out (or "
                             "--force without --resume to move it aside and start over)")
        return manifest

    def foreign_entries(self) -> list[str]:
        """What in the folder a sweep did not write: anything but its own entries, and in
        ``.tmp`` anything but its own temporary files."""
        foreign = sorted(p.name for p in self.root.iterdir()
                         if p.name not in self.own_entries)
        tmp = self.root / TMP
        if tmp.is_symlink() or (tmp.exists() and not tmp.is_dir()):
            foreign.append(TMP)
        elif tmp.is_dir():
            foreign += sorted(f"{TMP}/{p.name}" for p in tmp.iterdir()
                              if not _TEMP_FILE.match(p.name))
        return foreign

    def busy(self) -> bool:
        """Whether a sweep is writing into the folder now (it holds the lock)."""
        try:
            handle = open(self.root / LOCK, "rb")  # noqa: SIM115 - closed below
        except OSError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    # -- writing

    def lock(self) -> None:
        """Hold an exclusive lock on the folder while the sweep runs (freed at exit, even
        on SIGKILL), so two sweeps never write into one folder."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK, "a+")  # noqa: SIM115 - held for the sweep
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise SweepError(f"--out {self.root}: another {self.kind} is writing into this "
                             "folder") from None
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def prepare(self) -> None:
        """Make the folders; remove the temporary files a killed sweep left in ``.tmp``
        (only names of the sweep's own pattern: ``.tmp`` may hold a user's files)."""
        for kind in (RESULTS, FAILURES, TIMESERIES, TMP):
            (self.root / kind).mkdir(parents=True, exist_ok=True)
        with os.scandir(self.root / TMP) as entries:
            for entry in entries:
                if _TEMP_FILE.match(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def _temp(self, name: str) -> Path:
        return self.root / TMP / f"{name}.{os.getpid()}.{uuid.uuid4().hex[:6]}"

    def write_table(self, kind: str, run_id: int, table: pa.Table) -> None:
        temp = self._temp(f"{kind}-{run_id}")
        pq.write_table(table, temp)
        os.replace(temp, self.run_file(kind, run_id))

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        temp = self._temp(path.name)
        temp.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n", encoding="utf-8")
        os.replace(temp, path)

    def write_design(self, design: Design, loaded: LoadedExperiment) -> None:
        table = design.points.copy()
        if design.samples is not None:
            for i, path in enumerate(loaded.paths):
                table[f"sample:{path}"] = design.samples[:, i]
        temp = self._temp(DESIGN)
        table.to_parquet(temp, index=False)
        os.replace(temp, self.root / DESIGN)


# ---------------------------------------------------------------- the sweep


@dataclass
class SweepSummary:
    """How a sweep went."""

    name: str
    out: Path
    runs: int
    done_before: int
    executed: int
    ok: int
    failed: int
    failed_now: int
    seconds: float
    executor: str
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.ok + self.failed == self.runs

    def text(self) -> str:
        rate = self.executed / self.seconds * 60 if self.seconds > 0 and self.executed else 0
        lines = [f"{self.name}: {self.ok + self.failed} of {self.runs} runs done "
                 f"({self.ok} ok, {self.failed} failed); this session ran {self.executed} "
                 f"in {self.seconds:.1f} s ({rate:,.0f} runs/min) on {self.executor}"]
        if self.done_before:
            lines.append(f"resumed: {self.done_before} runs were already done and not redone")
        for run_id, error in self.errors[:3]:
            lines.append(f"  failed run {run_id}: {error}")
        if self.failed > 3:
            lines.append(f"  … {self.failed - 3} more in {self.out / FAILURES}/")
        return "\n".join(lines)


def make_job(loaded: LoadedExperiment) -> Job:
    metrics = loaded.experiment.metrics
    return Job(scenario=loaded.base, months=loaded.months, final=tuple(metrics.final),
               timeseries=tuple(metrics.timeseries), every=metrics.every)


def make_executor(job: Job, workers: int | None, scheduler: str | None,
                  runs: int | None = None) -> Any:
    """A Dask executor (``scheduler``), else a local pool of ``workers`` processes (default:
    all cores, at most ``runs``), or this process for one worker."""
    if scheduler is not None:
        return DaskExecutor(job, scheduler, workers)
    count = max(1, min(workers or os.cpu_count() or 1, runs or sys.maxsize))
    return SerialExecutor(job) if count == 1 else ProcessExecutor(job, count)


def open_folder(folder: SweepFolder, executor: Any, move_aside: bool,
                scheduler: str | None) -> dict[str, Any]:
    """Move an old folder aside (``--force``) and lock it; the new session's record. Closes
    the executor if the folder cannot be had."""
    try:
        if move_aside:
            outfolder.move_aside(folder.root)
        folder.lock()
    except BaseException:
        executor.close()
        raise
    return {"started": _now(), "finished": None, "status": "running",
            "executor": executor.description, "scheduler": scheduler}


def run_sweep(experiment: str | Path | LoadedExperiment, out: str | Path, *,
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              force: bool = False, progress: bool = False, batch: int | None = None,
              on_run: Callable[[RunSpec, dict[str, Any]], None] | None = None) -> SweepSummary:
    """Run every run of ``experiment`` not yet done in ``out``; see the module docstring.

    ``workers``: local processes (default: all cores; 1 runs in this process), or with
    ``scheduler`` (``tcp://host:port``) the most runs in flight on the Dask cluster.
    ``batch``: runs per task (default :func:`batch_size`; results do not depend on it).
    ``force``: a non-empty ``out`` (another sweep, or anyone's files) is moved aside to
    ``out.old-<date>-<time>`` and the sweep starts afresh. Raises
    :class:`moatsim.loading.ScenarioError` or :class:`SweepError` before writing anything when
    the experiment, the folder or the scheduler cannot be used.
    """
    loaded = experiment if isinstance(experiment, LoadedExperiment) \
        else load_experiment(experiment)
    design = build_design(loaded)
    fp = fingerprint(loaded, design)
    folder = SweepFolder(out)
    move_aside = _check_out(folder, loaded, fp, resume=resume, force=force)
    previous = None if move_aside else folder.check(loaded.file, fp, resume)
    total = loaded.run_count()
    executor = make_executor(make_job(loaded), workers, scheduler, total)
    started = time.perf_counter()
    session = open_folder(folder, executor, move_aside, scheduler)
    summary = None
    try:
        folder.prepare()
        if previous is None:
            folder.write_design(design, loaded)
        ok_ids, failed_ids = folder.run_ids(RESULTS), folder.run_ids(FAILURES)
        done = ok_ids | failed_ids
        session["done_at_start"] = len(done)
        manifest = _manifest(loaded, fp, previous, session)
        folder.write_json(folder.manifest_path, manifest)

        results_schema, failures_schema = result_schema(loaded), failure_schema(loaded)
        bar = _bar(loaded.name, total, len(done), len(failed_ids), progress)
        executed = failed_now = 0
        session["executed"], session["failed"] = executed, failed_now
        with recording(session, bar):
            size = batch or batch_size(total - len(done), executor.slots)
            for spec, outcome in executor.map(runs(loaded, design, skip=done), size):
                ids = {"run_id": spec.run_id, "point": spec.point,
                       "replicate": spec.replicate, "seed": spec.seed}
                if outcome["ok"]:
                    if outcome["series"] is not None:
                        folder.write_table(TIMESERIES, spec.run_id,
                                           _series_table(spec.run_id, outcome["series"]))
                    row = {**ids, **spec.params, **outcome["values"]}
                    folder.write_table(RESULTS, spec.run_id,
                                       pa.Table.from_pylist([row], schema=results_schema))
                else:
                    row = {**ids, **spec.params, "error": outcome["error"],
                           "traceback": outcome["traceback"]}
                    folder.write_table(FAILURES, spec.run_id,
                                       pa.Table.from_pylist([row], schema=failures_schema))
                    failed_now += 1
                    failed_ids.add(spec.run_id)
                executed += 1
                session["executed"], session["failed"] = executed, failed_now
                if on_run is not None:
                    on_run(spec, outcome)
                bar.set_postfix_str(f"failed={len(failed_ids)}", refresh=False)
                bar.update(1)
        ok = len(folder.run_ids(RESULTS))
        failed = len(folder.run_ids(FAILURES))
        summary = SweepSummary(
            name=loaded.name, out=folder.root, runs=total, done_before=len(done),
            executed=executed, ok=ok, failed=failed, failed_now=failed_now,
            seconds=time.perf_counter() - started, executor=executor.description,
            errors=_first_errors(folder))
        return summary
    finally:
        executor.close()
        session["finished"] = _now()
        session["seconds"] = round(time.perf_counter() - started, 3)
        with contextlib.suppress(Exception):
            manifest = folder.manifest() or {}
            if manifest.get("sessions"):
                manifest["sessions"][-1] = session
                if summary is not None:
                    manifest["status"] = "complete" if summary.complete else "incomplete"
                    manifest["done"] = {"ok": summary.ok, "failed": summary.failed}
                else:
                    manifest["status"] = session["status"]
                folder.write_json(folder.manifest_path, manifest)
        folder.unlock()


@contextlib.contextmanager
def recording(session: dict[str, Any], bar: Any) -> Iterator[None]:
    """Record in ``session`` how the block ended (complete, interrupted by Ctrl-C, aborted by
    a failed pool or cluster), and close the progress bar."""
    try:
        yield
        session["status"] = "complete"
    except KeyboardInterrupt:
        session["status"] = "interrupted"
        raise
    except SweepAborted:
        session["status"] = "aborted"
        raise
    finally:
        bar.close()


def _check_out(folder: SweepFolder, loaded: LoadedExperiment, fp: str, *, resume: bool,
               force: bool) -> bool:
    """Refuse an output folder that would hide the inputs (even with ``force``); return
    whether ``force`` has to move an existing folder aside."""
    if force and resume:
        raise SweepError("--force and --resume contradict each other: --resume continues the "
                         f"{folder.kind} in --out, --force moves it aside to start over")
    try:
        outfolder.check_location(folder.root, [loaded.file, loaded.scenario_file])
    except outfolder.OutFolderError as exc:
        raise SweepError(str(exc)) from None
    root = folder.root
    if not force or not root.is_dir() or root.is_symlink() or not any(root.iterdir()):
        return False
    if folder.busy():
        raise SweepError(f"--out {root}: another {folder.kind} is writing into this folder")
    return True


def _bar(name: str, total: int, done: int, failed: int, enabled: bool) -> Any:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done, unit="run", desc=name, disable=not enabled,
               file=sys.stderr, smoothing=0.05, dynamic_ncols=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs "
               "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")
    bar.set_postfix_str(f"failed={failed}", refresh=False)
    return bar


def _series_table(run_id: int, series: dict[str, np.ndarray]) -> pa.Table:
    months = series["month"]
    names = [k for k in series if k != "month"]
    return pa.table({
        "run_id": pa.array(np.full(len(months) * len(names), run_id, dtype=np.int64)),
        "month": pa.array(np.tile(months, len(names)).astype(np.int64)),
        "metric": pa.array(np.repeat(names, len(months)).tolist(), pa.string()),
        "value": pa.array(np.concatenate([series[n] for n in names]).astype(np.float64)),
    }, schema=TIMESERIES_SCHEMA)


def manifest_record(format_: str, fp: str, previous: dict[str, Any] | None,
                    session: dict[str, Any], loaded: Any, **details: Any) -> dict[str, Any]:
    """A manifest: what every kind of folder records (format, fingerprint, dates, the base
    scenario, the package versions, the sessions), around ``details`` of its own kind."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    sessions = list(previous.get("sessions", [])) if previous else []
    return {
        "format": format_,
        "fingerprint": fp,
        "created": previous.get("created", _now()) if previous else _now(),
        "status": "running",
        **details,
        "scenario": {"file": str(loaded.scenario_file), "name": loaded.base.name,
                     "description": loaded.base.description, "start": loaded.base.start},
        "months": loaded.months,
        "runs": loaded.run_count(),
        "parameters": [p.to_dict() for p in loaded.parameters],
        "versions": {"python": sys.version.split()[0],
                     **{name: installed(name) for name in
                        ("moatsim", "mesa", "numpy", "pandas", "pyarrow", "SALib", "scipy",
                         "distributed")}},
        "base_scenario": loaded.base.model_dump(mode="json"),
        "sessions": [*sessions, session],
    }


def _manifest(loaded: LoadedExperiment, fp: str, previous: dict[str, Any] | None,
              session: dict[str, Any]) -> dict[str, Any]:
    exp = loaded.experiment
    return manifest_record(FORMAT, fp, previous, session, loaded,
                           experiment_file=str(loaded.file),
                           experiment=exp.model_dump(mode="json"),
                           points=loaded.point_count(), replicates=exp.replicates,
                           key_metrics=loaded.key_metrics)


def _first_errors(folder: SweepFolder, limit: int = 3) -> list[tuple[int, str]]:
    ids = sorted(folder.run_ids(FAILURES))[:limit]
    errors = []
    for run_id in ids:
        table = pq.read_table(folder.run_file(FAILURES, run_id), columns=["error"])
        errors.append((run_id, table.column("error")[0].as_py()))
    return errors


# ---------------------------------------------------------------- reading a sweep


def read_results(out: str | Path) -> pd.DataFrame:
    """All finished runs, sorted by run_id (empty with the right columns if none)."""
    return _read_folder(Path(out) / RESULTS)


def read_failures(out: str | Path) -> pd.DataFrame:
    return _read_folder(Path(out) / FAILURES)


def read_timeseries(out: str | Path) -> pd.DataFrame:
    return _read_folder(Path(out) / TIMESERIES, sort=["run_id", "metric", "month"])


def _read_folder(folder: Path, sort: list[str] | None = None) -> pd.DataFrame:
    if not folder.is_dir() or not any(_RUN_FILE.match(p.name) for p in folder.iterdir()):
        return pd.DataFrame()
    table = pd.read_parquet(folder)
    return table.sort_values(sort or ["run_id"], kind="stable").reset_index(drop=True)


def describe_plan(loaded: LoadedExperiment) -> str:
    exp = loaded.experiment
    per = "" if exp.design == "grid" else f", {exp.samples} samples"
    seeds = f"{exp.replicates} replicates (seeds {exp.seed}…{exp.seed + exp.replicates - 1})" \
        if exp.replicates > 1 else f"1 replicate (seed {exp.seed})"
    return (f"sweep {loaded.name}: {loaded.run_count():,} runs = {loaded.point_count():,} "
            f"points ({exp.design}{per}) × {seeds}, {loaded.months} months each")


__all__ = ["ManifestError", "SweepAborted", "SweepError", "SweepFolder", "SweepSummary",
           "describe_plan", "execute", "read_failures", "read_results", "read_timeseries",
           "run_sweep"]
