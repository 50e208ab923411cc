"""Writing a run's outputs atomically: a folder that is either complete or absent.

Everything is written into a staging folder beside the destination, then swapped in with
renames (:func:`moatsim.experiments.outfolder.write_atomically`), so an interrupted run never
leaves a half-written file that looks complete, a previous complete output is replaced only
once the new one is whole, and a folder holding anything moatsim did not write is never
replaced (``force`` moves it aside instead).
"""

from __future__ import annotations

import json
from pathlib import Path

from moatsim.experiments.figures import write_figures
from moatsim.experiments.outfolder import write_atomically
from moatsim.experiments.run import RunResult

OUTPUT_FILES = ("model.csv", "firms.csv", "segments.csv", "events.csv", "ledger.csv",
                "summary.json")


def write_run(result: RunResult, out_dir: Path, *, force: bool = False) -> Path:
    """Write tables, summary and figures of ``result`` to ``out_dir`` (replacing an earlier
    run's output whole; see :mod:`moatsim.experiments.outfolder`)."""
    return write_atomically(out_dir, lambda staging: _write_into(result, staging),
                            command="run", force=force)


def _write_into(result: RunResult, folder: Path) -> None:
    result.model.to_csv(folder / "model.csv", index=False)
    result.firms.to_csv(folder / "firms.csv", index=False)
    result.segments.to_csv(folder / "segments.csv", index=False)
    result.events.to_csv(folder / "events.csv", index=False)
    result.ledger.to_csv(folder / "ledger.csv", index=False)
    write_figures(result, folder / "figures")
    (folder / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                         encoding="utf-8")


__all__ = ["OUTPUT_FILES", "write_atomically", "write_run"]
