"""The example notebook (issue 15, point 4), executed as a user would run it: a Jupyter
kernel started by nbclient, in an empty folder, every cell in order."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "examples" / "tour.ipynb"
CELL_TIMEOUT_S = 900
pytestmark = pytest.mark.xdist_group("notebook")  # the notebook runs once, on one worker


def _builder():
    spec = importlib.util.spec_from_file_location("build_tour", ROOT / "examples" /
                                                  "build_tour.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_notebook_is_what_its_script_builds_without_outputs():
    committed = nbformat.read(NOTEBOOK, as_version=4)
    built = _builder().build()
    assert [c.source for c in committed.cells] == [c.source for c in built.cells]
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code")


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> list[nbformat.NotebookNode]:
    folder = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    assert list(Path(folder).iterdir()) == []  # the tour writes only to its own temp folder
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _outputs(cell, mime: str) -> list[str]:
    return [str(o["data"][mime]) for o in cell.outputs if mime in o.get("data", {})]


def test_every_cell_runs_and_shows_its_result(executed):
    assert all(o.output_type != "error" for cell in executed for o in cell.outputs)
    names, table, figure, model, comparison, sweep, viz = executed
    assert "'baseline'" in _outputs(names, "text/plain")[0]
    assert "2026-12" in _outputs(table, "text/plain")[0]  # 48 months from 2023-01
    assert _outputs(figure, "image/png"), "the inline plot is blank (a backend was forced)"
    assert _outputs(model, "text/plain")[0].startswith(
        "<AIMarketModel 'no_moat' at 2024-01 (month 12 of 96), leader ")
    shown = _outputs(comparison, "text/plain")[0]
    assert "first_mover_moat" in shown and "significant" in shown
    rows = _outputs(sweep, "text/plain")[0].splitlines()
    assert rows[1].startswith("first_mover.switching_cost_utils")
    assert [row.split()[0] for row in rows[2:]] == ["0.0", "1.0", "3.0"]
    assert _outputs(viz, "application/vnd.jupyter.widget-view+json"), \
        "SolaraViz showed no widget"
