"""The run shown on the page, to keep: its tables and a scenario file that re-runs it.

:func:`run_zip` packs the tables of the months run so far (``model``, ``firms``,
``backers``, ``segments``, ``events``, ``ledger``, as CSV and as Parquet — the files and
columns ``moatsim run`` writes), ``summary.json``, and :func:`run_yaml`: a scenario that
``extends`` the one shown and sets the values moved on the page, with the months run so far,
so ``moatsim run <that file> --seed <seed>`` gives the same tables.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

from moatsim import library


def _nested(path: str, value: Any) -> dict[str, Any]:
    *sections, name = path.split(".")
    tree: dict[str, Any] = {name: value}
    for section in reversed(sections):
        tree = {section: tree}
    return tree


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def extends_target(path: Path | None, name: str) -> str:
    """What the downloaded file extends: a bundled scenario by its name (found from any
    folder), any other file by its absolute path."""
    if path is None:
        return name
    resolved = path.resolve()
    if resolved.parent == library.folder("scenarios"):
        return resolved.stem
    return str(resolved)


def file_stem(model: Any) -> str:
    """``baseline-seed1-2024-05``: the scenario, the seed and the month shown."""
    label = str(getattr(model, "scenario_label", model.config.name)).split(" ")[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(label).stem)
    return f"{safe}-seed{model.seed}-{model.date}"


def run_yaml(model: Any) -> str:
    """A scenario file that re-runs the run shown: it extends the scenario the run was built
    from and sets every value moved on the page, for the months run so far."""
    data: dict[str, Any] = {
        "extends": extends_target(getattr(model, "scenario_path", None), model.config.name),
        "description": f"{model.config.description} (from the browser page"
                       + (", with " + ", ".join(f"{spec.path} = {value:g}"
                                                for spec, value, _ in model.changed)
                          if model.changed else "") + ")",
    }
    if model.month >= 1:  # month 0 alone is not a run: the file then runs the whole scenario
        data["months"] = int(model.month)
    for spec, value, _ in model.changed:
        _merge(data, _nested(spec.path, value))
    header = (f"# {file_stem(model)}: the run shown on moatsim's browser page, to the month "
              f"shown ({model.date}).\n"
              f"# Re-run it with: moatsim run {file_stem(model)}.yaml --seed {model.seed}\n")
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def run_zip(model: Any) -> bytes:
    """The run shown as a zip: tables (CSV and Parquet), summary and the scenario YAML."""
    from moatsim.experiments.outputs import TABLES
    from moatsim.experiments.run import collect_result

    result = collect_result(model, seed=int(model.seed))
    stem = file_stem(model)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}/{stem}.yaml", run_yaml(model))
        for name in TABLES:
            table = getattr(result, name)
            archive.writestr(f"{stem}/{name}.csv", table.to_csv(index=False))
            parquet = io.BytesIO()
            table.to_parquet(parquet, index=False)
            archive.writestr(f"{stem}/{name}.parquet", parquet.getvalue())
        archive.writestr(f"{stem}/summary.json", json.dumps(result.summary, indent=2) + "\n")
    return buffer.getvalue()
