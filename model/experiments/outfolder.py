"""Output folders that never destroy what moatsim did not write.

Every command that writes a folder (``run``, ``patterns``, ``compare``; ``sweep`` through its
manifest) goes through this module:

* :func:`prepare_out` decides, before any simulation starts, whether ``--out`` may be used:
  never the current folder, a folder holding the inputs, the bundled input folders or a
  folder of scenario files (not even with ``--force``); a non-empty folder only if it holds a
  complete earlier output of the *same* command and nothing else (recognised by the marker
  file :data:`MARKER` that lists what was written), otherwise only with ``--force``, which
  moves the old folder aside to ``NAME.old-YYYYmmdd-HHMMSS`` and never deletes it.
* :func:`write_atomically` writes the new folder in a staging folder beside it
  (``.NAME.partial-<pid>-<random>``, made with the umask like any folder) and swaps it in
  with renames, so an interrupted write leaves the previous output whole. Staging folders of
  processes that died (SIGKILL) are removed by the next write to the same folder; nothing
  else is ever removed.
* :func:`write_file_atomically` replaces one file the same way (for reports, which add files
  to a folder that is not theirs alone).

Refusals are :class:`OutFolderError`, one line, which the command line prints with exit 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from moatsim import library

MARKER = ".moatsim-output.json"
PACKAGE = Path(__file__).resolve().parents[1]
"""The installed moatsim package (or the checkout's source folder): never holds an output."""
INPUT_FOLDERS = ("scenarios", "experiments", "calibrations", "seeds")
"""The folders of inputs, bundled (:mod:`moatsim.library`) and in the current folder: never
an output folder."""
SCENARIO_SUFFIXES = (".yaml", ".yml")

LEGACY_FILES: dict[str, frozenset[str]] = {
    "run": frozenset({"model.csv", "firms.csv", "segments.csv", "events.csv", "ledger.csv",
                      "summary.json", "figures", "figures/shares.png", "figures/quality.png",
                      "figures/cash.png", "figures/indicators.png"}),
    "compare": frozenset({"comparison.csv", "runs.csv", "series.csv", "comparison.md",
                          "figures", "figures/over_time.png", "figures/final_outcomes.png"}),
    "patterns": frozenset({"patterns.csv", "replicates.csv"}),
}
"""What each command wrote before it wrote a marker: a folder holding exactly these files is
an earlier output too (so folders written by older versions can still be replaced)."""

_OWN_TEMP = re.compile(r"^\.(?P<name>.+)\.(?:partial|retired)-(?P<pid>\d+)-[A-Za-z0-9_]+$")
_LIVE: set[str] = set()
"""Staging names this process is using now (so a reused pid never looks stale)."""


class OutFolderError(ValueError):
    """An output folder that cannot be used, told in one line."""


@dataclass(frozen=True)
class Verdict:
    """What is at ``out`` now: ``new`` (absent or empty), ``ours`` (an earlier output of the
    same command, nothing else) or ``foreign`` (anything else; ``problem`` says what)."""

    state: str
    problem: str = ""


# ---------------------------------------------------------------- checks


def prepare_out(out: Path, command: str, inputs: Iterable[Path] = (), *,
                force: bool = False, flag: str = "--out") -> Verdict:
    """Check ``out`` before any work starts; raise :class:`OutFolderError` if it cannot be
    used. Writes nothing: moving a folder aside (``force``) happens when the output is
    written, so a run that fails never moves anything."""
    out = Path(out)
    check_location(out, inputs, flag=flag)
    verdict = inspect(out, command, flag=flag)
    if verdict.state == "foreign" and not force:
        raise OutFolderError(verdict.problem)
    return verdict


def check_location(out: Path, inputs: Iterable[Path] = (), *, flag: str = "--out") -> None:
    """Refuse folders whose replacement would hide or move the user's work, even with
    ``--force``: the current folder (or one holding it), a folder holding an input file, the
    project or its input folders, a folder of scenario files."""
    where = _resolved(out)
    shown = f"{flag} {out}"
    cwd = _resolved(Path.cwd())
    if _contains(where, cwd):
        what = "is the current folder" if where == cwd else "holds the current folder"
        raise OutFolderError(f"{shown}: {what}; choose a new folder for the outputs")
    for path in inputs:
        if _contains(where, _resolved(Path(path)).parent):
            raise OutFolderError(f"{shown}: holds the input file {path}; choose a folder "
                                 "outside the inputs' folders")
    project = library.checkout()
    for what, root in (("the moatsim project", project), ("the moatsim package", PACKAGE)):
        if root is not None and _contains(where, _resolved(root)):
            raise OutFolderError(f"{shown}: holds {what}; choose a new folder for the outputs")
    for name in INPUT_FOLDERS:
        for whose, place in (("moatsim's bundled", library.folder(name)),
                             ("the current folder's", Path(name))):
            if where == _resolved(place):
                raise OutFolderError(f"{shown}: is {whose} {name}/ folder; choose a new "
                                     "folder for the outputs")
    if where == _resolved(Path.home()):
        raise OutFolderError(f"{shown}: is the home folder; choose a new folder for the "
                             "outputs")
    if where.is_dir():
        scenarios = sorted(p.name for p in where.iterdir()
                           if p.suffix in SCENARIO_SUFFIXES and p.is_file())
        if scenarios:
            raise OutFolderError(f"{shown}: holds scenario files ({scenarios[0]} …); choose "
                                 "a new folder for the outputs")


def inspect(out: Path, command: str, *, flag: str = "--out") -> Verdict:
    """Classify what is at ``out`` now (see :class:`Verdict`); reads, never writes."""
    out = Path(out)
    shown = f"{flag} {out}"
    if out.is_symlink():
        raise OutFolderError(f"{shown}: is a symbolic link; give the folder it points to")
    if out.exists() and not out.is_dir():
        raise OutFolderError(f"{shown}: exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return Verdict("new")
    advice = (f"use --force to move it aside (to {out.name}.old-<date>-<time>), or choose a "
              "new folder")
    marker = read_marker(out)
    if marker is None:
        legacy = LEGACY_FILES.get(command)
        if legacy is not None and _listing(out, limit=len(legacy)) == legacy:
            return Verdict("ours")
        first = sorted(p.name for p in out.iterdir())[0]
        return Verdict("foreign", f"{shown}: the folder holds files moatsim did not write "
                                  f"({first} …); {advice}")
    if marker.get("command") != command:
        return Verdict("foreign", f"{shown}: holds the output of `moatsim "
                                  f"{marker.get('command')}`, not of `moatsim {command}`; "
                                  f"{advice}")
    written = {*marker.get("files", []), MARKER}
    extra = _listing(out, limit=len(written)) - written
    if extra:
        return Verdict("foreign", f"{shown}: holds files moatsim did not write beside its "
                                  f"earlier output ({_first(extra)} …); {advice}")
    return Verdict("ours")


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def _contains(folder: Path, path: Path) -> bool:
    """Whether ``path`` is ``folder`` or inside it."""
    return path == folder or folder in path.parents


def _listing(folder: Path, limit: int | None = None) -> frozenset[str]:
    """Every file and folder under ``folder``, as relative POSIX paths (links not followed);
    with ``limit``, stops once it has found more than that many (a big folder of the user's
    is refused without reading all of it)."""
    found: set[str] = set()
    for top, dirs, files in os.walk(folder):
        base = Path(top).relative_to(folder)
        found.update((base / name).as_posix() for name in (*dirs, *files))
        if limit is not None and len(found) > limit:
            break
    return frozenset(found)


def _first(names: Iterable[str]) -> str:
    return sorted(names, key=lambda n: (n.count("/"), n))[0]


# ---------------------------------------------------------------- the marker


def read_marker(folder: Path) -> dict | None:
    """The marker in ``folder``, or None if there is none (or it is unreadable: then the
    folder is treated as not ours, the safe side)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(folder: Path, command: str) -> None:
    """Name the command, version, time and every file written; written last, so a folder
    with a marker is a complete output."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        moatsim = version("moatsim")
    except PackageNotFoundError:
        moatsim = None
    data = {"command": command, "version": moatsim,
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": sorted(_listing(folder))}
    (Path(folder) / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- writing


def write_atomically(out_dir: Path, fill: Callable[[Path], None], *, command: str,
                     force: bool = False) -> Path:
    """Let ``fill`` write a fresh folder, then put it at ``out_dir`` with renames.

    What is at ``out_dir`` is looked at again now (the user may have changed it while the
    simulation ran): an earlier output of ``command`` is replaced and removed; anything else
    is refused, or with ``force`` moved aside (never deleted).
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out_dir.parent, out_dir.name)
    staging = _new_sibling(out_dir, "partial", folder=True)
    try:
        fill(staging)
        write_marker(staging, command)
        verdict = inspect(out_dir, command)
        if verdict.state == "foreign" and not force:
            raise OutFolderError(verdict.problem)
        if verdict.state == "foreign":
            move_aside(out_dir)
        if verdict.state == "ours":
            _swap_in(staging, out_dir)
        else:
            os.replace(staging, out_dir)  # absent, or an empty folder
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _LIVE.discard(staging.name)
    return out_dir


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace our own earlier output: rename it away, rename the new one in, delete the
    old (it held only files moatsim wrote)."""
    retired = _new_sibling(out_dir, "retired", folder=False)
    try:
        os.replace(out_dir, retired)
        os.replace(staging, out_dir)
    finally:
        _LIVE.discard(retired.name)
    shutil.rmtree(retired, ignore_errors=True)


def move_aside(out_dir: Path) -> Path:
    """Rename ``out_dir`` to a visible ``NAME.old-YYYYmmdd-HHMMSS`` beside it, say so on
    stderr, and return the new path. Never deletes anything."""
    out_dir = Path(out_dir)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = out_dir.with_name(f"{out_dir.name}.old-{stamp}")
    number = 1
    while os.path.lexists(target):  # rename() would silently replace an empty folder
        number += 1
        target = out_dir.with_name(f"{out_dir.name}.old-{stamp}-{number}")
    os.rename(out_dir, target)
    print(f"moatsim: --force: moved the old {out_dir} aside to {target}", file=sys.stderr)
    return target


def write_file_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` write a temporary file beside ``path``, then rename it to ``path``: a
    reader sees the old file or the new one, never half of one. Touches no other file."""
    path = Path(path)
    remove_stale(path.parent, path.name)
    temp = _new_sibling(path, "partial", folder=False)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    finally:
        _LIVE.discard(temp.name)
    return path


def _new_sibling(path: Path, kind: str, *, folder: bool) -> Path:
    """A fresh ``.NAME.<kind>-<pid>-<random>`` beside ``path`` (a folder made with the
    umask if ``folder``; mkdtemp would make it private, and the output would stay 0700)."""
    while True:
        candidate = path.with_name(f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")
        if folder:
            try:
                os.mkdir(candidate)
            except FileExistsError:
                continue
        elif os.path.lexists(candidate):
            continue
        _LIVE.add(candidate.name)
        return candidate


def remove_stale(parent: Path, name: str) -> list[Path]:
    """Remove the staging files and folders for ``name`` in ``parent`` left by processes
    that no longer run (a SIGKILLed command). Only names of our exact pattern, of a dead pid
    (or of this process but not in use), are touched; anything else is the user's."""
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        match = _OWN_TEMP.match(entry.name)
        if not match or match["name"] != name or entry.name in _LIVE:
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and _alive(pid):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


__all__ = ["MARKER", "OutFolderError", "Verdict", "check_location", "inspect", "move_aside",
           "prepare_out", "read_marker", "remove_stale", "write_atomically",
           "write_file_atomically", "write_marker"]
