"""Bad input through the real command line: one line on stderr, exit code 2, nothing written.

Every case runs ``python -m moatsim run SCENARIO --out DIR`` as a subprocess (the same entry
point as the ``moatsim`` script), and again as ``moatsim validate SCENARIO``; experiment cases
run ``moatsim sweep EXPERIMENT --out DIR``. Each checks that:

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

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
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
        [sys.executable, "-m", "moatsim", *map(str, args)], cwd=ROOT, capture_output=True,
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


def laughs(levels: int = 10) -> str:
    """A "billion laughs" alias bomb: ~400 bytes whose last line stands for 9**levels values.
    Its 6th line (``f``, ~600,000 values) is the first past the 100,000 bound."""
    names = "abcdefghijklmnopqrstuvwxyz"
    lines = [f"a: &a [{','.join(['lol'] * 9)}]"]
    for previous, name in zip(names, names[1:levels]):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


BOMB = "description: a billion laughs\n" + laughs(10)
DEEP = 10_000
"""Nesting depth of the deep cases: far past Python's recursion limit."""


def event(kind: str, firm: str, date: str = "2024-01", extra: str = "") -> str:
    """A child adding one event: ``events`` on line 3, its ``kind`` on line 6."""
    return (CHILD + f"events:\n  - id: added\n    date: \"{date}\"\n    kind: {kind}\n"
            f"    firm: {firm}\n{extra}")


