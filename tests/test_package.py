"""The package imports as ``moatsim`` (issue 15, point 1): a Mesa project's own ``model.py``
and moatsim live side by side, and no top-level ``model`` module is installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_a_mesa_projects_own_model_py_and_moatsim_import_side_by_side(tmp_path):
    (tmp_path / "model.py").write_text(textwrap.dedent("""\
        import mesa

        class WealthModel(mesa.Model):
            '''A user's own Mesa model, in the model.py every Mesa project has.'''

        OWN_PROJECT = "mine"
        """))
    done = _python(f"""
        import model
        from moatsim import AIMarketModel, run_scenario
        assert model.OWN_PROJECT == "mine", model.__file__
        m = AIMarketModel({str(ROOT / "scenarios" / "baseline.yaml")!r}, rng=3)
        for _ in range(3):
            m.step()
        print(type(model.WealthModel()).__mro__[1].__name__, m.month)
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Model", "3"]


def test_no_top_level_model_module_is_installed(tmp_path):
    done = _python("""
        import importlib.util
        import moatsim.cli
        print(importlib.util.find_spec("model"), moatsim.cli.__name__)
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "moatsim.cli"]


def test_python_dash_m_moatsim_is_the_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "moatsim", "validate",
                           str(ROOT / "scenarios" / "baseline.yaml")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok  ")
