"""moatsim as a user installs it (issue 15, point 3): a wheel built from this checkout,
installed with pip into a fresh virtual environment, used from a folder that has nothing of
the project in it.

The wheel is built from a copy of the files the wheel is made of (so the build's ``build/``
and ``*.egg-info`` never land in the checkout) and installed with ``pip install --constraint
requirements.lock``, the exact versions CI tests. pip's cache makes the install take a minute
or two after ``make`` has installed the same versions once. The page is checked in Debian's
chromium, as the browser tests are (skipped without a browser, except under ``CI=true``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

WHEEL_PARTS = ("pyproject.toml", "README.md", "LICENSE", "model", "scenarios", "experiments",
               "calibrations", "seeds")
INSTALL_TIMEOUT_S = 1200
COMMAND_TIMEOUT_S = 600
PAGE_TIMEOUT_S = 180
# one worker builds and installs the wheel once for all three tests (needs --dist loadgroup)
pytestmark = pytest.mark.xdist_group("wheel")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"]


def _run(command: list[str], cwd: Path, timeout: float = COMMAND_TIMEOUT_S,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{' '.join(map(str, done.args))}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the fresh venv's bin/ folder, an empty working folder)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for part in WHEEL_PARTS:
        origin = ROOT / part
        if origin.is_dir():
            shutil.copytree(origin, source / part, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / part)
    dist = base / "dist"
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
              "--no-deps", str(source), "-w", str(dist)], base, INSTALL_TIMEOUT_S))
    wheels = list(dist.glob("moatsim-*.whl"))
    assert len(wheels) == 1, wheels
    python = _ok(_run([str(ROOT / "scripts" / "find-python")], base)).stdout.strip()
    venv = base / "venv"
    _ok(_run([python, "-m", "venv", str(venv)], base))
    _ok(_run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
              "--disable-pip-version-check", "--constraint", str(ROOT / "requirements.lock"),
              str(wheels[0])], base, INSTALL_TIMEOUT_S))
    work = base / "work"
    work.mkdir()
    return venv / "bin", work


def _clean_env() -> dict[str, str]:
    """This test's environment without anything pointing at the checkout or its venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    return env


def test_the_installed_command_works_from_any_folder(installed):
    bin_dir, work = installed
    moatsim = str(bin_dir / "moatsim")
    env = _clean_env()

    assert _ok(_run([moatsim, "--version"], work, env=env)).stdout.strip() == f"moatsim {VERSION}"

    listing = _ok(_run([moatsim, "list"], work, env=env)).stdout
    assert re.search(r"^bundled with moatsim \(.*site-packages/moatsim/library/scenarios\):$",
                     listing, re.M), listing
    assert re.search(r"^  baseline +The 2023 AI market", listing, re.M), listing
    assert "no_moat" in listing and "yours" not in listing

    checked = _ok(_run([moatsim, "validate", "baseline"], work, env=env)).stdout
    assert checked.startswith("ok  ") and "site-packages" in checked, checked
    assert "(baseline: 20 firms, 5 segments, 96 months)" in checked

    _ok(_run([moatsim, "run", "baseline", "--months", "12", "--quiet"], work, env=env))
    out = work / "runs" / "baseline-seed1"
    model_rows = (out / "model.csv").read_text(encoding="utf-8").splitlines()
    assert len(model_rows) == 1 + 13, model_rows[:3]  # a header, months 0…12
    assert sorted(p.name for p in out.iterdir()) == [
        ".moatsim-output.json", "backers.csv", "events.csv", "figures", "firms.csv", "ledger.csv",
        "model.csv", "segments.csv", "summary.json"]

    # a user's own scenario, by name, extending the bundled baseline by name
    (work / "scenarios").mkdir()
    (work / "scenarios" / "mine.yaml").write_text(
        'description: "the baseline without switching costs (C5)"\nextends: baseline\n'
        "months: 6\nfirst_mover:\n  switching_cost_utils: 0\n", encoding="utf-8")
    listing = _ok(_run([moatsim, "list"], work, env=env)).stdout
    assert re.search(r"^yours, in \./scenarios/ .*:\n  mine +the baseline without", listing,
                     re.M), listing
    assert "(mine: 20 firms, 5 segments, 6 months)" in _ok(
        _run([moatsim, "validate", "mine"], work, env=env)).stdout

    # a wheel has no checkout to document: docs needs --out, and writes only there
    refused = _run([moatsim, "docs"], work, env=env)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("moatsim: error: docs: ") and "--out" in refused.stderr
    _ok(_run([moatsim, "docs", "--out", "parameters.md"], work, env=env))
    assert (work / "parameters.md").read_text(encoding="utf-8").startswith("# Scenario parameters")
    assert sorted(p.name for p in work.iterdir()) == ["parameters.md", "runs", "scenarios"]