def setting(path: str, value: str | None, date: str = "2025-01") -> str:
    """A child adding one set event: ``events`` on line 3, ``path`` on line 7, ``value`` on
    line 8."""
    return (CHILD + f"events:\n  - id: added\n    date: \"{date}\"\n    kind: set\n"
            f"    path: {path}\n" + ("" if value is None else f"    value: {value}\n"))


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
    # ---- issue 9: size, aliases and depth, refused before Python objects are built
    Case("anchor_bomb", {"bomb.yaml": BOMB}, "bomb.yaml", "bomb.yaml", 7, None,
         ("alias bomb", "more than 100,000 values")),
    Case("alias_into_its_own_anchor", {"loop.yaml": CHILD + "months: &m [1, *m]\n"},
         "loop.yaml", "loop.yaml", 3, None, ("YAML syntax error", "alias *m")),
    Case("anchor_defined_twice", {"twice.yaml": CHILD + "months: &m 12\nstart: &m x\n"},
         "twice.yaml", "twice.yaml", 4, None, ("anchor &m is defined twice",)),
    Case("deep_flow_lists", {"deep.yaml": CHILD + "choice: " + "[" * DEEP + "]" * DEEP + "\n"},
         "deep.yaml", "deep.yaml", 3, None, ("nested deeper than 50 levels",)),
    Case("deep_flow_mappings",
         {"deep.yaml": CHILD + "choice: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n"},
         "deep.yaml", "deep.yaml", 3, None, ("nested deeper than 50 levels",)),
    Case("deep_block_lists", {"deep.yaml": CHILD + "firms:\n" + "- " * DEEP + "x\n"},
         "deep.yaml", "deep.yaml", 4, None, ("nested deeper than 50 levels",)),
    Case("deep_through_aliases",
         {"deep.yaml": CHILD + "x: &x " + "[" * 30 + "]" * 30 + "\ny: " + "[" * 30 + "*x"
          + "]" * 30 + "\n"},
         "deep.yaml", "deep.yaml", 4, None, ("nested deeper than 50 levels", "aliases")),
    Case("huge_file", {"huge.yaml": CHILD + "# " + "x" * (5 << 20) + "\n"},
         "huge.yaml", "huge.yaml", None, None, ("file is larger than 1 MiB",)),
    Case("two_documents", {"two.yaml": CHILD + "---\nmonths: 12\n"},
         "two.yaml", "two.yaml", 3, None, ("one YAML document",)),
    # ---- duplicates: the last one would silently win
    Case("duplicate_key", {"dup.yaml": CHILD + "months: 12\nmonths: 24\n"},
         "dup.yaml", "dup.yaml", 4, "months", ("duplicate key 'months'", "first at line 3")),
    Case("duplicate_nested_key",
         {"dup.yaml": CHILD + "first_mover:\n  switching_cost_utils: 2\n"
          "  switching_cost_utils: 3\n"},
         "dup.yaml", "dup.yaml", 5, "first_mover.switching_cost_utils",
         ("duplicate key 'switching_cost_utils'", "first at line 4")),
    Case("duplicate_key_in_an_entry",
         {"dup.yaml": CHILD + "firms:\n  - id: openai\n    cash_musd: 5\n    cash_musd: 6\n"},
         "dup.yaml", "dup.yaml", 6, "firms.openai.cash_musd", ("duplicate key 'cash_musd'",)),
    Case("duplicate_year_key",
         {"dup.yaml": CHILD + "funding:\n  vc_pools:\n    - id: closed\n      annual_musd:\n"
          "        2024: 5\n        2024: 6\n"},
         "dup.yaml", "dup.yaml", 8, "funding.vc_pools.closed.annual_musd.2024",
         ("duplicate key '2024'",)),
    Case("duplicate_id_of_an_inherited_entry",
         {"dup.yaml": CHILD + "firms:\n  - id: openai\n    cash_musd: 5\n  - id: openai\n"
          "    cash_musd: 6\n"},
         "dup.yaml", "dup.yaml", 6, "firms.openai", ("duplicate id 'openai'", "first at line 4")),
    Case("duplicate_id_of_a_new_entry",
         {"dup.yaml": CHILD + "funding:\n  investments:\n    - {id: extra, investor: "
          "venture_capital, investee: openai, date: \"2024-01\"}\n    - {id: extra, investor: "
          "venture_capital, investee: mistral, date: \"2024-02\"}\n"},
         "dup.yaml", "dup.yaml", 6, "funding.investments.extra", ("duplicate id 'extra'",)),
    Case("duplicate_id_in_the_parent",
         {"parent.yaml": CHILD + "events:\n  - {id: x, date: \"2024-01\", kind: exit, "
          "firm: jasper}\n  - {id: x, date: \"2024-02\", kind: exit, firm: cursor}\n",
          "child.yaml": "extends: parent.yaml\ndescription: c\n"},
         "child.yaml", "parent.yaml", 5, "events.x",
         ("child.yaml:1: extends: cannot read 'parent.yaml': ", "duplicate id 'x'")),
    # ---- numbers: finite, in range, and not true/false
    Case("inf_distribution",
         {"child.yaml": CHILD + "firms:\n  - id: google\n    distribution_utils: "
          "{consumer_chat: .inf}\n"},
         "child.yaml", "child.yaml", 5, "firms.google.distribution_utils.consumer_chat",
         ("finite number", "inf")),
    Case("negative_distribution",
         {"child.yaml": CHILD + "firms:\n  - id: google\n    distribution_utils: "
          "{coding: -2}\n"},
         "child.yaml", "child.yaml", 5, "firms.google.distribution_utils.coding",
         ("greater than or equal to 0", "-2")),
    Case("nan_parameter", {"child.yaml": CHILD + "first_mover:\n  switching_cost_utils: .nan\n"},
         "child.yaml", "child.yaml", 4, "first_mover.switching_cost_utils",
         ("finite number", "nan")),
    Case("minus_inf_cash", {"child.yaml": CHILD + "firms:\n  - id: openai\n    cash_musd: -.inf\n"},
         "child.yaml", "child.yaml", 5, "firms.openai.cash_musd", ("finite number", "-inf")),
    Case("nan_event_quality",
         {"child.yaml": CHILD + "events:\n  - id: gpt4\n    quality: .nan\n"},
         "child.yaml", "child.yaml", 5, "events.gpt4.quality", ("finite number",)),
    Case("inf_investment_amount",
         {"child.yaml": CHILD + "funding:\n  investments:\n    - id: microsoft_openai_2023\n"
          "      amount_musd: .inf\n"},
         "child.yaml", "child.yaml", 6, "funding.investments.microsoft_openai_2023.amount_musd",
         ("finite number",)),
    Case("nan_vc_pool",
         {"child.yaml": CHILD + "funding:\n  vc_pools:\n    - id: closed\n      annual_musd: "
          "{2024: .nan}\n"},
         "child.yaml", "child.yaml", 6, "funding.vc_pools.closed.annual_musd.2024",
         ("finite number",)),
    Case("negative_vc_pool",
         {"child.yaml": CHILD + "funding:\n  vc_pools:\n    - id: closed\n      annual_musd: "
          "{2024: -100}\n"},
         "child.yaml", "child.yaml", 6, "funding.vc_pools.closed.annual_musd.2024",
         ("greater than or equal to 0",)),
    Case("vc_pool_year_out_of_range",
         {"child.yaml": CHILD + "funding:\n  vc_pools:\n    - id: closed\n      annual_musd: "
          "{1900: 5}\n"},
         "child.yaml", "child.yaml", 6, "funding.vc_pools.closed.annual_musd.1900",
         ("greater than or equal to 2000",)),
    Case("months_true", {"child.yaml": CHILD + "months: true\n"},
         "child.yaml", "child.yaml", 3, "months", ("expected a number, not true/false",)),
    Case("months_not_whole", {"child.yaml": CHILD + "months: 12.5\n"},
         "child.yaml", "child.yaml", 3, "months", ("valid integer", "12.5")),
    Case("quality_yes",
         {"child.yaml": CHILD + "firms:\n  - id: openai\n    quality: yes\n"},
         "child.yaml", "child.yaml", 5, "firms.openai.quality",
         ("expected a number, not true/false",)),
    Case("distribution_true",
         {"child.yaml": CHILD + "firms:\n  - id: google\n    distribution_utils: "
          "{coding: true}\n"},
         "child.yaml", "child.yaml", 5, "firms.google.distribution_utils.coding",
         ("expected a number, not true/false",)),
    # ---- dates
    Case("start_year_zero", {"child.yaml": CHILD + "start: \"0000-01\"\n"},
         "child.yaml", "child.yaml", 3, "start", ("year must be from 2000 to 2100", "0000-01")),
    Case("start_before_2000", {"child.yaml": CHILD + "start: \"1999-12\"\n"},
         "child.yaml", "child.yaml", 3, "start", ("year must be from 2000",)),
    Case("start_month_13", {"child.yaml": CHILD + "start: \"2023-13\"\n"},
         "child.yaml", "child.yaml", 3, "start", ("expected a month written YYYY-MM",)),
    Case("start_after_the_baseline_events", {"child.yaml": CHILD + "start: \"2025-01\"\n"},
         "child.yaml", "child.yaml", None, None, ("baseline.yaml", "is before the start (2025-01)")),
    Case("event_before_start", {"child.yaml": event("exit", "jasper", "2022-06")},
         "child.yaml", "child.yaml", 5, "events.added.date",
         ("event date 2022-06 is before the start (2023-01)",)),
    Case("event_after_end", {"child.yaml": event("exit", "jasper", "2031-02")},
         "child.yaml", "child.yaml", 5, "events.added.date",
         ("event date 2031-02 is after the end (2031-01",)),
    Case("event_after_a_shorter_end",
         {"child.yaml": CHILD + "months: 24\nevents:\n  - {id: late, date: \"2026-01\", "
          "kind: exit, firm: jasper}\n"},
         "child.yaml", "child.yaml", 5, "events.late.date", ("is after the end (2025-01",)),
    Case("investment_before_start",
         {"child.yaml": CHILD + "funding:\n  investments:\n    - id: microsoft_openai_2023\n"
          "      date: \"2019-01\"\n"},
         "child.yaml", "child.yaml", 6, "funding.investments.microsoft_openai_2023.date",
         ("investment date 2019-01 is before the start",)),
    Case("investment_after_end",
         {"child.yaml": CHILD + "funding:\n  investments:\n    - id: microsoft_openai_2023\n"
          "      date: \"2040-01\"\n"},
         "child.yaml", "child.yaml", 6, "funding.investments.microsoft_openai_2023.date",
         ("investment date 2040-01 is after the end",)),
    Case("founded_before_start",
         {"child.yaml": CHILD + "firms:\n  - id: mistral\n    founded: \"2022-01\"\n"},
         "child.yaml", "child.yaml", 5, "firms.mistral.founded",
         ("founding date 2022-01 is before the start", "leave founded empty")),
    Case("founded_after_end",
         {"child.yaml": CHILD + "firms:\n  - id: mistral\n    founded: \"2032-01\"\n"},
         "child.yaml", "child.yaml", 5, "firms.mistral.founded",
         ("founding date 2032-01 is after the end",)),
    Case("entry_before_start",
         {"child.yaml": CHILD + "firms:\n  - id: mistral\n    offerings:\n      coding:\n"
          "        entry: \"2022-01\"\n"},
         "child.yaml", "child.yaml", 7, "firms.mistral.offerings.coding.entry",
         ("entry date 2022-01 is before the start",)),
    Case("entry_after_end",
         {"child.yaml": CHILD + "firms:\n  - id: mistral\n    offerings:\n      coding:\n"
          "        entry: \"2035-01\"\n"},
         "child.yaml", "child.yaml", 7, "firms.mistral.offerings.coding.entry",
         ("entry date 2035-01 is after the end",)),
    # ---- an event must apply to its firm (the model would ignore it without a word)
    Case("open_release_on_bigtech", {"child.yaml": event("open_release", "google")},
         "child.yaml", "child.yaml", 6, "events.added.kind",
         ("open_release applies to lab firms only", "google is a bigtech")),
    Case("model_release_on_app", {"child.yaml": event("model_release", "cursor",
                                                      extra="    quality: 80\n")},
         "child.yaml", "child.yaml", 6, "events.added.kind",
         ("model_release applies to lab firms only", "cursor is an app")),
    Case("close_release_on_app", {"child.yaml": event("close_release", "jasper")},
         "child.yaml", "child.yaml", 6, "events.added.kind", ("applies to lab firms only",)),
    Case("licence_start_on_lab", {"child.yaml": event("licence_start", "mistral",
                                                      extra="    partner: openai\n")},
         "child.yaml", "child.yaml", 6, "events.added.kind",
         ("licence_start applies to bigtech firms only", "mistral is a lab")),
    Case("licence_end_on_app", {"child.yaml": event("licence_end", "perplexity")},
         "child.yaml", "child.yaml", 6, "events.added.kind",
         ("licence_end applies to bigtech firms only",)),
    Case("enter_segment_on_bigtech", {"child.yaml": event("enter_segment", "google",
                                                          extra="    segment: coding\n")},
         "child.yaml", "child.yaml", 6, "events.added.kind",
         ("enter_segment applies to lab and app firms only", "google is a bigtech")),
    Case("enter_segment_an_app_does_not_serve",
         {"child.yaml": event("enter_segment", "cursor", extra="    segment: image\n")},
         "child.yaml", "child.yaml", 8, "events.added.segment",
         ("an app builder serves only the segment of its one offering",)),
    # ---- regime changes (kind: set) are validated like --set, at the event's own lines
    Case("set_unknown_parameter",
         {"child.yaml": setting("choice.outside_option_utilz", "3")},
         "child.yaml", "child.yaml", 7, "events.added.path",
         ("unknown key 'outside_option_utilz'", "did you mean 'outside_option_utils'")),
    Case("set_value_out_of_range",
         {"child.yaml": setting("first_mover.reconsider_share_monthly", "1.5")},
         "child.yaml", "child.yaml", 8, "events.added.value",
         ("first_mover.reconsider_share_monthly", "less than or equal to 1", "1.5")),
    Case("set_value_of_the_wrong_type",
         {"child.yaml": setting("pricing.rule", "cheapest")},
         "child.yaml", "child.yaml", 8, "events.added.value",
         ("pricing.rule", "'best_response' or 'lead_markup'")),
    Case("set_a_starting_value",
         {"child.yaml": setting("segments.coding.potential_users", "1e9")},
         "child.yaml", "child.yaml", 7, "events.added.path",
         ("cannot change during a run", "a starting value")),
    Case("set_the_market_structure",
         {"child.yaml": setting("firms.openai.cash_musd", "10")},
         "child.yaml", "child.yaml", 7, "events.added.path",
         ("only its strategy can", "license_stopgap")),
    Case("set_an_unknown_entry",
         {"child.yaml": setting("cohorts.powr_users.price_weight_per_usd", "0.1")},
         "child.yaml", "child.yaml", 7, "events.added.path",
         ("no entry with id 'powr_users'", "did you mean 'power_users'")),
    Case("set_without_a_value",
         {"child.yaml": setting("choice.outside_option_utils", None)},
         "child.yaml", "child.yaml", 4, "events.added.value",
         ("a set event needs a path (the parameter) and a value",)),
    Case("event_without_a_firm",
         {"child.yaml": CHILD + "events:\n  - id: added\n    date: \"2024-01\"\n"
          "    kind: exit\n"},
         "child.yaml", "child.yaml", 4, "events.added",
         ("exit events need a firm",)),
    # ---- prospective entrants: one lab, founded by the decision, independent, with no users
    Case("entrant_not_a_lab",
         {"child.yaml": CHILD + "entry:\n  lab:\n    id: entrant\n    kind: app\n"},
         "child.yaml", "child.yaml", 6, "entry.lab.kind", ("entry.lab is a lab, not 'app'",)),
    Case("entrant_with_a_founding_date",
         {"child.yaml": CHILD + "entry:\n  lab:\n    founded: \"2024-01\"\n"},
         "child.yaml", "child.yaml", 5, "entry.lab.founded",
         ("founded by the entry decision",)),
    Case("entrant_with_users",
         {"child.yaml": CHILD + "entry:\n  lab:\n    offerings:\n      coding:\n"
          "        initial_users: 5\n"},
         "child.yaml", "child.yaml", 7, "entry.lab.offerings.coding.initial_users",
         ("an entrant has no users before it is founded",)),
    Case("app_entrant_with_an_unknown_supplier",
         {"child.yaml": CHILD + "entry:\n  app:\n    supplier: opneai\n"},
         "child.yaml", "child.yaml", 5, "entry.app.supplier",
         ("unknown lab id 'opneai'", "openai")),
    Case("entrants_without_a_lab",
         {"child.yaml": CHILD + "entry:\n  lab: null\n"},
         "child.yaml", "child.yaml", None, "entry.potential_labs",
         ("prospective entrants need entry.lab", "baseline.yaml")),
    # ---- a parent that cannot be read: the child and its extends line, then the parent's error
    Case("extends_dot", {"child.yaml": "description: c\nextends: .\n"},
         "child.yaml", "child.yaml", 2, "extends", ("cannot read '.'", "IsADirectoryError")),
    Case("extends_a_directory", {"sub": DIRECTORY, "child.yaml": "extends: sub\ndescription: c\n"},
         "child.yaml", "child.yaml", 1, "extends", ("cannot read 'sub'", "cannot read file")),
    Case("extends_a_parent_with_a_syntax_error",
         {"parent.yaml": "description: p\nmonths: [12\n",
          "child.yaml": "description: c\nextends: parent.yaml\n"},
         "child.yaml", "child.yaml", 2, "extends",
         ("cannot read 'parent.yaml': ", "parent.yaml:3: YAML syntax error")),
    Case("extends_a_list", {"parent.yaml": "- a\n- b\n",
                            "child.yaml": "description: c\nextends: parent.yaml\n"},
         "child.yaml", "child.yaml", 2, "extends", ("cannot read 'parent.yaml'", "mapping")),
    Case("extends_a_bomb", {"parent.yaml": BOMB, "child.yaml": "extends: parent.yaml\n"},
         "child.yaml", "parent.yaml", 7, None,
         ("child.yaml:1: extends: cannot read 'parent.yaml': ", "alias bomb")),
    Case("extends_a_parent_whose_parent_is_missing",
         {"parent.yaml": "extends: gone.yaml\n", "child.yaml": "extends: parent.yaml\n"},
         "child.yaml", "parent.yaml", 1, "extends",
         ("child.yaml:1: extends: cannot read 'parent.yaml': ", "does not exist: gone.yaml")),
    Case("extends_an_empty_name", {"child.yaml": "description: c\nextends: ''\n"},
         "child.yaml", "child.yaml", 2, "extends", ("cannot read ''",)),
    # ---- names: a file name is not an identifier, but a name: key must be one
    Case("bad_name_key", {"child.yaml": CHILD + "name: My-Scenario\n"},
         "child.yaml", "child.yaml", 3, "name", ("expected an id", "'My-Scenario'")),
    Case("file_name_without_letters", {"---.yaml": CHILD}, "---.yaml", "---.yaml", None, "name",
         ("the file name '---.yaml'", "add a name: key")),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_bad_scenario_file(ws: Workspace, case: Case) -> None:
    ws.write(case.files)
    result = moatsim("run", ws.root / case.scenario, "--out", ws.out)
    assert result.stdout == ""
    line = error_line(result, ws)
    check_message(line, ws, file=case.file, lineno=case.lineno, path=case.path,
                  contains=case.contains)


