"""How fast the browser page steps and plays, now and at a reference commit, in one run.

Serves the page of each tree (this checkout, and the reference checked out into a temporary
git worktree) in turn, drives it in Debian's chromium through Playwright at the same window
size, and measures what a user waits for (issue 16, point 1):

* **Step**: from the click on Step (timed in the page, ``performance.now()``) until the
  headline shows the next month and every chart on screen shows it too — for this
  checkout, each plotly chart has drawn that month (``data-drawn-month``); for a reference
  that draws PNGs, every chart image has a new picture, loaded. Median and 90th percentile
  of ``--steps`` Steps, months 1, 2, 3, …; for this checkout also from ``--late-month``
  (60: the page opened at that month by its address), where every chart has more to draw.
* **Play**: from the click on ▶ until the last month (2031-01) is on screen, at the page's
  default play interval; median of ``--play-repeats`` runs (each on a fresh page).

Prints a Markdown table with both trees' figures and the ratio reference / now (how many
times faster), and whether the issue's targets hold (Step ≤ 300 ms, Play ≤ 30 s).

    .venv/bin/python benchmarks/page_speed.py [--reference a495fdd] [--steps 15]
        [--play-repeats 3] [--reference-play-repeats 1] [--width 1400 --height 900]
        [--late-month 60]

The reference default, a495fdd, is the last commit with the matplotlib page (its 96-month
Play takes about three minutes, hence one repeat by default).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "a495fdd"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]
LOAD_MS = 120_000
STEP_MS = 60_000
PLAY_MS = 900_000

# true once the headline shows `date` and every chart on screen shows that month; returns
# the page's clock then (so the wait's own polling does not count against the page)
ARRIVED_JS = """([date, month, before]) => {
  const shown = document.querySelector('[data-testid=headline-date]');
  if (!shown || shown.textContent.trim() !== date) return false;
  const onScreen = (el) => { const b = el.getBoundingClientRect();
                             return b.bottom > 0 && b.top < innerHeight && b.width > 0; };
  const plots = [...document.querySelectorAll('.moatsim-plotly[data-on-screen="1"]')];
  if (plots.length) {
    if (!plots.every((el) => el.dataset.drawnMonth === String(month))) return false;
    return Math.max(...plots.map((el) => +el.dataset.drawnAt));
  }
  const images = [...document.querySelectorAll('[data-testid^=chart-] img')].filter(onScreen);
  if (!images.length || !images.every((img) => img.complete && !before.includes(img.src)))
    return false;
  return performance.now();
}"""

# true once the headline shows `date` or later and the charts on screen show that month or
# later (Play does not stop at a month short of the end)
PLAYED_JS = """([date, month]) => {
  const shown = document.querySelector('[data-testid=headline-date]');
  if (!shown || shown.textContent.trim() < date) return false;
  const plots = [...document.querySelectorAll('.moatsim-plotly[data-on-screen="1"]')];
  return plots.every((el) => +el.dataset.drawnMonth >= month);
}"""

IMAGES_JS = "() => [...document.querySelectorAll('[data-testid^=chart-] img')].map(i => i.src)"

CLICK_JS = """(label) => {
  const button = [...document.querySelectorAll('button')]
      .find((b) => b.innerText.trim().toUpperCase() === label.toUpperCase());
  const now = performance.now();
  button.click();
  return now;
}"""


def month_label(month: int) -> str:
    return f"{2023 + month // 12}-{month % 12 + 1:02d}"


def package_path(tree: Path, temp: Path) -> Path:
    """A folder whose ``moatsim`` is ``tree``'s source (``model/``, or ``moatsim/``)."""
    if (tree / "moatsim").is_dir():
        return tree
    link_dir = temp / f"path-{tree.name}"
    link_dir.mkdir(exist_ok=True)
    (link_dir / "moatsim").symlink_to(tree / "model")
    return link_dir


