"""A screenshot of the browser page after a few years of a run (the README's docs/viz.png).

    python -m moatsim.viz.screenshot docs/viz.png [--months 36] [--scenario FILE]
        [--size 1400x1450] [--full-page]
    make viz-screenshot     (docs/viz.png, and the whole page at 1280×800 and 1920×1080)

Starts the page's server on a free 127.0.0.1 port, opens it in Debian's chromium (headless,
through Playwright), waits for the page's own content (the first paint is only a spinner),
steps the run by ``--months`` with Mesa's Step button and saves the window as a PNG. With
``--full-page`` the window is then made as tall as the page's panels, at the same width (so
the same layout as the size asked for), and saved once every chart has drawn the month.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from moatsim.viz import server
from moatsim.viz.plotlychart import ON_SCREEN_DRAWN_JS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"]
TIMEOUT_MS = 60_000


def _month_label(start: str, month: int) -> str:
    from moatsim.calendar import month_label

    return month_label(start, month)


PANELS_HEIGHT_JS = """() => {
  const panels = [...document.querySelectorAll('.vue-grid-item')];
  let scroller = panels[0].parentElement;
  while (scroller && scroller !== document.body && scroller.scrollHeight <= scroller.clientHeight)
    scroller = scroller.parentElement;
  const scrolled = scroller ? scroller.scrollTop : 0;
  return Math.ceil(Math.max(...panels.map((p) => p.getBoundingClientRect().bottom)) + scrolled
                   + 16);
}"""
"""The window height that shows every panel whole (to the bottom of the lowest, scrolled to
the top)."""
CHARTS = ("chart-shares", "chart-market-map", "chart-money", "chart-network",
          "chart-indicators")


def take(out: Path, *, months: int = 36, scenario: Path | None = None, width: int = 1400,
         height: int = 1450, segment: str | None = "coding", full_page: bool = False) -> Path:
    """Save a screenshot of the page after ``months`` steps to ``out``."""
    from playwright.sync_api import expect, sync_playwright

    from moatsim.loading import load_scenario
    from moatsim.model import DEFAULT_SCENARIO

    config = load_scenario(scenario or DEFAULT_SCENARIO)
    months = max(0, min(months, config.months))
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        raise SystemExit("moatsim: error: no chromium browser: apt-get install chromium")
    with server.running(scenario=scenario, timeout=90) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            date = page.get_by_test_id("headline-date")
            date.wait_for()
            page.locator("[data-testid=chart-shares] [data-drawn-month='0']").wait_for()
            # Mesa's render interval: each Step advances that many months (1, 3, 5 … 99)
            per_click = 1
            if months >= 12:
                render = page.locator(".v-input__slider", has_text="Render Interval")
                slider = render.get_by_role("slider")
                slider.focus()
                for _ in range(5):
                    slider.press("ArrowRight")
                per_click = int(slider.get_attribute("aria-valuenow") or 1)
            done = 0
            while done < months:
                if months - done < per_click:  # finish with single months
                    slider.focus()
                    slider.press("Home")
                    per_click = 1
                page.get_by_role("button", name="Step", exact=True).click()
                done += per_click
                expect(date).to_have_text(_month_label(config.start, done), timeout=TIMEOUT_MS)
            if segment and segment in config.segment_ids():
                page.locator(".v-card", has_text="Market map").locator(".v-select").click()
                page.locator(".menuable__content__active .v-list-item",
                             has_text=segment).click()
                expect(page.locator(".v-card", has_text="Market map").locator(
                    ".v-select__selection")).to_have_text(segment)
                page.wait_for_function(
                    "(segment) => { const el = document.querySelector("
                    "'[data-testid=chart-market-map] .moatsim-plotly'); return el && el.layout"
                    " && el.layout.meta && el.layout.meta.segment === segment; }", arg=segment)
            page.wait_for_function(ON_SCREEN_DRAWN_JS, arg=[months, None])
            if full_page:
                # the page scrolls inside Solara's main panel, not the document: the window
                # is made as tall as the panels (same width, so the same layout) and every
                # chart is then on screen, drawn at the month shown
                page.set_viewport_size({"width": width,
                                        "height": max(height, page.evaluate(PANELS_HEIGHT_JS))})
                for testid in CHARTS:
                    expect(page.get_by_test_id(testid).locator(".moatsim-plotly")
                           ).to_have_attribute("data-drawn-month", str(months),
                                               timeout=TIMEOUT_MS)
            save(out, page.screenshot())
        finally:
            browser.close()
    return out


MARKER = "moatsim.viz.screenshot"
"""The PNG's ``Software`` text chunk: a file that carries it was written here and may be
replaced; any other file at the output path is left alone."""


def written_here(path: Path) -> bool:
    """Whether ``path`` is a PNG this module wrote (its ``Software`` chunk is :data:`MARKER`)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == MARKER
    except (OSError, UnidentifiedImageError):
        return False


def check_out(out: Path) -> None:
    """Refuse an output path whose file this module did not write (before any work)."""
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give a PNG file name")
    if out.exists() and not written_here(out):
        raise ValueError(f"{out}: exists and was not written by {MARKER}; it is left as it "
                         f"is (choose another name, or move it away)")


def save(out: Path, png: bytes) -> None:
    """Write ``png`` to ``out`` with the marker, atomically (a reader sees the old picture
    or the new one)."""
    import io

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from moatsim.experiments.outfolder import write_file_atomically

    check_out(out)  # again: the file may have appeared while the page was stepping
    info = PngInfo()
    info.add_text("Software", MARKER)
    out.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(png)) as image:
        write_file_atomically(out, lambda temp: image.save(temp, format="PNG", pnginfo=info))


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800"
                                         ) from None
    if not (320 <= width <= 4000 and 320 <= height <= 4000):
        raise argparse.ArgumentTypeError(f"{text!r}: each side must be 320–4000 pixels")
    return width, height


def _months(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """One-line errors and exit code 2, as the ``moatsim`` command's."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m moatsim.viz.screenshot",
                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="PNG file to write (e.g. docs/viz.png)")
    parser.add_argument("--months", type=_months, default=36,
                        help="months to step (default 36; past the run's end: its last)")
    parser.add_argument("--scenario", type=Path, help="scenario file (default: the baseline)")
    parser.add_argument("--size", type=_size, default=(1400, 1450), metavar="WxH",
                        help="window size in pixels (default 1400x1450)")
    parser.add_argument("--full-page", action="store_true",
                        help="every chart drawn, the whole page saved")
    args = parser.parse_args(argv)
    width, height = args.size
    from moatsim.loading import ScenarioError, load_scenario

    try:
        check_out(args.out)
        if args.scenario is not None:
            load_scenario(args.scenario)
    except (ValueError, ScenarioError) as problem:
        parser.error(str(problem))
    path = take(args.out, months=args.months, scenario=args.scenario, width=width,
                height=height, full_page=args.full_page)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