def test_validate_reports_every_bad_scenario_file_in_one_line_each(tmp_path: Path) -> None:
    """Every case at once (one process: ``validate`` checks each file it is given), each in
    its own folder with its own copy of the baseline."""
    spaces = []
    for case in FILE_CASES:
        folder = tmp_path / case.id
        folder.mkdir()
        spaces.append(Workspace(folder))
        spaces[-1].write(case.files)
    result = moatsim("validate", *(ws.root / case.scenario for ws, case in
                                   zip(spaces, FILE_CASES)))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(FILE_CASES), result.stderr
    for line, ws, case in zip(lines, spaces, FILE_CASES):
        assert line.startswith("moatsim: error: "), (case.id, line)
        check_message(line, ws, file=case.file, lineno=case.lineno, path=case.path,
                      contains=case.contains)
        assert not ws.out.exists()


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
    ("nan", "first_mover.switching_cost_utils=.nan", "first_mover.switching_cost_utils",
     ("finite number", "nan")),
    ("inf", "firms.openai.cash_musd=.inf", "firms.openai.cash_musd", ("finite number",)),
    ("minus_inf_in_a_dict", "firms.google.distribution_utils.coding=-.inf",
     "firms.google.distribution_utils.coding", ("finite number",)),
    ("int_true", "technology.training_run_months=true", "technology.training_run_months",
     ("expected a number, not true/false",)),
    ("start_year_zero", "start=0000-01", "start", ("year must be from 2000",)),
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


