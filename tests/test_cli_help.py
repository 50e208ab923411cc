"""The command line's own conventions (issue 15, point 8): every argument has help text, an
error says ``moatsim: error:`` once, and the exit codes are listed in ``--help``."""

from __future__ import annotations

import argparse

import pytest

from moatsim.cli import build_parser
from tests.conftest import moatsim


def _parsers() -> list[argparse.ArgumentParser]:
    parser = build_parser()
    found = [parser]
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            found += list(action.choices.values())
    return found


@pytest.mark.parametrize("parser", _parsers(), ids=lambda p: p.prog)
def test_every_argument_has_help_text(parser):
    missing = [action.dest for action in parser._actions
               if not isinstance(action, argparse._HelpAction) and not action.help]
    assert missing == [], f"{parser.prog}: no help for {missing}"


@pytest.mark.parametrize("arguments", [["run", "baseline", "-q"], ["runn"], ["run"],
                                       ["sweep", "funding", "--workers", "0"]])
def test_a_usage_error_is_one_line_with_moatsim_error_once(arguments, tmp_path):
    done = moatsim(*arguments, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("moatsim: error: ") and done.stderr.count("moatsim:") == 1, \
        done.stderr
    assert "--help" in done.stderr  # it says where to look


def test_help_lists_the_exit_codes():
    done = moatsim("--help")
    text = " ".join(done.stdout.split())
    for code in ("0 done", "1 a sweep", "2 bad input", "130 interrupted", "141 "):
        assert code in text, text[-400:]
