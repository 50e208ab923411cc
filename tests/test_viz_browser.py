"""The browser page in a real browser: Debian's chromium driven by Playwright.

A Solara server for the page runs in a subprocess on a free 127.0.0.1 port (one per test
worker, always stopped); each test opens the page at 1400×900, waits for real content (the
first paint is only a spinner), works the controls and saves a screenshot in
``tests/artifacts/``. Without chromium or playwright these tests are skipped with the reason
shown — except under ``CI=true``, where a missing browser is a failure (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 900}
LOAD_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"no chromium browser ({CHROMIUM}); install it with `apt-get install chromium`"
    return None


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="module")
def browser():
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import expect, sync_playwright

    # every expectation waits on the page's state, with a limit a loaded machine can meet
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def server_url(browser):
    from moatsim.viz import server

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"solara-server-{_worker()}.log"
    with server.running(log=log, timeout=90) as url:
        yield url


class PageWatch:
    """A page at 1400×900 that records failed requests and HTTP errors."""

    def __init__(self, browser, url: str, *, month: int = 0, **context: Any):
        self.context = browser.new_context(**{"viewport": VIEWPORT, **context})
        self.page = self.context.new_page()
        self.page.set_default_timeout(STEP_TIMEOUT_MS)
        self.failures: list[str] = []
        self.page.on("requestfailed", lambda r: self.failures.append(f"failed {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failures.append(
            f"HTTP {r.status} {r.url}"))
        self.page.goto(url)
        # the first paint is Solara's loader: wait for the page's own text, then for
        # plotly.js (sent over the first chart's comm) to have drawn the first month
        self.date.wait_for(timeout=LOAD_TIMEOUT_MS)
        self.drawn(month, timeout=LOAD_TIMEOUT_MS)

    def drawn(self, month: int, *, timeout: int = STEP_TIMEOUT_MS) -> None:
        """Wait until every chart on screen has drawn ``month``."""
        from moatsim.viz.plotlychart import ON_SCREEN_DRAWN_JS

        self.page.wait_for_function(ON_SCREEN_DRAWN_JS, arg=[month, None], timeout=timeout)

    @property
    def date(self):
        return self.page.get_by_test_id("headline-date")

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def step(self, expected_date: str) -> None:
        from playwright.sync_api import expect

        self.button("Step").click()
        expect(self.date).to_have_text(expected_date, timeout=STEP_TIMEOUT_MS)
        month = int(self.date.locator("..").inner_text().split("month ")[1].split(" ")[0])
        self.drawn(month)

    def reset(self, expected_run: str | None = None) -> None:
        from playwright.sync_api import expect

        self.button("Reset").click()
        # Reset builds a new model from the scenario file: allow a loaded machine its time
        expect(self.date).to_have_text("2023-01", timeout=STEP_TIMEOUT_MS)
        if expected_run is not None:
            expect(self.page.get_by_test_id("headline-run")).to_contain_text(
                expected_run, timeout=STEP_TIMEOUT_MS)

    def param(self, name: str):
        """The inputs of one parameter (flat name): label, slider, number box."""
        return self.page.get_by_test_id(f"param-{name}")

    def number_box(self, name: str):
        return self.param(name).locator("input[type=text]")

    def pick_scenario(self, name: str) -> None:
        self.page.locator(".v-select", has_text="Scenario file").click()
        self.page.locator(".menuable__content__active .v-list-item", has_text=name).click()

    def chart(self, testid: str) -> bytes:
        return self.page.get_by_test_id(testid).screenshot()

    def no_sideways_scrolling(self) -> None:
        widths = self.page.evaluate("""() => {
            const wide = [];
            for (const el of [document.documentElement, document.body,
                              ...document.querySelectorAll('.solara-content-main')]) {
                if (el.scrollWidth > el.clientWidth + 1) wide.push(el.className || el.tagName);
            }
            return wide;
        }""")
        assert widths == [], f"sideways scrolling in {widths}"

    def no_traceback(self) -> None:
        text = self.page.locator("body").inner_text()
        assert "Traceback" not in text and "error in step" not in text, text[:2000]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}-{_worker()}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def viz(browser, server_url):
    watch = PageWatch(browser, server_url)
    try:
        yield watch
    finally:
        watch.close()


def test_page_loads_then_step_moves_the_date_and_the_charts(viz):
    from playwright.sync_api import expect

    page = viz.page
    expect(viz.date).to_have_text("2023-01")
    expect(page.get_by_test_id("headline-run")).to_contain_text("baseline")
    for name in ("hhi", "open-share", "adopters"):
        assert page.get_by_test_id(f"headline-{name}").inner_text().strip() not in ("", "–")
    # no open language model before LLaMA's weights are released (2023-03)
    expect(page.get_by_test_id("headline-quality-gap")).to_have_text("no open LLM")
    expect(page.get_by_test_id("headline-leaders")).to_contain_text("consumer_chat")
    for testid in ("chart-shares", "chart-market-map", "chart-money", "chart-network"):
        expect(page.get_by_test_id(testid).locator(".moatsim-plotly .main-svg").first
               ).to_be_visible()
    expect(page.get_by_text("Cash and runway by firm")).to_be_visible()
    # plotly.js is the copy inside the installed plotly package, not a download
    from moatsim.viz.plotlychart import PLOTLY_JS

    bundled = re.search(r"plotly\.js v([0-9.]+)", PLOTLY_JS.read_text(encoding="utf-8")).group(1)
    assert page.evaluate("() => window.Plotly.version") == bundled
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-state", "ready")
    before = {t: viz.chart(t) for t in ("chart-shares", "chart-market-map")}
    viz.no_sideways_scrolling()
    viz.shot("viz-start")

    for date in ("2023-02", "2023-03", "2023-04", "2023-05"):
        viz.step(date)
    expect(page.get_by_test_id("headline-date").locator("..")).to_contain_text("month 4 of 96")
    for testid, picture in before.items():
        assert viz.chart(testid) != picture, f"{testid} did not change after 4 steps"
    log = page.get_by_test_id("event-log")
    expect(log).to_contain_text("2023-03")
    expect(log).to_contain_text("meta_ai weights released")
    expect(page.get_by_test_id("headline-quality-gap")).to_have_text(re.compile(r"^[+-]\d+\.\d$"))
    viz.no_sideways_scrolling()
    viz.no_traceback()
    viz.shot("viz-after-steps")
    assert viz.failures == [], viz.failures


def test_switch_scenario_then_parameters_at_their_extremes_and_reset(viz):
    from playwright.sync_api import expect

    from moatsim.loading import load_scenario
    from moatsim.viz import controls

    page = viz.page
    viz.step("2023-02")
    viz.pick_scenario("first_mover_moat")
    expect(page.get_by_test_id("headline-run")).to_contain_text("first_mover_moat")
    expect(viz.date).to_have_text("2023-01")
    # the inputs show the picked scenario's own values (its brand lasts ten years)
    expect(viz.number_box("first_mover__brand_half_life_months")).to_have_value("120")
    viz.step("2023-02")

    params = controls.slider_params(load_scenario(ROOT / "scenarios" / "first_mover_moat.yaml"))
    # the sliders' ends are the typical ranges
    for name in params:
        slider = viz.param(name).get_by_role("slider")
        slider.focus()
        slider.press("End")
    expect(viz.number_box("first_mover__brand_half_life_months")).to_have_value("240")
    expect(viz.param("first_mover__brand_half_life_months").get_by_test_id(
        "pending-first_mover__brand_half_life_months")).to_contain_text("press Reset")
    # the number boxes take the validation bounds
    for end in ("max", "min"):
        for name, spec in params.items():
            box = viz.number_box(name)
            box.fill(f"{spec[end]:g}")
            box.press("Enter")
        expect(page.get_by_test_id("pending-first_mover__brand_half_life_months")
               ).to_be_visible()
        viz.reset("first_mover_moat")
        expect(page.get_by_test_id("viz-problem")).to_have_count(0)
        expect(page.get_by_test_id("headline-run")).to_contain_text(
            f"half-life {params['first_mover__brand_half_life_months'][end]:g} (scenario 120)")
        expect(page.locator("[data-testid^=pending-]")).to_have_count(0)
        viz.step("2023-02")
        viz.step("2023-03")
        viz.no_traceback()
        viz.shot(f"viz-sliders-{end}")
    # beyond the bounds: a message by the box, and the value is not taken
    box = viz.number_box("first_mover__brand_half_life_months")
    box.fill("5000")
    box.press("Enter")
    expect(page.get_by_test_id("problem-first_mover__brand_half_life_months")).to_contain_text(
        "outside the allowed 0.1–1200 months")
    viz.no_sideways_scrolling()
    assert viz.failures == [], viz.failures


def test_text_seed_gives_a_message_and_reset_mid_run_starts_over(viz):
    from playwright.sync_api import expect

    page = viz.page
    seed = page.get_by_label("Seed (whole number ≥ 0)")
    seed.fill("abc")
    seed.press("Enter")
    viz.reset()
    problem = page.get_by_test_id("viz-problem")
    expect(problem).to_contain_text("Seed: expected a whole number")
    # the run cannot move: Step and Play are off at once, and the status line says why
    expect(viz.button("Step")).to_be_disabled()
    expect(viz.button("▶")).to_be_disabled()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-state", "stopped")
    expect(viz.date).to_have_text("2023-01")
    viz.no_traceback()
    viz.shot("viz-bad-seed")

    seed.fill("7")
    seed.press("Enter")
    viz.reset("seed 7")
    expect(problem).to_have_count(0)
    viz.button("▶").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-state", "playing")
    expect(viz.date).not_to_have_text("2023-01", timeout=STEP_TIMEOUT_MS)
    expect(viz.date).not_to_have_text("2023-02", timeout=STEP_TIMEOUT_MS)
    # Reset in the middle of a run, while it plays: the play loop steps only the run it
    # started with (moatsim.viz.controller), so the fresh run shows 2023-01, not playing,
    # and its first Step lands on 2023-02 (a stray step from the old run's loop would have
    # moved it first, and this Step would show 2023-03)
    viz.button("Reset").click()
    expect(viz.button("▶")).to_be_enabled()
    expect(viz.date).to_have_text("2023-01")
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("headline-run")).to_contain_text("seed 7")
    viz.step("2023-02")
    expect(page.get_by_test_id("run-status")).to_contain_text("ready: 2023-02, month 1 of")
    viz.no_traceback()
    viz.shot("viz-reset-mid-run")
    assert viz.failures == [], viz.failures


def test_the_page_stays_light_for_a_browser_that_prefers_dark(browser, server_url):
    """The charts are drawn on white: a dark page (the OS preference under Solara's "auto",
    or a dark choice stored by an earlier visit) would frame them unreadably."""
    from playwright.sync_api import expect

    watch = PageWatch(browser, server_url, color_scheme="dark")
    try:
        watch.page.evaluate("localStorage.setItem(':solara:theme.variant', '\"dark\"')")
        watch.page.reload()
        watch.date.wait_for(timeout=LOAD_TIMEOUT_MS)
        app = watch.page.locator(".v-application").first
        expect(app).to_have_class(re.compile(r"\btheme--light\b"))
        assert watch.page.evaluate(
            "() => getComputedStyle(document.querySelector('.v-application')).backgroundColor"
        ) == "rgb(255, 255, 255)"
        expect(watch.page.locator(".v-app-bar .mdi-brightness-auto, .v-app-bar "
                                  ".mdi-weather-night, .v-app-bar .mdi-weather-sunny")
               .locator("visible=true")).to_have_count(0)
        watch.no_traceback()
    finally:
        watch.close()


FIT_SIZES = [(1280, 800), (1920, 1080)]
CHARTS = ("chart-shares", "chart-market-map", "chart-money", "chart-network",
          "chart-indicators")


@pytest.mark.parametrize(("width", "height"), FIT_SIZES, ids=lambda v: str(v))
def test_charts_fit_their_panels_and_text_is_readable(browser, server_url, width, height):
    """Issue 16, point 2: at both window sizes every chart lies inside its panel (nothing
    cut off at the bottom or the side), and no chart text — ticks, legends, labels — is
    under 11 px. Each chart is scrolled into view (charts off screen wait to be drawn)."""
    from playwright.sync_api import expect

    watch = PageWatch(browser, server_url, viewport={"width": width, "height": height})
    try:
        page = watch.page
        for date in ("2023-02", "2023-03", "2023-04"):
            watch.step(date)
        for testid in CHARTS:
            chart = page.get_by_test_id(testid)
            chart.scroll_into_view_if_needed()
            drawn = chart.locator(".moatsim-plotly")
            expect(drawn).to_have_attribute("data-drawn-month", "3")
            box = page.evaluate("""(testid) => {
                const chart = document.querySelector(`[data-testid=${testid}] .main-svg`);
                const panel = chart.closest('.vue-grid-item');
                const c = chart.getBoundingClientRect(), p = panel.getBoundingClientRect();
                return {chart: [c.left, c.top, c.right, c.bottom],
                        panel: [p.left, p.top, p.right, p.bottom]};
            }""", testid)
            (left, top, right, bottom), (p_left, p_top, p_right, p_bottom) = \
                box["chart"], box["panel"]
            assert p_left - 1 <= left and right <= p_right + 1, (testid, width, box)
            assert p_top - 1 <= top and bottom <= p_bottom + 1, (testid, width, box)
            assert right - left > 250, (testid, width, box)  # not squeezed to a sliver
            sizes = page.evaluate("""(testid) => [...document.querySelectorAll(
                `[data-testid=${testid}] .main-svg text`)].filter((t) => t.textContent.trim())
                .map((t) => parseFloat(getComputedStyle(t).fontSize))""", testid)
            assert sizes and min(sizes) >= 11, (testid, width, sorted(set(sizes)))
            cut = page.evaluate("""(testid) => {
                const svg = document.querySelector(`[data-testid=${testid}] .main-svg`)
                    .getBoundingClientRect();
                return [...document.querySelectorAll(`[data-testid=${testid}] .main-svg text`)]
                    .filter((t) => t.textContent.trim()).filter((t) => {
                        const r = t.getBoundingClientRect();
                        return r.left < svg.left - 1 || r.right > svg.right + 1; })
                    .map((t) => t.textContent); }""", testid)
            assert cut == [], (testid, width, cut)  # no text runs off the chart's sides
            titles = page.evaluate("""(testid) => [...document.querySelectorAll(
                `[data-testid=${testid}] .main-svg .infolayer text[class$=title]`)]
                .filter((t) => t.textContent.trim()).map((t) => {
                    const r = t.getBoundingClientRect();
                    return [t.textContent, r.left, r.top, r.right, r.bottom]; })""", testid)
            for i, (name_a, *a) in enumerate(titles):  # axis titles side by side, apart
                for name_b, *b in titles[i + 1:]:
                    apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                    assert apart, (testid, width, name_a, name_b)
        # the sidebar's cards one under another, none pushed off by an empty block
        cards = page.evaluate("""() => [...document.querySelectorAll(
            '.v-navigation-drawer .v-card')].map((c) => {
                const r = c.getBoundingClientRect(); return [r.top, r.bottom]; })""")
        assert len(cards) >= 3, cards
        gaps = [below[0] - above[1] for above, below in zip(cards, cards[1:])]
        assert max(gaps) < 40, (width, cards)
        watch.no_sideways_scrolling()
        watch.no_traceback()
        page.get_by_test_id("chart-shares").scroll_into_view_if_needed()
        watch.shot(f"viz-fit-{width}x{height}")
        assert watch.failures == [], watch.failures
    finally:
        watch.close()


def test_hovering_a_chart_names_the_firm_the_value_and_its_unit(viz):
    """Issue 16, point 2: hover shows firm, value, unit (plotly's hover label); point 4:
    the run shown can be downloaded."""
    from playwright.sync_api import expect

    page = viz.page
    for date in ("2023-02", "2023-03"):
        viz.step(date)
    chart = page.get_by_test_id("chart-market-map")
    chart.scroll_into_view_if_needed()
    # plotly listens on its drag layer, over the points: move the mouse to a bubble's centre
    box = chart.locator(".scatterlayer .trace .points path").last.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    label = chart.locator(".hoverlayer .hovertext")
    expect(label.first).to_be_visible()
    text = label.first.text_content()
    assert "quality" in text and "points" in text and "per user-month" in text, text
    assert re.search(r"\$\d+\.\d\d", text), text
    # the run shown, to keep: a zip with its tables and a scenario file that re-runs it
    import io
    import zipfile

    with page.expect_download(timeout=STEP_TIMEOUT_MS) as download:
        page.get_by_test_id("download").get_by_role("button").click()
    assert download.value.suggested_filename == "baseline-seed1-2023-03.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert "baseline-seed1-2023-03/baseline-seed1-2023-03.yaml" in archive.namelist()
    assert "months: 2" in archive.read("baseline-seed1-2023-03/baseline-seed1-2023-03.yaml"
                                       ).decode()
    # offline and private: no button that would upload the chart
    expect(page.get_by_role("button", name="Share chart...")).to_have_count(0)
    expect(chart.get_by_role("button", name="Download plot as a PNG")).to_have_count(1)


def test_a_shared_address_opens_the_same_run_and_month(browser, server_url):
    """Issue 16, point 4: the page's state is in its address, and opening that address
    shows the same scenario, seed, moved value and month; a Step moves the address on."""
    from playwright.sync_api import expect

    address = (server_url + "?scenario=no_moat&seed=3&month=4"
               "&first_mover__switching_cost_utils=2.5")
    watch = PageWatch(browser, address, month=4)
    try:
        page = watch.page
        expect(watch.date).to_have_text("2023-05", timeout=LOAD_TIMEOUT_MS)
        run = page.get_by_test_id("headline-run")
        expect(run).to_contain_text("no_moat")
        expect(run).to_contain_text("seed 3")
        expect(run).to_contain_text("changed: Switching cost 2.5 (scenario 0.3)")
        expect(watch.number_box("first_mover__switching_cost_utils")).to_have_value("2.5")
        expect(page.locator("[data-testid^=pending-]")).to_have_count(0)
        watch.step("2023-06")
        page.wait_for_function("() => location.search.includes('month=5')",
                               timeout=STEP_TIMEOUT_MS)
        assert "scenario=no_moat" in page.url and "seed=3" in page.url
        assert "first_mover__switching_cost_utils=2.5" in page.url
        watch.no_traceback()
        assert watch.failures == [], watch.failures
    finally:
        watch.close()