# ---------------------------------------------------------------- names from file names


def test_a_file_name_that_is_not_an_identifier_is_a_valid_scenario(ws: Workspace) -> None:
    names = {"my-scenario": "my_scenario", "2025_whatif": "s_2025_whatif",
             "What If (v2)": "what_if_v2", "café": "cafe"}
    ws.write({f"{stem}.yaml": CHILD for stem in names})
    result = moatsim("validate", *(ws.root / f"{stem}.yaml" for stem in names))
    assert result.returncode == 0, result.stderr
    for stem, name in names.items():
        assert f"{ws.root / stem}.yaml  ({name}: 20 firms" in result.stdout, result.stdout


def test_validate_checks_every_file_it_is_given(ws: Workspace) -> None:
    ws.write({"bad.yaml": CHILD + "months: 0\n"})
    result = moatsim("validate", ws.root / "bad.yaml", ws.root / "baseline.yaml")
    assert result.returncode == EXIT_USAGE
    assert result.stdout.startswith(f"ok  {ws.root / 'baseline.yaml'}")
    assert len(result.stderr.splitlines()) == 1 and "bad.yaml:3: months:" in result.stderr


# ---------------------------------------------------------------- experiment files


EXP = "description: a test sweep\nscenario: baseline.yaml\n"
"""Start of an experiment on the workspace's baseline: its line 3 is the first a case adds."""
PARAMS = "parameters:\n  first_mover.switching_cost_utils: {values: [1, 2]}\n"