def test_the_installed_python_api_finds_its_data(installed):
    bin_dir, work = installed
    code = textwrap.dedent("""
        import importlib.util, moatsim
        from moatsim import AIMarketModel, run_scenario
        from moatsim.library import folder
        model = AIMarketModel("baseline", rng=4)
        for _ in range(3):
            model.step()
        result = run_scenario("no_moat", seed=2, months=6)
        print(moatsim.__version__)
        print(repr(model))
        print(int(result.model["month"].max()), result.firms["firm"].nunique())
        print(folder("seeds") / "facts.yaml", (folder("seeds") / "facts.yaml").is_file())
        print(importlib.util.find_spec("model"))
        """)
    done = _ok(_run([str(bin_dir / "python"), "-c", code], work, env=_clean_env()))
    version, shown, sizes, facts, model_spec = done.stdout.strip().splitlines()
    assert version == VERSION
    assert shown.startswith("<AIMarketModel 'baseline' at 2023-04 (month 3 of 96), leader ")
    assert sizes.split()[0] == "6" and int(sizes.split()[1]) >= 10
    assert "site-packages/moatsim/library/seeds/facts.yaml" in facts and facts.endswith("True")
    assert model_spec == "None"  # no top-level `model` module shadows a Mesa project's own


def test_the_installed_page_serves_the_model(installed):
    from tests.test_viz_browser import CHROMIUM, CHROMIUM_FLAGS, _missing_browser

    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the page check cannot run under CI=true: {reason}")
        pytest.skip(f"page check skipped: {reason}")
    from playwright.sync_api import expect, sync_playwright

    bin_dir, work = installed
    server = subprocess.Popen([str(bin_dir / "moatsim"), "viz", "--port", "0"], cwd=work,
                              env=_clean_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        address = None
        lines = []
        for line in server.stdout:  # the command prints the address once the page answers
            lines.append(line)
            found = re.search(r"the page is at (http://\S+/)", line)
            if found:
                address = found.group(1)
                break
        assert address is not None, "".join(lines)
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable,
                                                 args=CHROMIUM_FLAGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(address, timeout=PAGE_TIMEOUT_S * 1000)
                date = page.get_by_test_id("headline-date")
                expect(date).to_have_text("2023-01", timeout=PAGE_TIMEOUT_S * 1000)
                expect(page.get_by_test_id("headline-run")).to_contain_text(
                    "baseline", timeout=PAGE_TIMEOUT_S * 1000)
                page.get_by_role("button", name="Step", exact=True).click()
                expect(date).to_have_text("2023-02", timeout=PAGE_TIMEOUT_S * 1000)
                text = page.locator("body").inner_text()
                assert "Traceback" not in text and "error in step" not in text, text[:2000]
            finally:
                browser.close()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # `moatsim viz` stops its server on TERM
        assert server.wait(timeout=COMMAND_TIMEOUT_S) in (0, 128 + signal.SIGTERM)
        server.stdout.close()
    left = subprocess.run(["pgrep", "-g", str(server.pid)], capture_output=True, text=True)
    assert left.stdout == "", f"processes left behind: {left.stdout}"
