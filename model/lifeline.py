"""Child processes that die with their parent.

A process pool's workers block on a pipe whose other end they hold themselves, and the
browser page's server runs on its own; neither notices when the ``moatsim`` command that
started them is killed (SIGKILL runs no clean-up), so they would live on for minutes or for
good. :func:`die_with_parent`, called first thing in such a child, ends it as soon as its
parent is gone:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the child the moment the
  parent *thread* that started it exits (the setting survives ``exec``, so it also holds for
  a program the child becomes);
* everywhere, a daemon thread that checks twice a second whether the parent has changed
  (the child was re-parented), for systems without prctl and for the short moment before
  the prctl call.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1
POLL_S = 0.5
EXIT_ORPHANED = 70
"""Exit code of a child whose parent died (EX_SOFTWARE)."""


def die_with_parent(parent_pid: int | None = None) -> None:
    """End this process when ``parent_pid`` (default: the current parent) is no longer its
    parent. ``parent_pid`` should be what the parent passed down (``os.getpid()`` there): if
    the parent died before this call, the check below sees it."""
    parent = os.getppid() if parent_pid is None else parent_pid
    _kill_me_with_parent()
    if os.getppid() != parent:  # already orphaned before the kernel was told
        os._exit(EXIT_ORPHANED)
    threading.Thread(target=_watch, args=(parent,), name="moatsim-lifeline",
                     daemon=True).start()


def pool_initializer(setup: Callable[..., None] | None = None,
                     *args: Any) -> tuple[Callable[..., None], tuple[Any, ...]]:
    """``initializer, initargs`` for a process pool whose workers die with this process, then
    run ``setup(*args)``.

    ``setup`` and its arguments travel pickled and are unpickled only after the worker has
    called :func:`die_with_parent`: unpickling them imports their modules (Mesa, pandas …),
    which takes seconds, and a worker must not be an orphan for that long.
    """
    payload = None if setup is None else pickle.dumps((setup, args))
    return _start_worker, (os.getpid(), payload)


def _start_worker(parent_pid: int, payload: bytes | None) -> None:
    die_with_parent(parent_pid)
    if payload is not None:
        setup, args = pickle.loads(payload)
        setup(*args)


def _kill_me_with_parent() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent dies (False elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    stop = threading.Event()  # never set: wait() is an interruptible sleep
    while not stop.wait(POLL_S):
        if os.getppid() != parent:
            os._exit(EXIT_ORPHANED)


__all__ = ["die_with_parent", "pool_initializer"]