EXPERIMENT_CASES = [
    Case("nan_value", {"exp.yaml": EXP + "parameters:\n  first_mover.switching_cost_utils: "
                       "{values: [.nan, 1]}\n"},
         "exp.yaml", "exp.yaml", 4, "parameters.first_mover.switching_cost_utils.values.0",
         ("finite number", "nan")),
    Case("inf_in_a_range", {"exp.yaml": EXP + "parameters:\n  first_mover.switching_cost_utils: "
                            "{range: [0, .inf], points: 3}\n"},
         "exp.yaml", "exp.yaml", 4, "parameters.first_mover.switching_cost_utils.range.1",
         ("finite number", "inf")),
    Case("minus_inf_in_a_sampled_range",
         {"exp.yaml": EXP + "design: latin_hypercube\nsamples: 4\nparameters:\n"
          "  first_mover.switching_cost_utils: {range: [-.inf, 1]}\n"},
         "exp.yaml", "exp.yaml", 6, "parameters.first_mover.switching_cost_utils.range.0",
         ("finite number",)),
    Case("nan_override", {"exp.yaml": EXP + PARAMS + "overrides:\n"
                          "  first_mover.brand_initial_utils: .nan\n"},
         "exp.yaml", "exp.yaml", 6, "overrides.first_mover.brand_initial_utils",
         ("finite number",)),
    Case("months_true", {"exp.yaml": EXP + "months: true\n" + PARAMS},
         "exp.yaml", "exp.yaml", 3, "months", ("valid integer", "True")),
    Case("replicates_not_whole", {"exp.yaml": EXP + "replicates: 2.5\n" + PARAMS},
         "exp.yaml", "exp.yaml", 3, "replicates", ("valid integer", "2.5")),
    Case("duplicate_parameter",
         {"exp.yaml": EXP + PARAMS + "  first_mover.switching_cost_utils: {values: [3]}\n"},
         "exp.yaml", "exp.yaml", 5, "parameters.first_mover.switching_cost_utils",
         ("duplicate key", "first at line 4")),
    Case("duplicate_top_level_key", {"exp.yaml": EXP + "seed: 1\nseed: 2\n" + PARAMS},
         "exp.yaml", "exp.yaml", 4, "seed", ("duplicate key 'seed'",)),
    Case("anchor_bomb", {"exp.yaml": EXP + laughs(10)}, "exp.yaml", "exp.yaml", 8, None,
         ("alias bomb",)),
    Case("deep_nesting", {"exp.yaml": EXP + "overrides: " + "[" * DEEP + "]" * DEEP + "\n"},
         "exp.yaml", "exp.yaml", 3, None, ("nested deeper than 50 levels",)),
    Case("huge_file", {"exp.yaml": EXP + "# " + "x" * (5 << 20) + "\n" + PARAMS},
         "exp.yaml", "exp.yaml", None, None, ("file is larger than 1 MiB",)),
    Case("two_documents", {"exp.yaml": EXP + PARAMS + "---\nseed: 2\n"},
         "exp.yaml", "exp.yaml", 5, None, ("one YAML document",)),
    Case("bad_name_key", {"exp.yaml": EXP + "name: Sweep-1\n" + PARAMS},
         "exp.yaml", "exp.yaml", 3, "name", ("expected an id", "'Sweep-1'")),
    Case("file_name_without_letters", {"___.yaml": EXP + PARAMS}, "___.yaml", "___.yaml",
         None, "name", ("the file name '___.yaml'", "experiment's name")),
    Case("scenario_with_a_nan", {"bad.yaml": CHILD + "first_mover:\n  switching_cost_utils: "
                                 ".inf\n", "exp.yaml": EXP.replace("baseline", "bad") + PARAMS},
         "exp.yaml", "bad.yaml", 4, "first_mover.switching_cost_utils", ("finite number",)),
    Case("scenario_that_extends_a_directory",
         {"bad.yaml": "description: c\nextends: .\n",
          "exp.yaml": EXP.replace("baseline", "bad") + PARAMS},
         "exp.yaml", "bad.yaml", 2, "extends", ("cannot read '.'",)),
]


