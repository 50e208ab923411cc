"""Output folders never destroy what moatsim did not write (issue 9, points 1 and 3).

Every test goes through the real command line (``python -m moatsim ...`` in a subprocess):
a folder holding a user's file is refused with one line and left byte-identical, ``--force``
moves it aside (never deletes it), a command replaces only its own earlier output, ``--out``
is never the current folder, an input's folder or the scenarios folder, folders follow the
umask, staging folders of killed runs are cleaned up (and nothing else is), ``report`` and
``sweep`` leave a user's files in ``figures/`` and ``.tmp/`` alone, and a bad
``manifest.json`` is one line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from moatsim.experiments import outfolder
from tests.conftest import BASELINE, ROOT, moatsim

NO_MOAT = ROOT / "scenarios" / "no_moat.yaml"
EXPERIMENT = f"""\
description: two short runs
scenario: {BASELINE}
replicates: 1
months: 3
parameters:
  first_mover.switching_cost_utils: {{values: [0.5, 4]}}
metrics:
  final: [hhi, first_mover_share]
"""
WRITERS = ("run", "patterns", "compare", "sweep")
"""The commands with ``--out``."""


def arguments(command: str, out: Path | str, *, scenario: Path = BASELINE,
              experiment: Path | None = None) -> list:
    """A quick invocation of ``command`` writing to ``out``."""
    if command == "run":
        return ["run", scenario, "--months", "2", "--out", out, "--quiet"]
    if command == "patterns":
        return ["patterns", scenario, "--replicates", "1", "--months", "2", "--workers", "1",
                "--out", out]
    if command == "compare":
        return ["compare", scenario, NO_MOAT, "--replicates", "2", "--months", "2",
                "--workers", "1", "--out", out]
    if command == "sweep":
        return ["sweep", experiment, "--out", out, "--workers", "1", "--quiet"]
    raise ValueError(command)


def moatsim_in(cwd: Path, *args) -> subprocess.CompletedProcess[str]:
    """The command line run from ``cwd`` (``moatsim`` is this checkout's, installed editable,
    whatever the current folder)."""
    return subprocess.run([sys.executable, "-m", "moatsim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``, hidden ones included."""
    return {p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("moatsim: error: ") and done.stderr.count("\n") == 1, \
        done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def users_folder(parent: Path) -> Path:
    folder = parent / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_bytes(b"my notes\n\x00\xff")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return folder


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "small.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory, experiment) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "done"
    done = moatsim("sweep", experiment, "--out", out, "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "out"
    done = moatsim(*arguments("run", out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def run_copy(earlier_run, tmp_path) -> Path:
    return Path(shutil.copytree(earlier_run, tmp_path / "out"))


@pytest.fixture
def sweep_copy(finished_sweep, tmp_path) -> Path:
    out = tmp_path / "sweep"
    shutil.copytree(finished_sweep, out)
    return out


# ---------------------------------------------------------------- a user's folder


@pytest.mark.parametrize("command", [*WRITERS, "report"])
def test_a_users_folder_is_refused_and_left_byte_identical(command, tmp_path, experiment):
    work = tmp_path / "work"
    mine = users_folder(work)
    before = snapshot(work)
    if command == "report":
        done = moatsim("report", mine)
        assert "not a sweep folder" in one_error_line(done)
    else:
        done = moatsim(*arguments(command, mine, experiment=experiment))
        error = one_error_line(done)
        assert "notes.txt" in error or "sub" in error
        assert "--force" in error
    assert snapshot(work) == before  # nothing changed, nothing added beside it


@pytest.mark.parametrize("command", WRITERS)
def test_force_moves_the_users_folder_aside_and_never_deletes_it(command, tmp_path, experiment):
    work = tmp_path / "work"
    mine = users_folder(work)
    before = snapshot(mine)
    done = moatsim(*arguments(command, mine, experiment=experiment), "--force")
    assert done.returncode == 0, done.stderr
    aside = [p for p in work.iterdir() if p.name.startswith("mine.old-")]
    assert len(aside) == 1 and snapshot(aside[0]) == before
    assert f"moved the old {mine} aside to {aside[0]}" in done.stderr
    own = "manifest.json" if command == "sweep" else outfolder.MARKER
    assert (mine / own).is_file() and not (mine / "notes.txt").exists()
    assert sorted(p.name for p in work.iterdir()) == ["mine", aside[0].name]


@pytest.mark.parametrize("command", WRITERS)
def test_a_command_replaces_its_own_earlier_output(command, tmp_path, experiment):
    out = tmp_path / "out"
    first = moatsim(*arguments(command, out, experiment=experiment))
    assert first.returncode == 0, first.stderr
    again = arguments(command, out, experiment=experiment)
    second = moatsim(*again, *(["--resume"] if command == "sweep" else []))
    assert second.returncode == 0, second.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging, retired or old copy
    if command != "sweep":
        marker = json.loads((out / outfolder.MARKER).read_text())
        assert marker["command"] == command and marker["version"]
        assert "written" in marker and set(marker["files"]) == set(snapshot(out)) - {
            outfolder.MARKER}


def test_an_earlier_run_without_a_marker_is_still_recognised(run_copy):
    """Folders written before the marker existed hold exactly the files a run wrote then
    (backers.csv came after the marker: a folder without a marker never holds it)."""
    out = run_copy
    (out / outfolder.MARKER).unlink()
    (out / "backers.csv").unlink()
    done = moatsim(*arguments("run", out))
    assert done.returncode == 0, done.stderr
    assert (out / outfolder.MARKER).is_file()


def test_another_commands_output_is_not_replaced(run_copy, tmp_path):
    out = run_copy
    before = snapshot(tmp_path)
    done = moatsim(*arguments("compare", out))
    assert "holds the output of `moatsim run`, not of `moatsim compare`" in one_error_line(done)
    assert snapshot(tmp_path) == before


def test_force_and_resume_together_are_refused(sweep_copy, experiment):
    before = snapshot(sweep_copy.parent)
    done = moatsim(*arguments("sweep", sweep_copy, experiment=experiment), "--resume",
                   "--force")
    assert "contradict" in one_error_line(done)
    assert snapshot(sweep_copy.parent) == before


def test_a_folder_changed_while_the_run_ran_is_not_replaced(run_copy, tmp_path):
    """The folder is looked at again when the output is written, not only at the start."""
    out = run_copy
    assert outfolder.prepare_out(out, "run").state == "ours"

    def fill(staging: Path) -> None:
        (staging / "model.csv").write_text("new\n")
        (out / "notes.txt").write_text("written by the user meanwhile")

    with pytest.raises(outfolder.OutFolderError, match=r"notes\.txt"):
        outfolder.write_atomically(out, fill, command="run")
    assert (out / "notes.txt").read_text() == "written by the user meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---------------------------------------------------------------- where --out may not be


@pytest.mark.parametrize("case", ["current folder", "current folder with --force",
                                  "the input's folder", "scenarios"])
@pytest.mark.parametrize("command", WRITERS)
def test_out_is_never_the_current_folder_the_inputs_or_scenarios(command, case, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    scenario = Path(shutil.copy(BASELINE, inputs / "baseline.yaml"))
    experiment = inputs / "small.yaml"
    experiment.write_text(EXPERIMENT.replace(str(BASELINE), str(scenario)), encoding="utf-8")
    cwd, extra = (tmp_path, [])
    if case.startswith("current folder"):
        cwd, out = inputs, "."
        extra = ["--force"] if "force" in case else []
    elif case == "the input's folder":
        out = "inputs"
    else:
        out = ROOT / "scenarios"
    watched = [tmp_path, ROOT / "scenarios"]
    before = [snapshot(folder) for folder in watched]
    done = moatsim_in(cwd, *arguments(command, out, scenario=scenario, experiment=experiment),
                      *extra)
    error = one_error_line(done)
    reason = {"the input's folder": "holds the input file",
              "scenarios": "is moatsim's bundled scenarios/ folder"}.get(case,
                                                                     "is the current folder")
    assert reason in error or (command == "compare" and "holds the input file" in error), error
    assert [snapshot(folder) for folder in watched] == before
    assert not [p for p in ROOT.iterdir() if p.name.startswith(".scenarios.")]


# ---------------------------------------------------------------- modes and staging


def run_with_umask(umask: int, *args) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moatsim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, umask=umask)


@pytest.mark.parametrize(("umask", "folder_mode", "file_mode"),
                         [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)],
                         ids=["umask 022", "umask 027"])
def test_run_output_follows_the_umask(umask, folder_mode, file_mode, tmp_path):
    out = tmp_path / "out"
    done = run_with_umask(umask, *arguments("run", out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == folder_mode
    assert (out / "figures").stat().st_mode & 0o777 == folder_mode
    assert (out / "model.csv").stat().st_mode & 0o777 == file_mode


def test_sweep_and_report_follow_the_umask(tmp_path, experiment):
    out = tmp_path / "sweep"
    done = run_with_umask(0o022, *arguments("sweep", out, experiment=experiment))
    assert done.returncode == 0, done.stderr
    done = run_with_umask(0o022, "report", out)
    assert done.returncode == 0, done.stderr
    for folder in (out, out / "results", out / "figures"):
        assert folder.stat().st_mode & 0o777 == 0o755, folder
    for file in (out / "report.html", *(out / "figures").glob("*.png")):
        assert file.stat().st_mode & 0o777 == 0o644, file


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not psutil.pid_exists(process.pid)
    return process.pid


def test_stale_staging_of_dead_runs_is_removed_and_nothing_else(tmp_path):
    gone = dead_pid()
    stale = tmp_path / f".run.partial-{gone}-x"
    stale.mkdir()
    (stale / "model.csv").write_text("half written")
    stale_file = tmp_path / f".run.partial-{gone}-abc123"
    stale_file.write_text("half a file")
    kept = {
        f".run.partial-{psutil.Process().pid}-x": "a staging folder of a live process",
        f".other.partial-{gone}-x": "another output's staging folder",
        ".run.partial-notes": "not our pattern",
        ".mine": "a user's hidden folder",
        "run.partial-1-x": "not hidden: not ours",
    }
    for name, text in kept.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.txt").write_text(text)
    before = {name: snapshot(tmp_path / name) for name in kept}
    done = moatsim(*arguments("run", tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and not stale_file.exists()
    assert {name: snapshot(tmp_path / name) for name in kept} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "run"])


# ---------------------------------------------------------------- report and sweep folders


def test_report_keeps_the_users_files_in_figures_and_beside_them(sweep_copy):
    figures = sweep_copy / "figures"
    figures.mkdir()
    (figures / "user.png").write_bytes(b"\x89PNG not really mine")
    (figures / "notes.md").write_text("my notes on the figures")
    (sweep_copy / "notes.txt").write_text("my notes on the sweep")
    users = {p: p.read_bytes() for p in (figures / "user.png", figures / "notes.md",
                                         sweep_copy / "notes.txt")}
    for _ in range(2):  # a first report, then one that replaces it
        done = moatsim("report", sweep_copy)
        assert done.returncode == 0, done.stderr
        assert {p: p.read_bytes() for p in users} == users
    ours = sorted(p.name for p in figures.glob("response-*.png"))
    assert ours and f"({len(ours)} figures in" in done.stdout
    assert not [p for p in figures.iterdir() if p.name.startswith(".")]  # no temp files
    assert (sweep_copy / "report.html").is_file() and (sweep_copy / "report.md").is_file()


def test_report_refuses_a_figures_file(sweep_copy):
    (sweep_copy / "figures").write_text("a file, not a folder")
    before = snapshot(sweep_copy)
    assert "figures: exists and is not a folder" in one_error_line(moatsim("report", sweep_copy))
    assert snapshot(sweep_copy) == before


def test_sweep_keeps_the_users_files_in_tmp(sweep_copy, experiment, tmp_path):
    tmp = sweep_copy / ".tmp"
    (tmp / "keep.txt").write_text("mine")
    (tmp / "results-1.999999.abcdef").write_text("left by a killed sweep")
    done = moatsim(*arguments("sweep", sweep_copy, experiment=experiment), "--resume")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp.iterdir()) == ["keep.txt"]  # its own leftover removed
    assert (tmp / "keep.txt").read_text() == "mine"

    fresh = tmp_path / "fresh"
    (fresh / ".tmp").mkdir(parents=True)
    (fresh / ".tmp" / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    error = one_error_line(moatsim(*arguments("sweep", fresh, experiment=experiment)))
    assert ".tmp/keep.txt" in error
    assert snapshot(tmp_path) == before


BAD_MANIFESTS = {"empty": (b"", "is empty"), "blank": (b"  \n", "is empty"),
                 "a list": (b"[1, 2]", "expected a JSON object, found a list"),
                 "a string": (b'"sweep"', "expected a JSON object, found a string"),
                 "corrupt": (b'{"format": "moatsim-sweep/1", ', "not valid JSON at line 1"),
                 "binary": (b"\xff\xfe\x00\x01", "not a text file")}


@pytest.mark.parametrize("command", ["sweep --resume", "report"])
@pytest.mark.parametrize("kind", BAD_MANIFESTS)
def test_a_bad_manifest_is_one_line_and_writes_nothing(command, kind, sweep_copy, experiment):
    content, problem = BAD_MANIFESTS[kind]
    (sweep_copy / "manifest.json").write_bytes(content)
    before = snapshot(sweep_copy.parent)
    if command == "report":
        done = moatsim("report", sweep_copy)
    else:
        done = moatsim(*arguments("sweep", sweep_copy, experiment=experiment), "--resume")
    error = one_error_line(done)
    assert error.startswith(f"moatsim: error: {sweep_copy / 'manifest.json'}: {problem}"), error
    assert snapshot(sweep_copy.parent) == before
