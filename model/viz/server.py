"""Start and stop the page's Solara server (for ``moatsim viz``, the browser tests and the
README screenshot).

The server runs in its own process: ``solara run moatsim.viz.app:page`` in production mode,
bound to 127.0.0.1 unless told otherwise, with no update check and no telemetry, started
through :mod:`moatsim.viz._child` so that it dies with the process that started it. Its
JavaScript and CSS come from the installed ``solara-assets`` package, so it needs no internet
access.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from moatsim.viz.controls import SCENARIO_ENV

APP = "moatsim.viz.app:page"


def command(host: str, port: int) -> list[str]:
    """``solara run`` through :mod:`moatsim.viz._child`, which ends the server when this
    process ends (even by SIGKILL); the pid handed down is this process's."""
    return [sys.executable, "-m", "moatsim.viz._child", str(os.getpid()), "run", APP,
            "--host", host, "--port", str(port), "--production", "--no-open",
            "--no-check-version", "--theme-loader", "plain", "--log-level", "warning"]


def environment(scenario: Path | str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env["SOLARA_TELEMETRY_SENTRY_ENABLE"] = "False"
    env["MPLBACKEND"] = "Agg"
    # Solara warns on every page load that plain-http cookies cannot be samesite=none
    env["PYTHONWARNINGS"] = "ignore:Cookies with samesite:UserWarning"
    env.setdefault("PYTHONUNBUFFERED", "1")
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    return env


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the OS picks it, so parallel callers get different ones)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_up(address: str, process: subprocess.Popen | None = None, *,
                  timeout: float = 60.0) -> None:
    """Wait until the server answers (or raise ``TimeoutError`` / ``RuntimeError``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Solara server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(address, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"no answer from {address} within {timeout:.0f} s")


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None if it can)."""
    if port == 0:
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = "already in use" if exc.errno in (98, 48, 10048) else exc.strerror
            return f"--port {port} on {host}: {reason} (--port 0 picks a free one)"
    return None


def start(*, host: str = "127.0.0.1", port: int | None = None,
          scenario: Path | str | None = None, log: Path | None = None,
          inherit_output: bool = False) -> tuple[subprocess.Popen, str]:
    """Start the server in the background; returns the process and the page's URL.

    Its output goes to ``log`` if given, to this process's stderr with ``inherit_output``,
    and nowhere otherwise. Port ``None`` or 0: a free port.
    """
    port = free_port(host) if not port else port
    if log is not None:
        out = open(log, "wb")  # noqa: SIM115 — handed to the child, closed below
    else:
        out = _stderr_fd() if inherit_output else subprocess.DEVNULL
    # its own session: Ctrl+C in a terminal reaches only us, and we stop it (stop());
    # moatsim.viz._child ends it if we die without stopping it
    process = subprocess.Popen(command(host, port), env=environment(scenario),
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    if log is not None:
        out.close()
    return process, url(host, port)


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stream: inherit the real one
        return None


def serve(*, host: str, port: int, scenario: Path | str | None = None,
          timeout: float = 120.0) -> int:
    """``moatsim viz``: start the server, print the URL when the page answers, and run
    until Ctrl+C (or until the server stops). Returns an exit code."""
    def stop_on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # runs the `finally` below: the server never outlives us

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop_on_signal)
    process, address = start(host=host, port=port, scenario=scenario, inherit_output=True)
    try:
        try:
            wait_until_up(address, process, timeout=timeout)
        except (RuntimeError, TimeoutError) as exc:
            print(f"moatsim: error: {exc}", file=sys.stderr)
            return 1
        shown = f" with {scenario}" if scenario is not None else ""
        print(f"moatsim viz: the page is at {address}{shown} (Ctrl+C stops it)", flush=True)
        return 0 if process.wait() == 0 else 1
    except KeyboardInterrupt:
        print("moatsim viz: stopped", file=sys.stderr)
        return 0
    finally:
        stop(process)


def stop(process: subprocess.Popen, *, timeout: float = 10.0) -> None:
    """Stop a server started by :func:`start` (terminate, then kill)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


@contextlib.contextmanager
def running(*, host: str = "127.0.0.1", scenario: Path | str | None = None,
            log: Path | None = None, timeout: float = 60.0) -> Iterator[str]:
    """A server for the duration of a ``with`` block; yields its URL; always stopped."""
    process, address = start(host=host, scenario=scenario, log=log)
    try:
        wait_until_up(address, process, timeout=timeout)
        yield address
    finally:
        stop(process)