@pytest.mark.parametrize("case", EXPERIMENT_CASES, ids=[c.id for c in EXPERIMENT_CASES])
def test_bad_experiment_file(ws: Workspace, case: Case) -> None:
    ws.write(case.files)
    result = moatsim("sweep", ws.root / case.scenario, "--out", ws.out, "--quiet")
    assert result.stdout == ""
    line = error_line(result, ws)
    check_message(line, ws, file=case.file, lineno=case.lineno, path=case.path,
                  contains=case.contains)


# ---------------------------------------------------------------- moatsim list


def test_list_shows_the_good_files_and_one_line_per_broken_file(ws: Workspace) -> None:
    shown = {c.id: c for c in FILE_CASES}
    ws.write({"my-child.yaml": CHILD, **shown["anchor_bomb"].files,
              **shown["duplicate_key"].files})
    result = moatsim("list", "--dir", ws.root)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == EXIT_USAGE, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()}
    assert listed == {"baseline", "my-child"}, result.stdout
    errors = result.stderr.splitlines()
    assert len(errors) == 2, result.stderr
    assert all(line.startswith("moatsim: error: ") for line in errors)
    assert f"{ws.root / 'bomb.yaml'}:7: " in errors[0] and "alias bomb" in errors[0]
    assert f"{ws.root / 'dup.yaml'}:4: months: duplicate key" in errors[1]


