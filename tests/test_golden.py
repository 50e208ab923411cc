"""The refactored model writes byte-identical outputs to the pre-issue-11 implementation
(golden files in tests/golden/, from commit 91125b2; see benchmarks/golden.py): with the
lead-markup pricing rule of that implementation, and for the columns it wrote (columns added
since, such as the pricing convergence, are not in the golden files)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"

_spec = importlib.util.spec_from_file_location("golden", ROOT / "benchmarks" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def _first_difference(expected: bytes, actual: bytes) -> str:
    want, got = expected.splitlines(), actual.splitlines()
    for number, (a, b) in enumerate(zip(want, got), start=1):
        if a != b:
            return f"line {number}:\n  golden: {a.decode()[:300]}\n  now:    {b.decode()[:300]}"
    return f"golden has {len(want)} lines, now {len(got)}"


@pytest.mark.parametrize("scenario,seed,months", golden.CASES,
                         ids=[golden.case_name(s, n) for s, n, _ in golden.CASES])
def test_outputs_are_byte_identical_to_the_golden_files(scenario, seed, months):
    folder = GOLDEN / golden.case_name(scenario, seed)
    header = {name: (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
              for name in golden.TABLES}
    files = golden.outputs(scenario, seed, months,
                           columns={name: line.split(",") for name, line in header.items()})
    assert sorted(files) == sorted(p.name for p in folder.iterdir() if p.name != "README.md")
    for name, data in files.items():
        expected = (folder / name).read_bytes()
        assert data == expected, f"{folder.name}/{name} differs, {_first_difference(expected, data)}"
