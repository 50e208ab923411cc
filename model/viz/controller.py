"""Reset, Play and Step for the page, with a speed that holds and a line that says what is
happening.

It stands in for Mesa's ``ModelController`` in the page's own copy of SolaraViz
(:mod:`moatsim.viz.app`), with Mesa's buttons and Mesa's two sliders, read differently:

* **Play Interval (ms)** is the time one month takes while playing (a month that takes
  longer to compute and draw is not followed by a pause), so 100 ms plays 10 months a
  second whatever the machine. Mesa slept that long *on top of* each redraw, so the slider
  changed little while redraws were slow.
* **Render Interval (steps)** is how many months one Step or one tick of Play advances.
* A line under the buttons (``data-testid="run-status"``) says ``playing``, ``ready``,
  ``finished`` (the last month reached: Reset starts over) or ``stopped`` (a message above
  says why); the page's own progress bar shows a Step that takes long.
* Reset while playing stops the old run before the new one exists: the play loop steps only
  the run it started with, so it never lands a stray month on the fresh run (Mesa's did).

Mesa's "Use Threads" checkbox is not needed (a redraw is cheap, and Play always runs in a
thread of its own); the page hides it.
"""

from __future__ import annotations

import html
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization.utils import update_counter


def status(model: Any, playing: bool) -> tuple[str, str]:
    """``(state, sentence)`` of a run: ``playing``, ``ready``, ``finished`` or ``stopped``."""
    months = model.config.months
    where = f"{model.date}, month {model.month} of {months}"
    if getattr(model, "problem", None) is not None:
        return "stopped", "stopped: see the message above the charts"
    if model.month >= months or not model.running:
        return "finished", f"run finished at {where}; Reset starts it over"
    if playing:
        return "playing", f"playing: {where}"
    return "ready", f"ready: {where}"


def make_controller(force_update: Callable[[], None]):
    """The controller component, redrawing the page with ``force_update`` after each move."""

    @solara.component
    def PageController(model: solara.Reactive, *, renderer: Any = None,
                       model_parameters: Any = None, play_interval: Any = 100,
                       render_interval: Any = 1, use_threads: Any = False):
        del renderer, use_threads  # no space renderer here; Play always has its own thread
        update_counter.get()  # the status line follows the run
        playing = solara.use_reactive(False)
        model_parameters = solara.use_reactive({} if model_parameters is None else model_parameters)
        play_interval = solara.use_reactive(play_interval)
        render_interval = solara.use_reactive(render_interval)
        error = solara.use_reactive(None)
        lock = solara.use_memo(threading.Lock, [])

        def advance(run: Any) -> None:
            """``render_interval`` months of ``run`` (if it is still the one shown), then
            one redraw."""
            with lock:
                if run is not model.value:
                    return
                for _ in range(max(1, int(render_interval.value))):
                    if not run.running:
                        break
                    run.step()
            force_update()

        def play() -> None:
            run = model.value
            try:
                while playing.value and run is model.value and run.running:
                    started = time.monotonic()
                    advance(run)
                    rest = play_interval.value / 1000 - (time.monotonic() - started)
                    if rest > 0:
                        time.sleep(rest)  # keeps the chosen pace; not a wait on state
            except Exception as exc:  # noqa: BLE001 — a message on the page, not a traceback
                traceback.print_exc()
                error.set(f"error in step: {exc}")
            finally:
                if run is model.value:
                    playing.set(False)

        solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

        def step() -> None:
            if not playing.value:
                advance(model.value)

        def reset() -> None:
            playing.set(False)
            error.set(None)
            with lock:  # a month in progress finishes on the old run first
                model.value = type(model.value)(**model_parameters.value)

        def play_pause() -> None:
            playing.set(not playing.value)

        runnable = model.value.running
        with solara.Row(justify="space-between"):
            solara.Button(label="Reset", color="primary", on_click=reset)
            solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                          on_click=play_pause, disabled=not runnable)
            solara.Button(label="Step", color="primary", on_click=step,
                          disabled=playing.value or not runnable)
        state, sentence = status(model.value, playing.value)
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(sentence),
                    classes=["moatsim-status", f"moatsim-status-{state}"],
                    attributes={"data-testid": "run-status", "data-state": state})
        if error.value:
            solara.Error(label=error.value)

    return PageController