def test_list_of_good_files_exits_0(ws: Workspace) -> None:
    result = moatsim("list", "--dir", ws.root)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("baseline  ")


# ---------------------------------------------------------------- the alias bomb's cost


LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "moatsim", *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""
"""Runs ``python -m moatsim ARGS`` and writes its exit code and peak RSS (KB) to a file. The
command is forked from this small launcher, not from pytest: Linux keeps the peak RSS of the
process a child was forked from (``maxrss`` survives exec), so a child of a pytest worker
that has imported pandas would report the worker's memory, not its own."""


def run_measured(*args: object, timeout: float = 60) -> tuple[int, str, float, float]:
    """Exit code, stderr, wall seconds and peak resident MB of one ``moatsim`` process."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report"
        start = time.monotonic()
        launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, report, *map(str, args)],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
        try:
            _, stderr = launcher.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, 9)
            launcher.communicate()
            pytest.fail(f"moatsim {args} still running after {timeout} s")
        seconds = time.monotonic() - start
        code, peak_kb = (int(part) for part in report.read_text().split())
    return code, stderr.decode("utf-8", "replace"), seconds, peak_kb / 1024  # Linux: KB


@pytest.mark.parametrize("command", ["run", "validate", "sweep"])
def test_the_anchor_bomb_is_refused_in_bounded_memory(ws: Workspace, command: str,
                                                      record_property) -> None:
    """The bound is on the whole process; the same command on a one-line syntax error gives
    the floor (the imports), so a failure says whether the bomb or the imports grew."""
    ws.write({"bomb.yaml": BOMB, "small.yaml": "a: [\n"})
    assert 350 <= len(BOMB) <= 450

    def measured(name: str) -> tuple[int, str, float, float]:
        out = [] if command == "validate" else ["--out", ws.out]
        return run_measured(command, ws.root / name, *out)

    code, stderr, seconds, peak_mb = measured("bomb.yaml")
    floor_mb = measured("small.yaml")[3]
    record_property("seconds", round(seconds, 2))
    record_property("peak_mb", round(peak_mb, 1))
    assert code == EXIT_USAGE, stderr
    assert len(stderr.splitlines()) == 1 and "alias bomb" in stderr, stderr
    assert peak_mb < 200, f"peak {peak_mb:.0f} MB ({floor_mb:.0f} MB for a small bad file)"
    assert peak_mb - floor_mb < 20, f"the bomb costs {peak_mb - floor_mb:.0f} MB"
    assert not ws.out.exists()
