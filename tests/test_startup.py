"""Start-up: ``moatsim --help`` loads no heavy library, ``validate`` only the loader and
schema (timings: benchmarks/startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pydantic", "yaml", "pandas", "numpy", "mesa", "matplotlib", "pyarrow", "dask",
         "distributed", "solara", "scipy", "tqdm")


def _imported_after(code: str) -> set[str]:
    probe = (f"{code}\nimport sys\n"
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return set(done.stdout.split())


def test_help_imports_no_heavy_library():
    code = ("import contextlib, io\nfrom moatsim.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])")
    assert _imported_after(code) == set()


def test_validate_imports_only_the_loader_and_schema():
    code = ("import contextlib, io\nfrom moatsim.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['validate', 'scenarios/baseline.yaml']) == 0")
    assert _imported_after(code) <= {"pydantic", "yaml"}


def test_import_model_is_light():
    assert _imported_after("import model") == set()
