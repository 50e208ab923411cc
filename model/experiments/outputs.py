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

TABLES = ("model", "firms", "backers", "segments", "events", "ledger")
FORMATS = ("csv", "parquet")
OUTPUT_FILES = (*(f"{table}.csv" for table in TABLES), "summary.json")


def write_run(result: RunResult, out_dir: Path, *, force: bool = False,
              table_format: str = "csv") -> Path:
    """Write tables (CSV or Parquet), summary and figures of ``result`` to ``out_dir``
    (replacing an earlier run's output whole; see :mod:`moatsim.experiments.outfolder`)."""
    if table_format not in FORMATS:
        raise ValueError(f"table_format must be one of {FORMATS}, not {table_format!r}")
    return write_atomically(out_dir, lambda staging: _write_into(result, staging, table_format),
                            command="run", force=force)


def _write_into(result: RunResult, folder: Path, table_format: str) -> None:
    for name in TABLES:
        table = getattr(result, name)
        if table_format == "parquet":
            table.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            table.to_csv(folder / f"{name}.csv", index=False)
    write_figures(result, folder / "figures")
    (folder / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                         encoding="utf-8")


__all__ = ["OUTPUT_FILES", "write_atomically", "write_run"]
