"""``docs/parameters.md`` generated from the scenario schema, so the two cannot drift.

``moatsim docs`` writes it; ``moatsim docs --check`` (and tests/test_docs.py) fails when the
committed file differs from what the schema says.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from moatsim import library
from moatsim.params import param_meta
from moatsim.scenario import Scenario

DOC_NAME = Path("docs") / "parameters.md"


def doc_path() -> Path | None:
    """``docs/parameters.md`` of the checkout moatsim runs from; None when installed from a
    wheel (there is no project to document: give ``moatsim docs --out FILE``)."""
    root = library.checkout()
    return None if root is None else root / DOC_NAME

HEADER = """\
# Scenario parameters

Generated from the schema in `model/scenario.py` by `moatsim docs`; do not edit by hand
(`moatsim docs --check` and the tests fail when this file is stale).

Paths address list entries by id: `firms.<firm>.cash_musd` is set in YAML under the firm
with that `id`, on the command line as `--set firms.openai.cash_musd=500`, and as a flat
keyword (for `mesa.batch_run`, SolaraViz, EMA Workbench) as `firms__openai__cash_musd`.
A source is a seed fact id (see `seeds/facts.yaml`), an outside reference, or
`assumption: <why>`. Values set for a particular firm, segment, cohort or investment in a
scenario file carry their own source in that entry's `sources` mapping.
"""


def _nested_model(annotation: typing.Any) -> tuple[type[BaseModel] | None, str]:
    """The model inside ``X``, ``list[X]`` or ``dict[str, X]``, and the path part it adds."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args and _is_model(args[0]):
        return args[0], ".<id>"
    if origin is dict and len(args) == 2 and _is_model(args[1]):
        return args[1], ".<segment>"
    if _is_model(annotation):
        return annotation, ""
    return None, ""


def _is_model(value: typing.Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, ...]]:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested, part = _nested_model(field.annotation)
        if nested is not None:
            yield from _rows(nested, f"{path}{part}.")
            continue
        meta = param_meta(field)
        if not meta:
            continue
        low = meta.get("ge", meta.get("gt"))
        high = meta.get("le", meta.get("lt"))
        yield (f"`{path}`", meta["unit"], _number(field.default),
               f"{_number(low)} – {_number(high)}",
               field.description or "", meta["source"])


def _number(value: typing.Any) -> str:
    return "" if value is None else f"{value:g}"


def render() -> str:
    lines = [HEADER]
    sections: dict[str, list[tuple[str, ...]]] = {}
    for row in _rows(Scenario, ""):
        section = row[0].strip("`").split(".")[0]
        sections.setdefault(section, []).append(row)
    for section, rows in sections.items():
        lines.append(f"\n## {section}\n")
        doc = (Scenario.model_fields[section].description or "").strip()
        if doc:
            lines.append(f"{doc}\n")
        lines.append("| parameter | unit | default | range | description | source |")
        lines.append("|---|---|---|---|---|---|")
        for row in rows:
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def is_ours(path: Path) -> bool:
    """Whether ``path`` is absent or a parameters document this module wrote (so writing
    it loses nothing a person made)."""
    if not path.exists():
        return True
    if not path.is_file():
        return False
    with path.open("rb") as stream:
        return stream.read(len(HEADER.encode())) == HEADER.encode()


def write(path: Path) -> Path:
    """Write the document to ``path`` atomically; the caller checked :func:`is_ours`."""
    from moatsim.experiments.outfolder import write_file_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_file_atomically(
        path, lambda temp: temp.write_text(render(), encoding="utf-8"))


def is_current(path: Path) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render()
