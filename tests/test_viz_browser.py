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

    def __init__(self, browser, url: str, **context: Any):
        self.context = browser.new_context(viewport=VIEWPORT, **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(STEP_TIMEOUT_MS)
        self.failures: list[str] = []
        self.page.on("requestfailed", lambda r: self.failures.append(f"failed {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failures.append(
            f"HTTP {r.status} {r.url}"))
        self.page.goto(url)
        # the first paint is Solara's loader: wait for the page's own text
        self.date.wait_for(timeout=LOAD_TIMEOUT_MS)
        self.page.get_by_test_id("chart-shares").wait_for(timeout=LOAD_TIMEOUT_MS)

    @property
    def date(self):
        return self.page.get_by_test_id("headline-date")

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def step(self, expected_date: str) -> None:
        from playwright.sync_api import expect

        self.button("Step").click()
        expect(self.date).to_have_text(expected_date, timeout=STEP_TIMEOUT_MS)

    def reset(self, expected_run: str | None = None) -> None:
        from playwright.sync_api import expect

        self.button("Reset").click()
        # Reset builds a new model from the scenario file: allow a loaded machine its time
        expect(self.date).to_have_text("2023-01", timeout=STEP_TIMEOUT_MS)
        if expected_run is not None:
            expect(self.page.get_by_test_id("headline-run")).to_contain_text(
                expected_run, timeout=STEP_TIMEOUT_MS)

    def slider(self, label: str):
        return self.page.locator(".v-input__slider", has_text=label).get_by_role("slider")

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
        expect(page.get_by_test_id(testid).locator("img")).to_be_visible()
    expect(page.get_by_text("Cash and runway by firm")).to_be_visible()
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


def test_switch_scenario_then_sliders_at_their_extremes_and_reset(viz):
    from playwright.sync_api import expect

    page = viz.page
    viz.step("2023-02")
    viz.pick_scenario("first_mover_moat")
    expect(page.get_by_test_id("headline-run")).to_contain_text("first_mover_moat")
    expect(viz.date).to_have_text("2023-01")
    # the sliders show the picked scenario's own values (its brand lasts ten years)
    half_life = viz.slider("brand half-life")
    expect(half_life).to_have_attribute("aria-valuenow", "120")
    viz.step("2023-02")

    sliders = page.locator(".v-input__slider", has_text="(").get_by_role("slider")
    count = sliders.count()
    assert count >= 8  # Mesa's two (play and render interval) and the model's six
    for end, key in (("max", "End"), ("min", "Home")):
        for index in range(2, count):  # leave Mesa's play and render intervals alone
            sliders.nth(index).focus()
            sliders.nth(index).press(key)
        expect(half_life).to_have_attribute("aria-valuenow", "1200" if end == "max" else "0.1")
        viz.reset("first_mover_moat")
        expect(page.get_by_test_id("viz-problem")).to_have_count(0)
        viz.step("2023-02")
        viz.step("2023-03")
        viz.no_traceback()
        viz.shot(f"viz-sliders-{end}")
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
    expect(viz.button("Step")).to_be_enabled()
    viz.button("Step").click()  # refused: the run does not move, the message stays
    expect(viz.button("Step")).to_be_disabled()
    expect(viz.date).to_have_text("2023-01")
    viz.no_traceback()
    viz.shot("viz-bad-seed")

    seed.fill("7")
    seed.press("Enter")
    viz.reset("seed 7")
    expect(problem).to_have_count(0)
    viz.button("▶").click()
    expect(viz.date).not_to_have_text("2023-01", timeout=STEP_TIMEOUT_MS)
    expect(viz.date).not_to_have_text("2023-02", timeout=STEP_TIMEOUT_MS)
    # Reset in the middle of a run, while it plays. Mesa stops playing, but its play thread
    # can land one last step on the fresh run (a race inside Mesa's ModelController), so the
    # page may show 2023-01 or 2023-02 — never the old run's date, never more than one step.
    viz.button("Reset").click()
    expect(viz.button("▶")).to_be_enabled()
    page.wait_for_timeout(600)  # any stray step has landed by now
    expect(viz.date).to_have_text(re.compile(r"^2023-0[12]$"))
    expect(page.get_by_test_id("headline-run")).to_contain_text("seed 7")
    viz.reset("seed 7")  # with nothing playing, Reset starts over exactly
    page.wait_for_timeout(600)
    expect(viz.date).to_have_text("2023-01")
    viz.step("2023-02")
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
