"""The data that ships with moatsim: scenarios, experiments, calibrations and the seeds.

The four folders live at the top of the checkout (the project card's layout); this package
holds them as symbolic links, so an editable install reads the checkout's files and a wheel
copies them in as package data (``pyproject.toml``'s ``package-data``). They are found with
:mod:`importlib.resources`, never relative to the current folder, so moatsim runs the same
from any folder once installed.

A scenario (or experiment, or calibration) can be named instead of given as a path:
:func:`find` turns ``baseline`` into a file. A path that exists is used as given; a bare
name (no folder in it) is looked up first in the user's own folder of that kind under the
current folder (``./scenarios/NAME.yaml``), then among the bundled files, so a user's copy
of a bundled scenario is the one that runs (docs/decisions.md).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SUFFIXES = (".yaml", ".yml")


def folder(name: str) -> Path:
    """The bundled folder ``name`` (``scenarios``, ``experiments``, ``calibrations`` or
    ``seeds``), as a real path."""
    resource = files(__name__) / name
    if not isinstance(resource, Path):  # a zipped install: the loader needs real files
        raise RuntimeError(f"moatsim's bundled {name}/ is not a folder on disk ({resource}); "
                           "install moatsim unzipped (pip does)")
    return resource.resolve()


def seed_file(name: str) -> Path:
    """A file of the bundled ``seeds/`` (articles, facts, history)."""
    return folder("seeds") / name


def yaml_files(place: Path) -> dict[str, Path]:
    """Name → file of every YAML file in ``place``, in name order."""
    return {path.stem: path for path in sorted(place.iterdir())
            if path.suffix in SUFFIXES and path.is_file()}


def bundled(kind: str) -> dict[str, Path]:
    """Name → file of every bundled input of ``kind``, in name order."""
    return yaml_files(folder(kind))


def user_folder(kind: str) -> Path | None:
    """``./<kind>/`` under the current folder if it exists and is not the bundled one."""
    here = Path(kind)
    if not here.is_dir() or here.resolve() == folder(kind):
        return None
    return here


def is_name(source: str | Path) -> bool:
    """Whether ``source`` is a bare name (``baseline``, ``baseline.yaml``) rather than a path
    with a folder in it."""
    text = str(source)
    return bool(text) and "/" not in text and "\\" not in text and text not in (".", "..")


def _named_in(place: Path, name: str) -> Path | None:
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix in SUFFIXES else name
    for suffix in SUFFIXES:
        candidate = place / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def bundled_file(kind: str, name: str) -> Path | None:
    """The bundled input of ``kind`` called ``name`` (``baseline`` or ``baseline.yaml``)."""
    return _named_in(folder(kind), name) if is_name(name) else None


def find(kind: str, source: str | Path) -> Path:
    """The file ``source`` names: the path itself if it exists or has a folder in it, else
    ``./<kind>/NAME.yaml``, else the bundled ``NAME.yaml``; else ``source`` unchanged, so the
    loader reports it as not found (with :func:`not_found_hint`)."""
    path = Path(source)
    if path.exists() or not is_name(source):
        return path
    mine = user_folder(kind)
    found = _named_in(mine, path.name) if mine is not None else None
    return found or bundled_file(kind, path.name) or path


def not_found_hint(kind: str, source: str | Path) -> str:
    """What to say when ``source`` names no file: the bundled names, if it was a name."""
    if not is_name(source):
        return ""
    names = ", ".join(bundled(kind))
    return f" (not a file here, in ./{kind}/ or among the bundled {kind}: {names})"


def checkout() -> Path | None:
    """The project's source checkout this moatsim runs from (an editable install), or None
    when it runs from an installed wheel: only a checkout has ``docs/`` to write into."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "model" / "library").is_dir():
        return root
    return None
