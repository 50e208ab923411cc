"""Independent runs on all cores: one ordered map over a pool of spawned processes.

Every task depends only on its arguments (scenario, seed, overrides), so results are the same
whatever the number of workers; they come back in task order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from moatsim.lifeline import die_with_parent

Result = TypeVar("Result")


def worker_count(workers: int | None, tasks: int) -> int:
    """``workers`` (default: the cores this process may use), at least 1, at most ``tasks``."""
    return max(1, min(workers or len(os.sched_getaffinity(0)), tasks))


def parallel_map(function: Callable[..., Result], tasks: Sequence[tuple[Any, ...]], *,
                 workers: int | None = None,
                 on_done: Callable[[], None] | None = None) -> list[Result]:
    """``[function(*task) for task in tasks]``, on ``workers`` processes (1: in this one)."""
    count = worker_count(workers, len(tasks))
    results: list[Result] = []
    if count == 1:
        for task in tasks:
            results.append(function(*task))
            if on_done:
                on_done()
        return results
    # spawn, not fork: forking a process that runs threads (pytest-xdist, notebooks, Dask
    # workers) can deadlock
    context = multiprocessing.get_context("spawn")
    # workers end with this process even when it is SIGKILLed (moatsim.lifeline)
    with ProcessPoolExecutor(max_workers=count, mp_context=context,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(function, *task) for task in tasks]
        for future in futures:
            results.append(future.result())
            if on_done:
                on_done()
    return results
