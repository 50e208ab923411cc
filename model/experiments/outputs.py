"""Writing a run's outputs atomically: a folder that is either complete or absent.

Everything is written into a staging folder beside the destination, then swapped in with
renames, so an interrupted run never leaves a half-written file that looks complete, and a
previous complete output is replaced only once the new one is whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from model.experiments.figures import write_figures
from model.experiments.run import RunResult

OUTPUT_FILES = ("model.csv", "firms.csv", "segments.csv", "events.csv", "ledger.csv",
                "summary.json")


def write_run(result: RunResult, out_dir: Path) -> Path:
    """Write tables, summary and figures of ``result`` to ``out_dir`` (replacing it whole)."""
    return write_atomically(out_dir, lambda staging: _write_into(result, staging))


def _write_into(result: RunResult, folder: Path) -> None:
    result.model.to_csv(folder / "model.csv", index=False)
    result.firms.to_csv(folder / "firms.csv", index=False)
    result.segments.to_csv(folder / "segments.csv", index=False)
    result.events.to_csv(folder / "events.csv", index=False)
    result.ledger.to_csv(folder / "ledger.csv", index=False)
    write_figures(result, folder / "figures")
    (folder / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                         encoding="utf-8")


def write_atomically(out_dir: Path, fill: Callable[[Path], None]) -> Path:
    """Let ``fill`` write a fresh folder, then put it at ``out_dir`` in one rename."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        fill(staging)
        if out_dir.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, retired / out_dir.name)
            os.replace(staging, out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