def start_server(tree: Path, python_path: Path, log: Path) -> tuple[subprocess.Popen, str]:
    from moatsim.viz import server

    port = server.free_port("127.0.0.1")
    env = {**server.environment(), "PYTHONPATH": str(python_path)}
    with open(log, "wb") as out:
        process = subprocess.Popen(server.command("127.0.0.1", port), cwd=tree, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    address = server.url("127.0.0.1", port)
    server.wait_until_up(address, process, timeout=120)
    return process, address


def open_page(browser, address: str, width: int, height: int, month: int = 0):
    """The page at ``month`` (through its address, ``?month=``: a tree that has none opens
    at month 0 and is not asked)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(LOAD_MS)
    page.goto(address + (f"?month={month}" if month else ""))
    page.wait_for_function(ARRIVED_JS, arg=[month_label(month), month, []], timeout=LOAD_MS)
    return page


def measure_steps(page, steps: int, first: int = 0) -> list[float]:
    """Milliseconds from each Step's click to its month on screen, from month ``first``."""
    times = []
    for month in range(first + 1, first + steps + 1):
        before = page.evaluate(IMAGES_JS)
        clicked = page.evaluate(CLICK_JS, "Step")
        arrived = page.wait_for_function(ARRIVED_JS, arg=[month_label(month), month, before],
                                         timeout=STEP_MS).json_value()
        times.append(float(arrived) - float(clicked))
    return times


def measure_play(page, months: int) -> float:
    """Seconds from the click on ▶ to the last month on screen."""
    started = time.perf_counter()
    page.evaluate(CLICK_JS, "▶")
    page.wait_for_function(PLAYED_JS, arg=[month_label(months), months], timeout=PLAY_MS,
                           polling=100)
    return time.perf_counter() - started


def measure_tree(browser, tree: Path, python_path: Path, args, play_repeats: int,
                 log: Path, late_month: int = 0) -> dict[str, list[float]]:
    process, address = start_server(tree, python_path, log)
    try:
        page = open_page(browser, address, args.width, args.height)
        steps = measure_steps(page, args.steps)
        page.close()
        late = []
        if late_month:  # later months have more history to draw
            page = open_page(browser, address, args.width, args.height, late_month)
            late = measure_steps(page, args.steps, late_month)
            page.close()
        plays = []
        for _ in range(play_repeats):
            page = open_page(browser, address, args.width, args.height)
            plays.append(measure_play(page, args.months))
            page.close()
        return {"step_ms": steps, "late_step_ms": late, "play_s": plays}
    finally:
        from moatsim.viz import server

        server.stop(process)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--play-repeats", type=int, default=3)
    parser.add_argument("--reference-play-repeats", type=int, default=1)
    parser.add_argument("--months", type=int, default=96, help="months of the Play (96)")
    parser.add_argument("--late-month", type=int, default=60,
                        help="also time Steps from this month, opened by address (0: no)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        sys.exit("no chromium browser: apt-get install chromium")
    load = os.getloadavg()[0]
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="moatsim-page-speed-") as temp_name:
        temp = Path(temp_name)
        tree = temp / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.reference],
                       cwd=ROOT, check=True, capture_output=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
                try:
                    for label, source, repeats, late in (
                            ("reference", tree, args.reference_play_repeats, 0),
                            ("now", ROOT, args.play_repeats, args.late_month)):
                        results[label] = measure_tree(
                            browser, source, package_path(source, temp), args, repeats,
                            temp / f"server-{label}.log", late)
                finally:
                    browser.close()
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           capture_output=True)
    ref, now = results["reference"], results["now"]
    step_ref, step_now = statistics.median(ref["step_ms"]), statistics.median(now["step_ms"])
    play_ref, play_now = statistics.median(ref["play_s"]), statistics.median(now["play_s"])
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, chromium headless "
          f"at {args.width}×{args.height}, 1-minute load average at the start {load:.1f}; "
          f"reference {args.reference}\n")
    print(f"| figure | {args.reference} | now | {args.reference} / now | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| Step, median of {args.steps} (ms) | {step_ref:.0f} | {step_now:.0f} | "
          f"{step_ref / step_now:.1f}× | ≤ 300 ms: {'met' if step_now <= 300 else 'not met'} |")
    print(f"| Step, 90th percentile (ms) | {p90(ref['step_ms']):.0f} | "
          f"{p90(now['step_ms']):.0f} | {p90(ref['step_ms']) / p90(now['step_ms']):.1f}× | |")
    if now["late_step_ms"]:
        late = now["late_step_ms"]
        print(f"| Step from month {args.late_month}, median of {args.steps} (ms; this "
              f"checkout only: the reference page has no address) | | "
              f"{statistics.median(late):.0f} | | ≤ 300 ms: "
              f"{'met' if statistics.median(late) <= 300 else 'not met'} |")
        print(f"| Step from month {args.late_month}, 90th percentile (ms) | | {p90(late):.0f} "
              f"| | |")
    print(f"| Play, {args.months} months (s; median of {len(ref['play_s'])} / "
          f"{len(now['play_s'])}) | {play_ref:.1f} | {play_now:.1f} | "
          f"{play_ref / play_now:.1f}× | ≤ 30 s: {'met' if play_now <= 30 else 'not met'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
