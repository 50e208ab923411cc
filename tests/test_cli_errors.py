"""Bad input through the real command line: one line on stderr, exit code 2, nothing written.

Every case runs ``python -m model run SCENARIO --out DIR`` as a subprocess (the same entry
point as the ``moatsim`` script) and checks that:

- the exit code is 2 and stderr is exactly one non-empty line, with no traceback anywhere;
- that line names the file, the line number where it can be known (``file:LINE:``) and the
  dotted key path (list entries by their ``id``), and suggests the closest valid name;
- the ``--out`` folder was not created, and no staging folder (``.run.partial-*``) was left
  beside it.

Unreadable files: the tests run as root, where ``chmod 000`` does not stop reading, so the
"file that cannot be read" cases use a directory given as the scenario path and a file of
invalid UTF-8 bytes instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
EXIT_USAGE = 2

DIRECTORY = object()
"""Marker in a case's files: create a directory at this name instead of a file."""


def moatsim(*args: object) -> subprocess.CompletedProcess[str]:
    """The real command line, run from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "model", *map(str, args)], cwd=ROOT, capture_output=True,
        text=True, encoding="utf-8", errors="replace", timeout=120,
    )


@dataclass
class Workspace:
    """A temporary folder with a copy of the baseline and an (empty) parent for ``--out``."""

    root: Path
    outs: Path = field(init=False)
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        shutil.copy(BASELINE, self.root / "baseline.yaml")
        self.outs = self.root / "outs"
        self.outs.mkdir()
        self.out = self.outs / "run"

    def write(self, files: dict[str, object]) -> None:
        for name, content in files.items():
            target = self.root / name
            if content is DIRECTORY:
                target.mkdir()
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(str(content), encoding="utf-8")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def error_line(result: subprocess.CompletedProcess[str], ws: Workspace) -> str:
    """The single error line of a failed run, after the checks every bad input shares."""
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    assert result.returncode == EXIT_USAGE, (result.returncode, everything)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    line = lines[0]
    assert line.strip(), "the error line is empty"
    assert line.startswith("moatsim: error: "), line
    assert not ws.out.exists(), f"--out folder was written: {ws.out}"
    assert list(ws.outs.iterdir()) == [], f"left over in {ws.outs}: {list(ws.outs.iterdir())}"
    return line


def check_message(line: str, ws: Workspace, *, file: str, lineno: int | None,
                  path: str | None, contains: tuple[str, ...] = ()) -> None:
    """``file`` is a name inside the workspace; its full path as given must be in the line."""
    shown = str(ws.root / file)
    assert shown in line, f"{shown!r} not named in: {line}"
    if lineno is not None:
        # a value read from a file it extends: ``child.yaml (from /…/parent.yaml):3: …``
        assert re.search(rf"{re.escape(shown)}( \(from [^)]*\))?:{lineno}: ", line), \
            f"expected {file}:{lineno}: in: {line}"
    if path is not None:
        assert re.search(rf"(^|[ :]){re.escape(path)}: ", line), f"key path {path!r} not in: {line}"
    for text in contains:
        assert text in line, f"{text!r} not in: {line}"


CHILD = "extends: baseline.yaml\ndescription: a child of the baseline\n"
"""Start of a child scenario: its line 3 is the first line a case adds."""


@dataclass
class Case:
    id: str
    files: dict[str, object]
    scenario: str
    file: str  # the file the message must name
    lineno: int | None
    path: str | None
    contains: tuple[str, ...] = ()


FILE_CASES = [
    Case("missing_file", {}, "nope.yaml", "nope.yaml", None, None, ("file not found",)),
    # as root chmod 000 does not stop reading: a directory is a path that cannot be read
    Case("directory_as_file", {"folder.yaml": DIRECTORY}, "folder.yaml", "folder.yaml", None,
         None, ("cannot read file",)),
    Case("invalid_utf8", {"latin.yaml": b"name: caf\xe9\ndescription: \xff\xfe\n"},
         "latin.yaml", "latin.yaml", None, None, ("cannot read file", "UnicodeDecodeError")),
    Case("yaml_bad_indent",
         {"broken.yaml": CHILD + "first_mover:\n  switching_cost_utils: 2\n"
          " reconsider_share_monthly: 0.1\nmonths: 12\n"},
         "broken.yaml", "broken.yaml", 5, None, ("YAML syntax error",)),
    Case("yaml_mapping_in_value", {"broken.yaml": CHILD + "months: 12\nstart: a: b\n"},
         "broken.yaml", "broken.yaml", 4, None,
         ("YAML syntax error", "mapping values are not allowed")),
    Case("unknown_top_level_key", {"child.yaml": CHILD + "monts: 12\n"},
         "child.yaml", "child.yaml", 3, "monts", ("unknown key 'monts'", "'months'")),
    Case("unknown_nested_key",
         {"child.yaml": CHILD + "months: 12\nfirst_mover:\n  switching_cost_util: 2\n"},
         "child.yaml", "child.yaml", 5, "first_mover.switching_cost_util",
         ("unknown key 'switching_cost_util'", "did you mean 'switching_cost_utils'")),
    Case("unknown_key_in_child_firm",
         {"child.yaml": CHILD + "firms:\n  - id: openai\n    cash_mus: 5\n"},
         "child.yaml", "child.yaml", 5, "firms.openai.cash_mus",
         ("unknown key 'cash_mus'", "did you mean 'cash_musd'")),
    Case("unknown_key_in_offering",
         {"child.yaml": CHILD + "firms:\n  - id: anthropic\n    offerings:\n"
          "      coding:\n        markupp: 1\n"},
         "child.yaml", "child.yaml", 7, "firms.anthropic.offerings.coding.markupp",
         ("did you mean 'markup'",)),
    Case("wrong_type", {"child.yaml": CHILD + "months: lots\n"},
         "child.yaml", "child.yaml", 3, "months", ("valid integer", "'lots'")),
    Case("out_of_range",
         {"child.yaml": CHILD + "first_mover:\n  reconsider_share_monthly: 1.5\n"},
         "child.yaml", "child.yaml", 4, "first_mover.reconsider_share_monthly",
         ("less than or equal to 1", "1.5")),
    Case("out_of_range_in_parent",  # the value is bad in the file it extends
         {"parent.yaml": CHILD + "months: 700\n", "child.yaml": "extends: parent.yaml\n"},
         "child.yaml", "child.yaml", 3, "months",
         ("parent.yaml", "less than or equal to 600")),
    Case("unknown_investee",
         {"child.yaml": CHILD + "funding:\n  investments:\n    - id: microsoft_openai_2023\n"
          "      investee: opneai\n"},
         "child.yaml", "child.yaml", 6, "funding.investments.microsoft_openai_2023.investee",
         ("unknown firm id 'opneai'", "did you mean 'openai'")),
    Case("unknown_segment_in_offerings",
         {"child.yaml": CHILD + "firms:\n  - id: mistral\n    offerings:\n"
          "      consumer_chta:\n        markup: 0.1\n"},
         "child.yaml", "child.yaml", 6, "firms.mistral.offerings.consumer_chta",
         ("unknown segment id 'consumer_chta'", "did you mean 'consumer_chat'")),
    Case("extends_cycle",
         {"a.yaml": "extends: b.yaml\ndescription: a\n",
          "b.yaml": "description: b\nextends: a.yaml\n"},
         "a.yaml", "b.yaml", 2, "extends", ("cycle in extends", "a.yaml → b.yaml → a.yaml")),
    Case("extends_missing_file", {"child.yaml": "description: orphan\nextends: gone.yaml\n"},
         "child.yaml", "child.yaml", 2, "extends", ("does not exist", "gone.yaml")),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_bad_scenario_file(ws: Workspace, case: Case) -> None:
    ws.write(case.files)
    result = moatsim("run", ws.root / case.scenario, "--out", ws.out)
    assert result.stdout == ""
    line = error_line(result, ws)
    check_message(line, ws, file=case.file, lineno=case.lineno, path=case.path,
                  contains=case.contains)


SET_CASES = [
    # (id, --set item, key path, text the line must contain)
    ("unknown_key", "first_mover.switching_cost_util=3", "first_mover.switching_cost_util",
     ("unknown key", "did you mean 'switching_cost_utils'")),
    ("unknown_section", "firstmover.switching_cost_utils=3", "firstmover",
     ("unknown key 'firstmover'", "did you mean 'first_mover'")),
    ("out_of_range", "first_mover.reconsider_share_monthly=1.5",
     "first_mover.reconsider_share_monthly", ("less than or equal to 1",)),
    ("malformed", "novalue", None, ("expected path.to.key=value", "'novalue'")),
    ("unknown_firm_id", "firms.opneai.cash_musd=5", "firms.opneai",
     ("no entry with id 'opneai'", "did you mean 'openai'")),
]


@pytest.mark.parametrize("item,path,contains", [c[1:] for c in SET_CASES],
                         ids=[c[0] for c in SET_CASES])
def test_bad_set_override(ws: Workspace, item: str, path: str | None,
                          contains: tuple[str, ...]) -> None:
    result = moatsim("run", ws.root / "baseline.yaml", "--months", 3, "--set", item,
                     "--out", ws.out)
    assert result.stdout == ""
    line = error_line(result, ws)
    check_message(line, ws, file="baseline.yaml", lineno=None, path=path,
                  contains=("(from --set)", *contains))
    assert not re.search(r"baseline\.yaml:\d+", line), f"a --set error has no file line: {line}"


FLAG_CASES = [
    ("seed_not_a_number", ["--seed", "abc"], ("--seed", "'abc'")),
    ("seed_negative", ["--seed", "-1"], ("--seed", "-1")),
    ("unknown_flag", ["--flag"], ("unrecognized arguments", "--flag")),
]


@pytest.mark.parametrize("flags,contains", [c[1:] for c in FLAG_CASES],
                         ids=[c[0] for c in FLAG_CASES])
def test_bad_flag(ws: Workspace, flags: list[str], contains: tuple[str, ...]) -> None:
    result = moatsim("run", ws.root / "baseline.yaml", *flags, "--out", ws.out)
    assert result.stdout == ""
    line = error_line(result, ws)
    for text in contains:
        assert text in line, f"{text!r} not in: {line}"
    assert "usage:" not in result.stderr


def test_months_zero_reports_the_schema_range(ws: Workspace) -> None:
    result = moatsim("run", ws.root / "baseline.yaml", "--months", 0, "--out", ws.out)
    line = error_line(result, ws)
    check_message(line, ws, file="baseline.yaml", lineno=None, path="months",
                  contains=("greater than or equal to 1", "got 0"))


def test_validate_gives_the_same_error_as_run(ws: Workspace) -> None:
    case = next(c for c in FILE_CASES if c.id == "out_of_range_in_parent")
    ws.write(case.files)
    scenario = ws.root / case.scenario
    ran = moatsim("run", scenario, "--out", ws.out)
    checked = moatsim("validate", scenario)
    assert error_line(checked, ws) == error_line(ran, ws)
    assert checked.stdout == ""


def test_validate_baseline_is_ok() -> None:
    result = moatsim("validate", "scenarios/baseline.yaml")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith("ok  scenarios/baseline.yaml")
